/* datapath/dp-actions.c — datapath action lists: building them and running
 * the header rewrites (see dp-actions.h); their text is dp-actions-text.c.
 *
 * Rewrites read and write the headers through the packed wire structs of
 * packet/headers.h, at the offsets packet_parse() recorded, and check that
 * the header is really there (ethertype before the L3 header, protocol
 * before the L4 header, enough bytes) before touching it: a set that does
 * not apply is a no-op, never an out-of-bounds write. */
#include "datapath/dp-actions.h"

#include <arpa/inet.h>
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "datapath/dp-csum.h"
#include "lib/atomic.h"
#include "lib/pool.h"
#include "packet/headers.h"
#include "packet/packet-mpls.h"
#include "packet/packet.h"

/* ---- Lists -------------------------------------------------------------- */

/* Lists of fewer than DP_ACTIONS_POOLED actions (nearly every
 * translation's) come from process-wide pools, one per length
 * (lib/pool.h): a flow setup freezes one, and whichever thread drops the
 * last reference (the revalidator, the RCU callbacks) gives it back
 * without malloc.  Longer ones are malloc'd; the length says which. */
#define DP_ACTIONS_POOLED 4

static struct pool *dp_actions_pools[DP_ACTIONS_POOLED];
static pthread_once_t dp_actions_pools_once = PTHREAD_ONCE_INIT;

static void
dp_actions_pools_init(void)
{
    for (size_t n = 0; n < DP_ACTIONS_POOLED; n++) {
        dp_actions_pools[n] = pool_create(
            "dp-actions",
            sizeof(struct dp_actions) + n * sizeof(struct dp_action), 0);
    }
}

struct dp_actions *
dp_actions_create(const struct dp_action *a, size_t n)
{
    struct dp_actions *actions;

    if (n < DP_ACTIONS_POOLED) {
        pthread_once(&dp_actions_pools_once, dp_actions_pools_init);
        actions = pool_alloc(dp_actions_pools[n]);
    } else {
        actions = xmalloc(sizeof *actions + n * sizeof *a);
    }
    actions->refcnt = 1;
    actions->n = (uint32_t)n;
    if (n) {
        memcpy(actions->a, a, n * sizeof *a);
    }
    return actions;
}

size_t
dp_actions_trim_memory(uint64_t idle_ms)
{
    size_t bytes = 0;

    pthread_once(&dp_actions_pools_once, dp_actions_pools_init);
    for (size_t n = 0; n < DP_ACTIONS_POOLED; n++) {
        bytes += pool_trim_idle(dp_actions_pools[n], idle_ms);
    }
    return bytes;
}

struct dp_actions *
dp_actions_create_drop(void)
{
    return dp_actions_create(NULL, 0);
}

struct dp_actions *
dp_actions_ref(const struct dp_actions *actions_)
{
    struct dp_actions *actions = (struct dp_actions *)actions_;

    if (actions) {
        atomic_fetch_add_relaxed(&actions->refcnt, 1);
    }
    return actions;
}

void
dp_actions_unref(struct dp_actions *actions)
{
    if (actions && atomic_sub_fetch_acq_rel(&actions->refcnt, 1) == 0) {
        if (actions->n < DP_ACTIONS_POOLED) {
            pool_free(actions);
        } else {
            free(actions);
        }
    }
}

static bool
dp_set_fields_equal(enum dp_set_header header, const union dp_set_fields *a,
                    const union dp_set_fields *b)
{
    switch (header) {
    case DP_SET_ETH:
        return eth_addr_equals(a->eth.src, b->eth.src)
               && eth_addr_equals(a->eth.dst, b->eth.dst);
    case DP_SET_VLAN:
        return a->vlan.tci == b->vlan.tci;
    case DP_SET_IPV4:
        return a->ipv4.src == b->ipv4.src && a->ipv4.dst == b->ipv4.dst
               && a->ipv4.tos == b->ipv4.tos && a->ipv4.ttl == b->ipv4.ttl;
    case DP_SET_IPV6:
        return !memcmp(&a->ipv6.src, &b->ipv6.src, sizeof a->ipv6.src)
               && !memcmp(&a->ipv6.dst, &b->ipv6.dst, sizeof a->ipv6.dst)
               && a->ipv6.label == b->ipv6.label
               && a->ipv6.tclass == b->ipv6.tclass
               && a->ipv6.hlimit == b->ipv6.hlimit;
    case DP_SET_TCP:
    case DP_SET_UDP:
    case DP_SET_SCTP:
        return a->l4.src == b->l4.src && a->l4.dst == b->l4.dst;
    case DP_SET_ARP:
        return a->arp.sip == b->arp.sip && a->arp.tip == b->arp.tip
               && a->arp.op == b->arp.op
               && eth_addr_equals(a->arp.sha, b->arp.sha)
               && eth_addr_equals(a->arp.tha, b->arp.tha);
    case DP_SET_ICMP:
    case DP_SET_ICMPV6:
        return a->icmp.type == b->icmp.type && a->icmp.code == b->icmp.code;
    case DP_SET_ND:
        return !memcmp(&a->nd.target, &b->nd.target, sizeof a->nd.target)
               && eth_addr_equals(a->nd.sll, b->nd.sll)
               && eth_addr_equals(a->nd.tll, b->nd.tll);
    case DP_SET_MPLS:
        return a->mpls.lse == b->mpls.lse;
    case DP_SET_N_HEADERS:
    default:
        return false;
    }
}

