/* datapath/datapath.c — datapath life cycle, ports, statistics, the
 * maintenance thread and dp_execute() (see datapath.h and dp-private.h).
 *
 * Ports.  The port table (by number) and each datapath thread's poll list
 * are immutable arrays replaced on every change: the managing thread
 * builds a new one, publishes it (release store) and retires the old one.
 * Datapath threads read both under RCU; dp_execute() reads the table
 * under 'exec_lock' for reading, which the manager takes for writing
 * while it swaps the pointer.  Deleting a port then waits for a grace
 * period, after which no datapath thread can be receiving from, or
 * sending to, the netdev, and returns it to the caller.  Detaching a
 * port's netdev (its interface vanished) works the same way on the port's
 * own netdev pointer, without a new table: NULL, a grace period and an
 * exec_lock round, and the netdev is the caller's again.
 *
 * Maintenance thread.  Wakes every DP_MAINT_TICK_MS to run the memory that
 * writers retired (rcu_qsbr_queue_reclaim()), and every
 * DP_SORT_INTERVAL_MS sorts the megaflow classifier's subtables by their
 * recent hits and unmaps the slabs of the flow pools that have been empty
 * for DP_FLOW_POOL_IDLE_MS.  Datapath threads never take the flow mutex,
 * so this is where sorting belongs.
 * While flows drain (datapath.h, "Order") it wakes every
 * DP_MAINT_DRAIN_TICK_MS to move them on, so that a flow whose handler
 * went idle still flips. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "datapath/dp-emc.h"
#include "datapath/dp-meter.h"
#include "datapath/dp-private.h"
#include "flow/packet-parse.h"
#include "lib/atomic.h"
#include "lib/seq.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"

#define DP_MAINT_TICK_MS 10
#define DP_MAINT_DRAIN_TICK_MS 1
#define DP_SORT_INTERVAL_MS 1000
#define DP_MAX_QUEUE_SIZE (1u << 20)

void
dp_config_init(struct dp_config *cfg)
{
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);

    memset(cfg, 0, sizeof *cfg);
    cfg->n_threads = 1;
    cfg->n_handlers = n_cpus > 0 ? (unsigned int)n_cpus : 1;
    cfg->queue_size = DP_DEFAULT_QUEUE_SIZE;
    cfg->max_flows = DP_DEFAULT_MAX_FLOWS;
    cfg->emc_enabled = true;
    cfg->upcall_port_share = true;
    cfg->emc_insert_inv_prob = DP_DEFAULT_EMC_INSERT_INV_PROB;
    cfg->max_sleep_us = DP_DEFAULT_MAX_SLEEP_US;
}

/* ---- Helpers ------------------------------------------------------------ */

static struct dp_upcall_queue **
dp_queues_create(unsigned int n, unsigned int size)
{
    struct dp_upcall_queue **queues =
        xcalloc(MAX(n, 1u), sizeof(struct dp_upcall_queue *));

    for (unsigned int i = 0; i < n; i++) {
        queues[i] = dp_uqueue_create(size);
    }
    return queues;
}

static void
dp_queues_destroy(struct dp_upcall_queue **queues, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        dp_uqueue_destroy(queues[i]);
    }
    free(queues);
}

/* ---- Port tables -------------------------------------------------------- */

static struct dp_poll_list *
dp_poll_list_replace(const struct dp_poll_list *old, struct dp_port *add,
                     struct dp_port *remove)
{
    struct dp_poll_list *list =
        xmalloc(sizeof *list + (old->n + 1) * sizeof(struct dp_port *));
    size_t n = 0;

    for (size_t i = 0; i < old->n; i++) {
        if (old->ports[i] != remove) {
            list->ports[n++] = old->ports[i];
        }
    }
    if (add) {
        list->ports[n++] = add;
    }
    list->n = n;
    return list;
}

/* Takes 'remove' out of the port map and puts 'add' in (either may be
 * NULL).  Readers see the change at once; a removed port stays valid
 * until a grace period. */
static void
dp_ports_publish(struct dp *dp, struct dp_port *add, struct dp_port *remove)
{
    pthread_rwlock_wrlock(&dp->exec_lock);
    if (remove) {
        ptrmap_remove(dp->ports, dp_port_hash(remove->port_no), remove);
        ptrmap_shrink(dp->ports);
    }
    if (add) {
        ptrmap_insert(dp->ports, dp_port_hash(add->port_no), add);
    }
    pthread_rwlock_unlock(&dp->exec_lock);
}

