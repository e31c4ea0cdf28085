/*
 * ofproto/mac-learning.c — MAC learning table (see mac-learning.h).
 *
 * A chained hash table of entries keyed by (VLAN, MAC), plus a doubly
 * linked LRU list (head: least recently refreshed).  A pthread rwlock
 * protects both; the sequence number is an atomic so that it can be read
 * without the lock.
 */
#include "ofproto/mac-learning.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/hash.h"
#include "lib/util.h"

COVERAGE_DEFINE(mac_learning_learned);
COVERAGE_DEFINE(mac_learning_moved);
COVERAGE_DEFINE(mac_learning_expired);
COVERAGE_DEFINE(mac_learning_evicted);

struct mac_entry {
    struct mac_entry *hash_next;
    struct mac_entry *lru_prev, *lru_next;
    struct eth_addr mac;
    uint16_t vlan;
    uint32_t port;
    uint64_t used; /* msec. */
};

struct mac_learning {
    pthread_rwlock_t rwlock;
    struct mac_entry **buckets;
    size_t n_buckets; /* Power of 2. */
    size_t n_entries;
    struct mac_entry *lru_head, *lru_tail;
    uint64_t idle_msec;
    unsigned int idle_time;
    size_t max_entries;
    uint64_t seq; /* Atomic. */
};

static uint32_t
mac_hash(uint16_t vlan, struct eth_addr mac)
{
    return hash_bytes(mac.ea, sizeof mac.ea, vlan);
}

struct mac_learning *
mac_learning_create(unsigned int idle_time, size_t max_entries)
{
    struct mac_learning *ml = xzalloc(sizeof *ml);

    pthread_rwlock_init(&ml->rwlock, NULL);
    ml->idle_time = idle_time ? idle_time : MAC_LEARNING_DEFAULT_IDLE_TIME;
    ml->idle_msec = (uint64_t)ml->idle_time * 1000;
    ml->max_entries = max_entries ? max_entries : MAC_LEARNING_DEFAULT_MAX;
    ml->n_buckets = 64;
    while (ml->n_buckets < ml->max_entries && ml->n_buckets < (1u << 16)) {
        ml->n_buckets *= 2;
    }
    ml->buckets = xcalloc(ml->n_buckets, sizeof *ml->buckets);
    return ml;
}

static void
mac_learning_clear__(struct mac_learning *ml)
{
    struct mac_entry *e = ml->lru_head;

    while (e) {
        struct mac_entry *next = e->lru_next;

        free(e);
        e = next;
    }
    memset(ml->buckets, 0, ml->n_buckets * sizeof *ml->buckets);
    ml->lru_head = ml->lru_tail = NULL;
    ml->n_entries = 0;
}

void
mac_learning_destroy(struct mac_learning *ml)
{
    if (ml) {
        mac_learning_clear__(ml);
        free(ml->buckets);
        pthread_rwlock_destroy(&ml->rwlock);
        free(ml);
    }
}

static void
mac_seq_bump(struct mac_learning *ml)
{
    atomic_add_fetch_release(&ml->seq, 1);
}

static struct mac_entry *
mac_find(const struct mac_learning *ml, uint16_t vlan, struct eth_addr mac)
{
    uint32_t hash = mac_hash(vlan, mac);

    for (struct mac_entry *e = ml->buckets[hash & (ml->n_buckets - 1)]; e;
         e = e->hash_next) {
        if (e->vlan == vlan && eth_addr_equals(e->mac, mac)) {
            return e;
        }
    }
    return NULL;
}

static void
lru_unlink(struct mac_learning *ml, struct mac_entry *e)
{
    if (e->lru_prev) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        ml->lru_head = e->lru_next;
    }
    if (e->lru_next) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        ml->lru_tail = e->lru_prev;
    }
    e->lru_prev = e->lru_next = NULL;
}

static void
lru_append(struct mac_learning *ml, struct mac_entry *e)
{
    e->lru_prev = ml->lru_tail;
    e->lru_next = NULL;
    if (ml->lru_tail) {
        ml->lru_tail->lru_next = e;
    } else {
        ml->lru_head = e;
    }
    ml->lru_tail = e;
}

static void
mac_remove(struct mac_learning *ml, struct mac_entry *e)
{
    struct mac_entry **prevp =
        &ml->buckets[mac_hash(e->vlan, e->mac) & (ml->n_buckets - 1)];

    while (*prevp != e) {
        prevp = &(*prevp)->hash_next;
    }
    *prevp = e->hash_next;
    lru_unlink(ml, e);
    ml->n_entries--;
    free(e);
}

static bool
mac_expired(const struct mac_learning *ml, const struct mac_entry *e,
            uint64_t now)
{
    return now >= e->used && now - e->used >= ml->idle_msec;
}

