/*
 * ofproto/xlate.c — translation (see xlate.h for the semantics).
 *
 * The translation context keeps three flows: 'flow', the packet as the
 * OpenFlow actions see it now; 'base', the packet as the datapath actions
 * emitted so far leave it; and 'written', the bits actions wrote, which
 * masks the set actions commit_changes() emits.  'wc' collects the
 * megaflow mask over the packet as it arrived.
 */
#include "ofproto/xlate.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "classifier/classifier.h"
#include "flow/actset.h"
#include "flow/field.h"
#include "flow/flow-text.h"
#include "flow/ofpact.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/hash.h"
#include "lib/pool.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "ofproto/group.h"
#include "ofproto/mac-learning.h"
#include "ofproto/ofproto-private.h"
#include "ofproto/ofproto.h"
#include "ofproto/recirc.h"

COVERAGE_DEFINE(xlate_actions);
COVERAGE_DEFINE(xlate_recursion_too_deep);
COVERAGE_DEFINE(xlate_too_many_resubmits);
COVERAGE_DEFINE(xlate_output_no_port);
COVERAGE_DEFINE(xlate_output_in_port_skipped);
COVERAGE_DEFINE(xlate_set_field_prereq_skip);
COVERAGE_DEFINE(xlate_rewrite_unsupported);
COVERAGE_DEFINE(xlate_invalid_ttl);
COVERAGE_DEFINE(xlate_table_miss);
COVERAGE_DEFINE(xlate_set_queue_no_qos);
COVERAGE_DEFINE(xlate_action_set_no_output);
COVERAGE_DEFINE(xlate_group_missing);
COVERAGE_DEFINE(xlate_group_no_live_bucket);
COVERAGE_DEFINE(xlate_group_liveness_budget);
COVERAGE_DEFINE(xlate_mpls_needs_recirc);
COVERAGE_DEFINE(xlate_recirc);
COVERAGE_DEFINE(xlate_recirc_missing);
COVERAGE_DEFINE(xlate_mpls_pop_inner_unknown);

/* ---- xlate cache -------------------------------------------------------- */

struct xc_mac {
    uint16_t vlan;
    struct eth_addr mac;
    uint32_t port;
};

/* One table lookup the translation made (OVS's XC_TABLE). */
struct xc_table {
    uint8_t table_id;
    bool matched;
};

/* A cache holds its first few rules, MAC entries and table lookups itself
 * (most translations hit one or two rules): filling it allocates nothing
 * more.
 * Caches come from one process-wide pool (lib/pool.h): a flow setup makes
 * one and the RCU callback that frees its ukey frees it, on another
 * thread. */
#define XC_INLINE_RULES 4
#define XC_INLINE_MACS 2
#define XC_INLINE_TABLES 4
#define XC_INLINE_GROUPS 2
#define XC_INLINE_RECIRCS 1

/* A group a translation went through, and the bucket it took (SIZE_MAX:
 * every bucket, for an all group). */
struct xc_group {
    struct ofgroup *group; /* Holds a reference. */
    size_t bucket;
};

struct xlate_cache {
    struct rule **rules; /* 'inline_rules' or the heap. */
    size_t n_rules, allocated_rules;
    struct xc_mac *macs; /* 'inline_macs' or the heap. */
    size_t n_macs, allocated_macs;
    struct mac_learning *ml; /* Of the MAC entries. */
    struct xc_table *tables; /* 'inline_tables' or the heap. */
    size_t n_tables, allocated_tables;
    struct ofproto *ofproto; /* Of the table lookups. */
    struct xc_group *groups; /* 'inline_groups' or the heap. */
    size_t n_groups, allocated_groups;
    struct rule *inline_rules[XC_INLINE_RULES];
    struct xc_mac inline_macs[XC_INLINE_MACS];
    struct xc_table inline_tables[XC_INLINE_TABLES];
    struct xc_group inline_groups[XC_INLINE_GROUPS];
    /* The recirc(N) ids the actions carry, a reference to each. */
    uint32_t *recircs;
    size_t n_recircs, allocated_recircs;
    uint32_t inline_recircs[XC_INLINE_RECIRCS];
};

static struct pool *xc_pool;
static pthread_once_t xc_pool_once = PTHREAD_ONCE_INIT;

static void
xlate_cache_pool_init(void)
{
    xc_pool = pool_create("xlate-cache", sizeof(struct xlate_cache), 0);
}

struct xlate_cache *
xlate_cache_new(void)
{
    struct xlate_cache *xc;

    pthread_once(&xc_pool_once, xlate_cache_pool_init);
    xc = pool_alloc(xc_pool);
    xc->rules = xc->inline_rules;
    xc->n_rules = 0;
    xc->allocated_rules = XC_INLINE_RULES;
    xc->macs = xc->inline_macs;
    xc->n_macs = 0;
    xc->allocated_macs = XC_INLINE_MACS;
    xc->ml = NULL;
    xc->tables = xc->inline_tables;
    xc->n_tables = 0;
    xc->allocated_tables = XC_INLINE_TABLES;
    xc->ofproto = NULL;
    xc->groups = xc->inline_groups;
    xc->n_groups = 0;
    xc->allocated_groups = XC_INLINE_GROUPS;
    xc->recircs = xc->inline_recircs;
    xc->n_recircs = 0;
    xc->allocated_recircs = XC_INLINE_RECIRCS;
    return xc;
}

size_t
xlate_cache_trim_memory(uint64_t idle_ms)
{
    pthread_once(&xc_pool_once, xlate_cache_pool_init);
    return pool_trim_idle(xc_pool, idle_ms);
}

void
xlate_cache_clear(struct xlate_cache *xc)
{
    for (size_t i = 0; i < xc->n_rules; i++) {
        ofproto_rule_unref(xc->rules[i]);
    }
    xc->n_rules = 0;
    xc->n_macs = 0;
    xc->n_tables = 0;
    for (size_t i = 0; i < xc->n_groups; i++) {
        ofgroup_unref(xc->groups[i].group);
    }
    xc->n_groups = 0;
    for (size_t i = 0; i < xc->n_recircs; i++) {
        recirc_state_unref(xc->recircs[i]);
    }
    xc->n_recircs = 0;
}

void
xlate_cache_delete(struct xlate_cache *xc)
{
    if (xc) {
        xlate_cache_clear(xc);
        if (xc->rules != xc->inline_rules) {
            free(xc->rules);
        }
        if (xc->macs != xc->inline_macs) {
            free(xc->macs);
        }
        if (xc->tables != xc->inline_tables) {
            free(xc->tables);
        }
        if (xc->groups != xc->inline_groups) {
            free(xc->groups);
        }
        if (xc->recircs != xc->inline_recircs) {
            free(xc->recircs);
        }
        pool_free(xc);
    }
}

static void
xlate_cache_add_rule(struct xlate_cache *xc, struct rule *rule)
{
    xc->rules = xgrow_inline(xc->rules, xc->inline_rules, &xc->allocated_rules,
                             xc->n_rules + 1, sizeof *xc->rules);
    ofproto_rule_ref(rule);
    xc->rules[xc->n_rules++] = rule;
}

static void
xlate_cache_add_group(struct xlate_cache *xc, struct ofgroup *group,
                      size_t bucket)
{
    xc->groups =
        xgrow_inline(xc->groups, xc->inline_groups, &xc->allocated_groups,
                     xc->n_groups + 1, sizeof *xc->groups);
    ofgroup_ref(group);
    xc->groups[xc->n_groups++] = (struct xc_group){group, bucket};
}

/* Takes over the caller's reference to 'id'. */
static void
xlate_cache_add_recirc(struct xlate_cache *xc, uint32_t id)
{
    xc->recircs =
        xgrow_inline(xc->recircs, xc->inline_recircs, &xc->allocated_recircs,
                     xc->n_recircs + 1, sizeof *xc->recircs);
    xc->recircs[xc->n_recircs++] = id;
}

static void
xlate_cache_add_mac(struct xlate_cache *xc, struct mac_learning *ml,
                    uint16_t vlan, struct eth_addr mac, uint32_t port)
{
    xc->macs = xgrow_inline(xc->macs, xc->inline_macs, &xc->allocated_macs,
                            xc->n_macs + 1, sizeof *xc->macs);
    xc->ml = ml;
    xc->macs[xc->n_macs++] = (struct xc_mac){vlan, mac, port};
}

static void
xlate_cache_add_table(struct xlate_cache *xc, struct ofproto *ofproto,
                      uint8_t table_id, bool matched)
{
    xc->tables =
        xgrow_inline(xc->tables, xc->inline_tables, &xc->allocated_tables,
                     xc->n_tables + 1, sizeof *xc->tables);
    xc->ofproto = ofproto;
    xc->tables[xc->n_tables++] = (struct xc_table){table_id, matched};
}

void
xlate_cache_push_stats(struct xlate_cache *xc, uint64_t packets,
                       uint64_t bytes, uint64_t used)
{
    if (!packets) {
        return;
    }
    for (size_t i = 0; i < xc->n_rules; i++) {
        ofproto_rule_credit_stats(xc->rules[i], packets, bytes, used);
    }
    for (size_t i = 0; i < xc->n_tables; i++) {
        const struct xc_table *t = &xc->tables[i];

        ofproto_table_credit(xc->ofproto, t->table_id, packets,
                             t->matched ? packets : 0);
    }
    for (size_t i = 0; i < xc->n_groups; i++) {
        ofgroup_credit(xc->groups[i].group, xc->groups[i].bucket, packets,
                       bytes);
    }
    for (size_t i = 0; i < xc->n_macs; i++) {
        const struct xc_mac *m = &xc->macs[i];
        uint32_t port;

        /* Refresh, but do not move an address that has moved since. */
        if (mac_learning_lookup(xc->ml, m->vlan, m->mac, used, &port)
            && port == m->port) {
            mac_learning_learn(xc->ml, m->vlan, m->mac, m->port, used);
        }
    }
}

size_t
xlate_cache_n_recircs(const struct xlate_cache *xc)
{
    return xc->n_recircs;
}

size_t
xlate_cache_n_rules(const struct xlate_cache *xc)
{
    return xc->n_rules;
}

size_t
xlate_cache_n_macs(const struct xlate_cache *xc)
{
    return xc->n_macs;
}

size_t
xlate_cache_n_tables(const struct xlate_cache *xc)
{
    return xc->n_tables;
}

size_t
xlate_cache_n_groups(const struct xlate_cache *xc)
{
    return xc->n_groups;
}

/* ---- Context ------------------------------------------------------------ */

struct xctx {
    const struct xlate_in *xin;
    struct ofproto *ofproto;

