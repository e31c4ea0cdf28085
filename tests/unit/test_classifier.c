/* Unit tests for src/classifier: rule semantics, a differential test
 * against a linear scan, megaflow soundness and minimality, versioning,
 * the prefix trie and hash tables on their own, and concurrent readers.
 *
 * CLASSIFIER_SOAK=N multiplies the random iterations (a longer run by
 * hand); CLASSIFIER_SEED=S changes the random seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit-tsan.h"

#include <pthread.h>

#include "classifier/classifier.h"
#include "classifier/cls-trie.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/rcu.h"

/* ---- Randomness and knobs ----------------------------------------------- */

static unsigned int soak = 1;
static uint64_t base_seed = 0x5eed5eedULL;

static uint64_t
rnd64(uint64_t *s)
{
    /* splitmix64. */
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t
rnd(uint64_t *s)
{
    return (uint32_t)(rnd64(s) >> 32);
}

static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
    return rnd(s) % n;
}

static void
read_knobs(void)
{
    const char *s = getenv("CLASSIFIER_SOAK");
    const char *seed = getenv("CLASSIFIER_SEED");

    if (s && atoi(s) > 0) {
        soak = (unsigned int)atoi(s);
    }
    if (seed) {
        base_seed = strtoull(seed, NULL, 0);
    }
}

/* ---- Test rules --------------------------------------------------------- */

struct trule {
    struct cls_rule cr;
    struct match match; /* What the linear scan matches against. */
    int id;
    uint64_t order; /* Insertion order, for ties. */
    bool live;
};

static struct trule *
trule_create(const struct match *match, int priority, int id)
{
    struct trule *r = calloc(1, sizeof *r);

    r->match = *match;
    match_normalize(&r->match);
    cls_rule_init(&r->cr, &r->match, priority);
    r->id = id;
    return r;
}

static void
trule_free(struct trule *r)
{
    cls_rule_destroy(&r->cr);
    free(r);
}

static void
trule_free_cb(void *r)
{
    trule_free(r);
}

static struct trule *
trule_of(const struct cls_rule *cr)
{
    return cr ? CONTAINER_OF(cr, struct trule, cr) : NULL;
}

static int
id_of(const struct cls_rule *cr)
{
    return cr ? trule_of(cr)->id : -1;
}

/* ---- Match helpers ------------------------------------------------------ */

static void
m_in_port(struct match *m, uint32_t port)
{
    m->flow.in_port = port;
    m->wc.masks.in_port = UINT32_MAX;
}

static void
m_dl_type(struct match *m, uint16_t type)
{
    m->flow.dl_type = htons(type);
    m->wc.masks.dl_type = UINT16_MAX;
}

static void
m_nw_proto(struct match *m, uint8_t proto)
{
    m->flow.nw_proto = proto;
    m->wc.masks.nw_proto = UINT8_MAX;
}

static void
m_tp_dst(struct match *m, uint16_t port)
{
    m->flow.tp_dst = htons(port);
    m->wc.masks.tp_dst = UINT16_MAX;
}

static void
m_tp_src(struct match *m, uint16_t port)
{
    m->flow.tp_src = htons(port);
    m->wc.masks.tp_src = UINT16_MAX;
}

static void
m_tp_dst_masked(struct match *m, uint16_t port, uint16_t mask)
{
    m->wc.masks.tp_dst = htons(mask);
    m->flow.tp_dst = htons(port & mask);
}

static void
m_tp_src_masked(struct match *m, uint16_t port, uint16_t mask)
{
    m->wc.masks.tp_src = htons(mask);
    m->flow.tp_src = htons(port & mask);
}

static be32
prefix_mask32(unsigned int plen)
{
    return htonl(plen ? UINT32_MAX << (32 - plen) : 0);
}

static void
m_nw_dst(struct match *m, uint32_t addr, unsigned int plen)
{
    m->wc.masks.nw_dst = prefix_mask32(plen);
    m->flow.nw_dst = htonl(addr) & m->wc.masks.nw_dst;
}

static void
m_nw_src(struct match *m, uint32_t addr, unsigned int plen)
{
    m->wc.masks.nw_src = prefix_mask32(plen);
    m->flow.nw_src = htonl(addr) & m->wc.masks.nw_src;
}

static void
m_dl_src(struct match *m, struct eth_addr mac)
{
    m->flow.dl_src = mac;
    memset(&m->wc.masks.dl_src, 0xff, sizeof m->wc.masks.dl_src);
}

static uint32_t
ip4(unsigned int a, unsigned int b, unsigned int c, unsigned int d)
{
    return (a << 24) | (b << 16) | (c << 8) | d;
}

static void
tcp_flow(struct flow *f, uint32_t in_port, uint32_t src, uint32_t dst,
         uint16_t sport, uint16_t dport)
{
    memset(f, 0, sizeof *f);
    f->in_port = in_port;
    f->dl_type = htons(ETH_TYPE_IP);
    f->nw_src = htonl(src);
    f->nw_dst = htonl(dst);
    f->nw_proto = 6;
    f->nw_ttl = 64;
    f->tp_src = htons(sport);
    f->tp_dst = htons(dport);
    f->dl_src = (struct eth_addr){{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}};
    f->dl_dst = (struct eth_addr){{0x00, 0x66, 0x77, 0x88, 0x99, 0xaa}};
}

/* Number of 1-bits of 'wc' in the bytes [ofs, ofs + n). */
static unsigned int
wc_bits(const struct flow_wildcards *wc, size_t ofs, size_t n)
{
    const uint8_t *p = (const uint8_t *)&wc->masks + ofs;
    unsigned int bits = 0;

    for (size_t i = 0; i < n; i++) {
        bits += (unsigned int)__builtin_popcount(p[i]);
    }
    return bits;
}

#define WC_BITS(WC, FIELD)                                                    \
    wc_bits(WC, offsetof(struct flow, FIELD), sizeof((WC)->masks.FIELD))

/* ---- A tiny classifier harness ------------------------------------------ */

struct harness {
    struct classifier cls;
    struct trule **rules; /* Every rule ever created, live or not. */
    size_t n, allocated;
    uint64_t next_order;
};

static void
harness_init(struct harness *h)
{
    memset(h, 0, sizeof *h);
    classifier_init(&h->cls);
}

static struct trule *
harness_add(struct harness *h, const struct match *match, int priority,
            uint64_t version)
{
    struct trule *r = trule_create(match, priority, (int)h->n);
    struct cls_rule *displaced;

    if (h->n == h->allocated) {
        h->allocated = h->allocated ? 2 * h->allocated : 64;
        h->rules = realloc(h->rules, h->allocated * sizeof *h->rules);
    }
    h->rules[h->n++] = r;
    r->order = h->next_order++;
    displaced = classifier_replace(&h->cls, &r->cr, version);
    if (displaced) {
        trule_of(displaced)->live = false;
        classifier_remove_now(&h->cls, displaced);
    }
    r->live = true;
    return r;
}

static void
harness_remove(struct harness *h, struct trule *r)
{
    (void)h;
    assert_true(r->live);
    classifier_remove_now(&h->cls, &r->cr);
    r->live = false;
}

static void
harness_destroy(struct harness *h)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->rules[i]->live) {
            classifier_remove_now(&h->cls, &h->rules[i]->cr);
        }
        trule_free(h->rules[i]);
    }
    free(h->rules);
    assert_true(classifier_is_empty(&h->cls));
    assert_int_equal(classifier_n_subtables(&h->cls), 0);
    classifier_destroy(&h->cls);
}

/* The oracle: a linear scan over the live rules sorted by priority, ties
 * to the newest, so that the first match is the answer. */
struct scan {
    const struct trule **rules;
    size_t n;
};

static int
scan_cmp(const void *a_, const void *b_)
{
    const struct trule *a = *(const struct trule *const *)a_;
    const struct trule *b = *(const struct trule *const *)b_;

    if (a->cr.priority != b->cr.priority) {
        return a->cr.priority > b->cr.priority ? -1 : 1;
    }
    return a->order > b->order ? -1 : a->order < b->order;
}

static void
scan_init(struct scan *scan, struct trule *const *rules, size_t n)
{
    scan->rules = malloc((n + 1) * sizeof *scan->rules);
    scan->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (rules[i]->live) {
            scan->rules[scan->n++] = rules[i];
        }
    }
    qsort(scan->rules, scan->n, sizeof *scan->rules, scan_cmp);
}

static void
scan_destroy(struct scan *scan)
{
    free(scan->rules);
}

static const struct trule *
scan_lookup(const struct scan *scan, const struct flow *flow)
{
    for (size_t i = 0; i < scan->n; i++) {
        if (match_matches_flow(&scan->rules[i]->match, flow)) {
            return scan->rules[i];
        }
    }
    return NULL;
}

/* ---- Basic semantics ---------------------------------------------------- */

static void
test_empty_classifier_matches_nothing(void **state)
{
    (void)state;
    struct classifier cls;
    struct flow_wildcards wc;
    struct flow flow;

    classifier_init(&cls);
    tcp_flow(&flow, 1, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 1000, 80);
    flow_wildcards_init_catchall(&wc);
    assert_null(classifier_lookup(&cls, 0, &flow, &wc));
    assert_true(flow_wildcards_is_catchall(&wc));
    assert_true(classifier_is_empty(&cls));
    assert_int_equal(classifier_count(&cls), 0);
    assert_int_equal(classifier_n_subtables(&cls), 0);
    classifier_destroy(&cls);
}

