/* flow/flow.c — flow keys, wildcards, matches, miniflows (see flow.h). */
#include "flow/flow.h"

#include <stdlib.h>

#include "lib/hash.h"

uint64_t
flow_stage_map(unsigned int stage)
{
    static const unsigned int ends[FLOW_N_STAGES] = {
        FLOW_STAGE_METADATA_END, FLOW_STAGE_L2_END, FLOW_STAGE_L3_END,
        FLOW_STAGE_L4_END};
    unsigned int start = stage ? ends[stage - 1] : 0;
    unsigned int end = ends[stage];

    return ((UINT64_C(1) << end) - 1) & ~((UINT64_C(1) << start) - 1);
}

bool
flow_zero_padding(const struct flow *flow)
{
    return !flow->pad_l2[0] && !flow->pad_l2[1]
           && is_all_zeros(flow->pad_l2b, sizeof flow->pad_l2b)
           && !flow->pad_l3a[0] && !flow->pad_l3a[1] && !flow->pad_l3b[0]
           && !flow->pad_l3b[1] && !flow->pad_l4[0] && !flow->pad_l4[1];
}

/* ---- Wildcards ---------------------------------------------------------- */

void
flow_wildcards_init_catchall(struct flow_wildcards *wc)
{
    memset(&wc->masks, 0, sizeof wc->masks);
}

/* Sets every bit of 'wc' except the padding. */
void
flow_wildcards_init_exact(struct flow_wildcards *wc)
{
    struct flow *m = &wc->masks;

    memset(m, 0xff, sizeof *m);
    memset(m->pad_l2, 0, sizeof m->pad_l2);
    memset(m->pad_l2b, 0, sizeof m->pad_l2b);
    memset(m->pad_l3a, 0, sizeof m->pad_l3a);
    memset(m->pad_l3b, 0, sizeof m->pad_l3b);
    memset(m->pad_l4, 0, sizeof m->pad_l4);
}

bool
flow_wildcards_is_catchall(const struct flow_wildcards *wc)
{
    return is_all_zeros(&wc->masks, sizeof wc->masks);
}

bool
flow_wildcards_is_exact(const struct flow_wildcards *wc)
{
    struct flow_wildcards exact;

    flow_wildcards_init_exact(&exact);
    return flow_wildcards_equal(wc, &exact);
}

void
flow_wildcards_or(struct flow_wildcards *dst, const struct flow_wildcards *src)
{
    uint64_t *d = flow_u64s_rw(&dst->masks);
    const uint64_t *s = flow_u64s(&src->masks);

    for (size_t i = 0; i < FLOW_U64S; i++) {
        d[i] |= s[i];
    }
}

void
flow_wildcards_and(struct flow_wildcards *dst, const struct flow_wildcards *a,
                   const struct flow_wildcards *b)
{
    uint64_t *d = flow_u64s_rw(&dst->masks);
    const uint64_t *x = flow_u64s(&a->masks);
    const uint64_t *y = flow_u64s(&b->masks);

    for (size_t i = 0; i < FLOW_U64S; i++) {
        d[i] = x[i] & y[i];
    }
}

bool
flow_wildcards_covers(const struct flow_wildcards *a,
                      const struct flow_wildcards *b)
{
    const uint64_t *x = flow_u64s(&a->masks);
    const uint64_t *y = flow_u64s(&b->masks);

    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (y[i] & ~x[i]) {
            return false;
        }
    }
    return true;
}

bool
flow_wildcards_equal(const struct flow_wildcards *a,
                     const struct flow_wildcards *b)
{
    return flow_equal(&a->masks, &b->masks);
}

void
flow_apply_mask(struct flow *dst, const struct flow *src,
                const struct flow_wildcards *mask)
{
    uint64_t *d = flow_u64s_rw(dst);
    const uint64_t *s = flow_u64s(src);
    const uint64_t *m = flow_u64s(&mask->masks);

    for (size_t i = 0; i < FLOW_U64S; i++) {
        d[i] = s[i] & m[i];
    }
}

bool
flow_equal_except(const struct flow *a, const struct flow *b,
                  const struct flow_wildcards *mask)
{
    const uint64_t *x = flow_u64s(a);
    const uint64_t *y = flow_u64s(b);
    const uint64_t *m = flow_u64s(&mask->masks);

    for (size_t i = 0; i < FLOW_U64S; i++) {
        if ((x[i] ^ y[i]) & m[i]) {
            return false;
        }
    }
    return true;
}

uint64_t
flow_wildcards_map(const struct flow_wildcards *wc)
{
    const uint64_t *m = flow_u64s(&wc->masks);
    uint64_t map = 0;

    /* Branch-free: which words are set varies from mask to mask. */
    for (size_t i = 0; i < FLOW_U64S; i++) {
        map |= (uint64_t)(m[i] != 0) << i;
    }
    return map;
}

/* ---- Match -------------------------------------------------------------- */

void
match_init_catchall(struct match *match)
{
    memset(match, 0, sizeof *match);
}

void
match_init_exact(struct match *match, const struct flow *flow)
{
    flow_wildcards_init_exact(&match->wc);
    flow_apply_mask(&match->flow, flow, &match->wc);
}

void
match_init(struct match *match, const struct flow *flow,
           const struct flow_wildcards *wc)
{
    match->wc = *wc;
    flow_apply_mask(&match->flow, flow, wc);
}

