/*
 * netdev/netdev-provider.h — what a port back end implements (private to
 * src/netdev).
 *
 * netdev.c owns the generic part of every port: its name, its type and its
 * counters (struct netdev).  A back end embeds struct netdev at the start of
 * its own structure and fills a struct netdev_class with its operations;
 * netdev.c dispatches to them and formats the user-facing errors.
 *
 * Counters.  struct netdev_counters holds one relaxed atomic per counter of
 * struct netdev_stats.  Back ends add to them once per batch (not per
 * packet), from whatever thread runs recv or send, so concurrent senders
 * need no lock for counting and netdev_get_stats() can read them at any
 * time.  A counter and its coverage counter always move together: a drop
 * path calls netdev_count_rx_drop()/netdev_count_tx_drop() *and* its own
 * COVERAGE_ADD().
 *
 * Thread safety: as in netdev.h.  'open' and 'close' run in the managing
 * thread; 'recv' and 'get_rx_fd' in the one thread polling the port;
 * 'send' in any number of threads at once; 'get_stats' (which only adds
 * back-end counters that live outside struct netdev_counters, e.g. the
 * kernel's drop count) in any thread.
 */
#ifndef FLOWSWITCH_NETDEV_NETDEV_PROVIDER_H
#define FLOWSWITCH_NETDEV_NETDEV_PROVIDER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/atomic.h"
#include "netdev/netdev.h"

struct netdev_counters {
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t rx_dropped, tx_dropped;
    uint64_t rx_errors, tx_errors;
};

struct netdev {
    const struct netdev_class *class;
    char *name;
    struct netdev_counters counters;
};

struct netdev_class {
    const char *type;

    /* Allocates and opens a port.  On failure returns an errno value and
     * sets '*detailp' to the reason (without the port name, which netdev.c
     * adds), e.g. "No such device" or "rx file: /x.pcap: No such file". */
    int (*open)(const char *name, const struct netdev_options *,
                struct netdev **netdevp, char **detailp);
    /* Releases everything, including the memory of 'netdev'. */
    void (*close)(struct netdev *netdev);

    int (*recv)(struct netdev *netdev, struct dp_packet_batch *batch);
    int (*get_rx_fd)(const struct netdev *netdev);
    /* Sends and empties 'batch'.  Counts tx_packets/tx_bytes/tx_dropped
     * itself. */
    void (*send)(struct netdev *netdev, struct dp_packet_batch *batch,
                 bool may_steal);
    /* May be NULL.  Adds back-end counters to '*stats', which already holds
     * the struct netdev_counters. */
    void (*get_stats)(const struct netdev *netdev, struct netdev_stats *stats);
    /* May be NULL (false). */
    bool (*is_lossless)(const struct netdev *netdev);
    /* May be NULL (nothing buffered). */
    void (*flush)(struct netdev *netdev);
    /* May be NULL (no status).  Appends KEY=VALUE words. */
    void (*get_status)(const struct netdev *netdev, struct ds *s);
};

extern const struct netdev_class netdev_memory_class;
extern const struct netdev_class netdev_pcap_class;
extern const struct netdev_class netdev_afpacket_class;
extern const struct netdev_class netdev_afxdp_class;
extern const struct netdev_class netdev_tap_class;

/* Gives the UMEM frames of the external packets 'pkts' back to their
 * UMEMs (netdev-afxdp.c), one lock per run of packets of the same UMEM.
 * Any thread. */
void netdev_afxdp_release_batch(struct dp_packet **pkts, size_t n);

/* Initializes the generic part of a port that a back end allocated. */
void netdev_init(struct netdev *, const struct netdev_class *,
                 const char *name);
/* Frees what netdev_init() allocated (not 'netdev' itself). */
void netdev_uninit(struct netdev *);

static inline void
netdev_counter_add(uint64_t *counter, uint64_t n)
{
    if (n) {
        atomic_fetch_add_relaxed(counter, n);
    }
}

static inline void
netdev_count_rx(struct netdev *netdev, uint64_t packets, uint64_t bytes)
{
    netdev_counter_add(&netdev->counters.rx_packets, packets);
    netdev_counter_add(&netdev->counters.rx_bytes, bytes);
}

static inline void
netdev_count_tx(struct netdev *netdev, uint64_t packets, uint64_t bytes)
{
    netdev_counter_add(&netdev->counters.tx_packets, packets);
    netdev_counter_add(&netdev->counters.tx_bytes, bytes);
}

/* Takes back packets counted by netdev_count_tx() that turned out not to be
 * sent (the caller counts them as errors). */
static inline void
netdev_uncount_tx(struct netdev *netdev, uint64_t packets, uint64_t bytes)
{
    atomic_fetch_sub_relaxed(&netdev->counters.tx_packets, packets);
    atomic_fetch_sub_relaxed(&netdev->counters.tx_bytes, bytes);
}

static inline void
netdev_count_rx_drop(struct netdev *netdev, uint64_t n)
{
    netdev_counter_add(&netdev->counters.rx_dropped, n);
}

static inline void
netdev_count_tx_drop(struct netdev *netdev, uint64_t n)
{
    netdev_counter_add(&netdev->counters.tx_dropped, n);
}

static inline void
netdev_count_rx_error(struct netdev *netdev, uint64_t n)
{
    netdev_counter_add(&netdev->counters.rx_errors, n);
}

static inline void
netdev_count_tx_error(struct netdev *netdev, uint64_t n)
{
    netdev_counter_add(&netdev->counters.tx_errors, n);
}

/* Returns the packets of 'batch' to the pool if 'may_steal' (the port owns
 * them), and empties it either way. */
void netdev_batch_release(struct dp_packet_batch *batch, bool may_steal);

/* Creates a nonblocking eventfd (close-on-exec).  Returns the fd or -1 with
 * errno set. */
int netdev_eventfd_create(void);
/* Makes 'fd' readable (idempotent in effect), or drains it. */
void netdev_eventfd_signal(int fd);
void netdev_eventfd_drain(int fd);

#endif /* netdev/netdev-provider.h */
