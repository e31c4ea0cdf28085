/* classifier/cls-tables.c — RCU hash multiset and hash map of the
 * classifier (see cls-tables.h). */
#include "classifier/cls-tables.h"

#include <stdlib.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/util.h"

COVERAGE_DEFINE(cls_table_rehash);

#define CLS_TABLE_MIN_SLOTS 8

char cls_emap_tombstone__;

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

/* True if one more used slot would leave less than a quarter of the slots
 * never used. */
static bool
cls_table_too_full(uint32_t n_used, uint32_t mask)
{
    return (uint64_t)(n_used + 1) * 4 > (uint64_t)(mask + 1) * 3;
}

/* True if a table of mask + 1 slots holding 'n' elements should shrink. */
static bool
cls_table_too_empty(uint32_t n, uint32_t mask)
{
    return mask + 1 > CLS_TABLE_MIN_SLOTS && (uint64_t)n * 8 < mask + 1;
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
    cls_postpone_free(index->table);
    atomic_store_release(&index->table, NULL);
    index->n = index->n_used = 0;
}

/* Index of the first never-used slot on 'hash''s probe sequence. */
static uint32_t
cls_index_find_empty(const struct cls_index_table *t, uint32_t hash)
{
    uint32_t i = hash & t->mask;

    while (t->slots[i]) {
        i = (i + 1) & t->mask;
    }
    return i;
}

/* Replaces the table by one of 'n_slots' slots holding the live hashes. */
static void
cls_index_rehash(struct cls_index *index, uint32_t n_slots)
{
    struct cls_index_table *old = index->table;
    struct cls_index_table *t =
        xzalloc(sizeof *t + n_slots * sizeof t->slots[0]);

    COVERAGE_INC(cls_table_rehash);
    t->mask = n_slots - 1;
    if (old) {
        for (uint32_t i = 0; i <= old->mask; i++) {
            uint64_t slot = old->slots[i];

            if (cls_index_slot_count(slot)) {
                t->slots[cls_index_find_empty(t, (uint32_t)slot)] = slot;
            }
        }
    }
    index->n_used = index->n;
    atomic_store_release(&index->table, t);
    cls_postpone_free(old);
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
    if (!t || cls_table_too_full(index->n_used, t->mask)) {
        cls_index_rehash(index, cls_table_n_slots(index->n));
        t = index->table;
    }
    atomic_store_relaxed(&t->slots[cls_index_find_empty(t, hash)],
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
                if (cls_table_too_empty(index->n, t->mask)) {
                    cls_index_rehash(index, cls_table_n_slots(index->n));
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
    cls_postpone_free(map->table);
    atomic_store_release(&map->table, NULL);
    map->n = map->n_used = 0;
}

static uint32_t
cls_emap_find_empty(const struct cls_emap_table *t, uint32_t hash)
{
    uint32_t i = hash & t->mask;

    while (t->slots[i].ptr) {
        i = (i + 1) & t->mask;
    }
    return i;
}

static void
cls_emap_rehash(struct cls_emap *map, uint32_t n_slots)
{
    struct cls_emap_table *old = map->table;
    struct cls_emap_table *t =
        xzalloc(sizeof *t + n_slots * sizeof t->slots[0]);

    COVERAGE_INC(cls_table_rehash);
    t->mask = n_slots - 1;
    if (old) {
        for (uint32_t i = 0; i <= old->mask; i++) {
            const struct cls_emap_slot *s = &old->slots[i];

            if (s->ptr && s->ptr != CLS_EMAP_TOMBSTONE) {
                t->slots[cls_emap_find_empty(t, s->hash)] = *s;
            }
        }
    }
    map->n_used = map->n;
    atomic_store_release(&map->table, t);
    cls_postpone_free(old);
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
        if (!t || cls_table_too_full(map->n_used, t->mask)) {
            cls_emap_rehash(map, cls_table_n_slots(map->n));
            t = map->table;
        }
        slot = &t->slots[cls_emap_find_empty(t, hash)];
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
    if (cls_table_too_empty(map->n, t->mask)) {
        cls_emap_rehash(map, cls_table_n_slots(map->n));
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
