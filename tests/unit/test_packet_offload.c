/* Unit tests for packet/packet-csum.h and packet/packet-offload.h (the
 * Internet checksum, completing partial checksums, cutting GSO frames) and
 * for the port side of it, netdev/netdev-vnet.h (decoding a virtio-net
 * header, draining a GSO frame across batches, counting refusals).
 *
 * Every checksum the code writes is verified with the test's own
 * reference: the sum of the big-endian 16-bit words taken byte by byte,
 * reduced modulo 0xffff (which is what the end-around carry of RFC 1071
 * computes, with 0 standing for 0xffff); and every header field of every
 * segment is compared with the value written out by hand. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/coverage.h"
#include "netdev/netdev-vnet.h"
#include "netdev/netdev.h"
#include "packet/headers.h"
#include "packet/packet-csum.h"
#include "packet/packet-offload.h"
#include "packet/packet.h"
#include "unit-frames.h"

#define NW_SRC 0x0a000001 /* 10.0.0.1 */
#define NW_DST 0x0a000002 /* 10.0.0.2 */
#define SEQ 0xfffffc00u   /* Wraps within the frame. */
#define IP_ID 0xfffe      /* Wraps too. */

/* ---- Reference arithmetic ----------------------------------------------- */

/* RFC 1071's sum of 'p[0..n)' as big-endian words, unfolded. */
static uint64_t
ref_sum(const uint8_t *p, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += i % 2 ? p[i] : (uint64_t)p[i] << 8;
    }
    return sum;
}

/* 'sum' modulo 0xffff: its one's complement value. */
static uint16_t
ref_mod(uint64_t sum)
{
    return (uint16_t)(sum % 0xffff);
}

/* The big-endian 16-bit / 32-bit value at 'p'. */
static uint16_t
rd16(const uint8_t *p)
{
    be16 v;

    memcpy(&v, p, sizeof v);
    return ntohs(v);
}

static uint32_t
rd32(const uint8_t *p)
{
    be32 v;

    memcpy(&v, p, sizeof v);
    return ntohl(v);
}

static void
wr16(uint8_t *p, uint16_t v)
{
    be16 w = htons(v);

    memcpy(p, &w, sizeof w);
}

/* The pseudo-header sum of the IPv4 or IPv6 header at 'l3' for 'l4_len'
 * bytes of 'proto'. */
static uint64_t
ref_pseudo(const uint8_t *l3, uint8_t proto, size_t l4_len)
{
    if (l3[0] >> 4 == 4) {
        return ref_sum(l3 + 12, 8) + proto + l4_len;
    }
    return ref_sum(l3 + 8, 32) + proto + l4_len;
}

/* True if the L4 checksum of the segment 'l3..end' verifies. */
static bool
ref_l4_ok(const uint8_t *l3, const uint8_t *l4, const uint8_t *end,
          uint8_t proto)
{
    size_t l4_len = (size_t)(end - l4);

    uint64_t sum = ref_pseudo(l3, proto, l4_len) + ref_sum(l4, l4_len);

    return sum && !ref_mod(sum);
}

/* ---- Frames ------------------------------------------------------------- */

struct frame {
    uint8_t buf[8192];
    size_t len;
    size_t l3, l4, payload; /* Offsets. */
};

static void
frame_payload(struct frame *fr, struct unit_frame *f, size_t n)
{
    fr->payload = f->len;
    for (size_t i = 0; i < n; i++) {
        unit_frame_u8(f, (uint8_t)(i * 7 + 3));
    }
    fr->len = f->len;
}

/* An Ethernet (with a VLAN tag if 'vlan') + IPv4 or IPv6 + TCP frame with
 * 12 bytes of TCP options and 'n' bytes of payload, flags 'flags'; the TCP
 * checksum holds the pseudo-header sum, as a sender with checksum offload
 * leaves it. */
