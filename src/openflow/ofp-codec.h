/*
 * openflow/ofp-codec.h — the OpenFlow 1.3 wire codec: messages, OXM
 * matches, actions and instructions, to and from flowswitch's own types
 * (struct flow_text, struct match, struct ofpacts).
 *
 * Decoding.  Every decoder takes the bytes of one whole message (its
 * header included, as a connection frames it) and checks every length
 * against what is left before it reads: the message length against the
 * bytes given, each fixed part against the message, each OXM field, action
 * and instruction against its container, and each variable part against
 * the alignment the specification requires.  A decoder either succeeds and
 * fills its output, or returns an OpenFlow error code (OFPERR(TYPE, CODE))
 * and leaves nothing to free; the caller answers with an ERROR message
 * carrying that code.  No decoder trusts a length field it has not bounded.
 *
 * What is understood.
 *  - Matches: every field of the flow language (flow/field.h) as an
 *    OpenFlow basic OXM (in_port, metadata, eth, vlan_vid/pcp, ip_dscp,
 *    ip_ecn, ip_proto, ipv4/ipv6 addresses, flow label, tcp/udp/sctp
 *    ports, icmp/icmpv6 type and code, arp, nd) or, for the fields
 *    OpenFlow 1.3 lacks, as the Nicira extension Open vSwitch uses
 *    (NXM_NX_REG0..7, NXM_NX_IP_TTL, NXM_NX_IP_FRAG, NXM_OF_VLAN_TCI,
 *    NXM_NX_TCP_FLAGS, and the ONF experimenter tcp_flags ovs-ofctl sends
 *    in OpenFlow 1.3).  Prerequisites are checked as ofproto checks them.
 *  - Actions: output (output:CONTROLLER is a controller action),
 *    push_vlan, pop_vlan, group, dec_nw_ttl, set_field, OpenFlow 1.1's
 *    set_tp_src/set_tp_dst (deprecated in 1.3, but what Open vSwitch
 *    sends for mod_tp_src/dst in a group bucket, where no match says
 *    TCP or UDP), and the Nicira actions resubmit, resubmit_table,
 *    note, reg_load, reg_load2, reg_move, controller and dec_ttl.
 *    Anything else is refused (OFPET_BAD_ACTION/OFPBAC_BAD_TYPE or
 *    BAD_EXP_TYPE).
 *  - Groups (ofp-group.c): GROUP_MOD (add, modify, delete; buckets with
 *    weight, watch port, watch group and actions) and the GROUP,
 *    GROUP_DESC and GROUP_FEATURES multiparts.  OpenFlow 1.3 carries no
 *    selection method: select groups use flowswitch's 5-tuple hash.
 *  - Instructions: apply_actions, write_actions, clear_actions,
 *    write_metadata, goto_table and meter, each at most once (a second one
 *    is OFPBIC_DUP_INST, sent as Open vSwitch sends it over OpenFlow 1.3:
 *    an ONF experimenter error); experimenter instructions are
 *    OFPBIC_UNSUP_INST.
 *
 * Encoding.  Encoders append one whole message to a struct ofpbuf and fix
 * up its length; actions are encoded as Open vSwitch 3.1 encodes the same
 * ofpacts for OpenFlow 1.3 (mod_nw_src as set_field, load as reg_load, a
 * masked set_field as reg_load2, controller with a reason or id as the
 * Nicira controller action), so that ovs-ofctl prints our flows as it
 * prints Open vSwitch's.
 *
 * Ports.  The flow language uses OpenFlow 1.0 port numbers (reserved ports
 * 0xfff8..0xffff); on the wire OpenFlow 1.3 uses 32 bits (0xfffffff8...).
 * ofp_port_from_wire() and ofp_port_to_wire() convert.
 *
 * Thread safety: every function is reentrant; buffers belong to one
 * thread at a time.
 */
