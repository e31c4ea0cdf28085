/*
 * cmd/daemon-config.c — flowswitchd's command line: the option table, the
 * help text and the struct daemon_config they fill (see daemon.h).
 *
 * Each option is one row of daemon_options[]: its name and the handler of
 * its group (a number in a range, a string, a flag, a word from a list, an
 * OpenFlow target...).  Numbers, strings and flags name the field they go
 * to, so that adding one is adding a row.  The defaults are those of the
 * modules' *_config_init() (daemon_config_init()), and the help prints
 * them from a freshly initialized configuration: nothing here repeats a
 * module's default.
 *
 * Thread safety: main thread only, before any other thread starts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/daemon.h"
#include "control/control.h"
#include "lib/util.h"

/* An option handler's "go on" (any other value is the exit status). */
#define DAEMON_CONFIG_CONTINUE (-1)

struct daemon_option;
typedef int daemon_option_handler(struct daemon_config *,
                                  const struct daemon_option *,
                                  const char *value);

struct daemon_option {
    const char *name; /* Without the leading "--". */
    int has_arg;      /* no_argument or required_argument. */
    daemon_option_handler *handle;
    size_t offset;     /* Numbers, strings, flags: the field's offset in
                        * struct daemon_config... */
    size_t size;       /* ...and, numbers only, its size. */
    uint64_t min, max; /* Numbers: the values accepted. */
};

/* A word of an option that takes one from a list, and its value. */
struct daemon_word {
    const char *word;
    int value;
};

static const struct daemon_word governor_words[] = {
    {"auto", GOVERNOR_AUTO},
    {"on", GOVERNOR_FORCE_ON},
    {"off", GOVERNOR_FORCE_OFF},
};

static const struct daemon_word fail_mode_words[] = {
    {"standalone", OFMGR_FAIL_STANDALONE},
    {"secure", OFMGR_FAIL_SECURE},
};

/* The word of 'value' in 'words', for the help. */
static const char *
word_of_value(const struct daemon_word *words, size_t n, int value)
{
    for (size_t i = 0; i < n; i++) {
        if (words[i].value == value) {
            return words[i].word;
        }
    }
    return "?";
}

/* The value of 'word' in 'words'.  Returns false if it is none of them. */
static bool
value_of_word(const struct daemon_word *words, size_t n, const char *word,
              int *value)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(words[i].word, word)) {
            *value = words[i].value;
            return true;
        }
    }
    return false;
}

/* ---- Configuration ------------------------------------------------------ */

void
daemon_config_init(struct daemon_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    dp_config_init(&cfg->dp);
    upcall_config_init(&cfg->upcall);
    ofmgr_config_init(&cfg->ofmgr);
}

static void
free_strings(char **strings, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(strings[i]);
    }
    free(strings);
}

void
daemon_config_destroy(struct daemon_config *cfg)
{
    free_strings(cfg->port_specs, cfg->n_port_specs);
    free(cfg->ctl_path);
    free(cfg->flows_path);
    free(cfg->log_file);
    free_strings(cfg->listeners, cfg->ofmgr.n_listeners);
    free_strings(cfg->controllers, cfg->ofmgr.n_controllers);
    memset(cfg, 0, sizeof *cfg);
}

/* Appends a copy of 'value' to the array '*strings' of '*n', with room
 * for '*allocated'. */
static void
append_string(char ***strings, size_t *n, size_t *allocated, const char *value)
{
    *strings = xgrow(*strings, allocated, *n + 1, sizeof **strings);
    (*strings)[(*n)++] = xstrdup(value);
}

/* ---- Help --------------------------------------------------------------- */