static void
frame_tcp(struct frame *fr, bool ipv6, bool vlan, uint8_t flags, size_t n)
{
    struct unit_frame f;

    unit_frame_init(&f, fr->buf, sizeof fr->buf);
    unit_frame_eth(&f, UNIT_FRAME_MAC_DST, UNIT_FRAME_MAC_SRC,
                   vlan ? ETH_TYPE_VLAN_8021Q
                        : (ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP));
    if (vlan) {
        unit_frame_be16(&f, 42);
        unit_frame_be16(&f, ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP);
    }
    fr->l3 = f.len;
    if (ipv6) {
        unit_frame_be32(&f, 0x60000000);
        unit_frame_be16(&f, 0); /* Payload length, below. */
        unit_frame_u8(&f, IPPROTO_TCP_);
        unit_frame_u8(&f, 64);
        for (int i = 0; i < 32; i++) {
            unit_frame_u8(&f, (uint8_t)(0x20 + i));
        }
    } else {
        unit_frame_ipv4(&f, IPPROTO_TCP_, 64, NW_SRC, NW_DST);
        wr16(fr->buf + fr->l3 + 4, IP_ID);
        wr16(fr->buf + fr->l3 + 6, IP_DONT_FRAGMENT);
    }
    fr->l4 = f.len;
    unit_frame_tcp_header(&f, 40000, 80, flags);
    fr->buf[fr->l4 + 12] = (TCP_HEADER_LEN + 12) / 4 << 4;
    for (int i = 0; i < 12; i++) {
        unit_frame_u8(&f, 1); /* NOP options. */
    }
    wr16(fr->buf + fr->l4 + 4, (uint16_t)(SEQ >> 16));
    wr16(fr->buf + fr->l4 + 6, (uint16_t)SEQ);
    frame_payload(fr, &f, n);
    if (ipv6) {
        wr16(fr->buf + fr->l3 + 4, (uint16_t)(fr->len - fr->l4));
    } else {
        wr16(fr->buf + fr->l3 + 2, (uint16_t)(fr->len - fr->l3));
    }
    wr16(
        fr->buf + fr->l4 + 16,
        ref_mod(ref_pseudo(fr->buf + fr->l3, IPPROTO_TCP_, fr->len - fr->l4)));
}

static struct packet_offload
tcp_offload(const struct frame *fr, bool ipv6, uint16_t gso_size)
{
    return (struct packet_offload){
        .needs_csum = true,
        .gso_type = gso_size ? (ipv6 ? PACKET_GSO_TCPV6 : PACKET_GSO_TCPV4)
                             : PACKET_GSO_NONE,
        .gso_size = gso_size,
        .csum_start = (uint16_t)fr->l4,
        .csum_offset = offsetof(struct tcp_header, tcp_csum),
    };
}

/* ---- Checksums ---------------------------------------------------------- */

static void
test_csum_add_sums_rfc1071s_example(void **state)
{
    static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03,
                                   0xf4, 0xf5, 0xf6, 0xf7};
    be16 folded = packet_csum_fold(packet_csum_add(0, data, sizeof data));

    (void)state;
    assert_int_equal(ntohs(folded), 0xddf2);
    /* An odd byte counts as the high byte of a word. */
    folded = packet_csum_fold(packet_csum_add(0, data, 7));
    assert_int_equal(ntohs(folded), 0xddf2 - 0xf7);
}

static void
test_csum_add_agrees_with_the_reference_at_every_length(void **state)
{
    uint8_t data[1500];

    (void)state;
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i * 131 + 17);
    }
    for (size_t n = 0; n <= sizeof data; n += 1 + n / 16) {
        be16 got = packet_csum_fold(packet_csum_add(0, data, n));

        assert_int_equal(ntohs(got) % 0xffff, ref_mod(ref_sum(data, n)));
    }
}

