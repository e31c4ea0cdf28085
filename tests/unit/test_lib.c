/* Unit tests for src/lib: atomics, coverage counters, dynamic strings,
 * logging levels, hashing, object pools, RCU, sequence numbers, pointer
 * maps, hash maps, lists, batch indexes, array growth. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/atomic.h"
#include "lib/batch-index.h"
#include "lib/cond.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/hash.h"
#include "lib/hmap.h"
#include "lib/list.h"
#include "lib/pool.h"
#include "lib/ptrmap.h"
#include "lib/rcu-slist.h"
#include "lib/rcu.h"
#include "lib/seq.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"

COVERAGE_DEFINE(test_lib_event);
COVERAGE_DEFINE(test_lib_threaded);
COVERAGE_DEFINE(test_lib_rate);
COVERAGE_DEFINE(test_lib_never);

VLOG_DEFINE_THIS_MODULE(test_lib);

/* The value each read-modify-write returns is the one its name says: the
 * value before for fetch_<op>, after for <op>_fetch, the replaced one for
 * exchange; a failed compare-and-swap hands back the current value. */
static void
test_atomic_operations_return_what_their_names_say(void **state)
{
    (void)state;
    uint64_t x = 0;
    uint64_t expected;

    atomic_store_release(&x, 5);
    assert_int_equal(atomic_load_acquire(&x), 5);
    assert_int_equal(atomic_fetch_add_relaxed(&x, 2), 5);
    assert_int_equal(atomic_add_fetch_relaxed(&x, 3), 10);
    assert_int_equal(atomic_sub_fetch_acq_rel(&x, 4), 6);
    assert_int_equal(atomic_fetch_sub_relaxed(&x, 1), 6);
    assert_int_equal(atomic_exchange_acq_rel(&x, 9), 5);
    assert_int_equal(atomic_fetch_or_seq_cst(&x, 0), 9);

    expected = 8;
    assert_false(atomic_cas_acq_rel(&x, &expected, 1));
    assert_int_equal(expected, 9);
    assert_true(atomic_cas_acq_rel(&x, &expected, 1));
    assert_int_equal(atomic_load_relaxed(&x), 1);
    while (!atomic_cas_weak_relaxed(&x, &expected, expected + 1)) {
        continue;
    }
    assert_int_equal(atomic_load_relaxed(&x), 2);

    atomic_add_single_writer(&x, 40);
    assert_int_equal(atomic_load_relaxed(&x), 42);
}

static void
test_coverage_counts_increments_by_name(void **state)
{
    (void)state;
    uint64_t before = coverage_read("test_lib_event");

    COVERAGE_INC(test_lib_event);
    COVERAGE_ADD(test_lib_event, 41);
    assert_int_equal(coverage_read("test_lib_event"), before + 42);
    assert_int_equal(coverage_read("no_such_counter"), 0);
}

#define N_THREADS 4
#define N_INCS 100000

static void *
coverage_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < N_INCS; i++) {
        COVERAGE_INC(test_lib_threaded);
    }
    return NULL;
}

