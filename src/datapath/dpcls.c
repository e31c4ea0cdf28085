/* datapath/dpcls.c — megaflow classifier (see dpcls.h). */
#include "datapath/dpcls.h"

#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/hash.h"
#include "lib/util.h"

/* A cache line of slots: their hashes (0: free) and rules, and how many
 * rules whose probe starts at or before this bucket had to go past it
 * because it was full. */
#define DPCLS_BUCKET_SLOTS 5
struct dpcls_bucket {
    uint32_t hashes[DPCLS_BUCKET_SLOTS];
    uint32_t overflow;
    struct dpcls_rule *rules[DPCLS_BUCKET_SLOTS];
} __attribute__((aligned(CACHE_LINE_SIZE)));
BUILD_ASSERT(sizeof(struct dpcls_bucket) == CACHE_LINE_SIZE);

/* Smallest table, in buckets. */
#define DPCLS_MIN_BUCKETS 4

struct dpcls_table {
    uint32_t mask;     /* Number of buckets - 1. */
    uint32_t capacity; /* Slots: buckets * DPCLS_BUCKET_SLOTS. */
    uint32_t n_used;   /* Writer: rules. */
    struct dpcls_bucket *buckets;
};

struct dpcls_subtable {
    /* Read by lookups. */
    uint64_t map;              /* Words the mask covers. */
    uint32_t n_words;          /* count_1bits(map). */
    uint8_t idx[FLOW_U64S];    /* Indexes of the words of 'map'. */
    uint64_t mask[FLOW_U64S];  /* Mask of each of those words. */
    struct dpcls_table *table; /* RCU. */
    uint64_t hits;             /* Atomic: hits since the last sort. */
    /* Writer only. */
    size_t n_rules;
};

struct dpcls_pvec {
    size_t n;
    struct dpcls_subtable *subtables[];
};

/* ---- Hashing ------------------------------------------------------------ */

static inline uint32_t
dpcls_hash_nonzero(uint32_t hash)
{
    return hash ? hash : 1;
}

static inline uint32_t
dpcls_hash_flow(const struct dpcls_subtable *st, const uint64_t *f)
{
    uint32_t hash = 0;

    for (uint32_t k = 0; k < st->n_words; k++) {
        hash = hash_add64(hash, f[st->idx[k]] & st->mask[k]);
    }
    return dpcls_hash_nonzero(hash_finish(hash, st->n_words * 8));
}

static uint32_t
dpcls_hash_key(const uint64_t *key, uint32_t n_words)
{
    uint32_t hash = 0;

    for (uint32_t k = 0; k < n_words; k++) {
        hash = hash_add64(hash, key[k]);
    }
    return dpcls_hash_nonzero(hash_finish(hash, n_words * 8));
}

static inline bool
dpcls_rule_matches(const struct dpcls_rule *rule,
                   const struct dpcls_subtable *st, const uint64_t *f)
{
    uint64_t diff = 0;

    for (uint32_t k = 0; k < st->n_words; k++) {
        diff |= (f[st->idx[k]] & st->mask[k]) ^ rule->key[k];
    }
    return !diff;
}

/* ---- Rules -------------------------------------------------------------- */

size_t
dpcls_rule_size_map(uint64_t map)
{
    return sizeof(struct dpcls_rule) + count_1bits(map) * sizeof(uint64_t);
}

size_t
dpcls_rule_size(const struct flow_wildcards *mask)
{
    return dpcls_rule_size_map(flow_wildcards_map(mask));
}

void
dpcls_rule_init(struct dpcls_rule *rule, const struct flow *flow,
                const struct flow_wildcards *mask)
{
    dpcls_rule_init_map(rule, flow, mask, flow_wildcards_map(mask));
}

void
dpcls_rule_init_map(struct dpcls_rule *rule, const struct flow *flow,
                    const struct flow_wildcards *mask, uint64_t map)
{
    const uint64_t *f = flow_u64s(flow);
    const uint64_t *m = flow_u64s(&mask->masks);
    unsigned int idx;
    uint32_t k = 0;

    rule->subtable = NULL;
    rule->map = map;
    MAP_FOR_EACH_INDEX (idx, rule->map) {
        rule->key[k++] = f[idx] & m[idx];
    }
    rule->n_words = k;
    rule->hash = dpcls_hash_key(rule->key, k);
}

