/* tests/unit/unit-tsan.h — UNIT_SINGLE_THREADED(), the first statement of
 * a randomized test that starts no thread.  Under ThreadSanitizer, which
 * looks for races and finds none to look for there, it skips the test:
 * the default and AddressSanitizer builds run it whole, and its tens of
 * thousands of instrumented lookups would cost 5 to 15 s each under
 * ThreadSanitizer (about a minute of CI in all).  Include after cmocka.h. */
#ifndef FLOWSWITCH_TESTS_UNIT_TSAN_H
#define FLOWSWITCH_TESTS_UNIT_TSAN_H 1

#if defined(__SANITIZE_THREAD__)
#define UNIT_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNIT_UNDER_TSAN 1
#endif
#endif

#ifdef UNIT_UNDER_TSAN
#define UNIT_SINGLE_THREADED() skip()
#else
#define UNIT_SINGLE_THREADED() ((void)0)
#endif

#endif /* tests/unit/unit-tsan.h */
