/*
 * cmd/parse-pcap.c — `flowswitch-parse pcap [--json] [--in-port N] FILE...`
 *
 * Runs every frame of one or more Ethernet captures through the switch's
 * parser (flow/packet-parse.h), exactly as the datapath would on receive.
 *
 * Without --json it prints a summary: packets and wire bytes per protocol,
 * the frames the parser found truncated or malformed (by reason), the number
 * of distinct flow keys (what an exact-match cache would have to hold), and
 * the parser's cost in ns per packet, timed over batches of frames already
 * in memory so that file I/O does not count.
 *
 * With --json it prints one JSON object per packet holding every nonzero
 * field of its flow key under the ovs-ofctl field names (dl_src, nw_src,
 * tp_dst, nd_target, ...), plus "nw_frag" for every IP packet whose IP header
 * was parsed and "parse_error" when the parser stopped early.  That is the
 * form the system tests compare against an independent decoder (scapy).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/parse-cmds.h"
#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "lib/hmap.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "packet/headers.h"
#include "packet/packet.h"
#include "packet/pcap-file.h"

#define PROG "flowswitch-parse pcap"

/* Frames read before each timed parse run. */
#define PARSE_PCAP_CHUNK 256

/* ---- Per-protocol counts ------------------------------------------------ */

enum pcap_proto {
    PP_ETHERNET,
    PP_VLAN,
    PP_DOUBLE_VLAN,
    PP_LLC,
    PP_ARP,
    PP_IPV4,
    PP_IPV6,
    PP_TCP,
    PP_UDP,
    PP_SCTP,
    PP_ICMP,
    PP_ICMPV6,
    PP_ND,
    PP_FRAGMENT,
    PP_OTHER_L3,
    PP_MALFORMED,
    PP_N
};

static const char *const pcap_proto_names[PP_N] = {
    [PP_ETHERNET] = "ethernet",
    [PP_VLAN] = "vlan-tagged",
    [PP_DOUBLE_VLAN] = "double-tagged",
    [PP_LLC] = "802.3/llc",
    [PP_ARP] = "arp",
    [PP_IPV4] = "ipv4",
    [PP_IPV6] = "ipv6",
    [PP_TCP] = "tcp",
    [PP_UDP] = "udp",
    [PP_SCTP] = "sctp",
    [PP_ICMP] = "icmp",
    [PP_ICMPV6] = "icmpv6",
    [PP_ND] = "nd",
    [PP_FRAGMENT] = "fragments",
    [PP_OTHER_L3] = "other-l3",
    [PP_MALFORMED] = "malformed/truncated",
};

struct pcap_stats {
    uint64_t packets[PP_N];
    uint64_t bytes[PP_N];
    uint64_t errors[PARSE_N_ERRORS]; /* Frames per parse error. */
    uint64_t parse_nsec;             /* Time spent in packet_parse(). */
};

/* True if the frame's type/length field after its VLAN tags is a length:
 * an 802.3 frame, whether or not it carries SNAP. */
static bool
frame_is_8023(const struct dp_packet *pkt, const struct flow *flow)
{
    size_t ofs = 2 * ETH_ADDR_LEN + VLAN_HEADER_LEN * flow_n_vlans(flow);
    const uint8_t *p = dp_packet_data(pkt);

    return dp_packet_size(pkt) >= ofs + 2
           && ((p[ofs] << 8) | p[ofs + 1]) < ETH_TYPE_MIN;
}

static void
count_proto(struct pcap_stats *stats, enum pcap_proto proto, uint32_t len)
{
    stats->packets[proto]++;
    stats->bytes[proto] += len;
}

