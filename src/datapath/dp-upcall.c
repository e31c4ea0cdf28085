/* datapath/dp-upcall.c — upcall queues (see datapath.h, "Upcalls").
 *
 * Each queue is a bounded multi-producer, single-consumer ring in the style
 * of Dmitry Vyukov's bounded MPMC queue: every cell carries a sequence
 * number that says whether it is free for the producer at position 'pos'
 * (seq == pos) or holds the upcall for the consumer at 'pos' (seq == pos +
 * 1).  Producers claim a position with a compare-and-swap on 'head', fill
 * the cell and publish it with a release store of its sequence; the one
 * consumer reads cells in order.  No locks, and a full queue is detected
 * without touching the consumer's cache line.
 *
 * Sleeping.  A handler with nothing to do sets 'waiting', checks the queue
 * once more and sleeps in poll() on an eventfd; a producer that sees
 * 'waiting' after publishing writes the eventfd.  Both sides access
 * 'waiting' with sequentially consistent read-modify-writes (the consumer
 * an exchange, the producer a fetch-or of 0), which are totally ordered:
 * either the producer sees the flag, or the consumer's later check sees
 * the upcall (no lost wake-up).  RMWs rather than fences, because
 * ThreadSanitizer does not model fences.
 *
 * Per-port shares (the policy is in datapath.h, "Upcalls").  Each queue
 * counts the entries it holds per input port in DP_UQUEUE_SHARE_SLOTS
 * slots (slot = port number modulo the slot count), and how many slots
 * are not empty ('n_active').  A producer adds to its port's slot after
 * it has claimed a cell and before it publishes it; the consumer
 * subtracts after it has taken the cells, once per run of upcalls from
 * one port.  So a slot's count never goes below zero, it only lags
 * (conservatively: the consumer frees cells before it decrements), and
 * 'n_active' moves only when a slot goes from 0 to 1 or from 1 to 0.
 * The check before a push reads the port's count first and looks at the
 * queue's occupancy (head and tail) only when that count is at least the
 * floor, so a port with few queued upcalls pays one relaxed load.  The
 * check and the claim are not one atomic step: several threads pushing
 * for the same port at once may overshoot its share by one upcall each,
 * which is why a share is a policy, not an invariant, under contention
 * (a port is polled by one datapath thread, so its misses never race
 * with each other).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "datapath/dp-private.h"
#include "lib/atomic.h"
#include "lib/util.h"
#include "netdev/netdev.h"

struct dp_upcall_cell {
    uint64_t seq; /* Atomic. */
    struct dp_upcall upcall;
    struct dp_flow *drain_flow; /* DRAIN: reference + drain-count unit. */
};

/* Per-port occupancy slots of a queue: a power of 2, so that ports 0 to
 * DP_UQUEUE_SHARE_SLOTS - 1 each have a slot of their own. */
#define DP_UQUEUE_SHARE_SLOTS 256
BUILD_ASSERT(!(DP_UQUEUE_SHARE_SLOTS & (DP_UQUEUE_SHARE_SLOTS - 1)));

struct dp_upcall_queue {
    /* Producers. */
    uint64_t head __attribute__((aligned(CACHE_LINE_SIZE))); /* Atomic. */
    /* Consumer: one thread at a time, whoever runs the handler's batch
     * (its thread or a datapath thread doing idle work); 'tail' is also
     * read (atomic) by the handler's thread while it waits. */
    uint64_t tail __attribute__((aligned(CACHE_LINE_SIZE)));
    uint32_t waiting; /* Atomic: the consumer is (about to be) asleep. */
    uint64_t done;    /* Atomic: upcalls the consumer has finished. */
    /* Drain flows of the DRAIN upcalls taken and not yet done. */
    struct dp_flow **inflight;
    size_t n_inflight, allocated_inflight;
    /* Producers and consumer: entries per port slot, and how many slots
     * hold any (see the top). */
    uint32_t n_active __attribute__((aligned(CACHE_LINE_SIZE))); /* Atomic. */
    uint32_t port_count[DP_UQUEUE_SHARE_SLOTS];                  /* Atomic. */
    /* Read-only. */
    uint64_t mask __attribute__((aligned(CACHE_LINE_SIZE)));
    uint32_t half;  /* Occupancy from which shares apply: size / 2. */
    uint32_t floor; /* Entries any port may hold in any case. */
    int fd;
    struct dp_upcall_cell *cells;
};

