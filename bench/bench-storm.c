/*
 * bench/bench-storm.c — cached flows under a storm of new flows, and the
 * fairness of the upcall queues.
 *
 *   flowswitch-bench storm [--quick] [--json]
 *
 * Ports (memory, datapath port = OpenFlow port): 1 "rx" carries 1 000
 * established flows, 6 "esink" takes their output, 3 "storm" offers new
 * flows as fast as its datapath thread takes them, 2 "sink" takes the
 * output the handler executes for them, 4 "quiet" sends one first packet
 * at a time, 5 "qsink" takes the quiet port's output.  Two datapath
 * threads: A polls ports 1 and 4, B the storm, so the storm's misses cost
 * the established flows nothing but the machine (datapath threads never
 * translate: a miss is a queue push or a drop).  Each kind of traffic has
 * its own sink, so that no sink's counters are shared between threads.
 *
 * Established flows: 1 000 megaflows (in_port=1, IPv4, exact nw_dst)
 * installed before any packet, output to esink; port 1 is a generator
 * cycling through one frame per flow.  The bridge also has the rule
 * in_port=1 → esink, so the revalidators agree with them.
 *
 * Storm: port 3 cycles through 10 000 TCP frames (1 000 with --quick)
 * whose source ports are matched exactly by as many rules
 * (bench-upcall.h), so each is its own megaflow; the flow limit is pinned
 * at 1 000 (the established flows), so no megaflow is ever installed and
 * every storm packet stays a miss: the storm offers misses at datapath
 * speed, far above what the handler can set up.
 *
 * Rows, each on a new datapath:
 *   storm, no handler / 1 handler  — windows without and with the storm
 *       alternate (5 pairs of 1 s; 1 pair of 200 ms with --quick) and the
 *       best of each is kept, so both see the machine in the same moods.
 *       "ratio" is port 1's Mpps with the storm over without it; "per
 *       cpu" the same ratio of Mpps per CPU-second that thread A got
 *       (from /proc), which leaves out time the scheduler gave to other
 *       threads.  Without a handler the queue (512) is not drained: the
 *       storm fills its share and the rest is lost.  With one, a udpif
 *       with a real ofproto drains it and translates and executes every
 *       storm packet; on a 2-core machine that handler competes with the
 *       two datapath threads for CPU.
 *   fairness, shares on / off  — the storm running, port 1 idle: port 4
 *       sends first packets one at a time (each once the previous one was
 *       queued, or with the handler executed, or counted lost): 64 (the
 *       floor) without a handler, 1 000 (16 with --quick) with one;
 *       "quiet_queued_ratio" is the share of them that got into the
 *       queue, "quiet_wait_us" the mean time from injection to output of
 *       those that did.  Without a handler the storm has filled the queue
 *       (shares off) or its share (on) before the first one, so the
 *       figures are exact; with one they depend on how the scheduler
 *       runs the storm's thread against the handler.
 * Every row ends with the datapath's counters once the traffic ports are
 * gone, so that the accounting can be checked (rx = hit + missed + lost +
 * parse_drop; lost = the sum of its reasons).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench-upcall.h"
#include "bench/bench.h"
#include "datapath/datapath.h"
#include "flow/flow.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "upcall/upcall.h"

#define BENCH_STORM_RX BENCH_UPCALL_RX     /* 1 */
#define BENCH_STORM_SINK BENCH_UPCALL_SINK /* 2 */
#define BENCH_STORM_PORT 3
#define BENCH_STORM_QUIET 4
#define BENCH_STORM_QSINK 5
#define BENCH_STORM_ESINK 6

#define BENCH_STORM_N_ESTABLISHED 1000
/* Rules and storm flows: 10 000 (1 000 with --quick). */
#define BENCH_STORM_N_RULES(QUICK) ((QUICK) ? 1000 : 10000)
#define BENCH_STORM_QUEUE 512

struct bench_storm_case {
    const char *name; /* "storm" or "fairness". */
    bool handlers;    /* A udpif with one handler. */
    bool quiet;       /* Fairness: first packets on port 4, port 1 idle. */
    bool share;       /* Per-port shares of the upcall queue. */
};

