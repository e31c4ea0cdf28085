/*
 * bench/bench-fastpath.c — packets per second through the datapath.
 *
 *   flowswitch-bench fastpath [--quick] [--json] [--meter]
 *                             [--only=FLOWS,MASKS,EMC(0|1),THREADS(1|2)]
 *
 * Each datapath thread polls one memory port in generator mode (netdev.h:
 * recv hands out copies of pre-built frames, from the packet pool, round
 * robin) and every megaflow outputs to one memory port in sink mode (send
 * counts and recycles), so the numbers measure the whole fast path — rx,
 * parse, EMC, dpcls, grouping, stats, tx — and nothing of the kernel.
 *
 * Traffic.  F megaflows spread evenly over M masks; one 64-byte IPv4/TCP
 * frame per megaflow, in random order, so consecutive packets belong to
 * different flows (the generator cycles through them) and, with M masks
 * and uniform traffic, a dpcls lookup probes (M + 1) / 2 subtables on
 * average: the subtable ordering cannot help, which makes this the worst
 * case for the classifier, not a best case.  All masks include in_port,
 * dl_type and the top 16 bits of nw_dst (10.K.0.0, K the mask's number),
 * so megaflows of different masks never overlap; mask K then adds an
 * nw_src prefix of 32 - K bits (every megaflow its own prefix) and, for
 * odd K, tp_dst.
 *
 * Rows: 1, 1k and 100k flows over 1, 10 and 20 masks, EMC on (insertion
 * probability 1/100, the default) and off, one datapath thread; plus
 * two-thread rows, each thread with its own port and its own half of the
 * flows.  Each row warms up, then counts received packets over a fixed
 * interval.  The "hit" column is the share of all the row's packets that
 * hit a megaflow (exactly 100% when all is well: counted after the traffic
 * stopped), "emc" the share of the interval's packets found in the EMC,
 * "probes" the subtables probed per dpcls hit.
 *
 * --meter puts a meter(0) action before the output of every megaflow,
 * meter 0 a pktps meter with one drop band at 4e9 packets/s (never
 * exceeded): the difference from a run without it is what metering costs
 * a packet that passes (token bucket refill and take, statistics).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "datapath/datapath.h"
#include "datapath/dp-meter.h"
#include "flow/flow.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "tests/unit/unit-frames.h"

#define BENCH_FP_SINK_PORT 1000
#define BENCH_FP_FRAME_LEN 64

struct bench_fp_row {
    size_t n_flows;
    unsigned int n_masks;
    bool emc;
    unsigned int n_threads;
    bool meter; /* --meter. */
};

struct bench_fp_result {
    double mpps;
    double hit_ratio;
    double emc_ratio;
    double probes_per_hit;
    uint64_t n_packets; /* Whole run, counted after the traffic stopped. */
    uint64_t n_not_hit; /* Of those, packets that hit no megaflow. */
};