static void
test_coverage_sums_live_and_exited_threads(void **state)
{
    (void)state;
    pthread_t threads[N_THREADS];

    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(
            pthread_create(&threads[i], NULL, coverage_worker, NULL), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(coverage_read("test_lib_threaded"),
                     (uint64_t)N_THREADS * N_INCS);
}

struct counter_seen {
    bool event_seen;
    const char *prev;
    bool sorted;
};

static void
check_counter(const char *name, uint64_t value, void *aux)
{
    struct counter_seen *seen = aux;

    (void)value;
    if (!strcmp(name, "test_lib_event")) {
        seen->event_seen = true;
    }
    if (seen->prev && strcmp(seen->prev, name) > 0) {
        seen->sorted = false;
    }
    seen->prev = name;
}

static void
test_coverage_lists_counters_sorted(void **state)
{
    (void)state;
    struct counter_seen seen = {false, NULL, true};

    coverage_for_each(check_counter, &seen);
    assert_true(seen.event_seen);
    assert_true(seen.sorted);
}

static void
test_ds_grows_and_formats(void **state)
{
    (void)state;
    struct ds ds = DS_EMPTY_INITIALIZER;

    assert_string_equal(ds_cstr(&ds), "");
    for (int i = 0; i < 1000; i++) {
        ds_put_format(&ds, "%d,", i);
    }
    ds_chomp(&ds, ",");
    assert_int_equal(ds_last(&ds), '9');
    assert_true(!strncmp(ds_cstr(&ds), "0,1,2,3", 7));
    ds_clear(&ds);
    assert_string_equal(ds_cstr(&ds), "");
    ds_put_hex(&ds, "\x01\xab", 2);
    assert_string_equal(ds_cstr(&ds), "01ab");
    char *s = ds_steal_cstr(&ds);
    assert_string_equal(s, "01ab");
    free(s);
    ds_destroy(&ds);
}

static void
test_vlog_levels_parse_and_reject_garbage(void **state)
{
    (void)state;
    enum vlog_level level;

    assert_int_equal(vlog_level_from_string("warn", &level), 0);
    assert_int_equal(level, VLL_WARN);
    assert_int_equal(vlog_level_from_string("DBG", &level), 0);
    assert_int_equal(level, VLL_DBG);
    assert_int_not_equal(vlog_level_from_string("loud", &level), 0);
    assert_int_not_equal(vlog_set_level("no-such-module", VLL_DBG), 0);
}

/* The coverage/show line of counter 'name' (a static buffer), or NULL. */
static const char *
coverage_line(const char *name)
{
    static char line[256];
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *found = NULL;

    coverage_show(&s);
    for (char *p = strtok((char *)ds_cstr(&s), "\n"); p;
         p = strtok(NULL, "\n")) {
        if (!strncmp(p, name, strlen(name)) && p[strlen(name)] == ' ') {
            snprintf(line, sizeof line, "%s", p);
            found = line;
        }
    }
    ds_destroy(&s);
    return found;
}

static void
test_coverage_show_averages_like_ovs(void **state)
{
    (void)state;
    const uint64_t t0 = 1000000;

    (void)coverage_counter_test_lib_never; /* Defined, never hit. */
    coverage_run(t0);
    assert_null(coverage_line("test_lib_rate")); /* Never hit: no line. */

    /* 50 events in one interval: 10/s over 5 s, 50/60 over the minute. */
    COVERAGE_ADD(test_lib_rate, 50);
    coverage_run(t0 + 4999); /* Not due yet: nothing recorded. */
    coverage_run(t0 + 5000);
    assert_string_equal(coverage_line("test_lib_rate"),
                        "test_lib_rate             10.0/sec     0.833/sec"
                        "        0.0139/sec   total: 50");

    /* A quiet interval: the 5 s rate drops, the minute keeps the 50. */
    coverage_run(t0 + 10000);
    assert_string_equal(coverage_line("test_lib_rate"),
                        "test_lib_rate              0.0/sec     0.833/sec"
                        "        0.0139/sec   total: 50");

    /* Three intervals late: 120 events spread as 40, 40, 40. */
    COVERAGE_ADD(test_lib_rate, 120);
    coverage_run(t0 + 25000);
    assert_string_equal(coverage_line("test_lib_rate"),
                        "test_lib_rate              8.0/sec     2.833/sec"
                        "        0.0472/sec   total: 170");

    /* A minute later the minute has forgotten; the hour has not. */
    for (int i = 1; i <= 12; i++) {
        coverage_run(t0 + 25000 + 5000 * (uint64_t)i);
    }
    assert_string_equal(coverage_line("test_lib_rate"),
                        "test_lib_rate              0.0/sec     0.000/sec"
                        "        0.0472/sec   total: 170");

    struct ds s = DS_EMPTY_INITIALIZER;
    coverage_show(&s);
    assert_true(!strncmp(ds_cstr(&s),
                         "Event coverage, avg rate over last: 5 seconds, "
                         "last minute, last hour,  hash=",
                         75));
    assert_non_null(strstr(ds_cstr(&s), " events never hit\n"));
    ds_destroy(&s);
}

static void
test_vlog_set_spec_follows_ovs_syntax(void **state)
{
    (void)state;
    char *error = NULL;
    struct ds s = DS_EMPTY_INITIALIZER;

    assert_int_equal(vlog_set_spec("test_lib:file:warn", &error), 0);
    assert_true(vlog_is_enabled(&vlog_this_module, VLL_WARN));
    assert_false(vlog_is_enabled(&vlog_this_module, VLL_INFO));
    assert_int_equal(vlog_set_spec("dbg:test_lib", &error), 0);
    assert_true(vlog_is_enabled(&vlog_this_module, VLL_DBG));
    assert_int_equal(vlog_set_spec("test_lib", &error), 0); /* dbg. */
    assert_true(vlog_is_enabled(&vlog_this_module, VLL_DBG));

    assert_int_equal(vlog_set_spec("test_lib:loud", &error), EINVAL);
    assert_string_equal(error, "no destination, level, or module \"loud\"");
    free(error);

    vlog_set_spec("test_lib:err", &error);
    vlog_list(&s);
    assert_true(!strncmp(ds_cstr(&s),
                         "                 console    syslog    file\n"
                         "                 -------    ------    ------\n",
                         88));
    assert_non_null(strstr(ds_cstr(&s), "\ntest_lib           ERR        OFF"
                                        "        OFF\n"));
    ds_destroy(&s);
    assert_int_equal(vlog_set_spec("ANY:info", &error), 0);
    assert_false(vlog_is_enabled(&vlog_this_module, VLL_DBG));
}

static void
test_log_lines_escape_what_is_not_text(void **state)
{
    (void)state;
    char path[] = "/tmp/test_lib_vlog_XXXXXX";
    int fd = mkstemp(path);
    char line[512];
    FILE *f;

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(vlog_set_file(path), 0);
    vlog_msg(&vlog_this_module, VLL_WARN, "bad %s end",
             "\xd7\"new\nline\x01 caf\xc3\xa9 \xc0\xaf");
    assert_int_equal(vlog_set_file(NULL), 0);

    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    /* One line; invalid UTF-8 (0xd7 alone, the overlong 0xc0 0xaf) and
     * control characters escaped; a well-formed sequence kept. */
    assert_non_null(strstr(line, "|test_lib|WARN|bad \\xd7\"new\\x0aline"
                                 "\\x01 caf\xc3\xa9 \\xc0\\xaf end\n"));
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);

    assert_int_equal(utf8_sequence_len("a"), 1);
    assert_int_equal(utf8_sequence_len("\xe2\x82\xac"), 3);
    assert_int_equal(utf8_sequence_len("\xf0\x9f\x98\x80"), 4);
    assert_int_equal(utf8_sequence_len("\xed\xa0\x80"), 0); /* Surrogate. */
    assert_int_equal(utf8_sequence_len("\xf4\x90\x80\x80"), 0);
    assert_int_equal(utf8_sequence_len("\xe2\x82"), 0); /* Cut short. */
}

/* Open vSwitch's portable hash: a byte string is its words, then the
 * zero-padded tail, finished with the length; an int is itself and the
 * basis; a 64-bit value its two halves.  (That these are Open vSwitch's
 * answers test_groups_vs_ovs.py shows: sixteen flows take the buckets
 * Open vSwitch 3.1 gave them; the constants its hash_boolean() says are
 * hash_int(1, 0) and hash_int(2, 0) are not what its hash_int() gives.) */
static void
test_murmur_hash_is_built_as_open_vswitch_builds_it(void **state)
{
    static const uint8_t bytes[6] = {1, 2, 3, 4, 5, 6};
    uint32_t w0, w1 = 0x0605;

    (void)state;
    assert_int_equal(hash_murmur_int(1, 0),
                     hash_finish(hash_mix32(hash_mix32(1, 0), 0), 8));
    assert_int_equal(hash_murmur_int(1, 0), 0xea95647du);
    memcpy(&w0, bytes, 4);
    assert_int_equal(hash_murmur_bytes(bytes, 6, 9),
                     hash_finish(hash_mix32(hash_mix32(9, w0), w1), 6));
    assert_int_equal(hash_murmur_uint64(0x0000000500000007ull),
                     hash_finish(hash_mix32(hash_mix32(0, 7), 5), 8));
}

