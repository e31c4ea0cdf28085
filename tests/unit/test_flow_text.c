/* Unit tests for src/flow/flow-text.c: matches and flow lines in the
 * ovs-ofctl syntax, their canonical text, errors and round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/field.h"
#include "flow/flow-text.h"
#include "flow/ofpact.h"
#include "lib/dynamic-string.h"

/* Parses the match 's', which must be valid, and returns its text. */
static char *
match_canonical(const char *s)
{
    struct match m;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (match_from_string(s, &m, &error)) {
        fail_msg("\"%s\": %s", s, error);
    }
    match_format(&m, -1, &out);
    return ds_steal_cstr(&out);
}

static void
assert_match(const char *in, const char *want)
{
    char *got = match_canonical(in);

    assert_string_equal(got, want);
    free(got);
}

static char *
match_error(const char *s)
{
    struct match m, before;
    char *error = NULL;

    memset(&m, 0x5a, sizeof m);
    before = m;
    assert_int_equal(match_from_string(s, &m, &error), EINVAL);
    assert_non_null(error);
    assert_null(strchr(error, '\n'));
    /* Nothing is left behind in the output. */
    assert_memory_equal(&m, &before, sizeof m);
    return error;
}

static void
assert_match_error(const char *in, const char *want)
{
    char *error = match_error(in);

    assert_string_equal(error, want);
    free(error);
}

/* Parses the flow line 's' in 'mode' and formats it in 'style'. */
static char *
flow_canonical(const char *s, enum flow_text_mode mode,
               enum flow_text_style style)
{
    struct flow_text ft;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (flow_text_parse(s, mode, &ft, &error)) {
        fail_msg("\"%s\": %s", s, error);
    }
    flow_text_format(&ft, style, &out);
    flow_text_destroy(&ft);
    return ds_steal_cstr(&out);
}

static void
assert_flow(const char *in, enum flow_text_mode mode,
            enum flow_text_style style, const char *want)
{
    char *got = flow_canonical(in, mode, style);

    assert_string_equal(got, want);
    free(got);
}

static void
assert_flow_error(const char *in, enum flow_text_mode mode, const char *want)
{
    struct flow_text ft, empty;
    char *error = NULL;

    assert_int_equal(flow_text_parse(in, mode, &ft, &error), EINVAL);
    assert_non_null(error);
    assert_string_equal(error, want);
    /* The output is back to an empty flow holding no memory. */
    flow_text_init(&empty, mode);
    assert_true(flow_text_equal(&ft, &empty));
    assert_null(ft.ofpacts.acts);
    free(error);
}

/* ---- Tokens ------------------------------------------------------------- */

static void
test_tokens_follow_ovs_key_value_rules(void **state)
{
    (void)state;
    const char *s = " a=1,b:2 c(3,(4)) ,,d\te=(x,y) f=";
    static const char *const want[][3] = {
        {"a", "1", "a=1"},          {"b", "2", "b:2"},
        {"c", "3,(4)", "c(3,(4))"}, {"d", "", "d"},
        {"e", "(x,y)", "e=(x,y)"},  {"f", "", "f="},
    };
    struct flow_text_token tok;

    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        assert_true(flow_text_next_token(&s, &tok));
        assert_string_equal(tok.key, want[i][0]);
        assert_string_equal(tok.value, want[i][1]);
        assert_string_equal(tok.text, want[i][2]);
        flow_text_token_free(&tok);
    }
    assert_false(flow_text_next_token(&s, &tok));
    assert_false(flow_text_next_token(&s, &tok));
}

/* ---- Every field -------------------------------------------------------- */

