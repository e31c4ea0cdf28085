/*
 * datapath/dp-private.h — the datapath's internal structures, shared by the
 * files of src/datapath and by nobody else.
 *
 *   datapath.c    creation, ports, threads' life cycle, statistics, the
 *                 maintenance thread (reclaims memory, sorts subtables)
 *   dp-flow.c     the flow table: put, del, get, dumps, ufids
 *   dp-pmd.c      the datapath threads' poll loop, batch classification,
 *                 action execution
 *   dp-emc.c      the exact-match cache of a datapath thread (dp-emc.h)
 *   dp-upcall.c   the upcall queues
 *   dp-drain.c    draining flows: cohorts and their flip (datapath.h,
 *                 "Order")
 *   dp-format.c   dp_flow_format()
 *
 * Ownership and locking at a glance (details in datapath.h):
 *  - 'flow_mutex' serializes writers of the flow table (ufid map, dump
 *    list, classifier); datapath threads read the classifier and flows
 *    under RCU (QSBR) without it.
 *  - 'port_mutex' serializes port changes and handler-count changes (the
 *    managing thread); 'exec_lock' (a rwlock) lets threads other than the
 *    datapath threads (dp_execute()) read the port table and the upcall
 *    queues while a change holds it for writing.
 *  - Counters of a datapath thread, of its ports and of the flows' stats
 *    slots have a single writer (that thread) and are read with relaxed
 *    atomic loads; counters of other threads are atomic adds.
 *
 * Thread safety: as described per member below.
 */
#ifndef FLOWSWITCH_DATAPATH_DP_PRIVATE_H
#define FLOWSWITCH_DATAPATH_DP_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "datapath/datapath.h"
#include "datapath/dpcls.h"
#include "lib/atomic.h"
#include "lib/list.h"
#include "lib/ptrmap.h"
#include "lib/rcu.h"
#include "lib/seq.h"
#include "netdev/netdev.h"
#include "packet/packet.h"

struct pool;

struct dp_drain_cohort;
struct dp_upcall_queue;

/* ---- Counters ----------------------------------------------------------- */

enum dp_counter {
    DP_C_RX,
    DP_C_EMC_HIT,
    DP_C_DPCLS_HIT,
    DP_C_MISSED,
    DP_C_LOST_QUEUE_FULL,
    DP_C_LOST_PORT_SHARE,
    DP_C_LOST_NO_HANDLER,
    DP_C_LOST_SHUTDOWN,
    DP_C_PARSE_DROP,
    DP_C_PARSE_ERROR,
    DP_C_SUBTABLE_PROBES,
    DP_C_ACTION_UPCALL,
    DP_C_ACTION_UPCALL_LOST,
    DP_C_TX_NO_PORT,
    DP_C_DROP_ACTION,
    DP_C_METER_DROP,
    DP_C_RECIRC_DROP,
    DP_C_RECIRC_UPCALL,
    DP_C_LOSSLESS_WAITS,
    DP_C_EXECUTED,
    DP_C_DRAIN_UPCALL,
    DP_C_DRAIN_LOST,
    DP_C_DRAIN_FLIP,
    DP_C_IDLE_WORK,
    DP_C_WAKE_DEFERRED,
    DP_C_PORT_PAUSED,
    DP_C_BUSY_NS,
    DP_C_IDLE_NS,
    DP_C_LIGHT_SLEEP,
    DP_N_COUNTERS
};

/* ---- Flows -------------------------------------------------------------- */

/* Statistics of one flow counted by one datapath thread. */
struct dp_flow_stats_slot {
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t used;
    uint64_t tcp_flags;
};

/* Node of the flow list that dumps walk (installation order).  Markers
 * are the dumps' positions. */
struct dp_list_node {
    struct list list; /* In dp->flows. */
    bool is_marker;
};

/* Memory layout, one cache-aligned allocation: a first cache line of
 * fields only writers (and the rare ACTION upcall) use, then the hot part
 * that a hit touches — the actions pointer, the stats pointer and the
 * dpcls rule with its key, in one or two lines — and then the per-thread
 * statistics slots: with one datapath thread right after the key (the
 * lines a lookup just read), with several from the next line boundary on
 * (dp_flow_create()). */
struct dp_flow {
    /* Cold. */
    struct dp_ufid ufid;
    uint64_t created;
    uint64_t seq;             /* Writer: creation order (dumps). */
    struct dp_list_node node; /* Writer: in dp->flows. */