static void
test_partial_tcp_checksum_is_completed(void **state)
{
    struct frame fr;
    uint8_t before[sizeof fr.buf];

    (void)state;
    frame_tcp(&fr, false, false, TCP_ACK | TCP_PSH, 333);
    memcpy(before, fr.buf, fr.len);
    assert_false(ref_l4_ok(fr.buf + fr.l3, fr.buf + fr.l4, fr.buf + fr.len,
                           IPPROTO_TCP_));
    assert_int_equal(
        packet_offload_complete_csum(fr.buf, fr.len, fr.l4,
                                     offsetof(struct tcp_header, tcp_csum)),
        0);
    assert_true(ref_l4_ok(fr.buf + fr.l3, fr.buf + fr.l4, fr.buf + fr.len,
                          IPPROTO_TCP_));
    /* Only the two checksum bytes changed. */
    assert_memory_equal(fr.buf, before, fr.l4 + 16);
    assert_memory_equal(fr.buf + fr.l4 + 18, before + fr.l4 + 18,
                        fr.len - fr.l4 - 18);
}

static void
test_completed_checksum_of_zero_is_stored_as_ffff(void **state)
{
    uint8_t frame[ETH_HEADER_LEN + 2] = {0};

    (void)state;
    /* The bytes from csum_start sum to 0xffff: the checksum is 0. */
    wr16(frame + ETH_HEADER_LEN, 0xffff);
    assert_int_equal(
        packet_offload_complete_csum(frame, sizeof frame, ETH_HEADER_LEN, 0),
        0);
    assert_int_equal(rd16(frame + ETH_HEADER_LEN), 0xffff);
}

static void
test_checksum_outside_the_frame_is_refused(void **state)
{
    uint8_t frame[64] = {0};
    uint8_t zeros[64] = {0};

    (void)state;
    assert_int_equal(packet_offload_complete_csum(frame, 64, 63, 0), EINVAL);
    assert_int_equal(packet_offload_complete_csum(frame, 64, 40, 23), EINVAL);
    assert_int_equal(packet_offload_complete_csum(frame, 64, 65, 0), EINVAL);
    assert_int_equal(packet_offload_complete_csum(frame, 64, 13, 0), EINVAL);
    assert_int_equal(
        packet_offload_complete_csum(frame, 64, 40, SIZE_MAX - 20), EINVAL);
    assert_memory_equal(frame, zeros, sizeof frame);
    assert_int_equal(packet_offload_complete_csum(frame, 64, 40, 22), 0);
}

/* ---- Segmentation ------------------------------------------------------- */

/* Cuts 'fr' as 'off' says into 'segs' (n_segs of them, asserted). */
static void
segment_all(const struct frame *fr, const struct packet_offload *off,
            struct dp_packet **segs, unsigned int n_segs)
{
    struct packet_gso gso;

    assert_int_equal(packet_gso_init(&gso, fr->buf, fr->len, off), 0);
    assert_int_equal(gso.n_segs, n_segs);
    for (unsigned int i = 0; i < n_segs; i++) {
        assert_true(packet_gso_pending(&gso));
        segs[i] = dp_packet_new(0, 2048);
        packet_gso_next(&gso, segs[i]);
    }
    assert_false(packet_gso_pending(&gso));
}

static void
delete_all(struct dp_packet **segs, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        dp_packet_delete(segs[i]);
    }
}

