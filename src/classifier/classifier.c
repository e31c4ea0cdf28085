/* classifier/classifier.c — tuple space search classifier with staged
 * lookup, prefix tries and versioned rules (see classifier.h). */
#include "classifier/classifier.h"

#include <arpa/inet.h>
#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/cls-trie.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/hash.h"
#include "lib/ptrmap.h"
#include "lib/rcu.h"

COVERAGE_DEFINE(cls_subtable_create);
COVERAGE_DEFINE(cls_subtable_destroy);
COVERAGE_DEFINE(cls_pvec_publish);

/* ---- Private structures ------------------------------------------------- */

/* One entry per distinct masked match in a subtable. */
struct cls_entry {
    struct rcu_slist_node *rules;  /* By priority, highest first. */
    struct cls_subtable *subtable; /* Writer. */
    uint32_t hash;                 /* flow_hash_in_minimask() of the key. */
    uint64_t key[];                /* Masked words, one per mask word. */
};

/* The rule of list node 'node' (not NULL). */
static inline struct cls_rule *
cls_rule_of(const struct rcu_slist_node *node)
{
    return CONTAINER_OF(node, struct cls_rule, node);
}

/* The highest-priority rule of 'entry', or NULL.  Reader-safe. */
static inline struct cls_rule *
cls_entry_first(const struct cls_entry *entry)
{
    struct rcu_slist_node *node = rcu_slist_first(&entry->rules);

    return node ? cls_rule_of(node) : NULL;
}

/* The rule after 'rule' in its entry, or NULL.  Reader-safe. */
static inline struct cls_rule *
cls_rule_next(const struct cls_rule *rule)
{
    struct rcu_slist_node *node = rcu_slist_next(&rule->node);

    return node ? cls_rule_of(node) : NULL;
}

/* All the rules whose mask is 'mask'.  Everything but the writer-only
 * members is immutable once the subtable is published. */
struct cls_subtable {
    struct minimask *mask;
    uint32_t mask_hash;
    unsigned int n_words; /* Words in 'mask'. */

    /* Staged lookup: the nonempty stages of 'mask', in lookup order. */
    unsigned int n_stages;
    uint64_t stage_maps[FLOW_N_STAGES];       /* Words of each stage. */
    uint8_t stage_tries[FLOW_N_STAGES];       /* Tries on its fields. */
    struct ptrmap indices[FLOW_N_STAGES - 1]; /* Keys up to stage i. */

    /* Prefix length of 'mask' on each trie field; 0 if the field is not
     * matched, or not on a CIDR prefix. */
    uint8_t trie_plen[CLS_N_TRIES];

    /* Ports trie (see classifier.h): the mask on the L4 ports as one
     * 32-bit value (cls_ports_of()), the length of the prefix that ends at
     * its last 1-bit (0 if the subtable does not match the ports), and the
     * entries' masked ports as prefixes of that length. */
    uint32_t ports_mask;
    unsigned int ports_plen;
    struct cls_trie ports_trie;

    struct ptrmap entries; /* RCU: entries by key hash. */

    /* Writer. */
    int max_priority;       /* Highest priority of a linked rule. */
    unsigned int max_count; /* Linked rules with that priority. */
    size_t n_rules;         /* Linked rules. */
};

/* The published vector of subtables, by decreasing 'priority'.  'priority'
 * is the subtable's max priority; it may be updated in place (atomically)
 * when the order stays right, otherwise a new vector is published. */
struct cls_pvec_entry {
    int priority;
    const struct cls_subtable *subtable;
};

struct cls_pvec {
    size_t n;
    struct cls_pvec_entry e[];
};

/* ---- Trie fields -------------------------------------------------------- */

struct cls_trie_field {
    size_t ofs;          /* Byte offset in struct flow. */
    unsigned int n_bits; /* 32 or 128. */
};

static const struct cls_trie_field cls_trie_fields[CLS_N_TRIES] = {
    {offsetof(struct flow, nw_src), 32},
    {offsetof(struct flow, nw_dst), 32},
    {offsetof(struct flow, ipv6_src), 128},
    {offsetof(struct flow, ipv6_dst), 128},
};

/* The field 'f' of 'flow' (a flow or a mask) as a trie key. */
static void
cls_prefix_from_flow(struct cls_prefix *p, const struct flow *flow,
                     const struct cls_trie_field *f)
{
    const uint8_t *bytes = (const uint8_t *)flow + f->ofs;

    for (size_t i = 0; i < f->n_bits / 32; i++) {
        be32 word;

        memcpy(&word, bytes + 4 * i, sizeof word);
        p->w[i] = ntohl(word);
    }
}

/* Length of the CIDR prefix 'mask' of 'n_bits' bits, or 0 if 'mask' is zero
 * or not a prefix. */
static unsigned int
cls_prefix_mask_len(const struct cls_prefix *mask, unsigned int n_bits)
{
    unsigned int n_words = n_bits / 32;
    unsigned int plen = 0;
    unsigned int i = 0;

    while (i < n_words && mask->w[i] == UINT32_MAX) {
        plen += 32;
        i++;
    }
    if (i < n_words) {
        uint32_t inverse = ~mask->w[i];

        if (inverse & (inverse + 1)) {
            return 0; /* Not of the form 1...10...0. */
        }
        plen += (unsigned int)__builtin_clz(inverse);
        for (i++; i < n_words; i++) {
            if (mask->w[i]) {
                return 0;
            }
        }
    }
    return plen;
}

