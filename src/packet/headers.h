/*
 * packet/headers.h — wire formats of the protocol headers flowswitch parses
 * and rewrites, and their constants.
 *
 * All multi-byte fields are in network byte order (be16/be32).  The structs
 * are packed to their wire layout but are only ever accessed through
 * memcpy-safe helpers or at 2-byte alignment, so they are safe on an
 * arbitrary offset inside a packet buffer (packet/packet.h keeps the L3
 * header 2-byte aligned).
 *
 * Thread safety: constants and pure inline helpers only.
 */
#ifndef FLOWSWITCH_PACKET_HEADERS_H
#define FLOWSWITCH_PACKET_HEADERS_H 1

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/util.h"

#define ETH_ADDR_LEN 6
#define ETH_HEADER_LEN 14
#define VLAN_HEADER_LEN 4
#define ETH_PAYLOAD_MIN 46
#define ETH_TOTAL_MIN (ETH_HEADER_LEN + ETH_PAYLOAD_MIN)

struct eth_addr {
    uint8_t ea[ETH_ADDR_LEN];
};

#define ETH_ADDR_ZERO ((struct eth_addr){{0, 0, 0, 0, 0, 0}})
#define ETH_ADDR_BROADCAST                                                    \
    ((struct eth_addr){{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})

static inline bool
eth_addr_is_zero(struct eth_addr a)
{
    return !(a.ea[0] | a.ea[1] | a.ea[2] | a.ea[3] | a.ea[4] | a.ea[5]);
}

static inline bool
eth_addr_is_multicast(struct eth_addr a)
{
    return a.ea[0] & 1;
}

static inline bool
eth_addr_is_broadcast(struct eth_addr a)
{
    return (a.ea[0] & a.ea[1] & a.ea[2] & a.ea[3] & a.ea[4] & a.ea[5]) == 0xff;
}

static inline bool
eth_addr_equals(struct eth_addr a, struct eth_addr b)
{
    return !memcmp(a.ea, b.ea, ETH_ADDR_LEN);
}

/* The memcpy-safe helpers: a network-order field at any offset of a frame
 * (a memcpy of constant size compiles to one load or store). */
static inline be16
packet_get_be16(const void *p)
{
    be16 v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline be32
packet_get_be32(const void *p)
{
    be32 v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline void
packet_put_be16(void *p, be16 v)
{
    memcpy(p, &v, sizeof v);
}

#define ETH_ADDR_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define ETH_ADDR_ARGS(A)                                                      \
    (A).ea[0], (A).ea[1], (A).ea[2], (A).ea[3], (A).ea[4], (A).ea[5]

#define IP_FMT "%u.%u.%u.%u"
#define IP_ARGS(BE32)                                                         \
    (unsigned int)(ntohl(BE32) >> 24),                                        \
        (unsigned int)((ntohl(BE32) >> 16) & 0xff),                           \
        (unsigned int)((ntohl(BE32) >> 8) & 0xff),                            \
        (unsigned int)(ntohl(BE32) & 0xff)

/* Ethertypes (host byte order; compare with ntohs() or use htons()). */
#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_RARP 0x8035
#define ETH_TYPE_VLAN_8021Q 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_LACP 0x8809
#define ETH_TYPE_MPLS 0x8847
#define ETH_TYPE_MPLS_MCAST 0x8848
#define ETH_TYPE_MIN 0x600      /* Below this, the field is an 802.3 length. */
#define FLOW_DL_TYPE_NONE 0x5ff /* dl_type of an 802.3 frame without SNAP. */

/* IP protocols. */
#define IPPROTO_ICMP_ 1
#define IPPROTO_IGMP_ 2
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

/* IPv6 extension headers (and the two "next header" values that end the
 * chain without an upper-layer header we parse). */
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_ESP_ 50
#define IPPROTO_AH_ 51
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60

/* VLAN TCI. */
#define VLAN_VID_MASK 0x0fff
#define VLAN_CFI 0x1000 /* In struct flow: "a tag is present". */
#define VLAN_PCP_MASK 0xe000
#define VLAN_PCP_SHIFT 13

/* IP TOS byte. */
#define IP_DSCP_MASK 0xfc
#define IP_ECN_MASK 0x03

/* TCP flags (12 bits, in the low bits of a be16 in struct flow). */
#define TCP_FIN 0x001
#define TCP_SYN 0x002
#define TCP_RST 0x004
#define TCP_PSH 0x008
#define TCP_ACK 0x010
#define TCP_URG 0x020
#define TCP_ECE 0x040
#define TCP_CWR 0x080
#define TCP_NS 0x100
#define TCP_FLAGS_MASK 0x0fff

/* ICMPv6 neighbour discovery. */
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_OPT_SOURCE_LINKADDR 1
#define ND_OPT_TARGET_LINKADDR 2

/* ARP. */
#define ARP_HRD_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct eth_header {
    struct eth_addr eth_dst;
    struct eth_addr eth_src;
    be16 eth_type;
} __attribute__((packed));
BUILD_ASSERT(sizeof(struct eth_header) == ETH_HEADER_LEN);

struct vlan_header {
    be16 vlan_tci;
    be16 vlan_next_type;
} __attribute__((packed));
BUILD_ASSERT(sizeof(struct vlan_header) == VLAN_HEADER_LEN);

/* 802.2 LLC + SNAP. */
struct llc_snap_header {
    uint8_t dsap;
    uint8_t ssap;
    uint8_t control;
    uint8_t oui[3];
    be16 snap_type;
} __attribute__((packed));
#define LLC_SNAP_HEADER_LEN 8
#define LLC_DSAP_SNAP 0xaa
#define LLC_SSAP_SNAP 0xaa
#define LLC_CNTL_SNAP 3
#define LLC_HEADER_LEN 3 /* DSAP, SSAP, control: the part without SNAP. */

struct arp_eth_header {
    be16 ar_hrd;
    be16 ar_pro;
    uint8_t ar_hln;
    uint8_t ar_pln;
    be16 ar_op;
    struct eth_addr ar_sha;
    be32 ar_spa;
    struct eth_addr ar_tha;
    be32 ar_tpa;
} __attribute__((packed));
#define ARP_ETH_HEADER_LEN 28
BUILD_ASSERT(sizeof(struct arp_eth_header) == ARP_ETH_HEADER_LEN);

struct ip_header {
    uint8_t ip_ihl_ver;
    uint8_t ip_tos;
    be16 ip_tot_len;
    be16 ip_id;
    be16 ip_frag_off;
    uint8_t ip_ttl;
    uint8_t ip_proto;
    be16 ip_csum;
    be32 ip_src;
    be32 ip_dst;
} __attribute__((packed));
#define IP_HEADER_LEN 20
BUILD_ASSERT(sizeof(struct ip_header) == IP_HEADER_LEN);
#define IP_VER(ihl_ver) ((ihl_ver) >> 4)
#define IP_IHL(ihl_ver) ((ihl_ver)&15)
#define IP_DONT_FRAGMENT 0x4000
#define IP_MORE_FRAGMENTS 0x2000
#define IP_FRAG_OFF_MASK 0x1fff
/* Nonzero in a fragment: more-fragments set or a nonzero offset. */
#define IP_IS_FRAGMENT_MASK (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)

struct ipv6_header {
    be32 ip6_flow; /* Version (4), traffic class (8), flow label (20). */
    be16 ip6_plen;
    uint8_t ip6_nxt;
    uint8_t ip6_hlim;
    struct in6_addr ip6_src;
    struct in6_addr ip6_dst;
} __attribute__((packed));
#define IPV6_HEADER_LEN 40
BUILD_ASSERT(sizeof(struct ipv6_header) == IPV6_HEADER_LEN);
#define IPV6_LABEL_MASK 0x000fffff
#define IPV6_TCLASS_SHIFT 20

/* An MPLS label stack entry (RFC 3032): label (20 bits), traffic class
 * (3), bottom of stack (1), TTL (8), in host order once ntohl()'d. */
#define MPLS_HLEN 4
#define MPLS_LABEL_MASK 0xfffff000
#define MPLS_LABEL_SHIFT 12
#define MPLS_TC_MASK 0x00000e00
#define MPLS_TC_SHIFT 9
#define MPLS_BOS_MASK 0x00000100
#define MPLS_BOS_SHIFT 8
#define MPLS_TTL_MASK 0x000000ff

static inline bool
eth_type_is_mpls(be16 type)
{
    return type == htons(ETH_TYPE_MPLS) || type == htons(ETH_TYPE_MPLS_MCAST);
}

/* Common start of the hop-by-hop, routing and destination options headers
 * (and of AH, whose length counts 4-byte units less 2 instead of 8-byte
 * units less 1).  Every extension header is at least 8 bytes long. */
struct ipv6_ext_header {
    uint8_t ip6e_nxt;
    uint8_t ip6e_len;
} __attribute__((packed));
#define IPV6_EXT_HEADER_MIN_LEN 8

struct ipv6_frag_header {
    uint8_t ip6f_nxt;
    uint8_t ip6f_reserved;
    be16 ip6f_offlg; /* Offset (13 bits) << 3 | reserved (2) | more (1). */
    be32 ip6f_ident;
} __attribute__((packed));
#define IPV6_FRAG_OFF_MASK 0xfff8
#define IPV6_FRAG_MORE 0x0001
#define IPV6_FRAG_HEADER_LEN 8

struct tcp_header {
    be16 tcp_src;
    be16 tcp_dst;
    be32 tcp_seq;
    be32 tcp_ack;
    be16 tcp_ctl; /* Data offset (4), reserved (3), flags (9). */
    be16 tcp_winsz;
    be16 tcp_csum;
    be16 tcp_urg;
} __attribute__((packed));
#define TCP_HEADER_LEN 20
#define TCP_OFFSET(ctl) (ntohs(ctl) >> 12)
#define TCP_CTL_FLAGS(ctl) (ntohs(ctl) & 0x1ff)

struct udp_header {
    be16 udp_src;
    be16 udp_dst;
    be16 udp_len;
    be16 udp_csum;
} __attribute__((packed));
#define UDP_HEADER_LEN 8

struct sctp_header {
    be16 sctp_src;
    be16 sctp_dst;
    be32 sctp_vtag;
    be32 sctp_csum;
} __attribute__((packed));
#define SCTP_HEADER_LEN 12

struct icmp_header {
    uint8_t icmp_type;
    uint8_t icmp_code;
    be16 icmp_csum;
    be32 icmp_rest;
} __attribute__((packed));
#define ICMP_HEADER_LEN 8

struct icmp6_header {
    uint8_t icmp6_type;
    uint8_t icmp6_code;
    be16 icmp6_cksum;
} __attribute__((packed));
#define ICMP6_HEADER_LEN 4
/* The 4-byte ICMPv6 header plus the first 4 bytes of the message body, the
 * least Open vSwitch (and flowswitch) needs to read type and code. */
#define ICMP6_DATA_HEADER_LEN 8

struct igmp_header {
    uint8_t igmp_type;
    uint8_t igmp_code; /* Max response time in IGMPv2. */
    be16 igmp_csum;
    be32 igmp_group;
} __attribute__((packed));
#define IGMP_HEADER_LEN 8

/* ND message body after the 4-byte ICMPv6 header: 4 reserved/flag bytes and
 * the target address, then options. */
#define ND_MSG_LEN (4 + 16)
/* ND option lengths count 8-byte units; a link-layer address option for
 * Ethernet is exactly one unit (type, length, 6-byte address). */
#define ND_OPT_LEN_UNIT 8
#define ND_LLA_OPT_LEN 8

#endif /* packet/headers.h */
