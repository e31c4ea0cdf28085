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
 * Thread safety: COVERAGE_INC/ADD may run in any thread concurrently with
 * readers; a read is a consistent-enough sum (each slot is read atomically,
 * the total may miss increments made during the read).
 */
#ifndef FLOWSWITCH_LIB_COVERAGE_H
#define FLOWSWITCH_LIB_COVERAGE_H 1

#include <stddef.h>
#include <stdint.h>

#define COVERAGE_MAX_COUNTERS 512

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

#endif /* lib/coverage.h */
