/*
 * lib/vlog.h — leveled, rate-limited logging.
 *
 * Each source file that logs declares its module once with
 * VLOG_DEFINE_THIS_MODULE(name).  A message has a level (err, warn, info,
 * dbg); a module logs a message when the message's level is at or above the
 * module's level (default info; `vlog/set` changes it at run time).  Lines go
 * to stderr, or to a file after vlog_set_file(), as
 *
 *     2026-11-22T10:00:00.123Z|module|WARN|message
 *
 * Rate limiting: a message that could repeat per packet uses a
 * struct vlog_rate_limit (VLOG_RATE_LIMIT_INIT(rate_per_minute, burst)), a
 * token bucket; suppressed messages are counted and the count is reported
 * with the next message that gets through.
 *
 * Run-time control (the daemon's vlog/set and vlog/list commands) takes
 * Open vSwitch's syntax and prints its layout.  flowswitch has one level
 * per module and logs to one place (stderr, or the file of vlog_set_file()),
 * so a destination named in a spec is accepted for compatibility and the
 * level applies to the module wherever it logs; vlog/list shows the level
 * under the destination in use and OFF under the others.
 *
 * Thread safety: all functions may be called from any thread.
 */
#ifndef FLOWSWITCH_LIB_VLOG_H
#define FLOWSWITCH_LIB_VLOG_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"

struct ds;

enum vlog_level {
    VLL_OFF,
    VLL_ERR,
    VLL_WARN,
    VLL_INFO,
    VLL_DBG,
};

struct vlog_module {
    const char *name;
    int level; /* enum vlog_level, read and written atomically. */
    struct vlog_module *next;
};

struct vlog_rate_limit {
    pthread_mutex_t mutex;
    unsigned int rate;      /* Tokens per minute. */
    unsigned int burst;     /* Bucket size. */
    unsigned int tokens;    /* Tokens (scaled by 1000) available. */
    uint64_t last_fill_ms;  /* When tokens were last added. */
    unsigned int n_dropped; /* Messages suppressed since the last one. */
};

#define VLOG_RATE_LIMIT_INIT(RATE, BURST)                                     \
    {                                                                         \
        PTHREAD_MUTEX_INITIALIZER, (RATE), (BURST), (BURST)*1000u, 0, 0       \
    }

void vlog_register_module(struct vlog_module *);

#define VLOG_DEFINE_THIS_MODULE(NAME)                                         \
    static struct vlog_module vlog_this_module = {#NAME, VLL_INFO, 0};        \
    __attribute__((constructor)) static void vlog_init_this_module(void)      \
    {                                                                         \
        vlog_register_module(&vlog_this_module);                              \
    }

void vlog_msg(const struct vlog_module *, enum vlog_level, const char *fmt,
              ...) PRINTF_FORMAT(3, 4);
void vlog_msg_rl(const struct vlog_module *, enum vlog_level,
                 struct vlog_rate_limit *, const char *fmt, ...)
    PRINTF_FORMAT(4, 5);
bool vlog_is_enabled(const struct vlog_module *, enum vlog_level);

#define VLOG_ERR(...) vlog_msg(&vlog_this_module, VLL_ERR, __VA_ARGS__)
#define VLOG_WARN(...) vlog_msg(&vlog_this_module, VLL_WARN, __VA_ARGS__)
#define VLOG_INFO(...) vlog_msg(&vlog_this_module, VLL_INFO, __VA_ARGS__)
#define VLOG_DBG(...) vlog_msg(&vlog_this_module, VLL_DBG, __VA_ARGS__)
#define VLOG_WARN_RL(RL, ...)                                                 \
    vlog_msg_rl(&vlog_this_module, VLL_WARN, RL, __VA_ARGS__)
#define VLOG_INFO_RL(RL, ...)                                                 \
    vlog_msg_rl(&vlog_this_module, VLL_INFO, RL, __VA_ARGS__)
#define VLOG_DBG_RL(RL, ...)                                                  \
    vlog_msg_rl(&vlog_this_module, VLL_DBG, RL, __VA_ARGS__)

/* Parses "emer|err|warn|info|dbg|off" into '*level'.  Returns 0 or EINVAL. */
int vlog_level_from_string(const char *, enum vlog_level *level);
const char *vlog_level_to_string(enum vlog_level);

/* Sets the level of module 'name' ("ANY" for all).  Returns 0 or ENOENT. */
int vlog_set_level(const char *name, enum vlog_level);

/* Sends log lines to 'path' (appending), or to stderr if 'path' is NULL.
 * Returns 0 or an errno value. */
int vlog_set_file(const char *path);

/* Calls 'cb' for each module with its current level. */
void vlog_for_each_module(void (*cb)(const char *name, enum vlog_level,
                                     void *aux),
                          void *aux);

/* Applies one vlog/set SPEC: words separated by ':' naming a module (or
 * ANY), a destination (console, syslog, file or ANY) and a level, in any
 * order, each optional: "dbg" (every module), "upcall:dbg",
 * "ANY:file:warn"; no level means dbg.  Returns 0, or EINVAL with one line
 * in '*errorp' (the caller frees it), e.g. 'no destination, level, or
 * module "foo"'. */
int vlog_set_spec(const char *spec, char **errorp);

/* Appends the vlog/list table: a two-line header, then one line per module
 * (sorted by name) with its level for console, syslog and file. */
void vlog_list(struct ds *);

#endif /* lib/vlog.h */