void
dpcls_rule_get_match(const struct dpcls_rule *rule, struct match *match)
{
    const struct dpcls_subtable *st = rule->subtable;
    uint64_t *f = flow_u64s_rw(&match->flow);
    uint64_t *m = flow_u64s_rw(&match->wc.masks);

    memset(match, 0, sizeof *match);
    for (uint32_t k = 0; k < st->n_words; k++) {
        f[st->idx[k]] = rule->key[k];
        m[st->idx[k]] = st->mask[k];
    }
}

bool
dpcls_rule_matches_flow(const struct dpcls_rule *rule, const struct flow *flow)
{
    return dpcls_rule_matches(rule, rule->subtable, flow_u64s(flow));
}

/* ---- Tables ------------------------------------------------------------- */

static struct dpcls_table *
dpcls_table_alloc(uint32_t n_buckets)
{
    size_t buckets_ofs = ROUND_UP(sizeof(struct dpcls_table), CACHE_LINE_SIZE);
    size_t size = buckets_ofs + n_buckets * sizeof(struct dpcls_bucket);
    struct dpcls_table *t;
    char *base;

    base = aligned_alloc(CACHE_LINE_SIZE, size);
    if (!base) {
        fatal("dpcls: out of memory for a table of %u buckets", n_buckets);
    }
    memset(base, 0, size);
    t = (struct dpcls_table *)(void *)base;
    t->mask = n_buckets - 1;
    t->capacity = n_buckets * DPCLS_BUCKET_SLOTS;
    t->buckets = (struct dpcls_bucket *)(void *)(base + buckets_ofs);
    return t;
}

/* Buckets for a table that holds 'n_rules' at a load of at most 1/2. */
static uint32_t
dpcls_table_buckets_for(uint32_t n_rules)
{
    uint32_t n = DPCLS_MIN_BUCKETS;

    while ((uint64_t)n * DPCLS_BUCKET_SLOTS < 2 * (uint64_t)n_rules) {
        n *= 2;
    }
    return n;
}

/* True if one more rule would push the load over 3/4. */
static bool
dpcls_table_is_full(const struct dpcls_table *t)
{
    return 4 * ((uint64_t)t->n_used + 1) > 3 * (uint64_t)t->capacity;
}

/* Writer: puts 'rule' into 'table' (which has room), in the first free
 * slot of its probe path, counting it in the overflow of every full bucket
 * it passes. */
static void
dpcls_table_put(struct dpcls_table *t, struct dpcls_rule *rule)
{
    for (uint32_t b = rule->hash & t->mask;; b = (b + 1) & t->mask) {
        struct dpcls_bucket *bucket = &t->buckets[b];

        for (unsigned int i = 0; i < DPCLS_BUCKET_SLOTS; i++) {
            if (!atomic_load_relaxed(&bucket->hashes[i])) {
                /* Pointer first, then hash: a reader that sees the hash
                 * sees the rule (and everything written into it
                 * before). */
                atomic_store_release(&bucket->rules[i], rule);
                atomic_store_release(&bucket->hashes[i], rule->hash);
                t->n_used++;
                return;
            }
        }
        atomic_store_release(&bucket->overflow, bucket->overflow + 1);
    }
}

/* Bit k set if slot k of 'bucket' holds 'hash'.  Branch-free, unrolled.
 * The loads are relaxed: whoever uses a slot then loads its rule pointer
 * with acquire (which orders the rule's contents) and compares the key,
 * so a hash seen before its rule, or a slot reused meanwhile, only costs
 * a failed compare or a NULL rule, never a wrong answer. */
