/* Unit tests for src/datapath: flow put/del/get semantics and statistics,
 * the EMC's invalidation, upcall queues (overflow counted as lost to the
 * packet, lossless ports that never lose, handler count changes, per-port
 * shares that keep one port's storm from starving another port), the
 * multi-threaded flow dump racing adds and deletes, dp_execute(), ports
 * removed under traffic, the dpctl-style text, and packet conservation
 * (rx = hit + missed + lost + parse_drop) over traffic through memory
 * ports with two datapath threads.
 *
 * Nothing waits by sleeping: tests join threads, meet at barriers, or poll
 * the datapath's counters until they reach a value, with a deadline. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "datapath/datapath.h"
#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/timeval.h"
#include "netdev/netdev.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "packet/pcap-file.h"
#include "unit-frames.h"

#define DEADLINE_MS 20000

/* ---- Helpers ------------------------------------------------------------ */

static void
pause_briefly(void)
{
    struct timespec ts = {0, 200000};

    nanosleep(&ts, NULL);
}

static struct netdev *
open_memory_port(const char *name, unsigned int ring_size)
{
    struct netdev_options opts;
    struct netdev *netdev;
    char *error = NULL;

    memset(&opts, 0, sizeof opts);
    opts.ring_size = ring_size;
    if (netdev_open(name, "memory", &opts, &netdev, &error)) {
        fail_msg("%s", error);
    }
    return netdev;
}

static struct dp *
create_dp(unsigned int n_threads, unsigned int n_handlers,
          unsigned int queue_size, unsigned int emc_inv_prob)
{
    struct dp_config cfg;
    struct dp *dp;

    dp_config_init(&cfg);
    cfg.n_threads = n_threads;
    cfg.n_handlers = n_handlers;
    cfg.queue_size = queue_size;
    cfg.emc_insert_inv_prob = emc_inv_prob;
    assert_int_equal(dp_create(&cfg, &dp), 0);
    return dp;
}

static uint32_t
packet_seq(const struct dp_packet *pkt)
{
    return unit_frame_tcp_tag(dp_packet_data(pkt));
}

static void
inject_tcp(struct netdev *port, uint32_t src_ip, uint16_t sport,
           uint16_t dport, uint8_t flags, uint32_t seq)
{
    uint8_t b[64];

    unit_frame_tcp_to_host2(b, sizeof b, src_ip, sport, dport, flags, seq);
    assert_int_equal(netdev_memory_inject(port, b, sizeof b), 0);
}

/* Megaflow: in_port, dl_type IPv4, nw_proto TCP and tp_dst. */
static void
tcp_match(struct match *m, uint32_t in_port, uint16_t dport)
{
    match_init_catchall(m);
    m->flow.in_port = in_port;
    m->wc.masks.in_port = UINT32_MAX;
    m->flow.dl_type = htons(ETH_TYPE_IP);
    m->wc.masks.dl_type = UINT16_MAX;
    m->flow.nw_proto = IPPROTO_TCP_;
    m->wc.masks.nw_proto = UINT8_MAX;
    m->flow.tp_dst = htons(dport);
    m->wc.masks.tp_dst = UINT16_MAX;
}

static struct dp_actions *
actions(const char *s)
{
    struct dp_actions *a;
    char *error;

    if (dp_actions_from_string(s, &a, &error)) {
        fail_msg("%s", error);
    }
    return a;
}

static void
put_flow(struct dp *dp, const struct match *m, const char *acts,
         struct dp_ufid *ufid)
{
    struct dp_actions *a = actions(acts);

    assert_int_equal(dp_flow_put(dp, m, a, DP_FLOW_PUT_CREATE, ufid, NULL), 0);
    dp_actions_unref(a);
}

/* Polls until the datapath has received 'n' packets and accounted for each
 * of them, or fails at the deadline. */
static void
wait_rx(struct dp *dp, uint64_t n, struct dp_stats *st)
{
    uint64_t deadline = time_msec() + DEADLINE_MS;

    for (;;) {
        dp_get_stats(dp, st);
        if (st->n_rx == n
            && st->n_hit + st->n_missed + st->n_lost + st->n_parse_drop == n) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: rx %llu (want %llu), hit %llu, missed %llu, "
                     "lost %llu, parse_drop %llu",
                     (unsigned long long)st->n_rx, (unsigned long long)n,
                     (unsigned long long)st->n_hit,
                     (unsigned long long)st->n_missed,
                     (unsigned long long)st->n_lost,
                     (unsigned long long)st->n_parse_drop);
        }
        pause_briefly();
    }
}

/* Polls until 'port' has transmitted 'n' packets (in all). */
static void
wait_tx(struct netdev *port, uint64_t n)
{
    uint64_t deadline = time_msec() + DEADLINE_MS;
    struct netdev_stats ns;

    for (;;) {
        netdev_get_stats(port, &ns);
        if (ns.tx_packets >= n) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: %s sent %llu packets (want %llu)",
                     netdev_get_name(port), (unsigned long long)ns.tx_packets,
                     (unsigned long long)n);
        }
        pause_briefly();
    }
}

static size_t
drain_port(struct netdev *port)
{
    struct dp_packet *pkt;
    size_t n = 0;

    while ((pkt = netdev_memory_collect(port)) != NULL) {
        dp_packet_delete(pkt);
        n++;
    }
    return n;
}

static size_t
drain_upcalls(struct dp *dp)
{
    struct dp_upcall ups[64];
    size_t total = 0;

    for (unsigned int h = 0; h < dp_n_handlers(dp); h++) {
        size_t n;

        while ((n = dp_upcall_recv(dp, h, ups, ARRAY_SIZE(ups))) > 0) {
            for (size_t i = 0; i < n; i++) {
                netdev_packet_recycle(ups[i].packet);
            }
            total += n;
        }
    }
    return total;
}

/* ---- Flow operations ---------------------------------------------------- */

static void
test_put_get_del_semantics(void **state)
{
    struct dp *dp = create_dp(0, 1, 0, 1);
    struct dp_actions *a1 = actions("1"), *a2 = actions("2,3");
    struct dp_flow_stats stats;
    struct dp_flow_info info;
    struct dp_ufid ufid, ufid2, computed;
    struct match m, unmasked;
    struct dp_stats st;

    (void)state;
    tcp_match(&m, 1, 80);
    /* The key is masked by the datapath: bits outside the mask do not
     * change the megaflow. */
    unmasked = m;
    unmasked.flow.nw_src = htonl(0x01020304);
    dp_flow_ufid(&m, &computed);

    assert_int_equal(
        dp_flow_put(dp, &unmasked, a1, DP_FLOW_PUT_CREATE, &ufid, NULL), 0);
    assert_true(dp_ufid_equal(&ufid, &computed));
    assert_int_equal(dp_flow_put(dp, &m, a1, DP_FLOW_PUT_CREATE, &ufid2, NULL),
                     EEXIST);
    assert_true(dp_ufid_equal(&ufid, &ufid2));

    assert_int_equal(dp_flow_get(dp, &ufid, &info), 0);
    assert_true(match_equal(&info.match, &m));
    assert_true(dp_actions_equal(info.actions, a1));
    assert_int_equal(info.stats.n_packets, 0);
    assert_int_equal(info.stats.used, 0);
    dp_flow_info_uninit(&info);

    /* Modify: actions replaced, statistics kept. */
    assert_int_equal(dp_flow_put(dp, &m, a2, DP_FLOW_PUT_MODIFY, NULL, &stats),
                     0);
    assert_int_equal(dp_flow_get(dp, &ufid, &info), 0);
    assert_true(dp_actions_equal(info.actions, a2));
    dp_flow_info_uninit(&info);
    assert_int_equal(dp_flow_put(dp, &m, a1,
                                 DP_FLOW_PUT_CREATE | DP_FLOW_PUT_MODIFY, NULL,
                                 NULL),
                     0);

    /* Modify of a flow that does not exist. */
    tcp_match(&m, 1, 81);
    assert_int_equal(dp_flow_put(dp, &m, a1, DP_FLOW_PUT_MODIFY, NULL, NULL),
                     ENOENT);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_flows, 1);
    assert_int_equal(st.n_masks, 1);

    /* Delete. */
    assert_int_equal(dp_flow_del(dp, &ufid, &stats), 0);
    assert_int_equal(stats.n_packets, 0);
    assert_int_equal(dp_flow_del(dp, &ufid, &stats), ENOENT);
    assert_int_equal(dp_flow_get(dp, &ufid, &info), ENOENT);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_flows, 0);
    assert_int_equal(st.n_masks, 0);

    dp_actions_unref(a1);
    dp_actions_unref(a2);
    dp_destroy(dp);
}

static void
test_put_fails_with_efbig_at_the_flow_limit(void **state)
{
    struct dp *dp = create_dp(0, 1, 0, 1);
    struct dp_actions *a = actions("drop");
    struct match m;

    (void)state;
    dp_set_max_flows(dp, 10);
    for (int i = 0; i < 10; i++) {
        tcp_match(&m, 1, (uint16_t)i);
        assert_int_equal(
            dp_flow_put(dp, &m, a, DP_FLOW_PUT_CREATE, NULL, NULL), 0);
    }
    tcp_match(&m, 1, 10);
    assert_int_equal(dp_flow_put(dp, &m, a, DP_FLOW_PUT_CREATE, NULL, NULL),
                     EFBIG);
    /* Modifying an existing flow is still fine. */
    tcp_match(&m, 1, 3);
    assert_int_equal(dp_flow_put(dp, &m, a, DP_FLOW_PUT_MODIFY, NULL, NULL),
                     0);
    assert_int_equal(dp_flow_flush(dp), 10);
    dp_actions_unref(a);
    dp_destroy(dp);
}

static void
test_operate_runs_a_batch_in_order(void **state)
{
    struct dp *dp = create_dp(0, 1, 0, 1);
    struct dp_actions *a = actions("5");
    struct dp_flow_stats del_stats;
    struct dp_flow_info info;
    struct dp_op ops[4];
    struct match m;

    (void)state;
    memset(&info, 0, sizeof info);
    tcp_match(&m, 2, 22);
    memset(ops, 0, sizeof ops);
    ops[0].type = DP_OP_FLOW_PUT;
    ops[0].put.match = &m;
    ops[0].put.actions = a;
    ops[0].put.flags = DP_FLOW_PUT_CREATE;
    ops[1].type = DP_OP_FLOW_PUT; /* Same flow again: EEXIST. */
    ops[1].put = ops[0].put;
    ops[2].type = DP_OP_FLOW_GET;
    dp_flow_ufid(&m, &ops[2].get.ufid);
    ops[2].get.info = &info;
    ops[3].type = DP_OP_FLOW_DEL;
    ops[3].del.ufid = ops[2].get.ufid;
    ops[3].del.stats = &del_stats;
    dp_operate(dp, ops, ARRAY_SIZE(ops));
    assert_int_equal(ops[0].error, 0);
    assert_int_equal(ops[1].error, EEXIST);
    assert_int_equal(ops[2].error, 0);
    assert_true(dp_actions_equal(info.actions, a));
    dp_flow_info_uninit(&info);
    assert_int_equal(ops[3].error, 0);
    assert_int_equal(dp_flow_get(dp, &ops[2].get.ufid, &info), ENOENT);
    dp_actions_unref(a);
    dp_destroy(dp);
}

/* The ufid depends on the masked key and the mask and on nothing else:
 * bits outside the mask do not change it; a key bit under the mask, a
 * mask bit (even where the key is 0) or a mask moved to another field
 * does.  (The hash covers only the words the mask covers.) */
static void
test_ufid_tells_megaflows_apart(void **state)
{
    struct dp_ufid base, other;
    struct match m, n;

    (void)state;
    tcp_match(&m, 1, 80);
    dp_flow_ufid(&m, &base);

    n = m;
    n.flow.tp_src = htons(1234); /* Outside the mask. */
    n.flow.nw_src = htonl(0x0a000001);
    dp_flow_ufid(&n, &other);
    assert_true(dp_ufid_equal(&base, &other));

    tcp_match(&n, 1, 81); /* A key bit under the mask. */
    dp_flow_ufid(&n, &other);
    assert_false(dp_ufid_equal(&base, &other));

    n = m; /* One more mask bit, the key's bit 0. */
    n.wc.masks.nw_src = htonl(1);
    dp_flow_ufid(&n, &other);
    assert_false(dp_ufid_equal(&base, &other));

    n = m; /* The same mask and key value on another field. */
    n.wc.masks.tp_dst = 0;
    n.flow.tp_dst = 0;
    n.wc.masks.tp_src = UINT16_MAX;
    n.flow.tp_src = htons(80);
    dp_flow_ufid(&n, &other);
    assert_false(dp_ufid_equal(&base, &other));

    match_init_catchall(&n);
    dp_flow_ufid(&n, &other);
    assert_false(dp_ufid_equal(&base, &other));
}

