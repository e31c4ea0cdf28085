/* lib/pool.c — see pool.h. */
#include "lib/pool.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/atomic.h"
#include "lib/list.h"
#include "lib/timeval.h"
#include "lib/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL. */
#endif

/* A free object: its first word links it. */
struct pool_obj {
    struct pool_obj *next;
};

/* Which list of the pool a slab is on. */
enum pool_list_id {
    POOL_PARTIAL, /* Live objects, and room (free or uncarved). */
    POOL_FULL,    /* Live objects, no room. */
    POOL_EMPTY,   /* No live object. */
    POOL_N_LISTS
};

/* At the start of every slab. */
struct pool_slab {
    struct pool *pool;      /* Immutable. */
    char *objs;             /* Immutable: the first object. */
    struct list node;       /* Mutex: on list 'list'. */
    enum pool_list_id list; /* Mutex. */
    struct pool_obj *free;  /* Mutex: its free objects... */
    uint32_t n_free;        /* ...and how many. */
    uint32_t n_carved;      /* Mutex: objects ever handed out. */
    uint64_t empty_since;   /* Mutex: msec, on POOL_EMPTY. */
};

struct pool {
    const char *name;
    size_t obj_size;   /* Rounded up to the alignment. */
    size_t objs_ofs;   /* Of the first object in a slab. */
    uint32_t per_slab; /* Objects a slab holds. */

    pthread_mutex_t mutex;
    struct list lists[POOL_N_LISTS]; /* Mutex: of pool_slab. */

    /* Any thread: objects freed, not yet filed with their slabs, and
     * about how many (atomic). */
    struct pool_obj *returned __attribute__((aligned(CACHE_LINE_SIZE)));
    size_t n_returned;
    /* Atomic: live objects, plus 1 while the owner holds the pool. */
    uint64_t refcnt;
    /* Statistics: written under the mutex, rarely (a slab mapped or
     * unmapped), read atomically by any thread.  Here rather than on the
     * first line, which the lists fill. */
    size_t n_slabs;
    uint64_t n_maps, n_unmaps;
};

static struct pool_slab *
pool_slab_of(const void *obj)
{
    uintptr_t ofs = (uintptr_t)obj & (POOL_SLAB_SIZE - 1);

    return (struct pool_slab *)(void *)((char *)obj - ofs);
}

static uint32_t
pool_slab_live(const struct pool_slab *slab)
{
    return slab->n_carved - slab->n_free;
}

static void
pool_poison(void *obj, size_t size)
{
#ifdef POOL_ASAN
    ASAN_POISON_MEMORY_REGION((char *)obj + sizeof(struct pool_obj),
                              size - sizeof(struct pool_obj));
#else
    (void)obj, (void)size;
#endif
}

static void
pool_unpoison(void *obj, size_t size)
{
#ifdef POOL_ASAN
    ASAN_UNPOISON_MEMORY_REGION(obj, size);
#else
    (void)obj, (void)size;
#endif
}

struct pool *
pool_create(const char *name, size_t obj_size, size_t align)
{
    struct pool *pool = xzalloc(sizeof *pool);

    if (!align) {
        align = alignof(max_align_t);
    }
    if (!is_pow2(align) || align > 4096) {
        fatal("pool %s: bad alignment %zu", name, align);
    }
    obj_size = MAX(obj_size, sizeof(struct pool_obj));
    pool->name = name;
    pool->obj_size = ROUND_UP(obj_size, align);
    pool->objs_ofs = ROUND_UP(sizeof(struct pool_slab), align);
    if (pool->objs_ofs + pool->obj_size > POOL_SLAB_SIZE) {
        fatal("pool %s: objects of %zu bytes do not fit a slab", name,
              obj_size);
    }
    pool->per_slab =
        (uint32_t)((POOL_SLAB_SIZE - pool->objs_ofs) / pool->obj_size);
    for (size_t i = 0; i < POOL_N_LISTS; i++) {
        list_init(&pool->lists[i]);
    }
    pthread_mutex_init(&pool->mutex, NULL);
    pool->refcnt = 1;
    return pool;
}

/* ---- Lists (mutex held) ------------------------------------------------- */

/* The first slab on list 'id', or NULL if it is empty. */
static struct pool_slab *
pool_list_front(const struct pool *pool, enum pool_list_id id)
{
    const struct list *list = &pool->lists[id];

    return list_is_empty(list)
               ? NULL
               : CONTAINER_OF(list_front(list), struct pool_slab, node);
}

