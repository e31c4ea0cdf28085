/* upcall/upcall.c — see upcall.h. */
#include "upcall/upcall.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier/classifier.h"
#include "control/control.h"
#include "datapath/datapath.h"
#include "datapath/dp-actions.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "packet/packet.h"
#include "upcall/ukey.h"
#include "upcall/upcall-private.h"

VLOG_DEFINE_THIS_MODULE(upcall);

COVERAGE_DEFINE(handler_upcalls);
COVERAGE_DEFINE(handler_duplicate_upcall);
COVERAGE_DEFINE(handler_batch_duplicate);
COVERAGE_DEFINE(upcall_ukey_replace);
COVERAGE_DEFINE(upcall_controller_no_connection);
COVERAGE_DEFINE(upcall_malformed);
COVERAGE_DEFINE(upcall_slow_path);
COVERAGE_DEFINE(upcall_slow_path_no_install);
COVERAGE_DEFINE(upcall_flow_limit_hit);
COVERAGE_DEFINE(upcall_no_bridge_port);
COVERAGE_DEFINE(upcall_xlate_error);
COVERAGE_DEFINE(upcall_put_failed);
COVERAGE_DEFINE(upcall_flow_put);
COVERAGE_DEFINE(upcall_execute_failed);
COVERAGE_DEFINE(upcall_dropped_on_destroy);
COVERAGE_DEFINE(upcall_drain_executed);

static struct vlog_rate_limit upcall_rl = VLOG_RATE_LIMIT_INIT(5, 5);

/* Every udpif, for the control commands.  'udpifs_mutex' also keeps a
 * udpif's handler set still while a command reads it. */
static pthread_mutex_t udpifs_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct udpif **udpifs;
static size_t n_udpifs, allocated_udpifs;
static pthread_cond_t udpifs_cond = PTHREAD_COND_INITIALIZER; /* n_workers */
static pthread_once_t upcall_commands_once = PTHREAD_ONCE_INIT;

static void upcall_register_commands(void);

void
upcall_config_init(struct upcall_config *cfg)
{
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);

    memset(cfg, 0, sizeof *cfg);
    cfg->n_handlers = n_cpus > 0 ? (unsigned int)n_cpus : 1;
    cfg->mode = UPCALL_MODE_AUTO;
    cfg->max_flow_limit = UPCALL_DEFAULT_MAX_FLOW_LIMIT;
    cfg->flow_limit = MIN(UPCALL_DEFAULT_FLOW_LIMIT, cfg->max_flow_limit);
    cfg->megaflows = true;
    cfg->governor = GOVERNOR_AUTO;
    cfg->n_revalidators = 0;
    cfg->max_idle = UPCALL_DEFAULT_MAX_IDLE;
    cfg->max_revalidator = UPCALL_DEFAULT_MAX_REVALIDATOR;
    cfg->min_revalidate_pps = UPCALL_DEFAULT_MIN_REVALIDATE_PPS;
}

const char *
upcall_mode_to_string(enum upcall_mode mode)
{
    return mode == UPCALL_MODE_THREADS ? "threads" : "auto";
}

bool
upcall_mode_from_string(const char *s, enum upcall_mode *mode)
{
    if (!strcmp(s, "auto")) {
        *mode = UPCALL_MODE_AUTO;
    } else if (!strcmp(s, "threads")) {
        *mode = UPCALL_MODE_THREADS;
    } else {
        return false;
    }
    return true;
}

/* The single userspace() action of a slow-pathed flow. */
struct dp_actions *
upcall_slow_path_actions(uint32_t reasons)
{
    struct upcall_slow_cookie cookie;
    struct dp_action_buf buf;
    struct dp_actions *actions;

    memset(&cookie, 0, sizeof cookie);
    cookie.type = UPCALL_USERDATA_SLOW_PATH;
    cookie.reasons = reasons;
    dp_action_buf_init(&buf);
    dp_action_put_userspace(&buf, &cookie, sizeof cookie);
    actions = dp_action_buf_freeze(&buf);
    dp_action_buf_uninit(&buf);
    return actions;
}

/* ---- One batch ---------------------------------------------------------- */

static struct flow_miss *
handler_find_miss(struct handler *h, const struct flow *key, uint32_t hash,
                  enum upcall_kind kind)
{
    size_t idx;

    BATCH_INDEX_FOR_EACH (idx, hash, &h->by_key) {
        struct flow_miss *m = &h->misses[idx];

        if (m->hash == hash && m->kind == kind && flow_equal(&m->key, key)) {
            return m;
        }
    }
    return NULL;
}

void
upcall_set_packet_in_hook(struct udpif *udpif, upcall_packet_in_cb *cb,
                          void *aux)
{
    atomic_store_relaxed(&udpif->packet_in_aux, aux);
    atomic_store_release(&udpif->packet_in_cb, cb);
}

/* Hands a controller upcall to the packet-in hook; false if nobody took
 * it. */
static bool
upcall_deliver_packet_in(struct udpif *udpif, const struct upcall *u)
{
    upcall_packet_in_cb *cb = atomic_load_acquire(&udpif->packet_in_cb);
    struct xlate_userdata ud;
    struct upcall_packet_in pin;

    if (!cb) {
        return false;
    }
    memcpy(&ud, u->dp.userdata.data, sizeof ud);
    pin.packet = u->dp.packet;
    pin.dp_in_port = u->dp.in_port;
    pin.reason = ud.reason;
    pin.table_id = ud.table_id;
    pin.max_len = ntohs(ud.max_len);
    pin.controller_id = ntohs(ud.controller_id);
    pin.cookie = be64toh(ud.rule_cookie);
    return cb(&pin, atomic_load_relaxed(&udpif->packet_in_aux));
}

/* Classifies upcall 'u'.  Returns false if it was consumed (counted and
 * its packet recycled). */
