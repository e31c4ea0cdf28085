/*
 * cmd/daemon.h — flowswitchd's pieces: the state the daemon's files share,
 * port SPECs, the control commands and the run summary.
 *
 * flowswitchd wires the modules into one switch (DESIGN.md §1): a datapath
 * (dp_create), one OpenFlow bridge "br0" (ofproto_create), its ports (a
 * netdev each, added to both with the same number except LOCAL, which is
 * datapath port 0), a udpif for the handlers and revalidators
 * (upcall_create), the OpenFlow channel when --listen or --controller
 * asks for one (ofmgr_create: its packet-in hook goes into the udpif, and
 * port/add and port/del send port-status through it) and the control
 * socket (control_server_create).
 *
 * Files:
 *   flowswitchd.c     wiring, the main loop, signals, shutdown
 *   daemon-config.c   the command line: its options, their help and the
 *                     struct daemon_config they fill
 *   daemon-port.c     port SPEC parsing; opening, adding and removing ports
 *   daemon-link.c     ports following their interfaces (link events)
 *   daemon-cmds.c     the control commands (dpctl/..., flows, ports, fdb,
 *                     coverage, memory, vlog, ofproto/trace, exit) and the
 *                     job queue that runs them in the main thread
 *   daemon-summary.c  the progress line, "settled" and "drained" checks and
 *                     the final summary with its conservation lines
 *
 * Threads.  The main thread owns everything here: it creates and destroys
 * the modules, adds and removes ports, applies flow-mods, runs rule
 * timeouts and coverage sampling, and runs every command registered in
 * daemon-cmds.c.  It is registered with liburcu's memb flavour (flow-mods
 * and ofproto readers need it).  The control server calls command
 * callbacks in its own thread; those callbacks only queue a job and wake
 * the main thread, which answers (control_reply() from any thread is
 * allowed).  So the port list needs no lock.  The success reply of a
 * flow command (add-flow, add-flows, mod-flows, del-flows) waits, like an
 * OpenFlow barrier, until the change is in force for cached flows
 * (ofproto.h "Cache sync"): the main loop holds it and answers it when
 * the bridge's cache watcher wakes it after a revalidator round.  The commands the upcall
 * module registers (upcall/show, revalidator/wait...) run in the control
 * thread, as that module documents.  The OpenFlow channel (ofmgr.h) runs
 * a thread of its own that applies OpenFlow flow-mods and packet-outs
 * itself (ofproto serializes writers); the main thread only creates and
 * destroys it and tells it about port changes.  The link monitor's
 * thread (netdev-linux-monitor.h) only queues link events under 'mutex'
 * and wakes the main thread, which applies them (daemon-link.c).  A dedicated signal thread
 * turns the first SIGINT/SIGTERM into an exit request and exits at once
 * on the second.
 */
#ifndef FLOWSWITCH_CMD_DAEMON_H
#define FLOWSWITCH_CMD_DAEMON_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "datapath/datapath.h"
#include "lib/list.h"
#include "ofproto/ofproto.h"
#include "openflow/ofmgr.h"
#include "upcall/upcall.h"

struct control_server;
struct daemon_job;
struct dp;
struct ds;
struct netdev;
struct netdev_link_event;
struct netdev_link_monitor;
struct ofmgr;
struct ofproto;
struct udpif;

#define DAEMON_BRIDGE "br0"
/* The datapath's name in dpctl/show, as upcall/show names it. */
#define DAEMON_DP_NAME "system@" DAEMON_BRIDGE
#define DAEMON_LOCAL_DP_PORT 0 /* The datapath port of OpenFlow LOCAL. */
/* The bridge's flows without --flows or --controller: a learning switch. */
#define DAEMON_DEFAULT_FLOWS "priority=0,actions=normal"

/* ---- Ports -------------------------------------------------------------- */

/* NAME[,type=afpacket|afxdp|tap|pcap|memory][,ofport=N|LOCAL][,rx=FILE]
 * [,tx=FILE][,rate=PPS][,loop=N][,xdp-mode=native|skb|auto] */
struct daemon_port_spec {
    char *name;
    char *type;      /* Default "afpacket"; "tap" for ofport=LOCAL. */
    uint32_t ofport; /* 0: the next free number. */
    char *rx_path;   /* pcap only. */
    char *tx_path;   /* pcap only. */
    uint64_t rate_pps;
    unsigned int loops;
    char *xdp_mode; /* afxdp only; NULL: auto. */
};

/* Parses 'text'.  Returns 0, or EINVAL with one line in '*errorp'
 * ('port "TEXT": ...') and nothing to free in 'spec'. */
int daemon_port_spec_parse(const char *text, struct daemon_port_spec *spec,
                           char **errorp);
void daemon_port_spec_destroy(struct daemon_port_spec *);

struct daemon_port;
/* Opens a netdev for 'port' as its SPEC says.  Returns 0, or an errno
 * value with one line in '*errorp'. */
