/*
 * upcall/upcall.h — the handlers: the slow path's front half (DESIGN.md §1,
 * §3 "Upcall queues and handlers").
 *
 * A udpif ties one datapath to one OpenFlow bridge.  It runs n handler
 * threads; handler i owns the datapath's upcall queue i.  A handler takes
 * up to UPCALL_BATCH upcalls at a time (dp_upcall_recv()), sleeping on
 * dp_upcall_wait() when its queue is empty, and for each batch:
 *
 *  1. classifies every upcall: a MISS; a DRAIN upcall (see "Order"); an
 *     ACTION upcall carrying the handlers' own slow-path cookie (a flow
 *     that must stay in userspace: treated as a miss whose flow is never
 *     put again); an ACTION upcall carrying a controller cookie (struct
 *     xlate_userdata: handed to the packet-in hook, below, or counted
 *     upcall_controller_no_connection when there is none or it declines
 *     the packet);
 *     anything else is malformed, counted and dropped;
 *  2. groups the misses by flow key into flow misses (packets, bytes, OR of
 *     TCP flags), and translates each flow miss once through the bridge
 *     (xlate_actions() with learning and an xlate cache), crediting the
 *     rules with the packets at once (xlate_cache_push_stats());
 *     a slow-pathed flow (xlate_out.slow) is translated again per packet,
 *     since its side effects matter;
 *  3. walks the packets in arrival order, queues an execute for each and
 *     decides whether to install its flow: not when the datapath holds
 *     flow_limit flows or more, not twice in one batch, not for a flow that
 *     is already installed (a slow-path ACTION upcall), not while the
 *     governor (governor.h) says no, and not when a ukey for the flow
 *     exists (another handler installs it: handler_duplicate_upcall) —
 *     unless that ukey's flow was deleted in the current revalidator dump
 *     (EVICTED), in which case a fresh ukey replaces it and the flow is put
 *     at once (upcall_ukey_replace);
 *  4. submits all of it in one dp_operate() call: the executes first, in
 *     arrival order, then the puts, so that no packet of this batch is
 *     overtaken by a packet that hits the new flow.  (Packets of the flow
 *     still waiting in the queue can be; see "Order" below.)
 *
 * Who runs a batch (DESIGN.md §3, "Work-conserving upcalls").  In
 * UPCALL_MODE_AUTO (the default) a handler's batch is run by whoever
 * holds the handler's run mutex: its own thread, or a datapath thread
 * that found nothing to forward (dp_set_idle_work(); it trylocks, so it
 * never waits for a handler).  Either runs the same code on the same
 * queue, so order, accounting and fairness do not depend on who ran it;
 * upcall/show counts the batches each kind of thread ran.  The handler
 * threads still exist: a busy datapath thread wakes them (datapath.h),
 * and on a machine with spare cores they run in parallel.
 * UPCALL_MODE_THREADS leaves every batch to the handler threads.
 *
 * A slow-pathed flow is installed with a single userspace() action that
 * carries the slow-path cookie, so its packets keep coming to the same
 * handler queue.  A packet from a datapath port that belongs to no bridge
 * port installs a drop flow for its in_port (logged, rate-limited).
 * Megaflows can be turned off (exact-match flows) for debugging.
 *
 * Order.  Within a batch, packets of one flow leave in arrival order, and
 * the put follows them.  Across the miss -> install transition too: a
 * handler puts a flow that forwards (not a drop, not slow-pathed) with
 * DP_FLOW_PUT_DRAIN, so packets that hit it while older packets of it may
 * still wait in a queue or a handler's batch come up as DRAIN upcalls and
 * are executed, in order, with the flow's actions (counted by the flow,
 * so never credited to the rules here; coverage upcall_drain_executed)
 * until the datapath flips the flow (datapath.h, "Order").  Each batch
 * ends with dp_upcall_batch_done().
 *
 * Revalidators (revalidator.c, DESIGN.md §3).  n_revalidators threads, a
 * leader and followers meeting at barriers, run rounds: dump every
 * datapath flow (batches of 50), credit each flow's new packets to its
 * rules through its ukey's xlate cache, delete idle flows (max_idle; 100
 * ms above the flow limit; every flow above 2 x the limit), re-translate
 * the flows whose translation predates a table change (the ukey remembers
 * the change sequence it was translated at) and modify them in place when
 * only their actions changed or delete them when their mask no longer
 * covers what translation needs (or, after a dump of >= 200 ms, delete the
 * ones under min_revalidate_pps instead), then sweep the ukeys of flows
 * the dump did not see.  The leader runs the OpenFlow rule timeouts at the
 * start of each round, adapts the flow limit to the dump duration at its
 * end, and sleeps until min(max_idle, max_revalidator) after the round
 * began (at least 5 ms), or less when the tables change or
 * upcall_revalidator_wait()/revalidator/wait asks.  A purge (on demand and
 * in upcall_destroy()) deletes every flow and ukey, crediting the rules.
 * Rule n_packets thus sum to what the handlers and the datapath saw.
 * Every deletion is counted by reason (upcall_get_revalidator_stats()).
 *
 * Barriers (ofproto.h "Cache sync").  A threaded udpif attaches to its
 * bridge's cache sync.  A round that starts after a table change first
 * waits for the handler batches in progress (one may hold a flow it
 * translated with the old tables and not yet have made its ukey), then,
 * at its end, tells the bridge that every cached flow follows the change
 * sequence it started from; OpenFlow barriers and the control socket's
 * flow commands answer on that.  While the datapath holds no flow, a
 * table change starts a round at once (no 5 ms spacing: it costs next to
 * nothing).  upcall_destroy() detaches after its purge.  Manual mode does
 * not attach (its bridge counts as always in sync).
 * upcall_check_consistency() checks the cache against the tables.
 *
 * The flow limit.  upcall_set_flow_limit() (upcall/set-flow-limit) sets
 * the maximum and the current limit; each round then adapts the current
 * limit within [1000, maximum].
 *
 * Control commands (control/control.h, registered on the first
 * upcall_create()): upcall/show (every udpif), upcall/set-flow-limit N,
 * upcall/enable-megaflows, upcall/disable-megaflows, revalidator/wait (its
 * reply comes once a round that started after it has ended),
 * revalidator/purge, revalidator/pause, revalidator/resume and
 * revalidator/check (the consistency checker).  Those that wait, or that
 * need a thread registered with liburcu, run in a short-lived thread of
 * their own, never in the control thread.
 *
 * Tests can create a udpif in manual mode (no threads) and drive one
 * handler batch at a time with upcall_handler_run() and one revalidator
 * round at a time with upcall_revalidate(), with time injected.
 *
 * Thread safety.  upcall_create/destroy and the setters are for one
 * managing thread at a time; that thread, and any thread calling
 * upcall_handler_run(), must be registered with liburcu (memb flavour).
 * upcall_set_n_handlers() stops every handler (joining them), lets the
 * datapath move the queued upcalls to the new queues, and starts the new
 * handlers: no upcall is dropped silently.  upcall_show() and the getters
 * may run from any thread (they read relaxed atomics), but not while the
 * managing thread changes the handler set (upcall_set_n_handlers(),
 * upcall_set_governor_mode(), upcall_destroy()).  The revalidator calls
 * (wait, purge, pause, resume, the checker, the knobs and getters) may run
 * from any thread, concurrently with the rounds; those that translate or
 * delete (purge, the checker, manual rounds) need a thread registered with
 * liburcu (memb) outside any read-side section.  upcall_set_n_revalidators()
 * is for the managing thread.  upcall_revalidator_wait(), upcall_purge()
 * and upcall_revalidators_pause() return at once once upcall_destroy() has
 * begun (and the wait and pause do nothing in manual mode).
 */
