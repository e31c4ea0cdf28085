/*
 * openflow/ofp-private.h — byte-order readers, OXM headers and
 * type-length element writers shared by the codec's files (ofp-codec.c,
 * ofp-match.c, ofp-actions.c).  Not for other modules.
 *
 * Every reader takes a pointer the caller has already bounded: the codec
 * checks a length first and reads second, always.
 */
#ifndef FLOWSWITCH_OPENFLOW_OFP_PRIVATE_H
#define FLOWSWITCH_OPENFLOW_OFP_PRIVATE_H 1

#include <stdint.h>
#include <string.h>

static inline uint16_t
ofp_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
ofp_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16)
           | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
ofp_get64(const uint8_t *p)
{
    return ((uint64_t)ofp_get32(p) << 32) | ofp_get32(p + 4);
}

/* OpenFlow pads variable parts to multiples of 8 bytes. */
static inline size_t
ofp_pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ---- OXM / NXM field headers (ofp-match.c) ------------------------------ */

#include <stdbool.h>
#include <stddef.h>

#include "flow/field.h"

struct ofpbuf;

#define OXM_CLASS_NXM0 0x0000
#define OXM_CLASS_NXM1 0x0001
#define OXM_CLASS_BASIC 0x8000
#define OXM_CLASS_EXPERIMENTER 0xffff
#define OXM_EXPERIMENTER_ONF 0x4f4e4600u

/* How one wire header maps onto a field of the flow language. */
enum oxm_conv {
    OXM_CONV_NONE,   /* Wire bytes == the field's value bytes. */
    OXM_CONV_PORT32, /* 32-bit OpenFlow 1.3 port <-> 16-bit in_port. */
    OXM_CONV_ARP_OP, /* 16-bit opcode <-> the field's 8 bits. */
    OXM_CONV_PORT16, /* NXM's 16-bit in_port: below OFPP_MAX or reserved. */
};

struct oxm_def {
    uint16_t cls;
    uint8_t field; /* 7 bits. */
    uint8_t len;   /* Wire length of the value. */
    uint32_t experimenter;
    enum field_id id;
    bool maskable;
    enum oxm_conv conv;
};

/* The header for a class, field number and experimenter (0 unless the
 * class is OXM_CLASS_EXPERIMENTER), or NULL. */
const struct oxm_def *oxm_lookup(uint16_t cls, uint8_t field,
                                 uint32_t experimenter);
/* The header actions use for 'id' (set_field, reg_load, reg_move), or
 * NULL for a field with none. */
const struct oxm_def *oxm_for_field(enum field_id id);
/* The 32-bit NXM/OXM header of 'def' without a mask. */
uint32_t oxm_header(const struct oxm_def *def);
/* The header 'header' (a 32-bit NXM header, no experimenter), or NULL. */
const struct oxm_def *oxm_from_header(uint32_t header);

/* The 32-bit headers of the OpenFlow basic fields (only the writable ones
 * with 'writable_only') into 'headers[0..max)'; returns how many. */
size_t oxm_basic_headers(uint32_t *headers, size_t max, bool writable_only);

/* Reads one OXM TLV from p[0..len).  Fills the value and mask in the
 * field's representation (the mask is all ones without one) and the TLV
 * length.  'allow_mask' false makes a mask an error.  Returns 0 or an
 * OFPERR_BMC_* code. */
int oxm_pull(const uint8_t *p, size_t len, bool allow_mask,
             const struct oxm_def **defp, union field_value *value,
             union field_value *mask, bool *has_mask, size_t *tlv_len);
/* Appends one TLV; 'mask' NULL or all ones for none. */
void oxm_put(struct ofpbuf *, const struct oxm_def *,
             const union field_value *value, const union field_value *mask);

/* ---- Type-length elements (ofp-codec.c) --------------------------------- */

/* Actions, instructions, a match and table-feature properties all start
 * with a 16-bit type and a 16-bit length that covers what follows: this
 * writes the type and a zero length, and returns where the element starts
 * for ofp_tlv_finish(). */
size_t ofp_tlv_start(struct ofpbuf *, uint16_t type);
/* Pads the element that starts at 'ofs' to a multiple of 8 bytes and sets
 * its length: with the padding for 'pad_in_len' (actions, instructions),
 * without it otherwise (a match, a property). */
void ofp_tlv_finish(struct ofpbuf *, size_t ofs, bool pad_in_len);

#endif /* openflow/ofp-private.h */
