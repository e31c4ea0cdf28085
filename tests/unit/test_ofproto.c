/* Unit tests for src/ofproto/ofproto.c: flow-mod semantics (checked
 * against Open vSwitch 3.1 with `ovs-ofctl -O OpenFlow13`), atomic batches,
 * bad input, timeouts driven through the time parameter, dump-flows
 * format, ports and the change sequence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/flow-text.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/util.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "unit-rcu.h"
#include "unit-switch.h"

#define T0 1000000 /* An arbitrary "now", msec. */

static char *
mod_error(struct ofproto *ofp, enum flow_text_mode mode, const char *line)
{
    char *error = NULL;

    assert_int_not_equal(ofproto_flow_mod_str_at(ofp, line, mode, T0, &error),
                         0);
    assert_non_null(error);
    assert_null(strchr(error, '\n'));
    return error;
}

static char *
dump(struct ofproto *ofp, uint64_t now)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ofproto_dump_flows_at(ofp, NULL, now, &s);
    return ds_steal_cstr(&s) ?: xstrdup("");
}

static void
assert_dump(struct ofproto *ofp, uint64_t now, const char *expected)
{
    char *d = dump(ofp, now);

    if (strcmp(d, expected)) {
        fail_msg("dump:\n%s\nexpected:\n%s", d, expected);
    }
    free(d);
}

/* Sends 'n' packets of 'bytes' each through the flow 'flow_text' at 'now',
 * crediting the rules it hits. */
static void
hit(struct ofproto *ofp, const char *flow_text, uint64_t n, uint64_t bytes,
    uint64_t now)
{
    struct xlate_cache *xc = xlate_cache_new();
    struct xlate_out xout;
    struct xlate_in xin;
    struct match match;
    char *error = NULL;

    assert_int_equal(match_from_string(flow_text, &match, &error), 0);
    xlate_in_init(&xin, ofp, &match.flow);
    xin.xcache = xc;
    xlate_actions(&xin, &xout);
    xlate_out_uninit(&xout);
    xlate_cache_push_stats(xc, n, n * bytes, now);
    xlate_cache_delete(xc);
}

/* ---- Dump format -------------------------------------------------------- */

static void
test_dump_format_matches_ovs(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(
        ofp, FLOW_TEXT_ADD,
        "priority=10,tcp,tp_dst=80,idle_timeout=10,actions=output:2", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "table=1,cookie=0x5,priority=5,ip,nw_src=10.0.0.0/8,"
                     "hard_timeout=20,actions=mod_nw_dst:1.2.3.4,output:3",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=20,udp,actions=resubmit(,1)", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "table=1,actions=drop", T0);
    unit_flow_mod_at(
        ofp, FLOW_TEXT_ADD,
        "priority=5,send_flow_rem,check_overlap,reset_counts,"
        "no_packet_counts,no_byte_counts,importance=7,idle_timeout=5,"
        "hard_timeout=9,cookie=0x10,sctp,actions=drop",
        T0);
    /* OVS 3.1 dump-flows (an NXST_FLOW reply: idle_age, and neither the
     * flags nor the importance), with durations of 1.25 s, 3 s. */
    assert_dump(ofp, T0 + 1250,
                " cookie=0x0, duration=1.250s, table=0, n_packets=0, "
                "n_bytes=0, idle_age=1, priority=20,udp "
                "actions=resubmit(,1)\n"
                " cookie=0x0, duration=1.250s, table=0, n_packets=0, "
                "n_bytes=0, idle_timeout=10, idle_age=1, "
                "priority=10,tcp,tp_dst=80 actions=output:2\n"
                " cookie=0x10, duration=1.250s, table=0, n_packets=0, "
                "n_bytes=0, idle_timeout=5, hard_timeout=9, idle_age=1, "
                "priority=5,sctp actions=drop\n"
                " cookie=0x0, duration=1.250s, table=0, n_packets=0, "
                "n_bytes=0, idle_age=1, priority=1 actions=drop\n"
                " cookie=0x0, duration=1.250s, table=1, n_packets=0, "
                "n_bytes=0, idle_age=1, actions=drop\n"
                " cookie=0x5, duration=1.250s, table=1, n_packets=0, "
                "n_bytes=0, hard_timeout=20, idle_age=1, priority=5,ip,"
                "nw_src=10.0.0.0/8 actions=mod_nw_dst:1.2.3.4,output:3\n");
    char *d = dump(ofp, T0 + 3000);
    assert_non_null(strstr(d, "duration=3s,"));
    free(d);
    ofproto_destroy(ofp);
}

static void
test_dump_filters_by_match_cookie_table_and_out_port(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct flow_text ft;
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "cookie=0x1,tcp,actions=output:2",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "cookie=0x2,udp,actions=output:3",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "table=2,cookie=0x3,udp,actions=output:3", T0);

    assert_int_equal(
        flow_text_parse("out_port=3", FLOW_TEXT_DELETE, &ft, &error), 0);
    ofproto_dump_flows_at(ofp, &ft, T0, &s);
    assert_null(strstr(ds_cstr(&s), "tcp"));
    assert_non_null(strstr(ds_cstr(&s), "table=2"));
    flow_text_destroy(&ft);
    ds_clear(&s);

    assert_int_equal(flow_text_parse("table=0,cookie=0x2/0xffffffffffffffff",
                                     FLOW_TEXT_DELETE, &ft, &error),
                     0);
    ofproto_dump_flows_at(ofp, &ft, T0, &s);
    assert_string_equal(ds_cstr(&s),
                        " cookie=0x2, duration=0s, table=0, n_packets=0, "
                        "n_bytes=0, idle_age=0, udp actions=output:3\n");
    flow_text_destroy(&ft);
    ds_destroy(&s);
    ofproto_destroy(ofp);
}