#ifndef FLOWSWITCH_UPCALL_UPCALL_H
#define FLOWSWITCH_UPCALL_UPCALL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upcall/governor.h"

struct dp;
struct ds;
struct ofproto;
struct udpif;
struct ukey_map;

#define UPCALL_BATCH 64
#define UPCALL_DEFAULT_FLOW_LIMIT 10000
#define UPCALL_DEFAULT_MAX_FLOW_LIMIT 200000

/* The cookie of the userspace() action of a slow-pathed flow. */
#define UPCALL_USERDATA_SLOW_PATH 0x80
struct upcall_slow_cookie {
    uint8_t type; /* UPCALL_USERDATA_SLOW_PATH. */
    uint8_t pad[3];
    uint32_t reasons; /* XLATE_SLOW_* bits. */
};

/* Who runs the handlers' batches (DESIGN.md §3, "Work-conserving
 * upcalls"). */
enum upcall_mode {
    /* The handler threads, and datapath threads with nothing to forward
     * (dp_set_idle_work()): one batch at a time, through the same code,
     * queue and lock as the handler that owns the queue. */
    UPCALL_MODE_AUTO,
    /* The handler threads only. */
    UPCALL_MODE_THREADS,
};
const char *upcall_mode_to_string(enum upcall_mode);
/* Parses "auto" or "threads".  Returns false for anything else. */
bool upcall_mode_from_string(const char *, enum upcall_mode *);