/* ---- Datapath threads --------------------------------------------------- */

static void
dp_pmds_start(struct dp *dp)
{
    atomic_store_relaxed(&dp->pmds_stop, false);
    for (unsigned int i = 0; i < dp->n_pmds; i++) {
        struct dp_pmd *pmd = dp->pmds[i];
        char name[24];
        int error;

        error = pthread_create(&pmd->thread, NULL, dp_pmd_main, pmd);
        if (error) {
            fatal("dp: cannot start datapath thread %u: %s", i,
                  strerror(error));
        }
        snprintf(name, sizeof name, "dp-pmd%u", i);
        pthread_setname_np(pmd->thread, name);
        pmd->running = true;
    }
}

static void
dp_pmds_stop(struct dp *dp)
{
    atomic_store_relaxed(&dp->pmds_stop, true);
    seq_change(dp->room_seq);
    for (unsigned int i = 0; i < dp->n_pmds; i++) {
        struct dp_pmd *pmd = dp->pmds[i];

        if (pmd->running) {
            dp_pmd_wake(pmd);
            pthread_join(pmd->thread, NULL);
            pmd->running = false;
        }
    }
}

static struct dp_pmd *
dp_pmd_create(struct dp *dp, unsigned int id)
{
    struct dp_pmd *pmd =
        aligned_alloc(CACHE_LINE_SIZE, ROUND_UP(sizeof *pmd, CACHE_LINE_SIZE));

    if (!pmd) {
        fatal("dp: out of memory for a datapath thread");
    }
    memset(pmd, 0, sizeof *pmd);
    pmd->dp = dp;
    pmd->id = id;
    pmd->poll_list = xzalloc(sizeof *pmd->poll_list);
    pmd->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pmd->wake_fd < 0) {
        fatal("dp: eventfd: %s", strerror(errno));
    }
    pmd->emc = dp_emc_create();
    pmd->rng = 0x2545f491u * (id + 1);
    return pmd;
}

static void
dp_pmd_destroy(struct dp_pmd *pmd)
{
    for (size_t i = 0; i < pmd->n_pending; i++) {
        netdev_packet_recycle(pmd->pending[i].packet);
    }
    free(pmd->pending);
    dp_emc_destroy(pmd->emc);
    close(pmd->wake_fd);
    free(pmd->poll_list);
    free(pmd);
}

/* ---- Maintenance thread ------------------------------------------------- */

static void *
dp_maint_main(void *dp_)
{
    struct dp *dp = dp_;
    uint64_t next_sort = time_msec() + DP_SORT_INTERVAL_MS;

    for (;;) {
        uint64_t seen = seq_read(dp->maint_seq);
        bool draining = atomic_load_relaxed(&dp->n_draining) != 0;
        uint64_t tick_ms =
            draining ? DP_MAINT_DRAIN_TICK_MS : DP_MAINT_TICK_MS;

        if (atomic_load_relaxed(&dp->maint_exit)) {
            break;
        }
        seq_wait_until(dp->maint_seq, seen, time_nsec() + tick_ms * 1000000u);

        if (atomic_load_relaxed(&dp->n_draining)) {
            dp_drain_advance(dp, true);
        }

        if (rcu_qsbr_queue_n_pending(dp->rcu)) {
            rcu_qsbr_queue_reclaim(dp->rcu);
        }
        if (time_msec() >= next_sort) {
            pthread_mutex_lock(&dp->flow_mutex);
            dpcls_sort(&dp->cls);
            pthread_mutex_unlock(&dp->flow_mutex);
            dp_flow_pools_trim(dp);
            next_sort = time_msec() + DP_SORT_INTERVAL_MS;
        }
    }
    return NULL;
}

/* ---- Life cycle --------------------------------------------------------- */