    struct flow flow; /* Current, as the actions see it. */
    struct flow base; /* As the emitted datapath actions leave it. */
    struct flow_wildcards written; /* Bits actions wrote. */
    struct flow_wildcards *wc;     /* Megaflow mask. */

    struct dp_action_buf odp;
    uint32_t slow;
    enum xlate_error error;

    uint64_t version; /* Tables version: one for the whole walk. */
    unsigned int depth;
    unsigned int n_resubmits;
    uint8_t table_id;
    struct rule *rule; /* Rule whose actions run, or NULL. */

    /* The action set (flow/actset.h): what write_actions wrote since the
     * last clear_actions; runs once the pipeline ends. */
    struct ofpacts action_set;
    bool in_action_set; /* Running it: a controller action's reason. */
    /* A pop_mpls exposed an L3 header, or the next MPLS entry, that the
     * datapath never parsed ('was_mpls'): before an action or table that
     * needs it translation freezes, as Open vSwitch does (recirc.h):
     * 'freezing' while it unwinds and collects into 'frozen' the actions
     * still to run, each rule's in a segment of its own table and cookie
     * (recirc.h), then it ends with recirc(N).  What a frozen state
     * cannot say (more than RECIRC_MAX_SEGMENTS rules) sets 'freeze_bad':
     * then, as for a pop of the bottom entry to an MPLS type, translation
     * stops ('stopped'). */
    bool was_mpls;
    bool pop_again; /* The pop_mpls just run must run again (recirc). */
    bool stopped;
    bool freezing;
    bool freeze_bad;
    struct ofpacts frozen;
    struct recirc_segment frozen_segs[RECIRC_MAX_SEGMENTS];
    size_t n_frozen_segs;
    /* Cookie of the frozen rule, while its continuation runs. */
    uint64_t resume_cookie;
};

const char *
xlate_error_to_string(enum xlate_error error)
{
    switch (error) {
    case XLATE_OK:
        return "OK";
    case XLATE_RECURSION_TOO_DEEP:
        return "Recursion too deep";
    case XLATE_TOO_MANY_RESUBMITS:
        return "Too many resubmits";
    case XLATE_RECIRC_MISSING:
        return "Recirculation id without a frozen state";
    }
    return "Unknown error";
}

static void xtrace(struct xctx *ctx, unsigned int indent, const char *fmt, ...)
    PRINTF_FORMAT(3, 4);

static void
xtrace(struct xctx *ctx, unsigned int indent, const char *fmt, ...)
{
    struct ds *t = ctx->xin->trace;
    va_list args;

    if (!t) {
        return;
    }
    for (unsigned int i = 0; i < indent; i++) {
        ds_put_cstr(t, "    ");
    }
    va_start(args, fmt);
    ds_put_format_valist(t, fmt, args);
    va_end(args);
    ds_put_char(t, '\n');
}

static void xlate_ofpacts(struct xctx *, const struct ofpacts *);
static void xlate_table(struct xctx *, uint8_t table_id, bool may_miss);
static void xlate_group(struct xctx *, uint32_t group_id, unsigned int indent);

/* ---- Masks -------------------------------------------------------------- */

static bool
field_is_packet_field(const struct field *f)
{
    return f->id != FIELD_METADATA && f->id != FIELD_IN_PORT
           && !(f->id >= FIELD_REG0 && f->id <= FIELD_REG7);
}

static bool
field_is_vlan_field(const struct field *f)
{
    return f->id == FIELD_VLAN_TCI || f->id == FIELD_DL_VLAN
           || f->id == FIELD_DL_VLAN_PCP || f->id == FIELD_VLAN_VID
           || f->id == FIELD_VLAN_PCP;
}

/* '*masks' |= 'mask' over the bits of field 'f'. */
static void
flow_or_field_bits(struct flow *masks, const struct field *f,
                   const union field_value *mask)
{
    union field_value cur;

    field_get_flow(f, masks, &cur);
    for (unsigned int i = 0; i < f->n_bytes; i++) {
        cur.b[i] |= mask->b[i];
    }
    field_set_flow(f, &cur, masks);
}

static void
wc_vlans_exact(struct xctx *ctx)
{
    for (int i = 0; i < FLOW_N_VLANS; i++) {
        ctx->wc->masks.vlans[i].tpid = 0xffff;
        ctx->wc->masks.vlans[i].tci = 0xffff;
    }
}

/* Marks the bits 'mask' of field 'f' as read (un-wildcarded). */
static void
xlate_read_field(struct xctx *ctx, const struct field *f,
                 const union field_value *mask)
{
    if (field_is_vlan_field(f)) {
        wc_vlans_exact(ctx);
    } else if (field_is_packet_field(f)) {
        flow_or_field_bits(&ctx->wc->masks, f, mask);
    }
}

/* Keeps the VLAN stack of 'flow' consistent after a write to a VLAN field:
 * a tag marked present gets a TPID, a tag marked absent is popped. */
static void
flow_fix_vlans(struct flow *flow)
{
    if (flow->vlans[0].tci & htons(VLAN_CFI)) {
        if (!flow->vlans[0].tpid) {
            flow->vlans[0].tpid = htons(ETH_TYPE_VLAN_8021Q);
        }
    } else if (flow->vlans[0].tpid || flow->vlans[0].tci) {
        flow->vlans[0] = flow->vlans[1];
        memset(&flow->vlans[1], 0, sizeof flow->vlans[1]);
    }
}

/* Writes 'value' under 'mask' into field 'f' of the working flow. */
static void
xlate_write_field(struct xctx *ctx, const struct field *f,
                  const union field_value *value,
                  const union field_value *mask)
{
    union field_value cur;

    xlate_read_field(ctx, f, mask);
    if (field_is_packet_field(f)) {
        flow_or_field_bits(&ctx->written.masks, f, mask);
    }
    field_get_flow(f, &ctx->flow, &cur);
    for (unsigned int i = 0; i < f->n_bytes; i++) {
        cur.b[i] =
            (uint8_t)((cur.b[i] & ~mask->b[i]) | (value->b[i] & mask->b[i]));
    }
    field_set_flow(f, &cur, &ctx->flow);
    if (field_is_vlan_field(f)) {
        flow_fix_vlans(&ctx->flow);
    }
}

/* Run-time prerequisite check for an action on a field: un-wildcards what
 * the answer depends on. */
static bool
xlate_prereq_ok(struct xctx *ctx, enum field_prereq prereq)
{
    struct flow *wcm = &ctx->wc->masks;
    struct match exact;

    if (prereq == FIELD_PREREQ_NONE) {
        return true;
    }
    if (prereq == FIELD_PREREQ_VLAN) {
        wc_vlans_exact(ctx);
    } else {
        wcm->dl_type = 0xffff;
        if (flow_is_ip(&ctx->flow) && prereq >= FIELD_PREREQ_TCP) {
            wcm->nw_proto = 0xff;
            if (prereq == FIELD_PREREQ_ND || prereq == FIELD_PREREQ_ND_SOLICIT
                || prereq == FIELD_PREREQ_ND_ADVERT) {
                wcm->tp_src = 0xffff;
                wcm->tp_dst = 0xffff;
            }
        }
    }
    match_init_exact(&exact, &ctx->flow);
    return field_prereq_satisfied(prereq, &exact);
}

/* ---- Commit ------------------------------------------------------------- */

/* If the working flow's bytes 'flow[0..n)' differ from what the datapath
 * has so far ('base'), copies them to 'value' and sets 'mask' to the bits
 * actions wrote or that changed.  Returns true if there was a change. */
static bool
commit_bytes(const void *base_, const void *flow_, const void *written_,
             void *value, void *mask_, size_t n)
{
    const uint8_t *base = base_;
    const uint8_t *flow = flow_;
    const uint8_t *written = written_;
    uint8_t *mask = mask_;

    if (!memcmp(base, flow, n)) {
        return false;
    }
    memcpy(value, flow, n);
    for (size_t i = 0; i < n; i++) {
        mask[i] = (uint8_t)(written[i] | (base[i] ^ flow[i]));
    }
    return true;
}

/* One field of a datapath set action: where it is in struct flow and in
 * the header's struct dp_set_*, and its size (the same in both). */
struct commit_field {
    size_t flow_ofs;
    size_t set_ofs;
    size_t n;
};

/* The struct with a _Static_assert in it only makes the compiler check
 * that the two members have the same size; it adds 0. */
#define COMMIT_FIELD(SET, MEMBER, SRC)                                        \
    {                                                                         \
        offsetof(struct flow, SRC), offsetof(SET, MEMBER),                    \
            sizeof(((SET *)NULL)->MEMBER)                                     \
                + 0 * sizeof(struct {                                         \
                      BUILD_ASSERT(sizeof(((SET *)NULL)->MEMBER)              \
                                   == sizeof(((struct flow *)NULL)->SRC));    \
                      char c;                                                 \
                  })                                                          \
    }

static const struct commit_field commit_eth_fields[] = {
    COMMIT_FIELD(struct dp_set_eth, src, dl_src),
    COMMIT_FIELD(struct dp_set_eth, dst, dl_dst),
};
static const struct commit_field commit_ipv4_fields[] = {
    COMMIT_FIELD(struct dp_set_ipv4, src, nw_src),
    COMMIT_FIELD(struct dp_set_ipv4, dst, nw_dst),
    COMMIT_FIELD(struct dp_set_ipv4, tos, nw_tos),
    COMMIT_FIELD(struct dp_set_ipv4, ttl, nw_ttl),
};
static const struct commit_field commit_ipv6_fields[] = {
    COMMIT_FIELD(struct dp_set_ipv6, src, ipv6_src),
    COMMIT_FIELD(struct dp_set_ipv6, dst, ipv6_dst),
    COMMIT_FIELD(struct dp_set_ipv6, label, ipv6_label),
    COMMIT_FIELD(struct dp_set_ipv6, tclass, nw_tos),
    COMMIT_FIELD(struct dp_set_ipv6, hlimit, nw_ttl),
};
static const struct commit_field commit_arp_fields[] = {
    COMMIT_FIELD(struct dp_set_arp, sip, nw_src),
    COMMIT_FIELD(struct dp_set_arp, tip, nw_dst),
    COMMIT_FIELD(struct dp_set_arp, sha, arp_sha),
    COMMIT_FIELD(struct dp_set_arp, tha, arp_tha),
};
static const struct commit_field commit_nd_fields[] = {
    COMMIT_FIELD(struct dp_set_nd, target, nd_target),
    COMMIT_FIELD(struct dp_set_nd, sll, arp_sha),
    COMMIT_FIELD(struct dp_set_nd, tll, arp_tha),
};
static const struct commit_field commit_mpls_fields[] = {
    COMMIT_FIELD(struct dp_set_mpls, lse, mpls_lse),
};
static const struct commit_field commit_l4_fields[] = {
    COMMIT_FIELD(struct dp_set_l4, src, tp_src),
    COMMIT_FIELD(struct dp_set_l4, dst, tp_dst),
};

