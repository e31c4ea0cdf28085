/* upcall/revalidator.c — the revalidators (DESIGN.md §3 "Revalidators";
 * threads, rounds and locking rules in upcall-private.h, API in upcall.h).
 *
 * Per dumped flow, in batches of REVALIDATOR_BATCH:
 *  - find its ukey, or adopt the flow (a flow installed by hand, or before
 *    a restart, gets a ukey with no translation: reval_seq 0);
 *  - skip it if another thread holds the ukey (upcall_ukey_contention),
 *    if its put is still in flight (CREATED) or if this dump already saw
 *    it (dumped_duplicate_flow, or dumped_new_flow for a flow never
 *    translated yet: Open vSwitch's names);
 *  - decide: delete it when purging, when the datapath holds more than
 *    2 x flow_limit flows, or when it has been idle longer than max_idle
 *    (100 ms above the flow limit); if the tables changed since its
 *    translation (ukey->reval_seq differs from the round's sequence):
 *    delete it if the last dump took >= 200 ms and it saw fewer than
 *    min_revalidate_pps packets/s since the last look, else translate its
 *    key afresh and delete it (translation error, or the installed mask
 *    does not cover the new one) or modify its actions in place (only the
 *    actions changed) or keep it;
 *  - run the deletes and modifies of the batch in one dp_operate() (one
 *    grace period), then credit the rules through the ukey's xlate cache
 *    with the packets counted since the ukey's last statistics: final
 *    ones for a delete, the ones up to the modify (to the old rules) for a
 *    modify.  A ukey without a cache gets one by a translation with
 *    learning.  Slow-pathed flows are never credited here: the handlers
 *    credit each of their packets.  So every packet the datapath counted
 *    reaches the rules exactly once.
 *
 * Sweep.  Per partition: EVICTED ukeys are removed; a ukey this dump did
 * not see (and that is not fresh: created after the round began with a
 * current translation) is re-checked with a flow get: gone, it counts a
 * missed dump and is dropped after REVALIDATOR_MISSED_DUMPS in a row
 * (reason "missing"); present, it gets the same decision as a dumped
 * flow (which deletes or modifies it if the tables changed).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier/classifier.h"
#include "control/control.h"
#include "datapath/datapath.h"
#include "datapath/dp-actions.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/cond.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/seq.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "upcall/ukey.h"
#include "upcall/upcall-private.h"
#include "upcall/upcall.h"

VLOG_DEFINE_THIS_MODULE(revalidator);

/* Where a counter means what an Open vSwitch counter means, it has its
 * name (README.md, "Coverage counters"). */
COVERAGE_DEFINE(dumped_duplicate_flow);
COVERAGE_DEFINE(dumped_new_flow);
COVERAGE_DEFINE(revalidator_flow_adopted);
COVERAGE_DEFINE(upcall_ukey_contention);
COVERAGE_DEFINE(revalidator_flow_vanished);
COVERAGE_DEFINE(revalidator_flow_flushed);
COVERAGE_DEFINE(revalidator_modify_failed);
COVERAGE_DEFINE(revalidator_missed_dump);
COVERAGE_DEFINE(revalidate_missed_dp_flow);
COVERAGE_DEFINE(revalidator_xlate_error);
COVERAGE_DEFINE(revalidator_slow_dump);
COVERAGE_DEFINE(upcall_flow_limit_kill);
COVERAGE_DECLARE(upcall_flow_limit_hit); /* upcall.c */
COVERAGE_DEFINE(revalidator_worker_failed);

#define REVALIDATOR_BATCH 50
#define REVALIDATOR_MISSED_DUMPS 4
#define REVALIDATOR_EXPENSIVE_MS 200    /* Dump duration: go cheap. */
#define REVALIDATOR_OVER_LIMIT_IDLE 100 /* max_idle above the limit. */
#define REVALIDATOR_FLOW_SAMPLE_MS 100  /* Flow count re-read so often. */
#define REVALIDATOR_MIN_SLEEP 5         /* msec between round starts. */
#define REVALIDATOR_TRIM_DELETES 10000  /* Deletes that call for a trim, */
#define REVALIDATOR_TRIM_PERIOD 2000    /* at round starts for 2 s after, */
#define REVALIDATOR_TRIM_INTERVAL 100   /* at most every 100 ms. */
#define REVALIDATOR_POOL_IDLE_MS 2000   /* Empty pool slabs kept so long. */

static struct vlog_rate_limit rv_rl = VLOG_RATE_LIMIT_INIT(5, 5);

enum rv_verdict {
    RV_KEEP,
    RV_DELETE,
    RV_MODIFY,
};

/* One flow of a batch, with its ukey locked. */
struct rv_item {
    struct ukey *ukey;
    struct dp_flow_info *info; /* As dumped (or got). */
    enum rv_verdict verdict;
    enum upcall_del_reason reason;  /* RV_DELETE. */
    struct dp_actions *new_actions; /* RV_MODIFY. */
    struct xlate_cache *new_xcache; /* After a re-translation. */
    bool retranslated;              /* 'new_xcache' is valid. */
    struct dp_flow_stats op_stats;  /* Delete or modify output. */
    int op_error;
};

struct revalidator {
    struct udpif *udpif;
    unsigned int id;
    pthread_t thread;
    struct revalidator_round *round; /* Shared by the threads. */
    struct revalidator_counters counters;
    uint64_t n_deleted_round; /* For the trim decision. */

    struct dp_flow_info infos[REVALIDATOR_BATCH];
    struct rv_item items[REVALIDATOR_BATCH];
    struct dp_op ops[REVALIDATOR_BATCH];
};

static const char *const rv_reason_names[UPCALL_N_DEL_REASONS] = {
    [UPCALL_DEL_IDLE] = "idle",
    [UPCALL_DEL_FLOW_LIMIT] = "flow limit",
    [UPCALL_DEL_TOO_EXPENSIVE] = "too expensive",
    [UPCALL_DEL_MASK_TOO_WIDE] = "mask too wide",
    [UPCALL_DEL_ACTIONS_CHANGED] = "actions changed",
    [UPCALL_DEL_XLATE_ERROR] = "translation error",
    [UPCALL_DEL_PURGE] = "purge",
    [UPCALL_DEL_MISSING] = "missing",
};

const char *
upcall_del_reason_to_string(enum upcall_del_reason reason)
{
    return (unsigned int)reason < UPCALL_N_DEL_REASONS
               ? rv_reason_names[reason]
               : "?";
}

/* ---- Translation and statistics ----------------------------------------- */

static bool
rv_actions_slow(const struct dp_actions *a)
{
    return a && a->n == 1 && a->a[0].type == DP_ACTION_USERSPACE
           && a->a[0].userspace.len == sizeof(struct upcall_slow_cookie)
           && a->a[0].userspace.data[0] == UPCALL_USERDATA_SLOW_PATH;
}

/* Translates the datapath flow 'key' into what a handler would install for
 * it: '*actionsp' (a reference) and the mask the translation needs, with
 * in_port exact, in '*wc'.  A key from a port outside the bridge gets the
 * handlers' drop flow.  Not inside a read-side section. */
static enum xlate_error
rv_translate(struct udpif *udpif, const struct flow *key, bool may_learn,
             struct xlate_cache *xcache, uint64_t now,
             struct dp_actions **actionsp, struct flow_wildcards *wc)
{
    enum xlate_error error;
    struct xlate_out xout;
    struct xlate_in xin;
    uint32_t ofp_port;
    bool has_port;

    rcu_read_begin();
    has_port = ofproto_port_from_dp(udpif->ofproto, key->in_port, &ofp_port);
    rcu_read_end();
    if (!has_port) {
        flow_wildcards_init_catchall(wc);
        wc->masks.in_port = UINT32_MAX;
        *actionsp = dp_actions_ref(udpif->drop_actions);
        return XLATE_OK;
    }

    xlate_in_init(&xin, udpif->ofproto, key);
    xin.flow.in_port = ofp_port;
    xin.may_learn = may_learn;
    xin.now = now;
    xin.xcache = xcache;
    error = xlate_actions(&xin, &xout);
    *wc = xout.wc;
    wc->masks.in_port = UINT32_MAX;
    *actionsp = (xout.slow ? upcall_slow_path_actions(xout.slow)
                           : dp_actions_ref(xout.actions));
    xlate_out_uninit(&xout);
    return error;
}