bool
mac_learning_learn(struct mac_learning *ml, uint16_t vlan, struct eth_addr mac,
                   uint32_t port, uint64_t now)
{
    struct mac_entry *e;
    bool changed = false;

    pthread_rwlock_wrlock(&ml->rwlock);
    e = mac_find(ml, vlan, mac);
    if (e && mac_expired(ml, e, now)) {
        /* Relearning an aged-out entry is a new entry. */
        mac_remove(ml, e);
        e = NULL;
    }
    if (!e) {
        if (ml->n_entries >= ml->max_entries && ml->lru_head) {
            mac_remove(ml, ml->lru_head);
            COVERAGE_INC(mac_learning_evicted);
        }
        e = xzalloc(sizeof *e);
        e->vlan = vlan;
        e->mac = mac;
        e->port = port;
        size_t b = mac_hash(vlan, mac) & (ml->n_buckets - 1);
        e->hash_next = ml->buckets[b];
        ml->buckets[b] = e;
        ml->n_entries++;
        COVERAGE_INC(mac_learning_learned);
        changed = true;
    } else {
        lru_unlink(ml, e);
        if (e->port != port) {
            e->port = port;
            COVERAGE_INC(mac_learning_moved);
            changed = true;
        }
    }
    if (now > e->used || changed) {
        e->used = now;
    }
    lru_append(ml, e);
    if (changed) {
        mac_seq_bump(ml);
    }
    pthread_rwlock_unlock(&ml->rwlock);
    return changed;
}

bool
mac_learning_lookup(const struct mac_learning *ml_, uint16_t vlan,
                    struct eth_addr mac, uint64_t now, uint32_t *port)
{
    struct mac_learning *ml = (struct mac_learning *)ml_;
    const struct mac_entry *e;
    bool found = false;

    pthread_rwlock_rdlock(&ml->rwlock);
    e = mac_find(ml, vlan, mac);
    if (e && !mac_expired(ml, e, now)) {
        *port = e->port;
        found = true;
    }
    pthread_rwlock_unlock(&ml->rwlock);
    return found;
}

size_t
mac_learning_run(struct mac_learning *ml, uint64_t now)
{
    size_t n = 0;

    pthread_rwlock_wrlock(&ml->rwlock);
    /* Entries are refreshed in time order in practice, but the caller's
     * clock is not ours to trust: walk the whole list. */
    struct mac_entry *e = ml->lru_head;
    while (e) {
        struct mac_entry *next = e->lru_next;

        if (mac_expired(ml, e, now)) {
            mac_remove(ml, e);
            n++;
        }
        e = next;
    }
    if (n) {
        COVERAGE_ADD(mac_learning_expired, n);
        mac_seq_bump(ml);
    }
    pthread_rwlock_unlock(&ml->rwlock);
    return n;
}

size_t
mac_learning_flush_port(struct mac_learning *ml, uint32_t port)
{
    size_t n = 0;

    pthread_rwlock_wrlock(&ml->rwlock);
    struct mac_entry *e = ml->lru_head;
    while (e) {
        struct mac_entry *next = e->lru_next;

        if (e->port == port) {
            mac_remove(ml, e);
            n++;
        }
        e = next;
    }
    if (n) {
        mac_seq_bump(ml);
    }
    pthread_rwlock_unlock(&ml->rwlock);
    return n;
}

void
mac_learning_flush(struct mac_learning *ml)
{
    pthread_rwlock_wrlock(&ml->rwlock);
    mac_learning_clear__(ml);
    mac_seq_bump(ml);
    pthread_rwlock_unlock(&ml->rwlock);
}

size_t
mac_learning_count(const struct mac_learning *ml_)
{
    struct mac_learning *ml = (struct mac_learning *)ml_;
    size_t n;

    pthread_rwlock_rdlock(&ml->rwlock);
    n = ml->n_entries;
    pthread_rwlock_unlock(&ml->rwlock);
    return n;
}

uint64_t
mac_learning_seq(const struct mac_learning *ml)
{
    return atomic_load_acquire(&ml->seq);
}

unsigned int
mac_learning_idle_time(const struct mac_learning *ml)
{
    return ml->idle_time;
}

size_t
mac_learning_max_entries(const struct mac_learning *ml)
{
    return ml->max_entries;
}

void
mac_learning_format(const struct mac_learning *ml_, uint64_t now, struct ds *s)
{
    struct mac_learning *ml = (struct mac_learning *)ml_;

    ds_put_cstr(s, " port  VLAN  MAC                Age\n");
    pthread_rwlock_rdlock(&ml->rwlock);
    for (const struct mac_entry *e = ml->lru_head; e; e = e->lru_next) {
        if (mac_expired(ml, e, now)) {
            continue;
        }
        const uint8_t *a = e->mac.ea;
        ds_put_format(s,
                      "%5" PRIu32 "  %4u  %02x:%02x:%02x:%02x:%02x:%02x"
                      "  %3" PRIu64 "\n",
                      e->port, e->vlan, a[0], a[1], a[2], a[3], a[4], a[5],
                      now > e->used ? (now - e->used) / 1000 : 0);
    }
    pthread_rwlock_unlock(&ml->rwlock);
}
