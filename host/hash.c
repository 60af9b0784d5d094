/* siam_hash64: word-at-a-time multiply-xorshift mixing (the finaliser of
 * MurmurHash3/splitmix64 applied per 8-byte word), about 1 byte per cycle so
 * that checking a 40 MB cache costs a few milliseconds. */
#include "host/hash.h"

#include "host/regular_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

uint64_t siam_hash64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix(h, w);
    }
    uint64_t tail = 0;
    if (len > i)
        memcpy(&tail, p + i, len - i);
    /* The length goes in with the tail so that "ab" and "ab\0" differ. */
    h = mix(h, tail ^ ((uint64_t)(len - i) << 56));
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return h;
}

uint64_t siam_hash64_u64(uint64_t h, uint64_t v)
{
    return siam_hash64(h, &v, sizeof v);
}

#define FILE_BLOCK (1 << 16)

uint64_t siam_hash64_blocks(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = SIAM_HASH64_INIT;
    for (size_t at = 0; at < len; at += FILE_BLOCK)
        h = siam_hash64(h, p + at, len - at < FILE_BLOCK ? len - at : FILE_BLOCK);
    return h;
}

int siam_hash64_file(const char *path, uint64_t *out, siam_error *err)
{
    /* Refused before any read: a FIFO would block the caller forever. */
    FILE *f = siam_open_regular(path, "it", err);
    if (f == NULL)
        return -1;
    /* On the stack: the image cache hashes thousands of small files, and a
     * 64 KiB malloc per file made the heap grow and shrink for each. */
    unsigned char buf[FILE_BLOCK];
    uint64_t h = SIAM_HASH64_INIT;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        h = siam_hash64(h, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return siam_fail(err, "%s: read error", path);
    *out = h;
    return 0;
}
