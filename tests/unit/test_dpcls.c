/* Unit tests for src/datapath/dpcls: the megaflow classifier against a
 * linear scan (random flows, 24 random masks, tens of thousands of
 * lookups), batch lookups against single lookups, subtable re-ordering,
 * table growth, shrinkage and tombstone churn, and lock-free readers
 * racing a writer (QSBR, as the datapath uses it).
 *
 * DPCLS_SEED=S changes the random seed. */
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

#include <cmocka.h>

#include "unit-tsan.h"

#include "datapath/dpcls.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/rcu.h"

static uint64_t base_seed = 0xd9c15eedULL;

static uint64_t
rnd64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rnd64(s) >> 32) % n;
}

/* ---- Test rules and the linear reference -------------------------------- */

struct trule {
    struct match match; /* What the linear scan matches against. */
    int id;
    bool live;
    uint32_t magic;
    struct dpcls_rule cr; /* Last. */
};

#define TRULE_MAGIC 0x7e57ab1e

static struct trule *
trule_create(const struct flow *flow, const struct flow_wildcards *mask,
             int id)
{
    uint64_t map = flow_wildcards_map(mask);
    struct trule *r =
        calloc(1, offsetof(struct trule, cr) + dpcls_rule_size_map(map));

    match_init(&r->match, flow, mask);
    r->id = id;
    r->magic = TRULE_MAGIC;
    /* Half the rules the way a datapath put makes them (map given). */
    if (id % 2) {
        dpcls_rule_init_map(&r->cr, flow, mask, map);
    } else {
        dpcls_rule_init(&r->cr, flow, mask);
    }
    return r;
}

static struct trule *
trule_of(struct dpcls_rule *cr)
{
    return cr ? CONTAINER_OF(cr, struct trule, cr) : NULL;
}

struct tset {
    struct trule **rules;
    size_t n, allocated;
};

static void
tset_add(struct tset *set, struct trule *r)
{
    if (set->n == set->allocated) {
        set->allocated = set->allocated ? 2 * set->allocated : 64;
        set->rules = realloc(set->rules, set->allocated * sizeof *set->rules);
    }
    set->rules[set->n++] = r;
}

/* Number of live rules that match 'flow'; '*onep' gets one of them. */
static size_t
tset_matches(const struct tset *set, const struct flow *flow,
             const struct trule *candidate, bool *candidate_matches)
{
    size_t n = 0;

    *candidate_matches = false;
    for (size_t i = 0; i < set->n; i++) {
        const struct trule *r = set->rules[i];

        if (r->live && match_matches_flow(&r->match, flow)) {
            n++;
            if (r == candidate) {
                *candidate_matches = true;
            }
        }
    }
    return n;
}

/* Immediate "grace period": the single-threaded tests have no reader
 * running while they write, and freeing at once lets ASan catch a writer
 * that touches what it retired. */
static void
postpone_now(void (*fn)(void *), void *arg, void *aux)
{
    (void)aux;
    fn(arg);
}

/* ---- Random flows and masks --------------------------------------------- */

static void
random_flow(struct flow *f, uint64_t *s)
{
    static const uint16_t dports[] = {80, 443, 53, 22, 8080, 123};

    memset(f, 0, sizeof *f);
    f->in_port = 1 + rnd_below(s, 4);
    f->dl_src.ea[0] = 0x02;
    f->dl_src.ea[5] = (uint8_t)rnd_below(s, 4);
    f->dl_dst.ea[0] = 0x02;
    f->dl_dst.ea[5] = (uint8_t)rnd_below(s, 4);
    if (!rnd_below(s, 8)) {
        f->vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
        f->vlans[0].tci = htons(VLAN_CFI | rnd_below(s, 4));
    }
    if (rnd_below(s, 10)) {
        f->dl_type = htons(ETH_TYPE_IP);
        f->nw_src = htonl(0x0a000000 | rnd_below(s, 4) << 8 | rnd_below(s, 8));
        f->nw_dst = htonl(0x0a010000 | rnd_below(s, 4) << 8 | rnd_below(s, 8));
    } else {
        f->dl_type = htons(ETH_TYPE_IPV6);
        f->ipv6_src.s6_addr[0] = 0x20;
        f->ipv6_src.s6_addr[15] = (uint8_t)rnd_below(s, 8);
        f->ipv6_dst.s6_addr[0] = 0x20;
        f->ipv6_dst.s6_addr[15] = (uint8_t)rnd_below(s, 8);
    }
    f->nw_proto = rnd_below(s, 2) ? IPPROTO_TCP_ : IPPROTO_UDP_;
    f->nw_ttl = 64;
    f->nw_tos = (uint8_t)(rnd_below(s, 2) * 4);
    f->tp_src = htons((uint16_t)(1000 + rnd_below(s, 8)));
    f->tp_dst = htons(dports[rnd_below(s, ARRAY_SIZE(dports))]);
}

