/* tests/unit/unit-frames.h — the Ethernet/IPv4 frames the unit tests and
 * the benchmarks send, built header by header instead of at raw offsets.
 *
 * A struct unit_frame appends to a caller's zeroed buffer: Ethernet, then
 * IPv4 (no options, identification 0, checksum 0), then TCP (data offset
 * 5, sequence, acknowledgement and window 0, checksum 0); whatever the
 * builder does not write stays zero.  unit_frame_tcp() is the frame most
 * callers want: 02:00:00:00:00:01 to 02:00:00:00:00:02, TTL 64, a TCP
 * header, and a 32-bit tag (a sequence number of the test's own) at the
 * start of the payload.
 *
 * Also built into flowswitch-bench (bench/), which includes it as
 * "tests/unit/unit-frames.h": it needs nothing from cmocka, and a frame
 * that would not fit its buffer aborts. */
#ifndef FLOWSWITCH_TESTS_UNIT_FRAMES_H
#define FLOWSWITCH_TESTS_UNIT_FRAMES_H 1

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet/headers.h"

static const struct eth_addr UNIT_FRAME_MAC_SRC = {{2, 0, 0, 0, 0, 1}};
static const struct eth_addr UNIT_FRAME_MAC_DST = {{2, 0, 0, 0, 0, 2}};

struct unit_frame {
    uint8_t *buf;
    size_t size; /* Bytes 'buf' holds. */
    size_t len;  /* Bytes written so far. */
};

/* Starts a frame in 'buf', zeroing all 'size' bytes of it. */
static inline void
unit_frame_init(struct unit_frame *f, uint8_t *buf, size_t size)
{
    memset(buf, 0, size);
    f->buf = buf;
    f->size = size;
    f->len = 0;
}

static inline void
unit_frame_put(struct unit_frame *f, const void *p, size_t n)
{
    if (f->len + n > f->size) {
        fprintf(stderr, "unit_frame: %zu bytes do not fit in %zu\n",
                f->len + n, f->size);
        abort();
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
}

static inline void
unit_frame_u8(struct unit_frame *f, uint8_t v)
{
    unit_frame_put(f, &v, 1);
}

static inline void
unit_frame_be16(struct unit_frame *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    unit_frame_put(f, b, sizeof b);
}

static inline void
unit_frame_be32(struct unit_frame *f, uint32_t v)
{
    unit_frame_be16(f, (uint16_t)(v >> 16));
    unit_frame_be16(f, (uint16_t)v);
}

static inline void
unit_frame_eth(struct unit_frame *f, struct eth_addr dst, struct eth_addr src,
               uint16_t dl_type)
{
    unit_frame_put(f, dst.ea, ETH_ADDR_LEN);
    unit_frame_put(f, src.ea, ETH_ADDR_LEN);
    unit_frame_be16(f, dl_type);
}

/* An IPv4 header from 'nw_src' to 'nw_dst' (host byte order) with total
 * length 0 (see unit_frame_fix_ipv4_len()); returns its offset. */
static inline size_t
unit_frame_ipv4(struct unit_frame *f, uint8_t nw_proto, uint8_t nw_ttl,
                uint32_t nw_src, uint32_t nw_dst)
{
    size_t ofs = f->len;

    unit_frame_u8(f, 0x40 | IP_HEADER_LEN / 4); /* Version 4, IHL 5. */
    unit_frame_u8(f, 0);                        /* TOS. */
    unit_frame_be16(f, 0);                      /* Total length. */
    unit_frame_be16(f, 0);                      /* Identification. */
    unit_frame_be16(f, 0);                      /* Flags, fragment offset. */
    unit_frame_u8(f, nw_ttl);
    unit_frame_u8(f, nw_proto);
    unit_frame_be16(f, 0); /* Checksum. */
    unit_frame_be32(f, nw_src);
    unit_frame_be32(f, nw_dst);
    return ofs;
}

/* Sets the total length of the IPv4 header at 'ofs' to run to the end of
 * the buffer. */
static inline void
unit_frame_fix_ipv4_len(struct unit_frame *f, size_t ofs)
{
    uint16_t tot_len = (uint16_t)(f->size - ofs);

    f->buf[ofs + 2] = (uint8_t)(tot_len >> 8);
    f->buf[ofs + 3] = (uint8_t)tot_len;
}

static inline void
unit_frame_tcp_header(struct unit_frame *f, uint16_t tp_src, uint16_t tp_dst,
                      uint8_t tcp_flags)
{
    unit_frame_be16(f, tp_src);
    unit_frame_be16(f, tp_dst);
    unit_frame_be32(f, 0);                       /* Sequence number. */
    unit_frame_be32(f, 0);                       /* Acknowledgement number. */
    unit_frame_u8(f, (TCP_HEADER_LEN / 4) << 4); /* Data offset. */
    unit_frame_u8(f, tcp_flags);
    unit_frame_be16(f, 0); /* Window. */
    unit_frame_be16(f, 0); /* Checksum. */
    unit_frame_be16(f, 0); /* Urgent pointer. */
}

/* What varies between the TCP frames of unit_frame_tcp(). */
struct unit_frame_tcp_spec {
    uint32_t nw_src, nw_dst; /* Host byte order. */
    uint16_t tp_src, tp_dst;
    uint8_t tcp_flags;
    uint32_t tag; /* First 4 payload bytes, if 'size' leaves room. */
};

/* Fills all 'size' bytes of 'buf' (at least 54) with an Ethernet/IPv4/TCP
 * frame from UNIT_FRAME_MAC_SRC to UNIT_FRAME_MAC_DST, TTL 64, whose IPv4
 * total length covers the whole buffer. */
static inline void
unit_frame_tcp(uint8_t *buf, size_t size, const struct unit_frame_tcp_spec *s)
{
    struct unit_frame f;
    size_t l3;

    unit_frame_init(&f, buf, size);
    unit_frame_eth(&f, UNIT_FRAME_MAC_DST, UNIT_FRAME_MAC_SRC, ETH_TYPE_IP);
    l3 = unit_frame_ipv4(&f, IPPROTO_TCP_, 64, s->nw_src, s->nw_dst);
    unit_frame_tcp_header(&f, s->tp_src, s->tp_dst, s->tcp_flags);
    if (f.len + sizeof s->tag <= size) {
        unit_frame_be32(&f, s->tag);
    }
    unit_frame_fix_ipv4_len(&f, l3);
}

/* The TCP frame most tests send: unit_frame_tcp() of 'size' bytes from
 * 'nw_src' (host byte order) to 10.0.0.2, whose payload starts with 'tag'
 * if 'size' leaves room (unit_frame_tcp_tag() reads it back). */
static inline void
unit_frame_tcp_to_host2(uint8_t *buf, size_t size, uint32_t nw_src,
                        uint16_t tp_src, uint16_t tp_dst, uint8_t tcp_flags,
                        uint32_t tag)
{
    struct unit_frame_tcp_spec spec = {
        .nw_src = nw_src,
        .nw_dst = 0x0a000002,
        .tp_src = tp_src,
        .tp_dst = tp_dst,
        .tcp_flags = tcp_flags,
        .tag = tag,
    };

    unit_frame_tcp(buf, size, &spec);
}

/* The tag unit_frame_tcp() wrote into 'frame'. */
static inline uint32_t
unit_frame_tcp_tag(const uint8_t *frame)
{
    const uint8_t *p = frame + ETH_HEADER_LEN + IP_HEADER_LEN + TCP_HEADER_LEN;

    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8
           | p[3];
}

#endif /* tests/unit/unit-frames.h */
