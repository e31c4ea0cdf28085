/*
 * flow/field.h — the field registry ("meta-fields") of the flow language.
 *
 * Every field that the ovs-ofctl compatible text syntax can match on, load
 * into, move from or set has one entry in a static table: its canonical
 * name (the Open vSwitch meta-field name, e.g. "eth_src"), the other names
 * the language accepts ("dl_src"), its NXM/OXM names for load/move
 * ("NXM_OF_ETH_SRC"), its width, where it lives in struct flow, whether it
 * can be masked or written, its prerequisites and how its values are
 * written.  flow-text.c (matches) and ofpact.c (actions) are built on it, so
 * a field is described once and parsed, formatted and checked the same way
 * everywhere.
 *
 * Values.  A field value travels as a union field_value holding the field's
 * 'n_bytes' bytes in network byte order, left-aligned in the union (a 16-bit
 * field is in 'be16', a MAC in 'mac').  Only the low 'n_bits' bits of that
 * big-endian number are meaningful; the rest are zero in every valid value
 * and mask.  Some fields are views of part of a flow member: dl_vlan is the
 * 12 VID bits of vlans[0].tci, ip_dscp the high 6 bits of nw_tos shifted
 * down, icmp_type the low byte of tp_src.  field_get_*()/field_set_*()
 * convert exactly the field's bits and leave the rest of the member alone.
 *
 * Prerequisites.  A field is meaningful only for some packets: tp_dst only
 * when the match says tcp, udp or sctp, nd_target only for ICMPv6 neighbour
 * discovery.  Each field has two prerequisites: 'match_prereq', what a match
 * must pin (dl_type, nw_proto, icmp_type) before it may match the field, and
 * 'prereq', what must hold for an action to read or write it.  They differ
 * only where the text syntax is more liberal for matching than for actions,
 * as in Open vSwitch: "arp,nw_src=..." matches the ARP sender address, but
 * set_field:...->ip_src needs IPv4; dl_vlan may be matched on untagged frames
 * ("dl_vlan=0xffff") but set only when a tag is there.
 *
 * Errors.  Parsers here and in flow-text.c/ofpact.c report one line of the
 * form 'flow: <problem> in "<token>" (<what was expected>)' built with
 * field_error(); the caller owns the string.
 *
 * Thread safety: the table is constant; every function is reentrant.
 */
#ifndef FLOWSWITCH_FLOW_FIELD_H
#define FLOWSWITCH_FLOW_FIELD_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"
#include "lib/util.h"
#include "packet/headers.h"

struct ds;

enum field_id {
    FIELD_IN_PORT,
    FIELD_METADATA,
    FIELD_REG0,
    FIELD_REG1,
    FIELD_REG2,
    FIELD_REG3,
    FIELD_REG4,
    FIELD_REG5,
    FIELD_REG6,
    FIELD_REG7,
    FIELD_ETH_SRC,
    FIELD_ETH_DST,
    FIELD_ETH_TYPE,
    FIELD_VLAN_TCI,
    FIELD_DL_VLAN,     /* 12-bit VID of vlans[0]. */
    FIELD_DL_VLAN_PCP, /* 3-bit PCP of vlans[0]. */
    FIELD_VLAN_VID,    /* OF1.2+: VID plus the "present" bit (0x1000). */
    FIELD_VLAN_PCP,    /* OF1.2+: same bits as dl_vlan_pcp. */
    FIELD_IP_SRC,
    FIELD_IP_DST,
    FIELD_IPV6_SRC,
    FIELD_IPV6_DST,
    FIELD_IPV6_LABEL,
    FIELD_NW_PROTO,
    FIELD_NW_TOS, /* The DSCP bits in place: a multiple of 4. */
    FIELD_IP_DSCP,
    FIELD_NW_ECN,
    FIELD_NW_TTL,
    FIELD_IP_FRAG,
    FIELD_ARP_OP,
    FIELD_ARP_SPA,
    FIELD_ARP_TPA,
    FIELD_ARP_SHA,
    FIELD_ARP_THA,
    FIELD_TP_SRC, /* Generic L4 port for tcp, udp or sctp. */
    FIELD_TP_DST,
    FIELD_TCP_SRC,
    FIELD_TCP_DST,
    FIELD_UDP_SRC,
    FIELD_UDP_DST,
    FIELD_SCTP_SRC,
    FIELD_SCTP_DST,
    FIELD_TCP_FLAGS,
    FIELD_ICMP_TYPE,
    FIELD_ICMP_CODE,
    FIELD_ICMPV6_TYPE,
    FIELD_ICMPV6_CODE,
    FIELD_ND_TARGET,
    FIELD_ND_SLL,
    FIELD_ND_TLL,
    FIELD_TUN_ID,     /* tunnel_id, 64 bits. */
    FIELD_MPLS_LABEL, /* 20-bit label of mpls_lse. */
    FIELD_MPLS_TC,    /* 3-bit traffic class of mpls_lse. */
    FIELD_MPLS_BOS,   /* Bottom-of-stack bit of mpls_lse (read-only). */
    FIELD_MPLS_TTL,   /* 8-bit TTL of mpls_lse. */
    FIELD_N_IDS
};

