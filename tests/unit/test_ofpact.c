/* Unit tests for src/flow/ofpact.c: parsing, formatting, validation and
 * round trips of action lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/actset.h"
#include "flow/field.h"
#include "flow/flow-text.h"
#include "flow/ofpact.h"
#include "lib/dynamic-string.h"

/* Parses 's', which must be valid, and returns its canonical text. */
static char *
canonical(const char *s)
{
    struct ofpacts ofpacts;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (ofpacts_parse(s, &ofpacts, &error)) {
        fail_msg("\"%s\": %s", s, error);
    }
    ofpacts_format(&ofpacts, &out);
    ofpacts_destroy(&ofpacts);
    return ds_steal_cstr(&out);
}

static void
assert_canonical(const char *in, const char *want)
{
    char *got = canonical(in);

    assert_string_equal(got, want);
    free(got);
}

/* Parses 's', which must be refused, and returns the error. */
static char *
parse_error(const char *s)
{
    struct ofpacts ofpacts;
    char *error = NULL;

    assert_int_equal(ofpacts_parse(s, &ofpacts, &error), EINVAL);
    assert_non_null(error);
    assert_int_equal(ofpacts.n, 0); /* Nothing left behind. */
    assert_null(ofpacts.acts);
    ofpacts_destroy(&ofpacts);
    return error;
}

static void
assert_parse_error(const char *s, const char *want)
{
    char *error = parse_error(s);

    assert_string_equal(error, want);
    free(error);
}

/* Checks the valid action list 'acts' against the match 'match_s' in table
 * 'table' and returns the error, or NULL. */
static char *
check_error(const char *match_s, const char *acts, uint8_t table)
{
    struct match match;
    struct ofpacts ofpacts;
    char *error = NULL;

    if (match_from_string(match_s, &match, &error)) {
        fail_msg("%s", error);
    }
    if (ofpacts_parse(acts, &ofpacts, &error)) {
        fail_msg("%s", error);
    }
    if (ofpacts_check(&ofpacts, &match, table, &error)) {
        assert_non_null(error);
    } else {
        assert_null(error);
    }
    ofpacts_destroy(&ofpacts);
    return error;
}

static void
assert_check_ok(const char *match_s, const char *acts, uint8_t table)
{
    char *error = check_error(match_s, acts, table);

    if (error) {
        fail_msg("%s", error);
    }
}

static void
assert_check_error(const char *match_s, const char *acts, uint8_t table,
                   const char *want)
{
    char *error = check_error(match_s, acts, table);

    assert_non_null(error);
    assert_string_equal(error, want);
    free(error);
}

/* ---- MPLS and TTL actions ----------------------------------------------- */

static void
test_mpls_actions_print_as_ovs_prints_them(void **state)
{
    (void)state;
    assert_canonical("push_mpls:0x8847,pop_mpls:0x800,push_mpls:34888",
                     "push_mpls:0x8847,pop_mpls:0x0800,push_mpls:0x8848");
    assert_canonical("set_mpls_label:7,set_mpls_tc:2,set_mpls_ttl:9",
                     "set_mpls_label(7),set_mpls_tc(2),set_mpls_ttl(9)");
    assert_canonical("set_mpls_label(1048575),set_mpls_ttl(0)",
                     "set_mpls_label(1048575),set_mpls_ttl(0)");
    assert_canonical("DEC_MPLS_TTL,mod_nw_ttl:5", "dec_mpls_ttl,mod_nw_ttl:5");
    assert_canonical("set_field:7->mpls_label,set_field:0x5->tunnel_id",
                     "set_field:7->mpls_label,set_field:0x5->tun_id");
}

static void
test_mpls_action_arguments_are_checked(void **state)
{
    char *e;

    (void)state;
    e = parse_error("push_mpls:0x0800");
    assert_non_null(strstr(e, "expected 0x8847 or 0x8848"));
    free(e);
    free(parse_error("set_mpls_label:1048576"));
    free(parse_error("set_mpls_tc:8"));
    free(parse_error("set_mpls_ttl:256"));
    free(parse_error("mod_nw_ttl:256"));
    free(parse_error("dec_mpls_ttl:1"));
    free(parse_error("set_field:1->mpls_bos"));
    /* Open vSwitch 3.1 knows neither. */
    free(parse_error("copy_ttl_in"));
    free(parse_error("copy_ttl_out"));
}

static void
test_mpls_actions_need_mpls_tracked_through_push_and_pop(void **state)
{
    static const struct {
        const char *match, *acts, *error;
    } refused[] = {
        {"ip", "set_mpls_label:1",
         "flow: set_mpls_label requires mpls or mplsm in "
         "\"set_mpls_label(1)\""},
        {"", "pop_mpls:0x0800",
         "flow: pop_mpls requires mpls or mplsm in \"pop_mpls:0x0800\""},
        {"ip", "push_mpls:0x8847,mod_nw_ttl:5",
         "flow: mod_nw_ttl requires ip or ipv6 in \"mod_nw_ttl:5\""},
        {"ip", "push_mpls:0x8847,set_field:1.2.3.4->ip_src",
         "flow: ip_src requires ip in \"set_field:1.2.3.4->ip_src\""},
        {"ip", "set_field:5->mpls_label",
         "flow: mpls_label requires mpls or mplsm in "
         "\"set_field:5->mpls_label\""},
    };

    (void)state;
    assert_check_ok("mpls",
                    "set_mpls_label:1,set_mpls_tc:1,"
                    "set_mpls_ttl:1,dec_mpls_ttl,pop_mpls:0x800",
                    0);
    assert_check_ok("ip", "push_mpls:0x8847,set_mpls_label:5", 0);
    assert_check_ok("mpls", "pop_mpls:0x0800,mod_nw_ttl:3,dec_ttl", 0);
    assert_check_ok("ipv6", "mod_nw_ttl:3", 0);
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        assert_check_error(refused[i].match, refused[i].acts, 0,
                           refused[i].error);
    }
}

static void
test_mod_nw_ttl_travels_as_a_load_over_openflow10(void **state)
{
    struct ofpacts ofpacts;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    (void)state;
    assert_int_equal(
        ofpacts_parse("mod_nw_ttl:5,set_mpls_label:3", &ofpacts, &error), 0);
    ofpacts_as_openflow10(&ofpacts);
    ofpacts_format(&ofpacts, &out);
    assert_string_equal(ds_cstr(&out),
                        "load:0x5->NXM_NX_IP_TTL[],set_mpls_label(3)");
    ds_destroy(&out);
    ofpacts_destroy(&ofpacts);
}

/* ---- Parsing and formatting --------------------------------------------- */