static void
test_highest_priority_match_wins(void **state)
{
    (void)state;
    struct harness h;
    struct match m;
    struct flow flow;

    harness_init(&h);
    match_init_catchall(&m);
    harness_add(&h, &m, 0, 0); /* 0 */
    m_dl_type(&m, ETH_TYPE_IP);
    harness_add(&h, &m, 10, 0); /* 1 */
    m_nw_proto(&m, 6);
    m_tp_dst(&m, 80);
    harness_add(&h, &m, 20, 0); /* 2 */
    match_init_catchall(&m);
    m_in_port(&m, 5);
    harness_add(&h, &m, 30, 0); /* 3 */
    assert_int_equal(classifier_count(&h.cls), 4);
    assert_int_equal(classifier_n_subtables(&h.cls), 4);

    tcp_flow(&flow, 1, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), 999, 80);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 2);
    flow.tp_dst = htons(81);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 1);
    flow.dl_type = htons(ETH_TYPE_ARP);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 0);
    flow.in_port = 5;
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 3);

    harness_remove(&h, h.rules[3]);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 0);
    assert_int_equal(classifier_count(&h.cls), 3);
    assert_int_equal(classifier_n_subtables(&h.cls), 3);
    harness_destroy(&h);
}

static void
test_equal_priority_tie_goes_to_newest_rule(void **state)
{
    (void)state;
    struct harness h;
    struct match a, b, c;
    struct flow flow;

    harness_init(&h);
    match_init_catchall(&a);
    m_in_port(&a, 1);
    match_init_catchall(&b);
    m_dl_type(&b, ETH_TYPE_IP);
    match_init_catchall(&c);
    m_tp_dst(&c, 80);
    tcp_flow(&flow, 1, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), 999, 80);

    harness_add(&h, &a, 7, 0);
    harness_add(&h, &b, 7, 0);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 1);
    harness_add(&h, &c, 7, 0);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 2);
    harness_remove(&h, h.rules[2]);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 1);
    /* Re-adding the first match makes it the newest. */
    harness_remove(&h, h.rules[0]);
    harness_add(&h, &a, 7, 0);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, NULL)), 3);
    harness_destroy(&h);
}

static void
test_replace_displaces_same_match_and_priority(void **state)
{
    (void)state;
    struct classifier cls;
    struct match m;
    struct flow flow;

    classifier_init(&cls);
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_dst(&m, ip4(10, 0, 0, 0), 8);
    struct trule *old = trule_create(&m, 5, 1);
    struct trule *other_pri = trule_create(&m, 6, 2);
    struct trule *new = trule_create(&m, 5, 3);

    assert_null(classifier_replace(&cls, &old->cr, 0));
    assert_null(classifier_replace(&cls, &other_pri->cr, 0));
    assert_int_equal(classifier_count(&cls), 2);
    /* Same match, same priority: 'old' is displaced and returned. */
    assert_ptr_equal(classifier_replace(&cls, &new->cr, 0), &old->cr);
    assert_false(cls_rule_visible_in_version(&old->cr, 0));
    classifier_remove_now(&cls, &old->cr);
    assert_int_equal(classifier_count(&cls), 2);

    tcp_flow(&flow, 1, ip4(1, 1, 1, 1), ip4(10, 9, 9, 9), 1, 2);
    assert_int_equal(id_of(classifier_lookup(&cls, 0, &flow, NULL)), 2);
    assert_ptr_equal(classifier_find_rule_exactly(&cls, &old->cr, 0),
                     &new->cr);
    classifier_remove_now(&cls, &other_pri->cr);
    assert_int_equal(id_of(classifier_lookup(&cls, 0, &flow, NULL)), 3);
    classifier_remove_now(&cls, &new->cr);
    assert_true(classifier_is_empty(&cls));
    trule_free(old);
    trule_free(other_pri);
    trule_free(new);
    classifier_destroy(&cls);
}

static void
test_find_rule_exactly_needs_same_match_and_priority(void **state)
{
    (void)state;
    struct harness h;
    struct match m, finer;
    struct cls_rule probe;

    harness_init(&h);
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_src(&m, ip4(192, 168, 0, 0), 16);
    harness_add(&h, &m, 100, 0);
    finer = m;
    m_tp_dst(&finer, 22);

    cls_rule_init(&probe, &m, 100);
    assert_ptr_equal(classifier_find_rule_exactly(&h.cls, &probe, 0),
                     &h.rules[0]->cr);
    assert_true(cls_rule_equal(&probe, &h.rules[0]->cr));
    cls_rule_destroy(&probe);
    cls_rule_init(&probe, &m, 99);
    assert_null(classifier_find_rule_exactly(&h.cls, &probe, 0));
    assert_false(cls_rule_equal(&probe, &h.rules[0]->cr));
    cls_rule_destroy(&probe);
    cls_rule_init(&probe, &finer, 100);
    assert_null(classifier_find_rule_exactly(&h.cls, &probe, 0));
    cls_rule_destroy(&probe);
    assert_ptr_equal(classifier_find_match_exactly(&h.cls, &m, 100, 0),
                     &h.rules[0]->cr);
    assert_null(classifier_find_match_exactly(&h.cls, &finer, 100, 0));

    /* The match comes back as it went in. */
    struct match back;
    cls_rule_get_match(&h.rules[0]->cr, &back);
    assert_true(match_equal(&back, &m));
    assert_false(cls_rule_is_catchall(&h.rules[0]->cr));
    harness_destroy(&h);
}

static void
test_iteration_visits_every_rule_and_allows_removal(void **state)
{
    (void)state;
    struct harness h;
    uint64_t seed = base_seed;
    struct trule *r;
    size_t n = 0;

    harness_init(&h);
    for (int i = 0; i < 300; i++) {
        struct match m;

        match_init_catchall(&m);
        m_in_port(&m, rnd_below(&seed, 40));
        if (i % 3) {
            m_dl_type(&m, ETH_TYPE_IP);
            m_nw_dst(&m, rnd(&seed), 8 + i % 17);
        }
        harness_add(&h, &m, (int)rnd_below(&seed, 10), 0);
    }
    size_t live = 0;
    for (size_t i = 0; i < h.n; i++) {
        live += h.rules[i]->live;
    }
    assert_int_equal(classifier_count(&h.cls), live);

    rcu_read_begin();
    CLS_FOR_EACH(r, cr, &h.cls)
    {
        assert_true(r->live);
        r->order |= UINT64_C(1) << 63; /* Seen. */
        n++;
    }
    rcu_read_end();
    assert_int_equal(n, live);
    for (size_t i = 0; i < h.n; i++) {
        assert_int_equal(h.rules[i]->live,
                         !!(h.rules[i]->order & (UINT64_C(1) << 63)));
        h.rules[i]->order &= ~(UINT64_C(1) << 63);
    }

    /* Removing the current rule inside the loop is allowed. */
    n = 0;
    rcu_read_begin();
    CLS_FOR_EACH(r, cr, &h.cls)
    {
        harness_remove(&h, r);
        n++;
    }
    rcu_read_end();
    assert_int_equal(n, live);
    assert_true(classifier_is_empty(&h.cls));
    harness_destroy(&h);
}

/* Rules that loosely match 'target' per the OpenFlow definition. */
static bool
naive_loose_match(const struct trule *r, const struct match *target)
{
    struct flow masked;

    if (!flow_wildcards_covers(&r->match.wc, &target->wc)) {
        return false;
    }
    flow_apply_mask(&masked, &r->match.flow, &target->wc);
    return flow_equal(&masked, &target->flow);
}

