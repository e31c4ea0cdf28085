/* Unit tests for src/upcall/upcall.c: handlers over a real datapath with
 * memory ports and a real bridge.
 *
 * Most tests run the udpif in manual mode: the test injects packets, polls
 * the datapath's counters until the datapath thread has queued them
 * (deadline, no sleeps as synchronization), then runs handler batches
 * itself with an injected clock.  The threaded tests run 2 handler
 * threads and 2 datapath threads and poll the output ports until every
 * packet came out.
 *
 * Pinned: a miss installs a megaflow and forwards; rule counters credited
 * for slow-path packets; duplicates across handlers install one flow;
 * flow_limit (no put past it, packets still forwarded); the governor
 * installs on the 5th packet; replace of an evicted ukey (dump phases
 * driven by the test); exact lost counts on queue overflow; ports outside
 * the bridge get a drop flow; handler count changes lose nothing; slow
 * path (controller) flows are never re-put; megaflows off gives exact
 * flows; order within a batch; conservation with threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "classifier/classifier.h"
#include "control/control.h"
#include "datapath/datapath.h"
#include "datapath/dp-actions.h"
#include "flow/flow.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "unit-frames.h"
#include "unit-switch.h"
#include "upcall/governor.h"
#include "upcall/ukey.h"
#include "upcall/upcall.h"

static uint32_t
packet_seq(const struct dp_packet *pkt)
{
    return unit_frame_tcp_tag(dp_packet_data(pkt));
}

/* A 64-byte TCP ACK from 'src_ip' to 10.0.0.2 tagged with 'seq'. */
static void
inject(struct unit_switch *e, unsigned int port, uint32_t src_ip,
       uint16_t sport, uint16_t dport, uint32_t seq)
{
    unit_switch_inject_tcp(e, port, src_ip, sport, dport, seq);
}

static void
add_flow(struct unit_switch *e, const char *line)
{
    unit_switch_flow_mod(e, line, FLOW_TEXT_ADD);
}

/* Datapath with 'n_threads' threads and 'n_handlers' queues of
 * 'queue_size'; bridge with ports 1 and 2 (datapath ports 1 and 2); port 3
 * is a datapath port outside the bridge. */
static void
env_init(struct unit_switch *e, unsigned int n_threads,
         unsigned int n_handlers, unsigned int queue_size,
         const struct upcall_config *ucfg)
{
    struct unit_switch_config cfg = {
        .n_threads = n_threads,
        .n_handlers = n_handlers,
        .queue_size = queue_size,
        .n_ports = 3,
        .n_bridge_ports = 2,
        .upcall = ucfg,
    };

    unit_switch_init(e, &cfg);
}

/* Polls until the datapath has accounted for 'n' received packets. */
static void
wait_rx(struct unit_switch *e, uint64_t n, struct dp_stats *st)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

    for (;;) {
        dp_get_stats(e->dp, st);
        if (st->n_rx == n
            && st->n_hit + st->n_missed + st->n_lost + st->n_parse_drop == n) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: rx %llu, want %llu",
                     (unsigned long long)st->n_rx, (unsigned long long)n);
        }
        unit_pause_briefly();
    }
}

/* Polls until 'n' action upcalls were queued: a hit is counted before
 * the upcall of its userspace() action is queued. */
static void
wait_action_upcalls(struct unit_switch *e, uint64_t n, struct dp_stats *st)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

    for (;;) {
        dp_get_stats(e->dp, st);
        if (st->n_action_upcall + st->n_action_upcall_lost >= n) {
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: %llu action upcalls, want %llu",
                     (unsigned long long)st->n_action_upcall,
                     (unsigned long long)n);
        }
        unit_pause_briefly();
    }
}

/* Packets credited to the rule that a tcp packet from port 1 to 'tp_dst'
 * hits in table 0. */
static uint64_t
rule_packets(struct unit_switch *e, uint16_t tp_dst)
{
    uint64_t packets, bytes, used;
    struct rule *rule;
    struct flow f;

    memset(&f, 0, sizeof f);
    f.in_port = 1;
    f.dl_type = htons(ETH_TYPE_IP);
    f.nw_proto = IPPROTO_TCP_;
    f.tp_dst = htons(tp_dst);
    rcu_read_begin();
    rule = ofproto_table_lookup(e->ofp, 0, &f, NULL);
    assert_non_null(rule);
    ofproto_rule_get_stats(rule, &packets, &bytes, &used);
    rcu_read_end();
    return packets;
}

/* Sends 'n' packets from port 1 (source ports 'sport' on) through the
 * handlers at 'now'; 'n_sent' counts every packet so far. */
static void
send_flows(struct unit_switch *e, uint16_t sport, unsigned int n,
           uint64_t *n_sent, uint64_t now)
{
    struct dp_stats st;

    for (unsigned int i = 0; i < n; i++) {
        inject(e, 1, 0x0a000001, (uint16_t)(sport + i), 80, i);
    }
    *n_sent += n;
    wait_rx(e, *n_sent, &st);
    unit_switch_run_handlers(e, now);
    unit_switch_collect(e, 2, n, NULL);
}

