/* control/control.c — the control socket server, client and command
 * registry (see control.h).
 *
 * Structure.  One server thread polls the listening socket, an eventfd that
 * other threads kick (deferred replies, shutdown) and every connection.
 * A connection has an input buffer that is cut into JSON messages by
 * json_frame_end(), and an output buffer that the thread drains with
 * non-blocking writes.  At most one request per connection is in flight: the
 * next one is parsed only when the previous one was answered, which keeps
 * replies in request order even when a command answers later from another
 * thread.  Connections are reference counted: the server's list holds one
 * reference and an unanswered request another, so a client that hangs up
 * while its request is pending does not free memory under the replier.
 *
 * Replies are JSON strings, so they must be UTF-8; one that quotes bad
 * input (a JSON parser's error message, a line of a flow file) has its
 * invalid bytes replaced by '?' (control_reply_not_utf8) rather than be
 * lost (found by fuzz_control: the client got nothing).
 *
 * End of input.  A client may shut its sending side down once it has said
 * everything (`socat`, `nc -N`): the server stops reading, answers every
 * complete request it holds (deferred ones too), and closes once the last
 * reply is out.  A request cut short by the end of input is dropped.
 *
 * Bounds (nothing a client sends grows memory without limit):
 *  - at most CONTROL_MAX_CONNECTIONS connections; the next one gets one
 *    error reply and is closed (control_conn_refused);
 *  - a message is at most CONTROL_MAX_MESSAGE bytes (longer: refused,
 *    control_message_too_long), and the input buffer never holds more than
 *    that plus one read;
 *  - one request per connection in flight, and no new request is parsed
 *    while CONTROL_OUTPUT_HIGH_WATER bytes of replies wait for the client
 *    to read them, which also stops reading from it: a client that sends
 *    without reading is held back by its own socket buffer, not by our
 *    memory (control_output_backpressure counts the stalls).
 *
 * The socket file.  Before binding, the path must be free, or a socket
 * owned by this user that nobody serves any more (it is then replaced).
 * A symbolic link, a file of another type or another user's socket is
 * refused with one line, never followed or removed.  The socket is
 * created 0660 (the umask is narrowed around bind(), so it never exists
 * with looser permissions).  control_prepare_rundir() does the same
 * checks for the directory the default socket lives in. */
#include "control/control.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/list.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"

VLOG_DEFINE_THIS_MODULE(control);

COVERAGE_DEFINE(control_request);
COVERAGE_DEFINE(control_bad_json);
COVERAGE_DEFINE(control_bad_request);
COVERAGE_DEFINE(control_message_too_long);
COVERAGE_DEFINE(control_unknown_command);
COVERAGE_DEFINE(control_bad_arg_count);
COVERAGE_DEFINE(control_reply_discarded);
COVERAGE_DEFINE(control_write_error);
COVERAGE_DEFINE(control_conn_refused);
COVERAGE_DEFINE(control_output_backpressure);
COVERAGE_DEFINE(control_eof_incomplete);
COVERAGE_DEFINE(control_reply_not_utf8);

static struct vlog_rate_limit control_rl = VLOG_RATE_LIMIT_INIT(10, 10);

/* ---- Command registry --------------------------------------------------- */

struct control_command {
    char *name;
    char *usage;
    int min_args, max_args;
    control_cb *cb;
    void *aux;
};

static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct control_command *commands; /* Sorted by name. */
static size_t n_commands, allocated_commands;
static char *version_text;