struct upcall_config {
    unsigned int n_handlers;         /* 0: number of CPUs. */
    enum upcall_mode mode;           /* [UPCALL_MODE_AUTO]. */
    size_t flow_limit;               /* [min(max_flow_limit, 10000)]. */
    size_t max_flow_limit;           /* [200000]. */
    bool megaflows;                  /* [true]. */
    enum governor_mode governor;     /* [GOVERNOR_AUTO]. */
    unsigned int n_revalidators;     /* 0: max(1, CPUs / 4). */
    uint64_t max_idle;               /* msec a flow may stay unused [10000]. */
    uint64_t max_revalidator;        /* msec between round starts [500]. */
    unsigned int min_revalidate_pps; /* [5] */
    /* No threads (neither handlers nor revalidators): the caller runs
     * upcall_handler_run() and upcall_revalidate(). */
    bool manual;
};

void upcall_config_init(struct upcall_config *);

/* Creates a udpif for 'dp' and 'ofproto' (both must outlive it), sets the
 * datapath's handler count to the configured one and starts the handlers.
 * Returns 0 or EINVAL. */
int upcall_create(const char *name, struct dp *, struct ofproto *,
                  const struct upcall_config *, struct udpif **udpifp);
/* Stops the handlers; upcalls still queued are dropped and counted
 * (upcall_dropped_on_destroy). */
void upcall_destroy(struct udpif *);

/* Changes the number of handlers.  Returns 0 or EINVAL. */
int upcall_set_n_handlers(struct udpif *, unsigned int n_handlers);
unsigned int upcall_n_handlers(const struct udpif *);

void upcall_set_flow_limit(struct udpif *, size_t flow_limit);
size_t upcall_get_flow_limit(const struct udpif *);
/* Switches megaflows on or off and, as Open vSwitch does, purges the
 * datapath flows (upcall_purge(): final statistics credited) once every
 * handler batch that may have translated with the old setting is done,
 * so that every flow from then on follows the new one.  Blocks; needs a
 * thread registered with liburcu (memb), outside any read-side section. */
void upcall_set_megaflows(struct udpif *, bool enabled);
bool upcall_get_megaflows(const struct udpif *);
void upcall_set_governor_mode(struct udpif *, enum governor_mode);
enum upcall_mode upcall_get_mode(const struct udpif *);

/* Manual mode: runs one batch of handler 'handler' at time 'now' (msec).
 * Returns the number of upcalls handled. */
size_t upcall_handler_run(struct udpif *, unsigned int handler, uint64_t now);

/* The ukeys, for revalidators and tests. */
struct ukey_map *upcall_get_ukeys(struct udpif *);

struct upcall_handler_stats {
    uint64_t n_upcalls;    /* Upcalls handled. */
    uint64_t n_batches;    /* Batches with at least one upcall... */
    uint64_t n_batches_dp; /* ...of which datapath threads ran. */
    uint64_t n_puts;       /* Flows put successfully. */
    size_t queue_len;      /* Upcalls waiting in its queue now. */
};

/* Returns 0 and fills 'stats' for handler 'handler', or ENOENT. */
int upcall_get_handler_stats(struct udpif *, unsigned int handler,
                             struct upcall_handler_stats *);

/* Sums over every handler the udpif has had: the running ones and those
 * that upcall_set_n_handlers() or upcall_set_governor_mode() stopped, whose
 * counters would otherwise leave with them (so "misses = handled" still
 * adds up after a change).  Same thread rules as the getters. */
struct upcall_totals {
    uint64_t n_upcalls, n_batches, n_puts;
    uint64_t n_batches_dp; /* Of n_batches, run by datapath threads. */
    uint64_t n_gov_suppressed, n_gov_installed; /* governor_info's. */
    size_t queue_len; /* Upcalls waiting in every queue now. */
};
void upcall_get_totals(struct udpif *, struct upcall_totals *);
/* Governor state of handler 'handler' (ENOENT if none). */
int upcall_get_governor_info(struct udpif *, unsigned int handler,
                             struct governor_info *);

/* The text of upcall/show. */
void upcall_show(struct udpif *, struct ds *);

/* ---- Packet-in hook (OpenFlow) ----------------------------------------- */

/* What a controller action hands to the controller.  Everything points
 * into the upcall and is valid only during the call. */
struct upcall_packet_in {
    const struct dp_packet *packet; /* As it was when the action ran. */
    uint32_t dp_in_port;            /* Datapath port it came in on. */
    uint8_t reason;                 /* enum ofpact_controller_reason. */
    uint8_t table_id;               /* Table of the rule that sent it. */
    uint16_t max_len;               /* Bytes of the packet to send. */
    uint16_t controller_id;         /* 0: every controller. */
    uint64_t cookie;                /* The rule's cookie (0: table miss). */
};

