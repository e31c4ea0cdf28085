/* Unit tests for src/upcall/revalidator.c: revalidator rounds over a real
 * datapath with memory ports and a real bridge.
 *
 * Most tests run the udpif in manual mode: the test injects packets, polls
 * the datapath's counters until the datapath thread has accounted for
 * them (deadline, no sleeps as synchronization), runs handler batches and
 * whole revalidator rounds itself, with the time injected.  Datapath flow
 * statistics carry real time_msec() stamps, so injected times are derived
 * from time_msec().  The threaded tests run 2 revalidator threads next to
 * handler and datapath threads.
 *
 * Pinned: idle expiry exactly after max_idle (and 100 ms above the flow
 * limit, everything above 2 x the limit); rule counters equal the packets
 * sent, also across deletes; an action change modifies every dependent
 * flow in place (same ufid) and the next packet follows the new rule; a
 * mask that became too wide deletes the flow; the too-expensive heuristic;
 * the flow-limit formula for injected dump durations; purge; ukeys of
 * vanished flows dropped after 4 dumps; flows without ukeys adopted and
 * credited; rule idle timeouts revalidate flows away; and with threads,
 * random table churn under traffic ends consistent after
 * upcall_revalidator_wait(); the control commands. */
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
#include "upcall/ukey.h"
#include "upcall/upcall.h"

#define N_PORTS 4 /* All in the bridge, OpenFlow port == datapath port. */

/* A 64-byte TCP ACK from 10.0.0.1 to 10.0.0.2. */
static void
inject(struct unit_switch *e, unsigned int port, uint16_t sport,
       uint16_t dport)
{
    unit_switch_inject_tcp(e, port, 0x0a000001, sport, dport, 0);
}

static void
add_flow(struct unit_switch *e, const char *line)
{
    unit_switch_flow_mod(e, line, FLOW_TEXT_ADD);
}

/* Datapath with 'n_threads' threads and 'n_handlers' queues; bridge with
 * ports 1..N_PORTS.  'ucfg_' NULL: manual mode, defaults.  The governor
 * is off: every miss installs a flow. */
static void
env_init(struct unit_switch *e, unsigned int n_threads,
         unsigned int n_handlers, const struct upcall_config *ucfg_)
{
    struct upcall_config ucfg;
    struct unit_switch_config cfg = {
        .n_threads = n_threads,
        .n_handlers = n_handlers,
        .queue_size = 4096,
        .n_ports = N_PORTS,
        .n_bridge_ports = N_PORTS,
        .upcall = &ucfg,
    };

    unit_switch_upcall_config(&ucfg, ucfg_);
    ucfg.governor = GOVERNOR_FORCE_OFF;
    unit_switch_init(e, &cfg);
}

/* Polls until the datapath has accounted for every packet injected. */
static void
wait_rx(struct unit_switch *e)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
    struct dp_stats st;

    for (;;) {
        dp_get_stats(e->dp, &st);
        if (st.n_rx == e->n_sent
            && st.n_hit + st.n_missed + st.n_lost + st.n_parse_drop
                   == e->n_sent) {
            assert_int_equal(st.n_lost, 0);
            return;
        }
        if (time_msec() > deadline) {
            fail_msg("timeout: rx %llu, want %llu",
                     (unsigned long long)st.n_rx,
                     (unsigned long long)e->n_sent);
        }
        unit_pause_briefly();
    }
}

/* Injects one packet, lets the handlers deal with it at 'now' if it
 * misses, and collects it on 'out_port'. */
static void
send_one(struct unit_switch *e, unsigned int in_port, uint16_t sport,
         uint16_t dport, uint64_t now, unsigned int out_port)
{
    inject(e, in_port, sport, dport);
    wait_rx(e);
    unit_switch_run_handlers(e, now);
    unit_switch_collect(e, out_port, 1, NULL);
}

static size_t
n_ukeys(struct unit_switch *e)
{
    return ukey_map_count(upcall_get_ukeys(e->udpif));
}

static struct upcall_revalidator_stats
rv_stats(struct unit_switch *e)
{
    struct upcall_revalidator_stats st;

    upcall_get_revalidator_stats(e->udpif, &st);
    return st;
}

/* Packets credited to the rule that a tcp packet from port 'in_port' to
 * 'tp_dst' hits in table 0 (0 if none). */
static uint64_t
rule_packets(struct unit_switch *e, unsigned int in_port, uint16_t tp_dst)
{
    uint64_t packets = 0, bytes, used;
    struct rule *rule;
    struct flow f;

    memset(&f, 0, sizeof f);
    f.in_port = in_port;
    f.dl_type = htons(ETH_TYPE_IP);
    f.nw_proto = IPPROTO_TCP_;
    f.tp_dst = htons(tp_dst);
    rcu_read_begin();
    rule = ofproto_table_lookup(e->ofp, 0, &f, NULL);
    if (rule) {
        ofproto_rule_get_stats(rule, &packets, &bytes, &used);
    }
    rcu_read_end();
    return packets;
}

/* Stores the ufids of every datapath flow (at most 'max'); returns how
 * many. */
