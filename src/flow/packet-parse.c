/* flow/packet-parse.c — header parsing into struct flow (see
 * packet-parse.h).
 *
 * Shape of the code.  Each layer has a small parse_*() function that takes a
 * cursor (pointer and bytes left, never beyond the end of the frame or of
 * the IP packet) and either fills its flow fields and advances the cursor or
 * returns an error without touching the flow, so a stop leaves exactly the
 * layers that were complete.  Every error goes through parse_fail(), out of
 * line, which bumps the reason's coverage counter; the fast path is a straight
 * run of length checks and copies.  Multi-byte fields are copied with
 * memcpy() or read through the packed wire structs of headers.h, so no access
 * assumes alignment.
 */
#include "flow/packet-parse.h"

#include <string.h>

#include "flow/flow.h"
#include "lib/coverage.h"
#include "packet/headers.h"
#include "packet/packet.h"

COVERAGE_DEFINE(parse_truncated_eth);
COVERAGE_DEFINE(parse_truncated_vlan);
COVERAGE_DEFINE(parse_vlan_limit);
COVERAGE_DEFINE(parse_truncated_llc);
COVERAGE_DEFINE(parse_truncated_arp);
COVERAGE_DEFINE(parse_arp_not_eth_ip);
COVERAGE_DEFINE(parse_arp_op_too_big);
COVERAGE_DEFINE(parse_truncated_ip);
COVERAGE_DEFINE(parse_ip_bad_ihl);
COVERAGE_DEFINE(parse_truncated_ip_options);
COVERAGE_DEFINE(parse_ip_tot_len_too_big);
COVERAGE_DEFINE(parse_ip_tot_len_too_small);
COVERAGE_DEFINE(parse_ip_bad_version);
COVERAGE_DEFINE(parse_truncated_ipv6);
COVERAGE_DEFINE(parse_ipv6_plen_too_big);
COVERAGE_DEFINE(parse_ipv6_bad_version);
COVERAGE_DEFINE(parse_truncated_ipv6_ext);
COVERAGE_DEFINE(parse_truncated_tcp);
COVERAGE_DEFINE(parse_tcp_bad_offset);
COVERAGE_DEFINE(parse_truncated_tcp_options);
COVERAGE_DEFINE(parse_truncated_udp);
COVERAGE_DEFINE(parse_truncated_sctp);
COVERAGE_DEFINE(parse_truncated_icmp);
COVERAGE_DEFINE(parse_truncated_igmp);
COVERAGE_DEFINE(parse_truncated_icmpv6);
COVERAGE_DEFINE(parse_truncated_nd_target);
COVERAGE_DEFINE(parse_nd_bad_option_len);
COVERAGE_DEFINE(parse_truncated_nd_option);
COVERAGE_DEFINE(parse_nd_duplicate_option);
COVERAGE_DEFINE(parse_truncated_mpls);