static char *
transact_ok(const char *path, int argc, const char *argv[])
{
    char *result = NULL, *error = NULL;

    assert_int_equal(
        control_transact(path, argc, argv, UNIT_DEADLINE_MS, &result, &error),
        0);
    if (!result) {
        fail_msg("%s: %s", argv[0], error);
    }
    return result;
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_miss_installs_megaflow_and_forwards(void **state)
{
    struct dp_stats st;
    struct unit_switch e;
    struct flow f;
    struct rule *rule;
    uint64_t packets, bytes, used;
    struct upcall_handler_stats hs;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    inject(&e, 1, 0x0a000001, 1000, 80, 0);
    wait_rx(&e, 1, &st);
    assert_int_equal(st.n_missed, 1);
    assert_int_equal(unit_switch_run_handlers(&e, 1000), 1);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(ukey_map_count(upcall_get_ukeys(e.udpif)), 1);

    /* The rule was credited with the slow-path packet at once. */
    memset(&f, 0, sizeof f);
    f.in_port = 1;
    f.dl_type = htons(ETH_TYPE_IP);
    f.nw_proto = IPPROTO_TCP_;
    f.tp_dst = htons(80);
    rcu_read_begin();
    rule = ofproto_table_lookup(e.ofp, 0, &f, NULL);
    assert_non_null(rule);
    ofproto_rule_get_stats(rule, &packets, &bytes, &used);
    rcu_read_end();
    assert_int_equal(packets, 1);
    assert_int_equal(bytes, 64);

    /* Other source ports hit the megaflow in the datapath. */
    for (uint16_t i = 0; i < 10; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(2000 + i), 80, i);
    }
    wait_rx(&e, 11, &st);
    assert_int_equal(st.n_missed, 1);
    assert_int_equal(st.n_hit, 10);
    unit_switch_collect(&e, 2, 10, NULL);
    assert_int_equal(upcall_get_handler_stats(e.udpif, 0, &hs), 0);
    assert_int_equal(hs.n_upcalls, 1);
    assert_int_equal(hs.n_puts, 1);
    unit_switch_destroy(&e);
}

static void
test_duplicate_upcalls_across_handlers_install_one_flow(void **state)
{
    uint64_t dup = coverage_read("handler_duplicate_upcall");
    struct upcall_handler_stats h0, h1;
    struct dp_stats st;
    struct unit_switch e;
    size_t n_handled;

    (void)state;
    env_init(&e, 1, 2, 512, NULL);
    /* One megaflow (in_port, tcp) for every source port: the misses
     * spread over both handler queues. */
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint16_t i = 0; i < 40; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 40, &st);
    assert_int_equal(st.n_missed, 40);
    assert_true(dp_upcall_queue_len(e.dp, 0) > 0);
    assert_true(dp_upcall_queue_len(e.dp, 1) > 0);

    n_handled = upcall_handler_run(e.udpif, 0, 1000);
    n_handled += upcall_handler_run(e.udpif, 1, 1000);
    assert_int_equal(n_handled, 40);
    unit_switch_collect(&e, 2, 40, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    upcall_get_handler_stats(e.udpif, 0, &h0);
    upcall_get_handler_stats(e.udpif, 1, &h1);
    assert_int_equal(h0.n_puts + h1.n_puts, 1);
    assert_int_equal(coverage_read("handler_duplicate_upcall") - dup, 1);
    assert_int_equal(rule_packets(&e, 80), 40);
    unit_switch_destroy(&e);
}

/* One batch: 30 keys (10 source ports, 3 packets each, interleaved) over
 * two megaflows (tp_dst 80 and 443).  The packets of a key group into one
 * flow miss, each megaflow is put once, the other keys of a megaflow are
 * counted as batch duplicates, and the rules are credited with every
 * packet. */
static void
test_batch_groups_keys_and_puts_each_megaflow_once(void **state)
{
    uint64_t dup = coverage_read("handler_batch_duplicate");
    struct upcall_handler_stats hs;
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=443,actions=output:2");
    for (uint32_t round = 0; round < 3; round++) {
        for (uint16_t i = 0; i < 10; i++) {
            inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), i % 2 ? 443 : 80,
                   round * 10 + i);
        }
    }
    wait_rx(&e, 30, &st);
    assert_int_equal(st.n_missed, 30);
    assert_int_equal(upcall_handler_run(e.udpif, 0, 1000), 30);
    unit_switch_collect(&e, 2, 30, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    assert_int_equal(upcall_get_handler_stats(e.udpif, 0, &hs), 0);
    assert_int_equal(hs.n_puts, 2);
    /* Per later packet of the two keys that put (4), and per key whose
     * megaflow another key of the batch put (8). */
    assert_int_equal(coverage_read("handler_batch_duplicate") - dup, 12);
    assert_int_equal(rule_packets(&e, 80), 15);
    assert_int_equal(rule_packets(&e, 443), 15);
    unit_switch_destroy(&e);
}

static void
test_flow_limit_respected_packets_still_forwarded(void **state)
{
    uint64_t hit = coverage_read("upcall_flow_limit_hit");
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    upcall_set_governor_mode(e.udpif, GOVERNOR_FORCE_OFF);
    upcall_set_flow_limit(e.udpif, 3);
    upcall_set_megaflows(e.udpif, false); /* One flow per 5-tuple. */
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint16_t i = 0; i < 10; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 10, &st);
    assert_int_equal(unit_switch_run_handlers(&e, 1000), 10);
    unit_switch_collect(&e, 2, 10, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 3);
    assert_int_equal(coverage_read("upcall_flow_limit_hit") - hit, 7);

    /* A later batch sees the datapath at the limit. */
    inject(&e, 1, 0x0a000001, 5000, 80, 99);
    wait_rx(&e, 11, &st);
    assert_int_equal(unit_switch_run_handlers(&e, 1001), 1);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 3);
    unit_switch_destroy(&e);
}