/* Un-wildcards the first 'n_bits' bits of field 'f' in 'wc'. */
static void
cls_wc_set_prefix(struct flow_wildcards *wc, const struct cls_trie_field *f,
                  unsigned int n_bits)
{
    uint8_t *bytes = (uint8_t *)&wc->masks + f->ofs;
    unsigned int i;

    for (i = 0; i < n_bits / 8; i++) {
        bytes[i] = 0xff;
    }
    if (n_bits % 8) {
        bytes[i] |= (uint8_t)(0xff << (8 - n_bits % 8));
    }
}

/* ---- The ports trie ----------------------------------------------------- */

/* The L4 ports share one flow word, tp_src first: the trie sees them as one
 * 32-bit value, tp_src in the high half, so that a rule that matches only
 * tp_dst has a prefix that starts with 16 wildcarded (zero) bits. */
#define CLS_PORTS_WORD FLOW_U64_OFS(tp_src)
BUILD_ASSERT(offsetof(struct flow, tp_src) % sizeof(uint64_t) == 0);
BUILD_ASSERT(offsetof(struct flow, tp_dst)
             == offsetof(struct flow, tp_src) + sizeof(be16));

/* The ports in 'word', the flow word CLS_PORTS_WORD of a flow or a mask. */
static uint32_t
cls_ports_of(uint64_t word)
{
    be16 ports[2];

    memcpy(ports, &word, sizeof ports);
    return (uint32_t)ntohs(ports[0]) << 16 | ntohs(ports[1]);
}

/* The flow word CLS_PORTS_WORD that holds 'ports' and nothing else. */
static uint64_t
cls_ports_word(uint32_t ports)
{
    be16 p[2] = {htons((uint16_t)(ports >> 16)), htons((uint16_t)ports)};
    uint64_t word = 0;

    memcpy(&word, p, sizeof p);
    return word;
}

/* The ports of 'word' (see cls_ports_of()) masked by 'subtable''s mask, as
 * a key of its ports trie. */
static struct cls_prefix
cls_subtable_ports(const struct cls_subtable *subtable, uint64_t word)
{
    struct cls_prefix prefix = {{cls_ports_of(word) & subtable->ports_mask}};

    return prefix;
}

/* ---- Rules -------------------------------------------------------------- */

static struct miniflow *
cls_miniflow_clone(const struct miniflow *src)
{
    size_t size = sizeof *src + miniflow_n_values(src) * sizeof(uint64_t);
    struct miniflow *dst = xmalloc(size);

    memcpy(dst, src, size);
    return dst;
}

void
cls_rule_init(struct cls_rule *rule, const struct match *match, int priority)
{
    struct flow masked;

    flow_apply_mask(&masked, &match->flow, &match->wc);
    rule->node.next = NULL;
    rule->add_version = CLS_MIN_VERSION;
    rule->remove_version = CLS_NOT_REMOVED_VERSION;
    rule->seq = 0;
    rule->priority = priority;
    rule->flow = miniflow_create(&masked);
    rule->mask = minimask_create(&match->wc);
    rule->entry = NULL;
}

void
cls_rule_clone(struct cls_rule *dst, const struct cls_rule *src)
{
    dst->node.next = NULL;
    dst->add_version = CLS_MIN_VERSION;
    dst->remove_version = CLS_NOT_REMOVED_VERSION;
    dst->seq = 0;
    dst->priority = src->priority;
    dst->flow = cls_miniflow_clone(src->flow);
    dst->mask = (struct minimask *)cls_miniflow_clone(&src->mask->masks);
    dst->entry = NULL;
}

void
cls_rule_destroy(struct cls_rule *rule)
{
    assert(!rule->entry);
    free(rule->flow);
    free(rule->mask);
    rule->flow = NULL;
    rule->mask = NULL;
}

bool
cls_rule_equal(const struct cls_rule *a, const struct cls_rule *b)
{
    return a->priority == b->priority && miniflow_equal(a->flow, b->flow)
           && miniflow_equal(&a->mask->masks, &b->mask->masks);
}

void
cls_rule_get_match(const struct cls_rule *rule, struct match *match)
{
    miniflow_expand(rule->flow, &match->flow);
    minimask_expand(rule->mask, &match->wc);
}

bool
cls_rule_is_catchall(const struct cls_rule *rule)
{
    return !rule->mask->masks.map;
}

bool
cls_rule_matches_flow(const struct cls_rule *rule, const struct flow *flow)
{
    return miniflow_equal_flow_in_minimask(rule->flow, flow, rule->mask);
}

/* True if 'mask' has every bit of 'target' (is at least as specific). */
static bool
cls_minimask_covers(const struct minimask *mask, const struct minimask *target)
{
    const uint64_t *t = target->masks.values;
    unsigned int idx;

    MAP_FOR_EACH_INDEX (idx, target->masks.map) {
        if (*t++ & ~miniflow_get(&mask->masks, idx)) {
            return false;
        }
    }
    return true;
}

bool
cls_rule_is_loose_match(const struct cls_rule *rule,
                        const struct cls_rule *target)
{
    const uint64_t *t = target->mask->masks.values;
    unsigned int idx;

    MAP_FOR_EACH_INDEX (idx, target->mask->masks.map) {
        uint64_t tm = *t++;

        if (tm & ~miniflow_get(&rule->mask->masks, idx)) {
            return false;
        }
        if ((miniflow_get(rule->flow, idx) ^ miniflow_get(target->flow, idx))
            & tm) {
            return false;
        }
    }
    return true;
}

/* True if some packet matches both 'a' and 'b'. */
static bool
cls_rule_overlaps(const struct cls_rule *a, const struct cls_rule *b)
{
    uint64_t map = a->mask->masks.map & b->mask->masks.map;
    unsigned int idx;

    MAP_FOR_EACH_INDEX (idx, map) {
        uint64_t common = miniflow_get(&a->mask->masks, idx)
                          & miniflow_get(&b->mask->masks, idx);

        if ((miniflow_get(a->flow, idx) ^ miniflow_get(b->flow, idx))
            & common) {
            return false;
        }
    }
    return true;
}

