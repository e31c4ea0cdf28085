/* Unit tests for src/flow/field.c: the field table, bit-exact access to
 * flows and matches, prerequisites, value text and sub-fields. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/field.h"
#include "flow/flow-text.h"
#include "lib/dynamic-string.h"

static void
random_bytes(void *p_, size_t n, unsigned int *seed)
{
    uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)rand_r(seed);
    }
}

static void
random_flow(struct flow *flow, unsigned int *seed)
{
    struct flow_wildcards exact;

    random_bytes(flow, sizeof *flow, seed);
    flow_wildcards_init_exact(&exact);
    flow_apply_mask(flow, flow, &exact);
}

/* A random valid value of 'f'. */
static void
random_value(const struct field *f, union field_value *v, unsigned int *seed)
{
    union field_value ones;

    memset(v, 0, sizeof *v);
    random_bytes(v->b, f->n_bytes, seed);
    field_all_ones(f, &ones);
    field_value_and(f, v, v, &ones);
    if (f->id == FIELD_NW_TOS) {
        v->u8 &= IP_DSCP_MASK;
    }
}

/* Parses 's' as a value of the field called 'name' and formats it back. */
static char *
reformat(const char *name, const char *s)
{
    const struct field *f = field_from_name(name);
    union field_value value, mask;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    assert_non_null(f);
    if (field_parse_value(f, s, s, &value, &mask, &error)) {
        return error;
    }
    field_format_value(f, &value, &mask, &out);
    return ds_steal_cstr(&out);
}

static void
assert_reformats(const char *name, const char *in, const char *out)
{
    char *s = reformat(name, in);

    assert_string_equal(s, out);
    free(s);
}

static char *
parse_error(const char *name, const char *s)
{
    const struct field *f = field_from_name(name);
    union field_value value, mask;
    char *error = NULL;

    assert_non_null(f);
    assert_int_equal(field_parse_value(f, s, s, &value, &mask, &error),
                     EINVAL);
    assert_non_null(error);
    return error;
}

static void
assert_parse_error(const char *name, const char *s, const char *want)
{
    char *error = parse_error(name, s);

    assert_string_equal(error, want);
    free(error);
}

/* ---- The table ---------------------------------------------------------- */

static void
test_every_field_is_in_its_own_slot_and_fits_the_flow(void **state)
{
    (void)state;
    for (int i = 0; i < FIELD_N_IDS; i++) {
        const struct field *f = field_from_id(i);

        assert_non_null(f);
        assert_int_equal(f->id, i);
        assert_true(f->n_bytes >= 1 && f->n_bytes <= FIELD_MAX_BYTES);
        assert_true(f->n_bits >= 1 && f->n_bits <= 8 * f->n_bytes);
        assert_true(f->flow_ofs + f->flow_size <= sizeof(struct flow));
        assert_true(f->flow_size >= 1);
    }
    assert_null(field_from_id(FIELD_N_IDS));
}

static void
test_every_name_alias_and_nxm_name_finds_its_field(void **state)
{
    (void)state;
    for (int i = 0; i < FIELD_N_IDS; i++) {
        const struct field *f = field_from_id(i);

        assert_ptr_equal(field_from_name(f->name), f);
        assert_ptr_equal(field_from_any_name(f->name), f);
        for (size_t j = 0; f->aliases[j]; j++) {
            assert_ptr_equal(field_from_name(f->aliases[j]), f);
        }
        if (f->nxm_name) {
            assert_ptr_equal(field_from_any_name(f->nxm_name), f);
            /* NXM names are not match keywords, as in ovs-ofctl. */
            assert_null(field_from_name(f->nxm_name));
        }
        if (f->oxm_name) {
            assert_ptr_equal(field_from_any_name(f->oxm_name), f);
        }
    }
}

