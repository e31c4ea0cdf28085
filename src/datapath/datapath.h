/*
 * datapath/datapath.h — the fast path: ports and their polling threads, the
 * megaflow cache, action execution, upcalls to the slow path, and the
 * operations the slow path uses to manage the cache.
 *
 * Data flow (DESIGN.md §1).  Each datapath thread polls the ports assigned
 * to it (round-robin at dp_port_add() time; a port never moves) in batches
 * of 32.  For every batch it parses the frames into flow keys, looks each
 * key up in its exact-match cache (EMC), looks the rest up in the megaflow
 * classifier (dpcls.h), groups the hits by megaflow and runs each
 * megaflow's actions once on its group, and queues each miss as an upcall
 * to a handler.  Output sends a copy only when the packet is still needed
 * afterwards: the last output of an action list hands the packet itself
 * to the port.
 *
 * Megaflows.  A datapath flow is a masked key (a struct match whose flow is
 * pre-masked), a list of datapath actions (dp-actions.h) and statistics
 * (packets, bytes, time last used, OR of TCP flags).  Its id, the ufid, is
 * a 128-bit hash (XXH3-128) of the masked key and the mask (over the words
 * the mask covers), so the same megaflow always has the same ufid and the
 * slow path can compute it with dp_flow_ufid() before it installs the
 * flow.  Statistics are counted per
 * datapath thread in slots only that thread writes and summed on read.
 *
 * Exact-match cache.  Per datapath thread, DP_EMC_ENTRIES entries in
 * 2-way buckets, indexed by a hash of the whole flow key and confirmed by
 * comparing the whole key (from in_port on: the metadata and register
 * words before it are zero in every received packet's key, and a key
 * where they are not is never cached).  A dpcls hit is inserted with
 * probability 1/emc_insert_inv_prob (default 100), so thousands of short
 * flows do not evict the long ones that benefit.  An entry holds a
 * reference to its flow; a deleted flow is marked dead, and an entry that
 * finds its flow dead drops it and falls through to the classifier; a
 * slow sweep clears dead entries the traffic no longer visits.  When the
 * EMC does not pay for itself (far more flows than entries, so that its
 * hits save less than half a subtable probe per EMC probe), a thread
 * probes it only on one batch in eight until that changes (dp-emc.c).
 *
 * Output.  A datapath thread collects each rx batch's output per port and
 * sends it once per port at the end of the batch, not once per flow.
 *
 * Upcalls (DESIGN.md §3).  One bounded queue per handler (default 512
 * entries), multi-producer and lock-free.  A miss goes to queue
 * flow_hash_5tuple(key) % n_handlers so that the packets of one flow stay
 * in order; an ACTION upcall (a userspace() action) goes to the same
 * queue as the flow's misses would.  A full queue drops the packet and
 * counts it as lost, except on a lossless port (netdev_is_lossless()),
 * where the datapath thread waits, offline, for the handler to make room.
 *
 * Per-port shares (fairness).  One port's storm of new flows must not
 * starve another port's first packets, so each queue counts the upcalls
 * it holds per input port.  While a queue of size Q is at least half
 * full, a miss from a port that already holds h upcalls in it is refused
 * when
 *
 *     h >= max(Q / (n_active + 1), DP_UPCALL_SHARE_FLOOR)
 *
 * where n_active is the number of ports holding upcalls in the queue.
 * The "+ 1" keeps a share free for a port that holds none yet: a port
 * storming alone stops at Q/2, two storming ports at Q/3 each, and a
 * quiet port's misses find room.  Below half full, and below the floor
 * (64: one handler batch), every port may queue.  Refused misses are
 * counted lost, reason n_lost_port_share (per port: lost_port_share;
 * coverage: dp_lost_port_share).  Ports are counted in 256 slots by port
 * number modulo 256, so ports 0 to 255 never share a slot; ports whose
 * numbers are congruent modulo 256 are treated as one port.
 *  - ACTION upcalls count in their port's holdings but are never refused
 *    by the share (only by a full queue): they carry controller and
 *    sampling work that a flow already chose.
 *  - A lossless port is held to its share like any other, but waits
 *    (counted as a lossless wait) instead of losing the packet.  This
 *    cannot deadlock: the handler takes the queue's upcalls in order, so
 *    the waiting port's own holdings drain to zero (below the floor) at
 *    the latest once the upcalls queued before its wait are taken, and
 *    every dp_upcall_recv() that takes any wakes the waiter.  As with a
 *    full queue, a queue that no handler drains keeps a lossless port
 *    waiting until dp_destroy() or dp_set_n_handlers().
 *  - Upcalls moved by dp_set_n_handlers() are not held to shares.
 *  - dp_set_upcall_port_share(dp, false) turns shares off (benchmarks,
 *    comparisons): then only a full queue refuses.
 * The share check costs a miss one relaxed load while its port holds
 * fewer than the floor; the counts cost an atomic add per queued upcall
 * and an atomic subtract per run of same-port upcalls a handler takes.
 * Hits never touch them.
 *
 * Order across the miss -> install transition (DESIGN.md §3).  When a
 * handler installs a flow, packets of that flow may still wait in the
 * upcall queues (they missed before the flow existed) or in a handler's
 * batch.  A packet that hit the new flow at once would overtake them.  So
 * a handler installs with DP_FLOW_PUT_DRAIN: the flow starts *draining*,
 * and a datapath thread that hits a draining flow counts the packets in
 * the flow's statistics as usual but, instead of running the actions,
 * queues each as a DRAIN upcall (carrying the flow's actions) to the queue
 * its miss would have gone to, behind the older packets; the handler
 * executes it in arrival order.  The flow flips to its real actions once
 * no older packet can be anywhere:
 *   1. every datapath thread has finished the poll-loop iteration it was
 *      in when the flow was installed (or was asleep), so every miss
 *      that looked the flow up before it existed has been queued — a
 *      per-thread iteration counter, not an RCU grace period, because a
 *      thread waiting for queue room on a lossless port is offline but
 *      has not queued its miss yet;
 *   2. then every queue's handler has finished (dp_upcall_batch_done())
 *      every upcall that was in the queue at that point;
 *   3. then no DRAIN upcall of the flow is queued or in a handler's batch:
 *      a count in the flow, raised by a datapath thread with a compare-
 *      and-swap only while the draining bit is set, lowered when the
 *      handler's batch that took the upcall is done; the flip is a
 *      compare-and-swap from "draining, count 0" to 0, so once it
 *      succeeds no datapath thread queues another DRAIN upcall.
 * Flows installed together move through the steps as one cohort; the
 * handlers (at the end of each batch) and the maintenance thread (every
 * millisecond while any flow drains) advance them.  A flow that gets no
 * more packets costs nothing while it drains; a flow that does pays a
 * trip through the handler for the packets of a few microseconds.  Drops
 * and slow-pathed flows need no draining (their packets all go to the
 * handler anyway, or nowhere) and are put without the flag.  A DRAIN
 * upcall the queue cannot take is lost and counted (n_drain_upcall_lost);
 * on a lossless port the thread waits as for a miss.
 *
 * Accounting (DESIGN.md §4).  Every received packet ends in exactly one of
 * n_hit (n_emc_hit + n_dpcls_hit), n_missed (queued as an upcall),
 * n_lost (a miss that could not be queued, by reason) and n_parse_drop
 * (a frame too short for an Ethernet header):
 *
 *     n_rx == n_hit + n_missed + n_lost + n_parse_drop
 *
 * once the datapath threads are idle.  What happens to hits afterwards is
 * counted too: output to a port that does not exist (n_tx_no_port), drop
 * actions (n_drop_action), action upcalls and DRAIN upcalls queued or
 * lost.  The handlers take n_missed + n_action_upcall + n_drain_upcall
 * upcalls in all.
 *
 * Thread safety.
 *  - Datapath threads read flows, the classifier and ports without locks
 *    under RCU (QSBR flavour, lib/rcu.h); they never take a lock except to
 *    wait for room on a lossless port.
 *  - Flow operations (dp_flow_put/del/get, dp_operate(), dumps) may be
 *    called from any number of threads at once; writers serialize on the
 *    datapath's flow mutex and never block readers.  A deleted flow is
 *    freed only after a grace period.  dp_flow_del() and deletes in
 *    dp_operate() wait for one grace period (once per call) so that the
 *    statistics they return are final: the caller must not be a
 *    registered QSBR reader.
 *  - dp_execute() may be called from any thread but a datapath thread
 *    that is online (a datapath thread running idle work, offline, may).
 *  - Port changes (dp_port_add/del) and dp_set_n_handlers() are for one
 *    managing thread at a time.
 *  - dp_upcall_recv() for a given handler id from one thread at a time
 *    (whoever runs that handler's batch: its thread, or a datapath thread
 *    doing idle work, serialized by the slow path); dp_upcall_wait() from
 *    the handler's thread.
 *  - dp_get_stats(), dp_port_get_stats() from any thread.
 */
