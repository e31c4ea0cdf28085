/*
 * upcall/upcall.h — the handlers: the slow path's front half (DESIGN.md §1,
 * §3 "Upcall queues and handlers").
 *
 * A udpif ties one datapath to one OpenFlow bridge.  It runs n handler
 * threads; handler i owns the datapath's upcall queue i.  A handler takes
 * up to UPCALL_BATCH upcalls at a time (dp_upcall_recv()), sleeping on
 * dp_upcall_wait() when its queue is empty, and for each batch:
 *
 *  1. classifies every upcall: a MISS; an ACTION upcall carrying the
 *     handlers' own slow-path cookie (a flow that must stay in userspace:
 *     treated as a miss whose flow is never put again); an ACTION upcall
 *     carrying a controller cookie (struct xlate_userdata: counted
 *     upcall_controller_no_connection until OpenFlow connections exist);
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
 * A slow-pathed flow is installed with a single userspace() action that
 * carries the slow-path cookie, so its packets keep coming to the same
 * handler queue.  A packet from a datapath port that belongs to no bridge
 * port installs a drop flow for its in_port (logged, rate-limited).
 * Megaflows can be turned off (exact-match flows) for debugging.
 *
 * Order.  Within a batch, packets of one flow leave in arrival order, and
 * the put follows them.  The DESIGN's stronger guarantee (a "draining"
 * flow state in the datapath) is not implemented yet.
 *
 * Control commands (control/control.h, registered on the first
 * upcall_create()): upcall/show (every udpif), upcall/set-flow-limit N,
 * upcall/enable-megaflows, upcall/disable-megaflows.
 *
 * Tests can create a udpif in manual mode (no threads) and drive one
 * handler batch at a time with upcall_handler_run(), with time injected.
 *
 * Thread safety.  upcall_create/destroy and the setters are for one
 * managing thread at a time; that thread, and any thread calling
 * upcall_handler_run(), must be registered with liburcu (memb flavour).
 * upcall_set_n_handlers() stops every handler (joining them), lets the
 * datapath move the queued upcalls to the new queues, and starts the new
 * handlers: no upcall is dropped silently.  upcall_show() and the getters
 * may run from any thread (they read relaxed atomics), but not while the
 * managing thread changes the handler set (upcall_set_n_handlers(),
 * upcall_set_governor_mode(), upcall_destroy()).
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

struct upcall_config {
    unsigned int n_handlers;     /* 0: number of CPUs. */
    size_t flow_limit;           /* [min(max_flow_limit, 10000)]. */
    size_t max_flow_limit;       /* [200000]. */
    bool megaflows;              /* [true]. */
    enum governor_mode governor; /* [GOVERNOR_AUTO]. */
    bool manual; /* No threads: the caller runs upcall_handler_run(). */
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
void upcall_set_megaflows(struct udpif *, bool enabled);
bool upcall_get_megaflows(const struct udpif *);
void upcall_set_governor_mode(struct udpif *, enum governor_mode);

/* Manual mode: runs one batch of handler 'handler' at time 'now' (msec).
 * Returns the number of upcalls handled. */
size_t upcall_handler_run(struct udpif *, unsigned int handler, uint64_t now);

/* The ukeys, for revalidators and tests. */
struct ukey_map *upcall_get_ukeys(struct udpif *);

struct upcall_handler_stats {
    uint64_t n_upcalls; /* Upcalls handled. */
    uint64_t n_batches; /* Batches with at least one upcall. */
    uint64_t n_puts;    /* Flows put successfully. */
    size_t queue_len;   /* Upcalls waiting in its queue now. */
};

/* Returns 0 and fills 'stats' for handler 'handler', or ENOENT. */
int upcall_get_handler_stats(struct udpif *, unsigned int handler,
                             struct upcall_handler_stats *);
/* Governor state of handler 'handler' (ENOENT if none). */
int upcall_get_governor_info(struct udpif *, unsigned int handler,
                             struct governor_info *);

/* The text of upcall/show. */
void upcall_show(struct udpif *, struct ds *);

#endif /* upcall/upcall.h */
