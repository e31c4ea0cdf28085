/* flow/flow-text.c — ovs-ofctl flow syntax: tokens, matches, flow lines
 * (see flow-text.h). */
#include "flow/flow-text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/field.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"

COVERAGE_DEFINE(flow_text_parse_error);

/* ---- Tokens ------------------------------------------------------------- */

static const char separators[] = ", \t\r\n";

/* Length of the value at 's' up to one of 'delims' outside parentheses. */
static size_t
value_length(const char *s, const char *delims)
{
    size_t n = 0;

    while (s[n] && !strchr(delims, s[n])) {
        if (s[n] == '(') {
            int level = 0;

            do {
                if (s[n] == '(') {
                    level++;
                } else if (s[n] == ')') {
                    level--;
                } else if (!s[n]) {
                    return n;
                }
                n++;
            } while (level > 0);
        } else {
            n++;
        }
    }
    return n;
}

bool
flow_text_next_token(const char **sp, struct flow_text_token *tok)
{
    const char *s = *sp + strspn(*sp, separators);

    if (!*s) {
        *sp = s;
        return false;
    }

    size_t key_len = strcspn(s, ":=(, \t\r\n");
    char delim = s[key_len];
    const char *p = s + key_len;
    const char *value = p;
    size_t value_len = 0;
    const char *text_end;

    if (delim == ':' || delim == '=') {
        value = p + 1;
        value_len = value_length(value, separators);
        text_end = value + value_len;
        p = text_end;
    } else if (delim == '(') {
        value = p + 1;
        value_len = value_length(value, ")");
        text_end = value + value_len + (value[value_len] == ')');
        p = value + value_len;
    } else {
        text_end = p;
    }
    if (*p) {
        p++; /* The delimiter that ended the token. */
    }

    tok->key = xmemdup0(s, key_len);
    tok->value = xmemdup0(value, value_len);
    tok->text = xmemdup0(s, (size_t)(text_end - s));
    *sp = p;
    return true;
}

void
flow_text_token_free(struct flow_text_token *tok)
{
    free(tok->key);
    free(tok->value);
    free(tok->text);
    tok->key = tok->value = tok->text = NULL;
}

/* ---- Shorthands --------------------------------------------------------- */

struct shorthand {
    const char *name;
    uint16_t dl_type;
    uint8_t nw_proto; /* 0: none. */
};

static const struct shorthand shorthands[] = {
    {"ip", ETH_TYPE_IP, 0},
    {"ipv4", ETH_TYPE_IP, 0},
    {"ipv6", ETH_TYPE_IPV6, 0},
    {"icmp", ETH_TYPE_IP, IPPROTO_ICMP_},
    {"icmp6", ETH_TYPE_IPV6, IPPROTO_ICMPV6_},
    {"tcp", ETH_TYPE_IP, IPPROTO_TCP_},
    {"tcp6", ETH_TYPE_IPV6, IPPROTO_TCP_},
    {"udp", ETH_TYPE_IP, IPPROTO_UDP_},
    {"udp6", ETH_TYPE_IPV6, IPPROTO_UDP_},
    {"sctp", ETH_TYPE_IP, IPPROTO_SCTP_},
    {"sctp6", ETH_TYPE_IPV6, IPPROTO_SCTP_},
    {"arp", ETH_TYPE_ARP, 0},
    {"rarp", ETH_TYPE_RARP, 0},
    {"mpls", ETH_TYPE_MPLS, 0},
    {"mplsm", ETH_TYPE_MPLS_MCAST, 0},
};

static const struct shorthand *
shorthand_from_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
        if (!strcmp(name, shorthands[i].name)) {
            return &shorthands[i];
        }
    }
    return NULL;
}

static void
apply_shorthand(const struct shorthand *sh, struct match *m)
{
    m->flow.dl_type = htons(sh->dl_type);
    m->wc.masks.dl_type = htons(0xffff);
    if (sh->nw_proto) {
        m->flow.nw_proto = sh->nw_proto;
        m->wc.masks.nw_proto = 0xff;
    }
}

/* ---- Keywords ----------------------------------------------------------- */

enum keyword {
    KW_PRIORITY,
    KW_TABLE,
    KW_COOKIE,
    KW_IDLE_TIMEOUT,
    KW_HARD_TIMEOUT,
    KW_IMPORTANCE,
    KW_OUT_PORT,
    KW_SEND_FLOW_REM,
    KW_CHECK_OVERLAP,
    KW_RESET_COUNTS,
    KW_NO_PACKET_COUNTS,
    KW_NO_BYTE_COUNTS,
    KW_STATS, /* Ignored: dump-flows statistics. */
};

struct keyword_info {
    const char *name;
    enum keyword kw;
};

static const struct keyword_info keywords[] = {
    {"priority", KW_PRIORITY},
    {"table", KW_TABLE},
    {"cookie", KW_COOKIE},
    {"idle_timeout", KW_IDLE_TIMEOUT},
    {"hard_timeout", KW_HARD_TIMEOUT},
    {"importance", KW_IMPORTANCE},
    {"out_port", KW_OUT_PORT},
    {"send_flow_rem", KW_SEND_FLOW_REM},
    {"check_overlap", KW_CHECK_OVERLAP},
    {"reset_counts", KW_RESET_COUNTS},
    {"no_packet_counts", KW_NO_PACKET_COUNTS},
    {"no_byte_counts", KW_NO_BYTE_COUNTS},
    {"duration", KW_STATS},
    {"n_packets", KW_STATS},
    {"n_bytes", KW_STATS},
    {"idle_age", KW_STATS},
    {"hard_age", KW_STATS},
};

static const struct keyword_info *
keyword_from_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        if (!strcmp(name, keywords[i].name)) {
            return &keywords[i];
        }
    }
    return NULL;
}

static bool
is_strict(enum flow_text_mode mode)
{
    return mode == FLOW_TEXT_MODIFY_STRICT || mode == FLOW_TEXT_DELETE_STRICT;
}

static bool
is_delete(enum flow_text_mode mode)
{
    return mode == FLOW_TEXT_DELETE || mode == FLOW_TEXT_DELETE_STRICT;
}

static bool
is_modify(enum flow_text_mode mode)
{
    return mode == FLOW_TEXT_MODIFY || mode == FLOW_TEXT_MODIFY_STRICT;
}

