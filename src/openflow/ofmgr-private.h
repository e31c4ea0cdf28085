/*
 * openflow/ofmgr-private.h — the connection manager's structures, shared by
 * ofmgr.c (sockets, connections, the thread, asynchronous messages) and
 * ofmgr-handle.c (what each request does).  Not for other modules.
 *
 * Locking (ofmgr.h "Threads"): 'mutex' guards every connection's 'tx'
 * queue, role, miss_send_len, counters and the connection array itself
 * for readers outside the I/O thread.  The I/O thread is the only one
 * that adds or removes connections (under the mutex) and so may read the
 * array without it; it reads 'rx' and the handshake state without it too.
 */
#ifndef FLOWSWITCH_OPENFLOW_OFMGR_PRIVATE_H
#define FLOWSWITCH_OPENFLOW_OFMGR_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ofproto/ofproto.h"
#include "openflow/ofmgr.h"
#include "openflow/ofp-codec.h"

enum ofconn_state {
    OFCONN_CONNECTING, /* Non-blocking connect() in progress. */
    OFCONN_HELLO,      /* Our HELLO sent, waiting for the peer's. */
    OFCONN_ACTIVE,     /* Version negotiated. */
};

struct ofcontroller;

struct ofconn {
    struct ofmgr *mgr;
    int fd;
    enum ofconn_state state;   /* I/O thread. */
    struct ofcontroller *ctl;  /* Controller connection, or NULL. */
    char *name;                /* Peer, for logs. */
    struct ofpbuf rx;          /* I/O thread. */
    bool closing;              /* Close once 'tx' is flushed. */
    uint64_t created, last_rx; /* msec; I/O thread. */
    uint64_t probe_sent;       /* msec, 0: no probe outstanding. */
    uint32_t next_xid;         /* I/O thread. */

    /* A BARRIER_REQUEST that waits for the flow cache (ofmgr-barrier.c);
     * I/O thread. */
    bool barrier_waiting;
    uint32_t barrier_xid;
    uint64_t barrier_target; /* The bridge's change sequence. */

    /* Guarded by the mutex. */
    struct ofpbuf tx;
    uint32_t role;          /* OFPCR_ROLE_*. */
    uint16_t miss_send_len; /* SET_CONFIG. */
    uint64_t tokens;        /* Packet-in bucket, in 1/1000 packets. */
    uint64_t tokens_refill; /* msec of the last refill. */
    uint64_t n_rx, n_tx;    /* Messages. */
    uint64_t n_errors;      /* ERRORs we sent. */
    uint64_t n_packet_in;   /* Packet-ins queued. */
    uint64_t n_pin_rate_drop, n_pin_queue_drop;
    uint64_t n_flow_removed, n_port_status;
};

struct ofcontroller {
    char *target;
    struct ofconn *conn; /* NULL while disconnected. */
    uint64_t backoff;    /* msec before the next attempt after a failure. */
    uint64_t next_try;   /* msec. */
    uint64_t n_attempts, n_connected;
};

struct oflistener {
    char *target;
    char *bound;     /* What it is bound to (the port ptcp:0 got). */
    char *unix_path; /* punix: the file to remove. */
    int fd;
};

struct ofmgr_port {
    uint32_t ofp_port;
    uint64_t added;  /* msec, for port stats' duration. */
    uint32_t config; /* OFPPC_*, as last told (ofmgr_port_modify()). */
    uint32_t state;  /* OFPPS_*, likewise. */
};

struct ofmgr {
    struct ofmgr_config cfg;
    struct ofproto *ofproto;
    struct dp *dp;
    uint64_t start;

    pthread_t thread;
    int wake_fd;
    bool stop; /* Atomic. */

    pthread_mutex_t mutex;
    struct ofconn **conns;
    size_t n_conns, allocated_conns;

    struct oflistener *listeners;
    size_t n_listeners;
    struct ofcontroller *controllers;
    size_t n_controllers;

    /* I/O thread. */
    bool have_generation;
    uint64_t generation_id;
    bool fail_open;

    /* Guarded by the mutex. */
    struct ofmgr_port *ports;
    size_t n_ports, allocated_ports;

    /* Wakes the I/O thread after each revalidator round (barriers). */
    struct ofproto_cache_watcher cache_watcher;
};

/* ofmgr.c */
void ofconn_send(struct ofconn *, struct ofpbuf *msgs);
void ofconn_send_error(struct ofconn *, int error, const uint8_t *request,
                       size_t len);
void ofmgr_wake(struct ofmgr *);
uint64_t ofmgr_port_added(struct ofmgr *, uint32_t ofp_port);
/* The config and state of port 'ofp_port' for a port description (0 and
 * OFPPS_LIVE for a port never modified). */
void ofmgr_port_get_state(struct ofmgr *, uint32_t ofp_port, uint32_t *config,
                          uint32_t *state);
/* The MAC of Linux interface 'name', or a locally administered address
 * made from the port number for ports that are not one. */
void ofmgr_port_hw_addr(const char *name, uint32_t ofp_port,
                        struct eth_addr *mac);

struct ofproto_rule_info;

/* ofmgr-handle.c: the flow entry of a rule snapshot, for FLOW stats and
 * FLOW_REMOVED ('e' points into 'r': its ofpacts). */
void ofmgr_flow_entry_from_rule(const struct ofproto_rule_info *r,
                                struct ofp_flow_entry *e);

/* ofmgr-handle.c: handles one whole message of an ACTIVE connection. */
void ofconn_handle(struct ofconn *, const uint8_t *msg, size_t len);

/* ofmgr.c: handles every whole message in the receive buffer, up to the
 * first barrier that has to wait. */
void ofconn_handle_rx(struct ofconn *);

/* ofmgr-barrier.c (I/O thread).  Answers a BARRIER_REQUEST, at once or,
 * when the flow cache is behind the tables, once it has caught up; returns
 * an OpenFlow error or 0. */
int ofconn_barrier_request(struct ofconn *, const uint8_t *msg, size_t len);
/* Whether 'c' waits for a barrier (nothing after it is handled). */
bool ofconn_barrier_waiting(const struct ofconn *);
/* Answers the barrier 'c' waits for if the cache is in sync with it now;
 * returns true if it did. */
bool ofconn_barrier_try_answer(struct ofconn *);
/* Answers the waiting barriers of the 'n' connections in 'conns' (NULL
 * entries skipped) that are in sync now, and handles what followed. */
void ofmgr_barriers_run(struct ofconn **conns, size_t n);
/* Registers (before the thread starts) and unregisters (after it ends)
 * the bridge cache watcher that wakes the thread. */
void ofmgr_barrier_watch(struct ofmgr *);
void ofmgr_barrier_unwatch(struct ofmgr *);

#endif /* openflow/ofmgr-private.h */
