/*
 * classifier/cls-tables.h — private to src/classifier: the two RCU hash
 * tables a subtable is made of.
 *
 *  - struct cls_index: a multiset of 32-bit hashes (hash -> count).  A staged
 *    subtable keeps one per lookup stage, holding the hash of every entry's
 *    key masked up to that stage; a lookup that does not find the flow's
 *    hash there knows that no entry can match, without looking further.
 *
 *  - struct cls_emap: a map from a 32-bit hash to pointers (several pointers
 *    may share a hash).  The subtable's entries live in one, and the
 *    classifier finds its subtables by mask in another.
 *
 * Both are open-addressing tables with linear probing and tombstones, so
 * that a reader never sees an element move: an insertion fills a free slot
 * with one atomic store, a removal turns a slot into a tombstone with one
 * atomic store.  A table always keeps at least a quarter of its slots
 * never-used, so a probe always ends.  Growing, shrinking and purging
 * tombstones build a new slot array, publish it with a release store and
 * retire the old one after a grace period: a reader that still walks the
 * old array sees the table as it was when it started, which is all a
 * versioned reader needs (see classifier.h).  The two are one table with
 * two kinds of slot: cls-tables.c writes the sizing, the rebuild and the
 * free-slot search once for both.
 *
 * Why here and not in lib/.  The table is built for lock-free readers and
 * retires its arrays through the classifier's grace periods
 * (rcu_postpone_free()); lib/ptrmap.h is the same idea for tables whose
 * every user holds the owner's lock, and lib/hmap.h the chained one.
 *
 * Thread safety: any number of readers, inside an RCU read-side section,
 * may call cls_index_contains() and walk a cls_emap (cls_emap_find(), or
 * the slots directly through atomic_load_acquire()) concurrently with one
 * writer; the other functions are the writer's and must be serialized by
 * the caller.
 */
#ifndef FLOWSWITCH_CLASSIFIER_CLS_TABLES_H
#define FLOWSWITCH_CLASSIFIER_CLS_TABLES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/atomic.h"

/* ---- Hash multiset ------------------------------------------------------ */

/* A slot is 0 (never used) or CLS_INDEX_USED | count << 32 | hash, with
 * count 0 for a tombstone. */
#define CLS_INDEX_USED (UINT64_C(1) << 63)
#define CLS_INDEX_COUNT_SHIFT 32
#define CLS_INDEX_COUNT_MASK UINT64_C(0x7fffffff)

struct cls_index_table {
    uint32_t mask; /* Number of slots - 1 (a power of 2 minus 1). */
    uint64_t slots[];
};

struct cls_index {
    struct cls_index_table *table; /* RCU; NULL while empty. */
    uint32_t n;                    /* Distinct live hashes.  Writer. */
    uint32_t n_used;               /* Live + tombstone slots.  Writer. */
};

void cls_index_init(struct cls_index *);
/* Retires the table after a grace period. */
void cls_index_destroy(struct cls_index *);
void cls_index_add(struct cls_index *, uint32_t hash);
/* 'hash' must have been added (more times than removed). */
void cls_index_remove(struct cls_index *, uint32_t hash);

/* True if 'hash' was added more times than removed.  Reader-safe. */
static inline bool
cls_index_contains(const struct cls_index *index, uint32_t hash)
{
    const struct cls_index_table *t = atomic_load_acquire(&index->table);

    if (!t) {
        return false;
    }
    for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        uint64_t slot = atomic_load_relaxed(&t->slots[i]);

        if (!slot) {
            return false;
        }
        if ((uint32_t)slot == hash
            && (slot >> CLS_INDEX_COUNT_SHIFT) & CLS_INDEX_COUNT_MASK) {
            return true;
        }
    }
}

/* ---- Hash -> pointer map ------------------------------------------------ */

/* The 'ptr' of a removed element's slot. */
extern char cls_emap_tombstone__;
#define CLS_EMAP_TOMBSTONE ((void *)&cls_emap_tombstone__)

/* 'ptr' is NULL (never used), CLS_EMAP_TOMBSTONE, or an element.  A reader
 * loads 'ptr' with atomic_load_acquire() first and then 'hash' with
 * atomic_load_relaxed(): the writer stores 'hash' before publishing 'ptr'. */
struct cls_emap_slot {
    uint32_t hash;
    void *ptr;
};

struct cls_emap_table {
    uint32_t mask; /* Number of slots - 1. */
    struct cls_emap_slot slots[];
};

struct cls_emap {
    struct cls_emap_table *table; /* RCU; NULL while empty. */
    uint32_t n;                   /* Live elements.  Writer. */
    uint32_t n_used;              /* Live + tombstone slots.  Writer. */
};

void cls_emap_init(struct cls_emap *);
/* Retires the table (not the elements) after a grace period. */
void cls_emap_destroy(struct cls_emap *);
void cls_emap_insert(struct cls_emap *, uint32_t hash, void *ptr);
/* 'ptr' must be in the map with 'hash'. */
void cls_emap_remove(struct cls_emap *, uint32_t hash, void *ptr);
/* The first element with 'hash' for which eq(element, aux) is true, or NULL.
 * Reader-safe. */
void *cls_emap_find(const struct cls_emap *, uint32_t hash,
                    bool (*eq)(const void *element, const void *aux),
                    const void *aux);

static inline uint32_t
cls_emap_count(const struct cls_emap *map)
{
    return map->n;
}

#endif /* classifier/cls-tables.h */
