/* lib/hash.c — byte-string hashing with XXH3 (see hash.h). */
#include "lib/hash.h"

#include <string.h>
#include <xxhash.h>

uint32_t
hash_bytes(const void *p, size_t n, uint32_t basis)
{
    return (uint32_t)XXH3_64bits_withSeed(p, n, basis);
}

uint32_t
hash_string(const char *s, uint32_t basis)
{
    return hash_bytes(s, strlen(s), basis);
}
