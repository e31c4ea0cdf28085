/*
 * ofproto/trace.c — ofproto/trace: translation with a running commentary
 * (see ofproto_trace() in ofproto.h).
 *
 * The output follows `ovs-appctl ofproto/trace`:
 *
 *   Flow: tcp,in_port=1,...
 *
 *   bridge("br0")
 *   -------------
 *    0. tcp,tp_dst=80, priority 10
 *       resubmit(,1)
 *        1. priority 0
 *           output:2
 *
 *   Final flow: unchanged
 *   Megaflow: tcp,in_port=1,tp_dst=80
 *   Datapath actions: 2
 *
 * with one difference on purpose: the rules a resubmit reaches are
 * indented one step per level, so a deep walk reads as a tree.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/dp-actions.h"
#include "flow/field.h"
#include "flow/flow-text.h"
#include "flow/packet-parse.h"
#include "lib/dynamic-string.h"
#include "lib/util.h"
#include "ofproto/ofproto-private.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate.h"
#include "packet/packet.h"

/* Recirculations a traced packet is followed through (the datapath's
 * limit). */
#define TRACE_MAX_RECIRC 6

static bool
is_hex_string(const char *s)
{
    size_t n = 0;

    for (; *s; s++, n++) {
        if (!isxdigit((unsigned char)*s)) {
            return false;
        }
    }
    return n >= (size_t)2 * ETH_HEADER_LEN && n % 2 == 0;
}

/* Parses 'in' into 'flow': "[in_port=N ]HEX" (then '*pktp' is the packet,
 * for the caller to delete) or a flow ('*pktp' stays NULL). */
static int
trace_parse_input(const char *in, struct flow *flow, struct dp_packet **pktp,
                  char **errorp)
{
    const char *s = in;
    uint32_t in_port = 0;
    struct match match;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (!strncmp(s, "in_port=", 8)) {
        const char *sp = strpbrk(s, " \t");

        if (sp) {
            const char *hex = sp;
            char *port_text = xmemdup0(s + 8, (size_t)(sp - s - 8));

            while (isspace((unsigned char)*hex)) {
                hex++;
            }
            if (is_hex_string(hex)) {
                if (!field_parse_port(port_text, &in_port)) {
                    *errorp = xasprintf("trace: bad port in \"in_port=%s\" "
                                        "(expected a port number or name)",
                                        port_text);
                    free(port_text);
                    return EINVAL;
                }
                free(port_text);
                s = hex;
            } else {
                free(port_text);
            }
        }
    }
    if (is_hex_string(s)) {
        size_t n = strlen(s) / 2;
        uint8_t *bytes = xmalloc(n);

        for (size_t i = 0; i < n; i++) {
            char pair[3] = {s[2 * i], s[2 * i + 1], '\0'};

            bytes[i] = (uint8_t)strtoul(pair, NULL, 16);
        }
        *pktp = dp_packet_new_from_bytes(bytes, n, 0);
        (*pktp)->in_port = in_port;
        packet_parse(*pktp, flow);
        free(bytes);
        return 0;
    }
    if (match_from_string(s, &match, errorp)) {
        return EINVAL;
    }
    /* Unspecified fields are zero; specified ones are taken as given. */
    *flow = match.flow;
    return 0;
}

static void
format_flow(const struct flow *flow, struct ds *out)
{
    struct match m;

    match_init_exact(&m, flow);
    /* Registers, metadata and tun_id only when they are set, the MPLS
     * entry only for MPLS and nothing above it then, as OVS prints. */
    m.wc.masks.metadata = flow->metadata ? UINT64_MAX : 0;
    m.wc.masks.tunnel_id = flow->tunnel_id ? UINT64_MAX : 0;
    if (!eth_type_is_mpls(flow->dl_type)) {
        m.wc.masks.mpls_lse = 0;
    } else {
        size_t l3 = offsetof(struct flow, nw_src);

        memset((char *)&m.wc.masks + l3, 0, sizeof m.wc.masks - l3);
    }
    for (int i = 0; i < FLOW_N_REGS; i++) {
        m.wc.masks.regs[i] = flow->regs[i] ? UINT32_MAX : 0;
    }
    if (!flow->tcp_flags) {
        m.wc.masks.tcp_flags = 0;
    }
    match_format(&m, -1, out);
}