static struct control_command *
command_find_locked(const char *name)
{
    for (size_t i = 0; i < n_commands; i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

static int
compare_commands(const void *a_, const void *b_)
{
    const struct control_command *a = a_;
    const struct control_command *b = b_;

    return strcmp(a->name, b->name);
}

void
control_command_register(const char *name, const char *usage, int min_args,
                         int max_args, control_cb *cb, void *aux)
{
    pthread_mutex_lock(&registry_mutex);
    struct control_command *cmd = command_find_locked(name);

    if (cmd) {
        free(cmd->usage);
    } else {
        commands = xgrow(commands, &allocated_commands, n_commands + 1,
                         sizeof *commands);
        cmd = &commands[n_commands++];
        cmd->name = xstrdup(name);
    }
    cmd->usage = xstrdup(usage ? usage : "");
    cmd->min_args = min_args;
    cmd->max_args = max_args;
    cmd->cb = cb;
    cmd->aux = aux;
    qsort(commands, n_commands, sizeof *commands, compare_commands);
    pthread_mutex_unlock(&registry_mutex);
}

void
control_command_unregister(const char *name)
{
    pthread_mutex_lock(&registry_mutex);
    struct control_command *cmd = command_find_locked(name);

    if (cmd) {
        free(cmd->name);
        free(cmd->usage);
        *cmd = commands[--n_commands];
        qsort(commands, n_commands, sizeof *commands, compare_commands);
    }
    pthread_mutex_unlock(&registry_mutex);
}

void
control_set_version(const char *program_name)
{
    char *text = xasprintf("%s (flowswitch) 0.1.0\n", program_name);

    pthread_mutex_lock(&registry_mutex);
    free(version_text);
    version_text = text;
    pthread_mutex_unlock(&registry_mutex);
}

static void
list_commands_cb(struct control_conn *conn, int argc, const char *argv[],
                 void *aux)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    (void)argc;
    (void)argv;
    (void)aux;
    ds_put_cstr(&ds, "The available commands are:\n");
    pthread_mutex_lock(&registry_mutex);
    for (size_t i = 0; i < n_commands; i++) {
        ds_put_format(&ds, "  %-23s %s\n", commands[i].name,
                      commands[i].usage);
    }
    pthread_mutex_unlock(&registry_mutex);
    control_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
version_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc;
    (void)argv;
    (void)aux;
    pthread_mutex_lock(&registry_mutex);
    char *text = xstrdup(version_text ? version_text
                                      : "flowswitch (flowswitch) 0.1.0\n");
    pthread_mutex_unlock(&registry_mutex);
    control_reply(conn, text);
    free(text);
}

static void
register_builtins(void)
{
    control_command_register("list-commands", "", 0, 0, list_commands_cb,
                             NULL);
    control_command_register("version", "", 0, 0, version_cb, NULL);
}

/* ---- Framing ------------------------------------------------------------ */

/* If 'buf[0..len)' begins (after white space) with a complete JSON object or
 * array, returns the offset just past it; returns 0 if more bytes are
 * needed and -1 if the bytes cannot start one. */
static long
json_frame_end(const char *buf, size_t len)
{
    size_t i = 0;
    int depth = 0;
    bool in_string = false;

    /* JSON's white space only: strchr() would take a NUL byte for some. */
    while (i < len
           && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'
               || buf[i] == '\n')) {
        i++;
    }
    if (i == len) {
        return 0;
    }
    if (buf[i] != '{' && buf[i] != '[') {
        return -1;
    }
    for (; i < len; i++) {
        char c = buf[i];

        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                return (long)(i + 1);
            }
        }
    }
    return 0;
}

/* ---- Server ------------------------------------------------------------- */

struct connection {
    struct list node; /* In server->conns (server thread only). */
    int fd;
    pthread_mutex_t mutex; /* Guards everything below. */
    int refcnt;
    bool closed;           /* Hung up or server gone: drop replies. */
    bool busy;             /* A request awaits its reply. */
    bool close_after_send; /* Protocol error: close once 'out' drains. */
    bool eof;              /* The client sent all it will (server thread). */
    bool stalled;          /* Counted in control_output_backpressure. */
    char *in;
    size_t in_len, in_alloc;
    char *out;
    size_t out_len, out_alloc;
    struct control_server *server;
};

struct control_conn {
    struct connection *c;
    json_t *id;
};

struct control_server {
    char *path;
    int listen_fd;
    int wake_fd; /* eventfd: replies queued or shutting down. */
    pthread_t thread;
    bool exiting;      /* Written under no lock before the wake; read after. */
    struct list conns; /* struct connection, newest first. */
    size_t n_conns;
};

static void
connection_unref(struct connection *c)
{
    pthread_mutex_lock(&c->mutex);
    bool last = --c->refcnt == 0;
    pthread_mutex_unlock(&c->mutex);

    if (last) {
        pthread_mutex_destroy(&c->mutex);
        free(c->in);
        free(c->out);
        free(c);
    }
}

