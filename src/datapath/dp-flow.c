/* datapath/dp-flow.c — the datapath flow table: put, delete, get, batched
 * operations and multi-threaded dumps (see datapath.h).
 *
 * Writers hold 'flow_mutex' and update three structures together: the
 * megaflow classifier that datapath threads read under RCU, an index from
 * ufid to flow (lib/ptrmap.h, writer side only), and the flow list
 * (lib/list.h) in installation order that dumps walk.  A dump's position
 * is a marker node in that list: dp_flow_dump_next() takes the flows after
 * the marker and moves the marker past them, under the mutex.  Deleting a
 * flow unlinks its node, so the markers never point at a dead flow; new
 * flows go to the tail, so a dump in progress may or may not see them;
 * and since a marker only moves forward, no flow is returned twice.
 *
 * Deletion: a deleted flow is unlinked and marked dead under the mutex;
 * then, outside it, the deleting thread waits for one grace period (so no
 * datapath thread can still be counting packets into it), reads the final
 * statistics and drops the table's reference.  EMC entries may hold more
 * references; the last one frees the flow. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "datapath/dp-private.h"
#include "lib/atomic.h"
#include "lib/pool.h"
#include "lib/timeval.h"
#include "lib/util.h"

/* ---- Flows -------------------------------------------------------------- */

/* The hash covers the words the mask has bits in: their map, then each
 * such word masked and its mask (an encoding that tells any two
 * megaflows apart), about 100 bytes for a typical megaflow of six words
 * rather than two whole flows (320 bytes): a third of the hashing. */
void
dp_flow_ufid(const struct match *match, struct dp_ufid *ufid)
{
    const uint64_t *f = flow_u64s(&match->flow);
    const uint64_t *m = flow_u64s(&match->wc.masks);
    uint64_t buf[1 + 2 * FLOW_U64S];
    uint64_t map = 0;
    size_t n = 1;
    XXH128_hash_t h;

    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (m[i]) {
            map |= UINT64_C(1) << i;
            buf[n++] = f[i] & m[i];
            buf[n++] = m[i];
        }
    }
    buf[0] = map;
    h = XXH3_128bits(buf, n * sizeof buf[0]);
    ufid->hi = h.high64;
    ufid->lo = h.low64;
}

static void
dp_flow_free(struct dp_flow *flow)
{
    dp_actions_unref(flow->actions);
    if (flow->pooled) {
        pool_free(flow);
    } else {
        free(flow);
    }
}

void
dp_flow_unref(struct dp_flow *flow)
{
    if (flow && atomic_sub_fetch_acq_rel(&flow->refcnt, 1) == 0) {
        dp_flow_free(flow);
    }
}

void
dp_flow_stats_sum(const struct dp *dp, const struct dp_flow *flow,
                  struct dp_flow_stats *stats)
{
    unsigned int n = MAX(dp->n_pmds, 1u);
    uint64_t flags = 0;

    memset(stats, 0, sizeof *stats);
    for (unsigned int i = 0; i < n; i++) {
        const struct dp_flow_stats_slot *s = &flow->stats[i];
        uint64_t used = atomic_load_relaxed(&s->used);

        stats->n_packets += atomic_load_relaxed(&s->n_packets);
        stats->n_bytes += atomic_load_relaxed(&s->n_bytes);
        stats->used = MAX(stats->used, used);
        flags |= atomic_load_relaxed(&s->tcp_flags);
    }
    stats->tcp_flags = (uint16_t)flags;
}

void
dp_flow_info_uninit(struct dp_flow_info *info)
{
    if (info) {
        dp_actions_unref(info->actions);
        info->actions = NULL;
    }
}

/* Writer: a snapshot of 'flow' (still in the table). */
static void
dp_flow_fill_info(const struct dp *dp, const struct dp_flow *flow,
                  struct dp_flow_info *info)
{
    info->ufid = flow->ufid;
    dpcls_rule_get_match(&flow->cr, &info->match);
    info->actions = dp_actions_ref(flow->actions);
    dp_flow_stats_sum(dp, flow, &info->stats);
    info->created = flow->created;
    info->draining =
        (atomic_load_relaxed(&flow->drain) & DP_FLOW_DRAINING) != 0;
}