static inline unsigned int
dpcls_bucket_match(const struct dpcls_bucket *bucket, uint32_t hash)
{
    const uint32_t *h = bucket->hashes;

    BUILD_ASSERT(DPCLS_BUCKET_SLOTS == 5);
    return (unsigned int)(atomic_load_relaxed(&h[0]) == hash)
           | (unsigned int)(atomic_load_relaxed(&h[1]) == hash) << 1
           | (unsigned int)(atomic_load_relaxed(&h[2]) == hash) << 2
           | (unsigned int)(atomic_load_relaxed(&h[3]) == hash) << 3
           | (unsigned int)(atomic_load_relaxed(&h[4]) == hash) << 4;
}

/* Reader (and writer): the rule of 't' with 'hash' that matches 'f', or
 * NULL.  A probe walks buckets from the hash's home bucket and stops at
 * the first one nothing overflowed from: a rule is never placed past a
 * bucket without counting itself in that bucket's overflow. */
static struct dpcls_rule *
dpcls_probe(const struct dpcls_table *t, const struct dpcls_subtable *st,
            const uint64_t *f, uint32_t hash)
{
    for (uint32_t b = hash & t->mask;; b = (b + 1) & t->mask) {
        const struct dpcls_bucket *bucket = &t->buckets[b];
        unsigned int m = dpcls_bucket_match(bucket, hash);

        for (; m; m &= m - 1) {
            struct dpcls_rule *rule =
                atomic_load_acquire(&bucket->rules[rightmost_1bit_idx(m)]);

            if (rule && dpcls_rule_matches(rule, st, f)) {
                return rule;
            }
        }
        if (!atomic_load_acquire(&bucket->overflow)) {
            return NULL;
        }
    }
}

/* ---- Grace periods ------------------------------------------------------ */

static void
dpcls_postpone_free(struct dpcls *cls, void *p)
{
    cls->postpone(free, p, cls->postpone_aux);
}

static void
dpcls_subtable_free(void *st_)
{
    struct dpcls_subtable *st = st_;

    free(st->table);
    free(st);
}

/* Writer: replaces the table of 'st' by a fresh one sized for 'n_rules'
 * rules, and retires the old one. */
static void
dpcls_table_rebuild(struct dpcls *cls, struct dpcls_subtable *st,
                    uint32_t n_rules)
{
    struct dpcls_table *old = st->table;
    struct dpcls_table *t =
        dpcls_table_alloc(dpcls_table_buckets_for(n_rules));

    for (uint32_t b = 0; b <= old->mask; b++) {
        const struct dpcls_bucket *bucket = &old->buckets[b];

        for (unsigned int i = 0; i < DPCLS_BUCKET_SLOTS; i++) {
            if (bucket->hashes[i]) {
                dpcls_table_put(t, bucket->rules[i]);
            }
        }
    }
    atomic_store_release(&st->table, t);
    dpcls_postpone_free(cls, old);
}

/* ---- Subtables ---------------------------------------------------------- */

void
dpcls_init(struct dpcls *cls, dpcls_postpone_fn *postpone, void *aux)
{
    struct dpcls_pvec *pvec = xzalloc(sizeof *pvec);

    cls->pvec = pvec;
    cls->n_rules = 0;
    cls->n_subtables = 0;
    cls->postpone = postpone;
    cls->postpone_aux = aux;
    cls->n_sorts = 0;
}

void
dpcls_destroy(struct dpcls *cls)
{
    struct dpcls_pvec *pvec = cls->pvec;

    for (size_t i = 0; i < pvec->n; i++) {
        dpcls_subtable_free(pvec->subtables[i]);
    }
    free(pvec);
    cls->pvec = NULL;
}

static bool
dpcls_subtable_has_mask(const struct dpcls_subtable *st, uint64_t map,
                        const uint64_t *m)
{
    if (st->map != map) {
        return false;
    }
    for (uint32_t k = 0; k < st->n_words; k++) {
        if (st->mask[k] != m[st->idx[k]]) {
            return false;
        }
    }
    return true;
}