static void
test_governor_installs_flow_on_fifth_packet(void **state)
{
    uint64_t supp = coverage_read("governor_suppressed");
    struct upcall_config ucfg;
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.manual = true;
    ucfg.governor = GOVERNOR_FORCE_ON;
    env_init(&e, 1, 1, 512, &ucfg);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint32_t round = 0; round < 4; round++) {
        inject(&e, 1, 0x0a000001, 1000, 80, round);
        wait_rx(&e, round + 1, &st);
        assert_int_equal(unit_switch_run_handlers(&e, 1000 + round), 1);
        unit_switch_collect(&e, 2, 1, NULL);
        assert_int_equal(unit_switch_n_flows(&e), 0);
    }
    assert_int_equal(coverage_read("governor_suppressed") - supp, 4);
    inject(&e, 1, 0x0a000001, 1000, 80, 4);
    wait_rx(&e, 5, &st);
    assert_int_equal(unit_switch_run_handlers(&e, 1004), 1);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    /* Every packet handled in the slow path was credited to the rule. */
    assert_int_equal(rule_packets(&e, 80), 5);
    unit_switch_destroy(&e);
}

/* Plays the revalidator: the flow is deleted during the dump, its ukey
 * waits EVICTED for the sweep; a new upcall must reinstall at once. */
static void
test_ukey_replaced_when_flow_deleted_mid_dump(void **state)
{
    uint64_t repl = coverage_read("upcall_ukey_replace");
    struct dp_flow_info info;
    struct dp_flow_dump *dump;
    struct ukey *ukey;
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    inject(&e, 1, 0x0a000001, 1000, 80, 0);
    wait_rx(&e, 1, &st);
    unit_switch_run_handlers(&e, 1000);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);

    /* Dump: the flow is seen (OPERATIONAL), then evicted. */
    dump = dp_flow_dump_create(e.dp);
    assert_int_equal(dp_flow_dump_next(dump, &info, 1), 1);
    rcu_read_begin();
    ukey = ukey_lookup(upcall_get_ukeys(e.udpif), &info.ufid, NULL);
    assert_non_null(ukey);
    assert_true(ukey_trylock(ukey));
    assert_int_equal(ukey->state, UKEY_VISIBLE);
    ukey_set_state(ukey, UKEY_OPERATIONAL);
    ukey->dump_seq = 1;
    ukey_set_state(ukey, UKEY_EVICTING);
    assert_int_equal(dp_flow_del(e.dp, &info.ufid, NULL), 0);
    ukey_set_state(ukey, UKEY_EVICTED);
    ukey_unlock(ukey);
    rcu_read_end();
    dp_flow_info_uninit(&info);
    dp_flow_dump_destroy(dump);
    assert_int_equal(unit_switch_n_flows(&e), 0);

    /* Before the sweep, a new miss reinstalls the flow at once. */
    inject(&e, 1, 0x0a000001, 1001, 80, 1);
    wait_rx(&e, 2, &st);
    assert_int_equal(st.n_missed, 2);
    unit_switch_run_handlers(&e, 2000);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(coverage_read("upcall_ukey_replace") - repl, 1);
    assert_int_equal(ukey_map_count(upcall_get_ukeys(e.udpif)), 1);
    unit_switch_destroy(&e);
}

static void
test_queue_overflow_counted_as_lost_exactly(void **state)
{
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 8, NULL);
    upcall_set_megaflows(e.udpif, false);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint16_t i = 0; i < 20; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 20, &st);
    assert_int_equal(st.n_missed, 8);
    assert_int_equal(st.n_lost, 12);
    assert_int_equal(st.n_lost_queue_full, 12);
    assert_int_equal(unit_switch_run_handlers(&e, 1000), 8);
    unit_switch_collect(&e, 2, 8, NULL);
    unit_switch_assert_port_idle(&e, 2);
    dp_get_stats(e.dp, &st);
    assert_int_equal(st.n_rx, st.n_hit + st.n_missed + st.n_lost);
    unit_switch_destroy(&e);
}

static void
test_port_outside_bridge_installs_drop_flow(void **state)
{
    uint64_t nb = coverage_read("upcall_no_bridge_port");
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=0,actions=output:2");
    inject(&e, 3, 0x0a000001, 1000, 80, 0);
    wait_rx(&e, 1, &st);
    unit_switch_run_handlers(&e, 1000);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(coverage_read("upcall_no_bridge_port") - nb, 1);
    /* Later packets of any flow on that port are dropped in the
     * datapath. */
    inject(&e, 3, 0x0a000002, 1001, 81, 1);
    wait_rx(&e, 2, &st);
    assert_int_equal(st.n_hit, 1);
    /* The handler's execute of the first packet, and the hit. */
    assert_int_equal(st.n_drop_action, 2);
    unit_switch_assert_port_idle(&e, 2);
    unit_switch_destroy(&e);
}

static void
test_handler_count_change_loses_no_upcall(void **state)
{
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    upcall_set_megaflows(e.udpif, false);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint16_t i = 0; i < 30; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 30, &st);
    assert_int_equal(upcall_set_n_handlers(e.udpif, 3), 0);
    assert_int_equal(upcall_n_handlers(e.udpif), 3);
    assert_int_equal(unit_switch_run_handlers(&e, 1000), 30);
    unit_switch_collect(&e, 2, 30, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 30);
    assert_int_equal(upcall_set_n_handlers(e.udpif, 0), EINVAL);
    unit_switch_destroy(&e);
}

static void
test_totals_survive_a_handler_count_change(void **state)
{
    struct upcall_totals t;
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 2, 512, NULL);
    upcall_set_megaflows(e.udpif, false);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint16_t i = 0; i < 20; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 20, &st);
    assert_int_equal(unit_switch_run_handlers(&e, 1000), 20);
    unit_switch_collect(&e, 2, 20, NULL);

    /* The handlers that counted these go; their counts stay. */
    assert_int_equal(upcall_set_n_handlers(e.udpif, 3), 0);
    upcall_get_totals(e.udpif, &t);
    assert_int_equal(t.n_upcalls, 20);
    assert_int_equal(t.n_puts, 20);
    assert_true(t.n_batches >= 1);
    assert_int_equal(t.queue_len, 0);

    for (uint16_t i = 0; i < 10; i++) {
        inject(&e, 1, 0x0a000002, (uint16_t)(2000 + i), 80, 20 + i);
    }
    wait_rx(&e, 30, &st);
    upcall_get_totals(e.udpif, &t);
    assert_int_equal(t.queue_len, 10);
    assert_int_equal(unit_switch_run_handlers(&e, 1001), 10);
    assert_int_equal(upcall_set_n_handlers(e.udpif, 1), 0);
    upcall_get_totals(e.udpif, &t);
    /* misses = handled, across both changes. */
    dp_get_stats(e.dp, &st);
    assert_int_equal(t.n_upcalls, st.n_missed);
    assert_int_equal(t.n_upcalls, 30);
    assert_int_equal(t.n_puts, 30);
    unit_switch_destroy(&e);
}

