/*
 * ofproto/ofproto.h — an OpenFlow bridge: tables, rules, flow-mods,
 * timeouts, ports and the table-change sequence.
 *
 * A bridge has OFPROTO_N_TABLES (255) OpenFlow tables, each a classifier
 * (classifier/classifier.h) of struct rule.  Rules carry what OpenFlow 1.3
 * gives a flow entry: match and priority, cookie, idle and hard timeouts,
 * flags (send_flow_rem, check_overlap, reset_counts, no_packet_counts,
 * no_byte_counts), importance, an action list, packet and byte counters,
 * creation, modification and last-use times.
 *
 * Flow-mods follow OpenFlow 1.3 as Open vSwitch 3.1 implements it (checked
 * against `ovs-ofctl -O OpenFlow13` on a real switch):
 *  - add: a rule with the same match and priority in the table is
 *    replaced; the new rule starts a new duration and takes the new
 *    cookie, timeouts and flags, but inherits the old packet and byte
 *    counters unless the add says reset_counts.  check_overlap refuses an
 *    add that overlaps a rule of the same priority.
 *  - modify (loose) and modify-strict: every matching rule (cookie & mask
 *    filtered) gets the new actions; its counters, duration, timeouts and
 *    flags are kept (counters reset with reset_counts); "cookie=V" without
 *    a mask sets the cookie.  A modify that matches nothing adds nothing.
 *  - delete (loose) and delete-strict, filtered by cookie & mask and by
 *    out_port (a rule outputs to a port when one of its output actions
 *    names it; "controller" actions output to CONTROLLER).
 *  - table=255 on modify and delete means every table.
 * A modify does not change a published rule: it replaces it with a new
 * rule in the next version, and credits that reach the old rule later are
 * forwarded to the new one, so no counter is lost.
 *
 * Batches.  ofproto_flow_mods() applies an array of flow-mods atomically:
 * each mod sees the effect of the ones before it, all of them land in one
 * classifier version published once, and if any mod fails (bad actions for
 * the rule's match, check_overlap, add to table 255...) nothing changes
 * and the caller gets one error line naming the mod.
 *
 * Table-change sequence.  Every visible change (a published batch, an
 * expiry, a port change, a MAC learning change) changes one seq
 * (lib/seq.h) that revalidators watch: ofproto_get_change_seq() reads it,
 * ofproto_wait_change() sleeps until it moves, and ofproto_change_seq()
 * hands it out to be watched together with other conditions.
 *
 * Cache sync (barriers).  Packets that hit a cached datapath flow do not
 * look at the tables, so a change is in force for them only once the
 * revalidators have re-translated or removed the flows it affects.  The
 * revalidators of the flow cache attach to the bridge
 * (ofproto_cache_attach()) and, at the end of each round, report the
 * change sequence that the round started from (ofproto_cache_synced()):
 * every cached flow then forwards as the tables of that sequence say.
 * Whoever must not answer before a change is in force (an OpenFlow
 * BARRIER, the control socket's add-flow) reads the change sequence after
 * making the change and asks ofproto_cache_is_synced() with it; a bridge
 * with no cache attached is always in sync.  Watchers
 * (ofproto_cache_watch()) are called on every report and on detach, so
 * that a poll loop can ask again instead of polling.  ofproto_cache_detach()
 * (the cache's flows are gone) puts every change in force at once.
 *
 * Ports.  xlate needs the bridge's ports: OpenFlow port numbers, their
 * datapath port numbers, names and liveness (for fast-failover groups).
 * The set is replaced as a whole (RCU) on ofproto_port_add()/del() and
 * ofproto_port_set_live(), so readers never lock.
 *
 * Groups (group.h) live beside the tables: group-mods take the bridge's
 * mutex, readers look groups up under RCU, and every change moves the
 * change sequence, so that cached flows follow and barriers wait for
 * them.
 *
 * Time.  Functions that need "now" take it in milliseconds of the
 * time_msec() clock (lib/timeval.h); the *_at() forms let tests drive time.
 *
 * Thread safety.  Writers (flow-mods, timeouts, port changes, destroy)
 * serialize on the bridge's mutex; they must run in a thread registered
 * with RCU's memb flavour (rcu_thread_register(), lib/rcu.h), outside any
 * read-side section.  Readers (xlate, ofproto_port_to_dp() and the rule
 * accessors in handler and revalidator threads) never take that mutex:
 * they run inside rcu_read_begin()/rcu_read_end() and see each table
 * version whole.  Rule counters are credited concurrently from
 * any thread (a per-rule stats mutex).  A rule pointer kept beyond a
 * read-side section needs a reference (ofproto_rule_ref()); the last unref
 * frees the rule and must come from a registered thread.
 */
