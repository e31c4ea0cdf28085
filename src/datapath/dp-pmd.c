/* datapath/dp-pmd.c — the datapath threads: poll loop, batch
 * classification, action execution and upcall queueing (see datapath.h;
 * the exact-match cache is dp-emc.c).
 *
 * One iteration of a datapath thread announces a quiescent state, loads
 * its poll list and receives one batch from each of its ports.  A batch
 * goes through five phases, each a tight loop over the packets:
 *
 *   1. parse every frame into its flow key (runts are dropped and counted);
 *   2. probe the EMC (dp_emc_lookup_batch()), in passes that prefetch
 *      for each other: hash all keys and fetch their entries; compare and
 *      fetch the flows; check the flows and fetch their stats slots and
 *      actions;
 *   3. classify the EMC misses in one dpcls_lookup_batch() call, and
 *      insert a sample of the hits into the EMC;
 *   4. group the hits by flow (a small hash map on the flow pointer),
 *      count each group into the flow's stats slot of this thread, run
 *      the flow's actions once per group, collecting output per port, and
 *      send each port's output once;
 *   5. queue the misses (and the ACTION upcalls phase 4 produced) to the
 *      handlers, in packet order.
 *
 * Phase 5 comes last because it may wait (offline) for room on a lossless
 * port: by then the batch holds no RCU-protected pointer any more, and
 * after such a wait the iteration starts over from the poll list.
 *
 * Work-conserving upcalls (datapath.h, dp_set_idle_work()).  When the
 * slow path has installed an idle-work function, an iteration that
 * received nothing runs it (one handler batch) before it counts as idle;
 * upcalls this thread queues do not wake a sleeping handler until the
 * thread has been busy for a while ("deferred" wake-ups, flushed before
 * it sleeps); a port whose next batch of misses might not fit in the
 * queues is skipped for the iteration ("paused": its frames wait in its
 * ring); and a thread that finds upcalls queued that someone else is
 * running yields its CPU.
 *
 * Light load (datapath.h): once a poll that received fewer than
 * DP_LIGHT_LOAD_BATCH packets has been dealt with (a poll that finds
 * nothing more and no upcall left to run), the thread sleeps (on its wake
 * fd only: the ports' frames are left to accumulate) for 10 us, doubling
 * up to the datapath's max_sleep_us while the load stays light, halving
 * after a half-full batch and back to none after a full one.
 *
 * Idle threads spin for a while (DP_PMD_SPIN_ITERS empty iterations), then
 * sleep offline in ppoll() on their ports' rx fds and a wake-up eventfd,
 * with a timeout that doubles from DP_PMD_SLEEP_MIN_NS to
 * DP_PMD_SLEEP_MAX_NS (1 ms), so an idle switch does not burn a core and a
 * port without an fd is still polled every millisecond. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapath/dp-emc.h"
#include "datapath/dp-meter.h"
#include "datapath/dp-private.h"
#include "flow/packet-parse.h"
#include "lib/atomic.h"
#include "lib/batch-index.h"
#include "lib/coverage.h"
#include "lib/hash.h"
#include "lib/timeval.h"
#include "netdev/netdev.h"

COVERAGE_DEFINE(dp_lost_queue_full);
COVERAGE_DEFINE(dp_recirc_too_deep);
COVERAGE_DEFINE(dp_recirc_upcall_lost);
COVERAGE_DEFINE(dp_lost_port_share);
COVERAGE_DEFINE(dp_lost_no_handler);
COVERAGE_DEFINE(dp_lost_shutdown);
COVERAGE_DEFINE(dp_parse_drop);
COVERAGE_DEFINE(dp_tx_no_port);
COVERAGE_DEFINE(dp_tx_port_missing);
COVERAGE_DEFINE(dp_drop_action);
COVERAGE_DEFINE(dp_action_upcall_lost);
COVERAGE_DEFINE(dp_lossless_wait);
COVERAGE_DEFINE(dp_drain_upcall);
COVERAGE_DEFINE(dp_drain_upcall_lost);
COVERAGE_DEFINE(dp_idle_work);
COVERAGE_DEFINE(dp_handler_wake_deferred);
COVERAGE_DEFINE(dp_port_paused);

#define DP_PMD_SPIN_ITERS 512
#define DP_PMD_SLEEP_MIN_NS 16000
#define DP_PMD_SLEEP_MAX_NS 1000000
#define DP_PMD_LIGHT_SLEEP_MIN_NS 10000
/* How long a lossless wait sleeps before it looks again on its own. */
#define DP_ROOM_WAIT_NS 10000000

/* ---- Upcall queueing ---------------------------------------------------- */

/* ---- Deferred handler wake-ups (work-conserving upcalls) --------------- */

/* Wakes the handlers of the queues 'pmd' queued to without waking them. */
static void
dp_pmd_flush_wakes(struct dp_pmd *pmd)
{
    struct dp *dp = pmd->dp;

    if (!pmd->n_deferred) {
        return;
    }
    for (size_t w = 0; w < ARRAY_SIZE(pmd->deferred); w++) {
        uint64_t map = pmd->deferred[w];
        unsigned int i;

        pmd->deferred[w] = 0;
        MAP_FOR_EACH_INDEX (i, map) {
            size_t q = w * 64 + i;

            if (q < dp->n_handlers) {
                dp_uqueue_wake_if_waiting(dp->queues[q]);
            }
        }
    }
    pmd->n_deferred = 0;
}

/* A busy iteration (it received something and ran no idle work): wakes
 * the handlers it held back once it has been busy for
 * DP_UPCALL_WAKE_DEFER_ITERS iterations in a row since, for this thread
 * has no time to run their upcalls itself.  Iterations, not time: a
 * thread that the scheduler took off its CPU meanwhile was not busy. */
static void
dp_pmd_check_wakes(struct dp_pmd *pmd)
{
    if (pmd->n_deferred && ++pmd->busy_iters >= DP_UPCALL_WAKE_DEFER_ITERS) {
        atomic_add_single_writer(&pmd->counters[DP_C_WAKE_DEFERRED], 1);
        COVERAGE_INC(dp_handler_wake_deferred);
        dp_pmd_flush_wakes(pmd);
    }
}

/* Queue 'q' got an upcall from 'pmd' without a wake-up. */
static void
dp_pmd_note_deferred(struct dp_pmd *pmd, unsigned int q)
{
    uint64_t bit = UINT64_C(1) << (q % 64);

    if (!(pmd->deferred[q / 64] & bit)) {
        pmd->deferred[q / 64] |= bit;
        if (!pmd->n_deferred++) {
            pmd->busy_iters = 0;
        }
    }
}

/* ---- Upcall queueing ---------------------------------------------------- */

/* Queues one upcall, from datapath thread 'pmd' or (NULL) another thread.
 * Returns 0, ENOBUFS (queue full), EDQUOT (a miss over its port's share
 * of the queue) or ENOENT (no handlers). */
static int
dp_upcall_queue_one(struct dp *dp, struct dp_pmd *pmd, struct dp_packet *pkt,
                    const struct flow *key, uint32_t hash,
                    enum dp_upcall_type type,
                    const struct dp_userdata *userdata,
                    const struct dp_ufid *ufid, struct dp_flow *drain_flow,
                    struct dp_actions *drain_actions)
{
    unsigned int n = dp->n_handlers;
    bool share =
        type == DP_UPCALL_MISS && atomic_load_relaxed(&dp->upcall_port_share);
    unsigned int q;
    int error;

