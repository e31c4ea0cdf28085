/*
 * ofproto/ofproto-private.h — the bridge and rule structures, shared by the
 * files of src/ofproto only (ofproto.c, xlate.c, trace.c).  Other modules
 * use the API of ofproto.h and xlate.h.
 *
 * Thread safety: as in ofproto.h.  Members marked "writer" are protected by
 * 'ofproto->mutex'; "immutable" ones never change once the rule is
 * published; "stats" ones by the rule's 'stats_mutex'; "RCU" ones are
 * replaced whole and read inside read-side sections.
 */
#ifndef FLOWSWITCH_OFPROTO_OFPROTO_PRIVATE_H
#define FLOWSWITCH_OFPROTO_OFPROTO_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "classifier/classifier.h"
#include "flow/ofpact.h"
#include "ofproto/ofproto.h"

struct rule {
    struct cls_rule cr; /* In its table's classifier. Immutable match. */
    struct ofproto *ofproto;
    uint32_t refcnt; /* Atomic. The table holds one while linked. */

    /* Immutable once published. */
    uint8_t table_id;
    uint64_t cookie;
    uint16_t idle_timeout; /* Seconds, 0: none. */
    uint16_t hard_timeout; /* Seconds, 0: none. */
    uint16_t importance;
    uint32_t flags;         /* FLOW_TEXT_SEND_FLOW_REM... */
    uint64_t created;       /* msec. */
    uint64_t modified;      /* msec; hard timeout counts from here. */
    struct ofpacts ofpacts; /* Immutable. */

    /* Stats. */
    pthread_mutex_t stats_mutex;
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t used;        /* msec, last use (creation if never used). */
    struct rule *forward; /* Replacement: credits go there (holds ref). */

    /* Writer. */
    bool removed; /* Removed from its table (pending grace periods). */
};

struct ofport {
    uint32_t ofp_port;
    uint32_t dp_port;
    char *name;
    bool down; /* Not live (ofproto_port_set_live()): ff buckets skip it. */
};

/* Immutable snapshot of the ports, sorted by 'ofp_port'. */
struct ofport_set {
    size_t n;
    struct ofport ports[];
};

struct oftable {
    struct classifier cls;
    /* Table statistics (ofproto_table_credit()): atomic, relaxed. */
    uint64_t n_lookups;
    uint64_t n_matched;
};

struct ofproto {
    char *name;
    pthread_mutex_t mutex; /* Writers. */
    struct oftable tables[OFPROTO_N_TABLES];
    uint64_t tables_version;             /* cls_version_publish()/get(). */
    struct ofport_set *ports;            /* RCU. */
    bool miss_to_controller;             /* Atomic (relaxed). */
    bool fail_open;                      /* Atomic (relaxed). */
    ofproto_flow_removed_cb *removed_cb; /* Writer. */
    void *removed_aux;                   /* Writer. */
    struct mac_learning *ml;
    struct group_table *groups; /* group.h: RCU, writers hold 'mutex'. */
    size_t n_rules;             /* In the published version; 'mutex'. */
    size_t n_expirable;         /* Of those, with a timeout; 'mutex'. */
    size_t max_rules;           /* Atomic (relaxed). */
    /* Meters (ofproto/meter.h), under 'mutex'. */
    struct ofmeter_table *meters;

    /* Changed by every visible change, MAC learning's included. */
    struct seq *change_seq;

    /* The flow cache's progress (ofproto.h "Cache sync"), under
     * 'cache_mutex'; the watchers' callbacks run with it held. */
    pthread_mutex_t cache_mutex;
    bool cache_attached;
    uint64_t cache_synced;      /* A change_seq value. */
    struct list cache_watchers; /* struct ofproto_cache_watcher. */
};

/* Reader: the port 'ofp_port' in the current snapshot, or NULL. */
const struct ofport *ofproto_port_find(const struct ofproto *,
                                       uint32_t ofp_port);
/* Reader: ofproto_table_lookup() in 'version' (one translation uses one
 * version for all its lookups, so that it never sees half a batch). */
struct rule *ofproto_table_lookup_version(const struct ofproto *,
                                          uint8_t table_id, uint64_t version,
                                          const struct flow *,
                                          struct flow_wildcards *wc);
/* Reader: the current snapshot. */
const struct ofport_set *ofproto_ports(const struct ofproto *);
/* Reader: whether port 'ofp_port' exists and is live. */
bool ofproto_port_is_live(const struct ofproto *, uint32_t ofp_port);

#endif /* ofproto/ofproto-private.h */
