/*
 * ofproto/xlate.h — translation of a flow through the OpenFlow tables into
 * datapath actions, a megaflow mask, slow-path reasons and an xlate cache.
 *
 * xlate_actions() walks the pipeline from table 0 as Open vSwitch does:
 * it looks the flow up, runs the actions of the rule hit (outputs, header
 * rewrites, VLAN push/pop, dec_ttl, registers, resubmit, goto_table,
 * NORMAL, controller...) on a working copy of the flow, and compiles them
 * into datapath actions (datapath/dp-actions.h).
 *
 * Recirculation.  After a pop_mpls the datapath has not parsed the header
 * it exposed; an action or table that needs it freezes the translation
 * into recirc(N) (ofproto/recirc.h holds the frozen state, the xlate cache
 * a reference to it).  A flow with recirc_id N (the datapath's lookup
 * after recirc(N)) translates from that state instead of table 0, so the
 * upcall handlers and the revalidators resume it with no more than
 * xlate_actions(); its rules and tables are credited by its own megaflow,
 * each once per packet.  Every megaflow matches recirc_id exactly.
 *
 * Header rewrites are lazy, like OVS's "commit": an action that rewrites a
 * header only changes the working flow; before each output (or userspace
 * action) the differences between the packet as the datapath will have it
 * so far and the working flow are emitted as set / push_vlan / pop_vlan
 * actions, each set masked to the bits that actions wrote.  A rewrite that
 * leaves a field as it was emits nothing.
 *
 * Megaflow (DESIGN.md §1).  The mask returned in xlate_out.wc covers:
 * in_port; every bit each classifier lookup examined; the bits of every
 * header field an action read (move sources, dec_ttl's TTL, the fields
 * NORMAL decides on) or wrote (whether a set is emitted depends on the
 * old value); the prerequisite fields an action checked at run time (a
 * set_field on a packet without its protocol does nothing); the VLAN
 * presence bits when a VLAN action ran.  Registers and metadata are
 * cleared from the mask at the end: they are zero in every packet that
 * reaches the datapath, so they cannot distinguish two packets.
 *
 * Corner cases, as Open vSwitch 3.1 does them (checked with
 * ovs-appctl ofproto/trace; pinned in tests/unit/test_xlate.c):
 *  - mod_vlan_vid / mod_vlan_pcp on an untagged packet push a tag
 *    (pcp 0 / vid 0); strip_vlan on an untagged packet does nothing.
 *  - mod_nw_tos on a non-IP packet does nothing; on IP it un-wildcards
 *    the DSCP bits and emits a set only if they change.
 *  - dec_ttl un-wildcards the TTL; at TTL 0 or 1 it sends the packet to
 *    the controller with reason invalid_ttl (a slow-path userspace action,
 *    even with no controller configured, as OVS) and stops the rest of the
 *    current action list; on a non-IP packet it does nothing.
 *  - output to the input port is skipped unless the action is in_port;
 *    flood and all go to every port but the input port, in port order.
 *  - resubmit deeper than XLATE_MAX_DEPTH (64) or more than
 *    XLATE_MAX_RESUBMITS in total fails the translation: the datapath
 *    actions are "drop" and xlate_out.error says why.
 *  - a table miss drops, or goes to the controller (reason no_match) when
 *    ofproto_set_miss_to_controller() is on; a resubmit that misses does
 *    nothing.
 *  - the action set (write_actions, clear_actions; flow/actset.h) is
 *    kept over the whole walk (goto_table, resubmit, misses) and runs
 *    once after it, in OpenFlow's order; a resubmit in it runs its table
 *    but what that table writes does not run; a controller action in it
 *    has reason action_set; with no output, group, resubmit or
 *    controller in it, it does nothing.
 *  - set_queue emits nothing (OVS: set(skb_priority(N)), which no port
 *    here reads: there are no QoS queues).
 *  - NORMAL un-wildcards in_port, dl_src, dl_dst and the VLAN VID and
 *    presence bits; it learns dl_src (unicast only) when may_learn; it
 *    floods unknown, multicast and broadcast destinations and drops
 *    packets whose destination was learned on the input port.
 *
 * The controller action becomes DP_ACTION_USERSPACE with the 16-byte
 * struct xlate_userdata (network byte order), and sets
 * XLATE_SLOW_CONTROLLER in xlate_out.slow.
 *
 * Packet-out (xlate_in.ofpacts) runs the given actions in place of the
 * pipeline, as if they were a rule's in table 0; there output:TABLE runs
 * the pipeline from table 0.  Fail-open (ofproto_set_fail_open()) skips
 * the tables and runs NORMAL for every flow.
 *
 * Groups (group.h): group:N runs the buckets the group's type picks,
 * each on the packet as it entered the group (its rewrites do not carry
 * over, as in Open vSwitch).  A select group hashes only when it has more
 * than one bucket with a weight, and then un-wildcards exactly the fields
 * it hashes (the 5-tuple; Ethernet addresses and type for non-IP); the
 * hash function is flowswitch's own, so the bucket a flow gets differs
 * from Open vSwitch's.  A fast-failover group takes the first bucket whose
 * watch port is live and whose watch group has a live bucket; liveness is
 * not a packet field, so a port state change bumps the change sequence
 * and the revalidators re-translate.  A missing group or one with no live
 * bucket drops (counted: xlate_group_missing, xlate_group_no_live_bucket).
 * Groups may name groups, themselves included: each group action counts
 * against XLATE_MAX_RESUBMITS and the depth limit, as in Open vSwitch,
 * and one liveness question looks at 256 buckets at most (groups that
 * watch each other are dead, not a hang).
 *
 * xlate cache.  When xlate_in.xcache is set, translation records every
 * rule it hit (with a reference), every table lookup it made (table id,
 * matched or missed: table 0, goto_table, resubmit, each a lookup) and
 * every group and the bucket it took (with a reference, to credit group
 * and bucket counters) and every MAC learning entry it used for a source,
 * so that
 * xlate_cache_push_stats() can credit a megaflow's packets to the rules
 * and the table statistics and refresh the MAC entries later without
 * translating again.  Caches come from one process-wide pool (a flow
 * setup allocates one, and the thread that frees its ukey frees it) and
 * hold their first rules and MAC entries inline;
 * xlate_cache_trim_memory() gives the pool's empty slabs back (the
 * revalidators call it).
 *
 * Thread safety.  xlate_actions() may run in any number of threads at once
 * and concurrently with ofproto writers; the calling thread must be
 * registered with RCU's memb flavour (lib/rcu.h) and must not be inside
 * a read-side section (xlate opens its own).  An xlate cache is owned by
 * one thread at a time; xlate_cache_push_stats() may run concurrently with
 * other caches' pushes and with translation.
 */
