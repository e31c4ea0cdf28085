/*
 * classifier/classifier.h — the OpenFlow flow table lookup structure: finds
 * the highest-priority rule that matches a flow, and reports which bits of
 * the flow the answer depended on.
 *
 * Tuple space search.  Rules are grouped by mask: one *subtable* per
 * distinct mask, each a hash map (lib/ptrmap.h, read lock-free under RCU)
 * of *entries* keyed by the masked flow.
 * Rules with an identical match share one entry, in a list sorted by
 * priority, highest first.  A lookup probes every subtable with the flow
 * masked by the subtable's mask and keeps the best rule; the subtables are
 * kept in a vector sorted by the highest priority they hold, so the lookup
 * stops at the first subtable that cannot beat the best rule found so far.
 * Ties between rules of equal priority in different subtables go to the
 * most recently inserted one, so subtables whose maximum priority equals
 * the best rule's priority are still probed.
 *
 * Wildcard tracking (megaflows).  classifier_lookup() ORs into 'wc' every
 * bit it examined, such that any flow that agrees with the looked-up flow on
 * the bits of 'wc' gets the same answer.  To keep that set small:
 *  - Staged lookup.  The words of struct flow form four stages (metadata,
 *    L2, L3, L4; flow_stage_map()).  Each subtable keeps, for every stage
 *    but its last, a hash multiset of its entries' keys masked up to that
 *    stage (a ptrmap filing a count under each hash).  The lookup probes
 *    those in order; a miss at stage k proves that no entry matches using
 *    only the mask bits of stages 0..k, so only those are un-wildcarded.
 *  - Prefix tries on nw_src, nw_dst, ipv6_src, ipv6_dst (cls-trie.h).
 *    When a subtable whose mask on such a field is a CIDR prefix of length
 *    P misses at the stage that holds the field, the lookup asks the trie
 *    whether any rule's P-bit prefix matches the flow's address.  If none
 *    does, only the leading address bits the trie needed (at most P) are
 *    un-wildcarded instead of the stages' bits: a miss on a /8 rule
 *    typically costs a few bits, not 32.  (A hit in the stage means some
 *    rule has the flow's prefix, so the trie is not consulted then: hits
 *    never pay for a trie walk, and each trie is walked at most once per
 *    lookup.)
 *  - A ports trie in each subtable that matches the L4 ports (OVS's
 *    "ports_trie").  tp_src and tp_dst form one 32-bit value, tp_src
 *    first; the subtable's mask on it, whatever its shape, ends at some
 *    last 1-bit, and the trie holds every entry's masked ports as a
 *    prefix up to that bit.  When the last stage (L4) misses, the lookup
 *    walks the trie along the flow's masked ports: if no entry has them,
 *    the stages before L4 and only the leading port bits the walk needed
 *    are un-wildcarded (a miss against tp_dst=80 from port 22 costs
 *    tp_dst=0/0xffc0, not the 16 bits); if some entry has them, the miss
 *    was on another field and the whole mask is un-wildcarded.
 *  - Subtables skipped because their priority cannot beat the best rule add
 *    nothing.
 *
 * Versioning.  Every rule carries a visibility range [add_version,
 * remove_version): a lookup in version v only sees rules with add_version
 * <= v < remove_version.  A writer stages a batch of changes in a future
 * version V (insert with version V, classifier_remove() with version V) and
 * then publishes V with cls_version_publish(); readers that load the
 * version with cls_version_get() see either the whole batch or none of it,
 * never half.  The version counter belongs to the caller (one counter can
 * cover several classifiers, e.g. all the tables of a bridge, so a batch
 * that spans tables is atomic too).  Versions a writer uses must not
 * decrease.
 *
 * Removing a rule is two-phase, as it is in Open vSwitch:
 *   1. classifier_remove(cls, rule, V): 'rule' is invisible from V on but
 *      stays linked, so readers still working in older versions find it;
 *   2. publish V, and once no reader can still be using a version < V
 *      (one RCU grace period after publishing), classifier_remove_now()
 *      unlinks it;
 *   3. readers may still be walking past it: destroy and free the rule only
 *      after another grace period (rcu_postpone(), lib/rcu.h).
 * classifier_replace() displaces an existing rule with the same match and
 * priority the same way: the displaced rule is invisible from V and must go
 * through steps 2 and 3.  A rule that was never visible in a published
 * version (or when there are no concurrent readers) can go through
 * classifier_remove_now() at once.
 *
 * Thread safety.
 *  - Readers: classifier_lookup(), classifier_find_rule_exactly(),
 *    classifier_find_match_exactly(), classifier_rule_overlaps(), the
 *    cursors (CLS_FOR_EACH...) and the counters may run in any number of
 *    threads concurrently with one writer, without locks, inside an RCU
 *    read-side section (lib/rcu.h, memb flavour: the thread is registered
 *    with rcu_thread_register() and brackets the call, and its use of the
 *    returned rules, with rcu_read_begin()/rcu_read_end()).  They never
 *    block and never allocate.
 *  - Writers: every other function, serialized by a mutex the caller owns
 *    (ofproto's table mutex).  A writer thread must be registered too:
 *    retired memory goes through rcu_postpone(), which liburcu requires to
 *    be called from a registered thread.  A writer may iterate with a
 *    cursor while it modifies the classifier (even removing the current
 *    rule), inside a read-side section; it must not call rcu_synchronize()
 *    there.
 *  - A cls_rule's match and priority are immutable once initialized; its
 *    classifier-private members belong to the classifier.
 */
