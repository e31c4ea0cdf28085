/* flow/ofpact.c — OpenFlow action lists: storage, text, checks (see
 * ofpact.h). */
#include "flow/ofpact.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flow/actset.h"
#include "flow/flow-text.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"

COVERAGE_DEFINE(ofpacts_parse_error);
COVERAGE_DEFINE(ofpacts_check_error);
COVERAGE_DEFINE(ofpacts_of10_masked_as_load);

/* ---- Storage ------------------------------------------------------------ */

void
ofpacts_init(struct ofpacts *ofpacts)
{
    ofpacts->acts = NULL;
    ofpacts->n = 0;
    ofpacts->allocated = 0;
}

void
ofpacts_destroy(struct ofpacts *ofpacts)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_NOTE) {
            free(a->note.data);
        } else if (a->type == OFPACT_WRITE_ACTIONS) {
            ofpacts_destroy(a->nested);
            free(a->nested);
        }
    }
    free(ofpacts->acts);
    ofpacts_init(ofpacts);
}

struct ofpact *
ofpacts_put(struct ofpacts *ofpacts, enum ofpact_type type)
{
    ofpacts->acts = xgrow(ofpacts->acts, &ofpacts->allocated, ofpacts->n + 1,
                          sizeof *ofpacts->acts);

    struct ofpact *a = &ofpacts->acts[ofpacts->n++];

    memset(a, 0, sizeof *a);
    a->type = type;
    return a;
}

struct ofpact *
ofpacts_put_note(struct ofpacts *ofpacts, const void *data, size_t len)
{
    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_NOTE);

    a->note.data = xmalloc(len ? len : 1);
    memcpy(a->note.data, data, len);
    a->note.len = len;
    return a;
}

struct ofpact *
ofpacts_put_write_actions(struct ofpacts *ofpacts, struct ofpacts *nested)
{
    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_WRITE_ACTIONS);

    a->nested = xmalloc(sizeof *a->nested);
    *a->nested = *nested;
    ofpacts_init(nested);
    return a;
}

void
ofpacts_put_copy(struct ofpacts *out, const struct ofpact *a)
{
    if (a->type == OFPACT_NOTE) {
        ofpacts_put_note(out, a->note.data, a->note.len);
    } else if (a->type == OFPACT_WRITE_ACTIONS) {
        struct ofpacts copy;

        ofpacts_clone(&copy, a->nested);
        ofpacts_put_write_actions(out, &copy);
    } else {
        *ofpacts_put(out, a->type) = *a;
    }
}

void
ofpacts_clone(struct ofpacts *dst, const struct ofpacts *src)
{
    ofpacts_init(dst);
    for (size_t i = 0; i < src->n; i++) {
        ofpacts_put_copy(dst, &src->acts[i]);
    }
}

static bool
ofpact_equal(const struct ofpact *a, const struct ofpact *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case OFPACT_OUTPUT:
        return a->output.port == b->output.port
               && a->output.max_len == b->output.max_len;
    case OFPACT_CONTROLLER:
        return a->controller.max_len == b->controller.max_len
               && a->controller.id == b->controller.id
               && a->controller.reason == b->controller.reason;
    case OFPACT_SET_VLAN_VID:
        return a->vlan_vid == b->vlan_vid;
    case OFPACT_SET_VLAN_PCP:
        return a->vlan_pcp == b->vlan_pcp;
    case OFPACT_STRIP_VLAN:
        return true;
    case OFPACT_PUSH_VLAN:
        return a->push_tpid == b->push_tpid;
    case OFPACT_SET_ETH_SRC:
    case OFPACT_SET_ETH_DST:
        return eth_addr_equals(a->mac, b->mac);
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
        return a->ipv4 == b->ipv4;
    case OFPACT_SET_IP_DSCP:
        return a->tos == b->tos;
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
        return a->l4_port == b->l4_port;
    case OFPACT_DEC_TTL:
        return true;
    case OFPACT_SET_FIELD:
        return a->set_field.field == b->set_field.field
               && field_value_equal(a->set_field.field, &a->set_field.value,
                                    &b->set_field.value)
               && field_value_equal(a->set_field.field, &a->set_field.mask,
                                    &b->set_field.mask);
    case OFPACT_LOAD:
        return field_subfield_equal(&a->load.dst, &b->load.dst)
               && a->load.value == b->load.value;
    case OFPACT_MOVE:
        return field_subfield_equal(&a->move.src, &b->move.src)
               && field_subfield_equal(&a->move.dst, &b->move.dst);
    case OFPACT_RESUBMIT:
        return a->resubmit.in_port == b->resubmit.in_port
               && a->resubmit.table_id == b->resubmit.table_id;
    case OFPACT_NOTE:
        return a->note.len == b->note.len
               && !memcmp(a->note.data, b->note.data, a->note.len);
    case OFPACT_SET_QUEUE:
        return a->queue_id == b->queue_id;
    case OFPACT_CLEAR_ACTIONS:
        return true;
    case OFPACT_WRITE_ACTIONS:
        return ofpacts_equal(a->nested, b->nested);
    case OFPACT_WRITE_METADATA:
        return a->metadata.value == b->metadata.value
               && a->metadata.mask == b->metadata.mask;
    case OFPACT_GOTO_TABLE:
        return a->goto_table == b->goto_table;
    case OFPACT_METER:
        return a->meter.meter_id == b->meter.meter_id;
    case OFPACT_GROUP:
        return a->group_id == b->group_id;
    case OFPACT_PUSH_MPLS:
    case OFPACT_POP_MPLS:
        return a->mpls_ethertype == b->mpls_ethertype;
    case OFPACT_SET_MPLS_LABEL:
        return a->mpls_label == b->mpls_label;
    case OFPACT_SET_MPLS_TC:
        return a->mpls_tc == b->mpls_tc;
    case OFPACT_SET_MPLS_TTL:
    case OFPACT_SET_IP_TTL:
        return a->ttl == b->ttl;
    case OFPACT_DEC_MPLS_TTL:
        return true;
    }
    return false;
}

bool
ofpacts_equal(const struct ofpacts *a, const struct ofpacts *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (!ofpact_equal(&a->acts[i], &b->acts[i])) {
            return false;
        }
    }
    return true;
}

bool
ofpacts_outputs_to(const struct ofpacts *ofpacts, uint32_t port)
{
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if ((a->type == OFPACT_OUTPUT && a->output.port == port)
            || (a->type == OFPACT_CONTROLLER && port == OFPP_CONTROLLER)
            || (a->type == OFPACT_WRITE_ACTIONS
                && ofpacts_outputs_to(a->nested, port))) {
            return true;
        }
    }
    return false;
}

void
ofpact_load_to_field(const struct ofpact *a, union field_value *value,
                     union field_value *mask)
{
    const struct field_subfield *dst = &a->load.dst;
    unsigned int n = dst->field->n_bytes;
    uint8_t v[8];

    memset(value, 0, sizeof *value);
    memset(mask, 0, sizeof *mask);
    for (int i = 0; i < 8; i++) {
        v[i] = (uint8_t)(a->load.value >> (56 - 8 * i));
    }
    field_bits_copy(v, 8, 0, value->b, n, dst->ofs, dst->n_bits);
    for (unsigned int i = 0; i < dst->n_bits; i++) {
        field_bit_set(mask->b, n, dst->ofs + i, true);
    }
}

/* ---- Parsing ------------------------------------------------------------ */

/* Names accepted as actions, for "did you mean". */
static const char *const action_names[] = {
    "output",         "controller",  "mod_vlan_vid",  "mod_vlan_pcp",
    "strip_vlan",     "pop_vlan",    "push_vlan",     "mod_dl_src",
    "mod_dl_dst",     "mod_nw_src",  "mod_nw_dst",    "mod_nw_tos",
    "mod_tp_src",     "mod_tp_dst",  "dec_ttl",       "set_field",
    "load",           "move",        "resubmit",      "note",
    "write_metadata", "goto_table",  "drop",          "in_port",
    "normal",         "flood",       "all",           "local",
    "table",          "set_queue",   "clear_actions", "write_actions",
    "meter",          "group",       "push_mpls",     "pop_mpls",
    "set_mpls_label", "set_mpls_tc", "set_mpls_ttl",  "dec_mpls_ttl",
    "mod_nw_ttl",     NULL,
};

