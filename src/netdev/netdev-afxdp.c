/* netdev/netdev-afxdp.c — the `afxdp` port: a Linux interface through
 * AF_XDP sockets (libxdp and libbpf of Debian 12), every afxdp port of the
 * process sharing one UMEM (see netdev.h).
 *
 * Sockets.  A port opens one AF_XDP socket per receive queue of its
 * interface (ETHTOOL_GCHANNELS: rx + combined channels; 1 if the driver
 * does not say), because libxdp's default XSK program hands a packet of a
 * queue without a socket to the kernel stack, which would bypass the
 * switch without a trace.  The port's thread polls them all (round robin;
 * its rx fd is the socket's own with one queue, an epoll fd over all of
 * them otherwise).  Only the socket of queue 0 has a tx ring: every
 * transmission of the port goes through it, under the port's tx mutex, so
 * that datapath threads and handlers may send at once.  The XDP program
 * is libxdp's own default redirect program (shipped in libxdp1), attached
 * by libxdp when the first socket of an interface is created and detached
 * when the last is deleted.  Sockets are bound in copy mode (XDP_COPY):
 * whether a UMEM is zero-copy is decided for the whole UMEM by its first
 * bind, and a device whose driver cannot do zero-copy could then not join
 * it.  XDP_USE_NEED_WAKEUP is on, so tx and fill kicks are system calls
 * only when the kernel asks for them.
 *
 * XDP mode.  Native (driver) mode where the driver has it (veth does),
 * generic (skb) mode otherwise: the port tries native first and falls back
 * to skb if the kernel refuses, unless the port options force one
 * (xdp-mode=native|skb).  netdev_get_status() reports the mode in use.
 *
 * One UMEM, shared.  A UMEM is an mmap'd area of NETDEV_AFXDP_FRAME_SIZE
 * frames registered with the kernel; every socket of every afxdp port of
 * the process binds to the same one (XDP_SHARED_UMEM, each socket with its
 * own fill and completion rings, Linux 5.10+).  So a frame received on one
 * port is sent on another by putting its address on the other port's tx
 * ring: nothing is copied in userspace, and the frame comes back through
 * that port's completion ring.  This is a superset of DESIGN.md's "a UMEM
 * shared by the ports of a datapath thread": with one UMEM per process,
 * forwarding between ports polled by different threads, and packets that
 * handlers execute, are zero-copy too.  Its cost is a shared free-frame
 * depot under a mutex, taken once per batch (not per packet) by each rx
 * refill and tx completion reap.  There are no per-thread caches of free
 * frames: a UMEM is freed when its last port is closed and its last frame
 * is back, and frames cached in other threads' local storage could not be
 * taken back then; the per-socket caches below are owned by the socket's
 * poller or tx mutex and emptied when the socket closes.
 *
 * A new UMEM ("generation") is created only when the current one cannot
 * take the port: when it has fewer free frames than the new sockets' fill
 * rings plus NETDEV_AFXDP_RESERVE for packets in flight, or when all its
 * sockets are closed (libxdp binds a UMEM's first socket to the UMEM's
 * own file descriptor and names that descriptor to the kernel for every
 * later XDP_SHARED_UMEM bind, which requires a bound socket).  Forwarding
 * between ports of different UMEMs copies the frame (and counts it:
 * netdev_afxdp_tx_copy).
 *
 * The UMEM's descriptor.  Since libxdp makes the UMEM's descriptor the
 * first socket, that socket would stay bound to its queue after its port
 * closed, for as long as other ports use the UMEM: the interface could not
 * take an AF_XDP socket again (EBUSY) until then.  So when the socket that
 * the UMEM's descriptor refers to (its "anchor") is deleted, the
 * descriptor is made to refer to another socket of the UMEM with dup3(),
 * which drops the last reference to the deleted socket's file, or to
 * /dev/null when none is left (the UMEM then takes no new socket).  This
 * relies on libxdp 1.3.1 using the descriptor only to name the UMEM in
 * later binds and to close it in xsk_umem__delete().
 *
 * Sizing.  NETDEV_AFXDP_UMEM_FRAMES frames of 2 kB (64 MB, locked in
 * memory): the fill rings (NETDEV_AFXDP_FILL_SIZE) and tx rings of three
 * sockets, plus NETDEV_AFXDP_RESERVE (4096) frames for packets held in the
 * switch (an upcall queue holds up to 512 per handler, and the datapath
 * may keep packets a while).  Fill and rx rings of 8192 frames hold 80 ms
 * at 100 kpps: a datapath thread leaves a port's frames in its ring while
 * the upcall queues are full (datapath.h, dp_set_idle_work()), and a
 * thread that shares its core with a revalidator round (tens of ms with
 * 50 000 flows) must not lose them; with 2048 (libxdp's default), workload
 * c of bench/compare-ovs lost first packets from 60 kpps on.  A port with
 * more queues than fit gets a UMEM of its own size.  When a UMEM runs out anyway, nothing is
 * dropped for it: receive copies the frame into a pool packet and gives
 * the same frame straight back to the fill ring (netdev_afxdp_rx_copy), so
 * a port's fill ring never starves because of packets held elsewhere.
 * Frames hold 2048 - 256 (XDP_PACKET_HEADROOM) - 2 bytes of data: the
 * port refuses an interface whose MTU does not fit.  The UMEM headroom of
 * DP_PACKET_IP_ALIGN keeps the IP header 4-byte aligned, as in heap
 * packets.
 *
 * Frames and packets.  Each frame has a packet struct, malloc'd once when
 * the UMEM is created (no malloc per packet), bound to it while the frame
 * is in the kernel's rings or held as a packet, and handed out by receive
 * as a DP_PACKET_SOURCE_EXTERNAL packet (packet.h) whose buffer is the
 * frame.  A frame is in exactly one place at a time, recorded in its owner
 * tag: free (the depot, a socket's cache, the tx cache), in the custody of
 * socket N (its fill, rx, tx or completion ring, or the kernel between
 * them), or held by a packet.  Packets cross threads (upcall queues,
 * handlers), so giving a frame back is safe from any thread:
 *   - dp_packet_delete(), netdev_packet_recycle() and
 *     netdev_batch_recycle() return the frame to the UMEM's depot (the
 *     batch under one lock), never to the generic packet pool;
 *   - a push, put or set_size that needs more room than the frame has
 *     moves the data to the heap (packet.c) and the frame comes back at
 *     once; its struct now belongs to the heap packet, so the frame gets a
 *     fresh one (netdev_afxdp_frame_detach);
 *   - dp_packet_clone() makes a heap copy;
 *   - send with may_steal puts a frame of the port's own UMEM on the tx
 *     ring as it is (netdev_afxdp_tx_zero_copy); anything else is copied
 *     into a free frame (netdev_afxdp_tx_copy) and recycled.
 * When a socket is deleted, the kernel is done with its rings, and every
 * frame tagged with it (fill ring, rx ring, frames the kernel held between
 * them) goes back to the depot, so closing ports loses no frame.  The
 * UMEM is freed (xsk_umem__delete, munmap) by whoever gives back its last
 * frame after its last socket is gone: closing a port while its packets
 * are still in flight elsewhere in the switch is safe.
 *
 * Counting.  Every frame offered to send ends in exactly one of
 * tx_packets (queued on the tx ring), tx_dropped (bad size:
 * netdev_afxdp_tx_bad_size; ring full even after a kick:
 * netdev_afxdp_tx_ring_full; no free frame to copy into:
 * netdev_afxdp_tx_no_frame; dropped by the driver after it took the
 * frame, which sendto() reports as EBUSY: netdev_afxdp_tx_kernel_drop;
 * still unsent when the port closed: netdev_afxdp_tx_closed) or tx_errors
 * (descriptors the kernel found invalid: netdev_afxdp_tx_invalid).  A
 * frame queued while the interface is down waits in the ring and goes out
 * when it is up again.  The kernel's rx drops (XDP_STATISTICS: rx_dropped
 * for a missing fill frame, rx_ring_full) are read from netdev_get_stats()
 * and at most every NETDEV_AFXDP_STATS_MS from an idle receive, and added
 * to rx_dropped (netdev_afxdp_rx_kernel_drop, netdev_afxdp_rx_ring_full;
 * rx_fill_ring_empty_descs overlaps rx_dropped in copy mode and only
 * feeds netdev_afxdp_rx_fill_empty).
 *
 * Checksums.  AF_XDP has no vnet header: a frame is its bytes.  Frames
 * that a local TCP stack sends through a veth with tx checksum offload on
 * carry a partial checksum the sender expected hardware to finish; they
 * reach the XDP program as they are and leave the other port as they are,
 * so the receiver drops them (tests/system/test_daemon_afxdp.py shows
 * it).  Unlike afpacket and tap ports (netdev-vnet.h), nothing tells the
 * port which frames those are: XDP's rx metadata (Linux 6.x kfuncs) has a
 * hash, a timestamp and a VLAN tag, no checksum state.  Turn tx offload
 * off on such interfaces (ethtool -K IFACE tx off), or use afpacket.
 *
 * Thread safety: a port's rx rings, fill rings and socket caches belong to
 * its polling thread; its tx ring, completion ring and tx cache to the
 * holder of its tx_mutex; the kernel statistics to stats_mutex.  A UMEM's
 * depot and socket count are guarded by its mutex, frame owner tags are
 * relaxed atomics written only by the frame's current owner, and
 * netdev_afxdp_mutex guards the list of UMEMs that take new sockets,
 * their socket tables and anchors (open and close). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/list.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"

VLOG_DEFINE_THIS_MODULE(netdev_afxdp);

COVERAGE_DEFINE(netdev_afxdp_rx_copy);
COVERAGE_DEFINE(netdev_afxdp_rx_kernel_drop);
COVERAGE_DEFINE(netdev_afxdp_rx_ring_full);
COVERAGE_DEFINE(netdev_afxdp_rx_fill_empty);
COVERAGE_DEFINE(netdev_afxdp_rx_invalid);
COVERAGE_DEFINE(netdev_afxdp_fill_short);
COVERAGE_DEFINE(netdev_afxdp_tx_zero_copy);
COVERAGE_DEFINE(netdev_afxdp_tx_copy);
COVERAGE_DEFINE(netdev_afxdp_tx_ring_full);
COVERAGE_DEFINE(netdev_afxdp_tx_no_frame);
COVERAGE_DEFINE(netdev_afxdp_tx_bad_size);
COVERAGE_DEFINE(netdev_afxdp_tx_kernel_drop);
COVERAGE_DEFINE(netdev_afxdp_tx_error);
COVERAGE_DEFINE(netdev_afxdp_tx_invalid);
COVERAGE_DEFINE(netdev_afxdp_tx_closed);
COVERAGE_DEFINE(netdev_afxdp_frame_detach);
COVERAGE_DEFINE(netdev_afxdp_umem_create);

#define NETDEV_AFXDP_FRAME_SHIFT 11
#define NETDEV_AFXDP_FRAME_SIZE (1u << NETDEV_AFXDP_FRAME_SHIFT)
/* Where the kernel puts received data in a frame (copy and native modes
 * alike): our UMEM headroom, then XDP_PACKET_HEADROOM. */