static bool
upcall_classify(struct udpif *udpif, struct upcall *u, enum upcall_kind *kind)
{
    const struct dp_userdata *ud = &u->dp.userdata;

    if (!u->dp.packet) {
        COVERAGE_INC(upcall_malformed);
        return false;
    }
    if (u->dp.type == DP_UPCALL_MISS) {
        *kind = UPCALL_KIND_MISS;
        return true;
    }
    if (u->dp.type == DP_UPCALL_DRAIN && u->dp.actions) {
        *kind = UPCALL_KIND_DRAIN;
        return true;
    }
    if (u->dp.type == DP_UPCALL_ACTION) {
        if (ud->len == sizeof(struct upcall_slow_cookie)
            && ud->data[0] == UPCALL_USERDATA_SLOW_PATH) {
            *kind = UPCALL_KIND_SLOW_PATH;
            return true;
        }
        if (ud->len == sizeof(struct xlate_userdata)
            && ud->data[0] == XLATE_USERDATA_CONTROLLER) {
            if (!upcall_deliver_packet_in(udpif, u)) {
                COVERAGE_INC(upcall_controller_no_connection);
            }
            dp_upcall_discard(&u->dp);
            return false;
        }
    }
    COVERAGE_INC(upcall_malformed);
    VLOG_WARN_RL(&upcall_rl,
                 "%s: malformed upcall (type %d, userdata %u "
                 "bytes) dropped",
                 "handler", (int)u->dp.type, (unsigned int)ud->len);
    dp_upcall_discard(&u->dp);
    return false;
}

static void
flow_miss_init(struct flow_miss *m, const struct flow *key, uint32_t hash,
               enum upcall_kind kind, const struct dp_packet *first)
{
    memset(m, 0, offsetof(struct flow_miss, xout));
    m->key = *key;
    m->first = first;
    m->hash = hash;
    m->kind = kind;
    m->xlated = false;
    m->xcache = NULL;
    m->put_actions = NULL;
    m->put_queued = false;
    m->put_refused = false;
    m->dup_refused = false;
    m->ufid_valid = false;
}

/* Computes the ufid of the megaflow of 'm' (translated), once. */
static void
flow_miss_compute_ufid(struct flow_miss *m)
{
    if (!m->ufid_valid) {
        dp_flow_ufid(&m->megaflow, &m->ufid);
        m->ufid_valid = true;
    }
}

/* Translates 'm' once and computes what to install.  Inlined by force
 * into the translate phase, which GCC would otherwise leave calling it
 * (0.2% more instructions per flow setup). */
static inline __attribute__((always_inline)) void
flow_miss_translate(struct udpif *udpif, struct flow_miss *m,
                    const struct dp_packet *packet, uint64_t now)
{
    struct xlate_in xin;
    uint32_t ofp_port;
    bool megaflows = atomic_load_relaxed(&udpif->megaflows);

    if (!ofproto_port_from_dp(udpif->ofproto, m->key.in_port, &ofp_port)) {
        /* Drop everything from this port in the datapath. */
        COVERAGE_INC(upcall_no_bridge_port);
        VLOG_WARN_RL(&upcall_rl,
                     "%s: packet on datapath port %u, which "
                     "belongs to no bridge port: installing a drop flow",
                     udpif->name, m->key.in_port);
        m->no_port = true;
        match_init_catchall(&m->megaflow);
        m->megaflow.flow.in_port = m->key.in_port;
        m->megaflow.wc.masks.in_port = UINT32_MAX;
        m->put_actions = dp_actions_ref(udpif->drop_actions);
        return;
    }

    xlate_in_init_at(&xin, udpif->ofproto, &m->key, now);
    xin.flow.in_port = ofp_port;
    xin.packet = packet;
    xin.may_learn = true;
    m->xcache = xlate_cache_new();
    xin.xcache = m->xcache;
    if (xlate_actions(&xin, &m->xout) != XLATE_OK) {
        COVERAGE_INC(upcall_xlate_error);
        VLOG_WARN_RL(&upcall_rl, "%s: translation failed: %s", udpif->name,
                     xlate_error_to_string(m->xout.error));
    }
    m->xlated = true;

    /* Credit the rules with every packet of the miss now: they are
     * executed here, not counted by any datapath flow.  (A slow-pathed
     * flow's packets are credited by their own translations.) */
    if (!m->xout.slow) {
        xlate_cache_push_stats(m->xcache, m->n_packets, m->n_bytes, now);
    }

    if (megaflows) {
        struct flow_wildcards wc = m->xout.wc;

        wc.masks.in_port = UINT32_MAX;
        match_init(&m->megaflow, &m->key, &wc);
    } else {
        match_init_exact(&m->megaflow, &m->key);
    }
    if (m->xout.slow) {
        m->put_actions = upcall_slow_path_actions(m->xout.slow);
    } else {
        m->put_actions = dp_actions_ref(m->xout.actions);
    }
}

/* Translates the packet of a slow-pathed flow again, for its side
 * effects, and returns the actions to execute it with. */
static struct dp_actions *
upcall_translate_packet(struct udpif *udpif, const struct flow_miss *m,
                        const struct dp_packet *packet, uint64_t now)
{
    struct xlate_cache *xc = xlate_cache_new();
    struct xlate_out xout;
    struct xlate_in xin;
    struct dp_actions *actions;

    xlate_in_init_at(&xin, udpif->ofproto, &m->key, now);
    ofproto_port_from_dp(udpif->ofproto, m->key.in_port, &xin.flow.in_port);
    xin.packet = packet;
    xin.may_learn = true;
    xin.xcache = xc;
    xlate_actions(&xin, &xout);
    xlate_cache_push_stats(xc, 1, dp_packet_size(packet), now);
    xlate_cache_delete(xc);
    actions = dp_actions_ref(xout.actions);
    xlate_out_uninit(&xout);
    return actions;
}

/* Whether another flow miss of this batch, with the same megaflow as 'm'
 * (different keys often share one), already queued its put or found its
 * ukey taken: one probe of 'by_megaflow', where such misses are filed by
 * their ufid (handler_megaflow_settle()), and a match compare only on an
 * equal ufid. */
