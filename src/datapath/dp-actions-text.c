/* datapath/dp-actions-text.c — datapath action lists as text, and back
 * (dp_actions_format() and dp_actions_from_string() in dp-actions.h, which
 * gives the syntax: that of `ovs-dpctl dump-flows`).
 *
 * Kept apart from dp-actions.c, which builds the lists and runs the rewrites
 * on the fast path: nothing here runs per packet.  Parsing builds its list
 * through struct dp_action_buf, as translation does. */
#include "datapath/dp-actions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dynamic-string.h"
#include "lib/util.h"
#include "packet/headers.h"

/* ---- Formatting --------------------------------------------------------- */

static const char *const dp_set_header_names[DP_SET_N_HEADERS] = {
    [DP_SET_ETH] = "eth",       [DP_SET_VLAN] = "vlan", [DP_SET_IPV4] = "ipv4",
    [DP_SET_IPV6] = "ipv6",     [DP_SET_TCP] = "tcp",   [DP_SET_UDP] = "udp",
    [DP_SET_SCTP] = "sctp",     [DP_SET_ARP] = "arp",   [DP_SET_ICMP] = "icmp",
    [DP_SET_ICMPV6] = "icmpv6", [DP_SET_ND] = "nd",     [DP_SET_MPLS] = "mpls",
};

/* One field of a set(HEADER(...)) action other than vlan's: its name, where
 * it is in the header's struct dp_set_*, and how it is written.  Formatting
 * goes in table order, parsing looks the name up: one table says both. */
enum dp_set_field_kind {
    DP_FIELD_ETH,  /* struct eth_addr. */
    DP_FIELD_IPV4, /* be32, dotted quad. */
    DP_FIELD_IPV6, /* struct in6_addr. */
    DP_FIELD_INT,  /* 1 byte, or 2 or 4 in network order. */
};

struct dp_set_field_desc {
    const char *name;
    size_t ofs;
    size_t size;
    enum dp_set_field_kind kind;
    uint32_t max; /* DP_FIELD_INT only: the all-ones mask. */
    bool hex;     /* DP_FIELD_INT only: the value printed in hex. */
};

#define DP_FIELD(S, M, KIND, MAX, HEX)                                        \
    {                                                                         \
#M, offsetof(S, M), sizeof(((S *)NULL)->M), KIND, MAX, HEX            \
    }
#define DP_ETH(S, M) DP_FIELD(S, M, DP_FIELD_ETH, 0, false)
#define DP_IPV4(S, M) DP_FIELD(S, M, DP_FIELD_IPV4, 0, false)
#define DP_IPV6(S, M) DP_FIELD(S, M, DP_FIELD_IPV6, 0, false)
#define DP_INT(S, M, MAX, HEX) DP_FIELD(S, M, DP_FIELD_INT, MAX, HEX)

/* The bytes of one address field, whichever its kind. */
union dp_field_bytes {
    struct eth_addr eth;
    be32 ip;
    struct in6_addr ip6;
};

static const struct dp_set_field_desc dp_eth_fields[] = {
    DP_ETH(struct dp_set_eth, src),
    DP_ETH(struct dp_set_eth, dst),
};
static const struct dp_set_field_desc dp_ipv4_fields[] = {
    DP_IPV4(struct dp_set_ipv4, src),
    DP_IPV4(struct dp_set_ipv4, dst),
    DP_INT(struct dp_set_ipv4, tos, 0xff, true),
    DP_INT(struct dp_set_ipv4, ttl, 0xff, false),
};
static const struct dp_set_field_desc dp_ipv6_fields[] = {
    DP_IPV6(struct dp_set_ipv6, src),
    DP_IPV6(struct dp_set_ipv6, dst),
    DP_INT(struct dp_set_ipv6, label, IPV6_LABEL_MASK, true),
    DP_INT(struct dp_set_ipv6, tclass, 0xff, true),
    DP_INT(struct dp_set_ipv6, hlimit, 0xff, false),
};
static const struct dp_set_field_desc dp_l4_fields[] = {
    DP_INT(struct dp_set_l4, src, 0xffff, false),
    DP_INT(struct dp_set_l4, dst, 0xffff, false),
};
static const struct dp_set_field_desc dp_arp_fields[] = {
    DP_IPV4(struct dp_set_arp, sip),
    DP_IPV4(struct dp_set_arp, tip),
    DP_INT(struct dp_set_arp, op, 0xffff, false),
    DP_ETH(struct dp_set_arp, sha),
    DP_ETH(struct dp_set_arp, tha),
};
static const struct dp_set_field_desc dp_icmp_fields[] = {
    DP_INT(struct dp_set_icmp, type, 0xff, false),
    DP_INT(struct dp_set_icmp, code, 0xff, false),
};
static const struct dp_set_field_desc dp_nd_fields[] = {
    DP_IPV6(struct dp_set_nd, target),
    DP_ETH(struct dp_set_nd, sll),
    DP_ETH(struct dp_set_nd, tll),
};

