/* cmd/daemon-cmds.c — flowswitchd's control commands (see daemon.h).
 *
 * Every command here runs in the main thread (the upcall module's managing
 * thread, which upcall/set-handlers and upcall/set-revalidators need): the
 * control server's thread calls cmd_queue(), which copies the request into
 * a job, queues it and wakes the main loop; daemon_commands_run() runs the jobs in arrival
 * order and each answers its request.  A command therefore never races
 * with port changes, flow loading or shutdown, and may call anything that
 * needs a liburcu-registered thread.  Output layouts follow Open vSwitch
 * 3.1 (checked against ovs-vswitchd with a dummy datapath). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/daemon.h"
#include "control/control.h"
#include "datapath/datapath.h"
#include "flow/field.h"
#include "flow/flow-text.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/list.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "ofproto/group.h"
#include "ofproto/mac-learning.h"
#include "ofproto/ofproto.h"
#include "openflow/ofp-codec.h"
#include "upcall/upcall.h"

VLOG_DEFINE_THIS_MODULE(daemon_cmds);

COVERAGE_DEFINE(daemon_cmd_refused_shutdown);
COVERAGE_DEFINE(daemon_flow_file_error);
COVERAGE_DEFINE(daemon_flow_reply_deferred);

typedef void daemon_cmd_fn(struct daemon *, struct control_conn *, int argc,
                           const char *argv[]);

struct daemon_cmd {
    const char *name;
    const char *usage;
    int min_args, max_args;
    daemon_cmd_fn *fn;
};

struct daemon_job {
    struct list node; /* In daemon->jobs or a taken batch. */
    const struct daemon_cmd *cmd;
    struct control_conn *conn;
    int argc;
    char **argv;
};

/* The daemon the commands act on (one per process). */
static struct daemon *cmd_daemon;

/* ---- The job queue ------------------------------------------------------ */

static void
cmd_queue(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    struct daemon *d = cmd_daemon;
    struct daemon_job *job;
    bool closed;

    job = xzalloc(sizeof *job);
    job->cmd = aux;
    job->conn = conn;
    job->argc = argc;
    job->argv = xcalloc((size_t)argc + 1, sizeof *job->argv);
    for (int i = 0; i < argc; i++) {
        job->argv[i] = xstrdup(argv[i]);
    }

    pthread_mutex_lock(&d->mutex);
    closed = d->jobs_closed;
    if (!closed) {
        list_push_back(&d->jobs, &job->node);
    }
    pthread_mutex_unlock(&d->mutex);

    if (closed) {
        COVERAGE_INC(daemon_cmd_refused_shutdown);
        control_reply_error(conn, "flowswitchd is shutting down\n");
        for (int i = 0; i < argc; i++) {
            free(job->argv[i]);
        }
        free(job->argv);
        free(job);
        return;
    }
    daemon_wake(d);
}

static void
job_free(struct daemon_job *job)
{
    for (int i = 0; i < job->argc; i++) {
        free(job->argv[i]);
    }
    free(job->argv);
    free(job);
}

/* Moves every queued job, in order, to the empty list 'jobs', so that
 * they run without the mutex and commands queued meanwhile wait for the
 * next call. */
static void
jobs_take(struct daemon *d, struct list *jobs)
{
    pthread_mutex_lock(&d->mutex);
    while (!list_is_empty(&d->jobs)) {
        list_push_back(jobs, list_pop_front(&d->jobs));
    }
    pthread_mutex_unlock(&d->mutex);
}

/* ---- Replies that wait for the flow cache ------------------------------- */

/* A flow command's success reply, held until the revalidators have
 * brought the cached flows in line with the tables (ofproto.h "Cache
 * sync"): like an OpenFlow barrier, the reply means the change is in
 * force for every packet. */
struct daemon_sync_reply {
    struct list node; /* In daemon->sync_replies. */
    struct control_conn *conn;
    uint64_t target; /* The bridge's change sequence after the change. */
};

static void
daemon_cache_notify(void *d)
{
    daemon_wake(d);
}

/* Answers 'conn' with success once the change just made is in force. */
static void
daemon_reply_when_synced(struct daemon *d, struct control_conn *conn)
{
    uint64_t target = ofproto_get_change_seq(d->ofproto);
    struct daemon_sync_reply *r;

    if (ofproto_cache_is_synced(d->ofproto, target)) {
        control_reply(conn, "");
        return;
    }
    COVERAGE_INC(daemon_flow_reply_deferred);
    r = xmalloc(sizeof *r);
    r->conn = conn;
    r->target = target;
    list_push_back(&d->sync_replies, &r->node);
}

/* Answers the held replies whose change is in force now; at shutdown
 * ('closing') the others too, with an error. */
