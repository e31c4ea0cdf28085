/*
 * openflow/ofp-actions.c — OpenFlow 1.3 actions and instructions to and
 * from struct ofpacts (ofp-codec.h says which ones and how).
 *
 * Every action is bounded before it is read: its length must be at least
 * its fixed part, a multiple of 8 and within what is left of the list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow/actset.h"
#include "lib/coverage.h"
#include "lib/util.h"
#include "openflow/ofp-codec.h"
#include "openflow/ofp-private.h"

COVERAGE_DEFINE(ofp_encode_action_skipped);

enum ofp_action_type {
    OFPAT_OUTPUT = 0,
    OFPAT11_SET_TP_SRC = 9, /* Deprecated in 1.3; OVS still sends it. */
    OFPAT11_SET_TP_DST = 10,
    OFPAT_SET_MPLS_TTL = 15,
    OFPAT_DEC_MPLS_TTL = 16,
    OFPAT_PUSH_VLAN = 17,
    OFPAT_POP_VLAN = 18,
    OFPAT_PUSH_MPLS = 19,
    OFPAT_POP_MPLS = 20,
    OFPAT_SET_QUEUE = 21,
    OFPAT_GROUP = 22,
    OFPAT_SET_NW_TTL = 23,
    OFPAT_DEC_NW_TTL = 24,
    OFPAT_SET_FIELD = 25,
    OFPAT_EXPERIMENTER = 0xffff,
};

#define NX_VENDOR_ID 0x00002320u
enum nx_action_subtype {
    NXAST_RESUBMIT = 1,
    NXAST_REG_MOVE = 6,
    NXAST_REG_LOAD = 7,
    NXAST_NOTE = 8,
    NXAST_CONTROLLER = 20,
    NXAST_RESUBMIT_TABLE = 14,
    NXAST_DEC_TTL = 18,
    NXAST_REG_LOAD2 = 33,
    NXAST_CONTROLLER2 = 37,
};

/* Properties of NXAST_CONTROLLER2. */
enum {
    NXAC2PT_MAX_LEN = 0,
    NXAC2PT_CONTROLLER_ID = 1,
    NXAC2PT_REASON = 2,
};

enum ofp_instruction_type {
    OFPIT_GOTO_TABLE = 1,
    OFPIT_WRITE_METADATA = 2,
    OFPIT_WRITE_ACTIONS = 3,
    OFPIT_APPLY_ACTIONS = 4,
    OFPIT_CLEAR_ACTIONS = 5,
    OFPIT_METER = 6,
};

/* ---- Decoding actions --------------------------------------------------- */

static int
decode_output(const uint8_t *a, struct ofpacts *out)
{
    uint32_t wire = ofp_get32(a + 4);
    uint16_t max_len = ofp_get16(a + 8);
    struct ofpact *act;
    uint32_t port;

    if (wire == OFPP13_CONTROLLER) {
        act = ofpacts_put(out, OFPACT_CONTROLLER);
        act->controller.max_len = max_len;
        act->controller.id = 0;
        act->controller.reason = OFPACT_REASON_ACTION;
        return 0;
    }
    if (!ofp_port_from_wire(wire, &port) || !port || port == OFPP_NONE) {
        return OFPERR_BAC_BAD_OUT_PORT;
    }
    act = ofpacts_put(out, OFPACT_OUTPUT);
    act->output.port = port;
    act->output.max_len = max_len;
    return 0;
}

/* A set_field (or reg_load2) TLV at a[ofs..len). */
static int
decode_set_field(const uint8_t *a, size_t ofs, size_t len, bool allow_mask,
                 struct ofpacts *out)
{
    union field_value value, mask;
    const struct oxm_def *d;
    const struct field *f;
    struct ofpact *act;
    bool has_mask;
    size_t tlv_len;
    int error;

    error = oxm_pull(a + ofs, len - ofs, allow_mask, &d, &value, &mask,
                     &has_mask, &tlv_len);
    if (error) {
        return error == OFPERR_BMC_BAD_FIELD ? OFPERR_BAC_BAD_SET_TYPE
               : error == OFPERR_BMC_BAD_LEN ? OFPERR_BAC_BAD_SET_LEN
                                             : OFPERR_BAC_BAD_SET_ARGUMENT;
    }
    /* The rest is padding, and there is less than 8 bytes of it. */
    if (ofs + tlv_len > len || len - (ofs + tlv_len) >= 8
        || !is_all_zeros(a + ofs + tlv_len, len - (ofs + tlv_len))) {
        return OFPERR_BAC_BAD_SET_LEN;
    }
    f = field_from_id(d->id);
    if (!f->writable || field_value_is_zero(f, &mask)) {
        return OFPERR_BAC_BAD_SET_ARGUMENT;
    }
    act = ofpacts_put(out, OFPACT_SET_FIELD);
    act->set_field.field = f;
    field_value_and(f, &act->set_field.value, &value, &mask);
    act->set_field.mask = mask;
    return 0;
}

static int
decode_subfield(uint32_t header, unsigned int ofs, unsigned int n_bits,
                struct field_subfield *sf)
{
    const struct oxm_def *d = oxm_from_header(header);
    const struct field *f;

    if (!d) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    f = field_from_id(d->id);
    if (d->conv == OXM_CONV_ARP_OP && !ofs && n_bits == 16) {
        /* The whole 16-bit opcode on the wire; we keep its low byte. */
        n_bits = f->n_bits;
    }
    if (!n_bits || ofs + n_bits > f->n_bits) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    sf->field = f;
    sf->ofs = ofs;
    sf->n_bits = n_bits;
    return 0;
}

/* NXAST_CONTROLLER2: what ovs-ofctl sends for controller(...).  Only the
 * max_len, id and reason properties have a meaning here; userdata, pause
 * and meters are refused. */
