/* netdev/netdev-afpacket.c — the `afpacket` port: a Linux interface through
 * AF_PACKET sockets with PACKET_MMAP rings (see netdev.h).
 *
 * Two sockets per port, because the ring version is per socket and the
 * best versions differ by direction:
 *
 *   rx: TPACKET_V3, a ring of NETDEV_AFPACKET_RX_BLOCKS blocks of
 *       NETDEV_AFPACKET_RX_BLOCK_SIZE bytes.  The kernel packs frames of
 *       any size into the current block and hands the whole block over when
 *       it is full or NETDEV_AFPACKET_RX_TIMEOUT_MS after its first frame,
 *       so a busy port costs one poll wake-up per block, not per frame.
 *       recv copies frames out of the block into pool packets (the caller
 *       owns what recv returns, for as long as it likes, so the block can
 *       go straight back to the kernel) and returns each block as soon as
 *       its last frame is copied.  The socket is created with protocol 0
 *       (it receives nothing) and bound to ETH_P_ALL on the interface only
 *       after the ring exists, so no frame of another interface slips in.
 *       It is promiscuous (PACKET_MR_PROMISC, undone by the kernel when the
 *       socket closes) and ignores frames the host itself transmits
 *       (PACKET_IGNORE_OUTGOING, plus a sll_pkttype check for kernels
 *       without it), which includes our own tx.
 *   tx: TPACKET_V2, a ring of NETDEV_AFPACKET_TX_FRAMES fixed-size frames
 *       (sized for the interface MTU).  send copies a batch into free
 *       frames, marks them TP_STATUS_SEND_REQUEST and kicks the kernel with
 *       one sendto(MSG_DONTWAIT) per batch.  The socket is never bound, so
 *       it receives nothing; sendto names the interface.  A full ring
 *       (every frame still owned by the kernel) drops the rest of the batch
 *       (tx_dropped, netdev_afpacket_tx_ring_full); a frame too large for a
 *       ring frame, or shorter than an Ethernet header, is dropped
 *       (netdev_afpacket_tx_bad_size).  When send returns, no frame waits
 *       in the ring: each is in flight or sent, or was taken back from the
 *       ring and counted, in tx_dropped if the kernel was congested (send
 *       buffer or qdisc full even after a few retries,
 *       netdev_afpacket_tx_congested) or in tx_errors if it refused the
 *       frame (interface down..., netdev_afpacket_tx_error).
 *
 * VLAN tags.  The kernel strips the outer 802.1Q/802.1ad tag of received
 * frames into the ring header (tp_vlan_tci, TP_STATUS_VLAN_VALID); recv
 * puts it back, with its TPID when the kernel reports one
 * (TP_STATUS_VLAN_TPID_VALID) and 0x8100 otherwise, so the datapath sees
 * the frame as it was on the wire.
 *
 * Drops.  Frames the kernel could not put in the ring (ring full) are read
 * with PACKET_STATISTICS (which resets the kernel's count) from
 * netdev_get_stats() and at most every NETDEV_AFPACKET_STATS_MS from an
 * idle recv, and added to rx_dropped and netdev_afpacket_rx_kernel_drop.
 *
 * Offloads.  A local stack sending through a veth leaves checksums
 * partial and hands over TCP "super-frames" of up to 64 kB (checksum and
 * segmentation offload are on by default).  The rx socket asks for a
 * virtio-net header in front of every frame (PACKET_VNET_HDR, set before
 * the ring exists: netdev_afpacket_enable_vnet_hdr(); ring frames carry it
 * since Linux 5.8), and recv finishes such frames through netdev-vnet.h:
 * the checksum completed, a GSO frame cut into segments of its gso_size,
 * drained into as many batches as it takes while the block holding it
 * stays ours.  Blocks are therefore large enough for a 64 kB frame.  The
 * tx socket has no vnet header: what the switch sends is complete.
 *
 * Thread safety: the rx ring state belongs to the polling thread; the tx
 * ring is guarded by 'tx_mutex'; the kernel drop count is an atomic. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"
#include "netdev/netdev-vnet.h"

VLOG_DEFINE_THIS_MODULE(netdev_afpacket);

COVERAGE_DEFINE(netdev_afpacket_rx_kernel_drop);
COVERAGE_DEFINE(netdev_afpacket_rx_truncated);
COVERAGE_DEFINE(netdev_afpacket_tx_ring_full);
COVERAGE_DEFINE(netdev_afpacket_tx_bad_size);
COVERAGE_DEFINE(netdev_afpacket_tx_error);
COVERAGE_DEFINE(netdev_afpacket_tx_congested);

/* A block must hold the largest GSO frame (64 kB and the headers in
 * front of it), or the kernel truncates it: 128 kB, the next power of two
 * (the kernel allocates blocks in powers of two of pages anyway).  The
 * kernel's block timeout is in jiffies (4 ms at HZ=250), so at a modest
 * rate a block is handed over only when full, with about 1000 minimum-size
 * frames at once; as new flows that burst was once lost at the upcall
 * queue (and blocks were cut to 16 kB), but the datapath now leaves a
 * port's frames in its ring while the port's share of the upcall queue
 * has no room for a batch (DESIGN.md, "A port hands misses over in
 * bursts"), and recv takes 32 frames at a time from an open block. */
