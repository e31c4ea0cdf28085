/* Unit tests for src/packet (packet buffers and batches, pcap files) and
 * for the header parser that fills a struct flow from a packet
 * (flow/packet-parse.h: every protocol, every malformation counter,
 * truncation at every length).
 *
 * Frames are built byte by byte with the fb_*() helpers below; the expected
 * flow of each is written out by hand, field by field, and compared whole
 * with memcmp(), so a field the parser sets by mistake fails the test as
 * surely as one it forgets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "lib/coverage.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "packet/pcap-file.h"

#define IN_PORT 7

static const struct eth_addr MAC_A = {{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}};
static const struct eth_addr MAC_B = {{0x00, 0x16, 0x3e, 0x11, 0x22, 0x33}};
static const struct eth_addr MAC_C = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x0c}};
static const struct eth_addr MAC_D = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x0d}};

/* ---- Frame builder ------------------------------------------------------ */

struct fb {
    uint8_t buf[512];
    size_t len;
};

static void
fb_put(struct fb *fb, const void *p, size_t n)
{
    assert_true(fb->len + n <= sizeof fb->buf);
    memcpy(fb->buf + fb->len, p, n);
    fb->len += n;
}

static void
fb_zeros(struct fb *fb, size_t n)
{
    assert_true(fb->len + n <= sizeof fb->buf);
    memset(fb->buf + fb->len, 0, n);
    fb->len += n;
}

static void
fb_u8(struct fb *fb, uint8_t v)
{
    fb_put(fb, &v, 1);
}

static void
fb_be16(struct fb *fb, uint16_t v)
{
    be16 x = htons(v);

    fb_put(fb, &x, sizeof x);
}

static void
fb_be32(struct fb *fb, uint32_t v)
{
    be32 x = htonl(v);

    fb_put(fb, &x, sizeof x);
}

static void
fb_patch_be16(struct fb *fb, size_t ofs, uint16_t v)
{
    fb->buf[ofs] = (uint8_t)(v >> 8);
    fb->buf[ofs + 1] = (uint8_t)v;
}

static be32
ip4(const char *s)
{
    struct in_addr a;

    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr;
}

static struct in6_addr
ip6(const char *s)
{
    struct in6_addr a;

    assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
    return a;
}

static void
fb_eth(struct fb *fb, struct eth_addr dst, struct eth_addr src, uint16_t type)
{
    fb->len = 0;
    fb_put(fb, dst.ea, ETH_ADDR_LEN);
    fb_put(fb, src.ea, ETH_ADDR_LEN);
    fb_be16(fb, type);
}

/* A VLAN tag after a TPID already written: TCI and the next ethertype. */
static void
fb_vlan(struct fb *fb, uint16_t tci, uint16_t next_type)
{
    fb_be16(fb, tci);
    fb_be16(fb, next_type);
}

/* IPv4 header with 'opts_len' bytes of options (NOPs); returns its offset
 * for fb_fix_ip_len(). */
static size_t
fb_ipv4(struct fb *fb, const char *src, const char *dst, uint8_t proto,
        uint8_t tos, uint8_t ttl, uint16_t frag_off, size_t opts_len)
{
    size_t ofs = fb->len;
    be32 a;

    assert_int_equal(opts_len % 4, 0);
    fb_u8(fb, 0x40 | (uint8_t)((IP_HEADER_LEN + opts_len) / 4));
    fb_u8(fb, tos);
    fb_be16(fb, 0); /* Total length: fb_fix_ip_len(). */
    fb_be16(fb, 0x1234);
    fb_be16(fb, frag_off);
    fb_u8(fb, ttl);
    fb_u8(fb, proto);
    fb_be16(fb, 0);
    a = ip4(src);
    fb_put(fb, &a, 4);
    a = ip4(dst);
    fb_put(fb, &a, 4);
    for (size_t i = 0; i < opts_len; i++) {
        fb_u8(fb, 1); /* NOP. */
    }
    return ofs;
}

static size_t
fb_ipv6(struct fb *fb, const char *src, const char *dst, uint8_t nxt,
        uint8_t tclass, uint32_t label, uint8_t hlim)
{
    size_t ofs = fb->len;
    struct in6_addr a;

    fb_be32(fb, (6u << 28) | ((uint32_t)tclass << 20) | label);
    fb_be16(fb, 0); /* Payload length: fb_fix_ip_len(). */
    fb_u8(fb, nxt);
    fb_u8(fb, hlim);
    a = ip6(src);
    fb_put(fb, &a, sizeof a);
    a = ip6(dst);
    fb_put(fb, &a, sizeof a);
    return ofs;
}

/* Sets the IPv4 total length or IPv6 payload length of the header at 'ofs'
 * to cover the rest of the frame. */
static void
fb_fix_ip_len(struct fb *fb, size_t ofs)
{
    if (fb->buf[ofs] >> 4 == 4) {
        fb_patch_be16(fb, ofs + 2, (uint16_t)(fb->len - ofs));
    } else {
        fb_patch_be16(fb, ofs + 4, (uint16_t)(fb->len - ofs - 40));
    }
}

/* Hop-by-hop, routing or destination options header of 'len' bytes. */
static void
fb_ipv6_ext(struct fb *fb, uint8_t nxt, size_t len)
{
    assert_int_equal(len % 8, 0);
    fb_u8(fb, nxt);
    fb_u8(fb, (uint8_t)(len / 8 - 1));
    fb_zeros(fb, len - 2); /* Pad1 options. */
}

static void
fb_ipv6_frag(struct fb *fb, uint8_t nxt, uint16_t offset8, bool more)
{
    fb_u8(fb, nxt);
    fb_u8(fb, 0);
    fb_be16(fb, (uint16_t)(offset8 << 3) | (more ? 1 : 0));
    fb_be32(fb, 0xabcd);
}

static void
fb_tcp(struct fb *fb, uint16_t sport, uint16_t dport, uint16_t flags,
       size_t opts_len)
{
    size_t hdr_len = TCP_HEADER_LEN + opts_len;

    assert_int_equal(opts_len % 4, 0);
    fb_be16(fb, sport);
    fb_be16(fb, dport);
    fb_be32(fb, 1000);
    fb_be32(fb, 2000);
    fb_be16(fb, (uint16_t)((hdr_len / 4) << 12) | flags);
    fb_be16(fb, 65535);
    fb_be32(fb, 0);
    for (size_t i = 0; i < opts_len; i++) {
        fb_u8(fb, 1); /* NOP. */
    }
}

static void
fb_udp(struct fb *fb, uint16_t sport, uint16_t dport)
{
    fb_be16(fb, sport);
    fb_be16(fb, dport);
    fb_be16(fb, UDP_HEADER_LEN);
    fb_be16(fb, 0);
}

static void
fb_sctp(struct fb *fb, uint16_t sport, uint16_t dport)
{
    fb_be16(fb, sport);
    fb_be16(fb, dport);
    fb_be32(fb, 0xdeadbeef);
    fb_be32(fb, 0);
}

/* ICMP, ICMPv6 or IGMP: type, code, checksum and 4 more bytes. */
static void
fb_icmp(struct fb *fb, uint8_t type, uint8_t code)
{
    fb_u8(fb, type);
    fb_u8(fb, code);
    fb_be16(fb, 0);
    fb_be32(fb, 0x00010002);
}

static void
fb_nd(struct fb *fb, uint8_t type, const char *target)
{
    struct in6_addr t = ip6(target);

    fb_u8(fb, type);
    fb_u8(fb, 0);
    fb_be16(fb, 0);
    fb_be32(fb, type == ND_NEIGHBOR_ADVERT ? 0x60000000 : 0);
    fb_put(fb, &t, sizeof t);
}

static void
fb_nd_lla(struct fb *fb, uint8_t opt_type, struct eth_addr mac)
{
    fb_u8(fb, opt_type);
    fb_u8(fb, 1);
    fb_put(fb, mac.ea, ETH_ADDR_LEN);
}

static void
fb_arp(struct fb *fb, uint16_t hrd, uint16_t op, struct eth_addr sha,
       const char *spa, struct eth_addr tha, const char *tpa)
{
    be32 a;

    fb_be16(fb, hrd);
    fb_be16(fb, ETH_TYPE_IP);
    fb_u8(fb, ETH_ADDR_LEN);
    fb_u8(fb, 4);
    fb_be16(fb, op);
    fb_put(fb, sha.ea, ETH_ADDR_LEN);
    a = ip4(spa);
    fb_put(fb, &a, 4);
    fb_put(fb, tha.ea, ETH_ADDR_LEN);
    a = ip4(tpa);
    fb_put(fb, &a, 4);
}

/* ---- Expected flows and counters --------------------------------------- */

static void
expect_l2(struct flow *exp, struct eth_addr dst, struct eth_addr src,
          uint16_t dl_type)
{
    memset(exp, 0, sizeof *exp);
    exp->in_port = IN_PORT;
    exp->dl_dst = dst;
    exp->dl_src = src;
    exp->dl_type = htons(dl_type);
}

static void
expect_ipv4(struct flow *exp, const char *src, const char *dst, uint8_t proto,
            uint8_t tos, uint8_t ttl, uint8_t frag)
{
    exp->nw_src = ip4(src);
    exp->nw_dst = ip4(dst);
    exp->nw_proto = proto;
    exp->nw_tos = tos;
    exp->nw_ttl = ttl;
    exp->nw_frag = frag;
}

static void
expect_ipv6(struct flow *exp, const char *src, const char *dst, uint8_t proto,
            uint8_t tclass, uint32_t label, uint8_t hlim, uint8_t frag)
{
    exp->ipv6_src = ip6(src);
    exp->ipv6_dst = ip6(dst);
    exp->nw_proto = proto;
    exp->nw_tos = tclass;
    exp->ipv6_label = htonl(label);
    exp->nw_ttl = hlim;
    exp->nw_frag = frag;
}

static void
expect_ports(struct flow *exp, uint16_t src, uint16_t dst)
{
    exp->tp_src = htons(src);
    exp->tp_dst = htons(dst);
}

/* Length of the truncated copy being checked, for failure messages, or -1
 * outside the truncation tests. */
static long trunc_len = -1;

static void
print_trunc_context(void)
{
    if (trunc_len >= 0) {
        print_error("(frame truncated to %ld bytes)\n", trunc_len);
    }
}

/* Fails, showing every word that differs, unless 'got' equals 'exp'. */
static void
assert_flow_equal(const struct flow *got, const struct flow *exp)
{
    if (memcmp(got, exp, sizeof *got)) {
        for (size_t i = 0; i < FLOW_U64S; i++) {
            uint64_t g = flow_u64s(got)[i], e = flow_u64s(exp)[i];

            if (g != e) {
                print_error("flow word %zu (byte %zu): got %016llx, "
                            "expected %016llx\n",
                            i, i * 8, (unsigned long long)g,
                            (unsigned long long)e);
            }
        }
        print_trunc_context();
        fail_msg("flows differ");
    }
    assert_true(flow_zero_padding(got));
}

