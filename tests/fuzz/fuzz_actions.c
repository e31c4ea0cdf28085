/* libFuzzer target for datapath action execution (datapath/dp-actions.h)
 * on arbitrary frames.
 *
 * Input: the first byte holds the number of actions (low 3 bits); then,
 * for each action, a kind byte and its arguments (set: value and mask of
 * the header's struct; push_vlan: a TPID choice byte and two tci bytes;
 * pop_vlan: nothing; push_mpls: an ethertype choice byte and the four
 * bytes of the entry; pop_mpls: two ethertype bytes); the rest is the
 * frame.  The frame is parsed as the
 * datapath does on receive, then the actions run on it one after the
 * other, as a megaflow's would.  After each action the target checks
 * what dp-actions.h promises, against its own model of the bytes:
 *
 *  - nothing reads or writes outside the packet (AddressSanitizer);
 *  - an action that reports "no change" changed no byte;
 *  - a set changes exactly the masked bits of its fields and, besides
 *    them, only checksum fields;
 *  - checksums are updated incrementally: an IPv4 header checksum, a
 *    TCP/UDP/ICMPv6 checksum over IPv4 or IPv6 (without extension
 *    headers) or an SCTP CRC32c that was right before is right after, and
 *    a UDP checksum of 0 ("none") stays 0;
 *  - push_vlan inserts exactly the tag after the MAC addresses, pop_vlan
 *    removes exactly the outer one, and the layer offsets follow the bytes
 *    (shifted by 4) and stay inside the frame;
 *  - push_mpls inserts exactly the entry after the last ethertype of the
 *    L2 header (behind any VLAN tags) and sets that ethertype, pop_mpls
 *    removes exactly the outer entry of an MPLS frame and sets the
 *    ethertype, set(mpls) changes exactly the masked bits of the entry.
 * Any violation aborts.
 *
 *   make fuzz-build && build-fuzz/tests/fuzz/fuzz_actions \
 *       tests/fuzz/corpus/actions
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/dp-actions.h"
#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "packet/headers.h"
#include "packet/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_actions"
#include "fuzz-check.h"

#define MAX_ACTIONS 7

/* ---- Reading the input -------------------------------------------------- */

struct input {
    const uint8_t *p;
    size_t left;
};

static bool
take(struct input *in, void *dst, size_t n)
{
    if (in->left < n) {
        return false;
    }
    memcpy(dst, in->p, n);
    in->p += n;
    in->left -= n;
    return true;
}

/* Decodes one action into 'buf'.  Returns false when the input ran out. */
static bool
take_action(struct input *in, struct dp_action_buf *buf)
{
    uint8_t kind;

    if (!take(in, &kind, 1)) {
        return false;
    }
    kind %= DP_SET_N_HEADERS + 4;
    if (kind < DP_SET_N_HEADERS) {
        union dp_set_fields value, mask;
        size_t n = dp_set_header_size(kind);

        memset(&value, 0, sizeof value);
        memset(&mask, 0, sizeof mask);
        if (!take(in, &value, n) || !take(in, &mask, n)) {
            return false;
        }
        dp_action_put_set(buf, kind, &value, &mask);
    } else if (kind == DP_SET_N_HEADERS) {
        uint8_t sel;
        be16 tci;

        if (!take(in, &sel, 1) || !take(in, &tci, 2)) {
            return false;
        }
        dp_action_put_push_vlan(
            buf, htons(sel & 1 ? ETH_TYPE_VLAN_8021AD : ETH_TYPE_VLAN_8021Q),
            tci & ~htons(VLAN_CFI));
    } else if (kind == DP_SET_N_HEADERS + 1) {
        dp_action_put_pop_vlan(buf);
    } else if (kind == DP_SET_N_HEADERS + 2) {
        uint8_t sel;
        be32 lse;

        if (!take(in, &sel, 1) || !take(in, &lse, 4)) {
            return false;
        }
        dp_action_put_push_mpls(
            buf, lse, htons(sel & 1 ? ETH_TYPE_MPLS_MCAST : ETH_TYPE_MPLS));
    } else {
        be16 type;

        if (!take(in, &type, 2)) {
            return false;
        }
        dp_action_put_pop_mpls(buf, type);
    }
    return true;
}

/* ---- Checksums (the model's own, written from the RFCs) ----------------- */

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