/* What a match must say before a field makes sense. */
enum field_prereq {
    FIELD_PREREQ_NONE,
    FIELD_PREREQ_VLAN,       /* A VLAN tag is present. */
    FIELD_PREREQ_ARP,        /* arp or rarp. */
    FIELD_PREREQ_IPV4,       /* ip. */
    FIELD_PREREQ_IPV6,       /* ipv6. */
    FIELD_PREREQ_IP_ANY,     /* ip or ipv6. */
    FIELD_PREREQ_IPV4_ARP,   /* ip, arp or rarp. */
    FIELD_PREREQ_IP_ANY_ARP, /* ip, ipv6, arp or rarp. */
    FIELD_PREREQ_TCP,        /* tcp or tcp6. */
    FIELD_PREREQ_UDP,        /* udp or udp6. */
    FIELD_PREREQ_SCTP,       /* sctp or sctp6. */
    FIELD_PREREQ_L4,         /* tcp, udp or sctp, over IPv4 or IPv6. */
    FIELD_PREREQ_ICMPV4,     /* icmp. */
    FIELD_PREREQ_ICMPV6,     /* icmp6. */
    FIELD_PREREQ_ICMP_ANY,   /* icmp or icmp6. */
    FIELD_PREREQ_ND,         /* icmp6, icmp_type 135 or 136, code 0. */
    FIELD_PREREQ_ND_SOLICIT, /* icmp6, icmp_type 135, code 0. */
    FIELD_PREREQ_ND_ADVERT,  /* icmp6, icmp_type 136, code 0. */
    FIELD_PREREQ_MPLS,       /* mpls or mplsm. */
};

/* How values of a field are written. */
enum field_format {
    FIELD_FORMAT_DECIMAL,
    FIELD_FORMAT_HEX,
    FIELD_FORMAT_ETHERNET,
    FIELD_FORMAT_IPV4,
    FIELD_FORMAT_IPV6,
    FIELD_FORMAT_PORT,      /* OpenFlow port number or name (LOCAL, ...). */
    FIELD_FORMAT_FRAG,      /* no, yes, first, later, not_later. */
    FIELD_FORMAT_TCP_FLAGS, /* +syn-ack, syn|ack or numbers. */
};

#define FIELD_MAX_BYTES 16

union field_value {
    uint8_t u8;
    be16 be16;
    be32 be32;
    be64 be64;
    struct eth_addr mac;
    struct in6_addr ipv6;
    uint8_t b[FIELD_MAX_BYTES];
};

