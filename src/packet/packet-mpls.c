/* packet/packet-mpls.c — MPLS label stack surgery (see packet-mpls.h). */
#include "packet/packet-mpls.h"

#include <stdint.h>
#include <string.h>

#include "packet/headers.h"
#include "packet/packet.h"

size_t
packet_mpls_ethertype_ofs(const uint8_t *data, size_t size)
{
    size_t ofs = 2 * (size_t)ETH_ADDR_LEN;

    while (ofs + sizeof(be16) <= size) {
        be16 type = packet_get_be16(data + ofs);

        if (type != htons(ETH_TYPE_VLAN_8021Q)
            && type != htons(ETH_TYPE_VLAN_8021AD)) {
            return ofs;
        }
        ofs += VLAN_HEADER_LEN;
    }
    return SIZE_MAX;
}

/* Offset of the outer label stack entry of an MPLS frame, or SIZE_MAX. */
static size_t
packet_mpls_lse_ofs(const struct dp_packet *pkt)
{
    const uint8_t *data = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt);
    size_t ofs = packet_mpls_ethertype_ofs(data, size);

    if (ofs == SIZE_MAX || !eth_type_is_mpls(packet_get_be16(data + ofs))
        || ofs + sizeof(be16) + MPLS_HLEN > size) {
        return SIZE_MAX;
    }
    return ofs + sizeof(be16);
}

/* dp_packet_push_uninit() shifted every offset by MPLS_HLEN; the first
 * 'moved' bytes then went back to where they were, and so do the offsets
 * that point into them (an L3 offset left on a third VLAN tag). */
static void
packet_mpls_unshift(uint16_t *ofs, size_t moved)
{
    if (*ofs != DP_PACKET_OFS_NONE && *ofs >= MPLS_HLEN
        && (size_t)*ofs - MPLS_HLEN < moved) {
        *ofs -= MPLS_HLEN;
    }
}

bool
packet_push_mpls(struct dp_packet *pkt, be32 lse, be16 ethertype)
{
    size_t ofs =
        packet_mpls_ethertype_ofs(dp_packet_data(pkt), dp_packet_size(pkt));
    uint8_t *p;

    if (ofs == SIZE_MAX) {
        return false;
    }
    p = dp_packet_push_uninit(pkt, MPLS_HLEN);
    memmove(p, p + MPLS_HLEN, ofs + sizeof(be16));
    packet_put_be16(p + ofs, ethertype);
    memcpy(p + ofs + sizeof(be16), &lse, MPLS_HLEN);
    pkt->l2_ofs = 0;
    packet_mpls_unshift(&pkt->l3_ofs, ofs + sizeof(be16));
    packet_mpls_unshift(&pkt->l4_ofs, ofs + sizeof(be16));
    return true;
}

bool
packet_pop_mpls(struct dp_packet *pkt, be16 ethertype)
{
    size_t lse_ofs = packet_mpls_lse_ofs(pkt);
    uint8_t *p = dp_packet_data(pkt);

    if (lse_ofs == SIZE_MAX) {
        return false;
    }
    packet_put_be16(p + lse_ofs - sizeof(be16), ethertype);
    memmove(p + MPLS_HLEN, p, lse_ofs);
    dp_packet_pull(pkt, MPLS_HLEN);
    pkt->l2_ofs = 0;
    pkt->l3_ofs = (uint16_t)lse_ofs;
    pkt->l4_ofs = DP_PACKET_OFS_NONE;
    return true;
}

bool
packet_set_mpls(struct dp_packet *pkt, be32 value, be32 mask)
{
    size_t lse_ofs = packet_mpls_lse_ofs(pkt);
    uint8_t *p = dp_packet_data(pkt);
    be32 old, new;

    if (lse_ofs == SIZE_MAX) {
        return false;
    }
    memcpy(&old, p + lse_ofs, MPLS_HLEN);
    new = (old & ~mask) | (value & mask);
    memcpy(p + lse_ofs, &new, MPLS_HLEN);
    return new != old;
}
