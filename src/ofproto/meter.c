/*
 * ofproto/meter.c — the OpenFlow meter table (meter.h explains it).
 */
#include "ofproto/meter.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/datapath.h"
#include "datapath/dp-meter.h"
#include "flow/ofpact.h"
#include "lib/coverage.h"
#include "lib/util.h"

COVERAGE_DEFINE(ofmeter_mod);
COVERAGE_DEFINE(ofmeter_mod_refused);

struct ofmeter {
    struct ofmeter_config config;
    uint32_t dp_id;
    uint64_t created_ms;
};

struct ofmeter_table {
    struct ofmeter **meters; /* Sorted by OpenFlow id. */
    size_t n;
    struct dp *dp;
    bool dp_used[DP_METER_MAX];
};

const char *
ofmeter_error_to_string(enum ofmeter_error error)
{
    switch (error) {
    case OFMETER_OK:
        return "success";
    case OFMETER_E_EXISTS:
        return "the meter exists already (OFPMMFC_METER_EXISTS)";
    case OFMETER_E_INVALID_METER:
        return "bad meter id (expected 1..4294901760; OFPMMFC_INVALID_METER)";
    case OFMETER_E_UNKNOWN_METER:
        return "no such meter (OFPMMFC_UNKNOWN_METER)";
    case OFMETER_E_BAD_COMMAND:
        return "bad meter-mod command (OFPMMFC_BAD_COMMAND)";
    case OFMETER_E_BAD_FLAGS:
        return "a meter needs exactly one of kbps and pktps "
               "(OFPMMFC_BAD_FLAGS)";
    case OFMETER_E_BAD_RATE:
        return "a band's rate must not be 0 (OFPMMFC_BAD_RATE)";
    case OFMETER_E_BAD_BAND:
        return "bad band type (expected drop or dscp_remark; "
               "OFPMMFC_BAD_BAND)";
    case OFMETER_E_OUT_OF_METERS:
        return "too many meters (OFPMMFC_OUT_OF_METERS)";
    case OFMETER_E_OUT_OF_BANDS:
        return "too many bands (at most 8; OFPMMFC_OUT_OF_BANDS)";
    }
    return "unknown error";
}

struct ofmeter_table *
ofmeter_table_create(void)
{
    return xzalloc(sizeof(struct ofmeter_table));
}

void
ofmeter_table_destroy(struct ofmeter_table *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        free(t->meters[i]);
    }
    free(t->meters);
    free(t);
}

void
ofmeter_table_set_datapath(struct ofmeter_table *t, struct dp *dp)
{
    t->dp = dp;
}

/* The index of meter 'id' in t->meters, or where it would go. */
static size_t
ofmeter_index(const struct ofmeter_table *t, uint32_t id, bool *found)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->meters[mid]->config.id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < t->n && t->meters[lo]->config.id == id;
    return lo;
}

static struct ofmeter *
ofmeter_find(const struct ofmeter_table *t, uint32_t id)
{
    bool found;
    size_t i = ofmeter_index(t, id, &found);

    return found ? t->meters[i] : NULL;
}

bool
ofmeter_table_exists(const struct ofmeter_table *t, uint32_t id)
{
    return ofmeter_find(t, id) != NULL;
}

size_t
ofmeter_table_count(const struct ofmeter_table *t)
{
    return t->n;
}

static enum ofmeter_error
ofmeter_validate(const struct ofmeter_config *cfg)
{
    uint16_t rate_flags = cfg->flags & (OFMETER_KBPS | OFMETER_PKTPS);

    if (!cfg->id || cfg->id > OFMETER_ID_MAX) {
        return OFMETER_E_INVALID_METER;
    }
    if (cfg->flags
            & ~(OFMETER_KBPS | OFMETER_PKTPS | OFMETER_BURST | OFMETER_STATS)
        || rate_flags == 0 || rate_flags == (OFMETER_KBPS | OFMETER_PKTPS)) {
        return OFMETER_E_BAD_FLAGS;
    }
    if (!cfg->n_bands || cfg->n_bands > OFMETER_MAX_BANDS) {
        /* Open vSwitch answers OUT_OF_BANDS to a meter with none too. */
        return OFMETER_E_OUT_OF_BANDS;
    }
    for (size_t i = 0; i < cfg->n_bands; i++) {
        const struct ofmeter_band *b = &cfg->bands[i];

        if (b->type != OFMETER_BAND_DROP
            && b->type != OFMETER_BAND_DSCP_REMARK) {
            return OFMETER_E_BAD_BAND;
        }
        if (!b->rate) {
            return OFMETER_E_BAD_RATE;
        }
    }
    return OFMETER_OK;
}

/* Pushes meter 'm' to the datapath. */
static void
ofmeter_push(const struct ofmeter_table *t, const struct ofmeter *m)
{
    struct dp_meter_config dc;

    if (!t->dp) {
        return;
    }
    memset(&dc, 0, sizeof dc);
    dc.kbps = (m->config.flags & OFMETER_KBPS) != 0;
    dc.n_bands = m->config.n_bands;
    for (size_t i = 0; i < dc.n_bands; i++) {
        const struct ofmeter_band *b = &m->config.bands[i];
        struct dp_meter_band_config *d = &dc.bands[i];

        d->type = b->type == OFMETER_BAND_DROP ? DP_METER_BAND_DROP
                                               : DP_METER_BAND_DSCP_REMARK;
        d->rate = b->rate;
        d->burst = m->config.flags & OFMETER_BURST ? b->burst_size : 0;
        d->prec_level = b->prec_level;
    }
    dp_meter_set(t->dp, m->dp_id, &dc);
}

