/* Unit tests for src/ofproto/group.c and the group action in xlate.c:
 * the text of group-mods (as ovs-ofctl writes and prints it), the checks
 * and errors of the table (as Open vSwitch 3.1 answers them, checked with
 * /work/shared/tools/ovs-sandbox.sh), flows that name groups, the
 * translation of each group type with its megaflow, and the crediting of
 * group and bucket counters through the xlate cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>

#include "datapath/dp-actions.h"
#include "flow/flow-text.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "ofproto/group.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "unit-rcu.h"
#include "unit-switch.h"
#include "upcall/upcall.h"

/* ---- Helpers ------------------------------------------------------------ */

static void
add_group(struct ofproto *ofp, const char *text)
{
    char *error = NULL;

    if (ofproto_group_mod_str(ofp, text, GROUP_MOD_ADD, &error)) {
        fail_msg("add-group \"%s\": %s", text, error);
    }
}

static int
group_mod_errno(struct ofproto *ofp, const char *text, int command)
{
    char *error = NULL;
    int rc = ofproto_group_mod_str(ofp, text, command, &error);

    if (rc) {
        assert_non_null(error);
        assert_null(strchr(error, '\n'));
    }
    free(error);
    return rc;
}

static void
add_flow(struct ofproto *ofp, const char *line)
{
    char *error = NULL;

    if (ofproto_flow_mod_str(ofp, line, FLOW_TEXT_ADD, &error)) {
        fail_msg("add-flow \"%s\": %s", line, error);
    }
}

/* What ofproto/trace says of 'flow_text': its "Megaflow:" and "Datapath
 * actions:" lines, and whether the translation failed. */
struct traced {
    char megaflow[256];
    char actions[256];
    bool failed;
};

static void
copy_line(const char *text, const char *label, char *dst, size_t size)
{
    const char *p = strstr(text, label);

    assert_non_null(p);
    p += strlen(label);
    snprintf(dst, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static struct traced
trace(struct ofproto *ofp, const char *flow_text)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    struct traced t;

    if (ofproto_trace(ofp, flow_text, &out, &error)) {
        fail_msg("trace \"%s\": %s", flow_text, error);
    }
    copy_line(ds_cstr(&out), "\nMegaflow: ", t.megaflow, sizeof t.megaflow);
    copy_line(ds_cstr(&out), "\nDatapath actions: ", t.actions,
              sizeof t.actions);
    t.failed = strstr(ds_cstr(&out), "Translation failed") != NULL;
    ds_destroy(&out);
    return t;
}

static void
assert_traced(struct ofproto *ofp, const char *flow_text, const char *actions,
              const char *megaflow)
{
    struct traced t = trace(ofp, flow_text);

    if (strcmp(t.actions, actions) != 0 || strcmp(t.megaflow, megaflow) != 0) {
        fail_msg("%s:\n  actions  %s\n  expected %s\n  megaflow %s\n"
                 "  expected %s",
                 flow_text, t.actions, actions, t.megaflow, megaflow);
    }
}

/* Translates 'flow_text' recording what it went through in 'xc'. */
static void
translate_into_cache(struct ofproto *ofp, const char *flow_text,
                     struct xlate_cache *xc)
{
    struct xlate_out xout;
    struct xlate_in xin;
    struct match m;
    char *error = NULL;

    assert_int_equal(match_from_string(flow_text, &m, &error), 0);
    xlate_in_init(&xin, ofp, &m.flow);
    xin.xcache = xc;
    assert_int_equal(xlate_actions(&xin, &xout), XLATE_OK);
    xlate_out_uninit(&xout);
}

static char *
dump(struct ofproto *ofp, uint32_t id, bool stats)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ofproto_dump_groups(ofp, id, stats, &s);
    return ds_steal_cstr(&s);
}

/* ---- Text --------------------------------------------------------------- */

/* What ovs-ofctl -O OpenFlow13 dump-groups printed for these add-group
 * arguments against Open vSwitch 3.1. */
