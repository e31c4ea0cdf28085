/* flow/field.c — the field registry: names, widths, storage, prerequisites,
 * value parsing and formatting (see field.h). */
#include "flow/field.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/dynamic-string.h"

/* The table is laid out by hand, one FIELD() per field: id, name, aliases,
 * NXM name, OXM name, n_bytes, n_bits, backing member of struct flow,
 * maskable, writable, prerequisite for actions, prerequisite for matching,
 * format. */
/* clang-format off */
/* NOLINTBEGIN(bugprone-macro-parentheses): designated initializers. */
#define FIELD(ID, NAME, ALIASES_, NXM, OXM, N_BYTES, N_BITS, MEMBER,         \
              MASKABLE, WRITABLE, PREREQ, MATCH_PREREQ, FORMAT)              \
    [ID] = {.id = ID, .name = NAME, .aliases = ALIASES_, .nxm_name = NXM,     \
            .oxm_name = OXM, .n_bytes = N_BYTES, .n_bits = N_BITS,            \
            .flow_ofs = offsetof(struct flow, MEMBER),                        \
            .flow_size = sizeof(((struct flow *)0)->MEMBER),                  \
            .maskable = MASKABLE, .writable = WRITABLE, .prereq = PREREQ,     \
            .match_prereq = MATCH_PREREQ, .format = FORMAT}
/* NOLINTEND(bugprone-macro-parentheses) */
#define ALIASES(...) {__VA_ARGS__, NULL}
#define NO_ALIASES {NULL}

/* Shorthands for the table: P_x is a prerequisite, F_x a format. */
#define P_NONE FIELD_PREREQ_NONE
#define P_VLAN FIELD_PREREQ_VLAN
#define P_ARP FIELD_PREREQ_ARP
#define P_IPV4 FIELD_PREREQ_IPV4
#define P_IPV6 FIELD_PREREQ_IPV6
#define P_IP FIELD_PREREQ_IP_ANY
#define P_IPV4_ARP FIELD_PREREQ_IPV4_ARP
#define P_IP_ARP FIELD_PREREQ_IP_ANY_ARP
#define P_MPLS FIELD_PREREQ_MPLS
#define F_DEC FIELD_FORMAT_DECIMAL
#define F_HEX FIELD_FORMAT_HEX
#define F_ETH FIELD_FORMAT_ETHERNET
#define F_IPV4 FIELD_FORMAT_IPV4
#define F_IPV6 FIELD_FORMAT_IPV6

#define REG(N)                                                               \
    FIELD(FIELD_REG##N, "reg" #N, NO_ALIASES, "NXM_NX_REG" #N, NULL, 4, 32,  \
          regs[N], true, true, P_NONE, P_NONE, F_HEX)