static void
test_hash_words_depend_on_every_word(void **state)
{
    (void)state;
    uint64_t words[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint32_t base = hash_words64(words, 8, 0);

    for (int i = 0; i < 8; i++) {
        words[i] ^= 1;
        assert_int_not_equal(hash_words64(words, 8, 0), base);
        words[i] ^= 1;
    }
    assert_int_not_equal(hash_words64(words, 8, 1), base);
    assert_int_equal(hash_string("abc", 7), hash_bytes("abc", 3, 7));
}

/* CRC32C of the 8 bytes of 'w', a bit at a time: the definition. */
static uint32_t
crc32c_reference(uint32_t crc, uint64_t w)
{
    for (int i = 0; i < 64; i++) {
        uint32_t bit = (crc ^ (uint32_t)(w >> i)) & 1;

        crc = (crc >> 1) ^ (bit ? 0x82f63b78u : 0);
    }
    return crc;
}

/* RFC 3720's CRC32C test vectors (32 bytes of 0x00, of 0xff), through
 * the step hash_add64() uses, whichever path this CPU picked, and through
 * the software one; and both agree with the definition on other words, so
 * hash values are the same on every CPU and build. */
static void
test_hash_crc32c_is_the_same_on_every_path(void **state)
{
    uint64_t w = 0x0123456789abcdefull;
    uint32_t hw = 0xffffffff;
    uint32_t sw = 0xffffffff;

    (void)state;
    for (int i = 0; i < 4; i++) {
        hw = hash_crc32c(hw, 0);
        sw = hash_crc32c_sw(sw, 0);
    }
    assert_int_equal(~hw, 0x8a9136aa);
    assert_int_equal(~sw, 0x8a9136aa);
    hw = sw = 0xffffffff;
    for (int i = 0; i < 4; i++) {
        hw = hash_crc32c(hw, UINT64_MAX);
        sw = hash_crc32c_sw(sw, UINT64_MAX);
    }
    assert_int_equal(~hw, 0x62a8ab43);
    assert_int_equal(~sw, 0x62a8ab43);
    for (int i = 0; i < 1000; i++) {
        uint32_t crc = (uint32_t)(w >> 32);

        w = w * 6364136223846793005ull + 1442695040888963407ull;
        assert_int_equal(hash_crc32c(crc, w), crc32c_reference(crc, w));
        assert_int_equal(hash_crc32c_sw(crc, w), crc32c_reference(crc, w));
    }
}

/* ---- Pools -------------------------------------------------------------- */

#define TEST_POOL_OBJ 200 /* Rounded up to 256 by the 64-byte alignment. */

/* Objects come aligned and distinct; freed ones are handed out again from
 * the slabs already mapped; the live count follows. */
static void
test_pool_hands_out_aligned_objects_and_reuses_freed_ones(void **state)
{
    struct pool *pool = pool_create("test", TEST_POOL_OBJ, 64);
    size_t n = 3 * (POOL_SLAB_SIZE / 256); /* About three slabs. */
    char **objs = xcalloc(n, sizeof *objs);
    struct pool_stats st;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        objs[i] = pool_alloc(pool);
        assert_int_equal((uintptr_t)objs[i] % 64, 0);
        memset(objs[i], (int)(i & 0x7f), TEST_POOL_OBJ);
    }
    for (size_t i = 0; i < n; i++) {
        /* Nobody else was handed this object meanwhile. */
        assert_int_equal(objs[i][TEST_POOL_OBJ - 1], (char)(i & 0x7f));
    }
    pool_get_stats(pool, &st);
    assert_int_equal(st.obj_size, 256);
    assert_int_equal(st.n_live, n);
    assert_true(st.n_slabs >= 3 && st.n_slabs <= 4);
    uint64_t maps = st.n_maps;

    for (size_t i = 0; i < n; i++) {
        pool_free(objs[i]);
    }
    pool_get_stats(pool, &st);
    assert_int_equal(st.n_live, 0);
    for (size_t i = 0; i < n / 2; i++) {
        objs[i] = pool_zalloc(pool);
        assert_true(is_all_zeros(objs[i], TEST_POOL_OBJ));
    }
    pool_get_stats(pool, &st);
    assert_int_equal(st.n_maps, maps); /* Nothing new mapped. */
    for (size_t i = 0; i < n / 2; i++) {
        pool_free(objs[i]);
    }
    pool_destroy(pool);
    free(objs);
}

/* Once the objects of a storm are freed, their slabs are empty: a cache
 * that grows back takes them again without mapping anything new;
 * pool_trim_idle() unmaps only those empty for long enough, pool_trim()
 * every empty one; a live object keeps its slab. */
static void
test_pool_keeps_empty_slabs_until_trimmed(void **state)
{
    struct pool *pool = pool_create("test", TEST_POOL_OBJ, 64);
    struct pool_stats st;
    uint64_t maps;
    void **objs;
    size_t n;

    (void)state;
    pool_get_stats(pool, &st);
    n = 8 * st.per_slab; /* Eight full slabs. */
    objs = xcalloc(n, sizeof *objs);
    for (size_t i = 0; i < n; i++) {
        objs[i] = pool_alloc(pool);
    }
    pool_get_stats(pool, &st);
    assert_int_equal(st.n_slabs, 8);
    maps = st.n_maps;
    for (size_t i = 0; i < n; i++) {
        pool_free(objs[i]);
    }
    /* Empty for less than a minute: kept. */
    assert_int_equal(pool_trim_idle(pool, 60 * 1000), 0);

    /* The cache grows back into them. */
    for (size_t i = 0; i < n; i++) {
        objs[i] = pool_alloc(pool);
    }
    pool_get_stats(pool, &st);
    assert_int_equal(st.n_maps, maps);
    assert_int_equal(st.n_slabs, 8);

    /* All but one object go: trims unmap the empty slabs only. */
    for (size_t i = 1; i < n; i++) {
        pool_free(objs[i]);
    }
    assert_int_equal(pool_trim_idle(pool, 0), 7 * POOL_SLAB_SIZE);
    pool_get_stats(pool, &st);
    assert_int_equal(st.n_slabs, 1);
    assert_int_equal(st.n_live, 1);
    pool_free(objs[0]);
    assert_int_equal(pool_trim(pool), POOL_SLAB_SIZE);
    pool_get_stats(pool, &st);
    assert_int_equal(st.n_slabs, 0);
    assert_int_equal(st.n_maps, st.n_unmaps);
    pool_destroy(pool);
    free(objs);
}

struct pool_test_thread {
    void **objs;
    size_t n;
};

static void *
pool_test_free_all(void *arg)
{
    const struct pool_test_thread *t = arg;

    for (size_t i = 0; i < t->n; i++) {
        pool_free(t->objs[i]);
    }
    return NULL;
}

/* Four threads free while the owner keeps allocating; the owner destroys
 * the pool before the last frees, which then unmap it. */
static void
test_pool_takes_frees_from_other_threads(void **state)
{
    enum { PER_THREAD = 20000 };
    struct pool *pool = pool_create("test", 48, 0);
    struct pool_test_thread t[N_THREADS];
    pthread_t threads[N_THREADS];
    struct pool_stats st;

    (void)state;
    for (int i = 0; i < N_THREADS; i++) {
        t[i].n = PER_THREAD;
        t[i].objs = xcalloc(PER_THREAD, sizeof(void *));
        for (size_t j = 0; j < PER_THREAD; j++) {
            t[i].objs[j] = pool_alloc(pool);
            memset(t[i].objs[j], i, 48);
        }
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(
            pthread_create(&threads[i], NULL, pool_test_free_all, &t[i]), 0);
    }
    /* Meanwhile: objects filed back are handed out, and still whole. */
    for (int k = 0; k < 5000; k++) {
        unsigned char *obj = pool_alloc(pool);

        memset(obj, 0xee, 48);
        assert_int_equal(obj[47], 0xee);
        pool_free(obj);
    }
    pool_get_stats(pool, &st);
    assert_true(st.n_live <= (size_t)N_THREADS * PER_THREAD);
    pool_destroy(pool);
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(threads[i], NULL);
        free(t[i].objs);
    }
}

