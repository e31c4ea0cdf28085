/*
 * openflow/ofmgr.h — the OpenFlow 1.3 channel: passive listeners for
 * ovs-ofctl and other tools, active connections to controllers, and the
 * messages they exchange with one bridge (DESIGN.md §2 "openflow").
 *
 * Targets.  A listener is "ptcp:PORT[:IP]" (all addresses by default;
 * PORT 0 picks a free port, shown by openflow/show) or "punix:PATH" (an
 * existing socket file there is replaced, and removed again at the end).
 * A controller is "tcp:IP[:PORT]" (port 6653 by default) or "unix:PATH".
 *
 * Connections.  Every connection starts with HELLO; the version bitmap
 * must offer OpenFlow 1.3 (0x04) or the peer gets
 * OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE and is closed
 * (ofconn_hello_failed).  A controller connection that fails or drops is
 * retried after a backoff that starts at 1 s and doubles up to
 * max_backoff [8 s] (ofconn_connect_failed, ofconn_reconnect), reset once
 * a connection completes its handshake.  On controller connections an
 * idle peer is probed with ECHO_REQUEST after probe_interval [5 s] of
 * silence and dropped after as long again without an answer
 * (ofconn_inactivity_drop).  Connections accepted by a listener are
 * "service" connections: never probed, and, as in Open vSwitch, sent no
 * asynchronous message (packet-in, flow-removed, port-status) until they
 * ask for them with a SET_CONFIG whose miss_send_len is not 0.
 *
 * Messages.  HELLO, ERROR (logged), ECHO, FEATURES, GET_CONFIG,
 * SET_CONFIG, FLOW_MOD (every command; flags send_flow_rem,
 * check_overlap, reset_counts, no_packet_counts, no_byte_counts; a
 * buffer_id other than NO_BUFFER applies the flow-mod and then answers
 * OFPBRC_BUFFER_UNKNOWN, as Open vSwitch does), PACKET_OUT (its actions
 * run through xlate exactly as a rule's would, output:TABLE through the
 * pipeline), MULTIPART (DESC, FLOW, AGGREGATE, TABLE, PORT_STATS,
 * PORT_DESC; replies longer than 64 kB are split with REPLY_MORE),
 * BARRIER (see "Barriers"), ROLE_REQUEST.  Anything else gets OFPBRC_BAD_TYPE (ofconn_bad_request).
 * Every refused message is answered with one ERROR carrying its first 64
 * bytes and changes nothing.  Asynchronous messages: PACKET_IN (buffer_id
 * NO_BUFFER, the packet cut to the action's max_len, the match holding
 * in_port), FLOW_REMOVED (send_flow_rem rules: idle, hard, delete),
 * PORT_STATUS (ofmgr_port_status()).
 *
 * Barriers.  Messages are handled in order, so the flow-mods before a
 * BARRIER_REQUEST are in the tables when it is read; its reply waits
 * until they are in force for cached datapath flows too: until a
 * revalidator round that began after them has re-translated or removed
 * every cached flow (ofproto.h "Cache sync"; at once when the cache is
 * already in sync, e.g. no flow-mod since the last round).  Meanwhile the
 * connection reads and handles nothing more (OpenFlow 1.3 §6.2: nothing
 * beyond a barrier runs before it is done); other connections go on.
 * While the revalidators are paused (revalidator/pause) the reply waits
 * for them; a connection closed while it waits just goes.
 *
 * Roles.  Every connection starts EQUAL.  MASTER makes every other master
 * a SLAVE; a MASTER or SLAVE request whose generation_id is older than
 * the newest seen gets OFPRRFC_STALE.  A slave may read but not write
 * (FLOW_MOD and PACKET_OUT get OFPBRC_IS_SLAVE) and receives port-status
 * but no packet-in or flow-removed.
 *
 * Packet-ins are limited per connection by a token bucket of
 * packet_in_rate packets per second (burst as many) [1000; 0: no limit];
 * a packet-in over the limit, or one that finds the connection's send
 * queue above 1 MiB, is dropped and counted (per connection in
 * openflow/show, and in the coverage counters ofconn_packet_in_rate_drop
 * and ofconn_packet_in_queue_drop).
 *
 * Fail mode (only when controllers are configured).  standalone: while no
 * controller connection has completed its handshake the bridge is
 * fail-open (ofproto_set_fail_open(): every packet goes to NORMAL, the
 * tables are kept); secure: the tables alone decide, and controller
 * actions with no connection are counted and dropped.
 *
 * Threads.  One thread of its own (registered with liburcu's memb flavour)
 * runs every socket, parses every message and applies flow-mods and
 * packet-outs itself; ofproto and the datapath are safe for that.  The
 * packet-in hook runs in handler threads, flow-removed callbacks in any
 * thread that removes rules, ofmgr_port_status() in the daemon's main
 * thread: each only encodes, appends to the send queues under the
 * manager's mutex and wakes the thread.  The I/O thread never holds that
 * mutex while it calls into ofproto, so a flow-mod it applies may call
 * back into the manager.  ofmgr_create() and ofmgr_destroy() are for the
 * managing thread; the manager must be destroyed after the udpif whose
 * hook points at it, and before the bridge and the datapath.
 */