static size_t
dump_ufids(struct unit_switch *e, struct dp_ufid *ufids, size_t max)
{
    struct dp_flow_dump *dump = dp_flow_dump_create(e->dp);
    struct dp_flow_info info;
    size_t n = 0;

    while (dp_flow_dump_next(dump, &info, 1)) {
        if (n < max) {
            ufids[n++] = info.ufid;
        }
        dp_flow_info_uninit(&info);
    }
    dp_flow_dump_destroy(dump);
    return n;
}

static void
assert_consistent(struct unit_switch *e)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    if (upcall_check_consistency(e->udpif, &s)) {
        fail_msg("stale flows:\n%s", ds_cstr(&s));
    }
    ds_destroy(&s);
}

/* The actions of the flow 'ufid', as text. */
static void
flow_actions(struct unit_switch *e, const struct dp_ufid *ufid, struct ds *s)
{
    struct dp_flow_info info;

    assert_int_equal(dp_flow_get(e->dp, ufid, &info), 0);
    dp_actions_format(info.actions, s);
    dp_flow_info_uninit(&info);
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_idle_flow_expires_after_max_idle_and_not_before(void **state)
{
    uint64_t t0 = time_msec() - 5000, used;
    struct upcall_config ucfg;
    struct dp_flow_info info;
    struct dp_ufid ufids[2];
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.manual = true;
    ucfg.max_idle = 1000;
    env_init(&e, 1, 1, &ucfg);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=81,actions=output:2");
    send_one(&e, 1, 1000, 80, t0, 2);
    send_one(&e, 1, 1000, 81, t0, 2);
    assert_int_equal(unit_switch_n_flows(&e), 2);

    /* The flow for port 81 is hit now, at real time 'used' > t0. */
    inject(&e, 1, 1001, 81);
    wait_rx(&e);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(dump_ufids(&e, ufids, 2), 2);
    used = 0;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(dp_flow_get(e.dp, &ufids[i], &info), 0);
        used = MAX(used, info.stats.used);
        dp_flow_info_uninit(&info);
    }
    assert_true(used > t0 + 1001);

    /* Never hit: idle since its creation. */
    upcall_revalidate(e.udpif, t0 + 1000);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    upcall_revalidate(e.udpif, t0 + 1001);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(n_ukeys(&e), 1);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_IDLE], 1);

    /* Hit: idle since its last packet. */
    upcall_revalidate(e.udpif, used + 1000);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    upcall_revalidate(e.udpif, used + 1001);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(n_ukeys(&e), 0);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_IDLE], 2);
    assert_int_equal(rv_stats(&e).n_deleted_total, 2);
    /* Its hit was credited when it went. */
    assert_int_equal(rule_packets(&e, 1, 81), 2);
    unit_switch_destroy(&e);
}

static void
test_over_the_flow_limit_idle_means_100ms(void **state)
{
    uint64_t t0 = time_msec();
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=81,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=82,actions=output:2");
    send_one(&e, 1, 1000, 80, t0, 2);
    send_one(&e, 1, 1000, 81, t0, 2);
    assert_int_equal(unit_switch_n_flows(&e), 2);

    /* 2 flows over a limit of 1 (but not over 2 x 1). */
    upcall_set_flow_limit(e.udpif, 1);
    upcall_revalidate(e.udpif, t0 + 100);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    upcall_revalidate(e.udpif, t0 + 101);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_FLOW_LIMIT], 2);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_IDLE], 0);

    /* 3 flows over 2 x 2: every flow goes at once, busy or not. */
    upcall_set_flow_limit(e.udpif, 3);
    send_one(&e, 1, 1000, 80, t0 + 200, 2);
    send_one(&e, 1, 1000, 81, t0 + 200, 2);
    send_one(&e, 1, 1000, 82, t0 + 200, 2);
    assert_int_equal(unit_switch_n_flows(&e), 3);
    upcall_set_flow_limit(e.udpif, 1);
    upcall_revalidate(e.udpif, t0 + 201);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(n_ukeys(&e), 0);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_FLOW_LIMIT], 5);
    unit_switch_destroy(&e);
}

/* Installs 'n' exact-match flows (source ports 'sport' on) at 'now'. */
static void
install_exact_flows(struct unit_switch *e, uint16_t sport, unsigned int n,
                    uint64_t now)
{
    for (unsigned int i = 0; i < n; i++) {
        inject(e, 1, (uint16_t)(sport + i), 80);
    }
    wait_rx(e);
    unit_switch_run_handlers(e, now);
    unit_switch_collect(e, 2, n, NULL);
}

/* The over-limit decisions follow the flow count as the round's own
 * deletes bring it down (read for every batch here), not the count at the
 * round's start: above 2 x the limit, busy flows go only until the count
 * is back under it; above the limit, flows idle over 100 ms (but not
 * max_idle) go only until it is back under the limit. */
