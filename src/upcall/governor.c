/* upcall/governor.c — see governor.h. */
#include "upcall/governor.h"

#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/util.h"
#include "lib/vlog.h"

VLOG_DEFINE_THIS_MODULE(governor);

COVERAGE_DEFINE(governor_suppressed);
COVERAGE_DEFINE(governor_installed);

struct governor {
    char *name;
    uint8_t *table;     /* 4-bit counters, two per byte. */
    size_t size;        /* Bytes in 'table'. */
    uint64_t gen_start; /* Time the current generation started. */
    size_t gen_packets; /* Packets seen this generation. */

    /* The flows the shortcut is judged on: every counted flow while the
     * shortcut is off, only the sample while it is on. */
    size_t n_flows; /* Counters that went 0 -> 1. */
    size_t n_long;  /* Counters that reached the threshold. */
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
        atomic_store_relaxed(&g->engaged, engaged);
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
governor_is_engaged(const struct governor *g)
{
    return atomic_load_relaxed(&g->engaged);
}

/* Milliseconds the current generation has lasted. */
static uint64_t
governor_gen_age(const struct governor *g, uint64_t now)
{
    return now > g->gen_start ? now - g->gen_start : 0;
}

/* Whether nearly every judged flow reached the threshold. */
static bool
governor_flows_are_long(const struct governor *g)
{
    return (g->n_flows >= GOVERNOR_SHORTCUT_MIN_FLOWS
            && g->n_long * 16 >= g->n_flows * 15);
}

/* Decides the long-flow shortcut at the end of a generation.  While it is
 * off every flow is counted; while it is on only the sample is (the other
 * flows are installed on their first packet and never come back), so it
 * is judged on the sample alone.  A sample smaller than
 * GOVERNOR_SHORTCUT_MIN_FLOWS is carried into the next generation: a
 * sampled flow whose packets straddle a generation's end counts as short,
 * and among a few dozen flows one such would turn the shortcut off. */
static void
governor_judge_shortcut(struct governor *g)
{
    bool shortcut;

    if (g->shortcut && g->n_flows < GOVERNOR_SHORTCUT_MIN_FLOWS) {
        return;
    }
    shortcut = governor_flows_are_long(g);
    if (shortcut != g->shortcut) {
        VLOG_INFO("%s: governor long-flow shortcut %s (%zu of %zu %sflows "
                  "reached %d packets)",
                  g->name, shortcut ? "on" : "off", g->n_long, g->n_flows,
                  g->shortcut ? "sampled " : "", GOVERNOR_THRESHOLD);
        atomic_store_relaxed(&g->shortcut, shortcut);
    }
    g->n_flows = 0;
    g->n_long = 0;
}

/* Ends a generation: resizes the table by how long it took, decides the
 * long-flow shortcut for the next one, clears the counters. */
static void
governor_new_generation(struct governor *g, uint64_t now)
{
    uint64_t elapsed = governor_gen_age(g, now);
    size_t new_size = g->size;

    if (elapsed < GOVERNOR_FAST_GEN_MS && g->size < GOVERNOR_MAX_SIZE) {
        new_size = g->size * 2;
    } else if (elapsed >= GOVERNOR_SLOW_GEN_MS
               && g->size > GOVERNOR_MIN_SIZE) {
        new_size = g->size / 2;
    }
    governor_judge_shortcut(g);
    if (new_size != g->size) {
        VLOG_INFO("%s: governor table %zu -> %zu bytes (generation took "
                  "%llu ms)",
                  g->name, g->size, new_size, (unsigned long long)elapsed);
        free(g->table);
        g->table = xzalloc(new_size);
        atomic_store_relaxed(&g->size, new_size);
    } else {
        memset(g->table, 0, g->size);
    }
    g->gen_start = now;
    g->gen_packets = 0;
    atomic_store_relaxed(&g->generation, g->generation + 1);
}

/* Ends the current generation once it has seen size / 4 packets or lasted
 * GOVERNOR_SLOW_GEN_MS, whichever comes first. */
static void
governor_age(struct governor *g, uint64_t now)
{
    if (g->gen_packets >= g->size / 4
        || governor_gen_age(g, now) >= GOVERNOR_SLOW_GEN_MS) {
        governor_new_generation(g, now);
    }
}

/* Counts one packet of 'hash' and returns its flow's count. */
static unsigned int
governor_count(struct governor *g, uint32_t hash)
{
    size_t idx = (hash % (g->size * 2)) / 2;
    unsigned int shift = (hash % 2) * 4;
    unsigned int count = (g->table[idx] >> shift) & 0xf;

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
    return count;
}

static bool
governor_allow(struct governor *g)
{
    COVERAGE_INC(governor_installed);
    atomic_store_relaxed(&g->n_installed, g->n_installed + 1);
    return true;
}

bool
governor_should_install(struct governor *g, uint32_t hash, uint64_t now)
{
    bool sampled;

    if (!g->engaged) {
        return true;
    }
    governor_age(g, now);
    g->gen_packets++;

    /* In a long-flow generation only the sample is counted and delayed. */
    sampled = (hash >> 28) % GOVERNOR_SAMPLE_INV == 0;
    if (g->shortcut && !sampled) {
        return governor_allow(g);
    }
    if (governor_count(g, hash) >= GOVERNOR_THRESHOLD) {
        return governor_allow(g);
    }
    COVERAGE_INC(governor_suppressed);
    atomic_store_relaxed(&g->n_suppressed, g->n_suppressed + 1);
    return false;
}

/* Starts counting afresh: a new engagement owes nothing to the counts of
 * the last one. */
static void
governor_restart(struct governor *g, uint64_t now)
{
    memset(g->table, 0, g->size);
    g->gen_start = now;
    g->gen_packets = 0;
    g->n_flows = 0;
    g->n_long = 0;
}

/* Idle: the table is back at its minimum size and the current generation
 * has lasted GOVERNOR_SLOW_GEN_MS, so misses arrive too slowly to need it
 * (however few packets still trickle in). */
static bool
governor_is_idle(const struct governor *g, uint64_t now)
{
    return (g->size == GOVERNOR_MIN_SIZE
            && now - g->gen_start >= GOVERNOR_SLOW_GEN_MS);
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
        governor_restart(g, now);
    } else if (g->engaged && n_flows < flow_limit / 4
               && governor_is_idle(g, now)) {
        governor_set_engaged(g, false, "datapath flows < flow_limit/4, idle");
    } else if (g->engaged) {
        /* Generations end by time too, so that the table shrinks back
         * even when no miss comes. */
        governor_age(g, now);
    }
    return g->engaged;
}

void
governor_get_info(const struct governor *g, struct governor_info *info)
{
    info->engaged = atomic_load_relaxed(&g->engaged);
    info->shortcut = atomic_load_relaxed(&g->shortcut);
    info->size = atomic_load_relaxed(&g->size);
    info->threshold = GOVERNOR_THRESHOLD;
    info->generation = atomic_load_relaxed(&g->generation);
    info->n_suppressed = atomic_load_relaxed(&g->n_suppressed);
    info->n_installed = atomic_load_relaxed(&g->n_installed);
}