static const char port_hint[] = "expected a port number 1 to 65279 or "
                                "IN_PORT, NORMAL, FLOOD, ALL, LOCAL, "
                                "CONTROLLER or TABLE";

/* Parses an output port; refuses port 0, ANY and the numbers reserved
 * between OFPP_MAX and OFPP_IN_PORT. */
static int
parse_output_port(const char *s, const char *ctx, uint32_t *portp,
                  char **errorp)
{
    uint32_t port;

    if (!*s) {
        *errorp = field_error(ctx, port_hint, "missing output port");
        return EINVAL;
    }
    if (!field_parse_port(s, &port)) {
        *errorp = field_error(ctx, port_hint, "bad port \"%s\"", s);
        return EINVAL;
    }
    if (port == 0 || port == OFPP_NONE
        || (port >= OFPP_MAX && port < OFPP_IN_PORT)) {
        *errorp = field_error(ctx, port_hint,
                              "port %s is not a valid output port", s);
        return EINVAL;
    }
    *portp = port;
    return 0;
}

static void
put_output(struct ofpacts *ofpacts, uint32_t port)
{
    if (port == OFPP_CONTROLLER) {
        struct ofpact *a = ofpacts_put(ofpacts, OFPACT_CONTROLLER);

        a->controller.max_len = OFPACT_CONTROLLER_MAX_LEN;
        a->controller.reason = OFPACT_REASON_ACTION;
    } else {
        ofpacts_put(ofpacts, OFPACT_OUTPUT)->output.port = port;
    }
}

/* Parses an integer in 0..'max' (strtoull syntax). */
static int
parse_int(const char *s, uint64_t max, const char *what, const char *ctx,
          uint64_t *valuep, char **errorp)
{
    if (!*s || !field_parse_uint(s, max, valuep)) {
        char *hint =
            max == UINT64_MAX
                ? xstrdup("expected a 64-bit integer")
                : xasprintf("expected an integer from 0 to %" PRIu64, max);

        if (*s) {
            *errorp = field_error(ctx, hint, "bad %s \"%s\"", what, s);
        } else {
            *errorp = field_error(ctx, hint, "missing %s", what);
        }
        free(hint);
        return EINVAL;
    }
    return 0;
}

/* Parses a table number 0..254, written in decimal as ovs-ofctl does. */
static int
parse_table(const char *s, const char *ctx, uint8_t *tablep, char **errorp)
{
    unsigned int t = 0;
    size_t n = strlen(s);

    if (!n || n > 3 || strspn(s, "0123456789") != n
        || (t = (unsigned int)strtoul(s, NULL, 10)) > 254) {
        *errorp = field_error(ctx, "expected a table number from 0 to 254",
                              "bad table \"%s\"", s);
        return EINVAL;
    }
    *tablep = (uint8_t)t;
    return 0;
}

static int
no_argument(const struct flow_text_token *tok, char **errorp)
{
    if (tok->value[0]) {
        *errorp =
            field_error(tok->text, NULL, "%s takes no argument", tok->key);
        return EINVAL;
    }
    return 0;
}

static const char *const reason_names[] = {
    [OFPACT_REASON_NO_MATCH] = "no_match",
    [OFPACT_REASON_ACTION] = "action",
    [OFPACT_REASON_INVALID_TTL] = "invalid_ttl",
    [OFPACT_REASON_ACTION_SET] = "action_set",
    [OFPACT_REASON_GROUP] = "group",
    [OFPACT_REASON_PACKET_OUT] = "packet_out",
};

static int
parse_controller(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                 char **errorp)
{
    const char *arg = tok->value;
    uint16_t max_len = OFPACT_CONTROLLER_MAX_LEN, id = 0;
    enum ofpact_controller_reason reason = OFPACT_REASON_ACTION;
    uint64_t x;

    if (arg[0] && !strchr(arg, '=')) {
        if (parse_int(arg, UINT16_MAX, "max_len", tok->text, &x, errorp)) {
            return EINVAL;
        }
        max_len = (uint16_t)x;
    } else {
        struct flow_text_token kv;
        const char *p = arg;

        while (flow_text_next_token(&p, &kv)) {
            int error = 0;

            if (!strcmp(kv.key, "max_len")) {
                error = parse_int(kv.value, UINT16_MAX, "max_len", tok->text,
                                  &x, errorp);
                max_len = error ? max_len : (uint16_t)x;
            } else if (!strcmp(kv.key, "id")) {
                error = parse_int(kv.value, UINT16_MAX, "controller id",
                                  tok->text, &x, errorp);
                id = error ? id : (uint16_t)x;
            } else if (!strcmp(kv.key, "reason")) {
                size_t i;

                for (i = 0; i < ARRAY_SIZE(reason_names); i++) {
                    if (!strcmp(kv.value, reason_names[i])) {
                        reason = (enum ofpact_controller_reason)i;
                        break;
                    }
                }
                if (i == ARRAY_SIZE(reason_names)) {
                    *errorp =
                        field_error(tok->text,
                                    "expected no_match, action, "
                                    "invalid_ttl, action_set, group "
                                    "or packet_out",
                                    "bad controller reason \"%s\"", kv.value);
                    error = EINVAL;
                }
            } else {
                *errorp =
                    field_error(tok->text, "expected max_len, reason or id",
                                "unknown controller option \"%s\"", kv.key);
                error = EINVAL;
            }
            flow_text_token_free(&kv);
            if (error) {
                return error;
            }
        }
    }

    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_CONTROLLER);

    a->controller.max_len = max_len;
    a->controller.id = id;
    a->controller.reason = reason;
    return 0;
}