/* Zeroes 'v' and 'm' and commits into them each of 'fields[0..n)' (see
 * commit_bytes()).  Returns true if any of them changed. */
static bool
commit_fields(const struct xctx *ctx, const struct commit_field fields[],
              size_t n, union dp_set_fields *v, union dp_set_fields *m)
{
    const uint8_t *base = (const uint8_t *)&ctx->base;
    const uint8_t *flow = (const uint8_t *)&ctx->flow;
    const uint8_t *written = (const uint8_t *)&ctx->written.masks;
    bool any = false;

    memset(v, 0, sizeof *v);
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        const struct commit_field *f = &fields[i];

        any |= commit_bytes(base + f->flow_ofs, flow + f->flow_ofs,
                            written + f->flow_ofs, (uint8_t *)v + f->set_ofs,
                            (uint8_t *)m + f->set_ofs, f->n);
    }
    return any;
}

/* Commits 'fields[0..n)' of header 'h' and emits its set action if any of
 * them changed; returns whether it did. */
static bool
commit_header(struct xctx *ctx, enum dp_set_header h,
              const struct commit_field fields[], size_t n)
{
    union dp_set_fields v, m;

    if (!commit_fields(ctx, fields, n, &v, &m)) {
        return false;
    }
    dp_action_put_set(&ctx->odp, h, &v, &m);
    return true;
}

static bool
vlan_equal(const struct flow_vlan *a, const struct flow_vlan *b)
{
    return a->tpid == b->tpid && a->tci == b->tci;
}

static void
commit_vlans(struct xctx *ctx)
{
    const struct flow *b = &ctx->base, *f = &ctx->flow;
    unsigned int nb = flow_n_vlans(b), nf = flow_n_vlans(f);
    unsigned int k;

    if (nb == nf && nb > 0 && b->vlans[0].tpid == f->vlans[0].tpid
        && (nb < 2 || vlan_equal(&b->vlans[1], &f->vlans[1]))) {
        if (b->vlans[0].tci != f->vlans[0].tci) {
            struct dp_set_vlan v, m;
            uint16_t bits = VLAN_VID_MASK | VLAN_PCP_MASK;

            v.tci = f->vlans[0].tci & htons(bits);
            m.tci = (ctx->written.masks.vlans[0].tci
                     | (b->vlans[0].tci ^ f->vlans[0].tci))
                    & htons(bits);
            dp_action_put_set(&ctx->odp, DP_SET_VLAN, &v, &m);
        }
        return;
    }
    /* Keep the longest common bottom of the two stacks. */
    for (k = MIN(nb, nf); k > 0; k--) {
        bool same = true;

        for (unsigned int i = 0; i < k; i++) {
            if (!vlan_equal(&b->vlans[nb - k + i], &f->vlans[nf - k + i])) {
                same = false;
                break;
            }
        }
        if (same) {
            break;
        }
    }
    for (unsigned int i = 0; i < nb - k; i++) {
        dp_action_put_pop_vlan(&ctx->odp);
    }
    for (unsigned int i = nf - k; i-- > 0;) {
        dp_action_put_push_vlan(&ctx->odp, f->vlans[i].tpid,
                                f->vlans[i].tci & ~htons(VLAN_CFI));
    }
}

static void
commit_arp(struct xctx *ctx)
{
    union dp_set_fields v, m;
    bool any = commit_fields(ctx, commit_arp_fields,
                             ARRAY_SIZE(commit_arp_fields), &v, &m);

    /* The flow holds the low 8 bits of the opcode (a larger one does not
     * parse), so a rewrite writes the whole 16-bit field. */
    if (ctx->base.nw_proto != ctx->flow.nw_proto
        || ctx->written.masks.nw_proto) {
        v.arp.op = htons(ctx->flow.nw_proto);
        m.arp.op = UINT16_MAX;
        any = any || ctx->base.nw_proto != ctx->flow.nw_proto;
    }
    if (any) {
        ctx->wc->masks.dl_type = 0xffff;
        dp_action_put_set(&ctx->odp, DP_SET_ARP, &v, &m);
    }
}

/* ND fields exist only in a solicitation or advertisement, as the packet
 * is at this point ('base'; an ICMPv6 type rewrite commits after this). */
static bool
commit_nd(struct xctx *ctx)
{
    if (ctx->base.tp_dst != htons(0)
        || (ctx->base.tp_src != htons(ND_NEIGHBOR_SOLICIT)
            && ctx->base.tp_src != htons(ND_NEIGHBOR_ADVERT))) {
        return false;
    }
    if (!commit_header(ctx, DP_SET_ND, commit_nd_fields,
                       ARRAY_SIZE(commit_nd_fields))) {
        return false;
    }
    ctx->wc->masks.tp_src = htons(UINT8_MAX);
    ctx->wc->masks.tp_dst = htons(UINT8_MAX);
    return true;
}

/* Type and code of ICMP or ICMPv6, kept by the flow in tp_src/tp_dst. */
static bool
commit_icmp(struct xctx *ctx, enum dp_set_header h)
{
    struct dp_set_icmp v, m;
    uint8_t base_type = (uint8_t)ntohs(ctx->base.tp_src);
    uint8_t base_code = (uint8_t)ntohs(ctx->base.tp_dst);
    uint8_t type = (uint8_t)ntohs(ctx->flow.tp_src);
    uint8_t code = (uint8_t)ntohs(ctx->flow.tp_dst);

    if (base_type == type && base_code == code) {
        return false;
    }
    v.type = type;
    v.code = code;
    m.type = (uint8_t)(ntohs(ctx->written.masks.tp_src) | (base_type ^ type));
    m.code = (uint8_t)(ntohs(ctx->written.masks.tp_dst) | (base_code ^ code));
    dp_action_put_set(&ctx->odp, h, &v, &m);
    return true;
}

/* Ports of TCP, UDP or SCTP. */
static bool
commit_ports(struct xctx *ctx, enum dp_set_header h)
{
    return commit_header(ctx, h, commit_l4_fields,
                         ARRAY_SIZE(commit_l4_fields));
}

/* L4 headers: ports of TCP, UDP and SCTP; ND fields, ICMP type and code.
 * None exists in a later fragment. */
static void
commit_l4(struct xctx *ctx)
{
    bool any;

    if (!flow_is_ip(&ctx->flow) || (ctx->flow.nw_frag & FLOW_NW_FRAG_LATER)) {
        return;
    }
    switch (ctx->flow.nw_proto) {
    case IPPROTO_TCP:
        any = commit_ports(ctx, DP_SET_TCP);
        break;
    case IPPROTO_UDP:
        any = commit_ports(ctx, DP_SET_UDP);
        break;
    case IPPROTO_SCTP:
        any = commit_ports(ctx, DP_SET_SCTP);
        break;
    case IPPROTO_ICMP:
        any = ctx->flow.dl_type == htons(ETH_TYPE_IP)
              && commit_icmp(ctx, DP_SET_ICMP);
        break;
    case IPPROTO_ICMPV6:
        any = ctx->flow.dl_type == htons(ETH_TYPE_IPV6) && commit_nd(ctx);
        any |= ctx->flow.dl_type == htons(ETH_TYPE_IPV6)
               && commit_icmp(ctx, DP_SET_ICMPV6);
        break;
    default:
        return;
    }
    if (any) {
        ctx->wc->masks.dl_type = 0xffff;
        ctx->wc->masks.nw_proto = 0xff;
        ctx->wc->masks.nw_frag |= FLOW_NW_FRAG_LATER;
    }
}

static void
commit_l2_l3_l4(struct xctx *ctx)
{
    bool l3 = false;

    commit_header(ctx, DP_SET_ETH, commit_eth_fields,
                  ARRAY_SIZE(commit_eth_fields));
    if (ctx->flow.dl_type == htons(ETH_TYPE_IP)) {
        l3 = commit_header(ctx, DP_SET_IPV4, commit_ipv4_fields,
                           ARRAY_SIZE(commit_ipv4_fields));
    } else if (ctx->flow.dl_type == htons(ETH_TYPE_IPV6)) {
        l3 = commit_header(ctx, DP_SET_IPV6, commit_ipv6_fields,
                           ARRAY_SIZE(commit_ipv6_fields));
    } else if (ctx->flow.dl_type == htons(ETH_TYPE_ARP)
               || ctx->flow.dl_type == htons(ETH_TYPE_RARP)) {
        commit_arp(ctx);
    } else if (eth_type_is_mpls(ctx->flow.dl_type)) {
        l3 = commit_header(ctx, DP_SET_MPLS, commit_mpls_fields,
                           ARRAY_SIZE(commit_mpls_fields));
    }
    if (l3) {
        ctx->wc->masks.dl_type = 0xffff;
    }
    commit_l4(ctx);
}

/* Emits what it takes to turn the packet into 'ctx->flow'. */
static void
commit_changes(struct xctx *ctx)
{
    if (flow_equal(&ctx->base, &ctx->flow)) {
        return;
    }
    commit_vlans(ctx);
    commit_l2_l3_l4(ctx);

    /* Every field the flow language can write has a set action above; a
     * difference left over (an L4 field of a later fragment, say) cannot
     * reach the packet: count it. */
    struct flow a = ctx->base, b = ctx->flow;
    a.metadata = b.metadata = 0;
    memset(a.regs, 0, sizeof a.regs);
    memset(b.regs, 0, sizeof b.regs);
    a.in_port = b.in_port = 0;
    a.tunnel_id = b.tunnel_id; /* Metadata: no tunnel port to carry it. */
    if (eth_type_is_mpls(b.dl_type)) {
        a.mpls_lse = b.mpls_lse;
    }
    memcpy(a.vlans, b.vlans, sizeof a.vlans);
    a.dl_src = b.dl_src;
    a.dl_dst = b.dl_dst;
    if (flow_is_ip(&b)) {
        a.nw_src = b.nw_src;
        a.nw_dst = b.nw_dst;
        a.ipv6_src = b.ipv6_src;
        a.ipv6_dst = b.ipv6_dst;
        a.ipv6_label = b.ipv6_label;
        a.nw_tos = b.nw_tos;
        a.nw_ttl = b.nw_ttl;
        if (!(b.nw_frag & FLOW_NW_FRAG_LATER)) {
            a.tp_src = b.tp_src;
            a.tp_dst = b.tp_dst;
            a.nd_target = b.nd_target;
            a.arp_sha = b.arp_sha;
            a.arp_tha = b.arp_tha;
        }
    } else if (b.dl_type == htons(ETH_TYPE_ARP)
               || b.dl_type == htons(ETH_TYPE_RARP)) {
        a.nw_src = b.nw_src;
        a.nw_dst = b.nw_dst;
        a.nw_proto = b.nw_proto;
        a.arp_sha = b.arp_sha;
        a.arp_tha = b.arp_tha;
    }
    if (!flow_equal(&a, &b)) {
        COVERAGE_INC(xlate_rewrite_unsupported);
    }
    ctx->base = ctx->flow;
}

