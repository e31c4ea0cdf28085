/* datapath/dp-pmd.c — the datapath threads: poll loop, exact-match cache,
 * batch classification, action execution and upcall queueing (see
 * datapath.h).
 *
 * One iteration of a datapath thread announces a quiescent state, loads
 * its poll list and receives one batch from each of its ports.  A batch
 * goes through five phases, each a tight loop over the packets:
 *
 *   1. parse every frame into its flow key (runts are dropped and counted);
 *   2. probe the EMC, in passes that prefetch for each other: hash all
 *      keys and fetch their entries; compare and fetch the flows; check
 *      the flows and fetch their stats slots and actions;
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

#include "datapath/dp-private.h"
#include "flow/packet-parse.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/hash.h"
#include "lib/timeval.h"
#include "netdev/netdev.h"

COVERAGE_DEFINE(dp_lost_queue_full);
COVERAGE_DEFINE(dp_lost_port_share);
COVERAGE_DEFINE(dp_lost_no_handler);
COVERAGE_DEFINE(dp_lost_shutdown);
COVERAGE_DEFINE(dp_parse_drop);
COVERAGE_DEFINE(dp_tx_no_port);
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

/* ---- Exact-match cache -------------------------------------------------*/

#define DP_EMC_WAYS 2
#define DP_EMC_BUCKETS (DP_EMC_ENTRIES / DP_EMC_WAYS)
BUILD_ASSERT(DP_EMC_BUCKETS && !(DP_EMC_BUCKETS & (DP_EMC_BUCKETS - 1)));

/* The EMC compares and hashes only the words of the key from in_port on:
 * the words before (OpenFlow metadata and registers) are zero in the key
 * of every received packet.  A key where they are not is never inserted
 * and never matches (dp_emc_key_cacheable()). */
#define DP_EMC_FIRST_WORD FLOW_U64_OFS(in_port)
#define DP_EMC_N_WORDS (FLOW_U64S - DP_EMC_FIRST_WORD)
BUILD_ASSERT(DP_EMC_FIRST_WORD == 5);
BUILD_ASSERT(DP_EMC_N_WORDS == 15);

/* One entry, two cache lines: the flow and the key's words. */
struct dp_emc_entry {
    struct dp_flow *flow; /* Holds a reference; NULL: empty. */
    uint64_t words[DP_EMC_N_WORDS];
} __attribute__((aligned(CACHE_LINE_SIZE)));
BUILD_ASSERT(sizeof(struct dp_emc_entry) == (size_t)2 * CACHE_LINE_SIZE);

struct dp_emc {
    /* hashes[i] is the hash of entries[i]; bucket b is [2b, 2b + 1]. */
    uint32_t hashes[DP_EMC_ENTRIES] __attribute__((aligned(CACHE_LINE_SIZE)));
    struct dp_emc_entry entries[DP_EMC_ENTRIES];
    uint32_t sweep;                     /* Next bucket to sweep. */
    uint32_t keyhash[PACKET_BATCH_MAX]; /* Scratch for a batch. */
};

struct dp_emc *
dp_emc_create(void)
{
    struct dp_emc *emc =
        aligned_alloc(CACHE_LINE_SIZE, ROUND_UP(sizeof *emc, CACHE_LINE_SIZE));

    if (!emc) {
        fatal("dp: out of memory for an exact-match cache");
    }
    for (size_t i = 0; i < DP_EMC_ENTRIES; i++) {
        emc->entries[i].flow = NULL;
        emc->hashes[i] = 0;
    }
    emc->sweep = 0;
    return emc;
}

static void
dp_emc_clear(struct dp_emc *emc, size_t i)
{
    dp_flow_unref(emc->entries[i].flow);
    emc->entries[i].flow = NULL;
    emc->hashes[i] = 0;
}

void
dp_emc_destroy(struct dp_emc *emc)
{
    if (!emc) {
        return;
    }
    for (size_t i = 0; i < DP_EMC_ENTRIES; i++) {
        if (emc->entries[i].flow) {
            dp_emc_clear(emc, i);
        }
    }
    free(emc);
}

/* Hash of the key's words from in_port on: three independent CRC chains
 * (so that their latencies overlap) folded together. */