#define NETDEV_AFPACKET_RX_BLOCK_SIZE (1u << 17) /* 128 kB. */
#define NETDEV_AFPACKET_RX_BLOCKS 128            /* 16 MB in all. */
#define NETDEV_AFPACKET_RX_FRAME_SIZE 2048 /* Nominal, for tp_frame_nr. */
#define NETDEV_AFPACKET_RX_TIMEOUT_MS 1
#define NETDEV_AFPACKET_TX_FRAMES 512
#define NETDEV_AFPACKET_TX_RETRIES 4
#define NETDEV_AFPACKET_STATS_MS 100
#define NETDEV_AFPACKET_VLAN_LEN 4
#define NETDEV_AFPACKET_MACS_LEN ((size_t)2 * ETH_ALEN) /* dst + src. */

/* Where a TPACKET_V2 tx frame's data starts (no PACKET_TX_HAS_OFF). */
#define NETDEV_AFPACKET_TX_DATA_OFS TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
/* Where the sockaddr_ll of a TPACKET_V3 rx frame sits. */
#define NETDEV_AFPACKET_RX_SLL_OFS TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

static struct vlog_rate_limit netdev_afpacket_rl = VLOG_RATE_LIMIT_INIT(5, 5);

struct netdev_afpacket {
    struct netdev up;
    int ifindex;

    /* Receive: owned by the polling thread. */
    int rx_sock;
    uint8_t *rx_map;
    size_t rx_map_size;
    unsigned int rx_block;            /* Current block. */
    struct tpacket_block_desc *rx_bd; /* Block being read, or NULL. */
    unsigned int rx_pkts_left;        /* Frames left in 'rx_bd'. */
    struct tpacket3_hdr *rx_next;     /* Next frame in 'rx_bd'. */
    uint64_t rx_stats_ms;             /* Last PACKET_STATISTICS. */
    uint64_t kernel_drops;            /* Read from the kernel so far. */
    struct packet_gso rx_gso;         /* GSO frame being drained, in
                                       * the ring: whatever unmaps the ring
                                       * abandons it first. */
    struct dp_packet *rx_gso_copy;    /* A GSO frame with its VLAN tag put
                                       * back, or NULL until needed. */

    /* Transmit. */
    pthread_mutex_t tx_mutex;
    int tx_sock;
    uint8_t *tx_map; /* Ring, guarded by 'tx_mutex'. */
    size_t tx_map_size;
    unsigned int tx_frame_size;
    unsigned int tx_head; /* Next frame to fill. Guarded by mutex. */
    size_t tx_max_len;    /* Largest frame that fits a tx frame. */
};

static struct netdev_afpacket *
netdev_afpacket_cast(const struct netdev *netdev)
{
    return CONTAINER_OF(netdev, struct netdev_afpacket, up);
}

/* Returns the interface's MTU, or 1500 if it cannot be read. */
static unsigned int
netdev_afpacket_get_mtu(int sock, const char *name)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0) {
        return 1500;
    }
    return (unsigned int)ifr.ifr_mtu;
}

