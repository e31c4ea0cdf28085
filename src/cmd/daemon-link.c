/* cmd/daemon-link.c — ports that follow their Linux interfaces through
 * link events (see daemon.h, "Link events").
 *
 * The monitor's thread (netdev-linux-monitor.h) only copies each event
 * into a queue under the daemon's mutex and wakes the main thread, which
 * owns the ports and applies the events in order.  The queue is bounded
 * (DAEMON_LINK_QUEUE_MAX: a host dumping thousands of links while the main
 * thread is busy); beyond it, events are dropped (daemon_link_queue_full)
 * and every port is probed instead, as after a NETDEV_LINK_RESYNC. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/daemon.h"
#include "datapath/datapath.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-linux-monitor.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "openflow/ofmgr.h"
#include "openflow/ofp-codec.h"

VLOG_DEFINE_THIS_MODULE(daemon_link);

COVERAGE_DEFINE(daemon_port_vanished);
COVERAGE_DEFINE(daemon_port_reattached);
COVERAGE_DEFINE(daemon_port_reattach_failed);
COVERAGE_DEFINE(daemon_port_link_change);
COVERAGE_DEFINE(daemon_link_queue_full);

#define DAEMON_LINK_QUEUE_MAX 4096

/* ---- The monitor's side ------------------------------------------------- */

static void
daemon_link_cb(const struct netdev_link_event *ev, void *d_)
{
    struct daemon *d = d_;

    pthread_mutex_lock(&d->mutex);
    if (d->n_link_events >= DAEMON_LINK_QUEUE_MAX) {
        COVERAGE_INC(daemon_link_queue_full);
        d->link_resync = true;
    } else {
        d->link_events = xgrow(d->link_events, &d->allocated_link_events,
                               d->n_link_events + 1, sizeof *d->link_events);
        d->link_events[d->n_link_events++] = *ev;
    }
    pthread_mutex_unlock(&d->mutex);
    daemon_wake(d);
}

void
daemon_link_start(struct daemon *d)
{
    char *error;

    for (size_t i = 0; i < d->n_ports; i++) {
        daemon_link_announce(d, d->ports[i]);
    }
    if (netdev_link_monitor_create(daemon_link_cb, d, &d->link_monitor,
                                   &error)) {
        VLOG_WARN("%s; ports will not follow their interfaces", error);
        free(error);
    }
}

void
daemon_link_stop(struct daemon *d)
{
    netdev_link_monitor_destroy(d->link_monitor);
    d->link_monitor = NULL;
    free(d->link_events);
    d->link_events = NULL;
    d->n_link_events = d->allocated_link_events = 0;
}

/* ---- State -------------------------------------------------------------- */

/* Reads the interface called 'name' into '*ev' (a NETDEV_LINK_NEW, or a
 * NETDEV_LINK_DEL if there is none). */
static void
daemon_link_probe(const char *name, struct netdev_link_event *ev)
{
    struct ifreq ifr;
    int sock;

    memset(ev, 0, sizeof *ev);
    snprintf(ev->name, sizeof ev->name, "%s", name);
    ev->ifindex = (int)if_nametoindex(name);
    ev->type = ev->ifindex ? NETDEV_LINK_NEW : NETDEV_LINK_DEL;
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!ev->ifindex || sock < 0) {
        ev->admin_up = ev->carrier = ev->ifindex != 0; /* Unknown: up. */
        if (sock >= 0) {
            close(sock);
        }
        return;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (!ioctl(sock, SIOCGIFFLAGS, &ifr)) {
        ev->admin_up = (ifr.ifr_flags & IFF_UP) != 0;
        ev->carrier = (ifr.ifr_flags & IFF_RUNNING) != 0;
    }
    if (!ioctl(sock, SIOCGIFMTU, &ifr)) {
        ev->mtu = (unsigned int)ifr.ifr_mtu;
    }
    close(sock);
}

