/* datapath/dp-emc.c — the exact-match cache of a datapath thread (design
 * and thread safety in dp-emc.h). */
#include <stdlib.h>
#include <string.h>

#include "datapath/dp-emc.h"
#include "datapath/dp-private.h"
#include "lib/atomic.h"
#include "lib/hash.h"
#include "lib/util.h"

#define DP_EMC_WAYS 2
#define DP_EMC_BUCKETS (DP_EMC_ENTRIES / DP_EMC_WAYS)
BUILD_ASSERT(DP_EMC_BUCKETS && !(DP_EMC_BUCKETS & (DP_EMC_BUCKETS - 1)));

/* The words of the key the EMC hashes and compares: from in_port on
 * (dp-emc.h, "Design"; dp_emc_key_cacheable()). */
#define DP_EMC_FIRST_WORD FLOW_U64_OFS(in_port)
#define DP_EMC_N_WORDS (FLOW_U64S - DP_EMC_FIRST_WORD)
BUILD_ASSERT(DP_EMC_FIRST_WORD == 6);
BUILD_ASSERT(DP_EMC_N_WORDS == 16);

/* "Whether the EMC pays" (dp-emc.h): the window, in batches looked up,
 * and the share of batches looked up while bypassed. */
#define DP_EMC_WINDOW 64
#define DP_EMC_SAMPLE 8

/* The hash and flow of an entry; a bucket's slots share a cache line. */
struct dp_emc_slot {
    struct dp_flow *flow; /* Holds a reference; NULL: empty. */
    uint32_t hash;
};

/* One entry's key words: exactly two cache lines. */
struct dp_emc_entry {
    uint64_t words[DP_EMC_N_WORDS];
} __attribute__((aligned(CACHE_LINE_SIZE)));
BUILD_ASSERT(sizeof(struct dp_emc_entry) == (size_t)2 * CACHE_LINE_SIZE);

struct dp_emc {
    /* slots[i] belongs to entries[i]; bucket b is [2b, 2b + 1]. */
    struct dp_emc_slot slots[DP_EMC_ENTRIES]
        __attribute__((aligned(CACHE_LINE_SIZE)));
    struct dp_emc_entry entries[DP_EMC_ENTRIES];
    uint32_t sweep; /* Next bucket to sweep. */

    /* Whether the EMC pays: not worth probing (then 'batches' counts the
     * batches so as to look up one in DP_EMC_SAMPLE), and the current
     * window. */
    bool bypass;
    uint32_t batches;
    struct dp_emc_window {
        uint64_t batches, lookups, hits, dpcls_hits, dpcls_probes;
    } window;
};

struct dp_emc *
dp_emc_create(void)
{
    struct dp_emc *emc =
        aligned_alloc(CACHE_LINE_SIZE, ROUND_UP(sizeof *emc, CACHE_LINE_SIZE));

    if (!emc) {
        fatal("dp: out of memory for an exact-match cache");
    }
    for (size_t i = 0; i < DP_EMC_ENTRIES; i++) {
        emc->slots[i].flow = NULL;
        emc->slots[i].hash = 0;
    }
    emc->sweep = 0;
    emc->bypass = false;
    emc->batches = 0;
    memset(&emc->window, 0, sizeof emc->window);
    return emc;
}

static void
dp_emc_clear(struct dp_emc *emc, size_t i)
{
    dp_flow_unref(emc->slots[i].flow);
    emc->slots[i].flow = NULL;
    emc->slots[i].hash = 0;
}

void
dp_emc_destroy(struct dp_emc *emc)
{
    if (!emc) {
        return;
    }
    for (size_t i = 0; i < DP_EMC_ENTRIES; i++) {
        if (emc->slots[i].flow) {
            dp_emc_clear(emc, i);
        }
    }
    free(emc);
}

/* ---- Whether the EMC pays ----------------------------------------------- */

bool
dp_emc_should_look_up(struct dp_emc *emc)
{
    return !emc->bypass || !(emc->batches++ % DP_EMC_SAMPLE);
}

static void
dp_emc_account(struct dp_emc *emc, size_t lookups, size_t hits)
{
    struct dp_emc_window *w = &emc->window;

    w->lookups += lookups;
    w->hits += hits;
    if (++w->batches == DP_EMC_WINDOW) {
        /* hits / lookups * probes / dpcls_hits < 1 / 2.  Without dpcls
         * hits the EMC answered everything: keep it. */
        emc->bypass =
            w->dpcls_hits
            && 2 * w->hits * w->dpcls_probes < w->lookups * w->dpcls_hits;
        memset(w, 0, sizeof *w);
    }
}

