/*
 * bench/bench.h — scenarios of flowswitch-bench, the in-process benchmark
 * harness.  Each scenario takes its own argc/argv (argv[0] is the scenario
 * name), understands `--quick` (a short smoke run, used by CI) and `--json`
 * (one JSON object per result line instead of the human table), and returns
 * the process exit status.  Results are recorded in docs/BENCHMARKS.md.
 */
#ifndef FLOWSWITCH_BENCH_BENCH_H
#define FLOWSWITCH_BENCH_BENCH_H 1

#include <stdbool.h>

/* Progress of a long run, on stderr so that stdout stays the table or the
 * JSON lines: "bench NAME: [STEP/TOTAL] WHAT".  On a terminal it is one
 * line rewritten in place (bench_progress_end() clears it); otherwise one
 * line per step, and none at all for --quick runs (CI logs stay short). */
void bench_progress(const char *name, bool quick, int step, int total,
                    const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void bench_progress_end(void);

/* The options every scenario but fastpath takes: --quick and --json, each
 * setting its flag.  Anything else: one line "WHO: unknown option ..." on
 * stderr and false (the scenario exits 2). */
bool bench_parse_options(const char *who, int argc, char *argv[], bool *quick,
                         bool *json);

/* Parse and masked-hash costs, ns per packet. */
int bench_parse_main(int argc, char *argv[]);

/* OpenFlow classifier lookups per second. */
int bench_classifier_main(int argc, char *argv[]);

/* Port I/O: memory generator to sink, packet pool, pcap replay. */
int bench_netdev_main(int argc, char *argv[]);

/* Datapath packets per second: flows x masks x EMC on/off x threads. */
int bench_fastpath_main(int argc, char *argv[]);

/* Flow setups per second through the handlers (src/upcall). */
int bench_setup_main(int argc, char *argv[]);

/* Governor on vs off: packets/s of 2-packet flows near the flow limit. */
int bench_governor_main(int argc, char *argv[]);

/* Revalidator round time over 10k/100k/200k flows; RSS after a storm. */
int bench_revalidate_main(int argc, char *argv[]);

/* Cached flows' packets/s under a storm of new flows on another port, and
 * the share of a quiet port's first packets queued meanwhile. */
int bench_storm_main(int argc, char *argv[]);

/* Bytes per datapath flow + ukey + xlate cache at 100k and 1M flows. */
int bench_memory_main(int argc, char *argv[]);

/* One dump-group-stats: 100/1k groups under 10k/100k rules. */
int bench_groups_main(int argc, char *argv[]);

#endif /* bench/bench.h */