static inline uint32_t *
dp_uqueue_port_slot(struct dp_upcall_queue *q, uint32_t port_no)
{
    return &q->port_count[port_no & (DP_UQUEUE_SHARE_SLOTS - 1)];
}

struct dp_upcall_queue *
dp_uqueue_create(unsigned int size)
{
    struct dp_upcall_queue *q;
    unsigned int n = 1;

    while (n < size) {
        n *= 2;
    }
    q = aligned_alloc(CACHE_LINE_SIZE, ROUND_UP(sizeof *q, CACHE_LINE_SIZE));
    if (!q) {
        fatal("dp: out of memory for an upcall queue");
    }
    memset(q, 0, sizeof *q);
    q->mask = n - 1;
    q->half = n / 2;
    q->floor = DP_UPCALL_SHARE_FLOOR;
    q->cells = xcalloc(n, sizeof *q->cells);
    for (unsigned int i = 0; i < n; i++) {
        q->cells[i].seq = i;
    }
    q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->fd < 0) {
        fatal("dp: eventfd for an upcall queue: %s", strerror(errno));
    }
    return q;
}

void
dp_uqueue_destroy(struct dp_upcall_queue *q)
{
    struct dp_upcall up;

    if (!q) {
        return;
    }
    while (dp_uqueue_pop(q, &up, 1)) {
        dp_upcall_discard(&up);
    }
    dp_uqueue_batch_done(q);
    close(q->fd);
    free(q->inflight);
    free(q->cells);
    free(q);
}

/* Whether the port whose slot is 'count' may queue one more upcall under
 * its share (datapath.h, "Upcalls"). */
static bool
dp_uqueue_share_allows(const struct dp_upcall_queue *q, const uint32_t *count)
{
    uint32_t held = atomic_load_relaxed(count);
    uint64_t head, tail;
    uint32_t n_active, share;

    if (held < q->floor) {
        return true;
    }
    head = atomic_load_relaxed(&q->head);
    tail = atomic_load_relaxed(&q->tail);
    if (head < tail || head - tail < q->half) {
        return true;
    }
    /* One share more than the ports holding entries: room for a port that
     * has none yet. */
    n_active = atomic_load_relaxed(&q->n_active);
    share = (uint32_t)((q->mask + 1) / ((uint64_t)n_active + 1));
    return held < MAX(share, q->floor);
}

uint32_t
dp_uqueue_port_room(const struct dp_upcall_queue *q, uint32_t port_no,
                    bool share)
{
    uint32_t held = atomic_load_relaxed(
        &q->port_count[port_no & (DP_UQUEUE_SHARE_SLOTS - 1)]);
    uint64_t head = atomic_load_relaxed(&q->head);
    uint64_t tail = atomic_load_relaxed(&q->tail);
    uint64_t used = head > tail ? head - tail : 0;
    uint64_t size = q->mask + 1;
    uint64_t room = used < size ? size - used : 0;

    if (!share) {
        return (uint32_t)MIN(room, (uint64_t)UINT32_MAX);
    }
    /* The share applies from half full on, which a batch may reach: count
     * it whatever the occupancy, with this port among the active ones. */
    uint64_t active = atomic_load_relaxed(&q->n_active) + (held ? 0 : 1);
    uint64_t limit = MAX(size / (active + 1), (uint64_t)q->floor);

    room = MIN(room, held < limit ? limit - held : 0);
    return (uint32_t)MIN(room, (uint64_t)UINT32_MAX);
}