static be32
prefix32(unsigned int plen)
{
    return htonl(plen ? UINT32_MAX << (32 - plen) : 0);
}

static void
random_mask(struct flow_wildcards *wc, uint64_t *s)
{
    struct flow *m = &wc->masks;

    flow_wildcards_init_catchall(wc);
    if (rnd_below(s, 10) < 7) {
        m->in_port = UINT32_MAX;
    }
    if (rnd_below(s, 10) < 3) {
        m->dl_src = ETH_ADDR_BROADCAST;
    }
    if (rnd_below(s, 10) < 3) {
        m->dl_dst = ETH_ADDR_BROADCAST;
    }
    if (rnd_below(s, 10) < 8) {
        m->dl_type = UINT16_MAX;
    }
    if (rnd_below(s, 10) < 2) {
        m->vlans[0].tci = htons(0x1fff);
    }
    if (rnd_below(s, 2)) {
        m->nw_src = prefix32(24 + rnd_below(s, 9));
    }
    if (rnd_below(s, 2)) {
        m->nw_dst = prefix32(16 + rnd_below(s, 17));
    }
    if (rnd_below(s, 5) < 1) {
        memset(&m->ipv6_src, 0xff, sizeof m->ipv6_src);
    }
    if (rnd_below(s, 2)) {
        m->nw_proto = UINT8_MAX;
    }
    if (rnd_below(s, 5) < 1) {
        m->nw_tos = 0xfc;
    }
    if (rnd_below(s, 10) < 3) {
        m->tp_src = UINT16_MAX;
    }
    if (rnd_below(s, 2) || !m->in_port) {
        /* Every mask has in_port or tp_dst, so that the "stranger" flows
         * of random_lookup_flow() miss. */
        m->tp_dst = rnd_below(s, 2) ? UINT16_MAX : htons(0xff00);
    }
}

/* A flow to look up: mostly like the rules' flows, sometimes a stranger
 * that no rule matches. */
static void
random_lookup_flow(struct flow *f, uint64_t *s)
{
    random_flow(f, s);
    if (!rnd_below(s, 10)) {
        f->in_port = 99;
        f->tp_dst = htons(9999);
    }
}

/* Fills 'masks' with 'n' distinct random masks. */
static void
random_masks(struct flow_wildcards *masks, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n;) {
        bool dup = false;

        random_mask(&masks[i], s);
        for (size_t j = 0; j < i; j++) {
            dup |= flow_wildcards_equal(&masks[i], &masks[j]);
        }
        if (!dup) {
            i++;
        }
    }
}

/* Inserts up to 'per_mask' rules per mask (duplicates skipped). */
static void
populate(struct dpcls *cls, struct tset *set,
         const struct flow_wildcards *masks, size_t n_masks, size_t per_mask,
         uint64_t *s)
{
    for (size_t k = 0; k < n_masks; k++) {
        for (size_t i = 0; i < per_mask; i++) {
            struct flow flow;
            struct trule *r;

            random_flow(&flow, s);
            if (dpcls_find_exact(cls, &flow, &masks[k])) {
                continue;
            }
            r = trule_create(&flow, &masks[k], (int)set->n);
            dpcls_insert(cls, &r->cr, &masks[k]);
            r->live = true;
            tset_add(set, r);
        }
    }
}

struct check_counts {
    size_t lookups, none, exactly_one, several;
};

/* Looks 'flow' up and checks the answer against the linear scan. */
static struct trule *
check_one(const struct dpcls *cls, const struct tset *set,
          const struct flow *flow, struct check_counts *counts)
{
    struct trule *got = trule_of(dpcls_lookup(cls, flow, NULL));
    bool got_matches;
    size_t n = tset_matches(set, flow, got, &got_matches);

    counts->lookups++;
    if (!n) {
        assert_null(got);
        counts->none++;
    } else {
        assert_non_null(got);
        assert_true(got->live);
        assert_true(got_matches);
        if (n == 1) {
            counts->exactly_one++;
        } else {
            counts->several++;
        }
    }
    return got;
}