/* The fields of each header; none for vlan, whose vid and pcp share the
 * TCI (dp_format_vlan(), dp_parse_vlan_field()), and none for mpls, whose
 * fields share the label stack entry (dp_mpls_bits). */
struct dp_set_field_list {
    const struct dp_set_field_desc *fields;
    size_t n;
};

#define DP_FIELD_LIST(ARRAY)                                                  \
    {                                                                         \
        ARRAY, ARRAY_SIZE(ARRAY)                                              \
    }
static const struct dp_set_field_list dp_set_field_lists[DP_SET_N_HEADERS] = {
    [DP_SET_ETH] = DP_FIELD_LIST(dp_eth_fields),
    [DP_SET_IPV4] = DP_FIELD_LIST(dp_ipv4_fields),
    [DP_SET_IPV6] = DP_FIELD_LIST(dp_ipv6_fields),
    [DP_SET_TCP] = DP_FIELD_LIST(dp_l4_fields),
    [DP_SET_UDP] = DP_FIELD_LIST(dp_l4_fields),
    [DP_SET_SCTP] = DP_FIELD_LIST(dp_l4_fields),
    [DP_SET_ARP] = DP_FIELD_LIST(dp_arp_fields),
    [DP_SET_ICMP] = DP_FIELD_LIST(dp_icmp_fields),
    [DP_SET_ICMPV6] = DP_FIELD_LIST(dp_icmp_fields),
    [DP_SET_ND] = DP_FIELD_LIST(dp_nd_fields),
};

/* The integer of 'size' bytes at 'p' (network order for 2 and 4). */
static uint32_t
dp_get_int(const uint8_t *p, size_t size)
{
    be16 x16;
    be32 x32;

    switch (size) {
    case 2:
        memcpy(&x16, p, 2);
        return ntohs(x16);
    case 4:
        memcpy(&x32, p, 4);
        return ntohl(x32);
    default:
        return *p;
    }
}

static void
dp_set_int(uint8_t *p, size_t size, uint32_t x)
{
    be16 x16 = htons((uint16_t)x);
    be32 x32 = htonl(x);

    switch (size) {
    case 2:
        memcpy(p, &x16, 2);
        break;
    case 4:
        memcpy(p, &x32, 4);
        break;
    default:
        *p = (uint8_t)x;
        break;
    }
}

static void
dp_put_eth_field(struct ds *s, const char *name, struct eth_addr v,
                 struct eth_addr m)
{
    if (eth_addr_is_zero(m)) {
        return;
    }
    ds_put_format(s, "%s=" ETH_ADDR_FMT, name, ETH_ADDR_ARGS(v));
    if (!eth_addr_is_broadcast(m)) {
        ds_put_format(s, "/" ETH_ADDR_FMT, ETH_ADDR_ARGS(m));
    }
    ds_put_char(s, ',');
}

static void
dp_put_ip_field(struct ds *s, const char *name, be32 v, be32 m)
{
    if (!m) {
        return;
    }
    ds_put_format(s, "%s=" IP_FMT, name, IP_ARGS(v));
    if (m != UINT32_MAX) {
        ds_put_format(s, "/" IP_FMT, IP_ARGS(m));
    }
    ds_put_char(s, ',');
}

static void
dp_put_ipv6_field(struct ds *s, const char *name, const struct in6_addr *v,
                  const struct in6_addr *m)
{
    char buf[INET6_ADDRSTRLEN];

    if (is_all_zeros(m, sizeof *m)) {
        return;
    }
    inet_ntop(AF_INET6, v, buf, sizeof buf);
    ds_put_format(s, "%s=%s", name, buf);
    if (!is_all_ones(m, sizeof *m)) {
        inet_ntop(AF_INET6, m, buf, sizeof buf);
        ds_put_format(s, "/%s", buf);
    }
    ds_put_char(s, ',');
}

/* An integer field: decimal value, hex mask when partial ('full' is the
 * all-ones mask of the field); 'hex' prints the value in hex too. */
static void
dp_put_int_field(struct ds *s, const char *name, uint32_t v, uint32_t m,
                 uint32_t full, bool hex)
{
    if (!m) {
        return;
    }
    ds_put_format(s, hex ? "%s=0x%" PRIx32 : "%s=%" PRIu32, name, v);
    if (m != full) {
        ds_put_format(s, "/0x%" PRIx32, m);
    }
    ds_put_char(s, ',');
}

