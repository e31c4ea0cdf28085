/*
 * openflow/ofmgr.c — listeners, controller connections, the I/O thread
 * and the asynchronous messages (ofmgr.h).  What each request does is in
 * ofmgr-handle.c.
 */
#include "openflow/ofmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/control.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "openflow/ofmgr-private.h"
#include "openflow/ofp-private.h"
#include "packet/packet.h"
#include "upcall/upcall.h"

VLOG_DEFINE_THIS_MODULE(openflow);

COVERAGE_DEFINE(ofconn_accepted);
COVERAGE_DEFINE(ofconn_connect_failed);
COVERAGE_DEFINE(ofconn_reconnect);
COVERAGE_DEFINE(ofconn_hello_failed);
COVERAGE_DEFINE(ofconn_inactivity_drop);
COVERAGE_DEFINE(ofconn_bad_length);
COVERAGE_DEFINE(ofconn_closed);
COVERAGE_DEFINE(ofconn_packet_in);
COVERAGE_DEFINE(ofconn_packet_in_rate_drop);
COVERAGE_DEFINE(ofconn_packet_in_queue_drop);
COVERAGE_DEFINE(ofconn_packet_in_no_receiver);
COVERAGE_DEFINE(ofconn_flow_removed);
COVERAGE_DEFINE(ofconn_flow_removed_meter_unsent);
COVERAGE_DEFINE(ofconn_port_status);
COVERAGE_DEFINE(ofconn_error_sent);

static struct vlog_rate_limit ofmgr_rl = VLOG_RATE_LIMIT_INIT(5, 5);

#define OFMGR_POLL_MAX_MS 1000
#define OFMGR_DEFAULT_CONTROLLER_PORT 6653

void
ofmgr_config_init(struct ofmgr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fail_mode = OFMGR_FAIL_STANDALONE;
    cfg->packet_in_rate = OFMGR_DEFAULT_PACKET_IN_RATE;
    cfg->probe_interval = OFMGR_DEFAULT_PROBE_INTERVAL;
    cfg->max_backoff = OFMGR_DEFAULT_MAX_BACKOFF;
}

/* ---- Targets ------------------------------------------------------------ */

struct target {
    int family;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *unix_path;
};

/* Parses "ptcp:PORT[:IP]" / "punix:PATH" (passive) or "tcp:IP[:PORT]" /
 * "unix:PATH". */
static int
target_parse(const char *s, bool passive, struct target *t, char **errorp)
{
    const char *expected = passive ? "ptcp:PORT[:IP] or punix:PATH"
                                   : "tcp:IP[:PORT] or unix:PATH";
    const char *unix_prefix = passive ? "punix:" : "unix:";
    const char *tcp_prefix = passive ? "ptcp:" : "tcp:";

    memset(t, 0, sizeof *t);
    if (!strncmp(s, unix_prefix, strlen(unix_prefix))) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&t->addr;
        const char *path = s + strlen(unix_prefix);

        if (!*path || strlen(path) >= sizeof sun->sun_path) {
            *errorp = xasprintf("openflow: bad socket path in \"%s\" "
                                "(expected 1 to %zu bytes)",
                                s, sizeof sun->sun_path - 1);
            return EINVAL;
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, strlen(path) + 1);
        t->family = AF_UNIX;
        t->addr_len = sizeof *sun;
        t->unix_path = xstrdup(path);
        return 0;
    }
    if (!strncmp(s, tcp_prefix, strlen(tcp_prefix))) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
        char *copy = xstrdup(s + strlen(tcp_prefix));
        char *first = copy, *second = strchr(copy, ':');
        const char *ip = passive ? (second ? second + 1 : "0.0.0.0") : first;
        const char *port = passive ? first : second ? second + 1 : NULL;
        unsigned long port_no = OFMGR_DEFAULT_CONTROLLER_PORT;
        char *end;

        if (second) {
            *second = '\0';
        }
        sin->sin_family = AF_INET;
        if (port) {
            errno = 0;
            port_no = strtoul(port, &end, 10);
            if (!*port || *end || errno || port_no > 65535
                || (!passive && !port_no)) {
                port_no = UINT32_MAX;
            }
        }
        if (port_no == UINT32_MAX
            || inet_pton(AF_INET, ip, &sin->sin_addr) != 1) {
            *errorp = xasprintf("openflow: bad target \"%s\" (expected %s, "
                                "IP an IPv4 address)",
                                s, expected);
            free(copy);
            return EINVAL;
        }
        sin->sin_port = htons((uint16_t)port_no);
        t->family = AF_INET;
        t->addr_len = sizeof *sin;
        free(copy);
        return 0;
    }
    *errorp =
        xasprintf("openflow: bad target \"%s\" (expected %s)", s, expected);
    return EINVAL;
}

int
ofmgr_check_target(const char *s, bool passive, char **errorp)
{
    struct target t;
    int error = target_parse(s, passive, &t, errorp);

    if (!error) {
        free(t.unix_path);
    }
    return error;
}

static void
set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);

    if (flags >= 0) {
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
}

