/*
 * datapath/dp-actions.h — datapath actions: what a cached megaflow does to
 * the packets that hit it.
 *
 * These are not OpenFlow actions.  Translation (ofproto) compiles whatever
 * the OpenFlow tables say into a short, flat list of primitive steps that
 * the fast path can run without thinking:
 *
 *   output(port)           send a copy of the packet as it is now
 *   set(HEADER(...))       rewrite fields of one header, each under a mask
 *                          (eth src/dst; vlan vid/pcp; ipv4 src/dst/tos/ttl;
 *                          ipv6 src/dst/label/tclass/hlimit; tcp, udp, sctp
 *                          ports; arp sip/tip/op/sha/tha; icmp and icmpv6
 *                          type/code; nd target/sll/tll), with the
 *                          checksums fixed up
 *   push_vlan(tpid, tci)   add an outer 802.1Q/802.1ad tag
 *   pop_vlan               remove the outer tag
 *   push_mpls(label=,tc=,ttl=,bos=,eth_type=)
 *                          insert a label stack entry after the L2
 *                          header (and its VLAN tags) and set the
 *                          ethertype to 0x8847 or 0x8848
 *   pop_mpls(eth_type=)    remove the outer entry of an MPLS packet and
 *                          set the ethertype
 *   set(mpls(label=,tc=,ttl=,bos=))  rewrite the outer entry
 *   userspace(userdata)    hand a copy to the slow path (an ACTION upcall)
 *   meter(id)              run the packets through datapath meter 'id'
 *                          (datapath/dp-meter.h), which may drop some
 *
 * and an empty list means "drop".  The steps run in order on the packet as
 * the previous steps left it, so "output:1,set(...),output:2" sends the
 * original to 1 and the rewritten packet to 2.
 *
 * Representation.  struct dp_actions is an immutable, reference-counted
 * array of fixed-size struct dp_action (a few dozen bytes each): a megaflow
 * points at one, readers on the fast path use it under RCU without taking
 * a reference, and whoever wants to keep it beyond that (a flow dump, a
 * handler) takes one.  Build a list with struct dp_action_buf and freeze
 * it with dp_actions_create().
 *
 * Set semantics.  A set action carries a value and a mask of the same
 * shape: every field bit whose mask bit is 1 is taken from the value, the
 * others are left as they are; fields with a zero mask are untouched.  A
 * set whose header the packet does not have (set(ipv4) on an ARP frame,
 * set(tcp) on UDP, set(vlan) on an untagged frame) does nothing.
 * Checksums: an IPv4 header change updates the header checksum; an
 * address change updates the TCP, UDP and ICMPv6 pseudo-header checksum
 * (not an IPv6 destination change when a routing header is present, whose
 * pseudo-header uses the final destination, as in Open vSwitch); a port
 * change updates the TCP or UDP checksum; an ICMP or ICMPv6 type or code
 * change updates the ICMP checksum, and an ND target or link-layer
 * address change the ICMPv6 checksum (ARP has none).  ND link-layer
 * addresses are rewritten in place in the first source or target
 * link-layer address option, as in Open vSwitch: a set never adds an
 * option the packet lacks.  All of these are incremental
 * (RFC 1624) so that a checksum that was wrong stays exactly as wrong.  A
 * UDP checksum of 0 over IPv4 means "none" and stays 0, and an updated
 * UDP checksum that comes out 0 is sent as 0xffff (RFC 768).  SCTP's CRC32c
 * is recomputed over the packet, keeping any error it had.
 *
 * VLAN conventions (those of struct flow): a flow's tci has VLAN_CFI set
 * when a tag is present; on the wire that bit is the DEI.  push_vlan
 * writes the tci without VLAN_CFI (so DEI = 0, as Open vSwitch does) and
 * set(vlan) only changes VID and PCP bits.
 *
 * Text.  dp_actions_format() writes the style of `ovs-dpctl dump-flows`:
 *
 *   2,set(ipv4(src=10.0.0.1,ttl=63)),push_vlan(vid=5,pcp=0),
 *   set(eth(dst=00:00:00:00:00:01/ff:ff:ff:00:00:00)),pop_vlan,
 *   userspace(userdata(0102030405060708)),drop,
 *   set(arp(sip=10.0.0.9,op=2)),set(icmp(type=0)),set(icmpv6(code=1)),
 *   set(nd(target=fe80::1,sll=00:00:00:00:00:07))
 *
 * (output is the bare port number; a masked field prints VALUE/MASK;
 * push_vlan prints tpid= only when it is not 0x8100; an empty list is
 * "drop"; a meter prints meter(N) as Open vSwitch's dpctl does).
 * dp_actions_from_string() parses that and also accepts
 * output(N), userspace(cookie=N) (8 bytes, big-endian), and for set(vlan)
 * and push_vlan the raw tci=N.  Format and parse round-trip.
 *
 * Thread safety: a struct dp_actions is immutable once created and may be
 * read by any number of threads; dp_actions_ref()/unref() are atomic.  A
 * struct dp_action_buf is owned by one thread.  dp_action_apply() works on
 * a packet the calling thread owns.
 */