/* ---- Outputs ------------------------------------------------------------ */

static void
xlate_controller(struct xctx *ctx, enum ofpact_controller_reason reason,
                 uint16_t max_len, uint16_t controller_id)
{
    struct xlate_userdata ud;

    commit_changes(ctx);
    memset(&ud, 0, sizeof ud);
    ud.type = XLATE_USERDATA_CONTROLLER;
    ud.reason = (uint8_t)reason;
    ud.max_len = htons(max_len);
    ud.controller_id = htons(controller_id);
    ud.table_id = ctx->table_id;
    ud.rule_cookie =
        htobe64(ctx->rule ? ctx->rule->cookie : ctx->resume_cookie);
    dp_action_put_userspace(&ctx->odp, &ud, sizeof ud);
    ctx->slow |= XLATE_SLOW_CONTROLLER;
}

static void
output_to_port(struct xctx *ctx, uint32_t ofp_port, bool allow_in_port,
               unsigned int indent)
{
    const struct ofport *port;

    if (ofp_port == ctx->flow.in_port && !allow_in_port) {
        COVERAGE_INC(xlate_output_in_port_skipped);
        xtrace(ctx, indent, " >> skipping output to input port");
        return;
    }
    port = ofproto_port_find(ctx->ofproto, ofp_port);
    if (!port) {
        COVERAGE_INC(xlate_output_no_port);
        xtrace(ctx, indent, " >> nonexistent output port %u", ofp_port);
        return;
    }
    commit_changes(ctx);
    dp_action_put_output(&ctx->odp, port->dp_port);
}

static void
xlate_flood(struct xctx *ctx, unsigned int indent)
{
    const struct ofport_set *ports = ofproto_ports(ctx->ofproto);

    for (size_t i = 0; i < ports->n; i++) {
        if (ports->ports[i].ofp_port != ctx->flow.in_port) {
            output_to_port(ctx, ports->ports[i].ofp_port, false, indent);
        }
    }
}

static uint16_t
flow_vid(const struct flow *flow)
{
    return flow->vlans[0].tci & htons(VLAN_CFI)
               ? ntohs(flow->vlans[0].tci) & VLAN_VID_MASK
               : 0;
}

static void
xlate_normal(struct xctx *ctx, unsigned int indent)
{
    struct mac_learning *ml = ctx->ofproto->ml;
    struct flow_wildcards *wc = ctx->wc;
    const struct flow *flow = &ctx->flow;
    uint16_t vlan = flow_vid(flow);
    uint32_t port;

    wc->masks.in_port = UINT32_MAX;
    wc->masks.dl_src = ETH_ADDR_BROADCAST;
    wc->masks.dl_dst = ETH_ADDR_BROADCAST;
    wc->masks.vlans[0].tci |= htons(VLAN_VID_MASK | VLAN_CFI);

    if (ctx->xin->may_learn && !eth_addr_is_multicast(flow->dl_src)) {
        mac_learning_learn(ml, vlan, flow->dl_src, flow->in_port,
                           ctx->xin->now);
        if (ctx->xin->xcache) {
            xlate_cache_add_mac(ctx->xin->xcache, ml, vlan, flow->dl_src,
                                flow->in_port);
        }
    }
    if (eth_addr_is_multicast(flow->dl_dst)) {
        xtrace(ctx, indent,
               " -> multicast or broadcast destination, "
               "flooding");
        xlate_flood(ctx, indent);
    } else if (mac_learning_lookup(ml, vlan, flow->dl_dst, ctx->xin->now,
                                   &port)) {
        if (port == flow->in_port) {
            xtrace(ctx, indent, " -> learned port is input port, dropping");
        } else {
            xtrace(ctx, indent, " -> forwarding to learned port");
            output_to_port(ctx, port, false, indent);
        }
    } else {
        xtrace(ctx, indent, " -> no learned MAC for destination, flooding");
        xlate_flood(ctx, indent);
    }
}

static void
xlate_output(struct xctx *ctx, uint32_t port, unsigned int indent)
{
    switch (port) {
    case OFPP_IN_PORT:
        output_to_port(ctx, ctx->flow.in_port, true, indent);
        break;
    case OFPP_NORMAL:
        xlate_normal(ctx, indent);
        break;
    case OFPP_FLOOD:
    case OFPP_ALL:
        xlate_flood(ctx, indent);
        break;
    case OFPP_CONTROLLER:
        xlate_controller(ctx, OFPACT_REASON_ACTION, OFPACT_CONTROLLER_MAX_LEN,
                         0);
        break;
    case OFPP_TABLE:
        if (ctx->xin->ofpacts && !ctx->depth) {
            xlate_table(ctx, 0, true); /* Packet-out: the pipeline. */
            break;
        }
        /* fall through */
    case OFPP_NONE:
        xtrace(ctx, indent, " >> output to %s ignored",
               port == OFPP_TABLE ? "TABLE" : "NONE");
        break;
    default:
        output_to_port(ctx, port, false, indent);
        break;
    }
}

/* ---- Actions ------------------------------------------------------------ */

static void
xlate_push_vlan(struct xctx *ctx, be16 tpid, be16 tci)
{
    ctx->flow.vlans[1] = ctx->flow.vlans[0];
    ctx->flow.vlans[0].tpid = tpid;
    ctx->flow.vlans[0].tci = tci | htons(VLAN_CFI);
}

static void
xlate_set_vlan_bits(struct xctx *ctx, uint16_t bits, uint16_t value)
{
    wc_vlans_exact(ctx);
    if (!(ctx->flow.vlans[0].tci & htons(VLAN_CFI))) {
        /* As OVS: mod_vlan_vid/pcp on an untagged packet push a tag. */
        xlate_push_vlan(ctx, htons(ETH_TYPE_VLAN_8021Q), htons(value));
    } else {
        ctx->flow.vlans[0].tci =
            (ctx->flow.vlans[0].tci & ~htons(bits)) | htons(value);
    }
    ctx->written.masks.vlans[0].tci |= htons(bits);
}

#define XLATE_WRITE(MEMBER, VALUE)                                            \
    do {                                                                      \
        memset(&ctx->wc->masks.MEMBER, 0xff, sizeof ctx->wc->masks.MEMBER);   \
        memset(&ctx->written.masks.MEMBER, 0xff,                              \
               sizeof ctx->written.masks.MEMBER);                             \
        ctx->flow.MEMBER = (VALUE);                                           \
    } while (0)

/* Returns false if the rest of the action list must be skipped. */
static bool
xlate_dec_ttl(struct xctx *ctx, unsigned int indent)
{
    if (!flow_is_ip(&ctx->flow)) {
        ctx->wc->masks.dl_type = 0xffff;
        return true;
    }
    ctx->wc->masks.dl_type = 0xffff;
    ctx->wc->masks.nw_ttl = 0xff;
    if (ctx->flow.nw_ttl <= 1) {
        COVERAGE_INC(xlate_invalid_ttl);
        xtrace(ctx, indent, " >> TTL %u: sending to controller (invalid_ttl)",
               ctx->flow.nw_ttl);
        xlate_controller(ctx, OFPACT_REASON_INVALID_TTL,
                         OFPACT_CONTROLLER_MAX_LEN, 0);
        return false;
    }
    ctx->written.masks.nw_ttl = 0xff;
    ctx->flow.nw_ttl--;
    return true;
}

static void
xlate_resubmit(struct xctx *ctx, const struct ofpact *a)
{
    uint32_t saved_in_port = ctx->flow.in_port;
    uint8_t table = a->resubmit.table_id == OFPACT_TABLE_NONE
                        ? ctx->table_id
                        : a->resubmit.table_id;

    if (++ctx->n_resubmits > XLATE_MAX_RESUBMITS) {
        COVERAGE_INC(xlate_too_many_resubmits);
        ctx->error = XLATE_TOO_MANY_RESUBMITS;
        return;
    }
    if (a->resubmit.in_port != OFPP_IN_PORT) {
        ctx->flow.in_port = a->resubmit.in_port;
    }
    xlate_table(ctx, table, false);
    /* A freeze below resumes with the packet's in_port (recirc.h). */
    ctx->flow.in_port = saved_in_port;
}

static void
xlate_strip_vlan(struct xctx *ctx)
{
    wc_vlans_exact(ctx);
    if (ctx->flow.vlans[0].tci & htons(VLAN_CFI)) {
        ctx->flow.vlans[0] = ctx->flow.vlans[1];
        memset(&ctx->flow.vlans[1], 0, sizeof ctx->flow.vlans[1]);
    }
}

static void
xlate_push_vlan_action(struct xctx *ctx, be16 tpid)
{
    wc_vlans_exact(ctx);
    /* The new tag copies VID and PCP of the outer one, if any. */
    xlate_push_vlan(ctx, tpid, ctx->flow.vlans[0].tci & ~htons(VLAN_CFI));
}

static void
xlate_set_ipv4(struct xctx *ctx, const struct ofpact *a)
{
    ctx->wc->masks.dl_type = 0xffff;
    if (ctx->flow.dl_type != htons(ETH_TYPE_IP)) {
        return;
    }
    if (a->type == OFPACT_SET_IPV4_SRC) {
        XLATE_WRITE(nw_src, a->ipv4);
    } else {
        XLATE_WRITE(nw_dst, a->ipv4);
    }
}

static void
xlate_set_ip_dscp(struct xctx *ctx, uint8_t tos)
{
    ctx->wc->masks.dl_type = 0xffff;
    if (flow_is_ip(&ctx->flow)) {
        ctx->wc->masks.nw_tos |= 0xfc;
        ctx->written.masks.nw_tos |= 0xfc;
        ctx->flow.nw_tos = (uint8_t)((ctx->flow.nw_tos & 0x03) | (tos & 0xfc));
    }
}

static void
xlate_set_l4_port(struct xctx *ctx, const struct ofpact *a)
{
    if (!xlate_prereq_ok(ctx, FIELD_PREREQ_L4)) {
        return;
    }
    if (a->type == OFPACT_SET_L4_SRC) {
        XLATE_WRITE(tp_src, htons(a->l4_port));
    } else {
        XLATE_WRITE(tp_dst, htons(a->l4_port));
    }
}