static uint64_t
rv_delta(uint64_t now, uint64_t before)
{
    /* A count that went backwards belongs to a flow put again under the
     * same ufid: all of it is new. */
    return now >= before ? now - before : now;
}

/* Credits the rules with what the flow of 'ukey' counted since the ukey's
 * last statistics, and makes 'stats' the ukey's last statistics.  Ukey
 * mutex held. */
static void
rv_push_stats(struct udpif *udpif, struct ukey *ukey,
              const struct dp_flow_stats *stats, uint64_t now)
{
    uint64_t packets = rv_delta(stats->n_packets, ukey->stats.n_packets);
    uint64_t bytes = rv_delta(stats->n_bytes, ukey->stats.n_bytes);

    if (packets && !rv_actions_slow(ukey->actions)) {
        if (!ukey->xcache) {
            struct xlate_cache *xc = xlate_cache_new();
            struct dp_actions *actions;
            struct flow_wildcards wc;
            struct match match;

            ukey_get_match(ukey, &match);
            rv_translate(udpif, &match.flow, true, xc, now, &actions, &wc);
            dp_actions_unref(actions);
            ukey->xcache = xc;
        }
        xlate_cache_push_stats(ukey->xcache, packets, bytes,
                               stats->used ? stats->used : now);
    }
    ukey->stats = *stats;
    ukey->stats_time = now;
}

/* ---- Per-flow decisions ------------------------------------------------- */

/* True if the flow saw fewer than min_revalidate_pps packets per second
 * since the ukey's last statistics. */
static bool
rv_too_slow(const struct udpif *udpif, const struct ukey *ukey,
            const struct dp_flow_info *info, uint64_t now)
{
    uint64_t since = ukey->stats_time ? ukey->stats_time : ukey->created;
    uint64_t packets = rv_delta(info->stats.n_packets, ukey->stats.n_packets);
    uint64_t interval = now > since ? now - since : 0;

    return interval
           && packets * 1000
                  < atomic_load_relaxed(&udpif->min_revalidate_pps) * interval;
}

/* Translates the flow of 'it' afresh and decides from the result. */
static void
rv_retranslate(struct udpif *udpif, struct rv_item *it, uint64_t now)
{
    const struct dp_flow_info *info = it->info;
    struct xlate_cache *xc = xlate_cache_new();
    struct dp_actions *actions;
    struct flow_wildcards wc;

    if (rv_translate(udpif, &info->match.flow, false, xc, now, &actions, &wc)
        != XLATE_OK) {
        COVERAGE_INC(revalidator_xlate_error);
        it->verdict = RV_DELETE;
        it->reason = UPCALL_DEL_XLATE_ERROR;
        goto out;
    }
    if (!flow_wildcards_covers(&info->match.wc, &wc)) {
        it->verdict = RV_DELETE;
        it->reason = UPCALL_DEL_MASK_TOO_WIDE;
        goto out;
    }
    if (!dp_actions_equal(info->actions, actions)) {
        it->verdict = RV_MODIFY;
        it->new_actions = actions;
        actions = NULL;
    }
    it->new_xcache = xc;
    it->retranslated = true;
    xc = NULL;

out:
    if (actions) {
        dp_actions_unref(actions);
    }
    if (xc) {
        xlate_cache_delete(xc);
    }
}

static void
rv_delete(struct rv_item *it, enum upcall_del_reason reason)
{
    it->verdict = RV_DELETE;
    it->reason = reason;
}

/* What a batch's over-limit decisions go by. */
struct rv_limits {
    uint64_t idle_limit; /* max_idle, or 100 ms above the flow limit. */
    bool kill_all;       /* More than 2 x flow_limit flows. */
};

/* The limits for the batch about to be decided, from the current flow
 * count: re-read when the last reading is 'flow_sample_interval' old, so
 * that a round that began above the limit stops deleting busy (or not so
 * idle) flows once its deletes have brought the count back under it. */
static void
rv_batch_limits(struct revalidator *rv, struct rv_limits *lim)
{
    struct revalidator_round *r = rv->round;
    uint64_t interval_ns =
        atomic_load_relaxed(&rv->udpif->flow_sample_interval) * 1000000;
    uint64_t last = atomic_load_relaxed(&r->sampled_ns);
    uint64_t now = time_nsec();
    uint64_t n_flows;

    if (now - last >= interval_ns
        && atomic_cas_relaxed(&r->sampled_ns, &last, now)) {
        struct dp_stats st;

        dp_get_stats(rv->udpif->dp, &st);
        atomic_store_relaxed(&r->n_flows_now, st.n_flows);
    }
    n_flows = atomic_load_relaxed(&r->n_flows_now);
    lim->idle_limit = n_flows > r->flow_limit
                          ? MIN(r->max_idle, REVALIDATOR_OVER_LIMIT_IDLE)
                          : r->max_idle;
    lim->kill_all = n_flows > 2 * (uint64_t)r->flow_limit;
    if (!r->purge && n_flows >= r->flow_limit) {
        COVERAGE_INC(upcall_flow_limit_hit);
        if (lim->kill_all) {
            COVERAGE_INC(upcall_flow_limit_kill);
        }
    }
}

static void
rv_decide(struct revalidator *rv, const struct rv_limits *lim,
          struct rv_item *it)
{
    const struct revalidator_round *r = rv->round;
    struct udpif *udpif = rv->udpif;
    struct ukey *ukey = it->ukey;
    const struct dp_flow_info *info = it->info;
    uint64_t used = info->stats.used ? info->stats.used : ukey->created;

    it->verdict = RV_KEEP;
    if (r->purge) {
        rv_delete(it, UPCALL_DEL_PURGE);
    } else if (lim->kill_all) {
        rv_delete(it, UPCALL_DEL_FLOW_LIMIT);
    } else if (r->now > used && r->now - used > lim->idle_limit) {
        rv_delete(it, r->now - used > r->max_idle ? UPCALL_DEL_IDLE
                                                  : UPCALL_DEL_FLOW_LIMIT);
    } else if (ukey->reval_seq != r->change_seq) {
        if (r->last_duration >= REVALIDATOR_EXPENSIVE_MS
            && rv_too_slow(udpif, ukey, info, r->now)) {
            rv_delete(it, UPCALL_DEL_TOO_EXPENSIVE);
        } else {
            rv_retranslate(udpif, it, r->now);
        }
    }
}

/* Deletes the flow of 'it' on its own (a fallback) with final stats. */
static void
rv_delete_now(struct revalidator *rv, struct rv_item *it,
              enum upcall_del_reason reason)
{
    struct ukey *ukey = it->ukey;
    struct dp_flow_stats stats;

    ukey_set_state(ukey, UKEY_EVICTING);
    if (dp_flow_del(rv->udpif->dp, &ukey->ufid, &stats)) {
        COVERAGE_INC(revalidator_flow_vanished);
        reason = UPCALL_DEL_MISSING;
    } else {
        rv_push_stats(rv->udpif, ukey, &stats, rv->round->now);
    }
    atomic_add_single_writer(&rv->counters.n_deleted[reason], 1);
    ukey_set_state(ukey, UKEY_EVICTED);
    rv->n_deleted_round++;
}

