/* Unit tests for src/openflow/ofp-*.c: the OpenFlow 1.3 codec.  Round
 * trips of flow-mods, matches and packet-ins; every truncation of a valid
 * message refused with an error (and, under ASan, without reading a byte
 * beyond it); length fields that lie; OXM errors; version negotiation;
 * multipart splitting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classifier/classifier.h"
#include "datapath/dp-actions.h"
#include "flow/flow-text.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "ofproto/group.h"
#include "ofproto/meter.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "openflow/ofp-codec.h"
#include "unit-rcu.h"
#include "unit-switch.h"

/* Flows whose actions exist on the wire as they are in the text, so that
 * encode + decode gives back the same canonical text. */
static const char *const wire_native_flows[] = {
    "priority=40,mpls,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1,"
    "actions=dec_mpls_ttl,set_field:7->mpls_label,set_field:2->mpls_tc,"
    "set_mpls_ttl(9),pop_mpls:0x0800,mod_nw_ttl:4,output:2",
    "priority=41,ipv6,actions=push_mpls:0x8848,set_field:3->mpls_ttl,"
    "output:2",
    "priority=42,tun_id=0x5/0xff,actions=set_field:0x7->tun_id,output:2",
    "priority=100,tcp,tp_dst=80,actions=output:2",
    "cookie=0x5,table=3,idle_timeout=10,hard_timeout=20,send_flow_rem,"
    "priority=7,in_port=1,dl_src=00:00:00:00:00:01/ff:ff:ff:00:00:00,"
    "actions=output:3,output:in_port",
    "priority=50,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,"
    "actions=set_field:10.1.1.1->ip_dst,dec_ttl,output:2",
    "priority=30,dl_vlan=10,dl_vlan_pcp=3,actions=strip_vlan,output:2",
    "priority=31,vlan_tci=0x0000/0x1fff,actions=push_vlan:0x8100,"
    "set_field:4101->vlan_vid,output:1",
    "priority=20,arp,arp_op=1,arp_spa=10.0.0.1,arp_tha=00:00:00:00:00:09,"
    "actions=NORMAL",
    "priority=25,ipv6,ipv6_src=2001:db8::/32,ipv6_label=0x12345,"
    "actions=output:3",
    "priority=26,icmp,icmp_type=8,icmp_code=0,actions=CONTROLLER:128",
    "priority=27,icmp6,icmp_type=135,nd_target=fe80::1,"
    "nd_sll=00:00:00:00:00:05,actions=drop",
    "cookie=0x1234,priority=10,reg0=5,reg7=0x10/0xf0,metadata=0x3,"
    "actions=resubmit(,1),resubmit:4",
    "priority=11,ip,nw_tos=32,nw_ecn=1,nw_ttl=9,ip_frag=yes,"
    "actions=output:3",
    "priority=12,tcp,tcp_flags=+syn-ack,tp_src=0x1000/0xf000,"
    "actions=load:0x5->NXM_NX_REG0[0..3],move:NXM_OF_ETH_SRC[]->"
    "NXM_OF_ETH_DST[],output:1",
    "table=2,priority=5,udp6,udp_dst=53,actions=controller(reason=no_match,"
    "id=3),note:01.02.00.00.00.00,write_metadata:0x10/0xff,goto_table:7",
    "table=1,priority=6,ip,actions=set_queue:5,clear_actions,write_actions("
    "set_queue:4294967295,dec_ttl,set_field:10.0.0.9->ip_src,output:2),"
    "write_metadata:0x1/0x1,goto_table:2",
    "priority=7,actions=write_actions(resubmit(,3),CONTROLLER:65535)",
    "priority=13,sctp,sctp_src=9,actions=set_field:5/0xf->reg1,output:LOCAL",
};

static void
encode_flow_line(const char *line, struct ofpbuf *b, struct flow_text *ft)
{
    struct ofp_flow_mod fm;
    char *error = NULL;

    if (flow_text_parse(line, FLOW_TEXT_ADD, ft, &error)) {
        fail_msg("\"%s\": %s", line, error);
    }
    memset(&fm, 0, sizeof fm);
    fm.ft = *ft;
    fm.command = OFPFC_ADD;
    fm.buffer_id = OFP_NO_BUFFER;
    fm.out_group = OFPG_ANY;
    ofp_encode_flow_mod(b, 42, &fm);
}

static char *
flow_text_string(const struct flow_text *ft)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_text_format(ft, FLOW_TEXT_STYLE_DUMP, &s);
    return ds_steal_cstr(&s);
}

static void
test_flow_mod_round_trips_keep_the_flow(void **state)
{
    (void)state;
    for (size_t i = 0;
         i < sizeof wire_native_flows / sizeof *wire_native_flows; i++) {
        struct ofpbuf b = OFPBUF_INITIALIZER, b2 = OFPBUF_INITIALIZER;
        struct ofp_flow_mod fm;
        struct flow_text ft;
        char *want, *got;
        int error;

        encode_flow_line(wire_native_flows[i], &b, &ft);
        error = ofp_decode_flow_mod(b.data, b.size, &fm);
        if (error) {
            char buf[64];

            fail_msg("\"%s\": %s", wire_native_flows[i],
                     ofperr_to_string(error, buf));
        }
        want = flow_text_string(&ft);
        got = flow_text_string(&fm.ft);
        assert_string_equal(got, want);

        /* Encoding is stable: the decoded flow encodes to the same bytes. */
        ofp_encode_flow_mod(&b2, 42, &fm);
        assert_int_equal(b2.size, b.size);
        assert_memory_equal(b2.data, b.data, b.size);

        free(want);
        free(got);
        flow_text_destroy(&ft);
        flow_text_destroy(&fm.ft);
        ofpbuf_uninit(&b);
        ofpbuf_uninit(&b2);
    }
}