#define NETDEV_AFXDP_RX_OFS (DP_PACKET_IP_ALIGN + 256)
#define NETDEV_AFXDP_MAX_FRAME (NETDEV_AFXDP_FRAME_SIZE - NETDEV_AFXDP_RX_OFS)
#define NETDEV_AFXDP_FILL_SIZE 8192
#define NETDEV_AFXDP_RX_SIZE 8192
#define NETDEV_AFXDP_TX_SIZE 1024
#define NETDEV_AFXDP_COMP_SIZE 1024
#define NETDEV_AFXDP_RESERVE 4096
#define NETDEV_AFXDP_UMEM_FRAMES 32768u /* 64 MB. */
#define NETDEV_AFXDP_MAX_QUEUES 64
#define NETDEV_AFXDP_MAX_SOCKS 1024 /* Per UMEM. */
#define NETDEV_AFXDP_SOCK_CACHE (NETDEV_AFXDP_FILL_SIZE + PACKET_BATCH_MAX)
#define NETDEV_AFXDP_TX_CACHE 256
#define NETDEV_AFXDP_TX_KICKS 4
#define NETDEV_AFXDP_CLOSE_WAIT_MS 100
#define NETDEV_AFXDP_BUSY_RETRIES 50
#define NETDEV_AFXDP_BUSY_WAIT_MS 10
#define NETDEV_AFXDP_STATS_MS 100

/* Frame owner tags; a socket's tag is NETDEV_AFXDP_TAG0 + its slot. */
#define NETDEV_AFXDP_FREE 0
#define NETDEV_AFXDP_USER 1
#define NETDEV_AFXDP_TAG0 2

BUILD_ASSERT(NETDEV_AFXDP_TAG0 + NETDEV_AFXDP_MAX_SOCKS <= UINT16_MAX);
BUILD_ASSERT(NETDEV_AFXDP_RESERVE >= 4 * 512);

static struct vlog_rate_limit netdev_afxdp_rl = VLOG_RATE_LIMIT_INIT(5, 5);

struct netdev_afxdp_umem;

/* The packet struct bound to a frame. */
struct netdev_afxdp_packet {
    struct dp_packet packet; /* First: a detached struct is freed as a
                              * heap packet. */
    struct netdev_afxdp_umem *umem;
    uint32_t frame;
};

struct netdev_afxdp_sock {
    struct netdev_afxdp *dev;
    struct xsk_socket *xsk;
    int fd;
    uint32_t queue;
    uint16_t tag; /* Owner tag of the frames in its rings. */

    /* Receive: the polling thread. */
    struct xsk_ring_cons rx;
    struct xsk_ring_prod fill;
    uint32_t fill_short; /* Frames the fill ring lacks to be full. */
    uint32_t n_cache;
    uint32_t *cache; /* NETDEV_AFXDP_SOCK_CACHE free frames. */

    /* Transmit (socket 0 only): the port's tx_mutex. */
    struct xsk_ring_prod tx;
    struct xsk_ring_cons comp;
    uint32_t tx_outstanding; /* Queued, not yet completed. */

    /* Kernel statistics last read: the port's stats_mutex. */
    struct xdp_statistics kstats;
};

struct netdev_afxdp_umem {
    struct list list_node; /* In netdev_afxdp_umems while it takes new
                            * sockets. */
    unsigned int id;
    uint8_t *area;
    size_t area_size;
    uint32_t n_frames;
    struct xsk_umem *xsk_umem;
    /* The rings given to xsk_umem__create(): libxdp copies them into the
     * first socket's. */
    struct xsk_ring_prod fill;
    struct xsk_ring_cons comp;
    uint16_t *owner; /* Per frame: FREE, USER or a socket's tag. */
    struct netdev_afxdp_packet **pkts; /* Per frame: its packet struct. */

    /* netdev_afxdp_mutex. */
    struct netdev_afxdp_sock **socks; /* By tag - NETDEV_AFXDP_TAG0. */
    struct netdev_afxdp_sock *anchor; /* What the UMEM's fd refers to. */

    pthread_mutex_t mutex;
    uint32_t *free; /* Guarded by 'mutex'. */
    uint32_t n_free;
    unsigned int n_socks; /* Changed under both mutexes. */
};

struct netdev_afxdp {
    struct netdev up;
    int ifindex;
    const char *mode; /* "native" or "skb". */
    struct netdev_afxdp_umem *umem;
    unsigned int n_socks;
    struct netdev_afxdp_sock *socks; /* socks[0] transmits. */
    int epoll_fd;                    /* With more than one socket. */

    /* Receive: the polling thread. */
    unsigned int rx_next;
    uint64_t rx_stats_ms;