static int
listener_open(const char *s, struct oflistener *l, char **errorp)
{
    struct target t;
    int fd, error, one = 1;

    memset(l, 0, sizeof *l);
    l->fd = -1;
    error = target_parse(s, true, &t, errorp);
    if (error) {
        return error;
    }
    fd = socket(t.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        goto err;
    }
    if (t.family == AF_UNIX) {
        unlink(t.unix_path);
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (bind(fd, (struct sockaddr *)&t.addr, t.addr_len) || listen(fd, 16)) {
        error = errno;
        close(fd);
        goto err;
    }
    set_nonblock(fd);
    l->fd = fd;
    l->target = xstrdup(s);
    if (t.family == AF_UNIX) {
        chmod(t.unix_path, 0770);
        l->unix_path = t.unix_path;
        l->bound = xstrdup(s);
    } else {
        struct sockaddr_in sin;
        socklen_t len = sizeof sin;
        char ip[INET_ADDRSTRLEN];

        memset(&sin, 0, sizeof sin);
        if (getsockname(fd, (struct sockaddr *)&sin, &len)) {
            sin = *(const struct sockaddr_in *)&t.addr;
        }
        inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
        l->bound = xasprintf("ptcp:%u:%s", ntohs(sin.sin_port), ip);
    }
    return 0;

err:
    *errorp = xasprintf("openflow: cannot listen on \"%s\" (%s)", s,
                        strerror(error));
    free(t.unix_path);
    return error;
}

/* ---- Connections -------------------------------------------------------- */

void
ofmgr_wake(struct ofmgr *mgr)
{
    uint64_t one = 1;

    if (write(mgr->wake_fd, &one, sizeof one) < 0) {
        /* Saturated: the thread wakes anyway. */
    }
}

static struct ofconn *
ofconn_create(struct ofmgr *mgr, int fd, struct ofcontroller *ctl,
              const char *name, enum ofconn_state state)
{
    struct ofconn *c = xzalloc(sizeof *c);
    uint64_t now = time_msec();

    c->mgr = mgr;
    c->fd = fd;
    c->ctl = ctl;
    c->name = xstrdup(name);
    c->state = state;
    c->created = c->last_rx = now;
    c->role = OFPCR_ROLE_EQUAL;
    /* Open vSwitch: controllers get 128 bytes of table misses, service
     * connections nothing until they ask. */
    c->miss_send_len = ctl ? 128 : 0;
    c->tokens = (uint64_t)mgr->cfg.packet_in_rate * 1000;
    c->tokens_refill = now;
    c->next_xid = 1;
    ofpbuf_init(&c->rx);
    ofpbuf_init(&c->tx);

    pthread_mutex_lock(&mgr->mutex);
    mgr->conns = xgrow(mgr->conns, &mgr->allocated_conns, mgr->n_conns + 1,
                       sizeof *mgr->conns);
    mgr->conns[mgr->n_conns++] = c;
    pthread_mutex_unlock(&mgr->mutex);
    return c;
}

/* Appends 'msgs' (one or more whole messages) to the send queue. */
void
ofconn_send(struct ofconn *c, struct ofpbuf *msgs)
{
    pthread_mutex_lock(&c->mgr->mutex);
    ofpbuf_put(&c->tx, msgs->data, msgs->size);
    c->n_tx++;
    pthread_mutex_unlock(&c->mgr->mutex);
}

void
ofconn_send_error(struct ofconn *c, int error, const uint8_t *request,
                  size_t len)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    char buf[64];

    COVERAGE_INC(ofconn_error_sent);
    VLOG_DBG_RL(&ofmgr_rl, "%s: answering message type %u with %s", c->name,
                len >= 2 ? request[1] : 0, ofperr_to_string(error, buf));
    ofp_encode_error(&b, len >= 8 ? ofp_get32(request + 4) : 0, error, request,
                     len, NULL);
    ofconn_send(c, &b);
    pthread_mutex_lock(&c->mgr->mutex);
    c->n_errors++;
    pthread_mutex_unlock(&c->mgr->mutex);
    ofpbuf_uninit(&b);
}

static void ofmgr_update_fail_open(struct ofmgr *);

/* The I/O thread changes what other threads read (ofconn_wants_async(),
 * openflow/show) under the mutex. */
static void
ofconn_set_state(struct ofconn *c, enum ofconn_state state, bool closing)
{
    pthread_mutex_lock(&c->mgr->mutex);
    c->state = state;
    c->closing |= closing;
    if (state == OFCONN_ACTIVE && c->ctl) {
        c->ctl->n_connected++;
    }
    pthread_mutex_unlock(&c->mgr->mutex);
}

static void
ofconn_destroy(struct ofconn *c, const char *why)
{
    struct ofmgr *mgr = c->mgr;

    COVERAGE_INC(ofconn_closed);
    VLOG_INFO("%s: connection closed (%s)", c->name, why);
    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_conns; i++) {
        if (mgr->conns[i] == c) {
            mgr->conns[i] = mgr->conns[--mgr->n_conns];
            break;
        }
    }
    pthread_mutex_unlock(&mgr->mutex);
    if (c->ctl) {
        struct ofcontroller *ctl = c->ctl;
        uint64_t now = time_msec();

        pthread_mutex_lock(&mgr->mutex);
        ctl->conn = NULL;
        pthread_mutex_unlock(&mgr->mutex);
        ctl->next_try = now + ctl->backoff;
        ctl->backoff = MIN(ctl->backoff * 2, mgr->cfg.max_backoff);
        COVERAGE_INC(ofconn_reconnect);
    }
    close(c->fd);
    ofpbuf_uninit(&c->rx);
    ofpbuf_uninit(&c->tx);
    free(c->name);
    free(c);
    ofmgr_update_fail_open(mgr);
}

