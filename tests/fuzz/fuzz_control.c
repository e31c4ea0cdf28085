/* libFuzzer target for the control socket (control/control.h): JSON-RPC
 * framing, request checking and dispatch, through a real server.
 *
 * Once per process the target starts a control server on a socket in a
 * private directory, with a few commands of its own: "echo ARG..." (0 to 4
 * arguments, replies with them), "echo-two A B" (exactly 2), "fail"
 * (replies with an error), "deferred ARG" (answered from another thread,
 * as revalidator/wait and every daemon command are) and "big N" (a reply
 * of N KiB, N <= 64).  Per input it connects, writes the input, shuts its
 * sending side down (a client like `socat` that has said everything), and
 * reads until the server closes.  It then checks the reply stream against
 * its own model of the protocol, written from control.h:
 *
 *  - messages are JSON objects (or arrays) found by matching brackets
 *    outside strings; each request gets exactly one reply, in order, with
 *    the request's id; a request's reply is a result for a command that
 *    succeeds and an error otherwise (unknown command, wrong argument
 *    count, "fail");
 *  - the first malformed message (not JSON, not an object, no id, a
 *    method that is not a string, params that are not strings) gets one
 *    error reply — with its id when it has one, else null — and nothing
 *    after it is answered;
 *  - a request cut short by the end of the input gets no reply; the
 *    server closes the connection once everything before it is answered;
 *  - every reply is {"id":ID,"result":TEXT,"error":null} or
 *    {"id":ID,"error":TEXT}.
 * A server that never closes (10 s), a missing, extra or wrong reply, or a
 * sanitizer report aborts.
 *
 *   make fuzz-build && build-fuzz/tests/fuzz/fuzz_control \
 *       tests/fuzz/corpus/control
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/control.h"
#include "lib/dynamic-string.h"
#include "lib/vlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_control"
#include "fuzz-check.h"

#define REPLY_TIMEOUT_MS 10000
#define BIG_MAX_KIB 64

static char sock_dir[64];
static char sock_path[128];
static struct control_server *server;

static void
stop_server(void)
{
    control_server_destroy(server); /* Removes the socket. */
    rmdir(sock_dir);
}

/* ---- The server's commands ---------------------------------------------- */

static void
echo_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    (void)aux;
    for (int i = 1; i < argc; i++) {
        ds_put_format(&s, "%s%s", i > 1 ? " " : "", argv[i]);
    }
    ds_put_char(&s, '\n');
    control_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
fail_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc, (void)argv, (void)aux;
    control_reply_error(conn, "failed as asked\n");
}

static void *
deferred_main(void *conn)
{
    control_reply(conn, "answered from another thread\n");
    return NULL;
}

static void
deferred_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    pthread_t thread;

    (void)argc, (void)argv, (void)aux;
    CHECK(!pthread_create(&thread, NULL, deferred_main, conn));
    CHECK(!pthread_detach(thread));
}

static void
big_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    size_t kib = strtoul(argv[1], NULL, 10) % (BIG_MAX_KIB + 1);
    char *body = malloc(kib * 1024 + 2);

    (void)argc, (void)aux;
    memset(body, 'x', kib * 1024);
    body[kib * 1024] = '\n';
    body[kib * 1024 + 1] = '\0';
    control_reply(conn, body);
    free(body);
}

static void
start_server(void)
{
    char *error = NULL;

    signal(SIGPIPE, SIG_IGN);
    vlog_set_spec("ANY:off", &error); /* Refusals are expected here. */
    free(error);
    snprintf(sock_dir, sizeof sock_dir, "/tmp/fuzz-control-XXXXXX");
    CHECK(mkdtemp(sock_dir));
    snprintf(sock_path, sizeof sock_path, "%s/fuzz.ctl", sock_dir);
    control_set_version("fuzz_control");
    control_command_register("echo", "[ARG]...", 0, 4, echo_cb, NULL);
    control_command_register("echo-two", "A B", 2, 2, echo_cb, NULL);
    control_command_register("fail", "", 0, 0, fail_cb, NULL);
    control_command_register("deferred", "[ARG]", 0, 1, deferred_cb, NULL);
    control_command_register("big", "KIB", 1, 1, big_cb, NULL);
    if (control_server_create(sock_path, &server, &error)) {
        fprintf(stderr, "fuzz_control: %s\n", error);
        abort();
    }
    atexit(stop_server); /* The server lives as long as the process. */
}