#ifndef FLOWSWITCH_DATAPATH_DP_ACTIONS_H
#define FLOWSWITCH_DATAPATH_DP_ACTIONS_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "packet/headers.h"

struct dp_packet;
struct ds;

enum dp_action_type {
    DP_ACTION_OUTPUT,
    DP_ACTION_SET,
    DP_ACTION_PUSH_VLAN,
    DP_ACTION_POP_VLAN,
    DP_ACTION_USERSPACE,
    DP_ACTION_METER, /* meter(N): datapath/dp-meter.h. */
    DP_ACTION_PUSH_MPLS,
    DP_ACTION_POP_MPLS,
    DP_ACTION_RECIRC, /* recirc(N): look the packet up again (dp-pmd.c). */
};

/* The header a set action rewrites. */
enum dp_set_header {
    DP_SET_ETH,
    DP_SET_VLAN,
    DP_SET_IPV4,
    DP_SET_IPV6,
    DP_SET_TCP,
    DP_SET_UDP,
    DP_SET_SCTP,
    DP_SET_ARP,    /* ARP or RARP over Ethernet/IPv4. */
    DP_SET_ICMP,   /* ICMP over IPv4: type and code. */
    DP_SET_ICMPV6, /* ICMPv6: type and code. */
    DP_SET_ND,     /* ICMPv6 neighbour solicitation or advertisement. */
    DP_SET_MPLS,   /* The outer MPLS label stack entry. */
    DP_SET_N_HEADERS
};

struct dp_set_eth {
    struct eth_addr src;
    struct eth_addr dst;
};

struct dp_set_vlan {
    be16 tci; /* Only VLAN_VID_MASK and VLAN_PCP_MASK bits are used. */
};

struct dp_set_ipv4 {
    be32 src;
    be32 dst;
    uint8_t tos;
    uint8_t ttl;
};

struct dp_set_ipv6 {
    struct in6_addr src;
    struct in6_addr dst;
    be32 label; /* Low 20 bits. */
    uint8_t tclass;
    uint8_t hlimit;
};

/* TCP, UDP and SCTP. */
struct dp_set_l4 {
    be16 src;
    be16 dst;
};

struct dp_set_arp {
    be32 sip;
    be32 tip;
    be16 op;
    struct eth_addr sha;
    struct eth_addr tha;
};

/* ICMP and ICMPv6. */
struct dp_set_icmp {
    uint8_t type;
    uint8_t code;
};

struct dp_set_nd {
    struct in6_addr target;
    struct eth_addr sll; /* In the source link-layer address option. */
    struct eth_addr tll; /* In the target link-layer address option. */
};

struct dp_set_mpls {
    be32 lse; /* Label, TC, BOS and TTL bits, as on the wire. */
};

union dp_set_fields {
    struct dp_set_eth eth;
    struct dp_set_vlan vlan;
    struct dp_set_ipv4 ipv4;
    struct dp_set_ipv6 ipv6;
    struct dp_set_l4 l4;
    struct dp_set_arp arp;
    struct dp_set_icmp icmp;
    struct dp_set_nd nd;
    struct dp_set_mpls mpls;
};

/* The size of the fields of 'header' in union dp_set_fields (0 for
 * DP_SET_N_HEADERS). */
size_t dp_set_header_size(enum dp_set_header header);

/* Most bytes of opaque data a userspace action carries. */
#define DP_USERDATA_MAX 32

struct dp_userdata {
    uint8_t len;
    uint8_t data[DP_USERDATA_MAX];
};

struct dp_action {
    enum dp_action_type type;
    union {
        uint32_t port; /* DP_ACTION_OUTPUT. */
        struct {       /* DP_ACTION_SET. */
            enum dp_set_header header;
            union dp_set_fields value; /* Pre-masked. */
            union dp_set_fields mask;
        } set;
        struct { /* DP_ACTION_PUSH_VLAN. */
            be16 tpid;
            be16 tci; /* Without VLAN_CFI. */
        } push_vlan;
        struct dp_userdata userspace; /* DP_ACTION_USERSPACE. */
        uint32_t meter_id;            /* DP_ACTION_METER. */
        uint32_t recirc_id;           /* DP_ACTION_RECIRC, nonzero. */
        struct {                      /* DP_ACTION_PUSH_MPLS. */
            be32 lse;
            be16 ethertype; /* 0x8847 or 0x8848. */
        } push_mpls;
        be16 pop_mpls_ethertype; /* DP_ACTION_POP_MPLS: the new one. */
    };
};