static void
ofconn_send_hello(struct ofconn *c)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;

    ofp_encode_hello(&b, c->next_xid++);
    ofconn_send(c, &b);
    ofpbuf_uninit(&b);
}

static void
controller_connect(struct ofmgr *mgr, struct ofcontroller *ctl, uint64_t now)
{
    struct target t;
    char *error = NULL;
    int fd;

    pthread_mutex_lock(&mgr->mutex);
    ctl->n_attempts++;
    pthread_mutex_unlock(&mgr->mutex);
    if (target_parse(ctl->target, false, &t, &error)) {
        free(error); /* Checked at create time. */
        ctl->next_try = now + mgr->cfg.max_backoff;
        return;
    }
    fd = socket(t.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0) {
        int one = 1;

        if (t.family == AF_INET) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        if (!connect(fd, (struct sockaddr *)&t.addr, t.addr_len)
            || errno == EINPROGRESS) {
            ctl->conn =
                ofconn_create(mgr, fd, ctl, ctl->target, OFCONN_CONNECTING);
            free(t.unix_path);
            return;
        }
        close(fd);
    }
    COVERAGE_INC(ofconn_connect_failed);
    VLOG_WARN_RL(&ofmgr_rl,
                 "%s: connection failed (%s); retrying in %" PRIu64 " ms",
                 ctl->target, strerror(errno), ctl->backoff);
    ctl->next_try = now + ctl->backoff;
    ctl->backoff = MIN(ctl->backoff * 2, mgr->cfg.max_backoff);
    free(t.unix_path);
}

/* A non-blocking connect finished (POLLOUT). */
static void
ofconn_connected(struct ofconn *c)
{
    int error = 0;
    socklen_t len = sizeof error;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) || error) {
        COVERAGE_INC(ofconn_connect_failed);
        VLOG_WARN_RL(&ofmgr_rl, "%s: connection failed (%s)", c->name,
                     strerror(error));
        ofconn_destroy(c, "connect failed");
        return;
    }
    VLOG_INFO("%s: connected", c->name);
    ofconn_set_state(c, OFCONN_HELLO, false);
    c->last_rx = time_msec();
    ofconn_send_hello(c);
}

static void
listener_accept(struct ofmgr *mgr, struct oflistener *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char name[128];
        int fd;

        memset(&ss, 0, sizeof ss);
        fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
            char ip[INET_ADDRSTRLEN];
            int one = 1;

            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
            snprintf(name, sizeof name, "tcp:%s:%u", ip, ntohs(sin->sin_port));
        } else {
            snprintf(name, sizeof name, "%s#%d", l->target, fd);
        }
        COVERAGE_INC(ofconn_accepted);
        VLOG_INFO("%s: accepted on %s", name, l->bound);
        ofconn_send_hello(ofconn_create(mgr, fd, NULL, name, OFCONN_HELLO));
    }
}

/* The peer's HELLO (or whatever came first). */
static bool
ofconn_handshake(struct ofconn *c, const uint8_t *msg, size_t len)
{
    uint32_t versions = 0;
    int error = msg[1] == OFPT_HELLO ? ofp_decode_hello(msg, len, &versions)
                                     : OFPERR_HELLO_INCOMPATIBLE;

    if (error) {
        struct ofpbuf b = OFPBUF_INITIALIZER;
        char *text = xasprintf("We support version 0x%02x, you support "
                               "versions bitmap 0x%08" PRIx32 ".",
                               OFP13_VERSION, versions);

        COVERAGE_INC(ofconn_hello_failed);
        VLOG_WARN_RL(&ofmgr_rl, "%s: version negotiation failed (%s)", c->name,
                     text);
        ofp_encode_error(&b, ofp_get32(msg + 4),
                         error == OFPERR_BAD_LEN ? error
                                                 : OFPERR_HELLO_INCOMPATIBLE,
                         msg, len, text);
        ofconn_send(c, &b);
        ofpbuf_uninit(&b);
        free(text);
        ofconn_set_state(c, c->state, true);
        return false;
    }
    ofconn_set_state(c, OFCONN_ACTIVE, false);
    VLOG_INFO("%s: negotiated OpenFlow 1.3", c->name);
    if (c->ctl) {
        c->ctl->backoff = OFMGR_MIN_BACKOFF;
    }
    ofmgr_update_fail_open(c->mgr);
    return true;
}

/* Reads what the socket has and handles every whole message.  Returns
 * false if the connection is to be closed ('*why' says why). */
static bool
ofconn_receive(struct ofconn *c, const char **why)
{
    uint8_t buf[65536];

    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);

        if (n == 0) {
            *why = "closed by peer";
            return false;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            if (errno == EINTR) {
                continue;
            }
            *why = strerror(errno);
            return false;
        }
        ofpbuf_put(&c->rx, buf, (size_t)n);
        if ((size_t)n < sizeof buf) {
            break;
        }
    }
    c->last_rx = time_msec();
    c->probe_sent = 0;
    ofconn_handle_rx(c);
    return true;
}