static const char *
mode_verb(enum flow_text_mode mode)
{
    return mode == FLOW_TEXT_ADD ? "adding"
           : is_modify(mode)     ? "modifying"
                                 : "deleting";
}

/* Returns true if 'kw' may appear in a line of 'mode', as with ovs-ofctl's
 * add-flow, mod-flows and del-flows. */
static bool
keyword_allowed(enum keyword kw, enum flow_text_mode mode)
{
    switch (kw) {
    case KW_TABLE:
    case KW_COOKIE:
    case KW_STATS:
        return true;
    case KW_PRIORITY:
        return !is_delete(mode) || is_strict(mode);
    case KW_IDLE_TIMEOUT:
    case KW_HARD_TIMEOUT:
    case KW_SEND_FLOW_REM:
    case KW_CHECK_OVERLAP:
    case KW_RESET_COUNTS:
    case KW_NO_PACKET_COUNTS:
    case KW_NO_BYTE_COUNTS:
        return !is_delete(mode);
    case KW_IMPORTANCE:
        return mode == FLOW_TEXT_ADD;
    case KW_OUT_PORT:
        return is_delete(mode);
    }
    return false;
}

static uint32_t
keyword_flag(enum keyword kw)
{
    switch (kw) {
    case KW_SEND_FLOW_REM:
        return FLOW_TEXT_SEND_FLOW_REM;
    case KW_CHECK_OVERLAP:
        return FLOW_TEXT_CHECK_OVERLAP;
    case KW_RESET_COUNTS:
        return FLOW_TEXT_RESET_COUNTS;
    case KW_NO_PACKET_COUNTS:
        return FLOW_TEXT_NO_PACKET_COUNTS;
    case KW_NO_BYTE_COUNTS:
        return FLOW_TEXT_NO_BYTE_COUNTS;
    default:
        return 0;
    }
}

/* Everything a match or flow line may start a token with, for "did you
 * mean". */
static const char *
suggest(const char *word, bool flow_keywords)
{
    const char *names[ARRAY_SIZE(shorthands) + ARRAY_SIZE(keywords) + 1];
    const char *field_guess = field_suggest(word);
    const char *other;
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
        names[n++] = shorthands[i].name;
    }
    if (flow_keywords) {
        for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
            names[n++] = keywords[i].name;
        }
    }
    names[n] = NULL;
    other = field_suggest_word(word, names);
    if (field_guess && other) {
        return field_edit_distance(word, other)
                       < field_edit_distance(word, field_guess)
                   ? other
                   : field_guess;
    }
    return field_guess ? field_guess : other;
}

/* ---- Matches ------------------------------------------------------------ */

/* The fields a line set, to check their prerequisites once the whole match
 * is known ("tp_dst=80,tcp" is as good as "tcp,tp_dst=80"). */
struct set_field {
    const struct field *field;
    char *name; /* As written, e.g. "tcp_dst" or "reg0[0..3]". */
    char *text; /* The whole token, for messages. */
};

struct set_fields {
    struct set_field *fields;
    size_t n, allocated;
};

static void
set_fields_add(struct set_fields *sf, const struct field *f,
               const struct flow_text_token *tok)
{
    sf->fields =
        xgrow(sf->fields, &sf->allocated, sf->n + 1, sizeof *sf->fields);
    sf->fields[sf->n].field = f;
    sf->fields[sf->n].name = xstrdup(tok->key);
    sf->fields[sf->n].text = xstrdup(tok->text);
    sf->n++;
}

static void
set_fields_destroy(struct set_fields *sf)
{
    for (size_t i = 0; i < sf->n; i++) {
        free(sf->fields[i].name);
        free(sf->fields[i].text);
    }
    free(sf->fields);
    sf->fields = NULL;
    sf->n = sf->allocated = 0;
}

static int
check_prereqs(const struct set_fields *sf, const struct match *m,
              char **errorp)
{
    for (size_t i = 0; i < sf->n; i++) {
        const struct field *f = sf->fields[i].field;

        if (field_is_matched(f, m) && !field_prereqs_ok(f, m)) {
            const char *name = sf->fields[i].name; /* Maybe "reg0[1..2]". */

            *errorp = field_error(sf->fields[i].text, NULL, "%.*s requires %s",
                                  (int)strcspn(name, "["), name,
                                  field_prereq_describe(f->match_prereq));
            return EINVAL;
        }
    }
    return 0;
}

/* Sets the bits of the VLAN tag that 'bits' covers to 'tci', and marks the
 * tag present, as ovs-ofctl does for dl_vlan, dl_vlan_pcp and vlan_pcp. */
static void
set_vlan_view(struct match *m, uint16_t bits, uint16_t tci)
{
    uint16_t flow_tci = ntohs(m->flow.vlans[0].tci);
    uint16_t mask = ntohs(m->wc.masks.vlans[0].tci);

    flow_tci = (flow_tci & ~bits) | (tci & bits) | VLAN_CFI;
    mask |= bits | VLAN_CFI;
    m->flow.vlans[0].tci = htons(flow_tci);
    m->wc.masks.vlans[0].tci = htons(mask);
}

/* Parses the value of 'tok' for field 'f' into 'm'. */
static int
parse_field(const struct field *f, const struct flow_text_token *tok,
            struct match *m, char **errorp)
{
    union field_value value, mask;
    uint64_t x;

    if (f->id == FIELD_DL_VLAN && field_parse_uint(tok->value, 0xffff, &x)
        && x == 0xffff) {
        /* OpenFlow 1.0's "no VLAN". */
        m->flow.vlans[0].tci = htons(0);
        m->wc.masks.vlans[0].tci = htons(0xffff);
        return 0;
    }
    if (field_parse_value(f, tok->value, tok->text, &value, &mask, errorp)) {
        return EINVAL;
    }
    if (field_value_is_zero(f, &mask)) {
        field_set_match(f, &value, &mask, m);
        return 0;
    }
    switch (f->id) {
    case FIELD_DL_VLAN:
        set_vlan_view(m, VLAN_VID_MASK, ntohs(value.be16));
        break;
    case FIELD_DL_VLAN_PCP:
    case FIELD_VLAN_PCP:
        set_vlan_view(m, VLAN_PCP_MASK,
                      (uint16_t)(value.u8 << VLAN_PCP_SHIFT));
        break;
    default:
        field_set_match(f, &value, &mask, m);
        break;
    }
    return 0;
}

