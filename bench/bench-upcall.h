/*
 * bench/bench-upcall.h — the scaffolding the `setup` and `governor`
 * benchmarks share: a bridge with ports "rx" (1) and "sink" (2) whose table
 * forces exact L4 matches (one rule per TCP source port 1..n_rules, each
 * output to the sink), memory ports, and the 64-byte TCP frames they
 * replay.  Benchmarks only; not thread-safe.
 */
#ifndef FLOWSWITCH_BENCH_BENCH_UPCALL_H
#define FLOWSWITCH_BENCH_BENCH_UPCALL_H 1

#include <stdint.h>

#define BENCH_UPCALL_RX 1
#define BENCH_UPCALL_SINK 2

struct netdev;
struct ofproto;

/* Sleeps 'us' microseconds (a benchmark's polling pause, never a test's). */
void bench_upcall_sleep_us(unsigned int us);
/* Writes a 64-byte TCP SYN frame from source port 'sport' to port 80. */
void bench_upcall_frame(uint8_t *frame, uint16_t sport);
/* Creates "br0" with rules priority=10,tcp,tp_src=1..n_rules → sink.
 * 'who' names the benchmark in fatal errors. */
struct ofproto *bench_upcall_bridge(int n_rules, const char *who);
/* Opens memory port 'name' with a 4096-frame ring. */
struct netdev *bench_upcall_port(const char *name, const char *who);

#endif /* bench/bench-upcall.h */
