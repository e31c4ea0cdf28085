/*
 * datapath/dp-meter.c — token-bucket meters (dp-meter.h explains them).
 */
#include "datapath/dp-meter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/dp-actions.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/util.h"
#include "packet/packet.h"

COVERAGE_DEFINE(dp_meter_drop);
COVERAGE_DEFINE(dp_meter_remark);
COVERAGE_DEFINE(dp_meter_missing);

#define DP_METER_UNITS_PER_PACKET 1000000000ULL /* 10^9. */
#define DP_METER_UNITS_PER_BYTE 8000000ULL      /* 8 × 10^6. */

struct dp_meter_band {
    struct dp_meter_band_config config;
    uint64_t max;     /* Bucket size: burst × 10^9. */
    uint64_t fill_ns; /* Time to fill an empty bucket, rounded up. */
    uint64_t bucket;  /* Atomic. */
    uint64_t packets; /* Atomic. */
    uint64_t bytes;   /* Atomic. */
};

struct dp_meter {
    bool kbps;
    size_t n_bands;
    uint64_t last_ns;    /* Atomic: time of the last refill. */
    uint64_t packets_in; /* Atomic. */
    uint64_t bytes_in;   /* Atomic. */
    struct dp_meter_band bands[DP_METER_MAX_BANDS];
};

struct dp_meters {
    pthread_mutex_t mutex; /* Writers. */
    dp_meters_postpone_fn *postpone;
    void *aux;
    struct dp_meter *slots[DP_METER_MAX]; /* RCU. */
};

struct dp_meters *
dp_meters_create(dp_meters_postpone_fn *postpone, void *aux)
{
    struct dp_meters *meters = xzalloc(sizeof *meters);

    pthread_mutex_init(&meters->mutex, NULL);
    meters->postpone = postpone;
    meters->aux = aux;
    return meters;
}

void
dp_meters_destroy(struct dp_meters *meters)
{
    if (!meters) {
        return;
    }
    for (size_t i = 0; i < DP_METER_MAX; i++) {
        free(meters->slots[i]);
    }
    pthread_mutex_destroy(&meters->mutex);
    free(meters);
}

static void
dp_meter_retire(struct dp_meters *meters, struct dp_meter *old)
{
    if (!old) {
        return;
    }
    if (meters->postpone) {
        meters->postpone(free, old, meters->aux);
    } else {
        free(old);
    }
}

static struct dp_meter *
dp_meter_create(const struct dp_meter_config *cfg, uint64_t now_ns)
{
    struct dp_meter *m = xzalloc(sizeof *m);

    m->kbps = cfg->kbps;
    m->n_bands = cfg->n_bands;
    m->last_ns = now_ns;
    for (size_t i = 0; i < cfg->n_bands; i++) {
        struct dp_meter_band *b = &m->bands[i];
        uint64_t burst =
            cfg->bands[i].burst ? cfg->bands[i].burst : cfg->bands[i].rate;

        b->config = cfg->bands[i];
        b->max = burst * DP_METER_UNITS_PER_PACKET;
        b->fill_ns = (b->max + b->config.rate - 1) / b->config.rate;
        b->bucket = b->max; /* Starts full, as in Open vSwitch. */
    }
    return m;
}

int
dp_meters_set(struct dp_meters *meters, uint32_t id,
              const struct dp_meter_config *cfg, uint64_t now_ns)
{
    struct dp_meter *old;

    if (id >= DP_METER_MAX) {
        return ERANGE;
    }
    if (cfg->n_bands > DP_METER_MAX_BANDS) {
        return EINVAL;
    }
    for (size_t i = 0; i < cfg->n_bands; i++) {
        if (!cfg->bands[i].rate) {
            return EINVAL;
        }
    }
    pthread_mutex_lock(&meters->mutex);
    old = atomic_exchange_acq_rel(&meters->slots[id],
                                  dp_meter_create(cfg, now_ns));
    pthread_mutex_unlock(&meters->mutex);
    dp_meter_retire(meters, old);
    return 0;
}