#ifndef FLOWSWITCH_CLASSIFIER_CLASSIFIER_H
#define FLOWSWITCH_CLASSIFIER_CLASSIFIER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/ptrmap.h"
#include "lib/rcu-slist.h"
#include "lib/util.h"

/* ---- Versions ----------------------------------------------------------- */

#define CLS_MIN_VERSION 0
/* Any version that can be published; the version of CLS_FOR_EACH. */
#define CLS_MAX_VERSION (UINT64_MAX - 1)
/* remove_version of a rule that has not been removed. */
#define CLS_NOT_REMOVED_VERSION UINT64_MAX

/* Makes 'version' current in the caller's version counter '*current'
 * (release store: pairs with cls_version_get()).  Call it after every
 * change of the batch staged in 'version' is done. */
static inline void
cls_version_publish(uint64_t *current, uint64_t version)
{
    atomic_store_release(current, version);
}

/* The current version in '*current', for a lookup (acquire load). */
static inline uint64_t
cls_version_get(const uint64_t *current)
{
    return atomic_load_acquire(current);
}

/* ---- Rules -------------------------------------------------------------- */

struct cls_entry;

/* A rule, embedded in the caller's rule.  'priority' and the match are
 * public and read-only; the other members are private to the classifier. */
struct cls_rule {
    struct rcu_slist_node node; /* In its entry's rules, by priority. */
    uint64_t add_version;       /* Visible from this version... */
    uint64_t remove_version;    /* ...up to but excluding this one (atomic). */
    uint64_t seq;               /* Insertion order, for ties. */
    int priority;               /* Higher wins. */
    struct miniflow *flow;      /* The match value, pre-masked. */
    struct minimask *mask;      /* The match mask. */
    struct cls_entry *entry;    /* Writer: NULL when not in a classifier. */
};

/* Initializes 'rule' to match 'match' (masked again, to be safe) with
 * 'priority'.  Allocates; undo with cls_rule_destroy(). */
void cls_rule_init(struct cls_rule *, const struct match *, int priority);
/* 'dst' matches what 'src' matches, with the same priority. */
void cls_rule_clone(struct cls_rule *dst, const struct cls_rule *src);
/* Frees the match.  'rule' must not be in a classifier. */
void cls_rule_destroy(struct cls_rule *);

/* Same match and same priority. */
bool cls_rule_equal(const struct cls_rule *, const struct cls_rule *);
/* The rule's match, expanded. */
void cls_rule_get_match(const struct cls_rule *, struct match *);
static inline const struct miniflow *
cls_rule_get_flow(const struct cls_rule *rule)
{
    return rule->flow;
}
static inline const struct minimask *
cls_rule_get_mask(const struct cls_rule *rule)
{
    return rule->mask;
}
bool cls_rule_is_catchall(const struct cls_rule *);
/* True if 'flow' matches 'rule' (ignores versions). */
bool cls_rule_matches_flow(const struct cls_rule *, const struct flow *);
/* OpenFlow non-strict semantics: true if 'rule' is at least as specific as
 * 'target' and agrees with it on every bit 'target' matches. */
bool cls_rule_is_loose_match(const struct cls_rule *rule,
                             const struct cls_rule *target);
/* True if 'rule' is visible in 'version'.  Reader-safe. */
static inline bool
cls_rule_visible_in_version(const struct cls_rule *rule, uint64_t version)
{
    return rule->add_version <= version
           && version < atomic_load_relaxed(&rule->remove_version);
}
/* True if 'rule' is in a classifier (linked, visible or not).  Writer. */
static inline bool
cls_rule_is_linked(const struct cls_rule *rule)
{
    return rule->entry != NULL;
}

/* ---- Classifier --------------------------------------------------------- */

struct ptrmap;
struct cls_pvec;
struct cls_subtable;
struct cls_trie;

#define CLS_N_TRIES 4 /* nw_src, nw_dst, ipv6_src, ipv6_dst. */

