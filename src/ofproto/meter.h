/*
 * ofproto/meter.h — the OpenFlow 1.3 meter table of a bridge.
 *
 * A meter is what OFPT_METER_MOD configures: an OpenFlow id (1 ..
 * OFPM_MAX), flags (kbps or pktps, burst, stats) and up to
 * OFMETER_MAX_BANDS bands (drop, dscp_remark with a prec_level), each a
 * rate and a burst size.  The table validates meter-mods as Open vSwitch
 * 3.1 does and answers with its errors (checked with ovs-ofctl against
 * it: adding an existing meter is METER_EXISTS, modifying a missing one
 * UNKNOWN_METER, deleting a missing one succeeds, neither or both of
 * kbps and pktps is BAD_FLAGS, a zero rate BAD_RATE, an unknown band type
 * BAD_BAND, no band or more than OFMETER_MAX_BANDS OUT_OF_BANDS, id 0 or
 * above OFPM_MAX INVALID_METER; more meters than OFMETER_MAX is
 * OUT_OF_METERS).  Open vSwitch's virtual meters "slowpath" and
 * "controller" (OFPM_SLOWPATH, OFPM_CONTROLLER) are refused as
 * INVALID_METER.  Unlike Open
 * vSwitch's userspace datapath, which refuses them, dscp_remark bands are
 * accepted and enforced (datapath/dp-meter.h).
 *
 * Each meter is bound to a datapath meter: a small "provider" id, the
 * lowest free one (so that the first meters of a fresh bridge get 0, 1,
 * ... as in Open vSwitch), whose configuration the table pushes to the
 * datapath (ofmeter_table_set_datapath()) on every add and modify and
 * removes on delete.  A rule that uses a meter carries that provider id
 * in its meter action (ofmeter_table_bind()), so translation needs no
 * lookup; ofproto deletes the rules of a deleted meter in the same step.
 * The datapath counts the packets (every one, cached or not), so the
 * statistics ofmeter_table_snapshot() returns are exact.
 *
 * Text (meter-text.c): ovs-ofctl's syntax and output.  ofmeter_parse()
 * reads "meter=1,pktps,burst,stats,bands=type=drop,rate=100,
 * burst_size=10" (a band is type=drop|dscp_remark, rate=, burst_size=,
 * prec_level=; each type= starts a band) and refuses what ovs-ofctl
 * refuses before sending anything: no kbps/pktps, no band, a band with no
 * rate, burst_size without the burst flag or the flag without it; for a
 * delete "meter=N", "meter=all" or nothing (all).
 * ofmeter_format_config() and ofmeter_format_stats() write one entry of
 * `ovs-ofctl dump-meters` and `meter-stats`.
 *
 * Thread safety: none of its own; the bridge calls every function with
 * its writers' mutex held.  The text functions are reentrant.
 */
#ifndef FLOWSWITCH_OFPROTO_METER_H
#define FLOWSWITCH_OFPROTO_METER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp;
struct ds;
struct ofpacts;

#define OFMETER_MAX 4096 /* Meters per bridge (the datapath's slots). */
#define OFMETER_MAX_BANDS 8
#define OFMETER_ID_MAX 0xffff0000u /* OFPM_MAX. */
#define OFMETER_ID_ALL 0xffffffffu /* OFPM_ALL. */

/* Flags, as OpenFlow 1.3 numbers them. */
#define OFMETER_KBPS 1
#define OFMETER_PKTPS 2
#define OFMETER_BURST 4
#define OFMETER_STATS 8

/* Band types, as OpenFlow 1.3 numbers them. */
#define OFMETER_BAND_DROP 1
#define OFMETER_BAND_DSCP_REMARK 2

enum ofmeter_command {
    OFMETER_ADD = 0,
    OFMETER_MODIFY = 1,
    OFMETER_DELETE = 2,
};

/* What a meter-mod may be refused for; the OpenFlow layer turns each into
 * its OFPMMFC_* code. */
enum ofmeter_error {
    OFMETER_OK,
    OFMETER_E_EXISTS,
    OFMETER_E_INVALID_METER,
    OFMETER_E_UNKNOWN_METER,
    OFMETER_E_BAD_COMMAND,
    OFMETER_E_BAD_FLAGS,
    OFMETER_E_BAD_RATE,
    OFMETER_E_BAD_BAND,
    OFMETER_E_OUT_OF_METERS,
    OFMETER_E_OUT_OF_BANDS,
};

/* One line describing 'error' (static). */
const char *ofmeter_error_to_string(enum ofmeter_error error);

struct ofmeter_band {
    uint16_t type; /* OFMETER_BAND_*. */
    uint32_t rate;
    uint32_t burst_size; /* Used only with OFMETER_BURST. */
    uint8_t prec_level;  /* DSCP_REMARK. */
};

struct ofmeter_config {
    uint32_t id;
    uint16_t flags;
    size_t n_bands;
    struct ofmeter_band bands[OFMETER_MAX_BANDS];
};

/* A meter's configuration and statistics at one moment. */
struct ofmeter_info {
    struct ofmeter_config config;
    uint32_t flow_count;
    uint64_t packet_in, byte_in;
    uint64_t duration_ms;
    uint64_t band_packets[OFMETER_MAX_BANDS];
    uint64_t band_bytes[OFMETER_MAX_BANDS];
};

struct ofmeter_table *ofmeter_table_create(void);
void ofmeter_table_destroy(struct ofmeter_table *);
/* Pushes meters to 'dp' from now on (NULL: none; the tests). */
void ofmeter_table_set_datapath(struct ofmeter_table *, struct dp *);

/* Applies a meter-mod at time 'now_ms'.  For a delete, 'cfg->id' may be
 * OFMETER_ID_ALL and the bands are ignored. */
enum ofmeter_error ofmeter_table_mod(struct ofmeter_table *,
                                     enum ofmeter_command,
                                     const struct ofmeter_config *cfg,
                                     uint64_t now_ms);
bool ofmeter_table_exists(const struct ofmeter_table *, uint32_t id);
size_t ofmeter_table_count(const struct ofmeter_table *);

/* Whether every meter 'ofpacts' names exists: 0, or ENOENT with one
 * error line in '*errorp'. */
int ofmeter_table_check(const struct ofmeter_table *, const struct ofpacts *,
                        char **errorp);
/* Fills in the datapath meter of every meter action of 'ofpacts' (which
 * ofmeter_table_check() accepted). */
void ofmeter_table_bind(const struct ofmeter_table *, struct ofpacts *);

/* The meters 'id' selects (OFMETER_ID_ALL: all, by id), with their
 * statistics at 'now_ms' and a zero flow_count, in a new array the caller
 * frees; returns how many. */
size_t ofmeter_table_snapshot(const struct ofmeter_table *, uint32_t id,
                              uint64_t now_ms, struct ofmeter_info **infosp);

/* ---- Text (meter-text.c) ------------------------------------------------ */

/* Parses 's' for 'command' into '*cfg'.  Returns 0 or EINVAL with one
 * error line in '*errorp' (the caller frees it). */
int ofmeter_parse(const char *s, enum ofmeter_command command,
                  struct ofmeter_config *cfg, char **errorp);
/* "meter=1 pktps bands=\ntype=drop rate=100\n" */
void ofmeter_format_config(const struct ofmeter_config *, struct ds *);
/* "meter:1 flow_count:0 ... bands:\n0: packet_count:0 byte_count:0\n" */
void ofmeter_format_stats(const struct ofmeter_info *, struct ds *);

#endif /* ofproto/meter.h */