/* ---- Add ---------------------------------------------------------------- */

static void
test_add_replaces_and_keeps_counters(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    /* OVS -O OpenFlow13: add over an identical rule takes the new cookie,
     * timeouts and duration but keeps n_packets/n_bytes. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=5,cookie=0x1,idle_timeout=50,udp,actions=drop",
                     T0);
    hit(ofp, "in_port=1,udp", 2, 106, T0 + 100);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=5,cookie=0x2,udp,actions=output:2", T0 + 1000);
    assert_dump(ofp, T0 + 1000,
                " cookie=0x2, duration=0s, table=0, n_packets=2, "
                "n_bytes=212, idle_age=0, priority=5,udp "
                "actions=output:2\n");
    assert_int_equal(ofproto_n_rules(ofp), 1);
    ofproto_destroy(ofp);
}

static void
test_add_with_reset_counts_resets(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,udp,actions=drop", T0);
    hit(ofp, "in_port=1,udp", 2, 106, T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=5,cookie=0x3,reset_counts,udp,actions=output:2",
                     T0);
    assert_dump(ofp, T0,
                " cookie=0x3, duration=0s, table=0, n_packets=0, "
                "n_bytes=0, idle_age=0, priority=5,udp "
                "actions=output:2\n");
    ofproto_destroy(ofp);
}

static void
test_add_different_priority_does_not_replace(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,udp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=6,udp,actions=drop", T0);
    assert_int_equal(ofproto_n_rules(ofp), 2);
    ofproto_destroy(ofp);
}

static void
test_check_overlap_refuses_overlapping_add(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *error;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,tcp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=5,tcp,tp_dst=22,actions=drop", T0);
    /* OVS: an identical rule is replaced, not an overlap. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=5,check_overlap,tcp,tp_dst=22,actions=output:2",
                     T0);
    /* OVS: OFPFMFC_OVERLAP. */
    error = mod_error(ofp, FLOW_TEXT_ADD,
                      "priority=5,check_overlap,tcp,tp_dst=23,actions=drop");
    assert_non_null(strstr(error, "overlap"));
    free(error);
    /* Another priority does not overlap. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=6,check_overlap,tcp,tp_dst=23,actions=drop",
                     T0);
    assert_int_equal(ofproto_n_rules(ofp), 3);
    ofproto_destroy(ofp);
}

/* ---- Modify ------------------------------------------------------------- */

static void
test_modify_keeps_counters_and_attributes(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(
        ofp, FLOW_TEXT_ADD,
        "priority=5,cookie=0x2,idle_timeout=30,udp,actions=output:2", T0);
    hit(ofp, "in_port=1,udp", 2, 106, T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "udp,actions=output:3", T0 + 2000);
    assert_dump(ofp, T0 + 2000,
                " cookie=0x2, duration=2s, table=0, n_packets=2, "
                "n_bytes=212, idle_timeout=30, idle_age=2, hard_age=0, "
                "priority=5,udp actions=output:3\n");
    /* reset_counts on a modify resets them (flags stay those of the
     * rule, as OVS shows). */
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY,
                     "udp,reset_counts,actions=output:3", T0 + 2000);
    assert_dump(ofp, T0 + 2000,
                " cookie=0x2, duration=2s, table=0, n_packets=0, "
                "n_bytes=0, idle_timeout=30, idle_age=0, hard_age=0, "
                "priority=5,udp actions=output:3\n");
    ofproto_destroy(ofp);
}