/* One field of a set action from the value and mask bytes of its header. */
static void
dp_put_set_field(struct ds *s, const struct dp_set_field_desc *d,
                 const uint8_t *v, const uint8_t *m)
{
    union dp_field_bytes fv, fm;

    if (d->kind == DP_FIELD_INT) {
        dp_put_int_field(s, d->name, dp_get_int(v + d->ofs, d->size),
                         dp_get_int(m + d->ofs, d->size), d->max, d->hex);
        return;
    }
    memcpy(&fv, v + d->ofs, d->size);
    memcpy(&fm, m + d->ofs, d->size);
    if (d->kind == DP_FIELD_ETH) {
        dp_put_eth_field(s, d->name, fv.eth, fm.eth);
    } else if (d->kind == DP_FIELD_IPV4) {
        dp_put_ip_field(s, d->name, fv.ip, fm.ip);
    } else {
        dp_put_ipv6_field(s, d->name, &fv.ip6, &fm.ip6);
    }
}

static void
dp_format_vlan(const struct dp_set_vlan *v, const struct dp_set_vlan *m,
               struct ds *s)
{
    uint32_t tv = ntohs(v->tci), tm = ntohs(m->tci);

    dp_put_int_field(s, "vid", tv & VLAN_VID_MASK, tm & VLAN_VID_MASK,
                     VLAN_VID_MASK, false);
    dp_put_int_field(s, "pcp", tv >> VLAN_PCP_SHIFT, tm >> VLAN_PCP_SHIFT, 7,
                     false);
}

/* The fields of set(mpls(...)), as Open vSwitch names them: bits of the
 * label stack entry. */
static const struct {
    const char *name;
    uint32_t mask;
    unsigned int shift;
} dp_mpls_bits[] = {
    {"label", MPLS_LABEL_MASK, MPLS_LABEL_SHIFT},
    {"tc", MPLS_TC_MASK, MPLS_TC_SHIFT},
    {"ttl", MPLS_TTL_MASK, 0},
    {"bos", MPLS_BOS_MASK, MPLS_BOS_SHIFT},
};

static void
dp_format_mpls(const struct dp_set_mpls *v, const struct dp_set_mpls *m,
               struct ds *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(dp_mpls_bits); i++) {
        uint32_t mask = dp_mpls_bits[i].mask;
        unsigned int shift = dp_mpls_bits[i].shift;

        dp_put_int_field(
            s, dp_mpls_bits[i].name, (ntohl(v->lse) & mask) >> shift,
            (ntohl(m->lse) & mask) >> shift, mask >> shift, false);
    }
}

static void
dp_format_set(const struct dp_action *a, struct ds *s)
{
    const struct dp_set_field_list *list = &dp_set_field_lists[a->set.header];
    size_t start;

    ds_put_format(s, "set(%s(", dp_set_header_names[a->set.header]);
    start = s->length;
    if (a->set.header == DP_SET_VLAN) {
        dp_format_vlan(&a->set.value.vlan, &a->set.mask.vlan, s);
    } else if (a->set.header == DP_SET_MPLS) {
        dp_format_mpls(&a->set.value.mpls, &a->set.mask.mpls, s);
    }
    for (size_t i = 0; i < list->n; i++) {
        dp_put_set_field(s, &list->fields[i], (const uint8_t *)&a->set.value,
                         (const uint8_t *)&a->set.mask);
    }
    if (s->length > start) {
        ds_chomp(s, ",");
    }
    ds_put_cstr(s, "))");
}