static void
daemon_sync_replies_run(struct daemon *d, bool closing)
{
    struct daemon_sync_reply *r;

    LIST_FOR_EACH_SAFE (r, node, &d->sync_replies) {
        if (ofproto_cache_is_synced(d->ofproto, r->target)) {
            control_reply(r->conn, "");
        } else if (closing) {
            COVERAGE_INC(daemon_cmd_refused_shutdown);
            control_reply_error(r->conn, "flows changed, but flowswitchd is "
                                         "shutting down before the cached "
                                         "flows caught up\n");
        } else {
            continue;
        }
        list_remove(&r->node);
        free(r);
    }
}

/* ---- The job queue, continued ------------------------------------------- */

void
daemon_commands_run(struct daemon *d)
{
    struct list jobs = LIST_INITIALIZER(&jobs);
    struct daemon_job *job;

    daemon_sync_replies_run(d, false);
    jobs_take(d, &jobs);
    LIST_FOR_EACH_SAFE (job, node, &jobs) {
        job->cmd->fn(d, job->conn, job->argc, (const char **)job->argv);
        job_free(job);
    }
}

void
daemon_commands_close(struct daemon *d)
{
    struct list jobs = LIST_INITIALIZER(&jobs);
    struct daemon_job *job;

    pthread_mutex_lock(&d->mutex);
    d->jobs_closed = true;
    pthread_mutex_unlock(&d->mutex);

    jobs_take(d, &jobs);
    LIST_FOR_EACH_SAFE (job, node, &jobs) {
        COVERAGE_INC(daemon_cmd_refused_shutdown);
        control_reply_error(job->conn, "flowswitchd is shutting down\n");
        job_free(job);
    }
    daemon_sync_replies_run(d, true);
    if (d->cache_watched) {
        ofproto_cache_unwatch(d->ofproto, &d->cache_watcher);
        d->cache_watched = false;
    }
}

/* ---- Helpers ------------------------------------------------------------ */

static void
reply_ds(struct control_conn *conn, struct ds *s)
{
    control_reply(conn, ds_cstr(s));
    ds_destroy(s);
}

/* Replies with 'error' (one line, freed here) as the command's error. */
static void
reply_error_line(struct control_conn *conn, char *error)
{
    char *text = xasprintf("%s\n", error);

    control_reply_error(conn, text);
    free(text);
    free(error);
}

/* Drops a leading "--strict" from 'argv'.  Returns whether it was there. */
static bool
take_strict(int *argc, const char ***argv)
{
    if (*argc > 1 && !strcmp((*argv)[1], "--strict")) {
        (*argv)++; /* argv[0] becomes the dropped word. */
        (*argc)--;
        return true;
    }
    return false;
}

/* ovs-ofctl's commands name the bridge first: accept "br0" there and
 * drop it when 'argc' exceeds 'max_without' or the argument is the
 * bridge's name.  Returns false (having replied) for another bridge. */
static bool
take_bridge(struct control_conn *conn, int *argc, const char ***argv,
            int max_without)
{
    if (*argc <= 1) {
        return true;
    }
    if (!strcmp((*argv)[1], DAEMON_BRIDGE)) {
        (*argv)++; /* argv[0] becomes the dropped word. */
        (*argc)--;
        return true;
    }
    if (*argc - 1 > max_without) {
        reply_error_line(conn, xasprintf("no bridge named \"%s\" (this "
                                         "switch has one, %s)",
                                         (*argv)[1], DAEMON_BRIDGE));
        return false;
    }
    return true;
}

/* Appends OVS's human-readable size for byte counts of 1 KiB or more. */
static void
format_bytes(uint64_t bytes, struct ds *s)
{
    ds_put_format(s, "%" PRIu64, bytes);
    if (bytes >= 1024) {
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
        double v = (double)bytes / 1024.0;
        size_t u = 0;

        while (v >= 1024.0 && u + 1 < ARRAY_SIZE(units)) {
            v /= 1024.0;
            u++;
        }
        ds_put_format(s, " (%.1f %s)", v, units[u]);
    }
}

static const char *
port_name_by_dp(struct daemon *d, uint32_t dp_port)
{
    for (size_t i = 0; i < d->n_ports; i++) {
        if (d->ports[i]->dp_port == dp_port) {
            return d->ports[i]->spec.name;
        }
    }
    return NULL;
}

static const struct daemon_port *
port_by_dp(struct daemon *d, uint32_t dp_port)
{
    for (size_t i = 0; i < d->n_ports; i++) {
        if (d->ports[i]->dp_port == dp_port) {
            return d->ports[i];
        }
    }
    return NULL;
}

/* "TYPE" or, for a port with a status, "TYPE: KEY=VALUE, ..." (as Open
 * vSwitch shows an afxdp port's configuration). */
static void
format_port_type(struct daemon *d, uint32_t dp_port, struct ds *s)
{
    const struct daemon_port *port = port_by_dp(d, dp_port);
    struct ds status = DS_EMPTY_INITIALIZER;

    if (!port) {
        ds_put_char(s, '?');
        return;
    }
    ds_put_cstr(s, port->spec.type);
    if (port->missing) {
        /* As Open vSwitch shows a port whose netdev it cannot open. */
        ds_put_cstr(s, ": open failed (No such device)");
        return;
    }
    netdev_get_status(port->netdev, &status);
    if (status.length) {
        ds_put_cstr(s, ": ");
        for (const char *p = ds_cstr(&status); *p; p++) {
            if (*p == ' ') {
                ds_put_cstr(s, ", ");
            } else {
                ds_put_char(s, *p);
            }
        }
    }
    ds_destroy(&status);
}