/* Applies the outcome of 'it' to its ukey (still locked). */
static void
rv_apply(struct revalidator *rv, struct rv_item *it)
{
    const struct revalidator_round *r = rv->round;
    struct udpif *udpif = rv->udpif;
    struct ukey *ukey = it->ukey;
    struct xlate_cache *old_xcache = NULL;

    switch (it->verdict) {
    case RV_MODIFY:
        if (it->op_error == ENOENT) {
            /* Gone meanwhile (deleted by hand): nothing left to count. */
            COVERAGE_INC(revalidator_flow_vanished);
            ukey_set_state(ukey, UKEY_EVICTED);
            atomic_add_single_writer(
                &rv->counters.n_deleted[UPCALL_DEL_MISSING], 1);
            break;
        } else if (it->op_error) {
            /* The modify failed: the stale flow must go instead. */
            rv_delete_now(rv, it, UPCALL_DEL_ACTIONS_CHANGED);
            break;
        }
        /* Packets up to the modify went through the old actions. */
        rv_push_stats(udpif, ukey, &it->op_stats, r->now);
        dp_actions_unref(ukey->actions);
        ukey->actions = it->new_actions;
        it->new_actions = NULL;
        atomic_add_single_writer(&rv->counters.n_modified, 1);
        /* Fall through. */
    case RV_KEEP:
        if (it->verdict == RV_KEEP) {
            rv_push_stats(udpif, ukey, &it->info->stats, r->now);
        }
        if (it->retranslated) {
            old_xcache = ukey->xcache;
            ukey->xcache = it->new_xcache;
            it->new_xcache = NULL;
            ukey->reval_seq = r->change_seq;
        }
        break;
    case RV_DELETE:
        if (it->op_error) {
            COVERAGE_INC(revalidator_flow_vanished);
            atomic_add_single_writer(
                &rv->counters.n_deleted[UPCALL_DEL_MISSING], 1);
        } else {
            rv_push_stats(udpif, ukey, &it->op_stats, r->now);
            atomic_add_single_writer(&rv->counters.n_deleted[it->reason], 1);
        }
        ukey_set_state(ukey, UKEY_EVICTED);
        rv->n_deleted_round++;
        break;
    }
    if (old_xcache) {
        xlate_cache_delete(old_xcache);
    }
}

/* Decides items[0..n) (their ukeys locked), runs the deletes and modifies
 * in one dp_operate() and applies the outcomes.  The ukeys stay locked. */
static void
rv_process(struct revalidator *rv, size_t n)
{
    struct udpif *udpif = rv->udpif;
    struct rv_limits lim;
    size_t n_ops = 0;

    if (!n) {
        return;
    }
    rv_batch_limits(rv, &lim);
    for (size_t i = 0; i < n; i++) {
        struct rv_item *it = &rv->items[i];
        struct dp_op *op;

        rv_decide(rv, &lim, it);
        if (it->verdict == RV_KEEP) {
            continue;
        }
        op = &rv->ops[n_ops++];
        memset(op, 0, sizeof *op);
        if (it->verdict == RV_DELETE) {
            ukey_set_state(it->ukey, UKEY_EVICTING);
            op->type = DP_OP_FLOW_DEL;
            op->del.ufid = it->ukey->ufid;
            op->del.stats = &it->op_stats;
        } else {
            op->type = DP_OP_FLOW_PUT;
            /* The dumped flow's megaflow, the ukey's (same ufid). */
            op->put.match = &it->info->match;
            op->put.actions = it->new_actions;
            op->put.flags = DP_FLOW_PUT_MODIFY;
            op->put.stats = &it->op_stats;
        }
    }
    if (n_ops) {
        dp_operate(udpif->dp, rv->ops, n_ops);
    }
    n_ops = 0;
    for (size_t i = 0; i < n; i++) {
        struct rv_item *it = &rv->items[i];

        if (it->verdict != RV_KEEP) {
            it->op_error = rv->ops[n_ops++].error;
            if (it->op_error && it->op_error != ENOENT) {
                COVERAGE_INC(revalidator_modify_failed);
                VLOG_WARN_RL(&rv_rl, "%s: flow %s failed (%s)", udpif->name,
                             it->verdict == RV_DELETE ? "delete" : "modify",
                             strerror(it->op_error));
            }
        }
        rv_apply(rv, it);
        if (it->new_actions) {
            dp_actions_unref(it->new_actions);
        }
        if (it->new_xcache) {
            xlate_cache_delete(it->new_xcache);
        }
    }
}

static void
rv_item_init(struct rv_item *it, struct ukey *ukey, struct dp_flow_info *info)
{
    memset(it, 0, sizeof *it);
    it->ukey = ukey;
    it->info = info;
}

/* ---- Dump phase --------------------------------------------------------- */

/* Gives the ukey-less flow 'info' a ukey and returns it locked, or NULL if
 * another thread got there first. */
static struct ukey *
rv_adopt_flow(struct revalidator *rv, const struct dp_flow_info *info)
{
    struct ukey *ukey;
    bool replaced;

    ukey = ukey_create(&info->match, info->actions, NULL, rv->round->now);
    ukey->reval_seq = 0; /* Never translated: revalidate it. */
    if (ukey_install(rv->udpif->ukeys, ukey, &replaced)) {
        ukey_destroy(ukey);
        COVERAGE_INC(upcall_ukey_contention);
        return NULL;
    }
    COVERAGE_INC(revalidator_flow_adopted);
    ukey_lock(ukey);
    ukey_set_state(ukey, UKEY_VISIBLE);
    return ukey;
}

/* Finds and locks the ukeys of the dumped infos[0..n) and fills items[]
 * with those to decide.  Returns how many. */
static size_t
rv_acquire_dumped(struct revalidator *rv, size_t n)
{
    const struct revalidator_round *r = rv->round;
    struct ukey_map *map = rv->udpif->ukeys;
    size_t n_items = 0;

    rcu_read_begin();
    for (size_t i = 0; i < n; i++) {
        struct dp_flow_info *info = &rv->infos[i];
        struct ukey *ukey = ukey_lookup(map, &info->ufid, NULL);
        enum ukey_state state;

        if (!ukey) {
            ukey = rv_adopt_flow(rv, info);
            if (!ukey) {
                continue;
            }
        } else if (!ukey_trylock(ukey)) {
            COVERAGE_INC(upcall_ukey_contention);
            continue;
        }
        state = ukey->state;
        if (state == UKEY_CREATED || state >= UKEY_EVICTING) {
            /* A handler is putting it, or it is on its way out. */
            ukey_unlock(ukey);
            continue;
        }
        if (ukey->dump_seq == r->dump_seq) {
            if (ukey->xcache) {
                COVERAGE_INC(dumped_duplicate_flow);
            } else {
                COVERAGE_INC(dumped_new_flow);
            }
            ukey_unlock(ukey);
            continue;
        }
        ukey->dump_seq = r->dump_seq;
        ukey->missed_dumps = 0;
        if (state == UKEY_VISIBLE) {
            ukey_set_state(ukey, UKEY_OPERATIONAL);
        }
        rv_item_init(&rv->items[n_items++], ukey, info);
    }
    rcu_read_end();
    return n_items;
}

static void
rv_dump_phase(struct revalidator *rv)
{
    struct dp_flow_dump *dump = rv->round->dump;
    size_t n;

    while ((n = dp_flow_dump_next(dump, rv->infos, REVALIDATOR_BATCH))) {
        size_t n_items = rv_acquire_dumped(rv, n);

        rv_process(rv, n_items);
        for (size_t i = 0; i < n_items; i++) {
            ukey_unlock(rv->items[i].ukey);
        }
        for (size_t i = 0; i < n; i++) {
            dp_flow_info_uninit(&rv->infos[i]);
        }
    }
}

/* ---- Sweep -------------------------------------------------------------- */

struct rv_sweep {
    struct revalidator *rv;
    struct ukey **unseen;
    size_t n, cap;
};

static bool
rv_sweep_cb(struct ukey *ukey, void *sweep_)
{
    struct rv_sweep *sweep = sweep_;
    const struct revalidator_round *r = sweep->rv->round;
    enum ukey_state state;

    if (!ukey_trylock(ukey)) {
        return false;
    }
    state = ukey->state;
    if (state == UKEY_EVICTED) {
        /* Nobody can lock it again: the partition mutex is ours. */
        ukey_unlock(ukey);
        return true;
    }
    if (state == UKEY_CREATED || state == UKEY_EVICTING
        || (!r->purge
            && (ukey->dump_seq == r->dump_seq
                || (ukey->created >= r->now
                    && ukey->reval_seq == r->change_seq)))) {
        ukey_unlock(ukey);
        return false;
    }
    ukey_unlock(ukey);
    sweep->unseen =
        xgrow(sweep->unseen, &sweep->cap, sweep->n + 1, sizeof *sweep->unseen);
    sweep->unseen[sweep->n++] = ukey;
    return false;
}

