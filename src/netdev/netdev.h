/*
 * netdev/netdev.h — ports: where packets enter and leave the switch.
 *
 * A netdev is one port back end, opened by type:
 *
 *   memory   in-process bounded rx and tx rings (ring_size, default
 *            4096); tests and benchmarks inject frames with
 *            netdev_memory_inject() and collect transmitted ones with
 *            netdev_memory_collect().  Never touches the kernel.  For
 *            benchmarks, a generator mode (recv hands out copies of a fixed
 *            frame set until a total, then EOF) and a sink mode (send counts
 *            and recycles).  netdev-memory.c.
 *   pcap     rx from a capture file (options rx=FILE, rate=PPS, loop=N),
 *            tx written to a capture file (tx=FILE, created or truncated),
 *            through libpcap so tcpdump and Wireshark read the output.
 *            Unpaced, a pcap rx port is a *lossless replay*
 *            (netdev_is_lossless() is true): the datapath waits for room in
 *            the upcall queue rather than drop, so a replay is
 *            deterministic.  Paced, it behaves like a wire feeding a NIC
 *            ring of ring_size frames (default 1024): frames the datapath
 *            falls further behind on are dropped and counted in rx_dropped.
 *            recv returns EOF after the last frame of the last loop.
 *            Without tx=FILE, frames sent are counted in tx_dropped; with
 *            neither rx nor tx, the port is valid and recv returns EOF.
 *            netdev-pcap.c.
 *   afpacket a Linux interface (the port name) through AF_PACKET sockets
 *            with PACKET_MMAP rings: TPACKET_V3 rx (16 MB), TPACKET_V2 tx
 *            with one sendto() per batch, promiscuous, blind to its own
 *            transmissions, VLAN tags the kernel strips put back, kernel
 *            ring drops counted in rx_dropped, partial checksums and GSO
 *            frames from local stacks finished through a vnet header
 *            (netdev-vnet.h).  Needs CAP_NET_RAW.  netdev-afpacket.c.
 *   afxdp    a Linux interface (the port name) through AF_XDP sockets
 *            (libxdp, libbpf): one socket per receive queue, libxdp's
 *            default XDP redirect program, native XDP mode where the
 *            driver has it and skb mode otherwise (option xdp_mode
 *            forces one; netdev_get_status() says which is in use), and
 *            one UMEM shared by every afxdp port of the process, so that
 *            forwarding from one afxdp port to another copies nothing:
 *            received packets live in UMEM frames (external packets,
 *            packet.h) until they are sent or recycled.  Needs root (or
 *            CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF and enough
 *            RLIMIT_MEMLOCK for a 64 MB UMEM) and an MTU up to 1772.
 *            netdev-afxdp.c.
 *   tap      a TAP device the switch creates and brings up (its LOCAL
 *            port); read()/write() one frame at a time, behind a vnet
 *            header (offloads finished as for afpacket).  Needs
 *            CAP_NET_ADMIN.  netdev-tap.c.
 *
 * Receive and transmit are batch-oriented (up to PACKET_BATCH_MAX frames).
 * Received packets belong to the caller, who returns them with
 * dp_packet_delete() or by sending them; each port may recycle its buffers
 * through a pool, so the fast path does not call malloc per packet.
 *
 * Packet pool.  struct dp_packet has no "owner" field (packet.h belongs to
 * the packet module, and a pool pointer per packet would tie every packet
 * to a port that may be closed before the packet dies), so buffers do not
 * know where they came from.  Instead the netdev module keeps one pool of
 * same-sized buffers (NETDEV_POOL_BUF_SIZE bytes, DP_PACKET_HEADROOM of
 * headroom) shared by every port, in two tiers:
 *
 *   - a per-thread cache (a plain array, no lock, no atomic): recv takes
 *     buffers from the cache of the thread that polls the port, and
 *     netdev_packet_recycle() — which every port's send calls for the
 *     packets it was allowed to steal — puts them back into the cache of
 *     the thread that sends;
 *   - a global depot under a mutex that balances the caches: a cache that
 *     grows past NETDEV_POOL_CACHE_MAX hands half of it to the depot, an
 *     empty one takes a batch from it.  The depot is bounded too; beyond
 *     it, buffers are freed.
 *
 * So a poll thread that receives and sends its own packets (the common
 * run-to-completion case) never touches the depot, and packets that cross
 * threads (through an upcall queue to a handler that executes them) flow
 * back through the depot one batch at a time.  A packet that is freed with
 * dp_packet_delete() instead is simply lost to the pool (it is a normal
 * malloc'd dp_packet) and the pool allocates a new one later, counted by the
 * coverage counter netdev_pool_alloc; callers on the fast path should use
 * netdev_packet_recycle() or netdev_batch_recycle() for packets they drop.
 * Any dp_packet may be recycled: one whose buffer is not the pool's size is
 * freed, and one that lives in an afxdp port's UMEM frame goes back to its
 * UMEM (a batch under one lock), never into the pool.  A port may be closed while its packets are still in flight: they
 * belong to the pool, not to the port.
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

struct ds;
struct netdev;

/* Options of netdev_open(), as parsed from a port SPEC
 * (NAME[,type=T][,ofport=N][,rx=FILE][,tx=FILE][,rate=PPS][,loop=N]). */