static void
server_wake(struct control_server *server)
{
    uint64_t one = 1;

    if (write(server->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN) {
        VLOG_WARN("cannot wake control thread: %s", strerror(errno));
    }
}

/* Appends 'msg' to the output of 'c'.  Call with c->mutex held. */
static void
connection_queue_locked(struct connection *c, const char *msg)
{
    size_t n = strlen(msg);

    c->out = xgrow(c->out, &c->out_alloc, c->out_len + n, 1);
    memcpy(c->out + c->out_len, msg, n);
    c->out_len += n;
}

/* A copy of 's' with every byte that is not part of valid UTF-8 replaced
 * by '?': JSON strings must be UTF-8, and a reply may quote bad input (a
 * parser's error message, a flow file's line). */
static char *
utf8_sanitize(const char *s)
{
    char *copy = xstrdup(s);
    unsigned char *p = (unsigned char *)copy;

    while (*p) {
        size_t n = utf8_sequence_len((const char *)p);

        if (!n) {
            *p++ = '?';
        } else {
            p += n;
        }
    }
    return copy;
}

/* The text of a reply to 'id' (an error when 'is_error'), NULL only if
 * jansson fails for want of memory. */
static char *
reply_text(json_t *id, const char *body, bool is_error)
{
    char *safe = NULL;
    char *text = NULL;

    for (int attempt = 0; attempt < 2 && !text; attempt++) {
        const char *b = attempt ? (safe = utf8_sanitize(body)) : body;
        json_t *reply =
            is_error
                ? json_pack("{s:O, s:s}", "id", id, "error", b)
                : json_pack("{s:O, s:s, s:n}", "id", id, "result", b, "error");

        if (reply) {
            text = json_dumps(reply, JSON_COMPACT);
            json_decref(reply);
        } else if (!attempt) {
            COVERAGE_INC(control_reply_not_utf8);
        }
    }
    free(safe);
    return text;
}

static void
send_reply(struct control_conn *conn, const char *body, bool is_error)
{
    struct connection *c = conn->c;
    char *text = reply_text(conn->id, body, is_error);

    pthread_mutex_lock(&c->mutex);
    if (c->closed || !text) {
        COVERAGE_INC(control_reply_discarded);
    } else {
        connection_queue_locked(c, text);
    }
    c->busy = false;
    if (!c->closed) {
        /* Under the mutex: the server closes (and later frees itself) only
         * after marking every connection closed under this mutex. */
        server_wake(c->server);
    }
    pthread_mutex_unlock(&c->mutex);
    free(text);
    json_decref(conn->id);
    connection_unref(c);
    free(conn);
}

void
control_reply(struct control_conn *conn, const char *body)
{
    send_reply(conn, body, false);
}

void
control_reply_error(struct control_conn *conn, const char *body)
{
    send_reply(conn, body, true);
}

static struct control_conn *
request_create(struct connection *c, json_t *id)
{
    struct control_conn *conn = xmalloc(sizeof *conn);

    pthread_mutex_lock(&c->mutex);
    c->refcnt++;
    c->busy = true;
    pthread_mutex_unlock(&c->mutex);
    conn->c = c;
    /* A copy, not a reference: the reply may be sent from another thread
     * while the server thread frees the request message, and jansson's
     * reference counts are not shared safely across threads. */
    conn->id = json_deep_copy(id);
    return conn;
}

/* Refuses a malformed message with an error reply (whose id is null when
 * the message's own id is unknown: bad JSON, a message too long to parse),
 * and the connection closes once its output is flushed.  Runs in the
 * server thread, so the reply is queued directly: no request is created. */
static void
refuse_message(struct connection *c, json_t *id, const char *why)
{
    char *body = xasprintf("%s\n", why);
    char *text = reply_text(id ? id : json_null(), body, true);

    VLOG_WARN_RL(&control_rl, "refusing request: %s", why);
    pthread_mutex_lock(&c->mutex);
    if (text && !c->closed) {
        connection_queue_locked(c, text);
    } else {
        COVERAGE_INC(control_reply_discarded);
    }
    c->close_after_send = true;
    pthread_mutex_unlock(&c->mutex);
    free(text);
    free(body);
}

static void
dispatch(struct connection *c, json_t *id, const char *method, int argc,
         const char *argv[])
{
    struct control_command cmd;
    bool found;

    COVERAGE_INC(control_request);
    pthread_mutex_lock(&registry_mutex);
    struct control_command *p = command_find_locked(method);
    found = p != NULL;
    if (found) {
        cmd = *p;
    }
    pthread_mutex_unlock(&registry_mutex);

    struct control_conn *conn = request_create(c, id);
    int n_args = argc - 1;

    if (!found) {
        char *msg = xasprintf("\"%s\" is not a valid command (use "
                              "\"list-commands\" to see a list of valid "
                              "commands)\n",
                              method);
        COVERAGE_INC(control_unknown_command);
        control_reply_error(conn, msg);
        free(msg);
    } else if (n_args < cmd.min_args) {
        char *msg = xasprintf("\"%s\" command requires at least %d "
                              "arguments\n",
                              method, cmd.min_args);
        COVERAGE_INC(control_bad_arg_count);
        control_reply_error(conn, msg);
        free(msg);
    } else if (n_args > cmd.max_args) {
        char *msg = xasprintf("\"%s\" command takes at most %d arguments\n",
                              method, cmd.max_args);
        COVERAGE_INC(control_bad_arg_count);
        control_reply_error(conn, msg);
        free(msg);
    } else {
        cmd.cb(conn, argc, argv, cmd.aux);
    }
}

/* Handles one complete JSON message 'text[0..len)'. */
static void
handle_message(struct connection *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);

    if (!msg) {
        COVERAGE_INC(control_bad_json);
        char *why = xasprintf("bad JSON: %s", jerr.text);
        refuse_message(c, NULL, why);
        free(why);
        return;
    }

    json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
    json_t *method = id ? json_object_get(msg, "method") : NULL;
    json_t *params = id ? json_object_get(msg, "params") : NULL;
    const char *why = NULL;

    if (!json_is_object(msg)) {
        why = "bad request: not a JSON object";
    } else if (!id || json_is_null(id)) {
        why = "bad request: missing \"id\" (notifications are not served)";
    } else if (!json_is_string(method)) {
        why = "bad request: \"method\" must be a string";
    } else if (!json_is_array(params)) {
        why = "bad request: \"params\" must be an array of strings";
    } else {
        size_t n = json_array_size(params);

        for (size_t i = 0; i < n && !why; i++) {
            if (!json_is_string(json_array_get(params, i))) {
                why = "bad request: \"params\" must be an array of strings";
            }
        }
    }
    if (why) {
        COVERAGE_INC(control_bad_request);
        refuse_message(c, id && !json_is_null(id) ? id : NULL, why);
        json_decref(msg);
        return;
    }

    size_t n = json_array_size(params);
    const char **argv = xmalloc((n + 2) * sizeof *argv);

    argv[0] = json_string_value(method);
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = json_string_value(json_array_get(params, i));
    }
    argv[n + 1] = NULL;
    dispatch(c, id, argv[0], (int)n + 1, argv);
    free(argv);
    json_decref(msg);
}

