/*
 * lib/cond.h — condition variables whose timed waits run on the monotonic
 * clock.
 *
 * pthread_cond_timedwait() takes an absolute deadline on the clock the
 * condition variable was created with, CLOCK_REALTIME by default: a
 * wall-clock step (NTP, an operator) would then stretch or cut short every
 * timed wait in the switch.  Every condition variable that is waited on
 * with a deadline is therefore created with cond_init_monotonic() and
 * waited on with cond_wait_until(), whose deadline is a time_nsec() value
 * (lib/timeval.h), the clock of every other timeout in the tree.
 *
 * For a wait whose condition is "this counter moved", use lib/seq.h, which
 * is built on these; these are for the waits with conditions of their own
 * (the revalidators' barrier and requests).
 *
 * Thread safety: as pthread_cond_*: any thread, 'mutex' held for the wait.
 */
#ifndef FLOWSWITCH_LIB_COND_H
#define FLOWSWITCH_LIB_COND_H 1

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "lib/timeval.h"

/* Initializes 'cond' with CLOCK_MONOTONIC for its timed waits. */
static inline void
cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* Waits on 'cond' (created by cond_init_monotonic()) until it is signaled
 * or time_nsec() reaches 'deadline_ns'.  Returns 0, or ETIMEDOUT at the
 * deadline.  Like any condition wait it may return early: the caller
 * re-checks its condition. */
static inline int
cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex,
                uint64_t deadline_ns)
{
    struct timespec ts = time_timespec_from_nsec(deadline_ns);

    return pthread_cond_timedwait(cond, mutex, &ts);
}

#endif /* lib/cond.h */