/* ---- dpctl/... ----------------------------------------------------------- */

static void
dpctl_show_port_stats(struct daemon *d, uint32_t dp_port, struct ds *s)
{
    struct dp_port_stats st;

    if (dp_port_get_stats(d->dp, dp_port, &st)) {
        return;
    }
    ds_put_format(s,
                  "    RX packets:%" PRIu64 " errors:%" PRIu64
                  " dropped:%" PRIu64 " overruns:? frame:?\n",
                  st.netdev_rx_packets, st.netdev_rx_errors,
                  st.netdev_rx_dropped);
    ds_put_format(s,
                  "    TX packets:%" PRIu64 " errors:%" PRIu64
                  " dropped:%" PRIu64 " aborted:? carrier:?\n",
                  st.netdev_tx_packets, st.netdev_tx_errors,
                  st.netdev_tx_dropped);
    ds_put_cstr(s, "    collisions:?\n    RX bytes:");
    format_bytes(st.netdev_rx_bytes, s);
    ds_put_cstr(s, "  TX bytes:");
    format_bytes(st.netdev_tx_bytes, s);
    ds_put_char(s, '\n');
}

/* dpctl/show [-s] [DP] */
static void
cmd_dpctl_show(struct daemon *d, struct control_conn *conn, int argc,
               const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;
    bool stats = false;
    struct dp_stats st;
    uint32_t ports[OFPROTO_MAX_PORTS];
    size_t n_ports;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--statistics")) {
            stats = true;
        } else if (strcmp(argv[i], DAEMON_BRIDGE) != 0
                   && strcmp(argv[i], DAEMON_DP_NAME) != 0) {
            reply_error_line(conn,
                             xasprintf("no datapath named \"%s\"", argv[i]));
            return;
        }
    }

    dp_get_stats(d->dp, &st);
    uint64_t lookups = st.n_hit + st.n_missed + st.n_lost;
    ds_put_format(&s, "%s:\n", DAEMON_DP_NAME);
    ds_put_format(
        &s, "  lookups: hit:%" PRIu64 " missed:%" PRIu64 " lost:%" PRIu64 "\n",
        st.n_hit, st.n_missed, st.n_lost);
    ds_put_format(&s, "  flows: %" PRIu64 "\n", st.n_flows);
    ds_put_format(&s,
                  "  masks: hit:%" PRIu64 " total:%" PRIu64 " hit/pkt:%.2f\n",
                  st.n_subtable_probes, st.n_masks,
                  lookups ? (double)st.n_subtable_probes / lookups : 0.0);
    ds_put_format(&s, "  cache: hit:%" PRIu64 " hit-rate:%.2f%%\n",
                  st.n_emc_hit,
                  lookups ? 100.0 * st.n_emc_hit / lookups : 0.0);
    ds_put_format(&s,
                  "  lost: queue-full:%" PRIu64 " port-share:%" PRIu64
                  " no-handler:%" PRIu64 " shutdown:%" PRIu64 "\n",
                  st.n_lost_queue_full, st.n_lost_port_share,
                  st.n_lost_no_handler, st.n_lost_shutdown);
    ds_put_format(&s,
                  "  dropped: unparsable:%" PRIu64 " drop-action:%" PRIu64
                  " no-port:%" PRIu64 " meter:%" PRIu64 " recirc:%" PRIu64
                  "\n",
                  st.n_parse_drop, st.n_drop_action, st.n_tx_no_port,
                  st.n_meter_drop, st.n_recirc_drop);
    ds_put_format(&s,
                  "  draining: flows:%" PRIu64 " hits-queued:%" PRIu64
                  " hits-lost:%" PRIu64 " flipped:%" PRIu64 "\n",
                  st.n_draining, st.n_drain_upcall, st.n_drain_upcall_lost,
                  st.n_drain_flips);
    ds_put_format(&s,
                  "  idle work: batches:%" PRIu64 " wakes-deferred:%" PRIu64
                  " ports-paused:%" PRIu64 "\n",
                  st.n_idle_work, st.n_wake_deferred, st.n_port_paused);
    ds_put_format(&s,
                  "  datapath threads: busy:%" PRIu64 "ms idle:%" PRIu64
                  "ms (polling with nothing to do; sleep not counted) "
                  "light-load-sleeps:%" PRIu64 " (max %uus)\n",
                  st.busy_ns / 1000000, st.idle_ns / 1000000,
                  st.n_light_sleeps, dp_get_max_sleep(d->dp));

    n_ports = dp_port_list(d->dp, ports, ARRAY_SIZE(ports));
    for (size_t i = 0; i < MIN(n_ports, ARRAY_SIZE(ports)); i++) {
        const char *name = port_name_by_dp(d, ports[i]);
        const struct daemon_port *port;

        ds_put_format(&s, "  port %" PRIu32 ": %s (", ports[i],
                      name ? name : "?");
        format_port_type(d, ports[i], &s);
        ds_put_char(&s, ')');
        port = port_by_dp(d, ports[i]);
        if (port) {
            daemon_link_show(port, &s);
        }
        ds_put_char(&s, '\n');
        if (stats) {
            dpctl_show_port_stats(d, ports[i], &s);
        }
    }
    reply_ds(conn, &s);
}

