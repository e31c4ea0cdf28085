/*
 * netdev/netdev.h — ports: where packets enter and leave the switch.
 *
 * A netdev is one port back end, opened by type:
 *
 *   memory   in-process rx and tx rings; tests and benchmarks inject frames
 *            with netdev_memory_inject() and collect transmitted ones with
 *            netdev_memory_collect().  Never touches the kernel.
 *   pcap     rx from a capture file (options rx=FILE, rate=PPS, loop=N),
 *            tx appended to a capture file (tx=FILE), through libpcap so
 *            tcpdump and Wireshark read the output.  Unpaced, a pcap rx port
 *            is a *lossless replay* (netdev_is_lossless() is true): the
 *            datapath waits for room in the upcall queue rather than drop,
 *            so a replay is deterministic.  Paced, it behaves like a wire
 *            and its losses are counted.
 *   afpacket a Linux interface through an AF_PACKET socket with PACKET_MMAP
 *            rings (TPACKET_V3 rx, batched tx), promiscuous.
 *   tap      a TAP device the switch creates (its LOCAL port).
 *
 * Receive and transmit are batch-oriented (up to PACKET_BATCH_MAX frames).
 * Received packets belong to the caller, who returns them with
 * dp_packet_delete() or by sending them; each port may recycle its buffers
 * through a pool, so the fast path does not call malloc per packet.
 *
 * Every frame a port is handed or gives up is counted in struct
 * netdev_stats: nothing is lost silently (DESIGN.md §4).
 *
 * Thread safety: a netdev's rx queue is polled by one thread at a time (the
 * datapath thread that owns it); netdev_send() may be called from several
 * threads at once (each back end serializes its own tx, with a lock or per
 * thread queues); netdev_get_stats() may be called from any thread at any
 * time.  netdev_open()/netdev_close() are called by the thread that manages
 * ports, after the port has been removed from every polling thread.
 */
#ifndef FLOWSWITCH_NETDEV_NETDEV_H
#define FLOWSWITCH_NETDEV_NETDEV_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/packet.h"

struct netdev;

/* Options of netdev_open(), as parsed from a port SPEC
 * (NAME[,type=T][,ofport=N][,rx=FILE][,tx=FILE][,rate=PPS][,loop=N]). */
struct netdev_options {
    const char *rx_path; /* pcap: capture to replay (NULL: no rx). */
    const char *tx_path; /* pcap: capture to write (NULL: tx counted and
                          * dropped). */
    uint64_t rate_pps;   /* pcap: pacing; 0 = as fast as possible. */
    unsigned int loops;  /* pcap: replay the file this many times (0 = 1). */
    unsigned int ring_size; /* memory: rx and tx ring size (0: default). */
};

struct netdev_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t rx_dropped; /* Frames the port had to drop on receive. */
    uint64_t tx_dropped; /* Frames that could not be sent (ring full...). */
    uint64_t rx_errors, tx_errors;
};

/* Opens port 'name' of 'type' ("memory", "pcap", "afpacket", "tap").
 * Returns 0 and sets '*netdevp', or an errno value and sets '*errorp' to a
 * one-line message the caller frees. */
int netdev_open(const char *name, const char *type,
                const struct netdev_options *, struct netdev **netdevp,
                char **errorp);
void netdev_close(struct netdev *);

const char *netdev_get_name(const struct netdev *);
const char *netdev_get_type(const struct netdev *);

/* Receives up to PACKET_BATCH_MAX frames into the empty 'batch'.  Returns 0
 * with at least one packet, EAGAIN when none is ready now, EOF when the port
 * will never receive again (a pcap replay that has finished), or another
 * errno value on error (counted in rx_errors). */
int netdev_recv(struct netdev *, struct dp_packet_batch *batch);

/* A file descriptor that becomes readable when netdev_recv() may have
 * packets, for an idle poll thread to sleep on; -1 if the port has none
 * (the caller then polls with a short sleep). */
int netdev_get_rx_fd(const struct netdev *);

/* Sends every packet of 'batch' and empties it.  With 'may_steal' the port
 * takes ownership of the packets (and frees or recycles them); otherwise it
 * copies what it must and the caller keeps them.  Frames that cannot be
 * sent are counted in tx_dropped, never silently discarded. */
void netdev_send(struct netdev *, struct dp_packet_batch *batch,
                 bool may_steal);

void netdev_get_stats(const struct netdev *, struct netdev_stats *);

/* True for a port whose receive side must never lose a frame to a full
 * upcall queue (an unpaced pcap replay): the datapath waits instead. */
bool netdev_is_lossless(const struct netdev *);

/* Flushes buffered output (pcap tx) to its file. */
void netdev_flush(struct netdev *);

/* Memory ports only. */
/* Queues a copy of 'data' on the rx ring.  Returns 0, or ENOBUFS when the
 * ring is full (counted as rx_dropped). */
int netdev_memory_inject(struct netdev *, const void *data, size_t size);
/* Takes one transmitted packet off the tx ring (NULL if empty); the caller
 * deletes it. */
struct dp_packet *netdev_memory_collect(struct netdev *);

#endif /* netdev/netdev.h */