static uint32_t
crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
        }
    }
    return ~crc;
}

/* What the model knows about one packet: where its headers are and which
 * checksums are right. */
struct view {
    const uint8_t *b;
    size_t size;
    size_t l3, l4; /* SIZE_MAX: absent. */
    bool ipv4, ipv6;
    size_t ip_hlen;                  /* IPv4 header length (IHL * 4). */
    int l4_proto;                    /* -1: no checksummed L4 segment. */
    size_t seg_len;                  /* Bytes of the L4 segment. */
    size_t l4_csum_ofs, l4_csum_len; /* In the segment. */
    bool ip_csum_ok;
    bool l4_csum_ok;
    bool udp_no_csum;
};

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The model's offset of the ethertype behind the VLAN tags, or SIZE_MAX. */
static size_t
l2_type_ofs(const uint8_t *b, size_t size)
{
    size_t ofs = 12;

    while (ofs + 2 <= size) {
        uint16_t type = get16(b + ofs);

        if (type != ETH_TYPE_VLAN_8021Q && type != ETH_TYPE_VLAN_8021AD) {
            return ofs;
        }
        ofs += 4;
    }
    return SIZE_MAX;
}

static void
view_l4(struct view *v)
{
    const uint8_t *l3, *seg;
    uint32_t sum;

    v->l4_proto = -1;
    if (v->l4 == SIZE_MAX) {
        return;
    }
    l3 = v->b + v->l3;
    seg = v->b + v->l4;
    if (v->ipv4) {
        size_t tot = get16(l3 + 2);
        uint16_t frag = get16(l3 + 6);

        if (frag & IP_IS_FRAGMENT_MASK || v->l4 != v->l3 + v->ip_hlen
            || tot < v->ip_hlen || v->l3 + tot > v->size) {
            return;
        }
        v->seg_len = tot - v->ip_hlen;
        v->l4_proto = l3[9];
        sum = sum16(l3 + 12, 8, 0);
    } else if (v->ipv6) {
        size_t plen = get16(l3 + 4);

        /* Extension headers (a routing header changes the pseudo-header)
         * are left out of the model. */
        if (v->l4 != v->l3 + IPV6_HEADER_LEN || v->l4 + plen > v->size) {
            return;
        }
        v->seg_len = plen;
        v->l4_proto = l3[6];
        sum = sum16(l3 + 8, 32, 0);
    } else {
        return;
    }
    sum += (uint32_t)v->l4_proto + (uint32_t)v->seg_len;

    switch (v->l4_proto) {
    case IPPROTO_TCP_:
        v->l4_csum_ofs = 16;
        v->l4_csum_len = 2;
        break;
    case IPPROTO_UDP_:
        v->l4_csum_ofs = 6;
        v->l4_csum_len = 2;
        break;
    case IPPROTO_ICMPV6_:
        if (!v->ipv6) {
            v->l4_proto = -1;
            return;
        }
        v->l4_csum_ofs = 2;
        v->l4_csum_len = 2;
        break;
    case IPPROTO_SCTP_:
        v->l4_csum_ofs = 8;
        v->l4_csum_len = 4;
        break;
    default:
        v->l4_proto = -1;
        return;
    }
    if (v->seg_len < v->l4_csum_ofs + v->l4_csum_len
        || (v->l4_proto == IPPROTO_TCP_ && v->seg_len < TCP_HEADER_LEN)) {
        v->l4_proto = -1;
        return;
    }
    if (v->l4_proto == IPPROTO_SCTP_) {
        uint8_t *copy = malloc(v->seg_len);
        uint32_t stored, good;

        memcpy(copy, seg, v->seg_len);
        memcpy(&stored, copy + 8, 4);
        memset(copy + 8, 0, 4);
        good = htole32(crc32c(copy, v->seg_len));
        free(copy);
        v->l4_csum_ok = stored == good;
        return;
    }
    /* A UDP checksum of 0 means "none" and is left alone, over IPv6 too
     * (where only tunnels may send it, RFC 6935), as in Open vSwitch. */
    v->udp_no_csum = v->l4_proto == IPPROTO_UDP_ && !get16(seg + 6);
    v->l4_csum_ok = fold(sum16(seg, v->seg_len, sum)) == 0xffff;
}

