/*
 * flow/flow.h — the flow key and its masks.
 *
 * struct flow is the key every layer of flowswitch agrees on: the parser
 * (flow/packet-parse.h) fills it from a frame, the OpenFlow classifier
 * matches rules against it, translation reads and rewrites it, and the
 * datapath caches megaflows as (flow & mask, mask).
 *
 * Layout.  A flow is FLOW_U64S 64-bit words in a fixed order, grouped in four
 * lookup *stages*: metadata (words 0-6), L2 (7-10), L3 (11-20), L4 (21).  The
 * staged classifier lookup looks at the stages in that order and only
 * un-wildcards a later stage when the earlier ones matched, so the grouping is
 * part of the design, not an accident: do not move fields across stages.
 * Every header field is stored in network byte order, exactly as on the wire,
 * so masking and prefix matching work on the bytes the packet carries.  All
 * padding is zero in every flow and mask (flow_zero_padding() checks it), so
 * whole words can be compared, masked and hashed.
 *
 * Conventions borrowed from Open vSwitch, so that megaflows and ovs-ofctl
 * syntax mean the same thing:
 *  - vlans[i].tci carries VLAN_CFI (0x1000) when tag i is present; an untagged
 *    frame has tci == 0.  vlans[0] is the outer tag.
 *  - For ARP, nw_src/nw_dst are the sender/target protocol addresses, nw_proto
 *    is the low 8 bits of the opcode, arp_sha/arp_tha the hardware addresses.
 *  - For ICMP and ICMPv6, tp_src is the type and tp_dst the code.
 *  - For IPv6 neighbour discovery, nd_target is the target and arp_sha/arp_tha
 *    hold the source/target link-layer address options.
 *  - dl_type is FLOW_DL_TYPE_NONE (0x05ff) for an 802.3 frame without SNAP.
 *  - mpls_lse is the outermost MPLS label stack entry, as on the wire, for
 *    an MPLS frame (dl_type 0x8847 or 0x8848); parsing stops there, so an
 *    MPLS flow has no L3 or L4 fields.  It sits in the L2 stage, as in Open
 *    vSwitch, since it comes before any L3 header.
 *  - tunnel_id is pipeline metadata: 0 for every packet (no port decaps a
 *    tunnel yet); rules may match it and set it, as in Open vSwitch.
 *
 * Masks.  struct flow_wildcards is a struct flow whose 1-bits are the bits
 * that matter ("exact") and 0-bits the bits that are wildcarded.  struct match
 * pairs a flow with its mask; its flow is always pre-masked.
 *
 * Miniflows.  Most flows and masks are mostly zeros.  struct miniflow stores
 * only the nonzero words, with a 64-bit map of which words are present; the
 * classifier and the datapath keep miniflows and minimasks, and hash a flow
 * "in a minimask" by visiting only the mask's words.
 *
 * Thread safety: plain values; no internal synchronization.
 */
#ifndef FLOWSWITCH_FLOW_FLOW_H
#define FLOWSWITCH_FLOW_FLOW_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/util.h"
#include "packet/headers.h"

#define FLOW_N_REGS 8
#define FLOW_N_VLANS 2

/* nw_frag bits. */
#define FLOW_NW_FRAG_ANY 0x01   /* Packet is a fragment. */
#define FLOW_NW_FRAG_LATER 0x02 /* Not the first fragment. */
#define FLOW_NW_FRAG_MASK (FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER)

/* Port numbers (OpenFlow 1.0 style 16-bit values widened to 32 bits). */
#define OFPP_NONE 0xffff       /* No port. */
#define OFPP_MAX 0xff00        /* Highest ordinary port number. */
#define OFPP_IN_PORT 0xfff8    /* The input port, as an output. */
#define OFPP_TABLE 0xfff9      /* Re-run the pipeline (packet-out only). */
#define OFPP_NORMAL 0xfffa     /* The L2 learning switch. */
#define OFPP_FLOOD 0xfffb      /* Every port but the input (and no-flood). */
#define OFPP_ALL 0xfffc        /* Every port but the input. */
#define OFPP_CONTROLLER 0xfffd /* The controller. */
#define OFPP_LOCAL 0xfffe      /* The switch's local port. */
#define OFPP_ANY OFPP_NONE

struct flow_vlan {
    be16 tpid; /* ETH_TYPE_VLAN_8021Q or _8021AD; 0 if absent. */
    be16 tci;  /* PCP, CFI (set: present), VID. */
};

struct flow {
    /* Stage 0: metadata. */
    uint64_t metadata;          /* OpenFlow metadata (host byte order). */
    be64 tunnel_id;             /* Tunnel ID (tun_id); 0: no tunnel. */
    uint32_t regs[FLOW_N_REGS]; /* Registers (host byte order). */
    uint32_t in_port;           /* Input port (host byte order). */
    uint32_t recirc_id;         /* Datapath: 0 from a port, else the
                                 * recirc(N) that looked it up again. */