static int
decode_controller2(const uint8_t *a, size_t len, struct ofpacts *out)
{
    uint16_t max_len = OFPACT_CONTROLLER_MAX_LEN, id = 0;
    unsigned int reason = OFPACT_REASON_ACTION;
    size_t ofs = 16;
    struct ofpact *act;

    while (ofs < len) {
        uint16_t type, plen;

        if (len - ofs < 4) {
            return OFPERR_BAC_BAD_LEN;
        }
        type = ofp_get16(a + ofs);
        plen = ofp_get16(a + ofs + 2);
        if (plen < 4 || ofp_pad8(plen) > len - ofs) {
            return OFPERR_BAC_BAD_LEN;
        }
        switch (type) {
        case NXAC2PT_MAX_LEN:
        case NXAC2PT_CONTROLLER_ID:
            /* A 16-bit value, alone (6) or padded to 8 as Open vSwitch
             * writes it. */
            if (plen != 6 && plen != 8) {
                return OFPERR_BAC_BAD_LEN;
            }
            if (type == NXAC2PT_MAX_LEN) {
                max_len = ofp_get16(a + ofs + 4);
            } else {
                id = ofp_get16(a + ofs + 4);
            }
            break;
        case NXAC2PT_REASON:
            if (plen != 5) {
                return OFPERR_BAC_BAD_LEN;
            }
            reason = a[ofs + 4];
            if (reason > OFPACT_REASON_PACKET_OUT) {
                return OFPERR_BAC_BAD_ARGUMENT;
            }
            break;
        default:
            return OFPERR_BAC_BAD_ARGUMENT;
        }
        ofs += ofp_pad8(plen);
    }
    act = ofpacts_put(out, OFPACT_CONTROLLER);
    act->raw = OFPACT_RAW_NX_CONTROLLER2;
    act->controller.max_len = max_len;
    act->controller.id = id;
    act->controller.reason = (enum ofpact_controller_reason)reason;
    return 0;
}

static int
decode_nx_resubmit(const uint8_t *a, uint16_t subtype, struct ofpacts *out)
{
    uint32_t port = ofp_get16(a + 10);
    uint8_t table = subtype == NXAST_RESUBMIT ? OFPACT_TABLE_NONE : a[12];
    struct ofpact *act;

    if (!port
        || (port >= OFPP_MAX && port != OFPP_IN_PORT && port != OFPP_LOCAL)) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    act = ofpacts_put(out, OFPACT_RESUBMIT);
    act->resubmit.in_port = port;
    act->resubmit.table_id = table;
    return 0;
}

static int
decode_nx_note(const uint8_t *a, size_t len, struct ofpacts *out)
{
    if (len - 10 > OFPACT_NOTE_MAX) {
        return OFPERR_BAC_BAD_LEN;
    }
    ofpacts_put_note(out, a + 10, len - 10);
    return 0;
}

static int
decode_nx_reg_move(const uint8_t *a, struct ofpacts *out)
{
    struct field_subfield src, dst;
    unsigned int n_bits = ofp_get16(a + 10);
    struct ofpact *act;
    int error;

    error =
        decode_subfield(ofp_get32(a + 16), ofp_get16(a + 12), n_bits, &src);
    if (!error) {
        error = decode_subfield(ofp_get32(a + 20), ofp_get16(a + 14), n_bits,
                                &dst);
    }
    if (error) {
        return error;
    }
    if (!dst.field->writable) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    act = ofpacts_put(out, OFPACT_MOVE);
    act->move.src = src;
    act->move.dst = dst;
    return 0;
}

static int
decode_nx_reg_load(const uint8_t *a, struct ofpacts *out)
{
    uint16_t ofs_nbits = ofp_get16(a + 10);
    unsigned int n_bits = (ofs_nbits & 0x3f) + 1u;
    uint64_t value = ofp_get64(a + 16);
    struct field_subfield dst;
    struct ofpact *act;
    int error;

    error = decode_subfield(ofp_get32(a + 12), ofs_nbits >> 6, n_bits, &dst);
    if (error) {
        return error;
    }
    if (!dst.field->writable || (n_bits < 64 && value >> n_bits)) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    act = ofpacts_put(out, OFPACT_LOAD);
    act->load.dst = dst;
    act->load.value = value;
    return 0;
}

static int
decode_nx_reg_load2(const uint8_t *a, size_t len, struct ofpacts *out)
{
    int error = decode_set_field(a, 10, len, true, out);

    if (!error) {
        out->acts[out->n - 1].raw = OFPACT_RAW_NX_REG_LOAD2;
    }
    return error;
}

static int
decode_nx_controller(const uint8_t *a, struct ofpacts *out)
{
    struct ofpact *act;

    if (a[14] > OFPACT_REASON_PACKET_OUT) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    act = ofpacts_put(out, OFPACT_CONTROLLER);
    act->raw = OFPACT_RAW_NX_CONTROLLER;
    act->controller.max_len = ofp_get16(a + 10);
    act->controller.id = ofp_get16(a + 12);
    act->controller.reason = (enum ofpact_controller_reason)a[14];
    return 0;
}

static int
decode_nx_dec_ttl(struct ofpacts *out)
{
    ofpacts_put(out, OFPACT_DEC_TTL);
    return 0;
}

/* The length of a fixed-size Nicira action 'subtype', 0 for one whose
 * length varies (or an unknown one).  Checked before the action's own
 * decoder runs, so none reads past its action (an NXAST_REG_LOAD once
 * read its value before its own length check). */
static size_t
nx_action_fixed_len(uint16_t subtype)
{
    switch (subtype) {
    case NXAST_RESUBMIT:
    case NXAST_RESUBMIT_TABLE:
    case NXAST_CONTROLLER:
    case NXAST_DEC_TTL:
        return 16;
    case NXAST_REG_MOVE:
    case NXAST_REG_LOAD:
        return 24;
    default:
        return 0;
    }
}

