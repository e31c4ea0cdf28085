/*
 * bench/bench-upcall.h — the scaffolding the `setup`, `governor`,
 * `revalidate` and `memory` benchmarks share: a bridge with ports "rx" (1)
 * and "sink" (2) whose table forces exact L4 matches (one rule per TCP
 * source port 1..n_rules, each output to the sink), memory ports, the
 * 64-byte TCP frames they replay, and a datapath filled with flows the way
 * a handler would fill it, under a udpif whose revalidators run only when
 * asked.  Benchmarks only; not thread-safe.
 */
#ifndef FLOWSWITCH_BENCH_BENCH_UPCALL_H
#define FLOWSWITCH_BENCH_BENCH_UPCALL_H 1

#include <stdint.h>

#define BENCH_UPCALL_RX 1
#define BENCH_UPCALL_SINK 2

#include <stddef.h>

struct dp;
struct netdev;
struct ofproto;
struct udpif;

/* Sleeps 'us' microseconds (a benchmark's polling pause, never a test's). */
void bench_upcall_sleep_us(unsigned int us);
/* Writes a 64-byte TCP SYN frame from source port 'sport' to port 80. */
void bench_upcall_frame(uint8_t *frame, uint16_t sport);
/* Creates "br0" with rules priority=10,tcp,tp_src=1..n_rules → sink.
 * 'who' names the benchmark in fatal errors. */
struct ofproto *bench_upcall_bridge(int n_rules, const char *who);
/* Opens memory port 'name' with a 4096-frame ring. */
struct netdev *bench_upcall_port(const char *name, const char *who);

/* This process's resident set size in KiB (/proc/self/statm). */
uint64_t bench_upcall_rss_kb(void);

/* A datapath without threads (flows only) holding at most 'max_flows'. */
struct dp *bench_upcall_quiet_dp(size_t max_flows, const char *who);
/* A udpif over 'dp' with one handler and 'n_revalidators' revalidators
 * that never run a round on their own (max_idle and max_revalidator
 * huge; upcall_revalidator_wait() or a table change starts one), with a
 * flow limit far above any benchmark's flow count and min_revalidate_pps
 * 0 (without traffic, a slow round would otherwise delete every flow
 * instead of translating it). */
struct udpif *bench_upcall_quiet_udpif(struct dp *, struct ofproto *,
                                       unsigned int n_revalidators,
                                       const char *who);
/* Puts 'n' flows into 'dp' as a handler would have: key i is in_port 1,
 * tcp, tp_src 1 + i % n_rules, nw_src 10.0.0.0 + i / n_rules, nw_dst
 * 10.0.0.2, tp_dst 80; each is translated through 'ofp' (a
 * bench_upcall_bridge() of 'n_rules' rules) and installed with the
 * translation's actions and its mask plus in_port and nw_src, so every
 * flow is consistent with the tables.  The first revalidator round adopts
 * them (ukeys) and translates them again (xlate caches). */
void bench_upcall_put_flows(struct dp *, struct ofproto *, size_t n,
                            int n_rules);

#endif /* bench/bench-upcall.h */
