/*
 * lib/hash.h — fast non-cryptographic hashing of 64-bit words.
 *
 * Flow keys are hashed a word at a time, visiting only the words a mask
 * cares about, so the hash is built incrementally: start from a basis, fold
 * in words with hash_add64(), and mix with hash_finish().
 *
 * Choice of function (measured by `flowswitch-bench parse`, figures in
 * docs/BENCHMARKS.md): hash_add64() is one CRC32C step per word (as Open
 * vSwitch does) and hash_finish() a murmur3 finalizer that spreads CRC's
 * linear structure over all 32 bits.  On the masked 5-10 word keys the
 * classifier hashes, that beats copying the masked words into a buffer for
 * XXH3 (libxxhash), which the benchmark also measures.
 *
 * Picking the CRC32C step.  A build for the build machine (meson option
 * native=true, so __SSE4_2__ on any recent x86-64) uses the SSE4.2 crc32
 * instruction unconditionally.  A portable build (the default) decides at
 * start-up: on x86-64 CPUs with SSE4.2 (nearly all) the step is the same
 * instruction, behind one well-predicted test of hash_crc32c_hw, written
 * as inline assembly because an intrinsic would need the whole caller
 * compiled for SSE4.2; elsewhere it is a table-driven software CRC32C
 * (slicing by 8).  Every path computes the same CRC32C, so hash values do
 * not depend on the build or the CPU.
 *
 * hash_bytes() hashes arbitrary byte strings (names, tables keyed by text)
 * with XXH3 from libxxhash.
 *
 * Thread safety: pure functions.
 */
#ifndef FLOWSWITCH_LIB_HASH_H
#define FLOWSWITCH_LIB_HASH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

/* Whether the CPU has the SSE4.2 crc32 instruction; set at start-up, before
 * any other constructor runs.  Always false off x86-64. */
extern bool hash_crc32c_hw;

/* The software CRC32C step over the 8 bytes of 'data' (little-endian
 * order, as the crc32q instruction takes them), without pre- or
 * post-inversion. */
uint32_t hash_crc32c_sw(uint32_t crc, uint64_t data);

/* One CRC32C step: the same value whichever way it is computed. */
static inline uint32_t
hash_crc32c(uint32_t crc, uint64_t data)
{
#if defined(__SSE4_2__)
    return (uint32_t)_mm_crc32_u64(crc, data);
#elif defined(__x86_64__)
    if (__builtin_expect(hash_crc32c_hw, 1)) {
        uint64_t c = crc;

        __asm__("crc32q %1, %0" : "+r"(c) : "rm"(data));
        return (uint32_t)c;
    }
    return hash_crc32c_sw(crc, data);
#else
    return hash_crc32c_sw(crc, data);
#endif
}

static inline uint32_t
hash_rot32(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static inline uint32_t
hash_mix32(uint32_t hash, uint32_t data)
{
    data *= 0xcc9e2d51;
    data = hash_rot32(data, 15);
    data *= 0x1b873593;
    hash ^= data;
    hash = hash_rot32(hash, 13);
    return hash * 5 + 0xe6546b64;
}

/* Folds 64-bit 'data' into 'hash'. */
static inline uint32_t
hash_add64(uint32_t hash, uint64_t data)
{
    return hash_crc32c(hash, data);
}

/* Final avalanche; 'n_bytes' is the length that was hashed. */
static inline uint32_t
hash_finish(uint32_t hash, uint32_t n_bytes)
{
    hash ^= n_bytes;
    hash ^= hash >> 16;
    hash *= 0x85ebca6b;
    hash ^= hash >> 13;
    hash *= 0xc2b2ae35;
    hash ^= hash >> 16;
    return hash;
}

/* Hash of 'n' words. */
static inline uint32_t
hash_words64(const uint64_t *p, size_t n, uint32_t basis)
{
    uint32_t hash = basis;

    for (size_t i = 0; i < n; i++) {
        hash = hash_add64(hash, p[i]);
    }
    return hash_finish(hash, (uint32_t)(n * 8));
}

/* Hash of a 32-bit value. */
static inline uint32_t
hash_int(uint32_t x, uint32_t basis)
{
    return hash_finish(hash_add64(basis, x), 4);
}

/* Open vSwitch's portable hashes (its lib/hash.h built without SSE 4.2,
 * as Debian builds it): Murmur3 steps, hash_mix32() per 32-bit word in
 * host order, hash_finish() at the end.  Used only where flowswitch must
 * choose what Open vSwitch chooses: a selection_method=hash group's
 * bucket (ofproto/xlate.c). */
static inline uint32_t
hash_murmur_int(uint32_t x, uint32_t basis)
{
    return hash_finish(hash_mix32(hash_mix32(x, 0), basis), 8);
}

static inline uint32_t
hash_murmur_uint64(uint64_t x)
{
    return hash_finish(
        hash_mix32(hash_mix32(0, (uint32_t)x), (uint32_t)(x >> 32)), 8);
}

uint32_t hash_murmur_bytes(const void *, size_t n, uint32_t basis);

/* Hash of an arbitrary byte string (XXH3). */
uint32_t hash_bytes(const void *, size_t n, uint32_t basis);
/* Hash of a NUL-terminated string. */
uint32_t hash_string(const char *, uint32_t basis);

#endif /* lib/hash.h */