/* A put that brings its ufid (DP_FLOW_PUT_UFID) is filed under that ufid
 * as given, not under one the datapath computes again; dp_flow_put(),
 * which has no ufid to bring, ignores the flag and computes its own. */
static void
test_put_with_its_ufid_is_filed_under_that_ufid(void **state)
{
    struct dp *dp = create_dp(0, 1, 0, 1);
    struct dp_actions *a = actions("2");
    const struct dp_ufid given = {.hi = 0x1234, .lo = 0x5678};
    struct dp_ufid computed, out;
    struct dp_flow_info info;
    struct dp_op op;
    struct match m;

    (void)state;
    tcp_match(&m, 1, 80);
    dp_flow_ufid(&m, &computed);
    memset(&op, 0, sizeof op);
    op.type = DP_OP_FLOW_PUT;
    op.put.match = &m;
    op.put.actions = a;
    op.put.flags = DP_FLOW_PUT_CREATE | DP_FLOW_PUT_UFID;
    op.put.ufid = given;
    dp_operate(dp, &op, 1);
    assert_int_equal(op.error, 0);
    assert_true(dp_ufid_equal(&op.put.ufid, &given));
    assert_int_equal(dp_flow_get(dp, &given, &info), 0);
    assert_true(match_equal(&info.match, &m));
    dp_flow_info_uninit(&info);
    assert_int_equal(dp_flow_get(dp, &computed, &info), ENOENT);

    tcp_match(&m, 1, 81);
    assert_int_equal(dp_flow_put(dp, &m, a,
                                 DP_FLOW_PUT_CREATE | DP_FLOW_PUT_UFID, &out,
                                 NULL),
                     0);
    dp_flow_ufid(&m, &computed);
    assert_true(dp_ufid_equal(&out, &computed));
    assert_int_equal(dp_flow_flush(dp), 2);
    dp_actions_unref(a);
    dp_destroy(dp);
}

/* A run of executes goes out in one send per port, each port's packets in
 * the order of the ops. */
static void
test_operate_sends_a_run_of_executes_once_per_port(void **state)
{
    struct netdev *p2 = open_memory_port("p2", 0);
    struct netdev *p3 = open_memory_port("p3", 0);
    struct dp *dp = create_dp(0, 1, 0, 1);
    struct dp_actions *to2 = actions("2");
    struct dp_actions *to3 = actions("3");
    struct dp_actions *both = actions("2,3");
    struct dp_op ops[21];
    uint32_t seq2 = 0, seq3 = 0;
    uint64_t sends0;
    struct dp_stats st;

    (void)state;
    assert_int_equal(dp_port_add(dp, p2, 2), 0);
    assert_int_equal(dp_port_add(dp, p3, 3), 0);
    memset(ops, 0, sizeof ops);
    for (uint32_t i = 0; i < 20; i++) {
        struct dp_packet *pkt = netdev_packet_alloc();
        uint8_t b[64];

        unit_frame_tcp_to_host2(b, sizeof b, 0x0a000001, 1000, 80, 0, i);
        dp_packet_put(pkt, b, sizeof b);
        ops[i].type = DP_OP_EXECUTE;
        ops[i].execute.packet = pkt;
        ops[i].execute.actions = i % 5 == 4 ? both : i % 2 ? to3 : to2;
        ops[i].execute.may_steal = true;
    }
    ops[20].type = DP_OP_FLOW_GET; /* Ends the run; no such flow. */
    sends0 = coverage_read("netdev_send_batch");
    dp_operate(dp, ops, ARRAY_SIZE(ops));
    assert_int_equal(coverage_read("netdev_send_batch") - sends0, 2);
    assert_int_equal(ops[20].error, ENOENT);

    dp_get_stats(dp, &st);
    assert_int_equal(st.n_executed, 20);
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_equal(ops[i].error, 0);
        if (i % 5 == 4 || i % 2 == 0) {
            struct dp_packet *pkt = netdev_memory_collect(p2);

            assert_non_null(pkt);
            assert_int_equal(packet_seq(pkt), i);
            dp_packet_delete(pkt);
            seq2++;
        }
        if (i % 5 == 4 || i % 2 == 1) {
            struct dp_packet *pkt = netdev_memory_collect(p3);

            assert_non_null(pkt);
            assert_int_equal(packet_seq(pkt), i);
            dp_packet_delete(pkt);
            seq3++;
        }
    }
    assert_null(netdev_memory_collect(p2));
    assert_null(netdev_memory_collect(p3));
    assert_int_equal(seq2 + seq3, 24);

    dp_actions_unref(to2);
    dp_actions_unref(to3);
    dp_actions_unref(both);
    dp_port_del(dp, 2);
    dp_port_del(dp, 3);
    dp_destroy(dp);
    netdev_close(p2);
    netdev_close(p3);
}

/* ---- Traffic ------------------------------------------------------------ */

/* The forwarding setup of the traffic tests: memory ports p1 and p2 as
 * datapath ports 1 and 2 of a one-thread datapath (EMC insert on every
 * hit, no upcall queue), forwarding with flow 'm' = 'ufid' (in_port=1, TCP
 * to port 80: output:2). */
struct fwd_env {
    struct netdev *p1, *p2;
    struct dp *dp;
    struct match m;
    struct dp_ufid ufid;
};

/* The ports and the datapath, before the ports are attached. */
static void
fwd_env_create(struct fwd_env *e)
{
    e->p1 = open_memory_port("p1", 0);
    e->p2 = open_memory_port("p2", 0);
    e->dp = create_dp(1, 1, 0, 1);
}

/* Attaches the ports and installs the flow. */
static void
fwd_env_start(struct fwd_env *e)
{
    assert_int_equal(dp_port_add(e->dp, e->p1, 1), 0);
    assert_int_equal(dp_port_add(e->dp, e->p2, 2), 0);
    tcp_match(&e->m, 1, 80);
    put_flow(e->dp, &e->m, "2", &e->ufid);
}

static void
fwd_env_init(struct fwd_env *e)
{
    fwd_env_create(e);
    fwd_env_start(e);
}

/* Detaches the ports, destroys the datapath and closes the ports (with
 * whatever p2 still holds). */
static void
fwd_env_destroy(struct fwd_env *e)
{
    assert_int_equal(dp_port_del(e->dp, 1), 0);
    assert_int_equal(dp_port_del(e->dp, 2), 0);
    dp_destroy(e->dp);
    drain_port(e->p2);
    netdev_close(e->p1);
    netdev_close(e->p2);
}

static void
test_hits_forward_and_count_flow_stats(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct netdev *p2 = open_memory_port("p2", 0);
    struct dp *dp = create_dp(1, 1, 0, 1);
    struct dp_flow_info info;
    struct dp_ufid ufid;
    struct dp_stats st;
    struct match m;
    uint64_t before = time_msec();

    (void)state;
    assert_int_equal(dp_port_add(dp, p1, 1), 0);
    assert_int_equal(dp_port_add(dp, p2, 2), 0);
    assert_int_equal(dp_port_add(dp, p2, 2), EEXIST);
    tcp_match(&m, 1, 80);
    put_flow(dp, &m, "2", &ufid);

    for (uint32_t i = 0; i < 100; i++) {
        inject_tcp(p1, 0x0a000001 + i, 1000, 80, i ? TCP_ACK : TCP_SYN, i);
    }
    wait_rx(dp, 100, &st);
    assert_int_equal(st.n_hit, 100);
    assert_int_equal(st.n_missed, 0);
    wait_tx(p2, 100);

    /* Forwarded unchanged and in order. */
    for (uint32_t i = 0; i < 100; i++) {
        struct dp_packet *pkt = netdev_memory_collect(p2);

        assert_non_null(pkt);
        assert_int_equal(dp_packet_size(pkt), 64);
        assert_int_equal(packet_seq(pkt), i);
        dp_packet_delete(pkt);
    }
    assert_null(netdev_memory_collect(p2));

    assert_int_equal(dp_flow_get(dp, &ufid, &info), 0);
    assert_int_equal(info.stats.n_packets, 100);
    assert_int_equal(info.stats.n_bytes, 6400);
    assert_int_equal(info.stats.tcp_flags, TCP_SYN | TCP_ACK);
    assert_true(info.stats.used >= before && info.stats.used <= time_msec());
    dp_flow_info_uninit(&info);

    assert_int_equal(dp_port_del(dp, 1), 0);
    assert_int_equal(dp_port_del(dp, 2), 0);
    assert_int_equal(dp_port_del(dp, 2), ENOENT);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
}

/* A port whose interface vanished (dp_port_detach()): its output is
 * counted as tx drops instead of sent, its old netdev is no longer used,
 * and a new netdev attached under the same number forwards again, the
 * port's counters going on from where they were. */
static void
test_detached_port_counts_output_and_reattaches(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct netdev *p2 = open_memory_port("p2", 0);
    struct netdev *p2_new = open_memory_port("p2", 0);
    struct dp *dp = create_dp(1, 1, 0, 1);
    struct dp_port_stats ps;
    struct netdev *old;
    struct dp_stats st;
    struct match m;

    (void)state;
    assert_int_equal(dp_port_add(dp, p1, 1), 0);
    assert_int_equal(dp_port_add(dp, p2, 2), 0);
    tcp_match(&m, 1, 80);
    put_flow(dp, &m, "2", NULL);
    for (uint32_t i = 0; i < 10; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, TCP_ACK, i);
    }
    wait_rx(dp, 10, &st);
    wait_tx(p2, 10);
    assert_int_equal(drain_port(p2), 10);

    assert_int_equal(dp_port_detach(dp, 2, &old), 0);
    assert_ptr_equal(old, p2);
    assert_int_equal(dp_port_detach(dp, 2, &old), EALREADY);
    assert_int_equal(dp_port_detach(dp, 9, &old), ENOENT);
    assert_int_equal(dp_port_attach(dp, 9, p2_new), ENOENT);
    for (uint32_t i = 10; i < 15; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, TCP_ACK, i);
    }
    wait_rx(dp, 15, &st);
    assert_int_equal(dp_port_get_stats(dp, 2, &ps), 0);
    assert_true(ps.missing);
    assert_int_equal(ps.tx_missing, 5);
    assert_int_equal(ps.netdev_tx_packets, 10);
    assert_int_equal(ps.netdev_tx_dropped, 5);
    assert_null(netdev_memory_collect(p2));

    assert_int_equal(dp_port_attach(dp, 2, p2_new), 0);
    assert_int_equal(dp_port_attach(dp, 2, p2_new), EBUSY);
    for (uint32_t i = 15; i < 20; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, TCP_ACK, i);
    }
    wait_rx(dp, 20, &st);
    wait_tx(p2_new, 5);
    assert_int_equal(drain_port(p2_new), 5);
    assert_int_equal(dp_port_get_stats(dp, 2, &ps), 0);
    assert_false(ps.missing);
    assert_int_equal(ps.netdev_tx_packets, 15);
    assert_int_equal(ps.netdev_tx_dropped, 5);

    /* The new netdev is polled: a hit from it is received. */
    tcp_match(&m, 2, 80);
    put_flow(dp, &m, "1", NULL);
    inject_tcp(p2_new, 0x0a000003, 1000, 80, TCP_ACK, 99);
    wait_rx(dp, 21, &st);
    assert_int_equal(dp_port_get_stats(dp, 2, &ps), 0);
    assert_int_equal(ps.netdev_rx_packets, 1);

    assert_int_equal(dp_port_del(dp, 1), 0);
    assert_int_equal(dp_port_del(dp, 2), 0);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
    netdev_close(p2_new);
}

/* Light load: a thread that receives packets one at a time sleeps
 * between polls (counted), forwards every one of them, and never sleeps
 * with the ceiling at 0. */