/* Counter of each error; its name minus "parse_" is the error's name. */
static struct coverage_counter *const parse_counters[PARSE_N_ERRORS] = {
    [PARSE_TRUNCATED_ETH] = &coverage_counter_parse_truncated_eth,
    [PARSE_TRUNCATED_VLAN] = &coverage_counter_parse_truncated_vlan,
    [PARSE_VLAN_LIMIT] = &coverage_counter_parse_vlan_limit,
    [PARSE_TRUNCATED_LLC] = &coverage_counter_parse_truncated_llc,
    [PARSE_TRUNCATED_ARP] = &coverage_counter_parse_truncated_arp,
    [PARSE_ARP_NOT_ETH_IP] = &coverage_counter_parse_arp_not_eth_ip,
    [PARSE_ARP_OP_TOO_BIG] = &coverage_counter_parse_arp_op_too_big,
    [PARSE_TRUNCATED_IP] = &coverage_counter_parse_truncated_ip,
    [PARSE_IP_BAD_IHL] = &coverage_counter_parse_ip_bad_ihl,
    [PARSE_TRUNCATED_IP_OPTIONS] =
        &coverage_counter_parse_truncated_ip_options,
    [PARSE_IP_TOT_LEN_TOO_BIG] = &coverage_counter_parse_ip_tot_len_too_big,
    [PARSE_IP_TOT_LEN_TOO_SMALL] =
        &coverage_counter_parse_ip_tot_len_too_small,
    [PARSE_IP_BAD_VERSION] = &coverage_counter_parse_ip_bad_version,
    [PARSE_TRUNCATED_IPV6] = &coverage_counter_parse_truncated_ipv6,
    [PARSE_IPV6_PLEN_TOO_BIG] = &coverage_counter_parse_ipv6_plen_too_big,
    [PARSE_IPV6_BAD_VERSION] = &coverage_counter_parse_ipv6_bad_version,
    [PARSE_TRUNCATED_IPV6_EXT] = &coverage_counter_parse_truncated_ipv6_ext,
    [PARSE_TRUNCATED_TCP] = &coverage_counter_parse_truncated_tcp,
    [PARSE_TCP_BAD_OFFSET] = &coverage_counter_parse_tcp_bad_offset,
    [PARSE_TRUNCATED_TCP_OPTIONS] =
        &coverage_counter_parse_truncated_tcp_options,
    [PARSE_TRUNCATED_UDP] = &coverage_counter_parse_truncated_udp,
    [PARSE_TRUNCATED_SCTP] = &coverage_counter_parse_truncated_sctp,
    [PARSE_TRUNCATED_ICMP] = &coverage_counter_parse_truncated_icmp,
    [PARSE_TRUNCATED_IGMP] = &coverage_counter_parse_truncated_igmp,
    [PARSE_TRUNCATED_ICMPV6] = &coverage_counter_parse_truncated_icmpv6,
    [PARSE_TRUNCATED_ND_TARGET] = &coverage_counter_parse_truncated_nd_target,
    [PARSE_ND_BAD_OPTION_LEN] = &coverage_counter_parse_nd_bad_option_len,
    [PARSE_TRUNCATED_ND_OPTION] = &coverage_counter_parse_truncated_nd_option,
    [PARSE_ND_DUPLICATE_OPTION] = &coverage_counter_parse_nd_duplicate_option,
    [PARSE_TRUNCATED_MPLS] = &coverage_counter_parse_truncated_mpls,
};

#define PARSE_COUNTER_PREFIX "parse_"

const char *
packet_parse_error_name(enum packet_parse_error error)
{
    if (error <= PARSE_OK || error >= PARSE_N_ERRORS) {
        return error == PARSE_OK ? "ok" : "unknown";
    }
    return parse_counters[error]->name + strlen(PARSE_COUNTER_PREFIX);
}

/* Counts 'error' and returns it.  Kept out of line and marked cold so that
 * the checks on the fast path compile to a compare and a rarely taken jump. */
static enum packet_parse_error __attribute__((noinline, cold))
parse_fail(enum packet_parse_error error)
{
    coverage_add__(parse_counters[error]->idx, 1);
    return error;
}

/* The first of two errors: the status reports the earliest anomaly. */
static inline enum packet_parse_error
parse_first_error(enum packet_parse_error a, enum packet_parse_error b)
{
    return a != PARSE_OK ? a : b;
}

/* A parse position: 'p' is the next byte, 'n' the bytes left in the current
 * bound (the frame, or the IP packet once its length is known). */
struct parse_cursor {
    const uint8_t *p;
    size_t n;
};

static inline void
cursor_advance(struct parse_cursor *c, size_t len)
{
    c->p += len;
    c->n -= len;
}

static inline bool
eth_type_is_vlan(be16 type)
{
    return type == htons(ETH_TYPE_VLAN_8021Q)
           || type == htons(ETH_TYPE_VLAN_8021AD);
}

/* ---- L2 ----------------------------------------------------------------- */

/* Parses up to FLOW_N_VLANS tags.  On entry 'c' is at the ethertype (offset
 * 12) whose value is '*typep'; on return it is at the ethertype that follows
 * the last tag taken, and '*typep' is that ethertype.  A tag counts only if
 * its TCI and the next ethertype are both present, as in OVS. */
