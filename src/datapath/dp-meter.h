/*
 * datapath/dp-meter.h — OpenFlow 1.3 meters as the datapath enforces them:
 * token buckets per meter and band, run by the meter(N) datapath action.
 *
 * A meter is a list of bands, each a rate and a burst size; every packet
 * the meter sees is measured against every band, and the band with the
 * highest rate among those the packet exceeds applies to it: a drop band
 * drops it, a dscp_remark band raises the drop precedence of its DSCP
 * (below).  Rates are in packets per second (pktps) or in kilobits per
 * second (kbps, counting the whole frame's bytes × 8); a burst is in
 * packets or kilobits.  As in Open vSwitch's userspace datapath, a band
 * with no burst size gets a burst of its rate (one second's worth), and
 * every bucket starts full.
 *
 * Token bucket arithmetic.  A bucket holds integer tokens: one packet
 * costs 10^9 of them (pktps), one byte 8 × 10^6 (kbps), so that a rate R (packets/s or kbit/s)
 * refills exactly R units per nanosecond and a burst B holds B × 10^9
 * units.  There is no rounding anywhere: how many packets pass in a time
 * is exact (tests/unit/test_dp_meter.c pins it with a fake clock).  The
 * refill uses the time since the meter's last refill, in nanoseconds
 * (the caller passes "now": time_nsec() in the datapath).
 *
 * DSCP remark.  The drop precedence of an Assured Forwarding codepoint
 * (RFC 2597: AFxy, DSCP 8x + 2y, class x 1..4, precedence y 1..3) is
 * raised by the band's prec_level, up to 3; other codepoints are left as
 * they are (the band still counts the packet).  IPv4 (header checksum
 * fixed) and IPv6 traffic class; other packets are not touched.
 *
 * Statistics, exact: every packet the meter runs on counts in packets_in
 * and bytes_in; a packet a band applies to counts in that band's packet
 * and byte counts (dropped by a drop band, remarked or left by a
 * dscp_remark band).  So for a meter of drop bands only,
 * packets_in = packets passed + sum of the bands' packets.
 *
 * Ids.  Meters live in a table of DP_METER_MAX slots indexed by a
 * datapath meter id (the "provider" id ofproto allocates; the OpenFlow
 * meter id is ofproto's business).  A meter(N) action on an empty slot
 * lets the packets through (counted: dp_meter_missing), as Open vSwitch
 * does; ofproto deletes the flows of a meter when it deletes the meter.
 *
 * Thread safety.  dp_meters_run() takes no lock: the slot is an RCU
 * pointer, buckets and counters are atomics (a refill is a compare-and-
 * swap on the meter's clock, then a compare-and-swap per bucket), so any
 * number of datapath and handler threads meter the same meter at once.
 * Writers (dp_meters_set(), dp_meters_del()) serialize among themselves
 * on the table's mutex; a replaced meter is freed through the
 * 'postpone' hook given at creation, after every reader is done with it
 * (the datapath passes its QSBR queue and holds exec_lock for writing
 * around the swap, as for ports).  A replaced meter starts with new
 * statistics, as in Open vSwitch.
 */
#ifndef FLOWSWITCH_DATAPATH_DP_METER_H
#define FLOWSWITCH_DATAPATH_DP_METER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_packet;
struct dp_packet_batch;

#define DP_METER_MAX 4096 /* Datapath meter ids 0..DP_METER_MAX-1. */
#define DP_METER_MAX_BANDS 8

enum dp_meter_band_type {
    DP_METER_BAND_DROP,
    DP_METER_BAND_DSCP_REMARK,
};

struct dp_meter_band_config {
    enum dp_meter_band_type type;
    uint32_t rate;      /* Nonzero. */
    uint32_t burst;     /* 0: the rate. */
    uint8_t prec_level; /* DSCP_REMARK. */
};

struct dp_meter_config {
    bool kbps; /* Else packets per second. */
    size_t n_bands;
    struct dp_meter_band_config bands[DP_METER_MAX_BANDS];
};

struct dp_meter_stats {
    uint64_t packets_in;
    uint64_t bytes_in;
    size_t n_bands;
    uint64_t band_packets[DP_METER_MAX_BANDS];
    uint64_t band_bytes[DP_METER_MAX_BANDS];
};

/* Calls fn(arg) once no reader can hold 'arg' any more. */
typedef void dp_meters_postpone_fn(void (*fn)(void *), void *arg, void *aux);

/* 'postpone' NULL frees at once (single-threaded tests). */
struct dp_meters *dp_meters_create(dp_meters_postpone_fn *postpone, void *aux);
/* No reader may still run. */
void dp_meters_destroy(struct dp_meters *);

/* Installs (or replaces) meter 'id'.  Returns 0, ERANGE for an id out of
 * range, EINVAL for a config with too many bands or a zero rate (a meter
 * with no band counts packets and lets them all through). */
int dp_meters_set(struct dp_meters *, uint32_t id,
                  const struct dp_meter_config *, uint64_t now_ns);
/* Removes meter 'id' (nothing if there is none). */
void dp_meters_del(struct dp_meters *, uint32_t id);
/* The statistics of meter 'id'; false if there is none. */
bool dp_meters_get_stats(struct dp_meters *, uint32_t id,
                         struct dp_meter_stats *);

/* Runs meter 'id' on the packets of 'batch' at time 'now_ns' and sets
 * drop[i] for each packet i that a drop band applies to (the caller takes
 * it out of the batch); dscp_remark bands rewrite packets in place (their
 * layer offsets must be packet_parse()'s).  Returns the number to drop. */
size_t dp_meters_run(struct dp_meters *, uint32_t id,
                     struct dp_packet_batch *batch, uint64_t now_ns,
                     bool drop[]);

#endif /* datapath/dp-meter.h */