static bool
dp_action_equal(const struct dp_action *a, const struct dp_action *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case DP_ACTION_OUTPUT:
        return a->port == b->port;
    case DP_ACTION_SET:
        return a->set.header == b->set.header
               && dp_set_fields_equal(a->set.header, &a->set.value,
                                      &b->set.value)
               && dp_set_fields_equal(a->set.header, &a->set.mask,
                                      &b->set.mask);
    case DP_ACTION_PUSH_VLAN:
        return a->push_vlan.tpid == b->push_vlan.tpid
               && a->push_vlan.tci == b->push_vlan.tci;
    case DP_ACTION_POP_VLAN:
        return true;
    case DP_ACTION_PUSH_MPLS:
        return a->push_mpls.lse == b->push_mpls.lse
               && a->push_mpls.ethertype == b->push_mpls.ethertype;
    case DP_ACTION_POP_MPLS:
        return a->pop_mpls_ethertype == b->pop_mpls_ethertype;
    case DP_ACTION_USERSPACE:
        return a->userspace.len == b->userspace.len
               && !memcmp(a->userspace.data, b->userspace.data,
                          a->userspace.len);
    case DP_ACTION_METER:
        return a->meter_id == b->meter_id;
    case DP_ACTION_RECIRC:
        return a->recirc_id == b->recirc_id;
    default:
        return false;
    }
}

bool
dp_actions_equal(const struct dp_actions *a, const struct dp_actions *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (uint32_t i = 0; i < a->n; i++) {
        if (!dp_action_equal(&a->a[i], &b->a[i])) {
            return false;
        }
    }
    return true;
}

/* ---- Building ----------------------------------------------------------- */

void
dp_action_buf_init(struct dp_action_buf *buf)
{
    buf->a = buf->inline_a;
    buf->n = 0;
    buf->allocated = DP_ACTION_BUF_INLINE;
}

void
dp_action_buf_uninit(struct dp_action_buf *buf)
{
    if (buf->a != buf->inline_a) {
        free(buf->a);
    }
    dp_action_buf_init(buf);
}

struct dp_action *
dp_action_buf_put(struct dp_action_buf *buf, enum dp_action_type type)
{
    struct dp_action *a;

    buf->a = xgrow_inline(buf->a, buf->inline_a, &buf->allocated, buf->n + 1,
                          sizeof *buf->a);
    a = &buf->a[buf->n++];
    memset(a, 0, sizeof *a);
    a->type = type;
    return a;
}

void
dp_action_put_output(struct dp_action_buf *buf, uint32_t port)
{
    dp_action_buf_put(buf, DP_ACTION_OUTPUT)->port = port;
}

void
dp_action_put_push_vlan(struct dp_action_buf *buf, be16 tpid, be16 tci)
{
    struct dp_action *a = dp_action_buf_put(buf, DP_ACTION_PUSH_VLAN);

    a->push_vlan.tpid = tpid;
    a->push_vlan.tci = tci & ~htons(VLAN_CFI);
}

void
dp_action_put_pop_vlan(struct dp_action_buf *buf)
{
    dp_action_buf_put(buf, DP_ACTION_POP_VLAN);
}

void
dp_action_put_meter(struct dp_action_buf *buf, uint32_t meter_id)
{
    dp_action_buf_put(buf, DP_ACTION_METER)->meter_id = meter_id;
}

void
dp_action_put_recirc(struct dp_action_buf *buf, uint32_t recirc_id)
{
    dp_action_buf_put(buf, DP_ACTION_RECIRC)->recirc_id = recirc_id;
}

void
dp_action_put_push_mpls(struct dp_action_buf *buf, be32 lse, be16 ethertype)
{
    struct dp_action *a = dp_action_buf_put(buf, DP_ACTION_PUSH_MPLS);

    a->push_mpls.lse = lse;
    a->push_mpls.ethertype = ethertype;
}

void
dp_action_put_pop_mpls(struct dp_action_buf *buf, be16 ethertype)
{
    dp_action_buf_put(buf, DP_ACTION_POP_MPLS)->pop_mpls_ethertype = ethertype;
}

void
dp_action_put_userspace(struct dp_action_buf *buf, const void *data,
                        size_t len)
{
    struct dp_action *a = dp_action_buf_put(buf, DP_ACTION_USERSPACE);

    len = MIN(len, (size_t)DP_USERDATA_MAX);
    a->userspace.len = (uint8_t)len;
    if (len) {
        memcpy(a->userspace.data, data, len);
    }
}