/* A flat dispatch on the Nicira subtype: one line per action. */
static int
decode_nx_action(const uint8_t *a, size_t len, struct ofpacts *out)
{
    uint16_t subtype = ofp_get16(a + 8);
    size_t fixed_len = nx_action_fixed_len(subtype);

    if (fixed_len && len != fixed_len) {
        return OFPERR_BAC_BAD_LEN;
    }
    switch (subtype) {
    case NXAST_RESUBMIT:
    case NXAST_RESUBMIT_TABLE:
        return decode_nx_resubmit(a, subtype, out);
    case NXAST_NOTE:
        return decode_nx_note(a, len, out);
    case NXAST_REG_MOVE:
        return decode_nx_reg_move(a, out);
    case NXAST_REG_LOAD:
        return decode_nx_reg_load(a, out);
    case NXAST_REG_LOAD2:
        return decode_nx_reg_load2(a, len, out);
    case NXAST_CONTROLLER:
        return decode_nx_controller(a, out);
    case NXAST_CONTROLLER2:
        return decode_controller2(a, len, out);
    case NXAST_DEC_TTL:
        return decode_nx_dec_ttl(out);
    default:
        return OFPERR_BAC_BAD_EXP_TYPE;
    }
}

static int
decode_push_vlan(const uint8_t *a, struct ofpacts *out)
{
    uint16_t tpid = ofp_get16(a + 4);

    if (tpid != ETH_TYPE_VLAN_8021Q && tpid != ETH_TYPE_VLAN_8021AD) {
        return OFPERR_BAC_BAD_ARGUMENT;
    }
    ofpacts_put(out, OFPACT_PUSH_VLAN)->push_tpid = htons(tpid);
    return 0;
}

/* push_mpls (only the MPLS ethertypes, as Open vSwitch), pop_mpls (any),
 * set_mpls_ttl, set_nw_ttl, dec_mpls_ttl: all 8 bytes. */
static int
decode_mpls_action(const uint8_t *a, uint16_t type, struct ofpacts *out)
{
    be16 ethertype = htons(ofp_get16(a + 4));

    switch (type) {
    case OFPAT_PUSH_MPLS:
        if (!eth_type_is_mpls(ethertype)) {
            return OFPERR_BAC_BAD_ARGUMENT;
        }
        ofpacts_put(out, OFPACT_PUSH_MPLS)->mpls_ethertype = ethertype;
        return 0;
    case OFPAT_POP_MPLS:
        ofpacts_put(out, OFPACT_POP_MPLS)->mpls_ethertype = ethertype;
        return 0;
    case OFPAT_SET_MPLS_TTL:
        ofpacts_put(out, OFPACT_SET_MPLS_TTL)->ttl = a[4];
        return 0;
    case OFPAT_SET_NW_TTL:
        ofpacts_put(out, OFPACT_SET_IP_TTL)->ttl = a[4];
        return 0;
    default:
        ofpacts_put(out, OFPACT_DEC_MPLS_TTL);
        return 0;
    }
}

/* The length of a fixed-size OpenFlow action 'type', 0 for one whose length
 * varies (or an unknown one): checked, like nx_action_fixed_len(), before
 * the action's decoder runs. */
static size_t
ofp_action_fixed_len(uint16_t type)
{
    switch (type) {
    case OFPAT_OUTPUT:
        return 16;
    case OFPAT_PUSH_VLAN:
    case OFPAT_POP_VLAN:
    case OFPAT_DEC_NW_TTL:
    case OFPAT_SET_QUEUE:
    case OFPAT_GROUP:
    case OFPAT11_SET_TP_SRC:
    case OFPAT11_SET_TP_DST:
    case OFPAT_SET_MPLS_TTL:
    case OFPAT_DEC_MPLS_TTL:
    case OFPAT_PUSH_MPLS:
    case OFPAT_POP_MPLS:
    case OFPAT_SET_NW_TTL:
        return 8;
    default:
        return 0;
    }
}

static int
decode_action(const uint8_t *a, size_t len, struct ofpacts *out)
{
    uint16_t type = ofp_get16(a);
    size_t fixed_len = ofp_action_fixed_len(type);

    if (fixed_len && len != fixed_len) {
        return OFPERR_BAC_BAD_LEN;
    }
    switch (type) {
    case OFPAT_OUTPUT:
        return decode_output(a, out);
    case OFPAT_PUSH_VLAN:
        return decode_push_vlan(a, out);
    case OFPAT_POP_VLAN:
        ofpacts_put(out, OFPACT_STRIP_VLAN);
        return 0;
    case OFPAT_DEC_NW_TTL:
        ofpacts_put(out, OFPACT_DEC_TTL);
        return 0;
    case OFPAT_SET_MPLS_TTL:
    case OFPAT_DEC_MPLS_TTL:
    case OFPAT_PUSH_MPLS:
    case OFPAT_POP_MPLS:
    case OFPAT_SET_NW_TTL:
        return decode_mpls_action(a, type, out);
    case OFPAT_SET_FIELD:
        return decode_set_field(a, 4, len, false, out);
    case OFPAT_SET_QUEUE:
        ofpacts_put(out, OFPACT_SET_QUEUE)->queue_id = ofp_get32(a + 4);
        return 0;
    case OFPAT11_SET_TP_SRC:
    case OFPAT11_SET_TP_DST:
        ofpacts_put(out, type == OFPAT11_SET_TP_SRC ? OFPACT_SET_L4_SRC
                                                    : OFPACT_SET_L4_DST)
            ->l4_port = ofp_get16(a + 4);
        return 0;
    case OFPAT_GROUP:
        if (ofp_get32(a + 4) > OFPACT_GROUP_MAX) {
            return OFPERR_BAC_BAD_OUT_GROUP;
        }
        ofpacts_put(out, OFPACT_GROUP)->group_id = ofp_get32(a + 4);
        return 0;
    case OFPAT_EXPERIMENTER:
        if (len < 16) {
            return OFPERR_BAC_BAD_LEN;
        }
        if (ofp_get32(a + 4) != NX_VENDOR_ID) {
            return OFPERR_BAC_BAD_EXPERIMENTER;
        }
        return decode_nx_action(a, len, out);
    default:
        return OFPERR_BAC_BAD_TYPE;
    }
}