/* A snapshot of every parse_* coverage counter. */
struct parse_counters {
    size_t n;
    char names[64][48];
    uint64_t values[64];
};

static void
snapshot_cb(const char *name, uint64_t value, void *aux)
{
    struct parse_counters *s = aux;

    if (!strncmp(name, "parse_", 6)) {
        assert_true(s->n < ARRAY_SIZE(s->values));
        snprintf(s->names[s->n], sizeof s->names[s->n], "%s", name);
        s->values[s->n++] = value;
    }
}

static void
snapshot_counters(struct parse_counters *s)
{
    s->n = 0;
    coverage_for_each(snapshot_cb, s);
}

/* Asserts that since 'before' the parse_* counter 'name' (NULL: none) went
 * up by exactly one and no other parse_* counter moved. */
static void
assert_counter_bumped(const struct parse_counters *before, const char *name)
{
    struct parse_counters after;
    bool found = name == NULL;

    snapshot_counters(&after);
    assert_int_equal(after.n, before->n);
    for (size_t i = 0; i < after.n; i++) {
        uint64_t delta = after.values[i] - before->values[i];

        assert_string_equal(after.names[i], before->names[i]);
        if (name && !strcmp(after.names[i], name)) {
            found = true;
            if (delta != 1) {
                print_trunc_context();
                fail_msg("counter %s went up by %llu, expected 1", name,
                         (unsigned long long)delta);
            }
        } else if (delta) {
            print_trunc_context();
            fail_msg("counter %s went up by %llu, expected %s to move",
                     after.names[i], (unsigned long long)delta,
                     name ? name : "no counter");
        }
    }
    if (!found) {
        fail_msg("no counter named %s", name);
    }
}

/* Parses 'fb' from an exact-size heap copy (so that AddressSanitizer sees
 * any read past the end), checks the flow and that 'counter' (or none) was
 * bumped once, and returns the parse result. */
static enum packet_parse_error
parse_and_check(const uint8_t *frame, size_t len, const struct flow *exp,
                const char *counter)
{
    struct parse_counters before;
    enum packet_parse_error error;
    uint8_t *copy = malloc(len ? len : 1);
    struct flow got;

    assert_non_null(copy);
    memcpy(copy, frame, len);
    snapshot_counters(&before);
    error = packet_parse_bytes(copy, len, IN_PORT, &got);
    free(copy);
    assert_flow_equal(&got, exp);
    assert_counter_bumped(&before, counter);
    if (counter) {
        assert_string_equal(packet_parse_error_name(error), counter + 6);
    } else {
        assert_int_equal(error, PARSE_OK);
    }
    return error;
}

static void
check_fb(const struct fb *fb, const struct flow *exp, const char *counter)
{
    parse_and_check(fb->buf, fb->len, exp, counter);
}

/* ---- MPLS --------------------------------------------------------------- */

static void
test_mpls_frame_fills_outer_lse_and_stops_before_l3(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    /* Two labels over IPv4: only the outer entry is taken, no L3. */
    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_MPLS);
    fb_be32(&fb, (16 << MPLS_LABEL_SHIFT) | (5 << MPLS_TC_SHIFT) | 64);
    fb_be32(&fb, (17 << MPLS_LABEL_SHIFT) | MPLS_BOS_MASK | 63);
    l3 = fb_ipv4(&fb, "192.0.2.1", "198.51.100.7", IPPROTO_UDP_, 0, 9, 0, 0);
    fb_udp(&fb, 1, 2);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_MPLS);
    exp.mpls_lse = htonl((16 << MPLS_LABEL_SHIFT) | (5 << MPLS_TC_SHIFT) | 64);
    check_fb(&fb, &exp, NULL);
}

static void
test_multicast_mpls_behind_vlan_fills_lse(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, 7, ETH_TYPE_MPLS_MCAST);
    fb_be32(&fb, (0xfffffu << MPLS_LABEL_SHIFT) | MPLS_BOS_MASK | 1);
    fb_zeros(&fb, 20);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_MPLS_MCAST);
    exp.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
    exp.vlans[0].tci = htons(VLAN_CFI | 7);
    exp.mpls_lse = htonl((0xfffffu << MPLS_LABEL_SHIFT) | MPLS_BOS_MASK | 1);
    check_fb(&fb, &exp, NULL);
}

static void
test_truncated_mpls_entry_leaves_lse_zero_and_counts(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_MPLS);
    fb_be16(&fb, 0x1234);
    fb_u8(&fb, 0x56);
    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_MPLS);
    check_fb(&fb, &exp, "parse_truncated_mpls");
}

/* ---- L2 ----------------------------------------------------------------- */

static void
test_ethernet_ii_with_unknown_type_fills_only_l2(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, 0x88cc); /* LLDP. */
    fb_zeros(&fb, 46);
    expect_l2(&exp, MAC_A, MAC_B, 0x88cc);
    check_fb(&fb, &exp, NULL);
}

static void
test_8023_with_snap_takes_the_snap_ethertype(void **state)
{
    (void)state;
    static const uint8_t snap[] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, 0); /* Length, below. */
    fb_put(&fb, snap, sizeof snap);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0, 0);
    fb_udp(&fb, 1234, 53);
    fb_fix_ip_len(&fb, l3);
    fb_patch_be16(&fb, 12, (uint16_t)(fb.len - ETH_HEADER_LEN));

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0);
    expect_ports(&exp, 1234, 53);
    check_fb(&fb, &exp, NULL);
}

static void
test_8023_without_snap_has_dl_type_none(void **state)
{
    (void)state;
    static const uint8_t stp_llc[] = {0x42, 0x42, 0x03, 0, 0, 0, 0, 0};
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, 38);
    fb_put(&fb, stp_llc, sizeof stp_llc);
    fb_zeros(&fb, 30);
    expect_l2(&exp, MAC_A, MAC_B, FLOW_DL_TYPE_NONE);
    check_fb(&fb, &exp, NULL);
}

static void
test_8023_snap_with_nonzero_oui_has_dl_type_none(void **state)
{
    (void)state;
    static const uint8_t snap[] = {0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00};
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, 40); /* Cisco OUI: CDP. */
    fb_put(&fb, snap, sizeof snap);
    fb_zeros(&fb, 32);
    expect_l2(&exp, MAC_A, MAC_B, FLOW_DL_TYPE_NONE);
    check_fb(&fb, &exp, NULL);
}

static void
test_8023_frame_without_llc_header_is_counted(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, 2);
    fb_u8(&fb, 0x42);
    fb_u8(&fb, 0x42);
    expect_l2(&exp, MAC_A, MAC_B, FLOW_DL_TYPE_NONE);
    check_fb(&fb, &exp, "parse_truncated_llc");
}

static void
test_single_8021q_tag_fills_outer_vlan(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, (5 << VLAN_PCP_SHIFT) | 100, ETH_TYPE_IP);
    l3 =
        fb_ipv4(&fb, "192.0.2.1", "198.51.100.7", IPPROTO_TCP_, 0x10, 3, 0, 0);
    fb_tcp(&fb, 40000, 443, TCP_SYN, 0);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    exp.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
    exp.vlans[0].tci = htons((5 << VLAN_PCP_SHIFT) | VLAN_CFI | 100);
    expect_ipv4(&exp, "192.0.2.1", "198.51.100.7", IPPROTO_TCP_, 0x10, 3, 0);
    expect_ports(&exp, 40000, 443);
    exp.tcp_flags = htons(TCP_SYN);
    check_fb(&fb, &exp, NULL);
}

static void
test_priority_tag_with_vid_0_is_still_a_tag(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, 3 << VLAN_PCP_SHIFT, 0x88cc);
    fb_zeros(&fb, 42);
    expect_l2(&exp, MAC_A, MAC_B, 0x88cc);
    exp.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
    exp.vlans[0].tci = htons((3 << VLAN_PCP_SHIFT) | VLAN_CFI);
    check_fb(&fb, &exp, NULL);
    assert_int_equal(flow_n_vlans(&exp), 1);
}

static void
test_qinq_8021ad_outer_and_8021q_inner_fill_both_vlans(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021AD);
    fb_vlan(&fb, 200, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, (7 << VLAN_PCP_SHIFT) | 4095, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.1.1.1", "10.2.2.2", IPPROTO_UDP_, 0, 64, 0, 0);
    fb_udp(&fb, 67, 68);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    exp.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021AD);
    exp.vlans[0].tci = htons(VLAN_CFI | 200);
    exp.vlans[1].tpid = htons(ETH_TYPE_VLAN_8021Q);
    exp.vlans[1].tci = htons((7 << VLAN_PCP_SHIFT) | VLAN_CFI | 4095);
    expect_ipv4(&exp, "10.1.1.1", "10.2.2.2", IPPROTO_UDP_, 0, 64, 0);
    expect_ports(&exp, 67, 68);
    check_fb(&fb, &exp, NULL);
    assert_int_equal(flow_n_vlans(&exp), 2);
}

static void
test_double_tags_are_accepted_in_either_tpid_order(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, 10, ETH_TYPE_VLAN_8021AD);
    fb_vlan(&fb, 20, 0x88cc);
    fb_zeros(&fb, 40);

    expect_l2(&exp, MAC_A, MAC_B, 0x88cc);
    exp.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
    exp.vlans[0].tci = htons(VLAN_CFI | 10);
    exp.vlans[1].tpid = htons(ETH_TYPE_VLAN_8021AD);
    exp.vlans[1].tci = htons(VLAN_CFI | 20);
    check_fb(&fb, &exp, NULL);
}

static void
test_third_vlan_tag_stays_in_payload_as_dl_type(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021AD);
    fb_vlan(&fb, 1, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, 2, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, 3, ETH_TYPE_IP);
    fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0, 0);
    fb_udp(&fb, 1, 2);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_VLAN_8021Q);
    exp.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021AD);
    exp.vlans[0].tci = htons(VLAN_CFI | 1);
    exp.vlans[1].tpid = htons(ETH_TYPE_VLAN_8021Q);
    exp.vlans[1].tci = htons(VLAN_CFI | 2);
    check_fb(&fb, &exp, "parse_vlan_limit");
}

/* ---- ARP ---------------------------------------------------------------- */

