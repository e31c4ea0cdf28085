/*
 * lib/rcu.h — read-copy-update for the whole switch, over liburcu: when a
 * thread may read shared structures without a lock, how memory that
 * readers may still hold is retired, and how ThreadSanitizer learns about
 * grace periods.
 *
 * Publishing and loading the pointers themselves is lib/atomic.h's job
 * (atomic_store_release() / atomic_load_acquire(); it says why those
 * rather than liburcu's rcu_assign_pointer() / rcu_dereference()).  This
 * header is the other half: knowing when no reader can hold an old pointer
 * any more, so that it can be freed.
 *
 * Two liburcu flavours, one per kind of reader.
 *
 *  - memb (liburcu's default flavour, urcu_memb_*): the slow path and the
 *    control plane — handler and revalidator threads, the OpenFlow and
 *    control threads, the daemon's main thread, the tests.  A thread
 *    registers once (rcu_thread_register()) and brackets every use of
 *    RCU-protected memory with rcu_read_begin() / rcu_read_end(); outside
 *    a section it may block.  It protects the OpenFlow classifiers and
 *    their rules, ofproto's port set and the ukeys.  Memory a reader may
 *    still hold is retired with rcu_postpone() / rcu_postpone_free():
 *    liburcu's call_rcu thread runs the callback after a grace period.
 *    rcu_synchronize() waits for a grace period; rcu_wait_postponed()
 *    waits until the callbacks postponed so far have run (teardown, and
 *    LeakSanitizer at the end of a test).
 *
 *  - QSBR (urcu_qsbr_*): the datapath threads, which read the flow table,
 *    the megaflow classifier (dpcls), the port table and their poll lists
 *    for every packet and cannot afford even a counter per lookup.  A
 *    registered thread (rcu_qsbr_thread_register()) is *online* and may
 *    hold RCU pointers at any time, except across rcu_qsbr_quiesce(),
 *    which it calls once per poll-loop iteration, and while *offline*
 *    (rcu_qsbr_offline() ... rcu_qsbr_online()) around anything that may
 *    block.  The read side costs nothing.  liburcu's call_rcu for QSBR
 *    wants a registered, online caller, which the writers of those
 *    structures (handlers, revalidators, the control thread: memb threads)
 *    are not, so they queue callbacks on a struct rcu_qsbr_queue under a
 *    mutex, and one thread (the datapath's maintenance thread, or anyone
 *    who needs the memory back now) runs rcu_qsbr_queue_reclaim(): one
 *    QSBR grace period, then every callback queued before the call.
 *
 * A thread may be registered with both flavours (a datapath thread that
 * runs a handler batch in its idle time reads the OpenFlow tables under
 * memb; rcu_thread_register_until_exit() is for that case).  A grace
 * period of one flavour says nothing about the readers of the other.
 *
 * ThreadSanitizer.  liburcu is not instrumented, so TSan cannot see the
 * happens-before edge a grace period creates between a reader's last
 * access and the callback that frees the memory, and would report every
 * such free as a race.  Under TSan (elsewhere these compile to nothing)
 * each flavour has a token here: readers release it whenever they stop
 * using RCU pointers (rcu_read_end(); rcu_qsbr_quiesce(),
 * rcu_qsbr_offline() and rcu_qsbr_thread_unregister(); rcu_reader_done()
 * where reads end by other means), so do writers when they postpone and
 * before a QSBR synchronize (their own accesses come first too), and
 * whatever runs after a grace period acquires it (postponed callbacks,
 * rcu_synchronize(), rcu_qsbr_synchronize(), reclaims).  The edge is coarser than the real
 * one — it orders every earlier release, not only those of the readers the
 * grace period waited for — so it can hide a race from TSan but never
 * invents one.  Code that uses liburcu directly instead of this header
 * stays correct; only TSan's view of it suffers.
 *
 * Thread safety.  Every function acts on the calling thread or on
 * liburcu's global state, and may be called from any thread, with these
 * limits: read-side sections and rcu_postpone() need a memb-registered
 * thread (liburcu requires it); rcu_synchronize() and
 * rcu_wait_postponed() must not be called inside a memb read-side
 * section, nor rcu_qsbr_synchronize() and rcu_qsbr_queue_reclaim() by an
 * online QSBR reader (each would wait for itself).  A struct rcu_qsbr_queue may be shared by any number of
 * threads; reclaims on one queue are serialized.
 */
#ifndef FLOWSWITCH_LIB_RCU_H
#define FLOWSWITCH_LIB_RCU_H 1