/* Re-checks unseen[0..n) (n <= REVALIDATOR_BATCH) with flow gets.
 * Returns how many ended up EVICTED. */
static size_t
rv_recheck_unseen(struct revalidator *rv, struct ukey **unseen, size_t n)
{
    const struct revalidator_round *r = rv->round;
    struct udpif *udpif = rv->udpif;
    struct ukey *locked[REVALIDATOR_BATCH];
    bool got[REVALIDATOR_BATCH]; /* infos[i] holds a flow. */
    size_t n_locked = 0, n_items = 0, n_evicted = 0;

    for (size_t i = 0; i < n; i++) {
        struct dp_op *op = &rv->ops[i];

        memset(op, 0, sizeof *op);
        op->type = DP_OP_FLOW_GET;
        op->get.ufid = unseen[i]->ufid;
        op->get.info = &rv->infos[i];
    }
    dp_operate(udpif->dp, rv->ops, n);
    COVERAGE_ADD(revalidate_missed_dp_flow, n);

    for (size_t i = 0; i < n; i++) {
        got[i] = !rv->ops[i].error;
    }
    for (size_t i = 0; i < n; i++) {
        struct ukey *ukey = unseen[i];
        bool found = got[i];
        enum ukey_state state;

        if (!ukey_trylock(ukey)) {
            COVERAGE_INC(upcall_ukey_contention);
            goto next;
        }
        state = ukey->state;
        if (state == UKEY_CREATED || state >= UKEY_EVICTING) {
            ukey_unlock(ukey);
            goto next;
        }
        locked[n_locked++] = ukey;
        if (found) {
            ukey->missed_dumps = 0;
            ukey->dump_seq = r->dump_seq;
            rv_item_init(&rv->items[n_items++], ukey, &rv->infos[i]);
        } else if (r->purge) {
            ukey_set_state(ukey, UKEY_EVICTED);
        } else {
            COVERAGE_INC(revalidator_missed_dump);
            if (++ukey->missed_dumps >= REVALIDATOR_MISSED_DUMPS) {
                ukey_set_state(ukey, UKEY_EVICTED);
                atomic_add_single_writer(
                    &rv->counters.n_deleted[UPCALL_DEL_MISSING], 1);
            }
        }
        continue;
    next:
        if (found) {
            dp_flow_info_uninit(&rv->infos[i]);
            got[i] = false;
        }
    }

    rv_process(rv, n_items);
    for (size_t i = 0; i < n_locked; i++) {
        n_evicted += locked[i]->state == UKEY_EVICTED;
        ukey_unlock(locked[i]);
    }

    for (size_t i = 0; i < n; i++) {
        if (got[i]) {
            dp_flow_info_uninit(&rv->infos[i]);
        }
    }
    return n_evicted;
}

/* The second pass of a sweep: removes what the re-checks evicted. */
static bool
rv_sweep_evicted_cb(struct ukey *ukey, void *aux)
{
    bool evicted;

    (void)aux;
    if (!ukey_trylock(ukey)) {
        return false;
    }
    evicted = ukey->state == UKEY_EVICTED;
    ukey_unlock(ukey); /* The partition mutex keeps everyone else out. */
    return evicted;
}

static void
rv_sweep_partition(struct revalidator *rv, unsigned int part)
{
    struct rv_sweep sweep = {.rv = rv};
    size_t n_evicted = 0;

    ukey_map_sweep(rv->udpif->ukeys, part, rv_sweep_cb, &sweep);
    /* Only this revalidator removes ukeys of this partition that are
     * neither CREATED nor EVICTED (upcall-private.h), so the pointers
     * stay valid. */
    for (size_t i = 0; i < sweep.n; i += REVALIDATOR_BATCH) {
        n_evicted += rv_recheck_unseen(
            rv, &sweep.unseen[i], MIN(sweep.n - i, (size_t)REVALIDATOR_BATCH));
    }
    free(sweep.unseen);
    if (n_evicted) {
        ukey_map_sweep(rv->udpif->ukeys, part, rv_sweep_evicted_cb, NULL);
    }
}

/* ---- Flows flushed behind the revalidators' back ------------------------ */

/* The flow of 'ufid' was flushed from the datapath (dpctl/del-flows) with
 * final statistics 'stats'.  Its ukey, if any, credits its rules with
 * what they had not yet been credited with, and becomes EVICTED: the next
 * miss of the flow replaces it and installs the flow again at once
 * (ukey_install()), as for a flow deleted during a dump, and the sweep
 * drops it.  Without this, the ukey would claim the flow for several
 * dumps, refusing every reinstall meanwhile, and the flow's last packets
 * would never reach the rules. */
static void
rv_flow_flushed(struct udpif *udpif, const struct dp_ufid *ufid,
                const struct dp_flow_stats *stats, uint64_t now)
{
    struct ukey *ukey;

    for (;;) {
        rcu_read_begin();
        ukey = ukey_lookup(udpif->ukeys, ufid, NULL);
        if (!ukey) {
            rcu_read_end();
            return;
        }
        if (ukey_trylock(ukey)) {
            break;
        }
        /* A revalidator or a handler has it for a moment; the pointer is
         * only good inside the read-side section, so look again. */
        rcu_read_end();
        sched_yield();
    }
    /* Locked, the ukey stays in the map (the sweeps and ukey_install()
     * only trylock it; a handler's ukey_remove() waits for the mutex). */
    rcu_read_end();
    if (ukey->state != UKEY_DELETED) {
        /* A CREATED ukey's put went through (the flush found its flow):
         * its handler sees the ukey EVICTED and leaves it so. */
        rv_push_stats(udpif, ukey, stats, now);
        if (ukey->state != UKEY_EVICTED) {
            ukey_set_state(ukey, UKEY_EVICTED);
            atomic_fetch_add_relaxed(
                &udpif->retired.n_deleted[UPCALL_DEL_MISSING], 1);
        }
        COVERAGE_INC(revalidator_flow_flushed);
    }
    ukey_unlock(ukey);
}

/* dp_flow_flush_cb. */
static void
rv_flows_flushed(const struct dp_ufid ufids[],
                 const struct dp_flow_stats stats[], size_t n, void *udpif_)
{
    uint64_t now = time_msec();

    for (size_t i = 0; i < n; i++) {
        rv_flow_flushed(udpif_, &ufids[i], &stats[i], now);
    }
}

/* ---- Rounds ------------------------------------------------------------- */

static struct revalidator *
rv_context_create(struct udpif *udpif, unsigned int id,
                  struct revalidator_round *round)
{
    struct revalidator *rv = xzalloc(sizeof *rv);

    rv->udpif = udpif;
    rv->id = id;
    rv->round = round;
    return rv;
}

/* Adds the counters of 'rv' to the udpif's retired ones and frees it. */
static void
rv_context_destroy(struct revalidator *rv)
{
    struct udpif *udpif = rv->udpif;

    atomic_fetch_add_relaxed(&udpif->retired.n_modified,
                             atomic_load_relaxed(&rv->counters.n_modified));
    for (size_t i = 0; i < UPCALL_N_DEL_REASONS; i++) {
        atomic_fetch_add_relaxed(
            &udpif->retired.n_deleted[i],
            atomic_load_relaxed(&rv->counters.n_deleted[i]));
    }
    free(rv);
}

/* The leader's start of a round: rule timeouts, the round's parameters,
 * the dump.  'rv_round_mutex' held. */