    /* Transmit. */
    pthread_mutex_t tx_mutex;
    uint32_t n_tx_cache; /* Free frames from completions. */
    uint32_t tx_cache[NETDEV_AFXDP_TX_CACHE];

    /* Kernel counters summed over the sockets. */
    pthread_mutex_t stats_mutex;
    uint64_t k_rx_dropped, k_rx_errors, k_tx_invalid;
};

static pthread_mutex_t netdev_afxdp_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Guarded by the mutex: the UMEMs that take new sockets, newest first,
 * and the last UMEM id given. */
static struct list netdev_afxdp_umems = LIST_INITIALIZER(&netdev_afxdp_umems);
static unsigned int netdev_afxdp_umem_ids;

static void netdev_afxdp_release_frames(struct netdev_afxdp_umem *,
                                        const uint32_t *frames, size_t n);

static struct netdev_afxdp *
netdev_afxdp_cast(const struct netdev *netdev)
{
    return CONTAINER_OF(netdev, struct netdev_afxdp, up);
}

static void
netdev_afxdp_set_owner(struct netdev_afxdp_umem *umem, uint32_t frame,
                       uint16_t tag)
{
    atomic_store_relaxed(&umem->owner[frame], tag);
}

static uint16_t
netdev_afxdp_get_owner(const struct netdev_afxdp_umem *umem, uint32_t frame)
{
    return atomic_load_relaxed(&umem->owner[frame]);
}

static uint64_t
netdev_afxdp_frame_addr(uint32_t frame)
{
    return (uint64_t)frame << NETDEV_AFXDP_FRAME_SHIFT;
}

/* ---- Library messages --------------------------------------------------- */

/* libxdp and libbpf print their warnings on stderr; the reasons that
 * matter come back as error codes, which open turns into one line, so
 * their chatter ("No bpffs found", "Falling back to loading single prog")
 * goes to the debug log. */
static int
netdev_afxdp_library_print(const char *fmt, va_list args)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    if (vlog_is_enabled(&vlog_this_module, VLL_DBG)) {
        ds_put_format_valist(&s, fmt, args);
        ds_chomp(&s, "\n");
        VLOG_DBG("%s", ds_cstr(&s));
        ds_destroy(&s);
    }
    return 0;
}

static int
netdev_afxdp_libxdp_print(enum libxdp_print_level level, const char *fmt,
                          va_list args)
{
    (void)level;
    return netdev_afxdp_library_print(fmt, args);
}

static int
netdev_afxdp_libbpf_print(enum libbpf_print_level level, const char *fmt,
                          va_list args)
{
    (void)level;
    return netdev_afxdp_library_print(fmt, args);
}

/* ---- Packets in frames -------------------------------------------------- */

static struct netdev_afxdp_packet *
netdev_afxdp_packet_cast(const struct dp_packet *pkt)
{
    return CONTAINER_OF(pkt, struct netdev_afxdp_packet, packet);
}

/* A fresh packet struct for 'frame', its buffer the frame. */
static struct netdev_afxdp_packet *
netdev_afxdp_packet_create(struct netdev_afxdp_umem *umem, uint32_t frame)
{
    struct netdev_afxdp_packet *xp = xzalloc(sizeof *xp);

    xp->umem = umem;
    xp->frame = frame;
    xp->packet.base = umem->area + netdev_afxdp_frame_addr(frame);
    xp->packet.allocated = NETDEV_AFXDP_FRAME_SIZE;
    xp->packet.source = DP_PACKET_SOURCE_EXTERNAL;
    dp_packet_reset_offsets(&xp->packet);
    return xp;
}

/* dp_packet_delete() of a packet in a frame. */
static void
netdev_afxdp_packet_release(struct dp_packet *pkt)
{
    struct netdev_afxdp_packet *xp = netdev_afxdp_packet_cast(pkt);

    netdev_afxdp_release_frames(xp->umem, &xp->frame, 1);
}

/* A packet in a frame moved to the heap (packet.c): its struct is now the
 * heap packet's, so the frame gets a new one, and comes back. */
static void
netdev_afxdp_packet_detach(struct dp_packet *pkt)
{
    struct netdev_afxdp_packet *xp = netdev_afxdp_packet_cast(pkt);
    struct netdev_afxdp_umem *umem = xp->umem;
    uint32_t frame = xp->frame;

    COVERAGE_INC(netdev_afxdp_frame_detach);
    /* The frame is ours (held by this packet): no one else looks at its
     * struct until the depot hands the frame out again. */
    umem->pkts[frame] = netdev_afxdp_packet_create(umem, frame);
    netdev_afxdp_release_frames(umem, &frame, 1);
}

static const struct dp_packet_external_ops netdev_afxdp_packet_ops = {
    .release = netdev_afxdp_packet_release,
    .detach = netdev_afxdp_packet_detach,
};

void
netdev_afxdp_release_batch(struct dp_packet **pkts, size_t n)
{
    uint32_t frames[PACKET_BATCH_MAX];
    struct netdev_afxdp_umem *umem = NULL;
    size_t n_frames = 0;

    for (size_t i = 0; i < n; i++) {
        struct netdev_afxdp_packet *xp = netdev_afxdp_packet_cast(pkts[i]);

        if (xp->umem != umem || n_frames == ARRAY_SIZE(frames)) {
            if (n_frames) {
                netdev_afxdp_release_frames(umem, frames, n_frames);
            }
            umem = xp->umem;
            n_frames = 0;
        }
        frames[n_frames++] = xp->frame;
    }
    if (n_frames) {
        netdev_afxdp_release_frames(umem, frames, n_frames);
    }
}

/* ---- UMEM --------------------------------------------------------------- */

static void
netdev_afxdp_init_once(void)
{
    libxdp_set_print(netdev_afxdp_libxdp_print);
    libbpf_set_print(netdev_afxdp_libbpf_print);
    dp_packet_set_external_ops(&netdev_afxdp_packet_ops);
}

static void
netdev_afxdp_umem_destroy(struct netdev_afxdp_umem *umem)
{
    int error = xsk_umem__delete(umem->xsk_umem);

    if (error) {
        VLOG_WARN("UMEM %u: delete failed: %s", umem->id, strerror(-error));
    }
    munmap(umem->area, umem->area_size);
    for (uint32_t i = 0; i < umem->n_frames; i++) {
        free(umem->pkts[i]);
    }
    free(umem->pkts);
    free(umem->owner);
    free(umem->free);
    free(umem->socks);
    pthread_mutex_destroy(&umem->mutex);
    VLOG_DBG("UMEM %u freed", umem->id);
    free(umem);
}

/* Why registering 'size' bytes failed with 'error', for the one line. */
static char *
netdev_afxdp_umem_error(int error, size_t size)
{
    struct rlimit rl;

    if ((error == ENOMEM || error == ENOBUFS || error == EPERM)
        && !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY
        && rl.rlim_cur < size) {
        return xasprintf("registering the %zu MB UMEM: %s (locked memory "
                         "limit RLIMIT_MEMLOCK is %llu kB: raise it, e.g. "
                         "ulimit -l unlimited, or grant CAP_IPC_LOCK)",
                         size >> 20, strerror(error),
                         (unsigned long long)rl.rlim_cur >> 10);
    }
    if (error == EPERM || error == EACCES) {
        return xasprintf("creating an AF_XDP socket: %s (needs root, or "
                         "CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF)",
                         strerror(error));
    }
    if (error == EAFNOSUPPORT) {
        return xasprintf("creating an AF_XDP socket: %s (kernel built "
                         "without CONFIG_XDP_SOCKETS?)",
                         strerror(error));
    }
    return xasprintf("registering the %zu MB UMEM: %s", size >> 20,
                     strerror(error));
}