    if (!n) {
        return ENOENT;
    }
    q = hash % n;
    if (pmd) {
        pmd->queued_upcalls = true;
    }
    if (pmd && pmd->defer_wakes) {
        error = dp_uqueue_push_quiet(dp->queues[q], pkt, key, type, userdata,
                                     ufid, share, drain_flow, drain_actions);
        if (!error) {
            dp_pmd_note_deferred(pmd, q);
        }
        return error;
    }
    if (type == DP_UPCALL_DRAIN) {
        return dp_uqueue_push_drain(dp->queues[q], pkt, key, drain_flow,
                                    drain_actions);
    }
    return dp_uqueue_push(dp->queues[q], pkt, key, type, userdata, ufid,
                          share);
}

/* A lossless port's upcall found its queue full (or its port's share
 * used up): waits offline until the handler takes something (or the
 * threads are being stopped).  Returns 0 once queued, ESHUTDOWN if it gave
 * up. */
static int
dp_pmd_wait_for_room(struct dp_pmd *pmd, struct dp_packet *pkt,
                     const struct flow *key, uint32_t hash,
                     enum dp_upcall_type type,
                     const struct dp_userdata *userdata,
                     const struct dp_ufid *ufid, struct dp_flow *drain_flow,
                     struct dp_actions *drain_actions)
{
    struct dp *dp = pmd->dp;
    int error;

    atomic_add_single_writer(&pmd->counters[DP_C_LOSSLESS_WAITS], 1);
    COVERAGE_INC(dp_lossless_wait);
    /* The handlers must run to make room: wake those held back. */
    dp_pmd_flush_wakes(pmd);
    rcu_qsbr_offline();
    atomic_fetch_add_seq_cst(&dp->room_waiters, 1);
    for (;;) {
        /* Read before the attempt, so that room made after it ends the
         * wait at once. */
        uint64_t seen = seq_read(dp->room_seq);

        error = dp_upcall_queue_one(dp, NULL, pkt, key, hash, type, userdata,
                                    ufid, drain_flow, drain_actions);
        if (error != ENOBUFS && error != EDQUOT) {
            break;
        }
        if (atomic_load_relaxed(&dp->pmds_stop)) {
            error = ESHUTDOWN;
            break;
        }
        seq_wait_until(dp->room_seq, seen, time_nsec() + DP_ROOM_WAIT_NS);
    }
    atomic_fetch_sub_seq_cst(&dp->room_waiters, 1);
    rcu_qsbr_online();
    return error;
}

/* Queues one upcall from a datapath thread, waiting on a lossless port.
 * Counts the outcome; a lost packet is recycled.  'port' may only be
 * touched while '*offline' is false. */
static void
dp_pmd_queue_upcall(struct dp_pmd *pmd, struct dp_port *port, bool lossless,
                    struct dp_packet *pkt, const struct flow *key,
                    uint32_t hash, enum dp_upcall_type type,
                    const struct dp_userdata *userdata,
                    const struct dp_ufid *ufid, struct dp_flow *drain_flow,
                    struct dp_actions *drain_actions, bool *offline)
{
    static const enum dp_counter queued[] = {
        [DP_UPCALL_MISS] = DP_C_MISSED,
        [DP_UPCALL_ACTION] = DP_C_ACTION_UPCALL,
        [DP_UPCALL_DRAIN] = DP_C_DRAIN_UPCALL,
    };
    struct dp *dp = pmd->dp;
    bool miss = type == DP_UPCALL_MISS;
    int error;

    error = dp_upcall_queue_one(dp, pmd, pkt, key, hash, type, userdata, ufid,
                                drain_flow, drain_actions);
    if ((error == ENOBUFS || error == EDQUOT) && lossless) {
        if (!*offline) {
            atomic_add_single_writer(&port->lossless_waits, 1);
        }
        *offline = true;
        error = dp_pmd_wait_for_room(pmd, pkt, key, hash, type, userdata, ufid,
                                     drain_flow, drain_actions);
    }
    if (!error) {
        atomic_add_single_writer(&pmd->counters[queued[type]], 1);
        return;
    }

    netdev_packet_recycle(pkt);
    if (type == DP_UPCALL_DRAIN) {
        dp_actions_unref(drain_actions);
        dp_drain_release(drain_flow);
        atomic_add_single_writer(&pmd->counters[DP_C_DRAIN_LOST], 1);
        COVERAGE_INC(dp_drain_upcall_lost);
        return;
    }
    if (!miss) {
        atomic_add_single_writer(&pmd->counters[DP_C_ACTION_UPCALL_LOST], 1);
        COVERAGE_INC(dp_action_upcall_lost);
        return;
    }
    if (error == ENOBUFS) {
        atomic_add_single_writer(&pmd->counters[DP_C_LOST_QUEUE_FULL], 1);
        COVERAGE_INC(dp_lost_queue_full);
    } else if (error == EDQUOT) {
        atomic_add_single_writer(&pmd->counters[DP_C_LOST_PORT_SHARE], 1);
        COVERAGE_INC(dp_lost_port_share);
        if (!*offline) {
            atomic_add_single_writer(&port->lost_port_share, 1);
        }
    } else if (error == ENOENT) {
        atomic_add_single_writer(&pmd->counters[DP_C_LOST_NO_HANDLER], 1);
        COVERAGE_INC(dp_lost_no_handler);
    } else {
        atomic_add_single_writer(&pmd->counters[DP_C_LOST_SHUTDOWN], 1);
        COVERAGE_INC(dp_lost_shutdown);
    }
    if (!*offline) {
        atomic_add_single_writer(&port->lost, 1);
    }
}

/* An upcall of 'type' (ACTION with 'userdata' and 'ufid', or MISS with
 * both NULL) queued after the batch's misses. */
/* A recirculated packet's miss: queued as a port's would be (waiting
 * for room if its port is lossless), but counted apart, since the packet
 * was counted once already when it came in. */
static void
dp_pmd_queue_recirc_upcall(struct dp_pmd *pmd, bool lossless,
                           struct dp_pending_upcall *p, bool *offline)
{
    int error = dp_upcall_queue_one(pmd->dp, pmd, p->packet, &p->key, p->hash,
                                    DP_UPCALL_MISS, NULL, NULL, NULL, NULL);

    if ((error == ENOBUFS || error == EDQUOT) && lossless) {
        *offline = true;
        error = dp_pmd_wait_for_room(pmd, p->packet, &p->key, p->hash,
                                     DP_UPCALL_MISS, NULL, NULL, NULL, NULL);
    }
    if (!error) {
        atomic_add_single_writer(&pmd->counters[DP_C_RECIRC_UPCALL], 1);
        return;
    }
    netdev_packet_recycle(p->packet);
    atomic_add_single_writer(&pmd->counters[DP_C_RECIRC_DROP], 1);
    COVERAGE_INC(dp_recirc_upcall_lost);
}

