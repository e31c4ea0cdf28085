/* netdev/netdev-pcap.c — the `pcap` port: rx replays a capture file, tx
 * writes one (see netdev.h).
 *
 * Receive.  Unpaced (rate=0), recv reads up to a batch of frames straight
 * from the file: a lossless replay, as fast as the datapath takes it, whose
 * rx fd (an eventfd) is always readable.  Paced (rate=PPS), frame k of the
 * replay (counting across loops) is due at start + k / PPS seconds on the
 * monotonic clock, where start is the first recv (not the open: the
 * datapath may start polling much later); recv hands out only frames that
 * are due, and the rx fd is a timerfd armed for the next one, so an idle
 * poll thread sleeps until then.  A paced port behaves like a wire
 * feeding a NIC with a bounded rx ring: when the datapath falls more than
 * 'backlog' frames behind (ring_size, default NETDEV_PCAP_BACKLOG), the
 * excess frames are read and dropped, counted in rx_dropped and
 * netdev_pcap_rx_overrun, instead of silently slowing the replay down.
 * Frames the capture does not have never fall due (the file is counted
 * once at open), so a capture shorter than the ring cannot overrun it.  With loop=N the file is replayed N
 * times (reopened each time); recv returns EOF after the last pass, and
 * keeps the rx fd readable so a poller notices.  A damaged file ends the
 * replay early, counted in rx_errors and netdev_pcap_rx_error.
 *
 * Transmit.  Every frame sent is appended to the tx file (timestamped with
 * the wall clock), under a mutex since several threads may send.  libpcap
 * buffers output; it is flushed by netdev_flush(), at close, and by the
 * first send NETDEV_PCAP_FLUSH_MS or more after the last flush, so that
 * `tcpdump -r` sees a live capture.
 * A port without tx=FILE counts every frame it is asked to send as
 * tx_dropped (netdev_pcap_tx_no_file): it has nowhere to send it.  A write
 * error counts the frame in tx_errors (netdev_pcap_tx_error): sent, dropped
 * and failed frames add up to the frames offered.
 *
 * A pcap port with neither rx nor tx is valid: recv returns EOF at once.
 *
 * Thread safety: the rx state belongs to the polling thread; the tx state
 * is guarded by 'tx_mutex'. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/coverage.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vlog.h"
#include "netdev/netdev-provider.h"
#include "packet/pcap-file.h"

VLOG_DEFINE_THIS_MODULE(netdev_pcap);

COVERAGE_DEFINE(netdev_pcap_rx_error);
COVERAGE_DEFINE(netdev_pcap_rx_overrun);
COVERAGE_DEFINE(netdev_pcap_tx_error);
COVERAGE_DEFINE(netdev_pcap_tx_no_file);

/* Frames a paced replay may fall behind before it drops (a NIC rx ring). */
#define NETDEV_PCAP_BACKLOG 1024
/* Longest a sent frame stays in libpcap's buffer. */
#define NETDEV_PCAP_FLUSH_MS 100

static struct vlog_rate_limit netdev_pcap_rl = VLOG_RATE_LIMIT_INIT(5, 5);

struct netdev_pcap {
    struct netdev up;

    /* Receive side: owned by the polling thread. */
    char *rx_path;              /* NULL: no rx. */
    struct pcap_reader *reader; /* NULL once the replay has ended. */
    unsigned int loops_left;    /* Passes still to start after this one. */
    uint64_t pass_packets;      /* Frames read in the current pass. */
    uint64_t rate_pps;          /* 0: unpaced. */
    uint64_t start_ns;          /* Monotonic time frame 0 was due (0: the
                                 * replay has not started). */
    uint64_t n_done;            /* Frames handed out or dropped. */
    uint64_t backlog;           /* Paced: most frames to fall behind. */
    uint64_t n_frames;          /* Paced: frames in the whole replay. */
    int rx_fd;                  /* eventfd (unpaced) or timerfd (paced). */

    /* Transmit side. */
    pthread_mutex_t tx_mutex;
    struct pcap_writer *writer; /* NULL: no tx. Guarded by tx_mutex. */
    uint64_t last_flush_ms;     /* Guarded by tx_mutex. */
};

static struct netdev_pcap *
netdev_pcap_cast(const struct netdev *netdev)
{
    return CONTAINER_OF(netdev, struct netdev_pcap, up);
}

/* Arms the paced rx timerfd to expire at monotonic time 'when_ns' (a time
 * in the past expires at once). */