static void
test_meter_instruction_comes_first_once(void **state)
{
    (void)state;
    assert_canonical("meter:1,output:2", "meter:1,output:2");
    assert_canonical("METER:4294901760,goto_table:1",
                     "meter:4294901760,goto_table:1");
    assert_canonical("meter:7", "meter:7");
    assert_parse_error("output:2,meter:1",
                       "flow: meter must come before every action in "
                       "\"output:2,meter:1\" (the meter instruction comes "
                       "first, at most once)");
    assert_parse_error("meter:1,meter:2",
                       "flow: meter must come before every action in "
                       "\"meter:1,meter:2\" (the meter instruction comes "
                       "first, at most once)");
    assert_parse_error("meter:0,output:1",
                       "flow: bad meter \"0\" in \"meter:0\" (expected a "
                       "meter 1..4294901760)");
    free(parse_error("meter:4294901761"));
}

static void
test_meter_actions_compare_by_meter_id_only(void **state)
{
    struct ofpacts a, b;
    char *error = NULL;

    (void)state;
    assert_int_equal(ofpacts_parse("meter:3,output:1", &a, &error), 0);
    assert_int_equal(ofpacts_parse("meter:3,output:1", &b, &error), 0);
    assert_int_equal(a.acts[0].meter.dp_id, OFPACT_METER_DP_NONE);
    b.acts[0].meter.dp_id = 5; /* What ofproto binds does not count. */
    assert_true(ofpacts_equal(&a, &b));
    b.acts[0].meter.meter_id = 4;
    assert_false(ofpacts_equal(&a, &b));
    ofpacts_destroy(&a);
    ofpacts_destroy(&b);
}

static void
test_output_actions_print_as_ovs_prints_them(void **state)
{
    (void)state;
    assert_canonical("output:1", "output:1");
    assert_canonical("1", "output:1");
    assert_canonical("1,2,3", "output:1,output:2,output:3");
    assert_canonical("output:65279", "output:65279");
    assert_canonical("output(1)", "output:1");
    assert_canonical("output=1", "output:1");
    assert_canonical("OUTPUT:1", "output:1");
    assert_canonical("in_port", "IN_PORT");
    assert_canonical("output:in_port", "IN_PORT");
    assert_canonical("normal", "NORMAL");
    assert_canonical("Normal", "NORMAL");
    assert_canonical("flood", "FLOOD");
    assert_canonical("all", "ALL");
    assert_canonical("local", "LOCAL");
    assert_canonical("output:65534", "LOCAL");
    assert_canonical("output:4294967294", "LOCAL");
    assert_canonical("output:TABLE", "TABLE");
    assert_canonical("output:1 output:2", "output:1,output:2");
    assert_canonical("output:1, output:2", "output:1,output:2");
}

static void
test_empty_list_and_drop_print_as_drop(void **state)
{
    (void)state;
    assert_canonical("", "drop");
    assert_canonical("drop", "drop");
    assert_canonical("DROP", "drop");
    assert_canonical("  ", "drop");
}

static void
test_controller_actions_use_the_short_form_when_they_can(void **state)
{
    (void)state;
    assert_canonical("controller", "CONTROLLER:65535");
    assert_canonical("controller:100", "CONTROLLER:100");
    assert_canonical("CONTROLLER:0", "CONTROLLER:0");
    assert_canonical("output:CONTROLLER", "CONTROLLER:65535");
    assert_canonical("controller()", "CONTROLLER:65535");
    assert_canonical("controller(reason=action)", "CONTROLLER:65535");
    assert_canonical("controller(max_len=100,reason=no_match)",
                     "controller(reason=no_match,max_len=100)");
    assert_canonical("controller(reason=invalid_ttl,max_len=5)",
                     "controller(reason=invalid_ttl,max_len=5)");
    assert_canonical("controller(id=3)", "controller(id=3)");
    assert_canonical("controller(reason=packet_out,id=7,max_len=128)",
                     "controller(reason=packet_out,max_len=128,id=7)");
}

static void
test_header_rewrites_print_canonically(void **state)
{
    (void)state;
    assert_canonical("mod_vlan_vid:5", "mod_vlan_vid:5");
    assert_canonical("mod_vlan_vid(4095)", "mod_vlan_vid:4095");
    assert_canonical("mod_vlan_vid=0x10", "mod_vlan_vid:16");
    assert_canonical("mod_vlan_pcp:7", "mod_vlan_pcp:7");
    assert_canonical("strip_vlan", "strip_vlan");
    assert_canonical("pop_vlan", "strip_vlan");
    assert_canonical("push_vlan:0x8100", "push_vlan:0x8100");
    assert_canonical("push_vlan:0x88a8", "push_vlan:0x88a8");
    assert_canonical("mod_dl_src:AA:BB:CC:DD:EE:FF",
                     "mod_dl_src:aa:bb:cc:dd:ee:ff");
    assert_canonical("mod_dl_dst:1:2:3:4:5:6", "mod_dl_dst:01:02:03:04:05:06");
    assert_canonical("mod_nw_src:1.2.3.4", "mod_nw_src:1.2.3.4");
    assert_canonical("mod_nw_dst:010.0.0.1", "mod_nw_dst:10.0.0.1");
    assert_canonical("mod_nw_tos:252", "mod_nw_tos:252");
    assert_canonical("mod_tp_src:80", "mod_tp_src:80");
    assert_canonical("mod_tp_dst:0x50", "mod_tp_dst:80");
    assert_canonical("dec_ttl", "dec_ttl");
}

static void
test_set_field_prints_values_in_the_field_format(void **state)
{
    (void)state;
    assert_canonical("set_field:5->reg0", "set_field:0x5->reg0");
    assert_canonical("set_field:0->reg0", "set_field:0->reg0");
    assert_canonical("set_field:0x5/0xff->reg0", "set_field:0x5/0xff->reg0");
    assert_canonical("set_field:0x1234/0xff->reg0",
                     "set_field:0x34/0xff->reg0");
    assert_canonical("set_field:aa:bb:cc:dd:ee:ff->eth_src",
                     "set_field:aa:bb:cc:dd:ee:ff->eth_src");
    assert_canonical("set_field:1.2.3.4->nw_src", "set_field:1.2.3.4->ip_src");
    assert_canonical("set_field:1.2.3.4/16->ip_dst",
                     "set_field:1.2.0.0/16->ip_dst");
    assert_canonical("set_field:LOCAL->in_port", "set_field:LOCAL->in_port");
    assert_canonical("set_field:4101->vlan_vid", "set_field:4101->vlan_vid");
    assert_canonical("set_field:3->ip_ecn", "set_field:3->nw_ecn");
    assert_canonical("set_field:80->tp_dst", "set_field:80->tcp_dst");
    assert_canonical("set_field:80/0xff->tcp_dst",
                     "set_field:80/0xff->tcp_dst");
    assert_canonical("set_field:::1->ipv6_src", "set_field:::1->ipv6_src");
    assert_canonical("set_field:5->ipv6_label", "set_field:0x5->ipv6_label");
    assert_canonical("set_field:0x1005->vlan_tci",
                     "set_field:0x1005->vlan_tci");
    assert_canonical("set_field:5->NXM_NX_REG1", "set_field:0x5->reg1");
}

