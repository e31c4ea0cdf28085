/* Unit tests for src/ofproto/mac-learning.c: learning, moves, aging with
 * time passed in, LRU eviction at the size limit, and concurrent learners
 * and readers (run under ThreadSanitizer in build-tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "lib/dynamic-string.h"
#include "ofproto/mac-learning.h"

static struct eth_addr
mac_n(uint32_t n)
{
    struct eth_addr mac = {{0x02, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                            (uint8_t)(n >> 8), (uint8_t)n}};
    return mac;
}

static void
test_learn_lookup_and_move(void **state)
{
    struct mac_learning *ml = mac_learning_create(0, 0, NULL);
    uint64_t seq = mac_learning_seq(ml);
    uint32_t port;

    (void)state;
    assert_int_equal(mac_learning_idle_time(ml), 300);
    assert_int_equal(mac_learning_max_entries(ml), 8192);
    assert_false(mac_learning_lookup(ml, 0, mac_n(1), 0, &port));
    assert_true(mac_learning_learn(ml, 0, mac_n(1), 3, 0));
    assert_true(mac_learning_seq(ml) != seq);
    assert_true(mac_learning_lookup(ml, 0, mac_n(1), 0, &port));
    assert_int_equal(port, 3);
    /* Same VLAN, same port: a refresh, not a change. */
    seq = mac_learning_seq(ml);
    assert_false(mac_learning_learn(ml, 0, mac_n(1), 3, 10));
    assert_int_equal(mac_learning_seq(ml), seq);
    /* Another VLAN is another entry. */
    assert_false(mac_learning_lookup(ml, 7, mac_n(1), 0, &port));
    assert_true(mac_learning_learn(ml, 7, mac_n(1), 2, 10));
    /* A move. */
    assert_true(mac_learning_learn(ml, 0, mac_n(1), 4, 20));
    assert_true(mac_learning_lookup(ml, 0, mac_n(1), 20, &port));
    assert_int_equal(port, 4);
    assert_int_equal(mac_learning_count(ml), 2);
    assert_int_equal(mac_learning_flush_port(ml, 4), 1);
    assert_int_equal(mac_learning_count(ml), 1);
    mac_learning_destroy(ml);
}

static void
test_entries_age_out(void **state)
{
    struct mac_learning *ml = mac_learning_create(0, 0, NULL);
    struct ds s = DS_EMPTY_INITIALIZER;
    uint32_t port;

    (void)state;
    mac_learning_learn(ml, 0, mac_n(1), 1, 1000);
    mac_learning_learn(ml, 0, mac_n(2), 2, 1000);
    mac_learning_learn(ml, 0, mac_n(2), 2, 200 * 1000); /* Refreshed. */
    /* 300 s after the last refresh it is gone, before that not. */
    assert_true(mac_learning_lookup(ml, 0, mac_n(1), 300999, &port));
    assert_false(mac_learning_lookup(ml, 0, mac_n(1), 301000, &port));
    assert_int_equal(mac_learning_run(ml, 300999), 0);
    assert_int_equal(mac_learning_run(ml, 301000), 1);
    assert_int_equal(mac_learning_count(ml), 1);
    mac_learning_format(ml, 210 * 1000, &s);
    assert_string_equal(ds_cstr(&s), " port  VLAN  MAC                Age\n"
                                     "    2     0  02:00:00:00:00:02   10\n");
    ds_destroy(&s);
    assert_int_equal(mac_learning_run(ml, 500 * 1000), 1);
    assert_int_equal(mac_learning_count(ml), 0);
    mac_learning_destroy(ml);
}

static void
test_full_table_evicts_least_recently_used(void **state)
{
    struct mac_learning *ml = mac_learning_create(0, 4, NULL);
    uint32_t port;

    (void)state;
    for (uint32_t i = 1; i <= 4; i++) {
        mac_learning_learn(ml, 0, mac_n(i), i, i);
    }
    /* Refresh 1: now 2 is the least recently used. */
    mac_learning_learn(ml, 0, mac_n(1), 1, 10);
    mac_learning_learn(ml, 0, mac_n(5), 5, 11);
    assert_int_equal(mac_learning_count(ml), 4);
    assert_false(mac_learning_lookup(ml, 0, mac_n(2), 11, &port));
    assert_true(mac_learning_lookup(ml, 0, mac_n(1), 11, &port));
    assert_true(mac_learning_lookup(ml, 0, mac_n(5), 11, &port));
    mac_learning_learn(ml, 0, mac_n(6), 6, 12);
    assert_false(mac_learning_lookup(ml, 0, mac_n(3), 12, &port));
    mac_learning_destroy(ml);
}

struct learner {
    struct mac_learning *ml;
    uint32_t id;
};

static void *
learner_main(void *l_)
{
    struct learner *l = l_;

    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t n = (i * 7919 + l->id) % 3000;
        uint32_t port;

        mac_learning_learn(l->ml, (uint16_t)(n % 3), mac_n(n), l->id, i + 1);
        if (mac_learning_lookup(l->ml, 0, mac_n(i % 3000), i, &port)) {
            assert_true(port >= 1 && port <= 4);
        }
        if (i % 5000 == 0) {
            mac_learning_run(l->ml, i);
        }
    }
    return NULL;
}

static void
test_concurrent_learners(void **state)
{
    struct mac_learning *ml = mac_learning_create(0, 1024, NULL);
    struct learner learners[4];
    pthread_t threads[4];

    (void)state;
    for (uint32_t i = 0; i < 4; i++) {
        learners[i] = (struct learner){ml, i + 1};
        pthread_create(&threads[i], NULL, learner_main, &learners[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_true(mac_learning_count(ml) <= 1024);
    assert_true(mac_learning_count(ml) > 0);
    mac_learning_destroy(ml);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_lookup_and_move),
        cmocka_unit_test(test_entries_age_out),
        cmocka_unit_test(test_full_table_evicts_least_recently_used),
        cmocka_unit_test(test_concurrent_learners),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
