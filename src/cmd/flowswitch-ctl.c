/*
 * flowswitch-ctl — run a command on a running flowswitchd.
 *
 *   flowswitch-ctl [-t SOCKET] [-T SECS] COMMAND [ARG]...
 *   flowswitch-ctl [-t SOCKET] help
 *
 * Speaks the control socket's JSON-RPC (the same as Open vSwitch's unixctl,
 * so `ovs-appctl -t SOCKET COMMAND` works too).  Prints the command's output
 * on stdout and exits 0; if the command fails, prints its error on stderr
 * and exits 2; if the daemon cannot be reached, says why and exits 1 — the
 * exit codes of ovs-appctl.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"
#include "lib/util.h"

static void
usage(FILE *out)
{
    char *path = control_default_socket_path();

    fprintf(out,
            "usage: flowswitch-ctl [OPTIONS] COMMAND [ARG]...\n"
            "Runs COMMAND on a running flowswitchd (`help` or "
            "`list-commands` lists\nthem).\n\n"
            "options:\n"
            "  -t, --target=SOCKET   control socket (default: %s)\n"
            "  -T, --timeout=SECS    give up after SECS seconds (default: "
            "wait forever)\n"
            "  -h, --help            show this help\n",
            path);
    free(path);
}

static void
print_text(FILE *out, const char *text)
{
    size_t len = strlen(text);

    fputs(text, out);
    if (len && text[len - 1] != '\n') {
        fputc('\n', out);
    }
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"target", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *target = NULL;
    int timeout_ms = 0;
    int c;

    while ((c = getopt_long(argc, argv, "+t:T:h", options, NULL)) != -1) {
        switch (c) {
        case 't':
            free(target);
            target = xstrdup(optarg);
            break;
        case 'T': {
            char *end;
            long secs = strtol(optarg, &end, 10);

            if (*end || secs <= 0 || secs > 86400) {
                fprintf(stderr,
                        "flowswitch-ctl: bad timeout \"%s\" (expected "
                        "seconds, 1 to 86400)\n",
                        optarg);
                return 1;
            }
            timeout_ms = (int)secs * 1000;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "flowswitch-ctl: missing COMMAND (try --help)\n");
        return 1;
    }
    if (!target) {
        target = control_default_socket_path();
    }

    bool help = !strcmp(argv[optind], "help") && optind + 1 == argc;
    const char *list_commands[] = {"list-commands"};
    char *result, *error;
    int status;
    int exit_code;

    if (help) {
        usage(stdout);
        fputc('\n', stdout);
        status = control_transact(target, 1, list_commands, timeout_ms,
                                  &result, &error);
    } else {
        status = control_transact(target, argc - optind,
                                  (const char **)&argv[optind], timeout_ms,
                                  &result, &error);
    }

    if (status && help) {
        printf("(no flowswitchd answers on %s: %s)\n", target, error);
        exit_code = 0;
    } else if (status) {
        fprintf(stderr, "flowswitch-ctl: %s\n", error);
        exit_code = 1;
    } else if (error) {
        print_text(stderr, error);
        fprintf(stderr, "flowswitch-ctl: %s: server returned an error\n",
                target);
        exit_code = 2;
    } else {
        fputs(result, stdout);
        exit_code = 0;
    }
    free(result);
    free(error);
    free(target);
    return exit_code;
}
