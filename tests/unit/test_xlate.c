/* Unit tests for src/ofproto/xlate.c and ofproto/trace: every action's
 * datapath actions and megaflow, the masks of the classic megaflow cases,
 * NORMAL, the xlate cache, ofproto/trace's output, and a randomized
 * soundness test of the megaflow masks.
 *
 * The expected strings come from Open vSwitch 3.1's ofproto/trace on the
 * same rules (/work/shared/tools/ovs-sandbox.sh), translated to our
 * datapath action syntax; where ours differs on purpose the test says so.
 *
 * XLATE_SOAK=N multiplies the randomized iterations; XLATE_SEED=S changes
 * the seed. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>

#include "datapath/dp-actions.h"
#include "flow/flow-text.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "ofproto/mac-learning.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "unit-rcu.h"
#include "unit-switch.h"

/* ---- Helpers ------------------------------------------------------------ */

/* A bridge with ports 1, 2, 3 (datapath ports 1, 2, 3) and LOCAL
 * (datapath port 100), as the OVS sandbox's br0. */
static struct ofproto *
make_bridge(void)
{
    struct ofproto *ofp = unit_bridge();
    char *error = NULL;

    assert_int_equal(ofproto_port_add(ofp, OFPP_LOCAL, 100, "br0", &error), 0);
    return ofp;
}

static void
add_flows(struct ofproto *ofp, const char *const *lines)
{
    for (; *lines; lines++) {
        char *error = NULL;
        int rc = ofproto_flow_mod_str(ofp, *lines, FLOW_TEXT_ADD, &error);

        if (rc) {
            fail_msg("add-flow \"%s\": %s", *lines, error);
        }
    }
}

static struct flow
parse_flow(const char *s)
{
    struct match match;
    char *error = NULL;

    if (match_from_string(s, &match, &error)) {
        fail_msg("flow \"%s\": %s", s, error);
    }
    return match.flow;
}

struct result {
    char actions[512];
    char megaflow[512];
    uint32_t slow;
    enum xlate_error error;
};

static struct result
xlate_flow_full(struct ofproto *ofp, const struct flow *flow, bool learn,
                uint64_t now, struct xlate_cache *xc)
{
    struct ds a = DS_EMPTY_INITIALIZER, m = DS_EMPTY_INITIALIZER;
    struct xlate_out xout;
    struct xlate_in xin;
    struct result r;
    struct match mf;

    xlate_in_init(&xin, ofp, flow);
    xin.may_learn = learn;
    xin.now = now;
    xin.xcache = xc;
    xlate_actions(&xin, &xout);
    dp_actions_format(xout.actions, &a);
    match_init(&mf, flow, &xout.wc);
    match_format(&mf, -1, &m);
    snprintf(r.actions, sizeof r.actions, "%s", ds_cstr(&a));
    snprintf(r.megaflow, sizeof r.megaflow, "%s", ds_cstr(&m));
    r.slow = xout.slow;
    r.error = xout.error;
    xlate_out_uninit(&xout);
    ds_destroy(&a);
    ds_destroy(&m);
    return r;
}

static struct result
xlate_str(struct ofproto *ofp, const char *flow_text)
{
    struct flow flow = parse_flow(flow_text);

    return xlate_flow_full(ofp, &flow, false, 1000, NULL);
}

/* Installs 'rules' in a fresh bridge, translates 'flow' and checks the
 * datapath actions and the megaflow. */
static void
check_xlate(const char *const *rules, const char *flow,
            const char *exp_actions, const char *exp_megaflow)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    add_flows(ofp, rules);
    r = xlate_str(ofp, flow);
    if (strcmp(r.actions, exp_actions)
        || (exp_megaflow && strcmp(r.megaflow, exp_megaflow))) {
        fail_msg("flow %s:\n  actions  %s\n  expected %s\n  megaflow %s\n"
                 "  expected %s",
                 flow, r.actions, exp_actions, r.megaflow,
                 exp_megaflow ? exp_megaflow : "(any)");
    }
    ofproto_destroy(ofp);
}

#define RULES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- MPLS and TTL ------------------------------------------------------- */

static void
test_push_mpls_builds_the_entry_ovs_builds(void **state)
{
    (void)state;
    /* OVS: push_mpls(label=0,tc=6,ttl=33,bos=1,eth_type=0x8847),2 with
     * nw_tos (DSCP bits) and nw_ttl in the megaflow; label 2 for IPv6;
     * TTL 64 for anything else. */
    check_xlate(RULES("actions=push_mpls:0x8847,output:2"),
                "in_port=1,udp,nw_tos=184,nw_ttl=33",
                "push_mpls(label=0,tc=6,ttl=33,bos=1,eth_type=0x8847),2",
                "ip,in_port=1,nw_tos=184,nw_ttl=33");
    check_xlate(RULES("actions=push_mpls:0x8848,output:2"),
                "in_port=1,tcp6,nw_tos=36,nw_ttl=7",
                "push_mpls(label=2,tc=1,ttl=7,bos=1,eth_type=0x8848),2", NULL);
    check_xlate(RULES("actions=push_mpls:0x8847,output:2"), "in_port=1,arp",
                "push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8847),2",
                NULL);
    /* Onto MPLS: a copy of the outer entry, not at the bottom. */
    check_xlate(RULES("actions=push_mpls:0x8847,output:2"),
                "in_port=1,mpls,mpls_label=5,mpls_tc=3,mpls_ttl=9,mpls_bos=1",
                "push_mpls(label=5,tc=3,ttl=9,bos=0,eth_type=0x8847),2",
                "mpls,in_port=1,mpls_label=5,mpls_tc=3,mpls_ttl=9,"
                "mpls_bos=1");
}

static void
test_mpls_rewrites_commit_as_a_masked_set(void **state)
{
    (void)state;
    check_xlate(RULES("ip,actions=mod_nw_tos:4,push_mpls:0x8847,"
                      "set_mpls_label:1000,set_mpls_tc:7,output:2"),
                "in_port=1,udp,nw_ttl=10",
                "set(ipv4(tos=0x4/0xfc)),"
                "push_mpls(label=0,tc=1,ttl=10,bos=1,eth_type=0x8847),"
                "set(mpls(label=1000,tc=7)),2",
                NULL);
    check_xlate(RULES("mpls,actions=set_mpls_ttl:9,dec_mpls_ttl,output:2"),
                "in_port=1,mpls,mpls_label=16,mpls_ttl=64",
                "set(mpls(ttl=8)),2", "mpls,in_port=1,mpls_ttl=64");
    /* Nothing to write when the entry already says it. */
    check_xlate(RULES("mpls,actions=set_mpls_label:7,output:2"),
                "in_port=1,mpls,mpls_label=7", "2",
                "mpls,in_port=1,mpls_label=7");
    check_xlate(RULES("ip,actions=mod_nw_ttl:5,output:2"),
                "in_port=1,udp,nw_ttl=64", "set(ipv4(ttl=5)),2",
                "ip,in_port=1,nw_ttl=64");
}

static void
test_dec_mpls_ttl_at_one_goes_to_controller(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    add_flows(ofp, RULES("mpls,actions=dec_mpls_ttl,output:2"));
    r = xlate_str(ofp, "in_port=1,mpls,mpls_ttl=1");
    assert_true(r.slow & XLATE_SLOW_CONTROLLER);
    assert_null(strstr(r.actions, ",2"));
    assert_string_equal(r.megaflow, "mpls,in_port=1,mpls_ttl=1");
    ofproto_destroy(ofp);
}

static void
test_pop_mpls_then_output_is_cached(void **state)
{
    (void)state;
    check_xlate(RULES("mpls,actions=pop_mpls:0x0800,output:2"),
                "in_port=1,mpls,mpls_label=16,mpls_bos=1",
                "pop_mpls(eth_type=0x800),2", "mpls,in_port=1,mpls_bos=1");
}

/* Rewrites that no output follows are left out, as Open vSwitch (which
 * commits them only before an output) never emits them. */
static void
test_rewrites_after_the_last_output_are_dropped(void **state)
{
    (void)state;
    check_xlate(RULES("mpls,actions=pop_mpls:0x0800"),
                "in_port=1,mpls,mpls_label=16,mpls_bos=1", "drop",
                "mpls,in_port=1,mpls_bos=1");
    check_xlate(RULES("ip,actions=output:2,push_mpls:0x8847,"
                      "mod_dl_src:02:00:00:00:00:09,push_vlan:0x8100"),
                "in_port=1,ip", "2", NULL);
}

/* The recirc(N) id at the end of 'actions' after 'prefix', or 0. */
static uint32_t
recirc_id_of(const char *actions, const char *prefix)
{
    size_t n = strlen(prefix);
    unsigned int id;

    if (strncmp(actions, prefix, n)
        || sscanf(actions + n, "recirc(%x)", &id) != 1) {
        fail_msg("actions %s: no %srecirc(N)", actions, prefix);
    }
    return id;
}

/* The continuation of recirc(id) on 'flow_text', as the datapath parsed
 * the packet again. */
static struct result
xlate_resumed(struct ofproto *ofp, const char *flow_text, uint32_t id)
{
    struct flow flow = parse_flow(flow_text);

    flow.recirc_id = id;
    return xlate_flow_full(ofp, &flow, false, 1000, NULL);
}

/* As Open vSwitch: a table or an L3 action after pop_mpls freezes
 * translation into recirc(N); the continuation runs the rest (the rest of
 * the rule that resubmitted too) with the registers restored. */
