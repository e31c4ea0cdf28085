/* Unit tests for src/netdev/netdev-linux-monitor.c: the rtnetlink link
 * message parser, fed messages built by hand with libmnl (well-formed
 * ones, and ones cut short or with attributes of the wrong size, which it
 * must refuse and count), and the monitor itself on a veth pair the
 * test creates and deletes (root only; skipped otherwise).  The live test
 * waits for events with a deadline on a condition variable, never with a
 * sleep. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/coverage.h"
#include "netdev/netdev-linux-monitor.h"

/* ---- Building messages -------------------------------------------------- */

static char msgbuf[4096];

/* Starts a link message of 'type' for 'ifindex' with 'flags'. */
static struct nlmsghdr *
put_link(void *buf, uint16_t type, int ifindex, unsigned int flags)
{
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;

    memset(buf, 0, 1024);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = flags;
    return nlh;
}

/* A complete RTM_NEWLINK as the kernel sends it for a veth. */
static struct nlmsghdr *
put_full_link(void *buf, uint16_t type, const char *name, bool carrier)
{
    static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    struct nlmsghdr *nlh =
        put_link(buf, type, 7, IFF_UP | (carrier ? IFF_RUNNING : 0));

    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    mnl_attr_put_u32(nlh, IFLA_MTU, 1400);
    mnl_attr_put_u8(nlh, IFLA_CARRIER, carrier);
    mnl_attr_put_u8(nlh, IFLA_OPERSTATE,
                    carrier ? IF_OPER_UP : IF_OPER_LOWERLAYERDOWN);
    mnl_attr_put(nlh, IFLA_ADDRESS, sizeof mac, mac);
    return nlh;
}

static int
parse(const struct nlmsghdr *nlh, struct netdev_link_event *ev)
{
    return netdev_link_parse(nlh, nlh->nlmsg_len, ev);
}

/* Asserts that 'nlh' (of 'len' readable bytes) is refused and counted. */
static void
assert_refused(const struct nlmsghdr *nlh, size_t len)
{
    uint64_t before = coverage_read("netdev_link_malformed");
    struct netdev_link_event ev;

    assert_int_equal(netdev_link_parse(nlh, len, &ev), EINVAL);
    assert_int_equal(coverage_read("netdev_link_malformed"), before + 1);
}

/* ---- Well-formed messages ----------------------------------------------- */

static void
test_newlink_gives_every_field(void **state)
{
    struct nlmsghdr *nlh = put_full_link(msgbuf, RTM_NEWLINK, "veth7", true);
    struct netdev_link_event ev;

    (void)state;
    assert_int_equal(parse(nlh, &ev), 0);
    assert_int_equal(ev.type, NETDEV_LINK_NEW);
    assert_int_equal(ev.ifindex, 7);
    assert_string_equal(ev.name, "veth7");
    assert_true(ev.admin_up);
    assert_true(ev.carrier);
    assert_int_equal(ev.operstate, IF_OPER_UP);
    assert_int_equal(ev.mtu, 1400);
    assert_true(ev.has_mac);
    assert_int_equal(ev.mac[0], 0x02);
    assert_int_equal(ev.mac[5], 0x55);
}

static void
test_carrier_attribute_wins_over_running_flag(void **state)
{
    struct nlmsghdr *nlh =
        put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING);
    struct netdev_link_event ev;

    (void)state;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "p0");
    mnl_attr_put_u8(nlh, IFLA_CARRIER, 0);
    assert_int_equal(parse(nlh, &ev), 0);
    assert_false(ev.carrier);
}

static void
test_carrier_falls_back_to_running_flag(void **state)
{
    struct nlmsghdr *nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP);
    struct netdev_link_event ev;

    (void)state;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "p0");
    assert_int_equal(parse(nlh, &ev), 0);
    assert_true(ev.admin_up);
    assert_false(ev.carrier);
    assert_int_equal(ev.operstate, IF_OPER_UNKNOWN);
    assert_int_equal(ev.mtu, 0);
    assert_false(ev.has_mac);

    nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_RUNNING);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "p0");
    assert_int_equal(parse(nlh, &ev), 0);
    assert_false(ev.admin_up);
    assert_true(ev.carrier);
}

static void
test_dellink_is_a_deletion(void **state)
{
    struct nlmsghdr *nlh = put_full_link(msgbuf, RTM_DELLINK, "gone0", false);
    struct netdev_link_event ev;

    (void)state;
    assert_int_equal(parse(nlh, &ev), 0);
    assert_int_equal(ev.type, NETDEV_LINK_DEL);
    assert_string_equal(ev.name, "gone0");
    assert_false(ev.carrier);
}

