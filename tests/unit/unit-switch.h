/* tests/unit/unit-switch.h — the switch the upcall and revalidator tests
 * drive, and the bridge the ofproto, openflow and xlate tests start from.
 *
 * A struct unit_switch is a real datapath with memory ports 1..n_ports
 * (datapath port p), a bridge "br0" holding the first n_bridge_ports of
 * them (OpenFlow port p), and a udpif over both.  What waits for the
 * datapath's threads polls its counters against a deadline of
 * UNIT_DEADLINE_MS (unit_pause_briefly() between polls is back-off, never
 * synchronisation) and fails the test when it passes.
 *
 * For cmocka tests: include it after <cmocka.h>. */
#ifndef FLOWSWITCH_TESTS_UNIT_SWITCH_H
#define FLOWSWITCH_TESTS_UNIT_SWITCH_H 1

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "datapath/datapath.h"
#include "flow/flow-text.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "packet/packet.h"
#include "unit-frames.h"
#include "unit-rcu.h"
#include "upcall/upcall.h"

#define UNIT_DEADLINE_MS 20000
#define UNIT_SWITCH_MAX_PORTS 4

/* The cmocka group teardown of the tests that run a unit_switch (their
 * setup is unit_rcu_group_setup()): RCU's, then the memory ports' pooled
 * buffers go, so LeakSanitizer sees none. */
static inline int
unit_switch_group_teardown(void **state)
{
    unit_rcu_group_teardown(state);
    netdev_pool_purge();
    return 0;
}

static inline void
unit_pause_briefly(void)
{
    struct timespec ts = {0, 200000};

    nanosleep(&ts, NULL);
}

/* "br0" with ports p1, p2, p3 (OpenFlow and datapath ports 1, 2, 3). */
static inline struct ofproto *
unit_bridge(void)
{
    struct ofproto *ofp = ofproto_create("br0");
    char *error = NULL;

    for (uint32_t p = 1; p <= 3; p++) {
        char name[8];

        snprintf(name, sizeof name, "p%u", p);
        assert_int_equal(ofproto_port_add(ofp, p, p, name, &error), 0);
    }
    return ofp;
}

/* Applies the flow-mod 'line' to 'ofp' at 'now' (msec), failing the test
 * if it is refused. */
static inline void
unit_flow_mod_at(struct ofproto *ofp, enum flow_text_mode mode,
                 const char *line, uint64_t now)
{
    char *error = NULL;

    if (ofproto_flow_mod_str_at(ofp, line, mode, now, &error)) {
        fail_msg("flow-mod \"%s\": %s", line, error);
    }
}

struct unit_switch_config {
    unsigned int n_threads;      /* Datapath threads. */
    unsigned int n_handlers;     /* Upcall queues and handlers. */
    unsigned int queue_size;     /* Each upcall queue's length. */
    unsigned int n_ports;        /* Memory ports 1..n_ports. */
    unsigned int n_bridge_ports; /* Ports 1..n_bridge_ports are in br0. */
    /* The udpif's configuration (its n_handlers is overridden); NULL:
     * the defaults, in manual mode. */
    const struct upcall_config *upcall;
};

struct unit_switch {
    struct dp *dp;
    struct ofproto *ofp;
    struct netdev *ports[UNIT_SWITCH_MAX_PORTS + 1]; /* [1..n_ports]. */
    unsigned int n_ports;
    struct udpif *udpif;
    uint64_t n_sent; /* Frames unit_switch_inject() injected. */
};

/* Sets '*ucfg' to '*base' or, if 'base' is NULL, to the defaults in
 * manual mode (the handlers and revalidators run only when the test runs
 * them). */
static inline void
unit_switch_upcall_config(struct upcall_config *ucfg,
                          const struct upcall_config *base)
{
    if (base) {
        *ucfg = *base;
    } else {
        upcall_config_init(ucfg);
        ucfg->manual = true;
    }
}

static inline void
unit_switch_init(struct unit_switch *sw, const struct unit_switch_config *c)
{
    struct upcall_config ucfg;
    struct dp_config cfg;
    char *error = NULL;

    assert_true(c->n_ports <= UNIT_SWITCH_MAX_PORTS);
    memset(sw, 0, sizeof *sw);
    sw->n_ports = c->n_ports;
    dp_config_init(&cfg);
    cfg.n_threads = c->n_threads;
    cfg.n_handlers = c->n_handlers;
    cfg.queue_size = c->queue_size;
    cfg.emc_insert_inv_prob = 1;
    assert_int_equal(dp_create(&cfg, &sw->dp), 0);
    sw->ofp = ofproto_create("br0");
    for (unsigned int p = 1; p <= c->n_ports; p++) {
        struct netdev_options opts;
        char name[16];

        snprintf(name, sizeof name, "p%u", p);
        memset(&opts, 0, sizeof opts);
        opts.ring_size = 4096;
        if (netdev_open(name, "memory", &opts, &sw->ports[p], &error)) {
            fail_msg("%s", error);
        }
        assert_int_equal(dp_port_add(sw->dp, sw->ports[p], p), 0);
        if (p <= c->n_bridge_ports) {
            assert_int_equal(ofproto_port_add(sw->ofp, p, p, name, &error), 0);
        }
    }
    unit_switch_upcall_config(&ucfg, c->upcall);
    ucfg.n_handlers = c->n_handlers;
    assert_int_equal(upcall_create("br0", sw->dp, sw->ofp, &ucfg, &sw->udpif),
                     0);
}