/* Open vSwitch's push_mpls(label=L,tc=T,ttl=TTL,bos=B,eth_type=E). */
static void
dp_format_push_mpls(const struct dp_action *a, struct ds *s)
{
    uint32_t lse = ntohl(a->push_mpls.lse);

    ds_put_format(s,
                  "push_mpls(label=%" PRIu32 ",tc=%" PRIu32 ",ttl=%" PRIu32
                  ",bos=%" PRIu32 ",eth_type=0x%x)",
                  (lse & MPLS_LABEL_MASK) >> MPLS_LABEL_SHIFT,
                  (lse & MPLS_TC_MASK) >> MPLS_TC_SHIFT, lse & MPLS_TTL_MASK,
                  (lse & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT,
                  ntohs(a->push_mpls.ethertype));
}

void
dp_action_format(const struct dp_action *a, struct ds *s)
{
    switch (a->type) {
    case DP_ACTION_OUTPUT:
        ds_put_format(s, "%" PRIu32, a->port);
        break;
    case DP_ACTION_SET:
        dp_format_set(a, s);
        break;
    case DP_ACTION_PUSH_VLAN: {
        uint32_t tci = ntohs(a->push_vlan.tci);

        ds_put_cstr(s, "push_vlan(");
        if (a->push_vlan.tpid != htons(ETH_TYPE_VLAN_8021Q)) {
            ds_put_format(s, "tpid=0x%04x,", ntohs(a->push_vlan.tpid));
        }
        ds_put_format(s, "vid=%u,pcp=%u", tci & VLAN_VID_MASK,
                      tci >> VLAN_PCP_SHIFT);
        if (tci & VLAN_CFI) {
            ds_put_cstr(s, ",cfi=1");
        }
        ds_put_char(s, ')');
        break;
    }
    case DP_ACTION_POP_VLAN:
        ds_put_cstr(s, "pop_vlan");
        break;
    case DP_ACTION_PUSH_MPLS:
        dp_format_push_mpls(a, s);
        break;
    case DP_ACTION_POP_MPLS:
        ds_put_format(s, "pop_mpls(eth_type=0x%x)",
                      ntohs(a->pop_mpls_ethertype));
        break;
    case DP_ACTION_USERSPACE:
        ds_put_cstr(s, "userspace(");
        if (a->userspace.len) {
            ds_put_cstr(s, "userdata(");
            ds_put_hex(s, a->userspace.data, a->userspace.len);
            ds_put_char(s, ')');
        }
        ds_put_char(s, ')');
        break;
    case DP_ACTION_METER:
        ds_put_format(s, "meter(%" PRIu32 ")", a->meter_id);
        break;
    case DP_ACTION_RECIRC:
        ds_put_format(s, "recirc(%#" PRIx32 ")", a->recirc_id);
        break;
    default:
        ds_put_cstr(s, "<unknown>");
        break;
    }
}

void
dp_actions_format(const struct dp_actions *actions, struct ds *s)
{
    if (!actions || !actions->n) {
        ds_put_cstr(s, "drop");
        return;
    }
    for (uint32_t i = 0; i < actions->n; i++) {
        if (i) {
            ds_put_char(s, ',');
        }
        dp_action_format(&actions->a[i], s);
    }
}

/* ---- Parsing ------------------------------------------------------------ */

/* Sets '*errorp' to a one-line message and returns EINVAL. */
static int PRINTF_FORMAT(2, 3)
    dp_parse_error(char **errorp, const char *fmt, ...)
{
    va_list args;
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, "dp-actions: ");
    va_start(args, fmt);
    ds_put_format_valist(&s, fmt, args);
    va_end(args);
    *errorp = ds_steal_cstr(&s);
    return EINVAL;
}

/* Cuts the next comma-separated item (commas inside parentheses do not
 * count) off '*sp', NUL-terminates it, trims white space and returns it, or
 * NULL at the end.  Sets '*unbalanced' if the parentheses do not match. */
static char *
dp_next_item(char **sp, bool *unbalanced)
{
    char *s = *sp, *start, *end;
    int depth = 0;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (!*s) {
        *sp = s;
        return NULL;
    }
    start = s;
    for (; *s; s++) {
        if (*s == '(') {
            depth++;
        } else if (*s == ')') {
            if (--depth < 0) {
                *unbalanced = true;
            }
        } else if (*s == ',' && !depth) {
            break;
        }
    }
    if (depth) {
        *unbalanced = true;
    }
    end = s;
    *sp = *s ? s + 1 : s;
    *end = '\0';
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
        *--end = '\0';
    }
    return start;
}

/* Splits "name(args)" into name and args (NULL if there are no
 * parentheses).  Returns false if the item is malformed. */
static bool
dp_split_call(char *item, char **namep, char **argsp)
{
    char *open = strchr(item, '(');
    size_t len = strlen(item);

    *namep = item;
    *argsp = NULL;
    if (!open) {
        return true;
    }
    if (item[len - 1] != ')') {
        return false;
    }
    *open = '\0';
    item[len - 1] = '\0';
    *argsp = open + 1;
    return true;
}

static bool
dp_parse_uint(const char *s, uint64_t max, uint64_t *valuep)
{
    char *end;
    unsigned long long v;

    if (!*s || *s == '-' || *s == '+' || *s == ' ') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end || v > max) {
        return false;
    }
    *valuep = v;
    return true;
}

/* The value of hex digit 'c', or -1. */
static int
dp_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Parses one or two hex digits at '*sp' into '*bytep' and advances. */
static bool
dp_parse_hex_byte(const char **sp, uint8_t *bytep)
{
    const char *s = *sp;
    int hi = dp_hex_digit(s[0]);
    int lo;

    if (hi < 0) {
        return false;
    }
    lo = dp_hex_digit(s[1]);
    if (lo < 0) {
        *bytep = (uint8_t)hi;
        *sp = s + 1;
    } else {
        *bytep = (uint8_t)(hi << 4 | lo);
        *sp = s + 2;
    }
    return true;
}

