/* datapath/dp-drain.c — draining flows: the cohorts that decide when a
 * newly installed flow may run its actions in the datapath (datapath.h,
 * "Order").
 *
 * A flow put with DP_FLOW_PUT_DRAIN joins the open cohort.  The next
 * dp_drain_advance() closes that cohort and walks every cohort through
 *
 *   PMDS    a snapshot of each datapath thread's iteration counter; passed
 *           for a thread once the counter has moved on or the thread is
 *           asleep: every lookup that ran before the flows were published
 *           has queued its miss;
 *   QUEUES  a snapshot of each upcall queue's head; passed once every
 *           queue's 'done' has reached it: those misses were executed;
 *   FLIP    each flow is flipped with a compare-and-swap from "draining,
 *           no DRAIN upcall outstanding" to 0; a flow whose DRAIN upcalls
 *           are still out stays for the next advance.
 *
 * The snapshots read the counters with read-modify-writes (fetch-add 0),
 * which synchronize with the threads' own RMWs: what a thread did before
 * moving its counter (queueing its misses) happens before what this file
 * does after seeing it moved.  The flows were published (dpcls_insert
 * under flow_mutex, whose unlock releases) before the cohort closed, so a
 * thread that starts an iteration after the snapshot sees them.
 *
 * Each cohort holds a reference on its flows; a flow deleted meanwhile is
 * flipped like the others (nobody looks at it any more) and let go.
 *
 * Thread safety: everything under 'drain_mutex'; dp_drain_add() is called
 * with flow_mutex held (drain_mutex nests inside it); dp_drain_release()
 * takes no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/dp-private.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/list.h"
#include "lib/util.h"

COVERAGE_DEFINE(dp_drain_flip);

enum dp_drain_stage {
    DP_DRAIN_OPEN,
    DP_DRAIN_PMDS,
    DP_DRAIN_QUEUES,
    DP_DRAIN_FLIP,
};

/* A pmd snapshot value that means "passed already" (it was asleep). */
#define DP_DRAIN_PASSED UINT64_MAX

struct dp_drain_cohort {
    struct list node; /* In dp->drain_cohorts. */
    enum dp_drain_stage stage;
    struct dp_flow **flows; /* References. */
    size_t n_flows, allocated_flows;
    uint64_t *snap; /* PMDS: per thread; QUEUES: per queue. */
    size_t n_snap;
};

void
dp_drain_init(struct dp *dp)
{
    pthread_mutex_init(&dp->drain_mutex, NULL);
    list_init(&dp->drain_cohorts);
    dp->drain_open = NULL;
    dp->n_draining = 0;
}

static void
dp_drain_cohort_free(struct dp_drain_cohort *c)
{
    free(c->flows);
    free(c->snap);
    free(c);
}

/* Flips 'flow' if nothing of it is outstanding; true if it is done with
 * (flipped now). */
static bool
dp_drain_try_flip(struct dp *dp, struct dp_flow *flow)
{
    uint32_t expected = DP_FLOW_DRAINING;

    if (!atomic_cas_acq_rel(&flow->drain, &expected, 0)) {
        return false;
    }
    atomic_fetch_sub_relaxed(&dp->n_draining, 1);
    atomic_fetch_add_relaxed(&dp->shared_counters[DP_C_DRAIN_FLIP], 1);
    COVERAGE_INC(dp_drain_flip);
    dp_flow_unref(flow);
    return true;
}

void
dp_drain_destroy(struct dp *dp)
{
    struct dp_drain_cohort *c;

    pthread_mutex_lock(&dp->drain_mutex);
    LIST_FOR_EACH_SAFE (c, node, &dp->drain_cohorts) {
        for (size_t i = 0; i < c->n_flows; i++) {
            /* No thread runs: nothing can be outstanding. */
            atomic_store_relaxed(&c->flows[i]->drain, 0);
            atomic_fetch_sub_relaxed(&dp->n_draining, 1);
            dp_flow_unref(c->flows[i]);
        }
        dp_drain_cohort_free(c);
    }
    list_init(&dp->drain_cohorts);
    dp->drain_open = NULL;
    pthread_mutex_unlock(&dp->drain_mutex);
    pthread_mutex_destroy(&dp->drain_mutex);
}

void
dp_drain_add(struct dp *dp, struct dp_flow *flow)
{
    struct dp_drain_cohort *c;

    pthread_mutex_lock(&dp->drain_mutex);
    c = dp->drain_open;
    if (!c) {
        c = xzalloc(sizeof *c);
        c->stage = DP_DRAIN_OPEN;
        list_push_back(&dp->drain_cohorts, &c->node);
        dp->drain_open = c;
    }
    c->flows =
        xgrow(c->flows, &c->allocated_flows, c->n_flows + 1, sizeof *c->flows);
    dp_flow_ref(flow);
    c->flows[c->n_flows++] = flow;
    atomic_fetch_add_relaxed(&dp->n_draining, 1);
    pthread_mutex_unlock(&dp->drain_mutex);
}

