/*
 * openflow/ofmgr-handle.c — what each OpenFlow request does (ofmgr.h
 * "Messages"), in the I/O thread, without the manager's mutex except to
 * queue replies and to read or change a connection's role and config.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/datapath.h"
#include "flow/flow-text.h"
#include "flow/ofpact.h"
#include "flow/packet-parse.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "ofproto/group.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "openflow/ofmgr-private.h"
#include "openflow/ofp-meter.h"
#include "openflow/ofp-private.h"
#include "packet/packet.h"

VLOG_DEFINE_THIS_MODULE(openflow_handle);

COVERAGE_DEFINE(ofconn_bad_request);
COVERAGE_DEFINE(ofconn_flow_mod);
COVERAGE_DEFINE(ofconn_flow_mod_refused);
COVERAGE_DEFINE(ofconn_meter_mod_refused);
COVERAGE_DEFINE(ofconn_group_mod);
COVERAGE_DEFINE(ofconn_group_mod_refused);
COVERAGE_DEFINE(ofconn_packet_out);
COVERAGE_DEFINE(ofconn_packet_out_refused);
COVERAGE_DEFINE(ofconn_slave_refused);
COVERAGE_DEFINE(ofconn_error_received);

static struct vlog_rate_limit handle_rl = VLOG_RATE_LIMIT_INIT(5, 5);

static void
send_and_free(struct ofconn *c, struct ofpbuf *b)
{
    ofconn_send(c, b);
    ofpbuf_uninit(b);
}

static bool
ofconn_is_slave(struct ofconn *c)
{
    bool slave;

    pthread_mutex_lock(&c->mgr->mutex);
    slave = c->role == OFPCR_ROLE_SLAVE;
    pthread_mutex_unlock(&c->mgr->mutex);
    return slave;
}

/* ---- FLOW_MOD ----------------------------------------------------------- */

/* What ofproto would refuse about an add, told with OpenFlow's codes:
 * goto_table backwards and actions that need what the match lacks. */
static int
flow_mod_precheck(const struct flow_text *ft)
{
    char *error = NULL;

    if (ft->mode != FLOW_TEXT_ADD) {
        return 0;
    }
    for (size_t i = 0; i < ft->ofpacts.n; i++) {
        const struct ofpact *a = &ft->ofpacts.acts[i];

        if (a->type == OFPACT_GOTO_TABLE && a->goto_table <= ft->table_id) {
            return OFPERR_BIC_BAD_TABLE_ID;
        }
    }
    if (ofpacts_check(&ft->ofpacts, &ft->match, ft->table_id, &error)) {
        VLOG_DBG_RL(&handle_rl, "flow_mod refused: %s", error);
        free(error);
        return OFPERR_BAC_MATCH_INCONSISTENT;
    }
    return 0;
}

/* A delete with out_group: deletes, in one batch, the flows 'ft' selects
 * whose actions name group 'group_id'. */
static void
flow_mod_delete_out_group(struct ofconn *c, const struct flow_text *ft,
                          uint32_t group_id)
{
    struct ofproto_rule_info *rules;
    size_t n = ofproto_collect_rules(c->mgr->ofproto, ft, time_msec(), &rules);
    struct flow_text *mods = xcalloc(n + 1, sizeof *mods);
    char *error_msg = NULL;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (group_ofpacts_use(&rules[i].ofpacts, &group_id, 1)) {
            flow_text_init(&mods[k], FLOW_TEXT_DELETE_STRICT);
            mods[k].match = rules[i].match;
            mods[k].priority = rules[i].priority;
            mods[k++].table_id = rules[i].table_id;
        }
    }
    if (k && ofproto_flow_mods(c->mgr->ofproto, mods, k, &error_msg)) {
        VLOG_DBG_RL(&handle_rl, "%s: out_group delete: %s", c->name,
                    error_msg);
    }
    free(error_msg);
    for (size_t i = 0; i < k; i++) {
        flow_text_destroy(&mods[i]);
    }
    free(mods);
    ofproto_rule_infos_free(rules, n);
}

