/*
 * lib/timeval.h — monotonic and wall-clock time in milliseconds and
 * nanoseconds.  Monotonic time drives every timeout and rate in the switch
 * (idle expiry, revalidator pacing, rate limits); wall time is only for
 * display.  Thread safety: reentrant.
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

/* Wall-clock milliseconds since the Unix epoch. */
static inline uint64_t
time_wall_msec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* lib/timeval.h */
