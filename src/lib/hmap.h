/*
 * lib/hmap.h — an intrusive chained hash map that keeps each node's hash.
 *
 * What it is for.  Tables on the slow path and on the writer side that
 * want an entry found by its key and removed in O(1) given the entry:
 * the MAC learning table, indexes kept beside a list.  The caller embeds
 * a struct hmap_node in each element, computes the hash of the element's
 * key, and confirms a candidate by comparing keys: the map stores no key
 * and allocates nothing per element.  (For an index probed in a hot path
 * mostly for keys that are absent, lib/ptrmap.h reads one cache line per
 * probe instead of one per chained node, and may be read without a lock
 * under RCU; an hmap may not.)
 *
 * Layout.  A power-of-2 array of buckets, each a singly linked chain of
 * nodes; a node's bucket is its hash & mask.  The full 32-bit hash is kept
 * in the node, so a probe compares keys only for nodes whose hash matches
 * and a resize rehashes without touching the keys.  The map grows
 * (doubling) when an insertion brings it above one node per bucket on
 * average; it never shrinks by itself, so that removals do not move
 * nodes: call hmap_shrink() after removing many.  An empty map uses a
 * bucket inside the struct and allocates nothing, so a struct hmap must
 * not be copied or moved once initialized.
 *
 * Iteration.  HMAP_FOR_EACH_WITH_HASH visits the nodes filed under one
 * hash (candidates: the caller compares keys).  HMAP_FOR_EACH visits all
 * nodes in bucket order; HMAP_FOR_EACH_SAFE lets the body remove the node
 * in hand.  No insertion while iterating: it may resize the map.
 *
 * Thread safety: none.  The owner serializes writers (a mutex or a write
 * lock); readers holding a read lock may search and iterate concurrently
 * with each other, never with a writer.
 */
#ifndef FLOWSWITCH_LIB_HMAP_H
#define FLOWSWITCH_LIB_HMAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct hmap_node {
    struct hmap_node *next; /* In the same bucket. */
    uint32_t hash;
};

struct hmap {
    struct hmap_node **buckets; /* &one while the map has one bucket. */
    struct hmap_node *one;      /* The only bucket of a small map. */
    uint32_t mask;              /* Buckets - 1. */
    size_t n;                   /* Nodes. */
};

void hmap_init(struct hmap *);
/* Frees the buckets, not the nodes (walk and free them first). */
void hmap_destroy(struct hmap *);
/* Forgets every node (the caller owns them) and keeps the buckets. */
void hmap_clear(struct hmap *);

/* Resizes for 'n' nodes at a load of at most 1 (growing only). */
void hmap_reserve(struct hmap *, size_t n);
/* Resizes a map at most a quarter full down to fit its nodes. */
void hmap_shrink(struct hmap *);
void hmap_expand__(struct hmap *);

static inline size_t
hmap_count(const struct hmap *map)
{
    return map->n;
}

static inline bool
hmap_is_empty(const struct hmap *map)
{
    return map->n == 0;
}

/* Adds 'node' under 'hash' (the node must not be in a map).  May resize,
 * which moves every node to its new bucket. */
static inline void
hmap_insert(struct hmap *map, struct hmap_node *node, uint32_t hash)
{
    struct hmap_node **bucket = &map->buckets[hash & map->mask];

    node->hash = hash;
    node->next = *bucket;
    *bucket = node;
    if (++map->n > (size_t)map->mask + 1) {
        hmap_expand__(map);
    }
}

/* Removes 'node', which must be in 'map'.  Never resizes. */
static inline void
hmap_remove(struct hmap *map, struct hmap_node *node)
{
    struct hmap_node **prevp = &map->buckets[node->hash & map->mask];

    while (*prevp != node) {
        prevp = &(*prevp)->next;
    }
    *prevp = node->next;
    map->n--;
}

/* The first node filed under 'hash', or NULL; then the next one after
 * 'node' with the same hash. */
static inline struct hmap_node *
hmap_next_with_hash__(const struct hmap_node *node, uint32_t hash)
{
    while (node && node->hash != hash) {
        node = node->next;
    }
    return (struct hmap_node *)node;
}

static inline struct hmap_node *
hmap_first_with_hash(const struct hmap *map, uint32_t hash)
{
    return hmap_next_with_hash__(map->buckets[hash & map->mask], hash);
}

static inline struct hmap_node *
hmap_next_with_hash(const struct hmap_node *node)
{
    return hmap_next_with_hash__(node->next, node->hash);
}

/* Every node in bucket order: the first, then the one after 'node'. */
struct hmap_node *hmap_first(const struct hmap *);
struct hmap_node *hmap_next(const struct hmap *, const struct hmap_node *);

/* Converts a node pointer to its element, or NULL to NULL. */
#define HMAP_NODE_TO__(NODE, ITER, MEMBER)                                    \
    ((NODE) ? CONTAINER_OF(NODE, __typeof__(*(ITER)), MEMBER) : NULL)

/* Iterates ITER (a pointer to the element type, whose hmap_node is
 * MEMBER) over the elements filed under HASH in MAP. */
#define HMAP_FOR_EACH_WITH_HASH(ITER, MEMBER, HASH, MAP)                      \
    for ((ITER) =                                                             \
             HMAP_NODE_TO__(hmap_first_with_hash(MAP, HASH), ITER, MEMBER);   \
         (ITER); (ITER) = HMAP_NODE_TO__(                                     \
                     hmap_next_with_hash(&(ITER)->MEMBER), ITER, MEMBER))

/* Iterates ITER over every element of MAP. */
#define HMAP_FOR_EACH(ITER, MEMBER, MAP)                                      \
    for ((ITER) = HMAP_NODE_TO__(hmap_first(MAP), ITER, MEMBER); (ITER);      \
         (ITER) =                                                             \
             HMAP_NODE_TO__(hmap_next(MAP, &(ITER)->MEMBER), ITER, MEMBER))

/* The same, but the body may remove (and free) the element in hand. */
#define HMAP_FOR_EACH_SAFE(ITER, MEMBER, MAP)                                 \
    for (struct hmap_node *node__ = hmap_first(MAP), *next__ = NULL;          \
         node__ && (next__ = hmap_next(MAP, node__), 1)                       \
         && ((ITER) = CONTAINER_OF(node__, __typeof__(*(ITER)), MEMBER), 1);  \
         node__ = next__)

#endif /* lib/hmap.h */