/* The ports, the flows and the switch's threads and limits. */
static void
usage_switch(FILE *out, const struct daemon_config *defaults)
{
    char *ctl = control_default_socket_path();
    unsigned int cpus = defaults->upcall.n_handlers;

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
        "  --handlers N           upcall handler threads (default: %u, the "
        "CPUs)\n"
        "  --revalidators N       revalidator threads (default: %u, "
        "max(1, CPUs/4))\n"
        "  --flow-limit N         most datapath flows; the revalidators "
        "adapt the\n"
        "                         working limit below it (default: %zu)\n"
        "  --max-idle MS          expire a datapath flow unused for MS "
        "msec\n"
        "                         (default: %" PRIu64 ")\n"
        "  --max-revalidator MS   start a revalidator round at most MS msec\n"
        "                         after the last one (default: %" PRIu64 ")\n"
        "  --min-revalidate-pps N after a slow dump (>= 200 ms), delete\n"
        "                         flows seeing fewer than N packets/s\n"
        "                         instead of revalidating them (default: "
        "%u)\n"
        "  --datapath-threads N   datapath (poll) threads (default: %u)\n"
        "  --datapath-max-sleep US  a datapath thread that received only a\n"
        "                         few packets sleeps up to US microseconds\n"
        "                         before it polls again, so that the next\n"
        "                         batch is fuller (0: never) (default: %u)\n",
        DAEMON_DEFAULT_FLOWS, ctl, cpus, MAX(1, cpus / 4),
        defaults->upcall.max_flow_limit, defaults->upcall.max_idle,
        defaults->upcall.max_revalidator, defaults->upcall.min_revalidate_pps,
        defaults->dp.n_threads, defaults->dp.max_sleep_us);
    free(ctl);
}

/* The slow path's modes, replay, OpenFlow and logging. */
static void
usage_modes(FILE *out, const struct daemon_config *defaults)
{
    fprintf(
        out,
        "  --governor MODE        flow-setup governor: auto, on or off\n"
        "                         (default: %s)\n"
        "  --upcall-mode MODE     who runs the handlers' batches: auto\n"
        "                         (handler threads, and datapath threads\n"
        "                         with nothing to forward) or threads\n"
        "                         (handler threads only) (default: %s)\n"
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
        "                         alone) (default: %s)\n"
        "  --datapath-id HEX      OpenFlow datapath id (default: derived "
        "from the\n"
        "                         control socket path)\n"
        "  --packet-in-rate N     packet-ins per second per connection, 0 "
        "for no\n"
        "                         limit (default: %u)\n"
        "  --probe-interval MS    send a controller that has been silent "
        "for MS\n"
        "                         msec an echo request; disconnect after "
        "as long\n"
        "                         again unanswered; 0: never (default: "
        "%" PRIu64 ")\n"
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
        word_of_value(governor_words, ARRAY_SIZE(governor_words),
                      (int)defaults->upcall.governor),
        upcall_mode_to_string(defaults->upcall.mode),
        word_of_value(fail_mode_words, ARRAY_SIZE(fail_mode_words),
                      (int)defaults->ofmgr.fail_mode),
        defaults->ofmgr.packet_in_rate, defaults->ofmgr.probe_interval);
}

static void
usage(FILE *out)
{
    struct daemon_config defaults;

    daemon_config_init(&defaults);
    usage_switch(out, &defaults);
    usage_modes(out, &defaults);
    daemon_config_destroy(&defaults);
}

/* ---- Option handlers ---------------------------------------------------- */

/* The field of 'cfg' that option 'opt' names. */
static void *
option_field(struct daemon_config *cfg, const struct daemon_option *opt)
{
    return (char *)cfg + opt->offset;
}

/* An integer in [opt->min, opt->max], stored in a field of 32 or 64 bits. */
static int
opt_number(struct daemon_config *cfg, const struct daemon_option *opt,
           const char *value)
{
    void *field = option_field(cfg, opt);
    unsigned long long v;
    char *end;

    errno = 0;
    v = strtoull(value, &end, 10);
    if (!*value || *value == '-' || errno || *end || v < opt->min
        || v > opt->max) {
        fprintf(stderr,
                "flowswitchd: bad --%s \"%s\" (expected %" PRIu64
                " to %" PRIu64 ")\n",
                opt->name, value, opt->min, opt->max);
        return 1;
    }
    if (opt->size == sizeof(uint32_t)) {
        uint32_t v32 = (uint32_t)v;

        memcpy(field, &v32, sizeof v32);
    } else {
        uint64_t v64 = v;

        memcpy(field, &v64, sizeof v64);
    }
    return DAEMON_CONFIG_CONTINUE;
}

/* A string field; the last one given wins. */
static int
opt_string(struct daemon_config *cfg, const struct daemon_option *opt,
           const char *value)
{
    char **field = option_field(cfg, opt);

    free(*field);
    *field = xstrdup(value);
    return DAEMON_CONFIG_CONTINUE;
}

/* A bool field set by the option alone. */
static int
opt_flag(struct daemon_config *cfg, const struct daemon_option *opt,
         const char *value)
{
    bool *field = option_field(cfg, opt);

    (void)value;
    *field = true;
    return DAEMON_CONFIG_CONTINUE;
}