static void
test_loose_target_iteration_follows_openflow_semantics(void **state)
{
    (void)state;
    struct harness h;
    struct match m, target;
    struct cls_rule cls_target;
    struct trule *r;
    int seen[8] = {0};

    harness_init(&h);
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_dst(&m, ip4(10, 0, 0, 0), 8);
    harness_add(&h, &m, 1, 0); /* 0: same as the target. */
    m_nw_dst(&m, ip4(10, 1, 0, 0), 16);
    harness_add(&h, &m, 2, 0); /* 1: more specific, inside. */
    m_tp_dst(&m, 80);
    m_nw_proto(&m, 6);
    harness_add(&h, &m, 3, 0); /* 2: more specific still. */
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_dst(&m, ip4(11, 0, 0, 0), 8);
    harness_add(&h, &m, 4, 0); /* 3: other network. */
    m_nw_dst(&m, ip4(0, 0, 0, 0), 4);
    harness_add(&h, &m, 5, 0); /* 4: /4 is less specific than /8. */
    match_init_catchall(&m);
    m_nw_dst(&m, ip4(10, 2, 0, 0), 16);
    harness_add(&h, &m, 6, 0); /* 5: no dl_type: less specific. */
    match_init_catchall(&m);
    harness_add(&h, &m, 7, 0); /* 6: catch-all. */

    match_init_catchall(&target);
    m_dl_type(&target, ETH_TYPE_IP);
    m_nw_dst(&target, ip4(10, 0, 0, 0), 8);
    cls_rule_init(&cls_target, &target, 12345);
    rcu_read_begin();
    CLS_FOR_EACH_TARGET(r, cr, &h.cls, &cls_target, 0)
    {
        seen[r->id]++;
    }
    rcu_read_end();
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 1);
    assert_int_equal(seen[2], 1);
    assert_int_equal(seen[3], 0);
    assert_int_equal(seen[4], 0);
    assert_int_equal(seen[5], 0);
    assert_int_equal(seen[6], 0);
    for (size_t i = 0; i < h.n; i++) {
        assert_int_equal(cls_rule_is_loose_match(&h.rules[i]->cr, &cls_target),
                         naive_loose_match(h.rules[i], &target));
    }
    /* The strict form finds only rule 0, and only at its priority. */
    assert_null(classifier_find_rule_exactly(&h.cls, &cls_target, 0));
    cls_rule_destroy(&cls_target);
    cls_rule_init(&cls_target, &target, 1);
    assert_ptr_equal(classifier_find_rule_exactly(&h.cls, &cls_target, 0),
                     &h.rules[0]->cr);

    /* Overlap: same priority and some packet matching both. */
    match_init_catchall(&m);
    m_tp_dst(&m, 80);
    struct cls_rule probe;
    cls_rule_init(&probe, &m, 1);
    assert_true(classifier_rule_overlaps(&h.cls, &probe, 0));
    cls_rule_destroy(&probe);
    cls_rule_init(&probe, &m, 100);
    assert_false(classifier_rule_overlaps(&h.cls, &probe, 0));
    cls_rule_destroy(&probe);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_dst(&m, ip4(12, 0, 0, 0), 8);
    cls_rule_init(&probe, &m, 1);
    assert_false(classifier_rule_overlaps(&h.cls, &probe, 0));
    cls_rule_destroy(&probe);
    cls_rule_destroy(&cls_target);
    harness_destroy(&h);
}

/* ---- Versioning --------------------------------------------------------- */

static void
test_rule_is_visible_only_within_its_versions(void **state)
{
    (void)state;
    struct classifier cls;
    struct match m;
    struct flow flow;
    struct trule *r;
    struct trule *r2;
    const uint64_t v = 10;

    classifier_init(&cls);
    match_init_catchall(&m);
    m_in_port(&m, 3);
    r = trule_create(&m, 1, 1);
    tcp_flow(&flow, 3, 1, 2, 3, 4);

    classifier_insert(&cls, &r->cr, v + 1);
    assert_null(classifier_lookup(&cls, v, &flow, NULL));
    assert_int_equal(id_of(classifier_lookup(&cls, v + 1, &flow, NULL)), 1);
    assert_null(classifier_find_rule_exactly(&cls, &r->cr, v));
    assert_non_null(classifier_find_rule_exactly(&cls, &r->cr, v + 1));

    /* Replace in v + 3: the old rule stays visible until then. */
    r2 = trule_create(&m, 1, 2);
    assert_ptr_equal(classifier_replace(&cls, &r2->cr, v + 3), &r->cr);
    assert_int_equal(id_of(classifier_lookup(&cls, v + 2, &flow, NULL)), 1);
    assert_int_equal(id_of(classifier_lookup(&cls, v + 3, &flow, NULL)), 2);
    assert_ptr_equal(classifier_find_rule_exactly(&cls, &r->cr, v + 2),
                     &r->cr);
    assert_ptr_equal(classifier_find_rule_exactly(&cls, &r->cr, v + 3),
                     &r2->cr);

    /* Remove in v + 5. */
    classifier_remove(&cls, &r2->cr, v + 5);
    assert_int_equal(id_of(classifier_lookup(&cls, v + 4, &flow, NULL)), 2);
    assert_null(classifier_lookup(&cls, v + 5, &flow, NULL));
    assert_null(classifier_lookup(&cls, CLS_MAX_VERSION, &flow, NULL));
    /* Both still linked until removed for good. */
    assert_int_equal(classifier_count(&cls), 2);

    /* Iteration honours versions too. */
    struct trule *it;
    int n = 0;
    rcu_read_begin();
    CLS_FOR_EACH_TARGET(it, cr, &cls, NULL, v + 4)
    {
        assert_int_equal(it->id, 2);
        n++;
    }
    CLS_FOR_EACH(it, cr, &cls)
    {
        n += 10;
    }
    rcu_read_end();
    assert_int_equal(n, 1);

    classifier_remove_now(&cls, &r->cr);
    classifier_remove_now(&cls, &r2->cr);
    assert_true(classifier_is_empty(&cls));
    trule_free(r);
    trule_free(r2);
    classifier_destroy(&cls);
}

/* ---- Megaflow minimality ------------------------------------------------ */

static void
test_udp_packet_does_not_unwildcard_tcp_port(void **state)
{
    (void)state;
    struct harness h;
    struct match m;
    struct flow flow;
    struct flow_wildcards wc;

    harness_init(&h);
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_proto(&m, 6);
    m_tp_dst(&m, 80);
    harness_add(&h, &m, 10, 0);
    match_init_catchall(&m);
    harness_add(&h, &m, 1, 0);

    tcp_flow(&flow, 1, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), 5555, 80);
    flow.nw_proto = 17;
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, tp_dst), 0);
    assert_int_equal(WC_BITS(&wc, tp_src), 0);
    assert_int_equal(WC_BITS(&wc, nw_proto), 8);
    assert_int_equal(WC_BITS(&wc, dl_type), 16);
    assert_int_equal(WC_BITS(&wc, nw_dst), 0);

    flow.nw_proto = 6;
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 0);
    assert_int_equal(WC_BITS(&wc, tp_dst), 16);
    assert_int_equal(WC_BITS(&wc, tp_src), 0);

    /* 443 = 0x01bb leaves 80 = 0x0050 at bit 7 (the ports trie). */
    flow.tp_dst = htons(443);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xff00);
    harness_destroy(&h);
}

static void
test_prefix_trie_limits_unwildcarded_address_bits(void **state)
{
    (void)state;
    struct harness h;
    struct match m;
    struct flow flow;
    struct flow_wildcards wc;

    harness_init(&h);
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_dst(&m, ip4(10, 0, 0, 0), 8);
    harness_add(&h, &m, 5, 0);
    match_init_catchall(&m);
    harness_add(&h, &m, 0, 0);

    /* 192.x differs from 10.x in the first bit: one bit proves it. */
    tcp_flow(&flow, 1, ip4(1, 2, 3, 4), ip4(192, 168, 1, 1), 1, 2);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, nw_dst), 1);
    assert_int_equal(wc.masks.nw_dst, htonl(0x80000000));
    assert_int_equal(WC_BITS(&wc, dl_type), 0);

    /* 11.x differs from 10.x in bit 7: eight bits. */
    flow.nw_dst = htonl(ip4(11, 1, 1, 1));
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, nw_dst), 8);

    /* A hit un-wildcards the rule's whole mask. */
    flow.nw_dst = htonl(ip4(10, 1, 1, 1));
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 0);
    assert_int_equal(WC_BITS(&wc, nw_dst), 8);
    assert_int_equal(WC_BITS(&wc, dl_type), 16);

    /* A /16 and a /24 inside the /8: a packet in 10/8 but outside both
     * learns about the longer prefixes with fewer than 24 bits. */
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_dst(&m, ip4(10, 1, 0, 0), 16);
    harness_add(&h, &m, 6, 0);
    m_nw_dst(&m, ip4(10, 1, 2, 0), 24);
    harness_add(&h, &m, 7, 0);
    flow.nw_dst = htonl(ip4(10, 128, 1, 1));
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 0);
    assert_int_equal(WC_BITS(&wc, nw_dst), 9);
    harness_destroy(&h);
}

static void
test_ipv6_prefix_trie_limits_unwildcarded_bits(void **state)
{
    (void)state;
    struct harness h;
    struct match m;
    struct flow flow;
    struct flow_wildcards wc;

    harness_init(&h);
    match_init_catchall(&m);
    m_dl_type(&m, ETH_TYPE_IPV6);
    inet_pton(AF_INET6, "2001:db8::", &m.flow.ipv6_dst);
    memset(&m.wc.masks.ipv6_dst, 0xff, 6); /* /48 */
    harness_add(&h, &m, 5, 0);
    match_init_catchall(&m);
    harness_add(&h, &m, 0, 0);

    memset(&flow, 0, sizeof flow);
    flow.dl_type = htons(ETH_TYPE_IPV6);
    inet_pton(AF_INET6, "fe80::1", &flow.ipv6_dst);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, ipv6_dst), 1);

    inet_pton(AF_INET6, "2001:db8:0:1::1", &flow.ipv6_dst);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 0);
    assert_int_equal(WC_BITS(&wc, ipv6_dst), 48);

    inet_pton(AF_INET6, "2001:db9::1", &flow.ipv6_dst);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, ipv6_dst), 32); /* Differs at bit 31. */
    harness_destroy(&h);
}