/* ---- Ufid map (writer) -------------------------------------------------- */

/* The ufid index (a ptrmap: a probe for a new flow's ufid reads one line
 * of the table and no flow). */
static uint32_t
dp_ufid_hash(const struct dp_ufid *ufid)
{
    return (uint32_t)(ufid->lo ^ (ufid->hi >> 32));
}

static struct dp_flow *
dp_ufid_find(const struct dp *dp, const struct dp_ufid *ufid)
{
    struct ptrmap_pos pos;
    struct dp_flow *flow;

    PTRMAP_FOR_EACH_WITH_HASH (flow, &pos, dp_ufid_hash(ufid), &dp->ufids) {
        if (dp_ufid_equal(&flow->ufid, ufid)) {
            return flow;
        }
    }
    return NULL;
}

static void
dp_ufid_insert(struct dp *dp, struct dp_flow *flow)
{
    ptrmap_insert(&dp->ufids, dp_ufid_hash(&flow->ufid), flow);
}

static void
dp_ufid_remove(struct dp *dp, struct dp_flow *flow)
{
    ptrmap_remove(&dp->ufids, dp_ufid_hash(&flow->ufid), flow);
}

/* Shrinks the ufid index once it is mostly empty, so that the memory of a
 * storm of flows comes back after they expire. */
static void
dp_ufid_maybe_shrink(struct dp *dp)
{
    ptrmap_shrink(&dp->ufids);
}

void
dp_flow_table_init(struct dp *dp)
{
    pthread_mutex_init(&dp->flow_mutex, NULL);
    pthread_mutex_init(&dp->flush_cb_mutex, NULL);
    dpcls_init(&dp->cls, rcu_qsbr_queue_postpone_hook, dp->rcu);
    ptrmap_init(&dp->ufids);
    dp->n_flows = 0;
    list_init(&dp->flows);
}

/* No datapath thread may be running. */
void
dp_flow_table_destroy(struct dp *dp)
{
    dp_flow_flush(dp);
    rcu_qsbr_queue_reclaim(dp->rcu);
    dpcls_destroy(&dp->cls);
    ptrmap_destroy(&dp->ufids);
    for (size_t i = 0; i < ARRAY_SIZE(dp->flow_pools); i++) {
        pool_destroy(dp->flow_pools[i]); /* Goes with its last flow. */
    }
    pthread_mutex_destroy(&dp->flush_cb_mutex);
    pthread_mutex_destroy(&dp->flow_mutex);
}

void
dp_flow_pools_trim(struct dp *dp)
{
    for (size_t i = 0; i < ARRAY_SIZE(dp->flow_pools); i++) {
        struct pool *pool;

        pthread_mutex_lock(&dp->flow_mutex);
        pool = dp->flow_pools[i];
        pthread_mutex_unlock(&dp->flow_mutex);
        if (pool) {
            /* Pools go only with the datapath. */
            pool_trim_idle(pool, DP_FLOW_POOL_IDLE_MS);
        }
    }
}

/* ---- Operations (writer side, flow_mutex held) -------------------------- */

