/* libFuzzer target for finishing offloaded frames (packet/packet-offload.h):
 * what a local stack, or anything that can write a virtio-net header into
 * a veth or a tap, hands an afpacket or tap port.
 *
 * Input: byte 0 the GSO type (enum packet_gso_type, taken modulo 5) and
 * whether the checksum is partial (bit 7), bytes 1-2 gso_size, 3-4
 * csum_start, 5-6 csum_offset (big endian), the rest the frame, copied to
 * an exact-size heap buffer.  Checked, beyond AddressSanitizer's bounds:
 * a refused checksum completion changes nothing; a GSO frame accepted is
 * cut into segments that carry every payload byte exactly once, each of
 * its headers' length plus its share.
 *
 *   make fuzz-build && build-fuzz/tests/fuzz/fuzz_offload \
 *       tests/fuzz/corpus/offload
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet/packet-offload.h"
#include "packet/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_offload"
#include "fuzz-check.h"

#define FUZZ_OFFLOAD_HDR 7

static void
fuzz_csum(const uint8_t *frame, size_t len, const struct packet_offload *off)
{
    uint8_t *buf = malloc(len ? len : 1);
    int error;

    memcpy(buf, frame, len);
    error = packet_offload_complete_csum(buf, len, off->csum_start,
                                         off->csum_offset);
    CHECK(!error || error == EINVAL);
    if (error) {
        CHECK(!memcmp(buf, frame, len));
    }
    free(buf);
}

static void
fuzz_gso(const uint8_t *frame, size_t len, const struct packet_offload *off)
{
    struct packet_gso gso;
    size_t payload = 0;
    int error = packet_gso_init(&gso, frame, len, off);

    CHECK(!error || error == EINVAL || error == EPROTONOSUPPORT);
    if (error) {
        return;
    }
    CHECK(gso.n_segs >= 1 && gso.hdr_len <= len);
    while (packet_gso_pending(&gso)) {
        struct dp_packet *pkt = dp_packet_new(0, gso.hdr_len + gso.gso_size);
        size_t seg;

        packet_gso_next(&gso, pkt);
        seg = dp_packet_size(pkt);
        CHECK(seg >= gso.hdr_len && seg - gso.hdr_len <= gso.gso_size);
        CHECK(seg > gso.hdr_len || gso.n_segs == 1);
        payload += seg - gso.hdr_len;
        dp_packet_delete(pkt);
    }
    CHECK(payload == len - gso.hdr_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct packet_offload off;
    const uint8_t *frame = data + FUZZ_OFFLOAD_HDR;
    size_t len;
    uint8_t *copy;

    if (size < FUZZ_OFFLOAD_HDR) {
        return 0;
    }
    len = size - FUZZ_OFFLOAD_HDR;
    memset(&off, 0, sizeof off);
    off.needs_csum = data[0] & 0x80;
    off.gso_type = (uint8_t)((data[0] & 0x7f) % (PACKET_GSO_UNKNOWN + 1));
    off.gso_size = (uint16_t)(data[1] << 8 | data[2]);
    off.csum_start = (uint16_t)(data[3] << 8 | data[4]);
    off.csum_offset = (uint16_t)(data[5] << 8 | data[6]);

    /* An exact-size copy, so that reads past the frame are caught. */
    copy = malloc(len ? len : 1);
    memcpy(copy, frame, len);
    if (off.needs_csum) {
        fuzz_csum(copy, len, &off);
    }
    if (off.gso_type != PACKET_GSO_NONE) {
        fuzz_gso(copy, len, &off);
    }
    free(copy);
    return 0;
}