static void
test_common_names_map_to_the_expected_fields(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum field_id id;
    } cases[] = {
        {"dl_src", FIELD_ETH_SRC},
        {"eth_dst", FIELD_ETH_DST},
        {"dl_type", FIELD_ETH_TYPE},
        {"nw_src", FIELD_IP_SRC},
        {"ip_dst", FIELD_IP_DST},
        {"tp_dst", FIELD_TP_DST},
        {"tcp_dst", FIELD_TCP_DST},
        {"udp_src", FIELD_UDP_SRC},
        {"sctp_dst", FIELD_SCTP_DST},
        {"nw_frag", FIELD_IP_FRAG},
        {"ip_ecn", FIELD_NW_ECN},
        {"nd_sll", FIELD_ND_SLL},
        {"reg7", FIELD_REG7},
        {"metadata", FIELD_METADATA},
        {"icmpv6_code", FIELD_ICMPV6_CODE},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(field_from_name(cases[i].name)->id, cases[i].id);
    }
    assert_int_equal(field_from_any_name("NXM_NX_REG3")->id, FIELD_REG3);
    assert_int_equal(field_from_any_name("NXM_OF_VLAN_TCI")->id,
                     FIELD_VLAN_TCI);
    assert_int_equal(field_from_any_name("OXM_OF_METADATA")->id,
                     FIELD_METADATA);
    assert_int_equal(field_from_any_name("NXM_OF_TCP_DST")->id, FIELD_TCP_DST);
    assert_int_equal(field_from_any_name_len("NXM_OF_IP_SRC[]", 13)->id,
                     FIELD_IP_SRC);
}

static void
test_lookup_is_case_sensitive_and_refuses_unknown_names(void **state)
{
    (void)state;
    assert_null(field_from_name("DL_SRC"));
    assert_null(field_from_name("nw_dts"));
    assert_null(field_from_name("reg8"));
    assert_null(field_from_name(""));
    assert_null(field_from_any_name("nxm_nx_reg0"));
}

static void
test_suggestions_catch_typos_but_not_nonsense(void **state)
{
    (void)state;
    assert_string_equal(field_suggest("nw_dts"), "nw_dst");
    assert_string_equal(field_suggest("dl_scr"), "dl_src");
    assert_string_equal(field_suggest("ipv6_dts"), "ipv6_dst");
    assert_string_equal(field_suggest("NXM_NX_REG"), "NXM_NX_REG0");
    assert_null(field_suggest("completely_unrelated"));
    assert_null(field_suggest("x"));

    static const char *const words[] = {"tcp", "udp", NULL};

    assert_string_equal(field_suggest_word("TCP", words), "tcp");
    assert_string_equal(field_suggest_word("tpc", words), "tcp");
    assert_null(field_suggest_word("tcp", words)); /* Not a typo. */
}

static void
test_edit_distance_counts_swaps_as_one(void **state)
{
    (void)state;
    assert_int_equal(field_edit_distance("abc", "abc"), 0);
    assert_int_equal(field_edit_distance("nw_dts", "nw_dst"), 1);
    assert_int_equal(field_edit_distance("", "abc"), 3);
    assert_int_equal(field_edit_distance("kitten", "sitting"), 3);
}

/* ---- Flow and match access ---------------------------------------------- */

static void
test_setting_a_field_changes_only_its_bits(void **state)
{
    (void)state;
    unsigned int seed = 1;

    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < FIELD_N_IDS; i++) {
            const struct field *f = field_from_id(i);
            union field_value v, got;
            struct flow flow, before;

            random_flow(&flow, &seed);
            before = flow;
            random_value(f, &v, &seed);
            field_set_flow(f, &v, &flow);
            field_get_flow(f, &flow, &got);
            assert_true(field_value_equal(f, &v, &got));

            /* Only bytes of the backing member may change. */
            const uint8_t *a = (const uint8_t *)&before;
            const uint8_t *b = (const uint8_t *)&flow;

            for (size_t k = 0; k < sizeof flow; k++) {
                if (k < f->flow_ofs || k >= f->flow_ofs + f->flow_size) {
                    assert_int_equal(a[k], b[k]);
                }
            }
            assert_true(flow_zero_padding(&flow));
        }
    }
}