static int
parse_note(const struct flow_text_token *tok, struct ofpacts *ofpacts,
           char **errorp)
{
    static const char hint[] = "expected hex bytes such as 01.02.ab";
    uint8_t *bytes = xmalloc(OFPACT_NOTE_MAX);
    const char *p = tok->value;
    size_t n = 0;

    while (*p) {
        int hi, lo;

        if (*p == '.') {
            p++;
            if (!*p) {
                break;
            }
        }
        hi = p[0] >= '0' && p[0] <= '9'   ? p[0] - '0'
             : p[0] >= 'a' && p[0] <= 'f' ? p[0] - 'a' + 10
             : p[0] >= 'A' && p[0] <= 'F' ? p[0] - 'A' + 10
                                          : -1;
        lo = !p[0]                        ? -1
             : p[1] >= '0' && p[1] <= '9' ? p[1] - '0'
             : p[1] >= 'a' && p[1] <= 'f' ? p[1] - 'a' + 10
             : p[1] >= 'A' && p[1] <= 'F' ? p[1] - 'A' + 10
                                          : -1;
        if (hi < 0 || lo < 0) {
            *errorp = field_error(tok->text, hint, "bad hex byte \"%.2s\"", p);
            free(bytes);
            return EINVAL;
        }
        /* Leave room for the padding. */
        if (n >= OFPACT_NOTE_MAX - 8) {
            *errorp =
                field_error(tok->text, NULL, "note is longer than %d bytes",
                            OFPACT_NOTE_MAX - 8);
            free(bytes);
            return EINVAL;
        }
        bytes[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }

    /* OpenFlow carries a note in an action of 10 header bytes plus the
     * note, padded to a multiple of 8: pad the same way, so that what we
     * print is what a switch would echo back. */
    size_t padded = ROUND_UP(10 + n, 8) - 10;

    memset(bytes + n, 0, padded - n);
    ofpacts_put_note(ofpacts, bytes, padded);
    free(bytes);
    return 0;
}

/* Splits "A->B" at the first "->".  Returns false if there is none. */
static bool
split_arrow(const char *s, char **a, char **b)
{
    const char *arrow = strstr(s, "->");

    if (!arrow) {
        return false;
    }
    *a = xmemdup0(s, (size_t)(arrow - s));
    *b = xstrdup(arrow + 2);
    return true;
}

/* Actions write the transport ports through the protocol-specific fields,
 * as Open vSwitch does: "tp_dst" in an action means tcp_dst. */
static const struct field *
field_for_action(const struct field *f)
{
    if (f->id == FIELD_TP_SRC) {
        return field_from_id(FIELD_TCP_SRC);
    } else if (f->id == FIELD_TP_DST) {
        return field_from_id(FIELD_TCP_DST);
    }
    return f;
}

/* Parses a whole sub-field (nothing may follow it). */
static int
parse_whole_subfield(const char *s, const char *ctx, struct field_subfield *sf,
                     char **errorp)
{
    const char *end;

    if (!*s) {
        *errorp = field_error(ctx,
                              "expected NAME[], NAME[BIT] or "
                              "NAME[START..END]",
                              "missing field");
        return EINVAL;
    }
    if (field_parse_subfield(s, ctx, sf, &end, errorp)) {
        return EINVAL;
    }
    if (*end) {
        *errorp = field_error(ctx,
                              "expected NAME[], NAME[BIT] or "
                              "NAME[START..END]",
                              "unexpected \"%s\" after field", end);
        return EINVAL;
    }
    sf->field = field_for_action(sf->field);
    return 0;
}

static int
check_writable(const struct field *f, const char *ctx, char **errorp)
{
    if (!f->writable) {
        const char *hint = "it can be matched but not written";

        if (f->id == FIELD_DL_VLAN) {
            hint = "write vlan_vid, or use mod_vlan_vid";
        } else if (f->id == FIELD_DL_VLAN_PCP) {
            hint = "write vlan_pcp, or use mod_vlan_pcp";
        }
        *errorp = field_error(ctx, hint, "field %s is read-only", f->name);
        return EINVAL;
    }
    return 0;
}

static int
parse_set_field(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                char **errorp)
{
    char *vs = NULL, *fs = NULL;
    const struct field *f;
    union field_value value, mask;
    int error = EINVAL;

    if (!split_arrow(tok->value, &vs, &fs)) {
        *errorp = field_error(tok->text, "expected set_field:VALUE->FIELD",
                              "missing \"->\"");
        return EINVAL;
    }
    f = field_from_any_name(fs);
    if (!f) {
        const char *suggestion = field_suggest(fs);
        char *hint =
            suggestion ? xasprintf("did you mean %s?", suggestion) : NULL;

        *errorp = field_error(tok->text, hint, "unknown field \"%s\"", fs);
        free(hint);
        goto out;
    }
    f = field_for_action(f);
    if (check_writable(f, tok->text, errorp)
        || field_parse_value(f, vs, tok->text, &value, &mask, errorp)) {
        goto out;
    }
    if (field_value_is_zero(f, &mask)) {
        *errorp = field_error(tok->text, "a zero mask writes nothing",
                              "bad mask for %s", f->name);
        goto out;
    }

    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_SET_FIELD);

    a->set_field.field = f;
    a->set_field.value = value;
    a->set_field.mask = mask;
    error = 0;

out:
    free(vs);
    free(fs);
    return error;
}

static int
parse_load(const struct flow_text_token *tok, struct ofpacts *ofpacts,
           char **errorp)
{
    struct field_subfield dst;
    union field_value v;
    char *vs = NULL, *ds_ = NULL;
    int error = EINVAL;

    if (!split_arrow(tok->value, &vs, &ds_)) {
        *errorp = field_error(tok->text, "expected load:VALUE->FIELD[BITS]",
                              "missing \"->\"");
        return EINVAL;
    }
    if (parse_whole_subfield(ds_, tok->text, &dst, errorp)
        || check_writable(dst.field, tok->text, errorp)) {
        goto out;
    }

    int e = field_parse_wide_uint(vs, FIELD_MAX_BYTES, dst.n_bits, &v);

    if (e == ERANGE) {
        *errorp = field_error(tok->text, NULL,
                              "value \"%s\" does not fit in %u bits", vs,
                              dst.n_bits);
        goto out;
    } else if (e || !*vs) {
        *errorp = field_error(tok->text, "expected an integer",
                              "bad value \"%s\"", vs);
        goto out;
    }

    /* Loads of more than 64 bits become several, at most 64 bits each,
     * which is also how they are printed. */
    for (unsigned int done = 0; done < dst.n_bits; done += 64) {
        unsigned int n = MIN(64, dst.n_bits - done);
        uint64_t x = 0;

        for (unsigned int i = 0; i < n; i++) {
            if (field_bit_get(v.b, FIELD_MAX_BYTES, done + i)) {
                x |= UINT64_C(1) << i;
            }
        }

        struct ofpact *a = ofpacts_put(ofpacts, OFPACT_LOAD);

        a->load.dst.field = dst.field;
        a->load.dst.ofs = dst.ofs + done;
        a->load.dst.n_bits = n;
        a->load.value = x;
    }
    error = 0;

out:
    free(vs);
    free(ds_);
    return error;
}

static int
parse_move(const struct flow_text_token *tok, struct ofpacts *ofpacts,
           char **errorp)
{
    struct field_subfield src, dst;
    char *ss = NULL, *dss = NULL;
    int error = EINVAL;

    if (!split_arrow(tok->value, &ss, &dss)) {
        *errorp = field_error(tok->text, "expected move:SRC[BITS]->DST[BITS]",
                              "missing \"->\"");
        return EINVAL;
    }
    if (parse_whole_subfield(ss, tok->text, &src, errorp)
        || parse_whole_subfield(dss, tok->text, &dst, errorp)
        || check_writable(dst.field, tok->text, errorp)) {
        goto out;
    }
    if (src.n_bits != dst.n_bits) {
        *errorp = field_error(tok->text,
                              "the source and destination must have the same "
                              "width",
                              "source is %u bits wide but destination is %u",
                              src.n_bits, dst.n_bits);
        goto out;
    }

    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_MOVE);

    a->move.src = src;
    a->move.dst = dst;
    error = 0;

out:
    free(ss);
    free(dss);
    return error;
}

static int
parse_resubmit(const struct flow_text_token *tok, struct ofpacts *ofpacts,
               char **errorp)
{
    static const char hint[] = "expected resubmit:PORT, resubmit(PORT,TABLE) "
                               "or resubmit(,TABLE)";
    const char *arg = tok->value;
    const char *comma = strchr(arg, ',');
    char *port_s = comma ? xmemdup0(arg, (size_t)(comma - arg)) : xstrdup(arg);
    const char *table_s = comma ? comma + 1 : "";
    uint32_t port = OFPP_IN_PORT;
    uint8_t table = OFPACT_TABLE_NONE;
    int error = EINVAL;

    if (port_s[0] && !field_parse_port(port_s, &port)) {
        *errorp = field_error(tok->text, hint, "bad port \"%s\"", port_s);
        goto out;
    }
    if (strchr(table_s, ',')) {
        *errorp = field_error(tok->text, hint, "too many arguments");
        goto out;
    }
    if (table_s[0] && parse_table(table_s, tok->text, &table, errorp)) {
        goto out;
    }
    if (port == OFPP_IN_PORT && table == OFPACT_TABLE_NONE) {
        *errorp =
            field_error(tok->text, hint, "resubmit needs a port or a table");
        goto out;
    }

    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_RESUBMIT);

    a->resubmit.in_port = port;
    a->resubmit.table_id = table;
    error = 0;

out:
    free(port_s);
    return error;
}

static int
parse_write_metadata(const struct flow_text_token *tok,
                     struct ofpacts *ofpacts, char **errorp)
{
    const char *slash = strchr(tok->value, '/');
    char *vs = slash ? xmemdup0(tok->value, (size_t)(slash - tok->value))
                     : xstrdup(tok->value);
    uint64_t value, mask = UINT64_MAX;
    int error =
        parse_int(vs, UINT64_MAX, "metadata", tok->text, &value, errorp);

    if (!error && slash) {
        error = parse_int(slash + 1, UINT64_MAX, "metadata mask", tok->text,
                          &mask, errorp);
    }
    free(vs);
    if (error) {
        return error;
    }

    struct ofpact *a = ofpacts_put(ofpacts, OFPACT_WRITE_METADATA);

    a->metadata.value = value;
    a->metadata.mask = mask;
    return 0;
}

/* Parses the unmasked address argument of 'tok' as a value of 'id'. */
static int
parse_address_arg(const struct flow_text_token *tok, enum field_id id,
                  union field_value *v, char **errorp)
{
    const struct field *f = field_from_id(id);
    bool eth = f->format == FIELD_FORMAT_ETHERNET;
    union field_value m;
    char *error = NULL;