int
ofp_decode_actions(const uint8_t *p, size_t len, struct ofpacts *out)
{
    ofpacts_init(out);
    while (len) {
        size_t alen;
        int error;

        if (len < 8) {
            ofpacts_destroy(out);
            return OFPERR_BAC_BAD_LEN;
        }
        alen = ofp_get16(p + 2);
        if (alen < 8 || alen % 8 || alen > len) {
            ofpacts_destroy(out);
            return OFPERR_BAC_BAD_LEN;
        }
        error = decode_action(p, alen, out);
        if (error) {
            ofpacts_destroy(out);
            return error;
        }
        p += alen;
        len -= alen;
    }
    return 0;
}

/* ---- Decoding instructions ---------------------------------------------- */

/* What the instructions seen so far asked for: write_metadata and
 * goto_table become actions after the applied ones, whatever their order on
 * the wire, and each instruction may appear only once. */
struct inst_decoder {
    bool have_apply, have_meta, have_goto, have_clear, have_write;
    bool have_meter;
    uint64_t meta_value, meta_mask;
    uint32_t meter_id;
    uint8_t goto_table;
    struct ofpacts write; /* write_actions' actions (owned). */
};

/* An instruction of 'want' bytes that may appear once ('*seen' says
 * whether it did before): 0 when 'ilen' and '*seen' allow it. */
static int
inst_check_once(uint16_t ilen, uint16_t want, bool seen)
{
    if (ilen != want) {
        return OFPERR_BIC_BAD_LEN;
    }
    return seen ? OFPERR_BIC_DUP_INST : 0;
}

static int
decode_goto_table(const uint8_t *p, uint16_t ilen, struct inst_decoder *d)
{
    int error = inst_check_once(ilen, 8, d->have_goto);

    if (error) {
        return error;
    }
    if (p[4] >= OFP13_N_TABLES) {
        return OFPERR_BIC_BAD_TABLE_ID;
    }
    d->have_goto = true;
    d->goto_table = p[4];
    return 0;
}

static int
decode_write_metadata(const uint8_t *p, uint16_t ilen, struct inst_decoder *d)
{
    int error = inst_check_once(ilen, 24, d->have_meta);

    if (error) {
        return error;
    }
    d->have_meta = true;
    d->meta_value = ofp_get64(p + 8);
    d->meta_mask = ofp_get64(p + 16);
    return 0;
}

/* Meter ids 0 and above OFPM_MAX name no meter a flow may use (Open
 * vSwitch answers OFPMMFC_INVALID_METER). */
static int
decode_meter(const uint8_t *p, uint16_t ilen, struct inst_decoder *d)
{
    int error = inst_check_once(ilen, 8, d->have_meter);

    if (error) {
        return error;
    }
    d->meter_id = ofp_get32(p + 4);
    if (!d->meter_id || d->meter_id > OFPACT_METER_MAX) {
        return OFPERR_MMFC_INVALID_METER;
    }
    d->have_meter = true;
    return 0;
}

static int
decode_clear_actions(uint16_t ilen, struct inst_decoder *d)
{
    int error = inst_check_once(ilen, 8, d->have_clear);

    if (error) {
        return error;
    }
    d->have_clear = true;
    return 0;
}

/* An action the action set cannot hold (a note) is refused with
 * OFPBAC_BAD_TYPE, as Open vSwitch refuses it. */
static int
decode_write_actions(const uint8_t *p, uint16_t ilen, struct inst_decoder *d)
{
    int error;

    if (d->have_write) {
        return OFPERR_BIC_DUP_INST;
    }
    error = ofp_decode_actions(p + 8, ilen - 8u, &d->write);
    if (error) {
        return error;
    }
    d->have_write = true;
    for (size_t i = 0; i < d->write.n; i++) {
        if (!actset_allows(d->write.acts[i].type)) {
            return OFPERR_BAC_BAD_TYPE;
        }
    }
    return 0;
}

static int
decode_apply_actions(const uint8_t *p, uint16_t ilen, struct inst_decoder *d,
                     struct ofpacts *out)
{
    struct ofpacts acts;
    int error;

    if (d->have_apply) {
        return OFPERR_BIC_DUP_INST;
    }
    error = ofp_decode_actions(p + 8, ilen - 8u, &acts);
    if (error) {
        return error;
    }
    d->have_apply = true;
    for (size_t i = 0; i < acts.n; i++) {
        struct ofpact *dst = ofpacts_put(out, acts.acts[i].type);

        *dst = acts.acts[i];
        if (acts.acts[i].type == OFPACT_NOTE) {
            /* Move the note's bytes rather than copy them. */
            acts.acts[i].note.data = NULL;
            acts.acts[i].note.len = 0;
        }
    }
    ofpacts_destroy(&acts);
    return 0;
}

/* A flat dispatch on the instruction type: one line per instruction. */
static int
decode_instruction(const uint8_t *p, uint16_t ilen, struct inst_decoder *d,
                   struct ofpacts *out)
{
    switch (ofp_get16(p)) {
    case OFPIT_GOTO_TABLE:
        return decode_goto_table(p, ilen, d);
    case OFPIT_WRITE_METADATA:
        return decode_write_metadata(p, ilen, d);
    case OFPIT_APPLY_ACTIONS:
        return decode_apply_actions(p, ilen, d, out);
    case OFPIT_WRITE_ACTIONS:
        return decode_write_actions(p, ilen, d);
    case OFPIT_CLEAR_ACTIONS:
        return decode_clear_actions(ilen, d);
    case OFPIT_METER:
        return decode_meter(p, ilen, d);
    case 0xffff:
        return OFPERR_BIC_UNSUP_INST;
    default:
        return OFPERR_BIC_UNKNOWN_INST;
    }
}