void
dp_meters_del(struct dp_meters *meters, uint32_t id)
{
    struct dp_meter *old;

    if (id >= DP_METER_MAX) {
        return;
    }
    pthread_mutex_lock(&meters->mutex);
    old = atomic_exchange_acq_rel(&meters->slots[id], NULL);
    pthread_mutex_unlock(&meters->mutex);
    dp_meter_retire(meters, old);
}

/* Reader: the meter in slot 'id', or NULL. */
static struct dp_meter *
dp_meters_find(struct dp_meters *meters, uint32_t id)
{
    return id < DP_METER_MAX ? atomic_load_acquire(&meters->slots[id]) : NULL;
}

bool
dp_meters_get_stats(struct dp_meters *meters, uint32_t id,
                    struct dp_meter_stats *stats)
{
    /* Writers free a meter only after the postpone hook's grace period;
     * the mutex keeps it from being replaced while it is read here. */
    pthread_mutex_lock(&meters->mutex);
    struct dp_meter *m = dp_meters_find(meters, id);

    memset(stats, 0, sizeof *stats);
    if (m) {
        stats->packets_in = atomic_load_relaxed(&m->packets_in);
        stats->bytes_in = atomic_load_relaxed(&m->bytes_in);
        stats->n_bands = m->n_bands;
        for (size_t i = 0; i < m->n_bands; i++) {
            stats->band_packets[i] = atomic_load_relaxed(&m->bands[i].packets);
            stats->band_bytes[i] = atomic_load_relaxed(&m->bands[i].bytes);
        }
    }
    pthread_mutex_unlock(&meters->mutex);
    return m != NULL;
}

/* ---- Token buckets ------------------------------------------------------ */

static void
dp_meter_band_add(struct dp_meter_band *b, uint64_t delta_ns)
{
    uint64_t add, old, new;

    if (delta_ns > b->fill_ns) {
        delta_ns = b->fill_ns; /* No overflow after a long idle time. */
    }
    add = delta_ns * b->config.rate;
    old = atomic_load_relaxed(&b->bucket);
    do {
        new = old + add > b->max ? b->max : old + add;
    } while (!atomic_cas_weak_relaxed(&b->bucket, &old, new));
}

/* Adds to every bucket what its rate gave since the last refill.  The
 * thread that moves the clock forward adds for that interval, so that no
 * interval is credited twice. */
static void
dp_meter_refill(struct dp_meter *m, uint64_t now_ns)
{
    uint64_t last = atomic_load_relaxed(&m->last_ns);

    while (now_ns > last) {
        if (atomic_cas_weak_relaxed(&m->last_ns, &last, now_ns)) {
            for (size_t i = 0; i < m->n_bands; i++) {
                dp_meter_band_add(&m->bands[i], now_ns - last);
            }
            return;
        }
    }
}

/* Takes 'cost' from the bucket of 'b' if it holds that much. */
static bool
dp_meter_band_take(struct dp_meter_band *b, uint64_t cost)
{
    uint64_t old = atomic_load_relaxed(&b->bucket);

    do {
        if (old < cost) {
            return false;
        }
    } while (!atomic_cas_weak_relaxed(&b->bucket, &old, old - cost));
    return true;
}

/* The band that applies to a packet of 'cost': of those it exceeds, the
 * one with the highest rate; -1 if it exceeds none. */
static int
dp_meter_measure(struct dp_meter *m, uint64_t cost)
{
    uint32_t best_rate = 0;
    int best = -1;

    for (size_t i = 0; i < m->n_bands; i++) {
        struct dp_meter_band *b = &m->bands[i];

        if (!dp_meter_band_take(b, cost) && b->config.rate > best_rate) {
            best_rate = b->config.rate;
            best = (int)i;
        }
    }
    return best;
}

/* ---- DSCP remark -------------------------------------------------------- */