static void
test_every_field_parses_and_formats_like_ovs(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"in_port=1", "in_port=1"},
        {"in_port=LOCAL", "in_port=LOCAL"},
        {"in_port=65534", "in_port=LOCAL"},
        {"in_port=NONE", "in_port=ANY"},
        {"metadata=0x1/0xff", "metadata=0x1/0xff"},
        {"metadata=0", "metadata=0"},
        {"reg0=5/0xff", "reg0=0x5/0xff"},
        {"reg1=1,reg0=2", "reg0=0x2,reg1=0x1"},
        {"reg7=0xffffffff", "reg7=0xffffffff"},
        {"reg2[0..3]=5,reg2[4]=1", "reg2=0x15/0x1f"},
        {"dl_src=aa:bb:cc:dd:ee:ff/ff:ff:ff:00:00:00",
         "dl_src=aa:bb:cc:00:00:00/ff:ff:ff:00:00:00"},
        {"dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
         "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"},
        {"eth_src=a:b:c:d:e:f", "dl_src=0a:0b:0c:0d:0e:0f"},
        {"dl_type=0x0800", "ip"},
        {"dl_type=0x1234", "dl_type=0x1234"},
        {"eth_type=0x8847", "mpls"},
        {"dl_vlan=5", "dl_vlan=5"},
        {"dl_vlan=0xffff", "vlan_tci=0x0000"},
        {"dl_vlan_pcp=3", "dl_vlan_pcp=3"},
        {"dl_vlan=5,dl_vlan_pcp=3", "dl_vlan=5,dl_vlan_pcp=3"},
        {"vlan_tci=0x1005/0x1fff", "dl_vlan=5"},
        {"vlan_tci=0x1005", "dl_vlan=5,dl_vlan_pcp=0"},
        {"vlan_tci=0x6000/0xe000", "vlan_tci=0x6000/0xe000"},
        {"vlan_vid=0x1005", "dl_vlan=5"},
        {"vlan_vid=5/0xff", "vlan_tci=0x0005/0x00ff"},
        {"vlan_pcp=7", "dl_vlan_pcp=7"},
        {"ip,nw_src=10.1.2.3/8", "ip,nw_src=10.0.0.0/8"},
        {"ip,nw_src=10.0.0.0/255.255.0.0", "ip,nw_src=10.0.0.0/16"},
        {"ip,nw_dst=10.0.0.0/255.0.255.0", "ip,nw_dst=10.0.0.0/255.0.255.0"},
        {"ip,ip_src=1.2.3.4,ip_dst=5.6.7.8",
         "ip,nw_src=1.2.3.4,nw_dst=5.6.7.8"},
        {"ip,nw_proto=47", "ip,nw_proto=47"},
        {"ip,nw_proto=17", "udp"},
        {"ipv6,nw_proto=58", "icmp6"},
        {"ip,nw_tos=4", "ip,nw_tos=4"},
        {"ip,ip_dscp=63", "ip,nw_tos=252"},
        {"ip,ip_ecn=3", "ip,nw_ecn=3"},
        {"ip,nw_ecn=1,ip_dscp=2", "ip,nw_tos=8,nw_ecn=1"},
        {"ip,nw_ttl=64", "ip,nw_ttl=64"},
        {"ip,nw_frag=no", "ip,nw_frag=no"},
        {"ip,nw_frag=yes", "ip,nw_frag=yes"},
        {"ip,nw_frag=first", "ip,nw_frag=first"},
        {"ip,nw_frag=later", "ip,nw_frag=later"},
        {"ipv6,ip_frag=not_later", "ipv6,nw_frag=not_later"},
        {"tcp,tp_src=80", "tcp,tp_src=80"},
        {"tcp,tp_dst=0x1000/0xf000", "tcp,tp_dst=0x1000/0xf000"},
        {"tcp,tcp_dst=22", "tcp,tp_dst=22"},
        {"udp6,udp_src=68", "udp6,tp_src=68"},
        {"sctp,sctp_dst=9", "sctp,tp_dst=9"},
        {"tcp,tcp_flags=+syn-ack", "tcp,tcp_flags=+syn-ack"},
        {"tcp,tcp_flags=0x002/0x012", "tcp,tcp_flags=+syn-ack"},
        {"tcp6,tcp_flags=syn|ack", "tcp6,tcp_flags=syn|ack"},
        {"icmp,icmp_type=8,icmp_code=0", "icmp,icmp_type=8,icmp_code=0"},
        {"icmp6,icmpv6_type=128,icmpv6_code=1",
         "icmp6,icmp_type=128,icmp_code=1"},
        {"arp,arp_op=2", "arp,arp_op=2"},
        {"arp,nw_proto=1", "arp,arp_op=1"},
        {"arp,arp_spa=1.2.3.0/24,arp_tpa=5.6.7.8",
         "arp,arp_spa=1.2.3.0/24,arp_tpa=5.6.7.8"},
        {"rarp,nw_src=1.1.1.1", "rarp,arp_spa=1.1.1.1"},
        {"arp,arp_sha=aa:bb:cc:dd:ee:ff,arp_tha=11:22:33:44:55:66",
         "arp,arp_sha=aa:bb:cc:dd:ee:ff,arp_tha=11:22:33:44:55:66"},
        {"ipv6,ipv6_src=2001:db8::/32", "ipv6,ipv6_src=2001:db8::/32"},
        {"ipv6,ipv6_dst=2001:db8::/ffff:0:ffff::",
         "ipv6,ipv6_dst=2001::/ffff:0:ffff::"},
        {"ipv6,ipv6_label=5", "ipv6,ipv6_label=0x00005"},
        {"ipv6,ipv6_label=5/0xf", "ipv6,ipv6_label=0x00005/0x0000f"},
        {"icmp6,icmp_type=135,nd_target=fe80::1/64",
         "icmp6,icmp_type=135,nd_target=fe80::/64"},
        {"icmp6,icmp_type=135,nd_sll=aa:bb:cc:dd:ee:ff",
         "icmp6,icmp_type=135,nd_sll=aa:bb:cc:dd:ee:ff"},
        {"icmp6,icmp_type=136,nd_tll=aa:bb:cc:dd:ee:ff",
         "icmp6,icmp_type=136,nd_tll=aa:bb:cc:dd:ee:ff"},
        {"", ""},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_match(cases[i][0], cases[i][1]);
    }
}

static void
test_every_shorthand_pins_dl_type_and_nw_proto(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"ip", "ip"},
        {"ipv4", "ip"},
        {"ipv6", "ipv6"},
        {"tcp", "tcp"},
        {"udp", "udp"},
        {"sctp", "sctp"},
        {"icmp", "icmp"},
        {"icmp6", "icmp6"},
        {"arp", "arp"},
        {"rarp", "rarp"},
        {"tcp6", "tcp6"},
        {"udp6", "udp6"},
        {"sctp6", "sctp6"},
        {"mpls", "mpls"},
        {"mplsm", "mplsm"},
        /* Later words win, as in ovs-ofctl. */
        {"tcp,udp", "udp"},
        {"tcp,ipv6", "tcp6"},
        {"ip,dl_type=0x86dd", "ipv6"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_match(cases[i][0], cases[i][1]);
    }
}

static void
test_fields_print_in_ovs_order_whatever_the_input_order(void **state)
{
    (void)state;
    assert_match("tp_dst=80,nw_src=10.0.0.0/8,in_port=1,tcp,reg3=1,"
                 "metadata=2,dl_vlan=7,dl_dst=1:2:3:4:5:6,nw_ttl=3,"
                 "tcp_flags=+fin",
                 "tcp,reg3=0x1,metadata=0x2,in_port=1,dl_vlan=7,"
                 "dl_dst=01:02:03:04:05:06,nw_src=10.0.0.0/8,nw_ttl=3,"
                 "tp_dst=80,tcp_flags=+fin");
}

static void
test_priority_prints_first_unless_it_is_the_default(void **state)
{
    (void)state;
    struct match m;
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error;

    assert_int_equal(match_from_string("tcp", &m, &error), 0);
    match_format(&m, 10, &s);
    assert_string_equal(ds_cstr(&s), "priority=10,tcp");
    ds_destroy(&s);
    match_format(&m, FLOW_TEXT_DEFAULT_PRIORITY, &s);
    assert_string_equal(ds_cstr(&s), "tcp");
    ds_destroy(&s);
    match_init_catchall(&m);
    match_format(&m, 0, &s);
    assert_string_equal(ds_cstr(&s), "priority=0");
    ds_destroy(&s);
    match_format(&m, -1, &s);
    assert_string_equal(ds_cstr(&s), "");
    ds_destroy(&s);
}