/* Parses and dispatches the buffered requests of 'c', one at a time. */
static void
connection_process_input(struct connection *c)
{
    for (;;) {
        pthread_mutex_lock(&c->mutex);
        bool stop = c->busy || c->close_after_send;
        bool full = c->out_len >= CONTROL_OUTPUT_HIGH_WATER;
        pthread_mutex_unlock(&c->mutex);
        if (stop || !c->in_len) {
            return;
        }
        if (full) {
            /* Replies pile up unread: wait until the client reads. */
            if (!c->stalled) {
                COVERAGE_INC(control_output_backpressure);
                c->stalled = true;
            }
            return;
        }
        c->stalled = false;

        long end = json_frame_end(c->in, c->in_len);
        if (end < 0) {
            COVERAGE_INC(control_bad_json);
            refuse_message(c, NULL, "bad JSON: a message must be an object");
            return;
        } else if (end == 0) {
            if (c->in_len > CONTROL_MAX_MESSAGE) {
                COVERAGE_INC(control_message_too_long);
                refuse_message(c, NULL, "message longer than 1 MiB");
            }
            return;
        }
        handle_message(c, c->in, (size_t)end);
        memmove(c->in, c->in + end, c->in_len - (size_t)end);
        c->in_len -= (size_t)end;
    }
}

/* Reads what is available, never holding more than one message and one
 * read.  Returns false when the peer has sent everything (EOF) or the
 * connection failed. */