static void
test_group_text_prints_as_ovs_ofctl(void **state)
{
    static const char *const cases[][2] = {
        {"group_id=1,type=select,bucket=weight:10,actions=output:2,"
         "bucket=weight:20,actions=output:3",
         "group_id=1,type=select,bucket=weight:10,actions=output:2,"
         "bucket=weight:20,actions=output:3"},
        {"group_id=10,type=select,bucket=actions=output:2,bucket=output:3",
         "group_id=10,type=select,bucket=actions=output:2,"
         "bucket=actions=output:3"},
        {"group_id=4,type=fast_failover,bucket=watch_port:2,"
         "actions=output:2,bucket=watch_port:3,actions=output:3",
         "group_id=4,type=ff,bucket=watch_port:2,actions=output:2,"
         "bucket=watch_port:3,actions=output:3"},
        {"group_id=13,type=ff,bucket=watch_group:10,actions=output:2,"
         "bucket=watch_port:any,watch_group:4,actions=drop",
         "group_id=13,type=ff,bucket=watch_group:10,actions=output:2,"
         "bucket=watch_group:4,actions=drop"},
        {"group_id=14,type=all", "group_id=14,type=all"},
        {"group_id=15,type=indirect,bucket=mod_dl_src:00:11:22:33:44:55,"
         "output:3",
         /* Open vSwitch prints set_field: ovs-ofctl carried it over
          * OpenFlow 1.3 (flowswitch-ctl does too, test_groups.py). */
         "group_id=15,type=indirect,bucket=actions=mod_dl_src:"
         "00:11:22:33:44:55,output:3"},
        {"group_id=32,type=select,bucket=weight:0,actions=output:2",
         "group_id=32,type=select,bucket=weight:0,actions=output:2"},
        {"group_id=5,type=all,bucket=actions=group:99",
         "group_id=5,type=all,bucket=actions=group:99"},
        /* Selection methods: what ovs-ofctl -O OpenFlow15 dump-groups
         * printed (Open vSwitch's field order and names). */
        {"group_id=1,type=select,selection_method=hash,fields(nw_proto,"
         "nw_src,eth_dst,tcp_dst,ipv6_dst,vlan_tci),bucket=output:1",
         "group_id=1,type=select,selection_method=hash,fields(eth_dst,"
         "vlan_tci,ip_src,ipv6_dst,nw_proto,tcp_dst),bucket=actions="
         "output:1"},
        {"group_id=2,type=select,selection_method=hash,fields=dl_src,"
         "bucket=output:1",
         "group_id=2,type=select,selection_method=hash,fields=eth_src,"
         "bucket=actions=output:1"},
        {"group_id=3,type=select,selection_method=hash,"
         "selection_method_param=7,fields(ip_dst=255.255.0.0,"
         "tcp_src=0xff00),bucket=output:1",
         "group_id=3,type=select,selection_method=hash,"
         "selection_method_param=7,fields(ip_dst=255.255.0.0,"
         "tcp_src=65280),bucket=actions=output:1"},
        {"group_id=4,type=select,selection_method=hash,bucket=output:1",
         "group_id=4,type=select,selection_method=hash,bucket=actions="
         "output:1"},
        {"group_id=14,type=select,selection_method=hash,"
         "fields(ip_src=255.0.255.0),bucket=output:1",
         "group_id=14,type=select,selection_method=hash,"
         "fields=ip_src=255.0.255.0,bucket=actions=output:1"},
        {"group_id=15,type=select,selection_method=hash,fields(in_port,"
         "metadata,reg0,tcp_flags,mpls_label,nw_ttl),bucket=output:1",
         "group_id=15,type=select,selection_method=hash,fields(metadata,"
         "in_port,reg0,mpls_label,nw_ttl,tcp_flags),bucket=actions="
         "output:1"},
        {"group_id=16,type=select,selection_method=hash,fields(tp_dst),"
         "bucket=output:1",
         "group_id=16,type=select,selection_method=hash,fields=tcp_dst,"
         "bucket=actions=output:1"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        struct group_mod gm;
        char *error = NULL;

        if (group_mod_parse(cases[i][0], GROUP_MOD_ADD, &gm, &error)) {
            fail_msg("\"%s\": %s", cases[i][0], error);
        }
        group_format(&gm, &s);
        assert_string_equal(ds_cstr(&s), cases[i][1]);
        ds_destroy(&s);
        group_mod_destroy(&gm);
    }
}

/* ovs-ofctl's own refusals, and the selection methods flowswitch lacks. */
static void
test_group_text_refusals(void **state)
{
    static const char *const bad[] = {
        "group_id=1,type=all,bucket=weight:5,actions=output:2",
        "group_id=1,type=ff,bucket=actions=output:2",
        "group_id=1,type=indirect,bucket=output:2,bucket=output:3",
        /* ovs-ofctl refuses these; the switch refuses foo and a method
         * on an all group; dp_hash is what flowswitch lacks. */
        "group_id=9,type=select,fields=ip_src,bucket=output:1",
        "group_id=10,type=select,selection_method=hash,"
        "fields(ip_src=0.0.0.0),bucket=output:1",
        "group_id=11,type=select,selection_method=hash,"
        "fields(ip_src,ip_src),bucket=output:1",
        "group_id=11,type=select,selection_method=hash,"
        "fields(nw_src,ip_src),bucket=output:1",
        "group_id=12,type=select,selection_method=hash,fields(foo),"
        "bucket=output:1",
        "group_id=13,type=select,selection_method_param=5,bucket=output:1",
        "group_id=7,type=all,selection_method=hash,fields=ip_src,"
        "bucket=output:1",
        "group_id=8,type=select,selection_method=foo,bucket=output:1",
        "group_id=5,type=select,selection_method=dp_hash,bucket=output:1",
        "group_id=5,type=select,selection_method=hash,"
        "fields(ip_src=10.0.0.0/8),bucket=output:1",
        "group_id=5,type=select,selection_method=hash,fields(ip_src,"
        "bucket=output:1",
        "group_id=5,type=select,selection_method=hash,"
        "selection_method_param=x,bucket=output:1",
        "group_id=1,type=fancy",
        "type=all,bucket=output:2",
        "group_id=1,type=all,bucket=output:2,nonsense:1",
        "group_id=1,type=all,bucket=watch_port:0,actions=output:2",
        "group_id=1,type=all,bucket=actions=goto_table:1",
        "group_id=1,type=all,bucket=actions=output:2,write_metadata:1",
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct group_mod gm;
        char *error = NULL;

        if (!group_mod_parse(bad[i], GROUP_MOD_ADD, &gm, &error)) {
            fail_msg("\"%s\" was accepted", bad[i]);
        }
        assert_non_null(error);
        assert_non_null(strstr(error, "group: "));
        free(error);
        group_mod_destroy(&gm);
    }
}

/* ---- The table ---------------------------------------------------------- */

static void
test_group_mod_errors_as_open_vswitch(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct group_mod gm;
    char *error = NULL;
    char *text;

    (void)state;
    add_group(ofp, "group_id=1,type=all,bucket=output:2");
    assert_int_equal(
        group_mod_errno(ofp, "group_id=1,type=all", GROUP_MOD_ADD), EEXIST);
    assert_int_equal(
        group_mod_errno(ofp, "group_id=50,type=all", GROUP_MOD_MODIFY),
        ENOENT);
    /* Deleting what does not exist succeeds, as in Open vSwitch. */
    assert_int_equal(group_mod_errno(ofp, "group_id=77", GROUP_MOD_DELETE), 0);

    /* What only a wire group-mod can say. */
    group_mod_init(&gm, GROUP_MOD_ADD);
    gm.group_id = 2;
    gm.type = GROUP_TYPE_ALL;
    group_mod_add_bucket(&gm)->watch_port = 2;
    assert_int_equal(ofproto_group_mod(ofp, &gm, &error),
                     GROUP_ERR_WATCH_UNSUPPORTED);
    free(error);
    gm.type = 7;
    assert_int_equal(ofproto_group_mod(ofp, &gm, &error), GROUP_ERR_BAD_TYPE);
    free(error);
    gm.type = GROUP_TYPE_INDIRECT;
    gm.buckets[0].watch_port = OFPP_ANY;
    gm.n_buckets = 0;
    assert_int_equal(ofproto_group_mod(ofp, &gm, &error),
                     GROUP_ERR_INVALID_GROUP);
    free(error);
    gm.n_buckets = 1;
    gm.group_id = GROUP_ID_MAX + 1;
    assert_int_equal(ofproto_group_mod(ofp, &gm, &error),
                     GROUP_ERR_INVALID_GROUP);
    free(error);
    group_mod_destroy(&gm);

    text = dump(ofp, GROUP_ID_ALL, false);
    assert_string_equal(text,
                        " group_id=1,type=all,bucket=actions=output:2\n");
    free(text);
    ofproto_destroy(ofp);
}

/* A flow may name only an existing group (OFPBAC_BAD_OUT_GROUP); a group
 * may name any group, itself included, as in Open vSwitch. */
static void
test_flows_must_name_existing_groups(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *error = NULL;

    (void)state;
    assert_int_equal(ofproto_flow_mod_str(ofp, "in_port=1,actions=group:44",
                                          FLOW_TEXT_ADD, &error),
                     ENXIO);
    assert_non_null(strstr(error, "group:44"));
    free(error);
    add_group(ofp, "group_id=7,type=all,bucket=actions=group:7");
    add_group(ofp, "group_id=5,type=all,bucket=actions=group:99");
    add_flow(ofp, "in_port=1,actions=group:7");
    /* The loop is cut by the depth limit: the translation drops. */
    assert_true(trace(ofp, "in_port=1,udp").failed);
    /* Naming itself twice, it would double at each level: the resubmit
     * limit, which groups count against, cuts it. */
    add_group(ofp, "group_id=17,type=all,bucket=actions=group:17,"
                   "bucket=actions=group:17");
    add_flow(ofp, "in_port=2,actions=group:17");
    assert_true(trace(ofp, "in_port=2,udp").failed);
    ofproto_destroy(ofp);
}

/* Deleting a group deletes the flows that name it, not the groups that
 * chain to it; ref_count counts the flows. */
static void
test_deleting_a_group_deletes_its_flows(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct ds s = DS_EMPTY_INITIALIZER;
    char *text;

    (void)state;
    add_group(ofp, "group_id=1,type=all,bucket=output:2");
    add_group(ofp, "group_id=6,type=all,bucket=actions=group:1");
    add_flow(ofp, "in_port=1,actions=group:1");
    add_flow(ofp, "in_port=3,actions=output:2,group:1");
    add_flow(ofp, "in_port=2,actions=group:6");
    text = dump(ofp, 1, true);
    assert_non_null(strstr(text, "ref_count=2,"));
    free(text);
    assert_int_equal(group_mod_errno(ofp, "group_id=1", GROUP_MOD_DELETE), 0);
    ofproto_dump_flows(ofp, NULL, &s);
    assert_null(strstr(ds_cstr(&s), "group:1"));
    assert_non_null(strstr(ds_cstr(&s), "in_port=2 actions=group:6"));
    ds_destroy(&s);
    text = dump(ofp, GROUP_ID_ALL, false);
    assert_string_equal(text, " group_id=6,type=all,bucket=actions=group:1\n");
    free(text);
    assert_int_equal(group_mod_errno(ofp, "", GROUP_MOD_DELETE), 0);
    assert_int_equal(ofproto_n_rules(ofp), 0);
    ofproto_destroy(ofp);
}

/* ref_count counts rules, each once however often it names the group
 * (apply and write actions), for every group of one dump. */
static void
test_ref_count_counts_each_rule_once(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *text;

    (void)state;
    add_group(ofp, "group_id=1,type=all,bucket=output:2");
    add_group(ofp, "group_id=2,type=all,bucket=output:3");
    add_group(ofp, "group_id=3,type=all,bucket=output:3");
    add_flow(ofp, "in_port=1,actions=group:1,write_actions(group:1)");
    add_flow(ofp, "in_port=2,actions=group:2");
    add_flow(ofp, "in_port=3,actions=group:1,write_actions(group:2)");
    text = dump(ofp, GROUP_ID_ALL, true);
    for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
        static const unsigned int want[] = {0, 2, 2, 0};
        unsigned int id, refs;

        assert_int_equal(sscanf(line,
                                " group_id=%u,duration=%*[^,],"
                                "ref_count=%u,",
                                &id, &refs),
                         2);
        assert_in_range(id, 1, 3);
        assert_int_equal(refs, want[id]);
    }
    free(text);
    ofproto_destroy(ofp);
}

