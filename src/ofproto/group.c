/*
 * ofproto/group.c — group-mods, their text, and the group table
 * (group.h).
 *
 * The table is a pointer to an immutable snapshot: an array of group
 * pointers sorted by id.  Each snapshot holds a reference on each of its
 * groups; a group-mod builds the next snapshot, publishes it with a
 * release store and retires the old one after a grace period, when its
 * references are dropped.  A group is freed by its last reference, which
 * may be an xlate cache's.
 */
#include "ofproto/group.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flow/actset.h"
#include "flow/field.h"
#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/rcu.h"
#include "lib/util.h"

COVERAGE_DEFINE(group_mod_refused);

/* ---- Group-mods --------------------------------------------------------- */

void
group_mod_init(struct group_mod *gm, enum group_mod_command command)
{
    memset(gm, 0, sizeof *gm);
    gm->command = command;
    gm->type = GROUP_TYPE_ALL;
}

void
group_mod_destroy(struct group_mod *gm)
{
    for (size_t i = 0; i < gm->n_buckets; i++) {
        ofpacts_destroy(&gm->buckets[i].ofpacts);
    }
    free(gm->buckets);
    gm->buckets = NULL;
    gm->n_buckets = gm->allocated_buckets = 0;
    group_selection_destroy(&gm->selection);
}

void
group_selection_clone(struct group_selection *dst,
                      const struct group_selection *src)
{
    *dst = *src;
    dst->fields = NULL;
    if (src->n_fields) {
        dst->fields = xcalloc(src->n_fields, sizeof *dst->fields);
        memcpy(dst->fields, src->fields, src->n_fields * sizeof *dst->fields);
    }
}

void
group_selection_destroy(struct group_selection *sel)
{
    free(sel->fields);
    memset(sel, 0, sizeof *sel);
}

struct group_bucket *
group_mod_add_bucket(struct group_mod *gm)
{
    struct group_bucket *b;

    gm->buckets = xgrow(gm->buckets, &gm->allocated_buckets, gm->n_buckets + 1,
                        sizeof *gm->buckets);
    b = &gm->buckets[gm->n_buckets++];
    b->weight = 1;
    b->watch_port = OFPP_ANY;
    b->watch_group = GROUP_ID_ANY;
    ofpacts_init(&b->ofpacts);
    return b;
}

bool
group_ofpacts_use(const struct ofpacts *ofpacts, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_WRITE_ACTIONS
            && group_ofpacts_use(a->nested, ids, n)) {
            return true;
        }
        for (size_t j = 0; a->type == OFPACT_GROUP && j < n; j++) {
            if (a->group_id == ids[j]) {
                return true;
            }
        }
    }
    return false;
}

const char *
group_type_name(uint8_t type)
{
    static const char *const names[] = {"all", "select", "indirect", "ff"};

    return type < ARRAY_SIZE(names) ? names[type] : NULL;
}

/* ---- Text --------------------------------------------------------------- */

/* What ovs-ofctl refuses before it sends a group-mod; non-select buckets
 * get weight 0, as ovs-ofctl sends them. */
static int
group_mod_check_text(struct group_mod *gm, bool weight_given, char **errorp)
{
    if (gm->type != GROUP_TYPE_SELECT) {
        if (weight_given) {
            *errorp = xstrdup("group: only select groups can have bucket "
                              "weights");
            return EINVAL;
        }
        for (size_t i = 0; i < gm->n_buckets; i++) {
            gm->buckets[i].weight = 0;
        }
    }
    if (gm->type == GROUP_TYPE_INDIRECT && gm->n_buckets > 1) {
        *errorp = xstrdup("group: indirect groups can have at most one "
                          "bucket");
        return EINVAL;
    }
    for (size_t i = 0; i < gm->n_buckets; i++) {
        const struct group_bucket *b = &gm->buckets[i];

        if (gm->type == GROUP_TYPE_FF && b->watch_port == OFPP_ANY
            && b->watch_group == GROUP_ID_ANY) {
            *errorp = xstrdup("group: fast failover bucket requires "
                              "watch_port or watch_group");
            return EINVAL;
        }
    }
    return 0;
}

/* The offset of the next "bucket=" at parenthesis depth 0 at or after
 * 'ofs' that starts 's' or follows a comma, or strlen(s). */
