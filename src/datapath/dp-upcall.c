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
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "datapath/dp-private.h"
#include "lib/util.h"
#include "netdev/netdev.h"

struct dp_upcall_cell {
    uint64_t seq; /* Atomic. */
    struct dp_upcall upcall;
};

struct dp_upcall_queue {
    /* Producers. */
    uint64_t head __attribute__((aligned(CACHE_LINE_SIZE))); /* Atomic. */
    /* Consumer. */
    uint64_t tail __attribute__((aligned(CACHE_LINE_SIZE)));
    uint32_t waiting; /* Atomic: the consumer is (about to be) asleep. */
    /* Read-only. */
    uint64_t mask __attribute__((aligned(CACHE_LINE_SIZE)));
    int fd;
    struct dp_upcall_cell *cells;
};

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
        netdev_packet_recycle(up.packet);
    }
    close(q->fd);
    free(q->cells);
    free(q);
}

bool
dp_uqueue_push(struct dp_upcall_queue *q, struct dp_packet *pkt,
               const struct flow *key, enum dp_upcall_type type,
               const struct dp_userdata *userdata, const struct dp_ufid *ufid)
{
    uint64_t pos = DP_GET_RELAXED(&q->head);
    struct dp_upcall_cell *cell;
    struct dp_upcall *up;

    for (;;) {
        int64_t diff;

        cell = &q->cells[pos & q->mask];
        diff = (int64_t)(DP_GET(&cell->seq) - pos);
        if (!diff) {
            if (__atomic_compare_exchange_n(&q->head, &pos, pos + 1, true,
                                            __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                break;
            }
            /* 'pos' was reloaded by the failed CAS. */
        } else if (diff < 0) {
            return false; /* Full. */
        } else {
            pos = DP_GET_RELAXED(&q->head);
        }
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
    DP_SET(&cell->seq, pos + 1);

    /* A read-modify-write, not a plain load, so that it is ordered with
     * the consumer's exchange in dp_uqueue_wait() (see the top). */
    if (__atomic_fetch_or(&q->waiting, 0, __ATOMIC_SEQ_CST)) {
        dp_uqueue_wake(q);
    }
    return true;
}

size_t
dp_uqueue_pop(struct dp_upcall_queue *q, struct dp_upcall *ups, size_t max)
{
    uint64_t pos = q->tail;
    size_t n = 0;

    while (n < max) {
        struct dp_upcall_cell *cell = &q->cells[pos & q->mask];

        if (DP_GET(&cell->seq) != pos + 1) {
            break;
        }
        ups[n++] = cell->upcall;
        DP_SET(&cell->seq, pos + q->mask + 1);
        pos++;
    }
    DP_SET_RELAXED(&q->tail, pos);
    return n;
}

static bool
dp_uqueue_is_empty(const struct dp_upcall_queue *q)
{
    const struct dp_upcall_cell *cell = &q->cells[q->tail & q->mask];

    return DP_GET(&cell->seq) != q->tail + 1;
}

size_t
dp_uqueue_len(const struct dp_upcall_queue *q)
{
    uint64_t head = DP_GET_RELAXED(&q->head);
    uint64_t tail = DP_GET_RELAXED(&q->tail);

    return head > tail ? (size_t)(head - tail) : 0;
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

    __atomic_exchange_n(&q->waiting, 1, __ATOMIC_SEQ_CST);
    if (dp_uqueue_is_empty(q)) {
        if (poll(&pfd, 1, timeout_ms) > 0) {
            if (read(q->fd, &count, sizeof count) < 0) {
                /* EAGAIN: someone else drained it. */
            }
        }
    }
    DP_SET_RELAXED(&q->waiting, 0);
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
    if (__atomic_fetch_or(&dp->room_waiters, 0, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&dp->room_mutex);
        pthread_cond_broadcast(&dp->room_cond);
        pthread_mutex_unlock(&dp->room_mutex);
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
    n = dp_uqueue_pop(dp->queues[handler], upcalls, max);
    if (n) {
        dp_upcall_room_signal(dp);
    }
    return n;
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

unsigned int
dp_n_handlers(const struct dp *dp)
{
    return dp->n_handlers;
}
