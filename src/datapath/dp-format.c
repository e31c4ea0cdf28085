/* datapath/dp-format.c — datapath flows as text, in the style of
 * `ovs-dpctl dump-flows` (see dp_flow_format() in datapath.h).
 *
 * Every field prints only when its mask is nonzero, a partial mask prints
 * as VALUE/MASK (addresses in their own notation, numbers as decimal value
 * and hex mask), and a header group (eth(...), ipv4(...)) prints only if
 * one of its fields does.  VLAN tags print as vlan(vid=V,pcp=P) in the
 * flow's outer-first order (Open vSwitch would nest them in encap()), and
 * a match on "no tag" prints vlan(none).  recirc_id prints (first, as
 * recirc_id(0x1)) only when nonzero: Open vSwitch's recirc_id(0) would
 * only repeat that the packet came from a port. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "datapath/datapath.h"
#include "lib/dynamic-string.h"
#include "lib/timeval.h"
#include "packet/headers.h"

/* A header group: "name(" is written lazily by the first field. */
struct dp_fmt_group {
    struct ds *s;
    const char *name;
    bool open;
};

static void
dp_fmt_group_start(struct dp_fmt_group *g, struct ds *s, const char *name)
{
    g->s = s;
    g->name = name;
    g->open = false;
}

static void
dp_fmt_field_prefix(struct dp_fmt_group *g, const char *field)
{
    if (!g->open) {
        if (g->s->length) {
            ds_put_char(g->s, ',');
        }
        ds_put_format(g->s, "%s(", g->name);
        g->open = true;
    } else {
        ds_put_char(g->s, ',');
    }
    if (field) {
        ds_put_format(g->s, "%s=", field);
    }
}

static void
dp_fmt_group_end(struct dp_fmt_group *g)
{
    if (g->open) {
        ds_put_char(g->s, ')');
    }
}

/* 'field' NULL: the group has a single unnamed value, as in_port(1). */
static void
dp_fmt_uint(struct dp_fmt_group *g, const char *field, uint64_t v, uint64_t m,
            uint64_t full, bool hex)
{
    if (!m) {
        return;
    }
    dp_fmt_field_prefix(g, field);
    ds_put_format(g->s, hex ? "0x%" PRIx64 : "%" PRIu64, v);
    if (m != full) {
        ds_put_format(g->s, "/0x%" PRIx64, m);
    }
}

static void
dp_fmt_eth(struct dp_fmt_group *g, const char *field, struct eth_addr v,
           struct eth_addr m)
{
    if (eth_addr_is_zero(m)) {
        return;
    }
    dp_fmt_field_prefix(g, field);
    ds_put_format(g->s, ETH_ADDR_FMT, ETH_ADDR_ARGS(v));
    if (!eth_addr_is_broadcast(m)) {
        ds_put_format(g->s, "/" ETH_ADDR_FMT, ETH_ADDR_ARGS(m));
    }
}

static void
dp_fmt_ip(struct dp_fmt_group *g, const char *field, be32 v, be32 m)
{
    if (!m) {
        return;
    }
    dp_fmt_field_prefix(g, field);
    ds_put_format(g->s, IP_FMT, IP_ARGS(v));
    if (m != UINT32_MAX) {
        ds_put_format(g->s, "/" IP_FMT, IP_ARGS(m));
    }
}

static void
dp_fmt_ipv6(struct dp_fmt_group *g, const char *field,
            const struct in6_addr *v, const struct in6_addr *m)
{
    char buf[INET6_ADDRSTRLEN];

    if (is_all_zeros(m, sizeof *m)) {
        return;
    }
    dp_fmt_field_prefix(g, field);
    inet_ntop(AF_INET6, v, buf, sizeof buf);
    ds_put_cstr(g->s, buf);
    if (!is_all_ones(m, sizeof *m)) {
        inet_ntop(AF_INET6, m, buf, sizeof buf);
        ds_put_format(g->s, "/%s", buf);
    }
}

static void
dp_fmt_frag(struct dp_fmt_group *g, uint8_t v, uint8_t m)
{
    if (!m) {
        return;
    }
    dp_fmt_field_prefix(g, "frag");
    if (m == FLOW_NW_FRAG_MASK) {
        ds_put_cstr(g->s, !(v & FLOW_NW_FRAG_ANY)     ? "no"
                          : !(v & FLOW_NW_FRAG_LATER) ? "first"
                                                      : "later");
    } else if (m == FLOW_NW_FRAG_ANY) {
        ds_put_cstr(g->s, v ? "yes" : "no");
    } else {
        ds_put_format(g->s, "0x%x/0x%x", v, m);
    }
}

