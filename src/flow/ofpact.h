/*
 * flow/ofpact.h — OpenFlow action lists: representation, text syntax and
 * context checks.
 *
 * An action list is what a flow does to the packets it matches.  It is kept
 * as an array of struct ofpact, one per action (or instruction: goto_table
 * and write_metadata live in the same list, after the actions, as in
 * ovs-ofctl's text).  Each ofpact is a tagged union; the list owns any heap
 * data its members point to (note bytes), so it is copied with
 * ofpacts_clone() and released with ofpacts_destroy().
 *
 * Text.  ofpacts_parse() accepts the ovs-ofctl syntax for the actions
 * below, and ofpacts_format() writes Open vSwitch's canonical text, the
 * text `ovs-ofctl dump-flows` prints (an empty list is "drop"):
 *
 *   output:PORT, PORT, in_port, normal, flood, all, local, controller,
 *   controller:MAX_LEN, controller(max_len=N,reason=R,id=N),
 *   mod_vlan_vid:VID, mod_vlan_pcp:PCP, strip_vlan, pop_vlan,
 *   push_vlan:TPID, mod_dl_src:MAC, mod_dl_dst:MAC, mod_nw_src:IP,
 *   mod_nw_dst:IP, mod_nw_tos:TOS, mod_tp_src:PORT, mod_tp_dst:PORT,
 *   dec_ttl, set_field:VALUE[/MASK]->FIELD, load:VALUE->FIELD[a..b],
 *   move:FIELD[a..b]->FIELD[c..d], resubmit:PORT, resubmit(PORT,TABLE),
 *   resubmit(,TABLE), note:XX.XX..., group:GROUP_ID, set_queue:QUEUE,
 *   clear_actions,
 *   write_actions(ACTIONS), write_metadata:VALUE[/MASK], goto_table:TABLE,
 *   meter:N (OpenFlow 1.3's meter instruction, first in the list as
 *   ovs-ofctl prints it; kept as is by ofpacts_as_openflow10(), which
 *   OpenFlow 1.0 cannot carry), drop, push_mpls:ETHERTYPE,
 *   pop_mpls:ETHERTYPE, set_mpls_label:LABEL, set_mpls_tc:TC,
 *   set_mpls_ttl:TTL, dec_mpls_ttl, mod_nw_ttl:TTL
 *
 * Instructions.  clear_actions, write_actions(...), write_metadata and
 * goto_table follow the applied actions, each at most once and in that
 * order (the order of OpenFlow 1.1+'s instruction list, the order ovs-ofctl
 * prints them in).  write_actions holds a nested list (OFPACT_WRITE_ACTIONS
 * owns a heap struct ofpacts, which ofpacts_clone/equal/destroy/check
 * follow); inside it no instruction and no note is allowed, as Open
 * vSwitch refuses them in an action set, and an empty one
 * ("write_actions()", "write_actions(drop)") is no instruction at all, as
 * Open vSwitch reads it back.
 *
 * The MPLS actions print as Open vSwitch prints them over OpenFlow 1.0
 * (set_mpls_label(7), set_mpls_ttl(9)); copy_ttl_in/copy_ttl_out are
 * unknown actions, as in Open vSwitch 3.1.
 *
 * A few normalizations make the text round-trip and match what ovs-ofctl
 * prints: note bytes are padded with zeros as the OpenFlow encoding pads
 * them (so "note:01" reads back as "note:01.00.00.00.00.00"); a load wider
 * than 64 bits is split into loads of at most 64 contiguous bits, as Open
 * vSwitch prints them; set_field values are stored masked; pop_vlan prints
 * as strip_vlan; an action on tp_src/tp_dst means tcp_src/tcp_dst.
 *
 * Validation happens in two places.  ofpacts_parse() refuses what is wrong
 * whatever the flow: unknown actions (with a "did you mean"), output to
 * port 0 or to a reserved number, values too wide for their field,
 * set_field on a read-only field, move between sub-fields of different
 * widths, instructions placed before actions, out of order or given
 * twice, an instruction or a note inside write_actions,
 * "drop" with other actions.  ofpacts_check() refuses what is wrong for a
 * particular flow: goto_table to a table that is not later than the flow's,
 * and actions that read or write a field whose prerequisites the flow's
 * match lacks (mod_tp_dst without tcp/udp/sctp, set_field:...->ip_src
 * without ip, setting a VLAN field with no tag, dec_ttl without ip...).
 *
 * set_queue only records the queue (flowswitch has no QoS queues): xlate
 * emits nothing for it.
 *
 * Thread safety: a struct ofpacts is a plain value owned by one thread at a
 * time; parsing and formatting are reentrant.
 */
