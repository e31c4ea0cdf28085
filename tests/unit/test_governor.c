/* Unit tests for src/upcall/governor.c: engagement thresholds and
 * hysteresis, install on the 5th packet, table resizing by generation
 * duration, the long-flow shortcut, forced modes.  Time is injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/coverage.h"
#include "upcall/governor.h"

static void
test_governor_engages_at_half_the_flow_limit(void **state)
{
    struct governor *g = governor_create("t", 0);

    (void)state;
    assert_false(governor_run(g, 499, 1000, 0));
    assert_true(governor_should_install(g, 1, 0));
    assert_true(governor_run(g, 500, 1000, 0));
    assert_true(governor_is_engaged(g));
    governor_destroy(g);
}

static void
test_governor_disengages_below_quarter_once_idle(void **state)
{
    struct governor *g = governor_create("t", 0);

    (void)state;
    assert_true(governor_run(g, 600, 1000, 0));
    /* Below half but not below a quarter: stays engaged, however long. */
    assert_true(governor_run(g, 250, 1000, 20000));
    /* Below a quarter, table at its minimum, but the generation is
     * younger than 5 s (the one above ended at 20 s): not idle yet. */
    assert_true(governor_run(g, 249, 1000, 20000 + 4999));
    assert_false(governor_run(g, 249, 1000, 20000 + 5000));
    governor_destroy(g);
}

/* A trickle of misses (2/s) must not keep the governor engaged once the
 * datapath holds few flows: its generations end by time, so it is idle
 * once its table is back at the minimum size. */
static void
test_governor_disengages_under_a_trickle_of_misses(void **state)
{
    struct governor *g = governor_create("t", 0);
    uint64_t now = 0;

    (void)state;
    assert_true(governor_run(g, 6000, 10000, now));
    while (now < 15000 && governor_is_engaged(g)) {
        now += 500;
        if (governor_run(g, 100, 10000, now)) {
            governor_should_install(g, (uint32_t)now * 2654435761u, now);
        }
    }
    assert_false(governor_is_engaged(g));
    governor_destroy(g);
}

/* After a storm has grown the table, a trickle disengages the governor
 * only once the table has halved back to its minimum, one 5-s
 * generation at a time: the storm's end is not mistaken for idleness. */
static void
test_governor_stays_engaged_until_its_table_shrinks(void **state)
{
    struct governor *g = governor_create("t", 0);
    struct governor_info info;
    uint64_t now = 0;

    (void)state;
    governor_run(g, 6000, 10000, now);
    /* A storm: one-packet flows, every generation shorter than 1 s. */
    now = 10;
    governor_get_info(g, &info);
    for (uint32_t i = 0; info.size < GOVERNOR_MAX_SIZE; i++) {
        governor_should_install(g, i * 2654435761u, now);
        governor_get_info(g, &info);
    }

    /* 256 -> 128 -> 64 -> 32 -> 16 KiB, 5 s each, then 5 s idle. */
    for (uint64_t t = 500; t < 25000; t += 500) {
        assert_true(governor_run(g, 100, 10000, now + t));
        governor_should_install(g, (uint32_t)t * 2654435761u, now + t);
    }
    assert_false(governor_run(g, 100, 10000, now + 25000));
    governor_get_info(g, &info);
    assert_int_equal(info.size, GOVERNOR_MIN_SIZE);
    governor_destroy(g);
}

static void
test_governor_installs_flow_on_its_fifth_packet(void **state)
{
    struct governor *g = governor_create("t", 0);
    uint64_t supp = coverage_read("governor_suppressed");
    uint64_t inst = coverage_read("governor_installed");
    struct governor_info info;

    (void)state;
    governor_run(g, 1000, 1000, 0);
    for (int i = 1; i < GOVERNOR_THRESHOLD; i++) {
        assert_false(governor_should_install(g, 0x12345678, 1));
    }
    assert_true(governor_should_install(g, 0x12345678, 1));
    /* Another flow starts from zero. */
    assert_false(governor_should_install(g, 0x12345679, 1));
    assert_int_equal(coverage_read("governor_suppressed") - supp,
                     GOVERNOR_THRESHOLD);
    assert_int_equal(coverage_read("governor_installed") - inst, 1);
    governor_get_info(g, &info);
    assert_true(info.engaged);
    assert_int_equal(info.threshold, 5);
    assert_int_equal(info.size, (size_t)16 * 1024);
    assert_int_equal(info.n_suppressed, GOVERNOR_THRESHOLD);
    assert_int_equal(info.n_installed, 1);
    governor_destroy(g);
}