#ifndef FLOWSWITCH_OPENFLOW_OFP_CODEC_H
#define FLOWSWITCH_OPENFLOW_OFP_CODEC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow-text.h"
#include "flow/flow.h"
#include "flow/ofpact.h"

/* ---- Byte buffers ------------------------------------------------------- */

struct ofpbuf {
    uint8_t *data;
    size_t size;
    size_t allocated;
};

#define OFPBUF_INITIALIZER                                                    \
    {                                                                         \
        NULL, 0, 0                                                            \
    }

void ofpbuf_init(struct ofpbuf *);
void ofpbuf_uninit(struct ofpbuf *);
void ofpbuf_clear(struct ofpbuf *);
/* Appends 'n' bytes (zeros for put_zeros) and returns their offset. */
size_t ofpbuf_put(struct ofpbuf *, const void *, size_t n);
size_t ofpbuf_put_zeros(struct ofpbuf *, size_t n);
void ofpbuf_put_u8(struct ofpbuf *, uint8_t);
void ofpbuf_put_be16(struct ofpbuf *, uint16_t host);
void ofpbuf_put_be32(struct ofpbuf *, uint32_t host);
void ofpbuf_put_be64(struct ofpbuf *, uint64_t host);
/* Writes 'host' in network byte order at offset 'ofs'. */
void ofpbuf_set_be16(struct ofpbuf *, size_t ofs, uint16_t host);
/* Drops the first 'n' bytes. */
void ofpbuf_pull(struct ofpbuf *, size_t n);

/* ---- Protocol constants ------------------------------------------------- */

#define OFP13_VERSION 0x04
#define OFP_HEADER_LEN 8
#define OFP_MAX_MSG_LEN 65535
#define OFP_NO_BUFFER 0xffffffffu
#define OFPCML_NO_BUFFER 0xffff
#define OFPTT_ALL 0xff
#define OFPG_ANY 0xffffffffu
#define OFP13_N_TABLES 254 /* Tables reported (0..253), as Open vSwitch. */

/* 32-bit reserved ports. */
#define OFPP13_MAX 0xffffff00u
#define OFPP13_IN_PORT 0xfffffff8u
#define OFPP13_CONTROLLER 0xfffffffdu
#define OFPP13_LOCAL 0xfffffffeu
#define OFPP13_ANY 0xffffffffu

enum ofp_type {
    OFPT_HELLO = 0,
    OFPT_ERROR = 1,
    OFPT_ECHO_REQUEST = 2,
    OFPT_ECHO_REPLY = 3,
    OFPT_EXPERIMENTER = 4,
    OFPT_FEATURES_REQUEST = 5,
    OFPT_FEATURES_REPLY = 6,
    OFPT_GET_CONFIG_REQUEST = 7,
    OFPT_GET_CONFIG_REPLY = 8,
    OFPT_SET_CONFIG = 9,
    OFPT_PACKET_IN = 10,
    OFPT_FLOW_REMOVED = 11,
    OFPT_PORT_STATUS = 12,
    OFPT_PACKET_OUT = 13,
    OFPT_FLOW_MOD = 14,
    OFPT_GROUP_MOD = 15,
    OFPT_PORT_MOD = 16,
    OFPT_TABLE_MOD = 17,
    OFPT_MULTIPART_REQUEST = 18,
    OFPT_MULTIPART_REPLY = 19,
    OFPT_BARRIER_REQUEST = 20,
    OFPT_BARRIER_REPLY = 21,
    OFPT_QUEUE_GET_CONFIG_REQUEST = 22,
    OFPT_QUEUE_GET_CONFIG_REPLY = 23,
    OFPT_ROLE_REQUEST = 24,
    OFPT_ROLE_REPLY = 25,
    OFPT_GET_ASYNC_REQUEST = 26,
    OFPT_GET_ASYNC_REPLY = 27,
    OFPT_SET_ASYNC = 28,
    OFPT_METER_MOD = 29,
};