size_t
dp_set_header_size(enum dp_set_header header)
{
    switch (header) {
    case DP_SET_ETH:
        return sizeof(struct dp_set_eth);
    case DP_SET_VLAN:
        return sizeof(struct dp_set_vlan);
    case DP_SET_IPV4:
        return sizeof(struct dp_set_ipv4);
    case DP_SET_IPV6:
        return sizeof(struct dp_set_ipv6);
    case DP_SET_TCP:
    case DP_SET_UDP:
    case DP_SET_SCTP:
        return sizeof(struct dp_set_l4);
    case DP_SET_ARP:
        return sizeof(struct dp_set_arp);
    case DP_SET_ICMP:
    case DP_SET_ICMPV6:
        return sizeof(struct dp_set_icmp);
    case DP_SET_ND:
        return sizeof(struct dp_set_nd);
    case DP_SET_MPLS:
        return sizeof(struct dp_set_mpls);
    case DP_SET_N_HEADERS:
    default:
        return 0;
    }
}

/* The all-ones mask of 'header' (padding stays zero). */
static void
dp_set_full_mask(enum dp_set_header header, union dp_set_fields *m)
{
    memset(m, 0, sizeof *m);
    switch (header) {
    case DP_SET_ETH:
        m->eth.src = ETH_ADDR_BROADCAST;
        m->eth.dst = ETH_ADDR_BROADCAST;
        break;
    case DP_SET_VLAN:
        m->vlan.tci = htons(VLAN_VID_MASK | VLAN_PCP_MASK);
        break;
    case DP_SET_IPV4:
        m->ipv4.src = m->ipv4.dst = UINT32_MAX;
        m->ipv4.tos = m->ipv4.ttl = UINT8_MAX;
        break;
    case DP_SET_IPV6:
        memset(&m->ipv6.src, 0xff, sizeof m->ipv6.src);
        memset(&m->ipv6.dst, 0xff, sizeof m->ipv6.dst);
        m->ipv6.label = htonl(IPV6_LABEL_MASK);
        m->ipv6.tclass = m->ipv6.hlimit = UINT8_MAX;
        break;
    case DP_SET_TCP:
    case DP_SET_UDP:
    case DP_SET_SCTP:
        m->l4.src = m->l4.dst = UINT16_MAX;
        break;
    case DP_SET_ARP:
        m->arp.sip = m->arp.tip = UINT32_MAX;
        m->arp.op = UINT16_MAX;
        m->arp.sha = ETH_ADDR_BROADCAST;
        m->arp.tha = ETH_ADDR_BROADCAST;
        break;
    case DP_SET_ICMP:
    case DP_SET_ICMPV6:
        m->icmp.type = m->icmp.code = UINT8_MAX;
        break;
    case DP_SET_ND:
        memset(&m->nd.target, 0xff, sizeof m->nd.target);
        m->nd.sll = ETH_ADDR_BROADCAST;
        m->nd.tll = ETH_ADDR_BROADCAST;
        break;
    case DP_SET_MPLS:
        m->mpls.lse = UINT32_MAX;
        break;
    case DP_SET_N_HEADERS:
    default:
        break;
    }
}

void
dp_action_put_set(struct dp_action_buf *buf, enum dp_set_header header,
                  const void *value, const void *mask)
{
    struct dp_action *a = dp_action_buf_put(buf, DP_ACTION_SET);
    size_t size = dp_set_header_size(header);
    union dp_set_fields full;
    uint8_t *v = (uint8_t *)&a->set.value;
    uint8_t *m = (uint8_t *)&a->set.mask;

    a->set.header = header;
    dp_set_full_mask(header, &full);
    memcpy(v, value, size);
    if (mask) {
        memcpy(m, mask, size);
    } else {
        memcpy(m, &full, size);
    }
    /* Keep only the bits the header has, and pre-mask the value. */
    for (size_t i = 0; i < size; i++) {
        m[i] &= ((const uint8_t *)&full)[i];
        v[i] &= m[i];
    }
}

struct dp_actions *
dp_action_buf_freeze(const struct dp_action_buf *buf)
{
    return dp_actions_create(buf->a, buf->n);
}

/* ---- CRC32c ------------------------------------------------------------- */

#if !defined(__SSE4_2__)
static uint32_t dp_crc32c_table[256];

__attribute__((constructor)) static void
dp_crc32c_init_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
        dp_crc32c_table[i] = c;
    }
}
#endif

uint32_t
dp_crc32c_update(uint32_t crc, const void *data_, size_t n)
{
    const uint8_t *p = data_;

#if defined(__SSE4_2__)
    uint64_t crc64 = crc;

    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;

        memcpy(&w, p, sizeof w);
        crc64 = _mm_crc32_u64(crc64, w);
    }
    crc = (uint32_t)crc64;
    for (; n; n--) {
        crc = _mm_crc32_u8(crc, *p++);
    }
#else
    for (; n; n--) {
        crc = dp_crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
#endif
    return crc;
}

/* ---- Header rewrites ---------------------------------------------------- */

/* The ethertype that announces the L3 header: the two bytes just before it
 * (after any VLAN tags or LLC/SNAP), or 0 if there is no L3 header. */
static be16
dp_packet_l3_type(const struct dp_packet *pkt)
{
    if (pkt->l3_ofs == DP_PACKET_OFS_NONE || pkt->l3_ofs < ETH_HEADER_LEN) {
        return 0;
    }
    return packet_get_be16((const uint8_t *)dp_packet_data(pkt) + pkt->l3_ofs
                           - 2);
}