static void
test_tcpv4_gso_frame_becomes_three_exact_segments(void **state)
{
    static const size_t sizes[3] = {1000, 1000, 448};
    static const uint16_t flags[3] = {TCP_ACK | TCP_CWR, TCP_ACK,
                                      TCP_ACK | TCP_PSH | TCP_FIN};
    struct packet_offload off;
    struct dp_packet *segs[3];
    struct frame fr;
    size_t hdr_len;

    (void)state;
    frame_tcp(&fr, false, false, TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR, 2448);
    off = tcp_offload(&fr, false, 1000);
    hdr_len = fr.payload;
    assert_int_equal(hdr_len, 14 + 20 + 32);
    segment_all(&fr, &off, segs, 3);

    for (unsigned int i = 0; i < 3; i++) {
        const uint8_t *p = dp_packet_data(segs[i]);
        const uint8_t *ip = p + fr.l3, *tcp = p + fr.l4;

        assert_int_equal(dp_packet_size(segs[i]), hdr_len + sizes[i]);
        /* Ethernet and the unchanged IP and TCP fields as in the frame. */
        assert_memory_equal(p, fr.buf, fr.l3 + 2);
        assert_memory_equal(ip + 6, fr.buf + fr.l3 + 6, 4); /* DF, TTL. */
        assert_memory_equal(ip + 12, fr.buf + fr.l3 + 12, 8);
        assert_memory_equal(tcp, fr.buf + fr.l4, 4);           /* Ports. */
        assert_memory_equal(tcp + 8, fr.buf + fr.l4 + 8, 4);   /* Ack. */
        assert_memory_equal(tcp + 14, fr.buf + fr.l4 + 14, 2); /* Window. */
        assert_memory_equal(tcp + 18, fr.buf + fr.l4 + 18, 14);
        /* What changes per segment. */
        assert_int_equal(rd16(ip + 2), 20 + 32 + sizes[i]);
        assert_int_equal(rd16(ip + 4), (uint16_t)(IP_ID + i));
        assert_int_equal(ref_mod(ref_sum(ip, 20)), 0);
        assert_int_equal(rd32(tcp + 4), (uint32_t)(SEQ + i * 1000));
        assert_int_equal(tcp[12], fr.buf[fr.l4 + 12]);
        assert_int_equal(tcp[13], flags[i]);
        assert_true(
            ref_l4_ok(ip, tcp, p + dp_packet_size(segs[i]), IPPROTO_TCP_));
        assert_memory_equal(p + hdr_len,
                            fr.buf + fr.payload + (size_t)i * 1000, sizes[i]);
    }
    delete_all(segs, 3);
}

static void
test_tcpv6_gso_frame_behind_a_vlan_tag_is_cut(void **state)
{
    struct packet_offload off;
    struct dp_packet *segs[4];
    struct frame fr;

    (void)state;
    frame_tcp(&fr, true, true, TCP_ACK, (size_t)4 * 1200);
    off = tcp_offload(&fr, true, 1200);
    segment_all(&fr, &off, segs, 4);
    for (unsigned int i = 0; i < 4; i++) {
        const uint8_t *p = dp_packet_data(segs[i]);

        assert_memory_equal(p, fr.buf, fr.l3 + 4); /* MACs, tag, IPv6. */
        assert_int_equal(rd16(p + fr.l3 + 4), 32 + 1200);
        assert_memory_equal(p + fr.l3 + 6, fr.buf + fr.l3 + 6, 34);
        assert_int_equal(rd32(p + fr.l4 + 4), (uint32_t)(SEQ + i * 1200));
        assert_true(ref_l4_ok(p + fr.l3, p + fr.l4,
                              p + dp_packet_size(segs[i]), IPPROTO_TCP_));
        assert_memory_equal(p + fr.payload,
                            fr.buf + fr.payload + (size_t)i * 1200, 1200);
    }
    delete_all(segs, 4);
}

static void
test_udp_gso_frame_becomes_datagrams(void **state)
{
    struct packet_offload off = {
        .needs_csum = true,
        .gso_type = PACKET_GSO_UDP_L4,
        .gso_size = 500,
        .csum_offset = offsetof(struct udp_header, udp_csum),
    };
    struct dp_packet *segs[3];
    struct unit_frame f;
    struct frame fr;

    (void)state;
    unit_frame_init(&f, fr.buf, sizeof fr.buf);
    unit_frame_eth(&f, UNIT_FRAME_MAC_DST, UNIT_FRAME_MAC_SRC, ETH_TYPE_IP);
    fr.l3 = f.len;
    unit_frame_ipv4(&f, IPPROTO_UDP_, 64, NW_SRC, NW_DST);
    fr.l4 = off.csum_start = (uint16_t)f.len;
    unit_frame_be32(&f, 5353u << 16 | 53);
    unit_frame_be32(&f, 0); /* Length and checksum: any. */
    frame_payload(&fr, &f, 1100);
    segment_all(&fr, &off, segs, 3);
    for (unsigned int i = 0; i < 3; i++) {
        const uint8_t *p = dp_packet_data(segs[i]);
        size_t n = i < 2 ? 500 : 100;

        assert_int_equal(dp_packet_size(segs[i]), fr.payload + n);
        assert_int_equal(rd16(p + fr.l3 + 2), 20 + 8 + n);
        assert_int_equal(rd16(p + fr.l4 + 4), 8 + n);
        assert_true(
            ref_l4_ok(p + fr.l3, p + fr.l4, p + fr.payload + n, IPPROTO_UDP_));
        assert_memory_equal(p + fr.payload,
                            fr.buf + fr.payload + (size_t)i * 500, n);
    }
    delete_all(segs, 3);
}