/* Parses "NAME[BITS]=VALUE" into 'm'. */
static int
parse_subfield_match(const struct flow_text_token *tok, struct match *m,
                     const struct field **fieldp, char **errorp)
{
    struct field_subfield sf;
    union field_value v, value, mask;
    const char *end;

    if (field_parse_subfield(tok->key, tok->text, &sf, &end, errorp)) {
        return EINVAL;
    }
    if (*end) {
        *errorp = field_error(tok->text, "expected NAME[BITS]=VALUE",
                              "unexpected \"%s\" after the field", end);
        return EINVAL;
    }

    int error =
        field_parse_wide_uint(tok->value, FIELD_MAX_BYTES, sf.n_bits, &v);

    if (error == ERANGE) {
        *errorp = field_error(tok->text, NULL,
                              "value \"%s\" does not fit in %u bits",
                              tok->value, sf.n_bits);
        return EINVAL;
    } else if (error) {
        *errorp = field_error(tok->text, "expected an integer",
                              "bad value \"%s\"", tok->value);
        return EINVAL;
    }

    const struct field *f = sf.field;

    field_get_match(f, m, &value, &mask);
    field_bits_copy(v.b, FIELD_MAX_BYTES, 0, value.b, f->n_bytes, sf.ofs,
                    sf.n_bits);
    for (unsigned int i = 0; i < sf.n_bits; i++) {
        field_bit_set(mask.b, f->n_bytes, sf.ofs + i, true);
    }
    if (!f->maskable && !field_value_is_all_ones(f, &mask)) {
        *errorp = field_error(tok->text, "match all of its bits",
                              "%s cannot be matched in part", f->name);
        return EINVAL;
    }
    if (!field_value_is_valid(f, &value)) {
        *errorp = field_error(tok->text, NULL, "bad value for %s", f->name);
        return EINVAL;
    }
    field_set_match(f, &value, &mask, m);
    *fieldp = f;
    return 0;
}

enum token_result {
    TOKEN_MATCH, /* Consumed as part of the match. */
    TOKEN_OTHER, /* Not a match token. */
    TOKEN_ERROR,
};

/* Handles 'tok' if it is a shorthand, a field or a sub-field. */
static enum token_result
parse_match_token(const struct flow_text_token *tok, struct match *m,
                  struct set_fields *sf, char **errorp)
{
    const struct shorthand *sh = shorthand_from_name(tok->key);
    const struct field *f;

    if (sh) {
        if (tok->value[0]) {
            *errorp = field_error(tok->text, "write it alone, e.g. \"tcp\"",
                                  "%s takes no value", sh->name);
            return TOKEN_ERROR;
        }
        apply_shorthand(sh, m);
        return TOKEN_MATCH;
    }
    f = field_from_name(tok->key);
    if (f) {
        if (parse_field(f, tok, m, errorp)) {
            return TOKEN_ERROR;
        }
        set_fields_add(sf, f, tok);
        return TOKEN_MATCH;
    }
    if (strchr(tok->key, '[')) {
        if (parse_subfield_match(tok, m, &f, errorp)) {
            return TOKEN_ERROR;
        }
        set_fields_add(sf, f, tok);
        return TOKEN_MATCH;
    }
    return TOKEN_OTHER;
}

static int
unknown_keyword(const struct flow_text_token *tok, bool flow_keywords,
                char **errorp)
{
    const char *guess = suggest(tok->key, flow_keywords);
    char *hint = guess ? xasprintf("did you mean %s?", guess) : NULL;

    *errorp = field_error(tok->text, hint, "bad field \"%s\"", tok->key);
    free(hint);
    return EINVAL;
}

static int parse_keyword(const struct flow_text_token *, struct flow_text *,
                         char **errorp);

/* A token that is neither a shorthand nor a (sub-)field: a keyword of the
 * flow line 'ft', or with 'ft' NULL (a bare match) an error. */
static int
parse_other_token(const struct flow_text_token *tok, struct flow_text *ft,
                  char **errorp)
{
    if (!tok->key[0]) {
        *errorp = ft ? field_error(tok->text, "expected KEYWORD=VALUE",
                                   "missing keyword")
                     : field_error(tok->text, "expected FIELD=VALUE",
                                   "missing field name");
        return EINVAL;
    }
    return ft ? parse_keyword(tok, ft, errorp)
              : unknown_keyword(tok, false, errorp);
}

/* Parses every token of 's' into 'm' (noting the fields set in 'sf') and
 * checks the fields' prerequisites; see parse_other_token() for 'ft'. */
static int
parse_match_tokens(const char *s, struct match *m, struct set_fields *sf,
                   struct flow_text *ft, char **errorp)
{
    struct flow_text_token tok;
    int error = 0;

    while (!error && flow_text_next_token(&s, &tok)) {
        switch (parse_match_token(&tok, m, sf, errorp)) {
        case TOKEN_MATCH:
            break;
        case TOKEN_ERROR:
            error = EINVAL;
            break;
        case TOKEN_OTHER:
            error = parse_other_token(&tok, ft, errorp);
            break;
        }
        flow_text_token_free(&tok);
    }
    return error ? error : check_prereqs(sf, m, errorp);
}

int
match_from_string(const char *s, struct match *out, char **errorp)
{
    struct set_fields sf = {NULL, 0, 0};
    struct match m;
    int error;

    *errorp = NULL;
    match_init_catchall(&m);
    error = parse_match_tokens(s, &m, &sf, NULL, errorp);
    set_fields_destroy(&sf);
    if (error) {
        COVERAGE_INC(flow_text_parse_error);
        return error;
    }
    *out = m;
    return 0;
}

/* ---- Flow lines --------------------------------------------------------- */

void
flow_text_init(struct flow_text *ft, enum flow_text_mode mode)
{
    memset(ft, 0, sizeof *ft);
    ft->mode = mode;
    match_init_catchall(&ft->match);
    ft->priority = FLOW_TEXT_DEFAULT_PRIORITY;
    ft->table_id = mode == FLOW_TEXT_ADD ? 0 : FLOW_TEXT_TABLE_ALL;
    ft->out_port = OFPP_ANY;
    ofpacts_init(&ft->ofpacts);
}

void
flow_text_destroy(struct flow_text *ft)
{
    ofpacts_destroy(&ft->ofpacts);
}