/* Appends clear_actions, write_actions, write_metadata and goto_table, in
 * that order, after the applied actions.  An empty write_actions is none,
 * as Open vSwitch reads it back. */
static void
put_deferred_instructions(struct inst_decoder *d, struct ofpacts *out)
{
    if (d->have_meter) {
        /* First in the list, whatever the order on the wire. */
        struct ofpact *act = ofpacts_put(out, OFPACT_METER);
        struct ofpact meter = *act;

        memmove(&out->acts[1], &out->acts[0],
                (out->n - 1) * sizeof *out->acts);
        meter.meter.meter_id = d->meter_id;
        meter.meter.dp_id = OFPACT_METER_DP_NONE;
        out->acts[0] = meter;
    }
    if (d->have_clear) {
        ofpacts_put(out, OFPACT_CLEAR_ACTIONS);
    }
    if (d->write.n) {
        ofpacts_put_write_actions(out, &d->write);
    }
    if (d->have_meta) {
        struct ofpact *act = ofpacts_put(out, OFPACT_WRITE_METADATA);

        /* Kept as given: Open vSwitch shows the value bits outside the
         * mask too (xlate writes only the masked ones). */
        act->metadata.value = d->meta_value;
        act->metadata.mask = d->meta_mask;
    }
    if (d->have_goto) {
        ofpacts_put(out, OFPACT_GOTO_TABLE)->goto_table = d->goto_table;
    }
}

int
ofp_decode_instructions(const uint8_t *p, size_t len, struct ofpacts *out)
{
    struct inst_decoder d;
    int error = 0;

    memset(&d, 0, sizeof d);
    ofpacts_init(&d.write);
    ofpacts_init(out);
    while (len) {
        uint16_t ilen;

        if (len < 8) {
            error = OFPERR_BIC_BAD_LEN;
            goto err;
        }
        ilen = ofp_get16(p + 2);
        if (ilen < 8 || ilen % 8 || ilen > len) {
            error = OFPERR_BIC_BAD_LEN;
            goto err;
        }
        error = decode_instruction(p, ilen, &d, out);
        if (error) {
            goto err;
        }
        p += ilen;
        len -= ilen;
    }
    put_deferred_instructions(&d, out);
    ofpacts_destroy(&d.write);
    return 0;

err:
    ofpacts_destroy(&d.write);
    ofpacts_destroy(out);
    ofpacts_init(out);
    return error;
}

/* ---- Encoding ----------------------------------------------------------- */

/* An action's length counts its padding. */
static void
action_finish(struct ofpbuf *b, size_t ofs)
{
    ofp_tlv_finish(b, ofs, true);
}

static size_t
nx_action_start(struct ofpbuf *b, uint16_t subtype)
{
    size_t ofs = ofp_tlv_start(b, OFPAT_EXPERIMENTER);

    ofpbuf_put_be32(b, NX_VENDOR_ID);
    ofpbuf_put_be16(b, subtype);
    return ofs;
}

static const struct oxm_def *
oxm_basic_for_field(enum field_id id)
{
    for (unsigned int i = 0; i < 40; i++) {
        const struct oxm_def *d = oxm_lookup(OXM_CLASS_BASIC, (uint8_t)i, 0);

        if (d && d->id == id) {
            return d;
        }
    }
    return NULL;
}

/* The field a write to 'f' goes to on the wire, with 'v' converted:
 * views of a member (dl_vlan, nw_tos, tp_src) become the OpenFlow 1.3
 * field of the same bits. */
static const struct field *
set_field_target(const struct field *f, const struct match *match,
                 union field_value *v, union field_value *m)
{
    uint8_t proto = match ? match->flow.nw_proto : IPPROTO_TCP_;
    enum field_id id = f->id;

    switch (f->id) {
    case FIELD_DL_VLAN:
        id = FIELD_VLAN_VID;
        v->be16 |= htons(VLAN_CFI);
        m->be16 |= htons(VLAN_CFI);
        break;
    case FIELD_DL_VLAN_PCP:
        id = FIELD_VLAN_PCP;
        break;
    case FIELD_TP_SRC:
    case FIELD_TP_DST: {
        bool src = f->id == FIELD_TP_SRC;

        id = proto == IPPROTO_UDP_    ? (src ? FIELD_UDP_SRC : FIELD_UDP_DST)
             : proto == IPPROTO_SCTP_ ? (src ? FIELD_SCTP_SRC : FIELD_SCTP_DST)
                                      : (src ? FIELD_TCP_SRC : FIELD_TCP_DST);
        break;
    }
    default:
        break;
    }
    return field_from_id(id);
}

static void
put_set_field(struct ofpbuf *b, const struct field *f,
              const union field_value *value, const union field_value *mask,
              const struct match *match)
{
    union field_value v = *value, m = *mask;
    const struct oxm_def *d;
    size_t ofs;

    f = set_field_target(f, match, &v, &m);
    /* Open vSwitch's in_port and nw_tos are NXM fields: it writes them by
     * their NXM header, and ovs-ofctl refuses a set_field of OXM in_port. */
    d = f->id == FIELD_IN_PORT || f->id == FIELD_NW_TOS
            ? oxm_for_field(f->id)
            : oxm_basic_for_field(f->id);
    if (d && field_value_is_all_ones(f, &m)) {
        ofs = ofp_tlv_start(b, OFPAT_SET_FIELD);
        oxm_put(b, d, &v, NULL);
        action_finish(b, ofs);
        return;
    }
    if (!d) {
        d = oxm_for_field(f->id);
    }
    if (!d) {
        COVERAGE_INC(ofp_encode_action_skipped);
        return;
    }
    ofs = nx_action_start(b, NXAST_REG_LOAD2);
    oxm_put(b, d, &v, &m);
    action_finish(b, ofs);
}