static void
test_arp_request_fills_spa_tpa_sha_tha_and_opcode(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, ETH_ADDR_BROADCAST, MAC_B, ETH_TYPE_ARP);
    fb_arp(&fb, ARP_HRD_ETHERNET, ARP_OP_REQUEST, MAC_B, "10.0.0.1",
           ETH_ADDR_ZERO, "10.0.0.254");
    fb_zeros(&fb, 18); /* Ethernet padding. */

    expect_l2(&exp, ETH_ADDR_BROADCAST, MAC_B, ETH_TYPE_ARP);
    exp.nw_src = ip4("10.0.0.1");
    exp.nw_dst = ip4("10.0.0.254");
    exp.nw_proto = ARP_OP_REQUEST;
    exp.arp_sha = MAC_B;
    check_fb(&fb, &exp, NULL);
}

static void
test_arp_reply_fills_both_hardware_addresses(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_B, MAC_A, ETH_TYPE_ARP);
    fb_arp(&fb, ARP_HRD_ETHERNET, ARP_OP_REPLY, MAC_A, "10.0.0.254", MAC_B,
           "10.0.0.1");

    expect_l2(&exp, MAC_B, MAC_A, ETH_TYPE_ARP);
    exp.nw_src = ip4("10.0.0.254");
    exp.nw_dst = ip4("10.0.0.1");
    exp.nw_proto = ARP_OP_REPLY;
    exp.arp_sha = MAC_A;
    exp.arp_tha = MAC_B;
    check_fb(&fb, &exp, NULL);
}

static void
test_rarp_is_parsed_like_arp(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, ETH_ADDR_BROADCAST, MAC_C, ETH_TYPE_RARP);
    fb_arp(&fb, ARP_HRD_ETHERNET, 3, MAC_C, "0.0.0.0", MAC_C, "0.0.0.0");

    expect_l2(&exp, ETH_ADDR_BROADCAST, MAC_C, ETH_TYPE_RARP);
    exp.nw_proto = 3;
    exp.arp_sha = MAC_C;
    exp.arp_tha = MAC_C;
    check_fb(&fb, &exp, NULL);
}

static void
test_arp_opcode_above_255_leaves_nw_proto_zero(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_B, MAC_A, ETH_TYPE_ARP);
    fb_arp(&fb, ARP_HRD_ETHERNET, 0x0101, MAC_A, "1.2.3.4", MAC_B, "5.6.7.8");

    expect_l2(&exp, MAC_B, MAC_A, ETH_TYPE_ARP);
    exp.nw_src = ip4("1.2.3.4");
    exp.nw_dst = ip4("5.6.7.8");
    exp.arp_sha = MAC_A;
    exp.arp_tha = MAC_B;
    check_fb(&fb, &exp, "parse_arp_op_too_big");
}

static void
test_arp_for_other_hardware_keeps_only_l2(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;

    fb_eth(&fb, MAC_B, MAC_A, ETH_TYPE_ARP);
    fb_arp(&fb, 6 /* IEEE 802 */, ARP_OP_REQUEST, MAC_A, "1.2.3.4", MAC_B,
           "5.6.7.8");
    expect_l2(&exp, MAC_B, MAC_A, ETH_TYPE_ARP);
    check_fb(&fb, &exp, "parse_arp_not_eth_ip");
}

/* ---- IPv4 --------------------------------------------------------------- */

static void
test_ipv4_options_are_skipped_using_ihl(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "172.16.0.1", "172.16.0.2", IPPROTO_TCP_, 0xb9, 128, 0,
                 12);
    fb_tcp(&fb, 22, 50000, TCP_ACK | TCP_PSH, 12);
    fb_zeros(&fb, 10);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "172.16.0.1", "172.16.0.2", IPPROTO_TCP_, 0xb9, 128, 0);
    expect_ports(&exp, 22, 50000);
    exp.tcp_flags = htons(TCP_ACK | TCP_PSH);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv4_first_fragment_keeps_l4_fields(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.9.8.7", "10.6.5.4", IPPROTO_UDP_, 0, 64,
                 IP_MORE_FRAGMENTS, 0);
    fb_udp(&fb, 5000, 6000);
    fb_zeros(&fb, 64);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.9.8.7", "10.6.5.4", IPPROTO_UDP_, 0, 64,
                FLOW_NW_FRAG_ANY);
    expect_ports(&exp, 5000, 6000);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv4_later_fragment_has_no_l4_fields(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    /* The last fragment: offset 185 * 8, no more-fragments bit.  Its
     * payload starts with what looks like ports; they must not be read. */
    l3 = fb_ipv4(&fb, "10.9.8.7", "10.6.5.4", IPPROTO_UDP_, 0, 64, 185, 0);
    fb_udp(&fb, 5000, 6000);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.9.8.7", "10.6.5.4", IPPROTO_UDP_, 0, 64,
                FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv4_dont_fragment_bit_is_not_a_fragment(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_SCTP_, 0, 1,
                 IP_DONT_FRAGMENT, 0);
    fb_sctp(&fb, 2905, 2906);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_SCTP_, 0, 1, 0);
    expect_ports(&exp, 2905, 2906);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv4_ethernet_padding_is_not_parsed_as_l4(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    /* A 7-byte UDP "header" inside the IP packet, then Ethernet padding up
     * to the 60-byte minimum: the padding must not complete the header. */
    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0, 0);
    fb_udp(&fb, 1, 2);
    fb.len--;
    fb_fix_ip_len(&fb, l3);
    fb_zeros(&fb, ETH_TOTAL_MIN - fb.len);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0);
    check_fb(&fb, &exp, "parse_truncated_udp");
}

static void
test_ipv4_bad_lengths_stop_at_l2(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0, 0);
    fb_udp(&fb, 1, 2);
    fb_fix_ip_len(&fb, l3);
    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);

    fb.buf[l3] = 0x44; /* IHL 4. */
    check_fb(&fb, &exp, "parse_ip_bad_ihl");
    fb.buf[l3] = 0x4f; /* IHL 15: 60 bytes, more than the frame. */
    check_fb(&fb, &exp, "parse_truncated_ip_options");
    fb.buf[l3] = 0x45;
    fb_patch_be16(&fb, l3 + 2, 19);
    check_fb(&fb, &exp, "parse_ip_tot_len_too_small");
    fb.buf[l3] = 0x46; /* 4 bytes of options: the UDP ports. */
    fb_patch_be16(&fb, l3 + 2, 22);
    check_fb(&fb, &exp, "parse_ip_tot_len_too_small");
    fb.buf[l3] = 0x45;
    fb_patch_be16(&fb, l3 + 2, (uint16_t)(fb.len - l3 + 1));
    check_fb(&fb, &exp, "parse_ip_tot_len_too_big");
}

static void
test_ipv4_bad_version_is_parsed_anyway_but_counted(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0, 0);
    fb_udp(&fb, 1, 2);
    fb_fix_ip_len(&fb, l3);
    fb.buf[l3] = 0x65;

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0);
    expect_ports(&exp, 1, 2);
    check_fb(&fb, &exp, "parse_ip_bad_version");
}

/* ---- IPv6 --------------------------------------------------------------- */

static void
test_ipv6_extension_headers_are_walked_to_tcp(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "2001:db8::1", "2001:db8::2", IPPROTO_HOPOPTS_, 0xe1,
                 0xabcde, 64);
    fb_ipv6_ext(&fb, IPPROTO_ROUTING_, 8);
    fb_ipv6_ext(&fb, IPPROTO_FRAGMENT_, 24);
    fb_ipv6_frag(&fb, IPPROTO_DSTOPTS_, 0, true);
    fb_ipv6_ext(&fb, IPPROTO_TCP_, 16);
    fb_tcp(&fb, 1111, 2222, TCP_SYN | TCP_ECE | TCP_CWR, 0);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "2001:db8::1", "2001:db8::2", IPPROTO_TCP_, 0xe1,
                0xabcde, 64, FLOW_NW_FRAG_ANY);
    expect_ports(&exp, 1111, 2222);
    exp.tcp_flags = htons(TCP_SYN | TCP_ECE | TCP_CWR);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv6_later_fragment_has_nw_proto_44_and_no_l4(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "ff02::1", IPPROTO_FRAGMENT_, 0, 0, 1);
    fb_ipv6_frag(&fb, IPPROTO_UDP_, 100, false);
    fb_udp(&fb, 7, 9);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::1", "ff02::1", IPPROTO_FRAGMENT_, 0, 0, 1,
                FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv6_atomic_fragment_is_not_a_fragment(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "fe80::2", IPPROTO_FRAGMENT_, 0, 0, 1);
    fb_ipv6_frag(&fb, IPPROTO_UDP_, 0, false);
    fb_udp(&fb, 7, 9);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::1", "fe80::2", IPPROTO_UDP_, 0, 0, 1, 0);
    expect_ports(&exp, 7, 9);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv6_ah_is_skipped_and_esp_ends_the_chain(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "2001:db8::a", "2001:db8::b", IPPROTO_AH_, 0, 1, 9);
    /* AH with length 4: (4 + 2) * 4 = 24 bytes. */
    fb_u8(&fb, IPPROTO_ESP_);
    fb_u8(&fb, 4);
    fb_zeros(&fb, 22);
    fb_be32(&fb, 0x1000); /* ESP SPI, then encrypted data. */
    fb_zeros(&fb, 20);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "2001:db8::a", "2001:db8::b", IPPROTO_ESP_, 0, 1, 9, 0);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv6_ah_length_counts_4_byte_units(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "2001:db8::a", "2001:db8::b", IPPROTO_AH_, 0, 1, 9);
    fb_u8(&fb, IPPROTO_UDP_);
    fb_u8(&fb, 4); /* (4 + 2) * 4 = 24 bytes, not (4 + 1) * 8. */
    fb_zeros(&fb, 22);
    fb_udp(&fb, 500, 4500);
    fb_be32(&fb, 0x01020304);
    fb_be32(&fb, 0x05060708);
    fb_zeros(&fb, 16);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "2001:db8::a", "2001:db8::b", IPPROTO_UDP_, 0, 1, 9, 0);
    expect_ports(&exp, 500, 4500);
    check_fb(&fb, &exp, NULL);
}

static void
test_ipv6_truncated_extension_header_keeps_only_addresses(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 =
        fb_ipv6(&fb, "2001:db8::1", "2001:db8::2", IPPROTO_DSTOPTS_, 3, 5, 64);
    fb_ipv6_ext(&fb, IPPROTO_UDP_, 16);
    fb.len -= 4;
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    exp.ipv6_src = ip6("2001:db8::1");
    exp.ipv6_dst = ip6("2001:db8::2");
    check_fb(&fb, &exp, "parse_truncated_ipv6_ext");
}

