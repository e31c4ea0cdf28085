/*
 * openflow/ofp-group.c — OpenFlow 1.3 GROUP_MOD and the group multiparts
 * (GROUP, GROUP_DESC, GROUP_FEATURES) to and from ofproto's struct
 * group_mod and struct group_info (ofp-codec.h says what is understood).
 *
 * Every bucket is bounded before it is read: its length must cover its
 * fixed part, be a multiple of 8 and fit in what is left of the message;
 * its actions are decoded by ofp_decode_actions().
 */
#include <stdlib.h>
#include <string.h>

#include "lib/coverage.h"
#include "lib/util.h"
#include "ofproto/group.h"
#include "openflow/ofp-codec.h"
#include "openflow/ofp-private.h"

COVERAGE_DEFINE(ofp_group_mod_bad);

#define GROUP_MOD_FIXED 16   /* Header, command, type, pad, group_id. */
#define BUCKET_FIXED 16      /* len, weight, watch_port, watch_group, pad. */
#define GROUP_DESC_FIXED 8   /* length, type, pad, group_id. */
#define GROUP_STATS_FIXED 40 /* Up to the bucket counters. */

/* OFPGFC_*: what flowswitch's groups can do. */
#define GROUP_CAP_SELECT_WEIGHT 1
#define GROUP_CAP_SELECT_LIVENESS 2
#define GROUP_CAP_CHAINING 4

static int
decode_watch_port(uint32_t wire, uint32_t *port)
{
    if (wire == OFPP13_ANY) {
        *port = OFPP_ANY;
        return 0;
    }
    if (!ofp_port_from_wire(wire, port) || !*port) {
        return OFPERR_GMFC_BAD_WATCH;
    }
    return 0;
}

/* Decodes the bucket at 'p' ('len' bytes left in the message). */
static int
decode_bucket(const uint8_t *p, size_t len, struct group_mod *gm, size_t *used)
{
    size_t blen = len >= 2 ? ofp_get16(p) : 0;
    struct group_bucket *b;
    int error;

    if (blen < BUCKET_FIXED || blen % 8 || blen > len) {
        return OFPERR_GMFC_BAD_BUCKET;
    }
    b = group_mod_add_bucket(gm);
    b->weight = ofp_get16(p + 2);
    b->watch_group = ofp_get32(p + 8);
    error = decode_watch_port(ofp_get32(p + 4), &b->watch_port);
    if (!error) {
        ofpacts_destroy(&b->ofpacts);
        error = ofp_decode_actions(p + BUCKET_FIXED, blen - BUCKET_FIXED,
                                   &b->ofpacts);
    }
    *used = blen;
    return error;
}

static int
group_mod_decode_header(const uint8_t *msg, size_t len, struct group_mod *gm)
{
    uint16_t command;

    if (len < GROUP_MOD_FIXED || ofp_get16(msg + 2) != len) {
        return OFPERR_BAD_LEN;
    }
    command = ofp_get16(msg + 8);
    if (command > GROUP_MOD_DELETE) {
        return OFPERR_GMFC_BAD_COMMAND;
    }
    gm->command = (enum group_mod_command)command;
    gm->type = msg[10];
    gm->group_id = ofp_get32(msg + 12);
    return 0;
}

int
ofp_decode_group_mod(const uint8_t *msg, size_t len, struct group_mod *gm)
{
    size_t ofs = GROUP_MOD_FIXED;
    int error;

    group_mod_init(gm, GROUP_MOD_ADD);
    error = group_mod_decode_header(msg, len, gm);
    while (!error && ofs < len) {
        size_t used = 0;

        error = decode_bucket(msg + ofs, len - ofs, gm, &used);
        ofs += used;
    }
    if (error) {
        COVERAGE_INC(ofp_group_mod_bad);
        group_mod_destroy(gm);
    }
    return error;
}

/* Group entries and buckets start with their 16-bit length: a
 * placeholder, then set by entry_finish(). */
static size_t
entry_start(struct ofpbuf *b)
{
    size_t start = b->size;

    ofpbuf_put_be16(b, 0);
    return start;
}