static void
test_group_changes_move_the_change_sequence(void **state)
{
    struct ofproto *ofp = unit_bridge();
    uint64_t seq = ofproto_get_change_seq(ofp);

    (void)state;
    add_group(ofp, "group_id=1,type=all,bucket=output:2");
    assert_true(ofproto_get_change_seq(ofp) != seq);
    seq = ofproto_get_change_seq(ofp);
    assert_int_equal(ofproto_port_set_live(ofp, 2, false), 0);
    assert_true(ofproto_get_change_seq(ofp) != seq);
    assert_int_equal(ofproto_port_set_live(ofp, 9, false), ENOENT);
    ofproto_destroy(ofp);
}

/* ---- Translation -------------------------------------------------------- */

/* Open vSwitch 3.1 (dpctl/dump-flows) for the same group and packet:
 * set(eth(src=00:00:00:00:00:aa)),2,set(eth(src=00:00:00:00:00:01)),3
 * with eth(src=00:00:00:00:00:01) in the megaflow. */
static void
test_all_group_runs_each_bucket_on_the_entering_packet(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    add_group(ofp, "group_id=2,type=all,bucket=actions=mod_dl_src:"
                   "00:00:00:00:00:aa,output:2,bucket=actions=output:3");
    add_flow(ofp, "in_port=1,actions=group:2,output:1");
    assert_traced(ofp, "in_port=1,udp,dl_src=00:00:00:00:00:01",
                  "set(eth(src=00:00:00:00:00:aa)),2,"
                  "set(eth(src=00:00:00:00:00:01)),3",
                  "in_port=1,dl_src=00:00:00:00:00:01");
    ofproto_destroy(ofp);
}

