/*
 * packet/packet-mpls.h — MPLS label stack surgery on Ethernet frames.
 *
 * push_mpls inserts a 4-byte label stack entry between the L2 header (its
 * addresses and any VLAN tags) and what followed, and makes the last
 * ethertype an MPLS one; pop_mpls takes the outer entry out again and
 * writes the ethertype it is told; set rewrites bits of the outer entry.
 * The entry is built by the caller (translation copies the IP TTL into a
 * new entry, as Open vSwitch does), so these functions only move bytes.
 * Each returns false and leaves the frame alone when it does not have the
 * shape the operation needs (too short, or not MPLS for pop and set).
 * Offsets follow the bytes (packet.h); after a pop the L3 offset is the
 * exposed payload and the L4 offset unknown, since MPLS frames were never
 * parsed past the label.
 *
 * Thread safety: the caller owns the packet.
 */
#ifndef FLOWSWITCH_PACKET_PACKET_MPLS_H
#define FLOWSWITCH_PACKET_PACKET_MPLS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

struct dp_packet;

/* Offset of the ethertype that follows the VLAN tags of the Ethernet frame
 * 'data' ('size' bytes), or SIZE_MAX if the frame ends before it. */
size_t packet_mpls_ethertype_ofs(const uint8_t *data, size_t size);

bool packet_push_mpls(struct dp_packet *, be32 lse, be16 ethertype);
bool packet_pop_mpls(struct dp_packet *, be16 ethertype);
/* lse = (lse & ~mask) | value, for an MPLS frame. */
bool packet_set_mpls(struct dp_packet *, be32 value, be32 mask);

#endif /* packet/packet-mpls.h */