static size_t
next_bucket(const char *s, size_t ofs)
{
    int depth = 0;

    for (size_t i = ofs; s[i]; i++) {
        if (s[i] == '(') {
            depth++;
        } else if (s[i] == ')') {
            depth--;
        } else if (!depth && (i == 0 || s[i - 1] == ',')
                   && !strncasecmp(s + i, "bucket=", 7)) {
            return i;
        }
    }
    return strlen(s);
}

static int
parse_u32(const char *s, uint64_t max, const char *what, const char *text,
          uint32_t *valuep, char **errorp)
{
    uint64_t x;

    if (!field_parse_uint(s, max, &x)) {
        *errorp = xasprintf("group: bad %s \"%s\" in \"%s\" (expected an "
                            "integer from 0 to %" PRIu64 ")",
                            what, s, text, max);
        return EINVAL;
    }
    *valuep = (uint32_t)x;
    return 0;
}

static int
parse_watch_port(const char *s, const char *text, uint32_t *portp,
                 char **errorp)
{
    if (!strcasecmp(s, "any")) {
        *portp = OFPP_ANY;
        return 0;
    }
    if (!field_parse_port(s, portp) || !*portp
        || (*portp >= OFPP_MAX && *portp != OFPP_LOCAL)) {
        *errorp = xasprintf("group: bad watch_port \"%s\" in \"%s\" "
                            "(expected a port number or LOCAL)",
                            s, text);
        return EINVAL;
    }
    return 0;
}

/* One "KEY:VALUE" bucket property. */
static int
parse_bucket_property(const char *key, const char *value, const char *text,
                      struct group_bucket *b, char **errorp)
{
    uint32_t x;

    if (!strcasecmp(key, "weight")) {
        if (parse_u32(value, UINT16_MAX, "weight", text, &x, errorp)) {
            return EINVAL;
        }
        b->weight = (uint16_t)x;
        return 0;
    } else if (!strcasecmp(key, "watch_port")) {
        return parse_watch_port(value, text, &b->watch_port, errorp);
    } else if (!strcasecmp(key, "watch_group")) {
        if (!strcasecmp(value, "any")) {
            b->watch_group = GROUP_ID_ANY;
            return 0;
        }
        return parse_u32(value, GROUP_ID_MAX, "watch_group", text,
                         &b->watch_group, errorp);
    } else if (!strcasecmp(key, "bucket_id")) {
        return parse_u32(value, GROUP_ID_MAX, "bucket_id", text, &x, errorp);
    }
    *errorp = xasprintf("group: unknown bucket property \"%s\" in \"%s\" "
                        "(expected weight, watch_port, watch_group or "
                        "actions)",
                        key, text);
    return EINVAL;
}

/* A bucket holds actions, not instructions (ovs-ofctl: "goto_table
 * instruction not allowed here"). */
static int
check_bucket_actions(const struct ofpacts *ofpacts, const char *text,
                     char **errorp)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        enum ofpact_type type = ofpacts->acts[i].type;

        if (type == OFPACT_GOTO_TABLE || type == OFPACT_WRITE_METADATA) {
            *errorp = xasprintf("group: %s is an instruction, not allowed "
                                "in bucket \"%s\" (expected actions)",
                                type == OFPACT_GOTO_TABLE ? "goto_table"
                                                          : "write_metadata",
                                text);
            return EINVAL;
        }
    }
    return 0;
}

static bool
is_bucket_property(const char *p, size_t n)
{
    static const char *const names[] = {"weight", "watch_port", "watch_group",
                                        "bucket_id"};

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (strlen(names[i]) == n && !strncasecmp(p, names[i], n)) {
            return true;
        }
    }
    return false;
}

/* Parses 'text', the part after "bucket=", as a new bucket of 'gm'.
 * Sets '*weight_given' if it has a weight. */
static int
parse_bucket(const char *text, struct group_mod *gm, bool *weight_given,
             char **errorp)
{
    struct group_bucket *b = group_mod_add_bucket(gm);
    const char *p = text;
    char *actions_error = NULL;

    for (;;) {
        size_t klen = strcspn(p, ":=,");
        size_t vlen;
        char *key, *value;
        int error;

        if (p[klen] != ':' || !is_bucket_property(p, klen)) {
            break;
        }
        *weight_given |= klen == 6 && !strncasecmp(p, "weight", 6);
        vlen = strcspn(p + klen + 1, ",");
        key = xmemdup0(p, klen);
        value = xmemdup0(p + klen + 1, vlen);
        error = parse_bucket_property(key, value, text, b, errorp);
        free(key);
        free(value);
        if (error) {
            return error;
        }
        p += klen + 1 + vlen;
        p += *p == ',';
    }
    if (!strncasecmp(p, "actions=", 8)) {
        p += 8;
    }
    ofpacts_destroy(&b->ofpacts);
    if (ofpacts_parse(p, &b->ofpacts, &actions_error)) {
        *errorp =
            xasprintf("group: %s (in bucket \"%s\")", actions_error, text);
        free(actions_error);
        return EINVAL;
    }
    return check_bucket_actions(&b->ofpacts, text, errorp);
}