static inline uint32_t
dp_emc_hash(const struct flow *flow)
{
    const uint64_t *w = flow_u64s(flow) + DP_EMC_FIRST_WORD;
    uint32_t a = 0, b = 0x9e3779b9, c = 0x85ebca6b;

    BUILD_ASSERT(DP_EMC_N_WORDS % 3 == 0);
    for (size_t i = 0; i < DP_EMC_N_WORDS; i += 3) {
        a = hash_add64(a, w[i]);
        b = hash_add64(b, w[i + 1]);
        c = hash_add64(c, w[i + 2]);
    }
    return hash_finish(a ^ hash_rot32(b, 11) ^ hash_rot32(c, 22),
                       DP_EMC_N_WORDS * 8);
}

/* Whether 'key' has the zero words the EMC leaves out. */
static inline bool
dp_emc_key_cacheable(const struct flow *key)
{
    const uint64_t *w = flow_u64s(key);
    uint64_t any = 0;

    for (size_t i = 0; i < DP_EMC_FIRST_WORD; i++) {
        any |= w[i];
    }
    return !any;
}

static inline bool
dp_emc_entry_matches(const struct dp_emc_entry *e, const struct flow *key)
{
    const uint64_t *w = flow_u64s(key) + DP_EMC_FIRST_WORD;
    uint64_t diff = 0;

    for (size_t i = 0; i < DP_EMC_N_WORDS; i++) {
        diff |= e->words[i] ^ w[i];
    }
    return !diff && e->flow && dp_emc_key_cacheable(key);
}

static inline size_t
dp_emc_bucket(uint32_t hash)
{
    return (size_t)(hash & (DP_EMC_BUCKETS - 1)) * DP_EMC_WAYS;
}

/* The flow of the entry for 'key' (not yet checked for being dead) and
 * the entry's index in '*slotp', or NULL. */
static inline struct dp_flow *
dp_emc_find(const struct dp_emc *emc, uint32_t hash, const struct flow *key,
            size_t *slotp)
{
    size_t i = dp_emc_bucket(hash);

    for (unsigned int w = 0; w < DP_EMC_WAYS; w++, i++) {
        if (emc->hashes[i] == hash
            && dp_emc_entry_matches(&emc->entries[i], key)) {
            *slotp = i;
            return emc->entries[i].flow;
        }
    }
    return NULL;
}

static void
dp_emc_insert(struct dp_emc *emc, uint32_t hash, const struct flow *key,
              struct dp_flow *flow, uint32_t random)
{
    size_t bucket = dp_emc_bucket(hash);
    size_t i = SIZE_MAX;

    if (!dp_emc_key_cacheable(key)) {
        return;
    }
    for (unsigned int w = 0; w < DP_EMC_WAYS; w++) {
        if (emc->hashes[bucket + w] == hash
            && dp_emc_entry_matches(&emc->entries[bucket + w], key)) {
            i = bucket + w;
            break;
        }
    }
    for (unsigned int w = 0; i == SIZE_MAX && w < DP_EMC_WAYS; w++) {
        if (!emc->entries[bucket + w].flow) {
            i = bucket + w;
        }
    }
    if (i == SIZE_MAX) {
        i = bucket + random % DP_EMC_WAYS;
    }
    if (emc->entries[i].flow == flow) {
        return;
    }
    if (emc->entries[i].flow) {
        dp_flow_unref(emc->entries[i].flow);
    }
    dp_flow_ref(flow);
    emc->entries[i].flow = flow;
    memcpy(emc->entries[i].words, flow_u64s(key) + DP_EMC_FIRST_WORD,
           sizeof emc->entries[i].words);
    emc->hashes[i] = hash;
}

/* Clears the entries of one bucket whose flows are dead, so that deleted
 * flows do not stay allocated in buckets no traffic visits. */
static void
dp_emc_sweep_step(struct dp_emc *emc)
{
    size_t bucket =
        (size_t)(emc->sweep++ & (DP_EMC_BUCKETS - 1)) * DP_EMC_WAYS;

    for (unsigned int w = 0; w < DP_EMC_WAYS; w++) {
        struct dp_flow *flow = emc->entries[bucket + w].flow;

        if (flow && atomic_load_relaxed(&flow->dead)) {
            dp_emc_clear(emc, bucket + w);
        }
    }
}

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
    dp_rcu_offline();
    pthread_mutex_lock(&dp->room_mutex);
    atomic_fetch_add_seq_cst(&dp->room_waiters, 1);
    for (;;) {
        struct timespec deadline;
        uint64_t ns;

        error = dp_upcall_queue_one(dp, NULL, pkt, key, hash, type, userdata,
                                    ufid, drain_flow, drain_actions);
        if (error != ENOBUFS && error != EDQUOT) {
            break;
        }
        if (atomic_load_relaxed(&dp->pmds_stop)) {
            error = ESHUTDOWN;
            break;
        }
        ns = time_nsec() + DP_ROOM_WAIT_NS;
        deadline.tv_sec = (time_t)(ns / 1000000000u);
        deadline.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&dp->room_cond, &dp->room_mutex, &deadline);
    }
    atomic_fetch_sub_seq_cst(&dp->room_waiters, 1);
    pthread_mutex_unlock(&dp->room_mutex);
    dp_rcu_online();
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

