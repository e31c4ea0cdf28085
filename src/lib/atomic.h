/*
 * lib/atomic.h — the one vocabulary for memory that threads share without
 * a lock.
 *
 * What it is for.  Any value that one thread may write while another reads
 * or writes it, with no mutex held by both, is accessed only through these
 * macros: RCU-published pointers and the slots of lock-free tables, stop
 * flags, statistics that other threads read, reference counts, the
 * sleep/wake handshakes between the datapath threads and the handlers.  A
 * value that a mutex covers everywhere it is touched needs none of this.
 *
 * What they are.  Thin names over the GCC/Clang __atomic builtins on plain
 * C types (no _Atomic qualifier, no <stdatomic.h>), chosen because:
 *   - the owner of a value may still touch it plainly where nobody else
 *     can (while building an object before it is published, under the
 *     writers' mutex when readers only load it), and a struct that holds it
 *     stays an ordinary struct (memset, designated initializers);
 *   - ThreadSanitizer models them exactly, whereas liburcu 0.13 implements
 *     rcu_dereference()/rcu_assign_pointer() and CMM_LOAD_SHARED() with
 *     volatile accesses that TSan reports as races.  On x86-64 they cost
 *     the same: an acquire load and a release store are plain moves.
 *
 * Naming.  atomic_<operation>_<order>(P, ...): the name says both what is
 * done and which memory order it is done with, so the order is read at the
 * call site instead of being looked up.  P points to a naturally aligned
 * object of 1, 2, 4 or 8 bytes: an integer, a bool, an enum or a pointer.
 * Only the combinations the tree uses are defined below; a module that
 * needs another adds it here, next to its siblings and in the same shape,
 * rather than calling a builtin itself.
 *
 * Choosing the order.
 *
 *   relaxed   Atomicity only: no torn read or write, no data race, but no
 *             ordering with any other memory.  For values that mean
 *             something on their own: statistics and counters, a setting
 *             read on the next iteration, a stop flag after which the
 *             reader looks at nothing the writer prepared, a hash that is
 *             confirmed by what a pointer loaded with acquire leads to.
 *             Never for publishing a pointer.
 *
 *   acquire   For loads; pairs with a release store (or a release or
 *   release   stronger read-modify-write) of the same object.  A thread
 *             whose acquire load returns the value that a release store
 *             wrote also sees every write the storing thread made before
 *             that store.  This is how an object is published: fill it in,
 *             then atomic_store_release() the pointer to it; readers
 *             atomic_load_acquire() the pointer and may then read the
 *             object plainly.  It is also how a flag hands over data ("stop,
 *             and here is why"), and how a version number says which
 *             writes are visible.
 *
 *   acq_rel   Both halves, for a read-modify-write that must see what
 *             other threads did before their own update and show them what
 *             this thread did before it: dropping a reference (whoever
 *             drops the last one and frees the object must see every other
 *             holder's writes), swapping a published pointer.
 *
 *   seq_cst   One total order over all seq_cst operations, on top of
 *             acq_rel.  Needed only where two threads each write one flag
 *             and then read the other's (Dekker's handshake): "I am going
 *             to sleep; is there work?" against "here is work; is anyone
 *             asleep?".  With anything weaker both reads may miss both
 *             writes and the wake-up is lost.  In those handshakes
 *             atomic_fetch_or_seq_cst(P, 0) and atomic_fetch_add_seq_cst(P,
 *             0) serve as loads that take part in the total order.
 *
 * The operations.
 *
 *   atomic_load_*(P)             *P.
 *   atomic_store_*(P, V)         *P = V.
 *   atomic_exchange_*(P, V)      *P = V; returns the value it replaced.
 *   atomic_fetch_add_*(P, N)     *P += N; returns the value before.
 *   atomic_fetch_sub_*, atomic_fetch_or_*   the same for -= and |=.
 *   atomic_add_fetch_*(P, N)     *P += N; returns the value after.
 *   atomic_sub_fetch_*(P, N)     *P -= N; returns the value after.
 *   atomic_cas_*(P, EXPECTED, DESIRED)
 *                                If *P == *EXPECTED, *P = DESIRED and
 *                                returns true; otherwise stores the
 *                                current value of *P into *EXPECTED and
 *                                returns false.  A failed compare is a load
 *                                with the success order minus its release
 *                                half (acq_rel fails with acquire).
 *   atomic_cas_weak_*(P, EXPECTED, DESIRED)
 *                                The same, except that it may fail even
 *                                when *P == *EXPECTED: only for retry
 *                                loops, where that costs one more turn.  A
 *                                failure is relaxed: the loop only looks
 *                                at the fresh value to decide whether to
 *                                try again.
 *
 *   atomic_add_single_writer(P, N)
 *                                *P += N for a counter that only the
 *                                calling thread writes and other threads
 *                                read with atomic_load_relaxed(): a relaxed
 *                                load and a relaxed store, not a
 *                                read-modify-write, so it costs what a
 *                                plain increment does (no locked
 *                                instruction).  With two writers, updates
 *                                would be lost: use atomic_fetch_add_relaxed()
 *                                there.
 *
 * Thread safety: that is the point; each macro is one atomic access (but
 * atomic_add_single_writer(), which is two, see above).
 */
