/*
 * packet/packet-offload.h — finishing what a sender left to "hardware":
 * partial checksums and GSO frames.
 *
 * A local TCP/IP stack that sends through a device with checksum and
 * segmentation offload (a veth, a tap with offloads on) hands the device
 * frames that are not yet what goes on a wire:
 *
 *   - a *partial checksum*: the L4 checksum field holds only the
 *     pseudo-header sum, and whoever transmits must add the one's
 *     complement sum of the bytes from 'csum_start' to the end of the
 *     frame and store the complement at 'csum_start + csum_offset'
 *     (packet_offload_complete_csum(); like the kernel's
 *     skb_checksum_help(), a result of 0 is stored as 0xffff);
 *   - a *GSO frame*: one TCP (or UDP, with UDP_SEGMENT) "super-frame" of
 *     up to 64 kB whose payload must be cut into 'gso_size' pieces, each
 *     sent with a copy of the headers, made right for it.
 *
 * A port back end that receives such frames (through a vnet header:
 * AF_PACKET's PACKET_VNET_HDR, a tap's IFF_VNET_HDR) describes them with a
 * struct packet_offload and finishes them here *before* the datapath sees
 * them, so that a packet the datapath parses, matches, rewrites, sends to
 * a controller or writes to a capture is always a complete wire frame; no
 * other module needs to know offloads exist.
 *
 * Segmentation is a cursor, struct packet_gso: packet_gso_init() checks the
 * frame once (layout, protocol, sizes) and counts its segments; then
 * packet_gso_segment() writes segment i into a packet the caller provides
 * (from its own pool), so a caller can stop when its batch is full and go
 * on later.  Each segment, as Linux's software GSO would make it:
 *
 *   - the headers of the frame (Ethernet, VLAN tags, IPv4 with options or
 *     IPv6, TCP with options or UDP), then the segment's share of the
 *     payload ('gso_size' bytes, the last one the rest);
 *   - IPv4: total length of the segment, identification + i (the frame's
 *     own for the first), header checksum recomputed; IPv6: payload
 *     length;
 *   - TCP: sequence number + i × gso_size; FIN and PSH only on the last
 *     segment, CWR only on the first; UDP: length;
 *   - the L4 checksum computed in full (pseudo-header, header, payload).
 *
 * Refused (the caller counts and drops): a GSO type other than TCPv4,
 * TCPv6 and UDP_L4 (UFO, SCTP, tunnels: EPROTONOSUPPORT), an IPv6 frame
 * with extension headers before its L4 header (EPROTONOSUPPORT), and a
 * frame whose headers do not say what its vnet header says (EINVAL).
 *
 * Thread safety: pure functions on caller-owned memory.  A struct
 * packet_gso points into the frame it was initialized from, which must
 * stay unchanged until its last segment is written.
 */
#ifndef FLOWSWITCH_PACKET_PACKET_OFFLOAD_H
#define FLOWSWITCH_PACKET_PACKET_OFFLOAD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/packet.h"

enum packet_gso_type {
    PACKET_GSO_NONE,
    PACKET_GSO_TCPV4,
    PACKET_GSO_TCPV6,
    PACKET_GSO_UDP_L4,  /* UDP_SEGMENT: one UDP datagram per segment. */
    PACKET_GSO_UNKNOWN, /* Anything else (UFO, SCTP, tunnels...). */
};

/* What a sender left unfinished in a frame, host byte order, offsets from
 * the first byte of the Ethernet header. */
struct packet_offload {
    bool needs_csum;      /* Partial L4 checksum at csum_start/offset. */
    uint8_t gso_type;     /* enum packet_gso_type. */
    uint16_t gso_size;    /* Payload bytes per segment. */
    uint16_t csum_start;  /* Where the checksummed bytes start (L4). */
    uint16_t csum_offset; /* Where the checksum is, from csum_start. */
};

/* Completes the partial checksum of 'frame[0..len)' described by
 * 'csum_start' and 'csum_offset'.  Returns 0, or EINVAL (changing nothing)
 * if the checksum field does not lie inside the frame past an Ethernet
 * header. */
int packet_offload_complete_csum(void *frame, size_t len, size_t csum_start,
                                 size_t csum_offset);

/* A GSO frame being cut into segments. */
struct packet_gso {
    const uint8_t *frame;
    size_t len;
    uint16_t l3_ofs;     /* IPv4 or IPv6 header. */
    uint16_t l4_ofs;     /* TCP or UDP header. */
    uint16_t hdr_len;    /* Every header, L4's included. */
    uint16_t gso_size;   /* Payload bytes per segment. */
    uint8_t gso_type;    /* PACKET_GSO_TCPV4, _TCPV6 or _UDP_L4. */
    unsigned int n_segs; /* Segments in all (at least 1). */
    unsigned int next;   /* Next segment packet_gso_next() writes. */
};

/* Checks the GSO frame 'frame[0..len)' against 'off' and starts cutting
 * it.  Returns 0, EPROTONOSUPPORT for an offload this module does not
 * perform, or EINVAL for a frame that does not match its description. */
int packet_gso_init(struct packet_gso *, const void *frame, size_t len,
                    const struct packet_offload *off);

/* Writes segment 'i' (< n_segs) of 'gso' at the end of the empty packet
 * 'pkt'. */
void packet_gso_segment(const struct packet_gso *gso, unsigned int i,
                        struct dp_packet *pkt);

/* True while 'gso' has segments that packet_gso_next() has not written. */
static inline bool
packet_gso_pending(const struct packet_gso *gso)
{
    return gso->next < gso->n_segs;
}

/* Writes the next segment into 'pkt' (see packet_gso_segment()). */
static inline void
packet_gso_next(struct packet_gso *gso, struct dp_packet *pkt)
{
    packet_gso_segment(gso, gso->next++, pkt);
}

/* Ends 'gso' (no segment pending). */
static inline void
packet_gso_clear(struct packet_gso *gso)
{
    gso->next = gso->n_segs = 0;
}

#endif /* packet/packet-offload.h */