static void
test_over_limit_decisions_follow_the_current_flow_count(void **state)
{
    uint64_t kill = coverage_read("upcall_flow_limit_kill");
    uint64_t t0 = time_msec();
    struct upcall_config ucfg;
    uint64_t left;
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.manual = true;
    ucfg.megaflows = false;
    env_init(&e, 1, 1, &ucfg);
    upcall_set_flow_sample_interval(e.udpif, 0);
    add_flow(&e, "priority=10,tcp,actions=output:2");

    /* 160 busy flows over 2 x 50: batches of 50 go while the count is
     * above 100, then the rest stay. */
    install_exact_flows(&e, 1000, 160, t0);
    upcall_set_flow_limit(e.udpif, 50);
    upcall_revalidate(e.udpif, t0);
    left = unit_switch_n_flows(&e);
    assert_int_equal(left, 60);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_FLOW_LIMIT], 100);
    assert_int_equal(coverage_read("upcall_flow_limit_kill") - kill, 2);
    assert_int_equal(n_ukeys(&e), left);

    /* 80 flows over 50, but not over 2 x 50, idle for 150 ms: a batch
     * of 50 goes; the other 30 are then under the limit and wait for
     * max_idle. */
    upcall_purge(e.udpif);
    upcall_set_flow_limit(e.udpif, 1000);
    install_exact_flows(&e, 2000, 80, time_msec());
    assert_int_equal(unit_switch_n_flows(&e), 80);
    t0 = time_msec(); /* The flows' last use is no later. */
    upcall_set_flow_limit(e.udpif, 50);
    upcall_revalidate(e.udpif, t0 + 150);
    assert_int_equal(unit_switch_n_flows(&e), 30);
    upcall_revalidate(e.udpif, t0 + 151);
    assert_int_equal(unit_switch_n_flows(&e), 30);
    unit_switch_destroy(&e);
}

/* Sends 'n' packets over the flows for tp_dst 80 and 81 from port 1: the
 * first of each misses, the rest hit. */
static void
send_phase(struct unit_switch *e, uint16_t sport_base, unsigned int n,
           uint64_t now)
{
    send_one(e, 1, sport_base, 80, now, 2);
    send_one(e, 1, sport_base, 81, now, 2);
    for (unsigned int i = 2; i < n; i++) {
        inject(e, 1, (uint16_t)(sport_base + i), (uint16_t)(80 + i % 2));
    }
    wait_rx(e);
    unit_switch_run_handlers(e, now);
    unit_switch_collect(e, 2, n - 2, NULL);
}

static uint64_t
rule_total(struct unit_switch *e)
{
    return rule_packets(e, 1, 80) + rule_packets(e, 1, 81);
}

static void
test_rule_counters_equal_packets_sent(void **state)
{
    uint64_t now = time_msec();
    struct dp_stats st;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=81,actions=output:2");

    send_phase(&e, 1000, 40, now);
    dp_get_stats(e.dp, &st);
    assert_int_equal(st.n_hit, 38);
    /* The misses are credited by the handlers, the hits by a round. */
    assert_int_equal(rule_total(&e), 2);
    upcall_revalidate(e.udpif, now);
    assert_int_equal(rule_total(&e), 40);
    /* Nothing is credited twice. */
    upcall_revalidate(e.udpif, now + 1);
    assert_int_equal(rule_total(&e), 40);

    /* More hits, then every flow deleted mid-way (idle at an injected
     * time): the final statistics are credited. */
    for (unsigned int i = 0; i < 30; i++) {
        inject(&e, 1, (uint16_t)(2000 + i), (uint16_t)(80 + i % 2));
    }
    wait_rx(&e);
    unit_switch_collect(&e, 2, 30, NULL);
    upcall_revalidate(e.udpif, time_msec() + 20000);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_IDLE], 2);
    assert_int_equal(rule_total(&e), 70);

    /* Installed again; hits; then purged. */
    now = time_msec();
    send_phase(&e, 3000, 50, now);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    upcall_purge(e.udpif);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(rule_total(&e), 120);
    assert_int_equal(rule_total(&e), e.n_sent);
    unit_switch_destroy(&e);
}

static void
test_action_change_modifies_every_dependent_flow(void **state)
{
    uint64_t now = time_msec();
    struct upcall_revalidator_stats rs;
    struct dp_ufid ufids[4];
    struct ds s = DS_EMPTY_INITIALIZER;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    /* One megaflow per input port, all from the same rule. */
    send_one(&e, 1, 1000, 80, now, 2);
    send_one(&e, 3, 1000, 80, now, 2);
    inject(&e, 1, 1001, 80);
    wait_rx(&e);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(dump_ufids(&e, ufids, 4), 2);
    upcall_revalidate(e.udpif, now);
    assert_int_equal(rv_stats(&e).n_modified, 0);

    unit_switch_flow_mod(&e, "tcp,actions=output:4", FLOW_TEXT_MODIFY);
    upcall_revalidate(e.udpif, now + 1);
    rs = rv_stats(&e);
    assert_int_equal(rs.n_modified, 2);
    assert_int_equal(rs.n_deleted_total, 0);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    assert_int_equal(n_ukeys(&e), 2);
    /* Same flows (same ufids), new actions. */
    for (size_t i = 0; i < 2; i++) {
        ds_clear(&s);
        flow_actions(&e, &ufids[i], &s);
        assert_string_equal(ds_cstr(&s), "4");
    }
    assert_consistent(&e);

    /* The next packet hits the modified flow and follows the new rule. */
    inject(&e, 1, 1002, 80);
    wait_rx(&e);
    assert_int_equal(unit_switch_run_handlers(&e, now + 2), 0);
    unit_switch_collect(&e, 4, 1, NULL);
    unit_switch_assert_port_idle(&e, 2);
    /* The counter survived the modify: 3 packets from port 1 and 1 from
     * port 3, once the last hit is credited. */
    upcall_revalidate(e.udpif, now + 3);
    assert_int_equal(rule_packets(&e, 1, 80), 4);
    assert_int_equal(rv_stats(&e).n_modified, 2);
    ds_destroy(&s);
    unit_switch_destroy(&e);
}

