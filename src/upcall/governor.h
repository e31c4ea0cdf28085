/*
 * upcall/governor.h — the flow-setup governor (DESIGN.md §3).
 *
 * When most flows are only a few packets long, installing a megaflow for
 * each costs more than it saves: the put, the ukey, the revalidator's work
 * and the eviction later.  The governor delays installation while the
 * datapath is busy: it engages when the datapath holds at least
 * flow_limit / 2 flows, and disengages (hysteresis) when it holds fewer
 * than flow_limit / 4 and the governor is idle: its table is back at the
 * minimum size and the current generation has lasted GOVERNOR_SLOW_GEN_MS
 * (5 s).  A trickle of misses thus does not keep it engaged, while a storm
 * (which grows the table) does.  While engaged, a flow is installed only
 * once about GOVERNOR_THRESHOLD packets of it have been seen; until then
 * the handler executes its packets without installing anything.
 *
 * Counting is approximate: a table of 4-bit counters, two per byte,
 * indexed by the flow hash.  The table is cleared every "generation"
 * (size / 4 packets, or GOVERNOR_SLOW_GEN_MS, whichever comes first; the
 * time limit is checked by governor_run() as well, so generations age
 * without packets).  It starts at GOVERNOR_MIN_SIZE (16 KiB); a generation
 * that ends in under 1 s doubles it (up to GOVERNOR_MAX_SIZE, 256 KiB) and
 * one that lasts 5 s halves it, so that a generation covers a few seconds
 * of traffic whatever the rate.  Engaging starts a fresh generation.
 *
 * Long-flow shortcut.  When nearly every flow reaches the threshold anyway
 * (at least 15/16 of the flows seen in a generation, with at least
 * GOVERNOR_SHORTCUT_MIN_FLOWS seen), delaying only costs slow-path work.
 * The next generation then installs on the first packet for every hash
 * outside a sample (1 hash in GOVERNOR_SAMPLE_INV) without counting it,
 * and keeps counting the sample so that it notices when the traffic turns
 * short again.  Whether the shortcut stays on is judged on the sampled
 * flows alone (the others never come back to be counted), once at least
 * GOVERNOR_SHORTCUT_MIN_FLOWS of them have been seen, which may take
 * several generations.
 *
 * Time is passed in ('now', msec) so that tests never sleep.
 *
 * Thread safety.  None: a governor belongs to one handler thread (each
 * handler has its own), except governor_get_info(), which reads relaxed
 * atomics and may run from any thread.
 */
#ifndef FLOWSWITCH_UPCALL_GOVERNOR_H
#define FLOWSWITCH_UPCALL_GOVERNOR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOVERNOR_MIN_SIZE ((size_t)16 * 1024)
#define GOVERNOR_MAX_SIZE ((size_t)256 * 1024)
#define GOVERNOR_THRESHOLD 5
#define GOVERNOR_FAST_GEN_MS 1000
#define GOVERNOR_SLOW_GEN_MS 5000 /* Also a generation's longest life. */
#define GOVERNOR_SHORTCUT_MIN_FLOWS 64
#define GOVERNOR_SAMPLE_INV 16 /* 1 hash in 16 keeps being counted. */

enum governor_mode {
    GOVERNOR_AUTO,      /* Engage and disengage by the flow count. */
    GOVERNOR_FORCE_ON,  /* Always engaged (benchmarks). */
    GOVERNOR_FORCE_OFF, /* Never engaged. */
};

struct governor;

struct governor *governor_create(const char *name, uint64_t now);
void governor_destroy(struct governor *);

void governor_set_mode(struct governor *, enum governor_mode);

/* Re-evaluates whether the governor is engaged, given the datapath's flow
 * count and limit.  Call once per handler batch.  Returns whether it is
 * engaged. */
bool governor_run(struct governor *, size_t n_flows, size_t flow_limit,
                  uint64_t now);

/* Whether the governor is engaged right now. */
bool governor_is_engaged(const struct governor *);

/* Counts one packet of the flow with hash 'hash' and returns whether its
 * flow should be installed now.  Always true when not engaged. */
bool governor_should_install(struct governor *, uint32_t hash, uint64_t now);

struct governor_info {
    bool engaged;
    bool shortcut;          /* Long-flow shortcut active. */
    size_t size;            /* Table bytes. */
    unsigned int threshold; /* Packets before install. */
    uint64_t generation;    /* Generations completed. */
    uint64_t n_suppressed;  /* Packets executed without install. */
    uint64_t n_installed;   /* Installs it allowed while engaged. */
};

void governor_get_info(const struct governor *, struct governor_info *);

#endif /* upcall/governor.h */
