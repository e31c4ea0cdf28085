/* Unit tests for src/upcall/governor.c: engagement thresholds and
 * hysteresis, install on the 5th packet, table resizing by generation
 * duration, the long-flow shortcut, forced modes.  Time is injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    /* Below half but not below a quarter: stays engaged. */
    assert_true(governor_run(g, 250, 1000, 5000));
    /* Below a quarter, but a packet was just counted: not idle. */
    governor_should_install(g, 7, 5000);
    assert_true(governor_run(g, 249, 1000, 5000 + GOVERNOR_IDLE_MS - 1));
    assert_false(governor_run(g, 249, 1000, 5000 + GOVERNOR_IDLE_MS));
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

    /* A generation of one-packet flows turns the shortcut off. */
    for (uint32_t i = 0; i < 4096; i++) {
        governor_should_install(g, big | (7000 + i), 4000);
    }
    governor_get_info(g, &info);
    assert_false(info.shortcut);
    assert_false(governor_should_install(g, big | 20000, 4001));
    governor_destroy(g);
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
        cmocka_unit_test(test_governor_installs_flow_on_its_fifth_packet),
        cmocka_unit_test(test_governor_table_doubles_on_fast_generations),
        cmocka_unit_test(test_governor_long_flow_shortcut),
        cmocka_unit_test(test_governor_forced_modes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