static bool
netdev_afpacket_is_up(int sock, const char *name)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    return ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags & IFF_UP);
}

static int
netdev_afpacket_setsockopt(int sock, int option, const void *value,
                           socklen_t len, const char *what, char **detailp)
{
    if (setsockopt(sock, SOL_PACKET, option, value, len) < 0) {
        int error = errno;

        *detailp = xasprintf("%s: %s", what, strerror(error));
        return error;
    }
    return 0;
}

/* Asks for a struct virtio_net_hdr in front of every received frame (see
 * "Offloads" above).  Must come before the ring is set up. */
static int
netdev_afpacket_enable_vnet_hdr(int sock, char **detailp)
{
    int one = 1;

    return netdev_afpacket_setsockopt(sock, PACKET_VNET_HDR, &one, sizeof one,
                                      "vnet header", detailp);
}

static int
netdev_afpacket_open_rx(struct netdev_afpacket *dev, char **detailp)
{
    struct tpacket_req3 req = {
        .tp_block_size = NETDEV_AFPACKET_RX_BLOCK_SIZE,
        .tp_block_nr = NETDEV_AFPACKET_RX_BLOCKS,
        .tp_frame_size = NETDEV_AFPACKET_RX_FRAME_SIZE,
        .tp_frame_nr = NETDEV_AFPACKET_RX_BLOCK_SIZE
                       / NETDEV_AFPACKET_RX_FRAME_SIZE
                       * NETDEV_AFPACKET_RX_BLOCKS,
        .tp_retire_blk_tov = NETDEV_AFPACKET_RX_TIMEOUT_MS,
    };
    struct packet_mreq mreq = {.mr_ifindex = dev->ifindex,
                               .mr_type = PACKET_MR_PROMISC};
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = dev->ifindex};
    struct tpacket_stats_v3 kstats;
    socklen_t kstats_len = sizeof kstats;
    int version = TPACKET_V3;
    int one = 1;
    int error;

    dev->rx_sock =
        socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (dev->rx_sock < 0) {
        return errno;
    }
    error = netdev_afpacket_setsockopt(dev->rx_sock, PACKET_VERSION, &version,
                                       sizeof version, "TPACKET_V3", detailp);
    if (error) {
        return error;
    }
    error = netdev_afpacket_enable_vnet_hdr(dev->rx_sock, detailp);
    if (error) {
        return error;
    }
    /* Best effort (Linux 4.20+); recv checks sll_pkttype anyway. */
    setsockopt(dev->rx_sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
               sizeof one);
    error = netdev_afpacket_setsockopt(dev->rx_sock, PACKET_RX_RING, &req,
                                       sizeof req, "rx ring", detailp);
    if (error) {
        return error;
    }
    dev->rx_map_size = (size_t)req.tp_block_size * req.tp_block_nr;
    dev->rx_map = mmap(NULL, dev->rx_map_size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_POPULATE, dev->rx_sock, 0);
    if (dev->rx_map == MAP_FAILED) {
        error = errno;
        dev->rx_map = NULL;
        *detailp = xasprintf("mapping rx ring: %s", strerror(error));
        return error;
    }
    error =
        netdev_afpacket_setsockopt(dev->rx_sock, PACKET_ADD_MEMBERSHIP, &mreq,
                                   sizeof mreq, "promiscuous mode", detailp);
    if (error) {
        return error;
    }
    if (bind(dev->rx_sock, (struct sockaddr *)&sll, sizeof sll) < 0) {
        error = errno;
        /* The interface vanished between lookup and bind. */
        *detailp = xstrdup(strerror(error == ENXIO ? ENODEV : error));
        return error == ENXIO ? ENODEV : error;
    }
    /* Start the kernel's drop count from zero. */
    getsockopt(dev->rx_sock, SOL_PACKET, PACKET_STATISTICS, &kstats,
               &kstats_len);
    dev->rx_stats_ms = time_msec();
    return 0;
}