static bool
handler_megaflow_settled(const struct handler *h, const struct flow_miss *m)
{
    size_t idx;

    BATCH_INDEX_FOR_EACH (idx, (uint32_t)m->ufid.lo, &h->by_megaflow) {
        const struct flow_miss *o = &h->misses[idx];

        if (dp_ufid_equal(&o->ufid, &m->ufid)
            && match_equal(&o->megaflow, &m->megaflow)) {
            return true;
        }
    }
    return false;
}

/* 'm' queued its put or found its ukey taken: later misses of the batch
 * with its megaflow need not try. */
static void
handler_megaflow_settle(struct handler *h, const struct flow_miss *m)
{
    batch_index_add(&h->by_megaflow, (uint32_t)m->ufid.lo,
                    (size_t)(m - h->misses));
}

/* Whether the packet being walked should install the flow of 'm': not if
 * the batch queued or ruled out its put already, nor at the flow limit,
 * nor if the governor says no. */
static bool
handler_should_install(struct handler *h, struct flow_miss *m, size_t n_flows,
                       size_t flow_limit, uint64_t now)
{
    if (m->put_queued) {
        COVERAGE_INC(handler_batch_duplicate);
        return false;
    }
    if (m->put_refused) {
        return false;
    }
    if (m->kind == UPCALL_KIND_SLOW_PATH) {
        COVERAGE_INC(upcall_slow_path_no_install);
        m->put_refused = true;
        return false;
    }
    if (n_flows >= flow_limit) {
        COVERAGE_INC(upcall_flow_limit_hit);
        return false;
    }
    flow_miss_compute_ufid(m);
    if (handler_megaflow_settled(h, m)) {
        COVERAGE_INC(handler_batch_duplicate);
        m->put_refused = true;
        return false;
    }
    return m->no_port || governor_should_install(h->governor, m->hash, now);
}

/* Creates the ukey of 'm' and inserts it into the map.  Returns it, or
 * NULL if a ukey for the flow is there already (then the batch gives up
 * on installing 'm'). */
static struct ukey *
handler_insert_ukey(struct handler *h, struct flow_miss *m, uint64_t now)
{
    struct ukey *ukey;
    bool replaced;

    /* The xcache goes with the ukey, set before the ukey is published so
     * that it needs no lock; taken back if the install is refused. */
    ukey = ukey_create_ufid(&m->megaflow, &m->ufid, m->put_actions, m->xcache,
                            now);
    ukey->reval_seq = h->reval_seq; /* Not published yet: no lock. */
    if (ukey_install(h->udpif->ukeys, ukey, &replaced)) {
        /* Another handler is installing it, or it is installed. */
        COVERAGE_INC(handler_duplicate_upcall);
        ukey->xcache = NULL;
        ukey_destroy(ukey);
        m->put_refused = true;
        m->dup_refused = true;
        handler_megaflow_settle(h, m);
        return NULL;
    }
    if (replaced) {
        COVERAGE_INC(upcall_ukey_replace);
    }
    m->xcache = NULL; /* The map owns the ukey now, and the xcache. */
    return ukey;
}

/* Makes 'op' the put of the megaflow of 'm'. */
static void
handler_put_init(struct dp_op *op, const struct flow_miss *m)
{
    memset(op, 0, sizeof *op);
    op->type = DP_OP_FLOW_PUT;
    op->put.match = &m->megaflow; /* The miss outlives dp_operate(). */
    op->put.actions = m->put_actions;
    /* The megaflow is normalized and its ufid computed: the datapath
     * takes both as they are. */
    op->put.ufid = m->ufid;
    op->put.flags = DP_FLOW_PUT_CREATE | DP_FLOW_PUT_UFID;
    if (m->put_actions->n && !(m->xlated && m->xout.slow)) {
        /* Packets of it may still wait in the queues: it starts draining
         * (datapath.h, "Order").  Drops and slow-pathed flows need not. */
        op->put.flags |= DP_FLOW_PUT_DRAIN;
    }
}

/* Makes 'op' the execute of 'packet' with 'actions'. */
static void
handler_execute_init(struct dp_op *op, struct dp_packet *packet,
                     const struct dp_actions *actions)
{
    memset(op, 0, sizeof *op);
    op->type = DP_OP_EXECUTE;
    op->execute.packet = packet;
    op->execute.actions = actions;
    op->execute.may_steal = true;
}

/* Decides whether the packet being walked installs the flow of 'm'; if so
 * creates and inserts its ukey and queues the put as puts[*n_puts], the
 * ukey beside it in h->put_ukeys[]. */
static void
handler_maybe_install(struct handler *h, struct flow_miss *m, size_t *n_flows,
                      size_t flow_limit, uint64_t now, struct dp_op *puts,
                      size_t *n_puts)
{
    struct ukey *ukey;

    if (!handler_should_install(h, m, *n_flows, flow_limit, now)) {
        return;
    }
    ukey = handler_insert_ukey(h, m, now);
    if (!ukey) {
        return;
    }
    m->put_queued = true;
    handler_megaflow_settle(h, m);
    (*n_flows)++;
    h->put_ukeys[*n_puts] = ukey;
    handler_put_init(&puts[(*n_puts)++], m);
}

void
udpif_sample_flows(struct udpif *udpif, uint64_t n_flows)
{
    uint64_t avg = atomic_load_relaxed(&udpif->flows_avg);

    if (n_flows > atomic_load_relaxed(&udpif->flows_max)) {
        atomic_store_relaxed(&udpif->flows_max, n_flows);
    }
    atomic_store_relaxed(&udpif->flows_avg, (avg * 7 + n_flows) / 8);
}

/* Receives up to UPCALL_BATCH upcalls into h->raw and readies the batch's
 * indexes.  Returns how many. */
static size_t
handler_receive(struct handler *h)
{
    size_t n = dp_upcall_recv(h->udpif->dp, h->id, h->raw, UPCALL_BATCH);

    if (!n) {
        return 0;
    }
    COVERAGE_ADD(handler_upcalls, n);
    batch_index_clear(&h->by_key);
    batch_index_clear(&h->by_megaflow);
    /* The packets' metadata is cold (the datapath thread queued them a
     * while ago) and step 1 reads each one's size: a stall per upcall
     * without this. */
    for (size_t i = 0; i < n; i++) {
        __builtin_prefetch(h->raw[i].packet);
    }
    return n;
}

