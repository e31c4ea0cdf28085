/* classifier/cls-tables.c — RCU hash multiset and hash map of the
 * classifier, one open-addressing table under both (see cls-tables.h). */
#include "classifier/cls-tables.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/rcu.h"
#include "lib/util.h"

COVERAGE_DEFINE(cls_table_rehash);

#define CLS_TABLE_MIN_SLOTS 8

char cls_emap_tombstone__;

/* ---- The table both are ------------------------------------------------
 *
 * A cls_index_table and a cls_emap_table are the same table: a mask, then
 * a power-of-2 array of slots probed linearly from hash & mask, that the
 * writer replaces whole (grown, shrunk or purged of tombstones) and
 * publishes for readers under RCU.  Only the slot differs: an index slot
 * packs a hash and a count in one word, a map slot pairs a hash with a
 * pointer.  Both are all zeros until first used (then never again), and a
 * kind says how big a slot is and whether it holds a live element (not a
 * tombstone) under which hash: the sizing policy, the rebuild and the
 * search for a free slot below are written once for both.  The probes
 * that match a hash stay with each table (a multiset counts, a map
 * compares pointers), the readers' specialized and inline. */

struct cls_table_kind {
    size_t slot_size;
    bool (*slot_live)(const void *slot, uint32_t *hash);
};

/* Both layouts: the mask first, the slots at the same offset. */
#define CLS_TABLE_SLOTS_OFS offsetof(struct cls_index_table, slots)
BUILD_ASSERT(offsetof(struct cls_index_table, mask) == 0);
BUILD_ASSERT(offsetof(struct cls_emap_table, mask) == 0);
BUILD_ASSERT(offsetof(struct cls_emap_table, slots) == CLS_TABLE_SLOTS_OFS);

static uint32_t
cls_table_mask(const void *table)
{
    return *(const uint32_t *)table;
}

static void *
cls_table_slot(void *table, const struct cls_table_kind *kind, uint32_t i)
{
    return (char *)table + CLS_TABLE_SLOTS_OFS + (size_t)i * kind->slot_size;
}

/* Smallest power-of-2 number of slots that keeps 'n' elements at most half
 * full. */
static uint32_t
cls_table_n_slots(uint32_t n)
{
    uint32_t n_slots = CLS_TABLE_MIN_SLOTS;

    while (n_slots < 2 * (uint64_t)n) {
        n_slots *= 2;
    }
    return n_slots;
}

/* True if 'table' (NULL while empty) must be rebuilt before one more slot
 * of it is used: that would leave less than a quarter never used. */
static bool
cls_table_too_full(const void *table, uint32_t n_used)
{
    return !table
           || (uint64_t)(n_used + 1) * 4
                  > ((uint64_t)cls_table_mask(table) + 1) * 3;
}

/* True if 'table', holding 'n' elements, should shrink. */
static bool
cls_table_too_empty(const void *table, uint32_t n)
{
    uint64_t n_slots = (uint64_t)cls_table_mask(table) + 1;

    return n_slots > CLS_TABLE_MIN_SLOTS && (uint64_t)n * 8 < n_slots;
}

/* Index of the first never-used slot on 'hash''s probe sequence. */
static uint32_t
cls_table_find_free(void *table, const struct cls_table_kind *kind,
                    uint32_t hash)
{
    uint32_t mask = cls_table_mask(table);
    uint32_t i = hash & mask;

    while (!is_all_zeros(cls_table_slot(table, kind, i), kind->slot_size)) {
        i = (i + 1) & mask;
    }
    return i;
}

/* A new, unpublished table of 'n_slots' slots holding the live slots of
 * 'old' (which may be NULL).  The caller publishes it and retires 'old'. */
static void *
cls_table_rebuild(void *old, uint32_t n_slots,
                  const struct cls_table_kind *kind)
{
    void *t = xzalloc(CLS_TABLE_SLOTS_OFS + (size_t)n_slots * kind->slot_size);

    COVERAGE_INC(cls_table_rehash);
    *(uint32_t *)t = n_slots - 1;
    for (uint32_t i = 0; old && i <= cls_table_mask(old); i++) {
        const void *slot = cls_table_slot(old, kind, i);
        uint32_t hash;

        if (kind->slot_live(slot, &hash)) {
            memcpy(cls_table_slot(t, kind, cls_table_find_free(t, kind, hash)),
                   slot, kind->slot_size);
        }
    }
    return t;
}

/* ---- Hash multiset ------------------------------------------------------ */

static uint64_t
cls_index_slot(uint32_t hash, uint64_t count)
{
    return CLS_INDEX_USED | count << CLS_INDEX_COUNT_SHIFT | hash;
}

static uint64_t
cls_index_slot_count(uint64_t slot)
{
    return (slot >> CLS_INDEX_COUNT_SHIFT) & CLS_INDEX_COUNT_MASK;
}

static bool
cls_index_slot_live(const void *slot_, uint32_t *hash)
{
    uint64_t slot = *(const uint64_t *)slot_;

    *hash = (uint32_t)slot;
    return cls_index_slot_count(slot) != 0;
}

static const struct cls_table_kind cls_index_kind = {
    .slot_size = sizeof(uint64_t),
    .slot_live = cls_index_slot_live,
};

void
cls_index_init(struct cls_index *index)
{
    index->table = NULL;
    index->n = 0;
    index->n_used = 0;
}

void
cls_index_destroy(struct cls_index *index)
{
    rcu_postpone_free(index->table);
    atomic_store_release(&index->table, NULL);
    index->n = index->n_used = 0;
}