/* ---- Subtables ---------------------------------------------------------- */

static uint32_t
cls_minimask_hash(const struct minimask *mask)
{
    const struct miniflow *mf = &mask->masks;

    return hash_words64(mf->values, miniflow_n_values(mf),
                        hash_finish(hash_add64(0, mf->map), 8));
}

static struct cls_subtable *
cls_find_subtable(const struct classifier *cls, const struct minimask *mask)
{
    struct cls_subtable *subtable;
    struct ptrmap_pos pos;

    PTRMAP_FOR_EACH_WITH_HASH (subtable, &pos, cls_minimask_hash(mask),
                               cls->by_mask) {
        if (miniflow_equal(&subtable->mask->masks, &mask->masks)) {
            return subtable;
        }
    }
    return NULL;
}

/* ---- Stage indexes -----------------------------------------------------
 *
 * A subtable's index for stage s is a multiset of hashes: the hash of each
 * entry's key up to stage s, with how many entries share it.  It is a
 * ptrmap that files the count itself, as a pointer-sized integer the map
 * never dereferences, under the hash; a reader only asks whether a hash is
 * filed (a count is never 0).  A slot read while it is reused may make a
 * reader believe a hash is there when it is not, which only costs the
 * lookup a look further; a hash that stays filed is always found. */

/* A count as the pointer-sized value filed in the map. */
static void *
cls_index_count_value(uintptr_t count)
{
    return (void *)count; /* NOLINT(performance-no-int-to-ptr): never
                           * dereferenced. */
}

static inline bool
cls_index_contains(const struct ptrmap *index, uint32_t hash)
{
    return ptrmap_contains_hash(index, hash);
}

static void
cls_index_add(struct ptrmap *index, uint32_t hash)
{
    struct ptrmap_pos pos;
    void *count = ptrmap_first_with_hash(index, hash, &pos);

    if (count) {
        ptrmap_replace(index, hash, count,
                       cls_index_count_value((uintptr_t)count + 1));
    } else {
        ptrmap_insert(index, hash, cls_index_count_value(1));
    }
}

static void
cls_index_remove(struct ptrmap *index, uint32_t hash)
{
    struct ptrmap_pos pos;
    void *count = ptrmap_first_with_hash(index, hash, &pos);

    if (!count) {
        fatal("classifier: removing absent hash %#x from an index", hash);
    } else if ((uintptr_t)count > 1) {
        ptrmap_replace(index, hash, count,
                       cls_index_count_value((uintptr_t)count - 1));
    } else {
        ptrmap_remove(index, hash, count);
        ptrmap_shrink(index);
    }
}

/* The key of 'flow' (a pre-masked miniflow of the same mask or a finer one)
 * in 'subtable': its words masked by the subtable's mask.  Fills 'stage
 * hashes' with the hash of the key up to each stage but the last and returns
 * the hash of the whole key. */
static uint32_t
cls_subtable_key(const struct cls_subtable *subtable,
                 const struct miniflow *flow, uint64_t key[],
                 uint32_t stage_hashes[])
{
    const uint64_t *m = subtable->mask->masks.values;
    unsigned int k = 0;
    uint32_t hash = 0;

    for (unsigned int s = 0; s < subtable->n_stages; s++) {
        unsigned int idx;

        MAP_FOR_EACH_INDEX (idx, subtable->stage_maps[s]) {
            key[k] = miniflow_get(flow, idx) & m[k];
            hash = hash_add64(hash, key[k]);
            k++;
        }
        if (s + 1 < subtable->n_stages) {
            stage_hashes[s] = hash_finish(hash, k * 8);
        }
    }
    return hash_finish(hash, k * 8);
}

/* The entry of 'subtable' whose key is the first 'n_words' words of 'key'
 * (all of the subtable's words, or the lookup found none), hashed to
 * 'hash', or NULL.  Reader-safe. */
static inline __attribute__((always_inline)) struct cls_entry *
cls_subtable_find_key(const struct cls_subtable *subtable, uint32_t hash,
                      const uint64_t key[], unsigned int n_words)
{
    struct cls_entry *entry;
    struct ptrmap_pos pos;

    PTRMAP_FOR_EACH_WITH_HASH (entry, &pos, hash, &subtable->entries) {
        unsigned int k;

        for (k = 0; k < n_words && entry->key[k] == key[k]; k++) {
            continue;
        }
        if (k == n_words) {
            return entry;
        }
    }
    return NULL;
}

static struct cls_entry *
cls_subtable_find_entry(const struct cls_subtable *subtable,
                        const uint64_t key[], uint32_t hash)
{
    return cls_subtable_find_key(subtable, hash, key, subtable->n_words);
}