/* --port SPEC: checked when the port is added. */
static int
opt_port(struct daemon_config *cfg, const struct daemon_option *opt,
         const char *value)
{
    (void)opt;
    append_string(&cfg->port_specs, &cfg->n_port_specs,
                  &cfg->allocated_port_specs, value);
    return DAEMON_CONFIG_CONTINUE;
}

static int
opt_governor(struct daemon_config *cfg, const struct daemon_option *opt,
             const char *value)
{
    int mode;

    (void)opt;
    if (!value_of_word(governor_words, ARRAY_SIZE(governor_words), value,
                       &mode)) {
        fprintf(stderr,
                "flowswitchd: bad --governor \"%s\" (expected auto, on or "
                "off)\n",
                value);
        return 1;
    }
    cfg->upcall.governor = (enum governor_mode)mode;
    return DAEMON_CONFIG_CONTINUE;
}

static int
opt_upcall_mode(struct daemon_config *cfg, const struct daemon_option *opt,
                const char *value)
{
    (void)opt;
    if (!upcall_mode_from_string(value, &cfg->upcall.mode)) {
        fprintf(stderr,
                "flowswitchd: bad --upcall-mode \"%s\" (expected auto or "
                "threads)\n",
                value);
        return 1;
    }
    return DAEMON_CONFIG_CONTINUE;
}

static int
opt_fail_mode(struct daemon_config *cfg, const struct daemon_option *opt,
              const char *value)
{
    int mode;

    (void)opt;
    if (!value_of_word(fail_mode_words, ARRAY_SIZE(fail_mode_words), value,
                       &mode)) {
        fprintf(stderr,
                "flowswitchd: bad --fail-mode \"%s\" (expected standalone or "
                "secure)\n",
                value);
        return 1;
    }
    cfg->ofmgr.fail_mode = (enum ofmgr_fail_mode)mode;
    return DAEMON_CONFIG_CONTINUE;
}

/* Checks an OpenFlow target of --listen ('passive') or --controller and
 * appends it to '*targets'. */
static int
add_target(const struct daemon_option *opt, bool passive, const char *value,
           char ***targets, size_t *n, size_t *allocated)
{
    char *error = NULL;

    if (ofmgr_check_target(value, passive, &error)) {
        fprintf(stderr, "flowswitchd: --%s: %s\n", opt->name, error);
        free(error);
        return 1;
    }
    append_string(targets, n, allocated, value);
    return DAEMON_CONFIG_CONTINUE;
}

static int
opt_listen(struct daemon_config *cfg, const struct daemon_option *opt,
           const char *value)
{
    int status =
        add_target(opt, true, value, &cfg->listeners, &cfg->ofmgr.n_listeners,
                   &cfg->allocated_listeners);

    cfg->ofmgr.listeners = (const char *const *)cfg->listeners;
    return status;
}

static int
opt_controller(struct daemon_config *cfg, const struct daemon_option *opt,
               const char *value)
{
    int status =
        add_target(opt, false, value, &cfg->controllers,
                   &cfg->ofmgr.n_controllers, &cfg->allocated_controllers);

    cfg->ofmgr.controllers = (const char *const *)cfg->controllers;
    return status;
}

static int
opt_datapath_id(struct daemon_config *cfg, const struct daemon_option *opt,
                const char *value)
{
    char *end;

    (void)opt;
    errno = 0;
    cfg->ofmgr.datapath_id = strtoull(value, &end, 16);
    if (!*value || *end || errno || *value == '-') {
        fprintf(stderr,
                "flowswitchd: bad --datapath-id \"%s\" (expected up to 16 hex "
                "digits)\n",
                value);
        return 1;
    }
    cfg->have_datapath_id = true;
    return DAEMON_CONFIG_CONTINUE;
}

static int
opt_version(struct daemon_config *cfg, const struct daemon_option *opt,
            const char *value)
{
    (void)cfg, (void)opt, (void)value;
    printf("flowswitchd (flowswitch) 0.1.0\n");
    return 0;
}

static int
opt_help(struct daemon_config *cfg, const struct daemon_option *opt,
         const char *value)
{
    (void)cfg, (void)opt, (void)value;
    usage(stdout);
    return 0;
}

/* ---- The option table --------------------------------------------------- */

