/*
 * lib/dynamic-string.h — a growable string buffer.
 *
 * Used wherever text is built piece by piece: flow and action formatting,
 * control-socket replies, error messages.  ds_cstr() always returns a
 * NUL-terminated string; ds_steal_cstr() hands the buffer to the caller.
 *
 * Thread safety: a struct ds is owned by one thread at a time.
 */
#ifndef FLOWSWITCH_LIB_DYNAMIC_STRING_H
#define FLOWSWITCH_LIB_DYNAMIC_STRING_H 1

#include <stdarg.h>
#include <stddef.h>

#include "lib/util.h"

struct ds {
    char *string;     /* NULL until something is added. */
    size_t length;    /* Bytes in use, not counting the NUL. */
    size_t allocated; /* Bytes allocated, not counting the NUL. */
};

#define DS_EMPTY_INITIALIZER                                                  \
    {                                                                         \
        NULL, 0, 0                                                            \
    }

void ds_init(struct ds *);
void ds_clear(struct ds *);
void ds_destroy(struct ds *);
void ds_reserve(struct ds *, size_t min_length);
void ds_put_char(struct ds *, char);
void ds_put_buffer(struct ds *, const char *, size_t n);
void ds_put_cstr(struct ds *, const char *);
void ds_put_format(struct ds *, const char *fmt, ...) PRINTF_FORMAT(2, 3);
void ds_put_format_valist(struct ds *, const char *fmt, va_list);
void ds_put_hex(struct ds *, const void *, size_t n);
/* Removes trailing characters in 'chars' (e.g. ", "). */
void ds_chomp(struct ds *, const char *chars);
void ds_truncate(struct ds *, size_t new_length);
const char *ds_cstr(struct ds *);
char *ds_steal_cstr(struct ds *);
char ds_last(const struct ds *);

#endif /* lib/dynamic-string.h */