static struct cls_subtable *
cls_subtable_create(struct classifier *cls, const struct minimask *mask,
                    uint32_t mask_hash)
{
    struct cls_subtable *subtable = xzalloc(sizeof *subtable);
    struct flow_wildcards wc;

    COVERAGE_INC(cls_subtable_create);
    subtable->mask = (struct minimask *)cls_miniflow_clone(&mask->masks);
    subtable->mask_hash = mask_hash;
    subtable->n_words = miniflow_n_values(&mask->masks);

    for (unsigned int s = 0; s < FLOW_N_STAGES; s++) {
        uint64_t map = mask->masks.map & flow_stage_map(s);

        if (map) {
            subtable->stage_maps[subtable->n_stages++] = map;
        }
    }
    for (unsigned int s = 0; s + 1 < FLOW_N_STAGES; s++) {
        ptrmap_init_rcu(&subtable->indices[s], rcu_postpone_hook, NULL);
    }

    minimask_expand(mask, &wc);
    for (unsigned int t = 0; t < CLS_N_TRIES; t++) {
        const struct cls_trie_field *f = &cls_trie_fields[t];
        uint64_t word = UINT64_C(1) << (f->ofs / sizeof(uint64_t));
        struct cls_prefix prefix;

        cls_prefix_from_flow(&prefix, &wc.masks, f);
        subtable->trie_plen[t] = cls_prefix_mask_len(&prefix, f->n_bits);
        if (!subtable->trie_plen[t]) {
            continue;
        }
        for (unsigned int s = 0; s < subtable->n_stages; s++) {
            if (subtable->stage_maps[s] & word) {
                subtable->stage_tries[s] |= 1u << t;
            }
        }
    }

    subtable->ports_mask = cls_ports_of(flow_u64s(&wc.masks)[CLS_PORTS_WORD]);
    subtable->ports_plen = 0;
    if (subtable->ports_mask) {
        subtable->ports_plen =
            32 - (unsigned int)__builtin_ctz(subtable->ports_mask);
    }
    cls_trie_init(&subtable->ports_trie, 32);

    ptrmap_init_rcu(&subtable->entries, rcu_postpone_hook, NULL);
    subtable->max_priority = INT_MIN;
    subtable->max_count = 0;
    subtable->n_rules = 0;

    cls->subtables =
        xgrow(cls->subtables, &cls->allocated_subtables, cls->n_subtables + 1,
              sizeof(struct cls_subtable *));
    cls->subtables[cls->n_subtables++] = subtable;
    ptrmap_insert(cls->by_mask, mask_hash, subtable);
    return subtable;
}

static void
cls_subtable_free(void *subtable_)
{
    struct cls_subtable *subtable = subtable_;

    for (unsigned int s = 0; s + 1 < FLOW_N_STAGES; s++) {
        ptrmap_destroy(&subtable->indices[s]);
    }
    ptrmap_destroy(&subtable->entries);
    free(subtable->mask);
    free(subtable);
}

/* Retires 'subtable' and its tables after a grace period.  It must already
 * be out of the published vector and of 'by_mask'. */
static void
cls_subtable_retire(struct cls_subtable *subtable)
{
    COVERAGE_INC(cls_subtable_destroy);
    cls_trie_destroy(&subtable->ports_trie);
    rcu_postpone(cls_subtable_free, subtable);
}

/* Calls cb(entry, aux) for every entry of 'subtable'.  Writer. */
static void
cls_subtable_for_each_entry(struct cls_subtable *subtable,
                            void (*cb)(struct cls_entry *, void *), void *aux)
{
    struct cls_entry *entry;
    struct ptrmap_pos pos;

    PTRMAP_FOR_EACH (entry, &pos, &subtable->entries) {
        cb(entry, aux);
    }
}

static void
cls_entry_max_priority(struct cls_entry *entry, void *subtable_)
{
    struct cls_subtable *subtable = subtable_;

    for (struct cls_rule *rule = cls_entry_first(entry); rule;
         rule = cls_rule_next(rule)) {
        if (rule->priority > subtable->max_priority) {
            subtable->max_priority = rule->priority;
            subtable->max_count = 1;
        } else if (rule->priority == subtable->max_priority) {
            subtable->max_count++;
        }
    }
}

/* ---- The published vector ----------------------------------------------- */

static int
cls_pvec_entry_cmp(const void *a_, const void *b_)
{
    const struct cls_pvec_entry *a = a_;
    const struct cls_pvec_entry *b = b_;

    return a->priority < b->priority ? 1 : a->priority > b->priority ? -1 : 0;
}

/* Publishes a new vector of every subtable that holds rules. */
static void
cls_pvec_publish(struct classifier *cls)
{
    struct cls_pvec *old = cls->pvec;
    struct cls_pvec *pvec =
        xmalloc(sizeof *pvec + cls->n_subtables * sizeof pvec->e[0]);

    COVERAGE_INC(cls_pvec_publish);
    pvec->n = 0;
    for (size_t i = 0; i < cls->n_subtables; i++) {
        const struct cls_subtable *subtable = cls->subtables[i];

        if (subtable->n_rules) {
            pvec->e[pvec->n].priority = subtable->max_priority;
            pvec->e[pvec->n].subtable = subtable;
            pvec->n++;
        }
    }
    qsort(pvec->e, pvec->n, sizeof pvec->e[0], cls_pvec_entry_cmp);
    atomic_store_release(&cls->pvec, pvec);
    rcu_postpone_free(old);
}

/* Brings the published priority of 'subtable' up to date: in place if the
 * vector stays sorted, otherwise by publishing a new vector. */
static void
cls_pvec_update(struct classifier *cls, const struct cls_subtable *subtable)
{
    struct cls_pvec *pvec = cls->pvec;
    int priority = subtable->max_priority;

    for (size_t i = 0; pvec && i < pvec->n; i++) {
        if (pvec->e[i].subtable == subtable) {
            if ((i == 0 || pvec->e[i - 1].priority >= priority)
                && (i + 1 == pvec->n || pvec->e[i + 1].priority <= priority)) {
                atomic_store_relaxed(&pvec->e[i].priority, priority);
                return;
            }
            break;
        }
    }
    cls_pvec_publish(cls);
}

/* ---- Classifier --------------------------------------------------------- */