static void
test_controller_flow_is_slow_pathed_and_never_reput(void **state)
{
    uint64_t ctl = coverage_read("upcall_controller_no_connection");
    uint64_t slow = coverage_read("upcall_slow_path");
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2,controller");
    inject(&e, 1, 0x0a000001, 1000, 80, 0);
    wait_rx(&e, 1, &st);
    /* The miss: installed with the slow-path action; the executed packet
     * goes out port 2 and raises a controller upcall. */
    unit_switch_run_handlers(&e, 1000);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(coverage_read("upcall_controller_no_connection") - ctl,
                     1);

    /* The next packet hits the slow-path flow and comes back up; it is
     * translated and executed, and nothing is put again. */
    inject(&e, 1, 0x0a000001, 1000, 80, 1);
    wait_rx(&e, 2, &st);
    /* The controller upcall of the first execute, and this one. */
    wait_action_upcalls(&e, 2, &st);
    assert_int_equal(st.n_action_upcall, 2);
    unit_switch_run_handlers(&e, 1001);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(coverage_read("upcall_slow_path") - slow, 1);
    assert_int_equal(coverage_read("upcall_controller_no_connection") - ctl,
                     2);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(rule_packets(&e, 80), 2); /* Each credited once. */
    unit_switch_destroy(&e);
}

static void
test_batch_preserves_arrival_order_within_flow(void **state)
{
    uint32_t seqs[50];
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint32_t i = 0; i < 50; i++) {
        inject(&e, 1, 0x0a000001, 1000, 80, i);
    }
    wait_rx(&e, 50, &st);
    unit_switch_run_handlers(&e, 1000);
    unit_switch_collect(&e, 2, 50, seqs);
    for (uint32_t i = 0; i < 50; i++) {
        assert_int_equal(seqs[i], i);
    }
    assert_int_equal(unit_switch_n_flows(&e), 1);
    unit_switch_destroy(&e);
}

static void
test_megaflows_disabled_installs_exact_flows(void **state)
{
    struct dp_flow_dump *dump;
    struct dp_flow_info info;
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    upcall_set_megaflows(e.udpif, false);
    assert_false(upcall_get_megaflows(e.udpif));
    for (uint16_t i = 0; i < 4; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 4, &st);
    unit_switch_run_handlers(&e, 1000);
    unit_switch_collect(&e, 2, 4, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 4);
    dump = dp_flow_dump_create(e.dp);
    while (dp_flow_dump_next(dump, &info, 1)) {
        assert_true(flow_wildcards_is_exact(&info.match.wc));
        dp_flow_info_uninit(&info);
    }
    dp_flow_dump_destroy(dump);

    /* Back on: one megaflow covers the other source ports. */
    upcall_set_megaflows(e.udpif, true);
    inject(&e, 1, 0x0a000001, 3000, 80, 9);
    wait_rx(&e, 5, &st);
    unit_switch_run_handlers(&e, 1001);
    inject(&e, 1, 0x0a000001, 3001, 80, 10);
    wait_rx(&e, 6, &st);
    assert_int_equal(st.n_missed, 5);
    unit_switch_collect(&e, 2, 2, NULL);
    unit_switch_destroy(&e);
}

static void
test_unknown_userspace_cookie_is_counted_and_dropped(void **state)
{
    uint64_t bad = coverage_read("upcall_malformed");
    static const uint8_t junk[5] = {0x42, 1, 2, 3, 4};
    struct dp_action_buf buf;
    struct dp_actions *acts;
    struct dp_stats st;
    struct match m;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    match_init_catchall(&m);
    m.flow.in_port = 1;
    m.wc.masks.in_port = UINT32_MAX;
    dp_action_buf_init(&buf);
    dp_action_put_userspace(&buf, junk, sizeof junk);
    acts = dp_action_buf_freeze(&buf);
    dp_action_buf_uninit(&buf);
    assert_int_equal(
        dp_flow_put(e.dp, &m, acts, DP_FLOW_PUT_CREATE, NULL, NULL), 0);
    dp_actions_unref(acts);
    inject(&e, 1, 0x0a000001, 1000, 80, 0);
    wait_rx(&e, 1, &st);
    wait_action_upcalls(&e, 1, &st);
    assert_int_equal(unit_switch_run_handlers(&e, 1000), 1);
    assert_int_equal(coverage_read("upcall_malformed") - bad, 1);
    unit_switch_assert_port_idle(&e, 2);
    unit_switch_destroy(&e);
}