static void
test_load_and_move_print_nxm_subfields(void **state)
{
    (void)state;
    assert_canonical("load:5->NXM_NX_REG0[]", "load:0x5->NXM_NX_REG0[]");
    assert_canonical("load:5->reg0[0..7]", "load:0x5->NXM_NX_REG0[0..7]");
    assert_canonical("load:0->reg0[]", "load:0->NXM_NX_REG0[]");
    assert_canonical("load:1->NXM_NX_REG0[3..3]", "load:0x1->NXM_NX_REG0[3]");
    assert_canonical("load:1->NXM_NX_REG0", "load:0x1->NXM_NX_REG0[]");
    assert_canonical("load:1->metadata[]", "load:0x1->OXM_OF_METADATA[]");
    assert_canonical("load:0xaabbccddeeff->NXM_OF_ETH_SRC[]",
                     "load:0xaabbccddeeff->NXM_OF_ETH_SRC[]");
    assert_canonical("load:1->tp_src[]", "load:0x1->NXM_OF_TCP_SRC[]");
    assert_canonical("move:reg0[]->reg1[]",
                     "move:NXM_NX_REG0[]->NXM_NX_REG1[]");
    assert_canonical("move:NXM_NX_REG0[0..3]->NXM_NX_REG1[4..7]",
                     "move:NXM_NX_REG0[0..3]->NXM_NX_REG1[4..7]");
    assert_canonical("move:OXM_OF_ETH_SRC[]->dl_dst[]",
                     "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]");
    assert_canonical("move:tcp_flags[]->reg0[0..11]",
                     "move:NXM_NX_TCP_FLAGS[]->NXM_NX_REG0[0..11]");
}

static void
test_loads_wider_than_64_bits_split_like_ovs_prints_them(void **state)
{
    (void)state;
    struct ofpacts ofpacts;
    char *error;

    assert_canonical("load:0x1->NXM_NX_IPV6_SRC[]",
                     "load:0x1->NXM_NX_IPV6_SRC[0..63],"
                     "load:0->NXM_NX_IPV6_SRC[64..127]");
    assert_canonical("load:0x20010db8000000000000000000000001->"
                     "NXM_NX_IPV6_SRC[]",
                     "load:0x1->NXM_NX_IPV6_SRC[0..63],"
                     "load:0x20010db800000000->NXM_NX_IPV6_SRC[64..127]");
    assert_canonical("load:0x1->NXM_NX_IPV6_SRC[60..75]",
                     "load:0x1->NXM_NX_IPV6_SRC[60..75]");
    assert_int_equal(
        ofpacts_parse("load:3->NXM_NX_ND_TARGET[0..99]", &ofpacts, &error), 0);
    assert_int_equal(ofpacts.n, 2);
    assert_int_equal(ofpacts.acts[1].load.dst.ofs, 64);
    assert_int_equal(ofpacts.acts[1].load.dst.n_bits, 36);
    ofpacts_destroy(&ofpacts);
}

static void
test_load_is_a_masked_write_of_the_whole_field(void **state)
{
    (void)state;
    struct ofpacts ofpacts;
    union field_value value, mask;
    char *error;

    assert_int_equal(ofpacts_parse("load:0x5->reg3[4..7]", &ofpacts, &error),
                     0);
    ofpact_load_to_field(&ofpacts.acts[0], &value, &mask);
    assert_int_equal(ntohl(value.be32), 0x50);
    assert_int_equal(ntohl(mask.be32), 0xf0);
    ofpacts_destroy(&ofpacts);
}

static void
test_resubmit_prints_the_shortest_form(void **state)
{
    (void)state;
    assert_canonical("resubmit(,3)", "resubmit(,3)");
    assert_canonical("resubmit(1,2)", "resubmit(1,2)");
    assert_canonical("resubmit:5", "resubmit:5");
    assert_canonical("resubmit(1)", "resubmit:1");
    assert_canonical("resubmit(in_port,2)", "resubmit(,2)");
    assert_canonical("resubmit(LOCAL,1)", "resubmit(LOCAL,1)");
    assert_canonical("resubmit:local", "resubmit:LOCAL");
}

static void
test_notes_are_padded_like_the_openflow_encoding(void **state)
{
    (void)state;
    assert_canonical("note:01.02.03", "note:01.02.03.00.00.00");
    assert_canonical("note:0102", "note:01.02.00.00.00.00");
    assert_canonical("note:", "note:00.00.00.00.00.00");
    assert_canonical("note", "note:00.00.00.00.00.00");
    assert_canonical("note:01.02.03.04.05.06", "note:01.02.03.04.05.06");
    assert_canonical("note:01.02.03.04.05.06.07",
                     "note:01.02.03.04.05.06.07.00.00.00.00.00.00.00");
    assert_canonical("note:DE.ad.BE.ef.", "note:de.ad.be.ef.00.00");
}

static void
test_group_action_takes_an_openflow_group_id(void **state)
{
    (void)state;
    assert_canonical("group:1", "group:1");
    assert_canonical("GROUP:4294967040,output:2", "group:4294967040,output:2");
    assert_parse_error("group:4294967041",
                       "flow: bad group id \"4294967041\" in "
                       "\"group:4294967041\" (expected an integer from 0 "
                       "to 4294967040)");
}

static void
test_instructions_print_after_actions(void **state)
{
    (void)state;
    assert_canonical("goto_table:3", "goto_table:3");
    assert_canonical("write_metadata:0x5", "write_metadata:0x5");
    assert_canonical("write_metadata:5/0xff", "write_metadata:0x5/0xff");
    assert_canonical("write_metadata:0", "write_metadata:0");
    assert_canonical("write_metadata:0xff/0", "write_metadata:0xff/0");
    assert_canonical("output:1,write_metadata:1,goto_table:2",
                     "output:1,write_metadata:0x1,goto_table:2");
}