/* 'map' is flow_wildcards_map(&match->wc); 'now' the creation time. */
static struct dp_flow *
dp_flow_create(struct dp *dp, const struct match *match, uint64_t map,
               const struct dp_ufid *ufid, const struct dp_actions *actions,
               uint64_t now)
{
    unsigned int n_slots = MAX(dp->n_pmds, 1u);
    size_t key_end = offsetof(struct dp_flow, cr) + dpcls_rule_size_map(map);
    /* One thread: its slot right after the key, in the lines a lookup
     * has just read.  Several: on lines of their own, so that a thread
     * counting does not invalidate the key the others compare against. */
    size_t stats_ofs =
        ROUND_UP(key_end, n_slots == 1 ? sizeof(uint64_t) : CACHE_LINE_SIZE);
    size_t size =
        ROUND_UP(stats_ofs + n_slots * sizeof(struct dp_flow_stats_slot),
                 CACHE_LINE_SIZE);
    size_t lines = size / CACHE_LINE_SIZE;
    struct dp_flow *flow;
    bool pooled = lines <= DP_FLOW_POOLED_LINES;

    if (pooled) {
        if (!dp->flow_pools[lines]) {
            dp->flow_pools[lines] =
                pool_create("dp-flow", size, CACHE_LINE_SIZE);
        }
        flow = pool_alloc(dp->flow_pools[lines]);
    } else {
        flow = aligned_alloc(CACHE_LINE_SIZE, size);
        if (!flow) {
            fatal("dp: out of memory for a flow");
        }
    }
    memset(flow, 0, size);
    flow->pooled = pooled;
    flow->actions = dp_actions_ref(actions);
    flow->refcnt = 1;
    flow->stats =
        (struct dp_flow_stats_slot *)(void *)((char *)flow + stats_ofs);
    flow->ufid = *ufid;
    flow->created = now;
    flow->node.is_marker = false;
    flow->seq = dp->next_flow_seq++;
    dpcls_rule_init_map(&flow->cr, &match->flow, &match->wc, map);
    return flow;
}

static void
dp_actions_unref_cb(void *actions)
{
    dp_actions_unref(actions);
}

/* With DP_FLOW_PUT_UFID in 'flags', 'match' is normalized and '*ufidp'
 * holds its ufid; otherwise the ufid is stored there (if nonnull).  'map'
 * is flow_wildcards_map() of the mask, or UINT64_MAX if not computed yet;
 * 'now' the time to create a flow with. */
static int
dp_flow_put__(struct dp *dp, const struct match *match_,
              const struct dp_actions *actions, unsigned int flags,
              struct dp_ufid *ufidp, struct dp_flow_stats *stats, uint64_t map,
              uint64_t now)
{
    const struct match *match = match_;
    struct match normalized;
    struct dp_ufid ufid;
    struct dp_flow *flow;

    if (flags & DP_FLOW_PUT_UFID) {
        ufid = *ufidp;
    } else {
        normalized = *match_;
        match_normalize(&normalized);
        match = &normalized;
        dp_flow_ufid(match, &ufid);
        if (ufidp) {
            *ufidp = ufid;
        }
    }

    flow = dp_ufid_find(dp, &ufid);
    if (flow) {
        struct dp_actions *old;

        if (!(flags & DP_FLOW_PUT_MODIFY)) {
            return EEXIST;
        }
        if (stats) {
            dp_flow_stats_sum(dp, flow, stats);
        }
        old = flow->actions;
        atomic_store_release(&flow->actions, dp_actions_ref(actions));
        rcu_qsbr_queue_postpone(dp->rcu, dp_actions_unref_cb, old);
        return 0;
    }
    if (!(flags & DP_FLOW_PUT_CREATE)) {
        return ENOENT;
    }
    if (dp->n_flows >= atomic_load_relaxed(&dp->max_flows)) {
        return EFBIG;
    }

    if (map == UINT64_MAX) {
        map = flow_wildcards_map(&match->wc);
    }
    flow = dp_flow_create(dp, match, map, &ufid, actions, now);
    if (flags & DP_FLOW_PUT_DRAIN) {
        /* Before it is published: no thread ever sees it undrained. */
        flow->drain = DP_FLOW_DRAINING;
    }
    dpcls_insert(&dp->cls, &flow->cr, &match->wc);
    if (flags & DP_FLOW_PUT_DRAIN) {
        dp_drain_add(dp, flow);
    }
    dp_ufid_insert(dp, flow);
    list_push_back(&dp->flows, &flow->node.list);
    atomic_store_relaxed(&dp->n_flows, dp->n_flows + 1);
    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    return 0;
}