enum ofp_multipart_type {
    OFPMP_DESC = 0,
    OFPMP_FLOW = 1,
    OFPMP_AGGREGATE = 2,
    OFPMP_TABLE = 3,
    OFPMP_PORT_STATS = 4,
    OFPMP_GROUP = 6,
    OFPMP_GROUP_DESC = 7,
    OFPMP_GROUP_FEATURES = 8,
    OFPMP_METER = 9,
    OFPMP_METER_CONFIG = 10,
    OFPMP_METER_FEATURES = 11,
    OFPMP_TABLE_FEATURES = 12,
    OFPMP_PORT_DESC = 13,
};
#define OFPMPF_REPLY_MORE 1

enum ofp_flow_mod_command {
    OFPFC_ADD = 0,
    OFPFC_MODIFY = 1,
    OFPFC_MODIFY_STRICT = 2,
    OFPFC_DELETE = 3,
    OFPFC_DELETE_STRICT = 4,
};

enum ofp_controller_role {
    OFPCR_ROLE_NOCHANGE = 0,
    OFPCR_ROLE_EQUAL = 1,
    OFPCR_ROLE_MASTER = 2,
    OFPCR_ROLE_SLAVE = 3,
};

enum ofp_flow_removed_reason {
    OFPRR_IDLE_TIMEOUT = 0,
    OFPRR_HARD_TIMEOUT = 1,
    OFPRR_DELETE = 2,
    OFPRR_GROUP_DELETE = 3,
};

enum ofp_port_reason {
    OFPPR_ADD = 0,
    OFPPR_DELETE = 1,
    OFPPR_MODIFY = 2,
};

/* Errors: OFPERR(type, code); 0 is "no error".  TYPE must be at most
 * OFPERR_MAX_TYPE for the value to fit an int (the types OpenFlow 1.3
 * defines, other than OFPET_EXPERIMENTER, are 0 to 13). */
#define OFPERR_MAX_TYPE 0x7ffe
/* An Open Networking Foundation experimenter error, carried in OpenFlow
 * 1.3 as OFPET_EXPERIMENTER (0xffff) with the ONF experimenter id and the
 * code as exp_type, as Open vSwitch sends the errors OpenFlow 1.4 added. */
#define OFPET_ONF_INTERNAL 0x7fff
#define OFPERR_ONF(CODE) OFPERR(OFPET_ONF_INTERNAL, CODE)
#define OFP_ONF_EXPERIMENTER 0x4f4e4600u
#define OFPERR(TYPE, CODE) ((int)(((TYPE) << 16) | (CODE)) + 1)
#define OFPERR_TYPE(E) ((uint16_t)(((E)-1) >> 16))
#define OFPERR_CODE(E) ((uint16_t)(((E)-1) & 0xffff))

enum ofp_error_type {
    OFPET_HELLO_FAILED = 0,
    OFPET_BAD_REQUEST = 1,
    OFPET_BAD_ACTION = 2,
    OFPET_BAD_INSTRUCTION = 3,
    OFPET_BAD_MATCH = 4,
    OFPET_FLOW_MOD_FAILED = 5,
    OFPET_GROUP_MOD_FAILED = 6,
    OFPET_PORT_MOD_FAILED = 7,
    OFPET_SWITCH_CONFIG_FAILED = 10,
    OFPET_ROLE_REQUEST_FAILED = 11,
    OFPET_METER_MOD_FAILED = 12,
};