static enum ofmeter_error
ofmeter_add(struct ofmeter_table *t, const struct ofmeter_config *cfg,
            uint64_t now_ms)
{
    uint32_t dp_id = 0;
    struct ofmeter *m;
    bool found;
    size_t i = ofmeter_index(t, cfg->id, &found);

    if (found) {
        return OFMETER_E_EXISTS;
    }
    while (dp_id < DP_METER_MAX && t->dp_used[dp_id]) {
        dp_id++;
    }
    if (dp_id == DP_METER_MAX) {
        return OFMETER_E_OUT_OF_METERS;
    }
    m = xzalloc(sizeof *m);
    m->config = *cfg;
    m->dp_id = dp_id;
    m->created_ms = now_ms;
    t->dp_used[dp_id] = true;
    t->meters = xrealloc(t->meters, (t->n + 1) * sizeof *t->meters);
    memmove(&t->meters[i + 1], &t->meters[i], (t->n - i) * sizeof *t->meters);
    t->meters[i] = m;
    t->n++;
    ofmeter_push(t, m);
    return OFMETER_OK;
}

static enum ofmeter_error
ofmeter_modify(struct ofmeter_table *t, const struct ofmeter_config *cfg)
{
    struct ofmeter *m = ofmeter_find(t, cfg->id);

    if (!m) {
        return OFMETER_E_UNKNOWN_METER;
    }
    m->config = *cfg;
    ofmeter_push(t, m);
    return OFMETER_OK;
}

static void
ofmeter_remove_at(struct ofmeter_table *t, size_t i)
{
    struct ofmeter *m = t->meters[i];

    if (t->dp) {
        dp_meter_del(t->dp, m->dp_id);
    }
    t->dp_used[m->dp_id] = false;
    memmove(&t->meters[i], &t->meters[i + 1],
            (t->n - i - 1) * sizeof *t->meters);
    t->n--;
    free(m);
}

static enum ofmeter_error
ofmeter_delete(struct ofmeter_table *t, uint32_t id)
{
    bool found;
    size_t i;

    if (id == OFMETER_ID_ALL) {
        while (t->n) {
            ofmeter_remove_at(t, t->n - 1);
        }
        return OFMETER_OK;
    }
    i = ofmeter_index(t, id, &found); /* Id 0 too: none, no error. */
    if (found) {
        ofmeter_remove_at(t, i);
    }
    return OFMETER_OK;
}

enum ofmeter_error
ofmeter_table_mod(struct ofmeter_table *t, enum ofmeter_command command,
                  const struct ofmeter_config *cfg, uint64_t now_ms)
{
    enum ofmeter_error error;

    switch (command) {
    case OFMETER_ADD:
    case OFMETER_MODIFY:
        error = ofmeter_validate(cfg);
        if (!error) {
            error = command == OFMETER_ADD ? ofmeter_add(t, cfg, now_ms)
                                           : ofmeter_modify(t, cfg);
        }
        break;
    case OFMETER_DELETE:
        error = ofmeter_delete(t, cfg->id);
        break;
    default:
        error = OFMETER_E_BAD_COMMAND;
        break;
    }
    if (error) {
        COVERAGE_INC(ofmeter_mod_refused);
    } else {
        COVERAGE_INC(ofmeter_mod);
    }
    return error;
}

int
ofmeter_table_check(const struct ofmeter_table *t,
                    const struct ofpacts *ofpacts, char **errorp)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_METER && !ofmeter_find(t, a->meter.meter_id)) {
            *errorp =
                xasprintf("flow: no meter %" PRIu32 " in \"meter:%" PRIu32
                          "\" (add it first: add-meter)",
                          a->meter.meter_id, a->meter.meter_id);
            return ENOENT;
        }
    }
    return 0;
}

void
ofmeter_table_bind(const struct ofmeter_table *t, struct ofpacts *ofpacts)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_METER) {
            const struct ofmeter *m = ofmeter_find(t, a->meter.meter_id);

            a->meter.dp_id = m ? m->dp_id : OFPACT_METER_DP_NONE;
        }
    }
}

static void
ofmeter_fill_info(const struct ofmeter_table *t, const struct ofmeter *m,
                  uint64_t now_ms, struct ofmeter_info *info)
{
    struct dp_meter_stats st;

    memset(info, 0, sizeof *info);
    info->config = m->config;
    info->duration_ms = now_ms > m->created_ms ? now_ms - m->created_ms : 0;
    if (t->dp && dp_meter_get_stats(t->dp, m->dp_id, &st)) {
        info->packet_in = st.packets_in;
        info->byte_in = st.bytes_in;
        for (size_t i = 0; i < st.n_bands && i < OFMETER_MAX_BANDS; i++) {
            info->band_packets[i] = st.band_packets[i];
            info->band_bytes[i] = st.band_bytes[i];
        }
    }
}

size_t
ofmeter_table_snapshot(const struct ofmeter_table *t, uint32_t id,
                       uint64_t now_ms, struct ofmeter_info **infosp)
{
    struct ofmeter_info *infos = xcalloc(t->n ? t->n : 1, sizeof *infos);
    size_t n = 0;

    for (size_t i = 0; i < t->n; i++) {
        if (id == OFMETER_ID_ALL || t->meters[i]->config.id == id) {
            ofmeter_fill_info(t, t->meters[i], now_ms, &infos[n++]);
        }
    }
    *infosp = infos;
    return n;
}