static void
test_pop_mpls_then_table_recirculates_and_resumes(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct xlate_cache *xc = xlate_cache_new(), *xc2;
    uint64_t before = coverage_read("xlate_recirc");
    struct flow flow = parse_flow("in_port=1,mpls,mpls_bos=1");
    struct result r;
    uint32_t id;

    (void)state;
    add_flows(ofp, RULES("mpls,actions=load:7->NXM_NX_REG0[],"
                         "pop_mpls:0x0800,resubmit(,1),output:3",
                         "table=1,ip,reg0=7,nw_dst=10.0.0.2,"
                         "actions=mod_nw_tos:8"));
    r = xlate_flow_full(ofp, &flow, false, 1000, xc);
    id = recirc_id_of(r.actions, "pop_mpls(eth_type=0x800),");
    assert_string_equal(r.megaflow, "mpls,in_port=1,mpls_bos=1");
    assert_int_equal(xlate_cache_n_recircs(xc), 1);
    assert_int_equal(xlate_cache_n_rules(xc), 1);
    assert_int_equal(coverage_read("xlate_recirc"), before + 1);

    /* The continuation credits only what it met after the freeze (table
     * 1's rule and lookup): each rule and table once per packet. */
    flow = parse_flow("in_port=1,ip,nw_dst=10.0.0.2,nw_tos=4");
    flow.recirc_id = id;
    xc2 = xlate_cache_new();
    r = xlate_flow_full(ofp, &flow, false, 1000, xc2);
    assert_int_equal(r.error, XLATE_OK);
    assert_string_equal(r.actions, "set(ipv4(tos=0x8/0xfc)),3");
    assert_int_equal(xlate_cache_n_rules(xc2), 1);
    assert_int_equal(xlate_cache_n_tables(xc2), 1);
    assert_int_equal(xlate_cache_n_recircs(xc2), 0);
    xlate_cache_delete(xc2);
    flow = parse_flow("in_port=1,mpls,mpls_bos=1");
    r = xlate_resumed(ofp, "in_port=1,ip,nw_dst=10.0.0.3", id);
    assert_string_equal(r.actions, "3");

    /* The same frozen state again: the same id. */
    r = xlate_flow_full(ofp, &flow, false, 1000, NULL);
    assert_int_equal(recirc_id_of(r.actions, "pop_mpls(eth_type=0x800),"), id);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

static void
test_recirc_id_without_state_drops(void **state)
{
    struct ofproto *ofp = make_bridge();
    uint64_t before = coverage_read("xlate_recirc_missing");
    struct result r;

    (void)state;
    add_flows(ofp, RULES("actions=output:2"));
    r = xlate_resumed(ofp, "in_port=1,ip", 0xfffffff0);
    assert_int_equal(r.error, XLATE_RECIRC_MISSING);
    assert_string_equal(r.actions, "drop");
    assert_int_equal(coverage_read("xlate_recirc_missing"), before + 1);
    ofproto_destroy(ofp);
}

/* An L3 action freezes too; the rest of a goto_table's table runs after
 * it.  Where a frozen state could not say how to resume (an outer rule
 * resubmitted with another in_port), translation stops, counted. */
static void
test_pop_mpls_freezes_before_l3_actions(void **state)
{
    struct ofproto *ofp = make_bridge();
    uint64_t bad = coverage_read("xlate_mpls_needs_recirc");
    uint64_t inner = coverage_read("xlate_mpls_pop_inner_unknown");
    struct result r;
    uint32_t id;

    (void)state;
    add_flows(ofp, RULES("mpls,actions=pop_mpls:0x0800,output:3,"
                         "goto_table:1",
                         "table=1,ip,actions=output:2"));
    r = xlate_str(ofp, "in_port=1,mpls,mpls_bos=1");
    id = recirc_id_of(r.actions, "pop_mpls(eth_type=0x800),3,");
    r = xlate_resumed(ofp, "in_port=1,ip", id);
    assert_string_equal(r.actions, "2");
    assert_string_equal(r.megaflow, "ip,in_port=1");
    ofproto_destroy(ofp);

    ofp = make_bridge();
    add_flows(ofp, RULES("mpls,actions=pop_mpls:0x0800,dec_ttl,output:2"));
    r = xlate_str(ofp, "in_port=1,mpls,mpls_bos=1");
    id = recirc_id_of(r.actions, "pop_mpls(eth_type=0x800),");
    r = xlate_resumed(ofp, "in_port=1,ip,nw_ttl=9", id);
    assert_string_equal(r.actions, "set(ipv4(ttl=8)),2");
    ofproto_destroy(ofp);

    assert_int_equal(coverage_read("xlate_mpls_needs_recirc"), bad);
    /* An Ethernet rewrite needs no L3 header. */
    check_xlate(RULES("mpls,actions=pop_mpls:0x0800,"
                      "mod_dl_src:02:00:00:00:00:09,output:2"),
                "in_port=1,mpls,mpls_bos=1",
                "pop_mpls(eth_type=0x800),"
                "set(eth(src=02:00:00:00:00:09)),2",
                NULL);
    /* Popping an entry above the bottom to IP pops the whole stack, as
     * Open vSwitch does: one entry, then again after recirculating. */
    ofp = make_bridge();
    add_flows(ofp, RULES("mpls,actions=pop_mpls:0x0800,output:2"));
    r = xlate_str(ofp, "in_port=1,mpls,mpls_bos=0");
    assert_string_equal(r.megaflow, "mpls,in_port=1,mpls_bos=0");
    id = recirc_id_of(r.actions, "pop_mpls(eth_type=0x8847),");
    r = xlate_resumed(ofp, "in_port=1,mpls,mpls_label=7,mpls_bos=0", id);
    assert_int_equal(recirc_id_of(r.actions, "pop_mpls(eth_type=0x8847),"),
                     id);
    r = xlate_resumed(ofp, "in_port=1,mpls,mpls_label=8,mpls_bos=1", id);
    assert_string_equal(r.actions, "pop_mpls(eth_type=0x800),2");
    ofproto_destroy(ofp);
    /* The bottom entry popped to an MPLS type leaves no entry: stop. */
    check_xlate(RULES("mpls,actions=pop_mpls:0x8847,output:2"),
                "in_port=1,mpls,mpls_bos=1", "drop",
                "mpls,in_port=1,mpls_bos=1");
    assert_int_equal(coverage_read("xlate_mpls_pop_inner_unknown"), inner + 1);
}

/* A freeze inside a rule that a resubmit reached resumes rule by rule:
 * the inner rule's rest in its table under its cookie, then the outer
 * rule's in its own (Open vSwitch's unroll), all with the packet's own
 * in_port, as Open vSwitch resumes (checked with ovs-sandbox.sh: the
 * continuation matched in_port=1, not the resubmit's 2).  A controller
 * action shows the table and cookie each runs under. */
static void
test_frozen_rules_resume_each_in_its_table(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;
    uint32_t id;

    (void)state;
    add_flows(ofp, RULES("cookie=0x3,in_port=1,mpls,actions=resubmit(2,1),"
                         "controller",
                         "table=1,cookie=0x7,in_port=2,mpls,"
                         "actions=pop_mpls:0x0800,dec_ttl,controller,"
                         "goto_table:2",
                         "table=2,in_port=2,ip,actions=output:2",
                         "table=2,in_port=1,ip,actions=mod_nw_tos:4,"
                         "output:3"));
    r = xlate_str(ofp, "in_port=1,mpls,mpls_bos=1");
    id = recirc_id_of(r.actions, "pop_mpls(eth_type=0x800),");
    r = xlate_resumed(ofp, "in_port=1,ip,nw_ttl=9", id);
    assert_int_equal(r.error, XLATE_OK);
    assert_string_equal(
        r.actions, "set(ipv4(ttl=8)),"
                   "userspace(userdata(0101ffff000001000000000000000007)),"
                   "set(ipv4(tos=0x4/0xfc)),3,"
                   "userspace(userdata(0101ffff000000000000000000000003))");
    ofproto_destroy(ofp);
}

/* Popping the outer entry of a deeper stack exposes an entry the flow
 * does not know: an output needs nothing, but a table or an MPLS action
 * recirculates and runs on the entry the datapath parsed. */
static void
test_pop_outer_mpls_entry_recirculates_for_the_next(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;
    uint32_t id;

    (void)state;
    check_xlate(RULES("mpls,mpls_bos=0,actions=pop_mpls:0x8847,output:2"),
                "in_port=1,mpls,mpls_label=16,mpls_bos=0",
                "pop_mpls(eth_type=0x8847),2", "mpls,in_port=1,mpls_bos=0");
    add_flows(ofp, RULES("mpls,mpls_bos=0,actions=pop_mpls:0x8847,"
                         "dec_mpls_ttl,resubmit(,1)",
                         "table=1,mpls,mpls_label=200,mpls_bos=1,"
                         "actions=pop_mpls:0x0800,output:2"));
    r = xlate_str(ofp, "in_port=1,mpls,mpls_label=16,mpls_bos=0");
    id = recirc_id_of(r.actions, "pop_mpls(eth_type=0x8847),");
    assert_string_equal(r.megaflow, "mpls,in_port=1,mpls_bos=0");
    r = xlate_resumed(ofp,
                      "in_port=1,mpls,mpls_label=200,mpls_ttl=9,"
                      "mpls_bos=1",
                      id);
    assert_string_equal(r.actions,
                        "set(mpls(ttl=8)),pop_mpls(eth_type=0x800),2");
    r = xlate_resumed(ofp,
                      "in_port=1,mpls,mpls_label=201,mpls_ttl=9,"
                      "mpls_bos=1",
                      id);
    assert_string_equal(r.actions, "drop");
    ofproto_destroy(ofp);
}

/* ---- Outputs ------------------------------------------------------------ */

static void
test_output_to_port(void **state)
{
    (void)state;
    check_xlate(RULES("actions=output:2"), "in_port=1,tcp", "2", "in_port=1");
}

/* A meter instruction becomes a datapath meter action where its rule
 * runs, numbered by ofproto's datapath meter ids (the lowest free, from
 * 0): one per rule met on the way, before the rewrites it commits. */
static void
test_meters_become_datapath_meter_actions(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct ofmeter_config cfg = {.flags = OFMETER_PKTPS, .n_bands = 1};
    struct result r;

    (void)state;
    cfg.bands[0].type = OFMETER_BAND_DROP;
    cfg.bands[0].rate = 1000;
    cfg.id = 9;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg), OFMETER_OK);
    cfg.id = 3;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg), OFMETER_OK);
    add_flows(ofp, RULES("in_port=1,actions=meter:3,mod_dl_dst:00:00:00:00:"
                         "00:05,goto_table:1",
                         "table=1,actions=meter:9,output:2"));
    r = xlate_str(ofp, "in_port=1,dl_dst=00:00:00:00:00:01");
    assert_string_equal(r.actions, "meter(1),meter(0),"
                                   "set(eth(dst=00:00:00:00:00:05)),2");
    ofproto_destroy(ofp);
}

