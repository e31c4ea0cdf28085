/*
 * ofproto/meter-text.c — the ovs-ofctl text of meters (meter.h, "Text").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flow/field.h"
#include "flow/flow-text.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/util.h"
#include "ofproto/meter.h"

COVERAGE_DEFINE(ofmeter_parse_error);

/* Parser state: the meter being filled and whether "bands=" was seen. */
struct meter_parser {
    struct ofmeter_config *cfg;
    bool in_bands, have_id;
    bool band_has_rate[OFMETER_MAX_BANDS];
    bool band_has_burst[OFMETER_MAX_BANDS];
};

static int
meter_error(char **errorp, const char *s, const char *fmt, const char *arg)
{
    char *msg = xasprintf(fmt, arg);

    *errorp = xasprintf("meter: %s in \"%s\"", msg, s);
    free(msg);
    COVERAGE_INC(ofmeter_parse_error);
    return EINVAL;
}

static int
meter_parse_id(struct meter_parser *p, const char *value, const char *s,
               bool allow_all, char **errorp)
{
    uint64_t id;

    if (allow_all && !strcmp(value, "all")) {
        id = OFMETER_ID_ALL;
    } else if (!field_parse_uint(value, OFMETER_ID_MAX, &id) || !id) {
        return meter_error(errorp, s,
                           "bad meter id \"%s\" (expected 1..4294901760"
                           " or all)",
                           value);
    }
    p->cfg->id = (uint32_t)id;
    p->have_id = true;
    return 0;
}

static int
meter_parse_band_key(struct meter_parser *p, const char *key,
                     const char *value, const char *s, char **errorp)
{
    struct ofmeter_config *cfg = p->cfg;
    struct ofmeter_band *band;
    uint64_t x;
    size_t i;

    if (!strcmp(key, "type")) {
        if (cfg->n_bands == OFMETER_MAX_BANDS) {
            return meter_error(errorp, s, "more than 8 bands%s", "");
        }
        band = &cfg->bands[cfg->n_bands++];
        if (!strcmp(value, "drop")) {
            band->type = OFMETER_BAND_DROP;
        } else if (!strcmp(value, "dscp_remark")) {
            band->type = OFMETER_BAND_DSCP_REMARK;
        } else {
            return meter_error(errorp, s,
                               "bad band type \"%s\" (expected drop or "
                               "dscp_remark)",
                               value);
        }
        return 0;
    }
    if (!cfg->n_bands) {
        return meter_error(errorp, s, "\"%s\" before the band's type=", key);
    }
    i = cfg->n_bands - 1;
    band = &cfg->bands[i];
    if (!field_parse_uint(value, !strcmp(key, "prec_level") ? 63 : UINT32_MAX,
                          &x)) {
        return meter_error(errorp, s, "bad value for band key \"%s\"", key);
    }
    if (!strcmp(key, "rate")) {
        band->rate = (uint32_t)x;
        p->band_has_rate[i] = true;
    } else if (!strcmp(key, "burst_size")) {
        band->burst_size = (uint32_t)x;
        p->band_has_burst[i] = true;
    } else if (!strcmp(key, "prec_level")) {
        band->prec_level = (uint8_t)x;
    } else {
        return meter_error(errorp, s,
                           "unknown band key \"%s\" (expected type, rate, "
                           "burst_size or prec_level)",
                           key);
    }
    return 0;
}

static int
meter_parse_key(struct meter_parser *p, const char *key, const char *value,
                const char *s, bool allow_all, char **errorp)
{
    static const char *const flags[] = {"kbps", "pktps", "burst", "stats"};

    if (p->in_bands) {
        return meter_parse_band_key(p, key, value, s, errorp);
    }
    if (!strcmp(key, "meter")) {
        return meter_parse_id(p, value, s, allow_all, errorp);
    }
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        if (!strcmp(key, flags[i]) && !*value) {
            p->cfg->flags |= (uint16_t)(1u << i);
            return 0;
        }
    }
    if (!strcmp(key, "bands")) {
        const char *eq = strchr(value, '=');
        char *band_key;
        int error;

        p->in_bands = true;
        if (!eq) {
            return *value ? meter_error(errorp, s, "bad band \"%s\"", value)
                          : 0;
        }
        band_key = xmemdup0(value, (size_t)(eq - value));
        error = meter_parse_band_key(p, band_key, eq + 1, s, errorp);
        free(band_key);
        return error;
    }
    return meter_error(errorp, s,
                       "unknown key \"%s\" (expected meter, kbps, pktps, "
                       "burst, stats or bands)",
                       key);
}

