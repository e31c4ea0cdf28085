/* netdev/netdev-linux-monitor.c — link events from rtnetlink through
 * libmnl (see netdev-linux-monitor.h). */
#include "netdev/netdev-linux-monitor.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/coverage.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"

VLOG_DEFINE_THIS_MODULE(netdev_link);

COVERAGE_DEFINE(netdev_link_event);
COVERAGE_DEFINE(netdev_link_malformed);
COVERAGE_DEFINE(netdev_link_overrun);
COVERAGE_DEFINE(netdev_link_foreign);

/* A link message with every attribute a veth or a NIC carries fits in a
 * few kB; VF information can make one longer, so room for 64 kB. */
#define NETDEV_LINK_BUF_SIZE 65536
/* Asked for the socket's receive buffer, so that a burst of changes (a
 * hundred containers going away) does not overrun it. */
#define NETDEV_LINK_RCVBUF (1 << 20)

static struct vlog_rate_limit netdev_link_rl = VLOG_RATE_LIMIT_INIT(5, 5);

struct netdev_link_monitor {
    struct mnl_socket *nl;
    int stop_fd; /* eventfd: destroy asks the thread to stop. */
    pthread_t thread;
    netdev_link_cb *cb;
    void *aux;
    uint32_t dump_seq;
    char *buf; /* NETDEV_LINK_BUF_SIZE bytes, the thread's. */
};

/* ---- Parsing ------------------------------------------------------------ */

static int
netdev_link_malformed(const char *why)
{
    COVERAGE_INC(netdev_link_malformed);
    VLOG_WARN_RL(&netdev_link_rl, "refused a malformed link message: %s", why);
    return EINVAL;
}

/* Takes one attribute into 'ev'.  Returns NULL, or why it is malformed. */
static const char *
netdev_link_parse_attr(const struct nlattr *attr, struct netdev_link_event *ev,
                       bool *has_name, bool *has_carrier)
{
    uint16_t len = mnl_attr_get_payload_len(attr);

    switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0
            || len > sizeof ev->name || len < 2) {
            return "bad IFLA_IFNAME";
        }
        memcpy(ev->name, mnl_attr_get_str(attr), len);
        *has_name = true;
        break;
    case IFLA_MTU:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
            return "bad IFLA_MTU";
        }
        ev->mtu = mnl_attr_get_u32(attr);
        break;
    case IFLA_CARRIER:
        if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0) {
            return "bad IFLA_CARRIER";
        }
        ev->carrier = mnl_attr_get_u8(attr) != 0;
        *has_carrier = true;
        break;
    case IFLA_OPERSTATE:
        if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0) {
            return "bad IFLA_OPERSTATE";
        }
        ev->operstate = mnl_attr_get_u8(attr);
        break;
    case IFLA_ADDRESS:
        /* Not every link has an Ethernet address (ipip: 4 bytes). */
        ev->has_mac = len == sizeof ev->mac;
        if (ev->has_mac) {
            memcpy(ev->mac, mnl_attr_get_payload(attr), sizeof ev->mac);
        }
        break;
    default:
        break;
    }
    return NULL;
}

/* Walks the attributes after the ifinfomsg of 'nlh' (whose length the
 * caller checked).  Returns NULL or why the message is malformed. */
static const char *
netdev_link_parse_attrs(const struct nlmsghdr *nlh,
                        struct netdev_link_event *ev, bool *has_carrier)
{
    const struct nlattr *attr =
        mnl_nlmsg_get_payload_offset(nlh, sizeof(struct ifinfomsg));
    int left =
        (int)nlh->nlmsg_len - (int)((const char *)attr - (const char *)nlh);
    bool has_name = false;

    while (left > 0) {
        const char *why;

        if (!mnl_attr_ok(attr, left)) {
            return "attribute cut short";
        }
        why = netdev_link_parse_attr(attr, ev, &has_name, has_carrier);
        if (why) {
            return why;
        }
        left -= (int)MNL_ALIGN(attr->nla_len);
        attr = mnl_attr_next(attr);
    }
    return has_name ? NULL : "no IFLA_IFNAME";
}

int
netdev_link_parse(const struct nlmsghdr *nlh, size_t len,
                  struct netdev_link_event *ev)
{
    const struct ifinfomsg *ifi;
    bool has_carrier = false;
    const char *why;

    if (len < sizeof *nlh || !mnl_nlmsg_ok(nlh, (int)MIN(len, INT32_MAX))) {
        return netdev_link_malformed("netlink header cut short");
    }
    if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) {
        return ENOMSG;
    }
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof *ifi) {
        return netdev_link_malformed("ifinfomsg cut short");
    }
    ifi = mnl_nlmsg_get_payload(nlh);
    if (ifi->ifi_index <= 0) {
        return netdev_link_malformed("no interface index");
    }

    memset(ev, 0, sizeof *ev);
    ev->type =
        nlh->nlmsg_type == RTM_NEWLINK ? NETDEV_LINK_NEW : NETDEV_LINK_DEL;
    ev->ifindex = ifi->ifi_index;
    ev->admin_up = (ifi->ifi_flags & IFF_UP) != 0;
    ev->operstate = IF_OPER_UNKNOWN;
    why = netdev_link_parse_attrs(nlh, ev, &has_carrier);
    if (why) {
        return netdev_link_malformed(why);
    }
    if (!has_carrier) {
        ev->carrier = (ifi->ifi_flags & IFF_RUNNING) != 0;
    }
    return 0;
}

