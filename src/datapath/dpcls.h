/*
 * datapath/dpcls.h — the megaflow classifier of the datapath.
 *
 * A megaflow is a (key, mask) pair: it matches every packet whose flow key
 * agrees with 'key' on the 1-bits of 'mask'.  Unlike the OpenFlow
 * classifier there are no priorities: the slow path installs megaflows
 * that do not overlap, so a packet matches at most one and the lookup can
 * stop at the first hit.
 *
 * Tuple space search.  One *subtable* per distinct mask holds the rules of
 * that mask in a hash table keyed by the masked key.  A lookup masks the
 * packet's flow with each subtable's mask in turn, hashes the words the
 * mask covers, and probes.  Subtables are probed busiest first:
 * dpcls_sort() (run periodically by the owner) reorders them by the hits
 * they took since the previous sort, so with skewed traffic most packets
 * are found in the first subtable or two.
 *
 * Batches.  dpcls_lookup_batch() classifies up to DPCLS_BATCH_MAX flows at
 * once, DPDK style: per subtable it makes three passes over the flows
 * still unmatched — hash them and prefetch their home buckets; scan the
 * buckets and prefetch the candidate rules; compare — so that the cache
 * misses of the whole batch overlap instead of adding up.
 *
 * Hash table.  Each subtable's rules are a lib/ptrmap.h map from the
 * hash of the masked key to the rule, read lock-free under RCU: a probe
 * usually reads one cache line of the table and then the rule, and the
 * full key compare after a hash match makes any race between a probe and
 * a slot being reused harmless.  The batch lookup works on the map's
 * buckets directly (ptrmap_home(), ptrmap_bucket_match()) to overlap the
 * misses of a batch.  A subtable's table shrinks when it is at least 16
 * times too big (ptrmap_shrink() after each removal).
 *
 * Overlaps.  If the slow path ever installs two megaflows that both match
 * a flow, the lookup returns the one in the subtable that comes first in
 * the current order (busiest first); within one subtable keys are unique.
 * The answer is deterministic for a given order, but dpcls_sort() may
 * change the order and with it the answer.
 *
 * Thread safety.
 *  - Readers: dpcls_lookup(), dpcls_lookup_batch() and the counters run
 *    without locks, concurrently with one writer, inside an RCU read-side
 *    section of the owner's flavour (the datapath uses QSBR; any flavour
 *    works as long as the owner's 'postpone' callback waits for a grace
 *    period of the same flavour).  Rules they return stay valid until the
 *    reader's next quiescent state.  Pointers readers follow are published
 *    with release stores and read with acquire loads (the __atomic
 *    builtins, which ThreadSanitizer understands).
 *  - Writers: everything else, serialized by a mutex the owner holds.
 *    Memory readers may still use (old tables, old subtable vectors,
 *    emptied subtables) goes to the owner's 'postpone' callback, which must
 *    run the function after a grace period.  Rules belong to the owner: it
 *    frees a removed rule only after a grace period too.
 */
#ifndef FLOWSWITCH_DATAPATH_DPCLS_H
#define FLOWSWITCH_DATAPATH_DPCLS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

#define DPCLS_BATCH_MAX 32

struct dpcls_subtable;
struct dpcls_pvec;

/* A megaflow, embedded at the END of the owner's structure (its key is a
 * flexible array).  Allocate dpcls_rule_size() bytes for it. */
struct dpcls_rule {
    struct dpcls_subtable *subtable; /* Writer: where it is; NULL if not. */
    uint64_t map;                    /* Words the mask covers. */
    uint32_t hash;                   /* Hash of the key within 'map'. */
    uint32_t n_words;                /* count_1bits(map). */
    uint64_t key[];                  /* Masked key, one per word of map. */
};

/* Calls fn(arg) after a grace period of the readers' RCU flavour. */
typedef void dpcls_postpone_fn(void (*fn)(void *), void *arg, void *aux);

struct dpcls {
    struct dpcls_pvec *pvec; /* RCU: subtables in lookup order. */
    size_t n_rules;          /* Atomic. */
    size_t n_subtables;      /* Atomic: pvec->n, readable without RCU. */
    /* Writer only. */
    dpcls_postpone_fn *postpone;
    void *postpone_aux;
    uint64_t n_sorts;
};

