/*
 * ofproto/group.h — OpenFlow groups: group-mods, their text, and a
 * bridge's group table, as Open vSwitch 3.1 does them.
 *
 * A group is an id (0..GROUP_ID_MAX), a type and a list of buckets, each
 * an action list with a weight (select), a watch port and a watch group
 * (fast failover).  The types:
 *   all       every bucket, each on the packet as it entered the group;
 *   select    one bucket chosen by a hash of the packet's 5-tuple
 *             (xlate.c), in proportion to the weights of the buckets, or,
 *             for selection_method=hash, the bucket Open vSwitch picks
 *             from its hash of the fields named;
 *   indirect  its one bucket;
 *   ff        the first live bucket: its watch port exists, is not
 *             administratively down and has its link (ofproto_port_set_live),
 *             and its watch group has a live bucket.
 *
 * Group-mods (struct group_mod) are checked as Open vSwitch checks them,
 * with an error that names the OpenFlow code (enum group_error, in the
 * order of OFPGMFC_*): add of an existing id (GROUP_EXISTS), modify of an
 * unknown one (UNKNOWN_GROUP), an id above GROUP_ID_MAX or an indirect
 * group without exactly one bucket (INVALID_GROUP), a type that is none
 * of the four (BAD_TYPE), a watch in a group that is not ff
 * (WATCH_UNSUPPORTED).  Like Open vSwitch, a bucket may name a group that
 * does not exist or the group itself: translation then drops (recursion is
 * bounded by xlate's depth limit).  Delete of an unknown id succeeds;
 * GROUP_ID_ALL deletes every group.  A modify replaces the type and the
 * buckets and starts the counters again (the duration goes on).  Deleting a group deletes the
 * flows whose actions name it (ofproto.c), not the groups that chain to it.
 *
 * Text (group_mod_parse(), group_format()): ovs-ofctl's syntax and
 * output, "group_id=1,type=select,bucket=weight:10,actions=output:2,
 * bucket=weight:20,actions=output:3"; bucket properties weight:N,
 * watch_port:PORT, watch_group:N, bucket_id:N (accepted, not kept, as in
 * OpenFlow 1.3), then "actions=" and an action list (or the action list
 * alone).  A select group may say how it selects, as Open vSwitch's
 * OpenFlow 1.5 syntax does: "selection_method=hash", an optional
 * "selection_method_param=N" (the hash basis) and "fields(ip_src,
 * tcp_dst=0xff00)" or "fields=ip_src": the packet fields hashed, each with
 * a mask (all ones when none is given), kept and printed in Open
 * vSwitch's field order.  "hash" without fields is the default hash, as in
 * Open vSwitch; "dp_hash" is refused (flowswitch selects in translation,
 * not in the datapath).  OpenFlow 1.3 cannot carry a selection method: it
 * reaches a group only through the control socket, and GROUP_DESC replies
 * leave it out, as Open vSwitch's do over OpenFlow 1.3.
 *
 * The table.  A bridge's groups are an immutable snapshot, sorted by id,
 * replaced whole by each group-mod (the number of groups is what a
 * controller configures, not what traffic creates) and read under RCU:
 * readers call group_table_lookup() inside a read-side section and get a
 * group that stays valid until the section ends; one that keeps a group
 * longer (an xlate cache) takes a reference.  Writers serialize on the
 * bridge's mutex.  Counters (per group and per bucket) are atomics,
 * credited from any thread.
 */
#ifndef FLOWSWITCH_OFPROTO_GROUP_H
#define FLOWSWITCH_OFPROTO_GROUP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/field.h"
#include "flow/ofpact.h"

struct ds;

#define GROUP_ID_MAX 0xffffff00u /* OFPG_MAX. */
#define GROUP_ID_ALL 0xfffffffcu /* OFPG_ALL. */
#define GROUP_ID_ANY 0xffffffffu /* OFPG_ANY: no watch group. */
#define GROUP_MAX_BUCKETS 256    /* Per group (OFPGMFC_OUT_OF_BUCKETS). */

enum group_type {
    GROUP_TYPE_ALL = 0, /* The OpenFlow numbers (OFPGT_*). */
    GROUP_TYPE_SELECT = 1,
    GROUP_TYPE_INDIRECT = 2,
    GROUP_TYPE_FF = 3,
};

enum group_mod_command {
    GROUP_MOD_ADD = 0, /* The OpenFlow numbers (OFPGC_*). */
    GROUP_MOD_MODIFY = 1,
    GROUP_MOD_DELETE = 2,
};

/* 0, or 1 + the OFPGMFC_* code of the OpenFlow error. */
enum group_error {
    GROUP_OK = 0,
    GROUP_ERR_GROUP_EXISTS = 1 + 0,
    GROUP_ERR_INVALID_GROUP = 1 + 1,
    GROUP_ERR_OUT_OF_BUCKETS = 1 + 4,
    GROUP_ERR_WATCH_UNSUPPORTED = 1 + 6,
    GROUP_ERR_UNKNOWN_GROUP = 1 + 8,
    GROUP_ERR_BAD_TYPE = 1 + 10,
    GROUP_ERR_BAD_COMMAND = 1 + 11,
};