/* An output action's max_len comes back as it was written (Open vSwitch
 * keeps it too), so a controller reads back the flow it installed. */
static void
test_output_max_len_round_trips(void **state)
{
    static const uint16_t max_lens[] = {0, 128, 0xffe5, 0xffff};

    (void)state;
    for (size_t i = 0; i < sizeof max_lens / sizeof *max_lens; i++) {
        uint8_t wire[16] = {0, 0, 0, 16, 0, 0, 0, 2};
        struct ofpbuf b = OFPBUF_INITIALIZER;
        struct ofpacts acts;
        struct match match;

        wire[8] = (uint8_t)(max_lens[i] >> 8);
        wire[9] = (uint8_t)max_lens[i];
        assert_int_equal(ofp_decode_actions(wire, sizeof wire, &acts), 0);
        assert_int_equal(acts.n, 1);
        assert_int_equal(acts.acts[0].output.port, 2);
        match_init_catchall(&match);
        ofp_encode_actions(&acts, &match, &b);
        assert_int_equal(b.size, sizeof wire);
        assert_memory_equal(b.data, wire, sizeof wire);
        ofpacts_destroy(&acts);
        ofpbuf_uninit(&b);
    }
}

/* An NXAST_REG_LOAD shorter than its 24 bytes is refused before its
 * value is read (the fuzzer found the value read past a 16-byte action):
 * the action sits at the very end of its own allocation, so AddressSanitizer
 * sees any read beyond it. */
static void
test_short_reg_load_is_refused_without_reading_past_it(void **state)
{
    static const uint8_t wire[16] = {
        0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, /* Experimenter, NX. */
        0,    7,    0, 31, 0, 1, 0x00, 0x04, /* REG_LOAD, ofs_nbits, dst. */
    };
    uint8_t *heap = malloc(sizeof wire);
    struct ofpacts acts;

    (void)state;
    assert_non_null(heap);
    memcpy(heap, wire, sizeof wire);
    assert_int_equal(ofp_decode_actions(heap, sizeof wire, &acts),
                     OFPERR_BAC_BAD_LEN);
    ofpacts_destroy(&acts);
    free(heap);
}

/* Every prefix of a valid message, its length field made to agree, is
 * refused, except a prefix that ends between two whole instructions
 * (that is a valid flow-mod with fewer of them). */
static void
test_truncated_flow_mods_are_refused(void **state)
{
    (void)state;
    for (size_t i = 0;
         i < sizeof wire_native_flows / sizeof *wire_native_flows; i++) {
        struct ofpbuf b = OFPBUF_INITIALIZER;
        struct flow_text ft;

        encode_flow_line(wire_native_flows[i], &b, &ft);
        size_t match_len = (size_t)((b.data[50] << 8) | b.data[51]);
        size_t instructions = 48 + ((match_len + 7) & ~(size_t)7);
        for (size_t len = 0; len < b.size; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            struct ofp_flow_mod fm;
            int error;

            memcpy(copy, b.data, len);
            if (len >= 4) {
                copy[2] = (uint8_t)(len >> 8);
                copy[3] = (uint8_t)len;
            }
            error = ofp_decode_flow_mod(copy, len, &fm);
            if (!error) {
                assert_true(len >= instructions);
            }
            flow_text_destroy(&fm.ft);
            free(copy);
        }
        flow_text_destroy(&ft);
        ofpbuf_uninit(&b);
    }
}

static void
test_length_fields_that_lie_are_refused(void **state)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_flow_mod fm;
    struct ofp_packet_out po;
    struct flow_text ft;
    uint8_t *p;

    (void)state;
    encode_flow_line("priority=1,tcp,actions=output:1", &b, &ft);
    p = b.data;

    /* The header says more than there is, or less. */
    p[3] = (uint8_t)(b.size + 8);
    assert_int_equal(ofp_decode_flow_mod(p, b.size, &fm), OFPERR_BAD_LEN);
    flow_text_destroy(&fm.ft);
    p[3] = (uint8_t)(b.size - 8);
    assert_int_equal(ofp_decode_flow_mod(p, b.size, &fm), OFPERR_BAD_LEN);
    flow_text_destroy(&fm.ft);
    p[3] = (uint8_t)b.size;

    /* The match says more than there is. */
    p[51] = 0xf0;
    assert_int_equal(ofp_decode_flow_mod(p, b.size, &fm), OFPERR_BMC_BAD_LEN);
    flow_text_destroy(&fm.ft);
    ofpbuf_uninit(&b);
    flow_text_destroy(&ft);

    /* A packet-out whose actions run past its end. */
    po.buffer_id = OFP_NO_BUFFER;
    po.in_port = OFPP_CONTROLLER;
    ofpacts_init(&po.ofpacts);
    ofpacts_put(&po.ofpacts, OFPACT_OUTPUT)->output.port = 2;
    po.data = (const uint8_t *)"0123456789abcdef";
    po.data_len = 16;
    ofpbuf_init(&b);
    ofp_encode_packet_out(&b, 1, &po);
    ofpacts_destroy(&po.ofpacts);
    b.data[16] = 0x01; /* actions_len 256 + 16 */
    assert_int_equal(ofp_decode_packet_out(b.data, b.size, &po),
                     OFPERR_BAD_LEN);
    /* An action whose length is not a multiple of 8. */
    b.data[16] = 0;
    b.data[24 + 3] = 12;
    assert_int_equal(ofp_decode_packet_out(b.data, b.size, &po),
                     OFPERR_BAC_BAD_LEN);
    ofpbuf_uninit(&b);
}

/* A raw ofp_match around 'tlvs'. */
static int
decode_raw_match(const uint8_t *tlvs, size_t n, struct match *m)
{
    uint8_t buf[256];
    size_t used, len = 4 + n;

    memset(buf, 0, sizeof buf);
    buf[1] = 1;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    memcpy(buf + 4, tlvs, n);
    return ofp_decode_match(buf, (len + 7) & ~(size_t)7, m, &used);
}