/* ---- RCU ---------------------------------------------------------------- */

static void
lib_test_sleep_ms(unsigned int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* A memb reader that stays inside a read-side section until told to
 * leave. */
struct rcu_test_reader {
    pthread_t thread;
    bool inside;  /* Atomic: the section is open. */
    bool release; /* Atomic: leave it. */
};

static void *
rcu_test_reader_main(void *r_)
{
    struct rcu_test_reader *r = r_;

    rcu_thread_register();
    rcu_read_begin();
    atomic_store_release(&r->inside, true);
    while (!atomic_load_acquire(&r->release)) {
        sched_yield();
    }
    rcu_read_end();
    rcu_thread_unregister();
    return NULL;
}

static void
rcu_test_reader_start(struct rcu_test_reader *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(pthread_create(&r->thread, NULL, rcu_test_reader_main, r),
                     0);
    while (!atomic_load_acquire(&r->inside)) {
        sched_yield();
    }
}

static void
rcu_test_reader_stop(struct rcu_test_reader *r)
{
    atomic_store_release(&r->release, true);
    pthread_join(r->thread, NULL);
}

static void
rcu_test_set_flag(void *flag)
{
    atomic_store_release((bool *)flag, true);
}

/* A postponed callback waits for the read-side sections open when it was
 * postponed, and rcu_wait_postponed() waits for the callback. */
static void
test_rcu_postponed_callback_runs_after_the_readers_leave(void **state)
{
    struct rcu_test_reader reader;
    bool ran = false;

    (void)state;
    rcu_thread_register();
    rcu_test_reader_start(&reader);
    rcu_postpone(rcu_test_set_flag, &ran);
    lib_test_sleep_ms(20);
    assert_false(atomic_load_acquire(&ran));
    rcu_test_reader_stop(&reader);
    rcu_wait_postponed();
    assert_true(atomic_load_acquire(&ran));

    rcu_postpone_free(NULL);
    rcu_postpone_free(xmalloc(64)); /* Freed: LeakSanitizer would say. */
    rcu_wait_postponed();
    rcu_thread_unregister();
}

struct rcu_test_sync {
    bool done; /* Atomic. */
};

static void *
rcu_test_synchronize_main(void *s_)
{
    struct rcu_test_sync *s = s_;

    rcu_thread_register();
    rcu_synchronize();
    atomic_store_release(&s->done, true);
    rcu_thread_unregister();
    return NULL;
}

/* rcu_synchronize() returns only once an open read-side section ends. */
static void
test_rcu_synchronize_waits_for_an_open_section(void **state)
{
    struct rcu_test_reader reader;
    struct rcu_test_sync sync = {false};
    pthread_t thread;

    (void)state;
    rcu_test_reader_start(&reader);
    assert_int_equal(
        pthread_create(&thread, NULL, rcu_test_synchronize_main, &sync), 0);
    lib_test_sleep_ms(20);
    assert_false(atomic_load_acquire(&sync.done));
    rcu_test_reader_stop(&reader);
    pthread_join(thread, NULL);
    assert_true(atomic_load_acquire(&sync.done));
}

static void *
rcu_test_register_twice_main(void *flag)
{
    /* Twice: the second call sees the first. */
    rcu_thread_register_until_exit();
    rcu_thread_register_until_exit();
    rcu_read_begin();
    rcu_read_end();
    rcu_postpone(rcu_test_set_flag, flag);
    return NULL; /* Unregistered on the way out. */
}

/* A thread registered "until exit" can postpone, and is unregistered when
 * it ends. */
static void
test_rcu_register_until_exit_registers_once(void **state)
{
    bool ran = false;
    pthread_t thread;

    (void)state;
    assert_int_equal(
        pthread_create(&thread, NULL, rcu_test_register_twice_main, &ran), 0);
    pthread_join(thread, NULL);
    rcu_thread_register();
    rcu_wait_postponed();
    rcu_thread_unregister();
    assert_true(atomic_load_acquire(&ran));
}

/* A QSBR reader that stays online, without a quiescent state, until told
 * to go offline. */
static void *
rcu_test_qsbr_reader_main(void *r_)
{
    struct rcu_test_reader *r = r_;

    rcu_qsbr_thread_register();
    atomic_store_release(&r->inside, true);
    while (!atomic_load_acquire(&r->release)) {
        sched_yield();
    }
    rcu_qsbr_quiesce();
    rcu_qsbr_offline();
    rcu_qsbr_online();
    rcu_qsbr_thread_unregister();
    return NULL;
}

struct rcu_test_reclaim {
    struct rcu_qsbr_queue *queue;
    size_t n_run; /* Atomic. */
    bool done;    /* Atomic. */
};

static void *
rcu_test_reclaim_main(void *r_)
{
    struct rcu_test_reclaim *r = r_;

    atomic_store_relaxed(&r->n_run, rcu_qsbr_queue_reclaim(r->queue));
    atomic_store_release(&r->done, true);
    return NULL;
}

/* Callbacks queued for QSBR run in the reclaim, after the online readers
 * pass a quiescent state, and not before. */
static void
test_rcu_qsbr_queue_runs_callbacks_after_a_quiescent_state(void **state)
{
    struct rcu_test_reclaim reclaim = {rcu_qsbr_queue_create(), 0, false};
    struct rcu_test_reader reader;
    pthread_t thread;
    bool ran = false;

    (void)state;
    memset(&reader, 0, sizeof reader);
    assert_int_equal(pthread_create(&reader.thread, NULL,
                                    rcu_test_qsbr_reader_main, &reader),
                     0);
    while (!atomic_load_acquire(&reader.inside)) {
        sched_yield();
    }
    rcu_qsbr_queue_postpone(reclaim.queue, rcu_test_set_flag, &ran);
    rcu_qsbr_queue_postpone_hook(free, xmalloc(64), reclaim.queue);
    assert_int_equal(rcu_qsbr_queue_n_pending(reclaim.queue), 2);

    assert_int_equal(
        pthread_create(&thread, NULL, rcu_test_reclaim_main, &reclaim), 0);
    lib_test_sleep_ms(20);
    assert_false(atomic_load_acquire(&reclaim.done));
    assert_false(atomic_load_acquire(&ran));

    rcu_test_reader_stop(&reader);
    pthread_join(thread, NULL);
    assert_int_equal(atomic_load_relaxed(&reclaim.n_run), 2);
    assert_true(atomic_load_acquire(&ran));
    assert_int_equal(rcu_qsbr_queue_n_pending(reclaim.queue), 0);
    assert_int_equal(rcu_qsbr_queue_reclaim(reclaim.queue), 0);
    rcu_qsbr_queue_destroy(reclaim.queue);
}

/* ---- Sequence numbers --------------------------------------------------- */

struct seq_test_waiter {
    struct seq *seq;
    uint64_t seen;
    bool changed; /* The wait's return value. */
};

static void *
seq_test_waiter_main(void *w_)
{
    struct seq_test_waiter *w = w_;

    /* A deadline far enough never to be the reason it returns. */
    w->changed =
        seq_wait_until(w->seq, w->seen, time_nsec() + 3600 * 1000000000ull);
    return NULL;
}

/* A thread waiting on a seq wakes when another changes it. */
static void
test_seq_waiter_wakes_on_change(void **state)
{
    struct seq_test_waiter w;
    pthread_t thread;

    (void)state;
    w.seq = seq_create();
    w.seen = seq_read(w.seq);
    w.changed = false;
    assert_int_equal(pthread_create(&thread, NULL, seq_test_waiter_main, &w),
                     0);
    lib_test_sleep_ms(10); /* Most likely asleep by now; either is fine. */
    seq_change(w.seq);
    pthread_join(thread, NULL);
    assert_true(w.changed);
    assert_true(seq_read(w.seq) != w.seen);

    /* seq_wait() on a value that is already stale returns at once. */
    seq_wait(w.seq, w.seen);
    seq_destroy(w.seq);
}

/* Without a change, a wait with a deadline gives up at the deadline and
 * says so; a change made before the wait is seen even then. */
static void
test_seq_wait_until_returns_false_at_the_deadline(void **state)
{
    struct seq *seq = seq_create();
    uint64_t seen = seq_read(seq);

    (void)state;
    assert_false(seq_wait_until(seq, seen, time_nsec() + 20ull * 1000000));
    assert_false(seq_wait_until(seq, seen, 0)); /* Already past. */
    assert_int_equal(seq_read(seq), seen);

    seq_change(seq);
    assert_true(seq_wait_until(seq, seen, 0));
    seq_destroy(seq);
}

struct seq_test_watcher {
    struct seq *seq;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    uint64_t seen;
    bool ready; /* 'mutex': the watcher is about to wait. */
};

static void *
seq_test_watcher_main(void *w_)
{
    struct seq_test_watcher *w = w_;

    pthread_mutex_lock(&w->mutex);
    w->ready = true;
    while (seq_read(w->seq) == w->seen) {
        pthread_cond_wait(&w->cond, &w->mutex);
    }
    pthread_mutex_unlock(&w->mutex);
    return NULL;
}

/* A thread asleep on a condition variable of its own wakes when a seq it
 * watches changes. */
static void
test_seq_change_wakes_a_watcher(void **state)
{
    struct seq_test_watcher w;
    struct seq_watcher watcher;
    pthread_t thread;
    bool ready = false;

    (void)state;
    w.seq = seq_create();
    pthread_mutex_init(&w.mutex, NULL);
    cond_init_monotonic(&w.cond);
    w.seen = seq_read(w.seq);
    w.ready = false;
    seq_watch(w.seq, &watcher, &w.mutex, &w.cond);
    assert_int_equal(pthread_create(&thread, NULL, seq_test_watcher_main, &w),
                     0);
    while (!ready) {
        pthread_mutex_lock(&w.mutex);
        ready = w.ready;
        pthread_mutex_unlock(&w.mutex);
        sched_yield();
    }
    seq_change(w.seq);
    pthread_join(thread, NULL);
    seq_unwatch(w.seq, &watcher);
    seq_change(w.seq); /* No watcher: nothing to wake. */

    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.mutex);
    seq_destroy(w.seq);
}