    /* Hot: read by datapath threads under RCU. */
    struct dp_actions *actions                     /* RCU: a modify */
        __attribute__((aligned(CACHE_LINE_SIZE))); /* replaces it. */
    struct dp_flow_stats_slot *stats; /* One per datapath thread, inside
                                       * this allocation. */
    uint32_t refcnt;                  /* Atomic: table + EMC entries. */
    bool dead;                        /* Atomic: deleted. */
    bool pooled;                      /* From a pool (else malloc). */
    /* Atomic: DP_FLOW_DRAINING while draining, plus the number of its
     * DRAIN upcalls not yet done (datapath.h, "Order").  Once 0, 0 for
     * good. */
    uint32_t drain;

    struct dpcls_rule cr; /* Last: variable size. */
};
BUILD_ASSERT(offsetof(struct dp_flow, actions) == CACHE_LINE_SIZE);

#define DP_FLOW_DRAINING 0x80000000u

/* Flows of at most this many cache lines come from the datapath's pools
 * (lib/pool.h): a put takes no malloc, and the memory of expired flows
 * goes back once their slabs are empty.  Bigger ones (many datapath
 * threads' statistics slots) use aligned_alloc(). */
#define DP_FLOW_POOLED_LINES 16
/* The maintenance thread unmaps pool slabs empty for so long. */
#define DP_FLOW_POOL_IDLE_MS 2000

static inline void
dp_flow_ref(struct dp_flow *flow)
{
    atomic_fetch_add_relaxed(&flow->refcnt, 1);
}

/* Drops a reference; frees the flow with the last one.  The table's
 * reference is dropped only after a grace period, so whoever drops the
 * last one is the only thread that can see the flow. */
void dp_flow_unref(struct dp_flow *);

/* ---- Ports -------------------------------------------------------------- */

struct dp_port {
    uint32_t port_no;
    /* RCU for datapath threads, exec_lock for the others; written under
     * port_mutex.  NULL while the port is detached (its interface
     * vanished: dp_port_detach()): nobody receives from it, and output to
     * it is counted in 'tx_missing'. */
    struct netdev *netdev;
    bool lossless;
    unsigned int pmd_id; /* UINT32_MAX: not polled (no threads). */
    /* Written by the polling thread only. */
    bool rx_done; /* netdev_recv() returned EOF. */
    uint64_t rx, parse_drop, lost, lost_port_share, lossless_waits;
    /* Atomic, any thread: packets output while detached. */
    uint64_t tx_missing;
    /* port_mutex: what the netdevs detached from this port counted, so
     * that its counters go on across a re-attach. */
    struct netdev_stats detached;
};

/* The ports by number are a lib/ptrmap.h map (dp->ports) under this
 * hash, read by datapath threads under QSBR and by other executors under
 * exec_lock. */
static inline uint32_t
dp_port_hash(uint32_t port_no)
{
    return port_no * 0x9e3779b1u;
}

static inline struct dp_port *
dp_port_table_find(const struct ptrmap *ports, uint32_t port_no)
{
    struct dp_port *port;
    struct ptrmap_pos pos;

    PTRMAP_FOR_EACH_WITH_HASH (port, &pos, dp_port_hash(port_no), ports) {
        if (port->port_no == port_no) {
            return port;
        }
    }
    return NULL;
}

/* Immutable list of the ports a datapath thread polls. */
struct dp_poll_list {
    size_t n;
    struct dp_port *ports[];
};

/* ---- Datapath threads --------------------------------------------------- */

struct dp_emc;

/* An upcall waiting for the end of the batch (ACTION upcalls found while
 * running actions, queued with the misses). */
struct dp_pending_upcall {
    struct dp_packet *packet;
    struct flow key;
    uint32_t hash; /* flow_hash_5tuple() of the received key. */
    enum dp_upcall_type type;
    struct dp_userdata userdata;
    struct dp_ufid ufid;
    /* DRAIN: the flow (a reference and one unit of its drain count) and
     * its actions (a reference). */
    struct dp_flow *flow;
    struct dp_actions *actions;
    bool recirc; /* MISS of a recirculated packet (dp-pmd.c). */
};

/* Packets a datapath thread has ready for one port, sent once per rx
 * batch (or when full) instead of once per flow. */
struct dp_tx_queue {
    struct dp_port *port;
    struct dp_packet_batch batch;
};

#define DP_PMD_TX_QUEUES 16

/* Output collected per port and sent one batch per port: a datapath
 * thread's output of one rx batch, or that of a run of executes in
 * dp_operate(). */
