/*
 * ofproto/ofproto.c — bridges, rules, flow-mods and timeouts (ofproto.h).
 *
 * Rule lifetime.  A rule enters a table with classifier_replace() in the
 * batch's version and one reference (the table's).  When a batch removes or
 * replaces it, it stays linked and visible to readers of older versions;
 * after the batch is published, one grace period later the call_rcu thread
 * unlinks it (classifier_remove_now(), under the bridge mutex), and one
 * more grace period later drops the table's reference: by then no reader
 * can still hold a pointer it got from a lookup.  References taken by xlate
 * caches keep the memory alive beyond that; the last unref frees at once.
 *
 * Batches.  Every change of a batch is staged in version V = current + 1
 * and logged.  On success V is published once.  On failure the rules the
 * batch inserted are removed in V (they were never visible), and every
 * pre-existing rule the batch removed is replaced by an identical clone
 * inserted in V whose counters it forwards to, so the tables say exactly
 * what they said before; then V is published (a no-op for lookups).
 */
#include "ofproto/ofproto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/classifier.h"
#include "flow/field.h"
#include "flow/flow-text.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/seq.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "ofproto/group.h"
#include "ofproto/mac-learning.h"
#include "ofproto/meter.h"
#include "ofproto/ofproto-private.h"

COVERAGE_DEFINE(ofproto_flow_mod_batch);
COVERAGE_DEFINE(ofproto_flow_mod_refused);
COVERAGE_DEFINE(ofproto_table_full);
COVERAGE_DEFINE(ofproto_rule_expired_idle);
COVERAGE_DEFINE(ofproto_rule_expired_hard);

/* ---- Change sequence ---------------------------------------------------- */

uint64_t
ofproto_get_change_seq(const struct ofproto *ofproto)
{
    return seq_read(ofproto->change_seq);
}

struct seq *
ofproto_change_seq(const struct ofproto *ofproto)
{
    return ofproto->change_seq;
}

void
ofproto_bump_change_seq(const struct ofproto *ofproto)
{
    seq_change(ofproto->change_seq);
}

bool
ofproto_wait_change(const struct ofproto *ofproto, uint64_t seen,
                    uint64_t timeout_ms)
{
    return seq_wait_until(ofproto->change_seq, seen,
                          time_nsec() + timeout_ms * 1000000u);
}

/* ---- Cache sync --------------------------------------------------------- */

/* 'cache_mutex' held. */
static void
ofproto_cache_notify(struct ofproto *ofproto)
{
    struct ofproto_cache_watcher *w;

    LIST_FOR_EACH (w, node, &ofproto->cache_watchers) {
        w->cb(w->aux);
    }
}

void
ofproto_cache_attach(struct ofproto *ofproto)
{
    pthread_mutex_lock(&ofproto->cache_mutex);
    ofproto->cache_attached = true;
    ofproto->cache_synced = ofproto_get_change_seq(ofproto);
    pthread_mutex_unlock(&ofproto->cache_mutex);
}

void
ofproto_cache_synced(struct ofproto *ofproto, uint64_t change_seq)
{
    pthread_mutex_lock(&ofproto->cache_mutex);
    if (change_seq > ofproto->cache_synced) {
        ofproto->cache_synced = change_seq;
        ofproto_cache_notify(ofproto);
    }
    pthread_mutex_unlock(&ofproto->cache_mutex);
}

void
ofproto_cache_detach(struct ofproto *ofproto)
{
    pthread_mutex_lock(&ofproto->cache_mutex);
    ofproto->cache_attached = false;
    ofproto_cache_notify(ofproto);
    pthread_mutex_unlock(&ofproto->cache_mutex);
}

bool
ofproto_cache_is_synced(struct ofproto *ofproto, uint64_t target)
{
    bool synced;

    pthread_mutex_lock(&ofproto->cache_mutex);
    synced = !ofproto->cache_attached || ofproto->cache_synced >= target;
    pthread_mutex_unlock(&ofproto->cache_mutex);
    return synced;
}

void
ofproto_cache_watch(struct ofproto *ofproto, struct ofproto_cache_watcher *w,
                    ofproto_cache_notify_cb *cb, void *aux)
{
    w->cb = cb;
    w->aux = aux;
    pthread_mutex_lock(&ofproto->cache_mutex);
    list_push_back(&ofproto->cache_watchers, &w->node);
    pthread_mutex_unlock(&ofproto->cache_mutex);
}

void
ofproto_cache_unwatch(struct ofproto *ofproto, struct ofproto_cache_watcher *w)
{
    pthread_mutex_lock(&ofproto->cache_mutex);
    list_remove(&w->node);
    pthread_mutex_unlock(&ofproto->cache_mutex);
}

/* ---- Rules -------------------------------------------------------------- */

static struct rule *
rule_alloc(struct ofproto *ofproto, uint8_t table_id)
{
    struct rule *rule = xzalloc(sizeof *rule);

    rule->ofproto = ofproto;
    rule->table_id = table_id;
    rule->refcnt = 1;
    pthread_mutex_init(&rule->stats_mutex, NULL);
    ofpacts_init(&rule->ofpacts);
    return rule;
}

static void
rule_free(struct rule *rule)
{
    struct rule *forward = rule->forward;

    cls_rule_destroy(&rule->cr);
    ofpacts_destroy(&rule->ofpacts);
    pthread_mutex_destroy(&rule->stats_mutex);
    free(rule);
    if (forward) {
        ofproto_rule_unref(forward);
    }
}

void
ofproto_rule_ref(struct rule *rule)
{
    if (rule) {
        atomic_add_fetch_relaxed(&rule->refcnt, 1);
    }
}

void
ofproto_rule_unref(struct rule *rule)
{
    if (rule && !atomic_sub_fetch_acq_rel(&rule->refcnt, 1)) {
        rule_free(rule);
    }
}

const struct ofpacts *
ofproto_rule_get_actions(const struct rule *rule)
{
    return &rule->ofpacts;
}

int
ofproto_rule_get_priority(const struct rule *rule)
{
    return rule->cr.priority;
}

uint8_t
ofproto_rule_get_table(const struct rule *rule)
{
    return rule->table_id;
}

uint64_t
ofproto_rule_get_cookie(const struct rule *rule)
{
    return rule->cookie;
}

void
ofproto_rule_get_match(const struct rule *rule, struct match *match)
{
    cls_rule_get_match(&rule->cr, match);
}

void
ofproto_rule_credit_stats(struct rule *rule, uint64_t packets, uint64_t bytes,
                          uint64_t used)
{
    while (rule) {
        struct rule *forward;

        pthread_mutex_lock(&rule->stats_mutex);
        forward = rule->forward;
        if (!forward) {
            rule->n_packets += packets;
            rule->n_bytes += bytes;
            if (used > rule->used) {
                rule->used = used;
            }
        }
        pthread_mutex_unlock(&rule->stats_mutex);
        /* 'forward' stays alive: 'rule' holds a reference to it, and the
         * caller holds one (or a read-side section) on 'rule'. */
        rule = forward;
    }
}

void
ofproto_rule_get_stats(struct rule *rule, uint64_t *packets, uint64_t *bytes,
                       uint64_t *used)
{
    pthread_mutex_lock(&rule->stats_mutex);
    *packets = rule->n_packets;
    *bytes = rule->n_bytes;
    *used = rule->used;
    pthread_mutex_unlock(&rule->stats_mutex);
}

/* From now on, credits to 'old' go to 'new'; with 'keep', 'new' also takes
 * over what 'old' counted so far. */