static void
dp_fmt_vlan(struct ds *s, const struct flow_vlan *v, const struct flow_vlan *m)
{
    struct dp_fmt_group g;
    uint16_t tv = ntohs(v->tci), tm = ntohs(m->tci);

    if (!tm && !m->tpid) {
        return;
    }
    dp_fmt_group_start(&g, s, "vlan");
    if ((tm & VLAN_CFI) && !(tv & VLAN_CFI)) {
        dp_fmt_field_prefix(&g, NULL);
        ds_put_cstr(s, "none");
    } else {
        if (m->tpid && v->tpid != htons(ETH_TYPE_VLAN_8021Q)) {
            dp_fmt_uint(&g, "tpid", ntohs(v->tpid), ntohs(m->tpid), 0xffff,
                        true);
        }
        dp_fmt_uint(&g, "vid", tv & VLAN_VID_MASK, tm & VLAN_VID_MASK,
                    VLAN_VID_MASK, false);
        dp_fmt_uint(&g, "pcp", tv >> VLAN_PCP_SHIFT, tm >> VLAN_PCP_SHIFT, 7,
                    false);
        if (!g.open) {
            /* Only the "present" bit is matched. */
            dp_fmt_field_prefix(&g, NULL);
            ds_put_cstr(s, "present");
        }
    }
    dp_fmt_group_end(&g);
}

/* A group with one value: name(VALUE[/MASK]). */
static void
dp_fmt_single(struct ds *s, const char *name, uint64_t v, uint64_t m,
              uint64_t full, bool hex)
{
    struct dp_fmt_group g;

    dp_fmt_group_start(&g, s, name);
    dp_fmt_uint(&g, NULL, v, m, full, hex);
    dp_fmt_group_end(&g);
}

static void
dp_fmt_l4(struct ds *s, const char *name, const struct flow *f,
          const struct flow *m, bool icmp)
{
    struct dp_fmt_group g;

    dp_fmt_group_start(&g, s, name);
    dp_fmt_uint(&g, icmp ? "type" : "src", ntohs(f->tp_src), ntohs(m->tp_src),
                icmp ? 0xff : 0xffff, false);
    dp_fmt_uint(&g, icmp ? "code" : "dst", ntohs(f->tp_dst), ntohs(m->tp_dst),
                icmp ? 0xff : 0xffff, false);
    dp_fmt_group_end(&g);
}

/* tunnel(tun_id=), if the key matches it. */
static void
dp_fmt_tunnel(struct ds *s, const struct flow *f, const struct flow *m)
{
    struct dp_fmt_group g;

    if (m->tunnel_id) {
        dp_fmt_group_start(&g, s, "tunnel");
        dp_fmt_uint(&g, "tun_id", be64toh(f->tunnel_id), be64toh(m->tunnel_id),
                    UINT64_MAX, true);
        dp_fmt_group_end(&g);
    }
}

