/* Unit tests for src/control: the JSON-RPC control socket, its command
 * registry, deferred replies, refusal of malformed input, and compatibility
 * with Open vSwitch's ovs-appctl. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/control.h"
#include "lib/coverage.h"
#include "lib/util.h"

struct fixture {
    char dir[64];
    char path[128];
    struct control_server *server;
};

static void
echo_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    char buf[512] = "";

    (void)aux;
    for (int i = 1; i < argc; i++) {
        strncat(buf, argv[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, i + 1 < argc ? " " : "\n");
    }
    control_reply(conn, buf);
}

static void
fail_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc;
    (void)argv;
    (void)aux;
    control_reply_error(conn, "it went wrong\n");
}

/* Deferred replies: the callback parks the request, a thread answers it. */
static pthread_mutex_t park_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;
static struct control_conn *parked;

static void
park_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc;
    (void)argv;
    (void)aux;
    pthread_mutex_lock(&park_mutex);
    parked = conn;
    pthread_cond_signal(&park_cond);
    pthread_mutex_unlock(&park_mutex);
}

static void *
unpark_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&park_mutex);
    while (!parked) {
        pthread_cond_wait(&park_cond, &park_mutex);
    }
    struct control_conn *conn = parked;
    parked = NULL;
    pthread_mutex_unlock(&park_mutex);
    control_reply(conn, "answered later\n");
    return NULL;
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    char *error;

    snprintf(f->dir, sizeof f->dir, "/tmp/fs-ctl-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.ctl", f->dir);
    control_set_version("test-daemon");
    control_command_register("test/echo", "ARG...", 0, 3, echo_cb, NULL);
    control_command_register("test/fail", "", 0, 0, fail_cb, NULL);
    control_command_register("test/park", "", 0, 0, park_cb, NULL);
    assert_int_equal(control_server_create(f->path, &f->server, &error), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    control_server_destroy(f->server);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
transact_ok(const char *path, int argc, const char *argv[],
            const char *expected)
{
    char *result, *error;

    assert_int_equal(
        control_transact(path, argc, argv, 10000, &result, &error), 0);
    assert_null(error);
    assert_string_equal(result, expected);
    free(result);
}

static void
transact_error(const char *path, int argc, const char *argv[],
               const char *expected)
{
    char *result, *error;

    assert_int_equal(
        control_transact(path, argc, argv, 10000, &result, &error), 0);
    assert_null(result);
    assert_non_null(error);
    assert_string_equal(error, expected);
    free(error);
}

static void
test_registered_command_gets_its_arguments(void **state)
{
    struct fixture *f = *state;
    const char *argv[] = {"test/echo", "a", "b c", "d"};

    transact_ok(f->path, 4, argv, "a b c d\n");
    transact_ok(f->path, 1, argv, "");
}

static void
test_version_and_list_commands_are_built_in(void **state)
{
    struct fixture *f = *state;
    const char *version[] = {"version"};
    const char *list[] = {"list-commands"};
    char *result, *error;

    transact_ok(f->path, 1, version, "test-daemon (flowswitch) 0.1.0\n");
    assert_int_equal(
        control_transact(f->path, 1, list, 10000, &result, &error), 0);
    assert_non_null(result);
    assert_non_null(strstr(result, "The available commands are:\n"));
    assert_non_null(strstr(result, "  test/echo               ARG...\n"));
    /* Sorted by name. */
    assert_true(strstr(result, "list-commands") < strstr(result, "test/echo"));
    free(result);
}

static void
test_errors_use_ovs_appctl_wording(void **state)
{
    struct fixture *f = *state;
    const char *unknown[] = {"no/such"};
    const char *too_many[] = {"test/echo", "1", "2", "3", "4"};
    const char *fail[] = {"test/fail"};
    uint64_t before = coverage_read("control_unknown_command");

    transact_error(f->path, 1, unknown,
                   "\"no/such\" is not a valid command (use "
                   "\"list-commands\" to see a list of valid commands)\n");
    assert_int_equal(coverage_read("control_unknown_command"), before + 1);
    transact_error(f->path, 5, too_many,
                   "\"test/echo\" command takes at most 3 arguments\n");
    transact_error(f->path, 1, fail, "it went wrong\n");

    control_command_register("test/need2", "A B", 2, 2, echo_cb, NULL);
    const char *need2[] = {"test/need2", "x"};
    transact_error(f->path, 2, need2,
                   "\"test/need2\" command requires at least 2 arguments\n");
    control_command_unregister("test/need2");
    transact_error(f->path, 2, need2,
                   "\"test/need2\" is not a valid command (use "
                   "\"list-commands\" to see a list of valid commands)\n");
}

static void
test_deferred_reply_from_another_thread_reaches_the_client(void **state)
{
    struct fixture *f = *state;
    const char *argv[] = {"test/park"};
    pthread_t thread;

    assert_int_equal(pthread_create(&thread, NULL, unpark_thread, NULL), 0);
    transact_ok(f->path, 1, argv, "answered later\n");
    pthread_join(thread, NULL);
}

/* Raw socket helpers for the protocol-level tests. */
static int
raw_connect(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(sun.sun_path, path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    return fd;
}

/* Reads until EOF or until 'want' bytes containing 'n_objects' closing
 * braces at depth 0 arrived; returns what was read. */
static char *
raw_read_objects(int fd, int n_objects)
{
    static char buf[8192];
    size_t len = 0;
    int depth = 0, seen = 0;
    bool in_string = false;

    while (seen < n_objects && len < sizeof buf - 1) {
        ssize_t n = read(fd, buf + len, 1);
        if (n <= 0) {
            break;
        }
        char c = buf[len++];
        if (in_string) {
            if (c == '\\') {
                ssize_t m = read(fd, buf + len, 1);
                len += m > 0 ? (size_t)m : 0;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0) {
            seen++;
        }
    }
    buf[len] = '\0';
    return buf;
}

static void
test_pipelined_requests_are_answered_in_order(void **state)
{
    struct fixture *f = *state;
    const char *two = "{\"id\":1,\"method\":\"test/park\",\"params\":[]}"
                      "{\"id\":2,\"method\":\"test/echo\",\"params\":[\"x\"]}";
    pthread_t thread;
    int fd = raw_connect(f->path);

    assert_int_equal(pthread_create(&thread, NULL, unpark_thread, NULL), 0);
    assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
    char *replies = raw_read_objects(fd, 2);
    pthread_join(thread, NULL);
    close(fd);

    char *first = strstr(replies, "\"id\": 1");
    char *first_compact = strstr(replies, "\"id\":1");
    char *second = strstr(replies, "\"id\":2");
    first = first ? first : first_compact;
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    assert_non_null(strstr(replies, "answered later"));
}

static void
test_malformed_json_is_counted_and_closes_only_that_connection(void **state)
{
    struct fixture *f = *state;
    uint64_t before = coverage_read("control_bad_json");
    int fd = raw_connect(f->path);
    char buf[64];

    assert_int_equal(write(fd, "nonsense", 8), 8);
    /* An error reply with a null id, then the server closes. */
    char *reply = raw_read_objects(fd, 1);
    assert_non_null(strstr(reply, "\"id\":null"));
    assert_non_null(strstr(reply, "\"error\":\"bad JSON"));
    assert_int_equal(read(fd, buf, sizeof buf), 0); /* Closed by server. */
    close(fd);
    assert_int_equal(coverage_read("control_bad_json"), before + 1);

    /* The server still serves others. */
    const char *argv[] = {"test/echo", "still", "here"};
    transact_ok(f->path, 3, argv, "still here\n");
}

static void
test_request_with_bad_params_gets_an_error_reply(void **state)
{
    struct fixture *f = *state;
    const char *bad = "{\"id\":7,\"method\":\"test/echo\",\"params\":[1]}";
    uint64_t before = coverage_read("control_bad_request");
    int fd = raw_connect(f->path);

    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    char *reply = raw_read_objects(fd, 1);
    close(fd);
    assert_non_null(strstr(reply, "\"error\":\"bad request: \\\"params\\\" "
                                  "must be an array of strings\\n\""));
    assert_non_null(strstr(reply, "\"id\":7"));
    assert_int_equal(coverage_read("control_bad_request"), before + 1);
}

static void
test_socket_is_group_accessible_and_removed_on_destroy(void **state)
{
    struct fixture *f = *state;
    struct stat st;

    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0660);
    control_server_destroy(f->server);
    f->server = NULL;
    assert_int_not_equal(stat(f->path, &st), 0);
}

static void
test_live_socket_is_not_stolen_but_stale_one_is_replaced(void **state)
{
    struct fixture *f = *state;
    struct control_server *second;
    char *error;

    assert_int_equal(control_server_create(f->path, &second, &error),
                     EADDRINUSE);
    assert_non_null(strstr(error, "another process is serving"));
    free(error);

    /* A socket file left by a dead server is replaced. */
    char stale[160];
    snprintf(stale, sizeof stale, "%s/stale.ctl", f->dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, stale);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd); /* Nobody listens any more; the file stays. */
    assert_int_equal(control_server_create(stale, &second, &error), 0);
    const char *argv[] = {"version"};
    transact_ok(stale, 1, argv, "test-daemon (flowswitch) 0.1.0\n");
    control_server_destroy(second);
}

static void
test_client_reports_unreachable_daemon(void **state)
{
    struct fixture *f = *state;
    const char *argv[] = {"version"};
    char path[160], *result, *error;

    snprintf(path, sizeof path, "%s/nobody.ctl", f->dir);
    assert_int_equal(control_transact(path, 1, argv, 1000, &result, &error),
                     ENOENT);
    assert_null(result);
    assert_non_null(strstr(error, "cannot connect to"));
    free(error);
}

static void
test_half_closed_client_gets_every_reply(void **state)
{
    struct fixture *f = *state;
    const char *msgs = "{\"id\":1,\"method\":\"test/park\",\"params\":[]}"
                       "{\"id\":2,\"method\":\"test/echo\",\"params\":"
                       "[\"after\"]}{\"id\":3,\"method\":";
    uint64_t before = coverage_read("control_eof_incomplete");
    pthread_t thread;
    int fd = raw_connect(f->path);
    char buf[64];

    /* Everything said, then the sending side shut down (as socat does):
     * the deferred reply and the one queued behind it still come, the cut
     * request is dropped, and the server closes. */
    assert_int_equal(write(fd, msgs, strlen(msgs)), (ssize_t)strlen(msgs));
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(pthread_create(&thread, NULL, unpark_thread, NULL), 0);
    char *replies = raw_read_objects(fd, 2);
    pthread_join(thread, NULL);
    assert_non_null(strstr(replies, "answered later"));
    assert_non_null(strstr(replies, "\"result\":\"after\\n\""));
    assert_int_equal(read(fd, buf, sizeof buf), 0);
    close(fd);
    assert_int_equal(coverage_read("control_eof_incomplete"), before + 1);
}

static void
test_nul_bytes_are_not_white_space(void **state)
{
    struct fixture *f = *state;
    static const char msg[] = "\0{\"id\":1,\"method\":\"version\","
                              "\"params\":[]}";
    int fd = raw_connect(f->path);

    assert_int_equal(write(fd, msg, sizeof msg - 1), (ssize_t)sizeof msg - 1);
    char *reply = raw_read_objects(fd, 1);
    close(fd);
    assert_non_null(strstr(reply, "\"id\":null"));
    assert_non_null(strstr(reply, "bad JSON"));
}

static void
test_connections_beyond_the_limit_are_refused(void **state)
{
    struct fixture *f = *state;
    uint64_t before = coverage_read("control_conn_refused");
    int fds[CONTROL_MAX_CONNECTIONS];
    const char *argv[] = {"version"};
    char *result, *error;

    /* The limit's worth of connections, each proven served. */
    for (int i = 0; i < CONTROL_MAX_CONNECTIONS; i++) {
        static const char req[] =
            "{\"id\":1,\"method\":\"version\",\"params\":[]}";

        fds[i] = raw_connect(f->path);
        assert_int_equal(write(fds[i], req, sizeof req - 1),
                         (ssize_t)sizeof req - 1);
        assert_non_null(strstr(raw_read_objects(fds[i], 1), "test-daemon"));
    }
    /* One more gets an error reply and is closed. */
    assert_int_equal(
        control_transact(f->path, 1, argv, 10000, &result, &error), 0);
    assert_null(result);
    assert_non_null(strstr(error, "too many control connections"));
    free(error);
    assert_int_equal(coverage_read("control_conn_refused"), before + 1);

    /* A freed slot serves again (the server may not have seen the close
     * yet: poll, with a deadline). */
    close(fds[0]);
    for (int tries = 0;; tries++) {
        assert_true(tries < 60000);
        assert_int_equal(
            control_transact(f->path, 1, argv, 10000, &result, &error), 0);
        if (result) {
            break;
        }
        free(error);
        usleep(1000);
    }
    assert_string_equal(result, "test-daemon (flowswitch) 0.1.0\n");
    free(result);
    for (int i = 1; i < CONTROL_MAX_CONNECTIONS; i++) {
        close(fds[i]);
    }
}

static void
big_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    static char body[64 * 1024 + 2];

    (void)argc, (void)argv, (void)aux;
    memset(body, 'x', sizeof body - 2);
    body[sizeof body - 2] = '\n';
    control_reply(conn, body);
}

