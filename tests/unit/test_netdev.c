/* Unit tests for src/netdev: the packet pool, memory ports (rings, drops,
 * generator and sink modes), pcap ports (round trip, loops, pacing order,
 * errors), tap ports and afpacket ports.
 *
 * The tap and afpacket tests need root (and /dev/net/tun, network
 * namespaces and veth pairs); without them they skip with a reason.  The
 * afpacket tests build a veth pair whose peer lives in a fresh network
 * namespace, both named after the test's pid so parallel runs do not
 * collide, and tear it down in the group teardown even when an assertion
 * fails.  They never sleep to synchronize: they poll() an fd with a
 * deadline. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "packet/packet.h"

/* ---- Helpers ------------------------------------------------------------ */

#define FRAME_MAX 2048

/* A test frame: broadcast-free unicast Ethernet, a private ethertype, then
 * 'seq' in the first payload bytes and a pattern up to 'len'. */
static size_t
make_frame(uint8_t *buf, size_t len, uint32_t seq)
{
    static const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

    assert_true(len >= 18 && len <= FRAME_MAX);
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = 0x88; /* 0x88b5: IEEE local experimental ethertype. */
    buf[13] = 0xb5;
    buf[14] = (uint8_t)(seq >> 24);
    buf[15] = (uint8_t)(seq >> 16);
    buf[16] = (uint8_t)(seq >> 8);
    buf[17] = (uint8_t)seq;
    for (size_t i = 18; i < len; i++) {
        buf[i] = (uint8_t)(i * 7 + seq);
    }
    return len;
}

static uint32_t
frame_seq(const struct dp_packet *pkt)
{
    const uint8_t *p = dp_packet_data(pkt);

    assert_true(dp_packet_size(pkt) >= 18);
    return (uint32_t)p[14] << 24 | (uint32_t)p[15] << 16 | (uint32_t)p[16] << 8
           | p[17];
}

static void
assert_frame_equal(const struct dp_packet *pkt, const uint8_t *frame,
                   size_t len)
{
    assert_int_equal(dp_packet_size(pkt), len);
    assert_memory_equal(dp_packet_data(pkt), frame, len);
}

static struct netdev *
open_ok(const char *name, const char *type,
        const struct netdev_options *options)
{
    struct netdev *netdev = NULL;
    char *error = NULL;
    int retval = netdev_open(name, type, options, &netdev, &error);

    if (retval) {
        fail_msg("%s", error);
    }
    assert_null(error);
    assert_non_null(netdev);
    return netdev;
}

/* Opens a port that must fail; returns the error message (caller frees)
 * after checking that it is one line naming the port. */
static char *
open_fails(const char *name, const char *type,
           const struct netdev_options *options, int expected)
{
    struct netdev *netdev = (struct netdev *)1;
    char *error = NULL;
    int retval = netdev_open(name, type, options, &netdev, &error);

    assert_int_not_equal(retval, 0);
    if (expected) {
        assert_int_equal(retval, expected);
    }
    assert_null(netdev);
    assert_non_null(error);
    assert_null(strchr(error, '\n'));
    assert_non_null(strstr(error, name));
    return error;
}

/* Receives until 'n' packets have arrived, EOF, or (for ports that can
 * return EAGAIN) the rx fd stays quiet for 'timeout_ms'.  Appends the
 * packets to 'pkts'.  Returns the last recv result. */
static int
recv_n(struct netdev *netdev, struct dp_packet **pkts, size_t *n_pkts,
       size_t n, int timeout_ms)
{
    int retval = 0;

    while (*n_pkts < n) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        retval = netdev_recv(netdev, &batch);
        if (retval == EAGAIN) {
            struct pollfd pfd = {.fd = netdev_get_rx_fd(netdev),
                                 .events = POLLIN};

            if (pfd.fd < 0) {
                usleep(1000);
                if ((timeout_ms -= 1) <= 0) {
                    break;
                }
            } else if (poll(&pfd, 1, timeout_ms) <= 0) {
                break;
            }
            continue;
        } else if (retval) {
            break;
        }
        assert_true(batch.count > 0 && batch.count <= PACKET_BATCH_MAX);
        for (unsigned int i = 0; i < batch.count; i++) {
            assert_true(*n_pkts < n);
            pkts[(*n_pkts)++] = batch.packets[i];
        }
    }
    return retval;
}

static void
delete_all(struct dp_packet **pkts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dp_packet_delete(pkts[i]);
    }
}

static bool
fd_is_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* ---- Generic ------------------------------------------------------------ */

static void
test_open_unknown_type_names_port_and_type(void **state)
{
    char *error;

    (void)state;
    error = open_fails("p1", "frobnicator", NULL, 0);
    assert_non_null(strstr(error, "frobnicator"));
    assert_string_equal(error,
                        "netdev: cannot open port \"p1\": unknown type "
                        "\"frobnicator\" (expected memory, pcap, afpacket, "
                        "afxdp or tap)");
    free(error);
}

static void
test_name_and_type_are_reported(void **state)
{
    struct netdev *netdev = open_ok("m0", "memory", NULL);

    (void)state;
    assert_string_equal(netdev_get_name(netdev), "m0");
    assert_string_equal(netdev_get_type(netdev), "memory");
    assert_false(netdev_is_lossless(netdev));
    netdev_close(netdev);
}

/* ---- Pool --------------------------------------------------------------- */

static void
test_pool_reuses_recycled_buffers(void **state)
{
    struct dp_packet *a, *b;

    (void)state;
    netdev_pool_purge();
    a = netdev_packet_alloc();
    assert_int_equal(dp_packet_size(a), 0);
    assert_true(dp_packet_headroom(a) >= DP_PACKET_HEADROOM);
    assert_true(dp_packet_tailroom(a) >= 1518);
    dp_packet_put(a, "abcdef", 6);
    dp_packet_pull(a, 2); /* Moves the data start, like pop_vlan. */
    a->in_port = 9;
    netdev_packet_recycle(a);

    b = netdev_packet_alloc();
    assert_ptr_equal(a, b);
    assert_int_equal(dp_packet_size(b), 0);
    assert_int_equal(b->in_port, 0);
    assert_int_equal(dp_packet_headroom(b) % 8, DP_PACKET_IP_ALIGN);
    assert_true(dp_packet_headroom(b) >= DP_PACKET_HEADROOM);
    netdev_packet_recycle(b);
    netdev_packet_recycle(NULL);
    netdev_pool_purge();
}

static void
test_pool_frees_foreign_buffers(void **state)
{
    struct dp_packet *small = dp_packet_new_from_bytes("xy", 2, 0);
    uint64_t before = coverage_read("netdev_pool_free");
    struct dp_packet *a;

    (void)state;
    netdev_pool_purge();
    netdev_packet_recycle(small); /* Too small for the pool: freed. */
    assert_int_equal(coverage_read("netdev_pool_free"), before + 1);
    before = coverage_read("netdev_pool_alloc");
    a = netdev_packet_alloc(); /* So the pool is still empty. */
    assert_int_equal(coverage_read("netdev_pool_alloc"), before + 1);
    dp_packet_delete(a);
}

static void
test_pool_overflow_goes_through_the_depot(void **state)
{
    enum { N = NETDEV_POOL_CACHE_MAX * 3 };
    static struct dp_packet *pkts[N];
    uint64_t allocs;

    (void)state;
    netdev_pool_purge();
    for (size_t i = 0; i < N; i++) {
        pkts[i] = netdev_packet_alloc();
    }
    for (size_t i = 0; i < N; i++) {
        netdev_packet_recycle(pkts[i]);
    }
    /* All N are cached or in the depot: allocating N again mallocs
     * nothing. */
    allocs = coverage_read("netdev_pool_alloc");
    for (size_t i = 0; i < N; i++) {
        pkts[i] = netdev_packet_alloc();
    }
    assert_int_equal(coverage_read("netdev_pool_alloc"), allocs);
    for (size_t i = 0; i < N; i++) {
        dp_packet_delete(pkts[i]);
    }
    netdev_pool_purge();
}

/* ---- Memory ports ------------------------------------------------------- */

static void
test_memory_recv_returns_injected_frames_in_order(void **state)
{
    enum { N = 100 };
    struct netdev *netdev = open_ok("m0", "memory", NULL);
    struct dp_packet *pkts[N];
    uint8_t frame[FRAME_MAX];
    struct netdev_stats stats;
    size_t n = 0, bytes = 0;

    (void)state;
    assert_false(fd_is_readable(netdev_get_rx_fd(netdev)));
    for (uint32_t i = 0; i < N; i++) {
        size_t len = make_frame(frame, 60 + i, i);

        assert_int_equal(netdev_memory_inject(netdev, frame, len), 0);
        bytes += len;
    }
    assert_true(fd_is_readable(netdev_get_rx_fd(netdev)));
    assert_int_equal(recv_n(netdev, pkts, &n, N, 0), 0);
    assert_int_equal(n, N);
    for (uint32_t i = 0; i < N; i++) {
        size_t len = make_frame(frame, 60 + i, i);

        assert_frame_equal(pkts[i], frame, len);
    }

    /* Empty again: EAGAIN, and the fd says so. */
    struct dp_packet_batch batch;
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), EAGAIN);
    assert_int_equal(batch.count, 0);
    assert_false(fd_is_readable(netdev_get_rx_fd(netdev)));

    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, N);
    assert_int_equal(stats.rx_bytes, bytes);
    assert_int_equal(stats.rx_dropped, 0);
    delete_all(pkts, n);
    netdev_close(netdev);
}

static void
test_memory_recv_batches_hold_at_most_32(void **state)
{
    struct netdev *netdev = open_ok("m0", "memory", NULL);
    struct dp_packet_batch batch;
    uint8_t frame[64];

    (void)state;
    for (uint32_t i = 0; i < 40; i++) {
        netdev_memory_inject(netdev, frame, make_frame(frame, 64, i));
    }
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), 0);
    assert_int_equal(batch.count, PACKET_BATCH_MAX);
    netdev_batch_recycle(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), 0);
    assert_int_equal(batch.count, 8);
    assert_int_equal(frame_seq(batch.packets[7]), 39);
    netdev_batch_recycle(&batch);
    netdev_close(netdev);
}