static void
test_ipv6_bad_lengths_stop_at_l2(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "::1", "::2", IPPROTO_UDP_, 0, 0, 64);
    fb_udp(&fb, 1, 2);
    fb_fix_ip_len(&fb, l3);
    fb_patch_be16(&fb, l3 + 4, UDP_HEADER_LEN + 1);
    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    check_fb(&fb, &exp, "parse_ipv6_plen_too_big");

    fb.len = l3 + 39;
    check_fb(&fb, &exp, "parse_truncated_ipv6");
}

static void
test_ipv6_bad_version_is_parsed_anyway_but_counted(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "::1", "::2", IPPROTO_UDP_, 0, 0, 64);
    fb_udp(&fb, 1, 2);
    fb_fix_ip_len(&fb, l3);
    fb.buf[l3] = 0x40;

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "::1", "::2", IPPROTO_UDP_, 0, 0, 64, 0);
    expect_ports(&exp, 1, 2);
    check_fb(&fb, &exp, "parse_ipv6_bad_version");
}

/* ---- L4 ----------------------------------------------------------------- */

static void
test_tcp_flags_include_ns_and_reserved_bits(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_TCP_, 0, 64, 0, 0);
    fb_tcp(&fb, 80, 8080, 0x0e00 | TCP_NS | TCP_FIN | TCP_URG, 0);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_TCP_, 0, 64, 0);
    expect_ports(&exp, 80, 8080);
    exp.tcp_flags = htons(0x0e00 | TCP_NS | TCP_FIN | TCP_URG);
    check_fb(&fb, &exp, NULL);
    assert_int_equal(ntohs(exp.tcp_flags) & ~TCP_FLAGS_MASK, 0);
}

static void
test_tcp_data_offset_below_5_leaves_l4_empty(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_TCP_, 0, 64, 0, 0);
    fb_tcp(&fb, 80, 8080, TCP_SYN, 0);
    fb_fix_ip_len(&fb, l3);
    fb.buf[l3 + 20 + 12] = 4 << 4;

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_TCP_, 0, 64, 0);
    check_fb(&fb, &exp, "parse_tcp_bad_offset");
}

static void
test_udp_over_ipv6_fills_ports(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "2001:db8::53", "2001:db8::99", IPPROTO_UDP_, 0, 0, 255);
    fb_udp(&fb, 53, 33333);
    fb_zeros(&fb, 12);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "2001:db8::53", "2001:db8::99", IPPROTO_UDP_, 0, 0, 255,
                0);
    expect_ports(&exp, 53, 33333);
    check_fb(&fb, &exp, NULL);
}

static void
test_sctp_fills_ports(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_SCTP_, 0, 64, 0, 0);
    fb_sctp(&fb, 36412, 38412);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_SCTP_, 0, 64, 0);
    expect_ports(&exp, 36412, 38412);
    check_fb(&fb, &exp, NULL);

    fb.len--;
    fb_fix_ip_len(&fb, l3);
    expect_ports(&exp, 0, 0);
    check_fb(&fb, &exp, "parse_truncated_sctp");
}

static void
test_icmp_type_and_code_go_in_tp_src_and_tp_dst(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP_, 0, 64, 0, 0);
    fb_icmp(&fb, 3, 13); /* Destination unreachable, prohibited. */
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP_, 0, 64, 0);
    expect_ports(&exp, 3, 13);
    check_fb(&fb, &exp, NULL);
}

static void
test_igmp_type_and_code_go_in_tp_src_and_tp_dst(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "224.0.0.1", IPPROTO_IGMP_, 0, 1, 0, 0);
    fb_icmp(&fb, 0x11, 100); /* Membership query. */
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "224.0.0.1", IPPROTO_IGMP_, 0, 1, 0);
    expect_ports(&exp, 0x11, 100);
    check_fb(&fb, &exp, NULL);
}

static void
test_icmpv6_echo_request_fills_type_and_code(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6_, 0, 0, 64);
    fb_icmp(&fb, 128, 0);
    fb_zeros(&fb, 56);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6_, 0, 0, 64,
                0);
    expect_ports(&exp, 128, 0);
    check_fb(&fb, &exp, NULL);
}

static void
test_nd_solicitation_fills_target_and_sll(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "ff02::1:ff00:2", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::1", "ff02::1:ff00:2", IPPROTO_ICMPV6_, 0, 0, 255,
                0);
    expect_ports(&exp, ND_NEIGHBOR_SOLICIT, 0);
    exp.nd_target = ip6("fe80::2");
    exp.arp_sha = MAC_C;
    check_fb(&fb, &exp, NULL);
}

static void
test_nd_advertisement_fills_target_and_tll(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_B, MAC_A, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::2", "fe80::1", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_ADVERT, "fe80::2");
    fb_u8(&fb, 5); /* MTU option: skipped. */
    fb_u8(&fb, 1);
    fb_zeros(&fb, 6);
    fb_nd_lla(&fb, ND_OPT_TARGET_LINKADDR, MAC_D);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_B, MAC_A, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::2", "fe80::1", IPPROTO_ICMPV6_, 0, 0, 255, 0);
    expect_ports(&exp, ND_NEIGHBOR_ADVERT, 0);
    exp.nd_target = ip6("fe80::2");
    exp.arp_tha = MAC_D;
    check_fb(&fb, &exp, NULL);
}

static void
test_nd_repeated_sll_option_voids_all_nd_fields(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "fe80::2", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_TARGET_LINKADDR, MAC_D);
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_D);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::1", "fe80::2", IPPROTO_ICMPV6_, 0, 0, 255, 0);
    expect_ports(&exp, ND_NEIGHBOR_SOLICIT, 0);
    check_fb(&fb, &exp, "parse_nd_duplicate_option");
}

static void
test_nd_zero_length_option_keeps_fields_found_before_it(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "fe80::2", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_u8(&fb, ND_OPT_TARGET_LINKADDR);
    fb_u8(&fb, 0); /* Length 0: cannot be walked past. */
    fb_put(&fb, MAC_D.ea, ETH_ADDR_LEN);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::1", "fe80::2", IPPROTO_ICMPV6_, 0, 0, 255, 0);
    expect_ports(&exp, ND_NEIGHBOR_SOLICIT, 0);
    exp.nd_target = ip6("fe80::2");
    exp.arp_sha = MAC_C;
    check_fb(&fb, &exp, "parse_nd_bad_option_len");
}

static void
test_nd_with_nonzero_code_is_plain_icmpv6(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "fe80::2", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_fix_ip_len(&fb, l3);
    fb.buf[l3 + 40 + 1] = 1;

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&exp, "fe80::1", "fe80::2", IPPROTO_ICMPV6_, 0, 0, 255, 0);
    expect_ports(&exp, ND_NEIGHBOR_SOLICIT, 1);
    check_fb(&fb, &exp, NULL);
}

static void
test_nd_fields_are_not_parsed_from_icmpv6_in_ipv4(void **state)
{
    (void)state;
    struct fb fb;
    struct flow exp;
    size_t l3;

    /* Deliberately unlike OVS, which fills nd_target here too. */
    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_ICMPV6_, 0, 64, 0, 0);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&exp, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(&exp, "10.0.0.1", "10.0.0.2", IPPROTO_ICMPV6_, 0, 64, 0);
    expect_ports(&exp, ND_NEIGHBOR_SOLICIT, 0);
    check_fb(&fb, &exp, NULL);
}

/* ---- Truncation at every length ---------------------------------------- */

/* How much of a frame a truncated copy still holds, in parse order. */
enum layer {
    LAYER_NONE,      /* Nothing: shorter than an Ethernet header. */
    LAYER_L2_TPID,   /* Ethernet only; the VLAN tag is cut: dl_type = TPID. */
    LAYER_L2,        /* Ethernet (and VLAN) with the real dl_type. */
    LAYER_L3_ADDRS,  /* IPv6 addresses only (extension header cut). */
    LAYER_L3,        /* Whole L3 header. */
    LAYER_L4_TYPE,   /* ICMPv6 type and code, ND body cut. */
    LAYER_L4_TARGET, /* ND target, options missing or cut. */
    LAYER_FULL,      /* Everything. */
};

/* The part of the full frame's flow 'full' that survives at 'layer'. */
static void
expect_layer(struct flow *exp, const struct flow *full, enum layer layer)
{
    *exp = *full;
    switch (layer) {
    case LAYER_NONE:
        memset(exp, 0, sizeof *exp);
        exp->in_port = IN_PORT;
        return;
    case LAYER_L2_TPID:
        exp->dl_type = full->vlans[0].tpid;
        memset(exp->vlans, 0, sizeof exp->vlans);
        /* Fall through. */
    case LAYER_L2:
        memset(&exp->nw_src, 0, sizeof *exp - offsetof(struct flow, nw_src));
        return;
    case LAYER_L3_ADDRS:
        memset(&exp->nw_src, 0, sizeof *exp - offsetof(struct flow, nw_src));
        exp->ipv6_src = full->ipv6_src;
        exp->ipv6_dst = full->ipv6_dst;
        return;
    case LAYER_L3:
        memset(&exp->nd_target, 0, sizeof exp->nd_target);
        exp->arp_sha = ETH_ADDR_ZERO;
        exp->arp_tha = ETH_ADDR_ZERO;
        exp->tp_src = exp->tp_dst = exp->tcp_flags = 0;
        return;
    case LAYER_L4_TYPE:
        memset(&exp->nd_target, 0, sizeof exp->nd_target);
        /* Fall through. */
    case LAYER_L4_TARGET:
        exp->arp_sha = ETH_ADDR_ZERO;
        exp->arp_tha = ETH_ADDR_ZERO;
        return;
    case LAYER_FULL:
        return;
    }
}

/* One expected outcome: frames of length < 'below' (and >= the previous
 * row's) parse to 'layer' and bump 'counter'. */
struct trunc_row {
    size_t below;
    enum layer layer;
    const char *counter;
};

/* Parses every prefix of 'fb' (lengths 0 to fb->len, each from its own
 * exact-size buffer) and checks it against 'rows'.  With 'fix_ip_len', the
 * IP length field at 'l3' is first rewritten to end where the frame does
 * (when the fixed header is there), so the cut lands inside the IP packet
 * instead of making its length field lie. */