static int
parse_group_type(const char *value, uint8_t *typep, char **errorp)
{
    for (unsigned int t = 0; t <= GROUP_TYPE_FF; t++) {
        if (!strcasecmp(value, group_type_name((uint8_t)t))) {
            *typep = (uint8_t)t;
            return 0;
        }
    }
    if (!strcasecmp(value, "fast_failover")) {
        *typep = GROUP_TYPE_FF;
        return 0;
    }
    *errorp = xasprintf("group: bad type \"%s\" (expected all, select, "
                        "indirect or ff)",
                        value);
    return EINVAL;
}

/* Open vSwitch's meta-field order (MFF_*), in which a selection method's
 * fields are kept, hashed and printed. */
static unsigned int
field_ovs_rank(enum field_id id)
{
    static const enum field_id order[] = {
        FIELD_TUN_ID,      FIELD_METADATA,    FIELD_IN_PORT,
        FIELD_REG0,        FIELD_REG1,        FIELD_REG2,
        FIELD_REG3,        FIELD_REG4,        FIELD_REG5,
        FIELD_REG6,        FIELD_REG7,        FIELD_ETH_SRC,
        FIELD_ETH_DST,     FIELD_ETH_TYPE,    FIELD_VLAN_TCI,
        FIELD_DL_VLAN,     FIELD_VLAN_VID,    FIELD_DL_VLAN_PCP,
        FIELD_VLAN_PCP,    FIELD_MPLS_LABEL,  FIELD_MPLS_TC,
        FIELD_MPLS_BOS,    FIELD_MPLS_TTL,    FIELD_IP_SRC,
        FIELD_IP_DST,      FIELD_IPV6_SRC,    FIELD_IPV6_DST,
        FIELD_IPV6_LABEL,  FIELD_NW_PROTO,    FIELD_NW_TOS,
        FIELD_IP_DSCP,     FIELD_NW_ECN,      FIELD_NW_TTL,
        FIELD_IP_FRAG,     FIELD_ARP_OP,      FIELD_ARP_SPA,
        FIELD_ARP_TPA,     FIELD_ARP_SHA,     FIELD_ARP_THA,
        FIELD_TCP_SRC,     FIELD_TCP_DST,     FIELD_TCP_FLAGS,
        FIELD_UDP_SRC,     FIELD_UDP_DST,     FIELD_SCTP_SRC,
        FIELD_SCTP_DST,    FIELD_ICMP_TYPE,   FIELD_ICMP_CODE,
        FIELD_ICMPV6_TYPE, FIELD_ICMPV6_CODE, FIELD_ND_TARGET,
        FIELD_ND_SLL,      FIELD_ND_TLL,
    };

    for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
        if (order[i] == id) {
            return i;
        }
    }
    return ARRAY_SIZE(order); /* tp_src and tp_dst never get here. */
}

/* One "NAME" or "NAME=MASK" of fields(...), put in its place in the
 * Open vSwitch order. */
