/*
 * ofproto/mac-learning.h — the MAC learning table behind the NORMAL action.
 *
 * NORMAL behaves as a plain L2 learning switch: it remembers on which
 * OpenFlow port each source MAC address was last seen, per VLAN, and sends
 * a frame for a known unicast destination to that port only.  The table
 * maps (VLAN, MAC) to a port and a last-seen time.
 *
 * Aging and size.  An entry not refreshed for 'idle_time' seconds
 * [300] is dropped by mac_learning_run(); lookups already treat it as
 * absent.  The table holds at most 'max_entries' [8192] entries: learning
 * a new address in a full table evicts the least recently refreshed entry
 * first (an LRU list, refreshed on every learn of an existing entry).
 * Times are passed in by the caller (milliseconds, any monotonic origin),
 * so tests drive aging without sleeping.
 *
 * Change tracking.  Every change that can alter a forwarding decision (an
 * address learned, moved to another port, expired, evicted or flushed)
 * changes a seq (lib/seq.h) given at creation; mac_learning_seq() reads
 * it.  ofproto hands in its table-change seq, so that a MAC learning
 * change wakes the revalidators, which re-check megaflows that flooded to
 * an address that has since been learned.
 *
 * Thread safety.  Every function may be called from any number of threads
 * at once.  Lookups take a read lock; learning and aging take the write
 * lock (learning is a slow-path operation: it runs in handler threads for
 * packets that missed the datapath cache, and in revalidators refreshing
 * entries through an xlate cache).
 */
#ifndef FLOWSWITCH_OFPROTO_MAC_LEARNING_H
#define FLOWSWITCH_OFPROTO_MAC_LEARNING_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/headers.h"

struct ds;
struct seq;

#define MAC_LEARNING_DEFAULT_IDLE_TIME 300 /* Seconds. */
#define MAC_LEARNING_DEFAULT_MAX 8192      /* Entries. */

struct mac_learning;

/* Creates an empty table.  'idle_time' is in seconds (0: the default),
 * 'max_entries' 0 means the default.  Every change changes 'changes',
 * which must outlive the table; NULL gives the table a seq of its own. */
struct mac_learning *mac_learning_create(unsigned int idle_time,
                                         size_t max_entries,
                                         struct seq *changes);
void mac_learning_destroy(struct mac_learning *);

/* Records that 'mac' on 'vlan' (the 12-bit VID, 0 when untagged) was seen
 * on 'port' at time 'now' (msec).  Returns true if that changed where the
 * address goes (new entry, or an entry that moved to another port); a
 * plain refresh returns false. */
bool mac_learning_learn(struct mac_learning *, uint16_t vlan,
                        struct eth_addr mac, uint32_t port, uint64_t now);

/* Stores in '*port' the port where 'mac' on 'vlan' was last seen and
 * returns true, or returns false if it is unknown or aged out at 'now'. */
bool mac_learning_lookup(const struct mac_learning *, uint16_t vlan,
                         struct eth_addr mac, uint64_t now, uint32_t *port);

/* Drops the entries idle for longer than the idle time at 'now'.  Returns
 * how many it dropped. */
size_t mac_learning_run(struct mac_learning *, uint64_t now);

/* Drops every entry that points to 'port' (the port went away). */
size_t mac_learning_flush_port(struct mac_learning *, uint32_t port);
void mac_learning_flush(struct mac_learning *);

size_t mac_learning_count(const struct mac_learning *);
/* seq_read() of the seq the table changes. */
uint64_t mac_learning_seq(const struct mac_learning *);
unsigned int mac_learning_idle_time(const struct mac_learning *);
size_t mac_learning_max_entries(const struct mac_learning *);

/* Appends the table as `ovs-appctl fdb/show` prints it: a header line,
 * then " port  VLAN  MAC                Age" rows, least recently used
 * first. */
void mac_learning_format(const struct mac_learning *, uint64_t now,
                         struct ds *);

#endif /* ofproto/mac-learning.h */