#ifndef FLOWSWITCH_DATAPATH_DATAPATH_H
#define FLOWSWITCH_DATAPATH_DATAPATH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/dp-actions.h"
#include "flow/flow.h"

struct dp;
struct dp_packet;
struct ds;
struct netdev;

/* ---- Configuration ------------------------------------------------------ */

#define DP_EMC_ENTRIES 8192
#define DP_DEFAULT_QUEUE_SIZE 512
#define DP_DEFAULT_MAX_FLOWS 200000
#define DP_DEFAULT_EMC_INSERT_INV_PROB 100
#define DP_MAX_THREADS 64
#define DP_MAX_HANDLERS 1024
#define DP_PORT_NONE UINT32_MAX
/* Upcalls any port may hold in a queue whatever its share ("Upcalls"). */
#define DP_UPCALL_SHARE_FLOOR 64

struct dp_config {
    unsigned int n_threads;  /* Datapath (poll) threads; 0: none. */
    unsigned int n_handlers; /* Upcall queues; 0: every miss is lost. */
    unsigned int queue_size; /* Entries per upcall queue, rounded up to
                                  * a power of 2 [512]. */
    size_t max_flows;        /* dp_flow_put() fails beyond [200000]. */
    bool emc_enabled;        /* [true] */
    unsigned int emc_insert_inv_prob; /* Insert 1 dpcls hit in N [100];
                                       * 1: every hit. */
    /* Per-port shares of the upcall queues [true] ("Upcalls"). */
    bool upcall_port_share;
    /* Light-load sleep ceiling, in microseconds [DP_DEFAULT_MAX_SLEEP_US];
     * 0: a thread with traffic never sleeps ("Light load"). */
    unsigned int max_sleep_us;
};