void
classifier_init(struct classifier *cls)
{
    cls->pvec = NULL;
    cls->n_rules = 0;
    cls->subtables = NULL;
    cls->n_subtables = 0;
    cls->allocated_subtables = 0;
    cls->by_mask = xmalloc(sizeof *cls->by_mask);
    ptrmap_init_rcu(cls->by_mask, rcu_postpone_hook, NULL);
    cls->tries = xmalloc(CLS_N_TRIES * sizeof *cls->tries);
    for (unsigned int t = 0; t < CLS_N_TRIES; t++) {
        cls_trie_init(&cls->tries[t], cls_trie_fields[t].n_bits);
    }
    cls->next_seq = 0;
}

static void
cls_entry_unlink_all(struct cls_entry *entry, void *aux)
{
    (void)aux;
    for (struct cls_rule *rule = cls_entry_first(entry); rule;
         rule = cls_rule_next(rule)) {
        rule->entry = NULL;
    }
    rcu_postpone_free(entry);
}

static void
cls_by_mask_free(void *by_mask)
{
    ptrmap_destroy(by_mask);
    free(by_mask);
}

void
classifier_destroy(struct classifier *cls)
{
    struct cls_pvec *pvec = cls->pvec;

    atomic_store_release(&cls->pvec, NULL);
    rcu_postpone_free(pvec);
    for (size_t i = 0; i < cls->n_subtables; i++) {
        struct cls_subtable *subtable = cls->subtables[i];

        cls_subtable_for_each_entry(subtable, cls_entry_unlink_all, NULL);
        cls_subtable_retire(subtable);
    }
    free(cls->subtables);
    cls->subtables = NULL;
    cls->n_subtables = cls->allocated_subtables = 0;
    /* 'tries' and 'by_mask' keep pointing to memory that stays valid for
     * the readers still in flight, until the grace period ends. */
    for (unsigned int t = 0; t < CLS_N_TRIES; t++) {
        cls_trie_destroy(&cls->tries[t]);
    }
    rcu_postpone_free(cls->tries);
    rcu_postpone(cls_by_mask_free, cls->by_mask);
    atomic_store_relaxed(&cls->n_rules, 0);
}

/* Adds ('add') or removes the trie prefixes of 'flow', a key of
 * 'subtable', in the classifier's tries and the subtable's ports trie. */
static void
cls_tries_update(struct classifier *cls, struct cls_subtable *subtable,
                 const struct miniflow *flow, bool add)
{
    struct flow expanded;
    bool expanded_valid = false;

    for (unsigned int t = 0; t < CLS_N_TRIES; t++) {
        unsigned int plen = subtable->trie_plen[t];
        struct cls_prefix prefix;

        if (!plen) {
            continue;
        }
        if (!expanded_valid) {
            miniflow_expand(flow, &expanded);
            expanded_valid = true;
        }
        cls_prefix_from_flow(&prefix, &expanded, &cls_trie_fields[t]);
        if (add) {
            cls_trie_insert(&cls->tries[t], &prefix, plen);
        } else {
            cls_trie_remove(&cls->tries[t], &prefix, plen);
        }
    }

    if (subtable->ports_plen) {
        struct cls_prefix ports =
            cls_subtable_ports(subtable, miniflow_get(flow, CLS_PORTS_WORD));

        if (add) {
            cls_trie_insert(&subtable->ports_trie, &ports,
                            subtable->ports_plen);
        } else {
            cls_trie_remove(&subtable->ports_trie, &ports,
                            subtable->ports_plen);
        }
    }
}

/* Creates and links the entry for 'key' in 'subtable', holding 'rule'. */
static struct cls_entry *
cls_entry_create(struct classifier *cls, struct cls_subtable *subtable,
                 struct cls_rule *rule, const uint64_t key[], uint32_t hash,
                 const uint32_t stage_hashes[])
{
    size_t key_size = subtable->n_words * sizeof(uint64_t);
    struct cls_entry *entry = xmalloc(sizeof *entry + key_size);

    entry->rules = &rule->node;
    entry->subtable = subtable;
    entry->hash = hash;
    memcpy(entry->key, key, key_size);

    /* Indices and tries first, so that the entry is never reachable while
     * they could still prove that it does not exist. */
    for (unsigned int s = 0; s + 1 < subtable->n_stages; s++) {
        cls_index_add(&subtable->indices[s], stage_hashes[s]);
    }
    cls_tries_update(cls, subtable, rule->flow, true);
    ptrmap_insert(&subtable->entries, hash, entry);
    return entry;
}

/* Unlinks the now empty 'entry' and retires it. */
static void
cls_entry_remove(struct classifier *cls, struct cls_entry *entry,
                 const struct cls_rule *last_rule)
{
    struct cls_subtable *subtable = entry->subtable;
    uint32_t stage_hashes[FLOW_N_STAGES];
    uint64_t key[FLOW_U64S];

    ptrmap_remove(&subtable->entries, entry->hash, entry);
    ptrmap_shrink(&subtable->entries);
    cls_subtable_key(subtable, last_rule->flow, key, stage_hashes);
    for (unsigned int s = 0; s + 1 < subtable->n_stages; s++) {
        cls_index_remove(&subtable->indices[s], stage_hashes[s]);
    }
    cls_tries_update(cls, subtable, last_rule->flow, false);
    rcu_postpone_free(entry);
}