static void
test_memory_full_rx_ring_drops_and_counts(void **state)
{
    struct netdev_options options = {.ring_size = 8};
    struct netdev *netdev = open_ok("m0", "memory", &options);
    uint64_t cov = coverage_read("netdev_memory_rx_ring_full");
    struct dp_packet *pkts[8];
    struct netdev_stats stats;
    uint8_t frame[64];
    size_t n = 0;

    (void)state;
    for (uint32_t i = 0; i < 11; i++) {
        int retval =
            netdev_memory_inject(netdev, frame, make_frame(frame, 64, i));

        assert_int_equal(retval, i < 8 ? 0 : ENOBUFS);
    }
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_dropped, 3);
    assert_int_equal(coverage_read("netdev_memory_rx_ring_full"), cov + 3);

    assert_int_equal(recv_n(netdev, pkts, &n, 8, 0), 0);
    assert_int_equal(frame_seq(pkts[7]), 7); /* The late ones were lost. */
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, 8);
    delete_all(pkts, n);
    netdev_close(netdev);
}

static void
test_memory_send_then_collect_round_trip(void **state)
{
    struct netdev *netdev = open_ok("m0", "memory", NULL);
    struct dp_packet_batch batch;
    struct dp_packet *kept[4];
    struct netdev_stats stats;
    uint8_t frame[128];
    uint32_t seq = 0;

    (void)state;
    /* Stolen packets go onto the ring as they are. */
    dp_packet_batch_init(&batch);
    for (int i = 0; i < 4; i++) {
        size_t len = make_frame(frame, 100, seq++);

        assert_true(dp_packet_batch_add(
            &batch, dp_packet_new_from_bytes(frame, len, 0)));
    }
    netdev_send(netdev, &batch, true);
    assert_int_equal(batch.count, 0);

    /* Not stolen: the port copies and the caller keeps its packets. */
    for (int i = 0; i < 4; i++) {
        size_t len = make_frame(frame, 100, seq++);

        kept[i] = dp_packet_new_from_bytes(frame, len, 0);
        assert_true(dp_packet_batch_add(&batch, kept[i]));
    }
    netdev_send(netdev, &batch, false);
    assert_int_equal(batch.count, 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(frame_seq(kept[i]), 4 + i); /* Still ours. */
        dp_packet_delete(kept[i]);
    }

    for (uint32_t i = 0; i < 8; i++) {
        struct dp_packet *pkt = netdev_memory_collect(netdev);
        size_t len = make_frame(frame, 100, i);

        assert_non_null(pkt);
        assert_frame_equal(pkt, frame, len);
        dp_packet_delete(pkt);
    }
    assert_null(netdev_memory_collect(netdev));
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.tx_packets, 8);
    assert_int_equal(stats.tx_bytes, 800);
    assert_int_equal(stats.tx_dropped, 0);
    netdev_close(netdev);
}

static void
test_memory_full_tx_ring_drops_and_counts(void **state)
{
    struct netdev_options options = {.ring_size = 5};
    struct netdev *netdev = open_ok("m0", "memory", &options);
    uint64_t cov = coverage_read("netdev_memory_tx_ring_full");
    struct dp_packet_batch batch;
    struct netdev_stats stats;
    uint8_t frame[64];
    int n = 0;

    (void)state;
    dp_packet_batch_init(&batch);
    for (uint32_t i = 0; i < 7; i++) {
        assert_true(dp_packet_batch_add(
            &batch,
            dp_packet_new_from_bytes(frame, make_frame(frame, 64, i), 0)));
    }
    netdev_send(netdev, &batch, true);
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.tx_packets, 5);
    assert_int_equal(stats.tx_dropped, 2);
    assert_int_equal(coverage_read("netdev_memory_tx_ring_full"), cov + 2);
    for (struct dp_packet *pkt; (pkt = netdev_memory_collect(netdev));) {
        assert_int_equal(frame_seq(pkt), n++);
        dp_packet_delete(pkt);
    }
    assert_int_equal(n, 5);
    netdev_close(netdev);
}

static void
test_memory_generator_hands_out_exact_total_then_eof(void **state)
{
    struct netdev *netdev = open_ok("gen", "memory", NULL);
    const struct dp_packet *frames[3];
    uint64_t counts[3] = {0, 0, 0};
    struct dp_packet_batch batch;
    struct netdev_stats stats;
    uint8_t frame[128];
    uint64_t total = 0;
    uint32_t expect = 0;
    int retval;

    (void)state;
    for (uint32_t i = 0; i < 3; i++) {
        frames[i] = dp_packet_new_from_bytes(
            frame, make_frame(frame, 64 + 10 * i, i), 0);
    }
    /* An injected frame comes first. */
    netdev_memory_inject(netdev, frame, make_frame(frame, 64, 77));
    netdev_memory_set_generator(netdev, frames, 3, 1000);
    for (int i = 0; i < 3; i++) {
        dp_packet_delete((struct dp_packet *)frames[i]); /* Port copied. */
    }

    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), 0);
    assert_int_equal(frame_seq(batch.packets[0]), 77);
    for (unsigned int i = 1; i < batch.count; i++) {
        assert_int_equal(frame_seq(batch.packets[i]), expect);
        counts[expect]++;
        expect = (expect + 1) % 3;
    }
    total += batch.count - 1;
    netdev_batch_recycle(&batch);

    while ((retval = netdev_recv(netdev, &batch)) == 0) {
        assert_true(fd_is_readable(netdev_get_rx_fd(netdev)));
        for (unsigned int i = 0; i < batch.count; i++) {
            assert_int_equal(frame_seq(batch.packets[i]), expect);
            assert_int_equal(dp_packet_size(batch.packets[i]),
                             64 + 10 * expect);
            counts[expect]++;
            expect = (expect + 1) % 3;
        }
        total += batch.count;
        netdev_batch_recycle(&batch);
    }
    assert_int_equal(retval, EOF);
    assert_int_equal(total, 1000);
    assert_int_equal(counts[0], 334);
    assert_int_equal(counts[1], 333);
    assert_int_equal(counts[2], 333);
    /* EOF stays EOF, and the fd stays readable so a poller sees it. */
    assert_int_equal(netdev_recv(netdev, &batch), EOF);
    assert_true(fd_is_readable(netdev_get_rx_fd(netdev)));
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, 1001);
    assert_int_equal(stats.rx_errors, 0);

    /* Turned off: back to an idle memory port. */
    netdev_memory_set_generator(netdev, NULL, 0, 0);
    assert_int_equal(netdev_recv(netdev, &batch), EAGAIN);
    assert_false(fd_is_readable(netdev_get_rx_fd(netdev)));
    netdev_close(netdev);
}

static void
test_memory_generator_and_sink_run_without_malloc(void **state)
{
    struct netdev *in = open_ok("gen", "memory", NULL);
    struct netdev *out = open_ok("sink", "memory", NULL);
    const struct dp_packet *frames[1];
    struct dp_packet_batch batch;
    struct netdev_stats stats;
    uint8_t frame[64];
    uint64_t allocs = 0;
    int rounds = 0;

    (void)state;
    frames[0] = dp_packet_new_from_bytes(frame, make_frame(frame, 64, 1), 0);
    netdev_memory_set_generator(in, frames, 1, 100000);
    netdev_memory_set_sink(out, true);
    dp_packet_batch_init(&batch);
    while (netdev_recv(in, &batch) == 0) {
        netdev_send(out, &batch, true);
        if (++rounds == 2) {
            allocs = coverage_read("netdev_pool_alloc");
        }
    }
    /* After the first batch warmed the pool, no more buffers were
     * allocated. */
    assert_int_equal(coverage_read("netdev_pool_alloc"), allocs);
    assert_null(netdev_memory_collect(out));
    netdev_get_stats(out, &stats);
    assert_int_equal(stats.tx_packets, 100000);
    assert_int_equal(stats.tx_bytes, 6400000);
    dp_packet_delete((struct dp_packet *)frames[0]);
    netdev_close(in);
    netdev_close(out);
    netdev_pool_purge();
}

static void
test_memory_close_with_queued_packets_frees_them(void **state)
{
    struct netdev *netdev = open_ok("m0", "memory", NULL);
    struct dp_packet_batch batch;
    uint8_t frame[64];

    (void)state;
    netdev_memory_inject(netdev, frame, make_frame(frame, 64, 1));
    dp_packet_batch_init(&batch);
    assert_true(
        dp_packet_batch_add(&batch, dp_packet_new_from_bytes(frame, 64, 0)));
    netdev_send(netdev, &batch, true);
    netdev_close(netdev); /* ASan reports a leak if this forgets any. */
}

static void
test_memory_rejects_huge_ring(void **state)
{
    struct netdev_options options = {.ring_size = 1u << 30};
    char *error = open_fails("m9", "memory", &options, EINVAL);

    (void)state;
    assert_non_null(strstr(error, "ring size"));
    free(error);
}

/* ---- pcap ports --------------------------------------------------------- */

static char tmpdir[64];

static int
pcap_group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_netdev.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
pcap_group_teardown(void **state)
{
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    int retval = system(cmd);

    (void)state;
    free(cmd);
    netdev_pool_purge();
    return retval ? -1 : 0;
}

static char *
tmp_path(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

/* Sizes of the frames of the round-trip capture: small, odd, full-size and
 * a jumbo frame that does not fit a pool buffer. */
static size_t
round_trip_len(uint32_t i)
{
    static const size_t lens[] = {60, 61, 64, 128, 1514, 1518, 9000, 333};

    return lens[i % ARRAY_SIZE(lens)];
}

/* Writes 'n' frames numbered from 0 to a new capture 'path' through a pcap
 * tx port, in batches of up to 7, alternately stolen and not. */
static void
write_capture(const char *path, uint32_t n)
{
    struct netdev_options options = {.tx_path = path};
    struct netdev *netdev = open_ok("ptx", "pcap", &options);
    static uint8_t frame[FRAME_MAX * 5];
    struct netdev_stats stats;
    uint64_t bytes = 0;
    uint32_t seq = 0;
    bool steal = false;

    while (seq < n) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        while (seq < n && batch.count < 7) {
            size_t len = round_trip_len(seq);

            if (len > FRAME_MAX) {
                memset(frame, 0xee, len);
                make_frame(frame, FRAME_MAX, seq);
            } else {
                make_frame(frame, len, seq);
            }
            bytes += len;
            seq++;
            assert_true(dp_packet_batch_add(
                &batch, dp_packet_new_from_bytes(frame, len, 0)));
        }
        if (steal) {
            netdev_send(netdev, &batch, true);
        } else {
            struct dp_packet_batch copy = batch;

            netdev_send(netdev, &batch, false);
            dp_packet_batch_delete_all(&copy);
        }
        steal = !steal;
    }
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.tx_packets, n);
    assert_int_equal(stats.tx_bytes, bytes);
    assert_int_equal(stats.tx_dropped + stats.tx_errors, 0);
    netdev_close(netdev);
}