/* Fills a generation of a 'size' table with single packets of distinct
 * hashes, after the one packet that started it ('started'). */
static void
feed_generation(struct governor *g, size_t size, bool started, uint64_t now)
{
    for (size_t i = started; i < size / 4; i++) {
        governor_should_install(g, (uint32_t)i, now);
    }
}

static void
test_governor_table_doubles_on_fast_generations(void **state)
{
    struct governor *g = governor_create("t", 0);
    struct governor_info info;
    uint64_t now = 0;

    (void)state;
    governor_run(g, 1000, 1000, 0);
    for (size_t size = (size_t)16 * 1024; size <= (size_t)256 * 1024;
         size *= 2) {
        feed_generation(g, size, size > (size_t)16 * 1024, now);
        governor_get_info(g, &info);
        assert_int_equal(info.size, size);
        /* The next packet ends the generation (< 1 s): double. */
        governor_should_install(g, 99, now + 10);
        now += 10;
    }
    governor_get_info(g, &info);
    assert_int_equal(info.size, (size_t)256 * 1024); /* Capped. */

    /* A slow generation (> 5 s) halves it. */
    feed_generation(g, (size_t)256 * 1024, true, now);
    governor_should_install(g, 99, now + 5001);
    governor_get_info(g, &info);
    assert_int_equal(info.size, (size_t)128 * 1024);
    /* Between 1 s and 5 s: unchanged. */
    now += 5001;
    feed_generation(g, (size_t)128 * 1024, true, now);
    governor_should_install(g, 99, now + 3000);
    governor_get_info(g, &info);
    assert_int_equal(info.size, (size_t)128 * 1024);
    governor_destroy(g);
}

/* Spreads flow numbers over the hash space, as a flow hash would. */
static uint32_t
flow_hash(uint32_t flow)
{
    flow ^= flow >> 16;
    flow *= 0x85ebca6b;
    flow ^= flow >> 13;
    flow *= 0xc2b2ae35;
    flow ^= flow >> 16;
    return flow;
}

static void
test_governor_long_flow_shortcut(void **state)
{
    struct governor *g = governor_create("t", 0);
    const uint32_t big = 1u << 28; /* Top nibble 1: not sampled. */
    struct governor_info info;
    size_t n = 0;

    (void)state;
    governor_run(g, 1000, 1000, 0);
    /* 819 flows of 5 packets: every flow reaches the threshold. */
    for (uint32_t f = 0; f < 819; f++) {
        for (int p = 0; p < 5; p++) {
            governor_should_install(g, big | f, 2000);
            n++;
        }
    }
    /* Fill the generation (4096 packets) and end it, 2 s after start. */
    while (n < 4096) {
        governor_should_install(g, big | 0, 2000);
        n++;
    }
    governor_should_install(g, big | 5000, 2000);
    governor_get_info(g, &info);
    assert_true(info.shortcut);
    assert_int_equal(info.size, (size_t)16 * 1024);
    /* New flows now install on their first packet... */
    assert_true(governor_should_install(g, big | 6000, 2001));
    /* ...except the sample, which still counts. */
    assert_false(governor_should_install(g, 6001, 2001));

    /* A generation of one-packet flows turns the shortcut off: the
     * sampled ones among them never reach the threshold. */
    for (uint32_t i = 0; i < 4096; i++) {
        governor_should_install(g, flow_hash(7000 + i), 4000);
    }
    governor_get_info(g, &info);
    assert_false(info.shortcut);
    assert_false(governor_should_install(g, big | 20000, 4001));
    governor_destroy(g);
}

