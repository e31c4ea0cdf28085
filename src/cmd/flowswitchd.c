/*
 * flowswitchd — the switch: ports, the datapath, one OpenFlow bridge, the
 * handlers and revalidators, and the control socket (see cmd/daemon.h for
 * how the pieces fit and which thread does what, and daemon-config.c for
 * the command line).
 *
 *   flowswitchd [--port SPEC]... [--flows FILE] [--ctl SOCKET]
 *               [--handlers N] [--revalidators N] [--flow-limit N]
 *               [--max-idle MS] [--max-revalidator MS]
 *               [--min-revalidate-pps N] [--datapath-threads N]
 *               [--datapath-max-sleep US]
 *               [--governor auto|on|off] [--upcall-mode auto|threads]
 *               [--exit-when-drained]
 *               [--listen TARGET]... [--controller TARGET]...
 *               [--fail-mode standalone|secure] [--datapath-id HEX]
 *               [--packet-in-rate N] [--probe-interval MS]
 *               [--log-file F] [--verbose]
 *
 * Start-up order matters: the bridge gets its flows first (a file, or
 * priority=0,actions=normal), then every port (each known to the bridge
 * before the datapath polls it), then the handlers start, then the control
 * socket.  So the first packets wait in the upcall queues until every port
 * exists, and none is translated against a half-built switch (a packet
 * sent to a port the datapath does not have yet would be dropped).
 * Shutdown (SIGINT, SIGTERM, `exit`, or the end of a replay with
 * --exit-when-drained) reverses it: the socket closes, every
 * port stops receiving, the switch drains until every packet is accounted
 * for, one revalidator round pushes the last statistics, the summary is
 * printed, and then handlers, ports (their captures flushed) and the
 * datapath go.  A second signal exits at once.
 *
 * Exit status: 0 after a clean shutdown, 1 for bad usage or a start-up
 * failure (one line on stderr saying what), 128 + N after a second
 * signal N.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cmd/daemon.h"
#include "control/control.h"
#include "datapath/datapath.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "openflow/ofmgr.h"
#include "upcall/upcall.h"

VLOG_DEFINE_THIS_MODULE(flowswitchd);

#define DAEMON_TICK_MS 1000     /* Progress, coverage, rule timeouts. */
#define DAEMON_DRAIN_POLL_MS 10 /* --exit-when-drained: how often to look. */
#define DAEMON_SETTLE_POLL_MS 5 /* Shutdown: how often to look. */
#define DAEMON_SETTLE_MAX_MS 30000 /* Shutdown: give up draining after. */

/* ---- Exit requests ------------------------------------------------------ */

void
daemon_wake(struct daemon *d)
{
    uint64_t one = 1;

    if (write(d->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is saturated, so the loop wakes anyway. */
    }
}

void
daemon_request_exit(struct daemon *d, enum daemon_exit reason)
{
    int expected = DAEMON_RUNNING;

    atomic_cas_acq_rel(&d->exit_reason, &expected, (int)reason);
    daemon_wake(d);
}

enum daemon_exit
daemon_exit_requested(const struct daemon *d)
{
    return (enum daemon_exit)atomic_load_acquire(&d->exit_reason);
}

/* ---- Signals ------------------------------------------------------------ */

/* SIGINT and SIGTERM are blocked in every thread (the mask is set before
 * the first thread starts and inherited) and taken synchronously by this
 * thread with sigwait(): no handler runs in the middle of anything, and no
 * system call anywhere sees EINTR.  SIGUSR1 from the main thread ends it. */
struct signal_thread {
    pthread_t thread;
    struct daemon *daemon;
    sigset_t set;
    bool started;
    bool stop; /* Atomic. */
};

static void *
signal_main(void *st_)
{
    struct signal_thread *st = st_;
    unsigned int n_signals = 0;

    for (;;) {
        int sig;

        if (sigwait(&st->set, &sig)) {
            continue;
        }
        if (sig == SIGUSR1) {
            if (atomic_load_acquire(&st->stop)) {
                return NULL;
            }
            continue;
        }
        if (++n_signals > 1) {
            /* The operator insists: no draining, no summary. */
            static const char msg[] =
                "flowswitchd: second signal, exiting at once\n";

            if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
                /* Nothing more to do about it. */
            }
            _exit(128 + sig);
        }
        atomic_store_release(&st->daemon->exit_signal, sig);
        daemon_request_exit(st->daemon, DAEMON_EXIT_SIGNAL);
    }
}