static const struct field fields[FIELD_N_IDS] = {
    FIELD(FIELD_IN_PORT, "in_port", NO_ALIASES, "NXM_OF_IN_PORT", NULL, 2, 16,
          in_port, false, true, P_NONE, P_NONE, FIELD_FORMAT_PORT),
    FIELD(FIELD_METADATA, "metadata", NO_ALIASES, "OXM_OF_METADATA", NULL, 8,
          64, metadata, true, true, P_NONE, P_NONE, F_HEX),
    REG(0),
    REG(1),
    REG(2),
    REG(3),
    REG(4),
    REG(5),
    REG(6),
    REG(7),
    FIELD(FIELD_ETH_SRC, "eth_src", ALIASES("dl_src"), "NXM_OF_ETH_SRC",
          "OXM_OF_ETH_SRC", 6, 48, dl_src, true, true, P_NONE, P_NONE, F_ETH),
    FIELD(FIELD_ETH_DST, "eth_dst", ALIASES("dl_dst"), "NXM_OF_ETH_DST",
          "OXM_OF_ETH_DST", 6, 48, dl_dst, true, true, P_NONE, P_NONE, F_ETH),
    FIELD(FIELD_ETH_TYPE, "eth_type", ALIASES("dl_type"), "NXM_OF_ETH_TYPE",
          "OXM_OF_ETH_TYPE", 2, 16, dl_type, false, false, P_NONE, P_NONE,
          F_HEX),
    FIELD(FIELD_VLAN_TCI, "vlan_tci", NO_ALIASES, "NXM_OF_VLAN_TCI", NULL, 2,
          16, vlans[0].tci, true, true, P_NONE, P_NONE, F_HEX),
    /* dl_vlan and dl_vlan_pcp are read-only, as they are in effect in Open
     * vSwitch 3.1 (which sends set_field:V->dl_vlan as a write to in_port
     * and refuses dl_vlan_pcp): vlan_vid and vlan_pcp write them. */
    FIELD(FIELD_DL_VLAN, "dl_vlan", NO_ALIASES, NULL, NULL, 2, 12,
          vlans[0].tci, false, false, P_VLAN, P_NONE, F_DEC),
    FIELD(FIELD_DL_VLAN_PCP, "dl_vlan_pcp", NO_ALIASES, NULL, NULL, 1, 3,
          vlans[0].tci, false, false, P_VLAN, P_NONE, F_DEC),
    FIELD(FIELD_VLAN_VID, "vlan_vid", NO_ALIASES, "OXM_OF_VLAN_VID", NULL, 2,
          13, vlans[0].tci, true, true, P_VLAN, P_NONE, F_DEC),
    FIELD(FIELD_VLAN_PCP, "vlan_pcp", NO_ALIASES, "OXM_OF_VLAN_PCP", NULL, 1,
          3, vlans[0].tci, false, true, P_VLAN, P_NONE, F_DEC),
    FIELD(FIELD_IP_SRC, "ip_src", ALIASES("nw_src"), "NXM_OF_IP_SRC",
          "OXM_OF_IPV4_SRC", 4, 32, nw_src, true, true, P_IPV4, P_IPV4_ARP,
          F_IPV4),
    FIELD(FIELD_IP_DST, "ip_dst", ALIASES("nw_dst"), "NXM_OF_IP_DST",
          "OXM_OF_IPV4_DST", 4, 32, nw_dst, true, true, P_IPV4, P_IPV4_ARP,
          F_IPV4),
    FIELD(FIELD_IPV6_SRC, "ipv6_src", NO_ALIASES, "NXM_NX_IPV6_SRC",
          "OXM_OF_IPV6_SRC", 16, 128, ipv6_src, true, true, P_IPV6, P_IPV6,
          F_IPV6),
    FIELD(FIELD_IPV6_DST, "ipv6_dst", NO_ALIASES, "NXM_NX_IPV6_DST",
          "OXM_OF_IPV6_DST", 16, 128, ipv6_dst, true, true, P_IPV6, P_IPV6,
          F_IPV6),
    FIELD(FIELD_IPV6_LABEL, "ipv6_label", NO_ALIASES, "NXM_NX_IPV6_LABEL",
          "OXM_OF_IPV6_FLABEL", 4, 20, ipv6_label, true, true, P_IPV6, P_IPV6,
          F_HEX),
    FIELD(FIELD_NW_PROTO, "nw_proto", ALIASES("ip_proto"), "NXM_OF_IP_PROTO",
          "OXM_OF_IP_PROTO", 1, 8, nw_proto, false, false, P_IP, P_IP_ARP,
          F_DEC),
    FIELD(FIELD_NW_TOS, "nw_tos", NO_ALIASES, "NXM_OF_IP_TOS", NULL, 1, 8,
          nw_tos, false, true, P_IP, P_IP, F_DEC),
    FIELD(FIELD_IP_DSCP, "ip_dscp", NO_ALIASES, "OXM_OF_IP_DSCP", NULL, 1, 6,
          nw_tos, false, true, P_IP, P_IP, F_DEC),
    FIELD(FIELD_NW_ECN, "nw_ecn", ALIASES("ip_ecn"), "NXM_NX_IP_ECN",
          "OXM_OF_IP_ECN", 1, 2, nw_tos, false, true, P_IP, P_IP, F_DEC),
    FIELD(FIELD_NW_TTL, "nw_ttl", NO_ALIASES, "NXM_NX_IP_TTL", NULL, 1, 8,
          nw_ttl, false, true, P_IP, P_IP, F_DEC),
    FIELD(FIELD_IP_FRAG, "ip_frag", ALIASES("nw_frag"), "NXM_NX_IP_FRAG", NULL,
          1, 2, nw_frag, true, false, P_IP, P_IP, FIELD_FORMAT_FRAG),
    FIELD(FIELD_ARP_OP, "arp_op", NO_ALIASES, "NXM_OF_ARP_OP", "OXM_OF_ARP_OP",
          1, 8, nw_proto, false, true, P_ARP, P_ARP, F_DEC),
    FIELD(FIELD_ARP_SPA, "arp_spa", NO_ALIASES, "NXM_OF_ARP_SPA",
          "OXM_OF_ARP_SPA", 4, 32, nw_src, true, true, P_ARP, P_ARP, F_IPV4),
    FIELD(FIELD_ARP_TPA, "arp_tpa", NO_ALIASES, "NXM_OF_ARP_TPA",
          "OXM_OF_ARP_TPA", 4, 32, nw_dst, true, true, P_ARP, P_ARP, F_IPV4),
    FIELD(FIELD_ARP_SHA, "arp_sha", NO_ALIASES, "NXM_NX_ARP_SHA",
          "OXM_OF_ARP_SHA", 6, 48, arp_sha, true, true, P_ARP, P_ARP, F_ETH),
    FIELD(FIELD_ARP_THA, "arp_tha", NO_ALIASES, "NXM_NX_ARP_THA",
          "OXM_OF_ARP_THA", 6, 48, arp_tha, true, true, P_ARP, P_ARP, F_ETH),
    FIELD(FIELD_TP_SRC, "tp_src", NO_ALIASES, NULL, NULL, 2, 16, tp_src, true,
          true, FIELD_PREREQ_L4, FIELD_PREREQ_L4, F_DEC),
    FIELD(FIELD_TP_DST, "tp_dst", NO_ALIASES, NULL, NULL, 2, 16, tp_dst, true,
          true, FIELD_PREREQ_L4, FIELD_PREREQ_L4, F_DEC),
    FIELD(FIELD_TCP_SRC, "tcp_src", NO_ALIASES, "NXM_OF_TCP_SRC",
          "OXM_OF_TCP_SRC", 2, 16, tp_src, true, true, FIELD_PREREQ_TCP,
          FIELD_PREREQ_TCP, F_DEC),
    FIELD(FIELD_TCP_DST, "tcp_dst", NO_ALIASES, "NXM_OF_TCP_DST",
          "OXM_OF_TCP_DST", 2, 16, tp_dst, true, true, FIELD_PREREQ_TCP,
          FIELD_PREREQ_TCP, F_DEC),
    FIELD(FIELD_UDP_SRC, "udp_src", NO_ALIASES, "NXM_OF_UDP_SRC",
          "OXM_OF_UDP_SRC", 2, 16, tp_src, true, true, FIELD_PREREQ_UDP,
          FIELD_PREREQ_UDP, F_DEC),
    FIELD(FIELD_UDP_DST, "udp_dst", NO_ALIASES, "NXM_OF_UDP_DST",
          "OXM_OF_UDP_DST", 2, 16, tp_dst, true, true, FIELD_PREREQ_UDP,
          FIELD_PREREQ_UDP, F_DEC),
    FIELD(FIELD_SCTP_SRC, "sctp_src", NO_ALIASES, "OXM_OF_SCTP_SRC", NULL, 2,
          16, tp_src, true, true, FIELD_PREREQ_SCTP, FIELD_PREREQ_SCTP, F_DEC),
    FIELD(FIELD_SCTP_DST, "sctp_dst", NO_ALIASES, "OXM_OF_SCTP_DST", NULL, 2,
          16, tp_dst, true, true, FIELD_PREREQ_SCTP, FIELD_PREREQ_SCTP, F_DEC),
    FIELD(FIELD_TCP_FLAGS, "tcp_flags", NO_ALIASES, "NXM_NX_TCP_FLAGS", NULL,
          2, 12, tcp_flags, true, false, FIELD_PREREQ_TCP, FIELD_PREREQ_TCP,
          FIELD_FORMAT_TCP_FLAGS),
    FIELD(FIELD_ICMP_TYPE, "icmp_type", NO_ALIASES, "NXM_OF_ICMP_TYPE",
          "OXM_OF_ICMPV4_TYPE", 1, 8, tp_src, false, true, FIELD_PREREQ_ICMPV4,
          FIELD_PREREQ_ICMP_ANY, F_DEC),
    FIELD(FIELD_ICMP_CODE, "icmp_code", NO_ALIASES, "NXM_OF_ICMP_CODE",
          "OXM_OF_ICMPV4_CODE", 1, 8, tp_dst, false, true, FIELD_PREREQ_ICMPV4,
          FIELD_PREREQ_ICMP_ANY, F_DEC),
    FIELD(FIELD_ICMPV6_TYPE, "icmpv6_type", NO_ALIASES, "NXM_NX_ICMPV6_TYPE",
          "OXM_OF_ICMPV6_TYPE", 1, 8, tp_src, false, true, FIELD_PREREQ_ICMPV6,
          FIELD_PREREQ_ICMPV6, F_DEC),
    FIELD(FIELD_ICMPV6_CODE, "icmpv6_code", NO_ALIASES, "NXM_NX_ICMPV6_CODE",
          "OXM_OF_ICMPV6_CODE", 1, 8, tp_dst, false, true, FIELD_PREREQ_ICMPV6,
          FIELD_PREREQ_ICMPV6, F_DEC),
    FIELD(FIELD_ND_TARGET, "nd_target", NO_ALIASES, "NXM_NX_ND_TARGET",
          "OXM_OF_IPV6_ND_TARGET", 16, 128, nd_target, true, true,
          FIELD_PREREQ_ND, FIELD_PREREQ_ND, F_IPV6),
    FIELD(FIELD_ND_SLL, "nd_sll", NO_ALIASES, "NXM_NX_ND_SLL",
          "OXM_OF_IPV6_ND_SLL", 6, 48, arp_sha, true, true,
          FIELD_PREREQ_ND_SOLICIT, FIELD_PREREQ_ND_SOLICIT, F_ETH),
    FIELD(FIELD_ND_TLL, "nd_tll", NO_ALIASES, "NXM_NX_ND_TLL",
          "OXM_OF_IPV6_ND_TLL", 6, 48, arp_tha, true, true,
          FIELD_PREREQ_ND_ADVERT, FIELD_PREREQ_ND_ADVERT, F_ETH),
    FIELD(FIELD_TUN_ID, "tun_id", ALIASES("tunnel_id"), "NXM_NX_TUN_ID",
          "OXM_OF_TUNNEL_ID", 8, 64, tunnel_id, true, true, P_NONE, P_NONE,
          F_HEX),
    FIELD(FIELD_MPLS_LABEL, "mpls_label", NO_ALIASES, "OXM_OF_MPLS_LABEL",
          NULL, 4, 20, mpls_lse, false, true, P_MPLS, P_MPLS, F_DEC),
    FIELD(FIELD_MPLS_TC, "mpls_tc", NO_ALIASES, "OXM_OF_MPLS_TC", NULL, 1, 3,
          mpls_lse, false, true, P_MPLS, P_MPLS, F_DEC),
    FIELD(FIELD_MPLS_BOS, "mpls_bos", NO_ALIASES, "OXM_OF_MPLS_BOS", NULL, 1,
          1, mpls_lse, false, false, P_MPLS, P_MPLS, F_DEC),
    FIELD(FIELD_MPLS_TTL, "mpls_ttl", NO_ALIASES, "NXM_NX_MPLS_TTL", NULL, 1,
          8, mpls_lse, false, true, P_MPLS, P_MPLS, F_DEC),
};
/* clang-format on */

const struct field *
field_from_id(enum field_id id)
{
    return (unsigned int)id < FIELD_N_IDS ? &fields[id] : NULL;
}

