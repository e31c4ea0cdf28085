/* lib/rcu.c — the memb and QSBR flavours of liburcu, deferred callbacks and
 * the ThreadSanitizer grace tokens (see rcu.h). */
#include "lib/rcu.h"

#include <pthread.h>
#include <stdlib.h>
#include <urcu/urcu-qsbr.h>

#include "lib/util.h"

#ifdef RCU_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- ThreadSanitizer grace tokens --------------------------------------- */

#ifdef RCU_TSAN
/* Readers of a flavour release on its token when they stop using RCU
 * pointers; code that runs after a grace period of that flavour acquires
 * it.  One per flavour: a memb grace period orders nothing about QSBR
 * readers, and the other way round. */
static char rcu_memb_grace;
static char rcu_qsbr_grace;

void
rcu_reader_done(void)
{
    __tsan_release(&rcu_memb_grace);
}

static void
rcu_memb_after_grace(void)
{
    __tsan_acquire(&rcu_memb_grace);
}

static void
rcu_qsbr_reader_done(void)
{
    __tsan_release(&rcu_qsbr_grace);
}

static void
rcu_qsbr_after_grace(void)
{
    __tsan_acquire(&rcu_qsbr_grace);
}
#else
static inline void
rcu_memb_after_grace(void)
{
}

static inline void
rcu_qsbr_reader_done(void)
{
}

static inline void
rcu_qsbr_after_grace(void)
{
}
#endif

/* ---- memb flavour: registration ----------------------------------------- */

/* Whether the calling thread is memb-registered through this file. */
static __thread bool rcu_registered;

static pthread_key_t rcu_exit_key;
static pthread_once_t rcu_exit_once = PTHREAD_ONCE_INIT;

void
rcu_thread_register(void)
{
    urcu_memb_register_thread();
    rcu_registered = true;
}

void
rcu_thread_unregister(void)
{
    rcu_registered = false;
    urcu_memb_unregister_thread();
}

static void
rcu_thread_exit_cb(void *unused)
{
    (void)unused;
    rcu_thread_unregister();
}

static void
rcu_exit_key_create(void)
{
    if (pthread_key_create(&rcu_exit_key, rcu_thread_exit_cb)) {
        fatal("rcu: pthread_key_create failed for thread-exit "
              "unregistration");
    }
}

void
rcu_thread_register_until_exit(void)
{
    if (!rcu_registered) {
        pthread_once(&rcu_exit_once, rcu_exit_key_create);
        rcu_thread_register();
        /* Any non-NULL value, so that the destructor runs. */
        pthread_setspecific(rcu_exit_key, &rcu_registered);
    }
}

/* ---- memb flavour: writers ---------------------------------------------- */

struct rcu_deferred {
    struct rcu_head head;
    void (*fn)(void *);
    void *arg;
};

static void
rcu_deferred_run(struct rcu_head *head)
{
    struct rcu_deferred *d = CONTAINER_OF(head, struct rcu_deferred, head);

    rcu_memb_after_grace();
    d->fn(d->arg);
    free(d);
}

void
rcu_postpone(void (*fn)(void *), void *arg)
{
    struct rcu_deferred *d = xmalloc(sizeof *d);

    d->fn = fn;
    d->arg = arg;
    /* The writer's own accesses happen before the callback, too. */
    rcu_reader_done();
    urcu_memb_call_rcu(&d->head, rcu_deferred_run);
}

void
rcu_postpone_hook(void (*fn)(void *), void *arg, void *aux)
{
    (void)aux;
    rcu_postpone(fn, arg);
}

void
rcu_postpone_free(void *p)
{
    if (p) {
        rcu_postpone(free, p);
    }
}

void
rcu_synchronize(void)
{
    urcu_memb_synchronize_rcu();
    rcu_memb_after_grace();
}

void
rcu_wait_postponed(void)
{
    urcu_memb_barrier();
}

/* ---- QSBR flavour: readers ---------------------------------------------- */

void
rcu_qsbr_thread_register(void)
{
    urcu_qsbr_register_thread();
}

