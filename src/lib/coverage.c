/* lib/coverage.c — per-thread coverage counters (see coverage.h). */
#include "lib/coverage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
        retired[i] += __atomic_load_n(&block->slots[i], __ATOMIC_RELAXED);
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
    uint64_t v = __atomic_load_n(&block->slots[idx], __ATOMIC_RELAXED);
    __atomic_store_n(&block->slots[idx], v + n, __ATOMIC_RELAXED);
}

static uint64_t
coverage_sum_locked(unsigned int idx)
{
    uint64_t sum = retired[idx];

    for (const struct coverage_block *b = live_blocks; b; b = b->next) {
        sum += __atomic_load_n(&b->slots[idx], __ATOMIC_RELAXED);
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
