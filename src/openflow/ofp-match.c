/*
 * openflow/ofp-match.c — OXM matches (ofp-codec.h): the table of wire
 * headers, one TLV at a time, and whole ofp_match structures.
 *
 * A match decodes into a struct match by setting each field through the
 * field registry (field_set_match()), so every field is converted exactly
 * as the text syntax converts it; then every decoded field's
 * prerequisites are checked against the finished match, since OXM allows
 * them in any order.  Encoding walks the flow members in Open vSwitch's
 * order and picks, for each member with any exact bit, the header that
 * fits the match's protocol (nw_src is IPV4_SRC for ip and ARP_SPA for
 * arp; tp_src is TCP_SRC, UDP_SRC, SCTP_SRC or ICMPV4_TYPE...).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "openflow/ofp-codec.h"
#include "openflow/ofp-private.h"

/* ---- The header table --------------------------------------------------- */

#define B OXM_CLASS_BASIC
#define N0 OXM_CLASS_NXM0
#define N1 OXM_CLASS_NXM1
#define X OXM_CLASS_EXPERIMENTER

static const struct oxm_def oxm_defs[] = {
    /* OpenFlow basic class, in OXM order. */
    {B, 0, 4, 0, FIELD_IN_PORT, false, OXM_CONV_PORT32},
    {B, 2, 8, 0, FIELD_METADATA, true, OXM_CONV_NONE},
    {B, 3, 6, 0, FIELD_ETH_DST, true, OXM_CONV_NONE},
    {B, 4, 6, 0, FIELD_ETH_SRC, true, OXM_CONV_NONE},
    {B, 5, 2, 0, FIELD_ETH_TYPE, false, OXM_CONV_NONE},
    {B, 6, 2, 0, FIELD_VLAN_VID, true, OXM_CONV_NONE},
    {B, 7, 1, 0, FIELD_VLAN_PCP, false, OXM_CONV_NONE},
    {B, 8, 1, 0, FIELD_IP_DSCP, false, OXM_CONV_NONE},
    {B, 9, 1, 0, FIELD_NW_ECN, false, OXM_CONV_NONE},
    {B, 10, 1, 0, FIELD_NW_PROTO, false, OXM_CONV_NONE},
    {B, 11, 4, 0, FIELD_IP_SRC, true, OXM_CONV_NONE},
    {B, 12, 4, 0, FIELD_IP_DST, true, OXM_CONV_NONE},
    {B, 13, 2, 0, FIELD_TCP_SRC, true, OXM_CONV_NONE},
    {B, 14, 2, 0, FIELD_TCP_DST, true, OXM_CONV_NONE},
    {B, 15, 2, 0, FIELD_UDP_SRC, true, OXM_CONV_NONE},
    {B, 16, 2, 0, FIELD_UDP_DST, true, OXM_CONV_NONE},
    {B, 17, 2, 0, FIELD_SCTP_SRC, true, OXM_CONV_NONE},
    {B, 18, 2, 0, FIELD_SCTP_DST, true, OXM_CONV_NONE},
    {B, 19, 1, 0, FIELD_ICMP_TYPE, false, OXM_CONV_NONE},
    {B, 20, 1, 0, FIELD_ICMP_CODE, false, OXM_CONV_NONE},
    {B, 21, 2, 0, FIELD_ARP_OP, false, OXM_CONV_ARP_OP},
    {B, 22, 4, 0, FIELD_ARP_SPA, true, OXM_CONV_NONE},
    {B, 23, 4, 0, FIELD_ARP_TPA, true, OXM_CONV_NONE},
    {B, 24, 6, 0, FIELD_ARP_SHA, true, OXM_CONV_NONE},
    {B, 25, 6, 0, FIELD_ARP_THA, true, OXM_CONV_NONE},
    {B, 26, 16, 0, FIELD_IPV6_SRC, true, OXM_CONV_NONE},
    {B, 27, 16, 0, FIELD_IPV6_DST, true, OXM_CONV_NONE},
    {B, 28, 4, 0, FIELD_IPV6_LABEL, true, OXM_CONV_NONE},
    {B, 29, 1, 0, FIELD_ICMPV6_TYPE, false, OXM_CONV_NONE},
    {B, 30, 1, 0, FIELD_ICMPV6_CODE, false, OXM_CONV_NONE},
    {B, 31, 16, 0, FIELD_ND_TARGET, true, OXM_CONV_NONE},
    {B, 32, 6, 0, FIELD_ND_SLL, true, OXM_CONV_NONE},
    {B, 33, 6, 0, FIELD_ND_TLL, true, OXM_CONV_NONE},
    {B, 34, 4, 0, FIELD_MPLS_LABEL, false, OXM_CONV_NONE},
    {B, 35, 1, 0, FIELD_MPLS_TC, false, OXM_CONV_NONE},
    {B, 36, 1, 0, FIELD_MPLS_BOS, false, OXM_CONV_NONE},
    {B, 38, 8, 0, FIELD_TUN_ID, true, OXM_CONV_NONE},

    /* Nicira class 0 (the OpenFlow 1.0 fields). */
    {N0, 0, 2, 0, FIELD_IN_PORT, false, OXM_CONV_PORT16},
    {N0, 1, 6, 0, FIELD_ETH_DST, true, OXM_CONV_NONE},
    {N0, 2, 6, 0, FIELD_ETH_SRC, true, OXM_CONV_NONE},
    {N0, 3, 2, 0, FIELD_ETH_TYPE, false, OXM_CONV_NONE},
    {N0, 4, 2, 0, FIELD_VLAN_TCI, true, OXM_CONV_NONE},
    {N0, 5, 1, 0, FIELD_NW_TOS, false, OXM_CONV_NONE},
    {N0, 6, 1, 0, FIELD_NW_PROTO, false, OXM_CONV_NONE},
    {N0, 7, 4, 0, FIELD_IP_SRC, true, OXM_CONV_NONE},
    {N0, 8, 4, 0, FIELD_IP_DST, true, OXM_CONV_NONE},
    {N0, 9, 2, 0, FIELD_TCP_SRC, true, OXM_CONV_NONE},
    {N0, 10, 2, 0, FIELD_TCP_DST, true, OXM_CONV_NONE},
    {N0, 11, 2, 0, FIELD_UDP_SRC, true, OXM_CONV_NONE},
    {N0, 12, 2, 0, FIELD_UDP_DST, true, OXM_CONV_NONE},
    {N0, 13, 1, 0, FIELD_ICMP_TYPE, false, OXM_CONV_NONE},
    {N0, 14, 1, 0, FIELD_ICMP_CODE, false, OXM_CONV_NONE},
    {N0, 15, 2, 0, FIELD_ARP_OP, false, OXM_CONV_ARP_OP},
    {N0, 16, 4, 0, FIELD_ARP_SPA, true, OXM_CONV_NONE},
    {N0, 17, 4, 0, FIELD_ARP_TPA, true, OXM_CONV_NONE},

    /* Nicira class 1 (extensions). */
    {N1, 0, 4, 0, FIELD_REG0, true, OXM_CONV_NONE},
    {N1, 1, 4, 0, FIELD_REG1, true, OXM_CONV_NONE},
    {N1, 2, 4, 0, FIELD_REG2, true, OXM_CONV_NONE},
    {N1, 3, 4, 0, FIELD_REG3, true, OXM_CONV_NONE},
    {N1, 4, 4, 0, FIELD_REG4, true, OXM_CONV_NONE},
    {N1, 5, 4, 0, FIELD_REG5, true, OXM_CONV_NONE},
    {N1, 6, 4, 0, FIELD_REG6, true, OXM_CONV_NONE},
    {N1, 7, 4, 0, FIELD_REG7, true, OXM_CONV_NONE},
    {N1, 16, 8, 0, FIELD_TUN_ID, true, OXM_CONV_NONE},
    {N1, 17, 6, 0, FIELD_ARP_SHA, true, OXM_CONV_NONE},
    {N1, 18, 6, 0, FIELD_ARP_THA, true, OXM_CONV_NONE},
    {N1, 19, 16, 0, FIELD_IPV6_SRC, true, OXM_CONV_NONE},
    {N1, 20, 16, 0, FIELD_IPV6_DST, true, OXM_CONV_NONE},
    {N1, 21, 1, 0, FIELD_ICMPV6_TYPE, false, OXM_CONV_NONE},
    {N1, 22, 1, 0, FIELD_ICMPV6_CODE, false, OXM_CONV_NONE},
    {N1, 23, 16, 0, FIELD_ND_TARGET, true, OXM_CONV_NONE},
    {N1, 24, 6, 0, FIELD_ND_SLL, true, OXM_CONV_NONE},
    {N1, 25, 6, 0, FIELD_ND_TLL, true, OXM_CONV_NONE},
    {N1, 26, 1, 0, FIELD_IP_FRAG, true, OXM_CONV_NONE},
    {N1, 27, 4, 0, FIELD_IPV6_LABEL, true, OXM_CONV_NONE},
    {N1, 28, 1, 0, FIELD_NW_ECN, false, OXM_CONV_NONE},
    {N1, 29, 1, 0, FIELD_NW_TTL, false, OXM_CONV_NONE},
    {N1, 30, 1, 0, FIELD_MPLS_TTL, false, OXM_CONV_NONE},
    {N1, 34, 2, 0, FIELD_TCP_FLAGS, true, OXM_CONV_NONE},

    /* ONF experimenter: tcp_flags as ovs-ofctl sends it in OpenFlow 1.3. */
    {X, 42, 2, OXM_EXPERIMENTER_ONF, FIELD_TCP_FLAGS, true, OXM_CONV_NONE},
};

