/* libFuzzer target for the frame parser (flow/packet-parse.h).
 *
 * The first input byte is the input port, the rest the frame.  The parser
 * must never read outside the frame (AddressSanitizer checks, since libFuzzer
 * hands over an exact-size heap buffer) and the flow it builds must obey the
 * conventions of flow/flow.h whatever the bytes are; any violation aborts.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *       tests/fuzz/fuzz_packet.c src/packet/\*.c src/flow/flow.c \
 *       src/lib/\*.c -lxxhash -lpthread -lpcap -o fuzz_packet
 *   ./fuzz_packet tests/fuzz/corpus/packet
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "packet/headers.h"
#include "packet/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_packet"
#include "fuzz-check.h"

static bool
l3_stage_is_zero(const struct flow *flow)
{
    return is_all_zeros(&flow->nw_src, offsetof(struct flow, tp_src)
                                           - offsetof(struct flow, nw_src));
}

static bool
l4_stage_is_zero(const struct flow *flow)
{
    return !flow->tp_src && !flow->tp_dst && !flow->tcp_flags;
}

/* What flow/flow.h promises about every flow the parser builds. */
static void
check_flow(const struct flow *flow, size_t size, uint32_t in_port)
{
    uint16_t dl_type = ntohs(flow->dl_type);
    bool is_ipv4 = dl_type == ETH_TYPE_IP;
    bool is_ipv6 = dl_type == ETH_TYPE_IPV6;
    bool is_arp = dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP;

    CHECK(flow_zero_padding(flow));
    CHECK(flow->in_port == in_port);
    CHECK(!flow->metadata && is_all_zeros(flow->regs, sizeof flow->regs));

    if (size < ETH_HEADER_LEN) {
        struct flow empty;

        memset(&empty, 0, sizeof empty);
        empty.in_port = in_port;
        CHECK(flow_equal(flow, &empty));
        return;
    }
    CHECK(dl_type >= ETH_TYPE_MIN || dl_type == FLOW_DL_TYPE_NONE);

    /* VLANs: present tags are packed to the front, each with CFI set and a
     * VLAN TPID; absent ones are all zero. */
    for (int i = 0; i < FLOW_N_VLANS; i++) {
        const struct flow_vlan *v = &flow->vlans[i];

        if (v->tci) {
            CHECK(v->tci & htons(VLAN_CFI));
            CHECK(v->tpid == htons(ETH_TYPE_VLAN_8021Q)
                  || v->tpid == htons(ETH_TYPE_VLAN_8021AD));
            CHECK(i == 0 || flow->vlans[i - 1].tci);
        } else {
            CHECK(!v->tpid);
        }
    }

    if (!is_ipv4 && !is_ipv6 && !is_arp) {
        CHECK(l3_stage_is_zero(flow));
        CHECK(l4_stage_is_zero(flow));
        return;
    }
    if (is_arp) {
        CHECK(is_all_zeros(&flow->ipv6_src, 2 * sizeof(struct in6_addr)));
        CHECK(!flow->ipv6_label && !flow->nw_frag && !flow->nw_tos
              && !flow->nw_ttl);
        CHECK(is_all_zeros(&flow->nd_target, sizeof flow->nd_target));
        CHECK(l4_stage_is_zero(flow));
        return;
    }

    CHECK(flow->nw_frag == 0 || flow->nw_frag == FLOW_NW_FRAG_ANY
          || flow->nw_frag == (FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER));
    if (flow->nw_frag & FLOW_NW_FRAG_LATER) {
        CHECK(l4_stage_is_zero(flow));
    }
    if (is_ipv4) {
        CHECK(is_all_zeros(&flow->ipv6_src, 2 * sizeof(struct in6_addr)));
        CHECK(!flow->ipv6_label);
    } else {
        CHECK(!flow->nw_src && !flow->nw_dst);
        CHECK(!(flow->ipv6_label & ~htonl(IPV6_LABEL_MASK)));
    }
    if (flow->tcp_flags) {
        CHECK(flow->nw_proto == IPPROTO_TCP_);
        CHECK(!(flow->tcp_flags & ~htons(TCP_FLAGS_MASK)));
    }
    if (flow->nw_proto == IPPROTO_ICMP_ || flow->nw_proto == IPPROTO_ICMPV6_
        || flow->nw_proto == IPPROTO_IGMP_) {
        CHECK(ntohs(flow->tp_src) <= UINT8_MAX);
        CHECK(ntohs(flow->tp_dst) <= UINT8_MAX);
    }

    /* ND fields only for an IPv6 neighbour solicitation/advertisement. */
    bool is_nd = is_ipv6 && flow->nw_proto == IPPROTO_ICMPV6_ && !flow->tp_dst
                 && (flow->tp_src == htons(ND_NEIGHBOR_SOLICIT)
                     || flow->tp_src == htons(ND_NEIGHBOR_ADVERT));
    if (!is_nd) {
        CHECK(is_all_zeros(&flow->nd_target, sizeof flow->nd_target));
        CHECK(eth_addr_is_zero(flow->arp_sha));
        CHECK(eth_addr_is_zero(flow->arp_tha));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow flow, flow2;
    enum packet_parse_error error;
    struct dp_packet *pkt;
    uint32_t in_port = 0;

    if (size) {
        in_port = data[0];
        data++;
        size--;
    }

    error = packet_parse_bytes(data, size, in_port, &flow);
    CHECK(error >= PARSE_OK && error < PARSE_N_ERRORS);
    check_flow(&flow, size, in_port);

    /* The dp_packet path agrees, and its layer offsets are ordered and
     * inside the frame. */
    pkt = dp_packet_new_from_bytes(data, size, 0);
    pkt->in_port = in_port;
    CHECK(packet_parse(pkt, &flow2) == error);
    CHECK(flow_equal(&flow, &flow2));
    if (size < ETH_HEADER_LEN) {
        CHECK(pkt->l2_ofs == DP_PACKET_OFS_NONE);
        CHECK(pkt->l3_ofs == DP_PACKET_OFS_NONE);
    } else {
        CHECK(pkt->l2_ofs == 0);
        CHECK(pkt->l3_ofs >= ETH_HEADER_LEN && pkt->l3_ofs <= size);
    }
    if (pkt->l4_ofs != DP_PACKET_OFS_NONE) {
        CHECK(flow_is_ip(&flow));
        CHECK(pkt->l4_ofs >= pkt->l3_ofs + IP_HEADER_LEN);
        CHECK(pkt->l4_ofs <= size);
    }
    dp_packet_delete(pkt);
    return 0;
}