/* ---- Errors ------------------------------------------------------------- */

static void
test_tp_dst_without_protocol_is_refused(void **state)
{
    (void)state;
    assert_match_error("tp_dst=80",
                       "flow: tp_dst requires a protocol (tcp, udp or sctp) "
                       "in \"tp_dst=80\"");
    assert_match_error("ip,tp_src=1",
                       "flow: tp_src requires a protocol (tcp, udp or sctp) "
                       "in \"tp_src=1\"");
    /* The shorthand may come after the field. */
    assert_match("tp_dst=80,tcp", "tcp,tp_dst=80");
}

static void
test_each_prerequisite_is_enforced_with_its_own_message(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"tcp_dst=1", "tcp_dst requires tcp or tcp6 in \"tcp_dst=1\""},
        {"udp,tcp_src=1", "tcp_src requires tcp or tcp6 in \"tcp_src=1\""},
        {"tcp,udp_dst=1", "udp_dst requires udp or udp6 in \"udp_dst=1\""},
        {"udp,sctp_src=1",
         "sctp_src requires sctp or sctp6 in \"sctp_src=1\""},
        {"nw_src=1.2.3.4", "nw_src requires ip or arp in \"nw_src=1.2.3.4\""},
        {"ipv6,ip_dst=1.2.3.4",
         "ip_dst requires ip or arp in \"ip_dst=1.2.3.4\""},
        {"ip,ipv6_src=::1", "ipv6_src requires ipv6 in \"ipv6_src=::1\""},
        {"ipv6_label=1", "ipv6_label requires ipv6 in \"ipv6_label=1\""},
        {"nw_proto=6", "nw_proto requires ip, ipv6 or arp in \"nw_proto=6\""},
        {"nw_tos=4", "nw_tos requires ip or ipv6 in \"nw_tos=4\""},
        {"arp,ip_dscp=1", "ip_dscp requires ip or ipv6 in \"ip_dscp=1\""},
        {"nw_ecn=1", "nw_ecn requires ip or ipv6 in \"nw_ecn=1\""},
        {"nw_ttl=1", "nw_ttl requires ip or ipv6 in \"nw_ttl=1\""},
        {"nw_frag=yes", "nw_frag requires ip or ipv6 in \"nw_frag=yes\""},
        {"udp,tcp_flags=+syn",
         "tcp_flags requires tcp or tcp6 in \"tcp_flags=+syn\""},
        {"icmp_type=8", "icmp_type requires icmp or icmp6 in \"icmp_type=8\""},
        {"tcp,icmp_code=0",
         "icmp_code requires icmp or icmp6 in \"icmp_code=0\""},
        {"icmp,icmpv6_type=1",
         "icmpv6_type requires icmp6 in \"icmpv6_type=1\""},
        {"icmpv6_code=1", "icmpv6_code requires icmp6 in \"icmpv6_code=1\""},
        {"arp_op=1", "arp_op requires arp or rarp in \"arp_op=1\""},
        {"ip,arp_spa=1.2.3.4",
         "arp_spa requires arp or rarp in \"arp_spa=1.2.3.4\""},
        {"arp_tpa=1.2.3.4",
         "arp_tpa requires arp or rarp in \"arp_tpa=1.2.3.4\""},
        {"arp_sha=1:2:3:4:5:6",
         "arp_sha requires arp or rarp in \"arp_sha=1:2:3:4:5:6\""},
        {"arp_tha=1:2:3:4:5:6",
         "arp_tha requires arp or rarp in \"arp_tha=1:2:3:4:5:6\""},
        {"icmp6,nd_target=::1",
         "nd_target requires icmp6 with icmp_type=135 or 136 and icmp_code "
         "0 in \"nd_target=::1\""},
        {"icmp6,icmp_type=135,icmp_code=1,nd_target=::1",
         "nd_target requires icmp6 with icmp_type=135 or 136 and icmp_code "
         "0 in \"nd_target=::1\""},
        {"icmp6,icmp_type=136,nd_sll=1:2:3:4:5:6",
         "nd_sll requires icmp6 with icmp_type=135 and icmp_code 0 in "
         "\"nd_sll=1:2:3:4:5:6\""},
        {"icmp6,icmp_type=135,nd_tll=1:2:3:4:5:6",
         "nd_tll requires icmp6 with icmp_type=136 and icmp_code 0 in "
         "\"nd_tll=1:2:3:4:5:6\""},
        {"reg0=1,tp_dst[0..3]=1",
         "tp_dst requires a protocol (tcp, udp or sctp) in "
         "\"tp_dst[0..3]=1\""},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *want = xasprintf("flow: %s", cases[i][1]);

        assert_match_error(cases[i][0], want);
        free(want);
    }
}

static void
test_other_match_errors_quote_the_token(void **state)
{
    (void)state;
    assert_match_error("nw_dts=10.0.0.1",
                       "flow: bad field \"nw_dts\" in \"nw_dts=10.0.0.1\" "
                       "(did you mean nw_dst?)");
    assert_match_error("TCP",
                       "flow: bad field \"TCP\" in \"TCP\" (did you mean "
                       "tcp?)");
    assert_match_error("tcp=1", "flow: tcp takes no value in \"tcp=1\" "
                                "(write it alone, e.g. \"tcp\")");
    assert_match_error("dl_vlan=4096",
                       "flow: value \"4096\" is too large for dl_vlan (at "
                       "most 12 bits) in \"dl_vlan=4096\"");
    assert_match_error("tcp,tp_dst=",
                       "flow: missing value for tp_dst in \"tp_dst=\" "
                       "(expected an integer, optionally /MASK)");
    assert_match_error("ip,nw_src=1.2.3.256",
                       "flow: bad IPv4 address \"1.2.3.256\" in "
                       "\"nw_src=1.2.3.256\" (expected an IPv4 address "
                       "a.b.c.d, optionally /PREFIX or /MASK)");
    assert_match_error("reg0[0..3]=16",
                       "flow: value \"16\" does not fit in 4 bits in "
                       "\"reg0[0..3]=16\"");
    assert_match_error("=5", "flow: missing field name in \"=5\" (expected "
                             "FIELD=VALUE)");
    /* Flow keywords are not part of a match. */
    assert_match_error("priority=5", "flow: bad field \"priority\" in "
                                     "\"priority=5\"");
    assert_match_error("in_port[0..3]=1",
                       "flow: in_port cannot be matched in part in "
                       "\"in_port[0..3]=1\" (match all of its bits)");
}

