/*
 * bench/bench-memory.c — bytes of memory per cached flow.
 *
 *   flowswitch-bench memory [--quick] [--json]
 *
 * What one more cached flow costs: its datapath megaflow (flow table
 * entry, dpcls rule, ufid index, actions) and its ukey (key, mask,
 * actions reference, xlate cache).  For N = 100 000 and 1 000 000 flows
 * (--quick: 20 000), a fresh datapath and udpif over the 10 000-rule
 * bridge of bench-upcall.h; the N flows are put the way a handler puts
 * them (bench_upcall_put_flows(): translated, the translation's mask plus
 * nw_src), then one revalidator round adopts them (a ukey each) and, since
 * the adopted ukeys were never translated, translates each (an xlate
 * cache each, built by the same code a handler's is).  One round only:
 * the flow limit adapts to the round's duration, and a second round after
 * a slow first one could start evicting.  The figures are deltas of the
 * process's resident set size (/proc/self/statm):
 *
 *     datapath B/flow = (RSS with the flows - RSS before) / N
 *     ukey B/flow     = (RSS with the ukeys - RSS with the flows) / N
 *
 * RSS counts pages touched, so the figures include allocator overhead and
 * hash-table slack (tables grow by doubling: a count just past a power of
 * two pays for empty buckets) — what an operator sizing a box sees, not
 * sizeof().  The heap is trimmed between sizes so that one size's freed
 * memory does not hide the next one's growth.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench-upcall.h"
#include "bench/bench.h"
#include "datapath/datapath.h"
#include "datapath/dp-actions.h"
#include "lib/rcu.h"
#include "lib/util.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "upcall/ukey.h"
#include "upcall/upcall.h"

#define BENCH_MEM_N_RULES 10000

struct bench_mem_result {
    size_t n_flows;
    size_t n_ukeys;
    uint64_t rss_before_kb;
    uint64_t rss_flows_kb; /* Datapath flows put, no ukeys yet. */
    uint64_t rss_ukeys_kb; /* ...and every flow's ukey with its cache. */
};

static double
bench_mem_per_flow(uint64_t from_kb, uint64_t to_kb, size_t n_flows)
{
    return ((double)to_kb - (double)from_kb) * 1024.0 / (double)n_flows;
}

static void
bench_mem_run(struct ofproto *ofp, size_t n_flows, bool quick, int step,
              int n_steps, struct bench_mem_result *res)
{
    struct dp *dp = bench_upcall_quiet_dp(n_flows + 1000, "memory");
    struct udpif *udpif = bench_upcall_quiet_udpif(dp, ofp, 1, "memory");
    struct upcall_revalidator_stats rs;
    struct dp_stats st;

    memset(res, 0, sizeof *res);
    res->n_flows = n_flows;
    upcall_revalidator_wait(udpif); /* The threads' own memory is in. */
    res->rss_before_kb = bench_upcall_rss_kb();

    bench_progress("memory", quick, step, n_steps, "%zu flows: putting",
                   n_flows);
    bench_upcall_put_flows(dp, ofp, n_flows, BENCH_MEM_N_RULES);
    res->rss_flows_kb = bench_upcall_rss_kb();

    bench_progress("memory", quick, step, n_steps,
                   "%zu flows: ukeys and xlate caches", n_flows);
    /* The bridge's flow-mods bumped the table-change sequence past the
     * adopted ukeys' (0), so this round translates every flow. */
    upcall_revalidator_wait(udpif); /* Adopts and translates. */
    res->rss_ukeys_kb = bench_upcall_rss_kb();
    bench_progress_end();

    dp_get_stats(dp, &st);
    upcall_get_revalidator_stats(udpif, &rs);
    res->n_ukeys = rs.n_ukeys;
    if (st.n_flows != n_flows || rs.n_ukeys != n_flows || rs.n_deleted_total) {
        fatal("bench memory: %llu flows and %zu ukeys for %zu flows put "
              "(%llu deleted): the figures would not be per flow",
              (unsigned long long)st.n_flows, rs.n_ukeys, n_flows,
              (unsigned long long)rs.n_deleted_total);
    }

    upcall_destroy(udpif);
    dp_destroy(dp);
    /* The postponed frees run, then the process-wide pools of ukeys,
     * xlate caches and action lists and the heap give their pages back
     * before the next size. */
    rcu_wait_postponed();
    ukey_trim_memory(0);
    xlate_cache_trim_memory(0);
    dp_actions_trim_memory(0);
    malloc_trim(0);
}

static void
bench_mem_print(const struct bench_mem_result *r, bool json)
{
    double dp_b =
        bench_mem_per_flow(r->rss_before_kb, r->rss_flows_kb, r->n_flows);
    double ukey_b =
        bench_mem_per_flow(r->rss_flows_kb, r->rss_ukeys_kb, r->n_flows);

    if (json) {
        printf("{\"bench\":\"memory\",\"flows\":%zu,\"ukeys\":%zu,"
               "\"rss_before_kb\":%llu,\"rss_flows_kb\":%llu,"
               "\"rss_ukeys_kb\":%llu,\"dp_bytes_per_flow\":%.0f,"
               "\"ukey_bytes_per_flow\":%.0f,\"bytes_per_flow\":%.0f}\n",
               r->n_flows, r->n_ukeys, (unsigned long long)r->rss_before_kb,
               (unsigned long long)r->rss_flows_kb,
               (unsigned long long)r->rss_ukeys_kb, dp_b, ukey_b,
               dp_b + ukey_b);
    } else {
        printf("  %9zu %10.1f %10.1f %12.0f %12.0f %12.0f\n", r->n_flows,
               r->rss_before_kb / 1024.0, r->rss_ukeys_kb / 1024.0, dp_b,
               ukey_b, dp_b + ukey_b);
    }
}

int
bench_memory_main(int argc, char *argv[])
{
    static const size_t flow_counts[] = {100000, 1000000};
    static const size_t quick_counts[] = {20000};
    bool quick = false, json = false;
    const size_t *counts;
    struct ofproto *ofp;
    size_t n_counts;

    if (!bench_parse_options("bench memory", argc, argv, &quick, &json)) {
        return 2;
    }
    counts = quick ? quick_counts : flow_counts;
    n_counts = quick ? ARRAY_SIZE(quick_counts) : ARRAY_SIZE(flow_counts);

    rcu_thread_register();
    ofp = bench_upcall_bridge(BENCH_MEM_N_RULES, "memory");
    if (!json) {
        printf("memory: RSS per cached flow (datapath megaflow + ukey with "
               "its xlate cache), %d rules exact on tp_src\n",
               BENCH_MEM_N_RULES);
        printf("  %9s %10s %10s %12s %12s %12s\n", "flows", "RSS0 MB",
               "RSS MB", "dp B/flow", "ukey B/flow", "total B/flow");
    }
    for (size_t i = 0; i < n_counts; i++) {
        struct bench_mem_result res;

        bench_mem_run(ofp, counts[i], quick, (int)i + 1, (int)n_counts, &res);
        bench_mem_print(&res, json);
    }
    ofproto_destroy(ofp);
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}