static void
check_every_truncation(const struct fb *fb, const struct flow *full, size_t l3,
                       bool fix_ip_len, const struct trunc_row *rows,
                       size_t n_rows)
{
    size_t row = 0;

    for (size_t len = 0; len <= fb->len; len++) {
        struct fb cut = *fb;
        struct flow exp, got;
        struct dp_packet *pkt;
        enum packet_parse_error error;
        bool is_ipv6 = fb->buf[l3] >> 4 == 6;

        while (row < n_rows && len >= rows[row].below) {
            row++;
        }
        cut.len = len;
        if (fix_ip_len && len >= l3 + (is_ipv6 ? 40 : 20)
            && (is_ipv6 || len >= l3 + (fb->buf[l3] & 15) * 4)) {
            fb_fix_ip_len(&cut, l3);
        }
        expect_layer(&exp, full, row < n_rows ? rows[row].layer : LAYER_FULL);
        trunc_len = (long)len;
        error = parse_and_check(cut.buf, len, &exp,
                                row < n_rows ? rows[row].counter : NULL);

        /* The dp_packet path agrees and sets offsets to match. */
        pkt = dp_packet_new_from_bytes(cut.buf, len, 0);
        pkt->in_port = IN_PORT;
        assert_int_equal(packet_parse(pkt, &got), error);
        assert_flow_equal(&got, &exp);
        assert_true((pkt->l2_ofs == 0) == (len >= ETH_HEADER_LEN));
        assert_true((pkt->l4_ofs != DP_PACKET_OFS_NONE) == (exp.nw_ttl != 0));
        if (pkt->l3_ofs != DP_PACKET_OFS_NONE) {
            assert_true(pkt->l3_ofs <= len);
        }
        if (pkt->l4_ofs != DP_PACKET_OFS_NONE) {
            assert_true(pkt->l4_ofs <= len);
        }
        dp_packet_delete(pkt);
    }
    trunc_len = -1;
}

/* Ethernet, 802.1Q, IPv6, hop-by-hop (8), routing (16), fragment (first,
 * more), TCP with 12 bytes of options, 6 bytes of data. */
static size_t
build_tcp_vlan_ipv6(struct fb *fb, struct flow *full)
{
    size_t l3;

    fb_eth(fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021Q);
    fb_vlan(fb, 42, ETH_TYPE_IPV6);
    l3 = fb_ipv6(fb, "2001:db8::1", "2001:db8::2", IPPROTO_HOPOPTS_, 0x28, 7,
                 63);
    fb_ipv6_ext(fb, IPPROTO_ROUTING_, 8);
    fb_ipv6_ext(fb, IPPROTO_FRAGMENT_, 16);
    fb_ipv6_frag(fb, IPPROTO_TCP_, 0, true);
    fb_tcp(fb, 443, 51000, TCP_ACK | TCP_FIN, 12);
    fb_zeros(fb, 6);
    fb_fix_ip_len(fb, l3);
    assert_int_equal(l3, 18);
    assert_int_equal(fb->len, 128);

    expect_l2(full, MAC_A, MAC_B, ETH_TYPE_IPV6);
    full->vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
    full->vlans[0].tci = htons(VLAN_CFI | 42);
    expect_ipv6(full, "2001:db8::1", "2001:db8::2", IPPROTO_TCP_, 0x28, 7, 63,
                FLOW_NW_FRAG_ANY);
    expect_ports(full, 443, 51000);
    full->tcp_flags = htons(TCP_ACK | TCP_FIN);
    return l3;
}

static void
test_truncated_tcp_vlan_ipv6_snapshot_stops_at_l2(void **state)
{
    (void)state;
    /* Cut as a short snap length would: the payload length then claims
     * more than the frame holds, so (as in OVS) no L3 field is trusted. */
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {18, LAYER_L2_TPID, "parse_truncated_vlan"},
        {58, LAYER_L2, "parse_truncated_ipv6"},
        {128, LAYER_L2, "parse_ipv6_plen_too_big"},
    };
    struct flow full;
    struct fb fb;
    size_t l3 = build_tcp_vlan_ipv6(&fb, &full);

    check_every_truncation(&fb, &full, l3, false, rows, ARRAY_SIZE(rows));
}

static void
test_truncated_tcp_header_keeps_l3_fields(void **state)
{
    (void)state;
    /* Cut with the payload length rewritten to match: each layer that is
     * complete is kept. */
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {18, LAYER_L2_TPID, "parse_truncated_vlan"},
        {58, LAYER_L2, "parse_truncated_ipv6"},
        {90, LAYER_L3_ADDRS, "parse_truncated_ipv6_ext"},
        {110, LAYER_L3, "parse_truncated_tcp"},
        {122, LAYER_L3, "parse_truncated_tcp_options"},
    };
    struct flow full;
    struct fb fb;
    size_t l3 = build_tcp_vlan_ipv6(&fb, &full);

    check_every_truncation(&fb, &full, l3, true, rows, ARRAY_SIZE(rows));
}

/* Ethernet, IPv4 with 8 bytes of options, TCP with 4, 4 bytes of data. */
static size_t
build_tcp_ipv4(struct fb *fb, struct flow *full)
{
    size_t l3;

    fb_eth(fb, MAC_A, MAC_B, ETH_TYPE_IP);
    l3 = fb_ipv4(fb, "198.18.0.1", "198.18.0.2", IPPROTO_TCP_, 0x2e, 17, 0, 8);
    fb_tcp(fb, 3306, 41000, TCP_PSH | TCP_ACK, 4);
    fb_zeros(fb, 4);
    fb_fix_ip_len(fb, l3);
    assert_int_equal(fb->len, 70);

    expect_l2(full, MAC_A, MAC_B, ETH_TYPE_IP);
    expect_ipv4(full, "198.18.0.1", "198.18.0.2", IPPROTO_TCP_, 0x2e, 17, 0);
    expect_ports(full, 3306, 41000);
    full->tcp_flags = htons(TCP_PSH | TCP_ACK);
    return l3;
}

static void
test_truncated_tcp_ipv4_snapshot_stops_at_l2(void **state)
{
    (void)state;
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {34, LAYER_L2, "parse_truncated_ip"},
        {42, LAYER_L2, "parse_truncated_ip_options"},
        {70, LAYER_L2, "parse_ip_tot_len_too_big"},
    };
    struct flow full;
    struct fb fb;
    size_t l3 = build_tcp_ipv4(&fb, &full);

    check_every_truncation(&fb, &full, l3, false, rows, ARRAY_SIZE(rows));
}

static void
test_truncated_tcp_ipv4_keeps_every_complete_layer(void **state)
{
    (void)state;
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {34, LAYER_L2, "parse_truncated_ip"},
        {42, LAYER_L2, "parse_truncated_ip_options"},
        {62, LAYER_L3, "parse_truncated_tcp"},
        {66, LAYER_L3, "parse_truncated_tcp_options"},
    };
    struct flow full;
    struct fb fb;
    size_t l3 = build_tcp_ipv4(&fb, &full);

    check_every_truncation(&fb, &full, l3, true, rows, ARRAY_SIZE(rows));
}

static void
test_truncated_arp_keeps_only_l2(void **state)
{
    (void)state;
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {42, LAYER_L2, "parse_truncated_arp"},
    };
    struct flow full;
    struct fb fb;

    fb_eth(&fb, ETH_ADDR_BROADCAST, MAC_B, ETH_TYPE_ARP);
    fb_arp(&fb, ARP_HRD_ETHERNET, ARP_OP_REQUEST, MAC_B, "10.0.0.1", MAC_C,
           "10.0.0.254");
    expect_l2(&full, ETH_ADDR_BROADCAST, MAC_B, ETH_TYPE_ARP);
    full.nw_src = ip4("10.0.0.1");
    full.nw_dst = ip4("10.0.0.254");
    full.nw_proto = ARP_OP_REQUEST;
    full.arp_sha = MAC_B;
    full.arp_tha = MAC_C;

    check_every_truncation(&fb, &full, ETH_HEADER_LEN, false, rows,
                           ARRAY_SIZE(rows));
}

static void
test_truncated_nd_keeps_type_then_target_then_options(void **state)
{
    (void)state;
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {54, LAYER_L2, "parse_truncated_ipv6"},
        {62, LAYER_L3, "parse_truncated_icmpv6"},
        {78, LAYER_L4_TYPE, "parse_truncated_nd_target"},
        {79, LAYER_L4_TARGET, NULL},
        {86, LAYER_L4_TARGET, "parse_truncated_nd_option"},
    };
    struct flow full;
    struct fb fb;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "ff02::1:ff00:2", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_fix_ip_len(&fb, l3);
    assert_int_equal(fb.len, 86);

    expect_l2(&full, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&full, "fe80::1", "ff02::1:ff00:2", IPPROTO_ICMPV6_, 0, 0, 255,
                0);
    expect_ports(&full, ND_NEIGHBOR_SOLICIT, 0);
    full.nd_target = ip6("fe80::2");
    full.arp_sha = MAC_C;
    check_every_truncation(&fb, &full, l3, true, rows, ARRAY_SIZE(rows));
}

static void
test_truncated_nd_snapshot_stops_at_l2(void **state)
{
    (void)state;
    static const struct trunc_row rows[] = {
        {14, LAYER_NONE, "parse_truncated_eth"},
        {54, LAYER_L2, "parse_truncated_ipv6"},
        {86, LAYER_L2, "parse_ipv6_plen_too_big"},
    };
    struct flow full;
    struct fb fb;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_IPV6);
    l3 = fb_ipv6(&fb, "fe80::1", "ff02::1:ff00:2", IPPROTO_ICMPV6_, 0, 0, 255);
    fb_nd(&fb, ND_NEIGHBOR_SOLICIT, "fe80::2");
    fb_nd_lla(&fb, ND_OPT_SOURCE_LINKADDR, MAC_C);
    fb_fix_ip_len(&fb, l3);

    expect_l2(&full, MAC_A, MAC_B, ETH_TYPE_IPV6);
    expect_ipv6(&full, "fe80::1", "ff02::1:ff00:2", IPPROTO_ICMPV6_, 0, 0, 255,
                0);
    expect_ports(&full, ND_NEIGHBOR_SOLICIT, 0);
    full.nd_target = ip6("fe80::2");
    full.arp_sha = MAC_C;
    check_every_truncation(&fb, &full, l3, false, rows, ARRAY_SIZE(rows));
}

/* ---- Layer offsets and names ------------------------------------------- */