static void
test_unread_replies_hold_back_further_requests(void **state)
{
    struct fixture *f = *state;
    static const char req[] =
        "{\"id\":1,\"method\":\"test/big\",\"params\":[]}";
    enum { N_REQUESTS = 200 }; /* 13 MB of replies if all were queued. */
    uint64_t before = coverage_read("control_output_backpressure");
    int fd = raw_connect(f->path);
    size_t n_replies = 0, got = 0;
    char buf[65536];

    control_command_register("test/big", "", 0, 0, big_cb, NULL);
    for (int i = 0; i < N_REQUESTS; i++) {
        assert_int_equal(write(fd, req, sizeof req - 1),
                         (ssize_t)sizeof req - 1);
    }
    /* The client reads nothing until the server stops answering: poll the
     * counter (with a deadline; a passing run never waits for it). */
    for (int ms = 0; coverage_read("control_output_backpressure") == before;
         ms++) {
        assert_true(ms < 60000);
        usleep(1000);
    }
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    /* Then every reply comes, whole and in order. */
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);

        if (n <= 0) {
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            n_replies += buf[i] == '}';
        }
        got += (size_t)n;
    }
    close(fd);
    assert_int_equal(n_replies, N_REQUESTS);
    assert_true(got > (size_t)N_REQUESTS * 64 * 1024);
    control_command_unregister("test/big");
}