/* ---- Flow lines --------------------------------------------------------- */

static void
test_flow_lines_print_as_ovs_parse_flows_does(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"actions=drop", "actions=drop"},
        {"actions=", "actions=drop"},
        {"priority=10,tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80 "
         "actions=mod_vlan_vid:5,output:2,load:0x1->NXM_NX_REG0[0..3]",
         "priority=10,tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80 "
         "actions=mod_vlan_vid:5,output:2,load:0x1->NXM_NX_REG0[0..3]"},
        {"table=3,priority=7,cookie=0x10,idle_timeout=5,hard_timeout=6,"
         "importance=9,send_flow_rem,check_overlap,reset_counts,"
         "no_packet_counts,no_byte_counts,tcp actions=drop",
         "table:3 priority=7,tcp cookie:0x10 idle:5 hard:6 importance:9 "
         "send_flow_rem check_overlap reset_counts no_packet_counts "
         "no_byte_counts actions=drop"},
        {"cookie=0x5 actions=drop", "cookie:0x5 actions=drop"},
        {"table=0,priority=32768 actions=drop", "actions=drop"},
        {"tcp tp_dst=80 action=drop", "tcp,tp_dst=80 actions=drop"},
        {" cookie=0x5, duration=1.5s, table=2, n_packets=0, n_bytes=0, "
         "idle_age=1, hard_age=2, priority=9,arp actions=drop",
         "table:2 priority=9,arp cookie:0x5 actions=drop"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_flow(cases[i][0], FLOW_TEXT_ADD, FLOW_TEXT_STYLE_FLOW_MOD,
                    cases[i][1]);
    }
}

static void
test_dump_style_matches_ovs_dump_flows_without_stats(void **state)
{
    (void)state;
    /* As `ovs-ofctl -O OpenFlow14 dump-flows br0 --no-stats` printed it
     * for the same flow added to Open vSwitch 3.1. */
    assert_flow("table=3,priority=7,cookie=0x10,idle_timeout=500,"
                "hard_timeout=600,importance=9,send_flow_rem,check_overlap,"
                "reset_counts,tcp actions=drop",
                FLOW_TEXT_ADD, FLOW_TEXT_STYLE_DUMP,
                "cookie=0x10, table=3, idle_timeout=500, hard_timeout=600, "
                "send_flow_rem check_overlap reset_counts importance=9, "
                "priority=7,tcp actions=drop");
    assert_flow("priority=5,ip actions=output:1", FLOW_TEXT_ADD,
                FLOW_TEXT_STYLE_DUMP, "priority=5,ip actions=output:1");
    assert_flow("actions=drop", FLOW_TEXT_ADD, FLOW_TEXT_STYLE_DUMP,
                "actions=drop");
}

static void
test_modes_accept_the_keywords_of_their_ovs_ofctl_command(void **state)
{
    (void)state;
    struct flow_text ft;
    char *error;

    assert_flow("tcp,cookie=0x1/0xff,out_port=2", FLOW_TEXT_DELETE,
                FLOW_TEXT_STYLE_FLOW_MOD, "tcp cookie:0x1/0xff out_port:2");
    assert_flow("table=0", FLOW_TEXT_DELETE, FLOW_TEXT_STYLE_DUMP, "table=0");
    assert_flow("", FLOW_TEXT_DELETE, FLOW_TEXT_STYLE_DUMP, "");
    assert_flow("priority=5,tcp", FLOW_TEXT_DELETE_STRICT,
                FLOW_TEXT_STYLE_FLOW_MOD, "priority=5,tcp");
    assert_flow("cookie=0x5,cookie=0x1/0x3,ip actions=drop", FLOW_TEXT_MODIFY,
                FLOW_TEXT_STYLE_DUMP,
                "cookie=0x5, cookie=0x1/0x3, ip actions=drop");
    assert_flow("priority=9,ip,idle_timeout=3 actions=output:1",
                FLOW_TEXT_MODIFY_STRICT, FLOW_TEXT_STYLE_DUMP,
                "idle_timeout=3, priority=9,ip actions=output:1");

    /* Defaults: adding goes to table 0, modify and delete to all tables. */
    assert_int_equal(
        flow_text_parse("actions=drop", FLOW_TEXT_ADD, &ft, &error), 0);
    assert_int_equal(ft.table_id, 0);
    assert_int_equal(ft.priority, FLOW_TEXT_DEFAULT_PRIORITY);
    assert_int_equal(ft.out_port, OFPP_ANY);
    flow_text_destroy(&ft);
    assert_int_equal(flow_text_parse("ip", FLOW_TEXT_DELETE, &ft, &error), 0);
    assert_int_equal(ft.table_id, FLOW_TEXT_TABLE_ALL);
    assert_int_equal(ft.ofpacts.n, 0);
    flow_text_destroy(&ft);
    assert_int_equal(flow_text_parse("", FLOW_TEXT_MODIFY, &ft, &error), 0);
    assert_int_equal(ft.table_id, FLOW_TEXT_TABLE_ALL);
    flow_text_destroy(&ft);
}