static void
check_round_trip_frame(const struct dp_packet *pkt, uint32_t seq)
{
    static uint8_t frame[FRAME_MAX * 5];
    size_t len = round_trip_len(seq);

    if (len > FRAME_MAX) {
        memset(frame, 0xee, len);
        make_frame(frame, FRAME_MAX, seq);
    } else {
        make_frame(frame, len, seq);
    }
    assert_frame_equal(pkt, frame, len);
}

static void
test_pcap_round_trip_is_byte_identical(void **state)
{
    enum { N = 203 };
    char *path = tmp_path("round-trip.pcap");
    struct netdev_options options = {.rx_path = path};
    struct dp_packet *pkts[N];
    struct dp_packet_batch batch;
    struct netdev_stats stats;
    struct netdev *netdev;
    size_t n = 0;

    (void)state;
    write_capture(path, N);
    netdev = open_ok("prx", "pcap", &options);
    assert_true(netdev_is_lossless(netdev));
    assert_true(fd_is_readable(netdev_get_rx_fd(netdev)));
    assert_int_equal(recv_n(netdev, pkts, &n, N, 1000), 0);
    assert_int_equal(n, N);
    for (uint32_t i = 0; i < N; i++) {
        check_round_trip_frame(pkts[i], i);
    }
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), EOF);
    assert_int_equal(netdev_recv(netdev, &batch), EOF);
    assert_true(fd_is_readable(netdev_get_rx_fd(netdev)));
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, N);
    assert_int_equal(stats.rx_dropped + stats.rx_errors, 0);
    for (size_t i = 0; i < n; i++) {
        netdev_packet_recycle(pkts[i]);
    }
    netdev_close(netdev);
    free(path);
}

static void
test_pcap_loop_three_yields_every_frame_three_times(void **state)
{
    enum { N = 10 };
    char *path = tmp_path("loop.pcap");
    struct netdev_options options = {.rx_path = path, .loops = 3};
    struct dp_packet *pkts[3 * N];
    struct dp_packet_batch batch;
    struct netdev *netdev;
    size_t n = 0;

    (void)state;
    write_capture(path, N);
    netdev = open_ok("prx", "pcap", &options);
    assert_int_equal(recv_n(netdev, pkts, &n, (size_t)3 * N, 1000), 0);
    assert_int_equal(n, 3 * N);
    for (uint32_t i = 0; i < 3 * N; i++) {
        check_round_trip_frame(pkts[i], i % N);
    }
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), EOF);
    delete_all(pkts, n);
    netdev_close(netdev);
    free(path);
}

static void
test_pcap_empty_capture_with_loops_ends_at_once(void **state)
{
    char *path = tmp_path("empty.pcap");
    struct netdev_options options = {.rx_path = path, .loops = 1000000};
    struct dp_packet_batch batch;
    struct netdev *netdev;

    (void)state;
    write_capture(path, 0);
    netdev = open_ok("prx", "pcap", &options);
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), EOF);
    netdev_close(netdev);
    free(path);
}

/* Receives all 'n_frames' frames of write_capture()'s capture from
 * 'netdev', in order, and checks that the port counted them all and
 * dropped none. */
static void
recv_whole_capture(struct netdev *netdev, size_t n_frames)
{
    struct dp_packet **pkts = calloc(n_frames, sizeof *pkts);
    struct netdev_stats stats;
    size_t n = 0;

    assert_non_null(pkts);
    assert_int_equal(recv_n(netdev, pkts, &n, n_frames, 10000), 0);
    assert_int_equal(n, n_frames);
    for (uint32_t i = 0; i < n_frames; i++) {
        check_round_trip_frame(pkts[i], i);
    }
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, n_frames);
    assert_int_equal(stats.rx_dropped, 0);
    delete_all(pkts, n);
    free(pkts);
}

static void
test_pcap_paced_replay_keeps_order_and_count(void **state)
{
    enum { N = 300 };
    char *path = tmp_path("paced.pcap");
    /* 300 frames at 100 kpps: 3 ms of replay; fewer frames than the
     * backlog, so none can be dropped however slow the test runs. */
    struct netdev_options options = {.rx_path = path, .rate_pps = 100000};
    struct netdev_stats stats;
    struct netdev *netdev;

    (void)state;
    write_capture(path, N);
    netdev = open_ok("prx", "pcap", &options);
    assert_false(netdev_is_lossless(netdev));
    recv_whole_capture(netdev, N);
    /* The poller learns about the end through the fd. */
    struct pollfd pfd = {.fd = netdev_get_rx_fd(netdev), .events = POLLIN};
    struct dp_packet_batch batch;
    int retval;

    dp_packet_batch_init(&batch);
    while ((retval = netdev_recv(netdev, &batch)) == EAGAIN) {
        assert_int_equal(poll(&pfd, 1, 10000), 1);
    }
    assert_int_equal(retval, EOF);
    assert_true(fd_is_readable(pfd.fd));
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, N);
    assert_int_equal(stats.rx_dropped, 0);
    netdev_close(netdev);
    free(path);
}

static void
test_pcap_paced_replay_drops_what_falls_behind_the_backlog(void **state)
{
    enum { N = 100 };
    char *path = tmp_path("overrun.pcap");
    /* At 1e9 pps every frame is due within 100 ns of the first recv; with
     * a backlog of 4 the port must drop what the test did not take. */
    struct netdev_options options = {
        .rx_path = path, .rate_pps = 1000000000, .ring_size = 4};
    uint64_t cov = coverage_read("netdev_pcap_rx_overrun");
    struct dp_packet *pkts[N];
    struct netdev_stats stats;
    struct netdev *netdev;
    size_t n = 0;

    (void)state;
    write_capture(path, N);
    netdev = open_ok("prx", "pcap", &options);
    assert_int_equal(recv_n(netdev, pkts, &n, N, 10000), EOF);
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, n);
    assert_int_equal(stats.rx_packets + stats.rx_dropped, N);
    assert_true(stats.rx_dropped > 0);
    assert_int_equal(coverage_read("netdev_pcap_rx_overrun"),
                     cov + stats.rx_dropped);
    for (size_t i = 1; i < n; i++) {
        assert_true(frame_seq(pkts[i]) > frame_seq(pkts[i - 1]));
    }
    delete_all(pkts, n);
    netdev_close(netdev);
    free(path);
}

/* A capture shorter than the ring cannot overrun it, however late the
 * reader comes: frames the file does not have never fall due (they did,
 * and a replay of 300 frames lost all of them when the test paused for
 * 10 ms on a loaded machine).  At 1e9 pps every frame is due at once and
 * the clock runs far past the last one before the test's first recv
 * returns. */
static void
test_pcap_paced_replay_shorter_than_its_ring_loses_nothing(void **state)
{
    enum { N = 100 };
    char *path = tmp_path("short.pcap");
    struct netdev_options options = {
        .rx_path = path, .rate_pps = 1000000000, .ring_size = N + 1};
    struct netdev *netdev;

    (void)state;
    write_capture(path, N);
    netdev = open_ok("pshort", "pcap", &options);
    recv_whole_capture(netdev, N);
    netdev_close(netdev);
    free(path);
}

static void
test_pcap_tx_without_file_counts_drops(void **state)
{
    struct netdev *netdev = open_ok("pnone", "pcap", NULL);
    uint64_t cov = coverage_read("netdev_pcap_tx_no_file");
    struct dp_packet_batch batch;
    struct netdev_stats stats;
    uint8_t frame[64];

    (void)state;
    assert_false(netdev_is_lossless(netdev));
    dp_packet_batch_init(&batch);
    assert_int_equal(netdev_recv(netdev, &batch), EOF); /* No rx either. */
    for (uint32_t i = 0; i < 3; i++) {
        assert_true(dp_packet_batch_add(
            &batch,
            dp_packet_new_from_bytes(frame, make_frame(frame, 64, i), 0)));
    }
    netdev_send(netdev, &batch, true);
    assert_int_equal(batch.count, 0);
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.tx_packets, 0);
    assert_int_equal(stats.tx_dropped, 3);
    assert_int_equal(coverage_read("netdev_pcap_tx_no_file"), cov + 3);
    netdev_flush(netdev);
    netdev_close(netdev);
}

static void
test_pcap_missing_rx_file_is_one_clear_line(void **state)
{
    struct netdev_options options = {.rx_path = "/nonexistent/in.pcap"};
    char *error = open_fails("p7", "pcap", &options, ENOENT);

    (void)state;
    assert_non_null(strstr(error, "netdev: cannot open port \"p7\" (pcap)"));
    assert_non_null(strstr(error, "/nonexistent/in.pcap"));
    free(error);
}

static void
test_pcap_garbage_rx_file_is_refused(void **state)
{
    char *path = tmp_path("garbage.pcap");
    struct netdev_options options = {.rx_path = path};
    FILE *f = fopen(path, "w");
    char *error;

    (void)state;
    assert_non_null(f);
    fputs("this is not a capture file, not even close\n", f);
    fclose(f);
    error = open_fails("p8", "pcap", &options, 0);
    assert_non_null(strstr(error, path));
    free(error);
    free(path);
}

static void
test_pcap_unwritable_tx_path_is_one_clear_line(void **state)
{
    struct netdev_options options = {.tx_path = "/nonexistent/out.pcap"};
    char *error = open_fails("p9", "pcap", &options, 0);

    (void)state;
    assert_non_null(strstr(error, "netdev: cannot open port \"p9\" (pcap)"));
    assert_non_null(strstr(error, "/nonexistent/out.pcap"));
    free(error);
}

/* ---- Threads ------------------------------------------------------------ */

/* Several threads send through one port while another takes the frames off
 * and a third reads the counters; packets are allocated in one thread and
 * recycled in another, so they travel through the pool's depot.  Under
 * ThreadSanitizer this checks the locking of the rings, the counters and
 * the pool. */

enum { MT_SENDERS = 4, MT_PER_SENDER = 20000 };
#define MT_TOTAL ((uint64_t)MT_SENDERS * MT_PER_SENDER)

struct mt_ctx {
    struct netdev *netdev;
    unsigned int id;
    atomic_bool *done;
};