static int
parse_hash_field(const char *tok, struct group_selection *sel, char **errorp)
{
    const char *eq = strchr(tok, '=');
    char *name = eq ? xmemdup0(tok, (size_t)(eq - tok)) : xstrdup(tok);
    const struct field *f = field_from_name(name);
    struct group_hash_field hf;
    union field_value mask;
    size_t at;
    int error = EINVAL;

    if (f && (f->id == FIELD_TP_SRC || f->id == FIELD_TP_DST)) {
        /* Open vSwitch's tp_src is tcp_src, TCP only. */
        f = field_from_id(f->id == FIELD_TP_SRC ? FIELD_TCP_SRC
                                                : FIELD_TCP_DST);
    }
    if (!f) {
        *errorp = xasprintf("group: unknown field \"%s\" in fields "
                            "(expected a match field such as ip_src)",
                            name);
        goto out;
    }
    memset(&hf, 0, sizeof hf);
    hf.id = f->id;
    if (!eq) {
        field_all_ones(f, &hf.mask);
    } else if (field_parse_value(f, eq + 1, tok, &hf.mask, &mask, errorp)) {
        char *inner = *errorp;

        *errorp = xasprintf("group: bad mask in fields: %s", inner);
        free(inner);
        goto out;
    } else if (!field_value_is_all_ones(f, &mask)) {
        *errorp = xasprintf("group: \"%s\" has a mask of its own (in "
                            "fields the value is the mask)",
                            tok);
        goto out;
    } else if (field_value_is_zero(f, &hf.mask)) {
        *errorp = xasprintf("group: \"%s\" hashes no bit (a mask in "
                            "fields must not be all zeros)",
                            tok);
        goto out;
    } else if (!f->maskable && !field_value_is_all_ones(f, &hf.mask)) {
        *errorp = xasprintf("group: \"%s\": %s takes no mask but all "
                            "ones",
                            tok, f->name);
        goto out;
    }
    for (at = 0; at < sel->n_fields; at++) {
        if (sel->fields[at].id == f->id) {
            *errorp = xasprintf("group: %s is in fields twice", f->name);
            goto out;
        }
        if (field_ovs_rank(sel->fields[at].id) > field_ovs_rank(f->id)) {
            break;
        }
    }
    sel->fields =
        xrealloc(sel->fields, (sel->n_fields + 1) * sizeof *sel->fields);
    memmove(&sel->fields[at + 1], &sel->fields[at],
            (sel->n_fields - at) * sizeof *sel->fields);
    sel->fields[at] = hf;
    sel->n_fields++;
    error = 0;
out:
    free(name);
    return error;
}

/* The list inside fields(...) or after fields=. */
static int
parse_hash_fields(const char *value, struct group_selection *sel,
                  char **errorp)
{
    char *list = xstrdup(value);
    char *save = NULL;
    int error = 0;

    if (sel->n_fields) {
        *errorp = xstrdup("group: fields given twice");
        error = EINVAL;
    }
    for (char *tok = strtok_r(list, ",", &save); tok && !error;
         tok = strtok_r(NULL, ",", &save)) {
        error = parse_hash_field(tok, sel, errorp);
    }
    free(list);
    return error;
}

static int
parse_selection_method(const char *value, struct group_selection *sel,
                       char **errorp)
{
    if (!strcmp(value, "hash")) {
        sel->hash = true;
        return 0;
    }
    if (!strcmp(value, "dp_hash")) {
        *errorp = xstrdup("group: selection_method=dp_hash is not supported "
                          "(flowswitch selects a bucket in translation, not "
                          "in the datapath: use hash or the default)");
    } else {
        *errorp = xasprintf("group: selection_method \"%s\" is not "
                            "supported (expected hash)",
                            value);
    }
    return EINVAL;
}

/* One KEY=VALUE (or fields(VALUE)) of the part before the buckets. */
static int
parse_group_field(const char *key, const char *value, struct group_mod *gm,
                  char **errorp)
{
    if (!strcasecmp(key, "group_id")) {
        if (!strcasecmp(value, "all")) {
            gm->group_id = GROUP_ID_ALL;
            return 0;
        }
        return parse_u32(value, UINT32_MAX, "group_id", value, &gm->group_id,
                         errorp);
    } else if (!strcasecmp(key, "type")) {
        return parse_group_type(value, &gm->type, errorp);
    } else if (gm->command == GROUP_MOD_DELETE
               && (!strcmp(key, "selection_method")
                   || !strcmp(key, "selection_method_param")
                   || !strcmp(key, "fields"))) {
        *errorp = xasprintf("group: %s is not needed to delete a group", key);
        return EINVAL;
    } else if (!strcmp(key, "selection_method")) {
        return parse_selection_method(value, &gm->selection, errorp);
    } else if (!strcmp(key, "selection_method_param")) {
        if (!field_parse_uint(value, UINT64_MAX, &gm->selection.param)) {
            *errorp = xasprintf("group: bad selection_method_param \"%s\" "
                                "(expected an unsigned 64-bit integer)",
                                value);
            return EINVAL;
        }
        return 0;
    } else if (!strcmp(key, "fields")) {
        return parse_hash_fields(value, &gm->selection, errorp);
    }
    *errorp = xasprintf("group: unknown field \"%s\" (expected group_id, "
                        "type, selection_method, selection_method_param, "
                        "fields or bucket)",
                        key);
    return EINVAL;
}