#undef B
#undef N0
#undef N1
#undef X

const struct oxm_def *
oxm_lookup(uint16_t cls, uint8_t field, uint32_t experimenter)
{
    for (size_t i = 0; i < ARRAY_SIZE(oxm_defs); i++) {
        const struct oxm_def *d = &oxm_defs[i];

        if (d->cls == cls && d->field == field
            && d->experimenter == experimenter) {
            return d;
        }
    }
    return NULL;
}

/* Actions name fields by their NXM header where Open vSwitch does
 * (reg_load and reg_move predate OXM), and by OXM otherwise. */
const struct oxm_def *
oxm_for_field(enum field_id id)
{
    static const uint16_t pref[] = {OXM_CLASS_NXM0, OXM_CLASS_NXM1,
                                    OXM_CLASS_BASIC};

    for (size_t p = 0; p < ARRAY_SIZE(pref); p++) {
        for (size_t i = 0; i < ARRAY_SIZE(oxm_defs); i++) {
            const struct oxm_def *d = &oxm_defs[i];

            if (d->id == id && d->cls == pref[p]
                && d->conv != OXM_CONV_PORT32) {
                return d;
            }
        }
    }
    return NULL;
}

uint32_t
oxm_header(const struct oxm_def *def)
{
    unsigned int len = def->len;

    if (def->cls == OXM_CLASS_EXPERIMENTER) {
        len += 4;
    }
    return ((uint32_t)def->cls << 16) | ((uint32_t)def->field << 9) | len;
}