static void
test_flow_line_errors_leave_nothing_behind(void **state)
{
    (void)state;
    assert_flow_error("tcp,tp_dst=80", FLOW_TEXT_ADD,
                      "flow: missing actions in \"tcp,tp_dst=80\" (add "
                      "actions=drop to drop the packets)");
    assert_flow_error("tcp actions:drop", FLOW_TEXT_ADD,
                      "flow: missing \"=\" after \"actions\" in \"tcp "
                      "actions:drop\" (expected actions=ACTION,...)");
    assert_flow_error("tcp actions=drop", FLOW_TEXT_DELETE,
                      "flow: actions are not allowed when deleting flows in "
                      "\"tcp actions=drop\" (a flow to delete takes only a "
                      "match)");
    assert_flow_error("priority=5", FLOW_TEXT_DELETE,
                      "flow: priority is not allowed when deleting flows in "
                      "\"priority=5\" (only a strict delete looks at "
                      "priorities)");
    assert_flow_error("out_port=1 actions=drop", FLOW_TEXT_ADD,
                      "flow: out_port is not allowed when adding flows in "
                      "\"out_port=1\"");
    assert_flow_error("importance=1 actions=drop", FLOW_TEXT_MODIFY,
                      "flow: importance is not allowed when modifying flows "
                      "in \"importance=1\"");
    assert_flow_error("cookie=0x5/0xff actions=drop", FLOW_TEXT_ADD,
                      "flow: cookie mask not allowed when adding in "
                      "\"cookie=0x5/0xff\" (a flow to add takes "
                      "cookie=VALUE; masks select flows to modify or "
                      "delete)");
    assert_flow_error("cookie=0x5", FLOW_TEXT_DELETE,
                      "flow: cannot set a cookie when deleting in "
                      "\"cookie=0x5\" (expected cookie=VALUE/MASK to select "
                      "flows)");
    assert_flow_error("table=255 actions=drop", FLOW_TEXT_ADD,
                      "flow: bad table \"255\" in \"table=255\" (expected a "
                      "table number from 0 to 254)");
    assert_flow_error("priority=65536 actions=drop", FLOW_TEXT_ADD,
                      "flow: bad priority \"65536\" in \"priority=65536\" "
                      "(expected an integer from 0 to 65535)");
    assert_flow_error("send_flow_rem=1 actions=drop", FLOW_TEXT_ADD,
                      "flow: send_flow_rem takes no value in "
                      "\"send_flow_rem=1\"");
    assert_flow_error("prority=5 actions=drop", FLOW_TEXT_ADD,
                      "flow: bad field \"prority\" in \"prority=5\" (did you "
                      "mean priority?)");
    /* Errors in the actions and in their checks come through too. */
    assert_flow_error("ip actions=output:0", FLOW_TEXT_ADD,
                      "flow: port 0 is not a valid output port in "
                      "\"output:0\" (expected a port number 1 to 65279 or "
                      "IN_PORT, NORMAL, FLOOD, ALL, LOCAL, CONTROLLER or "
                      "TABLE)");
    assert_flow_error("actions=mod_tp_dst:80", FLOW_TEXT_ADD,
                      "flow: mod_tp_dst requires a protocol (tcp, udp or "
                      "sctp) in \"mod_tp_dst:80\"");
    assert_flow_error("table=1 actions=goto_table:1", FLOW_TEXT_ADD,
                      "flow: goto_table must go to a later table than this "
                      "flow's table 1 in \"goto_table:1\" (expected "
                      "goto_table:2 or higher)");
    assert_flow_error("tcp,tp_dst=80,reg0=1,nw_dts=1 actions=note:01,"
                      "output:1",
                      FLOW_TEXT_ADD,
                      "flow: bad field \"nw_dts\" in \"nw_dts=1\" (did you "
                      "mean nw_dst?)");
}

/* ---- Random matches: parse(format(m)) == m ------------------------------ */

struct context {
    uint16_t dl_type; /* 0: none. */
    uint8_t nw_proto; /* 0: none. */
    int icmp_type;    /* -1: none. */
};

static const struct context contexts[] = {
    {0, 0, -1},
    {ETH_TYPE_IP, 0, -1},
    {ETH_TYPE_IPV6, 0, -1},
    {ETH_TYPE_ARP, 0, -1},
    {ETH_TYPE_RARP, 0, -1},
    {ETH_TYPE_IP, IPPROTO_TCP_, -1},
    {ETH_TYPE_IP, IPPROTO_UDP_, -1},
    {ETH_TYPE_IP, IPPROTO_SCTP_, -1},
    {ETH_TYPE_IP, IPPROTO_ICMP_, -1},
    {ETH_TYPE_IPV6, IPPROTO_TCP_, -1},
    {ETH_TYPE_IPV6, IPPROTO_UDP_, -1},
    {ETH_TYPE_IPV6, IPPROTO_SCTP_, -1},
    {ETH_TYPE_IPV6, IPPROTO_ICMPV6_, -1},
    {ETH_TYPE_IPV6, IPPROTO_ICMPV6_, ND_NEIGHBOR_SOLICIT},
    {ETH_TYPE_IPV6, IPPROTO_ICMPV6_, ND_NEIGHBOR_ADVERT},
};

static uint32_t
rnd(unsigned int *seed)
{
    return ((uint32_t)rand_r(seed) << 16) ^ (uint32_t)rand_r(seed);
}

static void
random_bytes(const struct field *f, union field_value *v, unsigned int *seed)
{
    union field_value ones;

    memset(v, 0, sizeof *v);
    for (unsigned int i = 0; i < f->n_bytes; i++) {
        v->b[i] = (uint8_t)rnd(seed);
    }
    field_all_ones(f, &ones);
    field_value_and(f, v, v, &ones);
}

/* A random mask for a maskable field: exact, a prefix or random bits. */
static void
random_mask(const struct field *f, union field_value *m, unsigned int *seed)
{
    switch (rnd(seed) % 3) {
    case 0:
        field_all_ones(f, m);
        break;
    case 1: {
        unsigned int len = rnd(seed) % (f->n_bits + 1);

        memset(m, 0, sizeof *m);
        for (unsigned int i = 0; i < len; i++) {
            field_bit_set(m->b, f->n_bytes, f->n_bits - 1 - i, true);
        }
        break;
    }
    default:
        random_bytes(f, m, seed);
        break;
    }
}

