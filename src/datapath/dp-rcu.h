/*
 * datapath/dp-rcu.h — RCU for the datapath: QSBR readers, and deferred
 * freeing for writers that are not readers themselves.
 *
 * The datapath threads read the flow table, the megaflow classifier, the
 * port table and their poll lists without locks, under liburcu's QSBR
 * flavour: a registered thread is "online" and may hold RCU-protected
 * pointers at any time, except across a quiescent state, which it
 * announces once per poll loop iteration (dp_rcu_quiesce()); it goes
 * "offline" around anything that may block (sleeping on its ports, waiting
 * for room in an upcall queue), during which it holds no such pointer.
 * QSBR makes the read side free: no barrier, no counter, nothing per
 * lookup.
 *
 * Writers (handlers, revalidators, the control thread) change those
 * structures under the datapath's mutexes and must free what they removed
 * only after a grace period.  liburcu's call_rcu() wants a registered,
 * online caller, which a handler is not, so writers use a dp_rcu instead:
 * dp_rcu_postpone() queues fn(arg) under a mutex, and dp_rcu_reclaim()
 * (run by the datapath's maintenance thread, or by anyone who needs the
 * memory freed now) takes the queue, waits for a QSBR grace period with
 * urcu_qsbr_synchronize_rcu() and runs the callbacks.  Reclaims are
 * serialized, so dp_rcu_reclaim() returning means everything postponed
 * before the call has run: it doubles as a barrier.
 *
 * ThreadSanitizer.  TSan cannot see the happens-before edge a grace period
 * creates (liburcu is not instrumented), and would report every free of
 * memory a reader used as a race.  As the classifier does (classifier.h,
 * "Grace periods"), readers release a token at every quiescent state and
 * when going offline, and code that runs after a grace period acquires it.
 *
 * Thread safety: dp_rcu_postpone() from any thread; dp_rcu_reclaim() and
 * dp_rcu_synchronize() from any thread that is not an online QSBR reader;
 * the reader calls from the registered thread itself.
 */
#ifndef FLOWSWITCH_DATAPATH_DP_RCU_H
#define FLOWSWITCH_DATAPATH_DP_RCU_H 1

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_THREAD__)
#define DP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DP_TSAN 1
#endif
#endif

/* ---- Readers (datapath threads) ---------------------------------------- */

/* Registers the calling thread as a QSBR reader; it starts online. */
void dp_rcu_register_thread(void);
void dp_rcu_unregister_thread(void);
/* Announces a quiescent state: the caller holds no RCU pointer. */
void dp_rcu_quiesce(void);
/* Offline: the caller will hold no RCU pointer until dp_rcu_online(). */
void dp_rcu_offline(void);
void dp_rcu_online(void);

/* ---- Writers ------------------------------------------------------------ */

struct dp_rcu;

struct dp_rcu *dp_rcu_create(void);
/* Runs what is pending (after a grace period) and frees 'rcu'. */
void dp_rcu_destroy(struct dp_rcu *);
/* Calls fn(arg) after a grace period, from dp_rcu_reclaim(). */
void dp_rcu_postpone(struct dp_rcu *, void (*fn)(void *), void *arg);
/* The same with the signature of dpcls_postpone_fn ('aux' is the
 * struct dp_rcu). */
void dp_rcu_postpone_cb(void (*fn)(void *), void *arg, void *aux);
/* Number of callbacks waiting. */
size_t dp_rcu_n_pending(const struct dp_rcu *);
/* Waits for a grace period and runs every callback postponed before the
 * call.  Returns the number run. */
size_t dp_rcu_reclaim(struct dp_rcu *);
/* Waits for a grace period (urcu_qsbr_synchronize_rcu(), plus the TSan
 * edge). */
void dp_rcu_synchronize(void);

#endif /* datapath/dp-rcu.h */