/* A table of 'n' rules at priority 10 on IPv4 protocol 'proto' whose L4
 * ports are set by 'set(match, i)', above a catch-all (priority 1, the last
 * rule, id n). */
static void
ports_table(struct harness *h, uint8_t proto, size_t n,
            void (*set)(struct match *, size_t))
{
    struct match m;

    harness_init(h);
    for (size_t i = 0; i < n; i++) {
        match_init_catchall(&m);
        m_dl_type(&m, ETH_TYPE_IP);
        m_nw_proto(&m, proto);
        set(&m, i);
        harness_add(h, &m, 10, 0);
    }
    match_init_catchall(&m);
    harness_add(h, &m, 1, 0);
}

/* Looks up a TCP flow with ports 'sport' and 'dport' (and TCP flags
 * 'flags') in 'h', checks that it gets rule 'id' and returns the
 * wildcards. */
static struct flow_wildcards
ports_lookup(struct harness *h, uint16_t sport, uint16_t dport, uint16_t flags,
             int id)
{
    struct flow_wildcards wc;
    struct flow flow;

    tcp_flow(&flow, 1, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), sport, dport);
    flow.tcp_flags = htons(flags);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h->cls, 0, &flow, &wc)), id);
    return wc;
}

static void
set_tp_dst_80_or_443(struct match *m, size_t i)
{
    m_tp_dst(m, i ? 443 : 80);
}

static void
test_ports_trie_exact_tp_dst_miss_unwildcards_leading_bits(void **state)
{
    (void)state;
    struct flow_wildcards wc;
    struct harness h;

    ports_table(&h, 6, 2, set_tp_dst_80_or_443);
    /* 22 = 0x0016 leaves 80 = 0x0050 at bit 9 of the port: ten bits (OVS:
     * tcp(dst=0/0xffc0)); the stages before L4 are needed. */
    wc = ports_lookup(&h, 5555, 22, 0, 2);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xffc0);
    assert_int_equal(WC_BITS(&wc, tp_src), 0);
    assert_int_equal(WC_BITS(&wc, nw_proto), 8);
    assert_int_equal(WC_BITS(&wc, dl_type), 16);
    /* 0x8000 leaves both rules at the first bit. */
    wc = ports_lookup(&h, 5555, 0x8000, 0, 2);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0x8000);
    /* 81 differs from 80 in the last bit only; a hit needs them all. */
    wc = ports_lookup(&h, 5555, 81, 0, 2);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xffff);
    wc = ports_lookup(&h, 5555, 443, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xffff);
    harness_destroy(&h);
}

static void
set_tp_src_1024_tp_dst_80(struct match *m, size_t i)
{
    (void)i;
    m_tp_src(m, 1024);
    m_tp_dst(m, 80);
}

static void
test_ports_trie_exact_both_ports_unwildcards_source_first(void **state)
{
    (void)state;
    struct flow_wildcards wc;
    struct harness h;

    ports_table(&h, 6, 1, set_tp_src_1024_tp_dst_80);
    /* The source port agrees: all of it, then ten destination bits (OVS:
     * tcp(src=1024,dst=0/0xffc0)). */
    wc = ports_lookup(&h, 1024, 22, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_src), 0xffff);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xffc0);
    /* 5000 = 0x1388 leaves 1024 = 0x0400 at bit 3: the destination port
     * stays wildcarded. */
    wc = ports_lookup(&h, 5000, 80, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_src), 0xf000);
    assert_int_equal(WC_BITS(&wc, tp_dst), 0);
    wc = ports_lookup(&h, 1024, 80, 0, 0);
    assert_int_equal(WC_BITS(&wc, tp_src) + WC_BITS(&wc, tp_dst), 32);
    harness_destroy(&h);
}

static void
set_tp_dst_1024_slash_6(struct match *m, size_t i)
{
    (void)i;
    m_tp_dst_masked(m, 0x0400, 0xfc00);
}

static void
test_ports_trie_prefix_masked_tp_dst_unwildcards_leading_bits(void **state)
{
    (void)state;
    struct flow_wildcards wc;
    struct harness h;

    ports_table(&h, 6, 1, set_tp_dst_1024_slash_6);
    wc = ports_lookup(&h, 1, 0x8000, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0x8000);
    /* 0x0800 leaves 0x0400 at bit 4. */
    wc = ports_lookup(&h, 1, 0x0800, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xf800);
    /* Never more than the rule's own mask. */
    wc = ports_lookup(&h, 1, 0x0000, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xfc00);
    wc = ports_lookup(&h, 1, 0x0555, 0, 0);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xfc00);
    assert_int_equal(WC_BITS(&wc, tp_src), 0);
    harness_destroy(&h);
}

static void
set_tp_src_0x12xx(struct match *m, size_t i)
{
    (void)i;
    m_tp_src_masked(m, 0x1200, 0xff00);
}

static void
test_ports_trie_masked_tp_src_alone_leaves_tp_dst_wildcarded(void **state)
{
    (void)state;
    struct flow_wildcards wc;
    struct harness h;

    ports_table(&h, 6, 1, set_tp_src_0x12xx);
    wc = ports_lookup(&h, 0x9234, 80, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_src), 0x8000);
    assert_int_equal(WC_BITS(&wc, tp_dst), 0);
    wc = ports_lookup(&h, 0x1334, 80, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_src), 0xff00);
    harness_destroy(&h);
}

static void
set_tp_dst_5_in_0x0f0f(struct match *m, size_t i)
{
    (void)i;
    m_tp_dst_masked(m, 0x0005, 0x0f0f);
}

static void
test_ports_trie_non_prefix_mask_unwildcards_only_mask_bits(void **state)
{
    (void)state;
    struct flow_wildcards wc;
    struct harness h;

    ports_table(&h, 6, 1, set_tp_dst_5_in_0x0f0f);
    /* 0x0a0a masks to 0x0a0a, which leaves 0x0005 at bit 4: of the mask's
     * bits up to there, only 0x0800. */
    wc = ports_lookup(&h, 1, 0x0a0a, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0x0800);
    /* 0xf105 masks to 0x0105: bit 7 decides. */
    wc = ports_lookup(&h, 1, 0xf105, 0, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0x0f00);
    wc = ports_lookup(&h, 1, 0xf0f5, 0, 0);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0x0f0f);
    harness_destroy(&h);
}

static void
set_tp_dst_80_syn(struct match *m, size_t i)
{
    (void)i;
    m_tp_dst(m, 80);
    m->flow.tcp_flags = htons(0x002);
    m->wc.masks.tcp_flags = htons(0x002);
}

static void
test_ports_trie_miss_on_tcp_flags_unwildcards_whole_mask(void **state)
{
    (void)state;
    struct flow_wildcards wc;
    struct harness h;

    ports_table(&h, 6, 1, set_tp_dst_80_syn);
    /* The ports are a rule's: the miss is on the flags, and a flow with
     * the same port and SYN set would hit. */
    wc = ports_lookup(&h, 1, 80, 0x010, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xffff);
    assert_int_equal(ntohs(wc.masks.tcp_flags), 0x002);
    /* No rule has the port: the flags do not matter. */
    wc = ports_lookup(&h, 1, 22, 0x010, 1);
    assert_int_equal(ntohs(wc.masks.tp_dst), 0xffc0);
    assert_int_equal(WC_BITS(&wc, tcp_flags), 0);
    harness_destroy(&h);
}

static void
test_staged_miss_at_l2_leaves_l3_and_l4_wildcarded(void **state)
{
    (void)state;
    struct harness h;
    struct match m;
    struct flow flow;
    struct flow_wildcards wc;
    const struct eth_addr mac = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}};

    harness_init(&h);
    match_init_catchall(&m);
    m_dl_src(&m, mac);
    m_dl_type(&m, ETH_TYPE_IP);
    m_nw_proto(&m, 6);
    m_nw_src(&m, ip4(172, 16, 0, 0), 12);
    m_tp_dst(&m, 80);
    harness_add(&h, &m, 10, 0);
    match_init_catchall(&m);
    harness_add(&h, &m, 1, 0);

    tcp_flow(&flow, 1, ip4(172, 16, 1, 1), ip4(5, 6, 7, 8), 1, 80);
    flow.dl_src.ea[5] = 0x56;
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, dl_src), 48);
    assert_int_equal(WC_BITS(&wc, dl_type), 16);
    assert_int_equal(WC_BITS(&wc, nw_proto), 0);
    assert_int_equal(WC_BITS(&wc, nw_src), 0);
    assert_int_equal(WC_BITS(&wc, tp_dst), 0);

    /* L2 matches, L3 misses on nw_proto: L4 stays wildcarded. */
    flow.dl_src = mac;
    flow.nw_proto = 17;
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 1);
    assert_int_equal(WC_BITS(&wc, nw_proto), 8);
    assert_int_equal(WC_BITS(&wc, tp_dst), 0);
    harness_destroy(&h);
}