static void
xlate_set_field(struct xctx *ctx, const struct ofpact *a, unsigned int indent)
{
    if (!xlate_prereq_ok(ctx, a->set_field.field->prereq)) {
        COVERAGE_INC(xlate_set_field_prereq_skip);
        xtrace(ctx, indent, " >> prerequisites of %s not met, skipping",
               a->set_field.field->name);
        return;
    }
    xlate_write_field(ctx, a->set_field.field, &a->set_field.value,
                      &a->set_field.mask);
}

static void
xlate_load(struct xctx *ctx, const struct ofpact *a)
{
    union field_value value, mask;

    if (!xlate_prereq_ok(ctx, a->load.dst.field->prereq)) {
        COVERAGE_INC(xlate_set_field_prereq_skip);
        return;
    }
    ofpact_load_to_field(a, &value, &mask);
    xlate_write_field(ctx, a->load.dst.field, &value, &mask);
}

static void
xlate_move(struct xctx *ctx, const struct ofpact *a)
{
    const struct field_subfield *src = &a->move.src;
    const struct field_subfield *dst = &a->move.dst;
    union field_value sv, smask, dv, dmask;

    if (!xlate_prereq_ok(ctx, src->field->prereq)
        || !xlate_prereq_ok(ctx, dst->field->prereq)) {
        COVERAGE_INC(xlate_set_field_prereq_skip);
        return;
    }
    memset(&smask, 0, sizeof smask);
    memset(&dv, 0, sizeof dv);
    memset(&dmask, 0, sizeof dmask);
    for (unsigned int b = 0; b < src->n_bits; b++) {
        field_bit_set(smask.b, src->field->n_bytes, src->ofs + b, true);
        field_bit_set(dmask.b, dst->field->n_bytes, dst->ofs + b, true);
    }
    xlate_read_field(ctx, src->field, &smask);
    field_get_flow(src->field, &ctx->flow, &sv);
    field_bits_copy(sv.b, src->field->n_bytes, src->ofs, dv.b,
                    dst->field->n_bytes, dst->ofs, src->n_bits);
    xlate_write_field(ctx, dst->field, &dv, &dmask);
}

static void
xlate_write_metadata(struct xctx *ctx, const struct ofpact *a)
{
    ctx->flow.metadata = (ctx->flow.metadata & ~a->metadata.mask)
                         | (a->metadata.value & a->metadata.mask);
}

/* ---- MPLS --------------------------------------------------------------- */

/* The label stack entry push_mpls puts on a packet that has none, as Open
 * vSwitch builds it: the IPv4 or IPv6 explicit-null label (0 or 2), the
 * low 3 bits of the DSCP as traffic class and the IP TTL, or label 0, TC 0
 * and TTL 64 for anything else. */
static be32
xlate_new_lse(struct xctx *ctx)
{
    const struct flow *f = &ctx->flow;
    uint32_t label = 0, tc = 0, ttl = 64;

    if (flow_is_ip(f)) {
        ctx->wc->masks.nw_tos |= IP_DSCP_MASK;
        ctx->wc->masks.nw_ttl = 0xff;
        label = f->dl_type == htons(ETH_TYPE_IPV6) ? 2 : 0;
        tc = (uint32_t)(f->nw_tos >> 2) & 7;
        ttl = f->nw_ttl;
    }
    return htonl((label << MPLS_LABEL_SHIFT) | (tc << MPLS_TC_SHIFT)
                 | MPLS_BOS_MASK | ttl);
}

/* Changes the working flow's ethertype and MPLS entry as a push or pop
 * leaves the packet, after the datapath actions caught up with it, so
 * that 'base' follows.  What lay beyond L2 is now unknown. */
static void
xlate_mpls_reshape(struct xctx *ctx, be16 dl_type, be32 lse)
{
    struct flow *f = &ctx->flow;
    size_t l3 = offsetof(struct flow, nw_src);

    f->dl_type = dl_type;
    f->mpls_lse = lse;
    memset((char *)f + l3, 0, sizeof *f - l3);
    memset((char *)&ctx->written.masks + l3, 0, sizeof *f - l3);
    ctx->written.masks.mpls_lse = 0;
    ctx->base = *f;
}

static void
xlate_push_mpls(struct xctx *ctx, be16 ethertype)
{
    be32 lse;

    ctx->wc->masks.dl_type = 0xffff;
    if (eth_type_is_mpls(ctx->flow.dl_type)) {
        /* The new entry copies the outer one, not at the bottom. */
        ctx->wc->masks.mpls_lse = htonl(UINT32_MAX);
        lse = ctx->flow.mpls_lse & ~htonl(MPLS_BOS_MASK);
    } else {
        lse = xlate_new_lse(ctx);
    }
    commit_changes(ctx);
    dp_action_put_push_mpls(&ctx->odp, lse, ethertype);
    xlate_mpls_reshape(ctx, ethertype, lse);
}

/* Ends the whole translation where no recirculation can go on (a pop
 * that leaves an MPLS entry the flow does not know, a frozen state that
 * cannot say how to resume).  Returns false. */
static bool
xlate_mpls_stop(struct xctx *ctx, unsigned int indent, const char *why)
{
    xtrace(ctx, indent, " >> %s: stopping", why);
    ctx->stopped = true;
    return false;
}

/* Pops the outer entry.  The flow knows one entry: what the pop exposes
 * (an IP header, or the next entry of a deeper stack) is unknown until
 * the datapath parses the packet again, so 'was_mpls' makes whatever
 * reads it recirculate first (xlate_mpls_needs_recirc()).  Open vSwitch,
 * whose flow keeps three entries, goes on with the next one where
 * flowswitch recirculates: the same packets out, one megaflow more before
 * the recirculation.  A pop to a non-MPLS type from above the bottom pops
 * the whole stack in Open vSwitch (its commit pops until the flow's type
 * is reached): here it pops one entry and runs again after the
 * recirculation ('pop_again'), until the bottom one goes.  Popping the
 * bottom entry to an MPLS type leaves no entry at all: translation stops.
 * Returns false if it must stop. */
static bool
xlate_pop_mpls(struct xctx *ctx, be16 ethertype, unsigned int indent)
{
    bool bos;

    ctx->wc->masks.dl_type = 0xffff;
    if (!eth_type_is_mpls(ctx->flow.dl_type)) {
        return true;
    }
    ctx->wc->masks.mpls_lse |= htonl(MPLS_BOS_MASK);
    bos = (ctx->flow.mpls_lse & htonl(MPLS_BOS_MASK)) != 0;
    if (bos && eth_type_is_mpls(ethertype)) {
        COVERAGE_INC(xlate_mpls_pop_inner_unknown);
        return xlate_mpls_stop(ctx, indent,
                               "pop_mpls of the bottom entry to an MPLS "
                               "type leaves no entry");
    }
    commit_changes(ctx);
    if (!bos && !eth_type_is_mpls(ethertype)) {
        xtrace(ctx, indent,
               " >> not the bottom entry: pops it and pops again after "
               "recirculating, as Open vSwitch pops the whole stack");
        ethertype = ctx->flow.dl_type;
        ctx->pop_again = true;
    }
    dp_action_put_pop_mpls(&ctx->odp, ethertype);
    xlate_mpls_reshape(ctx, ethertype, 0);
    ctx->was_mpls = true;
    return true;
}

/* set_mpls_label, set_mpls_tc, set_mpls_ttl: 'bits' of the entry. */
static void
xlate_set_mpls_bits(struct xctx *ctx, uint32_t bits, uint32_t value)
{
    ctx->wc->masks.dl_type = 0xffff;
    if (!eth_type_is_mpls(ctx->flow.dl_type)) {
        return;
    }
    ctx->wc->masks.mpls_lse |= htonl(bits);
    ctx->written.masks.mpls_lse |= htonl(bits);
    ctx->flow.mpls_lse =
        (ctx->flow.mpls_lse & ~htonl(bits)) | htonl(value & bits);
}

/* Returns false if the rest of the action list must be skipped. */
static bool
xlate_dec_mpls_ttl(struct xctx *ctx, unsigned int indent)
{
    uint32_t lse = ntohl(ctx->flow.mpls_lse);

    ctx->wc->masks.dl_type = 0xffff;
    if (!eth_type_is_mpls(ctx->flow.dl_type)) {
        return true;
    }
    ctx->wc->masks.mpls_lse |= htonl(MPLS_TTL_MASK);
    if ((lse & MPLS_TTL_MASK) <= 1) {
        COVERAGE_INC(xlate_invalid_ttl);
        xtrace(ctx, indent,
               " >> MPLS TTL %u: sending to controller "
               "(invalid_ttl)",
               lse & MPLS_TTL_MASK);
        xlate_controller(ctx, OFPACT_REASON_INVALID_TTL,
                         OFPACT_CONTROLLER_MAX_LEN, 0);
        return false;
    }
    xlate_set_mpls_bits(ctx, MPLS_TTL_MASK, lse - 1);
    return true;
}

static bool
field_is_l3_or_l4(const struct field *f)
{
    return f->flow_ofs >= offsetof(struct flow, nw_src);
}

static bool
field_is_mpls(const struct field *f)
{
    return f->flow_ofs == offsetof(struct flow, mpls_lse);
}

/* Whether 'a' is a set_field, load or move that writes (or, for a move,
 * reads) a field 'pred' picks. */
static bool
ofpact_field_is(const struct ofpact *a, bool (*pred)(const struct field *))
{
    switch (a->type) {
    case OFPACT_SET_FIELD:
        return pred(a->set_field.field);
    case OFPACT_LOAD:
        return pred(a->load.dst.field);
    case OFPACT_MOVE:
        return pred(a->move.src.field) || pred(a->move.dst.field);
    default:
        return false;
    }
}

/* Whether 'a' reads or writes the outer MPLS entry. */
static bool
ofpact_uses_mpls_entry(const struct ofpact *a)
{
    switch (a->type) {
    case OFPACT_PUSH_MPLS:
    case OFPACT_POP_MPLS:
    case OFPACT_SET_MPLS_LABEL:
    case OFPACT_SET_MPLS_TC:
    case OFPACT_SET_MPLS_TTL:
    case OFPACT_DEC_MPLS_TTL:
        return true;
    default:
        return ofpact_field_is(a, field_is_mpls);
    }
}

/* Whether group action 'a' names a select group: after a pop_mpls, Open vSwitch
 * recirculates before a select group picks a bucket (pick_select_group()),
 * so that its hash reads the header the pop exposed rather than zeros
 * that would send every flow to one bucket. */
static bool
xlate_is_select_group(const struct xctx *ctx, const struct ofpact *a)
{
    const struct ofgroup *g =
        group_table_lookup(ctx->ofproto->groups, a->group_id);

    return g && g->type == GROUP_TYPE_SELECT;
}