static bool
connection_read(struct connection *c)
{
    for (;;) {
        if (c->in_len > CONTROL_MAX_MESSAGE) {
            return true; /* Let processing refuse it. */
        }
        /* Room for 4 kB more, 8 kB at first. */
        c->in = xgrow(c->in, &c->in_alloc, MAX(c->in_len + 4096, 8192), 1);
        size_t room = MIN(c->in_alloc - c->in_len,
                          CONTROL_MAX_MESSAGE + 4096 - c->in_len);
        ssize_t n = read(c->fd, c->in + c->in_len, room);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        /* Hang-up (n == 0) or error, unless there is merely nothing more. */
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/* Writes queued output.  Returns false on a write error. */
static bool
connection_write(struct connection *c)
{
    pthread_mutex_lock(&c->mutex);
    while (c->out_len) {
        ssize_t n = write(c->fd, c->out, c->out_len);

        if (n > 0) {
            memmove(c->out, c->out + n, c->out_len - (size_t)n);
            c->out_len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            COVERAGE_INC(control_write_error);
            pthread_mutex_unlock(&c->mutex);
            return false;
        }
    }
    pthread_mutex_unlock(&c->mutex);
    return true;
}

static void
connection_close(struct connection *c)
{
    pthread_mutex_lock(&c->mutex);
    c->closed = true;
    pthread_mutex_unlock(&c->mutex);
    close(c->fd);
    connection_unref(c);
}

/* One connection too many: a best-effort error reply (the socket is new,
 * so its buffer has room), then close. */
static void
server_refuse_connection(struct control_server *server, int fd)
{
    static const char reply[] =
        "{\"id\":null,\"error\":\"too many control connections: try "
        "again later\\n\"}";

    COVERAGE_INC(control_conn_refused);
    VLOG_WARN_RL(&control_rl,
                 "%s: refusing a connection: %zu are open already",
                 server->path, server->n_conns);
    if (send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* The client is gone already: nothing to tell. */
    }
    close(fd);
}

static void
server_accept(struct control_server *server)
{
    for (;;) {
        int fd = accept4(server->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                VLOG_WARN("accept on %s failed: %s", server->path,
                          strerror(errno));
            }
            return;
        }
        if (server->n_conns >= CONTROL_MAX_CONNECTIONS) {
            server_refuse_connection(server, fd);
            continue;
        }

        struct connection *c = xzalloc(sizeof *c);
        c->fd = fd;
        c->refcnt = 1;
        c->server = server;
        pthread_mutex_init(&c->mutex, NULL);
        list_push_front(&server->conns, &c->node);
        server->n_conns++;
    }
}

/* Serves 'c' once: reads (unless its input ended), parses and dispatches
 * what it can, writes.  Returns false when the connection is finished. */
static bool
connection_service(struct connection *c)
{
    bool ok = true;

    if (!c->eof && !connection_read(c)) {
        /* EOF, or a read error: either way nothing more comes in; what
         * came already is still answered. */
        c->eof = true;
    }
    for (;;) {
        size_t in_before = c->in_len;

        connection_process_input(c);
        pthread_mutex_lock(&c->mutex);
        bool consumed = c->in_len < in_before;
        bool was_full = c->out_len >= CONTROL_OUTPUT_HIGH_WATER;
        pthread_mutex_unlock(&c->mutex);
        if (!connection_write(c)) {
            ok = false;
            break;
        }
        /* Go on while requests are answered at once, or while writing made
         * room for requests the high-water mark held back. */
        pthread_mutex_lock(&c->mutex);
        bool more = c->in_len && !c->busy && !c->close_after_send
                    && c->out_len < CONTROL_OUTPUT_HIGH_WATER
                    && (consumed || was_full);
        pthread_mutex_unlock(&c->mutex);
        if (!more) {
            break;
        }
    }

    pthread_mutex_lock(&c->mutex);
    bool idle = !c->out_len && !c->busy;
    bool done = idle && (c->close_after_send || c->eof);
    pthread_mutex_unlock(&c->mutex);
    if (done && c->eof && c->in_len && !c->close_after_send) {
        COVERAGE_INC(control_eof_incomplete); /* A request cut short. */
    }
    return ok && !done;
}

static void *
server_main(void *server_)
{
    struct control_server *server = server_;
    struct pollfd *pfds = NULL;
    size_t pfds_alloc = 0;

    while (!atomic_load_acquire(&server->exiting)) {
        size_t n = 2 + server->n_conns;
        struct connection *c;

        pfds = xgrow(pfds, &pfds_alloc, n, sizeof *pfds);
        pfds[0] = (struct pollfd){server->listen_fd, POLLIN, 0};
        pfds[1] = (struct pollfd){server->wake_fd, POLLIN, 0};
        size_t i = 2;
        LIST_FOR_EACH (c, node, &server->conns) {
            pthread_mutex_lock(&c->mutex);
            short events = c->out_len ? POLLOUT : 0;
            if (!c->busy && !c->close_after_send && !c->eof
                && c->out_len < CONTROL_OUTPUT_HIGH_WATER) {
                events |= POLLIN;
            }
            pthread_mutex_unlock(&c->mutex);
            /* A hung-up socket reports POLLHUP whatever it is asked: one
             * with nothing to write waits for its reply without being
             * polled, or the thread would spin. */
            pfds[i++] =
                (struct pollfd){events || !c->eof ? c->fd : -1, events, 0};
        }

        if (poll(pfds, n, -1) < 0 && errno != EINTR) {
            VLOG_ERR("poll on control socket failed: %s", strerror(errno));
            break;
        }
        if (pfds[1].revents & POLLIN) {
            uint64_t count;
            if (read(server->wake_fd, &count, sizeof count) < 0) {
                /* Nothing to do: the eventfd is only a doorbell. */
            }
        }
        if (pfds[0].revents & POLLIN) {
            server_accept(server);
        }

        /* Service every connection (new ones too: reading them costs at
         * most an EAGAIN). */
        LIST_FOR_EACH_SAFE (c, node, &server->conns) {
            if (!connection_service(c)) {
                list_remove(&c->node);
                server->n_conns--;
                connection_close(c);
            }
        }
    }
    free(pfds);
    return NULL;
}

/* Checks what is at 'path' before the server takes it: nothing, or a
 * socket this user owns.  Returns 0, or an errno value with one line in
 * '*errorp'. */
static int
check_socket_path(const char *path, char **errorp)
{
    struct stat st;

    if (lstat(path, &st)) {
        if (errno == ENOENT) {
            return 0;
        }
        int error = errno;
        *errorp = xasprintf("control: cannot check \"%s\" (%s)", path,
                            strerror(error));
        return error;
    }
    if (S_ISLNK(st.st_mode)) {
        *errorp = xasprintf("control: \"%s\" is a symbolic link: refusing "
                            "to use it as the control socket",
                            path);
        return ELOOP;
    }
    if (!S_ISSOCK(st.st_mode)) {
        *errorp = xasprintf("control: \"%s\" exists and is not a socket: "
                            "refusing to replace it",
                            path);
        return EEXIST;
    }
    if (st.st_uid != geteuid()) {
        *errorp =
            xasprintf("control: \"%s\" is owned by uid %u, not by "
                      "this user (uid %u): refusing to replace it",
                      path, (unsigned int)st.st_uid, (unsigned int)geteuid());
        return EPERM;
    }
    return 0;
}

/* bind() with a umask that leaves the socket no looser than 0660 from the
 * moment it exists (chmod afterwards would leave a window).  The umask is
 * process-wide: flowswitchd creates the server before anything else
 * creates files. */
static int
bind_private(int fd, const struct sockaddr_un *sun)
{
    mode_t old = umask(0117);
    int retval = bind(fd, (const struct sockaddr *)sun, sizeof *sun);
    int error = errno;

    umask(old);
    errno = error;
    return retval;
}

/* Binds 'path', replacing a stale socket file nobody listens on. */
static int
bind_unix_socket(int fd, const char *path, char **errorp)
{
    struct sockaddr_un sun;
    int error;

    error = check_socket_path(path, errorp);
    if (error) {
        return error;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path) {
        *errorp = xasprintf("control: socket path \"%s\" is too long "
                            "(at most %zu bytes)",
                            path, sizeof sun.sun_path - 1);
        return ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);

    if (bind_private(fd, &sun) == 0) {
        return 0;
    }
    if (errno == EADDRINUSE) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool alive =
            probe >= 0
            && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0;
        if (probe >= 0) {
            close(probe);
        }
        if (alive) {
            *errorp =
                xasprintf("control: another process is serving \"%s\"", path);
            return EADDRINUSE;
        }
        /* Checked again just before it goes: a stale socket of ours. */
        error = check_socket_path(path, errorp);
        if (error) {
            return error;
        }
        unlink(path);
        if (bind_private(fd, &sun) == 0) {
            return 0;
        }
    }
    error = errno;
    *errorp =
        xasprintf("control: cannot bind \"%s\" (%s)", path, strerror(error));
    return error;
}