static void
test_indirect_group_runs_its_bucket(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    add_group(ofp, "group_id=3,type=indirect,bucket=output:3");
    add_flow(ofp, "in_port=1,actions=group:3");
    assert_traced(ofp, "in_port=1,tcp,tp_dst=80", "3", "in_port=1");
    ofproto_destroy(ofp);
}

/* The first live bucket; a watched port that goes down moves the
 * traffic; no live bucket drops; a watched group is live when one of its
 * buckets is. */
static void
test_fast_failover_takes_the_first_live_bucket(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    add_group(ofp, "group_id=4,type=ff,bucket=watch_port:2,actions=output:2,"
                   "bucket=watch_port:3,actions=output:3");
    add_group(ofp, "group_id=5,type=ff,bucket=watch_group:4,actions=output:1,"
                   "bucket=watch_port:3,actions=output:3");
    add_flow(ofp, "in_port=1,actions=group:4");
    add_flow(ofp, "in_port=2,actions=group:5");
    assert_string_equal(trace(ofp, "in_port=1,udp").actions, "2");
    assert_string_equal(trace(ofp, "in_port=2,udp").actions, "1");
    ofproto_port_set_live(ofp, 2, false);
    assert_string_equal(trace(ofp, "in_port=1,udp").actions, "3");
    assert_string_equal(trace(ofp, "in_port=1,udp").megaflow, "in_port=1");
    ofproto_port_set_live(ofp, 3, false);
    assert_string_equal(trace(ofp, "in_port=1,udp").actions, "drop");
    /* Group 4 has no live bucket now: group 5 falls to its next one,
     * watching port 3, down too. */
    assert_string_equal(trace(ofp, "in_port=2,udp").actions, "drop");
    ofproto_port_set_live(ofp, 2, true);
    assert_string_equal(trace(ofp, "in_port=1,udp").actions, "2");
    assert_string_equal(trace(ofp, "in_port=2,udp").actions, "1");

    /* Groups that watch each other: dead, and found dead quickly (the
     * walk is bounded, not exponential in the depth). */
    add_group(ofp, "group_id=8,type=ff,bucket=watch_group:9,actions=output:2,"
                   "bucket=watch_group:9,actions=output:3");
    add_group(ofp, "group_id=9,type=ff,bucket=watch_group:8,actions=output:2,"
                   "bucket=watch_group:8,actions=output:3");
    add_flow(ofp, "in_port=3,actions=group:8");
    assert_string_equal(trace(ofp, "in_port=3,udp").actions, "drop");
    ofproto_destroy(ofp);
}