static void
test_control_commands_show_and_set(void **state)
{
    char dir[] = "/tmp/fs-upcall-XXXXXX";
    struct control_server *server;
    char *result = NULL, *error = NULL;
    char path[64];
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 2, 512, NULL);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ctl", dir);
    assert_int_equal(control_server_create(path, &server, &error), 0);

    {
        const char *argv[] = {"upcall/set-flow-limit", "5000"};

        assert_int_equal(
            control_transact(path, 2, argv, 10000, &result, &error), 0);
        assert_non_null(result);
        assert_non_null(strstr(result, "br0: flow limit now 5000"));
        free(result);
        assert_int_equal(upcall_get_flow_limit(e.udpif), 5000);
    }
    {
        const char *argv[] = {"upcall/set-flow-limit", "lots"};

        assert_int_equal(
            control_transact(path, 2, argv, 10000, &result, &error), 0);
        assert_null(result);
        assert_non_null(strstr(error, "bad flow limit"));
        free(error);
    }
    {
        const char *argv[] = {"upcall/set-flow-limit", "-1"};

        assert_int_equal(
            control_transact(path, 2, argv, 10000, &result, &error), 0);
        assert_null(result);
        assert_string_equal(error, "upcall/set-flow-limit: bad flow limit "
                                   "\"-1\" (expected a positive integer)\n");
        free(error);
        assert_int_equal(upcall_get_flow_limit(e.udpif), 5000);
    }
    {
        /* Below the adaptive limit's floor of 1000: the maximum wins, as
         * in Open vSwitch, and a round keeps it. */
        const char *argv[] = {"upcall/set-flow-limit", "500"};

        assert_int_equal(
            control_transact(path, 2, argv, 10000, &result, &error), 0);
        assert_non_null(result);
        assert_string_equal(result, "br0: flow limit now 500\n");
        free(result);
        upcall_revalidate(e.udpif, time_msec());
        assert_int_equal(upcall_get_flow_limit(e.udpif), 500);
    }
    {
        const char *argv[] = {"upcall/disable-megaflows"};

        assert_int_equal(
            control_transact(path, 1, argv, 10000, &result, &error), 0);
        free(result);
        assert_false(upcall_get_megaflows(e.udpif));
    }
    {
        const char *argv[] = {"upcall/show"};

        assert_int_equal(
            control_transact(path, 1, argv, 10000, &result, &error), 0);
        assert_non_null(strstr(result, "br0:"));
        assert_non_null(strstr(result, "(limit 500)\n"));
        assert_non_null(strstr(result, "megaflows     : disabled"));
        assert_non_null(strstr(result, "handler 1:"));
        free(result);
    }
    control_server_destroy(server);
    rmdir(dir);
    unit_switch_destroy(&e);
}

/* As in Open vSwitch, switching megaflows on or off through the control
 * socket flushes the datapath (final statistics credited to the rules),
 * so that every flow follows the new mode. */
static void
test_megaflow_switch_flushes_every_flow(void **state)
{
    static const char *disable[] = {"upcall/disable-megaflows"};
    static const char *enable[] = {"upcall/enable-megaflows"};
    char dir[] = "/tmp/fs-upcall-XXXXXX";
    struct control_server *server;
    uint64_t n_sent = 0;
    struct dp_stats st;
    char *error = NULL, *text;
    char path[64];
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, 512, NULL);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ctl", dir);
    assert_int_equal(control_server_create(path, &server, &error), 0);
    add_flow(&e, "priority=10,tcp,actions=output:2");

    /* One megaflow; its later packets are hits, not yet credited. */
    send_flows(&e, 1000, 1, &n_sent, 1000);
    for (uint16_t i = 1; i < 4; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    n_sent += 3;
    wait_rx(&e, n_sent, &st);
    assert_int_equal(st.n_hit, 3);
    unit_switch_collect(&e, 2, 3, NULL);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(rule_packets(&e, 80), 1);

    text = transact_ok(path, 1, disable);
    assert_string_equal(text, "megaflows disabled\n");
    free(text);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(ukey_map_count(upcall_get_ukeys(e.udpif)), 0);
    assert_int_equal(rule_packets(&e, 80), 4);
    send_flows(&e, 2000, 3, &n_sent, 1001);
    assert_int_equal(unit_switch_n_flows(&e), 3); /* Exact-match flows. */

    text = transact_ok(path, 1, enable);
    assert_string_equal(text, "megaflows enabled\n");
    free(text);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(rule_packets(&e, 80), n_sent);
    send_flows(&e, 3000, 3, &n_sent, 1002);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(rule_packets(&e, 80), n_sent);

    control_server_destroy(server);
    rmdir(dir);
    unit_switch_destroy(&e);
}

static void
test_destroy_counts_upcalls_left_in_queues(void **state)
{
    uint64_t dropped = coverage_read("upcall_dropped_on_destroy");
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 2, 512, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    for (uint16_t i = 0; i < 3; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
    }
    wait_rx(&e, 3, &st);
    assert_int_equal(st.n_missed, 3);
    unit_switch_destroy(&e);
    assert_int_equal(coverage_read("upcall_dropped_on_destroy") - dropped, 3);
}

/* upcall/show after traffic and two rounds: every number it prints is
 * the live one (flows now, their running average and maximum as sampled
 * by the handler batch and each round, the limit, the dump duration, the
 * ukeys, each handler's upcalls, batches and puts, each governor). */