/* A set_field that came in as NXAST_REG_LOAD2 goes back out as one, with
 * the NXM header when the field has one (as Open vSwitch writes it). */
static void
put_reg_load2(struct ofpbuf *b, const struct field *f,
              const union field_value *value, const union field_value *mask)
{
    const struct oxm_def *d = oxm_for_field(f->id);
    size_t ofs;

    if (!d) {
        COVERAGE_INC(ofp_encode_action_skipped);
        return;
    }
    ofs = nx_action_start(b, NXAST_REG_LOAD2);
    oxm_put(b, d, value, field_value_is_all_ones(f, mask) ? NULL : mask);
    action_finish(b, ofs);
}

/* A 16-bit property of NXAST_CONTROLLER2, padded to 8 bytes as Open
 * vSwitch writes it. */
static void
put_controller2_u16(struct ofpbuf *b, uint16_t type, uint16_t value)
{
    ofpbuf_put_be16(b, type);
    ofpbuf_put_be16(b, 8);
    ofpbuf_put_be16(b, value);
    ofpbuf_put_zeros(b, 2);
}

/* A controller action that came in as NXAST_CONTROLLER2 goes back out as
 * one, with the properties whose values are not the defaults; 16-bit
 * values padded to 8 bytes, as Open vSwitch writes them. */
static void
put_controller2(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs = nx_action_start(b, NXAST_CONTROLLER2);

    ofpbuf_put_zeros(b, 6);
    if (a->controller.max_len != OFPACT_CONTROLLER_MAX_LEN) {
        put_controller2_u16(b, NXAC2PT_MAX_LEN, a->controller.max_len);
    }
    if (a->controller.id) {
        put_controller2_u16(b, NXAC2PT_CONTROLLER_ID, a->controller.id);
    }
    if (a->controller.reason != OFPACT_REASON_ACTION) {
        ofpbuf_put_be16(b, NXAC2PT_REASON);
        ofpbuf_put_be16(b, 5);
        ofpbuf_put_u8(b, (uint8_t)a->controller.reason);
        ofpbuf_put_zeros(b, 3);
    }
    action_finish(b, ofs);
}

static void
put_simple_set(struct ofpbuf *b, enum field_id id, const void *bytes, size_t n,
               const struct match *match)
{
    const struct field *f = field_from_id(id);
    union field_value v, m;

    memset(&v, 0, sizeof v);
    memcpy(v.b, bytes, n);
    field_all_ones(f, &m);
    put_set_field(b, f, &v, &m, match);
}

static void
put_subfield_header(struct ofpbuf *b, const struct field_subfield *sf,
                    bool *ok)
{
    const struct oxm_def *d = oxm_for_field(sf->field->id);

    if (!d) {
        *ok = false;
        ofpbuf_put_be32(b, 0);
        return;
    }
    ofpbuf_put_be32(b, oxm_header(d));
}

static void
put_output(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs = ofp_tlv_start(b, OFPAT_OUTPUT);

    ofpbuf_put_be32(b, ofp_port_to_wire(a->output.port));
    ofpbuf_put_be16(b, a->output.max_len);
    action_finish(b, ofs);
}

/* A controller action goes out as OpenFlow output:CONTROLLER when that says
 * it all, otherwise in the Nicira form it came in as. */
static void
put_controller(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs;

    if (a->raw == OFPACT_RAW_NX_CONTROLLER2) {
        put_controller2(b, a);
        return;
    }
    if (a->controller.reason == OFPACT_REASON_ACTION && !a->controller.id
        && a->raw != OFPACT_RAW_NX_CONTROLLER) {
        ofs = ofp_tlv_start(b, OFPAT_OUTPUT);
        ofpbuf_put_be32(b, OFPP13_CONTROLLER);
        ofpbuf_put_be16(b, a->controller.max_len);
    } else {
        ofs = nx_action_start(b, NXAST_CONTROLLER);
        ofpbuf_put_be16(b, a->controller.max_len);
        ofpbuf_put_be16(b, a->controller.id);
        ofpbuf_put_u8(b, (uint8_t)a->controller.reason);
    }
    action_finish(b, ofs);
}

/* mod_tp_src/mod_tp_dst where no match says TCP, UDP or SCTP (a group's
 * bucket): OpenFlow 1.1's set_tp action, as Open vSwitch sends it. */
static void
put_of11_set_tp(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs =
        ofp_tlv_start(b, a->type == OFPACT_SET_L4_SRC ? OFPAT11_SET_TP_SRC
                                                      : OFPAT11_SET_TP_DST);

    ofpbuf_put_be16(b, a->l4_port);
    action_finish(b, ofs);
}

/* The OpenFlow 1.0 style rewrites (mod_dl_src, mod_nw_tos, ...): a
 * set_field of the field they write (mod_tp_* without a match: see
 * put_of11_set_tp()). */
static void
put_of10_set(struct ofpbuf *b, const struct ofpact *a,
             const struct match *match)
{
    be16 be;
    uint8_t u8;

    switch (a->type) {
    case OFPACT_SET_VLAN_VID:
        be = htons(a->vlan_vid);
        put_simple_set(b, FIELD_DL_VLAN, &be, 2, match);
        break;
    case OFPACT_SET_VLAN_PCP:
        put_simple_set(b, FIELD_VLAN_PCP, &a->vlan_pcp, 1, match);
        break;
    case OFPACT_SET_ETH_SRC:
    case OFPACT_SET_ETH_DST:
        put_simple_set(
            b, a->type == OFPACT_SET_ETH_SRC ? FIELD_ETH_SRC : FIELD_ETH_DST,
            &a->mac, 6, match);
        break;
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
        put_simple_set(
            b, a->type == OFPACT_SET_IPV4_SRC ? FIELD_IP_SRC : FIELD_IP_DST,
            &a->ipv4, 4, match);
        break;
    case OFPACT_SET_IP_DSCP:
        u8 = a->tos >> 2;
        put_simple_set(b, FIELD_IP_DSCP, &u8, 1, match);
        break;
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
        if (!match) {
            put_of11_set_tp(b, a);
            break;
        }
        be = htons(a->l4_port);
        put_simple_set(
            b, a->type == OFPACT_SET_L4_SRC ? FIELD_TP_SRC : FIELD_TP_DST, &be,
            2, match);
        break;
    default:
        break;
    }
}