static void
dp_pmd_add_pending(struct dp_pmd *pmd, struct dp_packet *pkt,
                   const struct flow *key, uint32_t hash,
                   const struct dp_userdata *userdata,
                   const struct dp_ufid *ufid)
{
    struct dp_pending_upcall *p;

    pmd->pending = xgrow(pmd->pending, &pmd->allocated_pending,
                         pmd->n_pending + 1, sizeof *pmd->pending);
    p = &pmd->pending[pmd->n_pending++];
    p->packet = pkt;
    p->key = *key;
    p->hash = hash;
    p->type = DP_UPCALL_ACTION;
    p->userdata = *userdata;
    p->ufid = *ufid;
    p->flow = NULL;
    p->actions = NULL;
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
 * recently output to, valid as long as the port table is the same (and
 * reset at every quiescent state, so that an address reused by a later
 * table cannot fool it). */
static inline struct dp_port *
dp_pmd_port_lookup(struct dp_pmd *pmd, const struct dp_port_table *ports,
                   uint32_t port_no)
{
    struct dp_pmd_port_cache *c = &pmd->port_cache;
    struct dp_port *port;

    if (UNLIKELY(c->table != ports)) {
        c->table = ports;
        c->n = 0;
    }
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

void
dp_tx_set_flush(struct dp_tx_set *tx)
{
    for (size_t i = 0; i < tx->n; i++) {
        struct dp_tx_queue *txq = &tx->q[i];

        if (txq->batch.count) {
            netdev_send(txq->port->netdev, &txq->batch, true);
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
        netdev_send(port->netdev, &txq->batch, true);
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
        dp_pmd_add_pending(ctx->pmd, pkt, &key, hash, ud, ufid);
    } else if (!dp_upcall_queue_one(ctx->dp, NULL, pkt, &key, hash,
                                    DP_UPCALL_ACTION, ud, ufid, NULL, NULL)) {
        dp_ctx_count(ctx, DP_C_ACTION_UPCALL, 1);
    } else {
        netdev_packet_recycle(pkt);
        dp_ctx_count(ctx, DP_C_ACTION_UPCALL_LOST, 1);
        COVERAGE_INC(dp_action_upcall_lost);
    }
}

void
dp_execute_actions(struct dp_exec_ctx *ctx, struct dp_packet_batch *batch,
                   const struct flow *const keys[],
                   const struct dp_actions *actions,
                   const struct dp_flow *flow)
{
    const struct dp_port_table *ports = atomic_load_acquire(&ctx->dp->ports);
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
                netdev_send(port->netdev, batch, true);
            } else {
                struct dp_packet_batch copy = *batch;

                netdev_send(port->netdev, &copy, false);
            }
            break;
        }
        case DP_ACTION_SET:
        case DP_ACTION_PUSH_VLAN:
        case DP_ACTION_POP_VLAN:
            DP_PACKET_BATCH_FOR_EACH (j, pkt, batch) {
                dp_action_apply(a, pkt);
            }
            break;
        case DP_ACTION_USERSPACE:
            DP_PACKET_BATCH_FOR_EACH (j, pkt, batch) {
                dp_action_upcall(ctx, last ? pkt : dp_packet_clone(pkt),
                                 keys ? keys[j] : NULL, &a->userspace, flow);
            }
            if (last) {
                batch->count = 0;
            }
            break;
        default:
            break;
        }
    }
    if (batch->count) {
        netdev_batch_recycle(batch);
    }
}

/* ---- EMC bypass --------------------------------------------------------- */