/* Does 'f' define the context, so that the generator must leave it? */
static bool
defines_context(const struct field *f, const struct context *c)
{
    switch (f->id) {
    case FIELD_ETH_TYPE:
        return c->dl_type != 0;
    case FIELD_NW_PROTO:
        return c->nw_proto != 0;
    case FIELD_ICMP_TYPE:
    case FIELD_ICMPV6_TYPE:
    case FIELD_ICMP_CODE:
    case FIELD_ICMPV6_CODE:
        return c->icmp_type >= 0;
    default:
        return false;
    }
}

/* A random match built from the field table: a random context, then each
 * field whose prerequisites hold with probability 1/3, with a random valid
 * value and mask. */
static void
random_match(struct match *m, unsigned int *seed)
{
    static const uint8_t frag_values[][2] = {
        {0, FLOW_NW_FRAG_ANY},
        {FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_ANY},
        {FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_MASK},
        {FLOW_NW_FRAG_MASK, FLOW_NW_FRAG_MASK},
        {0, FLOW_NW_FRAG_LATER},
    };
    const struct context *c = &contexts[rnd(seed) % ARRAY_SIZE(contexts)];

    match_init_catchall(m);
    if (c->dl_type) {
        m->flow.dl_type = htons(c->dl_type);
        m->wc.masks.dl_type = htons(0xffff);
    }
    if (c->nw_proto) {
        m->flow.nw_proto = c->nw_proto;
        m->wc.masks.nw_proto = 0xff;
    }
    if (c->icmp_type >= 0) {
        m->flow.tp_src = htons(c->icmp_type);
        m->wc.masks.tp_src = htons(0xffff);
    }

    for (int i = 0; i < FIELD_N_IDS; i++) {
        const struct field *f = field_from_id(i);
        union field_value v, mask;

        if (rnd(seed) % 3 || defines_context(f, c)
            || !field_prereqs_ok(f, m)) {
            continue;
        }
        random_bytes(f, &v, seed);
        if (f->id == FIELD_NW_TOS) {
            v.u8 &= IP_DSCP_MASK;
        }
        if (f->format == FIELD_FORMAT_FRAG) {
            const uint8_t *fv = frag_values[rnd(seed) % 5];

            v.u8 = fv[0];
            memset(&mask, 0, sizeof mask);
            mask.u8 = fv[1];
        } else if (f->maskable) {
            random_mask(f, &mask, seed);
        } else {
            field_all_ones(f, &mask);
        }
        field_set_match(f, &v, &mask, m);
    }
}

static void
test_random_matches_survive_format_and_parse(void **state)
{
    (void)state;
    unsigned int seed = 2024;
    int n_nonempty = 0;

    for (int round = 0; round < 5000; round++) {
        struct match m, back;
        struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
        char *error = NULL;

        random_match(&m, &seed);
        match_format(&m, -1, &text);
        if (match_from_string(ds_cstr(&text), &back, &error)) {
            fail_msg("\"%s\": %s", ds_cstr(&text), error);
        }
        if (!match_equal(&m, &back)) {
            fail_msg("\"%s\" parsed back differently", ds_cstr(&text));
        }
        match_format(&back, -1, &text2);
        assert_string_equal(ds_cstr(&text), ds_cstr(&text2));
        n_nonempty += text.length > 0;
        ds_destroy(&text);
        ds_destroy(&text2);
    }
    /* The generator really produces matches. */
    assert_true(n_nonempty > 4900);
}

/* ---- Random flow lines -------------------------------------------------- */

static void
random_flow_text(struct flow_text *ft, unsigned int *seed)
{
    static const enum flow_text_mode modes[] = {
        FLOW_TEXT_ADD,    FLOW_TEXT_MODIFY,        FLOW_TEXT_MODIFY_STRICT,
        FLOW_TEXT_DELETE, FLOW_TEXT_DELETE_STRICT,
    };
    enum flow_text_mode mode = modes[rnd(seed) % ARRAY_SIZE(modes)];
    bool del = mode == FLOW_TEXT_DELETE || mode == FLOW_TEXT_DELETE_STRICT;

    flow_text_init(ft, mode);
    random_match(&ft->match, seed);
    if (mode != FLOW_TEXT_DELETE && rnd(seed) % 2) {
        ft->priority = (uint16_t)rnd(seed);
    }
    if (rnd(seed) % 2) {
        ft->table_id = rnd(seed) % (mode == FLOW_TEXT_ADD ? 255 : 256);
    }
    if (!del && rnd(seed) % 2) {
        ft->cookie = rnd(seed) % 2 ? rnd(seed) : 0;
        ft->set_cookie = mode != FLOW_TEXT_ADD;
    }
    if (mode != FLOW_TEXT_ADD && rnd(seed) % 2) {
        ft->cookie_mask = ((uint64_t)rnd(seed) << 32) | rnd(seed);
        ft->cookie_match = rnd(seed) & ft->cookie_mask;
    }
    if (!del) {
        ft->idle_timeout = rnd(seed) % 2 ? (uint16_t)rnd(seed) : 0;
        ft->hard_timeout = rnd(seed) % 2 ? (uint16_t)rnd(seed) : 0;
        ft->flags = rnd(seed) % 32;
        if (mode == FLOW_TEXT_ADD && rnd(seed) % 2) {
            ft->importance = (uint16_t)rnd(seed);
        }
        if (rnd(seed) % 2) {
            ofpacts_put(&ft->ofpacts, OFPACT_OUTPUT)->output.port =
                1 + rnd(seed) % 100;
        }
        if (rnd(seed) % 3 == 0) {
            ofpacts_put_note(&ft->ofpacts, "abcdef", 6);
        }
    } else if (rnd(seed) % 2) {
        ft->out_port = (uint16_t)rnd(seed);
    }
}