static void
test_views_share_the_bits_of_their_member(void **state)
{
    (void)state;
    struct flow flow;
    union field_value v;

    memset(&flow, 0, sizeof flow);
    flow.vlans[0].tci = htons(0x7005); /* PCP 3, present, VID 5. */
    field_get_flow(field_from_id(FIELD_DL_VLAN), &flow, &v);
    assert_int_equal(ntohs(v.be16), 5);
    field_get_flow(field_from_id(FIELD_VLAN_VID), &flow, &v);
    assert_int_equal(ntohs(v.be16), 0x1005);
    field_get_flow(field_from_id(FIELD_DL_VLAN_PCP), &flow, &v);
    assert_int_equal(v.u8, 3);

    flow.nw_tos = 0xb9; /* DSCP 46, ECN 1. */
    field_get_flow(field_from_id(FIELD_NW_TOS), &flow, &v);
    assert_int_equal(v.u8, 0xb8);
    field_get_flow(field_from_id(FIELD_IP_DSCP), &flow, &v);
    assert_int_equal(v.u8, 46);
    field_get_flow(field_from_id(FIELD_NW_ECN), &flow, &v);
    assert_int_equal(v.u8, 1);

    v.u8 = 10;
    field_set_flow(field_from_id(FIELD_IP_DSCP), &v, &flow);
    assert_int_equal(flow.nw_tos, (10 << 2) | 1);

    v.u8 = 135;
    field_set_flow(field_from_id(FIELD_ICMPV6_TYPE), &v, &flow);
    assert_int_equal(flow.tp_src, htons(135));

    flow.in_port = OFPP_LOCAL;
    flow.regs[3] = 0x01020304;
    flow.metadata = 0x1122334455667788ULL;
    field_get_flow(field_from_id(FIELD_IN_PORT), &flow, &v);
    assert_int_equal(v.be16, htons(OFPP_LOCAL));
    field_get_flow(field_from_id(FIELD_REG3), &flow, &v);
    assert_int_equal(v.b[0], 1);
    assert_int_equal(v.b[3], 4);
    field_get_flow(field_from_id(FIELD_METADATA), &flow, &v);
    assert_int_equal(v.b[0], 0x11);
    assert_int_equal(v.b[7], 0x88);
}

static void
test_setting_a_match_premasks_the_value(void **state)
{
    (void)state;
    unsigned int seed = 7;

    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < FIELD_N_IDS; i++) {
            const struct field *f = field_from_id(i);
            union field_value v, m, gv, gm, want;
            struct match match, normalized;

            match_init_catchall(&match);
            random_value(f, &v, &seed);
            random_value(f, &m, &seed);
            field_set_match(f, &v, &m, &match);
            normalized = match;
            match_normalize(&normalized);
            assert_true(match_equal(&match, &normalized));

            field_get_match(f, &match, &gv, &gm);
            field_value_and(f, &want, &v, &m);
            if (f->id != FIELD_NW_TOS) {
                assert_true(field_value_equal(f, &gm, &m));
            }
            field_value_and(f, &want, &want, &gm);
            assert_true(field_value_equal(f, &gv, &want));
            assert_true(flow_zero_padding(&match.wc.masks));
        }
    }
}

static void
test_exact_icmp_and_in_port_matches_cover_the_whole_member(void **state)
{
    (void)state;
    struct match m;
    union field_value v, ones;

    match_init_catchall(&m);
    v.u8 = 8;
    field_all_ones(field_from_id(FIELD_ICMP_TYPE), &ones);
    field_set_match(field_from_id(FIELD_ICMP_TYPE), &v, &ones, &m);
    assert_int_equal(m.wc.masks.tp_src, htons(0xffff));
    assert_int_equal(m.flow.tp_src, htons(8));

    v.be16 = htons(3);
    field_all_ones(field_from_id(FIELD_IN_PORT), &ones);
    field_set_match(field_from_id(FIELD_IN_PORT), &v, &ones, &m);
    assert_int_equal(m.wc.masks.in_port, UINT32_MAX);
    assert_int_equal(m.flow.in_port, 3);
    assert_true(field_is_matched(field_from_id(FIELD_IN_PORT), &m));
    assert_false(field_is_matched(field_from_id(FIELD_REG0), &m));
}

/* ---- Prerequisites ------------------------------------------------------ */

static struct match
parsed(const char *s)
{
    struct match m;
    char *error = NULL;

    if (match_from_string(s, &m, &error)) {
        fail_msg("%s", error);
    }
    return m;
}

