/*
 * openflow/ofmgr-barrier.c — BARRIER_REQUEST answered once the changes
 * before it are in force for cached flows too (ofmgr.h "Barriers",
 * ofproto.h "Cache sync").
 *
 * A barrier reads the bridge's change sequence: every flow-mod the
 * connection sent before it has been applied by then (messages are
 * handled in order) and moved that sequence on.  If the flow cache is in
 * sync with it already, the reply goes at once.  Otherwise the connection
 * parks: the reply waits, and so does every message after the barrier
 * (OpenFlow 1.3 §6.2: nothing beyond a barrier runs before the barrier is
 * done); the I/O thread stops reading the socket and goes on serving
 * every other connection.  The bridge calls the manager's cache watcher
 * at the end of each revalidator round, which wakes the I/O thread; each
 * turn of its loop answers the parked barriers whose sequence is in sync
 * and handles what their connections had sent after them.  A connection
 * the peer closes while it waits simply takes its barrier with it.  At
 * daemon shutdown the cache is detached first (its flows are purged), so
 * every waiting barrier is in sync; ofmgr_destroy() answers those the
 * thread had no turn left to answer before it flushes and closes.
 *
 * Everything here runs in the I/O thread (or in ofmgr_destroy() once
 * it has ended), except ofmgr_barrier_notify(), which only wakes it.
 */
#include "lib/coverage.h"
#include "lib/util.h"
#include "ofproto/ofproto.h"
#include "openflow/ofmgr-private.h"
#include "openflow/ofp-private.h"

COVERAGE_DEFINE(ofconn_barrier_deferred);

static void
ofconn_send_barrier_reply(struct ofconn *c, uint32_t xid)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;

    ofp_msg_start(&b, OFPT_BARRIER_REPLY, xid);
    ofp_msg_finish(&b);
    ofconn_send(c, &b);
    ofpbuf_uninit(&b);
}

int
ofconn_barrier_request(struct ofconn *c, const uint8_t *msg, size_t len)
{
    uint64_t target;

    if (len != OFP_HEADER_LEN) {
        return OFPERR_BAD_LEN;
    }
    target = ofproto_get_change_seq(c->mgr->ofproto);
    if (ofproto_cache_is_synced(c->mgr->ofproto, target)) {
        ofconn_send_barrier_reply(c, ofp_get32(msg + 4));
    } else {
        COVERAGE_INC(ofconn_barrier_deferred);
        c->barrier_waiting = true;
        c->barrier_xid = ofp_get32(msg + 4);
        c->barrier_target = target;
    }
    return 0;
}

bool
ofconn_barrier_waiting(const struct ofconn *c)
{
    return c->barrier_waiting;
}

bool
ofconn_barrier_try_answer(struct ofconn *c)
{
    if (!c->barrier_waiting
        || !ofproto_cache_is_synced(c->mgr->ofproto, c->barrier_target)) {
        return false;
    }
    c->barrier_waiting = false;
    ofconn_send_barrier_reply(c, c->barrier_xid);
    return true;
}

void
ofmgr_barriers_run(struct ofconn **conns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (conns[i] && ofconn_barrier_try_answer(conns[i])) {
            /* What came after the barrier (it may park again). */
            ofconn_handle_rx(conns[i]);
        }
    }
}

static void
ofmgr_barrier_notify(void *mgr)
{
    ofmgr_wake(mgr);
}

void
ofmgr_barrier_watch(struct ofmgr *mgr)
{
    ofproto_cache_watch(mgr->ofproto, &mgr->cache_watcher,
                        ofmgr_barrier_notify, mgr);
}

void
ofmgr_barrier_unwatch(struct ofmgr *mgr)
{
    ofproto_cache_unwatch(mgr->ofproto, &mgr->cache_watcher);
}
