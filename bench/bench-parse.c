/*
 * bench/bench-parse.c — `flowswitch-bench parse [--quick] [--json]`
 *
 * What one received packet costs before the datapath can look it up:
 *  (a) parsing the frame into a struct flow (packet_parse()), for each of
 *      four realistic frame types and for a mix of them;
 *  (b) hashing the flow under a typical megaflow mask (6 of the 20 words:
 *      in_port, the MACs and dl_type, the IPv4 addresses, nw_proto/nw_frag,
 *      the ports), visiting only the mask's words as the datapath classifier
 *      does, with three candidate word hashes:
 *        crc32c   one CRC32C instruction per word (lib/hash.h hash_add64()
 *                 with SSE4.2, as Open vSwitch does) + murmur3 finalizer;
 *        xxh3     the masked words copied to a stack buffer, then XXH3_64bits
 *                 (libxxhash) over it;
 *        murmur3  two murmur3 rounds per word (hash_mix32()) + finalizer;
 *      plus flow_hash_masked() itself, which scans all 20 mask words;
 *  (c) parse and masked hash together, per hash.
 *
 * Each case runs over 1024 distinct packets or flows (so the branch
 * predictor and the caches see a realistic spread, not one frame) for about
 * 0.5 s (0.05 s with --quick) and reports ns per packet.  Results feed every
 * hash and parse result into a volatile sink so that the compiler cannot drop
 * the work.
 */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "bench/bench.h"
#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "lib/hash.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "packet/headers.h"
#include "packet/packet.h"

#define N_PKTS 1024

static volatile uint64_t bench_sink;

/* ---- Frames ------------------------------------------------------------- */

/* TCP ACK with timestamps over IPv4: 66 bytes. */
static const uint8_t tcp4_frame[] = {
    0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x00, 0x16,
    0x3e, 0x11, 0x22, 0x33, 0x08, 0x00,             /* Ethernet. */
    0x45, 0x00, 0x00, 0x34, 0x12, 0x34, 0x40, 0x00, /* IPv4, DF, */
    0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, /* TTL 64, TCP, */
    0x0a, 0x00, 0x01, 0x02,                         /* 10.0.0.1 > 10.0.1.2 */
    0xc3, 0x50, 0x01, 0xbb, 0x00, 0x00, 0x10, 0x00, /* TCP 50000 > 443, */
    0x00, 0x00, 0x20, 0x00, 0x80, 0x10, 0x01, 0xf5, /* ACK, 12 bytes of */
    0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, /* options. */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
};