static void
test_prerequisites_follow_dl_type_and_nw_proto(void **state)
{
    (void)state;
    struct match any, ip, ip6, arp, rarp, tcp, tcp6, udp, sctp, icmp, icmp6;
    struct match ns, na, ns_code1, vlan, novlan;

    match_init_catchall(&any);
    ip = parsed("ip");
    ip6 = parsed("ipv6");
    arp = parsed("arp");
    rarp = parsed("rarp");
    tcp = parsed("tcp");
    tcp6 = parsed("tcp6");
    udp = parsed("udp");
    sctp = parsed("sctp6");
    icmp = parsed("icmp");
    icmp6 = parsed("icmp6");
    ns = parsed("icmp6,icmp_type=135");
    na = parsed("icmp6,icmp_type=136,icmp_code=0");
    ns_code1 = parsed("icmp6,icmp_type=135,icmp_code=1");
    vlan = parsed("dl_vlan=5");
    novlan = parsed("dl_vlan=0xffff");

    assert_true(field_prereq_satisfied(FIELD_PREREQ_NONE, &any));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_IPV4, &any));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_IPV4, &tcp));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_IPV4, &ip6));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_IPV6, &tcp6));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_IP_ANY, &ip6));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_IP_ANY, &arp));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ARP, &rarp));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_IPV4_ARP, &arp));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_IPV4_ARP, &ip6));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_IP_ANY_ARP, &ip6));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_TCP, &tcp6));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_TCP, &udp));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_TCP, &ip));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_UDP, &udp));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_SCTP, &sctp));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_L4, &sctp));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_L4, &icmp));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ICMPV4, &icmp));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_ICMPV4, &icmp6));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ICMP_ANY, &icmp6));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_ND, &icmp6));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ND, &ns));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ND, &na));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_ND, &ns_code1));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ND_SOLICIT, &ns));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_ND_SOLICIT, &na));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_ND_ADVERT, &na));
    assert_true(field_prereq_satisfied(FIELD_PREREQ_VLAN, &vlan));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_VLAN, &novlan));
    assert_false(field_prereq_satisfied(FIELD_PREREQ_VLAN, &any));

    /* Matching is as liberal as ovs-ofctl where it has to be. */
    assert_true(field_prereqs_ok(field_from_id(FIELD_IP_SRC), &arp));
    assert_false(
        field_prereq_satisfied(field_from_id(FIELD_IP_SRC)->prereq, &arp));
    assert_true(field_prereqs_ok(field_from_id(FIELD_ICMP_TYPE), &icmp6));
    assert_true(field_prereqs_ok(field_from_id(FIELD_DL_VLAN), &novlan));
    assert_string_equal(field_prereq_describe(FIELD_PREREQ_L4),
                        "a protocol (tcp, udp or sctp)");
}

/* ---- Values ------------------------------------------------------------- */

static void
test_integer_values_parse_like_strtoull_and_format_like_ovs(void **state)
{
    (void)state;
    assert_reformats("tcp_dst", "80", "80");
    assert_reformats("tcp_dst", "0x50", "80");
    assert_reformats("tcp_dst", "010", "8");
    assert_reformats("tcp_dst", "0X50/0xff", "80/0xff");
    assert_reformats("tcp_dst", "0x1234/0xff", "52/0xff");
    assert_reformats("tcp_dst", "80/0xffff", "80");
    assert_reformats("reg0", "5", "0x5");
    assert_reformats("reg0", "0", "0");
    assert_reformats("reg0", "5/0xff", "0x5/0xff");
    assert_reformats("metadata", "0xffffffffffffffff", "0xffffffffffffffff");
    assert_reformats("vlan_tci", "0x1005/0x1fff", "0x1005/0x1fff");
    assert_reformats("ipv6_label", "0x12345", "0x12345");
    assert_reformats("ipv6_label", "5/0xf", "0x5/0xf");
    assert_reformats("nw_tos", "252", "252");
    assert_reformats("ip_dscp", "63", "63");
    assert_reformats("vlan_vid", "4101", "4101");

    uint64_t x;

    assert_true(field_parse_uint("18446744073709551615", UINT64_MAX, &x));
    assert_true(x == UINT64_MAX);
    assert_false(field_parse_uint("18446744073709551616", UINT64_MAX, &x));
    assert_false(field_parse_uint("0x", UINT64_MAX, &x));
    assert_false(field_parse_uint("08", UINT64_MAX, &x));
    assert_false(field_parse_uint("", UINT64_MAX, &x));
    assert_false(field_parse_uint("256", 255, &x));

    union field_value v;

    assert_int_equal(field_parse_wide_uint(
                         "0x20010db8000000000000000000000001", 16, 128, &v),
                     0);
    assert_int_equal(v.b[0], 0x20);
    assert_int_equal(v.b[15], 0x01);
    assert_int_equal(field_parse_wide_uint("0x1ff", 2, 8, &v), ERANGE);
    assert_int_equal(field_parse_wide_uint("256", 2, 8, &v), ERANGE);
    assert_int_equal(field_parse_wide_uint("0x000000000000000000ff", 2, 8, &v),
                     0);
    assert_int_equal(field_parse_wide_uint("1.2", 2, 8, &v), EINVAL);
}