static void
test_lower_priority_subtables_add_no_bits(void **state)
{
    (void)state;
    struct harness h;
    struct match m;
    struct flow flow;
    struct flow_wildcards wc;

    harness_init(&h);
    match_init_catchall(&m);
    m_in_port(&m, 1);
    harness_add(&h, &m, 100, 0);
    match_init_catchall(&m);
    m_tp_src(&m, 1234);
    harness_add(&h, &m, 50, 0);

    tcp_flow(&flow, 1, 1, 2, 1234, 80);
    flow_wildcards_init_catchall(&wc);
    assert_int_equal(id_of(classifier_lookup(&h.cls, 0, &flow, &wc)), 0);
    assert_int_equal(WC_BITS(&wc, in_port), 32);
    assert_int_equal(WC_BITS(&wc, tp_src), 0);
    harness_destroy(&h);
}

/* ---- Random rule sets --------------------------------------------------- */

static const struct eth_addr mac_pool[] = {
    {{0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
    {{0x00, 0x00, 0x00, 0x00, 0x00, 0x02}},
    {{0x00, 0x11, 0x22, 0x00, 0x00, 0x01}},
    {{0x00, 0x11, 0x22, 0x00, 0x00, 0x02}},
    {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}},
    {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
};

static const uint32_t ip_bases[] = {
    0x0a000000, 0x0a010000, 0x0a010200, 0xc0a80000, 0xac100000, 0x08080800,
};

static uint32_t
pool_ip(uint64_t *seed)
{
    uint32_t base = ip_bases[rnd_below(seed, ARRAY_SIZE(ip_bases))];

    switch (rnd_below(seed, 4)) {
    case 0:
        return base | rnd_below(seed, 4);
    case 1:
        return base | (rnd(seed) & 0xff);
    case 2:
        return base | (rnd(seed) & 0xffff);
    default:
        return rnd(seed);
    }
}

static void
pool_ipv6(struct in6_addr *a, uint64_t *seed)
{
    static const uint8_t bases[][4] = {{0x20, 0x01, 0x0d, 0xb8},
                                       {0xfe, 0x80, 0x00, 0x00},
                                       {0x20, 0x01, 0x0d, 0xb9},
                                       {0x26, 0x00, 0x00, 0x00}};
    unsigned int b = rnd_below(seed, ARRAY_SIZE(bases));

    memcpy(a->s6_addr, bases[b], 4);
    for (int i = 4; i < 16; i++) {
        a->s6_addr[i] = rnd_below(seed, 3) ? 0 : (uint8_t)rnd(seed);
    }
}

static const uint16_t port_pool[] = {80, 443, 22, 53, 8080, 1234};

/* A port from the pool, one bit away from one (a near miss at any depth of
 * the ports trie), or random. */
static uint16_t
pool_port(uint64_t *seed)
{
    uint16_t port = port_pool[rnd_below(seed, ARRAY_SIZE(port_pool))];

    switch (rnd_below(seed, 8)) {
    case 0:
        return (uint16_t)rnd(seed);
    case 1:
        return port ^ (uint16_t)(1u << rnd_below(seed, 16));
    default:
        return port;
    }
}

/* An L4 port mask of one of the shapes tables use: exact, a prefix (a port
 * range of a power of two), or with holes. */
static be16
random_port_mask(uint64_t *seed)
{
    static const uint16_t holes[] = {0x0f0f, 0xff0f, 0x00ff, 0x0001, 0xf00f};

    switch (rnd_below(seed, 4)) {
    case 0:
    case 1:
        return UINT16_MAX;
    case 2:
        return htons((uint16_t)(0xffff << rnd_below(seed, 16)));
    default:
        return htons(holes[rnd_below(seed, ARRAY_SIZE(holes))]);
    }
}

/* A flow made of values the random rules also use, so that they hit. */
static void
pool_flow(struct flow *f, uint64_t *seed)
{
    memset(f, 0, sizeof *f);
    f->metadata = rnd_below(seed, 4);
    f->regs[0] = rnd_below(seed, 4);
    f->regs[1] = rnd_below(seed, 4);
    f->in_port = 1 + rnd_below(seed, 8);
    f->dl_src = mac_pool[rnd_below(seed, ARRAY_SIZE(mac_pool))];
    f->dl_dst = mac_pool[rnd_below(seed, ARRAY_SIZE(mac_pool))];
    if (rnd_below(seed, 3)) {
        f->vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
        f->vlans[0].tci = htons(VLAN_CFI | (1 + rnd_below(seed, 4)));
    }
    switch (rnd_below(seed, 10)) {
    case 0:
    case 1:
        f->dl_type = htons(ETH_TYPE_IPV6);
        pool_ipv6(&f->ipv6_src, seed);
        pool_ipv6(&f->ipv6_dst, seed);
        break;
    case 2:
        f->dl_type = htons(ETH_TYPE_ARP);
        f->nw_src = htonl(pool_ip(seed));
        f->nw_dst = htonl(pool_ip(seed));
        f->nw_proto = 1 + rnd_below(seed, 2);
        return;
    default:
        f->dl_type = htons(ETH_TYPE_IP);
        f->nw_src = htonl(pool_ip(seed));
        f->nw_dst = htonl(pool_ip(seed));
        break;
    }
    static const uint8_t protos[] = {6, 17, 1};
    f->nw_proto = protos[rnd_below(seed, ARRAY_SIZE(protos))];
    f->nw_tos = (uint8_t)(rnd_below(seed, 4) << 2);
    f->nw_ttl = (uint8_t)rnd(seed);
    f->tp_src = htons(pool_port(seed));
    f->tp_dst = htons(pool_port(seed));
    if (f->nw_proto == 6) {
        f->tcp_flags = htons(rnd_below(seed, 0x40));
    }
}

/* A flow of random bits (padding zero). */
static void
random_bits_flow(struct flow *f, uint64_t *seed)
{
    uint64_t *w = flow_u64s_rw(f);
    struct flow_wildcards exact;

    for (size_t i = 0; i < FLOW_U64S; i++) {
        w[i] = rnd64(seed);
    }
    flow_wildcards_init_exact(&exact);
    flow_apply_mask(f, f, &exact);
}

static void
set_prefix_bytes(uint8_t *p, size_t n, unsigned int plen)
{
    memset(p, 0, n);
    for (unsigned int i = 0; i < plen; i++) {
        p[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    }
}

/* A mask drawn from field combinations real OpenFlow tables use. */
static void
random_mask(struct flow_wildcards *wc, uint64_t *seed)
{
    struct flow *m = &wc->masks;

    memset(wc, 0, sizeof *wc);
    if (rnd_below(seed, 2)) {
        m->in_port = UINT32_MAX;
    }
    if (!rnd_below(seed, 6)) {
        m->metadata = rnd_below(seed, 2) ? UINT64_MAX : 0xff;
    }
    if (!rnd_below(seed, 6)) {
        m->regs[0] = UINT32_MAX;
    }
    if (!rnd_below(seed, 8)) {
        m->regs[1] = 0x3;
    }
    if (!rnd_below(seed, 5)) {
        memset(&m->dl_src, 0xff, rnd_below(seed, 2) ? 6 : 3);
    }
    if (!rnd_below(seed, 5)) {
        memset(&m->dl_dst, 0xff, 6);
    }
    if (!rnd_below(seed, 6)) {
        m->vlans[0].tci = htons(rnd_below(seed, 2) ? 0x1fff : 0xffff);
    }
    switch (rnd_below(seed, 6)) {
    case 0:
        /* L2 only (never the catch-all: it would make every packet hit). */
        if (flow_wildcards_is_catchall(wc)) {
            m->dl_type = UINT16_MAX;
        }
        break;
    case 1:
        m->dl_type = UINT16_MAX;
        set_prefix_bytes(m->ipv6_src.s6_addr, 16,
                         rnd_below(seed, 2) ? 0 : 1 + rnd_below(seed, 128));
        set_prefix_bytes(m->ipv6_dst.s6_addr, 16, 1 + rnd_below(seed, 128));
        if (rnd_below(seed, 2)) {
            m->nw_proto = UINT8_MAX;
            m->tp_dst = rnd_below(seed, 2) ? UINT16_MAX : 0;
        }
        break;
    case 2:
        m->dl_type = UINT16_MAX;
        m->nw_proto = rnd_below(seed, 2) ? UINT8_MAX : 0;
        m->nw_dst = prefix_mask32(1 + rnd_below(seed, 32));
        break;
    default:
        m->dl_type = UINT16_MAX;
        if (rnd_below(seed, 2)) {
            m->nw_src = prefix_mask32(1 + rnd_below(seed, 32));
        }
        if (rnd_below(seed, 3)) {
            m->nw_dst = prefix_mask32(1 + rnd_below(seed, 32));
        }
        if (!rnd_below(seed, 6)) {
            m->nw_tos = 0xfc;
        }
        if (rnd_below(seed, 2)) {
            m->nw_proto = UINT8_MAX;
            if (rnd_below(seed, 2)) {
                m->tp_dst = random_port_mask(seed);
            }
            if (!rnd_below(seed, 3)) {
                m->tp_src = random_port_mask(seed);
            }
            if (!rnd_below(seed, 4)) {
                /* The other field of the L4 stage. */
                m->tcp_flags = htons(rnd_below(seed, 2) ? 0x12 : 0x02);
            }
        }
        break;
    }
}

struct mask_set {
    struct flow_wildcards masks[64];
    size_t n;
};

/* At least 'min' distinct random masks. */
static void
random_mask_set(struct mask_set *set, size_t min, uint64_t *seed)
{
    set->n = 0;
    while (set->n < min
           || (set->n < ARRAY_SIZE(set->masks) && rnd_below(seed, 4))) {
        struct flow_wildcards wc;
        bool dup = false;

        random_mask(&wc, seed);
        for (size_t i = 0; i < set->n; i++) {
            dup |= flow_wildcards_equal(&wc, &set->masks[i]);
        }
        if (!dup) {
            set->masks[set->n++] = wc;
        }
    }
}

static void
random_rule_match(struct match *match, const struct mask_set *set,
                  uint64_t *seed)
{
    struct flow flow;

    pool_flow(&flow, seed);
    match_init(match, &flow, &set->masks[rnd_below(seed, set->n)]);
}

/* A packet: half drawn near a live rule, half from the pools (some of them
 * random bits). */
static void
random_packet(struct flow *flow, struct trule *const *rules, size_t n,
              uint64_t *seed)
{
    if (n && rnd_below(seed, 2)) {
        const struct trule *r;
        struct flow other;

        do {
            r = rules[rnd_below(seed, n)];
        } while (!r->live && rnd_below(seed, 8));
        pool_flow(&other, seed);
        for (size_t i = 0; i < FLOW_U64S; i++) {
            flow_u64s_rw(flow)[i] =
                (flow_u64s(&r->match.flow)[i]
                 & flow_u64s(&r->match.wc.masks)[i])
                | (flow_u64s(&other)[i] & ~flow_u64s(&r->match.wc.masks)[i]);
        }
        if (!rnd_below(seed, 4)) {
            /* A near miss: flip one bit the rule matches on. */
            uint64_t map = flow_wildcards_map(&r->match.wc);

            if (map) {
                unsigned int idx = 0, k = rnd_below(seed, count_1bits(map));

                MAP_FOR_EACH_INDEX (idx, map) {
                    if (!k--) {
                        break;
                    }
                }
                uint64_t m = flow_u64s(&r->match.wc.masks)[idx];
                unsigned int bit;
                do {
                    bit = rnd_below(seed, 64);
                } while (!(m >> bit & 1));
                flow_u64s_rw(flow)[idx] ^= UINT64_C(1) << bit;
            }
        }
    } else if (rnd_below(seed, 8)) {
        pool_flow(flow, seed);
    } else {
        random_bits_flow(flow, seed);
    }
}

/* Looks 'flow' up in 'h' in 'version', checks the answer against 'scan'
 * and checks megaflow soundness: flows that agree with
 * 'flow' on the returned wildcards, and are anything elsewhere, get the
 * same rule.  Returns 1 if the flow hit a rule. */
static int
check_lookup(const struct harness *h, const struct scan *scan,
             struct trule *const *rules, size_t n, uint64_t version,
             const struct flow *flow, uint64_t *seed)
{
    const struct trule *expected = scan_lookup(scan, flow);
    struct flow_wildcards wc;
    const struct cls_rule *got;

    flow_wildcards_init_catchall(&wc);
    got = classifier_lookup(&h->cls, version, flow, &wc);
    if (id_of(got) != (expected ? expected->id : -1)) {
        fail_msg("lookup got rule %d (priority %d), linear scan %d "
                 "(priority %d)",
                 id_of(got), got ? got->priority : -1,
                 expected ? expected->id : -1,
                 expected ? expected->cr.priority : -1);
    }
    assert_ptr_equal(classifier_lookup(&h->cls, version, flow, NULL), got);
    if (got) {
        /* The rule's own mask is always part of the answer. */
        struct flow_wildcards rule_wc;

        minimask_expand(cls_rule_get_mask(got), &rule_wc);
        assert_true(flow_wildcards_covers(&wc, &rule_wc));
    }

    for (int i = 0; i < 4; i++) {
        struct flow other, mixed;

        if (i % 2) {
            random_bits_flow(&other, seed);
        } else {
            random_packet(&other, rules, n, seed);
        }
        for (size_t w = 0; w < FLOW_U64S; w++) {
            uint64_t m = flow_u64s(&wc.masks)[w];

            flow_u64s_rw(&mixed)[w] =
                (flow_u64s(flow)[w] & m) | (flow_u64s(&other)[w] & ~m);
        }
        const struct cls_rule *again =
            classifier_lookup(&h->cls, version, &mixed, NULL);
        if (again != got) {
            fail_msg("megaflow unsound: flow agreeing on the wildcards got "
                     "rule %d instead of %d",
                     id_of(again), id_of(got));
        }
        if (!i) {
            /* The linear scan agrees too (once: it is the slow part). */
            const struct trule *naive = scan_lookup(scan, &mixed);

            assert_int_equal(id_of(again), naive ? naive->id : -1);
        }
    }
    return got != NULL;
}

static size_t
distinct_masks(const struct harness *h)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n; i++) {
        bool seen = false;

        if (!h->rules[i]->live) {
            continue;
        }
        for (size_t j = 0; j < i && !seen; j++) {
            seen = h->rules[j]->live
                   && flow_wildcards_equal(&h->rules[i]->match.wc,
                                           &h->rules[j]->match.wc);
        }
        n += !seen;
    }
    return n;
}

static size_t
live_rules(const struct harness *h)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n; i++) {
        n += h->rules[i]->live;
    }
    return n;
}