static void
test_parse_errors_quote_the_action_and_say_what_was_expected(void **state)
{
    (void)state;
    assert_parse_error("outptu:1",
                       "flow: unknown action \"outptu\" in \"outptu:1\" (did "
                       "you mean output?)");
    assert_parse_error("output:0",
                       "flow: port 0 is not a valid output port in "
                       "\"output:0\" (expected a port number 1 to 65279 or "
                       "IN_PORT, NORMAL, FLOOD, ALL, LOCAL, CONTROLLER or "
                       "TABLE)");
    assert_parse_error("load:0x1ff->NXM_NX_REG0[0..7]",
                       "flow: value \"0x1ff\" does not fit in 8 bits in "
                       "\"load:0x1ff->NXM_NX_REG0[0..7]\"");
    assert_parse_error("set_field:0x100000000->reg0",
                       "flow: value \"0x100000000\" is too large for reg0 (at "
                       "most 32 bits) in \"set_field:0x100000000->reg0\"");
    assert_parse_error("set_field:0x12->tcp_flags",
                       "flow: field tcp_flags is read-only in "
                       "\"set_field:0x12->tcp_flags\" (it can be matched but "
                       "not written)");
    assert_parse_error("move:NXM_NX_REG0[0..3]->NXM_NX_REG1[0..4]",
                       "flow: source is 4 bits wide but destination is 5 in "
                       "\"move:NXM_NX_REG0[0..3]->NXM_NX_REG1[0..4]\" (the "
                       "source and destination must have the same width)");
    assert_parse_error("goto_table:3,output:1",
                       "flow: goto_table must be the last action in "
                       "\"goto_table:3,output:1\" (instructions go last, in "
                       "the order clear_actions, write_actions, "
                       "write_metadata, goto_table, each at most once)");
    assert_parse_error("write_metadata:1,output:1",
                       "flow: write_metadata must come after every action in "
                       "\"write_metadata:1,output:1\" (instructions go last, "
                       "in the order clear_actions, write_actions, "
                       "write_metadata, goto_table, each at most once)");
    assert_parse_error("drop,output:1",
                       "flow: \"drop\" cannot be combined with other actions "
                       "in \"drop,output:1\" (drop is the empty action list)");
    assert_parse_error("mod_vlan_vid:4096",
                       "flow: bad VLAN VID \"4096\" in \"mod_vlan_vid:4096\" "
                       "(expected an integer from 0 to 4095)");
    assert_parse_error("set_field:1.2.3.4->foo",
                       "flow: unknown field \"foo\" in "
                       "\"set_field:1.2.3.4->foo\"");
    assert_parse_error("set_field:1->ip_scr",
                       "flow: unknown field \"ip_scr\" in "
                       "\"set_field:1->ip_scr\" (did you mean ip_src?)");
    assert_parse_error("resubmit(,)",
                       "flow: resubmit needs a port or a table in "
                       "\"resubmit(,)\" (expected resubmit:PORT, "
                       "resubmit(PORT,TABLE) or resubmit(,TABLE))");
    assert_parse_error("note:123",
                       "flow: bad hex byte \"3\" in \"note:123\" (expected "
                       "hex bytes such as 01.02.ab)");
    assert_parse_error("mod_nw_src:1.2.3",
                       "flow: bad IPv4 address \"1.2.3\" in "
                       "\"mod_nw_src:1.2.3\" (expected a.b.c.d)");
    assert_parse_error("controller(reason=foo)",
                       "flow: bad controller reason \"foo\" in "
                       "\"controller(reason=foo)\" (expected no_match, "
                       "action, invalid_ttl, action_set, group or "
                       "packet_out)");

    /* Everything else that is wrong is refused too, in one line. */
    static const char *const bad[] = {
        "foo",
        "output",
        "output:65280",
        "output:65535",
        "output:NONE",
        "output:1:2",
        "0",
        "LOCAL:5",
        "mod_vlan_pcp:8",
        "mod_nw_tos:3",
        "mod_nw_tos:256",
        "mod_tp_dst:65536",
        "mod_dl_dst:xx",
        "mod_dl_src:aa:bb:cc:dd:ee:ff/ff:ff:ff:ff:ff:ff",
        "push_vlan:0x1234",
        "strip_vlan:1",
        "dec_ttl(1,2)",
        "controller(max_len=70000)",
        "controller(foo=1)",
        "controller:x",
        "set_field:0x1",
        "set_field:->reg0",
        "set_field:1/0->reg0",
        "set_field:6->nw_proto",
        "set_field:3->nw_tos",
        "set_field:4/0xfc->nw_tos",
        "load:1",
        "load:1->reg0[32]",
        "load:1->reg0[5..3]",
        "load:x->reg0[]",
        "load:-1->reg0[]",
        "load:1->",
        "load:1->eth_type[]",
        "move:reg0[]",
        "move:reg0[]->",
        "move:reg0[0..11]->tcp_flags[]",
        "move:reg0[]->reg1[]x",
        "resubmit",
        "resubmit(,256)",
        "resubmit(x,1)",
        "resubmit(1,2,3)",
        "goto_table:255",
        "goto_table:x",
        "goto_table:1,goto_table:2",
        "write_metadata:1,write_metadata:2",
        "goto_table:1,write_metadata:1",
        "write_metadata:5/x",
        "note:zz",
        "output:1,drop",
        "=5",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *error = parse_error(bad[i]);

        assert_true(!strncmp(error, "flow: ", 6));
        assert_null(strchr(error, '\n'));
        free(error);
    }
}

/* ---- Context checks ----------------------------------------------------- */

static void
test_goto_table_must_go_forward(void **state)
{
    (void)state;
    assert_check_ok("", "goto_table:1", 0);
    assert_check_ok("", "goto_table:0", 255); /* Table unknown. */
    assert_check_error("", "goto_table:0", 0,
                       "flow: goto_table must go to a later table than this "
                       "flow's table 0 in \"goto_table:0\" (expected "
                       "goto_table:1 or higher)");
    assert_check_error("", "goto_table:3", 5,
                       "flow: goto_table must go to a later table than this "
                       "flow's table 5 in \"goto_table:3\" (expected "
                       "goto_table:6 or higher)");
    assert_check_error("", "goto_table:254", 254,
                       "flow: goto_table must go to a later table than this "
                       "flow's table 254 in \"goto_table:254\" (table 254 "
                       "is the last table)");
}