/* One usable bucket: no hash, the megaflow stays wide.  Several: exactly
 * the hashed fields are un-wildcarded. */
static void
test_select_unwildcards_only_what_it_hashes(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct traced r;

    (void)state;
    add_group(ofp, "group_id=1,type=select,bucket=output:2");
    add_group(ofp, "group_id=2,type=select,bucket=output:2,bucket=output:3");
    add_group(ofp, "group_id=3,type=select,bucket=weight:0,output:3,"
                   "bucket=output:2");
    add_flow(ofp, "in_port=1,actions=group:1");
    add_flow(ofp, "in_port=2,actions=group:2");
    add_flow(ofp, "in_port=3,actions=group:3");
    assert_traced(ofp, "in_port=1,udp,nw_src=10.0.0.1,tp_dst=53", "2",
                  "in_port=1");
    assert_traced(ofp, "in_port=3,udp,nw_src=10.0.0.1,tp_dst=53", "2",
                  "in_port=3");
    r = trace(ofp, "in_port=2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,"
                   "tp_src=1000,tp_dst=53");
    assert_string_equal(r.megaflow, "udp,in_port=2,nw_src=10.0.0.1,"
                                    "nw_dst=10.0.0.2,tp_src=1000,tp_dst=53");
    r = trace(ofp, "in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2");
    assert_string_equal(r.megaflow, "icmp,in_port=2,nw_src=10.0.0.1,"
                                    "nw_dst=10.0.0.2");
    r = trace(ofp, "in_port=2,arp,dl_src=00:00:00:00:00:01,"
                   "dl_dst=00:00:00:00:00:02");
    assert_string_equal(r.megaflow, "arp,in_port=2,dl_src=00:00:00:00:00:01,"
                                    "dl_dst=00:00:00:00:00:02");
    ofproto_destroy(ofp);
}

/* selection_method=hash un-wildcards exactly the masked bits of its
 * fields (and their prerequisites), skips a field whose prerequisites
 * the packet lacks, and picks by those bits alone. */
static void
test_select_hash_fields_unwildcard_their_masks(void **state)
{
    struct ofproto *ofp = unit_bridge();
    unsigned int to3 = 0;
    struct traced r;

    (void)state;
    add_group(ofp, "group_id=1,type=select,selection_method=hash,"
                   "fields(ip_dst=255.255.255.0,tcp_dst),bucket=output:2,"
                   "bucket=output:3");
    add_flow(ofp, "in_port=1,actions=group:1");
    r = trace(ofp, "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.1.2.3,"
                   "tp_src=1000,tp_dst=80");
    assert_string_equal(r.megaflow,
                        "tcp,in_port=1,nw_dst=10.1.2.0/24,tp_dst=80");
    /* udp: tcp_dst's prerequisite fails; only the address is hashed. */
    r = trace(ofp, "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.1.2.3,"
                   "tp_src=1000,tp_dst=80");
    assert_string_equal(r.megaflow, "udp,in_port=1,nw_dst=10.1.2.0/24");
    /* Not IP: nothing to hash but what the prerequisites read. */
    r = trace(ofp, "in_port=1,arp,arp_spa=10.0.0.1");
    assert_string_equal(r.megaflow, "arp,in_port=1");
    /* The same /24 and port always take the same bucket; across /24s
     * both buckets are used. */
    for (unsigned int i = 0; i < 64; i++) {
        char a[128], b[128];

        snprintf(a, sizeof a,
                 "in_port=1,tcp,nw_dst=10.%u.0.1,tp_src=1,tp_dst=80", i);
        snprintf(b, sizeof b,
                 "in_port=1,tcp,nw_dst=10.%u.0.200,tp_src=9,tp_dst=80", i);
        assert_string_equal(trace(ofp, a).actions, trace(ofp, b).actions);
        to3 += !strcmp(trace(ofp, a).actions, "3");
    }
    assert_in_range(to3, 1, 63);
    ofproto_destroy(ofp);
}

/* The datapath actions of 'flow_text' arriving again after recirc(id). */
static char *
resumed_actions(struct ofproto *ofp, const char *flow_text, uint32_t id)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct xlate_out xout;
    struct xlate_in xin;
    struct match m;
    char *error = NULL;

    assert_int_equal(match_from_string(flow_text, &m, &error), 0);
    m.flow.recirc_id = id;
    xlate_in_init(&xin, ofp, &m.flow);
    assert_int_equal(xlate_actions(&xin, &xout), XLATE_OK);
    dp_actions_format(xout.actions, &s);
    xlate_out_uninit(&xout);
    return ds_steal_cstr(&s);
}

/* After pop_mpls a select group waits for the recirculation, as in Open
 * vSwitch: its hash then reads the exposed IP header, so MPLS flows
 * spread over the buckets instead of all hashing zeros.  An all group
 * needs no header and runs at once. */