static enum packet_parse_error
parse_vlans(struct parse_cursor *c, struct flow *flow, be16 *typep)
{
    be16 type = *typep;

    for (unsigned int i = 0; i < FLOW_N_VLANS; i++) {
        if (!eth_type_is_vlan(type)) {
            return PARSE_OK;
        }
        if (UNLIKELY(c->n < VLAN_HEADER_LEN + sizeof(be16))) {
            return parse_fail(PARSE_TRUNCATED_VLAN);
        }
        flow->vlans[i].tpid = type;
        flow->vlans[i].tci = packet_get_be16(c->p + 2) | htons(VLAN_CFI);
        cursor_advance(c, VLAN_HEADER_LEN);
        type = packet_get_be16(c->p);
        *typep = type;
    }
    return eth_type_is_vlan(type) ? parse_fail(PARSE_VLAN_LIMIT) : PARSE_OK;
}

/* An 802.3 frame: 'c' is just past the length field.  Returns the ethertype
 * of an LLC/SNAP header with OUI 0 (and moves past the header), or
 * FLOW_DL_TYPE_NONE. */
static be16
parse_llc_snap(struct parse_cursor *c, enum packet_parse_error *error)
{
    const struct llc_snap_header *llc = (const void *)c->p;
    be16 type;

    if (c->n < LLC_SNAP_HEADER_LEN) {
        if (c->n < LLC_HEADER_LEN) {
            *error =
                parse_first_error(*error, parse_fail(PARSE_TRUNCATED_LLC));
        }
        return htons(FLOW_DL_TYPE_NONE);
    }
    if (llc->dsap != LLC_DSAP_SNAP || llc->ssap != LLC_SSAP_SNAP
        || llc->control != LLC_CNTL_SNAP
        || (llc->oui[0] | llc->oui[1] | llc->oui[2])) {
        return htons(FLOW_DL_TYPE_NONE);
    }
    cursor_advance(c, LLC_SNAP_HEADER_LEN);
    type = llc->snap_type;
    return ntohs(type) >= ETH_TYPE_MIN ? type : htons(FLOW_DL_TYPE_NONE);
}

/* ---- MPLS --------------------------------------------------------------- */

/* Takes the outermost label stack entry.  Like Open vSwitch, parsing ends
 * here: what the labels carry is not known from the frame. */
static enum packet_parse_error
parse_mpls(const struct parse_cursor *c, struct flow *flow)
{
    if (UNLIKELY(c->n < MPLS_HLEN)) {
        return parse_fail(PARSE_TRUNCATED_MPLS);
    }
    memcpy(&flow->mpls_lse, c->p, MPLS_HLEN);
    return PARSE_OK;
}

/* ---- ARP ---------------------------------------------------------------- */

static enum packet_parse_error
parse_arp(const struct parse_cursor *c, struct flow *flow)
{
    const struct arp_eth_header *arp = (const void *)c->p;
    uint16_t op;

    if (UNLIKELY(c->n < ARP_ETH_HEADER_LEN)) {
        return parse_fail(PARSE_TRUNCATED_ARP);
    }
    if (UNLIKELY(arp->ar_hrd != htons(ARP_HRD_ETHERNET)
                 || arp->ar_pro != htons(ETH_TYPE_IP)
                 || arp->ar_hln != ETH_ADDR_LEN || arp->ar_pln != 4)) {
        return parse_fail(PARSE_ARP_NOT_ETH_IP);
    }
    flow->nw_src = arp->ar_spa;
    flow->nw_dst = arp->ar_tpa;
    flow->arp_sha = arp->ar_sha;
    flow->arp_tha = arp->ar_tha;
    op = ntohs(arp->ar_op);
    if (UNLIKELY(op > UINT8_MAX)) {
        /* Only the low 8 bits are matchable; a larger opcode would alias a
         * small one, so like OVS leave it 0. */
        return parse_fail(PARSE_ARP_OP_TOO_BIG);
    }
    flow->nw_proto = (uint8_t)op;
    return PARSE_OK;
}

