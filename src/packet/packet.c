/* packet/packet.c — packet buffers and batches (see packet.h). */
#include "packet/packet.h"

#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"

/* The owner of external packets; set once, read by any thread. */
static const struct dp_packet_external_ops *external_ops;

void
dp_packet_set_external_ops(const struct dp_packet_external_ops *ops)
{
    const struct dp_packet_external_ops *old =
        atomic_exchange_acq_rel(&external_ops, ops);

    if (old && old != ops) {
        fatal("a second owner of external packets registered");
    }
}

static const struct dp_packet_external_ops *
dp_packet_external_ops(void)
{
    return atomic_load_acquire(&external_ops);
}

/* Largest buffer a dp_packet may have: sizes and offsets are 32-bit. */
#define DP_PACKET_MAX_ALLOC (UINT32_MAX / 2)

/* Offset of the first data byte for a packet that wants at least 'headroom'
 * bytes in front: rounded up to 8 and then DP_PACKET_IP_ALIGN more. */
static size_t
dp_packet_initial_data_ofs(size_t headroom)
{
    return ROUND_UP(MAX(headroom, (size_t)DP_PACKET_HEADROOM), 8)
           + DP_PACKET_IP_ALIGN;
}

static uint32_t
dp_packet_checked_alloc_size(size_t n)
{
    if (n > DP_PACKET_MAX_ALLOC) {
        fatal("packet buffer of %zu bytes is too large", n);
    }
    return (uint32_t)n;
}

static void
dp_packet_init(struct dp_packet *pkt, size_t data_ofs, size_t capacity)
{
    pkt->allocated = dp_packet_checked_alloc_size(data_ofs + capacity);
    pkt->base = xmalloc(pkt->allocated);
    pkt->data_ofs = (uint32_t)data_ofs;
    pkt->size = 0;
    pkt->in_port = 0;
    pkt->rss_hash = 0;
    pkt->rss_hash_valid = false;
    pkt->source = DP_PACKET_SOURCE_HEAP;
    dp_packet_reset_offsets(pkt);
}

struct dp_packet *
dp_packet_new(size_t headroom, size_t capacity)
{
    struct dp_packet *pkt = xmalloc(sizeof *pkt);

    dp_packet_init(pkt, dp_packet_initial_data_ofs(headroom), capacity);
    return pkt;
}

struct dp_packet *
dp_packet_new_from_bytes(const void *data, size_t size, size_t headroom)
{
    struct dp_packet *pkt = dp_packet_new(headroom, size);

    dp_packet_put(pkt, data, size);
    return pkt;
}

struct dp_packet *
dp_packet_clone(const struct dp_packet *src)
{
    struct dp_packet *pkt = xmalloc(sizeof *pkt);

    /* Same data offset, so the clone has the same headroom and alignment;
     * no tailroom beyond the data, since clones are mostly sent as is. */
    *pkt = *src;
    pkt->source = DP_PACKET_SOURCE_HEAP;
    pkt->allocated =
        dp_packet_checked_alloc_size((size_t)src->data_ofs + src->size);
    pkt->base = xmalloc(pkt->allocated);
    memcpy(dp_packet_data(pkt), dp_packet_data(src), src->size);
    return pkt;
}

void
dp_packet_delete(struct dp_packet *pkt)
{
    if (!pkt) {
        return;
    }
    if (UNLIKELY(dp_packet_is_external(pkt))) {
        dp_packet_external_ops()->release(pkt);
        return;
    }
    free(pkt->base);
    free(pkt);
}

void
dp_packet_clear(struct dp_packet *pkt)
{
    pkt->size = 0;
    pkt->in_port = 0;
    dp_packet_reset_rss_hash(pkt);
    pkt->rss_hash = 0;
    dp_packet_reset_offsets(pkt);
}

void
dp_packet_reset_offsets(struct dp_packet *pkt)
{
    pkt->l2_ofs = DP_PACKET_OFS_NONE;
    pkt->l3_ofs = DP_PACKET_OFS_NONE;
    pkt->l4_ofs = DP_PACKET_OFS_NONE;
}

/* Moves the data into a new buffer with 'new_data_ofs' bytes of headroom and
 * 'tailroom' bytes after it. */