static void
check_light_load(unsigned int max_sleep_us)
{
    struct fwd_env e;
    struct dp_stats st;

    fwd_env_create(&e);
    dp_set_max_sleep(e.dp, max_sleep_us);
    assert_int_equal(dp_get_max_sleep(e.dp), max_sleep_us);
    fwd_env_start(&e);
    for (uint32_t i = 0; i < 50; i++) {
        inject_tcp(e.p1, 0x0a000001, 1000, 80, TCP_ACK, i);
        wait_tx(e.p2, i + 1);
    }
    wait_rx(e.dp, 50, &st);
    assert_int_equal(st.n_hit, 50);
    if (max_sleep_us) {
        assert_true(st.n_light_sleeps > 0);
    } else {
        assert_int_equal(st.n_light_sleeps, 0);
    }
    fwd_env_destroy(&e);
}

static void
test_light_load_sleeps_between_polls(void **state)
{
    (void)state;
    check_light_load(DP_DEFAULT_MAX_SLEEP_US);
}

static void
test_light_load_never_sleeps_with_the_ceiling_at_zero(void **state)
{
    (void)state;
    check_light_load(0);
}

/* The datapath threads' time: traffic is busy time; with none, the
 * thread's polls add idle time only. */
static void
test_threads_count_busy_and_idle_time(void **state)
{
    struct fwd_env e;
    struct dp_stats st, st2;
    uint64_t deadline;

    (void)state;
    fwd_env_init(&e);
    for (uint32_t i = 0; i < 1000; i++) {
        inject_tcp(e.p1, 0x0a000001, 1000, 80, TCP_ACK, i);
    }
    wait_rx(e.dp, 1000, &st);
    wait_tx(e.p2, 1000);
    /* The iteration that forwarded the last batch is counted when the
     * next one starts: wait until idle time moves on. */
    deadline = time_msec() + 10000;
    do {
        assert_true(time_msec() < deadline);
        dp_get_stats(e.dp, &st);
        pause_briefly();
        dp_get_stats(e.dp, &st2);
    } while (st2.idle_ns <= st.idle_ns || st2.busy_ns != st.busy_ns);
    assert_true(st.busy_ns > 0);
    /* No traffic: busy time stands still while idle time moves. */
    deadline = time_msec() + 10000;
    do {
        assert_true(time_msec() < deadline);
        pause_briefly();
        dp_get_stats(e.dp, &st2);
    } while (st2.idle_ns < st.idle_ns + 1000000);
    assert_int_equal(st2.busy_ns, st.busy_ns);

    fwd_env_destroy(&e);
}

static void
test_deleted_flow_in_emc_is_missed_next_time(void **state)
{
    struct fwd_env e;
    struct dp_flow_stats fs;
    struct dp_stats st;

    (void)state;
    fwd_env_init(&e);

    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 0);
    wait_rx(e.dp, 1, &st);
    assert_int_equal(st.n_dpcls_hit, 1);
    assert_int_equal(st.n_emc_hit, 0);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 1);
    wait_rx(e.dp, 2, &st);
    assert_int_equal(st.n_emc_hit, 1);

    /* The flow is in the EMC; delete it: the next packet misses. */
    assert_int_equal(dp_flow_del(e.dp, &e.ufid, &fs), 0);
    assert_int_equal(fs.n_packets, 2);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 2);
    wait_rx(e.dp, 3, &st);
    assert_int_equal(st.n_missed, 1);
    assert_int_equal(st.n_emc_hit, 1);
    assert_int_equal(st.n_hit, 2);

    /* Put it back: found in dpcls (the stale entry is dropped), then the
     * EMC again. */
    put_flow(e.dp, &e.m, "2", &e.ufid);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 3);
    wait_rx(e.dp, 4, &st);
    assert_int_equal(st.n_dpcls_hit, 2);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 4);
    wait_rx(e.dp, 5, &st);
    assert_int_equal(st.n_emc_hit, 2);

    /* EMC off: everything goes to dpcls. */
    dp_set_emc(e.dp, false, 1);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 5);
    wait_rx(e.dp, 6, &st);
    assert_int_equal(st.n_emc_hit, 2);
    assert_int_equal(st.n_dpcls_hit, 3);

    wait_tx(e.p2, 5);
    assert_int_equal(drain_port(e.p2), 5);
    assert_int_equal(drain_upcalls(e.dp), 1);
    fwd_env_destroy(&e);
}

/* A whole batch of packets of a deleted flow whose last reference is its
 * EMC entry: every packet misses, and nothing touches the freed flow
 * (AddressSanitizer would say). */
static void
test_batch_on_a_dead_emc_entry_misses_entirely(void **state)
{
    struct fwd_env e;
    struct dp_stats st;

    (void)state;
    fwd_env_init(&e);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 0);
    wait_rx(e.dp, 1, &st);
    inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 1);
    wait_rx(e.dp, 2, &st);
    assert_int_equal(st.n_emc_hit, 1);

    /* Delete the flow (the EMC keeps the only reference), queue a full
     * batch while the port is detached, then attach it again so that the
     * thread receives the 32 packets at once. */
    assert_int_equal(dp_flow_del(e.dp, &e.ufid, NULL), 0);
    assert_int_equal(dp_port_del(e.dp, 1), 0);
    for (uint32_t i = 0; i < 32; i++) {
        inject_tcp(e.p1, 0x0a000001, 1000, 80, 0, 2 + i);
    }
    assert_int_equal(dp_port_add(e.dp, e.p1, 1), 0);
    wait_rx(e.dp, 34, &st);
    assert_int_equal(st.n_missed, 32);
    assert_int_equal(st.n_hit, 2);
    wait_tx(e.p2, 2);
    drain_port(e.p2);
    assert_int_equal(drain_upcalls(e.dp), 32);
    fwd_env_destroy(&e);
}

static void
test_upcall_queue_overflow_is_counted_as_lost_exactly(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 4096);
    struct dp *dp = create_dp(1, 1, 512, 1);
    struct dp_upcall ups[64];
    struct dp_port_stats ps;
    struct dp_stats st;
    size_t total = 0;

    (void)state;
    /* A full queue, not a port's share (tested below), is the limit. */
    dp_set_upcall_port_share(dp, false);
    dp_port_add(dp, p1, 1);
    for (uint32_t i = 0; i < 1000; i++) {
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 50), 80, 0, i);
    }
    wait_rx(dp, 1000, &st);
    assert_int_equal(st.n_missed, 512);
    assert_int_equal(st.n_lost, 488);
    assert_int_equal(st.n_lost_queue_full, 488);
    assert_int_equal(st.n_hit, 0);
    assert_int_equal(dp_upcall_queue_len(dp, 0), 512);
    assert_int_equal(dp_port_get_stats(dp, 1, &ps), 0);
    assert_int_equal(ps.rx, 1000);
    assert_int_equal(ps.lost, 488);

    /* The handler gets the 512, oldest first, at most 64 at a time. */
    for (;;) {
        size_t n = dp_upcall_recv(dp, 0, ups, ARRAY_SIZE(ups));

        if (!n) {
            break;
        }
        assert_true(n <= 64);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(ups[i].type, DP_UPCALL_MISS);
            assert_int_equal(ups[i].in_port, 1);
            assert_int_equal(ups[i].key.in_port, 1);
            assert_int_equal(ntohs(ups[i].key.tp_dst), 80);
            assert_int_equal(packet_seq(ups[i].packet), total + i);
            netdev_packet_recycle(ups[i].packet);
        }
        total += n;
    }
    assert_int_equal(total, 512);

    /* Room again: the next misses are queued. */
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 1000);
    wait_rx(dp, 1001, &st);
    assert_int_equal(st.n_missed, 513);
    assert_int_equal(drain_upcalls(dp), 1);

    dp_port_del(dp, 1);
    dp_destroy(dp);
    netdev_close(p1);
}

static void
test_no_handlers_loses_every_miss(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct dp *dp = create_dp(1, 0, 0, 1);
    struct dp_stats st;

    (void)state;
    dp_port_add(dp, p1, 1);
    for (uint32_t i = 0; i < 10; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, 0, i);
    }
    wait_rx(dp, 10, &st);
    assert_int_equal(st.n_lost_no_handler, 10);
    assert_int_equal(st.n_lost, 10);
    dp_port_del(dp, 1);
    dp_destroy(dp);
    netdev_close(p1);
}

static void
test_runts_are_parse_drops(void **state)
{
    static const uint8_t runt[10] = {1, 2, 3};
    struct netdev *p1 = open_memory_port("p1", 0);
    struct dp *dp = create_dp(1, 1, 0, 1);
    struct dp_port_stats ps;
    struct dp_stats st;

    (void)state;
    dp_port_add(dp, p1, 1);
    assert_int_equal(netdev_memory_inject(p1, runt, sizeof runt), 0);
    assert_int_equal(netdev_memory_inject(p1, runt, 1), 0);
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 0);
    wait_rx(dp, 3, &st);
    assert_int_equal(st.n_parse_drop, 2);
    assert_int_equal(st.n_missed, 1);
    dp_port_get_stats(dp, 1, &ps);
    assert_int_equal(ps.parse_drop, 2);
    assert_int_equal(drain_upcalls(dp), 1);
    dp_port_del(dp, 1);
    dp_destroy(dp);
    netdev_close(p1);
}

static void
test_port_del_stats_are_the_final_counts(void **state)
{
    static const uint8_t runt[10] = {1, 2, 3};
    struct netdev *p1 = open_memory_port("p1", 0);
    struct dp *dp = create_dp(1, 0, 0, 1);
    struct dp_port_stats ps;
    struct dp_stats st;

    (void)state;
    dp_port_add(dp, p1, 1);
    for (uint32_t i = 0; i < 7; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, 0, i);
    }
    assert_int_equal(netdev_memory_inject(p1, runt, sizeof runt), 0);
    wait_rx(dp, 8, &st);
    assert_int_equal(dp_port_del_stats(dp, 1, &ps), 0);
    assert_int_equal(ps.port_no, 1);
    assert_int_equal(ps.rx, 8);
    assert_int_equal(ps.netdev_rx_packets, 8);
    assert_int_equal(ps.lost, 7); /* No handlers. */
    assert_int_equal(ps.parse_drop, 1);
    assert_int_equal(dp_port_del_stats(dp, 1, &ps), ENOENT);
    dp_destroy(dp);
    netdev_close(p1);
}

/* ---- Lossless ports ----------------------------------------------------- */

struct lossless_handler {
    struct dp *dp;
    size_t want;
    size_t got;
    bool in_order;
    bool saw_full_queue;
};

static void *
lossless_handler_main(void *h_)
{
    struct lossless_handler *h = h_;
    uint64_t deadline = time_msec() + DEADLINE_MS;
    uint32_t next = 0;

    /* Start consuming only once the queue is full and the datapath thread
     * is waiting for room. */
    for (;;) {
        struct dp_stats st;

        dp_get_stats(h->dp, &st);
        if ((st.n_lossless_waits && dp_upcall_queue_len(h->dp, 0) == 512)
            || time_msec() > deadline) {
            break;
        }
        pause_briefly();
    }
    h->saw_full_queue = dp_upcall_queue_len(h->dp, 0) == 512;
    h->in_order = true;
    while (h->got < h->want && time_msec() < deadline) {
        struct dp_upcall ups[64];
        size_t n;

        dp_upcall_wait(h->dp, 0, 100);
        n = dp_upcall_recv(h->dp, 0, ups, ARRAY_SIZE(ups));
        for (size_t i = 0; i < n; i++) {
            h->in_order &= packet_seq(ups[i].packet) == next++;
            netdev_packet_recycle(ups[i].packet);
        }
        h->got += n;
    }
    return NULL;
}

/* Writes 'n' TCP frames of one flow (seq 0..n-1) to a new pcap file whose
 * name it stores in 'path' (a mkstemp() template) and opens it as a
 * lossless replay port. */
static struct netdev *
open_pcap_replay(char *path, uint32_t n)
{
    struct netdev_options opts;
    struct pcap_writer *w;
    struct netdev *port;
    char *error = NULL;
    int fd;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pcap_writer_open(path, &w, &error), 0);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b[64];
        struct dp_packet *pkt;

        unit_frame_tcp_to_host2(b, sizeof b, 0x0a000001, 1000, 80, 0, i);
        pkt = dp_packet_new_from_bytes(b, sizeof b, 0);
        assert_int_equal(pcap_writer_write(w, pkt, 0, &error), 0);
        dp_packet_delete(pkt);
    }
    assert_int_equal(pcap_writer_close(w, &error), 0);

    memset(&opts, 0, sizeof opts);
    opts.rx_path = path;
    if (netdev_open("replay", "pcap", &opts, &port, &error)) {
        fail_msg("%s", error);
    }
    assert_true(netdev_is_lossless(port));
    return port;
}