void
dp_emc_count_dpcls(struct dp_emc *emc, uint64_t hits, uint64_t probes)
{
    emc->window.dpcls_hits += hits;
    emc->window.dpcls_probes += probes;
}

/* ---- Lookup ------------------------------------------------------------- */

/* Hash of the key's words from in_port on: four independent CRC chains
 * (so that their latencies overlap) folded together. */
static inline uint32_t
dp_emc_hash__(const struct flow *flow)
{
    const uint64_t *w = flow_u64s(flow) + DP_EMC_FIRST_WORD;
    uint32_t a = 0, b = 0x9e3779b9, c = 0x85ebca6b, d = 0xc2b2ae35;

    BUILD_ASSERT(DP_EMC_N_WORDS % 4 == 0);
    for (size_t i = 0; i < DP_EMC_N_WORDS; i += 4) {
        a = hash_add64(a, w[i]);
        b = hash_add64(b, w[i + 1]);
        c = hash_add64(c, w[i + 2]);
        d = hash_add64(d, w[i + 3]);
    }
    return hash_finish(a ^ hash_rot32(b, 8) ^ hash_rot32(c, 16)
                           ^ hash_rot32(d, 24),
                       DP_EMC_N_WORDS * 8);
}

uint32_t
dp_emc_hash(const struct flow *key)
{
    return dp_emc_hash__(key);
}

/* Whether 'key' has the zero words the EMC leaves out. */
static inline bool
dp_emc_key_cacheable(const struct flow *key)
{
    const uint64_t *w = flow_u64s(key);
    uint64_t any = 0;

    for (size_t i = 0; i < DP_EMC_FIRST_WORD; i++) {
        any |= w[i];
    }
    return !any;
}

static inline bool
dp_emc_entry_matches(const struct dp_emc *emc, size_t i,
                     const struct flow *key)
{
    const uint64_t *w = flow_u64s(key) + DP_EMC_FIRST_WORD;
    const struct dp_emc_entry *e = &emc->entries[i];
    uint64_t diff = 0;

    for (size_t j = 0; j < DP_EMC_N_WORDS; j++) {
        diff |= e->words[j] ^ w[j];
    }
    return !diff && emc->slots[i].flow && dp_emc_key_cacheable(key);
}

static inline size_t
dp_emc_bucket(uint32_t hash)
{
    return (size_t)(hash & (DP_EMC_BUCKETS - 1)) * DP_EMC_WAYS;
}

/* The flow of the entry for 'key' (not yet checked for being dead) and
 * the entry's index in '*slotp', or NULL. */
static inline struct dp_flow *
dp_emc_find(const struct dp_emc *emc, uint32_t hash, const struct flow *key,
            size_t *slotp)
{
    size_t i = dp_emc_bucket(hash);

    for (unsigned int w = 0; w < DP_EMC_WAYS; w++, i++) {
        if (emc->slots[i].hash == hash && dp_emc_entry_matches(emc, i, key)) {
            *slotp = i;
            return emc->slots[i].flow;
        }
    }
    return NULL;
}

/* Pass 1: hashes every key and fetches its bucket's slots and entries. */
static inline void
dp_emc_hash_and_fetch(const struct dp_emc *emc, const struct flow keys[],
                      size_t n, uint32_t hashes[])
{
    for (size_t i = 0; i < n; i++) {
        size_t bucket;

        hashes[i] = dp_emc_hash__(&keys[i]);
        bucket = dp_emc_bucket(hashes[i]);
        __builtin_prefetch(&emc->slots[bucket]);
        __builtin_prefetch(&emc->entries[bucket]);
        __builtin_prefetch((const char *)&emc->entries[bucket]
                           + CACHE_LINE_SIZE);
    }
}

/* Pass 2: compares, and fetches the candidate flows.  Returns the bitmap
 * of the keys with an entry. */
static inline uint64_t
dp_emc_compare(const struct dp_emc *emc, const struct flow keys[], size_t n,
               const uint32_t hashes[], struct dp_flow *flows[],
               size_t slots[])
{
    uint64_t hit_map = 0;

    for (size_t i = 0; i < n; i++) {
        flows[i] = dp_emc_find(emc, hashes[i], &keys[i], &slots[i]);
        if (flows[i]) {
            __builtin_prefetch(&flows[i]->actions);
            hit_map |= UINT64_C(1) << i;
        }
    }
    return hit_map;
}