static bool
dp_parse_eth(const char *s, struct eth_addr *ea)
{
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        if (!dp_parse_hex_byte(&s, &ea->ea[i])
            || *s++ != (i < ETH_ADDR_LEN - 1 ? ':' : '\0')) {
            return false;
        }
    }
    return true;
}

/* A value and optional "/mask" of one field, split in place. */
static void
dp_split_mask(char *value, char **maskp)
{
    char *slash = strchr(value, '/');

    *maskp = NULL;
    if (slash) {
        *slash = '\0';
        *maskp = slash + 1;
    }
}

/* Parses an IPv4 mask: a dotted quad or a prefix length. */
static bool
dp_parse_ip_mask(const char *s, be32 *maskp)
{
    uint64_t plen;

    if (strchr(s, '.')) {
        return inet_pton(AF_INET, s, maskp) == 1;
    }
    if (!dp_parse_uint(s, 32, &plen)) {
        return false;
    }
    *maskp = plen ? htonl(UINT32_MAX << (32 - plen)) : 0;
    return true;
}

static bool
dp_parse_ipv6_mask(const char *s, struct in6_addr *maskp)
{
    uint64_t plen;

    if (strchr(s, ':')) {
        return inet_pton(AF_INET6, s, maskp) == 1;
    }
    if (!dp_parse_uint(s, 128, &plen)) {
        return false;
    }
    memset(maskp, 0, sizeof *maskp);
    for (unsigned int i = 0; i < plen; i++) {
        maskp->s6_addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    }
    return true;
}

/* Parses an integer field "V[/M]" whose all-ones mask is 'full'. */
static bool
dp_parse_int_field(char *text, uint32_t full, uint32_t *vp, uint32_t *mp)
{
    uint64_t v, m = full;
    char *mask;

    dp_split_mask(text, &mask);
    if (!dp_parse_uint(text, full, &v)
        || (mask && !dp_parse_uint(mask, full, &m))) {
        return false;
    }
    *vp = (uint32_t)(v & m);
    *mp = (uint32_t)m;
    return true;
}

/* An Ethernet address "V[/M]". */
static bool
dp_parse_eth_field(char *text, struct eth_addr *vp, struct eth_addr *mp)
{
    char *mask;

    dp_split_mask(text, &mask);
    *mp = ETH_ADDR_BROADCAST;
    return dp_parse_eth(text, vp) && (!mask || dp_parse_eth(mask, mp));
}

/* An IPv4 address "V[/M]", the mask a dotted quad or a prefix length. */
static bool
dp_parse_ip_field(char *text, be32 *vp, be32 *mp)
{
    char *mask;

    dp_split_mask(text, &mask);
    *mp = UINT32_MAX;
    return inet_pton(AF_INET, text, vp) == 1
           && (!mask || dp_parse_ip_mask(mask, mp));
}

/* An IPv6 address "V[/M]", the mask an address or a prefix length. */
static bool
dp_parse_ipv6_field(char *text, struct in6_addr *vp, struct in6_addr *mp)
{
    char *mask;

    dp_split_mask(text, &mask);
    memset(mp, 0xff, sizeof *mp);
    return inet_pton(AF_INET6, text, vp) == 1
           && (!mask || dp_parse_ipv6_mask(mask, mp));
}

/* An integer field "V[/M]" of 'size' bytes whose all-ones mask is 'max'. */
static bool
dp_parse_int_bytes(char *text, size_t size, uint32_t max, uint8_t *vp,
                   uint8_t *mp)
{
    uint32_t iv, im;

    if (!dp_parse_int_field(text, max, &iv, &im)) {
        return false;
    }
    dp_set_int(vp, size, iv);
    dp_set_int(mp, size, im);
    return true;
}

/* vid and pcp add their bits to the TCI, tci sets all of it. */
static bool
dp_parse_vlan_field(const char *key, char *text, struct dp_set_vlan *v,
                    struct dp_set_vlan *m)
{
    uint32_t iv, im;

    if (!strcmp(key, "vid")) {
        if (!dp_parse_int_field(text, VLAN_VID_MASK, &iv, &im)) {
            return false;
        }
        v->tci |= htons((uint16_t)iv);
        m->tci |= htons((uint16_t)im);
        return true;
    }
    if (!strcmp(key, "pcp")) {
        if (!dp_parse_int_field(text, 7, &iv, &im)) {
            return false;
        }
        v->tci |= htons((uint16_t)(iv << VLAN_PCP_SHIFT));
        m->tci |= htons((uint16_t)(im << VLAN_PCP_SHIFT));
        return true;
    }
    if (!strcmp(key, "tci")) {
        return dp_parse_int_bytes(text, sizeof v->tci, 0xffff,
                                  (uint8_t *)&v->tci, (uint8_t *)&m->tci);
    }
    return false;
}