static void
handle_flow_mod(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofp_flow_mod fm;
    char *error_msg = NULL;
    int error;

    if (ofconn_is_slave(c)) {
        COVERAGE_INC(ofconn_slave_refused);
        ofconn_send_error(c, OFPERR_IS_SLAVE, msg, len);
        return;
    }
    error = ofp_decode_flow_mod(msg, len, &fm);
    if (!error) {
        error = flow_mod_precheck(&fm.ft);
    }
    if (!error && fm.out_group != OFPG_ANY
        && (fm.ft.mode == FLOW_TEXT_DELETE
            || fm.ft.mode == FLOW_TEXT_DELETE_STRICT)) {
        flow_mod_delete_out_group(c, &fm.ft, fm.out_group);
        flow_text_destroy(&fm.ft);
        COVERAGE_INC(ofconn_flow_mod);
        return;
    }
    if (!error) {
        int e = ofproto_flow_mods(c->mgr->ofproto, &fm.ft, 1, &error_msg);

        if (e) {
            VLOG_DBG_RL(&handle_rl, "%s: flow_mod refused: %s", c->name,
                        error_msg ? error_msg : "");
            error = e == EEXIST   ? OFPERR_FMFC_OVERLAP
                    : e == EINVAL ? OFPERR_BAC_MATCH_INCONSISTENT
                    : e == ENOENT ? OFPERR_MMFC_INVALID_METER
                    : e == ENXIO  ? OFPERR_BAC_BAD_OUT_GROUP
                                  : OFPERR_FMFC_UNKNOWN;
            free(error_msg);
        } else if (fm.buffer_id != OFP_NO_BUFFER) {
            /* Applied; but there is no buffer to release. */
            error = OFPERR_BUFFER_UNKNOWN;
        }
    }
    flow_text_destroy(&fm.ft);
    if (error) {
        COVERAGE_INC(ofconn_flow_mod_refused);
        ofconn_send_error(c, error, msg, len);
        return;
    }
    COVERAGE_INC(ofconn_flow_mod);
}

/* ---- GROUP_MOD ---------------------------------------------------------- */

static int
handle_group_mod(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct group_mod gm;
    char *error_msg = NULL;
    int error;

    if (ofconn_is_slave(c)) {
        return OFPERR_IS_SLAVE;
    }
    error = ofp_decode_group_mod(msg, len, &gm);
    if (!error) {
        error = ofp_group_error(
            ofproto_group_mod(c->mgr->ofproto, &gm, &error_msg));
        group_mod_destroy(&gm);
    }
    if (error) {
        COVERAGE_INC(ofconn_group_mod_refused);
        VLOG_DBG_RL(&handle_rl, "%s: group_mod refused: %s", c->name,
                    error_msg ? error_msg : "bad message");
    } else {
        COVERAGE_INC(ofconn_group_mod);
    }
    free(error_msg);
    return error;
}

/* ---- PACKET_OUT --------------------------------------------------------- */

