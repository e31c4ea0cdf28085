/*
 * lib/ptrmap.h — a map from 32-bit hashes to pointers, probed a cache line
 * at a time, readable without a lock under RCU.  The one hash table of the
 * switch's lookup structures: the datapath's flows by ufid, the ukeys, the
 * megaflow classifier's subtables (dpcls), the OpenFlow classifier's
 * entries, masks and stage indexes, and the datapath's ports.
 *
 * What it is for.  Indexes whose entries are found by a hash and
 * confirmed by comparing the entry itself.  A chained table keeps the link
 * in the entry, so a probe for an entry that is not there — every flow
 * setup's probe, for a flow that is new — still reads each entry on its
 * chain, a cache miss apiece.  Here the table holds each entry's hash next
 * to its pointer: a probe reads one line of the table, and an entry only
 * when its 32-bit hash matches.  The map never dereferences what it holds,
 * so a "pointer" may be any nonnull value of pointer size (the
 * classifier's stage indexes file a count under each hash).
 *
 * Layout.  Open addressing over cache-line buckets of PTRMAP_SLOTS slots,
 * each a hash (0: free; hashes are forced nonzero, ptrmap_hash()) and a
 * pointer, probed bucket by bucket from the hash's home bucket.  Insertion
 * takes the first free slot on the probe path and counts itself in the
 * 'overflow' of every full bucket it passes; a probe stops at the first
 * bucket whose overflow is 0, which is nearly always the home bucket, even
 * when that bucket is full.  Removal frees the slot and takes the entry's
 * count back out of the buckets it had passed.  Entries move only when
 * the table is rebuilt: when an insertion would load it over 3/4 (it is
 * rebuilt at a load of at most 1/2), and in ptrmap_shrink(), which the
 * owner calls after removals (a table at least 16 times too big is
 * rebuilt).  So removing entries while iterating (PTRMAP_FOR_EACH) is
 * safe; inserting is not.  An empty map shares one static empty table and
 * allocates nothing until its first insertion.
 *
 * Cost.  About 13 bytes per slot, 17 to 26 per entry between rebuilds —
 * what a chained table with its link in the entry costs at a load of 1/2
 * to 1 — and a rebuild reads only the table, never the entries.
 *
 * Thread safety.  One writer at a time: the owner serializes every
 * function that changes the map (a mutex, or a single thread).  Readers:
 *  - A map made with ptrmap_init() has no lock-free readers: the owner's
 *    lock covers lookups too, and a rebuild frees the old table at once.
 *    ptrmap_prefetch_unlocked() is the one exception (a hint that never
 *    dereferences the table).
 *  - A map made with ptrmap_init_rcu() may be read — the probes, the
 *    iterations and the bucket primitives below — without the owner's
 *    lock, inside an RCU read-side section (lib/rcu.h) of the flavour whose
 *    grace period the owner's 'postpone' hook waits for, concurrently with
 *    the writer.  A reader walks one snapshot of the table (ptrmap_pos
 *    holds it): an entry present for the whole walk is seen exactly once
 *    by an iteration and found by a probe; one inserted or removed
 *    meanwhile may or may not be.  A probe may return a pointer filed
 *    under another hash or just removed (a slot read while it is reused),
 *    which the reader's comparison of the entry rejects; a removed entry
 *    stays valid until a grace period after its removal only if its owner
 *    retires it that way.  Slot hashes are read relaxed, pointers with
 *    acquire (the writer stores the pointer, then the hash, both release),
 *    and a rebuilt table is published with a release store and retired
 *    through 'postpone' after the readers that may still walk it are gone.
 */
#ifndef FLOWSWITCH_LIB_PTRMAP_H
#define FLOWSWITCH_LIB_PTRMAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lib/atomic.h"
#include "lib/util.h"

#define PTRMAP_SLOTS 5

struct ptrmap_bucket {
    uint32_t hashes[PTRMAP_SLOTS]; /* 0: free. */
    uint32_t overflow; /* Entries homed at or before it, placed past it. */
    void *ptrs[PTRMAP_SLOTS];
} __attribute__((aligned(CACHE_LINE_SIZE)));
BUILD_ASSERT(sizeof(struct ptrmap_bucket) == CACHE_LINE_SIZE);

/* One cache line of header, then the buckets. */
struct ptrmap_table {
    uint32_t mask; /* Buckets - 1. */
    struct ptrmap_bucket buckets[];
};

/* Calls fn(arg) once no reader can still walk what it frees (after a
 * grace period of the readers' RCU flavour). */
typedef void ptrmap_postpone_fn(void (*fn)(void *), void *arg, void *aux);

