/* netdev/netdev-memory.c — the `memory` port: in-process bounded rx and tx
 * rings, plus the generator and sink modes for benchmarks (see netdev.h).
 *
 * Each ring is a circular array of packet pointers under its own mutex:
 * netdev_memory_inject() (any thread) and recv (the poll thread) meet on
 * the rx ring, send (any threads) and netdev_memory_collect() on the tx
 * ring.  A lock per batch is cheap next to 32 packets of work, and keeps
 * the port trivially correct under ThreadSanitizer.
 *
 * The rx fd is an eventfd that is readable exactly while recv has
 * something to return: the rx ring is not empty or a generator is set
 * (including a finished one, whose recv returns EOF).  It is updated under
 * the rx mutex whenever that changes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/util.h"
#include "netdev/netdev-provider.h"

COVERAGE_DEFINE(netdev_memory_rx_ring_full);
COVERAGE_DEFINE(netdev_memory_tx_ring_full);

#define NETDEV_MEMORY_DEFAULT_RING 4096
#define NETDEV_MEMORY_MAX_RING (1u << 22)

struct netdev_memory_ring {
    struct dp_packet **slots;
    unsigned int size;  /* Capacity. */
    unsigned int head;  /* Index of the oldest packet. */
    unsigned int count; /* Packets queued. */
};

struct netdev_memory {
    struct netdev up;

    pthread_mutex_t rx_mutex;
    struct netdev_memory_ring rx;  /* Guarded by rx_mutex. */
    int rx_fd;                     /* eventfd. */
    bool rx_fd_signaled;           /* Guarded by rx_mutex. */
    struct dp_packet **gen_frames; /* Generator frames, guarded by */
    size_t gen_n, gen_next;        /* rx_mutex like the rest of the */
    uint64_t gen_total, gen_sent;  /* generator. */

    pthread_mutex_t tx_mutex;
    struct netdev_memory_ring tx; /* Guarded by tx_mutex. */
    bool sink;
};

static struct netdev_memory *
netdev_memory_cast(const struct netdev *netdev)
{
    return CONTAINER_OF(netdev, struct netdev_memory, up);
}

static bool
netdev_is_memory(const struct netdev *netdev)
{
    return netdev->class == &netdev_memory_class;
}

static void
netdev_memory_ring_init(struct netdev_memory_ring *ring, unsigned int size)
{
    ring->slots = xcalloc(size, sizeof(struct dp_packet *));
    ring->size = size;
    ring->head = 0;
    ring->count = 0;
}

static void
netdev_memory_ring_destroy(struct netdev_memory_ring *ring)
{
    for (unsigned int i = 0; i < ring->count; i++) {
        dp_packet_delete(ring->slots[(ring->head + i) % ring->size]);
    }
    free(ring->slots);
}

static bool
netdev_memory_ring_push(struct netdev_memory_ring *ring, struct dp_packet *pkt)
{
    if (ring->count >= ring->size) {
        return false;
    }
    ring->slots[(ring->head + ring->count++) % ring->size] = pkt;
    return true;
}

static struct dp_packet *
netdev_memory_ring_pop(struct netdev_memory_ring *ring)
{
    struct dp_packet *pkt;

    if (!ring->count) {
        return NULL;
    }
    pkt = ring->slots[ring->head];
    ring->head = (ring->head + 1) % ring->size;
    ring->count--;
    return pkt;
}

/* Makes the rx fd readable exactly when recv has something to say.
 * Caller holds rx_mutex. */
static void
netdev_memory_update_rx_fd(struct netdev_memory *dev)
{
    bool want = dev->rx.count > 0 || dev->gen_n > 0;

    if (want != dev->rx_fd_signaled) {
        if (want) {
            netdev_eventfd_signal(dev->rx_fd);
        } else {
            netdev_eventfd_drain(dev->rx_fd);
        }
        dev->rx_fd_signaled = want;
    }
}

static int
netdev_memory_open(const char *name, const struct netdev_options *options,
                   struct netdev **netdevp, char **detailp)
{
    unsigned int ring_size = options->ring_size;
    struct netdev_memory *dev;
    int fd;

