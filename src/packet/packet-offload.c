/* packet/packet-offload.c — partial checksums and GSO segmentation (see
 * packet-offload.h). */
#include "packet/packet-offload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "packet/headers.h"
#include "packet/packet-csum.h"

/* Stores 'csum' at 'p', mapping 0 to 0xffff as the kernel does (for UDP
 * 0 would mean "no checksum"; for TCP both mean the same). */
static void
packet_offload_store_csum(uint8_t *p, be16 csum)
{
    if (!csum) {
        csum = 0xffff;
    }
    memcpy(p, &csum, sizeof csum);
}

int
packet_offload_complete_csum(void *frame, size_t len, size_t csum_start,
                             size_t csum_offset)
{
    uint8_t *data = frame;

    if (csum_start < ETH_HEADER_LEN || csum_start > len
        || csum_offset > len - csum_start
        || len - csum_start - csum_offset < sizeof(be16)) {
        return EINVAL;
    }
    /* The field holds the pseudo-header sum: summing over it adds that. */
    packet_offload_store_csum(data + csum_start + csum_offset,
                              packet_csum_finish(packet_csum_add(
                                  0, data + csum_start, len - csum_start)));
    return 0;
}

/* Finds the L3 header of 'frame' past its VLAN tags: sets '*l3_ofs' and
 * returns its Ethertype (host order), or 0 if the frame ends first. */
static uint16_t
packet_gso_find_l3(const uint8_t *frame, size_t len, size_t *l3_ofs)
{
    size_t ofs = ETH_HEADER_LEN - sizeof(be16);

    for (;;) {
        be16 type;

        if (ofs + sizeof type > len) {
            return 0;
        }
        memcpy(&type, frame + ofs, sizeof type);
        ofs += sizeof type;
        if (ntohs(type) != ETH_TYPE_VLAN_8021Q
            && ntohs(type) != ETH_TYPE_VLAN_8021AD) {
            *l3_ofs = ofs;
            return ntohs(type);
        }
        ofs += sizeof(be16); /* The tag's TCI. */
    }
}

/* Checks the IPv4 or IPv6 header at gso->l3_ofs, which the L4 header at
 * gso->l4_ofs must follow directly, and returns its L4 protocol, or -1
 * with '*errorp' set. */
static int
packet_gso_check_l3(const struct packet_gso *gso, uint16_t eth_type,
                    int *errorp)
{
    const uint8_t *l3 = gso->frame + gso->l3_ofs;
    size_t l3_len = (size_t)gso->l4_ofs - gso->l3_ofs;

    *errorp = EINVAL;
    if (eth_type == ETH_TYPE_IP && gso->gso_type != PACKET_GSO_TCPV6) {
        struct ip_header ip;

        if (l3_len < IP_HEADER_LEN) {
            return -1;
        }
        memcpy(&ip, l3, sizeof ip);
        if (IP_VER(ip.ip_ihl_ver) != 4
            || (size_t)IP_IHL(ip.ip_ihl_ver) * 4 != l3_len
            || ntohs(ip.ip_frag_off) & IP_IS_FRAGMENT_MASK) {
            return -1;
        }
        return ip.ip_proto;
    }
    if (eth_type == ETH_TYPE_IPV6 && gso->gso_type != PACKET_GSO_TCPV4) {
        struct ipv6_header ip6;

        if (l3_len < IPV6_HEADER_LEN) {
            return -1;
        }
        memcpy(&ip6, l3, sizeof ip6);
        if (ntohl(ip6.ip6_flow) >> 28 != 6) {
            return -1;
        }
        if (l3_len > IPV6_HEADER_LEN) {
            *errorp = EPROTONOSUPPORT; /* Extension headers. */
            return -1;
        }
        return ip6.ip6_nxt;
    }
    return -1;
}

/* Checks the L4 header and sets gso->hdr_len.  Returns 0 or EINVAL. */
static int
packet_gso_check_l4(struct packet_gso *gso, int proto, size_t csum_offset)
{
    size_t l4_len;

    if (gso->gso_type == PACKET_GSO_UDP_L4) {
        if (proto != IPPROTO_UDP_
            || csum_offset != offsetof(struct udp_header, udp_csum)) {
            return EINVAL;
        }
        l4_len = UDP_HEADER_LEN;
    } else {
        struct tcp_header th;

        if (proto != IPPROTO_TCP_
            || csum_offset != offsetof(struct tcp_header, tcp_csum)
            || gso->len - gso->l4_ofs < TCP_HEADER_LEN) {
            return EINVAL;
        }
        memcpy(&th, gso->frame + gso->l4_ofs, sizeof th);
        l4_len = (size_t)TCP_OFFSET(th.tcp_ctl) * 4;
        if (l4_len < TCP_HEADER_LEN) {
            return EINVAL;
        }
    }
    if (l4_len > gso->len - gso->l4_ofs) {
        return EINVAL;
    }
    gso->hdr_len = (uint16_t)(gso->l4_ofs + l4_len);
    return 0;
}