/* One field of the table entry 'd' into the value and mask bytes 'v' and
 * 'm' of its header. */
static bool
dp_parse_table_field(const struct dp_set_field_desc *d, char *text, uint8_t *v,
                     uint8_t *m)
{
    union dp_field_bytes fv, fm;
    bool ok;

    if (d->kind == DP_FIELD_INT) {
        return dp_parse_int_bytes(text, d->size, d->max, v + d->ofs,
                                  m + d->ofs);
    }
    ok = d->kind == DP_FIELD_ETH ? dp_parse_eth_field(text, &fv.eth, &fm.eth)
         : d->kind == DP_FIELD_IPV4
             ? dp_parse_ip_field(text, &fv.ip, &fm.ip)
             : dp_parse_ipv6_field(text, &fv.ip6, &fm.ip6);
    if (ok) {
        memcpy(v + d->ofs, &fv, d->size);
        memcpy(m + d->ofs, &fm, d->size);
    }
    return ok;
}

static bool
dp_parse_mpls_field(const char *key, char *text, struct dp_set_mpls *v,
                    struct dp_set_mpls *m)
{
    for (size_t i = 0; i < ARRAY_SIZE(dp_mpls_bits); i++) {
        uint32_t mask = dp_mpls_bits[i].mask;
        unsigned int shift = dp_mpls_bits[i].shift;
        uint32_t iv, im;

        if (!strcmp(key, dp_mpls_bits[i].name)) {
            if (!dp_parse_int_field(text, mask >> shift, &iv, &im)) {
                return false;
            }
            v->lse |= htonl(iv << shift);
            m->lse |= htonl(im << shift);
            return true;
        }
    }
    return false;
}

/* Parses one KEY=VALUE[/MASK] of set(HEADER(...)) into 'v' and 'm'. */
static bool
dp_parse_set_field(enum dp_set_header header, const char *key, char *text,
                   union dp_set_fields *v, union dp_set_fields *m)
{
    const struct dp_set_field_list *list = &dp_set_field_lists[header];

    if (header == DP_SET_VLAN) {
        return dp_parse_vlan_field(key, text, &v->vlan, &m->vlan);
    } else if (header == DP_SET_MPLS) {
        return dp_parse_mpls_field(key, text, &v->mpls, &m->mpls);
    }
    for (size_t i = 0; i < list->n; i++) {
        if (!strcmp(key, list->fields[i].name)) {
            return dp_parse_table_field(&list->fields[i], text, (uint8_t *)v,
                                        (uint8_t *)m);
        }
    }
    return false;
}

static int
dp_parse_set(struct dp_action_buf *buf, char *args, const char *item,
             char **errorp)
{
    bool unbalanced = false;
    union dp_set_fields v, m;
    char *hdr, *fields, *field;
    int header = -1;

    if (!args || !dp_split_call(args, &hdr, &fields) || !fields) {
        return dp_parse_error(errorp,
                              "bad set action \"%s\" (expected "
                              "set(HEADER(FIELD=VALUE,...)))",
                              item);
    }
    for (int i = 0; i < DP_SET_N_HEADERS; i++) {
        if (!strcmp(hdr, dp_set_header_names[i])) {
            header = i;
        }
    }
    if (header < 0) {
        return dp_parse_error(errorp,
                              "unknown header \"%s\" in \"%s\" (expected "
                              "eth, vlan, ipv4, ipv6, tcp, udp, sctp, arp, "
                              "icmp, icmpv6 or nd)",
                              hdr, item);
    }
    memset(&v, 0, sizeof v);
    memset(&m, 0, sizeof m);
    while ((field = dp_next_item(&fields, &unbalanced)) != NULL) {
        char *eq = strchr(field, '=');

        if (!eq) {
            return dp_parse_error(errorp,
                                  "bad field \"%s\" in \"%s\" (expected "
                                  "FIELD=VALUE[/MASK])",
                                  field, item);
        }
        *eq = '\0';
        if (!dp_parse_set_field(header, field, eq + 1, &v, &m)) {
            return dp_parse_error(errorp, "bad %s field \"%s=%s\" in \"%s\"",
                                  dp_set_header_names[header], field, eq + 1,
                                  item);
        }
    }
    dp_action_put_set(buf, header, &v, &m);
    return 0;
}