/* Creates a UMEM of 'n_frames' frames, all free. */
static int
netdev_afxdp_umem_create(uint32_t n_frames, struct netdev_afxdp_umem **umemp,
                         char **detailp)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct xsk_umem_config cfg = {
        .fill_size = NETDEV_AFXDP_FILL_SIZE,
        .comp_size = NETDEV_AFXDP_COMP_SIZE,
        .frame_size = NETDEV_AFXDP_FRAME_SIZE,
        .frame_headroom = DP_PACKET_IP_ALIGN,
        .flags = 0,
    };
    struct netdev_afxdp_umem *umem;
    int error;

    pthread_once(&once, netdev_afxdp_init_once);
    umem = xzalloc(sizeof *umem);
    umem->n_frames = n_frames;
    umem->area_size = (size_t)n_frames * NETDEV_AFXDP_FRAME_SIZE;
    umem->area = mmap(NULL, umem->area_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (umem->area == MAP_FAILED) {
        error = errno;
        *detailp = xasprintf("mapping the %zu MB UMEM: %s",
                             umem->area_size >> 20, strerror(error));
        free(umem);
        return error;
    }
    error = -xsk_umem__create(&umem->xsk_umem, umem->area, umem->area_size,
                              &umem->fill, &umem->comp, &cfg);
    if (error) {
        *detailp = netdev_afxdp_umem_error(error, umem->area_size);
        munmap(umem->area, umem->area_size);
        free(umem);
        return error;
    }

    pthread_mutex_init(&umem->mutex, NULL);
    list_init(&umem->list_node);
    umem->owner = xcalloc(n_frames, sizeof *umem->owner);
    umem->pkts = xcalloc(n_frames, sizeof *umem->pkts);
    umem->free = xcalloc(n_frames, sizeof *umem->free);
    umem->socks = xcalloc(NETDEV_AFXDP_MAX_SOCKS, sizeof *umem->socks);
    /* Lowest frames on top, so that a quiet switch touches few pages. */
    for (uint32_t i = 0; i < n_frames; i++) {
        umem->pkts[i] = netdev_afxdp_packet_create(umem, i);
        umem->free[i] = n_frames - 1 - i;
    }
    umem->n_free = n_frames;
    umem->id = ++netdev_afxdp_umem_ids;
    COVERAGE_INC(netdev_afxdp_umem_create);
    VLOG_DBG("UMEM %u: %" PRIu32 " frames of %u bytes", umem->id, n_frames,
             NETDEV_AFXDP_FRAME_SIZE);
    *umemp = umem;
    return 0;
}

/* True if nothing uses 'umem' any more.  Caller holds umem->mutex. */
static bool
netdev_afxdp_umem_is_idle(const struct netdev_afxdp_umem *umem)
{
    return !umem->n_socks && umem->n_free == umem->n_frames;
}

/* Takes up to 'n' free frames into 'frames'.  Returns how many. */
static uint32_t
netdev_afxdp_take_frames(struct netdev_afxdp_umem *umem, uint32_t *frames,
                         uint32_t n)
{
    uint32_t got;

    pthread_mutex_lock(&umem->mutex);
    got = MIN(n, umem->n_free);
    umem->n_free -= got;
    memcpy(frames, &umem->free[umem->n_free], got * sizeof *frames);
    pthread_mutex_unlock(&umem->mutex);
    return got;
}

/* Gives 'frames' back to the depot (any thread), and frees the UMEM if
 * they were the last it waited for. */
static void
netdev_afxdp_release_frames(struct netdev_afxdp_umem *umem,
                            const uint32_t *frames, size_t n)
{
    bool idle;

    for (size_t i = 0; i < n; i++) {
        netdev_afxdp_set_owner(umem, frames[i], NETDEV_AFXDP_FREE);
    }
    pthread_mutex_lock(&umem->mutex);
    memcpy(&umem->free[umem->n_free], frames, n * sizeof *frames);
    umem->n_free += (uint32_t)n;
    idle = netdev_afxdp_umem_is_idle(umem);
    pthread_mutex_unlock(&umem->mutex);
    if (idle) {
        /* No socket and no frame out: no one else can reach it. */
        netdev_afxdp_umem_destroy(umem);
    }
}

/* Frames of 'umem' held by packets (for port status). */
static uint32_t
netdev_afxdp_umem_frames_held(const struct netdev_afxdp_umem *umem)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < umem->n_frames; i++) {
        n += netdev_afxdp_get_owner(umem, i) == NETDEV_AFXDP_USER;
    }
    return n;
}

/* A UMEM that can take 'n_socks' more sockets, or a new one.  Sets
 * '*fresh' if it is new.  Caller holds netdev_afxdp_mutex. */
static int
netdev_afxdp_umem_for(unsigned int n_socks, struct netdev_afxdp_umem **umemp,
                      bool *fresh, char **detailp)
{
    uint32_t need = n_socks * NETDEV_AFXDP_FILL_SIZE + NETDEV_AFXDP_RESERVE;
    struct netdev_afxdp_umem *u;

    LIST_FOR_EACH (u, list_node, &netdev_afxdp_umems) {
        uint32_t n_free;

        pthread_mutex_lock(&u->mutex);
        n_free = u->n_free;
        pthread_mutex_unlock(&u->mutex);
        if (n_free >= need && u->n_socks + n_socks <= NETDEV_AFXDP_MAX_SOCKS) {
            *umemp = u;
            *fresh = false;
            return 0;
        }
    }
    *fresh = true;
    return netdev_afxdp_umem_create(
        MAX(NETDEV_AFXDP_UMEM_FRAMES,
            ROUND_UP(need + n_socks * NETDEV_AFXDP_TX_SIZE, 1024)),
        umemp, detailp);
}

/* ---- Sockets ------------------------------------------------------------ */

/* Puts free frames on 's''s fill ring until it is full or the UMEM has
 * none to give.  Polling thread (or open). */
static void
netdev_afxdp_sock_fill(struct netdev_afxdp_sock *s)
{
    struct netdev_afxdp_umem *umem = s->dev->umem;
    uint32_t n, idx;

    if (!s->fill_short) {
        return;
    }
    if (s->n_cache < s->fill_short) {
        s->n_cache += netdev_afxdp_take_frames(umem, &s->cache[s->n_cache],
                                               s->fill_short - s->n_cache);
    }
    n = MIN(s->n_cache, s->fill_short);
    n = MIN(n, xsk_prod_nb_free(&s->fill, n));
    if (!n || xsk_ring_prod__reserve(&s->fill, n, &idx) != n) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t frame = s->cache[--s->n_cache];

        netdev_afxdp_set_owner(umem, frame, s->tag);
        *xsk_ring_prod__fill_addr(&s->fill, idx + i) =
            netdev_afxdp_frame_addr(frame);
    }
    xsk_ring_prod__submit(&s->fill, n);
    s->fill_short -= n;
    if (xsk_ring_prod__needs_wakeup(&s->fill)) {
        recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
    }
}

/* One line for a socket that could not be created. */
static char *
netdev_afxdp_sock_error(int error, uint32_t queue, const char *mode)
{
    const char *hint = "";

    if (error == EPERM || error == EACCES) {
        hint = " (needs root, or CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF)";
    } else if (error == EBUSY || error == EEXIST) {
        hint = " (another XDP program or AF_XDP socket holds the "
               "interface?)";
    } else if (error == EOPNOTSUPP) {
        hint = " (the driver does not support it)";
    } else if (error == ENOENT) {
        hint = " (libxdp's XSK program xsk_def_xdp_prog.o not found: "
               "is libxdp1 installed?)";
    }
    return xasprintf("%s mode, queue %" PRIu32 ": %s%s", mode, queue,
                     strerror(error), hint);
}

/* Opens 's' on 'queue' of the port's interface, in XDP mode 'xdp_flags',
 * and fills its fill ring.  Caller holds netdev_afxdp_mutex. */