int
dp_create(const struct dp_config *cfg, struct dp **dpp)
{
    unsigned int queue_size =
        cfg->queue_size ? cfg->queue_size : DP_DEFAULT_QUEUE_SIZE;
    struct dp *dp;

    *dpp = NULL;
    if (cfg->n_threads > DP_MAX_THREADS || cfg->n_handlers > DP_MAX_HANDLERS
        || queue_size > DP_MAX_QUEUE_SIZE
        || cfg->max_sleep_us > DP_MAX_SLEEP_US_MAX) {
        return EINVAL;
    }

    dp = xzalloc(sizeof *dp);
    dp->n_pmds = cfg->n_threads;
    dp->queue_size = queue_size;
    dp->max_flows = cfg->max_flows;
    dp->emc_enabled = cfg->emc_enabled;
    dp->upcall_port_share = cfg->upcall_port_share;
    dp->emc_insert_inv_prob = MAX(cfg->emc_insert_inv_prob, 1u);
    dp->max_sleep_us = cfg->max_sleep_us;

    dp->rcu = rcu_qsbr_queue_create();
    dp_flow_table_init(dp);
    dp_drain_init(dp);

    pthread_mutex_init(&dp->port_mutex, NULL);
    pthread_rwlock_init(&dp->exec_lock, NULL);
    dp->ports = xmalloc(sizeof *dp->ports);
    ptrmap_init_rcu(dp->ports, rcu_qsbr_queue_postpone_hook, dp->rcu);
    dp->meters = dp_meters_create(rcu_qsbr_queue_postpone_hook, dp->rcu);

    dp->queues = dp_queues_create(cfg->n_handlers, queue_size);
    dp->n_handlers = cfg->n_handlers;
    dp->room_seq = seq_create();
    {
        pthread_rwlockattr_t attr;

        /* A datapath thread only ever trylocks it for reading: with
         * writers preferred, a change never waits for the threads to stop
         * taking it. */
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(
            &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&dp->idle_work_lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }

    dp->pmds = xcalloc(MAX(dp->n_pmds, 1u), sizeof(struct dp_pmd *));
    for (unsigned int i = 0; i < dp->n_pmds; i++) {
        dp->pmds[i] = dp_pmd_create(dp, i);
    }

    dp->maint_seq = seq_create();
    if (pthread_create(&dp->maint_thread, NULL, dp_maint_main, dp)) {
        fatal("dp: cannot start the maintenance thread");
    }
    pthread_setname_np(dp->maint_thread, "dp-maint");

    dp_pmds_start(dp);
    *dpp = dp;
    return 0;
}

void
dp_destroy(struct dp *dp)
{
    struct ptrmap_pos pos;
    struct dp_port *port;

    if (!dp) {
        return;
    }
    dp_pmds_stop(dp);

    atomic_store_relaxed(&dp->maint_exit, true);
    seq_change(dp->maint_seq);
    pthread_join(dp->maint_thread, NULL);

    /* No thread reads anything any more: free directly. */
    PTRMAP_FOR_EACH (port, &pos, dp->ports) {
        free(port);
    }
    ptrmap_destroy(dp->ports);
    free(dp->ports);

    for (unsigned int i = 0; i < dp->n_pmds; i++) {
        dp_pmd_destroy(dp->pmds[i]);
    }
    free(dp->pmds);

    dp_flow_table_destroy(dp);
    dp_queues_destroy(dp->queues, dp->n_handlers);
    dp_drain_destroy(dp);
    rcu_qsbr_queue_destroy(dp->rcu);
    dp_meters_destroy(dp->meters);

    seq_destroy(dp->maint_seq);
    seq_destroy(dp->room_seq);
    pthread_rwlock_destroy(&dp->exec_lock);
    pthread_rwlock_destroy(&dp->idle_work_lock);
    pthread_mutex_destroy(&dp->port_mutex);
    free(dp);
}

void
dp_set_idle_work(struct dp *dp, dp_idle_work_fn *fn, void *aux)
{
    pthread_rwlock_wrlock(&dp->idle_work_lock);
    dp->idle_work_fn = fn;
    dp->idle_work_aux = aux;
    atomic_store_relaxed(&dp->idle_work_on, fn != NULL);
    pthread_rwlock_unlock(&dp->idle_work_lock);
}

void
dp_set_emc(struct dp *dp, bool enabled, unsigned int insert_inv_prob)
{
    atomic_store_relaxed(&dp->emc_insert_inv_prob, MAX(insert_inv_prob, 1u));
    atomic_store_relaxed(&dp->emc_enabled, enabled);
}

void
dp_set_max_sleep(struct dp *dp, unsigned int max_sleep_us)
{
    atomic_store_relaxed(&dp->max_sleep_us,
                         MIN(max_sleep_us, DP_MAX_SLEEP_US_MAX));
}

unsigned int
dp_get_max_sleep(const struct dp *dp)
{
    return atomic_load_relaxed(&dp->max_sleep_us);
}

void
dp_set_max_flows(struct dp *dp, size_t max_flows)
{
    atomic_store_relaxed(&dp->max_flows, max_flows);
}

unsigned int
dp_n_threads(const struct dp *dp)
{
    return dp->n_pmds;
}

/* ---- Ports -------------------------------------------------------------- */

int
dp_port_add(struct dp *dp, struct netdev *netdev, uint32_t port_no)
{
    struct dp_port *port;

    if (port_no == DP_PORT_NONE) {
        return EINVAL;
    }
    pthread_mutex_lock(&dp->port_mutex);
    if (dp_port_table_find(dp->ports, port_no)) {
        pthread_mutex_unlock(&dp->port_mutex);
        return EEXIST;
    }

    port = xzalloc(sizeof *port);
    port->port_no = port_no;
    port->netdev = netdev;
    port->lossless = netdev_is_lossless(netdev);
    port->pmd_id = UINT32_MAX;
    for (unsigned int i = 0; i < dp->n_pmds; i++) {
        if (port->pmd_id == UINT32_MAX
            || dp->pmds[i]->poll_list->n
                   < dp->pmds[port->pmd_id]->poll_list->n) {
            port->pmd_id = i;
        }
    }

    dp_ports_publish(dp, port, NULL);
    if (port->pmd_id != UINT32_MAX) {
        struct dp_pmd *pmd = dp->pmds[port->pmd_id];
        struct dp_poll_list *old = pmd->poll_list;

        atomic_store_release(&pmd->poll_list,
                             dp_poll_list_replace(old, port, NULL));
        rcu_qsbr_queue_postpone(dp->rcu, free, old);
        dp_pmd_wake(pmd);
    }
    pthread_mutex_unlock(&dp->port_mutex);
    return 0;
}

static void dp_port_fill_stats(const struct dp_port *, struct dp_port_stats *);

int
dp_port_del(struct dp *dp, uint32_t port_no)
{
    return dp_port_del_stats(dp, port_no, NULL);
}

int
dp_port_del_stats(struct dp *dp, uint32_t port_no, struct dp_port_stats *stats)
{
    struct dp_poll_list *old_list = NULL;
    struct dp_port *port;

    pthread_mutex_lock(&dp->port_mutex);
    port = dp_port_table_find(dp->ports, port_no);
    if (!port) {
        pthread_mutex_unlock(&dp->port_mutex);
        return ENOENT;
    }
    dp_ports_publish(dp, NULL, port);
    if (port->pmd_id != UINT32_MAX) {
        struct dp_pmd *pmd = dp->pmds[port->pmd_id];

        old_list = pmd->poll_list;
        atomic_store_release(&pmd->poll_list,
                             dp_poll_list_replace(old_list, NULL, port));
    }
    /* After this, no datapath thread holds 'port' or its netdev. */
    rcu_qsbr_synchronize();
    if (stats) {
        dp_port_fill_stats(port, stats); /* Final: nobody counts any more. */
    }
    free(old_list);
    free(port);
    pthread_mutex_unlock(&dp->port_mutex);
    return 0;
}

/* Adds the counters of 'netdev' to '*sum'. */
static void
dp_netdev_stats_add(const struct netdev *netdev, struct netdev_stats *sum)
{
    struct netdev_stats ns;

    netdev_get_stats(netdev, &ns);
    sum->rx_packets += ns.rx_packets;
    sum->rx_bytes += ns.rx_bytes;
    sum->tx_packets += ns.tx_packets;
    sum->tx_bytes += ns.tx_bytes;
    sum->rx_dropped += ns.rx_dropped;
    sum->tx_dropped += ns.tx_dropped;
    sum->rx_errors += ns.rx_errors;
    sum->tx_errors += ns.tx_errors;
}

static void
dp_port_fill_stats(const struct dp_port *port, struct dp_port_stats *stats)
{
    struct netdev_stats ns;

    memset(stats, 0, sizeof *stats);
    stats->port_no = port->port_no;
    stats->thread = port->pmd_id;
    stats->rx = atomic_load_relaxed(&port->rx);
    stats->parse_drop = atomic_load_relaxed(&port->parse_drop);
    stats->lost = atomic_load_relaxed(&port->lost);
    stats->lost_port_share = atomic_load_relaxed(&port->lost_port_share);
    stats->lossless_waits = atomic_load_relaxed(&port->lossless_waits);
    ns = port->detached;
    if (port->netdev) {
        dp_netdev_stats_add(port->netdev, &ns);
    }
    stats->tx_missing = atomic_load_relaxed(&port->tx_missing);
    stats->missing = !port->netdev;
    stats->netdev_rx_packets = ns.rx_packets;
    stats->netdev_rx_bytes = ns.rx_bytes;
    stats->netdev_tx_packets = ns.tx_packets;
    stats->netdev_tx_bytes = ns.tx_bytes;
    stats->netdev_rx_dropped = ns.rx_dropped;
    stats->netdev_tx_dropped = ns.tx_dropped + stats->tx_missing;
    stats->netdev_rx_errors = ns.rx_errors;
    stats->netdev_tx_errors = ns.tx_errors;
}

int
dp_port_get_stats(struct dp *dp, uint32_t port_no, struct dp_port_stats *stats)
{
    struct dp_port *port;

    pthread_mutex_lock(&dp->port_mutex);
    port = dp_port_table_find(dp->ports, port_no);
    if (!port) {
        pthread_mutex_unlock(&dp->port_mutex);
        return ENOENT;
    }
    dp_port_fill_stats(port, stats);
    pthread_mutex_unlock(&dp->port_mutex);
    return 0;
}

/* Detaches the netdev of port 'port_no' into '*oldp' ('netdev' NULL) or
 * attaches 'netdev' to it (see dp_port_detach() and dp_port_attach()). */
static int
dp_port_swap_netdev(struct dp *dp, uint32_t port_no, struct netdev *netdev,
                    struct netdev **oldp)
{
    struct dp_port *port;
    int error = 0;

    *oldp = NULL;
    pthread_mutex_lock(&dp->port_mutex);
    port = dp_port_table_find(dp->ports, port_no);
    if (!port) {
        error = ENOENT;
    } else if (!netdev == !port->netdev) {
        error = netdev ? EBUSY : EALREADY;
    } else if (netdev) {
        atomic_store_release(&port->netdev, netdev);
        if (port->pmd_id != UINT32_MAX) {
            dp_pmd_wake(dp->pmds[port->pmd_id]); /* Sleep on its fd too. */
        }
    } else {
        *oldp = port->netdev;
        atomic_store_release(&port->netdev, NULL);
        /* Datapath threads let go of it at their next quiescent state,
         * dp_execute() and dp_operate() when they drop exec_lock. */
        rcu_qsbr_synchronize();
        pthread_rwlock_wrlock(&dp->exec_lock);
        pthread_rwlock_unlock(&dp->exec_lock);
        dp_netdev_stats_add(*oldp, &port->detached);
    }
    pthread_mutex_unlock(&dp->port_mutex);
    return error;
}

int
dp_port_detach(struct dp *dp, uint32_t port_no, struct netdev **netdevp)
{
    return dp_port_swap_netdev(dp, port_no, NULL, netdevp);
}

int
dp_port_attach(struct dp *dp, uint32_t port_no, struct netdev *netdev)
{
    struct netdev *old;

    return dp_port_swap_netdev(dp, port_no, netdev, &old);
}

static int
dp_compare_u32(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *)a_, b = *(const uint32_t *)b_;

    return a < b ? -1 : a > b;
}

