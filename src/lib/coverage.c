/* lib/coverage.c — per-thread coverage counters (see coverage.h). */
#include "lib/coverage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/dynamic-string.h"
#include "lib/hash.h"
#include "lib/util.h"

struct coverage_block {
    struct coverage_block *next;
    uint64_t slots[COVERAGE_MAX_COUNTERS];
};

static pthread_mutex_t coverage_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct coverage_counter *counters[COVERAGE_MAX_COUNTERS];
static unsigned int n_counters;
static struct coverage_block *live_blocks; /* Guarded by coverage_mutex. */
static uint64_t retired[COVERAGE_MAX_COUNTERS]; /* Guarded by the mutex. */
static pthread_key_t block_key;

/* Rate history (see coverage.h), guarded by coverage_mutex.  Slot i of
 * 'minute' holds the growth in the i-th five-second interval of the ring,
 * slot j of 'hour' the growth in the j-th minute. */
#define COVERAGE_MIN_SLOTS 12  /* One minute of intervals. */
#define COVERAGE_HOUR_SLOTS 60 /* One hour of minutes. */
#define COVERAGE_RING 720u     /* Intervals in an hour. */
BUILD_ASSERT(COVERAGE_RING == COVERAGE_MIN_SLOTS * COVERAGE_HOUR_SLOTS);
struct coverage_history {
    uint64_t last_total;
    uint64_t minute[COVERAGE_MIN_SLOTS];
    uint64_t hour[COVERAGE_HOUR_SLOTS];
};
static struct coverage_history history[COVERAGE_MAX_COUNTERS];
static unsigned int history_idx; /* Next interval, mod COVERAGE_RING. */
static uint64_t next_run;        /* When the next sample is due. */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread struct coverage_block *my_block;

void
coverage_register(struct coverage_counter *c)
{
    pthread_mutex_lock(&coverage_mutex);
    if (n_counters >= COVERAGE_MAX_COUNTERS) {
        fatal("too many coverage counters (max %d)", COVERAGE_MAX_COUNTERS);
    }
    c->idx = n_counters;
    counters[n_counters++] = c;
    pthread_mutex_unlock(&coverage_mutex);
}

/* Thread exit: fold this thread's counts into 'retired' and free its block. */
static void
coverage_thread_exit(void *block_)
{
    struct coverage_block *block = block_;

    pthread_mutex_lock(&coverage_mutex);
    for (struct coverage_block **p = &live_blocks; *p; p = &(*p)->next) {
        if (*p == block) {
            *p = block->next;
            break;
        }
    }
    for (unsigned int i = 0; i < COVERAGE_MAX_COUNTERS; i++) {
        retired[i] += atomic_load_relaxed(&block->slots[i]);
    }
    pthread_mutex_unlock(&coverage_mutex);
    /* Another thread-exit hook may still count something: it then gets a
     * fresh block, which pthread hands to this destructor again. */
    my_block = NULL;
    free(block);
}

static void
coverage_make_key(void)
{
    if (pthread_key_create(&block_key, coverage_thread_exit)) {
        fatal("pthread_key_create failed for coverage counters");
    }
}

static struct coverage_block *
coverage_new_block(void)
{
    struct coverage_block *block = xzalloc(sizeof *block);

    pthread_once(&key_once, coverage_make_key);
    pthread_setspecific(block_key, block);
    pthread_mutex_lock(&coverage_mutex);
    block->next = live_blocks;
    live_blocks = block;
    pthread_mutex_unlock(&coverage_mutex);
    return block;
}

void
coverage_add__(unsigned int idx, uint64_t n)
{
    struct coverage_block *block = my_block;

    if (UNLIKELY(!block)) {
        block = my_block = coverage_new_block();
    }
    /* Only this thread writes the slot; readers load it atomically. */
    uint64_t v = atomic_load_relaxed(&block->slots[idx]);
    atomic_store_relaxed(&block->slots[idx], v + n);
}

static uint64_t
coverage_sum_locked(unsigned int idx)
{
    uint64_t sum = retired[idx];

    for (const struct coverage_block *b = live_blocks; b; b = b->next) {
        sum += atomic_load_relaxed(&b->slots[idx]);
    }
    return sum;
}

uint64_t
coverage_read(const char *name)
{
    uint64_t value = 0;

    pthread_mutex_lock(&coverage_mutex);
    for (unsigned int i = 0; i < n_counters; i++) {
        if (!strcmp(counters[i]->name, name)) {
            value = coverage_sum_locked(i);
            break;
        }
    }
    pthread_mutex_unlock(&coverage_mutex);
    return value;
}

struct counter_value {
    const char *name;
    uint64_t value;
};

static int
compare_counter_values(const void *a_, const void *b_)
{
    const struct counter_value *a = a_;
    const struct counter_value *b = b_;

    return strcmp(a->name, b->name);
}

