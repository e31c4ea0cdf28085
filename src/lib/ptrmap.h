/*
 * lib/ptrmap.h — a map from 32-bit hashes to pointers, probed a cache line
 * at a time.
 *
 * What it is for.  Indexes whose entries are found by a hash and
 * confirmed by comparing the entry itself: the datapath's flows by ufid,
 * the ukeys by ufid.  A chained table keeps the link in the entry, so a
 * probe for an entry that is not there — every flow setup's probe, for a
 * flow that is new — still reads each entry on its chain, a cache miss
 * apiece.  Here the table holds each entry's hash next to its pointer: a
 * probe reads one line of the table, and an entry only when its 32-bit
 * hash matches.
 *
 * Layout (the datapath classifier's tables use the same, dpcls.h).  Open
 * addressing over cache-line buckets of PTRMAP_SLOTS slots, each a hash
 * (0: free; hashes are forced nonzero) and a pointer, probed bucket by
 * bucket from the hash's home bucket.  Insertion takes the first free
 * slot on the probe path and counts itself in the 'overflow' of every
 * full bucket it passes; a probe stops at the first bucket whose overflow
 * is 0, which is nearly always the home bucket.  Removal frees the slot
 * and takes the entry's count back out of the buckets it had passed.
 * Entries move only when the table is rebuilt: when an insertion would
 * load it over 3/4 (it is rebuilt at a load of at most 1/2), and in
 * ptrmap_shrink(), which the owner calls after removals (a table at
 * least 16 times too big is rebuilt).  So removing entries while
 * iterating (PTRMAP_FOR_EACH) is safe; inserting is not.
 *
 * Cost.  About 13 bytes per slot, 17 to 26 per entry between rebuilds —
 * what a chained table with its link in the entry costs at a load of 1/2
 * to 1 — and a rebuild reads only the table, never the entries.
 *
 * Thread safety: none.  The owner serializes every call (a mutex), but
 * ptrmap_prefetch_unlocked().
 */
#ifndef FLOWSWITCH_LIB_PTRMAP_H
#define FLOWSWITCH_LIB_PTRMAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/atomic.h"
#include "lib/util.h"

#define PTRMAP_SLOTS 5

struct ptrmap_bucket {
    uint32_t hashes[PTRMAP_SLOTS]; /* 0: free. */
    uint32_t overflow; /* Entries homed at or before it, placed past it. */
    void *ptrs[PTRMAP_SLOTS];
} __attribute__((aligned(CACHE_LINE_SIZE)));
BUILD_ASSERT(sizeof(struct ptrmap_bucket) == CACHE_LINE_SIZE);

struct ptrmap {
    struct ptrmap_bucket *buckets;
    uint32_t mask; /* Buckets - 1. */
    size_t n;      /* Entries. */
};

/* A position in a probe or an iteration. */
struct ptrmap_pos {
    uint32_t bucket;
    uint32_t slot;    /* Iteration: next slot to look at.  Probe: bit k
                       * set for each slot k of 'bucket' left to return. */
    uint32_t visited; /* Probe: buckets looked at (a bound). */
};

void ptrmap_init(struct ptrmap *);
void ptrmap_destroy(struct ptrmap *);

/* Adds 'ptr' under 'hash' (the same pointer must not be in the map). */
void ptrmap_insert(struct ptrmap *, uint32_t hash, void *ptr);
/* Removes 'ptr', filed under 'hash'.  Returns false if it is not there. */
bool ptrmap_remove(struct ptrmap *, uint32_t hash, const void *ptr);
/* Rebuilds a table at least 16 times too big for its entries.  Returns
 * true if it did. */
bool ptrmap_shrink(struct ptrmap *);

static inline size_t
ptrmap_count(const struct ptrmap *map)
{
    return map->n;
}

/* Candidates for 'hash': the pointers filed under it (and, rarely, under
 * another hash with the same 32 bits), first to last.  The caller
 * confirms each by comparing its entry.  Inline: the common probe (the
 * home bucket, no overflow) is a few instructions. */
static inline uint32_t
ptrmap_hash__(uint32_t hash)
{
    return hash ? hash : 1;
}

/* Bit k set if slot k of 'bucket' holds 'hash'.  Branch-free. */
static inline uint32_t
ptrmap_bucket_match__(const struct ptrmap_bucket *bucket, uint32_t hash)
{
    const uint32_t *h = bucket->hashes;

    BUILD_ASSERT(PTRMAP_SLOTS == 5);
    return (uint32_t)(h[0] == hash) | (uint32_t)(h[1] == hash) << 1
           | (uint32_t)(h[2] == hash) << 2 | (uint32_t)(h[3] == hash) << 3
           | (uint32_t)(h[4] == hash) << 4;
}

static inline void *
ptrmap_next_with_hash(const struct ptrmap *map, uint32_t hash,
                      struct ptrmap_pos *pos)
{
    hash = ptrmap_hash__(hash);
    while (!pos->slot) {
        const struct ptrmap_bucket *bucket = &map->buckets[pos->bucket];

        if (!bucket->overflow || pos->visited >= map->mask) {
            return NULL;
        }
        pos->bucket = (pos->bucket + 1) & map->mask;
        pos->visited++;
        pos->slot = ptrmap_bucket_match__(&map->buckets[pos->bucket], hash);
    }

    unsigned int i = rightmost_1bit_idx(pos->slot);

    pos->slot &= pos->slot - 1;
    return map->buckets[pos->bucket].ptrs[i];
}

static inline void *
ptrmap_first_with_hash(const struct ptrmap *map, uint32_t hash,
                       struct ptrmap_pos *pos)
{
    pos->bucket = ptrmap_hash__(hash) & map->mask;
    pos->visited = 0;
    pos->slot =
        ptrmap_bucket_match__(&map->buckets[pos->bucket], ptrmap_hash__(hash));
    return ptrmap_next_with_hash(map, hash, pos);
}

#define PTRMAP_FOR_EACH_WITH_HASH(PTR, POS, HASH, MAP)                        \
    for ((PTR) = ptrmap_first_with_hash(MAP, HASH, POS); (PTR);               \
         (PTR) = ptrmap_next_with_hash(MAP, HASH, POS))

/* Every pointer, in table order ('pos' zeroed first). */
void *ptrmap_next(const struct ptrmap *, struct ptrmap_pos *);
#define PTRMAP_FOR_EACH(PTR, POS, MAP)                                        \
    for (*(POS) = (struct ptrmap_pos){0, 0, 0};                               \
         ((PTR) = ptrmap_next(MAP, POS));)

/* Starts loading the home bucket of 'hash' (before a batch of probes). */
static inline void
ptrmap_prefetch(const struct ptrmap *map, uint32_t hash)
{
    __builtin_prefetch(&map->buckets[ptrmap_hash__(hash) & map->mask]);
}

/* The same from a thread that does not hold the owner's lock: a hint
 * that may load a bucket of a table being replaced (the table pointer and
 * mask are read and written atomically, relaxed; a prefetch never
 * faults). */
static inline void
ptrmap_prefetch_unlocked(const struct ptrmap *map, uint32_t hash)
{
    uint32_t mask = atomic_load_relaxed(&map->mask);
    struct ptrmap_bucket *buckets = atomic_load_relaxed(&map->buckets);

    __builtin_prefetch(&buckets[ptrmap_hash__(hash) & mask]);
}

#endif /* lib/ptrmap.h */