size_t
dp_port_list(struct dp *dp, uint32_t *out, size_t max)
{
    const struct dp_port *port;
    struct ptrmap_pos pos;
    uint32_t *all;
    size_t n = 0;

    pthread_mutex_lock(&dp->port_mutex);
    all = xmalloc((ptrmap_count(dp->ports) + 1) * sizeof *all);
    PTRMAP_FOR_EACH (port, &pos, dp->ports) {
        all[n++] = port->port_no;
    }
    pthread_mutex_unlock(&dp->port_mutex);

    qsort(all, n, sizeof *all, dp_compare_u32);
    memcpy(out, all, MIN(n, max) * sizeof *out);
    free(all);
    return n;
}

bool
dp_port_rx_done(struct dp *dp, uint32_t port_no)
{
    struct dp_port *port;
    bool done = false;

    pthread_mutex_lock(&dp->port_mutex);
    port = dp_port_table_find(dp->ports, port_no);
    if (port) {
        done = atomic_load_relaxed(&port->rx_done);
    }
    pthread_mutex_unlock(&dp->port_mutex);
    return done;
}

int
dp_port_stop_rx(struct dp *dp, uint32_t port_no)
{
    struct dp_port *port;

    pthread_mutex_lock(&dp->port_mutex);
    port = dp_port_table_find(dp->ports, port_no);
    if (port) {
        /* The polling thread checks the flag before every receive. */
        atomic_store_relaxed(&port->rx_done, true);
    }
    pthread_mutex_unlock(&dp->port_mutex);
    return port ? 0 : ENOENT;
}