static void
dp_pmd_add_pending(struct dp_pmd *pmd, struct dp_packet *pkt,
                   const struct flow *key, uint32_t hash,
                   enum dp_upcall_type type,
                   const struct dp_userdata *userdata,
                   const struct dp_ufid *ufid)
{
    static const struct dp_userdata no_userdata;
    static const struct dp_ufid no_ufid;
    struct dp_pending_upcall *p;

    pmd->pending = xgrow(pmd->pending, &pmd->allocated_pending,
                         pmd->n_pending + 1, sizeof *pmd->pending);
    p = &pmd->pending[pmd->n_pending++];
    p->packet = pkt;
    p->key = *key;
    p->hash = hash;
    p->type = type;
    p->userdata = userdata ? *userdata : no_userdata;
    p->ufid = ufid ? *ufid : no_ufid;
    p->flow = NULL;
    p->actions = NULL;
    p->recirc = false;
}

/* A hit on draining 'flow': queued after the batch's misses, as a DRAIN
 * upcall that carries 'actions' (a reference the caller gives) and a
 * unit of the flow's drain count (taken already). */
static void
dp_pmd_add_drain(struct dp_pmd *pmd, struct dp_packet *pkt,
                 const struct flow *key, struct dp_flow *flow,
                 struct dp_actions *actions)
{
    struct dp_pending_upcall *p;

    pmd->pending = xgrow(pmd->pending, &pmd->allocated_pending,
                         pmd->n_pending + 1, sizeof *pmd->pending);
    p = &pmd->pending[pmd->n_pending++];
    p->packet = pkt;
    p->key = *key;
    p->hash = flow_hash_5tuple(key, 0);
    p->type = DP_UPCALL_DRAIN;
    p->userdata.len = 0;
    p->ufid = flow->ufid;
    dp_flow_ref(flow);
    p->flow = flow;
    p->actions = actions;
    p->recirc = false;
}

/* Takes 'n' units of 'flow''s drain count if it is still draining. */
static bool
dp_pmd_drain_hold(struct dp_flow *flow, uint32_t n)
{
    uint32_t d = atomic_load_relaxed(&flow->drain);

    while (d & DP_FLOW_DRAINING) {
        if (atomic_cas_weak_acq_rel(&flow->drain, &d, d + n)) {
            return true;
        }
    }
    return false;
}

/* ---- Output batching ---------------------------------------------------- */

/* dp_port_table_find() through a small per-thread cache of the ports
 * recently output to, emptied at every quiescent state: a port the cache
 * returns was in the map at some point since, so it is still allocated,
 * and a port changed meanwhile is seen changed from the next iteration
 * on, as with any RCU reader. */
static inline struct dp_port *
dp_pmd_port_lookup(struct dp_pmd *pmd, const struct ptrmap *ports,
                   uint32_t port_no)
{
    struct dp_pmd_port_cache *c = &pmd->port_cache;
    struct dp_port *port;

    for (unsigned int i = 0; i < c->n; i++) {
        if (c->port_nos[i] == port_no) {
            return c->ports[i];
        }
    }
    port = dp_port_table_find(ports, port_no);
    if (port && c->n < ARRAY_SIZE(c->ports)) {
        c->port_nos[c->n] = port_no;
        c->ports[c->n++] = port;
    }
    return port;
}

/* Sends 'batch' on 'port', or counts it as dropped if the port is
 * detached (its interface vanished: datapath.h, dp_port_detach()). */
static void
dp_port_send(struct dp_port *port, struct dp_packet_batch *batch,
             bool may_steal)
{
    struct netdev *netdev = atomic_load_acquire(&port->netdev);

    if (LIKELY(netdev)) {
        netdev_send(netdev, batch, may_steal);
        return;
    }
    atomic_fetch_add_relaxed(&port->tx_missing, batch->count);
    COVERAGE_ADD(dp_tx_port_missing, batch->count);
    if (may_steal) {
        netdev_batch_recycle(batch);
    }
    batch->count = 0;
}

void
dp_tx_set_flush(struct dp_tx_set *tx)
{
    for (size_t i = 0; i < tx->n; i++) {
        struct dp_tx_queue *txq = &tx->q[i];

        if (txq->batch.count) {
            dp_port_send(txq->port, &txq->batch, true);
        }
    }
    tx->n = 0;
}

/* Queues 'pkt' (which the caller gives up) for output on 'port'. */
static void
dp_tx_set_enqueue(struct dp_tx_set *tx, struct dp_port *port,
                  struct dp_packet *pkt)
{
    struct dp_tx_queue *txq = NULL;

    for (size_t i = 0; i < tx->n; i++) {
        if (tx->q[i].port == port) {
            txq = &tx->q[i];
            break;
        }
    }
    if (!txq) {
        if (tx->n == DP_PMD_TX_QUEUES) {
            dp_tx_set_flush(tx);
        }
        txq = &tx->q[tx->n++];
        txq->port = port;
        dp_packet_batch_init(&txq->batch);
    } else if (dp_packet_batch_is_full(&txq->batch)) {
        dp_port_send(port, &txq->batch, true);
    }
    txq->batch.packets[txq->batch.count++] = pkt;
}

/* A copy of 'pkt' for one more output, in a pool buffer. */
static struct dp_packet *
dp_pmd_copy_packet(const struct dp_packet *pkt)
{
    struct dp_packet *copy = netdev_packet_alloc();

    dp_packet_put(copy, dp_packet_data(pkt), dp_packet_size(pkt));
    copy->in_port = pkt->in_port;
    return copy;
}

/* ---- Action execution --------------------------------------------------- */

/* Queues an upcall of 'pkt' (given up) from a thread that is not a
 * datapath thread, counting it in 'queued', or drops it, counted in
 * 'lost'.  Returns true if it queued it. */
static bool
dp_ctx_queue_upcall(struct dp_exec_ctx *ctx, struct dp_packet *pkt,
                    const struct flow *key, uint32_t hash,
                    enum dp_upcall_type type, const struct dp_userdata *ud,
                    const struct dp_ufid *ufid, enum dp_counter queued,
                    enum dp_counter lost)
{
    if (!dp_upcall_queue_one(ctx->dp, NULL, pkt, key, hash, type, ud, ufid,
                             NULL, NULL)) {
        dp_ctx_count(ctx, queued, 1);
        return true;
    }
    netdev_packet_recycle(pkt);
    dp_ctx_count(ctx, lost, 1);
    return false;
}

/* A userspace() action on 'pkt' (which the caller gives up). */
static void
dp_action_upcall(struct dp_exec_ctx *ctx, struct dp_packet *pkt,
                 const struct flow *rx_key, const struct dp_userdata *ud,
                 const struct dp_flow *flow)
{
    static const struct dp_ufid no_ufid;
    const struct dp_ufid *ufid = flow ? &flow->ufid : &no_ufid;
    struct flow key;
    uint32_t hash;

    packet_parse(pkt, &key);
    hash = flow_hash_5tuple(rx_key ? rx_key : &key, 0);
    if (ctx->pmd) {
        dp_pmd_add_pending(ctx->pmd, pkt, &key, hash, DP_UPCALL_ACTION, ud,
                           ufid);
    } else if (!dp_ctx_queue_upcall(ctx, pkt, &key, hash, DP_UPCALL_ACTION, ud,
                                    ufid, DP_C_ACTION_UPCALL,
                                    DP_C_ACTION_UPCALL_LOST)) {
        COVERAGE_INC(dp_action_upcall_lost);
    }
}

/* ---- Recirculation ------------------------------------------------------ */