void
ofconn_handle_rx(struct ofconn *c)
{
    size_t ofs = 0;

    while (!c->closing && !ofconn_barrier_waiting(c)
           && c->rx.size - ofs >= OFP_HEADER_LEN) {
        const uint8_t *msg = c->rx.data + ofs;
        uint16_t len = ofp_get16(msg + 2);

        if (len < OFP_HEADER_LEN) {
            /* The stream cannot be framed any more. */
            COVERAGE_INC(ofconn_bad_length);
            ofconn_send_error(c, OFPERR_BAD_LEN, msg, OFP_HEADER_LEN);
            ofconn_set_state(c, c->state, true);
            break;
        }
        if (c->rx.size - ofs < len) {
            break;
        }
        pthread_mutex_lock(&c->mgr->mutex);
        c->n_rx++;
        pthread_mutex_unlock(&c->mgr->mutex);
        if (c->state == OFCONN_HELLO) {
            ofconn_handshake(c, msg, len);
        } else {
            ofconn_handle(c, msg, len);
        }
        ofs += len;
    }
    ofpbuf_pull(&c->rx, ofs);
}

/* Sends what it can of the queue.  Returns false on a broken socket. */
static bool
ofconn_flush(struct ofconn *c, const char **why)
{
    bool ok = true;

    pthread_mutex_lock(&c->mgr->mutex);
    while (c->tx.size) {
        ssize_t n =
            send(c->fd, c->tx.data, c->tx.size, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                *why = strerror(errno);
                ok = false;
            }
            break;
        }
        ofpbuf_pull(&c->tx, (size_t)n);
    }
    pthread_mutex_unlock(&c->mgr->mutex);
    return ok;
}

static bool
ofconn_has_tx(struct ofconn *c)
{
    bool has;

    pthread_mutex_lock(&c->mgr->mutex);
    has = c->tx.size > 0;
    pthread_mutex_unlock(&c->mgr->mutex);
    return has;
}

/* Probes an idle controller; returns false when it has not answered. */
static bool
ofconn_run_probe(struct ofconn *c, uint64_t now, uint64_t *next_wake)
{
    uint64_t interval = c->mgr->cfg.probe_interval;

    if (!c->ctl || c->state == OFCONN_CONNECTING || !interval) {
        return true;
    }
    if (c->probe_sent) {
        if (now >= c->probe_sent + interval) {
            COVERAGE_INC(ofconn_inactivity_drop);
            VLOG_WARN("%s: no answer to an echo request for %" PRIu64
                      " ms: disconnecting",
                      c->name, interval);
            return false;
        }
        *next_wake = MIN(*next_wake, c->probe_sent + interval);
        return true;
    }
    if (now >= c->last_rx + interval) {
        struct ofpbuf b = OFPBUF_INITIALIZER;

        ofp_msg_start(&b, OFPT_ECHO_REQUEST, c->next_xid++);
        ofp_msg_finish(&b);
        ofconn_send(c, &b);
        ofpbuf_uninit(&b);
        c->probe_sent = now;
        *next_wake = MIN(*next_wake, now + interval);
    } else {
        *next_wake = MIN(*next_wake, c->last_rx + interval);
    }
    return true;
}

/* standalone: fail-open while no controller connection is up. */
static void
ofmgr_update_fail_open(struct ofmgr *mgr)
{
    bool connected = false;
    bool want;

    for (size_t i = 0; i < mgr->n_controllers; i++) {
        const struct ofconn *c = mgr->controllers[i].conn;

        connected |= c && c->state == OFCONN_ACTIVE;
    }
    want = mgr->n_controllers && !connected
           && mgr->cfg.fail_mode == OFMGR_FAIL_STANDALONE;
    if (want != mgr->fail_open) {
        mgr->fail_open = want;
        ofproto_set_fail_open(mgr->ofproto, want);
        VLOG_INFO("%s fail-open mode (standalone, %s)",
                  want ? "entering" : "leaving",
                  want ? "no controller connected" : "a controller connected");
    }
}

/* ---- The thread --------------------------------------------------------- */

struct poll_set {
    struct pollfd *fds;
    size_t n, allocated;
};

static size_t
poll_add(struct poll_set *ps, int fd, short events)
{
    ps->fds = xgrow(ps->fds, &ps->allocated, ps->n + 1, sizeof *ps->fds);
    ps->fds[ps->n] = (struct pollfd){.fd = fd, .events = events};
    return ps->n++;
}

/* Connects the controllers that are due; lowers '*next_wake' to the next
 * retry of those still unconnected. */
static void
ofmgr_run_controllers(struct ofmgr *mgr, uint64_t now, uint64_t *next_wake)
{
    for (size_t i = 0; i < mgr->n_controllers; i++) {
        struct ofcontroller *ctl = &mgr->controllers[i];

        if (ctl->conn) {
            continue;
        }
        if (now >= ctl->next_try) {
            controller_connect(mgr, ctl, now);
        }
        if (!ctl->conn) {
            *next_wake = MIN(*next_wake, ctl->next_try);
        }
    }
}

/* A snapshot of the connections, '*n' of them (and a NULL after): handling
 * a message never adds or removes a connection, but closing one does.
 * Probes each and closes those that did not answer, leaving NULL in their
 * place. */
static struct ofconn **
ofmgr_snapshot_conns(struct ofmgr *mgr, uint64_t now, uint64_t *next_wake,
                     size_t *n)
{
    struct ofconn **conns;

    *n = mgr->n_conns;
    conns = xcalloc(*n + 1, sizeof *conns);
    if (*n) {
        memcpy(conns, mgr->conns, *n * sizeof *conns);
    }
    for (size_t i = 0; i < *n; i++) {
        if (!ofconn_run_probe(conns[i], now, next_wake)) {
            ofconn_destroy(conns[i], "inactivity probe");
            conns[i] = NULL;
        }
    }
    return conns;
}

