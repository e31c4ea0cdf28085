/* upcall/ukey.c — see ukey.h. */
#include "upcall/ukey.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/classifier.h"
#include "datapath/dp-actions.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/pool.h"
#include "lib/ptrmap.h"
#include "lib/rcu.h"
#include "lib/util.h"
#include "ofproto/xlate.h"

COVERAGE_DEFINE(ukey_install_exists);
COVERAGE_DEFINE(ukey_install_locked);

struct ukey_partition {
    pthread_mutex_t mutex;
    struct ptrmap ukeys; /* By hash. */
    size_t n;            /* Read relaxed without the mutex. */
} __attribute__((aligned(64)));

struct ukey_map {
    struct ukey_partition parts[UKEY_N_PARTITIONS];
};

/* Every map's ukeys, by the number of words of their mask.  A pool maps
 * nothing until its first ukey. */
static struct pool *ukey_pools[FLOW_U64S + 1];
static pthread_once_t ukey_pools_once = PTHREAD_ONCE_INIT;

static void
ukey_pools_init(void)
{
    for (size_t n = 0; n < ARRAY_SIZE(ukey_pools); n++) {
        ukey_pools[n] = pool_create(
            "ukey", offsetof(struct ukey, words) + 2 * n * sizeof(uint64_t),
            0);
    }
}

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
ukey_create(const struct match *match_, const struct dp_actions *actions,
            struct xlate_cache *xcache, uint64_t now)
{
    struct dp_ufid ufid;
    struct match match;

    match = *match_;
    match_normalize(&match);
    dp_flow_ufid(&match, &ufid);
    return ukey_create_ufid(&match, &ufid, actions, xcache, now);
}

struct ukey *
ukey_create_ufid(const struct match *match, const struct dp_ufid *ufid,
                 const struct dp_actions *actions, struct xlate_cache *xcache,
                 uint64_t now)
{
    const uint64_t *f = flow_u64s(&match->flow);
    const uint64_t *m = flow_u64s(&match->wc.masks);
    uint64_t words_map = flow_wildcards_map(&match->wc);
    unsigned int n_words = count_1bits(words_map);
    struct ukey *ukey;
    unsigned int idx, k = 0;

    pthread_once(&ukey_pools_once, ukey_pools_init);
    ukey = pool_alloc(ukey_pools[n_words]);
    memset(ukey, 0, offsetof(struct ukey, words));
    ukey->n_words = n_words;
    ukey->map = words_map;
    MAP_FOR_EACH_INDEX (idx, words_map) {
        ukey->words[k] = f[idx];
        ukey->words[n_words + k] = m[idx];
        k++;
    }
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
ukey_get_match(const struct ukey *ukey, struct match *match)
{
    uint64_t *f = flow_u64s_rw(&match->flow);
    uint64_t *m = flow_u64s_rw(&match->wc.masks);
    unsigned int idx, k = 0;

    memset(match, 0, sizeof *match);
    MAP_FOR_EACH_INDEX (idx, ukey->map) {
        f[idx] = ukey->words[k];
        m[idx] = ukey->words[ukey->n_words + k];
        k++;
    }
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
    atomic_store_relaxed(&ukey->state, state);
}

enum ukey_state
ukey_get_state(const struct ukey *ukey)
{
    return atomic_load_relaxed(&ukey->state);
}

/* ---- The map ------------------------------------------------------------ */

struct ukey_map *
ukey_map_create(void)
{
    struct ukey_map *map = xzalloc(sizeof *map);

    for (size_t i = 0; i < UKEY_N_PARTITIONS; i++) {
        struct ukey_partition *p = &map->parts[i];

        pthread_mutex_init(&p->mutex, NULL);
        ptrmap_init(&p->ukeys);
    }
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
        struct ptrmap_pos pos;
        struct ukey *ukey;

        PTRMAP_FOR_EACH (ukey, &pos, &p->ukeys) {
            atomic_store_relaxed(&ukey->state, UKEY_DELETED);
            rcu_postpone(ukey_destroy_cb, ukey);
        }
        ptrmap_destroy(&p->ukeys);
        pthread_mutex_destroy(&p->mutex);
    }
    free(map);
}

