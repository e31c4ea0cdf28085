/* libFuzzer target for capture files: the pcap reader (packet/pcap-file.h)
 * and the pcap port that replays one (netdev/netdev-pcap.c).
 *
 * The input's first byte chooses the number of passes of the port's replay
 * (1 or 2, loop=N); the rest is written to a memory file and read twice:
 *
 *  1. with pcap_reader_open()/pcap_reader_read(): an open or read either
 *     succeeds or fails with one line that names the file; every frame
 *     read has caplen <= its wire length and is parsed as the datapath
 *     would (flow/packet-parse.h); the reader stops at EOF or at its first
 *     error;
 *  2. through a pcap port (netdev_open(type "pcap", rx=FILE, loop=N)),
 *     received to its EOF: it must hand out exactly the frames the reader
 *     read, once per pass (only one pass if the file is damaged), count
 *     them in rx_packets and rx_bytes, and a damaged file in rx_errors
 *     once.
 * Any violation aborts.
 *
 *   make fuzz-build && build-fuzz/tests/fuzz/fuzz_pcap tests/fuzz/corpus/pcap
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "lib/vlog.h"
#include "netdev/netdev.h"
#include "packet/packet.h"
#include "packet/pcap-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_pcap"
#include "fuzz-check.h"

/* Frames read per file at most: the fuzzer's files are small, but a
 * record header may claim little and repeat. */
#define MAX_FRAMES 4096

static void
check_error_line(const char *error, const char *path)
{
    CHECK(error != NULL);
    CHECK(!strncmp(error, path, strlen(path)));
    CHECK(!strchr(error, '\n'));
}

/* Reads every frame of 'path' with the reader.  Returns the number of
 * frames and their bytes in '*bytesp'; '*damagedp' says whether the
 * reader stopped on an error rather than at EOF.  Returns -1 if the file
 * does not open. */
static long
read_with_reader(const char *path, uint64_t *bytesp, bool *damagedp)
{
    struct pcap_reader *reader;
    struct dp_packet *pkt;
    char *error = NULL;
    long n = 0;
    int retval;

    *bytesp = 0;
    *damagedp = false;
    retval = pcap_reader_open(path, &reader, &error);
    if (retval) {
        CHECK(retval > 0);
        check_error_line(error, path);
        free(error);
        return -1;
    }
    CHECK(!error);
    CHECK(!strcmp(pcap_reader_name(reader), path));

    pkt = dp_packet_new(0, 2048);
    while (n < MAX_FRAMES) {
        struct pcap_record rec;
        struct flow flow;

        retval = pcap_reader_read(reader, pkt, &rec, &error);
        if (retval == EOF) {
            break;
        } else if (retval) {
            CHECK(retval == EIO);
            check_error_line(error, path);
            free(error);
            error = NULL;
            *damagedp = true;
            break;
        }
        CHECK(dp_packet_size(pkt) <= rec.wire_len);
        CHECK(pkt->l3_ofs == DP_PACKET_OFS_NONE);
        pkt->in_port = 1;
        packet_parse(pkt, &flow);
        *bytesp += dp_packet_size(pkt);
        n++;
    }
    dp_packet_delete(pkt);
    pcap_reader_close(reader);
    return n;
}

/* Replays 'path' through a pcap port for 'loops' passes and checks what it
 * hands out against the reader's count. */
static void
replay_with_port(const char *path, unsigned int loops, long n_frames,
                 uint64_t n_bytes, bool damaged)
{
    struct netdev_options opts;
    struct netdev_stats stats;
    struct netdev *netdev;
    char *error = NULL;
    uint64_t got = 0, got_bytes = 0;
    int retval;

    memset(&opts, 0, sizeof opts);
    opts.rx_path = path;
    opts.loops = loops;
    retval = netdev_open("fuzz", "pcap", &opts, &netdev, &error);
    if (n_frames < 0) {
        /* A file the reader refuses, the port refuses too. */
        CHECK(retval);
        CHECK(error && !strchr(error, '\n'));
        free(error);
        return;
    }
    CHECK(!retval);

    for (;;) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        retval = netdev_recv(netdev, &batch);
        if (retval == EOF) {
            break;
        }
        CHECK(!retval || retval == EAGAIN);
        for (size_t i = 0; i < batch.count; i++) {
            got_bytes += dp_packet_size(batch.packets[i]);
        }
        got += batch.count;
        CHECK(got <= (uint64_t)MAX_FRAMES * loops);
        netdev_batch_recycle(&batch);
    }

    /* A damaged file ends the replay at its first error; a file with no
     * frame is not looped. */
    uint64_t passes = damaged || !n_frames ? 1 : loops;
    netdev_get_stats(netdev, &stats);
    if (n_frames < MAX_FRAMES) {
        CHECK(got == passes * (uint64_t)n_frames);
        CHECK(got_bytes == passes * n_bytes);
        CHECK(stats.rx_errors == (damaged ? 1 : 0));
    }
    CHECK(stats.rx_packets == got && stats.rx_bytes == got_bytes);
    CHECK(stats.rx_dropped == 0);
    netdev_close(netdev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    unsigned int loops = 1;
    char path[64];
    uint64_t bytes;
    bool damaged;
    long n;
    int fd;

    if (!quiet) {
        /* Damaged files are expected here: keep their warnings out of the
         * fuzzer's output. */
        char *error = NULL;

        vlog_set_spec("ANY:off", &error);
        free(error);
        quiet = true;
    }
    if (size) {
        loops = 1 + (data[0] & 1);
        data++;
        size--;
    }
    fd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(write(fd, data, size) == (ssize_t)size);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    n = read_with_reader(path, &bytes, &damaged);
    replay_with_port(path, loops, n, bytes, damaged);
    close(fd);
    netdev_pool_purge();
    return 0;
}
