/* netdev/netdev-tap.c — the `tap` port: a TAP device the switch creates,
 * typically its LOCAL port (see netdev.h).
 *
 * Opening the port creates (or attaches to, if a persistent one exists) the
 * TAP device 'name' through /dev/net/tun with IFF_TAP | IFF_NO_PI, makes
 * the fd nonblocking and brings the interface up.  A non-persistent device
 * disappears when the port closes its fd.
 *
 * recv reads one frame per read() into a pool packet, up to a batch: the
 * frame lands in the packet's tailroom, and a frame longer than that (a
 * jumbo MTU) spills into a per-port overflow buffer through readv() and is
 * appended from there, so nothing is ever truncated.  send writes one frame
 * per write(); the kernel takes a whole frame or none, so concurrent
 * senders need no lock.  A frame the kernel refuses because its queue is
 * full (EAGAIN, ENOBUFS) or the interface is down (EIO) is counted in
 * tx_dropped (netdev_tap_tx_busy, netdev_tap_tx_down); other write errors
 * in tx_errors (netdev_tap_tx_error).
 *
 * Offloads.  The device is opened with IFF_VNET_HDR and told it may hand
 * over partial checksums and TCP segmentation (TUNSETOFFLOAD:
 * netdev_tap_enable_offload()), so the host's stack sends the switch
 * 64 kB TCP frames in one read() instead of 45, each behind a struct
 * virtio_net_hdr.  recv finishes them through netdev-vnet.h (checksum
 * completed, GSO frame cut into segments of its gso_size); a GSO frame is
 * first made contiguous in the overflow buffer, behind the part that
 * landed in the pool packet, and drained from there across batches before
 * anything new is read.  send writes every frame behind a zeroed header:
 * what the switch sends is complete.
 *
 * Thread safety: recv and the overflow buffer belong to the polling
 * thread; send may run in several threads at once. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/coverage.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"
#include "netdev/netdev-vnet.h"

VLOG_DEFINE_THIS_MODULE(netdev_tap);

COVERAGE_DEFINE(netdev_tap_rx_error);
COVERAGE_DEFINE(netdev_tap_tx_busy);
COVERAGE_DEFINE(netdev_tap_tx_down);
COVERAGE_DEFINE(netdev_tap_tx_error);

#define NETDEV_TAP_OVERFLOW 65536
/* Room in front of the overflow part of the buffer, for the head of a GSO
 * frame that landed in a pool packet. */
#define NETDEV_TAP_STAGE NETDEV_POOL_BUF_SIZE
/* Offloads the device may hand over (TUNSETOFFLOAD). */
#define NETDEV_TAP_OFFLOADS                                                   \
    (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

static struct vlog_rate_limit netdev_tap_rl = VLOG_RATE_LIMIT_INIT(5, 5);

/* The vnet header of every frame sent: nothing left to finish. */
static const struct virtio_net_hdr netdev_tap_no_offload;

struct netdev_tap {
    struct netdev up;
    int fd;
    uint8_t *overflow; /* NETDEV_TAP_STAGE + NETDEV_TAP_OVERFLOW bytes, for
                        * long frames (after the stage). */
    struct packet_gso rx_gso; /* GSO frame being drained. */
};

static struct netdev_tap *
netdev_tap_cast(const struct netdev *netdev)
{
    return CONTAINER_OF(netdev, struct netdev_tap, up);
}

/* Brings interface 'name' up.  Returns 0 or an errno value. */
static int
netdev_tap_set_up(const char *name)
{
    struct ifreq ifr;
    int error = 0;
    int sock;

    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        error = errno;
    } else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
            error = errno;
        }
    }
    close(sock);
    return error;
}

/* Lets the device hand over partial checksums and TCP segmentation, behind
 * the vnet header IFF_VNET_HDR asked for (see "Offloads" above). */
static int
netdev_tap_enable_offload(int fd, char **detailp)
{
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)NETDEV_TAP_OFFLOADS) < 0) {
        int error = errno;

        *detailp = xasprintf("enabling offloads: %s", strerror(error));
        return error;
    }
    return 0;
}

static int
netdev_tap_open(const char *name, const struct netdev_options *options,
                struct netdev **netdevp, char **detailp)
{
    struct netdev_tap *dev;
    struct ifreq ifr;
    int error;
    int fd;