/* Fills 'ps': the wake-up fd, then the listeners, then one slot per
 * snapshot connection (fd -1 for a closed one). */
static void
ofmgr_poll_prepare(struct ofmgr *mgr, struct poll_set *ps,
                   struct ofconn **conns, size_t n_conns)
{
    ps->n = 0;
    poll_add(ps, mgr->wake_fd, POLLIN);
    for (size_t i = 0; i < mgr->n_listeners; i++) {
        poll_add(ps, mgr->listeners[i].fd, POLLIN);
    }
    for (size_t i = 0; i < n_conns; i++) {
        struct ofconn *c = conns[i];
        short events = POLLIN;

        if (!c) {
            poll_add(ps, -1, 0);
            continue;
        }
        if (ofconn_barrier_waiting(c)) {
            events = 0; /* It reads nothing more until the reply. */
        }
        if (c->state == OFCONN_CONNECTING || ofconn_has_tx(c)) {
            events |= POLLOUT;
        }
        poll_add(ps, c->fd, events);
    }
}

/* Drains the wake-up fd and accepts on the listeners that are ready. */
static void
ofmgr_run_listeners(struct ofmgr *mgr, const struct poll_set *ps)
{
    if (ps->fds[0].revents & POLLIN) {
        uint64_t count;

        if (read(mgr->wake_fd, &count, sizeof count) < 0) {
            /* Drained by someone else. */
        }
    }
    for (size_t i = 0; i < mgr->n_listeners; i++) {
        if (ps->fds[1 + i].revents & POLLIN) {
            listener_accept(mgr, &mgr->listeners[i]);
        }
    }
}

/* Completes a connect, or receives, handles and sends for 'c' given what
 * poll() said; closes it on error. */
static void
ofconn_run_io(struct ofconn *c, short revents)
{
    const char *why = NULL;
    bool ok = true;

    if (c->state == OFCONN_CONNECTING) {
        if (revents & (POLLOUT | POLLERR | POLLHUP)) {
            ofconn_connected(c);
        }
        return;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP)) {
        ok = ofconn_receive(c, &why);
    }
    /* Send what handling queued, and what other threads did. */
    if (ok) {
        ok = ofconn_flush(c, &why);
    }
    if (ok && c->closing && !ofconn_has_tx(c)) {
        ok = false;
        why = "protocol error";
    }
    if (!ok) {
        ofconn_destroy(c, why ? why : "error");
    }
}

static void
ofmgr_run_once(struct ofmgr *mgr, struct poll_set *ps)
{
    uint64_t now = time_msec();
    uint64_t next_wake = now + OFMGR_POLL_MAX_MS;
    struct ofconn **conns;
    size_t n_conns;
    int timeout;

    ofmgr_run_controllers(mgr, now, &next_wake);
    conns = ofmgr_snapshot_conns(mgr, now, &next_wake, &n_conns);
    ofmgr_barriers_run(conns, n_conns);
    ofmgr_poll_prepare(mgr, ps, conns, n_conns);
    timeout =
        (int)(next_wake > now ? MIN(next_wake - now, OFMGR_POLL_MAX_MS) : 0);
    if (poll(ps->fds, ps->n, timeout) >= 0) {
        ofmgr_run_listeners(mgr, ps);
        for (size_t i = 0; i < n_conns; i++) {
            if (conns[i]) {
                ofconn_run_io(conns[i],
                              ps->fds[1 + mgr->n_listeners + i].revents);
            }
        }
    }
    free(conns);
}

static void *
ofmgr_main(void *mgr_)
{
    struct ofmgr *mgr = mgr_;
    struct poll_set ps = {NULL, 0, 0};

    rcu_thread_register();
    while (!atomic_load_acquire(&mgr->stop)) {
        ofmgr_run_once(mgr, &ps);
    }
    free(ps.fds);
    netdev_pool_purge();
    rcu_thread_unregister();
    return NULL;
}

/* ---- Asynchronous messages ---------------------------------------------- */

/* Whether 'c' gets asynchronous messages; slaves only port status.  With
 * the mutex held. */
static bool
ofconn_wants_async(const struct ofconn *c, bool port_status)
{
    if (c->state != OFCONN_ACTIVE || c->closing) {
        return false;
    }
    if (!c->ctl && !c->miss_send_len) {
        return false;
    }
    return port_status || c->role != OFPCR_ROLE_SLAVE;
}

/* One token of the packet-in bucket, if there is one.  Mutex held. */
static bool
ofconn_take_token(struct ofconn *c, unsigned int rate, uint64_t now)
{
    uint64_t cap = (uint64_t)rate * 1000;

    if (!rate) {
        return true;
    }
    if (now > c->tokens_refill) {
        c->tokens = MIN(cap, c->tokens + (now - c->tokens_refill) * rate);
        c->tokens_refill = now;
    }
    if (c->tokens < 1000) {
        return false;
    }
    c->tokens -= 1000;
    return true;
}