static void
count_packet(struct pcap_stats *stats, const struct dp_packet *pkt,
             const struct flow *flow, enum packet_parse_error error,
             uint32_t len)
{
    uint16_t dl_type = ntohs(flow->dl_type);
    unsigned int n_vlans = flow_n_vlans(flow);

    count_proto(stats, PP_ETHERNET, len);
    if (n_vlans) {
        count_proto(stats, PP_VLAN, len);
    }
    if (n_vlans > 1) {
        count_proto(stats, PP_DOUBLE_VLAN, len);
    }
    if (error != PARSE_OK) {
        count_proto(stats, PP_MALFORMED, len);
        stats->errors[error]++;
    }
    if (error == PARSE_TRUNCATED_ETH) {
        return;
    }
    if (frame_is_8023(pkt, flow)) {
        count_proto(stats, PP_LLC, len);
    }

    if (dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP) {
        count_proto(stats, PP_ARP, len);
        return;
    } else if (dl_type == ETH_TYPE_IP) {
        count_proto(stats, PP_IPV4, len);
    } else if (dl_type == ETH_TYPE_IPV6) {
        count_proto(stats, PP_IPV6, len);
    } else {
        count_proto(stats, PP_OTHER_L3, len);
        return;
    }

    if (flow->nw_frag & FLOW_NW_FRAG_ANY) {
        count_proto(stats, PP_FRAGMENT, len);
    }
    switch (flow->nw_proto) {
    case IPPROTO_TCP_:
        count_proto(stats, PP_TCP, len);
        break;
    case IPPROTO_UDP_:
        count_proto(stats, PP_UDP, len);
        break;
    case IPPROTO_SCTP_:
        count_proto(stats, PP_SCTP, len);
        break;
    case IPPROTO_ICMP_:
        count_proto(stats, PP_ICMP, len);
        break;
    case IPPROTO_ICMPV6_: {
        uint16_t type = ntohs(flow->tp_src);

        count_proto(stats, PP_ICMPV6, len);
        if (dl_type == ETH_TYPE_IPV6 && !flow->tp_dst
            && (type == ND_NEIGHBOR_SOLICIT || type == ND_NEIGHBOR_ADVERT)) {
            count_proto(stats, PP_ND, len);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- Distinct flow keys ------------------------------------------------- */

/* The distinct flow keys seen, one node per key in a lib/hmap.h map. */
struct flow_set {
    struct hmap flows; /* struct flow_set_node, by flow_hash(). */
};

struct flow_set_node {
    struct hmap_node node;
    struct flow flow;
};

static void
flow_set_init(struct flow_set *set)
{
    hmap_init(&set->flows);
}

static void
flow_set_destroy(struct flow_set *set)
{
    struct flow_set_node *n;

    HMAP_FOR_EACH_SAFE (n, node, &set->flows) {
        free(n);
    }
    hmap_destroy(&set->flows);
}

/* Adds 'flow' to 'set' unless it is there already. */
static void
flow_set_insert(struct flow_set *set, const struct flow *flow)
{
    uint32_t hash = flow_hash(flow, 0);
    struct flow_set_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash, &set->flows) {
        if (flow_equal(&n->flow, flow)) {
            return;
        }
    }
    n = xmalloc(sizeof *n);
    n->flow = *flow;
    hmap_insert(&set->flows, &n->node, hash);
}

static size_t
flow_set_count(const struct flow_set *set)
{
    return hmap_count(&set->flows);
}

/* ---- JSON --------------------------------------------------------------- */

static void
json_set_string(json_t *obj, const char *key, const char *s)
{
    json_object_set_new(obj, key, json_string(s));
}

static void json_set_format(json_t *obj, const char *key, const char *fmt, ...)
    PRINTF_FORMAT(3, 4);

static void
json_set_format(json_t *obj, const char *key, const char *fmt, ...)
{
    char buf[64];
    va_list args;

    va_start(args, fmt);
    vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    json_set_string(obj, key, buf);
}

static void
json_set_uint(json_t *obj, const char *key, uint64_t value)
{
    json_object_set_new(obj, key, json_integer((json_int_t)value));
}

static void
json_set_mac(json_t *obj, const char *key, struct eth_addr mac)
{
    if (!eth_addr_is_zero(mac)) {
        json_set_format(obj, key, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
    }
}

static void
json_set_ip(json_t *obj, const char *key, be32 ip)
{
    if (ip) {
        json_set_format(obj, key, IP_FMT, IP_ARGS(ip));
    }
}

static void
json_set_ipv6(json_t *obj, const char *key, const struct in6_addr *ip6)
{
    char buf[INET6_ADDRSTRLEN];

    if (!is_all_zeros(ip6, sizeof *ip6)
        && inet_ntop(AF_INET6, ip6, buf, sizeof buf)) {
        json_set_string(obj, key, buf);
    }
}

static void
json_set_vlan(json_t *obj, const struct flow_vlan *vlan, const char *suffix)
{
    uint16_t tci = ntohs(vlan->tci);
    char key[32];

    snprintf(key, sizeof key, "vlan_tci%s", suffix);
    json_set_format(obj, key, "0x%04" PRIx16, tci);
    snprintf(key, sizeof key, "dl_vlan%s", suffix);
    json_set_uint(obj, key, tci & VLAN_VID_MASK);
    snprintf(key, sizeof key, "dl_vlan_pcp%s", suffix);
    json_set_uint(obj, key, (tci & VLAN_PCP_MASK) >> VLAN_PCP_SHIFT);
    snprintf(key, sizeof key, "vlan_tpid%s", suffix);
    json_set_format(obj, key, "0x%04" PRIx16, ntohs(vlan->tpid));
}

static const char *
nw_frag_name(uint8_t nw_frag)
{
    return !(nw_frag & FLOW_NW_FRAG_ANY)     ? "no"
           : !(nw_frag & FLOW_NW_FRAG_LATER) ? "first"
                                             : "later";
}

static void
json_set_l4(json_t *obj, const struct flow *flow, bool is_ipv6)
{
    /* As in ovs-ofctl: type and code are "icmp_*" only for the ICMP of the
     * packet's own IP version; otherwise they are plain ports. */
    bool is_icmp =
        flow->nw_proto == (is_ipv6 ? IPPROTO_ICMPV6_ : IPPROTO_ICMP_);

    if (flow->tp_src) {
        json_set_uint(obj, is_icmp ? "icmp_type" : "tp_src",
                      ntohs(flow->tp_src));
    }
    if (flow->tp_dst) {
        json_set_uint(obj, is_icmp ? "icmp_code" : "tp_dst",
                      ntohs(flow->tp_dst));
    }
    if (flow->tcp_flags) {
        json_set_format(obj, "tcp_flags", "0x%03" PRIx16,
                        ntohs(flow->tcp_flags));
    }
    if (is_ipv6) {
        json_set_ipv6(obj, "nd_target", &flow->nd_target);
        json_set_mac(obj, "nd_sll", flow->arp_sha);
        json_set_mac(obj, "nd_tll", flow->arp_tha);
    }
}

static json_t *
flow_to_json(const struct flow *flow, const struct dp_packet *pkt,
             enum packet_parse_error error)
{
    uint16_t dl_type = ntohs(flow->dl_type);
    json_t *obj = json_object();

    if (flow->in_port) {
        json_set_uint(obj, "in_port", flow->in_port);
    }
    json_set_mac(obj, "dl_src", flow->dl_src);
    json_set_mac(obj, "dl_dst", flow->dl_dst);
    if (flow->dl_type) {
        json_set_format(obj, "dl_type", "0x%04" PRIx16, dl_type);
    }
    if (flow->vlans[0].tci) {
        json_set_vlan(obj, &flow->vlans[0], "");
    }
    if (flow->vlans[1].tci) {
        json_set_vlan(obj, &flow->vlans[1], "1");
    }

    if (dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP) {
        json_set_ip(obj, "arp_spa", flow->nw_src);
        json_set_ip(obj, "arp_tpa", flow->nw_dst);
        if (flow->nw_proto) {
            json_set_uint(obj, "arp_op", flow->nw_proto);
        }
        json_set_mac(obj, "arp_sha", flow->arp_sha);
        json_set_mac(obj, "arp_tha", flow->arp_tha);
    } else if (dl_type == ETH_TYPE_IP || dl_type == ETH_TYPE_IPV6) {
        bool is_ipv6 = dl_type == ETH_TYPE_IPV6;

        json_set_ip(obj, "nw_src", flow->nw_src);
        json_set_ip(obj, "nw_dst", flow->nw_dst);
        json_set_ipv6(obj, "ipv6_src", &flow->ipv6_src);
        json_set_ipv6(obj, "ipv6_dst", &flow->ipv6_dst);
        if (flow->ipv6_label) {
            json_set_format(obj, "ipv6_label", "0x%05" PRIx32,
                            ntohl(flow->ipv6_label));
        }
        if (flow->nw_proto) {
            json_set_uint(obj, "nw_proto", flow->nw_proto);
        }
        if (flow->nw_tos & IP_DSCP_MASK) {
            json_set_uint(obj, "nw_tos", flow->nw_tos & IP_DSCP_MASK);
        }
        if (flow->nw_tos & IP_ECN_MASK) {
            json_set_uint(obj, "nw_ecn", flow->nw_tos & IP_ECN_MASK);
        }
        if (flow->nw_ttl) {
            json_set_uint(obj, "nw_ttl", flow->nw_ttl);
        }
        /* The parser sets the L4 offset exactly when the IP header (and
         * IPv6 extension headers) parsed, i.e. when nw_frag is meaningful. */
        if (pkt->l4_ofs != DP_PACKET_OFS_NONE) {
            json_set_string(obj, "nw_frag", nw_frag_name(flow->nw_frag));
        }
        json_set_l4(obj, flow, is_ipv6);
    }
    if (error != PARSE_OK) {
        json_set_string(obj, "parse_error", packet_parse_error_name(error));
    }
    return obj;
}

static void
print_json(const struct flow *flow, const struct dp_packet *pkt,
           enum packet_parse_error error)
{
    json_t *obj = flow_to_json(flow, pkt, error);
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

    puts(s);
    free(s);
    json_decref(obj);
}

/* ---- Summary ------------------------------------------------------------ */

static void
print_summary(const struct pcap_stats *stats, const struct flow_set *flows)
{
    uint64_t n = stats->packets[PP_ETHERNET];

    printf("%-22s %12s %14s\n", "protocol", "packets", "bytes");
    for (int i = 0; i < PP_N; i++) {
        printf("%-22s %12" PRIu64 " %14" PRIu64 "\n", pcap_proto_names[i],
               stats->packets[i], stats->bytes[i]);
    }
    for (int i = PARSE_OK + 1; i < PARSE_N_ERRORS; i++) {
        if (stats->errors[i]) {
            printf("  %-20s %12" PRIu64 "\n", packet_parse_error_name(i),
                   stats->errors[i]);
        }
    }
    printf("distinct flows: %zu\n", flow_set_count(flows));
    printf("parse: %.1f ns/packet\n",
           n ? (double)stats->parse_nsec / (double)n : 0.0);
}

/* ---- Main --------------------------------------------------------------- */

struct parse_pcap_options {
    bool json;
    uint32_t in_port;
};

struct parse_pcap_chunk {
    struct dp_packet *pkts[PARSE_PCAP_CHUNK];
    uint32_t wire_len[PARSE_PCAP_CHUNK];
    struct flow flows[PARSE_PCAP_CHUNK];
    enum packet_parse_error errors[PARSE_PCAP_CHUNK];
};

/* Parses the first 'n' packets of 'chunk', timing the parse alone, then
 * prints or counts them. */
static void
process_chunk(struct parse_pcap_chunk *chunk, size_t n,
              const struct parse_pcap_options *opts, struct pcap_stats *stats,
              struct flow_set *flows)
{
    uint64_t start = time_nsec();

    for (size_t i = 0; i < n; i++) {
        chunk->errors[i] = packet_parse(chunk->pkts[i], &chunk->flows[i]);
    }
    stats->parse_nsec += time_nsec() - start;

    for (size_t i = 0; i < n; i++) {
        if (opts->json) {
            print_json(&chunk->flows[i], chunk->pkts[i], chunk->errors[i]);
        } else {
            count_packet(stats, chunk->pkts[i], &chunk->flows[i],
                         chunk->errors[i], chunk->wire_len[i]);
            flow_set_insert(flows, &chunk->flows[i]);
        }
    }
}

/* Reads and processes all of 'file_name'.  Returns 0 or an errno value after
 * printing one error line. */
static int
process_file(const char *file_name, struct parse_pcap_chunk *chunk,
             const struct parse_pcap_options *opts, struct pcap_stats *stats,
             struct flow_set *flows)
{
    struct pcap_reader *reader;
    char *msg = NULL;
    int error;

    error = pcap_reader_open(file_name, &reader, &msg);
    while (!error) {
        size_t n = 0;

        while (n < PARSE_PCAP_CHUNK) {
            struct pcap_record rec;

            error = pcap_reader_read(reader, chunk->pkts[n], &rec, &msg);
            if (error) {
                break;
            }
            chunk->pkts[n]->in_port = opts->in_port;
            chunk->wire_len[n] = rec.wire_len;
            n++;
        }
        process_chunk(chunk, n, opts, stats, flows);
    }
    pcap_reader_close(reader);
    if (error == EOF) {
        return 0;
    }
    fprintf(stderr, "%s: %s\n", PROG, msg);
    free(msg);
    return error;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: flowswitch-parse pcap [--json] [--in-port N] FILE...\n"
            "  --json       one JSON object per packet (its flow key)\n"
            "  --in-port N  input port to record in every flow (default "
            "0)\n");
}

static bool
parse_port(const char *s, uint32_t *port)
{
    unsigned long long value;
    char *end;

    if (!s || !*s || *s == '-') {
        return false;
    }
    errno = 0;
    value = strtoull(s, &end, 0);
    if (errno || *end || value > UINT32_MAX) {
        return false;
    }
    *port = (uint32_t)value;
    return true;
}

int
parse_pcap_main(int argc, char *argv[])
{
    struct parse_pcap_options opts = {false, 0};
    struct parse_pcap_chunk *chunk;
    struct pcap_stats stats;
    struct flow_set flows;
    int first_file = argc;
    int status = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "--json")) {
            opts.json = true;
        } else if (!strcmp(arg, "--in-port")
                   || !strncmp(arg, "--in-port=", 10)) {
            const char *value = arg[9] == '=' ? arg + 10 : argv[++i];

            if (!parse_port(i < argc ? value : NULL, &opts.in_port)) {
                fprintf(stderr,
                        "%s: bad --in-port \"%s\" (expected a port number "
                        "from 0 to 4294967295)\n",
                        PROG, i < argc && value ? value : "");
                return 2;
            }
        } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(arg, "--")) {
            first_file = i + 1;
            break;
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "%s: unknown option \"%s\" (try --help)\n", PROG,
                    arg);
            return 2;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file >= argc) {
        usage(stderr);
        return 2;
    }

    memset(&stats, 0, sizeof stats);
    flow_set_init(&flows);
    chunk = xmalloc(sizeof *chunk);
    for (size_t i = 0; i < PARSE_PCAP_CHUNK; i++) {
        chunk->pkts[i] = dp_packet_new(DP_PACKET_HEADROOM, 2048);
    }

    for (int i = first_file; i < argc; i++) {
        if (process_file(argv[i], chunk, &opts, &stats, &flows)) {
            status = 1;
            break;
        }
    }
    if (!status && !opts.json) {
        print_summary(&stats, &flows);
    }
    fflush(stdout);

    for (size_t i = 0; i < PARSE_PCAP_CHUNK; i++) {
        dp_packet_delete(chunk->pkts[i]);
    }
    free(chunk);
    flow_set_destroy(&flows);
    return status;
}
