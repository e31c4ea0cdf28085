/*
 * flow/flow-text.h — the ovs-ofctl flow syntax: parsing and formatting of
 * matches and of whole flow lines.
 *
 * A flow line is what `ovs-ofctl add-flow` (mod-flows, del-flows) takes:
 *
 *   [KEYWORD=VALUE | FIELD=VALUE[/MASK] | SHORTHAND]... [actions=ACTIONS]
 *
 * separated by commas and/or white space, "actions=" last.  Fields are the
 * ones in field.h (in_port, dl_src, nw_src=10.0.0.0/8, tp_dst=0x1000/0xf000,
 * tcp_flags=+syn-ack, ...) plus sub-field matches (reg0[0..3]=5);
 * shorthands pin dl_type and nw_proto (ip, ipv6, tcp, udp, sctp, icmp,
 * icmp6, arp, rarp, tcp6, udp6, sctp6, mpls, mplsm); keywords are priority,
 * table, cookie, idle_timeout, hard_timeout, importance, out_port and the
 * flags send_flow_rem, check_overlap, reset_counts, no_packet_counts,
 * no_byte_counts.  Which keywords a line may use depends on the mode, as
 * with ovs-ofctl's commands: adding a flow needs actions and may set a
 * cookie but not match one; deleting takes no actions, may match cookies
 * (cookie=V/M) and output ports, and ignores priority unless strict.  The
 * statistics ovs-ofctl dump-flows prints (duration, n_packets, n_bytes,
 * idle_age, hard_age) are accepted and ignored so that its output can be
 * fed back.
 *
 * Differences from ovs-ofctl, all on the side of refusing: a field whose
 * prerequisites the match lacks is an error (ovs-ofctl silently drops
 * "tp_dst=80" without "tcp"), as are values that do not fit their field
 * (dl_vlan=4096, ip_dscp=64, nw_tos=3, arp_op=256), fields with no value,
 * output to port 0 and the other action checks of ofpact.h.
 *
 * Formatting reproduces Open vSwitch 3.1 exactly: match_format() is OVS's
 * match text (field order, shorthands such as "tcp6", CIDR prefixes,
 * dl_vlan/dl_vlan_pcp views of vlan_tci, named ports), and
 * flow_text_format() prints a whole flow in one of two styles:
 * FLOW_TEXT_STYLE_FLOW_MOD is what `ovs-ofctl parse-flows` prints after the
 * command ("table:2 priority=5,tcp cookie:0x5 idle:10 actions=..."), and
 * FLOW_TEXT_STYLE_DUMP is the re-parsable dump-flows text without
 * statistics ("cookie=0x5, table=2, idle_timeout=10, priority=5,tcp
 * actions=...").
 *
 * Errors are one line, 'flow: <problem> in "<token>" (<expected>)'; on an
 * error nothing is left behind in the output arguments.
 *
 * Flow files (flow_text_parse_file()) are read as `ovs-ofctl add-flows`
 * reads them, for flowswitchd's --flows and add-flows and for
 * `flowswitch-parse flows` alike: one flow per line; '#' starts a comment
 * that runs to the end of the line; lines left blank (spaces, tabs, a
 * CR) are skipped; there is no line continuation (a backslash is an
 * ordinary character).  In an add file a line may start with a command
 * word, add, modify, modify_strict, delete or delete_strict, ended by white
 * space, a comma or the end of the line, that sets the mode of that line
 * alone; files of the other modes take no command words (ovs-ofctl's
 * mod-flows and del-flows files).  ovs-ofctl also takes abbreviations
 * ("mod", "del"), which its manual does not document: refused here.
 *
 * Thread safety: reentrant; a struct flow_text is owned by one thread at a
 * time.
 */
#ifndef FLOWSWITCH_FLOW_FLOW_TEXT_H
#define FLOWSWITCH_FLOW_FLOW_TEXT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow/flow.h"
#include "flow/ofpact.h"

struct ds;

enum flow_text_mode {
    FLOW_TEXT_ADD,           /* add-flow: actions required. */
    FLOW_TEXT_MODIFY,        /* mod-flows. */
    FLOW_TEXT_MODIFY_STRICT, /* mod-flows --strict: priority matters. */
    FLOW_TEXT_DELETE,        /* del-flows, dump-flows: no actions. */
    FLOW_TEXT_DELETE_STRICT, /* del-flows --strict: priority matters. */
};

enum flow_text_style {
    FLOW_TEXT_STYLE_FLOW_MOD, /* As `ovs-ofctl parse-flows` prints. */
    FLOW_TEXT_STYLE_DUMP,     /* As `ovs-ofctl dump-flows --no-stats`. */
};

/* Flow flags. */
#define FLOW_TEXT_SEND_FLOW_REM 0x01
#define FLOW_TEXT_CHECK_OVERLAP 0x02
#define FLOW_TEXT_RESET_COUNTS 0x04
#define FLOW_TEXT_NO_PACKET_COUNTS 0x08
#define FLOW_TEXT_NO_BYTE_COUNTS 0x10

#define FLOW_TEXT_DEFAULT_PRIORITY 32768
#define FLOW_TEXT_TABLE_ALL 255 /* Modify/delete: every table. */