bool
ofmgr_packet_in_hook(const struct upcall_packet_in *up, void *mgr_)
{
    struct ofmgr *mgr = mgr_;
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_packet_in pin;
    size_t size = dp_packet_size(up->packet);
    uint64_t now = time_msec();
    bool taken = false;
    uint32_t ofp_port;

    if (!ofproto_port_from_dp(mgr->ofproto, up->dp_in_port, &ofp_port)) {
        ofp_port = OFPP_CONTROLLER; /* A packet-out from the controller. */
    }
    memset(&pin, 0, sizeof pin);
    pin.buffer_id = OFP_NO_BUFFER;
    pin.total_len = (uint16_t)MIN(size, 0xffff);
    /* OpenFlow 1.3 knows no_match, action and invalid_ttl; the 1.4
     * reasons (action set, group, packet-out) are actions to it. */
    pin.reason = up->reason <= 2 ? up->reason : 1;
    pin.table_id = up->table_id;
    pin.cookie = up->reason == 0 && !up->cookie ? UINT64_MAX : up->cookie;
    pin.in_port = ofp_port;
    pin.data = dp_packet_data(up->packet);
    pin.data_len =
        up->max_len == OFPCML_NO_BUFFER ? size : MIN(size, up->max_len);
    ofp_encode_packet_in(&b, 0, &pin);

    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_conns; i++) {
        struct ofconn *c = mgr->conns[i];

        if (!ofconn_wants_async(c, false)) {
            continue;
        }
        if (!ofconn_take_token(c, mgr->cfg.packet_in_rate, now)) {
            c->n_pin_rate_drop++;
            COVERAGE_INC(ofconn_packet_in_rate_drop);
            continue;
        }
        if (c->tx.size + b.size > OFMGR_TX_QUEUE_MAX) {
            c->n_pin_queue_drop++;
            COVERAGE_INC(ofconn_packet_in_queue_drop);
            continue;
        }
        ofpbuf_put(&c->tx, b.data, b.size);
        c->n_tx++;
        c->n_packet_in++;
        COVERAGE_INC(ofconn_packet_in);
        taken = true;
    }
    pthread_mutex_unlock(&mgr->mutex);
    ofpbuf_uninit(&b);
    if (taken) {
        ofmgr_wake(mgr);
    } else {
        COVERAGE_INC(ofconn_packet_in_no_receiver);
    }
    return taken;
}

/* The OpenFlow 1.3 reason of a removal (not a meter's: see below). */
static uint8_t
ofmgr_removed_reason(enum ofproto_removed_reason reason)
{
    switch (reason) {
    case OFPROTO_REMOVED_IDLE:
        return OFPRR_IDLE_TIMEOUT;
    case OFPROTO_REMOVED_HARD:
        return OFPRR_HARD_TIMEOUT;
    case OFPROTO_REMOVED_GROUP:
        return OFPRR_GROUP_DELETE;
    case OFPROTO_REMOVED_DELETE:
    case OFPROTO_REMOVED_METER:
    default:
        return OFPRR_DELETE;
    }
}

static void
ofmgr_flow_removed_cb(const struct ofproto_rule_info *info,
                      enum ofproto_removed_reason reason, void *mgr_)
{
    struct ofmgr *mgr = mgr_;
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_flow_entry e;
    bool any = false;

    if (reason == OFPROTO_REMOVED_METER) {
        /* OpenFlow 1.3 has no meter_delete reason, and Open vSwitch sends
         * nothing for it over 1.3 (its default asynchronous config leaves
         * it out): neither do we. */
        COVERAGE_INC(ofconn_flow_removed_meter_unsent);
        return;
    }
    ofmgr_flow_entry_from_rule(info, &e);
    ofp_encode_flow_removed(&b, 0, &e, ofmgr_removed_reason(reason));
    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_conns; i++) {
        struct ofconn *c = mgr->conns[i];

        if (ofconn_wants_async(c, false)) {
            ofpbuf_put(&c->tx, b.data, b.size);
            c->n_tx++;
            c->n_flow_removed++;
            COVERAGE_INC(ofconn_flow_removed);
            any = true;
        }
    }
    pthread_mutex_unlock(&mgr->mutex);
    ofpbuf_uninit(&b);
    if (any) {
        ofmgr_wake(mgr);
    }
}

uint64_t
ofmgr_port_added(struct ofmgr *mgr, uint32_t ofp_port)
{
    uint64_t added = mgr->start;

    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_ports; i++) {
        if (mgr->ports[i].ofp_port == ofp_port) {
            added = mgr->ports[i].added;
        }
    }
    pthread_mutex_unlock(&mgr->mutex);
    return added;
}

void
ofmgr_port_get_state(struct ofmgr *mgr, uint32_t ofp_port, uint32_t *config,
                     uint32_t *state)
{
    *config = 0;
    *state = OFPPS_LIVE;
    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_ports; i++) {
        if (mgr->ports[i].ofp_port == ofp_port) {
            *config = mgr->ports[i].config;
            *state = mgr->ports[i].state;
        }
    }
    pthread_mutex_unlock(&mgr->mutex);
}

/* Keeps the port list in step with a port-status of 'reason' about 'pd'.
 * Caller holds mgr->mutex. */
static void
ofmgr_port_track(struct ofmgr *mgr, uint8_t reason,
                 const struct ofp_port_desc *pd)
{
    if (reason == OFPPR_ADD) {
        mgr->ports = xgrow(mgr->ports, &mgr->allocated_ports, mgr->n_ports + 1,
                           sizeof *mgr->ports);
        mgr->ports[mgr->n_ports++] = (struct ofmgr_port){
            pd->port_no, time_msec(), pd->config, pd->state};
        return;
    }
    for (size_t i = 0; i < mgr->n_ports; i++) {
        struct ofmgr_port *p = &mgr->ports[i];

        if (p->ofp_port != pd->port_no) {
            continue;
        }
        if (reason == OFPPR_DELETE) {
            *p = mgr->ports[--mgr->n_ports];
        } else {
            p->config = pd->config;
            p->state = pd->state;
        }
        break;
    }
}