static void
test_short_address_is_not_a_mac(void **state)
{
    static const uint8_t ip[4] = {192, 0, 2, 1};
    struct nlmsghdr *nlh = put_link(msgbuf, RTM_NEWLINK, 9, IFF_UP);
    struct netdev_link_event ev;

    (void)state;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "tun0");
    mnl_attr_put(nlh, IFLA_ADDRESS, sizeof ip, ip);
    assert_int_equal(parse(nlh, &ev), 0);
    assert_false(ev.has_mac);
}

static void
test_other_messages_are_ignored_uncounted(void **state)
{
    uint64_t before = coverage_read("netdev_link_malformed");
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
    struct netdev_link_event ev;

    (void)state;
    nlh->nlmsg_type = NLMSG_DONE;
    *(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = 0;
    assert_int_equal(parse(nlh, &ev), ENOMSG);
    nlh->nlmsg_type = RTM_NEWADDR;
    assert_int_equal(parse(nlh, &ev), ENOMSG);
    assert_int_equal(coverage_read("netdev_link_malformed"), before);
}

/* ---- Malformed messages ------------------------------------------------- */

static void
test_message_longer_than_buffer_is_refused(void **state)
{
    struct nlmsghdr *nlh = put_full_link(msgbuf, RTM_NEWLINK, "veth7", true);

    (void)state;
    assert_refused(nlh, nlh->nlmsg_len - 1);
    assert_refused(nlh, sizeof *nlh - 1);
}

static void
test_missing_ifinfomsg_is_refused(void **state)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);

    (void)state;
    nlh->nlmsg_type = RTM_NEWLINK;
    mnl_nlmsg_put_extra_header(nlh, 4); /* Half an ifinfomsg. */
    assert_refused(nlh, nlh->nlmsg_len);
}

static void
test_attribute_past_the_end_is_refused(void **state)
{
    struct nlmsghdr *nlh = put_full_link(msgbuf, RTM_NEWLINK, "veth7", true);
    struct nlattr *last =
        (struct nlattr *)((char *)nlh + nlh->nlmsg_len
                          - MNL_ALIGN(sizeof(struct nlattr) + 6));

    (void)state;
    /* The last attribute (IFLA_ADDRESS) claims more than the message. */
    assert_int_equal(mnl_attr_get_type(last), IFLA_ADDRESS);
    last->nla_len += 8;
    assert_refused(nlh, nlh->nlmsg_len);
}

static void
test_attribute_of_wrong_size_is_refused(void **state)
{
    struct nlmsghdr *nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP);

    (void)state;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "p0");
    mnl_attr_put_u16(nlh, IFLA_MTU, 1500); /* A u32 attribute. */
    assert_refused(nlh, nlh->nlmsg_len);

    nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "p0");
    mnl_attr_put_u32(nlh, IFLA_CARRIER, 1); /* A u8 attribute. */
    assert_refused(nlh, nlh->nlmsg_len);
}

static void
test_bad_or_missing_name_is_refused(void **state)
{
    struct nlmsghdr *nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP);

    (void)state;
    mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
    assert_refused(nlh, nlh->nlmsg_len); /* No name. */

    nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "a-name-far-too-long-for-ifnamsiz");
    assert_refused(nlh, nlh->nlmsg_len);

    nlh = put_link(msgbuf, RTM_NEWLINK, 3, IFF_UP);
    mnl_attr_put(nlh, IFLA_IFNAME, 4, "eth0"); /* No NUL. */
    assert_refused(nlh, nlh->nlmsg_len);
}

static void
test_zero_ifindex_is_refused(void **state)
{
    struct nlmsghdr *nlh = put_link(msgbuf, RTM_NEWLINK, 0, IFF_UP);

    (void)state;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "p0");
    assert_refused(nlh, nlh->nlmsg_len);
}

/* ---- Buffers ------------------------------------------------------------ */

struct collected {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    struct netdev_link_event events[64];
    size_t n;
};

static void
collect_cb(const struct netdev_link_event *ev, void *aux)
{
    struct collected *c = aux;

    pthread_mutex_lock(&c->mutex);
    if (c->n < 64) {
        c->events[c->n++] = *ev;
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mutex);
}