static void
test_flow_whose_mask_became_too_wide_is_deleted(void **state)
{
    uint64_t now = time_msec();
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    send_one(&e, 1, 1000, 80, now, 2);
    upcall_revalidate(e.udpif, now);
    assert_int_equal(unit_switch_n_flows(&e), 1);

    /* The megaflow does not look at tp_dst; the tables now do. */
    add_flow(&e, "priority=20,tcp,tp_dst=80,actions=output:3");
    upcall_revalidate(e.udpif, now + 1);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(n_ukeys(&e), 0);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_MASK_TOO_WIDE], 1);

    send_one(&e, 1, 1001, 80, now + 2, 3);
    send_one(&e, 1, 1002, 81, now + 2, 2);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    assert_consistent(&e);
    unit_switch_destroy(&e);
}

static void
test_slow_dump_deletes_quiet_flows_instead_of_translating(void **state)
{
    uint64_t t0 = time_msec(), now1;
    struct upcall_revalidator_stats rs;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=81,actions=output:2");
    send_one(&e, 1, 1000, 80, t0, 2);
    send_one(&e, 1, 1000, 81, t0, 2);

    /* A dump that "took" 300 ms. */
    upcall_set_dump_duration_override(e.udpif, 300);
    now1 = time_msec();
    upcall_revalidate(e.udpif, now1);
    assert_int_equal(rv_stats(&e).last_dump_duration, 300);
    for (unsigned int i = 0; i < 20; i++) {
        inject(&e, 1, (uint16_t)(2000 + i), 81);
    }
    wait_rx(&e);
    unit_switch_collect(&e, 2, 20, NULL);

    /* A table change: the flow for 80 saw 0 packets/s, the one for 81 20
     * packets/s over the last second. */
    ofproto_bump_change_seq(e.ofp);
    upcall_revalidate(e.udpif, now1 + 1000);
    rs = rv_stats(&e);
    assert_int_equal(rs.n_deleted[UPCALL_DEL_TOO_EXPENSIVE], 1);
    assert_int_equal(rs.n_deleted_total, 1);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(rule_packets(&e, 1, 81), 21);

    /* A fast dump: the next change re-translates whatever the rate. */
    upcall_set_dump_duration_override(e.udpif, 10);
    upcall_revalidate(e.udpif, now1 + 1001);
    ofproto_bump_change_seq(e.ofp);
    upcall_revalidate(e.udpif, now1 + 3000);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(rv_stats(&e).n_deleted_total, 1);
    unit_switch_destroy(&e);
}

/* Installs 'n' flows by hand for port 1 (drop, exact on nw_src and, as
 * every megaflow translation makes, on recirc_id). */
static void
put_flows_by_hand(struct unit_switch *e, unsigned int n)
{
    struct dp_actions *drop = dp_actions_create_drop();

    for (unsigned int i = 0; i < n; i++) {
        struct match m;

        match_init_catchall(&m);
        m.flow.in_port = 1;
        m.wc.masks.in_port = UINT32_MAX;
        m.wc.masks.recirc_id = UINT32_MAX;
        m.flow.nw_src = htonl(0x0b000000 + i);
        m.wc.masks.nw_src = UINT32_MAX;
        assert_int_equal(
            dp_flow_put(e->dp, &m, drop, DP_FLOW_PUT_CREATE, NULL, NULL), 0);
    }
    dp_actions_unref(drop);
}

static size_t
round_with_duration(struct unit_switch *e, uint64_t now, uint64_t duration)
{
    upcall_set_dump_duration_override(e->udpif, duration);
    upcall_revalidate(e->udpif, now);
    return upcall_get_flow_limit(e->udpif);
}