static void
test_lossless_port_never_loses(void **state)
{
    enum { N = 3000 };
    char path[] = "/tmp/test_datapath_XXXXXX";
    struct netdev *port = open_pcap_replay(path, N);
    struct lossless_handler h;
    pthread_t thread;
    struct dp_port_stats ps;
    struct dp_stats st;
    struct dp *dp;

    (void)state;
    dp = create_dp(1, 1, 512, 1);
    /* Waits at a full queue; waits at a port's share are tested below. */
    dp_set_upcall_port_share(dp, false);
    h.dp = dp;
    h.want = N;
    h.got = 0;
    pthread_create(&thread, NULL, lossless_handler_main, &h);
    dp_port_add(dp, port, 1);
    pthread_join(thread, NULL);

    wait_rx(dp, N, &st);
    assert_true(h.saw_full_queue);
    assert_int_equal(h.got, N);
    assert_true(h.in_order);
    assert_int_equal(st.n_lost, 0);
    assert_int_equal(st.n_missed, N);
    assert_true(st.n_lossless_waits > 0);
    dp_port_get_stats(dp, 1, &ps);
    assert_int_equal(ps.lost, 0);
    assert_true(ps.lossless_waits > 0);

    dp_port_del(dp, 1);
    dp_destroy(dp);
    netdev_close(port);
    unlink(path);
}

/* ---- Conservation with two datapath threads ----------------------------*/

static void
test_conservation_with_two_threads_and_four_ports(void **state)
{
    enum { N_PORTS = 4, PER_PORT = 3000 };
    struct netdev *ports[N_PORTS];
    struct dp *dp = create_dp(2, 2, 64, 10);
    uint64_t hits = 0, misses = 0, runts = 0, total = 0, tx = 0;
    uint64_t hits_by_port[N_PORTS] = {0};
    uint64_t port_rx = 0;
    uint64_t s = 12345;
    struct dp_stats st;

    (void)state;
    for (int p = 0; p < N_PORTS; p++) {
        char name[8];
        struct match m;

        snprintf(name, sizeof name, "p%d", p + 1);
        ports[p] = open_memory_port(name, 8192);
        assert_int_equal(dp_port_add(dp, ports[p], (uint32_t)p + 1), 0);
        tcp_match(&m, (uint32_t)p + 1, 80);
        {
            char acts[8];

            snprintf(acts, sizeof acts, "%d", (p + 1) % N_PORTS + 1);
            put_flow(dp, &m, acts, NULL);
        }
    }

    for (int i = 0; i < PER_PORT; i++) {
        for (int p = 0; p < N_PORTS; p++) {
            uint32_t r;

            s = s * 6364136223846793005ull + 1442695040888963407ull;
            r = (uint32_t)(s >> 33) % 10;
            if (r < 6) {
                inject_tcp(ports[p], 0x0a000000 + (uint32_t)i,
                           (uint16_t)(1024 + i % 100), 80, 0, (uint32_t)i);
                hits++;
                hits_by_port[p]++;
            } else if (r < 9) {
                inject_tcp(ports[p], 0x0a000000 + (uint32_t)i,
                           (uint16_t)(1024 + i % 100), 81, 0, (uint32_t)i);
                misses++;
            } else {
                uint8_t b[12] = {0};

                assert_int_equal(netdev_memory_inject(ports[p], b, sizeof b),
                                 0);
                runts++;
            }
            total++;
        }
    }
    wait_rx(dp, total, &st);
    assert_int_equal(st.n_rx,
                     st.n_hit + st.n_missed + st.n_lost + st.n_parse_drop);
    assert_int_equal(st.n_hit, hits);
    assert_int_equal(st.n_missed + st.n_lost, misses);
    assert_int_equal(st.n_parse_drop, runts);
    assert_true(st.n_missed <= 2 * 64);
    assert_true(st.n_lost > 0);

    for (int p = 0; p < N_PORTS; p++) {
        struct dp_port_stats ps;

        /* Port p + 1 transmits the hits received on port p. */
        wait_tx(ports[(p + 1) % N_PORTS], hits_by_port[p]);
        assert_int_equal(dp_port_get_stats(dp, (uint32_t)p + 1, &ps), 0);
        assert_int_equal(ps.rx, PER_PORT);
        port_rx += ps.rx;
        tx += ps.netdev_tx_packets;
    }
    assert_int_equal(port_rx, st.n_rx);
    assert_int_equal(tx, st.n_hit);
    assert_int_equal(drain_upcalls(dp), st.n_missed);

    for (int p = 0; p < N_PORTS; p++) {
        assert_int_equal(dp_port_del(dp, (uint32_t)p + 1), 0);
        drain_port(ports[p]);
        netdev_close(ports[p]);
    }
    dp_destroy(dp);
}

/* ---- Per-port shares of the upcall queues --------------------------------*/

/* Takes every upcall of queue 'h' and checks that each port's packets come
 * in the order they were sent (their seq counts up from 0 per port);
 * stores how many each of ports 1..3 had in counts[1..3]. */
static void
drain_checking_port_order(struct dp *dp, unsigned int h, size_t counts[4])
{
    struct dp_upcall ups[64];
    size_t n;

    memset(counts, 0, 4 * sizeof *counts);
    while ((n = dp_upcall_recv(dp, h, ups, ARRAY_SIZE(ups))) > 0) {
        for (size_t i = 0; i < n; i++) {
            uint32_t port = ups[i].in_port;

            assert_true(port >= 1 && port <= 3);
            assert_int_equal(packet_seq(ups[i].packet), counts[port]);
            counts[port]++;
            netdev_packet_recycle(ups[i].packet);
        }
    }
}

static void
assert_port_lost(struct dp *dp, uint32_t port_no, uint64_t lost,
                 uint64_t lost_port_share)
{
    struct dp_port_stats ps;

    assert_int_equal(dp_port_get_stats(dp, port_no, &ps), 0);
    assert_int_equal(ps.lost, lost);
    assert_int_equal(ps.lost_port_share, lost_port_share);
}

/* Queue of 512, no handler taking anything: port 1 storms alone and stops
 * at half the queue; port 2's packets all go in (under the floor of 64,
 * then under its share of 512 / 3); port 3, the third port, gets
 * 512 / 4 = 128 and no more. */
static void
test_storming_port_cannot_starve_first_packets_of_other_ports(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 4096);
    struct netdev *p2 = open_memory_port("p2", 1024);
    struct netdev *p3 = open_memory_port("p3", 1024);
    struct dp *dp = create_dp(1, 1, 512, 1);
    uint64_t cov0 = coverage_read("dp_lost_port_share");
    size_t counts[4];
    struct dp_stats st;

    (void)state;
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);
    dp_port_add(dp, p3, 3);

    for (uint32_t i = 0; i < 1000; i++) {
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 50), 80, 0, i);
    }
    wait_rx(dp, 1000, &st);
    assert_int_equal(st.n_missed, 256);
    assert_int_equal(st.n_lost, 744);
    assert_int_equal(st.n_lost_port_share, 744);
    assert_int_equal(st.n_lost_queue_full, 0);
    assert_int_equal(dp_upcall_queue_port_len(dp, 0, 1), 256);
    assert_port_lost(dp, 1, 744, 744);

    for (uint32_t i = 0; i < 100; i++) {
        inject_tcp(p2, 0x0a000002, (uint16_t)(2000 + i), 80, 0, i);
    }
    wait_rx(dp, 1100, &st);
    assert_int_equal(st.n_missed, 356);
    assert_int_equal(st.n_lost, 744);
    assert_int_equal(dp_upcall_queue_port_len(dp, 0, 2), 100);
    assert_port_lost(dp, 2, 0, 0);

    for (uint32_t i = 0; i < 200; i++) {
        inject_tcp(p3, 0x0a000003, (uint16_t)(3000 + i), 80, 0, i);
    }
    /* And the storm goes on: port 1 is over its share. */
    for (uint32_t i = 1000; i < 1010; i++) {
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 50), 80, 0, i);
    }
    wait_rx(dp, 1310, &st);
    assert_int_equal(st.n_missed, 256 + 100 + 128);
    assert_int_equal(st.n_lost_port_share, 744 + 72 + 10);
    assert_int_equal(st.n_lost, st.n_lost_queue_full + st.n_lost_port_share
                                    + st.n_lost_no_handler
                                    + st.n_lost_shutdown);
    assert_int_equal(st.n_lost_queue_full, 0);
    assert_int_equal(st.n_rx,
                     st.n_hit + st.n_missed + st.n_lost + st.n_parse_drop);
    assert_int_equal(dp_upcall_queue_len(dp, 0), 484);
    assert_int_equal(dp_upcall_queue_port_len(dp, 0, 3), 128);
    assert_port_lost(dp, 1, 754, 754);
    assert_port_lost(dp, 3, 72, 72);
    assert_int_equal(coverage_read("dp_lost_port_share") - cov0, 826);

    /* The handler gets each port's first packets, in order. */
    drain_checking_port_order(dp, 0, counts);
    assert_int_equal(counts[1], 256);
    assert_int_equal(counts[2], 100);
    assert_int_equal(counts[3], 128);
    for (uint32_t port = 1; port <= 3; port++) {
        assert_int_equal(dp_upcall_queue_port_len(dp, 0, port), 0);
    }

    /* Drained, the storming port may fill half the queue again. */
    for (uint32_t i = 0; i < 300; i++) {
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 50), 80, 0, i);
    }
    wait_rx(dp, 1610, &st);
    assert_int_equal(st.n_missed, 484 + 256);
    assert_int_equal(st.n_lost_port_share, 826 + 44);
    assert_int_equal(drain_upcalls(dp), 256);

    for (uint32_t port = 1; port <= 3; port++) {
        dp_port_del(dp, port);
    }
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
    netdev_close(p3);
}

/* The same storm with shares off: port 1 fills the queue and port 2's
 * first packets are all lost. */
static void
test_without_port_shares_a_storm_starves_other_ports(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 4096);
    struct netdev *p2 = open_memory_port("p2", 1024);
    struct dp *dp = create_dp(1, 1, 512, 1);
    struct dp_stats st;

    (void)state;
    dp_set_upcall_port_share(dp, false);
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);
    for (uint32_t i = 0; i < 1000; i++) {
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 50), 80, 0, i);
    }
    wait_rx(dp, 1000, &st);
    for (uint32_t i = 0; i < 100; i++) {
        inject_tcp(p2, 0x0a000002, (uint16_t)(2000 + i), 80, 0, i);
    }
    wait_rx(dp, 1100, &st);
    assert_int_equal(st.n_missed, 512);
    assert_int_equal(st.n_lost_queue_full, 488 + 100);
    assert_int_equal(st.n_lost_port_share, 0);
    assert_port_lost(dp, 1, 488, 0);
    assert_port_lost(dp, 2, 100, 0);
    assert_int_equal(drain_upcalls(dp), 512);

    dp_port_del(dp, 1);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
}

/* Nine ports of 64 misses each: every port stays under the floor, so the
 * ninth finds the queue full.  Shares do not make a full queue go away
 * when more ports than Q / 64 want room. */
static void
test_ports_under_the_floor_can_still_fill_the_queue(void **state)
{
    struct netdev *ports[9];
    struct dp *dp = create_dp(1, 1, 512, 1);
    struct dp_stats st;

    (void)state;
    for (uint32_t p = 0; p < 9; p++) {
        char name[8];

        snprintf(name, sizeof name, "p%u", p + 1);
        ports[p] = open_memory_port(name, 256);
        dp_port_add(dp, ports[p], p + 1);
    }
    for (uint32_t p = 0; p < 9; p++) {
        for (uint32_t i = 0; i < 64; i++) {
            inject_tcp(ports[p], 0x0a000000 + p, (uint16_t)(1000 + i), 80, 0,
                       i);
        }
        wait_rx(dp, (uint64_t)64 * (p + 1), &st);
    }
    assert_int_equal(st.n_missed, 512);
    assert_int_equal(st.n_lost_queue_full, 64);
    assert_int_equal(st.n_lost_port_share, 0);
    assert_port_lost(dp, 9, 64, 0);
    assert_int_equal(drain_upcalls(dp), 512);
    for (uint32_t p = 0; p < 9; p++) {
        dp_port_del(dp, p + 1);
        netdev_close(ports[p]);
    }
    dp_destroy(dp);
}

