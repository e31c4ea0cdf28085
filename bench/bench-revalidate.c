/*
 * bench/bench-revalidate.c — time per revalidator round.
 *
 *   flowswitch-bench revalidate [--quick] [--json]
 *
 * A bridge with 10 000 rules exact on tcp,tp_src (bench-upcall.h) and a
 * datapath holding N flows (10k, 100k, 200k; --quick: 10k) put the way a
 * handler would: each key (in_port 1, tcp, tp_src 1..10 000, a distinct
 * nw_src) is translated and installed with the translation's actions and
 * its mask plus nw_src, so every flow is consistent with the tables.  The
 * flows are put before the udpif exists; its first round adopts them
 * (ukeys).  Then, for 1 and 2 revalidator threads:
 *   "unchanged": upcall_revalidator_wait() — a round that dumps every flow,
 *                finds its ukey, finds nothing to do;
 *   "changed":   ofproto_bump_change_seq() — a round that translates every
 *                flow again (full revalidation) and keeps it.
 * Each figure is the leader's whole round (dump, decisions, sweep), best of
 * R rounds (--quick: 1); "flows/s/thread" divides N / round time by the
 * thread count.  max_idle and max_revalidator are huge, so no round runs
 * except the ones measured.
 *
 * The memory row: RSS before a storm of S flows (500k; --quick 50k),
 * after their ukeys exist, and after they expired (max_idle 0) and the
 * revalidators gave the memory back (malloc_trim after big sweeps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench-upcall.h"
#include "bench/bench.h"
#include "classifier/classifier.h"
#include "datapath/datapath.h"
#include "flow/flow.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "packet/headers.h"
#include "upcall/upcall.h"

#define BENCH_RV_N_RULES 10000

static struct upcall_revalidator_stats
bench_rv_stats(struct udpif *udpif)
{
    struct upcall_revalidator_stats st;

    upcall_get_revalidator_stats(udpif, &st);
    return st;
}

/* Waits until a round later than 'n_rounds' ended; returns its usec. */
static uint64_t
bench_rv_next_round(struct udpif *udpif, uint64_t n_rounds)
{
    uint64_t deadline = time_msec() + 120000;

    for (;;) {
        struct upcall_revalidator_stats st = bench_rv_stats(udpif);

        if (st.n_rounds > n_rounds) {
            return st.last_round_usec;
        }
        if (time_msec() > deadline) {
            fatal("bench revalidate: no round ended");
        }
        bench_upcall_sleep_us(200);
    }
}

/* Best round time in usec over 'n_runs' rounds of one kind. */
static uint64_t
bench_rv_best(struct udpif *udpif, struct ofproto *ofp, bool change,
              int n_runs)
{
    uint64_t best = UINT64_MAX;

    for (int run = 0; run < n_runs; run++) {
        uint64_t before = bench_rv_stats(udpif).n_rounds, usec;

        if (change) {
            /* The leader notices within 10 ms and starts one round. */
            ofproto_bump_change_seq(ofp);
        } else {
            upcall_revalidator_wait(udpif);
        }
        usec = bench_rv_next_round(udpif, before);
        best = MIN(best, usec);
    }
    if (bench_rv_stats(udpif).n_deleted_total) {
        fatal("bench revalidate: rounds deleted flows (the figures would "
              "not be for N flows)");
    }
    return best;
}

static void
bench_rv_row(bool json, size_t n_flows, unsigned int n_rv, bool change,
             uint64_t usec)
{
    double sec = (double)MAX(usec, (uint64_t)1) / 1e6;
    double per_thread = (double)n_flows / sec / n_rv;

    if (json) {
        printf("{\"bench\":\"revalidate\",\"flows\":%zu,\"revalidators\":%u,"
               "\"table_change\":%s,\"round_ms\":%.2f,"
               "\"flows_per_s_per_thread\":%.0f}\n",
               n_flows, n_rv, change ? "true" : "false", sec * 1e3,
               per_thread);
    } else {
        printf("  %-8zu %-12u %-9s %12.2f %18.0f\n", n_flows, n_rv,
               change ? "changed" : "unchanged", sec * 1e3, per_thread);
    }
}