static int
packet_out_execute(struct ofconn *c, const struct ofp_packet_out *po)
{
    struct ofproto *ofproto = c->mgr->ofproto;
    struct xlate_cache *xc;
    struct dp_packet *pkt;
    struct xlate_out xout;
    struct xlate_in xin;
    struct match match;
    struct flow flow;
    uint32_t dp_port = DP_PORT_NONE;
    char *error = NULL;

    if (po->in_port != OFPP_CONTROLLER && po->in_port != OFPP_NONE
        && !ofproto_port_to_dp(ofproto, po->in_port, &dp_port)) {
        return OFPERR_BAD_PORT;
    }
    pkt = netdev_packet_alloc();
    dp_packet_put(pkt, po->data, po->data_len);
    pkt->in_port = po->in_port;
    packet_parse(pkt, &flow);
    flow.in_port = po->in_port;

    /* The actions must make sense for this packet, as a flow's must for
     * its match. */
    match_init_exact(&match, &flow);
    if (ofpacts_check(&po->ofpacts, &match, 0, &error)) {
        VLOG_DBG_RL(&handle_rl, "%s: packet_out refused: %s", c->name, error);
        free(error);
        netdev_packet_recycle(pkt);
        return OFPERR_BAC_MATCH_INCONSISTENT;
    }

    /* The rules and tables output:TABLE runs through count the packet, as
     * Open vSwitch counts it. */
    xc = xlate_cache_new();
    xlate_in_init(&xin, ofproto, &flow);
    xin.packet = pkt;
    xin.may_learn = true;
    xin.ofpacts = &po->ofpacts;
    xin.xcache = xc;
    xlate_actions(&xin, &xout);
    xlate_cache_push_stats(xc, 1, dp_packet_size(pkt), time_msec());
    xlate_cache_delete(xc);
    pkt->in_port = dp_port;
    dp_execute(c->mgr->dp, pkt, xout.actions, true);
    xlate_out_uninit(&xout);
    return 0;
}

static void
handle_packet_out(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofp_packet_out po;
    int error;

    if (ofconn_is_slave(c)) {
        COVERAGE_INC(ofconn_slave_refused);
        ofconn_send_error(c, OFPERR_IS_SLAVE, msg, len);
        return;
    }
    error = ofp_decode_packet_out(msg, len, &po);
    if (!error && po.buffer_id != OFP_NO_BUFFER) {
        error = OFPERR_BUFFER_UNKNOWN;
    }
    if (!error && !po.data_len) {
        error = OFPERR_BAD_PACKET;
    }
    if (!error) {
        error = packet_out_execute(c, &po);
    }
    ofpacts_destroy(&po.ofpacts);
    if (error) {
        COVERAGE_INC(ofconn_packet_out_refused);
        ofconn_send_error(c, error, msg, len);
        return;
    }
    COVERAGE_INC(ofconn_packet_out);
}

/* ---- MULTIPART ---------------------------------------------------------- */

struct mp_body {
    struct ofpbuf body;
    size_t *ofs;
    size_t n, allocated;
};

static void
mp_entry(struct mp_body *mp)
{
    mp->ofs = xgrow(mp->ofs, &mp->allocated, mp->n + 1, sizeof *mp->ofs);
    mp->ofs[mp->n++] = mp->body.size;
}

static void
mp_send(struct ofconn *c, uint32_t xid, uint16_t type, struct mp_body *mp)
{
    struct ofpbuf out = OFPBUF_INITIALIZER;

    ofp_encode_multipart_replies(&out, xid, type, &mp->body, mp->ofs, mp->n);
    send_and_free(c, &out);
    ofpbuf_uninit(&mp->body);
    free(mp->ofs);
}

void
ofmgr_flow_entry_from_rule(const struct ofproto_rule_info *r,
                           struct ofp_flow_entry *e)
{
    memset(e, 0, sizeof *e);
    e->match = r->match;
    e->priority = r->priority;
    e->table_id = r->table_id;
    e->cookie = r->cookie;
    e->idle_timeout = r->idle_timeout;
    e->hard_timeout = r->hard_timeout;
    e->flags = (uint16_t)r->flags;
    e->duration_ms = r->duration_ms;
    e->packet_count = r->n_packets;
    e->byte_count = r->n_bytes;
    e->ofpacts = &r->ofpacts;
}

/* Table statistics: lookups and matches as the xlate caches credited
 * them (ofproto_table_credit()). */
static void
mp_tables(struct ofconn *c, struct mp_body *mp)
{
    for (unsigned int t = 0; t < OFP13_N_TABLES; t++) {
        uint64_t lookups, matched;

        ofproto_table_get_stats(c->mgr->ofproto, (uint8_t)t, &lookups,
                                &matched);
        mp_entry(mp);
        ofp_put_table_stats(
            &mp->body, (uint8_t)t,
            (uint32_t)ofproto_table_n_rules(c->mgr->ofproto, (uint8_t)t),
            lookups, matched);
    }
}