/* Counts upcall 'u' (not a DRAIN) into the flow miss of its key and kind,
 * which it creates as h->misses[*n_misses] if the batch has none yet. */
static void
handler_group_upcall(struct handler *h, struct upcall *u,
                     enum upcall_kind kind, size_t *n_misses)
{
    uint32_t hash = flow_hash(&u->dp.key, 0);
    struct flow_miss *m = handler_find_miss(h, &u->dp.key, hash, kind);

    if (!m) {
        batch_index_add(&h->by_key, hash, *n_misses);
        m = &h->misses[(*n_misses)++];
        flow_miss_init(m, &u->dp.key, hash, kind, u->dp.packet);
    }
    m->n_packets++;
    m->n_bytes += dp_packet_size(u->dp.packet);
    m->tcp_flags |= ntohs(u->dp.key.tcp_flags);
    u->miss = m;
}

/* 1. Classifies the raw upcalls h->raw[0..n) into h->upcalls and groups
 * them by flow key into h->misses.  Returns the number of upcalls kept
 * and sets '*n_misses'. */
static size_t
handler_classify_batch(struct handler *h, size_t n, size_t *n_misses)
{
    size_t n_up = 0;

    *n_misses = 0;
    for (size_t i = 0; i < n; i++) {
        struct upcall *u = &h->upcalls[n_up];
        enum upcall_kind kind;

        u->dp = h->raw[i];
        if (!upcall_classify(h->udpif, u, &kind)) {
            continue;
        }
        u->pkt_actions = NULL;
        if (kind == UPCALL_KIND_DRAIN) {
            /* Executed in its place with the flow's actions: no flow miss,
             * no translation, and no rule credit (the flow counted it). */
            u->miss = NULL;
            n_up++;
            continue;
        }
        if (kind == UPCALL_KIND_SLOW_PATH) {
            COVERAGE_INC(upcall_slow_path);
        }
        handler_group_upcall(h, u, kind, n_misses);
        n_up++;
    }
    return n_up;
}

/* 2. Translates each flow miss once (outside any read-side section, as
 * xlate wants).  The change sequence is read first, so a table change
 * that the translations may have missed makes the revalidators check
 * these flows again. */
static void
handler_translate_misses(struct handler *h, size_t n_misses, uint64_t now)
{
    struct udpif *udpif = h->udpif;

    h->reval_seq = ofproto_get_change_seq(udpif->ofproto);
    for (size_t i = 0; i < n_misses; i++) {
        struct flow_miss *m = &h->misses[i];

        flow_miss_translate(udpif, m, m->first, now);
        if (m->kind != UPCALL_KIND_SLOW_PATH && !h->at_flow_limit) {
            /* The one computation of the megaflow's ufid (the ukey, the
             * put and the batch's duplicate check take it from here); the
             * ukey install probes with it soon.  (At the flow limit
             * nothing is installed: handler_maybe_install() computes it
             * if it gets that far.) */
            flow_miss_compute_ufid(m);
            ukey_map_prefetch(udpif->ukeys, &m->ufid);
        }
    }
}

/* 2b. Translates each packet of a slow-pathed flow on its own. */
static void
handler_translate_slow_packets(struct handler *h, size_t n_up, uint64_t now)
{
    for (size_t i = 0; i < n_up; i++) {
        struct upcall *u = &h->upcalls[i];
        struct flow_miss *m = u->miss;

        if (m && m->xlated && m->xout.slow) {
            u->pkt_actions =
                upcall_translate_packet(h->udpif, m, u->dp.packet, now);
        }
    }
}

/* Reads the datapath's flow count for this batch's install decisions (and
 * the governor's and upcall/show's view of it).  Returns it and sets
 * '*flow_limit'. */
static size_t
handler_sample_flows(struct handler *h, uint64_t now, size_t *flow_limit)
{
    struct udpif *udpif = h->udpif;
    struct dp_stats st;
    size_t n_flows;

    dp_get_stats(udpif->dp, &st);
    n_flows = st.n_flows;
    *flow_limit = atomic_load_relaxed(&udpif->flow_limit);
    h->at_flow_limit = n_flows >= *flow_limit;
    udpif_sample_flows(udpif, n_flows);
    governor_run(h->governor, n_flows, *flow_limit, now);
    return n_flows;
}

/* The actions to execute upcall 'u' (not a DRAIN) with. */
static const struct dp_actions *
upcall_execute_actions(const struct upcall *u)
{
    const struct flow_miss *m = u->miss;

    return (u->pkt_actions ? u->pkt_actions
            : m->xlated    ? m->xout.actions
                           : m->put_actions);
}

/* 3. Walks the upcalls in arrival order: upcall i is executed by
 * h->ops[i], and the flows it decides to install are put by the ops that
 * follow the executes, h->ops[n_up...].  Returns the number of puts. */
static size_t
handler_build_ops(struct handler *h, size_t n_up, size_t n_flows,
                  size_t flow_limit, uint64_t now)
{
    struct dp_op *puts = &h->ops[n_up];
    size_t n_puts = 0;

    for (size_t i = 0; i < n_up; i++) {
        struct upcall *u = &h->upcalls[i];
        struct flow_miss *m = u->miss;

        if (!m) {
            handler_execute_init(&h->ops[i], u->dp.packet, u->dp.actions);
            COVERAGE_INC(upcall_drain_executed);
            continue;
        }
        handler_maybe_install(h, m, &n_flows, flow_limit, now, puts, &n_puts);
        /* Its execute parses its headers again: start loading them. */
        __builtin_prefetch(dp_packet_data(u->dp.packet));
        handler_execute_init(&h->ops[i], u->dp.packet,
                             upcall_execute_actions(u));
    }
    return n_puts;
}

/* The put of 'ukey' ended with 'error': a ukey whose put succeeded
 * becomes visible to the revalidators; one whose put failed leaves the
 * map. */