static void *
mt_sender(void *ctx_)
{
    struct mt_ctx *ctx = ctx_;
    uint8_t frame[64];

    for (uint32_t i = 0; i < MT_PER_SENDER;) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        for (; i < MT_PER_SENDER && !dp_packet_batch_is_full(&batch); i++) {
            struct dp_packet *pkt = netdev_packet_alloc();

            make_frame(frame, sizeof frame, ctx->id << 24 | i);
            dp_packet_put(pkt, frame, sizeof frame);
            if (!dp_packet_batch_add(&batch, pkt)) {
                abort();
            }
        }
        if (i % 3) {
            netdev_send(ctx->netdev, &batch, true);
        } else {
            struct dp_packet_batch kept = batch;

            netdev_send(ctx->netdev, &batch, false);
            netdev_batch_recycle(&kept); /* Still ours. */
        }
    }
    return NULL;
}

static void *
mt_stats_reader(void *ctx_)
{
    struct mt_ctx *ctx = ctx_;
    uint64_t last = 0;

    while (!atomic_load(ctx->done)) {
        struct netdev_stats stats;

        netdev_get_stats(ctx->netdev, &stats);
        if (stats.tx_packets + stats.tx_dropped < last) {
            abort(); /* Counters never go back. */
        }
        last = stats.tx_packets + stats.tx_dropped;
    }
    return NULL;
}

static void
test_memory_survives_concurrent_senders_and_readers(void **state)
{
    struct netdev_options options = {.ring_size = 256};
    struct netdev *netdev = open_ok("mt", "memory", &options);
    struct mt_ctx ctx[MT_SENDERS + 1];
    pthread_t threads[MT_SENDERS + 1];
    uint32_t next[MT_SENDERS] = {0};
    atomic_bool done = false;
    struct netdev_stats stats;
    uint64_t collected = 0;
    bool senders_done = false;

    (void)state;
    for (unsigned int i = 0; i <= MT_SENDERS; i++) {
        ctx[i] = (struct mt_ctx){.netdev = netdev, .id = i, .done = &done};
        assert_int_equal(
            pthread_create(&threads[i], NULL,
                           i < MT_SENDERS ? mt_sender : mt_stats_reader,
                           &ctx[i]),
            0);
    }
    /* Collect (and recycle in this thread) until the senders are done and
     * the ring is empty; each sender's frames come out in its order. */
    for (;;) {
        struct dp_packet *pkt = netdev_memory_collect(netdev);

        if (pkt) {
            uint32_t seq = frame_seq(pkt);
            unsigned int id = seq >> 24;

            assert_true(id < MT_SENDERS);
            assert_true((seq & 0xffffff) >= next[id]);
            next[id] = (seq & 0xffffff) + 1;
            netdev_packet_recycle(pkt);
            collected++;
        } else if (senders_done) {
            break;
        } else {
            netdev_get_stats(netdev, &stats);
            senders_done = stats.tx_packets + stats.tx_dropped == MT_TOTAL;
        }
    }
    atomic_store(&done, true);
    for (unsigned int i = 0; i <= MT_SENDERS; i++) {
        pthread_join(threads[i], NULL);
    }
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.tx_packets, collected);
    assert_int_equal(stats.tx_packets + stats.tx_dropped,
                     MT_SENDERS * MT_PER_SENDER);
    netdev_close(netdev);
    netdev_pool_purge();
}

static void *
mt_injector(void *ctx_)
{
    struct mt_ctx *ctx = ctx_;
    uint8_t frame[64];

    for (uint32_t i = 0; i < MT_PER_SENDER; i++) {
        make_frame(frame, sizeof frame, ctx->id << 24 | i);
        netdev_memory_inject(ctx->netdev, frame, sizeof frame);
    }
    return NULL;
}

static void
test_memory_poller_sleeps_on_the_rx_fd_while_others_inject(void **state)
{
    struct netdev_options options = {.ring_size = 512};
    struct netdev *netdev = open_ok("mt", "memory", &options);
    pthread_t threads[MT_SENDERS];
    struct mt_ctx ctx[MT_SENDERS];
    struct netdev_stats stats;
    uint64_t received = 0;

    (void)state;
    for (unsigned int i = 0; i < MT_SENDERS; i++) {
        ctx[i] = (struct mt_ctx){.netdev = netdev, .id = i};
        assert_int_equal(
            pthread_create(&threads[i], NULL, mt_injector, &ctx[i]), 0);
    }
    for (;;) {
        struct pollfd pfd = {.fd = netdev_get_rx_fd(netdev), .events = POLLIN};
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        if (netdev_recv(netdev, &batch) == 0) {
            received += batch.count;
            netdev_batch_recycle(&batch);
            continue;
        }
        netdev_get_stats(netdev, &stats);
        if (received + stats.rx_dropped == MT_TOTAL) {
            break;
        }
        /* Not done: more must come, and the fd must say so. */
        assert_int_equal(poll(&pfd, 1, 10000), 1);
    }
    for (unsigned int i = 0; i < MT_SENDERS; i++) {
        pthread_join(threads[i], NULL);
    }
    netdev_get_stats(netdev, &stats);
    assert_int_equal(stats.rx_packets, received);
    netdev_close(netdev);
    netdev_pool_purge();
}

static void
test_pcap_tx_from_several_threads_writes_every_frame(void **state)
{
    char *path = tmp_path("threads.pcap");
    struct netdev_options tx_options = {.tx_path = path};
    struct netdev_options rx_options = {.rx_path = path};
    struct netdev *netdev = open_ok("ptx", "pcap", &tx_options);
    pthread_t threads[MT_SENDERS];
    struct mt_ctx ctx[MT_SENDERS];
    uint32_t next[MT_SENDERS] = {0};
    struct dp_packet_batch batch;
    uint64_t n = 0;
    int retval;

    (void)state;
    for (unsigned int i = 0; i < MT_SENDERS; i++) {
        ctx[i] = (struct mt_ctx){.netdev = netdev, .id = i};
        assert_int_equal(pthread_create(&threads[i], NULL, mt_sender, &ctx[i]),
                         0);
    }
    for (unsigned int i = 0; i < MT_SENDERS; i++) {
        pthread_join(threads[i], NULL);
    }
    netdev_close(netdev);

    netdev = open_ok("prx", "pcap", &rx_options);
    dp_packet_batch_init(&batch);
    while ((retval = netdev_recv(netdev, &batch)) == 0) {
        for (unsigned int i = 0; i < batch.count; i++) {
            uint32_t seq = frame_seq(batch.packets[i]);

            assert_true(seq >> 24 < MT_SENDERS);
            assert_int_equal(seq & 0xffffff, next[seq >> 24]);
            next[seq >> 24]++;
        }
        n += batch.count;
        netdev_batch_recycle(&batch);
    }
    assert_int_equal(retval, EOF);
    assert_int_equal(n, MT_SENDERS * MT_PER_SENDER);
    netdev_close(netdev);
    free(path);
}

/* ---- Kernel ports: shared helpers --------------------------------------- */

/* Why the kernel-port tests cannot run here, or NULL if they can. */
static const char *
kernel_ports_unavailable(void)
{
    if (geteuid() != 0) {
        return "needs root (CAP_NET_ADMIN, CAP_NET_RAW)";
    }
    if (access("/dev/net/tun", R_OK | W_OK)) {
        return "/dev/net/tun is absent";
    }
    return NULL;
}

/* Runs a shell command quietly; returns true if it succeeded. */
static bool PRINTF_FORMAT(1, 2) run(const char *fmt, ...)
{
    char *cmd, *quiet;
    va_list args;
    int status;

    va_start(args, fmt);
    if (vasprintf(&cmd, fmt, args) < 0) {
        abort();
    }
    va_end(args);
    quiet = xasprintf("%s >/dev/null 2>&1", cmd);
    status = system(quiet);
    free(quiet);
    free(cmd);
    return status == 0;
}

/* True for a frame the tests built (source MAC 02:00:00:00:00:01), as
 * opposed to whatever the kernel sends on its own (IPv6 neighbour
 * discovery, ...). */
static bool
is_test_frame(const struct dp_packet *pkt)
{
    static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

    return dp_packet_size(pkt) >= 14
           && !memcmp((const uint8_t *)dp_packet_data(pkt) + 6, src, 6);
}

/* Receives test frames from 'netdev' until 'n' have arrived or
 * 'timeout_ms' passes, polling its rx fd; other frames are discarded.
 * Returns how many arrived. */
static size_t
recv_test_frames(struct netdev *netdev, struct dp_packet **pkts, size_t n,
                 int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;
    size_t got = 0;

    while (got < n) {
        struct dp_packet_batch batch;
        int retval;

        dp_packet_batch_init(&batch);
        retval = netdev_recv(netdev, &batch);
        if (retval == EAGAIN) {
            struct pollfd pfd = {.fd = netdev_get_rx_fd(netdev),
                                 .events = POLLIN};
            uint64_t now = time_msec();

            if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
                break;
            }
            continue;
        }
        assert_int_equal(retval, 0);
        for (unsigned int i = 0; i < batch.count; i++) {
            struct dp_packet *pkt = batch.packets[i];

            if (is_test_frame(pkt) && got < n) {
                pkts[got++] = pkt;
            } else {
                if (is_test_frame(pkt)) {
                    fail_msg("unexpected extra frame %" PRIu32 " of %" PRIu32
                             " bytes on %s",
                             frame_seq(pkt), dp_packet_size(pkt),
                             netdev_get_name(netdev));
                }
                netdev_packet_recycle(pkt);
            }
        }
    }
    return got;
}

/* Sends 'n' frames 'frames[i]' of 'lens[i]' bytes through 'netdev', in
 * batches of up to PACKET_BATCH_MAX. */
static void
send_frames(struct netdev *netdev, uint8_t (*frames)[FRAME_MAX],
            const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n;) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        for (; i < n && !dp_packet_batch_is_full(&batch); i++) {
            struct dp_packet *pkt = netdev_packet_alloc();

            dp_packet_put(pkt, frames[i], lens[i]);
            assert_true(dp_packet_batch_add(&batch, pkt));
        }
        netdev_send(netdev, &batch, true);
    }
}

/* ---- tap ports ---------------------------------------------------------- */

static char tap_name[IFNAMSIZ];

static void
skip_unless_kernel_ports(void)
{
    const char *why = kernel_ports_unavailable();

    if (why) {
        print_message("# skipped: %s\n", why);
        skip();
    }
}