    if (strchr(tok->value, '/')
        || field_parse_value(f, tok->value, tok->text, v, &m, &error)) {
        *errorp = field_error(
            tok->text, eth ? "expected xx:xx:xx:xx:xx:xx" : "expected a.b.c.d",
            "bad %s address \"%s\"", eth ? "Ethernet" : "IPv4", tok->value);
        free(error);
        return EINVAL;
    }
    return 0;
}

static int
parse_output(const struct flow_text_token *tok, struct ofpacts *ofpacts,
             char **errorp)
{
    uint32_t port;

    if (parse_output_port(tok->value, tok->text, &port, errorp)) {
        return EINVAL;
    }
    put_output(ofpacts, port);
    return 0;
}

/* A bare port: "2", "LOCAL", "in_port", "normal". */
static int
parse_bare_port(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                char **errorp)
{
    uint32_t port;

    if (no_argument(tok, errorp)
        || parse_output_port(tok->key, tok->text, &port, errorp)) {
        return EINVAL;
    }
    put_output(ofpacts, port);
    return 0;
}

/* strip_vlan, pop_vlan, dec_ttl. */
static int
parse_no_arg_action(const struct flow_text_token *tok, enum ofpact_type type,
                    struct ofpacts *ofpacts, char **errorp)
{
    if (no_argument(tok, errorp)) {
        return EINVAL;
    }
    ofpacts_put(ofpacts, type);
    return 0;
}

/* mod_vlan_vid, mod_vlan_pcp, mod_tp_src, mod_tp_dst: an integer from 0 to
 * 'max' ('what' names it in an error) for the action 'type'. */
static int
parse_int_action(const struct flow_text_token *tok, enum ofpact_type type,
                 uint64_t max, const char *what, struct ofpacts *ofpacts,
                 char **errorp)
{
    struct ofpact *a;
    uint64_t x;

    if (parse_int(tok->value, max, what, tok->text, &x, errorp)) {
        return EINVAL;
    }
    a = ofpacts_put(ofpacts, type);
    if (type == OFPACT_SET_VLAN_VID) {
        a->vlan_vid = (uint16_t)x;
    } else if (type == OFPACT_SET_VLAN_PCP) {
        a->vlan_pcp = (uint8_t)x;
    } else if (type == OFPACT_SET_QUEUE) {
        a->queue_id = (uint32_t)x;
    } else if (type == OFPACT_GROUP) {
        a->group_id = (uint32_t)x;
    } else {
        a->l4_port = (uint16_t)x;
    }
    return 0;
}

/* push_mpls:ETHERTYPE and pop_mpls:ETHERTYPE.  push_mpls takes only the
 * two MPLS ethertypes, pop_mpls any ethertype, as Open vSwitch. */
static int
parse_mpls_ethertype(const struct flow_text_token *tok, enum ofpact_type type,
                     struct ofpacts *ofpacts, char **errorp)
{
    uint64_t x;

    if (parse_int(tok->value, UINT16_MAX, "ethertype", tok->text, &x,
                  errorp)) {
        return EINVAL;
    }
    if (type == OFPACT_PUSH_MPLS && !eth_type_is_mpls(htons((uint16_t)x))) {
        *errorp = field_error(tok->text, "expected 0x8847 or 0x8848",
                              "bad MPLS ethertype \"%s\"", tok->value);
        return EINVAL;
    }
    ofpacts_put(ofpacts, type)->mpls_ethertype = htons((uint16_t)x);
    return 0;
}

/* set_mpls_label, set_mpls_tc, set_mpls_ttl, mod_nw_ttl. */
static int
parse_mpls_int(const struct flow_text_token *tok, enum ofpact_type type,
               struct ofpacts *ofpacts, char **errorp)
{
    uint64_t max = type == OFPACT_SET_MPLS_LABEL ? 0xfffff
                   : type == OFPACT_SET_MPLS_TC  ? 7
                                                 : UINT8_MAX;
    struct ofpact *a;
    uint64_t x;

    if (parse_int(tok->value, max,
                  type == OFPACT_SET_MPLS_LABEL ? "MPLS label"
                  : type == OFPACT_SET_MPLS_TC  ? "MPLS traffic class"
                                                : "TTL",
                  tok->text, &x, errorp)) {
        return EINVAL;
    }
    a = ofpacts_put(ofpacts, type);
    if (type == OFPACT_SET_MPLS_LABEL) {
        a->mpls_label = (uint32_t)x;
    } else if (type == OFPACT_SET_MPLS_TC) {
        a->mpls_tc = (uint8_t)x;
    } else {
        a->ttl = (uint8_t)x;
    }
    return 0;
}

/* The MPLS actions and mod_nw_ttl; ENOENT if 'key' is none of them. */
static int
parse_mpls_action(const char *key, const struct flow_text_token *tok,
                  struct ofpacts *ofpacts, char **errorp)
{
    static const struct {
        const char *name;
        enum ofpact_type type;
    } names[] = {
        {"set_mpls_label", OFPACT_SET_MPLS_LABEL},
        {"set_mpls_tc", OFPACT_SET_MPLS_TC},
        {"set_mpls_ttl", OFPACT_SET_MPLS_TTL},
        {"mod_nw_ttl", OFPACT_SET_IP_TTL},
    };

    if (!strcmp(key, "push_mpls") || !strcmp(key, "pop_mpls")) {
        return parse_mpls_ethertype(
            tok, key[1] == 'u' ? OFPACT_PUSH_MPLS : OFPACT_POP_MPLS, ofpacts,
            errorp);
    } else if (!strcmp(key, "dec_mpls_ttl")) {
        return parse_no_arg_action(tok, OFPACT_DEC_MPLS_TTL, ofpacts, errorp);
    }
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(key, names[i].name)) {
            return parse_mpls_int(tok, names[i].type, ofpacts, errorp);
        }
    }
    return ENOENT;
}

static int
parse_push_vlan(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                char **errorp)
{
    uint64_t x;

    if (parse_int(tok->value, UINT16_MAX, "VLAN ethertype", tok->text, &x,
                  errorp)) {
        return EINVAL;
    }
    if (x != ETH_TYPE_VLAN_8021Q && x != ETH_TYPE_VLAN_8021AD) {
        *errorp = field_error(tok->text, "expected 0x8100 or 0x88a8",
                              "bad VLAN ethertype \"%s\"", tok->value);
        return EINVAL;
    }
    ofpacts_put(ofpacts, OFPACT_PUSH_VLAN)->push_tpid = htons((uint16_t)x);
    return 0;
}

/* mod_dl_src, mod_dl_dst, mod_nw_src, mod_nw_dst: 'type' says which. */
static int
parse_address_action(const struct flow_text_token *tok, enum ofpact_type type,
                     struct ofpacts *ofpacts, char **errorp)
{
    bool eth = type == OFPACT_SET_ETH_SRC || type == OFPACT_SET_ETH_DST;
    union field_value v;
    struct ofpact *a;

    if (parse_address_arg(tok, eth ? FIELD_ETH_SRC : FIELD_IP_SRC, &v,
                          errorp)) {
        return EINVAL;
    }
    a = ofpacts_put(ofpacts, type);
    if (eth) {
        a->mac = v.mac;
    } else {
        a->ipv4 = v.be32;
    }
    return 0;
}

static int
parse_mod_nw_tos(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                 char **errorp)
{
    uint64_t x;

    if (parse_int(tok->value, 255, "TOS", tok->text, &x, errorp)) {
        return EINVAL;
    }
    if (x & IP_ECN_MASK) {
        *errorp = field_error(tok->text,
                              "expected a multiple of 4 from 0 to 252: "
                              "the DSCP bits of the TOS byte",
                              "bad TOS \"%s\"", tok->value);
        return EINVAL;
    }
    ofpacts_put(ofpacts, OFPACT_SET_IP_DSCP)->tos = (uint8_t)x;
    return 0;
}

static int
parse_goto_table(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                 char **errorp)
{
    uint8_t table;

    if (parse_table(tok->value, tok->text, &table, errorp)) {
        return EINVAL;
    }
    ofpacts_put(ofpacts, OFPACT_GOTO_TABLE)->goto_table = table;
    return 0;
}