#define FIELD_OF(FIELD) offsetof(struct daemon_config, FIELD)
#define NUMBER(NAME, FIELD, MIN, MAX)                                         \
    {                                                                         \
        NAME, required_argument, opt_number, FIELD_OF(FIELD),                 \
            sizeof(((struct daemon_config *)NULL)->FIELD), MIN, MAX           \
    }
#define STRING(NAME, FIELD)                                                   \
    {                                                                         \
        NAME, required_argument, opt_string, FIELD_OF(FIELD), 0, 0, 0         \
    }
#define FLAG(NAME, FIELD)                                                     \
    {                                                                         \
        NAME, no_argument, opt_flag, FIELD_OF(FIELD), 0, 0, 0                 \
    }
#define OTHER(NAME, HAS_ARG, HANDLER)                                         \
    {                                                                         \
        NAME, HAS_ARG, HANDLER, 0, 0, 0, 0                                    \
    }

static const struct daemon_option daemon_options[] = {
    OTHER("port", required_argument, opt_port),
    STRING("flows", flows_path),
    STRING("ctl", ctl_path),
    NUMBER("handlers", upcall.n_handlers, 1, DP_MAX_HANDLERS),
    NUMBER("revalidators", upcall.n_revalidators, 1, 64),
    NUMBER("flow-limit", upcall.max_flow_limit, 1000, 10000000),
    NUMBER("max-idle", upcall.max_idle, 1, 86400000),
    NUMBER("max-revalidator", upcall.max_revalidator, 1, 86400000),
    NUMBER("min-revalidate-pps", upcall.min_revalidate_pps, 0, UINT32_MAX),
    NUMBER("datapath-threads", dp.n_threads, 1, DP_MAX_THREADS),
    NUMBER("datapath-max-sleep", dp.max_sleep_us, 0, DP_MAX_SLEEP_US_MAX),
    OTHER("governor", required_argument, opt_governor),
    OTHER("upcall-mode", required_argument, opt_upcall_mode),
    FLAG("exit-when-drained", exit_when_drained),
    STRING("log-file", log_file),
    FLAG("verbose", verbose),
    OTHER("listen", required_argument, opt_listen),
    OTHER("controller", required_argument, opt_controller),
    OTHER("fail-mode", required_argument, opt_fail_mode),
    OTHER("datapath-id", required_argument, opt_datapath_id),
    NUMBER("packet-in-rate", ofmgr.packet_in_rate, 0, 10000000),
    NUMBER("probe-interval", ofmgr.probe_interval, 0, 3600000),
    OTHER("version", no_argument, opt_version),
    OTHER("help", no_argument, opt_help),
};

/* getopt_long() returns an option's index plus this. */
#define DAEMON_OPTION_BASE 256

/* Fills 'options' (ARRAY_SIZE(daemon_options) + 1 entries) for
 * getopt_long(). */
static void
daemon_options_to_getopt(struct option *options)
{
    for (size_t i = 0; i < ARRAY_SIZE(daemon_options); i++) {
        options[i] = (struct option){
            .name = daemon_options[i].name,
            .has_arg = daemon_options[i].has_arg,
            .val = DAEMON_OPTION_BASE + (int)i,
        };
    }
    options[ARRAY_SIZE(daemon_options)] = (struct option){0};
}

/* Runs the handler of the option getopt_long() returned as 'c'. */
static int
daemon_option_run(struct daemon_config *cfg, int c, const char *value)
{
    if (c == 'h') {
        return opt_help(cfg, NULL, NULL);
    }
    if (c < DAEMON_OPTION_BASE
        || (size_t)(c - DAEMON_OPTION_BASE) >= ARRAY_SIZE(daemon_options)) {
        fprintf(stderr, "flowswitchd: try --help\n");
        return 1;
    }

    const struct daemon_option *opt = &daemon_options[c - DAEMON_OPTION_BASE];

    return opt->handle(cfg, opt, value);
}

int
daemon_config_parse(int argc, char *argv[], struct daemon_config *cfg)
{
    struct option options[ARRAY_SIZE(daemon_options) + 1];
    int c;

    daemon_options_to_getopt(options);
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int status = daemon_option_run(cfg, c, optarg);

        if (status != DAEMON_CONFIG_CONTINUE) {
            return status;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                "flowswitchd: unexpected argument \"%s\" (ports are given "
                "with --port SPEC)\n",
                argv[optind]);
        return 1;
    }
    return DAEMON_CONFIG_CONTINUE;
}