/* The subtable of the mask whose words are 'm' and whose map is 'map'. */
static struct dpcls_subtable *
dpcls_find_subtable_map(const struct dpcls *cls, uint64_t map,
                        const uint64_t *m)
{
    const struct dpcls_pvec *pvec = cls->pvec;

    for (size_t i = 0; i < pvec->n; i++) {
        if (dpcls_subtable_has_mask(pvec->subtables[i], map, m)) {
            return pvec->subtables[i];
        }
    }
    return NULL;
}

static struct dpcls_subtable *
dpcls_find_subtable(const struct dpcls *cls, const struct flow_wildcards *mask)
{
    return dpcls_find_subtable_map(cls, flow_wildcards_map(mask),
                                   flow_u64s(&mask->masks));
}

/* Writer: publishes a copy of the subtable vector with 'add' appended (if
 * nonnull) and 'remove' taken out (if nonnull). */
static void
dpcls_pvec_replace(struct dpcls *cls, struct dpcls_subtable *add,
                   struct dpcls_subtable *remove)
{
    struct dpcls_pvec *old = cls->pvec;
    struct dpcls_pvec *pvec =
        xmalloc(sizeof *pvec + (old->n + 1) * sizeof(struct dpcls_subtable *));
    size_t n = 0;

    for (size_t i = 0; i < old->n; i++) {
        if (old->subtables[i] != remove) {
            pvec->subtables[n++] = old->subtables[i];
        }
    }
    if (add) {
        pvec->subtables[n++] = add;
    }
    pvec->n = n;
    atomic_store_release(&cls->pvec, pvec);
    atomic_store_relaxed(&cls->n_subtables, pvec->n);
    dpcls_postpone_free(cls, old);
}

static struct dpcls_subtable *
dpcls_create_subtable(struct dpcls *cls, const struct flow_wildcards *mask)
{
    struct dpcls_subtable *st = xzalloc(sizeof *st);
    const uint64_t *m = flow_u64s(&mask->masks);
    unsigned int idx;
    uint32_t k = 0;

    st->map = flow_wildcards_map(mask);
    MAP_FOR_EACH_INDEX (idx, st->map) {
        st->idx[k] = (uint8_t)idx;
        st->mask[k] = m[idx];
        k++;
    }
    st->n_words = k;
    st->table = dpcls_table_alloc(DPCLS_MIN_BUCKETS);
    dpcls_pvec_replace(cls, st, NULL);
    return st;
}

/* ---- Writers ------------------------------------------------------------ */

void
dpcls_insert(struct dpcls *cls, struct dpcls_rule *rule,
             const struct flow_wildcards *mask)
{
    /* The rule's map is its mask's (dpcls_rule_init()). */
    struct dpcls_subtable *st =
        dpcls_find_subtable_map(cls, rule->map, flow_u64s(&mask->masks));
    struct dpcls_table *t;

    if (!st) {
        st = dpcls_create_subtable(cls, mask);
    }
    t = st->table;
    if (dpcls_table_is_full(t)) {
        dpcls_table_rebuild(cls, st, t->n_used + 1);
        t = st->table;
    }
    rule->subtable = st;
    dpcls_table_put(t, rule);
    st->n_rules++;
    atomic_store_relaxed(&cls->n_rules, cls->n_rules + 1);
}

void
dpcls_remove(struct dpcls *cls, struct dpcls_rule *rule)
{
    struct dpcls_subtable *st = rule->subtable;
    struct dpcls_table *t = st->table;
    uint32_t home = rule->hash & t->mask;
    uint32_t b;

    for (b = home;; b = (b + 1) & t->mask) {
        struct dpcls_bucket *bucket = &t->buckets[b];
        unsigned int i;

        for (i = 0; i < DPCLS_BUCKET_SLOTS; i++) {
            if (bucket->hashes[i] && bucket->rules[i] == rule) {
                break;
            }
        }
        if (i < DPCLS_BUCKET_SLOTS) {
            /* Readers that saw the hash find no rule, or the rule itself
             * (still valid until a grace period passes). */
            atomic_store_release(&bucket->rules[i], NULL);
            atomic_store_release(&bucket->hashes[i], 0);
            break;
        }
    }
    /* The rule no longer goes past the buckets it went past. */
    for (uint32_t p = home; p != b; p = (p + 1) & t->mask) {
        atomic_store_release(&t->buckets[p].overflow,
                             t->buckets[p].overflow - 1);
    }
    t->n_used--;
    rule->subtable = NULL;
    atomic_store_relaxed(&cls->n_rules, cls->n_rules - 1);

    if (!--st->n_rules) {
        dpcls_pvec_replace(cls, NULL, st);
        cls->postpone(dpcls_subtable_free, st, cls->postpone_aux);
    } else if (t->mask + 1 > DPCLS_MIN_BUCKETS
               && (size_t)t->n_used * 16 < (size_t)t->capacity) {
        dpcls_table_rebuild(cls, st, t->n_used);
    }
}