static void
view_init(struct view *v, const struct dp_packet *pkt)
{
    memset(v, 0, sizeof *v);
    v->b = dp_packet_data(pkt);
    v->size = dp_packet_size(pkt);
    v->l3 = pkt->l3_ofs == DP_PACKET_OFS_NONE ? SIZE_MAX : pkt->l3_ofs;
    v->l4 = pkt->l4_ofs == DP_PACKET_OFS_NONE ? SIZE_MAX : pkt->l4_ofs;
    if (v->l3 != SIZE_MAX && v->l3 >= ETH_HEADER_LEN) {
        uint16_t type = get16(v->b + v->l3 - 2);

        v->ipv4 = type == ETH_TYPE_IP && v->size - v->l3 >= IP_HEADER_LEN;
        v->ipv6 = type == ETH_TYPE_IPV6 && v->size - v->l3 >= IPV6_HEADER_LEN;
    }
    if (v->ipv4) {
        v->ip_hlen = (size_t)(v->b[v->l3] & 15) * 4;
        if (v->ip_hlen >= IP_HEADER_LEN && v->l3 + v->ip_hlen <= v->size) {
            v->ip_csum_ok = fold(sum16(v->b + v->l3, v->ip_hlen, 0)) == 0xffff;
        }
    }
    view_l4(v);
}

/* ---- The model of a set ------------------------------------------------- */

static void
masked(uint8_t *dst, const void *value_, const void *mask_, size_t n)
{
    const uint8_t *value = value_, *mask = mask_;

    for (size_t i = 0; i < n; i++) {
        dst[i] = (uint8_t)((dst[i] & ~mask[i]) | (value[i] & mask[i]));
    }
}

/* Marks 'n' bytes at 'ofs' as free to change (checksums). */
static void
allow(bool *free_byte, size_t size, size_t ofs, size_t n)
{
    for (size_t i = ofs; i < ofs + n && i < size; i++) {
        free_byte[i] = true;
    }
}

/* Computes in 'exp' what 'a' should make of the packet 'before' (viewed
 * as 'v'), and in 'free_byte' the checksum bytes it may change besides. */