static void
rv_round_begin(struct udpif *udpif, struct revalidator_round *r, uint64_t now,
               bool purge)
{
    struct dp_stats st;

    if (!purge) {
        /* Expired rules go first, so this round revalidates their flows
         * away. */
        ofproto_run_timeouts(udpif->ofproto, now);
        if (now <= udpif->trim_until
            && now >= udpif->last_trim + REVALIDATOR_TRIM_INTERVAL) {
            /* Many flows went lately: once their ukeys (call_rcu) and
             * datapath flows (the datapath's reclaim) are freed, give the
             * memory back to the system: the empty slabs of the ukey and
             * xlate cache pools, then the heap's free pages.  (The
             * datapath's maintenance thread trims the flow pools.) */
            udpif->last_trim = now;
            rcu_wait_postponed();
            ukey_trim_memory(0);
            xlate_cache_trim_memory(0);
            dp_actions_trim_memory(0);
            malloc_trim(0);
        } else {
            /* Pool slabs that stayed empty a while are not coming back
             * into use soon. */
            ukey_trim_memory(REVALIDATOR_POOL_IDLE_MS);
            xlate_cache_trim_memory(REVALIDATOR_POOL_IDLE_MS);
            dp_actions_trim_memory(REVALIDATOR_POOL_IDLE_MS);
        }
    }
    memset(r, 0, sizeof *r);
    r->purge = purge;
    r->now = now;
    r->start_ns = time_nsec();
    r->change_seq = ofproto_get_change_seq(udpif->ofproto);
    dp_get_stats(udpif->dp, &st);
    r->n_flows = st.n_flows;
    udpif_sample_flows(udpif, st.n_flows);
    r->flow_limit = atomic_load_relaxed(&udpif->flow_limit);
    r->max_idle = atomic_load_relaxed(&udpif->max_idle);
    r->n_flows_now = r->n_flows;
    r->sampled_ns = r->start_ns;
    r->last_duration = atomic_load_relaxed(&udpif->last_dump_duration);
    r->dump_seq = ++udpif->next_dump_seq;
    r->dump = dp_flow_dump_create(udpif->dp);
}

/* The adaptive flow limit (DESIGN.md §3), after a dump of 'n_flows' flows
 * that took 'duration' msec. */
static void
rv_adapt_flow_limit(struct udpif *udpif, uint64_t n_flows, uint64_t duration)
{
    size_t limit = atomic_load_relaxed(&udpif->flow_limit);
    size_t max = atomic_load_relaxed(&udpif->max_flow_limit);

    duration = MAX(duration, 1);
    if (duration > 2000) {
        limit /= duration / 1000;
    } else if (duration > 1300) {
        limit = limit * 3 / 4;
    } else if (duration < 1000 && limit < n_flows * 1000 / duration) {
        limit += 1000;
    }
    limit = MIN(max, MAX(limit, (size_t)1000));
    atomic_store_relaxed(&udpif->flow_limit, limit);

    if (duration > 2000) {
        COVERAGE_INC(revalidator_slow_dump);
        VLOG_WARN("%s: spent an unreasonably long %llums dumping flows "
                  "(flow limit now %zu)",
                  udpif->name, (unsigned long long)duration, limit);
    }
}

/* The end of a round: 'deleted' flows were deleted in it. */
static void
rv_round_end(struct udpif *udpif, struct revalidator_round *r,
             uint64_t deleted)
{
    uint64_t override = atomic_load_relaxed(&udpif->dump_duration_override);
    uint64_t elapsed_ns = time_nsec() - r->start_ns;
    uint64_t duration;

    dp_flow_dump_destroy(r->dump);
    r->dump = NULL;
    if (deleted >= REVALIDATOR_TRIM_DELETES) {
        /* From the round's end: a round that took longer than the period
         * (half a million deletions on a loaded machine) must still be
         * followed by trims. */
        uint64_t end = r->now + elapsed_ns / 1000000;

        udpif->trim_until = end + REVALIDATOR_TRIM_PERIOD;
        udpif->last_trim = end;
    }
    if (r->purge) {
        return;
    }
    duration = override != UINT64_MAX ? override : elapsed_ns / 1000000;
    atomic_store_relaxed(&udpif->last_dump_duration, duration);
    atomic_store_relaxed(&udpif->last_round_usec, elapsed_ns / 1000);
    atomic_fetch_add_relaxed(&udpif->n_rounds, 1);
    rv_adapt_flow_limit(udpif, r->n_flows, duration);
}

/* One whole round in the calling thread with context 'rv' (manual mode,
 * purges).  'rv_round_mutex' held. */
static void
rv_round_run_alone(struct revalidator *rv, uint64_t now, bool purge)
{
    struct udpif *udpif = rv->udpif;

    rv_round_begin(udpif, rv->round, now, purge);
    rv->n_deleted_round = 0;
    rv_dump_phase(rv);
    for (unsigned int p = 0; p < UKEY_N_PARTITIONS; p++) {
        rv_sweep_partition(rv, p);
    }
    rv_round_end(udpif, rv->round, rv->n_deleted_round);
}

/* Purges in the calling thread (registered), between rounds. */
static void
rv_purge_now(struct udpif *udpif)
{
    struct revalidator_round round;
    struct revalidator *rv = rv_context_create(udpif, 0, &round);

    pthread_mutex_lock(&udpif->rv_round_mutex);
    rv_round_run_alone(rv, time_msec(), true);
    pthread_mutex_unlock(&udpif->rv_round_mutex);
    rv_context_destroy(rv);
}

/* ---- Threads ------------------------------------------------------------ */

/* Whether the datapath holds no flow: then a round costs next to nothing,
 * and the leader need not keep REVALIDATOR_MIN_SLEEP between two, so that
 * a barrier after a table change (ofproto.h "Cache sync") is answered at
 * once. */
static bool
rv_cache_empty(struct udpif *udpif)
{
    struct dp_stats st;

    dp_get_stats(udpif->dp, &st);
    return st.n_flows == 0;
}

/* The leader's sleep before a round.  Returns the new round's id, or 0 if
 * the threads must exit. */
static uint64_t
rv_leader_wait(struct udpif *udpif, uint64_t last_start, uint64_t last_seq)
{
    uint64_t round_id;

    pthread_mutex_lock(&udpif->rv_mutex);
    for (;;) {
        uint64_t now, earliest, deadline, wake_at, pace;

        if (udpif->rv_stop) {
            udpif->rv_paused = false;
            pthread_cond_broadcast(&udpif->rv_cond);
            pthread_mutex_unlock(&udpif->rv_mutex);
            return 0;
        }
        if (udpif->rv_operator_pause) {
            if (!udpif->rv_paused) {
                udpif->rv_paused = true;
                pthread_cond_broadcast(&udpif->rv_cond);
            }
            pthread_cond_wait(&udpif->rv_cond, &udpif->rv_mutex);
            continue;
        }
        if (udpif->rv_paused) {
            udpif->rv_paused = false;
            pthread_cond_broadcast(&udpif->rv_cond);
        }
        if (!last_start) {
            break;
        }
        now = time_msec();
        pace = MIN(atomic_load_relaxed(&udpif->max_idle),
                   atomic_load_relaxed(&udpif->max_revalidator));
        earliest = last_start + REVALIDATOR_MIN_SLEEP;
        deadline = last_start + MAX(pace, (uint64_t)REVALIDATOR_MIN_SLEEP);
        if (now >= deadline) {
            break;
        }
        if ((now >= earliest || rv_cache_empty(udpif))
            && (udpif->rv_wake
                || ofproto_get_change_seq(udpif->ofproto) != last_seq)) {
            break;
        }
        /* A table change broadcasts 'rv_cond' too (revalidator_init()
         * watches the tables' seq), so there is nothing to poll. */
        wake_at = now < earliest ? earliest : deadline;
        cond_wait_until(&udpif->rv_cond, &udpif->rv_mutex, wake_at * 1000000u);
    }
    udpif->rv_wake = false;
    round_id = ++udpif->rounds_started;
    pthread_mutex_unlock(&udpif->rv_mutex);
    return round_id;
}

/* The leader, after rv_round_begin(), when the tables changed since the
 * round before ('last_seq'): a handler batch that read an older change
 * sequence may still be about to create the ukey of a flow it translated
 * with the old tables, too late for this round's dump and sweep.  Waiting
 * for those batches makes the round cover every flow translated before
 * r->change_seq, so that its end may be reported to the bridge
 * (ofproto_cache_synced()).  Handlers never wait for revalidators. */
static void
rv_round_after_change(struct udpif *udpif, const struct revalidator_round *r,
                      uint64_t last_seq)
{
    if (r->change_seq != last_seq) {
        udpif_wait_for_batches(udpif);
    }
}

