/* bench/bench-upcall.c — shared scaffolding of the setup, governor,
 * revalidate and memory benchmarks (see bench-upcall.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench-upcall.h"
#include "datapath/datapath.h"
#include "flow/flow-text.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "tests/unit/unit-frames.h"
#include "upcall/upcall.h"

void
bench_upcall_sleep_us(unsigned int us)
{
    struct timespec ts = {0, (long)us * 1000};

    nanosleep(&ts, NULL);
}

void
bench_upcall_frame(uint8_t *b, uint16_t sport)
{
    struct unit_frame_tcp_spec spec = {
        .nw_src = 0x0a000001,
        .nw_dst = 0x0a000002,
        .tp_src = sport,
        .tp_dst = 80,
        .tcp_flags = TCP_SYN,
    };

    unit_frame_tcp(b, 64, &spec);
}

struct ofproto *
bench_upcall_bridge(int n_rules, const char *who)
{
    struct ofproto *ofp = ofproto_create("br0");
    struct flow_text *fts = xcalloc(n_rules, sizeof *fts);
    char *error = NULL;

    if (ofproto_port_add(ofp, BENCH_UPCALL_RX, BENCH_UPCALL_RX, "rx", &error)
        || ofproto_port_add(ofp, BENCH_UPCALL_SINK, BENCH_UPCALL_SINK, "sink",
                            &error)) {
        fatal("bench %s: %s", who, error);
    }
    for (int i = 0; i < n_rules; i++) {
        char line[96];

        snprintf(line, sizeof line,
                 "priority=10,tcp,tp_src=%d,actions=output:%d", i + 1,
                 BENCH_UPCALL_SINK);
        if (flow_text_parse(line, FLOW_TEXT_ADD, &fts[i], &error)) {
            fatal("bench %s: %s", who, error);
        }
    }
    if (ofproto_flow_mods(ofp, fts, n_rules, &error)) {
        fatal("bench %s: %s", who, error);
    }
    for (int i = 0; i < n_rules; i++) {
        flow_text_destroy(&fts[i]);
    }
    free(fts);
    return ofp;
}

struct netdev *
bench_upcall_port(const char *name, const char *who)
{
    struct netdev_options opts;
    struct netdev *netdev;
    char *error = NULL;

    memset(&opts, 0, sizeof opts);
    opts.ring_size = 4096;
    if (netdev_open(name, "memory", &opts, &netdev, &error)) {
        fatal("bench %s: %s", who, error);
    }
    return netdev;
}

#define BENCH_UPCALL_FOREVER ((uint64_t)1000 * 1000 * 1000)

uint64_t
bench_upcall_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long resident = 0;
    char line[128];

    /* "size resident shared ..." in pages. */
    if (f) {
        if (fgets(line, sizeof line, f)) {
            char *p = strchr(line, ' ');

            resident = p ? strtoull(p + 1, NULL, 10) : 0;
        }
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

struct dp *
bench_upcall_quiet_dp(size_t max_flows, const char *who)
{
    struct dp_config cfg;
    struct dp *dp;

    dp_config_init(&cfg);
    cfg.n_threads = 0;
    cfg.n_handlers = 1;
    cfg.max_flows = max_flows;
    if (dp_create(&cfg, &dp)) {
        fatal("bench %s: cannot create the datapath", who);
    }
    return dp;
}

struct udpif *
bench_upcall_quiet_udpif(struct dp *dp, struct ofproto *ofp,
                         unsigned int n_revalidators, const char *who)
{
    struct upcall_config ucfg;
    struct udpif *udpif;

    upcall_config_init(&ucfg);
    ucfg.n_handlers = 1;
    ucfg.n_revalidators = n_revalidators;
    ucfg.max_flow_limit = (size_t)10 * 1000 * 1000;
    ucfg.flow_limit = ucfg.max_flow_limit;
    ucfg.max_idle = BENCH_UPCALL_FOREVER;
    ucfg.max_revalidator = BENCH_UPCALL_FOREVER;
    ucfg.min_revalidate_pps = 0;
    if (upcall_create("br0", dp, ofp, &ucfg, &udpif)) {
        fatal("bench %s: cannot create the udpif", who);
    }
    return udpif;
}

void
bench_upcall_put_flows(struct dp *dp, struct ofproto *ofp, size_t n,
                       int n_rules)
{
    for (size_t i = 0; i < n; i++) {
        struct xlate_out xout;
        struct xlate_in xin;
        struct flow key;
        struct match m;

        memset(&key, 0, sizeof key);
        key.in_port = BENCH_UPCALL_RX;
        key.dl_type = htons(ETH_TYPE_IP);
        key.nw_proto = IPPROTO_TCP_;
        key.nw_src = htonl(0x0a000000 + (uint32_t)(i / (size_t)n_rules));
        key.nw_dst = htonl(0x0a000002);
        key.tp_src = htons((uint16_t)(1 + i % (size_t)n_rules));
        key.tp_dst = htons(80);

        xlate_in_init(&xin, ofp, &key);
        xlate_actions(&xin, &xout);
        xout.wc.masks.in_port = UINT32_MAX;
        xout.wc.masks.nw_src = UINT32_MAX;
        match_init(&m, &key, &xout.wc);
        if (dp_flow_put(dp, &m, xout.actions, DP_FLOW_PUT_CREATE, NULL,
                        NULL)) {
            fatal("bench: flow put %zu of %zu failed", i, n);
        }
        xlate_out_uninit(&xout);
    }
}