static void
test_oxm_errors_have_their_codes(void **state)
{
    /* eth_type=0x0800 */
    static const uint8_t ip[] = {0x80, 0x00, 0x0a, 0x02, 0x08, 0x00};
    /* ip_proto=6 */
    static const uint8_t tcp[] = {0x80, 0x00, 0x14, 0x01, 0x06};
    /* tcp_dst=80 */
    static const uint8_t tcp_dst[] = {0x80, 0x00, 0x1c, 0x02, 0x00, 0x50};
    uint8_t buf[64];
    struct match m;
    size_t n;

    (void)state;
    /* tcp_dst without ip_proto=6: a missing prerequisite. */
    n = 0;
    memcpy(buf + n, ip, sizeof ip), n += sizeof ip;
    memcpy(buf + n, tcp_dst, sizeof tcp_dst), n += sizeof tcp_dst;
    assert_int_equal(decode_raw_match(buf, n, &m), OFPERR_BMC_BAD_PREREQ);

    /* With it, in any order. */
    n = 0;
    memcpy(buf + n, tcp_dst, sizeof tcp_dst), n += sizeof tcp_dst;
    memcpy(buf + n, tcp, sizeof tcp), n += sizeof tcp;
    memcpy(buf + n, ip, sizeof ip), n += sizeof ip;
    assert_int_equal(decode_raw_match(buf, n, &m), 0);
    assert_int_equal(ntohs(m.flow.tp_dst), 80);

    /* The same field twice. */
    n = 0;
    memcpy(buf + n, ip, sizeof ip), n += sizeof ip;
    memcpy(buf + n, ip, sizeof ip), n += sizeof ip;
    assert_int_equal(decode_raw_match(buf, n, &m), OFPERR_BMC_DUP_FIELD);

    /* A field nobody defined (basic class, field 90). */
    static const uint8_t unknown[] = {0x80, 0x00, 0xb4, 0x02, 0, 0};
    assert_int_equal(decode_raw_match(unknown, sizeof unknown, &m),
                     OFPERR_BMC_BAD_FIELD);

    /* A TLV longer than the match. */
    static const uint8_t too_long[] = {0x80, 0x00, 0x0a, 0x20, 0x08, 0x00};
    assert_int_equal(decode_raw_match(too_long, sizeof too_long, &m),
                     OFPERR_BMC_BAD_LEN);

    /* A mask on a field that takes none (eth_type). */
    static const uint8_t masked_type[] = {0x80, 0x00, 0x0b, 0x04,
                                          0x08, 0x00, 0xff, 0x00};
    assert_int_equal(decode_raw_match(masked_type, sizeof masked_type, &m),
                     OFPERR_BMC_BAD_MASK);

    /* Value bits the mask does not cover (ipv4_src 10.0.0.1/255.0.0.0). */
    static const uint8_t loose[] = {0x80, 0x00, 0x0a, 0x02, 0x08, 0x00,
                                    0x80, 0x00, 0x17, 0x08, 10,   0,
                                    0,    1,    255,  0,    0,    0};
    assert_int_equal(decode_raw_match(loose, sizeof loose, &m),
                     OFPERR_BMC_BAD_WILDCARDS);

    /* VLAN_PCP without a VLAN_VID that says a tag is there. */
    static const uint8_t pcp[] = {0x80, 0x00, 0x0e, 0x01, 3};
    assert_int_equal(decode_raw_match(pcp, sizeof pcp, &m),
                     OFPERR_BMC_BAD_PREREQ);

    /* NXM's 16-bit in_port: an ordinary port or a reserved one, never
     * 0xff00..0xfff7, which name nothing (fuzz_openflow: 0xff12 decoded,
     * then its OpenFlow 1.3 encoding did not). */
    static const uint8_t nxm_port[] = {0x00, 0x00, 0x00, 0x02, 0xff, 0x12};
    assert_int_equal(decode_raw_match(nxm_port, sizeof nxm_port, &m),
                     OFPERR_BMC_BAD_VALUE);
    static const uint8_t nxm_port5[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x05};
    assert_int_equal(decode_raw_match(nxm_port5, sizeof nxm_port5, &m), 0);
    assert_int_equal(m.flow.in_port, 5);
    static const uint8_t nxm_local[] = {0x00, 0x00, 0x00, 0x02, 0xff, 0xfe};
    assert_int_equal(decode_raw_match(nxm_local, sizeof nxm_local, &m), 0);

    /* A match type other than OXM. */
    static const uint8_t std_match[8] = {0, 0, 0, 4};
    size_t used;
    assert_int_equal(ofp_decode_match(std_match, 8, &m, &used),
                     OFPERR_BMC_BAD_TYPE);
}

static void
test_matches_round_trip_through_oxm(void **state)
{
    static const char *const matches[] = {
        "",
        "in_port=LOCAL",
        "vlan_tci=0x0000/0x1fff",
        "vlan_tci=0x1000/0x1000",
        "vlan_tci=0x3005/0x3fff",
        "tcp,tcp_flags=+fin",
        "arp,arp_sha=00:00:00:00:00:01,arp_op=2",
        "icmp6,icmp_type=136,nd_target=::1,nd_tll=00:00:00:00:00:07",
        "ipv6,ipv6_dst=::/1,nw_tos=8",
        "reg3=0x80000000/0x80000000,metadata=0x1/0x1",
        "mpls,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1",
        "mplsm,mpls_label=1048575",
        "tun_id=0x5,in_port=1",
        "tun_id=0x5/0xff",
    };

    (void)state;
    for (size_t i = 0; i < sizeof matches / sizeof *matches; i++) {
        struct ofpbuf b = OFPBUF_INITIALIZER;
        struct match want, got;
        char *error = NULL;
        size_t used;

        if (match_from_string(matches[i], &want, &error)) {
            fail_msg("\"%s\": %s", matches[i], error);
        }
        ofp_encode_match(&want, &b);
        assert_int_equal(b.size % 8, 0);
        assert_int_equal(ofp_decode_match(b.data, b.size, &got, &used), 0);
        assert_int_equal(used, b.size);
        if (!match_equal(&want, &got)) {
            fail_msg("\"%s\" changed in a round trip", matches[i]);
        }
        ofpbuf_uninit(&b);
    }
}