    /* Stage 1: L2. */
    struct eth_addr dl_dst;
    struct eth_addr dl_src;
    be16 dl_type;
    uint8_t pad_l2[2]; /* Always 0. */
    struct flow_vlan vlans[FLOW_N_VLANS];
    be32 mpls_lse;      /* Outer MPLS label stack entry, 0 if not MPLS. */
    uint8_t pad_l2b[4]; /* Always 0. */

    /* Stage 2: L3. */
    be32 nw_src; /* IPv4 source, or ARP SPA. */
    be32 nw_dst; /* IPv4 destination, or ARP TPA. */
    struct in6_addr ipv6_src;
    struct in6_addr ipv6_dst;
    be32 ipv6_label;  /* Low 20 bits. */
    uint8_t nw_frag;  /* FLOW_NW_FRAG_* bits. */
    uint8_t nw_tos;   /* DSCP (high 6 bits) and ECN (low 2). */
    uint8_t nw_ttl;   /* TTL or hop limit. */
    uint8_t nw_proto; /* IP protocol, or low 8 bits of ARP op. */
    struct in6_addr nd_target;
    struct eth_addr arp_sha; /* ARP SHA, or ND source link-layer addr. */
    uint8_t pad_l3a[2];      /* Always 0. */
    struct eth_addr arp_tha; /* ARP THA, or ND target link-layer addr. */
    uint8_t pad_l3b[2];      /* Always 0. */

    /* Stage 3: L4. */
    be16 tp_src;       /* TCP/UDP/SCTP source port, ICMP type. */
    be16 tp_dst;       /* TCP/UDP/SCTP dest port, ICMP code. */
    be16 tcp_flags;    /* TCP flags (low 12 bits). */
    uint8_t pad_l4[2]; /* Always 0. */
};

#define FLOW_U64S (sizeof(struct flow) / sizeof(uint64_t))
BUILD_ASSERT(sizeof(struct flow) % sizeof(uint64_t) == 0);
BUILD_ASSERT(sizeof(struct flow) == 176);
BUILD_ASSERT(FLOW_U64S <= 64);

/* Word index of a member. */
#define FLOW_U64_OFS(MEMBER) (offsetof(struct flow, MEMBER) / sizeof(uint64_t))

/* Stage boundaries (word indexes; stage i covers [start[i], start[i+1])). */
#define FLOW_STAGE_METADATA_END FLOW_U64_OFS(dl_dst)
#define FLOW_STAGE_L2_END FLOW_U64_OFS(nw_src)
#define FLOW_STAGE_L3_END FLOW_U64_OFS(tp_src)
#define FLOW_STAGE_L4_END FLOW_U64S
#define FLOW_N_STAGES 4
BUILD_ASSERT(offsetof(struct flow, tunnel_id) == 1 * sizeof(uint64_t));
BUILD_ASSERT(FLOW_U64_OFS(dl_dst) == 7);
BUILD_ASSERT(offsetof(struct flow, vlans) == 9 * sizeof(uint64_t));
BUILD_ASSERT(offsetof(struct flow, mpls_lse) == 10 * sizeof(uint64_t));
BUILD_ASSERT(FLOW_U64_OFS(nw_src) == 11);
BUILD_ASSERT(offsetof(struct flow, nd_target) == 17 * sizeof(uint64_t));
BUILD_ASSERT(offsetof(struct flow, arp_sha) == 19 * sizeof(uint64_t));
BUILD_ASSERT(offsetof(struct flow, arp_tha) == 20 * sizeof(uint64_t));
BUILD_ASSERT(FLOW_U64_OFS(tp_src) == 21);

/* Map of the words of stage 'stage' (0..3). */
uint64_t flow_stage_map(unsigned int stage);

static inline const uint64_t *
flow_u64s(const struct flow *flow)
{
    return (const uint64_t *)(const void *)flow;
}

static inline uint64_t *
flow_u64s_rw(struct flow *flow)
{
    return (uint64_t *)(void *)flow;
}