#define OFPERR_HELLO_INCOMPATIBLE OFPERR(OFPET_HELLO_FAILED, 0)
#define OFPERR_BAD_VERSION OFPERR(OFPET_BAD_REQUEST, 0)
#define OFPERR_BAD_TYPE OFPERR(OFPET_BAD_REQUEST, 1)
#define OFPERR_BAD_MULTIPART OFPERR(OFPET_BAD_REQUEST, 2)
#define OFPERR_BAD_EXPERIMENTER OFPERR(OFPET_BAD_REQUEST, 3)
#define OFPERR_BAD_LEN OFPERR(OFPET_BAD_REQUEST, 6)
#define OFPERR_BUFFER_UNKNOWN OFPERR(OFPET_BAD_REQUEST, 8)
#define OFPERR_BAD_TABLE_ID OFPERR(OFPET_BAD_REQUEST, 9)
#define OFPERR_IS_SLAVE OFPERR(OFPET_BAD_REQUEST, 10)
#define OFPERR_BAD_PORT OFPERR(OFPET_BAD_REQUEST, 11)
#define OFPERR_BAD_PACKET OFPERR(OFPET_BAD_REQUEST, 12)
#define OFPERR_BAC_BAD_TYPE OFPERR(OFPET_BAD_ACTION, 0)
#define OFPERR_BAC_BAD_LEN OFPERR(OFPET_BAD_ACTION, 1)
#define OFPERR_BAC_BAD_EXPERIMENTER OFPERR(OFPET_BAD_ACTION, 2)
#define OFPERR_BAC_BAD_EXP_TYPE OFPERR(OFPET_BAD_ACTION, 3)
#define OFPERR_BAC_BAD_OUT_PORT OFPERR(OFPET_BAD_ACTION, 4)
#define OFPERR_BAC_BAD_ARGUMENT OFPERR(OFPET_BAD_ACTION, 5)
#define OFPERR_BAC_BAD_OUT_GROUP OFPERR(OFPET_BAD_ACTION, 9)
#define OFPERR_BAC_MATCH_INCONSISTENT OFPERR(OFPET_BAD_ACTION, 10)
#define OFPERR_BAC_UNSUPPORTED_ORDER OFPERR(OFPET_BAD_ACTION, 11)
#define OFPERR_BAC_BAD_SET_TYPE OFPERR(OFPET_BAD_ACTION, 13)
#define OFPERR_BAC_BAD_SET_LEN OFPERR(OFPET_BAD_ACTION, 14)
#define OFPERR_BAC_BAD_SET_ARGUMENT OFPERR(OFPET_BAD_ACTION, 15)
#define OFPERR_BIC_UNKNOWN_INST OFPERR(OFPET_BAD_INSTRUCTION, 0)
#define OFPERR_BIC_UNSUP_INST OFPERR(OFPET_BAD_INSTRUCTION, 1)
#define OFPERR_BIC_BAD_TABLE_ID OFPERR(OFPET_BAD_INSTRUCTION, 2)
#define OFPERR_BIC_BAD_LEN OFPERR(OFPET_BAD_INSTRUCTION, 7)
#define OFPERR_BIC_DUP_INST OFPERR_ONF(2600)
#define OFPERR_BMC_BAD_TYPE OFPERR(OFPET_BAD_MATCH, 0)
#define OFPERR_BMC_BAD_LEN OFPERR(OFPET_BAD_MATCH, 1)
#define OFPERR_BMC_BAD_WILDCARDS OFPERR(OFPET_BAD_MATCH, 5)
#define OFPERR_BMC_BAD_FIELD OFPERR(OFPET_BAD_MATCH, 6)
#define OFPERR_BMC_BAD_VALUE OFPERR(OFPET_BAD_MATCH, 7)
#define OFPERR_BMC_BAD_MASK OFPERR(OFPET_BAD_MATCH, 8)
#define OFPERR_BMC_BAD_PREREQ OFPERR(OFPET_BAD_MATCH, 9)
#define OFPERR_BMC_DUP_FIELD OFPERR(OFPET_BAD_MATCH, 10)
#define OFPERR_FMFC_UNKNOWN OFPERR(OFPET_FLOW_MOD_FAILED, 0)
#define OFPERR_MMFC_UNKNOWN OFPERR(OFPET_METER_MOD_FAILED, 0)
#define OFPERR_MMFC_METER_EXISTS OFPERR(OFPET_METER_MOD_FAILED, 1)
#define OFPERR_MMFC_INVALID_METER OFPERR(OFPET_METER_MOD_FAILED, 2)
#define OFPERR_MMFC_UNKNOWN_METER OFPERR(OFPET_METER_MOD_FAILED, 3)
#define OFPERR_MMFC_BAD_COMMAND OFPERR(OFPET_METER_MOD_FAILED, 4)
#define OFPERR_MMFC_BAD_FLAGS OFPERR(OFPET_METER_MOD_FAILED, 5)
#define OFPERR_MMFC_BAD_RATE OFPERR(OFPET_METER_MOD_FAILED, 6)
#define OFPERR_MMFC_BAD_BURST OFPERR(OFPET_METER_MOD_FAILED, 7)
#define OFPERR_MMFC_BAD_BAND OFPERR(OFPET_METER_MOD_FAILED, 8)
#define OFPERR_MMFC_BAD_BAND_VALUE OFPERR(OFPET_METER_MOD_FAILED, 9)
#define OFPERR_MMFC_OUT_OF_METERS OFPERR(OFPET_METER_MOD_FAILED, 10)
#define OFPERR_MMFC_OUT_OF_BANDS OFPERR(OFPET_METER_MOD_FAILED, 11)
#define OFPERR_FMFC_BAD_TABLE_ID OFPERR(OFPET_FLOW_MOD_FAILED, 2)
#define OFPERR_FMFC_OVERLAP OFPERR(OFPET_FLOW_MOD_FAILED, 3)
#define OFPERR_FMFC_BAD_COMMAND OFPERR(OFPET_FLOW_MOD_FAILED, 6)
#define OFPERR_FMFC_BAD_FLAGS OFPERR(OFPET_FLOW_MOD_FAILED, 7)
#define OFPERR_GMFC_GROUP_EXISTS OFPERR(OFPET_GROUP_MOD_FAILED, 0)
#define OFPERR_GMFC_INVALID_GROUP OFPERR(OFPET_GROUP_MOD_FAILED, 1)
#define OFPERR_GMFC_WATCH_UNSUPPORTED OFPERR(OFPET_GROUP_MOD_FAILED, 6)
#define OFPERR_GMFC_UNKNOWN_GROUP OFPERR(OFPET_GROUP_MOD_FAILED, 8)
#define OFPERR_GMFC_BAD_TYPE OFPERR(OFPET_GROUP_MOD_FAILED, 10)
#define OFPERR_GMFC_BAD_COMMAND OFPERR(OFPET_GROUP_MOD_FAILED, 11)
#define OFPERR_GMFC_BAD_BUCKET OFPERR(OFPET_GROUP_MOD_FAILED, 12)
#define OFPERR_GMFC_BAD_WATCH OFPERR(OFPET_GROUP_MOD_FAILED, 13)
#define OFPERR_SCFC_BAD_FLAGS OFPERR(OFPET_SWITCH_CONFIG_FAILED, 0)
#define OFPERR_RRFC_STALE OFPERR(OFPET_ROLE_REQUEST_FAILED, 0)
#define OFPERR_RRFC_BAD_ROLE OFPERR(OFPET_ROLE_REQUEST_FAILED, 2)