/* "No VLAN" written as an exact zero TCI becomes OXM's VLAN_VID=NONE,
 * which says nothing about the PCP bits: the same packets match, as with
 * Open vSwitch. */
static void
test_no_vlan_match_becomes_vlan_vid_none(void **state)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct match in, out;
    char *error = NULL;
    size_t used;

    (void)state;
    assert_int_equal(match_from_string("dl_vlan=0xffff", &in, &error), 0);
    ofp_encode_match(&in, &b);
    assert_int_equal(ofp_decode_match(b.data, b.size, &out, &used), 0);
    assert_int_equal(out.flow.vlans[0].tci, 0);
    assert_int_equal(ntohs(out.wc.masks.vlans[0].tci),
                     VLAN_CFI | VLAN_VID_MASK);
    ofpbuf_uninit(&b);
}

static void
put_hello(uint8_t *p, uint8_t version, uint32_t bitmap, bool with_bitmap)
{
    memset(p, 0, 16);
    p[0] = version;
    p[1] = OFPT_HELLO;
    p[3] = with_bitmap ? 16 : 8;
    if (with_bitmap) {
        p[9] = 1;  /* VERSIONBITMAP */
        p[11] = 8; /* length */
        p[12] = (uint8_t)(bitmap >> 24);
        p[13] = (uint8_t)(bitmap >> 16);
        p[14] = (uint8_t)(bitmap >> 8);
        p[15] = (uint8_t)bitmap;
    }
}

static void
test_hello_negotiates_1_3_or_refuses(void **state)
{
    uint8_t p[16];
    uint32_t v;

    (void)state;
    put_hello(p, 6, (1u << 4) | (1u << 6), true);
    assert_int_equal(ofp_decode_hello(p, 16, &v), 0);
    put_hello(p, 6, (1u << 5) | (1u << 6), true);
    assert_int_equal(ofp_decode_hello(p, 16, &v), OFPERR_HELLO_INCOMPATIBLE);
    put_hello(p, 5, 0, false); /* Up to 1.4, no bitmap: 1.3 is in. */
    assert_int_equal(ofp_decode_hello(p, 8, &v), 0);
    put_hello(p, 1, 0, false);
    assert_int_equal(ofp_decode_hello(p, 8, &v), OFPERR_HELLO_INCOMPATIBLE);
    put_hello(p, 4, 1u << 4, true);
    p[11] = 40; /* An element longer than the message. */
    assert_int_equal(ofp_decode_hello(p, 16, &v), OFPERR_BAD_LEN);

    struct ofpbuf b = OFPBUF_INITIALIZER;
    ofp_encode_hello(&b, 7);
    assert_int_equal(ofp_decode_hello(b.data, b.size, &v), 0);
    assert_int_equal(v, 1u << OFP13_VERSION);
    ofpbuf_uninit(&b);
}

/* An ERROR decodes to the type and code on the wire, whatever they are
 * (fuzz_openflow found a type of 0x8282 overflowing the OFPERR int). */
static void
test_errors_decode_any_type_and_code(void **state)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    uint16_t type, code;
    uint8_t *p;

    (void)state;
    ofp_encode_error(&b, 7, OFPERR_BAD_LEN, NULL, 0, "x");
    assert_int_equal(ofp_decode_error(b.data, b.size, &type, &code), 0);
    assert_int_equal(OFPERR(type, code), OFPERR_BAD_LEN);
    p = b.data;
    p[8] = 0xff; /* OFPET_EXPERIMENTER. */
    p[9] = 0xff;
    p[10] = 0x82;
    p[11] = 0x82;
    assert_int_equal(ofp_decode_error(b.data, b.size, &type, &code), 0);
    assert_int_equal(type, 0xffff);
    assert_int_equal(code, 0x8282);
    assert_int_equal(ofp_decode_error(b.data, 11, &type, &code),
                     OFPERR_BAD_LEN);
    ofpbuf_uninit(&b);
}

/* OFPBIC_DUP_INST goes out over OpenFlow 1.3 as Open vSwitch sends it:
 * OFPET_EXPERIMENTER, exp_type 2600, the ONF experimenter id, then the
 * start of the request. */