void
dpcls_prefetch_insert(const struct dpcls *cls, const struct flow *flow,
                      const struct flow_wildcards *mask, uint64_t map)
{
    const struct dpcls_subtable *st =
        dpcls_find_subtable_map(cls, map, flow_u64s(&mask->masks));

    if (st) {
        const struct dpcls_table *t = st->table;
        uint32_t hash = dpcls_hash_flow(st, flow_u64s(flow));

        __builtin_prefetch(&t->buckets[hash & t->mask]);
    }
}

struct dpcls_rule *
dpcls_find_exact(const struct dpcls *cls, const struct flow *flow,
                 const struct flow_wildcards *mask)
{
    struct dpcls_subtable *st = dpcls_find_subtable(cls, mask);
    const uint64_t *f = flow_u64s(flow);

    return st ? dpcls_probe(st->table, st, f, dpcls_hash_flow(st, f)) : NULL;
}

bool
dpcls_sort(struct dpcls *cls)
{
    struct dpcls_pvec *old = cls->pvec;
    size_t n = old->n;
    struct dpcls_pvec *pvec;
    uint64_t *hits;
    bool changed = false;

    if (n < 2) {
        for (size_t i = 0; i < n; i++) {
            atomic_exchange_relaxed(&old->subtables[i]->hits, 0);
        }
        return false;
    }
    pvec = xmalloc(sizeof *pvec + n * sizeof(struct dpcls_subtable *));
    hits = xmalloc(n * sizeof *hits);
    pvec->n = n;
    /* Insertion sort, stable: few subtables, and mostly in order. */
    for (size_t i = 0; i < n; i++) {
        struct dpcls_subtable *st = old->subtables[i];
        uint64_t h = atomic_exchange_relaxed(&st->hits, 0);
        size_t j = i;

        while (j > 0 && hits[j - 1] < h) {
            hits[j] = hits[j - 1];
            pvec->subtables[j] = pvec->subtables[j - 1];
            j--;
        }
        hits[j] = h;
        pvec->subtables[j] = st;
        changed |= j != i;
    }
    free(hits);
    cls->n_sorts++;
    if (!changed) {
        free(pvec);
        return false;
    }
    atomic_store_release(&cls->pvec, pvec);
    dpcls_postpone_free(cls, old);
    return true;
}

size_t
dpcls_count(const struct dpcls *cls)
{
    return atomic_load_relaxed(&cls->n_rules);
}

size_t
dpcls_n_subtables(const struct dpcls *cls)
{
    return atomic_load_relaxed(&cls->n_subtables);
}

void
dpcls_for_each_subtable(const struct dpcls *cls,
                        void (*cb)(const struct flow_wildcards *mask,
                                   size_t n_rules, void *aux),
                        void *aux)
{
    const struct dpcls_pvec *pvec = cls->pvec;

    for (size_t i = 0; i < pvec->n; i++) {
        const struct dpcls_subtable *st = pvec->subtables[i];
        struct flow_wildcards wc;
        uint64_t *m = flow_u64s_rw(&wc.masks);

        memset(&wc, 0, sizeof wc);
        for (uint32_t k = 0; k < st->n_words; k++) {
            m[st->idx[k]] = st->mask[k];
        }
        cb(&wc, st->n_rules, aux);
    }
}