/* recirc() actions nest at most this deep (as in Open vSwitch): a loop of
 * datapath flows ends in a drop. */
#define DP_RECIRC_MAX_DEPTH 6

/* How deep recirc() actions nest in this thread now. */
static __thread unsigned int dp_recirc_depth;

/* A recirculated 'pkt' (given up) that found no flow, or whose flow is
 * draining: an upcall, as a miss from a port would be. */
static void
dp_recirc_upcall(struct dp_exec_ctx *ctx, struct dp_packet *pkt,
                 const struct flow *key)
{
    uint32_t hash = flow_hash_5tuple(key, 0);

    if (ctx->pmd) {
        dp_pmd_add_pending(ctx->pmd, pkt, key, hash, DP_UPCALL_MISS, NULL,
                           NULL);
        ctx->pmd->pending[ctx->pmd->n_pending - 1].recirc = true;
    } else if (!dp_ctx_queue_upcall(ctx, pkt, key, hash, DP_UPCALL_MISS, NULL,
                                    NULL, DP_C_RECIRC_UPCALL,
                                    DP_C_RECIRC_DROP)) {
        COVERAGE_INC(dp_recirc_upcall_lost);
    }
}

/* Counts 'pkt' into 'flow''s stats slot of datapath thread 'pmd'. */
static void
dp_recirc_count(struct dp_pmd *pmd, struct dp_flow *flow,
                const struct dp_packet *pkt, const struct flow *key)
{
    struct dp_flow_stats_slot *st = &flow->stats[pmd->id];

    atomic_add_single_writer(&st->n_packets, 1);
    atomic_add_single_writer(&st->n_bytes, dp_packet_size(pkt));
    atomic_store_relaxed(&st->used, pmd->now);
    atomic_store_relaxed(&st->tcp_flags, atomic_load_relaxed(&st->tcp_flags)
                                             | ntohs(key->tcp_flags));
}

/* recirc(id) on 'pkt' (given up): parses it again and looks it up with
 * 'id' in the key.  In a datapath thread a hit runs its flow at once;
 * elsewhere (the handlers' execute, which has no stats slot) and on a
 * miss or a draining flow it becomes a miss upcall. */
static void
dp_recirc_one(struct dp_exec_ctx *ctx, struct dp_packet *pkt, uint32_t id)
{
    struct dp_packet_batch batch;
    const struct flow *keys[1];
    struct dpcls_rule *rule;
    struct dp_flow *flow;
    struct flow key;

    packet_parse(pkt, &key);
    key.recirc_id = id;
    rule = ctx->pmd ? dpcls_lookup(&ctx->dp->cls, &key, NULL) : NULL;
    flow = rule ? CONTAINER_OF(rule, struct dp_flow, cr) : NULL;
    if (!flow || atomic_load_relaxed(&flow->drain)) {
        dp_recirc_upcall(ctx, pkt, &key);
        return;
    }
    dp_recirc_count(ctx->pmd, flow, pkt, &key);
    keys[0] = &key;
    batch.count = 1;
    batch.packets[0] = pkt;
    dp_recirc_depth++;
    dp_execute_actions(ctx, &batch, keys, atomic_load_acquire(&flow->actions),
                       flow);
    dp_recirc_depth--;
}

/* A recirc(id) action: the packets of 'batch' (kept unless 'last') go
 * through the lookup again, unless they are nested too deep. */
static void
dp_action_recirc(struct dp_exec_ctx *ctx, struct dp_packet_batch *batch,
                 uint32_t id, bool last)
{
    struct dp_packet *pkt;

    if (dp_recirc_depth >= DP_RECIRC_MAX_DEPTH) {
        dp_ctx_count(ctx, DP_C_RECIRC_DROP, batch->count);
        COVERAGE_ADD(dp_recirc_too_deep, batch->count);
        return;
    }
    DP_PACKET_BATCH_FOR_EACH (j, pkt, batch) {
        dp_recirc_one(ctx, last ? pkt : dp_packet_clone(pkt), id);
    }
    if (last) {
        batch->count = 0;
    }
}

/* A meter(N) action: takes the packets the meter drops out of 'batch'
 * (and their keys out of '*keysp', copied into 'kbuf' if needed). */
static void
dp_action_meter(struct dp_exec_ctx *ctx, struct dp_packet_batch *batch,
                const struct flow *const **keysp, const struct flow **kbuf,
                uint32_t meter_id)
{
    bool drop[PACKET_BATCH_MAX];
    size_t n_keep = 0;
    size_t n_drop =
        dp_meters_run(ctx->dp->meters, meter_id, batch, time_nsec(), drop);

    if (!n_drop) {
        return;
    }
    for (size_t i = 0; i < batch->count; i++) {
        if (drop[i]) {
            netdev_packet_recycle(batch->packets[i]);
            continue;
        }
        if (*keysp) {
            /* The analyzer, entering through dp_recirc_one(), loses the
             * batch count between two meters: keys[0..count) are set. */
            /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
            kbuf[n_keep] = (*keysp)[i];
        }
        batch->packets[n_keep++] = batch->packets[i];
    }
    if (*keysp) {
        *keysp = kbuf;
    }
    batch->count = (unsigned int)n_keep;
    dp_ctx_count(ctx, DP_C_METER_DROP, n_drop);
}

void
dp_execute_actions(struct dp_exec_ctx *ctx, struct dp_packet_batch *batch,
                   const struct flow *const keys[],
                   const struct dp_actions *actions,
                   const struct dp_flow *flow)
{
    const struct ptrmap *ports = ctx->dp->ports;
    const struct flow *kbuf[PACKET_BATCH_MAX];
    uint32_t n = actions->n;
    struct dp_packet *pkt;

    if (!n) {
        dp_ctx_count(ctx, DP_C_DROP_ACTION, batch->count);
        COVERAGE_ADD(dp_drop_action, batch->count);
        netdev_batch_recycle(batch);
        return;
    }

    for (uint32_t i = 0; i < n && batch->count; i++) {
        const struct dp_action *a = &actions->a[i];
        bool last = i + 1 == n;

        switch (a->type) {
        case DP_ACTION_OUTPUT: {
            struct dp_port *port =
                ctx->pmd ? dp_pmd_port_lookup(ctx->pmd, ports, a->port)
                         : dp_port_table_find(ports, a->port);

            if (!port) {
                dp_ctx_count(ctx, DP_C_TX_NO_PORT, batch->count);
                COVERAGE_ADD(dp_tx_no_port, batch->count);
            } else if (ctx->tx) {
                DP_PACKET_BATCH_FOR_EACH (j, pkt, batch) {
                    dp_tx_set_enqueue(ctx->tx, port,
                                      last ? pkt : dp_pmd_copy_packet(pkt));
                }
                if (last) {
                    batch->count = 0;
                }
            } else if (last) {
                dp_port_send(port, batch, true);
            } else {
                struct dp_packet_batch copy = *batch;

                dp_port_send(port, &copy, false);
            }
            break;
        }
        case DP_ACTION_USERSPACE:
            DP_PACKET_BATCH_FOR_EACH (j, pkt, batch) {
                /* keys[0..count) are set (see dp_action_meter()). */
                /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
                dp_action_upcall(ctx, last ? pkt : dp_packet_clone(pkt),
                                 keys ? keys[j] : NULL, &a->userspace, flow);
            }
            if (last) {
                batch->count = 0;
            }
            break;
        case DP_ACTION_METER:
            dp_action_meter(ctx, batch, &keys, kbuf, a->meter_id);
            break;
        case DP_ACTION_RECIRC:
            dp_action_recirc(ctx, batch, a->recirc_id, last);
            break;
        default:
            /* Header rewrites: set, push and pop of VLAN tags and MPLS
             * entries (dp_action_apply() ignores anything else). */
            DP_PACKET_BATCH_FOR_EACH (j, pkt, batch) {
                dp_action_apply(a, pkt);
            }
            break;
        }
    }
    if (batch->count) {
        netdev_batch_recycle(batch);
    }
}

