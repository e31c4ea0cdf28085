/*
 * flowswitchd — the switch: ports, the datapath, one OpenFlow bridge, the
 * handlers and revalidators, and the control socket (see cmd/daemon.h for
 * how the pieces fit and which thread does what).
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
 * sent to a port the datapath does not have yet would be dropped).  Shutdown (SIGINT, SIGTERM, `exit`, or the end of a
 * replay with --exit-when-drained) reverses it: the socket closes, every
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
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include "cmd/daemon.h"
#include "control/control.h"
#include "datapath/datapath.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
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
#define DAEMON_DEFAULT_FLOWS "priority=0,actions=normal"

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

/* ---- Command line ------------------------------------------------------- */

static void
usage(FILE *out)
{
    char *ctl = control_default_socket_path();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    fprintf(
        out,
        "usage: flowswitchd [OPTIONS]\n"
        "A userspace OpenFlow switch with one bridge, " DAEMON_BRIDGE ".\n\n"
        "  --port SPEC            add a port (repeat for more); SPEC is\n"
        "                         NAME[,type=afpacket|afxdp|tap|pcap|memory]"
        "\n"
        "                         [,ofport=N|LOCAL][,rx=FILE][,tx=FILE]\n"
        "                         [,rate=PPS][,loop=N]"
        "[,xdp-mode=native|skb|auto]\n"
        "                         type defaults to afpacket (NAME is the\n"
        "                         interface), to pcap when rx= or tx= is\n"
        "                         given, to tap for ofport=LOCAL; ofports\n"
        "                         default to 1, 2, ... in order; rate=0\n"
        "                         (default) replays a capture as fast as\n"
        "                         the switch takes it, losing nothing\n"
        "  --flows FILE           load an ovs-ofctl add-flows file at start\n"
        "                         (default: the single flow \"%s\",\n"
        "                         a learning switch)\n"
        "  --ctl SOCKET           control socket (default: %s)\n"
        "  --handlers N           upcall handler threads (default: %ld, the "
        "CPUs)\n"
        "  --revalidators N       revalidator threads (default: %ld, "
        "max(1, CPUs/4))\n"
        "  --flow-limit N         most datapath flows; the revalidators "
        "adapt the\n"
        "                         working limit below it (default: %d)\n"
        "  --max-idle MS          expire a datapath flow unused for MS "
        "msec\n"
        "                         (default: %d)\n"
        "  --max-revalidator MS   start a revalidator round at most MS msec\n"
        "                         after the last one (default: %d)\n"
        "  --min-revalidate-pps N after a slow dump (>= 200 ms), delete\n"
        "                         flows seeing fewer than N packets/s\n"
        "                         instead of revalidating them (default: "
        "%d)\n"
        "  --datapath-threads N   datapath (poll) threads (default: 1)\n"
        "  --datapath-max-sleep US  a datapath thread that received only a\n"
        "                         few packets sleeps up to US microseconds\n"
        "                         before it polls again, so that the next\n"
        "                         batch is fuller (0: never) (default: %d)\n"
        "  --governor MODE        flow-setup governor: auto, on or off\n"
        "                         (default: auto)\n"
        "  --upcall-mode MODE     who runs the handlers' batches: auto\n"
        "                         (handler threads, and datapath threads\n"
        "                         with nothing to forward) or threads\n"
        "                         (handler threads only) (default: auto)\n"
        "  --exit-when-drained    replay mode: once every pcap rx port has\n"
        "                         reached its end and the switch is idle,\n"
        "                         print the summary and exit 0 (default: "
        "off)\n"
        "  --listen TARGET        accept OpenFlow 1.3 connections (ovs-ofctl\n"
        "                         -O OpenFlow13) on ptcp:PORT[:IP] or\n"
        "                         punix:PATH; repeat for more (default: "
        "none)\n"
        "  --controller TARGET    connect to an OpenFlow 1.3 controller at\n"
        "                         tcp:IP[:PORT] (port 6653) or unix:PATH,\n"
        "                         reconnecting with backoff; repeat for more\n"
        "                         (default: none; with one, the bridge\n"
        "                         starts with no flows unless --flows)\n"
        "  --fail-mode MODE       with controllers: standalone (NORMAL while\n"
        "                         none is connected) or secure (the tables\n"
        "                         alone) (default: standalone)\n"
        "  --datapath-id HEX      OpenFlow datapath id (default: derived "
        "from the\n"
        "                         control socket path)\n"
        "  --packet-in-rate N     packet-ins per second per connection, 0 "
        "for no\n"
        "                         limit (default: %d)\n"
        "  --probe-interval MS    send a controller that has been silent "
        "for MS\n"
        "                         msec an echo request; disconnect after "
        "as long\n"
        "                         again unanswered; 0: never (default: "
        "%d)\n"
        "  --log-file F           log to F instead of stderr (default: "
        "stderr)\n"
        "  --verbose              print a progress line every second even "
        "when\n"
        "                         stderr is not a terminal (default: only "
        "on a\n"
        "                         terminal)\n"
        "  --version              print the version and exit\n"
        "  -h, --help             show this help\n\n"
        "Run `flowswitch-ctl [-t SOCKET] list-commands` for the control "
        "commands.\n",
        DAEMON_DEFAULT_FLOWS, ctl, cpus > 0 ? cpus : 1,
        MAX(1, (cpus > 0 ? cpus : 1) / 4), UPCALL_DEFAULT_MAX_FLOW_LIMIT,
        UPCALL_DEFAULT_MAX_IDLE, UPCALL_DEFAULT_MAX_REVALIDATOR,
        UPCALL_DEFAULT_MIN_REVALIDATE_PPS, DP_DEFAULT_MAX_SLEEP_US,
        OFMGR_DEFAULT_PACKET_IN_RATE, OFMGR_DEFAULT_PROBE_INTERVAL);
    free(ctl);
}

