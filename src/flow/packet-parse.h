/*
 * flow/packet-parse.h — parsing a frame's headers into a flow key.
 *
 * packet_parse() is the first thing the datapath does with every received
 * packet: it reads the Ethernet, VLAN, LLC/SNAP, MPLS, ARP, IPv4, IPv6
 * (with its extension headers), TCP, UDP, SCTP, ICMP, IGMP and
 * ICMPv6/neighbour discovery headers into a struct flow (flow/flow.h) and
 * records in the packet where the L2, L3 and L4 headers start.
 *
 * It lives in flow/, beside struct flow, as flow_extract() lives in Open
 * vSwitch's lib/flow.c: flow/ builds on packet/'s buffers and header
 * layouts (packet/packet.h, packet/headers.h), and packet/ knows nothing of
 * flows, so the module folders stay layered (scripts/check-layers).
 *
 * Semantics.  The flow key is the one Open vSwitch's flow_extract() builds
 * (lib/flow.c, with other_config:vlan-limit=2), field for field, so that
 * megaflows, ofproto/trace output and ovs-ofctl matches mean the same thing
 * here as there.  The notable rules, all from OVS:
 *  - Up to two VLAN tags (0x8100 or 0x88a8, in either order) go into
 *    flow->vlans[], outer first, with VLAN_CFI set in the tci.  A third tag
 *    stays in the payload and dl_type is its TPID.
 *  - An 802.3 frame (length instead of ethertype) has dl_type 0x05ff unless it
 *    carries LLC/SNAP with OUI 0 and an ethertype, which becomes dl_type.
 *  - An MPLS frame (dl_type 0x8847 or 0x8848) has its outer label stack
 *    entry in mpls_lse and nothing beyond: what the labels carry is not
 *    known from the frame.  An ethertype without a whole entry leaves
 *    mpls_lse 0.
 *  - ARP and RARP fill nw_src/nw_dst/arp_sha/arp_tha only for Ethernet/IPv4
 *    ARP (hrd 1, pro 0x0800, hln 6, pln 4); nw_proto is the opcode only when
 *    it fits in 8 bits.
 *  - The IPv4 total length and IPv6 payload length must fit inside the frame
 *    (the rest is Ethernet padding and is ignored); otherwise, as for an IHL
 *    below 5, the packet is L2 only: dl_type is set and every L3 field is 0.
 *    The IP version nibble is not checked (OVS does not either) but a wrong
 *    one is counted.
 *  - IPv6 extension headers (hop-by-hop, routing, destination options, AH,
 *    fragment) are walked to the upper-layer protocol; a truncated one leaves
 *    only ipv6_src/ipv6_dst set.  A non-first fragment, IPv4 or IPv6, has no
 *    L4 fields, and an IPv6 one has nw_proto 44 (fragment).
 *  - L4 headers must be complete (TCP: with its options, data offset >= 5);
 *    otherwise the L4 fields stay 0 and the L3 fields remain.  L4 parsing
 *    follows nw_proto whatever the IP version (ICMP inside IPv6 gives type
 *    and code, as in OVS); ICMP, ICMPv6 and IGMP put the type in tp_src and
 *    the code in tp_dst.
 *  - Neighbour solicitations and advertisements (code 0) fill nd_target and
 *    the source/target link-layer address options (arp_sha/arp_tha); a
 *    repeated SLL or TLL option voids all three.  Unlike OVS, ND fields are
 *    only parsed over IPv6: OVS also fills them for "ICMPv6" carried in IPv4.
 *
 * Malformed input.  Parsing never reads outside [data, data + size).  Every
 * time it stops early, or falls back, because the frame is truncated or
 * malformed, it increments the coverage counter named after the reason
 * ("parse_truncated_tcp", ...; see packet_parse_error_name()) and reports the
 * reason as its return value, so nothing is refused silently.  The flow is
 * still usable: it holds every layer that was complete, which is what the
 * switch forwards on.
 *
 * Performance.  This is the hot path of the switch: no allocation, no locks,
 * one pass over the headers, error handling out of line.
 *
 * Thread safety: reentrant; counters are per thread (lib/coverage.h).
 */
#ifndef FLOWSWITCH_FLOW_PACKET_PARSE_H
#define FLOWSWITCH_FLOW_PACKET_PARSE_H 1