static int
dp_uqueue_push__(struct dp_upcall_queue *q, struct dp_packet *pkt,
                 const struct flow *key, enum dp_upcall_type type,
                 const struct dp_userdata *userdata,
                 const struct dp_ufid *ufid, bool share,
                 struct dp_flow *drain_flow, struct dp_actions *actions,
                 bool wake)
{
    uint32_t *count = dp_uqueue_port_slot(q, key->in_port);
    uint64_t pos;
    struct dp_upcall_cell *cell;
    struct dp_upcall *up;

    if (share && !dp_uqueue_share_allows(q, count)) {
        return EDQUOT;
    }
    pos = atomic_load_relaxed(&q->head);
    for (;;) {
        int64_t diff;

        cell = &q->cells[pos & q->mask];
        diff = (int64_t)(atomic_load_acquire(&cell->seq) - pos);
        if (!diff) {
            if (atomic_cas_weak_relaxed(&q->head, &pos, pos + 1)) {
                break;
            }
            /* 'pos' was reloaded by the failed CAS. */
        } else if (diff < 0) {
            return ENOBUFS; /* Full. */
        } else {
            pos = atomic_load_relaxed(&q->head);
        }
    }

    /* Counted before the cell is published, so that the consumer's
     * decrement always comes after. */
    if (!atomic_fetch_add_relaxed(count, 1)) {
        atomic_fetch_add_relaxed(&q->n_active, 1);
    }

    up = &cell->upcall;
    up->packet = pkt;
    up->key = *key;
    up->in_port = key->in_port;
    up->type = type;
    if (userdata) {
        up->userdata = *userdata;
    } else {
        up->userdata.len = 0;
    }
    if (ufid) {
        up->ufid = *ufid;
    } else {
        up->ufid.hi = up->ufid.lo = 0;
    }
    up->actions = actions;
    cell->drain_flow = drain_flow;
    atomic_store_release(&cell->seq, pos + 1);

    if (wake) {
        dp_uqueue_wake_if_waiting(q);
    }
    return 0;
}

void
dp_uqueue_wake_if_waiting(struct dp_upcall_queue *q)
{
    /* A read-modify-write, not a plain load, so that it is ordered with
     * the consumer's exchange in dp_uqueue_wait() (see the top).  A
     * producer that published earlier and calls this later is as good as
     * one that calls it right after publishing. */
    if (atomic_fetch_or_seq_cst(&q->waiting, 0)) {
        dp_uqueue_wake(q);
    }
}

int
dp_uqueue_push(struct dp_upcall_queue *q, struct dp_packet *pkt,
               const struct flow *key, enum dp_upcall_type type,
               const struct dp_userdata *userdata, const struct dp_ufid *ufid,
               bool share)
{
    return dp_uqueue_push__(q, pkt, key, type, userdata, ufid, share, NULL,
                            NULL, true);
}

int
dp_uqueue_push_quiet(struct dp_upcall_queue *q, struct dp_packet *pkt,
                     const struct flow *key, enum dp_upcall_type type,
                     const struct dp_userdata *userdata,
                     const struct dp_ufid *ufid, bool share,
                     struct dp_flow *drain_flow, struct dp_actions *actions)
{
    return dp_uqueue_push__(q, pkt, key, type, userdata, ufid, share,
                            drain_flow, actions, false);
}

int
dp_uqueue_push_drain(struct dp_upcall_queue *q, struct dp_packet *pkt,
                     const struct flow *key, struct dp_flow *flow,
                     struct dp_actions *actions)
{
    return dp_uqueue_push__(q, pkt, key, DP_UPCALL_DRAIN, NULL, &flow->ufid,
                            false, flow, actions, true);
}

/* Takes 'n' entries of port 'port_no' off its slot. */
static void
dp_uqueue_port_release(struct dp_upcall_queue *q, uint32_t port_no, uint32_t n)
{
    uint32_t *count = dp_uqueue_port_slot(q, port_no);

    if (atomic_fetch_sub_relaxed(count, n) == n) {
        atomic_fetch_sub_relaxed(&q->n_active, 1);
    }
}