struct shortcut_run {
    uint64_t generations; /* Generations completed by the end. */
    unsigned int n_on;    /* Generations that started with the shortcut. */
    unsigned int n_flips; /* Times the shortcut turned on or off. */
    bool sizes_steady;    /* The table never changed size. */
};

/* Offers 'n_gens' generations' worth of flows of 'n_pkts' packets each, one
 * flow after another, as a handler sees them: a flow's packets stop coming
 * once the governor lets it be installed (the datapath forwards the rest).
 * One packet a millisecond, so that a generation (4096 packets) lasts
 * between 1 s and 5 s and the table keeps its size. */
static void
run_flows(int n_pkts, uint64_t n_gens, struct shortcut_run *r)
{
    struct governor *g = governor_create("t", 0);
    struct governor_info info;
    bool shortcut = false;
    uint64_t now = 0;

    memset(r, 0, sizeof *r);
    r->sizes_steady = true;
    governor_run(g, 1000, 1000, now);
    governor_get_info(g, &info);
    for (uint32_t flow = 0; info.generation < n_gens; flow++) {
        for (int p = 0; p < n_pkts; p++) {
            bool install = governor_should_install(g, flow_hash(flow), ++now);
            uint64_t gen = info.generation;

            governor_get_info(g, &info);
            if (info.generation != gen) {
                r->n_on += info.shortcut;
                r->n_flips += info.shortcut != shortcut;
                shortcut = info.shortcut;
                r->sizes_steady &= info.size == GOVERNOR_MIN_SIZE;
            }
            if (install) {
                break;
            }
        }
    }
    r->generations = info.generation;
    governor_destroy(g);
}

/* Long flows: the shortcut turns on after the first generation and stays
 * on, although the flows it lets through on their first packet never come
 * back to be counted. */
static void
test_governor_shortcut_stays_on_for_long_flows(void **state)
{
    struct shortcut_run r;

    (void)state;
    run_flows(20, 12, &r);
    assert_int_equal(r.generations, 12);
    assert_int_equal(r.n_flips, 1);
    assert_int_equal(r.n_on, 12);
    assert_true(r.sizes_steady);
}

/* Short flows never reach the threshold: the shortcut stays off. */
static void
test_governor_shortcut_stays_off_for_short_flows(void **state)
{
    struct shortcut_run r;

    (void)state;
    run_flows(2, 12, &r);
    assert_int_equal(r.n_flips, 0);
    assert_int_equal(r.n_on, 0);
}

static void
test_governor_forced_modes(void **state)
{
    struct governor *g = governor_create("t", 0);

    (void)state;
    governor_set_mode(g, GOVERNOR_FORCE_ON);
    assert_true(governor_run(g, 0, 1000, 0));
    assert_false(governor_should_install(g, 1, 0));
    governor_set_mode(g, GOVERNOR_FORCE_OFF);
    assert_false(governor_run(g, 1000, 1000, 0));
    assert_true(governor_should_install(g, 2, 0));
    governor_set_mode(g, GOVERNOR_AUTO);
    assert_true(governor_run(g, 1000, 1000, 0));
    governor_destroy(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_governor_engages_at_half_the_flow_limit),
        cmocka_unit_test(test_governor_disengages_below_quarter_once_idle),
        cmocka_unit_test(test_governor_disengages_under_a_trickle_of_misses),
        cmocka_unit_test(test_governor_stays_engaged_until_its_table_shrinks),
        cmocka_unit_test(test_governor_installs_flow_on_its_fifth_packet),
        cmocka_unit_test(test_governor_table_doubles_on_fast_generations),
        cmocka_unit_test(test_governor_long_flow_shortcut),
        cmocka_unit_test(test_governor_shortcut_stays_on_for_long_flows),
        cmocka_unit_test(test_governor_shortcut_stays_off_for_short_flows),
        cmocka_unit_test(test_governor_forced_modes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
