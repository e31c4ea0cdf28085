/*
 * upcall/upcall-private.h — private to src/upcall: the udpif and the
 * structures its handlers (upcall.c) and revalidators (revalidator.c)
 * share.  Nothing outside src/upcall includes it.
 *
 * The revalidator side (DESIGN.md §3 "Revalidators", revalidator.c):
 *
 * Threads.  n_revalidators threads; revalidator 0 is the leader.  A round:
 *  1. the leader waits for the time to start it (see "Pacing"), runs the
 *     OpenFlow rule timeouts, reads the table-change sequence and the
 *     flow count, fills 'round' and creates the dump; barrier;
 *  2. every revalidator takes flows from the shared dump in batches of
 *     REVALIDATOR_BATCH and decides each (revalidator.c explains how);
 *     barrier;
 *  3. revalidator i sweeps the ukey partitions p with p % n == i; barrier;
 *  4. the leader ends the dump, measures it, adapts the flow limit and
 *     publishes the round as done.
 * The followers wait at the first barrier while the leader sleeps, so
 * stopping, pausing and pacing concern the leader alone.
 *
 * Pacing.  The leader starts the next round min(max_idle, max_revalidator)
 * after the last one started, or earlier (but never sooner than 5 ms after
 * it) when the table-change sequence moves or a wait or purge asks.
 *
 * Who may free a ukey.  A ukey leaves the map only through (a) the sweep of
 * its partition (ukey_map_sweep()), run by one revalidator (or a purge or
 * manual round: one thread, between rounds) and never during a dump
 * phase; it removes only EVICTED ukeys unless purging; (b) ukey_install()
 * replacing an EVICTED ukey (it trylocks it first); (c) a handler removing
 * its own ukey after a failed put (that ukey was CREATED until then).  So
 * a revalidator that holds the mutex of a VISIBLE or OPERATIONAL ukey, or
 * that collected such a ukey in its own partition's sweep, may use the
 * pointer outside any read-side section until it marks the ukey EVICTED
 * and unlocks it.
 *
 * Lock order.  A revalidator takes partition mutexes (ukey_lookup(),
 * ukey_install()) while it holds ukey mutexes, and only ever trylocks a
 * ukey under a partition mutex (the sweeps).  ukey_remove() blocks on a
 * ukey's mutex under its partition mutex, but only handlers call it, on
 * their own ukey after marking it EVICTED, and a revalidator that finds a
 * ukey CREATED or EVICTED unlocks it before anything else: no cycle.
 *
 * Thread safety: see upcall.h; the fields below say who writes them.
 */
#ifndef FLOWSWITCH_UPCALL_UPCALL_PRIVATE_H
#define FLOWSWITCH_UPCALL_UPCALL_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/datapath.h"
#include "flow/flow.h"
#include "lib/batch-index.h"
#include "lib/seq.h"
#include "ofproto/xlate.h"
#include "upcall/governor.h"
#include "upcall/upcall.h"

struct dp_flow_dump;
struct revalidator;

enum upcall_kind {
    UPCALL_KIND_MISS,      /* A datapath miss. */
    UPCALL_KIND_SLOW_PATH, /* From an installed slow-path flow. */
    UPCALL_KIND_DRAIN,     /* A hit on a draining flow. */
};

/* One group of upcalls of the same flow key in a batch. */
struct flow_miss {
    struct flow key; /* Datapath key (in_port: datapath port). */
    uint32_t hash;   /* flow_hash(key). */
    enum upcall_kind kind;
    uint64_t n_packets, n_bytes;
    uint16_t tcp_flags;
    bool no_port;          /* Its in_port belongs to no bridge port. */
    struct xlate_out xout; /* Valid if 'xlated'. */
    bool xlated;
    struct xlate_cache *xcache;     /* Handed to the ukey when installed. */
    struct match megaflow;          /* What to install. */
    struct dp_ufid ufid;            /* dp_flow_ufid(megaflow), if... */
    bool ufid_valid;                /* ...computed. */
    struct dp_actions *put_actions; /* What to install it with. */
    bool put_queued;                /* A put is in this batch's ops. */
    bool put_refused;              /* Install ruled out for the whole batch. */
    bool dup_refused;              /* ...because a ukey for it exists. */
    const struct dp_packet *first; /* Its first packet in the batch. */
};