static void
test_addresses_parse_with_prefixes_and_masks(void **state)
{
    (void)state;
    assert_reformats("ip_src", "10.1.2.3/8", "10.0.0.0/8");
    assert_reformats("ip_src", "10.0.0.0/255.255.0.0", "10.0.0.0/16");
    assert_reformats("ip_src", "10.0.0.0/255.0.255.0", "10.0.0.0/255.0.255.0");
    assert_reformats("ip_src", "10.0.0.1/32", "10.0.0.1");
    assert_reformats("ip_src", "010.1.1.1", "10.1.1.1");
    assert_reformats("ipv6_src", "2001:db8::1/64", "2001:db8::/64");
    assert_reformats("ipv6_src",
                     "2001:DB8::/ffff:0:ffff::", "2001::/ffff:0:ffff::");
    assert_reformats("ipv6_dst", "::ffff:1.2.3.4", "::ffff:1.2.3.4");
    assert_reformats("ipv6_dst", "::/0", "::/0");
    assert_reformats("eth_src", "A:B:C:D:E:F", "0a:0b:0c:0d:0e:0f");
    assert_reformats("eth_src", "aa:bb:cc:dd:ee:ff/ff:ff:ff:00:00:00",
                     "aa:bb:cc:00:00:00/ff:ff:ff:00:00:00");
    assert_reformats("in_port", "local", "LOCAL");
    assert_reformats("in_port", "4294967294", "LOCAL");
    assert_reformats("in_port", "65535", "ANY");
    assert_reformats("in_port", "7", "7");
    assert_reformats("ip_frag", "not_later", "not_later");
    assert_reformats("ip_frag", "first", "first");
    assert_reformats("tcp_flags", "+syn-ack", "+syn-ack");
    assert_reformats("tcp_flags", "syn|ack", "syn|ack");
    assert_reformats("tcp_flags", "0x12/0x12", "+syn+ack");
    assert_reformats("tcp_flags", "0", "0");
    assert_reformats("tcp_flags", "+[800]", "+[800]");
}

