/*
 * bench/bench-classifier.c — OpenFlow classifier lookups per second.
 *
 *   flowswitch-bench classifier [--quick] [--json]
 *
 * For 1k, 10k and 100k rules spread over 1, 10 and 50 subtables (distinct
 * masks drawn from realistic IPv4 field combinations: in_port, dl_type,
 * nw_src/nw_dst prefixes of several lengths, nw_proto, tp_src/tp_dst,
 * dl_dst, metadata), looks up a fixed set of flows round-robin with
 * wildcard tracking on, in one thread, and reports lookups per second.
 * About 90% of the flows are drawn from a rule (the rule's values, anything
 * in its wildcarded bits) so that they hit; the rest go to a network no
 * rule covers, so they miss (with the prefix tries at work).  Priorities are uniform in [0, 1000), so every subtable's maximum
 * is near the top and the lookup rarely stops early: this is the
 * tuple-space-search worst case, not a best case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "classifier/classifier.h"
#include "flow/flow.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"

#define BENCH_CLS_N_FLOWS 8192

/* Where the results of the lookups go, so that they are not optimized out. */
static volatile uintptr_t bench_cls_sink;

struct bench_cls_rule {
    struct cls_rule cr;
    struct match match;
};

static uint64_t
bench_cls_rnd(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t
bench_cls_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(bench_cls_rnd(s) >> 32) % n;
}

static be32
bench_cls_prefix(unsigned int plen)
{
    return htonl(plen ? UINT32_MAX << (32 - plen) : 0);
}

/* A random IPv4 TCP/UDP flow of the kind the rules match. */
static void
bench_cls_flow(struct flow *f, uint64_t *s)
{
    static const uint16_t ports[] = {80, 443, 22, 53, 123, 8080};

    memset(f, 0, sizeof *f);
    f->metadata = bench_cls_below(s, 4);
    f->in_port = 1 + bench_cls_below(s, 64);
    f->dl_dst.ea[0] = 0x02;
    f->dl_dst.ea[5] = (uint8_t)bench_cls_below(s, 256);
    f->dl_src.ea[0] = 0x02;
    f->dl_src.ea[4] = (uint8_t)bench_cls_below(s, 256);
    f->dl_type = htons(ETH_TYPE_IP);
    f->nw_src = htonl(0x0a000000 | (uint32_t)(bench_cls_rnd(s) & 0xffffff));
    f->nw_dst = htonl((bench_cls_below(s, 2) ? 0x0a000000 : 0xac100000)
                      | (uint32_t)(bench_cls_rnd(s) & 0xfffff));
    f->nw_proto = bench_cls_below(s, 4) ? 6 : 17;
    f->nw_ttl = 64;
    f->tp_src = htons(1024 + bench_cls_below(s, 60000));
    f->tp_dst = htons(bench_cls_below(s, 2) ? ports[bench_cls_below(s, 6)]
                                            : 1 + bench_cls_below(s, 65535));
}

static void
bench_cls_random_mask(struct flow_wildcards *wc, uint64_t *s)
{
    static const unsigned int src_plens[] = {0, 0, 8, 16, 24, 32};
    static const unsigned int dst_plens[] = {8, 12, 16, 20, 24, 28, 32};
    struct flow *m = &wc->masks;

    memset(wc, 0, sizeof *wc);
    m->dl_type = UINT16_MAX;
    if (bench_cls_below(s, 2)) {
        m->in_port = UINT32_MAX;
    }
    if (!bench_cls_below(s, 8)) {
        m->metadata = UINT64_MAX;
    }
    if (!bench_cls_below(s, 8)) {
        memset(&m->dl_dst, 0xff, sizeof m->dl_dst);
    }
    m->nw_src = bench_cls_prefix(src_plens[bench_cls_below(s, 6)]);
    m->nw_dst = bench_cls_prefix(dst_plens[bench_cls_below(s, 7)]);
    if (bench_cls_below(s, 3)) {
        m->nw_proto = UINT8_MAX;
        if (bench_cls_below(s, 2)) {
            m->tp_dst = UINT16_MAX;
        }
        if (!bench_cls_below(s, 6)) {
            m->tp_src = UINT16_MAX;
        }
    }
}

/* 'n' distinct masks; a single one is the classic 5-tuple-ish ACL mask. */
static struct flow_wildcards *
bench_cls_masks(size_t n, uint64_t *s)
{
    struct flow_wildcards *masks = xcalloc(n, sizeof *masks);
    size_t have = 0;

    if (n == 1) {
        masks[0].masks.in_port = UINT32_MAX;
        masks[0].masks.dl_type = UINT16_MAX;
        masks[0].masks.nw_dst = bench_cls_prefix(24);
        masks[0].masks.nw_proto = UINT8_MAX;
        masks[0].masks.tp_dst = UINT16_MAX;
        return masks;
    }
    while (have < n) {
        bool dup = false;

        bench_cls_random_mask(&masks[have], s);
        for (size_t i = 0; i < have && !dup; i++) {
            dup = flow_wildcards_equal(&masks[i], &masks[have]);
        }
        have += !dup;
    }
    return masks;
}

struct bench_cls_result {
    double lookups_per_s;
    double hit_ratio;
};

