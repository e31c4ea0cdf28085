/*
 * packet/packet.h — packet buffers (struct dp_packet) and batches of them.
 *
 * A dp_packet is one frame in a heap buffer laid out as
 *
 *     base                 data                  data + size
 *     |<---- headroom ---->|<------- data ------->|<-- tailroom -->|
 *     |<--------------------------- allocated ------------------->|
 *
 * Headroom.  Every packet starts with at least DP_PACKET_HEADROOM (64) bytes
 * of headroom so that actions which add headers at the front (push_vlan, and
 * later tunnel encapsulation) only move the data pointer back instead of
 * moving the frame.  When the headroom runs out, dp_packet_push_uninit()
 * reallocates; that is the slow path and should never happen for a VLAN tag.
 *
 * Alignment.  The first data byte sits 2 bytes past a multiple of 8 from the
 * (16-byte aligned) allocation, the NET_IP_ALIGN trick: a 14-byte Ethernet
 * header then leaves the IP header 4-byte aligned (in fact 16-byte aligned
 * with the default headroom), and pushing or popping 4-byte VLAN tags keeps
 * it so.  Reallocation preserves the data pointer's offset modulo 8.
 *
 * Layer offsets.  The parser (packet_parse() in flow/packet-parse.h, which
 * builds on this module) records where the L2, L3 and L4 headers start, as
 * offsets from the first data byte, or DP_PACKET_OFS_NONE when the layer is
 * absent (not parsed, or the frame stopped before it).
 * Offsets follow the bytes they point at: dp_packet_push_uninit() shifts them
 * up, dp_packet_pull() shifts them down (and drops a layer whose start was
 * pulled off), and dp_packet_set_size() drops a layer that no longer starts
 * inside the data.  So dp_packet_l3() after pushing a VLAN tag still points
 * at the IP header.
 *
 * Metadata.  in_port is the port the frame arrived on (host byte order);
 * rss_hash is a flow hash that a port back end or the datapath may compute
 * once and reuse (EMC index, upcall queue selection); it is valid only when
 * rss_hash_valid is set, and every change of the data through this API that
 * could change the flow (push, pull, set_size) leaves it alone: callers that
 * rewrite headers must call dp_packet_reset_rss_hash() themselves.
 *
 * Buffer source.  Most packets own a malloc'd buffer and are themselves
 * malloc'd (DP_PACKET_SOURCE_HEAP).  A port back end may instead hand out
 * packets whose buffer and struct belong to it (DP_PACKET_SOURCE_EXTERNAL:
 * an AF_XDP port's frames in a UMEM shared with the kernel).  Such a packet
 * goes through every function here like any other; the only differences
 * are on the way out, through the hooks its owner registered with
 * dp_packet_set_external_ops():
 *
 *   - dp_packet_delete() hands it back to its owner (release);
 *   - a push, put or set_size that needs more room than the buffer has
 *     moves the data to a heap buffer, as for any packet, then tells the
 *     owner (detach), who takes the old buffer back; from then on the
 *     packet is an ordinary heap packet (its struct too: the owner gave it
 *     up, and dp_packet_delete() frees it with free());
 *   - dp_packet_clone() always makes a heap packet.
 *
 * So the packet module knows nothing of ports, and the common heap path
 * costs one predictable branch in dp_packet_delete().  There is one owner
 * of external packets per process (the netdev module registers it before
 * it hands out the first one).
 *
 * Batches.  The datapath moves packets 32 at a time (PACKET_BATCH_MAX, the
 * DPDK burst size): a struct dp_packet_batch is a plain array of packet
 * pointers and a count, meant to live on the stack of a poll loop.
 *
 * Thread safety: a dp_packet and a dp_packet_batch belong to one thread at a
 * time; ownership passes with the pointer (e.g. through an upcall queue).
 * No function here takes a lock.
 */
#ifndef FLOWSWITCH_PACKET_PACKET_H
#define FLOWSWITCH_PACKET_PACKET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/* Default (and minimum useful) headroom, in bytes. */
#define DP_PACKET_HEADROOM 64
/* The data start is this many bytes past a multiple of 8 (NET_IP_ALIGN). */
#define DP_PACKET_IP_ALIGN 2
/* Layer offset meaning "this layer is absent". */
#define DP_PACKET_OFS_NONE UINT16_MAX

/* Who owns a packet's buffer and struct (see "Buffer source" above). */
enum dp_packet_source {
    DP_PACKET_SOURCE_HEAP,     /* malloc'd, freed by dp_packet_delete(). */
    DP_PACKET_SOURCE_EXTERNAL, /* The registered owner's (a UMEM frame). */
};

