/* lib/vlog.c — leveled, rate-limited logging (see vlog.h). */
#include "lib/vlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/atomic.h"
#include "lib/dynamic-string.h"
#include "lib/timeval.h"
#include "lib/util.h"

static pthread_mutex_t vlog_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct vlog_module *modules; /* Guarded by vlog_mutex. */
static FILE *log_file;              /* NULL: stderr.  Guarded by vlog_mutex. */

static const char *const level_names[] = {"off", "err", "warn", "info", "dbg"};
/* As they appear in log lines (Open vSwitch's spelling). */
static const char *const level_tags[] = {"OFF", "ERR", "WARN", "INFO", "DBG"};

void
vlog_register_module(struct vlog_module *module)
{
    pthread_mutex_lock(&vlog_mutex);
    module->next = modules;
    modules = module;
    pthread_mutex_unlock(&vlog_mutex);
}

bool
vlog_is_enabled(const struct vlog_module *module, enum vlog_level level)
{
    return (int)level <= atomic_load_relaxed(&module->level);
}

/* Writes 'msg' to 'out' as one line of valid UTF-8: a control character or
 * a byte that is not part of a well-formed sequence (a message may quote
 * hostile input) becomes \xNN. */
static void
vlog_put_escaped(FILE *out, const char *msg)
{
    const char *p = msg;

    while (*p) {
        size_t n = utf8_sequence_len(p);
        unsigned char c = (unsigned char)*p;

        if (n == 1 && c >= 0x20 && c != 0x7f) {
            fputc(c, out);
        } else if (n > 1) {
            fwrite(p, 1, n, out);
            p += n;
            continue;
        } else {
            fprintf(out, "\\x%02x", c);
        }
        p++;
    }
}

static void
vlog_write(const struct vlog_module *module, enum vlog_level level,
           unsigned int n_dropped, const char *fmt, va_list args)
{
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    struct ds msg;

    ds_init(&msg);
    ds_put_format_valist(&msg, fmt, args);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&vlog_mutex);
    FILE *out = log_file ? log_file : stderr;
    fprintf(out, "%s.%03ldZ|%s|%s|", stamp, ts.tv_nsec / 1000000, module->name,
            level_tags[level]);
    vlog_put_escaped(out, ds_cstr(&msg));
    if (n_dropped) {
        fprintf(out, " (%u similar messages suppressed)", n_dropped);
    }
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&vlog_mutex);
    ds_destroy(&msg);
}

void
vlog_msg(const struct vlog_module *module, enum vlog_level level,
         const char *fmt, ...)
{
    va_list args;

    if (!vlog_is_enabled(module, level)) {
        return;
    }
    va_start(args, fmt);
    vlog_write(module, level, 0, fmt, args);
    va_end(args);
}

/* Token bucket: returns true if a message may go out now, and sets
 * '*n_dropped' to the number suppressed before it. */
static bool
vlog_rate_limit_take(struct vlog_rate_limit *rl, unsigned int *n_dropped)
{
    uint64_t now = time_msec();
    bool ok;

    pthread_mutex_lock(&rl->mutex);
    if (rl->last_fill_ms == 0) {
        rl->last_fill_ms = now;
    } else if (now > rl->last_fill_ms) {
        uint64_t add = (now - rl->last_fill_ms) * rl->rate / 60;
        uint64_t cap = (uint64_t)rl->burst * 1000;
        uint64_t tokens = MIN(cap, rl->tokens + add);

        rl->tokens = (unsigned int)tokens;
        rl->last_fill_ms = now;
    }
    ok = rl->tokens >= 1000;
    if (ok) {
        rl->tokens -= 1000;
        *n_dropped = rl->n_dropped;
        rl->n_dropped = 0;
    } else {
        rl->n_dropped++;
    }
    pthread_mutex_unlock(&rl->mutex);
    return ok;
}

void
vlog_msg_rl(const struct vlog_module *module, enum vlog_level level,
            struct vlog_rate_limit *rl, const char *fmt, ...)
{
    unsigned int n_dropped;
    va_list args;

    if (!vlog_is_enabled(module, level)
        || !vlog_rate_limit_take(rl, &n_dropped)) {
        return;
    }
    va_start(args, fmt);
    vlog_write(module, level, n_dropped, fmt, args);
    va_end(args);
}

int
vlog_level_from_string(const char *s, enum vlog_level *level)
{
    for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (!strcasecmp(s, level_names[i])) {
            *level = (enum vlog_level)i;
            return 0;
        }
    }
    if (!strcasecmp(s, "emer")) {
        *level = VLL_ERR;
        return 0;
    }
    if (!strcasecmp(s, "debug")) {
        *level = VLL_DBG;
        return 0;
    }
    return EINVAL;
}