/* Light load.  A datapath thread whose last poll with packets received a
 * few (fewer than DP_LIGHT_LOAD_BATCH over all its ports), once it has
 * run the upcalls they brought, sleeps before its next poll, so that the
 * next batch (and the next handler batch) is fuller: 10 us, doubling
 * while the load stays light, up to max_sleep_us; halved after a
 * half-full batch, none after a full one.  Packets
 * wait in the ports' rings meanwhile (an AF_XDP ring of 8192 frames holds
 * 80 ms at 100 kpps).  A thread that busy-polls a port that delivers
 * frames one by one (AF_XDP, unlike AF_PACKET's blocks) would otherwise
 * burn its core at any rate; this trades at most max_sleep_us of latency
 * under light load for a core mostly asleep, as Open vSwitch 3.1's
 * pmd-maxsleep does (off by default there).  Counted in
 * n_light_sleeps. */
#define DP_DEFAULT_MAX_SLEEP_US 100
#define DP_MAX_SLEEP_US_MAX 10000
#define DP_LIGHT_LOAD_BATCH 16

/* Fills 'cfg' with the defaults (n_threads 1, n_handlers = number of
 * CPUs). */
void dp_config_init(struct dp_config *cfg);

/* Creates a datapath and starts its threads.  Returns 0 or an errno value
 * (EINVAL for a configuration out of range). */
int dp_create(const struct dp_config *, struct dp **dpp);
/* Stops the threads, frees every flow and queued upcall.  Ports must have
 * been deleted (their netdevs belong to the caller) — any left are
 * removed. */
void dp_destroy(struct dp *);

