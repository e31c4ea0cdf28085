/*
 * openflow/ofp-codec.c — buffers, ports and the OpenFlow 1.3 messages
 * (ofp-codec.h).  Matches are in ofp-match.c, actions and instructions in
 * ofp-actions.c.
 */
#include "openflow/ofp-codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "openflow/ofp-private.h"

/* ---- Buffers ------------------------------------------------------------ */

void
ofpbuf_init(struct ofpbuf *b)
{
    b->data = NULL;
    b->size = b->allocated = 0;
}

void
ofpbuf_uninit(struct ofpbuf *b)
{
    free(b->data);
    ofpbuf_init(b);
}

void
ofpbuf_clear(struct ofpbuf *b)
{
    b->size = 0;
}

static void
ofpbuf_reserve(struct ofpbuf *b, size_t n)
{
    b->data = xgrow(b->data, &b->allocated, MAX(b->size + n, 256), 1);
}

size_t
ofpbuf_put(struct ofpbuf *b, const void *p, size_t n)
{
    size_t ofs = b->size;

    ofpbuf_reserve(b, n);
    if (n) {
        memcpy(b->data + b->size, p, n);
    }
    b->size += n;
    return ofs;
}

size_t
ofpbuf_put_zeros(struct ofpbuf *b, size_t n)
{
    size_t ofs = b->size;

    ofpbuf_reserve(b, n);
    if (n) {
        memset(b->data + b->size, 0, n);
    }
    b->size += n;
    return ofs;
}

void
ofpbuf_put_u8(struct ofpbuf *b, uint8_t v)
{
    ofpbuf_put(b, &v, 1);
}