/* ---- L3 ----------------------------------------------------------------- */

/* Parses an IPv4 header at 'c'.  On success 'c' covers the IP payload
 * (without Ethernet padding). */
static inline enum packet_parse_error
parse_ipv4(struct parse_cursor *c, struct flow *flow)
{
    const struct ip_header *ip = (const void *)c->p;
    size_t ihl, tot_len;
    be16 frag_off;

    if (UNLIKELY(c->n < IP_HEADER_LEN)) {
        return parse_fail(PARSE_TRUNCATED_IP);
    }
    ihl = (size_t)IP_IHL(ip->ip_ihl_ver) * 4;
    if (UNLIKELY(ihl < IP_HEADER_LEN)) {
        return parse_fail(PARSE_IP_BAD_IHL);
    }
    if (UNLIKELY(c->n < ihl)) {
        return parse_fail(PARSE_TRUNCATED_IP_OPTIONS);
    }
    tot_len = ntohs(ip->ip_tot_len);
    if (UNLIKELY(tot_len > c->n)) {
        return parse_fail(PARSE_IP_TOT_LEN_TOO_BIG);
    }
    if (UNLIKELY(tot_len < ihl)) {
        return parse_fail(PARSE_IP_TOT_LEN_TOO_SMALL);
    }

    /* nw_src and nw_dst are adjacent in both the header and the flow. */
    memcpy(&flow->nw_src, c->p + offsetof(struct ip_header, ip_src),
           2 * sizeof(be32));
    flow->nw_tos = ip->ip_tos;
    flow->nw_ttl = ip->ip_ttl;
    flow->nw_proto = ip->ip_proto;
    frag_off = ip->ip_frag_off;
    if (UNLIKELY(frag_off & htons(IP_IS_FRAGMENT_MASK))) {
        flow->nw_frag = FLOW_NW_FRAG_ANY;
        if (frag_off & htons(IP_FRAG_OFF_MASK)) {
            flow->nw_frag |= FLOW_NW_FRAG_LATER;
        }
    }
    c->n = tot_len;
    cursor_advance(c, ihl);
    return PARSE_OK;
}

/* Walks the IPv6 extension headers starting at 'c' whose type is '*proto'.
 * On success '*proto' is the upper-layer protocol (or IPPROTO_FRAGMENT_ for a
 * non-first fragment, whose payload is not a header), 'c' is at its header
 * and '*frag' holds the FLOW_NW_FRAG_* bits. */
static inline enum packet_parse_error
parse_ipv6_ext_headers(struct parse_cursor *c, uint8_t *proto, uint8_t *frag)
{
    for (;;) {
        size_t len;

        switch (*proto) {
        case IPPROTO_HOPOPTS_:
        case IPPROTO_ROUTING_:
        case IPPROTO_DSTOPTS_:
        case IPPROTO_AH_:
        case IPPROTO_FRAGMENT_:
            break;
        default:
            return PARSE_OK;
        }

        /* Every extension header has at least 8 bytes, and the first 8 hold
         * all this needs to read. */
        if (UNLIKELY(c->n < IPV6_EXT_HEADER_MIN_LEN)) {
            return parse_fail(PARSE_TRUNCATED_IPV6_EXT);
        }
        if (*proto == IPPROTO_FRAGMENT_) {
            const struct ipv6_frag_header *fh = (const void *)c->p;
            be16 offlg = fh->ip6f_offlg;

            *proto = fh->ip6f_nxt;
            cursor_advance(c, IPV6_FRAG_HEADER_LEN);
            /* Like OVS, any nonzero offset/flags word (even reserved bits
             * alone) makes a fragment; an "atomic" one (all zero) is not. */
            if (offlg) {
                *frag = FLOW_NW_FRAG_ANY;
                if (offlg & htons(IPV6_FRAG_OFF_MASK)) {
                    *frag |= FLOW_NW_FRAG_LATER;
                    *proto = IPPROTO_FRAGMENT_;
                    return PARSE_OK;
                }
            }
            continue;
        }

        const struct ipv6_ext_header *eh = (const void *)c->p;
        len = *proto == IPPROTO_AH_ ? ((size_t)eh->ip6e_len + 2) * 4
                                    : ((size_t)eh->ip6e_len + 1) * 8;
        if (UNLIKELY(c->n < len)) {
            return parse_fail(PARSE_TRUNCATED_IPV6_EXT);
        }
        *proto = eh->ip6e_nxt;
        cursor_advance(c, len);
    }
}