/* Meters (datapath/dp-meter.h): dp_meters_set(), _del() and
 * _get_stats() on the datapath's meter table, safe against every reader. */
struct dp_meter_config;
struct dp_meter_stats;
int dp_meter_set(struct dp *, uint32_t id, const struct dp_meter_config *);
void dp_meter_del(struct dp *, uint32_t id);
bool dp_meter_get_stats(struct dp *, uint32_t id, struct dp_meter_stats *);

/* Run-time knobs. */
void dp_set_emc(struct dp *, bool enabled, unsigned int insert_inv_prob);
/* The light-load sleep ceiling (0: off), at most DP_MAX_SLEEP_US_MAX. */
void dp_set_max_sleep(struct dp *, unsigned int max_sleep_us);
unsigned int dp_get_max_sleep(const struct dp *);
void dp_set_max_flows(struct dp *, size_t max_flows);
unsigned int dp_n_threads(const struct dp *);

/* ---- Ports -------------------------------------------------------------- */

/* Adds 'netdev' as datapath port 'port_no' and starts polling it in one
 * datapath thread.  The netdev stays the caller's: it must outlive the
 * port.  Returns 0, EEXIST if 'port_no' is taken, EINVAL if 'port_no' is
 * DP_PORT_NONE. */
int dp_port_add(struct dp *, struct netdev *, uint32_t port_no);
/* Removes port 'port_no'.  When it returns no datapath thread and no
 * dp_execute() uses the netdev any more, so the caller may close it.
 * Returns 0 or ENOENT. */
int dp_port_del(struct dp *, uint32_t port_no);

struct dp_port_stats {
    uint32_t port_no;
    unsigned int thread;      /* Datapath thread that polls it. */
    uint64_t rx;              /* Packets the datapath took from the port. */
    uint64_t parse_drop;      /* ...of which too short to parse. */
    uint64_t lost;            /* ...of which misses lost (any reason). */
    uint64_t lost_port_share; /* ...of those, over the port's share. */
    uint64_t lossless_waits;  /* Times a thread waited for queue room. */
    /* The port's own counters (netdev_get_stats()). */
    uint64_t netdev_rx_packets, netdev_rx_bytes;
    uint64_t netdev_tx_packets, netdev_tx_bytes;
    uint64_t netdev_rx_dropped, netdev_tx_dropped;
    uint64_t netdev_rx_errors, netdev_tx_errors;
    /* Detached (dp_port_detach()), and the packets output to it while it
     * was (also counted in netdev_tx_dropped). */
    bool missing;
    uint64_t tx_missing;
};

/* Returns 0 and fills 'stats', or ENOENT. */
int dp_port_get_stats(struct dp *, uint32_t port_no, struct dp_port_stats *);
/* As dp_port_del(), storing the port's final statistics in '*stats' (read
 * once no datapath thread holds the port: nothing counts any more). */
int dp_port_del_stats(struct dp *, uint32_t port_no,
                      struct dp_port_stats *stats);
/* Interfaces come and go (a veth deleted with its container, then
 * created again with the same name): the port stays, with its number,
 * its flows and its counters, while its netdev is replaced.
 *
 * dp_port_detach() takes the netdev away from port 'port_no' and returns
 * it in '*netdevp', for the caller to close: when it returns, no thread
 * receives from it or sends to it any more.  The port is not polled while
 * detached (its thread sleeps as for an idle port), and packets output to
 * it are counted as tx drops (tx_missing, netdev_tx_dropped and the
 * coverage counter dp_tx_port_missing), not sent.  What the netdev
 * counted stays in the port's statistics.  Returns 0, ENOENT, or
 * EALREADY if the port is detached already.
 *
 * dp_port_attach() gives a detached port a new 'netdev' (of the same
 * type, a reopened interface) and polls it again; its counters continue
 * from where the old netdev left them.  Returns 0, ENOENT, or EBUSY if
 * the port has a netdev.  Both are for the thread that manages ports. */
int dp_port_detach(struct dp *, uint32_t port_no, struct netdev **netdevp);
int dp_port_attach(struct dp *, uint32_t port_no, struct netdev *);

/* Stores up to 'max' port numbers, ascending, in 'ports' and returns the
 * number of ports. */