#ifndef FLOWSWITCH_OFPROTO_OFPROTO_H
#define FLOWSWITCH_OFPROTO_OFPROTO_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow-text.h"
#include "flow/flow.h"
#include "flow/ofpact.h"
#include "lib/list.h"
#include "ofproto/meter.h"

struct dp;
struct ds;
struct group_info;
struct group_mod;
struct mac_learning;
struct ofproto;
struct rule;
struct seq;

#define OFPROTO_N_TABLES 255
#define OFPROTO_MAX_PORTS 4096
/* Rules a bridge holds at most, over all tables, unless
 * ofproto_set_max_rules() says otherwise. */
#define OFPROTO_DEFAULT_MAX_RULES 1000000

/* ---- Bridges ------------------------------------------------------------ */

struct ofproto *ofproto_create(const char *name);
/* Frees the bridge, its rules and ports.  No reader may still use it. */
void ofproto_destroy(struct ofproto *);
const char *ofproto_name(const struct ofproto *);

/* Table miss behaviour: drop (the default, as OpenFlow 1.3) or send to the
 * controller (a slow-path action). */
void ofproto_set_miss_to_controller(struct ofproto *, bool);
bool ofproto_get_miss_to_controller(const struct ofproto *);

/* The bridge's MAC learning table (NORMAL). */
struct mac_learning *ofproto_get_mac_learning(const struct ofproto *);

/* ---- Change sequence ---------------------------------------------------- */

uint64_t ofproto_get_change_seq(const struct ofproto *);
/* The seq itself, for seq_watch(): it lives as long as the bridge. */
struct seq *ofproto_change_seq(const struct ofproto *);
/* Waits until the change sequence differs from 'seen' or 'timeout_ms'
 * passed.  Returns true if it changed. */
bool ofproto_wait_change(const struct ofproto *, uint64_t seen,
                         uint64_t timeout_ms);
/* Bumps the change sequence (e.g. after a change xlate depends on that
 * ofproto cannot see).  Any thread. */
void ofproto_bump_change_seq(const struct ofproto *);

/* ---- Cache sync (see "Cache sync" above) -------------------------------- */

/* Called with no lock of the caller's held; must only wake someone (an
 * eventfd write), never block or call back into the bridge. */
typedef void ofproto_cache_notify_cb(void *aux);

struct ofproto_cache_watcher {
    struct list node; /* Owned by the bridge while watched. */
    ofproto_cache_notify_cb *cb;
    void *aux;
};

/* The flow cache of the bridge starts: in sync with the current change
 * sequence (it holds no flow yet). */
void ofproto_cache_attach(struct ofproto *);
/* Every cached flow now forwards as the tables of change sequence
 * 'change_seq' say.  Calls the watchers. */
void ofproto_cache_synced(struct ofproto *, uint64_t change_seq);
/* The cache holds no flow any more: in sync with everything.  Calls the
 * watchers. */
void ofproto_cache_detach(struct ofproto *);
/* Whether every change up to change sequence 'target' is in force for
 * cached flows too. */
bool ofproto_cache_is_synced(struct ofproto *, uint64_t target);
/* Calls 'cb(aux)' on every report until ofproto_cache_unwatch(), after
 * which no call is in progress.  'w' is the caller's storage. */