struct bench_storm_result {
    /* Port 1, best windows without and with the storm: Mpps, and the CPU
     * share thread A got (0 to 1) in that window. */
    double alone_mpps, alone_cpu;
    double est_mpps, est_cpu;
    double alone_per_cpu, est_per_cpu; /* Best Mpps per CPU-second. */
    uint64_t est_packets, est_not_hit;
    double storm_pps; /* Storm packets the datapath took per second. */
    struct dp_port_stats storm;
    uint64_t quiet_sent, quiet_queued, quiet_lost, quiet_lost_port_share;
    double quiet_wait_us;
    uint64_t n_handled; /* Upcalls the handler took. */
    struct dp_stats end;
};

static void
bench_storm_sleep_ms(unsigned int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* The bridge: bench_upcall_bridge()'s ports 1 and 2 and its tp_src
 * rules, plus ports 3 to 5 and the rules of ports 1 and 4. */
static struct ofproto *
bench_storm_bridge(bool quick)
{
    static const char *const rules[] = {
        "priority=20,in_port=1,actions=output:6",
        "priority=30,in_port=4,actions=output:5",
    };
    struct ofproto *ofp =
        bench_upcall_bridge(BENCH_STORM_N_RULES(quick), "storm");
    char *error = NULL;

    if (ofproto_port_add(ofp, BENCH_STORM_PORT, BENCH_STORM_PORT, "storm",
                         &error)
        || ofproto_port_add(ofp, BENCH_STORM_QUIET, BENCH_STORM_QUIET, "quiet",
                            &error)
        || ofproto_port_add(ofp, BENCH_STORM_QSINK, BENCH_STORM_QSINK, "qsink",
                            &error)
        || ofproto_port_add(ofp, BENCH_STORM_ESINK, BENCH_STORM_ESINK, "esink",
                            &error)) {
        fatal("bench storm: %s", error);
    }
    for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
        if (ofproto_flow_mod_str(ofp, rules[i], FLOW_TEXT_ADD, &error)) {
            fatal("bench storm: %s", error);
        }
    }
    return ofp;
}

/* Established flow 'i': a frame from port 1 to 10.1.x.y and, if 'match'
 * is nonnull, its megaflow. */
static void
bench_storm_established(uint32_t i, uint8_t frame[64], struct match *match)
{
    uint32_t nw_dst = 0x0a010000u | i;

    bench_upcall_frame(frame, 1000);
    frame[47] = TCP_ACK;
    frame[30] = (uint8_t)(nw_dst >> 24);
    frame[31] = (uint8_t)(nw_dst >> 16);
    frame[32] = (uint8_t)(nw_dst >> 8);
    frame[33] = (uint8_t)nw_dst;
    if (match) {
        match_init_catchall(match);
        match->flow.in_port = BENCH_STORM_RX;
        match->wc.masks.in_port = UINT32_MAX;
        /* Exact on recirc_id, as every translated megaflow: otherwise the
         * revalidators replace the flow with one that is. */
        match->wc.masks.recirc_id = UINT32_MAX;
        match->flow.dl_type = htons(ETH_TYPE_IP);
        match->wc.masks.dl_type = UINT16_MAX;
        match->flow.nw_dst = htonl(nw_dst);
        match->wc.masks.nw_dst = UINT32_MAX;
        match_normalize(match);
    }
}

/* Installs the established flows, storing their ufids, and makes port 1 a
 * generator of their frames. */