static void
test_output_to_input_port_is_skipped(void **state)
{
    (void)state;
    /* OVS: "output:1 >> skipping output to input port", then 2. */
    check_xlate(RULES("actions=output:1,output:2"), "in_port=1,tcp", "2",
                "in_port=1");
}

static void
test_in_port_action_outputs_to_input_port(void **state)
{
    (void)state;
    /* OVS: in_port,flood on in_port=1 gives 1,100,2,3 (hash order); ours
     * floods in port order with LOCAL last. */
    check_xlate(RULES("actions=in_port,flood"), "in_port=1,tcp", "1,2,3,100",
                "in_port=1");
}

static void
test_all_and_local(void **state)
{
    (void)state;
    check_xlate(RULES("actions=all"), "in_port=2,tcp", "1,3,100", "in_port=2");
    check_xlate(RULES("actions=local"), "in_port=2,tcp", "100", "in_port=2");
}

static void
test_output_to_missing_port_does_nothing(void **state)
{
    (void)state;
    check_xlate(RULES("actions=output:9,output:2"), "in_port=1", "2",
                "in_port=1");
}

static void
test_drop_and_table_miss(void **state)
{
    (void)state;
    check_xlate(RULES("actions=drop"), "in_port=1,tcp", "drop", "in_port=1");
    check_xlate(RULES("priority=5,udp,actions=output:2"), "in_port=1,tcp",
                "drop", "tcp,in_port=1");
}

static void
test_table_miss_to_controller_is_slow_path(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    ofproto_set_miss_to_controller(ofp, true);
    r = xlate_str(ofp, "in_port=1,tcp");
    assert_true(r.slow & XLATE_SLOW_CONTROLLER);
    assert_non_null(strstr(r.actions, "userspace("));
    ofproto_destroy(ofp);
}

static void
test_controller_action_is_slow_path(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    add_flows(ofp, RULES("cookie=0x7,actions=local,controller"));
    r = xlate_str(ofp, "in_port=2,tcp");
    assert_true(r.slow & XLATE_SLOW_CONTROLLER);
    /* type 1, reason action (1), max_len 65535, id 0, cookie 7. */
    assert_string_equal(r.actions, "100,userspace(userdata("
                                   "0101ffff000000000000000000000007))");
    ofproto_destroy(ofp);
}

/* ---- Header rewrites ---------------------------------------------------- */

static void
test_rewrites_commit_lazily_before_each_output(void **state)
{
    (void)state;
    /* OVS: 2,set(ipv4(src=2.2.2.2)),3,set(eth(dst=00:00:00:00:00:05)),2
     * with megaflow tcp,in_port=1,dl_dst=00:00:00:00:00:00,
     * nw_src=1.1.1.1. */
    check_xlate(RULES("tcp,actions=mod_nw_src:1.1.1.1,output:2,"
                      "mod_nw_src:2.2.2.2,output:3,"
                      "mod_dl_dst:00:00:00:00:00:05,"
                      "load:5->NXM_NX_REG0[],output:2"),
                "in_port=1,tcp,nw_src=1.1.1.1",
                "2,set(ipv4(src=2.2.2.2)),3,set(eth(dst=00:00:00:00:00:05)),"
                "2",
                "tcp,in_port=1,dl_dst=00:00:00:00:00:00,nw_src=1.1.1.1");
}

static void
test_mod_tp_dst_sets_udp_port(void **state)
{
    (void)state;
    check_xlate(RULES("udp,actions=mod_tp_dst:99,output:2"),
                "in_port=1,udp,tp_dst=7", "set(udp(dst=99)),2",
                "udp,in_port=1,nw_frag=not_later,tp_dst=7");
}

static void
test_mod_nw_tos_only_sets_when_changed(void **state)
{
    (void)state;
    /* OVS: set(ipv4(tos=0x10/0xfc)),2 for nw_tos=4; just 2 for 16. */
    check_xlate(RULES("ip,actions=mod_nw_tos:16,output:2"),
                "in_port=1,tcp,nw_tos=4", "set(ipv4(tos=0x10/0xfc)),2",
                "ip,in_port=1,nw_tos=4");
    check_xlate(RULES("ip,actions=mod_nw_tos:16,output:2"),
                "in_port=1,tcp,nw_tos=16", "2", "ip,in_port=1,nw_tos=16");
}

static void
test_dec_ttl(void **state)
{
    (void)state;
    /* OVS: set(ipv4(ttl=63)),2 and megaflow nw_ttl=64. */
    check_xlate(RULES("ip,actions=dec_ttl,output:2"),
                "in_port=1,tcp,nw_ttl=64", "set(ipv4(ttl=63)),2",
                "ip,in_port=1,nw_ttl=64");
}

static void
test_dec_ttl_at_one_goes_to_controller(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    /* OVS: userspace(controller(reason=2...)), no output:2, megaflow
     * nw_ttl=1; the same without any controller configured. */
    add_flows(ofp, RULES("ip,actions=dec_ttl,output:2"));
    r = xlate_str(ofp, "in_port=1,tcp,nw_ttl=1");
    assert_true(r.slow & XLATE_SLOW_CONTROLLER);
    assert_string_equal(r.actions, "userspace(userdata("
                                   "0102ffff000000000000000000000000))");
    assert_string_equal(r.megaflow, "ip,in_port=1,nw_ttl=1");
    r = xlate_str(ofp, "in_port=1,tcp,nw_ttl=0");
    assert_true(r.slow & XLATE_SLOW_CONTROLLER);
    assert_string_equal(r.megaflow, "ip,in_port=1,nw_ttl=0");
    ofproto_destroy(ofp);
}

static void
test_dec_ttl_ipv6_hop_limit(void **state)
{
    (void)state;
    check_xlate(RULES("ipv6,actions=dec_ttl,output:2"),
                "in_port=1,ipv6,nw_ttl=9", "set(ipv6(hlimit=8)),2",
                "ipv6,in_port=1,nw_ttl=9");
}

static void
test_mod_vlan_vid_on_untagged_pushes_tag(void **state)
{
    (void)state;
    /* OVS: push_vlan(vid=5,pcp=0),2 with no VLAN in the megaflow but the
     * absence of a tag (vlan_tci=0). */
    check_xlate(RULES("actions=mod_vlan_vid:5,output:2"), "in_port=1,tcp",
                "push_vlan(vid=5,pcp=0),2", "in_port=1,vlan_tci=0x0000");
}

static void
test_mod_vlan_vid_on_tagged_rewrites_vid(void **state)
{
    (void)state;
    /* OVS: pop_vlan,push_vlan(vid=5,pcp=0),2; our datapath has a masked
     * set(vlan) that keeps the PCP in the packet. */
    check_xlate(RULES("actions=mod_vlan_vid:5,output:2"),
                "in_port=1,dl_vlan=7,tcp", "set(vlan(vid=5)),2",
                "in_port=1,dl_vlan=7,dl_vlan_pcp=0");
}

static void
test_mod_vlan_pcp_on_untagged_pushes_vid_zero(void **state)
{
    (void)state;
    check_xlate(RULES("actions=mod_vlan_pcp:3,output:2"), "in_port=1,tcp",
                "push_vlan(vid=0,pcp=3),2", "in_port=1,vlan_tci=0x0000");
}

static void
test_strip_vlan(void **state)
{
    (void)state;
    /* OVS: untagged: just 2; tagged: pop_vlan,2. */
    check_xlate(RULES("actions=strip_vlan,output:2"), "in_port=1,tcp", "2",
                "in_port=1,vlan_tci=0x0000");
    check_xlate(RULES("actions=strip_vlan,output:2"),
                "in_port=1,dl_vlan=7,tcp", "pop_vlan,2",
                "in_port=1,dl_vlan=7,dl_vlan_pcp=0");
}

/* ---- The action set (expected strings from OVS 3.1's ofproto/trace on
 * the same rules and flow; OVS also emits set(skb_priority(0x3)) for
 * set_queue:3, which we do not: no QoS queues) ---- */

