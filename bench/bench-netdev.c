/*
 * bench/bench-netdev.c — `flowswitch-bench netdev [--quick] [--json]`
 *
 * What the port layer costs the fast path, per packet, on one core:
 *  (a) pool/alloc+recycle   netdev_packet_alloc() + netdev_packet_recycle()
 *                           of one buffer: the floor of any recv + send;
 *  (b) memory/gen->sink     a memory port in generator mode (8 distinct
 *                           64-byte frames) received in batches of 32 and
 *                           sent, stolen, to a memory port in sink mode: the
 *                           loop a fast-path benchmark wraps around its
 *                           lookup, with every buffer coming from the pool;
 *  (c) memory/gen->sink/1518 the same with full-size frames (memcpy-bound);
 *  (d) memory/inject->recv  netdev_memory_inject() of 32 frames, then one
 *                           recv: the rx ring path tests use;
 *  (e) pcap/replay          an unpaced pcap rx port replaying a 64-byte
 *                           frame capture (libpcap read + copy).
 *
 * Each case runs for about 0.5 s (0.05 s with --quick) and reports ns per
 * packet and millions of packets per second.  A volatile sink keeps the
 * compiler from dropping the work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "packet/packet.h"
#include "tests/unit/unit-frames.h"

static volatile uint64_t bench_sink;

struct bench_result {
    uint64_t ops;
    double ns_per_op;
};

static void
bench_report(bool json, const char *case_name, struct bench_result r)
{
    double mpps = r.ns_per_op > 0 ? 1e3 / r.ns_per_op : 0;

    if (json) {
        printf("{\"bench\":\"netdev\",\"case\":\"%s\",\"ns_per_op\":%.2f,"
               "\"mops\":%.2f,\"ops\":%llu}\n",
               case_name, r.ns_per_op, mpps, (unsigned long long)r.ops);
    } else {
        printf("%-28s %10.2f %10.2f\n", case_name, r.ns_per_op, mpps);
    }
    fflush(stdout);
}

static struct netdev *
bench_open(const char *name, const char *type,
           const struct netdev_options *options)
{
    struct netdev *netdev;
    char *error;

    if (netdev_open(name, type, options, &netdev, &error)) {
        fprintf(stderr, "flowswitch-bench netdev: %s\n", error);
        exit(1);
    }
    return netdev;
}

/* Frame 'i' of 'len' bytes to 02:00:00:00:00:<i>, from 10.0.0.<i>: IPv4
 * and UDP in name only (TTL, lengths and the UDP header stay 0), as
 * nothing parses it here. */
static void
bench_make_frame(uint8_t *frame, size_t len, unsigned int i)
{
    struct eth_addr dst = {{2, 0, 0, 0, 0, (uint8_t)i}};
    struct unit_frame f;

    unit_frame_init(&f, frame, len);
    unit_frame_eth(&f, dst, UNIT_FRAME_MAC_SRC, ETH_TYPE_IP);
    unit_frame_ipv4(&f, IPPROTO_UDP_, 0, 0x0a000000 | (uint8_t)i, 0);
}

static struct bench_result
bench_pool(uint64_t target_ns)
{
    struct bench_result r = {0, 0};
    uint64_t start = time_nsec(), elapsed;

    do {
        for (int i = 0; i < 1024; i++) {
            struct dp_packet *pkt = netdev_packet_alloc();

            bench_sink += dp_packet_headroom(pkt);
            netdev_packet_recycle(pkt);
        }
        r.ops += 1024;
        elapsed = time_nsec() - start;
    } while (elapsed < target_ns);
    r.ns_per_op = (double)elapsed / (double)r.ops;
    return r;
}

static struct bench_result
bench_gen_to_sink(size_t frame_len, uint64_t target_ns)
{
    struct netdev *in = bench_open("bench-gen", "memory", NULL);
    struct netdev *out = bench_open("bench-sink", "memory", NULL);
    const struct dp_packet *frames[8];
    struct bench_result r = {0, 0};
    struct dp_packet_batch batch;
    uint8_t frame[1518];
    uint64_t start, elapsed;

    for (unsigned int i = 0; i < ARRAY_SIZE(frames); i++) {
        bench_make_frame(frame, frame_len, i);
        frames[i] = dp_packet_new_from_bytes(frame, frame_len, 0);
    }
    netdev_memory_set_generator(in, frames, ARRAY_SIZE(frames), UINT64_MAX);
    netdev_memory_set_sink(out, true);
    dp_packet_batch_init(&batch);

    /* Warm the pool. */
    for (int i = 0; i < 64 && !netdev_recv(in, &batch); i++) {
        netdev_send(out, &batch, true);
    }
    start = time_nsec();
    do {
        for (int i = 0; i < 1024; i++) {
            if (netdev_recv(in, &batch)) {
                abort();
            }
            bench_sink += *(const uint8_t *)dp_packet_data(batch.packets[0]);
            r.ops += batch.count;
            netdev_send(out, &batch, true);
        }
        elapsed = time_nsec() - start;
    } while (elapsed < target_ns);
    r.ns_per_op = (double)elapsed / (double)r.ops;

    for (unsigned int i = 0; i < ARRAY_SIZE(frames); i++) {
        dp_packet_delete((struct dp_packet *)frames[i]);
    }
    netdev_close(in);
    netdev_close(out);
    return r;
}