/* Whether 'a', after a pop_mpls, needs what the pop exposed parsed: an
 * IP header (Open vSwitch recirculates before it: recirc_for_mpls(), and
 * before any table lookup or select group), or the next MPLS entry of a
 * deeper stack (the flow knows only the outer one). */
static bool
xlate_mpls_needs_recirc(const struct xctx *ctx, const struct ofpact *a)
{
    if (eth_type_is_mpls(ctx->flow.dl_type) && ofpact_uses_mpls_entry(a)) {
        return true;
    }
    switch (a->type) {
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
    case OFPACT_SET_IP_DSCP:
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
    case OFPACT_DEC_TTL:
    case OFPACT_SET_IP_TTL:
    case OFPACT_RESUBMIT:
    case OFPACT_GOTO_TABLE:
        return true;
    case OFPACT_GROUP:
        return xlate_is_select_group(ctx, a);
    default:
        return ofpact_field_is(a, field_is_l3_or_l4);
    }
}

/* The cookie of the rule whose actions run (of the frozen one in a
 * continuation), 0 for none. */
static uint64_t
xlate_cookie(const struct xctx *ctx)
{
    return ctx->rule ? ctx->rule->cookie : ctx->resume_cookie;
}

/* Appends acts[from..) of 'ofpacts', which run in 'table_id' under a rule
 * with 'cookie', to the frozen actions, in a new segment if the last one
 * is another rule's. */
static void
xlate_freeze_append(struct xctx *ctx, const struct ofpacts *ofpacts,
                    size_t from, uint8_t table_id, uint64_t cookie)
{
    struct recirc_segment *last = &ctx->frozen_segs[ctx->n_frozen_segs - 1];

    if (from >= ofpacts->n) {
        return;
    }
    if (last->start == ctx->frozen.n) {
        last->table_id = table_id;
        last->cookie = cookie;
    } else if (last->table_id != table_id || last->cookie != cookie) {
        if (ctx->n_frozen_segs == RECIRC_MAX_SEGMENTS) {
            ctx->freeze_bad = true;
            return;
        }
        last++;
        ctx->n_frozen_segs++;
        last->start = ctx->frozen.n;
        last->table_id = table_id;
        last->cookie = cookie;
    }
    for (size_t i = from; i < ofpacts->n; i++) {
        ofpacts_put_copy(&ctx->frozen, &ofpacts->acts[i]);
    }
}

/* Appends acts[from..) of 'ofpacts', the current rule's, to the frozen
 * actions. */
static void
xlate_freeze_rest(struct xctx *ctx, const struct ofpacts *ofpacts, size_t from)
{
    xlate_freeze_append(ctx, ofpacts, from, ctx->table_id, xlate_cookie(ctx));
}

/* 'ofpacts'->acts[i] needs the header pop_mpls exposed: starts freezing
 * there. */
static void
xlate_freeze(struct xctx *ctx, const struct ofpacts *ofpacts, size_t i,
             unsigned int indent)
{
    xtrace(ctx, indent,
           " >> needs the header pop_mpls exposed: "
           "recirculating");
    ctx->freezing = true;
    memset(ctx->frozen_segs, 0, sizeof ctx->frozen_segs);
    ctx->n_frozen_segs = 1;
    xlate_freeze_rest(ctx, ofpacts, i);
}

/* Ends a freeze: recirc(N) with the frozen state, holding its reference
 * in the xlate cache (or only for RECIRC_EXPIRE_MS without one).  The
 * state takes 'action_set', the action set the continuation starts with. */
static void
xlate_finish_freeze(struct xctx *ctx, const struct ofpacts *action_set,
                    bool in_action_set)
{
    struct recirc_state st;
    uint32_t id;

    ctx->freezing = false;
    if (ctx->freeze_bad) {
        ctx->freeze_bad = false;
        COVERAGE_INC(xlate_mpls_needs_recirc);
        xlate_mpls_stop(ctx, 0, "a frozen state cannot resume here");
        ofpacts_destroy(&ctx->frozen);
        return;
    }
    memset(&st, 0, sizeof st);
    st.ofproto = ctx->ofproto;
    st.ofpacts = ctx->frozen;
    st.action_set = *action_set;
    memcpy(st.segments, ctx->frozen_segs, sizeof st.segments);
    st.n_segments = ctx->n_frozen_segs;
    st.in_action_set = in_action_set;
    st.metadata = ctx->flow.metadata;
    st.tunnel_id = ctx->flow.tunnel_id;
    memcpy(st.regs, ctx->flow.regs, sizeof st.regs);
    id = recirc_state_get(&st);
    ofpacts_destroy(&ctx->frozen);
    COVERAGE_INC(xlate_recirc);
    commit_changes(ctx);
    dp_action_put_recirc(&ctx->odp, id);
    if (ctx->xin->xcache) {
        xlate_cache_add_recirc(ctx->xin->xcache, id);
    } else {
        recirc_state_unref(id);
    }
}

static void
xlate_set_ip_ttl(struct xctx *ctx, uint8_t ttl)
{
    ctx->wc->masks.dl_type = 0xffff;
    if (flow_is_ip(&ctx->flow)) {
        XLATE_WRITE(nw_ttl, ttl);
    }
}

/* Kept out of line: only ofproto/trace pays for formatting. */
static void
xlate_trace_ofpact(struct xctx *ctx, const struct ofpact *a,
                   unsigned int indent)
{
    struct ds text = DS_EMPTY_INITIALIZER;

    ofpact_format(a, &text);
    xtrace(ctx, indent, "%s", ds_cstr(&text));
    ds_destroy(&text);
}

/* Translates one action.  A flat dispatch, one line per action type (or
 * group of alike ones).  Returns false if the rest of the action list must
 * be skipped. */
static bool
xlate_ofpact(struct xctx *ctx, const struct ofpact *a, unsigned int indent)
{
    switch (a->type) {
    case OFPACT_OUTPUT:
        xlate_output(ctx, a->output.port, indent);
        break;
    case OFPACT_CONTROLLER:
        xlate_controller(ctx,
                         ctx->in_action_set ? OFPACT_REASON_ACTION_SET
                                            : a->controller.reason,
                         a->controller.max_len, a->controller.id);
        break;
    case OFPACT_SET_VLAN_VID:
        xlate_set_vlan_bits(ctx, VLAN_VID_MASK, a->vlan_vid);
        break;
    case OFPACT_SET_VLAN_PCP:
        xlate_set_vlan_bits(ctx, VLAN_PCP_MASK,
                            (uint16_t)(a->vlan_pcp << VLAN_PCP_SHIFT));
        break;
    case OFPACT_STRIP_VLAN:
        xlate_strip_vlan(ctx);
        break;
    case OFPACT_PUSH_VLAN:
        xlate_push_vlan_action(ctx, a->push_tpid);
        break;
    case OFPACT_SET_ETH_SRC:
        XLATE_WRITE(dl_src, a->mac);
        break;
    case OFPACT_SET_ETH_DST:
        XLATE_WRITE(dl_dst, a->mac);
        break;
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
        xlate_set_ipv4(ctx, a);
        break;
    case OFPACT_SET_IP_DSCP:
        xlate_set_ip_dscp(ctx, a->tos);
        break;
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
        xlate_set_l4_port(ctx, a);
        break;
    case OFPACT_DEC_TTL:
        return xlate_dec_ttl(ctx, indent);
    case OFPACT_SET_FIELD:
        xlate_set_field(ctx, a, indent);
        break;
    case OFPACT_LOAD:
        xlate_load(ctx, a);
        break;
    case OFPACT_MOVE:
        xlate_move(ctx, a);
        break;
    case OFPACT_RESUBMIT:
        xlate_resubmit(ctx, a);
        break;
    case OFPACT_NOTE:
        break;
    case OFPACT_SET_QUEUE:
        /* No QoS queues: nothing to select (README). */
        COVERAGE_INC(xlate_set_queue_no_qos);
        break;
    case OFPACT_CLEAR_ACTIONS:
        ofpacts_destroy(&ctx->action_set);
        break;
    case OFPACT_WRITE_ACTIONS:
        actset_write(&ctx->action_set, a->nested);
        break;
    case OFPACT_WRITE_METADATA:
        xlate_write_metadata(ctx, a);
        break;
    case OFPACT_GOTO_TABLE:
        xlate_table(ctx, a->goto_table, true);
        break;
    case OFPACT_METER:
        /* The datapath meter ofproto bound the rule to; it comes first,
         * so there is nothing to commit before it. */
        if (a->meter.dp_id != OFPACT_METER_DP_NONE) {
            dp_action_put_meter(&ctx->odp, a->meter.dp_id);
        }
        break;
    case OFPACT_GROUP:
        xlate_group(ctx, a->group_id, indent);
        break;
    case OFPACT_PUSH_MPLS:
        xlate_push_mpls(ctx, a->mpls_ethertype);
        break;
    case OFPACT_POP_MPLS:
        return xlate_pop_mpls(ctx, a->mpls_ethertype, indent);
    case OFPACT_SET_MPLS_LABEL:
        xlate_set_mpls_bits(ctx, MPLS_LABEL_MASK,
                            a->mpls_label << MPLS_LABEL_SHIFT);
        break;
    case OFPACT_SET_MPLS_TC:
        xlate_set_mpls_bits(ctx, MPLS_TC_MASK,
                            (uint32_t)a->mpls_tc << MPLS_TC_SHIFT);
        break;
    case OFPACT_SET_MPLS_TTL:
        xlate_set_mpls_bits(ctx, MPLS_TTL_MASK, a->ttl);
        break;
    case OFPACT_DEC_MPLS_TTL:
        return xlate_dec_mpls_ttl(ctx, indent);
    case OFPACT_SET_IP_TTL:
        xlate_set_ip_ttl(ctx, a->ttl);
        break;
    }
    return true;
}

static void
xlate_ofpacts(struct xctx *ctx, const struct ofpacts *ofpacts)
{
    unsigned int indent = ctx->depth;

    for (size_t i = 0; i < ofpacts->n && !ctx->error && !ctx->stopped; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if (ctx->was_mpls && xlate_mpls_needs_recirc(ctx, a)) {
            xlate_freeze(ctx, ofpacts, i, indent);
            return;
        }
        if (ctx->xin->trace) {
            xlate_trace_ofpact(ctx, a, indent);
        }
        if (!xlate_ofpact(ctx, a, indent)) {
            return;
        }
        if (ctx->pop_again) {
            ctx->pop_again = false;
            xlate_freeze(ctx, ofpacts, i, indent);
            return;
        }
        if (ctx->freezing) {
            xlate_freeze_rest(ctx, ofpacts, i + 1);
            return;
        }
    }
}

