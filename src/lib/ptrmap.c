/* lib/ptrmap.c — see ptrmap.h. */
#include "lib/ptrmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/atomic.h"
#include "lib/coverage.h"

COVERAGE_DEFINE(ptrmap_rebuild);

#define PTRMAP_MIN_BUCKETS 4

/* Tables from this size on are mapped, not malloc'd: unmapping gives
 * them back at once, and glibc would otherwise raise its mmap threshold
 * to the size of a big table freed, so that the smaller tables of a
 * shrinking index land on a heap top that malloc_trim() does not trim
 * (a thread's arena). */
#define PTRMAP_MMAP_MIN ((size_t)256 * 1024)

/* The table of every empty map: one free bucket, never written (an
 * insertion replaces it first) and never freed. */
static union {
    struct ptrmap_table t;
    char bytes[sizeof(struct ptrmap_table) + sizeof(struct ptrmap_bucket)];
} ptrmap_empty__ __attribute__((aligned(CACHE_LINE_SIZE)));
#define PTRMAP_EMPTY (&ptrmap_empty__.t)

static size_t
ptrmap_table_size(uint32_t n_buckets)
{
    return sizeof(struct ptrmap_table)
           + (size_t)n_buckets * sizeof(struct ptrmap_bucket);
}

static struct ptrmap_table *
ptrmap_table_alloc(uint32_t n_buckets)
{
    size_t size = ptrmap_table_size(n_buckets);
    struct ptrmap_table *t;

    if (size >= PTRMAP_MMAP_MIN) {
        t = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED) {
            fatal("ptrmap: out of memory for %u buckets", n_buckets);
        }
    } else {
        t = aligned_alloc(CACHE_LINE_SIZE, size);
        if (!t) {
            fatal("ptrmap: out of memory for %u buckets", n_buckets);
        }
        memset(t, 0, size);
    }
    t->mask = n_buckets - 1;
    return t;
}

static void
ptrmap_table_free(void *t_)
{
    struct ptrmap_table *t = t_;
    size_t size;

    if (t == PTRMAP_EMPTY) {
        return;
    }
    size = ptrmap_table_size(t->mask + 1);
    if (size >= PTRMAP_MMAP_MIN) {
        munmap(t, size);
    } else {
        free(t);
    }
}

/* Buckets for 'n' entries at a load of at most 1/2. */
static uint32_t
ptrmap_buckets_for(size_t n)
{
    uint32_t b = PTRMAP_MIN_BUCKETS;

    while ((uint64_t)b * PTRMAP_SLOTS < 2 * (uint64_t)n) {
        b *= 2;
    }
    return b;
}

void
ptrmap_init(struct ptrmap *map)
{
    ptrmap_init_rcu(map, NULL, NULL);
}

void
ptrmap_init_rcu(struct ptrmap *map, ptrmap_postpone_fn *postpone, void *aux)
{
    map->table = PTRMAP_EMPTY;
    map->mask = 0;
    map->n = 0;
    map->postpone = postpone;
    map->postpone_aux = aux;
}

void
ptrmap_destroy(struct ptrmap *map)
{
    ptrmap_table_free(map->table);
    map->table = PTRMAP_EMPTY;
    map->mask = 0;
    map->n = 0;
}

/* Puts 'ptr' in the first free slot of its probe path in 't' ('hash'
 * nonzero), counting it in the overflow of every full bucket it passes.
 * Pointer first, then hash: a reader that sees the hash sees the pointer
 * (and what was written into its entry before). */
static void
ptrmap_put(struct ptrmap_table *t, uint32_t hash, void *ptr)
{
    for (uint32_t b = hash & t->mask;; b = (b + 1) & t->mask) {
        struct ptrmap_bucket *bucket = &t->buckets[b];

        for (unsigned int i = 0; i < PTRMAP_SLOTS; i++) {
            if (!bucket->hashes[i]) {
                atomic_store_release(&bucket->ptrs[i], ptr);
                atomic_store_release(&bucket->hashes[i], hash);
                return;
            }
        }
        atomic_store_release(&bucket->overflow, bucket->overflow + 1);
    }
}

/* Moves every entry to a new table of 'n_buckets', publishes it and
 * retires the old one.  Reads only the table. */
static void
ptrmap_rebuild(struct ptrmap *map, uint32_t n_buckets)
{
    struct ptrmap_table *old = map->table;
    struct ptrmap_table *t = ptrmap_table_alloc(n_buckets);

    COVERAGE_INC(ptrmap_rebuild);
    for (uint32_t b = 0; b <= old->mask; b++) {
        const struct ptrmap_bucket *bucket = &old->buckets[b];

        for (unsigned int i = 0; i < PTRMAP_SLOTS; i++) {
            if (bucket->hashes[i]) {
                ptrmap_put(t, bucket->hashes[i], bucket->ptrs[i]);
            }
        }
    }
    atomic_store_release(&map->table, t);
    atomic_store_relaxed(&map->mask, t->mask);
    if (map->postpone && old != PTRMAP_EMPTY) {
        map->postpone(ptrmap_table_free, old, map->postpone_aux);
    } else {
        ptrmap_table_free(old);
    }
}