struct netdev_options {
    const char *rx_path; /* pcap: capture to replay (NULL: no rx). */
    const char *tx_path; /* pcap: capture to write (NULL: tx counted and
                          * dropped). */
    uint64_t rate_pps;   /* pcap: pacing; 0 = as fast as possible. */
    unsigned int loops;  /* pcap: replay the file this many times (0 = 1). */
    unsigned int ring_size; /* memory: rx and tx ring size; pcap: paced
                             * backlog (0: default).  Ignored by others. */
    const char *xdp_mode;   /* afxdp: "native", "skb" or "auto" (NULL):
                             * native if the driver has it, else skb. */
};

/* Every frame offered to netdev_send() ends in exactly one of tx_packets,
 * tx_dropped or tx_errors; every frame a port was handed by its source
 * ends in rx_packets or rx_dropped (rx_errors counts failed reads, not
 * frames).  Each drop also bumps a coverage counter named netdev_*. */
struct netdev_stats {
    uint64_t rx_packets, rx_bytes; /* Frames returned by netdev_recv(). */
    uint64_t tx_packets, tx_bytes; /* Frames handed to the wire/file/ring. */
    uint64_t rx_dropped; /* Frames the port had to drop on receive (ring
                          * full, kernel ring overrun, paced backlog). */
    uint64_t tx_dropped; /* Frames that could not be sent (ring full,
                          * congestion, no tx file, bad size...). */
    uint64_t rx_errors;  /* Receive failures (read errors, damaged file). */
    uint64_t tx_errors;  /* Frames that failed to send with an error. */
};

/* Opens port 'name' of 'type' ("memory", "pcap", "afpacket", "afxdp",
 * "tap").
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

/* Takes the error pending on the port's rx fd, if it is a socket (an
 * AF_PACKET socket gets ENETDOWN when its interface goes down or
 * vanishes, and poll() reports POLLERR until the error is taken).
 * Returns it (counted in rx_errors and netdev_rx_socket_error, and
 * logged), or 0.  The polling thread only. */
int netdev_rx_take_error(struct netdev *);

/* Sends every packet of 'batch' and empties it.  With 'may_steal' the port
 * takes ownership of the packets (and frees or recycles them); otherwise it
 * copies what it must and the caller keeps them.  Frames that cannot be
 * sent are counted in tx_dropped, never silently discarded. */
void netdev_send(struct netdev *, struct dp_packet_batch *batch,
                 bool may_steal);

void netdev_get_stats(const struct netdev *, struct netdev_stats *);

/* Appends what the port's back end wants an operator to know, as
 * space-separated KEY=VALUE words (an afxdp port: "xdp-mode=native
 * rx-queues=1 umem=1 ..."), or nothing.  Any thread. */
void netdev_get_status(const struct netdev *, struct ds *);

/* True for a port whose receive side must never lose a frame to a full
 * upcall queue (an unpaced pcap replay): the datapath waits instead. */
bool netdev_is_lossless(const struct netdev *);

/* Flushes buffered output (pcap tx) to its file.  A no-op for other
 * types, which buffer nothing past netdev_send(). */
void netdev_flush(struct netdev *);

/* Packet pool (see "Packet pool" above).  Any thread may call these. */

/* Size of a pool buffer, headroom included; frames up to
 * NETDEV_POOL_BUF_SIZE - DP_PACKET_HEADROOM - 8 bytes fit without
 * reallocation (a jumbo frame still works, through the slow path). */
#define NETDEV_POOL_BUF_SIZE 2048
/* Most buffers a thread caches before it gives half to the depot. */
#define NETDEV_POOL_CACHE_MAX 512

/* Returns an empty packet with DP_PACKET_HEADROOM of headroom, from the
 * calling thread's pool cache when it can (never NULL). */
struct dp_packet *netdev_packet_alloc(void);
/* Returns 'pkt' to the calling thread's pool cache (or frees it).  Use it
 * instead of dp_packet_delete() for packets that came from netdev_recv().
 * NULL is a no-op. */
void netdev_packet_recycle(struct dp_packet *pkt);
/* Recycles every packet of 'batch' and empties it. */
void netdev_batch_recycle(struct dp_packet_batch *batch);
/* Frees the calling thread's cache and the depot (tests, shutdown).  Other
 * threads' caches are freed when those threads exit. */
void netdev_pool_purge(void);

/* Memory ports only. */
/* Queues a copy of 'data' on the rx ring.  Returns 0, or ENOBUFS when the
 * ring is full (counted as rx_dropped).  May be called from any thread. */
int netdev_memory_inject(struct netdev *, const void *data, size_t size);
/* Takes one transmitted packet off the tx ring (NULL if empty); the caller
 * deletes it.  May be called from any thread. */
struct dp_packet *netdev_memory_collect(struct netdev *);

/* Generator mode, for benchmarks: after the rx ring is empty, recv hands
 * out copies of 'frames[0..n_frames)' round-robin (each in a pool buffer,
 * so there is no malloc per packet once the pool is warm) until it has
 * handed out 'total' packets in all, then returns EOF.  'total' of
 * UINT64_MAX means forever.  The port keeps its own copy of the frames.
 * n_frames == 0 turns the generator off (recv returns EAGAIN again).  May
 * be called while the port is polled. */
void netdev_memory_set_generator(struct netdev *,
                                 const struct dp_packet *const frames[],
                                 size_t n_frames, uint64_t total);
/* Sink mode, for benchmarks: when 'sink' is true, send counts packets as
 * transmitted and recycles them instead of queuing them on the tx ring. */
void netdev_memory_set_sink(struct netdev *, bool sink);

#endif /* netdev/netdev.h */