static void
test_modify_matching_nothing_adds_nothing(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    /* OVS -O OpenFlow13 mod-flows on an empty table: still empty. */
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "priority=5,sctp,actions=drop",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY_STRICT,
                     "priority=5,sctp,actions=drop", T0);
    assert_int_equal(ofproto_n_rules(ofp), 0);
    ofproto_destroy(ofp);
}

static void
test_modify_loose_vs_strict(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *d;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,tcp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=6,tcp,tp_dst=80,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=7,udp,actions=drop", T0);
    /* Loose: every rule at least as specific as "tcp", any priority. */
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "tcp,actions=output:2", T0);
    d = dump(ofp, T0);
    assert_non_null(strstr(d, "priority=6,tcp,tp_dst=80 actions=output:2"));
    assert_non_null(strstr(d, "priority=5,tcp actions=output:2"));
    assert_non_null(strstr(d, "priority=7,udp actions=drop"));
    free(d);
    /* Strict: exactly this match and priority. */
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY_STRICT,
                     "priority=5,tcp,actions=output:3", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY_STRICT,
                     "priority=9,tcp,actions=output:1", T0);
    d = dump(ofp, T0);
    assert_non_null(strstr(d, "priority=6,tcp,tp_dst=80 actions=output:2"));
    assert_non_null(strstr(d, "priority=5,tcp actions=output:3"));
    assert_null(strstr(d, "output:1"));
    free(d);
    ofproto_destroy(ofp);
}

static void
test_modify_with_cookie_mask_and_new_cookie(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *d;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "cookie=0x11,tcp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "cookie=0x21,udp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY,
                     "cookie=0x10/0xf0,actions=output:2", T0);
    d = dump(ofp, T0);
    assert_non_null(strstr(d, "cookie=0x11,"));
    assert_non_null(strstr(d, "tcp actions=output:2"));
    assert_non_null(strstr(d, "udp actions=drop"));
    free(d);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "udp,cookie=0x99,actions=output:3",
                     T0);
    d = dump(ofp, T0);
    assert_non_null(strstr(d, "cookie=0x99,"));
    free(d);
    ofproto_destroy(ofp);
}

/* ---- Delete ------------------------------------------------------------- */

static void
test_delete_loose_strict_cookie_and_out_port(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *d;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,tcp,actions=output:2",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=6,tcp,tp_dst=80,actions=output:3", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=7,cookie=0x5,udp,actions=output:2", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=8,arp,actions=controller",
                     T0);

    /* Strict with another priority deletes nothing. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE_STRICT, "priority=9,tcp", T0);
    assert_int_equal(ofproto_n_rules(ofp), 4);
    /* out_port: only rules that output to 3. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "tcp,out_port=3", T0);
    d = dump(ofp, T0);
    assert_null(strstr(d, "tp_dst=80"));
    assert_non_null(strstr(d, "priority=5,tcp"));
    free(d);
    /* A controller action outputs to CONTROLLER. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "out_port=controller", T0);
    assert_int_equal(ofproto_n_rules(ofp), 2);
    /* Cookie mask. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "cookie=0x4/0xf", T0);
    assert_int_equal(ofproto_n_rules(ofp), 2);
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "cookie=0x5/0xf", T0);
    assert_int_equal(ofproto_n_rules(ofp), 1);
    /* Strict. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE_STRICT, "priority=5,tcp", T0);
    assert_int_equal(ofproto_n_rules(ofp), 0);
    ofproto_destroy(ofp);
}

static void
test_table_255_means_all_tables(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *error;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "table=0,tcp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "table=7,tcp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "table=254,udp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "table=255,tcp,actions=output:2",
                     T0);
    char *d = dump(ofp, T0);
    assert_non_null(strstr(d,
                           "table=7, n_packets=0, n_bytes=0, idle_age=0, tcp "
                           "actions=output:2"));
    free(d);
    /* Without table=, modify and delete mean every table too. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "tcp", T0);
    assert_int_equal(ofproto_n_rules(ofp), 1);
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "table=255", T0);
    assert_int_equal(ofproto_n_rules(ofp), 0);
    /* An add needs a real table. */
    error = mod_error(ofp, FLOW_TEXT_ADD, "table=255,actions=drop");
    free(error);
    ofproto_destroy(ofp);
}

