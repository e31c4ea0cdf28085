/*
 * openflow/ofp-meter.c — meter messages (ofp-meter.h explains them).
 */
#include "openflow/ofp-meter.h"

#include <string.h>

#include "openflow/ofp-codec.h"
#include "openflow/ofp-private.h"

#define METER_MOD_FIXED 16
#define METER_BAND_LEN 16

static int
ofp_decode_meter_band(const uint8_t *p, struct ofmeter_band *band)
{
    if (ofp_get16(p + 2) != METER_BAND_LEN) {
        return OFPERR_BAD_LEN;
    }
    memset(band, 0, sizeof *band);
    band->type = ofp_get16(p);
    band->rate = ofp_get32(p + 4);
    band->burst_size = ofp_get32(p + 8);
    if (band->type == OFMETER_BAND_DSCP_REMARK) {
        band->prec_level = p[12];
    } else if (band->type != OFMETER_BAND_DROP) {
        return OFPERR_MMFC_BAD_BAND;
    }
    return 0;
}

int
ofp_decode_meter_mod(const uint8_t *msg, size_t len,
                     enum ofmeter_command *commandp,
                     struct ofmeter_config *cfg)
{
    size_t bands_len;

    memset(cfg, 0, sizeof *cfg);
    if (len < METER_MOD_FIXED || ofp_get16(msg + 2) != len) {
        return OFPERR_BAD_LEN;
    }
    *commandp = (enum ofmeter_command)ofp_get16(msg + 8);
    cfg->flags = ofp_get16(msg + 10);
    cfg->id = ofp_get32(msg + 12);
    bands_len = len - METER_MOD_FIXED;
    if (bands_len % METER_BAND_LEN) {
        return OFPERR_BAD_LEN;
    }
    if (bands_len / METER_BAND_LEN > OFMETER_MAX_BANDS) {
        return OFPERR_MMFC_OUT_OF_BANDS;
    }
    for (size_t ofs = 0; ofs < bands_len; ofs += METER_BAND_LEN) {
        int error = ofp_decode_meter_band(msg + METER_MOD_FIXED + ofs,
                                          &cfg->bands[cfg->n_bands]);

        if (error) {
            return error;
        }
        cfg->n_bands++;
    }
    return 0;
}

static void
ofp_put_meter_bands(struct ofpbuf *b, const struct ofmeter_config *cfg)
{
    for (size_t i = 0; i < cfg->n_bands; i++) {
        const struct ofmeter_band *band = &cfg->bands[i];

        ofpbuf_put_be16(b, band->type);
        ofpbuf_put_be16(b, METER_BAND_LEN);
        ofpbuf_put_be32(b, band->rate);
        ofpbuf_put_be32(b, band->burst_size);
        ofpbuf_put_u8(
            b, band->type == OFMETER_BAND_DSCP_REMARK ? band->prec_level : 0);
        ofpbuf_put_zeros(b, 3);
    }
}

void
ofp_encode_meter_mod(struct ofpbuf *b, uint32_t xid,
                     enum ofmeter_command command,
                     const struct ofmeter_config *cfg)
{
    ofp_msg_start(b, OFPT_METER_MOD, xid);
    ofpbuf_put_be16(b, (uint16_t)command);
    ofpbuf_put_be16(b, cfg->flags);
    ofpbuf_put_be32(b, cfg->id);
    ofp_put_meter_bands(b, cfg);
    ofp_msg_finish(b);
}

void
ofp_put_meter_config(struct ofpbuf *b, const struct ofmeter_config *cfg)
{
    ofpbuf_put_be16(b, (uint16_t)(8 + METER_BAND_LEN * cfg->n_bands));
    ofpbuf_put_be16(b, cfg->flags);
    ofpbuf_put_be32(b, cfg->id);
    ofp_put_meter_bands(b, cfg);
}

void
ofp_put_meter_stats(struct ofpbuf *b, const struct ofmeter_info *info)
{
    ofpbuf_put_be32(b, info->config.id);
    ofpbuf_put_be16(b, (uint16_t)(40 + 16 * info->config.n_bands));
    ofpbuf_put_zeros(b, 6);
    ofpbuf_put_be32(b, info->flow_count);
    ofpbuf_put_be64(b, info->packet_in);
    ofpbuf_put_be64(b, info->byte_in);
    ofpbuf_put_be32(b, (uint32_t)(info->duration_ms / 1000));
    ofpbuf_put_be32(b, (uint32_t)(info->duration_ms % 1000 * 1000000));
    for (size_t i = 0; i < info->config.n_bands; i++) {
        ofpbuf_put_be64(b, info->band_packets[i]);
        ofpbuf_put_be64(b, info->band_bytes[i]);
    }
}

void
ofp_put_meter_features(struct ofpbuf *b)
{
    ofpbuf_put_be32(b, OFMETER_MAX);
    ofpbuf_put_be32(b,
                    1u << OFMETER_BAND_DROP | 1u << OFMETER_BAND_DSCP_REMARK);
    ofpbuf_put_be32(b, OFMETER_KBPS | OFMETER_PKTPS | OFMETER_BURST
                           | OFMETER_STATS);
    ofpbuf_put_u8(b, OFMETER_MAX_BANDS);
    ofpbuf_put_u8(b, 0);
    ofpbuf_put_zeros(b, 2);
}