static void
test_random_flow_lines_survive_the_dump_style(void **state)
{
    (void)state;
    unsigned int seed = 77;

    for (int round = 0; round < 3000; round++) {
        struct flow_text ft, back;
        struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
        char *error = NULL;

        random_flow_text(&ft, &seed);
        flow_text_format(&ft, FLOW_TEXT_STYLE_DUMP, &text);
        if (flow_text_parse(ds_cstr(&text), ft.mode, &back, &error)) {
            fail_msg("\"%s\": %s", ds_cstr(&text), error);
        }
        if (!flow_text_equal(&ft, &back)) {
            fail_msg("\"%s\" parsed back differently", ds_cstr(&text));
        }
        flow_text_format(&back, FLOW_TEXT_STYLE_DUMP, &text2);
        assert_string_equal(ds_cstr(&text), ds_cstr(&text2));

        /* The flow-mod style is stable too, though not parsable. */
        ds_destroy(&text);
        ds_destroy(&text2);
        flow_text_format(&ft, FLOW_TEXT_STYLE_FLOW_MOD, &text);
        flow_text_format(&back, FLOW_TEXT_STYLE_FLOW_MOD, &text2);
        assert_string_equal(ds_cstr(&text), ds_cstr(&text2));

        flow_text_destroy(&ft);
        flow_text_destroy(&back);
        ds_destroy(&text);
        ds_destroy(&text2);
    }
}

static void
test_format_of_parsed_text_is_stable_for_hand_written_lines(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "priority=10,tcp,in_port=1,nw_src=10.0.0.0/255.255.0.0,tp_dst=80 "
        "actions=mod_vlan_vid:5,output:2,load:1->reg0[0..3]",
        "  arp arp_op=2 ,nw_dst=1.2.3.4 actions=controller(reason=no_match)",
        "icmp6,icmp_type=135,nd_target=::1,nd_sll=a:b:c:d:e:f actions=local",
        "tcp,tcp_flags=0x12/0x12,dl_vlan=0xffff actions=note:1234",
        "reg0[0..7]=0xff,metadata=0x1/0x1 actions=write_metadata:2,"
        "goto_table:3",
    };

    for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
        char *once =
            flow_canonical(lines[i], FLOW_TEXT_ADD, FLOW_TEXT_STYLE_DUMP);
        char *twice =
            flow_canonical(once, FLOW_TEXT_ADD, FLOW_TEXT_STYLE_DUMP);

        assert_string_equal(once, twice);
        free(once);
        free(twice);
    }
}

/* ---- Flow files --------------------------------------------------------- */

/* Reads 'text' as the flow file "f.flows" in 'mode', at most 'max_flows'
 * flows and 'max_errors' errors, into '*file'.  Returns what
 * flow_text_parse_file() returned. */
static int
parse_file(const char *text, enum flow_text_mode mode, size_t max_flows,
           size_t max_errors, struct flow_text_file *file)
{
    struct flow_text_file_options options = {
        .mode = mode,
        .max_flows = max_flows,
        .max_errors = max_errors,
    };
    FILE *stream = fmemopen((void *)text, strlen(text), "r");
    int error;

    assert_non_null(stream);
    error = flow_text_parse_file(stream, "f.flows", &options, file);
    fclose(stream);
    return error;
}

/* Asserts that 'file' holds flows of 'modes' whose flow-mod text is 'want',
 * "\n"-terminated lines. */
static void
assert_file_flows(const struct flow_text_file *file,
                  const enum flow_text_mode *modes, const char *want)
{
    struct ds got = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < file->n_flows; i++) {
        assert_int_equal(file->flows[i].mode, modes[i]);
        flow_text_format(&file->flows[i], FLOW_TEXT_STYLE_FLOW_MOD, &got);
        ds_put_char(&got, '\n');
    }
    assert_string_equal(ds_cstr(&got), want);
    ds_destroy(&got);
}

static void
test_flow_file_skips_comments_blank_lines_and_crs(void **state)
{
    static const enum flow_text_mode modes[] = {FLOW_TEXT_ADD, FLOW_TEXT_ADD};
    struct flow_text_file file;

    (void)state;
    assert_int_equal(parse_file("  # only a comment\n\n\t\r\n"
                                "tcp actions=drop # note\r\n"
                                "udp actions=output:1",
                                FLOW_TEXT_ADD, 0, 0, &file),
                     0);
    assert_int_equal(file.n_lines, 5);
    assert_int_equal(file.n_errors, 0);
    assert_file_flows(&file, modes,
                      "tcp actions=drop\nudp actions=output:1\n");
    flow_text_file_destroy(&file);
}

static void
test_add_file_lines_may_start_with_a_command_word(void **state)
{
    static const enum flow_text_mode modes[] = {
        FLOW_TEXT_ADD,           FLOW_TEXT_MODIFY, FLOW_TEXT_MODIFY_STRICT,
        FLOW_TEXT_DELETE_STRICT, FLOW_TEXT_DELETE,
    };
    struct flow_text_file file;

    (void)state;
    assert_int_equal(parse_file("add ip,actions=drop\n"
                                "modify,ip,actions=output:1\n"
                                "\tmodify_strict\tpriority=7,ip,actions=drop\n"
                                "delete_strict priority=7,ip\n"
                                "delete\n",
                                FLOW_TEXT_ADD, 0, 0, &file),
                     0);
    assert_file_flows(&file, modes,
                      "ip actions=drop\n"
                      "ip actions=output:1\n"
                      "priority=7,ip actions=drop\n"
                      "priority=7,ip\n"
                      "\n");
    flow_text_file_destroy(&file);
    assert_string_equal(flow_text_mode_keyword(FLOW_TEXT_MODIFY_STRICT),
                        "modify_strict");
    assert_string_equal(flow_text_mode_keyword(FLOW_TEXT_ADD), "add");
}

static void
test_command_words_are_whole_and_only_in_add_files(void **state)
{
    struct flow_text_file file;

    (void)state;
    /* ovs-ofctl takes "mod" for modify by accident; its manual does not. */
    assert_int_equal(
        parse_file("mod ip,actions=drop\n", FLOW_TEXT_ADD, 0, 0, &file),
        EINVAL);
    assert_int_equal(file.n_errors, 1);
    assert_non_null(strstr(file.errors[0], "f.flows:1: flow: bad field"));
    flow_text_file_destroy(&file);

    /* A mod-flows file is modify throughout. */
    assert_int_equal(
        parse_file("modify ip,actions=drop\n", FLOW_TEXT_MODIFY, 0, 0, &file),
        EINVAL);
    assert_non_null(
        strstr(file.errors[0], "f.flows:1: flow: bad field \"modify\""));
    flow_text_file_destroy(&file);
}

