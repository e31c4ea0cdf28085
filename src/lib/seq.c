/* lib/seq.c — waitable sequence numbers (see seq.h). */
#include "lib/seq.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/atomic.h"
#include "lib/cond.h"
#include "lib/util.h"

struct seq {
    pthread_mutex_t mutex;
    pthread_cond_t cond;  /* Broadcast on every change. */
    uint64_t value;       /* Atomic; changed under 'mutex'. */
    struct list watchers; /* seq_watcher.node, under 'mutex'. */
};

struct seq *
seq_create(void)
{
    struct seq *seq = xzalloc(sizeof *seq);

    pthread_mutex_init(&seq->mutex, NULL);
    cond_init_monotonic(&seq->cond);
    list_init(&seq->watchers);
    return seq;
}

void
seq_destroy(struct seq *seq)
{
    if (seq) {
        pthread_cond_destroy(&seq->cond);
        pthread_mutex_destroy(&seq->mutex);
        free(seq);
    }
}

uint64_t
seq_read(const struct seq *seq)
{
    return atomic_load_acquire(&seq->value);
}

static void
seq_wake_watchers(const struct seq *seq)
{
    struct seq_watcher *w;

    LIST_FOR_EACH (w, node, &seq->watchers) {
        pthread_mutex_lock(w->mutex);
        pthread_cond_broadcast(w->cond);
        pthread_mutex_unlock(w->mutex);
    }
}

void
seq_change(struct seq *seq)
{
    pthread_mutex_lock(&seq->mutex);
    atomic_add_fetch_release(&seq->value, 1);
    pthread_cond_broadcast(&seq->cond);
    seq_wake_watchers(seq);
    pthread_mutex_unlock(&seq->mutex);
}

void
seq_wait(struct seq *seq, uint64_t seen)
{
    pthread_mutex_lock(&seq->mutex);
    while (atomic_load_relaxed(&seq->value) == seen) {
        pthread_cond_wait(&seq->cond, &seq->mutex);
    }
    pthread_mutex_unlock(&seq->mutex);
}

bool
seq_wait_until(struct seq *seq, uint64_t seen, uint64_t deadline_ns)
{
    bool changed;

    pthread_mutex_lock(&seq->mutex);
    while (atomic_load_relaxed(&seq->value) == seen) {
        if (cond_wait_until(&seq->cond, &seq->mutex, deadline_ns)
            == ETIMEDOUT) {
            break;
        }
    }
    changed = atomic_load_relaxed(&seq->value) != seen;
    pthread_mutex_unlock(&seq->mutex);
    return changed;
}

void
seq_watch(struct seq *seq, struct seq_watcher *watcher, pthread_mutex_t *mutex,
          pthread_cond_t *cond)
{
    watcher->mutex = mutex;
    watcher->cond = cond;
    pthread_mutex_lock(&seq->mutex);
    list_push_front(&seq->watchers, &watcher->node);
    pthread_mutex_unlock(&seq->mutex);
}

void
seq_unwatch(struct seq *seq, struct seq_watcher *watcher)
{
    pthread_mutex_lock(&seq->mutex);
    list_remove(&watcher->node);
    pthread_mutex_unlock(&seq->mutex);
}
