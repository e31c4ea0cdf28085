/* upcall/ukey.c — see ukey.h. */
#include "upcall/ukey.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/classifier.h"
#include "datapath/dp-actions.h"
#include "lib/coverage.h"
#include "lib/pool.h"
#include "lib/util.h"
#include "ofproto/xlate.h"

COVERAGE_DEFINE(ukey_install_exists);
COVERAGE_DEFINE(ukey_install_locked);

#define UKEY_MIN_BUCKETS 64 /* Per partition. */

#define UKEY_GET(PTR) __atomic_load_n(PTR, __ATOMIC_RELAXED)
#define UKEY_SET(PTR, V) __atomic_store_n(PTR, V, __ATOMIC_RELAXED)

struct ukey_partition {
    pthread_mutex_t mutex;
    struct ukey **buckets; /* Chains of struct ukey by 'next'. */
    size_t mask;           /* n_buckets - 1. */
    size_t n;              /* Read relaxed without the mutex. */
} __attribute__((aligned(64)));

struct ukey_map {
    struct ukey_partition parts[UKEY_N_PARTITIONS];
    struct pool *pool; /* Of its ukeys. */
};

static const char *const ukey_state_names[] = {
    [UKEY_CREATED] = "created",         [UKEY_VISIBLE] = "visible",
    [UKEY_OPERATIONAL] = "operational", [UKEY_EVICTING] = "evicting",
    [UKEY_EVICTED] = "evicted",         [UKEY_DELETED] = "deleted",
};

const char *
ukey_state_to_string(enum ukey_state state)
{
    return (unsigned int)state < ARRAY_SIZE(ukey_state_names)
               ? ukey_state_names[state]
               : "?";
}

static uint32_t
ukey_hash_ufid(const struct dp_ufid *ufid)
{
    return (uint32_t)(ufid->lo ^ (ufid->lo >> 32) ^ ufid->hi);
}

struct ukey *
ukey_create(struct ukey_map *map, const struct match *match_,
            const struct dp_actions *actions, struct xlate_cache *xcache,
            uint64_t now)
{
    struct dp_ufid ufid;
    struct match match;

    match = *match_;
    match_normalize(&match);
    dp_flow_ufid(&match, &ufid);
    return ukey_create_ufid(map, &match, &ufid, actions, xcache, now);
}

struct ukey *
ukey_create_ufid(struct ukey_map *map, const struct match *match,
                 const struct dp_ufid *ufid, const struct dp_actions *actions,
                 struct xlate_cache *xcache, uint64_t now)
{
    struct ukey *ukey = pool_zalloc(map->pool);

    ukey->match = *match;
    ukey->ufid = *ufid;
    ukey->hash = ukey_hash_ufid(&ukey->ufid);
    ukey->created = now;
    pthread_mutex_init(&ukey->mutex, NULL);
    ukey->state = UKEY_CREATED;
    ukey->actions = actions ? dp_actions_ref(actions) : NULL;
    ukey->xcache = xcache;
    return ukey;
}

void
ukey_destroy(struct ukey *ukey)
{
    if (ukey) {
        if (ukey->xcache) {
            xlate_cache_delete(ukey->xcache);
        }
        if (ukey->actions) {
            dp_actions_unref(ukey->actions);
        }
        pthread_mutex_destroy(&ukey->mutex);
        pool_free(ukey);
    }
}

static void
ukey_destroy_cb(void *ukey)
{
    ukey_destroy(ukey);
}

bool
ukey_trylock(struct ukey *ukey)
{
    return !pthread_mutex_trylock(&ukey->mutex);
}

void
ukey_lock(struct ukey *ukey)
{
    pthread_mutex_lock(&ukey->mutex);
}

void
ukey_unlock(struct ukey *ukey)
{
    pthread_mutex_unlock(&ukey->mutex);
}

void
ukey_set_state(struct ukey *ukey, enum ukey_state state)
{
    assert(state >= ukey->state);
    UKEY_SET(&ukey->state, state);
}

enum ukey_state
ukey_get_state(const struct ukey *ukey)
{
    return UKEY_GET(&ukey->state);
}

/* ---- The map ------------------------------------------------------------ */

struct ukey_map *
ukey_map_create(void)
{
    struct ukey_map *map = xzalloc(sizeof *map);

    for (size_t i = 0; i < UKEY_N_PARTITIONS; i++) {
        struct ukey_partition *p = &map->parts[i];

        pthread_mutex_init(&p->mutex, NULL);
        p->mask = UKEY_MIN_BUCKETS - 1;
        p->buckets = xcalloc(p->mask + 1, sizeof(struct ukey *));
    }
    map->pool = pool_create("ukey", sizeof(struct ukey), 0);
    return map;
}

void
ukey_map_destroy(struct ukey_map *map)
{
    if (!map) {
        return;
    }
    for (size_t i = 0; i < UKEY_N_PARTITIONS; i++) {
        struct ukey_partition *p = &map->parts[i];

        for (size_t b = 0; b <= p->mask; b++) {
            struct ukey *ukey, *next;

            for (ukey = p->buckets[b]; ukey; ukey = next) {
                next = ukey->next;
                UKEY_SET(&ukey->state, UKEY_DELETED);
                classifier_postpone(ukey_destroy_cb, ukey);
            }
        }
        free(p->buckets);
        pthread_mutex_destroy(&p->mutex);
    }
    pool_destroy(map->pool); /* Goes with the last ukey's free. */
    free(map);
}

size_t
ukey_map_trim(struct ukey_map *map)
{
    return pool_trim(map->pool);
}

static struct ukey_partition *
ukey_partition(struct ukey_map *map, uint32_t hash)
{
    return &map->parts[(hash >> 24) % UKEY_N_PARTITIONS];
}