/* dpctl/dump-flows [-m] [DP] */
static void
cmd_dpctl_dump_flows(struct daemon *d, struct control_conn *conn, int argc,
                     const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct dp_flow_info flows[50];
    struct dp_flow_dump *dump;
    bool verbose = false;
    size_t n;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--more")) {
            verbose = true;
        } else if (strcmp(argv[i], DAEMON_BRIDGE) != 0
                   && strcmp(argv[i], DAEMON_DP_NAME) != 0) {
            reply_error_line(conn,
                             xasprintf("no datapath named \"%s\"", argv[i]));
            return;
        }
    }

    dump = dp_flow_dump_create(d->dp);
    while ((n = dp_flow_dump_next(dump, flows, ARRAY_SIZE(flows)))) {
        for (size_t i = 0; i < n; i++) {
            dp_flow_format(&flows[i], verbose, &s);
            ds_put_char(&s, '\n');
            dp_flow_info_uninit(&flows[i]);
        }
    }
    dp_flow_dump_destroy(dump);
    reply_ds(conn, &s);
}

/* dpctl/del-flows [DP] */
static void
cmd_dpctl_del_flows(struct daemon *d, struct control_conn *conn, int argc,
                    const char *argv[])
{
    if (argc > 1 && strcmp(argv[1], DAEMON_BRIDGE) != 0
        && strcmp(argv[1], DAEMON_DP_NAME) != 0) {
        reply_error_line(conn, xasprintf("no datapath named \"%s\"", argv[1]));
        return;
    }
    size_t n = dp_flow_flush(d->dp);
    VLOG_INFO("dpctl/del-flows: deleted %zu datapath flows", n);
    control_reply(conn, "");
}

/* ---- OpenFlow flows ----------------------------------------------------- */

/* A flow given as text reaches the bridge as `ovs-ofctl add-flow` would
 * carry it to Open vSwitch (flow_text_as_openflow10()), so that dump-flows
 * prints what ovs-ofctl prints there. */
static void
flow_mod_reply(struct daemon *d, struct control_conn *conn, const char *text,
               enum flow_text_mode mode)
{
    struct flow_text ft;
    char *error = NULL;
    int status;

    status = flow_text_parse(text, mode, &ft, &error);
    if (!status) {
        flow_text_as_openflow10(&ft);
        status = ofproto_flow_mods(d->ofproto, &ft, 1, &error);
    }
    flow_text_destroy(&ft);
    if (status) {
        reply_error_line(conn, error);
    } else {
        daemon_reply_when_synced(d, conn);
    }
}

/* add-flow [BRIDGE] FLOW */
static void
cmd_add_flow(struct daemon *d, struct control_conn *conn, int argc,
             const char *argv[])
{
    if (take_bridge(conn, &argc, &argv, 1)) {
        flow_mod_reply(d, conn, argv[1], FLOW_TEXT_ADD);
    }
}

/* mod-flows [--strict] [BRIDGE] FLOW */
static void
cmd_mod_flows(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    bool strict = take_strict(&argc, &argv);

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (argc != 2) {
        control_reply_error(conn, "mod-flows: expected [--strict] [BRIDGE] "
                                  "FLOW\n");
        return;
    }
    flow_mod_reply(d, conn, argv[1],
                   strict ? FLOW_TEXT_MODIFY_STRICT : FLOW_TEXT_MODIFY);
}

/* del-flows [--strict] [BRIDGE] [MATCH] */
static void
cmd_del_flows(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    bool strict = take_strict(&argc, &argv);

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (argc > 2) {
        control_reply_error(conn, "del-flows: expected [--strict] [BRIDGE] "
                                  "[MATCH]\n");
        return;
    }
    flow_mod_reply(d, conn, argc > 1 ? argv[1] : "",
                   strict ? FLOW_TEXT_DELETE_STRICT : FLOW_TEXT_DELETE);
}

/* dump-flows [BRIDGE] [MATCH] */
static void
cmd_dump_flows(struct daemon *d, struct control_conn *conn, int argc,
               const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct flow_text filter;
    char *error = NULL;

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (argc > 1) {
        if (flow_text_parse(argv[1], FLOW_TEXT_DELETE, &filter, &error)) {
            reply_error_line(conn, error);
            return;
        }
        ofproto_dump_flows(d->ofproto, &filter, &s);
        flow_text_destroy(&filter);
    } else {
        ofproto_dump_flows(d->ofproto, NULL, &s);
    }
    reply_ds(conn, &s);
}