/* ---- Batch processing --------------------------------------------------- */

/* The phases below run once per received batch, each a loop over its
 * packets; they are forced inline so that the batch is one function, as
 * it was before they were split out. */
#define DP_PMD_PHASE static inline __attribute__((always_inline))

/* A received batch on its way through the phases (the top comment), on
 * the stack of dp_pmd_process_batch().  Packet i is pkts[i], with key
 * keys[i] and flow flows[i]. */
struct dp_pmd_rx {
    size_t n; /* Packets parsed. */
    struct dp_packet *pkts[PACKET_BATCH_MAX];
    struct flow keys[PACKET_BATCH_MAX];
    struct dp_flow *flows[PACKET_BATCH_MAX]; /* NULL: none (yet). */
    bool emc_enabled;                        /* Insert dpcls hits. */
    bool emc_hashed;                         /* 'hashes' are set. */
    uint32_t hashes[PACKET_BATCH_MAX];       /* dp_emc_hash(keys[i]). */
    size_t n_misses;                         /* EMC misses... */
    uint8_t misses[PACKET_BATCH_MAX];        /* ...their indexes. */
    size_t n_upcalls;                        /* dpcls misses... */
    uint8_t upcalls[PACKET_BATCH_MAX];       /* ...their indexes. */
};

struct dp_pmd_group {
    struct dp_flow *flow;
    uint64_t n_bytes;
    uint16_t tcp_flags;
    struct dp_packet_batch batch;
    const struct flow *keys[PACKET_BATCH_MAX];
};

static inline uint32_t
dp_pmd_random(struct dp_pmd *pmd)
{
    uint32_t x = pmd->rng;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    pmd->rng = x;
    return x;
}

/* Phase 1: parses the frames of 'batch' into rx->keys; drops the runts
 * (counted). */
DP_PMD_PHASE void
dp_pmd_parse_batch(struct dp_pmd *pmd, struct dp_port *port,
                   struct dp_packet_batch *batch, struct dp_pmd_rx *rx)
{
    size_t n = 0, n_parse_drop = 0, n_parse_error = 0;
    struct dp_packet *pkt;

    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        if (UNLIKELY(dp_packet_size(pkt) < ETH_HEADER_LEN)) {
            n_parse_drop++;
            netdev_packet_recycle(pkt);
            continue;
        }
        pkt->in_port = port->port_no;
        if (UNLIKELY(packet_parse(pkt, &rx->keys[n]) != PARSE_OK)) {
            n_parse_error++;
        }
        rx->pkts[n++] = pkt;
    }
    rx->n = n;
    if (UNLIKELY(n_parse_drop)) {
        atomic_add_single_writer(&pmd->counters[DP_C_PARSE_DROP],
                                 n_parse_drop);
        atomic_add_single_writer(&port->parse_drop, n_parse_drop);
        COVERAGE_ADD(dp_parse_drop, n_parse_drop);
    }
    if (n_parse_error) {
        atomic_add_single_writer(&pmd->counters[DP_C_PARSE_ERROR],
                                 n_parse_error);
    }
}

/* Phase 2: looks the batch up in the EMC, unless it is off or not worth
 * it this time (dp-emc.h, "Whether the EMC pays"), and lists the packets
 * it found no flow for in rx->misses. */
DP_PMD_PHASE void
dp_pmd_emc_lookup(struct dp_pmd *pmd, struct dp_pmd_rx *rx)
{
    size_t n = rx->n, n_misses = 0;
    uint64_t hit_map;

    rx->emc_hashed = rx->emc_enabled && dp_emc_should_look_up(pmd->emc);
    if (!rx->emc_hashed) {
        for (size_t i = 0; i < n; i++) {
            rx->flows[i] = NULL;
            rx->misses[i] = (uint8_t)i;
        }
        rx->n_misses = n;
        return;
    }
    hit_map = dp_emc_lookup_batch(pmd->emc, rx->keys, n, pmd->id, rx->hashes,
                                  rx->flows);
    for (size_t i = 0; i < n; i++) {
        if (!(hit_map & (UINT64_C(1) << i))) {
            rx->misses[n_misses++] = (uint8_t)i;
        }
    }
    rx->n_misses = n_misses;
    atomic_add_single_writer(&pmd->counters[DP_C_EMC_HIT], n - n_misses);
}

/* Inserts packet i of 'rx', a dpcls hit, into the EMC. */
static inline void
dp_pmd_emc_insert(struct dp_pmd *pmd, const struct dp_pmd_rx *rx, size_t i)
{
    uint32_t hash = rx->emc_hashed ? rx->hashes[i] : dp_emc_hash(&rx->keys[i]);

    dp_emc_insert(pmd->emc, hash, &rx->keys[i], rx->flows[i],
                  dp_pmd_random(pmd));
}

/* Phase 3: classifies the EMC misses in one dpcls lookup, fetches the
 * stats slots and actions of the flows it finds and inserts a sample of
 * them into the EMC; lists the packets without a flow in rx->upcalls. */
DP_PMD_PHASE void
dp_pmd_dpcls_lookup(struct dp_pmd *pmd, struct dp_pmd_rx *rx)
{
    struct dp *dp = pmd->dp;
    const struct flow *mkeys[PACKET_BATCH_MAX];
    struct dpcls_rule *rules[PACKET_BATCH_MAX];
    struct dpcls_lookup_stats st = {0, 0};
    unsigned int inv = atomic_load_relaxed(&dp->emc_insert_inv_prob);
    size_t n_misses = rx->n_misses, n_upcalls = 0;

    for (size_t j = 0; j < n_misses; j++) {
        mkeys[j] = &rx->keys[rx->misses[j]];
    }
    dpcls_lookup_batch(&dp->cls, mkeys, n_misses, rules, &st);
    for (size_t j = 0; j < n_misses; j++) {
        size_t i = rx->misses[j];
        struct dp_flow *flow;

        if (!rules[j]) {
            rx->upcalls[n_upcalls++] = (uint8_t)i;
            continue;
        }
        flow = rx->flows[i] = CONTAINER_OF(rules[j], struct dp_flow, cr);
        __builtin_prefetch(&flow->stats[pmd->id], 1);
        __builtin_prefetch(atomic_load_acquire(&flow->actions));
        if (rx->emc_enabled && (inv <= 1 || dp_pmd_random(pmd) % inv == 0)) {
            dp_pmd_emc_insert(pmd, rx, i);
        }
    }
    rx->n_upcalls = n_upcalls;
    atomic_add_single_writer(&pmd->counters[DP_C_DPCLS_HIT], st.n_hits);
    dp_emc_count_dpcls(pmd->emc, st.n_hits, st.n_subtable_probes);
    atomic_add_single_writer(&pmd->counters[DP_C_SUBTABLE_PROBES],
                             st.n_subtable_probes);
}