static void
model_set(const struct dp_action *a, const struct view *v, uint8_t *exp,
          bool *free_byte)
{
    const union dp_set_fields *val = &a->set.value, *msk = &a->set.mask;

    switch (a->set.header) {
    case DP_SET_ETH:
        masked(exp, &val->eth.dst, &msk->eth.dst, ETH_ADDR_LEN);
        masked(exp + 6, &val->eth.src, &msk->eth.src, ETH_ADDR_LEN);
        break;
    case DP_SET_VLAN:
        CHECK(v->size >= ETH_HEADER_LEN + VLAN_HEADER_LEN);
        CHECK(get16(v->b + 12) == ETH_TYPE_VLAN_8021Q
              || get16(v->b + 12) == ETH_TYPE_VLAN_8021AD);
        masked(exp + 14, &val->vlan.tci, &msk->vlan.tci, 2);
        break;
    case DP_SET_IPV4:
        CHECK(v->ipv4);
        masked(exp + v->l3 + 1, &val->ipv4.tos, &msk->ipv4.tos, 1);
        masked(exp + v->l3 + 8, &val->ipv4.ttl, &msk->ipv4.ttl, 1);
        masked(exp + v->l3 + 12, &val->ipv4.src, &msk->ipv4.src, 4);
        masked(exp + v->l3 + 16, &val->ipv4.dst, &msk->ipv4.dst, 4);
        allow(free_byte, v->size, v->l3 + 10, 2);
        break;
    case DP_SET_IPV6: {
        uint32_t flow, tc, label;
        be32 word;

        CHECK(v->ipv6);
        memcpy(&word, exp + v->l3, 4);
        flow = ntohl(word);
        tc = (flow >> IPV6_TCLASS_SHIFT) & 0xff;
        label = flow & IPV6_LABEL_MASK;
        tc = (tc & ~(uint32_t)msk->ipv6.tclass)
             | (val->ipv6.tclass & msk->ipv6.tclass);
        label = (label & ~ntohl(msk->ipv6.label))
                | (ntohl(val->ipv6.label) & ntohl(msk->ipv6.label));
        word = htonl((flow & 0xf0000000u) | (tc << IPV6_TCLASS_SHIFT) | label);
        memcpy(exp + v->l3, &word, 4);
        masked(exp + v->l3 + 7, &val->ipv6.hlimit, &msk->ipv6.hlimit, 1);
        masked(exp + v->l3 + 8, &val->ipv6.src, &msk->ipv6.src, 16);
        masked(exp + v->l3 + 24, &val->ipv6.dst, &msk->ipv6.dst, 16);
        break;
    }
    case DP_SET_TCP:
    case DP_SET_UDP:
    case DP_SET_SCTP: {
        static const uint8_t protos[DP_SET_N_HEADERS] = {
            [DP_SET_TCP] = IPPROTO_TCP_,
            [DP_SET_UDP] = IPPROTO_UDP_,
            [DP_SET_SCTP] = IPPROTO_SCTP_,
        };
        uint8_t proto = protos[a->set.header];

        CHECK(v->l4 != SIZE_MAX && (v->ipv4 || v->ipv6));
        if (v->ipv4) {
            CHECK(v->b[v->l3 + 9] == proto);
        } else if (v->l4 == v->l3 + IPV6_HEADER_LEN) {
            CHECK(v->b[v->l3 + 6] == proto);
        }
        masked(exp + v->l4, &val->l4.src, &msk->l4.src, 2);
        masked(exp + v->l4 + 2, &val->l4.dst, &msk->l4.dst, 2);
        break;
    }
    case DP_SET_ARP: {
        /* Ethernet/IPv4 ARP: op at 6, sha 8, spa 14, tha 18, tpa 24. */
        uint16_t type;

        CHECK(v->l3 != SIZE_MAX && v->l3 >= ETH_HEADER_LEN
              && v->size - v->l3 >= 28);
        type = get16(v->b + v->l3 - 2);
        CHECK(type == ETH_TYPE_ARP || type == ETH_TYPE_RARP);
        masked(exp + v->l3 + 6, &val->arp.op, &msk->arp.op, 2);
        masked(exp + v->l3 + 8, &val->arp.sha, &msk->arp.sha, ETH_ADDR_LEN);
        masked(exp + v->l3 + 14, &val->arp.sip, &msk->arp.sip, 4);
        masked(exp + v->l3 + 18, &val->arp.tha, &msk->arp.tha, ETH_ADDR_LEN);
        masked(exp + v->l3 + 24, &val->arp.tip, &msk->arp.tip, 4);
        break;
    }
    case DP_SET_ICMP:
    case DP_SET_ICMPV6:
        CHECK(v->l4 != SIZE_MAX && v->size - v->l4 >= 4);
        CHECK(a->set.header == DP_SET_ICMP ? v->ipv4 : v->ipv6);
        masked(exp + v->l4, &val->icmp.type, &msk->icmp.type, 1);
        masked(exp + v->l4 + 1, &val->icmp.code, &msk->icmp.code, 1);
        allow(free_byte, v->size, v->l4 + 2, 2);
        break;
    case DP_SET_ND:
        /* The target, then the address of the first link-layer address
         * option: which option it is is the datapath's reading of the
         * options, so the model lets those bytes change and checks the
         * target and that the checksum stays right (checked
         * separately). */
        CHECK(v->ipv6 && v->l4 != SIZE_MAX && v->size - v->l4 >= 24);
        CHECK(v->b[v->l4] == 135 || v->b[v->l4] == 136);
        masked(exp + v->l4 + 8, &val->nd.target, &msk->nd.target, 16);
        allow(free_byte, v->size, v->l4 + 2, 2);
        allow(free_byte, v->size, v->l4 + 24, v->size - v->l4 - 24);
        break;
    case DP_SET_MPLS: {
        size_t e = l2_type_ofs(v->b, v->size);

        CHECK(e != SIZE_MAX && e + 6 <= v->size);
        CHECK(get16(v->b + e) == ETH_TYPE_MPLS
              || get16(v->b + e) == ETH_TYPE_MPLS_MCAST);
        masked(exp + e + 2, &val->mpls.lse, &msk->mpls.lse, 4);
        break;
    }
    case DP_SET_N_HEADERS:
    default:
        CHECK(!"unknown set header");
    }
    /* Any L4 checksum may follow an address or port change; the model
     * does not say which bytes the datapath picks, only that a right
     * checksum stays right (checked separately). */
    if (v->l4 != SIZE_MAX) {
        allow(free_byte, v->size, v->l4 + 16, 2); /* TCP */
        allow(free_byte, v->size, v->l4 + 6, 2);  /* UDP */
        allow(free_byte, v->size, v->l4 + 2, 2);  /* ICMPv6 */
        allow(free_byte, v->size, v->l4 + 8, 4);  /* SCTP */
    }
}