/* ---- Batches and bad input ---------------------------------------------- */

static void
test_batch_is_atomic(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct flow_text fts[4];
    char *error = NULL;
    char *before, *after;
    uint64_t seq;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,tcp,actions=output:2",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=6,udp,actions=output:3",
                     T0);
    hit(ofp, "in_port=1,tcp", 4, 100, T0);
    before = dump(ofp, T0);
    seq = ofproto_get_change_seq(ofp);

    assert_int_equal(flow_text_parse("priority=9,ip,actions=drop",
                                     FLOW_TEXT_ADD, &fts[0], &error),
                     0);
    assert_int_equal(flow_text_parse("tcp", FLOW_TEXT_DELETE, &fts[1], &error),
                     0);
    assert_int_equal(flow_text_parse("udp,actions=output:1", FLOW_TEXT_MODIFY,
                                     &fts[2], &error),
                     0);
    /* The bad one: it overlaps the (modified) udp rule. */
    assert_int_equal(flow_text_parse("priority=6,check_overlap,ip,"
                                     "actions=drop",
                                     FLOW_TEXT_ADD, &fts[3], &error),
                     0);
    assert_int_not_equal(ofproto_flow_mods_at(ofp, fts, 4, T0, &error), 0);
    assert_non_null(strstr(error, "flow-mod 4 of 4"));
    assert_null(strchr(error, '\n'));
    free(error);
    after = dump(ofp, T0);
    assert_string_equal(before, after);
    free(after);
    /* Counters keep flowing to the restored rules. */
    hit(ofp, "in_port=1,tcp", 1, 100, T0);
    after = dump(ofp, T0);
    assert_non_null(strstr(after, "n_packets=5, n_bytes=500"));
    free(after);

    /* Without the bad one, all of it lands at once. */
    assert_int_equal(ofproto_flow_mods_at(ofp, fts, 3, T0, &error), 0);
    assert_true(ofproto_get_change_seq(ofp) != seq);
    after = dump(ofp, T0);
    assert_null(strstr(after, "tcp"));
    assert_non_null(strstr(after, "priority=6,udp actions=output:1"));
    assert_non_null(strstr(after, "priority=9,ip actions=drop"));
    free(after);
    for (int i = 0; i < 4; i++) {
        flow_text_destroy(&fts[i]);
    }
    free(before);
    ofproto_destroy(ofp);
}

static void
test_bad_flow_mods_are_refused_with_one_line(void **state)
{
    static const struct {
        const char *line;
        const char *needle;
    } cases[] = {
        {"tcp,nw_dts=10.0.0.1,actions=drop", "nw_dts"},
        {"table=3,actions=goto_table:2", "goto_table"},
        {"actions=output:0", "output"},
        {"actions=frobnicate", "frobnicate"},
        {"actions=mod_tp_dst:5", "mod_tp_dst"},
    };
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,actions=drop", T0);
    char *before = dump(ofp, T0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *error = mod_error(ofp, FLOW_TEXT_ADD, cases[i].line);

        if (!strstr(error, cases[i].needle)) {
            fail_msg("\"%s\": error \"%s\" does not name \"%s\"",
                     cases[i].line, error, cases[i].needle);
        }
        free(error);
    }
    /* A modify whose actions do not fit a matched rule. */
    char *error = mod_error(ofp, FLOW_TEXT_MODIFY, "actions=mod_tp_dst:5");
    free(error);
    char *after = dump(ofp, T0);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ofproto_destroy(ofp);
}

/* ---- Timeouts ----------------------------------------------------------- */

static void
test_idle_timeout_counts_from_last_use(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "idle_timeout=10,tcp,actions=drop",
                     T0);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 9999), 0);
    hit(ofp, "in_port=1,tcp", 1, 60, T0 + 5000);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 14999), 0);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 15000), 1);
    assert_int_equal(ofproto_n_rules(ofp), 0);
    ofproto_destroy(ofp);
}