static int
dp_parse_push_vlan(struct dp_action_buf *buf, char *args, const char *item,
                   char **errorp)
{
    uint16_t tpid = ETH_TYPE_VLAN_8021Q, tci = 0;
    bool unbalanced = false;
    char *field;

    while (args && (field = dp_next_item(&args, &unbalanced)) != NULL) {
        char *eq = strchr(field, '=');
        uint64_t n;

        if (!eq) {
            goto bad;
        }
        *eq++ = '\0';
        if (!strcmp(field, "tpid") && dp_parse_uint(eq, 0xffff, &n)) {
            tpid = (uint16_t)n;
        } else if (!strcmp(field, "vid")
                   && dp_parse_uint(eq, VLAN_VID_MASK, &n)) {
            tci = (uint16_t)((tci & ~VLAN_VID_MASK) | n);
        } else if (!strcmp(field, "pcp") && dp_parse_uint(eq, 7, &n)) {
            tci = (uint16_t)((tci & ~VLAN_PCP_MASK) | (n << VLAN_PCP_SHIFT));
        } else if (!strcmp(field, "cfi") && dp_parse_uint(eq, 1, &n)) {
            /* Accepted for compatibility; the DEI is always pushed as 0. */
        } else if (!strcmp(field, "tci") && dp_parse_uint(eq, 0xffff, &n)) {
            tci = (uint16_t)n;
        } else {
            goto bad;
        }
    }
    if (tpid != ETH_TYPE_VLAN_8021Q && tpid != ETH_TYPE_VLAN_8021AD) {
        goto bad;
    }
    dp_action_put_push_vlan(buf, htons(tpid), htons(tci));
    return 0;

bad:
    return dp_parse_error(errorp,
                          "bad push_vlan \"%s\" (expected "
                          "push_vlan([tpid=0x8100|0x88a8,]vid=V,pcp=P))",
                          item);
}