#ifndef FLOWSWITCH_LIB_ATOMIC_H
#define FLOWSWITCH_LIB_ATOMIC_H 1

/* Loads. */
#define atomic_load_relaxed(P) __atomic_load_n(P, __ATOMIC_RELAXED)
#define atomic_load_acquire(P) __atomic_load_n(P, __ATOMIC_ACQUIRE)

/* Stores. */
#define atomic_store_relaxed(P, V) __atomic_store_n(P, V, __ATOMIC_RELAXED)
#define atomic_store_release(P, V) __atomic_store_n(P, V, __ATOMIC_RELEASE)

/* Exchanges. */
#define atomic_exchange_relaxed(P, V)                                         \
    __atomic_exchange_n(P, V, __ATOMIC_RELAXED)
#define atomic_exchange_acquire(P, V)                                         \
    __atomic_exchange_n(P, V, __ATOMIC_ACQUIRE)
#define atomic_exchange_acq_rel(P, V)                                         \
    __atomic_exchange_n(P, V, __ATOMIC_ACQ_REL)
#define atomic_exchange_seq_cst(P, V)                                         \
    __atomic_exchange_n(P, V, __ATOMIC_SEQ_CST)

/* Read-modify-writes that return the value before. */
#define atomic_fetch_add_relaxed(P, N)                                        \
    __atomic_fetch_add(P, N, __ATOMIC_RELAXED)
#define atomic_fetch_add_seq_cst(P, N)                                        \
    __atomic_fetch_add(P, N, __ATOMIC_SEQ_CST)
#define atomic_fetch_sub_relaxed(P, N)                                        \
    __atomic_fetch_sub(P, N, __ATOMIC_RELAXED)
#define atomic_fetch_sub_release(P, N)                                        \
    __atomic_fetch_sub(P, N, __ATOMIC_RELEASE)
#define atomic_fetch_sub_seq_cst(P, N)                                        \
    __atomic_fetch_sub(P, N, __ATOMIC_SEQ_CST)
#define atomic_fetch_or_seq_cst(P, N) __atomic_fetch_or(P, N, __ATOMIC_SEQ_CST)

/* Read-modify-writes that return the value after. */
#define atomic_add_fetch_relaxed(P, N)                                        \
    __atomic_add_fetch(P, N, __ATOMIC_RELAXED)
#define atomic_add_fetch_release(P, N)                                        \
    __atomic_add_fetch(P, N, __ATOMIC_RELEASE)
#define atomic_sub_fetch_acq_rel(P, N)                                        \
    __atomic_sub_fetch(P, N, __ATOMIC_ACQ_REL)

/* Compare-and-swap, strong: the failure order is the success order without
 * its release half. */
#define atomic_cas_relaxed(P, EXPECTED, DESIRED)                              \
    __atomic_compare_exchange_n(P, EXPECTED, DESIRED, 0, __ATOMIC_RELAXED,    \
                                __ATOMIC_RELAXED)
#define atomic_cas_acq_rel(P, EXPECTED, DESIRED)                              \
    __atomic_compare_exchange_n(P, EXPECTED, DESIRED, 0, __ATOMIC_ACQ_REL,    \
                                __ATOMIC_ACQUIRE)

/* Compare-and-swap, weak, for retry loops: a failure is relaxed. */
#define atomic_cas_weak_relaxed(P, EXPECTED, DESIRED)                         \
    __atomic_compare_exchange_n(P, EXPECTED, DESIRED, 1, __ATOMIC_RELAXED,    \
                                __ATOMIC_RELAXED)
#define atomic_cas_weak_release(P, EXPECTED, DESIRED)                         \
    __atomic_compare_exchange_n(P, EXPECTED, DESIRED, 1, __ATOMIC_RELEASE,    \
                                __ATOMIC_RELAXED)
#define atomic_cas_weak_acq_rel(P, EXPECTED, DESIRED)                         \
    __atomic_compare_exchange_n(P, EXPECTED, DESIRED, 1, __ATOMIC_ACQ_REL,    \
                                __ATOMIC_RELAXED)

/* A counter with a single writer (see above). */
#define atomic_add_single_writer(P, N)                                        \
    atomic_store_relaxed(P, atomic_load_relaxed(P) + (N))

#endif /* lib/atomic.h */