static void
check_iteration_and_targets(const struct harness *h,
                            const struct mask_set *set, uint64_t *seed)
{
    struct trule *r;
    size_t n = 0;

    rcu_read_begin();
    CLS_FOR_EACH(r, cr, &h->cls)
    {
        assert_true(r->live);
        n++;
    }
    assert_int_equal(n, live_rules(h));

    for (int t = 0; t < 20; t++) {
        struct match target;
        struct cls_rule cls_target;
        size_t expected = 0, got = 0;

        /* Targets: a looser version of a random rule mask, or a rule's
         * own match. */
        random_rule_match(&target, set, seed);
        if (t % 2) {
            struct flow_wildcards looser = target.wc;

            looser.masks.in_port = 0;
            looser.masks.tp_dst = 0;
            looser.masks.nw_dst &= htonl(0xff000000);
            match_init(&target, &target.flow, &looser);
        }
        cls_rule_init(&cls_target, &target, 0);
        for (size_t i = 0; i < h->n; i++) {
            expected +=
                h->rules[i]->live && naive_loose_match(h->rules[i], &target);
        }
        CLS_FOR_EACH_TARGET(r, cr, &h->cls, &cls_target, CLS_MAX_VERSION)
        {
            assert_true(naive_loose_match(r, &target));
            got++;
        }
        assert_int_equal(got, expected);
        cls_rule_destroy(&cls_target);
    }
    rcu_read_end();
}

static void
test_random_rules_agree_with_linear_scan(void **state)
{
    (void)state;
    UNIT_SINGLE_THREADED();
    uint64_t seed = base_seed ^ 0x1234;
    struct mask_set set;
    struct harness h;
    size_t hits = 0, lookups = 0;

    harness_init(&h);
    random_mask_set(&set, 24, &seed);
    assert_true(set.n >= 20);
    for (int i = 0; i < 600; i++) {
        struct match m;

        random_rule_match(&m, &set, &seed);
        harness_add(&h, &m, (int)rnd_below(&seed, 48), 0);
    }
    assert_true(live_rules(&h) >= 500);
    assert_int_equal(classifier_count(&h.cls), live_rules(&h));
    assert_int_equal(classifier_n_subtables(&h.cls), distinct_masks(&h));
    assert_true(classifier_n_subtables(&h.cls) >= 20);

    struct scan scan;
    scan_init(&scan, h.rules, h.n);
    for (unsigned int i = 0; i < 10000 * soak; i++) {
        struct flow flow;

        random_packet(&flow, h.rules, h.n, &seed);
        hits += check_lookup(&h, &scan, h.rules, h.n, 0, &flow, &seed);
        lookups++;
    }
    scan_destroy(&scan);
    /* The packets were drawn to hit: make sure they did, and missed too. */
    assert_true(hits > lookups / 3);
    assert_true(hits < lookups);
    check_iteration_and_targets(&h, &set, &seed);

    /* Churn: remove 40%, add more, and check again. */
    for (size_t i = 0; i < h.n; i++) {
        if (h.rules[i]->live && rnd_below(&seed, 10) < 4) {
            harness_remove(&h, h.rules[i]);
        }
    }
    for (int i = 0; i < 300; i++) {
        struct match m;

        random_rule_match(&m, &set, &seed);
        harness_add(&h, &m, (int)rnd_below(&seed, 48), 0);
    }
    assert_int_equal(classifier_count(&h.cls), live_rules(&h));
    assert_int_equal(classifier_n_subtables(&h.cls), distinct_masks(&h));
    scan_init(&scan, h.rules, h.n);
    for (unsigned int i = 0; i < 5000 * soak; i++) {
        struct flow flow;

        random_packet(&flow, h.rules, h.n, &seed);
        check_lookup(&h, &scan, h.rules, h.n, 0, &flow, &seed);
    }
    scan_destroy(&scan);
    check_iteration_and_targets(&h, &set, &seed);
    harness_destroy(&h);
}