/* Frees every packet the ports sent. */
static inline void
unit_switch_drain_ports(struct unit_switch *sw)
{
    for (unsigned int p = 1; p <= sw->n_ports; p++) {
        struct dp_packet *pkt;

        while ((pkt = netdev_memory_collect(sw->ports[p]))) {
            dp_packet_delete(pkt);
        }
    }
}

static inline void
unit_switch_destroy(struct unit_switch *sw)
{
    upcall_destroy(sw->udpif);
    for (unsigned int p = 1; p <= sw->n_ports; p++) {
        dp_port_del(sw->dp, p);
    }
    unit_switch_drain_ports(sw);
    for (unsigned int p = 1; p <= sw->n_ports; p++) {
        netdev_close(sw->ports[p]);
    }
    dp_destroy(sw->dp);
    ofproto_destroy(sw->ofp);
    rcu_wait_postponed();
}

/* Applies the flow-mod 'line' to the bridge, failing the test if it is
 * refused. */
static inline void
unit_switch_flow_mod(struct unit_switch *sw, const char *line,
                     enum flow_text_mode mode)
{
    char *error = NULL;

    if (ofproto_flow_mod_str(sw->ofp, line, mode, &error)) {
        fail_msg("flow-mod \"%s\": %s", line, error);
    }
}

/* Injects the 'len' bytes of 'frame' on port 'port', waiting for room in
 * its ring. */
static inline void
unit_switch_inject(struct unit_switch *sw, unsigned int port,
                   const uint8_t *frame, size_t len)
{
    while (netdev_memory_inject(sw->ports[port], frame, len) == ENOBUFS) {
        unit_pause_briefly();
    }
    sw->n_sent++;
}

/* Injects on port 'port' a 64-byte TCP ACK from 'src_ip' (host byte order)
 * to 10.0.0.2 whose payload starts with 'tag' (unit_frame_tcp_tag()). */
static inline void
unit_switch_inject_tcp(struct unit_switch *sw, unsigned int port,
                       uint32_t src_ip, uint16_t sport, uint16_t dport,
                       uint32_t tag)
{
    uint8_t b[64];

    unit_frame_tcp_to_host2(b, sizeof b, src_ip, sport, dport, TCP_ACK, tag);
    unit_switch_inject(sw, port, b, sizeof b);
}

/* Polls until the handler threads have handled every upcall the datapath
 * queued (their puts included); 'st' is then the datapath's stats. */
static inline void
unit_switch_wait_handlers_idle(struct unit_switch *sw, struct dp_stats *st)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

    for (;;) {
        uint64_t handled = 0, queued;

        dp_get_stats(sw->dp, st);
        for (unsigned int h = 0; h < upcall_n_handlers(sw->udpif); h++) {
            struct upcall_handler_stats hs;

            upcall_get_handler_stats(sw->udpif, h, &hs);
            handled += hs.n_upcalls;
        }
        queued = st->n_missed + st->n_action_upcall + st->n_drain_upcall;
        if (handled == queued) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: handled %llu of %llu upcalls",
                     (unsigned long long)handled, (unsigned long long)queued);
        }
        unit_pause_briefly();
    }
}

/* Runs every handler's batches at 'now' until the queues are empty and
 * no flow is draining; returns how many upcalls they handled. */
static inline size_t
unit_switch_run_handlers(struct unit_switch *sw, uint64_t now)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
    size_t total = 0, n;

    /* A hit on a draining flow is queued (as a DRAIN upcall) just after
     * the datapath counted it. */
    for (;;) {
        struct dp_stats st;

        n = 0;
        for (unsigned int h = 0; h < upcall_n_handlers(sw->udpif); h++) {
            n += upcall_handler_run(sw->udpif, h, now);
        }
        total += n;
        if (n) {
            continue;
        }
        dp_get_stats(sw->dp, &st);
        if (!st.n_draining) {
            return total;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: %llu flows still draining",
                     (unsigned long long)st.n_draining);
        }
        unit_pause_briefly();
    }
}

/* Polls until port 'port' sent 'n' packets, and frees them; stores their
 * unit_frame_tcp() tags in 'tags' if nonnull. */
static inline void
unit_switch_collect(struct unit_switch *sw, unsigned int port, size_t n,
                    uint32_t *tags)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
    size_t got = 0;

    while (got < n) {
        struct dp_packet *pkt = netdev_memory_collect(sw->ports[port]);

        if (!pkt) {
            if (time_msec() > deadline) {
                fail_msg("timeout: port %u sent %zu of %zu", port, got, n);
            }
            unit_pause_briefly();
            continue;
        }
        if (tags) {
            tags[got] = unit_frame_tcp_tag(dp_packet_data(pkt));
        }
        got++;
        dp_packet_delete(pkt);
    }
}

static inline void
unit_switch_assert_port_idle(struct unit_switch *sw, unsigned int port)
{
    struct dp_packet *pkt = netdev_memory_collect(sw->ports[port]);

    if (pkt) {
        dp_packet_delete(pkt);
        fail_msg("port %u sent an unexpected packet", port);
    }
}

static inline uint64_t
unit_switch_n_flows(struct unit_switch *sw)
{
    struct dp_stats st;

    dp_get_stats(sw->dp, &st);
    return st.n_flows;
}

#endif /* tests/unit/unit-switch.h */