static uint64_t
bench_fp_rnd(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void
bench_fp_sleep_ms(unsigned int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* The megaflow number 'i' of mask 'k', received on 'in_port': its match
 * (if 'match' is nonnull) and a frame that hits it. */
static void
bench_fp_flow(unsigned int k, uint32_t i, uint32_t in_port,
              struct match *match, uint8_t frame[BENCH_FP_FRAME_LEN])
{
    uint32_t nw_src = i << k;
    uint32_t nw_dst = 0x0a000000u | k << 16 | (i & 0xffff);
    uint16_t dport = (uint16_t)(80 + (i % 1000));
    struct unit_frame_tcp_spec spec = {.tp_src = 1234, .tcp_flags = TCP_ACK};

    if (match) {
        match_init_catchall(match);
        match->flow.in_port = in_port;
        match->wc.masks.in_port = UINT32_MAX;
        match->flow.dl_type = htons(ETH_TYPE_IP);
        match->wc.masks.dl_type = UINT16_MAX;
        match->flow.nw_dst = htonl(nw_dst);
        match->wc.masks.nw_dst = htonl(0xffff0000u);
        match->flow.nw_src = htonl(nw_src);
        match->wc.masks.nw_src = htonl(UINT32_MAX << k);
        if (k & 1) {
            match->flow.tp_dst = htons(dport);
            match->wc.masks.tp_dst = UINT16_MAX;
            match->flow.nw_proto = IPPROTO_TCP_;
            match->wc.masks.nw_proto = UINT8_MAX;
        }
        match_normalize(match);
    }

    /* nw_src: the flow's prefix, and low bits that vary (they are
     * wildcarded). */
    spec.nw_src = nw_src | ((i * 2654435761u) & ((1u << k) - 1));
    spec.nw_dst = nw_dst;
    spec.tp_dst = dport;
    unit_frame_tcp(frame, BENCH_FP_FRAME_LEN, &spec);
}

static struct netdev *
bench_fp_open(const char *name)
{
    struct netdev *netdev;
    char *error = NULL;

    if (netdev_open(name, "memory", NULL, &netdev, &error)) {
        fatal("bench fastpath: %s", error);
    }
    return netdev;
}

static void
bench_fp_run(const struct bench_fp_row *row, bool quick,
             struct bench_fp_result *res)
{
    unsigned int n_threads = row->n_threads;
    struct netdev *rx[2], *sink;
    struct dp_config cfg;
    struct dp_actions *actions;
    struct dp_stats st0, st1, st_end;
    uint64_t t0, t1, seed = 0x5eedf00d;
    struct dp *dp;
    char name[16];

    dp_config_init(&cfg);
    cfg.n_threads = n_threads;
    cfg.n_handlers = 1;
    cfg.max_flows = row->n_flows + 1000;
    cfg.emc_enabled = row->emc;
    if (dp_create(&cfg, &dp)) {
        fatal("bench fastpath: cannot create the datapath");
    }
    sink = bench_fp_open("sink");
    netdev_memory_set_sink(sink, true);
    dp_port_add(dp, sink, BENCH_FP_SINK_PORT);
    actions = dp_actions_create(NULL, 0);
    {
        struct dp_meter_config mc = {.kbps = false, .n_bands = 1};
        struct dp_action_buf buf;

        mc.bands[0].type = DP_METER_BAND_DROP;
        mc.bands[0].rate = 4000000000u;
        dp_action_buf_init(&buf);
        if (row->meter) {
            dp_meter_set(dp, 0, &mc);
            dp_action_put_meter(&buf, 0);
        }
        dp_action_put_output(&buf, BENCH_FP_SINK_PORT);
        dp_actions_unref(actions);
        actions = dp_action_buf_freeze(&buf);
        dp_action_buf_uninit(&buf);
    }

    for (unsigned int t = 0; t < n_threads; t++) {
        size_t n = row->n_flows / n_threads;
        struct dp_packet **frames = xcalloc(n, sizeof(struct dp_packet *));
        uint32_t in_port = t + 1;

        snprintf(name, sizeof name, "rx%u", t);
        rx[t] = bench_fp_open(name);
        for (size_t f = 0; f < n; f++) {
            unsigned int k = (unsigned int)(f % row->n_masks);
            uint8_t frame[BENCH_FP_FRAME_LEN];
            struct match match;
            int error;

            bench_fp_flow(k, (uint32_t)(f / row->n_masks), in_port, &match,
                          frame);
            error = dp_flow_put(dp, &match, actions, DP_FLOW_PUT_CREATE, NULL,
                                NULL);
            if (error) {
                fatal("bench fastpath: flow put failed (%d)", error);
            }
            frames[f] = dp_packet_new_from_bytes(frame, sizeof frame, 0);
        }
        /* Random order, so consecutive packets hit different flows. */
        for (size_t f = n; f > 1; f--) {
            size_t j = bench_fp_rnd(&seed) % f;
            struct dp_packet *tmp = frames[f - 1];

            frames[f - 1] = frames[j];
            frames[j] = tmp;
        }
        netdev_memory_set_generator(
            rx[t], (const struct dp_packet *const *)frames, n, UINT64_MAX);
        for (size_t f = 0; f < n; f++) {
            dp_packet_delete(frames[f]);
        }
        free(frames);
    }
    /* Ports last, so that the flows are all there when traffic starts. */
    for (unsigned int t = 0; t < n_threads; t++) {
        dp_port_add(dp, rx[t], t + 1);
    }

    bench_fp_sleep_ms(quick ? 100 : 500); /* Warm-up: EMC, caches. */
    dp_get_stats(dp, &st0);
    t0 = time_nsec();
    bench_fp_sleep_ms(quick ? 200 : 2000);
    dp_get_stats(dp, &st1);
    t1 = time_nsec();

    /* Stop the traffic and take the ports away: once dp_port_del() has
     * returned, no datapath thread is inside a batch from them, so the
     * counters below agree with each other.  The window's snapshots do
     * not (rx and hits are read at slightly different moments while the
     * threads run), which is fine for a rate but not for the hit ratio. */
    for (unsigned int t = 0; t < n_threads; t++) {
        netdev_memory_set_generator(rx[t], NULL, 0, 0);
        dp_port_del(dp, t + 1);
        netdev_close(rx[t]);
    }
    dp_get_stats(dp, &st_end);

    {
        double rx_n = (double)(st1.n_rx - st0.n_rx);
        double dpcls = (double)(st1.n_dpcls_hit - st0.n_dpcls_hit);

        res->mpps = rx_n / ((double)(t1 - t0) / 1e9) / 1e6;
        /* Whole run: every flow was installed before the first packet. */
        res->n_packets = st_end.n_rx;
        res->n_not_hit = st_end.n_rx - st_end.n_hit;
        res->hit_ratio =
            st_end.n_rx ? (double)st_end.n_hit / (double)st_end.n_rx : 0;
        res->emc_ratio =
            rx_n ? (double)(st1.n_emc_hit - st0.n_emc_hit) / rx_n : 0;
        res->probes_per_hit =
            dpcls ? (double)(st1.n_subtable_probes - st0.n_subtable_probes)
                        / dpcls
                  : 0;
    }

    dp_port_del(dp, BENCH_FP_SINK_PORT);
    netdev_close(sink);
    dp_actions_unref(actions);
    dp_destroy(dp);
}

/* Parses "FLOWS,MASKS,EMC,THREADS" (EMC 0 or 1, THREADS 1 or 2). */
static bool
bench_fp_parse_row(const char *s, struct bench_fp_row *row)
{
    unsigned long long v[4];
    char *end;

    for (int i = 0; i < 4; i++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        v[i] = strtoull(s, &end, 10);
        if (*end != (i < 3 ? ',' : '\0')) {
            return false;
        }
        s = end + 1;
    }
    if (!v[0] || v[0] > 1000000 || !v[1] || v[1] > 20 || v[1] > v[0]
        || v[2] > 1 || !v[3] || v[3] > 2
        || (v[0] / v[1]) << (v[1] - 1) > UINT32_MAX) {
        /* The last check: every megaflow needs its own nw_src prefix. */
        return false;
    }
    row->n_flows = (size_t)v[0];
    row->n_masks = (unsigned int)v[1];
    row->emc = v[2];
    row->n_threads = (unsigned int)v[3];
    return true;
}

int
bench_fastpath_main(int argc, char *argv[])
{
    static const size_t flow_counts[] = {1, 1000, 100000};
    static const unsigned int mask_counts[] = {1, 10, 20};
    static const struct bench_fp_row extra[] = {
        {1000, 1, true, 2},
        {100000, 10, true, 2},
        {100000, 10, false, 2},
    };
    struct bench_fp_row
        rows[ARRAY_SIZE(flow_counts) * ARRAY_SIZE(mask_counts) * 2
             + ARRAY_SIZE(extra)];
    size_t n_rows = 0;
    bool quick = false, json = false, meter = false;
    struct bench_fp_row only;
    bool have_only = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--meter")) {
            meter = true;
        } else if (!strncmp(argv[i], "--only=", 7)) {
            if (!bench_fp_parse_row(argv[i] + 7, &only)) {
                fprintf(stderr,
                        "bench fastpath: bad \"--only=%s\" (expected "
                        "--only=FLOWS,MASKS,EMC,THREADS: 1-1000000 flows, "
                        "1-20 masks and at most one per flow, EMC 0 or 1, "
                        "1 or 2 threads)\n",
                        argv[i] + 7);
                return 2;
            }
            have_only = true;
        } else {
            fprintf(stderr,
                    "bench fastpath: unknown option \"%s\" "
                    "(expected --quick, --json, --meter or "
                    "--only=FLOWS,MASKS,EMC,THREADS)\n",
                    argv[i]);
            return 2;
        }
    }

    for (size_t f = 0; f < ARRAY_SIZE(flow_counts); f++) {
        for (size_t m = 0; m < ARRAY_SIZE(mask_counts); m++) {
            if (mask_counts[m] > flow_counts[f]) {
                continue;
            }
            for (int emc = 1; emc >= 0; emc--) {
                rows[n_rows++] = (struct bench_fp_row){flow_counts[f],
                                                       mask_counts[m], emc, 1};
            }
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
        rows[n_rows++] = extra[i];
    }
    if (quick) {
        /* A smoke run: the small rows and one big one. */
        n_rows = 4;
        rows[3] = (struct bench_fp_row){100000, 10, true, 1};
    }
    if (have_only) {
        rows[0] = only;
        n_rows = 1;
    }

    if (!json) {
        printf("fastpath: 64-byte frames, memory generator port -> "
               "datapath -> memory sink port\n");
        printf("%8s %6s %4s %8s %8s %7s %7s %7s\n", "flows", "masks", "emc",
               "threads", "Mpps", "hit %", "emc %", "probes");
    }
    for (size_t i = 0; i < n_rows; i++) {
        struct bench_fp_result res;

        bench_progress("fastpath", quick, (int)i + 1, (int)n_rows,
                       "%zu flows, %u masks, EMC %s, %u thread(s)",
                       rows[i].n_flows, rows[i].n_masks,
                       rows[i].emc ? "on" : "off", rows[i].n_threads);
        rows[i].meter = meter;
        bench_fp_run(&rows[i], quick, &res);
        bench_progress_end();
        if (json) {
            printf("{\"bench\":\"fastpath\",\"flows\":%zu,\"masks\":%u,"
                   "\"emc\":%s,\"threads\":%u,\"meter\":%s,\"mpps\":%.3f,"
                   "\"hit_ratio\":%.4f,\"emc_ratio\":%.4f,"
                   "\"probes_per_hit\":%.2f,\"packets\":%" PRIu64
                   ",\"not_hit\":%" PRIu64 "}\n",
                   rows[i].n_flows, rows[i].n_masks,
                   rows[i].emc ? "true" : "false", rows[i].n_threads,
                   meter ? "true" : "false", res.mpps, res.hit_ratio,
                   res.emc_ratio, res.probes_per_hit, res.n_packets,
                   res.n_not_hit);
        } else {
            printf("%8zu %6u %4s %8u %8.2f %7.1f %7.1f %7.2f\n",
                   rows[i].n_flows, rows[i].n_masks,
                   rows[i].emc ? "on" : "off", rows[i].n_threads, res.mpps,
                   100 * res.hit_ratio, 100 * res.emc_ratio,
                   res.probes_per_hit);
        }
        fflush(stdout);
    }
    return 0;
}