static void
handler_finish_put(struct handler *h, struct ukey *ukey, int error)
{
    ukey_lock(ukey);
    if (!error) {
        if (ukey->state == UKEY_CREATED) {
            /* (A flush may have deleted the flow already and evicted the
             * ukey.) */
            ukey_set_state(ukey, UKEY_VISIBLE);
        }
        COVERAGE_INC(upcall_flow_put);
        atomic_add_single_writer(&h->n_puts, 1);
        ukey_unlock(ukey);
    } else {
        /* The datapath refused it (full, or a flow without a ukey): the
         * ukey must not claim it. */
        ukey_set_state(ukey, UKEY_EVICTED);
        ukey_unlock(ukey);
        COVERAGE_INC(upcall_put_failed);
        VLOG_WARN_RL(&upcall_rl, "%s: flow put failed (%s)", h->udpif->name,
                     strerror(error));
        ukey_remove(h->udpif->ukeys, ukey);
    }
}

/* 4. Runs the batch's ops, h->ops[0..n_up + n_puts), in one
 * dp_operate(): the executes in arrival order, then the puts; then
 * finishes each put with the ukey it carries (h->put_ukeys[]). */
static void
handler_operate(struct handler *h, size_t n_up, size_t n_puts)
{
    dp_operate(h->udpif->dp, h->ops, n_up + n_puts);
    for (size_t i = 0; i < n_up; i++) {
        if (h->ops[i].error) {
            COVERAGE_INC(upcall_execute_failed);
        }
    }
    for (size_t i = 0; i < n_puts; i++) {
        handler_finish_put(h, h->put_ukeys[i], h->ops[n_up + i].error);
    }
}

/* 5. Drops the references the batch's upcalls and flow misses hold. */
static void
handler_release_batch(struct handler *h, size_t n_up, size_t n_misses)
{
    for (size_t i = 0; i < n_up; i++) {
        struct upcall *u = &h->upcalls[i];

        if (u->pkt_actions) {
            dp_actions_unref(u->pkt_actions);
        }
        if (u->dp.actions) {
            dp_actions_unref(u->dp.actions);
        }
    }
    for (size_t i = 0; i < n_misses; i++) {
        struct flow_miss *m = &h->misses[i];

        if (m->xlated) {
            xlate_out_uninit(&m->xout);
        }
        if (m->xcache) {
            xlate_cache_delete(m->xcache);
        }
        if (m->put_actions) {
            dp_actions_unref(m->put_actions);
        }
    }
}

/* One batch of upcalls, phase by phase. */
static size_t
handler_run_batch(struct handler *h, uint64_t now)
{
    size_t n, n_up, n_misses, n_flows, flow_limit, n_puts;

    n = handler_receive(h);
    if (!n) {
        return 0;
    }
    n_up = handler_classify_batch(h, n, &n_misses);
    handler_translate_misses(h, n_misses, now);
    handler_translate_slow_packets(h, n_up, now);
    n_flows = handler_sample_flows(h, now, &flow_limit);

    rcu_read_begin();
    n_puts = handler_build_ops(h, n_up, n_flows, flow_limit, now);
    handler_operate(h, n_up, n_puts);
    rcu_read_end();

    handler_release_batch(h, n_up, n_misses);
    /* Every execute of the batch is done: draining flows may flip. */
    dp_upcall_batch_done(h->udpif->dp, h->id);
    atomic_add_single_writer(&h->n_upcalls, n);
    atomic_add_single_writer(&h->n_batches, 1);
    return n;
}

/* One batch of 'h' by whoever holds its run_mutex. */
static size_t
handler_run_locked(struct handler *h, uint64_t now, bool by_dp)
{
    size_t n = handler_run_batch(h, now);

    if (n && by_dp) {
        atomic_add_single_writer(&h->n_batches_dp, 1);
    }
    return n;
}

/* ---- Work-conserving upcalls -------------------------------------------- */

/* dp_idle_work_fn: datapath thread 'thread' has nothing to forward.  Runs
 * one batch of the first handler, in a rotating order, whose queue holds
 * upcalls and whose run_mutex is free (its own thread, or another
 * datapath thread, may be at it).  The handler set cannot change
 * meanwhile: udpif_stop_handlers() removes this function first, which
 * waits for every datapath thread to leave it. */
static bool
upcall_idle_work(void *udpif_, unsigned int thread)
{
    struct udpif *udpif = udpif_;
    unsigned int n = udpif->n_handlers;
    unsigned int start;

    (void)thread;
    if (!n) {
        return false;
    }
    start = atomic_fetch_add_relaxed(&udpif->idle_next, 1);
    for (unsigned int k = 0; k < n; k++) {
        struct handler *h = udpif->handlers[(start + k) % n];
        size_t done;

        if (!dp_upcall_queue_len(udpif->dp, h->id)
            || pthread_mutex_trylock(&h->run_mutex)) {
            continue;
        }
        /* The slow path reads the OpenFlow tables under RCU's memb
         * flavour: register this datapath thread for the rest of its
         * life. */
        rcu_thread_register_until_exit();
        done = handler_run_locked(h, time_msec(), true);
        pthread_mutex_unlock(&h->run_mutex);
        if (done) {
            return true;
        }
    }
    return false;
}

/* ---- Handler threads ---------------------------------------------------- */

/* How long an idle handler keeps looking at its queue, yielding the CPU
 * between looks, before it sleeps.  Misses come in bursts a little apart
 * (a datapath batch, an AF_PACKET block): sleeping between them costs a
 * wake-up on both sides (the eventfd write in the datapath thread, the
 * poll in the handler), which at a high setup rate was a fifth of the
 * handler's time.  Yielding rather than spinning leaves the CPU to a
 * datapath thread that shares it. */
#define HANDLER_IDLE_POLL_NS 50000

static void *
handler_main(void *h_)
{
    struct handler *h = h_;
    uint64_t idle_since = 0;

    rcu_thread_register();
    while (!atomic_load_acquire(&h->stop)) {
        size_t n;

        pthread_mutex_lock(&h->run_mutex);
        n = handler_run_locked(h, time_msec(), false);
        pthread_mutex_unlock(&h->run_mutex);
        if (n) {
            idle_since = 0;
        } else if (!idle_since) {
            idle_since = time_nsec();
            sched_yield();
        } else if (time_nsec() - idle_since < HANDLER_IDLE_POLL_NS) {
            sched_yield();
        } else {
            idle_since = 0;
            dp_upcall_wait(h->udpif->dp, h->id, 100);
        }
    }
    rcu_thread_unregister();
    return NULL;
}