static void
entry_finish(struct ofpbuf *b, size_t start)
{
    ofpbuf_set_be16(b, start, (uint16_t)(b->size - start));
}

/* Appends the buckets of 'gm' as ofp_buckets. */
static void
put_buckets(struct ofpbuf *b, const struct group_mod *gm)
{
    for (size_t i = 0; i < gm->n_buckets; i++) {
        const struct group_bucket *bk = &gm->buckets[i];
        size_t start = entry_start(b);

        ofpbuf_put_be16(b, bk->weight);
        ofpbuf_put_be32(b, bk->watch_port == OFPP_ANY
                               ? OFPP13_ANY
                               : ofp_port_to_wire(bk->watch_port));
        ofpbuf_put_be32(b, bk->watch_group);
        ofpbuf_put_zeros(b, 4);
        ofp_encode_actions(&bk->ofpacts, NULL, b);
        entry_finish(b, start);
    }
}

void
ofp_encode_group_mod(struct ofpbuf *b, uint32_t xid,
                     const struct group_mod *gm)
{
    ofp_msg_start(b, OFPT_GROUP_MOD, xid);
    ofpbuf_put_be16(b, (uint16_t)gm->command);
    ofpbuf_put_u8(b, gm->type);
    ofpbuf_put_zeros(b, 1);
    ofpbuf_put_be32(b, gm->group_id);
    put_buckets(b, gm);
    ofp_msg_finish(b);
}

int
ofp_group_error(int group_error)
{
    return group_error ? OFPERR(OFPET_GROUP_MOD_FAILED, group_error - 1) : 0;
}

void
ofp_put_group_desc(struct ofpbuf *b, const struct group_mod *gm)
{
    size_t start = entry_start(b);

    ofpbuf_put_u8(b, gm->type);
    ofpbuf_put_zeros(b, 1);
    ofpbuf_put_be32(b, gm->group_id);
    put_buckets(b, gm);
    entry_finish(b, start);
}

void
ofp_put_group_stats(struct ofpbuf *b, const struct group_info *gi)
{
    size_t start = entry_start(b);

    ofpbuf_put_zeros(b, 2);
    ofpbuf_put_be32(b, gi->desc.group_id);
    ofpbuf_put_be32(b, gi->ref_count);
    ofpbuf_put_zeros(b, 4);
    ofpbuf_put_be64(b, gi->n_packets);
    ofpbuf_put_be64(b, gi->n_bytes);
    ofpbuf_put_be32(b, (uint32_t)(gi->duration_ms / 1000));
    ofpbuf_put_be32(b, (uint32_t)(gi->duration_ms % 1000 * 1000000));
    for (size_t i = 0; i < gi->desc.n_buckets; i++) {
        ofpbuf_put_be64(b, gi->bucket_packets[i]);
        ofpbuf_put_be64(b, gi->bucket_bytes[i]);
    }
    entry_finish(b, start);
}

void
ofp_put_group_features(struct ofpbuf *b)
{
    /* The OpenFlow 1.3 actions a bucket may hold (bits of OFPAT_*):
     * output, push_vlan, pop_vlan, group, dec_nw_ttl, set_field. */
    uint32_t actions = (1u << 0) | (1u << 17) | (1u << 18) | (1u << 22)
                       | (1u << 24) | (1u << 25);

    ofpbuf_put_be32(b, (1u << GROUP_TYPE_ALL) | (1u << GROUP_TYPE_SELECT)
                           | (1u << GROUP_TYPE_INDIRECT)
                           | (1u << GROUP_TYPE_FF));
    ofpbuf_put_be32(b, GROUP_CAP_SELECT_WEIGHT | GROUP_CAP_SELECT_LIVENESS
                           | GROUP_CAP_CHAINING);
    for (int i = 0; i < 4; i++) {
        ofpbuf_put_be32(b, GROUP_ID_MAX);
    }
    for (int i = 0; i < 4; i++) {
        ofpbuf_put_be32(b, actions);
    }
}