static int
parse_write_actions(const struct flow_text_token *tok, struct ofpacts *ofpacts,
                    char **errorp)
{
    struct ofpacts nested;

    /* An error inside quotes the action at fault: pass it on. */
    if (ofpacts_parse(tok->value, &nested, errorp)) {
        return EINVAL;
    }
    for (size_t i = 0; i < nested.n; i++) {
        if (!actset_allows(nested.acts[i].type)) {
            struct ds bad = DS_EMPTY_INITIALIZER;

            ofpact_format(&nested.acts[i], &bad);
            *errorp = field_error(tok->text,
                                  "an action set holds no instruction "
                                  "and no note",
                                  "%s is not allowed in write_actions",
                                  ds_cstr(&bad));
            ds_destroy(&bad);
            ofpacts_destroy(&nested);
            return EINVAL;
        }
    }
    if (nested.n) {
        ofpacts_put_write_actions(ofpacts, &nested);
    }
    return 0;
}

static int
parse_meter(const struct flow_text_token *tok, struct ofpacts *ofpacts,
            char **errorp)
{
    uint64_t id;
    struct ofpact *a;

    if (parse_int(tok->value, OFPACT_METER_MAX, "meter", tok->text, &id,
                  errorp)) {
        return EINVAL;
    }
    if (!id) {
        *errorp = field_error(tok->text, "expected a meter 1..4294901760",
                              "bad meter \"%s\"", tok->value);
        return EINVAL;
    }
    a = ofpacts_put(ofpacts, OFPACT_METER);
    a->meter.meter_id = (uint32_t)id;
    a->meter.dp_id = OFPACT_METER_DP_NONE;
    return 0;
}

static int
unknown_action(const char *key, const struct flow_text_token *tok,
               char **errorp)
{
    const char *suggestion = field_suggest_word(key, action_names);
    char *hint = suggestion ? xasprintf("did you mean %s?", suggestion) : NULL;

    *errorp = field_error(tok->text, hint, "unknown action \"%s\"", tok->key);
    free(hint);
    return EINVAL;
}

/* Parses one action token and appends it to 'ofpacts'.  A flat dispatch on
 * the (lower-case) action name, one line per action. */
static int
parse_action__(const char *key, const struct flow_text_token *tok,
               struct ofpacts *ofpacts, char **errorp)
{
    /* mod_dl_src, mod_nw_src, mod_tp_src against their _dst. */
    bool src = strlen(key) > 7 && key[7] == 's';
    uint32_t port;

    if (!strcmp(key, "output")) {
        return parse_output(tok, ofpacts, errorp);
    } else if (!strcmp(key, "controller")) {
        return parse_controller(tok, ofpacts, errorp);
    } else if (!strcmp(key, "mod_vlan_vid")) {
        return parse_int_action(tok, OFPACT_SET_VLAN_VID, VLAN_VID_MASK,
                                "VLAN VID", ofpacts, errorp);
    } else if (!strcmp(key, "mod_vlan_pcp")) {
        return parse_int_action(tok, OFPACT_SET_VLAN_PCP, 7, "VLAN PCP",
                                ofpacts, errorp);
    } else if (!strcmp(key, "strip_vlan") || !strcmp(key, "pop_vlan")) {
        return parse_no_arg_action(tok, OFPACT_STRIP_VLAN, ofpacts, errorp);
    } else if (!strcmp(key, "push_vlan")) {
        return parse_push_vlan(tok, ofpacts, errorp);
    } else if (!strcmp(key, "mod_dl_src") || !strcmp(key, "mod_dl_dst")) {
        return parse_address_action(
            tok, src ? OFPACT_SET_ETH_SRC : OFPACT_SET_ETH_DST, ofpacts,
            errorp);
    } else if (!strcmp(key, "mod_nw_src") || !strcmp(key, "mod_nw_dst")) {
        return parse_address_action(
            tok, src ? OFPACT_SET_IPV4_SRC : OFPACT_SET_IPV4_DST, ofpacts,
            errorp);
    } else if (!strcmp(key, "mod_nw_tos")) {
        return parse_mod_nw_tos(tok, ofpacts, errorp);
    } else if (!strcmp(key, "mod_tp_src") || !strcmp(key, "mod_tp_dst")) {
        return parse_int_action(tok,
                                src ? OFPACT_SET_L4_SRC : OFPACT_SET_L4_DST,
                                UINT16_MAX, "transport port", ofpacts, errorp);
    } else if (!strcmp(key, "dec_ttl")) {
        return parse_no_arg_action(tok, OFPACT_DEC_TTL, ofpacts, errorp);
    } else if (!strcmp(key, "set_field")) {
        return parse_set_field(tok, ofpacts, errorp);
    } else if (!strcmp(key, "load")) {
        return parse_load(tok, ofpacts, errorp);
    } else if (!strcmp(key, "move")) {
        return parse_move(tok, ofpacts, errorp);
    } else if (!strcmp(key, "resubmit")) {
        return parse_resubmit(tok, ofpacts, errorp);
    } else if (!strcmp(key, "note")) {
        return parse_note(tok, ofpacts, errorp);
    } else if (!strcmp(key, "write_metadata")) {
        return parse_write_metadata(tok, ofpacts, errorp);
    } else if (!strcmp(key, "goto_table")) {
        return parse_goto_table(tok, ofpacts, errorp);
    } else if (!strcmp(key, "set_queue")) {
        return parse_int_action(tok, OFPACT_SET_QUEUE, UINT32_MAX, "queue id",
                                ofpacts, errorp);
    } else if (!strcmp(key, "clear_actions")) {
        return parse_no_arg_action(tok, OFPACT_CLEAR_ACTIONS, ofpacts, errorp);
    } else if (!strcmp(key, "write_actions")) {
        return parse_write_actions(tok, ofpacts, errorp);
    } else if (!strcmp(key, "meter")) {
        return parse_meter(tok, ofpacts, errorp);
    } else if (!strcmp(key, "group")) {
        return parse_int_action(tok, OFPACT_GROUP, OFPACT_GROUP_MAX,
                                "group id", ofpacts, errorp);
    } else if (field_parse_port(key, &port)) {
        return parse_bare_port(tok, ofpacts, errorp);
    }
    int error = parse_mpls_action(key, tok, ofpacts, errorp);

    return error != ENOENT ? error : unknown_action(key, tok, errorp);
}