static void
test_select_after_pop_mpls_recirculates(void **state)
{
    struct ofproto *ofp = unit_bridge();
    unsigned int to3 = 0;
    struct traced t;
    uint32_t id;

    (void)state;
    add_group(ofp, "group_id=1,type=select,selection_method=hash,"
                   "fields(ip_dst),bucket=output:2,bucket=output:3");
    add_group(ofp, "group_id=2,type=all,bucket=output:2");
    add_flow(ofp, "in_port=1,mpls,actions=pop_mpls:0x0800,group:1");
    add_flow(ofp, "in_port=3,mpls,actions=pop_mpls:0x0800,group:2");
    t = trace(ofp, "in_port=1,mpls,mpls_label=5,mpls_bos=1");
    assert_int_equal(
        sscanf(t.actions, "pop_mpls(eth_type=0x800),recirc(%x)", &id), 1);
    assert_string_equal(t.megaflow, "mpls,in_port=1,mpls_bos=1");
    for (unsigned int i = 0; i < 32; i++) {
        char flow[64], *actions;

        snprintf(flow, sizeof flow, "in_port=1,udp,nw_dst=10.0.0.%u", i);
        actions = resumed_actions(ofp, flow, id);
        assert_true(!strcmp(actions, "2") || !strcmp(actions, "3"));
        to3 += !strcmp(actions, "3");
        free(actions);
    }
    assert_in_range(to3, 1, 31);
    assert_traced(ofp, "in_port=3,mpls,mpls_label=5,mpls_bos=1",
                  "pop_mpls(eth_type=0x800),2", "mpls,in_port=3,mpls_bos=1");
    ofproto_destroy(ofp);
}

/* Over many 5-tuples the buckets share the flows in proportion to their
 * weights (1:3; the bound allows for chance, not for a wrong split), and
 * one 5-tuple always takes the same bucket. */
static void
test_select_respects_weights(void **state)
{
    struct ofproto *ofp = unit_bridge();
    unsigned int to3 = 0, n = 4000;

    (void)state;
    add_group(ofp, "group_id=1,type=select,bucket=weight:10,output:2,"
                   "bucket=weight:30,output:3");
    add_flow(ofp, "in_port=1,actions=group:1");
    for (unsigned int i = 0; i < n; i++) {
        char flow[128];
        struct traced a, b;

        snprintf(flow, sizeof flow,
                 "in_port=1,tcp,nw_src=10.0.%u.%u,nw_dst=10.1.0.1,"
                 "tp_src=%u,tp_dst=80",
                 i / 250, i % 250, 1024 + i);
        a = trace(ofp, flow);
        b = trace(ofp, flow);
        assert_string_equal(a.actions, b.actions);
        to3 += !strcmp(a.actions, "3");
    }
    /* Expected 3000; binomial sd ~27. */
    assert_in_range(to3, 2800, 3200);
    ofproto_destroy(ofp);
}

/* ---- Statistics --------------------------------------------------------- */

static uint64_t
group_age(struct ofproto *ofp, uint32_t id)
{
    struct group_info *infos;
    size_t n = ofproto_collect_groups(ofp, id, &infos);
    uint64_t age;

    assert_int_equal(n, 1);
    age = infos[0].duration_ms;
    group_infos_free(infos, n);
    return age;
}

/* Polls (with the unit deadline) until group 'id' is 'ms' old. */
static void
wait_group_age(struct ofproto *ofp, uint32_t id, uint64_t ms)
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

    while (group_age(ofp, id) < ms) {
        assert_true(time_msec() < deadline);
        unit_pause_briefly();
    }
}

/* Credits pushed through a cache reach the group and the bucket taken
 * (every bucket for an all group), exactly, and survive no modify (a
 * modified group starts from zero, as in Open vSwitch). */
static void
test_xlate_cache_credits_groups_and_buckets(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct xlate_cache *xc = xlate_cache_new();
    struct xlate_cache *xc2 = xlate_cache_new();
    char *text;

    (void)state;
    add_group(ofp, "group_id=1,type=all,bucket=output:2,bucket=output:3");
    add_group(ofp, "group_id=2,type=ff,bucket=watch_port:2,actions=output:2,"
                   "bucket=watch_port:3,actions=output:3");
    add_flow(ofp, "in_port=1,actions=group:1");
    add_flow(ofp, "in_port=2,actions=group:2");
    ofproto_port_set_live(ofp, 2, false);
    translate_into_cache(ofp, "in_port=1,udp", xc);
    translate_into_cache(ofp, "in_port=2,udp", xc2);
    assert_int_equal(xlate_cache_n_groups(xc), 1);
    xlate_cache_push_stats(xc, 3, 300, 5000);
    xlate_cache_push_stats(xc, 2, 128, 6000);
    xlate_cache_push_stats(xc2, 7, 700, 6000);
    text = dump(ofp, 1, true);
    assert_non_null(strstr(text, ",ref_count=1,packet_count=5,byte_count=428,"
                                 "bucket0:packet_count=5,byte_count=428,"
                                 "bucket1:packet_count=5,byte_count=428\n"));
    free(text);
    text = dump(ofp, 2, true);
    assert_non_null(strstr(text, ",packet_count=7,byte_count=700,"
                                 "bucket0:packet_count=0,byte_count=0,"
                                 "bucket1:packet_count=7,byte_count=700\n"));
    free(text);

    /* A modified group counts from zero but keeps its age; what a cache
     * of the old group pushes later is not the new group's. */
    wait_group_age(ofp, 2, 5);
    assert_int_equal(group_mod_errno(ofp,
                                     "group_id=2,type=ff,"
                                     "bucket=watch_port:3,actions=output:3",
                                     GROUP_MOD_MODIFY),
                     0);
    xlate_cache_push_stats(xc2, 1, 100, 7000);
    text = dump(ofp, 2, true);
    assert_non_null(strstr(text, ",packet_count=0,byte_count=0,"
                                 "bucket0:packet_count=0,byte_count=0\n"));
    free(text);
    assert_true(group_age(ofp, 2) >= 5);

    /* The cache keeps a deleted group alive: a late push is harmless. */
    assert_int_equal(group_mod_errno(ofp, "group_id=1", GROUP_MOD_DELETE), 0);
    rcu_synchronize();
    xlate_cache_push_stats(xc, 1, 64, 7000);
    xlate_cache_delete(xc);
    xlate_cache_delete(xc2);
    ofproto_destroy(ofp);
}