#include <stddef.h>
#include <stdint.h>

struct dp_packet;
struct flow;

/* Why a parse stopped early or fell back (PARSE_OK if it did not).  Each
 * value but PARSE_OK has a coverage counter "parse_<name>". */
enum packet_parse_error {
    PARSE_OK = 0,
    PARSE_TRUNCATED_ETH,         /* Shorter than an Ethernet header. */
    PARSE_TRUNCATED_VLAN,        /* VLAN TPID without tag and ethertype. */
    PARSE_VLAN_LIMIT,            /* A third VLAN tag (left in the payload). */
    PARSE_TRUNCATED_LLC,         /* 802.3 frame without a full LLC header. */
    PARSE_TRUNCATED_ARP,         /* ARP shorter than 28 bytes. */
    PARSE_ARP_NOT_ETH_IP,        /* ARP for other than Ethernet/IPv4. */
    PARSE_ARP_OP_TOO_BIG,        /* ARP opcode > 255: nw_proto left 0. */
    PARSE_TRUNCATED_IP,          /* Shorter than a 20-byte IPv4 header. */
    PARSE_IP_BAD_IHL,            /* IHL < 5. */
    PARSE_TRUNCATED_IP_OPTIONS,  /* Frame ends inside the IPv4 options. */
    PARSE_IP_TOT_LEN_TOO_BIG,    /* Total length beyond the frame. */
    PARSE_IP_TOT_LEN_TOO_SMALL,  /* Total length shorter than the header. */
    PARSE_IP_BAD_VERSION,        /* Version != 4 (parsed anyway). */
    PARSE_TRUNCATED_IPV6,        /* Shorter than a 40-byte IPv6 header. */
    PARSE_IPV6_PLEN_TOO_BIG,     /* Payload length beyond the frame. */
    PARSE_IPV6_BAD_VERSION,      /* Version != 6 (parsed anyway). */
    PARSE_TRUNCATED_IPV6_EXT,    /* Payload ends inside an extension hdr. */
    PARSE_TRUNCATED_TCP,         /* Less than 20 bytes of TCP header. */
    PARSE_TCP_BAD_OFFSET,        /* TCP data offset < 5. */
    PARSE_TRUNCATED_TCP_OPTIONS, /* Payload ends inside the TCP options. */
    PARSE_TRUNCATED_UDP,         /* Less than 8 bytes of UDP header. */
    PARSE_TRUNCATED_SCTP,        /* Less than 12 bytes of SCTP header. */
    PARSE_TRUNCATED_ICMP,        /* Less than 8 bytes of ICMP header. */
    PARSE_TRUNCATED_IGMP,        /* Less than 8 bytes of IGMP header. */
    PARSE_TRUNCATED_ICMPV6,      /* Less than 8 bytes of ICMPv6 header. */
    PARSE_TRUNCATED_ND_TARGET,   /* ND message without a full target. */
    PARSE_ND_BAD_OPTION_LEN,     /* ND option of length 0 or past the end. */
    PARSE_TRUNCATED_ND_OPTION,   /* 1 to 7 stray bytes after the options. */
    PARSE_ND_DUPLICATE_OPTION,   /* Second SLL or TLL: ND fields voided. */
    PARSE_TRUNCATED_MPLS,        /* MPLS ethertype without a full LSE. */
    PARSE_N_ERRORS
};

/* Name of 'error' without the "parse_" prefix of its coverage counter
 * ("truncated_tcp"), or "ok" for PARSE_OK. */
const char *packet_parse_error_name(enum packet_parse_error error);

/* Parses the frame in 'pkt' into 'flow' (zeroed first; flow->in_port is set
 * from pkt->in_port) and sets pkt's L2/L3/L4 offsets.  Returns PARSE_OK or
 * the first reason the parse stopped early or fell back. */
enum packet_parse_error packet_parse(struct dp_packet *pkt, struct flow *flow);

/* The same on a bare buffer: parses 'data[0..size)', received on 'in_port',
 * into 'flow'. */
enum packet_parse_error packet_parse_bytes(const void *data, size_t size,
                                           uint32_t in_port,
                                           struct flow *flow);

#endif /* flow/packet-parse.h */