static void
test_hard_timeout_ignores_use(void **state)
{
    struct ofproto *ofp = unit_bridge();
    uint64_t seq;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "hard_timeout=3,tcp,actions=drop",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "udp,actions=drop", T0);
    hit(ofp, "in_port=1,tcp", 1, 60, T0 + 2900);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 2999), 0);
    seq = ofproto_get_change_seq(ofp);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 3000), 1);
    assert_true(ofproto_get_change_seq(ofp) != seq);
    assert_int_equal(ofproto_n_rules(ofp), 1);
    ofproto_destroy(ofp);
}

/* The timeout walk is skipped while no rule has a timeout: a rule that
 * gets one (added, or replacing one without) must still expire, and one
 * whose replacement has none must not be looked for. */
static void
test_timeouts_follow_rules_that_gain_and_lose_them(void **state)
{
    struct ofproto *ofp = unit_bridge();

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,udp,actions=drop", T0);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 100000), 0);
    /* Replaced by an identical match with a hard timeout. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=1,udp,hard_timeout=2,actions=drop",
                     T0 + 100000);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 101999), 0);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 102000), 1);
    assert_int_equal(ofproto_n_rules(ofp), 0);
    /* With a timeout, then replaced by one without: nothing expires. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=1,tcp,idle_timeout=1,actions=drop",
                     T0 + 200000);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,tcp,actions=drop",
                     T0 + 200000);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 300000), 0);
    assert_int_equal(ofproto_n_rules(ofp), 1);
    /* Deleted with a timeout, a new one added: it expires. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=2,icmp,idle_timeout=1,actions=drop",
                     T0 + 300000);
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "icmp", T0 + 300000);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=3,arp,idle_timeout=1,actions=drop",
                     T0 + 300000);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 301000), 1);
    assert_int_equal(ofproto_n_rules(ofp), 1);
    ofproto_destroy(ofp);
}

/* ---- Ports and change sequence ------------------------------------------ */

static void
test_ports_add_del(void **state)
{
    struct ofproto *ofp = unit_bridge();
    char *error = NULL;
    uint32_t p;

    (void)state;
    assert_true(ofproto_port_to_dp(ofp, 2, &p));
    assert_int_equal(p, 2);
    assert_true(ofproto_port_from_dp(ofp, 3, &p));
    assert_int_equal(p, 3);
    assert_int_equal(ofproto_port_add(ofp, 2, 9, "x", &error), EEXIST);
    assert_non_null(strstr(error, "\"x\""));
    free(error);
    assert_int_equal(ofproto_port_add(ofp, 0, 9, "y", &error), EINVAL);
    free(error);
    assert_int_equal(ofproto_port_del(ofp, 2), 0);
    assert_false(ofproto_port_to_dp(ofp, 2, &p));
    assert_int_equal(ofproto_port_del(ofp, 2), ENOENT);
    assert_int_equal(ofproto_n_ports(ofp), 2);
    ofproto_destroy(ofp);
}

static void
test_change_seq_and_wait(void **state)
{
    struct ofproto *ofp = unit_bridge();
    uint64_t seq = ofproto_get_change_seq(ofp);

    (void)state;
    assert_false(ofproto_wait_change(ofp, seq, 5));
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "actions=drop", T0);
    assert_true(ofproto_wait_change(ofp, seq, 1000));
    seq = ofproto_get_change_seq(ofp);
    /* A delete that matches nothing changes nothing. */
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "tcp,out_port=3", T0);
    assert_int_equal(ofproto_get_change_seq(ofp), seq);
    ofproto_destroy(ofp);
}

static void
count_call(void *n_)
{
    unsigned int *n = n_;

    (*n)++;
}

static void
test_cache_sync_follows_reports_and_detach(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct ofproto_cache_watcher w;
    unsigned int n_calls = 0;
    uint64_t seq;

    (void)state;
    /* No cache attached: every change is in force at once. */
    assert_true(ofproto_cache_is_synced(ofp, UINT64_MAX));
    ofproto_cache_watch(ofp, &w, count_call, &n_calls);
    ofproto_cache_attach(ofp);
    seq = ofproto_get_change_seq(ofp);
    assert_true(ofproto_cache_is_synced(ofp, seq));

    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "actions=drop", T0);
    seq = ofproto_get_change_seq(ofp);
    assert_false(ofproto_cache_is_synced(ofp, seq));
    ofproto_cache_synced(ofp, seq);
    assert_true(ofproto_cache_is_synced(ofp, seq));
    assert_int_equal(n_calls, 1);
    ofproto_cache_synced(ofp, seq - 1); /* Never backwards, no call. */
    assert_true(ofproto_cache_is_synced(ofp, seq));
    assert_int_equal(n_calls, 1);

    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=5,actions=drop", T0);
    assert_false(ofproto_cache_is_synced(ofp, seq + 1));
    ofproto_cache_detach(ofp); /* The cache is gone. */
    assert_true(ofproto_cache_is_synced(ofp, UINT64_MAX));
    assert_int_equal(n_calls, 2);
    ofproto_cache_unwatch(ofp, &w);
    ofproto_cache_synced(ofp, seq + 5);
    assert_int_equal(n_calls, 2);
    ofproto_destroy(ofp);
}