/* DNS-sized UDP over IPv4: 82 bytes. */
static const uint8_t udp4_frame[] = {
    0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x00, 0x16, 0x3e, 0x11, 0x22,
    0x33, 0x08, 0x00,                               /* Ethernet. */
    0x45, 0x00, 0x00, 0x44, 0x43, 0x21, 0x00, 0x00, /* IPv4, */
    0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, /* TTL 64, UDP, */
    0x0a, 0x00, 0x00, 0x35,                         /* 10.0.0.1 > .0.53 */
    0xd4, 0x31, 0x00, 0x35, 0x00, 0x30, 0x00, 0x00, /* UDP 54321 > 53. */
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, /* DNS query. */
    0x00, 0x00, 0x00, 0x00, 0x07, 'e',  'x',  'a',  'm',  'p',  'l',
    'e',  0x03, 'c',  'o',  'm',  0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* TCP SYN over IPv6 in an 802.1Q tag: 98 bytes. */
static const uint8_t tcp6_vlan_frame[] = {
    0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x00, 0x16, 0x3e, 0x11,
    0x22, 0x33, 0x81, 0x00, 0xa0, 0x64, 0x86, 0xdd, /* VLAN 100, PCP 5. */
    0x60, 0x01, 0x23, 0x45, 0x00, 0x28, 0x06, 0x40, /* IPv6, TCP, 40 B. */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* 2001:db8::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
    0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* 2001:db8::2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xa0, 0x00,
    0x00, 0x50, 0x00, 0x00, 0x00, 0x01,             /* TCP 40960 > 80, */
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xff, /* SYN, 20 bytes of */
    0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0, /* options. */
    0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* ARP request, padded to 60 bytes. */
static const uint8_t arp_frame[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16,
    0x3e, 0x11, 0x22, 0x33, 0x08, 0x06,             /* Ethernet. */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* Request. */
    0x00, 0x16, 0x3e, 0x11, 0x22, 0x33, 0x0a, 0x00, /* SHA, SPA */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* THA */
    0x0a, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, /* TPA, padding. */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

BUILD_ASSERT(sizeof tcp4_frame == 66);
BUILD_ASSERT(sizeof udp4_frame == 82);
BUILD_ASSERT(sizeof tcp6_vlan_frame == 98);
BUILD_ASSERT(sizeof arp_frame == ETH_TOTAL_MIN);

struct frame_template {
    const char *name;
    const uint8_t *bytes;
    size_t size;
    size_t vary_ofs; /* 4 bytes here differ per packet (address/port). */
};

static const struct frame_template templates[] = {
    {"tcp4", tcp4_frame, sizeof tcp4_frame, 34}, /* Ports. */
    {"udp4", udp4_frame, sizeof udp4_frame, 26}, /* nw_src. */
    {"tcp6-vlan", tcp6_vlan_frame, sizeof tcp6_vlan_frame, 36},
    {"arp", arp_frame, sizeof arp_frame, 28}, /* SPA. */
};

/* Fills 'pkts' with copies of template 'idx', or, if 'idx' is negative, a
 * mix (tcp4 50%, udp4 25%, tcp6-vlan 15%, arp 10%, interleaved), each with
 * 4 bytes made distinct so the flows differ. */
static void
make_packets(struct dp_packet *pkts[N_PKTS], int idx)
{
    static const int mix[20] = {0, 1, 0, 2, 0, 1, 0, 3, 0, 1,
                                0, 2, 0, 1, 0, 2, 0, 1, 3, 0};

    for (uint32_t i = 0; i < N_PKTS; i++) {
        const struct frame_template *t =
            &templates[idx >= 0 ? idx : mix[i % 20]];
        uint32_t vary = htonl(0x0a000000 | (i * 2654435761u >> 8));
        struct dp_packet *pkt = dp_packet_new_from_bytes(t->bytes, t->size, 0);

        memcpy((uint8_t *)dp_packet_data(pkt) + t->vary_ofs, &vary,
               sizeof vary);
        pkt->in_port = 1 + i % 4;
        pkts[i] = pkt;
    }
}

/* ---- Masked hashes ------------------------------------------------------ */

/* A typical megaflow mask: an L3/L4 ACL behind NORMAL. */
static void
make_megaflow_mask(struct flow_wildcards *wc)
{
    struct flow *m = &wc->masks;

    flow_wildcards_init_catchall(wc);
    m->in_port = UINT32_MAX;
    m->dl_dst = ETH_ADDR_BROADCAST;
    m->dl_src = ETH_ADDR_BROADCAST;
    m->dl_type = UINT16_MAX;
    m->nw_src = UINT32_MAX;
    m->nw_dst = htonl(0xffffff00);
    m->nw_proto = UINT8_MAX;
    m->nw_frag = FLOW_NW_FRAG_MASK;
    m->tp_dst = UINT16_MAX;
}

/* The mask as a datapath subtable keeps it: a word map and the nonzero
 * words in order. */
struct packed_mask {
    uint64_t map;
    unsigned int n;
    unsigned int idx[FLOW_U64S];
    uint64_t words[FLOW_U64S];
};

static void
pack_mask(struct packed_mask *pm, const struct flow_wildcards *wc)
{
    unsigned int idx;

    pm->map = flow_wildcards_map(wc);
    pm->n = 0;
    MAP_FOR_EACH_INDEX (idx, pm->map) {
        pm->idx[pm->n] = idx;
        pm->words[pm->n++] = flow_u64s(&wc->masks)[idx];
    }
}

static inline uint32_t
hash_masked_crc32c(const struct flow *flow, const struct packed_mask *pm)
{
    const uint64_t *f = flow_u64s(flow);
    uint32_t hash = 0;

    for (unsigned int i = 0; i < pm->n; i++) {
        hash = hash_add64(hash, f[pm->idx[i]] & pm->words[i]);
    }
    return hash_finish(hash, pm->n * 8);
}

static inline uint32_t
hash_masked_xxh3(const struct flow *flow, const struct packed_mask *pm)
{
    const uint64_t *f = flow_u64s(flow);
    uint64_t buf[FLOW_U64S];

    for (unsigned int i = 0; i < pm->n; i++) {
        buf[i] = f[pm->idx[i]] & pm->words[i];
    }
    return (uint32_t)XXH3_64bits(buf, pm->n * sizeof buf[0]);
}

static inline uint32_t
hash_masked_murmur3(const struct flow *flow, const struct packed_mask *pm)
{
    const uint64_t *f = flow_u64s(flow);
    uint32_t hash = 0;

    for (unsigned int i = 0; i < pm->n; i++) {
        uint64_t w = f[pm->idx[i]] & pm->words[i];

        hash = hash_mix32(hash, (uint32_t)w);
        hash = hash_mix32(hash, (uint32_t)(w >> 32));
    }
    return hash_finish(hash, pm->n * 8);
}

/* ---- Cases -------------------------------------------------------------- */

enum bench_hash {
    BH_NONE,
    BH_CRC32C,
    BH_XXH3,
    BH_MURMUR3,
    BH_LIB, /* flow_hash_masked(). */
};

static const char *const bench_hash_names[] = {[BH_NONE] = "",
                                               [BH_CRC32C] = "crc32c",
                                               [BH_XXH3] = "xxh3",
                                               [BH_MURMUR3] = "murmur3",
                                               [BH_LIB] = "flow_hash_masked"};

struct bench_ctx {
    struct dp_packet **pkts;
    struct flow *flows;
    const struct packed_mask *pm;
    const struct flow_wildcards *wc;
};

static inline uint32_t
bench_hash_one(enum bench_hash h, const struct bench_ctx *ctx,
               const struct flow *flow)
{
    switch (h) {
    case BH_CRC32C:
        return hash_masked_crc32c(flow, ctx->pm);
    case BH_XXH3:
        return hash_masked_xxh3(flow, ctx->pm);
    case BH_MURMUR3:
        return hash_masked_murmur3(flow, ctx->pm);
    case BH_LIB:
        return flow_hash_masked(flow, ctx->wc, 0);
    case BH_NONE:
    default:
        return 0;
    }
}

/* One pass over the N_PKTS packets or flows.  With 'parse', each packet is
 * parsed (into a per-packet flow, as a datapath batch would); with a hash,
 * each flow is then hashed. */
static uint64_t
bench_pass(const struct bench_ctx *ctx, bool parse, enum bench_hash h)
{
    uint64_t acc = 0;

    for (size_t i = 0; i < N_PKTS; i++) {
        struct flow *flow = &ctx->flows[i];

        if (parse) {
            acc += packet_parse(ctx->pkts[i], flow);
            acc += flow->tp_dst;
        }
        if (h != BH_NONE) {
            acc += bench_hash_one(h, ctx, flow);
        }
    }
    return acc;
}

struct bench_result {
    double ns_per_op;
    uint64_t ops;
};

static struct bench_result
bench_run(const struct bench_ctx *ctx, bool parse, enum bench_hash h,
          uint64_t target_ns)
{
    struct bench_result r;
    uint64_t start, elapsed, passes = 0;
    uint64_t acc = 0;

    acc += bench_pass(ctx, parse, h); /* Warm up caches and predictors. */
    start = time_nsec();
    do {
        acc += bench_pass(ctx, parse, h);
        passes++;
        elapsed = time_nsec() - start;
    } while (elapsed < target_ns);
    bench_sink += acc;

    r.ops = passes * N_PKTS;
    r.ns_per_op = (double)elapsed / (double)r.ops;
    return r;
}

static void
bench_parse_step(bool quick, int step, int n_cases, const char *case_name)
{
    bench_progress("parse", quick, step, n_cases, "%s", case_name);
}

static void
bench_report(bool json, const char *case_name, struct bench_result r)
{
    double mops = r.ns_per_op > 0 ? 1e3 / r.ns_per_op : 0;

    bench_progress_end();
    if (json) {
        printf("{\"bench\":\"parse\",\"case\":\"%s\",\"ns_per_op\":%.2f,"
               "\"mops\":%.2f,\"ops\":%llu}\n",
               case_name, r.ns_per_op, mops, (unsigned long long)r.ops);
    } else {
        printf("%-28s %10.2f %10.2f\n", case_name, r.ns_per_op, mops);
    }
    fflush(stdout);
}

static void
free_packets(struct dp_packet *pkts[N_PKTS])
{
    for (size_t i = 0; i < N_PKTS; i++) {
        dp_packet_delete(pkts[i]);
    }
}

int
bench_parse_main(int argc, char *argv[])
{
    static struct dp_packet *pkts[N_PKTS];
    static struct flow flows[N_PKTS];
    struct flow_wildcards wc;
    struct packed_mask pm;
    struct bench_ctx ctx = {pkts, flows, &pm, &wc};
    uint64_t target_ns = UINT64_C(500) * 1000 * 1000;
    const int n_cases = (int)ARRAY_SIZE(templates) + 1
                        + (BH_LIB - BH_CRC32C + 1)
                        + (BH_MURMUR3 - BH_CRC32C + 1);
    bool json = false, quick = false;
    char name[64];
    int step = 0;

    if (!bench_parse_options("flowswitch-bench parse", argc, argv, &quick,
                             &json)) {
        return 2;
    }
    if (quick) {
        target_ns = UINT64_C(50) * 1000 * 1000;
    }

    /* The frames above are hand-written: make sure each parses fully. */
    for (size_t t = 0; t < ARRAY_SIZE(templates); t++) {
        struct flow flow;
        enum packet_parse_error error;

        error = packet_parse_bytes(templates[t].bytes, templates[t].size, 0,
                                   &flow);
        if (error || (flow_is_ip(&flow) && !flow.tp_src)) {
            fprintf(stderr,
                    "flowswitch-bench parse: frame %s does not "
                    "parse (%s)\n",
                    templates[t].name, packet_parse_error_name(error));
            return 1;
        }
    }

    make_megaflow_mask(&wc);
    pack_mask(&pm, &wc);
    if (!json) {
        printf("parse: ns per packet (%u-word megaflow mask, %d packets "
               "per pass)\n",
               pm.n, N_PKTS);
        printf("%-28s %10s %10s\n", "case", "ns/op", "Mops/s");
    }

    /* (a) Parsing, per frame type and mixed. */
    for (int t = 0; t < (int)ARRAY_SIZE(templates); t++) {
        make_packets(pkts, t);
        snprintf(name, sizeof name, "parse/%s", templates[t].name);
        bench_parse_step(quick, ++step, n_cases, name);
        bench_report(json, name, bench_run(&ctx, true, BH_NONE, target_ns));
        free_packets(pkts);
    }
    make_packets(pkts, -1);
    bench_parse_step(quick, ++step, n_cases, "parse/mix");
    bench_report(json, "parse/mix", bench_run(&ctx, true, BH_NONE, target_ns));

    /* (b) Masked hash of the mix's flows (parsed into flows[] above). */
    for (enum bench_hash h = BH_CRC32C; h <= BH_LIB; h++) {
        snprintf(name, sizeof name, "hash/%s", bench_hash_names[h]);
        bench_parse_step(quick, ++step, n_cases, name);
        bench_report(json, name, bench_run(&ctx, false, h, target_ns));
    }

    /* (c) Both. */
    for (enum bench_hash h = BH_CRC32C; h <= BH_MURMUR3; h++) {
        snprintf(name, sizeof name, "parse+hash/%s", bench_hash_names[h]);
        bench_parse_step(quick, ++step, n_cases, name);
        bench_report(json, name, bench_run(&ctx, true, h, target_ns));
    }
    free_packets(pkts);
    return 0;
}