/* Takes the cell at the consumer's position if it is ready: its upcall
 * in '*up' and its drain flow in '*flowp'. */
static bool
dp_uqueue_take(struct dp_upcall_queue *q, struct dp_upcall *up,
               struct dp_flow **flowp)
{
    struct dp_upcall_cell *cell = &q->cells[q->tail & q->mask];

    if (atomic_load_acquire(&cell->seq) != q->tail + 1) {
        return false;
    }
    *up = cell->upcall;
    *flowp = cell->drain_flow;
    atomic_store_release(&cell->seq, q->tail + q->mask + 1);
    atomic_store_relaxed(&q->tail, q->tail + 1);
    return true;
}

void
dp_uqueue_batch_done(struct dp_upcall_queue *q)
{
    for (size_t i = 0; i < q->n_inflight; i++) {
        dp_drain_release(q->inflight[i]);
    }
    q->n_inflight = 0;
    /* Release: whoever sees 'done' also sees the drain counts lowered and
     * the executes finished. */
    atomic_store_release(&q->done, q->tail);
}

uint64_t
dp_uqueue_head(const struct dp_upcall_queue *q)
{
    return atomic_load_acquire(&q->head);
}

uint64_t
dp_uqueue_done(const struct dp_upcall_queue *q)
{
    return atomic_load_acquire(&q->done);
}

size_t
dp_uqueue_pop(struct dp_upcall_queue *q, struct dp_upcall *ups, size_t max)
{
    size_t n = 0;

    dp_uqueue_batch_done(q);
    while (n < max) {
        struct dp_flow *flow;

        if (!dp_uqueue_take(q, &ups[n], &flow)) {
            break;
        }
        n++;
        if (flow) {
            q->inflight = xgrow(q->inflight, &q->allocated_inflight,
                                q->n_inflight + 1, sizeof *q->inflight);
            q->inflight[q->n_inflight++] = flow;
        }
    }

    /* Per-port counts, once per run of upcalls from the same slot. */
    for (size_t i = 0; i < n;) {
        uint32_t slot = ups[i].in_port & (DP_UQUEUE_SHARE_SLOTS - 1);
        size_t j = i + 1;

        while (j < n
               && (ups[j].in_port & (DP_UQUEUE_SHARE_SLOTS - 1)) == slot) {
            j++;
        }
        dp_uqueue_port_release(q, ups[i].in_port, (uint32_t)(j - i));
        i = j;
    }
    return n;
}

bool
dp_uqueue_move_one(struct dp_upcall_queue *from,
                   struct dp_upcall_queue *const *to, unsigned int n_to,
                   struct dp_upcall *up, struct dp_flow **flowp)
{
    while (dp_uqueue_take(from, up, flowp)) {
        uint32_t hash = flow_hash_5tuple(&up->key, 0);

        dp_uqueue_port_release(from, up->in_port, 1);
        if (n_to
            && !dp_uqueue_push__(to[hash % n_to], up->packet, &up->key,
                                 up->type, &up->userdata, &up->ufid, false,
                                 *flowp, up->actions, true)) {
            continue;
        }
        return true;
    }
    return false;
}

static bool
dp_uqueue_is_empty(const struct dp_upcall_queue *q)
{
    /* The waiting handler thread may look while a datapath thread, holding
     * the handler's run mutex, consumes (work-conserving upcalls). */
    uint64_t tail = atomic_load_relaxed(&q->tail);
    const struct dp_upcall_cell *cell = &q->cells[tail & q->mask];

    return atomic_load_acquire(&cell->seq) != tail + 1;
}

size_t
dp_uqueue_len(const struct dp_upcall_queue *q)
{
    uint64_t head = atomic_load_relaxed(&q->head);
    uint64_t tail = atomic_load_relaxed(&q->tail);

    return head > tail ? (size_t)(head - tail) : 0;
}