static bool
name_equals(const char *name, size_t len, const char *candidate)
{
    return candidate && strlen(candidate) == len
           && !memcmp(name, candidate, len);
}

static const struct field *
lookup(const char *name, size_t len, bool nxm)
{
    for (size_t i = 0; i < FIELD_N_IDS; i++) {
        const struct field *f = &fields[i];

        if (name_equals(name, len, f->name)) {
            return f;
        }
        for (size_t j = 0; f->aliases[j]; j++) {
            if (name_equals(name, len, f->aliases[j])) {
                return f;
            }
        }
        if (nxm
            && (name_equals(name, len, f->nxm_name)
                || name_equals(name, len, f->oxm_name))) {
            return f;
        }
    }
    return NULL;
}

const struct field *
field_from_name(const char *name)
{
    return lookup(name, strlen(name), false);
}

const struct field *
field_from_any_name(const char *name)
{
    return lookup(name, strlen(name), true);
}

const struct field *
field_from_any_name_len(const char *name, size_t len)
{
    return lookup(name, len, true);
}

/* ---- Suggestions -------------------------------------------------------- */

/* Edit distance of 'a' and 'b', or any value above 'bound' as soon as it is
 * certain to exceed it. */
static unsigned int
edit_distance_bounded(const char *a, const char *b, unsigned int bound)
{
    enum { MAX_LEN = 64 };
    size_t la = strlen(a), lb = strlen(b);

    if (la > MAX_LEN || lb > MAX_LEN) {
        return UINT32_MAX / 2;
    }

    /* Three rolling rows of the dynamic-programming table: the previous
     * two are needed for adjacent swaps. */
    unsigned int rows[3][MAX_LEN + 1];
    unsigned int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    for (size_t j = 0; j <= lb; j++) {
        prev[j] = (unsigned int)j;
    }
    for (size_t i = 1; i <= la; i++) {
        unsigned int row_min;

        cur[0] = row_min = (unsigned int)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned int cost = a[i - 1] != b[j - 1];
            unsigned int best = MIN(prev[j] + 1, cur[j - 1] + 1);

            best = MIN(best, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2]
                && a[i - 2] == b[j - 1]) {
                best = MIN(best, prev2[j - 2] + 1);
            }
            cur[j] = best;
            row_min = MIN(row_min, best);
        }
        if (row_min > bound + 1) {
            /* A swap can lower the next row by at most one below this. */
            return row_min;
        }

        unsigned int *t = prev2;

        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

unsigned int
field_edit_distance(const char *a, const char *b)
{
    return edit_distance_bounded(a, b, UINT32_MAX / 4);
}

/* A typo is plausible when it changes at most a third of the word (and at
 * least one character may always change). */
static unsigned int
typo_limit(const char *word)
{
    size_t len = strlen(word);

    return MAX(1, MIN(3, len / 3));
}

/* Edit distance that counts a difference in case only as one typo. */
static unsigned int
typo_distance(const char *word, const char *candidate, unsigned int bound)
{
    if (!strcasecmp(word, candidate)) {
        return 1;
    }
    return edit_distance_bounded(word, candidate, bound);
}

const char *
field_suggest_word(const char *word, const char *const candidates[])
{
    unsigned int limit = typo_limit(word);
    unsigned int best_distance = limit + 1;
    const char *best = NULL;
    size_t len = strlen(word);

    for (size_t i = 0; candidates[i]; i++) {
        size_t clen = strlen(candidates[i]);
        unsigned int d;

        /* The distance is at least the difference in length. */
        if ((len > clen ? len - clen : clen - len) >= best_distance
            || !strcmp(word, candidates[i])) {
            continue;
        }
        d = typo_distance(word, candidates[i], best_distance);
        if (d < best_distance) {
            best = candidates[i];
            best_distance = d;
        }
    }
    return best;
}

const char *
field_suggest(const char *name)
{
    const char *names[FIELD_N_IDS * 7 + 1];
    size_t n = 0;

    for (size_t i = 0; i < FIELD_N_IDS; i++) {
        const struct field *f = &fields[i];

        names[n++] = f->name;
        for (size_t j = 0; f->aliases[j]; j++) {
            names[n++] = f->aliases[j];
        }
        if (f->nxm_name) {
            names[n++] = f->nxm_name;
        }
        if (f->oxm_name) {
            names[n++] = f->oxm_name;
        }
    }
    names[n] = NULL;
    return field_suggest_word(name, names);
}

/* ---- Values ------------------------------------------------------------- */

void
field_all_ones(const struct field *f, union field_value *v)
{
    memset(v, 0, sizeof *v);
    for (unsigned int bit = 0; bit < f->n_bits; bit++) {
        field_bit_set(v->b, f->n_bytes, bit, true);
    }
}

bool
field_value_is_zero(const struct field *f, const union field_value *v)
{
    return is_all_zeros(v->b, f->n_bytes);
}

bool
field_value_equal(const struct field *f, const union field_value *a,
                  const union field_value *b)
{
    return !memcmp(a->b, b->b, f->n_bytes);
}

bool
field_value_is_all_ones(const struct field *f, const union field_value *v)
{
    union field_value ones;

    field_all_ones(f, &ones);
    return field_value_equal(f, v, &ones);
}

bool
field_value_is_valid(const struct field *f, const union field_value *v)
{
    union field_value ones;

    field_all_ones(f, &ones);
    for (unsigned int i = 0; i < f->n_bytes; i++) {
        if (v->b[i] & ~ones.b[i]) {
            return false;
        }
    }
    if (f->id == FIELD_NW_TOS && v->u8 & IP_ECN_MASK) {
        return false;
    }
    return true;
}

void
field_value_and(const struct field *f, union field_value *dst,
                const union field_value *a, const union field_value *b)
{
    union field_value r;

    memset(&r, 0, sizeof r);
    for (unsigned int i = 0; i < f->n_bytes; i++) {
        r.b[i] = a->b[i] & b->b[i];
    }
    *dst = r;
}

/* ---- Flow access -------------------------------------------------------- */

/* The bits of mpls_lse that MPLS field 'id' covers, and their shift. */
static uint32_t
mpls_field_bits(enum field_id id, unsigned int *shift)
{
    switch (id) {
    case FIELD_MPLS_LABEL:
        *shift = MPLS_LABEL_SHIFT;
        return MPLS_LABEL_MASK;
    case FIELD_MPLS_TC:
        *shift = MPLS_TC_SHIFT;
        return MPLS_TC_MASK;
    case FIELD_MPLS_BOS:
        *shift = MPLS_BOS_SHIFT;
        return MPLS_BOS_MASK;
    default:
        *shift = 0;
        return MPLS_TTL_MASK;
    }
}

static void
mpls_field_get(const struct field *f, const struct flow *flow,
               union field_value *v)
{
    unsigned int shift;
    uint32_t bits = mpls_field_bits(f->id, &shift);
    uint32_t x = (ntohl(flow->mpls_lse) & bits) >> shift;

    if (f->n_bytes == 4) {
        v->be32 = htonl(x);
    } else {
        v->u8 = (uint8_t)x;
    }
}

static void
mpls_field_set(const struct field *f, const union field_value *v,
               struct flow *flow)
{
    unsigned int shift;
    uint32_t bits = mpls_field_bits(f->id, &shift);
    uint32_t x = f->n_bytes == 4 ? ntohl(v->be32) : v->u8;
    uint32_t lse = ntohl(flow->mpls_lse);

    flow->mpls_lse = htonl((lse & ~bits) | ((x << shift) & bits));
}

static inline uint16_t
tci_of(const struct flow *flow)
{
    return ntohs(flow->vlans[0].tci);
}

static inline void
set_tci_bits(struct flow *flow, uint16_t bits, uint16_t value)
{
    uint16_t tci = tci_of(flow);

    flow->vlans[0].tci = htons((tci & ~bits) | (value & bits));
}