static struct ip_header *
dp_packet_ipv4(const struct dp_packet *pkt)
{
    if (dp_packet_l3_type(pkt) != htons(ETH_TYPE_IP)
        || dp_packet_l3_size(pkt) < IP_HEADER_LEN) {
        return NULL;
    }
    return dp_packet_l3(pkt);
}

static struct ipv6_header *
dp_packet_ipv6(const struct dp_packet *pkt)
{
    if (dp_packet_l3_type(pkt) != htons(ETH_TYPE_IPV6)
        || dp_packet_l3_size(pkt) < IPV6_HEADER_LEN) {
        return NULL;
    }
    return dp_packet_l3(pkt);
}

/* For an IPv6 packet with an L4 header: walks the extension headers from
 * the fixed header to the L4 header and returns the upper-layer protocol,
 * or -1 if the chain does not end exactly at the L4 header.  Sets
 * '*routingp' if a routing header is on the way. */
static int
dp_ipv6_l4_proto(const struct dp_packet *pkt, bool *routingp)
{
    const uint8_t *l3 = dp_packet_l3(pkt);
    const struct ipv6_header *ip6 = (const void *)l3;
    size_t ofs = IPV6_HEADER_LEN;
    size_t end = (size_t)pkt->l4_ofs - pkt->l3_ofs;
    uint8_t nxt = ip6->ip6_nxt;

    *routingp = false;
    while (ofs < end) {
        const struct ipv6_ext_header *ext = (const void *)(l3 + ofs);
        size_t len;

        if (end - ofs < IPV6_EXT_HEADER_MIN_LEN) {
            return -1;
        }
        switch (nxt) {
        case IPPROTO_HOPOPTS_:
        case IPPROTO_DSTOPTS_:
            len = ((size_t)ext->ip6e_len + 1) * 8;
            break;
        case IPPROTO_ROUTING_:
            *routingp = true;
            len = ((size_t)ext->ip6e_len + 1) * 8;
            break;
        case IPPROTO_AH_:
            len = ((size_t)ext->ip6e_len + 2) * 4;
            break;
        case IPPROTO_FRAGMENT_:
            len = IPV6_FRAG_HEADER_LEN;
            break;
        default:
            return -1;
        }
        nxt = ext->ip6e_nxt;
        ofs += len;
    }
    return ofs == end ? nxt : -1;
}

/* The L4 protocol of 'pkt' (IPv4 or IPv6) if it has a complete L4 header,
 * else -1. */
static int
dp_packet_l4_proto(const struct dp_packet *pkt)
{
    const struct ip_header *ip;
    bool routing;

    if (pkt->l4_ofs == DP_PACKET_OFS_NONE) {
        return -1;
    }
    ip = dp_packet_ipv4(pkt);
    if (ip) {
        return ip->ip_proto;
    }
    if (dp_packet_ipv6(pkt)) {
        return dp_ipv6_l4_proto(pkt, &routing);
    }
    return -1;
}

/* Applies 'new = (old & ~mask) | value' to 'n' bytes; returns true if
 * anything changed. */
static bool
dp_masked_bytes(uint8_t *dst, const uint8_t *value, const uint8_t *mask,
                size_t n)
{
    bool changed = false;

    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)((dst[i] & ~mask[i]) | value[i]);

        changed |= b != dst[i];
        dst[i] = b;
    }
    return changed;
}

static bool
dp_set_eth(struct dp_packet *pkt, const struct dp_set_eth *v,
           const struct dp_set_eth *m)
{
    struct eth_header *eh = dp_packet_data(pkt);
    bool changed;

    if (dp_packet_size(pkt) < ETH_HEADER_LEN) {
        return false;
    }
    changed =
        dp_masked_bytes(eh->eth_src.ea, v->src.ea, m->src.ea, ETH_ADDR_LEN);
    changed |=
        dp_masked_bytes(eh->eth_dst.ea, v->dst.ea, m->dst.ea, ETH_ADDR_LEN);
    return changed;
}

static bool
dp_eth_type_is_vlan(be16 type)
{
    return type == htons(ETH_TYPE_VLAN_8021Q)
           || type == htons(ETH_TYPE_VLAN_8021AD);
}

static bool
dp_set_vlan(struct dp_packet *pkt, const struct dp_set_vlan *v,
            const struct dp_set_vlan *m)
{
    uint8_t *data = dp_packet_data(pkt);
    be16 old, new;

    if (dp_packet_size(pkt) < ETH_HEADER_LEN + VLAN_HEADER_LEN
        || !dp_eth_type_is_vlan(packet_get_be16(data + 12))) {
        return false;
    }
    old = packet_get_be16(data + 14);
    new = (old & ~m->tci) | v->tci;
    packet_put_be16(data + 14, new);
    return new != old;
}

/* Fixes up the checksum of the L4 header of an IPv4 or IPv6 packet after
 * the 'n'-byte pseudo-header field 'old' became 'new' (n is 4 or 16). */