/* Parses the value of option 'name' as an integer in [min, max].  Prints
 * one line and returns false if it is not. */
static bool
parse_number(const char *name, const char *value, uint64_t min, uint64_t max,
             uint64_t *out)
{
    char *end;

    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (!*value || *value == '-' || errno || *end || v < min || v > max) {
        fprintf(stderr,
                "flowswitchd: bad %s \"%s\" (expected %" PRIu64 " to %" PRIu64
                ")\n",
                name, value, min, max);
        return false;
    }
    *out = v;
    return true;
}

enum {
    OPT_PORT = 256,
    OPT_FLOWS,
    OPT_CTL,
    OPT_HANDLERS,
    OPT_REVALIDATORS,
    OPT_FLOW_LIMIT,
    OPT_MAX_IDLE,
    OPT_MAX_REVALIDATOR,
    OPT_MIN_REVALIDATE_PPS,
    OPT_DP_THREADS,
    OPT_GOVERNOR,
    OPT_UPCALL_MODE,
    OPT_DP_MAX_SLEEP,
    OPT_EXIT_WHEN_DRAINED,
    OPT_LOG_FILE,
    OPT_VERBOSE,
    OPT_VERSION,
    OPT_LISTEN,
    OPT_CONTROLLER,
    OPT_FAIL_MODE,
    OPT_DATAPATH_ID,
    OPT_PACKET_IN_RATE,
    OPT_PROBE_INTERVAL,
};

static void
config_destroy(struct daemon_config *cfg, char **specs, size_t n_specs)
{
    free(cfg->ctl_path);
    free(cfg->flows_path);
    free(cfg->log_file);
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        free(cfg->listeners[i]);
    }
    free(cfg->listeners);
    for (size_t i = 0; i < cfg->n_controllers; i++) {
        free(cfg->controllers[i]);
    }
    free(cfg->controllers);
    for (size_t i = 0; i < n_specs; i++) {
        free(specs[i]);
    }
    free(specs);
}

/* Parses the command line into 'cfg' and the port SPECs.  Returns -1 to go
 * on, or the exit status. */