static void
mp_flows(struct ofconn *c, const struct ofp_multipart_request *req,
         struct mp_body *mp)
{
    struct ofproto_rule_info *rules;
    uint64_t packets = 0, bytes = 0;
    uint32_t n_flows = 0;
    size_t n;

    n = ofproto_collect_rules(c->mgr->ofproto, &req->filter, time_msec(),
                              &rules);
    for (size_t i = 0; i < n; i++) {
        const struct ofproto_rule_info *r = &rules[i];
        struct ofp_flow_entry e;

        if (r->table_id >= OFP13_N_TABLES
            || (req->out_group != OFPG_ANY
                && !group_ofpacts_use(&r->ofpacts, &req->out_group, 1))) {
            continue;
        }
        n_flows++;
        if (req->type == OFPMP_AGGREGATE) {
            packets += r->n_packets;
            bytes += r->n_bytes;
            continue;
        }
        ofmgr_flow_entry_from_rule(r, &e);
        mp_entry(mp);
        ofp_put_flow_stats(&mp->body, &e);
    }
    if (req->type == OFPMP_AGGREGATE) {
        mp_entry(mp);
        ofp_put_aggregate(&mp->body, packets, bytes, n_flows);
    }
    ofproto_rule_infos_free(rules, n ? n : 0);
}

void
ofmgr_port_hw_addr(const char *name, uint32_t ofp_port, struct eth_addr *mac)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, "/sys/class/net/%s/address", name);
    f = fopen(path, "r");
    if (f) {
        char line[64];
        bool ok = fgets(line, sizeof line, f) != NULL;
        const char *p = line;

        fclose(f);
        for (int i = 0; ok && i < 6; i++) {
            char *end;
            unsigned long byte = strtoul(p, &end, 16);

            ok = end == p + 2 && byte <= 0xff && (i == 5 || *end == ':');
            mac->ea[i] = (uint8_t)byte;
            p = end + 1;
        }
        if (ok) {
            return;
        }
    }
    *mac = (struct eth_addr){
        {0x02, 0x00, 0x00, 0x00, (uint8_t)(ofp_port >> 8), (uint8_t)ofp_port}};
}

static int
mp_ports(struct ofconn *c, const struct ofp_multipart_request *req,
         struct mp_body *mp)
{
    struct ofproto_port_info *ports;
    uint64_t now = time_msec();
    size_t n = ofproto_port_list(c->mgr->ofproto, &ports);
    bool found = false;

    for (size_t i = 0; i < n; i++) {
        const struct ofproto_port_info *p = &ports[i];

        if (req->type == OFPMP_PORT_DESC) {
            struct ofp_port_desc pd;

            memset(&pd, 0, sizeof pd);
            pd.port_no = p->ofp_port;
            snprintf(pd.name, sizeof pd.name, "%s", p->name);
            ofmgr_port_hw_addr(p->name, p->ofp_port, &pd.hw_addr);
            ofmgr_port_get_state(c->mgr, p->ofp_port, &pd.config, &pd.state);
            mp_entry(mp);
            ofp_put_port_desc(&mp->body, &pd);
            found = true;
        } else if (req->port_no == OFPP_ANY || req->port_no == p->ofp_port) {
            struct dp_port_stats st;
            struct ofp_port_stats ps;

            memset(&ps, 0, sizeof ps);
            ps.port_no = p->ofp_port;
            if (!dp_port_get_stats(c->mgr->dp, p->dp_port, &st)) {
                ps.rx_packets = st.netdev_rx_packets;
                ps.tx_packets = st.netdev_tx_packets;
                ps.rx_bytes = st.netdev_rx_bytes;
                ps.tx_bytes = st.netdev_tx_bytes;
                ps.rx_dropped = st.netdev_rx_dropped;
                ps.tx_dropped = st.netdev_tx_dropped;
                ps.rx_errors = st.netdev_rx_errors;
                ps.tx_errors = st.netdev_tx_errors;
            }
            ps.duration_ms = now - ofmgr_port_added(c->mgr, p->ofp_port);
            mp_entry(mp);
            ofp_put_port_stats(&mp->body, &ps);
            found = true;
        }
    }
    ofproto_port_list_free(ports, n);
    if (req->type == OFPMP_PORT_STATS && req->port_no != OFPP_ANY && !found) {
        return OFPERR_BAD_PORT;
    }
    return 0;
}