const struct oxm_def *
oxm_from_header(uint32_t header)
{
    uint16_t cls = (uint16_t)(header >> 16);
    const struct oxm_def *d;

    if (cls == OXM_CLASS_EXPERIMENTER || header & 0x100) {
        return NULL;
    }
    d = oxm_lookup(cls, (uint8_t)((header >> 9) & 0x7f), 0);
    return d && (header & 0xff) == d->len ? d : NULL;
}

size_t
oxm_basic_headers(uint32_t *headers, size_t max, bool writable_only)
{
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(oxm_defs) && n < max; i++) {
        const struct oxm_def *d = &oxm_defs[i];

        if (d->cls == OXM_CLASS_BASIC
            && (!writable_only || field_from_id(d->id)->writable)) {
            headers[n++] = oxm_header(d);
        }
    }
    return n;
}

/* ---- One TLV ------------------------------------------------------------ */

/* Converts 'n' wire bytes at 'w' into the field representation. */
static int
oxm_value_from_wire(const struct oxm_def *d, const uint8_t *w, bool is_mask,
                    union field_value *v)
{
    const struct field *f = field_from_id(d->id);

    memset(v, 0, sizeof *v);
    switch (d->conv) {
    case OXM_CONV_PORT32: {
        uint32_t port;

        if (is_mask) {
            return OFPERR_BMC_BAD_MASK;
        }
        if (!ofp_port_from_wire(ofp_get32(w), &port) || port > 0xffff) {
            return OFPERR_BMC_BAD_VALUE;
        }
        v->be16 = htons((uint16_t)port);
        return 0;
    }
    case OXM_CONV_PORT16: {
        /* 0xff00..0xfff7 name nothing in 16 bits (nor in OpenFlow 1.3's
         * 32, where they would not survive a round trip). */
        uint16_t port = ofp_get16(w);

        if (port >= OFPP_MAX && port < OFPP_IN_PORT) {
            return OFPERR_BMC_BAD_VALUE;
        }
        v->be16 = htons(port);
        return 0;
    }
    case OXM_CONV_ARP_OP: {
        uint16_t op = ofp_get16(w);

        if (op > 0xff && !(is_mask && op == 0xffff)) {
            return OFPERR_BMC_BAD_VALUE;
        }
        v->u8 = (uint8_t)op;
        return 0;
    }
    case OXM_CONV_NONE:
    default:
        memcpy(v->b, w, f->n_bytes);
        if (!is_mask && !field_value_is_valid(f, v)) {
            return OFPERR_BMC_BAD_VALUE;
        }
        return 0;
    }
}