static void *
revalidator_main(void *rv_)
{
    struct revalidator *rv = rv_;
    struct udpif *udpif = rv->udpif;
    unsigned int n = atomic_load_relaxed(&udpif->n_revalidators);
    bool leader = rv->id == 0;
    uint64_t last_start = 0, last_seq = 0, round_id = 0;

    rcu_thread_register();
    for (;;) {
        struct revalidator_round *r = rv->round;

        if (leader) {
            round_id = rv_leader_wait(udpif, last_start, last_seq);
            if (round_id) {
                pthread_mutex_lock(&udpif->rv_round_mutex);
                rv_round_begin(udpif, r, time_msec(), false);
                rv_round_after_change(udpif, r, last_seq);
                last_start = r->now;
                last_seq = r->change_seq;
                udpif->rv_round_deleted = 0;
            } else {
                r->exit = true;
            }
        }
        pthread_barrier_wait(&udpif->rv_barrier);
        if (r->exit) {
            break;
        }
        rv->n_deleted_round = 0;
        rv_dump_phase(rv);
        pthread_barrier_wait(&udpif->rv_barrier);
        for (unsigned int p = rv->id; p < UKEY_N_PARTITIONS; p += n) {
            rv_sweep_partition(rv, p);
        }
        atomic_fetch_add_relaxed(&udpif->rv_round_deleted,
                                 rv->n_deleted_round);
        pthread_barrier_wait(&udpif->rv_barrier);
        if (leader) {
            rv_round_end(udpif, r,
                         atomic_load_relaxed(&udpif->rv_round_deleted));
            pthread_mutex_unlock(&udpif->rv_round_mutex);
            ofproto_cache_synced(udpif->ofproto, r->change_seq);
            pthread_mutex_lock(&udpif->rv_mutex);
            udpif->rounds_done = round_id;
            pthread_cond_broadcast(&udpif->rv_cond);
            pthread_mutex_unlock(&udpif->rv_mutex);
        }
    }
    rcu_thread_unregister();
    return NULL;
}

static unsigned int
rv_default_n(void)
{
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);

    return n_cpus >= 8 ? (unsigned int)(n_cpus / 4) : 1;
}

void
revalidator_init(struct udpif *udpif, const struct upcall_config *cfg)
{
    udpif->max_idle = cfg->max_idle;
    udpif->max_revalidator = cfg->max_revalidator;
    udpif->min_revalidate_pps = cfg->min_revalidate_pps;
    udpif->dump_duration_override = UINT64_MAX;
    udpif->flow_sample_interval = REVALIDATOR_FLOW_SAMPLE_MS;
    pthread_mutex_init(&udpif->rv_round_mutex, NULL);
    pthread_mutex_init(&udpif->rv_mutex, NULL);
    pthread_mutex_init(&udpif->rv_set_mutex, NULL);
    cond_init_monotonic(&udpif->rv_cond);
    seq_watch(ofproto_change_seq(udpif->ofproto), &udpif->rv_tables_watch,
              &udpif->rv_mutex, &udpif->rv_cond);
    dp_set_flow_flush_cb(udpif->dp, rv_flows_flushed, udpif);
    if (!udpif->manual) {
        ofproto_cache_attach(udpif->ofproto);
    }
}

/* Creates 'n' contexts (0: the default count) and, unless manual, their
 * threads. */
void
revalidator_start(struct udpif *udpif, unsigned int n)
{
    struct revalidator **rvs;

    n = n ? n : rv_default_n();
    rvs = xcalloc(n, sizeof *rvs);
    for (unsigned int i = 0; i < n; i++) {
        rvs[i] = rv_context_create(udpif, i, &udpif->round);
    }
    pthread_mutex_lock(&udpif->rv_set_mutex);
    udpif->revalidators = rvs;
    atomic_store_relaxed(&udpif->n_revalidators, n);
    pthread_mutex_unlock(&udpif->rv_set_mutex);
    if (udpif->manual) {
        return;
    }

    pthread_barrier_init(&udpif->rv_barrier, NULL, n);
    pthread_mutex_lock(&udpif->rv_mutex);
    udpif->rv_stop = false;
    pthread_mutex_unlock(&udpif->rv_mutex);
    for (unsigned int i = 0; i < n; i++) {
        int error =
            pthread_create(&rvs[i]->thread, NULL, revalidator_main, rvs[i]);

        char tname[16];

        if (error) {
            VLOG_ERR("%s: cannot start revalidator %u (%s)", udpif->name, i,
                     strerror(error));
            abort();
        }
        snprintf(tname, sizeof tname, "revalidator%u", i % 100u);
        pthread_setname_np(rvs[i]->thread, tname);
    }
}

/* Stops the threads (the round in progress ends first) and frees the
 * contexts. */
static void
rv_stop_threads(struct udpif *udpif)
{
    unsigned int n = atomic_load_relaxed(&udpif->n_revalidators);
    struct revalidator **rvs = udpif->revalidators;

    if (!udpif->manual) {
        pthread_mutex_lock(&udpif->rv_mutex);
        udpif->rv_stop = true;
        pthread_cond_broadcast(&udpif->rv_cond);
        pthread_mutex_unlock(&udpif->rv_mutex);
        for (unsigned int i = 0; i < n; i++) {
            pthread_join(rvs[i]->thread, NULL);
        }
        pthread_barrier_destroy(&udpif->rv_barrier);
    }
    pthread_mutex_lock(&udpif->rv_set_mutex);
    udpif->revalidators = NULL;
    atomic_store_relaxed(&udpif->n_revalidators, 0);
    pthread_mutex_unlock(&udpif->rv_set_mutex);
    for (unsigned int i = 0; i < n; i++) {
        rv_context_destroy(rvs[i]);
    }
    free(rvs);
}

void
revalidator_stop(struct udpif *udpif)
{
    rv_stop_threads(udpif);
    pthread_mutex_lock(&udpif->rv_mutex);
    udpif->rv_destroying = true;
    pthread_cond_broadcast(&udpif->rv_cond);
    pthread_mutex_unlock(&udpif->rv_mutex);
}

void
revalidator_destroy(struct udpif *udpif)
{
    dp_set_flow_flush_cb(udpif->dp, NULL, NULL);
    rv_purge_now(udpif);
    if (!udpif->manual) {
        /* No flow is left: every change is in force; barriers that wait
         * are answered. */
        ofproto_cache_detach(udpif->ofproto);
    }
    seq_unwatch(ofproto_change_seq(udpif->ofproto), &udpif->rv_tables_watch);
    pthread_cond_destroy(&udpif->rv_cond);
    pthread_mutex_destroy(&udpif->rv_mutex);
    pthread_mutex_destroy(&udpif->rv_round_mutex);
    pthread_mutex_destroy(&udpif->rv_set_mutex);
}

/* ---- API ---------------------------------------------------------------- */

int
upcall_set_n_revalidators(struct udpif *udpif, unsigned int n)
{
    if (!n || n > UPCALL_MAX_REVALIDATORS) {
        return EINVAL;
    }
    if (n == atomic_load_relaxed(&udpif->n_revalidators)) {
        return 0;
    }
    rv_stop_threads(udpif);
    revalidator_start(udpif, n);
    VLOG_INFO("%s: %u revalidators", udpif->name, n);
    return 0;
}

/* Wakes the leader so that it looks at its pacing again. */
static void
rv_kick(struct udpif *udpif)
{
    pthread_mutex_lock(&udpif->rv_mutex);
    pthread_cond_broadcast(&udpif->rv_cond);
    pthread_mutex_unlock(&udpif->rv_mutex);
}

unsigned int
upcall_n_revalidators(const struct udpif *udpif)
{
    return atomic_load_relaxed(&udpif->n_revalidators);
}

void
upcall_set_max_idle(struct udpif *udpif, uint64_t msec)
{
    atomic_store_relaxed(&udpif->max_idle, msec);
    rv_kick(udpif);
}

void
upcall_set_max_revalidator(struct udpif *udpif, uint64_t msec)
{
    atomic_store_relaxed(&udpif->max_revalidator, msec);
    rv_kick(udpif);
}

void
upcall_set_min_revalidate_pps(struct udpif *udpif, unsigned int pps)
{
    atomic_store_relaxed(&udpif->min_revalidate_pps, pps);
}