static void
test_tap_open_creates_an_interface_that_is_up(void **state)
{
    struct netdev *netdev;
    char *cmd;

    (void)state;
    skip_unless_kernel_ports();
    snprintf(tap_name, sizeof tap_name, "fstap%u",
             (unsigned int)getpid() % 10000000u);
    netdev = open_ok(tap_name, "tap", NULL);
    assert_true(if_nametoindex(tap_name) > 0);
    cmd = xasprintf("ip link show %s | grep -q '[<,]UP[,>]'", tap_name);
    assert_true(run("%s", cmd));
    free(cmd);
    assert_true(netdev_get_rx_fd(netdev) >= 0);
    netdev_close(netdev);
    /* Not persistent: it goes away with the port. */
    assert_int_equal(if_nametoindex(tap_name), 0);
}

/* Opens a tap port and an afpacket port on the same interface: what the
 * tap port sends, the kernel receives (and the afpacket port sees as
 * incoming); what the afpacket port sends, the kernel transmits into the
 * tap port. */
static void
test_tap_frames_cross_to_and_from_the_kernel(void **state)
{
    enum { N = 50 };
    static uint8_t frames[N][FRAME_MAX];
    struct netdev *tap, *afp;
    struct dp_packet *pkts[N];
    struct netdev_stats stats;
    size_t lens[N];

    (void)state;
    skip_unless_kernel_ports();
    snprintf(tap_name, sizeof tap_name, "fstap%u",
             (unsigned int)getpid() % 10000000u);
    tap = open_ok(tap_name, "tap", NULL);
    run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", tap_name);
    afp = open_ok(tap_name, "afpacket", NULL);

    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 60 + 29 * i, i);
    }
    send_frames(tap, frames, lens, N);
    assert_int_equal(recv_test_frames(afp, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }

    send_frames(afp, frames, lens, N);
    assert_int_equal(recv_test_frames(tap, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
    netdev_get_stats(tap, &stats);
    assert_int_equal(stats.tx_packets, N);
    assert_true(stats.rx_packets >= N);
    assert_int_equal(stats.tx_dropped + stats.tx_errors, 0);
    netdev_close(afp);
    netdev_close(tap);
}

static void
test_tap_reads_jumbo_frames_whole(void **state)
{
    static uint8_t frames[1][FRAME_MAX * 5];
    struct netdev *tap, *afp;
    struct dp_packet_batch batch;
    struct dp_packet *pkt;
    size_t len = 9000;

    (void)state;
    skip_unless_kernel_ports();
    snprintf(tap_name, sizeof tap_name, "fstap%u",
             (unsigned int)getpid() % 10000000u);
    tap = open_ok(tap_name, "tap", NULL);
    assert_true(run("ip link set %s mtu 9000", tap_name));
    afp = open_ok(tap_name, "afpacket", NULL); /* Sized for the MTU. */

    memset(frames[0], 0x5a, len);
    make_frame(frames[0], 64, 7);
    dp_packet_batch_init(&batch);
    pkt = netdev_packet_alloc();
    dp_packet_put(pkt, frames[0], len);
    assert_true(dp_packet_batch_add(&batch, pkt));
    netdev_send(afp, &batch, true);

    assert_int_equal(recv_test_frames(tap, &pkt, 1, 5000), 1);
    assert_frame_equal(pkt, frames[0], len);
    dp_packet_delete(pkt);
    netdev_close(afp);
    netdev_close(tap);
}

static void
test_tap_bad_name_is_one_clear_line(void **state)
{
    char *error;

    (void)state;
    skip_unless_kernel_ports();
    error = open_fails("this-name-is-far-too-long", "tap", NULL, ENAMETOOLONG);
    assert_non_null(strstr(error, "(tap)"));
    free(error);
}

/* ---- afpacket ports ----------------------------------------------------- */

/* The fixture: a veth pair, host end 'afp_host' in our namespace and peer
 * 'afp_peer' in the fresh namespace 'afp_ns', each opened as an afpacket
 * port.  The peer port is opened from inside the namespace (setns() around
 * netdev_open()); its sockets stay there. */
static struct {
    const char *skip_reason;
    char ns[32], host[IFNAMSIZ], peer[IFNAMSIZ];
    bool created;
    struct netdev *host_port, *peer_port;
} afp;

/* Opens port 'name' of 'type' from inside network namespace 'ns'.
 * Returns 0, or an error with the message in '*errorp' (if not NULL) or
 * printed. */
static int
open_in_ns(const char *ns, const char *name, const char *type,
           struct netdev **netdevp, char **errorp)
{
    char *ns_path = xasprintf("/var/run/netns/%s", ns);
    int ns_fd = open(ns_path, O_RDONLY | O_CLOEXEC);
    int self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    char *error = NULL;
    int retval = -1;

    free(ns_path);
    if (ns_fd >= 0 && self_fd >= 0 && !setns(ns_fd, CLONE_NEWNET)) {
        retval = netdev_open(name, type, NULL, netdevp, &error);
        if (retval && errorp) {
            *errorp = error;
        } else if (retval) {
            print_error("%s\n", error);
            free(error);
        }
        if (setns(self_fd, CLONE_NEWNET)) {
            abort(); /* Cannot go home: everything after would lie. */
        }
    }
    if (ns_fd >= 0) {
        close(ns_fd);
    }
    if (self_fd >= 0) {
        close(self_fd);
    }
    return retval;
}

static int
afp_group_teardown(void **state)
{
    (void)state;
    netdev_close(afp.host_port);
    netdev_close(afp.peer_port);
    afp.host_port = afp.peer_port = NULL;
    if (afp.created) {
        run("ip link del %s", afp.host);
        run("ip netns del %s", afp.ns);
        afp.created = false;
    }
    netdev_pool_purge();
    return 0;
}

static int
afp_group_setup(void **state)
{
    unsigned int pid = (unsigned int)getpid() % 10000000u;
    char *error = NULL;

    (void)state;
    afp.skip_reason = kernel_ports_unavailable();
    if (afp.skip_reason) {
        return 0;
    }
    snprintf(afp.ns, sizeof afp.ns, "fsnd%u", pid);
    snprintf(afp.host, sizeof afp.host, "fsna%u", pid);
    snprintf(afp.peer, sizeof afp.peer, "fsnb%u", pid);
    if (!run("ip netns add %s", afp.ns)) {
        afp.skip_reason = "cannot create a network namespace";
        return 0;
    }
    afp.created = true;
    /* No IPv6 chatter on the new interfaces (best effort: the tests
     * ignore frames they did not build anyway). */
    run("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1",
        afp.ns);
    if (!run("ip link add %s type veth peer name %s netns %s", afp.host,
             afp.peer, afp.ns)) {
        afp.skip_reason = "cannot create a veth pair";
        afp_group_teardown(state);
        return 0;
    }
    run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", afp.host);
    if (!run("ip link set %s up", afp.host)
        || !run("ip -n %s link set %s up", afp.ns, afp.peer)) {
        afp_group_teardown(state);
        return -1;
    }
    if (netdev_open(afp.host, "afpacket", NULL, &afp.host_port, &error)) {
        print_error("%s\n", error);
        free(error);
        afp_group_teardown(state);
        return -1;
    }
    if (open_in_ns(afp.ns, afp.peer, "afpacket", &afp.peer_port, NULL)) {
        afp_group_teardown(state);
        return -1;
    }
    return 0;
}

static void
skip_unless_afp(void)
{
    if (afp.skip_reason) {
        print_message("# skipped: %s\n", afp.skip_reason);
        skip();
    }
}

/* Takes whatever test frames are still queued on 'netdev' (a test that
 * failed half-way), so that the next test starts clean. */
static uint64_t
afp_drain(struct netdev *netdev, int quiet_ms)
{
    uint64_t n = 0;

    for (;;) {
        struct pollfd pfd = {.fd = netdev_get_rx_fd(netdev), .events = POLLIN};
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        if (netdev_recv(netdev, &batch) == EAGAIN) {
            if (poll(&pfd, 1, quiet_ms) <= 0) {
                return n;
            }
            continue;
        }
        for (unsigned int i = 0; i < batch.count; i++) {
            n += is_test_frame(batch.packets[i]);
        }
        netdev_batch_recycle(&batch);
    }
}

static int
afp_test_setup(void **state)
{
    (void)state;
    if (!afp.skip_reason) {
        afp_drain(afp.host_port, 20);
        afp_drain(afp.peer_port, 20);
    }
    return 0;
}

static void
test_afpacket_frames_from_the_peer_arrive_byte_identical(void **state)
{
    enum { N = 300 };
    static uint8_t frames[N][FRAME_MAX];
    struct dp_packet *pkts[N];
    struct netdev_stats before, after;
    size_t lens[N];
    uint64_t bytes = 0;

    (void)state;
    skip_unless_afp();
    netdev_get_stats(afp.host_port, &before);
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 60 + (i * 37) % 1455, i);
        bytes += lens[i];
    }
    send_frames(afp.peer_port, frames, lens, N);
    assert_int_equal(recv_test_frames(afp.host_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
    netdev_get_stats(afp.host_port, &after);
    assert_true(after.rx_packets - before.rx_packets >= N);
    assert_true(after.rx_bytes - before.rx_bytes >= bytes);
    assert_int_equal(after.rx_dropped, before.rx_dropped);
}

static void
test_afpacket_tx_arrives_at_the_peer(void **state)
{
    enum { N = 100 };
    static uint8_t frames[N][FRAME_MAX];
    struct dp_packet *pkts[N];
    struct netdev_stats before, after;
    size_t lens[N];
    uint64_t bytes = 0;

    (void)state;
    skip_unless_afp();
    netdev_get_stats(afp.host_port, &before);
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 1514 - i * 13, 1000 + i);
        bytes += lens[i];
    }
    send_frames(afp.host_port, frames, lens, N);
    netdev_get_stats(afp.host_port, &after);
    assert_int_equal(after.tx_packets - before.tx_packets, N);
    assert_int_equal(after.tx_bytes - before.tx_bytes, bytes);
    assert_int_equal(after.tx_dropped - before.tx_dropped, 0);

    assert_int_equal(recv_test_frames(afp.peer_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
}

/* Builds a frame with the VLAN tags 'tags' (TPID, TCI pairs) after the
 * MAC addresses. */
static size_t
make_tagged_frame(uint8_t *buf, size_t len, uint32_t seq,
                  const uint16_t (*tags)[2], size_t n_tags)
{
    uint8_t plain[FRAME_MAX];
    size_t ofs = 12;

    make_frame(plain, len, seq);
    memcpy(buf, plain, 12);
    for (size_t i = 0; i < n_tags; i++) {
        buf[ofs++] = (uint8_t)(tags[i][0] >> 8);
        buf[ofs++] = (uint8_t)tags[i][0];
        buf[ofs++] = (uint8_t)(tags[i][1] >> 8);
        buf[ofs++] = (uint8_t)tags[i][1];
    }
    memcpy(buf + ofs, plain + 12, len - 12);
    return len + 4 * n_tags;
}

static void
test_afpacket_restores_vlan_tags_the_kernel_strips(void **state)
{
    /* 802.1Q with PCP 5, VID 100; a priority tag (VID 0), which the
     * kernel reports with TCI 0; 802.1ad; QinQ (802.1ad over 802.1Q),
     * whose outer tag is the one stripped. */
    static const uint16_t q[][2] = {{0x8100, 0xa064}};
    static const uint16_t prio[][2] = {{0x8100, 0x6000}};
    static const uint16_t ad[][2] = {{0x88a8, 0x0fff}};
    static const uint16_t qinq[][2] = {{0x88a8, 0x00c8}, {0x8100, 0x2064}};
    static const struct {
        const uint16_t (*tags)[2];
        size_t n;
    } cases[] = {{q, 1}, {prio, 1}, {ad, 1}, {qinq, 2}};
    enum { N = ARRAY_SIZE(cases) };
    static uint8_t frames[N][FRAME_MAX];
    struct dp_packet *pkts[N];
    size_t lens[N];

    (void)state;
    skip_unless_afp();
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_tagged_frame(frames[i], 100, 2000 + i, cases[i].tags,
                                    cases[i].n);
    }
    /* Both directions: the peer's tags reach the host port, and the host
     * port's reach the peer. */
    send_frames(afp.peer_port, frames, lens, N);
    assert_int_equal(recv_test_frames(afp.host_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
    send_frames(afp.host_port, frames, lens, N);
    assert_int_equal(recv_test_frames(afp.peer_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
}

static void
test_afpacket_does_not_receive_its_own_transmissions(void **state)
{
    enum { N = 20 };
    static uint8_t frames[N][FRAME_MAX];
    static uint8_t marker[1][FRAME_MAX];
    struct dp_packet *pkt;
    size_t lens[N], marker_len;

    (void)state;
    skip_unless_afp();
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 80, 3000 + i);
    }
    send_frames(afp.host_port, frames, lens, N);
    /* The kernel shows outgoing frames to packet sockets while it sends
     * them, before the peer can answer: the first test frame the host
     * port receives must be the peer's marker. */
    marker_len = make_frame(marker[0], 64, 4242);
    send_frames(afp.peer_port, marker, &marker_len, 1);
    assert_int_equal(recv_test_frames(afp.host_port, &pkt, 1, 5000), 1);
    assert_int_equal(frame_seq(pkt), 4242);
    netdev_packet_recycle(pkt);
    assert_int_equal(afp_drain(afp.peer_port, 20), N);
}

static void
test_afpacket_counts_kernel_drops_when_its_ring_overflows(void **state)
{
    /* More 64-byte frames than the 8 MB rx ring holds (about 58 000). */
    enum { N = 150000 };
    uint64_t cov = coverage_read("netdev_afpacket_rx_kernel_drop");
    struct netdev_stats host_before, host_after, peer;
    uint64_t sent = 0, peer_tx_before;
    uint8_t frame[64];
    struct dp_packet *pkt;

    (void)state;
    skip_unless_afp();
    netdev_get_stats(afp.host_port, &host_before);
    netdev_get_stats(afp.peer_port, &peer);
    peer_tx_before = peer.tx_packets;
    make_frame(frame, sizeof frame, 5000);
    while (sent < N) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        while (!dp_packet_batch_is_full(&batch)) {
            pkt = netdev_packet_alloc();
            dp_packet_put(pkt, frame, sizeof frame);
            assert_true(dp_packet_batch_add(&batch, pkt));
        }
        netdev_send(afp.peer_port, &batch, true);
        netdev_get_stats(afp.peer_port, &peer);
        sent = peer.tx_packets - peer_tx_before;
    }
    netdev_flush(afp.peer_port);

    /* Take everything the ring holds. */
    uint64_t received = afp_drain(afp.host_port, 200);
    netdev_get_stats(afp.host_port, &host_after);
    assert_true(host_after.rx_dropped > host_before.rx_dropped);
    assert_true(received + (host_after.rx_dropped - host_before.rx_dropped)
                <= sent);
    assert_int_equal(coverage_read("netdev_afpacket_rx_kernel_drop") - cov,
                     host_after.rx_dropped - host_before.rx_dropped);
    print_message(
        "sent %llu, received %llu, kernel dropped %llu\n",
        (unsigned long long)sent, (unsigned long long)received,
        (unsigned long long)(host_after.rx_dropped - host_before.rx_dropped));
}

static void
test_afpacket_port_can_close_mid_traffic_and_reopen(void **state)
{
    enum { N = 500 };
    static uint8_t frames[N][FRAME_MAX];
    struct dp_packet *pkts[N];
    char *error = NULL;
    size_t lens[N];

    (void)state;
    skip_unless_afp();
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 200, 6000 + i);
    }
    send_frames(afp.peer_port, frames, lens, N);
    /* Take one batch, leaving a block half read, then close. */
    struct dp_packet_batch batch;
    struct pollfd pfd = {.fd = netdev_get_rx_fd(afp.host_port),
                         .events = POLLIN};

    dp_packet_batch_init(&batch);
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_int_equal(netdev_recv(afp.host_port, &batch), 0);
    netdev_batch_recycle(&batch);
    netdev_close(afp.host_port);
    afp.host_port = NULL;
    if (netdev_open(afp.host, "afpacket", NULL, &afp.host_port, &error)) {
        fail_msg("%s", error);
    }
    send_frames(afp.peer_port, frames, lens, N);
    assert_int_equal(recv_test_frames(afp.host_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
}

static void
test_afpacket_nonexistent_interface_is_one_clear_line(void **state)
{
    char name[IFNAMSIZ];
    char *error, *expected;

    (void)state;
    snprintf(name, sizeof name, "fsnone%u",
             (unsigned int)getpid() % 10000000u);
    error = open_fails(name, "afpacket", NULL, ENODEV);
    expected = xasprintf("netdev: cannot open port \"%s\" (afpacket): No "
                         "such device",
                         name);
    assert_string_equal(error, expected);
    free(expected);
    free(error);
}

/* ---- afxdp ports -------------------------------------------------------- */

/* The fixture: as for afpacket, a veth pair whose peer lives in a fresh
 * namespace, both ends opened as afxdp ports.  They share the process's
 * UMEM, although one socket lives in another namespace.  Without root the
 * group is skipped; when the kernel refuses AF_XDP or XDP (a container,
 * an old kernel), the reason is the open's own error line. */
static struct {
    const char *skip_reason;
    char *skip_detail; /* The failed open's message. */
    char ns[32], host[IFNAMSIZ], peer[IFNAMSIZ], mq[IFNAMSIZ],
        mq_peer[IFNAMSIZ];
    bool created, mq_created;
    struct netdev *host_port, *peer_port;
} axp;

static void axp_stop_flood(void);

static int
axp_group_teardown(void **state)
{
    (void)state;
    axp_stop_flood();
    netdev_close(axp.host_port);
    netdev_close(axp.peer_port);
    axp.host_port = axp.peer_port = NULL;
    if (axp.mq_created) {
        run("ip link del %s", axp.mq);
        axp.mq_created = false;
    }
    if (axp.created) {
        run("ip link del %s", axp.host);
        run("ip netns del %s", axp.ns);
        axp.created = false;
    }
    free(axp.skip_detail);
    axp.skip_detail = NULL;
    netdev_pool_purge();
    return 0;
}

static int
axp_group_setup(void **state)
{
    unsigned int pid = (unsigned int)getpid() % 10000000u;
    char *error = NULL;

    (void)state;
    axp.skip_reason = kernel_ports_unavailable();
    if (axp.skip_reason) {
        return 0;
    }
    snprintf(axp.ns, sizeof axp.ns, "fsxd%u", pid);
    snprintf(axp.host, sizeof axp.host, "fsxa%u", pid);
    snprintf(axp.peer, sizeof axp.peer, "fsxb%u", pid);
    snprintf(axp.mq, sizeof axp.mq, "fsxm%u", pid);
    snprintf(axp.mq_peer, sizeof axp.mq_peer, "fsxn%u", pid);
    if (!run("ip netns add %s", axp.ns)) {
        axp.skip_reason = "cannot create a network namespace";
        return 0;
    }
    axp.created = true;
    run("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1",
        axp.ns);
    if (!run("ip link add %s type veth peer name %s netns %s", axp.host,
             axp.peer, axp.ns)) {
        axp.skip_reason = "cannot create a veth pair";
        axp_group_teardown(state);
        return 0;
    }
    run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", axp.host);
    if (!run("ip link set %s up", axp.host)
        || !run("ip -n %s link set %s up", axp.ns, axp.peer)) {
        axp_group_teardown(state);
        return -1;
    }
    if (netdev_open(axp.host, "afxdp", NULL, &axp.host_port, &error)
        || open_in_ns(axp.ns, axp.peer, "afxdp", &axp.peer_port, &error)) {
        /* The kernel (or its configuration) refuses: skip, saying why in
         * its own words. */
        axp_group_teardown(state);
        axp.skip_reason = "the kernel refuses afxdp ports";
        axp.skip_detail = error;
        return 0;
    }
    return 0;
}

static void
skip_unless_axp(void)
{
    if (axp.skip_reason) {
        print_message("# skipped: %s%s%s\n", axp.skip_reason,
                      axp.skip_detail ? ": " : "",
                      axp.skip_detail ? axp.skip_detail : "");
        skip();
    }
}

static int
axp_test_setup(void **state)
{
    char *error = NULL;

    (void)state;
    if (!axp.skip_reason && !axp.host_port
        && netdev_open(axp.host, "afxdp", NULL, &axp.host_port, &error)) {
        print_error("%s\n", error); /* A test before failed half-way. */
        free(error);
        return -1;
    }
    if (!axp.skip_reason) {
        afp_drain(axp.host_port, 20);
        afp_drain(axp.peer_port, 20);
    }
    return 0;
}

/* The value of KEY=VALUE in the port's status, or UINT64_MAX. */
static uint64_t
status_value(const struct netdev *netdev, const char *key)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    uint64_t value = UINT64_MAX;
    char *word = xasprintf(" %s=", key);
    const char *p;

    ds_put_char(&s, ' ');
    netdev_get_status(netdev, &s);
    p = strstr(ds_cstr(&s), word);
    if (p) {
        value = strtoull(p + strlen(word), NULL, 10);
    }
    free(word);
    ds_destroy(&s);
    return value;
}

static bool
status_has(const struct netdev *netdev, const char *text)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    bool found;

    netdev_get_status(netdev, &s);
    found = strstr(ds_cstr(&s), text) != NULL;
    ds_destroy(&s);
    return found;
}

