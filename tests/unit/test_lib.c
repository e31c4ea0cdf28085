/* Unit tests for src/lib: coverage counters, dynamic strings, logging
 * levels, hashing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/hash.h"
#include "lib/util.h"
#include "lib/vlog.h"

COVERAGE_DEFINE(test_lib_event);
COVERAGE_DEFINE(test_lib_threaded);

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coverage_counts_increments_by_name),
        cmocka_unit_test(test_coverage_sums_live_and_exited_threads),
        cmocka_unit_test(test_coverage_lists_counters_sorted),
        cmocka_unit_test(test_ds_grows_and_formats),
        cmocka_unit_test(test_vlog_levels_parse_and_reject_garbage),
        cmocka_unit_test(test_hash_words_depend_on_every_word),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