#ifndef FLOWSWITCH_FLOW_OFPACT_H
#define FLOWSWITCH_FLOW_OFPACT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/field.h"
#include "flow/flow.h"

struct ds;

enum ofpact_type {
    OFPACT_OUTPUT,         /* output:PORT (also in_port, normal, local...). */
    OFPACT_CONTROLLER,     /* controller(...). */
    OFPACT_SET_VLAN_VID,   /* mod_vlan_vid (pushes a tag if none). */
    OFPACT_SET_VLAN_PCP,   /* mod_vlan_pcp (pushes a tag if none). */
    OFPACT_STRIP_VLAN,     /* strip_vlan or pop_vlan. */
    OFPACT_PUSH_VLAN,      /* push_vlan:TPID. */
    OFPACT_SET_ETH_SRC,    /* mod_dl_src. */
    OFPACT_SET_ETH_DST,    /* mod_dl_dst. */
    OFPACT_SET_IPV4_SRC,   /* mod_nw_src. */
    OFPACT_SET_IPV4_DST,   /* mod_nw_dst. */
    OFPACT_SET_IP_DSCP,    /* mod_nw_tos. */
    OFPACT_SET_L4_SRC,     /* mod_tp_src. */
    OFPACT_SET_L4_DST,     /* mod_tp_dst. */
    OFPACT_DEC_TTL,        /* dec_ttl. */
    OFPACT_SET_FIELD,      /* set_field:VALUE[/MASK]->FIELD. */
    OFPACT_LOAD,           /* load:VALUE->FIELD[a..b]. */
    OFPACT_MOVE,           /* move:SRC[a..b]->DST[c..d]. */
    OFPACT_RESUBMIT,       /* resubmit. */
    OFPACT_NOTE,           /* note:XX.XX... */
    OFPACT_SET_QUEUE,      /* set_queue:QUEUE. */
    OFPACT_CLEAR_ACTIONS,  /* Instruction: clear_actions. */
    OFPACT_WRITE_ACTIONS,  /* Instruction: write_actions(ACTIONS). */
    OFPACT_GROUP,          /* group:GROUP_ID (OpenFlow 1.1+). */
    OFPACT_WRITE_METADATA, /* Instruction: write_metadata. */
    OFPACT_GOTO_TABLE,     /* Instruction: goto_table (always last). */
    OFPACT_METER,          /* Instruction: meter:N (always first). */
    OFPACT_PUSH_MPLS,      /* push_mpls:ETHERTYPE. */
    OFPACT_POP_MPLS,       /* pop_mpls:ETHERTYPE. */
    OFPACT_SET_MPLS_LABEL, /* set_mpls_label:LABEL. */
    OFPACT_SET_MPLS_TC,    /* set_mpls_tc:TC. */
    OFPACT_SET_MPLS_TTL,   /* set_mpls_ttl:TTL. */
    OFPACT_DEC_MPLS_TTL,   /* dec_mpls_ttl. */
    OFPACT_SET_IP_TTL,     /* mod_nw_ttl:TTL. */
};

/* Reasons of a controller action. */
enum ofpact_controller_reason {
    OFPACT_REASON_NO_MATCH = 0,
    OFPACT_REASON_ACTION = 1,
    OFPACT_REASON_INVALID_TTL = 2,
    OFPACT_REASON_ACTION_SET = 3,
    OFPACT_REASON_GROUP = 4,
    OFPACT_REASON_PACKET_OUT = 5,
};