int daemon_port_open(const struct daemon_port *port, struct netdev **netdevp,
                     char **errorp);

struct daemon_port {
    struct daemon_port_spec spec; /* ofport resolved. */
    uint32_t dp_port;
    struct netdev *netdev; /* NULL while 'missing'. */

    /* Link state (daemon-link.c), kept for afpacket and afxdp ports. */
    bool follows_link; /* A Linux interface of the same name. */
    int ifindex;       /* Of the interface 'netdev' has open. */
    bool missing;      /* The interface vanished: detached, 'netdev' closed. */
    bool admin_up;     /* IFF_UP. */
    bool carrier;      /* IFLA_CARRIER (IFF_RUNNING). */
    unsigned int mtu;
    bool has_mac; /* 'mac' known (from a link event). */
    uint8_t mac[6];
    /* What the OpenFlow channel was last told (OFPPC_*, OFPPS_*). */
    uint32_t of_config, of_state;
};

/* ---- The daemon --------------------------------------------------------- */

/* What the command line asks for (daemon-config.c).  The settings of the
 * datapath, the handlers and revalidators and the OpenFlow channel live in
 * those modules' own config structs, filled with their *_config_init(), so
 * that each default is written once, in its module; the options overwrite
 * what they name.  daemon_start() derives the rest: the datapath's upcall
 * queues follow upcall.n_handlers, its flow table and the adaptive limit
 * upcall.max_flow_limit (--flow-limit), the datapath id the control socket
 * path unless --datapath-id. */
struct daemon_config {
    char **port_specs; /* --port, in order. */
    size_t n_port_specs, allocated_port_specs;
    char *ctl_path;
    char *flows_path;
    char *log_file;
    bool exit_when_drained;
    bool verbose;

    struct dp_config dp;         /* n_threads, max_sleep_us. */
    struct upcall_config upcall; /* n_handlers (CPUs), n_revalidators (0:
                                  * max(1, CPUs / 4)), max_flow_limit,
                                  * max_idle, max_revalidator,
                                  * min_revalidate_pps, governor, mode. */
    struct ofmgr_config ofmgr;   /* fail_mode, datapath_id, packet_in_rate,
                                  * probe_interval; its listeners and
                                  * controllers point into the arrays
                                  * below. */
    char **listeners;            /* --listen, ofmgr.n_listeners of them. */
    char **controllers; /* --controller, ofmgr.n_controllers of them. */
    size_t allocated_listeners, allocated_controllers; /* xgrow(). */
    bool have_datapath_id; /* --datapath-id given. */
};

/* Fills 'cfg' with every default: the modules' *_config_init(), no ports,
 * no paths. */
void daemon_config_init(struct daemon_config *cfg);
/* Parses the command line into 'cfg' (which the caller initialized).
 * Returns -1 to go on, or the exit status: 0 after --help or --version,
 * 1 after one line on stderr saying what is wrong. */
int daemon_config_parse(int argc, char *argv[], struct daemon_config *cfg);
void daemon_config_destroy(struct daemon_config *cfg);

/* Why the main loop stops. */
enum daemon_exit {
    DAEMON_RUNNING,
    DAEMON_EXIT_SIGNAL,  /* SIGINT or SIGTERM. */
    DAEMON_EXIT_COMMAND, /* `exit`. */
    DAEMON_EXIT_DRAINED, /* --exit-when-drained: the replay ended. */
};

struct daemon {
    struct daemon_config cfg;
    struct dp *dp;
    struct ofproto *ofproto;
    struct udpif *udpif;
    struct ofmgr *ofmgr; /* NULL without --listen and --controller. */
    struct control_server *control;
    uint64_t start_ms;

    /* Ports, in the order added.  Main thread only. */
    struct daemon_port **ports;
    size_t n_ports, allocated_ports;
    /* What ports removed at run time counted, summed (their final
     * statistics), so that the summary still adds up. */
    struct daemon_removed_ports {
        size_t n;
        uint64_t rx, rx_drop, tx, tx_drop, lost, parse_drop;
    } removed;

    /* Flow commands whose success reply waits for the flow cache
     * (daemon-cmds.c); main thread.  The watcher wakes the main loop
     * after each revalidator round. */
    struct list sync_replies; /* struct daemon_sync_reply. */
    struct ofproto_cache_watcher cache_watcher;
    bool cache_watched;

    /* Wakes the main loop (an eventfd): a job was queued or an exit was
     * requested. */
    int wake_fd;
    int exit_reason; /* enum daemon_exit, atomic. */
    int exit_signal; /* The signal, for the log. Atomic. */

    /* Jobs from the control thread, oldest first.  Guarded by 'mutex'. */
    pthread_mutex_t mutex;
    struct list jobs; /* struct daemon_job. */
    bool jobs_closed; /* Shutting down: new commands are refused. */