/* A batch's flow misses fit its indexes (lib/batch-index.h). */
BUILD_ASSERT(UPCALL_BATCH <= BATCH_INDEX_MAX);

struct upcall {
    struct dp_upcall dp;
    struct flow_miss *miss;
    struct dp_actions *pkt_actions; /* Per-packet (slow path) actions. */
};

/* A handler: its thread, and the state of one batch.  Everything from
 * 'governor' on belongs to whoever holds 'run_mutex': the handler's
 * thread, or a datapath thread running one batch for it (work-conserving
 * upcalls); the counters are read without it (relaxed). */
struct handler {
    struct udpif *udpif;
    unsigned int id;
    pthread_t thread;
    bool stop; /* Atomic. */
    pthread_mutex_t run_mutex;
    struct governor *governor;
    uint64_t reval_seq; /* Change seq read before this batch's xlates. */
    bool at_flow_limit; /* The last batch found the datapath full. */

    struct dp_upcall raw[UPCALL_BATCH];
    struct upcall upcalls[UPCALL_BATCH];
    struct flow_miss misses[UPCALL_BATCH];
    struct batch_index by_key;      /* Misses by flow_hash(key). */
    struct batch_index by_megaflow; /* Misses whose megaflow is put or
                                     * refused, by ufid. */
    /* The batch's ops: ops[i] executes upcalls[i], and the puts follow
     * the executes.  dp_operate() takes the ops as one array, so each
     * put's ukey sits beside it: put_ukeys[j] is the ukey the j-th put
     * installs. */
    struct dp_op ops[UPCALL_BATCH * 2];
    struct ukey *put_ukeys[UPCALL_BATCH];

    /* Statistics, written under 'run_mutex'. */
    uint64_t n_upcalls;
    uint64_t n_batches;
    uint64_t n_batches_dp; /* Batches datapath threads ran. */
    uint64_t n_puts;
};

/* Deletions and modifications, per revalidator (single writer, relaxed). */
struct revalidator_counters {
    uint64_t n_modified;
    uint64_t n_deleted[UPCALL_N_DEL_REASONS];
};

/* What the leader decides for one round (written before the first
 * barrier, read-only afterwards). */
struct revalidator_round {
    struct dp_flow_dump *dump;
    uint64_t dump_seq;      /* Marks the ukeys this dump saw. */
    uint64_t change_seq;    /* Table-change sequence at the start. */
    uint64_t now;           /* msec, the round's start. */
    uint64_t start_ns;      /* time_nsec() at the start, to measure it. */
    uint64_t n_flows;       /* Datapath flows at the start. */
    size_t flow_limit;      /* At the start. */
    uint64_t max_idle;      /* msec. */
    uint64_t last_duration; /* Of the previous dump, msec. */
    bool purge;             /* Delete everything. */
    /* The flow count the over-limit decisions look at: read at the start
     * and again, by whichever thread comes first, when a batch begins at
     * least 'sample_interval' msec after the last reading.  Atomics,
     * written during the dump phase. */
    uint64_t n_flows_now;
    uint64_t sampled_ns; /* time_nsec() of the last reading. */
    bool exit;           /* Threads: leave instead. */
};

struct udpif {
    char *name; /* The bridge's name. */
    struct dp *dp;
    struct ofproto *ofproto;
    struct ukey_map *ukeys;
    bool manual;

    struct handler **handlers;
    unsigned int n_handlers;
    enum upcall_mode mode;
    unsigned int idle_next; /* Atomic: where idle work looks first. */
    struct upcall_totals handlers_retired; /* Of stopped handlers (atomic). */