static void
test_dup_inst_is_an_onf_experimenter_error(void **state)
{
    static const uint8_t want[] = {4,    1,    0,    20,   0,    0,    0,
                                   9,    0xff, 0xff, 0x0a, 0x28, 0x4f, 0x4e,
                                   0x46, 0x00, 4,    14,   0,    8};
    static const uint8_t request[] = {4, 14, 0, 8};
    struct ofpbuf b = OFPBUF_INITIALIZER;
    char buf[64];

    (void)state;
    ofp_encode_error(&b, 9, OFPERR_BIC_DUP_INST, request, sizeof request,
                     NULL);
    assert_int_equal(b.size, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    assert_string_equal(ofperr_to_string(OFPERR_BIC_DUP_INST, buf),
                        "OFPET_BAD_INSTRUCTION/OFPBIC_DUP_INST");
    ofpbuf_uninit(&b);
}

static void
test_big_multipart_replies_are_split_at_entries(void **state)
{
    struct ofpbuf body = OFPBUF_INITIALIZER, out = OFPBUF_INITIALIZER;
    struct ofpbuf joined = OFPBUF_INITIALIZER;
    size_t ofs[2000], n_msgs = 0;

    (void)state;
    for (size_t i = 0; i < 2000; i++) {
        uint8_t entry[104];

        ofs[i] = body.size;
        memset(entry, (int)(i & 0xff), sizeof entry);
        ofpbuf_put(&body, entry, sizeof entry);
    }
    ofp_encode_multipart_replies(&out, 9, OFPMP_FLOW, &body, ofs, 2000);
    for (size_t p = 0; p < out.size;) {
        struct ofp_header h;
        uint16_t flags;

        ofp_header_decode(out.data + p, &h);
        assert_int_equal(h.type, OFPT_MULTIPART_REPLY);
        assert_int_equal(h.xid, 9);
        assert_true(h.length <= OFP_MAX_MSG_LEN);
        assert_int_equal((h.length - 16) % 104, 0);
        flags = (uint16_t)((out.data[p + 10] << 8) | out.data[p + 11]);
        ofpbuf_put(&joined, out.data + p + 16, h.length - 16u);
        p += h.length;
        n_msgs++;
        assert_int_equal(flags, p < out.size ? OFPMPF_REPLY_MORE : 0);
    }
    assert_true(n_msgs >= 4);
    assert_int_equal(joined.size, body.size);
    assert_memory_equal(joined.data, body.data, body.size);
    ofpbuf_uninit(&body);
    ofpbuf_uninit(&out);
    ofpbuf_uninit(&joined);
}

static void
test_packet_in_round_trips(void **state)
{
    static const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_packet_in pin, got;
    struct match m;

    (void)state;
    memset(&pin, 0, sizeof pin);
    pin.buffer_id = OFP_NO_BUFFER;
    pin.total_len = 60;
    pin.reason = 1;
    pin.table_id = 3;
    pin.cookie = 0xabc;
    pin.in_port = OFPP_LOCAL;
    pin.data = frame;
    pin.data_len = 20;
    ofp_encode_packet_in(&b, 0, &pin);
    assert_int_equal(ofp_decode_packet_in(b.data, b.size, &got, &m), 0);
    assert_int_equal(got.buffer_id, OFP_NO_BUFFER);
    assert_int_equal(got.total_len, 60);
    assert_int_equal(got.table_id, 3);
    assert_int_equal(got.cookie, 0xabc);
    assert_int_equal(got.in_port, OFPP_LOCAL);
    assert_int_equal(got.data_len, 20);
    assert_memory_equal(got.data, frame, 20);
    ofpbuf_uninit(&b);
}

static void
test_ports_convert_between_16_and_32_bits(void **state)
{
    uint32_t p;

    (void)state;
    assert_int_equal(ofp_port_to_wire(7), 7);
    assert_int_equal(ofp_port_to_wire(OFPP_LOCAL), OFPP13_LOCAL);
    assert_int_equal(ofp_port_to_wire(OFPP_CONTROLLER), OFPP13_CONTROLLER);
    assert_true(ofp_port_from_wire(OFPP13_ANY, &p));
    assert_int_equal(p, OFPP_ANY);
    assert_true(ofp_port_from_wire(OFPP13_IN_PORT, &p));
    assert_int_equal(p, OFPP_IN_PORT);
    assert_false(ofp_port_from_wire(0xff00, &p));
    assert_false(ofp_port_from_wire(0xffffff00, &p));
}

/* Decodes 'wire' (instructions), which must succeed, and returns the text
 * of the list. */
static char *
decode_instructions_text(const uint8_t *wire, size_t len)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct ofpacts acts;

    assert_int_equal(ofp_decode_instructions(wire, len, &acts), 0);
    ofpacts_format(&acts, &text);
    ofpacts_destroy(&acts);
    return ds_steal_cstr(&text);
}

static void
test_action_set_instructions_decode_in_openflow_order(void **state)
{
    /* write_actions(output:1), then clear_actions: the wire order does not
     * matter, the list holds them in OpenFlow's order. */
    static const uint8_t write_clear[] = {0,  3, 0, 24, 0, 0, 0, 0, 0, 0, 0,
                                          16, 0, 0, 0,  1, 0, 0, 0, 0, 0, 0,
                                          0,  0, 0, 5,  0, 8, 0, 0, 0, 0};
    /* An empty write_actions is no instruction; set_queue:7 applied. */
    static const uint8_t empty_write[] = {0, 3, 0, 8, 0, 0,  0, 0, 0, 4, 0, 16,
                                          0, 0, 0, 0, 0, 21, 0, 8, 0, 0, 0, 7};
    char *text;

    (void)state;
    text = decode_instructions_text(write_clear, sizeof write_clear);
    assert_string_equal(text, "clear_actions,write_actions(output:1)");
    free(text);
    text = decode_instructions_text(empty_write, sizeof empty_write);
    assert_string_equal(text, "set_queue:7");
    free(text);
}