int
control_server_create(const char *path, struct control_server **serverp,
                      char **errorp)
{
    struct control_server *server;
    int fd, error;

    *serverp = NULL;
    *errorp = NULL;
    register_builtins();

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        *errorp = xasprintf("control: socket: %s", strerror(error));
        return error;
    }
    error = bind_unix_socket(fd, path, errorp);
    if (error) {
        goto err_close;
    }
    if (chmod(path, 0660) || listen(fd, CONTROL_MAX_CONNECTIONS)) {
        error = errno;
        *errorp = xasprintf("control: cannot listen on \"%s\" (%s)", path,
                            strerror(error));
        goto err_unlink;
    }

    server = xzalloc(sizeof *server);
    server->path = xstrdup(path);
    list_init(&server->conns);
    server->listen_fd = fd;
    server->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (server->wake_fd < 0) {
        error = errno;
        *errorp = xasprintf("control: eventfd: %s", strerror(error));
        goto err_free;
    }
    error = pthread_create(&server->thread, NULL, server_main, server);
    if (error) {
        *errorp =
            xasprintf("control: cannot start thread: %s", strerror(error));
        close(server->wake_fd);
        goto err_free;
    }
    *serverp = server;
    return 0;

err_free:
    free(server->path);
    free(server);
err_unlink:
    unlink(path);