/* ---- The model ---------------------------------------------------------- */

/* Where the JSON value that starts 'buf' (after white space) ends, as the
 * protocol frames it: 0 if the input ends first, -1 if no object or array
 * starts there. */
static long
model_frame(const char *buf, size_t len)
{
    size_t i = 0;
    int depth = 0;
    bool in_string = false;

    while (i < len
           && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'
               || buf[i] == '\n')) {
        i++;
    }
    if (i >= len) {
        return 0;
    }
    if (buf[i] != '{' && buf[i] != '[') {
        return -1;
    }
    for (; i < len; i++) {
        if (in_string) {
            if (buf[i] == '\\') {
                i++;
            } else if (buf[i] == '"') {
                in_string = false;
            }
        } else if (buf[i] == '"') {
            in_string = true;
        } else if (buf[i] == '{' || buf[i] == '[') {
            depth++;
        } else if ((buf[i] == '}' || buf[i] == ']') && --depth == 0) {
            return (long)(i + 1);
        }
    }
    return 0;
}

enum expect_kind { EXPECT_RESULT, EXPECT_ERROR };

struct expect {
    json_t *id; /* json_null() for a refusal without a known id. */
    enum expect_kind kind;
    size_t result_len; /* "big": the reply's length; 0 otherwise. */
};

struct command_model {
    const char *name;
    int min_args, max_args;
    bool fails;
};

static const struct command_model commands[] = {
    {"echo", 0, 4, false},          {"echo-two", 2, 2, false},
    {"fail", 0, 0, true},           {"deferred", 0, 1, false},
    {"big", 1, 1, false},           {"version", 0, 0, false},
    {"list-commands", 0, 0, false},
};

/* What the server must answer to the request 'msg'. */
static struct expect
model_request(json_t *msg, bool *refusedp)
{
    json_t *id = json_object_get(msg, "id");
    json_t *method = json_object_get(msg, "method");
    json_t *params = json_object_get(msg, "params");
    struct expect e = {json_null(), EXPECT_ERROR, 0};
    size_t n;

    *refusedp = true;
    if (!json_is_object(msg) || !id || json_is_null(id)) {
        return e;
    }
    e.id = id;
    if (!json_is_string(method) || !json_is_array(params)) {
        return e;
    }
    n = json_array_size(params);
    for (size_t i = 0; i < n; i++) {
        if (!json_is_string(json_array_get(params, i))) {
            return e;
        }
    }
    *refusedp = false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct command_model *c = &commands[i];

        if (strcmp(json_string_value(method), c->name)) {
            continue;
        }
        if ((int)n >= c->min_args && (int)n <= c->max_args && !c->fails) {
            e.kind = EXPECT_RESULT;
            if (!strcmp(c->name, "big")) {
                const char *arg = json_string_value(json_array_get(params, 0));

                e.result_len =
                    strtoul(arg, NULL, 10) % (BIG_MAX_KIB + 1) * 1024 + 1;
            }
        }
        break;
    }
    return e;
}

/* Builds the list of replies 'in' must get.  Returns the number. */
static size_t
model_replies(const char *in, size_t len, struct expect *out, size_t max,
              json_t **msgs)
{
    size_t n = 0, ofs = 0;

    while (n < max) {
        long end = model_frame(in + ofs, len - ofs);
        json_error_t jerr;
        bool refused;

        if (end == 0) {
            break; /* Nothing more, or a request cut short. */
        }
        if (end < 0) {
            out[n++] = (struct expect){json_null(), EXPECT_ERROR, 0};
            break;
        }
        json_t *msg = json_loadb(in + ofs, (size_t)end, 0, &jerr);
        if (!msg) {
            out[n++] = (struct expect){json_null(), EXPECT_ERROR, 0};
            break;
        }
        msgs[n] = msg; /* Owns the ids in 'out'. */
        out[n] = model_request(msg, &refused);
        n++;
        if (refused) {
            break;
        }
        ofs += (size_t)end;
    }
    return n;
}