static void
test_unsupported_instructions_and_actions_are_named(void **state)
{
    /* write_actions(note:00.00.00.00.00.00): no note in an action set. */
    static const uint8_t write_note[] = {0,    3,    0, 24, 0, 0, 0,    0,
                                         0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20,
                                         0,    8,    0, 0,  0, 0, 0,    0};
    /* Two write_actions. */
    static const uint8_t two_writes[] = {0, 3, 0, 8, 0, 0, 0, 0,
                                         0, 3, 0, 8, 0, 0, 0, 0};
    /* apply_actions(push_pbb:0x88e7): no PBB in flowswitch. */
    static const uint8_t pbb[] = {0, 4,  0, 16, 0,    0,    0, 0,
                                  0, 26, 0, 8,  0x88, 0xe7, 0, 0};
    /* apply_actions(group:1), which is supported. */
    static const uint8_t group[] = {0, 4,  0, 16, 0, 0, 0, 0,
                                    0, 22, 0, 8,  0, 0, 0, 1};
    /* An experimenter instruction. */
    static const uint8_t experimenter[] = {0xff, 0xff, 0, 8, 0, 0, 0, 0};
    /* goto_table:255 */
    static const uint8_t goto_all[] = {0, 1, 0, 8, 255, 0, 0, 0};
    struct ofpacts acts;

    (void)state;
    assert_int_equal(
        ofp_decode_instructions(write_note, sizeof write_note, &acts),
        OFPERR_BAC_BAD_TYPE);
    assert_int_equal(acts.n, 0);
    ofpacts_destroy(&acts);
    assert_int_equal(
        ofp_decode_instructions(two_writes, sizeof two_writes, &acts),
        OFPERR_BIC_DUP_INST);
    ofpacts_destroy(&acts);
    assert_int_equal(
        ofp_decode_instructions(experimenter, sizeof experimenter, &acts),
        OFPERR_BIC_UNSUP_INST);
    ofpacts_destroy(&acts);
    assert_int_equal(ofp_decode_instructions(pbb, sizeof pbb, &acts),
                     OFPERR_BAC_BAD_TYPE);
    ofpacts_destroy(&acts);
    assert_int_equal(ofp_decode_instructions(group, sizeof group, &acts), 0);
    assert_int_equal(acts.n, 1);
    assert_int_equal(acts.acts[0].type, OFPACT_GROUP);
    assert_int_equal(acts.acts[0].group_id, 1);
    ofpacts_destroy(&acts);
    assert_int_equal(ofp_decode_instructions(goto_all, sizeof goto_all, &acts),
                     OFPERR_BIC_BAD_TABLE_ID);
    ofpacts_destroy(&acts);
}

/* ---- GROUP_MOD ---------------------------------------------------------- */

static void
check_group_mod_round_trip(const char *text)
{
    struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;
    struct ofpbuf buf = OFPBUF_INITIALIZER;
    struct group_mod gm, back;
    char *error = NULL;

    if (group_mod_parse(text, GROUP_MOD_MODIFY, &gm, &error)) {
        fail_msg("%s: %s", text, error);
    }
    ofp_encode_group_mod(&buf, 7, &gm);
    assert_int_equal(ofp_decode_group_mod(buf.data, buf.size, &back), 0);
    assert_int_equal(back.command, GROUP_MOD_MODIFY);
    group_format(&gm, &a);
    group_format(&back, &b);
    assert_string_equal(ds_cstr(&a), ds_cstr(&b));
    ds_destroy(&a);
    ds_destroy(&b);
    ofpbuf_uninit(&buf);
    group_mod_destroy(&gm);
    group_mod_destroy(&back);
}

/* Every type, weights and watches survive the wire; a bucket whose
 * length overruns the message, a bad command and a bad watch port are
 * refused with their codes. */
static void
test_group_mod_round_trips(void **state)
{
    struct ofpbuf buf = OFPBUF_INITIALIZER;
    struct group_mod gm;
    char *error = NULL;

    (void)state;
    check_group_mod_round_trip("group_id=1,type=select,bucket=weight:10,"
                               "actions=output:2,bucket=weight:20,"
                               "actions=set_field:10.0.0.1->ip_dst,output:3");
    check_group_mod_round_trip("group_id=2,type=ff,bucket=watch_port:2,"
                               "actions=output:2,bucket=watch_group:1,"
                               "actions=group:1");
    check_group_mod_round_trip("group_id=3,type=indirect,bucket=output:1");
    check_group_mod_round_trip("group_id=4,type=all");

    assert_int_equal(group_mod_parse("group_id=5,type=all,bucket=output:2",
                                     GROUP_MOD_ADD, &gm, &error),
                     0);
    ofp_encode_group_mod(&buf, 1, &gm);
    group_mod_destroy(&gm);
    buf.data[16 + 1] = 64; /* The bucket claims more than there is. */
    assert_int_equal(ofp_decode_group_mod(buf.data, buf.size, &gm),
                     OFPERR_GMFC_BAD_BUCKET);
    buf.data[16 + 1] = 32;
    buf.data[9] = 9; /* Command. */
    assert_int_equal(ofp_decode_group_mod(buf.data, buf.size, &gm),
                     OFPERR_GMFC_BAD_COMMAND);
    buf.data[9] = 0;
    memset(buf.data + 16 + 4, 0, 4); /* watch_port 0. */
    assert_int_equal(ofp_decode_group_mod(buf.data, buf.size, &gm),
                     OFPERR_GMFC_BAD_WATCH);
    assert_int_equal(ofp_decode_group_mod(buf.data, 12, &gm), OFPERR_BAD_LEN);
    ofpbuf_uninit(&buf);
    assert_int_equal(ofp_group_error(GROUP_ERR_UNKNOWN_GROUP),
                     OFPERR_GMFC_UNKNOWN_GROUP);
    assert_int_equal(ofp_group_error(GROUP_OK), 0);
}

/* The MPLS actions of OpenFlow 1.3 as Open vSwitch decodes them:
 * copy_ttl_in/out are unknown (OFPBAC_BAD_TYPE), push_mpls takes only an
 * MPLS ethertype (OFPBAC_BAD_ARGUMENT), and each is 8 bytes. */