struct flow_text {
    enum flow_text_mode mode;
    struct match match;
    uint16_t priority;     /* Default FLOW_TEXT_DEFAULT_PRIORITY. */
    uint8_t table_id;      /* ADD: default 0; MODIFY/DELETE: default
                            * FLOW_TEXT_TABLE_ALL. */
    bool set_cookie;       /* ADD/MODIFY: "cookie=V" was given. */
    uint64_t cookie;       /* ... and V, the cookie to give the flow. */
    uint64_t cookie_match; /* MODIFY/DELETE: "cookie=V/M" selects flows */
    uint64_t cookie_mask;  /* whose cookie & M == V & M (M = 0: all). */
    uint16_t idle_timeout; /* Seconds, 0 for none. */
    uint16_t hard_timeout; /* Seconds, 0 for none. */
    uint16_t importance;   /* ADD only. */
    uint32_t flags;        /* FLOW_TEXT_SEND_FLOW_REM ... */
    uint32_t out_port;     /* DELETE: OFPP_ANY, or only flows that output
                            * to this port. */
    struct ofpacts ofpacts;
    bool openflow10_match; /* ovs-ofctl would send the match as OpenFlow
                            * 1.0's (see flow_text_as_openflow10()). */
};

/* Parses one flow line in 'mode'.  On success initializes '*ft' (the caller
 * must flow_text_destroy() it) and returns 0.  On error returns EINVAL,
 * stores a one-line message in '*errorp' (the caller frees it) and leaves
 * '*ft' initialized to an empty flow that holds no memory. */
int flow_text_parse(const char *line, enum flow_text_mode mode,
                    struct flow_text *ft, char **errorp);
/* Initializes 'ft' to the defaults of 'mode' (catch-all, no actions). */
void flow_text_init(struct flow_text *ft, enum flow_text_mode mode);
void flow_text_destroy(struct flow_text *);
bool flow_text_equal(const struct flow_text *, const struct flow_text *);

/* Rewrites 'ft' into the flow a switch gets when `ovs-ofctl add-flow`
 * (mod-flows) sends it with its default protocol: OpenFlow 1.0 when the
 * match fits in OpenFlow 1.0's, which makes "vlan_vid=0" an exact match on
 * the whole TCI, and OpenFlow 1.0 actions with Nicira extensions, as
 * ofpacts_as_openflow10() says.  flowswitchd applies it to the flows it is
 * given as text, so that its dump-flows prints what Open vSwitch prints. */
void flow_text_as_openflow10(struct flow_text *);

/* Appends the canonical text of 'ft' in 'style'.  DELETE modes print no
 * actions. */
void flow_text_format(const struct flow_text *, enum flow_text_style,
                      struct ds *);

/* ---- Flow files --------------------------------------------------------- */

/* The command word of 'mode' in an add file: "add", "modify",
 * "modify_strict", "delete" or "delete_strict". */
const char *flow_text_mode_keyword(enum flow_text_mode);

struct flow_text_file_options {
    enum flow_text_mode mode; /* Of the lines without a command word. */
    size_t max_flows;         /* One flow line more is EFBIG; 0: no limit. */
    size_t max_errors;        /* Stop after this many bad lines; 0: never. */
};

/* What flow_text_parse_file() read. */
struct flow_text_file {
    struct flow_text *flows; /* The good lines' flows, in file order. */
    size_t n_flows, allocated_flows;
    char **errors; /* One line per bad line: "NAME:LINE: <message>". */
    size_t n_errors, allocated_errors;
    unsigned int n_lines; /* Lines read; on EFBIG, the line that was one
                           * flow too many. */
};

/* Reads every line of 'stream', the flow file called 'name' in messages,
 * into '*file' (which the caller frees with flow_text_file_destroy(),
 * whatever the result).  Returns 0 if every flow line parsed; EINVAL if
 * some did not (each in 'file->errors'; reading stops after
 * 'max_errors'); EFBIG at a flow line beyond 'max_flows' (reading stops:
 * the caller says why the file is too long); EIO on a read error (which
 * the caller reports: 'file->errors' holds only the bad lines before). */
int flow_text_parse_file(FILE *stream, const char *name,
                         const struct flow_text_file_options *,
                         struct flow_text_file *file);
void flow_text_file_destroy(struct flow_text_file *);

/* Parses a match alone: fields, sub-fields and shorthands, nothing else.
 * On success stores it in '*match' and returns 0; on error returns EINVAL
 * with a message in '*errorp' and leaves '*match' untouched. */
int match_from_string(const char *s, struct match *, char **errorp);

/* Appends OVS's text for 'match': "priority=N," first when 'priority' is
 * neither -1 nor FLOW_TEXT_DEFAULT_PRIORITY, then the fields in OVS's
 * order.  A catch-all match with no priority appends nothing. */
void match_format(const struct match *, int priority, struct ds *);

/* Key-value tokenizer shared by flows and actions, with ovs-ofctl's rules:
 * tokens are separated by commas and white space; a token is KEY,
 * KEY=VALUE, KEY:VALUE or KEY(VALUE); a value ends at a comma or white space
 * (KEY(...) at the matching parenthesis) outside parentheses. */
struct flow_text_token {
    char *key;   /* Empty for a token such as "=5". */
    char *value; /* "" when there is none. */
    char *text;  /* The token as written, for messages. */
};

/* Reads the next token from '*sp' into 'tok' (which the caller frees with
 * flow_text_token_free()) and advances '*sp'.  Returns false at the end. */
bool flow_text_next_token(const char **sp, struct flow_text_token *tok);
void flow_text_token_free(struct flow_text_token *);

#endif /* flow/flow-text.h */