const char *
vlog_level_to_string(enum vlog_level level)
{
    return (size_t)level < ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

int
vlog_set_level(const char *name, enum vlog_level level)
{
    bool any = !strcasecmp(name, "ANY");
    bool found = false;

    pthread_mutex_lock(&vlog_mutex);
    for (struct vlog_module *m = modules; m; m = m->next) {
        if (any || !strcmp(m->name, name)) {
            atomic_store_relaxed(&m->level, (int)level);
            found = true;
        }
    }
    pthread_mutex_unlock(&vlog_mutex);
    return found ? 0 : ENOENT;
}

int
vlog_set_file(const char *path)
{
    FILE *f = NULL;

    if (path) {
        f = fopen(path, "a");
        if (!f) {
            return errno;
        }
    }
    pthread_mutex_lock(&vlog_mutex);
    if (log_file) {
        fclose(log_file);
    }
    log_file = f;
    pthread_mutex_unlock(&vlog_mutex);
    return 0;
}

void
vlog_for_each_module(void (*cb)(const char *, enum vlog_level, void *),
                     void *aux)
{
    pthread_mutex_lock(&vlog_mutex);
    for (struct vlog_module *m = modules; m; m = m->next) {
        cb(m->name, (enum vlog_level)atomic_load_relaxed(&m->level), aux);
    }
    pthread_mutex_unlock(&vlog_mutex);
}

static bool
vlog_module_exists(const char *name)
{
    bool found = false;

    pthread_mutex_lock(&vlog_mutex);
    for (struct vlog_module *m = modules; m && !found; m = m->next) {
        found = !strcmp(m->name, name);
    }
    pthread_mutex_unlock(&vlog_mutex);
    return found;
}

static bool
vlog_is_destination(const char *word)
{
    return !strcasecmp(word, "console") || !strcasecmp(word, "syslog")
           || !strcasecmp(word, "file");
}

int
vlog_set_spec(const char *spec, char **errorp)
{
    char *copy = xstrdup(spec), *save = NULL;
    enum vlog_level level = VLL_DBG;
    const char *module = "ANY";
    int error = 0;

    *errorp = NULL;
    for (char *word = strtok_r(copy, ":", &save); word;
         word = strtok_r(NULL, ":", &save)) {
        enum vlog_level l;

        if (!strcasecmp(word, "ANY") || vlog_is_destination(word)) {
            continue; /* One destination: see vlog.h. */
        } else if (!vlog_level_from_string(word, &l)) {
            level = l;
        } else if (vlog_module_exists(word)) {
            module = word;
        } else {
            *errorp =
                xasprintf("no destination, level, or module \"%s\"", word);
            error = EINVAL;
            goto out;
        }
    }
    vlog_set_level(module, level);
out:
    free(copy);
    return error;
}

struct vlog_list_entry {
    const char *name;
    enum vlog_level level;
};

struct vlog_list_aux {
    struct vlog_list_entry *entries;
    size_t n, allocated;
};

static void
vlog_list_collect(const char *name, enum vlog_level level, void *aux_)
{
    struct vlog_list_aux *aux = aux_;

    aux->entries =
        xgrow(aux->entries, &aux->allocated, aux->n + 1, sizeof *aux->entries);
    aux->entries[aux->n].name = name;
    aux->entries[aux->n++].level = level;
}

static int
vlog_list_compare(const void *a_, const void *b_)
{
    const struct vlog_list_entry *a = a_;
    const struct vlog_list_entry *b = b_;

    return strcmp(a->name, b->name);
}

void
vlog_list(struct ds *out)
{
    struct vlog_list_aux aux = {NULL, 0, 0};
    bool to_file;

    pthread_mutex_lock(&vlog_mutex);
    to_file = log_file != NULL;
    pthread_mutex_unlock(&vlog_mutex);

    /* Module names are string literals: they outlive the list. */
    vlog_for_each_module(vlog_list_collect, &aux);
    if (aux.n) {
        qsort(aux.entries, aux.n, sizeof *aux.entries, vlog_list_compare);
    }
    ds_put_cstr(out, "                 console    syslog    file\n"
                     "                 -------    ------    ------\n");
    for (size_t i = 0; i < aux.n; i++) {
        const char *tag = level_tags[aux.entries[i].level];

        ds_put_format(out, "%-16s  %4s       %4s       %4s\n",
                      aux.entries[i].name, to_file ? "OFF" : tag, "OFF",
                      to_file ? tag : "OFF");
    }
    free(aux.entries);
}