struct ptrmap {
    struct ptrmap_table *table;   /* RCU (ptrmap_init_rcu()). */
    uint32_t mask;                /* table->mask, for the unlocked prefetch. */
    size_t n;                     /* Entries.  Atomic, relaxed. */
    ptrmap_postpone_fn *postpone; /* NULL: no lock-free readers. */
    void *postpone_aux;
};

/* A position in a probe or an iteration, over one snapshot of the table. */
struct ptrmap_pos {
    const struct ptrmap_table *t;
    uint32_t bucket;
    uint32_t slot;    /* Iteration: next slot to look at.  Probe: bit k
                       * set for each slot k of 'bucket' left to return. */
    uint32_t visited; /* Probe: buckets looked at (a bound). */
};

/* A map read only under its owner's lock. */
void ptrmap_init(struct ptrmap *);
/* A map read without locks under RCU: tables it replaces go to
 * postpone(free-function, table, aux). */
void ptrmap_init_rcu(struct ptrmap *, ptrmap_postpone_fn *postpone, void *aux);
/* Frees the table at once: no reader may still walk it.  The entries are
 * the owner's. */
void ptrmap_destroy(struct ptrmap *);

/* Adds 'ptr' under 'hash' (the same pointer must not be in the map under
 * the same hash). */
void ptrmap_insert(struct ptrmap *, uint32_t hash, void *ptr);
/* Removes 'ptr', filed under 'hash'.  Returns false if it is not there. */
bool ptrmap_remove(struct ptrmap *, uint32_t hash, const void *ptr);
/* Files 'new' in the slot of 'old' (under 'hash') with one store: a
 * reader sees one or the other.  Returns false if 'old' is not there. */
bool ptrmap_replace(struct ptrmap *, uint32_t hash, const void *old,
                    void *new);
/* Rebuilds a table at least 16 times too big for its entries.  Returns
 * true if it did. */
bool ptrmap_shrink(struct ptrmap *);

/* Entries.  Reader-safe. */
static inline size_t
ptrmap_count(const struct ptrmap *map)
{
    return atomic_load_relaxed(&map->n);
}

/* ---- Probes ------------------------------------------------------------- */

/* The hash a slot holds for 'hash': never 0, which marks a free slot. */
static inline uint32_t
ptrmap_hash(uint32_t hash)
{
    return hash ? hash : 1;
}

/* The table readers walk now.  Reader-safe. */
static inline const struct ptrmap_table *
ptrmap_table(const struct ptrmap *map)
{
    return atomic_load_acquire(&map->table);
}

/* The home bucket of 'hash' (a ptrmap_hash()) in 't'. */
static inline const struct ptrmap_bucket *
ptrmap_home(const struct ptrmap_table *t, uint32_t hash)
{
    return &t->buckets[hash & t->mask];
}

/* Bit k set if slot k of 'bucket' holds 'hash' (a ptrmap_hash()).
 * Branch-free.  On x86-64 the first four hashes are compared with one
 * aligned SSE2 load: each 32-bit lane of an aligned vector load is read
 * whole, as a relaxed atomic load would read it (the slots are
 * independent; a reader needs no order between them).  ThreadSanitizer
 * does not know that, so its builds (and other machines) load each hash
 * as a relaxed atomic. */
#if defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
static inline uint32_t
ptrmap_bucket_match(const struct ptrmap_bucket *bucket, uint32_t hash)
{
    __m128i four =
        _mm_load_si128((const __m128i *)(const void *)bucket->hashes);
    __m128i eq = _mm_cmpeq_epi32(four, _mm_set1_epi32((int)hash));

    BUILD_ASSERT(PTRMAP_SLOTS == 5);
    return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(eq))
           | (uint32_t)(atomic_load_relaxed(&bucket->hashes[4]) == hash) << 4;
}
#else
static inline uint32_t
ptrmap_bucket_match(const struct ptrmap_bucket *bucket, uint32_t hash)
{
    const uint32_t *h = bucket->hashes;

    BUILD_ASSERT(PTRMAP_SLOTS == 5);
    return (uint32_t)(atomic_load_relaxed(&h[0]) == hash)
           | (uint32_t)(atomic_load_relaxed(&h[1]) == hash) << 1
           | (uint32_t)(atomic_load_relaxed(&h[2]) == hash) << 2
           | (uint32_t)(atomic_load_relaxed(&h[3]) == hash) << 3
           | (uint32_t)(atomic_load_relaxed(&h[4]) == hash) << 4;
}
#endif

/* The pointer in slot 'i' of 'bucket' (NULL if it was freed meanwhile). */
static inline void *
ptrmap_bucket_ptr(const struct ptrmap_bucket *bucket, unsigned int i)
{
    return atomic_load_acquire(&bucket->ptrs[i]);
}

/* True if a probe must go on past 'bucket'. */
static inline bool
ptrmap_bucket_overflowed(const struct ptrmap_bucket *bucket)
{
    return atomic_load_acquire(&bucket->overflow) != 0;
}