/* "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ", for logs; "type T code C" for
 * codes this file does not name. */
const char *ofperr_to_string(int error, char buf[64]);

/* ---- Ports -------------------------------------------------------------- */

/* Converts a 32-bit OpenFlow 1.3 port to the flow language's numbering.
 * Returns false for numbers that name nothing (0xffff00..0xfffffff7 and
 * 0xff00..0xffffff00 ordinary ports beyond OFPP_MAX). */
bool ofp_port_from_wire(uint32_t wire, uint32_t *port);
uint32_t ofp_port_to_wire(uint32_t port);

/* ---- Messages: framing --------------------------------------------------- */

struct ofp_header {
    uint8_t version;
    uint8_t type;
    uint16_t length; /* Host order. */
    uint32_t xid;    /* Host order. */
};

/* Reads the header of 'data[0..size)' (at least OFP_HEADER_LEN bytes). */
void ofp_header_decode(const uint8_t *data, struct ofp_header *);
/* Starts a message of 'type' with 'xid' at the end of 'b' and returns the
 * offset it starts at; ofp_msg_finish() fixes up the length of a message
 * that starts at offset 0 (an empty 'b'). */
size_t ofp_msg_start(struct ofpbuf *b, uint8_t type, uint32_t xid);
void ofp_msg_finish(struct ofpbuf *b);

