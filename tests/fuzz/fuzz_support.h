/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and their seed
 * generator: a per-process scratch file for the readers that take a path,
 * and the image-cache key the cache harness reads against. Fuzzing only;
 * docs/fuzz.md. */
#ifndef SIAM_FUZZ_SUPPORT_H
#define SIAM_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "host/lfw_cache.h"

/* A path unique to this process (in /dev/shm when it exists, so that a
 * write per input stays in memory), ending in `suffix`; the same string on
 * every call with the same suffix. */
const char *siam_fuzz_path(const char *suffix);

/* Replaces the file at path with the n bytes of data; aborts on failure
 * (a harness that cannot write its input has nothing to test). */
void siam_fuzz_write(const char *path, const uint8_t *data, size_t n);

/* The key of the cache harness: three 4x4 images under /lfw. */
#define SIAM_FUZZ_CACHE_SIDE 4
#define SIAM_FUZZ_CACHE_COUNT 3
void siam_fuzz_cache_key(siam_cache_key *key);

#endif