struct group_bucket {
    uint16_t weight;      /* select: 0 never chosen. */
    uint32_t watch_port;  /* OFPP_ANY: none. */
    uint32_t watch_group; /* GROUP_ID_ANY: none. */
    struct ofpacts ofpacts;
};

/* One field a selection_method=hash hashes, under its mask. */
struct group_hash_field {
    enum field_id id;
    union field_value mask; /* Not all zeros. */
};

/* How a select group selects: the default hash, or selection_method=hash
 * over 'fields' (none: the default hash), in Open vSwitch's field order,
 * with 'param' as the basis. */
struct group_selection {
    bool hash; /* selection_method=hash given. */
    uint64_t param;
    struct group_hash_field *fields;
    size_t n_fields;
};

struct group_mod {
    enum group_mod_command command;
    uint32_t group_id;
    uint8_t type; /* enum group_type, or what the wire said. */
    struct group_bucket *buckets;
    size_t n_buckets, allocated_buckets;
    struct group_selection selection; /* Owned. */
};

void group_mod_init(struct group_mod *, enum group_mod_command);
void group_mod_destroy(struct group_mod *);
/* Appends a bucket with weight 1, no watch and no actions. */
struct group_bucket *group_mod_add_bucket(struct group_mod *);

/* Parses 'text' (ovs-ofctl's add-group/mod-group/del-groups argument) for
 * 'command' into '*gm' (initialized here; destroy it whatever the
 * result).  Returns 0, or EINVAL with one line in '*errorp'. */
int group_mod_parse(const char *text, enum group_mod_command command,
                    struct group_mod *gm, char **errorp);

/* Checks what does not depend on the table.  Returns GROUP_OK or the
 * error, with one line in '*errorp'. */
enum group_error group_mod_check(const struct group_mod *, char **errorp);

/* Whether an action of 'ofpacts' is group:ID for an ID in 'ids[0..n)'. */
bool group_ofpacts_use(const struct ofpacts *, const uint32_t *ids, size_t n);

/* Copies 'src' into 'dst' (which owns nothing yet). */
void group_selection_clone(struct group_selection *dst,
                           const struct group_selection *src);
void group_selection_destroy(struct group_selection *);

/* "all", "select", "indirect", "ff", or NULL. */
const char *group_type_name(uint8_t type);

/* ---- The table ---------------------------------------------------------- */

struct group_table;

/* A group as published: immutable but for its counters. */
struct ofgroup {
    uint32_t group_id;
    uint8_t type;
    uint64_t created; /* msec. */
    uint32_t refcnt;  /* Atomic. */
    uint32_t total_weight;
    uint64_t n_packets, n_bytes; /* Atomic. */
    struct group_selection selection;
    size_t n_buckets;
    struct ofgroup_bucket {
        struct group_bucket b; /* As written (what dumps print). */
        /* The actions as they run: a bucket is an action set (OpenFlow
         * 1.3 §5.6.1), so in its order and with only the last of a type
         * (flow/actset.h), as Open vSwitch runs it. */
        struct ofpacts run;
        uint64_t n_packets, n_bytes; /* Atomic. */
    } buckets[];
};

struct group_table *group_table_create(void);
/* No reader may still use it. */
void group_table_destroy(struct group_table *);

/* Writer: applies 'gm' at 'now'.  The ids of the groups it removed are
 * appended to '*removedp' ('*n_removedp' of them, caller frees).  Returns
 * GROUP_OK, or an error with one line in '*errorp' and nothing changed. */
enum group_error group_table_apply(struct group_table *,
                                   const struct group_mod *, uint64_t now,
                                   uint32_t **removedp, size_t *n_removedp,
                                   char **errorp);

/* Reader (inside a read-side section): the group 'id', or NULL.  The
 * group is immutable but for its counters and reference count. */
struct ofgroup *group_table_lookup(const struct group_table *, uint32_t id);
bool group_table_exists(const struct group_table *, uint32_t id);

void ofgroup_ref(struct ofgroup *);
void ofgroup_unref(struct ofgroup *);
/* Adds to the group's counters and to bucket 'bucket''s, or to every
 * bucket's when 'bucket' is SIZE_MAX.  Any thread. */
void ofgroup_credit(struct ofgroup *, size_t bucket, uint64_t packets,
                    uint64_t bytes);

/* A copy of one group as OpenFlow reports it. */
struct group_info {
    struct group_mod desc; /* command unused. */
    uint64_t duration_ms;
    uint32_t ref_count; /* Flows that name it (filled by ofproto). */
    uint64_t n_packets, n_bytes;
    uint64_t *bucket_packets, *bucket_bytes; /* n_buckets each. */
};

/* Copies the groups ('id' only, unless GROUP_ID_ALL), sorted by id, into
 * a new array '*infosp'.  Returns their number.  Registered thread. */
size_t group_table_collect(const struct group_table *, uint32_t id,
                           uint64_t now, struct group_info **infosp);
void group_infos_free(struct group_info *, size_t n);

/* ovs-ofctl's text of one group (dump-groups), without the leading
 * space. */
void group_format(const struct group_mod *, struct ds *);

#endif /* ofproto/group.h */
