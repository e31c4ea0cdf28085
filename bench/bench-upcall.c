/* bench/bench-upcall.c — shared scaffolding of the setup and governor
 * benchmarks (see bench-upcall.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-memb.h>

#include "bench/bench-upcall.h"
#include "datapath/datapath.h"
#include "flow/flow-text.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "packet/headers.h"
#include "packet/packet.h"
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
    memset(b, 0, 64);
    b[0] = 0x02, b[5] = 0x02, b[6] = 0x02, b[11] = 0x01;
    b[12] = 0x08;
    b[14] = 0x45;
    b[17] = 50;
    b[22] = 64;
    b[23] = IPPROTO_TCP_;
    b[26] = 10, b[29] = 1;
    b[30] = 10, b[33] = 2;
    b[34] = (uint8_t)(sport >> 8);
    b[35] = (uint8_t)sport;
    b[37] = 80;
    b[46] = 0x50;
    b[47] = 0x02;
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