    if (!ring_size) {
        ring_size = NETDEV_MEMORY_DEFAULT_RING;
    } else if (ring_size > NETDEV_MEMORY_MAX_RING) {
        *detailp = xasprintf("ring size %u is too large (at most %u)",
                             ring_size, NETDEV_MEMORY_MAX_RING);
        return EINVAL;
    }
    fd = netdev_eventfd_create();
    if (fd < 0) {
        return errno;
    }

    dev = xzalloc(sizeof *dev);
    netdev_init(&dev->up, &netdev_memory_class, name);
    pthread_mutex_init(&dev->rx_mutex, NULL);
    netdev_memory_ring_init(&dev->rx, ring_size);
    dev->rx_fd = fd;
    pthread_mutex_init(&dev->tx_mutex, NULL);
    netdev_memory_ring_init(&dev->tx, ring_size);
    atomic_store_relaxed(&dev->sink, false);
    *netdevp = &dev->up;
    return 0;
}

static void
netdev_memory_free_generator(struct netdev_memory *dev)
{
    for (size_t i = 0; i < dev->gen_n; i++) {
        dp_packet_delete(dev->gen_frames[i]);
    }
    free(dev->gen_frames);
    dev->gen_frames = NULL;
    dev->gen_n = dev->gen_next = 0;
    dev->gen_total = dev->gen_sent = 0;
}

static void
netdev_memory_close(struct netdev *netdev)
{
    struct netdev_memory *dev = netdev_memory_cast(netdev);

    netdev_memory_ring_destroy(&dev->rx);
    netdev_memory_ring_destroy(&dev->tx);
    netdev_memory_free_generator(dev);
    close(dev->rx_fd);
    pthread_mutex_destroy(&dev->rx_mutex);
    pthread_mutex_destroy(&dev->tx_mutex);
    netdev_uninit(&dev->up);
    free(dev);
}

/* Copies 'src' into a pool packet (data and in_port only). */
static struct dp_packet *
netdev_memory_copy(const void *data, size_t size)
{
    struct dp_packet *pkt = netdev_packet_alloc();

    dp_packet_put(pkt, data, size);
    return pkt;
}

/* Fills 'batch' from the generator.  Caller holds rx_mutex. */
static void
netdev_memory_generate(struct netdev_memory *dev,
                       struct dp_packet_batch *batch)
{
    uint64_t left = dev->gen_total - dev->gen_sent;
    unsigned int n = (unsigned int)MIN(left, PACKET_BATCH_MAX - batch->count);

    for (unsigned int i = 0; i < n; i++) {
        const struct dp_packet *frame = dev->gen_frames[dev->gen_next];

        if (++dev->gen_next == dev->gen_n) {
            dev->gen_next = 0;
        }
        batch->packets[batch->count++] =
            netdev_memory_copy(dp_packet_data(frame), dp_packet_size(frame));
    }
    dev->gen_sent += n;
}

static int
netdev_memory_recv(struct netdev *netdev, struct dp_packet_batch *batch)
{
    struct netdev_memory *dev = netdev_memory_cast(netdev);
    bool eof = false;
    uint64_t bytes = 0;

    pthread_mutex_lock(&dev->rx_mutex);
    while (batch->count < PACKET_BATCH_MAX && dev->rx.count) {
        batch->packets[batch->count++] = netdev_memory_ring_pop(&dev->rx);
    }
    if (dev->gen_n && batch->count < PACKET_BATCH_MAX) {
        if (dev->gen_sent < dev->gen_total) {
            netdev_memory_generate(dev, batch);
        } else {
            eof = !batch->count;
        }
    }
    netdev_memory_update_rx_fd(dev);
    pthread_mutex_unlock(&dev->rx_mutex);

    if (!batch->count) {
        return eof ? EOF : EAGAIN;
    }
    for (unsigned int i = 0; i < batch->count; i++) {
        bytes += dp_packet_size(batch->packets[i]);
    }
    netdev_count_rx(netdev, batch->count, bytes);
    return 0;
}

static int
netdev_memory_get_rx_fd(const struct netdev *netdev)
{
    return netdev_memory_cast(netdev)->rx_fd;
}