static void
oxm_value_to_wire(const struct oxm_def *d, const union field_value *v,
                  bool is_mask, uint8_t *w)
{
    const struct field *f = field_from_id(d->id);

    switch (d->conv) {
    case OXM_CONV_PORT32: {
        uint32_t port =
            is_mask ? UINT32_MAX : ofp_port_to_wire(ntohs(v->be16));

        w[0] = (uint8_t)(port >> 24);
        w[1] = (uint8_t)(port >> 16);
        w[2] = (uint8_t)(port >> 8);
        w[3] = (uint8_t)port;
        break;
    }
    case OXM_CONV_PORT16:
        memcpy(w, &v->be16, 2);
        break;
    case OXM_CONV_ARP_OP:
        w[0] = is_mask && v->u8 == 0xff ? 0xff : 0;
        w[1] = v->u8;
        break;
    case OXM_CONV_NONE:
    default:
        memcpy(w, v->b, f->n_bytes);
        break;
    }
}

int
oxm_pull(const uint8_t *p, size_t len, bool allow_mask,
         const struct oxm_def **defp, union field_value *value,
         union field_value *mask, bool *has_mask, size_t *tlv_len)
{
    const struct oxm_def *d;
    uint32_t header, experimenter = 0;
    size_t payload, vlen;
    const uint8_t *v;
    int error;

    if (len < 4) {
        return OFPERR_BMC_BAD_LEN;
    }
    header = ofp_get32(p);
    payload = header & 0xff;
    if (4 + payload > len) {
        return OFPERR_BMC_BAD_LEN;
    }
    *has_mask = (header >> 8) & 1;
    v = p + 4;
    vlen = payload;
    if ((header >> 16) == OXM_CLASS_EXPERIMENTER) {
        if (vlen < 4) {
            return OFPERR_BMC_BAD_LEN;
        }
        experimenter = ofp_get32(v);
        v += 4;
        vlen -= 4;
    }
    d = oxm_lookup((uint16_t)(header >> 16), (uint8_t)((header >> 9) & 0x7f),
                   experimenter);
    if (!d) {
        return OFPERR_BMC_BAD_FIELD;
    }
    if (vlen != (size_t)d->len * (*has_mask ? 2 : 1)) {
        return OFPERR_BMC_BAD_LEN;
    }
    error = oxm_value_from_wire(d, v, false, value);
    if (error) {
        return error;
    }
    if (*has_mask) {
        const struct field *f = field_from_id(d->id);
        union field_value tmp;

        if (!allow_mask) {
            return OFPERR_BMC_BAD_MASK;
        }
        error = oxm_value_from_wire(d, v + d->len, true, mask);
        if (error) {
            return error;
        }
        if (!d->maskable && !field_value_is_all_ones(f, mask)
            && !field_value_is_zero(f, mask)) {
            return OFPERR_BMC_BAD_MASK;
        }
        /* A value bit the mask does not cover means the peer and we would
         * disagree about what the match matches. */
        field_value_and(f, &tmp, value, mask);
        if (!field_value_equal(f, &tmp, value)) {
            return OFPERR_BMC_BAD_WILDCARDS;
        }
    } else {
        field_all_ones(field_from_id(d->id), mask);
    }
    *defp = d;
    *tlv_len = 4 + payload;
    return 0;
}