static void
test_show_reports_flows_handlers_and_governor(void **state)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct upcall_config ucfg;
    struct governor_info gi;
    uint64_t n_sent = 0;
    char line[256];
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.manual = true;
    ucfg.megaflows = false;
    env_init(&e, 1, 2, 512, &ucfg);
    upcall_show(e.udpif, &s);
    assert_non_null(strstr(ds_cstr(&s), "system@br0:\n"));
    assert_non_null(strstr(ds_cstr(&s), "(current 0) (avg 0) (max 0) "
                                        "(limit 10000)\n"));
    assert_non_null(strstr(ds_cstr(&s), "dump duration : 0ms\n"));
    ds_clear(&s);

    /* 40 flows: one batch per handler (19 and 21 flows by the hash of
     * their keys), each sampling the flows there were before its puts (0,
     * then 19), then two rounds sampling 40 each: the average (7 parts
     * old, 1 part new, rounded down) goes 0, 2, 6, 10. */
    add_flow(&e, "priority=10,tcp,actions=output:2");
    send_flows(&e, 1000, 40, &n_sent, time_msec());
    upcall_set_dump_duration_override(e.udpif, 7);
    upcall_revalidate(e.udpif, time_msec());
    upcall_revalidate(e.udpif, time_msec());
    upcall_show(e.udpif, &s);
    assert_non_null(strstr(ds_cstr(&s), "  flows         : (current 40) "
                                        "(avg 10) (max 40) (limit 10000)\n"));
    assert_non_null(strstr(ds_cstr(&s), "dump duration : 7ms\n"));
    assert_non_null(strstr(ds_cstr(&s), "(rounds 2)"));
    assert_non_null(strstr(ds_cstr(&s), "  megaflows     : disabled\n"));
    assert_non_null(strstr(ds_cstr(&s), "  ukeys         : 40\n"));
    assert_non_null(strstr(ds_cstr(&s), "(batches: 0 in datapath threads, "
                                        "2 in handler threads)\n"));
    assert_non_null(strstr(ds_cstr(&s), "  handler 0: upcalls 19, batch avg "
                                        "19.0, queue 0, puts 19, batches 1 "
                                        "(0 in datapath threads)\n"));
    assert_non_null(strstr(ds_cstr(&s), "  handler 1: upcalls 21, batch avg "
                                        "21.0, queue 0, puts 21, batches 1 "
                                        "(0 in datapath threads)\n"));
    for (unsigned int h = 0; h < 2; h++) {
        assert_int_equal(upcall_get_governor_info(e.udpif, h, &gi), 0);
        snprintf(line, sizeof line,
                 "    governor: %s, table %zu bytes, threshold %u, "
                 "shortcut %s, generations %llu, suppressed %llu, "
                 "installed %llu\n",
                 gi.engaged ? "engaged" : "idle", gi.size, gi.threshold,
                 gi.shortcut ? "on" : "off", (unsigned long long)gi.generation,
                 (unsigned long long)gi.n_suppressed,
                 (unsigned long long)gi.n_installed);
        assert_non_null(strstr(ds_cstr(&s), line));
    }
    ds_clear(&s);

    /* The maximum stays; the average follows: the purge samples 40
     * (13), the next round 0 (11). */
    upcall_purge(e.udpif);
    upcall_revalidate(e.udpif, time_msec());
    upcall_show(e.udpif, &s);
    assert_non_null(strstr(ds_cstr(&s), "(current 0) (avg 11) (max 40)"));
    ds_destroy(&s);
    unit_switch_destroy(&e);
}

/* Threads: 2 datapath threads (ports 1 and 2 each polled by one), 2
 * handler threads, traffic of 64 flows on both ports. */
/* Packets the switch forwards or has yet to: every hit and every miss
 * but the hits on draining flows it lost (counted), once the handlers are
 * done with what they took. */
static uint64_t
sent_or_due(struct unit_switch *e)
{
    struct dp_stats st;

    unit_switch_wait_handlers_idle(e, &st);
    return st.n_hit + st.n_missed - st.n_drain_upcall_lost;
}

/* Many flows of one megaflow whose first packets land in both handlers'
 * queues: whichever handler installs it, no packet of any flow leaves
 * before an older one of the same flow (DESIGN.md §3: the draining
 * state), while the burst keeps arriving. */
static void
check_order_holds_across_install(enum upcall_mode mode)
{
    enum { N_FLOWS = 40, N_PER_FLOW = 50 };
    uint32_t last[N_FLOWS];
    struct upcall_config ucfg;
    uint64_t got = 0, want;
    struct dp_stats st;
    struct unit_switch e;

    upcall_config_init(&ucfg);
    ucfg.mode = mode;
    env_init(&e, 1, 2, 512, &ucfg);
    add_flow(&e, "priority=10,in_port=1,tcp,actions=output:2");
    for (uint32_t seq = 0; seq < N_PER_FLOW; seq++) {
        for (uint16_t f = 0; f < N_FLOWS; f++) {
            inject(&e, 1, 0x0a000001, (uint16_t)(1000 + f), 80, seq);
        }
    }
    wait_rx(&e, N_FLOWS * N_PER_FLOW, &st);
    want = sent_or_due(&e);
    memset(last, 0xff, sizeof last);
    {
        uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

        while (got < want) {
            struct dp_packet *pkt = netdev_memory_collect(e.ports[2]);
            const uint8_t *b;
            unsigned int f;
            uint32_t seq;

            if (!pkt) {
                if (time_msec() > deadline) {
                    fail_msg("timeout: sent %llu of %llu",
                             (unsigned long long)got,
                             (unsigned long long)want);
                }
                unit_pause_briefly();
                continue;
            }
            b = dp_packet_data(pkt);
            f = ((unsigned int)b[34] << 8 | b[35]) - 1000;
            seq = packet_seq(pkt);
            assert_true(f < N_FLOWS);
            if (last[f] != UINT32_MAX && seq <= last[f]) {
                fail_msg("flow %u: packet %u left after packet %u", f, seq,
                         last[f]);
            }
            last[f] = seq;
            dp_packet_delete(pkt);
            got++;
        }
    }
    unit_switch_assert_port_idle(&e, 2);
    dp_get_stats(e.dp, &st);
    assert_int_equal(st.n_rx, st.n_hit + st.n_missed + st.n_lost);
    assert_int_equal(st.n_flows, 1);
    if (mode == UPCALL_MODE_THREADS) {
        assert_int_equal(st.n_idle_work, 0);
    }
    unit_switch_destroy(&e);
}

static void
test_threaded_order_holds_across_install(void **state)
{
    (void)state;
    check_order_holds_across_install(UPCALL_MODE_AUTO);
}