size_t dp_port_list(struct dp *, uint32_t *ports, size_t max);

/* True once the receive side of port 'port_no' has ended: its netdev
 * reported EOF (a finished pcap replay: every frame it gave was processed,
 * hits executed and misses queued, before the thread saw the EOF), or
 * dp_port_stop_rx() was called.  False for a port that does not exist. */
bool dp_port_rx_done(struct dp *, uint32_t port_no);
/* Stops polling port 'port_no' for good (shutdown: traffic stops entering
 * while what is inside drains); the port still transmits.  A batch the
 * thread is processing at the time finishes: wait for the counters of
 * dp_get_stats() to add up.  Returns 0 or ENOENT. */
int dp_port_stop_rx(struct dp *, uint32_t port_no);

/* ---- Statistics --------------------------------------------------------- */

struct dp_stats {
    uint64_t n_rx;  /* Packets received by datapath threads. */
    uint64_t n_hit; /* n_emc_hit + n_dpcls_hit. */
    uint64_t n_emc_hit;
    uint64_t n_dpcls_hit;
    uint64_t n_missed; /* Misses queued as upcalls. */
    uint64_t n_lost;   /* Misses dropped: sum of the reasons below. */
    uint64_t n_lost_queue_full;
    uint64_t n_lost_port_share; /* The port's share of the queue used up. */
    uint64_t n_lost_no_handler; /* n_handlers == 0. */
    uint64_t n_lost_shutdown;   /* Lossless wait cut short by dp_destroy. */
    uint64_t n_parse_drop;      /* Frames shorter than an Ethernet header. */
    uint64_t n_parse_error; /* Frames parsed with an anomaly (still used). */
    uint64_t n_subtable_probes; /* Subtables probed per dpcls hit, summed. */
    uint64_t n_action_upcall;   /* userspace() upcalls queued. */
    uint64_t n_action_upcall_lost; /* ... or lost on a full queue. */
    uint64_t n_tx_no_port;         /* Outputs to a port the datapath lacks. */
    uint64_t n_drop_action;        /* Packets of flows with no actions. */
    uint64_t n_meter_drop;         /* Packets a meter's drop band took. */
    uint64_t n_recirc_drop;        /* recirc() nested too deep, or its upcall
                               * lost. */
    uint64_t n_recirc_upcall;      /* Recirculated packets that missed. */
    uint64_t n_lossless_waits;
    uint64_t n_executed;          /* Packets run through dp_execute(). */
    uint64_t n_drain_upcall;      /* Hits on draining flows queued... */
    uint64_t n_drain_upcall_lost; /* ...or lost ("Order"). */
    uint64_t n_drain_flips;       /* Flows that finished draining. */
    uint64_t n_draining;          /* Flows draining now. */
    uint64_t n_idle_work;         /* Idle-work calls that did work (batches
                                   * datapath threads ran for handlers). */
    uint64_t n_wake_deferred;     /* Handler wake-ups held back until a busy
                                   * thread gave up running them itself. */
    uint64_t n_port_paused;       /* Polls of a port skipped because its
                                   * misses might not fit in the queues. */
    /* Time the datapath threads spent running (not sleeping): busy
     * (receiving, forwarding, queueing, idle work) and idle (polls that
     * found nothing), in ns.  A busy-polling thread's CPU time is about
     * their sum; busy_ns alone is what the traffic cost. */
    uint64_t busy_ns, idle_ns;
    uint64_t n_light_sleeps; /* Sleeps under light load ("Light load"). */
    uint64_t n_flows;
    uint64_t n_masks;
};

void dp_get_stats(struct dp *, struct dp_stats *);

/* ---- Flows -------------------------------------------------------------- */

struct dp_ufid {
    uint64_t hi, lo;
};

static inline bool
dp_ufid_equal(const struct dp_ufid *a, const struct dp_ufid *b)
{
    return a->hi == b->hi && a->lo == b->lo;
}

/* The ufid of the megaflow 'match' (its flow is masked first). */
void dp_flow_ufid(const struct match *, struct dp_ufid *);

