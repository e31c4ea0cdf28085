/* lib/ptrmap.c — see ptrmap.h. */
#include "lib/ptrmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/atomic.h"

#define PTRMAP_MIN_BUCKETS 4

/* Tables from this size on are mapped, not malloc'd: unmapping gives
 * them back at once, and glibc would otherwise raise its mmap threshold
 * to the size of a big table freed, so that the smaller tables of a
 * shrinking index land on a heap top that malloc_trim() does not trim
 * (a thread's arena). */
#define PTRMAP_MMAP_MIN ((size_t)256 * 1024)

static struct ptrmap_bucket *
ptrmap_alloc_buckets(uint32_t n)
{
    size_t size = (size_t)n * sizeof(struct ptrmap_bucket);
    struct ptrmap_bucket *b;

    if (size >= PTRMAP_MMAP_MIN) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED) {
            fatal("ptrmap: out of memory for %u buckets", n);
        }
        return p; /* Zeroed, page-aligned. */
    }
    b = aligned_alloc(CACHE_LINE_SIZE, size);
    if (!b) {
        fatal("ptrmap: out of memory for %u buckets", n);
    }
    memset(b, 0, size);
    return b;
}

static void
ptrmap_free_buckets(struct ptrmap_bucket *b, uint32_t n)
{
    size_t size = (size_t)n * sizeof *b;

    if (size >= PTRMAP_MMAP_MIN) {
        munmap(b, size);
    } else {
        free(b);
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

/* The table pointer and mask are stored atomically (relaxed) for
 * ptrmap_prefetch_unlocked(); the owner reads them plainly. */
static void
ptrmap_set_table(struct ptrmap *map, struct ptrmap_bucket *buckets,
                 uint32_t n_buckets)
{
    atomic_store_relaxed(&map->buckets, buckets);
    atomic_store_relaxed(&map->mask, n_buckets - 1);
}

void
ptrmap_init(struct ptrmap *map)
{
    ptrmap_set_table(map, ptrmap_alloc_buckets(PTRMAP_MIN_BUCKETS),
                     PTRMAP_MIN_BUCKETS);
    map->n = 0;
}

void
ptrmap_destroy(struct ptrmap *map)
{
    ptrmap_free_buckets(map->buckets, map->mask + 1);
    ptrmap_set_table(map, NULL, 1);
    map->n = 0;
}

/* Puts 'ptr' in the first free slot of its probe path ('hash' nonzero),
 * counting it in the overflow of every full bucket it passes. */
static void
ptrmap_put(struct ptrmap *map, uint32_t hash, void *ptr)
{
    for (uint32_t b = hash & map->mask;; b = (b + 1) & map->mask) {
        struct ptrmap_bucket *bucket = &map->buckets[b];

        for (unsigned int i = 0; i < PTRMAP_SLOTS; i++) {
            if (!bucket->hashes[i]) {
                bucket->hashes[i] = hash;
                bucket->ptrs[i] = ptr;
                return;
            }
        }
        bucket->overflow++;
    }
}

/* Moves every entry to a table of 'n_buckets'.  Reads only the table. */
static void
ptrmap_rebuild(struct ptrmap *map, uint32_t n_buckets)
{
    struct ptrmap_bucket *old = map->buckets;
    uint32_t old_n = map->mask + 1;

    ptrmap_set_table(map, ptrmap_alloc_buckets(n_buckets), n_buckets);
    for (uint32_t b = 0; b < old_n; b++) {
        for (unsigned int i = 0; i < PTRMAP_SLOTS; i++) {
            if (old[b].hashes[i]) {
                ptrmap_put(map, old[b].hashes[i], old[b].ptrs[i]);
            }
        }
    }
    ptrmap_free_buckets(old, old_n);
}

void
ptrmap_insert(struct ptrmap *map, uint32_t hash, void *ptr)
{
    uint64_t capacity = (uint64_t)(map->mask + 1) * PTRMAP_SLOTS;

    if (4 * ((uint64_t)map->n + 1) > 3 * capacity) {
        ptrmap_rebuild(map, ptrmap_buckets_for(map->n + 1));
    }
    ptrmap_put(map, ptrmap_hash__(hash), ptr);
    map->n++;
}

bool
ptrmap_remove(struct ptrmap *map, uint32_t hash, const void *ptr)
{
    uint32_t home, b;

    hash = ptrmap_hash__(hash);
    home = hash & map->mask;
    b = home;
    for (uint32_t visited = 0; visited <= map->mask; visited++) {
        struct ptrmap_bucket *bucket = &map->buckets[b];

        for (unsigned int i = 0; i < PTRMAP_SLOTS; i++) {
            if (bucket->hashes[i] == hash && bucket->ptrs[i] == ptr) {
                bucket->hashes[i] = 0;
                bucket->ptrs[i] = NULL;
                /* It no longer goes past the buckets it went past. */
                for (uint32_t p = home; p != b; p = (p + 1) & map->mask) {
                    map->buckets[p].overflow--;
                }
                map->n--;
                return true;
            }
        }
        if (!bucket->overflow) {
            break;
        }
        b = (b + 1) & map->mask;
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
ptrmap_next(const struct ptrmap *map, struct ptrmap_pos *pos)
{
    while (pos->bucket <= map->mask) {
        const struct ptrmap_bucket *bucket = &map->buckets[pos->bucket];

        while (pos->slot < PTRMAP_SLOTS) {
            unsigned int i = pos->slot++;

            if (bucket->hashes[i]) {
                return bucket->ptrs[i];
            }
        }
        pos->bucket++;
        pos->slot = 0;
    }
    return NULL;
}