/* Per-lookup accounting, added to (not reset) by the lookups. */
struct dpcls_lookup_stats {
    uint64_t n_hits;
    uint64_t n_subtable_probes; /* For hits: position of the subtable
                                 * that hit (1 = first), summed. */
};

void dpcls_init(struct dpcls *, dpcls_postpone_fn *postpone, void *aux);
/* Frees the classifier's memory at once: no reader may be using it and it
 * must be empty of rules the owner still wants (they are not freed, only
 * forgotten). */
void dpcls_destroy(struct dpcls *);

/* Bytes to allocate for a rule with 'mask' (header and key). */
size_t dpcls_rule_size(const struct flow_wildcards *mask);
/* Initializes 'rule' to match 'flow' under 'mask'. */
void dpcls_rule_init(struct dpcls_rule *, const struct flow *flow,
                     const struct flow_wildcards *mask);
/* The same two for a caller that has flow_wildcards_map(mask) in 'map'
 * already (a flow put computes it once for both and for the insert). */
size_t dpcls_rule_size_map(uint64_t map);
void dpcls_rule_init_map(struct dpcls_rule *, const struct flow *flow,
                         const struct flow_wildcards *mask, uint64_t map);
/* The key and mask of 'rule' (which must be in a classifier, or at least
 * must have been in one and not be freed yet: the mask comes from its
 * subtable).  Writer, or reader of a rule it just found. */
void dpcls_rule_get_match(const struct dpcls_rule *, struct match *);
/* True if 'flow' matches 'rule'.  Reader-safe. */
bool dpcls_rule_matches_flow(const struct dpcls_rule *, const struct flow *);

/* Inserts 'rule' (initialized with dpcls_rule_init() for 'mask').  A rule
 * with the same key and mask must not be in 'cls'. */
void dpcls_insert(struct dpcls *, struct dpcls_rule *,
                  const struct flow_wildcards *mask);
/* Removes 'rule', which must be in 'cls'.  Free it after a grace period. */
void dpcls_remove(struct dpcls *, struct dpcls_rule *);
/* Starts loading the bucket where a rule for 'flow' under 'mask' (whose
 * flow_wildcards_map() is 'map') would go, ahead of a batch of inserts.
 * Writer. */
void dpcls_prefetch_insert(const struct dpcls *, const struct flow *flow,
                           const struct flow_wildcards *mask, uint64_t map);
/* The rule with exactly 'flow' & 'mask' and 'mask', or NULL.  Writer. */
struct dpcls_rule *dpcls_find_exact(const struct dpcls *,
                                    const struct flow *flow,
                                    const struct flow_wildcards *mask);

/* The rule that matches 'flow', or NULL.  Reader. */
struct dpcls_rule *dpcls_lookup(const struct dpcls *, const struct flow *,
                                struct dpcls_lookup_stats *);
/* Looks up flows[0..n) (n <= DPCLS_BATCH_MAX) and stores each one's rule
 * (or NULL) in rules[].  Returns the number of hits.  'stats' may be
 * NULL.  Reader. */
size_t dpcls_lookup_batch(const struct dpcls *, const struct flow *flows[],
                          size_t n, struct dpcls_rule *rules[],
                          struct dpcls_lookup_stats *stats);

/* Reorders the subtables by the hits they took since the last sort,
 * busiest first (ties keep their order), and starts counting afresh.
 * Returns true if the order changed.  Writer. */
bool dpcls_sort(struct dpcls *);

/* Number of rules / subtables (masks).  Reader-safe. */
size_t dpcls_count(const struct dpcls *);
size_t dpcls_n_subtables(const struct dpcls *);

/* The masks in lookup order: calls cb() with each subtable's mask and its
 * rule count.  Writer. */
void dpcls_for_each_subtable(const struct dpcls *,
                             void (*cb)(const struct flow_wildcards *mask,
                                        size_t n_rules, void *aux),
                             void *aux);

#endif /* datapath/dpcls.h */