void
oxm_put(struct ofpbuf *b, const struct oxm_def *d,
        const union field_value *value, const union field_value *mask)
{
    const struct field *f = field_from_id(d->id);
    bool masked = mask && !field_value_is_all_ones(f, mask);
    uint32_t header = oxm_header(d);
    uint8_t w[16];

    if (masked) {
        header = (header & ~0xffu) | 0x100 | ((header & 0xff) + d->len);
    }
    ofpbuf_put_be32(b, header);
    if (d->cls == OXM_CLASS_EXPERIMENTER) {
        ofpbuf_put_be32(b, d->experimenter);
    }
    oxm_value_to_wire(d, value, false, w);
    ofpbuf_put(b, w, d->len);
    if (masked) {
        oxm_value_to_wire(d, mask, true, w);
        ofpbuf_put(b, w, d->len);
    }
}

/* ---- Whole matches ------------------------------------------------------ */

/* OpenFlow 1.5's packet_type (OXM basic field 44, 4 bytes, no mask), which
 * Open vSwitch also accepts in OpenFlow 1.3. */
#define OXM_PACKET_TYPE_HEADER 0x80005804u

#define OFPMT_OXM 1

/* The VLAN fields set the tag bits of vlans[0].tci; OXM's VLAN_VID 0
 * ("no tag") is an exact match on the CFI and VID bits being zero. */
static int
match_decode_tlvs(const uint8_t *p, size_t len, struct match *match)
{
    uint64_t seen[2] = {0, 0};
    enum field_id ids[64];
    size_t n_ids = 0;

    match_init_catchall(match);
    while (len) {
        const struct oxm_def *d;
        union field_value value, mask;
        const struct field *f;
        bool has_mask;
        size_t tlv_len;
        int error;

        if (len >= 8 && ofp_get32(p) == OXM_PACKET_TYPE_HEADER) {
            /* ovs-ofctl adds packet_type=(0,0), Ethernet, to a match on
             * an Ethernet field (even one wildcarded by its mask): the
             * only kind of packet there is here. */
            if (ofp_get32(p + 4)) {
                return OFPERR_BMC_BAD_VALUE;
            }
            p += 8;
            len -= 8;
            continue;
        }
        error = oxm_pull(p, len, true, &d, &value, &mask, &has_mask, &tlv_len);
        if (error) {
            return error;
        }
        f = field_from_id(d->id);
        if (seen[d->id / 64] & (1ull << (d->id % 64))) {
            return OFPERR_BMC_DUP_FIELD;
        }
        seen[d->id / 64] |= 1ull << (d->id % 64);
        if (field_value_is_zero(f, &mask)) {
            /* Matches anything: nothing to set. */
        } else {
            field_set_match(f, &value, &mask, match);
        }
        if (n_ids < ARRAY_SIZE(ids)) {
            ids[n_ids++] = d->id;
        }
        p += tlv_len;
        len -= tlv_len;
    }
    /* VLAN_PCP needs a VLAN_VID that says a tag is present. */
    if (seen[FIELD_VLAN_PCP / 64] & (1ull << (FIELD_VLAN_PCP % 64))) {
        if (!(match->wc.masks.vlans[0].tci & htons(VLAN_CFI))
            || !(match->flow.vlans[0].tci & htons(VLAN_CFI))) {
            return OFPERR_BMC_BAD_PREREQ;
        }
    }
    for (size_t i = 0; i < n_ids; i++) {
        const struct field *f = field_from_id(ids[i]);

        if (f->id != FIELD_VLAN_PCP && field_is_matched(f, match)
            && !field_prereqs_ok(f, match)) {
            return OFPERR_BMC_BAD_PREREQ;
        }
    }
    match_normalize(match);
    return 0;
}