#ifndef FLOWSWITCH_OPENFLOW_OFMGR_H
#define FLOWSWITCH_OPENFLOW_OFMGR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp;
struct ds;
struct ofmgr;
struct ofproto;
struct upcall_packet_in;

enum ofmgr_fail_mode {
    OFMGR_FAIL_STANDALONE,
    OFMGR_FAIL_SECURE,
};

#define OFMGR_DEFAULT_PACKET_IN_RATE 1000
#define OFMGR_DEFAULT_PROBE_INTERVAL 5000 /* msec */
#define OFMGR_DEFAULT_MAX_BACKOFF 8000    /* msec */
#define OFMGR_MIN_BACKOFF 1000            /* msec */
#define OFMGR_TX_QUEUE_MAX ((size_t)1 << 20)

struct ofmgr_config {
    const char *const *listeners; /* "ptcp:PORT[:IP]", "punix:PATH". */
    size_t n_listeners;
    const char *const *controllers; /* "tcp:IP[:PORT]", "unix:PATH". */
    size_t n_controllers;
    enum ofmgr_fail_mode fail_mode; /* [standalone] */
    uint64_t datapath_id;
    unsigned int packet_in_rate; /* Per connection per second; 0: none. */
    uint64_t probe_interval;     /* msec. */
    uint64_t max_backoff;        /* msec. */
};

void ofmgr_config_init(struct ofmgr_config *);

/* Checks one target's syntax.  Returns 0, or EINVAL with one line in
 * '*errorp'. */
int ofmgr_check_target(const char *target, bool passive, char **errorp);

/* Binds every listener, starts connecting to every controller and starts
 * the thread.  Returns 0, or an errno value with one line in '*errorp'
 * (a listener that cannot be bound) and nothing started. */
int ofmgr_create(const struct ofmgr_config *, struct ofproto *, struct dp *,
                 struct ofmgr **, char **errorp);
/* Closes every connection and listener and stops the thread. */
void ofmgr_destroy(struct ofmgr *);

/* The packet-in hook for upcall_set_packet_in_hook() ('aux' is the
 * manager). */
bool ofmgr_packet_in_hook(const struct upcall_packet_in *, void *aux);

/* Tells the connections that port 'ofp_port' called 'name' was added
 * (reason OFPPR_ADD), deleted or modified. */
void ofmgr_port_status(struct ofmgr *, uint8_t reason, uint32_t ofp_port,
                       const char *name);
/* Tells the connections that port 'ofp_port' called 'name' changed state
 * (PORT_STATUS, reason OFPPR_MODIFY): 'config' holds OFPPC_PORT_DOWN
 * while the interface is administratively down, 'state' OFPPS_LINK_DOWN
 * while it has no carrier or has vanished, else OFPPS_LIVE.  Port
 * descriptions (OFPMP_PORT_DESC) report the same from then on.  Main
 * thread, as ofmgr_port_status(). */
void ofmgr_port_modify(struct ofmgr *, uint32_t ofp_port, const char *name,
                       uint32_t config, uint32_t state);

/* The text of openflow/show. */
void ofmgr_show(struct ofmgr *, struct ds *);

/* Number of connections that completed their handshake (tests). */
size_t ofmgr_n_connected(struct ofmgr *);

#endif /* openflow/ofmgr.h */
