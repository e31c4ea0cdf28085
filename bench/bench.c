/*
 * flowswitch-bench — in-process benchmarks.
 *
 *   flowswitch-bench SCENARIO [--quick] [--json]
 *   flowswitch-bench all [--quick] [--json]
 *
 * Benchmarks print numbers; they never assert speed.  CI runs
 * `flowswitch-bench all --quick` only to prove they still run.
 */
#include <stdio.h>
#include <string.h>

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
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: flowswitch-bench SCENARIO|all [--quick] [--json]\n"
                 "scenarios:\n");
    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
        fprintf(out, "  %-10s %s\n", scenarios[i].name, scenarios[i].what);
    }
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "all")) {
        int status = 0;

        for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
            char *sub_argv[8];
            int sub_argc = 0;

            sub_argv[sub_argc++] = (char *)scenarios[i].name;
            for (int j = 2; j < argc && sub_argc < 7; j++) {
                sub_argv[sub_argc++] = argv[j];
            }
            sub_argv[sub_argc] = NULL;
            status |= scenarios[i].main(sub_argc, sub_argv);
        }
        return status;
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