size_t
netdev_link_parse_buffer(const void *buf, size_t len, netdev_link_cb *cb,
                         void *aux)
{
    const struct nlmsghdr *nlh = buf;
    int left = (int)MIN(len, INT32_MAX);
    size_t n_bad = 0;

    while (left > 0) {
        struct netdev_link_event ev;
        int error = netdev_link_parse(nlh, (size_t)left, &ev);

        if (!error) {
            COVERAGE_INC(netdev_link_event);
            cb(&ev, aux);
        } else if (error == EINVAL) {
            n_bad++;
            if (!mnl_nlmsg_ok(nlh, left)) {
                break; /* Where the next one starts is unknown. */
            }
        }
        nlh = mnl_nlmsg_next(nlh, &left);
    }
    return n_bad;
}

/* ---- The monitor -------------------------------------------------------- */

/* Asks the kernel for every link (replies come as RTM_NEWLINK). */
static int
netdev_link_request_dump(struct netdev_link_monitor *mon)
{
    char buf[NLMSG_SPACE(sizeof(struct ifinfomsg))];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct ifinfomsg *ifi;

    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++mon->dump_seq;
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    if (mnl_socket_sendto(mon->nl, nlh, nlh->nlmsg_len) < 0) {
        return errno;
    }
    return 0;
}

/* Events may have been lost: tells the consumer and dumps again. */
static void
netdev_link_resync(struct netdev_link_monitor *mon, const char *why)
{
    struct netdev_link_event ev = {.type = NETDEV_LINK_RESYNC};
    int error;

    COVERAGE_INC(netdev_link_overrun);
    VLOG_WARN_RL(&netdev_link_rl, "link events lost (%s): resynchronizing",
                 why);
    mon->cb(&ev, mon->aux);
    error = netdev_link_request_dump(mon);
    if (error) {
        VLOG_WARN_RL(&netdev_link_rl, "cannot dump links: %s",
                     strerror(error));
    }
}

/* Reads one datagram, if any, and hands its events over. */
static void
netdev_link_receive(struct netdev_link_monitor *mon)
{
    struct sockaddr_nl sa;
    socklen_t sa_len = sizeof sa;
    ssize_t n;

    memset(&sa, 0, sizeof sa);

    n = recvfrom(mnl_socket_get_fd(mon->nl), mon->buf, NETDEV_LINK_BUF_SIZE,
                 MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&sa, &sa_len);
    if (n < 0) {
        if (errno == ENOBUFS) {
            netdev_link_resync(mon, "socket buffer overran");
        } else if (errno != EAGAIN && errno != EINTR) {
            VLOG_WARN_RL(&netdev_link_rl, "netlink receive failed: %s",
                         strerror(errno));
        }
        return;
    }
    if (sa_len < sizeof sa || sa.nl_pid != 0) {
        COVERAGE_INC(netdev_link_foreign);
        return;
    }
    if ((size_t)n > NETDEV_LINK_BUF_SIZE) {
        netdev_link_resync(mon, "message longer than the buffer");
        return;
    }
    netdev_link_parse_buffer(mon->buf, (size_t)n, mon->cb, mon->aux);
}

static void *
netdev_link_monitor_main(void *mon_)
{
    struct netdev_link_monitor *mon = mon_;

    for (;;) {
        struct pollfd fds[2] = {
            {.fd = mnl_socket_get_fd(mon->nl), .events = POLLIN},
            {.fd = mon->stop_fd, .events = POLLIN},
        };

        if (poll(fds, 2, -1) < 0) {
            continue; /* EINTR. */
        }
        if (fds[1].revents) {
            break;
        }
        if (fds[0].revents) {
            netdev_link_receive(mon);
        }
    }
    return NULL;
}

/* Opens and binds the socket.  Returns 0 or an errno value. */
static int
netdev_link_open_socket(struct netdev_link_monitor *mon)
{
    int rcvbuf = NETDEV_LINK_RCVBUF;
    int fd;

    mon->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!mon->nl) {
        return errno;
    }
    fd = mnl_socket_get_fd(mon->nl);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    if (mnl_socket_bind(mon->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
        return errno;
    }
    return 0;
}

static void
netdev_link_monitor_free(struct netdev_link_monitor *mon)
{
    if (mon->nl) {
        mnl_socket_close(mon->nl);
    }
    if (mon->stop_fd >= 0) {
        close(mon->stop_fd);
    }
    free(mon->buf);
    free(mon);
}

int
netdev_link_monitor_create(netdev_link_cb *cb, void *aux,
                           struct netdev_link_monitor **monp, char **errorp)
{
    struct netdev_link_monitor *mon = xzalloc(sizeof *mon);
    const char *what = "rtnetlink socket";
    int error;

    *monp = NULL;
    *errorp = NULL;
    mon->cb = cb;
    mon->aux = aux;
    mon->buf = xmalloc(NETDEV_LINK_BUF_SIZE);
    mon->stop_fd = netdev_eventfd_create();
    error = mon->stop_fd < 0 ? errno : netdev_link_open_socket(mon);
    if (!error) {
        what = "link dump";
        error = netdev_link_request_dump(mon);
    }
    if (!error) {
        what = "thread";
        error =
            pthread_create(&mon->thread, NULL, netdev_link_monitor_main, mon);
    }
    if (error) {
        *errorp = xasprintf("netdev: cannot monitor link events: %s: %s", what,
                            strerror(error));
        netdev_link_monitor_free(mon);
        return error;
    }
    pthread_setname_np(mon->thread, "link-monitor");
    *monp = mon;
    return 0;
}

void
netdev_link_monitor_destroy(struct netdev_link_monitor *mon)
{
    if (!mon) {
        return;
    }
    netdev_eventfd_signal(mon->stop_fd);
    pthread_join(mon->thread, NULL);
    netdev_link_monitor_free(mon);
}