/* When the flows are many more than the EMC holds, most EMC probes miss
 * and only cost time; whether the hits pay for them depends on how much
 * dpcls work a hit saves.  Each thread measures, over windows of
 * DP_EMC_WINDOW batches it looked up in the EMC, the EMC hit rate and the
 * subtables a dpcls hit probes on average; when their product (subtable
 * probes saved per EMC probe) is below 1/2 — e.g. 100k flows spread over
 * 10 masks: 7% hits x 5.5 probes — it probes the EMC only on one batch in
 * DP_EMC_SAMPLE (to keep measuring) until that changes.  Insertion goes
 * on meanwhile, so traffic that turns to fewer, longer flows warms the
 * cache up again. */
#define DP_EMC_WINDOW 64
#define DP_EMC_SAMPLE 8

static inline bool
dp_pmd_emc_should_look_up(struct dp_pmd *pmd)
{
    return !pmd->emc_bypass || !(pmd->emc_batches++ % DP_EMC_SAMPLE);
}

static inline void
dp_pmd_emc_account(struct dp_pmd *pmd, size_t lookups, size_t hits)
{
    struct dp_emc_window *w = &pmd->emc_window;

    w->lookups += lookups;
    w->hits += hits;
    if (++w->batches == DP_EMC_WINDOW) {
        /* hits / lookups * probes / dpcls_hits < 1 / 2.  Without dpcls
         * hits the EMC answered everything: keep it. */
        pmd->emc_bypass =
            w->dpcls_hits
            && 2 * w->hits * w->dpcls_probes < w->lookups * w->dpcls_hits;
        memset(w, 0, sizeof *w);
    }
}

/* ---- Batch processing --------------------------------------------------- */

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

/* Phase 4: groups the packets with a flow by flow, counts and runs each
 * group. */