/* Action names are case-insensitive, as in ovs-ofctl. */
static int
parse_action(const struct flow_text_token *tok, struct ofpacts *ofpacts,
             char **errorp)
{
    char *key = xstrdup(tok->key);
    int error;

    for (char *p = key; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    error = parse_action__(key, tok, ofpacts, errorp);
    free(key);
    return error;
}

/* The place of an instruction in OpenFlow 1.1+'s instruction list, the
 * order ovs-ofctl prints them in; 0 for an applied action. */
static int
instruction_rank(enum ofpact_type type)
{
    switch (type) {
    case OFPACT_CLEAR_ACTIONS:
        return 1;
    case OFPACT_WRITE_ACTIONS:
        return 2;
    case OFPACT_WRITE_METADATA:
        return 3;
    case OFPACT_GOTO_TABLE:
        return 4;
    default:
        return 0;
    }
}

static const char *const instruction_names[] = {
    "apply_actions",  "clear_actions", "write_actions",
    "write_metadata", "goto_table",
};

/* Instructions follow the actions, in the order clear_actions,
 * write_actions, write_metadata, goto_table, each at most once: OpenFlow
 * 1.1+ cannot express anything else. */
static int
check_order(const struct ofpacts *ofpacts, const char *s, char **errorp)
{
    static const char hint[] = "instructions go last, in the order "
                               "clear_actions, write_actions, "
                               "write_metadata, goto_table, each at most once";
    int last = 0;

    for (size_t i = 0; i < ofpacts->n; i++) {
        int rank = instruction_rank(ofpacts->acts[i].type);

        if (last == 4) {
            *errorp =
                field_error(s, hint, "goto_table must be the last action");
            return EINVAL;
        } else if (ofpacts->acts[i].type == OFPACT_METER && i) {
            *errorp = field_error(s,
                                  "the meter instruction comes first, at "
                                  "most once",
                                  "meter must come before every action");
            return EINVAL;
        } else if (rank && rank == last) {
            *errorp = field_error(s, hint, "%s is given twice",
                                  instruction_names[rank]);
            return EINVAL;
        } else if (rank < last) {
            *errorp = field_error(
                s, hint, "%s must come after %s", instruction_names[last],
                rank ? instruction_names[rank] : "every action");
            return EINVAL;
        }
        last = rank;
    }
    return 0;
}

int
ofpacts_parse(const char *s, struct ofpacts *out, char **errorp)
{
    struct ofpacts ofpacts = OFPACTS_EMPTY_INITIALIZER;
    struct flow_text_token tok;
    const char *p = s;
    bool drop = false;
    size_t n_tokens = 0;
    int error = 0;

    ofpacts_init(out);
    *errorp = NULL;
    while (!error && flow_text_next_token(&p, &tok)) {
        n_tokens++;
        if (!tok.key[0]) {
            *errorp = field_error(tok.text, "expected ACTION or ACTION:ARG",
                                  "missing action name");
            error = EINVAL;
        } else if (!strcasecmp(tok.key, "drop")) {
            drop = true;
            error = no_argument(&tok, errorp);
        } else {
            error = parse_action(&tok, &ofpacts, errorp);
        }
        flow_text_token_free(&tok);
    }
    if (!error && drop && n_tokens > 1) {
        *errorp = field_error(s, "drop is the empty action list",
                              "\"drop\" cannot be combined with other "
                              "actions");
        error = EINVAL;
    }
    if (!error) {
        error = check_order(&ofpacts, s, errorp);
    }
    if (error) {
        COVERAGE_INC(ofpacts_parse_error);
        ofpacts_destroy(&ofpacts);
        return error;
    }
    *out = ofpacts;
    return 0;
}

/* ---- Formatting --------------------------------------------------------- */

static void
format_port_action(uint32_t port, struct ds *s)
{
    if (port < OFPP_MAX) {
        ds_put_format(s, "output:%" PRIu32, port);
    } else {
        field_format_port(port, s);
    }
}

static void
format_controller(const struct ofpact *a, struct ds *s)
{
    const typeof(a->controller) *c = &a->controller;

    if (c->reason == OFPACT_REASON_ACTION && !c->id) {
        ds_put_format(s, "CONTROLLER:%u", c->max_len);
        return;
    }
    ds_put_cstr(s, "controller(");
    if (c->reason != OFPACT_REASON_ACTION) {
        ds_put_format(s, "reason=%s,", reason_names[c->reason]);
    }
    if (c->max_len != OFPACT_CONTROLLER_MAX_LEN) {
        ds_put_format(s, "max_len=%u,", c->max_len);
    }
    if (c->id) {
        ds_put_format(s, "id=%u,", c->id);
    }
    ds_chomp(s, ",");
    ds_put_char(s, ')');
}

/* The OpenFlow 1.0 style rewrites: mod_dl_*, mod_nw_*, mod_tp_*. */
static void
format_mod_action(const struct ofpact *a, struct ds *s)
{
    switch (a->type) {
    case OFPACT_SET_ETH_SRC:
    case OFPACT_SET_ETH_DST:
        ds_put_format(s, "mod_dl_%s:" ETH_ADDR_FMT,
                      a->type == OFPACT_SET_ETH_SRC ? "src" : "dst",
                      ETH_ADDR_ARGS(a->mac));
        break;
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
        ds_put_format(s, "mod_nw_%s:" IP_FMT,
                      a->type == OFPACT_SET_IPV4_SRC ? "src" : "dst",
                      IP_ARGS(a->ipv4));
        break;
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
        ds_put_format(s, "mod_tp_%s:%u",
                      a->type == OFPACT_SET_L4_SRC ? "src" : "dst",
                      a->l4_port);
        break;
    default:
        break;
    }
}

static void
format_set_field(const struct ofpact *a, struct ds *s)
{
    ds_put_cstr(s, "set_field:");
    field_format_value(a->set_field.field, &a->set_field.value,
                       &a->set_field.mask, s);
    ds_put_format(s, "->%s", a->set_field.field->name);
}

static void
format_load(const struct ofpact *a, struct ds *s)
{
    /* "%#x" prints 0 as "0", as ovs-ofctl shows it. */
    ds_put_format(s, "load:%#" PRIx64 "->", a->load.value);
    field_format_subfield(&a->load.dst, s);
}

static void
format_move(const struct ofpact *a, struct ds *s)
{
    ds_put_cstr(s, "move:");
    field_format_subfield(&a->move.src, s);
    ds_put_cstr(s, "->");
    field_format_subfield(&a->move.dst, s);
}

static void
format_resubmit(const struct ofpact *a, struct ds *s)
{
    if (a->resubmit.in_port != OFPP_IN_PORT
        && a->resubmit.table_id == OFPACT_TABLE_NONE) {
        ds_put_cstr(s, "resubmit:");
        field_format_port(a->resubmit.in_port, s);
        return;
    }
    ds_put_cstr(s, "resubmit(");
    if (a->resubmit.in_port != OFPP_IN_PORT) {
        field_format_port(a->resubmit.in_port, s);
    }
    ds_put_char(s, ',');
    if (a->resubmit.table_id != OFPACT_TABLE_NONE) {
        ds_put_format(s, "%u", a->resubmit.table_id);
    }
    ds_put_char(s, ')');
}

static void
format_note(const struct ofpact *a, struct ds *s)
{
    ds_put_cstr(s, "note:");
    for (size_t i = 0; i < a->note.len; i++) {
        ds_put_format(s, "%s%02x", i ? "." : "", a->note.data[i]);
    }
}

static void
format_write_metadata(const struct ofpact *a, struct ds *s)
{
    ds_put_format(s, "write_metadata:%#" PRIx64, a->metadata.value);
    if (a->metadata.mask != UINT64_MAX) {
        ds_put_format(s, "/%#" PRIx64, a->metadata.mask);
    }
}

/* A flat dispatch on the action type: one line per action (or group of
 * alike ones). */
void
ofpact_format(const struct ofpact *a, struct ds *s)
{
    switch (a->type) {
    case OFPACT_OUTPUT:
        format_port_action(a->output.port, s);
        break;
    case OFPACT_CONTROLLER:
        format_controller(a, s);
        break;
    case OFPACT_SET_VLAN_VID:
        ds_put_format(s, "mod_vlan_vid:%u", a->vlan_vid);
        break;
    case OFPACT_SET_VLAN_PCP:
        ds_put_format(s, "mod_vlan_pcp:%u", a->vlan_pcp);
        break;
    case OFPACT_STRIP_VLAN:
        /* ovs-ofctl prints pop_vlan as strip_vlan too (OpenFlow 1.0). */
        ds_put_cstr(s, "strip_vlan");
        break;
    case OFPACT_PUSH_VLAN:
        ds_put_format(s, "push_vlan:0x%04x", ntohs(a->push_tpid));
        break;
    case OFPACT_SET_ETH_SRC:
    case OFPACT_SET_ETH_DST:
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
    case OFPACT_SET_L4_SRC:
    case OFPACT_SET_L4_DST:
        format_mod_action(a, s);
        break;
    case OFPACT_SET_IP_DSCP:
        ds_put_format(s, "mod_nw_tos:%u", a->tos);
        break;
    case OFPACT_DEC_TTL:
        ds_put_cstr(s, "dec_ttl");
        break;
    case OFPACT_SET_FIELD:
        format_set_field(a, s);
        break;
    case OFPACT_LOAD:
        format_load(a, s);
        break;
    case OFPACT_MOVE:
        format_move(a, s);
        break;
    case OFPACT_RESUBMIT:
        format_resubmit(a, s);
        break;
    case OFPACT_NOTE:
        format_note(a, s);
        break;
    case OFPACT_SET_QUEUE:
        ds_put_format(s, "set_queue:%" PRIu32, a->queue_id);
        break;
    case OFPACT_CLEAR_ACTIONS:
        ds_put_cstr(s, "clear_actions");
        break;
    case OFPACT_WRITE_ACTIONS:
        ds_put_cstr(s, "write_actions(");
        ofpacts_format(a->nested, s);
        ds_put_char(s, ')');
        break;
    case OFPACT_WRITE_METADATA:
        format_write_metadata(a, s);
        break;
    case OFPACT_GOTO_TABLE:
        ds_put_format(s, "goto_table:%u", a->goto_table);
        break;
    case OFPACT_METER:
        ds_put_format(s, "meter:%" PRIu32, a->meter.meter_id);
        break;
    case OFPACT_GROUP:
        ds_put_format(s, "group:%" PRIu32, a->group_id);
        break;
    case OFPACT_PUSH_MPLS:
    case OFPACT_POP_MPLS:
        ds_put_format(s, "%s_mpls:0x%04x",
                      a->type == OFPACT_PUSH_MPLS ? "push" : "pop",
                      ntohs(a->mpls_ethertype));
        break;
    case OFPACT_SET_MPLS_LABEL:
        ds_put_format(s, "set_mpls_label(%" PRIu32 ")", a->mpls_label);
        break;
    case OFPACT_SET_MPLS_TC:
        ds_put_format(s, "set_mpls_tc(%u)", a->mpls_tc);
        break;
    case OFPACT_SET_MPLS_TTL:
        ds_put_format(s, "set_mpls_ttl(%u)", a->ttl);
        break;
    case OFPACT_DEC_MPLS_TTL:
        ds_put_cstr(s, "dec_mpls_ttl");
        break;
    case OFPACT_SET_IP_TTL:
        ds_put_format(s, "mod_nw_ttl:%u", a->ttl);
        break;
    }
}

void
ofpacts_format(const struct ofpacts *ofpacts, struct ds *s)
{
    if (!ofpacts->n) {
        ds_put_cstr(s, "drop");
        return;
    }
    for (size_t i = 0; i < ofpacts->n; i++) {
        if (i) {
            ds_put_char(s, ',');
        }
        ofpact_format(&ofpacts->acts[i], s);
    }
}

/* ---- Carrying a list over OpenFlow 1.0 ------------------------------------ */

/* Appends the loads that write 'value' under 'mask' to 'f': one per run of
 * contiguous mask bits, at most 64 bits each, lowest bits first, as Open
 * vSwitch splits a set_field into NXAST_REG_LOADs. */
static void
put_loads(struct ofpacts *out, const struct field *f,
          const union field_value *value, const union field_value *mask)
{
    unsigned int bit = 0;

    while (bit < f->n_bits) {
        unsigned int n = 0;
        uint64_t x = 0;

        if (!field_bit_get(mask->b, f->n_bytes, bit)) {
            bit++;
            continue;
        }
        while (bit + n < f->n_bits && n < 64
               && field_bit_get(mask->b, f->n_bytes, bit + n)) {
            if (field_bit_get(value->b, f->n_bytes, bit + n)) {
                x |= UINT64_C(1) << n;
            }
            n++;
        }

        struct ofpact *a = ofpacts_put(out, OFPACT_LOAD);

        a->load.dst.field = f;
        a->load.dst.ofs = bit;
        a->load.dst.n_bits = n;
        a->load.value = x;
        bit += n;
    }
}

/* Whether a set_field to field 'id' has an OpenFlow 1.0 action. */
static bool
is_of10_field(enum field_id id)
{
    switch (id) {
    case FIELD_VLAN_TCI:
    case FIELD_VLAN_VID:
    case FIELD_DL_VLAN:
    case FIELD_VLAN_PCP:
    case FIELD_DL_VLAN_PCP:
    case FIELD_ETH_SRC:
    case FIELD_ETH_DST:
    case FIELD_IP_SRC:
    case FIELD_IP_DST:
    case FIELD_NW_TOS:
    case FIELD_IP_DSCP:
    case FIELD_TCP_SRC:
    case FIELD_UDP_SRC:
    case FIELD_TCP_DST:
    case FIELD_UDP_DST:
        return true;
    default:
        return false;
    }
}

/* Appends what set_field 'a' becomes over OpenFlow 1.0: the OpenFlow 1.0
 * action of its field when there is one and 'a' writes the whole field,
 * loads otherwise.  (ovs-ofctl turns a masked set_field on such a field
 * into the OpenFlow 1.0 action and so writes the bits outside the mask
 * too; a load writes exactly the bits asked for, which is what the rule
 * says.) */
static void
put_set_field_of10(struct ofpacts *out, const struct ofpact *a)
{
    const struct field *f = a->set_field.field;
    const union field_value *v = &a->set_field.value;
    uint16_t tci;

    if (is_of10_field(f->id)
        && !field_value_is_all_ones(f, &a->set_field.mask)) {
        COVERAGE_INC(ofpacts_of10_masked_as_load);
        if (f->nxm_name) {
            put_loads(out, f, v, &a->set_field.mask);
        } else {
            ofpacts_put_copy(out, a);
        }
        return;
    }
    switch (f->id) {
    case FIELD_VLAN_TCI:
        tci = ntohs(v->be16);
        if (tci & VLAN_CFI) {
            ofpacts_put(out, OFPACT_SET_VLAN_VID)->vlan_vid =
                tci & VLAN_VID_MASK;
            ofpacts_put(out, OFPACT_SET_VLAN_PCP)->vlan_pcp =
                (uint8_t)(tci >> VLAN_PCP_SHIFT);
        } else {
            ofpacts_put(out, OFPACT_STRIP_VLAN);
        }
        break;
    case FIELD_VLAN_VID:
    case FIELD_DL_VLAN:
        ofpacts_put(out, OFPACT_SET_VLAN_VID)->vlan_vid =
            ntohs(v->be16) & VLAN_VID_MASK;
        break;
    case FIELD_VLAN_PCP:
    case FIELD_DL_VLAN_PCP:
        ofpacts_put(out, OFPACT_SET_VLAN_PCP)->vlan_pcp = v->u8;
        break;
    case FIELD_ETH_SRC:
    case FIELD_ETH_DST:
        ofpacts_put(out, f->id == FIELD_ETH_SRC ? OFPACT_SET_ETH_SRC
                                                : OFPACT_SET_ETH_DST)
            ->mac = v->mac;
        break;
    case FIELD_IP_SRC:
    case FIELD_IP_DST:
        ofpacts_put(out, f->id == FIELD_IP_SRC ? OFPACT_SET_IPV4_SRC
                                               : OFPACT_SET_IPV4_DST)
            ->ipv4 = v->be32;
        break;
    case FIELD_NW_TOS:
        ofpacts_put(out, OFPACT_SET_IP_DSCP)->tos = v->u8;
        break;
    case FIELD_IP_DSCP:
        ofpacts_put(out, OFPACT_SET_IP_DSCP)->tos = (uint8_t)(v->u8 << 2);
        break;
    case FIELD_TCP_SRC:
    case FIELD_UDP_SRC:
        ofpacts_put(out, OFPACT_SET_L4_SRC)->l4_port = ntohs(v->be16);
        break;
    case FIELD_TCP_DST:
    case FIELD_UDP_DST:
        ofpacts_put(out, OFPACT_SET_L4_DST)->l4_port = ntohs(v->be16);
        break;
    default:
        if (f->nxm_name) {
            put_loads(out, f, v, &a->set_field.mask);
        } else {
            ofpacts_put_copy(out, a);
        }
        break;
    }
}

void
ofpacts_as_openflow10(struct ofpacts *ofpacts)
{
    struct ofpacts out;

    ofpacts_init(&out);
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];

        if (a->type == OFPACT_SET_FIELD) {
            put_set_field_of10(&out, a);
        } else if (a->type == OFPACT_SET_IP_TTL) {
            /* OpenFlow 1.0 has no set-TTL: ovs-ofctl sends a load. */
            struct ofpact *l = ofpacts_put(&out, OFPACT_LOAD);

            l->load.dst.field = field_from_id(FIELD_NW_TTL);
            l->load.dst.ofs = 0;
            l->load.dst.n_bits = 8;
            l->load.value = a->ttl;
        } else if (a->type == OFPACT_GOTO_TABLE) {
            struct ofpact *r = ofpacts_put(&out, OFPACT_RESUBMIT);

            r->resubmit.in_port = OFPP_IN_PORT;
            r->resubmit.table_id = a->goto_table;
        } else {
            ofpacts_put_copy(&out, a);
        }
    }
    ofpacts_destroy(ofpacts);
    *ofpacts = out;
}

