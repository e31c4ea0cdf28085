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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
