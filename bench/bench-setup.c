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
 * handler threads in upcall mode "threads" (the handler threads alone
 * translate) and for 1 in mode "auto" (the default: the datapath thread
 * runs batches too once it has queued every miss, so two threads
 * translate), best of N runs after a warm-up run (the flows and
 * ukeys are cleared between runs).  The governor is off and the flow
 * limit at its maximum.  "faults/setup" is the process's minor page
 * faults during the best run's timed window divided by the setups: a
 * setup that finds its memory in the allocator (or a pool) faults no
 * page.
 *
 * Then the cost of a setup in the handler alone, without threads and
 * scheduling in the way: the same 10 000 misses are queued first (the
 * datapath thread parses and queues them), then a handler in manual mode
 * (no handler or revalidator threads) runs its batches on the bench's own
 * thread until the queue is empty.  "ns CPU per setup" is that thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID) over the batches divided by 10 000,
 * best of N runs after a warm-up; it is what a handler thread spends per
 * setup, and a steadier figure on a loaded machine than setups/s.  Under
 * valgrind --tool=callgrind --toggle-collect=upcall_handler_run it gives
 * the instructions per setup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

#define BENCH_SETUP_N_RULES 10000

/* Minor page faults of the whole process so far. */
static uint64_t
bench_setup_minflt(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) ? 0 : (uint64_t)ru.ru_minflt;
}

/* What one run sets up: a udpif, and a generator port (not yet added to
 * the datapath) that offers one new flow per rule, once. */
struct bench_setup_load {
    struct udpif *udpif;
    struct netdev *rx;
    struct dp_packet **frames;
};

static void
bench_setup_begin(struct dp *dp, struct ofproto *ofp, unsigned int n_handlers,
                  enum upcall_mode mode, bool manual,
                  struct bench_setup_load *load)
{
    struct upcall_config ucfg;

    upcall_config_init(&ucfg);
    ucfg.n_handlers = n_handlers;
    ucfg.mode = mode;
    ucfg.manual = manual;
    ucfg.flow_limit = UPCALL_DEFAULT_MAX_FLOW_LIMIT;
    ucfg.governor = GOVERNOR_FORCE_OFF;
    if (upcall_create("br0", dp, ofp, &ucfg, &load->udpif)) {
        fatal("bench setup: cannot create the handlers");
    }
    load->frames = xcalloc(BENCH_SETUP_N_RULES, sizeof(struct dp_packet *));
    for (int i = 0; i < BENCH_SETUP_N_RULES; i++) {
        uint8_t b[64];

        bench_upcall_frame(b, (uint16_t)(i + 1));
        load->frames[i] = dp_packet_new_from_bytes(b, sizeof b, 0);
    }
    load->rx = bench_upcall_port("rx", "setup");
    netdev_memory_set_generator(load->rx,
                                (const struct dp_packet *const *)load->frames,
                                BENCH_SETUP_N_RULES, BENCH_SETUP_N_RULES);
}

/* Takes the run's port and handlers away and empties the datapath. */
static void
bench_setup_end(struct dp *dp, struct bench_setup_load *load)
{
    dp_port_del(dp, BENCH_UPCALL_RX);
    upcall_destroy(load->udpif);
    dp_flow_flush(dp);
    netdev_close(load->rx);
    for (int i = 0; i < BENCH_SETUP_N_RULES; i++) {
        dp_packet_delete(load->frames[i]);
    }
    free(load->frames);
    rcu_wait_postponed();
}

/* One run on 'dp' (whose flows and queues are empty): returns setups per
 * second, and the page faults per setup in '*faults'. */
static double
bench_setup_run(struct dp *dp, struct ofproto *ofp, unsigned int n_handlers,
                enum upcall_mode mode, struct netdev *sink, double *faults)
{
    struct bench_setup_load load;
    struct netdev_stats ns0, ns;
    struct dp_stats st;
    uint64_t t0, t1, deadline, flt0;

    bench_setup_begin(dp, ofp, n_handlers, mode, false, &load);
    netdev_get_stats(sink, &ns0);

    flt0 = bench_setup_minflt();
    t0 = time_nsec();
    dp_port_add(dp, load.rx, BENCH_UPCALL_RX);
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
    *faults = (double)(bench_setup_minflt() - flt0) / BENCH_SETUP_N_RULES;
    bench_setup_end(dp, &load);
    return BENCH_SETUP_N_RULES / ((double)(t1 - t0) / 1e9);
}

/* CPU time of the calling thread, in nanoseconds. */
static uint64_t
bench_setup_thread_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* One manual-mode run on 'dp' (flows and queues empty): queues the 10 000
 * misses, then runs the handler's batches on this thread.  Returns the
 * thread's CPU nanoseconds per setup, and the page faults per setup in
 * '*faults'. */