#include <stdbool.h>
#include <stddef.h>
#include <urcu/urcu-memb.h>

#if defined(__SANITIZE_THREAD__)
#define RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCU_TSAN 1
#endif
#endif

/* ---- memb flavour: registration ----------------------------------------- */

/* Registers the calling thread as a memb reader and writer.  Call once per
 * thread, before its first read-side section or postpone. */
void rcu_thread_register(void);
/* The reverse, before the thread exits; outside any read-side section. */
void rcu_thread_unregister(void);
/* Registers the calling thread unless it is registered already, and
 * unregisters it when the thread exits: for code that runs on threads it
 * does not own. */
void rcu_thread_register_until_exit(void);

/* ---- memb flavour: readers ---------------------------------------------- */

/* Under TSan: the caller's reads of RCU-protected memory so far happen
 * before whatever runs after the next memb grace period.  rcu_read_end()
 * does it already; lock-free readers call it when they finish a traversal
 * (the classifier, at the end of each lookup).  A no-op without TSan. */
#ifdef RCU_TSAN
void rcu_reader_done(void);
#else
static inline void
rcu_reader_done(void)
{
}
#endif

/* Opens a read-side section: until the matching rcu_read_end(), memory
 * retired with rcu_postpone() after the caller loaded a pointer to it
 * stays valid.  Sections nest; they never block. */
static inline void
rcu_read_begin(void)
{
    urcu_memb_read_lock();
}

static inline void
rcu_read_end(void)
{
    rcu_reader_done();
    urcu_memb_read_unlock();
}

/* ---- memb flavour: writers ---------------------------------------------- */

/* Calls fn(arg) after a grace period, in liburcu's call_rcu thread.  May be
 * called inside or outside a read-side section. */
void rcu_postpone(void (*fn)(void *), void *arg);
/* The same with an unused last argument, for modules that take a
 * postpone hook of that shape (lib/ptrmap.h). */
void rcu_postpone_hook(void (*fn)(void *), void *arg, void *aux);
/* free(p) after a grace period.  'p' may be NULL. */
void rcu_postpone_free(void *p);
/* Waits for a grace period: every read-side section open at the call has
 * ended when it returns. */
void rcu_synchronize(void);
/* Waits until every callback postponed (by any thread) before the call has
 * run.  A callback that postpones another is not waited for: call it
 * twice for two-stage retirements. */
void rcu_wait_postponed(void);

/* ---- QSBR flavour: readers (datapath threads) --------------------------- */

/* Registers the calling thread as a QSBR reader; it starts online. */
void rcu_qsbr_thread_register(void);
void rcu_qsbr_thread_unregister(void);
/* Announces a quiescent state: the caller holds no QSBR-protected
 * pointer. */
void rcu_qsbr_quiesce(void);
/* Offline: the caller holds no QSBR-protected pointer until
 * rcu_qsbr_online(), and may block meanwhile. */
void rcu_qsbr_offline(void);
void rcu_qsbr_online(void);
/* Waits for a QSBR grace period.  Not from an online QSBR reader. */
void rcu_qsbr_synchronize(void);

/* ---- QSBR flavour: writers ---------------------------------------------- */

/* Callbacks waiting for a QSBR grace period, queued by writers that are
 * not QSBR readers and run by rcu_qsbr_queue_reclaim(). */
struct rcu_qsbr_queue;

struct rcu_qsbr_queue *rcu_qsbr_queue_create(void);
/* Runs what is pending (after a grace period) and frees 'queue'. */
void rcu_qsbr_queue_destroy(struct rcu_qsbr_queue *queue);
/* Calls fn(arg) after a grace period, from rcu_qsbr_queue_reclaim(). */
void rcu_qsbr_queue_postpone(struct rcu_qsbr_queue *queue, void (*fn)(void *),
                             void *arg);
/* The same with the queue last, for modules that take a postpone hook of
 * that shape ('queue' is the struct rcu_qsbr_queue). */
void rcu_qsbr_queue_postpone_hook(void (*fn)(void *), void *arg, void *queue);
/* Number of callbacks waiting. */
size_t rcu_qsbr_queue_n_pending(const struct rcu_qsbr_queue *queue);
/* Waits for a grace period and runs every callback queued before the call
 * (also those another thread's reclaim took and is still running: reclaims
 * are serialized, so this doubles as a barrier).  Returns the number this
 * call ran. */
size_t rcu_qsbr_queue_reclaim(struct rcu_qsbr_queue *queue);

#endif /* lib/rcu.h */
