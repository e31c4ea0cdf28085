/*
 * bench/bench-groups.c — what a group statistics request costs.
 *
 *   flowswitch-bench groups [--quick] [--json]
 *
 * A bridge with G groups (all, one bucket) and R rules exact on nw_src,
 * rule i naming group i % G + 1 (half of them twice: apply and write
 * actions).  Each figure is the time of one ofproto_dump_groups() with
 * statistics, best of 5, which is what `dump-group-stats` and an OpenFlow
 * GROUP multipart (a controller polling its groups) cost: the groups'
 * counters, and each group's ref_count, the number of rules naming it.
 * G x R: 100 x 10k, 1k x 10k, 1k x 100k (--quick: 100 x 1k).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "flow/flow-text.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "ofproto/group.h"
#include "ofproto/ofproto.h"

#define BENCH_GROUPS_BATCH 1000

static void
bench_groups_fill(struct ofproto *ofp, size_t n_groups, size_t n_rules)
{
    struct flow_text *mods = xcalloc(BENCH_GROUPS_BATCH, sizeof *mods);
    size_t n = 0;
    char *error = NULL;

    for (size_t g = 1; g <= n_groups; g++) {
        char text[64];

        snprintf(text, sizeof text, "group_id=%zu,type=all,bucket=output:2",
                 g);
        if (ofproto_group_mod_str(ofp, text, GROUP_MOD_ADD, &error)) {
            fprintf(stderr, "bench groups: %s\n", error);
            exit(1);
        }
    }
    for (size_t i = 0; i < n_rules; i++) {
        char line[160];

        snprintf(line, sizeof line,
                 "ip,nw_src=10.%zu.%zu.%zu,actions=group:%zu%s",
                 i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff, i % n_groups + 1,
                 i % 2 ? ",write_actions(group:1)" : "");
        if (flow_text_parse(line, FLOW_TEXT_ADD, &mods[n++], &error)) {
            fprintf(stderr, "bench groups: %s\n", error);
            exit(1);
        }
        if (n == BENCH_GROUPS_BATCH || i + 1 == n_rules) {
            if (ofproto_flow_mods(ofp, mods, n, &error)) {
                fprintf(stderr, "bench groups: %s\n", error);
                exit(1);
            }
            for (size_t k = 0; k < n; k++) {
                flow_text_destroy(&mods[k]);
            }
            n = 0;
        }
    }
    free(mods);
}

/* Best of 5 dumps, in microseconds; '*bytes' the length of the text. */
static uint64_t
bench_groups_dump(struct ofproto *ofp, size_t *bytes)
{
    uint64_t best = UINT64_MAX;

    for (int rep = 0; rep < 5; rep++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        uint64_t start = time_nsec(), took;

        ofproto_dump_groups(ofp, GROUP_ID_ALL, true, &s);
        took = (time_nsec() - start) / 1000;
        best = MIN(best, took);
        *bytes = s.length;
        ds_destroy(&s);
    }
    return best;
}

int
bench_groups_main(int argc, char *argv[])
{
    static const size_t sizes[][2] = {
        {100, 10000}, {1000, 10000}, {1000, 100000}};
    static const size_t quick_size[][2] = {{100, 1000}};
    bool quick = false, json = false;
    size_t n_sizes;

    if (!bench_parse_options("bench groups", argc, argv, &quick, &json)) {
        return 2;
    }
    n_sizes = quick ? ARRAY_SIZE(quick_size) : ARRAY_SIZE(sizes);
    rcu_thread_register();
    if (!json) {
        printf("groups: one dump-group-stats (every group, ref counts)\n");
        printf("%8s %8s %12s %12s\n", "groups", "rules", "usec", "bytes");
    }
    for (size_t k = 0; k < n_sizes; k++) {
        const size_t *sz = quick ? quick_size[k] : sizes[k];
        struct ofproto *ofp = ofproto_create("br0");
        size_t bytes = 0;
        uint64_t usec;

        bench_progress("groups", quick, (int)k + 1, (int)n_sizes,
                       "%zu groups, %zu rules", sz[0], sz[1]);
        bench_groups_fill(ofp, sz[0], sz[1]);
        usec = bench_groups_dump(ofp, &bytes);
        bench_progress_end();
        if (json) {
            printf("{\"bench\":\"groups\",\"groups\":%zu,\"rules\":%zu,"
                   "\"usec\":%" PRIu64 "}\n",
                   sz[0], sz[1], usec);
        } else {
            printf("%8zu %8zu %12" PRIu64 " %12zu\n", sz[0], sz[1], usec,
                   bytes);
        }
        fflush(stdout);
        ofproto_destroy(ofp);
    }
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}
