/*
 * bench/bench-governor.c — the flow-setup governor on and off.
 *
 *   flowswitch-bench governor [--quick] [--json]
 *
 * The workload DESIGN.md §3 has the governor for: many 2-packet flows
 * while the datapath is already busy.  The flow limit is 40 000 and the
 * datapath is pre-filled with 20 000 unrelated flows (flow_limit / 2, so
 * the governor engages); a memory generator port then offers 10 000 new
 * 2-packet TCP flows (a 10 000-rule table exact on tp_src, one megaflow
 * per flow) once, and the run times until the sink has sent all 20 000
 * packets.  Rows: governor on (automatic, engaged) and off
 * (GOVERNOR_FORCE_OFF), with each flow's two packets back to back
 * ("adjacent", same handler batch) or a whole round apart ("spaced", the
 * second packet of an installed flow hits the datapath).  One datapath
 * thread, one handler; best of N runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench-upcall.h"
#include "bench/bench.h"
#include "datapath/datapath.h"
#include "flow/flow-text.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "upcall/upcall.h"

#define BENCH_GOV_N_RULES 10000

#define BENCH_GOV_FLOW_LIMIT 40000

/* One run: returns packets per second. */
static double
bench_gov_run(struct ofproto *ofp, bool governor, bool spaced)
{
    const size_t n_pkts = (size_t)2 * BENCH_GOV_N_RULES;
    struct dp_packet **frames = xcalloc(n_pkts, sizeof(struct dp_packet *));
    struct netdev *rx = bench_upcall_port("rx", "governor");
    struct netdev *sink = bench_upcall_port("sink", "governor");
    struct dp_actions *drop = dp_actions_create_drop();
    struct upcall_config ucfg;
    struct netdev_stats ns;
    struct dp_config cfg;
    struct dp_stats st;
    struct udpif *udpif;
    struct dp *dp;
    uint64_t t0, t1, deadline;

    dp_config_init(&cfg);
    cfg.n_threads = 1;
    cfg.n_handlers = 1;
    cfg.queue_size = 32768;
    /* One port offers every miss: its share of the queue would refuse
     * half of them (a fairness figure, bench storm's), not the governor's
     * cost. */
    cfg.upcall_port_share = false;
    if (dp_create(&cfg, &dp)) {
        fatal("bench governor: cannot create the datapath");
    }
    /* Busy datapath: flow_limit / 2 flows for a port without traffic. */
    for (uint32_t i = 0; i < BENCH_GOV_FLOW_LIMIT / 2; i++) {
        struct match m;

        match_init_catchall(&m);
        m.flow.in_port = 99;
        m.wc.masks.in_port = UINT32_MAX;
        m.flow.nw_src = htonl(i);
        m.wc.masks.nw_src = UINT32_MAX;
        if (dp_flow_put(dp, &m, drop, DP_FLOW_PUT_CREATE, NULL, NULL)) {
            fatal("bench governor: pre-fill put failed");
        }
    }
    upcall_config_init(&ucfg);
    ucfg.n_handlers = 1;
    ucfg.flow_limit = BENCH_GOV_FLOW_LIMIT;
    ucfg.governor = governor ? GOVERNOR_AUTO : GOVERNOR_FORCE_OFF;
    if (upcall_create("br0", dp, ofp, &ucfg, &udpif)) {
        fatal("bench governor: cannot create the handlers");
    }
    netdev_memory_set_sink(sink, true);
    dp_port_add(dp, sink, BENCH_UPCALL_SINK);
    for (size_t i = 0; i < n_pkts; i++) {
        size_t flow = spaced ? i % BENCH_GOV_N_RULES : i / 2;
        uint8_t b[64];

        bench_upcall_frame(b, (uint16_t)(flow + 1));
        frames[i] = dp_packet_new_from_bytes(b, sizeof b, 0);
    }
    netdev_memory_set_generator(rx, (const struct dp_packet *const *)frames,
                                n_pkts, n_pkts);

    t0 = time_nsec();
    dp_port_add(dp, rx, BENCH_UPCALL_RX);
    deadline = time_msec() + 60000;
    for (;;) {
        netdev_get_stats(sink, &ns);
        if (ns.tx_packets >= n_pkts) {
            break;
        }
        dp_get_stats(dp, &st);
        if (st.n_lost) {
            /* The queue holds every packet: a loss means a broken run. */
            fatal("bench governor: %llu of %zu packets lost",
                  (unsigned long long)st.n_lost, n_pkts);
        }
        if (time_msec() > deadline) {
            fatal("bench governor: stuck at %llu sent, %llu lost",
                  (unsigned long long)ns.tx_packets,
                  (unsigned long long)st.n_lost);
        }
        bench_upcall_sleep_us(50);
    }
    t1 = time_nsec();

    dp_port_del(dp, BENCH_UPCALL_RX);
    upcall_destroy(udpif);
    dp_port_del(dp, BENCH_UPCALL_SINK);
    dp_destroy(dp);
    dp_actions_unref(drop);
    netdev_close(rx);
    netdev_close(sink);
    for (size_t i = 0; i < n_pkts; i++) {
        dp_packet_delete(frames[i]);
    }
    free(frames);
    rcu_wait_postponed();
    return (double)n_pkts / ((double)(t1 - t0) / 1e9);
}

int
bench_governor_main(int argc, char *argv[])
{
    bool quick = false, json = false;
    struct ofproto *ofp;

    if (!bench_parse_options("bench governor", argc, argv, &quick, &json)) {
        return 2;
    }

    rcu_thread_register();
    ofp = bench_upcall_bridge(BENCH_GOV_N_RULES, "governor");
    if (!json) {
        printf("governor: %d 2-packet flows, datapath at flow_limit/2 "
               "(%d of %d), best of %d runs\n",
               BENCH_GOV_N_RULES, BENCH_GOV_FLOW_LIMIT / 2,
               BENCH_GOV_FLOW_LIMIT, quick ? 1 : 5);
        printf("  %-9s %12s %12s %8s\n", "order", "on pkt/s", "off pkt/s",
               "on/off");
    }
    for (int spaced = 0; spaced <= 1; spaced++) {
        double best[2] = {0, 0};

        for (int run = 0; run < (quick ? 1 : 5); run++) {
            for (int on = 0; on <= 1; on++) {
                int n_runs = quick ? 1 : 5;
                double rate;

                bench_progress("governor", quick,
                               (spaced * n_runs + run) * 2 + on + 1,
                               4 * n_runs, "%s, governor %s, run %d",
                               spaced ? "spaced" : "adjacent",
                               on ? "on" : "off", run + 1);
                rate = bench_gov_run(ofp, on, spaced);
                bench_progress_end();

                best[on] = rate > best[on] ? rate : best[on];
            }
        }
        if (json) {
            printf("{\"bench\":\"governor\",\"order\":\"%s\","
                   "\"on_pps\":%.0f,\"off_pps\":%.0f,\"ratio\":%.2f}\n",
                   spaced ? "spaced" : "adjacent", best[1], best[0],
                   best[1] / best[0]);
        } else {
            printf("  %-9s %12.0f %12.0f %8.2f\n",
                   spaced ? "spaced" : "adjacent", best[1], best[0],
                   best[1] / best[0]);
        }
    }
    ofproto_destroy(ofp);
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}