/* ---- The client --------------------------------------------------------- */

static int
client_connect(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    CHECK(fd >= 0);
    memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
    CHECK(!connect(fd, (struct sockaddr *)&sun, sizeof sun));
    return fd;
}

/* Sends 'data' while reading what comes back (a reply may have to leave
 * before the server reads more), then half-closes and reads to EOF. */
static void
client_exchange(const uint8_t *data, size_t size, struct ds *replies)
{
    int fd = client_connect();
    size_t sent = 0;
    bool shut = false;

    for (;;) {
        struct pollfd pfd = {fd, POLLIN | (shut ? 0 : POLLOUT), 0};
        char buf[65536];

        if (!shut && sent == size) {
            CHECK(!shutdown(fd, SHUT_WR));
            shut = true;
            continue;
        }
        int n = poll(&pfd, 1, REPLY_TIMEOUT_MS);
        CHECK(n > 0); /* A server that neither reads nor answers. */
        if (pfd.revents & POLLOUT) {
            ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

            if (w < 0) {
                /* The server closed after refusing a message. */
                CHECK(errno == EPIPE || errno == ECONNRESET);
                sent = size;
            } else {
                sent += (size_t)w;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);

            if (r == 0 || (r < 0 && errno == ECONNRESET)) {
                break;
            }
            CHECK(r > 0);
            ds_put_buffer(replies, buf, (size_t)r);
        }
    }
    close(fd);
}

static void
check_reply(json_t *reply, const struct expect *e)
{
    json_t *id = json_object_get(reply, "id");
    json_t *result = json_object_get(reply, "result");
    json_t *error = json_object_get(reply, "error");

    CHECK(json_is_object(reply));
    CHECK(id && json_equal(id, e->id));
    if (e->kind == EXPECT_RESULT) {
        CHECK(json_is_string(result));
        CHECK(json_is_null(error));
        CHECK(json_object_size(reply) == 3);
        if (e->result_len) {
            CHECK(json_string_length(result) == e->result_len);
        }
    } else {
        CHECK(!result);
        CHECK(json_is_string(error));
        CHECK(json_object_size(reply) == 2);
        /* One line or more, ending in a newline, as ovs-appctl expects. */
        const char *text = json_string_value(error);
        CHECK(*text && text[strlen(text) - 1] == '\n');
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool started;
    struct ds replies = DS_EMPTY_INITIALIZER;
    struct expect expect[64];
    json_t *msgs[64] = {NULL};
    size_t n_expect, ofs = 0, n_got = 0;
    char *text;

    if (!started) {
        start_server();
        started = true;
    }
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    n_expect = model_replies(text, size, expect, 64, msgs);
    if (n_expect == 64) {
        goto out; /* Too many to keep track of; rare at 4 KiB. */
    }

    client_exchange(data, size, &replies);

    while (ofs < replies.length) {
        json_error_t jerr;
        json_t *reply = json_loadb(replies.string + ofs, replies.length - ofs,
                                   JSON_DISABLE_EOF_CHECK, &jerr);

        CHECK(reply);
        CHECK(n_got < n_expect);
        check_reply(reply, &expect[n_got]);
        n_got++;
        ofs += jerr.position;
        json_decref(reply);
    }
    if (n_got != n_expect) {
        fprintf(stderr, "fuzz_control: %zu replies, expected %zu\n", n_got,
                n_expect);
    }
    CHECK(n_got == n_expect);

out:
    for (size_t i = 0; i < 64; i++) {
        json_decref(msgs[i]);
    }
    ds_destroy(&replies);
    free(text);
    return 0;
}