/* The end of the comma-separated item that starts at 's[i]' in
 * 's[0..n)': the next comma outside parentheses, or 'n'. */
static size_t
head_item_end(const char *s, size_t i, size_t n)
{
    int depth = 0;

    for (; i < n; i++) {
        if (s[i] == '(') {
            depth++;
        } else if (s[i] == ')') {
            depth -= depth > 0;
        } else if (s[i] == ',' && !depth) {
            break;
        }
    }
    return i;
}

/* One item of the head: "KEY=VALUE" or "KEY(VALUE)". */
static int
parse_head_item(char *item, struct group_mod *gm, bool *seen_id, char **errorp)
{
    size_t klen = strcspn(item, "=(");
    char *value = item + klen;

    if (!*value) {
        *errorp = xasprintf("group: \"%s\" has no value (expected "
                            "KEY=VALUE)",
                            item);
        return EINVAL;
    }
    if (*value == '(') {
        size_t vlen = strlen(value);

        if (value[vlen - 1] != ')') {
            *errorp = xasprintf("group: \"%s\" lacks its closing "
                                "parenthesis",
                                item);
            return EINVAL;
        }
        value[vlen - 1] = '\0';
    }
    *value++ = '\0';
    *seen_id |= !strcasecmp(item, "group_id");
    return parse_group_field(item, value, gm, errorp);
}

/* Parses "group_id=N,type=T,..." in 's[0..n)'; sets '*seen_id'. */
static int
parse_group_head(const char *s, size_t n, struct group_mod *gm, bool *seen_id,
                 char **errorp)
{
    int error = 0;

    for (size_t i = 0; i < n && !error;) {
        size_t end = head_item_end(s, i, n);
        char *item = xmemdup0(s + i, end - i);

        if (*item) {
            error = parse_head_item(item, gm, seen_id, errorp);
        }
        free(item);
        i = end + 1;
    }
    return error;
}

/* What Open vSwitch refuses of a selection method (ovs-ofctl and the
 * switch). */
static int
check_selection_text(const struct group_mod *gm, char **errorp)
{
    const struct group_selection *sel = &gm->selection;

    if (sel->n_fields && !sel->hash) {
        *errorp = xstrdup("group: fields need \"selection_method=hash\"");
        return EINVAL;
    }
    if (sel->param && !sel->hash) {
        *errorp = xstrdup("group: selection_method_param needs "
                          "\"selection_method\"");
        return EINVAL;
    }
    if (sel->hash && gm->type != GROUP_TYPE_SELECT) {
        *errorp = xasprintf("group: selection_method is only for select "
                            "groups (group %" PRIu32 " is %s)",
                            gm->group_id, group_type_name(gm->type));
        return EINVAL;
    }
    return 0;
}

int
group_mod_parse(const char *text, enum group_mod_command command,
                struct group_mod *gm, char **errorp)
{
    size_t ofs = next_bucket(text, 0);
    bool seen_id = false, weight_given = false;
    int error;

    *errorp = NULL;
    group_mod_init(gm, command);
    if (command == GROUP_MOD_DELETE && !text[0]) {
        gm->group_id = GROUP_ID_ALL;
        return 0;
    }
    error = parse_group_head(text, ofs, gm, &seen_id, errorp);
    while (!error && text[ofs]) {
        size_t start = ofs + 7;
        size_t end = next_bucket(text, start);
        size_t len = end - start;
        char *bucket;

        if (len && text[end] && text[end - 1] == ',') {
            len--;
        }
        bucket = xmemdup0(text + start, len);
        error = parse_bucket(bucket, gm, &weight_given, errorp);
        free(bucket);
        ofs = end;
    }
    if (!error && !seen_id) {
        *errorp = xasprintf("group: missing group_id in \"%s\"", text);
        error = EINVAL;
    }
    if (!error && command != GROUP_MOD_DELETE) {
        error = check_selection_text(gm, errorp);
    }
    if (!error && command != GROUP_MOD_DELETE) {
        error = group_mod_check_text(gm, weight_given, errorp);
    }
    return error;
}