struct classifier {
    struct cls_pvec *pvec; /* RCU: subtables by max priority. */
    size_t n_rules;        /* Atomic. */
    /* Private to the writer. */
    struct cls_subtable **subtables; /* Every subtable, unordered. */
    size_t n_subtables, allocated_subtables;
    struct ptrmap *by_mask; /* RCU: subtables by mask hash. */
    struct cls_trie *tries; /* CLS_N_TRIES prefix tries. */
    uint64_t next_seq;      /* For cls_rule's 'seq'. */
};

void classifier_init(struct classifier *);
/* Frees the classifier's own memory (after a grace period).  Rules still in
 * 'cls' are unlinked but not destroyed: that is the caller's job.  Readers
 * already inside a lookup may finish; no new one may start, and 'cls'
 * itself may be freed only after a grace period. */
void classifier_destroy(struct classifier *);

/* Inserts 'rule', visible from 'version'.  If 'cls' holds a rule with the
 * same match and priority that is not removed, it becomes invisible from
 * 'version' (as if by classifier_remove()) and is returned, still linked;
 * otherwise returns NULL. */
struct cls_rule *classifier_replace(struct classifier *, struct cls_rule *,
                                    uint64_t version);
/* classifier_replace() for a rule that displaces nothing (asserted). */
void classifier_insert(struct classifier *, struct cls_rule *,
                       uint64_t version);
/* Makes the linked 'rule' invisible from 'version' on (phase 1 of removal;
 * see above).  A rule already removed keeps the earlier version. */
void classifier_remove(struct classifier *, struct cls_rule *,
                       uint64_t version);
/* Unlinks 'rule' (phase 2): no reader may still need it (see above).
 * Destroy and free 'rule' only after a grace period. */
void classifier_remove_now(struct classifier *, struct cls_rule *);

/* The highest-priority rule visible in 'version' that matches 'flow' (among
 * equal priorities, the most recently inserted), or NULL.  If 'wc' is
 * nonnull, ORs into it the bits the answer depended on. */
const struct cls_rule *classifier_lookup(const struct classifier *,
                                         uint64_t version, const struct flow *,
                                         struct flow_wildcards *wc);

/* The rule visible in 'version' with exactly the match and priority of
 * 'target', or NULL. */
const struct cls_rule *
classifier_find_rule_exactly(const struct classifier *,
                             const struct cls_rule *target, uint64_t version);
const struct cls_rule *classifier_find_match_exactly(const struct classifier *,
                                                     const struct match *,
                                                     int priority,
                                                     uint64_t version);
/* True if a rule visible in 'version' with the priority of 'target' matches
 * some packet that 'target' matches (OpenFlow's CHECK_OVERLAP). */
bool classifier_rule_overlaps(const struct classifier *,
                              const struct cls_rule *target, uint64_t version);

/* Rules linked in 'cls', visible or not. */
size_t classifier_count(const struct classifier *);
bool classifier_is_empty(const struct classifier *);
size_t classifier_n_subtables(const struct classifier *);

/* ---- Iteration ---------------------------------------------------------- */

/* Walks the rules visible in 'version' that loosely match 'target' (every
 * rule if 'target' is NULL).  Private members; use the macros. */
struct cls_cursor {
    const struct classifier *cls;
    const struct cls_rule *target;
    uint64_t version;
    const struct cls_pvec *pvec;
    size_t subtable_idx;
    struct ptrmap_pos entries; /* In the current subtable ('t' NULL: none). */
    const struct cls_rule *rule; /* Next rule to return; NULL at the end. */
};

struct cls_cursor cls_cursor_start(const struct classifier *,
                                   const struct cls_rule *target,
                                   uint64_t version);
void cls_cursor_advance(struct cls_cursor *);

/* Iterates RULE, a pointer to the structure that embeds a struct cls_rule
 * as MEMBER, over every rule of CLS that loosely matches the cls_rule
 * TARGET (all rules if NULL) and is visible in VERSION.  The cursor moves
 * on before the loop body runs, so the body may remove RULE.  Run inside a
 * read-side section.  The order is unspecified. */
#define CLS_FOR_EACH_TARGET(RULE, MEMBER, CLS, TARGET, VERSION)               \
    for (struct cls_cursor cursor__ = cls_cursor_start(CLS, TARGET, VERSION); \
         cursor__.rule                                                        \
         && ((RULE) =                                                         \
                 CONTAINER_OF(cursor__.rule, __typeof__(*(RULE)), MEMBER),    \
            cls_cursor_advance(&cursor__), true);)

/* Every rule that is linked and not removed. */
#define CLS_FOR_EACH(RULE, MEMBER, CLS)                                       \
    CLS_FOR_EACH_TARGET(RULE, MEMBER, CLS, NULL, CLS_MAX_VERSION)

#endif /* classifier/classifier.h */