static bool
ukey_matches(const struct ukey *ukey, const struct dp_ufid *ufid,
             const struct match *match)
{
    return dp_ufid_equal(&ukey->ufid, ufid)
           && (!match || match_equal(&ukey->match, match));
}

/* Returns the link that points to the ukey for 'ufid', or to the NULL at
 * the end of its chain.  Partition mutex held. */
static struct ukey **
ukey_partition_find(struct ukey_partition *p, uint32_t hash,
                    const struct dp_ufid *ufid, const struct match *match)
{
    struct ukey **link = &p->buckets[hash & p->mask];

    while (*link && !ukey_matches(*link, ufid, match)) {
        link = &(*link)->next;
    }
    return link;
}

/* Moves the partition to 'new_mask' + 1 buckets.  Partition mutex held. */
static void
ukey_partition_resize(struct ukey_partition *p, size_t new_mask)
{
    struct ukey **buckets = xcalloc(new_mask + 1, sizeof(struct ukey *));

    for (size_t b = 0; b <= p->mask; b++) {
        struct ukey *ukey, *next;

        for (ukey = p->buckets[b]; ukey; ukey = next) {
            next = ukey->next;
            ukey->next = buckets[ukey->hash & new_mask];
            buckets[ukey->hash & new_mask] = ukey;
        }
    }
    free(p->buckets);
    p->buckets = buckets;
    p->mask = new_mask;
}

/* Takes 'old' out of its chain at 'link', marks it DELETED and postpones
 * its free.  Partition mutex held; the caller holds old's mutex or knows
 * nobody else can. */
static void
ukey_partition_unlink(struct ukey_partition *p, struct ukey **link)
{
    struct ukey *old = *link;

    *link = old->next;
    UKEY_SET(&p->n, p->n - 1);
    UKEY_SET(&old->state, UKEY_DELETED);
    classifier_postpone(ukey_destroy_cb, old);
}

int
ukey_install(struct ukey_map *map, struct ukey *ukey, bool *replaced)
{
    struct ukey_partition *p = ukey_partition(map, ukey->hash);
    struct ukey **link;
    int error = 0;

    *replaced = false;
    pthread_mutex_lock(&p->mutex);
    link = ukey_partition_find(p, ukey->hash, &ukey->ufid, &ukey->match);
    if (*link) {
        struct ukey *old = *link;

        if (!ukey_trylock(old)) {
            COVERAGE_INC(ukey_install_locked);
            error = EEXIST;
            goto out;
        }
        if (old->state != UKEY_EVICTED) {
            ukey_unlock(old);
            COVERAGE_INC(ukey_install_exists);
            error = EEXIST;
            goto out;
        }
        /* The old flow is gone from the datapath: nobody else will use
         * 'old' for an install; the sweep finds it no longer in the map. */
        ukey->next = old->next;
        *link = ukey;
        UKEY_SET(&old->state, UKEY_DELETED);
        ukey_unlock(old);
        classifier_postpone(ukey_destroy_cb, old);
        *replaced = true;
        goto out;
    }
    ukey->next = NULL;
    *link = ukey;
    UKEY_SET(&p->n, p->n + 1);
    if (p->n > (p->mask + 1) * 2) {
        ukey_partition_resize(p, p->mask * 2 + 1);
    }
out:
    pthread_mutex_unlock(&p->mutex);
    return error;
}

struct ukey *
ukey_lookup(struct ukey_map *map, const struct dp_ufid *ufid,
            const struct match *match)
{
    uint32_t hash = ukey_hash_ufid(ufid);
    struct ukey_partition *p = ukey_partition(map, hash);
    struct ukey *ukey;

    pthread_mutex_lock(&p->mutex);
    ukey = *ukey_partition_find(p, hash, ufid, match);
    pthread_mutex_unlock(&p->mutex);
    return ukey;
}

void
ukey_remove(struct ukey_map *map, struct ukey *ukey)
{
    struct ukey_partition *p = ukey_partition(map, ukey->hash);
    struct ukey **link;

    pthread_mutex_lock(&p->mutex);
    link = &p->buckets[ukey->hash & p->mask];
    while (*link && *link != ukey) {
        link = &(*link)->next;
    }
    if (*link) {
        ukey_lock(ukey);
        ukey_unlock(ukey);
        ukey_partition_unlink(p, link);
    }
    pthread_mutex_unlock(&p->mutex);
}

size_t
ukey_map_count(const struct ukey_map *map)
{
    size_t n = 0;

    for (size_t i = 0; i < UKEY_N_PARTITIONS; i++) {
        n += UKEY_GET(&map->parts[i].n);
    }
    return n;
}

size_t
ukey_map_partition_count(const struct ukey_map *map, unsigned int part)
{
    return UKEY_GET(&map->parts[part % UKEY_N_PARTITIONS].n);
}

void
ukey_map_sweep(struct ukey_map *map, unsigned int part,
               bool (*cb)(struct ukey *, void *aux), void *aux)
{
    struct ukey_partition *p = &map->parts[part % UKEY_N_PARTITIONS];

    pthread_mutex_lock(&p->mutex);
    for (size_t b = 0; b <= p->mask; b++) {
        struct ukey **link = &p->buckets[b];

        while (*link) {
            if (cb(*link, aux)) {
                ukey_partition_unlink(p, link);
            } else {
                link = &(*link)->next;
            }
        }
    }
    /* Give back the buckets of a storm that expired. */
    if (p->mask + 1 > UKEY_MIN_BUCKETS && p->n < (p->mask + 1) / 8) {
        ukey_partition_resize(p, (p->mask + 1) / 4 - 1);
    }
    pthread_mutex_unlock(&p->mutex);
}