static void
test_flow_limit_follows_the_formula(void **state)
{
    uint64_t slow = coverage_read("revalidator_slow_dump");
    uint64_t now = time_msec();
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    put_flows_by_hand(&e, 50);
    assert_int_equal(upcall_get_flow_limit(e.udpif), 10000);

    /* Slow: divided by the seconds, then 3/4, then unchanged. */
    assert_int_equal(round_with_duration(&e, now, 3000), 3333);
    assert_int_equal(round_with_duration(&e, now, 1500), 2499);
    assert_int_equal(round_with_duration(&e, now, 1300), 2499);
    assert_int_equal(round_with_duration(&e, now, 1000), 2499);
    /* Fast: +1000 while limit < flows * 1000 / duration (50 flows in
     * 10 ms: 5000/s), however few flows there are. */
    assert_int_equal(round_with_duration(&e, now, 10), 3499);
    assert_int_equal(round_with_duration(&e, now, 10), 4499);
    assert_int_equal(round_with_duration(&e, now, 10), 5499);
    assert_int_equal(round_with_duration(&e, now, 10), 5499);
    assert_int_equal(round_with_duration(&e, now, 0), 6499);
    /* Clamped at 1000 after a very slow dump, and grows back. */
    assert_int_equal(round_with_duration(&e, now, 20000), 1000);
    assert_int_equal(round_with_duration(&e, now, 10), 2000);
    assert_int_equal(round_with_duration(&e, now, 10), 3000);
    assert_int_equal(coverage_read("revalidator_slow_dump") - slow, 2);
    /* Clamped at the maximum. */
    upcall_set_flow_limit(e.udpif, 3500);
    assert_int_equal(round_with_duration(&e, now, 10), 3500);
    assert_int_equal(rv_stats(&e).last_dump_duration, 10);
    /* The hand-made flows stayed (adopted, consistent, not idle). */
    assert_int_equal(unit_switch_n_flows(&e), 50);
    assert_int_equal(n_ukeys(&e), 50);
    assert_int_equal(rv_stats(&e).n_rounds, 13);
    unit_switch_destroy(&e);
}

static void
test_purge_leaves_no_flow_and_no_ukey(void **state)
{
    uint64_t now = time_msec();
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=81,actions=output:2");
    send_phase(&e, 1000, 10, now);
    put_flows_by_hand(&e, 3);
    assert_int_equal(unit_switch_n_flows(&e), 5);
    assert_int_equal(n_ukeys(&e), 2);

    upcall_purge(e.udpif);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(n_ukeys(&e), 0);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_PURGE], 5);
    assert_int_equal(rule_total(&e), 10);
    unit_switch_destroy(&e);
}

static void
test_ukey_of_vanished_flow_dropped_after_four_dumps(void **state)
{
    uint64_t missed = coverage_read("revalidate_missed_dp_flow");
    uint64_t now = time_msec();
    struct dp_ufid ufid;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    send_one(&e, 1, 1000, 80, now, 2);
    upcall_revalidate(e.udpif, now);
    assert_int_equal(dump_ufids(&e, &ufid, 1), 1);
    assert_int_equal(dp_flow_del(e.dp, &ufid, NULL), 0);

    for (unsigned int i = 1; i <= 3; i++) {
        upcall_revalidate(e.udpif, now + i);
        assert_int_equal(n_ukeys(&e), 1);
    }
    upcall_revalidate(e.udpif, now + 4);
    assert_int_equal(n_ukeys(&e), 0);
    /* Each sweep re-checked it (Open vSwitch's name). */
    assert_int_equal(coverage_read("revalidate_missed_dp_flow") - missed, 4);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_MISSING], 1);
    assert_int_equal(rv_stats(&e).n_deleted_total, 1);

    /* The flow can be installed again. */
    send_one(&e, 1, 1001, 80, now + 5, 2);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    unit_switch_destroy(&e);
}

/* dpctl/del-flows (dp_flow_flush()) deletes the flows behind the
 * revalidators' back: the packets the flows counted since the last round
 * still reach the rules, and the next packet of each flow installs it
 * again at once instead of being refused as a duplicate until the ukey is
 * dropped four dumps later. */
static void
test_flushed_flows_reinstall_at_once_and_lose_no_count(void **state)
{
    uint64_t repl = coverage_read("upcall_ukey_replace");
    uint64_t now = time_msec();
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,tp_dst=80,actions=output:2");
    add_flow(&e, "priority=10,tcp,tp_dst=443,actions=output:2");
    send_one(&e, 1, 1000, 80, now, 2);
    send_one(&e, 1, 1000, 443, now, 2);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    for (unsigned int i = 0; i < 5; i++) {
        inject(&e, 1, 1000, 80);
        inject(&e, 1, 1000, 443);
    }
    wait_rx(&e);
    unit_switch_collect(&e, 2, 10, NULL);
    assert_int_equal(rule_packets(&e, 1, 80), 1); /* No round yet. */

    assert_int_equal(dp_flow_flush(e.dp), 2);
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(rule_packets(&e, 1, 80), 6);
    assert_int_equal(rule_packets(&e, 1, 443), 6);

    /* No round in between: the next packet reinstalls each flow. */
    send_one(&e, 1, 1000, 80, now + 1, 2);
    send_one(&e, 1, 1000, 443, now + 1, 2);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    assert_int_equal(coverage_read("upcall_ukey_replace") - repl, 2);
    assert_int_equal(n_ukeys(&e), 2);

    /* And from then on every packet is counted once. */
    for (unsigned int i = 0; i < 3; i++) {
        inject(&e, 1, 1000, 80);
        inject(&e, 1, 1000, 443);
    }
    wait_rx(&e);
    unit_switch_collect(&e, 2, 6, NULL);
    upcall_revalidate(e.udpif, now + 2);
    assert_int_equal(unit_switch_n_flows(&e), 2);
    upcall_purge(e.udpif);
    assert_int_equal(rule_packets(&e, 1, 80), 10);
    assert_int_equal(rule_packets(&e, 1, 443), 10);
    assert_int_equal(rv_stats(&e).n_deleted[UPCALL_DEL_MISSING], 2);
    unit_switch_destroy(&e);
}