static void
netdev_memory_send(struct netdev *netdev, struct dp_packet_batch *batch,
                   bool may_steal)
{
    struct netdev_memory *dev = netdev_memory_cast(netdev);
    unsigned int sent = 0;
    uint64_t bytes = 0;

    if (atomic_load_relaxed(&dev->sink)) {
        for (unsigned int i = 0; i < batch->count; i++) {
            bytes += dp_packet_size(batch->packets[i]);
        }
        netdev_count_tx(netdev, batch->count, bytes);
        netdev_batch_release(batch, may_steal);
        return;
    }

    pthread_mutex_lock(&dev->tx_mutex);
    for (; sent < batch->count && dev->tx.count < dev->tx.size; sent++) {
        struct dp_packet *pkt = batch->packets[sent];
        struct dp_packet *copy;

        bytes += dp_packet_size(pkt);
        if (may_steal) {
            copy = pkt;
        } else {
            copy =
                netdev_memory_copy(dp_packet_data(pkt), dp_packet_size(pkt));
            copy->in_port = pkt->in_port;
        }
        (void)netdev_memory_ring_push(&dev->tx, copy);
    }
    pthread_mutex_unlock(&dev->tx_mutex);

    netdev_count_tx(netdev, sent, bytes);
    if (sent < batch->count) {
        unsigned int dropped = batch->count - sent;

        COVERAGE_ADD(netdev_memory_tx_ring_full, dropped);
        netdev_count_tx_drop(netdev, dropped);
        if (may_steal) {
            for (unsigned int i = sent; i < batch->count; i++) {
                netdev_packet_recycle(batch->packets[i]);
            }
        }
    }
    batch->count = 0;
}

int
netdev_memory_inject(struct netdev *netdev, const void *data, size_t size)
{
    struct netdev_memory *dev;
    struct dp_packet *pkt;
    bool queued;

    if (!netdev_is_memory(netdev)) {
        return EOPNOTSUPP;
    }
    dev = netdev_memory_cast(netdev);
    pkt = netdev_memory_copy(data, size);

    pthread_mutex_lock(&dev->rx_mutex);
    queued = netdev_memory_ring_push(&dev->rx, pkt);
    netdev_memory_update_rx_fd(dev);
    pthread_mutex_unlock(&dev->rx_mutex);

    if (!queued) {
        COVERAGE_INC(netdev_memory_rx_ring_full);
        netdev_count_rx_drop(netdev, 1);
        netdev_packet_recycle(pkt);
        return ENOBUFS;
    }
    return 0;
}

struct dp_packet *
netdev_memory_collect(struct netdev *netdev)
{
    struct netdev_memory *dev;
    struct dp_packet *pkt;

    if (!netdev_is_memory(netdev)) {
        return NULL;
    }
    dev = netdev_memory_cast(netdev);
    pthread_mutex_lock(&dev->tx_mutex);
    pkt = netdev_memory_ring_pop(&dev->tx);
    pthread_mutex_unlock(&dev->tx_mutex);
    return pkt;
}

void
netdev_memory_set_generator(struct netdev *netdev,
                            const struct dp_packet *const frames[],
                            size_t n_frames, uint64_t total)
{
    struct dp_packet **copies = NULL;
    struct netdev_memory *dev;
    struct dp_packet **old;
    size_t old_n;

    if (!netdev_is_memory(netdev)) {
        return;
    }
    dev = netdev_memory_cast(netdev);
    if (n_frames) {
        copies = xcalloc(n_frames, sizeof(struct dp_packet *));
        for (size_t i = 0; i < n_frames; i++) {
            copies[i] = dp_packet_clone(frames[i]);
        }
    }

    pthread_mutex_lock(&dev->rx_mutex);
    old = dev->gen_frames;
    old_n = dev->gen_n;
    dev->gen_frames = copies;
    dev->gen_n = n_frames;
    dev->gen_next = 0;
    dev->gen_total = n_frames ? total : 0;
    dev->gen_sent = 0;
    netdev_memory_update_rx_fd(dev);
    pthread_mutex_unlock(&dev->rx_mutex);

    for (size_t i = 0; i < old_n; i++) {
        dp_packet_delete(old[i]);
    }
    free(old);
}

void
netdev_memory_set_sink(struct netdev *netdev, bool sink)
{
    if (netdev_is_memory(netdev)) {
        atomic_store_relaxed(&netdev_memory_cast(netdev)->sink, sink);
    }
}

const struct netdev_class netdev_memory_class = {
    .type = "memory",
    .open = netdev_memory_open,
    .close = netdev_memory_close,
    .recv = netdev_memory_recv,
    .get_rx_fd = netdev_memory_get_rx_fd,
    .send = netdev_memory_send,
};