/* An immutable action list. */
struct dp_actions {
    uint32_t refcnt; /* Atomic. */
    uint32_t n;
    struct dp_action a[];
};

/* Returns a new list holding a copy of 'a[0..n)', with one reference.
 * Short lists come from process-wide pools (lib/pool.h). */
struct dp_actions *dp_actions_create(const struct dp_action *a, size_t n);
/* Gives back to the system the slabs of those pools that have held no
 * list for 'idle_ms' milliseconds, or all empty ones if 'idle_ms' is 0.
 * Returns the bytes unmapped. */
size_t dp_actions_trim_memory(uint64_t idle_ms);
/* The empty list (drop), with one reference. */
struct dp_actions *dp_actions_create_drop(void);
/* Takes a reference and returns 'actions' (which may be NULL). */
struct dp_actions *dp_actions_ref(const struct dp_actions *actions);
/* Drops a reference; the last one frees.  NULL is a no-op. */
void dp_actions_unref(struct dp_actions *actions);
bool dp_actions_equal(const struct dp_actions *, const struct dp_actions *);

static inline bool
dp_actions_is_drop(const struct dp_actions *actions)
{
    return !actions->n;
}

/* ---- Building ----------------------------------------------------------- */

/* The first DP_ACTION_BUF_INLINE actions live in the buffer itself, so
 * that a translation (one to three actions, mostly) allocates nothing
 * until it freezes them.  A buffer points into itself: never copy one. */
#define DP_ACTION_BUF_INLINE 4
struct dp_action_buf {
    struct dp_action *a; /* 'inline_a' or the heap. */
    size_t n, allocated;
    struct dp_action inline_a[DP_ACTION_BUF_INLINE];
};

void dp_action_buf_init(struct dp_action_buf *);
void dp_action_buf_uninit(struct dp_action_buf *);
/* Appends a zeroed action of 'type' and returns it for the caller to fill
 * (valid until the next append). */
struct dp_action *dp_action_buf_put(struct dp_action_buf *,
                                    enum dp_action_type type);
void dp_action_put_output(struct dp_action_buf *, uint32_t port);
void dp_action_put_push_vlan(struct dp_action_buf *, be16 tpid, be16 tci);
void dp_action_put_pop_vlan(struct dp_action_buf *);
void dp_action_put_meter(struct dp_action_buf *, uint32_t meter_id);
void dp_action_put_recirc(struct dp_action_buf *, uint32_t recirc_id);
void dp_action_put_push_mpls(struct dp_action_buf *, be32 lse, be16 ethertype);
void dp_action_put_pop_mpls(struct dp_action_buf *, be16 ethertype);
void dp_action_put_userspace(struct dp_action_buf *, const void *data,
                             size_t len);
/* A set of 'header': 'value' and 'mask' point to the struct of that header
 * (struct dp_set_ipv4 for DP_SET_IPV4, ...); 'mask' NULL means all ones
 * on every field.  The value is stored masked. */
void dp_action_put_set(struct dp_action_buf *, enum dp_set_header header,
                       const void *value, const void *mask);
/* The list built so far, frozen (the buffer is left as it is). */
struct dp_actions *dp_action_buf_freeze(const struct dp_action_buf *);

/* ---- Execution ---------------------------------------------------------- */

/* Whether an action of 'type' only rewrites the packet (set, push or pop
 * of a VLAN tag or an MPLS entry): dp_action_apply() runs it; nothing
 * leaves, is metered or is looked up again. */
bool dp_action_type_rewrites(enum dp_action_type);

/* Runs one DP_ACTION_SET, _PUSH_VLAN or _POP_VLAN action on 'pkt', whose
 * layer offsets must be those packet_parse() found (they are kept up to
 * date).  Output and userspace actions belong to the datapath and are
 * ignored here.  Returns true if the packet changed. */
bool dp_action_apply(const struct dp_action *, struct dp_packet *pkt);

/* ---- Text (dp-actions-text.c) ------------------------------------------- */

/* Appends the text of 'actions' ("drop" when empty). */
void dp_actions_format(const struct dp_actions *, struct ds *);
void dp_action_format(const struct dp_action *, struct ds *);
/* Parses 's'.  Returns 0 and a new list in '*actionsp', or EINVAL with a
 * one-line message in '*errorp' (which the caller frees). */
int dp_actions_from_string(const char *s, struct dp_actions **actionsp,
                           char **errorp);

#endif /* datapath/dp-actions.h */