struct dp_flow_stats {
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t used;      /* time_msec() of the last hit, 0 if never. */
    uint16_t tcp_flags; /* OR of the TCP flags of every hit. */
};

/* A snapshot of one flow, for gets and dumps.  'actions' is a reference
 * the holder releases with dp_flow_info_uninit(). */
struct dp_flow_info {
    struct dp_ufid ufid;
    struct match match; /* Key (masked) and mask. */
    struct dp_actions *actions;
    struct dp_flow_stats stats;
    uint64_t created; /* time_msec() of the put. */
    bool draining;    /* Still in the draining state ("Order"). */
};

void dp_flow_info_uninit(struct dp_flow_info *);

/* dp_flow_put() flags. */
#define DP_FLOW_PUT_CREATE 0x1 /* Create if absent (else ENOENT). */
#define DP_FLOW_PUT_MODIFY                                                    \
    0x2                       /* Replace the actions if present (else
                                * EEXIST). */
#define DP_FLOW_PUT_DRAIN 0x4 /* A new flow starts draining ("Order"). */
/* The caller vouches that the match is normalized (its flow masked) and
 * that the op's put.ufid already holds its dp_flow_ufid(): the put
 * neither copies the match nor hashes it again (dp_operate() only). */
#define DP_FLOW_PUT_UFID 0x8

/* Installs the megaflow 'match' (its flow is masked first) with a
 * reference to 'actions'.  With CREATE alone: EEXIST if it exists, EFBIG
 * at the flow limit.  With MODIFY alone: ENOENT if it does not exist;
 * otherwise its actions are replaced and its statistics kept.  With both:
 * create or modify.  Returns 0 or the error; stores the ufid in '*ufid' if
 * nonnull, and with MODIFY of an existing flow its statistics so far in
 * '*stats' if nonnull. */
int dp_flow_put(struct dp *, const struct match *,
                const struct dp_actions *actions, unsigned int flags,
                struct dp_ufid *ufid, struct dp_flow_stats *stats);
/* Deletes the flow 'ufid', storing its final statistics in '*stats' if
 * nonnull.  Returns 0 or ENOENT. */
int dp_flow_del(struct dp *, const struct dp_ufid *,
                struct dp_flow_stats *stats);
/* Returns 0 and a snapshot in '*info', or ENOENT. */
int dp_flow_get(struct dp *, const struct dp_ufid *, struct dp_flow_info *);
/* Deletes every flow.  Returns the number deleted.  The callback set
 * with dp_set_flow_flush_cb() hears of each of them. */
size_t dp_flow_flush(struct dp *);

/* Whoever keeps records of the flows (the slow path's ukeys) must hear of
 * deletes it did not ask for: the callers of dp_flow_del() and
 * dp_operate() get the final statistics of what they delete, but a
 * dp_flow_flush() (dpctl/del-flows) would otherwise leave them with a
 * record of a flow that is gone and its last packets uncounted.  After a
 * flush has deleted its flows and a grace period has passed, it calls
 * 'cb(ufids, stats, n, aux)' with each flow's ufid and final statistics,
 * in batches, in the flushing thread, holding no datapath lock.  One
 * callback per datapath; NULL removes it, and returns only once no call
 * of the old one is running. */
typedef void dp_flow_flush_cb(const struct dp_ufid ufids[],
                              const struct dp_flow_stats stats[], size_t n,
                              void *aux);
void dp_set_flow_flush_cb(struct dp *, dp_flow_flush_cb *cb, void *aux);

/* Runs 'actions' on 'pkt' (whose in_port is the input port) as the
 * datapath would, outside any datapath thread: outputs go to the ports,
 * userspace() actions queue ACTION upcalls (never waiting for room: a
 * full queue loses them).  The packet is parsed again first.  With
 * 'may_steal' the datapath takes 'pkt' (and recycles it); otherwise the
 * caller keeps it.  Returns 0. */
int dp_execute(struct dp *, struct dp_packet *pkt,
               const struct dp_actions *actions, bool may_steal);

/* ---- Batched operations ------------------------------------------------*/

enum dp_op_type {
    DP_OP_FLOW_PUT,
    DP_OP_FLOW_DEL,
    DP_OP_FLOW_GET,
    DP_OP_EXECUTE,
};

