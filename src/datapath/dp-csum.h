/*
 * datapath/dp-csum.h — Internet checksum arithmetic for header rewrites
 * (private to src/datapath).
 *
 * Set-field actions change a few bytes of a header whose checksum covers
 * many more, so they update the checksum incrementally instead of summing
 * the packet again: RFC 1624 equation 3,
 *
 *     HC' = ~(~HC + ~m + m')
 *
 * for every 16-bit word m that became m'.  One's complement sums do not
 * depend on byte order (RFC 1071, section 2), so the helpers work on the
 * 16-bit words exactly as they sit in the packet (network order) and never
 * swap bytes; they fold with packet/packet-csum.h, where full sums live.
 * A field that is not 16-bit aligned within its header (IPv4 TTL, TOS) is
 * updated through the aligned word that contains it.
 *
 * SCTP does not use the Internet checksum but CRC32c over the whole
 * packet; dp_crc32c() computes it (one CRC32 instruction per 8 bytes when
 * the compiler targets SSE4.2, a table otherwise).
 *
 * Thread safety: pure functions.
 */
#ifndef FLOWSWITCH_DATAPATH_DP_CSUM_H
#define FLOWSWITCH_DATAPATH_DP_CSUM_H 1

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/util.h"
#include "packet/packet-csum.h"

/* The checksum 'csum' of data in which the 16-bit word 'old' became 'new'
 * (all three as stored in the packet). */
static inline be16
dp_csum_update16(be16 csum, be16 old, be16 new)
{
    uint32_t sum = (uint16_t)~csum;

    sum += (uint16_t)~old;
    sum += new;
    return (be16)~packet_csum_fold(sum);
}

/* The same for a 32-bit value (two words), e.g. an IPv4 address. */
static inline be16
dp_csum_update32(be16 csum, be32 old, be32 new)
{
    uint32_t sum = (uint16_t)~csum;

    sum += (uint16_t) ~(old & 0xffff);
    sum += (uint16_t) ~(old >> 16);
    sum += new & 0xffff;
    sum += new >> 16;
    return (be16)~packet_csum_fold(sum);
}

/* The same for a 128-bit value given as 16 bytes, e.g. an IPv6 address. */
static inline be16
dp_csum_update128(be16 csum, const void *old_, const void *new_)
{
    uint16_t old[8], new[8];
    uint32_t sum = (uint16_t)~csum;

    memcpy(old, old_, sizeof old);
    memcpy(new, new_, sizeof new);
    for (size_t i = 0; i < 8; i++) {
        sum += (uint16_t)~old[i];
        sum += new[i];
    }
    return (be16)~packet_csum_fold(sum);
}

/* CRC32c (Castagnoli) of 'data[0..n)', continuing from 'crc' (start with
 * 0xffffffff; the final value is ~crc). */
uint32_t dp_crc32c_update(uint32_t crc, const void *data, size_t n);

/* The CRC32c of 'data[0..n)' as SCTP stores it. */
static inline uint32_t
dp_crc32c(const void *data, size_t n)
{
    return ~dp_crc32c_update(0xffffffffu, data, n);
}

#endif /* datapath/dp-csum.h */