void ofproto_cache_watch(struct ofproto *, struct ofproto_cache_watcher *w,
                         ofproto_cache_notify_cb *cb, void *aux);
void ofproto_cache_unwatch(struct ofproto *, struct ofproto_cache_watcher *);

/* ---- Ports -------------------------------------------------------------- */

/* Adds OpenFlow port 'ofp_port' (1..OFPP_MAX-1, or OFPP_LOCAL) backed by
 * datapath port 'dp_port', called 'name'.  Returns 0, or EEXIST/EINVAL
 * with one line in '*errorp'. */
int ofproto_port_add(struct ofproto *, uint32_t ofp_port, uint32_t dp_port,
                     const char *name, char **errorp);
/* Removes a port; returns ENOENT if there is none. */
int ofproto_port_del(struct ofproto *, uint32_t ofp_port);
/* Reader: the datapath port of OpenFlow port 'ofp_port'. */
bool ofproto_port_to_dp(const struct ofproto *, uint32_t ofp_port,
                        uint32_t *dp_port);
/* Reader: the OpenFlow port of datapath port 'dp_port'. */
bool ofproto_port_from_dp(const struct ofproto *, uint32_t dp_port,
                          uint32_t *ofp_port);
size_t ofproto_n_ports(const struct ofproto *);
/* Whether the port can carry traffic (it is not administratively down and
 * has its link): fast-failover buckets watching a port that is not live
 * are skipped.  Ports start live.  Bumps the change sequence when the
 * state changes, so that cached flows follow.  Returns ENOENT if there is
 * no such port. */
int ofproto_port_set_live(struct ofproto *, uint32_t ofp_port, bool live);

/* ---- Groups (group.h) --------------------------------------------------- */

/* Applies a group-mod.  Deleting a group also deletes, in the same step,
 * every flow whose actions name it (as OpenFlow 1.3 and Open vSwitch
 * do; those with send_flow_rem are reported removed by delete).  Returns
 * GROUP_OK (0) or an enum group_error with one line in '*errorp'.
 * Registered thread. */
int ofproto_group_mod(struct ofproto *, const struct group_mod *,
                      char **errorp);
/* Parses 'text' (ovs-ofctl syntax) for 'command' (enum group_mod_command)
 * and applies it.  Returns 0 or an errno value (EINVAL for bad text,
 * EEXIST, ENOENT...) with one line in '*errorp'. */
int ofproto_group_mod_str(struct ofproto *, const char *text, int command,
                          char **errorp);
bool ofproto_group_exists(const struct ofproto *, uint32_t group_id);
/* Copies group 'group_id' (GROUP_ID_ALL: every group), sorted by id, with
 * ref_count the number of flows that name it.  Caller frees with
 * group_infos_free(). */
size_t ofproto_collect_groups(struct ofproto *, uint32_t group_id,
                              struct group_info **infosp);
/* `ovs-ofctl -O OpenFlow13 dump-groups` / dump-group-stats lines (each
 * with its leading space and newline). */
void ofproto_dump_groups(struct ofproto *, uint32_t group_id, bool stats,
                         struct ds *);

/* ---- Flow-mods ---------------------------------------------------------- */

/* The most rules the bridge may hold.  A batch that would leave more (and
 * more than before) fails whole with EFBIG, "the bridge is full",
 * counted in ofproto_table_full: a flood of flow-mods cannot grow the
 * tables without bound.  Any thread. */
void ofproto_set_max_rules(struct ofproto *, size_t max_rules);
size_t ofproto_get_max_rules(const struct ofproto *);

/* Applies 'mods[0..n)' atomically at time time_msec().  Returns 0, or an
 * errno value with one line in '*errorp' and nothing changed. */
int ofproto_flow_mods(struct ofproto *, const struct flow_text mods[],
                      size_t n, char **errorp);
int ofproto_flow_mods_at(struct ofproto *, const struct flow_text mods[],
                         size_t n, uint64_t now, char **errorp);
/* Parses 'line' in 'mode' (flow-text.h) and applies it. */
int ofproto_flow_mod_str(struct ofproto *, const char *line,
                         enum flow_text_mode mode, char **errorp);
