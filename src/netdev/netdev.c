/* netdev/netdev.c — opening ports by type and dispatching to their back
 * ends (see netdev.h and netdev-provider.h). */
#include "netdev/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"

VLOG_DEFINE_THIS_MODULE(netdev);

/* One per netdev_send() of a non-empty batch: tx_packets divided by it is
 * the mean output batch. */
COVERAGE_DEFINE(netdev_send_batch);
/* An error taken from a port's receive socket (netdev_rx_take_error()). */
COVERAGE_DEFINE(netdev_rx_socket_error);

static struct vlog_rate_limit netdev_rl = VLOG_RATE_LIMIT_INIT(5, 5);

static const struct netdev_class *const netdev_classes[] = {
    &netdev_memory_class, &netdev_pcap_class, &netdev_afpacket_class,
    &netdev_afxdp_class,  &netdev_tap_class,
};

static const struct netdev_class *
netdev_lookup_class(const char *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(netdev_classes); i++) {
        if (!strcmp(netdev_classes[i]->type, type)) {
            return netdev_classes[i];
        }
    }
    return NULL;
}

int
netdev_open(const char *name, const char *type,
            const struct netdev_options *options, struct netdev **netdevp,
            char **errorp)
{
    static const struct netdev_options no_options;
    const struct netdev_class *class;
    char *detail = NULL;
    int error;

    *netdevp = NULL;
    *errorp = NULL;
    if (!type) {
        type = "";
    }
    class = netdev_lookup_class(type);
    if (!class) {
        *errorp = xasprintf("netdev: cannot open port \"%s\": unknown type "
                            "\"%s\" (expected memory, pcap, afpacket, "
                            "afxdp or tap)",
                            name, type);
        return EAFNOSUPPORT;
    }
    if (!name || !name[0]) {
        *errorp =
            xasprintf("netdev: cannot open a %s port without a name", type);
        return EINVAL;
    }

    error =
        class->open(name, options ? options : &no_options, netdevp, &detail);
    if (error) {
        *netdevp = NULL;
        *errorp = xasprintf("netdev: cannot open port \"%s\" (%s): %s", name,
                            type, detail ? detail : strerror(error));
        free(detail);
    }
    return error;
}

void
netdev_close(struct netdev *netdev)
{
    if (netdev) {
        netdev->class->close(netdev);
    }
}

void
netdev_init(struct netdev *netdev, const struct netdev_class *class,
            const char *name)
{
    netdev->class = class;
    netdev->name = xstrdup(name);
    memset(&netdev->counters, 0, sizeof netdev->counters);
}

void
netdev_uninit(struct netdev *netdev)
{
    free(netdev->name);
    netdev->name = NULL;
}

const char *
netdev_get_name(const struct netdev *netdev)
{
    return netdev->name;
}

const char *
netdev_get_type(const struct netdev *netdev)
{
    return netdev->class->type;
}

int
netdev_recv(struct netdev *netdev, struct dp_packet_batch *batch)
{
    int error;

    batch->count = 0;
    error = netdev->class->recv(netdev, batch);
    if (error && error != EAGAIN && error != EOF) {
        netdev_count_rx_error(netdev, 1);
    }
    return error;
}

int
netdev_get_rx_fd(const struct netdev *netdev)
{
    return netdev->class->get_rx_fd(netdev);
}

int
netdev_rx_take_error(struct netdev *netdev)
{
    int fd = netdev_get_rx_fd(netdev);
    socklen_t len = sizeof(int);
    int error = 0;

    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len)) {
        return 0; /* No fd, or not a socket (an eventfd). */
    }
    if (error) {
        COVERAGE_INC(netdev_rx_socket_error);
        netdev_count_rx_error(netdev, 1);
        VLOG_INFO_RL(&netdev_rl, "%s: receive socket: %s", netdev->name,
                     strerror(error));
    }
    return error;
}

void
netdev_send(struct netdev *netdev, struct dp_packet_batch *batch,
            bool may_steal)
{
    if (batch->count) {
        COVERAGE_INC(netdev_send_batch);
        netdev->class->send(netdev, batch, may_steal);
    }
    batch->count = 0;
}

static uint64_t
netdev_read_counter(const uint64_t *counter)
{
    return atomic_load_relaxed(counter);
}

void
netdev_get_stats(const struct netdev *netdev, struct netdev_stats *stats)
{
    const struct netdev_counters *c = &netdev->counters;

    stats->rx_packets = netdev_read_counter(&c->rx_packets);
    stats->rx_bytes = netdev_read_counter(&c->rx_bytes);
    stats->tx_packets = netdev_read_counter(&c->tx_packets);
    stats->tx_bytes = netdev_read_counter(&c->tx_bytes);
    stats->rx_dropped = netdev_read_counter(&c->rx_dropped);
    stats->tx_dropped = netdev_read_counter(&c->tx_dropped);
    stats->rx_errors = netdev_read_counter(&c->rx_errors);
    stats->tx_errors = netdev_read_counter(&c->tx_errors);
    if (netdev->class->get_stats) {
        netdev->class->get_stats(netdev, stats);
    }
}

void
netdev_get_status(const struct netdev *netdev, struct ds *s)
{
    if (netdev->class->get_status) {
        netdev->class->get_status(netdev, s);
    }
}

bool
netdev_is_lossless(const struct netdev *netdev)
{
    return netdev->class->is_lossless && netdev->class->is_lossless(netdev);
}

void
netdev_flush(struct netdev *netdev)
{
    if (netdev->class->flush) {
        netdev->class->flush(netdev);
    }
}

void
netdev_batch_release(struct dp_packet_batch *batch, bool may_steal)
{
    if (may_steal) {
        netdev_batch_recycle(batch);
    }
    batch->count = 0;
}

int
netdev_eventfd_create(void)
{
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

void
netdev_eventfd_signal(int fd)
{
    uint64_t one = 1;

    /* Can only fail (EAGAIN) if the counter is about to overflow, in which
     * case the fd is readable anyway. */
    if (write(fd, &one, sizeof one) < 0) {
        return;
    }
}

void
netdev_eventfd_drain(int fd)
{
    uint64_t value;

    if (read(fd, &value, sizeof value) < 0) {
        return; /* EAGAIN: already drained. */
    }
}