static struct handler *
handler_create(struct udpif *udpif, unsigned int id)
{
    struct handler *h = xzalloc(sizeof *h);
    char name[64];

    h->udpif = udpif;
    h->id = id;
    pthread_mutex_init(&h->run_mutex, NULL);
    snprintf(name, sizeof name, "%s/handler%u", udpif->name, id);
    h->governor = governor_create(name, time_msec());
    governor_set_mode(h->governor, udpif->governor_mode);
    if (!udpif->manual) {
        int error = pthread_create(&h->thread, NULL, handler_main, h);

        char tname[16];

        if (error) {
            VLOG_ERR("%s: cannot start handler %u (%s)", udpif->name, id,
                     strerror(error));
            abort();
        }
        /* For top -H and perf: which thread is which. */
        snprintf(tname, sizeof tname, "handler%u", id % 10000000u);
        pthread_setname_np(h->thread, tname);
    }
    return h;
}

static void
udpif_stop_handlers(struct udpif *udpif)
{
    /* First the datapath threads: none may be inside a batch. */
    if (udpif->mode == UPCALL_MODE_AUTO && !udpif->manual) {
        dp_set_idle_work(udpif->dp, NULL, NULL);
    }
    for (unsigned int i = 0; i < udpif->n_handlers; i++) {
        struct handler *h = udpif->handlers[i];

        atomic_store_release(&h->stop, true);
        dp_upcall_wake(udpif->dp, i);
    }
    for (unsigned int i = 0; i < udpif->n_handlers; i++) {
        struct handler *h = udpif->handlers[i];
        struct upcall_totals *r = &udpif->handlers_retired;
        struct governor_info gi;

        if (!udpif->manual) {
            pthread_join(h->thread, NULL);
        }
        governor_get_info(h->governor, &gi);
        atomic_add_single_writer(&r->n_upcalls,
                                 atomic_load_relaxed(&h->n_upcalls));
        atomic_add_single_writer(&r->n_batches,
                                 atomic_load_relaxed(&h->n_batches));
        atomic_add_single_writer(&r->n_batches_dp,
                                 atomic_load_relaxed(&h->n_batches_dp));
        atomic_add_single_writer(&r->n_puts, atomic_load_relaxed(&h->n_puts));
        atomic_add_single_writer(&r->n_gov_suppressed, gi.n_suppressed);
        atomic_add_single_writer(&r->n_gov_installed, gi.n_installed);
        governor_destroy(h->governor);
        pthread_mutex_destroy(&h->run_mutex);
        free(h);
    }
    free(udpif->handlers);
    udpif->handlers = NULL;
    udpif->n_handlers = 0;
}

static void
udpif_start_handlers(struct udpif *udpif, unsigned int n)
{
    udpif->handlers = xcalloc(n, sizeof(struct handler *));
    for (unsigned int i = 0; i < n; i++) {
        udpif->handlers[i] = handler_create(udpif, i);
    }
    udpif->n_handlers = n;
    if (udpif->mode == UPCALL_MODE_AUTO && !udpif->manual) {
        dp_set_idle_work(udpif->dp, upcall_idle_work, udpif);
    }
}

int
upcall_create(const char *name, struct dp *dp, struct ofproto *ofproto,
              const struct upcall_config *cfg, struct udpif **udpifp)
{
    struct udpif *udpif;
    int error;

    *udpifp = NULL;
    if (!cfg->n_handlers || cfg->n_handlers > DP_MAX_HANDLERS
        || !cfg->max_flow_limit
        || cfg->n_revalidators > UPCALL_MAX_REVALIDATORS) {
        return EINVAL;
    }
    error = dp_set_n_handlers(dp, cfg->n_handlers);
    if (error) {
        return error;
    }
    udpif = xzalloc(sizeof *udpif);
    udpif->name = xstrdup(name);
    udpif->dp = dp;
    udpif->ofproto = ofproto;
    udpif->ukeys = ukey_map_create();
    udpif->manual = cfg->manual;
    udpif->max_flow_limit = cfg->max_flow_limit;
    udpif->flow_limit =
        MIN(cfg->flow_limit ? cfg->flow_limit : UPCALL_DEFAULT_FLOW_LIMIT,
            cfg->max_flow_limit);
    udpif->megaflows = cfg->megaflows;
    udpif->governor_mode = cfg->governor;
    udpif->mode = cfg->mode;
    udpif->drop_actions = dp_actions_create_drop();
    revalidator_init(udpif, cfg);
    udpif_start_handlers(udpif, cfg->n_handlers);
    revalidator_start(udpif, cfg->n_revalidators);

    pthread_once(&upcall_commands_once, upcall_register_commands);
    pthread_mutex_lock(&udpifs_mutex);
    udpifs = xgrow(udpifs, &allocated_udpifs, n_udpifs + 1, sizeof *udpifs);
    udpifs[n_udpifs++] = udpif;
    pthread_mutex_unlock(&udpifs_mutex);
    *udpifp = udpif;
    return 0;
}

/* Recycles what is left in the queues, counted. */
static void
udpif_drain_queues(struct udpif *udpif)
{
    unsigned int n_queues = dp_n_handlers(udpif->dp);
    struct dp_upcall *ups = xcalloc(UPCALL_BATCH, sizeof *ups);

    for (unsigned int q = 0; q < n_queues; q++) {
        size_t n;

        while ((n = dp_upcall_recv(udpif->dp, q, ups, UPCALL_BATCH))) {
            COVERAGE_ADD(upcall_dropped_on_destroy, n);
            for (size_t i = 0; i < n; i++) {
                dp_upcall_discard(&ups[i]);
            }
        }
    }
    free(ups);
}