void
upcall_revalidator_wait(struct udpif *udpif)
{
    uint64_t target;

    if (udpif->manual) {
        return;
    }
    pthread_mutex_lock(&udpif->rv_mutex);
    target = udpif->rounds_started;
    udpif->rv_wake = true;
    pthread_cond_broadcast(&udpif->rv_cond);
    while (udpif->rounds_done <= target && !udpif->rv_destroying) {
        pthread_cond_wait(&udpif->rv_cond, &udpif->rv_mutex);
    }
    pthread_mutex_unlock(&udpif->rv_mutex);
}

void
upcall_purge(struct udpif *udpif)
{
    bool destroying;

    pthread_mutex_lock(&udpif->rv_mutex);
    destroying = udpif->rv_destroying;
    pthread_mutex_unlock(&udpif->rv_mutex);
    if (!destroying) {
        /* Between two rounds: 'rv_round_mutex' keeps the leader out. */
        rv_purge_now(udpif);
    }
}

void
upcall_revalidators_pause(struct udpif *udpif)
{
    if (udpif->manual) {
        return;
    }
    pthread_mutex_lock(&udpif->rv_mutex);
    udpif->rv_operator_pause = true;
    pthread_cond_broadcast(&udpif->rv_cond);
    while (!udpif->rv_paused && !udpif->rv_destroying) {
        pthread_cond_wait(&udpif->rv_cond, &udpif->rv_mutex);
    }
    pthread_mutex_unlock(&udpif->rv_mutex);
}

void
upcall_revalidators_resume(struct udpif *udpif)
{
    pthread_mutex_lock(&udpif->rv_mutex);
    udpif->rv_operator_pause = false;
    pthread_cond_broadcast(&udpif->rv_cond);
    pthread_mutex_unlock(&udpif->rv_mutex);
}

void
upcall_revalidate(struct udpif *udpif, uint64_t now)
{
    if (!udpif->manual) {
        return;
    }
    pthread_mutex_lock(&udpif->rv_round_mutex);
    rv_round_run_alone(udpif->revalidators[0], now, false);
    pthread_mutex_unlock(&udpif->rv_round_mutex);
}

void
upcall_set_dump_duration_override(struct udpif *udpif, uint64_t msec)
{
    atomic_store_relaxed(&udpif->dump_duration_override, msec);
}

void
upcall_set_flow_sample_interval(struct udpif *udpif, uint64_t msec)
{
    atomic_store_relaxed(&udpif->flow_sample_interval, msec);
}

/* The consistency checker; also counts the flows checked. */
static size_t
rv_check(struct udpif *udpif, struct ds *out, size_t *n_checked)
{
    struct dp_flow_info *infos = xcalloc(REVALIDATOR_BATCH, sizeof *infos);
    struct dp_flow_dump *dump = dp_flow_dump_create(udpif->dp);
    uint64_t now = time_msec();
    size_t n, n_stale = 0;

    *n_checked = 0;
    while ((n = dp_flow_dump_next(dump, infos, REVALIDATOR_BATCH))) {
        for (size_t i = 0; i < n; i++) {
            const struct dp_flow_info *info = &infos[i];
            struct dp_actions *actions;
            struct flow_wildcards wc;
            bool mask_ok, actions_ok;

            rv_translate(udpif, &info->match.flow, false, NULL, now, &actions,
                         &wc);
            mask_ok = flow_wildcards_covers(&info->match.wc, &wc);
            actions_ok = dp_actions_equal(info->actions, actions);
            if (!mask_ok || !actions_ok) {
                n_stale++;
                ds_put_format(out, "%s: stale flow ", udpif->name);
                dp_flow_format_match(&info->match, out);
                ds_put_cstr(out, " actions:");
                dp_actions_format(info->actions, out);
                if (!actions_ok) {
                    ds_put_cstr(out, " (translation gives ");
                    dp_actions_format(actions, out);
                    ds_put_cstr(out, ")");
                }
                if (!mask_ok) {
                    ds_put_cstr(out, " (installed mask too wide)");
                }
                ds_put_char(out, '\n');
            }
            dp_actions_unref(actions);
            dp_flow_info_uninit(&infos[i]);
            (*n_checked)++;
        }
    }
    dp_flow_dump_destroy(dump);
    free(infos);
    return n_stale;
}

size_t
upcall_check_consistency(struct udpif *udpif, struct ds *out)
{
    size_t n_checked;

    return rv_check(udpif, out, &n_checked);
}

void
upcall_get_revalidator_stats(struct udpif *udpif,
                             struct upcall_revalidator_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    stats->n_rounds = atomic_load_relaxed(&udpif->n_rounds);
    stats->last_dump_duration =
        atomic_load_relaxed(&udpif->last_dump_duration);
    stats->last_round_usec = atomic_load_relaxed(&udpif->last_round_usec);
    stats->n_modified = atomic_load_relaxed(&udpif->retired.n_modified);
    for (size_t i = 0; i < UPCALL_N_DEL_REASONS; i++) {
        stats->n_deleted[i] =
            atomic_load_relaxed(&udpif->retired.n_deleted[i]);
    }
    pthread_mutex_lock(&udpif->rv_set_mutex);
    for (unsigned int r = 0; r < atomic_load_relaxed(&udpif->n_revalidators);
         r++) {
        const struct revalidator *rv = udpif->revalidators[r];

        stats->n_modified += atomic_load_relaxed(&rv->counters.n_modified);
        for (size_t i = 0; i < UPCALL_N_DEL_REASONS; i++) {
            stats->n_deleted[i] +=
                atomic_load_relaxed(&rv->counters.n_deleted[i]);
        }
    }
    pthread_mutex_unlock(&udpif->rv_set_mutex);
    for (size_t i = 0; i < UPCALL_N_DEL_REASONS; i++) {
        stats->n_deleted_total += stats->n_deleted[i];
    }
    stats->n_ukeys = ukey_map_count(udpif->ukeys);
}

/* The revalidator part of upcall/show: Open vSwitch's lines, then ours. */
void
revalidator_show(struct udpif *udpif, struct ds *out)
{
    struct upcall_revalidator_stats st;
    unsigned int n;

    upcall_get_revalidator_stats(udpif, &st);
    ds_put_format(out, "  dump duration : %llums\n",
                  (unsigned long long)st.last_dump_duration);
    ds_put_cstr(out, "  ufid enabled : true\n\n");
    pthread_mutex_lock(&udpif->rv_set_mutex);
    n = atomic_load_relaxed(&udpif->n_revalidators);
    for (unsigned int i = 0; i < n; i++) {
        size_t keys = 0;

        for (unsigned int p = i; p < UKEY_N_PARTITIONS; p += n) {
            keys += ukey_map_partition_count(udpif->ukeys, p);
        }
        ds_put_format(out, "  %u: (keys %zu)\n", i, keys);
    }
    pthread_mutex_unlock(&udpif->rv_set_mutex);
    ds_put_format(out,
                  "  revalidations : (rounds %llu) (modified %llu) "
                  "(deleted %llu)\n",
                  (unsigned long long)st.n_rounds,
                  (unsigned long long)st.n_modified,
                  (unsigned long long)st.n_deleted_total);
    ds_put_cstr(out, "  deleted by reason :");
    for (size_t i = 0; i < UPCALL_N_DEL_REASONS; i++) {
        ds_put_format(out, " (%s %llu)", upcall_del_reason_to_string(i),
                      (unsigned long long)st.n_deleted[i]);
    }
    ds_put_char(out, '\n');
    ds_put_format(
        out,
        "  revalidator knobs : (max-idle %llums) "
        "(max-revalidator %llums) (min-revalidate-pps %u)\n",
        (unsigned long long)atomic_load_relaxed(&udpif->max_idle),
        (unsigned long long)atomic_load_relaxed(&udpif->max_revalidator),
        atomic_load_relaxed(&udpif->min_revalidate_pps));
}

/* ---- Control commands --------------------------------------------------- */

