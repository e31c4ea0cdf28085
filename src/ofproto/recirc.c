/* ofproto/recirc.c — the frozen translation states behind recirc(N)
 * (recirc.h). */
#include "ofproto/recirc.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/hmap.h"
#include "lib/list.h"
#include "lib/timeval.h"
#include "lib/util.h"

struct recirc_node {
    struct hmap_node id_node;    /* In recirc_by_id. */
    struct hmap_node state_node; /* In recirc_by_state. */
    struct list expiring;        /* In recirc_expiring while unreferenced. */
    uint32_t id;
    uint32_t hash;    /* recirc_state_hash() of 'state'. */
    size_t n_refs;    /* 0: expiring at 'expires'. */
    uint64_t expires; /* time_msec(). */
    struct recirc_state state;
};

static pthread_mutex_t recirc_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct hmap recirc_by_id = {&recirc_by_id.one, NULL, 0, 0};
static struct hmap recirc_by_state = {&recirc_by_state.one, NULL, 0, 0};
static struct list recirc_expiring = LIST_INITIALIZER(&recirc_expiring);
static uint32_t recirc_next_id = 1;

static uint32_t
recirc_state_hash(const struct recirc_state *s)
{
    uint32_t hash = hash_add64(0, (uintptr_t)s->ofproto);

    hash = hash_add64(hash, s->ofpacts.n);
    hash = hash_add64(hash, s->action_set.n);
    hash = hash_add64(hash, s->n_segments | (uint64_t)s->in_action_set << 8);
    for (size_t i = 0; i < s->n_segments; i++) {
        hash = hash_add64(hash, s->segments[i].start
                                    | (uint64_t)s->segments[i].table_id << 32);
        hash = hash_add64(hash, s->segments[i].cookie);
    }
    hash = hash_add64(hash, s->metadata);
    hash = hash_add64(hash, s->tunnel_id);
    for (size_t i = 0; i < FLOW_N_REGS; i++) {
        hash = hash_add64(hash, s->regs[i]);
    }
    return hash_finish(hash, 0);
}

static bool
recirc_state_equal(const struct recirc_state *a, const struct recirc_state *b)
{
    if (a->n_segments != b->n_segments) {
        return false;
    }
    for (size_t i = 0; i < a->n_segments; i++) {
        const struct recirc_segment *x = &a->segments[i], *y = &b->segments[i];

        if (x->start != y->start || x->table_id != y->table_id
            || x->cookie != y->cookie) {
            return false;
        }
    }
    return a->ofproto == b->ofproto && a->in_action_set == b->in_action_set
           && a->metadata == b->metadata && a->tunnel_id == b->tunnel_id
           && !memcmp(a->regs, b->regs, sizeof a->regs)
           && ofpacts_equal(&a->ofpacts, &b->ofpacts)
           && ofpacts_equal(&a->action_set, &b->action_set);
}

static struct recirc_node *
recirc_find__(uint32_t id)
{
    struct recirc_node *node;

    HMAP_FOR_EACH_WITH_HASH (node, id_node, hash_add64(0, id), &recirc_by_id) {
        if (node->id == id) {
            return node;
        }
    }
    return NULL;
}

/* Takes a reference to 'node' (reviving it if it was expiring). */
static void
recirc_ref__(struct recirc_node *node)
{
    if (!node->n_refs++) {
        list_remove(&node->expiring);
    }
}

/* Frees the expiring states whose time is up. */
static void
recirc_sweep(uint64_t now)
{
    while (!list_is_empty(&recirc_expiring)) {
        struct recirc_node *node = CONTAINER_OF(list_front(&recirc_expiring),
                                                struct recirc_node, expiring);

        if (node->expires > now) {
            break;
        }
        list_remove(&node->expiring);
        hmap_remove(&recirc_by_id, &node->id_node);
        hmap_remove(&recirc_by_state, &node->state_node);
        ofpacts_destroy(&node->state.ofpacts);
        ofpacts_destroy(&node->state.action_set);
        free(node);
    }
}

/* A fresh id: the next one that is not 0 and not in use. */
static uint32_t
recirc_new_id(void)
{
    while (!recirc_next_id || recirc_find__(recirc_next_id)) {
        recirc_next_id++;
    }
    return recirc_next_id++;
}

static struct recirc_node *
recirc_insert(const struct recirc_state *state, uint32_t hash)
{
    struct recirc_node *node = xzalloc(sizeof *node);

    node->id = recirc_new_id();
    node->hash = hash;
    node->state = *state;
    ofpacts_clone(&node->state.ofpacts, &state->ofpacts);
    ofpacts_clone(&node->state.action_set, &state->action_set);
    list_init(&node->expiring);
    hmap_insert(&recirc_by_id, &node->id_node, hash_add64(0, node->id));
    hmap_insert(&recirc_by_state, &node->state_node, hash);
    return node;
}

uint32_t
recirc_state_get(const struct recirc_state *state)
{
    uint32_t hash = recirc_state_hash(state);
    struct recirc_node *node, *found = NULL;
    uint32_t id;

    pthread_mutex_lock(&recirc_mutex);
    recirc_sweep(time_msec());
    HMAP_FOR_EACH_WITH_HASH (node, state_node, hash, &recirc_by_state) {
        if (recirc_state_equal(&node->state, state)) {
            found = node;
            break;
        }
    }
    if (found) {
        recirc_ref__(found);
    } else {
        found = recirc_insert(state, hash);
        found->n_refs = 1;
    }
    id = found->id;
    pthread_mutex_unlock(&recirc_mutex);
    return id;
}

void
recirc_state_ref(uint32_t id)
{
    struct recirc_node *node;

    pthread_mutex_lock(&recirc_mutex);
    node = recirc_find__(id);
    assert(node);
    recirc_ref__(node);
    pthread_mutex_unlock(&recirc_mutex);
}

void
recirc_state_unref(uint32_t id)
{
    struct recirc_node *node;
    uint64_t now = time_msec();

    pthread_mutex_lock(&recirc_mutex);
    node = recirc_find__(id);
    assert(node && node->n_refs);
    if (!--node->n_refs) {
        node->expires = now + RECIRC_EXPIRE_MS;
        list_push_back(&recirc_expiring, &node->expiring);
    }
    recirc_sweep(now);
    pthread_mutex_unlock(&recirc_mutex);
}

const struct recirc_state *
recirc_state_find(uint32_t id)
{
    struct recirc_node *node;

    pthread_mutex_lock(&recirc_mutex);
    node = recirc_find__(id);
    if (node) {
        recirc_ref__(node);
    }
    pthread_mutex_unlock(&recirc_mutex);
    return node ? &node->state : NULL;
}

size_t
recirc_state_count(void)
{
    size_t n;

    pthread_mutex_lock(&recirc_mutex);
    n = hmap_count(&recirc_by_id);
    pthread_mutex_unlock(&recirc_mutex);
    return n;
}