#define OFPACT_CONTROLLER_MAX_LEN 65535 /* "Send the whole packet". */
#define OFPACT_TABLE_NONE 255           /* resubmit: keep the table. */
#define OFPACT_NOTE_MAX 1024            /* Longest note, in bytes. */
#define OFPACT_METER_MAX 0xffff0000u    /* OpenFlow's OFPM_MAX. */
#define OFPACT_METER_DP_NONE UINT32_MAX
#define OFPACT_GROUP_MAX 0xffffff00u /* Highest group id (OFPG_MAX). */

/* The OpenFlow encoding an action arrived in, when the same action has
 * several: the encoder sends it back the same way, as Open vSwitch does,
 * so that a controller reads back the bytes it wrote.  Actions parsed from
 * text have OFPACT_RAW_DEFAULT.  ofpacts_equal() ignores it. */
enum ofpact_raw {
    OFPACT_RAW_DEFAULT,
    OFPACT_RAW_NX_CONTROLLER,  /* controller(...) as NXAST_CONTROLLER. */
    OFPACT_RAW_NX_CONTROLLER2, /* controller(...) as NXAST_CONTROLLER2. */
    OFPACT_RAW_NX_REG_LOAD2,   /* set_field as NXAST_REG_LOAD2. */
};

struct ofpact {
    enum ofpact_type type;
    uint8_t raw; /* enum ofpact_raw. */
    union {
        struct {
            uint32_t port; /* 1..0xfeff or OFPP_IN_PORT ... OFPP_LOCAL. */
            /* OpenFlow's max_len, which only matters for the controller
             * port: kept so that a flow reads back over OpenFlow as it was
             * written (0 from the text syntax, as in Open vSwitch). */
            uint16_t max_len;
        } output;
        struct {
            uint16_t max_len;
            uint16_t id; /* Controller connection id (0: all). */
            enum ofpact_controller_reason reason;
        } controller;
        uint16_t vlan_vid;   /* 0..4095. */
        uint8_t vlan_pcp;    /* 0..7. */
        be16 push_tpid;      /* 0x8100 or 0x88a8. */
        struct eth_addr mac; /* SET_ETH_SRC/DST. */
        be32 ipv4;           /* SET_IPV4_SRC/DST. */
        uint8_t tos;         /* SET_IP_DSCP: DSCP bits in place. */
        uint16_t l4_port;    /* SET_L4_SRC/DST. */
        be16 mpls_ethertype; /* PUSH_MPLS (0x8847, 0x8848), POP_MPLS. */
        uint32_t mpls_label; /* SET_MPLS_LABEL: 0..0xfffff. */
        uint8_t mpls_tc;     /* SET_MPLS_TC: 0..7. */
        uint8_t ttl;         /* SET_MPLS_TTL, SET_IP_TTL. */
        struct {
            const struct field *field;
            union field_value value; /* Pre-masked. */
            union field_value mask;  /* Nonzero. */
        } set_field;
        struct {
            struct field_subfield dst; /* At most 64 bits. */
            uint64_t value;            /* Fits in dst.n_bits. */
        } load;
        struct {
            struct field_subfield src;
            struct field_subfield dst; /* Same width as 'src'. */
        } move;
        struct {
            uint32_t in_port; /* OFPP_IN_PORT: keep the input port. */
            uint8_t table_id; /* OFPACT_TABLE_NONE: this table. */
        } resubmit;
        struct {
            uint8_t *data; /* Owned by the list. */
            size_t len;
        } note;
        struct {
            uint64_t value; /* Host byte order. */
            uint64_t mask;
        } metadata;
        uint32_t queue_id; /* SET_QUEUE. */
        /* WRITE_ACTIONS: the actions to write into the action set, never
         * empty, with no instruction and no note; owned by the list. */
        struct ofpacts *nested;
        uint8_t goto_table;
        struct {
            uint32_t meter_id; /* OpenFlow meter id, 1..OFPACT_METER_MAX. */
            /* The datapath meter ofproto gave it when the flow was added
             * (OFPACT_METER_DP_NONE until then); not compared. */
            uint32_t dp_id;
        } meter;
        uint32_t group_id; /* GROUP: 0..0xffffff00. */
    };
};

