/*
 * lib/seq.h — a sequence number that threads can wait on.
 *
 * A seq is a counter that only moves forward.  A thread that wants to know
 * when something changes reads the seq (seq_read()), looks at the thing,
 * and if there is nothing to do, waits until the seq differs from the value
 * it read (seq_wait(), or seq_wait_until() with a deadline).  Whoever
 * changes the thing calls seq_change() afterwards, which moves the counter
 * on and wakes every waiter.  Because the value is read before the look, a
 * change that lands between the look and the wait is never lost: the wait
 * returns at once.  Values carry no meaning beyond "different": they start
 * at 0 and count the changes.
 *
 * It is Open vSwitch's seq.h without the poll loop: a waiter blocks on the
 * seq's own condition variable.  A thread that already sleeps on a
 * condition variable of its own, for conditions of its own, can have a seq
 * wake it too: seq_watch() makes every seq_change() broadcast that
 * condition variable under its mutex, and the thread re-reads the seq
 * among its other conditions (the revalidator leader watches the OpenFlow
 * tables' seq that way).
 *
 * Time.  Deadlines are absolute time_nsec() values (CLOCK_MONOTONIC); the
 * condition variables run on that clock (lib/cond.h), so a wall-clock step
 * neither shortens nor stretches a wait.
 *
 * Memory ordering.  seq_change() is a release and seq_read() an acquire: a
 * thread that reads a value, or returns from a wait because of it, sees
 * every write made before the seq_change() that produced it.
 *
 * Thread safety.  Every function may be called from any thread at once,
 * except seq_destroy() (nobody may wait on or watch the seq any more).
 * seq_read() takes no lock.  Lock order: a seq's mutex comes before a
 * watcher's, so never call seq_change(), seq_watch() or seq_unwatch() with
 * a watcher's mutex held.
 */
#ifndef FLOWSWITCH_LIB_SEQ_H
#define FLOWSWITCH_LIB_SEQ_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/list.h"

struct seq;

struct seq *seq_create(void);
void seq_destroy(struct seq *);

/* The current value. */
uint64_t seq_read(const struct seq *);

/* Moves the value on and wakes every waiter and watcher. */
void seq_change(struct seq *);

/* Waits until the value differs from 'seen' (a value seq_read() returned
 * earlier; if it differs already, returns at once). */
void seq_wait(struct seq *, uint64_t seen);

/* The same, but gives up when time_nsec() reaches 'deadline_ns'.  Returns
 * true if the value differs from 'seen', false if the deadline came
 * first. */
bool seq_wait_until(struct seq *, uint64_t seen, uint64_t deadline_ns);

/* ---- Watchers ----------------------------------------------------------- */

/* A condition variable to broadcast on every change, with its mutex.  The
 * members belong to seq.c while it is watched. */
struct seq_watcher {
    struct list node; /* In the seq's 'watchers'. */
    pthread_mutex_t *mutex;
    pthread_cond_t *cond;
};

/* From now on every seq_change() of 'seq' broadcasts 'cond' with 'mutex'
 * held.  'watcher' is the caller's storage until seq_unwatch(). */
void seq_watch(struct seq *seq, struct seq_watcher *watcher,
               pthread_mutex_t *mutex, pthread_cond_t *cond);
/* Stops what seq_watch() started; no broadcast through 'watcher' is in
 * progress on return. */
void seq_unwatch(struct seq *seq, struct seq_watcher *watcher);

#endif /* lib/seq.h */