/* Records 'pd' and sends it, as a PORT_STATUS of 'reason', to every
 * connection that takes them. */
static void
ofmgr_send_port_status(struct ofmgr *mgr, uint8_t reason,
                       const struct ofp_port_desc *pd)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    bool any = false;

    ofp_encode_port_status(&b, 0, reason, pd);
    pthread_mutex_lock(&mgr->mutex);
    ofmgr_port_track(mgr, reason, pd);
    for (size_t i = 0; i < mgr->n_conns; i++) {
        struct ofconn *c = mgr->conns[i];

        if (ofconn_wants_async(c, true)) {
            ofpbuf_put(&c->tx, b.data, b.size);
            c->n_tx++;
            c->n_port_status++;
            COVERAGE_INC(ofconn_port_status);
            any = true;
        }
    }
    pthread_mutex_unlock(&mgr->mutex);
    ofpbuf_uninit(&b);
    if (any) {
        ofmgr_wake(mgr);
    }
}

static void
ofmgr_port_desc_init(struct ofp_port_desc *pd, uint32_t ofp_port,
                     const char *name)
{
    memset(pd, 0, sizeof *pd);
    pd->port_no = ofp_port;
    snprintf(pd->name, sizeof pd->name, "%s", name);
}

void
ofmgr_port_status(struct ofmgr *mgr, uint8_t reason, uint32_t ofp_port,
                  const char *name)
{
    struct ofp_port_desc pd;

    ofmgr_port_desc_init(&pd, ofp_port, name);
    pd.state = reason == OFPPR_DELETE ? OFPPS_LINK_DOWN : OFPPS_LIVE;
    ofmgr_send_port_status(mgr, reason, &pd);
}

void
ofmgr_port_modify(struct ofmgr *mgr, uint32_t ofp_port, const char *name,
                  uint32_t config, uint32_t state)
{
    struct ofp_port_desc pd;

    ofmgr_port_desc_init(&pd, ofp_port, name);
    ofmgr_port_hw_addr(name, ofp_port, &pd.hw_addr);
    pd.config = config;
    pd.state = state;
    ofmgr_send_port_status(mgr, OFPPR_MODIFY, &pd);
}

/* ---- Show --------------------------------------------------------------- */

static const char *
role_name(uint32_t role)
{
    switch (role) {
    case OFPCR_ROLE_MASTER:
        return "master";
    case OFPCR_ROLE_SLAVE:
        return "slave";
    case OFPCR_ROLE_EQUAL:
    default:
        return "equal";
    }
}

static const char *
state_name(enum ofconn_state state)
{
    return state == OFCONN_CONNECTING ? "connecting"
           : state == OFCONN_HELLO    ? "hello"
                                      : "active";
}

size_t
ofmgr_n_connected(struct ofmgr *mgr)
{
    size_t n = 0;

    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_conns; i++) {
        n += mgr->conns[i]->state == OFCONN_ACTIVE;
    }
    pthread_mutex_unlock(&mgr->mutex);
    return n;
}

void
ofmgr_show(struct ofmgr *mgr, struct ds *s)
{
    uint64_t now = time_msec();

    ds_put_format(s, "datapath_id %016" PRIx64 "\n", mgr->cfg.datapath_id);
    ds_put_format(s, "fail_mode %s%s\n",
                  mgr->cfg.fail_mode == OFMGR_FAIL_STANDALONE ? "standalone"
                                                              : "secure",
                  ofproto_get_fail_open(mgr->ofproto) ? " (fail-open)" : "");
    for (size_t i = 0; i < mgr->n_listeners; i++) {
        ds_put_format(s, "listener %s\n", mgr->listeners[i].bound);
    }
    pthread_mutex_lock(&mgr->mutex);
    for (size_t i = 0; i < mgr->n_controllers; i++) {
        const struct ofcontroller *ctl = &mgr->controllers[i];

        ds_put_format(
            s,
            "controller %s: %s, attempts %" PRIu64 ", connected %" PRIu64 "\n",
            ctl->target,
            ctl->conn ? state_name(ctl->conn->state) : "disconnected",
            ctl->n_attempts, ctl->n_connected);
    }
    for (size_t i = 0; i < mgr->n_conns; i++) {
        const struct ofconn *c = mgr->conns[i];

        ds_put_format(s,
                      "connection %s: %s %s, role %s, miss_send_len %u, "
                      "age %" PRIu64 " s\n",
                      c->name, c->ctl ? "controller" : "service",
                      state_name(c->state), role_name(c->role),
                      c->miss_send_len, (now - c->created) / 1000);
        ds_put_format(s,
                      "  rx %" PRIu64 ", tx %" PRIu64 ", errors sent %" PRIu64
                      ", packet_in %" PRIu64 " (dropped: rate %" PRIu64
                      ", queue %" PRIu64 "), flow_removed %" PRIu64
                      ", port_status %" PRIu64 "\n",
                      c->n_rx, c->n_tx, c->n_errors, c->n_packet_in,
                      c->n_pin_rate_drop, c->n_pin_queue_drop,
                      c->n_flow_removed, c->n_port_status);
    }
    pthread_mutex_unlock(&mgr->mutex);
}

