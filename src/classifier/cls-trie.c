/* classifier/cls-trie.c — RCU prefix trie over IP addresses and L4 ports
 * (see cls-trie.h). */
#include "classifier/cls-trie.h"

#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/rcu.h"
#include "lib/util.h"

struct cls_trie_node {
    struct cls_trie_node *child[2]; /* RCU: by the bit at offset 'plen'. */
    unsigned int plen;              /* Length of the prefix. */
    unsigned int n_refs;            /* Atomic: prefixes inserted here. */
    struct cls_prefix value;        /* Bits past 'plen' are zero. */
};

static unsigned int
cls_prefix_bit(const struct cls_prefix *p, unsigned int ofs)
{
    return (p->w[ofs / 32] >> (31 - ofs % 32)) & 1;
}

/* Offset of the first bit where 'a' and 'b' differ, looking at words
 * 'start' to 'n_words' - 1 only (the earlier ones are known equal), or
 * n_words * 32 if they agree. */
static unsigned int
cls_prefix_first_diff(const struct cls_prefix *a, const struct cls_prefix *b,
                      unsigned int start, unsigned int n_words)
{
    for (unsigned int i = start; i < n_words; i++) {
        uint32_t x = a->w[i] ^ b->w[i];

        if (x) {
            return i * 32 + (unsigned int)__builtin_clz(x);
        }
    }
    return n_words * 32;
}

static void
cls_prefix_truncate(struct cls_prefix *dst, const struct cls_prefix *src,
                    unsigned int plen)
{
    for (unsigned int i = 0; i < CLS_TRIE_MAX_WORDS; i++) {
        unsigned int start = i * 32;

        if (plen >= start + 32) {
            dst->w[i] = src->w[i];
        } else if (plen <= start) {
            dst->w[i] = 0;
        } else {
            dst->w[i] = src->w[i] & ~(UINT32_MAX >> (plen - start));
        }
    }
}

static struct cls_trie_node *
cls_trie_node_create(const struct cls_prefix *value, unsigned int plen,
                     unsigned int n_refs)
{
    struct cls_trie_node *node = xmalloc(sizeof *node);

    node->child[0] = node->child[1] = NULL;
    node->plen = plen;
    node->n_refs = n_refs;
    cls_prefix_truncate(&node->value, value, plen);
    return node;
}

void
cls_trie_init(struct cls_trie *trie, unsigned int n_bits)
{
    trie->root = NULL;
    trie->n_bits = n_bits;
}

static void
cls_trie_retire_subtree(struct cls_trie_node *node)
{
    if (node) {
        cls_trie_retire_subtree(node->child[0]);
        cls_trie_retire_subtree(node->child[1]);
        rcu_postpone_free(node);
    }
}

void
cls_trie_destroy(struct cls_trie *trie)
{
    struct cls_trie_node *root = trie->root;

    atomic_store_release(&trie->root, NULL);
    cls_trie_retire_subtree(root);
}

void
cls_trie_insert(struct cls_trie *trie, const struct cls_prefix *value,
                unsigned int plen)
{
    unsigned int n_words = trie->n_bits / 32;
    struct cls_trie_node **slot = &trie->root;

    for (;;) {
        struct cls_trie_node *node = *slot;
        struct cls_trie_node *new;

        if (!node) {
            atomic_store_release(slot, cls_trie_node_create(value, plen, 1));
            return;
        }

        unsigned int common =
            cls_prefix_first_diff(value, &node->value, 0, n_words);
        common = MIN(common, MIN(plen, node->plen));
        if (common == node->plen) {
            if (plen == node->plen) {
                atomic_store_relaxed(&node->n_refs, node->n_refs + 1);
                return;
            }
            slot = &node->child[cls_prefix_bit(value, node->plen)];
            continue;
        }

        /* The new prefix leaves 'node''s path before 'node'. */
        if (common == plen) {
            /* ...because it is a prefix of 'node': goes right above it. */
            new = cls_trie_node_create(value, plen, 1);
            new->child[cls_prefix_bit(&node->value, plen)] = node;
        } else {
            /* ...because they differ at bit 'common': a branch node. */
            new = cls_trie_node_create(value, common, 0);
            new->child[cls_prefix_bit(&node->value, common)] = node;
            new->child[cls_prefix_bit(value, common)] =
                cls_trie_node_create(value, plen, 1);
        }
        atomic_store_release(slot, new);
        return;
    }
}