static inline bool
flow_equal(const struct flow *a, const struct flow *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* True if the padding members of 'flow' are all zero. */
bool flow_zero_padding(const struct flow *);

static inline bool
flow_is_ip(const struct flow *flow)
{
    return flow->dl_type == htons(ETH_TYPE_IP)
           || flow->dl_type == htons(ETH_TYPE_IPV6);
}

/* Number of VLAN tags present in 'flow' (0, 1 or 2). */
static inline unsigned int
flow_n_vlans(const struct flow *flow)
{
    unsigned int n = 0;

    while (n < FLOW_N_VLANS && (flow->vlans[n].tci & htons(VLAN_CFI))) {
        n++;
    }
    return n;
}

/* ---- Wildcards ---------------------------------------------------------- */

struct flow_wildcards {
    struct flow masks; /* 1-bit: exact; 0-bit: wildcarded. */
};

void flow_wildcards_init_catchall(struct flow_wildcards *);
void flow_wildcards_init_exact(struct flow_wildcards *);
bool flow_wildcards_is_catchall(const struct flow_wildcards *);
bool flow_wildcards_is_exact(const struct flow_wildcards *);
/* dst |= src. */
void flow_wildcards_or(struct flow_wildcards *dst,
                       const struct flow_wildcards *src);
/* dst = a & b. */
void flow_wildcards_and(struct flow_wildcards *dst,
                        const struct flow_wildcards *a,
                        const struct flow_wildcards *b);
/* True if every exact bit of 'b' is also exact in 'a' ('a' is at least as
 * specific as 'b'). */
bool flow_wildcards_covers(const struct flow_wildcards *a,
                           const struct flow_wildcards *b);
bool flow_wildcards_equal(const struct flow_wildcards *,
                          const struct flow_wildcards *);

/* dst = src & mask. */
void flow_apply_mask(struct flow *dst, const struct flow *src,
                     const struct flow_wildcards *mask);
/* True if 'a' and 'b' agree on every exact bit of 'mask'. */
bool flow_equal_except(const struct flow *a, const struct flow *b,
                       const struct flow_wildcards *mask);

/* Bitmap of the words of 'wc' that have any exact bit. */
uint64_t flow_wildcards_map(const struct flow_wildcards *);

/* ---- Match -------------------------------------------------------------- */

/* A flow and a mask.  Invariant: flow == flow & wc.masks. */
struct match {
    struct flow flow;
    struct flow_wildcards wc;
};

void match_init_catchall(struct match *);
/* Exact match on every bit of 'flow'. */
void match_init_exact(struct match *, const struct flow *);
void match_init(struct match *, const struct flow *,
                const struct flow_wildcards *);
bool match_equal(const struct match *, const struct match *);
/* True if 'flow' matches 'match'. */
bool match_matches_flow(const struct match *, const struct flow *);
/* Re-establishes the invariant after the flow or mask was edited. */
void match_normalize(struct match *);

/* ---- Hashing ------------------------------------------------------------ */

/* Hash of all of 'flow'. */
uint32_t flow_hash(const struct flow *, uint32_t basis);
/* Hash of 'flow & mask' over the words of 'mask'.  Equal to
 * flow_hash_masked_words() of the pre-masked flow over the same map. */
uint32_t flow_hash_masked(const struct flow *,
                          const struct flow_wildcards *mask, uint32_t basis);
/* Hash of the 5-tuple and in_port: the upcall queue selector. */
uint32_t flow_hash_5tuple(const struct flow *, uint32_t basis);

/* ---- Miniflow ----------------------------------------------------------- */

/* Sparse flow: 'values' holds the words whose bit is set in 'map', in word
 * order.  Allocated with miniflow_create(), freed with free(). */
struct miniflow {
    uint64_t map;
    uint64_t values[];
};

struct minimask {
    struct miniflow masks;
};

/* Number of words in 'mf'. */
static inline unsigned int
miniflow_n_values(const struct miniflow *mf)
{
    return count_1bits(mf->map);
}

/* Allocates a miniflow holding the nonzero words of 'flow'. */
struct miniflow *miniflow_create(const struct flow *);
/* Allocates a minimask holding the nonzero words of 'wc'. */
struct minimask *minimask_create(const struct flow_wildcards *);
void miniflow_expand(const struct miniflow *, struct flow *);
void minimask_expand(const struct minimask *, struct flow_wildcards *);
/* Word 'idx' of 'mf' (0 if absent). */
uint64_t miniflow_get(const struct miniflow *, unsigned int idx);
bool miniflow_equal(const struct miniflow *, const struct miniflow *);
/* Hash of 'flow & mask' visiting only the words in the mask's map.  For a
 * pre-masked miniflow 'mf' of the same mask, miniflow_hash_in_map(mf,
 * mask->masks.map, basis) gives the same value, so a table can store hashes
 * of miniflows and look them up with full flows. */
uint32_t flow_hash_in_minimask(const struct flow *,
                               const struct minimask *mask, uint32_t basis);
/* Hash of the pre-masked miniflow 'mf' over the words of 'map'. */
uint32_t miniflow_hash_in_map(const struct miniflow *mf, uint64_t map,
                              uint32_t basis);
/* True if 'flow' & 'mask' == 'mf' (a pre-masked miniflow over mask's map). */
bool miniflow_equal_flow_in_minimask(const struct miniflow *mf,
                                     const struct flow *flow,
                                     const struct minimask *mask);

#endif /* flow/flow.h */
