/* lib/dynamic-string.c — growable string buffer (see dynamic-string.h). */
#include "lib/dynamic-string.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ds_init(struct ds *ds)
{
    ds->string = NULL;
    ds->length = 0;
    ds->allocated = 0;
}

void
ds_clear(struct ds *ds)
{
    ds->length = 0;
    if (ds->string) {
        ds->string[0] = '\0';
    }
}

void
ds_destroy(struct ds *ds)
{
    free(ds->string);
    ds_init(ds);
}

void
ds_reserve(struct ds *ds, size_t min_length)
{
    if (min_length > ds->allocated || !ds->string) {
        size_t bytes = ds->string ? ds->allocated + 1 : 0; /* With NUL. */

        ds->string = xgrow(ds->string, &bytes, MAX(min_length, 16) + 1, 1);
        ds->allocated = bytes - 1;
        ds->string[ds->length] = '\0';
    }
}

void
ds_put_buffer(struct ds *ds, const char *s, size_t n)
{
    ds_reserve(ds, ds->length + n);
    memcpy(&ds->string[ds->length], s, n);
    ds->length += n;
    ds->string[ds->length] = '\0';
}

void
ds_put_char(struct ds *ds, char c)
{
    ds_put_buffer(ds, &c, 1);
}

void
ds_put_cstr(struct ds *ds, const char *s)
{
    ds_put_buffer(ds, s, strlen(s));
}

void
ds_put_format_valist(struct ds *ds, const char *fmt, va_list args_)
{
    va_list args;
    int needed;

    va_copy(args, args_);
    ds_reserve(ds, ds->length + 64);
    needed = vsnprintf(&ds->string[ds->length], ds->allocated - ds->length + 1,
                       fmt, args);
    va_end(args);
    if (needed < 0) {
        return;
    }
    if ((size_t)needed > ds->allocated - ds->length) {
        ds_reserve(ds, ds->length + (size_t)needed);
        va_copy(args, args_);
        vsnprintf(&ds->string[ds->length], ds->allocated - ds->length + 1, fmt,
                  args);
        va_end(args);
    }
    ds->length += (size_t)needed;
}

void
ds_put_format(struct ds *ds, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    ds_put_format_valist(ds, fmt, args);
    va_end(args);
}

void
ds_put_hex(struct ds *ds, const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        ds_put_format(ds, "%02x", p[i]);
    }
}

void
ds_chomp(struct ds *ds, const char *chars)
{
    while (ds->length && strchr(chars, ds->string[ds->length - 1])) {
        ds->string[--ds->length] = '\0';
    }
}

void
ds_truncate(struct ds *ds, size_t new_length)
{
    if (new_length < ds->length) {
        ds->length = new_length;
        ds->string[new_length] = '\0';
    }
}

const char *
ds_cstr(struct ds *ds)
{
    ds_reserve(ds, ds->length);
    ds->string[ds->length] = '\0';
    return ds->string;
}

char *
ds_steal_cstr(struct ds *ds)
{
    char *s = (char *)ds_cstr(ds);

    ds_init(ds);
    return s;
}

char
ds_last(const struct ds *ds)
{
    return ds->length ? ds->string[ds->length - 1] : '\0';
}
