/*
 * netdev/netdev-linux-monitor.h — link events from rtnetlink.
 *
 * Linux interfaces come and go underneath the switch: a container's veth
 * is deleted with the container, a peer is set down, a cable is pulled.
 * The kernel announces each change of a link as an RTM_NEWLINK (created or
 * changed: flags, carrier, MTU, address...) or RTM_DELLINK (gone) message
 * to the members of the RTMGRP_LINK multicast group of NETLINK_ROUTE.
 *
 * Two layers:
 *
 *   - netdev_link_parse() turns one netlink message into a struct
 *     netdev_link_event: ifindex, name, admin state (IFF_UP), carrier
 *     (IFLA_CARRIER, or IFF_RUNNING where the kernel gives no
 *     IFLA_CARRIER), operational state (IFLA_OPERSTATE), MTU (IFLA_MTU)
 *     and Ethernet address (IFLA_ADDRESS).  It is a pure function, so
 *     that unit tests feed it hand-built messages.  It refuses a message
 *     whose header, ifinfomsg or attributes are cut short, whose
 *     attributes have the wrong size, or that lacks the name, and counts
 *     each refusal in the coverage counter netdev_link_malformed; messages
 *     that are not about links (NLMSG_DONE of a dump, other types) are
 *     ignored without a count.
 *
 *   - a monitor: one NETLINK_ROUTE socket (libmnl) bound to RTMGRP_LINK,
 *     read by a thread of its own ("link-monitor"), off every fast path,
 *     which calls the consumer's callback once per event, in the order the
 *     kernel sent them.  At start it asks the kernel for a dump of every
 *     link (RTM_GETLINK), so the consumer learns the current state of its
 *     interfaces through the same callback.  When the kernel could not
 *     queue some messages for us (ENOBUFS: the socket's buffer overran,
 *     netdev_link_overrun), events may have been lost: the callback gets a
 *     NETDEV_LINK_RESYNC event (the consumer rechecks what it cares about,
 *     deletions included) and a new dump follows.  Messages that do not
 *     come from the kernel (nl_pid != 0) are dropped
 *     (netdev_link_foreign).
 *
 * Thread safety: netdev_link_parse() is reentrant.  The callback runs in
 * the monitor's thread, never concurrently with itself; it must not call
 * netdev_link_monitor_destroy().  create and destroy are for one
 * managing thread; after destroy returns, the callback is never called
 * again.
 */
#ifndef FLOWSWITCH_NETDEV_NETDEV_LINUX_MONITOR_H
#define FLOWSWITCH_NETDEV_NETDEV_LINUX_MONITOR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* IFNAMSIZ, without <net/if.h> in every includer. */
#define NETDEV_LINK_NAME_SIZE 16

enum netdev_link_event_type {
    NETDEV_LINK_NEW,    /* RTM_NEWLINK: created, changed, or dumped. */
    NETDEV_LINK_DEL,    /* RTM_DELLINK: gone. */
    NETDEV_LINK_RESYNC, /* Events were lost: recheck (no other field). */
};

struct netdev_link_event {
    enum netdev_link_event_type type;
    int ifindex;
    char name[NETDEV_LINK_NAME_SIZE]; /* NUL-terminated. */
    bool admin_up;                    /* IFF_UP. */
    bool carrier;                     /* IFLA_CARRIER, else IFF_RUNNING. */
    uint8_t operstate; /* IF_OPER_*; IF_OPER_UNKNOWN when not given. */
    unsigned int mtu;  /* 0: not given. */
    bool has_mac;      /* IFLA_ADDRESS of 6 bytes was given. */
    uint8_t mac[6];
};

/* Parses the message at 'nlh', of which 'len' bytes are readable.
 * Returns 0 with '*ev' filled for RTM_NEWLINK and RTM_DELLINK, ENOMSG for
 * a well-formed message about something else (ignored), or EINVAL for a
 * malformed one (counted in netdev_link_malformed). */
int netdev_link_parse(const struct nlmsghdr *nlh, size_t len,
                      struct netdev_link_event *ev);

typedef void netdev_link_cb(const struct netdev_link_event *, void *aux);

/* Parses every message of a datagram of 'len' bytes and calls 'cb' for
 * each link event.  Returns the number of messages refused as malformed
 * (a cut-short header ends the datagram). */
size_t netdev_link_parse_buffer(const void *buf, size_t len,
                                netdev_link_cb *cb, void *aux);

struct netdev_link_monitor;

/* Opens the socket, asks for a dump and starts the thread.  Returns 0, or
 * an errno value with one line in '*errorp' (which the caller frees) and
 * nothing started. */
int netdev_link_monitor_create(netdev_link_cb *cb, void *aux,
                               struct netdev_link_monitor **monp,
                               char **errorp);
/* Stops the thread and closes the socket.  NULL is a no-op. */
void netdev_link_monitor_destroy(struct netdev_link_monitor *);

#endif /* netdev/netdev-linux-monitor.h */