/* ---- Statistics --------------------------------------------------------- */

void
dp_get_stats(struct dp *dp, struct dp_stats *stats)
{
    uint64_t c[DP_N_COUNTERS];

    for (int k = 0; k < DP_N_COUNTERS; k++) {
        c[k] = atomic_load_relaxed(&dp->shared_counters[k]);
        for (unsigned int i = 0; i < dp->n_pmds; i++) {
            c[k] += atomic_load_relaxed(&dp->pmds[i]->counters[k]);
        }
    }
    memset(stats, 0, sizeof *stats);
    stats->n_rx = c[DP_C_RX];
    stats->n_emc_hit = c[DP_C_EMC_HIT];
    stats->n_dpcls_hit = c[DP_C_DPCLS_HIT];
    stats->n_hit = stats->n_emc_hit + stats->n_dpcls_hit;
    stats->n_missed = c[DP_C_MISSED];
    stats->n_lost_queue_full = c[DP_C_LOST_QUEUE_FULL];
    stats->n_lost_port_share = c[DP_C_LOST_PORT_SHARE];
    stats->n_lost_no_handler = c[DP_C_LOST_NO_HANDLER];
    stats->n_lost_shutdown = c[DP_C_LOST_SHUTDOWN];
    stats->n_lost = stats->n_lost_queue_full + stats->n_lost_port_share
                    + stats->n_lost_no_handler + stats->n_lost_shutdown;
    stats->n_parse_drop = c[DP_C_PARSE_DROP];
    stats->n_parse_error = c[DP_C_PARSE_ERROR];
    stats->n_subtable_probes = c[DP_C_SUBTABLE_PROBES];
    stats->n_action_upcall = c[DP_C_ACTION_UPCALL];
    stats->n_action_upcall_lost = c[DP_C_ACTION_UPCALL_LOST];
    stats->n_tx_no_port = c[DP_C_TX_NO_PORT];
    stats->n_drop_action = c[DP_C_DROP_ACTION];
    stats->n_meter_drop = c[DP_C_METER_DROP];
    stats->n_recirc_drop = c[DP_C_RECIRC_DROP];
    stats->n_recirc_upcall = c[DP_C_RECIRC_UPCALL];
    stats->n_lossless_waits = c[DP_C_LOSSLESS_WAITS];
    stats->n_executed = c[DP_C_EXECUTED];
    stats->n_drain_upcall = c[DP_C_DRAIN_UPCALL];
    stats->n_drain_upcall_lost = c[DP_C_DRAIN_LOST];
    stats->n_drain_flips = c[DP_C_DRAIN_FLIP];
    stats->n_idle_work = c[DP_C_IDLE_WORK];
    stats->n_wake_deferred = c[DP_C_WAKE_DEFERRED];
    stats->n_port_paused = c[DP_C_PORT_PAUSED];
    stats->busy_ns = c[DP_C_BUSY_NS];
    stats->idle_ns = c[DP_C_IDLE_NS];
    stats->n_light_sleeps = c[DP_C_LIGHT_SLEEP];
    stats->n_draining = atomic_load_relaxed(&dp->n_draining);
    stats->n_flows = atomic_load_relaxed(&dp->n_flows);
    stats->n_masks = dpcls_n_subtables(&dp->cls);
}