/* ---- Through the datapath ----------------------------------------------- */

/* A datapath with ports 1..3 in br0 and a udpif in manual mode, the
 * governor off: every miss installs its megaflow. */
static void
switch_init(struct unit_switch *sw)
{
    struct upcall_config ucfg;
    struct unit_switch_config cfg = {
        .n_threads = 1,
        .n_handlers = 1,
        .queue_size = 1024,
        .n_ports = 3,
        .n_bridge_ports = 3,
        .upcall = &ucfg,
    };

    unit_switch_upcall_config(&ucfg, NULL);
    ucfg.governor = GOVERNOR_FORCE_OFF;
    unit_switch_init(sw, &cfg);
}

/* Runs handler batches until ports 2 and 3 together sent 'n' packets;
 * adds what each sent to 'sent[2]' and 'sent[3]'. */
static void
forward(struct unit_switch *sw, size_t n, size_t sent[4])
{
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;
    size_t got = 0;

    while (got < n) {
        unit_switch_run_handlers(sw, time_msec());
        for (unsigned int p = 2; p <= 3; p++) {
            struct dp_packet *pkt;

            while ((pkt = netdev_memory_collect(sw->ports[p]))) {
                dp_packet_delete(pkt);
                sent[p]++;
                got++;
            }
        }
        if (got < n) {
            assert_true(time_msec() < deadline);
            unit_pause_briefly();
        }
    }
    assert_int_equal(got, n);
}

/* The first packet of each of 16 flows is credited by its upcall, the
 * next three by the revalidator's push from the megaflow: group and
 * bucket counters are exact, each bucket counts what its port sent, and
 * the select group made one megaflow per 5-tuple. */
static void
test_select_counters_are_exact_through_the_datapath(void **state)
{
    struct unit_switch sw;
    size_t sent[4] = {0};
    char *text, *want;

    (void)state;
    switch_init(&sw);
    add_group(sw.ofp, "group_id=1,type=select,bucket=output:2,"
                      "bucket=output:3");
    add_flow(sw.ofp, "in_port=1,actions=group:1");
    for (int round = 0; round < 4; round++) {
        for (uint16_t i = 0; i < 16; i++) {
            unit_switch_inject_tcp(&sw, 1, 0x0a000001 + i, 1000 + i, 80, 0);
        }
        forward(&sw, 16, sent);
    }
    assert_int_equal(unit_switch_n_flows(&sw), 16);
    assert_true(sent[2] > 0 && sent[3] > 0);
    upcall_revalidate(sw.udpif, time_msec());
    text = dump(sw.ofp, 1, true);
    want = xasprintf(",packet_count=64,byte_count=4096,"
                     "bucket0:packet_count=%zu,byte_count=%zu,"
                     "bucket1:packet_count=%zu,byte_count=%zu\n",
                     sent[2], sent[2] * 64, sent[3], sent[3] * 64);
    assert_non_null(strstr(text, want));
    free(want);
    free(text);
    unit_switch_destroy(&sw);
}

/* A watched port that goes down moves a cached flow's traffic after one
 * revalidator round, with no new upcall: the round re-translated it. */
static void
test_port_down_moves_cached_fast_failover_traffic(void **state)
{
    struct unit_switch sw;
    size_t sent[4] = {0};
    struct dp_stats st;
    char *text;

    (void)state;
    switch_init(&sw);
    add_group(sw.ofp, "group_id=4,type=ff,bucket=watch_port:2,"
                      "actions=output:2,bucket=watch_port:3,actions=output:3");
    add_flow(sw.ofp, "in_port=1,actions=group:4");
    unit_switch_inject_tcp(&sw, 1, 0x0a000001, 1000, 80, 0);
    forward(&sw, 1, sent);
    assert_int_equal(sent[2], 1);

    ofproto_port_set_live(sw.ofp, 2, false);
    upcall_revalidate(sw.udpif, time_msec());
    dp_get_stats(sw.dp, &st);
    unit_switch_inject_tcp(&sw, 1, 0x0a000001, 1000, 80, 0);
    unit_switch_collect(&sw, 3, 1, NULL);
    unit_switch_assert_port_idle(&sw, 2);
    assert_int_equal(unit_switch_n_flows(&sw), 1);

    upcall_revalidate(sw.udpif, time_msec());
    text = dump(sw.ofp, 4, true);
    assert_non_null(strstr(text, ",packet_count=2,byte_count=128,"
                                 "bucket0:packet_count=1,byte_count=64,"
                                 "bucket1:packet_count=1,byte_count=64\n"));
    free(text);
    {
        struct dp_stats after;

        dp_get_stats(sw.dp, &after);
        assert_int_equal(after.n_missed, st.n_missed);
    }
    unit_switch_destroy(&sw);
}