bool
flow_text_equal(const struct flow_text *a, const struct flow_text *b)
{
    return a->mode == b->mode && match_equal(&a->match, &b->match)
           && a->priority == b->priority && a->table_id == b->table_id
           && a->set_cookie == b->set_cookie && a->cookie == b->cookie
           && a->cookie_match == b->cookie_match
           && a->cookie_mask == b->cookie_mask
           && a->idle_timeout == b->idle_timeout
           && a->hard_timeout == b->hard_timeout
           && a->importance == b->importance && a->flags == b->flags
           && a->out_port == b->out_port
           && ofpacts_equal(&a->ofpacts, &b->ofpacts);
}

/* Finds "action=" or "actions=" starting a token in 'line'.  Returns the
 * offset of the keyword (the end of the match part) and stores where the
 * action list starts in '*actsp', or returns -1 if there is none. */
static long
find_actions(const char *line, const char **actsp, bool *bad_syntaxp)
{
    for (const char *p = strstr(line, "action"); p;
         p = strstr(p + 1, "action")) {
        if (p != line && !strchr(separators, p[-1])) {
            continue;
        }

        const char *q = p + strlen("action");

        if (*q == 's') {
            q++;
        }
        q += strspn(q, " \t");
        *bad_syntaxp = *q != '=';
        *actsp = *q == '=' ? q + 1 : q;
        return p - line;
    }
    return -1;
}

static int
parse_u16_keyword(const struct flow_text_token *tok, uint16_t *valuep,
                  char **errorp)
{
    uint64_t x;

    if (!field_parse_uint(tok->value, UINT16_MAX, &x)) {
        *errorp = field_error(tok->text, "expected an integer from 0 to 65535",
                              "bad %s \"%s\"", tok->key, tok->value);
        return EINVAL;
    }
    *valuep = (uint16_t)x;
    return 0;
}

static int
parse_cookie(const struct flow_text_token *tok, struct flow_text *ft,
             char **errorp)
{
    static const char hint[] = "expected a 64-bit integer, e.g. 0x123";
    const char *slash = strchr(tok->value, '/');
    char *vs = slash ? xmemdup0(tok->value, (size_t)(slash - tok->value))
                     : xstrdup(tok->value);
    uint64_t value, mask = 0;
    int error = 0;

    if (!field_parse_uint(vs, UINT64_MAX, &value)) {
        *errorp = field_error(tok->text, hint, "bad cookie \"%s\"", vs);
        error = EINVAL;
    } else if (slash && !field_parse_uint(slash + 1, UINT64_MAX, &mask)) {
        *errorp =
            field_error(tok->text, hint, "bad cookie mask \"%s\"", slash + 1);
        error = EINVAL;
    } else if (slash && ft->mode == FLOW_TEXT_ADD) {
        *errorp = field_error(tok->text,
                              "a flow to add takes cookie=VALUE; masks select "
                              "flows to modify or delete",
                              "cookie mask not allowed when adding");
        error = EINVAL;
    } else if (!slash && is_delete(ft->mode)) {
        *errorp = field_error(tok->text,
                              "expected cookie=VALUE/MASK to select flows",
                              "cannot set a cookie when deleting");
        error = EINVAL;
    } else if (!slash && value == UINT64_MAX) {
        *errorp = field_error(tok->text, "0xffffffffffffffff is reserved",
                              "bad cookie \"%s\"", vs);
        error = EINVAL;
    } else if (slash) {
        ft->cookie_match = value & mask;
        ft->cookie_mask = mask;
    } else {
        ft->cookie = value;
        ft->set_cookie = ft->mode != FLOW_TEXT_ADD;
    }
    free(vs);
    return error;
}

/* Handles a keyword token of a flow line. */
static int
parse_keyword(const struct flow_text_token *tok, struct flow_text *ft,
              char **errorp)
{
    const struct keyword_info *ki = keyword_from_name(tok->key);
    uint64_t x;

    if (!ki) {
        return unknown_keyword(tok, true, errorp);
    }
    if (!keyword_allowed(ki->kw, ft->mode)) {
        *errorp = field_error(
            tok->text,
            ki->kw == KW_PRIORITY ? "only a strict delete looks at priorities"
                                  : NULL,
            "%s is not allowed when %s flows", ki->name, mode_verb(ft->mode));
        return EINVAL;
    }

    uint32_t flag = keyword_flag(ki->kw);

    if (flag) {
        if (tok->value[0]) {
            *errorp =
                field_error(tok->text, NULL, "%s takes no value", ki->name);
            return EINVAL;
        }
        ft->flags |= flag;
        return 0;
    }
    if (ki->kw == KW_STATS) {
        return 0;
    }
    if (!tok->value[0]) {
        *errorp =
            field_error(tok->text, NULL, "missing value for %s", ki->name);
        return EINVAL;
    }

    switch (ki->kw) {
    case KW_PRIORITY:
        return parse_u16_keyword(tok, &ft->priority, errorp);
    case KW_IDLE_TIMEOUT:
        return parse_u16_keyword(tok, &ft->idle_timeout, errorp);
    case KW_HARD_TIMEOUT:
        return parse_u16_keyword(tok, &ft->hard_timeout, errorp);
    case KW_IMPORTANCE:
        return parse_u16_keyword(tok, &ft->importance, errorp);
    case KW_TABLE: {
        size_t n = strlen(tok->value);
        unsigned int max = ft->mode == FLOW_TEXT_ADD ? 254 : 255;

        if (n > 3 || strspn(tok->value, "0123456789") != n
            || (x = strtoul(tok->value, NULL, 10)) > max) {
            *errorp =
                field_error(tok->text,
                            max == 254 ? "expected a table number from 0 to "
                                         "254"
                                       : "expected a table number from 0 to "
                                         "254, or 255 for all tables",
                            "bad table \"%s\"", tok->value);
            return EINVAL;
        }
        ft->table_id = (uint8_t)x;
        return 0;
    }
    case KW_COOKIE:
        return parse_cookie(tok, ft, errorp);
    case KW_OUT_PORT: {
        uint32_t port;

        if (!field_parse_port(tok->value, &port)) {
            *errorp = field_error(tok->text,
                                  "expected a port number or a reserved "
                                  "port name",
                                  "bad port \"%s\"", tok->value);
            return EINVAL;
        }
        ft->out_port = port;
        return 0;
    }
    default:
        break;
    }
    return 0;
}

/* Whether ovs-ofctl's default negotiation would send a match made of the
 * fields in 'sf' as an OpenFlow 1.0 match rather than as NXM: every field
 * is one OpenFlow 1.0 has, matched exactly (IPv4 addresses: by prefix). */