static void
dp_pmd_count_flow(struct dp_pmd *pmd, struct dp_flow *flow,
                  const struct dp_pmd_group *g)
{
    struct dp_flow_stats_slot *s = &flow->stats[pmd->id];

    atomic_add_single_writer(&s->n_packets, g->batch.count);
    atomic_add_single_writer(&s->n_bytes, g->n_bytes);
    if (atomic_load_relaxed(&s->used) != pmd->now) {
        atomic_store_relaxed(&s->used, pmd->now);
    }
    if (g->tcp_flags) {
        atomic_store_relaxed(&s->tcp_flags, atomic_load_relaxed(&s->tcp_flags)
                                                | g->tcp_flags);
    }
}

BUILD_ASSERT(PACKET_BATCH_MAX <= BATCH_INDEX_MAX);

/* The group of 'flow' in groups[0..*n_groups), found through 'ix', or a
 * new one at the end. */
static inline struct dp_pmd_group *
dp_pmd_group_of(struct dp_pmd_group groups[], size_t *n_groups,
                struct batch_index *ix, struct dp_flow *flow)
{
    uint32_t hash = (uint32_t)(((uintptr_t)flow >> 6) * 0x9e3779b1u) >> 7;
    struct dp_pmd_group *g;
    size_t k;

    BATCH_INDEX_FOR_EACH (k, hash, ix) {
        if (groups[k].flow == flow) {
            return &groups[k];
        }
    }
    batch_index_add(ix, hash, *n_groups);
    g = &groups[(*n_groups)++];
    g->flow = flow;
    g->n_bytes = 0;
    g->tcp_flags = 0;
    g->batch.count = 0;
    return g;
}

/* Phase 4a: groups the packets of 'rx' with a flow by flow, in groups[]
 * (a lib/batch-index.h index from flow to group).  Returns the number of
 * groups. */
DP_PMD_PHASE size_t
dp_pmd_group_hits(const struct dp_pmd_rx *rx, struct dp_pmd_group groups[])
{
    struct batch_index ix;
    size_t n_groups = 0;

    batch_index_clear(&ix);
    for (size_t i = 0; i < rx->n; i++) {
        struct dp_flow *flow = rx->flows[i];
        struct dp_pmd_group *g;

        if (!flow) {
            continue;
        }
        g = dp_pmd_group_of(groups, &n_groups, &ix, flow);
        g->keys[g->batch.count] = &rx->keys[i];
        g->batch.packets[g->batch.count++] = rx->pkts[i];
        g->n_bytes += dp_packet_size(rx->pkts[i]);
        g->tcp_flags |= ntohs(rx->keys[i].tcp_flags);
    }
    return n_groups;
}

/* Phase 4b: counts each group into its flow's stats slot of this thread
 * and runs the flow's actions on it once (or, for a draining flow, makes
 * its packets DRAIN upcalls); sends each port's output once. */
DP_PMD_PHASE void
dp_pmd_run_groups(struct dp_pmd *pmd, struct dp_pmd_group groups[],
                  size_t n_groups)
{
    struct dp_exec_ctx ctx = {.dp = pmd->dp, .pmd = pmd, .tx = &pmd->tx};

    for (size_t k = 0; k < n_groups; k++) {
        struct dp_pmd_group *g = &groups[k];

        dp_pmd_count_flow(pmd, g->flow, g);
        if (UNLIKELY(atomic_load_relaxed(&g->flow->drain))
            && dp_pmd_drain_hold(g->flow, g->batch.count)) {
            struct dp_actions *actions =
                atomic_load_acquire(&g->flow->actions);

            for (size_t j = 0; j < g->batch.count; j++) {
                dp_pmd_add_drain(pmd, g->batch.packets[j], g->keys[j], g->flow,
                                 dp_actions_ref(actions));
            }
            COVERAGE_ADD(dp_drain_upcall, g->batch.count);
            continue;
        }
        dp_execute_actions(&ctx, &g->batch, g->keys,
                           atomic_load_acquire(&g->flow->actions), g->flow);
    }
    dp_tx_set_flush(&pmd->tx);
}

/* Phase 5: queues the misses and the ACTION upcalls phase 4 produced to
 * the handlers, in packet order.  May wait offline for room (then sets
 * '*offline'). */
DP_PMD_PHASE void
dp_pmd_queue_upcalls(struct dp_pmd *pmd, struct dp_port *port,
                     const struct dp_pmd_rx *rx, bool *offline)
{
    bool lossless = port->lossless;

    for (size_t j = 0; j < rx->n_upcalls; j++) {
        size_t i = rx->upcalls[j];

        dp_pmd_queue_upcall(pmd, port, lossless, rx->pkts[i], &rx->keys[i],
                            flow_hash_5tuple(&rx->keys[i], 0), DP_UPCALL_MISS,
                            NULL, NULL, NULL, NULL, offline);
    }
    for (size_t j = 0; j < pmd->n_pending; j++) {
        struct dp_pending_upcall *p = &pmd->pending[j];

        if (p->recirc) {
            dp_pmd_queue_recirc_upcall(pmd, lossless, p, offline);
            continue;
        }
        dp_pmd_queue_upcall(pmd, port, lossless, p->packet, &p->key, p->hash,
                            p->type, &p->userdata, &p->ufid, p->flow,
                            p->actions, offline);
    }
    pmd->n_pending = 0;
}

/* Runs 'batch', received on 'port', through the phases of the top
 * comment. */
static void
dp_pmd_process_batch(struct dp_pmd *pmd, struct dp_port *port,
                     struct dp_packet_batch *batch, bool *offline)
{
    struct dp_pmd_rx rx;

    rx.emc_enabled = atomic_load_relaxed(&pmd->dp->emc_enabled);
    dp_pmd_parse_batch(pmd, port, batch, &rx);
    dp_pmd_emc_lookup(pmd, &rx);
    rx.n_upcalls = 0;
    if (rx.n_misses) {
        dp_pmd_dpcls_lookup(pmd, &rx);
    }
    if (rx.n_upcalls < rx.n) {
        struct dp_pmd_group groups[PACKET_BATCH_MAX];

        dp_pmd_run_groups(pmd, groups, dp_pmd_group_hits(&rx, groups));
    }
    if (rx.n_upcalls || pmd->n_pending) {
        dp_pmd_queue_upcalls(pmd, port, &rx, offline);
    }
}

/* Work-conserving upcalls: whether a batch of misses from 'port' might
 * not fit in the upcall queues now.  Then the thread leaves the port's
 * frames in its receive ring for this iteration (where the kernel counts
 * them if the ring overflows) instead of losing them at a full queue: if
 * it has nothing else to forward it runs the batch that makes room. */
static bool
dp_pmd_port_paused(struct dp_pmd *pmd, const struct dp_port *port)
{
    const struct dp *dp = pmd->dp;
    bool share = atomic_load_relaxed(&dp->upcall_port_share);
    bool any = false;

    for (unsigned int q = 0; q < dp->n_handlers; q++) {
        const struct dp_upcall_queue *queue = dp->queues[q];

        if (dp_uqueue_port_room(queue, port->port_no, share)
            < PACKET_BATCH_MAX) {
            return true;
        }
        any = any || dp_uqueue_len(queue);
    }
    if (!any) {
        /* Everything it queued was taken: no more looking until it
         * queues again. */
        pmd->queued_upcalls = false;
    }
    return false;
}