struct dp_op {
    enum dp_op_type type;
    int error; /* Output: 0 or the error of the operation. */
    union {
        struct {
            const struct match *match;
            const struct dp_actions *actions;
            unsigned int flags;
            struct dp_ufid ufid;         /* Output, or input with
                                          * DP_FLOW_PUT_UFID. */
            struct dp_flow_stats *stats; /* Output, may be NULL. */
        } put;
        struct {
            struct dp_ufid ufid;
            struct dp_flow_stats *stats; /* Output, may be NULL. */
        } del;
        struct {
            struct dp_ufid ufid;
            struct dp_flow_info *info; /* Output. */
        } get;
        struct {
            struct dp_packet *packet;
            const struct dp_actions *actions;
            bool may_steal;
        } execute;
    };
};

/* Runs ops[0..n) in order (each reports its own error).  Puts, deletes
 * and gets share one acquisition of the flow mutex per run of them, and
 * all the deletes share one grace period. */
void dp_operate(struct dp *, struct dp_op ops[], size_t n);

/* ---- Flow dumps --------------------------------------------------------- */

/* A dump visits the flows in installation order.  Any number of threads
 * may call dp_flow_dump_next() on one dump at once: each flow is returned
 * at most once per dump, and every flow that exists for the whole dump is
 * returned; a flow deleted during the dump may or may not be, and flows
 * added after the dump started are not (so a dump always ends). */
struct dp_flow_dump;

struct dp_flow_dump *dp_flow_dump_create(struct dp *);
/* Fills flows[0..max) with the next flows and returns how many (0 at the
 * end).  The caller calls dp_flow_info_uninit() on each. */
size_t dp_flow_dump_next(struct dp_flow_dump *, struct dp_flow_info flows[],
                         size_t max);
void dp_flow_dump_destroy(struct dp_flow_dump *);

/* ---- Upcalls ------------------------------------------------------------ */

enum dp_upcall_type {
    DP_UPCALL_MISS,   /* No megaflow matched. */
    DP_UPCALL_ACTION, /* A userspace() action. */
    DP_UPCALL_DRAIN,  /* A hit on a draining flow ("Order"). */
};

struct dp_upcall {
    struct dp_packet *packet; /* Owned by the receiver: recycle it with
                               * netdev_packet_recycle() or hand it to
                               * dp_execute(..., true). */
    struct flow key;          /* As parsed on receive (ACTION: as the
                               * packet was when the action ran). */
    uint32_t in_port;
    enum dp_upcall_type type;
    struct dp_userdata userdata; /* ACTION: the action's userdata. */
    struct dp_ufid ufid;         /* ACTION, DRAIN: the flow it hit. */
    /* DRAIN: the flow's actions when the packet hit it, to execute it
     * with; a reference the receiver releases (dp_upcall_discard() drops
     * an upcall whole).  NULL for the other types. */
    struct dp_actions *actions;
};

/* Recycles the packet of 'up' and releases what it holds, for a receiver
 * that drops it. */
void dp_upcall_discard(struct dp_upcall *up);

/* Changes the number of handlers (and upcall queues).  The datapath
 * threads are paused meanwhile, and upcalls already queued are moved to
 * the new queues (in order, by the same hash).  No handler may be inside
 * dp_upcall_recv() or dp_upcall_wait() during the call.  Returns 0 or
 * EINVAL. */
int dp_set_n_handlers(struct dp *, unsigned int n_handlers);
unsigned int dp_n_handlers(const struct dp *);

/* Takes up to 'max' upcalls from queue 'handler' into upcalls[], oldest
 * first.  Returns how many (0 if the queue is empty).  Never blocks. */
size_t dp_upcall_recv(struct dp *, unsigned int handler,
                      struct dp_upcall upcalls[], size_t max);
/* Tells the datapath that the handler has finished with every upcall it
 * took from queue 'handler' so far: their executes are done ("Order").
 * The next dp_upcall_recv() implies it; a handler calls it at the end of
 * each batch so that draining flows flip without waiting for the next
 * one. */
