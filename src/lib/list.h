/*
 * lib/list.h — an intrusive, circular, doubly linked list.
 *
 * What it is for.  Orders that a hash map cannot keep: a least recently
 * used order (MAC learning), an installation order that dumps walk with a
 * marker node (the datapath's flows).  The caller embeds a struct list in
 * each element and finds the element back with CONTAINER_OF(); the list
 * allocates nothing, so insertion and removal cannot fail and cost four
 * pointer stores.
 *
 * Layout.  A list is a head node whose 'next' is the first element and
 * whose 'prev' is the last; the elements link back to it, so an empty
 * list is a head that points at itself and no operation has a special
 * case for the ends.  An element removed with list_remove() is left
 * pointing at itself, so removing it twice is harmless and
 * list_is_linked() tells whether it is on a list.
 *
 * Iteration.  LIST_FOR_EACH walks first to last; the element in hand must
 * stay on the list until the loop moves on.  LIST_FOR_EACH_SAFE reads the
 * next element before the body runs, so the body may remove (and free)
 * the element in hand, but not its successor.
 *
 * Thread safety: none.  The owner serializes every call (a mutex or a
 * write lock); readers that hold a read lock may iterate concurrently
 * with each other.
 */
#ifndef FLOWSWITCH_LIB_LIST_H
#define FLOWSWITCH_LIB_LIST_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

struct list {
    struct list *prev, *next;
};

/* A head that is an empty list, as a static initializer. */
#define LIST_INITIALIZER(LIST)                                                \
    {                                                                         \
        LIST, LIST                                                            \
    }

/* Makes 'list' an empty list (or an unlinked element). */
static inline void
list_init(struct list *list)
{
    list->prev = list->next = list;
}

static inline bool
list_is_empty(const struct list *list)
{
    return list->next == list;
}

/* True if 'elem' is on a list (it was inserted and not removed since). */
static inline bool
list_is_linked(const struct list *elem)
{
    return elem->next != elem;
}

/* Inserts 'elem' just before 'pos' (a head: at the back of that list). */
static inline void
list_insert(struct list *pos, struct list *elem)
{
    elem->prev = pos->prev;
    elem->next = pos;
    pos->prev->next = elem;
    pos->prev = elem;
}

static inline void
list_push_back(struct list *list, struct list *elem)
{
    list_insert(list, elem);
}

static inline void
list_push_front(struct list *list, struct list *elem)
{
    list_insert(list->next, elem);
}

/* Unlinks 'elem' from its list, leaves it unlinked (pointing at itself)
 * and returns the element that followed it. */
static inline struct list *
list_remove(struct list *elem)
{
    struct list *next = elem->next;

    elem->prev->next = next;
    next->prev = elem->prev;
    list_init(elem);
    return next;
}

/* The first and last elements of a nonempty 'list'. */
static inline struct list *
list_front(const struct list *list)
{
    return list->next;
}

static inline struct list *
list_back(const struct list *list)
{
    return list->prev;
}

/* Removes and returns the first element of a nonempty 'list'. */
static inline struct list *
list_pop_front(struct list *list)
{
    struct list *front = list->next;

    list_remove(front);
    return front;
}

/* Counts the elements: O(n), for tests and statistics. */
static inline size_t
list_size(const struct list *list)
{
    size_t n = 0;

    for (const struct list *e = list->next; e != list; e = e->next) {
        n++;
    }
    return n;
}

/* Iterates ITER (a pointer to the element type) over LIST, whose nodes
 * are ITER's MEMBER, first to last. */
#define LIST_FOR_EACH(ITER, MEMBER, LIST)                                     \
    for (struct list *node__ = (LIST)->next;                                  \
         node__ != (LIST)                                                     \
         && ((ITER) = CONTAINER_OF(node__, __typeof__(*(ITER)), MEMBER), 1);  \
         node__ = node__->next)

/* The same, but the body may remove the element in hand. */
#define LIST_FOR_EACH_SAFE(ITER, MEMBER, LIST)                                \
    for (struct list *node__ = (LIST)->next, *next__ = node__->next;          \
         node__ != (LIST)                                                     \
         && ((ITER) = CONTAINER_OF(node__, __typeof__(*(ITER)), MEMBER), 1);  \
         node__ = next__, next__ = node__->next)

#endif /* lib/list.h */