static int
parse_options(int argc, char *argv[], struct daemon_config *cfg,
              char ***specsp, size_t *n_specsp)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, OPT_PORT},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"ctl", required_argument, NULL, OPT_CTL},
        {"handlers", required_argument, NULL, OPT_HANDLERS},
        {"revalidators", required_argument, NULL, OPT_REVALIDATORS},
        {"flow-limit", required_argument, NULL, OPT_FLOW_LIMIT},
        {"max-idle", required_argument, NULL, OPT_MAX_IDLE},
        {"max-revalidator", required_argument, NULL, OPT_MAX_REVALIDATOR},
        {"min-revalidate-pps", required_argument, NULL,
         OPT_MIN_REVALIDATE_PPS},
        {"datapath-threads", required_argument, NULL, OPT_DP_THREADS},
        {"datapath-max-sleep", required_argument, NULL, OPT_DP_MAX_SLEEP},
        {"governor", required_argument, NULL, OPT_GOVERNOR},
        {"upcall-mode", required_argument, NULL, OPT_UPCALL_MODE},
        {"exit-when-drained", no_argument, NULL, OPT_EXIT_WHEN_DRAINED},
        {"log-file", required_argument, NULL, OPT_LOG_FILE},
        {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"controller", required_argument, NULL, OPT_CONTROLLER},
        {"fail-mode", required_argument, NULL, OPT_FAIL_MODE},
        {"datapath-id", required_argument, NULL, OPT_DATAPATH_ID},
        {"packet-in-rate", required_argument, NULL, OPT_PACKET_IN_RATE},
        {"probe-interval", required_argument, NULL, OPT_PROBE_INTERVAL},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char **specs = NULL;
    size_t n_specs = 0;
    uint64_t n;
    int c;

    memset(cfg, 0, sizeof *cfg);
    cfg->n_dp_threads = 1;
    cfg->dp_max_sleep_us = DP_DEFAULT_MAX_SLEEP_US;
    cfg->flow_limit = UPCALL_DEFAULT_MAX_FLOW_LIMIT;
    cfg->max_idle = UPCALL_DEFAULT_MAX_IDLE;
    cfg->max_revalidator = UPCALL_DEFAULT_MAX_REVALIDATOR;
    cfg->min_revalidate_pps = UPCALL_DEFAULT_MIN_REVALIDATE_PPS;
    cfg->governor = GOVERNOR_AUTO;
    cfg->upcall_mode = UPCALL_MODE_AUTO;
    cfg->packet_in_rate = OFMGR_DEFAULT_PACKET_IN_RATE;
    cfg->probe_interval = OFMGR_DEFAULT_PROBE_INTERVAL;