static void
bench_storm_install(struct dp *dp, struct netdev *rx, struct dp_ufid *ufids)
{
    struct dp_packet **frames =
        xcalloc(BENCH_STORM_N_ESTABLISHED, sizeof(struct dp_packet *));
    struct dp_action_buf buf;
    struct dp_actions *actions;

    dp_action_buf_init(&buf);
    dp_action_put_output(&buf, BENCH_STORM_ESINK);
    actions = dp_action_buf_freeze(&buf);
    dp_action_buf_uninit(&buf);
    for (uint32_t i = 0; i < BENCH_STORM_N_ESTABLISHED; i++) {
        uint8_t frame[64];
        struct match match;
        int error;

        bench_storm_established(i, frame, &match);
        error = dp_flow_put(dp, &match, actions, DP_FLOW_PUT_CREATE, &ufids[i],
                            NULL);
        if (error) {
            fatal("bench storm: flow put failed (%d)", error);
        }
        frames[i] = dp_packet_new_from_bytes(frame, sizeof frame, 0);
    }
    netdev_memory_set_generator(rx, (const struct dp_packet *const *)frames,
                                BENCH_STORM_N_ESTABLISHED, UINT64_MAX);
    for (uint32_t i = 0; i < BENCH_STORM_N_ESTABLISHED; i++) {
        dp_packet_delete(frames[i]);
    }
    free(frames);
    dp_actions_unref(actions);
}

/* The storm's frames: one per tp_src rule, from 10.0.0.3. */
static struct dp_packet **
bench_storm_frames(int n)
{
    struct dp_packet **frames = xcalloc(n, sizeof(struct dp_packet *));

    for (int i = 0; i < n; i++) {
        uint8_t frame[64];

        bench_upcall_frame(frame, (uint16_t)(i + 1));
        frame[29] = 3;
        frames[i] = dp_packet_new_from_bytes(frame, sizeof frame, 0);
    }
    return frames;
}

static void
bench_storm_frames_free(struct dp_packet **frames, int n)
{
    for (int i = 0; i < n; i++) {
        dp_packet_delete(frames[i]);
    }
    free(frames);
}

/* CPU time, in seconds, that datapath thread 'id' (named "dp-pmdID") has
 * used so far, from /proc; -1 if it cannot be found. */
static double
bench_storm_thread_cpu(unsigned int id)
{
    char want[16], path[300], buf[512];
    double cpu = -1;
    DIR *dir;

    snprintf(want, sizeof want, "dp-pmd%u\n", id);
    dir = opendir("/proc/self/task");
    if (!dir) {
        return -1;
    }
    for (struct dirent *de; cpu < 0 && (de = readdir(dir)) != NULL;) {
        const char *p;
        FILE *f;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        f = fopen(path, "r");
        if (!f) {
            continue;
        }
        p = fgets(buf, sizeof buf, f);
        fclose(f);
        if (!p || strcmp(buf, want) != 0) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        f = fopen(path, "r");
        if (!f) {
            continue;
        }
        p = fgets(buf, sizeof buf, f);
        fclose(f);
        /* utime and stime are fields 14 and 15; field 2, the name, ends
         * with the last ")", and the 12th space after it starts field 14. */
        p = p ? strrchr(buf, ')') : NULL;
        for (int field = 0; p && field < 12; field++) {
            p = strchr(p + 1, ' ');
        }
        if (p) {
            char *end;
            unsigned long utime = strtoul(p + 1, &end, 10);
            unsigned long stime = *end == ' ' ? strtoul(end + 1, NULL, 10) : 0;

            cpu = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
        }
    }
    closedir(dir);
    return cpu;
}

static struct dp_port_stats
bench_storm_port_stats(struct dp *dp, uint32_t port_no)
{
    struct dp_port_stats ps;

    if (dp_port_get_stats(dp, port_no, &ps)) {
        fatal("bench storm: no port %" PRIu32, port_no);
    }
    return ps;
}

/* Sends 'n' first packets on the quiet port, one at a time: each after
 * the previous one was counted lost or, with a handler ('drained'), output
 * to the quiet sink (the handler took and executed it), without one,
 * queued (the queue holds it). */
