/* packet/packet-csum.c — the Internet checksum (see packet-csum.h). */
#include "packet/packet-csum.h"

#include <arpa/inet.h>
#include <string.h>

/* Folds a 64-bit accumulator to a 32-bit one with the same 16-bit fold. */
static uint32_t
packet_csum_fold64(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return (uint32_t)sum;
}

uint32_t
packet_csum_add(uint32_t sum, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t acc = sum;

    /* 32-bit loads into a 64-bit accumulator: two 16-bit words at a time,
     * and no carry is lost for any frame shorter than 16 GB. */
    for (; n >= 4; p += 4, n -= 4) {
        uint32_t w;

        memcpy(&w, p, 4);
        acc += w;
    }
    if (n >= 2) {
        uint16_t w;

        memcpy(&w, p, 2);
        acc += w;
        p += 2;
        n -= 2;
    }
    if (n) {
        uint16_t w = 0;

        memcpy(&w, p, 1); /* The byte where it sits, a zero after it. */
        acc += w;
    }
    return packet_csum_fold64(acc);
}

uint32_t
packet_csum_pseudo_ipv4(be32 src, be32 dst, uint8_t proto, uint16_t l4_len)
{
    uint32_t sum = 0;

    sum += src & 0xffff;
    sum += src >> 16;
    sum += dst & 0xffff;
    sum += dst >> 16;
    sum += htons(proto);
    sum += htons(l4_len);
    return sum;
}

uint32_t
packet_csum_pseudo_ipv6(const void *src, const void *dst, uint8_t proto,
                        uint32_t l4_len)
{
    be32 len = htonl(l4_len);
    uint32_t sum = 0;

    sum = packet_csum_add(sum, src, sizeof(struct in6_addr));
    sum = packet_csum_add(sum, dst, sizeof(struct in6_addr));
    sum = packet_csum_add(sum, &len, sizeof len);
    return sum + htons(proto);
}