/* Receives and processes one batch from 'port'.  Returns the number of
 * packets received. */
static size_t
dp_pmd_poll_port(struct dp_pmd *pmd, struct dp_port *port, bool *offline)
{
    struct dp_packet_batch batch;
    struct netdev *netdev;
    int error;

    /* Only while upcalls this thread queued may still wait (it looks at
     * the consumers' cache lines): a thread forwarding hits alone pays
     * nothing for this. */
    if (pmd->defer_wakes && pmd->queued_upcalls && !port->lossless
        && dp_pmd_port_paused(pmd, port)) {
        atomic_add_single_writer(&pmd->counters[DP_C_PORT_PAUSED], 1);
        COVERAGE_INC(dp_port_paused);
        return 0;
    }
    netdev = atomic_load_acquire(&port->netdev);
    if (UNLIKELY(!netdev)) {
        return 0; /* Detached: its interface vanished. */
    }
    dp_packet_batch_init(&batch);
    error = netdev_recv(netdev, &batch);
    if (error) {
        if (error == EOF) {
            atomic_store_relaxed(&port->rx_done, true);
        }
        return 0;
    }
    atomic_add_single_writer(&port->rx, batch.count);
    atomic_add_single_writer(&pmd->counters[DP_C_RX], batch.count);
    dp_pmd_process_batch(pmd, port, &batch, offline);
    return batch.count;
}

/* ---- The thread --------------------------------------------------------- */

/* Forgets the held-back wake-ups of queues that are empty now (their
 * upcalls were taken, by this thread's idle work or by a handler). */
static void
dp_pmd_prune_wakes(struct dp_pmd *pmd)
{
    struct dp *dp = pmd->dp;

    for (size_t w = 0; pmd->n_deferred && w < ARRAY_SIZE(pmd->deferred); w++) {
        uint64_t map = pmd->deferred[w];
        unsigned int i;

        MAP_FOR_EACH_INDEX (i, map) {
            size_t q = w * 64 + i;

            if (q >= dp->n_handlers || !dp_uqueue_len(dp->queues[q])) {
                pmd->deferred[w] &= ~(UINT64_C(1) << i);
                pmd->n_deferred--;
            }
        }
    }
}

enum dp_idle_result {
    DP_IDLE_NOTHING, /* No upcall queued. */
    DP_IDLE_DID,     /* Ran a batch. */
    DP_IDLE_TAKEN,   /* Upcalls queued, but others are at them. */
};

/* Idle work (datapath.h, "Work-conserving upcalls"): offline and, for
 * draining flows, asleep (every miss of this iteration is queued, no
 * lookup is in flight).  Sets '*went_offline' if it went offline: the
 * caller's RCU pointers (its poll list) may have been freed since. */
static enum dp_idle_result
dp_pmd_idle_work(struct dp_pmd *pmd, bool *went_offline)
{
    struct dp *dp = pmd->dp;
    bool did = false;
    unsigned int q;

    /* Most idle iterations have nothing to run: find that out without
     * going offline (a memory barrier) or taking the lock. */
    for (q = 0; q < dp->n_handlers; q++) {
        if (dp_uqueue_len(dp->queues[q])) {
            break;
        }
    }
    if (q == dp->n_handlers) {
        return DP_IDLE_NOTHING;
    }
    if (pthread_rwlock_tryrdlock(&dp->idle_work_lock)) {
        return DP_IDLE_TAKEN; /* Being changed. */
    }
    if (dp->idle_work_fn) {
        *went_offline = true;
        rcu_qsbr_offline();
        atomic_exchange_seq_cst(&pmd->asleep, 1);
        did = dp->idle_work_fn(dp->idle_work_aux, pmd->id);
        atomic_exchange_seq_cst(&pmd->asleep, 0);
        rcu_qsbr_online();
    }
    pthread_rwlock_unlock(&dp->idle_work_lock);
    if (!did) {
        return DP_IDLE_TAKEN;
    }
    atomic_add_single_writer(&pmd->counters[DP_C_IDLE_WORK], 1);
    COVERAGE_INC(dp_idle_work);
    if (pmd->n_deferred) {
        /* Progress: what is still queued waits from now on. */
        dp_pmd_prune_wakes(pmd);
        pmd->busy_iters = 0;
    }
    return DP_IDLE_DID;
}