struct dp_packet {
    uint8_t *base;      /* Start of the buffer. */
    uint32_t allocated; /* Bytes of buffer at 'base'. */
    uint32_t data_ofs;  /* Offset of the first data byte from 'base'. */
    uint32_t size;      /* Bytes of data. */
    uint16_t l2_ofs;    /* Offsets from the first data byte of the L2, */
    uint16_t l3_ofs;    /* L3 and L4 headers, or DP_PACKET_OFS_NONE. */
    uint16_t l4_ofs;
    bool rss_hash_valid; /* True if 'rss_hash' is set. */
    uint8_t source;      /* enum dp_packet_source. */
    uint32_t in_port;    /* Input port (host byte order). */
    uint32_t rss_hash;   /* Flow hash, when 'rss_hash_valid'. */
};

/* The owner of DP_PACKET_SOURCE_EXTERNAL packets.  Both hooks may be
 * called from any thread. */
struct dp_packet_external_ops {
    /* dp_packet_delete(): takes back the packet, buffer and struct. */
    void (*release)(struct dp_packet *pkt);
    /* The packet's data moved to a heap buffer and 'pkt' is now a
     * DP_PACKET_SOURCE_HEAP packet: takes back the buffer it had, and
     * gives up the struct for good. */
    void (*detach)(struct dp_packet *pkt);
};

/* Registers the owner of external packets (once per process, before the
 * first external packet exists; later calls must pass the same 'ops'). */
void dp_packet_set_external_ops(const struct dp_packet_external_ops *ops);

static inline bool
dp_packet_is_external(const struct dp_packet *pkt)
{
    return pkt->source != DP_PACKET_SOURCE_HEAP;
}

/* Allocates an empty packet with at least MAX(headroom, DP_PACKET_HEADROOM)
 * bytes of headroom and room for 'capacity' bytes of data.  Never returns
 * NULL. */
struct dp_packet *dp_packet_new(size_t headroom, size_t capacity);
/* Allocates a packet holding a copy of 'data[0..size)', with headroom as
 * for dp_packet_new() and no tailroom to speak of. */
struct dp_packet *dp_packet_new_from_bytes(const void *data, size_t size,
                                           size_t headroom);
/* Returns a deep copy of 'pkt' (data, layer offsets, metadata), with the
 * same headroom, in a heap buffer whatever the source of 'pkt'. */
struct dp_packet *dp_packet_clone(const struct dp_packet *pkt);
/* Frees 'pkt' and its buffer (an external packet goes back to its owner).
 * NULL is a no-op. */
void dp_packet_delete(struct dp_packet *pkt);

/* Empties 'pkt' (size 0) and clears its layer offsets and metadata; keeps
 * the buffer and the data start, so it can be refilled without allocating. */
void dp_packet_clear(struct dp_packet *pkt);

/* Makes sure there are at least 'n' bytes of headroom / tailroom,
 * reallocating if needed (which invalidates pointers into the data). */
void dp_packet_prealloc_headroom(struct dp_packet *pkt, size_t n);
void dp_packet_prealloc_tailroom(struct dp_packet *pkt, size_t n);

/* Prepends 'n' bytes at the head and returns a pointer to them (the new data
 * start).  dp_packet_push_uninit() leaves them uninitialized. */
void *dp_packet_push_uninit(struct dp_packet *pkt, size_t n);
void *dp_packet_push(struct dp_packet *pkt, const void *p, size_t n);
/* Removes 'n' bytes from the head and returns a pointer to them (still valid
 * until the next push), or NULL, changing nothing, if the packet holds fewer
 * than 'n' bytes. */
void *dp_packet_pull(struct dp_packet *pkt, size_t n);
/* Appends 'n' bytes at the tail and returns a pointer to them.
 * dp_packet_put_uninit() leaves them uninitialized. */
void *dp_packet_put_uninit(struct dp_packet *pkt, size_t n);
void *dp_packet_put(struct dp_packet *pkt, const void *p, size_t n);
/* Truncates the data to 'size' bytes, or extends it (uninitialized) at the
 * tail, reallocating if needed. */
void dp_packet_set_size(struct dp_packet *pkt, size_t size);

/* Clears all three layer offsets. */
void dp_packet_reset_offsets(struct dp_packet *pkt);

static inline void *
dp_packet_data(const struct dp_packet *pkt)
{
    return pkt->base + pkt->data_ofs;
}