void
cls_trie_remove(struct cls_trie *trie, const struct cls_prefix *value,
                unsigned int plen)
{
    unsigned int n_words = trie->n_bits / 32;
    struct cls_trie_node **parent_slot = NULL;
    struct cls_trie_node **slot = &trie->root;
    struct cls_trie_node *node;

    for (;;) {
        node = *slot;
        if (!node || node->plen > plen
            || cls_prefix_first_diff(value, &node->value, 0, n_words)
                   < node->plen) {
            fatal("classifier: removing absent /%u prefix from a trie", plen);
        }
        if (node->plen == plen) {
            break;
        }
        parent_slot = slot;
        slot = &node->child[cls_prefix_bit(value, node->plen)];
    }
    if (!node->n_refs) {
        fatal("classifier: removing unreferenced /%u prefix", plen);
    }
    atomic_store_relaxed(&node->n_refs, node->n_refs - 1);
    if (node->n_refs || (node->child[0] && node->child[1])) {
        /* Still a prefix, or still a branch node. */
        return;
    }

    /* Drop 'node': its parent adopts its only child, if any. */
    struct cls_trie_node *only =
        node->child[0] ? node->child[0] : node->child[1];
    atomic_store_release(slot, only);
    rcu_postpone_free(node);

    /* A branch node left with one child is useless: drop it too. */
    if (!only && parent_slot) {
        struct cls_trie_node *parent = *parent_slot;

        if (!parent->n_refs) {
            struct cls_trie_node *other =
                parent->child[0] ? parent->child[0] : parent->child[1];
            atomic_store_release(parent_slot, other);
            rcu_postpone_free(parent);
        }
    }
}

unsigned int
cls_trie_lookup(const struct cls_trie *trie, const struct cls_prefix *value,
                struct cls_plens *plens)
{
    unsigned int n_words = trie->n_bits / 32;
    const struct cls_trie_node *node = atomic_load_acquire(&trie->root);
    const struct cls_trie_node *prev = NULL;
    unsigned int match_len = 0;

    memset(plens, 0, sizeof *plens);
    while (node) {
        unsigned int diff = cls_prefix_first_diff(value, &node->value,
                                                  match_len / 32, n_words);
        if (diff < node->plen) {
            /* Mismatch inside the node's prefix: bit 'diff' decided. */
            return diff + 1;
        }
        match_len = node->plen;
        if (atomic_load_relaxed(&node->n_refs)) {
            plens->bits[match_len / 64] |= UINT64_C(1) << (match_len % 64);
        }
        if (match_len >= trie->n_bits) {
            return trie->n_bits;
        }
        prev = node;
        node = atomic_load_acquire(
            &node->child[cls_prefix_bit(value, match_len)]);
    }
    /* The walk tried to follow a missing branch: the bit at 'match_len'
     * decided, unless 'prev' has no branch at all (or the trie is empty). */
    if (!prev
        || (!atomic_load_acquire(&prev->child[0])
            && !atomic_load_acquire(&prev->child[1]))) {
        return match_len;
    }
    return match_len + 1;
}

static unsigned int
cls_trie_count(const struct cls_trie_node *node)
{
    if (!node) {
        return 0;
    }
    return (node->n_refs > 0) + cls_trie_count(node->child[0])
           + cls_trie_count(node->child[1]);
}

unsigned int
cls_trie_n_prefixes(const struct cls_trie *trie)
{
    return cls_trie_count(trie->root);
}
