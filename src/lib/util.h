/*
 * lib/util.h — small helpers every module uses.
 *
 * Compiler hints, array and alignment macros, byte-order typedefs and the
 * allocation wrappers.  The byte-order typedefs (be16, be32, be64) carry no
 * checking: they document that a value is stored in network byte order, as
 * every header field of struct flow is.
 *
 * xmalloc()/xcalloc()/xrealloc()/xstrdup() abort on allocation failure: the
 * switch cannot do anything sensible without memory, and every caller checking
 * for NULL would hide real errors in noise.
 *
 * xgrow() is the one way an array grows: an owner that keeps an array
 * and its capacity ('allocated', in elements) asks for room for 'needed'
 * elements before storing past the end, and the array doubles (or jumps
 * to 'needed', at least XGROW_MIN elements), so that n appends cost O(n)
 * copying in all.  xgrow_inline() is the same for an array that starts in
 * a small buffer inside its owner and moves to the heap when it outgrows
 * it.
 *
 * Thread safety: everything here is reentrant.
 */
#ifndef FLOWSWITCH_LIB_UTIL_H
#define FLOWSWITCH_LIB_UTIL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint16_t be16;
typedef uint32_t be32;
typedef uint64_t be64;

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(x, y) (((x) + (y)-1) / (y))
#define ROUND_UP(x, y) (DIV_ROUND_UP(x, y) * (y))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define CONTAINER_OF(ptr, type, member)                                       \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define BUILD_ASSERT(expr) _Static_assert(expr, #expr)

#define PRINTF_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#define NO_RETURN __attribute__((noreturn))
#define WARN_UNUSED __attribute__((warn_unused_result))

#define CACHE_LINE_SIZE 64

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xzalloc(size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xmemdup0(const char *s, size_t len);
char *xasprintf(const char *fmt, ...) PRINTF_FORMAT(1, 2);

#define XGROW_MIN 8 /* Elements in the first allocation, at least. */

void *xgrow__(void *p, size_t *allocated, size_t needed, size_t elem_size);

/* Returns 'p', an array of '*allocated' elements of 'elem_size' bytes,
 * or its reallocation to at least 'needed' elements (raising
 * '*allocated' to match).  The elements already there are kept. */
static inline void *
xgrow(void *p, size_t *allocated, size_t needed, size_t elem_size)
{
    return LIKELY(needed <= *allocated)
               ? p
               : xgrow__(p, allocated, needed, elem_size);
}

/* The same for an array that is 'inline_buf' (of '*allocated' elements)
 * until it first grows: then it moves to the heap, elements copied, and
 * 'inline_buf' is never freed. */
void *xgrow_inline(void *p, const void *inline_buf, size_t *allocated,
                   size_t needed, size_t elem_size);
NO_RETURN void fatal(const char *fmt, ...) PRINTF_FORMAT(1, 2);

/* Returns true if 'x' is a power of 2 (0 is not). */
static inline bool
is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* Number of 1-bits in 'x'. */
static inline unsigned int
count_1bits(uint64_t x)
{
    return (unsigned int)__builtin_popcountll(x);
}

/* Index of the lowest 1-bit of 'x', which must be nonzero. */
static inline unsigned int
rightmost_1bit_idx(uint64_t x)
{
    return (unsigned int)__builtin_ctzll(x);
}

/* Clears the lowest 1-bit of 'x'. */
static inline uint64_t
zero_rightmost_1bit(uint64_t x)
{
    return x & (x - 1);
}

/* Iterates IDX over the indexes of the 1-bits of MAP, lowest first. */
#define MAP_FOR_EACH_INDEX(IDX, MAP)                                          \
    for (uint64_t map__ = (MAP);                                              \
         map__ && ((IDX) = rightmost_1bit_idx(map__), true);                  \
         map__ = zero_rightmost_1bit(map__))

/* Returns true if every byte of 'p[0..n)' is zero. */
bool is_all_zeros(const void *p, size_t n);
/* Returns true if every byte of 'p[0..n)' is 0xff. */
bool is_all_ones(const void *p, size_t n);

/* The length, 1 to 4, of the well-formed UTF-8 sequence that starts at 'p'
 * (a NUL-terminated string), or 0 when the bytes there are not one
 * (overlong forms, surrogates and code points above U+10FFFF included). */
size_t utf8_sequence_len(const char *p);

#endif /* lib/util.h */