/* mpls(label=,tc=,ttl=,bos=) of a label stack entry in host order. */
static void
dp_fmt_mpls(struct ds *s, uint32_t lse, uint32_t mask)
{
    struct dp_fmt_group g;

    dp_fmt_group_start(&g, s, "mpls");
    dp_fmt_uint(&g, "label", (lse & MPLS_LABEL_MASK) >> MPLS_LABEL_SHIFT,
                (mask & MPLS_LABEL_MASK) >> MPLS_LABEL_SHIFT,
                MPLS_LABEL_MASK >> MPLS_LABEL_SHIFT, false);
    dp_fmt_uint(&g, "tc", (lse & MPLS_TC_MASK) >> MPLS_TC_SHIFT,
                (mask & MPLS_TC_MASK) >> MPLS_TC_SHIFT,
                MPLS_TC_MASK >> MPLS_TC_SHIFT, false);
    dp_fmt_uint(&g, "ttl", lse & MPLS_TTL_MASK, mask & MPLS_TTL_MASK,
                MPLS_TTL_MASK, false);
    dp_fmt_uint(&g, "bos", (lse & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT,
                (mask & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT, 1, false);
    dp_fmt_group_end(&g);
}

/* Appends the key of 'match' to the empty 's'. */
static void
dp_flow_format_key(const struct match *match, struct ds *s)
{
    const struct flow *f = &match->flow;
    const struct flow *m = &match->wc.masks;
    struct dp_fmt_group g;
    uint16_t dl_type = ntohs(f->dl_type);
    bool proto_exact = m->nw_proto == 0xff;

    /* recirc_id(0), in every flow of Open vSwitch, stays implicit. */
    if (f->recirc_id) {
        dp_fmt_single(s, "recirc_id", f->recirc_id, m->recirc_id, UINT32_MAX,
                      true);
    }
    dp_fmt_single(s, "metadata", f->metadata, m->metadata, UINT64_MAX, true);
    dp_fmt_tunnel(s, f, m);
    for (int i = 0; i < FLOW_N_REGS; i++) {
        char name[8];

        snprintf(name, sizeof name, "reg%d", i);
        dp_fmt_single(s, name, f->regs[i], m->regs[i], UINT32_MAX, true);
    }
    dp_fmt_single(s, "in_port", f->in_port, m->in_port, UINT32_MAX, false);
    dp_fmt_group_start(&g, s, "eth");
    dp_fmt_eth(&g, "src", f->dl_src, m->dl_src);
    dp_fmt_eth(&g, "dst", f->dl_dst, m->dl_dst);
    dp_fmt_group_end(&g);

    for (int i = 0; i < FLOW_N_VLANS; i++) {
        dp_fmt_vlan(s, &f->vlans[i], &m->vlans[i]);
    }
    if (m->dl_type) {
        ds_put_format(s, "%seth_type(0x%04x", s->length ? "," : "", dl_type);
        if (m->dl_type != UINT16_MAX) {
            ds_put_format(s, "/0x%04x", ntohs(m->dl_type));
        }
        ds_put_char(s, ')');
    }

    if (eth_type_is_mpls(f->dl_type)) {
        dp_fmt_mpls(s, ntohl(f->mpls_lse), ntohl(m->mpls_lse));
    } else if (dl_type == ETH_TYPE_IP) {
        dp_fmt_group_start(&g, s, "ipv4");
        dp_fmt_ip(&g, "src", f->nw_src, m->nw_src);
        dp_fmt_ip(&g, "dst", f->nw_dst, m->nw_dst);
        dp_fmt_uint(&g, "proto", f->nw_proto, m->nw_proto, 0xff, false);
        dp_fmt_uint(&g, "tos", f->nw_tos, m->nw_tos, 0xff, true);
        dp_fmt_uint(&g, "ttl", f->nw_ttl, m->nw_ttl, 0xff, false);
        dp_fmt_frag(&g, f->nw_frag, m->nw_frag);
        dp_fmt_group_end(&g);
    } else if (dl_type == ETH_TYPE_IPV6) {
        dp_fmt_group_start(&g, s, "ipv6");
        dp_fmt_ipv6(&g, "src", &f->ipv6_src, &m->ipv6_src);
        dp_fmt_ipv6(&g, "dst", &f->ipv6_dst, &m->ipv6_dst);
        dp_fmt_uint(&g, "label", ntohl(f->ipv6_label), ntohl(m->ipv6_label),
                    0xfffff, true);
        dp_fmt_uint(&g, "proto", f->nw_proto, m->nw_proto, 0xff, false);
        dp_fmt_uint(&g, "tclass", f->nw_tos, m->nw_tos, 0xff, true);
        dp_fmt_uint(&g, "hlimit", f->nw_ttl, m->nw_ttl, 0xff, false);
        dp_fmt_frag(&g, f->nw_frag, m->nw_frag);
        dp_fmt_group_end(&g);
    } else if (dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP) {
        dp_fmt_group_start(&g, s, "arp");
        dp_fmt_ip(&g, "sip", f->nw_src, m->nw_src);
        dp_fmt_ip(&g, "tip", f->nw_dst, m->nw_dst);
        dp_fmt_uint(&g, "op", f->nw_proto, m->nw_proto, 0xff, false);
        dp_fmt_eth(&g, "sha", f->arp_sha, m->arp_sha);
        dp_fmt_eth(&g, "tha", f->arp_tha, m->arp_tha);
        dp_fmt_group_end(&g);
    }

    if ((dl_type == ETH_TYPE_IP || dl_type == ETH_TYPE_IPV6) && proto_exact) {
        switch (f->nw_proto) {
        case IPPROTO_TCP_:
            dp_fmt_l4(s, "tcp", f, m, false);
            dp_fmt_single(s, "tcp_flags", ntohs(f->tcp_flags),
                          ntohs(m->tcp_flags), TCP_FLAGS_MASK, true);
            break;
        case IPPROTO_UDP_:
            dp_fmt_l4(s, "udp", f, m, false);
            break;
        case IPPROTO_SCTP_:
            dp_fmt_l4(s, "sctp", f, m, false);
            break;
        case IPPROTO_ICMP_:
            if (dl_type == ETH_TYPE_IP) {
                dp_fmt_l4(s, "icmp", f, m, true);
            }
            break;
        case IPPROTO_ICMPV6_:
            if (dl_type == ETH_TYPE_IPV6) {
                dp_fmt_l4(s, "icmpv6", f, m, true);
                dp_fmt_group_start(&g, s, "nd");
                dp_fmt_ipv6(&g, "target", &f->nd_target, &m->nd_target);
                dp_fmt_eth(&g, "sll", f->arp_sha, m->arp_sha);
                dp_fmt_eth(&g, "tll", f->arp_tha, m->arp_tha);
                dp_fmt_group_end(&g);
            }
            break;
        default:
            break;
        }
    }
}

void
dp_flow_format_match(const struct match *match, struct ds *s)
{
    struct ds key = DS_EMPTY_INITIALIZER;

    dp_flow_format_key(match, &key);
    ds_put_cstr(s, ds_cstr(&key));
    ds_destroy(&key);
}

/* Open vSwitch's letters for TCP flags (packet_format_tcp_flags()). */
static void
dp_fmt_tcp_flags(struct ds *s, uint16_t flags)
{
    static const struct {
        uint16_t flag;
        char c;
    } letters[] = {
        {TCP_SYN, 'S'}, {TCP_FIN, 'F'}, {TCP_PSH, 'P'},
        {TCP_RST, 'R'}, {TCP_URG, 'U'}, {TCP_ACK, '.'},
        {TCP_ECE, 'E'}, {TCP_CWR, 'C'}, {TCP_NS, 'N'},
    };

    for (size_t i = 0; i < ARRAY_SIZE(letters); i++) {
        if (flags & letters[i].flag) {
            ds_put_char(s, letters[i].c);
        }
    }
    for (uint16_t bit = 0x200; bit <= 0x800; bit <<= 1) {
        if (flags & bit) {
            ds_put_format(s, "[%x]", bit);
        }
    }
}

void
dp_flow_format(const struct dp_flow_info *info, bool verbose, struct ds *s)
{
    const struct dp_flow_stats *st = &info->stats;
    struct ds key = DS_EMPTY_INITIALIZER;

    if (verbose) {
        ds_put_format(s,
                      "ufid:%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32
                      "-%04" PRIx32 "-%012" PRIx64 ", ",
                      (uint32_t)(info->ufid.hi >> 32),
                      (uint32_t)(info->ufid.hi >> 16) & 0xffff,
                      (uint32_t)info->ufid.hi & 0xffff,
                      (uint32_t)(info->ufid.lo >> 48),
                      info->ufid.lo & UINT64_C(0xffffffffffff));
    }
    dp_flow_format_key(&info->match, &key);
    if (key.length) {
        ds_put_format(s, "%s, ", ds_cstr(&key));
    }
    ds_destroy(&key);

    ds_put_format(s, "packets:%" PRIu64 ", bytes:%" PRIu64 ", used:",
                  st->n_packets, st->n_bytes);
    if (st->used) {
        uint64_t now = time_msec();
        uint64_t age = now > st->used ? now - st->used : 0;

        ds_put_format(s, "%.3fs", age / 1000.0);
    } else {
        ds_put_cstr(s, "never");
    }
    if (st->tcp_flags) {
        ds_put_cstr(s, ", flags:");
        dp_fmt_tcp_flags(s, st->tcp_flags);
    }
    ds_put_cstr(s, ", actions:");
    dp_actions_format(info->actions, s);
}