static int
netdev_afxdp_sock_open(struct netdev_afxdp *dev, struct netdev_afxdp_sock *s,
                       uint32_t queue, uint32_t xdp_flags, char **detailp)
{
    struct netdev_afxdp_umem *umem = dev->umem;
    bool with_tx = s == &dev->socks[0];
    struct xsk_socket_config cfg = {
        .rx_size = NETDEV_AFXDP_RX_SIZE,
        .tx_size = with_tx ? NETDEV_AFXDP_TX_SIZE : 0,
        .libxdp_flags = 0,
        .xdp_flags = xdp_flags,
        .bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
    };
    unsigned int slot;
    int error;

    for (slot = 0; slot < NETDEV_AFXDP_MAX_SOCKS && umem->socks[slot];
         slot++) {
        continue;
    }
    if (slot == NETDEV_AFXDP_MAX_SOCKS) {
        *detailp = xstrdup("too many AF_XDP sockets in one UMEM");
        return EMFILE;
    }
    memset(s, 0, sizeof *s);
    s->dev = dev;
    s->queue = queue;
    s->fd = -1;
    for (int attempt = 0;; attempt++) {
        error = -xsk_socket__create_shared(
            &s->xsk, dev->up.name, queue, umem->xsk_umem, &s->rx,
            with_tx ? &s->tx : NULL, &s->fill, &s->comp, &cfg);
        if (error != EBUSY || attempt >= NETDEV_AFXDP_BUSY_RETRIES) {
            break;
        }
        /* The kernel lets go of a closed socket's queue from a work
         * queue, a little after close() returns: a port closed and
         * opened again at once finds its queue still taken. */
        poll(NULL, 0, NETDEV_AFXDP_BUSY_WAIT_MS);
    }
    if (error) {
        s->xsk = NULL;
        *detailp = netdev_afxdp_sock_error(
            error, queue, xdp_flags & XDP_FLAGS_SKB_MODE ? "skb" : "native");
        return error;
    }
    s->fd = xsk_socket__fd(s->xsk);
    s->tag = (uint16_t)(NETDEV_AFXDP_TAG0 + slot);
    s->cache = xcalloc(NETDEV_AFXDP_SOCK_CACHE, sizeof *s->cache);
    umem->socks[slot] = s;
    if (!umem->anchor) {
        umem->anchor = s; /* libxdp bound the UMEM's own fd. */
    }
    pthread_mutex_lock(&umem->mutex);
    umem->n_socks++;
    pthread_mutex_unlock(&umem->mutex);

    s->fill_short = NETDEV_AFXDP_FILL_SIZE;
    netdev_afxdp_sock_fill(s);
    if (s->fill_short) {
        COVERAGE_ADD(netdev_afxdp_fill_short, s->fill_short);
        VLOG_WARN("%s: queue %" PRIu32 ": UMEM %u had only %u free frames "
                  "for a fill ring of %u",
                  dev->up.name, queue, umem->id,
                  NETDEV_AFXDP_FILL_SIZE - s->fill_short,
                  NETDEV_AFXDP_FILL_SIZE);
    }
    return 0;
}

/* Makes the UMEM's fd refer to another socket than 's' (being deleted), or
 * to /dev/null if 's' was its last: see "The UMEM's descriptor" above.
 * Caller holds netdev_afxdp_mutex. */
static void
netdev_afxdp_umem_move_anchor(struct netdev_afxdp_umem *umem,
                              const struct netdev_afxdp_sock *s)
{
    int umem_fd = xsk_umem__fd(umem->xsk_umem);
    int target = -1, null_fd = -1;

    umem->anchor = NULL;
    for (unsigned int i = 0; i < NETDEV_AFXDP_MAX_SOCKS; i++) {
        if (umem->socks[i] && umem->socks[i] != s) {
            umem->anchor = umem->socks[i];
            target = umem->anchor->fd;
            break;
        }
    }
    if (target < 0) {
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        target = null_fd;
    }
    if (target < 0 || dup3(target, umem_fd, O_CLOEXEC) < 0) {
        VLOG_WARN("UMEM %u: cannot let go of a deleted socket (%s): its "
                  "queue stays bound until the UMEM is freed",
                  umem->id, strerror(errno));
    }
    if (null_fd >= 0) {
        close(null_fd);
    }
}

static void netdev_afxdp_read_kernel_stats(struct netdev_afxdp *);
static void netdev_afxdp_reap_tx(struct netdev_afxdp *,
                                 struct netdev_afxdp_sock *);
static void netdev_afxdp_kick_tx(struct netdev_afxdp *,
                                 struct netdev_afxdp_sock *);

/* Waits a little for the tx frames in flight, and counts the ones that
 * never left.  No sender runs any more. */
static void
netdev_afxdp_sock_drain_tx(struct netdev_afxdp *dev,
                           struct netdev_afxdp_sock *s)
{
    uint64_t deadline = time_msec() + NETDEV_AFXDP_CLOSE_WAIT_MS;

    pthread_mutex_lock(&dev->tx_mutex);
    for (;;) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};

        netdev_afxdp_reap_tx(dev, s);
        if (!s->tx_outstanding || time_msec() >= deadline) {
            break;
        }
        netdev_afxdp_kick_tx(dev, s);
        poll(&pfd, 1, 1);
    }
    if (s->tx_outstanding) {
        COVERAGE_ADD(netdev_afxdp_tx_closed, s->tx_outstanding);
        netdev_count_tx_drop(&dev->up, s->tx_outstanding);
        netdev_uncount_tx(&dev->up, s->tx_outstanding, 0);
        s->tx_outstanding = 0;
    }
    pthread_mutex_unlock(&dev->tx_mutex);
}

/* Deletes 's' and takes back every frame in its custody.  The caller
 * takes it out of the UMEM's socket count afterwards (which keeps the UMEM
 * alive meanwhile).  Caller holds netdev_afxdp_mutex; no thread polls or
 * sends on the port. */
static void
netdev_afxdp_sock_close(struct netdev_afxdp *dev, struct netdev_afxdp_sock *s)
{
    struct netdev_afxdp_umem *umem = dev->umem;
    uint32_t frames[256];
    size_t n = 0;

    if (!s->xsk) {
        return;
    }
    if (s == &dev->socks[0]) {
        netdev_afxdp_sock_drain_tx(dev, s);
    }
    xsk_socket__delete(s->xsk);
    s->xsk = NULL;
    if (umem->anchor == s) {
        netdev_afxdp_umem_move_anchor(umem, s);
    }
    umem->socks[s->tag - NETDEV_AFXDP_TAG0] = NULL;

    /* The kernel is done with the socket's rings (its release waits for
     * the drivers), so whatever frame it held is free. */
    for (uint32_t i = 0; i < umem->n_frames; i++) {
        if (netdev_afxdp_get_owner(umem, i) == s->tag) {
            frames[n++] = i;
            if (n == ARRAY_SIZE(frames)) {
                netdev_afxdp_release_frames(umem, frames, n);
                n = 0;
            }
        }
    }
    netdev_afxdp_release_frames(umem, frames, n);
    netdev_afxdp_release_frames(umem, s->cache, s->n_cache);
    free(s->cache);
    s->cache = NULL;
}

/* ---- Opening and closing ------------------------------------------------ */

/* The number of receive queues of 'name' (at least 1). */
static unsigned int
netdev_afxdp_n_rxq(int sock, const char *name)
{
    struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
    struct ifreq ifr;
    unsigned int n;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_data = (void *)&ch;
    if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) {
        return 1; /* The driver does not say: a single queue. */
    }
    n = ch.rx_count + ch.combined_count;
    return MAX(n, 1u);
}

static int
netdev_afxdp_get_mtu(int sock, const char *name, unsigned int *mtu)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) {
        return errno;
    }
    *mtu = (unsigned int)ifr.ifr_mtu;
    return 0;
}

