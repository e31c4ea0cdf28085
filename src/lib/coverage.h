/*
 * lib/coverage.h — named event counters ("coverage counters").
 *
 * Every drop, refusal and fallback in flowswitch increments a named counter
 * so that nothing is lost silently (DESIGN.md §4).  `coverage/show` prints
 * them all.
 *
 * Design: a counter is declared once, at file scope, with
 * COVERAGE_DEFINE(name); a constructor registers it and gives it an index.
 * Each thread counts into its own block of slots, allocated on the thread's
 * first increment, so an increment is one relaxed store to a cache line no
 * other thread writes.  Reading a counter sums the live threads' blocks plus
 * the counts folded in from threads that have exited.
 *
 * Rate history.  As in Open vSwitch, coverage/show prints for every counter
 * that was ever hit its average rate over the last 5 seconds, the last
 * minute and the last hour, then its total.  Some thread (the daemon's main
 * loop) calls coverage_run() often; every COVERAGE_RUN_INTERVAL it records
 * how much each counter grew since the previous run into a ring of 12
 * five-second slots (one minute), and adds the same amount to the slot of
 * the current minute in a ring of 60 (one hour).  A run late by several
 * intervals spreads the growth evenly over the slots it skipped.
 *
 * Thread safety: COVERAGE_INC/ADD may run in any thread concurrently with
 * readers; a read is a consistent-enough sum (each slot is read atomically,
 * the total may miss increments made during the read).  coverage_run() and
 * coverage_show() may be called from any thread (they serialize on the
 * registry's mutex).
 */
#ifndef FLOWSWITCH_LIB_COVERAGE_H
#define FLOWSWITCH_LIB_COVERAGE_H 1

#include <stddef.h>
#include <stdint.h>

struct ds;

#define COVERAGE_MAX_COUNTERS 512
#define COVERAGE_RUN_INTERVAL 5000 /* msec between rate samples. */

struct coverage_counter {
    const char *name;
    unsigned int idx; /* Slot index, assigned at registration. */
};

void coverage_register(struct coverage_counter *);
void coverage_add__(unsigned int idx, uint64_t n);

#define COVERAGE_DEFINE(NAME)                                                 \
    struct coverage_counter coverage_counter_##NAME = {#NAME, 0};             \
    __attribute__((constructor)) static void coverage_init_##NAME(void)       \
    {                                                                         \
        coverage_register(&coverage_counter_##NAME);                          \
    }

/* Use in a file other than the one that defines NAME. */
#define COVERAGE_DECLARE(NAME)                                                \
    extern struct coverage_counter coverage_counter_##NAME

#define COVERAGE_ADD(NAME, N) coverage_add__(coverage_counter_##NAME.idx, (N))
#define COVERAGE_INC(NAME) COVERAGE_ADD(NAME, 1)

/* Current total of the counter called 'name', or 0 if there is none. */
uint64_t coverage_read(const char *name);

/* Calls 'cb' for every registered counter, sorted by name. */
void coverage_for_each(void (*cb)(const char *name, uint64_t value, void *aux),
                       void *aux);

/* Number of registered counters. */
size_t coverage_n_counters(void);

/* Takes a rate sample if COVERAGE_RUN_INTERVAL has passed since the last
 * one ('now' in msec, time_msec()).  The first call takes one at once. */
void coverage_run(uint64_t now);

/* Appends the text of coverage/show, Open vSwitch's layout:
 *   Event coverage, avg rate over last: 5 seconds, last minute, last hour,
 *   hash=XXXXXXXX:                            (one line)
 *   NAME  X/sec  Y/sec  Z/sec   total: N      (one line per counter hit)
 *   N events never hit */
void coverage_show(struct ds *);

#endif /* lib/coverage.h */