void
rcu_qsbr_thread_unregister(void)
{
    rcu_qsbr_reader_done();
    urcu_qsbr_unregister_thread();
}

void
rcu_qsbr_quiesce(void)
{
    rcu_qsbr_reader_done();
    urcu_qsbr_quiescent_state();
}

void
rcu_qsbr_offline(void)
{
    rcu_qsbr_reader_done();
    urcu_qsbr_thread_offline();
}

void
rcu_qsbr_online(void)
{
    urcu_qsbr_thread_online();
}

void
rcu_qsbr_synchronize(void)
{
    /* The caller's own accesses happen before whatever it frees next. */
    rcu_qsbr_reader_done();
    urcu_qsbr_synchronize_rcu();
    rcu_qsbr_after_grace();
}

/* ---- QSBR flavour: deferred callbacks ----------------------------------- */

struct rcu_qsbr_cb {
    struct rcu_qsbr_cb *next;
    void (*fn)(void *);
    void *arg;
};

struct rcu_qsbr_queue {
    pthread_mutex_t mutex;         /* Protects 'head', 'tail', 'n'. */
    pthread_mutex_t reclaim_mutex; /* Serializes reclaims. */
    struct rcu_qsbr_cb *head;
    struct rcu_qsbr_cb **tail;
    size_t n;
};

struct rcu_qsbr_queue *
rcu_qsbr_queue_create(void)
{
    struct rcu_qsbr_queue *queue = xzalloc(sizeof *queue);

    pthread_mutex_init(&queue->mutex, NULL);
    pthread_mutex_init(&queue->reclaim_mutex, NULL);
    queue->head = NULL;
    queue->tail = &queue->head;
    return queue;
}

void
rcu_qsbr_queue_destroy(struct rcu_qsbr_queue *queue)
{
    if (queue) {
        rcu_qsbr_queue_reclaim(queue);
        pthread_mutex_destroy(&queue->mutex);
        pthread_mutex_destroy(&queue->reclaim_mutex);
        free(queue);
    }
}

void
rcu_qsbr_queue_postpone(struct rcu_qsbr_queue *queue, void (*fn)(void *),
                        void *arg)
{
    struct rcu_qsbr_cb *cb = xmalloc(sizeof *cb);

    cb->next = NULL;
    cb->fn = fn;
    cb->arg = arg;
    pthread_mutex_lock(&queue->mutex);
    *queue->tail = cb;
    queue->tail = &cb->next;
    queue->n++;
    pthread_mutex_unlock(&queue->mutex);
}

void
rcu_qsbr_queue_postpone_hook(void (*fn)(void *), void *arg, void *queue)
{
    rcu_qsbr_queue_postpone(queue, fn, arg);
}

size_t
rcu_qsbr_queue_n_pending(const struct rcu_qsbr_queue *queue_)
{
    struct rcu_qsbr_queue *queue = (struct rcu_qsbr_queue *)queue_;
    size_t n;

    pthread_mutex_lock(&queue->mutex);
    n = queue->n;
    pthread_mutex_unlock(&queue->mutex);
    return n;
}

/* Takes every queued callback, leaving the queue empty. */
static struct rcu_qsbr_cb *
rcu_qsbr_queue_take(struct rcu_qsbr_queue *queue)
{
    struct rcu_qsbr_cb *list;

    pthread_mutex_lock(&queue->mutex);
    list = queue->head;
    queue->head = NULL;
    queue->tail = &queue->head;
    queue->n = 0;
    pthread_mutex_unlock(&queue->mutex);
    return list;
}

size_t
rcu_qsbr_queue_reclaim(struct rcu_qsbr_queue *queue)
{
    struct rcu_qsbr_cb *list;
    size_t n = 0;

    pthread_mutex_lock(&queue->reclaim_mutex);
    list = rcu_qsbr_queue_take(queue);
    if (list) {
        rcu_qsbr_synchronize();
        while (list) {
            struct rcu_qsbr_cb *next = list->next;

            list->fn(list->arg);
            free(list);
            list = next;
            n++;
        }
    }
    pthread_mutex_unlock(&queue->reclaim_mutex);
    return n;
}