#define REPLACE_STRING(FIELD)                                                 \
    do {                                                                      \
        free(FIELD);                                                          \
        (FIELD) = xstrdup(optarg);                                            \
    } while (0)

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_PORT:
            specs = xrealloc(specs, (n_specs + 1) * sizeof *specs);
            specs[n_specs++] = xstrdup(optarg);
            break;
        case OPT_FLOWS:
            REPLACE_STRING(cfg->flows_path);
            break;
        case OPT_CTL:
            REPLACE_STRING(cfg->ctl_path);
            break;
        case OPT_LOG_FILE:
            REPLACE_STRING(cfg->log_file);
            break;
        case OPT_HANDLERS:
            if (!parse_number("--handlers", optarg, 1, DP_MAX_HANDLERS, &n)) {
                goto err;
            }
            cfg->n_handlers = (unsigned int)n;
            break;
        case OPT_REVALIDATORS:
            if (!parse_number("--revalidators", optarg, 1, 64, &n)) {
                goto err;
            }
            cfg->n_revalidators = (unsigned int)n;
            break;
        case OPT_FLOW_LIMIT:
            if (!parse_number("--flow-limit", optarg, 1000, 10000000, &n)) {
                goto err;
            }
            cfg->flow_limit = (size_t)n;
            break;
        case OPT_MAX_IDLE:
            if (!parse_number("--max-idle", optarg, 1, 86400000, &n)) {
                goto err;
            }
            cfg->max_idle = n;
            break;
        case OPT_MAX_REVALIDATOR:
            if (!parse_number("--max-revalidator", optarg, 1, 86400000, &n)) {
                goto err;
            }
            cfg->max_revalidator = n;
            break;
        case OPT_MIN_REVALIDATE_PPS:
            if (!parse_number("--min-revalidate-pps", optarg, 0, UINT32_MAX,
                              &n)) {
                goto err;
            }
            cfg->min_revalidate_pps = (unsigned int)n;
            break;
        case OPT_DP_THREADS:
            if (!parse_number("--datapath-threads", optarg, 1, DP_MAX_THREADS,
                              &n)) {
                goto err;
            }
            cfg->n_dp_threads = (unsigned int)n;
            break;
        case OPT_DP_MAX_SLEEP:
            if (!parse_number("--datapath-max-sleep", optarg, 0,
                              DP_MAX_SLEEP_US_MAX, &n)) {
                goto err;
            }
            cfg->dp_max_sleep_us = (unsigned int)n;
            break;
        case OPT_GOVERNOR:
            if (!strcmp(optarg, "auto")) {
                cfg->governor = GOVERNOR_AUTO;
            } else if (!strcmp(optarg, "on")) {
                cfg->governor = GOVERNOR_FORCE_ON;
            } else if (!strcmp(optarg, "off")) {
                cfg->governor = GOVERNOR_FORCE_OFF;
            } else {
                fprintf(stderr,
                        "flowswitchd: bad --governor \"%s\" (expected "
                        "auto, on or off)\n",
                        optarg);
                goto err;
            }
            break;
        case OPT_UPCALL_MODE:
            if (!upcall_mode_from_string(optarg, &cfg->upcall_mode)) {
                fprintf(stderr,
                        "flowswitchd: bad --upcall-mode \"%s\" (expected "
                        "auto or threads)\n",
                        optarg);
                goto err;
            }
            break;
        case OPT_EXIT_WHEN_DRAINED:
            cfg->exit_when_drained = true;
            break;
        case OPT_LISTEN:
        case OPT_CONTROLLER: {
            bool passive = c == OPT_LISTEN;
            char ***list = passive ? &cfg->listeners : &cfg->controllers;
            size_t *n_list = passive ? &cfg->n_listeners : &cfg->n_controllers;
            char *error = NULL;

            if (ofmgr_check_target(optarg, passive, &error)) {
                fprintf(stderr, "flowswitchd: %s %s\n",
                        passive ? "--listen:" : "--controller:", error);
                free(error);
                goto err;
            }
            *list = xrealloc(*list, (*n_list + 1) * sizeof **list);
            (*list)[(*n_list)++] = xstrdup(optarg);
            break;
        }
        case OPT_FAIL_MODE:
            if (!strcmp(optarg, "standalone")) {
                cfg->fail_secure = false;
            } else if (!strcmp(optarg, "secure")) {
                cfg->fail_secure = true;
            } else {
                fprintf(stderr,
                        "flowswitchd: bad --fail-mode \"%s\" (expected "
                        "standalone or secure)\n",
                        optarg);
                goto err;
            }
            break;
        case OPT_DATAPATH_ID: {
            char *end;

            errno = 0;
            cfg->datapath_id = strtoull(optarg, &end, 16);
            if (!*optarg || *end || errno || *optarg == '-') {
                fprintf(stderr,
                        "flowswitchd: bad --datapath-id \"%s\" (expected "
                        "up to 16 hex digits)\n",
                        optarg);
                goto err;
            }
            cfg->have_datapath_id = true;
            break;
        }
        case OPT_PACKET_IN_RATE:
            if (!parse_number("--packet-in-rate", optarg, 0, 10000000, &n)) {
                goto err;
            }
            cfg->packet_in_rate = (unsigned int)n;
            break;
        case OPT_PROBE_INTERVAL:
            if (!parse_number("--probe-interval", optarg, 0, 3600000, &n)) {
                goto err;
            }
            cfg->probe_interval = n;
            break;
        case OPT_VERBOSE:
            cfg->verbose = true;
            break;
        case OPT_VERSION:
            printf("flowswitchd (flowswitch) 0.1.0\n");
            config_destroy(cfg, specs, n_specs);
            return 0;
        case 'h':
            usage(stdout);
            config_destroy(cfg, specs, n_specs);
            return 0;
        default:
            fprintf(stderr, "flowswitchd: try --help\n");
            goto err;
        }
    }
#undef REPLACE_STRING
    if (optind < argc) {
        fprintf(stderr,
                "flowswitchd: unexpected argument \"%s\" (ports are given "
                "with --port SPEC)\n",
                argv[optind]);
        goto err;
    }
    *specsp = specs;
    *n_specsp = n_specs;
    return -1;

err:
    config_destroy(cfg, specs, n_specs);
    return 1;
}

/* ---- Start-up ----------------------------------------------------------- */