static void
destroy_all(struct dpcls *cls, struct tset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        if (set->rules[i]->live) {
            dpcls_remove(cls, &set->rules[i]->cr);
        }
        free(set->rules[i]);
    }
    free(set->rules);
    memset(set, 0, sizeof *set);
    assert_int_equal(dpcls_count(cls), 0);
    assert_int_equal(dpcls_n_subtables(cls), 0);
    dpcls_destroy(cls);
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_empty_classifier_finds_nothing(void **state)
{
    struct dpcls cls;
    struct flow flow;
    uint64_t s = base_seed;

    (void)state;
    dpcls_init(&cls, postpone_now, NULL);
    random_flow(&flow, &s);
    assert_null(dpcls_lookup(&cls, &flow, NULL));
    assert_int_equal(dpcls_count(&cls), 0);
    assert_int_equal(dpcls_n_subtables(&cls), 0);
    assert_false(dpcls_sort(&cls));
    dpcls_destroy(&cls);
}

static void
test_rule_match_round_trips_and_find_exact(void **state)
{
    struct flow_wildcards masks[8];
    struct dpcls cls;
    struct tset set = {0};
    uint64_t s = base_seed + 1;

    (void)state;
    dpcls_init(&cls, postpone_now, NULL);
    random_masks(masks, ARRAY_SIZE(masks), &s);
    populate(&cls, &set, masks, ARRAY_SIZE(masks), 20, &s);
    assert_int_equal(dpcls_count(&cls), set.n);
    assert_int_equal(dpcls_n_subtables(&cls), ARRAY_SIZE(masks));
    for (size_t i = 0; i < set.n; i++) {
        struct trule *r = set.rules[i];
        struct match m;

        dpcls_rule_get_match(&r->cr, &m);
        assert_true(match_equal(&m, &r->match));
        assert_ptr_equal(dpcls_find_exact(&cls, &r->match.flow, &r->match.wc),
                         &r->cr);
        /* A flow equal to the key matches the rule. */
        assert_true(dpcls_rule_matches_flow(&r->cr, &r->match.flow));
    }
    destroy_all(&cls, &set);
}

static void
test_lookups_agree_with_linear_scan(void **state)
{
    struct flow_wildcards masks[24];
    struct check_counts counts = {0};
    struct dpcls cls;
    struct tset set = {0};
    uint64_t s = base_seed + 2;

    (void)state;
    UNIT_SINGLE_THREADED();
    dpcls_init(&cls, postpone_now, NULL);
    random_masks(masks, ARRAY_SIZE(masks), &s);
    populate(&cls, &set, masks, ARRAY_SIZE(masks), 250, &s);
    assert_int_equal(dpcls_n_subtables(&cls), ARRAY_SIZE(masks));

    for (int i = 0; i < 12000; i++) {
        struct flow flow;

        random_lookup_flow(&flow, &s);
        check_one(&cls, &set, &flow, &counts);
    }
    /* Also the rules' own keys, which always hit. */
    for (size_t i = 0; i < set.n; i++) {
        assert_non_null(
            check_one(&cls, &set, &set.rules[i]->match.flow, &counts));
    }
    assert_true(counts.lookups >= 10000);
    assert_true(counts.none > 0);
    assert_true(counts.exactly_one > 100);

    /* Remove a random half and check again. */
    for (size_t i = 0; i < set.n; i++) {
        if (rnd_below(&s, 2)) {
            dpcls_remove(&cls, &set.rules[i]->cr);
            set.rules[i]->live = false;
        }
    }
    for (int i = 0; i < 5000; i++) {
        struct flow flow;

        random_lookup_flow(&flow, &s);
        check_one(&cls, &set, &flow, &counts);
    }
    destroy_all(&cls, &set);
}