static uint16_t
shifted(uint16_t ofs, int delta)
{
    return ofs == DP_PACKET_OFS_NONE ? ofs : (uint16_t)(ofs + delta);
}

/* push_mpls at ethertype offset 'e': offsets at or past the entry move
 * by 4, those before it stay. */
static uint16_t
pushed(uint16_t ofs, size_t e)
{
    return ofs == DP_PACKET_OFS_NONE || ofs < e + 2 ? ofs
                                                    : (uint16_t)(ofs + 4);
}

static void
check_push_mpls(const struct dp_action *a, const struct dp_packet *before,
                const struct dp_packet *pkt)
{
    const uint8_t *old = dp_packet_data(before), *now = dp_packet_data(pkt);
    size_t old_size = dp_packet_size(before);
    size_t e = l2_type_ofs(old, old_size);

    CHECK(e != SIZE_MAX);
    CHECK(dp_packet_size(pkt) == old_size + 4);
    CHECK(!memcmp(now, old, e));
    CHECK(get16(now + e) == ntohs(a->push_mpls.ethertype));
    CHECK(!memcmp(now + e + 2, &a->push_mpls.lse, 4));
    CHECK(!memcmp(now + e + 6, old + e + 2, old_size - e - 2));
    CHECK(pkt->l2_ofs == 0);
    CHECK(pkt->l3_ofs == pushed(before->l3_ofs, e));
    CHECK(pkt->l4_ofs == pushed(before->l4_ofs, e));
}

static void
check_pop_mpls(const struct dp_action *a, const struct dp_packet *before,
               const struct dp_packet *pkt)
{
    const uint8_t *old = dp_packet_data(before), *now = dp_packet_data(pkt);
    size_t old_size = dp_packet_size(before);
    size_t e = l2_type_ofs(old, old_size);

    CHECK(e != SIZE_MAX && e + 6 <= old_size);
    CHECK(get16(old + e) == ETH_TYPE_MPLS
          || get16(old + e) == ETH_TYPE_MPLS_MCAST);
    CHECK(dp_packet_size(pkt) == old_size - 4);
    CHECK(!memcmp(now, old, e));
    CHECK(get16(now + e) == ntohs(a->pop_mpls_ethertype));
    CHECK(!memcmp(now + e + 2, old + e + 6, old_size - e - 6));
    CHECK(pkt->l2_ofs == 0);
    CHECK(pkt->l3_ofs == e + 2 && pkt->l4_ofs == DP_PACKET_OFS_NONE);
}