struct dp_tx_set {
    struct dp_tx_queue q[DP_PMD_TX_QUEUES];
    size_t n;
};

/* Output ports a datapath thread looked up since its last quiescent
 * state. */
struct dp_pmd_port_cache {
    unsigned int n;
    uint32_t port_nos[8];
    struct dp_port *ports[8];
};

struct dp_pmd {
    struct dp *dp;
    unsigned int id;
    int wake_fd; /* eventfd: reconfiguration, stop. */
    pthread_t thread;
    struct dp_poll_list *poll_list; /* RCU. */
    struct dp_emc *emc;             /* Owned by the thread (dp-emc.h). */
    uint64_t now; /* time_msec() at the start of the iteration. */
    uint32_t rng;
    bool running;       /* Manager: the thread exists. */
    bool port_fd_error; /* A port's rx fd reported POLLERR in the last
                         * sleep (dp-pmd.c, dp_pmd_sleep_events()). */
    /* Of the work-conserving upcalls below, in this line's room (a
     * struct padded by more than 24 bytes fails clang-tidy's
     * optin.performance.Padding). */
    unsigned int n_deferred;
    unsigned int busy_iters; /* Busy iterations since it held one back. */

    /* Draining (datapath.h, "Order"): iterations begun, and whether the
     * thread sleeps.  Written by the thread with sequentially consistent
     * read-modify-writes; dp-drain.c reads them with RMWs too. */
    uint64_t drain_seq __attribute__((aligned(CACHE_LINE_SIZE)));
    uint32_t asleep;
    /* Of the work-conserving upcalls below, in the room before 'tx'. */
    bool defer_wakes;
    bool queued_upcalls; /* Queued some since the queues were last
                          * seen empty (port pausing looks only then). */

    /* Output of the current rx batch, by port. */
    struct dp_tx_set tx;
    struct dp_pmd_port_cache port_cache;

    /* ACTION, DRAIN and recirculated MISS upcalls of the current batch. */
    struct dp_pending_upcall *pending;
    size_t n_pending, allocated_pending;

    /* Work-conserving upcalls (datapath.h): 'defer_wakes' (whether this
     * iteration holds back handler wake-ups), 'n_deferred', 'busy_iters'
     * and 'queued_upcalls' above, and here the queues it queued to
     * without waking their handler. */
    uint64_t deferred[DP_MAX_HANDLERS / 64];

    uint64_t counters[DP_N_COUNTERS]; /* Written by the thread only. */
};

/* Where action execution counts and queues: a datapath thread, or another
 * thread through dp_execute(). */
struct dp_exec_ctx {
    struct dp *dp;
    struct dp_pmd *pmd;   /* NULL outside datapath threads. */
    struct dp_tx_set *tx; /* Output collects here; NULL: sent at once. */
};

/* Sends what 'tx' collected, one batch per port, and empties it.  The
 * ports must still be in use (RCU read side or exec_lock held). */
void dp_tx_set_flush(struct dp_tx_set *tx);

/* datapath.c: dp_execute() in 'ctx', exec_lock held for reading. */
void dp_execute__(struct dp_exec_ctx *ctx, struct dp_packet *pkt,
                  const struct dp_actions *actions, bool may_steal);

/* ---- The datapath ------------------------------------------------------- */

struct dp {
    /* Configuration. */
    unsigned int n_pmds;
    unsigned int queue_size;
    size_t max_flows;                 /* Atomic. */
    unsigned int emc_insert_inv_prob; /* Atomic. */
    unsigned int max_sleep_us;        /* Atomic ("Light load"). */
    bool emc_enabled;                 /* Atomic. */

    /* Flow table. */
    pthread_mutex_t flow_mutex;
    struct dpcls cls;       /* Writers: flow_mutex. */
    struct ptrmap ufids;    /* flow_mutex: flows by ufid. */
    size_t n_flows;         /* Atomic; written under flow_mutex. */
    struct list flows;      /* flow_mutex: installation order. */
    uint64_t next_flow_seq; /* flow_mutex. */
    /* Memory of flows up to DP_FLOW_POOLED_LINES cache lines, one pool
     * per size in lines, created on first use (flow_mutex); the
     * maintenance thread trims them. */
    struct pool *flow_pools[DP_FLOW_POOLED_LINES + 1];
    struct rcu_qsbr_queue *rcu; /* What writers retired (QSBR). */
    /* dp_set_flow_flush_cb(): 'flush_cb_mutex' is held across each call
     * of the callback, never together with 'flow_mutex'. */
    pthread_mutex_t flush_cb_mutex;
    dp_flow_flush_cb *flush_cb;
    void *flush_cb_aux;