/* dump-tables [BRIDGE] */
static void
cmd_dump_tables(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!take_bridge(conn, &argc, &argv, 0)) {
        return;
    }
    ofproto_dump_tables(d->ofproto, &s);
    reply_ds(conn, &s);
}

/* ---- OpenFlow groups --------------------------------------------------- */

/* A group given as text reaches the bridge as `ovs-ofctl -O OpenFlow13
 * add-group` carries it (mod_dl_src becomes set_field...), so that
 * dump-groups prints what ovs-ofctl prints for Open vSwitch; all but its
 * selection method, which OpenFlow 1.3 cannot carry and the text can
 * (group.h).  Returns 0 or an OpenFlow error. */
static int
group_mod_as_openflow13(struct group_mod *gm)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct group_mod carried;
    int error;

    ofp_encode_group_mod(&b, 0, gm);
    error = ofp_decode_group_mod(b.data, b.size, &carried);
    ofpbuf_uninit(&b);
    if (!error) {
        group_selection_destroy(&carried.selection);
        carried.selection = gm->selection;
        memset(&gm->selection, 0, sizeof gm->selection);
        group_mod_destroy(gm);
        *gm = carried;
    }
    return error;
}

/* add-group / mod-group / del-groups [BRIDGE] GROUP: the group-mod in
 * ovs-ofctl's syntax; the reply waits for the cached flows as a flow
 * command's does. */
static void
group_mod_reply(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[], enum group_mod_command command)
{
    struct group_mod gm;
    char *error = NULL;
    char buf[64];
    int ofperr = 0;

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (!group_mod_parse(argc > 1 ? argv[1] : "", command, &gm, &error)
        && !(ofperr = group_mod_as_openflow13(&gm))
        && !ofproto_group_mod(d->ofproto, &gm, &error)) {
        daemon_reply_when_synced(d, conn);
    } else if (ofperr) {
        reply_error_line(conn,
                         xasprintf("group: \"%s\" cannot be carried "
                                   "over OpenFlow 1.3 (%s)",
                                   argv[1], ofperr_to_string(ofperr, buf)));
    } else {
        reply_error_line(conn, error);
    }
    group_mod_destroy(&gm);
}

static void
cmd_add_group(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    group_mod_reply(d, conn, argc, argv, GROUP_MOD_ADD);
}

static void
cmd_mod_group(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    group_mod_reply(d, conn, argc, argv, GROUP_MOD_MODIFY);
}

static void
cmd_del_groups(struct daemon *d, struct control_conn *conn, int argc,
               const char *argv[])
{
    group_mod_reply(d, conn, argc, argv, GROUP_MOD_DELETE);
}

/* dump-groups / dump-group-stats [BRIDGE] [[group_id=]ID] */
static void
group_dump_reply(struct daemon *d, struct control_conn *conn, int argc,
                 const char *argv[], bool stats)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    uint32_t id = GROUP_ID_ALL;

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (argc > 1) {
        const char *arg = argv[1];
        uint64_t x;

        arg += strncasecmp(arg, "group_id=", 9) ? 0 : 9;
        if (!field_parse_uint(arg, UINT32_MAX, &x)) {
            reply_error_line(conn, xasprintf("%s: bad group id \"%s\" "
                                             "(expected [group_id=]N)",
                                             argv[0], argv[1]));
            return;
        }
        id = (uint32_t)x;
    }
    ofproto_dump_groups(d->ofproto, id, stats, &s);
    reply_ds(conn, &s);
}

static void
cmd_dump_groups(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[])
{
    group_dump_reply(d, conn, argc, argv, false);
}

static void
cmd_dump_group_stats(struct daemon *d, struct control_conn *conn, int argc,
                     const char *argv[])
{
    group_dump_reply(d, conn, argc, argv, true);
}

/* add-flows [BRIDGE] FILE */
static void
cmd_add_flows(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    char *error = NULL;

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (daemon_load_flows(d, argv[1], &error)) {
        reply_error_line(conn, error);
    } else {
        daemon_reply_when_synced(d, conn);
    }
}

/* Parses the flow file 'path' into 'file', bounded by what the bridge can
 * hold.  Returns 0, or an errno value with one line in '*errorp'. */
static int
daemon_parse_flow_file(struct daemon *d, const char *path,
                       struct flow_text_file *file, char **errorp)
{
    struct flow_text_file_options options = {
        .mode = FLOW_TEXT_ADD,
        .max_flows = ofproto_get_max_rules(d->ofproto),
        .max_errors = 1,
    };
    FILE *stream = fopen(path, "r");
    int error;