/* Polls until port 'port_no' holds 'n' upcalls in queue 'h'. */
static void
wait_queue_port_len(struct dp *dp, unsigned int h, uint32_t port_no, size_t n)
{
    uint64_t deadline = time_msec() + DEADLINE_MS;

    while (dp_upcall_queue_port_len(dp, h, port_no) != n) {
        if (time_msec() > deadline) {
            fail_msg("timeout: port %u holds %zu upcalls (want %zu)", port_no,
                     dp_upcall_queue_port_len(dp, h, port_no), n);
        }
        pause_briefly();
    }
}

/* A lossless replay storms on one datapath thread while nobody takes
 * upcalls: it waits at its share (half the queue) instead of losing, and
 * a lossy port on the other thread still queues all its first packets.
 * Then a handler drains everything: no deadlock, nothing lost, the replay
 * in order. */
static void
test_lossless_storm_waits_at_its_share_and_leaves_room(void **state)
{
    enum { N = 3000, M = 100 };
    char path[] = "/tmp/test_datapath_XXXXXX";
    struct netdev *replay = open_pcap_replay(path, N);
    struct netdev *p2 = open_memory_port("p2", 1024);
    struct dp *dp = create_dp(2, 1, 512, 1);
    uint64_t deadline = time_msec() + DEADLINE_MS;
    uint32_t next_replay = 0, next_p2 = 0;
    struct dp_port_stats ps;
    struct dp_stats st;

    (void)state;
    dp_port_add(dp, replay, 1);
    dp_port_add(dp, p2, 2);
    assert_int_equal(dp_port_get_stats(dp, 1, &ps), 0);
    {
        struct dp_port_stats ps2;

        assert_int_equal(dp_port_get_stats(dp, 2, &ps2), 0);
        assert_int_not_equal(ps.thread, ps2.thread);
    }
    /* The replay's thread waits once the replay holds its share. */
    wait_queue_port_len(dp, 0, 1, 256);
    do {
        dp_get_stats(dp, &st);
        if (time_msec() > deadline) {
            fail_msg("timeout: the replay never waited for room");
        }
        pause_briefly();
    } while (!st.n_lossless_waits);

    for (uint32_t i = 0; i < M; i++) {
        inject_tcp(p2, 0x0a000002, (uint16_t)(2000 + i), 80, 0, i);
    }
    wait_queue_port_len(dp, 0, 2, M);
    assert_int_equal(dp_upcall_queue_port_len(dp, 0, 1), 256);
    assert_port_lost(dp, 2, 0, 0);

    /* A handler takes everything. */
    while (next_replay < N || next_p2 < M) {
        struct dp_upcall ups[64];
        size_t n;

        if (time_msec() > deadline) {
            fail_msg("timeout: handled %u of %u replayed, %u of %u",
                     next_replay, N, next_p2, M);
        }
        dp_upcall_wait(dp, 0, 100);
        n = dp_upcall_recv(dp, 0, ups, ARRAY_SIZE(ups));
        for (size_t i = 0; i < n; i++) {
            uint32_t *next = ups[i].in_port == 1 ? &next_replay : &next_p2;

            assert_int_equal(packet_seq(ups[i].packet), *next);
            (*next)++;
            netdev_packet_recycle(ups[i].packet);
        }
    }
    wait_rx(dp, N + M, &st);
    assert_int_equal(st.n_missed, N + M);
    assert_int_equal(st.n_lost, 0);
    assert_true(st.n_lossless_waits > 0);
    assert_port_lost(dp, 1, 0, 0);
    assert_int_equal(dp_upcall_queue_len(dp, 0), 0);

    dp_port_del(dp, 1);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(replay);
    netdev_close(p2);
    unlink(path);
}

struct share_handler {
    struct dp *dp;
    unsigned int id;
    bool *stop;      /* Atomic. */
    uint64_t *taken; /* Atomic, shared by the handlers. */
};

static void *
share_handler_main(void *h_)
{
    struct share_handler *h = h_;

    while (!atomic_load_acquire(h->stop)) {
        struct dp_upcall ups[64];
        size_t n;

        dp_upcall_wait(h->dp, h->id, 10);
        n = dp_upcall_recv(h->dp, h->id, ups, ARRAY_SIZE(ups));
        for (size_t i = 0; i < n; i++) {
            netdev_packet_recycle(ups[i].packet);
        }
        atomic_fetch_add_relaxed(h->taken, n);
    }
    return NULL;
}

/* Sends 'n1' misses of 500 flows on port 1 with, after every 'every'-th,
 * one new flow on port 2 (numbered from '*p2_seq' on). */
static uint64_t
inject_storm_and_trickle(struct netdev *p1, struct netdev *p2, uint32_t n1,
                         uint32_t every, uint32_t *p2_seq)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < n1; i++) {
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 500), 80, 0, i);
        n++;
        if (i % every == every - 1) {
            inject_tcp(p2, 0x0a000002, (uint16_t)(2000 + *p2_seq), 80, 0,
                       *p2_seq);
            (*p2_seq)++;
            n++;
        }
    }
    return n;
}

/* Two datapath threads push into two queues at once (ports 1 and 2 on
 * different threads, flows hashed over both queues), first with nobody
 * taking upcalls, then with two handler threads taking them meanwhile.
 * Port 2 never holds more than the floor, so it never loses; port 1
 * never holds more than half of a queue; everything adds up, and every
 * per-port count is back to zero once the queues are empty. */
static void
test_shares_hold_with_two_threads_and_two_queues(void **state)
{
    enum { N1 = 3000, EVERY = 60 };
    struct netdev *p1 = open_memory_port("p1", 8192);
    struct netdev *p2 = open_memory_port("p2", 1024);
    struct dp *dp = create_dp(2, 2, 512, 1);
    struct share_handler handlers[2];
    pthread_t threads[2];
    uint64_t taken = 0, sent = 0;
    uint64_t deadline;
    uint32_t p2_seq = 0;
    bool stop = false;
    struct dp_port_stats ps1, ps2;
    struct dp_stats st;

    (void)state;
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);

    /* 1. Nobody takes upcalls. */
    sent += inject_storm_and_trickle(p1, p2, N1, EVERY, &p2_seq);
    wait_rx(dp, sent, &st);
    assert_int_equal(st.n_lost_queue_full, 0);
    assert_int_equal(st.n_lost, st.n_lost_port_share);
    assert_true(st.n_lost_port_share > 0);
    assert_port_lost(dp, 2, 0, 0);
    assert_int_equal(dp_port_get_stats(dp, 1, &ps1), 0);
    assert_int_equal(ps1.lost, st.n_lost);
    assert_int_equal(ps1.lost_port_share, st.n_lost);
    assert_int_equal(dp_upcall_queue_port_len(dp, 0, 2)
                         + dp_upcall_queue_port_len(dp, 1, 2),
                     p2_seq);
    for (unsigned int h = 0; h < 2; h++) {
        assert_true(dp_upcall_queue_port_len(dp, h, 1) <= 256);
        assert_true(dp_upcall_queue_port_len(dp, h, 1) > 0);
    }
    assert_int_equal(dp_upcall_queue_len(dp, 0) + dp_upcall_queue_len(dp, 1),
                     st.n_missed);

    /* 2. Two handlers take upcalls while both threads push. */
    for (unsigned int h = 0; h < 2; h++) {
        handlers[h] = (struct share_handler){dp, h, &stop, &taken};
        pthread_create(&threads[h], NULL, share_handler_main, &handlers[h]);
    }
    for (int round = 0; round < 2; round++) {
        sent += inject_storm_and_trickle(p1, p2, N1, EVERY, &p2_seq);
    }
    wait_rx(dp, sent, &st);
    deadline = time_msec() + DEADLINE_MS;
    while (atomic_load_relaxed(&taken) < st.n_missed) {
        if (time_msec() > deadline) {
            fail_msg("timeout: handlers took %llu of %llu upcalls",
                     (unsigned long long)taken,
                     (unsigned long long)st.n_missed);
        }
        pause_briefly();
    }
    atomic_store_release(&stop, true);
    for (unsigned int h = 0; h < 2; h++) {
        dp_upcall_wake(dp, h);
        pthread_join(threads[h], NULL);
    }

    dp_get_stats(dp, &st);
    assert_int_equal(taken, st.n_missed);
    assert_int_equal(st.n_rx, sent);
    assert_int_equal(st.n_rx,
                     st.n_hit + st.n_missed + st.n_lost + st.n_parse_drop);
    assert_int_equal(st.n_lost_queue_full, 0);
    assert_int_equal(st.n_lost, st.n_lost_port_share);
    assert_int_equal(dp_port_get_stats(dp, 1, &ps1), 0);
    assert_int_equal(dp_port_get_stats(dp, 2, &ps2), 0);
    assert_int_equal(ps2.rx, p2_seq);
    assert_int_equal(ps2.lost, 0);
    assert_int_equal(ps1.lost, st.n_lost);
    assert_int_equal(ps1.rx + ps2.rx, sent);
    for (unsigned int h = 0; h < 2; h++) {
        assert_int_equal(dp_upcall_queue_len(dp, h), 0);
        assert_int_equal(dp_upcall_queue_port_len(dp, h, 1), 0);
        assert_int_equal(dp_upcall_queue_port_len(dp, h, 2), 0);
    }

    dp_port_del(dp, 1);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
}

/* ---- Flow dumps --------------------------------------------------------- */

#define DUMP_STABLE 3000

struct dump_ctx {
    struct dp *dp;
    struct dp_flow_dump *dump;
    pthread_barrier_t *barrier;
    struct dp_ufid *seen;
    size_t n_seen;
    bool *stop;        /* Atomic: churn thread. */
    size_t *churn_ops; /* Atomic: churn thread's progress. */
    size_t n_batches;
};

static void *
dump_thread(void *ctx_)
{
    struct dump_ctx *ctx = ctx_;
    struct dp_flow_info infos[50];
    size_t n;

    pthread_barrier_wait(ctx->barrier);
    /* Dump while flows come and go. */
    while (atomic_load_relaxed(ctx->churn_ops) < 300) {
        sched_yield();
    }
    while ((n = dp_flow_dump_next(ctx->dump, infos,
                                  1 + ctx->n_batches++ % ARRAY_SIZE(infos)))
           > 0) {
        for (size_t i = 0; i < n; i++) {
            struct dp_ufid *grown =
                realloc(ctx->seen, (ctx->n_seen + 1) * sizeof *ctx->seen);

            if (!grown) {
                abort(); /* Not a cmocka assert: this is not the test's
                          * thread. */
            }
            ctx->seen = grown;
            ctx->seen[ctx->n_seen++] = infos[i].ufid;
            dp_flow_info_uninit(&infos[i]);
        }
    }
    return NULL;
}

static void *
churn_thread(void *ctx_)
{
    struct dump_ctx *ctx = ctx_;
    struct dp_actions *a = actions("1");
    uint32_t next = 0;

    pthread_barrier_wait(ctx->barrier);
    while (!atomic_load_relaxed(ctx->stop)) {
        struct match m;

        tcp_match(&m, 2, (uint16_t)(next % 60000));
        m.flow.nw_src = htonl(next / 60000);
        m.wc.masks.nw_src = UINT32_MAX;
        dp_flow_put(ctx->dp, &m, a, DP_FLOW_PUT_CREATE, NULL, NULL);
        if (next >= 100) {
            struct dp_ufid ufid;

            tcp_match(&m, 2, (uint16_t)((next - 100) % 60000));
            m.flow.nw_src = htonl((next - 100) / 60000);
            m.wc.masks.nw_src = UINT32_MAX;
            dp_flow_ufid(&m, &ufid);
            dp_flow_del(ctx->dp, &ufid, NULL);
        }
        next++;
        atomic_fetch_add_relaxed(ctx->churn_ops, 1);
    }
    dp_actions_unref(a);
    return NULL;
}