static void
test_afxdp_port_reports_native_mode_on_veth(void **state)
{
    (void)state;
    skip_unless_axp();
    assert_true(status_has(axp.host_port, "xdp-mode=native"));
    assert_true(status_has(axp.peer_port, "xdp-mode=native"));
    assert_int_equal(status_value(axp.host_port, "rx-queues"), 1);
    /* One UMEM for both, although they live in different namespaces. */
    assert_int_equal(status_value(axp.host_port, "umem"),
                     status_value(axp.peer_port, "umem"));
    assert_true(netdev_get_rx_fd(axp.host_port) >= 0);
}

static void
test_afxdp_frames_cross_byte_identical_both_ways(void **state)
{
    enum { N = 300 };
    static uint8_t frames[N][FRAME_MAX];
    struct netdev_stats hb, ha, pb, pa;
    struct dp_packet *pkts[N];
    size_t lens[N];
    uint64_t bytes = 0;

    (void)state;
    skip_unless_axp();
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 60 + (i * 37) % 1455, 7000 + i);
        bytes += lens[i];
    }
    netdev_get_stats(axp.host_port, &hb);
    netdev_get_stats(axp.peer_port, &pb);
    send_frames(axp.peer_port, frames, lens, N);
    assert_int_equal(recv_test_frames(axp.host_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_true(dp_packet_is_external(pkts[i])); /* In its frame. */
        assert_frame_equal(pkts[i], frames[i], lens[i]);
    }
    /* And back: the received packets themselves, then fresh copies. */
    for (uint32_t i = 0; i < N; i += PACKET_BATCH_MAX) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        for (uint32_t j = i; j < MIN(N, i + PACKET_BATCH_MAX); j++) {
            assert_true(dp_packet_batch_add(&batch, pkts[j]));
        }
        netdev_send(axp.host_port, &batch, true);
    }
    assert_int_equal(recv_test_frames(axp.peer_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
    netdev_get_stats(axp.host_port, &ha);
    netdev_get_stats(axp.peer_port, &pa);
    assert_int_equal(pa.tx_packets - pb.tx_packets, N);
    assert_int_equal(pa.tx_bytes - pb.tx_bytes, bytes);
    assert_int_equal(ha.tx_packets - hb.tx_packets, N);
    assert_true(ha.rx_packets - hb.rx_packets >= N);
    assert_true(pa.rx_packets - pb.rx_packets >= N);
    assert_int_equal(ha.rx_dropped + ha.tx_dropped + ha.tx_errors,
                     hb.rx_dropped + hb.tx_dropped + hb.tx_errors);
    assert_int_equal(pa.tx_dropped + pa.tx_errors,
                     pb.tx_dropped + pb.tx_errors);
}

static void
test_afxdp_forwarding_between_ports_copies_nothing(void **state)
{
    enum { N = 200 };
    static uint8_t frames[N][FRAME_MAX];
    uint64_t zc = coverage_read("netdev_afxdp_tx_zero_copy");
    uint64_t copies = coverage_read("netdev_afxdp_tx_copy");
    uint64_t rx_copies = coverage_read("netdev_afxdp_rx_copy");
    struct dp_packet *pkts[N];
    uint8_t *addrs[N];
    size_t lens[N];

    (void)state;
    skip_unless_axp();
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 64 + i * 7, 8000 + i);
    }
    /* Copies in pool buffers go in (counted as copies), ... */
    send_frames(axp.peer_port, frames, lens, N);
    assert_int_equal(coverage_read("netdev_afxdp_tx_copy") - copies, N);
    assert_int_equal(recv_test_frames(axp.host_port, pkts, N, 5000), N);
    /* ... then host rx -> peer tx: each frame's own UMEM address goes on
     * the peer's tx ring, back into the host port. */
    for (uint32_t i = 0; i < N; i += PACKET_BATCH_MAX) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        for (uint32_t j = i; j < MIN(N, i + PACKET_BATCH_MAX); j++) {
            addrs[j] = dp_packet_data(pkts[j]);
            assert_true(dp_packet_batch_add(&batch, pkts[j]));
        }
        netdev_send(axp.peer_port, &batch, true);
    }
    assert_int_equal(coverage_read("netdev_afxdp_tx_zero_copy") - zc, N);
    assert_int_equal(coverage_read("netdev_afxdp_tx_copy") - copies, N);
    assert_int_equal(recv_test_frames(axp.host_port, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
    assert_int_equal(coverage_read("netdev_afxdp_rx_copy"), rx_copies);
    (void)addrs;
}

static void
test_afxdp_full_tx_ring_drops_and_counts(void **state)
{
    /* With the interface down the kernel takes nothing off the tx ring
     * (1024 slots): the rest must be counted, not lost. */
    enum { N = 1500 };
    uint64_t cov = coverage_read("netdev_afxdp_tx_ring_full");
    struct netdev_stats before, after;
    uint8_t frame[64];

    (void)state;
    skip_unless_axp();
    make_frame(frame, sizeof frame, 9000);
    netdev_get_stats(axp.host_port, &before);
    assert_true(run("ip link set %s down", axp.host));
    for (uint32_t sent = 0; sent < N; sent += PACKET_BATCH_MAX) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        for (uint32_t i = sent; i < MIN(N, sent + PACKET_BATCH_MAX); i++) {
            struct dp_packet *pkt = netdev_packet_alloc();

            dp_packet_put(pkt, frame, sizeof frame);
            assert_true(dp_packet_batch_add(&batch, pkt));
        }
        netdev_send(axp.host_port, &batch, true);
    }
    netdev_get_stats(axp.host_port, &after);
    assert_true(run("ip link set %s up", axp.host));
    assert_int_equal((after.tx_packets - before.tx_packets)
                         + (after.tx_dropped - before.tx_dropped)
                         + (after.tx_errors - before.tx_errors),
                     N);
    assert_true(after.tx_dropped - before.tx_dropped >= N - 1024);
    assert_int_equal(coverage_read("netdev_afxdp_tx_ring_full") - cov,
                     after.tx_dropped - before.tx_dropped);
}