static void
test_threaded_order_holds_across_install_in_threads_mode(void **state)
{
    (void)state;
    check_order_holds_across_install(UPCALL_MODE_THREADS);
}

/* Sends 'n' packets of distinct flows into port 1 at a pace the datapath
 * thread keeps up with (each is forwarded before the next is injected),
 * and returns the handlers' totals once every one came out of port 2. */
static void
send_one_by_one(struct unit_switch *e, unsigned int n, struct upcall_totals *t)
{
    for (unsigned int i = 0; i < n; i++) {
        inject(e, 1, 0x0a000001, (uint16_t)(1000 + i), 80, i);
        unit_switch_collect(e, 2, 1, NULL);
    }
    upcall_get_totals(e->udpif, t);
}

/* Work-conserving upcalls (DESIGN.md §3): a datapath thread with nothing
 * to forward runs the handler batches itself, and says so. */
static void
test_idle_datapath_thread_runs_the_handler_batches(void **state)
{
    struct upcall_config ucfg;
    struct upcall_totals t;
    struct dp_stats st;
    struct ds s = DS_EMPTY_INITIALIZER;
    char line[128];
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    assert_int_equal(ucfg.mode, UPCALL_MODE_AUTO);
    env_init(&e, 1, 1, 512, &ucfg);
    add_flow(&e, "priority=10,in_port=1,tcp,actions=output:2");
    upcall_set_megaflows(e.udpif, false); /* Every packet a new flow. */
    send_one_by_one(&e, 200, &t);

    /* The counters of the last batch move just after its packet left:
     * until they settle.  Nobody wakes the handler thread (the datapath
     * thread is never busy with upcalls queued), so the datapath thread
     * runs the batches, one per idle-work call — all but those the
     * handler thread finds on its own (it looks at its queue for a while
     * when it starts, and after each timeout). */
    {
        uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

        for (;;) {
            upcall_get_totals(e.udpif, &t);
            dp_get_stats(e.dp, &st);
            if (t.n_upcalls == 200 && st.n_idle_work == t.n_batches_dp
                && t.n_batches_dp * 10 >= t.n_batches * 9) {
                break;
            }
            if (time_msec() > deadline) {
                fail_msg("upcalls %llu, batches %llu (%llu by datapath "
                         "threads), idle work %llu",
                         (unsigned long long)t.n_upcalls,
                         (unsigned long long)t.n_batches,
                         (unsigned long long)t.n_batches_dp,
                         (unsigned long long)st.n_idle_work);
            }
            unit_pause_briefly();
        }
    }
    assert_int_equal(st.n_lost, 0);
    assert_int_equal(st.n_wake_deferred, 0);

    upcall_show(e.udpif, &s);
    snprintf(line, sizeof line,
             "upcall mode   : auto (batches: %llu in datapath threads, %llu "
             "in handler threads)",
             (unsigned long long)t.n_batches_dp,
             (unsigned long long)(t.n_batches - t.n_batches_dp));
    assert_non_null(strstr(ds_cstr(&s), line));
    ds_destroy(&s);
    unit_switch_destroy(&e);
}

static void
test_threads_mode_runs_every_batch_in_handler_threads(void **state)
{
    struct upcall_config ucfg;
    struct upcall_totals t;
    struct dp_stats st;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.mode = UPCALL_MODE_THREADS;
    env_init(&e, 1, 1, 512, &ucfg);
    add_flow(&e, "priority=10,in_port=1,tcp,actions=output:2");
    upcall_set_megaflows(e.udpif, false);
    send_one_by_one(&e, 100, &t);

    {
        uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

        while (t.n_upcalls < 100) {
            if (time_msec() > deadline) {
                fail_msg("upcalls %llu of 100",
                         (unsigned long long)t.n_upcalls);
            }
            unit_pause_briefly();
            upcall_get_totals(e.udpif, &t);
        }
    }
    dp_get_stats(e.dp, &st);
    assert_int_equal(t.n_upcalls, 100);
    assert_true(t.n_batches > 0);
    assert_int_equal(t.n_batches_dp, 0);
    assert_int_equal(st.n_idle_work, 0);
    assert_int_equal(st.n_port_paused, 0);
    upcall_show(e.udpif, &s);
    assert_non_null(strstr(ds_cstr(&s), "upcall mode   : threads (batches: 0 "
                                        "in datapath threads"));
    ds_destroy(&s);
    unit_switch_destroy(&e);
}

/* Ports come and go while the datapath thread runs handler batches (idle
 * work, offline): the poll list it loaded before may be freed meanwhile,
 * and it must not use it afterwards (under ASan a use would be reported;
 * without, the stale length once made it allocate petabytes). */
static void
test_ports_come_and_go_while_idle_work_runs(void **state)
{
    struct upcall_config ucfg;
    struct dp_stats st;
    uint64_t sent = 0;
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    env_init(&e, 1, 1, 512, &ucfg);
    add_flow(&e, "priority=10,in_port=1,tcp,actions=output:2");
    upcall_set_megaflows(e.udpif, false);
    for (unsigned int round = 0; round < 300; round++) {
        for (unsigned int i = 0; i < 8; i++) {
            inject(&e, 1, 0x0a000001, (uint16_t)(1000 + sent % 60000), 80,
                   (uint32_t)sent);
            sent++;
        }
        assert_int_equal(dp_port_del(e.dp, 3), 0);
        assert_int_equal(dp_port_add(e.dp, e.ports[3], 3), 0);
    }
    wait_rx(&e, sent, &st);
    unit_switch_collect(&e, 2, sent - st.n_lost, NULL);
    unit_switch_destroy(&e);
}

/* A burst of new flows far beyond the queue: in auto mode the datapath
 * thread stops receiving while the port's misses would not fit, runs
 * the batches that make room, and loses none. */