static int
ufid_cmp(const void *a_, const void *b_)
{
    const struct dp_ufid *a = a_, *b = b_;

    if (a->hi != b->hi) {
        return a->hi < b->hi ? -1 : 1;
    }
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static void
test_multithreaded_dump_returns_each_flow_once(void **state)
{
    enum { N_DUMPERS = 3 };
    struct dp *dp = create_dp(0, 1, 0, 1);
    struct dp_ufid *stable = calloc(DUMP_STABLE, sizeof *stable);
    struct dp_actions *a = actions("1");

    (void)state;
    for (uint32_t i = 0; i < DUMP_STABLE; i++) {
        struct match m;

        tcp_match(&m, 1, (uint16_t)i);
        assert_int_equal(
            dp_flow_put(dp, &m, a, DP_FLOW_PUT_CREATE, &stable[i], NULL), 0);
    }
    qsort(stable, DUMP_STABLE, sizeof *stable, ufid_cmp);

    for (int round = 0; round < 4; round++) {
        struct dump_ctx ctxs[N_DUMPERS + 1];
        pthread_t threads[N_DUMPERS + 1];
        pthread_barrier_t barrier;
        struct dp_flow_dump *dump = dp_flow_dump_create(dp);
        struct dp_ufid *all = NULL;
        size_t n_all = 0, found = 0, churn_ops = 0, ops_at_end;
        bool stop = false;

        pthread_barrier_init(&barrier, NULL, N_DUMPERS + 1);
        for (int t = 0; t <= N_DUMPERS; t++) {
            memset(&ctxs[t], 0, sizeof ctxs[t]);
            ctxs[t].dp = dp;
            ctxs[t].dump = dump;
            ctxs[t].barrier = &barrier;
            ctxs[t].stop = &stop;
            ctxs[t].churn_ops = &churn_ops;
            pthread_create(&threads[t], NULL,
                           t < N_DUMPERS ? dump_thread : churn_thread,
                           &ctxs[t]);
        }
        for (int t = 0; t < N_DUMPERS; t++) {
            pthread_join(threads[t], NULL);
        }
        ops_at_end = atomic_load_relaxed(&churn_ops);
        atomic_store_relaxed(&stop, true);
        pthread_join(threads[N_DUMPERS], NULL);
        dp_flow_dump_destroy(dump);
        pthread_barrier_destroy(&barrier);

        for (int t = 0; t < N_DUMPERS; t++) {
            struct dp_ufid *grown =
                realloc(all, (n_all + ctxs[t].n_seen + 1) * sizeof *all);

            assert_non_null(grown);
            all = grown;
            memcpy(all + n_all, ctxs[t].seen, ctxs[t].n_seen * sizeof *all);
            n_all += ctxs[t].n_seen;
            free(ctxs[t].seen);
        }
        qsort(all, n_all, sizeof *all, ufid_cmp);
        for (size_t i = 1; i < n_all; i++) {
            assert_false(dp_ufid_equal(&all[i - 1], &all[i]));
        }
        for (size_t i = 0, j = 0; i < DUMP_STABLE; i++) {
            while (j < n_all && ufid_cmp(&all[j], &stable[i]) < 0) {
                j++;
            }
            if (j < n_all && dp_ufid_equal(&all[j], &stable[i])) {
                found++;
            }
        }
        assert_int_equal(found, DUMP_STABLE);
        /* Flows were added and deleted while the dump ran. */
        assert_true(ops_at_end >= 300);
        free(all);
    }
    dp_flow_flush(dp);
    dp_actions_unref(a);
    free(stable);
    dp_destroy(dp);
}

/* ---- Draining flows ----------------------------------------------------*/

/* Polls until the datapath has queued 'n' DRAIN upcalls (a hit is counted
 * before its DRAIN upcall is queued). */
static void
wait_drain_upcalls(struct dp *dp, uint64_t n)
{
    uint64_t deadline = time_msec() + DEADLINE_MS;
    struct dp_stats st;

    for (;;) {
        dp_get_stats(dp, &st);
        if (st.n_drain_upcall + st.n_drain_upcall_lost >= n) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: %llu DRAIN upcalls, want %llu",
                     (unsigned long long)st.n_drain_upcall,
                     (unsigned long long)n);
        }
        pause_briefly();
    }
}

/* Polls until no flow drains any more. */
static void
wait_drained(struct dp *dp)
{
    uint64_t deadline = time_msec() + DEADLINE_MS;
    struct dp_stats st;

    for (;;) {
        dp_get_stats(dp, &st);
        if (!st.n_draining) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: %llu flows still draining",
                     (unsigned long long)st.n_draining);
        }
        pause_briefly();
    }
}

static bool
flow_is_draining(struct dp *dp, const struct dp_ufid *ufid)
{
    struct dp_flow_info info;
    bool draining;

    assert_int_equal(dp_flow_get(dp, ufid, &info), 0);
    draining = info.draining;
    dp_flow_info_uninit(&info);
    return draining;
}

/* The race the draining state closes, driven step by step with the test
 * as the handler: packet 0 is in the handler's hands, packet 1 missed
 * and waits in the queue when the flow is installed; packet 2 hits the
 * new flow.  It must not leave before packet 1. */
static void
test_draining_flow_keeps_arrival_order_across_install(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct netdev *p2 = open_memory_port("p2", 0);
    struct dp *dp = create_dp(1, 1, 0, 1);
    struct dp_actions *out2 = actions("2");
    struct dp_upcall ups[4];
    struct dp_ufid ufid;
    struct dp_stats st;
    struct match m;
    size_t n;

    (void)state;
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);
    tcp_match(&m, 1, 80);

    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 0);
    wait_rx(dp, 1, &st);
    assert_int_equal(dp_upcall_recv(dp, 0, ups, 1), 1); /* Packet 0. */
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 1);
    wait_rx(dp, 2, &st);
    assert_int_equal(st.n_missed, 2);

    /* The handler installs the flow, then executes packet 0. */
    assert_int_equal(dp_flow_put(dp, &m, out2,
                                 DP_FLOW_PUT_CREATE | DP_FLOW_PUT_DRAIN, &ufid,
                                 NULL),
                     0);
    assert_int_equal(dp_execute(dp, ups[0].packet, out2, true), 0);
    dp_upcall_batch_done(dp, 0);
    assert_true(flow_is_draining(dp, &ufid));

    /* Packet 2 hits the flow: counted, and queued behind packet 1. */
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 2);
    wait_drain_upcalls(dp, 1);
    wait_rx(dp, 3, &st);
    assert_int_equal(st.n_hit, 1);
    assert_int_equal(st.n_drain_upcall, 1);
    assert_int_equal(st.n_draining, 1);
    wait_tx(p2, 1);
    {
        struct netdev_stats ns;

        netdev_get_stats(p2, &ns);
        assert_int_equal(ns.tx_packets, 1); /* Packet 2 did not jump. */
    }
    assert_true(flow_is_draining(dp, &ufid));

    /* The handler's next batch: packet 1 (the miss), then packet 2 with
     * the flow's actions. */
    n = dp_upcall_recv(dp, 0, ups, ARRAY_SIZE(ups));
    assert_int_equal(n, 2);
    assert_int_equal(ups[0].type, DP_UPCALL_MISS);
    assert_int_equal(packet_seq(ups[0].packet), 1);
    assert_int_equal(ups[1].type, DP_UPCALL_DRAIN);
    assert_int_equal(packet_seq(ups[1].packet), 2);
    assert_true(dp_ufid_equal(&ups[1].ufid, &ufid));
    assert_true(dp_actions_equal(ups[1].actions, out2));
    assert_int_equal(dp_execute(dp, ups[0].packet, out2, true), 0);
    assert_int_equal(dp_execute(dp, ups[1].packet, ups[1].actions, true), 0);
    dp_actions_unref(ups[1].actions);
    /* Not before the batch is done: packet 2 could still be in it. */
    assert_true(flow_is_draining(dp, &ufid));
    dp_upcall_batch_done(dp, 0);
    wait_drained(dp);
    assert_false(flow_is_draining(dp, &ufid));

    /* Flipped: the datapath forwards packet 3 itself. */
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 3);
    wait_tx(p2, 4);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_drain_upcall, 1);
    assert_int_equal(st.n_drain_flips, 1);
    assert_int_equal(st.n_hit, 2);
    for (uint32_t i = 0; i < 4; i++) {
        struct dp_packet *pkt = netdev_memory_collect(p2);

        assert_non_null(pkt);
        assert_int_equal(packet_seq(pkt), i);
        dp_packet_delete(pkt);
    }
    {
        struct dp_flow_info info;

        /* The flow counted the drained hit and the direct one. */
        assert_int_equal(dp_flow_get(dp, &ufid, &info), 0);
        assert_int_equal(info.stats.n_packets, 2);
        dp_flow_info_uninit(&info);
    }

    dp_actions_unref(out2);
    dp_port_del(dp, 1);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
}

/* A DRAIN upcall that finds its queue full is lost and counted, and the
 * flow still flips; one moved by a handler-count change keeps its place;
 * a flow deleted while draining goes away cleanly. */
static void
test_draining_flow_loses_counted_and_survives_changes(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct netdev *p2 = open_memory_port("p2", 0);
    struct dp *dp = create_dp(1, 1, 64, 1);
    struct dp_actions *out2 = actions("2");
    struct dp_upcall ups[64];
    struct dp_ufid ufid, ufid81;
    struct dp_stats st;
    struct match m;
    size_t total = 0, n;

    (void)state;
    dp_set_upcall_port_share(dp, false);
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);

    /* 64 misses fill the queue; the flow is installed draining behind
     * them; 10 hits find no room. */
    for (uint32_t i = 0; i < 64; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, 0, i);
    }
    wait_rx(dp, 64, &st);
    tcp_match(&m, 1, 80);
    assert_int_equal(dp_flow_put(dp, &m, out2,
                                 DP_FLOW_PUT_CREATE | DP_FLOW_PUT_DRAIN, &ufid,
                                 NULL),
                     0);
    for (uint32_t i = 64; i < 74; i++) {
        inject_tcp(p1, 0x0a000001, 1000, 80, 0, i);
    }
    wait_drain_upcalls(dp, 10);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_drain_upcall_lost, 10);
    assert_int_equal(st.n_drain_upcall, 0);
    assert_int_equal(st.n_hit, 10);

    /* One more hit once there is room, then the queues change under it:
     * the two upcalls move, in order, to the new queue. */
    n = dp_upcall_recv(dp, 0, ups, 63);
    assert_int_equal(n, 63);
    for (size_t i = 0; i < n; i++) {
        dp_upcall_discard(&ups[i]);
    }
    dp_upcall_batch_done(dp, 0);
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 74);
    wait_drain_upcalls(dp, 11);
    assert_true(flow_is_draining(dp, &ufid));
    assert_int_equal(dp_set_n_handlers(dp, 2), 0);
    while (total < 2) {
        for (unsigned int h = 0; h < 2; h++) {
            n = dp_upcall_recv(dp, h, ups, ARRAY_SIZE(ups));
            for (size_t i = 0; i < n; i++) {
                bool first = total + i == 0;

                /* One flow, so one queue: the miss, then the hit. */
                assert_int_equal(packet_seq(ups[i].packet), first ? 63 : 74);
                assert_int_equal(ups[i].type,
                                 first ? DP_UPCALL_MISS : DP_UPCALL_DRAIN);
                dp_upcall_discard(&ups[i]);
            }
            total += n;
            dp_upcall_batch_done(dp, h);
        }
    }
    wait_drained(dp);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_drain_upcall, 1);
    assert_int_equal(st.n_drain_flips, 1);

    /* A second flow deleted while it drains: the cohort lets it go. */
    tcp_match(&m, 1, 81);
    assert_int_equal(dp_flow_put(dp, &m, out2,
                                 DP_FLOW_PUT_CREATE | DP_FLOW_PUT_DRAIN,
                                 &ufid81, NULL),
                     0);
    assert_int_equal(dp_flow_del(dp, &ufid81, NULL), 0);
    wait_drained(dp);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_drain_flips, 2);
    assert_int_equal(st.n_flows, 1);

    dp_actions_unref(out2);
    dp_port_del(dp, 1);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
}

/* ---- Execute and userspace actions -------------------------------------*/