static int
netdev_afpacket_open_tx(struct netdev_afpacket *dev, unsigned int mtu,
                        char **detailp)
{
    struct tpacket_req req;
    size_t need = NETDEV_AFPACKET_TX_DATA_OFS + ETH_HLEN
                  + (size_t)2 * NETDEV_AFPACKET_VLAN_LEN + mtu;
    unsigned int frame_size = 2048;
    unsigned int block_size;
    int version = TPACKET_V2;
    int sndbuf;
    int error;

    while (frame_size < need && frame_size < (1u << 17)) {
        frame_size *= 2;
    }
    block_size = MAX(frame_size, 1u << 16);

    dev->tx_sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (dev->tx_sock < 0) {
        return errno;
    }
    error = netdev_afpacket_setsockopt(dev->tx_sock, PACKET_VERSION, &version,
                                       sizeof version, "TPACKET_V2", detailp);
    if (error) {
        return error;
    }
    memset(&req, 0, sizeof req);
    req.tp_frame_size = frame_size;
    req.tp_frame_nr = NETDEV_AFPACKET_TX_FRAMES;
    req.tp_block_size = block_size;
    req.tp_block_nr = NETDEV_AFPACKET_TX_FRAMES / (block_size / frame_size);
    error = netdev_afpacket_setsockopt(dev->tx_sock, PACKET_TX_RING, &req,
                                       sizeof req, "tx ring", detailp);
    if (error) {
        return error;
    }
    dev->tx_map_size = (size_t)req.tp_block_size * req.tp_block_nr;
    dev->tx_map = mmap(NULL, dev->tx_map_size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_POPULATE, dev->tx_sock, 0);
    if (dev->tx_map == MAP_FAILED) {
        error = errno;
        dev->tx_map = NULL;
        *detailp = xasprintf("mapping tx ring: %s", strerror(error));
        return error;
    }
    dev->tx_frame_size = frame_size;
    dev->tx_max_len = frame_size - NETDEV_AFPACKET_TX_DATA_OFS;

    /* Room in the send buffer for every frame of the ring at once (each
     * skb costs its data plus well under 1 kB), so that the ring, not the
     * buffer, bounds what is in flight. */
    sndbuf = NETDEV_AFPACKET_TX_FRAMES * (int)(frame_size + 1024);
    if (setsockopt(dev->tx_sock, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
                   sizeof sndbuf)) {
        setsockopt(dev->tx_sock, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                   sizeof sndbuf);
    }
    return 0;
}

static int
netdev_afpacket_open(const char *name, const struct netdev_options *options,
                     struct netdev **netdevp, char **detailp)
{
    struct netdev_afpacket *dev;
    unsigned int mtu;
    int error;

    (void)options;
    if (strlen(name) >= IFNAMSIZ) {
        *detailp =
            xasprintf("interface name is longer than %d bytes", IFNAMSIZ - 1);
        return ENAMETOOLONG;
    }

    dev = xzalloc(sizeof *dev);
    netdev_init(&dev->up, &netdev_afpacket_class, name);
    pthread_mutex_init(&dev->tx_mutex, NULL);
    dev->rx_sock = dev->tx_sock = -1;
    atomic_store_relaxed(&dev->kernel_drops, 0);

    dev->ifindex = (int)if_nametoindex(name);
    if (!dev->ifindex) {
        error = errno == ENXIO || !errno ? ENODEV : errno;
        goto error;
    }
    error = netdev_afpacket_open_rx(dev, detailp);
    if (error) {
        goto error;
    }
    mtu = netdev_afpacket_get_mtu(dev->rx_sock, name);
    error = netdev_afpacket_open_tx(dev, mtu, detailp);
    if (error) {
        goto error;
    }
    if (!netdev_afpacket_is_up(dev->rx_sock, name)) {
        VLOG_WARN("%s: interface is down; the port will not see traffic "
                  "until it is up",
                  name);
    }
    *netdevp = &dev->up;
    return 0;

error:
    netdev_afpacket_class.close(&dev->up);
    return error;
}