static void
netdev_pcap_arm_timer(struct netdev_pcap *dev, uint64_t when_ns)
{
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(when_ns / 1000000000u),
                     .tv_nsec = (long)(when_ns % 1000000000u)},
    };

    if (!its.it_value.tv_sec && !its.it_value.tv_nsec) {
        its.it_value.tv_nsec = 1; /* All zeros would disarm. */
    }
    timerfd_settime(dev->rx_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void
netdev_pcap_drain_timer(struct netdev_pcap *dev)
{
    uint64_t expirations;

    if (read(dev->rx_fd, &expirations, sizeof expirations) < 0) {
        return; /* EAGAIN: not expired. */
    }
}

/* Turns an error from pcap-file.h ("FILE: reason", where libpcap's reason
 * sometimes repeats "FILE: ") into "rx file FILE: reason". */
static char *
netdev_pcap_file_error(const char *what, const char *path, char *error,
                       int retval)
{
    const char *reason = error ? error : strerror(retval);
    size_t len = strlen(path);
    char *detail;

    while (!strncmp(reason, path, len) && !strncmp(reason + len, ": ", 2)) {
        reason += len + 2;
    }
    detail = xasprintf("%s file %s: %s", what, path, reason);
    free(error);
    return detail;
}

/* Frames in one pass of the capture at 'path' (up to a damaged record,
 * where the replay stops too). */
static uint64_t
netdev_pcap_count_frames(const char *path)
{
    struct pcap_reader *reader;
    struct dp_packet *pkt;
    char *error = NULL;
    uint64_t n = 0;

    if (pcap_reader_open(path, &reader, &error)) {
        free(error);
        return 0;
    }
    pkt = dp_packet_new(0, 0);
    while (!pcap_reader_read(reader, pkt, NULL, &error)) {
        n++;
    }
    free(error);
    dp_packet_delete(pkt);
    pcap_reader_close(reader);
    return n;
}

static int
netdev_pcap_open_rx(struct netdev_pcap *dev,
                    const struct netdev_options *options, char **detailp)
{
    char *error = NULL;
    int retval;

    dev->rx_path = xstrdup(options->rx_path);
    retval = pcap_reader_open(dev->rx_path, &dev->reader, &error);
    if (retval) {
        *detailp = netdev_pcap_file_error("rx", dev->rx_path, error, retval);
        return retval;
    }
    dev->loops_left = options->loops > 1 ? options->loops - 1 : 0;
    dev->rate_pps = options->rate_pps;
    dev->backlog =
        options->ring_size ? options->ring_size : NETDEV_PCAP_BACKLOG;
    if (dev->rate_pps) {
        /* A frame the capture does not have never arrives, so it cannot
         * fill the backlog: the count bounds what falls due. */
        dev->n_frames =
            netdev_pcap_count_frames(dev->rx_path) * (dev->loops_left + 1);
    }
    return 0;
}

static int
netdev_pcap_open(const char *name, const struct netdev_options *options,
                 struct netdev **netdevp, char **detailp)
{
    struct netdev_pcap *dev = xzalloc(sizeof *dev);
    int retval;

    netdev_init(&dev->up, &netdev_pcap_class, name);
    pthread_mutex_init(&dev->tx_mutex, NULL);
    dev->rx_fd = -1;

    if (options->rx_path) {
        retval = netdev_pcap_open_rx(dev, options, detailp);
        if (retval) {
            goto error;
        }
    }
    if (options->tx_path) {
        char *error = NULL;

        retval = pcap_writer_open(options->tx_path, &dev->writer, &error);
        if (retval) {
            *detailp =
                netdev_pcap_file_error("tx", options->tx_path, error, retval);
            goto error;
        }
        dev->last_flush_ms = time_msec();
    }

    if (dev->reader && dev->rate_pps) {
        dev->rx_fd =
            timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (dev->rx_fd < 0) {
            retval = errno;
            goto error;
        }
        /* The clock starts at the first recv, not now: the datapath may
         * start polling long after the port is opened. */
        netdev_pcap_arm_timer(dev, 0);
    } else {
        /* Always ready: frames to read at full speed, or EOF to report. */
        dev->rx_fd = netdev_eventfd_create();
        if (dev->rx_fd < 0) {
            retval = errno;
            goto error;
        }
        netdev_eventfd_signal(dev->rx_fd);
    }
    *netdevp = &dev->up;
    return 0;

error:
    netdev_pcap_class.close(&dev->up);
    return retval;
}

static void
netdev_pcap_close(struct netdev *netdev)
{
    struct netdev_pcap *dev = netdev_pcap_cast(netdev);

    pcap_reader_close(dev->reader);
    free(dev->rx_path);
    if (dev->writer) {
        char *error = NULL;

        if (pcap_writer_close(dev->writer, &error)) {
            VLOG_WARN("%s: closing tx capture: %s", netdev->name, error);
            free(error);
        }
    }
    if (dev->rx_fd >= 0) {
        close(dev->rx_fd);
    }
    pthread_mutex_destroy(&dev->tx_mutex);
    netdev_uninit(&dev->up);
    free(dev);
}

/* Ends the replay: no more frames, recv returns EOF, the fd stays readable
 * so that a poller finds out. */
static void
netdev_pcap_end_replay(struct netdev_pcap *dev)
{
    pcap_reader_close(dev->reader);
    dev->reader = NULL;
    if (dev->rate_pps) {
        netdev_pcap_arm_timer(dev, 0);
    }
}

/* Starts the next pass of a looped replay.  Returns false if there is
 * none. */
static bool
netdev_pcap_next_pass(struct netdev_pcap *dev)
{
    char *error = NULL;
    int retval;

    /* An empty file would loop forever without producing a frame. */
    if (!dev->loops_left || !dev->pass_packets) {
        return false;
    }
    dev->loops_left--;
    dev->pass_packets = 0;
    pcap_reader_close(dev->reader);
    dev->reader = NULL;
    retval = pcap_reader_open(dev->rx_path, &dev->reader, &error);
    if (retval) {
        COVERAGE_INC(netdev_pcap_rx_error);
        netdev_count_rx_error(&dev->up, 1);
        VLOG_WARN("%s: cannot reopen capture to loop: %s", dev->up.name,
                  error ? error : strerror(retval));
        free(error);
        return false;
    }
    return true;
}

/* Reads the next frame of the replay into a pool packet.  Returns NULL at
 * the end of the replay (which it then ends). */
static struct dp_packet *
netdev_pcap_read_frame(struct netdev_pcap *dev)
{
    struct dp_packet *pkt;

    if (!dev->reader) {
        return NULL;
    }
    pkt = netdev_packet_alloc();
    for (;;) {
        char *error = NULL;
        int retval = pcap_reader_read(dev->reader, pkt, NULL, &error);

        if (!retval) {
            dev->pass_packets++;
            return pkt;
        } else if (retval != EOF) {
            COVERAGE_INC(netdev_pcap_rx_error);
            netdev_count_rx_error(&dev->up, 1);
            VLOG_WARN_RL(&netdev_pcap_rl, "%s: replay stops: %s", dev->up.name,
                         error ? error : strerror(retval));
            free(error);
            break;
        } else if (!netdev_pcap_next_pass(dev)) {
            break;
        }
    }
    netdev_packet_recycle(pkt);
    netdev_pcap_end_replay(dev);
    return NULL;
}

/* Paced replay: how many frames are due by now and not yet handed out.
 * Drops (reads and discards) those beyond the backlog. */
static uint64_t
netdev_pcap_frames_due(struct netdev_pcap *dev)
{
    uint64_t elapsed = time_nsec() - dev->start_ns;
    uint64_t due =
        (uint64_t)((unsigned __int128)elapsed * dev->rate_pps / 1000000000u)
        + 1;
    uint64_t late;

    if (due > dev->n_frames) {
        due = dev->n_frames;
    }
    late = due > dev->n_done ? due - dev->n_done : 0;

    if (late > dev->backlog) {
        uint64_t dropped = 0;

        for (; late > dev->backlog; late--) {
            struct dp_packet *pkt = netdev_pcap_read_frame(dev);

            if (!pkt) {
                break;
            }
            netdev_packet_recycle(pkt);
            dev->n_done++;
            dropped++;
        }
        COVERAGE_ADD(netdev_pcap_rx_overrun, dropped);
        netdev_count_rx_drop(&dev->up, dropped);
    }
    return late;
}

/* Monotonic time frame 'k' of a paced replay is due. */
static uint64_t
netdev_pcap_due_time(const struct netdev_pcap *dev, uint64_t k)
{
    return dev->start_ns
           + (uint64_t)((unsigned __int128)k * 1000000000u / dev->rate_pps);
}

static int
netdev_pcap_recv(struct netdev *netdev, struct dp_packet_batch *batch)
{
    struct netdev_pcap *dev = netdev_pcap_cast(netdev);
    unsigned int max = PACKET_BATCH_MAX;
    uint64_t bytes = 0;

    if (!dev->reader) {
        return EOF;
    }
    if (dev->rate_pps) {
        if (!dev->start_ns) {
            dev->start_ns = time_nsec();
        }
        netdev_pcap_drain_timer(dev);
        /* Once: MIN() evaluates its arguments twice, and frames fall due
         * between two calls (a batch overflow, found by the churn test). */
        uint64_t due = netdev_pcap_frames_due(dev);

        /* Once every frame has been handed out, the next read finds the
         * end of the replay. */
        if (dev->n_done < dev->n_frames) {
            max = (unsigned int)MIN(due, (uint64_t)max);
        }
    }
    while (batch->count < max) {
        struct dp_packet *pkt = netdev_pcap_read_frame(dev);

        if (!pkt) {
            break;
        }
        bytes += dp_packet_size(pkt);
        batch->packets[batch->count++] = pkt;
    }
    dev->n_done += batch->count;
    if (dev->rate_pps && dev->reader) {
        /* Wake the poller when the next frame is due (at once if it already
         * is). */
        netdev_pcap_arm_timer(dev, netdev_pcap_due_time(dev, dev->n_done));
    }

    if (!batch->count) {
        return dev->reader ? EAGAIN : EOF;
    }
    netdev_count_rx(netdev, batch->count, bytes);
    return 0;
}

static int
netdev_pcap_get_rx_fd(const struct netdev *netdev)
{
    return netdev_pcap_cast(netdev)->rx_fd;
}

/* Flushes the tx capture.  Caller holds tx_mutex. */
static void
netdev_pcap_flush__(struct netdev_pcap *dev)
{
    char *error = NULL;

    dev->last_flush_ms = time_msec();
    if (pcap_writer_flush(dev->writer, &error)) {
        /* Not in tx_errors: frames that reached libpcap's buffer were
         * counted as sent, and write errors show up per frame in
         * pcap_writer_write() too. */
        COVERAGE_INC(netdev_pcap_tx_error);
        VLOG_WARN_RL(&netdev_pcap_rl, "%s: %s", dev->up.name, error);
        free(error);
    }
}

static void
netdev_pcap_send(struct netdev *netdev, struct dp_packet_batch *batch,
                 bool may_steal)
{
    struct netdev_pcap *dev = netdev_pcap_cast(netdev);
    unsigned int sent = 0, failed = 0;
    uint64_t bytes = 0;
    struct timespec now;
    uint64_t now_ns;

    pthread_mutex_lock(&dev->tx_mutex);
    if (!dev->writer) {
        pthread_mutex_unlock(&dev->tx_mutex);
        COVERAGE_ADD(netdev_pcap_tx_no_file, batch->count);
        netdev_count_tx_drop(netdev, batch->count);
        netdev_batch_release(batch, may_steal);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    for (unsigned int i = 0; i < batch->count; i++) {
        const struct dp_packet *pkt = batch->packets[i];
        char *error = NULL;

        if (pcap_writer_write(dev->writer, pkt, now_ns, &error)) {
            failed++;
            VLOG_WARN_RL(&netdev_pcap_rl, "%s: %s", netdev->name, error);
            free(error);
        } else {
            sent++;
            bytes += dp_packet_size(pkt);
        }
    }
    if (time_msec() - dev->last_flush_ms >= NETDEV_PCAP_FLUSH_MS) {
        netdev_pcap_flush__(dev);
    }
    pthread_mutex_unlock(&dev->tx_mutex);

    netdev_count_tx(netdev, sent, bytes);
    if (failed) {
        COVERAGE_ADD(netdev_pcap_tx_error, failed);
        netdev_count_tx_error(netdev, failed);
    }
    netdev_batch_release(batch, may_steal);
}

static bool
netdev_pcap_is_lossless(const struct netdev *netdev)
{
    const struct netdev_pcap *dev = netdev_pcap_cast(netdev);

    return dev->rx_path && !dev->rate_pps;
}

static void
netdev_pcap_flush(struct netdev *netdev)
{
    struct netdev_pcap *dev = netdev_pcap_cast(netdev);

    pthread_mutex_lock(&dev->tx_mutex);
    if (dev->writer) {
        netdev_pcap_flush__(dev);
    }
    pthread_mutex_unlock(&dev->tx_mutex);
}

const struct netdev_class netdev_pcap_class = {
    .type = "pcap",
    .open = netdev_pcap_open,
    .close = netdev_pcap_close,
    .recv = netdev_pcap_recv,
    .get_rx_fd = netdev_pcap_get_rx_fd,
    .send = netdev_pcap_send,
    .is_lossless = netdev_pcap_is_lossless,
    .flush = netdev_pcap_flush,
};