static void
test_parse_sets_layer_offsets_of_the_packet(void **state)
{
    (void)state;
    struct dp_packet *pkt;
    struct flow flow;
    struct fb fb;
    size_t l3;

    fb_eth(&fb, MAC_A, MAC_B, ETH_TYPE_VLAN_8021AD);
    fb_vlan(&fb, 1, ETH_TYPE_VLAN_8021Q);
    fb_vlan(&fb, 2, ETH_TYPE_IP);
    l3 = fb_ipv4(&fb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP_, 0, 64, 0, 4);
    fb_udp(&fb, 1, 2);
    fb_fix_ip_len(&fb, l3);
    fb_zeros(&fb, 10); /* Padding. */

    pkt = dp_packet_new_from_bytes(fb.buf, fb.len, 0);
    pkt->in_port = 3;
    assert_int_equal(packet_parse(pkt, &flow), PARSE_OK);
    assert_int_equal(flow.in_port, 3);
    assert_int_equal(pkt->l2_ofs, 0);
    assert_int_equal(pkt->l3_ofs, 22);
    assert_int_equal(pkt->l4_ofs, 22 + 24);
    assert_ptr_equal(dp_packet_l3(pkt), (uint8_t *)dp_packet_data(pkt) + 22);
    assert_int_equal(dp_packet_l4_size(pkt), UDP_HEADER_LEN + 10);
    assert_int_equal(dp_packet_l2_size(pkt), fb.len);

    /* Cut inside the UDP header: the total length now overshoots, so a
     * reparse keeps L3's offset but clears the stale L4 one. */
    dp_packet_set_size(pkt, 50);
    assert_int_equal(pkt->l4_ofs, 46);
    assert_int_equal(packet_parse(pkt, &flow), PARSE_IP_TOT_LEN_TOO_BIG);
    assert_int_equal(pkt->l3_ofs, 22);
    assert_int_equal(pkt->l4_ofs, DP_PACKET_OFS_NONE);
    dp_packet_delete(pkt);
}

static void
test_every_parse_error_has_a_distinct_counter_name(void **state)
{
    (void)state;

    assert_string_equal(packet_parse_error_name(PARSE_OK), "ok");
    for (int i = PARSE_OK + 1; i < PARSE_N_ERRORS; i++) {
        char counter[64];

        snprintf(counter, sizeof counter, "parse_%s",
                 packet_parse_error_name(i));
        assert_string_not_equal(packet_parse_error_name(i), "unknown");
        for (int j = PARSE_OK + 1; j < i; j++) {
            assert_string_not_equal(packet_parse_error_name(i),
                                    packet_parse_error_name(j));
        }
        /* Registered: coverage_for_each() lists it. */
        struct parse_counters all;
        bool found = false;

        snapshot_counters(&all);
        for (size_t k = 0; k < all.n; k++) {
            found |= !strcmp(all.names[k], counter);
        }
        assert_true(found);
    }
    assert_string_equal(packet_parse_error_name(PARSE_N_ERRORS), "unknown");
}

/* ---- Packet buffers ----------------------------------------------------- */

static void
test_new_packet_keeps_ip_header_aligned(void **state)
{
    (void)state;

    for (size_t headroom = 0; headroom < 200; headroom += 7) {
        struct dp_packet *pkt = dp_packet_new(headroom, 100);
        uintptr_t data = (uintptr_t)dp_packet_data(pkt);

        assert_true(dp_packet_headroom(pkt) >= DP_PACKET_HEADROOM);
        assert_true(dp_packet_headroom(pkt) >= headroom);
        assert_true(dp_packet_tailroom(pkt) >= 100);
        assert_int_equal((data + ETH_HEADER_LEN) % 4, 0);
        assert_int_equal(dp_packet_size(pkt), 0);
        assert_null(dp_packet_l2(pkt));
        assert_int_equal(dp_packet_l3_size(pkt), 0);
        dp_packet_delete(pkt);
    }
}

static void
test_push_vlan_tag_uses_headroom_without_moving_data(void **state)
{
    (void)state;
    static const uint8_t tag[VLAN_HEADER_LEN] = {0x81, 0x00, 0x00, 0x05};
    uint8_t frame[60];
    struct dp_packet *pkt;
    uint8_t *base, *l3;
    size_t headroom;

    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t)i;
    }
    pkt = dp_packet_new_from_bytes(frame, sizeof frame, 0);
    pkt->l2_ofs = 0;
    pkt->l3_ofs = 14;
    pkt->l4_ofs = 34;
    base = pkt->base;
    l3 = dp_packet_l3(pkt);
    headroom = dp_packet_headroom(pkt);

    /* Push 4 bytes in front and move the MACs, as push_vlan would. */
    uint8_t *p = dp_packet_push(pkt, tag, sizeof tag);
    memmove(p, p + VLAN_HEADER_LEN, 2 * ETH_ADDR_LEN);
    memcpy(p + 2 * ETH_ADDR_LEN, tag, sizeof tag);

    assert_ptr_equal(pkt->base, base);
    assert_int_equal(dp_packet_headroom(pkt), headroom - VLAN_HEADER_LEN);
    assert_int_equal(dp_packet_size(pkt), sizeof frame + VLAN_HEADER_LEN);
    assert_ptr_equal(dp_packet_l3(pkt), l3);
    assert_int_equal(pkt->l3_ofs, 18);
    assert_int_equal(pkt->l4_ofs, 38);
    assert_int_equal(pkt->l2_ofs, 4); /* Still at the old bytes. */
    assert_memory_equal(dp_packet_l3(pkt), frame + 14, sizeof frame - 14);
    dp_packet_delete(pkt);
}

static void
test_push_beyond_headroom_reallocates_and_keeps_alignment(void **state)
{
    (void)state;
    uint8_t frame[100], hdr[300];
    struct dp_packet *pkt;
    uintptr_t old_mod;

    memset(hdr, 0xee, sizeof hdr);
    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t)(i * 3);
    }
    pkt = dp_packet_new_from_bytes(frame, sizeof frame, 0);
    pkt->l3_ofs = 14;
    old_mod = (uintptr_t)dp_packet_l3(pkt) % 8;

    dp_packet_push(pkt, hdr, sizeof hdr);
    assert_int_equal(dp_packet_size(pkt), sizeof hdr + sizeof frame);
    assert_memory_equal(dp_packet_data(pkt), hdr, sizeof hdr);
    assert_memory_equal((uint8_t *)dp_packet_data(pkt) + sizeof hdr, frame,
                        sizeof frame);
    assert_int_equal(pkt->l3_ofs, sizeof hdr + 14);
    assert_int_equal((uintptr_t)dp_packet_l3(pkt) % 8, old_mod);
    assert_true(dp_packet_headroom(pkt) >= DP_PACKET_HEADROOM);
    dp_packet_delete(pkt);
}

static void
test_pull_drops_layers_that_were_pulled_off(void **state)
{
    (void)state;
    uint8_t frame[64] = {0};
    struct dp_packet *pkt = dp_packet_new_from_bytes(frame, sizeof frame, 0);
    uint8_t *data = dp_packet_data(pkt);

    pkt->l2_ofs = 0;
    pkt->l3_ofs = 14;
    pkt->l4_ofs = 34;
    assert_ptr_equal(dp_packet_pull(pkt, 14), data);
    assert_int_equal(pkt->l2_ofs, DP_PACKET_OFS_NONE);
    assert_int_equal(pkt->l3_ofs, 0);
    assert_int_equal(pkt->l4_ofs, 20);
    assert_int_equal(dp_packet_size(pkt), 50);
    assert_int_equal(dp_packet_l4_size(pkt), 30);

    assert_null(dp_packet_pull(pkt, 51));
    assert_int_equal(dp_packet_size(pkt), 50);
    assert_non_null(dp_packet_pull(pkt, 50));
    assert_int_equal(dp_packet_size(pkt), 0);
    assert_int_equal(pkt->l4_ofs, DP_PACKET_OFS_NONE);
    dp_packet_delete(pkt);
}

static void
test_put_grows_tailroom_and_set_size_truncates(void **state)
{
    (void)state;
    struct dp_packet *pkt = dp_packet_new(0, 4);
    uint8_t expect[1000];

    for (size_t i = 0; i < sizeof expect; i++) {
        uint8_t b = (uint8_t)(i * 7);

        expect[i] = b;
        dp_packet_put(pkt, &b, 1);
    }
    assert_int_equal(dp_packet_size(pkt), sizeof expect);
    assert_memory_equal(dp_packet_data(pkt), expect, sizeof expect);
    assert_int_equal(((uintptr_t)dp_packet_data(pkt) + ETH_HEADER_LEN) % 4, 0);

    pkt->l3_ofs = 14;
    pkt->l4_ofs = 500;
    dp_packet_set_size(pkt, 400);
    assert_int_equal(dp_packet_size(pkt), 400);
    assert_int_equal(pkt->l3_ofs, 14);
    assert_int_equal(pkt->l4_ofs, DP_PACKET_OFS_NONE);
    dp_packet_set_size(pkt, 3000);
    assert_int_equal(dp_packet_size(pkt), 3000);
    assert_memory_equal(dp_packet_data(pkt), expect, 400);
    dp_packet_delete(pkt);
}

static void
test_clone_copies_data_offsets_and_metadata(void **state)
{
    (void)state;
    uint8_t frame[80];
    struct dp_packet *pkt, *clone;

    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t)~i;
    }
    pkt = dp_packet_new_from_bytes(frame, sizeof frame, 100);
    pkt->in_port = 9;
    pkt->l3_ofs = 14;
    dp_packet_set_rss_hash(pkt, 0xfeedf00d);

    clone = dp_packet_clone(pkt);
    assert_ptr_not_equal(clone->base, pkt->base);
    assert_int_equal(dp_packet_headroom(clone), dp_packet_headroom(pkt));
    assert_memory_equal(dp_packet_data(clone), frame, sizeof frame);
    assert_int_equal(clone->in_port, 9);
    assert_int_equal(clone->l3_ofs, 14);
    assert_int_equal(clone->l4_ofs, DP_PACKET_OFS_NONE);
    assert_true(clone->rss_hash_valid);
    assert_int_equal(clone->rss_hash, 0xfeedf00d);

    /* They are independent. */
    ((uint8_t *)dp_packet_data(clone))[0] ^= 0xff;
    assert_int_equal(((uint8_t *)dp_packet_data(pkt))[0], frame[0]);
    dp_packet_clear(pkt);
    assert_int_equal(dp_packet_size(pkt), 0);
    assert_false(pkt->rss_hash_valid);
    assert_int_equal(pkt->l3_ofs, DP_PACKET_OFS_NONE);
    dp_packet_delete(pkt);
    dp_packet_delete(clone);
    dp_packet_delete(NULL);
}

static void
test_batch_refuses_a_packet_when_full(void **state)
{
    (void)state;
    struct dp_packet_batch batch;
    struct dp_packet *extra, *pkt;
    size_t n = 0;

    dp_packet_batch_init(&batch);
    assert_true(dp_packet_batch_is_empty(&batch));
    for (size_t i = 0; i < PACKET_BATCH_MAX; i++) {
        assert_false(dp_packet_batch_is_full(&batch));
        pkt = dp_packet_new(0, 0);
        pkt->in_port = (uint32_t)i;
        assert_true(dp_packet_batch_add(&batch, pkt));
    }
    assert_true(dp_packet_batch_is_full(&batch));
    assert_int_equal(dp_packet_batch_size(&batch), PACKET_BATCH_MAX);

    extra = dp_packet_new(0, 0);
    assert_false(dp_packet_batch_add(&batch, extra));
    assert_int_equal(dp_packet_batch_size(&batch), PACKET_BATCH_MAX);
    dp_packet_delete(extra);

    DP_PACKET_BATCH_FOR_EACH (i, pkt, &batch) {
        assert_int_equal(pkt->in_port, i);
        n++;
    }
    assert_int_equal(n, PACKET_BATCH_MAX);
    dp_packet_batch_delete_all(&batch);
    assert_true(dp_packet_batch_is_empty(&batch));
}