    if (!stream) {
        error = errno;
        memset(file, 0, sizeof *file);
        *errorp =
            xasprintf("%s: cannot open flow file (%s)", path, strerror(error));
        return error;
    }
    error = flow_text_parse_file(stream, path, &options, file);
    fclose(stream);
    if (error == EINVAL) {
        *errorp = xstrdup(file->errors[0]);
    } else if (error == EFBIG) {
        *errorp = xasprintf("%s:%u: more flow-mods than the bridge holds "
                            "flows (%zu)",
                            path, file->n_lines, options.max_flows);
    } else if (error) {
        *errorp = xasprintf("%s: read error", path);
    }
    return error;
}

int
daemon_load_flows(struct daemon *d, const char *path, char **errorp)
{
    struct flow_text_file file;
    int error;

    *errorp = NULL;
    error = daemon_parse_flow_file(d, path, &file, errorp);
    if (!error && file.n_flows) {
        char *apply_error = NULL;

        for (size_t i = 0; i < file.n_flows; i++) {
            flow_text_as_openflow10(&file.flows[i]);
        }
        error = ofproto_flow_mods(d->ofproto, file.flows, file.n_flows,
                                  &apply_error);
        if (error) {
            *errorp = xasprintf("%s: %s", path, apply_error);
            free(apply_error);
        }
    }
    if (error) {
        COVERAGE_INC(daemon_flow_file_error);
    } else {
        VLOG_INFO("%s: applied %zu flow-mods", path, file.n_flows);
    }
    flow_text_file_destroy(&file);
    return error;
}

/* ---- ofproto/trace, fdb/show -------------------------------------------- */

/* ofproto/trace [BRIDGE] FLOW | [BRIDGE] [in_port=N] PACKET */
static void
cmd_ofproto_trace(struct daemon *d, struct control_conn *conn, int argc,
                  const char *argv[])
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (argc > 2 && !strcmp(argv[1], DAEMON_BRIDGE)) {
        argv++;
        argc--;
    }
    for (int i = 1; i < argc; i++) {
        ds_put_format(&text, "%s%s", i > 1 ? " " : "", argv[i]);
    }
    if (ofproto_trace(d->ofproto, ds_cstr(&text), &s, &error)) {
        reply_error_line(conn, error);
        ds_destroy(&s);
    } else {
        reply_ds(conn, &s);
    }
    ds_destroy(&text);
}

/* fdb/show [BRIDGE] */
static void
cmd_fdb_show(struct daemon *d, struct control_conn *conn, int argc,
             const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;

    if (argc > 1 && strcmp(argv[1], DAEMON_BRIDGE) != 0) {
        reply_error_line(conn, xasprintf("no such bridge \"%s\"", argv[1]));
        return;
    }
    mac_learning_format(ofproto_get_mac_learning(d->ofproto), time_msec(), &s);
    reply_ds(conn, &s);
}

/* ---- Ports -------------------------------------------------------------- */

/* port/add SPEC */
static void
cmd_port_add(struct daemon *d, struct control_conn *conn, int argc,
             const char *argv[])
{
    struct daemon_port_spec spec;
    char *error = NULL;
    char *name;

    (void)argc;
    if (daemon_port_spec_parse(argv[1], &spec, &error)) {
        reply_error_line(conn, error);
        return;
    }
    name = xstrdup(spec.name);
    if (daemon_port_add(d, &spec, &error)) {
        reply_error_line(conn, error);
    } else {
        const struct daemon_port *port = daemon_port_find(d, name);
        struct ds s = DS_EMPTY_INITIALIZER;

        ds_put_format(&s, "port %s: ofport ", name);
        if (port->spec.ofport == OFPP_LOCAL) {
            ds_put_cstr(&s, "LOCAL");
        } else {
            ds_put_format(&s, "%" PRIu32, port->spec.ofport);
        }
        ds_put_format(&s, ", datapath port %" PRIu32 "\n", port->dp_port);
        reply_ds(conn, &s);
    }
    free(name);
}

/* port/del NAME */
static void
cmd_port_del(struct daemon *d, struct control_conn *conn, int argc,
             const char *argv[])
{
    char *error = NULL;

    (void)argc;
    if (daemon_port_del(d, argv[1], &error)) {
        reply_error_line(conn, error);
    } else {
        control_reply(conn, "");
    }
}

/* port/show */
static void
cmd_port_show(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)argc, (void)argv;
    daemon_port_show(d, &s);
    reply_ds(conn, &s);
}

/* ---- Thread counts ------------------------------------------------------ */

/* Parses a thread count in [1, max], or replies with one line. */
static bool
parse_thread_count(struct control_conn *conn, const char *cmd, const char *arg,
                   unsigned int max, unsigned int *n)
{
    unsigned long v;
    char *end;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || *arg == '-' || !v || v > max) {
        reply_error_line(conn, xasprintf("%s: bad thread count \"%s\" "
                                         "(expected 1 to %u)",
                                         cmd, arg, max));
        return false;
    }
    *n = (unsigned int)v;
    return true;
}

static void
reply_thread_count(struct control_conn *conn, unsigned int n, const char *what)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "%s: %u %s\n", DAEMON_BRIDGE, n, what);
    reply_ds(conn, &s);
}