static void
test_buffer_skips_malformed_message_between_good_ones(void **state)
{
    static char buf[4096];
    struct collected c = {.n = 0};
    struct nlmsghdr *nlh;
    size_t len;

    (void)state;
    pthread_mutex_init(&c.mutex, NULL);
    pthread_cond_init(&c.cond, NULL);
    nlh = put_full_link(buf, RTM_NEWLINK, "a0", true);
    len = MNL_ALIGN(nlh->nlmsg_len);
    nlh = put_link(buf + len, RTM_NEWLINK, 5, IFF_UP); /* No name. */
    len += MNL_ALIGN(nlh->nlmsg_len);
    nlh = put_full_link(buf + len, RTM_DELLINK, "b0", false);
    len += MNL_ALIGN(nlh->nlmsg_len);

    assert_int_equal(netdev_link_parse_buffer(buf, len, collect_cb, &c), 1);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.events[0].name, "a0");
    assert_int_equal(c.events[1].type, NETDEV_LINK_DEL);
    assert_string_equal(c.events[1].name, "b0");

    /* A header cut short ends the datagram. */
    c.n = 0;
    assert_int_equal(netdev_link_parse_buffer(buf, 10, collect_cb, &c), 1);
    assert_int_equal(c.n, 0);
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.mutex);
}

/* ---- The monitor on a real interface ------------------------------------ */

/* Waits up to 30 s for an event of 'type' about 'name' after index
 * '*from' of 'c'; returns it (NULL on timeout). */
static const struct netdev_link_event *
wait_event(struct collected *c, size_t *from, enum netdev_link_event_type type,
           const char *name)
{
    struct timespec deadline;
    const struct netdev_link_event *found = NULL;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&c->mutex);
    while (!found) {
        for (; *from < c->n && !found; (*from)++) {
            if (c->events[*from].type == type
                && !strcmp(c->events[*from].name, name)) {
                found = &c->events[*from];
            }
        }
        if (!found && c->n < 64
            && pthread_cond_timedwait(&c->cond, &c->mutex, &deadline)) {
            break;
        }
        if (c->n == 64) {
            break;
        }
    }
    pthread_mutex_unlock(&c->mutex);
    return found;
}

static void
run_ip(const char *fmt, const char *name)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, fmt, name, name);
    assert_int_equal(system(cmd), 0);
}

static void
test_monitor_reports_veth_coming_and_going(void **state)
{
    struct netdev_link_monitor *mon;
    struct collected c = {.n = 0};
    const struct netdev_link_event *ev;
    char name[16], *error;
    size_t from = 0;

    (void)state;
    if (geteuid() != 0 || system("ip -V >/dev/null 2>&1")) {
        print_message("# skipped: needs root and iproute2\n");
        skip();
    }
    snprintf(name, sizeof name, "fsln%d", (int)getpid() % 100000);
    pthread_mutex_init(&c.mutex, NULL);
    pthread_cond_init(&c.cond, NULL);
    assert_int_equal(netdev_link_monitor_create(collect_cb, &c, &mon, &error),
                     0);
    run_ip("ip link add %s mtu 1300 type veth peer name %sp", name);
    ev = wait_event(&c, &from, NETDEV_LINK_NEW, name);
    assert_non_null(ev);
    assert_false(ev->admin_up);
    assert_int_equal(ev->mtu, 1300);
    assert_true(ev->has_mac);

    run_ip("ip link set %s up", name);
    do {
        ev = wait_event(&c, &from, NETDEV_LINK_NEW, name);
        assert_non_null(ev);
    } while (!ev->admin_up);

    run_ip("ip link del %s", name);
    assert_non_null(wait_event(&c, &from, NETDEV_LINK_DEL, name));
    netdev_link_monitor_destroy(mon);
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.mutex);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newlink_gives_every_field),
        cmocka_unit_test(test_carrier_attribute_wins_over_running_flag),
        cmocka_unit_test(test_carrier_falls_back_to_running_flag),
        cmocka_unit_test(test_dellink_is_a_deletion),
        cmocka_unit_test(test_short_address_is_not_a_mac),
        cmocka_unit_test(test_other_messages_are_ignored_uncounted),
        cmocka_unit_test(test_message_longer_than_buffer_is_refused),
        cmocka_unit_test(test_missing_ifinfomsg_is_refused),
        cmocka_unit_test(test_attribute_past_the_end_is_refused),
        cmocka_unit_test(test_attribute_of_wrong_size_is_refused),
        cmocka_unit_test(test_bad_or_missing_name_is_refused),
        cmocka_unit_test(test_zero_ifindex_is_refused),
        cmocka_unit_test(
            test_buffer_skips_malformed_message_between_good_ones),
        cmocka_unit_test(test_monitor_reports_veth_coming_and_going),
    };

    return cmocka_run_group_tests_name("netdev-link", tests, NULL, NULL);
}