void
ptrmap_insert(struct ptrmap *map, uint32_t hash, void *ptr)
{
    uint64_t capacity = (uint64_t)(map->mask + 1) * PTRMAP_SLOTS;

    if (map->table == PTRMAP_EMPTY
        || 4 * ((uint64_t)map->n + 1) > 3 * capacity) {
        ptrmap_rebuild(map, ptrmap_buckets_for(map->n + 1));
    }
    ptrmap_put(map->table, ptrmap_hash(hash), ptr);
    atomic_store_relaxed(&map->n, map->n + 1);
}

/* The slot of 'ptr' under 'hash' (a ptrmap_hash()): its bucket's index in
 * '*bp' and its index in the bucket, or -1. */
static int
ptrmap_find_slot(const struct ptrmap_table *t, uint32_t hash, const void *ptr,
                 uint32_t *bp)
{
    uint32_t b = hash & t->mask;

    for (uint32_t visited = 0; visited <= t->mask; visited++) {
        const struct ptrmap_bucket *bucket = &t->buckets[b];

        for (unsigned int i = 0; i < PTRMAP_SLOTS; i++) {
            if (bucket->hashes[i] == hash && bucket->ptrs[i] == ptr) {
                *bp = b;
                return (int)i;
            }
        }
        if (!bucket->overflow) {
            break;
        }
        b = (b + 1) & t->mask;
    }
    return -1;
}

bool
ptrmap_remove(struct ptrmap *map, uint32_t hash, const void *ptr)
{
    struct ptrmap_table *t = map->table;
    uint32_t home, b;
    int i;

    hash = ptrmap_hash(hash);
    i = ptrmap_find_slot(t, hash, ptr, &b);
    if (i < 0) {
        return false;
    }
    /* Readers that saw the hash find no pointer, or the old one. */
    atomic_store_release(&t->buckets[b].ptrs[i], NULL);
    atomic_store_release(&t->buckets[b].hashes[i], 0);
    /* It no longer goes past the buckets it went past. */
    home = hash & t->mask;
    for (uint32_t p = home; p != b; p = (p + 1) & t->mask) {
        atomic_store_release(&t->buckets[p].overflow,
                             t->buckets[p].overflow - 1);
    }
    atomic_store_relaxed(&map->n, map->n - 1);
    return true;
}

bool
ptrmap_replace(struct ptrmap *map, uint32_t hash, const void *old, void *new)
{
    struct ptrmap_table *t = map->table;
    uint32_t b;
    int i = ptrmap_find_slot(t, ptrmap_hash(hash), old, &b);

    if (i < 0) {
        return false;
    }
    atomic_store_release(&t->buckets[b].ptrs[i], new);
    return true;
}

/* The buckets after the home bucket (whose overflow is not 0). */
bool
ptrmap_contains_hash__(const struct ptrmap_table *t, uint32_t hash)
{
    uint32_t b = hash & t->mask;

    for (uint32_t visited = 0; visited < t->mask; visited++) {
        const struct ptrmap_bucket *bucket;

        b = (b + 1) & t->mask;
        bucket = &t->buckets[b];
        if (ptrmap_bucket_match(bucket, hash)) {
            return true;
        }
        if (!ptrmap_bucket_overflowed(bucket)) {
            break;
        }
    }
    return false;
}

bool
ptrmap_shrink(struct ptrmap *map)
{
    uint64_t capacity = (uint64_t)(map->mask + 1) * PTRMAP_SLOTS;

    if (map->mask + 1 > PTRMAP_MIN_BUCKETS
        && (uint64_t)map->n * 16 < capacity) {
        ptrmap_rebuild(map, ptrmap_buckets_for(map->n));
        return true;
    }
    return false;
}

void *
ptrmap_next(struct ptrmap_pos *pos)
{
    const struct ptrmap_table *t = pos->t;

    while (pos->bucket <= t->mask) {
        const struct ptrmap_bucket *bucket = &t->buckets[pos->bucket];

        while (pos->slot < PTRMAP_SLOTS) {
            void *ptr = ptrmap_bucket_ptr(bucket, pos->slot++);

            if (ptr) {
                return ptr;
            }
        }
        pos->bucket++;
        pos->slot = 0;
    }
    return NULL;
}