static void
test_execute_outputs_and_queues_action_upcalls(void **state)
{
    struct netdev *p2 = open_memory_port("p2", 0);
    struct dp *dp = create_dp(0, 2, 0, 1);
    struct dp_actions *a = actions("2,userspace(cookie=0x1122334455667788)");
    struct dp_packet *pkt, *out;
    struct dp_upcall up;
    struct dp_stats st;
    uint8_t b[64];
    size_t n = 0;

    (void)state;
    dp_port_add(dp, p2, 2);
    unit_frame_tcp_to_host2(b, sizeof b, 0x0a000001, 1000, 80, 0, 7);
    pkt = dp_packet_new_from_bytes(b, sizeof b, 0);
    pkt->in_port = 1;
    assert_int_equal(dp_execute(dp, pkt, a, false), 0);
    /* The caller kept its packet, unchanged. */
    assert_memory_equal(dp_packet_data(pkt), b, sizeof b);
    dp_packet_delete(pkt);

    out = netdev_memory_collect(p2);
    assert_non_null(out);
    assert_int_equal(packet_seq(out), 7);
    dp_packet_delete(out);

    for (unsigned int h = 0; h < 2; h++) {
        if (dp_upcall_recv(dp, h, &up, 1)) {
            n++;
            assert_int_equal(up.type, DP_UPCALL_ACTION);
            assert_int_equal(up.in_port, 1);
            assert_int_equal(up.userdata.len, 8);
            assert_memory_equal(up.userdata.data,
                                "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
            assert_int_equal(packet_seq(up.packet), 7);
            netdev_packet_recycle(up.packet);
        }
    }
    assert_int_equal(n, 1);

    /* Output to a port the datapath does not have is counted. */
    dp_actions_unref(a);
    a = actions("9");
    pkt = dp_packet_new_from_bytes(b, sizeof b, 0);
    dp_execute(dp, pkt, a, true);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_tx_no_port, 1);
    assert_int_equal(st.n_executed, 2);
    assert_int_equal(st.n_action_upcall, 1);

    dp_actions_unref(a);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(p2);
}

static void
test_userspace_action_in_a_flow_sends_action_upcall(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct netdev *p2 = open_memory_port("p2", 0);
    struct dp *dp = create_dp(1, 1, 0, 1);
    struct dp_upcall up;
    struct dp_ufid ufid;
    struct dp_stats st;
    struct match m;
    uint64_t deadline = time_msec() + DEADLINE_MS;

    (void)state;
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);
    tcp_match(&m, 1, 80);
    put_flow(dp, &m, "userspace(userdata(abcd)),set(tcp(dst=8080)),2", &ufid);
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 3);
    wait_rx(dp, 1, &st);
    while (!dp_upcall_recv(dp, 0, &up, 1)) {
        assert_true(time_msec() < deadline);
        dp_upcall_wait(dp, 0, 100);
    }
    assert_int_equal(up.type, DP_UPCALL_ACTION);
    assert_true(dp_ufid_equal(&up.ufid, &ufid));
    assert_int_equal(up.userdata.len, 2);
    /* The upcall has the packet as it was when the action ran. */
    assert_int_equal(ntohs(up.key.tp_dst), 80);
    netdev_packet_recycle(up.packet);

    wait_tx(p2, 1);
    {
        struct dp_packet *out = netdev_memory_collect(p2);
        struct flow f;

        assert_non_null(out);
        packet_parse(out, &f);
        assert_int_equal(ntohs(f.tp_dst), 8080);
        dp_packet_delete(out);
    }
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_action_upcall, 1);
    assert_int_equal(st.n_hit, 1);
    dp_port_del(dp, 1);
    dp_port_del(dp, 2);
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p2);
}

/* ---- Reconfiguration under traffic -------------------------------------*/

struct injector {
    struct netdev *port;
    bool stop; /* Atomic. */
    uint64_t injected;
};

static void *
injector_main(void *inj_)
{
    struct injector *inj = inj_;
    uint32_t i = 0;

    while (!atomic_load_relaxed(&inj->stop)) {
        uint8_t b[64];

        unit_frame_tcp_to_host2(b, sizeof b, 0x0a000001, 1000,
                                (uint16_t)(80 + i % 2), 0, i);
        if (!netdev_memory_inject(inj->port, b, sizeof b)) {
            inj->injected++;
        }
        i++;
    }
    return NULL;
}

/* An idle-work function that claims every time that someone else is at
 * the upcalls (returns false), and on calls IDLE_PROBE_FIRST to
 * IDLE_PROBE_LAST waits while the test changes the ports, the datapath
 * thread being offline inside it.  The thread sleeps after
 * DP_PMD_SPIN_ITERS (512) idle iterations, one call each: the range
 * covers the call of the iteration that ends in a sleep. */
#define IDLE_PROBE_FIRST 490
#define IDLE_PROBE_LAST 530

struct idle_probe {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    unsigned int inside; /* Call number waiting, 0 if none. */
    unsigned int done;   /* Last call the test let go. */
    unsigned int calls;  /* Atomic. */
};

static bool
idle_probe_fn(void *probe_, unsigned int thread)
{
    struct idle_probe *probe = probe_;
    unsigned int call = atomic_add_fetch_relaxed(&probe->calls, 1);

    (void)thread;
    if (call < IDLE_PROBE_FIRST || call > IDLE_PROBE_LAST) {
        return false;
    }
    pthread_mutex_lock(&probe->mutex);
    probe->inside = call;
    pthread_cond_broadcast(&probe->cond);
    while (probe->done < call) {
        pthread_cond_wait(&probe->cond, &probe->mutex);
    }
    probe->inside = 0;
    pthread_mutex_unlock(&probe->mutex);
    return false;
}

/* A datapath thread runs idle work offline: a port deleted meanwhile frees
 * the poll list it loaded at the start of the iteration, so it must not
 * look at that list again (it did, to size the fds of its next sleep:
 * ASan reports that use; a plain build once allocated petabytes). */
static void
test_idle_work_leaves_a_freed_poll_list_alone(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct netdev *p3 = open_memory_port("p3", 0);
    struct dp *dp = create_dp(1, 1, 0, 1);
    struct idle_probe probe = {.inside = 0, .done = 0, .calls = 0};
    uint64_t deadline = time_msec() + DEADLINE_MS;
    struct dp_stats st;

    (void)state;
    pthread_mutex_init(&probe.mutex, NULL);
    pthread_cond_init(&probe.cond, NULL);
    assert_int_equal(dp_port_add(dp, p1, 1), 0);
    assert_int_equal(dp_port_add(dp, p3, 3), 0);
    dp_set_idle_work(dp, idle_probe_fn, &probe);

    /* A miss nobody takes: the thread's idle work calls the probe. */
    inject_tcp(p1, 0x0a000001, 1000, 80, TCP_SYN, 0);
    for (unsigned int call = IDLE_PROBE_FIRST; call <= IDLE_PROBE_LAST;
         call++) {
        pthread_mutex_lock(&probe.mutex);
        while (probe.inside != call) {
            pthread_mutex_unlock(&probe.mutex);
            assert_true(time_msec() < deadline);
            pause_briefly();
            pthread_mutex_lock(&probe.mutex);
        }
        pthread_mutex_unlock(&probe.mutex);
        /* The thread is offline inside the probe: its list goes. */
        if (call % 2) {
            assert_int_equal(dp_port_add(dp, p3, 3), 0);
        } else {
            assert_int_equal(dp_port_del(dp, 3), 0);
        }
        pthread_mutex_lock(&probe.mutex);
        probe.done = call;
        pthread_cond_broadcast(&probe.cond);
        pthread_mutex_unlock(&probe.mutex);
    }

    /* It keeps calling the probe (the miss is still queued), then sleeps
     * once the queue is empty. */
    while (atomic_load_relaxed(&probe.calls) < 1000) {
        assert_true(time_msec() < deadline);
        pause_briefly();
    }
    assert_int_equal(drain_upcalls(dp), 1);
    dp_get_stats(dp, &st);
    assert_int_equal(st.n_missed, 1);
    dp_set_idle_work(dp, NULL, NULL);
    assert_int_equal(dp_port_del(dp, 1), 0);
    assert_int_equal(dp_port_del(dp, 3), ENOENT); /* Last call: gone. */
    dp_destroy(dp);
    netdev_close(p1);
    netdev_close(p3);
    pthread_cond_destroy(&probe.cond);
    pthread_mutex_destroy(&probe.mutex);
}

static void
test_ports_removed_under_traffic(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 1024);
    struct netdev *p2 = open_memory_port("p2", 1024);
    struct netdev *p3 = open_memory_port("p3", 1024);
    struct dp *dp = create_dp(2, 1, 0, 10);
    struct injector inj = {.port = p1};
    uint64_t deadline = time_msec() + DEADLINE_MS;
    pthread_t thread;
    struct dp_stats st;
    struct match m;

    (void)state;
    dp_port_add(dp, p1, 1);
    dp_port_add(dp, p2, 2);
    dp_port_add(dp, p3, 3);
    tcp_match(&m, 1, 80);
    put_flow(dp, &m, "2,3", NULL);
    pthread_create(&thread, NULL, injector_main, &inj);

    /* Let traffic flow, then pull the output ports out from under it. */
    do {
        dp_get_stats(dp, &st);
        pause_briefly();
    } while (st.n_hit < 1000 && time_msec() < deadline);
    assert_int_equal(dp_port_del(dp, 2), 0);
    netdev_close(p2);
    do {
        dp_get_stats(dp, &st);
        pause_briefly();
    } while (st.n_tx_no_port < 100 && time_msec() < deadline);
    assert_true(st.n_tx_no_port >= 100);
    assert_int_equal(dp_port_del(dp, 1), 0);
    assert_int_equal(dp_port_del(dp, 3), 0);
    netdev_close(p3);
    atomic_store_relaxed(&inj.stop, true);
    pthread_join(thread, NULL);

    dp_get_stats(dp, &st);
    assert_int_equal(st.n_rx,
                     st.n_hit + st.n_missed + st.n_lost + st.n_parse_drop);
    assert_true(st.n_rx <= inj.injected);
    drain_upcalls(dp);
    dp_destroy(dp);
    netdev_close(p1);
}

static void
test_changing_handler_count_keeps_queued_upcalls_in_order(void **state)
{
    struct netdev *p1 = open_memory_port("p1", 0);
    struct dp *dp = create_dp(1, 1, 512, 1);
    uint32_t next[10] = {0};
    struct dp_stats st;
    size_t total = 0;

    (void)state;
    dp_port_add(dp, p1, 1);
    for (uint32_t i = 0; i < 200; i++) {
        /* Flow i % 10; seq counts per flow. */
        inject_tcp(p1, 0x0a000001, (uint16_t)(1000 + i % 10), 80, 0, i / 10);
    }
    wait_rx(dp, 200, &st);
    assert_int_equal(st.n_missed, 200);
    assert_int_equal(dp_set_n_handlers(dp, 4), 0);
    assert_int_equal(dp_n_handlers(dp), 4);

    for (unsigned int h = 0; h < 4; h++) {
        struct dp_upcall ups[64];
        size_t n;

        while ((n = dp_upcall_recv(dp, h, ups, ARRAY_SIZE(ups))) > 0) {
            for (size_t i = 0; i < n; i++) {
                unsigned int flow = ntohs(ups[i].key.tp_src) - 1000;

                assert_true(flow < 10);
                assert_int_equal(flow_hash_5tuple(&ups[i].key, 0) % 4, h);
                assert_int_equal(packet_seq(ups[i].packet), next[flow]);
                next[flow]++;
                netdev_packet_recycle(ups[i].packet);
            }
            total += n;
        }
    }
    assert_int_equal(total, 200);

    /* Traffic still flows after the change. */
    inject_tcp(p1, 0x0a000001, 1000, 80, 0, 0);
    wait_rx(dp, 201, &st);
    assert_int_equal(drain_upcalls(dp), 1);
    dp_port_del(dp, 1);
    dp_destroy(dp);
    netdev_close(p1);
}

/* ---- Text --------------------------------------------------------------- */