int ofproto_flow_mod_str_at(struct ofproto *, const char *line,
                            enum flow_text_mode mode, uint64_t now,
                            char **errorp);

/* Removes the rules whose idle or hard timeout expired at 'now' and ages
 * the MAC learning table.  Returns the number of rules removed. */
size_t ofproto_run_timeouts(struct ofproto *, uint64_t now);

/* Appends one line per rule matching 'filter' (a FLOW_TEXT_DELETE flow:
 * loose match, table, cookie/mask, out_port; NULL for all), in the format
 * of `ovs-ofctl -O OpenFlow13 dump-flows`, sorted by table, then priority
 * (highest first), then match text. */
void ofproto_dump_flows(struct ofproto *, const struct flow_text *filter,
                        struct ds *);
void ofproto_dump_flows_at(struct ofproto *, const struct flow_text *filter,
                           uint64_t now, struct ds *);

/* Number of rules in all tables / in table 'table_id'. */
size_t ofproto_n_rules(struct ofproto *);

/* ---- Meters (ofproto/meter.h) -------------------------------------------- */

/* A meter-mod; a delete also deletes the rules that use the meters it
 * deletes.  A rule naming a missing meter is refused (ENOENT; a missing
 * group: ENXIO). */
enum ofmeter_error ofproto_meter_mod(struct ofproto *, enum ofmeter_command,
                                     const struct ofmeter_config *);
/* ofmeter_table_snapshot() with the flow counts filled in. */
size_t ofproto_meter_snapshot(struct ofproto *, uint32_t id,
                              struct ofmeter_info **infosp);
/* The datapath the bridge's meters live in (flowswitchd sets it once). */
void ofproto_set_datapath(struct ofproto *, struct dp *);
size_t ofproto_table_n_rules(struct ofproto *, uint8_t table_id);

/* Table statistics, as OpenFlow's table stats report them: how many
 * packets were looked up in 'table_id' and how many of those found a rule.
 * A packet counts once per lookup (a resubmit or goto_table to the table
 * is one), when it is forwarded: the xlate cache credits them
 * (xlate_cache_push_stats()), for the first packets of a flow at
 * translation and for the packets of its cached megaflow when the
 * revalidators push its stats.  Any thread; exact once the pushes are
 * done (revalidator/wait). */
void ofproto_table_credit(struct ofproto *, uint8_t table_id,
                          uint64_t n_lookups, uint64_t n_matched);
void ofproto_table_get_stats(struct ofproto *, uint8_t table_id,
                             uint64_t *n_lookups, uint64_t *n_matched);
/* Appends the statistics of tables 0 to 253 (Open vSwitch's tables) in
 * the format of `ovs-ofctl -O OpenFlow13 dump-tables` after its first
 * line: a table whose numbers equal the previous one's is "ditto", a run
 * of them "tables A...B: ditto". */
void ofproto_dump_tables(struct ofproto *, struct ds *);

/* ---- Rules (readers) ---------------------------------------------------- */

/* Looks up 'flow' in table 'table_id' in the current version, ORing the
 * bits examined into 'wc' (may be NULL).  Inside a read-side section.
 * Each call reads the version anew: a walk over several tables must use
 * one version throughout (xlate does), or it may see half a batch. */
struct rule *ofproto_table_lookup(const struct ofproto *, uint8_t table_id,
                                  const struct flow *,
                                  struct flow_wildcards *wc);

void ofproto_rule_ref(struct rule *);
void ofproto_rule_unref(struct rule *);

const struct ofpacts *ofproto_rule_get_actions(const struct rule *);
int ofproto_rule_get_priority(const struct rule *);
uint8_t ofproto_rule_get_table(const struct rule *);
uint64_t ofproto_rule_get_cookie(const struct rule *);
void ofproto_rule_get_match(const struct rule *, struct match *);

/* Adds 'packets' and 'bytes' to the rule's counters and moves its last-use
 * time to 'used' (msec) if later.  If the rule was replaced by a modify,
 * the credit goes to its replacement.  Any thread. */