/* Checks the interface: exists, MTU fits a frame.  Sets the queue count. */
static int
netdev_afxdp_check_interface(struct netdev_afxdp *dev, unsigned int *n_rxq,
                             char **detailp)
{
    unsigned int mtu = 0;
    int sock, error;

    dev->ifindex = (int)if_nametoindex(dev->up.name);
    if (!dev->ifindex) {
        return errno == ENXIO || !errno ? ENODEV : errno;
    }
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return errno;
    }
    error = netdev_afxdp_get_mtu(sock, dev->up.name, &mtu);
    if (!error && mtu + ETH_HLEN + 4 > NETDEV_AFXDP_MAX_FRAME) {
        *detailp = xasprintf("MTU %u does not fit an AF_XDP frame (at most "
                             "%u with %u-byte frames)",
                             mtu, NETDEV_AFXDP_MAX_FRAME - ETH_HLEN - 4,
                             NETDEV_AFXDP_FRAME_SIZE);
        error = EMSGSIZE;
    }
    *n_rxq = netdev_afxdp_n_rxq(sock, dev->up.name);
    close(sock);
    if (!error && *n_rxq > NETDEV_AFXDP_MAX_QUEUES) {
        *detailp = xasprintf("%u receive queues, more than the %d an afxdp "
                             "port polls (ethtool -L %s combined N)",
                             *n_rxq, NETDEV_AFXDP_MAX_QUEUES, dev->up.name);
        error = EINVAL;
    }
    return error;
}

/* Opens one socket per receive queue in XDP mode 'xdp_flags'.  On failure
 * closes what it opened (and the UMEM if it was made for this port).
 * Caller holds netdev_afxdp_mutex. */
static int
netdev_afxdp_open_sockets(struct netdev_afxdp *dev, unsigned int n_rxq,
                          uint32_t xdp_flags, char **detailp)
{
    unsigned int opened;
    bool fresh;
    int error;

    error = netdev_afxdp_umem_for(n_rxq, &dev->umem, &fresh, detailp);
    if (error) {
        return error;
    }
    for (dev->n_socks = 0; dev->n_socks < n_rxq; dev->n_socks++) {
        error = netdev_afxdp_sock_open(dev, &dev->socks[dev->n_socks],
                                       dev->n_socks, xdp_flags, detailp);
        if (error) {
            break;
        }
    }
    if (!error) {
        if (fresh) {
            list_push_front(&netdev_afxdp_umems, &dev->umem->list_node);
        }
        return 0;
    }

    opened = dev->n_socks;
    while (dev->n_socks > 0) {
        netdev_afxdp_sock_close(dev, &dev->socks[--dev->n_socks]);
    }
    pthread_mutex_lock(&dev->umem->mutex);
    dev->umem->n_socks -= opened; /* Others still use a listed UMEM. */
    pthread_mutex_unlock(&dev->umem->mutex);
    if (fresh) {
        /* libxdp may have bound the UMEM's fd before the XDP program
         * failed: only deleting the UMEM undoes that. */
        netdev_afxdp_umem_destroy(dev->umem);
    }
    dev->umem = NULL;
    return error;
}

static int
netdev_afxdp_open_rx_fd(struct netdev_afxdp *dev, char **detailp)
{
    if (dev->n_socks == 1) {
        return 0;
    }
    dev->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (dev->epoll_fd < 0) {
        int error = errno;

        *detailp = xasprintf("epoll: %s", strerror(error));
        return error;
    }
    for (unsigned int i = 0; i < dev->n_socks; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

        if (epoll_ctl(dev->epoll_fd, EPOLL_CTL_ADD, dev->socks[i].fd, &ev)) {
            int error = errno;

            *detailp = xasprintf("epoll: %s", strerror(error));
            return error;
        }
    }
    return 0;
}

static void netdev_afxdp_close(struct netdev *);

static int
netdev_afxdp_open(const char *name, const struct netdev_options *options,
                  struct netdev **netdevp, char **detailp)
{
    const char *want = options->xdp_mode ? options->xdp_mode : "auto";
    struct ds why = DS_EMPTY_INITIALIZER;
    struct netdev_afxdp *dev;
    unsigned int n_rxq = 1;
    int error;

    if (strlen(name) >= IFNAMSIZ) {
        *detailp =
            xasprintf("interface name is longer than %d bytes", IFNAMSIZ - 1);
        return ENAMETOOLONG;
    }
    if (strcmp(want, "auto") != 0 && strcmp(want, "native") != 0
        && strcmp(want, "skb") != 0) {
        *detailp = xasprintf("bad xdp-mode \"%s\" (expected native, skb or "
                             "auto)",
                             want);
        return EINVAL;
    }

    dev = xzalloc(sizeof *dev);
    netdev_init(&dev->up, &netdev_afxdp_class, name);
    pthread_mutex_init(&dev->tx_mutex, NULL);
    pthread_mutex_init(&dev->stats_mutex, NULL);
    dev->epoll_fd = -1;
    atomic_store_relaxed(&dev->k_rx_dropped, 0);
    atomic_store_relaxed(&dev->k_rx_errors, 0);
    atomic_store_relaxed(&dev->k_tx_invalid, 0);

    error = netdev_afxdp_check_interface(dev, &n_rxq, detailp);
    if (error) {
        goto error;
    }
    dev->socks = xcalloc(n_rxq, sizeof *dev->socks);

    pthread_mutex_lock(&netdev_afxdp_mutex);
    error = EINVAL;
    if (strcmp(want, "skb") != 0) {
        char *detail = NULL;

        error =
            netdev_afxdp_open_sockets(dev, n_rxq, XDP_FLAGS_DRV_MODE, &detail);
        dev->mode = "native";
        if (error) {
            ds_put_cstr(&why, detail);
        }
        free(detail);
    }
    if (error && strcmp(want, "native") != 0) {
        char *detail = NULL;

        error =
            netdev_afxdp_open_sockets(dev, n_rxq, XDP_FLAGS_SKB_MODE, &detail);
        dev->mode = "skb";
        if (error) {
            ds_put_format(&why, "%s%s", why.length ? "; " : "", detail);
        }
        free(detail);
    }
    pthread_mutex_unlock(&netdev_afxdp_mutex);
    if (error) {
        *detailp = xasprintf("cannot bind AF_XDP sockets: %s", ds_cstr(&why));
        goto error;
    }
    ds_destroy(&why);

    error = netdev_afxdp_open_rx_fd(dev, detailp);
    if (error) {
        goto error;
    }
    VLOG_INFO("%s: %u AF_XDP socket%s in %s mode, UMEM %u", name, n_rxq,
              n_rxq > 1 ? "s" : "", dev->mode, dev->umem->id);
    *netdevp = &dev->up;
    return 0;

error:
    ds_destroy(&why);
    netdev_afxdp_close(&dev->up);
    return error;
}

static void
netdev_afxdp_close(struct netdev *netdev)
{
    struct netdev_afxdp *dev = netdev_afxdp_cast(netdev);
    struct netdev_afxdp_umem *umem = dev->umem;

    if (umem) {
        unsigned int n_socks = dev->n_socks;
        bool idle;

        netdev_afxdp_read_kernel_stats(dev);
        pthread_mutex_lock(&netdev_afxdp_mutex);
        while (dev->n_socks > 0) {
            netdev_afxdp_sock_close(dev, &dev->socks[--dev->n_socks]);
        }
        if (!umem->anchor) {
            /* Off the list of UMEMs that take new sockets. */
            list_remove(&umem->list_node);
        }
        pthread_mutex_unlock(&netdev_afxdp_mutex);

        /* Until the sockets leave the count, no packet's release can free
         * the UMEM under our feet; they leave it with the tx cache's
         * frames, and whoever sees the UMEM idle last frees it. */
        pthread_mutex_lock(&umem->mutex);
        umem->n_socks -= n_socks;
        memcpy(&umem->free[umem->n_free], dev->tx_cache,
               dev->n_tx_cache * sizeof *dev->tx_cache);
        umem->n_free += dev->n_tx_cache;
        idle = netdev_afxdp_umem_is_idle(umem);
        pthread_mutex_unlock(&umem->mutex);
        if (idle) {
            netdev_afxdp_umem_destroy(umem);
        }
    }
    if (dev->epoll_fd >= 0) {
        close(dev->epoll_fd);
    }
    free(dev->socks);
    pthread_mutex_destroy(&dev->tx_mutex);
    pthread_mutex_destroy(&dev->stats_mutex);
    netdev_uninit(&dev->up);
    free(dev);
}