static void
test_mpls_action_errors_are_those_of_ovs(void **state)
{
    static const struct {
        uint8_t wire[16];
        size_t len;
        int error;
    } cases[] = {
        {{0, 11, 0, 8}, 8, OFPERR_BAC_BAD_TYPE},           /* copy_ttl_out */
        {{0, 12, 0, 8}, 8, OFPERR_BAC_BAD_TYPE},           /* copy_ttl_in */
        {{0, 19, 0, 8, 0x08}, 8, OFPERR_BAC_BAD_ARGUMENT}, /* push 0x800 */
        {{0, 20, 0, 16, 0x08}, 16, OFPERR_BAC_BAD_LEN},    /* pop, 16 bytes */
        {{0, 25, 0, 16, 0x80, 0, 0x48, 1, 1},
         16,
         OFPERR_BAC_BAD_SET_ARGUMENT}, /* set_field:1->mpls_bos */
        {{0, 23, 0, 8, 5}, 8, 0},      /* set_nw_ttl:5 */
    };
    /* OXM IPV6_EXTHDR, which Open vSwitch 3.1 does not know either. */
    static const uint8_t exthdr[] = {0,    1,    0,    16, 0x80, 0, 0x0a, 2,
                                     0x86, 0xdd, 0x80, 0,  0x4e, 2, 0,    1};
    struct ofpacts acts;
    struct match m;
    size_t used;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(
            ofp_decode_actions(cases[i].wire, cases[i].len, &acts),
            cases[i].error);
        assert_int_equal(acts.n, cases[i].error ? 0 : 1);
        ofpacts_destroy(&acts);
    }
    assert_int_equal(ofp_decode_match(exthdr, sizeof exthdr, &m, &used),
                     OFPERR_BMC_BAD_FIELD);
    assert_int_equal(ofp_decode_actions(cases[5].wire, 8, &acts), 0);
    assert_int_equal(acts.acts[0].type, OFPACT_SET_IP_TTL);
    assert_int_equal(acts.acts[0].ttl, 5);
    ofpacts_destroy(&acts);
}

/* ---- The ofproto and xlate hooks OpenFlow uses ------------------------ */

#define T0 1000000

struct removal {
    uint64_t cookie;
    enum ofproto_removed_reason reason;
    uint64_t n_packets;
};

struct removals {
    struct removal r[8];
    size_t n;
};

static void
record_removal(const struct ofproto_rule_info *info,
               enum ofproto_removed_reason reason, void *aux)
{
    struct removals *rs = aux;

    assert_true(rs->n < 8);
    rs->r[rs->n++] = (struct removal){info->cookie, reason, info->n_packets};
}

static void
test_flow_removed_reports_deletes_and_timeouts_only(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct removals rs = {.n = 0};
    struct ofproto_rule_info *infos;
    struct ofmeter_config cfg;
    char *error = NULL;
    struct rule *rule;
    struct flow flow;

    (void)state;
    memset(&cfg, 0, sizeof cfg);
    ofproto_set_flow_removed_cb(ofp, record_removal, &rs);
    unit_flow_mod_at(
        ofp, FLOW_TEXT_ADD,
        "cookie=0x1,send_flow_rem,priority=5,tcp,actions=output:2", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "cookie=0x2,send_flow_rem,idle_timeout=1,priority=6,udp,"
                     "actions=output:2",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "cookie=0x3,send_flow_rem,hard_timeout=2,priority=7,icmp,"
                     "actions=output:2",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "cookie=0x4,priority=8,arp,actions=drop", T0);

    /* Replacing or modifying a rule is not removing it. */
    unit_flow_mod_at(
        ofp, FLOW_TEXT_ADD,
        "cookie=0x1,send_flow_rem,priority=5,tcp,actions=output:3", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_MODIFY, "tcp,actions=output:1", T0);
    assert_int_equal(rs.n, 0);

    /* The counters at removal time go with it. */
    memset(&flow, 0, sizeof flow);
    flow.dl_type = htons(ETH_TYPE_IP);
    flow.nw_proto = IPPROTO_TCP_;
    rcu_read_begin();
    rule = ofproto_table_lookup(ofp, 0, &flow, NULL);
    assert_non_null(rule);
    ofproto_rule_credit_stats(rule, 3, 180, T0);
    rcu_read_end();
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "tcp", T0);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].cookie, 1);
    assert_int_equal(rs.r[0].reason, OFPROTO_REMOVED_DELETE);
    assert_int_equal(rs.r[0].n_packets, 3);

    /* Idle first (1 s unused), then hard (2 s after it was added); the
     * rule without send_flow_rem goes silently. */
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 1500), 1);
    assert_int_equal(rs.n, 2);
    assert_int_equal(rs.r[1].cookie, 2);
    assert_int_equal(rs.r[1].reason, OFPROTO_REMOVED_IDLE);
    assert_int_equal(ofproto_run_timeouts(ofp, T0 + 2500), 1);
    assert_int_equal(rs.n, 3);
    assert_int_equal(rs.r[2].reason, OFPROTO_REMOVED_HARD);
    unit_flow_mod_at(ofp, FLOW_TEXT_DELETE, "arp", T0);
    assert_int_equal(rs.n, 3);

    /* A rule deleted with its group says so; with its meter too (OpenFlow
     * 1.3 has no reason for that one: ofmgr sends nothing, as Open
     * vSwitch). */
    assert_int_equal(ofproto_group_mod_str(ofp,
                                           "group_id=1,type=all,"
                                           "bucket=output:2",
                                           GROUP_MOD_ADD, &error),
                     0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "send_flow_rem,priority=9,udp,actions=group:1", T0);
    assert_int_equal(
        ofproto_group_mod_str(ofp, "group_id=1", GROUP_MOD_DELETE, &error), 0);
    assert_int_equal(rs.n, 4);
    assert_int_equal(rs.r[3].reason, OFPROTO_REMOVED_GROUP);
    cfg.id = 1;
    cfg.flags = OFMETER_PKTPS;
    cfg.n_bands = 1;
    cfg.bands[0].type = OFMETER_BAND_DROP;
    cfg.bands[0].rate = 10;
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_ADD, &cfg), OFMETER_OK);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "send_flow_rem,priority=9,udp,actions=meter:1,output:2",
                     T0);
    assert_int_equal(ofproto_meter_mod(ofp, OFMETER_DELETE, &cfg), OFMETER_OK);
    assert_int_equal(rs.n, 5);
    assert_int_equal(rs.r[4].reason, OFPROTO_REMOVED_METER);

    assert_int_equal(ofproto_collect_rules(ofp, NULL, T0, &infos), 0);
    ofproto_rule_infos_free(infos, 0);
    ofproto_set_flow_removed_cb(ofp, NULL, NULL);
    ofproto_destroy(ofp);
}