static unsigned int
n_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned int)n : 1;
}

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
    struct upcall_config ucfg;
    int error;

    upcall_config_init(&ucfg);
    ucfg.n_handlers = d->cfg.n_handlers;
    ucfg.n_revalidators = d->cfg.n_revalidators;
    ucfg.max_flow_limit = d->cfg.flow_limit;
    ucfg.flow_limit = MIN(d->cfg.flow_limit, UPCALL_DEFAULT_FLOW_LIMIT);
    ucfg.max_idle = d->cfg.max_idle;
    ucfg.max_revalidator = d->cfg.max_revalidator;
    ucfg.min_revalidate_pps = d->cfg.min_revalidate_pps;
    ucfg.governor = d->cfg.governor;
    ucfg.mode = d->cfg.upcall_mode;
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
    struct ofmgr_config ocfg;
    int error;

    if (!d->cfg.n_listeners && !d->cfg.n_controllers) {
        return 0;
    }
    ofmgr_config_init(&ocfg);
    ocfg.listeners = (const char *const *)d->cfg.listeners;
    ocfg.n_listeners = d->cfg.n_listeners;
    ocfg.controllers = (const char *const *)d->cfg.controllers;
    ocfg.n_controllers = d->cfg.n_controllers;
    ocfg.fail_mode =
        d->cfg.fail_secure ? OFMGR_FAIL_SECURE : OFMGR_FAIL_STANDALONE;
    ocfg.datapath_id = d->cfg.have_datapath_id
                           ? d->cfg.datapath_id
                           : default_datapath_id(d->cfg.ctl_path);
    ocfg.packet_in_rate = d->cfg.packet_in_rate;
    ocfg.probe_interval = d->cfg.probe_interval;
    error = ofmgr_create(&ocfg, d->ofproto, d->dp, &d->ofmgr, errorp);
    if (!error) {
        upcall_set_packet_in_hook(d->udpif, ofmgr_packet_in_hook, d->ofmgr);
    }
    return error;
}

/* Creates the datapath and the bridge, loads the flows, adds the ports and
 * starts the handlers and the OpenFlow channel.  Returns 0, or an errno value with one line in
 * '*errorp'. */
