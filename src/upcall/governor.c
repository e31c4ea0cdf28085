/* upcall/governor.c — see governor.h. */
#include "upcall/governor.h"

#include <stdlib.h>
#include <string.h>

#include "lib/coverage.h"
#include "lib/util.h"
#include "lib/vlog.h"

VLOG_DEFINE_THIS_MODULE(governor);

COVERAGE_DEFINE(governor_suppressed);
COVERAGE_DEFINE(governor_installed);

/* Relaxed atomics for what governor_get_info() reads from other
 * threads. */
#define GOV_GET(PTR) __atomic_load_n(PTR, __ATOMIC_RELAXED)
#define GOV_SET(PTR, V) __atomic_store_n(PTR, V, __ATOMIC_RELAXED)

struct governor {
    char *name;
    uint8_t *table;       /* 4-bit counters, two per byte. */
    size_t size;          /* Bytes in 'table'. */
    uint64_t gen_start;   /* Time the current generation started. */
    size_t gen_packets;   /* Packets counted this generation. */
    size_t n_flows;       /* Counters that went 0 -> 1 this generation. */
    size_t n_long;        /* Counters that reached the threshold. */
    uint64_t last_packet; /* Time of the last packet counted. */
    enum governor_mode mode;

    /* Read by governor_get_info(). */
    bool engaged;
    bool shortcut;
    uint64_t generation;
    uint64_t n_suppressed;
    uint64_t n_installed;
};

struct governor *
governor_create(const char *name, uint64_t now)
{
    struct governor *g = xzalloc(sizeof *g);

    g->name = xstrdup(name);
    g->size = GOVERNOR_MIN_SIZE;
    g->table = xzalloc(g->size);
    g->gen_start = now;
    g->last_packet = now;
    g->mode = GOVERNOR_AUTO;
    return g;
}

void
governor_destroy(struct governor *g)
{
    if (g) {
        free(g->table);
        free(g->name);
        free(g);
    }
}

static void
governor_set_engaged(struct governor *g, bool engaged, const char *why)
{
    if (g->engaged != engaged) {
        GOV_SET(&g->engaged, engaged);
        VLOG_INFO("%s: governor %s (%s)", g->name,
                  engaged ? "engaged" : "disengaged", why);
    }
}

void
governor_set_mode(struct governor *g, enum governor_mode mode)
{
    g->mode = mode;
    if (mode == GOVERNOR_FORCE_ON) {
        governor_set_engaged(g, true, "forced on");
    } else if (mode == GOVERNOR_FORCE_OFF) {
        governor_set_engaged(g, false, "forced off");
    }
}

bool
governor_run(struct governor *g, size_t n_flows, size_t flow_limit,
             uint64_t now)
{
    if (g->mode == GOVERNOR_FORCE_ON || g->mode == GOVERNOR_FORCE_OFF) {
        return g->engaged;
    }
    if (!g->engaged && n_flows >= flow_limit / 2) {
        governor_set_engaged(g, true, "datapath flows >= flow_limit/2");
        g->last_packet = now;
    } else if (g->engaged && n_flows < flow_limit / 4
               && now - g->last_packet >= GOVERNOR_IDLE_MS) {
        governor_set_engaged(g, false, "datapath flows < flow_limit/4");
    }
    return g->engaged;
}

bool
governor_is_engaged(const struct governor *g)
{
    return GOV_GET(&g->engaged);
}

/* Ends a generation: resizes the table by how long it took, decides the
 * long-flow shortcut for the next one, clears the counters. */
static void
governor_new_generation(struct governor *g, uint64_t now)
{
    uint64_t elapsed = now - g->gen_start;
    size_t new_size = g->size;
    bool shortcut;

    if (elapsed < GOVERNOR_FAST_GEN_MS && g->size < GOVERNOR_MAX_SIZE) {
        new_size = g->size * 2;
    } else if (elapsed > GOVERNOR_SLOW_GEN_MS && g->size > GOVERNOR_MIN_SIZE) {
        new_size = g->size / 2;
    }
    shortcut = (g->n_flows >= GOVERNOR_SHORTCUT_MIN_FLOWS
                && g->n_long * 16 >= g->n_flows * 15);
    if (shortcut != g->shortcut) {
        VLOG_INFO("%s: governor long-flow shortcut %s (%zu of %zu flows "
                  "reached %d packets)",
                  g->name, shortcut ? "on" : "off", g->n_long, g->n_flows,
                  GOVERNOR_THRESHOLD);
        GOV_SET(&g->shortcut, shortcut);
    }
    if (new_size != g->size) {
        VLOG_INFO("%s: governor table %zu -> %zu bytes (generation took "
                  "%llu ms)",
                  g->name, g->size, new_size, (unsigned long long)elapsed);
        free(g->table);
        g->table = xzalloc(new_size);
        GOV_SET(&g->size, new_size);
    } else {
        memset(g->table, 0, g->size);
    }
    g->gen_start = now;
    g->gen_packets = 0;
    g->n_flows = 0;
    g->n_long = 0;
    GOV_SET(&g->generation, g->generation + 1);
}

bool
governor_should_install(struct governor *g, uint32_t hash, uint64_t now)
{
    size_t idx;
    unsigned int shift, count;
    bool sampled;

    if (!g->engaged) {
        return true;
    }
    g->last_packet = now;
    if (++g->gen_packets > g->size / 4) {
        governor_new_generation(g, now);
        g->gen_packets = 1;
    }

    /* In a long-flow generation, only the sample is delayed. */
    sampled = (hash >> 28) % GOVERNOR_SAMPLE_INV == 0;
    idx = (hash % (g->size * 2)) / 2;
    shift = (hash % 2) * 4;
    count = (g->table[idx] >> shift) & 0xf;
    if (count < 15) {
        count++;
        g->table[idx] =
            (uint8_t)((g->table[idx] & ~(0xf << shift)) | (count << shift));
        if (count == 1) {
            g->n_flows++;
        } else if (count == GOVERNOR_THRESHOLD) {
            g->n_long++;
        }
    }
    if (count >= GOVERNOR_THRESHOLD || (g->shortcut && !sampled)) {
        COVERAGE_INC(governor_installed);
        GOV_SET(&g->n_installed, g->n_installed + 1);
        return true;
    }
    COVERAGE_INC(governor_suppressed);
    GOV_SET(&g->n_suppressed, g->n_suppressed + 1);
    return false;
}

void
governor_get_info(const struct governor *g, struct governor_info *info)
{
    info->engaged = GOV_GET(&g->engaged);
    info->shortcut = GOV_GET(&g->shortcut);
    info->size = GOV_GET(&g->size);
    info->threshold = GOVERNOR_THRESHOLD;
    info->generation = GOV_GET(&g->generation);
    info->n_suppressed = GOV_GET(&g->n_suppressed);
    info->n_installed = GOV_GET(&g->n_installed);
}
