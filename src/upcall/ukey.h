/*
 * upcall/ukey.h — ukeys: the slow path's record of each datapath flow
 * (DESIGN.md §3 "ukeys").
 *
 * One ukey per datapath flow, keyed by the flow's masked match and its
 * 128-bit ufid (dp_flow_ufid()).  A ukey holds what the slow path needs to
 * manage the flow after it is installed: the actions it was put with, the
 * last datapath statistics seen (so that revalidators credit only the
 * delta to the rules), the creation time, the xlate cache of the
 * translation that produced it, the table-change sequence read before that
 * translation (so that revalidators know whether the tables changed
 * since), the sequence number of the last revalidator dump that saw it,
 * and its state:
 *
 *   CREATED      made by a handler, before the put;
 *   VISIBLE      the put succeeded: the datapath has the flow;
 *   OPERATIONAL  a revalidator dump has seen the flow;
 *   EVICTING     a revalidator decided to delete it and is doing so;
 *   EVICTED      the flow is gone from the datapath; the ukey waits for
 *                the sweep;
 *   DELETED      out of the map; freed after an RCU grace period.
 *
 * States only move forward (a failed put goes CREATED -> EVICTED).
 *
 * Memory.  A ukey keeps its megaflow sparse: the words its mask covers,
 * key and mask (16 bytes a word, about 100 for a typical megaflow,
 * where a dense struct match takes 320), so its size depends on the
 * mask.  Ukeys come from process-wide pools (lib/pool.h), one per mask
 * size: a setup allocates one without malloc, the RCU callback that
 * frees a removed ukey gives it back lock-free, and a map created later
 * (another bridge, a restart) reuses the memory.  ukey_trim_memory()
 * unmaps the pools' empty slabs (the revalidators call it).
 *
 * The map.  UKEY_N_PARTITIONS partitions, chosen by the ufid, each a
 * table of ukeys by hash (lib/ptrmap.h: a probe for a new flow's ufid
 * reads one line of the table and no ukey) under its own mutex, so
 * handlers installing flows and revalidators sweeping different
 * partitions do not contend.  A
 * handler creates the ukey before the put and inserts it with
 * ukey_install(): if a ukey for the same flow exists, the put must be
 * skipped (another handler is installing it, or it is installed) — unless
 * that ukey's flow was already deleted in the current dump (EVICTED), in
 * which case the new ukey replaces it at once and the flow is installed
 * again immediately instead of waiting for the sweep.
 *
 * Thread safety.  The map functions may be called from any thread.  A
 * ukey's mutable fields (state, stats, dump_seq, xcache, actions) are
 * protected by the ukey's own mutex; a thread that cannot take it with
 * ukey_trylock() skips the ukey rather than wait (ukey_install() never
 * waits on a ukey either).  Every ukey pointer obtained from the map stays
 * valid until the caller's next RCU quiescent state: the caller must be
 * registered with RCU's memb flavour (lib/rcu.h) and hold a read-side
 * section (rcu_read_begin()) across the use, because removed ukeys are
 * freed with rcu_postpone().  The immutable fields (ufid, hash, the
 * megaflow, created) may be read without the ukey mutex.
 */
#ifndef FLOWSWITCH_UPCALL_UKEY_H
#define FLOWSWITCH_UPCALL_UKEY_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/datapath.h"
#include "flow/flow.h"

struct dp_actions;
struct ukey_map;
struct xlate_cache;

#define UKEY_N_PARTITIONS 16

enum ukey_state {
    UKEY_CREATED,
    UKEY_VISIBLE,
    UKEY_OPERATIONAL,
    UKEY_EVICTING,
    UKEY_EVICTED,
    UKEY_DELETED,
};

const char *ukey_state_to_string(enum ukey_state);

struct ukey {
    /* Immutable after ukey_create(). */
    struct dp_ufid ufid;
    uint32_t hash;    /* Of the ufid. */
    uint32_t n_words; /* Words of the mask (bits in 'map'). */
    uint64_t map;     /* flow_wildcards_map() of the mask. */
    uint64_t created; /* msec. */