/* Unlinks 'flow' and marks it dead; the caller drops the table's
 * reference after a grace period. */
static void
dp_flow_unlink(struct dp *dp, struct dp_flow *flow)
{
    dpcls_remove(&dp->cls, &flow->cr);
    dp_ufid_remove(dp, flow);
    list_remove(&flow->node.list);
    atomic_store_relaxed(&flow->dead, true);
    atomic_store_relaxed(&dp->n_flows, dp->n_flows - 1);
    dp_ufid_maybe_shrink(dp);
}

/* After unlinking 'flows[0..n)': waits for a grace period, then reports
 * final statistics (stats[i] may be NULL) and drops the references. */
static void
dp_flows_finish_delete(struct dp *dp, struct dp_flow **flows,
                       struct dp_flow_stats **stats, size_t n)
{
    if (!n) {
        return;
    }
    rcu_qsbr_synchronize();
    for (size_t i = 0; i < n; i++) {
        if (stats && stats[i]) {
            dp_flow_stats_sum(dp, flows[i], stats[i]);
        }
        dp_flow_unref(flows[i]);
    }
}

/* The end of a flush with a callback: flows[0..n) are unlinked; after the
 * grace period their statistics are final, and the callback hears of
 * them in batches.  'flush_cb_mutex' held. */
static void
dp_flows_report_flushed(struct dp *dp, struct dp_flow **flows, size_t n)
{
    enum { BATCH = 64 };
    struct dp_ufid ufids[BATCH];
    struct dp_flow_stats stats[BATCH];

    rcu_qsbr_synchronize();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t k = MIN(n - i, (size_t)BATCH);

        for (size_t j = 0; j < k; j++) {
            ufids[j] = flows[i + j]->ufid;
            dp_flow_stats_sum(dp, flows[i + j], &stats[j]);
            dp_flow_unref(flows[i + j]);
        }
        dp->flush_cb(ufids, stats, k, dp->flush_cb_aux);
    }
}

/* ---- Public operations -------------------------------------------------- */

/* Ops of a run of puts and deletes whose scratch (and prefetches) fit on
 * the stack: a handler's batch of puts. */
#define DP_OPERATE_RUN 64

/* Before a run of 'n' ops of which the puts that bring their ufid are a
 * handler's new flows: starts loading the ufid index bucket and the
 * classifier bucket each will probe and fill, so that the misses of the
 * run overlap instead of adding up, and keeps each put's mask map in
 * maps[] (UINT64_MAX for the other ops).  flow_mutex held. */
static void
dp_operate_prefetch(const struct dp *dp, const struct dp_op ops[], size_t n,
                    uint64_t maps[])
{
    for (size_t k = 0; k < n; k++) {
        const struct dp_op *op = &ops[k];

        maps[k] = UINT64_MAX;
        if (op->type == DP_OP_FLOW_PUT && op->put.flags & DP_FLOW_PUT_UFID) {
            const struct match *match = op->put.match;

            maps[k] = flow_wildcards_map(&match->wc);
            ptrmap_prefetch(&dp->ufids, dp_ufid_hash(&op->put.ufid));
            dpcls_prefetch_insert(&dp->cls, &match->flow, &match->wc, maps[k]);
        }
    }
}