void ofproto_rule_credit_stats(struct rule *, uint64_t packets, uint64_t bytes,
                               uint64_t used);
void ofproto_rule_get_stats(struct rule *, uint64_t *packets, uint64_t *bytes,
                            uint64_t *used);

/* ---- Snapshots and notifications for OpenFlow -------------------------- */

/* A copy of one rule as OpenFlow reports it (flow stats, flow removed). */
struct ofproto_rule_info {
    struct match match;
    uint16_t priority;
    uint8_t table_id;
    uint64_t cookie;
    uint16_t idle_timeout, hard_timeout, importance;
    uint32_t flags;       /* FLOW_TEXT_SEND_FLOW_REM... */
    uint64_t duration_ms; /* Since the rule was added. */
    uint64_t n_packets, n_bytes;
    struct ofpacts ofpacts; /* A copy. */
};

/* Copies every rule that 'filter' selects (a FLOW_TEXT_DELETE or
 * _DELETE_STRICT flow, as ofproto_dump_flows() takes; NULL for all) into a
 * new array '*infosp', sorted by table, then priority (highest first).
 * Returns the number of rules. */
size_t ofproto_collect_rules(struct ofproto *, const struct flow_text *filter,
                             uint64_t now, struct ofproto_rule_info **infosp);
void ofproto_rule_infos_free(struct ofproto_rule_info *, size_t n);

/* Why a rule left its table, for rules added with send_flow_rem.  A rule
 * replaced by an add or changed by a modify is not "removed". */
enum ofproto_removed_reason {
    OFPROTO_REMOVED_IDLE,   /* Idle timeout. */
    OFPROTO_REMOVED_HARD,   /* Hard timeout. */
    OFPROTO_REMOVED_DELETE, /* A delete flow-mod. */
    OFPROTO_REMOVED_GROUP,  /* Its group was deleted. */
    OFPROTO_REMOVED_METER,  /* Its meter was deleted. */
};

/* Called once per removed send_flow_rem rule, with its counters at the
 * moment of removal (packets still cached in datapath flows credit a rule
 * up to one revalidator round later and are not included), by whichever
 * thread removed it, after the bridge mutex is released: the callback may
 * not block for long, and may not be called again by itself. */
typedef void ofproto_flow_removed_cb(const struct ofproto_rule_info *,
                                     enum ofproto_removed_reason, void *aux);
/* Sets (or with NULL clears) the one callback.  Any registered thread. */
void ofproto_set_flow_removed_cb(struct ofproto *ofproto,
                                 ofproto_flow_removed_cb *cb, void *aux);

/* Fail-open (OpenFlow "standalone" fail mode): while on, translation
 * ignores the tables and treats every packet as NORMAL; the tables are
 * kept.  Bumps the change sequence so that cached flows are checked. */
void ofproto_set_fail_open(struct ofproto *, bool);
bool ofproto_get_fail_open(const struct ofproto *);

struct ofproto_port_info {
    uint32_t ofp_port;
    uint32_t dp_port;
    char *name;
};
/* Copies the ports, sorted by OpenFlow port number, into a new array. */
size_t ofproto_port_list(const struct ofproto *,
                         struct ofproto_port_info **portsp);
void ofproto_port_list_free(struct ofproto_port_info *, size_t n);

/* ---- Trace -------------------------------------------------------------- */

/* ofproto/trace: 'flow_or_packet' is a flow in ovs-ofctl syntax
 * ("in_port=1,tcp,tp_dst=80"; unspecified fields are zero) or a packet in
 * hex, optionally preceded by "in_port=N ".  Appends the walk through the
 * tables and the "Megaflow:" and "Datapath actions:" lines to 'out'.
 * Has no side effects (no learning, no counters).  Returns 0 or EINVAL
 * with one line in '*errorp'.  Any registered thread. */
int ofproto_trace(struct ofproto *, const char *flow_or_packet, struct ds *out,
                  char **errorp);

#endif /* ofproto/ofproto.h */
