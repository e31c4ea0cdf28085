/*
 * ofproto/mac-learning.c — MAC learning table (see mac-learning.h).
 *
 * An hmap of entries keyed by (VLAN, MAC), plus an LRU list (front:
 * least recently refreshed), both from lib/.  A pthread rwlock protects
 * both; changes are announced on a lib/seq.h seq, which can be read
 * without the lock and waited on.
 */
#include "ofproto/mac-learning.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "lib/coverage.h"
#include "lib/dynamic-string.h"
#include "lib/hash.h"
#include "lib/hmap.h"
#include "lib/list.h"
#include "lib/seq.h"
#include "lib/util.h"

COVERAGE_DEFINE(mac_learning_learned);
COVERAGE_DEFINE(mac_learning_moved);
COVERAGE_DEFINE(mac_learning_expired);
COVERAGE_DEFINE(mac_learning_evicted);

struct mac_entry {
    struct hmap_node hmap_node; /* In 'table'. */
    struct list lru_node;       /* In 'lru'. */
    struct eth_addr mac;
    uint16_t vlan;
    uint32_t port;
    uint64_t used; /* msec. */
};

struct mac_learning {
    pthread_rwlock_t rwlock;
    struct hmap table; /* By mac_hash(). */
    struct list lru;   /* Front: least recently refreshed. */
    uint64_t idle_msec;
    unsigned int idle_time;
    size_t max_entries;
    struct seq *changes; /* Changed on every change; see the header. */
    bool own_changes;    /* 'changes' was created here. */
};

static uint32_t
mac_hash(uint16_t vlan, struct eth_addr mac)
{
    return hash_bytes(mac.ea, sizeof mac.ea, vlan);
}

struct mac_learning *
mac_learning_create(unsigned int idle_time, size_t max_entries,
                    struct seq *changes)
{
    struct mac_learning *ml = xzalloc(sizeof *ml);

    pthread_rwlock_init(&ml->rwlock, NULL);
    ml->idle_time = idle_time ? idle_time : MAC_LEARNING_DEFAULT_IDLE_TIME;
    ml->idle_msec = (uint64_t)ml->idle_time * 1000;
    ml->max_entries = max_entries ? max_entries : MAC_LEARNING_DEFAULT_MAX;
    hmap_init(&ml->table);
    list_init(&ml->lru);
    ml->own_changes = !changes;
    ml->changes = changes ? changes : seq_create();
    return ml;
}

static void
mac_learning_clear__(struct mac_learning *ml)
{
    struct mac_entry *e;

    LIST_FOR_EACH_SAFE (e, lru_node, &ml->lru) {
        free(e);
    }
    list_init(&ml->lru);
    hmap_clear(&ml->table);
    hmap_shrink(&ml->table);
}

void
mac_learning_destroy(struct mac_learning *ml)
{
    if (ml) {
        mac_learning_clear__(ml);
        hmap_destroy(&ml->table);
        pthread_rwlock_destroy(&ml->rwlock);
        if (ml->own_changes) {
            seq_destroy(ml->changes);
        }
        free(ml);
    }
}

static void
mac_seq_bump(struct mac_learning *ml)
{
    seq_change(ml->changes);
}

static struct mac_entry *
mac_find(const struct mac_learning *ml, uint16_t vlan, struct eth_addr mac)
{
    struct mac_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, hmap_node, mac_hash(vlan, mac), &ml->table) {
        if (e->vlan == vlan && eth_addr_equals(e->mac, mac)) {
            return e;
        }
    }
    return NULL;
}

static void
mac_remove(struct mac_learning *ml, struct mac_entry *e)
{
    hmap_remove(&ml->table, &e->hmap_node);
    list_remove(&e->lru_node);
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
        if (hmap_count(&ml->table) >= ml->max_entries
            && !list_is_empty(&ml->lru)) {
            mac_remove(ml, CONTAINER_OF(list_front(&ml->lru), struct mac_entry,
                                        lru_node));
            COVERAGE_INC(mac_learning_evicted);
        }
        e = xzalloc(sizeof *e);
        e->vlan = vlan;
        e->mac = mac;
        e->port = port;
        hmap_insert(&ml->table, &e->hmap_node, mac_hash(vlan, mac));
        list_init(&e->lru_node);
        COVERAGE_INC(mac_learning_learned);
        changed = true;
    } else {
        list_remove(&e->lru_node);
        if (e->port != port) {
            e->port = port;
            COVERAGE_INC(mac_learning_moved);
            changed = true;
        }
    }
    if (now > e->used || changed) {
        e->used = now;
    }
    list_push_back(&ml->lru, &e->lru_node);
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

static bool
mac_on_port(const struct mac_learning *ml, const struct mac_entry *e,
            uint64_t port)
{
    (void)ml;
    return e->port == port;
}

/* Removes every entry for which 'doomed(ml, e, arg)' holds and wakes the
 * waiters if any went; returns how many went. */
static size_t
mac_remove_where(struct mac_learning *ml,
                 bool (*doomed)(const struct mac_learning *,
                                const struct mac_entry *, uint64_t arg),
                 uint64_t arg)
{
    struct mac_entry *e;
    size_t n = 0;

    pthread_rwlock_wrlock(&ml->rwlock);
    LIST_FOR_EACH_SAFE (e, lru_node, &ml->lru) {
        if (doomed(ml, e, arg)) {
            mac_remove(ml, e);
            n++;
        }
    }
    if (n) {
        hmap_shrink(&ml->table);
        mac_seq_bump(ml);
    }
    pthread_rwlock_unlock(&ml->rwlock);
    return n;
}

size_t
mac_learning_run(struct mac_learning *ml, uint64_t now)
{
    /* Entries are refreshed in time order in practice, but the caller's
     * clock is not ours to trust: walk the whole list. */
    size_t n = mac_remove_where(ml, mac_expired, now);

    if (n) {
        COVERAGE_ADD(mac_learning_expired, n);
    }
    return n;
}

size_t
mac_learning_flush_port(struct mac_learning *ml, uint32_t port)
{
    return mac_remove_where(ml, mac_on_port, port);
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
    n = hmap_count(&ml->table);
    pthread_rwlock_unlock(&ml->rwlock);
    return n;
}

uint64_t
mac_learning_seq(const struct mac_learning *ml)
{
    return seq_read(ml->changes);
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
    const struct mac_entry *e;

    LIST_FOR_EACH (e, lru_node, &ml->lru) {
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
