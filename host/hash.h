/* A fast 64-bit hash for recognising inputs (pairs files, image lists) and
 * checking cache bodies. Not cryptographic: it detects accidents, not
 * attacks. */
#ifndef SIAM_HASH_H
#define SIAM_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

#define SIAM_HASH64_INIT 0xcbf29ce484222325ull

/* Continues hash h over len bytes. A chain of calls hashes the sequence of
 * pieces (each piece's length counts), not their concatenation. */
uint64_t siam_hash64(uint64_t h, const void *data, size_t len);
uint64_t siam_hash64_u64(uint64_t h, uint64_t v);

/* The value siam_hash64_file gives a file holding these bytes, for a
 * caller that has read the file already. */
uint64_t siam_hash64_blocks(const void *data, size_t len);

/* The hash of a whole file's bytes: siam_hash64 from SIAM_HASH64_INIT
 * chained over its 64 KiB blocks in order (the last may be shorter), so the
 * same content always gives the same value. Fails with "<path>: cannot
 * open it: ..." or "<path>: not a regular file (a FIFO)" (host/
 * regular_file.h) before reading anything that is not a regular file. */
int siam_hash64_file(const char *path, uint64_t *out, siam_error *err);

#endif
