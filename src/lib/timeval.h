/*
 * lib/timeval.h — monotonic and wall-clock time in milliseconds and
 * nanoseconds.  Monotonic time drives every timeout and rate in the switch
 * (idle expiry, revalidator pacing, rate limits); wall time is only for
 * display.
 *
 * Every module reads the monotonic clock through time_msec() and
 * time_nsec(), never clock_gettime() itself; deadlines for timed waits are
 * time_nsec() values (lib/cond.h, lib/seq.h).  The exceptions read another
 * clock on purpose: wall time for log lines (lib/vlog.c) and for pcap
 * record timestamps (netdev/netdev-pcap.c), and per-thread CPU time in
 * the setup benchmark (bench/bench-setup.c).
 *
 * Thread safety: reentrant.
 */
#ifndef FLOWSWITCH_LIB_TIMEVAL_H
#define FLOWSWITCH_LIB_TIMEVAL_H 1

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds since an arbitrary point in the past. */
static inline uint64_t
time_msec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Monotonic nanoseconds since an arbitrary point in the past. */
static inline uint64_t
time_nsec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 'ns' nanoseconds as a struct timespec: a time_nsec() deadline for
 * pthread_cond_timedwait() on a CLOCK_MONOTONIC condition variable, or a
 * duration for nanosleep() and ppoll(). */
static inline struct timespec
time_timespec_from_nsec(uint64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

/* Wall-clock milliseconds since the Unix epoch. */
static inline uint64_t
time_wall_msec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* lib/timeval.h */