static void
dp_l4_pseudo_update(struct dp_packet *pkt, int proto, const void *old,
                    const void *new, size_t n)
{
    size_t l4_size = dp_packet_l4_size(pkt);
    uint8_t *l4 = dp_packet_l4(pkt);
    uint8_t *csump;
    be16 csum;

    if (proto == IPPROTO_TCP_ && l4_size >= TCP_HEADER_LEN) {
        csump = l4 + offsetof(struct tcp_header, tcp_csum);
    } else if (proto == IPPROTO_UDP_ && l4_size >= UDP_HEADER_LEN) {
        csump = l4 + offsetof(struct udp_header, udp_csum);
    } else if (proto == IPPROTO_ICMPV6_ && n == 16
               && l4_size >= ICMP6_HEADER_LEN) {
        csump = l4 + offsetof(struct icmp6_header, icmp6_cksum);
    } else {
        return;
    }

    csum = packet_get_be16(csump);
    if (proto == IPPROTO_UDP_ && !csum) {
        return; /* No checksum. */
    }
    if (n == 4) {
        be32 o, w;

        memcpy(&o, old, 4);
        memcpy(&w, new, 4);
        csum = dp_csum_update32(csum, o, w);
    } else {
        csum = dp_csum_update128(csum, old, new);
    }
    if (proto == IPPROTO_UDP_ && !csum) {
        csum = htons(0xffff);
    }
    packet_put_be16(csump, csum);
}

/* Sets the byte 'field' of the IPv4 header 'ip' to 'v', updating the
 * header checksum through the aligned 16-bit word that holds it. */
static void
dp_ipv4_set_u8(struct ip_header *ip, uint8_t *field, uint8_t v)
{
    uint8_t *word = (uint8_t *)ip + (((size_t)(field - (uint8_t *)ip)) & ~1u);
    be16 old = packet_get_be16(word);
    be16 new;

    *field = v;
    new = packet_get_be16(word);
    ip->ip_csum = dp_csum_update16(ip->ip_csum, old, new);
}

static bool
dp_ipv4_set_addr(struct dp_packet *pkt, struct ip_header *ip, size_t ofs,
                 be32 value, be32 mask)
{
    uint8_t *addrp = (uint8_t *)ip + ofs;
    be32 old, new;

    memcpy(&old, addrp, sizeof old);
    new = (old & ~mask) | value;

    if (new == old) {
        return false;
    }
    ip->ip_csum = dp_csum_update32(ip->ip_csum, old, new);
    if (pkt->l4_ofs != DP_PACKET_OFS_NONE) {
        dp_l4_pseudo_update(pkt, ip->ip_proto, &old, &new, 4);
    }
    memcpy(addrp, &new, sizeof new);
    return true;
}

static bool
dp_set_ipv4(struct dp_packet *pkt, const struct dp_set_ipv4 *v,
            const struct dp_set_ipv4 *m)
{
    struct ip_header *ip = dp_packet_ipv4(pkt);
    bool changed = false;

    if (!ip) {
        return false;
    }
    if (m->src) {
        changed |= dp_ipv4_set_addr(
            pkt, ip, offsetof(struct ip_header, ip_src), v->src, m->src);
    }
    if (m->dst) {
        changed |= dp_ipv4_set_addr(
            pkt, ip, offsetof(struct ip_header, ip_dst), v->dst, m->dst);
    }
    if (m->tos) {
        uint8_t tos = (uint8_t)((ip->ip_tos & ~m->tos) | v->tos);

        if (tos != ip->ip_tos) {
            dp_ipv4_set_u8(ip, &ip->ip_tos, tos);
            changed = true;
        }
    }
    if (m->ttl) {
        uint8_t ttl = (uint8_t)((ip->ip_ttl & ~m->ttl) | v->ttl);

        if (ttl != ip->ip_ttl) {
            dp_ipv4_set_u8(ip, &ip->ip_ttl, ttl);
            changed = true;
        }
    }
    return changed;
}

static bool
dp_ipv6_set_addr(struct dp_packet *pkt, struct in6_addr *addrp,
                 const struct in6_addr *value, const struct in6_addr *mask,
                 bool update_l4)
{
    struct in6_addr old = *addrp;
    struct in6_addr new = old;

    if (!dp_masked_bytes(new.s6_addr, value->s6_addr, mask->s6_addr, 16)) {
        return false;
    }
    if (update_l4) {
        bool routing;
        int proto = dp_ipv6_l4_proto(pkt, &routing);

        if (proto >= 0) {
            dp_l4_pseudo_update(pkt, proto, &old, &new, 16);
        }
    }
    memcpy(addrp, &new, sizeof new);
    return true;
}