/* A batch staged in a version: lookups in the old version agree with the
 * old rule set, lookups in the new one with the new set, before and after
 * the removed rules are unlinked. */
static void
test_random_versioned_batches_agree_with_linear_scan(void **state)
{
    (void)state;
    UNIT_SINGLE_THREADED();
    uint64_t seed = base_seed ^ 0x9876;
    struct mask_set set;
    struct harness h;
    uint64_t version = 1;

    harness_init(&h);
    random_mask_set(&set, 20, &seed);
    for (int i = 0; i < 400; i++) {
        struct match m;

        random_rule_match(&m, &set, &seed);
        harness_add(&h, &m, (int)rnd_below(&seed, 32), version);
    }

    for (unsigned int round = 0; round < 6 * soak; round++) {
        uint64_t next = version + 1;
        struct trule **removed = malloc((h.n + 100) * sizeof *removed);
        size_t n_old = h.n, n_removed = 0;
        struct scan old_scan, new_scan;

        /* The old set, as the linear scan sees it. */
        scan_init(&old_scan, h.rules, h.n);

        /* Stage: remove ~25%, add 100 (some displacing old rules). */
        for (size_t i = 0; i < n_old; i++) {
            if (h.rules[i]->live && !rnd_below(&seed, 4)) {
                classifier_remove(&h.cls, &h.rules[i]->cr, next);
                h.rules[i]->live = false;
                removed[n_removed++] = h.rules[i];
            }
        }
        for (int i = 0; i < 100; i++) {
            struct match m;
            struct trule *r;
            struct cls_rule *displaced;

            random_rule_match(&m, &set, &seed);
            r = trule_create(&m, (int)rnd_below(&seed, 32), (int)h.n);
            if (h.n == h.allocated) {
                h.allocated *= 2;
                h.rules = realloc(h.rules, h.allocated * sizeof *h.rules);
            }
            h.rules[h.n++] = r;
            r->order = h.next_order++;
            r->live = true;
            displaced = classifier_replace(&h.cls, &r->cr, next);
            if (displaced) {
                assert_true(trule_of(displaced)->live);
                trule_of(displaced)->live = false;
                removed[n_removed++] = trule_of(displaced);
            }
        }

        /* Both versions answer from their own rule set. */
        scan_init(&new_scan, h.rules, h.n);
        for (unsigned int i = 0; i < 1500; i++) {
            struct flow flow;

            random_packet(&flow, h.rules, h.n, &seed);
            check_lookup(&h, &old_scan, h.rules, h.n, version, &flow, &seed);
            check_lookup(&h, &new_scan, h.rules, h.n, next, &flow, &seed);
        }

        /* The removed rules go for good; the new version is unchanged. */
        for (size_t i = 0; i < n_removed; i++) {
            classifier_remove_now(&h.cls, &removed[i]->cr);
        }
        version = next;
        for (unsigned int i = 0; i < 1500; i++) {
            struct flow flow;

            random_packet(&flow, h.rules, h.n, &seed);
            check_lookup(&h, &new_scan, h.rules, h.n, version, &flow, &seed);
        }
        assert_int_equal(classifier_count(&h.cls), live_rules(&h));
        scan_destroy(&old_scan);
        scan_destroy(&new_scan);
        free(removed);
    }
    harness_destroy(&h);
}

/* ---- The prefix trie and the hash tables on their own ------------------- */

static void
random_prefix(struct cls_prefix *p, unsigned int n_bits, uint64_t *seed)
{
    memset(p, 0, sizeof *p);
    for (unsigned int i = 0; i < n_bits / 32; i++) {
        /* Few distinct high bits, so that prefixes share paths. */
        p->w[i] = rnd_below(seed, 2) ? rnd(seed) : rnd(seed) & 0xf000f00f;
    }
}

static bool
prefix_equal_bits(const struct cls_prefix *a, const struct cls_prefix *b,
                  unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        unsigned int wa = (a->w[i / 32] >> (31 - i % 32)) & 1;
        unsigned int wb = (b->w[i / 32] >> (31 - i % 32)) & 1;

        if (wa != wb) {
            return false;
        }
    }
    return true;
}

static void
test_trie_lookup_matches_prefix_set_and_its_bit_count(void **state)
{
    (void)state;
    UNIT_SINGLE_THREADED();
    static const unsigned int widths[] = {32, 128};

    for (size_t wi = 0; wi < ARRAY_SIZE(widths); wi++) {
        unsigned int n_bits = widths[wi];
        uint64_t seed = base_seed ^ n_bits;
        struct cls_trie trie;
        struct {
            struct cls_prefix p;
            unsigned int plen;
            bool in;
        } set[300];
        size_t n_in = 0;

        cls_trie_init(&trie, n_bits);
        for (size_t i = 0; i < ARRAY_SIZE(set); i++) {
            random_prefix(&set[i].p, n_bits, &seed);
            set[i].plen = 1 + rnd_below(&seed, n_bits);
            set[i].in = false;
        }
        for (unsigned int step = 0; step < 3000 * soak; step++) {
            size_t i = rnd_below(&seed, ARRAY_SIZE(set));

            if (set[i].in) {
                cls_trie_remove(&trie, &set[i].p, set[i].plen);
                n_in--;
            } else {
                cls_trie_insert(&trie, &set[i].p, set[i].plen);
                n_in++;
            }
            set[i].in = !set[i].in;

            /* Look up an address near a prefix, or a random one. */
            struct cls_prefix addr, other;
            struct cls_plens plens, other_plens;
            unsigned int bits;

            random_prefix(&addr, n_bits, &seed);
            if (rnd_below(&seed, 2)) {
                size_t j = rnd_below(&seed, ARRAY_SIZE(set));
                unsigned int keep = set[j].plen;

                for (unsigned int b = 0; b < keep; b++) {
                    uint32_t bit = UINT32_C(1) << (31 - b % 32);

                    addr.w[b / 32] =
                        (addr.w[b / 32] & ~bit) | (set[j].p.w[b / 32] & bit);
                }
            }
            bits = cls_trie_lookup(&trie, &addr, &plens);
            assert_true(bits <= n_bits);
            for (unsigned int len = 1; len <= n_bits; len++) {
                bool expected = false;

                for (size_t k = 0; k < ARRAY_SIZE(set) && !expected; k++) {
                    expected = set[k].in && set[k].plen == len
                               && prefix_equal_bits(&set[k].p, &addr, len);
                }
                assert_int_equal(cls_plens_contains(&plens, len), expected);
            }
            /* Every address that agrees on 'bits' leading bits gets the
             * same set. */
            random_prefix(&other, n_bits, &seed);
            for (unsigned int b = 0; b < bits; b++) {
                uint32_t bit = UINT32_C(1) << (31 - b % 32);

                other.w[b / 32] =
                    (other.w[b / 32] & ~bit) | (addr.w[b / 32] & bit);
            }
            cls_trie_lookup(&trie, &other, &other_plens);
            assert_memory_equal(&plens, &other_plens, sizeof plens);
        }
        (void)n_in;
        for (size_t i = 0; i < ARRAY_SIZE(set); i++) {
            if (set[i].in) {
                cls_trie_remove(&trie, &set[i].p, set[i].plen);
            }
        }
        assert_int_equal(cls_trie_n_prefixes(&trie), 0);
        assert_null(trie.root);
        cls_trie_destroy(&trie);
    }
}

/* ---- Concurrency -------------------------------------------------------- */

#define CC_SLOTS 8
#define CC_READERS 3
#define CC_NOISE 24

struct cc_shared {
    struct classifier cls;
    uint64_t version; /* Published with cls_version_publish(). */
    bool done;        /* Atomic. */
    pthread_barrier_t start;
    struct flow probes[CC_SLOTS];
};

struct cc_reader {
    pthread_t thread;
    struct cc_shared *sh;
    unsigned long lookups;
    unsigned long versions_seen;
    unsigned long errors;
    char first_error[200];
};

/* The batch published in version 'v' (v >= 2) is v - 2; every third batch
 * removes the slot rules, leaving the background rule (tag -1). */
static int
cc_expected_tag(uint64_t v)
{
    if (v < 2 || (v - 2) % 3 == 2) {
        return -1;
    }
    return (int)(v - 2);
}

static void *
cc_reader_main(void *reader_)
{
    struct cc_reader *reader = reader_;
    struct cc_shared *sh = reader->sh;
    uint64_t last = 0;

    rcu_thread_register();
    pthread_barrier_wait(&sh->start);
    while (!atomic_load_acquire(&sh->done)) {
        rcu_read_begin();
        uint64_t v = cls_version_get(&sh->version);
        int expected = cc_expected_tag(v);

        for (int i = 0; i < CC_SLOTS; i++) {
            struct flow_wildcards wc;
            const struct cls_rule *rule;
            int tag;

            flow_wildcards_init_catchall(&wc);
            rule = classifier_lookup(&sh->cls, v, &sh->probes[i], &wc);
            tag = rule ? trule_of(rule)->id : -2;
            /* Slot rules carry id = batch * CC_SLOTS + slot. */
            tag = tag >= 0 ? tag / CC_SLOTS : tag;
            if (tag != expected && !reader->errors++) {
                snprintf(reader->first_error, sizeof reader->first_error,
                         "version %llu slot %d: saw batch %d, expected %d",
                         (unsigned long long)v, i, tag, expected);
            }
            reader->lookups++;
        }
        rcu_read_end();
        if (v != last) {
            reader->versions_seen++;
            last = v;
        }
    }
    rcu_thread_unregister();
    return NULL;
}