struct cls_rule *
classifier_replace(struct classifier *cls, struct cls_rule *rule,
                   uint64_t version)
{
    uint32_t mask_hash = cls_minimask_hash(rule->mask);
    struct cls_subtable *subtable;
    uint32_t stage_hashes[FLOW_N_STAGES];
    uint64_t key[FLOW_U64S] = {0};
    struct cls_rule *displaced = NULL;
    struct cls_entry *entry;
    bool new_subtable = false;
    uint32_t hash;

    assert(!rule->entry);
    assert(version <= CLS_MAX_VERSION);

    subtable = cls_find_subtable(cls, rule->mask);
    if (!subtable) {
        subtable = cls_subtable_create(cls, rule->mask, mask_hash);
        new_subtable = true;
    }

    rule->add_version = version;
    atomic_store_relaxed(&rule->remove_version, CLS_NOT_REMOVED_VERSION);
    rule->seq = ++cls->next_seq;

    hash = cls_subtable_key(subtable, rule->flow, key, stage_hashes);
    entry = cls_subtable_find_entry(subtable, key, hash);
    if (!entry) {
        atomic_store_relaxed(&rule->node.next, NULL);
        entry = cls_entry_create(cls, subtable, rule, key, hash, stage_hashes);
    } else {
        /* Insert before the first rule of lower or equal priority: among
         * equal priorities the newest comes first. */
        struct rcu_slist_node **link = &entry->rules;

        while (*link && cls_rule_of(*link)->priority > rule->priority) {
            link = &(*link)->next;
        }
        for (struct cls_rule *r = *link ? cls_rule_of(*link) : NULL;
             r && r->priority == rule->priority; r = cls_rule_next(r)) {
            if (r->remove_version == CLS_NOT_REMOVED_VERSION) {
                displaced = r;
                atomic_store_relaxed(&r->remove_version, version);
                break;
            }
        }
        rcu_slist_insert(link, &rule->node);
    }
    rule->entry = entry;

    subtable->n_rules++;
    atomic_store_relaxed(&cls->n_rules, cls->n_rules + 1);
    if (subtable->n_rules == 1 || rule->priority > subtable->max_priority) {
        subtable->max_priority = rule->priority;
        subtable->max_count = 1;
        if (new_subtable) {
            cls_pvec_publish(cls);
        } else {
            cls_pvec_update(cls, subtable);
        }
    } else if (rule->priority == subtable->max_priority) {
        subtable->max_count++;
    }
    return displaced;
}

void
classifier_insert(struct classifier *cls, struct cls_rule *rule,
                  uint64_t version)
{
    struct cls_rule *displaced = classifier_replace(cls, rule, version);

    assert(!displaced);
    (void)displaced;
}

void
classifier_remove(struct classifier *cls, struct cls_rule *rule,
                  uint64_t version)
{
    (void)cls;
    assert(rule->entry);
    if (version < rule->remove_version) {
        atomic_store_relaxed(&rule->remove_version, version);
    }
}

static void
cls_subtable_remove(struct classifier *cls, struct cls_subtable *subtable)
{
    for (size_t i = 0; i < cls->n_subtables; i++) {
        if (cls->subtables[i] == subtable) {
            cls->subtables[i] = cls->subtables[--cls->n_subtables];
            break;
        }
    }
    ptrmap_remove(cls->by_mask, subtable->mask_hash, subtable);
    ptrmap_shrink(cls->by_mask);
    cls_pvec_publish(cls);
    cls_subtable_retire(subtable);
}

void
classifier_remove_now(struct classifier *cls, struct cls_rule *rule)
{
    struct cls_entry *entry = rule->entry;
    struct cls_subtable *subtable;
    struct rcu_slist_node **link;

    assert(entry);
    subtable = entry->subtable;
    for (link = &entry->rules; *link != &rule->node; link = &(*link)->next) {
        assert(*link);
    }
    /* A reader standing on 'rule' goes on to the rest of the chain. */
    rcu_slist_remove(link);
    rule->entry = NULL;
    if (!entry->rules) {
        cls_entry_remove(cls, entry, rule);
    }

    atomic_store_relaxed(&cls->n_rules, cls->n_rules - 1);
    if (!--subtable->n_rules) {
        cls_subtable_remove(cls, subtable);
    } else if (rule->priority == subtable->max_priority
               && !--subtable->max_count) {
        subtable->max_priority = INT_MIN;
        cls_subtable_for_each_entry(subtable, cls_entry_max_priority,
                                    subtable);
        cls_pvec_update(cls, subtable);
    }
}

/* ---- Lookup ------------------------------------------------------------- */

/* Per-lookup state of one trie, filled on first use. */
struct cls_trie_ctx {
    bool done;
    unsigned int maskbits; /* Leading address bits the trie examined. */
    struct cls_plens plens;
};

/* ORs the first 'n_words' words of 'mask' into 'wc'. */
static void
cls_wc_fold(struct flow_wildcards *wc, const struct minimask *mask,
            unsigned int n_words)
{
    uint64_t *w = flow_u64s_rw(&wc->masks);
    const uint64_t *m = mask->masks.values;
    unsigned int idx, k = 0;

    MAP_FOR_EACH_INDEX (idx, mask->masks.map) {
        if (k == n_words) {
            break;
        }
        w[idx] |= m[k++];
    }
}

/* True if a trie in 'tries' (a bitmap of trie indexes) proves that no rule
 * of 'subtable' matches 'flow'; then un-wildcards in 'wc' the address bits
 * the proof needs. */
static bool
cls_tries_skip(const struct classifier *cls,
               const struct cls_subtable *subtable, unsigned int tries,
               const struct flow *flow, struct flow_wildcards *wc,
               struct cls_trie_ctx ctx[CLS_N_TRIES])
{
    unsigned int t;