static void
test_gso_frame_that_fits_one_segment_is_one_segment(void **state)
{
    struct packet_offload off;
    struct dp_packet *seg;
    struct frame fr;

    (void)state;
    frame_tcp(&fr, false, false, TCP_ACK | TCP_PSH, 1000);
    off = tcp_offload(&fr, false, 1448);
    segment_all(&fr, &off, &seg, 1);
    assert_int_equal(dp_packet_size(seg), fr.len);
    assert_int_equal(((const uint8_t *)dp_packet_data(seg))[fr.l4 + 13],
                     TCP_ACK | TCP_PSH);
    dp_packet_delete(seg);
}

static void
test_gso_frames_that_do_not_match_are_refused(void **state)
{
    struct packet_offload off;
    struct packet_gso gso;
    struct frame fr;

    (void)state;
    frame_tcp(&fr, false, false, TCP_ACK, 3000);
#define REFUSED(ERROR, FIELD, VALUE)                                          \
    do {                                                                      \
        off = tcp_offload(&fr, false, 1000);                                  \
        off.FIELD = VALUE;                                                    \
        assert_int_equal(packet_gso_init(&gso, fr.buf, fr.len, &off), ERROR); \
        assert_false(packet_gso_pending(&gso));                               \
    } while (0)
    REFUSED(EPROTONOSUPPORT, gso_type, PACKET_GSO_UNKNOWN);
    REFUSED(EINVAL, gso_type, PACKET_GSO_TCPV6); /* An IPv4 frame. */
    REFUSED(EINVAL, gso_type, PACKET_GSO_UDP_L4);
    REFUSED(EINVAL, gso_size, 0);
    REFUSED(EINVAL, needs_csum, false);
    REFUSED(EINVAL, csum_offset, 6);
    REFUSED(EINVAL, csum_start, fr.l4 + 4);
    REFUSED(EINVAL, csum_start, 30);
    REFUSED(EINVAL, csum_start, 60000);
    /* A TCP header shorter than 20 bytes, or longer than the frame. */
    fr.buf[fr.l4 + 12] = 0x40;
    REFUSED(EINVAL, gso_size, 1000);
    frame_tcp(&fr, false, false, TCP_ACK, 10);
    fr.buf[fr.l4 + 12] = 0xf0;
    REFUSED(EINVAL, gso_size, 1000);
    frame_tcp(&fr, false, false, TCP_ACK, 3000);
    fr.buf[fr.l3 + 6] = IP_MORE_FRAGMENTS >> 8;
    REFUSED(EINVAL, gso_size, 1000);
    /* IPv6 with an extension header before TCP. */
    frame_tcp(&fr, true, false, TCP_ACK, 3000);
    off = tcp_offload(&fr, true, 1000);
    off.csum_start += 8;
    assert_int_equal(packet_gso_init(&gso, fr.buf, fr.len, &off),
                     EPROTONOSUPPORT);
#undef REFUSED
}

/* ---- netdev-vnet -------------------------------------------------------- */

static void
test_vnet_header_says_what_needs_work_and_decodes(void **state)
{
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
        .gso_size = 1448,
        .csum_start = 34,
        .csum_offset = 16,
    };
    struct packet_offload off;

    (void)state;
    assert_true(netdev_vnet_needs_work(&vh));
    netdev_vnet_decode(&vh, 4, &off);
    assert_true(off.needs_csum);
    assert_int_equal(off.gso_type, PACKET_GSO_TCPV4);
    assert_int_equal(off.gso_size, 1448);
    assert_int_equal(off.csum_start, 38);
    assert_int_equal(off.csum_offset, 16);
    vh.gso_type = VIRTIO_NET_HDR_GSO_UDP; /* UFO. */
    netdev_vnet_decode(&vh, 0, &off);
    assert_int_equal(off.gso_type, PACKET_GSO_UNKNOWN);
    /* DATA_VALID alone needs nothing. */
    memset(&vh, 0, sizeof vh);
    vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_false(netdev_vnet_needs_work(&vh));
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    assert_true(netdev_vnet_needs_work(&vh));
    vh.flags = 0;
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    assert_true(netdev_vnet_needs_work(&vh));
}