static void
mp_meters(struct ofconn *c, const struct ofp_multipart_request *req,
          struct mp_body *mp)
{
    struct ofmeter_info *infos;
    size_t n;

    if (req->type == OFPMP_METER_FEATURES) {
        mp_entry(mp);
        ofp_put_meter_features(&mp->body);
        return;
    }
    n = ofproto_meter_snapshot(c->mgr->ofproto, req->id, &infos);
    for (size_t i = 0; i < n; i++) {
        mp_entry(mp);
        if (req->type == OFPMP_METER) {
            ofp_put_meter_stats(&mp->body, &infos[i]);
        } else {
            ofp_put_meter_config(&mp->body, &infos[i].config);
        }
    }
    free(infos);
}

static void
mp_groups(struct ofconn *c, const struct ofp_multipart_request *req,
          struct mp_body *mp)
{
    uint32_t id = req->type == OFPMP_GROUP ? req->id : GROUP_ID_ALL;
    struct group_info *infos;
    size_t n = ofproto_collect_groups(c->mgr->ofproto, id, &infos);

    for (size_t i = 0; i < n; i++) {
        mp_entry(mp);
        if (req->type == OFPMP_GROUP) {
            ofp_put_group_stats(&mp->body, &infos[i]);
        } else {
            ofp_put_group_desc(&mp->body, &infos[i].desc);
        }
    }
    group_infos_free(infos, n);
}

static void
handle_multipart(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofp_multipart_request req;
    struct mp_body mp;
    uint32_t xid = ofp_get32(msg + 4);
    int error;

    memset(&mp, 0, sizeof mp);
    ofpbuf_init(&mp.body);
    error = ofp_decode_multipart_request(msg, len, &req);
    if (!error) {
        switch (req.type) {
        case OFPMP_DESC:
            mp_entry(&mp);
            ofp_put_desc(&mp.body, "flowswitch", "flowswitch userspace switch",
                         "0.1.0", "None", "br0");
            break;
        case OFPMP_FLOW:
        case OFPMP_AGGREGATE:
            mp_flows(c, &req, &mp);
            break;
        case OFPMP_TABLE:
            mp_tables(c, &mp);
            break;
        case OFPMP_TABLE_FEATURES:
            for (unsigned int t = 0; t < OFP13_N_TABLES; t++) {
                mp_entry(&mp);
                ofp_put_table_features(&mp.body, (uint8_t)t, "", 1000000);
            }
            break;
        case OFPMP_PORT_STATS:
        case OFPMP_PORT_DESC:
            error = mp_ports(c, &req, &mp);
            break;
        case OFPMP_METER:
        case OFPMP_METER_CONFIG:
        case OFPMP_METER_FEATURES:
            mp_meters(c, &req, &mp);
            break;
        case OFPMP_GROUP:
        case OFPMP_GROUP_DESC:
            mp_groups(c, &req, &mp);
            break;
        case OFPMP_GROUP_FEATURES:
            mp_entry(&mp);
            ofp_put_group_features(&mp.body);
            break;
        default:
            error = OFPERR_BAD_MULTIPART;
            break;
        }
    }
    flow_text_destroy(&req.filter);
    if (error) {
        ofpbuf_uninit(&mp.body);
        free(mp.ofs);
        ofconn_send_error(c, error, msg, len);
        return;
    }
    mp_send(c, xid, req.type, &mp);
}

/* ---- METER_MOD ---------------------------------------------------------- */