static void
test_collect_rules_copies_and_sorts(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct ofproto_rule_info *infos;
    struct flow_text filter;
    char *error = NULL;
    size_t n;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "table=1,priority=1,actions=drop",
                     T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=2,ip,actions=output:1", T0);
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD, "priority=9,tcp,actions=output:2",
                     T0 + 500);
    n = ofproto_collect_rules(ofp, NULL, T0 + 1000, &infos);
    assert_int_equal(n, 3);
    assert_int_equal(infos[0].priority, 9);
    assert_int_equal(infos[0].duration_ms, 500);
    assert_int_equal(infos[0].ofpacts.n, 1);
    assert_int_equal(infos[1].priority, 2);
    assert_int_equal(infos[2].table_id, 1);
    ofproto_rule_infos_free(infos, n);

    assert_int_equal(
        flow_text_parse("table=0,tcp", FLOW_TEXT_DELETE, &filter, &error), 0);
    n = ofproto_collect_rules(ofp, &filter, T0, &infos);
    assert_int_equal(n, 1);
    assert_int_equal(infos[0].priority, 9);
    ofproto_rule_infos_free(infos, n);
    flow_text_destroy(&filter);
    ofproto_destroy(ofp);
}

static char *
xlate_text(struct ofproto *ofp, const struct flow *flow,
           const struct ofpacts *ofpacts, uint32_t *slow)
{
    struct ds a = DS_EMPTY_INITIALIZER;
    struct xlate_out xout;
    struct xlate_in xin;

    xlate_in_init(&xin, ofp, flow);
    xin.ofpacts = ofpacts;
    xin.now = T0;
    xlate_actions(&xin, &xout);
    dp_actions_format(xout.actions, &a);
    if (slow) {
        *slow = xout.slow;
    }
    xlate_out_uninit(&xout);
    return ds_steal_cstr(&a);
}

static void
test_packet_out_actions_and_fail_open_translate(void **state)
{
    struct ofproto *ofp = unit_bridge();
    struct ofpacts acts;
    struct flow flow;
    char *error = NULL, *text;
    uint32_t slow;

    (void)state;
    unit_flow_mod_at(ofp, FLOW_TEXT_ADD,
                     "priority=5,in_port=1,actions=output:3", T0);
    memset(&flow, 0, sizeof flow);
    flow.in_port = 1;
    flow.dl_dst = ETH_ADDR_BROADCAST;
    flow.dl_type = htons(ETH_TYPE_ARP);

    /* A packet-out's own actions, then output:TABLE through the table. */
    assert_int_equal(ofpacts_parse("output:2", &acts, &error), 0);
    text = xlate_text(ofp, &flow, &acts, NULL);
    assert_string_equal(text, "2");
    free(text);
    ofpacts_destroy(&acts);
    assert_int_equal(ofpacts_parse("output:2,output:table", &acts, &error), 0);
    text = xlate_text(ofp, &flow, &acts, NULL);
    assert_string_equal(text, "2,3");
    free(text);
    ofpacts_destroy(&acts);

    /* A controller action carries its table and is slow-pathed. */
    assert_int_equal(ofpacts_parse("controller:64", &acts, &error), 0);
    text = xlate_text(ofp, &flow, &acts, &slow);
    assert_true(slow & XLATE_SLOW_CONTROLLER);
    free(text);
    ofpacts_destroy(&acts);

    /* Fail-open: NORMAL floods the broadcast, whatever the tables say. */
    text = xlate_text(ofp, &flow, NULL, NULL);
    assert_string_equal(text, "3");
    free(text);
    uint64_t seq = ofproto_get_change_seq(ofp);
    ofproto_set_fail_open(ofp, true);
    assert_true(ofproto_get_change_seq(ofp) != seq);
    text = xlate_text(ofp, &flow, NULL, NULL);
    assert_string_equal(text, "2,3");
    free(text);
    ofproto_set_fail_open(ofp, false);
    ofproto_destroy(ofp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpls_action_errors_are_those_of_ovs),
        cmocka_unit_test(test_flow_mod_round_trips_keep_the_flow),
        cmocka_unit_test(test_output_max_len_round_trips),
        cmocka_unit_test(
            test_short_reg_load_is_refused_without_reading_past_it),
        cmocka_unit_test(test_truncated_flow_mods_are_refused),
        cmocka_unit_test(test_length_fields_that_lie_are_refused),
        cmocka_unit_test(test_oxm_errors_have_their_codes),
        cmocka_unit_test(test_matches_round_trip_through_oxm),
        cmocka_unit_test(test_no_vlan_match_becomes_vlan_vid_none),
        cmocka_unit_test(test_hello_negotiates_1_3_or_refuses),
        cmocka_unit_test(test_errors_decode_any_type_and_code),
        cmocka_unit_test(test_dup_inst_is_an_onf_experimenter_error),
        cmocka_unit_test(test_big_multipart_replies_are_split_at_entries),
        cmocka_unit_test(test_packet_in_round_trips),
        cmocka_unit_test(test_group_mod_round_trips),
        cmocka_unit_test(test_ports_convert_between_16_and_32_bits),
        cmocka_unit_test(
            test_action_set_instructions_decode_in_openflow_order),
        cmocka_unit_test(test_unsupported_instructions_and_actions_are_named),
        cmocka_unit_test(test_flow_removed_reports_deletes_and_timeouts_only),
        cmocka_unit_test(test_collect_rules_copies_and_sorts),
        cmocka_unit_test(test_packet_out_actions_and_fail_open_translate),
    };
    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_rcu_group_teardown);
}