/* One translation of 'flow' with its commentary; returns its datapath
 * actions (the caller unrefs them). */
static struct dp_actions *
trace_pass(struct ofproto *ofproto, const struct flow *flow, struct ds *out)
{
    struct dp_actions *actions;
    struct xlate_out xout;
    struct xlate_in xin;
    struct match megaflow;

    ds_put_cstr(out, "Flow: ");
    format_flow(flow, out);
    ds_put_format(out, "\n\nbridge(\"%s\")\n", ofproto_name(ofproto));
    for (size_t i = 0; i < strlen(ofproto_name(ofproto)) + 10; i++) {
        ds_put_char(out, '-');
    }
    ds_put_char(out, '\n');

    xlate_in_init(&xin, ofproto, flow);
    xin.trace = out;
    xlate_actions(&xin, &xout);

    ds_put_cstr(out, "\nFinal flow: ");
    if (flow_equal(flow, &xout.final_flow)) {
        ds_put_cstr(out, "unchanged");
    } else {
        format_flow(&xout.final_flow, out);
    }
    ds_put_cstr(out, "\nMegaflow: ");
    match_init(&megaflow, flow, &xout.wc);
    match_format(&megaflow, -1, out);
    ds_put_cstr(out, "\nDatapath actions: ");
    dp_actions_format(xout.actions, out);
    ds_put_char(out, '\n');
    if (xout.error) {
        ds_put_format(out, "Translation failed (%s), packet is dropped.\n",
                      xlate_error_to_string(xout.error));
    }
    if (xout.slow) {
        ds_put_cstr(out, "This flow is handled by the userspace slow path "
                         "because it:\n  - Sends \"packet-in\" messages "
                         "to the OpenFlow controller.\n");
    }
    actions = xout.actions;
    xout.actions = NULL;
    xlate_out_uninit(&xout);
    return actions;
}

/* A packet given as bytes is followed through its recirculations, as the
 * datapath would run it: the rewrites before each recirc(N) applied to a
 * copy of the packet, parsed again, translated with recirc_id N.  Open
 * vSwitch's trace stops at recirc(N) for MPLS; flowswitch goes on, up to
 * the datapath's nesting limit. */
static void
trace_recirculations(struct ofproto *ofproto, const struct dp_packet *pkt,
                     const struct dp_actions *actions, unsigned int depth,
                     struct ds *out)
{
    /* The clone keeps the layer offsets dp_action_apply() needs. */
    struct dp_packet *copy = dp_packet_clone(pkt);
    struct flow flow;

    for (size_t i = 0; i < actions->n; i++) {
        const struct dp_action *a = &actions->a[i];
        struct dp_actions *next;

        if (dp_action_type_rewrites(a->type)) {
            dp_action_apply(a, copy);
            continue;
        }
        if (a->type != DP_ACTION_RECIRC) {
            continue;
        }
        ds_put_cstr(out, "\n=========================================="
                         "=====================================\n");
        ds_put_format(out, "recirc(%#" PRIx32 ") - resume\n", a->recirc_id);
        ds_put_cstr(out, "=============================================="
                         "=================================\n\n");
        if (depth >= TRACE_MAX_RECIRC) {
            ds_put_cstr(out, "Recirculated too deep: the datapath drops "
                             "the packet here.\n");
            break;
        }
        packet_parse(copy, &flow);
        flow.recirc_id = a->recirc_id;
        next = trace_pass(ofproto, &flow, out);
        flow.recirc_id = 0;
        trace_recirculations(ofproto, copy, next, depth + 1, out);
        dp_actions_unref(next);
    }
    dp_packet_delete(copy);
}

int
ofproto_trace(struct ofproto *ofproto, const char *flow_or_packet,
              struct ds *out, char **errorp)
{
    struct dp_packet *pkt = NULL;
    struct dp_actions *actions;
    struct flow flow;

    *errorp = NULL;
    if (trace_parse_input(flow_or_packet, &flow, &pkt, errorp)) {
        return EINVAL;
    }
    actions = trace_pass(ofproto, &flow, out);
    if (pkt) {
        trace_recirculations(ofproto, pkt, actions, 0, out);
        dp_packet_delete(pkt);
    }
    dp_actions_unref(actions);
    return 0;
}