struct field {
    const char *name;       /* Canonical name, as set_field prints it. */
    const char *aliases[4]; /* Other accepted names; NULL-terminated. */
    const char *nxm_name;   /* Name printed in load/move, or NULL. */
    const char *oxm_name;   /* Another NXM/OXM name accepted, or NULL. */
    enum field_id id;
    enum field_prereq prereq;       /* To read or write it in actions. */
    enum field_prereq match_prereq; /* To match on it. */
    enum field_format format;
    uint16_t flow_ofs; /* Offset of the backing member in struct flow. */
    uint8_t flow_size; /* Size of that member. */
    uint8_t n_bytes;   /* Width of a value in union field_value. */
    uint8_t n_bits;    /* Meaningful low bits (<= 8 * n_bytes). */
    bool maskable;     /* Arbitrary masks allowed when matching. */
    bool writable;     /* set_field / load / move destination. */
};

/* ---- The table ---------------------------------------------------------- */

const struct field *field_from_id(enum field_id);
/* The field called 'name' (canonical name or alias, case-sensitive, as
 * ovs-ofctl matches accept them), or NULL. */
const struct field *field_from_name(const char *name);
/* Like field_from_name(), but also accepts NXM/OXM names such as
 * "NXM_NX_REG0" or "OXM_OF_METADATA" (the names load/move use). */
const struct field *field_from_any_name(const char *name);
/* 'len' bytes of 'name' (not NUL-terminated). */
const struct field *field_from_any_name_len(const char *name, size_t len);

/* The closest of 'candidates' (NULL-terminated) to 'word' by edit distance,
 * if it is close enough to be a plausible typo, otherwise NULL. */
const char *field_suggest_word(const char *word,
                               const char *const candidates[]);
/* The closest field name or alias to 'name', or NULL. */
const char *field_suggest(const char *name);
/* Optimal-string-alignment edit distance (insert, delete, substitute,
 * swap adjacent). */
unsigned int field_edit_distance(const char *a, const char *b);

/* ---- Values ------------------------------------------------------------- */

/* Sets 'v' to the all-ones value of 'field' (its 'n_bits' low bits). */
void field_all_ones(const struct field *, union field_value *v);
bool field_value_is_zero(const struct field *, const union field_value *);
bool field_value_is_all_ones(const struct field *, const union field_value *);
/* True if 'v' has no bit beyond the field's width and is a legal value
 * (e.g. nw_tos has its two low bits clear). */
bool field_value_is_valid(const struct field *, const union field_value *);
/* dst = a & b over the field's bytes. */
void field_value_and(const struct field *, union field_value *dst,
                     const union field_value *a, const union field_value *b);
bool field_value_equal(const struct field *, const union field_value *,
                       const union field_value *);

/* Reads or writes exactly the field's bits of a flow. */
void field_get_flow(const struct field *, const struct flow *,
                    union field_value *);
void field_set_flow(const struct field *, const union field_value *,
                    struct flow *);

/* The value and mask 'match' has for 'field' (value pre-masked). */
void field_get_match(const struct field *, const struct match *,
                     union field_value *value, union field_value *mask);
/* Replaces the field's bits of 'match' by 'value' & 'mask' and 'mask'.  Bits
 * of the same flow member outside the field are kept.  Does not check the
 * prerequisites. */
void field_set_match(const struct field *, const union field_value *value,
                     const union field_value *mask, struct match *);
/* True if 'match' matches any bit of 'field'. */
bool field_is_matched(const struct field *, const struct match *);

/* ---- Prerequisites ------------------------------------------------------ */

/* True if 'match' pins what 'prereq' needs: an exact match on dl_type (and
 * nw_proto, icmp_type ...) with the right value. */
bool field_prereq_satisfied(enum field_prereq, const struct match *);
/* True if 'match' may match on 'field' (its match_prereq holds). */
bool field_prereqs_ok(const struct field *, const struct match *);
/* Human description of a prerequisite, e.g. "a protocol (tcp, udp or
 * sctp)", for messages of the form "<field> requires <description>". */
const char *field_prereq_describe(enum field_prereq);

/* ---- Text --------------------------------------------------------------- */