/* Parses an IPv6 header and its extension headers at 'c'.  On success 'c'
 * is at the upper-layer header and covers the rest of the payload. */
static inline enum packet_parse_error
parse_ipv6(struct parse_cursor *c, struct flow *flow)
{
    const struct ipv6_header *ip6 = (const void *)c->p;
    enum packet_parse_error error;
    uint8_t proto, frag = 0;
    size_t plen;
    uint32_t tc_flow;

    if (UNLIKELY(c->n < IPV6_HEADER_LEN)) {
        return parse_fail(PARSE_TRUNCATED_IPV6);
    }
    plen = ntohs(ip6->ip6_plen);
    if (UNLIKELY(plen > c->n - IPV6_HEADER_LEN)) {
        return parse_fail(PARSE_IPV6_PLEN_TOO_BIG);
    }

    /* ipv6_src and ipv6_dst are adjacent in both the header and the flow.
     * OVS sets them before walking the extension headers, so a truncated
     * extension header leaves the addresses and nothing else of L3. */
    memcpy(&flow->ipv6_src, c->p + offsetof(struct ipv6_header, ip6_src),
           2 * sizeof(struct in6_addr));
    tc_flow = ntohl(packet_get_be32(c->p));
    proto = ip6->ip6_nxt;
    c->n = plen;
    c->p += IPV6_HEADER_LEN;

    error = parse_ipv6_ext_headers(c, &proto, &frag);
    if (UNLIKELY(error)) {
        return error;
    }
    flow->ipv6_label = htonl(tc_flow & IPV6_LABEL_MASK);
    flow->nw_tos = (uint8_t)(tc_flow >> IPV6_TCLASS_SHIFT);
    flow->nw_ttl = ip6->ip6_hlim;
    flow->nw_proto = proto;
    flow->nw_frag = frag;
    return PARSE_OK;
}

/* ---- L4 ----------------------------------------------------------------- */

/* Neighbour solicitation or advertisement: 'c' is just past the 8-byte
 * ICMPv6 header and reserved/flags word, at the target address. */
static enum packet_parse_error
parse_nd(struct parse_cursor *c, struct flow *flow)
{
    if (UNLIKELY(c->n < sizeof(struct in6_addr))) {
        return parse_fail(PARSE_TRUNCATED_ND_TARGET);
    }
    memcpy(&flow->nd_target, c->p, sizeof flow->nd_target);
    cursor_advance(c, sizeof(struct in6_addr));

    while (c->n >= ND_OPT_LEN_UNIT) {
        uint8_t type = c->p[0];
        size_t len = (size_t)c->p[1] * ND_OPT_LEN_UNIT;

        if (UNLIKELY(!len || len > c->n)) {
            /* The options cannot be walked further; keep what was found,
             * as OVS does. */
            return parse_fail(PARSE_ND_BAD_OPTION_LEN);
        }
        if (len == ND_LLA_OPT_LEN
            && (type == ND_OPT_SOURCE_LINKADDR
                || type == ND_OPT_TARGET_LINKADDR)) {
            struct eth_addr *lla = type == ND_OPT_SOURCE_LINKADDR
                                       ? &flow->arp_sha
                                       : &flow->arp_tha;

            /* "Already seen" means nonzero, as in OVS: a repeated option
             * makes the message ambiguous, so trust none of it. */
            if (UNLIKELY(!eth_addr_is_zero(*lla))) {
                memset(&flow->nd_target, 0, sizeof flow->nd_target);
                flow->arp_sha = ETH_ADDR_ZERO;
                flow->arp_tha = ETH_ADDR_ZERO;
                return parse_fail(PARSE_ND_DUPLICATE_OPTION);
            }
            memcpy(lla, c->p + 2, ETH_ADDR_LEN);
        }
        cursor_advance(c, len);
    }
    return c->n ? parse_fail(PARSE_TRUNCATED_ND_OPTION) : PARSE_OK;
}