static void
ofmgr_cmd_show(struct control_conn *conn, int argc, const char *argv[],
               void *mgr)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)argc, (void)argv;
    ofmgr_show(mgr, &s);
    control_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ---- Create and destroy ------------------------------------------------- */

static void
ofmgr_free(struct ofmgr *mgr)
{
    for (size_t i = 0; i < mgr->n_listeners; i++) {
        struct oflistener *l = &mgr->listeners[i];

        if (l->fd >= 0) {
            close(l->fd);
        }
        if (l->unix_path) {
            unlink(l->unix_path);
        }
        free(l->unix_path);
        free(l->target);
        free(l->bound);
    }
    free(mgr->listeners);
    for (size_t i = 0; i < mgr->n_controllers; i++) {
        free(mgr->controllers[i].target);
    }
    free(mgr->controllers);
    if (mgr->wake_fd >= 0) {
        close(mgr->wake_fd);
    }
    free(mgr->ports);
    free(mgr->conns);
    pthread_mutex_destroy(&mgr->mutex);
    free(mgr);
}

int
ofmgr_create(const struct ofmgr_config *cfg, struct ofproto *ofproto,
             struct dp *dp, struct ofmgr **mgrp, char **errorp)
{
    struct ofmgr *mgr = xzalloc(sizeof *mgr);
    struct ofproto_port_info *ports;
    size_t n_ports;
    int error;

    *mgrp = NULL;
    *errorp = NULL;
    mgr->cfg = *cfg;
    mgr->cfg.listeners = NULL;
    mgr->cfg.controllers = NULL;
    mgr->ofproto = ofproto;
    mgr->dp = dp;
    mgr->start = time_msec();
    pthread_mutex_init(&mgr->mutex, NULL);
    mgr->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (mgr->wake_fd < 0) {
        error = errno;
        *errorp = xasprintf("openflow: eventfd: %s", strerror(error));
        ofmgr_free(mgr);
        return error;
    }

    mgr->listeners = xcalloc(cfg->n_listeners + 1, sizeof *mgr->listeners);
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        error = listener_open(cfg->listeners[i], &mgr->listeners[i], errorp);
        if (error) {
            ofmgr_free(mgr);
            return error;
        }
        mgr->n_listeners++;
        VLOG_INFO("listening on %s", mgr->listeners[i].bound);
    }
    mgr->controllers =
        xcalloc(cfg->n_controllers + 1, sizeof *mgr->controllers);
    for (size_t i = 0; i < cfg->n_controllers; i++) {
        struct ofcontroller *ctl = &mgr->controllers[i];

        error = ofmgr_check_target(cfg->controllers[i], false, errorp);
        if (error) {
            ofmgr_free(mgr);
            return error;
        }
        ctl->target = xstrdup(cfg->controllers[i]);
        ctl->backoff = OFMGR_MIN_BACKOFF;
        mgr->n_controllers++;
    }

    n_ports = ofproto_port_list(ofproto, &ports);
    mgr->allocated_ports = n_ports + 1;
    mgr->ports = xcalloc(mgr->allocated_ports, sizeof *mgr->ports);
    for (size_t i = 0; i < n_ports; i++) {
        mgr->ports[i] =
            (struct ofmgr_port){ports[i].ofp_port, mgr->start, 0, OFPPS_LIVE};
    }
    mgr->n_ports = n_ports;
    ofproto_port_list_free(ports, n_ports);

    ofproto_set_flow_removed_cb(ofproto, ofmgr_flow_removed_cb, mgr);
    ofmgr_update_fail_open(mgr);
    ofmgr_barrier_watch(mgr);
    error = pthread_create(&mgr->thread, NULL, ofmgr_main, mgr);
    if (error) {
        *errorp = xasprintf("openflow: cannot start the thread (%s)",
                            strerror(error));
        ofmgr_barrier_unwatch(mgr);
        ofproto_set_flow_removed_cb(ofproto, NULL, NULL);
        ofmgr_free(mgr);
        return error;
    }
    control_command_register("openflow/show", "", 0, 0, ofmgr_cmd_show, mgr);
    *mgrp = mgr;
    return 0;
}

void
ofmgr_destroy(struct ofmgr *mgr)
{
    if (!mgr) {
        return;
    }
    control_command_unregister("openflow/show");
    ofproto_set_flow_removed_cb(mgr->ofproto, NULL, NULL);
    atomic_store_release(&mgr->stop, true);
    ofmgr_wake(mgr);
    pthread_join(mgr->thread, NULL);
    ofmgr_barrier_unwatch(mgr);
    /* The thread is gone: flush what is queued and close, from a copy of
     * the array, since closing edits it. */
    size_t n_conns = mgr->n_conns;
    struct ofconn **conns = xcalloc(n_conns + 1, sizeof *conns);

    if (n_conns) {
        memcpy(conns, mgr->conns, n_conns * sizeof *conns);
    }
    for (size_t i = 0; i < n_conns; i++) {
        const char *why;

        ofconn_barrier_try_answer(conns[i]);
        ofconn_flush(conns[i], &why);
        ofconn_destroy(conns[i], "shutting down");
    }
    free(conns);
    if (mgr->fail_open) {
        ofproto_set_fail_open(mgr->ofproto, false);
    }
    ofmgr_free(mgr);
}