static void
pool_slab_move(struct pool *pool, struct pool_slab *slab,
               enum pool_list_id list)
{
    if (slab->list != list) {
        list_remove(&slab->node);
        list_push_front(&pool->lists[list], &slab->node);
        slab->list = list;
    }
}

/* ---- Slabs (mutex held) ------------------------------------------------- */

static void
pool_slab_map(struct pool *pool)
{
    size_t len = 2 * POOL_SLAB_SIZE;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct pool_slab *slab;
    char *start, *end;

    if (base == MAP_FAILED) {
        fatal("pool %s: out of memory for a slab", pool->name);
    }
    /* Keep the aligned slab in the middle, give back the edges. */
    start = base
            + ((POOL_SLAB_SIZE - ((uintptr_t)base & (POOL_SLAB_SIZE - 1)))
               & (POOL_SLAB_SIZE - 1));
    end = start + POOL_SLAB_SIZE;
    if (start > base) {
        munmap(base, (size_t)(start - base));
    }
    if (base + len > end) {
        munmap(end, (size_t)(base + len - end));
    }
    /* One fault-in for the whole slab; harmless if unsupported. */
    (void)madvise(start, POOL_SLAB_SIZE, MADV_POPULATE_WRITE);
#ifdef POOL_ASAN
    __lsan_register_root_region(start, POOL_SLAB_SIZE);
#endif

    slab = (struct pool_slab *)(void *)start;
    memset(slab, 0, sizeof *slab);
    slab->pool = pool;
    slab->objs = start + pool->objs_ofs;
    slab->list = POOL_PARTIAL; /* Its first object goes at once. */
    list_push_front(&pool->lists[POOL_PARTIAL], &slab->node);
    atomic_store_relaxed(&pool->n_slabs, pool->n_slabs + 1);
    atomic_store_relaxed(&pool->n_maps, pool->n_maps + 1);
}

static void
pool_slab_unmap(struct pool *pool, struct pool_slab *slab)
{
    list_remove(&slab->node);
    atomic_store_relaxed(&pool->n_slabs, pool->n_slabs - 1);
    atomic_store_relaxed(&pool->n_unmaps, pool->n_unmaps + 1);
#ifdef POOL_ASAN
    ASAN_UNPOISON_MEMORY_REGION(slab, POOL_SLAB_SIZE);
    __lsan_unregister_root_region(slab, POOL_SLAB_SIZE);
#endif
    munmap(slab, POOL_SLAB_SIZE);
}

/* Files every object on the returned stack back with its slab; a slab
 * whose last live object comes back goes on the empty list, stamped
 * 'now'.  (Then no object of it is left further down the stack.) */
static void
pool_file_returned(struct pool *pool, uint64_t now)
{
    struct pool_obj *obj = atomic_exchange_acquire(&pool->returned, NULL);
    size_t n = 0;

    for (const struct pool_obj *o = obj; o; o = o->next) {
        n++;
    }
    atomic_fetch_sub_relaxed(&pool->n_returned, n);
    while (obj) {
        struct pool_obj *next = obj->next;
        struct pool_slab *slab = pool_slab_of(obj);

        obj->next = slab->free;
        slab->free = obj;
        slab->n_free++;
        if (!pool_slab_live(slab)) {
            slab->empty_since = now;
            pool_slab_move(pool, slab, POOL_EMPTY);
        } else {
            pool_slab_move(pool, slab, POOL_PARTIAL);
        }
        obj = next;
    }
}

/* Unmaps the slabs empty since 'before' or earlier. */
static void
pool_unmap_empty(struct pool *pool, uint64_t before)
{
    struct pool_slab *slab;

    LIST_FOR_EACH_SAFE (slab, node, &pool->lists[POOL_EMPTY]) {
        if (slab->empty_since <= before) {
            pool_slab_unmap(pool, slab);
        }
    }
}

/* ---- Objects ------------------------------------------------------------ */

/* The slab to allocate from: a partial one, else one that the returned
 * objects make partial, else an empty one (used last, so that empty
 * slabs stay empty long enough to be unmapped if they are not needed),
 * else a new one. */
static struct pool_slab *
pool_pick_slab(struct pool *pool)
{
    if (list_is_empty(&pool->lists[POOL_PARTIAL])) {
        pool_file_returned(pool, time_msec());
    }
    if (list_is_empty(&pool->lists[POOL_PARTIAL])) {
        struct pool_slab *empty = pool_list_front(pool, POOL_EMPTY);

        if (empty) {
            pool_slab_move(pool, empty, POOL_PARTIAL);
        } else {
            pool_slab_map(pool);
        }
    }
    return pool_list_front(pool, POOL_PARTIAL);
}