/* ---- Execute ------------------------------------------------------------ */

/* Runs 'actions' on 'pkt' in 'ctx' (exec_lock held for reading). */
void
dp_execute__(struct dp_exec_ctx *ctx, struct dp_packet *pkt,
             const struct dp_actions *actions, bool may_steal)
{
    struct dp_packet_batch batch;
    const struct flow *keys[1];
    struct flow key;

    if (!may_steal) {
        pkt = dp_packet_clone(pkt);
    }
    packet_parse(pkt, &key);
    keys[0] = &key;
    batch.count = 1;
    batch.packets[0] = pkt;
    dp_execute_actions(ctx, &batch, keys, actions, NULL);
    dp_ctx_count(ctx, DP_C_EXECUTED, 1);
}

int
dp_execute(struct dp *dp, struct dp_packet *pkt,
           const struct dp_actions *actions, bool may_steal)
{
    struct dp_tx_set tx = {.n = 0};
    struct dp_exec_ctx ctx = {.dp = dp, .pmd = NULL, .tx = &tx};

    pthread_rwlock_rdlock(&dp->exec_lock);
    dp_execute__(&ctx, pkt, actions, may_steal);
    dp_tx_set_flush(&tx);
    pthread_rwlock_unlock(&dp->exec_lock);
    return 0;
}