static bool
fields_fit_openflow10(const struct set_fields *sf, const struct match *m)
{
    if (m->wc.masks.dl_type && m->flow.dl_type == htons(ETH_TYPE_IPV6)
        && m->wc.masks.nw_proto) {
        return false;
    }
    for (size_t i = 0; i < sf->n; i++) {
        const struct field *f = sf->fields[i].field;
        union field_value value, mask;
        uint32_t host_mask;

        field_get_match(f, m, &value, &mask);
        switch (f->id) {
        case FIELD_IN_PORT:
        case FIELD_ETH_TYPE:
        case FIELD_DL_VLAN:
        case FIELD_DL_VLAN_PCP:
        case FIELD_VLAN_PCP:
        case FIELD_NW_PROTO:
        case FIELD_NW_TOS:
        case FIELD_IP_DSCP:
        case FIELD_ICMP_TYPE:
        case FIELD_ICMP_CODE:
        case FIELD_ARP_OP:
        case FIELD_VLAN_VID:
        case FIELD_ETH_SRC:
        case FIELD_ETH_DST:
        case FIELD_TP_SRC:
        case FIELD_TP_DST:
        case FIELD_TCP_SRC:
        case FIELD_TCP_DST:
        case FIELD_UDP_SRC:
        case FIELD_UDP_DST:
            if (!field_value_is_all_ones(f, &mask)
                && !field_value_is_zero(f, &mask)) {
                return false;
            }
            break;
        case FIELD_IP_SRC:
        case FIELD_IP_DST:
        case FIELD_ARP_SPA:
        case FIELD_ARP_TPA:
            host_mask = ~ntohl(mask.be32);
            if (host_mask & (host_mask + 1)) {
                return false;
            }
            break;
        default:
            return false;
        }
    }
    return true;
}

static int
parse_flow_line(const char *line, struct flow_text *ft, char **errorp)
{
    struct set_fields sf = {NULL, 0, 0};
    const char *acts = NULL;
    bool bad_actions_syntax = false;
    long acts_ofs = find_actions(line, &acts, &bad_actions_syntax);
    char *match_part;
    int error;

    if (acts_ofs >= 0 && bad_actions_syntax) {
        *errorp = field_error(line, "expected actions=ACTION,...",
                              "missing \"=\" after \"actions\"");
        return EINVAL;
    }
    if (acts_ofs >= 0 && is_delete(ft->mode)) {
        *errorp = field_error(line, "a flow to delete takes only a match",
                              "actions are not allowed when deleting flows");
        return EINVAL;
    }
    if (acts_ofs < 0 && ft->mode == FLOW_TEXT_ADD) {
        *errorp = field_error(line, "add actions=drop to drop the packets",
                              "missing actions");
        return EINVAL;
    }

    match_part =
        acts_ofs >= 0 ? xmemdup0(line, (size_t)acts_ofs) : xstrdup(line);
    error = parse_match_tokens(match_part, &ft->match, &sf, ft, errorp);
    free(match_part);
    if (!error) {
        ft->openflow10_match = fields_fit_openflow10(&sf, &ft->match);
    }
    set_fields_destroy(&sf);

    if (!error && acts) {
        error = ofpacts_parse(acts, &ft->ofpacts, errorp);
        if (!error) {
            error =
                ofpacts_check(&ft->ofpacts, &ft->match, ft->table_id, errorp);
        }
    }
    return error;
}

int
flow_text_parse(const char *line, enum flow_text_mode mode,
                struct flow_text *ft, char **errorp)
{
    int error;

    *errorp = NULL;
    flow_text_init(ft, mode);
    error = parse_flow_line(line, ft, errorp);
    if (error) {
        COVERAGE_INC(flow_text_parse_error);
        flow_text_destroy(ft);
        flow_text_init(ft, mode);
    }
    return error;
}

void
flow_text_as_openflow10(struct flow_text *ft)
{
    struct match *m = &ft->match;

    /* OpenFlow 1.0 says "no tag" as dl_vlan=0xffff, which comes back as an
     * exact match on the whole TCI. */
    if (ft->openflow10_match
        && m->wc.masks.vlans[0].tci == htons(VLAN_CFI | VLAN_VID_MASK)
        && !m->flow.vlans[0].tci) {
        m->wc.masks.vlans[0].tci = htons(0xffff);
    }
    ofpacts_as_openflow10(&ft->ofpacts);
}

/* ---- Formatting --------------------------------------------------------- */

static void
format_be16_masked(struct ds *s, const char *name, be16 value, be16 mask)
{
    if (mask == htons(0xffff)) {
        ds_put_format(s, "%s=%u,", name, ntohs(value));
    } else if (mask) {
        ds_put_format(s, "%s=0x%x/0x%x,", name, ntohs(value), ntohs(mask));
    }
}

static void
format_hex_masked(struct ds *s, const char *name, uint64_t value,
                  uint64_t mask, uint64_t all_ones)
{
    if (!mask) {
        return;
    }
    /* "%#x" prints 0 as "0", as ovs-ofctl shows it. */
    ds_put_format(s, "%s=%#" PRIx64, name, value);
    if (mask != all_ones) {
        ds_put_format(s, "/%#" PRIx64, mask);
    }
    ds_put_char(s, ',');
}

/* Formats 'field' with its value and mask from 'm' if it is matched. */
static void
format_field(struct ds *s, const char *name, enum field_id id,
             const struct match *m)
{
    const struct field *f = field_from_id(id);
    union field_value value, mask;

    field_get_match(f, m, &value, &mask);
    if (!field_value_is_zero(f, &mask)) {
        ds_put_format(s, "%s=", name);
        field_format_value(f, &value, &mask, s);
        ds_put_char(s, ',');
    }
}

static const char *
proto_shorthand(const struct flow *f, const struct flow *w, bool *skip_proto)
{
    bool v4 = f->dl_type == htons(ETH_TYPE_IP);

    *skip_proto = false;
    if (w->nw_proto == 0xff) {
        *skip_proto = true;
        switch (f->nw_proto) {
        case IPPROTO_ICMP_:
            if (v4) {
                return "icmp";
            }
            break;
        case IPPROTO_ICMPV6_:
            if (!v4) {
                return "icmp6";
            }
            break;
        case IPPROTO_TCP_:
            return v4 ? "tcp" : "tcp6";
        case IPPROTO_UDP_:
            return v4 ? "udp" : "udp6";
        case IPPROTO_SCTP_:
            return v4 ? "sctp" : "sctp6";
        }
        *skip_proto = false;
    }
    return v4 ? "ip" : "ipv6";
}