void
upcall_destroy(struct udpif *udpif)
{
    if (!udpif) {
        return;
    }
    pthread_mutex_lock(&udpifs_mutex);
    for (size_t i = 0; i < n_udpifs; i++) {
        if (udpifs[i] == udpif) {
            udpifs[i] = udpifs[--n_udpifs];
            break;
        }
    }
    udpif_stop_handlers(udpif);
    pthread_mutex_unlock(&udpifs_mutex);

    /* No revalidator round runs from here on; control-command workers
     * give up waiting and leave. */
    revalidator_stop(udpif);
    pthread_mutex_lock(&udpifs_mutex);
    while (udpif->n_workers) {
        pthread_cond_wait(&udpifs_cond, &udpifs_mutex);
    }
    pthread_mutex_unlock(&udpifs_mutex);
    revalidator_destroy(udpif);

    udpif_drain_queues(udpif);
    ukey_map_destroy(udpif->ukeys);
    dp_actions_unref(udpif->drop_actions);
    free(udpif->name);
    free(udpif);
}

int
upcall_set_n_handlers(struct udpif *udpif, unsigned int n_handlers)
{
    int error;

    if (!n_handlers || n_handlers > DP_MAX_HANDLERS) {
        return EINVAL;
    }
    if (n_handlers == udpif->n_handlers) {
        return 0;
    }
    pthread_mutex_lock(&udpifs_mutex);
    udpif_stop_handlers(udpif);
    /* The datapath moves what is queued to the new queues, in order. */
    error = dp_set_n_handlers(udpif->dp, n_handlers);
    if (error) {
        n_handlers = dp_n_handlers(udpif->dp);
    }
    udpif_start_handlers(udpif, n_handlers);
    pthread_mutex_unlock(&udpifs_mutex);
    VLOG_INFO("%s: %u handlers", udpif->name, n_handlers);
    return error;
}

unsigned int
upcall_n_handlers(const struct udpif *udpif)
{
    return udpif->n_handlers;
}

void
upcall_set_flow_limit(struct udpif *udpif, size_t flow_limit)
{
    /* The new maximum, and the current limit at once; the revalidators
     * adapt the limit within [1000, max] from then on. */
    atomic_store_relaxed(&udpif->max_flow_limit, flow_limit);
    atomic_store_relaxed(&udpif->flow_limit, flow_limit);
}

size_t
upcall_get_flow_limit(const struct udpif *udpif)
{
    return atomic_load_relaxed(&udpif->flow_limit);
}

/* Returns once every handler batch that began before the call is done: a
 * batch holds its handler's run_mutex from its first upcall to its last
 * put. */
void
udpif_wait_for_batches(struct udpif *udpif)
{
    pthread_mutex_lock(&udpifs_mutex); /* The handler set stays. */
    for (unsigned int i = 0; i < udpif->n_handlers; i++) {
        struct handler *h = udpif->handlers[i];

        pthread_mutex_lock(&h->run_mutex);
        pthread_mutex_unlock(&h->run_mutex);
    }
    pthread_mutex_unlock(&udpifs_mutex);
}

void
upcall_set_megaflows(struct udpif *udpif, bool enabled)
{
    atomic_store_relaxed(&udpif->megaflows, enabled);
    VLOG_INFO("%s: megaflows %s", udpif->name,
              enabled ? "enabled" : "disabled");
    /* Batches from now on translate with the new setting; the purge
     * comes after those that may not have. */
    udpif_wait_for_batches(udpif);
    upcall_purge(udpif);
}

bool
upcall_get_megaflows(const struct udpif *udpif)
{
    return atomic_load_relaxed(&udpif->megaflows);
}

void
upcall_set_governor_mode(struct udpif *udpif, enum governor_mode mode)
{
    /* Handlers own their governors: restart them with the new mode. */
    unsigned int n = udpif->n_handlers;

    pthread_mutex_lock(&udpifs_mutex);
    udpif->governor_mode = mode;
    udpif_stop_handlers(udpif);
    udpif_start_handlers(udpif, n);
    pthread_mutex_unlock(&udpifs_mutex);
}

enum upcall_mode
upcall_get_mode(const struct udpif *udpif)
{
    return udpif->mode;
}

size_t
upcall_handler_run(struct udpif *udpif, unsigned int handler, uint64_t now)
{
    struct handler *h;
    size_t n;

    if (!udpif->manual || handler >= udpif->n_handlers) {
        return 0;
    }
    h = udpif->handlers[handler];
    pthread_mutex_lock(&h->run_mutex);
    n = handler_run_locked(h, now, false);
    pthread_mutex_unlock(&h->run_mutex);
    return n;
}

struct udpif **
upcall_acquire_all(size_t *n)
{
    struct udpif **all;

    pthread_mutex_lock(&udpifs_mutex);
    all = xcalloc(n_udpifs ? n_udpifs : 1, sizeof *all);
    for (size_t i = 0; i < n_udpifs; i++) {
        all[i] = udpifs[i];
        all[i]->n_workers++;
    }
    *n = n_udpifs;
    pthread_mutex_unlock(&udpifs_mutex);
    return all;
}

void
upcall_release_all(struct udpif **all, size_t n)
{
    pthread_mutex_lock(&udpifs_mutex);
    for (size_t i = 0; i < n; i++) {
        all[i]->n_workers--;
    }
    pthread_cond_broadcast(&udpifs_cond);
    pthread_mutex_unlock(&udpifs_mutex);
    free(all);
}

struct ukey_map *
upcall_get_ukeys(struct udpif *udpif)
{
    return udpif->ukeys;
}

int
upcall_get_handler_stats(struct udpif *udpif, unsigned int handler,
                         struct upcall_handler_stats *stats)
{
    struct handler *h;

    if (handler >= udpif->n_handlers) {
        return ENOENT;
    }
    h = udpif->handlers[handler];
    stats->n_upcalls = atomic_load_relaxed(&h->n_upcalls);
    stats->n_batches = atomic_load_relaxed(&h->n_batches);
    stats->n_batches_dp = atomic_load_relaxed(&h->n_batches_dp);
    stats->n_puts = atomic_load_relaxed(&h->n_puts);
    stats->queue_len = dp_upcall_queue_len(udpif->dp, handler);
    return 0;
}