#define ACTSET_FLOW "in_port=1,tcp,nw_src=1.2.3.4,nw_ttl=64,dl_vlan=5"

static void
test_action_set_runs_when_the_pipeline_ends(void **state)
{
    (void)state;
    /* A later table's write replaces the output of an earlier one. */
    check_xlate(RULES("tcp,actions=write_actions(output:2),goto_table:1",
                      "table=1,tcp,actions=write_actions(output:3,"
                      "set_field:8->ip_dscp)"),
                ACTSET_FLOW, "set(ipv4(tos=0x20/0xfc)),3", NULL);
    /* A miss in a later table still runs the set. */
    check_xlate(RULES("tcp,actions=write_actions(output:2),goto_table:1"),
                ACTSET_FLOW, "2", NULL);
    check_xlate(RULES("tcp,actions=write_actions(output:2),goto_table:1",
                      "table=1,tcp,actions=clear_actions"),
                ACTSET_FLOW, "drop", NULL);
    /* Applied actions run at once, the set after all of them. */
    check_xlate(RULES("tcp,actions=output:3,write_actions(output:2),"
                      "goto_table:1",
                      "table=1,tcp,actions=output:3"),
                ACTSET_FLOW, "3,3,2", NULL);
}

static void
test_action_set_runs_in_openflow_order(void **state)
{
    (void)state;
    /* Written output first, pop last: the set runs pop, dec TTL,
     * set-field, queue, output. */
    check_xlate(RULES("tcp,actions=write_actions(output:2,dec_ttl,"
                      "strip_vlan,set_field:1.1.1.1->ip_src,set_queue:3)"),
                ACTSET_FLOW, "pop_vlan,set(ipv4(src=1.1.1.1,ttl=63)),2", NULL);
    /* With no output the set does nothing. */
    check_xlate(RULES("tcp,actions=write_actions(set_field:1.1.1.1->ip_src,"
                      "set_queue:3)"),
                ACTSET_FLOW, "drop", "tcp,in_port=1");
    /* Output hides controller; controller alone runs with reason
     * action_set (3). */
    check_xlate(RULES("tcp,actions=write_actions(controller,output:2)"),
                ACTSET_FLOW, "2", NULL);
    check_xlate(RULES("tcp,actions=write_actions(controller)"), ACTSET_FLOW,
                "userspace(userdata(0103ffff000000000000000000000000))", NULL);
}

static void
test_action_set_collects_writes_across_resubmits(void **state)
{
    (void)state;
    /* Table 2's writes (during the resubmit) come before table 1's own:
     * ip_src ends as 1.1.1.1. */
    check_xlate(RULES("tcp,actions=write_actions(output:2),goto_table:1",
                      "table=1,tcp,actions=resubmit(,2),write_actions("
                      "set_field:1.1.1.1->ip_src)",
                      "table=2,tcp,actions=write_actions(set_field:2.2.2.2->"
                      "ip_src,set_field:00:00:00:00:00:09->eth_src)"),
                ACTSET_FLOW,
                "set(eth(src=00:00:00:00:00:09)),set(ipv4(src=1.1.1.1)),2",
                NULL);
    /* A resubmit in the set runs a table once the pipeline ends. */
    check_xlate(RULES("tcp,actions=write_actions(resubmit(,2))",
                      "table=2,tcp,actions=output:3"),
                ACTSET_FLOW, "3", NULL);
}

static void
test_set_queue_emits_nothing(void **state)
{
    (void)state;
    /* OVS: set(skb_priority(0x3)),2,set(skb_priority(0x4)),3. */
    check_xlate(RULES("tcp,actions=set_queue:3,output:2,set_queue:4,"
                      "output:3"),
                ACTSET_FLOW, "2,3", NULL);
}

static void
test_push_vlan_then_set_field(void **state)
{
    (void)state;
    check_xlate(RULES("actions=push_vlan:0x8100,set_field:4106->vlan_vid,"
                      "output:2"),
                "in_port=1,tcp", "push_vlan(vid=10,pcp=0),2",
                "in_port=1,vlan_tci=0x0000");
}

static void
test_set_field_and_move(void **state)
{
    (void)state;
    check_xlate(RULES("tcp,actions=set_field:10.0.0.9->ip_dst,"
                      "move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[],output:3"),
                "in_port=1,tcp,nw_dst=1.1.1.1,tp_src=5,tp_dst=6",
                "set(ipv4(dst=10.0.0.9)),set(tcp(dst=5)),3",
                "tcp,in_port=1,nw_dst=1.1.1.1,nw_frag=not_later,tp_src=5,"
                "tp_dst=6");
}

static void
test_masked_set_field_masks_the_set(void **state)
{
    (void)state;
    check_xlate(RULES("ip,actions=set_field:10.0.0.0/255.0.0.0->ip_dst,"
                      "output:3"),
                "in_port=1,ip,nw_dst=1.1.1.1",
                "set(ipv4(dst=10.0.0.0/255.0.0.0)),3",
                "ip,in_port=1,nw_dst=1.0.0.0/8");
}

static void
test_registers_do_not_reach_the_megaflow(void **state)
{
    (void)state;
    /* OVS (load:3->reg1[0..3], resubmit(,1) on reg1=3): the megaflow has
     * no register, and the rule reached through it decides. */
    check_xlate(RULES("actions=load:3->NXM_NX_REG1[0..3],resubmit(,1)",
                      "table=1,reg1=3,actions=write_metadata:0x5,"
                      "goto_table:2",
                      "table=2,metadata=0x5,actions=output:2"),
                "in_port=1,tcp", "2", "in_port=1");
}

/* Every field set_field can write reaches the packet: ICMP, ARP and ND
 * fields too (their rewrite used to show in the final flow only). */
static void
test_set_field_icmp_type_and_code_reach_the_datapath(void **state)
{
    (void)state;
    check_xlate(RULES("icmp,actions=set_field:0->icmp_type,output:2"),
                "in_port=1,icmp,icmp_type=8,icmp_code=0",
                "set(icmp(type=0)),2", NULL);
    check_xlate(RULES("icmp,actions=load:3->NXM_OF_ICMP_CODE[],output:2"),
                "in_port=1,icmp,icmp_type=3,icmp_code=1",
                "set(icmp(code=3)),2", NULL);
    check_xlate(RULES("icmp6,icmp_type=128,actions=set_field:129->"
                      "icmpv6_type,set_field:1->icmpv6_code,output:2"),
                "in_port=1,icmp6,icmp_type=128,icmp_code=0",
                "set(icmpv6(type=129,code=1)),2", NULL);
}

static void
test_set_field_arp_fields_reach_the_datapath(void **state)
{
    (void)state;
    check_xlate(RULES("arp,actions=set_field:2->arp_op,"
                      "set_field:10.0.0.9->arp_spa,"
                      "load:0x0a000001->NXM_OF_ARP_TPA[],"
                      "set_field:02:00:00:00:00:07->arp_sha,"
                      "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],output:2"),
                "in_port=1,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,"
                "arp_sha=02:00:00:00:00:01,arp_tha=00:00:00:00:00:00",
                "set(arp(sip=10.0.0.9,tip=10.0.0.1,op=2,"
                "sha=02:00:00:00:00:07,tha=02:00:00:00:00:07)),2",
                NULL);
}

static void
test_set_field_nd_fields_reach_the_datapath(void **state)
{
    (void)state;
    check_xlate(RULES("icmp6,icmp_type=135,icmp_code=0,actions="
                      "set_field:fe80::9->nd_target,"
                      "set_field:02:00:00:00:00:07->nd_sll,output:2"),
                "in_port=1,icmp6,icmp_type=135,icmp_code=0,"
                "nd_target=fe80::1,nd_sll=02:00:00:00:00:01",
                "set(nd(target=fe80::9,sll=02:00:00:00:00:07)),2", NULL);
    check_xlate(RULES("icmp6,icmp_type=136,icmp_code=0,actions="
                      "set_field:02:00:00:00:00:08->nd_tll,output:2"),
                "in_port=1,icmp6,icmp_type=136,icmp_code=0,"
                "nd_target=fe80::1,nd_tll=02:00:00:00:00:01",
                "set(nd(tll=02:00:00:00:00:08)),2", NULL);
}

/* ---- Pipeline ----------------------------------------------------------- */

static void
test_resubmit_and_goto_table(void **state)
{
    (void)state;
    check_xlate(RULES("actions=resubmit(,1),output:3",
                      "table=1,tcp,actions=output:2,goto_table:2",
                      "table=2,actions=output:1"),
                "in_port=1,tcp", "2,3", "tcp,in_port=1");
}

static void
test_resubmit_with_in_port(void **state)
{
    (void)state;
    /* resubmit(2,1) looks table 1 up with in_port=2, and output:2 there is
     * then output to the (current) input port and skipped. */
    check_xlate(RULES("in_port=1,actions=resubmit(2,1),output:3",
                      "table=1,in_port=2,actions=output:2,output:1"),
                "in_port=1,tcp", "1,3", "in_port=1");
}

static void
test_resubmit_loop_is_detected(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    /* OVS: "over max translation depth 64", "Translation failed
     * (Recursion too deep), packet is dropped." */
    add_flows(ofp, RULES("actions=output:2,resubmit(,1)",
                         "table=1,actions=resubmit(,0)"));
    r = xlate_str(ofp, "in_port=1,tcp");
    assert_int_equal(r.error, XLATE_RECURSION_TOO_DEEP);
    assert_string_equal(r.actions, "drop");
    ofproto_destroy(ofp);
}