void
daemon_link_port_init(struct daemon_port *port)
{
    struct netdev_link_event ev;

    port->of_config = 0;
    port->of_state = OFPPS_LIVE;
    port->follows_link = !strcmp(port->spec.type, "afpacket")
                         || !strcmp(port->spec.type, "afxdp");
    port->admin_up = port->carrier = true;
    if (!port->follows_link) {
        return;
    }
    daemon_link_probe(port->spec.name, &ev);
    port->ifindex = ev.ifindex;
    port->admin_up = ev.admin_up;
    port->carrier = ev.carrier;
    port->mtu = ev.mtu;
}

/* Tells the OpenFlow channel the port's state; with 'always' even if it
 * has not changed (its MAC has). */
static void
daemon_link_send(struct daemon *d, struct daemon_port *port, bool always)
{
    uint32_t config = port->admin_up || port->missing ? 0 : OFPPC_PORT_DOWN;
    uint32_t state = port->missing || !port->admin_up || !port->carrier
                         ? OFPPS_LINK_DOWN
                         : OFPPS_LIVE;

    if (!always && config == port->of_config && state == port->of_state) {
        return;
    }
    port->of_config = config;
    port->of_state = state;
    if (d->ofmgr) {
        ofmgr_port_modify(d->ofmgr, port->spec.ofport, port->spec.name, config,
                          state);
    }
    /* Output to a port whose link is down goes on, as in Open vSwitch
     * (the datapath counts what a missing port could not send), but the
     * cached flows are checked again: a controller may react, and
     * fast-failover groups watching the port move their traffic. */
    ofproto_port_set_live(d->ofproto, port->spec.ofport,
                          state == OFPPS_LIVE && !config);
    ofproto_bump_change_seq(d->ofproto);
}

void
daemon_link_announce(struct daemon *d, struct daemon_port *port)
{
    daemon_link_send(d, port, false);
}

void
daemon_link_show(const struct daemon_port *port, struct ds *s)
{
    if (port->missing) {
        ds_put_cstr(s, " (missing)");
        return;
    }
    if (!port->admin_up) {
        ds_put_cstr(s, " admin-down");
    }
    if (!port->carrier) {
        ds_put_cstr(s, " link-down");
    }
}

/* ---- Transitions -------------------------------------------------------- */

/* The interface of 'port' is gone: detaches the port and closes its
 * netdev. */
static void
daemon_link_vanished(struct daemon *d, struct daemon_port *port)
{
    struct netdev *netdev;

    if (dp_port_detach(d->dp, port->dp_port, &netdev)) {
        return;
    }
    netdev_close(netdev);
    port->netdev = NULL;
    port->missing = true;
    port->ifindex = 0;
    COVERAGE_INC(daemon_port_vanished);
    VLOG_WARN("port %s: interface vanished; OpenFlow port %" PRIu32
              " stays, missing, until an interface of that name appears",
              port->spec.name, port->spec.ofport);
    daemon_link_announce(d, port);
}

/* An interface called like missing 'port' appeared as 'ifindex': opens
 * it and attaches the port again.  Returns false if it cannot (logged;
 * the port stays missing and the next event tries again). */
static bool
daemon_link_reattach(struct daemon *d, struct daemon_port *port, int ifindex)
{
    struct netdev *netdev;
    char *error;

    if (daemon_port_open(port, &netdev, &error)) {
        COVERAGE_INC(daemon_port_reattach_failed);
        VLOG_WARN("port %s: interface is back but cannot be used: %s",
                  port->spec.name, error);
        free(error);
        return false;
    }
    if (dp_port_attach(d->dp, port->dp_port, netdev)) {
        netdev_close(netdev);
        return false;
    }
    port->netdev = netdev;
    port->missing = false;
    port->ifindex = ifindex;
    port->has_mac = false; /* A new interface: the re-attach's
                            * PORT_STATUS carries its MAC. */
    COVERAGE_INC(daemon_port_reattached);
    VLOG_INFO("port %s: interface is back (ifindex %d); re-attached as "
              "OpenFlow port %" PRIu32,
              port->spec.name, ifindex, port->spec.ofport);
    return true;
}

/* Takes the Ethernet address of 'ev'.  Returns true if it replaced a
 * different one (logged: port descriptions carry it). */