/* ---- Meters ------------------------------------------------------------- */

/* Meters change under exec_lock held for writing, as ports do: a thread
 * outside the datapath threads reads them only under it for reading, and
 * the datapath threads' grace period comes from the QSBR queue. */
int
dp_meter_set(struct dp *dp, uint32_t id, const struct dp_meter_config *cfg)
{
    int error;

    pthread_rwlock_wrlock(&dp->exec_lock);
    error = dp_meters_set(dp->meters, id, cfg, time_nsec());
    pthread_rwlock_unlock(&dp->exec_lock);
    return error;
}

void
dp_meter_del(struct dp *dp, uint32_t id)
{
    pthread_rwlock_wrlock(&dp->exec_lock);
    dp_meters_del(dp->meters, id);
    pthread_rwlock_unlock(&dp->exec_lock);
}

bool
dp_meter_get_stats(struct dp *dp, uint32_t id, struct dp_meter_stats *stats)
{
    return dp_meters_get_stats(dp->meters, id, stats);
}

/* ---- Handlers ----------------------------------------------------------- */

/* Moves the upcalls of the old queues to 'queues' (datapath threads
 * stopped, exec_lock held).  Those that do not fit are dropped and their
 * count moves from "queued" to "lost". */
static void
dp_queues_move(struct dp *dp, struct dp_upcall_queue **queues, unsigned int n)
{
    struct dp_exec_ctx ctx = {.dp = dp, .pmd = NULL};

    for (unsigned int i = 0; i < dp->n_handlers; i++) {
        struct dp_flow *drain_flow;
        struct dp_upcall up;

        /* Whatever the handler took is done: it has stopped. */
        dp_uqueue_batch_done(dp->queues[i]);
        while (
            dp_uqueue_move_one(dp->queues[i], queues, n, &up, &drain_flow)) {
            enum dp_counter queued, lost;

            if (up.type == DP_UPCALL_MISS) {
                queued = DP_C_MISSED;
                lost = n ? DP_C_LOST_QUEUE_FULL : DP_C_LOST_NO_HANDLER;
            } else if (up.type == DP_UPCALL_DRAIN) {
                queued = DP_C_DRAIN_UPCALL;
                lost = DP_C_DRAIN_LOST;
            } else {
                queued = DP_C_ACTION_UPCALL;
                lost = DP_C_ACTION_UPCALL_LOST;
            }
            dp_upcall_discard(&up);
            if (drain_flow) {
                dp_drain_release(drain_flow);
            }
            /* Counters wrap modulo 2^64, so adding -1 subtracts. */
            dp_ctx_count(&ctx, queued, UINT64_MAX);
            dp_ctx_count(&ctx, lost, 1);
        }
    }
}

int
dp_set_n_handlers(struct dp *dp, unsigned int n_handlers)
{
    struct dp_upcall_queue **queues;

    if (n_handlers > DP_MAX_HANDLERS) {
        return EINVAL;
    }
    if (n_handlers == dp->n_handlers) {
        /* Nothing to move.  Pausing the datapath threads would cut short a
         * lossless port's wait for queue room and lose its packet (a
         * replay that started before its handlers). */
        return 0;
    }
    pthread_mutex_lock(&dp->port_mutex);
    dp_pmds_stop(dp);
    pthread_rwlock_wrlock(&dp->exec_lock);

    queues = dp_queues_create(n_handlers, dp->queue_size);
    pthread_mutex_lock(&dp->drain_mutex);
    dp_queues_move(dp, queues, n_handlers);
    dp_queues_destroy(dp->queues, dp->n_handlers);
    dp->queues = queues;
    dp->n_handlers = n_handlers;
    dp_drain_queues_changed(dp);
    pthread_mutex_unlock(&dp->drain_mutex);

    pthread_rwlock_unlock(&dp->exec_lock);
    dp_pmds_start(dp);
    pthread_mutex_unlock(&dp->port_mutex);
    return 0;
}