/* Type and code of an ICMP, IGMP or ICMPv6 header go in tp_src and tp_dst,
 * widened to 16 bits in network byte order. */
static inline void
parse_type_code(const struct parse_cursor *c, struct flow *flow)
{
    flow->tp_src = htons(c->p[0]);
    flow->tp_dst = htons(c->p[1]);
}

static inline enum packet_parse_error
parse_l4(struct parse_cursor *c, struct flow *flow)
{
    switch (flow->nw_proto) {
    case IPPROTO_TCP_: {
        size_t hdr_len;

        if (UNLIKELY(c->n < TCP_HEADER_LEN)) {
            return parse_fail(PARSE_TRUNCATED_TCP);
        }
        const struct tcp_header *tcp = (const void *)c->p;
        hdr_len = (size_t)TCP_OFFSET(tcp->tcp_ctl) * 4;
        if (UNLIKELY(hdr_len < TCP_HEADER_LEN)) {
            return parse_fail(PARSE_TCP_BAD_OFFSET);
        }
        if (UNLIKELY(c->n < hdr_len)) {
            return parse_fail(PARSE_TRUNCATED_TCP_OPTIONS);
        }
        /* tp_src and tp_dst are adjacent in every L4 header and the flow. */
        memcpy(&flow->tp_src, c->p, 2 * sizeof(be16));
        flow->tcp_flags = tcp->tcp_ctl & htons(TCP_FLAGS_MASK);
        return PARSE_OK;
    }
    case IPPROTO_UDP_:
        if (UNLIKELY(c->n < UDP_HEADER_LEN)) {
            return parse_fail(PARSE_TRUNCATED_UDP);
        }
        memcpy(&flow->tp_src, c->p, 2 * sizeof(be16));
        return PARSE_OK;
    case IPPROTO_SCTP_:
        if (UNLIKELY(c->n < SCTP_HEADER_LEN)) {
            return parse_fail(PARSE_TRUNCATED_SCTP);
        }
        memcpy(&flow->tp_src, c->p, 2 * sizeof(be16));
        return PARSE_OK;
    case IPPROTO_ICMP_:
        if (UNLIKELY(c->n < ICMP_HEADER_LEN)) {
            return parse_fail(PARSE_TRUNCATED_ICMP);
        }
        parse_type_code(c, flow);
        return PARSE_OK;
    case IPPROTO_IGMP_:
        if (UNLIKELY(c->n < IGMP_HEADER_LEN)) {
            return parse_fail(PARSE_TRUNCATED_IGMP);
        }
        parse_type_code(c, flow);
        return PARSE_OK;
    case IPPROTO_ICMPV6_: {
        uint8_t type;

        if (UNLIKELY(c->n < ICMP6_DATA_HEADER_LEN)) {
            return parse_fail(PARSE_TRUNCATED_ICMPV6);
        }
        parse_type_code(c, flow);
        type = c->p[0];
        if (c->p[1] == 0 && flow->dl_type == htons(ETH_TYPE_IPV6)
            && (type == ND_NEIGHBOR_SOLICIT || type == ND_NEIGHBOR_ADVERT)) {
            cursor_advance(c, ICMP6_DATA_HEADER_LEN);
            return parse_nd(c, flow);
        }
        return PARSE_OK;
    }
    default:
        return PARSE_OK;
    }
}

/* ---- Frame -------------------------------------------------------------- */

struct parse_layers {
    uint16_t l2, l3, l4;
};

