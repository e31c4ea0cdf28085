/* lib/hash.c — byte-string hashing with XXH3 and the run-time choice of
 * the CRC32C step (see hash.h). */
#include "lib/hash.h"

#include <string.h>
#include <xxhash.h>

/* Aligned so that no written variable shares its cache line: every hash
 * reads it. */
_Alignas(64) bool hash_crc32c_hw;

/* Slicing-by-8 tables for the reflected Castagnoli polynomial:
 * hash_crc32c_table[0] is the byte-at-a-time table, and table[k][i] is
 * the CRC of byte i followed by k zero bytes. */
static uint32_t hash_crc32c_table[8][256];

/* Priority 101, the first one available to programs: other constructors
 * may hash. */
__attribute__((constructor(101))) static void
hash_crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
        hash_crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int k = 1; k < 8; k++) {
            uint32_t prev = hash_crc32c_table[k - 1][i];

            hash_crc32c_table[k][i] =
                (prev >> 8) ^ hash_crc32c_table[0][prev & 0xff];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    hash_crc32c_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t
hash_crc32c_sw(uint32_t crc, uint64_t data)
{
    const uint32_t(*t)[256] = hash_crc32c_table;
    uint32_t lo = crc ^ (uint32_t)data;
    uint32_t hi = (uint32_t)(data >> 32);

    return (t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff]
            ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff]
            ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24]);
}

uint32_t
hash_bytes(const void *p, size_t n, uint32_t basis)
{
    return (uint32_t)XXH3_64bits_withSeed(p, n, basis);
}

uint32_t
hash_murmur_bytes(const void *p_, size_t n, uint32_t basis)
{
    const uint8_t *p = p_;
    uint32_t hash = basis, word;
    size_t i;

    for (i = 0; i + 4 <= n; i += 4) {
        memcpy(&word, p + i, 4);
        hash = hash_mix32(hash, word);
    }
    if (i < n) {
        word = 0;
        memcpy(&word, p + i, n - i);
        hash = hash_mix32(hash, word);
    }
    return hash_finish(hash, (uint32_t)n);
}

uint32_t
hash_string(const char *s, uint32_t basis)
{
    return hash_bytes(s, strlen(s), basis);
}