/* Opens a memory port (for its counters) and starts cutting a TCPv4 GSO
 * frame of 40 segments of 100 bytes into 'gso'. */
static struct netdev *
start_gso_of_40(struct frame *fr, struct packet_gso *gso)
{
    struct packet_offload off;
    struct netdev *netdev;
    char *error = NULL;

    assert_int_equal(netdev_open("vnet0", "memory", NULL, &netdev, &error), 0);
    frame_tcp(fr, false, false, TCP_ACK, (size_t)40 * 100);
    off = tcp_offload(fr, false, 100);
    assert_true(netdev_vnet_gso_start(netdev, gso, fr->buf, fr->len, &off));
    return netdev;
}

static void
test_vnet_gso_frame_drains_across_batches(void **state)
{
    uint64_t segs_before = coverage_read("netdev_vnet_rx_gso_segments");
    struct dp_packet_batch batch;
    struct packet_gso gso;
    struct netdev *netdev;
    struct frame fr;
    uint32_t seq = SEQ;
    uint64_t bytes;

    (void)state;
    netdev = start_gso_of_40(&fr, &gso);

    dp_packet_batch_init(&batch);
    bytes = netdev_vnet_gso_drain(&gso, &batch);
    assert_int_equal(batch.count, PACKET_BATCH_MAX);
    assert_int_equal(bytes, PACKET_BATCH_MAX * (fr.payload + 100));
    assert_true(packet_gso_pending(&gso));
    for (unsigned int i = 0; i < batch.count; i++, seq += 100) {
        const uint8_t *p = dp_packet_data(batch.packets[i]);

        assert_int_equal(rd32(p + fr.l4 + 4), seq);
    }
    netdev_batch_recycle(&batch);
    netdev_vnet_gso_drain(&gso, &batch);
    assert_int_equal(batch.count, 40 - PACKET_BATCH_MAX);
    assert_false(packet_gso_pending(&gso));
    assert_int_equal(
        rd32((const uint8_t *)dp_packet_data(batch.packets[0]) + fr.l4 + 4),
        seq);
    netdev_batch_recycle(&batch);
    assert_int_equal(
        coverage_read("netdev_vnet_rx_gso_segments") - segs_before, 40);
    netdev_close(netdev);
    netdev_pool_purge();
}

static void
test_vnet_segments_left_at_close_are_counted_drops(void **state)
{
    uint64_t before = coverage_read("netdev_vnet_rx_gso_abandoned");
    struct dp_packet_batch batch;
    struct netdev_stats stats;
    struct packet_gso gso;
    struct netdev *netdev;
    struct frame fr;

    (void)state;
    netdev = start_gso_of_40(&fr, &gso);
    dp_packet_batch_init(&batch);
    netdev_vnet_gso_drain(&gso, &batch);
    netdev_batch_recycle(&batch);
    netdev_vnet_gso_abandon(netdev, &gso);
    assert_false(packet_gso_pending(&gso));
    netdev_vnet_gso_abandon(netdev, &gso); /* Nothing left: no count. */
    assert_int_equal(coverage_read("netdev_vnet_rx_gso_abandoned") - before,
                     40 - PACKET_BATCH_MAX);
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_dropped, 40 - PACKET_BATCH_MAX);
    netdev_close(netdev);
    netdev_pool_purge();
}