static void
bench_cls_run(size_t n_rules, size_t n_subtables, uint64_t duration_ns,
              struct bench_cls_result *result)
{
    uint64_t seed = 0xc1a55 ^ (n_rules * 131 + n_subtables);
    struct flow_wildcards *masks = bench_cls_masks(n_subtables, &seed);
    struct bench_cls_rule **rules =
        xcalloc(n_rules, sizeof(struct bench_cls_rule *));
    struct flow *flows = xcalloc(BENCH_CLS_N_FLOWS, sizeof *flows);
    struct classifier cls;
    size_t n = 0;

    classifier_init(&cls);
    for (size_t i = 0; i < n_rules; i++) {
        struct bench_cls_rule *r = xmalloc(sizeof *r);
        struct cls_rule *displaced;
        struct flow flow;

        bench_cls_flow(&flow, &seed);
        match_init(&r->match, &flow, &masks[i % n_subtables]);
        cls_rule_init(&r->cr, &r->match, (int)bench_cls_below(&seed, 1000));
        displaced = classifier_replace(&cls, &r->cr, 1);
        if (displaced) {
            /* Same match and priority: keep the count honest. */
            for (size_t j = 0; j < n; j++) {
                if (&rules[j]->cr == displaced) {
                    classifier_remove_now(&cls, displaced);
                    cls_rule_destroy(displaced);
                    free(rules[j]);
                    rules[j] = rules[--n];
                    break;
                }
            }
        }
        rules[n++] = r;
    }

    /* 90% near a rule, 10% random. */
    for (size_t i = 0; i < BENCH_CLS_N_FLOWS; i++) {
        struct flow *f = &flows[i];

        bench_cls_flow(f, &seed);
        if (bench_cls_below(&seed, 10)) {
            const struct match *m = &rules[bench_cls_below(&seed, n)]->match;
            uint64_t *w = flow_u64s_rw(f);

            for (size_t k = 0; k < FLOW_U64S; k++) {
                uint64_t mask = flow_u64s(&m->wc.masks)[k];

                w[k] = (flow_u64s(&m->flow)[k] & mask) | (w[k] & ~mask);
            }
        } else {
            /* Every mask matches nw_dst inside 10/8 or 172.16/12. */
            f->nw_dst = htonl(0xc0a80000 | bench_cls_below(&seed, 65536));
        }
    }

    size_t hits = 0;
    for (size_t i = 0; i < BENCH_CLS_N_FLOWS; i++) {
        hits += classifier_lookup(&cls, 1, &flows[i], NULL) != NULL;
    }
    result->hit_ratio = (double)hits / BENCH_CLS_N_FLOWS;

    /* The measurement: batches of lookups inside a read-side section. */
    uint64_t start = time_nsec(), elapsed;
    uint64_t lookups = 0;
    uintptr_t sink = 0;
    do {
        rcu_read_begin();
        for (size_t i = 0; i < BENCH_CLS_N_FLOWS; i++) {
            struct flow_wildcards wc;

            flow_wildcards_init_catchall(&wc);
            sink += (uintptr_t)classifier_lookup(&cls, 1, &flows[i], &wc);
            sink += (uintptr_t)wc.masks.nw_dst;
        }
        rcu_read_end();
        lookups += BENCH_CLS_N_FLOWS;
        elapsed = time_nsec() - start;
    } while (elapsed < duration_ns);
    result->lookups_per_s = lookups * 1e9 / elapsed;
    bench_cls_sink = sink;

    /* No reader is left: destroying the classifier unlinks every rule. */
    classifier_destroy(&cls);
    for (size_t i = 0; i < n; i++) {
        cls_rule_destroy(&rules[i]->cr);
        free(rules[i]);
    }
    free(rules);
    free(flows);
    free(masks);
}

int
bench_classifier_main(int argc, char *argv[])
{
    static const size_t rule_counts[] = {1000, 10000, 100000};
    static const size_t subtable_counts[] = {1, 10, 50};
    bool quick = false, json = false;

    if (!bench_parse_options("bench classifier", argc, argv, &quick, &json)) {
        return 2;
    }

    rcu_thread_register();
    if (!json) {
        printf("classifier: lookups with wildcard tracking, one thread\n");
        printf("%8s %10s %14s %12s %8s\n", "rules", "subtables", "lookups/s",
               "ns/lookup", "hit %");
    }
    for (size_t r = 0; r < ARRAY_SIZE(rule_counts); r++) {
        for (size_t s = 0; s < ARRAY_SIZE(subtable_counts); s++) {
            struct bench_cls_result res;

            bench_progress(
                "classifier", quick,
                (int)(r * ARRAY_SIZE(subtable_counts) + s + 1),
                (int)(ARRAY_SIZE(rule_counts) * ARRAY_SIZE(subtable_counts)),
                "%zu rules, %zu subtables", rule_counts[r],
                subtable_counts[s]);
            bench_cls_run(rule_counts[r], subtable_counts[s],
                          quick ? 50000000 : 1000000000, &res);
            bench_progress_end();
            if (json) {
                printf("{\"bench\":\"classifier\",\"rules\":%zu,"
                       "\"subtables\":%zu,\"lookups_per_s\":%.0f,"
                       "\"hit_ratio\":%.3f}\n",
                       rule_counts[r], subtable_counts[s], res.lookups_per_s,
                       res.hit_ratio);
            } else {
                printf("%8zu %10zu %14.0f %12.1f %8.1f\n", rule_counts[r],
                       subtable_counts[s], res.lookups_per_s,
                       1e9 / res.lookups_per_s, 100 * res.hit_ratio);
            }
            fflush(stdout);
        }
    }
    rcu_wait_postponed(); /* Let the postponed frees run. */
    rcu_thread_unregister();
    return 0;
}