void
coverage_for_each(void (*cb)(const char *, uint64_t, void *), void *aux)
{
    struct counter_value values[COVERAGE_MAX_COUNTERS] = {{NULL, 0}};
    unsigned int n;

    /* Snapshot under the lock, call back without it. */
    pthread_mutex_lock(&coverage_mutex);
    n = n_counters;
    for (unsigned int i = 0; i < n; i++) {
        values[i].name = counters[i]->name;
        values[i].value = coverage_sum_locked(i);
    }
    pthread_mutex_unlock(&coverage_mutex);

    qsort(values, n, sizeof values[0], compare_counter_values);
    for (unsigned int i = 0; i < n; i++) {
        cb(values[i].name, values[i].value, aux);
    }
}

size_t
coverage_n_counters(void)
{
    pthread_mutex_lock(&coverage_mutex);
    size_t n = n_counters;
    pthread_mutex_unlock(&coverage_mutex);
    return n;
}

/* Records 'growth' spread over 'slots' intervals in 'h', starting at
 * interval 'idx'. */
static void
coverage_record(struct coverage_history *h, uint64_t growth, unsigned int idx,
                unsigned int slots)
{
    uint64_t portion = growth / slots;

    for (unsigned int j = 0; j < slots; j++) {
        unsigned int m = idx % COVERAGE_MIN_SLOTS;
        unsigned int hr = idx / COVERAGE_MIN_SLOTS;
        uint64_t v = portion + (j == slots - 1 ? growth % slots : 0);

        h->minute[m] = v;
        h->hour[hr] = m ? h->hour[hr] + v : v;
        idx = (idx + 1) % COVERAGE_RING;
    }
}

void
coverage_run(uint64_t now)
{
    pthread_mutex_lock(&coverage_mutex);
    if (now >= next_run) {
        /* A late run covers every interval it missed (at most an hour's
         * worth: older ones would be overwritten anyway). */
        uint64_t late =
            next_run ? (now - next_run) / COVERAGE_RUN_INTERVAL : 0;
        unsigned int slots = (unsigned int)MIN(late + 1, COVERAGE_RING);

        for (unsigned int i = 0; i < n_counters; i++) {
            uint64_t total = coverage_sum_locked(i);

            coverage_record(&history[i], total - history[i].last_total,
                            history_idx, slots);
            history[i].last_total = total;
        }
        history_idx = (history_idx + slots) % COVERAGE_RING;
        next_run = now + COVERAGE_RUN_INTERVAL;
    }
    pthread_mutex_unlock(&coverage_mutex);
}

static uint64_t
coverage_array_sum(const uint64_t *a, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += a[i];
    }
    return sum;
}

struct coverage_line {
    const char *name;
    uint64_t total;
    double rate_5s, rate_min, rate_hour;
};

static int
compare_coverage_lines(const void *a_, const void *b_)
{
    const struct coverage_line *a = a_;
    const struct coverage_line *b = b_;

    return strcmp(a->name, b->name);
}

void
coverage_show(struct ds *out)
{
    struct coverage_line *lines;
    unsigned int n = 0, never_hit = 0;
    uint32_t hash = 0;

    lines = xcalloc(COVERAGE_MAX_COUNTERS, sizeof *lines);
    pthread_mutex_lock(&coverage_mutex);
    unsigned int last = (history_idx + COVERAGE_RING - 1) % COVERAGE_MIN_SLOTS;
    for (unsigned int i = 0; i < n_counters; i++) {
        const struct coverage_history *h = &history[i];
        uint64_t total = coverage_sum_locked(i);

        if (!total) {
            never_hit++;
            continue;
        }
        lines[n].name = counters[i]->name;
        lines[n].total = total;
        lines[n].rate_5s = h->minute[last] * 1000.0 / COVERAGE_RUN_INTERVAL;
        lines[n].rate_min =
            coverage_array_sum(h->minute, COVERAGE_MIN_SLOTS) / 60.0;
        lines[n].rate_hour =
            coverage_array_sum(h->hour, COVERAGE_HOUR_SLOTS) / 3600.0;
        n++;
    }
    pthread_mutex_unlock(&coverage_mutex);

    qsort(lines, n, sizeof *lines, compare_coverage_lines);
    for (unsigned int i = 0; i < n; i++) {
        hash = hash_string(lines[i].name, hash);
    }
    ds_put_format(out,
                  "Event coverage, avg rate over last: %d seconds, last "
                  "minute, last hour,  hash=%08x:\n",
                  COVERAGE_RUN_INTERVAL / 1000, hash);
    for (unsigned int i = 0; i < n; i++) {
        ds_put_format(out,
                      "%-24s %5.1f/sec %9.3f/sec %13.4f/sec   total: %llu\n",
                      lines[i].name, lines[i].rate_5s, lines[i].rate_min,
                      lines[i].rate_hour, (unsigned long long)lines[i].total);
    }
    ds_put_format(out, "%u events never hit\n", never_hit);
    free(lines);
}