/* Adds the kernel's rx drops since the last call to the port's count. */
static void
netdev_afpacket_read_kernel_drops(struct netdev_afpacket *dev)
{
    struct tpacket_stats_v3 kstats;
    socklen_t len = sizeof kstats;

    if (dev->rx_sock >= 0
        && !getsockopt(dev->rx_sock, SOL_PACKET, PACKET_STATISTICS, &kstats,
                       &len)
        && kstats.tp_drops) {
        COVERAGE_ADD(netdev_afpacket_rx_kernel_drop, kstats.tp_drops);
        atomic_fetch_add_relaxed(&dev->kernel_drops, kstats.tp_drops);
    }
}

/* A frame counted as sent when it was queued turned out not to be: moves
 * it from tx_packets to tx_dropped (congestion) or tx_errors. */
static void
netdev_afpacket_tx_failed(struct netdev_afpacket *dev, uint32_t len,
                          bool congested)
{
    if (congested) {
        COVERAGE_INC(netdev_afpacket_tx_congested);
        netdev_count_tx_drop(&dev->up, 1);
    } else {
        COVERAGE_INC(netdev_afpacket_tx_error);
        netdev_count_tx_error(&dev->up, 1);
    }
    netdev_uncount_tx(&dev->up, 1, len);
}

static struct tpacket2_hdr *
netdev_afpacket_tx_hdr(const struct netdev_afpacket *dev, unsigned int idx)
{
    return (void *)(dev->tx_map + (size_t)idx * dev->tx_frame_size);
}

/* Takes back the tx frames still waiting for the kernel, and counts them
 * as dropped ('congested') or as errors.
 *
 * The kernel sends frames strictly in ring order, from its own head, and
 * stops at the first frame that is not TP_STATUS_SEND_REQUEST; after a
 * failed sendto() its head sits on the frame it gave up on (marked
 * SEND_REQUEST again, or WRONG_FORMAT).  The frames still waiting are thus
 * the run that ends just before our 'tx_head'; walking it backwards and
 * moving 'tx_head' back to its start keeps both heads on the same frame,
 * so that the next frame we queue is the next one the kernel looks at.
 *
 * Caller holds tx_mutex, so no sendto() runs on this socket. */
static void
netdev_afpacket_reclaim_tx(struct netdev_afpacket *dev, bool congested)
{
    for (unsigned int n = 0; n < NETDEV_AFPACKET_TX_FRAMES; n++) {
        unsigned int prev = (dev->tx_head + NETDEV_AFPACKET_TX_FRAMES - 1)
                            % NETDEV_AFPACKET_TX_FRAMES;
        struct tpacket2_hdr *h = netdev_afpacket_tx_hdr(dev, prev);

        if (!(atomic_load_acquire(&h->tp_status)
              & (TP_STATUS_SEND_REQUEST | TP_STATUS_WRONG_FORMAT))) {
            break;
        }
        netdev_afpacket_tx_failed(dev, h->tp_len, congested);
        atomic_store_release(&h->tp_status, TP_STATUS_AVAILABLE);
        dev->tx_head = prev;
    }
}

static void
netdev_afpacket_close(struct netdev *netdev)
{
    struct netdev_afpacket *dev = netdev_afpacket_cast(netdev);

    if (dev->tx_map) {
        munmap(dev->tx_map, dev->tx_map_size);
    }
    if (dev->tx_sock >= 0) {
        close(dev->tx_sock);
    }
    netdev_vnet_gso_abandon(&dev->up, &dev->rx_gso);
    if (dev->rx_map) {
        munmap(dev->rx_map, dev->rx_map_size);
    }
    if (dev->rx_sock >= 0) {
        close(dev->rx_sock);
    }
    pthread_mutex_destroy(&dev->tx_mutex);
    dp_packet_delete(dev->rx_gso_copy);
    netdev_uninit(&dev->up);
    free(dev);
}

/* Appends the frame at 'h' to 'pkt', putting back the VLAN tag the kernel
 * stripped.  Inlined: it is most of the fast path. */