static bool
dp_set_ipv6(struct dp_packet *pkt, const struct dp_set_ipv6 *v,
            const struct dp_set_ipv6 *m)
{
    struct ipv6_header *ip6 = dp_packet_ipv6(pkt);
    bool has_l4, routing = false;
    bool changed = false;

    if (!ip6) {
        return false;
    }
    has_l4 = pkt->l4_ofs != DP_PACKET_OFS_NONE;
    if (has_l4) {
        has_l4 = dp_ipv6_l4_proto(pkt, &routing) >= 0;
    }
    if (!is_all_zeros(&m->src, sizeof m->src)) {
        struct in6_addr src;

        memcpy(&src, &ip6->ip6_src, sizeof src);
        changed |= dp_ipv6_set_addr(pkt, &src, &v->src, &m->src, has_l4);
        memcpy(&ip6->ip6_src, &src, sizeof src);
    }
    if (!is_all_zeros(&m->dst, sizeof m->dst)) {
        struct in6_addr dst;

        memcpy(&dst, &ip6->ip6_dst, sizeof dst);
        changed |=
            dp_ipv6_set_addr(pkt, &dst, &v->dst, &m->dst, has_l4 && !routing);
        memcpy(&ip6->ip6_dst, &dst, sizeof dst);
    }
    if (m->label || m->tclass) {
        uint32_t flow = ntohl(ip6->ip6_flow);
        uint32_t tc = (flow >> IPV6_TCLASS_SHIFT) & 0xff;
        uint32_t label = flow & IPV6_LABEL_MASK;
        uint32_t new;

        tc = (tc & ~(uint32_t)m->tclass) | v->tclass;
        label = (label & ~ntohl(m->label)) | ntohl(v->label);
        new = (flow & 0xf0000000u) | (tc << IPV6_TCLASS_SHIFT) | label;
        if (new != flow) {
            ip6->ip6_flow = htonl(new);
            changed = true;
        }
    }
    if (m->hlimit) {
        uint8_t hl = (uint8_t)((ip6->ip6_hlim & ~m->hlimit) | v->hlimit);

        changed |= hl != ip6->ip6_hlim;
        ip6->ip6_hlim = hl;
    }
    return changed;
}

/* Bytes of the L4 segment (without Ethernet padding), from the IP
 * length. */
static size_t
dp_packet_l4_len(const struct dp_packet *pkt)
{
    size_t l4_size = dp_packet_l4_size(pkt);
    size_t l3_hdrs = (size_t)pkt->l4_ofs - pkt->l3_ofs;
    const struct ip_header *ip = dp_packet_ipv4(pkt);
    size_t ip_len;

    if (ip) {
        ip_len = ntohs(ip->ip_tot_len);
    } else {
        const struct ipv6_header *ip6 = dp_packet_ipv6(pkt);

        ip_len = IPV6_HEADER_LEN + ntohs(ip6->ip6_plen);
    }
    if (ip_len < l3_hdrs) {
        return 0;
    }
    return MIN(l4_size, ip_len - l3_hdrs);
}

static bool
dp_set_l4(struct dp_packet *pkt, enum dp_set_header header,
          const struct dp_set_l4 *v, const struct dp_set_l4 *m)
{
    static const int protos[DP_SET_N_HEADERS] = {
        [DP_SET_TCP] = IPPROTO_TCP_,
        [DP_SET_UDP] = IPPROTO_UDP_,
        [DP_SET_SCTP] = IPPROTO_SCTP_,
    };
    static const size_t min_len[DP_SET_N_HEADERS] = {
        [DP_SET_TCP] = TCP_HEADER_LEN,
        [DP_SET_UDP] = UDP_HEADER_LEN,
        [DP_SET_SCTP] = SCTP_HEADER_LEN,
    };
    uint8_t *l4 = dp_packet_l4(pkt);
    be16 old_src, old_dst, src, dst;

    if (dp_packet_l4_proto(pkt) != protos[header]
        || dp_packet_l4_size(pkt) < min_len[header]) {
        return false;
    }
    /* Source and destination ports are the first two words of all three
     * headers. */
    old_src = packet_get_be16(l4);
    old_dst = packet_get_be16(l4 + 2);
    src = (old_src & ~m->src) | v->src;
    dst = (old_dst & ~m->dst) | v->dst;
    if (src == old_src && dst == old_dst) {
        return false;
    }

    if (header == DP_SET_SCTP) {
        struct sctp_header *sh = (void *)l4;
        size_t len = dp_packet_l4_len(pkt);
        uint32_t old_csum, zero = 0, old_good, new_good;

        if (len < SCTP_HEADER_LEN) {
            return false;
        }
        memcpy(&old_csum, &sh->sctp_csum, 4);
        memcpy(&sh->sctp_csum, &zero, 4);
        old_good = htole32(dp_crc32c(l4, len));
        packet_put_be16(l4, src);
        packet_put_be16(l4 + 2, dst);
        new_good = htole32(dp_crc32c(l4, len));
        old_csum ^= old_good ^ new_good;
        memcpy(&sh->sctp_csum, &old_csum, 4);
        return true;
    }

    uint8_t *csump =
        l4
        + (header == DP_SET_TCP ? offsetof(struct tcp_header, tcp_csum)
                                : offsetof(struct udp_header, udp_csum));
    be16 csum = packet_get_be16(csump);

    if (header == DP_SET_TCP || csum) {
        csum = dp_csum_update16(csum, old_src, src);
        csum = dp_csum_update16(csum, old_dst, dst);
        if (header == DP_SET_UDP && !csum) {
            csum = htons(0xffff);
        }
        packet_put_be16(csump, csum);
    }
    packet_put_be16(l4, src);
    packet_put_be16(l4 + 2, dst);
    return true;
}

/* ARP over Ethernet and IPv4 (the only kind packet_parse() reads fields
 * from).  ARP has no checksum. */