static void
bench_storm_quiet(struct dp *dp, struct netdev *quiet, struct netdev *qsink,
                  bool drained, unsigned int n, struct bench_storm_result *res)
{
    struct dp_port_stats ps0 = bench_storm_port_stats(dp, BENCH_STORM_QUIET);
    struct netdev_stats ns0, ns;
    uint64_t wait_ns = 0;

    netdev_get_stats(qsink, &ns0);
    for (unsigned int i = 0; i < n; i++) {
        uint64_t t0 = time_nsec(), deadline = time_msec() + 30000;
        uint8_t frame[64];

        bench_upcall_frame(frame, (uint16_t)(20000 + i));
        frame[29] = 4; /* From 10.0.0.4. */
        if (netdev_memory_inject(quiet, frame, sizeof frame)) {
            fatal("bench storm: the quiet port's ring is full");
        }
        for (;;) {
            struct dp_port_stats ps =
                bench_storm_port_stats(dp, BENCH_STORM_QUIET);
            uint64_t lost = ps.lost - ps0.lost;
            uint64_t queued;

            if (drained) {
                netdev_get_stats(qsink, &ns);
                queued = ns.tx_packets - ns0.tx_packets;
            } else {
                queued = dp_upcall_queue_port_len(dp, 0, BENCH_STORM_QUIET);
            }
            if (lost + queued == i + 1) {
                if (lost == res->quiet_lost) {
                    wait_ns += time_nsec() - t0;
                }
                res->quiet_lost = lost;
                res->quiet_lost_port_share =
                    ps.lost_port_share - ps0.lost_port_share;
                break;
            }
            if (time_msec() > deadline) {
                fatal("bench storm: quiet packet %u neither %s nor lost", i,
                      drained ? "output" : "queued");
            }
            bench_upcall_sleep_us(5);
        }
    }
    res->quiet_sent = n;
    res->quiet_queued = n - res->quiet_lost;
    res->quiet_wait_us =
        drained && res->quiet_queued
            ? (double)wait_ns / 1e3 / (double)res->quiet_queued
            : 0;
}

static bool
bench_storm_adds_up(const struct dp_stats *st)
{
    return st->n_rx
           == st->n_hit + st->n_missed + st->n_lost + st->n_parse_drop;
}

/* Once no more traffic comes in: waits until the datapath's counters add
 * up and stay put across a read of the ports' counters, so that all of
 * them describe the same packets. */
static void
bench_storm_settle(struct dp *dp, struct dp_stats *st,
                   struct dp_port_stats *est, struct dp_port_stats *storm)
{
    uint64_t deadline = time_msec() + 30000;

    for (;;) {
        struct dp_port_stats quiet;
        struct dp_stats before;

        dp_get_stats(dp, &before);
        *est = bench_storm_port_stats(dp, BENCH_STORM_RX);
        *storm = bench_storm_port_stats(dp, BENCH_STORM_PORT);
        quiet = bench_storm_port_stats(dp, BENCH_STORM_QUIET);
        dp_get_stats(dp, st);
        /* A thread counts a batch in its port and then in its own
         * counters: the ports must add up to the datapath too. */
        if (before.n_rx == st->n_rx && bench_storm_adds_up(&before)
            && bench_storm_adds_up(st)
            && est->rx + storm->rx + quiet.rx == st->n_rx) {
            return;
        }
        if (time_msec() > deadline) {
            fatal("bench storm: the datapath's counters never added up");
        }
        bench_upcall_sleep_us(100);
    }
}

struct bench_storm_window {
    double mpps, cpu, storm_pps;
};

/* Measures port 1 (polled by datapath thread 'thread') and the storm port
 * over 'ms' milliseconds. */
static struct bench_storm_window
bench_storm_measure(struct dp *dp, unsigned int thread, unsigned int ms)
{
    struct bench_storm_window w;
    struct dp_port_stats est0, est1, storm0, storm1;
    double cpu0 = bench_storm_thread_cpu(thread), cpu1, secs;
    uint64_t t0, t1;

    est0 = bench_storm_port_stats(dp, BENCH_STORM_RX);
    storm0 = bench_storm_port_stats(dp, BENCH_STORM_PORT);
    t0 = time_nsec();
    bench_storm_sleep_ms(ms);
    est1 = bench_storm_port_stats(dp, BENCH_STORM_RX);
    storm1 = bench_storm_port_stats(dp, BENCH_STORM_PORT);
    t1 = time_nsec();
    cpu1 = bench_storm_thread_cpu(thread);
    secs = (double)(t1 - t0) / 1e9;
    w.mpps = (double)(est1.rx - est0.rx) / secs / 1e6;
    w.cpu = cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / secs : 0;
    w.storm_pps = (double)(storm1.rx - storm0.rx) / secs;
    return w;
}