static void
test_batch_lookup_equals_single_lookups(void **state)
{
    struct flow_wildcards masks[20];
    struct dpcls_lookup_stats st = {0, 0};
    struct dpcls cls;
    struct tset set = {0};
    uint64_t s = base_seed + 3;
    size_t total_hits = 0;

    (void)state;
    dpcls_init(&cls, postpone_now, NULL);
    random_masks(masks, ARRAY_SIZE(masks), &s);
    populate(&cls, &set, masks, ARRAY_SIZE(masks), 200, &s);

    for (int iter = 0; iter < 2000; iter++) {
        struct flow flows[DPCLS_BATCH_MAX];
        const struct flow *ptrs[DPCLS_BATCH_MAX];
        struct dpcls_rule *rules[DPCLS_BATCH_MAX];
        size_t n = 1 + rnd_below(&s, DPCLS_BATCH_MAX);
        size_t hits, expect = 0;

        for (size_t i = 0; i < n; i++) {
            random_flow(&flows[i], &s);
            ptrs[i] = &flows[i];
        }
        hits = dpcls_lookup_batch(&cls, ptrs, n, rules, &st);
        for (size_t i = 0; i < n; i++) {
            assert_ptr_equal(rules[i], dpcls_lookup(&cls, &flows[i], NULL));
            expect += rules[i] != NULL;
        }
        assert_int_equal(hits, expect);
        total_hits += hits;
    }
    assert_int_equal(st.n_hits, total_hits);
    assert_true(st.n_subtable_probes >= st.n_hits);
    destroy_all(&cls, &set);
}

static void
test_reordering_subtables_does_not_change_unique_answers(void **state)
{
    enum { N_FLOWS = 4000 };
    struct flow_wildcards masks[20];
    struct check_counts counts = {0};
    struct flow *flows;
    struct trule **before;
    struct dpcls cls;
    struct tset set = {0};
    uint64_t s = base_seed + 4;
    bool reordered = false;

    (void)state;
    UNIT_SINGLE_THREADED();
    flows = calloc(N_FLOWS, sizeof *flows);
    before = calloc(N_FLOWS, sizeof *before);
    dpcls_init(&cls, postpone_now, NULL);
    random_masks(masks, ARRAY_SIZE(masks), &s);
    populate(&cls, &set, masks, ARRAY_SIZE(masks), 150, &s);
    for (size_t i = 0; i < N_FLOWS; i++) {
        random_flow(&flows[i], &s);
        before[i] = check_one(&cls, &set, &flows[i], &counts);
    }

    for (int round = 0; round < 5; round++) {
        /* Skewed traffic: the keys of the rules of one mask, picked at
         * random each round, so that its subtable gets busy. */
        size_t k = rnd_below(&s, ARRAY_SIZE(masks));

        for (size_t i = 0; i < set.n; i++) {
            if (flow_wildcards_equal(&set.rules[i]->match.wc, &masks[k])) {
                for (int rep = 0; rep < 20; rep++) {
                    dpcls_lookup(&cls, &set.rules[i]->match.flow, NULL);
                }
            }
        }
        reordered |= dpcls_sort(&cls);

        for (size_t i = 0; i < N_FLOWS; i++) {
            struct trule *got = trule_of(dpcls_lookup(&cls, &flows[i], NULL));
            bool got_matches;
            size_t n = tset_matches(&set, &flows[i], got, &got_matches);

            if (n <= 1) {
                assert_ptr_equal(got, before[i]);
            } else {
                assert_true(got_matches);
            }
            /* Deterministic for a given order. */
            assert_ptr_equal(dpcls_lookup(&cls, &flows[i], NULL), &got->cr);
        }
    }
    assert_true(reordered);
    free(flows);
    free(before);
    destroy_all(&cls, &set);
}