static bool
daemon_link_set_mac(struct daemon_port *port,
                    const struct netdev_link_event *ev)
{
    bool changed;

    if (!ev->has_mac) {
        return false;
    }
    changed =
        port->has_mac && memcmp(port->mac, ev->mac, sizeof port->mac) != 0;
    if (changed) {
        const uint8_t *m = ev->mac;

        VLOG_INFO("port %s: MAC %02x:%02x:%02x:%02x:%02x:%02x",
                  port->spec.name, m[0], m[1], m[2], m[3], m[4], m[5]);
    }
    memcpy(port->mac, ev->mac, sizeof port->mac);
    port->has_mac = true;
    return changed;
}

/* Takes the admin and carrier state of 'ev' (about 'port''s interface). */
static void
daemon_link_set_state(struct daemon *d, struct daemon_port *port,
                      const struct netdev_link_event *ev)
{
    bool changed =
        port->admin_up != ev->admin_up || port->carrier != ev->carrier;

    port->admin_up = ev->admin_up;
    port->carrier = ev->carrier;
    if (ev->mtu && ev->mtu != port->mtu) {
        if (port->mtu) {
            VLOG_INFO("port %s: MTU %u (was %u)", port->spec.name, ev->mtu,
                      port->mtu);
        }
        port->mtu = ev->mtu;
    }
    if (changed) {
        COVERAGE_INC(daemon_port_link_change);
        VLOG_INFO("port %s: %s, link %s", port->spec.name,
                  ev->admin_up ? "admin up" : "admin down",
                  ev->carrier ? "up" : "down");
    }
    daemon_link_send(d, port, daemon_link_set_mac(port, ev));
}

/* Applies 'ev', about the interface called like 'port'. */
static void
daemon_link_port_event(struct daemon *d, struct daemon_port *port,
                       const struct netdev_link_event *ev)
{
    if (ev->type == NETDEV_LINK_DEL) {
        if (!port->missing && ev->ifindex == port->ifindex) {
            daemon_link_vanished(d, port);
        }
        return;
    }
    if (!port->missing && ev->ifindex != port->ifindex) {
        /* A new interface took the name: the old one is gone. */
        daemon_link_vanished(d, port);
    }
    if (port->missing && !daemon_link_reattach(d, port, ev->ifindex)) {
        return;
    }
    daemon_link_set_state(d, port, ev);
}

/* Events were lost: looks at every port's interface afresh. */
static void
daemon_link_resync(struct daemon *d)
{
    for (size_t i = 0; i < d->n_ports; i++) {
        struct daemon_port *port = d->ports[i];
        struct netdev_link_event ev;

        if (port->follows_link) {
            daemon_link_probe(port->spec.name, &ev);
            ev.ifindex = ev.ifindex ? ev.ifindex : port->ifindex;
            daemon_link_port_event(d, port, &ev);
        }
    }
}

static void
daemon_link_apply(struct daemon *d, const struct netdev_link_event *ev)
{
    if (ev->type == NETDEV_LINK_RESYNC) {
        daemon_link_resync(d);
        return;
    }
    for (size_t i = 0; i < d->n_ports; i++) {
        struct daemon_port *port = d->ports[i];

        if (!port->follows_link) {
            continue;
        }
        if (!strcmp(port->spec.name, ev->name)) {
            daemon_link_port_event(d, port, ev);
        } else if (ev->type == NETDEV_LINK_NEW && !port->missing
                   && ev->ifindex == port->ifindex) {
            /* Renamed: the port's name no longer names it. */
            daemon_link_vanished(d, port);
        }
    }
}

void
daemon_link_run(struct daemon *d)
{
    struct netdev_link_event *events;
    bool resync;
    size_t n;

    pthread_mutex_lock(&d->mutex);
    events = d->link_events;
    n = d->n_link_events;
    resync = d->link_resync;
    d->link_events = NULL;
    d->n_link_events = d->allocated_link_events = 0;
    d->link_resync = false;
    pthread_mutex_unlock(&d->mutex);

    for (size_t i = 0; i < n; i++) {
        daemon_link_apply(d, &events[i]);
    }
    if (resync) {
        daemon_link_resync(d);
    }
    free(events);
}