static int
ofmeter_error_to_ofperr(enum ofmeter_error error)
{
    static const int codes[] = {
        [OFMETER_OK] = 0,
        [OFMETER_E_EXISTS] = OFPERR_MMFC_METER_EXISTS,
        [OFMETER_E_INVALID_METER] = OFPERR_MMFC_INVALID_METER,
        [OFMETER_E_UNKNOWN_METER] = OFPERR_MMFC_UNKNOWN_METER,
        [OFMETER_E_BAD_COMMAND] = OFPERR_MMFC_BAD_COMMAND,
        [OFMETER_E_BAD_FLAGS] = OFPERR_MMFC_BAD_FLAGS,
        [OFMETER_E_BAD_RATE] = OFPERR_MMFC_BAD_RATE,
        [OFMETER_E_BAD_BAND] = OFPERR_MMFC_BAD_BAND,
        [OFMETER_E_OUT_OF_METERS] = OFPERR_MMFC_OUT_OF_METERS,
        [OFMETER_E_OUT_OF_BANDS] = OFPERR_MMFC_OUT_OF_BANDS,
    };

    return codes[error];
}

/* Returns an OpenFlow error for the caller to send, or 0. */
static int
handle_meter_mod(struct ofconn *c, const uint8_t *msg, size_t len)
{
    enum ofmeter_command command;
    struct ofmeter_config cfg;
    int error = ofp_decode_meter_mod(msg, len, &command, &cfg);

    if (!error) {
        error = ofmeter_error_to_ofperr(
            ofproto_meter_mod(c->mgr->ofproto, command, &cfg));
    }
    if (error) {
        COVERAGE_INC(ofconn_meter_mod_refused);
    }
    return error;
}

/* ---- ROLE --------------------------------------------------------------- */

static void
handle_role(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofmgr *mgr = c->mgr;
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_role role;
    int error;

    error = ofp_decode_role_request(msg, len, &role);
    if (!error
        && (role.role == OFPCR_ROLE_MASTER || role.role == OFPCR_ROLE_SLAVE)) {
        if (mgr->have_generation
            && (int64_t)(role.generation_id - mgr->generation_id) < 0) {
            error = OFPERR_RRFC_STALE;
        } else {
            mgr->have_generation = true;
            mgr->generation_id = role.generation_id;
        }
    }
    if (error) {
        ofconn_send_error(c, error, msg, len);
        return;
    }
    pthread_mutex_lock(&mgr->mutex);
    if (role.role == OFPCR_ROLE_MASTER) {
        for (size_t i = 0; i < mgr->n_conns; i++) {
            if (mgr->conns[i] != c
                && mgr->conns[i]->role == OFPCR_ROLE_MASTER) {
                mgr->conns[i]->role = OFPCR_ROLE_SLAVE;
            }
        }
    }
    if (role.role != OFPCR_ROLE_NOCHANGE) {
        c->role = role.role;
    }
    role.role = c->role;
    role.generation_id = mgr->have_generation ? mgr->generation_id : 0;
    pthread_mutex_unlock(&mgr->mutex);
    VLOG_INFO("%s: role %u", c->name, role.role);
    ofp_encode_role_reply(&b, ofp_get32(msg + 4), &role);
    send_and_free(c, &b);
}

/* ---- Small requests ----------------------------------------------------- */

/* Errors from the controller are only logged. */
static void
handle_error_msg(struct ofconn *c, const uint8_t *msg, size_t len)
{
    uint16_t type, code;
    char buf[64];

    COVERAGE_INC(ofconn_error_received);
    if (ofp_decode_error(msg, len, &type, &code)) {
        return;
    }
    if (type <= OFPERR_MAX_TYPE) {
        VLOG_INFO_RL(&handle_rl, "%s: received %s", c->name,
                     ofperr_to_string(OFPERR(type, code), buf));
    } else {
        VLOG_INFO_RL(&handle_rl, "%s: received error type %u code %u", c->name,
                     (unsigned int)type, (unsigned int)code);
    }
}