    MAP_FOR_EACH_INDEX (t, tries) {
        const struct cls_trie_field *f = &cls_trie_fields[t];
        struct cls_trie_ctx *c = &ctx[t];
        unsigned int plen = subtable->trie_plen[t];

        if (!c->done) {
            struct cls_prefix address;

            cls_prefix_from_flow(&address, flow, f);
            c->maskbits = cls_trie_lookup(&cls->tries[t], &address, &c->plens);
            c->done = true;
        }
        if (!cls_plens_contains(&c->plens, plen)) {
            /* Whether some rule prefix of length 'plen' matches depends on
             * the first 'plen' bits only; the walk may have needed fewer. */
            cls_wc_set_prefix(wc, f, MIN(c->maskbits, plen));
            return true;
        }
    }
    return false;
}

/* After a miss in the last stage of 'subtable', whose mask on the L4 ports
 * is nonzero: un-wildcards in 'wc' what the miss depends on.  'n_words' is
 * the number of words in the subtable's mask, 'n_before' the number in the
 * stages before the last.  If the ports trie proves that no entry has the
 * flow's masked ports, that proof needs only the leading port bits the
 * trie examined, and the stages before the last (which led to the last
 * stage); otherwise the miss was on another field, or on the combination,
 * and depends on the whole mask. */
static void
cls_ports_unwildcard(const struct cls_subtable *subtable,
                     const struct flow *flow, struct flow_wildcards *wc,
                     unsigned int n_before, unsigned int n_words)
{
    struct cls_prefix ports =
        cls_subtable_ports(subtable, flow_u64s(flow)[CLS_PORTS_WORD]);
    struct cls_plens plens;
    unsigned int maskbits;
    uint32_t needed;

    maskbits = cls_trie_lookup(&subtable->ports_trie, &ports, &plens);
    if (cls_plens_contains(&plens, subtable->ports_plen)) {
        cls_wc_fold(wc, subtable->mask, n_words);
        return;
    }
    maskbits = MIN(maskbits, subtable->ports_plen);
    needed = maskbits ? UINT32_MAX << (32 - maskbits) : 0;
    cls_wc_fold(wc, subtable->mask, n_before);
    flow_u64s_rw(&wc->masks)[CLS_PORTS_WORD] |=
        cls_ports_word(subtable->ports_mask & needed);
}

/* Looks 'flow' up in 'subtable'.  Stage by stage, the flow's key is hashed
 * and looked up in the stage's index; the first miss proves that no entry
 * matches using only the stages examined so far.  The prefix tries are
 * consulted only then (a hit in the index means some entry has the flow's
 * prefix, so a trie could not prove anything), and may prove the miss with
 * fewer bits than the stages. */
static const struct cls_rule *
cls_subtable_lookup(const struct classifier *cls,
                    const struct cls_subtable *subtable, uint64_t version,
                    const struct flow *flow, struct flow_wildcards *wc,
                    struct cls_trie_ctx tries[CLS_N_TRIES])
{
    const uint64_t *f = flow_u64s(flow);
    const uint64_t *m = subtable->mask->masks.values;
    const struct cls_entry *entry;
    uint64_t key[FLOW_U64S];
    unsigned int k = 0;
    unsigned int s = 0;
    uint32_t hash = 0;

    for (; s < subtable->n_stages; s++) {
        unsigned int idx;

        MAP_FOR_EACH_INDEX (idx, subtable->stage_maps[s]) {
            key[k] = f[idx] & m[k];
            hash = hash_add64(hash, key[k]);
            k++;
        }
        if (s + 1 < subtable->n_stages
            && !cls_index_contains(&subtable->indices[s],
                                   hash_finish(hash, k * 8))) {
            goto miss; /* No entry agrees with 'flow' on stages 0..s. */
        }
    }

    entry = cls_subtable_find_key(subtable, hash_finish(hash, k * 8), key, k);
    if (!entry) {
        s = subtable->n_stages ? subtable->n_stages - 1 : 0;
        goto miss;
    }
    if (wc) {
        cls_wc_fold(wc, subtable->mask, k);
    }
    for (const struct cls_rule *rule = cls_entry_first(entry); rule;
         rule = cls_rule_next(rule)) {
        if (cls_rule_visible_in_version(rule, version)) {
            return rule;
        }
    }
    return NULL;

miss:
    /* Without wildcard tracking the miss is all there is to know. */
    if (!wc
        || (subtable->stage_tries[s]
            && cls_tries_skip(cls, subtable, subtable->stage_tries[s], flow,
                              wc, tries))) {
        return NULL;
    }
    if (subtable->ports_plen && s + 1 == subtable->n_stages) {
        /* The ports are in the last stage (L4), and it missed. */
        cls_ports_unwildcard(subtable, flow, wc,
                             k - count_1bits(subtable->stage_maps[s]), k);
    } else {
        cls_wc_fold(wc, subtable->mask, k);
    }
    return NULL;
}

const struct cls_rule *
classifier_lookup(const struct classifier *cls, uint64_t version,
                  const struct flow *flow, struct flow_wildcards *wc)
{
    const struct cls_pvec *pvec = atomic_load_acquire(&cls->pvec);
    struct cls_trie_ctx tries[CLS_N_TRIES];
    const struct cls_rule *best = NULL;

    for (unsigned int t = 0; t < CLS_N_TRIES; t++) {
        tries[t].done = false;
    }
    for (size_t i = 0; pvec && i < pvec->n; i++) {
        const struct cls_pvec_entry *e = &pvec->e[i];
        const struct cls_rule *rule;

        if (best && atomic_load_relaxed(&e->priority) < best->priority) {
            break; /* Neither this subtable nor any later one can win. */
        }
        rule = cls_subtable_lookup(cls, e->subtable, version, flow, wc, tries);
        if (rule
            && (!best || rule->priority > best->priority
                || (rule->priority == best->priority
                    && rule->seq > best->seq))) {
            best = rule;
        }
    }
    rcu_reader_done();
    return best;
}