void *
pool_alloc(struct pool *pool)
{
    struct pool_slab *slab;
    struct pool_obj *obj;

    pthread_mutex_lock(&pool->mutex);
    slab = pool_pick_slab(pool);
    if (slab->free) {
        obj = slab->free;
        pool_unpoison(obj, pool->obj_size);
        slab->free = obj->next;
        slab->n_free--;
        /* The next allocation reads the next object's link first: a cold
         * line (freed long ago, by another thread) otherwise. */
        __builtin_prefetch(slab->free);
    } else {
        obj = (struct pool_obj *)(void *)(slab->objs
                                          + (size_t)slab->n_carved
                                                * pool->obj_size);
        slab->n_carved++;
    }
    if (!slab->free && slab->n_carved == pool->per_slab) {
        pool_slab_move(pool, slab, POOL_FULL);
    }
    pthread_mutex_unlock(&pool->mutex);
    atomic_fetch_add_relaxed(&pool->refcnt, 1);
    return obj;
}

void *
pool_zalloc(struct pool *pool)
{
    void *obj = pool_alloc(pool);

    memset(obj, 0, pool->obj_size);
    return obj;
}

/* Unmaps every slab and frees 'pool' (no object is live). */
static void
pool_free_all(struct pool *pool)
{
    for (size_t i = 0; i < POOL_N_LISTS; i++) {
        struct pool_slab *slab;

        LIST_FOR_EACH_SAFE (slab, node, &pool->lists[i]) {
#ifdef POOL_ASAN
            ASAN_UNPOISON_MEMORY_REGION(slab, POOL_SLAB_SIZE);
            __lsan_unregister_root_region(slab, POOL_SLAB_SIZE);
#endif
            munmap(slab, POOL_SLAB_SIZE);
        }
    }
    pthread_mutex_destroy(&pool->mutex);
    free(pool);
}

static void
pool_unref(struct pool *pool)
{
    if (atomic_sub_fetch_acq_rel(&pool->refcnt, 1) == 0) {
        pool_free_all(pool);
    }
}

void
pool_free(void *obj_)
{
    struct pool_obj *obj = obj_;
    struct pool *pool;
    struct pool_obj *head;

    if (!obj) {
        return;
    }
    pool = pool_slab_of(obj)->pool;
    /* Before the push: once pushed, the object may be handed out. */
    pool_poison(obj, pool->obj_size);
    head = atomic_load_relaxed(&pool->returned);
    do {
        obj->next = head;
    } while (!atomic_cas_weak_release(&pool->returned, &head, obj));
    /* A slab's worth back: file them now, unless the pool is busy, so
     * that the slabs a storm empties start their idle time even if
     * nothing is allocated afterwards. */
    if (atomic_add_fetch_relaxed(&pool->n_returned, 1) >= pool->per_slab
        && !pthread_mutex_trylock(&pool->mutex)) {
        pool_file_returned(pool, time_msec());
        pthread_mutex_unlock(&pool->mutex);
    }
    pool_unref(pool);
}

void
pool_destroy(struct pool *pool)
{
    if (pool) {
        pool_unref(pool);
    }
}

/* pool_trim() and pool_trim_idle(). */
static size_t
pool_trim__(struct pool *pool, uint64_t idle_ms)
{
    uint64_t now = time_msec();
    uint64_t before;

    pthread_mutex_lock(&pool->mutex);
    before = pool->n_unmaps;
    pool_file_returned(pool, now);
    pool_unmap_empty(pool, now >= idle_ms ? now - idle_ms : 0);
    pthread_mutex_unlock(&pool->mutex);
    return (size_t)(atomic_load_relaxed(&pool->n_unmaps) - before)
           * POOL_SLAB_SIZE;
}

size_t
pool_trim(struct pool *pool)
{
    return pool_trim__(pool, 0);
}

size_t
pool_trim_idle(struct pool *pool, uint64_t idle_ms)
{
    return pool_trim__(pool, idle_ms);
}

void
pool_get_stats(const struct pool *pool, struct pool_stats *stats)
{
    uint64_t refcnt = atomic_load_relaxed(&pool->refcnt);

    memset(stats, 0, sizeof *stats);
    stats->obj_size = pool->obj_size;
    stats->per_slab = pool->per_slab;
    stats->n_live = refcnt ? (size_t)refcnt - 1 : 0;
    stats->n_slabs = atomic_load_relaxed(&pool->n_slabs);
    stats->n_bytes = stats->n_slabs * POOL_SLAB_SIZE;
    stats->n_maps = atomic_load_relaxed(&pool->n_maps);
    stats->n_unmaps = atomic_load_relaxed(&pool->n_unmaps);
}