static void
test_flow_without_ukey_is_adopted_and_credited(void **state)
{
    uint64_t adopted = coverage_read("revalidator_flow_adopted");
    uint64_t now = time_msec();
    struct ukey_map *map;
    struct dp_ufid ufid;
    struct ukey *ukey;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    send_one(&e, 1, 1000, 80, now, 2);

    /* Forget the ukey, as after a restart. */
    map = upcall_get_ukeys(e.udpif);
    assert_int_equal(dump_ufids(&e, &ufid, 1), 1);
    rcu_read_begin();
    ukey = ukey_lookup(map, &ufid, NULL);
    assert_non_null(ukey);
    ukey_remove(map, ukey);
    rcu_read_end();
    assert_int_equal(n_ukeys(&e), 0);

    for (unsigned int i = 0; i < 5; i++) {
        inject(&e, 1, (uint16_t)(2000 + i), 80);
    }
    wait_rx(&e);
    unit_switch_collect(&e, 2, 5, NULL);
    upcall_revalidate(e.udpif, now + 1);
    assert_int_equal(coverage_read("revalidator_flow_adopted") - adopted, 1);
    assert_int_equal(n_ukeys(&e), 1);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    assert_int_equal(rule_packets(&e, 1, 80), 6);
    upcall_revalidate(e.udpif, now + 2);
    assert_int_equal(rule_packets(&e, 1, 80), 6);
    assert_int_equal(rv_stats(&e).n_modified, 0);
    unit_switch_destroy(&e);
}

static void
test_rule_idle_timeout_revalidates_its_flows_away(void **state)
{
    uint64_t t0 = time_msec(), used;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct dp_flow_info info;
    struct dp_ufid ufid;
    char *error = NULL;
    struct unit_switch e;

    (void)state;
    env_init(&e, 1, 1, NULL);
    assert_int_equal(ofproto_flow_mod_str_at(e.ofp,
                                             "priority=10,idle_timeout=2,tcp,"
                                             "actions=output:2",
                                             FLOW_TEXT_ADD, t0, &error),
                     0);
    send_one(&e, 1, 1000, 80, t0, 2);
    inject(&e, 1, 1001, 80);
    wait_rx(&e);
    unit_switch_collect(&e, 2, 1, NULL);
    assert_int_equal(dump_ufids(&e, &ufid, 1), 1);
    assert_int_equal(dp_flow_get(e.dp, &ufid, &info), 0);
    used = info.stats.used;
    dp_flow_info_uninit(&info);

    /* The hit, credited by a round, keeps the rule alive... */
    upcall_revalidate(e.udpif, used);
    upcall_revalidate(e.udpif, used + 1999);
    assert_int_equal(ofproto_n_rules(e.ofp), 1);
    /* ...until 2 s after it. */
    upcall_revalidate(e.udpif, used + 2000);
    assert_int_equal(ofproto_n_rules(e.ofp), 0);
    assert_int_equal(rv_stats(&e).n_modified, 1);
    flow_actions(&e, &ufid, &s);
    assert_string_equal(ds_cstr(&s), "drop");
    assert_consistent(&e);
    ds_destroy(&s);
    unit_switch_destroy(&e);
}

/* ---- Threads ------------------------------------------------------------ */

/* Polls until the handlers have handled every upcall the datapath queued
 * (their puts included). */
static void
wait_handlers_idle(struct unit_switch *e)
{
    struct dp_stats st;

    unit_switch_wait_handlers_idle(e, &st);
}

static void
random_flow_mod(struct unit_switch *e, unsigned int *seed)
{
    static const char *const actions[] = {
        "output:2",
        "output:3",
        "drop",
        "mod_tp_dst:99,output:2",
        "output:2,output:3",
        "mod_nw_tos:4,output:4",
    };
    unsigned int dport = 80 + (unsigned int)rand_r(seed) % 8;
    unsigned int prio = 10 + (unsigned int)rand_r(seed) % 3;
    const char *a = actions[(unsigned int)rand_r(seed) % ARRAY_SIZE(actions)];
    char line[128];

    switch (rand_r(seed) % 4) {
    case 0:
    case 1:
        snprintf(line, sizeof line, "priority=%u,tcp,tp_dst=%u,actions=%s",
                 prio, dport, a);
        unit_switch_flow_mod(e, line, FLOW_TEXT_ADD);
        break;
    case 2:
        snprintf(line, sizeof line, "tcp,tp_dst=%u,actions=%s", dport, a);
        unit_switch_flow_mod(e, line, FLOW_TEXT_MODIFY);
        break;
    default:
        snprintf(line, sizeof line, "tcp,tp_dst=%u", dport);
        unit_switch_flow_mod(e, line, FLOW_TEXT_DELETE);
        break;
    }
}

/* A flush while the switch forwards (threads: datapath, handlers in
 * 'mode', revalidators paused so that no sweep helps): every flow comes
 * back on its next packets, and the rule counts every packet once. */
