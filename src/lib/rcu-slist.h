/*
 * lib/rcu-slist.h — an intrusive singly linked list that readers walk
 * without a lock, under RCU, while one writer links and unlinks nodes.
 *
 * What it is for.  Short chains that readers traverse on a hot path and a
 * writer keeps in an order of its own: the rules of one classifier entry,
 * by priority.  The writer finds the place (a pointer to the link that
 * should point to the node: the head, or the 'next' of the node before)
 * and links or unlinks there; this header publishes the change so that a
 * concurrent reader sees either the old chain or the new one, never a
 * broken one.
 *
 * Design.  A node holds one link, 'next'.  Linking stores the node's
 * 'next' first, then publishes the node with a release store in the link
 * before it: a reader that loads the node (acquire) sees the node's
 * contents and its 'next'.  Unlinking makes the link before point past
 * the node with one release store and leaves the node's own 'next' as it
 * is, so a reader standing on the removed node still walks on to the rest
 * of the chain.  The writer frees an unlinked node only after a grace
 * period of the readers' RCU flavour (lib/rcu.h).  No doubly linked
 * variant: readers go one way, and the writer finds the link before a
 * node by walking from the head (the chains are short).
 *
 * Thread safety.  Readers (rcu_slist_first(), rcu_slist_next()) inside a
 * read-side section, concurrently with one writer; the functions that
 * change a list are the writer's, serialized by the owner.
 */
#ifndef FLOWSWITCH_LIB_RCU_SLIST_H
#define FLOWSWITCH_LIB_RCU_SLIST_H 1

#include <stddef.h>

#include "lib/atomic.h"

struct rcu_slist_node {
    struct rcu_slist_node *next; /* RCU. */
};

/* The first node of the list whose head is '*head', or NULL.  Reader. */
static inline struct rcu_slist_node *
rcu_slist_first(struct rcu_slist_node *const *head)
{
    return atomic_load_acquire(head);
}

/* The node after 'node', or NULL.  Reader. */
static inline struct rcu_slist_node *
rcu_slist_next(const struct rcu_slist_node *node)
{
    return atomic_load_acquire(&node->next);
}

/* Writer: links 'node' at 'link' (a list's head or a node's 'next'),
 * before the node 'link' pointed to. */
static inline void
rcu_slist_insert(struct rcu_slist_node **link, struct rcu_slist_node *node)
{
    atomic_store_relaxed(&node->next, *link);
    atomic_store_release(link, node);
}

/* Writer: unlinks the node 'link' points to (which must not be NULL).
 * Free it after a grace period. */
static inline void
rcu_slist_remove(struct rcu_slist_node **link)
{
    atomic_store_release(link, (*link)->next);
}

#endif /* lib/rcu-slist.h */