/* ---- Pointer maps -------------------------------------------------------- */

struct ptrmap_test_entry {
    uint32_t hash;
    bool in;
};

static bool
ptrmap_test_has(const struct ptrmap *map, const struct ptrmap_test_entry *e)
{
    struct ptrmap_pos pos;
    void *p;

    PTRMAP_FOR_EACH_WITH_HASH (p, &pos, e->hash, map) {
        if (p == e) {
            return true;
        }
    }
    return false;
}

/* Random inserts and removals, hashes drawn from a small range (so that
 * many collide, 0 among them) and from the whole range, checked against
 * a reference after each step, through growth and shrinking. */
static void
test_ptrmap_agrees_with_a_reference_through_growth_and_shrink(void **state)
{
    enum { N = 4000 };
    struct ptrmap_test_entry *e = xcalloc(N, sizeof *e);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    struct ptrmap map;
    size_t n_in = 0;

    (void)state;
    ptrmap_init(&map);
    for (size_t i = 0; i < N; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        e[i].hash = i % 3 ? (uint32_t)(rng >> 32) : (uint32_t)(i % 7);
    }
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            if ((rng >> 40) % 4 != 0 || e[i].in) {
                continue;
            }
            ptrmap_insert(&map, e[i].hash, &e[i]);
            e[i].in = true;
            n_in++;
        }
        for (size_t i = 0; i < N; i += 17) {
            assert_int_equal(ptrmap_test_has(&map, &e[i]), e[i].in);
        }
        for (size_t i = 0; i < N; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            if (e[i].in && (rng >> 40) % 3 == 0) {
                assert_true(ptrmap_remove(&map, e[i].hash, &e[i]));
                assert_false(ptrmap_remove(&map, e[i].hash, &e[i]));
                e[i].in = false;
                n_in--;
            }
        }
        assert_int_equal(ptrmap_count(&map), n_in);
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(ptrmap_test_has(&map, &e[i]), e[i].in);
        }
    }
    /* Empty it: the table shrinks, and still finds nothing. */
    for (size_t i = 0; i < N; i++) {
        if (e[i].in) {
            assert_true(ptrmap_remove(&map, e[i].hash, &e[i]));
            e[i].in = false;
        }
    }
    assert_true(ptrmap_shrink(&map));
    assert_int_equal(ptrmap_count(&map), 0);
    for (size_t i = 0; i < N; i += 5) {
        assert_false(ptrmap_test_has(&map, &e[i]));
    }
    ptrmap_destroy(&map);
    free(e);
}

/* Removing the entries an iteration returns (every other one) leaves the
 * iteration whole: each entry is returned exactly once. */
static void
test_ptrmap_iteration_survives_removal(void **state)
{
    enum { N = 1000 };
    struct ptrmap_test_entry *e = xcalloc(N, sizeof *e);
    struct ptrmap_pos pos;
    struct ptrmap map;
    size_t seen = 0;
    void *p;

    (void)state;
    ptrmap_init(&map);
    for (size_t i = 0; i < N; i++) {
        e[i].hash = (uint32_t)(i * 2654435761u) | (i % 2); /* Some 0s. */
        ptrmap_insert(&map, e[i].hash, &e[i]);
    }
    PTRMAP_FOR_EACH (p, &pos, &map) {
        struct ptrmap_test_entry *x = p;

        assert_false(x->in); /* Not returned before. */
        x->in = true;
        if (seen++ % 2) {
            assert_true(ptrmap_remove(&map, x->hash, x));
        }
    }
    assert_int_equal(seen, N);
    assert_int_equal(ptrmap_count(&map), N / 2);
    ptrmap_destroy(&map);
    free(e);
}