void
field_get_flow(const struct field *f, const struct flow *flow,
               union field_value *v)
{
    memset(v, 0, sizeof *v);
    switch (f->id) {
    case FIELD_IN_PORT:
        v->be16 = htons((uint16_t)flow->in_port);
        break;
    case FIELD_METADATA:
        v->be64 = htobe64(flow->metadata);
        break;
    case FIELD_REG0 ... FIELD_REG7:
        v->be32 = htonl(flow->regs[f->id - FIELD_REG0]);
        break;
    case FIELD_DL_VLAN:
        v->be16 = htons(tci_of(flow) & VLAN_VID_MASK);
        break;
    case FIELD_VLAN_VID:
        v->be16 = htons(tci_of(flow) & (VLAN_VID_MASK | VLAN_CFI));
        break;
    case FIELD_DL_VLAN_PCP:
    case FIELD_VLAN_PCP:
        v->u8 = tci_of(flow) >> VLAN_PCP_SHIFT;
        break;
    case FIELD_NW_TOS:
        v->u8 = flow->nw_tos & IP_DSCP_MASK;
        break;
    case FIELD_IP_DSCP:
        v->u8 = flow->nw_tos >> 2;
        break;
    case FIELD_NW_ECN:
        v->u8 = flow->nw_tos & IP_ECN_MASK;
        break;
    case FIELD_ICMP_TYPE:
    case FIELD_ICMPV6_TYPE:
        v->u8 = (uint8_t)ntohs(flow->tp_src);
        break;
    case FIELD_ICMP_CODE:
    case FIELD_ICMPV6_CODE:
        v->u8 = (uint8_t)ntohs(flow->tp_dst);
        break;
    case FIELD_MPLS_LABEL ... FIELD_MPLS_TTL:
        mpls_field_get(f, flow, v);
        break;
    default:
        memcpy(v->b, (const uint8_t *)flow + f->flow_ofs, f->n_bytes);
        break;
    }
}

void
field_set_flow(const struct field *f, const union field_value *v,
               struct flow *flow)
{
    switch (f->id) {
    case FIELD_IN_PORT:
        flow->in_port = ntohs(v->be16);
        break;
    case FIELD_METADATA:
        flow->metadata = be64toh(v->be64);
        break;
    case FIELD_REG0 ... FIELD_REG7:
        flow->regs[f->id - FIELD_REG0] = ntohl(v->be32);
        break;
    case FIELD_DL_VLAN:
        set_tci_bits(flow, VLAN_VID_MASK, ntohs(v->be16));
        break;
    case FIELD_VLAN_VID:
        set_tci_bits(flow, VLAN_VID_MASK | VLAN_CFI, ntohs(v->be16));
        break;
    case FIELD_DL_VLAN_PCP:
    case FIELD_VLAN_PCP:
        set_tci_bits(flow, VLAN_PCP_MASK, (uint16_t)(v->u8 << VLAN_PCP_SHIFT));
        break;
    case FIELD_NW_TOS:
        flow->nw_tos = (flow->nw_tos & IP_ECN_MASK) | (v->u8 & IP_DSCP_MASK);
        break;
    case FIELD_IP_DSCP:
        flow->nw_tos = (uint8_t)((flow->nw_tos & IP_ECN_MASK)
                                 | ((v->u8 << 2) & IP_DSCP_MASK));
        break;
    case FIELD_NW_ECN:
        flow->nw_tos = (flow->nw_tos & IP_DSCP_MASK) | (v->u8 & IP_ECN_MASK);
        break;
    case FIELD_ICMP_TYPE:
    case FIELD_ICMPV6_TYPE:
        flow->tp_src = htons(v->u8);
        break;
    case FIELD_ICMP_CODE:
    case FIELD_ICMPV6_CODE:
        flow->tp_dst = htons(v->u8);
        break;
    case FIELD_MPLS_LABEL ... FIELD_MPLS_TTL:
        mpls_field_set(f, v, flow);
        break;
    default:
        memcpy((uint8_t *)flow + f->flow_ofs, v->b, f->n_bytes);
        break;
    }
}

void
field_get_match(const struct field *f, const struct match *match,
                union field_value *value, union field_value *mask)
{
    field_get_flow(f, &match->wc.masks, mask);
    field_get_flow(f, &match->flow, value);
    field_value_and(f, value, value, mask);
}

void
field_set_match(const struct field *f, const union field_value *value,
                const union field_value *mask, struct match *match)
{
    union field_value v, m, ones;

    field_all_ones(f, &ones);
    field_value_and(f, &m, mask, &ones);
    field_value_and(f, &v, value, &m);
    field_set_flow(f, &v, &match->flow);
    field_set_flow(f, &m, &match->wc.masks);

    /* An exact match covers the whole backing member where the field is
     * all of it: ICMP type and code sit in 16-bit tp_src/tp_dst whose high
     * byte is always zero, the 16-bit in_port in a 32-bit member.  This
     * keeps a parsed match equal to what matching on every bit gives. */
    switch (f->id) {
    case FIELD_IN_PORT:
        if (m.be16 == htons(0xffff)) {
            match->wc.masks.in_port = UINT32_MAX;
        }
        break;
    case FIELD_ICMP_TYPE:
    case FIELD_ICMPV6_TYPE:
        if (m.u8 == 0xff) {
            match->wc.masks.tp_src = htons(0xffff);
        }
        break;
    case FIELD_ICMP_CODE:
    case FIELD_ICMPV6_CODE:
        if (m.u8 == 0xff) {
            match->wc.masks.tp_dst = htons(0xffff);
        }
        break;
    default:
        break;
    }
}

bool
field_is_matched(const struct field *f, const struct match *match)
{
    union field_value mask;

    field_get_flow(f, &match->wc.masks, &mask);
    return !field_value_is_zero(f, &mask);
}

/* ---- Prerequisites ------------------------------------------------------ */

static bool
pins_dl_type(const struct match *m, uint16_t dl_type)
{
    return m->wc.masks.dl_type == htons(0xffff)
           && m->flow.dl_type == htons(dl_type);
}

static bool
pins_nw_proto(const struct match *m, uint8_t nw_proto)
{
    return m->wc.masks.nw_proto == 0xff && m->flow.nw_proto == nw_proto;
}

static bool
is_ip_any(const struct match *m)
{
    return pins_dl_type(m, ETH_TYPE_IP) || pins_dl_type(m, ETH_TYPE_IPV6);
}

static bool
is_arp(const struct match *m)
{
    return pins_dl_type(m, ETH_TYPE_ARP) || pins_dl_type(m, ETH_TYPE_RARP);
}

static bool
is_nd(const struct match *m, int type)
{
    if (!pins_dl_type(m, ETH_TYPE_IPV6)
        || !pins_nw_proto(m, IPPROTO_ICMPV6_)) {
        return false;
    }
    /* The code must be 0 (or not matched: the pre-masked flow then holds
     * 0), and the type pinned. */
    if (m->flow.tp_dst != htons(0) || m->wc.masks.tp_src != htons(0xffff)) {
        return false;
    }

    uint16_t t = ntohs(m->flow.tp_src);

    return type >= 0 ? t == type
                     : t == ND_NEIGHBOR_SOLICIT || t == ND_NEIGHBOR_ADVERT;
}