    /* Link events (daemon-link.c): the monitor's thread queues them under
     * 'mutex', the main thread applies them.  'link_resync': some were
     * lost (queue full), every port must be probed. */
    struct netdev_link_monitor *link_monitor;
    struct netdev_link_event *link_events;
    size_t n_link_events, allocated_link_events;
    bool link_resync;
};

void daemon_wake(struct daemon *);
/* Asks the main loop to stop (any thread); the first reason wins. */
void daemon_request_exit(struct daemon *, enum daemon_exit);
enum daemon_exit daemon_exit_requested(const struct daemon *);

/* Opens 'spec' (whose ofport may be 0) and adds it to the datapath and the
 * bridge.  Takes ownership of 'spec' whatever happens.  Returns 0, or an
 * errno value with one line in '*errorp'. */
int daemon_port_add(struct daemon *, struct daemon_port_spec *spec,
                    char **errorp);
/* Removes port 'name': from the bridge, then the datapath, then closes it.
 * Returns 0 or ENOENT (with '*errorp'). */
int daemon_port_del(struct daemon *, const char *name, char **errorp);
struct daemon_port *daemon_port_find(struct daemon *, const char *name);
/* Appends the text of port/show. */
void daemon_port_show(struct daemon *, struct ds *);
/* True if 'port' replays a capture (pcap with rx=FILE). */
bool daemon_port_is_replay(const struct daemon_port *);

/* ---- Link events (daemon-link.c) ---------------------------------------- *
 *
 * A port on a Linux interface (afpacket, afxdp) follows it: when the
 * interface vanishes (RTM_DELLINK, or a new interface took its name) the
 * port stays, with its OpenFlow number, flows and counters, but is
 * detached from the datapath and its netdev closed (dp_port_detach():
 * not polled, output counted as tx drops); port/show and dpctl/show say
 * "(missing)".  When an interface of that name appears (RTM_NEWLINK) the
 * port reopens it and is attached again.  Admin and carrier changes are
 * shown ("admin-down", "link-down").  Every change is logged once, sent
 * to the OpenFlow connections as a PORT_STATUS (OFPPR_MODIFY) and makes
 * the revalidators re-check the cached flows. */

/* Starts the link monitor (after the OpenFlow channel, so that the first
 * states reach it).  A failure is logged; the ports then do not follow
 * their interfaces. */
void daemon_link_start(struct daemon *);
void daemon_link_stop(struct daemon *);
/* Applies the queued link events (main thread). */
void daemon_link_run(struct daemon *);
/* Reads the state of a new port's interface (no event, no message). */
void daemon_link_port_init(struct daemon_port *);
/* Tells the OpenFlow channel the port's state if it differs from what it
 * was last told (and bumps the bridge's change sequence). */
void daemon_link_announce(struct daemon *, struct daemon_port *);
/* Appends " (missing)", " admin-down" and " link-down" as they apply. */
void daemon_link_show(const struct daemon_port *, struct ds *);

/* ---- Commands (daemon-cmds.c) ------------------------------------------- */

/* Registers every command of daemon-cmds.c. */
void daemon_commands_register(struct daemon *);
/* Runs the queued jobs (main thread). */
void daemon_commands_run(struct daemon *);
/* Refuses new commands and answers the queued ones with an error. */
void daemon_commands_close(struct daemon *);

/* Reads an `ovs-ofctl add-flows` file with flow_text_parse_file() (one
 * flow per line, '#' comments; a line may start with add, modify,
 * modify_strict, delete or delete_strict) and applies it as one atomic
 * batch.  Returns 0, or an
 * errno value with one line in '*errorp' ("FILE:LINE: ...") and nothing
 * changed. */
int daemon_load_flows(struct daemon *, const char *path, char **errorp);

/* ---- Progress and summary (daemon-summary.c) ---------------------------- */

/* A snapshot of the counters that must stop moving before the daemon
 * calls the switch idle. */
struct daemon_settle {
    uint64_t rx, hit, missed, lost, parse_drop;
    uint64_t queued;  /* Upcalls queued: misses + action upcalls. */
    uint64_t handled; /* Upcalls the handlers finished. */
    size_t queue_len; /* Upcalls waiting in the queues. */
};

void daemon_settle_sample(struct daemon *, struct daemon_settle *);
/* True when 'now' shows nothing in flight (every received packet counted,
 * every queued upcall handled, the queues empty) and equals 'prev'. */
bool daemon_settled(const struct daemon_settle *prev,
                    const struct daemon_settle *now);
/* True when the daemon has at least one replay port and every one has
 * reached its end. */
bool daemon_replay_ended(struct daemon *);

/* Prints one progress line on 'out' ('tty': rewrite the line in place). */
void daemon_progress(struct daemon *, FILE *out, bool tty);
/* Prints the final summary: per port, the cache, the slow path, the
 * conservation checks and where the output captures are. */
void daemon_summary(struct daemon *, FILE *out);

#endif /* cmd/daemon.h */