void
dp_pmd_wake(struct dp_pmd *pmd)
{
    uint64_t one = 1;

    if (write(pmd->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN: saturated, so readable anyway. */
    }
}

/* Light load (datapath.h): whether the thread may sleep after a poll
 * that received a few packets — sleeping is on, and no upcall waits in
 * any queue (it would run them, or must not hold their wake-up back). */
static bool
dp_pmd_light_load(struct dp_pmd *pmd)
{
    const struct dp *dp = pmd->dp;

    if (!atomic_load_relaxed(&dp->max_sleep_us)) {
        return false;
    }
    for (unsigned int q = 0; q < dp->n_handlers; q++) {
        if (dp_uqueue_len(dp->queues[q])) {
            return false;
        }
    }
    dp_pmd_flush_wakes(pmd);
    return true;
}

static uint64_t
dp_pmd_max_sleep_ns(const struct dp_pmd *pmd)
{
    return MAX((uint64_t)atomic_load_relaxed(&pmd->dp->max_sleep_us) * 1000,
               (uint64_t)DP_PMD_LIGHT_SLEEP_MIN_NS);
}

/* What woke a sleep on 'fds[0..n)' (fds[0] the wake fd).  A port's socket
 * with an error pending (POLLERR: its interface went down or vanished)
 * stays readable until someone takes the error, so the thread would spin:
 * the next iteration takes it (dp_pmd_take_port_errors()), online, where
 * the ports are still safe to touch. */
static void
dp_pmd_sleep_events(struct dp_pmd *pmd, const struct pollfd *fds, size_t n)
{
    if (fds[0].revents) {
        uint64_t count;

        if (read(pmd->wake_fd, &count, sizeof count) < 0) {
            /* EAGAIN: drained already. */
        }
    }
    for (size_t i = 1; i < n; i++) {
        if (fds[i].revents & POLLERR) {
            pmd->port_fd_error = true;
        }
    }
}

/* Takes the pending socket errors of the ports of 'list' (see
 * dp_pmd_sleep_events()); netdev_rx_take_error() counts and logs them. */
static void
dp_pmd_take_port_errors(struct dp_pmd *pmd, const struct dp_poll_list *list)
{
    pmd->port_fd_error = false;
    for (size_t i = 0; i < list->n; i++) {
        struct netdev *netdev = atomic_load_acquire(&list->ports[i]->netdev);

        if (netdev) {
            netdev_rx_take_error(netdev);
        }
    }
}

/* Sleeps offline until a port's rx fd (with 'on_ports') or the wake fd is
 * readable, or 'ns' pass. */
static void
dp_pmd_sleep(struct dp_pmd *pmd, const struct dp_poll_list *list, uint64_t ns,
             bool on_ports)
{
    struct pollfd fds_buf[16];
    struct pollfd *fds = fds_buf;
    struct timespec ts;
    size_t n_fds = 0;

    if (on_ports && list->n + 1 > ARRAY_SIZE(fds_buf)) {
        fds = xmalloc((list->n + 1) * sizeof *fds);
    }
    fds[n_fds].fd = pmd->wake_fd;
    fds[n_fds++].events = POLLIN;
    for (size_t i = 0; on_ports && i < list->n; i++) {
        struct dp_port *port = list->ports[i];
        struct netdev *netdev = atomic_load_acquire(&port->netdev);
        int fd;

        if (atomic_load_relaxed(&port->rx_done) || !netdev) {
            continue;
        }
        fd = netdev_get_rx_fd(netdev);
        if (fd >= 0) {
            fds[n_fds].fd = fd;
            fds[n_fds++].events = POLLIN;
        }
    }
    ts = time_timespec_from_nsec(ns);

    rcu_qsbr_offline();
    /* Asleep: no lookup in flight, for draining flows ("Order"). */
    atomic_exchange_seq_cst(&pmd->asleep, 1);
    if (ppoll(fds, n_fds, &ts, NULL) > 0) {
        dp_pmd_sleep_events(pmd, fds, n_fds);
    }
    atomic_exchange_seq_cst(&pmd->asleep, 0);
    rcu_qsbr_online();

    if (fds != fds_buf) {
        free(fds);
    }
}

/* The start of an iteration at 'now_ns': a quiescent state, then the
 * poll list to receive from. */
static const struct dp_poll_list *
dp_pmd_iteration_start(struct dp_pmd *pmd, uint64_t now_ns)
{
    const struct dp_poll_list *list;

    rcu_qsbr_quiesce();
    /* A new iteration: the one before has queued all its upcalls
     * (draining flows, datapath.h "Order"). */
    atomic_fetch_add_seq_cst(&pmd->drain_seq, 1);
    pmd->defer_wakes = atomic_load_relaxed(&pmd->dp->idle_work_on);
    if (!pmd->defer_wakes) {
        dp_pmd_flush_wakes(pmd);
    }
    /* After a quiescent state a port removed before may have been freed
     * and its address reused: forget the cached lookups. */
    pmd->port_cache.n = 0;
    list = atomic_load_acquire(&pmd->poll_list);
    pmd->now = now_ns / 1000000; /* time_msec() */
    return list;
}

/* Receives and processes one batch from each port of 'list'.  Returns
 * the number of packets received. */
static size_t
dp_pmd_poll_ports(struct dp_pmd *pmd, const struct dp_poll_list *list,
                  bool *offline)
{
    size_t rx = 0;

    if (UNLIKELY(pmd->port_fd_error)) {
        dp_pmd_take_port_errors(pmd, list);
    }
    /* 'offline' first: after a lossless wait (offline) the list may
     * have been freed by dp_port_del() (found by the port-removal
     * system test under ASan). */
    for (size_t i = 0; !*offline && i < list->n; i++) {
        struct dp_port *port = list->ports[i];

        if (!atomic_load_relaxed(&port->rx_done)) {
            rx += dp_pmd_poll_port(pmd, port, offline);
        }
    }
    return rx;
}

/* Runs a batch of the upcalls queued meanwhile, after a poll that
 * received nothing.  Returns whether it did. */
static bool
dp_pmd_try_idle_work(struct dp_pmd *pmd, bool *went_offline)
{
    switch (dp_pmd_idle_work(pmd, went_offline)) {
    case DP_IDLE_DID:
        return true;
    case DP_IDLE_TAKEN:
        /* A handler (or another datapath thread) is at them: if it
         * shares this CPU, let it have it. */
        sched_yield();
        return false;
    case DP_IDLE_NOTHING:
    default:
        return false;
    }
}

void *
dp_pmd_main(void *pmd_)
{
    struct dp_pmd *pmd = pmd_;
    struct dp *dp = pmd->dp;
    uint64_t sleep_ns = DP_PMD_SLEEP_MIN_NS;
    unsigned int idle = 0;
    /* CPU time: each iteration's time, from its start to the next one's,
     * goes to busy (it received, ran idle work or waited for room) or
     * idle (a poll that found nothing); sleeping counts as neither. */
    uint64_t last_ns = time_nsec();
    bool was_busy = false;
    uint64_t light_ns = 0; /* Current light-load sleep ("Light load"). */
    bool light = false;    /* The last poll with packets had a few. */

    rcu_qsbr_thread_register();
    while (!atomic_load_relaxed(&dp->pmds_stop)) {
        const struct dp_poll_list *list;
        bool offline = false, went_offline = false;
        size_t work, rx;
        uint64_t now_ns = time_nsec();

        atomic_add_single_writer(
            &pmd->counters[was_busy ? DP_C_BUSY_NS : DP_C_IDLE_NS],
            now_ns - last_ns);
        last_ns = now_ns;

        list = dp_pmd_iteration_start(pmd, now_ns);
        work = rx = dp_pmd_poll_ports(pmd, list, &offline);
        dp_emc_sweep_step(pmd->emc);

        /* Nothing received: the upcalls queued meanwhile are this
         * thread's to run (work-conserving upcalls); busy, it holds the
         * handlers' wake-ups back only for so long. */
        if (!work && !offline && pmd->defer_wakes) {
            work = dp_pmd_try_idle_work(pmd, &went_offline);
        } else if (work) {
            dp_pmd_check_wakes(pmd);
        }
        was_busy = work || offline;
        if (rx >= PACKET_BATCH_MAX) {
            light = false;
            light_ns = 0; /* Heavy load: no sleeping. */
        } else if (rx >= DP_LIGHT_LOAD_BATCH) {
            light = false;
            light_ns /= 2;
        } else if (rx) {
            light = true;
        } else if (light && !work && !offline && !went_offline
                   && dp_pmd_light_load(pmd)) {
            /* The last poll that received anything got a few packets,
             * and what they brought (upcalls) is done: let the rings
             * fill a little before the next poll. */
            light = false;
            light_ns = light_ns ? MIN(light_ns * 2, dp_pmd_max_sleep_ns(pmd))
                                : DP_PMD_LIGHT_SLEEP_MIN_NS;
            atomic_add_single_writer(&pmd->counters[DP_C_LIGHT_SLEEP], 1);
            atomic_add_single_writer(&pmd->counters[DP_C_BUSY_NS],
                                     time_nsec() - last_ns);
            was_busy = false;
            dp_pmd_sleep(pmd, list, light_ns, false);
            last_ns = time_nsec();
            idle = 0;
            continue;
        }
        if (work || offline) {
            idle = 0;
            sleep_ns = DP_PMD_SLEEP_MIN_NS;
            continue;
        }
        /* Not past a time offline either: 'list' may be gone (the
         * lossless wait and idle work go offline). */
        if (++idle < DP_PMD_SPIN_ITERS || went_offline) {
            continue;
        }
        dp_pmd_flush_wakes(pmd);
        atomic_add_single_writer(&pmd->counters[DP_C_IDLE_NS],
                                 time_nsec() - last_ns);
        dp_pmd_sleep(pmd, list, sleep_ns, true);
        last_ns = time_nsec();
        sleep_ns = MIN(sleep_ns * 2, (uint64_t)DP_PMD_SLEEP_MAX_NS);
    }
    dp_pmd_flush_wakes(pmd);
    rcu_qsbr_thread_unregister();
    return NULL;
}