/* ---- External packets ---------------------------------------------------- */

/* A fake owner of external packets, as a port back end would be: four
 * fixed buffers ("frames") and, for each, a malloc'd struct that can be
 * given away to the heap world by a reallocation.  It records what the
 * packet module hands back. */
#define EXT_FRAMES 4
#define EXT_FRAME_SIZE 256
#define EXT_HEADROOM 32

struct ext_packet {
    struct dp_packet packet; /* First: the struct is freed as a packet. */
    unsigned int frame;
};

static uint8_t ext_frames[EXT_FRAMES][EXT_FRAME_SIZE];
static struct ext_packet *ext_structs[EXT_FRAMES];
static bool ext_out[EXT_FRAMES]; /* Frame held by a packet. */
static unsigned int ext_releases, ext_detaches;

static void
ext_release(struct dp_packet *pkt)
{
    struct ext_packet *xp = (struct ext_packet *)pkt;

    assert_true(xp->frame < EXT_FRAMES && ext_out[xp->frame]);
    assert_ptr_equal(ext_structs[xp->frame], xp);
    ext_out[xp->frame] = false;
    ext_releases++;
}

static void
ext_detach(struct dp_packet *pkt)
{
    struct ext_packet *xp = (struct ext_packet *)pkt;
    unsigned int frame = xp->frame;

    /* Called after the data moved: the packet is a heap packet already,
     * and its struct is no longer ours; the frame gets a new one. */
    assert_int_equal(pkt->source, DP_PACKET_SOURCE_HEAP);
    assert_true(frame < EXT_FRAMES && ext_out[frame]);
    ext_structs[frame] = calloc(1, sizeof *ext_structs[frame]);
    ext_structs[frame]->frame = frame;
    ext_out[frame] = false;
    ext_detaches++;
}

static const struct dp_packet_external_ops ext_ops = {
    .release = ext_release,
    .detach = ext_detach,
};

static int
ext_setup(void **state)
{
    (void)state;
    dp_packet_set_external_ops(&ext_ops);
    for (unsigned int i = 0; i < EXT_FRAMES; i++) {
        if (!ext_structs[i]) {
            ext_structs[i] = calloc(1, sizeof *ext_structs[i]);
            ext_structs[i]->frame = i;
        }
        ext_out[i] = false;
    }
    ext_releases = ext_detaches = 0;
    return 0;
}

static int
ext_teardown(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < EXT_FRAMES; i++) {
        assert_false(ext_out[i]); /* Every frame came back. */
        free(ext_structs[i]);
        ext_structs[i] = NULL;
    }
    return 0;
}

/* Hands out frame 'i' holding 'len' bytes of a pattern, as a port's
 * receive would. */
static struct dp_packet *
ext_packet(unsigned int i, size_t len)
{
    struct dp_packet *pkt = &ext_structs[i]->packet;

    assert_false(ext_out[i]);
    assert_true(EXT_HEADROOM + len <= EXT_FRAME_SIZE);
    ext_out[i] = true;
    pkt->base = ext_frames[i];
    pkt->allocated = EXT_FRAME_SIZE;
    pkt->data_ofs = EXT_HEADROOM;
    pkt->size = (uint32_t)len;
    pkt->source = DP_PACKET_SOURCE_EXTERNAL;
    pkt->in_port = IN_PORT;
    pkt->rss_hash_valid = false;
    dp_packet_reset_offsets(pkt);
    for (size_t j = 0; j < len; j++) {
        ext_frames[i][EXT_HEADROOM + j] = (uint8_t)(j * 13 + i);
    }
    return pkt;
}

static void
assert_ext_pattern(const struct dp_packet *pkt, unsigned int i, size_t ofs,
                   size_t len)
{
    const uint8_t *p = (const uint8_t *)dp_packet_data(pkt) + ofs;

    for (size_t j = 0; j < len; j++) {
        assert_int_equal(p[j], (uint8_t)(j * 13 + i));
    }
}

static void
test_packet_struct_stays_small(void **state)
{
    (void)state;
    /* The source field lives in what was padding: adding it must not
     * grow the struct the fast path touches for every packet. */
    assert_int_equal(sizeof(struct dp_packet), 40);
}

static void
test_external_packet_delete_returns_it_to_its_owner(void **state)
{
    struct dp_packet *pkt = ext_packet(0, 100);

    (void)state;
    assert_true(dp_packet_is_external(pkt));
    dp_packet_delete(pkt);
    assert_int_equal(ext_releases, 1);
    assert_int_equal(ext_detaches, 0);
    assert_false(ext_out[0]);
}

static void
test_external_packet_clone_is_an_independent_heap_copy(void **state)
{
    struct dp_packet *pkt = ext_packet(1, 200), *copy;

    (void)state;
    pkt->l3_ofs = 14;
    copy = dp_packet_clone(pkt);
    assert_false(dp_packet_is_external(copy));
    assert_int_equal(dp_packet_size(copy), 200);
    assert_int_equal(copy->in_port, IN_PORT);
    assert_int_equal(copy->l3_ofs, 14);
    assert_ptr_not_equal(dp_packet_data(copy), dp_packet_data(pkt));
    assert_ext_pattern(copy, 1, 0, 200);
    /* The copy dies without the owner hearing of it, and the frame comes
     * back only with the original. */
    dp_packet_delete(copy);
    assert_int_equal(ext_releases, 0);
    assert_true(ext_out[1]);
    dp_packet_delete(pkt);
    assert_int_equal(ext_releases, 1);
}

static void
test_external_push_within_headroom_stays_in_the_frame(void **state)
{
    static const uint8_t tag[4] = {0x81, 0x00, 0x00, 0x64};
    struct dp_packet *pkt = ext_packet(2, 60);

    (void)state;
    dp_packet_push(pkt, tag, sizeof tag);
    assert_true(dp_packet_is_external(pkt));
    assert_ptr_equal(pkt->base, ext_frames[2]);
    assert_int_equal(ext_detaches, 0);
    assert_memory_equal(dp_packet_data(pkt), tag, sizeof tag);
    assert_ext_pattern(pkt, 2, sizeof tag, 60);
    dp_packet_delete(pkt);
    assert_int_equal(ext_releases, 1);
}

static void
test_external_push_beyond_headroom_moves_to_the_heap(void **state)
{
    uint8_t hdr[EXT_HEADROOM + 8];
    struct ext_packet *old;
    struct dp_packet *pkt;

    (void)state;
    memset(hdr, 0xee, sizeof hdr);
    pkt = ext_packet(3, 100);
    old = ext_structs[3];
    pkt->l3_ofs = 14;
    dp_packet_push(pkt, hdr, sizeof hdr);
    /* The frame went back at once; the struct (same pointer for the
     * caller) is now an ordinary heap packet. */
    assert_int_equal(ext_detaches, 1);
    assert_false(ext_out[3]);
    assert_ptr_not_equal(ext_structs[3], old);
    assert_ptr_equal(pkt, &old->packet);
    assert_false(dp_packet_is_external(pkt));
    assert_true(pkt->base < ext_frames[0]
                || pkt->base >= ext_frames[EXT_FRAMES - 1] + EXT_FRAME_SIZE);
    assert_int_equal(dp_packet_size(pkt), sizeof hdr + 100);
    assert_int_equal(pkt->l3_ofs, 14 + sizeof hdr);
    assert_memory_equal(dp_packet_data(pkt), hdr, sizeof hdr);
    assert_ext_pattern(pkt, 3, sizeof hdr, 100);
    /* The frame can be handed out again while the heap packet lives. */
    dp_packet_delete(ext_packet(3, 10));
    dp_packet_delete(pkt); /* free(): no owner call. */
    assert_int_equal(ext_releases, 1);
}

static void
test_external_put_and_set_size_beyond_the_frame_move_to_the_heap(void **state)
{
    static uint8_t tail[EXT_FRAME_SIZE];
    struct dp_packet *a = ext_packet(0, 100), *b = ext_packet(1, 100);

    (void)state;
    memset(tail, 0x5a, sizeof tail);
    /* Growth that fits the frame's tailroom stays put. */
    dp_packet_put(a, tail, 16);
    dp_packet_set_size(b, 120);
    assert_int_equal(ext_detaches, 0);
    /* Growth beyond it reallocates. */
    dp_packet_put(a, tail, EXT_FRAME_SIZE);
    dp_packet_set_size(b, EXT_FRAME_SIZE * 2);
    assert_int_equal(ext_detaches, 2);
    assert_false(dp_packet_is_external(a) || dp_packet_is_external(b));
    assert_ext_pattern(a, 0, 0, 100);
    assert_ext_pattern(b, 1, 0, 100);
    assert_int_equal(dp_packet_size(a), 100 + 16 + EXT_FRAME_SIZE);
    assert_memory_equal((uint8_t *)dp_packet_data(a) + 100, tail, 16);
    assert_memory_equal((uint8_t *)dp_packet_data(a) + 116, tail,
                        EXT_FRAME_SIZE);
    dp_packet_delete(a);
    dp_packet_delete(b);
    assert_int_equal(ext_releases, 0);
}

static void
test_external_batch_delete_returns_every_frame(void **state)
{
    struct dp_packet_batch batch;

    (void)state;
    dp_packet_batch_init(&batch);
    for (unsigned int i = 0; i < EXT_FRAMES; i++) {
        assert_true(dp_packet_batch_add(&batch, ext_packet(i, 64)));
    }
    assert_true(dp_packet_batch_add(&batch, dp_packet_new(0, 64)));
    dp_packet_batch_delete_all(&batch);
    assert_int_equal(ext_releases, EXT_FRAMES);
}

/* ---- pcap files ---------------------------------------------------------- */

static char *
temp_path(const char *suffix)
{
    char *path = xasprintf("/tmp/test_packet_%ld_%s", (long)getpid(), suffix);

    unlink(path);
    return path;
}

