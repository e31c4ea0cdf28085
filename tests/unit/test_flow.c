/* Unit tests for src/flow/flow.c: layout, wildcards, matches, miniflows and
 * masked hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/flow.h"

static void
random_flow(struct flow *flow, unsigned int *seed)
{
    uint8_t *p = (uint8_t *)flow;

    for (size_t i = 0; i < sizeof *flow; i++) {
        p[i] = (uint8_t)rand_r(seed);
    }
    /* Keep the padding zero, as every real flow has it. */
    struct flow_wildcards exact;
    flow_wildcards_init_exact(&exact);
    flow_apply_mask(flow, flow, &exact);
}

/* A random sparse mask: each word either all-zero, all-ones or random. */
static void
random_mask(struct flow_wildcards *wc, unsigned int *seed)
{
    struct flow_wildcards exact;
    uint64_t *w = flow_u64s_rw(&wc->masks);

    random_flow(&wc->masks, seed);
    for (size_t i = 0; i < FLOW_U64S; i++) {
        int r = rand_r(seed) % 3;
        if (r == 0) {
            w[i] = 0;
        } else if (r == 1) {
            w[i] = UINT64_MAX;
        }
    }
    flow_wildcards_init_exact(&exact);
    flow_wildcards_and(wc, wc, &exact);
}

static void
test_stages_partition_every_word(void **state)
{
    (void)state;
    uint64_t all = 0;

    for (unsigned int s = 0; s < FLOW_N_STAGES; s++) {
        uint64_t map = flow_stage_map(s);

        assert_int_not_equal(map, 0);
        assert_int_equal(all & map, 0);
        all |= map;
    }
    assert_int_equal(all, (UINT64_C(1) << FLOW_U64S) - 1);
    assert_true(flow_stage_map(0) & (UINT64_C(1) << FLOW_U64_OFS(in_port)));
    assert_true(flow_stage_map(3) & (UINT64_C(1) << FLOW_U64_OFS(tp_dst)));
}

static void
test_exact_mask_leaves_padding_wildcarded(void **state)
{
    (void)state;
    struct flow_wildcards wc;

    flow_wildcards_init_exact(&wc);
    assert_true(flow_zero_padding(&wc.masks));
    assert_true(flow_wildcards_is_exact(&wc));
    assert_false(flow_wildcards_is_catchall(&wc));
    flow_wildcards_init_catchall(&wc);
    assert_true(flow_wildcards_is_catchall(&wc));
}

static void
test_match_keeps_flow_premasked(void **state)
{
    (void)state;
    struct flow flow;
    struct flow_wildcards wc;
    struct match match;
    unsigned int seed = 1;

    for (int i = 0; i < 200; i++) {
        random_flow(&flow, &seed);
        random_mask(&wc, &seed);
        match_init(&match, &flow, &wc);
        assert_true(match_matches_flow(&match, &flow));
        for (size_t w = 0; w < FLOW_U64S; w++) {
            assert_int_equal(
                flow_u64s(&match.flow)[w] & ~flow_u64s(&wc.masks)[w], 0);
        }
        /* Flipping an exact bit breaks the match; a wildcarded one not. */
        unsigned int idx;
        MAP_FOR_EACH_INDEX (idx, flow_wildcards_map(&wc)) {
            struct flow other = flow;
            uint64_t bit =
                flow_u64s(&wc.masks)[idx] & -flow_u64s(&wc.masks)[idx];
            flow_u64s_rw(&other)[idx] ^= bit;
            assert_false(match_matches_flow(&match, &other));
        }
    }
}

static void
test_wildcards_covers_is_a_superset_check(void **state)
{
    (void)state;
    struct flow_wildcards a, b, both;
    unsigned int seed = 2;

    for (int i = 0; i < 100; i++) {
        random_mask(&a, &seed);
        random_mask(&b, &seed);
        both = a;
        flow_wildcards_or(&both, &b);
        assert_true(flow_wildcards_covers(&both, &a));
        assert_true(flow_wildcards_covers(&both, &b));
        if (!flow_wildcards_equal(&both, &a)) {
            assert_false(flow_wildcards_covers(&a, &both));
        }
    }
}

static void
test_miniflow_round_trips_and_hashes_like_flow(void **state)
{
    (void)state;
    struct flow flow, masked, back;
    struct flow_wildcards wc, wc_back;
    unsigned int seed = 3;

    for (int i = 0; i < 500; i++) {
        random_flow(&flow, &seed);
        random_mask(&wc, &seed);
        flow_apply_mask(&masked, &flow, &wc);

        struct minimask *mask = minimask_create(&wc);
        struct miniflow *mf = miniflow_create(&masked);

        miniflow_expand(mf, &back);
        assert_true(flow_equal(&back, &masked));
        minimask_expand(mask, &wc_back);
        assert_true(flow_wildcards_equal(&wc_back, &wc));

        uint32_t h1 = flow_hash_in_minimask(&flow, mask, 42);
        uint32_t h2 = miniflow_hash_in_map(mf, mask->masks.map, 42);
        uint32_t h3 = flow_hash_masked(&flow, &wc, 42);
        assert_int_equal(h1, h2);
        assert_int_equal(h1, h3);
        assert_true(miniflow_equal_flow_in_minimask(mf, &flow, mask));

        /* A flow differing on an exact bit is not equal in the mask. */
        unsigned int idx;
        MAP_FOR_EACH_INDEX (idx, mask->masks.map) {
            struct flow other = flow;
            flow_u64s_rw(&other)[idx] ^= flow_u64s(&wc.masks)[idx];
            assert_false(miniflow_equal_flow_in_minimask(mf, &other, mask));
        }
        free(mf);
        free(mask);
    }
}

static void
test_5tuple_hash_ignores_l2_but_not_ports(void **state)
{
    (void)state;
    struct flow a, b;
    unsigned int seed = 4;

    random_flow(&a, &seed);
    a.dl_type = htons(ETH_TYPE_IP);
    b = a;
    b.dl_src.ea[0] ^= 1;
    b.vlans[0].tci ^= htons(5);
    assert_int_equal(flow_hash_5tuple(&a, 0), flow_hash_5tuple(&b, 0));
    b.tp_dst ^= htons(1);
    assert_int_not_equal(flow_hash_5tuple(&a, 0), flow_hash_5tuple(&b, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_partition_every_word),
        cmocka_unit_test(test_exact_mask_leaves_padding_wildcarded),
        cmocka_unit_test(test_match_keeps_flow_premasked),
        cmocka_unit_test(test_wildcards_covers_is_a_superset_check),
        cmocka_unit_test(test_miniflow_round_trips_and_hashes_like_flow),
        cmocka_unit_test(test_5tuple_hash_ignores_l2_but_not_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
