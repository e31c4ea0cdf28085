/* lib/hmap.c — resizing and whole-map iteration of the chained hash map
 * (see hmap.h). */
#include "lib/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void
hmap_init(struct hmap *map)
{
    map->one = NULL;
    map->buckets = &map->one;
    map->mask = 0;
    map->n = 0;
}

void
hmap_destroy(struct hmap *map)
{
    if (map->buckets != &map->one) {
        free(map->buckets);
    }
    hmap_init(map);
}

void
hmap_clear(struct hmap *map)
{
    memset(map->buckets, 0, ((size_t)map->mask + 1) * sizeof *map->buckets);
    map->n = 0;
}

/* Smallest power of 2 that is at least 'n' (and at least 1). */
static size_t
hmap_n_buckets(size_t n)
{
    size_t n_buckets = 1;

    while (n_buckets < n) {
        n_buckets *= 2;
    }
    return n_buckets;
}

/* Moves every node to a new array of 'n_buckets' buckets. */
static void
hmap_resize(struct hmap *map, size_t n_buckets)
{
    struct hmap_node **buckets =
        n_buckets > 1 ? xcalloc(n_buckets, sizeof *buckets) : &map->one;
    struct hmap_node *chain = NULL;

    /* Gather the nodes first: the new array may be the old 'one'. */
    for (size_t i = 0; i <= map->mask; i++) {
        struct hmap_node *node = map->buckets[i];

        while (node) {
            struct hmap_node *next = node->next;

            node->next = chain;
            chain = node;
            node = next;
        }
    }
    if (map->buckets != &map->one) {
        free(map->buckets);
    }
    map->one = NULL;
    map->buckets = buckets;
    map->mask = (uint32_t)(n_buckets - 1);
    while (chain) {
        struct hmap_node *next = chain->next;
        struct hmap_node **bucket = &buckets[chain->hash & map->mask];

        chain->next = *bucket;
        *bucket = chain;
        chain = next;
    }
}

void
hmap_expand__(struct hmap *map)
{
    hmap_resize(map, hmap_n_buckets(map->n));
}

void
hmap_reserve(struct hmap *map, size_t n)
{
    size_t n_buckets = hmap_n_buckets(n);

    if (n_buckets > (size_t)map->mask + 1) {
        hmap_resize(map, n_buckets);
    }
}

void
hmap_shrink(struct hmap *map)
{
    size_t n_buckets = hmap_n_buckets(map->n);

    if (n_buckets * 4 <= (size_t)map->mask + 1) {
        hmap_resize(map, n_buckets);
    }
}

/* The first node in a bucket at or after 'i'. */
static struct hmap_node *
hmap_first_from(const struct hmap *map, size_t i)
{
    for (; i <= map->mask; i++) {
        if (map->buckets[i]) {
            return map->buckets[i];
        }
    }
    return NULL;
}

struct hmap_node *
hmap_first(const struct hmap *map)
{
    return hmap_first_from(map, 0);
}

struct hmap_node *
hmap_next(const struct hmap *map, const struct hmap_node *node)
{
    if (node->next) {
        return node->next;
    }
    return hmap_first_from(map, (size_t)(node->hash & map->mask) + 1);
}