bool
field_prereq_satisfied(enum field_prereq p, const struct match *m)
{
    switch (p) {
    case FIELD_PREREQ_NONE:
        return true;
    case FIELD_PREREQ_VLAN:
        return (m->wc.masks.vlans[0].tci & htons(VLAN_CFI))
               && (m->flow.vlans[0].tci & htons(VLAN_CFI));
    case FIELD_PREREQ_ARP:
        return is_arp(m);
    case FIELD_PREREQ_IPV4:
        return pins_dl_type(m, ETH_TYPE_IP);
    case FIELD_PREREQ_IPV6:
        return pins_dl_type(m, ETH_TYPE_IPV6);
    case FIELD_PREREQ_IP_ANY:
        return is_ip_any(m);
    case FIELD_PREREQ_IPV4_ARP:
        return pins_dl_type(m, ETH_TYPE_IP) || is_arp(m);
    case FIELD_PREREQ_IP_ANY_ARP:
        return is_ip_any(m) || is_arp(m);
    case FIELD_PREREQ_TCP:
        return is_ip_any(m) && pins_nw_proto(m, IPPROTO_TCP_);
    case FIELD_PREREQ_UDP:
        return is_ip_any(m) && pins_nw_proto(m, IPPROTO_UDP_);
    case FIELD_PREREQ_SCTP:
        return is_ip_any(m) && pins_nw_proto(m, IPPROTO_SCTP_);
    case FIELD_PREREQ_L4:
        return is_ip_any(m)
               && (pins_nw_proto(m, IPPROTO_TCP_)
                   || pins_nw_proto(m, IPPROTO_UDP_)
                   || pins_nw_proto(m, IPPROTO_SCTP_));
    case FIELD_PREREQ_ICMPV4:
        return pins_dl_type(m, ETH_TYPE_IP) && pins_nw_proto(m, IPPROTO_ICMP_);
    case FIELD_PREREQ_ICMPV6:
        return pins_dl_type(m, ETH_TYPE_IPV6)
               && pins_nw_proto(m, IPPROTO_ICMPV6_);
    case FIELD_PREREQ_ICMP_ANY:
        return field_prereq_satisfied(FIELD_PREREQ_ICMPV4, m)
               || field_prereq_satisfied(FIELD_PREREQ_ICMPV6, m);
    case FIELD_PREREQ_ND:
        return is_nd(m, -1);
    case FIELD_PREREQ_ND_SOLICIT:
        return is_nd(m, ND_NEIGHBOR_SOLICIT);
    case FIELD_PREREQ_ND_ADVERT:
        return is_nd(m, ND_NEIGHBOR_ADVERT);
    case FIELD_PREREQ_MPLS:
        return pins_dl_type(m, ETH_TYPE_MPLS)
               || pins_dl_type(m, ETH_TYPE_MPLS_MCAST);
    }
    return false;
}

bool
field_prereqs_ok(const struct field *f, const struct match *m)
{
    return field_prereq_satisfied(f->match_prereq, m);
}

const char *
field_prereq_describe(enum field_prereq p)
{
    switch (p) {
    case FIELD_PREREQ_NONE:
        return "nothing";
    case FIELD_PREREQ_VLAN:
        return "a VLAN tag (match one with dl_vlan or vlan_tci, or push one)";
    case FIELD_PREREQ_ARP:
        return "arp or rarp";
    case FIELD_PREREQ_IPV4:
        return "ip";
    case FIELD_PREREQ_IPV6:
        return "ipv6";
    case FIELD_PREREQ_IP_ANY:
        return "ip or ipv6";
    case FIELD_PREREQ_IPV4_ARP:
        return "ip or arp";
    case FIELD_PREREQ_IP_ANY_ARP:
        return "ip, ipv6 or arp";
    case FIELD_PREREQ_TCP:
        return "tcp or tcp6";
    case FIELD_PREREQ_UDP:
        return "udp or udp6";
    case FIELD_PREREQ_SCTP:
        return "sctp or sctp6";
    case FIELD_PREREQ_L4:
        return "a protocol (tcp, udp or sctp)";
    case FIELD_PREREQ_ICMPV4:
        return "icmp";
    case FIELD_PREREQ_ICMPV6:
        return "icmp6";
    case FIELD_PREREQ_ICMP_ANY:
        return "icmp or icmp6";
    case FIELD_PREREQ_ND:
        return "icmp6 with icmp_type=135 or 136 and icmp_code 0";
    case FIELD_PREREQ_ND_SOLICIT:
        return "icmp6 with icmp_type=135 and icmp_code 0";
    case FIELD_PREREQ_ND_ADVERT:
        return "icmp6 with icmp_type=136 and icmp_code 0";
    case FIELD_PREREQ_MPLS:
        return "mpls or mplsm";
    }
    return "?";
}

/* ---- Errors ------------------------------------------------------------- */

char *
field_error(const char *ctx, const char *hint, const char *fmt, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    ds_put_cstr(&s, "flow: ");
    va_start(args, fmt);
    ds_put_format_valist(&s, fmt, args);
    va_end(args);
    if (ctx) {
        ds_put_format(&s, " in \"%s\"", ctx);
    }
    if (hint) {
        ds_put_format(&s, " (%s)", hint);
    }
    return ds_steal_cstr(&s);
}

/* ---- Numbers ------------------------------------------------------------ */

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool
field_parse_uint(const char *s, uint64_t max, uint64_t *valuep)
{
    unsigned int base = 10;
    uint64_t value = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && s[1]) {
        base = 8;
        s++;
    }
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        int d = hex_digit(*s);

        if (d < 0 || (unsigned int)d >= base) {
            return false;
        }
        if (value > (UINT64_MAX - (unsigned int)d) / base) {
            return false;
        }
        value = value * base + (unsigned int)d;
    }
    if (value > max) {
        return false;
    }
    *valuep = value;
    return true;
}

int
field_parse_wide_uint(const char *s, unsigned int n_bytes, unsigned int n_bits,
                      union field_value *v)
{
    memset(v, 0, sizeof *v);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        const char *digits = s + 2;
        size_t n = strlen(digits);
        unsigned int bit = 0;

        if (!n) {
            return EINVAL;
        }
        for (size_t i = n; i-- > 0;) {
            int d = hex_digit(digits[i]);

            if (d < 0) {
                return EINVAL;
            }
            for (int b = 0; b < 4; b++, bit++) {
                if (d & (1 << b)) {
                    if (bit >= n_bits) {
                        return ERANGE;
                    }
                    field_bit_set(v->b, n_bytes, bit, true);
                }
            }
        }
        return 0;
    }

    uint64_t x;

    if (!field_parse_uint(s, UINT64_MAX, &x)) {
        /* Tell an overflow from bad syntax. */
        for (const char *p = s; *p; p++) {
            if (*p < '0' || *p > '9') {
                return EINVAL;
            }
        }
        return *s && s[0] != '0' ? ERANGE : EINVAL;
    }
    for (unsigned int bit = 0; bit < 64; bit++) {
        if (x & (UINT64_C(1) << bit)) {
            if (bit >= n_bits) {
                return ERANGE;
            }
            field_bit_set(v->b, n_bytes, bit, true);
        }
    }
    return 0;
}

/* ---- Addresses ---------------------------------------------------------- */

static bool
parse_eth(const char *s, struct eth_addr *ea)
{
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        int hi = hex_digit(s[0]);
        int lo;

        if (hi < 0) {
            return false;
        }
        lo = hex_digit(s[1]);
        if (lo >= 0) {
            ea->ea[i] = (uint8_t)(hi << 4 | lo);
            s += 2;
        } else {
            ea->ea[i] = (uint8_t)hi;
            s += 1;
        }
        if (i < ETH_ADDR_LEN - 1) {
            if (*s != ':') {
                return false;
            }
            s++;
        }
    }
    return *s == '\0';
}

static bool
parse_ipv4(const char *s, be32 *ip)
{
    uint32_t addr = 0;

    for (int i = 0; i < 4; i++) {
        unsigned int octet = 0;
        int n = 0;

        while (s[n] >= '0' && s[n] <= '9' && n < 4) {
            octet = octet * 10 + (unsigned int)(s[n] - '0');
            n++;
        }
        if (!n || n > 3 || octet > 255) {
            return false;
        }
        s += n;
        addr = addr << 8 | octet;
        if (i < 3) {
            if (*s != '.') {
                return false;
            }
            s++;
        }
    }
    if (*s) {
        return false;
    }
    *ip = htonl(addr);
    return true;
}

static bool
parse_ipv6(const char *s, struct in6_addr *addr)
{
    return strchr(s, ':') && inet_pton(AF_INET6, s, addr) == 1;
}

/* Parses a decimal prefix length 0..'max'. */
static bool
parse_prefix_len(const char *s, unsigned int max, unsigned int *len)
{
    uint64_t x;

    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
    }
    if (!*s || strlen(s) > 3) {
        return false;
    }
    x = strtoull(s, NULL, 10);
    if (x > max) {
        return false;
    }
    *len = (unsigned int)x;
    return true;
}