void
dp_operate(struct dp *dp, struct dp_op ops[], size_t n)
{
    struct dp_flow *dels_buf[DP_OPERATE_RUN];
    struct dp_flow_stats *del_stats_buf[DP_OPERATE_RUN];
    uint64_t maps[DP_OPERATE_RUN];
    size_t i = 0;

    while (i < n) {
        struct dp_flow **dels;
        struct dp_flow_stats **del_stats;
        size_t n_dels = 0, j;
        uint64_t now;

        if (ops[i].type == DP_OP_EXECUTE) {
            /* A run of executes shares one read lock and sends once per
             * port at its end: one send per port instead of one per
             * packet, packets to one port in the order of the ops. */
            struct dp_tx_set tx = {.n = 0};
            struct dp_exec_ctx ctx = {.dp = dp, .pmd = NULL, .tx = &tx};

            pthread_rwlock_rdlock(&dp->exec_lock);
            for (; i < n && ops[i].type == DP_OP_EXECUTE; i++) {
                struct dp_op *op = &ops[i];

                dp_execute__(&ctx, op->execute.packet, op->execute.actions,
                             op->execute.may_steal);
                op->error = 0;
            }
            dp_tx_set_flush(&tx);
            pthread_rwlock_unlock(&dp->exec_lock);
            continue;
        }

        for (j = i; j < n && ops[j].type != DP_OP_EXECUTE; j++) {
            continue;
        }
        if (j - i <= DP_OPERATE_RUN) {
            dels = dels_buf;
            del_stats = del_stats_buf;
        } else {
            dels = xmalloc((j - i) * sizeof(struct dp_flow *));
            del_stats = xmalloc((j - i) * sizeof(struct dp_flow_stats *));
        }
        now = time_msec();

        pthread_mutex_lock(&dp->flow_mutex);
        dp_operate_prefetch(dp, &ops[i], MIN(j - i, DP_OPERATE_RUN), maps);
        for (size_t k = 0; i < j; i++, k++) {
            struct dp_op *op = &ops[i];
            struct dp_flow *flow;

            switch (op->type) {
            case DP_OP_FLOW_PUT:
                op->error = dp_flow_put__(
                    dp, op->put.match, op->put.actions, op->put.flags,
                    &op->put.ufid, op->put.stats,
                    k < DP_OPERATE_RUN ? maps[k] : UINT64_MAX, now);
                break;
            case DP_OP_FLOW_DEL:
                flow = dp_ufid_find(dp, &op->del.ufid);
                if (!flow) {
                    op->error = ENOENT;
                    break;
                }
                dp_flow_unlink(dp, flow);
                dels[n_dels] = flow;
                del_stats[n_dels++] = op->del.stats;
                op->error = 0;
                break;
            case DP_OP_FLOW_GET:
                flow = dp_ufid_find(dp, &op->get.ufid);
                if (!flow) {
                    op->error = ENOENT;
                    break;
                }
                dp_flow_fill_info(dp, flow, op->get.info);
                op->error = 0;
                break;
            case DP_OP_EXECUTE:
            default:
                op->error = EINVAL;
                break;
            }
        }
        pthread_mutex_unlock(&dp->flow_mutex);

        dp_flows_finish_delete(dp, dels, del_stats, n_dels);
        if (dels != dels_buf) {
            free(dels);
            free(del_stats);
        }
    }
}

/* Runs the one operation 'op' and returns its error. */
static int
dp_operate_one(struct dp *dp, struct dp_op *op)
{
    dp_operate(dp, op, 1);
    return op->error;
}

int
dp_flow_put(struct dp *dp, const struct match *match,
            const struct dp_actions *actions, unsigned int flags,
            struct dp_ufid *ufid, struct dp_flow_stats *stats)
{
    struct dp_op op;
    int error;

    memset(&op, 0, sizeof op);
    op.type = DP_OP_FLOW_PUT;
    op.put.match = match;
    op.put.actions = actions;
    op.put.flags = flags & ~DP_FLOW_PUT_UFID; /* dp_operate() only. */
    op.put.stats = stats;
    error = dp_operate_one(dp, &op);
    if (ufid) {
        *ufid = op.put.ufid;
    }
    return error;
}

int
dp_flow_del(struct dp *dp, const struct dp_ufid *ufid,
            struct dp_flow_stats *stats)
{
    struct dp_op op = {.type = DP_OP_FLOW_DEL,
                       .del = {.ufid = *ufid, .stats = stats}};

    return dp_operate_one(dp, &op);
}