struct axp_thread_ctx {
    struct dp_packet **pkts;
    size_t n;
    const uint8_t (*frames)[FRAME_MAX];
    const size_t *lens;
};

/* Puts each packet through one of the packet API's ways out. */
static void *
axp_other_thread(void *ctx_)
{
    struct axp_thread_ctx *ctx = ctx_;
    struct dp_packet_batch batch;
    uint8_t hdr[300];

    memset(hdr, 0xab, sizeof hdr);
    dp_packet_batch_init(&batch);
    for (size_t i = 0; i < ctx->n; i++) {
        struct dp_packet *pkt = ctx->pkts[i], *copy;

        switch (i % 5) {
        case 0: /* A clone outlives the original. */
            copy = dp_packet_clone(pkt);
            dp_packet_delete(pkt);
            assert_false(dp_packet_is_external(copy));
            assert_frame_equal(copy, ctx->frames[i], ctx->lens[i]);
            dp_packet_delete(copy);
            break;
        case 1: /* More headroom than a frame has: moves to the heap. */
            dp_packet_push(pkt, hdr, sizeof hdr);
            assert_false(dp_packet_is_external(pkt));
            assert_memory_equal(dp_packet_data(pkt), hdr, sizeof hdr);
            assert_memory_equal((uint8_t *)dp_packet_data(pkt) + sizeof hdr,
                                ctx->frames[i], ctx->lens[i]);
            netdev_packet_recycle(pkt);
            break;
        case 2:
            netdev_packet_recycle(pkt);
            break;
        case 3:
            dp_packet_delete(pkt);
            break;
        default:
            assert_true(dp_packet_batch_add(&batch, pkt));
            break;
        }
    }
    netdev_batch_recycle(&batch);
    return NULL;
}

static void
test_afxdp_umem_packets_survive_every_packet_api_in_another_thread(
    void **state)
{
    enum { N = 100 };
    static uint8_t frames[N][FRAME_MAX];
    uint64_t detached = coverage_read("netdev_afxdp_frame_detach");
    struct axp_thread_ctx ctx;
    struct dp_packet *pkts[N];
    size_t lens[N];
    pthread_t thread;

    (void)state;
    skip_unless_axp();
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 100 + i * 13, 10000 + i);
    }
    send_frames(axp.peer_port, frames, lens, N);
    assert_int_equal(recv_test_frames(axp.host_port, pkts, N, 5000), N);
    assert_true(status_value(axp.host_port, "umem-held") >= N);
    ctx = (struct axp_thread_ctx){pkts, N, frames, lens};
    assert_int_equal(pthread_create(&thread, NULL, axp_other_thread, &ctx), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(coverage_read("netdev_afxdp_frame_detach") - detached,
                     N / 5);
    /* Every frame is back in the UMEM, none in the generic pool. */
    assert_int_equal(status_value(axp.host_port, "umem-held"), 0);
}

/* A thread that floods from a port until stopped.  Static, and stopped
 * by the group teardown too, so that a failed assertion cannot leave it
 * running on a dead stack. */
static struct axp_sender_ctx {
    struct netdev *port;
    _Atomic bool stop;
    uint64_t sent;
    pthread_t thread;
    bool running;
} axp_flood;

static void
axp_stop_flood(void)
{
    if (axp_flood.running) {
        atomic_store(&axp_flood.stop, true);
        pthread_join(axp_flood.thread, NULL);
        axp_flood.running = false;
    }
}

static void *
axp_sender(void *ctx_)
{
    struct axp_sender_ctx *ctx = ctx_;
    uint8_t frame[128];

    make_frame(frame, sizeof frame, 11000);
    while (!atomic_load(&ctx->stop)) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        while (!dp_packet_batch_is_full(&batch)) {
            struct dp_packet *pkt = netdev_packet_alloc();

            dp_packet_put(pkt, frame, sizeof frame);
            assert_true(dp_packet_batch_add(&batch, pkt));
        }
        netdev_send(ctx->port, &batch, true);
        ctx->sent += PACKET_BATCH_MAX;
    }
    return NULL;
}

/* Takes the first 'n' test frames 'netdev' receives within 'timeout_ms'
 * into 'pkts' and recycles the rest of what arrives meanwhile (a flood
 * brings more than asked for).  Returns how many it took. */
