/*
 * openflow/ofp-meter.h — the OpenFlow 1.3 wire format of meters:
 * OFPT_METER_MOD and the METER, METER_CONFIG and METER_FEATURES
 * multiparts.
 *
 * Meter-mod decoding checks the layout (OFPBRC_BAD_LEN for a short
 * message or a band whose length is not 16) and turns band types it does
 * not know (experimenter bands) into OFPMMFC_BAD_BAND; the meaning (ids,
 * flags, rates) is ofproto's to check (ofproto/meter.h).  Encoding is
 * the exact inverse, for tests and the fuzz corpus.  The multipart
 * bodies are built as Open vSwitch builds them: a meter config entry
 * repeats the bands as configured (burst_size as given), a meter stats
 * entry has one packet/byte count pair per band, and the features say
 * OFMETER_MAX meters, drop and dscp_remark bands, kbps, pktps, burst and
 * stats, OFMETER_MAX_BANDS bands and no colours.
 *
 * Thread safety: pure functions on caller-owned buffers.
 */
#ifndef FLOWSWITCH_OPENFLOW_OFP_METER_H
#define FLOWSWITCH_OPENFLOW_OFP_METER_H 1

#include <stddef.h>
#include <stdint.h>

#include "ofproto/meter.h"

struct ofpbuf;

/* Decodes the OFPT_METER_MOD 'msg' (whole message, 'len' bytes).  Returns
 * 0 or an OFPERR_* value. */
int ofp_decode_meter_mod(const uint8_t *msg, size_t len,
                         enum ofmeter_command *commandp,
                         struct ofmeter_config *cfg);
void ofp_encode_meter_mod(struct ofpbuf *, uint32_t xid,
                          enum ofmeter_command command,
                          const struct ofmeter_config *cfg);

/* Multipart reply entries. */
void ofp_put_meter_config(struct ofpbuf *, const struct ofmeter_config *);
void ofp_put_meter_stats(struct ofpbuf *, const struct ofmeter_info *);
void ofp_put_meter_features(struct ofpbuf *);

#endif /* openflow/ofp-meter.h */