struct ofpacts {
    struct ofpact *acts;
    size_t n;
    size_t allocated;
};

#define OFPACTS_EMPTY_INITIALIZER                                             \
    {                                                                         \
        NULL, 0, 0                                                            \
    }

void ofpacts_init(struct ofpacts *);
void ofpacts_destroy(struct ofpacts *);
/* Initializes 'dst' as a deep copy of 'src'. */
void ofpacts_clone(struct ofpacts *dst, const struct ofpacts *src);
bool ofpacts_equal(const struct ofpacts *, const struct ofpacts *);
/* Appends a zeroed action of 'type' and returns it. */
struct ofpact *ofpacts_put(struct ofpacts *, enum ofpact_type);
/* Appends a note action holding a copy of 'data' (not padded). */
struct ofpact *ofpacts_put_note(struct ofpacts *, const void *data,
                                size_t len);
/* Appends a deep copy of 'a' (a note's bytes and a write_actions' nested
 * list get their own copies). */
void ofpacts_put_copy(struct ofpacts *, const struct ofpact *a);
/* Appends a write_actions instruction that takes over the actions of
 * 'nested' (left empty). */
struct ofpact *ofpacts_put_write_actions(struct ofpacts *,
                                         struct ofpacts *nested);

/* Parses the action list 's' (the part after "actions=").  On success
 * initializes '*ofpacts' with the actions and returns 0; on error returns
 * EINVAL, stores a one-line message in '*errorp' (the caller frees it) and
 * leaves '*ofpacts' initialized and empty. */
int ofpacts_parse(const char *s, struct ofpacts *, char **errorp);

/* Appends the canonical text of 'ofpacts' ("drop" when empty). */
void ofpacts_format(const struct ofpacts *, struct ds *);
/* Appends the canonical text of one action. */
void ofpact_format(const struct ofpact *, struct ds *);

/* Rewrites 'ofpacts' into what it becomes when ovs-ofctl carries it to a
 * switch with its default protocol, OpenFlow 1.0 with Nicira extensions,
 * and the switch keeps what it decoded: a set_field becomes the OpenFlow
 * 1.0 action of its field (mod_dl_src, mod_nw_src, mod_nw_tos, mod_tp_dst,
 * mod_vlan_vid, mod_vlan_pcp, strip_vlan; the mask is dropped there, as
 * Open vSwitch drops it) or else loads of at most 64 contiguous bits, and
 * goto_table:N becomes resubmit(,N).  flowswitchd applies it to the flows
 * it is given as text, so that its dump-flows prints what `ovs-ofctl
 * dump-flows` prints for the same `ovs-ofctl add-flow` against Open
 * vSwitch, and so that a dump fed back to add-flows gives the same flows. */
void ofpacts_as_openflow10(struct ofpacts *);

/* Checks 'ofpacts' against the flow they belong to: its match and the
 * table it lives in.  Returns 0 or EINVAL with a message in '*errorp'. */
int ofpacts_check(const struct ofpacts *, const struct match *,
                  uint8_t table_id, char **errorp);

/* Whether an output action in 'ofpacts' (a write_actions' included) names
 * 'port', a controller action counting as output to OFPP_CONTROLLER: the
 * out_port filter of flow-mods and flow stats. */
bool ofpacts_outputs_to(const struct ofpacts *, uint32_t port);

/* For a load: the value and mask it writes over the whole field. */
void ofpact_load_to_field(const struct ofpact *, union field_value *value,
                          union field_value *mask);

#endif /* flow/ofpact.h */