static bool
dp_set_arp(struct dp_packet *pkt, const struct dp_set_arp *v,
           const struct dp_set_arp *m)
{
    be16 type = dp_packet_l3_type(pkt);
    struct arp_eth_header *arp;
    be16 op;
    bool changed;

    if ((type != htons(ETH_TYPE_ARP) && type != htons(ETH_TYPE_RARP))
        || dp_packet_l3_size(pkt) < ARP_ETH_HEADER_LEN) {
        return false;
    }
    arp = dp_packet_l3(pkt);
    if (arp->ar_hrd != htons(ARP_HRD_ETHERNET)
        || arp->ar_pro != htons(ETH_TYPE_IP) || arp->ar_hln != ETH_ADDR_LEN
        || arp->ar_pln != 4) {
        return false;
    }
    changed =
        dp_masked_bytes((uint8_t *)&arp->ar_spa, (const uint8_t *)&v->sip,
                        (const uint8_t *)&m->sip, sizeof v->sip);
    changed |=
        dp_masked_bytes((uint8_t *)&arp->ar_tpa, (const uint8_t *)&v->tip,
                        (const uint8_t *)&m->tip, sizeof v->tip);
    changed |=
        dp_masked_bytes(arp->ar_sha.ea, v->sha.ea, m->sha.ea, ETH_ADDR_LEN);
    changed |=
        dp_masked_bytes(arp->ar_tha.ea, v->tha.ea, m->tha.ea, ETH_ADDR_LEN);
    op = (arp->ar_op & ~m->op) | v->op;
    changed |= op != arp->ar_op;
    arp->ar_op = op;
    return changed;
}

/* Type and code of an ICMP ('proto' IPPROTO_ICMP_) or ICMPv6 header: the
 * first word of both, covered by their checksum. */
static bool
dp_set_icmp(struct dp_packet *pkt, int proto, const struct dp_set_icmp *v,
            const struct dp_set_icmp *m)
{
    struct icmp6_header *ih;
    be16 old, new;

    if (dp_packet_l4_proto(pkt) != proto
        || dp_packet_l4_size(pkt) < ICMP6_HEADER_LEN) {
        return false;
    }
    if (proto == IPPROTO_ICMP_ ? !dp_packet_ipv4(pkt) : !dp_packet_ipv6(pkt)) {
        return false;
    }
    ih = dp_packet_l4(pkt);
    old = packet_get_be16(ih);
    ih->icmp6_type = (uint8_t)((ih->icmp6_type & ~m->type) | v->type);
    ih->icmp6_code = (uint8_t)((ih->icmp6_code & ~m->code) | v->code);
    new = packet_get_be16(ih);
    if (new == old) {
        return false;
    }
    packet_put_be16(
        &ih->icmp6_cksum,
        dp_csum_update16(packet_get_be16(&ih->icmp6_cksum), old, new));
    return true;
}

/* Rewrites the 6-byte link-layer address 'lla' of an ND option under
 * 'value'/'mask', keeping the ICMPv6 checksum '*csump' right. */
static bool
dp_nd_set_lla(uint8_t *lla, struct eth_addr value, struct eth_addr mask,
              be16 *csump)
{
    uint8_t old[ETH_ADDR_LEN];

    memcpy(old, lla, ETH_ADDR_LEN);
    if (!dp_masked_bytes(lla, value.ea, mask.ea, ETH_ADDR_LEN)) {
        return false;
    }
    /* The option starts 8-byte aligned in the message, so the address
     * (2 bytes in) covers three whole checksum words. */
    for (size_t i = 0; i < ETH_ADDR_LEN; i += 2) {
        *csump = dp_csum_update16(*csump, packet_get_be16(old + i),
                                  packet_get_be16(lla + i));
    }
    return true;
}

/* An ND solicitation or advertisement: the target address, and the
 * link-layer address in the first source or target link-layer address
 * option, whichever comes first (a message carries one of them). */
static bool
dp_set_nd(struct dp_packet *pkt, const struct dp_set_nd *v,
          const struct dp_set_nd *m)
{
    size_t size = dp_packet_l4_size(pkt);
    uint8_t *l4 = dp_packet_l4(pkt);
    size_t ofs = ICMP6_HEADER_LEN + ND_MSG_LEN;
    struct in6_addr target;
    bool changed = false;
    be16 csum;

    if (dp_packet_l4_proto(pkt) != IPPROTO_ICMPV6_ || !dp_packet_ipv6(pkt)
        || size < ofs
        || (l4[0] != ND_NEIGHBOR_SOLICIT && l4[0] != ND_NEIGHBOR_ADVERT)
        || l4[1] != 0) {
        return false;
    }
    csum = packet_get_be16(l4 + offsetof(struct icmp6_header, icmp6_cksum));
    memcpy(&target, l4 + ICMP6_DATA_HEADER_LEN, sizeof target);
    if (dp_masked_bytes(target.s6_addr, v->target.s6_addr, m->target.s6_addr,
                        sizeof target)) {
        csum = dp_csum_update128(csum, l4 + ICMP6_DATA_HEADER_LEN, &target);
        memcpy(l4 + ICMP6_DATA_HEADER_LEN, &target, sizeof target);
        changed = true;
    }
    while (size - ofs >= ND_LLA_OPT_LEN) {
        uint8_t type = l4[ofs];
        size_t len = (size_t)l4[ofs + 1] * ND_OPT_LEN_UNIT;

        if (!len || len > size - ofs) {
            break;
        }
        if (len == ND_LLA_OPT_LEN && type == ND_OPT_SOURCE_LINKADDR) {
            changed |= dp_nd_set_lla(l4 + ofs + 2, v->sll, m->sll, &csum);
            break;
        }
        if (len == ND_LLA_OPT_LEN && type == ND_OPT_TARGET_LINKADDR) {
            changed |= dp_nd_set_lla(l4 + ofs + 2, v->tll, m->tll, &csum);
            break;
        }
        ofs += len;
    }
    packet_put_be16(l4 + offsetof(struct icmp6_header, icmp6_cksum), csum);
    return changed;
}