/* Blocks the signals this process handles, in the calling thread and so in
 * every thread it creates from now on. */
static void
signals_block(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Blocks the signals (before the first thread starts, so that every thread
 * inherits the mask) for 'st' to take them for 'd' once started. */
static void
signal_thread_init(struct signal_thread *st, struct daemon *d)
{
    memset(st, 0, sizeof *st);
    signals_block(&st->set);
    st->daemon = d;
}

static int
signal_thread_start(struct signal_thread *st, char **errorp)
{
    if (pthread_create(&st->thread, NULL, signal_main, st)) {
        *errorp = xstrdup("cannot start the signal thread");
        return EAGAIN;
    }
    st->started = true;
    return 0;
}

static void
signal_thread_stop(struct signal_thread *st)
{
    if (st->started) {
        atomic_store_release(&st->stop, true);
        pthread_kill(st->thread, SIGUSR1);
        pthread_join(st->thread, NULL);
        st->started = false;
    }
}

/* ---- Start-up ----------------------------------------------------------- */

/* The default socket lives in the rundir, created 0750 if missing; one
 * that is a symbolic link or someone else's is refused (NULL, with one
 * line in '*errorp'). */
static char *
default_ctl_path(char **errorp)
{
    char *rundir = control_default_rundir();
    int error = control_prepare_rundir(rundir, errorp);

    free(rundir);
    return error ? NULL : control_default_socket_path();
}

static int
daemon_start_upcalls(struct daemon *d, char **errorp)
{
    struct upcall_config ucfg = d->cfg.upcall;
    int error;

    /* The adaptive limit starts at its default, below --flow-limit. */
    ucfg.flow_limit = MIN(ucfg.flow_limit, ucfg.max_flow_limit);
    error = upcall_create(DAEMON_BRIDGE, d->dp, d->ofproto, &ucfg, &d->udpif);
    if (error) {
        *errorp = xasprintf("cannot start the handlers (%s)", strerror(error));
    }
    return error;
}

/* The default datapath id: 48 bits of a hash of the control socket path,
 * so that switches on one host differ and a restarted one keeps its id. */
static uint64_t
default_datapath_id(const char *ctl_path)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (const char *p = ctl_path; *p; p++) {
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    return h & 0xffffffffffffull;
}

static int
daemon_start_openflow(struct daemon *d, char **errorp)
{
    struct ofmgr_config ocfg = d->cfg.ofmgr;
    int error;

    if (!ocfg.n_listeners && !ocfg.n_controllers) {
        return 0;
    }
    if (!d->cfg.have_datapath_id) {
        ocfg.datapath_id = default_datapath_id(d->cfg.ctl_path);
    }
    error = ofmgr_create(&ocfg, d->ofproto, d->dp, &d->ofmgr, errorp);
    if (!error) {
        upcall_set_packet_in_hook(d->udpif, ofmgr_packet_in_hook, d->ofmgr);
    }
    return error;
}

static int
daemon_start_datapath(struct daemon *d, char **errorp)
{
    struct dp_config dcfg = d->cfg.dp;
    int error;

    /* One upcall queue per handler; room for as many flows as the
     * revalidators may let in. */
    dcfg.n_handlers = d->cfg.upcall.n_handlers;
    dcfg.max_flows = MAX(dcfg.max_flows, d->cfg.upcall.max_flow_limit);
    error = dp_create(&dcfg, &d->dp);
    if (error) {
        *errorp =
            xasprintf("cannot create the datapath (%s)", strerror(error));
    }
    return error;
}

/* The bridge's first flows: the --flows file, none for a controller to
 * decide (as with Open vSwitch), or a learning switch. */
static int
daemon_start_flows(struct daemon *d, char **errorp)
{
    if (d->cfg.flows_path) {
        return daemon_load_flows(d, d->cfg.flows_path, errorp);
    }
    if (d->cfg.ofmgr.n_controllers) {
        return 0;
    }
    return ofproto_flow_mod_str(d->ofproto, DAEMON_DEFAULT_FLOWS,
                                FLOW_TEXT_ADD, errorp);
}

/* Adds every --port, and checks that --exit-when-drained has a replay to
 * wait for. */
static int
daemon_start_ports(struct daemon *d, char **errorp)
{
    bool any_replay = false;

    for (size_t i = 0; i < d->cfg.n_port_specs; i++) {
        struct daemon_port_spec spec;
        int error;

        error = daemon_port_spec_parse(d->cfg.port_specs[i], &spec, errorp);
        if (!error) {
            error = daemon_port_add(d, &spec, errorp);
        }
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < d->n_ports; i++) {
        any_replay |= daemon_port_is_replay(d->ports[i]);
    }
    if (d->cfg.exit_when_drained && !any_replay) {
        *errorp = xstrdup("--exit-when-drained needs a port that "
                          "replays a capture (type=pcap with rx=FILE)");
        return EINVAL;
    }
    return 0;
}

/* Creates the datapath and the bridge, loads the flows, adds the ports and
 * starts the handlers, the OpenFlow channel and the link monitor.  Returns
 * 0, or an errno value with one line in '*errorp'. */
static int
daemon_start(struct daemon *d, char **errorp)
{
    int error;

    *errorp = NULL;
    error = daemon_start_datapath(d, errorp);
    if (error) {
        return error;
    }
    d->ofproto = ofproto_create(DAEMON_BRIDGE);
    ofproto_set_datapath(d->ofproto, d->dp);
    error = daemon_start_flows(d, errorp);
    if (!error) {
        error = daemon_start_ports(d, errorp);
    }
    if (!error) {
        error = daemon_start_upcalls(d, errorp);
    }
    if (!error) {
        error = daemon_start_openflow(d, errorp);
    }
    if (!error) {
        daemon_link_start(d);
    }
    return error;
}

/* ---- Running ------------------------------------------------------------ */

static void
daemon_wait(struct daemon *d, uint64_t timeout_ms)
{
    struct pollfd pfd = {.fd = d->wake_fd, .events = POLLIN};

    if (poll(&pfd, 1, (int)MIN(timeout_ms, (uint64_t)INT32_MAX)) > 0) {
        uint64_t count;

        if (read(d->wake_fd, &count, sizeof count) < 0) {
            /* EAGAIN: someone else drained it. */
        }
    }
}

static void
daemon_run(struct daemon *d, bool progress, bool tty)
{
    uint64_t next_tick = 0;
    struct daemon_settle prev;
    bool have_prev = false;

    while (!daemon_exit_requested(d)) {
        uint64_t now = time_msec(), timeout;

        daemon_commands_run(d);
        daemon_link_run(d);
        if (now >= next_tick) {
            coverage_run(now);
            ofproto_run_timeouts(d->ofproto, now);
            if (progress && next_tick) {
                daemon_progress(d, stderr, tty);
            }
            next_tick = now + DAEMON_TICK_MS;
        }
        timeout = next_tick - now;

        if (d->cfg.exit_when_drained) {
            /* Drained: every replay ended and the counters stood still,
             * all accounted for, over one poll interval. */
            if (daemon_replay_ended(d)) {
                struct daemon_settle cur;

                daemon_settle_sample(d, &cur);
                if (have_prev && daemon_settled(&prev, &cur)) {
                    daemon_request_exit(d, DAEMON_EXIT_DRAINED);
                    break;
                }
                prev = cur;
                have_prev = true;
            }
            timeout = MIN(timeout, DAEMON_DRAIN_POLL_MS);
        }
        daemon_wait(d, timeout);
    }
    if (progress) {
        daemon_progress(d, stderr, tty);
        if (tty) {
            fputc('\n', stderr);
        }
    }
}

/* Stops every port's receive side and waits until every packet inside is
 * accounted for (or DAEMON_SETTLE_MAX_MS pass). */
static void
daemon_drain(struct daemon *d)
{
    uint64_t deadline = time_msec() + DAEMON_SETTLE_MAX_MS;
    struct daemon_settle prev, cur;

    for (size_t i = 0; i < d->n_ports; i++) {
        dp_port_stop_rx(d->dp, d->ports[i]->dp_port);
    }
    daemon_settle_sample(d, &prev);
    for (;;) {
        daemon_wait(d, DAEMON_SETTLE_POLL_MS);
        daemon_settle_sample(d, &cur);
        if (daemon_settled(&prev, &cur)) {
            return;
        }
        if (time_msec() > deadline) {
            VLOG_WARN("the switch did not drain in %d ms: the summary may "
                      "show packets in flight",
                      DAEMON_SETTLE_MAX_MS);
            return;
        }
        prev = cur;
    }
}

static void
daemon_log_exit(struct daemon *d)
{
    switch (daemon_exit_requested(d)) {
    case DAEMON_EXIT_SIGNAL: {
        int sig = atomic_load_acquire(&d->exit_signal);

        VLOG_INFO("%s: shutting down", strsignal(sig));
        break;
    }
    case DAEMON_EXIT_COMMAND:
        VLOG_INFO("exit command: shutting down");
        break;
    case DAEMON_EXIT_DRAINED:
        VLOG_INFO("every replay has ended and the switch is idle: shutting "
                  "down");
        break;
    case DAEMON_RUNNING:
    default:
        break;
    }
}

/* Tears down what daemon_start() built (any part of it may be missing). */
static void
daemon_destroy(struct daemon *d)
{
    daemon_link_stop(d);
    if (d->udpif) {
        upcall_destroy(d->udpif);
    }
    /* After the handlers (its packet-in hook), before ports, datapath and
     * bridge (its thread uses them). */
    ofmgr_destroy(d->ofmgr);
    d->ofmgr = NULL;
    for (size_t i = 0; i < d->n_ports; i++) {
        struct daemon_port *port = d->ports[i];

        if (port->netdev) {
            netdev_flush(port->netdev);
        }
        dp_port_del(d->dp, port->dp_port);
        netdev_close(port->netdev);
        daemon_port_spec_destroy(&port->spec);
        free(port);
    }
    free(d->ports);
    if (d->dp) {
        dp_destroy(d->dp);
    }
    if (d->ofproto) {
        ofproto_destroy(d->ofproto);
    }
}

/* Parses the command line into 'cfg' and settles what it leaves open: the
 * log file and the control socket.  Returns -1 to go on, or the exit
 * status (after one line on stderr if it is 1). */
static int
daemon_configure(int argc, char *argv[], struct daemon_config *cfg)
{
    char *error = NULL;
    int status;

    daemon_config_init(cfg);
    status = daemon_config_parse(argc, argv, cfg);
    if (status >= 0) {
        return status;
    }
    if (cfg->log_file && vlog_set_file(cfg->log_file)) {
        fprintf(stderr, "flowswitchd: cannot open log file \"%s\" (%s)\n",
                cfg->log_file, strerror(errno));
        return 1;
    }
    if (!cfg->ctl_path) {
        cfg->ctl_path = default_ctl_path(&error);
        if (!cfg->ctl_path) {
            fprintf(stderr, "flowswitchd: %s\n", error);
            free(error);
            return 1;
        }
    }
    return -1;
}

/* The daemon's own plumbing: its clock, wake-up eventfd and job queue. */
static int
daemon_init(struct daemon *d, char **errorp)
{
    d->start_ms = time_msec();
    d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&d->mutex, NULL);
    list_init(&d->jobs);
    if (d->wake_fd < 0) {
        int error = errno;

        *errorp = xasprintf("eventfd: %s", strerror(error));
        return error;
    }
    return 0;
}