/* What ovs-ofctl insists on for a meter it adds or modifies. */
static int
meter_parse_check(const struct meter_parser *p, const char *s, char **errorp)
{
    const struct ofmeter_config *cfg = p->cfg;
    bool burst = cfg->flags & OFMETER_BURST;

    if (!p->have_id) {
        return meter_error(errorp, s, "missing meter=ID%s", "");
    }
    if (!(cfg->flags & (OFMETER_KBPS | OFMETER_PKTPS))) {
        return meter_error(errorp, s, "expected kbps or pktps%s", "");
    }
    if (!cfg->n_bands) {
        return meter_error(errorp, s, "no bands (expected bands=type=...)%s",
                           "");
    }
    for (size_t i = 0; i < cfg->n_bands; i++) {
        if (!p->band_has_rate[i]) {
            return meter_error(errorp, s, "a band has no rate=%s", "");
        }
        if (p->band_has_burst[i] != burst) {
            return meter_error(errorp, s, "%s",
                               burst ? "the burst flag needs burst_size= "
                                       "in every band"
                                     : "burst_size= needs the burst flag");
        }
    }
    return 0;
}

int
ofmeter_parse(const char *s, enum ofmeter_command command,
              struct ofmeter_config *cfg, char **errorp)
{
    struct meter_parser p = {.cfg = cfg};
    struct flow_text_token tok;
    const char *pos = s;
    int error = 0;

    memset(cfg, 0, sizeof *cfg);
    *errorp = NULL;
    if (command == OFMETER_DELETE) {
        cfg->id = OFMETER_ID_ALL;
    }
    while (!error && flow_text_next_token(&pos, &tok)) {
        error = meter_parse_key(&p, tok.key, tok.value, s,
                                command == OFMETER_DELETE, errorp);
        flow_text_token_free(&tok);
    }
    if (!error && command != OFMETER_DELETE) {
        error = meter_parse_check(&p, s, errorp);
    }
    return error;
}

void
ofmeter_format_config(const struct ofmeter_config *cfg, struct ds *s)
{
    static const char *const flags[] = {"kbps", "pktps", "burst", "stats"};

    ds_put_format(s, "meter=%" PRIu32, cfg->id);
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        if (cfg->flags & (1u << i)) {
            ds_put_format(s, " %s", flags[i]);
        }
    }
    ds_put_cstr(s, " bands=\n");
    for (size_t i = 0; i < cfg->n_bands; i++) {
        const struct ofmeter_band *b = &cfg->bands[i];

        ds_put_format(s, "type=%s rate=%" PRIu32,
                      b->type == OFMETER_BAND_DROP ? "drop" : "dscp_remark",
                      b->rate);
        if (cfg->flags & OFMETER_BURST) {
            ds_put_format(s, " burst_size=%" PRIu32, b->burst_size);
        }
        if (b->type == OFMETER_BAND_DSCP_REMARK) {
            ds_put_format(s, " prec_level=%u", b->prec_level);
        }
        ds_put_char(s, '\n');
    }
}

void
ofmeter_format_stats(const struct ofmeter_info *info, struct ds *s)
{
    ds_put_format(
        s,
        "meter:%" PRIu32 " flow_count:%" PRIu32 " packet_in_count:%" PRIu64
        " byte_in_count:%" PRIu64 " duration:%" PRIu64 ".%03us bands:\n",
        info->config.id, info->flow_count, info->packet_in, info->byte_in,
        info->duration_ms / 1000, (unsigned int)(info->duration_ms % 1000));
    for (size_t i = 0; i < info->config.n_bands; i++) {
        ds_put_format(s,
                      "%zu: packet_count:%" PRIu64 " byte_count:%" PRIu64 "\n",
                      i, info->band_packets[i], info->band_bytes[i]);
    }
}