size_t
dp_uqueue_port_len(const struct dp_upcall_queue *q, uint32_t port_no)
{
    return atomic_load_relaxed(
        &q->port_count[port_no & (DP_UQUEUE_SHARE_SLOTS - 1)]);
}

void
dp_uqueue_wake(struct dp_upcall_queue *q)
{
    uint64_t one = 1;

    if (write(q->fd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is saturated, so it is readable anyway. */
    }
}

bool
dp_uqueue_wait(struct dp_upcall_queue *q, int timeout_ms)
{
    struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
    uint64_t count;
    bool ready;

    atomic_exchange_seq_cst(&q->waiting, 1);
    if (dp_uqueue_is_empty(q)) {
        if (poll(&pfd, 1, timeout_ms) > 0) {
            if (read(q->fd, &count, sizeof count) < 0) {
                /* EAGAIN: someone else drained it. */
            }
        }
    }
    atomic_store_relaxed(&q->waiting, 0);
    ready = !dp_uqueue_is_empty(q);
    return ready;
}

int
dp_uqueue_fd(const struct dp_upcall_queue *q)
{
    return q->fd;
}

/* ---- Room for lossless ports -------------------------------------------- */

void
dp_upcall_room_signal(struct dp *dp)
{
    /* An RMW, ordered with the waiter's increment (dp-pmd.c), so that
     * either the waiter sees the room or we see the waiter. */
    if (atomic_fetch_or_seq_cst(&dp->room_waiters, 0)) {
        seq_change(dp->room_seq);
    }
}

/* ---- Public API --------------------------------------------------------- */

size_t
dp_upcall_recv(struct dp *dp, unsigned int handler, struct dp_upcall upcalls[],
               size_t max)
{
    size_t n;

    if (handler >= dp->n_handlers) {
        return 0;
    }
    dp_upcall_batch_done(dp, handler);
    n = dp_uqueue_pop(dp->queues[handler], upcalls, max);
    if (n) {
        dp_upcall_room_signal(dp);
    }
    return n;
}

void
dp_upcall_batch_done(struct dp *dp, unsigned int handler)
{
    if (handler >= dp->n_handlers) {
        return;
    }
    dp_uqueue_batch_done(dp->queues[handler]);
    if (atomic_load_relaxed(&dp->n_draining)) {
        dp_drain_advance(dp, false);
    }
}

void
dp_upcall_discard(struct dp_upcall *up)
{
    if (up->packet) {
        netdev_packet_recycle(up->packet);
        up->packet = NULL;
    }
    if (up->actions) {
        dp_actions_unref(up->actions);
        up->actions = NULL;
    }
}

bool
dp_upcall_wait(struct dp *dp, unsigned int handler, int timeout_ms)
{
    if (handler >= dp->n_handlers) {
        return false;
    }
    return dp_uqueue_wait(dp->queues[handler], timeout_ms);
}

void
dp_upcall_wake(struct dp *dp, unsigned int handler)
{
    if (handler < dp->n_handlers) {
        dp_uqueue_wake(dp->queues[handler]);
    }
}

int
dp_upcall_get_fd(struct dp *dp, unsigned int handler)
{
    return handler < dp->n_handlers ? dp_uqueue_fd(dp->queues[handler]) : -1;
}

size_t
dp_upcall_queue_len(struct dp *dp, unsigned int handler)
{
    return handler < dp->n_handlers ? dp_uqueue_len(dp->queues[handler]) : 0;
}

size_t
dp_upcall_queue_port_len(struct dp *dp, unsigned int handler, uint32_t port_no)
{
    return handler < dp->n_handlers
               ? dp_uqueue_port_len(dp->queues[handler], port_no)
               : 0;
}

void
dp_set_upcall_port_share(struct dp *dp, bool enabled)
{
    atomic_store_relaxed(&dp->upcall_port_share, enabled);
}

unsigned int
dp_n_handlers(const struct dp *dp)
{
    return dp->n_handlers;
}