enum group_error
group_mod_check(const struct group_mod *gm, char **errorp)
{
    *errorp = NULL;
    if (gm->command == GROUP_MOD_DELETE) {
        return GROUP_OK;
    }
    if (gm->command != GROUP_MOD_ADD && gm->command != GROUP_MOD_MODIFY) {
        *errorp = xasprintf("group: bad command %d", (int)gm->command);
        return GROUP_ERR_BAD_COMMAND;
    }
    if (gm->group_id > GROUP_ID_MAX) {
        *errorp = xasprintf("group: bad group_id %" PRIu32 " (expected 0 "
                            "to %" PRIu32 ")",
                            gm->group_id, GROUP_ID_MAX);
        return GROUP_ERR_INVALID_GROUP;
    }
    if (!group_type_name(gm->type)) {
        *errorp = xasprintf("group: bad type %u (expected all, select, "
                            "indirect or ff)",
                            gm->type);
        return GROUP_ERR_BAD_TYPE;
    }
    if (gm->type != GROUP_TYPE_SELECT
        && (gm->selection.hash || gm->selection.n_fields)) {
        *errorp = xasprintf("group: %s group %" PRIu32 " has a selection "
                            "method (only select groups select)",
                            group_type_name(gm->type), gm->group_id);
        return GROUP_ERR_INVALID_GROUP;
    }
    if (gm->type == GROUP_TYPE_INDIRECT && gm->n_buckets != 1) {
        *errorp = xasprintf("group: indirect group %" PRIu32 " has %zu "
                            "buckets (expected exactly one)",
                            gm->group_id, gm->n_buckets);
        return GROUP_ERR_INVALID_GROUP;
    }
    if (gm->n_buckets > GROUP_MAX_BUCKETS) {
        *errorp = xasprintf("group: %zu buckets (expected at most %d)",
                            gm->n_buckets, GROUP_MAX_BUCKETS);
        return GROUP_ERR_OUT_OF_BUCKETS;
    }
    for (size_t i = 0; i < gm->n_buckets; i++) {
        const struct group_bucket *b = &gm->buckets[i];

        if (gm->type != GROUP_TYPE_FF
            && (b->watch_port != OFPP_ANY || b->watch_group != GROUP_ID_ANY)) {
            *errorp = xasprintf("group: bucket %zu of %s group %" PRIu32
                                " watches a port or group (only ff groups "
                                "watch)",
                                i, group_type_name(gm->type), gm->group_id);
            return GROUP_ERR_WATCH_UNSUPPORTED;
        }
    }
    return GROUP_OK;
}

/* ---- Groups ------------------------------------------------------------- */

static struct ofgroup *
ofgroup_create(const struct group_mod *gm, uint64_t now)
{
    struct ofgroup *g =
        xzalloc(sizeof *g + gm->n_buckets * sizeof g->buckets[0]);

    g->group_id = gm->group_id;
    g->type = gm->type;
    g->created = now;
    g->refcnt = 1;
    g->n_buckets = gm->n_buckets;
    group_selection_clone(&g->selection, &gm->selection);
    for (size_t i = 0; i < gm->n_buckets; i++) {
        struct group_bucket *b = &g->buckets[i].b;

        *b = gm->buckets[i];
        ofpacts_clone(&b->ofpacts, &gm->buckets[i].ofpacts);
        actset_order(&b->ofpacts, &g->buckets[i].run);
        g->total_weight += b->weight;
    }
    return g;
}

void
ofgroup_ref(struct ofgroup *g)
{
    atomic_add_fetch_relaxed(&g->refcnt, 1);
}

void
ofgroup_unref(struct ofgroup *g)
{
    if (g && !atomic_sub_fetch_acq_rel(&g->refcnt, 1)) {
        for (size_t i = 0; i < g->n_buckets; i++) {
            ofpacts_destroy(&g->buckets[i].b.ofpacts);
            ofpacts_destroy(&g->buckets[i].run);
        }
        group_selection_destroy(&g->selection);
        free(g);
    }
}

void
ofgroup_credit(struct ofgroup *g, size_t bucket, uint64_t packets,
               uint64_t bytes)
{
    atomic_fetch_add_relaxed(&g->n_packets, packets);
    atomic_fetch_add_relaxed(&g->n_bytes, bytes);
    for (size_t i = 0; i < g->n_buckets; i++) {
        if (bucket == SIZE_MAX || bucket == i) {
            atomic_fetch_add_relaxed(&g->buckets[i].n_packets, packets);
            atomic_fetch_add_relaxed(&g->buckets[i].n_bytes, bytes);
        }
    }
}

/* ---- The table ---------------------------------------------------------- */

/* Immutable once published; holds a reference on each group. */
struct group_set {
    size_t n;
    struct ofgroup *groups[]; /* Sorted by id. */
};

struct group_table {
    struct group_set *set; /* RCU. */
};