static void
test_tables_grow_shrink_and_reuse_tombstones(void **state)
{
    struct flow_wildcards mask;
    struct check_counts counts = {0};
    struct dpcls cls;
    struct tset set = {0};
    uint64_t s = base_seed + 5;

    (void)state;
    UNIT_SINGLE_THREADED();
    /* One mask, many rules: exact on in_port, nw_src, nw_dst, tp_dst. */
    flow_wildcards_init_catchall(&mask);
    mask.masks.in_port = UINT32_MAX;
    mask.masks.nw_src = UINT32_MAX;
    mask.masks.nw_dst = UINT32_MAX;
    mask.masks.tp_dst = UINT16_MAX;
    dpcls_init(&cls, postpone_now, NULL);

    for (int i = 0; i < 20000; i++) {
        struct flow flow;
        struct trule *r;

        memset(&flow, 0, sizeof flow);
        flow.in_port = (uint32_t)(i % 7);
        flow.nw_src = htonl(0x0a000000u + (uint32_t)i);
        flow.nw_dst = htonl(0x0b000000u + (uint32_t)(i * 31));
        flow.tp_dst = htons((uint16_t)i);
        r = trule_create(&flow, &mask, i);
        dpcls_insert(&cls, &r->cr, &mask);
        r->live = true;
        tset_add(&set, r);
    }
    assert_int_equal(dpcls_count(&cls), 20000);
    for (size_t i = 0; i < set.n; i += 7) {
        assert_ptr_equal(dpcls_lookup(&cls, &set.rules[i]->match.flow, NULL),
                         &set.rules[i]->cr);
    }

    /* Churn: remove and re-insert, so slots become tombstones and are
     * reused, then shrink to a few rules. */
    for (int round = 0; round < 10; round++) {
        for (size_t i = 0; i < set.n; i++) {
            struct trule *r = set.rules[i];

            if (rnd_below(&s, 3) == 0) {
                if (r->live) {
                    dpcls_remove(&cls, &r->cr);
                } else {
                    dpcls_insert(&cls, &r->cr, &mask);
                }
                r->live = !r->live;
            }
        }
        for (size_t i = 0; i < set.n; i += 13) {
            struct trule *r = set.rules[i];
            struct trule *got =
                trule_of(dpcls_lookup(&cls, &r->match.flow, NULL));

            assert_ptr_equal(got, r->live ? r : NULL);
        }
    }
    for (size_t i = 10; i < set.n; i++) {
        if (set.rules[i]->live) {
            dpcls_remove(&cls, &set.rules[i]->cr);
            set.rules[i]->live = false;
        }
    }
    for (size_t i = 0; i < set.n; i++) {
        check_one(&cls, &set, &set.rules[i]->match.flow, &counts);
    }
    destroy_all(&cls, &set);
}

static void
test_catchall_mask_matches_everything(void **state)
{
    struct flow_wildcards catchall;
    struct dpcls cls;
    struct flow flow;
    struct trule *r;
    uint64_t s = base_seed + 6;

    (void)state;
    flow_wildcards_init_catchall(&catchall);
    dpcls_init(&cls, postpone_now, NULL);
    random_flow(&flow, &s);
    r = trule_create(&flow, &catchall, 0);
    dpcls_insert(&cls, &r->cr, &catchall);
    for (int i = 0; i < 100; i++) {
        random_flow(&flow, &s);
        assert_ptr_equal(dpcls_lookup(&cls, &flow, NULL), &r->cr);
    }
    dpcls_remove(&cls, &r->cr);
    assert_null(dpcls_lookup(&cls, &flow, NULL));
    free(r);
    dpcls_destroy(&cls);
}

/* ---- Concurrent readers ------------------------------------------------- */

struct race {
    struct dpcls cls;
    struct rcu_qsbr_queue *rcu;
    pthread_mutex_t mutex; /* The writer's. */
    struct flow_wildcards masks[6];
    bool stop;         /* Atomic. */
    uint64_t lookups;  /* Atomic. */
    uint64_t bad;      /* Atomic: wrong answers (asserted in main). */
    uint64_t progress; /* Atomic: batches looked up so far. */
};

static void *
race_reader(void *race_)
{
    struct race *race = race_;
    uint64_t s = base_seed + (uint64_t)(uintptr_t)&s;
    uint64_t n = 0;

    rcu_qsbr_thread_register();
    while (!atomic_load_relaxed(&race->stop)) {
        struct flow flows[DPCLS_BATCH_MAX];
        const struct flow *ptrs[DPCLS_BATCH_MAX];
        struct dpcls_rule *rules[DPCLS_BATCH_MAX];

        for (size_t i = 0; i < DPCLS_BATCH_MAX; i++) {
            random_flow(&flows[i], &s);
            ptrs[i] = &flows[i];
        }
        dpcls_lookup_batch(&race->cls, ptrs, DPCLS_BATCH_MAX, rules, NULL);
        for (size_t i = 0; i < DPCLS_BATCH_MAX; i++) {
            struct trule *r = trule_of(rules[i]);

            /* Not freed (ASan would say), and really a match. */
            if (r
                && (r->magic != TRULE_MAGIC
                    || !match_matches_flow(&r->match, &flows[i]))) {
                atomic_fetch_add_relaxed(&race->bad, 1);
            }
        }
        n += DPCLS_BATCH_MAX;
        atomic_fetch_add_relaxed(&race->progress, 1);
        rcu_qsbr_quiesce();
    }
    atomic_fetch_add_relaxed(&race->lookups, n);
    rcu_qsbr_thread_unregister();
    return NULL;
}

