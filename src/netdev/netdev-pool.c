/* netdev/netdev-pool.c — the packet buffer pool shared by every port: a
 * lock-free per-thread cache in front of a mutex-protected depot (see
 * "Packet pool" in netdev.h). */
#include <pthread.h>
#include <stdlib.h>

#include "lib/coverage.h"
#include "lib/util.h"
#include "netdev/netdev-provider.h"

COVERAGE_DEFINE(netdev_pool_alloc);
COVERAGE_DEFINE(netdev_pool_free);

/* Offset of the first data byte of a fresh packet (as packet.c computes it
 * for DP_PACKET_HEADROOM), so that a pool buffer is exactly
 * NETDEV_POOL_BUF_SIZE bytes. */
#define NETDEV_POOL_DATA_OFS                                                  \
    (ROUND_UP(DP_PACKET_HEADROOM, 8) + DP_PACKET_IP_ALIGN)
/* Buffers moved between a cache and the depot at a time. */
#define NETDEV_POOL_XFER (NETDEV_POOL_CACHE_MAX / 2)
/* Most buffers the depot keeps (8192 x 2 kB = 16 MB). */
#define NETDEV_POOL_DEPOT_MAX 8192

BUILD_ASSERT(NETDEV_POOL_BUF_SIZE > NETDEV_POOL_DATA_OFS + 1518);

struct netdev_pool_cache {
    unsigned int n;
    struct dp_packet *pkts[NETDEV_POOL_CACHE_MAX];
};

static __thread struct netdev_pool_cache *pool_cache;
static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t depot_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct dp_packet *depot[NETDEV_POOL_DEPOT_MAX]; /* Guarded by */
static size_t depot_n;                                 /* depot_mutex. */

/* Moves up to 'n' packets from 'pkts' into the depot and frees what does
 * not fit. */
static void
netdev_pool_depot_put(struct dp_packet **pkts, size_t n)
{
    size_t room, moved;

    pthread_mutex_lock(&depot_mutex);
    room = NETDEV_POOL_DEPOT_MAX - depot_n;
    moved = MIN(room, n);
    for (size_t i = 0; i < moved; i++) {
        depot[depot_n++] = pkts[i];
    }
    pthread_mutex_unlock(&depot_mutex);

    if (moved < n) {
        COVERAGE_ADD(netdev_pool_free, n - moved);
        for (size_t i = moved; i < n; i++) {
            dp_packet_delete(pkts[i]);
        }
    }
}

/* Thread exit: the thread's cached buffers go to the depot. */
static void
netdev_pool_thread_exit(void *cache_)
{
    struct netdev_pool_cache *cache = cache_;

    netdev_pool_depot_put(cache->pkts, cache->n);
    free(cache);
}

static void
netdev_pool_make_key(void)
{
    if (pthread_key_create(&pool_key, netdev_pool_thread_exit)) {
        fatal("pthread_key_create failed for the packet pool");
    }
}

static struct netdev_pool_cache *
netdev_pool_get_cache(void)
{
    struct netdev_pool_cache *cache = pool_cache;

    if (UNLIKELY(!cache)) {
        cache = xmalloc(sizeof *cache);
        cache->n = 0;
        pthread_once(&pool_key_once, netdev_pool_make_key);
        pthread_setspecific(pool_key, cache);
        pool_cache = cache;
    }
    return cache;
}

/* Refills an empty cache from the depot.  Slow path. */
static void
netdev_pool_refill(struct netdev_pool_cache *cache)
{
    pthread_mutex_lock(&depot_mutex);
    while (depot_n && cache->n < NETDEV_POOL_XFER) {
        cache->pkts[cache->n++] = depot[--depot_n];
    }
    pthread_mutex_unlock(&depot_mutex);
}

struct dp_packet *
netdev_packet_alloc(void)
{
    struct netdev_pool_cache *cache = netdev_pool_get_cache();

    if (UNLIKELY(!cache->n)) {
        netdev_pool_refill(cache);
        if (!cache->n) {
            COVERAGE_INC(netdev_pool_alloc);
            return dp_packet_new(DP_PACKET_HEADROOM,
                                 NETDEV_POOL_BUF_SIZE - NETDEV_POOL_DATA_OFS);
        }
    }
    return cache->pkts[--cache->n];
}

/* Empties 'pkt' and moves its data start back to the pool's default, so
 * that it is indistinguishable from a fresh pool packet.  Uses only the
 * packet API: a push into the headroom or a put into the tailroom never
 * reallocates here, because the buffer is at least NETDEV_POOL_BUF_SIZE. */
static void
netdev_pool_reset_packet(struct dp_packet *pkt)
{
    size_t ofs = dp_packet_headroom(pkt);

    dp_packet_clear(pkt);
    if (ofs > NETDEV_POOL_DATA_OFS) {
        dp_packet_push_uninit(pkt, ofs - NETDEV_POOL_DATA_OFS);
    } else if (ofs < NETDEV_POOL_DATA_OFS) {
        dp_packet_put_uninit(pkt, NETDEV_POOL_DATA_OFS - ofs);
        dp_packet_pull(pkt, NETDEV_POOL_DATA_OFS - ofs);
    }
    dp_packet_clear(pkt);
}

void
netdev_packet_recycle(struct dp_packet *pkt)
{
    struct netdev_pool_cache *cache;

    if (!pkt) {
        return;
    }
    if (UNLIKELY(dp_packet_is_external(pkt))) {
        dp_packet_delete(pkt); /* Back to its UMEM. */
        return;
    }
    /* A buffer of another size (a clone, a reallocated jumbo frame) would
     * make the pool's memory use unpredictable: free it. */
    if (UNLIKELY(pkt->allocated < NETDEV_POOL_BUF_SIZE
                 || pkt->allocated > 2 * NETDEV_POOL_BUF_SIZE
                 || dp_packet_headroom(pkt) >= pkt->allocated)) {
        COVERAGE_INC(netdev_pool_free);
        dp_packet_delete(pkt);
        return;
    }

    netdev_pool_reset_packet(pkt);
    cache = netdev_pool_get_cache();
    if (UNLIKELY(cache->n >= NETDEV_POOL_CACHE_MAX)) {
        cache->n -= NETDEV_POOL_XFER;
        netdev_pool_depot_put(&cache->pkts[cache->n], NETDEV_POOL_XFER);
    }
    cache->pkts[cache->n++] = pkt;
}

void
netdev_batch_recycle(struct dp_packet_batch *batch)
{
    struct dp_packet *external[PACKET_BATCH_MAX];
    size_t n_external = 0;

    for (unsigned int i = 0; i < batch->count; i++) {
        struct dp_packet *pkt = batch->packets[i];

        if (UNLIKELY(dp_packet_is_external(pkt))) {
            external[n_external++] = pkt;
        } else {
            netdev_packet_recycle(pkt);
        }
    }
    if (n_external) {
        netdev_afxdp_release_batch(external, n_external);
    }
    batch->count = 0;
}

void
netdev_pool_purge(void)
{
    struct netdev_pool_cache *cache = pool_cache;

    if (cache) {
        for (unsigned int i = 0; i < cache->n; i++) {
            dp_packet_delete(cache->pkts[i]);
        }
        cache->n = 0;
    }

    pthread_mutex_lock(&depot_mutex);
    for (size_t i = 0; i < depot_n; i++) {
        dp_packet_delete(depot[i]);
    }
    depot_n = 0;
    pthread_mutex_unlock(&depot_mutex);
}