/* ---- HELLO, ERROR, ECHO -------------------------------------------------- */

void ofp_encode_hello(struct ofpbuf *, uint32_t xid);
/* Negotiates a version from a peer's HELLO: 1.3 if the peer's version
 * bitmap has it, or (without a bitmap) if the header says 1.3 or later.
 * Returns 0 or OFPERR_HELLO_INCOMPATIBLE (OFPERR_BAD_LEN for a malformed
 * hello); '*peer_versions' gets the peer's bitmap (bit N: version N). */
int ofp_decode_hello(const uint8_t *msg, size_t len, uint32_t *peer_versions);

/* An ERROR of 'error' (OFPERR) carrying the first 64 bytes of 'request'
 * (or 'text' for HELLO_FAILED, as the specification asks). */
void ofp_encode_error(struct ofpbuf *, uint32_t xid, int error,
                      const uint8_t *request, size_t request_len,
                      const char *text);
/* Decodes an ERROR: its type and code as on the wire (any 16-bit values:
 * a peer may send types this codec has no OFPERR for, such as
 * OFPET_EXPERIMENTER, 0xffff). */
int ofp_decode_error(const uint8_t *msg, size_t len, uint16_t *type,
                     uint16_t *code);

/* An ECHO_REPLY echoing the payload of the ECHO_REQUEST 'msg'. */
void ofp_encode_echo_reply(struct ofpbuf *, const uint8_t *msg, size_t len);

/* ---- FEATURES, CONFIG, ROLE --------------------------------------------- */

void ofp_encode_features_reply(struct ofpbuf *, uint32_t xid,
                               uint64_t datapath_id);

struct ofp_switch_config {
    uint16_t flags;
    uint16_t miss_send_len;
};
int ofp_decode_set_config(const uint8_t *msg, size_t len,
                          struct ofp_switch_config *);
void ofp_encode_get_config_reply(struct ofpbuf *, uint32_t xid,
                                 const struct ofp_switch_config *);

struct ofp_role {
    uint32_t role; /* OFPCR_ROLE_*. */
    uint64_t generation_id;
};
int ofp_decode_role_request(const uint8_t *msg, size_t len, struct ofp_role *);
void ofp_encode_role_reply(struct ofpbuf *, uint32_t xid,
                           const struct ofp_role *);

/* ---- Matches, actions, instructions -------------------------------------- */

/* Decodes an ofp_match (type OXM, its padding included) from
 * 'p[0..len)': on success stores it in '*match' and the bytes it used in
 * '*used'. */
int ofp_decode_match(const uint8_t *p, size_t len, struct match *,
                     size_t *used);
/* Appends 'match' as an ofp_match with its padding. */
void ofp_encode_match(const struct match *, struct ofpbuf *);

/* Decodes 'len' bytes of OpenFlow 1.3 actions (an apply_actions list or
 * a packet-out's actions) into '*ofpacts' (initialized here). */
int ofp_decode_actions(const uint8_t *p, size_t len, struct ofpacts *);
/* Appends the actions of 'ofpacts' (not the instructions); 'match' is the
 * flow they belong to (mod_tp_src becomes set_field on tcp_src or udp_src
 * by its protocol), or NULL. */