static void
dp_packet_realloc(struct dp_packet *pkt, size_t new_data_ofs, size_t tailroom)
{
    size_t allocated = new_data_ofs + pkt->size + tailroom;
    uint8_t *base = xmalloc(dp_packet_checked_alloc_size(allocated));

    memcpy(base + new_data_ofs, dp_packet_data(pkt), pkt->size);
    if (UNLIKELY(dp_packet_is_external(pkt))) {
        /* From now on an ordinary heap packet; its owner takes back the
         * old buffer (it still knows which from its own bookkeeping). */
        pkt->source = DP_PACKET_SOURCE_HEAP;
        dp_packet_external_ops()->detach(pkt);
    } else {
        free(pkt->base);
    }
    pkt->base = base;
    pkt->allocated = (uint32_t)allocated;
    pkt->data_ofs = (uint32_t)new_data_ofs;
}

void
dp_packet_prealloc_headroom(struct dp_packet *pkt, size_t n)
{
    if (n > dp_packet_headroom(pkt)) {
        /* Leave the default headroom in front of what was asked for, so a
         * run of pushes reallocates once, and keep the data start's offset
         * modulo 8 so the L3 header stays aligned. */
        size_t ofs = ROUND_UP(n + DP_PACKET_HEADROOM, 8) + (pkt->data_ofs & 7);

        dp_packet_realloc(pkt, ofs, dp_packet_tailroom(pkt));
    }
}

void
dp_packet_prealloc_tailroom(struct dp_packet *pkt, size_t n)
{
    size_t tailroom = dp_packet_tailroom(pkt);

    if (n > tailroom) {
        /* Grow geometrically so that appending byte by byte stays linear. */
        size_t want = MAX(n, (size_t)pkt->size + tailroom);

        dp_packet_realloc(pkt, pkt->data_ofs, want);
    }
}

/* Adds 'delta' to a layer offset, or marks the layer absent when it no longer
 * starts inside [0, limit). */
static uint16_t
dp_packet_shift_ofs(uint16_t ofs, long delta, size_t limit)
{
    long shifted;

    if (ofs == DP_PACKET_OFS_NONE) {
        return ofs;
    }
    shifted = (long)ofs + delta;
    return shifted >= 0 && shifted < DP_PACKET_OFS_NONE
                   && (size_t)shifted <= limit
               ? (uint16_t)shifted
               : DP_PACKET_OFS_NONE;
}

static void
dp_packet_shift_offsets(struct dp_packet *pkt, long delta)
{
    pkt->l2_ofs = dp_packet_shift_ofs(pkt->l2_ofs, delta, pkt->size);
    pkt->l3_ofs = dp_packet_shift_ofs(pkt->l3_ofs, delta, pkt->size);
    pkt->l4_ofs = dp_packet_shift_ofs(pkt->l4_ofs, delta, pkt->size);
}

void *
dp_packet_push_uninit(struct dp_packet *pkt, size_t n)
{
    dp_packet_prealloc_headroom(pkt, n);
    pkt->data_ofs -= (uint32_t)n;
    pkt->size += (uint32_t)n;
    dp_packet_shift_offsets(pkt, (long)n);
    return dp_packet_data(pkt);
}

void *
dp_packet_push(struct dp_packet *pkt, const void *p, size_t n)
{
    void *dst = dp_packet_push_uninit(pkt, n);

    memcpy(dst, p, n);
    return dst;
}

void *
dp_packet_pull(struct dp_packet *pkt, size_t n)
{
    void *old = dp_packet_data(pkt);

    if (n > pkt->size) {
        return NULL;
    }
    pkt->data_ofs += (uint32_t)n;
    pkt->size -= (uint32_t)n;
    dp_packet_shift_offsets(pkt, -(long)n);
    return old;
}

void *
dp_packet_put_uninit(struct dp_packet *pkt, size_t n)
{
    void *tail;

    dp_packet_prealloc_tailroom(pkt, n);
    tail = (uint8_t *)dp_packet_data(pkt) + pkt->size;
    pkt->size += (uint32_t)n;
    return tail;
}

void *
dp_packet_put(struct dp_packet *pkt, const void *p, size_t n)
{
    void *dst = dp_packet_put_uninit(pkt, n);

    if (n) {
        memcpy(dst, p, n);
    }
    return dst;
}

void
dp_packet_set_size(struct dp_packet *pkt, size_t size)
{
    if (size > pkt->size) {
        dp_packet_put_uninit(pkt, size - pkt->size);
    } else {
        pkt->size = (uint32_t)size;
        dp_packet_shift_offsets(pkt, 0);
    }
}

void
dp_packet_batch_delete_all(struct dp_packet_batch *batch)
{
    struct dp_packet *pkt;

    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        dp_packet_delete(pkt);
    }
    batch->count = 0;
}