/* Alternates windows without and with the storm on port 3 and keeps the
 * best of each, so that both see the machine in the same moods. */
static void
bench_storm_windows(struct dp *dp, struct netdev *storm, bool quick,
                    struct bench_storm_result *res)
{
    int n_frames = BENCH_STORM_N_RULES(quick);
    struct dp_packet **frames = bench_storm_frames(n_frames);
    unsigned int thread = bench_storm_port_stats(dp, BENCH_STORM_RX).thread;
    unsigned int ms = quick ? 200 : 1000;
    int n_pairs = quick ? 1 : 5;

    for (int i = 0; i < n_pairs; i++) {
        struct bench_storm_window alone, w;

        alone = bench_storm_measure(dp, thread, ms);
        netdev_memory_set_generator(storm,
                                    (const struct dp_packet *const *)frames,
                                    n_frames, UINT64_MAX);
        bench_storm_sleep_ms(20); /* The queue fills. */
        w = bench_storm_measure(dp, thread, ms);
        netdev_memory_set_generator(storm, NULL, 0, 0);

        if (alone.mpps > res->alone_mpps) {
            res->alone_mpps = alone.mpps;
            res->alone_cpu = alone.cpu;
        }
        if (alone.cpu > 0) {
            res->alone_per_cpu =
                MAX(res->alone_per_cpu, alone.mpps / alone.cpu);
        }
        if (w.mpps > res->est_mpps) {
            res->est_mpps = w.mpps;
            res->est_cpu = w.cpu;
            res->storm_pps = w.storm_pps;
        }
        if (w.cpu > 0) {
            res->est_per_cpu = MAX(res->est_per_cpu, w.mpps / w.cpu);
        }
    }
    bench_storm_frames_free(frames, n_frames);
}

