/*
 * bench/bench-setup.c — flow setups per second through the handlers.
 *
 *   flowswitch-bench setup [--quick] [--json]
 *
 * A bridge with a 10 000-rule table whose rules match tcp,tp_src=N exactly
 * (so every megaflow is exact on the L4 source port: one new datapath flow
 * per new port), a datapath with one datapath thread, a memory port in
 * generator mode that hands out one 64-byte frame per rule (10 000 new
 * flows, each one packet) and a sink port.  The upcall queues are sized so
 * that nothing is lost.  A run times from the moment the port starts
 * offering traffic until the datapath holds all 10 000 flows and the sink
 * has sent every packet: "setups/s" is 10 000 / that time, for 1 and 2
 * handler threads, best of N runs after a warm-up run (the flows and
 * ukeys are cleared between runs).  The governor is off and the flow limit at its maximum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-memb.h>

#include "bench/bench-upcall.h"
#include "bench/bench.h"
#include "datapath/datapath.h"
#include "flow/flow-text.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "upcall/upcall.h"

#define BENCH_SETUP_N_RULES 10000

/* One run on 'dp' (whose flows and queues are empty): returns setups per
 * second. */
static double
bench_setup_run(struct dp *dp, struct ofproto *ofp, unsigned int n_handlers,
                struct netdev *sink)
{
    struct dp_packet **frames =
        xcalloc(BENCH_SETUP_N_RULES, sizeof(struct dp_packet *));
    struct netdev *rx = bench_upcall_port("rx", "setup");
    struct upcall_config ucfg;
    struct netdev_stats ns0, ns;
    struct dp_stats st;
    struct udpif *udpif;
    uint64_t t0, t1, deadline;

    upcall_config_init(&ucfg);
    ucfg.n_handlers = n_handlers;
    ucfg.flow_limit = UPCALL_DEFAULT_MAX_FLOW_LIMIT;
    ucfg.governor = GOVERNOR_FORCE_OFF;
    if (upcall_create("br0", dp, ofp, &ucfg, &udpif)) {
        fatal("bench setup: cannot create the handlers");
    }
    for (int i = 0; i < BENCH_SETUP_N_RULES; i++) {
        uint8_t b[64];

        bench_upcall_frame(b, (uint16_t)(i + 1));
        frames[i] = dp_packet_new_from_bytes(b, sizeof b, 0);
    }
    netdev_memory_set_generator(rx, (const struct dp_packet *const *)frames,
                                BENCH_SETUP_N_RULES, BENCH_SETUP_N_RULES);
    netdev_get_stats(sink, &ns0);

    t0 = time_nsec();
    dp_port_add(dp, rx, BENCH_UPCALL_RX);
    deadline = time_msec() + 60000;
    for (;;) {
        dp_get_stats(dp, &st);
        netdev_get_stats(sink, &ns);
        if (st.n_flows >= BENCH_SETUP_N_RULES
            && ns.tx_packets - ns0.tx_packets >= BENCH_SETUP_N_RULES) {
            break;
        }
        if (st.n_lost) {
            /* The queues hold every packet: a loss means a broken run. */
            fatal("bench setup: %llu of %d packets lost",
                  (unsigned long long)st.n_lost, BENCH_SETUP_N_RULES);
        }
        if (time_msec() > deadline) {
            fatal("bench setup: stuck at %llu flows, %llu sent, %llu lost",
                  (unsigned long long)st.n_flows,
                  (unsigned long long)(ns.tx_packets - ns0.tx_packets),
                  (unsigned long long)st.n_lost);
        }
        bench_upcall_sleep_us(50);
    }
    t1 = time_nsec();

    dp_port_del(dp, BENCH_UPCALL_RX);
    upcall_destroy(udpif);
    dp_flow_flush(dp);
    netdev_close(rx);
    for (int i = 0; i < BENCH_SETUP_N_RULES; i++) {
        dp_packet_delete(frames[i]);
    }
    free(frames);
    urcu_memb_barrier();
    return BENCH_SETUP_N_RULES / ((double)(t1 - t0) / 1e9);
}

/* Best of 'n_runs' runs after one warm-up run (queue memory, heap). */
static double
bench_setup_best(struct ofproto *ofp, unsigned int n_handlers, int n_runs)
{
    struct netdev *sink = bench_upcall_port("sink", "setup");
    struct dp_config cfg;
    struct dp *dp;
    double best = 0;

    dp_config_init(&cfg);
    cfg.n_threads = 1;
    cfg.n_handlers = n_handlers;
    cfg.queue_size = 16384;
    /* One port offers every miss: without this its share of the queue
     * would refuse some whenever the handlers fall behind. */
    cfg.upcall_port_share = false;
    if (dp_create(&cfg, &dp)) {
        fatal("bench setup: cannot create the datapath");
    }
    netdev_memory_set_sink(sink, true);
    dp_port_add(dp, sink, BENCH_UPCALL_SINK);
    for (int run = 0; run <= n_runs; run++) {
        double rate = bench_setup_run(dp, ofp, n_handlers, sink);

        if (run) {
            best = rate > best ? rate : best;
        }
    }
    dp_port_del(dp, BENCH_UPCALL_SINK);
    dp_destroy(dp);
    netdev_close(sink);
    return best;
}

int
bench_setup_main(int argc, char *argv[])
{
    static const unsigned int handler_counts[] = {1, 2};
    bool quick = false, json = false;
    struct ofproto *ofp;

    if (!bench_parse_options("bench setup", argc, argv, &quick, &json)) {
        return 2;
    }

    urcu_memb_register_thread();
    ofp = bench_upcall_bridge(BENCH_SETUP_N_RULES, "setup");
    if (!json) {
        printf("setup: %d new 1-packet flows against %d rules (exact "
               "tp_src), best of %d runs\n",
               BENCH_SETUP_N_RULES, BENCH_SETUP_N_RULES, quick ? 1 : 5);
        printf("  %-9s %14s %22s\n", "handlers", "setups/s",
               "setups/s per handler");
    }
    for (size_t h = 0; h < ARRAY_SIZE(handler_counts); h++) {
        unsigned int n = handler_counts[h];
        double best;

        bench_progress(
            "setup", quick, (int)h + 1, (int)ARRAY_SIZE(handler_counts),
            "%u handler(s), %d runs after a warm-up", n, quick ? 1 : 5);
        best = bench_setup_best(ofp, n, quick ? 1 : 5);
        bench_progress_end();

        if (json) {
            printf("{\"bench\":\"setup\",\"handlers\":%u,\"setups_per_s\":"
                   "%.0f,\"per_handler\":%.0f}\n",
                   n, best, best / n);
        } else {
            printf("  %-9u %14.0f %22.0f\n", n, best, best / n);
        }
    }
    ofproto_destroy(ofp);
    urcu_memb_barrier();
    urcu_memb_unregister_thread();
    return 0;
}