/* Candidates for 'hash': the pointers filed under it (and, rarely, under
 * another hash that ptrmap_hash() makes the same), first to last.  The
 * caller confirms each by comparing its entry.  Inline: the common probe
 * (the home bucket, no overflow) is a few instructions. */
static inline void *
ptrmap_next_with_hash(uint32_t hash, struct ptrmap_pos *pos)
{
    const struct ptrmap_table *t = pos->t;

    for (;;) {
        while (pos->slot) {
            unsigned int i = rightmost_1bit_idx(pos->slot);
            void *ptr;

            pos->slot &= pos->slot - 1;
            ptr = ptrmap_bucket_ptr(&t->buckets[pos->bucket], i);
            if (ptr) {
                return ptr;
            }
        }
        if (!ptrmap_bucket_overflowed(&t->buckets[pos->bucket])
            || pos->visited >= t->mask) {
            return NULL;
        }
        pos->bucket = (pos->bucket + 1) & t->mask;
        pos->visited++;
        pos->slot = ptrmap_bucket_match(&t->buckets[pos->bucket], hash);
    }
}

/* True if some pointer is filed under 'hash' (or under another hash that
 * ptrmap_hash() makes the same).  For maps whose hash is the whole key
 * (a hash multiset).  A reader racing with the removal of the last
 * pointer under 'hash' may still be told true; a hash filed for the whole
 * call is always found. */
bool ptrmap_contains_hash__(const struct ptrmap_table *, uint32_t hash);

static inline bool
ptrmap_contains_hash(const struct ptrmap *map, uint32_t hash)
{
    const struct ptrmap_table *t = ptrmap_table(map);
    const struct ptrmap_bucket *bucket;

    hash = ptrmap_hash(hash);
    bucket = ptrmap_home(t, hash);
    if (ptrmap_bucket_match(bucket, hash)) {
        return true;
    }
    return UNLIKELY(ptrmap_bucket_overflowed(bucket))
           && ptrmap_contains_hash__(t, hash);
}

/* The first candidate for 'hash' in table 't' (a ptrmap_table()). */
static inline void *
ptrmap_table_first_with_hash(const struct ptrmap_table *t, uint32_t hash,
                             struct ptrmap_pos *pos)
{
    hash = ptrmap_hash(hash);
    pos->t = t;
    pos->bucket = hash & t->mask;
    pos->visited = 0;
    pos->slot = ptrmap_bucket_match(&t->buckets[pos->bucket], hash);
    return ptrmap_next_with_hash(hash, pos);
}

static inline void *
ptrmap_first_with_hash(const struct ptrmap *map, uint32_t hash,
                       struct ptrmap_pos *pos)
{
    return ptrmap_table_first_with_hash(ptrmap_table(map), hash, pos);
}

#define PTRMAP_FOR_EACH_WITH_HASH(PTR, POS, HASH, MAP)                        \
    for ((PTR) = ptrmap_first_with_hash(MAP, HASH, POS); (PTR);               \
         (PTR) = ptrmap_next_with_hash(ptrmap_hash(HASH), POS))

/* ---- Iteration ---------------------------------------------------------- */

/* Starts an iteration over the table readers walk now. */
static inline void
ptrmap_pos_init(const struct ptrmap *map, struct ptrmap_pos *pos)
{
    *pos = (struct ptrmap_pos){ptrmap_table(map), 0, 0, 0};
}

/* Every pointer, in table order (from ptrmap_pos_init()). */
void *ptrmap_next(struct ptrmap_pos *);
#define PTRMAP_FOR_EACH(PTR, POS, MAP)                                        \
    for (ptrmap_pos_init(MAP, POS); ((PTR) = ptrmap_next(POS));)

/* ---- Prefetching -------------------------------------------------------- */

/* Starts loading the home bucket of 'hash' (before a batch of probes). */
static inline void
ptrmap_prefetch(const struct ptrmap *map, uint32_t hash)
{
    const struct ptrmap_table *t = ptrmap_table(map);

    __builtin_prefetch(ptrmap_home(t, ptrmap_hash(hash)));
}

/* The same from a thread that does not hold the owner's lock of a map
 * without RCU readers: a hint that may point into a table being replaced
 * or freed (the table pointer and 'mask' are read relaxed and only added,
 * never dereferenced; a prefetch never faults). */
static inline void
ptrmap_prefetch_unlocked(const struct ptrmap *map, uint32_t hash)
{
    uint32_t mask = atomic_load_relaxed(&map->mask);
    const struct ptrmap_table *t = atomic_load_relaxed(&map->table);

    __builtin_prefetch(&t->buckets[ptrmap_hash(hash) & mask]);
}

#endif /* lib/ptrmap.h */