static void
test_rewrites_need_the_prerequisites_of_their_field(void **state)
{
    (void)state;
    assert_check_error("", "mod_tp_dst:80", 0,
                       "flow: mod_tp_dst requires a protocol (tcp, udp or "
                       "sctp) in \"mod_tp_dst:80\"");
    assert_check_ok("udp", "mod_tp_dst:80", 0);
    assert_check_ok("sctp6", "mod_tp_src:80", 0);
    assert_check_error("icmp", "mod_tp_src:1", 0,
                       "flow: mod_tp_src requires a protocol (tcp, udp or "
                       "sctp) in \"mod_tp_src:1\"");
    assert_check_error("arp", "mod_nw_dst:1.2.3.4", 0,
                       "flow: mod_nw_dst requires ip in "
                       "\"mod_nw_dst:1.2.3.4\"");
    assert_check_ok("ip", "mod_nw_src:1.2.3.4", 0);
    assert_check_error("", "mod_nw_tos:4", 0,
                       "flow: mod_nw_tos requires ip or ipv6 in "
                       "\"mod_nw_tos:4\"");
    assert_check_ok("ipv6", "mod_nw_tos:4,dec_ttl", 0);
    assert_check_error("arp", "dec_ttl", 0,
                       "flow: dec_ttl requires ip or ipv6 in \"dec_ttl\"");
    assert_check_error("", "set_field:1.2.3.4->ip_src", 0,
                       "flow: ip_src requires ip in "
                       "\"set_field:1.2.3.4->ip_src\"");
    assert_check_error("arp", "set_field:1.2.3.4->nw_src", 0,
                       "flow: ip_src requires ip in "
                       "\"set_field:1.2.3.4->ip_src\"");
    assert_check_ok("arp", "set_field:1.2.3.4->arp_spa", 0);
    assert_check_error("udp", "set_field:53->tp_dst", 0,
                       "flow: tcp_dst requires tcp or tcp6 in "
                       "\"set_field:53->tcp_dst\"");
    assert_check_ok("udp", "set_field:53->udp_dst", 0);
    assert_check_error("icmp6", "set_field:::1->nd_target", 0,
                       "flow: nd_target requires icmp6 with icmp_type=135 or "
                       "136 and icmp_code 0 in \"set_field:::1->nd_target\"");
    assert_check_ok("icmp6,icmp_type=136", "set_field:::1->nd_target", 0);
    assert_check_error("", "load:1->NXM_OF_IP_SRC[]", 0,
                       "flow: ip_src requires ip in "
                       "\"load:0x1->NXM_OF_IP_SRC[]\"");
    assert_check_error("", "move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]", 0,
                       "flow: ip_src requires ip in "
                       "\"move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]\"");
    assert_check_error("ip", "move:NXM_NX_REG0[]->NXM_NX_IPV6_SRC[0..31]", 0,
                       "flow: ipv6_src requires ipv6 in "
                       "\"move:NXM_NX_REG0[]->NXM_NX_IPV6_SRC[0..31]\"");
    assert_check_ok("tcp", "move:tcp_flags[]->reg0[0..11]", 0);
    assert_check_ok("",
                    "set_field:5->reg0,load:1->NXM_OF_ETH_SRC[0..7],"
                    "mod_dl_dst:1:2:3:4:5:6,output:1",
                    0);
}

static void
test_vlan_fields_need_a_tag_tracked_through_the_actions(void **state)
{
    (void)state;
    assert_check_error("", "set_field:5->vlan_pcp", 0,
                       "flow: vlan_pcp requires a VLAN tag (match one with "
                       "dl_vlan or vlan_tci, or push one) in "
                       "\"set_field:5->vlan_pcp\"");
    assert_check_ok("dl_vlan=5", "set_field:5->vlan_pcp", 0);
    assert_check_ok("", "push_vlan:0x8100,set_field:4101->vlan_vid", 0);
    assert_check_ok("", "mod_vlan_vid:5,set_field:5->vlan_pcp", 0);
    assert_check_ok("", "set_field:0x1005->vlan_tci,set_field:1->vlan_pcp", 0);
    assert_check_error("dl_vlan=5", "strip_vlan,set_field:5->vlan_pcp", 0,
                       "flow: vlan_pcp requires a VLAN tag (match one with "
                       "dl_vlan or vlan_tci, or push one) in "
                       "\"set_field:5->vlan_pcp\"");
    assert_check_error("dl_vlan=0xffff", "load:1->vlan_pcp[]", 0,
                       "flow: vlan_pcp requires a VLAN tag (match one "
                       "with dl_vlan or vlan_tci, or push one) in "
                       "\"load:0x1->OXM_OF_VLAN_PCP[]\"");
    /* mod_vlan_vid pushes a tag when there is none. */
    assert_check_ok("dl_vlan=0xffff", "mod_vlan_vid:5", 0);
    /* dl_vlan and dl_vlan_pcp can be matched and read, not written (Open
     * vSwitch cannot write them either). */
    assert_parse_error("set_field:7->dl_vlan",
                       "flow: field dl_vlan is read-only in "
                       "\"set_field:7->dl_vlan\" (write vlan_vid, or use "
                       "mod_vlan_vid)");
    assert_parse_error("load:1->dl_vlan_pcp[]",
                       "flow: field dl_vlan_pcp is read-only in "
                       "\"load:1->dl_vlan_pcp[]\" (write vlan_pcp, or use "
                       "mod_vlan_pcp)");
    assert_check_ok("dl_vlan=5", "move:dl_vlan[]->reg0[0..11]", 0);
}

static void
test_action_set_instructions_print_in_openflow_order(void **state)
{
    (void)state;
    assert_canonical("set_queue:5", "set_queue:5");
    assert_canonical("set_queue:0x10", "set_queue:16");
    assert_canonical("set_queue:4294967295", "set_queue:4294967295");
    assert_canonical("clear_actions", "clear_actions");
    assert_canonical("write_actions(output:2,set_queue:3,dec_ttl)",
                     "write_actions(output:2,set_queue:3,dec_ttl)");
    assert_canonical("set_queue:5,clear_actions,write_actions(set_queue:3,"
                     "output:2,set_field:1->ip_dscp),write_metadata:1,"
                     "goto_table:1",
                     "set_queue:5,clear_actions,write_actions(set_queue:3,"
                     "output:2,set_field:1->ip_dscp),write_metadata:0x1,"
                     "goto_table:1");
    assert_canonical("WRITE_ACTIONS(resubmit(,3),controller)",
                     "write_actions(resubmit(,3),CONTROLLER:65535)");
    /* An empty write is no instruction, as Open vSwitch reads it back. */
    assert_canonical("write_actions()", "drop");
    assert_canonical("write_actions(drop),output:1", "output:1");
}

static void
test_action_set_instructions_are_refused_out_of_place(void **state)
{
    static const char order_hint[] =
        " (instructions go last, in the order clear_actions, write_actions, "
        "write_metadata, goto_table, each at most once)";
    char want[256];

    (void)state;
    snprintf(want, sizeof want,
             "flow: write_actions must come after every action in "
             "\"write_actions(output:2),output:3\"%s",
             order_hint);
    assert_parse_error("write_actions(output:2),output:3", want);
    snprintf(want, sizeof want,
             "flow: write_actions must come after clear_actions in "
             "\"write_actions(output:2),clear_actions\"%s",
             order_hint);
    assert_parse_error("write_actions(output:2),clear_actions", want);
    snprintf(want, sizeof want,
             "flow: write_metadata must come after clear_actions in "
             "\"write_metadata:1,clear_actions\"%s",
             order_hint);
    assert_parse_error("write_metadata:1,clear_actions", want);
    snprintf(want, sizeof want,
             "flow: clear_actions is given twice in "
             "\"clear_actions,clear_actions\"%s",
             order_hint);
    assert_parse_error("clear_actions,clear_actions", want);
    assert_parse_error("write_actions(goto_table:2)",
                       "flow: goto_table:2 is not allowed in write_actions in "
                       "\"write_actions(goto_table:2)\" (an action set holds "
                       "no instruction and no note)");
    assert_parse_error("write_actions(write_actions(output:1))",
                       "flow: write_actions(output:1) is not allowed in "
                       "write_actions in \"write_actions(write_actions("
                       "output:1))\" (an action set holds no instruction "
                       "and no note)");
    assert_parse_error("write_actions(note:01)",
                       "flow: note:01.00.00.00.00.00 is not allowed in "
                       "write_actions in \"write_actions(note:01)\" (an "
                       "action set holds no instruction and no note)");
    assert_parse_error("write_actions(outptu:1)",
                       "flow: unknown action \"outptu\" in \"outptu:1\" "
                       "(did you mean output?)");
    assert_parse_error("set_queue:4294967296",
                       "flow: bad queue id \"4294967296\" in "
                       "\"set_queue:4294967296\" (expected an integer from "
                       "0 to 4294967295)");
    assert_parse_error("clear_actions:1",
                       "flow: clear_actions takes no argument in "
                       "\"clear_actions:1\"");
}