static bool
dp_push_vlan(struct dp_packet *pkt, be16 tpid, be16 tci)
{
    uint8_t *p;

    if (dp_packet_size(pkt) < ETH_HEADER_LEN) {
        return false;
    }
    p = dp_packet_push_uninit(pkt, VLAN_HEADER_LEN);
    memmove(p, p + VLAN_HEADER_LEN, 2 * (size_t)ETH_ADDR_LEN);
    packet_put_be16(p + 12, tpid);
    packet_put_be16(p + 14, tci);
    pkt->l2_ofs = 0;
    return true;
}

static bool
dp_pop_vlan(struct dp_packet *pkt)
{
    uint8_t *p = dp_packet_data(pkt);

    if (dp_packet_size(pkt) < ETH_HEADER_LEN + VLAN_HEADER_LEN
        || !dp_eth_type_is_vlan(packet_get_be16(p + 12))) {
        return false;
    }
    memmove(p + VLAN_HEADER_LEN, p, 2 * (size_t)ETH_ADDR_LEN);
    dp_packet_pull(pkt, VLAN_HEADER_LEN);
    pkt->l2_ofs = 0;
    return true;
}

bool
dp_action_type_rewrites(enum dp_action_type type)
{
    return type == DP_ACTION_SET || type == DP_ACTION_PUSH_VLAN
           || type == DP_ACTION_POP_VLAN || type == DP_ACTION_PUSH_MPLS
           || type == DP_ACTION_POP_MPLS;
}

bool
dp_action_apply(const struct dp_action *a, struct dp_packet *pkt)
{
    bool changed = false;

    switch (a->type) {
    case DP_ACTION_SET:
        switch (a->set.header) {
        case DP_SET_ETH:
            changed = dp_set_eth(pkt, &a->set.value.eth, &a->set.mask.eth);
            break;
        case DP_SET_VLAN:
            changed = dp_set_vlan(pkt, &a->set.value.vlan, &a->set.mask.vlan);
            break;
        case DP_SET_IPV4:
            changed = dp_set_ipv4(pkt, &a->set.value.ipv4, &a->set.mask.ipv4);
            break;
        case DP_SET_IPV6:
            changed = dp_set_ipv6(pkt, &a->set.value.ipv6, &a->set.mask.ipv6);
            break;
        case DP_SET_TCP:
        case DP_SET_UDP:
        case DP_SET_SCTP:
            changed = dp_set_l4(pkt, a->set.header, &a->set.value.l4,
                                &a->set.mask.l4);
            break;
        case DP_SET_ARP:
            changed = dp_set_arp(pkt, &a->set.value.arp, &a->set.mask.arp);
            break;
        case DP_SET_ICMP:
            changed = dp_set_icmp(pkt, IPPROTO_ICMP_, &a->set.value.icmp,
                                  &a->set.mask.icmp);
            break;
        case DP_SET_ICMPV6:
            changed = dp_set_icmp(pkt, IPPROTO_ICMPV6_, &a->set.value.icmp,
                                  &a->set.mask.icmp);
            break;
        case DP_SET_ND:
            changed = dp_set_nd(pkt, &a->set.value.nd, &a->set.mask.nd);
            break;
        case DP_SET_MPLS:
            changed = packet_set_mpls(pkt, a->set.value.mpls.lse,
                                      a->set.mask.mpls.lse);
            break;
        case DP_SET_N_HEADERS:
        default:
            break;
        }
        break;
    case DP_ACTION_PUSH_VLAN:
        changed = dp_push_vlan(pkt, a->push_vlan.tpid, a->push_vlan.tci);
        break;
    case DP_ACTION_POP_VLAN:
        changed = dp_pop_vlan(pkt);
        break;
    case DP_ACTION_PUSH_MPLS:
        changed =
            packet_push_mpls(pkt, a->push_mpls.lse, a->push_mpls.ethertype);
        break;
    case DP_ACTION_POP_MPLS:
        changed = packet_pop_mpls(pkt, a->pop_mpls_ethertype);
        break;
    case DP_ACTION_OUTPUT:
    case DP_ACTION_USERSPACE:
    case DP_ACTION_METER:
    case DP_ACTION_RECIRC:
    default:
        break;
    }
    if (changed) {
        dp_packet_reset_rss_hash(pkt);
    }
    return changed;
}