int
dp_flow_get(struct dp *dp, const struct dp_ufid *ufid,
            struct dp_flow_info *info)
{
    struct dp_op op = {.type = DP_OP_FLOW_GET,
                       .get = {.ufid = *ufid, .info = info}};

    return dp_operate_one(dp, &op);
}

size_t
dp_flow_flush(struct dp *dp)
{
    struct dp_flow **dels;
    struct dp_list_node *node;
    size_t n = 0;

    pthread_mutex_lock(&dp->flow_mutex);
    dels = xmalloc(MAX(dp->n_flows, (size_t)1) * sizeof(struct dp_flow *));
    LIST_FOR_EACH_SAFE (node, list, &dp->flows) {
        if (!node->is_marker) {
            struct dp_flow *flow = CONTAINER_OF(node, struct dp_flow, node);

            dp_flow_unlink(dp, flow);
            dels[n++] = flow;
        }
    }
    pthread_mutex_unlock(&dp->flow_mutex);

    pthread_mutex_lock(&dp->flush_cb_mutex);
    if (dp->flush_cb && n) {
        dp_flows_report_flushed(dp, dels, n);
    } else {
        dp_flows_finish_delete(dp, dels, NULL, n);
    }
    pthread_mutex_unlock(&dp->flush_cb_mutex);
    free(dels);
    return n;
}

void
dp_set_flow_flush_cb(struct dp *dp, dp_flow_flush_cb *cb, void *aux)
{
    pthread_mutex_lock(&dp->flush_cb_mutex);
    dp->flush_cb = cb;
    dp->flush_cb_aux = aux;
    pthread_mutex_unlock(&dp->flush_cb_mutex);
}

/* ---- Dumps -------------------------------------------------------------- */

/* True if 'pos', a node of dp->flows other than its head, is a dump's
 * marker rather than a flow. */
static bool
dp_list_is_marker(const struct list *pos)
{
    return CONTAINER_OF(pos, struct dp_list_node, list)->is_marker;
}

struct dp_flow_dump {
    struct dp *dp;
    struct dp_list_node marker; /* flow_mutex. */
    uint64_t end_seq;           /* Flows from this one on are newer. */
    bool done;                  /* flow_mutex. */
};

struct dp_flow_dump *
dp_flow_dump_create(struct dp *dp)
{
    struct dp_flow_dump *dump = xzalloc(sizeof *dump);

    dump->dp = dp;
    dump->marker.is_marker = true;
    pthread_mutex_lock(&dp->flow_mutex);
    dump->end_seq = dp->next_flow_seq;
    list_push_front(&dp->flows, &dump->marker.list);
    pthread_mutex_unlock(&dp->flow_mutex);
    return dump;
}

size_t
dp_flow_dump_next(struct dp_flow_dump *dump, struct dp_flow_info flows[],
                  size_t max)
{
    struct dp *dp = dump->dp;
    struct list *pos;
    size_t n = 0;

    pthread_mutex_lock(&dp->flow_mutex);
    pos = dump->marker.list.next;
    while (!dump->done && n < max) {
        if (pos == &dp->flows) {
            dump->done = true;
        } else if (!dp_list_is_marker(pos)) {
            struct dp_flow *flow =
                CONTAINER_OF(pos, struct dp_flow, node.list);

            if (flow->seq >= dump->end_seq) {
                dump->done = true;
                break;
            }
            dp_flow_fill_info(dp, flow, &flows[n++]);
        }
        if (!dump->done) {
            pos = pos->next;
        }
    }
    /* Move the marker just before 'pos', the first flow not returned. */
    list_remove(&dump->marker.list);
    list_insert(pos, &dump->marker.list);
    pthread_mutex_unlock(&dp->flow_mutex);
    return n;
}

void
dp_flow_dump_destroy(struct dp_flow_dump *dump)
{
    if (dump) {
        pthread_mutex_lock(&dump->dp->flow_mutex);
        list_remove(&dump->marker.list);
        pthread_mutex_unlock(&dump->dp->flow_mutex);
        free(dump);
    }
}