static inline uint16_t
parse_offset(const uint8_t *frame, const uint8_t *p)
{
    size_t ofs = (size_t)(p - frame);

    /* Only an IPv6 packet with ~64 kB of extension headers gets here. */
    return LIKELY(ofs < DP_PACKET_OFS_NONE) ? (uint16_t)ofs
                                            : DP_PACKET_OFS_NONE;
}

static inline __attribute__((always_inline)) enum packet_parse_error
parse_frame(const uint8_t *frame, size_t size, struct flow *flow,
            struct parse_layers *layers)
{
    struct parse_cursor c = {frame, size};
    enum packet_parse_error error = PARSE_OK, l3_error;
    const uint8_t *l3;
    be16 dl_type;

    memset(flow, 0, sizeof *flow);
    layers->l2 = layers->l3 = layers->l4 = DP_PACKET_OFS_NONE;

    if (UNLIKELY(c.n < ETH_HEADER_LEN)) {
        return parse_fail(PARSE_TRUNCATED_ETH);
    }
    /* dl_dst and dl_src are adjacent in both the header and the flow. */
    memcpy(&flow->dl_dst, c.p, 2 * sizeof(struct eth_addr));
    layers->l2 = 0;
    cursor_advance(&c, 2 * sizeof(struct eth_addr));
    dl_type = packet_get_be16(c.p);
    if (UNLIKELY(eth_type_is_vlan(dl_type))) {
        error = parse_vlans(&c, flow, &dl_type);
    }
    cursor_advance(&c, sizeof(be16));
    if (UNLIKELY(ntohs(dl_type) < ETH_TYPE_MIN)) {
        dl_type = parse_llc_snap(&c, &error);
    }
    flow->dl_type = dl_type;
    l3 = c.p;
    layers->l3 = parse_offset(frame, l3);

    if (LIKELY(dl_type == htons(ETH_TYPE_IP))) {
        l3_error = parse_ipv4(&c, flow);
        if (UNLIKELY(l3_error)) {
            return parse_first_error(error, l3_error);
        }
        if (UNLIKELY(IP_VER(l3[0]) != 4)) {
            error = parse_first_error(error, parse_fail(PARSE_IP_BAD_VERSION));
        }
    } else if (dl_type == htons(ETH_TYPE_IPV6)) {
        l3_error = parse_ipv6(&c, flow);
        if (UNLIKELY(l3_error)) {
            return parse_first_error(error, l3_error);
        }
        if (UNLIKELY(IP_VER(l3[0]) != 6)) {
            error =
                parse_first_error(error, parse_fail(PARSE_IPV6_BAD_VERSION));
        }
    } else if (dl_type == htons(ETH_TYPE_ARP)
               || dl_type == htons(ETH_TYPE_RARP)) {
        return parse_first_error(error, parse_arp(&c, flow));
    } else if (eth_type_is_mpls(dl_type)) {
        return parse_first_error(error, parse_mpls(&c, flow));
    } else {
        return error;
    }

    layers->l4 = parse_offset(frame, c.p);
    if (UNLIKELY(flow->nw_frag & FLOW_NW_FRAG_LATER)) {
        return error;
    }
    return parse_first_error(error, parse_l4(&c, flow));
}

enum packet_parse_error
packet_parse(struct dp_packet *pkt, struct flow *flow)
{
    struct parse_layers layers;
    enum packet_parse_error error;

    error =
        parse_frame(dp_packet_data(pkt), dp_packet_size(pkt), flow, &layers);
    flow->in_port = pkt->in_port;
    pkt->l2_ofs = layers.l2;
    pkt->l3_ofs = layers.l3;
    pkt->l4_ofs = layers.l4;
    return error;
}

enum packet_parse_error
packet_parse_bytes(const void *data, size_t size, uint32_t in_port,
                   struct flow *flow)
{
    struct parse_layers layers;
    enum packet_parse_error error;

    error = parse_frame(data, size, flow, &layers);
    flow->in_port = in_port;
    return error;
}
