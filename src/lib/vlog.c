/* lib/vlog.c — leveled, rate-limited logging (see vlog.h). */
#include "lib/vlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/timeval.h"

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
    return (int)level <= __atomic_load_n(&module->level, __ATOMIC_RELAXED);
}

static void
vlog_write(const struct vlog_module *module, enum vlog_level level,
           unsigned int n_dropped, const char *fmt, va_list args)
{
    char stamp[32];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&vlog_mutex);
    FILE *out = log_file ? log_file : stderr;
    fprintf(out, "%s.%03ldZ|%s|%s|", stamp, ts.tv_nsec / 1000000, module->name,
            level_tags[level]);
    vfprintf(out, fmt, args);
    if (n_dropped) {
        fprintf(out, " (%u similar messages suppressed)", n_dropped);
    }
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&vlog_mutex);
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
            __atomic_store_n(&m->level, (int)level, __ATOMIC_RELAXED);
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
        cb(m->name,
           (enum vlog_level)__atomic_load_n(&m->level, __ATOMIC_RELAXED), aux);
    }
    pthread_mutex_unlock(&vlog_mutex);
}
