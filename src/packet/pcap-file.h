/*
 * packet/pcap-file.h — reading and writing pcap capture files.
 *
 * A thin layer over libpcap's savefile API, which owns the file format
 * (classic pcap in both byte orders and both timestamp precisions, and
 * pcapng on reading): the pcap port back end (netdev/), the
 * `flowswitch-parse pcap` tool and the tests read and write captures through
 * it, with frames held in struct dp_packet.
 *
 * Only Ethernet captures (DLT_EN10MB) are accepted, since every frame goes
 * straight to the Ethernet parser.  Files are written as classic pcap with
 * microsecond timestamps and a 65535-byte snap length, which every tool
 * (tcpdump, Wireshark, scapy, ovs-pcap) reads.
 *
 * Errors.  Functions that can fail return 0 or a positive errno value and,
 * through 'errorp' when it is not NULL, a one-line message that names the
 * file, which the caller prints and frees.  pcap_reader_read() returns EOF
 * (negative) at the clean end of the file.
 *
 * Thread safety: a reader or writer belongs to one thread at a time.
 */
#ifndef FLOWSWITCH_PACKET_PCAP_FILE_H
#define FLOWSWITCH_PACKET_PCAP_FILE_H 1

#include <stdint.h>
#include <stdio.h>

struct dp_packet;
struct pcap_reader;
struct pcap_writer;

/* What a capture file records about a packet besides its bytes. */
struct pcap_record {
    uint64_t ts_nsec;  /* Capture time, nanoseconds since the Unix epoch. */
    uint32_t wire_len; /* Length on the wire (more than the packet's size if
                        * the capture truncated it). */
};

/* Opens 'file_name' for reading. */
int pcap_reader_open(const char *file_name, struct pcap_reader **readerp,
                     char **errorp);
/* Reads the next packet into 'pkt' (emptied first with dp_packet_clear();
 * its layer offsets and in_port are reset) and, if 'record' is not NULL, its
 * timestamp and wire length.  Returns 0, EOF at the end of the file, or an
 * errno value (EIO for a damaged file). */
int pcap_reader_read(struct pcap_reader *, struct dp_packet *pkt,
                     struct pcap_record *record, char **errorp);
/* Name of the file being read. */
const char *pcap_reader_name(const struct pcap_reader *);
/* Closes the file.  NULL is a no-op. */
void pcap_reader_close(struct pcap_reader *);

/* Creates (or truncates) 'file_name' and writes the pcap file header. */
int pcap_writer_open(const char *file_name, struct pcap_writer **writerp,
                     char **errorp);
/* Appends 'pkt' with timestamp 'ts_nsec' (nanoseconds since the epoch,
 * stored with microsecond precision).  A packet longer than the snap length
 * is stored truncated, with its full length as the wire length. */
int pcap_writer_write(struct pcap_writer *, const struct dp_packet *pkt,
                      uint64_t ts_nsec, char **errorp);
/* Pushes buffered packets to the file. */
int pcap_writer_flush(struct pcap_writer *, char **errorp);
/* Flushes and closes the file, reporting any write error that happened since
 * the last check.  NULL is a no-op that returns 0. */
int pcap_writer_close(struct pcap_writer *, char **errorp);

#endif /* packet/pcap-file.h */