#ifndef FLOWSWITCH_OFPROTO_XLATE_H
#define FLOWSWITCH_OFPROTO_XLATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/dp-actions.h"
#include "flow/flow.h"
#include "lib/util.h"

struct dp_packet;
struct ds;
struct ofproto;
struct xlate_cache;

#define XLATE_MAX_DEPTH 64
#define XLATE_MAX_RESUBMITS 4096

/* Why a flow must stay in the slow path (bits of xlate_out.slow). */
enum xlate_slow_reason {
    XLATE_SLOW_CONTROLLER = 1 << 0, /* Sends packets to the controller. */
};

enum xlate_error {
    XLATE_OK = 0,
    XLATE_RECURSION_TOO_DEEP, /* Resubmit/goto_table deeper than 64. */
    XLATE_TOO_MANY_RESUBMITS, /* More than XLATE_MAX_RESUBMITS. */
    XLATE_RECIRC_MISSING,     /* flow.recirc_id names no frozen state. */
};

const char *xlate_error_to_string(enum xlate_error);

struct xlate_in {
    struct ofproto *ofproto;
    struct flow flow;               /* Registers and metadata zero. */
    const struct dp_packet *packet; /* The packet, or NULL. */
    bool may_learn;                 /* Side effects: MAC learning. */
    uint64_t now;                   /* msec, for MAC learning. */
    struct xlate_cache *xcache;     /* NULL, or filled in. */
    struct ds *trace;               /* NULL, or the ofproto/trace text. */
    /* A packet-out's actions, run instead of table 0 (output:TABLE in them
     * runs table 0), or NULL. */
    const struct ofpacts *ofpacts;
};

struct xlate_out {
    struct dp_actions *actions; /* One reference, owned by the caller. */
    struct flow_wildcards wc;   /* The megaflow mask. */
    uint32_t slow;              /* XLATE_SLOW_* bits. */
    enum xlate_error error;
    struct flow final_flow; /* The flow after every action. */
};

/* Initializes 'xin' for 'flow' with no packet, no learning, no cache, no
 * trace and now = time_msec(). */
void xlate_in_init(struct xlate_in *, struct ofproto *, const struct flow *);
/* The same with 'now' for the time, for a caller that has read the clock
 * already (a handler's batch: one read, not one per flow). */
void xlate_in_init_at(struct xlate_in *, struct ofproto *, const struct flow *,
                      uint64_t now);

/* Translates.  Always fills in '*xout' (free with xlate_out_uninit());
 * returns xout->error. */
enum xlate_error xlate_actions(const struct xlate_in *, struct xlate_out *);
void xlate_out_uninit(struct xlate_out *);

/* Userdata of the userspace action of a controller action. */
#define XLATE_USERDATA_CONTROLLER 1
struct xlate_userdata {
    uint8_t type;   /* XLATE_USERDATA_CONTROLLER. */
    uint8_t reason; /* enum ofpact_controller_reason. */
    be16 max_len;
    be16 controller_id;
    uint8_t table_id; /* Table of the rule (or of the miss). */
    uint8_t pad;
    be64 rule_cookie; /* Cookie of the rule, 0 for a table miss. */
};
BUILD_ASSERT(sizeof(struct xlate_userdata) == 16);

/* ---- xlate cache -------------------------------------------------------- */

struct xlate_cache *xlate_cache_new(void);
/* Gives back to the system the slabs of the caches' pool that have held
 * no cache for 'idle_ms' milliseconds, or all empty ones if 'idle_ms' is
 * 0.  Returns the bytes unmapped. */
size_t xlate_cache_trim_memory(uint64_t idle_ms);
/* Frees the cache and drops its rule references (registered thread). */
void xlate_cache_delete(struct xlate_cache *);
void xlate_cache_clear(struct xlate_cache *);
/* Credits 'packets' and 'bytes' to every rule in the cache and moves their
 * last-use time to 'used' (msec); credits 'packets' lookups (and matches)
 * to every table lookup recorded; refreshes the MAC learning entries still
 * on the port they were learned on. */
void xlate_cache_push_stats(struct xlate_cache *, uint64_t packets,
                            uint64_t bytes, uint64_t used);
size_t xlate_cache_n_rules(const struct xlate_cache *);
size_t xlate_cache_n_macs(const struct xlate_cache *);
/* Table lookups recorded (each credits ofproto_table_credit()). */
size_t xlate_cache_n_tables(const struct xlate_cache *);
size_t xlate_cache_n_groups(const struct xlate_cache *);
size_t xlate_cache_n_recircs(const struct xlate_cache *);

#endif /* ofproto/xlate.h */