static struct ofmeter_config
meter_cfg(uint32_t id, uint16_t flags, uint32_t rate)
{
    struct ofmeter_config cfg = {.id = id, .flags = flags, .n_bands = 1};

    cfg.bands[0].type = OFMETER_BAND_DROP;
    cfg.bands[0].rate = rate;
    return cfg;
}

static void
test_meter_mods_answer_as_open_vswitch(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct ofmeter_config cfg = meter_cfg(1, OFMETER_PKTPS, 10);

    (void)state;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg), OFMETER_OK);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_EXISTS);
    cfg.id = 2;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_MODIFY, &cfg),
                     OFMETER_E_UNKNOWN_METER);
    cfg.flags = OFMETER_PKTPS | OFMETER_KBPS;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_BAD_FLAGS);
    cfg = meter_cfg(2, OFMETER_KBPS, 0);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_BAD_RATE);
    cfg = meter_cfg(2, OFMETER_KBPS, 5);
    cfg.bands[0].type = 3;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_BAD_BAND);
    cfg = meter_cfg(0, OFMETER_KBPS, 5);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_INVALID_METER);
    cfg = meter_cfg(OFMETER_ID_MAX + 1, OFMETER_KBPS, 5);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_INVALID_METER);
    /* Deleting a missing meter is no error. */
    cfg = meter_cfg(9, 0, 0);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_DELETE, &cfg), OFMETER_OK);
    /* OFMETER_MAX meters, as many as the datapath has slots. */
    for (uint32_t id = 100; id < 100 + OFMETER_MAX - 1; id++) {
        cfg = meter_cfg(id, OFMETER_PKTPS, 1);
        assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                         OFMETER_OK);
    }
    cfg = meter_cfg(99, OFMETER_PKTPS, 1);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg),
                     OFMETER_E_OUT_OF_METERS);
    ofproto_destroy(ofp);
}

static void
test_deleting_a_meter_deletes_its_flows(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct ofmeter_config cfg = meter_cfg(4, OFMETER_PKTPS, 10);
    struct ofmeter_info *infos;
    char *error, *text;

    (void)state;
    error = mod_error(ofp, FLOW_TEXT_ADD, "ip,actions=meter:4,output:2");
    assert_string_equal(error, "flow: no meter 4 in \"meter:4\" (add it "
                               "first: add-meter)");
    free(error);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg), OFMETER_OK);
    cfg.id = 5;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg), OFMETER_OK);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "ip,actions=meter:4,output:2", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "tcp,actions=meter:4,output:3", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "udp,actions=meter:5,output:3", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "arp,actions=output:1", T0);
    assert_int_equal(ofproto_meter_snapshot(ofp, OFMETER_ID_ALL, &infos), 2);
    assert_int_equal(infos[0].config.id, 4);
    assert_int_equal(infos[0].flow_count, 2);
    assert_int_equal(infos[1].flow_count, 1);
    free(infos);

    cfg.id = 4;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_DELETE, &cfg), OFMETER_OK);
    text = dump(ofp, T0);
    assert_null(strstr(text, "meter:4"));
    assert_non_null(strstr(text, "meter:5"));
    assert_non_null(strstr(text, "arp"));
    free(text);
    assert_int_equal(ofproto_n_rules(ofp), 2);
    cfg.id = OFMETER_ID_ALL;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_DELETE, &cfg), OFMETER_OK);
    assert_int_equal(ofproto_n_rules(ofp), 1);
    assert_int_equal(ofproto_meter_snapshot(ofp, OFMETER_ID_ALL, &infos), 0);
    free(infos);
    ofproto_destroy(ofp);
}