enum rv_command {
    RV_CMD_WAIT,
    RV_CMD_PURGE,
    RV_CMD_PAUSE,
    RV_CMD_CHECK,
    RV_CMD_ENABLE_MEGAFLOWS,  /* upcall/enable-megaflows (it purges). */
    RV_CMD_DISABLE_MEGAFLOWS, /* upcall/disable-megaflows. */
};

struct rv_worker {
    struct control_conn *conn;
    enum rv_command cmd;
};

/* Runs a command that blocks, or that needs a thread registered with
 * liburcu, in a thread of its own: the control thread never waits for a
 * revalidator round. */
static void *
rv_worker_main(void *w_)
{
    struct rv_worker *w = w_;
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t n_udpifs, n_stale = 0, n_checked = 0;
    struct udpif **udpifs;

    rcu_thread_register();
    udpifs = upcall_acquire_all(&n_udpifs);
    for (size_t i = 0; i < n_udpifs; i++) {
        struct udpif *udpif = udpifs[i];
        size_t n;

        switch (w->cmd) {
        case RV_CMD_WAIT:
            upcall_revalidator_wait(udpif);
            break;
        case RV_CMD_PURGE:
            upcall_purge(udpif);
            break;
        case RV_CMD_PAUSE:
            upcall_revalidators_pause(udpif);
            break;
        case RV_CMD_CHECK:
            n_stale += rv_check(udpif, &s, &n);
            n_checked += n;
            break;
        case RV_CMD_ENABLE_MEGAFLOWS:
        case RV_CMD_DISABLE_MEGAFLOWS:
            upcall_set_megaflows(udpif, w->cmd == RV_CMD_ENABLE_MEGAFLOWS);
            break;
        }
    }
    if (w->cmd == RV_CMD_ENABLE_MEGAFLOWS) {
        control_reply(w->conn, "megaflows enabled\n");
    } else if (w->cmd == RV_CMD_DISABLE_MEGAFLOWS) {
        control_reply(w->conn, "megaflows disabled\n");
    } else if (w->cmd != RV_CMD_CHECK) {
        control_reply(w->conn, "");
    } else if (!n_stale) {
        ds_put_format(&s, "consistent: %zu flows checked\n", n_checked);
        control_reply(w->conn, ds_cstr(&s));
    } else {
        struct ds e = DS_EMPTY_INITIALIZER;

        ds_put_format(&e, "inconsistent: %zu of %zu flows stale\n", n_stale,
                      n_checked);
        ds_put_cstr(&e, ds_cstr(&s));
        control_reply_error(w->conn, ds_cstr(&e));
        ds_destroy(&e);
    }
    upcall_release_all(udpifs, n_udpifs);
    ds_destroy(&s);
    free(w);
    rcu_thread_unregister();
    return NULL;
}

static void
rv_cmd_worker(struct control_conn *conn, int argc, const char *argv[],
              void *aux)
{
    struct rv_worker *w = xzalloc(sizeof *w);
    pthread_attr_t attr;
    pthread_t thread;
    int error;

    (void)argc;
    w->conn = conn;
    w->cmd = *(const enum rv_command *)aux;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    error = pthread_create(&thread, &attr, rv_worker_main, w);
    pthread_attr_destroy(&attr);
    if (error) {
        struct ds s = DS_EMPTY_INITIALIZER;

        COVERAGE_INC(revalidator_worker_failed);
        ds_put_format(&s, "%s: cannot start a worker thread (%s)\n", argv[0],
                      strerror(error));
        control_reply_error(conn, ds_cstr(&s));
        ds_destroy(&s);
        free(w);
    }
}

static void
rv_cmd_resume(struct control_conn *conn, int argc, const char *argv[],
              void *aux)
{
    size_t n_udpifs;
    struct udpif **udpifs = upcall_acquire_all(&n_udpifs);

    (void)argc, (void)argv, (void)aux;
    for (size_t i = 0; i < n_udpifs; i++) {
        upcall_revalidators_resume(udpifs[i]);
    }
    upcall_release_all(udpifs, n_udpifs);
    control_reply(conn, "");
}

/* The run-time knobs: revalidator/set-max-idle MS,
 * revalidator/set-max-revalidator MS, revalidator/set-min-revalidate-pps
 * N.  Values as the start-up options take them. */
#define RV_KNOB_MAX_MSEC 86400000 /* One day. */

enum rv_knob {
    RV_KNOB_MAX_IDLE,
    RV_KNOB_MAX_REVALIDATOR,
    RV_KNOB_MIN_REVALIDATE_PPS,
};

static void
rv_cmd_set_knob(struct control_conn *conn, int argc, const char *argv[],
                void *aux)
{
    enum rv_knob knob = *(const enum rv_knob *)aux;
    struct ds s = DS_EMPTY_INITIALIZER;
    unsigned long long value;
    struct udpif **udpifs;
    size_t n_udpifs;
    char *end;

    (void)argc;
    errno = 0;
    value = strtoull(argv[1], &end, 10);
    /* The ranges of flowswitchd's start-up options. */
    if (errno || *end || end == argv[1] || argv[1][0] == '-'
        || (knob == RV_KNOB_MIN_REVALIDATE_PPS
                ? value > UINT32_MAX
                : !value || value > RV_KNOB_MAX_MSEC)) {
        ds_put_format(&s, "%s: bad value \"%s\" (expected %s)\n", argv[0],
                      argv[1],
                      knob == RV_KNOB_MIN_REVALIDATE_PPS
                          ? "packets per second, 0 to 4294967295"
                          : "milliseconds, 1 to 86400000");
        control_reply_error(conn, ds_cstr(&s));
        ds_destroy(&s);
        return;
    }
    udpifs = upcall_acquire_all(&n_udpifs);
    for (size_t i = 0; i < n_udpifs; i++) {
        switch (knob) {
        case RV_KNOB_MAX_IDLE:
            upcall_set_max_idle(udpifs[i], value);
            break;
        case RV_KNOB_MAX_REVALIDATOR:
            upcall_set_max_revalidator(udpifs[i], value);
            break;
        case RV_KNOB_MIN_REVALIDATE_PPS:
            upcall_set_min_revalidate_pps(udpifs[i], (unsigned int)value);
            break;
        }
        ds_put_format(&s, "%s: %s now %llu\n", udpifs[i]->name,
                      argv[0] + strlen("revalidator/set-"), value);
    }
    upcall_release_all(udpifs, n_udpifs);
    control_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
revalidator_register_commands(void)
{
    static const enum rv_knob max_idle = RV_KNOB_MAX_IDLE,
                              max_reval = RV_KNOB_MAX_REVALIDATOR,
                              min_pps = RV_KNOB_MIN_REVALIDATE_PPS;

    static const enum rv_command wait = RV_CMD_WAIT, purge = RV_CMD_PURGE,
                                 pause = RV_CMD_PAUSE, check = RV_CMD_CHECK,
                                 mf_on = RV_CMD_ENABLE_MEGAFLOWS,
                                 mf_off = RV_CMD_DISABLE_MEGAFLOWS;

    control_command_register("revalidator/wait", "", 0, 0, rv_cmd_worker,
                             (void *)&wait);
    control_command_register("revalidator/purge", "", 0, 0, rv_cmd_worker,
                             (void *)&purge);
    control_command_register("revalidator/pause", "", 0, 0, rv_cmd_worker,
                             (void *)&pause);
    control_command_register("revalidator/resume", "", 0, 0, rv_cmd_resume,
                             NULL);
    control_command_register("revalidator/check", "", 0, 0, rv_cmd_worker,
                             (void *)&check);
    control_command_register("upcall/enable-megaflows", "", 0, 0,
                             rv_cmd_worker, (void *)&mf_on);
    control_command_register("upcall/disable-megaflows", "", 0, 0,
                             rv_cmd_worker, (void *)&mf_off);
    control_command_register("revalidator/set-max-idle", "MS", 1, 1,
                             rv_cmd_set_knob, (void *)&max_idle);
    control_command_register("revalidator/set-max-revalidator", "MS", 1, 1,
                             rv_cmd_set_knob, (void *)&max_reval);
    control_command_register("revalidator/set-min-revalidate-pps", "N", 1, 1,
                             rv_cmd_set_knob, (void *)&min_pps);
}