/* A replaced pointer is found in its place; the old one no longer. */
static void
test_ptrmap_replace_swaps_in_place(void **state)
{
    struct ptrmap_test_entry a = {7, true}, b = {7, true}, c = {9, true};
    struct ptrmap map;

    (void)state;
    ptrmap_init(&map);
    ptrmap_insert(&map, a.hash, &a);
    assert_true(ptrmap_replace(&map, a.hash, &a, &b));
    assert_true(ptrmap_test_has(&map, &b));
    assert_false(ptrmap_test_has(&map, &a));
    assert_false(ptrmap_replace(&map, c.hash, &c, &a));
    assert_int_equal(ptrmap_count(&map), 1);
    ptrmap_destroy(&map);
}

/* Lock-free readers under RCU (memb) while one writer inserts, removes
 * and so rebuilds the table over and over: every entry present for the
 * whole run is found by every probe and returned exactly once by every
 * iteration. */
enum {
    PTRMAP_RCU_STABLE = 64,
    PTRMAP_RCU_CHURN = 2000,
    PTRMAP_RCU_READERS = 2
};

struct ptrmap_rcu_test {
    struct ptrmap map;
    struct ptrmap_test_entry stable[PTRMAP_RCU_STABLE];
    bool stop;           /* Atomic. */
    uint64_t passes;     /* Atomic: reader passes done. */
    uint64_t misses;     /* Atomic: stable entries a probe missed. */
    uint64_t bad_counts; /* Atomic: iterations that saw a wrong number. */
};

static size_t
ptrmap_rcu_test_count_stable(const struct ptrmap_rcu_test *t)
{
    struct ptrmap_pos pos;
    size_t n = 0;
    void *p;

    PTRMAP_FOR_EACH (p, &pos, &t->map) {
        const struct ptrmap_test_entry *e = p;

        n += e >= t->stable && e < t->stable + PTRMAP_RCU_STABLE;
    }
    return n;
}

static void *
ptrmap_rcu_test_reader(void *t_)
{
    struct ptrmap_rcu_test *t = t_;

    rcu_thread_register();
    while (!atomic_load_relaxed(&t->stop)) {
        rcu_read_begin();
        for (size_t i = 0; i < PTRMAP_RCU_STABLE; i++) {
            if (!ptrmap_test_has(&t->map, &t->stable[i])) {
                atomic_fetch_add_relaxed(&t->misses, 1);
            }
        }
        if (ptrmap_rcu_test_count_stable(t) != PTRMAP_RCU_STABLE) {
            atomic_fetch_add_relaxed(&t->bad_counts, 1);
        }
        rcu_read_end();
        atomic_fetch_add_relaxed(&t->passes, 1);
    }
    rcu_thread_unregister();
    return NULL;
}

/* One writer round: every churn entry in, then every one out (the table
 * grows, then shrinks). */
static void
ptrmap_rcu_test_churn(struct ptrmap_rcu_test *t, struct ptrmap_test_entry *e)
{
    for (size_t i = 0; i < PTRMAP_RCU_CHURN; i++) {
        ptrmap_insert(&t->map, e[i].hash, &e[i]);
    }
    for (size_t i = 0; i < PTRMAP_RCU_CHURN; i++) {
        assert_true(ptrmap_remove(&t->map, e[i].hash, &e[i]));
        ptrmap_shrink(&t->map);
    }
}

static void
test_ptrmap_rcu_readers_find_every_stable_entry_during_rebuilds(void **state)
{
    struct ptrmap_rcu_test *t = xzalloc(sizeof *t);
    struct ptrmap_test_entry *e = xcalloc(PTRMAP_RCU_CHURN, sizeof *e);
    pthread_t readers[PTRMAP_RCU_READERS];
    uint64_t rounds = 0, deadline = time_msec() + 60000;

    (void)state;
    rcu_thread_register();
    ptrmap_init_rcu(&t->map, rcu_postpone_hook, NULL);
    for (size_t i = 0; i < PTRMAP_RCU_STABLE; i++) {
        t->stable[i].hash = (uint32_t)(i % 7); /* Collide with the churn. */
        ptrmap_insert(&t->map, t->stable[i].hash, &t->stable[i]);
    }
    for (size_t i = 0; i < PTRMAP_RCU_CHURN; i++) {
        e[i].hash = i % 3 ? (uint32_t)(i * 2654435761u) : (uint32_t)(i % 7);
    }
    for (size_t i = 0; i < PTRMAP_RCU_READERS; i++) {
        assert_int_equal(
            pthread_create(&readers[i], NULL, ptrmap_rcu_test_reader, t), 0);
    }
    /* Enough rounds, and enough reader passes to have overlapped them. */
    while (rounds < 20 || atomic_load_relaxed(&t->passes) < 200) {
        assert_true(time_msec() < deadline);
        ptrmap_rcu_test_churn(t, e);
        rounds++;
    }
    atomic_store_relaxed(&t->stop, true);
    for (size_t i = 0; i < PTRMAP_RCU_READERS; i++) {
        pthread_join(readers[i], NULL);
    }
    assert_int_equal(atomic_load_relaxed(&t->misses), 0);
    assert_int_equal(atomic_load_relaxed(&t->bad_counts), 0);
    assert_int_equal(ptrmap_count(&t->map), PTRMAP_RCU_STABLE);
    rcu_wait_postponed();
    ptrmap_destroy(&t->map);
    rcu_thread_unregister();
    free(e);
    free(t);
}

/* ---- rcu-slist ---------------------------------------------------------- */

/* Links at the head and in the middle keep the order asked for; an
 * unlinked node keeps its 'next', so a reader standing on it walks on to
 * the rest of the chain. */
static void
test_rcu_slist_links_in_place_and_an_unlinked_node_leads_on(void **state)
{
    struct rcu_slist_node n[4], *head = NULL, *order[4];
    size_t k = 0;

    (void)state;
    rcu_slist_insert(&head, &n[2]);
    rcu_slist_insert(&head, &n[0]);
    rcu_slist_insert(&n[0].next, &n[1]);
    rcu_slist_insert(&n[2].next, &n[3]);
    for (struct rcu_slist_node *x = rcu_slist_first(&head); x;
         x = rcu_slist_next(x)) {
        assert_true(k < 4);
        order[k++] = x;
    }
    assert_int_equal(k, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_ptr_equal(order[i], &n[i]);
    }
    rcu_slist_remove(&n[0].next); /* n[1] out. */
    assert_ptr_equal(rcu_slist_next(&n[0]), &n[2]);
    assert_ptr_equal(rcu_slist_next(&n[1]), &n[2]);
    rcu_slist_remove(&head); /* n[0] out. */
    assert_ptr_equal(rcu_slist_first(&head), &n[2]);
}