    /* Ports. */
    pthread_mutex_t port_mutex;
    pthread_rwlock_t exec_lock;
    struct ptrmap *ports; /* By number: RCU (QSBR) for datapath threads;
                           * exec_lock for the others; written under
                           * port_mutex and exec_lock. */
    /* Meters (dp-meter.h): read as 'ports', written under exec_lock. */
    struct dp_meters *meters;

    /* Datapath threads. */
    struct dp_pmd **pmds;
    bool pmds_stop; /* Atomic. */

    /* Upcall queues: change only while the datapath threads are stopped
     * and exec_lock is held for writing. */
    struct dp_upcall_queue **queues;
    unsigned int n_handlers;
    bool upcall_port_share; /* Atomic: misses limited to per-port shares. */
    bool idle_work_on;      /* Atomic: see "Work-conserving upcalls". */
    /* Changes when a handler takes upcalls: room for lossless waits. */
    struct seq *room_seq;
    unsigned int room_waiters; /* Atomic. */

    /* Work-conserving upcalls (dp_set_idle_work()): the function and its
     * argument, written under 'idle_work_lock' held for writing and read
     * by datapath threads holding it for reading (a trylock: a thread
     * never waits for it); 'idle_work_on' (above) mirrors
     * 'idle_work_fn != NULL' for a relaxed look once per iteration. */
    pthread_rwlock_t idle_work_lock;
    dp_idle_work_fn *idle_work_fn;
    void *idle_work_aux;

    /* Maintenance thread. */
    pthread_t maint_thread;
    struct seq *maint_seq; /* Changes to wake it before its tick. */
    bool maint_exit;       /* Atomic. */

    /* Draining flows (dp-drain.c).  'drain_mutex' nests inside
     * 'flow_mutex' and is never held while taking it. */
    pthread_mutex_t drain_mutex;
    struct list drain_cohorts;          /* dp_drain_cohort, oldest first. */
    struct dp_drain_cohort *drain_open; /* Collecting new flows. */
    uint64_t n_draining;                /* Atomic. */

    /* Counters of threads other than the datapath threads (atomic). */
    uint64_t shared_counters[DP_N_COUNTERS];
};

/* Adds 'n' to counter 'c' of 'ctx' (single-writer store in a datapath
 * thread, atomic add elsewhere). */
static inline void
dp_ctx_count(const struct dp_exec_ctx *ctx, enum dp_counter c, uint64_t n)
{
    if (!n) {
        return;
    }
    if (ctx->pmd) {
        atomic_add_single_writer(&ctx->pmd->counters[c], n);
    } else {
        atomic_fetch_add_relaxed(&ctx->dp->shared_counters[c], n);
    }
}

/* dp-flow.c */
void dp_flow_table_init(struct dp *);
void dp_flow_table_destroy(struct dp *);
/* Gives back the slabs of the flow pools empty for DP_FLOW_POOL_IDLE_MS. */
void dp_flow_pools_trim(struct dp *);
void dp_flow_stats_sum(const struct dp *, const struct dp_flow *,
                       struct dp_flow_stats *);

/* dp-pmd.c */
void *dp_pmd_main(void *pmd);
void dp_pmd_wake(struct dp_pmd *);
/* Runs 'actions' on every packet of 'batch' (which the caller gives up);
 * keys[i] is the received key of batch->packets[i] (for ACTION upcalls),
 * 'flow' the flow whose actions these are (NULL for dp_execute()). */
void dp_execute_actions(struct dp_exec_ctx *, struct dp_packet_batch *batch,
                        const struct flow *const keys[],
                        const struct dp_actions *actions,
                        const struct dp_flow *flow);

/* dp-upcall.c */
struct dp_upcall_queue *dp_uqueue_create(unsigned int size);
/* Recycles the packets still queued and frees the queue. */
void dp_uqueue_destroy(struct dp_upcall_queue *);
/* Copies the upcall in (taking the packet, unless it fails) and counts
 * it in the share of its port, key->in_port.  Returns 0, ENOBUFS if the
 * queue is full, or EDQUOT if 'share' is true and the port has used up
 * its share (datapath.h, "Upcalls").  Any number of producers. */