static void
bench_storm_run(const struct bench_storm_case *c, struct ofproto *ofp,
                bool quick, struct bench_storm_result *res)
{
    struct netdev *rx = bench_upcall_port("rx", "storm");
    struct netdev *sink = bench_upcall_port("sink", "storm");
    struct netdev *storm = bench_upcall_port("storm", "storm");
    struct netdev *quiet = bench_upcall_port("quiet", "storm");
    struct netdev *qsink = bench_upcall_port("qsink", "storm");
    struct netdev *esink = bench_upcall_port("esink", "storm");
    struct dp_ufid *ufids =
        xcalloc(BENCH_STORM_N_ESTABLISHED, sizeof(struct dp_ufid));
    struct udpif *udpif = NULL;
    struct dp_config cfg;
    struct dp *dp;

    memset(res, 0, sizeof *res);
    dp_config_init(&cfg);
    cfg.n_threads = 2;
    cfg.n_handlers = 1;
    cfg.queue_size = BENCH_STORM_QUEUE;
    cfg.upcall_port_share = c->share;
    if (dp_create(&cfg, &dp)) {
        fatal("bench storm: cannot create the datapath");
    }
    netdev_memory_set_sink(sink, true);
    netdev_memory_set_sink(qsink, true);
    netdev_memory_set_sink(esink, true);
    bench_storm_install(dp, rx, ufids);
    if (c->quiet) {
        /* Port 1 idle, the storm on from the start. */
        int n_frames = BENCH_STORM_N_RULES(quick);
        struct dp_packet **frames = bench_storm_frames(n_frames);

        netdev_memory_set_generator(storm,
                                    (const struct dp_packet *const *)frames,
                                    n_frames, UINT64_MAX);
        bench_storm_frames_free(frames, n_frames);
        netdev_memory_set_generator(rx, NULL, 0, 0);
    }
    if (c->handlers) {
        struct upcall_config ucfg;

        upcall_config_init(&ucfg);
        ucfg.n_handlers = 1;
        /* Pinned at the established flows: nothing more is installed. */
        ucfg.flow_limit = BENCH_STORM_N_ESTABLISHED;
        ucfg.max_flow_limit = BENCH_STORM_N_ESTABLISHED;
        if (upcall_create("br0", dp, ofp, &ucfg, &udpif)) {
            fatal("bench storm: cannot create the handlers");
        }
    }
    /* Each port goes to the thread with the fewest: 1, 4 and 5 on thread
     * A, 3, 2 and 6 on thread B (the sinks never receive). */
    dp_port_add(dp, rx, BENCH_STORM_RX);
    dp_port_add(dp, storm, BENCH_STORM_PORT);
    dp_port_add(dp, quiet, BENCH_STORM_QUIET);
    dp_port_add(dp, sink, BENCH_STORM_SINK);
    dp_port_add(dp, qsink, BENCH_STORM_QSINK);
    dp_port_add(dp, esink, BENCH_STORM_ESINK);
    if (bench_storm_port_stats(dp, BENCH_STORM_RX).thread
        == bench_storm_port_stats(dp, BENCH_STORM_PORT).thread) {
        fatal("bench storm: the storm shares the established flows' thread");
    }

    bench_storm_sleep_ms(quick ? 100 : 500); /* Warm-up: EMC, queue. */
    if (c->quiet) {
        bench_storm_quiet(dp, quiet, qsink, c->handlers,
                          c->handlers ? (quick ? 16 : 1000) : 64, res);
    } else {
        bench_storm_windows(dp, storm, quick, res);
    }

    /* Stop the traffic and wait for the counters to settle, then take the
     * traffic ports away. */
    netdev_memory_set_generator(rx, NULL, 0, 0);
    netdev_memory_set_generator(storm, NULL, 0, 0);
    {
        struct dp_port_stats est;
        uint64_t hit = 0;

        bench_storm_settle(dp, &res->end, &est, &res->storm);
        dp_port_del(dp, BENCH_STORM_RX);
        dp_port_del(dp, BENCH_STORM_PORT);
        dp_port_del(dp, BENCH_STORM_QUIET);
        for (size_t i = 0; i < BENCH_STORM_N_ESTABLISHED; i++) {
            struct dp_flow_info info;

            if (!dp_flow_get(dp, &ufids[i], &info)) {
                hit += info.stats.n_packets;
                dp_flow_info_uninit(&info);
            }
        }
        res->est_packets = est.rx;
        res->est_not_hit = est.rx - MIN(hit, est.rx);
    }

    if (udpif) {
        struct upcall_handler_stats hs;

        if (!upcall_get_handler_stats(udpif, 0, &hs)) {
            res->n_handled = hs.n_upcalls;
        }
        upcall_destroy(udpif);
    }
    dp_port_del(dp, BENCH_STORM_SINK);
    dp_port_del(dp, BENCH_STORM_ESINK);
    dp_port_del(dp, BENCH_STORM_QSINK);
    dp_destroy(dp);
    netdev_close(rx);
    netdev_close(sink);
    netdev_close(storm);
    netdev_close(quiet);
    netdev_close(qsink);
    netdev_close(esink);
    free(ufids);
    rcu_wait_postponed();
}