void
upcall_get_totals(struct udpif *udpif, struct upcall_totals *t)
{
    const struct upcall_totals *r = &udpif->handlers_retired;

    t->n_upcalls = atomic_load_relaxed(&r->n_upcalls);
    t->n_batches = atomic_load_relaxed(&r->n_batches);
    t->n_batches_dp = atomic_load_relaxed(&r->n_batches_dp);
    t->n_puts = atomic_load_relaxed(&r->n_puts);
    t->n_gov_suppressed = atomic_load_relaxed(&r->n_gov_suppressed);
    t->n_gov_installed = atomic_load_relaxed(&r->n_gov_installed);
    t->queue_len = 0;
    for (unsigned int i = 0; i < udpif->n_handlers; i++) {
        struct upcall_handler_stats hs;
        struct governor_info gi;

        upcall_get_handler_stats(udpif, i, &hs);
        governor_get_info(udpif->handlers[i]->governor, &gi);
        t->n_upcalls += hs.n_upcalls;
        t->n_batches += hs.n_batches;
        t->n_batches_dp += hs.n_batches_dp;
        t->n_puts += hs.n_puts;
        t->queue_len += hs.queue_len;
        t->n_gov_suppressed += gi.n_suppressed;
        t->n_gov_installed += gi.n_installed;
    }
}

int
upcall_get_governor_info(struct udpif *udpif, unsigned int handler,
                         struct governor_info *info)
{
    if (handler >= udpif->n_handlers) {
        return ENOENT;
    }
    governor_get_info(udpif->handlers[handler]->governor, info);
    return 0;
}

void
upcall_show(struct udpif *udpif, struct ds *out)
{
    struct dp_stats st;

    dp_get_stats(udpif->dp, &st);
    /* Open vSwitch's lines first, in its layout. */
    ds_put_format(out, "system@%s:\n", udpif->name);
    ds_put_format(out,
                  "  flows         : (current %llu) (avg %llu) "
                  "(max %llu) (limit %zu)\n",
                  (unsigned long long)st.n_flows,
                  (unsigned long long)atomic_load_relaxed(&udpif->flows_avg),
                  (unsigned long long)atomic_load_relaxed(&udpif->flows_max),
                  upcall_get_flow_limit(udpif));
    revalidator_show(udpif, out);
    ds_put_format(out, "  megaflows     : %s\n",
                  upcall_get_megaflows(udpif) ? "enabled" : "disabled");
    ds_put_format(out, "  ukeys         : %zu\n",
                  ukey_map_count(udpif->ukeys));
    {
        struct upcall_totals t;

        upcall_get_totals(udpif, &t);
        ds_put_format(out,
                      "  upcall mode   : %s (batches: %llu in datapath "
                      "threads, %llu in handler threads)\n",
                      upcall_mode_to_string(udpif->mode),
                      (unsigned long long)t.n_batches_dp,
                      (unsigned long long)(t.n_batches - t.n_batches_dp));
    }
    for (unsigned int i = 0; i < udpif->n_handlers; i++) {
        struct upcall_handler_stats hs;
        struct governor_info gi;

        upcall_get_handler_stats(udpif, i, &hs);
        upcall_get_governor_info(udpif, i, &gi);
        ds_put_format(out,
                      "  handler %u: upcalls %llu, batch avg %.1f, "
                      "queue %zu, puts %llu, batches %llu (%llu in "
                      "datapath threads)\n",
                      i, (unsigned long long)hs.n_upcalls,
                      hs.n_batches ? (double)hs.n_upcalls / hs.n_batches : 0.0,
                      hs.queue_len, (unsigned long long)hs.n_puts,
                      (unsigned long long)hs.n_batches,
                      (unsigned long long)hs.n_batches_dp);
        ds_put_format(out,
                      "    governor: %s, table %zu bytes, threshold "
                      "%u, shortcut %s, generations %llu, suppressed "
                      "%llu, installed %llu\n",
                      gi.engaged ? "engaged" : "idle", gi.size, gi.threshold,
                      gi.shortcut ? "on" : "off",
                      (unsigned long long)gi.generation,
                      (unsigned long long)gi.n_suppressed,
                      (unsigned long long)gi.n_installed);
    }
}

/* ---- Control commands --------------------------------------------------- */

static void
upcall_cmd_show(struct control_conn *conn, int argc, const char *argv[],
                void *aux)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)argc, (void)argv, (void)aux;
    pthread_mutex_lock(&udpifs_mutex);
    for (size_t i = 0; i < n_udpifs; i++) {
        upcall_show(udpifs[i], &s);
    }
    pthread_mutex_unlock(&udpifs_mutex);
    control_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
upcall_cmd_set_flow_limit(struct control_conn *conn, int argc,
                          const char *argv[], void *aux)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    unsigned long long limit;
    char *end;

    (void)argc, (void)aux;
    errno = 0;
    limit = strtoull(argv[1], &end, 10);
    if (errno || *end || end == argv[1] || argv[1][0] == '-' || !limit
        || limit > SIZE_MAX) {
        ds_put_format(&s,
                      "upcall/set-flow-limit: bad flow limit \"%s\" "
                      "(expected a positive integer)\n",
                      argv[1]);
        control_reply_error(conn, ds_cstr(&s));
        ds_destroy(&s);
        return;
    }
    pthread_mutex_lock(&udpifs_mutex);
    for (size_t i = 0; i < n_udpifs; i++) {
        upcall_set_flow_limit(udpifs[i], (size_t)limit);
        ds_put_format(&s, "%s: flow limit now %zu\n", udpifs[i]->name,
                      upcall_get_flow_limit(udpifs[i]));
    }
    pthread_mutex_unlock(&udpifs_mutex);
    control_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
upcall_register_commands(void)
{
    control_command_register("upcall/show", "", 0, 0, upcall_cmd_show, NULL);
    control_command_register("upcall/set-flow-limit", "N", 1, 1,
                             upcall_cmd_set_flow_limit, NULL);
    revalidator_register_commands();
}