/* ---- Readers ------------------------------------------------------------ */

size_t
dpcls_lookup_batch(const struct dpcls *cls, const struct flow *flows[],
                   size_t n, struct dpcls_rule *rules[],
                   struct dpcls_lookup_stats *stats)
{
    const struct dpcls_pvec *pvec = atomic_load_acquire(&cls->pvec);
    uint32_t hashes[DPCLS_BATCH_MAX];
    struct dpcls_rule *cands[DPCLS_BATCH_MAX];
    uint64_t todo, n_probes = 0;
    size_t n_hits = 0;
    unsigned int i;

    n = MIN(n, (size_t)DPCLS_BATCH_MAX);
    todo = (UINT64_C(1) << n) - 1;
    for (i = 0; i < n; i++) {
        rules[i] = NULL;
    }

    /* Per subtable, three passes over the keys still unmatched, each
     * prefetching what the next one reads, so that the cache misses of
     * the whole batch overlap: hash and fetch the home buckets; scan
     * them and fetch the candidate rules; compare. */
    for (size_t p = 0; p < pvec->n && todo; p++) {
        const struct dpcls_subtable *st = pvec->subtables[p];
        const struct dpcls_table *t = atomic_load_acquire(&st->table);
        uint64_t found = 0, further = 0, cand_map = 0;

        MAP_FOR_EACH_INDEX (i, todo) {
            uint32_t hash = dpcls_hash_flow(st, flow_u64s(flows[i]));

            hashes[i] = hash;
            __builtin_prefetch(&t->buckets[hash & t->mask]);
        }
        MAP_FOR_EACH_INDEX (i, todo) {
            const struct dpcls_bucket *bucket =
                &t->buckets[hashes[i] & t->mask];
            unsigned int m = dpcls_bucket_match(bucket, hashes[i]);
            struct dpcls_rule *rule;

            if (LIKELY(!m)) {
                if (UNLIKELY(atomic_load_acquire(&bucket->overflow))) {
                    further |= UINT64_C(1) << i;
                }
                continue;
            }
            rule = atomic_load_acquire(&bucket->rules[rightmost_1bit_idx(m)]);
            if (UNLIKELY(!rule || (m & (m - 1)))) {
                further |= UINT64_C(1) << i; /* Rare: let the probe sort
                                              * it out. */
                continue;
            }
            cands[i] = rule;
            cand_map |= UINT64_C(1) << i;
            __builtin_prefetch(rule);
            __builtin_prefetch((const char *)rule + CACHE_LINE_SIZE);
        }
        MAP_FOR_EACH_INDEX (i, cand_map) {
            if (dpcls_rule_matches(cands[i], st, flow_u64s(flows[i]))) {
                rules[i] = cands[i];
                found |= UINT64_C(1) << i;
            } else if (atomic_load_acquire(
                           &t->buckets[hashes[i] & t->mask].overflow)) {
                further |= UINT64_C(1) << i; /* Collision: look on. */
            }
        }
        MAP_FOR_EACH_INDEX (i, further) {
            struct dpcls_rule *rule =
                dpcls_probe(t, st, flow_u64s(flows[i]), hashes[i]);

            if (rule) {
                rules[i] = rule;
                found |= UINT64_C(1) << i;
            }
        }
        if (found) {
            unsigned int c = count_1bits(found);

            atomic_fetch_add_relaxed((uint64_t *)&st->hits, c);
            n_hits += c;
            n_probes += (uint64_t)(p + 1) * c;
            todo &= ~found;
        }
    }
    if (stats) {
        stats->n_hits += n_hits;
        stats->n_subtable_probes += n_probes;
    }
    return n_hits;
}

struct dpcls_rule *
dpcls_lookup(const struct dpcls *cls, const struct flow *flow,
             struct dpcls_lookup_stats *stats)
{
    struct dpcls_rule *rule;

    dpcls_lookup_batch(cls, &flow, 1, &rule, stats);
    return rule;
}