static void
check_flush_under_traffic(enum upcall_mode mode)
{
    enum { N_FLOWS = 32, N_ROUNDS = 20 };
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
    struct upcall_config ucfg;
    struct unit_switch e;

    upcall_config_init(&ucfg);
    ucfg.mode = mode;
    ucfg.megaflows = false; /* One datapath flow per source port. */
    ucfg.n_revalidators = 1;
    env_init(&e, 1, 2, &ucfg);
    add_flow(&e, "priority=10,tcp,actions=output:2");
    upcall_revalidators_pause(e.udpif);
    for (unsigned int r = 0; r < N_ROUNDS; r++) {
        if (r == N_ROUNDS / 2) {
            dp_flow_flush(e.dp);
        }
        for (uint16_t f = 0; f < N_FLOWS; f++) {
            inject(&e, 1, (uint16_t)(1000 + f), 80);
        }
    }
    wait_rx(&e);
    wait_handlers_idle(&e);
    /* The flows whose packets after the flush all came before the
     * handlers reinstalled them get one more packet each. */
    for (uint16_t f = 0; f < N_FLOWS; f++) {
        inject(&e, 1, (uint16_t)(1000 + f), 80);
    }
    wait_rx(&e);
    while (unit_switch_n_flows(&e) < N_FLOWS) {
        if (time_msec() > deadline) {
            fail_msg("%s mode: %llu of %d flows back after the flush",
                     upcall_mode_to_string(mode),
                     (unsigned long long)unit_switch_n_flows(&e), N_FLOWS);
        }
        unit_pause_briefly();
    }
    wait_handlers_idle(&e);
    upcall_purge(e.udpif);
    assert_int_equal(rule_packets(&e, 1, 80), e.n_sent);
    upcall_revalidators_resume(e.udpif);
    unit_switch_drain_ports(&e);
    unit_switch_destroy(&e);
}

static void
test_flush_under_traffic_reinstalls_and_counts_every_packet(void **state)
{
    (void)state;
    check_flush_under_traffic(UPCALL_MODE_AUTO);
    check_flush_under_traffic(UPCALL_MODE_THREADS);
}

static void
test_threaded_churn_ends_consistent(void **state)
{
    struct upcall_config ucfg;
    unsigned int seed = 6;
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.n_revalidators = 2;
    ucfg.max_revalidator = 5; /* A round every 5 ms during the churn. */
    env_init(&e, 2, 2, &ucfg);
    assert_int_equal(upcall_n_revalidators(e.udpif), 2);
    add_flow(&e, "priority=1,tcp,actions=output:2");
    for (unsigned int step = 0; step < 60; step++) {
        random_flow_mod(&e, &seed);
        if (step % 20 == 10) {
            /* Exact-match flows for a while: many more flows. */
            upcall_set_megaflows(e.udpif, !upcall_get_megaflows(e.udpif));
        }
        for (unsigned int i = 0; i < 48; i++) {
            unsigned int port = 1 + (unsigned int)rand_r(&seed) % 2;

            inject(&e, port, (uint16_t)(1000 + rand_r(&seed) % 64),
                   (uint16_t)(80 + rand_r(&seed) % 8));
        }
        if (step % 2) {
            /* A round while the handlers still work on this traffic. */
            upcall_revalidator_wait(e.udpif);
        }
        if (step % 8 == 7) {
            wait_rx(&e);
            unit_switch_drain_ports(&e);
        }
    }
    wait_rx(&e);
    wait_handlers_idle(&e);
    upcall_revalidator_wait(e.udpif);
    assert_consistent(&e);
    assert_true(rv_stats(&e).n_rounds >= 31);
    assert_true(n_ukeys(&e) == unit_switch_n_flows(&e));

    /* A change of the thread count keeps them working. */
    assert_int_equal(upcall_set_n_revalidators(e.udpif, 1), 0);
    assert_int_equal(upcall_set_n_revalidators(e.udpif, 0), EINVAL);
    random_flow_mod(&e, &seed);
    upcall_revalidator_wait(e.udpif);
    assert_consistent(&e);
    unit_switch_drain_ports(&e);
    unit_switch_destroy(&e);
}

/* Barriers (ofproto.h "Cache sync"): the bridge hears that the cache is
 * in sync with a change only from a round that began after it, and then
 * no cached flow is stale. */
static void
test_cache_in_sync_only_after_a_round_covers_the_change(void **state)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
    struct upcall_config ucfg;
    struct ds stale = DS_EMPTY_INITIALIZER;
    struct unit_switch e;
    uint64_t target;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.n_revalidators = 1;
    ucfg.max_revalidator = 600000; /* Rounds on table changes only. */
    env_init(&e, 1, 1, &ucfg);
    add_flow(&e, "priority=1,tcp,actions=output:2");
    inject(&e, 1, 1000, 80);
    wait_rx(&e);
    wait_handlers_idle(&e);
    upcall_revalidator_wait(e.udpif);
    assert_true(ofproto_cache_is_synced(e.ofp, ofproto_get_change_seq(e.ofp)));
    assert_int_equal(unit_switch_n_flows(&e), 1);

    upcall_revalidators_pause(e.udpif);
    add_flow(&e, "priority=1,tcp,actions=output:3");
    target = ofproto_get_change_seq(e.ofp);
    assert_false(ofproto_cache_is_synced(e.ofp, target));
    assert_int_equal(upcall_check_consistency(e.udpif, &stale), 1);
    ds_destroy(&stale);

    upcall_revalidators_resume(e.udpif);
    while (!ofproto_cache_is_synced(e.ofp, target)) {
        if (time_msec() > deadline) {
            fail_msg("timeout: no round reported the change");
        }
        unit_pause_briefly();
    }
    assert_consistent(&e);
    unit_switch_drain_ports(&e);
    unit_switch_destroy(&e);
}