static void
test_pcap_round_trip_keeps_bytes_and_timestamps(void **state)
{
    (void)state;
    char *path = temp_path("rt.pcap");
    struct pcap_writer *writer;
    struct pcap_reader *reader;
    struct dp_packet *pkt = dp_packet_new(0, 0);
    char *msg = NULL;

    assert_int_equal(pcap_writer_open(path, &writer, &msg), 0);
    for (unsigned int i = 0; i < 5; i++) {
        struct dp_packet *out = dp_packet_new(0, 0);

        for (unsigned int j = 0; j < 60 + i * 100; j++) {
            uint8_t b = (uint8_t)(i + j);
            dp_packet_put(out, &b, 1);
        }
        assert_int_equal(
            pcap_writer_write(writer, out,
                              UINT64_C(1700000000123456000) + i * 1000, &msg),
            0);
        dp_packet_delete(out);
    }
    assert_int_equal(pcap_writer_close(writer, &msg), 0);

    assert_int_equal(pcap_reader_open(path, &reader, &msg), 0);
    assert_string_equal(pcap_reader_name(reader), path);
    for (unsigned int i = 0; i < 5; i++) {
        struct pcap_record rec;

        pkt->in_port = 5;
        assert_int_equal(pcap_reader_read(reader, pkt, &rec, &msg), 0);
        assert_int_equal(dp_packet_size(pkt), 60 + i * 100);
        assert_int_equal(rec.wire_len, 60 + i * 100);
        assert_int_equal(rec.ts_nsec,
                         UINT64_C(1700000000123456000) + i * 1000);
        assert_int_equal(pkt->in_port, 0);
        for (unsigned int j = 0; j < dp_packet_size(pkt); j++) {
            assert_int_equal(((uint8_t *)dp_packet_data(pkt))[j],
                             (uint8_t)(i + j));
        }
    }
    assert_int_equal(pcap_reader_read(reader, pkt, NULL, &msg), EOF);
    pcap_reader_close(reader);
    dp_packet_delete(pkt);
    unlink(path);
    free(path);
}

static void
test_pcap_reader_names_the_file_of_a_bad_capture(void **state)
{
    (void)state;
    char *path = temp_path("bad.pcap");
    struct pcap_reader *reader;
    char *msg = NULL;
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs("this is not a capture file at all, just text\n", f);
    fclose(f);
    assert_int_not_equal(pcap_reader_open(path, &reader, &msg), 0);
    assert_null(reader);
    assert_non_null(msg);
    assert_non_null(strstr(msg, path));
    assert_null(strchr(msg, '\n'));
    free(msg);

    msg = NULL;
    unlink(path);
    assert_int_equal(pcap_reader_open(path, &reader, &msg), ENOENT);
    assert_non_null(strstr(msg, path));
    free(msg);
    free(path);
}

static void
test_pcap_reader_reports_a_cut_last_record(void **state)
{
    (void)state;
    char *path = temp_path("cut.pcap");
    struct dp_packet *pkt =
        dp_packet_new_from_bytes("0123456789abcdef", 16, 0);
    struct pcap_writer *writer;
    struct pcap_reader *reader;
    char *msg = NULL;

    assert_int_equal(pcap_writer_open(path, &writer, &msg), 0);
    assert_int_equal(pcap_writer_write(writer, pkt, 0, &msg), 0);
    assert_int_equal(pcap_writer_write(writer, pkt, 0, &msg), 0);
    assert_int_equal(pcap_writer_close(writer, &msg), 0);
    /* 24-byte file header, 2 x (16-byte record header + 16 bytes). */
    assert_int_equal(truncate(path, 24 + 32 + 20), 0);

    assert_int_equal(pcap_reader_open(path, &reader, &msg), 0);
    assert_int_equal(pcap_reader_read(reader, pkt, NULL, &msg), 0);
    assert_int_equal(pcap_reader_read(reader, pkt, NULL, &msg), EIO);
    assert_non_null(strstr(msg, path));
    free(msg);
    pcap_reader_close(reader);
    dp_packet_delete(pkt);
    unlink(path);
    free(path);
}

static void
test_pcap_writer_names_the_file_it_cannot_create(void **state)
{
    (void)state;
    struct pcap_writer *writer;
    char *msg = NULL;

    assert_int_not_equal(
        pcap_writer_open("/nonexistent-dir/x.pcap", &writer, &msg), 0);
    assert_null(writer);
    assert_non_null(strstr(msg, "/nonexistent-dir/x.pcap"));
    free(msg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ii_with_unknown_type_fills_only_l2),
        cmocka_unit_test(test_8023_with_snap_takes_the_snap_ethertype),
        cmocka_unit_test(test_8023_without_snap_has_dl_type_none),
        cmocka_unit_test(test_8023_snap_with_nonzero_oui_has_dl_type_none),
        cmocka_unit_test(test_8023_frame_without_llc_header_is_counted),
        cmocka_unit_test(test_single_8021q_tag_fills_outer_vlan),
        cmocka_unit_test(test_mpls_frame_fills_outer_lse_and_stops_before_l3),
        cmocka_unit_test(test_multicast_mpls_behind_vlan_fills_lse),
        cmocka_unit_test(test_truncated_mpls_entry_leaves_lse_zero_and_counts),
        cmocka_unit_test(test_priority_tag_with_vid_0_is_still_a_tag),
        cmocka_unit_test(
            test_qinq_8021ad_outer_and_8021q_inner_fill_both_vlans),
        cmocka_unit_test(test_double_tags_are_accepted_in_either_tpid_order),
        cmocka_unit_test(test_third_vlan_tag_stays_in_payload_as_dl_type),
        cmocka_unit_test(test_arp_request_fills_spa_tpa_sha_tha_and_opcode),
        cmocka_unit_test(test_arp_reply_fills_both_hardware_addresses),
        cmocka_unit_test(test_rarp_is_parsed_like_arp),
        cmocka_unit_test(test_arp_opcode_above_255_leaves_nw_proto_zero),
        cmocka_unit_test(test_arp_for_other_hardware_keeps_only_l2),
        cmocka_unit_test(test_ipv4_options_are_skipped_using_ihl),
        cmocka_unit_test(test_ipv4_first_fragment_keeps_l4_fields),
        cmocka_unit_test(test_ipv4_later_fragment_has_no_l4_fields),
        cmocka_unit_test(test_ipv4_dont_fragment_bit_is_not_a_fragment),
        cmocka_unit_test(test_ipv4_ethernet_padding_is_not_parsed_as_l4),
        cmocka_unit_test(test_ipv4_bad_lengths_stop_at_l2),
        cmocka_unit_test(test_ipv4_bad_version_is_parsed_anyway_but_counted),
        cmocka_unit_test(test_ipv6_extension_headers_are_walked_to_tcp),
        cmocka_unit_test(test_ipv6_later_fragment_has_nw_proto_44_and_no_l4),
        cmocka_unit_test(test_ipv6_atomic_fragment_is_not_a_fragment),
        cmocka_unit_test(test_ipv6_ah_is_skipped_and_esp_ends_the_chain),
        cmocka_unit_test(test_ipv6_ah_length_counts_4_byte_units),
        cmocka_unit_test(
            test_ipv6_truncated_extension_header_keeps_only_addresses),
        cmocka_unit_test(test_ipv6_bad_lengths_stop_at_l2),
        cmocka_unit_test(test_ipv6_bad_version_is_parsed_anyway_but_counted),
        cmocka_unit_test(test_tcp_flags_include_ns_and_reserved_bits),
        cmocka_unit_test(test_tcp_data_offset_below_5_leaves_l4_empty),
        cmocka_unit_test(test_udp_over_ipv6_fills_ports),
        cmocka_unit_test(test_sctp_fills_ports),
        cmocka_unit_test(test_icmp_type_and_code_go_in_tp_src_and_tp_dst),
        cmocka_unit_test(test_igmp_type_and_code_go_in_tp_src_and_tp_dst),
        cmocka_unit_test(test_icmpv6_echo_request_fills_type_and_code),
        cmocka_unit_test(test_nd_solicitation_fills_target_and_sll),
        cmocka_unit_test(test_nd_advertisement_fills_target_and_tll),
        cmocka_unit_test(test_nd_repeated_sll_option_voids_all_nd_fields),
        cmocka_unit_test(
            test_nd_zero_length_option_keeps_fields_found_before_it),
        cmocka_unit_test(test_nd_with_nonzero_code_is_plain_icmpv6),
        cmocka_unit_test(test_nd_fields_are_not_parsed_from_icmpv6_in_ipv4),
        cmocka_unit_test(test_truncated_tcp_vlan_ipv6_snapshot_stops_at_l2),
        cmocka_unit_test(test_truncated_tcp_header_keeps_l3_fields),
        cmocka_unit_test(test_truncated_tcp_ipv4_snapshot_stops_at_l2),
        cmocka_unit_test(test_truncated_tcp_ipv4_keeps_every_complete_layer),
        cmocka_unit_test(test_truncated_arp_keeps_only_l2),
        cmocka_unit_test(
            test_truncated_nd_keeps_type_then_target_then_options),
        cmocka_unit_test(test_truncated_nd_snapshot_stops_at_l2),
        cmocka_unit_test(test_parse_sets_layer_offsets_of_the_packet),
        cmocka_unit_test(test_every_parse_error_has_a_distinct_counter_name),
        cmocka_unit_test(test_new_packet_keeps_ip_header_aligned),
        cmocka_unit_test(test_push_vlan_tag_uses_headroom_without_moving_data),
        cmocka_unit_test(
            test_push_beyond_headroom_reallocates_and_keeps_alignment),
        cmocka_unit_test(test_pull_drops_layers_that_were_pulled_off),
        cmocka_unit_test(test_put_grows_tailroom_and_set_size_truncates),
        cmocka_unit_test(test_clone_copies_data_offsets_and_metadata),
        cmocka_unit_test(test_batch_refuses_a_packet_when_full),
        cmocka_unit_test(test_pcap_round_trip_keeps_bytes_and_timestamps),
        cmocka_unit_test(test_pcap_reader_names_the_file_of_a_bad_capture),
        cmocka_unit_test(test_pcap_reader_reports_a_cut_last_record),
        cmocka_unit_test(test_pcap_writer_names_the_file_it_cannot_create),
        cmocka_unit_test(test_packet_struct_stays_small),
#define EXT_TEST(T) cmocka_unit_test_setup_teardown(T, ext_setup, ext_teardown)
        EXT_TEST(test_external_packet_delete_returns_it_to_its_owner),
        EXT_TEST(test_external_packet_clone_is_an_independent_heap_copy),
        EXT_TEST(test_external_push_within_headroom_stays_in_the_frame),
        EXT_TEST(test_external_push_beyond_headroom_moves_to_the_heap),
        EXT_TEST(
            test_external_put_and_set_size_beyond_the_frame_move_to_the_heap),
        EXT_TEST(test_external_batch_delete_returns_every_frame),
#undef EXT_TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