void
ofpbuf_put_be16(struct ofpbuf *b, uint16_t v)
{
    uint8_t w[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    ofpbuf_put(b, w, 2);
}

void
ofpbuf_put_be32(struct ofpbuf *b, uint32_t v)
{
    uint8_t w[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};

    ofpbuf_put(b, w, 4);
}

void
ofpbuf_put_be64(struct ofpbuf *b, uint64_t v)
{
    ofpbuf_put_be32(b, (uint32_t)(v >> 32));
    ofpbuf_put_be32(b, (uint32_t)v);
}

void
ofpbuf_set_be16(struct ofpbuf *b, size_t ofs, uint16_t v)
{
    b->data[ofs] = (uint8_t)(v >> 8);
    b->data[ofs + 1] = (uint8_t)v;
}

size_t
ofp_tlv_start(struct ofpbuf *b, uint16_t type)
{
    size_t ofs = b->size;

    ofpbuf_put_be16(b, type);
    ofpbuf_put_be16(b, 0);
    return ofs;
}

void
ofp_tlv_finish(struct ofpbuf *b, size_t ofs, bool pad_in_len)
{
    size_t len = b->size - ofs;

    ofpbuf_put_zeros(b, ofp_pad8(len) - len);
    ofpbuf_set_be16(b, ofs + 2, (uint16_t)(pad_in_len ? b->size - ofs : len));
}

void
ofpbuf_pull(struct ofpbuf *b, size_t n)
{
    n = MIN(n, b->size);
    memmove(b->data, b->data + n, b->size - n);
    b->size -= n;
}

/* ---- Errors and ports ----------------------------------------------------- */

const char *
ofperr_to_string(int error, char buf[64])
{
    static const struct {
        int error;
        const char *name;
    } names[] = {
        {OFPERR_HELLO_INCOMPATIBLE, "OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE"},
        {OFPERR_BAD_VERSION, "OFPET_BAD_REQUEST/OFPBRC_BAD_VERSION"},
        {OFPERR_BAD_TYPE, "OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE"},
        {OFPERR_BAD_MULTIPART, "OFPET_BAD_REQUEST/OFPBRC_BAD_MULTIPART"},
        {OFPERR_BAD_EXPERIMENTER, "OFPET_BAD_REQUEST/OFPBRC_BAD_EXPERIMENTER"},
        {OFPERR_BAD_LEN, "OFPET_BAD_REQUEST/OFPBRC_BAD_LEN"},
        {OFPERR_BUFFER_UNKNOWN, "OFPET_BAD_REQUEST/OFPBRC_BUFFER_UNKNOWN"},
        {OFPERR_BAD_TABLE_ID, "OFPET_BAD_REQUEST/OFPBRC_BAD_TABLE_ID"},
        {OFPERR_IS_SLAVE, "OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE"},
        {OFPERR_BAD_PORT, "OFPET_BAD_REQUEST/OFPBRC_BAD_PORT"},
        {OFPERR_BAD_PACKET, "OFPET_BAD_REQUEST/OFPBRC_BAD_PACKET"},
        {OFPERR_BAC_BAD_TYPE, "OFPET_BAD_ACTION/OFPBAC_BAD_TYPE"},
        {OFPERR_BAC_BAD_LEN, "OFPET_BAD_ACTION/OFPBAC_BAD_LEN"},
        {OFPERR_BAC_BAD_EXPERIMENTER,
         "OFPET_BAD_ACTION/OFPBAC_BAD_EXPERIMENTER"},
        {OFPERR_BAC_BAD_EXP_TYPE, "OFPET_BAD_ACTION/OFPBAC_BAD_EXP_TYPE"},
        {OFPERR_BAC_BAD_OUT_PORT, "OFPET_BAD_ACTION/OFPBAC_BAD_OUT_PORT"},
        {OFPERR_BAC_BAD_ARGUMENT, "OFPET_BAD_ACTION/OFPBAC_BAD_ARGUMENT"},
        {OFPERR_BAC_MATCH_INCONSISTENT,
         "OFPET_BAD_ACTION/OFPBAC_MATCH_INCONSISTENT"},
        {OFPERR_BAC_BAD_SET_TYPE, "OFPET_BAD_ACTION/OFPBAC_BAD_SET_TYPE"},
        {OFPERR_BAC_BAD_SET_LEN, "OFPET_BAD_ACTION/OFPBAC_BAD_SET_LEN"},
        {OFPERR_BAC_BAD_SET_ARGUMENT,
         "OFPET_BAD_ACTION/OFPBAC_BAD_SET_ARGUMENT"},
        {OFPERR_BIC_UNKNOWN_INST, "OFPET_BAD_INSTRUCTION/OFPBIC_UNKNOWN_INST"},
        {OFPERR_BIC_UNSUP_INST, "OFPET_BAD_INSTRUCTION/OFPBIC_UNSUP_INST"},
        {OFPERR_BIC_BAD_TABLE_ID, "OFPET_BAD_INSTRUCTION/OFPBIC_BAD_TABLE_ID"},
        {OFPERR_BIC_BAD_LEN, "OFPET_BAD_INSTRUCTION/OFPBIC_BAD_LEN"},
        {OFPERR_BIC_DUP_INST, "OFPET_BAD_INSTRUCTION/OFPBIC_DUP_INST"},
        {OFPERR_BMC_BAD_TYPE, "OFPET_BAD_MATCH/OFPBMC_BAD_TYPE"},
        {OFPERR_BMC_BAD_LEN, "OFPET_BAD_MATCH/OFPBMC_BAD_LEN"},
        {OFPERR_BMC_BAD_WILDCARDS, "OFPET_BAD_MATCH/OFPBMC_BAD_WILDCARDS"},
        {OFPERR_BMC_BAD_FIELD, "OFPET_BAD_MATCH/OFPBMC_BAD_FIELD"},
        {OFPERR_BMC_BAD_VALUE, "OFPET_BAD_MATCH/OFPBMC_BAD_VALUE"},
        {OFPERR_BMC_BAD_MASK, "OFPET_BAD_MATCH/OFPBMC_BAD_MASK"},
        {OFPERR_BMC_BAD_PREREQ, "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ"},
        {OFPERR_GMFC_GROUP_EXISTS,
         "OFPET_GROUP_MOD_FAILED/OFPGMFC_GROUP_EXISTS"},
        {OFPERR_GMFC_INVALID_GROUP,
         "OFPET_GROUP_MOD_FAILED/OFPGMFC_INVALID_GROUP"},
        {OFPERR_GMFC_WATCH_UNSUPPORTED,
         "OFPET_GROUP_MOD_FAILED/OFPGMFC_WATCH_UNSUPPORTED"},
        {OFPERR_GMFC_UNKNOWN_GROUP,
         "OFPET_GROUP_MOD_FAILED/OFPGMFC_UNKNOWN_GROUP"},
        {OFPERR_GMFC_BAD_TYPE, "OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_TYPE"},
        {OFPERR_GMFC_BAD_COMMAND,
         "OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_COMMAND"},
        {OFPERR_GMFC_BAD_BUCKET, "OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_BUCKET"},
        {OFPERR_GMFC_BAD_WATCH, "OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_WATCH"},
        {OFPERR_BMC_DUP_FIELD, "OFPET_BAD_MATCH/OFPBMC_DUP_FIELD"},
        {OFPERR_FMFC_UNKNOWN, "OFPET_FLOW_MOD_FAILED/OFPFMFC_UNKNOWN"},
        {OFPERR_FMFC_BAD_TABLE_ID,
         "OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_TABLE_ID"},
        {OFPERR_FMFC_OVERLAP, "OFPET_FLOW_MOD_FAILED/OFPFMFC_OVERLAP"},
        {OFPERR_FMFC_BAD_COMMAND, "OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_COMMAND"},
        {OFPERR_FMFC_BAD_FLAGS, "OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_FLAGS"},
        {OFPERR_SCFC_BAD_FLAGS,
         "OFPET_SWITCH_CONFIG_FAILED/OFPSCFC_BAD_FLAGS"},
        {OFPERR_RRFC_STALE, "OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE"},
        {OFPERR_RRFC_BAD_ROLE, "OFPET_ROLE_REQUEST_FAILED/OFPRRFC_BAD_ROLE"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (names[i].error == error) {
            return names[i].name;
        }
    }
    snprintf(buf, 64, "type %u code %u", OFPERR_TYPE(error),
             OFPERR_CODE(error));
    return buf;
}

bool
ofp_port_from_wire(uint32_t wire, uint32_t *port)
{
    if (wire < OFPP_MAX) {
        *port = wire;
        return true;
    }
    if (wire >= OFPP13_IN_PORT) {
        *port = wire - 0xffff0000u;
        return true;
    }
    return false;
}

uint32_t
ofp_port_to_wire(uint32_t port)
{
    return port >= OFPP_IN_PORT && port <= 0xffff ? port + 0xffff0000u : port;
}

/* ---- Framing ------------------------------------------------------------ */

void
ofp_header_decode(const uint8_t *p, struct ofp_header *h)
{
    h->version = p[0];
    h->type = p[1];
    h->length = ofp_get16(p + 2);
    h->xid = ofp_get32(p + 4);
}

size_t
ofp_msg_start(struct ofpbuf *b, uint8_t type, uint32_t xid)
{
    size_t start = b->size;

    ofpbuf_put_u8(b, OFP13_VERSION);
    ofpbuf_put_u8(b, type);
    ofpbuf_put_be16(b, 0);
    ofpbuf_put_be32(b, xid);
    return start;
}

/* Messages are built one per buffer from offset 0 up; ofp_msg_finish()
 * sets the length of the message that starts at 'start'. */
static void
ofp_msg_finish_at(struct ofpbuf *b, size_t start)
{
    ofpbuf_set_be16(b, start + 2, (uint16_t)MIN(b->size - start, 0xffff));
}

void
ofp_msg_finish(struct ofpbuf *b)
{
    ofp_msg_finish_at(b, 0);
}

/* Every decoder starts here: the message is 'len' bytes, of which its
 * header says 'length' and its fixed part needs 'min'. */
static int
check_len(const uint8_t *msg, size_t len, size_t min)
{
    if (len < OFP_HEADER_LEN || ofp_get16(msg + 2) != len || len < min) {
        return OFPERR_BAD_LEN;
    }
    return 0;
}

/* ---- HELLO, ERROR, ECHO ------------------------------------------------- */

#define OFPHET_VERSIONBITMAP 1

void
ofp_encode_hello(struct ofpbuf *b, uint32_t xid)
{
    size_t start = ofp_msg_start(b, OFPT_HELLO, xid);

    ofpbuf_put_be16(b, OFPHET_VERSIONBITMAP);
    ofpbuf_put_be16(b, 8);
    ofpbuf_put_be32(b, 1u << OFP13_VERSION);
    ofp_msg_finish_at(b, start);
}

int
ofp_decode_hello(const uint8_t *msg, size_t len, uint32_t *peer_versions)
{
    const uint8_t *p = msg + OFP_HEADER_LEN;
    size_t left;
    bool have_bitmap = false;
    uint32_t bitmap = 0;

    if (check_len(msg, len, OFP_HEADER_LEN)) {
        return OFPERR_BAD_LEN;
    }
    left = len - OFP_HEADER_LEN;
    while (left >= 4) {
        uint16_t type = ofp_get16(p);
        uint16_t elen = ofp_get16(p + 2);

        if (elen < 4 || elen > left) {
            return OFPERR_BAD_LEN;
        }
        if (type == OFPHET_VERSIONBITMAP && elen >= 8) {
            /* Only the first 32 versions matter to us. */
            bitmap |= ofp_get32(p + 4);
            have_bitmap = true;
        }
        elen = (uint16_t)MIN(ofp_pad8(elen), left);
        p += elen;
        left -= elen;
    }
    if (!have_bitmap) {
        /* Every version up to the one in the header. */
        uint8_t v = MIN(msg[0], 31);

        bitmap = (uint32_t)((2ull << v) - 1) & ~1u;
    }
    *peer_versions = bitmap;
    return bitmap & (1u << OFP13_VERSION) ? 0 : OFPERR_HELLO_INCOMPATIBLE;
}

void
ofp_encode_error(struct ofpbuf *b, uint32_t xid, int error,
                 const uint8_t *request, size_t request_len, const char *text)
{
    size_t start = ofp_msg_start(b, OFPT_ERROR, xid);

    if (OFPERR_TYPE(error) == OFPET_ONF_INTERNAL) {
        ofpbuf_put_be16(b, 0xffff);
        ofpbuf_put_be16(b, OFPERR_CODE(error));
        ofpbuf_put_be32(b, OFP_ONF_EXPERIMENTER);
    } else {
        ofpbuf_put_be16(b, OFPERR_TYPE(error));
        ofpbuf_put_be16(b, OFPERR_CODE(error));
    }
    if (text) {
        ofpbuf_put(b, text, strlen(text));
    } else if (request) {
        ofpbuf_put(b, request, MIN(request_len, 64));
    }
    ofp_msg_finish_at(b, start);
}

int
ofp_decode_error(const uint8_t *msg, size_t len, uint16_t *type,
                 uint16_t *code)
{
    int e = check_len(msg, len, 12);

    if (!e) {
        *type = ofp_get16(msg + 8);
        *code = ofp_get16(msg + 10);
    }
    return e;
}

void
ofp_encode_echo_reply(struct ofpbuf *b, const uint8_t *msg, size_t len)
{
    size_t start = ofp_msg_start(b, OFPT_ECHO_REPLY, ofp_get32(msg + 4));

    ofpbuf_put(b, msg + OFP_HEADER_LEN, len - OFP_HEADER_LEN);
    ofp_msg_finish_at(b, start);
}

/* ---- FEATURES, CONFIG, ROLE --------------------------------------------- */

#define OFPC_FLOW_STATS 1
#define OFPC_TABLE_STATS 2
#define OFPC_PORT_STATS 4

void
ofp_encode_features_reply(struct ofpbuf *b, uint32_t xid, uint64_t dpid)
{
    size_t start = ofp_msg_start(b, OFPT_FEATURES_REPLY, xid);

    ofpbuf_put_be64(b, dpid);
    ofpbuf_put_be32(b, 0); /* n_buffers: no buffering. */
    ofpbuf_put_u8(b, OFP13_N_TABLES);
    ofpbuf_put_u8(b, 0); /* auxiliary_id */
    ofpbuf_put_zeros(b, 2);
    ofpbuf_put_be32(b, OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS);
    ofpbuf_put_be32(b, 0);
    ofp_msg_finish_at(b, start);
}

int
ofp_decode_set_config(const uint8_t *msg, size_t len,
                      struct ofp_switch_config *cfg)
{
    if (check_len(msg, len, 12) || len != 12) {
        return OFPERR_BAD_LEN;
    }
    cfg->flags = ofp_get16(msg + 8);
    cfg->miss_send_len = ofp_get16(msg + 10);
    /* Only OFPC_FRAG_NORMAL (0): fragments are treated as any packet. */
    return cfg->flags & 3 ? OFPERR_SCFC_BAD_FLAGS : 0;
}

void
ofp_encode_get_config_reply(struct ofpbuf *b, uint32_t xid,
                            const struct ofp_switch_config *cfg)
{
    size_t start = ofp_msg_start(b, OFPT_GET_CONFIG_REPLY, xid);

    ofpbuf_put_be16(b, cfg->flags);
    ofpbuf_put_be16(b, cfg->miss_send_len);
    ofp_msg_finish_at(b, start);
}

int
ofp_decode_role_request(const uint8_t *msg, size_t len, struct ofp_role *r)
{
    if (check_len(msg, len, 24) || len != 24) {
        return OFPERR_BAD_LEN;
    }
    r->role = ofp_get32(msg + 8);
    r->generation_id = ofp_get64(msg + 16);
    return r->role > OFPCR_ROLE_SLAVE ? OFPERR_RRFC_BAD_ROLE : 0;
}

void
ofp_encode_role_reply(struct ofpbuf *b, uint32_t xid, const struct ofp_role *r)
{
    size_t start = ofp_msg_start(b, OFPT_ROLE_REPLY, xid);

    ofpbuf_put_be32(b, r->role);
    ofpbuf_put_zeros(b, 4);
    ofpbuf_put_be64(b, r->generation_id);
    ofp_msg_finish_at(b, start);
}

/* ---- FLOW_MOD ----------------------------------------------------------- */

#define FLOW_MOD_FIXED 48
#define OFPFF_ALL 0x1f

static const enum flow_text_mode fm_modes[] = {
    [OFPFC_ADD] = FLOW_TEXT_ADD,
    [OFPFC_MODIFY] = FLOW_TEXT_MODIFY,
    [OFPFC_MODIFY_STRICT] = FLOW_TEXT_MODIFY_STRICT,
    [OFPFC_DELETE] = FLOW_TEXT_DELETE,
    [OFPFC_DELETE_STRICT] = FLOW_TEXT_DELETE_STRICT,
};

int
ofp_decode_flow_mod(const uint8_t *msg, size_t len, struct ofp_flow_mod *fm)
{
    struct flow_text *ft = &fm->ft;
    uint64_t cookie, cookie_mask;
    uint32_t out_port_wire;
    uint16_t flags;
    size_t used;
    int error;

    memset(fm, 0, sizeof *fm);
    flow_text_init(ft, FLOW_TEXT_ADD);
    error = check_len(msg, len, FLOW_MOD_FIXED + 8);
    if (error) {
        return error;
    }
    cookie = ofp_get64(msg + 8);
    cookie_mask = ofp_get64(msg + 16);
    ft->table_id = msg[24];
    fm->command = msg[25];
    ft->idle_timeout = ofp_get16(msg + 26);
    ft->hard_timeout = ofp_get16(msg + 28);
    ft->priority = ofp_get16(msg + 30);
    fm->buffer_id = ofp_get32(msg + 32);
    out_port_wire = ofp_get32(msg + 36);
    fm->out_group = ofp_get32(msg + 40);
    flags = ofp_get16(msg + 44);

    if (fm->command > OFPFC_DELETE_STRICT) {
        return OFPERR_FMFC_BAD_COMMAND;
    }
    ft->mode = fm_modes[fm->command];
    if (flags & ~OFPFF_ALL) {
        return OFPERR_FMFC_BAD_FLAGS;
    }
    ft->flags = flags;
    if (!ofp_port_from_wire(out_port_wire, &ft->out_port)) {
        return OFPERR_BAD_PORT;
    }
    if (fm->command == OFPFC_ADD) {
        if (ft->table_id >= OFP13_N_TABLES) {
            return OFPERR_FMFC_BAD_TABLE_ID;
        }
        ft->set_cookie = true;
        ft->cookie = cookie;
        ft->out_port = OFPP_ANY;
    } else {
        if (ft->table_id >= OFP13_N_TABLES && ft->table_id != OFPTT_ALL) {
            return OFPERR_FMFC_BAD_TABLE_ID;
        }
        ft->cookie_match = cookie & cookie_mask;
        ft->cookie_mask = cookie_mask;
        if (fm->command == OFPFC_MODIFY
            || fm->command == OFPFC_MODIFY_STRICT) {
            ft->out_port = OFPP_ANY; /* Only deletes filter by port. */
        }
    }
    error = ofp_decode_match(msg + FLOW_MOD_FIXED, len - FLOW_MOD_FIXED,
                             &ft->match, &used);
    if (error) {
        return error;
    }
    error = ofp_decode_instructions(msg + FLOW_MOD_FIXED + used,
                                    len - FLOW_MOD_FIXED - used, &ft->ofpacts);
    if (error) {
        return error;
    }
    if (ft->mode == FLOW_TEXT_DELETE || ft->mode == FLOW_TEXT_DELETE_STRICT) {
        /* Deletes carry no instructions that matter. */
        ofpacts_destroy(&ft->ofpacts);
        ofpacts_init(&ft->ofpacts);
    }
    return 0;
}

static uint8_t
fm_command(enum flow_text_mode mode)
{
    for (size_t i = 0; i < ARRAY_SIZE(fm_modes); i++) {
        if (fm_modes[i] == mode) {
            return (uint8_t)i;
        }
    }
    return OFPFC_ADD;
}

void
ofp_encode_flow_mod(struct ofpbuf *b, uint32_t xid,
                    const struct ofp_flow_mod *fm)
{
    const struct flow_text *ft = &fm->ft;
    bool add = ft->mode == FLOW_TEXT_ADD;
    size_t start = ofp_msg_start(b, OFPT_FLOW_MOD, xid);

    ofpbuf_put_be64(b, add ? ft->cookie : ft->cookie_match);
    ofpbuf_put_be64(b, add ? 0 : ft->cookie_mask);
    ofpbuf_put_u8(b, ft->table_id);
    ofpbuf_put_u8(b, fm_command(ft->mode));
    ofpbuf_put_be16(b, ft->idle_timeout);
    ofpbuf_put_be16(b, ft->hard_timeout);
    ofpbuf_put_be16(b, ft->priority);
    ofpbuf_put_be32(b, fm->buffer_id);
    ofpbuf_put_be32(b, ofp_port_to_wire(ft->out_port));
    ofpbuf_put_be32(b, fm->out_group);
    ofpbuf_put_be16(b, (uint16_t)ft->flags);
    ofpbuf_put_zeros(b, 2);
    ofp_encode_match(&ft->match, b);
    ofp_encode_instructions(&ft->ofpacts, &ft->match, b);
    ofp_msg_finish_at(b, start);
}

/* ---- Flow entries ------------------------------------------------------- */

static void
put_duration(struct ofpbuf *b, uint64_t ms)
{
    ofpbuf_put_be32(b, (uint32_t)(ms / 1000));
    ofpbuf_put_be32(b, (uint32_t)(ms % 1000) * 1000000u);
}

void
ofp_put_flow_stats(struct ofpbuf *b, const struct ofp_flow_entry *e)
{
    size_t start = b->size;

    ofpbuf_put_be16(b, 0);
    ofpbuf_put_u8(b, e->table_id);
    ofpbuf_put_u8(b, 0);
    put_duration(b, e->duration_ms);
    ofpbuf_put_be16(b, e->priority);
    ofpbuf_put_be16(b, e->idle_timeout);
    ofpbuf_put_be16(b, e->hard_timeout);
    ofpbuf_put_be16(b, e->flags);
    ofpbuf_put_zeros(b, 4);
    ofpbuf_put_be64(b, e->cookie);
    ofpbuf_put_be64(b, e->packet_count);
    ofpbuf_put_be64(b, e->byte_count);
    ofp_encode_match(&e->match, b);
    if (e->ofpacts) {
        ofp_encode_instructions(e->ofpacts, &e->match, b);
    }
    ofpbuf_set_be16(b, start, (uint16_t)(b->size - start));
}

void
ofp_encode_flow_removed(struct ofpbuf *b, uint32_t xid,
                        const struct ofp_flow_entry *e, uint8_t reason)
{
    size_t start = ofp_msg_start(b, OFPT_FLOW_REMOVED, xid);

    ofpbuf_put_be64(b, e->cookie);
    ofpbuf_put_be16(b, e->priority);
    ofpbuf_put_u8(b, reason);
    ofpbuf_put_u8(b, e->table_id);
    put_duration(b, e->duration_ms);
    ofpbuf_put_be16(b, e->idle_timeout);
    ofpbuf_put_be16(b, e->hard_timeout);
    ofpbuf_put_be64(b, e->packet_count);
    ofpbuf_put_be64(b, e->byte_count);
    ofp_encode_match(&e->match, b);
    ofp_msg_finish_at(b, start);
}

/* ---- PACKET_IN, PACKET_OUT ---------------------------------------------- */

void
ofp_encode_packet_in(struct ofpbuf *b, uint32_t xid,
                     const struct ofp_packet_in *pin)
{
    size_t start = ofp_msg_start(b, OFPT_PACKET_IN, xid);
    struct match match;

    ofpbuf_put_be32(b, pin->buffer_id);
    ofpbuf_put_be16(b, pin->total_len);
    ofpbuf_put_u8(b, pin->reason);
    ofpbuf_put_u8(b, pin->table_id);
    ofpbuf_put_be64(b, pin->cookie);
    match_init_catchall(&match);
    match.flow.in_port = pin->in_port;
    match.wc.masks.in_port = UINT32_MAX;
    ofp_encode_match(&match, b);
    ofpbuf_put_zeros(b, 2);
    ofpbuf_put(b, pin->data, pin->data_len);
    ofp_msg_finish_at(b, start);
}

int
ofp_decode_packet_in(const uint8_t *msg, size_t len, struct ofp_packet_in *pin,
                     struct match *match)
{
    size_t used;
    int error = check_len(msg, len, 24 + 8 + 2);

    if (error) {
        return error;
    }
    memset(pin, 0, sizeof *pin);
    pin->buffer_id = ofp_get32(msg + 8);
    pin->total_len = ofp_get16(msg + 12);
    pin->reason = msg[14];
    pin->table_id = msg[15];
    pin->cookie = ofp_get64(msg + 16);
    error = ofp_decode_match(msg + 24, len - 24, match, &used);
    if (error) {
        return error;
    }
    if (24 + used + 2 > len) {
        return OFPERR_BAD_LEN;
    }
    pin->in_port = match->flow.in_port;
    pin->data = msg + 24 + used + 2;
    pin->data_len = len - 24 - used - 2;
    return 0;
}

#define PACKET_OUT_FIXED 24

int
ofp_decode_packet_out(const uint8_t *msg, size_t len,
                      struct ofp_packet_out *po)
{
    uint16_t actions_len;
    int error;

    memset(po, 0, sizeof *po);
    ofpacts_init(&po->ofpacts);
    error = check_len(msg, len, PACKET_OUT_FIXED);
    if (error) {
        return error;
    }
    po->buffer_id = ofp_get32(msg + 8);
    if (!ofp_port_from_wire(ofp_get32(msg + 12), &po->in_port) || !po->in_port
        || (po->in_port >= OFPP_MAX && po->in_port != OFPP_LOCAL
            && po->in_port != OFPP_CONTROLLER && po->in_port != OFPP_NONE)) {
        return OFPERR_BAD_PORT;
    }
    actions_len = ofp_get16(msg + 16);
    if (actions_len > len - PACKET_OUT_FIXED) {
        return OFPERR_BAD_LEN;
    }
    error =
        ofp_decode_actions(msg + PACKET_OUT_FIXED, actions_len, &po->ofpacts);
    if (error) {
        ofpacts_init(&po->ofpacts);
        return error;
    }
    po->data = msg + PACKET_OUT_FIXED + actions_len;
    po->data_len = len - PACKET_OUT_FIXED - actions_len;
    return 0;
}

void
ofp_encode_packet_out(struct ofpbuf *b, uint32_t xid,
                      const struct ofp_packet_out *po)
{
    size_t start = b->size, alen_ofs;

    ofp_msg_start(b, OFPT_PACKET_OUT, xid);
    ofpbuf_put_be32(b, po->buffer_id);
    ofpbuf_put_be32(b, ofp_port_to_wire(po->in_port));
    alen_ofs = ofpbuf_put_zeros(b, 2);
    ofpbuf_put_zeros(b, 6);
    ofp_encode_actions(&po->ofpacts, NULL, b);
    ofpbuf_set_be16(b, alen_ofs,
                    (uint16_t)(b->size - start - PACKET_OUT_FIXED));
    ofpbuf_put(b, po->data, po->data_len);
    ofp_msg_finish_at(b, start);
}

/* ---- Ports -------------------------------------------------------------- */

void
ofp_put_port_desc(struct ofpbuf *b, const struct ofp_port_desc *pd)
{
    char name[16];

    memset(name, 0, sizeof name);
    memcpy(name, pd->name, strnlen(pd->name, sizeof name - 1));
    ofpbuf_put_be32(b, ofp_port_to_wire(pd->port_no));
    ofpbuf_put_zeros(b, 4);
    ofpbuf_put(b, pd->hw_addr.ea, 6);
    ofpbuf_put_zeros(b, 2);
    ofpbuf_put(b, name, 16);
    ofpbuf_put_be32(b, pd->config);
    ofpbuf_put_be32(b, pd->state);
    ofpbuf_put_zeros(b, 16); /* curr, advertised, supported, peer */
    ofpbuf_put_be32(b, pd->curr_speed);
    ofpbuf_put_be32(b, pd->max_speed);
}

void
ofp_encode_port_status(struct ofpbuf *b, uint32_t xid, uint8_t reason,
                       const struct ofp_port_desc *pd)
{
    size_t start = ofp_msg_start(b, OFPT_PORT_STATUS, xid);

    ofpbuf_put_u8(b, reason);
    ofpbuf_put_zeros(b, 7);
    ofp_put_port_desc(b, pd);
    ofp_msg_finish_at(b, start);
}

void
ofp_put_port_stats(struct ofpbuf *b, const struct ofp_port_stats *ps)
{
    ofpbuf_put_be32(b, ofp_port_to_wire(ps->port_no));
    ofpbuf_put_zeros(b, 4);
    ofpbuf_put_be64(b, ps->rx_packets);
    ofpbuf_put_be64(b, ps->tx_packets);
    ofpbuf_put_be64(b, ps->rx_bytes);
    ofpbuf_put_be64(b, ps->tx_bytes);
    ofpbuf_put_be64(b, ps->rx_dropped);
    ofpbuf_put_be64(b, ps->tx_dropped);
    ofpbuf_put_be64(b, ps->rx_errors);
    ofpbuf_put_be64(b, ps->tx_errors);
    /* frame, over, crc, collisions: not counted ("unavailable"). */
    for (int i = 0; i < 4; i++) {
        ofpbuf_put_be64(b, UINT64_MAX);
    }
    put_duration(b, ps->duration_ms);
}

/* ---- MULTIPART ---------------------------------------------------------- */

#define MULTIPART_FIXED 16
#define FLOW_STATS_REQUEST_FIXED 32

int
ofp_decode_multipart_request(const uint8_t *msg, size_t len,
                             struct ofp_multipart_request *mp)
{
    const uint8_t *body = msg + MULTIPART_FIXED;
    size_t body_len;
    int error;

    memset(mp, 0, sizeof *mp);
    flow_text_init(&mp->filter, FLOW_TEXT_DELETE);
    error = check_len(msg, len, MULTIPART_FIXED);
    if (error) {
        return error;
    }
    mp->type = ofp_get16(msg + 8);
    mp->flags = ofp_get16(msg + 10);
    body_len = len - MULTIPART_FIXED;
    switch (mp->type) {
    case OFPMP_DESC:
    case OFPMP_TABLE:
    case OFPMP_PORT_DESC:
        return body_len ? OFPERR_BAD_LEN : 0;
    case OFPMP_TABLE_FEATURES:
        /* A body would ask to change the tables: not supported. */
        return body_len ? OFPERR_BAD_MULTIPART : 0;
    case OFPMP_FLOW:
    case OFPMP_AGGREGATE: {
        struct flow_text *ft = &mp->filter;
        size_t used;

        if (body_len < FLOW_STATS_REQUEST_FIXED + 8) {
            return OFPERR_BAD_LEN;
        }
        ft->table_id = body[0];
        if (ft->table_id >= OFP13_N_TABLES && ft->table_id != OFPTT_ALL) {
            return OFPERR_BAD_TABLE_ID;
        }
        if (!ofp_port_from_wire(ofp_get32(body + 4), &ft->out_port)) {
            return OFPERR_BAD_PORT;
        }
        mp->out_group = ofp_get32(body + 8);
        ft->cookie_mask = ofp_get64(body + 24);
        ft->cookie_match = ofp_get64(body + 16) & ft->cookie_mask;
        error = ofp_decode_match(body + FLOW_STATS_REQUEST_FIXED,
                                 body_len - FLOW_STATS_REQUEST_FIXED,
                                 &ft->match, &used);
        if (error) {
            return error;
        }
        return FLOW_STATS_REQUEST_FIXED + used == body_len ? 0
                                                           : OFPERR_BAD_LEN;
    }
    case OFPMP_PORT_STATS:
        if (body_len != 8) {
            return OFPERR_BAD_LEN;
        }
        if (!ofp_port_from_wire(ofp_get32(body), &mp->port_no)) {
            return OFPERR_BAD_PORT;
        }
        return 0;
    case OFPMP_GROUP:
    case OFPMP_METER:
    case OFPMP_METER_CONFIG:
        if (body_len != 8) {
            return OFPERR_BAD_LEN;
        }
        mp->id = ofp_get32(body);
        return 0;
    case OFPMP_GROUP_DESC:
    case OFPMP_GROUP_FEATURES:
    case OFPMP_METER_FEATURES:
        return body_len ? OFPERR_BAD_LEN : 0;
    default:
        return OFPERR_BAD_MULTIPART;
    }
}

void
ofp_encode_multipart_request(struct ofpbuf *b, uint32_t xid,
                             const struct ofp_multipart_request *mp)
{
    size_t start = ofp_msg_start(b, OFPT_MULTIPART_REQUEST, xid);

    ofpbuf_put_be16(b, mp->type);
    ofpbuf_put_be16(b, mp->flags);
    ofpbuf_put_zeros(b, 4);
    switch (mp->type) {
    case OFPMP_FLOW:
    case OFPMP_AGGREGATE:
        ofpbuf_put_u8(b, mp->filter.table_id);
        ofpbuf_put_zeros(b, 3);
        ofpbuf_put_be32(b, ofp_port_to_wire(mp->filter.out_port));
        ofpbuf_put_be32(b, mp->out_group);
        ofpbuf_put_zeros(b, 4);
        ofpbuf_put_be64(b, mp->filter.cookie_match);
        ofpbuf_put_be64(b, mp->filter.cookie_mask);
        ofp_encode_match(&mp->filter.match, b);
        break;
    case OFPMP_PORT_STATS:
        ofpbuf_put_be32(b, ofp_port_to_wire(mp->port_no));
        ofpbuf_put_zeros(b, 4);
        break;
    case OFPMP_GROUP:
    case OFPMP_METER:
    case OFPMP_METER_CONFIG:
        ofpbuf_put_be32(b, mp->id);
        ofpbuf_put_zeros(b, 4);
        break;
    default:
        break;
    }
    ofp_msg_finish_at(b, start);
}

void
ofp_encode_multipart_replies(struct ofpbuf *out, uint32_t xid, uint16_t type,
                             const struct ofpbuf *body,
                             const size_t *entry_ofs, size_t n_entries)
{
    size_t i = 0;

    do {
        size_t first = i < n_entries ? entry_ofs[i] : body->size;
        size_t end = first;
        size_t start = out->size;

        /* As many whole entries as fit in one message. */
        while (i < n_entries) {
            size_t next = i + 1 < n_entries ? entry_ofs[i + 1] : body->size;

            if (next - first + MULTIPART_FIXED > OFP_MAX_MSG_LEN
                && end > first) {
                break;
            }
            end = next;
            i++;
        }
        if (!n_entries) {
            end = body->size;
        }
        ofp_msg_start(out, OFPT_MULTIPART_REPLY, xid);
        ofpbuf_put_be16(out, type);
        ofpbuf_put_be16(out, i < n_entries ? OFPMPF_REPLY_MORE : 0);
        ofpbuf_put_zeros(out, 4);
        ofpbuf_put(out, body->data + first, end - first);
        ofp_msg_finish_at(out, start);
    } while (i < n_entries);
}

static void
put_string(struct ofpbuf *b, const char *s, size_t n)
{
    size_t len = MIN(strlen(s), n - 1);

    ofpbuf_put(b, s, len);
    ofpbuf_put_zeros(b, n - len);
}

void
ofp_put_desc(struct ofpbuf *b, const char *mfr, const char *hw, const char *sw,
             const char *serial, const char *dp_desc)
{
    put_string(b, mfr, 256);
    put_string(b, hw, 256);
    put_string(b, sw, 256);
    put_string(b, serial, 32);
    put_string(b, dp_desc, 256);
}

void
ofp_put_aggregate(struct ofpbuf *b, uint64_t packets, uint64_t bytes,
                  uint32_t flows)
{
    ofpbuf_put_be64(b, packets);
    ofpbuf_put_be64(b, bytes);
    ofpbuf_put_be32(b, flows);
    ofpbuf_put_zeros(b, 4);
}

/* The eight properties OpenFlow 1.3 requires of a table-features entry. */
enum {
    OFPTFPT_INSTRUCTIONS = 0,
    OFPTFPT_NEXT_TABLES = 2,
    OFPTFPT_WRITE_ACTIONS = 4,
    OFPTFPT_APPLY_ACTIONS = 6,
    OFPTFPT_MATCH = 8,
    OFPTFPT_WILDCARDS = 10,
    OFPTFPT_WRITE_SETFIELD = 12,
    OFPTFPT_APPLY_SETFIELD = 14,
};

static void
put_id_prop(struct ofpbuf *b, uint16_t type, const uint16_t *ids, size_t n)
{
    size_t ofs = ofp_tlv_start(b, type);

    for (size_t i = 0; i < n; i++) {
        ofpbuf_put_be16(b, ids[i]);
        ofpbuf_put_be16(b, 4);
    }
    ofp_tlv_finish(b, ofs, false);
}

static void
put_oxm_prop(struct ofpbuf *b, uint16_t type, bool writable_only)
{
    uint32_t headers[64];
    size_t n = oxm_basic_headers(headers, ARRAY_SIZE(headers), writable_only);
    size_t ofs = ofp_tlv_start(b, type);

    for (size_t i = 0; i < n; i++) {
        ofpbuf_put_be32(b, headers[i]);
    }
    ofp_tlv_finish(b, ofs, false);
}

static void
put_table_properties(struct ofpbuf *b, uint8_t table_id)
{
    static const uint16_t insts[] = {1, 2, 4, 5};
    static const uint16_t acts[] = {0, 17, 18, 24, 25};
    size_t ofs;

    put_id_prop(b, OFPTFPT_INSTRUCTIONS, insts, ARRAY_SIZE(insts));
    ofs = ofp_tlv_start(b, OFPTFPT_NEXT_TABLES);
    for (unsigned int t = table_id + 1u; t < OFP13_N_TABLES; t++) {
        ofpbuf_put_u8(b, (uint8_t)t);
    }
    ofp_tlv_finish(b, ofs, false);
    put_id_prop(b, OFPTFPT_WRITE_ACTIONS, NULL, 0);
    put_id_prop(b, OFPTFPT_APPLY_ACTIONS, acts, ARRAY_SIZE(acts));
    put_oxm_prop(b, OFPTFPT_MATCH, false);
    put_oxm_prop(b, OFPTFPT_WILDCARDS, false);
    put_oxm_prop(b, OFPTFPT_WRITE_SETFIELD, true);
    put_oxm_prop(b, OFPTFPT_APPLY_SETFIELD, true);
}

void
ofp_put_table_features(struct ofpbuf *b, uint8_t table_id, const char *name,
                       uint32_t max_entries)
{
    size_t start = b->size;

    ofpbuf_put_be16(b, 0);
    ofpbuf_put_u8(b, table_id);
    ofpbuf_put_zeros(b, 5);
    put_string(b, name, 32);
    ofpbuf_put_be64(b, UINT64_MAX); /* metadata_match */
    ofpbuf_put_be64(b, UINT64_MAX); /* metadata_write */
    ofpbuf_put_be32(b, 0);          /* config */
    ofpbuf_put_be32(b, max_entries);
    put_table_properties(b, table_id);
    ofpbuf_set_be16(b, start, (uint16_t)(b->size - start));
}

void
ofp_put_table_stats(struct ofpbuf *b, uint8_t table_id, uint32_t active,
                    uint64_t lookups, uint64_t matched)
{
    ofpbuf_put_u8(b, table_id);
    ofpbuf_put_zeros(b, 3);
    ofpbuf_put_be32(b, active);
    ofpbuf_put_be64(b, lookups);
    ofpbuf_put_be64(b, matched);
}