static struct group_set *
group_set_alloc(size_t n)
{
    return xzalloc(sizeof(struct group_set) + n * sizeof(struct ofgroup *));
}

static void
group_set_free(void *set_)
{
    struct group_set *set = set_;

    for (size_t i = 0; i < set->n; i++) {
        ofgroup_unref(set->groups[i]);
    }
    free(set);
}

struct group_table *
group_table_create(void)
{
    struct group_table *t = xzalloc(sizeof *t);

    t->set = group_set_alloc(0);
    return t;
}

void
group_table_destroy(struct group_table *t)
{
    if (t) {
        group_set_free(t->set);
        free(t);
    }
}

static const struct group_set *
group_table_set(const struct group_table *t)
{
    return atomic_load_acquire(&t->set);
}

/* The index of the first group with an id >= 'id'. */
static size_t
group_set_find(const struct group_set *set, uint32_t id)
{
    size_t lo = 0, hi = set->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (set->groups[mid]->group_id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct ofgroup *
group_table_lookup(const struct group_table *t, uint32_t id)
{
    const struct group_set *set = group_table_set(t);
    size_t i = group_set_find(set, id);

    return i < set->n && set->groups[i]->group_id == id ? set->groups[i]
                                                        : NULL;
}

bool
group_table_exists(const struct group_table *t, uint32_t id)
{
    bool exists;

    rcu_read_begin();
    exists = group_table_lookup(t, id) != NULL;
    rcu_read_end();
    return exists;
}

/* Writer: the next snapshot is 'old' with the groups [skip_lo, skip_hi)
 * left out and 'add' (may be NULL) put in at 'skip_lo'. */
static void
group_table_publish(struct group_table *t, size_t skip_lo, size_t skip_hi,
                    struct ofgroup *add)
{
    struct group_set *old = t->set;
    struct group_set *new =
        group_set_alloc(old->n - (skip_hi - skip_lo) + (add != NULL));

    for (size_t i = 0; i < old->n; i++) {
        if (i == skip_lo && add) {
            new->groups[new->n++] = add;
        }
        if (i < skip_lo || i >= skip_hi) {
            ofgroup_ref(old->groups[i]);
            new->groups[new->n++] = old->groups[i];
        }
    }
    if (add && skip_lo == old->n) {
        new->groups[new->n++] = add;
    }
    atomic_store_release(&t->set, new);
    rcu_postpone(group_set_free, old);
}

enum group_error
group_table_apply(struct group_table *t, const struct group_mod *gm,
                  uint64_t now, uint32_t **removedp, size_t *n_removedp,
                  char **errorp)
{
    const struct group_set *set = t->set;
    enum group_error error = group_mod_check(gm, errorp);
    size_t i = group_set_find(set, gm->group_id);
    bool exists = i < set->n && set->groups[i]->group_id == gm->group_id;
    size_t lo = i, hi = i + exists;

    *removedp = NULL;
    *n_removedp = 0;
    if (!error && gm->command == GROUP_MOD_ADD && exists) {
        *errorp =
            xasprintf("group: group %" PRIu32 " already exists", gm->group_id);
        error = GROUP_ERR_GROUP_EXISTS;
    } else if (!error && gm->command == GROUP_MOD_MODIFY && !exists) {
        *errorp =
            xasprintf("group: no group %" PRIu32 " to modify", gm->group_id);
        error = GROUP_ERR_UNKNOWN_GROUP;
    }
    if (error) {
        COVERAGE_INC(group_mod_refused);
        return error;
    }
    if (gm->command == GROUP_MOD_DELETE) {
        if (gm->group_id == GROUP_ID_ALL) {
            lo = 0;
            hi = set->n;
        }
        if (lo == hi) {
            return GROUP_OK;
        }
        *removedp = xcalloc(hi - lo, sizeof **removedp);
        for (size_t k = lo; k < hi; k++) {
            (*removedp)[(*n_removedp)++] = set->groups[k]->group_id;
        }
    }
    /* A modified group keeps its age but counts from zero, as in Open
     * vSwitch. */
    group_table_publish(
        t, lo, hi,
        gm->command == GROUP_MOD_DELETE
            ? NULL
            : ofgroup_create(gm, exists ? set->groups[i]->created : now));
    return GROUP_OK;
}

/* ---- Snapshots and text -------------------------------------------------- */

static void
group_info_fill(const struct ofgroup *g, uint64_t now, struct group_info *gi)
{
    group_mod_init(&gi->desc, GROUP_MOD_ADD);
    gi->desc.group_id = g->group_id;
    gi->desc.type = g->type;
    group_selection_clone(&gi->desc.selection, &g->selection);
    gi->duration_ms = now > g->created ? now - g->created : 0;
    gi->n_packets = atomic_load_relaxed(&g->n_packets);
    gi->n_bytes = atomic_load_relaxed(&g->n_bytes);
    gi->bucket_packets = xcalloc(g->n_buckets + 1, sizeof(uint64_t));
    gi->bucket_bytes = xcalloc(g->n_buckets + 1, sizeof(uint64_t));
    for (size_t i = 0; i < g->n_buckets; i++) {
        struct group_bucket *b = group_mod_add_bucket(&gi->desc);
        const struct group_bucket *src = &g->buckets[i].b;

        b->weight = src->weight;
        b->watch_port = src->watch_port;
        b->watch_group = src->watch_group;
        ofpacts_destroy(&b->ofpacts);
        ofpacts_clone(&b->ofpacts, &src->ofpacts);
        gi->bucket_packets[i] = atomic_load_relaxed(&g->buckets[i].n_packets);
        gi->bucket_bytes[i] = atomic_load_relaxed(&g->buckets[i].n_bytes);
    }
}

size_t
group_table_collect(const struct group_table *t, uint32_t id, uint64_t now,
                    struct group_info **infosp)
{
    const struct group_set *set;
    size_t n = 0;

    rcu_read_begin();
    set = group_table_set(t);
    *infosp = xcalloc(set->n + 1, sizeof **infosp);
    for (size_t i = 0; i < set->n; i++) {
        if (id == GROUP_ID_ALL || set->groups[i]->group_id == id) {
            group_info_fill(set->groups[i], now, &(*infosp)[n++]);
        }
    }
    rcu_read_end();
    return n;
}

void
group_infos_free(struct group_info *infos, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        group_mod_destroy(&infos[i].desc);
        free(infos[i].bucket_packets);
        free(infos[i].bucket_bytes);
    }
    free(infos);
}

static void
group_format_bucket(const struct group_bucket *b, uint8_t type, struct ds *s)
{
    ds_put_cstr(s, ",bucket=");
    if (b->weight != (type == GROUP_TYPE_SELECT ? 1 : 0)) {
        ds_put_format(s, "weight:%u,", b->weight);
    }
    if (b->watch_port != OFPP_ANY) {
        ds_put_cstr(s, "watch_port:");
        field_format_port(b->watch_port, s);
        ds_put_char(s, ',');
    }
    if (b->watch_group != GROUP_ID_ANY) {
        ds_put_format(s, "watch_group:%" PRIu32 ",", b->watch_group);
    }
    ds_put_cstr(s, "actions=");
    ofpacts_format(&b->ofpacts, s);
}

/* As Open vSwitch prints it: one field as "fields=NAME", more in
 * parentheses, a mask after '=' when it is not all ones. */
static void
group_format_selection(const struct group_selection *sel, struct ds *s)
{
    if (!sel->hash) {
        return;
    }
    ds_put_cstr(s, ",selection_method=hash");
    if (sel->param) {
        ds_put_format(s, ",selection_method_param=%" PRIu64, sel->param);
    }
    if (sel->n_fields) {
        ds_put_cstr(s, sel->n_fields == 1 ? ",fields=" : ",fields(");
    }
    for (size_t i = 0; i < sel->n_fields; i++) {
        const struct field *f = field_from_id(sel->fields[i].id);

        ds_put_format(s, "%s%s", i ? "," : "", f->name);
        if (!field_value_is_all_ones(f, &sel->fields[i].mask)) {
            ds_put_char(s, '=');
            field_format_value(f, &sel->fields[i].mask, NULL, s);
        }
    }
    if (sel->n_fields > 1) {
        ds_put_char(s, ')');
    }
}

void
group_format(const struct group_mod *gm, struct ds *s)
{
    const char *name = group_type_name(gm->type);

    ds_put_format(s, "group_id=%" PRIu32 ",type=", gm->group_id);
    if (name) {
        ds_put_cstr(s, name);
    } else {
        ds_put_format(s, "%u", gm->type);
    }
    group_format_selection(&gm->selection, s);
    for (size_t i = 0; i < gm->n_buckets; i++) {
        group_format_bucket(&gm->buckets[i], gm->type, s);
    }
}