/* ---- Receive ------------------------------------------------------------ */

/* Wraps the frame of 'desc' as a packet, or copies it into a pool packet
 * when 'copy'. */
static struct dp_packet *
netdev_afxdp_rx_packet(struct netdev_afxdp_umem *umem,
                       const struct xdp_desc *desc, uint32_t frame, bool copy)
{
    uint32_t ofs = (uint32_t)(desc->addr & (NETDEV_AFXDP_FRAME_SIZE - 1));
    struct dp_packet *pkt;

    if (UNLIKELY(copy)) {
        pkt = netdev_packet_alloc();
        dp_packet_put(pkt, umem->area + desc->addr, desc->len);
        return pkt;
    }
    pkt = &umem->pkts[frame]->packet;
    pkt->data_ofs = ofs;
    pkt->size = desc->len;
    pkt->in_port = 0;
    pkt->rss_hash_valid = false;
    dp_packet_reset_offsets(pkt);
    netdev_afxdp_set_owner(umem, frame, NETDEV_AFXDP_USER);
    return pkt;
}

/* Receives from 's' into 'batch'; returns the bytes received.  The fill
 * ring gets a free frame for every frame kept as a packet: when the UMEM
 * has too few, the rest are copied and their frames go back instead. */
static uint64_t
netdev_afxdp_sock_recv(struct netdev_afxdp_sock *s,
                       struct dp_packet_batch *batch)
{
    struct netdev_afxdp_umem *umem = s->dev->umem;
    uint32_t n, idx, keep, want, copied = 0;
    uint64_t bytes = 0;

    n = xsk_ring_cons__peek(&s->rx, PACKET_BATCH_MAX - batch->count, &idx);
    if (!n) {
        netdev_afxdp_sock_fill(s); /* Top up after a short start. */
        return 0;
    }
    want = s->fill_short + n;
    if (s->n_cache < want) {
        s->n_cache += netdev_afxdp_take_frames(umem, &s->cache[s->n_cache],
                                               want - s->n_cache);
    }
    keep = s->n_cache > s->fill_short ? MIN(n, s->n_cache - s->fill_short) : 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&s->rx, idx + i);
        uint32_t frame = (uint32_t)(desc->addr >> NETDEV_AFXDP_FRAME_SHIFT);
        struct dp_packet *pkt =
            netdev_afxdp_rx_packet(umem, desc, frame, i >= keep);

        if (i >= keep) {
            s->cache[s->n_cache++] = frame;
            copied++;
        }
        bytes += desc->len;
        batch->packets[batch->count++] = pkt;
    }
    xsk_ring_cons__release(&s->rx, n);
    s->fill_short += n;
    netdev_afxdp_sock_fill(s);
    if (UNLIKELY(copied)) {
        COVERAGE_ADD(netdev_afxdp_rx_copy, copied);
    }
    return bytes;
}

static int
netdev_afxdp_recv(struct netdev *netdev, struct dp_packet_batch *batch)
{
    struct netdev_afxdp *dev = netdev_afxdp_cast(netdev);
    uint64_t bytes = 0;

    for (unsigned int i = 0;
         i < dev->n_socks && batch->count < PACKET_BATCH_MAX; i++) {
        unsigned int q = (dev->rx_next + i) % dev->n_socks;

        bytes += netdev_afxdp_sock_recv(&dev->socks[q], batch);
    }
    if (dev->n_socks > 1) {
        dev->rx_next = (dev->rx_next + 1) % dev->n_socks;
    }
    if (!batch->count) {
        uint64_t now = time_msec();

        if (now - dev->rx_stats_ms >= NETDEV_AFXDP_STATS_MS) {
            dev->rx_stats_ms = now;
            netdev_afxdp_read_kernel_stats(dev);
        }
        return EAGAIN;
    }
    netdev_count_rx(netdev, batch->count, bytes);
    return 0;
}

static int
netdev_afxdp_get_rx_fd(const struct netdev *netdev)
{
    const struct netdev_afxdp *dev = netdev_afxdp_cast(netdev);

    return dev->epoll_fd >= 0 ? dev->epoll_fd : dev->socks[0].fd;
}

/* ---- Transmit ----------------------------------------------------------- */

/* Takes the completed tx frames back: into the tx cache, the rest to the
 * depot.  Caller holds tx_mutex. */
static void
netdev_afxdp_reap_tx(struct netdev_afxdp *dev, struct netdev_afxdp_sock *s)
{
    struct netdev_afxdp_umem *umem = dev->umem;
    uint32_t spill[NETDEV_AFXDP_COMP_SIZE];
    uint32_t n, idx, n_spill = 0;

    n = xsk_ring_cons__peek(&s->comp, NETDEV_AFXDP_COMP_SIZE, &idx);
    if (!n) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t frame =
            (uint32_t)(*xsk_ring_cons__comp_addr(&s->comp, idx + i)
                       >> NETDEV_AFXDP_FRAME_SHIFT);

        if (dev->n_tx_cache < NETDEV_AFXDP_TX_CACHE) {
            netdev_afxdp_set_owner(umem, frame, NETDEV_AFXDP_FREE);
            dev->tx_cache[dev->n_tx_cache++] = frame;
        } else {
            spill[n_spill++] = frame;
        }
    }
    xsk_ring_cons__release(&s->comp, n);
    s->tx_outstanding -= n;
    if (n_spill) {
        netdev_afxdp_release_frames(umem, spill, n_spill);
    }
}

/* Has the kernel send what the tx ring holds, if it wants a kick.  Caller
 * holds tx_mutex. */
static void
netdev_afxdp_kick_tx(struct netdev_afxdp *dev, struct netdev_afxdp_sock *s)
{
    for (int attempt = 0; attempt < NETDEV_AFXDP_TX_KICKS; attempt++) {
        int error;

        if (!xsk_ring_prod__needs_wakeup(&s->tx)
            || sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
            return;
        }
        error = errno;
        if (error == EBUSY) {
            /* The driver dropped the frame it was given (its completion
             * still comes back). */
            COVERAGE_INC(netdev_afxdp_tx_kernel_drop);
            netdev_count_tx_drop(&dev->up, 1);
            netdev_uncount_tx(&dev->up, 1, 0);
        } else if (error != EAGAIN && error != ENOBUFS && error != EINTR) {
            /* Down, or gone: the frames wait in the ring. */
            COVERAGE_INC(netdev_afxdp_tx_error);
            VLOG_WARN_RL(&netdev_afxdp_rl, "%s: send failed: %s", dev->up.name,
                         strerror(error));
            return;
        }
        /* Out of budget, or the completion ring is full. */
        netdev_afxdp_reap_tx(dev, s);
    }
}

/* A free frame to copy into, or UINT32_MAX.  Caller holds tx_mutex. */
static uint32_t
netdev_afxdp_tx_frame(struct netdev_afxdp *dev)
{
    if (!dev->n_tx_cache) {
        dev->n_tx_cache = netdev_afxdp_take_frames(dev->umem, dev->tx_cache,
                                                   NETDEV_AFXDP_TX_CACHE / 2);
        if (!dev->n_tx_cache) {
            return UINT32_MAX;
        }
    }
    return dev->tx_cache[--dev->n_tx_cache];
}

/* Reserves one tx descriptor, kicking the kernel and reaping completions
 * once if the ring is full.  Returns false if it stays full. */
static bool
netdev_afxdp_tx_reserve(struct netdev_afxdp *dev, struct netdev_afxdp_sock *s,
                        uint32_t *queued, uint32_t *idx)
{
    if (xsk_ring_prod__reserve(&s->tx, 1, idx)) {
        return true;
    }
    xsk_ring_prod__submit(&s->tx, *queued);
    s->tx_outstanding += *queued;
    *queued = 0;
    netdev_afxdp_kick_tx(dev, s);
    netdev_afxdp_reap_tx(dev, s);
    return xsk_ring_prod__reserve(&s->tx, 1, idx);
}