static inline uint32_t
dp_packet_size(const struct dp_packet *pkt)
{
    return pkt->size;
}

static inline size_t
dp_packet_headroom(const struct dp_packet *pkt)
{
    return pkt->data_ofs;
}

static inline size_t
dp_packet_tailroom(const struct dp_packet *pkt)
{
    return pkt->allocated - pkt->data_ofs - pkt->size;
}

/* Pointer to the byte 'ofs' bytes into the data, or NULL if 'ofs' is
 * DP_PACKET_OFS_NONE. */
static inline void *
dp_packet_at_ofs__(const struct dp_packet *pkt, uint16_t ofs)
{
    return ofs != DP_PACKET_OFS_NONE ? (uint8_t *)dp_packet_data(pkt) + ofs
                                     : NULL;
}

/* Bytes from offset 'ofs' to the end of the data (0 if the layer is
 * absent). */
static inline size_t
dp_packet_size_from_ofs__(const struct dp_packet *pkt, uint16_t ofs)
{
    return ofs != DP_PACKET_OFS_NONE ? pkt->size - ofs : 0;
}

/* Start of the L2 / L3 / L4 header, or NULL if the parser did not find it. */
static inline void *
dp_packet_l2(const struct dp_packet *pkt)
{
    return dp_packet_at_ofs__(pkt, pkt->l2_ofs);
}

static inline void *
dp_packet_l3(const struct dp_packet *pkt)
{
    return dp_packet_at_ofs__(pkt, pkt->l3_ofs);
}

static inline void *
dp_packet_l4(const struct dp_packet *pkt)
{
    return dp_packet_at_ofs__(pkt, pkt->l4_ofs);
}

/* Bytes from the start of the L2 / L3 / L4 header to the end of the data
 * (including any Ethernet padding), or 0 if the layer is absent. */
static inline size_t
dp_packet_l2_size(const struct dp_packet *pkt)
{
    return dp_packet_size_from_ofs__(pkt, pkt->l2_ofs);
}

static inline size_t
dp_packet_l3_size(const struct dp_packet *pkt)
{
    return dp_packet_size_from_ofs__(pkt, pkt->l3_ofs);
}

static inline size_t
dp_packet_l4_size(const struct dp_packet *pkt)
{
    return dp_packet_size_from_ofs__(pkt, pkt->l4_ofs);
}

static inline void
dp_packet_set_rss_hash(struct dp_packet *pkt, uint32_t hash)
{
    pkt->rss_hash = hash;
    pkt->rss_hash_valid = true;
}

static inline void
dp_packet_reset_rss_hash(struct dp_packet *pkt)
{
    pkt->rss_hash_valid = false;
}

/* ---- Batches ------------------------------------------------------------ */

#define PACKET_BATCH_MAX 32

struct dp_packet_batch {
    unsigned int count;
    struct dp_packet *packets[PACKET_BATCH_MAX];
};

static inline void
dp_packet_batch_init(struct dp_packet_batch *batch)
{
    batch->count = 0;
}

static inline unsigned int
dp_packet_batch_size(const struct dp_packet_batch *batch)
{
    return batch->count;
}

static inline bool
dp_packet_batch_is_empty(const struct dp_packet_batch *batch)
{
    return !batch->count;
}

static inline bool
dp_packet_batch_is_full(const struct dp_packet_batch *batch)
{
    return batch->count >= PACKET_BATCH_MAX;
}

/* Appends 'pkt' to 'batch' and returns true, or returns false if the batch
 * is full, in which case the caller still owns 'pkt' (and must count its fate
 * if it drops it). */
static inline bool WARN_UNUSED
dp_packet_batch_add(struct dp_packet_batch *batch, struct dp_packet *pkt)
{
    if (UNLIKELY(dp_packet_batch_is_full(batch))) {
        return false;
    }
    batch->packets[batch->count++] = pkt;
    return true;
}

/* Iterates PACKET over the packets of BATCH, with IDX (declared by the macro,
 * size_t) its index. */
#define DP_PACKET_BATCH_FOR_EACH(IDX, PACKET, BATCH)                          \
    for (size_t IDX = 0; (IDX) < (BATCH)->count                               \
                         && ((PACKET) = (BATCH)->packets[(IDX)], true);       \
         (IDX)++)

/* Deletes every packet of 'batch' and empties it. */
void dp_packet_batch_delete_all(struct dp_packet_batch *batch);

#endif /* packet/packet.h */