static void
rule_forward_stats(struct rule *old, struct rule *new, bool keep)
{
    pthread_mutex_lock(&old->stats_mutex);
    pthread_mutex_lock(&new->stats_mutex);
    if (keep) {
        new->n_packets += old->n_packets;
        new->n_bytes += old->n_bytes;
        new->used = old->used; /* OVS: idle_age survives a modify. */
    }
    if (!old->forward) {
        ofproto_rule_ref(new);
        old->forward = new;
    }
    pthread_mutex_unlock(&new->stats_mutex);
    pthread_mutex_unlock(&old->stats_mutex);
}

/* A rule does "output" to 'port' if an output action names it. */
static bool
rule_outputs_to(const struct rule *rule, uint32_t port)
{
    return port == OFPP_ANY || ofpacts_outputs_to(&rule->ofpacts, port);
}

static bool
rule_cookie_matches(const struct rule *rule, const struct flow_text *ft)
{
    return !((rule->cookie ^ ft->cookie_match) & ft->cookie_mask);
}

/* Copies what OpenFlow reports about 'rule' at 'now'. */
static void
rule_snapshot(struct rule *rule, uint64_t now, struct ofproto_rule_info *info)
{
    uint64_t used;

    memset(info, 0, sizeof *info);
    cls_rule_get_match(&rule->cr, &info->match);
    info->priority = (uint16_t)rule->cr.priority;
    info->table_id = rule->table_id;
    info->cookie = rule->cookie;
    info->idle_timeout = rule->idle_timeout;
    info->hard_timeout = rule->hard_timeout;
    info->importance = rule->importance;
    info->flags = rule->flags;
    info->duration_ms = now > rule->created ? now - rule->created : 0;
    ofproto_rule_get_stats(rule, &info->n_packets, &info->n_bytes, &used);
    ofpacts_clone(&info->ofpacts, &rule->ofpacts);
}

void
ofproto_rule_infos_free(struct ofproto_rule_info *infos, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ofpacts_destroy(&infos[i].ofpacts);
    }
    free(infos);
}

/* Grace period 2 is over: drop the table's reference. */
static void
rule_unref_cb(void *rule_)
{
    ofproto_rule_unref(rule_);
}

/* Grace period 1 is over: no reader uses a version in which 'rule' is
 * visible; unlink it. */