/* Builds the switch, then opens the control socket and starts taking
 * signals.  Returns 0, or an errno value with one line in '*errorp'. */
static int
daemon_open(struct daemon *d, struct signal_thread *st, char **errorp)
{
    int error = daemon_start(d, errorp);

    if (error) {
        return error;
    }
    control_set_version("flowswitchd");
    daemon_commands_register(d);
    error = control_server_create(d->cfg.ctl_path, &d->control, errorp);
    if (!error) {
        error = signal_thread_start(st, errorp);
    }
    if (!error) {
        VLOG_INFO("flowswitchd 0.1.0: bridge %s with %zu ports, %u handlers, "
                  "%u revalidators, %u datapath threads; control socket %s",
                  DAEMON_BRIDGE, d->n_ports, upcall_n_handlers(d->udpif),
                  upcall_n_revalidators(d->udpif), dp_n_threads(d->dp),
                  d->cfg.ctl_path);
    }
    return error;
}

/* Runs the switch until an exit is requested, then shuts it down in
 * order: the control socket closes, the switch drains, the last
 * statistics reach the rules and the summary is printed. */
static void
daemon_serve(struct daemon *d)
{
    /* On a terminal the progress line rewrites itself, unless log lines
     * share the terminal (then each progress line is a line of its own). */
    bool tty = isatty(STDERR_FILENO);

    daemon_run(d, tty || d->cfg.verbose, tty && d->cfg.log_file);
    daemon_log_exit(d);
    daemon_commands_close(d);
    control_server_destroy(d->control);
    d->control = NULL;
    daemon_drain(d);
    /* One round pushes the last statistics to the rules (an operator may
     * have paused the revalidators: the round would never come). */
    upcall_revalidators_resume(d->udpif);
    upcall_revalidator_wait(d->udpif);
    daemon_summary(d, stdout);
    upcall_purge(d->udpif); /* Every flow's last statistics to its rule. */
}