/* ---- Checks ------------------------------------------------------------- */

static int
prereq_error(const struct ofpact *a, const char *name, enum field_prereq p,
             char **errorp)
{
    struct ds text = DS_EMPTY_INITIALIZER;

    ofpact_format(a, &text);
    *errorp = field_error(ds_cstr(&text), NULL, "%s requires %s", name,
                          field_prereq_describe(p));
    ds_destroy(&text);
    COVERAGE_INC(ofpacts_check_error);
    return EINVAL;
}

static int
check_field(const struct ofpact *a, const struct field *f,
            const struct match *m, char **errorp)
{
    if (!field_prereq_satisfied(f->prereq, m)) {
        return prereq_error(a, f->name, f->prereq, errorp);
    }
    return 0;
}

/* Records in 'm' whether a VLAN tag is present after an action. */
static void
set_vlan_present(struct match *m, bool present)
{
    m->wc.masks.vlans[0].tci |= htons(VLAN_CFI);
    if (present) {
        m->flow.vlans[0].tci |= htons(VLAN_CFI);
    } else {
        m->flow.vlans[0].tci &= ~htons(VLAN_CFI);
    }
}

/* A write to vlan_tci or vlan_vid may add or remove the tag: both hold the
 * "present" bit (VLAN_CFI) at the same place. */