size_t
ukey_trim_memory(uint64_t idle_ms)
{
    size_t bytes = 0;

    pthread_once(&ukey_pools_once, ukey_pools_init);
    for (size_t n = 0; n < ARRAY_SIZE(ukey_pools); n++) {
        bytes += pool_trim_idle(ukey_pools[n], idle_ms);
    }
    return bytes;
}

size_t
ukey_memory_bytes(void)
{
    size_t bytes = 0;

    pthread_once(&ukey_pools_once, ukey_pools_init);
    for (size_t n = 0; n < ARRAY_SIZE(ukey_pools); n++) {
        struct pool_stats st;

        pool_get_stats(ukey_pools[n], &st);
        bytes += st.n_bytes;
    }
    return bytes;
}

static struct ukey_partition *
ukey_partition(struct ukey_map *map, uint32_t hash)
{
    return &map->parts[(hash >> 24) % UKEY_N_PARTITIONS];
}

/* Whether the (normalized) 'match' is the megaflow of 'ukey'. */
static bool
ukey_has_match(const struct ukey *ukey, const struct match *match)
{
    const uint64_t *f = flow_u64s(&match->flow);
    const uint64_t *m = flow_u64s(&match->wc.masks);
    unsigned int idx, k = 0;

    if (flow_wildcards_map(&match->wc) != ukey->map) {
        return false;
    }
    MAP_FOR_EACH_INDEX (idx, ukey->map) {
        if (f[idx] != ukey->words[k]
            || m[idx] != ukey->words[ukey->n_words + k]) {
            return false;
        }
        k++;
    }
    return true;
}

static bool
ukey_matches(const struct ukey *ukey, const struct dp_ufid *ufid,
             const struct match *match)
{
    return dp_ufid_equal(&ukey->ufid, ufid)
           && (!match || ukey_has_match(ukey, match));
}

/* Whether 'a' and 'b' hold the same megaflow. */
static bool
ukey_same_megaflow(const struct ukey *a, const struct ukey *b)
{
    return a->map == b->map
           && !memcmp(a->words, b->words,
                      2 * (size_t)a->n_words * sizeof a->words[0]);
}

/* The ukey for 'ufid' (and 'match', if nonnull) in 'p', or NULL.  A
 * probe for a ufid that is not there (every new flow's) reads one line
 * of the partition's table and no ukey.  Partition mutex held. */
static struct ukey *
ukey_partition_find(const struct ukey_partition *p, uint32_t hash,
                    const struct dp_ufid *ufid, const struct match *match)
{
    struct ptrmap_pos pos;
    struct ukey *ukey;

    PTRMAP_FOR_EACH_WITH_HASH (ukey, &pos, hash, &p->ukeys) {
        if (ukey_matches(ukey, ufid, match)) {
            return ukey;
        }
    }
    return NULL;
}

/* The ukey in 'p' with the megaflow of 'new', or NULL.  Partition mutex
 * held. */
static struct ukey *
ukey_partition_find_same(const struct ukey_partition *p,
                         const struct ukey *new)
{
    struct ptrmap_pos pos;
    struct ukey *ukey;

    PTRMAP_FOR_EACH_WITH_HASH (ukey, &pos, new->hash, &p->ukeys) {
        if (dp_ufid_equal(&ukey->ufid, &new->ufid)
            && ukey_same_megaflow(ukey, new)) {
            return ukey;
        }
    }
    return NULL;
}

/* Takes 'old' out of 'p', marks it DELETED and postpones its free.
 * Partition mutex held; the caller holds old's mutex or knows nobody else
 * can. */