err_close:
    close(fd);
    return error;
}

void
control_server_destroy(struct control_server *server)
{
    struct connection *c;

    if (!server) {
        return;
    }
    atomic_store_release(&server->exiting, true);
    server_wake(server);
    pthread_join(server->thread, NULL);

    LIST_FOR_EACH_SAFE (c, node, &server->conns) {
        list_remove(&c->node);
        connection_write(c);
        connection_close(c);
    }
    close(server->listen_fd);
    close(server->wake_fd);
    unlink(server->path);
    free(server->path);
    free(server);
}

const char *
control_server_get_path(const struct control_server *server)
{
    return server->path;
}

/* ---- Paths -------------------------------------------------------------- */

char *
control_default_rundir(void)
{
    const char *env = getenv("FLOWSWITCH_RUNDIR");

    if (env && *env) {
        return xstrdup(env);
    }
    if (geteuid() == 0) {
        return xstrdup("/run/flowswitch");
    }
    env = getenv("XDG_RUNTIME_DIR");
    if (env && *env) {
        return xasprintf("%s/flowswitch", env);
    }
    return xasprintf("/tmp/flowswitch-%u", (unsigned int)geteuid());
}

int
control_prepare_rundir(const char *dir, char **errorp)
{
    struct stat st;
    int error;

    *errorp = NULL;
    if (!mkdir(dir, 0750)) {
        /* mkdir() obeys the umask; the mode is part of the contract. */
        if (chmod(dir, 0750)) {
            error = errno;
            *errorp = xasprintf("control: cannot set the mode of run "
                                "directory \"%s\" (%s)",
                                dir, strerror(error));
            return error;
        }
        return 0;
    }
    if (errno != EEXIST) {
        error = errno;
        *errorp = xasprintf("control: cannot create run directory \"%s\" "
                            "(%s)",
                            dir, strerror(error));
        return error;
    }
    if (lstat(dir, &st)) {
        error = errno;
        *errorp = xasprintf("control: cannot check run directory \"%s\" "
                            "(%s)",
                            dir, strerror(error));
        return error;
    }
    if (S_ISLNK(st.st_mode)) {
        *errorp = xasprintf("control: run directory \"%s\" is a symbolic "
                            "link: refusing to use it",
                            dir);
        return ELOOP;
    }
    if (!S_ISDIR(st.st_mode)) {
        *errorp = xasprintf("control: run directory \"%s\" is not a "
                            "directory",
                            dir);
        return ENOTDIR;
    }
    if (st.st_uid != geteuid()) {
        *errorp =
            xasprintf("control: run directory \"%s\" is owned by uid "
                      "%u, not by this user (uid %u): refusing to use "
                      "it",
                      dir, (unsigned int)st.st_uid, (unsigned int)geteuid());
        return EPERM;
    }
    return 0;
}

char *
control_default_socket_path(void)
{
    char *rundir = control_default_rundir();
    char *path = xasprintf("%s/flowswitchd.ctl", rundir);

    free(rundir);
    return path;
}

/* ---- Client ------------------------------------------------------------- */

static int
client_connect(const char *path, char **errorp)
{
    struct sockaddr_un sun;
    int fd;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path) {
        *errorp = xasprintf("cannot connect to \"%s\" (path too long)", path);
        return ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun)) {
        int error = errno;

        if (fd >= 0) {
            close(fd);
        }
        *errorp =
            xasprintf("cannot connect to \"%s\" (%s)", path, strerror(error));
        return -error;
    }
    return fd;
}