    (void)options;
    if (strlen(name) >= IFNAMSIZ) {
        *detailp =
            xasprintf("interface name is longer than %d bytes", IFNAMSIZ - 1);
        return ENAMETOOLONG;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = errno;
        *detailp = xasprintf("/dev/net/tun: %s", strerror(error));
        return error;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error = errno;
        *detailp = xasprintf("creating TAP device: %s", strerror(error));
        close(fd);
        return error;
    }
    error = netdev_tap_enable_offload(fd, detailp);
    if (error) {
        close(fd);
        return error;
    }
    error = netdev_tap_set_up(name);
    if (error) {
        *detailp = xasprintf("bringing the interface up: %s", strerror(error));
        close(fd);
        return error;
    }

    dev = xzalloc(sizeof *dev);
    netdev_init(&dev->up, &netdev_tap_class, name);
    dev->fd = fd;
    dev->overflow = xmalloc(NETDEV_TAP_STAGE + NETDEV_TAP_OVERFLOW);
    *netdevp = &dev->up;
    return 0;
}

static void
netdev_tap_close(struct netdev *netdev)
{
    struct netdev_tap *dev = netdev_tap_cast(netdev);

    netdev_vnet_gso_abandon(&dev->up, &dev->rx_gso);
    close(dev->fd);
    free(dev->overflow);
    netdev_uninit(&dev->up);
    free(dev);
}

/* Starts draining the GSO frame of 'n' bytes whose first bytes are in
 * 'pkt' and the rest at the start of the overflow part of the buffer:
 * copies the head in front of the rest (see "Offloads"), then recycles
 * 'pkt'. */
static void
netdev_tap_rx_gso(struct netdev_tap *dev, struct dp_packet *pkt, size_t n,
                  const struct packet_offload *off)
{
    size_t head = dp_packet_size(pkt);
    uint8_t *frame = dev->overflow + NETDEV_TAP_STAGE - head;

    memcpy(frame, dp_packet_data(pkt), head);
    netdev_packet_recycle(pkt);
    netdev_vnet_gso_start(&dev->up, &dev->rx_gso, frame, n, off);
}

/* Appends to 'pkt', which holds the first 'room' bytes of a frame of 'n'
 * bytes, the rest of it from the overflow buffer. */
static void
netdev_tap_put_rest(struct netdev_tap *dev, struct dp_packet *pkt, size_t n,
                    size_t room)
{
    if (n > room) {
        dp_packet_put(pkt, dev->overflow + NETDEV_TAP_STAGE, n - room);
    }
}

/* The slow path of rx_frame(): the frame whose vnet header 'vh' says it
 * needs work (see "Offloads"). */
static uint64_t __attribute__((noinline, cold))
netdev_tap_rx_offload(struct netdev_tap *dev, struct dp_packet *pkt, size_t n,
                      size_t room, const struct virtio_net_hdr *vh,
                      struct dp_packet_batch *batch)
{
    struct packet_offload off;

    netdev_vnet_decode(vh, 0, &off);
    if (off.gso_type != PACKET_GSO_NONE) {
        netdev_tap_rx_gso(dev, pkt, n, &off);
        return netdev_vnet_gso_drain(&dev->rx_gso, batch);
    }
    netdev_tap_put_rest(dev, pkt, n, room);
    return netdev_vnet_rx_append(&dev->up, pkt, &off, batch);
}

/* Finishes the frame of 'n' bytes just read into 'pkt' (and the overflow
 * buffer), whose vnet header is 'vh', and appends it (or its first
 * segments) to 'batch'.  Returns the bytes appended. */
static uint64_t
netdev_tap_rx_frame(struct netdev_tap *dev, struct dp_packet *pkt, size_t n,
                    const struct virtio_net_hdr *vh,
                    struct dp_packet_batch *batch)
{
    size_t room = dp_packet_tailroom(pkt);

    dp_packet_put_uninit(pkt, MIN(n, room));
    if (UNLIKELY(netdev_vnet_needs_work(vh))) {
        return netdev_tap_rx_offload(dev, pkt, n, room, vh, batch);
    }
    netdev_tap_put_rest(dev, pkt, n, room);
    batch->packets[batch->count++] = pkt;
    return dp_packet_size(pkt);
}

/* Reads one frame (and its vnet header) into a new pool packet and
 * appends it, or its first segments, to 'batch' (which has room).
 * Returns 0 and adds to '*bytes', or an errno value (EAGAIN: nothing to
 * read). */
