/*
 * classifier/cls-trie.h — private to src/classifier: the prefix trie that
 * lets a lookup skip a subtable after examining only a few leading bits of
 * an IP address (or of the L4 ports).
 *
 * The classifier keeps one trie per address field (nw_src, nw_dst,
 * ipv6_src, ipv6_dst).  For every entry of every subtable whose mask on the
 * field is a CIDR prefix of length P, the trie holds the entry's P-bit
 * prefix (counted, since several entries may share one).  Each subtable
 * that matches the L4 ports also keeps one, over tp_src:tp_dst as a 32-bit
 * value, holding its entries' masked ports (classifier.h).  A lookup walks
 * the trie along the packet's address and returns
 *   - the set of prefix lengths L for which the trie holds a prefix equal to
 *     the address's first L bits ('plens'), and
 *   - how many leading address bits it had to examine to learn that set;
 *     every address that agrees on those bits gets the same set for every
 *     length that matters (lengths beyond the point where the walk stopped
 *     are absent for all of them).
 * A subtable whose prefix length P is not in 'plens' cannot hold a rule
 * that matches the packet, and the proof depends only on
 * min(bits examined, P) leading address bits, which is all the lookup needs
 * to un-wildcard.
 *
 * Structure: a path-compressed binary trie whose nodes store their absolute
 * prefix (value and length), so a node never changes its identity: an
 * insertion only ever adds nodes (a new leaf, a new node above an existing
 * one, or a branch node), and a removal only ever drops a node whose count
 * reached zero, by making its parent point to its only child.  Each change
 * is one release store of a child pointer, so a concurrent reader sees a
 * trie that holds every prefix that was there before and after the change;
 * dropped nodes are freed after a grace period.
 *
 * Addresses are given as struct cls_prefix: host-order 32-bit words, most
 * significant bit of w[0] first (IPv4 uses w[0] only).
 *
 * Thread safety: cls_trie_lookup() may run in any number of readers inside
 * an RCU read-side section, concurrently with one writer; the other
 * functions are the writer's, serialized by the caller.
 */
#ifndef FLOWSWITCH_CLASSIFIER_CLS_TRIE_H
#define FLOWSWITCH_CLASSIFIER_CLS_TRIE_H 1

#include <stdbool.h>
#include <stdint.h>

#define CLS_TRIE_MAX_BITS 128
#define CLS_TRIE_MAX_WORDS (CLS_TRIE_MAX_BITS / 32)

struct cls_prefix {
    uint32_t w[CLS_TRIE_MAX_WORDS];
};

/* Set of prefix lengths 0..CLS_TRIE_MAX_BITS. */
struct cls_plens {
    uint64_t bits[(CLS_TRIE_MAX_BITS + 64) / 64];
};

static inline bool
cls_plens_contains(const struct cls_plens *plens, unsigned int plen)
{
    return (plens->bits[plen / 64] >> (plen % 64)) & 1;
}

struct cls_trie_node;

struct cls_trie {
    struct cls_trie_node *root; /* RCU. */
    unsigned int n_bits;        /* Width of the field: 32 or 128. */
};

void cls_trie_init(struct cls_trie *, unsigned int n_bits);
/* Retires every node after a grace period. */
void cls_trie_destroy(struct cls_trie *);
/* Adds one reference to the 'plen'-bit prefix of 'value' (1 <= plen <=
 * n_bits; bits of 'value' past 'plen' are ignored). */
void cls_trie_insert(struct cls_trie *, const struct cls_prefix *value,
                     unsigned int plen);
/* Drops one reference added by cls_trie_insert(). */
void cls_trie_remove(struct cls_trie *, const struct cls_prefix *value,
                     unsigned int plen);
/* Fills 'plens' for the address 'value' and returns the number of leading
 * bits of 'value' examined (0 for an empty trie).  Reader-safe. */
unsigned int cls_trie_lookup(const struct cls_trie *,
                             const struct cls_prefix *value,
                             struct cls_plens *plens);
/* Number of distinct prefixes (nodes with references).  Writer. */
unsigned int cls_trie_n_prefixes(const struct cls_trie *);

#endif /* classifier/cls-trie.h */