static void
bench_storm_print(const struct bench_storm_case *c,
                  const struct bench_storm_result *r, bool json)
{
    const struct dp_stats *e = &r->end;
    uint64_t lost_other = e->n_lost_no_handler + e->n_lost_shutdown;
    double ratio = r->alone_mpps > 0 ? r->est_mpps / r->alone_mpps : 0;
    double ratio_per_cpu =
        r->alone_per_cpu > 0 ? r->est_per_cpu / r->alone_per_cpu : 0;
    double queued_ratio =
        r->quiet_sent ? (double)r->quiet_queued / (double)r->quiet_sent : 0;

    if (json) {
        printf("{\"bench\":\"storm\",\"case\":\"%s\",\"handlers\":%d,"
               "\"share\":%s",
               c->name, c->handlers ? 1 : 0, c->share ? "true" : "false");
        if (c->quiet) {
            printf(",\"quiet_sent\":%" PRIu64 ",\"quiet_queued\":%" PRIu64
                   ",\"quiet_lost\":%" PRIu64
                   ",\"quiet_lost_port_share\":%" PRIu64
                   ",\"quiet_queued_ratio\":%.4f,\"quiet_wait_us\":%.1f",
                   r->quiet_sent, r->quiet_queued, r->quiet_lost,
                   r->quiet_lost_port_share, queued_ratio, r->quiet_wait_us);
        } else {
            printf(",\"alone_mpps\":%.3f,\"alone_cpu\":%.3f,\"est_mpps\":%.3f,"
                   "\"est_cpu\":%.3f,\"ratio\":%.4f,\"ratio_per_cpu\":%.4f,"
                   "\"storm_pps\":%.0f,\"est_packets\":%" PRIu64
                   ",\"est_not_hit\":%" PRIu64,
                   r->alone_mpps, r->alone_cpu, r->est_mpps, r->est_cpu, ratio,
                   ratio_per_cpu, r->storm_pps, r->est_packets,
                   r->est_not_hit);
        }
        printf(",\"storm_rx\":%" PRIu64 ",\"storm_lost\":%" PRIu64
               ",\"storm_lost_port_share\":%" PRIu64 ",\"handled\":%" PRIu64
               ",\"rx\":%" PRIu64 ",\"hit\":%" PRIu64 ",\"missed\":%" PRIu64
               ",\"lost\":%" PRIu64 ",\"lost_queue_full\":%" PRIu64
               ",\"lost_port_share\":%" PRIu64 ",\"lost_other\":%" PRIu64
               ",\"parse_drop\":%" PRIu64 "}\n",
               r->storm.rx, r->storm.lost, r->storm.lost_port_share,
               r->n_handled, e->n_rx, e->n_hit, e->n_missed, e->n_lost,
               e->n_lost_queue_full, e->n_lost_port_share, lost_other,
               e->n_parse_drop);
    } else if (c->quiet) {
        printf("  %-8s %-8s %-6s  %" PRIu64 " of %" PRIu64
               " first packets queued (%.1f %%)",
               c->name, c->handlers ? "1" : "none", c->share ? "on" : "off",
               r->quiet_queued, r->quiet_sent, 100 * queued_ratio);
        if (c->handlers) {
            printf(", %.0f us from injection to output", r->quiet_wait_us);
        }
        printf("\n");
    } else {
        printf("  %-8s %-8s %-6s %6.2f (%3.0f %%) %6.2f (%3.0f %%) %10.2f "
               "%7.1f %% %7.1f %%\n",
               c->name, c->handlers ? "1" : "none", c->share ? "on" : "off",
               r->alone_mpps, 100 * r->alone_cpu, r->est_mpps,
               100 * r->est_cpu, r->storm_pps / 1e6, 100 * ratio,
               100 * ratio_per_cpu);
    }
    fflush(stdout);
}

int
bench_storm_main(int argc, char *argv[])
{
    static const struct bench_storm_case cases[] = {
        {"storm", false, false, true},   {"storm", true, false, true},
        {"fairness", false, true, true}, {"fairness", false, true, false},
        {"fairness", true, true, true},  {"fairness", true, true, false},
    };
    bool quick = false, json = false;
    struct ofproto *ofp;

    if (!bench_parse_options("bench storm", argc, argv, &quick, &json)) {
        return 2;
    }

    rcu_thread_register();
    ofp = bench_storm_bridge(quick);
    if (!json) {
        printf("storm: %d established flows on port 1 (thread A); new "
               "flows on port 3 (thread B); queue %d\n",
               BENCH_STORM_N_ESTABLISHED, BENCH_STORM_QUEUE);
        printf("  %-8s %-8s %-6s %-14s %-14s %10s %9s %9s\n", "case",
               "handlers", "shares", "alone Mpps", "storm Mpps", "offered",
               "ratio", "per cpu");
        printf("  %-24s %-14s %-14s %10s\n", "", "(A's cpu)", "(A's cpu)",
               "storm Mpps");
    }
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct bench_storm_result res;

        bench_progress("storm", quick, (int)i + 1, (int)ARRAY_SIZE(cases),
                       "%s, %s handler, shares %s", cases[i].name,
                       cases[i].handlers ? "one" : "no",
                       cases[i].share ? "on" : "off");
        bench_storm_run(&cases[i], ofp, quick, &res);
        bench_progress_end();
        bench_storm_print(&cases[i], &res, json);
    }
    ofproto_destroy(ofp);
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}