static void
ukey_partition_unlink(struct ukey_partition *p, struct ukey *old)
{
    ptrmap_remove(&p->ukeys, old->hash, old);
    atomic_store_relaxed(&p->n, p->n - 1);
    atomic_store_relaxed(&old->state, UKEY_DELETED);
    rcu_postpone(ukey_destroy_cb, old);
}

int
ukey_install(struct ukey_map *map, struct ukey *ukey, bool *replaced)
{
    struct ukey_partition *p = ukey_partition(map, ukey->hash);
    struct ukey *old;
    int error = 0;

    *replaced = false;
    pthread_mutex_lock(&p->mutex);
    old = ukey_partition_find_same(p, ukey);
    if (old) {
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
        ptrmap_remove(&p->ukeys, old->hash, old);
        ptrmap_insert(&p->ukeys, ukey->hash, ukey);
        atomic_store_relaxed(&old->state, UKEY_DELETED);
        ukey_unlock(old);
        rcu_postpone(ukey_destroy_cb, old);
        *replaced = true;
        goto out;
    }
    ptrmap_insert(&p->ukeys, ukey->hash, ukey);
    atomic_store_relaxed(&p->n, p->n + 1);
out:
    pthread_mutex_unlock(&p->mutex);
    return error;
}

void
ukey_map_prefetch(const struct ukey_map *map, const struct dp_ufid *ufid)
{
    uint32_t hash = ukey_hash_ufid(ufid);

    ptrmap_prefetch_unlocked(
        &map->parts[(hash >> 24) % UKEY_N_PARTITIONS].ukeys, hash);
}

struct ukey *
ukey_lookup(struct ukey_map *map, const struct dp_ufid *ufid,
            const struct match *match)
{
    uint32_t hash = ukey_hash_ufid(ufid);
    struct ukey_partition *p = ukey_partition(map, hash);
    struct ukey *ukey;

    pthread_mutex_lock(&p->mutex);
    ukey = ukey_partition_find(p, hash, ufid, match);
    pthread_mutex_unlock(&p->mutex);
    return ukey;
}

void
ukey_remove(struct ukey_map *map, struct ukey *ukey)
{
    struct ukey_partition *p = ukey_partition(map, ukey->hash);
    struct ptrmap_pos pos;
    struct ukey *cand;

    pthread_mutex_lock(&p->mutex);
    PTRMAP_FOR_EACH_WITH_HASH (cand, &pos, ukey->hash, &p->ukeys) {
        if (cand == ukey) {
            ukey_lock(ukey);
            ukey_unlock(ukey);
            ukey_partition_unlink(p, ukey);
            break;
        }
    }
    pthread_mutex_unlock(&p->mutex);
}

size_t
ukey_map_count(const struct ukey_map *map)
{
    size_t n = 0;

    for (size_t i = 0; i < UKEY_N_PARTITIONS; i++) {
        n += atomic_load_relaxed(&map->parts[i].n);
    }
    return n;
}

size_t
ukey_map_partition_count(const struct ukey_map *map, unsigned int part)
{
    return atomic_load_relaxed(&map->parts[part % UKEY_N_PARTITIONS].n);
}

void
ukey_map_sweep(struct ukey_map *map, unsigned int part,
               bool (*cb)(struct ukey *, void *aux), void *aux)
{
    struct ukey_partition *p = &map->parts[part % UKEY_N_PARTITIONS];
    struct ptrmap_pos pos;
    struct ukey *ukey;

    pthread_mutex_lock(&p->mutex);
    /* Removing the ukey an iteration is at moves no other. */
    PTRMAP_FOR_EACH (ukey, &pos, &p->ukeys) {
        if (cb(ukey, aux)) {
            ukey_partition_unlink(p, ukey);
        }
    }
    /* Give back the table of a storm that expired. */
    ptrmap_shrink(&p->ukeys);
    pthread_mutex_unlock(&p->mutex);
}