static void
test_flow_format_is_dpctl_style(void **state)
{
    struct dp_flow_info info;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct match *m = &info.match;

    (void)state;
    memset(&info, 0, sizeof info);
    match_init_catchall(m);
    m->flow.in_port = 1;
    m->wc.masks.in_port = UINT32_MAX;
    m->flow.dl_src = (struct eth_addr){{0, 0, 0, 0, 0, 1}};
    m->flow.dl_dst = (struct eth_addr){{0, 0, 0, 0, 0, 2}};
    m->wc.masks.dl_src = ETH_ADDR_BROADCAST;
    m->wc.masks.dl_dst = ETH_ADDR_BROADCAST;
    m->flow.dl_type = htons(ETH_TYPE_IP);
    m->wc.masks.dl_type = UINT16_MAX;
    m->flow.nw_src = htonl(0x0a000001);
    m->wc.masks.nw_src = UINT32_MAX;
    m->flow.nw_dst = htonl(0x0a000000);
    m->wc.masks.nw_dst = htonl(0xffffff00);
    m->flow.nw_proto = IPPROTO_TCP_;
    m->wc.masks.nw_proto = UINT8_MAX;
    m->wc.masks.nw_frag = FLOW_NW_FRAG_MASK;
    m->flow.tp_src = htons(1234);
    m->wc.masks.tp_src = UINT16_MAX;
    m->flow.tp_dst = htons(80);
    m->wc.masks.tp_dst = UINT16_MAX;
    info.stats.n_packets = 3;
    info.stats.n_bytes = 180;
    info.stats.tcp_flags = TCP_SYN;
    info.actions = actions("2");

    dp_flow_format(&info, false, &s);
    assert_string_equal(
        ds_cstr(&s),
        "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),"
        "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.255.255.0,"
        "proto=6,frag=no),tcp(src=1234,dst=80), packets:3, bytes:180, "
        "used:never, flags:S, actions:2");

    ds_clear(&s);
    info.ufid.hi = UINT64_C(0x0123456789abcdef);
    info.ufid.lo = UINT64_C(0xfedcba9876543210);
    info.stats.used = time_msec();
    info.stats.tcp_flags = 0;
    m->wc.masks.tp_src = 0;
    m->wc.masks.tp_dst = htons(0xff00);
    match_normalize(m);
    dp_flow_format(&info, true, &s);
    assert_true(
        strstr(ds_cstr(&s), "ufid:01234567-89ab-cdef-fedc-ba9876543210, ")
        == ds_cstr(&s));
    assert_non_null(strstr(ds_cstr(&s), "tcp(dst=0/0xff00), packets:3"));
    assert_non_null(strstr(ds_cstr(&s), "used:0.0"));
    assert_null(strstr(ds_cstr(&s), "flags:"));

    dp_flow_info_uninit(&info);
    ds_destroy(&s);
}

/* The MPLS entry prints as Open vSwitch's mpls(label=,tc=,ttl=,bos=),
 * only its matched fields, and a matched tun_id as tunnel(tun_id=). */
static void
test_flow_format_shows_mpls_and_tunnel_id(void **state)
{
    struct dp_flow_info info;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct match *m = &info.match;

    (void)state;
    memset(&info, 0, sizeof info);
    match_init_catchall(m);
    m->flow.in_port = 1;
    m->wc.masks.in_port = UINT32_MAX;
    m->flow.dl_type = htons(ETH_TYPE_MPLS);
    m->wc.masks.dl_type = UINT16_MAX;
    m->flow.mpls_lse = htonl(16 << MPLS_LABEL_SHIFT | 5 << MPLS_TC_SHIFT
                             | MPLS_BOS_MASK | 64);
    m->wc.masks.mpls_lse = htonl(MPLS_LABEL_MASK | MPLS_BOS_MASK | 0xf);
    m->wc.masks.tunnel_id = htobe64(UINT64_MAX);
    match_normalize(m);
    info.actions = actions("pop_mpls(eth_type=0x800),2");
    dp_flow_format(&info, false, &s);
    assert_string_equal(ds_cstr(&s),
                        "tunnel(tun_id=0x0),in_port(1),eth_type(0x8847),"
                        "mpls(label=16,ttl=0/0xf,bos=1), packets:0, "
                        "bytes:0, used:never, "
                        "actions:pop_mpls(eth_type=0x800),2");
    dp_flow_info_uninit(&info);
    ds_destroy(&s);
    /* recirc_id prints first, as in Open vSwitch, when it is not 0. */
    match_init_catchall(m);
    m->flow.recirc_id = 1;
    m->wc.masks.recirc_id = UINT32_MAX;
    m->wc.masks.in_port = UINT32_MAX;
    m->flow.in_port = 1;
    info.actions = actions("recirc(0x1)");
    dp_flow_format(&info, false, &s);
    assert_string_equal(ds_cstr(&s),
                        "recirc_id(0x1),in_port(1), packets:0, bytes:0, "
                        "used:never, actions:recirc(0x1)");
    dp_flow_info_uninit(&info);
    ds_destroy(&s);
}

/* ---- Recirculation ------------------------------------------------------ */

/* tcp_match() of recirculation 'id' (matched exactly, as every
 * megaflow matches it). */
static void
recirc_match(struct match *m, uint32_t id, uint16_t dport)
{
    tcp_match(m, 1, dport);
    m->flow.recirc_id = id;
    m->wc.masks.recirc_id = UINT32_MAX;
}

/* fwd_env's ports on a datapath with an upcall queue, and no flow. */
static void
recirc_env_init(struct fwd_env *e)
{
    e->p1 = open_memory_port("p1", 0);
    e->p2 = open_memory_port("p2", 0);
    e->dp = create_dp(1, 1, 64, 1);
    assert_int_equal(dp_port_add(e->dp, e->p1, 1), 0);
    assert_int_equal(dp_port_add(e->dp, e->p2, 2), 0);
}

/* Polls until the datapath counted 'n' recirculation drops (fails at the
 * deadline). */
static void
wait_recirc_drops(struct dp *dp, uint64_t n, struct dp_stats *st)
{
    uint64_t deadline = time_msec() + DEADLINE_MS;

    dp_get_stats(dp, st);
    while (st->n_recirc_drop < n && time_msec() <= deadline) {
        pause_briefly();
        dp_get_stats(dp, st);
    }
    assert_int_equal(st->n_recirc_drop, n);
}

/* recirc(N) looks the packet up again, rewritten and with recirc_id N in
 * its key: the flow of recirculation 5 (that wants the new TTL) forwards
 * it, and counts it; a packet of recirculation 0 never hits it. */
static void
test_recirc_looks_the_rewritten_packet_up_again(void **state)
{
    struct fwd_env e;
    struct dp_flow_info info;
    struct dp_ufid ufid_first, ufid_again;
    struct dp_stats st;
    struct match m;

    (void)state;
    recirc_env_init(&e);
    recirc_match(&m, 0, 80);
    put_flow(e.dp, &m, "set(ipv4(ttl=9)),recirc(0x5)", &ufid_first);
    recirc_match(&m, 5, 80);
    m.flow.nw_ttl = 9;
    m.wc.masks.nw_ttl = UINT8_MAX;
    put_flow(e.dp, &m, "2", &ufid_again);
    e.m = m;

    for (uint32_t i = 0; i < 10; i++) {
        inject_tcp(e.p1, 0x0a000001, 1000, 80, TCP_ACK, i);
    }
    wait_rx(e.dp, 10, &st);
    wait_tx(e.p2, 10);
    assert_int_equal(st.n_hit, 10);
    assert_int_equal(st.n_missed, 0);
    assert_int_equal(st.n_recirc_upcall, 0);
    for (uint32_t i = 0; i < 10; i++) {
        struct dp_packet *pkt = netdev_memory_collect(e.p2);

        assert_non_null(pkt);
        assert_int_equal(packet_seq(pkt), i);
        assert_int_equal(((const uint8_t *)dp_packet_data(pkt))[14 + 8], 9);
        dp_packet_delete(pkt);
    }
    assert_int_equal(dp_flow_get(e.dp, &ufid_again, &info), 0);
    assert_int_equal(info.stats.n_packets, 10);
    dp_flow_info_uninit(&info);
    assert_int_equal(dp_flow_get(e.dp, &ufid_first, &info), 0);
    assert_int_equal(info.stats.n_packets, 10);
    dp_flow_info_uninit(&info);
    fwd_env_destroy(&e);
}

/* A recirculated packet that finds no flow is a miss upcall with its
 * recirc_id, counted apart from the port's misses; a loop of recirc()
 * ends at the depth limit in a counted drop. */
static void
test_recirc_misses_upcall_and_loops_drop(void **state)
{
    struct fwd_env e;
    struct dp_upcall ups[4];
    struct dp_ufid ufid;
    struct dp_stats st;
    struct match m;
    uint64_t deadline = time_msec() + DEADLINE_MS;
    size_t n = 0;

    (void)state;
    recirc_env_init(&e);
    recirc_match(&m, 0, 80);
    put_flow(e.dp, &m, "recirc(0x9)", &ufid);
    recirc_match(&m, 0, 81);
    put_flow(e.dp, &m, "recirc(0x7)", &ufid);
    recirc_match(&m, 7, 81);
    put_flow(e.dp, &m, "recirc(0x7)", &ufid);

    inject_tcp(e.p1, 0x0a000001, 1000, 80, TCP_ACK, 1);
    while (!(n = dp_upcall_recv(e.dp, 0, ups, ARRAY_SIZE(ups)))) {
        assert_true(time_msec() < deadline);
        pause_briefly();
    }
    assert_int_equal(n, 1);
    assert_int_equal(ups[0].type, DP_UPCALL_MISS);
    assert_int_equal(ups[0].key.recirc_id, 9);
    assert_int_equal(ups[0].key.in_port, 1);
    assert_int_equal(packet_seq(ups[0].packet), 1);
    netdev_packet_recycle(ups[0].packet);
    dp_get_stats(e.dp, &st);
    assert_int_equal(st.n_missed, 0);
    assert_int_equal(st.n_recirc_upcall, 1);

    inject_tcp(e.p1, 0x0a000001, 1000, 81, TCP_ACK, 2);
    wait_recirc_drops(e.dp, 1, &st);
    assert_int_equal(st.n_recirc_drop, 1);
    assert_int_equal(st.n_hit, 2);
    assert_int_equal(drain_upcalls(e.dp), 0);
    fwd_env_destroy(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_format_shows_mpls_and_tunnel_id),
        cmocka_unit_test(test_recirc_looks_the_rewritten_packet_up_again),
        cmocka_unit_test(test_recirc_misses_upcall_and_loops_drop),
        cmocka_unit_test(test_put_get_del_semantics),
        cmocka_unit_test(test_put_fails_with_efbig_at_the_flow_limit),
        cmocka_unit_test(test_operate_runs_a_batch_in_order),
        cmocka_unit_test(test_put_with_its_ufid_is_filed_under_that_ufid),
        cmocka_unit_test(test_ufid_tells_megaflows_apart),
        cmocka_unit_test(test_operate_sends_a_run_of_executes_once_per_port),
        cmocka_unit_test(test_hits_forward_and_count_flow_stats),
        cmocka_unit_test(test_detached_port_counts_output_and_reattaches),
        cmocka_unit_test(test_threads_count_busy_and_idle_time),
        cmocka_unit_test(test_light_load_sleeps_between_polls),
        cmocka_unit_test(
            test_light_load_never_sleeps_with_the_ceiling_at_zero),
        cmocka_unit_test(test_deleted_flow_in_emc_is_missed_next_time),
        cmocka_unit_test(test_batch_on_a_dead_emc_entry_misses_entirely),
        cmocka_unit_test(
            test_upcall_queue_overflow_is_counted_as_lost_exactly),
        cmocka_unit_test(test_no_handlers_loses_every_miss),
        cmocka_unit_test(test_runts_are_parse_drops),
        cmocka_unit_test(test_port_del_stats_are_the_final_counts),
        cmocka_unit_test(test_lossless_port_never_loses),
        cmocka_unit_test(
            test_storming_port_cannot_starve_first_packets_of_other_ports),
        cmocka_unit_test(test_without_port_shares_a_storm_starves_other_ports),
        cmocka_unit_test(test_ports_under_the_floor_can_still_fill_the_queue),
        cmocka_unit_test(
            test_lossless_storm_waits_at_its_share_and_leaves_room),
        cmocka_unit_test(test_shares_hold_with_two_threads_and_two_queues),
        cmocka_unit_test(test_conservation_with_two_threads_and_four_ports),
        cmocka_unit_test(test_multithreaded_dump_returns_each_flow_once),
        cmocka_unit_test(
            test_draining_flow_keeps_arrival_order_across_install),
        cmocka_unit_test(
            test_draining_flow_loses_counted_and_survives_changes),
        cmocka_unit_test(test_execute_outputs_and_queues_action_upcalls),
        cmocka_unit_test(test_userspace_action_in_a_flow_sends_action_upcall),
        cmocka_unit_test(test_ports_removed_under_traffic),
        cmocka_unit_test(test_idle_work_leaves_a_freed_poll_list_alone),
        cmocka_unit_test(
            test_changing_handler_count_keeps_queued_upcalls_in_order),
        cmocka_unit_test(test_flow_format_is_dpctl_style),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