void dp_upcall_batch_done(struct dp *, unsigned int handler);
/* Blocks until queue 'handler' is not empty, 'timeout_ms' passes (< 0:
 * forever) or dp_upcall_wake() is called.  Returns true if the queue is
 * not empty. */
bool dp_upcall_wait(struct dp *, unsigned int handler, int timeout_ms);
/* Wakes dp_upcall_wait() on 'handler' (e.g. to stop the handler). */
void dp_upcall_wake(struct dp *, unsigned int handler);
/* A file descriptor that becomes readable when an upcall is queued for
 * 'handler' while it waits, for handlers that poll() on more than the
 * queue; dp_upcall_wait() is the simple way. */
int dp_upcall_get_fd(struct dp *, unsigned int handler);
/* Entries in queue 'handler' right now (approximate under traffic). */
size_t dp_upcall_queue_len(struct dp *, unsigned int handler);
/* Of those, entries from port 'port_no' (and from ports congruent to it
 * modulo 256: see "Upcalls"). */
size_t dp_upcall_queue_port_len(struct dp *, unsigned int handler,
                                uint32_t port_no);
/* Turns the per-port shares of the upcall queues on or off. */
void dp_set_upcall_port_share(struct dp *, bool enabled);

/* ---- Work-conserving upcalls (DESIGN.md §3) ----------------------------- */

/* Called by datapath thread 'thread' when a poll of all its ports found
 * nothing to receive: it may run one handler batch (the slow path's own
 * code, queue and locks) and returns true if it did any work.  It runs
 * offline (no RCU pointer of the datapath held, so it may block on the
 * slow path's locks and call every dp_*() function but dp_destroy(),
 * dp_port_add/del() and dp_set_n_handlers()), with no lookup of the
 * thread in flight ("Order": the thread counts as asleep meanwhile). */
typedef bool dp_idle_work_fn(void *aux, unsigned int thread);

/* Installs 'fn' (NULL: none, the default).  While one is installed:
 *  - a datapath thread that queues upcalls does not wake the handler that
 *    sleeps on the queue at once: it runs them itself as soon as a poll
 *    of its ports finds nothing, and wakes the handler only if it stays
 *    busy for DP_UPCALL_WAKE_DEFER_ITERS iterations in a row with
 *    upcalls still queued, before it sleeps, and before it waits for
 *    room on a lossless port (upcalls queued by other threads wake the
 *    handler at once);
 *  - a datapath thread does not receive from a port whose next batch of
 *    misses might not fit in the queues (dp_uqueue_port_room() below a
 *    batch, counted in n_port_paused): the frames stay in the port's
 *    receive ring, which is far deeper than a queue, instead of being
 *    lost at the queue; with nothing else to forward, the thread then
 *    runs the batch that makes room (its other ports are still polled,
 *    and a busy thread still never translates);
 *  - a thread that finds upcalls queued but every one of their handlers
 *    busy (its thread, or another datapath thread, runs it) yields its
 *    CPU, in case they share it.
 * When dp_set_idle_work() returns, no datapath thread is inside the
 * previous function any more.  For the managing thread. */
void dp_set_idle_work(struct dp *, dp_idle_work_fn *fn, void *aux);

/* For how many busy iterations in a row a datapath thread holds back the
 * wake-up of a sleeping handler for upcalls it queued, hoping to run them
 * itself. */
#define DP_UPCALL_WAKE_DEFER_ITERS 16

/* ---- Text --------------------------------------------------------------- */

/* Appends 'info' in the style of ovs-dpctl dump-flows:
 *   [ufid:HEX, ]in_port(1),eth(src=..,dst=..),eth_type(0x0800),
 *   ipv4(src=..,dst=..,proto=6,frag=no),tcp(src=1234,dst=80),
 *   packets:3, bytes:180, used:0.004s, flags:S, actions:2
 * with only the fields whose mask is nonzero, partially masked ones as
 * VALUE/MASK; 'verbose' adds the ufid. */
void dp_flow_format(const struct dp_flow_info *, bool verbose, struct ds *);
/* Only the key part ("in_port(1),eth(...),..."). */
void dp_flow_format_match(const struct match *, struct ds *);

#endif /* datapath/datapath.h */
