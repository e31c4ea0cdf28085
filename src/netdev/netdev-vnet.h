/*
 * netdev/netdev-vnet.h — receiving frames that come with a virtio-net
 * header (private to src/netdev).
 *
 * Ports on a Linux interface ask the kernel for a struct virtio_net_hdr in
 * front of every frame (afpacket: PACKET_VNET_HDR; tap: IFF_VNET_HDR with
 * TUNSETOFFLOAD), so that a frame a local stack sent with checksum or
 * segmentation offload arrives *with its description* instead of as
 * unfinished bytes.  The port tests every frame's header with
 * netdev_vnet_needs_work(); a frame that needs nothing (the common case:
 * one test of two bytes, inline) goes on as before; otherwise the port
 * decodes the header (netdev_vnet_decode()) and finishes the frame here,
 * with packet/packet-offload.h, before the datapath sees it:
 *
 *   - a partial checksum is completed (netdev_vnet_rx_append());
 *   - a GSO frame is cut into segments of its gso_size (what the sender's
 *     stack would have sent without the offload, and what Linux's software
 *     GSO sends to a device without it): netdev_vnet_gso_start() checks
 *     it, then netdev_vnet_gso_drain() hands segments into the rx batch in
 *     pool packets until the batch is full; the port keeps the frame (in
 *     its ring or buffer) and drains the rest at its next recv before it
 *     reads anything new.  The datapath thus only ever sees wire frames,
 *     and counts, matches and forwards each segment like any frame.
 *
 * Every refusal is a counted drop (rx_dropped and a coverage counter):
 * netdev_vnet_rx_bad_csum (checksum position outside the frame),
 * netdev_vnet_rx_gso_unsupported (UFO, SCTP, tunnels, IPv6 extension
 * headers), netdev_vnet_rx_gso_bad (headers that contradict the vnet
 * header), netdev_vnet_rx_gso_abandoned (segments still to drain when the
 * port closed).  Work done is counted too: netdev_vnet_rx_csum_completed,
 * netdev_vnet_rx_gso_frames, netdev_vnet_rx_gso_segments.
 *
 * The port sends with no vnet header where it has a choice (afpacket's tx
 * socket does not ask for one) and a zeroed one where it must (a tap's
 * fd reads and writes with the same header): every frame leaving the
 * switch is complete.
 *
 * Thread safety: called by the thread that polls the port; a struct
 * packet_gso being drained belongs to that thread.
 */
#ifndef FLOWSWITCH_NETDEV_NETDEV_VNET_H
#define FLOWSWITCH_NETDEV_NETDEV_VNET_H 1

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/packet-offload.h"
#include "packet/packet.h"

struct netdev;

/* UDP_SEGMENT frames: in the kernel's headers from Linux 6.2 on. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* True if the frame behind 'vh' needs work (a partial checksum or GSO):
 * the whole per-frame cost of the vnet header for the others. */
static inline bool
netdev_vnet_needs_work(const struct virtio_net_hdr *vh)
{
    return (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
           | (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE);
}

/* Decodes 'vh' into '*off' (host byte order; virtio_net_hdr fields are in
 * the host's order for AF_PACKET and for a tap without TUNSETVNETLE/BE on
 * a little-endian host), moving csum_start by 'shift' bytes for a VLAN tag
 * the port put back in front of it. */
void netdev_vnet_decode(const struct virtio_net_hdr *vh, size_t shift,
                        struct packet_offload *off);

/* Appends 'pkt', received with 'off' (no GSO), to 'batch' (which has
 * room), once its partial checksum is completed if it has one, and
 * returns its size; or recycles it and returns 0 if it must be dropped
 * (counted in 'netdev''s rx_dropped). */
uint64_t netdev_vnet_rx_append(struct netdev *, struct dp_packet *pkt,
                               const struct packet_offload *off,
                               struct dp_packet_batch *batch);

/* Starts cutting the GSO frame 'frame[0..len)' into '*gso'.  Returns true,
 * or false for a frame to drop (counted in 'netdev''s rx_dropped). */
bool netdev_vnet_gso_start(struct netdev *, struct packet_gso *gso,
                           const void *frame, size_t len,
                           const struct packet_offload *off);

/* Appends segments of 'gso', in pool packets, to 'batch' until it is full
 * or 'gso' has none left, and returns the bytes appended. */
uint64_t netdev_vnet_gso_drain(struct packet_gso *gso,
                               struct dp_packet_batch *batch);

/* Drops the segments of 'gso' not yet drained, counted in 'netdev''s
 * rx_dropped and netdev_vnet_rx_gso_abandoned: for a port that closes (or
 * unmaps the ring 'gso' points into) in the middle of a GSO frame. */
void netdev_vnet_gso_abandon(struct netdev *, struct packet_gso *gso);

#endif /* netdev/netdev-vnet.h */
