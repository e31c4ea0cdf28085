/*
 * datapath/dp-emc.h — the exact-match cache (EMC) of a datapath thread.
 * Private to src/datapath: dp-pmd.c looks packets up in it and fills it,
 * datapath.c creates and destroys it with the thread.
 *
 * Design.  The EMC maps the whole flow key of a received packet to the
 * datapath flow that key hit last, so that the packets of a busy flow skip
 * the megaflow classifier (dpcls), which probes one subtable per mask.  It
 * holds DP_EMC_ENTRIES entries in 2-way buckets, indexed by a hash of the
 * key and confirmed by comparing the key.  Both cover only the key's words
 * from in_port on: the words before (OpenFlow metadata and registers) are
 * zero in the key of every received packet, and a key where they are not
 * is never inserted and never matches.  An entry's key words are two cache
 * lines; its hash and flow pointer sit in an array of slots of their own
 * (a bucket's two slots in one line), so a probe compares a key only where
 * the hash matched.
 *
 * A batch is looked up at once (dp_emc_lookup_batch()), in passes that
 * prefetch for each other so that the cache misses of the packets
 * overlap.  dpcls hits are inserted by the caller, a sample of them
 * (datapath.h: 1 in emc_insert_inv_prob), so that thousands of short flows
 * do not evict the long ones that benefit.  An entry holds a reference to
 * its flow; a deleted flow is marked dead, and the lookup that finds an
 * entry's flow dead clears the entry and reports a miss;
 * dp_emc_sweep_step(), once per iteration of the thread, clears the dead
 * entries of one bucket, so that the flows of buckets no traffic visits
 * are freed too.
 *
 * Whether the EMC pays.  EMC probes of flows it does not hold (far more
 * flows than entries) only cost time; whether its hits pay for them
 * depends on how much dpcls work a hit saves.  The cache measures, over
 * windows of DP_EMC_WINDOW batches looked up, its hit rate and the
 * subtables a dpcls hit probes on average (dp_emc_count_dpcls()); when
 * their product (subtable probes saved per EMC probe) is below 1/2 — e.g.
 * 100k flows spread over 10 masks: 7% hits x 5.5 probes —
 * dp_emc_should_look_up() says yes to one batch in DP_EMC_SAMPLE only (to
 * keep measuring) until that changes.  Insertion goes on meanwhile, so
 * traffic that turns to fewer, longer flows warms the cache up again.
 *
 * Thread safety.  A cache belongs to one datapath thread: only that thread
 * calls the functions below on it, between dp_emc_create() and
 * dp_emc_destroy(), which the managing thread calls before the thread
 * starts and after it stopped.  Nothing in the cache is locked or atomic.
 * The flows it returns are read under the thread's RCU read side
 * (lib/rcu.h, QSBR): valid until the thread's next quiescent state, and the
 * entries' references keep dead flows allocated until they are cleared.
 */
#ifndef FLOWSWITCH_DATAPATH_DP_EMC_H
#define FLOWSWITCH_DATAPATH_DP_EMC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

struct dp_emc;
struct dp_flow;

struct dp_emc *dp_emc_create(void);
/* Drops every entry's reference and frees the cache. */
void dp_emc_destroy(struct dp_emc *);

/* Whether to look the next batch up at all ("Whether the EMC pays"). */
bool dp_emc_should_look_up(struct dp_emc *);

/* Looks up keys[0..n), n <= PACKET_BATCH_MAX.  Sets flows[i] to the live
 * flow of keys[i]'s entry, or to NULL, and hashes[i] to the hash of
 * keys[i] (for dp_emc_insert()).  Prefetches, for each hit, the flow's
 * actions and its statistics slot 'stats_idx' (the caller's thread).
 * Counts the batch in the current window.  Returns the bitmap of the
 * hits. */
uint64_t dp_emc_lookup_batch(struct dp_emc *, const struct flow keys[],
                             size_t n, unsigned int stats_idx,
                             uint32_t hashes[], struct dp_flow *flows[]);

/* Counts 'hits' dpcls hits that probed 'probes' subtables in all, for
 * the current window ("Whether the EMC pays"). */
void dp_emc_count_dpcls(struct dp_emc *, uint64_t hits, uint64_t probes);

/* The hash of 'key' that dp_emc_lookup_batch() computes. */
uint32_t dp_emc_hash(const struct flow *key);

/* Makes 'key' (hash 'hash') hit 'flow' (a live flow; the entry takes a
 * reference), evicting one of its bucket's entries, chosen with 'random',
 * if both are taken.  Does nothing if 'key' cannot be cached. */
void dp_emc_insert(struct dp_emc *, uint32_t hash, const struct flow *key,
                   struct dp_flow *flow, uint32_t random);

/* Clears the entries of the next bucket (round robin) whose flows are
 * dead. */
void dp_emc_sweep_step(struct dp_emc *);

#endif /* datapath/dp-emc.h */