    size_t flow_limit; /* Atomic. */
    size_t max_flow_limit;
    bool megaflows; /* Atomic. */
    enum governor_mode governor_mode;
    struct dp_actions *drop_actions;

    /* The packet-in hook (upcall_set_packet_in_hook()).  Atomic. */
    upcall_packet_in_cb *packet_in_cb;
    void *packet_in_aux;

    /* Flow count samples (last writer wins). */
    uint64_t flows_max;
    uint64_t flows_avg;

    /* ---- Revalidators (revalidator.c) ---- */
    struct revalidator **revalidators; /* Managing thread, rv_set_mutex. */
    unsigned int n_revalidators;       /* Atomic. */
    pthread_mutex_t rv_set_mutex;      /* For readers of the two above. */
    pthread_barrier_t rv_barrier;
    uint64_t max_idle;               /* Atomic. */
    uint64_t max_revalidator;        /* Atomic. */
    unsigned int min_revalidate_pps; /* Atomic. */
    uint64_t dump_duration_override; /* Atomic; UINT64_MAX: measure. */
    uint64_t flow_sample_interval;   /* Atomic; msec (r->n_flows_now). */
    struct revalidator_round round;  /* Leader (see above). */
    uint64_t next_dump_seq;          /* Leader / purge (rv_round_mutex). */
    uint64_t trim_until;             /* Leader: malloc_trim() until, */
    uint64_t last_trim;              /* ...at most every 100 ms. */

    /* Serializes whole rounds run outside the threads (manual rounds,
     * purges) with each other. */
    pthread_mutex_t rv_round_mutex;

    /* Broadcasts 'rv_cond' on every change of ofproto_change_seq(). */
    struct seq_watcher rv_tables_watch;

    /* Requests and progress, under 'rv_mutex'. */
    pthread_mutex_t rv_mutex;
    pthread_cond_t rv_cond; /* Any change below, and table changes. */
    bool rv_stop;           /* Threads: exit at the next round. */
    bool rv_destroying;     /* upcall_destroy() began. */
    bool rv_operator_pause; /* revalidator/pause. */
    bool rv_paused;         /* The leader is parked. */
    bool rv_wake;           /* Start a round now. */
    uint64_t rounds_started;
    uint64_t rounds_done;

    uint64_t rv_round_deleted; /* Atomic: deletes in the current round. */

    /* Statistics (relaxed atomics). */
    uint64_t n_rounds;
    uint64_t last_dump_duration;
    uint64_t last_round_usec;
    struct revalidator_counters retired; /* Of stopped revalidators. */

    /* Control-command workers using this udpif (udpifs_mutex). */
    unsigned int n_workers;
};

/* upcall.c */
struct dp_actions *upcall_slow_path_actions(uint32_t reasons);
/* Folds a datapath flow count into the avg/max samples of upcall/show. */
void udpif_sample_flows(struct udpif *, uint64_t n_flows);
/* Returns once every handler batch that began before the call is done
 * (takes 'udpifs_mutex', then each handler's run_mutex). */
void udpif_wait_for_batches(struct udpif *);
/* Every udpif, each with n_workers incremented (a control-command worker
 * may use them until upcall_release_all()); caller frees the array. */
struct udpif **upcall_acquire_all(size_t *n);
void upcall_release_all(struct udpif **, size_t n);

/* revalidator.c */
void revalidator_init(struct udpif *, const struct upcall_config *);
void revalidator_start(struct udpif *, unsigned int n);
/* Stops the threads for good; wakes whoever waits for a round. */
void revalidator_stop(struct udpif *);
/* Purges and frees what revalidator_init() made (upcall_destroy(), after
 * revalidator_stop() and once no control-command worker uses the udpif). */
void revalidator_destroy(struct udpif *);
void revalidator_register_commands(void);
void revalidator_show(struct udpif *, struct ds *);

#endif /* upcall/upcall-private.h */