static void
cc_slot_match(struct match *m, int batch, int slot)
{
    match_init_catchall(m);
    switch (batch % 4) {
    case 0:
        m_in_port(m, 1 + slot);
        break;
    case 1:
        m_in_port(m, 1 + slot);
        m_dl_type(m, ETH_TYPE_IP);
        m_nw_dst(m, ip4(10, slot, 0, 0), 16);
        break;
    case 2:
        m_dl_type(m, ETH_TYPE_IP);
        m_nw_dst(m, ip4(10, slot, 1, 0), 24);
        m_nw_proto(m, 6);
        m_tp_dst(m, 80);
        break;
    default:
        m_in_port(m, 1 + slot);
        m_dl_type(m, ETH_TYPE_IP);
        m_nw_src(m, ip4(192, 168, 0, 0), 8 + batch % 9);
        m_nw_proto(m, 6);
        break;
    }
}

static void
test_concurrent_readers_see_whole_batches(void **state)
{
    (void)state;
    struct cc_shared *sh = calloc(1, sizeof *sh);
    struct cc_reader readers[CC_READERS];
    struct trule *slots[CC_SLOTS] = {NULL};
    struct trule *noise[3][CC_NOISE] = {{NULL}};
    struct trule *background;
    unsigned int n_batches = 400 * soak;
    uint64_t seed = base_seed ^ 0xcc;
    struct match m;
    int next_noise_id = 1000000;

    classifier_init(&sh->cls);
    for (int i = 0; i < CC_SLOTS; i++) {
        tcp_flow(&sh->probes[i], 1 + i, ip4(192, 168, 3, 4), ip4(10, i, 1, 1),
                 1234, 80);
    }
    match_init_catchall(&m);
    background = trule_create(&m, 0, -1);
    classifier_insert(&sh->cls, &background->cr, 1);
    cls_version_publish(&sh->version, 1);

    pthread_barrier_init(&sh->start, NULL, CC_READERS + 1);
    for (int i = 0; i < CC_READERS; i++) {
        memset(&readers[i], 0, sizeof readers[i]);
        readers[i].sh = sh;
        pthread_create(&readers[i].thread, NULL, cc_reader_main, &readers[i]);
    }
    pthread_barrier_wait(&sh->start);

    for (unsigned int b = 0; b < n_batches; b++) {
        uint64_t v = b + 2;
        struct trule *old_slots[CC_SLOTS];
        struct trule **old_noise = noise[b % 3];

        /* Stage batch 'b' in version v. */
        memcpy(old_slots, slots, sizeof slots);
        for (int i = 0; i < CC_SLOTS; i++) {
            slots[i] = NULL;
            if (b % 3 != 2) {
                cc_slot_match(&m, (int)b, i);
                slots[i] = trule_create(&m, 100 + (int)(b % 5),
                                        (int)b * CC_SLOTS + i);
                classifier_insert(&sh->cls, &slots[i]->cr, v);
            }
            if (old_slots[i]) {
                classifier_remove(&sh->cls, &old_slots[i]->cr, v);
            }
        }
        /* Noise that never matches the probes (in_port >= 1000) but churns
         * subtables, tables and tries. */
        for (int i = 0; i < CC_NOISE; i++) {
            if (old_noise[i]) {
                classifier_remove(&sh->cls, &old_noise[i]->cr, v);
            }
        }
        struct trule *new_noise[CC_NOISE];
        for (int i = 0; i < CC_NOISE; i++) {
            match_init_catchall(&m);
            m_in_port(&m, 1000 + rnd_below(&seed, 50));
            m_dl_type(&m, ETH_TYPE_IP);
            m_nw_dst(&m, ip4(10, rnd_below(&seed, 8), rnd_below(&seed, 4), 0),
                     4 + rnd_below(&seed, 28));
            if (rnd_below(&seed, 2)) {
                m_tp_dst(&m, 80);
                m_nw_proto(&m, 6);
            }
            /* Unique priorities: noise never displaces noise. */
            new_noise[i] =
                trule_create(&m, next_noise_id - 1000000, next_noise_id);
            next_noise_id++;
            classifier_insert(&sh->cls, &new_noise[i]->cr, v);
        }

        /* Publish, wait until no reader can use v - 1, unlink the old
         * rules, and free them after another grace period. */
        cls_version_publish(&sh->version, v);
        rcu_synchronize();
        for (int i = 0; i < CC_SLOTS; i++) {
            if (old_slots[i]) {
                classifier_remove_now(&sh->cls, &old_slots[i]->cr);
                rcu_postpone(trule_free_cb, old_slots[i]);
            }
        }
        for (int i = 0; i < CC_NOISE; i++) {
            if (old_noise[i]) {
                classifier_remove_now(&sh->cls, &old_noise[i]->cr);
                rcu_postpone(trule_free_cb, old_noise[i]);
            }
            old_noise[i] = new_noise[i];
        }
    }

    atomic_store_release(&sh->done, true);
    unsigned long lookups = 0, versions = 0;
    for (int i = 0; i < CC_READERS; i++) {
        pthread_join(readers[i].thread, NULL);
        if (readers[i].errors) {
            fail_msg("reader %d: %lu inconsistent lookups; first: %s", i,
                     readers[i].errors, readers[i].first_error);
        }
        lookups += readers[i].lookups;
        versions += readers[i].versions_seen;
    }
    assert_true(lookups > 0);
    assert_true(versions >= 2);
    print_message("%d readers: %lu lookups, %lu version changes seen, "
                  "%u batches\n",
                  CC_READERS, lookups, versions, n_batches);

    /* Tear down. */
    for (int i = 0; i < CC_SLOTS; i++) {
        if (slots[i]) {
            classifier_remove_now(&sh->cls, &slots[i]->cr);
            trule_free(slots[i]);
        }
    }
    for (int g = 0; g < 3; g++) {
        for (int i = 0; i < CC_NOISE; i++) {
            if (noise[g][i]) {
                classifier_remove_now(&sh->cls, &noise[g][i]->cr);
                trule_free(noise[g][i]);
            }
        }
    }
    classifier_remove_now(&sh->cls, &background->cr);
    trule_free(background);
    assert_true(classifier_is_empty(&sh->cls));
    classifier_destroy(&sh->cls);
    pthread_barrier_destroy(&sh->start);
    rcu_wait_postponed();
    free(sh);
}

/* ---- Main --------------------------------------------------------------- */

static int
group_setup(void **state)
{
    (void)state;
    read_knobs();
    rcu_thread_register();
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rcu_wait_postponed(); /* Run the postponed frees. */
    rcu_thread_unregister();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_classifier_matches_nothing),
        cmocka_unit_test(test_highest_priority_match_wins),
        cmocka_unit_test(test_equal_priority_tie_goes_to_newest_rule),
        cmocka_unit_test(test_replace_displaces_same_match_and_priority),
        cmocka_unit_test(test_find_rule_exactly_needs_same_match_and_priority),
        cmocka_unit_test(test_iteration_visits_every_rule_and_allows_removal),
        cmocka_unit_test(
            test_loose_target_iteration_follows_openflow_semantics),
        cmocka_unit_test(test_rule_is_visible_only_within_its_versions),
        cmocka_unit_test(test_udp_packet_does_not_unwildcard_tcp_port),
        cmocka_unit_test(test_prefix_trie_limits_unwildcarded_address_bits),
        cmocka_unit_test(test_ipv6_prefix_trie_limits_unwildcarded_bits),
        cmocka_unit_test(
            test_ports_trie_exact_tp_dst_miss_unwildcards_leading_bits),
        cmocka_unit_test(
            test_ports_trie_exact_both_ports_unwildcards_source_first),
        cmocka_unit_test(
            test_ports_trie_prefix_masked_tp_dst_unwildcards_leading_bits),
        cmocka_unit_test(
            test_ports_trie_masked_tp_src_alone_leaves_tp_dst_wildcarded),
        cmocka_unit_test(
            test_ports_trie_non_prefix_mask_unwildcards_only_mask_bits),
        cmocka_unit_test(
            test_ports_trie_miss_on_tcp_flags_unwildcards_whole_mask),
        cmocka_unit_test(test_staged_miss_at_l2_leaves_l3_and_l4_wildcarded),
        cmocka_unit_test(test_lower_priority_subtables_add_no_bits),
        cmocka_unit_test(test_random_rules_agree_with_linear_scan),
        cmocka_unit_test(test_random_versioned_batches_agree_with_linear_scan),
        cmocka_unit_test(
            test_trie_lookup_matches_prefix_set_and_its_bit_count),
        cmocka_unit_test(test_concurrent_readers_see_whole_batches),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