bool
match_equal(const struct match *a, const struct match *b)
{
    return flow_equal(&a->flow, &b->flow)
           && flow_wildcards_equal(&a->wc, &b->wc);
}

bool
match_matches_flow(const struct match *match, const struct flow *flow)
{
    return flow_equal_except(&match->flow, flow, &match->wc);
}

void
match_normalize(struct match *match)
{
    flow_apply_mask(&match->flow, &match->flow, &match->wc);
}

/* ---- Hashing ------------------------------------------------------------ */

uint32_t
flow_hash(const struct flow *flow, uint32_t basis)
{
    return hash_words64(flow_u64s(flow), FLOW_U64S, basis);
}

uint32_t
flow_hash_masked(const struct flow *flow, const struct flow_wildcards *mask,
                 uint32_t basis)
{
    const uint64_t *f = flow_u64s(flow);
    const uint64_t *m = flow_u64s(&mask->masks);
    uint32_t hash = basis;
    uint32_t n = 0;

    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (m[i]) {
            hash = hash_add64(hash, f[i] & m[i]);
            n += 8;
        }
    }
    return hash_finish(hash, n);
}

uint32_t
flow_hash_5tuple(const struct flow *flow, uint32_t basis)
{
    uint32_t hash = basis;

    hash = hash_add64(hash, flow->in_port);
    hash = hash_add64(hash, ((uint64_t)flow->dl_type << 8) | flow->nw_proto);
    if (flow->dl_type == htons(ETH_TYPE_IPV6)) {
        const uint64_t *s = (const uint64_t *)(const void *)&flow->ipv6_src;
        const uint64_t *d = (const uint64_t *)(const void *)&flow->ipv6_dst;

        hash = hash_add64(hash, s[0] ^ d[0]);
        hash = hash_add64(hash, s[1] ^ d[1]);
        hash = hash_add64(hash, s[0] + d[1]);
    } else {
        hash = hash_add64(hash, ((uint64_t)flow->nw_src << 32) | flow->nw_dst);
    }
    hash = hash_add64(hash, ((uint32_t)flow->tp_src << 16) | flow->tp_dst);
    return hash_finish(hash, 40);
}

/* ---- Miniflow ----------------------------------------------------------- */

static struct miniflow *
miniflow_from_words(const uint64_t *words)
{
    uint64_t map = 0;
    unsigned int n = 0;

    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (words[i]) {
            map |= UINT64_C(1) << i;
            n++;
        }
    }

    struct miniflow *mf = xmalloc(sizeof *mf + n * sizeof(uint64_t));
    unsigned int idx, k = 0;

    mf->map = map;
    MAP_FOR_EACH_INDEX (idx, map) {
        mf->values[k++] = words[idx];
    }
    return mf;
}

struct miniflow *
miniflow_create(const struct flow *flow)
{
    return miniflow_from_words(flow_u64s(flow));
}

struct minimask *
minimask_create(const struct flow_wildcards *wc)
{
    return (struct minimask *)miniflow_from_words(flow_u64s(&wc->masks));
}

void
miniflow_expand(const struct miniflow *mf, struct flow *flow)
{
    uint64_t *w = flow_u64s_rw(flow);
    unsigned int idx, k = 0;

    memset(flow, 0, sizeof *flow);
    MAP_FOR_EACH_INDEX (idx, mf->map) {
        w[idx] = mf->values[k++];
    }
}

void
minimask_expand(const struct minimask *mask, struct flow_wildcards *wc)
{
    miniflow_expand(&mask->masks, &wc->masks);
}

uint64_t
miniflow_get(const struct miniflow *mf, unsigned int idx)
{
    uint64_t bit = UINT64_C(1) << idx;

    if (!(mf->map & bit)) {
        return 0;
    }
    return mf->values[count_1bits(mf->map & (bit - 1))];
}

bool
miniflow_equal(const struct miniflow *a, const struct miniflow *b)
{
    return a->map == b->map
           && !memcmp(a->values, b->values,
                      miniflow_n_values(a) * sizeof(uint64_t));
}

uint32_t
flow_hash_in_minimask(const struct flow *flow, const struct minimask *mask,
                      uint32_t basis)
{
    const uint64_t *f = flow_u64s(flow);
    const uint64_t *m = mask->masks.values;
    uint32_t hash = basis;
    unsigned int idx;

    MAP_FOR_EACH_INDEX (idx, mask->masks.map) {
        hash = hash_add64(hash, f[idx] & *m++);
    }
    return hash_finish(hash, miniflow_n_values(&mask->masks) * 8);
}

uint32_t
miniflow_hash_in_map(const struct miniflow *mf, uint64_t map, uint32_t basis)
{
    uint32_t hash = basis;
    unsigned int idx;

    MAP_FOR_EACH_INDEX (idx, map) {
        hash = hash_add64(hash, miniflow_get(mf, idx));
    }
    return hash_finish(hash, count_1bits(map) * 8);
}

bool
miniflow_equal_flow_in_minimask(const struct miniflow *mf,
                                const struct flow *flow,
                                const struct minimask *mask)
{
    const uint64_t *f = flow_u64s(flow);
    const uint64_t *m = mask->masks.values;
    unsigned int idx;

    MAP_FOR_EACH_INDEX (idx, mask->masks.map) {
        if ((f[idx] & *m++) != miniflow_get(mf, idx)) {
            return false;
        }
    }
    return true;
}