static int
netdev_tap_read_frame(struct netdev_tap *dev, struct dp_packet_batch *batch,
                      uint64_t *bytes)
{
    struct dp_packet *pkt = netdev_packet_alloc();
    struct virtio_net_hdr vh = {0}; /* Filled by readv(). */
    struct iovec iov[3] = {
        {.iov_base = &vh, .iov_len = sizeof vh},
        {.iov_base = (uint8_t *)dp_packet_data(pkt) + dp_packet_size(pkt),
         .iov_len = dp_packet_tailroom(pkt)},
        {.iov_base = dev->overflow + NETDEV_TAP_STAGE,
         .iov_len = NETDEV_TAP_OVERFLOW},
    };
    ssize_t n;

    do {
        n = readv(dev->fd, iov, 3);
    } while (n < 0 && errno == EINTR);
    if (n <= (ssize_t)sizeof vh) {
        int error = n < 0 && errno ? errno : EAGAIN;

        netdev_packet_recycle(pkt);
        return error;
    }
    *bytes += netdev_tap_rx_frame(dev, pkt, (size_t)n - sizeof vh, &vh, batch);
    return 0;
}

static int
netdev_tap_recv(struct netdev *netdev, struct dp_packet_batch *batch)
{
    struct netdev_tap *dev = netdev_tap_cast(netdev);
    uint64_t bytes = 0;
    int error = 0;

    while (batch->count < PACKET_BATCH_MAX) {
        if (packet_gso_pending(&dev->rx_gso)) {
            /* The rest of a GSO frame that filled the last batch. */
            bytes += netdev_vnet_gso_drain(&dev->rx_gso, batch);
            continue;
        }
        error = netdev_tap_read_frame(dev, batch, &bytes);
        if (error) {
            break;
        }
    }
    if (error && error != EAGAIN) {
        COVERAGE_INC(netdev_tap_rx_error);
        VLOG_WARN_RL(&netdev_tap_rl, "%s: read failed: %s", netdev->name,
                     strerror(error));
    }
    if (!batch->count) {
        return error ? error : EAGAIN;
    }
    netdev_count_rx(netdev, batch->count, bytes);
    if (error && error != EAGAIN) {
        netdev_count_rx_error(netdev, 1); /* netdev_recv() will not. */
    }
    return 0;
}

static int
netdev_tap_get_rx_fd(const struct netdev *netdev)
{
    return netdev_tap_cast(netdev)->fd;
}

static void
netdev_tap_send(struct netdev *netdev, struct dp_packet_batch *batch,
                bool may_steal)
{
    struct netdev_tap *dev = netdev_tap_cast(netdev);
    unsigned int sent = 0, busy = 0, down = 0, failed = 0;
    uint64_t bytes = 0;
    int error = 0;

    for (unsigned int i = 0; i < batch->count; i++) {
        const struct dp_packet *pkt = batch->packets[i];
        ssize_t n;

        struct iovec iov[2] = {
            {.iov_base = (void *)&netdev_tap_no_offload,
             .iov_len = sizeof netdev_tap_no_offload},
            {.iov_base = dp_packet_data(pkt), .iov_len = dp_packet_size(pkt)},
        };

        do {
            n = writev(dev->fd, iov, 2);
        } while (n < 0 && errno == EINTR);
        if (n >= 0) {
            sent++;
            bytes += dp_packet_size(pkt);
        } else if (errno == EAGAIN || errno == ENOBUFS) {
            busy++;
        } else if (errno == EIO) {
            down++;
        } else {
            error = errno;
            failed++;
        }
    }

    netdev_count_tx(netdev, sent, bytes);
    if (busy) {
        COVERAGE_ADD(netdev_tap_tx_busy, busy);
    }
    if (down) {
        COVERAGE_ADD(netdev_tap_tx_down, down);
    }
    netdev_count_tx_drop(netdev, busy + down);
    if (failed) {
        COVERAGE_ADD(netdev_tap_tx_error, failed);
        netdev_count_tx_error(netdev, failed);
        VLOG_WARN_RL(&netdev_tap_rl, "%s: write failed: %s", netdev->name,
                     strerror(error));
    }
    netdev_batch_release(batch, may_steal);
}

const struct netdev_class netdev_tap_class = {
    .type = "tap",
    .open = netdev_tap_open,
    .close = netdev_tap_close,
    .recv = netdev_tap_recv,
    .get_rx_fd = netdev_tap_get_rx_fd,
    .send = netdev_tap_send,
};