static inline __attribute__((always_inline)) void
netdev_afpacket_put_frame(struct dp_packet *pkt, const struct tpacket3_hdr *h)
{
    const uint8_t *data = (const uint8_t *)h + h->tp_mac;
    uint32_t len = h->tp_snaplen;

    if (h->tp_status & TP_STATUS_VLAN_VALID) {
        uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
                            ? h->hv1.tp_vlan_tpid
                            : ETH_P_8021Q;
        be16 tag[2] = {htons(tpid), htons(h->hv1.tp_vlan_tci)};

        dp_packet_put(pkt, data, NETDEV_AFPACKET_MACS_LEN);
        dp_packet_put(pkt, tag, sizeof tag);
        dp_packet_put(pkt, data + NETDEV_AFPACKET_MACS_LEN,
                      len - NETDEV_AFPACKET_MACS_LEN);
    } else {
        dp_packet_put(pkt, data, len);
    }
}

/* The slow path of rx_frame(): the frame at 'h' whose vnet header 'vh'
 * says it needs work (see "Offloads").  A GSO frame is drained from the
 * ring where it is, or from a copy when its VLAN tag must go back in. */
static uint64_t __attribute__((noinline, cold))
netdev_afpacket_rx_offload(struct netdev_afpacket *dev,
                           const struct tpacket3_hdr *h,
                           const struct virtio_net_hdr *vh,
                           struct dp_packet_batch *batch)
{
    bool tagged = h->tp_status & TP_STATUS_VLAN_VALID;
    const uint8_t *data = (const uint8_t *)h + h->tp_mac;
    uint32_t len = h->tp_snaplen;
    struct packet_offload off;
    struct dp_packet *pkt;

    netdev_vnet_decode(vh, tagged ? NETDEV_AFPACKET_VLAN_LEN : 0, &off);
    if (off.gso_type == PACKET_GSO_NONE) {
        pkt = netdev_packet_alloc();
        netdev_afpacket_put_frame(pkt, h);
        return netdev_vnet_rx_append(&dev->up, pkt, &off, batch);
    }
    if (tagged) {
        if (!dev->rx_gso_copy) {
            dev->rx_gso_copy = dp_packet_new(0, NETDEV_AFPACKET_RX_BLOCK_SIZE);
        }
        dp_packet_clear(dev->rx_gso_copy);
        netdev_afpacket_put_frame(dev->rx_gso_copy, h);
        data = dp_packet_data(dev->rx_gso_copy);
        len = dp_packet_size(dev->rx_gso_copy);
    }
    netdev_vnet_gso_start(&dev->up, &dev->rx_gso, data, len, &off);
    return netdev_vnet_gso_drain(&dev->rx_gso, batch);
}

/* Receives the frame at 'h' into 'batch' (which has room): copied into a
 * pool packet, its stripped VLAN tag put back; or, when its vnet header
 * says so, its partial checksum completed or, for a GSO frame, its first
 * segments.  Returns the bytes added to 'batch'. */
static uint64_t
netdev_afpacket_rx_frame(struct netdev_afpacket *dev,
                         const struct tpacket3_hdr *h,
                         struct dp_packet_batch *batch)
{
    const struct sockaddr_ll *sll =
        (const void *)((const uint8_t *)h + NETDEV_AFPACKET_RX_SLL_OFS);
    const struct virtio_net_hdr *vh =
        (const void *)((const uint8_t *)h + h->tp_mac - sizeof *vh);
    struct dp_packet *pkt;

    if (UNLIKELY(sll->sll_pkttype == PACKET_OUTGOING)) {
        return 0; /* Our own (or the host's) transmission. */
    }
    if (UNLIKELY(h->tp_snaplen < h->tp_len || h->tp_snaplen < ETH_HLEN)) {
        COVERAGE_INC(netdev_afpacket_rx_truncated);
        netdev_count_rx_drop(&dev->up, 1);
        return 0;
    }
    if (UNLIKELY(netdev_vnet_needs_work(vh))) {
        return netdev_afpacket_rx_offload(dev, h, vh, batch);
    }
    pkt = netdev_packet_alloc();
    netdev_afpacket_put_frame(pkt, h);
    batch->packets[batch->count++] = pkt;
    return dp_packet_size(pkt);
}

/* Opens the current block if the kernel has handed it over.  Returns
 * false if it has not. */
