/* datapath/dp-rcu.c — QSBR readers and deferred freeing (see dp-rcu.h). */
#include "datapath/dp-rcu.h"

#include <pthread.h>
#include <stdlib.h>
#include <urcu/urcu-qsbr.h>

#include "lib/util.h"

#ifdef DP_TSAN
#include <sanitizer/tsan_interface.h>

/* Readers release on this address when they stop using RCU pointers;
 * code that runs after a grace period acquires it. */
static char dp_rcu_tsan_grace;

static void
dp_rcu_tsan_reader_done(void)
{
    __tsan_release(&dp_rcu_tsan_grace);
}

static void
dp_rcu_tsan_after_grace(void)
{
    __tsan_acquire(&dp_rcu_tsan_grace);
}
#else
static inline void
dp_rcu_tsan_reader_done(void)
{
}

static inline void
dp_rcu_tsan_after_grace(void)
{
}
#endif

/* ---- Readers ------------------------------------------------------------ */

void
dp_rcu_register_thread(void)
{
    urcu_qsbr_register_thread();
}

void
dp_rcu_unregister_thread(void)
{
    dp_rcu_tsan_reader_done();
    urcu_qsbr_unregister_thread();
}

void
dp_rcu_quiesce(void)
{
    dp_rcu_tsan_reader_done();
    urcu_qsbr_quiescent_state();
}

void
dp_rcu_offline(void)
{
    dp_rcu_tsan_reader_done();
    urcu_qsbr_thread_offline();
}

void
dp_rcu_online(void)
{
    urcu_qsbr_thread_online();
}

void
dp_rcu_synchronize(void)
{
    /* The caller's own accesses happen before whatever it frees next. */
    dp_rcu_tsan_reader_done();
    urcu_qsbr_synchronize_rcu();
    dp_rcu_tsan_after_grace();
}

/* ---- Deferred freeing --------------------------------------------------- */

struct dp_rcu_cb {
    struct dp_rcu_cb *next;
    void (*fn)(void *);
    void *arg;
};

struct dp_rcu {
    pthread_mutex_t mutex;         /* Protects 'head', 'tail', 'n'. */
    pthread_mutex_t reclaim_mutex; /* Serializes reclaims. */
    struct dp_rcu_cb *head;
    struct dp_rcu_cb **tail;
    size_t n;
};

struct dp_rcu *
dp_rcu_create(void)
{
    struct dp_rcu *rcu = xzalloc(sizeof *rcu);

    pthread_mutex_init(&rcu->mutex, NULL);
    pthread_mutex_init(&rcu->reclaim_mutex, NULL);
    rcu->head = NULL;
    rcu->tail = &rcu->head;
    return rcu;
}

void
dp_rcu_destroy(struct dp_rcu *rcu)
{
    if (rcu) {
        dp_rcu_reclaim(rcu);
        pthread_mutex_destroy(&rcu->mutex);
        pthread_mutex_destroy(&rcu->reclaim_mutex);
        free(rcu);
    }
}

void
dp_rcu_postpone(struct dp_rcu *rcu, void (*fn)(void *), void *arg)
{
    struct dp_rcu_cb *cb = xmalloc(sizeof *cb);

    cb->next = NULL;
    cb->fn = fn;
    cb->arg = arg;
    pthread_mutex_lock(&rcu->mutex);
    *rcu->tail = cb;
    rcu->tail = &cb->next;
    rcu->n++;
    pthread_mutex_unlock(&rcu->mutex);
}

void
dp_rcu_postpone_cb(void (*fn)(void *), void *arg, void *aux)
{
    dp_rcu_postpone(aux, fn, arg);
}

size_t
dp_rcu_n_pending(const struct dp_rcu *rcu_)
{
    struct dp_rcu *rcu = (struct dp_rcu *)rcu_;
    size_t n;

    pthread_mutex_lock(&rcu->mutex);
    n = rcu->n;
    pthread_mutex_unlock(&rcu->mutex);
    return n;
}

size_t
dp_rcu_reclaim(struct dp_rcu *rcu)
{
    struct dp_rcu_cb *list;
    size_t n = 0;

    pthread_mutex_lock(&rcu->reclaim_mutex);
    pthread_mutex_lock(&rcu->mutex);
    list = rcu->head;
    rcu->head = NULL;
    rcu->tail = &rcu->head;
    rcu->n = 0;
    pthread_mutex_unlock(&rcu->mutex);

    if (list) {
        dp_rcu_synchronize();
        while (list) {
            struct dp_rcu_cb *next = list->next;

            list->fn(list->arg);
            free(list);
            list = next;
            n++;
        }
    }
    pthread_mutex_unlock(&rcu->reclaim_mutex);
    return n;
}
