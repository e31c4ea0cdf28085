/*
 * packet/packet-csum.h — the Internet checksum (RFC 1071): the one copy of
 * its arithmetic.
 *
 * A one's complement sum does not depend on byte order (RFC 1071, section
 * 2), so every function here adds the 16-bit words exactly as they sit in
 * the packet (network order, loaded natively) and never swaps bytes; a
 * value that is not in a packet (a pseudo-header length) is added in
 * network order, as it would sit there.  Sums are carried in a 32-bit
 * accumulator that packet_csum_fold() folds to 16 bits; the checksum
 * stored in a header is the complement of the folded sum
 * (packet_csum_finish()).
 *
 * Users: the datapath's incremental updates for header rewrites
 * (datapath/dp-csum.h builds on packet_csum_fold()) and the port back ends'
 * completion of checksums a sender left partial and segmentation of GSO
 * frames (packet/packet-offload.h).
 *
 * Thread safety: pure functions.
 */
#ifndef FLOWSWITCH_PACKET_PACKET_CSUM_H
#define FLOWSWITCH_PACKET_PACKET_CSUM_H 1

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/* Folds a 32-bit one's complement accumulator to 16 bits. */
static inline uint16_t
packet_csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* The checksum to store for the accumulated 'sum'. */
static inline be16
packet_csum_finish(uint32_t sum)
{
    return (be16)~packet_csum_fold(sum);
}

/* Adds 'data[0..n)' to the accumulator 'sum' (an odd last byte is padded
 * with a zero byte, as RFC 1071 says) and returns the new accumulator. */
uint32_t packet_csum_add(uint32_t sum, const void *data, size_t n);

/* The accumulated TCP/UDP pseudo-header of an IPv4 / IPv6 packet carrying
 * 'l4_len' bytes of protocol 'proto' ('src' and 'dst' point to 16-byte
 * IPv6 addresses, at any alignment). */
uint32_t packet_csum_pseudo_ipv4(be32 src, be32 dst, uint8_t proto,
                                 uint16_t l4_len);
uint32_t packet_csum_pseudo_ipv6(const void *src, const void *dst,
                                 uint8_t proto, uint32_t l4_len);

#endif /* packet/packet-csum.h */