static bool
netdev_afpacket_open_block(struct netdev_afpacket *dev)
{
    struct tpacket_block_desc *bd =
        (void *)(dev->rx_map
                 + (size_t)dev->rx_block * NETDEV_AFPACKET_RX_BLOCK_SIZE);

    if (!(atomic_load_acquire(&bd->hdr.bh1.block_status) & TP_STATUS_USER)) {
        return false;
    }
    dev->rx_bd = bd;
    dev->rx_pkts_left = bd->hdr.bh1.num_pkts;
    dev->rx_next = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
    return true;
}

/* Gives the current block back to the kernel and moves to the next. */
static void
netdev_afpacket_release_block(struct netdev_afpacket *dev)
{
    atomic_store_release(&dev->rx_bd->hdr.bh1.block_status, TP_STATUS_KERNEL);
    dev->rx_bd = NULL;
    dev->rx_block = (dev->rx_block + 1) % NETDEV_AFPACKET_RX_BLOCKS;
}

/* Gives the current block back once no frame of it is left to copy, not
 * even a segment. */
static inline void
netdev_afpacket_release_done_block(struct netdev_afpacket *dev)
{
    if (dev->rx_bd && !dev->rx_pkts_left
        && !packet_gso_pending(&dev->rx_gso)) {
        netdev_afpacket_release_block(dev);
    }
}

static int
netdev_afpacket_recv(struct netdev *netdev, struct dp_packet_batch *batch)
{
    struct netdev_afpacket *dev = netdev_afpacket_cast(netdev);
    uint64_t bytes = 0;

    if (UNLIKELY(packet_gso_pending(&dev->rx_gso))) {
        /* The rest of a GSO frame that filled the last batch: a frame that
         * starts draining either finishes or fills its batch, so only a
         * new recv finds one pending. */
        bytes += netdev_vnet_gso_drain(&dev->rx_gso, batch);
        netdev_afpacket_release_done_block(dev);
    }
    while (batch->count < PACKET_BATCH_MAX) {
        if (!dev->rx_bd && !netdev_afpacket_open_block(dev)) {
            break;
        }
        if (dev->rx_pkts_left) {
            struct tpacket3_hdr *h = dev->rx_next;

            dev->rx_pkts_left--;
            dev->rx_next = (void *)((uint8_t *)h + h->tp_next_offset);
            bytes += netdev_afpacket_rx_frame(dev, h, batch);
        }
        netdev_afpacket_release_done_block(dev);
    }

    if (!batch->count) {
        uint64_t now = time_msec();

        if (now - dev->rx_stats_ms >= NETDEV_AFPACKET_STATS_MS) {
            dev->rx_stats_ms = now;
            netdev_afpacket_read_kernel_drops(dev);
        }
        return EAGAIN;
    }
    netdev_count_rx(netdev, batch->count, bytes);
    return 0;
}

static int
netdev_afpacket_get_rx_fd(const struct netdev *netdev)
{
    return netdev_afpacket_cast(netdev)->rx_sock;
}

/* True if the kernel has not taken every frame queued in the tx ring: it
 * works in ring order, so it is enough to look at the last one queued.
 * Caller holds tx_mutex. */
static bool
netdev_afpacket_tx_pending(const struct netdev_afpacket *dev)
{
    unsigned int last = (dev->tx_head + NETDEV_AFPACKET_TX_FRAMES - 1)
                        % NETDEV_AFPACKET_TX_FRAMES;
    const struct tpacket2_hdr *h = netdev_afpacket_tx_hdr(dev, last);

    return atomic_load_acquire(&h->tp_status)
           & (TP_STATUS_SEND_REQUEST | TP_STATUS_WRONG_FORMAT);
}

/* Has the kernel send the frames queued in the tx ring.  When this
 * returns, none is left waiting: each is in flight, sent, or taken back
 * and counted (see reclaim_tx()), so a frame never lingers in the ring
 * until some later send.  sendto() may stop early (and still report
 * success) when the socket's send buffer is full or the qdisc drops; that
 * is retried a few times, then counted as congestion drops.  The send
 * buffer is sized for the whole ring at open, so that is rare.  Caller
 * holds tx_mutex. */