/* Replaces the table by one sized for the live hashes, holding them. */
static void
cls_index_rehash(struct cls_index *index)
{
    struct cls_index_table *old = index->table;

    atomic_store_release(
        &index->table,
        cls_table_rebuild(old, cls_table_n_slots(index->n), &cls_index_kind));
    index->n_used = index->n;
    rcu_postpone_free(old);
}

void
cls_index_add(struct cls_index *index, uint32_t hash)
{
    struct cls_index_table *t = index->table;
    int64_t tombstone = -1;

    if (t) {
        for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
            uint64_t slot = t->slots[i];
            uint64_t count = cls_index_slot_count(slot);

            if (!slot) {
                break;
            } else if (count && (uint32_t)slot == hash) {
                if (count == CLS_INDEX_COUNT_MASK) {
                    fatal("classifier: hash index count overflow");
                }
                atomic_store_relaxed(&t->slots[i],
                                     cls_index_slot(hash, count + 1));
                return;
            } else if (!count && tombstone < 0) {
                tombstone = i;
            }
        }
    }

    index->n++;
    if (tombstone >= 0) {
        atomic_store_relaxed(&t->slots[tombstone], cls_index_slot(hash, 1));
        return;
    }
    if (cls_table_too_full(t, index->n_used)) {
        cls_index_rehash(index);
        t = index->table;
    }
    atomic_store_relaxed(
        &t->slots[cls_table_find_free(t, &cls_index_kind, hash)],
        cls_index_slot(hash, 1));
    index->n_used++;
}

void
cls_index_remove(struct cls_index *index, uint32_t hash)
{
    struct cls_index_table *t = index->table;

    for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        uint64_t slot = t->slots[i];
        uint64_t count = cls_index_slot_count(slot);

        if (!slot) {
            fatal("classifier: removing absent hash %#x from an index", hash);
        } else if (count && (uint32_t)slot == hash) {
            atomic_store_relaxed(&t->slots[i],
                                 cls_index_slot(hash, count - 1));
            if (count == 1) {
                index->n--;
                if (cls_table_too_empty(t, index->n)) {
                    cls_index_rehash(index);
                }
            }
            return;
        }
    }
}

/* ---- Hash -> pointer map ------------------------------------------------ */

void
cls_emap_init(struct cls_emap *map)
{
    map->table = NULL;
    map->n = 0;
    map->n_used = 0;
}

void
cls_emap_destroy(struct cls_emap *map)
{
    rcu_postpone_free(map->table);
    atomic_store_release(&map->table, NULL);
    map->n = map->n_used = 0;
}

static bool
cls_emap_slot_live(const void *slot_, uint32_t *hash)
{
    const struct cls_emap_slot *slot = slot_;

    *hash = slot->hash;
    return slot->ptr && slot->ptr != CLS_EMAP_TOMBSTONE;
}

static const struct cls_table_kind cls_emap_kind = {
    .slot_size = sizeof(struct cls_emap_slot),
    .slot_live = cls_emap_slot_live,
};

/* Replaces the table by one sized for the live elements, holding them. */
static void
cls_emap_rehash(struct cls_emap *map)
{
    struct cls_emap_table *old = map->table;

    atomic_store_release(
        &map->table,
        cls_table_rebuild(old, cls_table_n_slots(map->n), &cls_emap_kind));
    map->n_used = map->n;
    rcu_postpone_free(old);
}

void
cls_emap_insert(struct cls_emap *map, uint32_t hash, void *ptr)
{
    struct cls_emap_table *t = map->table;
    struct cls_emap_slot *slot = NULL;

    map->n++;
    if (t) {
        /* Reuse the first tombstone of the probe sequence, if any. */
        for (uint32_t i = hash & t->mask; t->slots[i].ptr;
             i = (i + 1) & t->mask) {
            if (t->slots[i].ptr == CLS_EMAP_TOMBSTONE) {
                slot = &t->slots[i];
                break;
            }
        }
    }
    if (!slot) {
        if (cls_table_too_full(t, map->n_used)) {
            cls_emap_rehash(map);
            t = map->table;
        }
        slot = &t->slots[cls_table_find_free(t, &cls_emap_kind, hash)];
        map->n_used++;
    }
    atomic_store_relaxed(&slot->hash, hash);
    atomic_store_release(&slot->ptr, ptr);
}

void
cls_emap_remove(struct cls_emap *map, uint32_t hash, void *ptr)
{
    struct cls_emap_table *t = map->table;

    for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        if (!t->slots[i].ptr) {
            fatal("classifier: removing absent element from a map");
        } else if (t->slots[i].ptr == ptr) {
            atomic_store_release(&t->slots[i].ptr, CLS_EMAP_TOMBSTONE);
            break;
        }
    }
    map->n--;
    if (cls_table_too_empty(t, map->n)) {
        cls_emap_rehash(map);
    }
}

void *
cls_emap_find(const struct cls_emap *map, uint32_t hash,
              bool (*eq)(const void *element, const void *aux),
              const void *aux)
{
    const struct cls_emap_table *t = atomic_load_acquire(&map->table);

    if (!t) {
        return NULL;
    }
    for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        void *ptr = atomic_load_acquire(&t->slots[i].ptr);

        if (!ptr) {
            return NULL;
        }
        if (ptr != CLS_EMAP_TOMBSTONE
            && atomic_load_relaxed(&t->slots[i].hash) == hash
            && eq(ptr, aux)) {
            return ptr;
        }
    }
}
