/* libFuzzer target for the OpenFlow 1.3 decoder (openflow/ofp-codec.h).
 *
 * The input is a byte stream as a connection receives it: it is framed by
 * the messages' length fields exactly as ofmgr.c frames it (a length below
 * the header ends the stream), and every whole message is handed to the
 * decoder for its type — and, whatever its type, to the flow-mod,
 * packet-out, group-mod and multipart decoders too, so that every decoder sees every
 * shape of input.  Whatever the bytes, a decoder must either return an
 * OpenFlow error code or succeed; a decoded flow-mod must encode into a
 * message that decodes again, and whose re-encoding is byte for byte the
 * same (the encoding is a fixed point after one normalisation); a decoded
 * packet-out and group-mod likewise, and a decoded meter-mod (openflow/ofp-meter.h)
 * encodes back to the bytes it came from once normalised the same way.
 * ASan/UBSan catch any read beyond the message.
 *
 *   make fuzz-build && build-fuzz/tests/fuzz/fuzz_openflow \
 *       -max_total_time=300 tests/fuzz/corpus/openflow
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow-text.h"
#include "ofproto/group.h"
#include "openflow/ofp-codec.h"
#include "openflow/ofp-meter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_openflow"
#include "fuzz-check.h"

static void
check_error(int error)
{
    /* An error is a code the ERROR message can carry. */
    CHECK(error > 0);
    CHECK(OFPERR_TYPE(error) <= 13
          || OFPERR_TYPE(error) == OFPET_ONF_INTERNAL);
}

static void
fuzz_flow_mod(const uint8_t *msg, size_t len)
{
    struct ofpbuf b1 = OFPBUF_INITIALIZER, b2 = OFPBUF_INITIALIZER;
    struct ofp_flow_mod fm, fm2;
    int error;

    error = ofp_decode_flow_mod(msg, len, &fm);
    if (error) {
        check_error(error);
        flow_text_destroy(&fm.ft);
        return;
    }
    ofp_encode_flow_mod(&b1, 1, &fm);
    error = ofp_decode_flow_mod(b1.data, b1.size, &fm2);
    CHECK(!error);
    ofp_encode_flow_mod(&b2, 1, &fm2);
    CHECK(b1.size == b2.size && !memcmp(b1.data, b2.data, b1.size));
    flow_text_destroy(&fm.ft);
    flow_text_destroy(&fm2.ft);
    ofpbuf_uninit(&b1);
    ofpbuf_uninit(&b2);
}

static void
fuzz_packet_out(const uint8_t *msg, size_t len)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_packet_out po, po2;
    int error;

    error = ofp_decode_packet_out(msg, len, &po);
    if (error) {
        check_error(error);
        ofpacts_destroy(&po.ofpacts);
        return;
    }
    CHECK(po.data + po.data_len == msg + len);
    ofp_encode_packet_out(&b, 1, &po);
    CHECK(!ofp_decode_packet_out(b.data, b.size, &po2));
    CHECK(po2.data_len == po.data_len);
    ofpacts_destroy(&po.ofpacts);
    ofpacts_destroy(&po2.ofpacts);
    ofpbuf_uninit(&b);
}

/* A decoded group-mod encodes into a message that decodes again and
 * re-encodes to the same bytes. */
static void
fuzz_group_mod(const uint8_t *msg, size_t len)
{
    struct ofpbuf b1 = OFPBUF_INITIALIZER, b2 = OFPBUF_INITIALIZER;
    struct group_mod gm, gm2;
    int error;

    error = ofp_decode_group_mod(msg, len, &gm);
    if (error) {
        check_error(error);
        return;
    }
    ofp_encode_group_mod(&b1, 1, &gm);
    CHECK(!ofp_decode_group_mod(b1.data, b1.size, &gm2));
    ofp_encode_group_mod(&b2, 1, &gm2);
    CHECK(b1.size == b2.size && !memcmp(b1.data, b2.data, b1.size));
    group_mod_destroy(&gm);
    group_mod_destroy(&gm2);
    ofpbuf_uninit(&b1);
    ofpbuf_uninit(&b2);
}

static void
fuzz_meter_mod(const uint8_t *msg, size_t len)
{
    struct ofpbuf b1 = OFPBUF_INITIALIZER, b2 = OFPBUF_INITIALIZER;
    struct ofmeter_config cfg, cfg2;
    enum ofmeter_command cmd, cmd2;
    int error = ofp_decode_meter_mod(msg, len, &cmd, &cfg);

    if (error) {
        check_error(error);
        return;
    }
    ofp_encode_meter_mod(&b1, 1, cmd, &cfg);
    CHECK(!ofp_decode_meter_mod(b1.data, b1.size, &cmd2, &cfg2));
    CHECK(cmd2 == cmd && cfg2.id == cfg.id && cfg2.flags == cfg.flags
          && cfg2.n_bands == cfg.n_bands);
    ofp_encode_meter_mod(&b2, 1, cmd2, &cfg2);
    CHECK(b1.size == b2.size && !memcmp(b1.data, b2.data, b1.size));
    ofpbuf_uninit(&b1);
    ofpbuf_uninit(&b2);
}

static void
fuzz_message(const uint8_t *msg, size_t len)
{
    struct ofp_multipart_request mp;
    struct ofp_switch_config cfg;
    struct ofp_packet_in pin;
    struct ofp_role role;
    struct match match;
    uint32_t versions;
    int error;

    switch (msg[1]) {
    case OFPT_HELLO:
        error = ofp_decode_hello(msg, len, &versions);
        break;
    case OFPT_ERROR: {
        uint16_t type, code;

        error = ofp_decode_error(msg, len, &type, &code);
        if (!error && type <= OFPERR_MAX_TYPE) {
            char buf[64];

            /* Every decodable type and code names itself. */
            CHECK(ofperr_to_string(OFPERR(type, code), buf)[0]);
        }
        break;
    }
    case OFPT_SET_CONFIG:
        error = ofp_decode_set_config(msg, len, &cfg);
        break;
    case OFPT_ROLE_REQUEST:
        error = ofp_decode_role_request(msg, len, &role);
        break;
    case OFPT_PACKET_IN:
        error = ofp_decode_packet_in(msg, len, &pin, &match);
        if (!error) {
            CHECK(pin.data + pin.data_len == msg + len);
        }
        break;
    default:
        error = 0;
        break;
    }
    if (error) {
        check_error(error);
    }
    fuzz_flow_mod(msg, len);
    fuzz_packet_out(msg, len);
    fuzz_meter_mod(msg, len);
    fuzz_group_mod(msg, len);
    if (!ofp_decode_multipart_request(msg, len, &mp)) {
        struct ofpbuf b = OFPBUF_INITIALIZER;
        struct ofp_multipart_request mp2;

        ofp_encode_multipart_request(&b, 1, &mp);
        CHECK(!ofp_decode_multipart_request(b.data, b.size, &mp2));
        CHECK(mp2.type == mp.type && mp2.id == mp.id);
        flow_text_destroy(&mp2.filter);
        ofpbuf_uninit(&b);
    }
    flow_text_destroy(&mp.filter);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size >= OFP_HEADER_LEN) {
        size_t len = (size_t)((data[2] << 8) | data[3]);

        if (len < OFP_HEADER_LEN || len > size) {
            break;
        }
        /* A copy of exactly the message, so that ASan sees any read past
         * its end. */
        uint8_t *msg = malloc(len);

        memcpy(msg, data, len);
        fuzz_message(msg, len);
        free(msg);
        data += len;
        size -= len;
    }
    return 0;
}