void
dp_drain_release(struct dp_flow *flow)
{
    atomic_fetch_sub_release(&flow->drain, 1);
    dp_flow_unref(flow);
}

/* ---- Stages ------------------------------------------------------------- */

static void
dp_drain_snap_resize(struct dp_drain_cohort *c, size_t n)
{
    free(c->snap);
    c->snap = n ? xmalloc(n * sizeof *c->snap) : NULL;
    c->n_snap = n;
}

static void
dp_drain_snap_pmds(struct dp *dp, struct dp_drain_cohort *c)
{
    dp_drain_snap_resize(c, dp->n_pmds);
    for (unsigned int i = 0; i < dp->n_pmds; i++) {
        struct dp_pmd *pmd = dp->pmds[i];
        uint64_t seq = atomic_fetch_add_seq_cst(&pmd->drain_seq, 0);

        c->snap[i] =
            atomic_fetch_or_seq_cst(&pmd->asleep, 0) ? DP_DRAIN_PASSED : seq;
    }
    c->stage = DP_DRAIN_PMDS;
}

static bool
dp_drain_pmds_passed(struct dp *dp, struct dp_drain_cohort *c)
{
    for (size_t i = 0; i < c->n_snap; i++) {
        struct dp_pmd *pmd = dp->pmds[i];

        if (c->snap[i] == DP_DRAIN_PASSED) {
            continue;
        }
        if (atomic_fetch_add_seq_cst(&pmd->drain_seq, 0) != c->snap[i]
            || atomic_fetch_or_seq_cst(&pmd->asleep, 0)) {
            c->snap[i] = DP_DRAIN_PASSED;
            continue;
        }
        return false;
    }
    return true;
}

static void
dp_drain_snap_queues(struct dp *dp, struct dp_drain_cohort *c)
{
    dp_drain_snap_resize(c, dp->n_handlers);
    for (unsigned int i = 0; i < dp->n_handlers; i++) {
        c->snap[i] = dp_uqueue_head(dp->queues[i]);
    }
    c->stage = DP_DRAIN_QUEUES;
}

static bool
dp_drain_queues_passed(struct dp *dp, const struct dp_drain_cohort *c)
{
    for (size_t i = 0; i < c->n_snap && i < dp->n_handlers; i++) {
        if (dp_uqueue_done(dp->queues[i]) < c->snap[i]) {
            return false;
        }
    }
    return true;
}

/* Flips what it can; true when the cohort is empty. */
static bool
dp_drain_flip_cohort(struct dp *dp, struct dp_drain_cohort *c)
{
    size_t kept = 0;

    for (size_t i = 0; i < c->n_flows; i++) {
        if (!dp_drain_try_flip(dp, c->flows[i])) {
            c->flows[kept++] = c->flows[i];
        }
    }
    c->n_flows = kept;
    return !kept;
}

uint64_t
dp_drain_advance(struct dp *dp, bool wait)
{
    struct dp_drain_cohort *c;

    if (wait) {
        pthread_mutex_lock(&dp->drain_mutex);
    } else if (pthread_mutex_trylock(&dp->drain_mutex)) {
        return atomic_load_relaxed(&dp->n_draining);
    }

    if (dp->drain_open) {
        dp_drain_snap_pmds(dp, dp->drain_open);
        dp->drain_open = NULL;
    }
    LIST_FOR_EACH_SAFE (c, node, &dp->drain_cohorts) {
        if (c->stage == DP_DRAIN_PMDS && dp_drain_pmds_passed(dp, c)) {
            dp_drain_snap_queues(dp, c);
        }
        if (c->stage == DP_DRAIN_QUEUES && dp_drain_queues_passed(dp, c)) {
            c->stage = DP_DRAIN_FLIP;
        }
        if (c->stage == DP_DRAIN_FLIP && dp_drain_flip_cohort(dp, c)) {
            list_remove(&c->node);
            dp_drain_cohort_free(c);
        }
    }
    pthread_mutex_unlock(&dp->drain_mutex);
    return atomic_load_relaxed(&dp->n_draining);
}

void
dp_drain_queues_changed(struct dp *dp)
{
    struct dp_drain_cohort *c;

    LIST_FOR_EACH (c, node, &dp->drain_cohorts) {
        if (c->stage == DP_DRAIN_QUEUES) {
            /* The upcalls behind the old snapshot moved to the new
             * queues, in order: wait for those instead. */
            dp_drain_snap_queues(dp, c);
        }
    }
}