/* Waits for 'events' on 'fd' until 'deadline' (0: forever). */
static int
client_wait(int fd, short events, uint64_t deadline)
{
    struct pollfd pfd = {fd, events, 0};
    int timeout = -1;

    if (deadline) {
        uint64_t now = time_msec();
        timeout = now >= deadline ? 0 : (int)(deadline - now);
    }
    int n = poll(&pfd, 1, timeout);
    return n > 0 ? 0 : n == 0 ? ETIMEDOUT : errno;
}

static int
client_send(int fd, const char *text, uint64_t deadline)
{
    size_t len = strlen(text), ofs = 0;

    while (ofs < len) {
        int error = client_wait(fd, POLLOUT, deadline);
        if (error) {
            return error;
        }
        ssize_t n = send(fd, text + ofs, len - ofs, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            return errno;
        }
        ofs += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* Reads one JSON message into '*msgp'. */
static int
client_receive(int fd, uint64_t deadline, json_t **msgp, char **errorp)
{
    struct ds in = DS_EMPTY_INITIALIZER;
    int error = 0;

    *msgp = NULL;
    for (;;) {
        long end = json_frame_end(in.string ? in.string : "", in.length);
        if (end > 0) {
            json_error_t jerr;

            *msgp = json_loadb(in.string, (size_t)end, 0, &jerr);
            if (!*msgp) {
                *errorp = xasprintf("bad JSON in reply: %s", jerr.text);
                error = EPROTO;
            }
            break;
        } else if (end < 0 || in.length > CONTROL_MAX_MESSAGE * 64) {
            *errorp = xstrdup("bad reply: not a JSON object");
            error = EPROTO;
            break;
        }

        char buf[65536];
        error = client_wait(fd, POLLIN, deadline);
        if (error) {
            *errorp = xasprintf("no reply: %s", strerror(error));
            break;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            ds_put_buffer(&in, buf, (size_t)n);
        } else if (n == 0) {
            *errorp = xstrdup("connection closed before the reply");
            error = EPIPE;
            break;
        } else if (errno != EINTR && errno != EAGAIN) {
            error = errno;
            *errorp = xasprintf("receive failed: %s", strerror(error));
            break;
        }
    }
    ds_destroy(&in);
    return error;
}

int
control_transact(const char *path, int argc, const char *argv[],
                 int timeout_ms, char **resultp, char **errorp)
{
    uint64_t deadline =
        timeout_ms > 0 ? time_msec() + (uint64_t)timeout_ms : 0;
    json_t *params = json_array();
    json_t *reply = NULL;
    char *text = NULL;
    int error, fd;

    *resultp = NULL;
    *errorp = NULL;
    fd = client_connect(path, errorp);
    if (fd < 0) {
        json_decref(params);
        return -fd;
    }
    for (int i = 1; i < argc; i++) {
        json_array_append_new(params, json_string(argv[i]));
    }
    json_t *request = json_pack("{s:i, s:s, s:o}", "id", 0, "method", argv[0],
                                "params", params);
    text = request ? json_dumps(request, JSON_COMPACT) : NULL;
    json_decref(request);
    if (!text) {
        *errorp = xstrdup("cannot encode request (arguments must be UTF-8)");
        error = EINVAL;
        goto out;
    }

    error = client_send(fd, text, deadline);
    if (error == EPIPE || error == ECONNRESET) {
        /* The server may have refused the connection (too many) with a
         * reply and closed before the request went out: that reply, not
         * "broken pipe", is the answer. */
        char *ignored = NULL;

        if (!client_receive(fd, deadline, &reply, &ignored)) {
            error = 0;
        }
        free(ignored);
    }
    if (error) {
        *errorp =
            xasprintf("cannot send to \"%s\" (%s)", path, strerror(error));
        goto out;
    }
    if (!reply) {
        error = client_receive(fd, deadline, &reply, errorp);
        if (error) {
            goto out;
        }
    }

    json_t *result = json_object_get(reply, "result");
    json_t *err = json_object_get(reply, "error");
    if (json_is_string(err)) {
        *errorp = xstrdup(json_string_value(err));
    } else if (json_is_string(result)) {
        *resultp = xstrdup(json_string_value(result));
    } else {
        *errorp = xstrdup("bad reply: neither result nor error");
        error = EPROTO;
    }

out:
    json_decref(reply);
    free(text);
    close(fd);
    return error;
}
