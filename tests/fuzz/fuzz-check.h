/* tests/fuzz/fuzz-check.h — the invariant check of the fuzz targets.
 *
 * A target defines FUZZ_NAME (its name, a string) before including this;
 * CHECK(COND) then prints "NAME: invariant failed: COND (line N)" and
 * aborts, which libFuzzer reports as a crash with the input saved. */
#ifndef FLOWSWITCH_TESTS_FUZZ_CHECK_H
#define FLOWSWITCH_TESTS_FUZZ_CHECK_H 1

#include <stdio.h>
#include <stdlib.h>

#define CHECK(COND)                                                           \
    do {                                                                      \
        if (!(COND)) {                                                        \
            fprintf(stderr, FUZZ_NAME ": invariant failed: %s (line %d)\n",   \
                    #COND, __LINE__);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)

#endif /* tests/fuzz/fuzz-check.h */