static void
prefix_mask(union field_value *mask, unsigned int n_bytes, unsigned int len)
{
    memset(mask, 0, sizeof *mask);
    for (unsigned int i = 0; i < len; i++) {
        field_bit_set(mask->b, n_bytes, n_bytes * 8 - 1 - i, true);
    }
}

/* If 'mask' is a CIDR prefix of 'n_bytes', returns its length, else -1. */
static int
prefix_len(const uint8_t *mask, unsigned int n_bytes)
{
    unsigned int n_bits = n_bytes * 8;
    unsigned int len = 0;

    while (len < n_bits && field_bit_get(mask, n_bytes, n_bits - 1 - len)) {
        len++;
    }
    for (unsigned int i = len; i < n_bits; i++) {
        if (field_bit_get(mask, n_bytes, n_bits - 1 - i)) {
            return -1;
        }
    }
    return (int)len;
}

/* ---- TCP flags ---------------------------------------------------------- */

static const char *const tcp_flag_names[12] = {
    "fin", "syn", "rst", "psh",   "ack",   "urg",
    "ece", "cwr", "ns",  "[200]", "[400]", "[800]",
};

/* Returns the bit of the TCP flag name at the start of 's' that is followed
 * by one of 'ends' (or NUL), and its length in '*lenp', or 0. */
static uint16_t
tcp_flag_at(const char *s, const char *ends, size_t *lenp)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(tcp_flag_names); i++) {
        size_t len = strlen(tcp_flag_names[i]);

        if (!strncmp(s, tcp_flag_names[i], len)
            && (!s[len] || strchr(ends, s[len]))) {
            *lenp = len;
            return (uint16_t)(1u << i);
        }
    }
    return 0;
}

static int
parse_tcp_flags(const char *s, const char *ctx, uint16_t *flagsp,
                uint16_t *maskp, char **errorp)
{
    static const char hint[] = "expected +flag-flag..., flag|flag..., or "
                               "VALUE[/MASK] with flags fin, syn, rst, psh, "
                               "ack, urg, ece, cwr, ns";
    uint16_t flags = 0, mask = 0;

    if (*s == '+' || *s == '-') {
        while (*s) {
            bool set = *s == '+';
            size_t len;
            uint16_t bit;

            if (*s != '+' && *s != '-') {
                *errorp = field_error(
                    ctx, hint, "TCP flag \"%s\" needs a + or - prefix", s);
                return EINVAL;
            }
            s++;
            bit = tcp_flag_at(s, "+-", &len);
            if (!bit) {
                size_t n = strcspn(s, "+-");

                *errorp = field_error(ctx, hint, "unknown TCP flag \"%.*s\"",
                                      (int)n, s);
                return EINVAL;
            }
            if (mask & bit) {
                *errorp =
                    field_error(ctx, NULL, "TCP flag \"%s\" is given twice",
                                tcp_flag_names[rightmost_1bit_idx(bit)]);
                return EINVAL;
            }
            mask |= bit;
            if (set) {
                flags |= bit;
            }
            s += len;
        }
    } else if (*s >= '0' && *s <= '9') {
        uint64_t f, m = TCP_FLAGS_MASK;
        char *copy = xstrdup(s);
        char *mp = strchr(copy, '/');
        bool ok;

        if (mp) {
            *mp++ = '\0';
        }
        ok = field_parse_uint(copy, TCP_FLAGS_MASK, &f)
             && (!mp || field_parse_uint(mp, TCP_FLAGS_MASK, &m));
        free(copy);
        if (!ok) {
            *errorp = field_error(ctx, hint, "bad TCP flags \"%s\"", s);
            return EINVAL;
        }
        flags = (uint16_t)(f & m);
        mask = (uint16_t)m;
    } else {
        mask = TCP_FLAGS_MASK;
        while (*s) {
            size_t len;
            uint16_t bit = tcp_flag_at(s, "|", &len);

            if (!bit) {
                *errorp = field_error(ctx, hint, "unknown TCP flag \"%.*s\"",
                                      (int)strcspn(s, "|"), s);
                return EINVAL;
            }
            flags |= bit;
            s += len;
            if (*s == '|') {
                s++;
                if (!*s) {
                    *errorp =
                        field_error(ctx, hint, "missing TCP flag after \"|\"");
                    return EINVAL;
                }
            }
        }
    }
    *flagsp = flags;
    *maskp = mask;
    return 0;
}

static void
format_tcp_flags(uint16_t flags, uint16_t mask, struct ds *s)
{
    if (mask == TCP_FLAGS_MASK) {
        if (!flags) {
            ds_put_char(s, '0');
            return;
        }
        for (unsigned int i = 0; i < 12; i++) {
            if (flags & (1u << i)) {
                ds_put_format(s, "%s|", tcp_flag_names[i]);
            }
        }
        ds_chomp(s, "|");
    } else if (!mask) {
        ds_put_cstr(s, "0/0");
    } else {
        for (unsigned int i = 0; i < 12; i++) {
            if (mask & (1u << i)) {
                ds_put_format(s, "%c%s", flags & (1u << i) ? '+' : '-',
                              tcp_flag_names[i]);
            }
        }
    }
}

/* ---- Fragments ---------------------------------------------------------- */

struct frag_name {
    const char *name;
    uint8_t value;
    uint8_t mask;
};

static const struct frag_name frag_names[] = {
    {"no", 0, FLOW_NW_FRAG_ANY},
    {"yes", FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_ANY},
    {"first", FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_MASK},
    {"later", FLOW_NW_FRAG_MASK, FLOW_NW_FRAG_MASK},
    {"not_later", 0, FLOW_NW_FRAG_LATER},
};

/* ---- Ports -------------------------------------------------------------- */

struct port_name {
    const char *name;
    uint32_t port;
};

static const struct port_name port_names[] = {
    {"IN_PORT", OFPP_IN_PORT}, {"TABLE", OFPP_TABLE},
    {"NORMAL", OFPP_NORMAL},   {"FLOOD", OFPP_FLOOD},
    {"ALL", OFPP_ALL},         {"CONTROLLER", OFPP_CONTROLLER},
    {"LOCAL", OFPP_LOCAL},     {"ANY", OFPP_ANY},
    {"NONE", OFPP_NONE},
};

bool
field_parse_port(const char *s, uint32_t *port)
{
    if (*s >= '0' && *s <= '9') {
        uint64_t x = 0;

        for (const char *p = s; *p; p++) {
            if (*p < '0' || *p > '9' || p - s > 10) {
                return false;
            }
            x = x * 10 + (uint64_t)(*p - '0');
        }
        if (x <= 0xffff) {
            *port = (uint32_t)x;
            return true;
        }
        if (x >= 0xffffff00 && x <= 0xffffffff) {
            /* OpenFlow 1.1+ reserved ports map onto the OpenFlow 1.0
             * ones. */
            *port = (uint32_t)(x - 0xffff0000);
            return true;
        }
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(port_names); i++) {
        if (!strcasecmp(s, port_names[i].name)) {
            *port = port_names[i].port;
            return true;
        }
    }
    return false;
}

void
field_format_port(uint32_t port, struct ds *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(port_names); i++) {
        if (port_names[i].port == port) {
            ds_put_cstr(s, port_names[i].name);
            return;
        }
    }
    ds_put_format(s, "%" PRIu32, port);
}

/* ---- Values as text ----------------------------------------------------- */