/* ---- Concurrency -------------------------------------------------------- */

struct readers {
    struct ofproto *ofp;
    int stop;     /* Atomic. */
    int n_wrong;  /* Atomic: translations that were neither old nor new. */
    int n_rounds; /* Atomic. */
};

/* A handler's life: translate with a cache, credit it, drop it. */
static void *
reader_main(void *r_)
{
    struct readers *r = r_;
    struct match m;
    char *error = NULL;

    rcu_thread_register();
    assert_int_equal(match_from_string("in_port=1,udp,tp_src=7", &m, &error),
                     0);
    while (!atomic_load_acquire(&r->stop)) {
        struct xlate_cache *xc = xlate_cache_new();
        struct ds text = DS_EMPTY_INITIALIZER;
        struct xlate_out xout;
        struct xlate_in xin;

        xlate_in_init(&xin, r->ofp, &m.flow);
        xin.xcache = xc;
        xlate_actions(&xin, &xout);
        dp_actions_format(xout.actions, &text);
        const char *got = ds_cstr(&text);

        if (strcmp(got, "2,3") != 0 && strcmp(got, "2") != 0
            && strcmp(got, "3") != 0) {
            atomic_fetch_add_relaxed(&r->n_wrong, 1);
        }
        ds_destroy(&text);
        xlate_out_uninit(&xout);
        xlate_cache_push_stats(xc, 1, 60, 1);
        xlate_cache_delete(xc);
        atomic_fetch_add_relaxed(&r->n_rounds, 1);
    }
    rcu_thread_unregister();
    return NULL;
}

/* Group-mods and port state changes while handlers translate: every
 * translation sees one whole group (all: "2,3"; select or ff: "2" or
 * "3"), and caches that outlive the groups they hold free cleanly (ASan
 * and TSan runs make this test mean something). */
static void
test_group_changes_are_whole_for_concurrent_translation(void **state)
{
    struct readers r = {unit_bridge(), 0, 0, 0};
    pthread_t threads[2];

    (void)state;
    add_group(r.ofp, "group_id=1,type=all,bucket=output:2,bucket=output:3");
    add_flow(r.ofp, "in_port=1,actions=group:1");
    for (int i = 0; i < 2; i++) {
        pthread_create(&threads[i], NULL, reader_main, &r);
    }
    /* 300 changes at least, and until the readers translated 300 times
     * (they may start late): interleaving, not timing, is the point. */
    uint64_t deadline = time_msec() + UNIT_DEADLINE_MS;

    for (int round = 0; round < 300 || atomic_load_relaxed(&r.n_rounds) < 300;
         round++) {
        static const char *const versions[] = {
            "group_id=1,type=all,bucket=output:2,bucket=output:3",
            "group_id=1,type=select,bucket=output:2,bucket=output:3",
            "group_id=1,type=ff,bucket=watch_port:2,actions=output:2,"
            "bucket=watch_port:3,actions=output:3",
        };

        assert_int_equal(
            group_mod_errno(r.ofp, versions[round % 3], GROUP_MOD_MODIFY), 0);
        ofproto_port_set_live(r.ofp, 2, round % 2);
        add_group(r.ofp, "group_id=7,type=all");
        assert_int_equal(
            group_mod_errno(r.ofp, "group_id=7", GROUP_MOD_DELETE), 0);
        assert_true(time_msec() < deadline);
    }
    atomic_store_release(&r.stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(r.n_wrong, 0);
    ofproto_destroy(r.ofp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_text_prints_as_ovs_ofctl),
        cmocka_unit_test(test_group_text_refusals),
        cmocka_unit_test(test_group_mod_errors_as_open_vswitch),
        cmocka_unit_test(test_flows_must_name_existing_groups),
        cmocka_unit_test(test_deleting_a_group_deletes_its_flows),
        cmocka_unit_test(test_ref_count_counts_each_rule_once),
        cmocka_unit_test(test_group_changes_move_the_change_sequence),
        cmocka_unit_test(
            test_all_group_runs_each_bucket_on_the_entering_packet),
        cmocka_unit_test(test_indirect_group_runs_its_bucket),
        cmocka_unit_test(test_fast_failover_takes_the_first_live_bucket),
        cmocka_unit_test(test_select_unwildcards_only_what_it_hashes),
        cmocka_unit_test(test_select_hash_fields_unwildcard_their_masks),
        cmocka_unit_test(test_select_after_pop_mpls_recirculates),
        cmocka_unit_test(test_select_respects_weights),
        cmocka_unit_test(test_xlate_cache_credits_groups_and_buckets),
        cmocka_unit_test(test_select_counters_are_exact_through_the_datapath),
        cmocka_unit_test(test_port_down_moves_cached_fast_failover_traffic),
        cmocka_unit_test(
            test_group_changes_are_whole_for_concurrent_translation),
    };

    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_switch_group_teardown);
}