    /* Protected by 'mutex'. */
    pthread_mutex_t mutex;
    enum ukey_state state;      /* Read relaxed without the mutex. */
    struct dp_actions *actions; /* Installed actions (reference). */
    struct xlate_cache *xcache; /* May be NULL. */
    struct dp_flow_stats stats; /* Last datapath statistics seen. */
    uint64_t stats_time;        /* msec when 'stats' were read (0: never). */
    uint64_t dump_seq;          /* Last dump that saw the flow. */
    unsigned int missed_dumps;  /* Dumps in a row that missed it. */
    uint64_t reval_seq;         /* Table-change sequence read before the
                         * translation that gave 'actions' (0: none). */

    /* Immutable: the masked key's words in 'map', then the mask's
     * (ukey_get_match() expands them). */
    uint64_t words[];
};

/* The masked key and mask of 'ukey'. */
void ukey_get_match(const struct ukey *, struct match *);

/* Creates a ukey in state CREATED for 'match' (its flow is masked) with a
 * reference to 'actions' and ownership of 'xcache' (may be NULL).  It
 * enters a map with ukey_install(). */
struct ukey *ukey_create(const struct match *, const struct dp_actions *,
                         struct xlate_cache *xcache, uint64_t now);
/* The same for a caller that already has the megaflow's ufid: 'match' must
 * be normalized (match_normalize()) and '*ufid' its dp_flow_ufid(), which
 * a handler computes once per megaflow for its ukey, its put and its
 * batch's duplicate check. */
struct ukey *ukey_create_ufid(const struct match *, const struct dp_ufid *,
                              const struct dp_actions *,
                              struct xlate_cache *xcache, uint64_t now);
/* Frees a ukey that never entered a map (e.g. ukey_install() refused
 * it).  Needs a registered thread if it holds an xlate cache. */
void ukey_destroy(struct ukey *);

bool ukey_trylock(struct ukey *);
void ukey_lock(struct ukey *);
void ukey_unlock(struct ukey *);

/* Moves 'ukey' (whose mutex the caller holds) to 'state', which must not
 * be earlier than its current state. */
void ukey_set_state(struct ukey *, enum ukey_state);
/* Relaxed read, without the mutex. */
enum ukey_state ukey_get_state(const struct ukey *);

/* ---- The map ------------------------------------------------------------ */

struct ukey_map *ukey_map_create(void);
/* Frees the map and every ukey still in it (after a grace period). */
void ukey_map_destroy(struct ukey_map *);
/* Gives back to the system the slabs of the ukey pools (every map's)
 * that have held no ukey for 'idle_ms' milliseconds, or all empty ones if
 * 'idle_ms' is 0.  Returns the bytes unmapped. */
size_t ukey_trim_memory(uint64_t idle_ms);
/* Bytes the ukey pools hold mapped (live ukeys and free room). */
size_t ukey_memory_bytes(void);

/* Inserts 'ukey' (CREATED).  Returns 0 if it was inserted; in that case
 * '*replaced' says whether it replaced an EVICTED ukey of the same flow
 * (which became DELETED and is freed after a grace period).  Returns
 * EEXIST if a ukey for the same flow exists and was not replaced (live, or
 * locked by another thread); the caller keeps 'ukey'. */
int ukey_install(struct ukey_map *, struct ukey *, bool *replaced);

/* Starts loading the line of the map that ukey_install() or
 * ukey_lookup() will probe for 'ufid' first.  Any thread, no lock: a
 * hint. */
void ukey_map_prefetch(const struct ukey_map *, const struct dp_ufid *);

/* Returns the ukey for 'ufid' and 'match' ('match' may be NULL to compare
 * the ufid only), or NULL.  Read-side section required. */
struct ukey *ukey_lookup(struct ukey_map *, const struct dp_ufid *,
                         const struct match *);

/* Removes 'ukey' from the map if it is still there, moves it to DELETED
 * and frees it after a grace period.  The caller must not hold its
 * mutex. */
void ukey_remove(struct ukey_map *, struct ukey *);

/* Number of ukeys in the map (approximate under concurrent changes). */
size_t ukey_map_count(const struct ukey_map *);
size_t ukey_map_partition_count(const struct ukey_map *, unsigned int part);

/* Calls cb(ukey, aux) for every ukey of partition 'part', under the
 * partition mutex (the sweep).  'cb' must not call other map functions on
 * the same partition; it returns true to remove the ukey (which then
 * becomes DELETED and is freed after a grace period).  A partition left
 * mostly empty gives back most of its buckets. */
void ukey_map_sweep(struct ukey_map *, unsigned int part,
                    bool (*cb)(struct ukey *, void *aux), void *aux);

#endif /* upcall/ukey.h */