/* Runs 'a' on 'pkt' and checks the outcome against the model. */
static void
check_action(const struct dp_action *a, struct dp_packet *pkt)
{
    struct dp_packet *before = dp_packet_clone(pkt);
    struct view vb, va;
    size_t old_size = dp_packet_size(pkt);
    const uint8_t *old = dp_packet_data(before);
    bool changed;

    before->l2_ofs = pkt->l2_ofs;
    before->l3_ofs = pkt->l3_ofs;
    before->l4_ofs = pkt->l4_ofs;
    view_init(&vb, before);

    changed = dp_action_apply(a, pkt);

    const uint8_t *now = dp_packet_data(pkt);
    size_t new_size = dp_packet_size(pkt);

    /* Layer offsets stay ordered and inside the frame. */
    CHECK(pkt->l2_ofs == 0 || pkt->l2_ofs == DP_PACKET_OFS_NONE);
    if (pkt->l3_ofs != DP_PACKET_OFS_NONE) {
        CHECK(pkt->l3_ofs <= new_size);
        if (pkt->l4_ofs != DP_PACKET_OFS_NONE) {
            CHECK(pkt->l3_ofs <= pkt->l4_ofs && pkt->l4_ofs <= new_size);
        }
    }

    if (!changed) {
        CHECK(new_size == old_size && !memcmp(now, old, old_size));
        CHECK(pkt->l3_ofs == before->l3_ofs && pkt->l4_ofs == before->l4_ofs);
        dp_packet_delete(before);
        return;
    }

    switch (a->type) {
    case DP_ACTION_PUSH_VLAN: {
        be16 tag[2] = {a->push_vlan.tpid, a->push_vlan.tci};

        CHECK(old_size >= ETH_HEADER_LEN);
        CHECK(new_size == old_size + VLAN_HEADER_LEN);
        CHECK(!memcmp(now, old, 12));
        CHECK(!memcmp(now + 12, tag, 4));
        CHECK(!memcmp(now + 16, old + 12, old_size - 12));
        CHECK(pkt->l2_ofs == 0);
        CHECK(pkt->l3_ofs == shifted(before->l3_ofs, VLAN_HEADER_LEN));
        CHECK(pkt->l4_ofs == shifted(before->l4_ofs, VLAN_HEADER_LEN));
        break;
    }
    case DP_ACTION_POP_VLAN: {
        uint16_t tpid = get16(old + 12);

        CHECK(old_size >= ETH_HEADER_LEN + VLAN_HEADER_LEN);
        CHECK(tpid == ETH_TYPE_VLAN_8021Q || tpid == ETH_TYPE_VLAN_8021AD);
        CHECK(new_size == old_size - VLAN_HEADER_LEN);
        CHECK(!memcmp(now, old, 12));
        CHECK(!memcmp(now + 12, old + 16, old_size - 16));
        CHECK(pkt->l2_ofs == 0);
        if (before->l3_ofs != DP_PACKET_OFS_NONE
            && before->l3_ofs >= VLAN_HEADER_LEN) {
            CHECK(pkt->l3_ofs == before->l3_ofs - VLAN_HEADER_LEN);
        }
        if (before->l4_ofs != DP_PACKET_OFS_NONE
            && before->l4_ofs >= VLAN_HEADER_LEN) {
            CHECK(pkt->l4_ofs == before->l4_ofs - VLAN_HEADER_LEN);
        }
        break;
    }
    case DP_ACTION_SET: {
        uint8_t *exp = malloc(old_size);
        bool *free_byte = calloc(old_size ? old_size : 1, sizeof *free_byte);

        CHECK(new_size == old_size);
        CHECK(pkt->l3_ofs == before->l3_ofs && pkt->l4_ofs == before->l4_ofs);
        memcpy(exp, old, old_size);
        model_set(a, &vb, exp, free_byte);
        for (size_t i = 0; i < old_size; i++) {
            if (!free_byte[i] && now[i] != exp[i]) {
                fprintf(stderr,
                        "fuzz_actions: byte %zu is %02x, expected "
                        "%02x\n",
                        i, now[i], exp[i]);
                CHECK(!"set changed only its fields and checksums");
            }
        }
        free(exp);
        free(free_byte);

        view_init(&va, pkt);
        if (vb.ip_csum_ok) {
            CHECK(va.ip_csum_ok);
        }
        if (vb.l4_proto >= 0 && va.l4_proto == vb.l4_proto) {
            if (vb.udp_no_csum) {
                CHECK(va.udp_no_csum);
            } else if (vb.l4_csum_ok) {
                CHECK(va.l4_csum_ok);
            }
        }
        break;
    }
    case DP_ACTION_PUSH_MPLS:
        check_push_mpls(a, before, pkt);
        break;
    case DP_ACTION_POP_MPLS:
        check_pop_mpls(a, before, pkt);
        break;
    case DP_ACTION_OUTPUT:
    case DP_ACTION_USERSPACE:
    default:
        CHECK(!"only set and push/pop of VLAN and MPLS change a packet");
    }
    dp_packet_delete(before);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct dp_action_buf buf;
    struct dp_packet *pkt;
    struct flow flow;
    uint8_t n_actions = 0;

    take(&in, &n_actions, 1);
    n_actions &= MAX_ACTIONS;
    dp_action_buf_init(&buf);
    for (unsigned int i = 0; i < n_actions; i++) {
        if (!take_action(&in, &buf)) {
            break;
        }
    }

    pkt = dp_packet_new_from_bytes(in.p, in.left, 0);
    pkt->in_port = 1;
    packet_parse(pkt, &flow);
    for (size_t i = 0; i < buf.n; i++) {
        check_action(&buf.a[i], pkt);
    }
    /* Whatever the actions did, the result parses like any frame. */
    packet_parse(pkt, &flow);
    dp_packet_delete(pkt);
    dp_action_buf_uninit(&buf);
    return 0;
}
