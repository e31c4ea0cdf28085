/* cmd/daemon-port.c — port SPECs and the daemon's port list (see
 * daemon.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/daemon.h"
#include "datapath/datapath.h"
#include "flow/flow.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "openflow/ofmgr.h"
#include "openflow/ofp-codec.h"

VLOG_DEFINE_THIS_MODULE(daemon_port);

COVERAGE_DEFINE(daemon_port_add_failed);

/* ---- SPEC parsing ------------------------------------------------------- */

void
daemon_port_spec_destroy(struct daemon_port_spec *spec)
{
    free(spec->name);
    free(spec->type);
    free(spec->rx_path);
    free(spec->tx_path);
    free(spec->xdp_mode);
    memset(spec, 0, sizeof *spec);
}

/* Parses 'value' as a decimal integer in [min, max]. */
static bool
parse_uint(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;

    if (!*value || *value == '-' || *value == '+') {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Applies one KEY=VALUE of a SPEC.  Returns NULL or what went wrong. */
static char *
spec_apply(struct daemon_port_spec *spec, const char *key, const char *value)
{
    uint64_t n;

    if (!strcmp(key, "type")) {
        if (spec->type) {
            return xstrdup("type= given twice");
        }
        if (strcmp(value, "afpacket") != 0 && strcmp(value, "afxdp") != 0
            && strcmp(value, "tap") != 0 && strcmp(value, "pcap") != 0
            && strcmp(value, "memory") != 0) {
            return xasprintf("unknown type \"%s\" (expected afpacket, afxdp, "
                             "tap, pcap or memory)",
                             value);
        }
        spec->type = xstrdup(value);
    } else if (!strcmp(key, "ofport")) {
        if (spec->ofport) {
            return xstrdup("ofport= given twice");
        }
        if (!strcasecmp(value, "LOCAL")) {
            spec->ofport = OFPP_LOCAL;
        } else if (parse_uint(value, 1, OFPP_MAX - 1, &n)) {
            spec->ofport = (uint32_t)n;
        } else {
            return xasprintf("bad ofport \"%s\" (expected 1 to %d or LOCAL)",
                             value, OFPP_MAX - 1);
        }
    } else if (!strcmp(key, "rx") || !strcmp(key, "tx")) {
        char **path = key[0] == 'r' ? &spec->rx_path : &spec->tx_path;

        if (*path) {
            return xasprintf("%s= given twice", key);
        }
        if (!*value) {
            return xasprintf("%s= needs a file name", key);
        }
        *path = xstrdup(value);
    } else if (!strcmp(key, "rate")) {
        if (!parse_uint(value, 0, UINT32_MAX, &n)) {
            return xasprintf("bad rate \"%s\" (expected packets per second, "
                             "0 for as fast as possible)",
                             value);
        }
        spec->rate_pps = n;
    } else if (!strcmp(key, "loop")) {
        if (!parse_uint(value, 1, 1000000, &n)) {
            return xasprintf("bad loop \"%s\" (expected a count, 1 to "
                             "1000000)",
                             value);
        }
        spec->loops = (unsigned int)n;
    } else if (!strcmp(key, "xdp-mode")) {
        if (spec->xdp_mode) {
            return xstrdup("xdp-mode= given twice");
        }
        if (strcmp(value, "native") != 0 && strcmp(value, "skb") != 0
            && strcmp(value, "auto") != 0) {
            return xasprintf("bad xdp-mode \"%s\" (expected native, skb or "
                             "auto)",
                             value);
        }
        spec->xdp_mode = xstrdup(value);
    } else {
        return xasprintf("unknown option \"%s\" (expected type, ofport, rx, "
                         "tx, rate, loop or xdp-mode)",
                         key);
    }
    return NULL;
}

/* Checks the options against the type, filling in the default type. */
static char *
spec_check(struct daemon_port_spec *spec)
{
    bool pcap_opts =
        spec->rx_path || spec->tx_path || spec->rate_pps || spec->loops;

    if (!spec->type) {
        /* rx=/tx= can only mean a capture; LOCAL is the bridge's TAP. */
        spec->type = xstrdup(pcap_opts                    ? "pcap"
                             : spec->ofport == OFPP_LOCAL ? "tap"
                                                          : "afpacket");
    }
    if (pcap_opts && strcmp(spec->type, "pcap") != 0) {
        return xasprintf("rx=, tx=, rate= and loop= apply to type=pcap only "
                         "(this port is type=%s)",
                         spec->type);
    }
    if ((spec->rate_pps || spec->loops) && !spec->rx_path) {
        return xstrdup("rate= and loop= need rx=FILE");
    }
    if (spec->xdp_mode && strcmp(spec->type, "afxdp") != 0) {
        return xasprintf("xdp-mode= applies to type=afxdp only (this port "
                         "is type=%s)",
                         spec->type);
    }
    return NULL;
}

int
daemon_port_spec_parse(const char *text, struct daemon_port_spec *spec,
                       char **errorp)
{
    char *copy = xstrdup(text), *save = NULL, *why = NULL;
    char *name = strtok_r(copy, ",", &save);

    memset(spec, 0, sizeof *spec);
    *errorp = NULL;
    if (!name || strchr(name, '=') || text[0] == ',') {
        why = xstrdup("expected NAME[,type=T][,ofport=N][,rx=FILE]"
                      "[,tx=FILE][,rate=PPS][,loop=N][,xdp-mode=M]");
        goto out;
    }
    spec->name = xstrdup(name);
    for (char *opt = strtok_r(NULL, ",", &save); opt && !why;
         opt = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(opt, '=');

        if (!eq) {
            why = xasprintf("option \"%s\" has no value (expected KEY=VALUE)",
                            opt);
            break;
        }
        *eq = '\0';
        why = spec_apply(spec, opt, eq + 1);
    }
    if (!why) {
        why = spec_check(spec);
    }

out:
    if (why) {
        *errorp = xasprintf("port \"%s\": %s", text, why);
        daemon_port_spec_destroy(spec);
        free(why);
    }
    free(copy);
    return why ? EINVAL : 0;
}

/* ---- The port list ------------------------------------------------------ */

struct daemon_port *
daemon_port_find(struct daemon *d, const char *name)
{
    for (size_t i = 0; i < d->n_ports; i++) {
        if (!strcmp(d->ports[i]->spec.name, name)) {
            return d->ports[i];
        }
    }
    return NULL;
}

static struct daemon_port *
daemon_port_find_ofport(struct daemon *d, uint32_t ofport)
{
    for (size_t i = 0; i < d->n_ports; i++) {
        if (d->ports[i]->spec.ofport == ofport) {
            return d->ports[i];
        }
    }
    return NULL;
}

static void
format_ofport(uint32_t ofport, struct ds *s)
{
    if (ofport == OFPP_LOCAL) {
        ds_put_cstr(s, "LOCAL");
    } else {
        ds_put_format(s, "%" PRIu32, ofport);
    }
}

bool
daemon_port_is_replay(const struct daemon_port *port)
{
    return !strcmp(port->spec.type, "pcap") && port->spec.rx_path;
}

/* Picks the OpenFlow port number for 'spec'.  Returns NULL or what is
 * wrong. */
static char *
daemon_port_assign_ofport(struct daemon *d, struct daemon_port_spec *spec)
{
    struct daemon_port *other;

    if (daemon_port_find(d, spec->name)) {
        return xstrdup("a port with that name exists already");
    }
    if (!spec->ofport) {
        uint32_t n = 1;

        while (daemon_port_find_ofport(d, n)) {
            n++;
        }
        spec->ofport = n;
    } else if ((other = daemon_port_find_ofport(d, spec->ofport))) {
        struct ds s = DS_EMPTY_INITIALIZER;

        ds_put_cstr(&s, "ofport ");
        format_ofport(spec->ofport, &s);
        ds_put_format(&s, " is taken by \"%s\"", other->spec.name);
        return ds_steal_cstr(&s);
    }
    return NULL;
}

int
daemon_port_open(const struct daemon_port *port, struct netdev **netdevp,
                 char **errorp)
{
    struct netdev_options opts;

    memset(&opts, 0, sizeof opts);
    opts.rx_path = port->spec.rx_path;
    opts.tx_path = port->spec.tx_path;
    opts.rate_pps = port->spec.rate_pps;
    opts.loops = port->spec.loops;
    opts.xdp_mode = port->spec.xdp_mode;
    return netdev_open(port->spec.name, port->spec.type, &opts, netdevp,
                       errorp);
}

int
daemon_port_add(struct daemon *d, struct daemon_port_spec *spec, char **errorp)
{
    struct daemon_port *port = xzalloc(sizeof *port);
    char *why;
    int error;

    port->spec = *spec;
    memset(spec, 0, sizeof *spec);
    *errorp = NULL;

    why = daemon_port_assign_ofport(d, &port->spec);
    if (why) {
        *errorp = xasprintf("port \"%s\": %s", port->spec.name, why);
        free(why);
        error = EEXIST;
        goto err_free;
    }
    port->dp_port = port->spec.ofport == OFPP_LOCAL ? DAEMON_LOCAL_DP_PORT
                                                    : port->spec.ofport;

    error = daemon_port_open(port, &port->netdev, errorp);
    if (error) {
        goto err_free;
    }
    daemon_link_port_init(port);
    /* The bridge learns the port before the datapath polls it, so that no
     * packet from it is translated as coming from nowhere (which would
     * install a drop flow for it). */
    error = ofproto_port_add(d->ofproto, port->spec.ofport, port->dp_port,
                             port->spec.name, errorp);
    if (error) {
        goto err_close;
    }
    error = dp_port_add(d->dp, port->netdev, port->dp_port);
    if (error) {
        *errorp = xasprintf("port \"%s\": datapath port %" PRIu32 ": %s",
                            port->spec.name, port->dp_port, strerror(error));
        goto err_ofproto;
    }

    d->ports =
        xgrow(d->ports, &d->allocated_ports, d->n_ports + 1, sizeof *d->ports);
    d->ports[d->n_ports++] = port;
    if (d->ofmgr) {
        ofmgr_port_status(d->ofmgr, OFPPR_ADD, port->spec.ofport,
                          port->spec.name);
        daemon_link_announce(d, port);
    }

    struct ds ofport = DS_EMPTY_INITIALIZER;
    format_ofport(port->spec.ofport, &ofport);
    VLOG_INFO("added port %s (%s) as OpenFlow port %s, datapath port %" PRIu32,
              port->spec.name, port->spec.type, ds_cstr(&ofport),
              port->dp_port);
    ds_destroy(&ofport);
    return 0;

err_ofproto:
    ofproto_port_del(d->ofproto, port->spec.ofport);
err_close:
    netdev_close(port->netdev);
err_free:
    COVERAGE_INC(daemon_port_add_failed);
    daemon_port_spec_destroy(&port->spec);
    free(port);
    return error;
}

int
daemon_port_del(struct daemon *d, const char *name, char **errorp)
{
    size_t i;

    *errorp = NULL;
    for (i = 0; i < d->n_ports; i++) {
        if (!strcmp(d->ports[i]->spec.name, name)) {
            break;
        }
    }
    if (i == d->n_ports) {
        *errorp = xasprintf("no port named \"%s\"", name);
        return ENOENT;
    }

    struct daemon_port *port = d->ports[i];
    struct daemon_removed_ports *r = &d->removed;
    struct dp_port_stats st;

    /* Translation stops using it first, then the datapath lets go of it;
     * only then may the netdev close.  Its final counters stay in the
     * summary. */
    ofproto_port_del(d->ofproto, port->spec.ofport);
    if (!dp_port_del_stats(d->dp, port->dp_port, &st)) {
        r->n++;
        r->rx += st.netdev_rx_packets;
        r->rx_drop += st.netdev_rx_dropped + st.netdev_rx_errors;
        r->tx += st.netdev_tx_packets;
        r->tx_drop += st.netdev_tx_dropped + st.netdev_tx_errors;
        r->lost += st.lost;
        r->parse_drop += st.parse_drop;
    }
    if (d->ofmgr) {
        ofmgr_port_status(d->ofmgr, OFPPR_DELETE, port->spec.ofport,
                          port->spec.name);
    }
    if (port->netdev) {
        netdev_flush(port->netdev);
        netdev_close(port->netdev);
    }
    VLOG_INFO("removed port %s", port->spec.name);
    daemon_port_spec_destroy(&port->spec);
    free(port);
    memmove(&d->ports[i], &d->ports[i + 1],
            (d->n_ports - i - 1) * sizeof *d->ports);
    d->n_ports--;
    return 0;
}

void
daemon_port_show(struct daemon *d, struct ds *s)
{
    ds_put_format(s, "%s:\n", DAEMON_BRIDGE);
    for (size_t i = 0; i < d->n_ports; i++) {
        const struct daemon_port *port = d->ports[i];
        struct dp_port_stats st;

        ds_put_cstr(s, "  port ");
        format_ofport(port->spec.ofport, s);
        ds_put_format(s, ": %s (%s)", port->spec.name, port->spec.type);
        if (port->spec.rx_path) {
            ds_put_format(s, " rx=%s", port->spec.rx_path);
            if (port->spec.rate_pps) {
                ds_put_format(s, " rate=%" PRIu64, port->spec.rate_pps);
            }
            if (port->spec.loops > 1) {
                ds_put_format(s, " loop=%u", port->spec.loops);
            }
            if (dp_port_rx_done(d->dp, port->dp_port)) {
                ds_put_cstr(s, " (replay ended)");
            }
        }
        if (port->spec.tx_path) {
            ds_put_format(s, " tx=%s", port->spec.tx_path);
        }
        daemon_link_show(port, s);
        if (port->netdev) {
            size_t before = s->length;

            ds_put_char(s, ' ');
            netdev_get_status(port->netdev, s);
            if (s->length == before + 1) {
                ds_truncate(s, before); /* No status. */
            }
        }
        ds_put_format(s, ", datapath port %" PRIu32 "\n", port->dp_port);
        if (dp_port_get_stats(d->dp, port->dp_port, &st)) {
            continue;
        }
        ds_put_format(
            s,
            "    rx: packets %" PRIu64 ", bytes %" PRIu64 ", dropped %" PRIu64
            ", errors %" PRIu64 "; lost %" PRIu64 " (over its share %" PRIu64
            "), unparsable %" PRIu64 "\n",
            st.netdev_rx_packets, st.netdev_rx_bytes, st.netdev_rx_dropped,
            st.netdev_rx_errors, st.lost, st.lost_port_share, st.parse_drop);
        ds_put_format(
            s,
            "    tx: packets %" PRIu64 ", bytes %" PRIu64 ", dropped %" PRIu64,
            st.netdev_tx_packets, st.netdev_tx_bytes, st.netdev_tx_dropped);
        if (st.tx_missing) {
            ds_put_format(s, " (interface missing %" PRIu64 ")",
                          st.tx_missing);
        }
        ds_put_format(s, ", errors %" PRIu64 "\n", st.netdev_tx_errors);
    }
}
