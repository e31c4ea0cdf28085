/* lib/util.c — allocation wrappers and byte helpers (see util.h). */
#include "lib/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fatal(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fputs("flowswitch: fatal: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p) {
        fatal("out of memory allocating %zu bytes", size);
    }
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p) {
        fatal("out of memory allocating %zu x %zu bytes", n, size);
    }
    return p;
}

void *
xzalloc(size_t size)
{
    return xcalloc(1, size);
}

void *
xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fatal("out of memory reallocating %zu bytes", size);
    }
    return p;
}

/* The capacity, in elements, that makes room for 'needed'. */
static size_t
xgrow_capacity(size_t allocated, size_t needed, size_t elem_size)
{
    size_t n = MAX(needed, MAX(allocated * 2, (size_t)XGROW_MIN));

    if (n > SIZE_MAX / elem_size) {
        fatal("array of %zu elements of %zu bytes is too large", needed,
              elem_size);
    }
    return n;
}

void *
xgrow__(void *p, size_t *allocated, size_t needed, size_t elem_size)
{
    size_t n = xgrow_capacity(*allocated, needed, elem_size);

    p = xrealloc(p, n * elem_size);
    *allocated = n;
    return p;
}

void *
xgrow_inline(void *p, const void *inline_buf, size_t *allocated, size_t needed,
             size_t elem_size)
{
    if (needed <= *allocated) {
        return p;
    }
    if (p != inline_buf) {
        return xgrow__(p, allocated, needed, elem_size);
    }

    size_t n = xgrow_capacity(*allocated, needed, elem_size);
    void *heap = xmalloc(n * elem_size);

    memcpy(heap, inline_buf, *allocated * elem_size);
    *allocated = n;
    return heap;
}

char *
xmemdup0(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
xstrdup(const char *s)
{
    return xmemdup0(s, strlen(s));
}

char *
xasprintf(const char *fmt, ...)
{
    va_list args;
    char *s;
    int n;

    va_start(args, fmt);
    n = vasprintf(&s, fmt, args);
    va_end(args);
    if (n < 0) {
        fatal("out of memory formatting a string");
    }
    return s;
}

bool
is_all_zeros(const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

bool
is_all_ones(const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xff) {
            return false;
        }
    }
    return true;
}

size_t
utf8_sequence_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = *p < 0x80             ? 1
               : (*p & 0xe0) == 0xc0 ? 2
               : (*p & 0xf0) == 0xe0 ? 3
               : (*p & 0xf8) == 0xf0 ? 4
                                     : 0;
    bool ok = n > 0 && !(n == 2 && *p < 0xc2) && !(n == 4 && *p > 0xf4);

    for (size_t i = 1; ok && i < n; i++) {
        ok = (p[i] & 0xc0) == 0x80;
    }
    if (ok && n == 3) {
        unsigned int cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6;

        ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
    } else if (ok && n == 4) {
        ok = (p[0] != 0xf0 || p[1] >= 0x90) && (p[0] != 0xf4 || p[1] < 0x90);
    }
    return ok ? n : 0;
}