static void
format_vlan(struct ds *s, const struct match *m)
{
    uint16_t tci = ntohs(m->flow.vlans[0].tci);
    uint16_t mask = ntohs(m->wc.masks.vlans[0].tci);
    uint16_t vid_mask = mask & VLAN_VID_MASK;
    uint16_t pcp_mask = mask & VLAN_PCP_MASK;

    if (!mask) {
        return;
    }
    if (mask & VLAN_CFI && tci & VLAN_CFI
        && (!vid_mask || vid_mask == VLAN_VID_MASK)
        && (!pcp_mask || pcp_mask == VLAN_PCP_MASK)
        && (vid_mask || pcp_mask)) {
        if (vid_mask) {
            ds_put_format(s, "dl_vlan=%u,", tci & VLAN_VID_MASK);
        }
        if (pcp_mask) {
            ds_put_format(s, "dl_vlan_pcp=%u,", tci >> VLAN_PCP_SHIFT);
        }
    } else if (mask == 0xffff) {
        ds_put_format(s, "vlan_tci=0x%04x,", tci);
    } else {
        ds_put_format(s, "vlan_tci=0x%04x/0x%04x,", tci, mask);
    }
}

static void
format_tcp_flags_field(struct ds *s, const struct match *m)
{
    const struct field *f = field_from_id(FIELD_TCP_FLAGS);
    union field_value value, mask;

    field_get_match(f, m, &value, &mask);
    if (!field_value_is_zero(f, &mask)) {
        ds_put_cstr(s, "tcp_flags=");
        field_format_value(f, &value, &mask, s);
        ds_put_char(s, ',');
    }
}

/* The shorthand for 'f''s exact dl_type ("tcp", "arp", ...), or NULL.
 * Sets '*skip_proto' when the shorthand also says nw_proto. */
static const char *
dl_type_shorthand(const struct flow *f, const struct flow *w, bool *skip_proto)
{
    *skip_proto = false;
    if (w->dl_type != htons(0xffff)) {
        return NULL;
    }
    if (f->dl_type == htons(ETH_TYPE_IP)
        || f->dl_type == htons(ETH_TYPE_IPV6)) {
        return proto_shorthand(f, w, skip_proto);
    } else if (f->dl_type == htons(ETH_TYPE_ARP)) {
        return "arp";
    } else if (f->dl_type == htons(ETH_TYPE_RARP)) {
        return "rarp";
    } else if (f->dl_type == htons(ETH_TYPE_MPLS)) {
        return "mpls";
    } else if (f->dl_type == htons(ETH_TYPE_MPLS_MCAST)) {
        return "mplsm";
    }
    return NULL;
}

/* Registers, metadata and in_port. */
static void
format_pipeline_fields(struct ds *s, const struct flow *f,
                       const struct flow *w)
{
    for (int i = 0; i < FLOW_N_REGS; i++) {
        char name[8];

        snprintf(name, sizeof name, "reg%d", i);
        format_hex_masked(s, name, f->regs[i], w->regs[i], UINT32_MAX);
    }
    format_hex_masked(s, "tun_id", be64toh(f->tunnel_id),
                      be64toh(w->tunnel_id), UINT64_MAX);
    format_hex_masked(s, "metadata", f->metadata, w->metadata, UINT64_MAX);
    if (w->in_port) {
        ds_put_cstr(s, "in_port=");
        field_format_port(f->in_port, s);
        ds_put_char(s, ',');
    }
}

/* VLAN, Ethernet addresses and, unless a shorthand said it, dl_type. */
static void
format_l2_fields(struct ds *s, const struct match *match, bool skip_type)
{
    const struct flow *f = &match->flow;
    const struct flow *w = &match->wc.masks;

    format_vlan(s, match);
    format_field(s, "dl_src", FIELD_ETH_SRC, match);
    format_field(s, "dl_dst", FIELD_ETH_DST, match);
    if (!skip_type && w->dl_type) {
        if (w->dl_type == htons(0xffff)) {
            ds_put_format(s, "dl_type=0x%04x,", ntohs(f->dl_type));
        } else {
            ds_put_format(s, "dl_type=0x%04x/0x%04x,", ntohs(f->dl_type),
                          ntohs(w->dl_type));
        }
    }
    format_field(s, "mpls_label", FIELD_MPLS_LABEL, match);
    format_field(s, "mpls_tc", FIELD_MPLS_TC, match);
    format_field(s, "mpls_ttl", FIELD_MPLS_TTL, match);
    format_field(s, "mpls_bos", FIELD_MPLS_BOS, match);
}

/* Network addresses: IPv6 (with the flow label), ARP or IPv4. */
static void
format_l3_addresses(struct ds *s, const struct match *match, bool is_arp)
{
    const struct flow *f = &match->flow;
    const struct flow *w = &match->wc.masks;

    if (f->dl_type == htons(ETH_TYPE_IPV6)) {
        format_field(s, "ipv6_src", FIELD_IPV6_SRC, match);
        format_field(s, "ipv6_dst", FIELD_IPV6_DST, match);
        if (w->ipv6_label == htonl(IPV6_LABEL_MASK)) {
            ds_put_format(s, "ipv6_label=0x%05" PRIx32 ",",
                          ntohl(f->ipv6_label));
        } else if (w->ipv6_label) {
            ds_put_format(s, "ipv6_label=0x%05" PRIx32 "/0x%05" PRIx32 ",",
                          ntohl(f->ipv6_label), ntohl(w->ipv6_label));
        }
    } else if (is_arp) {
        format_field(s, "arp_spa", FIELD_ARP_SPA, match);
        format_field(s, "arp_tpa", FIELD_ARP_TPA, match);
    } else {
        format_field(s, "nw_src", FIELD_IP_SRC, match);
        format_field(s, "nw_dst", FIELD_IP_DST, match);
    }
}