static void
test_burst_beyond_the_queue_waits_in_the_port_not_lost(void **state)
{
    enum { N = 3000 };
    struct upcall_config ucfg;
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    env_init(&e, 1, 1, 64, &ucfg);
    add_flow(&e, "priority=10,in_port=1,tcp,actions=output:2");
    upcall_set_megaflows(e.udpif, false);
    for (unsigned int i = 0; i < N; i++) {
        inject(&e, 1, 0x0a000001 + i / 60000, (uint16_t)(1000 + i % 60000), 80,
               i);
    }
    unit_switch_collect(&e, 2, N, NULL);
    wait_rx(&e, N, &st);
    assert_int_equal(st.n_lost, 0);
    assert_int_equal(st.n_missed, N);
    assert_true(st.n_port_paused > 0);
    unit_switch_assert_port_idle(&e, 2);
    unit_switch_destroy(&e);
}

static void
test_threaded_end_to_end_conserves_packets(void **state)
{
    struct upcall_config ucfg;
    const unsigned int n_per_port = 2000;
    struct dp_stats st;
    struct unit_switch e;
    char *error = NULL;

    (void)state;
    upcall_config_init(&ucfg);
    env_init(&e, 2, 2, 512, &ucfg);
    add_flow(&e, "priority=10,in_port=1,tcp,actions=output:2");
    add_flow(&e, "priority=10,in_port=2,tcp,actions=output:1");
    (void)error;
    for (unsigned int i = 0; i < n_per_port; i++) {
        inject(&e, 1, 0x0a000001, (uint16_t)(1000 + i % 64),
               (uint16_t)(80 + i % 7), i);
        inject(&e, 2, 0x0a000002, (uint16_t)(3000 + i % 64),
               (uint16_t)(80 + i % 5), i);
    }
    /* Every packet received is a hit, a miss or lost (queue full under
     * this burst); every hit and every miss is forwarded. */
    wait_rx(&e, (uint64_t)2 * n_per_port, &st);
    assert_int_equal(st.n_parse_drop, 0);
    assert_int_equal(st.n_lost, st.n_lost_queue_full + st.n_lost_port_share);
    {
        uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
        uint64_t got = 0;

        /* Hits on a draining flow that found the queue full are lost
         * too, and counted (after the hit). */
        while (got < sent_or_due(&e)) {
            struct dp_packet *pkt = netdev_memory_collect(e.ports[1]);

            if (!pkt) {
                pkt = netdev_memory_collect(e.ports[2]);
            }
            if (pkt) {
                dp_packet_delete(pkt);
                got++;
            } else if (time_msec() > deadline) {
                fail_msg("timeout: sent %llu of %llu", (unsigned long long)got,
                         (unsigned long long)sent_or_due(&e));
            } else {
                unit_pause_briefly();
            }
        }
    }
    dp_get_stats(e.dp, &st);
    assert_int_equal(st.n_rx, st.n_hit + st.n_missed + st.n_lost);
    unit_switch_assert_port_idle(&e, 1);
    unit_switch_assert_port_idle(&e, 2);
    /* Megaflows on in_port and tcp: at most one per input port. */
    assert_true(st.n_flows >= 1 && st.n_flows <= 2);
    /* Each megaflow put exactly once, whichever handler got there. */
    {
        struct upcall_handler_stats h0, h1;

        upcall_get_handler_stats(e.udpif, 0, &h0);
        upcall_get_handler_stats(e.udpif, 1, &h1);
        assert_int_equal(h0.n_puts + h1.n_puts, st.n_flows);
    }
    assert_int_equal(upcall_set_n_handlers(e.udpif, 3), 0);
    unit_switch_destroy(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_installs_megaflow_and_forwards),
        cmocka_unit_test(test_batch_groups_keys_and_puts_each_megaflow_once),
        cmocka_unit_test(
            test_duplicate_upcalls_across_handlers_install_one_flow),
        cmocka_unit_test(test_flow_limit_respected_packets_still_forwarded),
        cmocka_unit_test(test_governor_installs_flow_on_fifth_packet),
        cmocka_unit_test(test_ukey_replaced_when_flow_deleted_mid_dump),
        cmocka_unit_test(test_queue_overflow_counted_as_lost_exactly),
        cmocka_unit_test(test_port_outside_bridge_installs_drop_flow),
        cmocka_unit_test(test_handler_count_change_loses_no_upcall),
        cmocka_unit_test(test_totals_survive_a_handler_count_change),
        cmocka_unit_test(test_controller_flow_is_slow_pathed_and_never_reput),
        cmocka_unit_test(test_batch_preserves_arrival_order_within_flow),
        cmocka_unit_test(test_megaflows_disabled_installs_exact_flows),
        cmocka_unit_test(test_unknown_userspace_cookie_is_counted_and_dropped),
        cmocka_unit_test(test_destroy_counts_upcalls_left_in_queues),
        cmocka_unit_test(test_show_reports_flows_handlers_and_governor),
        cmocka_unit_test(test_megaflow_switch_flushes_every_flow),
        cmocka_unit_test(test_control_commands_show_and_set),
        cmocka_unit_test(test_threaded_order_holds_across_install),
        cmocka_unit_test(
            test_threaded_order_holds_across_install_in_threads_mode),
        cmocka_unit_test(test_idle_datapath_thread_runs_the_handler_batches),
        cmocka_unit_test(
            test_threads_mode_runs_every_batch_in_handler_threads),
        cmocka_unit_test(
            test_burst_beyond_the_queue_waits_in_the_port_not_lost),
        cmocka_unit_test(test_ports_come_and_go_while_idle_work_runs),
        cmocka_unit_test(test_threaded_end_to_end_conserves_packets),
    };

    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_switch_group_teardown);
}