static int
daemon_start(struct daemon *d, char **specs, size_t n_specs, char **errorp)
{
    struct dp_config dcfg;
    int error;

    *errorp = NULL;
    dp_config_init(&dcfg);
    dcfg.n_threads = d->cfg.n_dp_threads;
    dcfg.max_sleep_us = d->cfg.dp_max_sleep_us;
    dcfg.n_handlers = d->cfg.n_handlers;
    dcfg.max_flows = MAX(dcfg.max_flows, d->cfg.flow_limit);
    error = dp_create(&dcfg, &d->dp);
    if (error) {
        *errorp =
            xasprintf("cannot create the datapath (%s)", strerror(error));
        return error;
    }
    d->ofproto = ofproto_create(DAEMON_BRIDGE);

    if (d->cfg.flows_path) {
        error = daemon_load_flows(d, d->cfg.flows_path, errorp);
    } else if (d->cfg.n_controllers) {
        /* The controller decides, as with Open vSwitch. */
        error = 0;
    } else {
        error = ofproto_flow_mod_str(d->ofproto, DAEMON_DEFAULT_FLOWS,
                                     FLOW_TEXT_ADD, errorp);
    }
    if (error) {
        return error;
    }

    for (size_t i = 0; i < n_specs; i++) {
        struct daemon_port_spec spec;

        error = daemon_port_spec_parse(specs[i], &spec, errorp);
        if (!error) {
            error = daemon_port_add(d, &spec, errorp);
        }
        if (error) {
            return error;
        }
    }
    if (d->cfg.exit_when_drained) {
        bool any = false;

        for (size_t i = 0; i < d->n_ports; i++) {
            any |= daemon_port_is_replay(d->ports[i]);
        }
        if (!any) {
            *errorp = xstrdup("--exit-when-drained needs a port that "
                              "replays a capture (type=pcap with rx=FILE)");
            return EINVAL;
        }
    }
    error = daemon_start_upcalls(d, errorp);
    return error ? error : daemon_start_openflow(d, errorp);
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
    if (d->udpif) {
        upcall_destroy(d->udpif);
    }
    /* After the handlers (its packet-in hook), before ports, datapath and
     * bridge (its thread uses them). */
    ofmgr_destroy(d->ofmgr);
    d->ofmgr = NULL;
    for (size_t i = 0; i < d->n_ports; i++) {
        struct daemon_port *port = d->ports[i];

        netdev_flush(port->netdev);
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

int
main(int argc, char *argv[])
{
    struct signal_thread sig_thread;
    struct daemon d;
    char **specs = NULL;
    size_t n_specs = 0;
    char *error = NULL;
    int status;

    memset(&d, 0, sizeof d);
    status = parse_options(argc, argv, &d.cfg, &specs, &n_specs);
    if (status >= 0) {
        return status;
    }
    if (d.cfg.log_file && vlog_set_file(d.cfg.log_file)) {
        fprintf(stderr, "flowswitchd: cannot open log file \"%s\" (%s)\n",
                d.cfg.log_file, strerror(errno));
        config_destroy(&d.cfg, specs, n_specs);
        return 1;
    }
    if (!d.cfg.ctl_path) {
        d.cfg.ctl_path = default_ctl_path(&error);
        if (!d.cfg.ctl_path) {
            fprintf(stderr, "flowswitchd: %s\n", error);
            free(error);
            config_destroy(&d.cfg, specs, n_specs);
            return 1;
        }
    }
    if (!d.cfg.n_handlers) {
        d.cfg.n_handlers = n_cpus();
    }

    /* Before the first thread, so that every thread inherits the mask. */
    memset(&sig_thread, 0, sizeof sig_thread);
    signals_block(&sig_thread.set);
    sig_thread.daemon = &d;
    bool sig_thread_started = false;
    urcu_memb_register_thread();

    d.start_ms = time_msec();
    d.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&d.mutex, NULL);
    d.jobs_tail = &d.jobs;
    status = 1;
    if (d.wake_fd < 0) {
        error = xasprintf("eventfd: %s", strerror(errno));
        goto out;
    }
    if (daemon_start(&d, specs, n_specs, &error)) {
        goto out;
    }

    control_set_version("flowswitchd");
    daemon_commands_register(&d);
    if (control_server_create(d.cfg.ctl_path, &d.control, &error)) {
        goto out;
    }
    if (pthread_create(&sig_thread.thread, NULL, signal_main, &sig_thread)) {
        error = xstrdup("cannot start the signal thread");
        goto out;
    }
    sig_thread_started = true;
    VLOG_INFO("flowswitchd 0.1.0: bridge %s with %zu ports, %u handlers, "
              "%u revalidators, %u datapath threads; control socket %s",
              DAEMON_BRIDGE, d.n_ports, upcall_n_handlers(d.udpif),
              upcall_n_revalidators(d.udpif), dp_n_threads(d.dp),
              d.cfg.ctl_path);

    /* On a terminal the progress line rewrites itself, unless log lines
     * share the terminal (then each progress line is a line of its own). */
    bool tty = isatty(STDERR_FILENO);
    daemon_run(&d, tty || d.cfg.verbose, tty && d.cfg.log_file);

    daemon_log_exit(&d);
    daemon_commands_close(&d);
    control_server_destroy(d.control);
    d.control = NULL;
    daemon_drain(&d);
    /* One round pushes the last statistics to the rules (an operator may
     * have paused the revalidators: the round would never come). */
    upcall_revalidators_resume(d.udpif);
    upcall_revalidator_wait(d.udpif);
    daemon_summary(&d, stdout);
    upcall_purge(d.udpif); /* Every flow's last statistics to its rule. */
    status = 0;

out:
    if (error) {
        fprintf(stderr, "flowswitchd: %s\n", error);
        free(error);
    }
    if (d.control) {
        daemon_commands_close(&d);
        control_server_destroy(d.control);
    }
    daemon_destroy(&d);
    urcu_memb_barrier(); /* Let postponed frees run. */
    urcu_memb_unregister_thread();
    netdev_pool_purge();
    if (sig_thread_started) {
        /* Last: a second signal works until the very end. */
        atomic_store_release(&sig_thread.stop, true);
        pthread_kill(sig_thread.thread, SIGUSR1);
        pthread_join(sig_thread.thread, NULL);
    }
    if (d.wake_fd >= 0) {
        close(d.wake_fd);
    }
    pthread_mutex_destroy(&d.mutex);
    config_destroy(&d.cfg, specs, n_specs);
    vlog_set_file(NULL);
    return status;
}