/* ---- hmap --------------------------------------------------------------- */

struct hmap_test_entry {
    struct hmap_node node;
    uint32_t key;
    bool in;
};

static uint32_t
hmap_test_hash(uint32_t key, bool collide)
{
    return collide ? key % 5 : hash_int(key, 0);
}

static struct hmap_test_entry *
hmap_test_find(const struct hmap *map, uint32_t key, bool collide)
{
    struct hmap_test_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, hmap_test_hash(key, collide), map) {
        if (e->key == key) {
            return e;
        }
    }
    return NULL;
}

/* Random inserts and removals, with well-spread hashes and with hashes
 * that collide, checked against a reference after each round; the map
 * grows as it fills and shrinks once emptied, finding the same entries. */
static void
test_hmap_agrees_with_a_reference_through_growth_and_shrink(void **state)
{
    enum { N = 3000 };
    (void)state;

    for (int collide = 0; collide < 2; collide++) {
        struct hmap_test_entry *e = xcalloc(N, sizeof *e);
        uint64_t rng = 0x9e3779b97f4a7c15ull;
        struct hmap map;
        size_t n_in = 0;

        hmap_init(&map);
        for (size_t i = 0; i < N; i++) {
            e[i].key = (uint32_t)i;
        }
        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < N; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                if (!e[i].in && (rng >> 40) % 2) {
                    hmap_insert(&map, &e[i].node,
                                hmap_test_hash(e[i].key, collide));
                    e[i].in = true;
                    n_in++;
                }
            }
            assert_true(collide || map.mask + 1 >= n_in);
            for (size_t i = 0; i < N; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                if (e[i].in && (rng >> 40) % 3 == 0) {
                    hmap_remove(&map, &e[i].node);
                    e[i].in = false;
                    n_in--;
                }
            }
            assert_int_equal(hmap_count(&map), n_in);
            for (size_t i = 0; i < N; i++) {
                struct hmap_test_entry *found =
                    hmap_test_find(&map, e[i].key, collide);

                assert_ptr_equal(found, e[i].in ? &e[i] : NULL);
            }
        }
        for (size_t i = 0; i < N; i++) {
            if (e[i].in) {
                hmap_remove(&map, &e[i].node);
                e[i].in = false;
            }
        }
        assert_true(hmap_is_empty(&map));
        hmap_shrink(&map);
        assert_int_equal(map.mask, 0);
        assert_null(hmap_test_find(&map, 7, collide));
        hmap_destroy(&map);
        free(e);
    }
}

/* HMAP_FOR_EACH returns each element once; HMAP_FOR_EACH_SAFE does too
 * while the body removes every other one. */
static void
test_hmap_iteration_returns_each_element_once_even_while_removing(void **state)
{
    enum { N = 500 };
    struct hmap_test_entry *e = xcalloc(N, sizeof *e);
    struct hmap_test_entry *iter;
    struct hmap map;
    size_t seen = 0;

    (void)state;
    hmap_init(&map);
    hmap_reserve(&map, N);
    assert_true(map.mask + 1 >= N);
    for (size_t i = 0; i < N; i++) {
        e[i].key = (uint32_t)i;
        hmap_insert(&map, &e[i].node, hmap_test_hash(e[i].key, i % 2));
    }
    HMAP_FOR_EACH (iter, node, &map) {
        assert_false(iter->in);
        iter->in = true;
        seen++;
    }
    assert_int_equal(seen, N);
    seen = 0;
    HMAP_FOR_EACH_SAFE (iter, node, &map) {
        assert_true(iter->in);
        iter->in = false;
        if (seen++ % 2) {
            hmap_remove(&map, &iter->node);
        }
    }
    assert_int_equal(seen, N);
    assert_int_equal(hmap_count(&map), N / 2);
    hmap_clear(&map);
    assert_true(hmap_is_empty(&map));
    assert_null(hmap_first(&map));
    hmap_destroy(&map);
    free(e);
}

/* ---- list --------------------------------------------------------------- */

struct list_test_entry {
    struct list node;
    int value;
};

/* Pushes at both ends, insertion before an element, removal (twice is
 * harmless) and popping keep the order a reference array predicts. */
static void
test_list_keeps_order_through_push_insert_and_remove(void **state)
{
    struct list_test_entry e[5];
    struct list_test_entry *iter;
    struct list list = LIST_INITIALIZER(&list);
    int order[5];
    size_t n = 0;

    (void)state;
    assert_true(list_is_empty(&list));
    for (int i = 0; i < 5; i++) {
        e[i].value = i;
        list_init(&e[i].node);
        assert_false(list_is_linked(&e[i].node));
    }
    list_push_back(&list, &e[1].node);   /* 1 */
    list_push_front(&list, &e[0].node);  /* 0 1 */
    list_push_back(&list, &e[3].node);   /* 0 1 3 */
    list_insert(&e[3].node, &e[2].node); /* 0 1 2 3 */
    list_push_back(&list, &e[4].node);   /* 0 1 2 3 4 */
    assert_int_equal(list_size(&list), 5);
    assert_ptr_equal(list_remove(&e[2].node), &e[3].node); /* 0 1 3 4 */
    assert_false(list_is_linked(&e[2].node));
    list_remove(&e[2].node); /* Unlinked already: no change. */
    assert_ptr_equal(list_pop_front(&list), &e[0].node); /* 1 3 4 */
    assert_ptr_equal(list_back(&list), &e[4].node);
    LIST_FOR_EACH (iter, node, &list) {
        order[n++] = iter->value;
    }
    assert_int_equal(n, 3);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 4);
    n = 0;
    LIST_FOR_EACH_SAFE (iter, node, &list) {
        list_remove(&iter->node);
        n++;
    }
    assert_int_equal(n, 3);
    assert_true(list_is_empty(&list));
}

/* ---- batch index -------------------------------------------------------- */

/* Whether 'ix' offers 'idx' as a candidate for 'hash'. */
static bool
batch_index_test_offers(const struct batch_index *ix, uint32_t hash,
                        size_t idx)
{
    size_t cand;

    BATCH_INDEX_FOR_EACH (cand, hash, ix) {
        if (cand == idx) {
            return true;
        }
    }
    return false;
}

/* A full batch, its hashes crowded onto a few home slots (and wrapping
 * past the last slot): each entry is a candidate for its own hash, the
 * entries of one hash come in the order they were added, a hash whose
 * run is empty has no candidates, and a clear forgets everything. */
