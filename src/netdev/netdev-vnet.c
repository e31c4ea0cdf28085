/* netdev/netdev-vnet.c — frames received with a virtio-net header (see
 * netdev-vnet.h). */
#include "netdev/netdev-vnet.h"

#include <errno.h>

#include "lib/coverage.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"

VLOG_DEFINE_THIS_MODULE(netdev_vnet);

COVERAGE_DEFINE(netdev_vnet_rx_csum_completed);
COVERAGE_DEFINE(netdev_vnet_rx_bad_csum);
COVERAGE_DEFINE(netdev_vnet_rx_gso_frames);
COVERAGE_DEFINE(netdev_vnet_rx_gso_segments);
COVERAGE_DEFINE(netdev_vnet_rx_gso_unsupported);
COVERAGE_DEFINE(netdev_vnet_rx_gso_bad);
COVERAGE_DEFINE(netdev_vnet_rx_gso_abandoned);

static struct vlog_rate_limit netdev_vnet_rl = VLOG_RATE_LIMIT_INIT(5, 5);

void
netdev_vnet_decode(const struct virtio_net_hdr *vh, size_t shift,
                   struct packet_offload *off)
{
    static const uint8_t gso_types[] = {
        [VIRTIO_NET_HDR_GSO_NONE] = PACKET_GSO_NONE,
        [VIRTIO_NET_HDR_GSO_TCPV4] = PACKET_GSO_TCPV4,
        [VIRTIO_NET_HDR_GSO_UDP] = PACKET_GSO_UNKNOWN, /* UFO. */
        [VIRTIO_NET_HDR_GSO_TCPV6] = PACKET_GSO_TCPV6,
        [VIRTIO_NET_HDR_GSO_UDP_L4] = PACKET_GSO_UDP_L4,
    };
    uint8_t gso_type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

    off->needs_csum = vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
    off->gso_type = gso_type < ARRAY_SIZE(gso_types) ? gso_types[gso_type]
                                                     : PACKET_GSO_UNKNOWN;
    off->gso_size = vh->gso_size;
    off->csum_start = (uint16_t)(vh->csum_start + shift);
    off->csum_offset = vh->csum_offset;
}

uint64_t
netdev_vnet_rx_append(struct netdev *netdev, struct dp_packet *pkt,
                      const struct packet_offload *off,
                      struct dp_packet_batch *batch)
{
    if (UNLIKELY(off->needs_csum)) {
        if (packet_offload_complete_csum(dp_packet_data(pkt),
                                         dp_packet_size(pkt), off->csum_start,
                                         off->csum_offset)) {
            COVERAGE_INC(netdev_vnet_rx_bad_csum);
            netdev_count_rx_drop(netdev, 1);
            VLOG_WARN_RL(&netdev_vnet_rl,
                         "%s: dropped a %u-byte frame whose partial checksum "
                         "lies outside it (csum_start %u, csum_offset %u)",
                         netdev->name, dp_packet_size(pkt), off->csum_start,
                         off->csum_offset);
            netdev_packet_recycle(pkt);
            return 0;
        }
        COVERAGE_INC(netdev_vnet_rx_csum_completed);
    }
    batch->packets[batch->count++] = pkt;
    return dp_packet_size(pkt);
}

bool
netdev_vnet_gso_start(struct netdev *netdev, struct packet_gso *gso,
                      const void *frame, size_t len,
                      const struct packet_offload *off)
{
    int error = packet_gso_init(gso, frame, len, off);

    if (error) {
        if (error == EPROTONOSUPPORT) {
            COVERAGE_INC(netdev_vnet_rx_gso_unsupported);
        } else {
            COVERAGE_INC(netdev_vnet_rx_gso_bad);
        }
        netdev_count_rx_drop(netdev, 1);
        VLOG_WARN_RL(&netdev_vnet_rl,
                     "%s: dropped a %zu-byte GSO frame (type %u, size %u, "
                     "csum_start %u): %s",
                     netdev->name, len, off->gso_type, off->gso_size,
                     off->csum_start,
                     error == EPROTONOSUPPORT ? "offload not supported"
                                              : "headers do not match");
        return false;
    }
    COVERAGE_INC(netdev_vnet_rx_gso_frames);
    return true;
}

uint64_t
netdev_vnet_gso_drain(struct packet_gso *gso, struct dp_packet_batch *batch)
{
    unsigned int n = 0;
    uint64_t bytes = 0;

    while (packet_gso_pending(gso) && !dp_packet_batch_is_full(batch)) {
        struct dp_packet *pkt = netdev_packet_alloc();

        packet_gso_next(gso, pkt);
        bytes += dp_packet_size(pkt);
        batch->packets[batch->count++] = pkt;
        n++;
    }
    COVERAGE_ADD(netdev_vnet_rx_gso_segments, n);
    return bytes;
}

void
netdev_vnet_gso_abandon(struct netdev *netdev, struct packet_gso *gso)
{
    if (packet_gso_pending(gso)) {
        unsigned int n = gso->n_segs - gso->next;

        COVERAGE_ADD(netdev_vnet_rx_gso_abandoned, n);
        netdev_count_rx_drop(netdev, n);
        packet_gso_clear(gso);
    }
}