static void
test_vnet_refusals_are_counted_drops(void **state)
{
    uint64_t bad = coverage_read("netdev_vnet_rx_gso_bad");
    uint64_t unsupported = coverage_read("netdev_vnet_rx_gso_unsupported");
    uint64_t bad_csum = coverage_read("netdev_vnet_rx_bad_csum");
    struct dp_packet_batch batch;
    struct packet_offload off;
    struct netdev_stats stats;
    struct packet_gso gso;
    struct netdev *netdev;
    struct dp_packet *pkt;
    char *error = NULL;
    struct frame fr;

    (void)state;
    assert_int_equal(netdev_open("vnet1", "memory", NULL, &netdev, &error), 0);
    frame_tcp(&fr, false, false, TCP_ACK, 3000);
    off = tcp_offload(&fr, false, 0);
    off.gso_type = PACKET_GSO_TCPV4; /* gso_size 0. */
    assert_false(netdev_vnet_gso_start(netdev, &gso, fr.buf, fr.len, &off));
    off.gso_type = PACKET_GSO_UNKNOWN;
    assert_false(netdev_vnet_gso_start(netdev, &gso, fr.buf, fr.len, &off));
    pkt = netdev_packet_alloc();
    dp_packet_put(pkt, fr.buf, 60);
    off.csum_start = 50; /* The field would end past byte 60. */
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_vnet_rx_append(netdev, pkt, &off, &batch), 0);
    assert_int_equal(batch.count, 0);

    assert_int_equal(coverage_read("netdev_vnet_rx_gso_bad") - bad, 1);
    assert_int_equal(
        coverage_read("netdev_vnet_rx_gso_unsupported") - unsupported, 1);
    assert_int_equal(coverage_read("netdev_vnet_rx_bad_csum") - bad_csum, 1);
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_dropped, 3);
    netdev_close(netdev);
    netdev_pool_purge();
}

static void
test_vnet_partial_checksum_is_completed_on_append(void **state)
{
    uint64_t done = coverage_read("netdev_vnet_rx_csum_completed");
    struct dp_packet_batch batch;
    struct packet_offload off;
    struct netdev *netdev;
    struct dp_packet *pkt;
    char *error = NULL;
    struct frame fr;
    const uint8_t *p;

    (void)state;
    assert_int_equal(netdev_open("vnet2", "memory", NULL, &netdev, &error), 0);
    frame_tcp(&fr, false, false, TCP_ACK, 100);
    off = tcp_offload(&fr, false, 0);
    pkt = netdev_packet_alloc();
    dp_packet_put(pkt, fr.buf, fr.len);
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_vnet_rx_append(netdev, pkt, &off, &batch), fr.len);
    assert_int_equal(batch.count, 1);
    p = dp_packet_data(batch.packets[0]);
    assert_true(ref_l4_ok(p + fr.l3, p + fr.l4, p + fr.len, IPPROTO_TCP_));
    assert_int_equal(coverage_read("netdev_vnet_rx_csum_completed") - done, 1);
    netdev_batch_recycle(&batch);
    netdev_close(netdev);
    netdev_pool_purge();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_add_sums_rfc1071s_example),
        cmocka_unit_test(
            test_csum_add_agrees_with_the_reference_at_every_length),
        cmocka_unit_test(test_partial_tcp_checksum_is_completed),
        cmocka_unit_test(test_completed_checksum_of_zero_is_stored_as_ffff),
        cmocka_unit_test(test_checksum_outside_the_frame_is_refused),
        cmocka_unit_test(test_tcpv4_gso_frame_becomes_three_exact_segments),
        cmocka_unit_test(test_tcpv6_gso_frame_behind_a_vlan_tag_is_cut),
        cmocka_unit_test(test_udp_gso_frame_becomes_datagrams),
        cmocka_unit_test(test_gso_frame_that_fits_one_segment_is_one_segment),
        cmocka_unit_test(test_gso_frames_that_do_not_match_are_refused),
        cmocka_unit_test(test_vnet_header_says_what_needs_work_and_decodes),
        cmocka_unit_test(test_vnet_gso_frame_drains_across_batches),
        cmocka_unit_test(test_vnet_segments_left_at_close_are_counted_drops),
        cmocka_unit_test(test_vnet_refusals_are_counted_drops),
        cmocka_unit_test(test_vnet_partial_checksum_is_completed_on_append),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