static struct bench_result
bench_inject_recv(uint64_t target_ns)
{
    struct netdev *netdev = bench_open("bench-ring", "memory", NULL);
    struct bench_result r = {0, 0};
    struct dp_packet_batch batch;
    uint8_t frame[64];
    uint64_t start = time_nsec(), elapsed;

    bench_make_frame(frame, sizeof frame, 1);
    dp_packet_batch_init(&batch);
    do {
        for (int i = 0; i < 256; i++) {
            for (int j = 0; j < PACKET_BATCH_MAX; j++) {
                netdev_memory_inject(netdev, frame, sizeof frame);
            }
            if (netdev_recv(netdev, &batch)) {
                abort();
            }
            r.ops += batch.count;
            netdev_batch_recycle(&batch);
        }
        elapsed = time_nsec() - start;
    } while (elapsed < target_ns);
    r.ns_per_op = (double)elapsed / (double)r.ops;
    netdev_close(netdev);
    return r;
}

static struct bench_result
bench_pcap_replay(uint64_t target_ns)
{
    char path[] = "/tmp/bench-netdev-XXXXXX";
    struct netdev_options tx_options = {.tx_path = path};
    struct netdev_options rx_options = {.rx_path = path, .loops = 1000000};
    struct bench_result r = {0, 0};
    struct dp_packet_batch batch;
    struct netdev *netdev;
    uint8_t frame[64];
    uint64_t start, elapsed;
    int fd = mkstemp(path);

    if (fd < 0) {
        fprintf(stderr, "flowswitch-bench netdev: %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    close(fd);
    netdev = bench_open("bench-ptx", "pcap", &tx_options);
    for (int i = 0; i < 10000;) {
        dp_packet_batch_init(&batch);
        for (; i < 10000 && !dp_packet_batch_is_full(&batch); i++) {
            bench_make_frame(frame, sizeof frame, (unsigned int)i);
            if (!dp_packet_batch_add(&batch, dp_packet_new_from_bytes(
                                                 frame, sizeof frame, 0))) {
                abort();
            }
        }
        netdev_send(netdev, &batch, true);
    }
    netdev_close(netdev);

    netdev = bench_open("bench-prx", "pcap", &rx_options);
    dp_packet_batch_init(&batch);
    start = time_nsec();
    do {
        for (int i = 0; i < 256; i++) {
            if (netdev_recv(netdev, &batch)) {
                abort();
            }
            r.ops += batch.count;
            netdev_batch_recycle(&batch);
        }
        elapsed = time_nsec() - start;
    } while (elapsed < target_ns);
    r.ns_per_op = (double)elapsed / (double)r.ops;
    netdev_close(netdev);
    unlink(path);
    return r;
}

int
bench_netdev_main(int argc, char *argv[])
{
    uint64_t target_ns = UINT64_C(500) * 1000 * 1000;
    bool json = false, quick = false;

    if (!bench_parse_options("flowswitch-bench netdev", argc, argv, &quick,
                             &json)) {
        return 2;
    }
    if (quick) {
        target_ns = UINT64_C(50) * 1000 * 1000;
    }

    if (!json) {
        printf("netdev: ns per packet, one core, batches of %d\n",
               PACKET_BATCH_MAX);
        printf("%-28s %10s %10s\n", "case", "ns/pkt", "Mpps");
    }
    bench_report(json, "pool/alloc+recycle", bench_pool(target_ns));
    bench_report(json, "memory/gen->sink/64",
                 bench_gen_to_sink(64, target_ns));
    bench_report(json, "memory/gen->sink/1518",
                 bench_gen_to_sink(1518, target_ns));
    bench_report(json, "memory/inject->recv/64", bench_inject_recv(target_ns));
    bench_report(json, "pcap/replay/64", bench_pcap_replay(target_ns));
    netdev_pool_purge();
    return 0;
}