static void
dp_pmd_execute_hits(struct dp_pmd *pmd, struct dp_packet *pkts[],
                    const struct flow keys[], struct dp_flow *flows[],
                    size_t n)
{
    struct dp_pmd_group groups[PACKET_BATCH_MAX];
    struct dp_exec_ctx ctx = {.dp = pmd->dp, .pmd = pmd, .tx = &pmd->tx};
    /* Flow -> group, open addressing over twice the batch size. */
    uint8_t slots[2 * PACKET_BATCH_MAX];
    size_t n_groups = 0;

    memset(slots, 0xff, sizeof slots);
    for (size_t i = 0; i < n; i++) {
        struct dp_flow *flow = flows[i];
        struct dp_pmd_group *g;
        size_t h;

        if (!flow) {
            continue;
        }
        h = ((uintptr_t)flow >> 6) * 0x9e3779b1u;
        for (h = (h >> 7) & (ARRAY_SIZE(slots) - 1);;
             h = (h + 1) & (ARRAY_SIZE(slots) - 1)) {
            if (slots[h] == 0xff) {
                slots[h] = (uint8_t)n_groups;
                g = &groups[n_groups++];
                g->flow = flow;
                g->n_bytes = 0;
                g->tcp_flags = 0;
                g->batch.count = 0;
                break;
            }
            if (groups[slots[h]].flow == flow) {
                g = &groups[slots[h]];
                break;
            }
        }
        g->keys[g->batch.count] = &keys[i];
        g->batch.packets[g->batch.count++] = pkts[i];
        g->n_bytes += dp_packet_size(pkts[i]);
        g->tcp_flags |= ntohs(keys[i].tcp_flags);
    }

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

static void
dp_pmd_process_batch(struct dp_pmd *pmd, struct dp_port *port,
                     struct dp_packet_batch *batch, bool *offline)
{
    struct dp *dp = pmd->dp;
    struct flow keys[PACKET_BATCH_MAX];
    struct dp_packet *pkts[PACKET_BATCH_MAX];
    struct dp_flow *flows[PACKET_BATCH_MAX];
    uint32_t *hashes = pmd->emc->keyhash;
    uint8_t misses[PACKET_BATCH_MAX], upcalls[PACKET_BATCH_MAX];
    size_t n = 0, n_misses = 0, n_upcalls = 0;
    size_t n_parse_drop = 0, n_parse_error = 0;
    bool emc_enabled = atomic_load_relaxed(&dp->emc_enabled);
    struct dp_emc *emc = pmd->emc;
    struct dp_packet *pkt;

    /* 1. Parse. */
    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        if (UNLIKELY(dp_packet_size(pkt) < ETH_HEADER_LEN)) {
            n_parse_drop++;
            netdev_packet_recycle(pkt);
            continue;
        }
        pkt->in_port = port->port_no;
        if (UNLIKELY(packet_parse(pkt, &keys[n]) != PARSE_OK)) {
            n_parse_error++;
        }
        pkts[n++] = pkt;
    }
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

    /* 2. Exact-match cache, in three passes so that the cache misses of
     * the batch overlap: hash and fetch the entries; compare, and fetch
     * the candidate flows; check them and fetch their stats and
     * actions. */
    bool emc_lookup = emc_enabled && dp_pmd_emc_should_look_up(pmd);

    if (emc_lookup) {
        size_t slots[PACKET_BATCH_MAX];
        uint64_t hit_map = 0, dead_map = 0;
        unsigned int i;

        for (i = 0; i < n; i++) {
            size_t bucket;

            hashes[i] = dp_emc_hash(&keys[i]);
            bucket = dp_emc_bucket(hashes[i]);
            __builtin_prefetch(&emc->hashes[bucket]);
            __builtin_prefetch(&emc->entries[bucket]);
            __builtin_prefetch((const char *)&emc->entries[bucket]
                               + CACHE_LINE_SIZE);
        }
        for (i = 0; i < n; i++) {
            flows[i] = dp_emc_find(emc, hashes[i], &keys[i], &slots[i]);
            if (flows[i]) {
                __builtin_prefetch(&flows[i]->actions);
                hit_map |= UINT64_C(1) << i;
            }
        }
        MAP_FOR_EACH_INDEX (i, hit_map) {
            struct dp_flow *flow = flows[i];

            if (UNLIKELY(atomic_load_relaxed(&flow->dead))) {
                dead_map |= UINT64_C(1) << i;
                continue;
            }
            __builtin_prefetch(&flow->stats[pmd->id], 1);
            __builtin_prefetch(atomic_load_acquire(&flow->actions));
        }
        if (UNLIKELY(dead_map)) {
            /* Only now: an entry's reference may be the last one, and
             * other packets of the batch may hold the same flow.  From
             * here on the dead flows' pointers are only compared. */
            MAP_FOR_EACH_INDEX (i, dead_map) {
                if (emc->entries[slots[i]].flow == flows[i]) {
                    dp_emc_clear(emc, slots[i]);
                }
                flows[i] = NULL;
            }
            hit_map &= ~dead_map;
        }
        for (i = 0; i < n; i++) {
            if (!(hit_map & (UINT64_C(1) << i))) {
                misses[n_misses++] = (uint8_t)i;
            }
        }
        atomic_add_single_writer(&pmd->counters[DP_C_EMC_HIT], n - n_misses);
        dp_pmd_emc_account(pmd, n, n - n_misses);
    } else {
        for (size_t i = 0; i < n; i++) {
            flows[i] = NULL;
            misses[n_misses++] = (uint8_t)i;
        }
    }

    /* 3. Megaflow classifier. */
    if (n_misses) {
        const struct flow *mkeys[PACKET_BATCH_MAX];
        struct dpcls_rule *rules[PACKET_BATCH_MAX];
        struct dpcls_lookup_stats st = {0, 0};
        unsigned int inv = atomic_load_relaxed(&dp->emc_insert_inv_prob);

        for (size_t j = 0; j < n_misses; j++) {
            mkeys[j] = &keys[misses[j]];
        }
        dpcls_lookup_batch(&dp->cls, mkeys, n_misses, rules, &st);
        for (size_t j = 0; j < n_misses; j++) {
            size_t i = misses[j];

            if (!rules[j]) {
                upcalls[n_upcalls++] = (uint8_t)i;
                continue;
            }
            flows[i] = CONTAINER_OF(rules[j], struct dp_flow, cr);
            __builtin_prefetch(&flows[i]->stats[pmd->id], 1);
            __builtin_prefetch(atomic_load_acquire(&flows[i]->actions));
            if (emc_enabled && (inv <= 1 || dp_pmd_random(pmd) % inv == 0)) {
                if (!emc_lookup) {
                    hashes[i] = dp_emc_hash(&keys[i]);
                }
                dp_emc_insert(emc, hashes[i], &keys[i], flows[i],
                              dp_pmd_random(pmd));
            }
        }
        atomic_add_single_writer(&pmd->counters[DP_C_DPCLS_HIT], st.n_hits);
        pmd->emc_window.dpcls_hits += st.n_hits;
        pmd->emc_window.dpcls_probes += st.n_subtable_probes;
        atomic_add_single_writer(&pmd->counters[DP_C_SUBTABLE_PROBES],
                                 st.n_subtable_probes);
    }

    /* 4. Hits. */
    if (n_upcalls < n) {
        dp_pmd_execute_hits(pmd, pkts, keys, flows, n);
    }

    /* 5. Misses and ACTION upcalls. */
    if (n_upcalls || pmd->n_pending) {
        bool lossless = port->lossless;

        for (size_t j = 0; j < n_upcalls; j++) {
            size_t i = upcalls[j];

            dp_pmd_queue_upcall(pmd, port, lossless, pkts[i], &keys[i],
                                flow_hash_5tuple(&keys[i], 0), DP_UPCALL_MISS,
                                NULL, NULL, NULL, NULL, offline);
        }
        for (size_t j = 0; j < pmd->n_pending; j++) {
            struct dp_pending_upcall *p = &pmd->pending[j];

            dp_pmd_queue_upcall(pmd, port, lossless, p->packet, &p->key,
                                p->hash, p->type, &p->userdata, &p->ufid,
                                p->flow, p->actions, offline);
        }
        pmd->n_pending = 0;
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
    dp_packet_batch_init(&batch);
    error = netdev_recv(port->netdev, &batch);
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
        dp_rcu_offline();
        atomic_exchange_seq_cst(&pmd->asleep, 1);
        did = dp->idle_work_fn(dp->idle_work_aux, pmd->id);
        atomic_exchange_seq_cst(&pmd->asleep, 0);
        dp_rcu_online();
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
        int fd;

        if (atomic_load_relaxed(&port->rx_done)) {
            continue;
        }
        fd = netdev_get_rx_fd(port->netdev);
        if (fd >= 0) {
            fds[n_fds].fd = fd;
            fds[n_fds++].events = POLLIN;
        }
    }
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);

    dp_rcu_offline();
    /* Asleep: no lookup in flight, for draining flows ("Order"). */
    atomic_exchange_seq_cst(&pmd->asleep, 1);
    if (ppoll(fds, n_fds, &ts, NULL) > 0 && fds[0].revents) {
        uint64_t count;

        if (read(pmd->wake_fd, &count, sizeof count) < 0) {
            /* EAGAIN: drained already. */
        }
    }
    atomic_exchange_seq_cst(&pmd->asleep, 0);
    dp_rcu_online();

    if (fds != fds_buf) {
        free(fds);
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

    dp_rcu_register_thread();
    while (!atomic_load_relaxed(&dp->pmds_stop)) {
        const struct dp_poll_list *list;
        bool offline = false, went_offline = false;
        size_t work = 0, rx;
        uint64_t now_ns = time_nsec();

        atomic_add_single_writer(
            &pmd->counters[was_busy ? DP_C_BUSY_NS : DP_C_IDLE_NS],
            now_ns - last_ns);
        last_ns = now_ns;

        dp_rcu_quiesce();
        /* A new iteration: the one before has queued all its upcalls
         * (draining flows, datapath.h "Order"). */
        atomic_fetch_add_seq_cst(&pmd->drain_seq, 1);
        pmd->defer_wakes = atomic_load_relaxed(&dp->idle_work_on);
        if (!pmd->defer_wakes) {
            dp_pmd_flush_wakes(pmd);
        }
        /* After a quiescent state a port table may have been freed and
         * its address reused: forget the cached lookups. */
        pmd->port_cache.table = NULL;
        list = atomic_load_acquire(&pmd->poll_list);
        pmd->now = now_ns / 1000000; /* time_msec() */
        /* 'offline' first: after a lossless wait (offline) the list may
         * have been freed by dp_port_del() (found by the port-removal
         * system test under ASan). */
        for (size_t i = 0; !offline && i < list->n; i++) {
            struct dp_port *port = list->ports[i];

            if (!atomic_load_relaxed(&port->rx_done)) {
                work += dp_pmd_poll_port(pmd, port, &offline);
            }
        }
        dp_emc_sweep_step(pmd->emc);
        rx = work;

        /* Nothing received: the upcalls queued meanwhile are this
         * thread's to run (work-conserving upcalls); busy, it holds the
         * handlers' wake-ups back only for so long. */
        if (!work && !offline && pmd->defer_wakes) {
            switch (dp_pmd_idle_work(pmd, &went_offline)) {
            case DP_IDLE_DID:
                work = 1;
                break;
            case DP_IDLE_TAKEN:
                /* A handler (or another datapath thread) is at them: if
                 * it shares this CPU, let it have it. */
                sched_yield();
                break;
            case DP_IDLE_NOTHING:
            default:
                break;
            }
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
    dp_rcu_unregister_thread();
    return NULL;
}