static void
test_resubmit_explosion_is_bounded(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    add_flows(ofp, RULES("actions=resubmit(,1),resubmit(,1)",
                         "table=1,actions=resubmit(,2),resubmit(,2)",
                         "table=2,actions=resubmit(,3),resubmit(,3)",
                         "table=3,actions=resubmit(,4),resubmit(,4)",
                         "table=4,actions=resubmit(,5),resubmit(,5)",
                         "table=5,actions=resubmit(,6),resubmit(,6)",
                         "table=6,actions=resubmit(,7),resubmit(,7)",
                         "table=7,actions=resubmit(,8),resubmit(,8)",
                         "table=8,actions=resubmit(,9),resubmit(,9)",
                         "table=9,actions=resubmit(,10),resubmit(,10)",
                         "table=10,actions=resubmit(,11),resubmit(,11)",
                         "table=11,actions=resubmit(,12),resubmit(,12)",
                         "table=12,actions=resubmit(,13),resubmit(,13)",
                         "table=13,actions=output:2"));
    r = xlate_str(ofp, "in_port=1");
    assert_int_equal(r.error, XLATE_TOO_MANY_RESUBMITS);
    assert_string_equal(r.actions, "drop");
    ofproto_destroy(ofp);
}

/* ---- Megaflows ---------------------------------------------------------- */

static void
test_megaflow_udp_does_not_match_tp_dst(void **state)
{
    const char *const *rules =
        RULES("priority=10,tcp,tp_dst=80,actions=output:2",
              "priority=1,actions=drop");

    (void)state;
    /* OVS (UDP): megaflow udp,in_port=1 without tp_dst. */
    check_xlate(rules, "in_port=1,udp,nw_src=10.0.0.1,tp_dst=80", "drop",
                "udp,in_port=1");
    /* OVS (TCP): tcp,in_port=1,tp_dst=80, actions 2. */
    check_xlate(rules, "in_port=1,tcp,nw_src=10.0.0.1,tp_dst=80", "2",
                "tcp,in_port=1,tp_dst=80");
    check_xlate(rules, "in_port=1,tcp,nw_src=10.0.0.1,tp_dst=81", "drop",
                "tcp,in_port=1,tp_dst=81");
}

static void
test_megaflow_l4_port_miss_unwildcards_leading_port_bits(void **state)
{
    const char *const *rules =
        RULES("priority=10,tcp,tp_dst=80,actions=output:2",
              "priority=10,tcp,tp_dst=443,actions=output:2",
              "priority=10,tcp,tp_src=1024,tp_dst=80,actions=output:3",
              "priority=5,udp,tp_dst=0x0400/0xfc00,actions=output:2",
              "priority=5,udp,tp_src=0x0005/0x0f0f,actions=output:3",
              "priority=1,actions=drop");

    (void)state;
    /* OVS 3.1's ofproto/trace on the same rules gives the same port masks
     * (with recirc_id=0,eth,...,nw_frag=no around them). */
    check_xlate(rules, "in_port=1,tcp,tp_src=5555,tp_dst=22", "drop",
                "tcp,in_port=1,tp_src=0x1000/0xf000,tp_dst=0x0/0xffc0");
    check_xlate(rules, "in_port=1,tcp,tp_src=1024,tp_dst=22", "drop",
                "tcp,in_port=1,tp_src=1024,tp_dst=0x0/0xffc0");
    check_xlate(rules, "in_port=1,tcp,tp_src=5000,tp_dst=81", "drop",
                "tcp,in_port=1,tp_src=0x1000/0xf000,tp_dst=81");
    check_xlate(rules, "in_port=1,udp,tp_src=0x0a0a,tp_dst=0x8000", "drop",
                "udp,in_port=1,tp_src=0x800/0x800,tp_dst=0x8000/0x8000");
    check_xlate(rules, "in_port=1,udp,tp_src=0xf105,tp_dst=0x0800", "drop",
                "udp,in_port=1,tp_src=0x100/0xf00,tp_dst=0x800/0xf800");
}

static void
test_megaflow_prefix_rule_unwildcards_only_needed_bits(void **state)
{
    const char *const *rules =
        RULES("priority=10,ip,nw_dst=10.0.0.0/8,actions=output:2",
              "priority=1,actions=drop");
    struct ofproto *ofp = make_bridge();
    struct result r;

    (void)state;
    add_flows(ofp, rules);
    r = xlate_str(ofp, "in_port=1,ip,nw_dst=10.1.2.3");
    assert_string_equal(r.actions, "2");
    assert_string_equal(r.megaflow, "ip,in_port=1,nw_dst=10.0.0.0/8");
    /* A miss needs at most the first 8 bits, usually fewer. */
    r = xlate_str(ofp, "in_port=1,ip,nw_dst=192.168.0.1");
    assert_string_equal(r.actions, "drop");
    assert_null(strstr(r.megaflow, "/16"));
    assert_null(strstr(r.megaflow, "/24"));
    assert_null(strstr(r.megaflow, "/32"));
    assert_null(strstr(r.megaflow, "192.168.0.1"));
    ofproto_destroy(ofp);
}

/* ---- NORMAL ------------------------------------------------------------- */

static void
test_normal_floods_unknown_and_learns(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct flow f1 = parse_flow("in_port=1,tcp,dl_src=00:00:00:00:00:01,"
                                "dl_dst=00:00:00:00:00:02");
    struct flow f2 = parse_flow("in_port=2,tcp,dl_src=00:00:00:00:00:02,"
                                "dl_dst=00:00:00:00:00:01");
    struct result r;

    (void)state;
    add_flows(ofp, RULES("actions=normal"));
    /* OVS: unknown destination floods; megaflow in_port, dl_src, dl_dst
     * (and the VLAN). */
    r = xlate_flow_full(ofp, &f1, true, 1000, NULL);
    assert_string_equal(r.actions, "2,3,100");
    assert_string_equal(r.megaflow,
                        "in_port=1,vlan_tci=0x0000/0x1fff,"
                        "dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02");
    /* 00:..:01 was learned on port 1: the reply goes there only. */
    r = xlate_flow_full(ofp, &f2, true, 1000, NULL);
    assert_string_equal(r.actions, "1");
    /* And now both are known. */
    r = xlate_flow_full(ofp, &f1, false, 1000, NULL);
    assert_string_equal(r.actions, "2");
    /* Destination learned on the input port: dropped. */
    f1.dl_dst = f1.dl_src;
    r = xlate_flow_full(ofp, &f1, false, 1000, NULL);
    assert_string_equal(r.actions, "drop");
    ofproto_destroy(ofp);
}

static void
test_normal_without_may_learn_does_not_learn(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct flow f1 = parse_flow("in_port=1,dl_src=00:00:00:00:00:01,"
                                "dl_dst=00:00:00:00:00:02");

    (void)state;
    add_flows(ofp, RULES("actions=normal"));
    xlate_flow_full(ofp, &f1, false, 1000, NULL);
    assert_int_equal(mac_learning_count(ofproto_get_mac_learning(ofp)), 0);
    xlate_flow_full(ofp, &f1, true, 1000, NULL);
    assert_int_equal(mac_learning_count(ofproto_get_mac_learning(ofp)), 1);
    ofproto_destroy(ofp);
}

static void
test_normal_broadcast_floods_and_vlans_are_separate(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct flow f;
    struct result r;

    (void)state;
    add_flows(ofp, RULES("actions=normal"));
    f = parse_flow("in_port=3,dl_src=00:00:00:00:00:03,"
                   "dl_dst=ff:ff:ff:ff:ff:ff");
    r = xlate_flow_full(ofp, &f, true, 1000, NULL);
    assert_string_equal(r.actions, "1,2,100");
    /* Learned on VLAN 0 only: VLAN 5 still floods. */
    f = parse_flow("in_port=1,dl_vlan=5,dl_src=00:00:00:00:00:01,"
                   "dl_dst=00:00:00:00:00:03");
    r = xlate_flow_full(ofp, &f, true, 1000, NULL);
    assert_string_equal(r.actions, "2,3,100");
    assert_non_null(strstr(r.megaflow, "dl_vlan=5"));
    ofproto_destroy(ofp);
}

/* ---- xlate cache -------------------------------------------------------- */

static void
test_xlate_cache_credits_every_rule_hit(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct xlate_cache *xc = xlate_cache_new();
    struct flow f = parse_flow("in_port=1,tcp");
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)state;
    add_flows(ofp, RULES("actions=resubmit(,1),output:2",
                         "table=1,actions=output:3"));
    xlate_flow_full(ofp, &f, false, 1000, xc);
    assert_int_equal(xlate_cache_n_rules(xc), 2);
    xlate_cache_push_stats(xc, 3, 300, 5000);
    ofproto_dump_flows_at(ofp, NULL, 6000, &s);
    assert_non_null(strstr(ds_cstr(&s), "table=0, n_packets=3, "
                                        "n_bytes=300"));
    assert_non_null(strstr(ds_cstr(&s), "table=1, n_packets=3, "
                                        "n_bytes=300"));
    ds_destroy(&s);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

static void
assert_table_stats(struct ofproto *ofp, uint8_t table, uint64_t lookups,
                   uint64_t matched)
{
    uint64_t l, m;

    ofproto_table_get_stats(ofp, table, &l, &m);
    if (l != lookups || m != matched) {
        fail_msg("table %u: lookup=%" PRIu64 ", matched=%" PRIu64
                 " (expected %" PRIu64 ", %" PRIu64 ")",
                 table, l, m, lookups, matched);
    }
}