void ofp_encode_actions(const struct ofpacts *, const struct match *,
                        struct ofpbuf *);
/* Decodes 'len' bytes of instructions into '*ofpacts' (initialized here):
 * apply_actions' actions, then write_metadata, then goto_table. */
int ofp_decode_instructions(const uint8_t *p, size_t len, struct ofpacts *);
void ofp_encode_instructions(const struct ofpacts *, const struct match *,
                             struct ofpbuf *);

/* ---- FLOW_MOD ----------------------------------------------------------- */

struct ofp_flow_mod {
    struct flow_text ft; /* Mode, match, priority, table, cookies,
                          * timeouts, flags, out_port, actions. */
    uint8_t command;     /* OFPFC_*. */
    uint32_t buffer_id;
    uint32_t out_group;
};

/* On success the caller owns fm->ft (flow_text_destroy()). */
int ofp_decode_flow_mod(const uint8_t *msg, size_t len, struct ofp_flow_mod *);
/* The encoder, for tests and tools. */
void ofp_encode_flow_mod(struct ofpbuf *, uint32_t xid,
                         const struct ofp_flow_mod *);

/* ---- Flow entries (FLOW stats, FLOW_REMOVED) ---------------------------- */

struct ofp_flow_entry {
    struct match match;
    uint16_t priority;
    uint8_t table_id;
    uint64_t cookie;
    uint16_t idle_timeout, hard_timeout;
    uint16_t flags;
    uint64_t duration_ms;
    uint64_t packet_count, byte_count;
    const struct ofpacts *ofpacts; /* Stats only. */
};

/* Appends one ofp_flow_stats entry to a multipart body. */
void ofp_put_flow_stats(struct ofpbuf *, const struct ofp_flow_entry *);
void ofp_encode_flow_removed(struct ofpbuf *, uint32_t xid,
                             const struct ofp_flow_entry *, uint8_t reason);

/* ---- PACKET_IN, PACKET_OUT ---------------------------------------------- */

struct ofp_packet_in {
    uint32_t buffer_id;
    uint16_t total_len;
    uint8_t reason; /* OFPR_*: 0 no match, 1 action, 2 invalid ttl. */
    uint8_t table_id;
    uint64_t cookie;
    uint32_t in_port; /* Flow language numbering. */
    const uint8_t *data;
    size_t data_len;
};
void ofp_encode_packet_in(struct ofpbuf *, uint32_t xid,
                          const struct ofp_packet_in *);
/* For tests and the fuzzer: 'pin->data' points into 'msg'. */
int ofp_decode_packet_in(const uint8_t *msg, size_t len,
                         struct ofp_packet_in *, struct match *);

struct ofp_packet_out {
    uint32_t buffer_id;
    uint32_t in_port; /* Flow language numbering. */
    struct ofpacts ofpacts;
    const uint8_t *data; /* Points into the message. */
    size_t data_len;
};
/* On success the caller owns po->ofpacts (ofpacts_destroy()). */
int ofp_decode_packet_out(const uint8_t *msg, size_t len,
                          struct ofp_packet_out *);
void ofp_encode_packet_out(struct ofpbuf *, uint32_t xid,
                           const struct ofp_packet_out *);

/* ---- Ports -------------------------------------------------------------- */

struct ofp_port_desc {
    uint32_t port_no; /* Flow language numbering. */
    struct eth_addr hw_addr;
    char name[16]; /* NUL-terminated, at most 15 characters. */
    uint32_t config, state;
    uint32_t curr_speed, max_speed; /* kbps */
};
#define OFPPC_PORT_DOWN 1 /* config: administratively down. */
#define OFPPS_LINK_DOWN 1 /* state: no physical link (carrier). */
#define OFPPS_LIVE 4

void ofp_put_port_desc(struct ofpbuf *, const struct ofp_port_desc *);
void ofp_encode_port_status(struct ofpbuf *, uint32_t xid, uint8_t reason,
                            const struct ofp_port_desc *);