int dp_uqueue_push(struct dp_upcall_queue *, struct dp_packet *pkt,
                   const struct flow *key, enum dp_upcall_type type,
                   const struct dp_userdata *userdata,
                   const struct dp_ufid *ufid, bool share);
/* The same, but without waking a sleeping consumer: the caller must call
 * dp_uqueue_wake_if_waiting() on the queue later (work-conserving
 * upcalls).  'drain_flow' and 'actions' as for dp_uqueue_push_drain() when
 * 'type' is DP_UPCALL_DRAIN, NULL otherwise. */
int dp_uqueue_push_quiet(struct dp_upcall_queue *, struct dp_packet *pkt,
                         const struct flow *key, enum dp_upcall_type type,
                         const struct dp_userdata *userdata,
                         const struct dp_ufid *ufid, bool share,
                         struct dp_flow *drain_flow,
                         struct dp_actions *actions);
/* Wakes the consumer if it sleeps (or is about to), with the same
 * ordering as a push (no lost wake-up for entries published before). */
void dp_uqueue_wake_if_waiting(struct dp_upcall_queue *);
/* Queues a DRAIN upcall for 'flow' (whose reference and drain-count unit
 * the queue takes over, with the reference 'actions', on success).
 * Returns 0 or ENOBUFS (full; shares do not apply to DRAIN upcalls). */
int dp_uqueue_push_drain(struct dp_upcall_queue *, struct dp_packet *pkt,
                         const struct flow *key, struct dp_flow *flow,
                         struct dp_actions *actions);
/* One consumer.  Marks the previous batch done first
 * (dp_uqueue_batch_done()). */
size_t dp_uqueue_pop(struct dp_upcall_queue *, struct dp_upcall *, size_t max);
/* Moves every upcall of 'from' to 'to' (or, when it does not fit, returns
 * it in '*up' and its drain flow in '*flowp': returns true then, false
 * once 'from' is empty).  Both queues idle (no producer, no consumer). */
bool dp_uqueue_move_one(struct dp_upcall_queue *from,
                        struct dp_upcall_queue *const *to, unsigned int n_to,
                        struct dp_upcall *up, struct dp_flow **flowp);
/* The consumer is done with everything it took: releases the drain
 * counts of the DRAIN upcalls among them and publishes 'done'. */
void dp_uqueue_batch_done(struct dp_upcall_queue *);
/* Positions: upcalls ever claimed by producers; ever finished by the
 * consumer. */
uint64_t dp_uqueue_head(const struct dp_upcall_queue *);
uint64_t dp_uqueue_done(const struct dp_upcall_queue *);
size_t dp_uqueue_len(const struct dp_upcall_queue *);
/* About how many more misses from port 'port_no' the queue would surely
 * take now: its free cells, and, if 'share' (shares are on), what is left
 * of the port's share (datapath.h, "Upcalls") as if the queue were at
 * least half full. */
uint32_t dp_uqueue_port_room(const struct dp_upcall_queue *, uint32_t port_no,
                             bool share);
/* Entries of port 'port_no' (and of ports that share its slot). */
size_t dp_uqueue_port_len(const struct dp_upcall_queue *, uint32_t port_no);
bool dp_uqueue_wait(struct dp_upcall_queue *, int timeout_ms);
void dp_uqueue_wake(struct dp_upcall_queue *);
int dp_uqueue_fd(const struct dp_upcall_queue *);
/* Tells waiters for room that an upcall was taken. */
void dp_upcall_room_signal(struct dp *);

/* dp-drain.c */
void dp_drain_init(struct dp *);
/* Flips every draining flow at once and frees the cohorts (threads
 * stopped). */
void dp_drain_destroy(struct dp *);
/* 'flow', just created with DP_FLOW_DRAINING and not yet published,
 * joins the open cohort (flow_mutex held). */
void dp_drain_add(struct dp *, struct dp_flow *);
/* Moves the cohorts on as far as they can go.  With 'wait' false it
 * gives up at once if another thread is at it.  Returns the number of
 * flows still draining. */
uint64_t dp_drain_advance(struct dp *, bool wait);
/* The upcall queues were replaced (dp_set_n_handlers(), drain_mutex
 * held): cohorts waiting on the old queues look at the new ones. */
void dp_drain_queues_changed(struct dp *);
/* Lowers 'flow''s drain count by one and drops the reference that went
 * with it (the DRAIN upcall is done, or was dropped). */
void dp_drain_release(struct dp_flow *);

#endif /* datapath/dp-private.h */