static void
test_full_bridge_refuses_adds_but_not_replacements(void **state)
{
    uint64_t before = coverage_read("ofproto_table_full");
    struct ofproto *ofp = unit_bridge();
    struct flow_text fts[2];
    char *error = NULL;

    (void)state;
    assert_int_equal(ofproto_get_max_rules(ofp), OFPROTO_DEFAULT_MAX_RULES);
    ofproto_set_max_rules(ofp, 3);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,tcp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,udp,actions=drop", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "table=7,priority=1,arp,actions=drop",
                     T0);

    /* A fourth is refused, with one line, and counted. */
    error = mod_error(ofp, FLOW_TEXT_ADD, "priority=2,ip,actions=drop");
    assert_string_equal(error, "flow: the bridge is full (at most 3 flows; "
                               "this would make 4)");
    free(error);
    assert_int_equal(coverage_read("ofproto_table_full"), before + 1);
    assert_int_equal(ofproto_n_rules(ofp), 3);

    /* Replacing, modifying and deleting still work; a freed slot is free. */
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=1,tcp,actions=output:2",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "udp,actions=output:3", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE_STRICT, "table=7,priority=1,arp",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=2,ip,actions=drop", T0);
    assert_int_equal(ofproto_n_rules(ofp), 3);

    /* A batch that nets out within the limit passes; one that does not
     * changes nothing. */
    assert_int_equal(flow_text_parse("priority=2,ip", FLOW_TEXT_DELETE_STRICT,
                                     &fts[0], &error),
                     0);
    assert_int_equal(flow_text_parse("priority=3,arp,actions=drop",
                                     FLOW_TEXT_ADD, &fts[1], &error),
                     0);
    assert_int_equal(ofproto_flow_mods_at(ofp, fts, 2, T0, &error), 0);
    flow_text_destroy(&fts[0]);
    flow_text_destroy(&fts[1]);
    assert_int_equal(flow_text_parse("priority=4,arp,actions=drop",
                                     FLOW_TEXT_ADD, &fts[0], &error),
                     0);
    assert_int_equal(flow_text_parse("priority=5,arp,actions=drop",
                                     FLOW_TEXT_ADD, &fts[1], &error),
                     0);
    assert_int_equal(ofproto_flow_mods_at(ofp, fts, 2, T0, &error), EFBIG);
    assert_non_null(strstr(error, "(nothing changed)"));
    free(error);
    flow_text_destroy(&fts[0]);
    flow_text_destroy(&fts[1]);
    assert_int_equal(ofproto_n_rules(ofp), 3);

    /* Lowering the limit below the count refuses growth, not shrinking. */
    ofproto_set_max_rules(ofp, 1);
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE_STRICT, "priority=3,arp", T0);
    assert_int_equal(ofproto_n_rules(ofp), 2);
    ofproto_destroy(ofp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_format_matches_ovs),
        cmocka_unit_test(test_dump_filters_by_match_cookie_table_and_out_port),
        cmocka_unit_test(test_add_replaces_and_keeps_counters),
        cmocka_unit_test(test_add_with_reset_counts_resets),
        cmocka_unit_test(test_add_different_priority_does_not_replace),
        cmocka_unit_test(test_check_overlap_refuses_overlapping_add),
        cmocka_unit_test(test_modify_keeps_counters_and_attributes),
        cmocka_unit_test(test_modify_matching_nothing_adds_nothing),
        cmocka_unit_test(test_modify_loose_vs_strict),
        cmocka_unit_test(test_modify_with_cookie_mask_and_new_cookie),
        cmocka_unit_test(test_delete_loose_strict_cookie_and_out_port),
        cmocka_unit_test(test_table_255_means_all_tables),
        cmocka_unit_test(test_batch_is_atomic),
        cmocka_unit_test(test_bad_flow_mods_are_refused_with_one_line),
        cmocka_unit_test(test_idle_timeout_counts_from_last_use),
        cmocka_unit_test(test_hard_timeout_ignores_use),
        cmocka_unit_test(test_timeouts_follow_rules_that_gain_and_lose_them),
        cmocka_unit_test(test_ports_add_del),
        cmocka_unit_test(test_change_seq_and_wait),
        cmocka_unit_test(test_cache_sync_follows_reports_and_detach),
        cmocka_unit_test(test_full_bridge_refuses_adds_but_not_replacements),
        cmocka_unit_test(test_meter_mods_answer_as_open_vswitch),
        cmocka_unit_test(test_deleting_a_meter_deletes_its_flows),
    };

    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_rcu_group_teardown);
}