static void
test_bad_values_are_refused_with_one_clear_line(void **state)
{
    (void)state;
    assert_parse_error("ip_src", "1.2.3",
                       "flow: bad IPv4 address \"1.2.3\" in \"1.2.3\" "
                       "(expected an IPv4 address a.b.c.d, optionally "
                       "/PREFIX or /MASK)");
    assert_parse_error("ip_src", "1.2.3.4/33",
                       "flow: bad prefix length \"33\" in \"1.2.3.4/33\" "
                       "(expected a prefix length from 0 to 32 or a mask)");
    assert_parse_error("dl_vlan", "4096",
                       "flow: value \"4096\" is too large for dl_vlan (at "
                       "most 12 bits) in \"4096\"");
    assert_parse_error("nw_tos", "3",
                       "flow: bad nw_tos \"3\" in \"3\" (expected a multiple "
                       "of 4 from 0 to 252: the DSCP bits of the TOS byte)");
    assert_parse_error("eth_type", "0x800/0xff00",
                       "flow: eth_type cannot be masked in \"0x800/0xff00\" "
                       "(expected an exact value)");
    assert_parse_error("tcp_flags", "+syn+syn",
                       "flow: TCP flag \"syn\" is given twice in "
                       "\"+syn+syn\"");
    assert_parse_error("in_port", "1/1",
                       "flow: in_port cannot be masked in \"1/1\" (expected "
                       "a port number or LOCAL, IN_PORT, NORMAL, FLOOD, ALL, "
                       "CONTROLLER, TABLE, ANY)");
    assert_parse_error("reg0", "",
                       "flow: missing value for reg0 in \"\" (expected an "
                       "integer, optionally /MASK)");

    static const struct {
        const char *field, *value;
    } bad[] = {
        {"eth_src", "aa:bb:cc:dd:ee"},
        {"eth_src", "aa:bb:cc:dd:ee:ff:00"},
        {"eth_src", "aaa:bb:cc:dd:ee:ff"},
        {"ip_src", "1.2.3.256"},
        {"ip_src", "1.2.3.4/0x8"},
        {"ipv6_src", "1.2.3.4"},
        {"ipv6_src", "::1/129"},
        {"tcp_dst", "65536"},
        {"tcp_dst", "-1"},
        {"tcp_dst", "1e3"},
        {"tcp_dst", "80/"},
        {"ip_dscp", "64"},
        {"nw_ecn", "4"},
        {"ipv6_label", "0x100000"},
        {"ip_frag", "maybe"},
        {"tcp_flags", "0x1000"},
        {"tcp_flags", "+SYN"},
        {"tcp_flags", "syn|"},
        {"tcp_flags", "syn+ack"},
        {"in_port", "70000"},
        {"in_port", "foo"},
        {"icmp_type", "3/0xf"},
        {"metadata", "0x10000000000000000"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *error = parse_error(bad[i].field, bad[i].value);

        assert_true(!strncmp(error, "flow: ", 6));
        assert_null(strchr(error, '\n'));
        free(error);
    }
}

static void
test_every_field_value_round_trips_through_text(void **state)
{
    (void)state;
    unsigned int seed = 11;

    for (int round = 0; round < 300; round++) {
        for (int i = 0; i < FIELD_N_IDS; i++) {
            const struct field *f = field_from_id(i);
            union field_value v, m, v2, m2;
            struct ds s = DS_EMPTY_INITIALIZER;
            char *error = NULL;

            if (f->format == FIELD_FORMAT_FRAG) {
                continue; /* Only the named combinations exist. */
            }
            random_value(f, &v, &seed);
            if (f->maskable && round % 2) {
                random_value(f, &m, &seed);
                if (field_value_is_zero(f, &m)) {
                    field_all_ones(f, &m);
                }
            } else {
                field_all_ones(f, &m);
            }
            field_value_and(f, &v, &v, &m);
            field_format_value(f, &v, &m, &s);
            if (field_parse_value(f, ds_cstr(&s), "x", &v2, &m2, &error)) {
                fail_msg("%s: %s", f->name, error);
            }
            assert_true(field_value_equal(f, &v, &v2));
            assert_true(field_value_equal(f, &m, &m2));
            ds_destroy(&s);
        }
    }
}

static void
test_ports_parse_names_in_any_case_and_numbers(void **state)
{
    (void)state;
    uint32_t port;
    struct ds s = DS_EMPTY_INITIALIZER;

    assert_true(field_parse_port("LOCAL", &port));
    assert_int_equal(port, OFPP_LOCAL);
    assert_true(field_parse_port("in_port", &port));
    assert_int_equal(port, OFPP_IN_PORT);
    assert_true(field_parse_port("NONE", &port));
    assert_int_equal(port, OFPP_NONE);
    assert_true(field_parse_port("4294967293", &port));
    assert_int_equal(port, OFPP_CONTROLLER);
    assert_true(field_parse_port("010", &port));
    assert_int_equal(port, 10);
    assert_false(field_parse_port("0x10", &port));
    assert_false(field_parse_port("65536", &port));
    assert_true(field_parse_port("4294967040", &port));
    assert_int_equal(port, OFPP_MAX); /* OF1.1's 0xffffff00 is OF1.0's. */
    assert_false(field_parse_port("4294967039", &port));
    assert_false(field_parse_port("", &port));
    field_format_port(OFPP_FLOOD, &s);
    ds_put_char(&s, ' ');
    field_format_port(65279, &s);
    assert_string_equal(ds_cstr(&s), "FLOOD 65279");
    ds_destroy(&s);
}

/* ---- Sub-fields --------------------------------------------------------- */

static void
assert_subfield(const char *s, enum field_id id, unsigned int ofs,
                unsigned int n_bits, const char *canonical)
{
    struct field_subfield sf;
    const char *end;
    char *error = NULL;
    struct ds out = DS_EMPTY_INITIALIZER;

    if (field_parse_subfield(s, s, &sf, &end, &error)) {
        fail_msg("%s", error);
    }
    assert_int_equal(*end, '\0');
    assert_int_equal(sf.field->id, id);
    assert_int_equal(sf.ofs, ofs);
    assert_int_equal(sf.n_bits, n_bits);
    field_format_subfield(&sf, &out);
    assert_string_equal(ds_cstr(&out), canonical);
    ds_destroy(&out);
}

static void
assert_subfield_error(const char *s, const char *want)
{
    struct field_subfield sf;
    const char *end;
    char *error = NULL;

    assert_int_equal(field_parse_subfield(s, s, &sf, &end, &error), EINVAL);
    assert_string_equal(error, want);
    free(error);
}

static void
test_subfields_parse_every_form_and_print_nxm_names(void **state)
{
    (void)state;
    assert_subfield("NXM_NX_REG0[]", FIELD_REG0, 0, 32, "NXM_NX_REG0[]");
    assert_subfield("reg0[0..3]", FIELD_REG0, 0, 4, "NXM_NX_REG0[0..3]");
    assert_subfield("reg1[5]", FIELD_REG1, 5, 1, "NXM_NX_REG1[5]");
    assert_subfield("reg1[5..5]", FIELD_REG1, 5, 1, "NXM_NX_REG1[5]");
    assert_subfield("NXM_NX_REG2", FIELD_REG2, 0, 32, "NXM_NX_REG2[]");
    assert_subfield("metadata[0..63]", FIELD_METADATA, 0, 64,
                    "OXM_OF_METADATA[]");
    assert_subfield("eth_src[8..15]", FIELD_ETH_SRC, 8, 8,
                    "NXM_OF_ETH_SRC[8..15]");
    assert_subfield("NXM_NX_IPV6_SRC[64..127]", FIELD_IPV6_SRC, 64, 64,
                    "NXM_NX_IPV6_SRC[64..127]");
    assert_subfield("dl_vlan[]", FIELD_DL_VLAN, 0, 12, "dl_vlan[]");
    assert_subfield("in_port[]", FIELD_IN_PORT, 0, 16, "NXM_OF_IN_PORT[]");

    struct field_subfield sf;
    const char *end;
    char *error = NULL;

    assert_int_equal(
        field_parse_subfield("reg0[1..2]->x", "c", &sf, &end, &error), 0);
    assert_string_equal(end, "->x");
}

static void
test_subfield_errors_say_what_is_wrong(void **state)
{
    (void)state;
    assert_subfield_error("NXM_NX_REG0[32]",
                          "flow: bit 32 is out of range in "
                          "\"NXM_NX_REG0[32]\" (reg0 has bits 0..31)");
    assert_subfield_error("reg0[5..3]",
                          "flow: start bit 5 is after end bit 3 in "
                          "\"reg0[5..3]\" (expected NAME[], NAME[BIT] or "
                          "NAME[START..END])");
    assert_subfield_error("reg0[",
                          "flow: missing \"]\" after \"reg0[\" in \"reg0[\" "
                          "(expected NAME[], NAME[BIT] or NAME[START..END])");
    assert_subfield_error("FOO[]", "flow: unknown field \"FOO\" in \"FOO[]\"");
    assert_subfield_error("NXM_NX_REGO[]",
                          "flow: unknown field \"NXM_NX_REGO\" in "
                          "\"NXM_NX_REGO[]\" (did you mean NXM_NX_REG0?)");
    assert_subfield_error("reg0[a..b]",
                          "flow: bad bit range \"[a..b]\" in \"reg0[a..b]\" "
                          "(expected NAME[], NAME[BIT] or NAME[START..END])");
    assert_subfield_error("[1]",
                          "flow: missing field name before \"[1]\" in \"[1]\" "
                          "(expected NAME[], NAME[BIT] or NAME[START..END])");
}

static void
test_bit_helpers_count_from_the_least_significant_bit(void **state)
{
    (void)state;
    uint8_t v[4] = {0, 0, 0, 0};
    uint8_t w[2] = {0, 0};

    field_bit_set(v, 4, 0, true);
    field_bit_set(v, 4, 31, true);
    assert_int_equal(v[3], 1);
    assert_int_equal(v[0], 0x80);
    assert_true(field_bit_get(v, 4, 31));
    assert_false(field_bit_get(v, 4, 30));
    field_bits_copy(v, 4, 28, w, 2, 4, 4); /* Bits 28..31 = 1000b. */
    assert_int_equal(w[1], 0x80);
    assert_int_equal(w[0], 0);
}

/* ---- MPLS and tun_id ---------------------------------------------------- */

static void
test_mpls_fields_are_bits_of_the_lse(void **state)
{
    (void)state;
    struct flow flow;
    union field_value v;

    memset(&flow, 0, sizeof flow);
    flow.mpls_lse = htonl((0xabcdeu << MPLS_LABEL_SHIFT) | (5 << MPLS_TC_SHIFT)
                          | MPLS_BOS_MASK | 64);
    field_get_flow(field_from_id(FIELD_MPLS_LABEL), &flow, &v);
    assert_int_equal(ntohl(v.be32), 0xabcde);
    field_get_flow(field_from_id(FIELD_MPLS_TC), &flow, &v);
    assert_int_equal(v.u8, 5);
    field_get_flow(field_from_id(FIELD_MPLS_BOS), &flow, &v);
    assert_int_equal(v.u8, 1);
    field_get_flow(field_from_id(FIELD_MPLS_TTL), &flow, &v);
    assert_int_equal(v.u8, 64);

    memset(&v, 0, sizeof v);
    v.be32 = htonl(7);
    field_set_flow(field_from_id(FIELD_MPLS_LABEL), &v, &flow);
    memset(&v, 0, sizeof v);
    v.u8 = 2;
    field_set_flow(field_from_id(FIELD_MPLS_TC), &v, &flow);
    v.u8 = 9;
    field_set_flow(field_from_id(FIELD_MPLS_TTL), &v, &flow);
    assert_int_equal(ntohl(flow.mpls_lse), (7 << MPLS_LABEL_SHIFT)
                                               | (2 << MPLS_TC_SHIFT)
                                               | MPLS_BOS_MASK | 9);
}

static void
test_mpls_and_tunnel_fields_have_ovs_names_and_rights(void **state)
{
    (void)state;
    assert_ptr_equal(field_from_name("tunnel_id"),
                     field_from_id(FIELD_TUN_ID));
    assert_ptr_equal(field_from_any_name("NXM_NX_TUN_ID"),
                     field_from_id(FIELD_TUN_ID));
    assert_ptr_equal(field_from_any_name("OXM_OF_TUNNEL_ID"),
                     field_from_id(FIELD_TUN_ID));
    assert_ptr_equal(field_from_any_name("NXM_NX_MPLS_TTL"),
                     field_from_id(FIELD_MPLS_TTL));
    assert_true(field_from_id(FIELD_TUN_ID)->maskable);
    assert_false(field_from_id(FIELD_MPLS_LABEL)->maskable);
    assert_true(field_from_id(FIELD_MPLS_LABEL)->writable);
    /* mpls_bos is read-only, as in Open vSwitch. */
    assert_false(field_from_id(FIELD_MPLS_BOS)->writable);
    assert_int_equal(field_from_id(FIELD_MPLS_LABEL)->match_prereq,
                     FIELD_PREREQ_MPLS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpls_fields_are_bits_of_the_lse),
        cmocka_unit_test(
            test_mpls_and_tunnel_fields_have_ovs_names_and_rights),
        cmocka_unit_test(
            test_every_field_is_in_its_own_slot_and_fits_the_flow),
        cmocka_unit_test(test_every_name_alias_and_nxm_name_finds_its_field),
        cmocka_unit_test(test_common_names_map_to_the_expected_fields),
        cmocka_unit_test(
            test_lookup_is_case_sensitive_and_refuses_unknown_names),
        cmocka_unit_test(test_suggestions_catch_typos_but_not_nonsense),
        cmocka_unit_test(test_edit_distance_counts_swaps_as_one),
        cmocka_unit_test(test_setting_a_field_changes_only_its_bits),
        cmocka_unit_test(test_views_share_the_bits_of_their_member),
        cmocka_unit_test(test_setting_a_match_premasks_the_value),
        cmocka_unit_test(
            test_exact_icmp_and_in_port_matches_cover_the_whole_member),
        cmocka_unit_test(test_prerequisites_follow_dl_type_and_nw_proto),
        cmocka_unit_test(
            test_integer_values_parse_like_strtoull_and_format_like_ovs),
        cmocka_unit_test(test_addresses_parse_with_prefixes_and_masks),
        cmocka_unit_test(test_bad_values_are_refused_with_one_clear_line),
        cmocka_unit_test(test_every_field_value_round_trips_through_text),
        cmocka_unit_test(test_ports_parse_names_in_any_case_and_numbers),
        cmocka_unit_test(test_subfields_parse_every_form_and_print_nxm_names),
        cmocka_unit_test(test_subfield_errors_say_what_is_wrong),
        cmocka_unit_test(
            test_bit_helpers_count_from_the_least_significant_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
