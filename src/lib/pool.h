/*
 * lib/pool.h — pools of fixed-size objects, carved from slabs.
 *
 * What it is for.  A flow setup allocates a few objects that live as long
 * as the cached flow (a datapath flow, a ukey) and are freed by another
 * thread after an RCU grace period.  With malloc() every such allocation
 * misses the allocating thread's cache (the frees fill the freeing
 * thread's), walks the arena's bins under its lock and, while the cache
 * grows, faults in the heap one page at a time.  A pool hands out objects
 * of one size from slabs it maps itself, takes frees from any thread
 * without a lock, and gives slabs back to the system once they are empty.
 *
 * Design.  A slab is POOL_SLAB_SIZE bytes, mapped aligned to its size, so
 * that the slab of an object (and with it the pool) is found by masking
 * the object's address: pool_free() needs no pool argument.  The slab
 * starts with a header; the objects follow, each 'obj_size' rounded up to
 * the pool's alignment.  A new slab is mapped and prefaulted in one call
 * (MADV_POPULATE_WRITE where the kernel has it), so a growing cache takes
 * one fault-in per slab instead of one page fault per few objects; its
 * objects are carved lazily, in address order.
 *
 * Each slab keeps a free list of its own objects and the count of
 * objects carved from it.  The pool keeps its slabs on three lists:
 * partial (live objects, and room), full (no room) and empty (no live
 * object).  pool_free() does not touch them: it pushes the object on the
 * pool's "returned" stack, a lock-free LIFO (a compare-and-swap per
 * push).  The whole stack is taken at once (an exchange, so no ABA) and
 * each object filed back with its slab, under the mutex: when an
 * allocation runs out of partial slabs, in the trims, and by the
 * pool_free() that brings the count on the stack to a slab's worth (if
 * it gets the mutex with a trylock; else a later one does).  A slab whose
 * last live object is filed goes on the empty list, stamped with the
 * time.  Allocation takes partial slabs first and empty ones only when it
 * must, so that empty slabs stay empty: a flow cache that shrinks and
 * grows back (a storm, a flush) reuses them without mapping and faulting
 * in memory again, and pool_trim_idle() (called periodically by the
 * owner) unmaps those that stayed empty long enough; pool_trim() unmaps
 * every empty slab at once.  So memory is bounded by the peak of live
 * objects and goes back once it is not wanted.

 * Objects come back uninitialized (pool_zalloc() zeroes them) and aligned
 * to the pool's alignment.  Under AddressSanitizer a free object is
 * poisoned but for its first word (the free-list link), so a use after
 * pool_free() is still reported; slabs are registered as LeakSanitizer
 * root regions, so the pointers that pooled objects hold still count.
 *
 * RCU.  A pool knows nothing of grace periods: call pool_free() where
 * free() was called, i.e. after the grace period that the object's
 * readers need.  The object may be handed out again at once.
 *
 * Thread safety.  pool_alloc(), pool_zalloc() and pool_trim() may be
 * called from any thread; they serialize on the pool's mutex (a few dozen
 * instructions when uncontended).  pool_free() may be called from any
 * thread and never blocks (it files with a trylock).  pool_destroy() is
 * for the owner, once; objects still allocated keep the pool alive, and
 * the last pool_free() unmaps it
 * (so an owner may destroy its pool while RCU callbacks that free its
 * objects are still pending).  pool_get_stats() reads relaxed counters.
 */
#ifndef FLOWSWITCH_LIB_POOL_H
#define FLOWSWITCH_LIB_POOL_H 1

#include <stddef.h>
#include <stdint.h>

/* Bytes per slab, and the alignment of every slab. */
#define POOL_SLAB_SIZE ((size_t)128 * 1024)

struct pool;

/* Creates a pool of objects of 'obj_size' bytes aligned to 'align' (a
 * power of 2, at most 4096; 0 means alignof(max_align_t)).  'name' (kept,
 * not copied) names the pool in fatal errors.  Aborts if one object does
 * not fit a slab. */
struct pool *pool_create(const char *name, size_t obj_size, size_t align);
/* Gives up the owner's hold: the pool goes once its last object is
 * freed (at once if none is allocated).  NULL is a no-op. */
void pool_destroy(struct pool *);

/* Returns an object (uninitialized, or zeroed).  Never NULL: aborts when
 * the system has no memory, like xmalloc(). */
void *pool_alloc(struct pool *);
void *pool_zalloc(struct pool *);
/* Returns 'obj' (from pool_alloc() of any pool) to its pool.  Any thread;
 * lock-free.  NULL is a no-op. */
void pool_free(void *obj);

/* Files the objects freed since the last allocation or trim back with
 * their slabs and unmaps every empty slab.  Returns the bytes unmapped. */
size_t pool_trim(struct pool *);
/* The same for the slabs empty for at least 'idle_ms' milliseconds. */
size_t pool_trim_idle(struct pool *, uint64_t idle_ms);

struct pool_stats {
    size_t obj_size;   /* Bytes an object takes in its slab. */
    size_t per_slab;   /* Objects a slab holds. */
    size_t n_live;     /* Objects allocated and not freed. */
    size_t n_slabs;    /* Slabs mapped. */
    size_t n_bytes;    /* n_slabs * POOL_SLAB_SIZE. */
    uint64_t n_maps;   /* Slabs ever mapped... */
    uint64_t n_unmaps; /* ...and unmapped. */
};

/* While the owner holds the pool. */
void pool_get_stats(const struct pool *, struct pool_stats *);

#endif /* lib/pool.h */