static double
bench_setup_cost_run(struct dp *dp, struct ofproto *ofp, double *faults)
{
    struct bench_setup_load load;
    struct dp_stats st;
    uint64_t t0, t1, flt0, deadline;
    size_t n_handled = 0;

    bench_setup_begin(dp, ofp, 1, UPCALL_MODE_THREADS, true, &load);
    dp_port_add(dp, load.rx, BENCH_UPCALL_RX);
    deadline = time_msec() + 60000;
    for (;;) {
        dp_get_stats(dp, &st);
        if (st.n_lost || dp_upcall_queue_len(dp, 0) >= BENCH_SETUP_N_RULES) {
            break;
        }
        if (time_msec() > deadline) {
            fatal("bench setup: only %llu misses queued",
                  (unsigned long long)st.n_missed);
        }
        bench_upcall_sleep_us(100);
    }
    if (st.n_lost) {
        fatal("bench setup: %llu of %d misses lost",
              (unsigned long long)st.n_lost, BENCH_SETUP_N_RULES);
    }

    flt0 = bench_setup_minflt();
    t0 = bench_setup_thread_ns();
    /* The last upcalls claimed may still be being written. */
    while (n_handled < BENCH_SETUP_N_RULES) {
        n_handled += upcall_handler_run(load.udpif, 0, time_msec());
        if (time_msec() > deadline) {
            fatal("bench setup: the manual handler took only %zu upcalls",
                  n_handled);
        }
    }
    t1 = bench_setup_thread_ns();
    *faults = (double)(bench_setup_minflt() - flt0) / BENCH_SETUP_N_RULES;
    dp_get_stats(dp, &st);
    if (st.n_flows != BENCH_SETUP_N_RULES) {
        fatal("bench setup: the manual handler installed %llu flows of %d",
              (unsigned long long)st.n_flows, BENCH_SETUP_N_RULES);
    }
    bench_setup_end(dp, &load);
    return (double)(t1 - t0) / BENCH_SETUP_N_RULES;
}

/* Creates the datapath the runs share: one datapath thread, 'n_handlers'
 * queues big enough for every miss, the sink port added. */
static struct dp *
bench_setup_dp(unsigned int n_handlers, struct netdev *sink)
{
    struct dp_config cfg;
    struct dp *dp;

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
    return dp;
}

/* Lowest CPU ns per setup of 'n_runs' manual runs after a warm-up; that
 * run's page faults per setup in '*faults'. */
static double
bench_setup_cost_best(struct ofproto *ofp, int n_runs, double *faults)
{
    struct netdev *sink = bench_upcall_port("sink", "setup");
    struct dp *dp = bench_setup_dp(1, sink);
    double best = 0;

    for (int run = 0; run <= n_runs; run++) {
        double run_faults;
        double ns = bench_setup_cost_run(dp, ofp, &run_faults);

        if (run && (!best || ns < best)) {
            best = ns;
            *faults = run_faults;
        }
    }
    dp_port_del(dp, BENCH_UPCALL_SINK);
    dp_destroy(dp);
    netdev_close(sink);
    return best;
}

/* Best of 'n_runs' runs after one warm-up run (queue memory, heap); the
 * best run's page faults per setup in '*faults'. */
static double
bench_setup_best(struct ofproto *ofp, unsigned int n_handlers,
                 enum upcall_mode mode, int n_runs, double *faults)
{
    struct netdev *sink = bench_upcall_port("sink", "setup");
    struct dp *dp = bench_setup_dp(n_handlers, sink);
    double best = 0;

    for (int run = 0; run <= n_runs; run++) {
        double run_faults;
        double rate =
            bench_setup_run(dp, ofp, n_handlers, mode, sink, &run_faults);

        if (run && rate > best) {
            best = rate;
            *faults = run_faults;
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
    /* Handler threads alone ("one handler" is one thread translating),
     * then the default mode, where the idle datapath thread runs batches
     * too. */
    static const struct {
        unsigned int n;
        enum upcall_mode mode;
    } rows[] = {
        {1, UPCALL_MODE_THREADS},
        {2, UPCALL_MODE_THREADS},
        {1, UPCALL_MODE_AUTO},
    };
    bool quick = false, json = false;
    struct ofproto *ofp;

    if (!bench_parse_options("bench setup", argc, argv, &quick, &json)) {
        return 2;
    }

    rcu_thread_register();
    ofp = bench_upcall_bridge(BENCH_SETUP_N_RULES, "setup");
    if (!json) {
        printf("setup: %d new 1-packet flows against %d rules (exact "
               "tp_src), best of %d runs\n",
               BENCH_SETUP_N_RULES, BENCH_SETUP_N_RULES, quick ? 1 : 5);
        printf("  %-9s %-8s %14s %22s %14s\n", "handlers", "mode", "setups/s",
               "setups/s per handler", "faults/setup");
    }
    int n_steps = (int)ARRAY_SIZE(rows) + 1;
    double ns, faults = 0;

    for (size_t h = 0; h < ARRAY_SIZE(rows); h++) {
        unsigned int n = rows[h].n;
        const char *mode = upcall_mode_to_string(rows[h].mode);
        double best;

        bench_progress("setup", quick, (int)h + 1, n_steps,
                       "%u handler(s), upcall mode %s, %d runs after a "
                       "warm-up",
                       n, mode, quick ? 1 : 5);
        best = bench_setup_best(ofp, n, rows[h].mode, quick ? 1 : 5, &faults);
        bench_progress_end();

        if (json) {
            printf("{\"bench\":\"setup\",\"handlers\":%u,\"mode\":\"%s\","
                   "\"setups_per_s\":%.0f,\"per_handler\":%.0f,"
                   "\"faults_per_setup\":%.3f}\n",
                   n, mode, best, best / n, faults);
        } else {
            printf("  %-9u %-8s %14.0f %22.0f %14.3f\n", n, mode, best,
                   best / n, faults);
        }
    }

    bench_progress("setup", quick, n_steps, n_steps,
                   "one manual handler on this thread, %d runs after a "
                   "warm-up",
                   quick ? 1 : 5);
    ns = bench_setup_cost_best(ofp, quick ? 1 : 5, &faults);
    bench_progress_end();
    if (json) {
        printf("{\"bench\":\"setup\",\"handlers\":\"manual\","
               "\"cpu_ns_per_setup\":%.0f,\"faults_per_setup\":%.3f}\n",
               ns, faults);
    } else {
        printf("  handler alone (manual, this thread): %.0f ns CPU per "
               "setup (%.0f setups/s), %.3f faults/setup\n",
               ns, 1e9 / ns, faults);
    }
    ofproto_destroy(ofp);
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}