int
ofp_decode_match(const uint8_t *p, size_t len, struct match *match,
                 size_t *used)
{
    uint16_t type, mlen;
    size_t padded;

    if (len < 4) {
        return OFPERR_BMC_BAD_LEN;
    }
    type = ofp_get16(p);
    mlen = ofp_get16(p + 2);
    if (type != OFPMT_OXM) {
        return OFPERR_BMC_BAD_TYPE;
    }
    padded = ofp_pad8(mlen);
    if (mlen < 4 || padded > len) {
        return OFPERR_BMC_BAD_LEN;
    }
    *used = padded;
    return match_decode_tlvs(p + 4, mlen - 4u, match);
}

static void
put_field(struct ofpbuf *b, const struct match *match, enum field_id id,
          uint16_t cls, uint8_t field_no)
{
    const struct field *f = field_from_id(id);
    const struct oxm_def *d = oxm_lookup(cls, field_no, 0);
    union field_value value, mask;

    if (!d || !field_is_matched(f, match)) {
        return;
    }
    field_get_match(f, match, &value, &mask);
    oxm_put(b, d, &value, &mask);
}

static void
put_vlan(struct ofpbuf *b, const struct match *match)
{
    uint16_t tci = ntohs(match->flow.vlans[0].tci);
    uint16_t mask = ntohs(match->wc.masks.vlans[0].tci);
    union field_value v, m;

    if (!mask) {
        return;
    }
    if ((mask & VLAN_PCP_MASK) && (mask & VLAN_PCP_MASK) != VLAN_PCP_MASK) {
        /* A partial PCP mask has no OXM form. */
        put_field(b, match, FIELD_VLAN_TCI, OXM_CLASS_NXM0, 4);
        return;
    }
    memset(&v, 0, sizeof v);
    memset(&m, 0, sizeof m);
    if (mask & (VLAN_CFI | VLAN_VID_MASK)) {
        v.be16 = htons(tci & (VLAN_CFI | VLAN_VID_MASK));
        m.be16 = htons(mask & (VLAN_CFI | VLAN_VID_MASK));
        oxm_put(b, oxm_lookup(OXM_CLASS_BASIC, 6, 0), &v, &m);
    }
    if ((mask & VLAN_PCP_MASK) && (tci & VLAN_CFI)) {
        memset(&v, 0, sizeof v);
        v.u8 = (uint8_t)(tci >> VLAN_PCP_SHIFT);
        oxm_put(b, oxm_lookup(OXM_CLASS_BASIC, 7, 0), &v, NULL);
    }
}

static void
put_l4(struct ofpbuf *b, const struct match *m, bool is_src)
{
    const struct flow *flow = &m->flow;
    bool ip = flow->dl_type == htons(ETH_TYPE_IP);
    bool ipv6 = flow->dl_type == htons(ETH_TYPE_IPV6);
    bool exact_proto = m->wc.masks.nw_proto == 0xff;

    if (!exact_proto || !(ip || ipv6)) {
        return;
    }
    switch (flow->nw_proto) {
    case IPPROTO_TCP_:
        put_field(b, m, is_src ? FIELD_TCP_SRC : FIELD_TCP_DST,
                  OXM_CLASS_BASIC, is_src ? 13 : 14);
        break;
    case IPPROTO_UDP_:
        put_field(b, m, is_src ? FIELD_UDP_SRC : FIELD_UDP_DST,
                  OXM_CLASS_BASIC, is_src ? 15 : 16);
        break;
    case IPPROTO_SCTP_:
        put_field(b, m, is_src ? FIELD_SCTP_SRC : FIELD_SCTP_DST,
                  OXM_CLASS_BASIC, is_src ? 17 : 18);
        break;
    case IPPROTO_ICMP_:
        if (ip) {
            put_field(b, m, is_src ? FIELD_ICMP_TYPE : FIELD_ICMP_CODE,
                      OXM_CLASS_BASIC, is_src ? 19 : 20);
        }
        break;
    case IPPROTO_ICMPV6_:
        if (ipv6) {
            put_field(b, m, is_src ? FIELD_ICMPV6_TYPE : FIELD_ICMPV6_CODE,
                      OXM_CLASS_BASIC, is_src ? 29 : 30);
        }
        break;
    default:
        break;
    }
}