static void
put_push_vlan(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs = ofp_tlv_start(b, OFPAT_PUSH_VLAN);

    ofpbuf_put(b, &a->push_tpid, 2);
    action_finish(b, ofs);
}

/* An 8-byte action whose argument is a byte or an ethertype (or none). */
static void
put_mpls_action(struct ofpbuf *b, const struct ofpact *a,
                const struct match *match)
{
    size_t ofs;

    switch (a->type) {
    case OFPACT_PUSH_MPLS:
    case OFPACT_POP_MPLS:
        ofs = ofp_tlv_start(b, a->type == OFPACT_PUSH_MPLS ? OFPAT_PUSH_MPLS
                                                           : OFPAT_POP_MPLS);
        ofpbuf_put(b, &a->mpls_ethertype, 2);
        break;
    case OFPACT_SET_MPLS_TTL:
    case OFPACT_SET_IP_TTL:
        ofs = ofp_tlv_start(b, a->type == OFPACT_SET_MPLS_TTL
                                   ? OFPAT_SET_MPLS_TTL
                                   : OFPAT_SET_NW_TTL);
        ofpbuf_put(b, &a->ttl, 1);
        break;
    case OFPACT_SET_MPLS_LABEL: {
        /* OpenFlow 1.3 has no such action: a set_field, as Open vSwitch
         * sends it. */
        be32 label = htonl(a->mpls_label);

        put_simple_set(b, FIELD_MPLS_LABEL, &label, sizeof label, match);
        return;
    }
    case OFPACT_SET_MPLS_TC:
        put_simple_set(b, FIELD_MPLS_TC, &a->mpls_tc, 1, match);
        return;
    default:
        ofs = ofp_tlv_start(b, OFPAT_DEC_MPLS_TTL);
        break;
    }
    action_finish(b, ofs);
}

static void
put_set_field_action(struct ofpbuf *b, const struct ofpact *a,
                     const struct match *match)
{
    if (a->raw == OFPACT_RAW_NX_REG_LOAD2) {
        put_reg_load2(b, a->set_field.field, &a->set_field.value,
                      &a->set_field.mask);
    } else {
        put_set_field(b, a->set_field.field, &a->set_field.value,
                      &a->set_field.mask, match);
    }
}

/* NXAST_REG_LOAD when the field has a header to name it by, otherwise the
 * same bits as a set_field. */
static void
put_load(struct ofpbuf *b, const struct ofpact *a, const struct match *match)
{
    const struct oxm_def *d = oxm_for_field(a->load.dst.field->id);
    unsigned int n_bits = a->load.dst.n_bits;
    size_t ofs;

    if (!d) {
        union field_value v, m;

        ofpact_load_to_field(a, &v, &m);
        put_set_field(b, a->load.dst.field, &v, &m, match);
        return;
    }
    if (d->conv == OXM_CONV_ARP_OP && !a->load.dst.ofs
        && n_bits == a->load.dst.field->n_bits) {
        n_bits = 16; /* The whole opcode, as its wire width says. */
    }
    ofs = nx_action_start(b, NXAST_REG_LOAD);
    ofpbuf_put_be16(b, (uint16_t)((a->load.dst.ofs << 6) | (n_bits - 1)));
    ofpbuf_put_be32(b, oxm_header(d));
    ofpbuf_put_be64(b, a->load.value);
    action_finish(b, ofs);
}

/* NXAST_REG_MOVE, or nothing (and a count) when a field has no header. */
static void
put_move(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs = nx_action_start(b, NXAST_REG_MOVE);
    bool ok = true;

    ofpbuf_put_be16(b, (uint16_t)a->move.src.n_bits);
    ofpbuf_put_be16(b, (uint16_t)a->move.src.ofs);
    ofpbuf_put_be16(b, (uint16_t)a->move.dst.ofs);
    put_subfield_header(b, &a->move.src, &ok);
    put_subfield_header(b, &a->move.dst, &ok);
    action_finish(b, ofs);
    if (!ok) {
        COVERAGE_INC(ofp_encode_action_skipped);
        b->size = ofs;
    }
}

static void
put_resubmit(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs;

    if (a->resubmit.table_id == OFPACT_TABLE_NONE) {
        ofs = nx_action_start(b, NXAST_RESUBMIT);
        ofpbuf_put_be16(b, (uint16_t)a->resubmit.in_port);
    } else {
        ofs = nx_action_start(b, NXAST_RESUBMIT_TABLE);
        ofpbuf_put_be16(b, (uint16_t)a->resubmit.in_port);
        ofpbuf_put_u8(b, a->resubmit.table_id);
    }
    ofpbuf_put_zeros(b, 16 - (b->size - ofs));
    action_finish(b, ofs);
}

static void
put_note(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs = nx_action_start(b, NXAST_NOTE);

    ofpbuf_put(b, a->note.data, a->note.len);
    if (b->size - ofs < 16) {
        ofpbuf_put_zeros(b, 16 - (b->size - ofs));
    }
    action_finish(b, ofs);
}

static void
put_set_queue(struct ofpbuf *b, const struct ofpact *a)
{
    size_t ofs = ofp_tlv_start(b, OFPAT_SET_QUEUE);

    ofpbuf_put_be32(b, a->queue_id);
    ofp_tlv_finish(b, ofs, false);
}