static void
rule_retire_cb(void *rule_)
{
    struct rule *rule = rule_;
    struct ofproto *ofproto = rule->ofproto;

    pthread_mutex_lock(&ofproto->mutex);
    if (cls_rule_is_linked(&rule->cr)) {
        classifier_remove_now(&ofproto->tables[rule->table_id].cls, &rule->cr);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    rcu_postpone(rule_unref_cb, rule);
}

/* Writer, after the version that removes 'rule' was published. */
static void
rule_retire(struct rule *rule)
{
    if (!rule->removed) {
        rule->removed = true;
        rcu_postpone(rule_retire_cb, rule);
    }
}

/* ---- Bridges ------------------------------------------------------------ */

struct ofproto *
ofproto_create(const char *name)
{
    struct ofproto *ofproto = xzalloc(sizeof *ofproto);

    ofproto->name = xstrdup(name);
    pthread_mutex_init(&ofproto->mutex, NULL);
    ofproto->change_seq = seq_create();
    pthread_mutex_init(&ofproto->cache_mutex, NULL);
    list_init(&ofproto->cache_watchers);
    for (size_t i = 0; i < OFPROTO_N_TABLES; i++) {
        classifier_init(&ofproto->tables[i].cls);
    }
    ofproto->tables_version = CLS_MIN_VERSION;
    ofproto->ports = xzalloc(sizeof *ofproto->ports);
    ofproto->ml = mac_learning_create(0, 0, ofproto->change_seq);
    ofproto->groups = group_table_create();
    ofproto->max_rules = OFPROTO_DEFAULT_MAX_RULES;
    ofproto->meters = ofmeter_table_create();
    return ofproto;
}

void
ofproto_set_max_rules(struct ofproto *ofproto, size_t max_rules)
{
    atomic_store_relaxed(&ofproto->max_rules, max_rules);
}

size_t
ofproto_get_max_rules(const struct ofproto *ofproto)
{
    return atomic_load_relaxed(&ofproto->max_rules);
}

static void
ofport_set_free(struct ofport_set *set)
{
    if (set) {
        for (size_t i = 0; i < set->n; i++) {
            free(set->ports[i].name);
        }
        free(set);
    }
}

void
ofproto_destroy(struct ofproto *ofproto)
{
    if (!ofproto) {
        return;
    }
    /* Let pending retirements finish (they take the mutex and queue a
     * second callback). */
    rcu_wait_postponed();
    rcu_wait_postponed();

    pthread_mutex_lock(&ofproto->mutex);
    for (size_t i = 0; i < OFPROTO_N_TABLES; i++) {
        struct classifier *cls = &ofproto->tables[i].cls;
        struct rule *rule;

        /* Every retirement finished, so what is left is visible. */
        rcu_read_begin();
        CLS_FOR_EACH(rule, cr, cls)
        {
            classifier_remove_now(cls, &rule->cr);
            ofproto_rule_unref(rule);
        }
        rcu_read_end();
        classifier_destroy(cls);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    rcu_synchronize();
    rcu_wait_postponed();

    group_table_destroy(ofproto->groups);
    ofport_set_free(ofproto->ports);
    mac_learning_destroy(ofproto->ml);
    ofmeter_table_destroy(ofproto->meters);
    seq_destroy(ofproto->change_seq);
    pthread_mutex_destroy(&ofproto->cache_mutex);
    pthread_mutex_destroy(&ofproto->mutex);
    free(ofproto->name);
    free(ofproto);
}

const char *
ofproto_name(const struct ofproto *ofproto)
{
    return ofproto->name;
}

void
ofproto_set_miss_to_controller(struct ofproto *ofproto, bool on)
{
    atomic_store_relaxed(&ofproto->miss_to_controller, on);
    ofproto_bump_change_seq(ofproto);
}

bool
ofproto_get_miss_to_controller(const struct ofproto *ofproto)
{
    return atomic_load_relaxed(&ofproto->miss_to_controller);
}

struct mac_learning *
ofproto_get_mac_learning(const struct ofproto *ofproto)
{
    return ofproto->ml;
}

/* ---- Ports -------------------------------------------------------------- */

const struct ofport_set *
ofproto_ports(const struct ofproto *ofproto)
{
    return atomic_load_acquire(&ofproto->ports);
}

const struct ofport *
ofproto_port_find(const struct ofproto *ofproto, uint32_t ofp_port)
{
    const struct ofport_set *set = ofproto_ports(ofproto);
    size_t lo = 0, hi = set->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (set->ports[mid].ofp_port == ofp_port) {
            return &set->ports[mid];
        } else if (set->ports[mid].ofp_port < ofp_port) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

bool
ofproto_port_to_dp(const struct ofproto *ofproto, uint32_t ofp_port,
                   uint32_t *dp_port)
{
    bool found = false;

    rcu_read_begin();
    const struct ofport *port = ofproto_port_find(ofproto, ofp_port);
    if (port) {
        *dp_port = port->dp_port;
        found = true;
    }
    rcu_read_end();
    return found;
}

bool
ofproto_port_from_dp(const struct ofproto *ofproto, uint32_t dp_port,
                     uint32_t *ofp_port)
{
    bool found = false;

    rcu_read_begin();
    const struct ofport_set *set = ofproto_ports(ofproto);
    for (size_t i = 0; i < set->n; i++) {
        if (set->ports[i].dp_port == dp_port) {
            *ofp_port = set->ports[i].ofp_port;
            found = true;
            break;
        }
    }
    rcu_read_end();
    return found;
}

size_t
ofproto_n_ports(const struct ofproto *ofproto)
{
    size_t n;

    rcu_read_begin();
    n = ofproto_ports(ofproto)->n;
    rcu_read_end();
    return n;
}

static void
ofport_set_free_cb(void *set)
{
    ofport_set_free(set);
}

/* Writer: publishes 'new' and retires the old snapshot. */
static void
ofproto_ports_publish(struct ofproto *ofproto, struct ofport_set *new)
{
    struct ofport_set *old = ofproto->ports;

    atomic_store_release(&ofproto->ports, new);
    rcu_postpone(ofport_set_free_cb, old);
    ofproto_bump_change_seq(ofproto);
}

int
ofproto_port_add(struct ofproto *ofproto, uint32_t ofp_port, uint32_t dp_port,
                 const char *name, char **errorp)
{
    struct ofport_set *old, *new;
    size_t i, j;

    *errorp = NULL;
    if (!ofp_port || (ofp_port >= OFPP_MAX && ofp_port != OFPP_LOCAL)) {
        *errorp = xasprintf("ofproto: bad port number %" PRIu32
                            " for \"%s\" (expected 1..%d or LOCAL)",
                            ofp_port, name, OFPP_MAX - 1);
        return EINVAL;
    }
    pthread_mutex_lock(&ofproto->mutex);
    old = ofproto->ports;
    for (i = 0; i < old->n; i++) {
        if (old->ports[i].ofp_port == ofp_port
            || !strcmp(old->ports[i].name, name)) {
            *errorp = xasprintf("ofproto: port %" PRIu32 " \"%s\" already "
                                "exists (expected a new number and name)",
                                ofp_port, name);
            pthread_mutex_unlock(&ofproto->mutex);
            return EEXIST;
        }
    }
    if (old->n >= OFPROTO_MAX_PORTS) {
        *errorp = xasprintf("ofproto: too many ports adding \"%s\" "
                            "(expected at most %d)",
                            name, OFPROTO_MAX_PORTS);
        pthread_mutex_unlock(&ofproto->mutex);
        return ENOSPC;
    }
    new = xzalloc(sizeof *new + (old->n + 1) * sizeof new->ports[0]);
    for (i = j = 0; i < old->n; i++) {
        if (j == i && old->ports[i].ofp_port > ofp_port) {
            new->ports[j++] =
                (struct ofport){ofp_port, dp_port, xstrdup(name)};
        }
        new->ports[j] = old->ports[i];
        new->ports[j++].name = xstrdup(old->ports[i].name);
    }
    if (j == i) {
        new->ports[j++] = (struct ofport){ofp_port, dp_port, xstrdup(name)};
    }
    new->n = j;
    ofproto_ports_publish(ofproto, new);
    pthread_mutex_unlock(&ofproto->mutex);
    return 0;
}

int
ofproto_port_del(struct ofproto *ofproto, uint32_t ofp_port)
{
    struct ofport_set *old, *new;
    bool found = false;

    pthread_mutex_lock(&ofproto->mutex);
    old = ofproto->ports;
    new = xzalloc(sizeof *new + old->n * sizeof new->ports[0]);
    for (size_t i = 0; i < old->n; i++) {
        if (old->ports[i].ofp_port == ofp_port) {
            found = true;
            continue;
        }
        new->ports[new->n] = old->ports[i];
        new->ports[new->n++].name = xstrdup(old->ports[i].name);
    }
    if (!found) {
        ofport_set_free(new);
        pthread_mutex_unlock(&ofproto->mutex);
        return ENOENT;
    }
    ofproto_ports_publish(ofproto, new);
    pthread_mutex_unlock(&ofproto->mutex);
    mac_learning_flush_port(ofproto->ml, ofp_port);
    return 0;
}

bool
ofproto_port_is_live(const struct ofproto *ofproto, uint32_t ofp_port)
{
    const struct ofport *port = ofproto_port_find(ofproto, ofp_port);

    return port && !port->down;
}

int
ofproto_port_set_live(struct ofproto *ofproto, uint32_t ofp_port, bool live)
{
    struct ofport_set *old, *new;
    int error = ENOENT;

    pthread_mutex_lock(&ofproto->mutex);
    old = ofproto->ports;
    new = xzalloc(sizeof *new + old->n * sizeof new->ports[0]);
    for (size_t i = 0; i < old->n; i++) {
        new->ports[i] = old->ports[i];
        new->ports[i].name = xstrdup(old->ports[i].name);
        if (old->ports[i].ofp_port == ofp_port) {
            error = old->ports[i].down == !live ? EALREADY : 0;
            new->ports[i].down = !live;
        }
    }
    new->n = old->n;
    if (error) {
        ofport_set_free(new);
    } else {
        ofproto_ports_publish(ofproto, new);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    return error == EALREADY ? 0 : error;
}

/* ---- Lookup ------------------------------------------------------------- */

struct rule *
ofproto_table_lookup(const struct ofproto *ofproto, uint8_t table_id,
                     const struct flow *flow, struct flow_wildcards *wc)
{
    return ofproto_table_lookup_version(
        ofproto, table_id, cls_version_get(&ofproto->tables_version), flow,
        wc);
}

struct rule *
ofproto_table_lookup_version(const struct ofproto *ofproto, uint8_t table_id,
                             uint64_t version, const struct flow *flow,
                             struct flow_wildcards *wc)
{
    const struct cls_rule *cr;

    if (table_id >= OFPROTO_N_TABLES) {
        return NULL;
    }
    cr = classifier_lookup(&ofproto->tables[table_id].cls, version, flow, wc);
    return cr ? CONTAINER_OF(cr, struct rule, cr) : NULL;
}

/* ---- Flow-mod batches --------------------------------------------------- */

struct rule_vec {
    struct rule **rules;
    size_t n, allocated;
};

static void
rule_vec_push(struct rule_vec *v, struct rule *rule)
{
    v->rules = xgrow(v->rules, &v->allocated, v->n + 1, sizeof *v->rules);
    v->rules[v->n++] = rule;
}

struct stats_forward {
    struct rule *old, *new;
    bool keep;
};

struct batch {
    struct ofproto *ofproto;
    uint64_t version;
    uint64_t now;
    struct rule_vec inserted; /* In staging order. */
    struct rule_vec removed;  /* Removed or displaced, in staging order. */
    struct stats_forward *forwards;
    size_t n_forwards, allocated_forwards;
    /* send_flow_rem rules removed by deletes and timeouts, with why. */
    struct rule_vec notify;
    enum ofproto_removed_reason *notify_reasons; /* Parallel to 'notify'. */
    size_t allocated_reasons;
    /* Filled by batch_commit(), delivered by batch_notify(). */
    struct ofproto_rule_info *removed_infos;
    size_t n_removed_infos;
    ofproto_flow_removed_cb *removed_cb;
    void *removed_aux;
};

static void
batch_note_removal(struct batch *b, struct rule *rule,
                   enum ofproto_removed_reason reason)
{
    if (!(rule->flags & FLOW_TEXT_SEND_FLOW_REM)) {
        return;
    }
    rule_vec_push(&b->notify, rule);
    b->notify_reasons = xgrow(b->notify_reasons, &b->allocated_reasons,
                              b->notify.n, sizeof *b->notify_reasons);
    b->notify_reasons[b->notify.n - 1] = reason;
}

static void
batch_forward(struct batch *b, struct rule *old, struct rule *new, bool keep)
{
    b->forwards = xgrow(b->forwards, &b->allocated_forwards, b->n_forwards + 1,
                        sizeof *b->forwards);
    b->forwards[b->n_forwards++] = (struct stats_forward){old, new, keep};
}

static void
batch_insert(struct batch *b, struct rule *rule)
{
    struct classifier *cls = &b->ofproto->tables[rule->table_id].cls;
    struct cls_rule *displaced;

    displaced = classifier_replace(cls, &rule->cr, b->version);
    rule_vec_push(&b->inserted, rule);
    if (displaced) {
        rule_vec_push(&b->removed, CONTAINER_OF(displaced, struct rule, cr));
    }
}

static void
batch_remove(struct batch *b, struct rule *rule)
{
    classifier_remove(&b->ofproto->tables[rule->table_id].cls, &rule->cr,
                      b->version);
    rule_vec_push(&b->removed, rule);
}

/* Collects the rules visible in the batch's version that 'ft' selects:
 * strict or loose match, table (255: all), cookie & mask, and out_port
 * when 'use_out_port'. */
static void
batch_collect(struct batch *b, const struct flow_text *ft, bool strict,
              bool use_out_port, struct rule_vec *out)
{
    struct cls_rule target;
    uint8_t first = ft->table_id;
    uint8_t last = first;

    if (ft->table_id == FLOW_TEXT_TABLE_ALL) {
        first = 0;
        last = OFPROTO_N_TABLES - 1;
    }
    cls_rule_init(&target, &ft->match, ft->priority);
    rcu_read_begin();
    for (unsigned int t = first; t <= last; t++) {
        struct classifier *cls = &b->ofproto->tables[t].cls;
        struct rule *rule;

        if (classifier_is_empty(cls)) {
            continue;
        }
        if (strict) {
            const struct cls_rule *cr =
                classifier_find_rule_exactly(cls, &target, b->version);
            rule = cr ? CONTAINER_OF(cr, struct rule, cr) : NULL;
            if (rule && rule_cookie_matches(rule, ft)
                && (!use_out_port || rule_outputs_to(rule, ft->out_port))) {
                rule_vec_push(out, rule);
            }
            continue;
        }
        CLS_FOR_EACH_TARGET(rule, cr, cls, &target, b->version)
        {
            if (rule_cookie_matches(rule, ft)
                && (!use_out_port || rule_outputs_to(rule, ft->out_port))) {
                rule_vec_push(out, rule);
            }
        }
    }
    rcu_read_end();
    cls_rule_destroy(&target);
}

static struct rule *
rule_from_flow_text(struct ofproto *ofproto, const struct flow_text *ft,
                    uint64_t now)
{
    struct rule *rule = rule_alloc(ofproto, ft->table_id);

    cls_rule_init(&rule->cr, &ft->match, ft->priority);
    rule->cookie = ft->cookie;
    rule->idle_timeout = ft->idle_timeout;
    rule->hard_timeout = ft->hard_timeout;
    rule->importance = ft->importance;
    rule->flags = ft->flags;
    rule->created = rule->modified = rule->used = now;
    ofpacts_clone(&rule->ofpacts, &ft->ofpacts);
    return rule;
}

/* OpenFlow's OFPBAC_BAD_OUT_GROUP: every group an action list names, in
 * write_actions too, must exist (writer: the group table cannot change
 * meanwhile).  Returns 0 or ENXIO. */
static int
batch_check_groups(struct batch *b, const struct ofpacts *ofpacts,
                   char **errorp)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_WRITE_ACTIONS
            && batch_check_groups(b, a->nested, errorp)) {
            return ENXIO;
        }
        if (a->type == OFPACT_GROUP
            && !ofproto_group_exists(b->ofproto, a->group_id)) {
            *errorp = xasprintf("flow: group:%" PRIu32 " names no group "
                                "(expected an existing group)",
                                a->group_id);
            return ENXIO;
        }
    }
    return 0;
}

static int
batch_add(struct batch *b, const struct flow_text *ft, char **errorp)
{
    struct classifier *cls;
    struct rule *rule;

    if (ft->table_id >= OFPROTO_N_TABLES) {
        *errorp = xasprintf("flow: bad table in \"table=%u\" (expected a "
                            "table 0..%d for an add)",
                            ft->table_id, OFPROTO_N_TABLES - 1);
        return EINVAL;
    }
    if (ofpacts_check(&ft->ofpacts, &ft->match, ft->table_id, errorp)) {
        return EINVAL;
    }
    if (ofmeter_table_check(b->ofproto->meters, &ft->ofpacts, errorp)) {
        return ENOENT;
    }
    if (batch_check_groups(b, &ft->ofpacts, errorp)) {
        return ENXIO;
    }
    cls = &b->ofproto->tables[ft->table_id].cls;
    rule = rule_from_flow_text(b->ofproto, ft, b->now);
    ofmeter_table_bind(b->ofproto->meters, &rule->ofpacts);
    if (ft->flags & FLOW_TEXT_CHECK_OVERLAP) {
        bool overlaps;

        rcu_read_begin();
        overlaps = !classifier_find_rule_exactly(cls, &rule->cr, b->version)
                   && classifier_rule_overlaps(cls, &rule->cr, b->version);
        rcu_read_end();
        if (overlaps) {
            *errorp = xstrdup("flow: overlaps an existing flow of the same "
                              "priority (check_overlap expects none)");
            ofproto_rule_unref(rule);
            return EEXIST;
        }
    }
    size_t n_removed = b->removed.n;
    batch_insert(b, rule);
    if (b->removed.n > n_removed) {
        /* OpenFlow 1.3: an add that replaces a flow keeps its counters
         * unless it says reset_counts; everything else is new. */
        batch_forward(b, b->removed.rules[n_removed], rule,
                      !(ft->flags & FLOW_TEXT_RESET_COUNTS));
    }
    return 0;
}

static int
batch_modify(struct batch *b, const struct flow_text *ft, bool strict,
             char **errorp)
{
    struct rule_vec rules = {NULL, 0, 0};
    int error = 0;

    batch_collect(b, ft, strict, false, &rules);
    if (rules.n && batch_check_groups(b, &ft->ofpacts, errorp)) {
        rules.n = 0;
        error = ENOENT;
    }
    for (size_t i = 0; i < rules.n; i++) {
        struct rule *old = rules.rules[i];
        struct rule *new;
        struct match match;

        cls_rule_get_match(&old->cr, &match);
        if (ofpacts_check(&ft->ofpacts, &match, old->table_id, errorp)) {
            error = EINVAL;
            break;
        }
        if (ofmeter_table_check(b->ofproto->meters, &ft->ofpacts, errorp)) {
            error = ENOENT;
            break;
        }
        new = rule_alloc(b->ofproto, old->table_id);
        cls_rule_clone(&new->cr, &old->cr);
        new->cookie = ft->set_cookie ? ft->cookie : old->cookie;
        new->idle_timeout = old->idle_timeout;
        new->hard_timeout = old->hard_timeout;
        new->importance = old->importance;
        new->flags = old->flags;
        new->created = old->created;
        new->modified = b->now;
        new->used = b->now;
        ofpacts_clone(&new->ofpacts, &ft->ofpacts);
        ofmeter_table_bind(b->ofproto->meters, &new->ofpacts);
        batch_insert(b, new);
        batch_forward(b, old, new, !(ft->flags & FLOW_TEXT_RESET_COUNTS));
    }
    free(rules.rules);
    return error;
}

static int
batch_delete(struct batch *b, const struct flow_text *ft, bool strict)
{
    struct rule_vec rules = {NULL, 0, 0};

    batch_collect(b, ft, strict, true, &rules);
    for (size_t i = 0; i < rules.n; i++) {
        batch_remove(b, rules.rules[i]);
        batch_note_removal(b, rules.rules[i], OFPROTO_REMOVED_DELETE);
    }
    free(rules.rules);
    return 0;
}

static int
batch_apply(struct batch *b, const struct flow_text *ft, char **errorp)
{
    switch (ft->mode) {
    case FLOW_TEXT_ADD:
        return batch_add(b, ft, errorp);
    case FLOW_TEXT_MODIFY:
    case FLOW_TEXT_MODIFY_STRICT:
        return batch_modify(b, ft, ft->mode == FLOW_TEXT_MODIFY_STRICT,
                            errorp);
    case FLOW_TEXT_DELETE:
    case FLOW_TEXT_DELETE_STRICT:
        return batch_delete(b, ft, ft->mode == FLOW_TEXT_DELETE_STRICT);
    }
    *errorp = xstrdup("flow: unknown flow-mod command");
    return EINVAL;
}

/* Whether 'rule' has a timeout, so that ofproto_run_timeouts() must look
 * at it. */
static size_t
rule_can_expire(const struct rule *rule)
{
    return rule->idle_timeout || rule->hard_timeout;
}

static void
batch_commit(struct batch *b)
{
    struct ofproto *ofproto = b->ofproto;

    cls_version_publish(&ofproto->tables_version, b->version);
    ofproto->n_rules = ofproto->n_rules + b->inserted.n - b->removed.n;
    for (size_t i = 0; i < b->inserted.n; i++) {
        ofproto->n_expirable += rule_can_expire(b->inserted.rules[i]);
    }
    for (size_t i = 0; i < b->removed.n; i++) {
        ofproto->n_expirable -= rule_can_expire(b->removed.rules[i]);
    }
    for (size_t i = 0; i < b->n_forwards; i++) {
        struct stats_forward *f = &b->forwards[i];

        if (f->keep) {
            rule_forward_stats(f->old, f->new, true);
        }
    }
    if (b->notify.n && ofproto->removed_cb) {
        b->removed_infos = xcalloc(b->notify.n, sizeof *b->removed_infos);
        for (size_t i = 0; i < b->notify.n; i++) {
            rule_snapshot(b->notify.rules[i], b->now, &b->removed_infos[i]);
        }
        b->n_removed_infos = b->notify.n;
        b->removed_cb = ofproto->removed_cb;
        b->removed_aux = ofproto->removed_aux;
    }
    for (size_t i = 0; i < b->removed.n; i++) {
        rule_retire(b->removed.rules[i]);
    }
    if (b->inserted.n || b->removed.n) {
        ofproto_bump_change_seq(ofproto);
    }
}

/* After the bridge mutex is released: the removal notifications. */
static void
batch_notify(struct batch *b)
{
    for (size_t i = 0; i < b->n_removed_infos; i++) {
        b->removed_cb(&b->removed_infos[i], b->notify_reasons[i],
                      b->removed_aux);
    }
    ofproto_rule_infos_free(b->removed_infos, b->n_removed_infos);
    b->removed_infos = NULL;
    b->n_removed_infos = 0;
    free(b->notify.rules);
    free(b->notify_reasons);
}

static void
batch_rollback(struct batch *b)
{
    struct ofproto *ofproto = b->ofproto;

    /* Counters move only to the clones below. */
    b->n_forwards = 0;

    /* Whatever the batch inserted was never visible: make it invisible in
     * every version. */
    for (size_t i = b->inserted.n; i-- > 0;) {
        struct rule *rule = b->inserted.rules[i];

        classifier_remove(&ofproto->tables[rule->table_id].cls, &rule->cr,
                          b->version);
    }
    /* Whatever it removed that existed before comes back as a clone. */
    for (size_t i = 0; i < b->removed.n; i++) {
        struct rule *old = b->removed.rules[i];
        struct rule *clone;

        if (old->cr.add_version >= b->version) {
            continue;
        }
        clone = rule_alloc(ofproto, old->table_id);
        cls_rule_clone(&clone->cr, &old->cr);
        clone->cookie = old->cookie;
        clone->idle_timeout = old->idle_timeout;
        clone->hard_timeout = old->hard_timeout;
        clone->importance = old->importance;
        clone->flags = old->flags;
        clone->created = old->created;
        clone->modified = old->modified;
        clone->used = old->used;
        ofpacts_clone(&clone->ofpacts, &old->ofpacts);
        classifier_insert(&ofproto->tables[clone->table_id].cls, &clone->cr,
                          b->version);
        batch_forward(b, old, clone, true);
    }
    cls_version_publish(&ofproto->tables_version, b->version);
    for (size_t i = 0; i < b->n_forwards; i++) {
        rule_forward_stats(b->forwards[i].old, b->forwards[i].new, true);
    }
    for (size_t i = 0; i < b->inserted.n; i++) {
        rule_retire(b->inserted.rules[i]);
    }
    for (size_t i = 0; i < b->removed.n; i++) {
        rule_retire(b->removed.rules[i]);
    }
}

int
ofproto_flow_mods_at(struct ofproto *ofproto, const struct flow_text mods[],
                     size_t n, uint64_t now, char **errorp)
{
    struct batch b;
    int error = 0;

    *errorp = NULL;
    memset(&b, 0, sizeof b);
    b.ofproto = ofproto;
    b.now = now;

    pthread_mutex_lock(&ofproto->mutex);
    b.version = ofproto->tables_version + 1;
    for (size_t i = 0; i < n; i++) {
        char *error_msg = NULL;

        error = batch_apply(&b, &mods[i], &error_msg);
        if (error) {
            if (n > 1) {
                *errorp = xasprintf("%s (flow-mod %zu of %zu; nothing "
                                    "changed)",
                                    error_msg, i + 1, n);
                free(error_msg);
            } else {
                *errorp = error_msg;
            }
            break;
        }
    }
    if (!error) {
        size_t max = ofproto_get_max_rules(ofproto);
        size_t after = ofproto->n_rules + b.inserted.n - b.removed.n;

        if (after > max && after > ofproto->n_rules) {
            /* OpenFlow's "table full": the bridge holds at most 'max'. */
            COVERAGE_INC(ofproto_table_full);
            *errorp = xasprintf("flow: the bridge is full (at most %zu "
                                "flows; this would make %zu)%s",
                                max, after, n > 1 ? " (nothing changed)" : "");
            error = EFBIG;
        }
    }
    if (error) {
        COVERAGE_INC(ofproto_flow_mod_refused);
        batch_rollback(&b);
    } else {
        COVERAGE_INC(ofproto_flow_mod_batch);
        batch_commit(&b);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    batch_notify(&b);

    free(b.inserted.rules);
    free(b.removed.rules);
    free(b.forwards);
    return error;
}

/* ---- Meters (ofproto/meter.h) ------------------------------------------ */

/* The OpenFlow meter 'rule' uses, or 0. */
static uint32_t
rule_meter_id(const struct rule *rule)
{
    const struct ofpacts *a = &rule->ofpacts;

    return a->n && a->acts[0].type == OFPACT_METER ? a->acts[0].meter.meter_id
                                                   : 0;
}

/* Collects the rules of 'version' that use a meter. */
static void
rules_with_meter(struct ofproto *ofproto, uint64_t version,
                 struct rule_vec *out)
{
    rcu_read_begin();
    for (size_t t = 0; t < OFPROTO_N_TABLES; t++) {
        struct rule *rule;

        if (!classifier_is_empty(&ofproto->tables[t].cls)) {
            CLS_FOR_EACH_TARGET(rule, cr, &ofproto->tables[t].cls, NULL,
                                version)
            {
                if (rule_meter_id(rule)) {
                    rule_vec_push(out, rule);
                }
            }
        }
    }
    rcu_read_end();
}

/* Deletes, in one batch, the rules whose meter is gone (as Open vSwitch
 * does when a meter is deleted). */
static void
ofproto_delete_meterless_rules(struct ofproto *ofproto, struct batch *b)
{
    struct rule_vec rules = {NULL, 0, 0};

    b->ofproto = ofproto;
    b->now = time_msec();
    b->version = ofproto->tables_version + 1;
    rules_with_meter(ofproto, b->version, &rules);
    for (size_t i = 0; i < rules.n; i++) {
        struct rule *rule = rules.rules[i];

        if (!ofmeter_table_exists(ofproto->meters, rule_meter_id(rule))) {
            batch_remove(b, rule);
            batch_note_removal(b, rule, OFPROTO_REMOVED_METER);
        }
    }
    free(rules.rules);
    batch_commit(b);
}

enum ofmeter_error
ofproto_meter_mod(struct ofproto *ofproto, enum ofmeter_command command,
                  const struct ofmeter_config *cfg)
{
    enum ofmeter_error error;
    struct batch b;

    memset(&b, 0, sizeof b);
    pthread_mutex_lock(&ofproto->mutex);
    error = ofmeter_table_mod(ofproto->meters, command, cfg, time_msec());
    if (!error && command == OFMETER_DELETE) {
        ofproto_delete_meterless_rules(ofproto, &b);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    batch_notify(&b);
    free(b.removed.rules);
    return error;
}

size_t
ofproto_meter_snapshot(struct ofproto *ofproto, uint32_t id,
                       struct ofmeter_info **infosp)
{
    struct rule_vec rules = {NULL, 0, 0};
    size_t n;

    pthread_mutex_lock(&ofproto->mutex);
    n = ofmeter_table_snapshot(ofproto->meters, id, time_msec(), infosp);
    rules_with_meter(ofproto, ofproto->tables_version, &rules);
    for (size_t r = 0; r < rules.n; r++) {
        uint32_t mid = rule_meter_id(rules.rules[r]);

        for (size_t i = 0; i < n; i++) {
            (*infosp)[i].flow_count += (*infosp)[i].config.id == mid;
        }
    }
    pthread_mutex_unlock(&ofproto->mutex);
    free(rules.rules);
    return n;
}

void
ofproto_set_datapath(struct ofproto *ofproto, struct dp *dp)
{
    pthread_mutex_lock(&ofproto->mutex);
    ofmeter_table_set_datapath(ofproto->meters, dp);
    pthread_mutex_unlock(&ofproto->mutex);
}

int
ofproto_flow_mods(struct ofproto *ofproto, const struct flow_text mods[],
                  size_t n, char **errorp)
{
    return ofproto_flow_mods_at(ofproto, mods, n, time_msec(), errorp);
}

int
ofproto_flow_mod_str_at(struct ofproto *ofproto, const char *line,
                        enum flow_text_mode mode, uint64_t now, char **errorp)
{
    struct flow_text ft;
    int error;

    error = flow_text_parse(line, mode, &ft, errorp);
    if (!error) {
        error = ofproto_flow_mods_at(ofproto, &ft, 1, now, errorp);
    }
    flow_text_destroy(&ft);
    return error;
}

int
ofproto_flow_mod_str(struct ofproto *ofproto, const char *line,
                     enum flow_text_mode mode, char **errorp)
{
    return ofproto_flow_mod_str_at(ofproto, line, mode, time_msec(), errorp);
}

/* ---- Timeouts ----------------------------------------------------------- */

static bool
rule_is_expired(struct rule *rule, uint64_t now, bool *idle)
{
    if (rule->hard_timeout
        && now >= rule->modified + (uint64_t)rule->hard_timeout * 1000) {
        *idle = false;
        return true;
    }
    if (rule->idle_timeout) {
        uint64_t used;

        pthread_mutex_lock(&rule->stats_mutex);
        used = MAX(rule->used, rule->modified);
        pthread_mutex_unlock(&rule->stats_mutex);
        if (now >= used + (uint64_t)rule->idle_timeout * 1000) {
            *idle = true;
            return true;
        }
    }
    return false;
}

size_t
ofproto_run_timeouts(struct ofproto *ofproto, uint64_t now)
{
    struct batch b;
    size_t n_expired;

    memset(&b, 0, sizeof b);
    b.ofproto = ofproto;
    b.now = now;

    pthread_mutex_lock(&ofproto->mutex);
    if (!ofproto->n_expirable) {
        /* No rule can expire: no walk over every rule (50 000 rules are
         * a few ms of every revalidator round). */
        pthread_mutex_unlock(&ofproto->mutex);
        mac_learning_run(ofproto->ml, now);
        return 0;
    }
    b.version = ofproto->tables_version + 1;
    rcu_read_begin();
    for (size_t t = 0; t < OFPROTO_N_TABLES; t++) {
        struct classifier *cls = &ofproto->tables[t].cls;
        struct rule *rule;

        if (classifier_is_empty(cls)) {
            continue;
        }
        CLS_FOR_EACH_TARGET(rule, cr, cls, NULL, b.version)
        {
            bool idle;

            if ((rule->idle_timeout || rule->hard_timeout)
                && rule_is_expired(rule, now, &idle)) {
                rule_vec_push(&b.removed, rule);
                batch_note_removal(&b, rule,
                                   idle ? OFPROTO_REMOVED_IDLE
                                        : OFPROTO_REMOVED_HARD);
                if (idle) {
                    COVERAGE_INC(ofproto_rule_expired_idle);
                } else {
                    COVERAGE_INC(ofproto_rule_expired_hard);
                }
            }
        }
    }
    rcu_read_end();
    n_expired = b.removed.n;
    for (size_t i = 0; i < n_expired; i++) {
        struct rule *rule = b.removed.rules[i];

        classifier_remove(&ofproto->tables[rule->table_id].cls, &rule->cr,
                          b.version);
    }
    if (n_expired) {
        batch_commit(&b);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    batch_notify(&b);
    free(b.removed.rules);

    mac_learning_run(ofproto->ml, now);
    return n_expired;
}

/* ---- Dump --------------------------------------------------------------- */

struct dump_entry {
    struct rule *rule;
    char *match_text;
};

static int
dump_entry_cmp(const void *a_, const void *b_)
{
    const struct dump_entry *a = a_, *b = b_;

    if (a->rule->table_id != b->rule->table_id) {
        return a->rule->table_id < b->rule->table_id ? -1 : 1;
    }
    if (a->rule->cr.priority != b->rule->cr.priority) {
        return a->rule->cr.priority > b->rule->cr.priority ? -1 : 1;
    }
    return strcmp(a->match_text, b->match_text);
}

/* OVS's ofp_print_duration(): "1s", "1.250s". */
static void
format_duration(uint64_t msec, struct ds *s)
{
    ds_put_format(s, "%" PRIu64, msec / 1000);
    if (msec % 1000) {
        ds_put_format(s, ".%03u", (unsigned int)(msec % 1000));
    }
    ds_put_char(s, 's');
}

/* Whole seconds from 'then' to 'now' (msec), as Open vSwitch's ages. */
static uint64_t
age_sec(uint64_t now, uint64_t then)
{
    return now > then ? (now - then) / 1000 : 0;
}

static void
format_rule(struct rule *rule, const char *match_text, uint64_t now,
            struct ds *s)
{
    uint64_t packets, bytes, used;

    ofproto_rule_get_stats(rule, &packets, &bytes, &used);
    ds_put_format(s, " cookie=0x%" PRIx64 ", duration=", rule->cookie);
    format_duration(now > rule->created ? now - rule->created : 0, s);
    ds_put_format(s,
                  ", table=%u, n_packets=%" PRIu64 ", n_bytes=%" PRIu64 ", ",
                  rule->table_id, packets, bytes);
    if (rule->idle_timeout) {
        ds_put_format(s, "idle_timeout=%u, ", rule->idle_timeout);
    }
    if (rule->hard_timeout) {
        ds_put_format(s, "hard_timeout=%u, ", rule->hard_timeout);
    }
    /* The flags and the importance are not in an NXST_FLOW reply, so
     * ovs-ofctl's default dump-flows never prints them: nor do we. */
    ds_put_format(s, "idle_age=%" PRIu64 ", ", age_sec(now, used));
    if (age_sec(now, rule->modified) != age_sec(now, rule->created)) {
        ds_put_format(s, "hard_age=%" PRIu64 ", ",
                      age_sec(now, rule->modified));
    }
    ds_put_cstr(s, match_text);
    if (ds_last(s) != ' ') {
        ds_put_char(s, ' ');
    }
    ds_put_cstr(s, "actions=");
    ofpacts_format(&rule->ofpacts, s);
    ds_put_char(s, '\n');
}

/* Collects into 'rules' the rules that 'filter' selects (every rule when
 * 'filter' is NULL), as dump-flows does: out_port and cookie filters
 * apply, strict when the filter says so.  ofproto->mutex held. */
static void
collect_filtered_rules(struct ofproto *ofproto, const struct flow_text *filter,
                       struct rule_vec *rules)
{
    struct flow_text all;
    struct batch b;

    if (!filter) {
        flow_text_init(&all, FLOW_TEXT_DELETE);
        filter = &all;
    }
    memset(&b, 0, sizeof b);
    b.ofproto = ofproto;
    b.version = ofproto->tables_version;
    batch_collect(&b, filter, filter->mode == FLOW_TEXT_DELETE_STRICT, true,
                  rules);
    if (filter == &all) {
        flow_text_destroy(&all);
    }
}

void
ofproto_dump_flows_at(struct ofproto *ofproto, const struct flow_text *filter,
                      uint64_t now, struct ds *s)
{
    struct rule_vec rules = {NULL, 0, 0};
    struct dump_entry *entries;

    pthread_mutex_lock(&ofproto->mutex);
    collect_filtered_rules(ofproto, filter, &rules);
    entries = xcalloc(rules.n ? rules.n : 1, sizeof *entries);
    for (size_t i = 0; i < rules.n; i++) {
        struct ds text = DS_EMPTY_INITIALIZER;
        struct match match;

        cls_rule_get_match(&rules.rules[i]->cr, &match);
        match_format(&match, rules.rules[i]->cr.priority, &text);
        entries[i].rule = rules.rules[i];
        entries[i].match_text = ds_steal_cstr(&text);
        if (!entries[i].match_text) {
            entries[i].match_text = xstrdup("");
        }
    }
    qsort(entries, rules.n, sizeof *entries, dump_entry_cmp);
    for (size_t i = 0; i < rules.n; i++) {
        format_rule(entries[i].rule, entries[i].match_text, now, s);
        free(entries[i].match_text);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    free(entries);
    free(rules.rules);
}

void
ofproto_dump_flows(struct ofproto *ofproto, const struct flow_text *filter,
                   struct ds *s)
{
    ofproto_dump_flows_at(ofproto, filter, time_msec(), s);
}

void
ofproto_table_credit(struct ofproto *ofproto, uint8_t table_id,
                     uint64_t n_lookups, uint64_t n_matched)
{
    if (table_id < OFPROTO_N_TABLES) {
        struct oftable *t = &ofproto->tables[table_id];

        atomic_fetch_add_relaxed(&t->n_lookups, n_lookups);
        atomic_fetch_add_relaxed(&t->n_matched, n_matched);
    }
}

void
ofproto_table_get_stats(struct ofproto *ofproto, uint8_t table_id,
                        uint64_t *n_lookups, uint64_t *n_matched)
{
    *n_lookups = *n_matched = 0;
    if (table_id < OFPROTO_N_TABLES) {
        const struct oftable *t = &ofproto->tables[table_id];

        *n_lookups = atomic_load_relaxed(&t->n_lookups);
        *n_matched = atomic_load_relaxed(&t->n_matched);
    }
}

struct table_line {
    size_t active;
    uint64_t lookups, matched;
};

static void
table_line_read(struct ofproto *ofproto, uint8_t table_id,
                struct table_line *line)
{
    line->active = ofproto_table_n_rules(ofproto, table_id);
    ofproto_table_get_stats(ofproto, table_id, &line->lookups, &line->matched);
}

/* Ends a run of tables 'first'..'last' that repeat the one before them. */
static void
put_ditto(struct ds *s, unsigned int first, unsigned int last)
{
    if (first == last) {
        ds_put_format(s, "\n  table %u: ditto\n", first);
    } else {
        ds_put_format(s, "\n  tables %u...%u: ditto\n", first, last);
    }
}

void
ofproto_dump_tables(struct ofproto *ofproto, struct ds *s)
{
    enum { N_REPORTED = OFPROTO_N_TABLES - 1 };
    struct table_line prev = {0, 0, 0}, cur;
    unsigned int ditto_from = 0;

    for (unsigned int t = 0; t < N_REPORTED; t++) {
        table_line_read(ofproto, (uint8_t)t, &cur);
        if (t && !memcmp(&cur, &prev, sizeof cur)) {
            ditto_from = ditto_from ? ditto_from : t;
            continue;
        }
        if (ditto_from) {
            put_ditto(s, ditto_from, t - 1);
            ditto_from = 0;
        }
        ds_put_format(s,
                      "%s  table %u:\n    active=%zu, lookup=%" PRIu64
                      ", matched=%" PRIu64 "\n",
                      t ? "\n" : "", t, cur.active, cur.lookups, cur.matched);
        prev = cur;
    }
    if (ditto_from) {
        put_ditto(s, ditto_from, N_REPORTED - 1);
    }
}

size_t
ofproto_table_n_rules(struct ofproto *ofproto, uint8_t table_id)
{
    size_t n = 0;

    if (table_id >= OFPROTO_N_TABLES) {
        return 0;
    }
    pthread_mutex_lock(&ofproto->mutex);
    uint64_t version = ofproto->tables_version;
    struct classifier *cls = &ofproto->tables[table_id].cls;
    struct rule *rule;

    rcu_read_begin();
    CLS_FOR_EACH_TARGET(rule, cr, cls, NULL, version)
    {
        (void)rule;
        n++;
    }
    rcu_read_end();
    pthread_mutex_unlock(&ofproto->mutex);
    return n;
}

size_t
ofproto_n_rules(struct ofproto *ofproto)
{
    size_t n = 0;

    for (size_t t = 0; t < OFPROTO_N_TABLES; t++) {
        if (!classifier_is_empty(&ofproto->tables[t].cls)) {
            n += ofproto_table_n_rules(ofproto, (uint8_t)t);
        }
    }
    return n;
}

/* ---- Snapshots and notifications for OpenFlow -------------------------- */

static int
rule_info_cmp(const void *a_, const void *b_)
{
    const struct ofproto_rule_info *a = a_, *b = b_;

    if (a->table_id != b->table_id) {
        return a->table_id < b->table_id ? -1 : 1;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return 0;
}

size_t
ofproto_collect_rules(struct ofproto *ofproto, const struct flow_text *filter,
                      uint64_t now, struct ofproto_rule_info **infosp)
{
    struct rule_vec rules = {NULL, 0, 0};
    struct ofproto_rule_info *infos;

    pthread_mutex_lock(&ofproto->mutex);
    collect_filtered_rules(ofproto, filter, &rules);
    infos = xcalloc(rules.n ? rules.n : 1, sizeof *infos);
    for (size_t i = 0; i < rules.n; i++) {
        rule_snapshot(rules.rules[i], now, &infos[i]);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    qsort(infos, rules.n, sizeof *infos, rule_info_cmp);
    free(rules.rules);
    *infosp = infos;
    return rules.n;
}

void
ofproto_set_flow_removed_cb(struct ofproto *ofproto,
                            ofproto_flow_removed_cb *cb, void *aux)
{
    pthread_mutex_lock(&ofproto->mutex);
    ofproto->removed_cb = cb;
    ofproto->removed_aux = aux;
    pthread_mutex_unlock(&ofproto->mutex);
}

void
ofproto_set_fail_open(struct ofproto *ofproto, bool on)
{
    atomic_store_relaxed(&ofproto->fail_open, on);
    ofproto_bump_change_seq(ofproto);
}

bool
ofproto_get_fail_open(const struct ofproto *ofproto)
{
    return atomic_load_relaxed(&ofproto->fail_open);
}

size_t
ofproto_port_list(const struct ofproto *ofproto,
                  struct ofproto_port_info **portsp)
{
    struct ofproto_port_info *ports;
    size_t n;

    rcu_read_begin();
    const struct ofport_set *set = ofproto_ports(ofproto);
    n = set->n;
    ports = xcalloc(n ? n : 1, sizeof *ports);
    for (size_t i = 0; i < n; i++) {
        ports[i].ofp_port = set->ports[i].ofp_port;
        ports[i].dp_port = set->ports[i].dp_port;
        ports[i].name = xstrdup(set->ports[i].name);
    }
    rcu_read_end();
    *portsp = ports;
    return n;
}

void
ofproto_port_list_free(struct ofproto_port_info *ports, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ports[i].name);
    }
    free(ports);
}

/* ---- Groups ------------------------------------------------------------- */

/* Writer: deletes, in one version published through 'b' (zeroed by the
 * caller), every rule that names one of the groups 'ids[0..n_ids)'. */
static void
ofproto_delete_group_rules(struct ofproto *ofproto, struct batch *b,
                           const uint32_t *ids, size_t n_ids)
{
    struct rule_vec rules = {NULL, 0, 0};
    struct flow_text all;

    b->ofproto = ofproto;
    b->now = time_msec();
    b->version = ofproto->tables_version + 1;
    flow_text_init(&all, FLOW_TEXT_DELETE);
    all.table_id = FLOW_TEXT_TABLE_ALL;
    batch_collect(b, &all, false, false, &rules);
    flow_text_destroy(&all);
    for (size_t i = 0; i < rules.n; i++) {
        if (group_ofpacts_use(&rules.rules[i]->ofpacts, ids, n_ids)) {
            batch_remove(b, rules.rules[i]);
            batch_note_removal(b, rules.rules[i], OFPROTO_REMOVED_GROUP);
        }
    }
    free(rules.rules);
    batch_commit(b);
}

int
ofproto_group_mod(struct ofproto *ofproto, const struct group_mod *gm,
                  char **errorp)
{
    enum group_error error;
    uint32_t *removed;
    size_t n_removed;
    struct batch b;

    memset(&b, 0, sizeof b);
    pthread_mutex_lock(&ofproto->mutex);
    error = group_table_apply(ofproto->groups, gm, time_msec(), &removed,
                              &n_removed, errorp);
    if (!error) {
        if (n_removed) {
            ofproto_delete_group_rules(ofproto, &b, removed, n_removed);
        }
        ofproto_bump_change_seq(ofproto);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    batch_notify(&b);
    free(b.inserted.rules);
    free(b.removed.rules);
    free(b.forwards);
    free(removed);
    return (int)error;
}

int
ofproto_group_mod_str(struct ofproto *ofproto, const char *text, int command,
                      char **errorp)
{
    struct group_mod gm;
    int error =
        group_mod_parse(text, (enum group_mod_command)command, &gm, errorp);

    if (!error) {
        switch (ofproto_group_mod(ofproto, &gm, errorp)) {
        case GROUP_OK:
            break;
        case GROUP_ERR_GROUP_EXISTS:
            error = EEXIST;
            break;
        case GROUP_ERR_UNKNOWN_GROUP:
            error = ENOENT;
            break;
        default:
            error = EINVAL;
            break;
        }
    }
    group_mod_destroy(&gm);
    return error;
}

bool
ofproto_group_exists(const struct ofproto *ofproto, uint32_t group_id)
{
    return group_table_exists(ofproto->groups, group_id);
}

/* The entry of 'infos[0..n)' (sorted by id) for group 'id', or NULL. */
static struct group_info *
group_info_find(struct group_info *infos, size_t n, uint32_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (infos[mid].desc.group_id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && infos[lo].desc.group_id == id ? &infos[lo] : NULL;
}

/* Counts, in the entries of 'infos[0..n)', one reference for each group
 * that 'ofpacts' (write_actions included) names; 'rule_mark' tells a
 * group already counted for this rule. */
static void
count_rule_group_refs(const struct ofpacts *ofpacts, struct group_info *infos,
                      size_t n, uint64_t *marks, uint64_t rule_mark)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];
        struct group_info *gi;

        if (a->type == OFPACT_WRITE_ACTIONS) {
            count_rule_group_refs(a->nested, infos, n, marks, rule_mark);
        } else if (a->type == OFPACT_GROUP
                   && (gi = group_info_find(infos, n, a->group_id))
                   && marks[gi - infos] != rule_mark) {
            marks[gi - infos] = rule_mark;
            gi->ref_count++;
        }
    }
}

/* The number of rules whose actions name each group of 'infos' (sorted by
 * id): one walk over the rules, whatever the number of groups. */
static void
ofproto_count_group_refs(struct ofproto *ofproto, struct group_info *infos,
                         size_t n)
{
    struct rule_vec rules = {NULL, 0, 0};
    uint64_t *marks;

    if (!n) {
        return;
    }
    marks = xcalloc(n, sizeof *marks);
    /* The rules' own actions, read while the mutex keeps them: no copy. */
    pthread_mutex_lock(&ofproto->mutex);
    collect_filtered_rules(ofproto, NULL, &rules);
    for (size_t r = 0; r < rules.n; r++) {
        count_rule_group_refs(&rules.rules[r]->ofpacts, infos, n, marks,
                              r + 1);
    }
    pthread_mutex_unlock(&ofproto->mutex);
    free(rules.rules);
    free(marks);
}

size_t
ofproto_collect_groups(struct ofproto *ofproto, uint32_t group_id,
                       struct group_info **infosp)
{
    size_t n =
        group_table_collect(ofproto->groups, group_id, time_msec(), infosp);

    ofproto_count_group_refs(ofproto, *infosp, n);
    return n;
}

/* As `ovs-ofctl -O OpenFlow13 dump-group-stats` prints it. */
static void
format_group_stats(const struct group_info *gi, struct ds *s)
{
    ds_put_format(s, "group_id=%" PRIu32 ",duration=", gi->desc.group_id);
    format_duration(gi->duration_ms, s);
    ds_put_format(s,
                  ",ref_count=%" PRIu32 ",packet_count=%" PRIu64
                  ",byte_count=%" PRIu64,
                  gi->ref_count, gi->n_packets, gi->n_bytes);
    for (size_t i = 0; i < gi->desc.n_buckets; i++) {
        ds_put_format(
            s, ",bucket%zu:packet_count=%" PRIu64 ",byte_count=%" PRIu64, i,
            gi->bucket_packets[i], gi->bucket_bytes[i]);
    }
}

void
ofproto_dump_groups(struct ofproto *ofproto, uint32_t group_id, bool stats,
                    struct ds *out)
{
    struct group_info *infos;
    size_t n = ofproto_collect_groups(ofproto, group_id, &infos);

    for (size_t i = 0; i < n; i++) {
        ds_put_char(out, ' ');
        if (stats) {
            format_group_stats(&infos[i], out);
        } else {
            group_format(&infos[i].desc, out);
        }
        ds_put_char(out, '\n');
    }
    group_infos_free(infos, n);
}