/* ---- Exact finds and overlaps ------------------------------------------- */

const struct cls_rule *
classifier_find_rule_exactly(const struct classifier *cls,
                             const struct cls_rule *target, uint64_t version)
{
    const struct cls_subtable *subtable;
    const struct cls_rule *found = NULL;

    subtable = cls_find_subtable(cls, target->mask);
    if (subtable) {
        uint32_t stage_hashes[FLOW_N_STAGES];
        uint64_t key[FLOW_U64S] = {0}; /* Only n_words are read. */
        const struct cls_entry *entry;
        uint32_t hash;

        hash = cls_subtable_key(subtable, target->flow, key, stage_hashes);
        entry = cls_subtable_find_entry(subtable, key, hash);
        for (const struct cls_rule *rule = entry ? cls_entry_first(entry)
                                                 : NULL;
             rule && rule->priority >= target->priority;
             rule = cls_rule_next(rule)) {
            if (rule->priority == target->priority
                && cls_rule_visible_in_version(rule, version)) {
                found = rule;
                break;
            }
        }
    }
    rcu_reader_done();
    return found;
}

/* Fills 'buf' with the miniflow of the nonzero words of 'flow' and returns
 * it: a miniflow without allocation, for readers. */
static struct miniflow *
cls_miniflow_in_buf(uint64_t buf[1 + FLOW_U64S], const struct flow *flow)
{
    struct miniflow *mf = (struct miniflow *)(void *)buf;
    const uint64_t *w = flow_u64s(flow);
    unsigned int k = 0;

    mf->map = 0;
    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (w[i]) {
            mf->map |= UINT64_C(1) << i;
            mf->values[k++] = w[i];
        }
    }
    return mf;
}

const struct cls_rule *
classifier_find_match_exactly(const struct classifier *cls,
                              const struct match *match, int priority,
                              uint64_t version)
{
    uint64_t flow_buf[1 + FLOW_U64S], mask_buf[1 + FLOW_U64S];
    struct cls_rule target;
    struct flow masked;

    flow_apply_mask(&masked, &match->flow, &match->wc);
    memset(&target, 0, sizeof target);
    target.priority = priority;
    target.flow = cls_miniflow_in_buf(flow_buf, &masked);
    target.mask =
        (struct minimask *)cls_miniflow_in_buf(mask_buf, &match->wc.masks);
    return classifier_find_rule_exactly(cls, &target, version);
}

bool
classifier_rule_overlaps(const struct classifier *cls,
                         const struct cls_rule *target, uint64_t version)
{
    bool overlaps = false;
    const struct cls_rule *rule;
    struct cls_cursor cursor = cls_cursor_start(cls, NULL, version);

    for (rule = cursor.rule; rule; rule = cursor.rule) {
        cls_cursor_advance(&cursor);
        if (rule->priority == target->priority
            && cls_rule_overlaps(rule, target)) {
            overlaps = true;
            break;
        }
    }
    rcu_reader_done();
    return overlaps;
}

size_t
classifier_count(const struct classifier *cls)
{
    return atomic_load_relaxed(&cls->n_rules);
}

bool
classifier_is_empty(const struct classifier *cls)
{
    return !classifier_count(cls);
}

size_t
classifier_n_subtables(const struct classifier *cls)
{
    const struct cls_pvec *pvec = atomic_load_acquire(&cls->pvec);
    size_t n = pvec ? pvec->n : 0;

    rcu_reader_done();
    return n;
}

/* ---- Iteration ---------------------------------------------------------- */

static bool
cls_cursor_wants(const struct cls_cursor *cursor, const struct cls_rule *rule)
{
    return cls_rule_visible_in_version(rule, cursor->version)
           && (!cursor->target
               || cls_rule_is_loose_match(rule, cursor->target));
}

/* The rule list of the next nonempty entry, or NULL at the end. */
static const struct cls_rule *
cls_cursor_next_list(struct cls_cursor *cursor)
{
    for (;;) {
        const struct cls_entry *entry;

        while (cursor->entries.t && (entry = ptrmap_next(&cursor->entries))) {
            const struct cls_rule *rules = cls_entry_first(entry);

            if (rules) {
                return rules;
            }
        }

        cursor->entries.t = NULL;
        if (!cursor->pvec || cursor->subtable_idx >= cursor->pvec->n) {
            return NULL;
        }
        const struct cls_subtable *subtable =
            cursor->pvec->e[cursor->subtable_idx++].subtable;
        if (!cursor->target
            || cls_minimask_covers(subtable->mask, cursor->target->mask)) {
            ptrmap_pos_init(&subtable->entries, &cursor->entries);
        }
    }
}

void
cls_cursor_advance(struct cls_cursor *cursor)
{
    const struct cls_rule *rule =
        cursor->rule ? cls_rule_next(cursor->rule) : NULL;

    for (;;) {
        for (; rule; rule = cls_rule_next(rule)) {
            if (cls_cursor_wants(cursor, rule)) {
                cursor->rule = rule;
                return;
            }
        }
        rule = cls_cursor_next_list(cursor);
        if (!rule) {
            cursor->rule = NULL;
            rcu_reader_done();
            return;
        }
    }
}

struct cls_cursor
cls_cursor_start(const struct classifier *cls, const struct cls_rule *target,
                 uint64_t version)
{
    struct cls_cursor cursor = {
        .cls = cls,
        .target = target,
        .version = version,
        .pvec = atomic_load_acquire(&cls->pvec),
        .subtable_idx = 0,
        .entries = {NULL, 0, 0, 0},
        .rule = NULL,
    };

    cls_cursor_advance(&cursor);
    return cursor;
}