/* Every lookup (table 0, goto_table, resubmit, one inside the action set)
 * is recorded, matched or missed, and each push credits its packets to
 * those tables; a translation without a cache (ofproto/trace) counts
 * nothing. */
static void
test_xlate_cache_credits_table_lookups(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct xlate_cache *xc = xlate_cache_new();
    struct flow hit = parse_flow("in_port=1,tcp,tp_src=1000");
    struct flow miss = parse_flow("in_port=1,tcp,tp_src=1001");

    (void)state;
    add_flows(ofp, RULES("tcp,actions=resubmit(,3),write_actions("
                         "resubmit(,4)),goto_table:1",
                         "table=1,tcp,tp_src=1000,actions=output:2",
                         "table=4,actions=output:3"));
    xlate_flow_full(ofp, &hit, false, 1000, NULL);
    assert_table_stats(ofp, 0, 0, 0);

    xlate_flow_full(ofp, &hit, false, 1000, xc);
    assert_int_equal(xlate_cache_n_tables(xc), 4);
    assert_table_stats(ofp, 0, 0, 0); /* Counted when pushed. */
    xlate_cache_push_stats(xc, 1, 60, 1000);
    xlate_cache_push_stats(xc, 4, 240, 2000);
    assert_table_stats(ofp, 0, 5, 5);
    assert_table_stats(ofp, 1, 5, 5);
    assert_table_stats(ofp, 3, 5, 0);
    assert_table_stats(ofp, 4, 5, 5);

    xlate_cache_clear(xc);
    xlate_flow_full(ofp, &miss, false, 1000, xc);
    xlate_cache_push_stats(xc, 2, 120, 3000);
    xlate_cache_push_stats(xc, 0, 0, 3000); /* Nothing new: no lookup. */
    assert_table_stats(ofp, 0, 7, 7);
    assert_table_stats(ofp, 1, 7, 5);
    assert_table_stats(ofp, 2, 0, 0);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

/* dump-tables prints what `ovs-ofctl -O OpenFlow13 dump-tables` prints
 * after its first line. */
static void
test_dump_tables_prints_like_ovs_ofctl(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct xlate_cache *xc = xlate_cache_new();
    struct flow f = parse_flow("in_port=1,tcp");
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)state;
    add_flows(ofp, RULES("actions=goto_table:1", "table=1,actions=output:2",
                         "table=3,actions=output:2"));
    xlate_flow_full(ofp, &f, false, 1000, xc);
    xlate_cache_push_stats(xc, 6, 360, 1000);
    ofproto_dump_tables(ofp, &s);
    assert_string_equal(ds_cstr(&s), "  table 0:\n"
                                     "    active=1, lookup=6, matched=6\n"
                                     "\n"
                                     "  table 1: ditto\n"
                                     "\n"
                                     "  table 2:\n"
                                     "    active=0, lookup=0, matched=0\n"
                                     "\n"
                                     "  table 3:\n"
                                     "    active=1, lookup=0, matched=0\n"
                                     "\n"
                                     "  table 4:\n"
                                     "    active=0, lookup=0, matched=0\n"
                                     "\n"
                                     "  tables 5...253: ditto\n");
    ds_destroy(&s);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

/* A translation through more rules than a cache holds inline (six tables
 * by resubmit): every rule is recorded, and credited, in order. */
static void
test_xlate_cache_grows_past_its_inline_rules(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct xlate_cache *xc = xlate_cache_new();
    struct flow f = parse_flow("in_port=1,tcp");
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *p;

    (void)state;
    add_flows(
        ofp,
        RULES("actions=resubmit(,1)", "table=1,actions=resubmit(,2)",
              "table=2,actions=resubmit(,3)", "table=3,actions=resubmit(,4)",
              "table=4,actions=resubmit(,5)", "table=5,actions=output:2"));
    xlate_flow_full(ofp, &f, false, 1000, xc);
    assert_int_equal(xlate_cache_n_rules(xc), 6);
    xlate_cache_push_stats(xc, 2, 128, 5000);
    ofproto_dump_flows_at(ofp, NULL, 6000, &s);
    p = ds_cstr(&s);
    for (int table = 0; table < 6; table++) {
        char want[64];

        snprintf(want, sizeof want, "table=%d, n_packets=2, n_bytes=128",
                 table);
        assert_non_null(strstr(p, want));
    }
    ds_destroy(&s);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

static void
test_xlate_cache_credits_survive_modify(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct xlate_cache *xc = xlate_cache_new();
    struct flow f = parse_flow("in_port=1,tcp");
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    (void)state;
    add_flows(ofp, RULES("tcp,actions=output:2"));
    xlate_flow_full(ofp, &f, false, 1000, xc);
    xlate_cache_push_stats(xc, 1, 100, 1000);
    assert_int_equal(ofproto_flow_mod_str(ofp, "tcp,actions=output:3",
                                          FLOW_TEXT_MODIFY, &error),
                     0);
    /* The cache still points to the replaced rule: credit forwarded. */
    xlate_cache_push_stats(xc, 1, 100, 2000);
    ofproto_dump_flows_at(ofp, NULL, 3000, &s);
    assert_non_null(strstr(ds_cstr(&s), "n_packets=2, n_bytes=200"));
    assert_non_null(strstr(ds_cstr(&s), "actions=output:3"));
    ds_destroy(&s);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

static void
test_xlate_cache_refreshes_mac_entries(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct mac_learning *ml = ofproto_get_mac_learning(ofp);
    struct xlate_cache *xc = xlate_cache_new();
    struct flow f = parse_flow("in_port=1,dl_src=00:00:00:00:00:01,"
                               "dl_dst=00:00:00:00:00:02");
    uint32_t port;

    (void)state;
    add_flows(ofp, RULES("actions=normal"));
    xlate_flow_full(ofp, &f, true, 0, xc);
    assert_int_equal(xlate_cache_n_macs(xc), 1);
    /* Refreshed at 200 s, so still there at 400 s (aging 300 s). */
    xlate_cache_push_stats(xc, 1, 60, 200 * 1000);
    mac_learning_run(ml, 400 * 1000);
    assert_true(mac_learning_lookup(ml, 0, f.dl_src, 400 * 1000, &port));
    assert_int_equal(port, 1);
    xlate_cache_delete(xc);
    ofproto_destroy(ofp);
}

/* ---- Trace -------------------------------------------------------------- */

static void
test_trace_output(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    (void)state;
    add_flows(ofp, RULES("priority=10,tcp,tp_dst=80,actions=resubmit(,1)",
                         "table=1,cookie=0x5,actions=output:2"));
    assert_int_equal(ofproto_trace(ofp,
                                   "in_port=1,tcp,nw_src=10.0.0.1,"
                                   "tp_dst=80",
                                   &s, &error),
                     0);
    const char *t = ds_cstr(&s);
    assert_non_null(strstr(t, "\nbridge(\"br0\")\n-------------\n"));
    assert_non_null(strstr(t, "\n 0. tcp,tp_dst=80, priority 10\n"
                              "    resubmit(,1)\n"
                              "     1. priority 32768, cookie 0x5\n"
                              "        output:2\n"));
    assert_non_null(strstr(t, "\nFinal flow: unchanged\n"
                              "Megaflow: tcp,in_port=1,tp_dst=80\n"
                              "Datapath actions: 2\n"));
    ds_destroy(&s);
    ofproto_destroy(ofp);
}

/* A packet given as bytes is followed through recirc(N): the pop_mpls
 * applied, the packet parsed again, the continuation traced (Open
 * vSwitch's trace stops at the recirc). */
static void
test_trace_follows_a_packet_through_recirculation(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    const char *t, *resume;

    (void)state;
    add_flows(ofp, RULES("in_port=1,mpls,actions=pop_mpls:0x0800,"
                         "goto_table:1",
                         "table=1,ip,nw_dst=10.0.0.2,actions=dec_ttl,"
                         "output:2"));
    assert_int_equal(
        ofproto_trace(ofp,
                      "in_port=1 0200000000020200000000018847000101404500001c"
                      "0001000009119dce0a0000010a000002003500350008eb71",
                      &s, &error),
        0);
    t = ds_cstr(&s);
    assert_non_null(strstr(t, "Megaflow: mpls,in_port=1,mpls_bos=1\n"
                              "Datapath actions: pop_mpls(eth_type=0x800),"
                              "recirc(0x"));
    resume = strstr(t, ") - resume\n");
    assert_non_null(resume);
    assert_non_null(strstr(resume, "Flow: udp,in_port=1,"));
    assert_non_null(strstr(resume, "nw_dst=10.0.0.2"));
    assert_non_null(strstr(resume, "Datapath actions: set(ipv4(ttl=8)),2\n"));
    ds_destroy(&s);

    /* A flow given as text stops at the recirc, as in Open vSwitch. */
    assert_int_equal(
        ofproto_trace(ofp, "in_port=1,mpls,mpls_bos=1", &s, &error), 0);
    assert_null(strstr(ds_cstr(&s), "resume"));
    ds_destroy(&s);
    ofproto_destroy(ofp);
}

static void
test_trace_reports_loops_and_bad_input(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    (void)state;
    add_flows(ofp,
              RULES("actions=resubmit(,1)", "table=1,actions=resubmit(,0)"));
    assert_int_equal(ofproto_trace(ofp, "in_port=1", &s, &error), 0);
    assert_non_null(strstr(ds_cstr(&s), ">>>> over max translation depth "
                                        "64 <<<<"));
    assert_non_null(strstr(ds_cstr(&s), "Translation failed (Recursion too "
                                        "deep), packet is dropped."));
    ds_clear(&s);
    assert_int_not_equal(
        ofproto_trace(ofp, "in_port=1,nw_dts=1.2.3.4", &s, &error), 0);
    assert_non_null(error);
    assert_null(strchr(error, '\n'));
    assert_non_null(strstr(error, "nw_dts"));
    free(error);
    ds_destroy(&s);
    ofproto_destroy(ofp);
}

static void
test_trace_hex_packet(void **state)
{
    struct ofproto *ofp = make_bridge();
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    /* Ethernet 00:..:02 <- 00:..:01, IPv4 UDP 1.1.1.1 -> 2.2.2.2, 1 -> 2. */
    const char *pkt = "in_port=1 "
                      "000000000002000000000001080045000024000000004011"
                      "74c301010101020202020001000200100000"
                      "0000000000000000";

    (void)state;
    add_flows(ofp, RULES("udp,tp_dst=2,actions=output:3"));
    assert_int_equal(ofproto_trace(ofp, pkt, &s, &error), 0);
    assert_non_null(strstr(ds_cstr(&s), "Datapath actions: 3\n"));
    ds_destroy(&s);
    ofproto_destroy(ofp);
}

/* ---- Randomized soundness ----------------------------------------------- */

static uint64_t rng_state;

static uint32_t
rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static uint32_t
rnd_n(uint32_t n)
{
    return rnd() % n;
}

static const char *const r_matches[] = {
    "",
    "tcp",
    "udp",
    "ip",
    "tcp,tp_dst=80",
    "tcp,tp_dst=%u",
    "udp,tp_src=%u",
    "tcp,tp_dst=0x%x0/0xfff0",
    "udp,tp_src=%u,tp_dst=0x40/0xffc0",
    "tcp,tp_src=0x%x0%x/0xf0f0",
    "tcp,tp_dst=80,tcp_flags=+syn",
    "udp,tp_dst=0x%x/0xff03",
    "ip,nw_src=10.0.0.0/8",
    "ip,nw_dst=10.%u.0.0/16",
    "ip,nw_src=10.0.0.%u",
    "in_port=%u",
    "reg0=%u",
    "reg1=0x%x/0x3",
    "dl_vlan=%u",
    "dl_src=00:00:00:00:00:0%u",
    "ip,nw_tos=%u",
    "ip,nw_ttl=%u",
    "metadata=%u",
};

static const char *const r_actions[] = {
    "output:%u",
    "output:%u",
    "in_port",
    "flood",
    "drop",
    "mod_dl_src:00:00:00:00:00:0%u",
    "load:%u->NXM_NX_REG0[]",
    "load:%u->NXM_NX_REG1[0..1]",
    "move:NXM_NX_REG0[0..7]->NXM_NX_REG1[0..7]",
    "resubmit(,%u)",
    "resubmit(%u,%u)",
    "mod_vlan_vid:%u",
    "strip_vlan",
    "write_metadata:%u",
    "normal",
};

static const char *const r_ip_actions[] = {
    "mod_nw_src:10.0.0.%u",
    "set_field:10.%u.0.0/255.255.0.0->ip_dst",
    "dec_ttl",
    "mod_nw_tos:%u",
    "move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG0[0..7]",
};

static const char *const r_tcp_actions[] = {
    "mod_tp_dst:%u",
    "move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[]",
    "set_field:%u->tcp_src",
};

static void
rnd_fill(char *buf, size_t size, const char *fmt)
{
    uint32_t a = rnd_n(4), b = rnd_n(4);

    if (strstr(fmt, "nw_tos") || strstr(fmt, "mod_nw_tos")) {
        a *= 4;
    }
    if (strstr(fmt, "resubmit(%u")) {
        a = 1 + rnd_n(3);
        b = rnd_n(4);
    } else if (strstr(fmt, "resubmit")) {
        a = rnd_n(4);
    } else if (strstr(fmt, "output") || strstr(fmt, "in_port")) {
        a = 1 + rnd_n(3);
    }
    snprintf(buf, size, fmt, a, b);
}

static unsigned long n_random_rules, n_random_rules_refused;

static void
random_rule(struct ofproto *ofp, unsigned int table)
{
    char match[128], actions[512], line[768], part[128];
    const char *mfmt = r_matches[rnd_n(ARRAY_SIZE(r_matches))];
    bool is_ip, is_tcp;
    int n_acts = 1 + (int)rnd_n(4);
    char *error = NULL;

    rnd_fill(match, sizeof match, mfmt);
    is_ip =
        strstr(match, "ip") || strstr(match, "tcp") || strstr(match, "udp");
    is_tcp = strstr(match, "tcp") != NULL;
    actions[0] = '\0';
    for (int i = 0; i < n_acts; i++) {
        const char *afmt;
        uint32_t pick = rnd_n(10);

        if (is_tcp && pick < 2) {
            afmt = r_tcp_actions[rnd_n(ARRAY_SIZE(r_tcp_actions))];
        } else if (is_ip && pick < 4) {
            afmt = r_ip_actions[rnd_n(ARRAY_SIZE(r_ip_actions))];
        } else {
            afmt = r_actions[rnd_n(ARRAY_SIZE(r_actions))];
        }
        if (!strcmp(afmt, "drop")) {
            continue;
        }
        rnd_fill(part, sizeof part, afmt);
        if (actions[0]) {
            strcat(actions, ",");
        }
        strcat(actions, part);
    }
    if (table < 3 && rnd_n(4) == 0) {
        snprintf(part, sizeof part, "goto_table:%u",
                 table + 1 + rnd_n(3 - table));
        if (actions[0]) {
            strcat(actions, ",");
        }
        strcat(actions, part);
    }
    snprintf(line, sizeof line, "table=%u,priority=%u%s%s,actions=%s", table,
             rnd_n(8), match[0] ? "," : "", match,
             actions[0] ? actions : "drop");
    n_random_rules++;
    if (ofproto_flow_mod_str(ofp, line, FLOW_TEXT_ADD, &error)) {
        n_random_rules_refused++; /* E.g. dec_ttl on an "ip" it lacks. */
        free(error);
    }
}

/* A port near the ones the random rules match (0..3, 80, 0x40/0xffc0,
 * 0x0000/0xfff0 ...), one bit away from them at any depth, or random. */
static uint16_t
random_port(void)
{
    static const uint16_t near[] = {0, 1, 2, 3, 0x20, 0x31, 0x40, 80};
    uint16_t port = near[rnd_n(ARRAY_SIZE(near))];

    switch (rnd_n(6)) {
    case 0:
        return (uint16_t)rnd();
    case 1:
        return port ^ (uint16_t)(1u << rnd_n(16));
    default:
        return port;
    }
}

static void
random_flow(struct flow *flow)
{
    static const char *const bases[] = {
        "tcp", "udp", "ip", "arp", "ipv6", "tcp6", "icmp",
    };
    char text[256];

    snprintf(text, sizeof text,
             "in_port=%u,%s%s,dl_src=00:00:00:00:00:0%u,"
             "dl_dst=00:00:00:00:00:0%u",
             1 + rnd_n(3), bases[rnd_n(ARRAY_SIZE(bases))],
             rnd_n(3) ? "" : ",dl_vlan=2", rnd_n(4), rnd_n(4));
    *flow = parse_flow(text);
    if (flow->dl_type == htons(0x0800)) {
        flow->nw_src = htonl(0x0a000000 | rnd_n(4));
        flow->nw_dst = htonl(0x0a000000 | (rnd_n(4) << 16) | rnd_n(2));
        flow->nw_ttl = (uint8_t)rnd_n(3);
        flow->nw_tos = (uint8_t)(rnd_n(4) * 4);
    }
    if (flow->nw_proto == 6 || flow->nw_proto == 17) {
        flow->tp_src = htons(random_port());
        flow->tp_dst = htons(rnd_n(3) ? random_port() : 80);
    }
    if (flow->nw_proto == 6) {
        flow->tcp_flags = htons(rnd_n(2) ? 0x002 : 0x010);
    }
}

/* A flow that agrees with 'flow' on every bit of 'mask' and is random
 * elsewhere (among the values random_flow() draws from). */
static void
random_flow_in_mask(const struct flow *flow, const struct flow_wildcards *wc,
                    struct flow *out)
{
    const uint64_t *f = flow_u64s(flow), *m = flow_u64s(&wc->masks);
    uint64_t *o;

    random_flow(out);
    o = flow_u64s_rw(out);
    for (size_t i = 0; i < FLOW_U64S; i++) {
        o[i] = (f[i] & m[i]) | (o[i] & ~m[i]);
    }
}

static void
test_random_megaflows_are_sound(void **state)
{
    const char *soak = getenv("XLATE_SOAK");
    const char *seed = getenv("XLATE_SEED");
    unsigned int rounds = 40 * (soak ? (unsigned int)atoi(soak) : 1);
    unsigned long n_checked = 0;

    (void)state;
    rng_state = seed ? strtoull(seed, NULL, 0) : 0x5eed;
    for (unsigned int round = 0; round < rounds; round++) {
        struct ofproto *ofp = make_bridge();
        unsigned int n_rules = 5 + rnd_n(40);

        for (unsigned int i = 0; i < n_rules; i++) {
            random_rule(ofp, rnd_n(4));
        }
        /* Learn a few MACs so that NORMAL does not always flood. */
        for (int i = 0; i < 3; i++) {
            struct eth_addr mac = {{0, 0, 0, 0, 0, (uint8_t)i}};

            mac_learning_learn(ofproto_get_mac_learning(ofp), 0, mac,
                               1 + (uint32_t)i, 0);
        }
        for (int i = 0; i < 30; i++) {
            struct flow flow;
            struct xlate_out xout;
            struct xlate_in xin;

            random_flow(&flow);
            xlate_in_init(&xin, ofp, &flow);
            xin.now = 1;
            xlate_actions(&xin, &xout);
            for (int j = 0; j < 8; j++) {
                struct flow other;
                struct xlate_out xout2;
                struct xlate_in xin2;

                random_flow_in_mask(&flow, &xout.wc, &other);
                xlate_in_init(&xin2, ofp, &other);
                xin2.now = 1;
                xlate_actions(&xin2, &xout2);
                if (!dp_actions_equal(xout.actions, xout2.actions)
                    || xout.slow != xout2.slow) {
                    struct ds a = DS_EMPTY_INITIALIZER;
                    struct ds b = DS_EMPTY_INITIALIZER;
                    struct ds m = DS_EMPTY_INITIALIZER;
                    struct ds d = DS_EMPTY_INITIALIZER;
                    struct match mf;

                    dp_actions_format(xout.actions, &a);
                    dp_actions_format(xout2.actions, &b);
                    match_init(&mf, &flow, &xout.wc);
                    match_format(&mf, -1, &m);
                    ofproto_dump_flows(ofp, NULL, &d);
                    fail_msg("megaflow %s: %s vs %s\n%s", ds_cstr(&m),
                             ds_cstr(&a), ds_cstr(&b), ds_cstr(&d));
                }
                xlate_out_uninit(&xout2);
                n_checked++;
            }
            xlate_out_uninit(&xout);
        }
        ofproto_destroy(ofp);
    }
    assert_true(n_checked > 0);
    /* The rule sets are not vacuous: most random rules are accepted. */
    assert_true(n_random_rules_refused * 4 < n_random_rules);
}

/* ---- Concurrency -------------------------------------------------------- */

struct cc_shared {
    struct ofproto *ofp;
    int done;
    int bad;
};

static void *
cc_handler_main(void *sh_)
{
    struct cc_shared *sh = sh_;
    struct flow f = parse_flow("in_port=1,tcp");

    rcu_thread_register();
    while (!atomic_load_acquire(&sh->done)) {
        struct xlate_cache *xc = xlate_cache_new();
        struct xlate_out xout;
        struct xlate_in xin;
        struct ds a = DS_EMPTY_INITIALIZER;

        xlate_in_init(&xin, sh->ofp, &f);
        xin.xcache = xc;
        xlate_actions(&xin, &xout);
        dp_actions_format(xout.actions, &a);
        /* Either rule set, never half of a batch. */
        if (strcmp(ds_cstr(&a), "2") && strcmp(ds_cstr(&a), "3")) {
            atomic_store_relaxed(&sh->bad, 1);
        }
        ds_destroy(&a);
        xlate_out_uninit(&xout);
        xlate_cache_push_stats(xc, 1, 64, 1);
        xlate_cache_delete(xc);
    }
    rcu_thread_unregister();
    return NULL;
}

static void
test_batches_are_atomic_for_concurrent_translation(void **state)
{
    static const char *const set_a[] = {
        "priority=5,tcp,actions=resubmit(,1)",
        "table=1,actions=output:2",
    };
    static const char *const set_b[] = {"priority=5,tcp,actions=output:3"};
    struct cc_shared sh = {make_bridge(), 0, 0};
    pthread_t threads[3];
    char *error = NULL;

    (void)state;
    add_flows(sh.ofp, RULES(set_a[0], set_a[1]));
    for (int i = 0; i < 3; i++) {
        pthread_create(&threads[i], NULL, cc_handler_main, &sh);
    }
    for (int round = 0; round < 200; round++) {
        const char *const *set = round % 2 ? set_a : set_b;
        size_t n = round % 2 ? 2 : 1;
        struct flow_text fts[3];

        assert_int_equal(
            flow_text_parse("table=255", FLOW_TEXT_DELETE, &fts[0], &error),
            0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(
                flow_text_parse(set[i], FLOW_TEXT_ADD, &fts[i + 1], &error),
                0);
        }
        assert_int_equal(ofproto_flow_mods(sh.ofp, fts, n + 1, &error), 0);
        for (size_t i = 0; i < n + 1; i++) {
            flow_text_destroy(&fts[i]);
        }
        ofproto_run_timeouts(sh.ofp, (uint64_t)round);
    }
    atomic_store_release(&sh.done, 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(sh.bad, 0);
    ofproto_destroy(sh.ofp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_mpls_builds_the_entry_ovs_builds),
        cmocka_unit_test(test_mpls_rewrites_commit_as_a_masked_set),
        cmocka_unit_test(test_dec_mpls_ttl_at_one_goes_to_controller),
        cmocka_unit_test(test_pop_mpls_then_output_is_cached),
        cmocka_unit_test(test_rewrites_after_the_last_output_are_dropped),
        cmocka_unit_test(test_pop_mpls_then_table_recirculates_and_resumes),
        cmocka_unit_test(test_recirc_id_without_state_drops),
        cmocka_unit_test(test_pop_mpls_freezes_before_l3_actions),
        cmocka_unit_test(test_pop_outer_mpls_entry_recirculates_for_the_next),
        cmocka_unit_test(test_frozen_rules_resume_each_in_its_table),
        cmocka_unit_test(test_output_to_port),
        cmocka_unit_test(test_output_to_input_port_is_skipped),
        cmocka_unit_test(test_in_port_action_outputs_to_input_port),
        cmocka_unit_test(test_all_and_local),
        cmocka_unit_test(test_output_to_missing_port_does_nothing),
        cmocka_unit_test(test_drop_and_table_miss),
        cmocka_unit_test(test_table_miss_to_controller_is_slow_path),
        cmocka_unit_test(test_controller_action_is_slow_path),
        cmocka_unit_test(test_rewrites_commit_lazily_before_each_output),
        cmocka_unit_test(test_mod_tp_dst_sets_udp_port),
        cmocka_unit_test(test_mod_nw_tos_only_sets_when_changed),
        cmocka_unit_test(test_dec_ttl),
        cmocka_unit_test(test_dec_ttl_at_one_goes_to_controller),
        cmocka_unit_test(test_dec_ttl_ipv6_hop_limit),
        cmocka_unit_test(test_mod_vlan_vid_on_untagged_pushes_tag),
        cmocka_unit_test(test_mod_vlan_vid_on_tagged_rewrites_vid),
        cmocka_unit_test(test_mod_vlan_pcp_on_untagged_pushes_vid_zero),
        cmocka_unit_test(test_strip_vlan),
        cmocka_unit_test(test_action_set_runs_when_the_pipeline_ends),
        cmocka_unit_test(test_action_set_runs_in_openflow_order),
        cmocka_unit_test(test_action_set_collects_writes_across_resubmits),
        cmocka_unit_test(test_set_queue_emits_nothing),
        cmocka_unit_test(test_push_vlan_then_set_field),
        cmocka_unit_test(test_set_field_and_move),
        cmocka_unit_test(test_masked_set_field_masks_the_set),
        cmocka_unit_test(test_registers_do_not_reach_the_megaflow),
        cmocka_unit_test(test_set_field_icmp_type_and_code_reach_the_datapath),
        cmocka_unit_test(test_set_field_arp_fields_reach_the_datapath),
        cmocka_unit_test(test_set_field_nd_fields_reach_the_datapath),
        cmocka_unit_test(test_resubmit_and_goto_table),
        cmocka_unit_test(test_resubmit_with_in_port),
        cmocka_unit_test(test_resubmit_loop_is_detected),
        cmocka_unit_test(test_resubmit_explosion_is_bounded),
        cmocka_unit_test(test_megaflow_udp_does_not_match_tp_dst),
        cmocka_unit_test(
            test_megaflow_l4_port_miss_unwildcards_leading_port_bits),
        cmocka_unit_test(
            test_megaflow_prefix_rule_unwildcards_only_needed_bits),
        cmocka_unit_test(test_normal_floods_unknown_and_learns),
        cmocka_unit_test(test_normal_without_may_learn_does_not_learn),
        cmocka_unit_test(test_normal_broadcast_floods_and_vlans_are_separate),
        cmocka_unit_test(test_xlate_cache_credits_every_rule_hit),
        cmocka_unit_test(test_xlate_cache_credits_table_lookups),
        cmocka_unit_test(test_dump_tables_prints_like_ovs_ofctl),
        cmocka_unit_test(test_xlate_cache_grows_past_its_inline_rules),
        cmocka_unit_test(test_xlate_cache_credits_survive_modify),
        cmocka_unit_test(test_xlate_cache_refreshes_mac_entries),
        cmocka_unit_test(test_trace_output),
        cmocka_unit_test(test_trace_follows_a_packet_through_recirculation),
        cmocka_unit_test(test_trace_reports_loops_and_bad_input),
        cmocka_unit_test(test_trace_hex_packet),
        cmocka_unit_test(test_random_megaflows_are_sound),
        cmocka_unit_test(test_meters_become_datapath_meter_actions),
        cmocka_unit_test(test_batches_are_atomic_for_concurrent_translation),
    };

    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_rcu_group_teardown);
}