static void
track_tci_write(struct match *m, const struct field *f,
                const union field_value *value, const union field_value *mask)
{
    if ((f->id == FIELD_VLAN_TCI || f->id == FIELD_VLAN_VID)
        && mask->be16 & htons(VLAN_CFI)) {
        set_vlan_present(m, value->be16 & htons(VLAN_CFI));
    }
}

/* Records in 'm' the ethertype after push_mpls or pop_mpls: what the
 * later actions may then touch. */
static void
set_dl_type(struct match *m, be16 dl_type)
{
    m->flow.dl_type = dl_type;
    m->wc.masks.dl_type = htons(0xffff);
    m->flow.nw_proto = 0;
    m->wc.masks.nw_proto = 0;
}

/* The MPLS actions and mod_nw_ttl: what they need, and what they leave
 * behind in 'm'.  As Open vSwitch over OpenFlow 1.1+, an MPLS action
 * other than push_mpls needs an MPLS packet. */
static int
check_mpls(const struct ofpact *a, struct match *m, char **errorp)
{
    static const char *const names[] = {
        [OFPACT_POP_MPLS] = "pop_mpls",
        [OFPACT_SET_MPLS_LABEL] = "set_mpls_label",
        [OFPACT_SET_MPLS_TC] = "set_mpls_tc",
        [OFPACT_SET_MPLS_TTL] = "set_mpls_ttl",
        [OFPACT_DEC_MPLS_TTL] = "dec_mpls_ttl",
    };

    if (a->type == OFPACT_PUSH_MPLS) {
        set_dl_type(m, a->mpls_ethertype);
        return 0;
    }
    if (a->type == OFPACT_SET_IP_TTL) {
        return field_prereq_satisfied(FIELD_PREREQ_IP_ANY, m)
                   ? 0
                   : prereq_error(a, "mod_nw_ttl", FIELD_PREREQ_IP_ANY,
                                  errorp);
    }
    if (!field_prereq_satisfied(FIELD_PREREQ_MPLS, m)) {
        return prereq_error(a, names[a->type], FIELD_PREREQ_MPLS, errorp);
    }
    if (a->type == OFPACT_POP_MPLS) {
        set_dl_type(m, a->mpls_ethertype);
    }
    return 0;
}

/* goto_table must go forward from the flow's table 'table_id'. */
static int
check_goto_table(const struct ofpact *a, uint8_t table_id, char **errorp)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    char *hint;

    if (table_id == 255 || a->goto_table > table_id) {
        return 0;
    }
    hint = table_id < 254
               ? xasprintf("expected goto_table:%u or higher", table_id + 1)
               : xstrdup("table 254 is the last table");
    ofpact_format(a, &text);
    *errorp = field_error(ds_cstr(&text), hint,
                          "goto_table must go to a later table than this "
                          "flow's table %u",
                          table_id);
    free(hint);
    ds_destroy(&text);
    COVERAGE_INC(ofpacts_check_error);
    return EINVAL;
}

int
ofpacts_check(const struct ofpacts *ofpacts, const struct match *match,
              uint8_t table_id, char **errorp)
{
    struct match m = *match; /* Tracks the VLAN tag through the actions. */

    *errorp = NULL;
    for (size_t i = 0; i < ofpacts->n; i++) {
        const struct ofpact *a = &ofpacts->acts[i];
        union field_value value, mask;
        int error = 0;

        switch (a->type) {
        case OFPACT_SET_VLAN_VID:
        case OFPACT_SET_VLAN_PCP:
        case OFPACT_PUSH_VLAN:
            set_vlan_present(&m, true);
            break;
        case OFPACT_STRIP_VLAN:
            set_vlan_present(&m, false);
            break;
        case OFPACT_SET_IPV4_SRC:
        case OFPACT_SET_IPV4_DST:
            if (!field_prereq_satisfied(FIELD_PREREQ_IPV4, &m)) {
                error =
                    prereq_error(a,
                                 a->type == OFPACT_SET_IPV4_SRC ? "mod_nw_src"
                                                                : "mod_nw_dst",
                                 FIELD_PREREQ_IPV4, errorp);
            }
            break;
        case OFPACT_SET_IP_DSCP:
        case OFPACT_DEC_TTL:
            if (!field_prereq_satisfied(FIELD_PREREQ_IP_ANY, &m)) {
                error = prereq_error(
                    a, a->type == OFPACT_DEC_TTL ? "dec_ttl" : "mod_nw_tos",
                    FIELD_PREREQ_IP_ANY, errorp);
            }
            break;
        case OFPACT_SET_L4_SRC:
        case OFPACT_SET_L4_DST:
            if (!field_prereq_satisfied(FIELD_PREREQ_L4, &m)) {
                error = prereq_error(
                    a,
                    a->type == OFPACT_SET_L4_SRC ? "mod_tp_src" : "mod_tp_dst",
                    FIELD_PREREQ_L4, errorp);
            }
            break;
        case OFPACT_SET_FIELD:
            error = check_field(a, a->set_field.field, &m, errorp);
            track_tci_write(&m, a->set_field.field, &a->set_field.value,
                            &a->set_field.mask);
            break;
        case OFPACT_LOAD:
            error = check_field(a, a->load.dst.field, &m, errorp);
            ofpact_load_to_field(a, &value, &mask);
            track_tci_write(&m, a->load.dst.field, &value, &mask);
            break;
        case OFPACT_MOVE:
            error = check_field(a, a->move.src.field, &m, errorp);
            if (!error) {
                error = check_field(a, a->move.dst.field, &m, errorp);
            }
            break;
        case OFPACT_GOTO_TABLE:
            error = check_goto_table(a, table_id, errorp);
            break;
        case OFPACT_WRITE_ACTIONS:
            /* The set runs at the end of the pipeline on the packet as
             * the applied actions leave it. */
            error = ofpacts_check(a->nested, &m, table_id, errorp);
            break;
        case OFPACT_PUSH_MPLS:
        case OFPACT_POP_MPLS:
        case OFPACT_SET_MPLS_LABEL:
        case OFPACT_SET_MPLS_TC:
        case OFPACT_SET_MPLS_TTL:
        case OFPACT_DEC_MPLS_TTL:
        case OFPACT_SET_IP_TTL:
            error = check_mpls(a, &m, errorp);
            break;
        case OFPACT_OUTPUT:
        case OFPACT_CONTROLLER:
        case OFPACT_SET_ETH_SRC:
        case OFPACT_SET_ETH_DST:
        case OFPACT_RESUBMIT:
        case OFPACT_NOTE:
        case OFPACT_SET_QUEUE:
        case OFPACT_CLEAR_ACTIONS:
        case OFPACT_WRITE_METADATA:
        case OFPACT_METER:
        case OFPACT_GROUP:
            break;
        }
        if (error) {
            return error;
        }
    }
    return 0;
}
