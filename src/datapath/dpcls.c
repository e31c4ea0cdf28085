/* datapath/dpcls.c — megaflow classifier (see dpcls.h). */
#include "datapath/dpcls.h"

#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/hash.h"
#include "lib/ptrmap.h"
#include "lib/util.h"

struct dpcls_subtable {
    /* Read by lookups. */
    uint64_t map;             /* Words the mask covers. */
    uint32_t n_words;         /* count_1bits(map). */
    uint8_t idx[FLOW_U64S];   /* Indexes of the words of 'map'. */
    uint64_t mask[FLOW_U64S]; /* Mask of each of those words. */
    struct ptrmap rules;      /* By hash; read under RCU. */
    uint64_t hits;            /* Atomic: hits since the last sort. */
};

struct dpcls_pvec {
    size_t n;
    struct dpcls_subtable *subtables[];
};

/* ---- Hashing ------------------------------------------------------------ */

static inline uint32_t
dpcls_hash_flow(const struct dpcls_subtable *st, const uint64_t *f)
{
    uint32_t hash = 0;

    for (uint32_t k = 0; k < st->n_words; k++) {
        hash = hash_add64(hash, f[st->idx[k]] & st->mask[k]);
    }
    return ptrmap_hash(hash_finish(hash, st->n_words * 8));
}

static uint32_t
dpcls_hash_key(const uint64_t *key, uint32_t n_words)
{
    uint32_t hash = 0;

    for (uint32_t k = 0; k < n_words; k++) {
        hash = hash_add64(hash, key[k]);
    }
    return ptrmap_hash(hash_finish(hash, n_words * 8));
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

/* ---- Probes ------------------------------------------------------------- */

/* Reader (and writer): the rule of 't' with 'hash' that matches 'f', or
 * NULL. */
static struct dpcls_rule *
dpcls_probe(const struct ptrmap_table *t, const struct dpcls_subtable *st,
            const uint64_t *f, uint32_t hash)
{
    struct ptrmap_pos pos;

    for (struct dpcls_rule *rule = ptrmap_table_first_with_hash(t, hash, &pos);
         rule; rule = ptrmap_next_with_hash(hash, &pos)) {
        if (dpcls_rule_matches(rule, st, f)) {
            return rule;
        }
    }
    return NULL;
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

    ptrmap_destroy(&st->rules);
    free(st);
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
    ptrmap_init_rcu(&st->rules, cls->postpone, cls->postpone_aux);
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

    if (!st) {
        st = dpcls_create_subtable(cls, mask);
    }
    rule->subtable = st;
    ptrmap_insert(&st->rules, rule->hash, rule);
    atomic_store_relaxed(&cls->n_rules, cls->n_rules + 1);
}

void
dpcls_remove(struct dpcls *cls, struct dpcls_rule *rule)
{
    struct dpcls_subtable *st = rule->subtable;

    /* Readers that still find it may use it until a grace period. */
    ptrmap_remove(&st->rules, rule->hash, rule);
    rule->subtable = NULL;
    atomic_store_relaxed(&cls->n_rules, cls->n_rules - 1);

    if (!ptrmap_count(&st->rules)) {
        dpcls_pvec_replace(cls, NULL, st);
        cls->postpone(dpcls_subtable_free, st, cls->postpone_aux);
    } else {
        ptrmap_shrink(&st->rules);
    }
}

void
dpcls_prefetch_insert(const struct dpcls *cls, const struct flow *flow,
                      const struct flow_wildcards *mask, uint64_t map)
{
    const struct dpcls_subtable *st =
        dpcls_find_subtable_map(cls, map, flow_u64s(&mask->masks));

    if (st) {
        ptrmap_prefetch(&st->rules, dpcls_hash_flow(st, flow_u64s(flow)));
    }
}

struct dpcls_rule *
dpcls_find_exact(const struct dpcls *cls, const struct flow *flow,
                 const struct flow_wildcards *mask)
{
    struct dpcls_subtable *st = dpcls_find_subtable(cls, mask);
    const uint64_t *f = flow_u64s(flow);

    return st ? dpcls_probe(ptrmap_table(&st->rules), st, f,
                            dpcls_hash_flow(st, f))
              : NULL;
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
        cb(&wc, ptrmap_count(&st->rules), aux);
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
        const struct ptrmap_table *t = ptrmap_table(&st->rules);
        uint64_t found = 0, further = 0, cand_map = 0;

        MAP_FOR_EACH_INDEX (i, todo) {
            uint32_t hash = dpcls_hash_flow(st, flow_u64s(flows[i]));

            hashes[i] = hash;
            __builtin_prefetch(ptrmap_home(t, hash));
        }
        MAP_FOR_EACH_INDEX (i, todo) {
            const struct ptrmap_bucket *bucket = ptrmap_home(t, hashes[i]);
            uint32_t m = ptrmap_bucket_match(bucket, hashes[i]);
            struct dpcls_rule *rule;

            if (LIKELY(!m)) {
                if (UNLIKELY(ptrmap_bucket_overflowed(bucket))) {
                    further |= UINT64_C(1) << i;
                }
                continue;
            }
            rule = ptrmap_bucket_ptr(bucket, rightmost_1bit_idx(m));
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
            } else if (ptrmap_bucket_overflowed(ptrmap_home(t, hashes[i]))) {
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
