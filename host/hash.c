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
#include <unistd.h>

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
    /* Refused before any read: a FIFO would block the caller forever. No
     * stream: the image cache hashes thousands of small files, where each
     * system call counts. */
    int error;
    mode_t mode;
    int fd = siam_open_regular_fd(path, &error, &mode);
    if (fd < 0)
        return siam_regular_file_fail(err, path, "it", error, mode);
    unsigned char buf[FILE_BLOCK];
    uint64_t h = SIAM_HASH64_INIT;
    for (;;) {
        /* Whole blocks, as the definition chains them. */
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t r = read(fd, buf + got, sizeof buf - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                int e = errno;
                close(fd);
                return siam_fail(err, "%s: read error: %s", path, strerror(e));
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        if (got > 0)
            h = siam_hash64(h, buf, got);
        if (got < sizeof buf)
            break;
    }
    close(fd);
    *out = h;
    return 0;
}