static void
test_written_actions_are_checked_against_the_match(void **state)
{
    (void)state;
    assert_check_ok("ip", "write_actions(set_field:1.1.1.1->ip_src)", 0);
    assert_check_error("arp", "write_actions(set_field:1.1.1.1->ip_src)", 0,
                       "flow: ip_src requires ip in "
                       "\"set_field:1.1.1.1->ip_src\"");
    /* The set runs on the packet as the applied actions leave it. */
    assert_check_ok("vlan_tci=0",
                    "push_vlan:0x8100,write_actions(set_field:5->vlan_vid)",
                    0);
}

/* Parses 'set' as the actions written into an action set and returns the
 * text of what the set runs. */
static char *
action_set_runs(const char *set)
{
    struct ofpacts written, ordered;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (ofpacts_parse(set, &written, &error)) {
        fail_msg("\"%s\": %s", set, error);
    }
    actset_order(&written, &ordered);
    ofpacts_format(&ordered, &out);
    ofpacts_destroy(&written);
    ofpacts_destroy(&ordered);
    return ds_steal_cstr(&out);
}

static void
test_action_set_takes_the_last_of_each_type_in_openflow_order(void **state)
{
    char *got;

    (void)state;
    got = action_set_runs("output:2,set_field:1->reg0,set_queue:1,dec_ttl,"
                          "push_vlan:0x8100,set_queue:2,strip_vlan,"
                          "move:reg0[]->reg1[],output:3,load:2->reg0[]");
    assert_string_equal(got, "strip_vlan,push_vlan:0x8100,dec_ttl,"
                             "set_field:0x1->reg0,move:NXM_NX_REG0[]->"
                             "NXM_NX_REG1[],load:0x2->NXM_NX_REG0[],"
                             "set_queue:2,output:3");
    free(got);
    /* Output before resubmit before controller; nothing without any. */
    got = action_set_runs("controller,resubmit(,2),output:1");
    assert_string_equal(got, "output:1");
    free(got);
    got = action_set_runs("controller,resubmit(,2)");
    assert_string_equal(got, "resubmit(,2)");
    free(got);
    got = action_set_runs("dec_ttl,set_queue:1,mod_nw_tos:8");
    assert_string_equal(got, "drop");
    free(got);
    assert_true(actset_allows(OFPACT_OUTPUT));
    assert_false(actset_allows(OFPACT_NOTE));
    assert_false(actset_allows(OFPACT_GOTO_TABLE));
}

/* ---- Storage ------------------------------------------------------------ */

static void
test_clone_is_deep_and_equal(void **state)
{
    (void)state;
    struct ofpacts a, b;
    char *error;

    assert_int_equal(
        ofpacts_parse("note:01.02,output:1,load:1->reg0[]", &a, &error), 0);
    ofpacts_clone(&b, &a);
    assert_true(ofpacts_equal(&a, &b));
    assert_ptr_not_equal(a.acts[0].note.data, b.acts[0].note.data);
    b.acts[0].note.data[0] = 9;
    assert_false(ofpacts_equal(&a, &b));
    ofpacts_destroy(&a);
    ofpacts_destroy(&b);
    assert_null(b.acts);
    assert_int_equal(b.n, 0);
}

static void
test_clone_copies_nested_lists(void **state)
{
    (void)state;
    struct ofpacts a, b;
    char *error;

    assert_int_equal(ofpacts_parse("output:1,clear_actions,write_actions("
                                   "output:2,set_queue:3),goto_table:4",
                                   &a, &error),
                     0);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.acts[2].type, OFPACT_WRITE_ACTIONS);
    ofpacts_clone(&b, &a);
    assert_true(ofpacts_equal(&a, &b));
    assert_ptr_not_equal(a.acts[2].nested, b.acts[2].nested);
    assert_ptr_not_equal(a.acts[2].nested->acts, b.acts[2].nested->acts);
    b.acts[2].nested->acts[1].queue_id = 9;
    assert_false(ofpacts_equal(&a, &b));
    ofpacts_destroy(&a); /* 'b' still owns its own copy. */
    assert_int_equal(b.acts[2].nested->acts[0].output.port, 2);
    ofpacts_destroy(&b);
}

static void
test_outputs_are_found_inside_write_actions(void **state)
{
    (void)state;
    struct ofpacts a;
    char *error;

    assert_int_equal(
        ofpacts_parse("output:1,write_actions(output:2,controller)", &a,
                      &error),
        0);
    assert_true(ofpacts_outputs_to(&a, 1));
    assert_true(ofpacts_outputs_to(&a, 2));
    assert_true(ofpacts_outputs_to(&a, OFPP_CONTROLLER));
    assert_false(ofpacts_outputs_to(&a, 3));
    ofpacts_destroy(&a);
}

static void
test_lists_differ_in_any_parameter(void **state)
{
    (void)state;
    static const char *const lists[] = {
        "output:1",
        "output:2",
        "controller:1",
        "controller:2",
        "controller(id=1)",
        "controller(reason=no_match)",
        "mod_vlan_vid:1",
        "mod_vlan_pcp:1",
        "strip_vlan",
        "push_vlan:0x8100",
        "push_vlan:0x88a8",
        "mod_dl_src:0:0:0:0:0:1",
        "mod_dl_dst:0:0:0:0:0:1",
        "mod_nw_src:1.1.1.1",
        "mod_nw_dst:1.1.1.1",
        "mod_nw_tos:4",
        "mod_tp_src:1",
        "mod_tp_dst:1",
        "dec_ttl",
        "set_field:1->reg0",
        "set_field:1/1->reg0",
        "set_field:1->reg1",
        "load:1->reg0[]",
        "load:1->reg0[0..3]",
        "load:2->reg0[]",
        "move:reg0[]->reg1[]",
        "move:reg1[]->reg0[]",
        "resubmit:1",
        "resubmit(,1)",
        "resubmit(1,1)",
        "note:01",
        "note:02",
        "write_metadata:1",
        "write_metadata:1/1",
        "goto_table:1",
        "goto_table:2",
        "output:1,output:2",
        "set_queue:1",
        "set_queue:2",
        "clear_actions",
        "write_actions(output:1)",
        "write_actions(output:2)",
        "write_actions(output:1,output:2)",
        "clear_actions,write_actions(output:1)",
    };
    struct ofpacts parsed[ARRAY_SIZE(lists)];
    char *error;

    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        assert_int_equal(ofpacts_parse(lists[i], &parsed[i], &error), 0);
    }
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(lists); j++) {
            assert_int_equal(ofpacts_equal(&parsed[i], &parsed[j]), i == j);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        ofpacts_destroy(&parsed[i]);
    }
}

