/* packet/pcap-file.c — pcap capture files through libpcap (see
 * pcap-file.h). */
#include "packet/pcap-file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "packet/packet.h"

#define PCAP_WRITE_SNAPLEN 65535

struct pcap_reader {
    pcap_t *pcap;
    char *name;
};

struct pcap_writer {
    pcap_t *pcap; /* A "dead" handle: only the format parameters. */
    pcap_dumper_t *dumper;
    char *name;
};

static void
pcap_set_error(char **errorp, const char *name, const char *msg)
{
    if (errorp) {
        size_t name_len = strlen(name);
        size_t len;

        /* libpcap's open errors already start with "FILE: ": name the file
         * once. */
        if (!strncmp(msg, name, name_len)
            && !strncmp(msg + name_len, ": ", 2)) {
            msg += name_len + 2;
        }
        len = strlen(msg);
        /* libpcap messages sometimes end in a newline: keep one line. */
        while (len && (msg[len - 1] == '\n' || msg[len - 1] == '.')) {
            len--;
        }
        *errorp = xasprintf("%s: %.*s", name, (int)len, msg);
    }
}

/* ---- Reading ------------------------------------------------------------ */

int
pcap_reader_open(const char *file_name, struct pcap_reader **readerp,
                 char **errorp)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct pcap_reader *reader;
    pcap_t *pcap;
    int dlt;

    *readerp = NULL;
    /* Nanosecond precision makes libpcap scale microsecond files up, so
     * timestamps come out in one unit whatever the file holds. */
    errno = 0;
    pcap = pcap_open_offline_with_tstamp_precision(
        file_name, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pcap) {
        pcap_set_error(errorp, file_name,
                       errbuf[0] ? errbuf : "cannot open capture file");
        return errno ? errno : EINVAL;
    }
    dlt = pcap_datalink(pcap);
    if (dlt != DLT_EN10MB) {
        const char *dlt_name = pcap_datalink_val_to_name(dlt);

        if (errorp) {
            *errorp = xasprintf("%s: link type %d (%s) is not Ethernet "
                                "(expected DLT_EN10MB)",
                                file_name, dlt, dlt_name ? dlt_name : "?");
        }
        pcap_close(pcap);
        return EPROTONOSUPPORT;
    }

    reader = xmalloc(sizeof *reader);
    reader->pcap = pcap;
    reader->name = xstrdup(file_name);
    *readerp = reader;
    return 0;
}

int
pcap_reader_read(struct pcap_reader *reader, struct dp_packet *pkt,
                 struct pcap_record *record, char **errorp)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int retval;

    retval = pcap_next_ex(reader->pcap, &hdr, &data);
    if (retval == PCAP_ERROR_BREAK) {
        return EOF;
    } else if (retval != 1) {
        /* A savefile never times out (0), so this is a read error, usually
         * a record cut short at the end of the file. */
        pcap_set_error(errorp, reader->name, pcap_geterr(reader->pcap));
        return EIO;
    }

    dp_packet_clear(pkt);
    dp_packet_put(pkt, data, hdr->caplen);
    if (record) {
        record->ts_nsec = (uint64_t)hdr->ts.tv_sec * 1000000000u
                          + (uint64_t)hdr->ts.tv_usec; /* ns, see open. */
        record->wire_len = MAX(hdr->len, hdr->caplen);
    }
    return 0;
}

const char *
pcap_reader_name(const struct pcap_reader *reader)
{
    return reader->name;
}

void
pcap_reader_close(struct pcap_reader *reader)
{
    if (reader) {
        pcap_close(reader->pcap);
        free(reader->name);
        free(reader);
    }
}

/* ---- Writing ------------------------------------------------------------ */

/* Returns 0, or an errno value and a message if the output stream has seen
 * an error. */
static int
pcap_writer_check(struct pcap_writer *writer, char **errorp)
{
    FILE *stream = pcap_dump_file(writer->dumper);

    if (ferror(stream)) {
        int error = errno ? errno : EIO;

        pcap_set_error(errorp, writer->name, strerror(error));
        clearerr(stream);
        return error;
    }
    return 0;
}

int
pcap_writer_open(const char *file_name, struct pcap_writer **writerp,
                 char **errorp)
{
    struct pcap_writer *writer;
    pcap_dumper_t *dumper;
    pcap_t *pcap;

    *writerp = NULL;
    pcap = pcap_open_dead(DLT_EN10MB, PCAP_WRITE_SNAPLEN);
    if (!pcap) {
        pcap_set_error(errorp, file_name, "cannot create pcap handle");
        return ENOMEM;
    }
    errno = 0;
    dumper = pcap_dump_open(pcap, file_name);
    if (!dumper) {
        int error = errno ? errno : EIO;

        pcap_set_error(errorp, file_name, pcap_geterr(pcap));
        pcap_close(pcap);
        return error;
    }

    writer = xmalloc(sizeof *writer);
    writer->pcap = pcap;
    writer->dumper = dumper;
    writer->name = xstrdup(file_name);
    *writerp = writer;
    return 0;
}

int
pcap_writer_write(struct pcap_writer *writer, const struct dp_packet *pkt,
                  uint64_t ts_nsec, char **errorp)
{
    struct pcap_pkthdr hdr;
    uint32_t size = dp_packet_size(pkt);

    hdr.ts.tv_sec = (time_t)(ts_nsec / 1000000000u);
    hdr.ts.tv_usec = (suseconds_t)(ts_nsec % 1000000000u / 1000u);
    hdr.caplen = MIN(size, (uint32_t)PCAP_WRITE_SNAPLEN);
    hdr.len = size;
    pcap_dump((u_char *)writer->dumper, &hdr, dp_packet_data(pkt));
    return pcap_writer_check(writer, errorp);
}

int
pcap_writer_flush(struct pcap_writer *writer, char **errorp)
{
    int error = pcap_writer_check(writer, errorp);

    if (!error && pcap_dump_flush(writer->dumper)) {
        error = errno ? errno : EIO;
        pcap_set_error(errorp, writer->name, strerror(error));
    }
    return error;
}

int
pcap_writer_close(struct pcap_writer *writer, char **errorp)
{
    int error;

    if (!writer) {
        return 0;
    }
    error = pcap_writer_flush(writer, errorp);
    pcap_dump_close(writer->dumper);
    pcap_close(writer->pcap);
    free(writer->name);
    free(writer);
    return error;
}
