/*
 * lib/batch-index.h — a hash index over the entries of one batch, in a
 * fixed array that the batch clears and fills.
 *
 * What it is for.  A batch stage that groups or de-duplicates the entries
 * it keeps in an array of its own, at most BATCH_INDEX_MAX of them: the
 * upcall handler groups a batch's upcalls into flow misses by flow key,
 * and finds a miss whose megaflow an earlier miss of the batch already
 * installed.  The index maps a hash to positions in the owner's array,
 * so finding an earlier entry equal to a new one is one probe rather
 * than a scan of the batch.  It stores no keys and no hashes: the caller
 * confirms each candidate by comparing its entry (usually a hash the
 * entry keeps first, then the key).
 *
 * Why not lib/ptrmap.h.  A ptrmap lives on the heap, grows, and has no
 * cheaper way to empty it than removing each entry; a batch index is
 * part of its owner, is emptied by zeroing two cache lines, and a probe
 * is a byte load and a compare — it is on the flow-setup path, once or
 * twice per miss.  What it gives up: removal, growth, and more than
 * BATCH_INDEX_MAX entries between two clears.
 *
 * Layout.  Open addressing with linear probing over BATCH_INDEX_SLOTS
 * one-byte slots (twice BATCH_INDEX_MAX, so the index is at most half
 * full and a probe run short), each 0 (free) or an entry's position + 1.
 * An entry is filed in the first free slot at or after its hash's home
 * slot (hash & (BATCH_INDEX_SLOTS - 1)).  BATCH_INDEX_FOR_EACH visits the
 * run of used slots that starts at the home slot: every entry filed under
 * the hash, and maybe entries of other hashes that landed in the run.
 *
 * Thread safety: none.  A batch, and its index, belong to one thread at
 * a time.
 */
#ifndef FLOWSWITCH_LIB_BATCH_INDEX_H
#define FLOWSWITCH_LIB_BATCH_INDEX_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/util.h"

#define BATCH_INDEX_MAX 64 /* Entries between two clears, at most. */
#define BATCH_INDEX_SLOTS (2 * BATCH_INDEX_MAX)
BUILD_ASSERT(BATCH_INDEX_MAX < 256); /* A position + 1 fits a slot. */
BUILD_ASSERT((BATCH_INDEX_SLOTS & (BATCH_INDEX_SLOTS - 1)) == 0);

struct batch_index {
    uint8_t slots[BATCH_INDEX_SLOTS]; /* 0: free; else a position + 1. */
};

/* Forgets every entry (before each batch). */
static inline void
batch_index_clear(struct batch_index *ix)
{
    memset(ix->slots, 0, sizeof ix->slots);
}

/* Files position 'idx' (< BATCH_INDEX_MAX) under 'hash'.  The caller adds
 * at most BATCH_INDEX_MAX entries between two clears (more would loop
 * forever once every slot is used). */
static inline void
batch_index_add(struct batch_index *ix, uint32_t hash, size_t idx)
{
    uint32_t i = hash & (BATCH_INDEX_SLOTS - 1);

    while (ix->slots[i]) {
        i = (i + 1) & (BATCH_INDEX_SLOTS - 1);
    }
    ix->slots[i] = (uint8_t)(idx + 1);
}

/* Iterates IDX (a size_t) over the candidate positions for HASH in IX,
 * in the order they were filed.  The body must not add to IX. */
#define BATCH_INDEX_FOR_EACH(IDX, HASH, IX)                                   \
    for (uint32_t slot__ = (HASH) & (BATCH_INDEX_SLOTS - 1);                  \
         (IX)->slots[slot__] && ((IDX) = (IX)->slots[slot__] - 1u, true);     \
         slot__ = (slot__ + 1) & (BATCH_INDEX_SLOTS - 1))

#endif /* lib/batch-index.h */