static const char *
format_hint(const struct field *f)
{
    switch (f->format) {
    case FIELD_FORMAT_DECIMAL:
    case FIELD_FORMAT_HEX:
        return f->maskable ? "expected an integer, optionally /MASK"
                           : "expected an integer";
    case FIELD_FORMAT_ETHERNET:
        return "expected an Ethernet address xx:xx:xx:xx:xx:xx, optionally "
               "/MASK";
    case FIELD_FORMAT_IPV4:
        return "expected an IPv4 address a.b.c.d, optionally /PREFIX or "
               "/MASK";
    case FIELD_FORMAT_IPV6:
        return "expected an IPv6 address, optionally /PREFIX or /MASK";
    case FIELD_FORMAT_PORT:
        return "expected a port number or LOCAL, IN_PORT, NORMAL, FLOOD, "
               "ALL, CONTROLLER, TABLE, ANY";
    case FIELD_FORMAT_FRAG:
        return "expected no, yes, first, later or not_later";
    case FIELD_FORMAT_TCP_FLAGS:
        return "expected +flag-flag... or VALUE[/MASK]";
    }
    return NULL;
}

/* Parses 's' without a mask into 'v'. */
static int
parse_one(const struct field *f, const char *s, const char *ctx,
          const char *what, union field_value *v, char **errorp)
{
    const char *addr_what = !strcmp(what, "value") ? "address" : what;

    memset(v, 0, sizeof *v);
    switch (f->format) {
    case FIELD_FORMAT_DECIMAL:
    case FIELD_FORMAT_HEX: {
        int error = field_parse_wide_uint(s, f->n_bytes, f->n_bits, v);

        if (error == ERANGE) {
            *errorp = field_error(ctx, NULL,
                                  "%s \"%s\" is too large for %s (at most "
                                  "%u bits)",
                                  what, s, f->name, f->n_bits);
            return EINVAL;
        } else if (error) {
            *errorp = field_error(ctx, format_hint(f), "bad %s \"%s\" for %s",
                                  what, s, f->name);
            return EINVAL;
        }
        return 0;
    }
    case FIELD_FORMAT_ETHERNET:
        if (!parse_eth(s, &v->mac)) {
            *errorp = field_error(ctx, format_hint(f),
                                  "bad Ethernet %s \"%s\"", addr_what, s);
            return EINVAL;
        }
        return 0;
    case FIELD_FORMAT_IPV4:
        if (!parse_ipv4(s, &v->be32)) {
            *errorp = field_error(ctx, format_hint(f), "bad IPv4 %s \"%s\"",
                                  addr_what, s);
            return EINVAL;
        }
        return 0;
    case FIELD_FORMAT_IPV6:
        if (!parse_ipv6(s, &v->ipv6)) {
            *errorp = field_error(ctx, format_hint(f), "bad IPv6 %s \"%s\"",
                                  addr_what, s);
            return EINVAL;
        }
        return 0;
    case FIELD_FORMAT_PORT: {
        uint32_t port;

        if (!field_parse_port(s, &port)) {
            *errorp = field_error(ctx, format_hint(f), "bad port \"%s\"", s);
            return EINVAL;
        }
        v->be16 = htons((uint16_t)port);
        return 0;
    }
    case FIELD_FORMAT_FRAG:
    case FIELD_FORMAT_TCP_FLAGS:
        break;
    }
    return EINVAL;
}

/* nw_frag's names: "no", "yes", "first", "later", "not_later". */
static int
parse_frag_value(const struct field *f, const char *s, const char *ctx,
                 union field_value *v, union field_value *m, char **errorp)
{
    for (size_t i = 0; i < ARRAY_SIZE(frag_names); i++) {
        if (!strcmp(s, frag_names[i].name)) {
            v->u8 = frag_names[i].value;
            memset(m, 0, sizeof *m);
            m->u8 = frag_names[i].mask;
            return 0;
        }
    }
    *errorp = field_error(ctx, format_hint(f), "bad fragment type \"%s\"", s);
    return EINVAL;
}

static int
parse_tcp_flags_value(const char *s, const char *ctx, union field_value *v,
                      union field_value *m, char **errorp)
{
    uint16_t flags, fmask;
    int error = parse_tcp_flags(s, ctx, &flags, &fmask, errorp);

    if (error) {
        return error;
    }
    memset(m, 0, sizeof *m);
    v->be16 = htons(flags);
    m->be16 = htons(fmask);
    return 0;
}

/* Parses the mask 'ms' (NULL if there is none: all ones) of 'f': a value,
 * or for addresses also a prefix length. */
static int
parse_mask(const struct field *f, const char *ms, const char *ctx,
           union field_value *m, char **errorp)
{
    unsigned int len, max = f->n_bytes * 8;

    if (!ms) {
        field_all_ones(f, m);
        return 0;
    }
    if (f->format == FIELD_FORMAT_PORT) {
        *errorp =
            field_error(ctx, format_hint(f), "%s cannot be masked", f->name);
        return EINVAL;
    }
    if ((f->format != FIELD_FORMAT_IPV4 && f->format != FIELD_FORMAT_IPV6)
        || strchr(ms, f->format == FIELD_FORMAT_IPV4 ? '.' : ':')) {
        return parse_one(f, ms, ctx, "mask", m, errorp);
    }
    if (!parse_prefix_len(ms, max, &len)) {
        char *hint = xasprintf("expected a prefix length from 0 to %u or "
                               "a mask",
                               max);

        *errorp = field_error(ctx, hint, "bad prefix length \"%s\"", ms);
        free(hint);
        return EINVAL;
    }
    prefix_mask(m, f->n_bytes, len);
    return 0;
}

/* Checks that value 'v' (written 'vs') and mask 'm' (written 'ms') fit
 * 'f'. */
static int
check_value_and_mask(const struct field *f, const char *vs, const char *ms,
                     const char *ctx, const union field_value *v,
                     const union field_value *m, char **errorp)
{
    if (!field_value_is_valid(f, v)) {
        if (f->id == FIELD_NW_TOS) {
            *errorp = field_error(ctx,
                                  "expected a multiple of 4 from 0 to "
                                  "252: the DSCP bits of the TOS byte",
                                  "bad nw_tos \"%s\"", vs);
        } else {
            *errorp = field_error(ctx, NULL,
                                  "value \"%s\" is too large for %s (at "
                                  "most %u bits)",
                                  vs, f->name, f->n_bits);
        }
        return EINVAL;
    }
    if (!field_value_is_valid(f, m) && f->id != FIELD_NW_TOS) {
        *errorp = field_error(ctx, NULL,
                              "mask \"%s\" is too large for %s (at most %u "
                              "bits)",
                              ms, f->name, f->n_bits);
        return EINVAL;
    }
    if (!f->maskable && !field_value_is_zero(f, m)
        && !field_value_is_all_ones(f, m)) {
        *errorp = field_error(ctx, "expected an exact value",
                              "%s cannot be masked", f->name);
        return EINVAL;
    }
    return 0;
}

/* Parses "VALUE[/MASK]" for the fields written as numbers or addresses. */
static int
parse_masked_value(const struct field *f, const char *s, const char *ctx,
                   union field_value *v, union field_value *m, char **errorp)
{
    const char *slash = strchr(s, '/');
    char *vs = slash ? xmemdup0(s, (size_t)(slash - s)) : xstrdup(s);
    const char *ms = slash ? slash + 1 : NULL;
    int error;

    error = parse_one(f, vs, ctx, "value", v, errorp);
    if (!error) {
        error = parse_mask(f, ms, ctx, m, errorp);
    }
    if (!error) {
        error = check_value_and_mask(f, vs, ms, ctx, v, m, errorp);
    }
    free(vs);
    return error;
}

int
field_parse_value(const struct field *f, const char *s, const char *ctx,
                  union field_value *value, union field_value *mask,
                  char **errorp)
{
    union field_value v, m;
    int error;

    memset(&v, 0, sizeof v);
    if (!*s) {
        *errorp =
            field_error(ctx, format_hint(f), "missing value for %s", f->name);
        return EINVAL;
    }
    if (f->format == FIELD_FORMAT_FRAG) {
        error = parse_frag_value(f, s, ctx, &v, &m, errorp);
    } else if (f->format == FIELD_FORMAT_TCP_FLAGS) {
        error = parse_tcp_flags_value(s, ctx, &v, &m, errorp);
    } else {
        error = parse_masked_value(f, s, ctx, &v, &m, errorp);
    }
    if (error) {
        return error;
    }
    field_value_and(f, value, &v, &m);
    *mask = m;
    return 0;
}