void
ofp_encode_match(const struct match *m, struct ofpbuf *b)
{
    const struct flow *flow = &m->flow;
    bool exact_type = m->wc.masks.dl_type == 0xffff;
    bool ip = exact_type && flow->dl_type == htons(ETH_TYPE_IP);
    bool ipv6 = exact_type && flow->dl_type == htons(ETH_TYPE_IPV6);
    bool arp = exact_type
               && (flow->dl_type == htons(ETH_TYPE_ARP)
                   || flow->dl_type == htons(ETH_TYPE_RARP));
    size_t start = ofp_tlv_start(b, OFPMT_OXM);

    put_field(b, m, FIELD_IN_PORT, OXM_CLASS_BASIC, 0);
    put_field(b, m, FIELD_METADATA, OXM_CLASS_BASIC, 2);
    for (int i = 0; i < FLOW_N_REGS; i++) {
        put_field(b, m, (enum field_id)(FIELD_REG0 + i), OXM_CLASS_NXM1,
                  (uint8_t)i);
    }
    put_field(b, m, FIELD_TUN_ID, OXM_CLASS_BASIC, 38);
    put_field(b, m, FIELD_ETH_DST, OXM_CLASS_BASIC, 3);
    put_field(b, m, FIELD_ETH_SRC, OXM_CLASS_BASIC, 4);
    put_field(b, m, FIELD_ETH_TYPE, OXM_CLASS_BASIC, 5);
    put_vlan(b, m);
    if (exact_type && eth_type_is_mpls(flow->dl_type)) {
        put_field(b, m, FIELD_MPLS_TC, OXM_CLASS_BASIC, 35);
        put_field(b, m, FIELD_MPLS_BOS, OXM_CLASS_BASIC, 36);
        put_field(b, m, FIELD_MPLS_LABEL, OXM_CLASS_BASIC, 34);
        put_field(b, m, FIELD_MPLS_TTL, OXM_CLASS_NXM1, 30);
    }
    if (ip || ipv6) {
        put_field(b, m, FIELD_IP_DSCP, OXM_CLASS_BASIC, 8);
        put_field(b, m, FIELD_NW_ECN, OXM_CLASS_BASIC, 9);
        put_field(b, m, FIELD_NW_PROTO, OXM_CLASS_BASIC, 10);
        put_field(b, m, FIELD_NW_TTL, OXM_CLASS_NXM1, 29);
        put_field(b, m, FIELD_IP_FRAG, OXM_CLASS_NXM1, 26);
    }
    if (ip) {
        put_field(b, m, FIELD_IP_SRC, OXM_CLASS_BASIC, 11);
        put_field(b, m, FIELD_IP_DST, OXM_CLASS_BASIC, 12);
    }
    if (ipv6) {
        put_field(b, m, FIELD_IPV6_SRC, OXM_CLASS_BASIC, 26);
        put_field(b, m, FIELD_IPV6_DST, OXM_CLASS_BASIC, 27);
        put_field(b, m, FIELD_IPV6_LABEL, OXM_CLASS_BASIC, 28);
    }
    if (arp) {
        put_field(b, m, FIELD_ARP_OP, OXM_CLASS_BASIC, 21);
        put_field(b, m, FIELD_ARP_SPA, OXM_CLASS_BASIC, 22);
        put_field(b, m, FIELD_ARP_TPA, OXM_CLASS_BASIC, 23);
        put_field(b, m, FIELD_ARP_SHA, OXM_CLASS_BASIC, 24);
        put_field(b, m, FIELD_ARP_THA, OXM_CLASS_BASIC, 25);
    }
    put_l4(b, m, true);
    put_l4(b, m, false);
    if (ip || ipv6) {
        put_field(b, m, FIELD_TCP_FLAGS, OXM_CLASS_NXM1, 34);
    }
    if (ipv6) {
        put_field(b, m, FIELD_ND_TARGET, OXM_CLASS_BASIC, 31);
        put_field(b, m, FIELD_ND_SLL, OXM_CLASS_BASIC, 32);
        put_field(b, m, FIELD_ND_TLL, OXM_CLASS_BASIC, 33);
    }

    ofp_tlv_finish(b, start, false);
}