/* Looks the flow up in 'table_id' and runs the rule's actions.  'may_miss'
 * says whether a miss gets the table-miss behaviour (table 0 and
 * goto_table) or does nothing (resubmit). */
static void
xlate_table(struct xctx *ctx, uint8_t table_id, bool may_miss)
{
    unsigned int indent = ctx->depth;
    struct rule *rule, *saved_rule;
    uint8_t saved_table;
    uint64_t saved_cookie = ctx->resume_cookie;

    if (ctx->depth >= XLATE_MAX_DEPTH) {
        COVERAGE_INC(xlate_recursion_too_deep);
        xtrace(ctx, indent, ">>>> over max translation depth %d <<<<",
               XLATE_MAX_DEPTH);
        ctx->error = XLATE_RECURSION_TOO_DEEP;
        return;
    }
    ctx->resume_cookie = 0;
    rule = ofproto_table_lookup_version(ctx->ofproto, table_id, ctx->version,
                                        &ctx->flow, ctx->wc);
    if (ctx->xin->xcache) {
        xlate_cache_add_table(ctx->xin->xcache, ctx->ofproto, table_id,
                              rule != NULL);
    }
    if (!rule) {
        COVERAGE_INC(xlate_table_miss);
        xtrace(ctx, indent, "%2u. No match.", table_id);
        if (may_miss && ofproto_get_miss_to_controller(ctx->ofproto)) {
            xtrace(ctx, indent + 1, "controller(reason=no_match)");
            saved_rule = ctx->rule;
            ctx->rule = NULL;
            xlate_controller(ctx, OFPACT_REASON_NO_MATCH,
                             OFPACT_CONTROLLER_MAX_LEN, 0);
            ctx->rule = saved_rule;
        } else {
            xtrace(ctx, indent + 1, "drop");
        }
        ctx->resume_cookie = saved_cookie;
        return;
    }
    if (ctx->xin->trace) {
        struct ds text = DS_EMPTY_INITIALIZER;
        struct match match;

        cls_rule_get_match(&rule->cr, &match);
        match_format(&match, -1, &text);
        if (text.length) {
            ds_put_cstr(&text, ", ");
        }
        ds_put_format(&text, "priority %d", rule->cr.priority);
        if (rule->cookie) {
            ds_put_format(&text, ", cookie %#" PRIx64, rule->cookie);
        }
        xtrace(ctx, indent, "%2u. %s", table_id, ds_cstr(&text));
        ds_destroy(&text);
    }
    if (ctx->xin->xcache) {
        xlate_cache_add_rule(ctx->xin->xcache, rule);
    }

    saved_rule = ctx->rule;
    saved_table = ctx->table_id;
    ctx->rule = rule;
    ctx->table_id = table_id;
    ctx->depth++;
    xlate_ofpacts(ctx, &rule->ofpacts);
    ctx->depth--;
    ctx->rule = saved_rule;
    ctx->table_id = saved_table;
    ctx->resume_cookie = saved_cookie;
}

/* Runs the action set once the pipeline has ended, in the OpenFlow order
 * (flow/actset.h).  Actions written while it runs (a resubmit in the set)
 * do not run: the pipeline has ended. */
static void
xlate_action_set(struct xctx *ctx)
{
    struct ofpacts ordered;

    actset_order(&ctx->action_set, &ordered);
    ofpacts_destroy(&ctx->action_set);
    if (!ordered.n) {
        COVERAGE_INC(xlate_action_set_no_output);
        xtrace(ctx, 0, "action set: no output, nothing to do");
        return;
    }
    if (ctx->xin->trace) {
        struct ds text = DS_EMPTY_INITIALIZER;

        ofpacts_format(&ordered, &text);
        xtrace(ctx, 0, "action set: %s", ds_cstr(&text));
        ds_destroy(&text);
    }
    ctx->in_action_set = true;
    ctx->depth++;
    xlate_ofpacts(ctx, &ordered);
    ctx->depth--;
    ctx->in_action_set = false;
    ofpacts_destroy(&ordered);
}

/* ---- Groups ------------------------------------------------------------- */

/* How many buckets one liveness question may look at: groups that watch
 * each other (allowed, as in Open vSwitch) would otherwise make the walk
 * exponential in the depth.  Beyond it a bucket counts as dead. */
#define XLATE_LIVENESS_BUDGET 256

/* Whether bucket 'b' may be used: for ff, its watched port is live and
 * its watched group has a live bucket.  '*budget' bounds the walk. */
static bool
xlate_bucket_is_live(struct xctx *ctx, const struct group_bucket *b,
                     unsigned int *budget)
{
    const struct ofgroup *g;

    if (!*budget) {
        COVERAGE_INC(xlate_group_liveness_budget);
        return false;
    }
    --*budget;
    if (b->watch_port != OFPP_ANY
        && !ofproto_port_is_live(ctx->ofproto, b->watch_port)) {
        return false;
    }
    if (b->watch_group == GROUP_ID_ANY) {
        return true;
    }
    g = group_table_lookup(ctx->ofproto->groups, b->watch_group);
    for (size_t i = 0; g && i < g->n_buckets; i++) {
        if (xlate_bucket_is_live(ctx, &g->buckets[i].b, budget)) {
            return true;
        }
    }
    return false;
}

/* The hash a select group chooses by: the 5-tuple of an IP packet
 * (addresses and protocol, and the ports of TCP, UDP and SCTP), or the
 * Ethernet addresses and type of anything else.  Un-wildcards exactly
 * what it hashes. */
static uint32_t
xlate_select_hash(struct xctx *ctx)
{
    const struct flow *f = &ctx->flow;
    struct flow *m = &ctx->wc->masks;
    uint32_t h = hash_int(ntohs(f->dl_type), 0);

    m->dl_type = 0xffff;
    if (!flow_is_ip(f)) {
        memset(&m->dl_src, 0xff, sizeof m->dl_src);
        memset(&m->dl_dst, 0xff, sizeof m->dl_dst);
        h = hash_bytes(&f->dl_dst, 2 * sizeof f->dl_dst, h);
        return h;
    }
    if (f->dl_type == htons(ETH_TYPE_IP)) {
        m->nw_src = m->nw_dst = 0xffffffff;
        h = hash_add64(h, ((uint64_t)f->nw_src << 32) | f->nw_dst);
    } else {
        memset(&m->ipv6_src, 0xff, sizeof m->ipv6_src);
        memset(&m->ipv6_dst, 0xff, sizeof m->ipv6_dst);
        h = hash_bytes(&f->ipv6_src, 2 * sizeof f->ipv6_src, h);
    }
    m->nw_proto = 0xff;
    h = hash_int(f->nw_proto, h);
    if (f->nw_proto == IPPROTO_TCP_ || f->nw_proto == IPPROTO_UDP_
        || f->nw_proto == IPPROTO_SCTP_) {
        m->tp_src = m->tp_dst = 0xffff;
        h = hash_int(((uint32_t)f->tp_src << 16) | f->tp_dst, h);
    }
    return hash_finish(h, 16);
}

/* The hash of a selection_method=hash group, as Open vSwitch computes
 * it: each of its fields whose prerequisites the packet meets (Open
 * vSwitch's: an action's, except that VLAN fields read as 0 without a
 * tag), under its mask, in Open vSwitch's field order, with Open
 * vSwitch's hash functions from the basis 'sel->param'.  Un-wildcards
 * the prerequisites and exactly the masked bits. */
static uint32_t
xlate_select_hash_fields(struct xctx *ctx, const struct group_selection *sel)
{
    uint32_t h = hash_murmur_uint64(sel->param);

    for (size_t i = 0; i < sel->n_fields; i++) {
        const struct group_hash_field *hf = &sel->fields[i];
        const struct field *f = field_from_id(hf->id);
        enum field_prereq prereq =
            f->prereq == FIELD_PREREQ_VLAN ? FIELD_PREREQ_NONE : f->prereq;
        union field_value v;

        if (!xlate_prereq_ok(ctx, prereq)) {
            continue;
        }
        field_get_flow(f, &ctx->flow, &v);
        field_value_and(f, &v, &v, &hf->mask);
        h = hash_murmur_bytes(&v, f->n_bytes, h);
        flow_or_field_bits(&ctx->wc->masks, f, &hf->mask);
    }
    return h;
}

/* The bucket Open vSwitch picks for 'basis' (group_best_live_bucket()):
 * the highest score of a 16-bit hash of the bucket's position times its
 * weight, the last one on a tie. */