/* Reports 'error' (if any) and releases everything, whatever got built. */
static void
daemon_close(struct daemon *d, struct signal_thread *st, char *error)
{
    if (error) {
        fprintf(stderr, "flowswitchd: %s\n", error);
        free(error);
    }
    if (d->control) {
        daemon_commands_close(d);
        control_server_destroy(d->control);
    }
    daemon_destroy(d);
    rcu_wait_postponed(); /* Let postponed frees run. */
    rcu_thread_unregister();
    netdev_pool_purge();
    signal_thread_stop(st); /* Last: a second signal works until the end. */
    if (d->wake_fd >= 0) {
        close(d->wake_fd);
    }
    pthread_mutex_destroy(&d->mutex);
    daemon_config_destroy(&d->cfg);
    vlog_set_file(NULL);
}

int
main(int argc, char *argv[])
{
    struct signal_thread sig_thread;
    struct daemon d;
    char *error = NULL;
    int status;

    memset(&d, 0, sizeof d);
    status = daemon_configure(argc, argv, &d.cfg);
    if (status >= 0) {
        daemon_config_destroy(&d.cfg);
        return status;
    }
    signal_thread_init(&sig_thread, &d);
    rcu_thread_register();
    status = 1;
    if (!daemon_init(&d, &error) && !daemon_open(&d, &sig_thread, &error)) {
        daemon_serve(&d);
        status = 0;
    }
    daemon_close(&d, &sig_thread, error);
    return status;
}