/* upcall/set-handlers N: stops the handlers and starts N new ones; the
 * upcalls queued meanwhile move to the new queues (upcall.h), none is
 * dropped. */
static void
cmd_upcall_set_handlers(struct daemon *d, struct control_conn *conn, int argc,
                        const char *argv[])
{
    unsigned int n;

    (void)argc;
    if (!parse_thread_count(conn, argv[0], argv[1], DP_MAX_HANDLERS, &n)) {
        return;
    }
    if (upcall_set_n_handlers(d->udpif, n)) {
        reply_error_line(conn,
                         xasprintf("%s: cannot run %u handlers", argv[0], n));
        return;
    }
    reply_thread_count(conn, n, "handlers");
}

/* upcall/set-revalidators N: the round in progress ends, then N threads
 * take over. */
static void
cmd_upcall_set_revalidators(struct daemon *d, struct control_conn *conn,
                            int argc, const char *argv[])
{
    unsigned int n;

    (void)argc;
    if (!parse_thread_count(conn, argv[0], argv[1], UPCALL_MAX_REVALIDATORS,
                            &n)) {
        return;
    }
    if (upcall_set_n_revalidators(d->udpif, n)) {
        reply_error_line(
            conn, xasprintf("%s: cannot run %u revalidators", argv[0], n));
        return;
    }
    reply_thread_count(conn, n, "revalidators");
}

/* ---- coverage, memory, vlog, exit --------------------------------------- */

static void
cmd_coverage_show(struct daemon *d, struct control_conn *conn, int argc,
                  const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)d, (void)argc, (void)argv;
    coverage_show(&s);
    reply_ds(conn, &s);
}

/* memory/show: Open vSwitch's "key:value" pairs, sorted by key. */
static void
cmd_memory_show(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct upcall_revalidator_stats rs;
    struct dp_stats st;

    (void)argc, (void)argv;
    dp_get_stats(d->dp, &st);
    upcall_get_revalidator_stats(d->udpif, &rs);
    ds_put_format(
        &s,
        "handlers:%u mac-entries:%zu masks:%" PRIu64 " megaflows:%" PRIu64
        " ports:%zu revalidators:%u rules:%zu udpif keys:%zu\n",
        upcall_n_handlers(d->udpif),
        mac_learning_count(ofproto_get_mac_learning(d->ofproto)), st.n_masks,
        st.n_flows, d->n_ports, upcall_n_revalidators(d->udpif),
        ofproto_n_rules(d->ofproto), rs.n_ukeys);
    reply_ds(conn, &s);
}

/* vlog/set SPEC... */
static void
cmd_vlog_set(struct daemon *d, struct control_conn *conn, int argc,
             const char *argv[])
{
    (void)d;
    for (int i = 1; i < argc; i++) {
        char *error = NULL;

        if (vlog_set_spec(argv[i], &error)) {
            reply_error_line(conn, error);
            return;
        }
    }
    control_reply(conn, "");
}

static void
cmd_vlog_list(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)d, (void)argc, (void)argv;
    vlog_list(&s);
    reply_ds(conn, &s);
}

/* exit [--cleanup]: the reply goes out before the socket closes. */
static void
cmd_exit(struct daemon *d, struct control_conn *conn, int argc,
         const char *argv[])
{
    if (argc > 1 && strcmp(argv[1], "--cleanup") != 0) {
        reply_error_line(conn, xasprintf("exit: unknown option \"%s\" "
                                         "(expected --cleanup)",
                                         argv[1]));
        return;
    }
    VLOG_INFO("exit requested through the control socket");
    control_reply(conn, "");
    daemon_request_exit(d, DAEMON_EXIT_COMMAND);
}

/* ---- Meters ------------------------------------------------------------- */

/* add-meter, mod-meter, del-meters [BRIDGE] METER */
static void
meter_mod_reply(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[], enum ofmeter_command command)
{
    struct ofmeter_config cfg;
    enum ofmeter_error e;
    char *error = NULL;

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (ofmeter_parse(argc > 1 ? argv[1] : "", command, &cfg, &error)) {
        reply_error_line(conn, error);
        return;
    }
    e = ofproto_meter_mod(d->ofproto, command, &cfg);
    if (e) {
        reply_error_line(conn,
                         xasprintf("meter: %s", ofmeter_error_to_string(e)));
        return;
    }
    control_reply(conn, "");
}

static void
cmd_add_meter(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    meter_mod_reply(d, conn, argc, argv, OFMETER_ADD);
}

static void
cmd_mod_meter(struct daemon *d, struct control_conn *conn, int argc,
              const char *argv[])
{
    meter_mod_reply(d, conn, argc, argv, OFMETER_MODIFY);
}

static void
cmd_del_meters(struct daemon *d, struct control_conn *conn, int argc,
               const char *argv[])
{
    meter_mod_reply(d, conn, argc, argv, OFMETER_DELETE);
}

/* dump-meters, meter-stats [BRIDGE] [meter=N]: entries as ovs-ofctl
 * prints them, a blank line between two. */