static void
format_nw_frag(struct ds *s, const struct flow *f, const struct flow *w)
{
    switch (w->nw_frag & FLOW_NW_FRAG_MASK) {
    case FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER:
        ds_put_format(
            s, "nw_frag=%s,",
            f->nw_frag & FLOW_NW_FRAG_ANY
                ? (f->nw_frag & FLOW_NW_FRAG_LATER ? "later" : "first")
                : (f->nw_frag & FLOW_NW_FRAG_LATER ? "<error>" : "no"));
        break;
    case FLOW_NW_FRAG_ANY:
        ds_put_format(s, "nw_frag=%s,",
                      f->nw_frag & FLOW_NW_FRAG_ANY ? "yes" : "no");
        break;
    case FLOW_NW_FRAG_LATER:
        ds_put_format(s, "nw_frag=%s,",
                      f->nw_frag & FLOW_NW_FRAG_LATER ? "later" : "not_later");
        break;
    }
}

/* Addresses, protocol (or ARP opcode and hardware addresses), TOS, TTL
 * and fragments. */
static void
format_l3_fields(struct ds *s, const struct match *match, bool skip_proto)
{
    const struct flow *f = &match->flow;
    const struct flow *w = &match->wc.masks;
    bool is_arp = f->dl_type == htons(ETH_TYPE_ARP)
                  || f->dl_type == htons(ETH_TYPE_RARP);

    format_l3_addresses(s, match, is_arp);
    if (!skip_proto && w->nw_proto) {
        ds_put_format(s, "%s=%u,", is_arp ? "arp_op" : "nw_proto",
                      f->nw_proto);
    }
    if (is_arp) {
        format_field(s, "arp_sha", FIELD_ARP_SHA, match);
        format_field(s, "arp_tha", FIELD_ARP_THA, match);
    }
    if (w->nw_tos & IP_DSCP_MASK) {
        ds_put_format(s, "nw_tos=%u,", f->nw_tos & IP_DSCP_MASK);
    }
    if (w->nw_tos & IP_ECN_MASK) {
        ds_put_format(s, "nw_ecn=%u,", f->nw_tos & IP_ECN_MASK);
    }
    if (w->nw_ttl) {
        ds_put_format(s, "nw_ttl=%u,", f->nw_ttl);
    }
    format_nw_frag(s, f, w);
}

/* Ports (or ICMP type and code, and neighbour discovery) and TCP flags. */
static void
format_l4_fields(struct ds *s, const struct match *match)
{
    const struct flow *f = &match->flow;
    const struct flow *w = &match->wc.masks;
    bool icmp4 =
        f->dl_type == htons(ETH_TYPE_IP) && f->nw_proto == IPPROTO_ICMP_;
    bool icmp6 =
        f->dl_type == htons(ETH_TYPE_IPV6) && f->nw_proto == IPPROTO_ICMPV6_;

    if (icmp4 || icmp6) {
        format_be16_masked(s, "icmp_type", f->tp_src, w->tp_src);
        format_be16_masked(s, "icmp_code", f->tp_dst, w->tp_dst);
        if (icmp6) {
            format_field(s, "nd_target", FIELD_ND_TARGET, match);
            format_field(s, "nd_sll", FIELD_ND_SLL, match);
            format_field(s, "nd_tll", FIELD_ND_TLL, match);
        }
    } else {
        format_be16_masked(s, "tp_src", f->tp_src, w->tp_src);
        format_be16_masked(s, "tp_dst", f->tp_dst, w->tp_dst);
    }
    if ((f->dl_type == htons(ETH_TYPE_IP)
         || f->dl_type == htons(ETH_TYPE_IPV6))
        && f->nw_proto == IPPROTO_TCP_) {
        format_tcp_flags_field(s, match);
    }
}

void
match_format(const struct match *match, int priority, struct ds *s)
{
    size_t start = s->length;
    bool skip_proto;
    const char *shorthand =
        dl_type_shorthand(&match->flow, &match->wc.masks, &skip_proto);

    if (priority >= 0 && priority != FLOW_TEXT_DEFAULT_PRIORITY) {
        ds_put_format(s, "priority=%d,", priority);
    }
    if (shorthand) {
        ds_put_format(s, "%s,", shorthand);
    }
    format_pipeline_fields(s, &match->flow, &match->wc.masks);
    format_l2_fields(s, match, shorthand != NULL);
    format_l3_fields(s, match, skip_proto);
    format_l4_fields(s, match);
    if (s->length > start) {
        ds_chomp(s, ",");
    }
}

static const char *const flag_names[] = {
    "send_flow_rem",    "check_overlap",  "reset_counts",
    "no_packet_counts", "no_byte_counts",
};

static void
format_flags(uint32_t flags, struct ds *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++) {
        if (flags & (1u << i)) {
            ds_put_format(s, "%s ", flag_names[i]);
        }
    }
}

static uint8_t
default_table(enum flow_text_mode mode)
{
    return mode == FLOW_TEXT_ADD ? 0 : FLOW_TEXT_TABLE_ALL;
}

/* The style of `ovs-ofctl parse-flows`, after "OFPT_FLOW_MOD ...: ADD ". */
static void
format_flow_mod(const struct flow_text *ft, struct ds *s)
{
    size_t start = s->length;

    if (ft->table_id != default_table(ft->mode)) {
        ds_put_format(s, "table:%u ", ft->table_id);
    }
    match_format(&ft->match, ft->priority, s);
    if (s->length > start && ds_last(s) != ' ') {
        ds_put_char(s, ' ');
    }
    if (ft->cookie && (ft->mode == FLOW_TEXT_ADD || ft->set_cookie)) {
        ds_put_format(s, "cookie:%#" PRIx64 " ", ft->cookie);
    }
    if (ft->cookie_mask) {
        ds_put_format(s, "cookie:%#" PRIx64 "/%#" PRIx64 " ", ft->cookie_match,
                      ft->cookie_mask);
    }
    if (ft->idle_timeout) {
        ds_put_format(s, "idle:%u ", ft->idle_timeout);
    }
    if (ft->hard_timeout) {
        ds_put_format(s, "hard:%u ", ft->hard_timeout);
    }
    if (ft->importance) {
        ds_put_format(s, "importance:%u ", ft->importance);
    }
    if (ft->out_port != OFPP_ANY) {
        ds_put_cstr(s, "out_port:");
        field_format_port(ft->out_port, s);
        ds_put_char(s, ' ');
    }
    format_flags(ft->flags, s);
    if (!is_delete(ft->mode)) {
        ds_put_cstr(s, "actions=");
        ofpacts_format(&ft->ofpacts, s);
    } else if (s->length > start) {
        ds_chomp(s, " ");
    }
}