/* Pass 3: checks the flows of 'hit_map' and fetches the stats slot
 * 'stats_idx' and the actions of the live ones.  Returns the bitmap of
 * the dead ones. */
static inline uint64_t
dp_emc_check_and_fetch(struct dp_flow *const flows[], uint64_t hit_map,
                       unsigned int stats_idx)
{
    uint64_t dead_map = 0;
    unsigned int i;

    MAP_FOR_EACH_INDEX (i, hit_map) {
        struct dp_flow *flow = flows[i];

        if (UNLIKELY(atomic_load_relaxed(&flow->dead))) {
            dead_map |= UINT64_C(1) << i;
            continue;
        }
        __builtin_prefetch(&flow->stats[stats_idx], 1);
        __builtin_prefetch(atomic_load_acquire(&flow->actions));
    }
    return dead_map;
}

/* Clears the entries of the dead flows of 'dead_map' and makes them
 * misses.  Only after pass 3: an entry's reference may be the last one,
 * and other packets of the batch may hold the same flow.  From here on
 * the dead flows' pointers are only compared. */
static void
dp_emc_drop_dead(struct dp_emc *emc, struct dp_flow *flows[],
                 const size_t slots[], uint64_t dead_map)
{
    unsigned int i;

    MAP_FOR_EACH_INDEX (i, dead_map) {
        if (emc->slots[slots[i]].flow == flows[i]) {
            dp_emc_clear(emc, slots[i]);
        }
        flows[i] = NULL;
    }
}

uint64_t
dp_emc_lookup_batch(struct dp_emc *emc, const struct flow keys[], size_t n,
                    unsigned int stats_idx, uint32_t hashes[],
                    struct dp_flow *flows[])
{
    size_t slots[PACKET_BATCH_MAX];
    uint64_t hit_map, dead_map;

    dp_emc_hash_and_fetch(emc, keys, n, hashes);
    hit_map = dp_emc_compare(emc, keys, n, hashes, flows, slots);
    dead_map = dp_emc_check_and_fetch(flows, hit_map, stats_idx);
    if (UNLIKELY(dead_map)) {
        dp_emc_drop_dead(emc, flows, slots, dead_map);
        hit_map &= ~dead_map;
    }
    dp_emc_account(emc, n, (size_t)__builtin_popcountll(hit_map));
    return hit_map;
}

/* ---- Insertion and sweeping --------------------------------------------- */

void
dp_emc_insert(struct dp_emc *emc, uint32_t hash, const struct flow *key,
              struct dp_flow *flow, uint32_t random)
{
    size_t bucket = dp_emc_bucket(hash);
    size_t i = SIZE_MAX;

    if (!dp_emc_key_cacheable(key)) {
        return;
    }
    for (unsigned int w = 0; w < DP_EMC_WAYS; w++) {
        if (emc->slots[bucket + w].hash == hash
            && dp_emc_entry_matches(emc, bucket + w, key)) {
            i = bucket + w;
            break;
        }
    }
    for (unsigned int w = 0; i == SIZE_MAX && w < DP_EMC_WAYS; w++) {
        if (!emc->slots[bucket + w].flow) {
            i = bucket + w;
        }
    }
    if (i == SIZE_MAX) {
        i = bucket + random % DP_EMC_WAYS;
    }
    if (emc->slots[i].flow == flow) {
        return;
    }
    if (emc->slots[i].flow) {
        dp_flow_unref(emc->slots[i].flow);
    }
    dp_flow_ref(flow);
    emc->slots[i].flow = flow;
    memcpy(emc->entries[i].words, flow_u64s(key) + DP_EMC_FIRST_WORD,
           sizeof emc->entries[i].words);
    emc->slots[i].hash = hash;
}

void
dp_emc_sweep_step(struct dp_emc *emc)
{
    size_t bucket =
        (size_t)(emc->sweep++ & (DP_EMC_BUCKETS - 1)) * DP_EMC_WAYS;

    for (unsigned int w = 0; w < DP_EMC_WAYS; w++) {
        struct dp_flow *flow = emc->slots[bucket + w].flow;

        if (flow && atomic_load_relaxed(&flow->dead)) {
            dp_emc_clear(emc, bucket + w);
        }
    }
}