static void
not_utf8_cb(struct control_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc, (void)argv, (void)aux;
    control_reply(conn, "caf\xc3\xa9 \xff\xfe\xed\xa0\x80 end\n");
}

static void
test_replies_that_are_not_utf8_still_go_out(void **state)
{
    struct fixture *f = *state;
    /* A string with a backslash before a byte that is not ASCII: jansson's
     * error message quotes it (found by fuzz_control). */
    static const char bad[] = "{\"id\":1,\"method\":\"x\",\"params\":"
                              "[\"\\\xd7\xae\"]}";
    uint64_t before = coverage_read("control_reply_not_utf8");
    const char *argv[] = {"test/not-utf8"};

    control_command_register("test/not-utf8", "", 0, 0, not_utf8_cb, NULL);
    /* Valid UTF-8 stays, invalid bytes (a surrogate too) become '?'. */
    transact_ok(f->path, 1, argv, "caf\xc3\xa9 ????? end\n");
    assert_int_equal(coverage_read("control_reply_not_utf8"), before + 1);
    control_command_unregister("test/not-utf8");

    int fd = raw_connect(f->path);
    assert_int_equal(write(fd, bad, sizeof bad - 1), (ssize_t)sizeof bad - 1);
    char *reply = raw_read_objects(fd, 1);
    close(fd);
    assert_non_null(strstr(reply, "\"id\":null"));
    assert_non_null(strstr(reply, "bad JSON"));
}