static void
meter_dump_reply(struct daemon *d, struct control_conn *conn, int argc,
                 const char *argv[], bool stats)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofmeter_config filter;
    struct ofmeter_info *infos;
    char *error = NULL;
    size_t n;

    if (!take_bridge(conn, &argc, &argv, 1)) {
        return;
    }
    if (ofmeter_parse(argc > 1 ? argv[1] : "", OFMETER_DELETE, &filter,
                      &error)) {
        reply_error_line(conn, error);
        return;
    }
    n = ofproto_meter_snapshot(d->ofproto, filter.id, &infos);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            ds_put_char(&s, '\n');
        }
        if (stats) {
            ofmeter_format_stats(&infos[i], &s);
        } else {
            ofmeter_format_config(&infos[i].config, &s);
        }
    }
    free(infos);
    reply_ds(conn, &s);
}

static void
cmd_dump_meters(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[])
{
    meter_dump_reply(d, conn, argc, argv, false);
}

static void
cmd_meter_stats(struct daemon *d, struct control_conn *conn, int argc,
                const char *argv[])
{
    meter_dump_reply(d, conn, argc, argv, true);
}

/* ---- Registration ------------------------------------------------------- */

static const struct daemon_cmd daemon_cmds[] = {
    {"add-flow", "[BRIDGE] FLOW", 1, 2, cmd_add_flow},
    {"add-flows", "[BRIDGE] FILE", 1, 2, cmd_add_flows},
    {"add-group", "[BRIDGE] GROUP", 1, 2, cmd_add_group},
    {"add-meter", "[BRIDGE] METER", 1, 2, cmd_add_meter},
    {"coverage/show", "", 0, 0, cmd_coverage_show},
    {"del-flows", "[--strict] [BRIDGE] [MATCH]", 0, 3, cmd_del_flows},
    {"del-groups", "[BRIDGE] [GROUP]", 0, 2, cmd_del_groups},
    {"del-meters", "[BRIDGE] [meter=N]", 0, 2, cmd_del_meters},
    {"dpctl/del-flows", "[DP]", 0, 1, cmd_dpctl_del_flows},
    {"dpctl/dump-flows", "[-m] [DP]", 0, 2, cmd_dpctl_dump_flows},
    {"dpctl/show", "[-s] [DP]", 0, 2, cmd_dpctl_show},
    {"dump-flows", "[BRIDGE] [MATCH]", 0, 2, cmd_dump_flows},
    {"dump-group-stats", "[BRIDGE] [[group_id=]ID]", 0, 2,
     cmd_dump_group_stats},
    {"dump-groups", "[BRIDGE] [ID]", 0, 2, cmd_dump_groups},
    {"dump-meters", "[BRIDGE] [meter=N]", 0, 2, cmd_dump_meters},
    {"dump-tables", "[BRIDGE]", 0, 1, cmd_dump_tables},
    {"exit", "[--cleanup]", 0, 1, cmd_exit},
    {"fdb/show", "[BRIDGE]", 0, 1, cmd_fdb_show},
    {"memory/show", "", 0, 0, cmd_memory_show},
    {"meter-stats", "[BRIDGE] [meter=N]", 0, 2, cmd_meter_stats},
    {"mod-flows", "[--strict] [BRIDGE] FLOW", 1, 3, cmd_mod_flows},
    {"mod-group", "[BRIDGE] GROUP", 1, 2, cmd_mod_group},
    {"mod-meter", "[BRIDGE] METER", 1, 2, cmd_mod_meter},
    {"ofproto/trace", "[BRIDGE] FLOW | [BRIDGE] [in_port=N] PACKET", 1, 3,
     cmd_ofproto_trace},
    {"port/add", "NAME[,type=T][,ofport=N][,rx=F][,tx=F][,rate=PPS][,loop=N]",
     1, 1, cmd_port_add},
    {"port/del", "NAME", 1, 1, cmd_port_del},
    {"port/show", "", 0, 0, cmd_port_show},
    {"upcall/set-handlers", "N", 1, 1, cmd_upcall_set_handlers},
    {"upcall/set-revalidators", "N", 1, 1, cmd_upcall_set_revalidators},
    {"vlog/list", "", 0, 0, cmd_vlog_list},
    {"vlog/set", "SPEC... (MODULE[:DESTINATION][:LEVEL])", 1, 16,
     cmd_vlog_set},
};

void
daemon_commands_register(struct daemon *d)
{
    cmd_daemon = d;
    list_init(&d->sync_replies);
    ofproto_cache_watch(d->ofproto, &d->cache_watcher, daemon_cache_notify, d);
    d->cache_watched = true;
    for (size_t i = 0; i < ARRAY_SIZE(daemon_cmds); i++) {
        const struct daemon_cmd *cmd = &daemon_cmds[i];

        control_command_register(cmd->name, cmd->usage, cmd->min_args,
                                 cmd->max_args, cmd_queue, (void *)cmd);
    }
}