int
packet_gso_init(struct packet_gso *gso, const void *frame, size_t len,
                const struct packet_offload *off)
{
    size_t l3_ofs = 0, payload;
    uint16_t eth_type;
    int proto, error;

    packet_gso_clear(gso);
    if (off->gso_type == PACKET_GSO_NONE
        || off->gso_type >= PACKET_GSO_UNKNOWN) {
        return EPROTONOSUPPORT;
    }
    eth_type = packet_gso_find_l3(frame, len, &l3_ofs);
    if (!off->needs_csum || !off->gso_size || !eth_type
        || off->csum_start <= l3_ofs || off->csum_start >= len) {
        return EINVAL;
    }
    gso->frame = frame;
    gso->len = len;
    gso->l3_ofs = (uint16_t)l3_ofs;
    gso->l4_ofs = off->csum_start;
    gso->gso_size = off->gso_size;
    gso->gso_type = off->gso_type;
    proto = packet_gso_check_l3(gso, eth_type, &error);
    if (proto < 0) {
        return error;
    }
    error = packet_gso_check_l4(gso, proto, off->csum_offset);
    if (error) {
        return error;
    }
    if ((size_t)gso->hdr_len - gso->l3_ofs + gso->gso_size > UINT16_MAX) {
        return EINVAL; /* A segment's IP length would not fit. */
    }
    payload = len - gso->hdr_len;
    gso->n_segs =
        payload ? (unsigned int)DIV_ROUND_UP(payload, gso->gso_size) : 1;
    gso->next = 0;
    return 0;
}

/* Sets the IPv4 header of a segment with 'l3_len' bytes of L3 packet. */
static void
packet_gso_fix_ipv4(uint8_t *l3, size_t l3_len, unsigned int i)
{
    struct ip_header ip;
    size_t ihl;

    memcpy(&ip, l3, sizeof ip);
    ihl = (size_t)IP_IHL(ip.ip_ihl_ver) * 4;
    ip.ip_tot_len = htons((uint16_t)l3_len);
    ip.ip_id = htons((uint16_t)(ntohs(ip.ip_id) + i));
    ip.ip_csum = 0;
    memcpy(l3, &ip, sizeof ip);
    ip.ip_csum = packet_csum_finish(packet_csum_add(0, l3, ihl));
    memcpy(l3 + offsetof(struct ip_header, ip_csum), &ip.ip_csum,
           sizeof ip.ip_csum);
}

/* Sets the IPv4 or IPv6 header 'l3' of segment 'i' of 'gso', whose L4
 * part is 'l4_len' bytes of protocol 'proto', and returns the segment's
 * pseudo-header sum. */
static uint32_t
packet_gso_fix_l3(const struct packet_gso *gso, uint8_t *l3, uint8_t proto,
                  size_t l4_len, unsigned int i)
{
    if (IP_VER(l3[0]) == 6) {
        be16 plen = htons((uint16_t)l4_len);

        memcpy(l3 + offsetof(struct ipv6_header, ip6_plen), &plen,
               sizeof plen);
        return packet_csum_pseudo_ipv6(
            l3 + offsetof(struct ipv6_header, ip6_src),
            l3 + offsetof(struct ipv6_header, ip6_dst), proto,
            (uint32_t)l4_len);
    } else {
        struct ip_header ip;

        packet_gso_fix_ipv4(l3, gso->l4_ofs - gso->l3_ofs + l4_len, i);
        memcpy(&ip, l3, sizeof ip);
        return packet_csum_pseudo_ipv4(ip.ip_src, ip.ip_dst, proto,
                                       (uint16_t)l4_len);
    }
}

/* Sets the TCP header of segment 'i' of 'gso' that carries payload from
 * 'payload_ofs' on. */
static void
packet_gso_fix_tcp(const struct packet_gso *gso, uint8_t *l4, unsigned int i,
                   size_t payload_ofs)
{
    struct tcp_header th;
    uint16_t ctl;

    memcpy(&th, l4, sizeof th);
    th.tcp_seq = htonl(ntohl(th.tcp_seq) + (uint32_t)payload_ofs);
    ctl = ntohs(th.tcp_ctl);
    if (i + 1 < gso->n_segs) {
        ctl &= (uint16_t) ~(TCP_FIN | TCP_PSH);
    }
    if (i) {
        ctl &= (uint16_t)~TCP_CWR;
    }
    th.tcp_ctl = htons(ctl);
    th.tcp_csum = 0;
    memcpy(l4, &th, sizeof th);
}

void
packet_gso_segment(const struct packet_gso *gso, unsigned int i,
                   struct dp_packet *pkt)
{
    size_t payload_ofs = (size_t)i * gso->gso_size;
    size_t payload_len =
        MIN((size_t)gso->gso_size, gso->len - gso->hdr_len - payload_ofs);
    size_t l4_len = gso->hdr_len - gso->l4_ofs + payload_len;
    bool tcp = gso->gso_type != PACKET_GSO_UDP_L4;
    uint8_t *data, *l3, *l4, *csum;
    uint32_t sum;

    data = dp_packet_put_uninit(pkt, gso->hdr_len + payload_len);
    memcpy(data, gso->frame, gso->hdr_len);
    memcpy(data + gso->hdr_len, gso->frame + gso->hdr_len + payload_ofs,
           payload_len);
    l3 = data + gso->l3_ofs;
    l4 = data + gso->l4_ofs;
    sum = packet_gso_fix_l3(gso, l3, tcp ? IPPROTO_TCP_ : IPPROTO_UDP_, l4_len,
                            i);
    if (tcp) {
        packet_gso_fix_tcp(gso, l4, i, payload_ofs);
        csum = l4 + offsetof(struct tcp_header, tcp_csum);
    } else {
        be16 udp_len = htons((uint16_t)l4_len);

        memcpy(l4 + offsetof(struct udp_header, udp_len), &udp_len,
               sizeof udp_len);
        csum = l4 + offsetof(struct udp_header, udp_csum);
        memset(csum, 0, sizeof(be16));
    }
    packet_offload_store_csum(
        csum, packet_csum_finish(packet_csum_add(sum, l4, l4_len)));
}