static void
bench_rv_memory(struct ofproto *ofp, size_t n_flows, bool json)
{
    struct dp *dp = bench_upcall_quiet_dp(n_flows + 1000, "revalidate");
    struct udpif *udpif = bench_upcall_quiet_udpif(dp, ofp, 1, "revalidate");
    uint64_t before, peak, after, deadline;
    struct dp_stats st;

    upcall_revalidator_wait(udpif);
    before = bench_upcall_rss_kb();
    bench_upcall_put_flows(dp, ofp, n_flows, BENCH_RV_N_RULES);
    upcall_revalidator_wait(udpif); /* Adopted: every flow has a ukey. */
    peak = bench_upcall_rss_kb();

    upcall_set_max_idle(udpif, 0);
    upcall_revalidator_wait(udpif);
    dp_get_stats(dp, &st);
    if (st.n_flows) {
        fatal("bench revalidate: %llu flows left after expiry",
              (unsigned long long)st.n_flows);
    }
    /* The memory comes back once the grace periods passed and the
     * following rounds trimmed the heap. */
    deadline = time_msec() + 10000;
    do {
        upcall_revalidator_wait(udpif);
        after = bench_upcall_rss_kb();
    } while (after > before + before / 5 && time_msec() < deadline);

    bench_progress_end();
    if (json) {
        printf("{\"bench\":\"revalidate\",\"memory_flows\":%zu,"
               "\"rss_before_kb\":%llu,\"rss_peak_kb\":%llu,"
               "\"rss_after_kb\":%llu}\n",
               n_flows, (unsigned long long)before, (unsigned long long)peak,
               (unsigned long long)after);
    } else {
        printf("  memory: %zu flows expired: RSS %.1f MB before, %.1f MB "
               "with the flows, %.1f MB after (%+.1f %%)\n",
               n_flows, before / 1024.0, peak / 1024.0, after / 1024.0,
               100.0 * ((double)after - (double)before) / (double)before);
    }
    upcall_destroy(udpif);
    dp_destroy(dp);
    rcu_wait_postponed();
}

int
bench_revalidate_main(int argc, char *argv[])
{
    static const size_t flow_counts[] = {10000, 100000, 200000};
    static const unsigned int rv_counts[] = {1, 2};
    bool quick = false, json = false;
    struct ofproto *ofp;
    int n_runs, n_steps;

    if (!bench_parse_options("bench revalidate", argc, argv, &quick, &json)) {
        return 2;
    }
    n_runs = quick ? 1 : 5;

    rcu_thread_register();
    ofp = bench_upcall_bridge(BENCH_RV_N_RULES, "revalidate");
    if (!json) {
        printf("revalidate: round time over N flows (%d rules exact on "
               "tp_src), best of %d rounds\n",
               BENCH_RV_N_RULES, n_runs);
    }
    n_steps =
        1
        + (int)((quick ? 1 : ARRAY_SIZE(flow_counts)) * ARRAY_SIZE(rv_counts));
    /* First, while the heap is fresh. */
    bench_progress("revalidate", quick, 1, n_steps,
                   "memory: %d flows put, adopted, expired",
                   quick ? 50000 : 500000);
    bench_rv_memory(ofp, quick ? 50000 : 500000, json);
    if (!json) {
        printf("  %-8s %-12s %-9s %12s %18s\n", "flows", "revalidators",
               "tables", "round ms", "flows/s/thread");
    }

    for (size_t f = 0; f < (quick ? 1 : ARRAY_SIZE(flow_counts)); f++) {
        size_t n_flows = flow_counts[f];

        for (size_t r = 0; r < ARRAY_SIZE(rv_counts); r++) {
            struct dp *dp =
                bench_upcall_quiet_dp(n_flows + 1000, "revalidate");
            struct udpif *udpif;

            uint64_t unchanged, changed;

            bench_progress("revalidate", quick,
                           (int)(2 + f * ARRAY_SIZE(rv_counts) + r), n_steps,
                           "%zu flows, %u revalidator(s)", n_flows,
                           rv_counts[r]);
            bench_upcall_put_flows(dp, ofp, n_flows, BENCH_RV_N_RULES);
            udpif =
                bench_upcall_quiet_udpif(dp, ofp, rv_counts[r], "revalidate");
            upcall_revalidator_wait(udpif); /* Adoption. */
            unchanged = bench_rv_best(udpif, ofp, false, n_runs);
            changed = bench_rv_best(udpif, ofp, true, n_runs);
            bench_progress_end();
            bench_rv_row(json, n_flows, rv_counts[r], false, unchanged);
            bench_rv_row(json, n_flows, rv_counts[r], true, changed);
            upcall_destroy(udpif);
            dp_destroy(dp);
            rcu_wait_postponed();
        }
    }
    ofproto_destroy(ofp);
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}