static bool
dp_parse_hex(const char *s, uint8_t *data, size_t max, size_t *lenp)
{
    size_t n = strlen(s);

    if (n % 2 || n / 2 > max) {
        return false;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = dp_hex_digit(s[2 * i]);
        int lo = dp_hex_digit(s[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return false;
        }
        data[i] = (uint8_t)(hi << 4 | lo);
    }
    *lenp = n / 2;
    return true;
}

static int
dp_parse_userspace(struct dp_action_buf *buf, char *args, const char *item,
                   char **errorp)
{
    uint8_t data[DP_USERDATA_MAX];
    bool unbalanced = false;
    size_t len = 0;
    char *field;

    while (args && (field = dp_next_item(&args, &unbalanced)) != NULL) {
        char *name, *inner;
        uint64_t n;

        bool pid = !strncmp(field, "pid=", 4)
                   && dp_parse_uint(field + 4, UINT32_MAX, &n);

        if (!strncmp(field, "cookie=", 7)
            && dp_parse_uint(field + 7, UINT64_MAX, &n)) {
            for (int i = 0; i < 8; i++) {
                data[i] = (uint8_t)(n >> (56 - 8 * i));
            }
            len = 8;
        } else if (!pid /* pid=N: accepted for ovs-dpctl, ignored. */
                   && !(dp_split_call(field, &name, &inner) && inner
                        && !strcmp(name, "userdata")
                        && dp_parse_hex(inner, data, sizeof data, &len))) {
            return dp_parse_error(errorp,
                                  "bad userspace action \"%s\" (expected "
                                  "userspace(userdata(HEX)) or "
                                  "userspace(cookie=N), at most %d bytes)",
                                  item, DP_USERDATA_MAX);
        }
    }
    dp_action_put_userspace(buf, data, len);
    return 0;
}

/* Parses the comma-separated KEY=VALUE items of 'args' into 'vals', at
 * the index of KEY in 'keys[0..n)': each key once, every one of them, each
 * value at most 'max[i]'. */
static bool
dp_parse_keyed_uints(char *args, const char *const keys[],
                     const uint64_t max[], size_t n, uint64_t vals[])
{
    bool unbalanced = false;
    uint32_t seen = 0;
    char *item;

    while ((item = dp_next_item(&args, &unbalanced))) {
        char *eq = strchr(item, '=');
        size_t i = 0;

        if (!eq) {
            return false;
        }
        *eq = '\0';
        while (i < n && strcmp(item, keys[i]) != 0) {
            i++;
        }
        if (i == n || seen & (1u << i)
            || !dp_parse_uint(eq + 1, max[i], &vals[i])) {
            return false;
        }
        seen |= 1u << i;
    }
    return !unbalanced && seen == (1u << n) - 1;
}

/* push_mpls(label=L,tc=T,ttl=TTL,bos=B,eth_type=E) and
 * pop_mpls(eth_type=E), as dp_action_format() writes them. */
static int
dp_parse_mpls(struct dp_action_buf *buf, const char *name, char *args,
              const char *item, char **errorp)
{
    static const char *const keys[] = {"eth_type", "label", "tc", "ttl",
                                       "bos"};
    static const uint64_t max[] = {UINT16_MAX, 0xfffff, 7, UINT8_MAX, 1};
    bool push = !strcmp(name, "push_mpls");
    uint64_t v[ARRAY_SIZE(keys)];

    if (!args || !dp_parse_keyed_uints(args, keys, max, push ? 5 : 1, v)
        || (push && !eth_type_is_mpls(htons((uint16_t)v[0])))) {
        return dp_parse_error(errorp, "bad %s \"%s\" (expected %s)", name,
                              item,
                              push ? "push_mpls(label=L,tc=T,ttl=TTL,bos=B,"
                                     "eth_type=0x8847|0x8848)"
                                   : "pop_mpls(eth_type=E)");
    }
    if (!push) {
        dp_action_put_pop_mpls(buf, htons((uint16_t)v[0]));
        return 0;
    }
    dp_action_put_push_mpls(
        buf,
        htonl((uint32_t)(v[1] << MPLS_LABEL_SHIFT | v[2] << MPLS_TC_SHIFT
                         | v[4] << MPLS_BOS_SHIFT | v[3])),
        htons((uint16_t)v[0]));
    return 0;
}

static int
dp_parse_item(struct dp_action_buf *buf, char *item, char **errorp)
{
    char *copy = xstrdup(item);
    char *name, *args;
    uint64_t port;
    int error = 0;

    if (!dp_split_call(item, &name, &args)) {
        error = dp_parse_error(errorp, "bad action \"%s\"", copy);
    } else if ((!args && dp_parse_uint(name, UINT32_MAX, &port))
               || (!strcmp(name, "output") && args
                   && dp_parse_uint(args, UINT32_MAX, &port))) {
        dp_action_put_output(buf, (uint32_t)port);
    } else if (!strcmp(name, "set")) {
        error = dp_parse_set(buf, args, copy, errorp);
    } else if (!strcmp(name, "push_vlan")) {
        error = dp_parse_push_vlan(buf, args, copy, errorp);
    } else if (!strcmp(name, "pop_vlan") && (!args || !*args)) {
        dp_action_put_pop_vlan(buf);
    } else if (!strcmp(name, "userspace")) {
        error = dp_parse_userspace(buf, args, copy, errorp);
    } else if (!strcmp(name, "meter") && args
               && dp_parse_uint(args, UINT32_MAX, &port)) {
        dp_action_put_meter(buf, (uint32_t)port);
    } else if (!strcmp(name, "recirc") && args
               && dp_parse_uint(args, UINT32_MAX, &port) && port) {
        dp_action_put_recirc(buf, (uint32_t)port);
    } else if (!strcmp(name, "push_mpls") || !strcmp(name, "pop_mpls")) {
        error = dp_parse_mpls(buf, name, args, copy, errorp);
    } else {
        error =
            dp_parse_error(errorp,
                           "unknown action \"%s\" (expected a port "
                           "number, set, push_vlan, pop_vlan, push_mpls, "
                           "pop_mpls, userspace, meter(N), recirc(N) or drop)",
                           copy);
    }
    free(copy);
    return error;
}

int
dp_actions_from_string(const char *s, struct dp_actions **actionsp,
                       char **errorp)
{
    struct dp_action_buf buf;
    char *copy = xstrdup(s);
    char *pos = copy, *item;
    bool unbalanced = false, drop = false;
    size_t n_items = 0;
    int error = 0;

    *actionsp = NULL;
    *errorp = NULL;
    dp_action_buf_init(&buf);
    while (!error && (item = dp_next_item(&pos, &unbalanced)) != NULL) {
        n_items++;
        if (unbalanced) {
            error =
                dp_parse_error(errorp, "unbalanced parentheses in \"%s\"", s);
        } else if (!strcmp(item, "drop")) {
            drop = true;
        } else if (!*item) {
            error = dp_parse_error(errorp, "empty action in \"%s\"", s);
        } else {
            error = dp_parse_item(&buf, item, errorp);
        }
    }
    if (!error && drop && n_items > 1) {
        error = dp_parse_error(
            errorp, "\"drop\" must be the only action in \"%s\"", s);
    }
    if (!error && !n_items) {
        error = dp_parse_error(errorp, "no actions (use \"drop\")");
    }
    if (!error) {
        *actionsp = dp_action_buf_freeze(&buf);
    }
    dp_action_buf_uninit(&buf);
    free(copy);
    return error;
}