static void
put_group(struct ofpbuf *b, uint32_t group_id)
{
    size_t ofs = ofp_tlv_start(b, OFPAT_GROUP);

    ofpbuf_put_be32(b, group_id);
    action_finish(b, ofs);
}

/* A flat dispatch on the action type: one line per action (or group of
 * OpenFlow 1.0 style rewrites). */
static void
encode_action(const struct ofpact *a, const struct match *match,
              struct ofpbuf *b)
{
    switch (a->type) {
    case OFPACT_OUTPUT:
        put_output(b, a);
        break;
    case OFPACT_CONTROLLER:
        put_controller(b, a);
        break;
    case OFPACT_SET_VLAN_VID:
    case OFPACT_SET_VLAN_PCP:
    case OFPACT_SET_ETH_SRC:
    case OFPACT_SET_ETH_DST:
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
    case OFPACT_SET_IP_DSCP:
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
        put_of10_set(b, a, match);
        break;
    case OFPACT_STRIP_VLAN:
        action_finish(b, ofp_tlv_start(b, OFPAT_POP_VLAN));
        break;
    case OFPACT_PUSH_VLAN:
        put_push_vlan(b, a);
        break;
    case OFPACT_GROUP:
        put_group(b, a->group_id);
        break;
    case OFPACT_DEC_TTL:
        action_finish(b, ofp_tlv_start(b, OFPAT_DEC_NW_TTL));
        break;
    case OFPACT_SET_FIELD:
        put_set_field_action(b, a, match);
        break;
    case OFPACT_LOAD:
        put_load(b, a, match);
        break;
    case OFPACT_MOVE:
        put_move(b, a);
        break;
    case OFPACT_RESUBMIT:
        put_resubmit(b, a);
        break;
    case OFPACT_NOTE:
        put_note(b, a);
        break;
    case OFPACT_SET_IP_TTL:
    case OFPACT_DEC_MPLS_TTL:
    case OFPACT_SET_MPLS_TTL:
    case OFPACT_SET_MPLS_TC:
    case OFPACT_SET_MPLS_LABEL:
    case OFPACT_POP_MPLS:
    case OFPACT_PUSH_MPLS:
        put_mpls_action(b, a, match);
        break;
    case OFPACT_SET_QUEUE:
        put_set_queue(b, a);
        break;
    case OFPACT_CLEAR_ACTIONS:
    case OFPACT_WRITE_ACTIONS:
    case OFPACT_WRITE_METADATA:
    case OFPACT_GOTO_TABLE:
    case OFPACT_METER:
        /* Instructions: ofp_encode_instructions().  OpenFlow 1.0 has no
         * meters: its encoding leaves them out, as Open vSwitch's does. */
        break;
    }
}

void
ofp_encode_actions(const struct ofpacts *ofpacts, const struct match *match,
                   struct ofpbuf *b)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        encode_action(&ofpacts->acts[i], match, b);
    }
}

static bool
is_instruction(enum ofpact_type t)
{
    return t == OFPACT_CLEAR_ACTIONS || t == OFPACT_WRITE_ACTIONS
           || t == OFPACT_WRITE_METADATA || t == OFPACT_GOTO_TABLE
           || t == OFPACT_METER;
}

/* Appends the instruction 'a' (not apply_actions). */
static void
put_instruction(struct ofpbuf *b, const struct ofpact *a,
                const struct match *match)
{
    size_t ofs;

    switch (a->type) {
    case OFPACT_CLEAR_ACTIONS:
        ofpbuf_put_be16(b, OFPIT_CLEAR_ACTIONS);
        ofpbuf_put_be16(b, 8);
        ofpbuf_put_zeros(b, 4);
        break;
    case OFPACT_WRITE_ACTIONS:
        ofs = ofp_tlv_start(b, OFPIT_WRITE_ACTIONS);
        ofpbuf_put_zeros(b, 4);
        ofp_encode_actions(a->nested, match, b);
        ofp_tlv_finish(b, ofs, true);
        break;
    case OFPACT_WRITE_METADATA:
        ofpbuf_put_be16(b, OFPIT_WRITE_METADATA);
        ofpbuf_put_be16(b, 24);
        ofpbuf_put_zeros(b, 4);
        ofpbuf_put_be64(b, a->metadata.value);
        ofpbuf_put_be64(b, a->metadata.mask);
        break;
    case OFPACT_GOTO_TABLE:
        ofpbuf_put_be16(b, OFPIT_GOTO_TABLE);
        ofpbuf_put_be16(b, 8);
        ofpbuf_put_u8(b, a->goto_table);
        ofpbuf_put_zeros(b, 3);
        break;
    default:
        break;
    }
}

/* The instructions go in OpenFlow's order, whatever the list's: apply,
 * clear, write actions, write metadata, goto. */
void
ofp_encode_instructions(const struct ofpacts *ofpacts,
                        const struct match *match, struct ofpbuf *b)
{
    static const enum ofpact_type order[] = {
        OFPACT_CLEAR_ACTIONS,
        OFPACT_WRITE_ACTIONS,
        OFPACT_WRITE_METADATA,
        OFPACT_GOTO_TABLE,
    };
    bool any_action = false;

    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_METER) {
            ofpbuf_put_be16(b, OFPIT_METER);
            ofpbuf_put_be16(b, 8);
            ofpbuf_put_be32(b, a->meter.meter_id);
        } else if (!is_instruction(a->type)) {
            any_action = true;
        }
    }
    if (any_action) {
        size_t ofs = ofp_tlv_start(b, OFPIT_APPLY_ACTIONS);

        ofpbuf_put_zeros(b, 4);
        ofp_encode_actions(ofpacts, match, b);
        ofp_tlv_finish(b, ofs, true);
    }
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        for (size_t i = 0; i < ofpacts->n; i++) {
            if (ofpacts->acts[i].type == order[k]) {
                put_instruction(b, &ofpacts->acts[i], match);
            }
        }
    }
}