static size_t
xlate_select_bucket_ovs(const struct ofgroup *g, uint32_t basis)
{
    uint32_t best_score = 0;
    size_t best = SIZE_MAX;

    for (size_t i = 0; i < g->n_buckets; i++) {
        uint32_t score = (hash_murmur_int((uint32_t)i, basis) & 0xffff)
                         * g->buckets[i].b.weight;

        if (score >= best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

/* A select group's bucket: live buckets with a weight share the hash
 * space in proportion to their weights.  Hashes only when there is a
 * choice, so that a group with one usable bucket keeps megaflows wide. */
static size_t
xlate_select_bucket(struct xctx *ctx, const struct ofgroup *g)
{
    uint64_t total = 0, point;
    size_t only = SIZE_MAX, n_usable = 0;

    for (size_t i = 0; i < g->n_buckets; i++) {
        if (g->buckets[i].b.weight) {
            total += g->buckets[i].b.weight;
            only = i;
            n_usable++;
        }
    }
    if (n_usable <= 1) {
        return only;
    }
    if (g->selection.n_fields) {
        return xlate_select_bucket_ovs(
            g, xlate_select_hash_fields(ctx, &g->selection));
    }
    point = (uint64_t)xlate_select_hash(ctx) * total >> 32;
    for (size_t i = 0; i < g->n_buckets; i++) {
        if (point < g->buckets[i].b.weight) {
            return i;
        }
        point -= g->buckets[i].b.weight;
    }
    return only;
}

/* The bucket of 'g' the packet takes: SIZE_MAX for every bucket (all) or
 * for none (no live bucket). */
static size_t
xlate_group_choose(struct xctx *ctx, const struct ofgroup *g)
{
    switch (g->type) {
    case GROUP_TYPE_SELECT:
        return xlate_select_bucket(ctx, g);
    case GROUP_TYPE_INDIRECT:
        return g->n_buckets ? 0 : SIZE_MAX;
    case GROUP_TYPE_FF:
        for (size_t i = 0; i < g->n_buckets; i++) {
            unsigned int budget = XLATE_LIVENESS_BUDGET;

            if (xlate_bucket_is_live(ctx, &g->buckets[i].b, &budget)) {
                return i;
            }
        }
        return SIZE_MAX;
    default:
        return SIZE_MAX;
    }
}

/* Runs one bucket on a copy of the packet as it entered the group, as
 * Open vSwitch does (its actions in action-set order, group.h): what the
 * bucket rewrites does not leak into the next bucket or the actions after
 * the group (the datapath actions already emitted stay, and the next
 * commit undoes them where needed). */
static void
xlate_group_bucket(struct xctx *ctx, const struct ofgroup *g, size_t i,
                   unsigned int indent)
{
    static const struct ofpacts no_action_set = OFPACTS_EMPTY_INITIALIZER;
    struct flow saved = ctx->flow;
    bool saved_was_mpls = ctx->was_mpls;

    xtrace(ctx, indent, "bucket %zu", i);
    ctx->depth++;
    xlate_ofpacts(ctx, &g->buckets[i].run);
    ctx->depth--;
    /* A bucket is a copy of the packet: one that froze recirculates alone
     * (the action set stays with the pipeline). */
    if (ctx->freezing) {
        xlate_finish_freeze(ctx, &no_action_set, ctx->in_action_set);
    }
    ctx->flow = saved;
    ctx->was_mpls = saved_was_mpls;
}

static void
xlate_group(struct xctx *ctx, uint32_t group_id, unsigned int indent)
{
    struct ofgroup *g = group_table_lookup(ctx->ofproto->groups, group_id);
    size_t bucket;

    if (!g) {
        COVERAGE_INC(xlate_group_missing);
        xtrace(ctx, indent, " >> no group %" PRIu32 ", dropping", group_id);
        return;
    }
    if (ctx->depth >= XLATE_MAX_DEPTH) {
        COVERAGE_INC(xlate_recursion_too_deep);
        ctx->error = XLATE_RECURSION_TOO_DEEP;
        return;
    }
    /* A group counts as a resubmit, as in Open vSwitch: all groups that
     * name themselves twice would otherwise explode. */
    if (++ctx->n_resubmits > XLATE_MAX_RESUBMITS) {
        COVERAGE_INC(xlate_too_many_resubmits);
        ctx->error = XLATE_TOO_MANY_RESUBMITS;
        return;
    }
    if (g->type == GROUP_TYPE_ALL) {
        for (size_t i = 0; i < g->n_buckets && !ctx->error; i++) {
            xlate_group_bucket(ctx, g, i, indent + 1);
        }
        bucket = SIZE_MAX;
    } else {
        bucket = xlate_group_choose(ctx, g);
        if (bucket == SIZE_MAX) {
            COVERAGE_INC(xlate_group_no_live_bucket);
            xtrace(ctx, indent, " >> group %" PRIu32 " has no live bucket",
                   group_id);
            return;
        }
        xlate_group_bucket(ctx, g, bucket, indent + 1);
    }
    if (ctx->xin->xcache) {
        xlate_cache_add_group(ctx->xin->xcache, g, bucket);
    }
}

/* ---- Entry points ------------------------------------------------------- */

/* Where segment 'k' of 'st' ends: the next one's start, or the end. */
static size_t
recirc_segment_end(const struct recirc_state *st, size_t k)
{
    return k + 1 < st->n_segments ? st->segments[k + 1].start : st->ofpacts.n;
}

/* Runs the frozen actions rule by rule, each in its table and under its
 * cookie.  If they freeze again, the segments not run yet follow the new
 * frozen actions, still each under its own rule. */
static void
xlate_resume_segments(struct xctx *ctx, const struct recirc_state *st)
{
    for (size_t k = 0; k < st->n_segments; k++) {
        const struct recirc_segment *seg = &st->segments[k];
        struct ofpacts view = {st->ofpacts.acts + seg->start,
                               recirc_segment_end(st, k) - seg->start, 0};

        if (k) {
            xtrace(ctx, 0, "unroll: table %u, cookie %#" PRIx64, seg->table_id,
                   seg->cookie);
        }
        ctx->table_id = seg->table_id;
        ctx->resume_cookie = seg->cookie;
        xlate_ofpacts(ctx, &view);
        if (ctx->freezing) {
            for (size_t j = k + 1; j < st->n_segments; j++) {
                struct ofpacts rest = {st->ofpacts.acts,
                                       recirc_segment_end(st, j), 0};

                xlate_freeze_append(ctx, &rest, st->segments[j].start,
                                    st->segments[j].table_id,
                                    st->segments[j].cookie);
            }
            return;
        }
        if (ctx->error || ctx->stopped) {
            return;
        }
    }
}

/* The pipeline after recirc(N): the frozen state's actions on the packet
 * as the datapath parsed it again, with what the packet does not carry
 * restored.  Returns false if the caller should run the action set. */
static bool
xlate_resume(struct xctx *ctx)
{
    const struct recirc_state *st =
        recirc_state_find(ctx->xin->flow.recirc_id);
    bool in_action_set;

    if (!st || st->ofproto != ctx->ofproto) {
        COVERAGE_INC(xlate_recirc_missing);
        ctx->error = XLATE_RECIRC_MISSING;
        if (st) {
            recirc_state_unref(ctx->xin->flow.recirc_id);
        }
        return true;
    }
    ctx->flow.metadata = ctx->base.metadata = st->metadata;
    ctx->flow.tunnel_id = ctx->base.tunnel_id = st->tunnel_id;
    memcpy(ctx->flow.regs, st->regs, sizeof ctx->flow.regs);
    memcpy(ctx->base.regs, st->regs, sizeof ctx->base.regs);
    ofpacts_clone(&ctx->action_set, &st->action_set);
    in_action_set = ctx->in_action_set = st->in_action_set;
    xtrace(ctx, 0, "resuming after recirc(%#" PRIx32 ")",
           ctx->xin->flow.recirc_id);
    xlate_resume_segments(ctx, st);
    recirc_state_unref(ctx->xin->flow.recirc_id);
    return in_action_set;
}

/* The whole pipeline: from table 0, the given actions or the frozen
 * state of a recirculation; then the action set; then the recirc(N) of
 * a freeze. */
static void
xlate_pipeline(struct xctx *ctx)
{
    static const struct ofpacts no_action_set = OFPACTS_EMPTY_INITIALIZER;
    bool ended = false;

    if (ctx->xin->flow.recirc_id) {
        ended = xlate_resume(ctx);
    } else if (ctx->xin->ofpacts) {
        xlate_ofpacts(ctx, ctx->xin->ofpacts);
    } else if (ofproto_get_fail_open(ctx->ofproto)) {
        xtrace(ctx, 0, "fail-open: NORMAL");
        xlate_normal(ctx, 0);
    } else {
        xlate_table(ctx, 0, true);
    }
    if (ctx->freezing) {
        /* Froze in the pipeline: the action set waits in the state. */
        xlate_finish_freeze(ctx, &ctx->action_set, false);
        return;
    }
    if (!ended && ctx->action_set.n && !ctx->error) {
        xlate_action_set(ctx);
        if (ctx->freezing) {
            xlate_finish_freeze(ctx, &no_action_set, true);
        }
    }
}

void
xlate_in_init(struct xlate_in *xin, struct ofproto *ofproto,
              const struct flow *flow)
{
    xlate_in_init_at(xin, ofproto, flow, time_msec());
}

void
xlate_in_init_at(struct xlate_in *xin, struct ofproto *ofproto,
                 const struct flow *flow, uint64_t now)
{
    memset(xin, 0, sizeof *xin);
    xin->ofproto = ofproto;
    xin->flow = *flow;
    xin->now = now;
}

/* Header rewrites after the last action that sends or looks up the
 * packet reach nothing: drops them.  Open vSwitch, which commits a
 * rewrite only before an output, never emits them, so a flow that pops
 * MPLS and then drops reads "drop" in both switches. */
static void
xlate_trim_trailing_rewrites(struct dp_action_buf *odp)
{
    while (odp->n && dp_action_type_rewrites(odp->a[odp->n - 1].type)) {
        odp->n--;
    }
}

enum xlate_error
xlate_actions(const struct xlate_in *xin, struct xlate_out *xout)
{
    struct xctx ctx;

    COVERAGE_INC(xlate_actions);
    /* Field by field, every one of them: zeroing the whole context (the
     * action buffer's inline room included) and then the output cost a
     * flow setup more than 1 kB of stores that were overwritten at once
     * (3 % of a handler's time in perf).  A new field of struct xctx must
     * be set here. */
    xout->actions = NULL;
    xout->slow = 0;
    xout->error = XLATE_OK;
    ctx.xin = xin;
    ctx.ofproto = xin->ofproto;
    ctx.flow = xin->flow;
    ctx.base = xin->flow;
    ctx.wc = &xout->wc;
    flow_wildcards_init_catchall(ctx.wc);
    flow_wildcards_init_catchall(&ctx.written);
    dp_action_buf_init(&ctx.odp);
    ctx.slow = 0;
    ctx.error = XLATE_OK;
    ctx.version = 0;
    ctx.depth = 0;
    ctx.n_resubmits = 0;
    ctx.table_id = 0;
    ctx.rule = NULL;
    ofpacts_init(&ctx.action_set);
    ctx.in_action_set = false;
    ctx.was_mpls = false;
    ctx.pop_again = false;
    ctx.stopped = false;
    ctx.freezing = false;
    ctx.freeze_bad = false;
    ofpacts_init(&ctx.frozen);
    ctx.n_frozen_segs = 0;
    ctx.resume_cookie = 0;

    /* Datapath flows are per input port and per recirculation. */
    ctx.wc->masks.in_port = UINT32_MAX;
    ctx.wc->masks.recirc_id = UINT32_MAX;

    rcu_read_begin();
    ctx.version = cls_version_get(&ctx.ofproto->tables_version);
    xlate_pipeline(&ctx);
    ofpacts_destroy(&ctx.action_set);
    ofpacts_destroy(&ctx.frozen);
    rcu_read_end();

    /* Registers and metadata start at zero in every packet. */
    ctx.wc->masks.metadata = 0;
    memset(ctx.wc->masks.regs, 0, sizeof ctx.wc->masks.regs);

    if (ctx.error) {
        xout->actions = dp_actions_create_drop();
        xout->slow = 0;
    } else {
        xlate_trim_trailing_rewrites(&ctx.odp);
        xout->actions = dp_action_buf_freeze(&ctx.odp);
        xout->slow = ctx.slow;
    }
    xout->error = ctx.error;
    xout->final_flow = ctx.flow;
    dp_action_buf_uninit(&ctx.odp);
    return ctx.error;
}

void
xlate_out_uninit(struct xlate_out *xout)
{
    if (xout) {
        dp_actions_unref(xout->actions);
        xout->actions = NULL;
    }
}