/* ---- Round trips -------------------------------------------------------- */

static uint32_t
rnd(unsigned int *seed)
{
    return ((uint32_t)rand_r(seed) << 16) ^ (uint32_t)rand_r(seed);
}

static uint64_t
rnd64(unsigned int *seed)
{
    return (uint64_t)rnd(seed) << 32 | rnd(seed);
}

static const struct field *
random_field(unsigned int *seed, bool writable)
{
    for (;;) {
        const struct field *f = field_from_id(rnd(seed) % FIELD_N_IDS);

        /* tp_src and tp_dst are written as tcp_src and tcp_dst. */
        if (f->id == FIELD_TP_SRC || f->id == FIELD_TP_DST
            || (writable && !f->writable)) {
            continue;
        }
        return f;
    }
}

static void
random_value(const struct field *f, union field_value *v, unsigned int *seed)
{
    union field_value ones;

    memset(v, 0, sizeof *v);
    for (unsigned int i = 0; i < f->n_bytes; i++) {
        v->b[i] = (uint8_t)rnd(seed);
    }
    field_all_ones(f, &ones);
    field_value_and(f, v, v, &ones);
    if (f->id == FIELD_NW_TOS) {
        v->u8 &= IP_DSCP_MASK;
    }
}

static void
random_subfield(const struct field *f, struct field_subfield *sf,
                unsigned int max_bits, unsigned int *seed)
{
    unsigned int width = MIN(f->n_bits, max_bits);

    sf->field = f;
    sf->n_bits = 1 + rnd(seed) % width;
    sf->ofs = rnd(seed) % (f->n_bits - sf->n_bits + 1);
}

/* Appends a random valid action (not an instruction) to 'ofpacts'. */
static void
random_action(struct ofpacts *ofpacts, unsigned int *seed)
{
    static const uint32_t reserved[] = {OFPP_IN_PORT, OFPP_TABLE, OFPP_NORMAL,
                                        OFPP_FLOOD,   OFPP_ALL,   OFPP_LOCAL};
    struct ofpact *a;

    switch (rnd(seed) % 24) {
    case 0:
        a = ofpacts_put(ofpacts, OFPACT_OUTPUT);
        a->output.port = rnd(seed) % 2 ? 1 + rnd(seed) % (OFPP_MAX - 1)
                                       : reserved[rnd(seed) % 6];
        break;
    case 1:
        a = ofpacts_put(ofpacts, OFPACT_CONTROLLER);
        a->controller.max_len = (uint16_t)rnd(seed);
        a->controller.id = rnd(seed) % 3 ? 0 : (uint16_t)rnd(seed);
        a->controller.reason = rnd(seed) % 6;
        break;
    case 2:
        ofpacts_put(ofpacts, OFPACT_SET_VLAN_VID)->vlan_vid = rnd(seed) % 4096;
        break;
    case 3:
        ofpacts_put(ofpacts, OFPACT_SET_VLAN_PCP)->vlan_pcp = rnd(seed) % 8;
        break;
    case 4:
        ofpacts_put(ofpacts, OFPACT_STRIP_VLAN);
        break;
    case 5:
        ofpacts_put(ofpacts, OFPACT_PUSH_VLAN)->push_tpid =
            htons(rnd(seed) % 2 ? ETH_TYPE_VLAN_8021Q : ETH_TYPE_VLAN_8021AD);
        break;
    case 6:
        a = ofpacts_put(ofpacts, rnd(seed) % 2 ? OFPACT_SET_ETH_SRC
                                               : OFPACT_SET_ETH_DST);
        for (int i = 0; i < 6; i++) {
            a->mac.ea[i] = (uint8_t)rnd(seed);
        }
        break;
    case 7:
        a = ofpacts_put(ofpacts, rnd(seed) % 2 ? OFPACT_SET_IPV4_SRC
                                               : OFPACT_SET_IPV4_DST);
        a->ipv4 = rnd(seed);
        break;
    case 8:
        ofpacts_put(ofpacts, OFPACT_SET_IP_DSCP)->tos =
            (uint8_t)(rnd(seed) & IP_DSCP_MASK);
        break;
    case 9:
        a = ofpacts_put(ofpacts,
                        rnd(seed) % 2 ? OFPACT_SET_L4_SRC : OFPACT_SET_L4_DST);
        a->l4_port = (uint16_t)rnd(seed);
        break;
    case 10:
        ofpacts_put(ofpacts, OFPACT_DEC_TTL);
        break;
    case 11:
    case 12: {
        const struct field *f = random_field(seed, true);

        a = ofpacts_put(ofpacts, OFPACT_SET_FIELD);
        a->set_field.field = f;
        random_value(f, &a->set_field.value, seed);
        if (f->maskable && rnd(seed) % 2) {
            random_value(f, &a->set_field.mask, seed);
        } else {
            field_all_ones(f, &a->set_field.mask);
        }
        if (field_value_is_zero(f, &a->set_field.mask)) {
            field_all_ones(f, &a->set_field.mask);
        }
        field_value_and(f, &a->set_field.value, &a->set_field.value,
                        &a->set_field.mask);
        break;
    }
    case 13:
    case 14: {
        const struct field *f = random_field(seed, true);

        a = ofpacts_put(ofpacts, OFPACT_LOAD);
        random_subfield(f, &a->load.dst, 64, seed);
        a->load.value = rnd64(seed);
        if (a->load.dst.n_bits < 64) {
            a->load.value &= (UINT64_C(1) << a->load.dst.n_bits) - 1;
        }
        break;
    }
    case 15: {
        const struct field *dst = random_field(seed, true);
        const struct field *src = random_field(seed, false);

        a = ofpacts_put(ofpacts, OFPACT_MOVE);
        random_subfield(dst, &a->move.dst, src->n_bits, seed);
        a->move.src.field = src;
        a->move.src.n_bits = a->move.dst.n_bits;
        a->move.src.ofs = rnd(seed) % (src->n_bits - a->move.dst.n_bits + 1);
        break;
    }
    case 16:
        a = ofpacts_put(ofpacts, OFPACT_RESUBMIT);
        a->resubmit.in_port =
            rnd(seed) % 3 ? (uint16_t)rnd(seed) : OFPP_IN_PORT;
        a->resubmit.table_id =
            a->resubmit.in_port == OFPP_IN_PORT || rnd(seed) % 2
                ? rnd(seed) % 255
                : OFPACT_TABLE_NONE;
        break;
    case 17: {
        size_t n = rnd(seed) % 30;
        size_t padded = ROUND_UP(10 + n, 8) - 10;
        uint8_t data[40];

        memset(data, 0, sizeof data);
        for (size_t i = 0; i < n; i++) {
            data[i] = (uint8_t)rnd(seed);
        }
        ofpacts_put_note(ofpacts, data, padded);
        break;
    }
    case 18:
        ofpacts_put(ofpacts, OFPACT_SET_QUEUE)->queue_id = rnd(seed);
        break;
    case 20:
        ofpacts_put(ofpacts,
                    rnd(seed) % 2 ? OFPACT_PUSH_MPLS : OFPACT_POP_MPLS)
            ->mpls_ethertype = htons(rnd(seed) % 2 ? 0x8847 : 0x8848);
        break;
    case 21:
        ofpacts_put(ofpacts, OFPACT_SET_MPLS_LABEL)->mpls_label =
            rnd(seed) & 0xfffff;
        break;
    case 22:
        ofpacts_put(ofpacts, OFPACT_SET_MPLS_TC)->mpls_tc = rnd(seed) % 8;
        break;
    case 23:
        ofpacts_put(ofpacts, rnd(seed) % 3 == 0 ? OFPACT_DEC_MPLS_TTL
                             : rnd(seed) % 2    ? OFPACT_SET_MPLS_TTL
                                                : OFPACT_SET_IP_TTL)
            ->ttl = (uint8_t)rnd(seed);
        break;
    default:
        ofpacts_put(ofpacts, OFPACT_OUTPUT)->output.port = 1;
        break;
    }
}