/* Appends "0x" and the hex digits of 'p' without leading zeros, or "0". */
static void
put_hex(struct ds *s, const uint8_t *p, unsigned int n)
{
    bool printed = false;

    for (unsigned int i = 0; i < n; i++) {
        if (p[i] || printed) {
            ds_put_format(s, printed ? "%02x" : "0x%x", p[i]);
            printed = true;
        }
    }
    if (!printed) {
        ds_put_char(s, '0');
    }
}

static void
format_ipv6(const struct in6_addr *a, struct ds *s)
{
    char buf[INET6_ADDRSTRLEN];

    inet_ntop(AF_INET6, a, buf, sizeof buf);
    ds_put_cstr(s, buf);
}

void
field_format_value(const struct field *f, const union field_value *value,
                   const union field_value *mask, struct ds *s)
{
    if (mask && field_value_is_all_ones(f, mask)) {
        mask = NULL;
    }

    switch (f->format) {
    case FIELD_FORMAT_DECIMAL: {
        uint64_t x = 0;

        for (unsigned int i = 0; i < f->n_bytes; i++) {
            x = x << 8 | value->b[i];
        }
        ds_put_format(s, "%" PRIu64, x);
        if (mask) {
            ds_put_char(s, '/');
            put_hex(s, mask->b, f->n_bytes);
        }
        break;
    }
    case FIELD_FORMAT_HEX:
        put_hex(s, value->b, f->n_bytes);
        if (mask) {
            ds_put_char(s, '/');
            put_hex(s, mask->b, f->n_bytes);
        }
        break;
    case FIELD_FORMAT_ETHERNET:
        ds_put_format(s, ETH_ADDR_FMT, ETH_ADDR_ARGS(value->mac));
        if (mask) {
            ds_put_format(s, "/" ETH_ADDR_FMT, ETH_ADDR_ARGS(mask->mac));
        }
        break;
    case FIELD_FORMAT_IPV4: {
        ds_put_format(s, IP_FMT, IP_ARGS(value->be32));
        if (mask) {
            int len = prefix_len(mask->b, 4);

            if (len >= 0) {
                ds_put_format(s, "/%d", len);
            } else {
                ds_put_format(s, "/" IP_FMT, IP_ARGS(mask->be32));
            }
        }
        break;
    }
    case FIELD_FORMAT_IPV6: {
        format_ipv6(&value->ipv6, s);
        if (mask) {
            int len = prefix_len(mask->b, 16);

            ds_put_char(s, '/');
            if (len >= 0) {
                ds_put_format(s, "%d", len);
            } else {
                format_ipv6(&mask->ipv6, s);
            }
        }
        break;
    }
    case FIELD_FORMAT_PORT:
        field_format_port(ntohs(value->be16), s);
        break;
    case FIELD_FORMAT_FRAG: {
        uint8_t m = mask ? mask->u8 : FLOW_NW_FRAG_MASK;
        uint8_t v = value->u8 & m;

        for (size_t i = 0; i < ARRAY_SIZE(frag_names); i++) {
            if (frag_names[i].value == v && frag_names[i].mask == m) {
                ds_put_cstr(s, frag_names[i].name);
                return;
            }
        }
        ds_put_cstr(s, "<error>");
        break;
    }
    case FIELD_FORMAT_TCP_FLAGS:
        format_tcp_flags(ntohs(value->be16),
                         mask ? ntohs(mask->be16) : TCP_FLAGS_MASK, s);
        break;
    }
}

/* ---- Sub-fields --------------------------------------------------------- */

bool
field_bit_get(const uint8_t *p, unsigned int n_bytes, unsigned int bit)
{
    return (p[n_bytes - 1 - bit / 8] >> (bit % 8)) & 1;
}

void
field_bit_set(uint8_t *p, unsigned int n_bytes, unsigned int bit, bool on)
{
    uint8_t *byte = &p[n_bytes - 1 - bit / 8];
    uint8_t m = (uint8_t)(1u << (bit % 8));

    *byte = on ? (uint8_t)(*byte | m) : (uint8_t)(*byte & ~m);
}

void
field_bits_copy(const uint8_t *src, unsigned int src_n_bytes,
                unsigned int src_ofs, uint8_t *dst, unsigned int dst_n_bytes,
                unsigned int dst_ofs, unsigned int n_bits)
{
    for (unsigned int i = 0; i < n_bits; i++) {
        field_bit_set(dst, dst_n_bytes, dst_ofs + i,
                      field_bit_get(src, src_n_bytes, src_ofs + i));
    }
}

static bool
parse_bit_number(const char *s, size_t len, unsigned int *bit)
{
    unsigned int x = 0;

    if (!len || len > 3) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        x = x * 10 + (unsigned int)(s[i] - '0');
    }
    *bit = x;
    return true;
}

int
field_parse_subfield(const char *s, const char *ctx, struct field_subfield *sf,
                     const char **endp, char **errorp)
{
    static const char hint[] = "expected NAME[], NAME[BIT] or "
                               "NAME[START..END]";
    size_t name_len = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    const struct field *f;

    if (!name_len) {
        *errorp =
            field_error(ctx, hint, "missing field name before \"%s\"", s);
        return EINVAL;
    }
    f = field_from_any_name_len(s, name_len);
    if (!f) {
        char *name = xmemdup0(s, name_len);
        const char *suggestion = field_suggest(name);
        char *hint2 =
            suggestion ? xasprintf("did you mean %s?", suggestion) : NULL;

        *errorp = field_error(ctx, hint2, "unknown field \"%s\"", name);
        free(hint2);
        free(name);
        return EINVAL;
    }

    const char *p = s + name_len;
    unsigned int start = 0, end = f->n_bits - 1;

    if (*p == '[') {
        const char *close = strchr(p, ']');

        if (!close) {
            *errorp = field_error(ctx, hint, "missing \"]\" after \"%s\"", s);
            return EINVAL;
        }

        const char *in = p + 1;
        size_t in_len = (size_t)(close - in);

        if (in_len) {
            const char *dots = memmem(in, in_len, "..", 2);

            if (dots) {
                if (!parse_bit_number(in, (size_t)(dots - in), &start)
                    || !parse_bit_number(dots + 2, (size_t)(close - dots - 2),
                                         &end)) {
                    *errorp = field_error(ctx, hint, "bad bit range \"%.*s\"",
                                          (int)(close - p + 1), p);
                    return EINVAL;
                }
            } else if (!parse_bit_number(in, in_len, &start)) {
                *errorp = field_error(ctx, hint, "bad bit range \"%.*s\"",
                                      (int)(close - p + 1), p);
                return EINVAL;
            } else {
                end = start;
            }
            if (start > end) {
                *errorp = field_error(
                    ctx, hint, "start bit %u is after end bit %u", start, end);
                return EINVAL;
            }
            if (end >= f->n_bits) {
                char *range =
                    xasprintf("%s has bits 0..%u", f->name, f->n_bits - 1);

                *errorp =
                    field_error(ctx, range, "bit %u is out of range", end);
                free(range);
                return EINVAL;
            }
        }
        p = close + 1;
    }
    sf->field = f;
    sf->ofs = start;
    sf->n_bits = end - start + 1;
    *endp = p;
    return 0;
}

void
field_format_subfield(const struct field_subfield *sf, struct ds *s)
{
    const struct field *f = sf->field;

    ds_put_cstr(s, f->nxm_name ? f->nxm_name : f->name);
    if (sf->ofs == 0 && sf->n_bits == f->n_bits) {
        ds_put_cstr(s, "[]");
    } else if (sf->n_bits == 1) {
        ds_put_format(s, "[%u]", sf->ofs);
    } else {
        ds_put_format(s, "[%u..%u]", sf->ofs, sf->ofs + sf->n_bits - 1);
    }
}

bool
field_subfield_equal(const struct field_subfield *a,
                     const struct field_subfield *b)
{
    return a->field == b->field && a->ofs == b->ofs && a->n_bits == b->n_bits;
}