struct ofp_port_stats {
    uint32_t port_no;
    uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
    uint64_t rx_dropped, tx_dropped, rx_errors, tx_errors;
    uint64_t duration_ms;
};
void ofp_put_port_stats(struct ofpbuf *, const struct ofp_port_stats *);

/* ---- MULTIPART ---------------------------------------------------------- */

struct ofp_multipart_request {
    uint16_t type; /* OFPMP_*. */
    uint16_t flags;
    /* FLOW, AGGREGATE: the filter, a FLOW_TEXT_DELETE flow (loose match,
     * table, cookie/mask, out_port).  Owned by the caller on success. */
    struct flow_text filter;
    uint32_t out_group;
    uint32_t port_no; /* PORT_STATS: flow numbering, OFPP_ANY for all. */
    /* GROUP, METER, METER_CONFIG: the group or meter asked for, OFPG_ALL
     * or OFPM_ALL for all. */
    uint32_t id;
};
int ofp_decode_multipart_request(const uint8_t *msg, size_t len,
                                 struct ofp_multipart_request *);
/* Encodes a request (tests, tools). */
void ofp_encode_multipart_request(struct ofpbuf *, uint32_t xid,
                                  const struct ofp_multipart_request *);

/* Multipart replies are built from a body of entries that may exceed one
 * message: ofp_encode_multipart_replies() splits 'body' at entry
 * boundaries ('entry_ofs[0..n_entries)' give where each entry starts) into
 * as many replies as needed, each but the last flagged REPLY_MORE, and
 * appends them all to 'out'. */
void ofp_encode_multipart_replies(struct ofpbuf *out, uint32_t xid,
                                  uint16_t type, const struct ofpbuf *body,
                                  const size_t *entry_ofs, size_t n_entries);

void ofp_put_desc(struct ofpbuf *, const char *mfr, const char *hw,
                  const char *sw, const char *serial, const char *dp_desc);
void ofp_put_aggregate(struct ofpbuf *, uint64_t packets, uint64_t bytes,
                       uint32_t flows);
/* One table-features entry: the table's id and name, every metadata bit
 * matchable and writable, no properties (ovs-ofctl asks for these before
 * it parses a flow, to learn table names). */
void ofp_put_table_features(struct ofpbuf *, uint8_t table_id,
                            const char *name, uint32_t max_entries);
void ofp_put_table_stats(struct ofpbuf *, uint8_t table_id, uint32_t active,
                         uint64_t lookups, uint64_t matched);

/* ---- GROUP_MOD and the group multiparts (ofp-group.c) ------------------ */

struct group_info;
struct group_mod;

/* Decodes a GROUP_MOD into '*gm' (the caller destroys it on success; on
 * error nothing is left to free).  Bucket lengths are checked
 * (OFPGMFC_BAD_BUCKET), watch ports converted (OFPGMFC_BAD_WATCH) and the
 * actions decoded as ofp_decode_actions() does; what depends on the table
 * (exists, unknown, type, watch on a group that is not ff) is for
 * ofproto to say. */
int ofp_decode_group_mod(const uint8_t *msg, size_t len, struct group_mod *);
void ofp_encode_group_mod(struct ofpbuf *, uint32_t xid,
                          const struct group_mod *);
/* The OpenFlow error (OFPET_GROUP_MOD_FAILED) of an enum group_error. */
int ofp_group_error(int group_error);
/* One entry of a GROUP_DESC, GROUP (stats) and the GROUP_FEATURES body
 * (all four types, weights, liveness and chaining; GROUP_ID_MAX groups of
 * each type). */
void ofp_put_group_desc(struct ofpbuf *, const struct group_mod *);
void ofp_put_group_stats(struct ofpbuf *, const struct group_info *);
void ofp_put_group_features(struct ofpbuf *);

#endif /* openflow/ofp-codec.h */