/* Appends a write_actions of 1 to 4 random actions an action set may
 * hold. */
static void
random_write_actions(struct ofpacts *ofpacts, unsigned int *seed)
{
    struct ofpacts nested = OFPACTS_EMPTY_INITIALIZER;
    size_t n = 1 + rnd(seed) % 4;

    while (nested.n < n) {
        random_action(&nested, seed);
        if (!actset_allows(nested.acts[nested.n - 1].type)) {
            ofpacts_destroy(&nested); /* A note: start again. */
        }
    }
    ofpacts_put_write_actions(ofpacts, &nested);
}

static void
random_ofpacts(struct ofpacts *ofpacts, unsigned int *seed)
{
    size_t n = rnd(seed) % 6;

    ofpacts_init(ofpacts);
    for (size_t i = 0; i < n; i++) {
        random_action(ofpacts, seed);
    }
    if (rnd(seed) % 4 == 0) {
        ofpacts_put(ofpacts, OFPACT_CLEAR_ACTIONS);
    }
    if (rnd(seed) % 3 == 0) {
        random_write_actions(ofpacts, seed);
    }
    if (rnd(seed) % 4 == 0) {
        struct ofpact *a = ofpacts_put(ofpacts, OFPACT_WRITE_METADATA);

        a->metadata.value = rnd64(seed);
        a->metadata.mask = rnd(seed) % 2 ? UINT64_MAX : rnd64(seed);
    }
    if (rnd(seed) % 4 == 0) {
        ofpacts_put(ofpacts, OFPACT_GOTO_TABLE)->goto_table = rnd(seed) % 255;
    }
}

static void
test_random_action_lists_survive_format_and_parse(void **state)
{
    (void)state;
    unsigned int seed = 42;

    for (int round = 0; round < 3000; round++) {
        struct ofpacts a, b;
        struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
        char *error = NULL;

        random_ofpacts(&a, &seed);
        ofpacts_format(&a, &text);
        if (ofpacts_parse(ds_cstr(&text), &b, &error)) {
            fail_msg("\"%s\": %s", ds_cstr(&text), error);
        }
        if (!ofpacts_equal(&a, &b)) {
            fail_msg("\"%s\" parsed back differently", ds_cstr(&text));
        }
        ofpacts_destroy(&b);
        ofpacts_clone(&b, &a);
        assert_true(ofpacts_equal(&a, &b));
        ofpacts_format(&b, &text2);
        assert_string_equal(ds_cstr(&text), ds_cstr(&text2));
        ofpacts_destroy(&a);
        ofpacts_destroy(&b);
        ds_destroy(&text);
        ds_destroy(&text2);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpls_actions_print_as_ovs_prints_them),
        cmocka_unit_test(test_mpls_action_arguments_are_checked),
        cmocka_unit_test(
            test_mpls_actions_need_mpls_tracked_through_push_and_pop),
        cmocka_unit_test(test_mod_nw_ttl_travels_as_a_load_over_openflow10),
        cmocka_unit_test(test_output_actions_print_as_ovs_prints_them),
        cmocka_unit_test(test_empty_list_and_drop_print_as_drop),
        cmocka_unit_test(
            test_controller_actions_use_the_short_form_when_they_can),
        cmocka_unit_test(test_header_rewrites_print_canonically),
        cmocka_unit_test(test_set_field_prints_values_in_the_field_format),
        cmocka_unit_test(test_load_and_move_print_nxm_subfields),
        cmocka_unit_test(
            test_loads_wider_than_64_bits_split_like_ovs_prints_them),
        cmocka_unit_test(test_load_is_a_masked_write_of_the_whole_field),
        cmocka_unit_test(test_resubmit_prints_the_shortest_form),
        cmocka_unit_test(test_notes_are_padded_like_the_openflow_encoding),
        cmocka_unit_test(test_group_action_takes_an_openflow_group_id),
        cmocka_unit_test(test_instructions_print_after_actions),
        cmocka_unit_test(
            test_parse_errors_quote_the_action_and_say_what_was_expected),
        cmocka_unit_test(test_goto_table_must_go_forward),
        cmocka_unit_test(test_rewrites_need_the_prerequisites_of_their_field),
        cmocka_unit_test(
            test_vlan_fields_need_a_tag_tracked_through_the_actions),
        cmocka_unit_test(test_action_set_instructions_print_in_openflow_order),
        cmocka_unit_test(
            test_action_set_instructions_are_refused_out_of_place),
        cmocka_unit_test(test_written_actions_are_checked_against_the_match),
        cmocka_unit_test(
            test_action_set_takes_the_last_of_each_type_in_openflow_order),
        cmocka_unit_test(test_clone_is_deep_and_equal),
        cmocka_unit_test(test_clone_copies_nested_lists),
        cmocka_unit_test(test_outputs_are_found_inside_write_actions),
        cmocka_unit_test(test_meter_instruction_comes_first_once),
        cmocka_unit_test(test_meter_actions_compare_by_meter_id_only),
        cmocka_unit_test(test_lists_differ_in_any_parameter),
        cmocka_unit_test(test_random_action_lists_survive_format_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
