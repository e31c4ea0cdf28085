/*
 * flowswitch-bench — in-process benchmarks.
 *
 *   flowswitch-bench SCENARIO [--quick] [--json]
 *   flowswitch-bench all [--quick] [--json]
 *
 * Benchmarks print numbers; they never assert speed.  CI runs
 * `flowswitch-bench all --quick` only to prove they still run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "lib/util.h"

struct scenario {
    const char *name;
    int (*main)(int argc, char *argv[]);
    const char *what;
};

static const struct scenario scenarios[] = {
    {"parse", bench_parse_main,
     "ns/packet for parsing frames into flow keys and masked hashing"},
    {"classifier", bench_classifier_main,
     "OpenFlow lookups/s: 1k/10k/100k rules across 1/10/50 subtables"},
    {"netdev", bench_netdev_main,
     "port I/O: memory generator to sink, packet pool, pcap replay"},
    {"fastpath", bench_fastpath_main,
     "datapath Mpps: 1/1k/100k flows, 1/10/20 masks, EMC on/off"},
    {"setup", bench_setup_main,
     "flow setups/s through 1 and 2 handlers, 10k exact-L4 rules"},
    {"governor", bench_governor_main,
     "2-packet flows near the flow limit: governor on vs off"},
    {"revalidate", bench_revalidate_main,
     "revalidator round ms: 10k/100k/200k flows, 1/2 threads, RSS"},
    {"storm", bench_storm_main,
     "1k cached flows under a storm of new flows; upcall queue fairness"},
    {"memory", bench_memory_main,
     "bytes per datapath flow + ukey + xlate cache, 100k and 1M flows"},
    {"groups", bench_groups_main,
     "one dump-group-stats: 100/1k groups under 10k/100k rules"},
};

/* Whether a progress line is on the terminal and not yet cleared. */
static bool progress_on_tty;

void
bench_progress(const char *name, bool quick, int step, int total,
               const char *fmt, ...)
{
    bool tty = isatty(STDERR_FILENO);
    va_list args;

    if (quick && !tty) {
        return;
    }
    fprintf(stderr, "%sbench %s: [%d/%d] ", tty ? "\r\033[K" : "", name, step,
            total);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputs(tty ? "" : "\n", stderr);
    fflush(stderr);
    progress_on_tty = tty;
}

void
bench_progress_end(void)
{
    if (progress_on_tty) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress_on_tty = false;
    }
}

bool
bench_parse_options(const char *who, int argc, char *argv[], bool *quick,
                    bool *json)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            *quick = true;
        } else if (!strcmp(argv[i], "--json")) {
            *json = true;
        } else {
            fprintf(stderr,
                    "%s: unknown option \"%s\" (expected --quick or "
                    "--json)\n",
                    who, argv[i]);
            return false;
        }
    }
    return true;
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: flowswitch-bench SCENARIO|all [--quick] [--json]\n"
                 "scenarios:\n");
    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
        fprintf(out, "  %-10s %s\n", scenarios[i].name, scenarios[i].what);
    }
}

/* Runs one scenario in a child process of its own ("flowswitch-bench NAME
 * ARGS..."): each starts on a fresh heap (the memory figures are RSS
 * deltas, which memory freed by an earlier scenario would hide), and one
 * that dies does not take the others with it.  Returns its exit status
 * (128 + N for a signal N). */
static int
bench_run_child(const char *name, int argc, char *argv[])
{
    char **child_argv = xcalloc((size_t)argc + 1, sizeof *child_argv);
    int status = 0;
    pid_t pid;

    child_argv[0] = argv[0];
    child_argv[1] = (char *)name;
    for (int i = 2; i < argc; i++) {
        child_argv[i] = argv[i];
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        fatal("flowswitch-bench: fork: %s", strerror(errno));
    }
    if (!pid) {
        execv("/proc/self/exe", child_argv);
        fprintf(stderr, "flowswitch-bench: exec /proc/self/exe: %s\n",
                strerror(errno));
        _exit(127);
    }
    free(child_argv);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fatal("flowswitch-bench: waitpid: %s", strerror(errno));
        }
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "flowswitch-bench: %s died of signal %d\n", name,
                WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

static int
bench_run_all(int argc, char *argv[])
{
    int status = 0;

    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
        int st = bench_run_child(scenarios[i].name, argc, argv);

        if (st) {
            fprintf(stderr, "flowswitch-bench: %s exited with status %d\n",
                    scenarios[i].name, st);
            status = 1;
        }
    }
    return status;
}

int
main(int argc, char *argv[])
{
    /* Results appear as they are measured, also through a pipe, and a
     * scenario that dies keeps the rows it printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "all")) {
        return bench_run_all(argc, argv);
    }
    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
        if (!strcmp(argv[1], scenarios[i].name)) {
            return scenarios[i].main(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "flowswitch-bench: unknown scenario \"%s\" (try --help)\n",
            argv[1]);
    return 2;
}