/* 'tos' with the drop precedence of its AF codepoint raised by 'prec'. */
static uint8_t
dp_meter_remark_tos(uint8_t tos, uint8_t prec)
{
    unsigned int dscp = tos >> 2;
    unsigned int class = dscp >> 3, dp = (dscp >> 1) & 3;

    if (class < 1 || class > 4 || dp < 1 || (dscp & 1)) {
        return tos;
    }
    dp = dp + prec > 3 ? 3 : dp + prec;
    return (uint8_t)(((class << 3 | dp << 1) << 2) | (tos & 3));
}

static void
dp_meter_remark(struct dp_packet *pkt, uint8_t prec)
{
    const uint8_t *l3 = dp_packet_l3(pkt);
    struct dp_action a;
    uint8_t tos;

    if (!l3 || pkt->l3_ofs < 2 || dp_packet_l3_size(pkt) < 2) {
        return;
    }
    memset(&a, 0, sizeof a);
    a.type = DP_ACTION_SET;
    switch (l3[-2] << 8 | l3[-1]) {
    case 0x0800:
        tos = dp_meter_remark_tos(l3[1], prec);
        a.set.header = DP_SET_IPV4;
        a.set.value.ipv4.tos = tos & 0xfc;
        a.set.mask.ipv4.tos = 0xfc;
        break;
    case 0x86dd:
        tos = dp_meter_remark_tos((uint8_t)((l3[0] & 0x0f) << 4 | l3[1] >> 4),
                                  prec);
        a.set.header = DP_SET_IPV6;
        a.set.value.ipv6.tclass = tos & 0xfc;
        a.set.mask.ipv6.tclass = 0xfc;
        break;
    default:
        return;
    }
    dp_action_apply(&a, pkt);
}

/* ---- Running a meter ---------------------------------------------------- */

struct dp_meter_tally {
    uint64_t bytes_in;
    uint64_t packets[DP_METER_MAX_BANDS];
    uint64_t bytes[DP_METER_MAX_BANDS];
};

static void
dp_meter_credit(struct dp_meter *m, size_t n, const struct dp_meter_tally *t)
{
    atomic_fetch_add_relaxed(&m->packets_in, n);
    atomic_fetch_add_relaxed(&m->bytes_in, t->bytes_in);
    for (size_t i = 0; i < m->n_bands; i++) {
        if (t->packets[i]) {
            atomic_fetch_add_relaxed(&m->bands[i].packets, t->packets[i]);
            atomic_fetch_add_relaxed(&m->bands[i].bytes, t->bytes[i]);
        }
    }
}

size_t
dp_meters_run(struct dp_meters *meters, uint32_t id,
              struct dp_packet_batch *batch, uint64_t now_ns, bool drop[])
{
    struct dp_meter *m = dp_meters_find(meters, id);
    struct dp_meter_tally tally;
    size_t n_in = batch->count, n_drop = 0, n_remark = 0;

    memset(drop, 0, n_in * sizeof *drop);
    if (UNLIKELY(!m)) {
        COVERAGE_ADD(dp_meter_missing, n_in);
        return 0;
    }
    memset(&tally, 0, sizeof tally);
    dp_meter_refill(m, now_ns);
    for (size_t i = 0; i < n_in; i++) {
        struct dp_packet *pkt = batch->packets[i];
        uint32_t size = dp_packet_size(pkt);
        uint64_t cost = m->kbps ? size * DP_METER_UNITS_PER_BYTE
                                : DP_METER_UNITS_PER_PACKET;
        int band = dp_meter_measure(m, cost);

        tally.bytes_in += size;
        if (band < 0) {
            continue;
        }
        tally.packets[band]++;
        tally.bytes[band] += size;
        if (m->bands[band].config.type == DP_METER_BAND_DROP) {
            drop[i] = true;
            n_drop++;
        } else {
            dp_meter_remark(pkt, m->bands[band].config.prec_level);
            n_remark++;
        }
    }
    dp_meter_credit(m, n_in, &tally);
    COVERAGE_ADD(dp_meter_drop, n_drop);
    COVERAGE_ADD(dp_meter_remark, n_remark);
    return n_drop;
}