/* The style of `ovs-ofctl dump-flows --no-stats`, which parses back. */
static void
format_dump(const struct flow_text *ft, struct ds *s)
{
    size_t start = s->length;

    if (ft->mode == FLOW_TEXT_ADD ? ft->cookie != 0 : ft->set_cookie) {
        ds_put_format(s, "cookie=%#" PRIx64 ", ", ft->cookie);
    }
    if (ft->cookie_mask) {
        ds_put_format(s, "cookie=%#" PRIx64 "/%#" PRIx64 ", ",
                      ft->cookie_match, ft->cookie_mask);
    }
    if (ft->table_id != default_table(ft->mode)) {
        ds_put_format(s, "table=%u, ", ft->table_id);
    }
    if (ft->idle_timeout) {
        ds_put_format(s, "idle_timeout=%u, ", ft->idle_timeout);
    }
    if (ft->hard_timeout) {
        ds_put_format(s, "hard_timeout=%u, ", ft->hard_timeout);
    }
    format_flags(ft->flags, s);
    if (ft->importance) {
        ds_put_format(s, "importance=%u, ", ft->importance);
    }
    if (ft->out_port != OFPP_ANY) {
        ds_put_cstr(s, "out_port=");
        field_format_port(ft->out_port, s);
        ds_put_cstr(s, ", ");
    }

    size_t match_start = s->length;

    match_format(&ft->match, ft->priority, s);
    if (s->length > match_start) {
        ds_put_char(s, ' ');
    }
    if (!is_delete(ft->mode)) {
        ds_put_cstr(s, "actions=");
        ofpacts_format(&ft->ofpacts, s);
    } else if (s->length > start) {
        ds_chomp(s, ", ");
    }
}

void
flow_text_format(const struct flow_text *ft, enum flow_text_style style,
                 struct ds *s)
{
    if (style == FLOW_TEXT_STYLE_FLOW_MOD) {
        format_flow_mod(ft, s);
    } else {
        format_dump(ft, s);
    }
}

/* ---- Flow files --------------------------------------------------------- */

static const struct {
    const char *word;
    enum flow_text_mode mode;
} mode_keywords[] = {
    {"add", FLOW_TEXT_ADD},
    {"modify", FLOW_TEXT_MODIFY},
    {"modify_strict", FLOW_TEXT_MODIFY_STRICT},
    {"delete", FLOW_TEXT_DELETE},
    {"delete_strict", FLOW_TEXT_DELETE_STRICT},
};

const char *
flow_text_mode_keyword(enum flow_text_mode mode)
{
    for (size_t i = 0; i < ARRAY_SIZE(mode_keywords); i++) {
        if (mode_keywords[i].mode == mode) {
            return mode_keywords[i].word;
        }
    }
    return "add";
}

/* In an add file, takes the command word that may start '*linep' (white
 * space before it, then the word, ended as a token is): returns its mode
 * and advances '*linep' past it.  Without one, returns 'file_mode'. */
static enum flow_text_mode
take_mode_keyword(const char **linep, enum flow_text_mode file_mode)
{
    const char *line = *linep + strspn(*linep, " \t\r\n");
    size_t len = strcspn(line, separators);

    if (file_mode != FLOW_TEXT_ADD) {
        return file_mode;
    }
    for (size_t i = 0; i < ARRAY_SIZE(mode_keywords); i++) {
        if (strlen(mode_keywords[i].word) == len
            && !strncmp(line, mode_keywords[i].word, len)) {
            *linep = line + len;
            return mode_keywords[i].mode;
        }
    }
    return file_mode;
}

/* Reads one line of 'stream' into 's' without its newline.  Returns false
 * at the end of the file. */
static bool
read_file_line(FILE *stream, struct ds *s)
{
    int c;

    ds_clear(s);
    while ((c = getc(stream)) != EOF && c != '\n') {
        ds_put_char(s, (char)c);
    }
    return c != EOF || s->length > 0;
}

/* Cuts the '#' comment off 's'.  Returns true if anything but white space
 * is left. */
static bool
strip_comment(struct ds *s)
{
    const char *text = ds_cstr(s);
    const char *hash = strchr(text, '#');

    if (hash) {
        ds_truncate(s, (size_t)(hash - text));
        text = ds_cstr(s);
    }
    return text[strspn(text, " \t\r\n")] != '\0';
}

/* Parses 'text', line 'file->n_lines' of the file 'name' in 'file_mode',
 * and appends its flow or its error line to 'file'.  Returns true if it
 * parsed. */
static bool
flow_text_file_add_line(struct flow_text_file *file, const char *name,
                        const char *text, enum flow_text_mode file_mode)
{
    enum flow_text_mode mode = take_mode_keyword(&text, file_mode);
    struct flow_text ft;
    char *error;

    if (flow_text_parse(text, mode, &ft, &error)) {
        file->errors = xgrow(file->errors, &file->allocated_errors,
                             file->n_errors + 1, sizeof *file->errors);
        file->errors[file->n_errors++] =
            xasprintf("%s:%u: %s", name, file->n_lines, error);
        free(error);
        return false;
    }
    file->flows = xgrow(file->flows, &file->allocated_flows, file->n_flows + 1,
                        sizeof *file->flows);
    file->flows[file->n_flows++] = ft;
    return true;
}

int
flow_text_parse_file(FILE *stream, const char *name,
                     const struct flow_text_file_options *options,
                     struct flow_text_file *file)
{
    struct ds line = DS_EMPTY_INITIALIZER;
    int error = 0;

    memset(file, 0, sizeof *file);
    while (!error && read_file_line(stream, &line)) {
        file->n_lines++;
        if (!strip_comment(&line)) {
            continue;
        }
        if (options->max_flows && file->n_flows >= options->max_flows) {
            /* Memory for the parsed file stays bounded. */
            error = EFBIG;
        } else if (!flow_text_file_add_line(file, name, ds_cstr(&line),
                                            options->mode)
                   && file->n_errors == options->max_errors) {
            error = EINVAL;
        }
    }
    ds_destroy(&line);
    if (!error && ferror(stream)) {
        return EIO;
    }
    return error ? error : file->n_errors ? EINVAL : 0;
}

void
flow_text_file_destroy(struct flow_text_file *file)
{
    for (size_t i = 0; i < file->n_flows; i++) {
        flow_text_destroy(&file->flows[i]);
    }
    free(file->flows);
    for (size_t i = 0; i < file->n_errors; i++) {
        free(file->errors[i]);
    }
    free(file->errors);
    memset(file, 0, sizeof *file);
}