static char *
transact(const char *path, const char *cmd, bool expect_ok)
{
    const char *argv[] = {cmd};
    char *result = NULL, *error = NULL;

    assert_int_equal(
        control_transact(path, 1, argv, UNIT_DEADLINE_MS, &result, &error), 0);
    if (expect_ok && !result) {
        fail_msg("%s: %s", cmd, error);
    }
    if (!expect_ok && !error) {
        fail_msg("%s succeeded: %s", cmd, result);
    }
    free(expect_ok ? error : result);
    return expect_ok ? result : error;
}

static void
test_control_commands(void **state)
{
    char dir[] = "/tmp/fs-reval-XXXXXX";
    struct upcall_config ucfg;
    struct control_server *server;
    uint64_t rounds;
    char *error = NULL, *text;
    char path[64];
    struct unit_switch e;

    (void)state;
    upcall_config_init(&ucfg);
    ucfg.n_revalidators = 2;
    env_init(&e, 1, 1, &ucfg);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ctl", dir);
    assert_int_equal(control_server_create(path, &server, &error), 0);

    add_flow(&e, "priority=10,tcp,actions=output:2");
    inject(&e, 1, 1000, 80);
    wait_rx(&e);
    unit_switch_collect(&e, 2, 1, NULL);
    wait_handlers_idle(&e);

    free(transact(path, "revalidator/wait", true));
    rounds = rv_stats(&e).n_rounds;
    assert_true(rounds >= 1);
    text = transact(path, "revalidator/check", true);
    assert_string_equal(text, "consistent: 1 flows checked\n");
    free(text);

    text = transact(path, "upcall/show", true);
    assert_non_null(
        strstr(text, "system@br0:\n  flows         : (current 1)"));
    assert_non_null(strstr(text, "  ufid enabled : true\n\n  0: (keys "));
    assert_non_null(strstr(text, "  1: (keys "));
    assert_non_null(strstr(text, "(mask too wide 0)"));
    free(text);

    /* Paused: no round; a wait still answers after resume. */
    free(transact(path, "revalidator/pause", true));
    rounds = rv_stats(&e).n_rounds;
    upcall_set_max_revalidator(e.udpif, 5);
    add_flow(&e, "priority=20,tcp,tp_dst=80,actions=output:3");
    text = transact(path, "revalidator/check", false);
    assert_non_null(strstr(text, "inconsistent: 1 of 1 flows stale\n"));
    assert_non_null(strstr(text, "installed mask too wide"));
    free(text);
    assert_int_equal(rv_stats(&e).n_rounds, rounds);
    free(transact(path, "revalidator/resume", true));
    free(transact(path, "revalidator/wait", true));
    text = transact(path, "revalidator/check", true);
    assert_string_equal(text, "consistent: 0 flows checked\n");
    free(text);

    send_one(&e, 1, 1001, 80, time_msec(), 3);
    wait_handlers_idle(&e);
    assert_int_equal(unit_switch_n_flows(&e), 1);
    free(transact(path, "revalidator/purge", true));
    assert_int_equal(unit_switch_n_flows(&e), 0);
    assert_int_equal(n_ukeys(&e), 0);

    control_server_destroy(server);
    rmdir(dir);
    unit_switch_destroy(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_flow_expires_after_max_idle_and_not_before),
        cmocka_unit_test(test_over_the_flow_limit_idle_means_100ms),
        cmocka_unit_test(
            test_over_limit_decisions_follow_the_current_flow_count),
        cmocka_unit_test(test_rule_counters_equal_packets_sent),
        cmocka_unit_test(test_action_change_modifies_every_dependent_flow),
        cmocka_unit_test(test_flow_whose_mask_became_too_wide_is_deleted),
        cmocka_unit_test(
            test_slow_dump_deletes_quiet_flows_instead_of_translating),
        cmocka_unit_test(test_flow_limit_follows_the_formula),
        cmocka_unit_test(test_purge_leaves_no_flow_and_no_ukey),
        cmocka_unit_test(test_ukey_of_vanished_flow_dropped_after_four_dumps),
        cmocka_unit_test(
            test_flushed_flows_reinstall_at_once_and_lose_no_count),
        cmocka_unit_test(test_flow_without_ukey_is_adopted_and_credited),
        cmocka_unit_test(test_rule_idle_timeout_revalidates_its_flows_away),
        cmocka_unit_test(
            test_flush_under_traffic_reinstalls_and_counts_every_packet),
        cmocka_unit_test(test_threaded_churn_ends_consistent),
        cmocka_unit_test(
            test_cache_in_sync_only_after_a_round_covers_the_change),
        cmocka_unit_test(test_control_commands),
    };

    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_switch_group_teardown);
}