static void
expect_refused(const char *path, const char *words)
{
    struct control_server *server;
    char *error = NULL;

    assert_int_not_equal(control_server_create(path, &server, &error), 0);
    assert_null(server);
    assert_non_null(error);
    assert_non_null(strstr(error, words));
    assert_null(strchr(error, '\n'));
    free(error);
}

static void
test_socket_path_that_is_not_ours_is_refused(void **state)
{
    struct fixture *f = *state;
    char link_path[160], file_path[160], other[160];
    struct stat st;

    snprintf(link_path, sizeof link_path, "%s/link.ctl", f->dir);
    snprintf(file_path, sizeof file_path, "%s/file.ctl", f->dir);
    snprintf(other, sizeof other, "%s/other.ctl", f->dir);

    /* A symbolic link, even to a stale socket of ours, is not followed. */
    control_server_destroy(f->server);
    f->server = NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, f->path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    assert_int_equal(symlink(f->path, link_path), 0);
    expect_refused(link_path, "is a symbolic link");
    assert_int_equal(lstat(link_path, &st), 0); /* Left alone. */
    unlink(link_path);

    /* A regular file is not replaced. */
    FILE *file = fopen(file_path, "w");
    assert_non_null(file);
    fclose(file);
    expect_refused(file_path, "is not a socket");
    assert_int_equal(stat(file_path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(file_path);

    /* Another user's stale socket is not replaced either. */
    if (geteuid() == 0) {
        assert_int_equal(chown(f->path, 65534, 65534), 0);
        expect_refused(f->path, "is owned by uid 65534");
    }
    unlink(f->path);

    /* A free path is taken, 0660 whatever the umask. */
    mode_t old = umask(0);
    assert_int_equal(control_server_create(other, &f->server, &(char *){0}),
                     0);
    umask(old);
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    control_server_destroy(f->server);
    f->server = NULL;
}

static void
test_rundir_is_0750_and_must_be_ours(void **state)
{
    struct fixture *f = *state;
    char dir[160], link_path[160], *error;
    struct stat st;

    snprintf(dir, sizeof dir, "%s/run", f->dir);
    snprintf(link_path, sizeof link_path, "%s/run-link", f->dir);
    mode_t old = umask(077);
    assert_int_equal(control_prepare_rundir(dir, &error), 0);
    umask(old);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    assert_int_equal(control_prepare_rundir(dir, &error), 0); /* Exists. */

    assert_int_equal(symlink(dir, link_path), 0);
    assert_int_equal(control_prepare_rundir(link_path, &error), ELOOP);
    assert_non_null(strstr(error, "is a symbolic link"));
    free(error);
    unlink(link_path);
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(control_prepare_rundir(dir, &error), EPERM);
        assert_non_null(strstr(error, "owned by uid 65534"));
        free(error);
    }
    rmdir(dir);
}

/* Runs ovs-appctl and returns its exit status, with stdout in 'out'. */
static int
run_ovs_appctl(const char *path, const char *args, char *out, size_t size)
{
    char cmd[512];

    snprintf(cmd, sizeof cmd, "ovs-appctl -t %s %s 2>/dev/null", path, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_debian_ovs_appctl_talks_to_the_server(void **state)
{
    struct fixture *f = *state;
    char out[4096];

    if (access("/usr/bin/ovs-appctl", X_OK)) {
        skip(); /* scripts/setup installs openvswitch-common. */
    }
    assert_int_equal(run_ovs_appctl(f->path, "version", out, sizeof out), 0);
    assert_string_equal(out, "test-daemon (flowswitch) 0.1.0\n");
    assert_int_equal(
        run_ovs_appctl(f->path, "test/echo one two", out, sizeof out), 0);
    assert_string_equal(out, "one two\n");
    /* ovs-appctl exits 2 when the command fails. */
    assert_int_equal(run_ovs_appctl(f->path, "test/fail", out, sizeof out), 2);
    assert_int_equal(run_ovs_appctl(f->path, "no/such", out, sizeof out), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_registered_command_gets_its_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_version_and_list_commands_are_built_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_use_ovs_appctl_wording,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_deferred_reply_from_another_thread_reaches_the_client, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_pipelined_requests_are_answered_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_malformed_json_is_counted_and_closes_only_that_connection,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_request_with_bad_params_gets_an_error_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_socket_is_group_accessible_and_removed_on_destroy, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_live_socket_is_not_stolen_but_stale_one_is_replaced, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_client_reports_unreachable_daemon,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_debian_ovs_appctl_talks_to_the_server, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_half_closed_client_gets_every_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes_are_not_white_space,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_connections_beyond_the_limit_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unread_replies_hold_back_further_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_socket_path_that_is_not_ours_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rundir_is_0750_and_must_be_ours,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_replies_that_are_not_utf8_still_go_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