static void
netdev_afpacket_kick_tx(struct netdev_afpacket *dev)
{
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = dev->ifindex};

    for (int attempt = 0;; attempt++) {
        int error = 0;

        if (sendto(dev->tx_sock, NULL, 0, MSG_DONTWAIT,
                   (struct sockaddr *)&sll, sizeof sll)
            < 0) {
            error = errno;
        }
        if (!netdev_afpacket_tx_pending(dev)) {
            return;
        }
        if (!error || error == EAGAIN || error == ENOBUFS || error == EINTR) {
            if (attempt < NETDEV_AFPACKET_TX_RETRIES) {
                continue;
            }
            netdev_afpacket_reclaim_tx(dev, true);
        } else {
            VLOG_WARN_RL(&netdev_afpacket_rl, "%s: send failed: %s",
                         dev->up.name, strerror(error));
            netdev_afpacket_reclaim_tx(dev, false);
        }
        return;
    }
}

/* Returns the next tx frame if it is free, otherwise NULL.  Caller holds
 * tx_mutex. */
static struct tpacket2_hdr *
netdev_afpacket_tx_frame(struct netdev_afpacket *dev)
{
    struct tpacket2_hdr *h = netdev_afpacket_tx_hdr(dev, dev->tx_head);

    return atomic_load_acquire(&h->tp_status) == TP_STATUS_AVAILABLE ? h
                                                                     : NULL;
}

static void
netdev_afpacket_send(struct netdev *netdev, struct dp_packet_batch *batch,
                     bool may_steal)
{
    struct netdev_afpacket *dev = netdev_afpacket_cast(netdev);
    unsigned int queued = 0, bad_size = 0, ring_full = 0;
    uint64_t bytes = 0;

    pthread_mutex_lock(&dev->tx_mutex);
    for (unsigned int i = 0; i < batch->count; i++) {
        const struct dp_packet *pkt = batch->packets[i];
        uint32_t size = dp_packet_size(pkt);
        struct tpacket2_hdr *h;

        if (UNLIKELY(size > dev->tx_max_len || size < ETH_HLEN)) {
            bad_size++; /* Too big for a frame, or a runt the kernel would
                         * refuse. */
            continue;
        }
        h = netdev_afpacket_tx_frame(dev);
        if (!h) {
            /* Every frame is in flight (none waits: see kick_tx()). */
            ring_full = batch->count - i;
            break;
        }
        memcpy((uint8_t *)h + NETDEV_AFPACKET_TX_DATA_OFS, dp_packet_data(pkt),
               size);
        h->tp_len = size;
        h->tp_snaplen = size;
        atomic_store_release(&h->tp_status, TP_STATUS_SEND_REQUEST);
        dev->tx_head = (dev->tx_head + 1) % NETDEV_AFPACKET_TX_FRAMES;
        queued++;
        bytes += size;
    }
    /* Counted as sent before the kick, so that a failed kick can move
     * frames from tx_packets to tx_dropped or tx_errors without the counter
     * going below zero. */
    netdev_count_tx(netdev, queued, bytes);
    if (queued) {
        netdev_afpacket_kick_tx(dev);
    }
    pthread_mutex_unlock(&dev->tx_mutex);

    if (bad_size) {
        COVERAGE_ADD(netdev_afpacket_tx_bad_size, bad_size);
        netdev_count_tx_drop(netdev, bad_size);
    }
    if (ring_full) {
        COVERAGE_ADD(netdev_afpacket_tx_ring_full, ring_full);
        netdev_count_tx_drop(netdev, ring_full);
    }
    netdev_batch_release(batch, may_steal);
}

static void
netdev_afpacket_get_stats(const struct netdev *netdev,
                          struct netdev_stats *stats)
{
    struct netdev_afpacket *dev = netdev_afpacket_cast(netdev);

    netdev_afpacket_read_kernel_drops(dev);
    stats->rx_dropped += atomic_load_relaxed(&dev->kernel_drops);
}

const struct netdev_class netdev_afpacket_class = {
    .type = "afpacket",
    .open = netdev_afpacket_open,
    .close = netdev_afpacket_close,
    .recv = netdev_afpacket_recv,
    .get_rx_fd = netdev_afpacket_get_rx_fd,
    .send = netdev_afpacket_send,
    .get_stats = netdev_afpacket_get_stats,
};