static void
handle_echo_request(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;

    ofp_encode_echo_reply(&b, msg, len);
    send_and_free(c, &b);
}

static int
handle_features_request(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;

    if (len != OFP_HEADER_LEN) {
        return OFPERR_BAD_LEN;
    }
    ofp_encode_features_reply(&b, ofp_get32(msg + 4), c->mgr->cfg.datapath_id);
    send_and_free(c, &b);
    return 0;
}

static int
handle_get_config(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofpbuf b = OFPBUF_INITIALIZER;
    struct ofp_switch_config cfg = {0, 0};

    if (len != OFP_HEADER_LEN) {
        return OFPERR_BAD_LEN;
    }
    pthread_mutex_lock(&c->mgr->mutex);
    cfg.miss_send_len = c->miss_send_len;
    pthread_mutex_unlock(&c->mgr->mutex);
    ofp_encode_get_config_reply(&b, ofp_get32(msg + 4), &cfg);
    send_and_free(c, &b);
    return 0;
}

static int
handle_set_config(struct ofconn *c, const uint8_t *msg, size_t len)
{
    struct ofp_switch_config cfg;
    int error = ofp_decode_set_config(msg, len, &cfg);

    if (!error) {
        pthread_mutex_lock(&c->mgr->mutex);
        c->miss_send_len = cfg.miss_send_len;
        pthread_mutex_unlock(&c->mgr->mutex);
    }
    return error;
}

/* ---- Dispatch ----------------------------------------------------------- */

/* Handles 'msg' by its type and returns an OpenFlow error to send back, or
 * 0.  A flat dispatch: one line per message type. */
static int
ofconn_dispatch(struct ofconn *c, const uint8_t *msg, size_t len)
{
    switch (msg[1]) {
    case OFPT_HELLO:
    case OFPT_ECHO_REPLY:
        return 0;
    case OFPT_ERROR:
        handle_error_msg(c, msg, len);
        return 0;
    case OFPT_ECHO_REQUEST:
        handle_echo_request(c, msg, len);
        return 0;
    case OFPT_FEATURES_REQUEST:
        return handle_features_request(c, msg, len);
    case OFPT_GET_CONFIG_REQUEST:
        return handle_get_config(c, msg, len);
    case OFPT_SET_CONFIG:
        return handle_set_config(c, msg, len);
    case OFPT_FLOW_MOD:
        handle_flow_mod(c, msg, len);
        return 0;
    case OFPT_PACKET_OUT:
        handle_packet_out(c, msg, len);
        return 0;
    case OFPT_MULTIPART_REQUEST:
        handle_multipart(c, msg, len);
        return 0;
    case OFPT_BARRIER_REQUEST:
        return ofconn_barrier_request(c, msg, len);
    case OFPT_ROLE_REQUEST:
        handle_role(c, msg, len);
        return 0;
    case OFPT_EXPERIMENTER:
        return OFPERR_BAD_EXPERIMENTER;
    case OFPT_GROUP_MOD:
        return handle_group_mod(c, msg, len);
    case OFPT_PORT_MOD:
    case OFPT_TABLE_MOD:
        return ofconn_is_slave(c) ? OFPERR_IS_SLAVE : OFPERR_BAD_TYPE;
    case OFPT_METER_MOD:
        return ofconn_is_slave(c) ? OFPERR_IS_SLAVE
                                  : handle_meter_mod(c, msg, len);
    default:
        return OFPERR_BAD_TYPE;
    }
}

void
ofconn_handle(struct ofconn *c, const uint8_t *msg, size_t len)
{
    int error;

    if (msg[0] != OFP13_VERSION) {
        COVERAGE_INC(ofconn_bad_request);
        ofconn_send_error(c, OFPERR_BAD_VERSION, msg, len);
        return;
    }
    error = ofconn_dispatch(c, msg, len);
    if (error) {
        COVERAGE_INC(ofconn_bad_request);
        ofconn_send_error(c, error, msg, len);
    }
}