static size_t
recv_from_flood(struct netdev *netdev, struct dp_packet **pkts, size_t n,
                int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;
    size_t got = 0;

    while (got < n) {
        struct pollfd pfd = {.fd = netdev_get_rx_fd(netdev), .events = POLLIN};
        struct dp_packet_batch batch;
        uint64_t now = time_msec();

        dp_packet_batch_init(&batch);
        if (netdev_recv(netdev, &batch) == EAGAIN) {
            if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
                break;
            }
            continue;
        }
        for (unsigned int i = 0; i < batch.count; i++) {
            if (got < n && is_test_frame(batch.packets[i])) {
                pkts[got++] = batch.packets[i];
            } else {
                netdev_packet_recycle(batch.packets[i]);
            }
        }
    }
    return got;
}

static void
test_afxdp_port_can_close_under_traffic_with_packets_in_flight(void **state)
{
    struct axp_sender_ctx *ctx = &axp_flood;
    struct dp_packet *held[64], *pkts[64];
    uint64_t held_before;
    char *error = NULL;

    (void)state;
    skip_unless_axp();
    ctx->port = axp.peer_port;
    ctx->sent = 0;
    atomic_init(&ctx->stop, false);
    assert_int_equal(pthread_create(&ctx->thread, NULL, axp_sender, ctx), 0);
    ctx->running = true;
    /* Keep packets of the host port "elsewhere in the switch" while it
     * closes, and twice. */
    assert_int_equal(recv_from_flood(axp.host_port, held, 64, 5000), 64);
    held_before = status_value(axp.peer_port, "umem-held");
    assert_true(held_before >= 64);
    for (int round = 0; round < 2; round++) {
        netdev_close(axp.host_port);
        axp.host_port = NULL;
        if (netdev_open(axp.host, "afxdp", NULL, &axp.host_port, &error)) {
            fail_msg("%s", error);
        }
        assert_int_equal(recv_from_flood(axp.host_port, pkts, 64, 5000), 64);
        for (int i = 0; i < 64; i++) {
            netdev_packet_recycle(pkts[i]);
        }
    }
    axp_stop_flood();
    /* The held packets are still good, and go back to their UMEM. */
    for (int i = 0; i < 64; i++) {
        assert_int_equal(frame_seq(held[i]), 11000);
        assert_int_equal(dp_packet_size(held[i]), 128);
        netdev_packet_recycle(held[i]);
    }
    assert_true(ctx->sent > 0);
}

static void
test_afxdp_opens_one_socket_per_rx_queue(void **state)
{
    enum { N = 100 };
    static uint8_t frames[N][FRAME_MAX];
    struct netdev *mq, *peer;
    struct dp_packet *pkts[N];
    size_t lens[N];

    (void)state;
    skip_unless_axp();
    if (!run("ip link add %s numtxqueues 4 numrxqueues 4 type veth peer "
             "name %s numtxqueues 4 numrxqueues 4",
             axp.mq, axp.mq_peer)) {
        print_message("# skipped: cannot create a multi-queue veth pair\n");
        skip();
    }
    axp.mq_created = true;
    run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", axp.mq);
    run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", axp.mq_peer);
    assert_true(run("ip link set %s up", axp.mq));
    assert_true(run("ip link set %s up", axp.mq_peer));
    mq = open_ok(axp.mq, "afxdp", NULL);
    peer = open_ok(axp.mq_peer, "afpacket", NULL);
    assert_int_equal(status_value(mq, "rx-queues"), 4);
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = make_frame(frames[i], 80, 12000 + i);
    }
    send_frames(peer, frames, lens, N);
    assert_int_equal(recv_test_frames(mq, pkts, N, 5000), N);
    for (uint32_t i = 0; i < N; i++) {
        assert_frame_equal(pkts[i], frames[i], lens[i]);
        netdev_packet_recycle(pkts[i]);
    }
    netdev_close(peer);
    netdev_close(mq);
    run("ip link del %s", axp.mq);
    axp.mq_created = false;
}

static void
test_afxdp_nonexistent_interface_is_one_clear_line(void **state)
{
    char name[IFNAMSIZ];
    char *error, *expected;

    (void)state;
    snprintf(name, sizeof name, "fsnone%u",
             (unsigned int)getpid() % 10000000u);
    error = open_fails(name, "afxdp", NULL, ENODEV);
    expected = xasprintf("netdev: cannot open port \"%s\" (afxdp): No such "
                         "device",
                         name);
    assert_string_equal(error, expected);
    free(expected);
    free(error);
}

static void
test_afxdp_bad_xdp_mode_is_one_clear_line(void **state)
{
    struct netdev_options opts = {.xdp_mode = "turbo"};
    char *error;

    (void)state;
    error = open_fails("lo", "afxdp", &opts, EINVAL);
    assert_string_equal(error, "netdev: cannot open port \"lo\" (afxdp): bad "
                               "xdp-mode \"turbo\" (expected native, skb "
                               "or auto)");
    free(error);
}

/* ---- Main --------------------------------------------------------------- */

int
main(void)
{
    const struct CMUnitTest generic_tests[] = {
        cmocka_unit_test(test_open_unknown_type_names_port_and_type),
        cmocka_unit_test(test_name_and_type_are_reported),
        cmocka_unit_test(test_pool_reuses_recycled_buffers),
        cmocka_unit_test(test_pool_frees_foreign_buffers),
        cmocka_unit_test(test_pool_overflow_goes_through_the_depot),
    };
    const struct CMUnitTest memory_tests[] = {
        cmocka_unit_test(test_memory_recv_returns_injected_frames_in_order),
        cmocka_unit_test(test_memory_recv_batches_hold_at_most_32),
        cmocka_unit_test(test_memory_full_rx_ring_drops_and_counts),
        cmocka_unit_test(test_memory_send_then_collect_round_trip),
        cmocka_unit_test(test_memory_full_tx_ring_drops_and_counts),
        cmocka_unit_test(test_memory_generator_hands_out_exact_total_then_eof),
        cmocka_unit_test(test_memory_generator_and_sink_run_without_malloc),
        cmocka_unit_test(test_memory_close_with_queued_packets_frees_them),
        cmocka_unit_test(test_memory_rejects_huge_ring),
    };
    const struct CMUnitTest pcap_tests[] = {
        cmocka_unit_test(test_pcap_round_trip_is_byte_identical),
        cmocka_unit_test(test_pcap_loop_three_yields_every_frame_three_times),
        cmocka_unit_test(test_pcap_empty_capture_with_loops_ends_at_once),
        cmocka_unit_test(test_pcap_paced_replay_keeps_order_and_count),
        cmocka_unit_test(
            test_pcap_paced_replay_drops_what_falls_behind_the_backlog),
        cmocka_unit_test(
            test_pcap_paced_replay_shorter_than_its_ring_loses_nothing),
        cmocka_unit_test(test_pcap_tx_without_file_counts_drops),
        cmocka_unit_test(test_pcap_missing_rx_file_is_one_clear_line),
        cmocka_unit_test(test_pcap_garbage_rx_file_is_refused),
        cmocka_unit_test(test_pcap_unwritable_tx_path_is_one_clear_line),
        cmocka_unit_test(test_pcap_tx_from_several_threads_writes_every_frame),
    };
    const struct CMUnitTest thread_tests[] = {
        cmocka_unit_test(test_memory_survives_concurrent_senders_and_readers),
        cmocka_unit_test(
            test_memory_poller_sleeps_on_the_rx_fd_while_others_inject),
    };
    const struct CMUnitTest tap_tests[] = {
        cmocka_unit_test(test_tap_open_creates_an_interface_that_is_up),
        cmocka_unit_test(test_tap_frames_cross_to_and_from_the_kernel),
        cmocka_unit_test(test_tap_reads_jumbo_frames_whole),
        cmocka_unit_test(test_tap_bad_name_is_one_clear_line),
    };
#define AFP_TEST(T) cmocka_unit_test_setup(T, afp_test_setup)
    const struct CMUnitTest afpacket_tests[] = {
        AFP_TEST(test_afpacket_frames_from_the_peer_arrive_byte_identical),
        AFP_TEST(test_afpacket_tx_arrives_at_the_peer),
        AFP_TEST(test_afpacket_restores_vlan_tags_the_kernel_strips),
        AFP_TEST(test_afpacket_does_not_receive_its_own_transmissions),
        AFP_TEST(test_afpacket_counts_kernel_drops_when_its_ring_overflows),
        AFP_TEST(test_afpacket_port_can_close_mid_traffic_and_reopen),
        AFP_TEST(test_afpacket_nonexistent_interface_is_one_clear_line),
    };
#define AXP_TEST(T) cmocka_unit_test_setup(T, axp_test_setup)
    const struct CMUnitTest afxdp_tests[] = {
        AXP_TEST(test_afxdp_port_reports_native_mode_on_veth),
        AXP_TEST(test_afxdp_frames_cross_byte_identical_both_ways),
        AXP_TEST(test_afxdp_forwarding_between_ports_copies_nothing),
        AXP_TEST(test_afxdp_full_tx_ring_drops_and_counts),
        AXP_TEST(
            test_afxdp_umem_packets_survive_every_packet_api_in_another_thread),
        AXP_TEST(
            test_afxdp_port_can_close_under_traffic_with_packets_in_flight),
        AXP_TEST(test_afxdp_opens_one_socket_per_rx_queue),
        AXP_TEST(test_afxdp_nonexistent_interface_is_one_clear_line),
        AXP_TEST(test_afxdp_bad_xdp_mode_is_one_clear_line),
    };
    const char *filter = getenv("NETDEV_TEST_FILTER");
    int failed = 0;

    /* tests/system/test_netdev_afpacket.py runs subsets, e.g.
     * NETDEV_TEST_FILTER='test_afpacket_*'. */
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }

    failed += cmocka_run_group_tests_name("netdev", generic_tests, NULL, NULL);
    failed +=
        cmocka_run_group_tests_name("netdev-memory", memory_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name(
        "netdev-pcap", pcap_tests, pcap_group_setup, pcap_group_teardown);
    failed += cmocka_run_group_tests_name("netdev-threads", thread_tests, NULL,
                                          NULL);
    failed += cmocka_run_group_tests_name("netdev-tap", tap_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("netdev-afpacket", afpacket_tests,
                                          afp_group_setup, afp_group_teardown);
    failed += cmocka_run_group_tests_name("netdev-afxdp", afxdp_tests,
                                          axp_group_setup, axp_group_teardown);
    netdev_pool_purge();
    return failed;
}