static void
netdev_afxdp_send(struct netdev *netdev, struct dp_packet_batch *batch,
                  bool may_steal)
{
    struct netdev_afxdp *dev = netdev_afxdp_cast(netdev);
    struct netdev_afxdp_sock *s = &dev->socks[0];
    struct netdev_afxdp_umem *umem = dev->umem;
    uint32_t queued = 0, sent = 0, zero_copy = 0, bad_size = 0;
    uint32_t ring_full = 0, no_frame = 0;
    uint64_t bytes = 0;
    unsigned int keep = 0;

    pthread_mutex_lock(&dev->tx_mutex);
    netdev_afxdp_reap_tx(dev, s);
    for (unsigned int i = 0; i < batch->count; i++) {
        struct dp_packet *pkt = batch->packets[i];
        uint32_t size = dp_packet_size(pkt);
        struct xdp_desc *desc;
        uint32_t frame, idx;
        bool own = may_steal && dp_packet_is_external(pkt)
                   && netdev_afxdp_packet_cast(pkt)->umem == umem;

        if (UNLIKELY(size > NETDEV_AFXDP_FRAME_SIZE || size < ETH_HLEN)) {
            bad_size++;
        } else if (own) {
            if (!netdev_afxdp_tx_reserve(dev, s, &queued, &idx)) {
                ring_full++;
            } else {
                /* Zero-copy: the frame itself goes, and comes back
                 * through the completion ring; its struct stays bound to
                 * it. */
                frame = netdev_afxdp_packet_cast(pkt)->frame;
                netdev_afxdp_set_owner(umem, frame, s->tag);
                desc = xsk_ring_prod__tx_desc(&s->tx, idx);
                desc->addr = netdev_afxdp_frame_addr(frame) + pkt->data_ofs;
                desc->len = size;
                desc->options = 0;
                queued++;
                sent++;
                zero_copy++;
                bytes += size;
                continue; /* In the ring now: not released below. */
            }
        } else if ((frame = netdev_afxdp_tx_frame(dev)) == UINT32_MAX) {
            no_frame++;
        } else if (!netdev_afxdp_tx_reserve(dev, s, &queued, &idx)) {
            dev->tx_cache[dev->n_tx_cache++] = frame;
            ring_full++;
        } else {
            netdev_afxdp_set_owner(umem, frame, s->tag);
            memcpy(umem->area + netdev_afxdp_frame_addr(frame),
                   dp_packet_data(pkt), size);
            desc = xsk_ring_prod__tx_desc(&s->tx, idx);
            desc->addr = netdev_afxdp_frame_addr(frame);
            desc->len = size;
            desc->options = 0;
            queued++;
            sent++;
            bytes += size;
        }
        batch->packets[keep++] = pkt;
    }
    xsk_ring_prod__submit(&s->tx, queued);
    s->tx_outstanding += queued;
    /* Counted as sent before the kick, so that a frame the driver drops
     * can move from tx_packets to tx_dropped. */
    netdev_count_tx(netdev, sent, bytes);
    netdev_afxdp_kick_tx(dev, s);
    pthread_mutex_unlock(&dev->tx_mutex);

    if (zero_copy) {
        COVERAGE_ADD(netdev_afxdp_tx_zero_copy, zero_copy);
    }
    if (sent > zero_copy) {
        COVERAGE_ADD(netdev_afxdp_tx_copy, sent - zero_copy);
    }
    if (UNLIKELY(bad_size | ring_full | no_frame)) {
        COVERAGE_ADD(netdev_afxdp_tx_bad_size, bad_size);
        COVERAGE_ADD(netdev_afxdp_tx_ring_full, ring_full);
        COVERAGE_ADD(netdev_afxdp_tx_no_frame, no_frame);
        netdev_count_tx_drop(netdev, bad_size + ring_full + no_frame);
    }
    /* The zero-copied packets are in the ring; the rest are recycled (if
     * ours) or stay the caller's. */
    batch->count = keep;
    netdev_batch_release(batch, may_steal);
}

/* ---- Statistics and status ---------------------------------------------- */

/* Adds the kernel's drop counts since the last call to the port's. */
static void
netdev_afxdp_read_kernel_stats(struct netdev_afxdp *dev)
{
    uint64_t rx_dropped = 0, ring_full = 0, fill_empty = 0, rx_invalid = 0;
    uint64_t tx_invalid = 0;

    pthread_mutex_lock(&dev->stats_mutex);
    for (unsigned int i = 0; i < dev->n_socks; i++) {
        struct netdev_afxdp_sock *s = &dev->socks[i];
        struct xdp_statistics k;
        socklen_t len = sizeof k;

        if (!s->xsk || getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &k, &len)
            || len < sizeof k) {
            continue;
        }
        rx_dropped += k.rx_dropped - s->kstats.rx_dropped;
        ring_full += k.rx_ring_full - s->kstats.rx_ring_full;
        fill_empty +=
            k.rx_fill_ring_empty_descs - s->kstats.rx_fill_ring_empty_descs;
        rx_invalid += k.rx_invalid_descs - s->kstats.rx_invalid_descs;
        tx_invalid += k.tx_invalid_descs - s->kstats.tx_invalid_descs;
        s->kstats = k;
    }
    pthread_mutex_unlock(&dev->stats_mutex);

    COVERAGE_ADD(netdev_afxdp_rx_kernel_drop, rx_dropped);
    COVERAGE_ADD(netdev_afxdp_rx_ring_full, ring_full);
    COVERAGE_ADD(netdev_afxdp_rx_fill_empty, fill_empty);
    COVERAGE_ADD(netdev_afxdp_rx_invalid, rx_invalid);
    COVERAGE_ADD(netdev_afxdp_tx_invalid, tx_invalid);
    netdev_counter_add(&dev->k_rx_dropped, rx_dropped + ring_full);
    netdev_counter_add(&dev->k_rx_errors, rx_invalid);
    netdev_counter_add(&dev->k_tx_invalid, tx_invalid);
}

static void
netdev_afxdp_get_stats(const struct netdev *netdev, struct netdev_stats *stats)
{
    struct netdev_afxdp *dev = netdev_afxdp_cast(netdev);
    uint64_t tx_invalid;

    netdev_afxdp_read_kernel_stats(dev);
    stats->rx_dropped += atomic_load_relaxed(&dev->k_rx_dropped);
    stats->rx_errors += atomic_load_relaxed(&dev->k_rx_errors);
    /* Counted as sent when queued; the kernel threw them away. */
    tx_invalid = atomic_load_relaxed(&dev->k_tx_invalid);
    tx_invalid = MIN(tx_invalid, stats->tx_packets);
    stats->tx_packets -= tx_invalid;
    stats->tx_errors += tx_invalid;
}

static void
netdev_afxdp_get_status(const struct netdev *netdev, struct ds *s)
{
    const struct netdev_afxdp *dev = netdev_afxdp_cast(netdev);
    struct netdev_afxdp_umem *umem = dev->umem;
    uint32_t n_free;

    pthread_mutex_lock(&umem->mutex);
    n_free = umem->n_free;
    pthread_mutex_unlock(&umem->mutex);
    ds_put_format(s,
                  "xdp-mode=%s rx-queues=%u umem=%u umem-frames=%" PRIu32
                  " umem-free=%" PRIu32 " umem-held=%" PRIu32,
                  dev->mode, dev->n_socks, umem->id, umem->n_frames, n_free,
                  netdev_afxdp_umem_frames_held(umem));
}

const struct netdev_class netdev_afxdp_class = {
    .type = "afxdp",
    .open = netdev_afxdp_open,
    .close = netdev_afxdp_close,
    .recv = netdev_afxdp_recv,
    .get_rx_fd = netdev_afxdp_get_rx_fd,
    .send = netdev_afxdp_send,
    .get_stats = netdev_afxdp_get_stats,
    .get_status = netdev_afxdp_get_status,
};