static void
test_batch_index_finds_each_entry_of_a_full_batch_until_cleared(void **state)
{
    struct batch_index ix;
    uint32_t hashes[BATCH_INDEX_MAX];
    size_t cand, last;
    size_t n;

    (void)state;
    batch_index_clear(&ix);
    for (size_t i = 0; i < BATCH_INDEX_MAX; i++) {
        /* Half of them on four hashes homed in the last four slots,
         * eight entries each; the rest spread out. */
        hashes[i] = i % 2 ? (uint32_t)(BATCH_INDEX_SLOTS - 1 - (i / 2) % 4)
                          : (uint32_t)(i * 2654435761u);
        batch_index_add(&ix, hashes[i], i);
    }
    for (size_t i = 0; i < BATCH_INDEX_MAX; i++) {
        assert_true(batch_index_test_offers(&ix, hashes[i], i));
    }
    n = 0;
    last = 0;
    BATCH_INDEX_FOR_EACH (cand, BATCH_INDEX_SLOTS - 1, &ix) {
        if (hashes[cand] == BATCH_INDEX_SLOTS - 1) {
            assert_true(n == 0 || cand > last);
            last = cand;
            n++;
        }
    }
    assert_int_equal(n, BATCH_INDEX_MAX / 8);

    /* A slot no entry reached offers nothing (the hashes above fill 64
     * of the 128 slots). */
    n = 0;
    for (uint32_t h = 0; h < BATCH_INDEX_SLOTS; h++) {
        bool any = false;

        BATCH_INDEX_FOR_EACH (cand, h, &ix) {
            any = true;
        }
        n += !any;
    }
    assert_int_equal(n, BATCH_INDEX_SLOTS - BATCH_INDEX_MAX);

    batch_index_clear(&ix);
    for (size_t i = 0; i < BATCH_INDEX_MAX; i++) {
        assert_false(batch_index_test_offers(&ix, hashes[i], i));
    }
}

/* ---- xgrow -------------------------------------------------------------- */

/* Appending one at a time keeps every element, grows the capacity by
 * doubling (so only a logarithmic number of reallocations), and jumps
 * straight to a larger request. */
static void
test_xgrow_doubles_and_keeps_the_elements(void **state)
{
    uint32_t *a = NULL;
    size_t allocated = 0;
    size_t n_grows = 0;

    (void)state;
    for (uint32_t i = 0; i < 1000; i++) {
        size_t before = allocated;

        a = xgrow(a, &allocated, i + 1, sizeof *a);
        if (allocated != before) {
            n_grows++;
            assert_true(allocated >= MAX(2 * before, (size_t)XGROW_MIN));
        }
        a[i] = i * 7;
    }
    assert_true(n_grows <= 8);
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(a[i], i * 7);
    }
    a = xgrow(a, &allocated, 100000, sizeof *a);
    assert_int_equal(allocated, 100000);
    assert_int_equal(a[999], 999 * 7);
    free(a);
}

/* An array that starts in its owner's buffer moves to the heap with its
 * elements when it outgrows it, and leaves the buffer alone. */
static void
test_xgrow_inline_moves_to_the_heap_once(void **state)
{
    uint16_t inline_buf[4] = {1, 2, 3, 4};
    uint16_t *a = inline_buf;
    size_t allocated = ARRAY_SIZE(inline_buf);

    (void)state;
    a = xgrow_inline(a, inline_buf, &allocated, 4, sizeof *a);
    assert_ptr_equal(a, inline_buf);
    a = xgrow_inline(a, inline_buf, &allocated, 5, sizeof *a);
    assert_ptr_not_equal(a, inline_buf);
    assert_true(allocated >= 8);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(a[i], i + 1);
    }
    a[4] = 5;
    a = xgrow_inline(a, inline_buf, &allocated, 100, sizeof *a);
    assert_int_equal(a[4], 5);
    assert_int_equal(inline_buf[3], 4);
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_operations_return_what_their_names_say),
        cmocka_unit_test(test_coverage_counts_increments_by_name),
        cmocka_unit_test(test_coverage_sums_live_and_exited_threads),
        cmocka_unit_test(test_coverage_lists_counters_sorted),
        cmocka_unit_test(test_ds_grows_and_formats),
        cmocka_unit_test(test_vlog_levels_parse_and_reject_garbage),
        cmocka_unit_test(test_coverage_show_averages_like_ovs),
        cmocka_unit_test(test_vlog_set_spec_follows_ovs_syntax),
        cmocka_unit_test(test_log_lines_escape_what_is_not_text),
        cmocka_unit_test(test_murmur_hash_is_built_as_open_vswitch_builds_it),
        cmocka_unit_test(test_hash_words_depend_on_every_word),
        cmocka_unit_test(test_hash_crc32c_is_the_same_on_every_path),
        cmocka_unit_test(
            test_pool_hands_out_aligned_objects_and_reuses_freed_ones),
        cmocka_unit_test(test_pool_keeps_empty_slabs_until_trimmed),
        cmocka_unit_test(test_pool_takes_frees_from_other_threads),
        cmocka_unit_test(
            test_rcu_postponed_callback_runs_after_the_readers_leave),
        cmocka_unit_test(test_rcu_synchronize_waits_for_an_open_section),
        cmocka_unit_test(test_rcu_register_until_exit_registers_once),
        cmocka_unit_test(
            test_rcu_qsbr_queue_runs_callbacks_after_a_quiescent_state),
        cmocka_unit_test(test_seq_waiter_wakes_on_change),
        cmocka_unit_test(test_seq_wait_until_returns_false_at_the_deadline),
        cmocka_unit_test(test_seq_change_wakes_a_watcher),
        cmocka_unit_test(
            test_ptrmap_agrees_with_a_reference_through_growth_and_shrink),
        cmocka_unit_test(test_ptrmap_iteration_survives_removal),
        cmocka_unit_test(test_ptrmap_replace_swaps_in_place),
        cmocka_unit_test(
            test_rcu_slist_links_in_place_and_an_unlinked_node_leads_on),
        cmocka_unit_test(
            test_ptrmap_rcu_readers_find_every_stable_entry_during_rebuilds),
        cmocka_unit_test(
            test_hmap_agrees_with_a_reference_through_growth_and_shrink),
        cmocka_unit_test(
            test_hmap_iteration_returns_each_element_once_even_while_removing),
        cmocka_unit_test(test_list_keeps_order_through_push_insert_and_remove),
        cmocka_unit_test(
            test_batch_index_finds_each_entry_of_a_full_batch_until_cleared),
        cmocka_unit_test(test_xgrow_doubles_and_keeps_the_elements),
        cmocka_unit_test(test_xgrow_inline_moves_to_the_heap_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