/* Called from a handler thread for each controller upcall; returns true
 * if the packet was taken (queued for at least one connection), false if
 * it was not, which counts it as upcall_controller_no_connection.  It
 * must copy what it keeps and must not block. */
typedef bool upcall_packet_in_cb(const struct upcall_packet_in *, void *aux);

/* Sets the hook, once, at any time (handlers may be running); 'aux' must
 * outlive the udpif. */
void upcall_set_packet_in_hook(struct udpif *udpif, upcall_packet_in_cb *cb,
                               void *aux);

/* ---- Revalidators (DESIGN.md §3 "Revalidators") ---------------------- */
#define UPCALL_DEFAULT_MAX_IDLE 10000
#define UPCALL_DEFAULT_MAX_REVALIDATOR 500
#define UPCALL_DEFAULT_MIN_REVALIDATE_PPS 5
#define UPCALL_MAX_REVALIDATORS 64

/* Changes the number of revalidator threads (stopping and restarting them).
 * Returns 0 or EINVAL. */
int upcall_set_n_revalidators(struct udpif *, unsigned int n);
unsigned int upcall_n_revalidators(const struct udpif *);
void upcall_set_max_idle(struct udpif *, uint64_t msec);
void upcall_set_max_revalidator(struct udpif *, uint64_t msec);
void upcall_set_min_revalidate_pps(struct udpif *, unsigned int pps);
/* Blocks until a whole revalidator round that started after the call has
 * ended (threaded mode; wakes the revalidators at once). */
void upcall_revalidator_wait(struct udpif *);
/* Deletes every datapath flow and every ukey, crediting the final stats
 * to the rules; blocks until done. */
void upcall_purge(struct udpif *);
/* Pausing stops the rounds after the one in progress (a purge still
 * runs); a wait blocks until the revalidators resume. */
void upcall_revalidators_pause(struct udpif *); /* blocks until paused */
void upcall_revalidators_resume(struct udpif *);
/* Manual mode: one full round at time 'now' (msec) in the calling thread
 * (dump, per-flow decisions, sweep, flow-limit adaptation).  Tests inject
 * the dump duration used by the adaptation with
 * upcall_set_dump_duration_override(udpif, msec) (UINT64_MAX: measure). */
void upcall_revalidate(struct udpif *, uint64_t now);
void upcall_set_dump_duration_override(struct udpif *, uint64_t msec);
/* The over-limit decisions of a round (delete flows idle over 100 ms
 * above flow_limit, every flow above 2 x flow_limit) follow the current
 * flow count, read again once per batch when the last reading is 'msec'
 * old [100]; tests set 0 to read it for every batch. */
void upcall_set_flow_sample_interval(struct udpif *, uint64_t msec);
/* Cache-consistency checker: for every datapath flow, translates its key
 * afresh; a flow whose installed actions differ or whose installed mask
 * does not cover the new translation's mask is stale: one line per stale
 * flow appended to 'out'.  Returns the number of stale flows. */
size_t upcall_check_consistency(struct udpif *, struct ds *out);

/* Why a flow was deleted (or its ukey dropped). */
enum upcall_del_reason {
    UPCALL_DEL_IDLE,            /* Unused for max_idle. */
    UPCALL_DEL_FLOW_LIMIT,      /* Over the limit: idle 100 ms, or > 2x. */
    UPCALL_DEL_TOO_EXPENSIVE,   /* < min_revalidate_pps after a slow dump. */
    UPCALL_DEL_MASK_TOO_WIDE,   /* Translation needs bits it ignores. */
    UPCALL_DEL_ACTIONS_CHANGED, /* New actions, and the modify failed. */
    UPCALL_DEL_XLATE_ERROR,     /* Translation failed. */
    UPCALL_DEL_PURGE,           /* upcall_purge(). */
    UPCALL_DEL_MISSING, /* Flow gone from the datapath (4 dumps in a row,
                         * or found gone when deleting it). */
    UPCALL_N_DEL_REASONS
};
const char *upcall_del_reason_to_string(enum upcall_del_reason);

struct upcall_revalidator_stats {
    uint64_t n_rounds;
    uint64_t last_dump_duration; /* msec */
    uint64_t last_round_usec;    /* The last round, whole, in usec. */
    uint64_t n_modified;         /* flows whose actions were updated */
    uint64_t n_deleted[UPCALL_N_DEL_REASONS];
    uint64_t n_deleted_total;
    size_t n_ukeys;
};
void upcall_get_revalidator_stats(struct udpif *,
                                  struct upcall_revalidator_stats *);

#endif /* upcall/upcall.h */