/* Returns a new error string 'flow: <fmt...> in "<ctx>" (<hint>)'; 'ctx'
 * and 'hint' may be NULL to leave those parts out. */
char *field_error(const char *ctx, const char *hint, const char *fmt, ...)
    PRINTF_FORMAT(3, 4);

/* Parses 's' as "VALUE" or "VALUE/MASK" for 'field' and stores them (the
 * mask is all-ones when absent; the value is masked).  Checks the value
 * fits the field and, unless the field is maskable, that the mask is
 * all-ones or all-zeros.  'ctx' is the token quoted in errors.  Returns 0,
 * or EINVAL with a message in '*errorp'. */
int field_parse_value(const struct field *, const char *s, const char *ctx,
                      union field_value *value, union field_value *mask,
                      char **errorp);
/* Appends 'value' ('/mask' too when 'mask' is nonnull and not all-ones) as
 * set_field prints it. */
void field_format_value(const struct field *, const union field_value *value,
                        const union field_value *mask, struct ds *);

/* Parses an OpenFlow port: a decimal number below 65536, an OpenFlow 1.1
 * 32-bit reserved port (0xffffff00 and up, written in decimal), or a name
 * (IN_PORT, TABLE, NORMAL, FLOOD, ALL, CONTROLLER, LOCAL, ANY/NONE; any
 * case).  Returns false on anything else. */
bool field_parse_port(const char *s, uint32_t *port);
/* Appends 'port' as ovs-ofctl prints it: the reserved name or the number. */
void field_format_port(uint32_t port, struct ds *);

/* Parses an unsigned integer as strtoull(s, NULL, 0) would: 0x-prefixed
 * hex, 0-prefixed octal or decimal, all of 's'.  Returns false on bad
 * syntax or a value above 'max'. */
bool field_parse_uint(const char *s, uint64_t max, uint64_t *valuep);
/* Parses the unsigned integer 's' (syntax as field_parse_uint(), except that
 * hex may have any number of digits) into the big-endian 'n_bytes'-byte
 * value 'v'.  Returns 0, EINVAL for bad syntax or ERANGE if the value needs
 * more than 'n_bits' bits. */
int field_parse_wide_uint(const char *s, unsigned int n_bytes,
                          unsigned int n_bits, union field_value *v);

/* ---- Sub-fields (NAME[], NAME[n], NAME[a..b]) --------------------------- */

struct field_subfield {
    const struct field *field;
    unsigned int ofs;    /* Lowest bit, counting from the least significant
                          * bit of the field's value. */
    unsigned int n_bits; /* At least 1. */
};

/* Parses "NAME", "NAME[]", "NAME[BIT]" or "NAME[START..END]" from the start
 * of 's' (any field name, including NXM/OXM names) and stores the end of
 * what it parsed in '*endp'.  'ctx' is quoted in errors. */
int field_parse_subfield(const char *s, const char *ctx,
                         struct field_subfield *, const char **endp,
                         char **errorp);
/* Appends 'sf' as ovs-ofctl prints it: the NXM name (or the field name when
 * there is none), then "[]", "[n]" or "[a..b]". */
void field_format_subfield(const struct field_subfield *, struct ds *);
bool field_subfield_equal(const struct field_subfield *,
                          const struct field_subfield *);

/* Bit helpers over big-endian values of 'n_bytes' bytes: bit 0 is the least
 * significant bit of the last byte. */
bool field_bit_get(const uint8_t *, unsigned int n_bytes, unsigned int bit);
void field_bit_set(uint8_t *, unsigned int n_bytes, unsigned int bit, bool on);
/* Copies 'n_bits' bits from bit 'src_ofs' of 'src' to bit 'dst_ofs' of
 * 'dst'. */
void field_bits_copy(const uint8_t *src, unsigned int src_n_bytes,
                     unsigned int src_ofs, uint8_t *dst,
                     unsigned int dst_n_bytes, unsigned int dst_ofs,
                     unsigned int n_bits);

#endif /* flow/field.h */