static void
test_readers_race_a_writer_without_locks(void **state)
{
    struct race race;
    pthread_t readers[2];
    struct trule *live[512] = {0};
    uint64_t s = base_seed + 7;

    (void)state;
    memset(&race, 0, sizeof race);
    race.rcu = rcu_qsbr_queue_create();
    dpcls_init(&race.cls, rcu_qsbr_queue_postpone_hook, race.rcu);
    random_masks(race.masks, ARRAY_SIZE(race.masks), &s);
    for (size_t i = 0; i < ARRAY_SIZE(readers); i++) {
        pthread_create(&readers[i], NULL, race_reader, &race);
    }

    /* Start writing once the readers are reading. */
    while (!atomic_load_relaxed(&race.progress)) {
        sched_yield();
    }
    for (int op = 0; op < 20000; op++) {
        size_t slot = rnd_below(&s, ARRAY_SIZE(live));

        if (live[slot]) {
            dpcls_remove(&race.cls, &live[slot]->cr);
            rcu_qsbr_queue_postpone(race.rcu, free, live[slot]);
            live[slot] = NULL;
        } else {
            const struct flow_wildcards *mask =
                &race.masks[rnd_below(&s, ARRAY_SIZE(race.masks))];
            struct flow flow;

            random_flow(&flow, &s);
            if (!dpcls_find_exact(&race.cls, &flow, mask)) {
                live[slot] = trule_create(&flow, mask, op);
                dpcls_insert(&race.cls, &live[slot]->cr, mask);
            }
        }
        if (op % 64 == 0) {
            dpcls_sort(&race.cls);
        }
        if (op % 256 == 0) {
            rcu_qsbr_queue_reclaim(race.rcu);
        }
    }

    atomic_store_relaxed(&race.stop, true);
    for (size_t i = 0; i < ARRAY_SIZE(readers); i++) {
        pthread_join(readers[i], NULL);
    }
    assert_true(atomic_load_relaxed(&race.lookups) > 0);
    assert_int_equal(atomic_load_relaxed(&race.bad), 0);
    for (size_t i = 0; i < ARRAY_SIZE(live); i++) {
        if (live[i]) {
            dpcls_remove(&race.cls, &live[i]->cr);
            rcu_qsbr_queue_postpone(race.rcu, free, live[i]);
        }
    }
    rcu_qsbr_queue_destroy(race.rcu);
    dpcls_destroy(&race.cls);
}

/* A rule initialized with its mask's map (as a datapath put does, having
 * computed the map once) is byte for byte the rule made from the mask. */
static void
test_rule_made_with_its_map_equals_rule_made_from_the_mask(void **state)
{
    struct flow_wildcards mask;
    struct flow flow;
    uint64_t map;
    size_t size;

    (void)state;
    memset(&flow, 0, sizeof flow);
    flow_wildcards_init_catchall(&mask);
    flow.in_port = 3;
    mask.masks.in_port = UINT32_MAX;
    flow.nw_src = htonl(0x0a0000ff);
    mask.masks.nw_src = htonl(0xffffff00);
    flow.tp_dst = htons(443);
    mask.masks.tp_dst = UINT16_MAX;
    map = flow_wildcards_map(&mask);
    size = dpcls_rule_size(&mask);
    assert_int_equal(dpcls_rule_size_map(map), size);

    struct dpcls_rule *a = calloc(1, size), *b = calloc(1, size);

    dpcls_rule_init(a, &flow, &mask);
    dpcls_rule_init_map(b, &flow, &mask, map);
    assert_memory_equal(a, b, size);
    free(a);
    free(b);
}

int
main(void)
{
    const char *seed = getenv("DPCLS_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_classifier_finds_nothing),
        cmocka_unit_test(test_rule_match_round_trips_and_find_exact),
        cmocka_unit_test(
            test_rule_made_with_its_map_equals_rule_made_from_the_mask),
        cmocka_unit_test(test_lookups_agree_with_linear_scan),
        cmocka_unit_test(test_batch_lookup_equals_single_lookups),
        cmocka_unit_test(
            test_reordering_subtables_does_not_change_unique_answers),
        cmocka_unit_test(test_tables_grow_shrink_and_reuse_tombstones),
        cmocka_unit_test(test_catchall_mask_matches_everything),
        cmocka_unit_test(test_readers_race_a_writer_without_locks),
    };

    if (seed) {
        base_seed = strtoull(seed, NULL, 0);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