static void
test_backslash_does_not_continue_a_flow_file_line(void **state)
{
    struct flow_text_file file;

    (void)state;
    assert_int_equal(parse_file("tcp,tp_dst=80 \\\n actions=drop\n",
                                FLOW_TEXT_ADD, 0, 0, &file),
                     EINVAL);
    /* The second line is a flow of its own. */
    assert_int_equal(file.n_flows, 1);
    assert_int_equal(file.n_errors, 1);
    assert_true(!strncmp(file.errors[0], "f.flows:1: flow: missing actions",
                         strlen("f.flows:1: flow: missing actions")));
    flow_text_file_destroy(&file);
}

static void
test_flow_file_reports_every_bad_line_up_to_max_errors(void **state)
{
    static const char text[] = "tcp actions=drop\n"
                               "tp_dst=80 actions=drop\n"
                               "# comment\n"
                               "\n"
                               "ip actions=output:0\n"
                               "udp actions=drop\n";
    struct flow_text_file file;

    (void)state;
    assert_int_equal(parse_file(text, FLOW_TEXT_ADD, 0, 0, &file), EINVAL);
    assert_int_equal(file.n_flows, 2);
    assert_int_equal(file.n_errors, 2);
    assert_true(!strncmp(file.errors[0], "f.flows:2: flow: tp_dst requires",
                         strlen("f.flows:2: flow: tp_dst requires")));
    assert_true(!strncmp(file.errors[1], "f.flows:5: flow: port 0 is not",
                         strlen("f.flows:5: flow: port 0 is not")));
    for (size_t i = 0; i < file.n_errors; i++) {
        assert_null(strchr(file.errors[i], '\n'));
    }
    flow_text_file_destroy(&file);

    /* Stopping at the first. */
    assert_int_equal(parse_file(text, FLOW_TEXT_ADD, 0, 1, &file), EINVAL);
    assert_int_equal(file.n_errors, 1);
    assert_int_equal(file.n_lines, 2);
    flow_text_file_destroy(&file);
}

static void
test_flow_file_stops_at_the_first_flow_beyond_max_flows(void **state)
{
    struct flow_text_file file;

    (void)state;
    assert_int_equal(parse_file("tcp actions=drop\n# c\nudp actions=drop\n"
                                "\nip actions=drop\n",
                                FLOW_TEXT_ADD, 2, 0, &file),
                     EFBIG);
    assert_int_equal(file.n_flows, 2);
    assert_int_equal(file.n_errors, 0);
    assert_int_equal(file.n_lines, 5);
    flow_text_file_destroy(&file);

    assert_int_equal(
        parse_file("tcp actions=drop\n", FLOW_TEXT_ADD, 1, 0, &file), 0);
    flow_text_file_destroy(&file);
}

/* ---- MPLS and tun_id ---------------------------------------------------- */

static void
test_mpls_fields_print_in_ovs_order(void **state)
{
    (void)state;
    assert_match("mpls,mpls_bos=1,mpls_ttl=3,mpls_tc=1,mpls_label=5",
                 "mpls,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1");
    assert_match("mplsm,mpls_label=1048575", "mplsm,mpls_label=1048575");
    assert_match("in_port=1,metadata=3,tunnel_id=5,reg0=1",
                 "reg0=0x1,tun_id=0x5,metadata=0x3,in_port=1");
    assert_match("tun_id=0x5/0xff", "tun_id=0x5/0xff");
}

static void
test_mpls_fields_need_mpls_and_fit_their_width(void **state)
{
    (void)state;
    char *e = match_error("ip,mpls_label=5");

    assert_non_null(strstr(e, "mpls or mplsm"));
    free(e);
    e = match_error("mpls,mpls_label=1048576");
    free(e);
    e = match_error("mpls,mpls_tc=8");
    free(e);
    e = match_error("mpls,mpls_label=5/0xff");
    free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpls_fields_print_in_ovs_order),
        cmocka_unit_test(test_mpls_fields_need_mpls_and_fit_their_width),
        cmocka_unit_test(test_tokens_follow_ovs_key_value_rules),
        cmocka_unit_test(test_every_field_parses_and_formats_like_ovs),
        cmocka_unit_test(test_every_shorthand_pins_dl_type_and_nw_proto),
        cmocka_unit_test(
            test_fields_print_in_ovs_order_whatever_the_input_order),
        cmocka_unit_test(test_priority_prints_first_unless_it_is_the_default),
        cmocka_unit_test(test_tp_dst_without_protocol_is_refused),
        cmocka_unit_test(
            test_each_prerequisite_is_enforced_with_its_own_message),
        cmocka_unit_test(test_other_match_errors_quote_the_token),
        cmocka_unit_test(test_flow_lines_print_as_ovs_parse_flows_does),
        cmocka_unit_test(test_dump_style_matches_ovs_dump_flows_without_stats),
        cmocka_unit_test(
            test_modes_accept_the_keywords_of_their_ovs_ofctl_command),
        cmocka_unit_test(test_flow_line_errors_leave_nothing_behind),
        cmocka_unit_test(test_random_matches_survive_format_and_parse),
        cmocka_unit_test(test_random_flow_lines_survive_the_dump_style),
        cmocka_unit_test(
            test_format_of_parsed_text_is_stable_for_hand_written_lines),
        cmocka_unit_test(test_flow_file_skips_comments_blank_lines_and_crs),
        cmocka_unit_test(test_add_file_lines_may_start_with_a_command_word),
        cmocka_unit_test(test_command_words_are_whole_and_only_in_add_files),
        cmocka_unit_test(test_backslash_does_not_continue_a_flow_file_line),
        cmocka_unit_test(
            test_flow_file_reports_every_bad_line_up_to_max_errors),
        cmocka_unit_test(
            test_flow_file_stops_at_the_first_flow_beyond_max_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
