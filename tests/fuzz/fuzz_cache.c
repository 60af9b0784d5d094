/* libFuzzer harness: the image cache reader (host/lfw_cache.h,
 * siam_cache_read) against a fixed key (fuzz_support.h), from a file. */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    siam_cache_key key;
    siam_fuzz_cache_key(&key);
    uint8_t pixels[SIAM_FUZZ_CACHE_COUNT * SIAM_FUZZ_CACHE_SIDE * SIAM_FUZZ_CACHE_SIDE];
    char why[256];
    const char *path = siam_fuzz_path(".cache");
    siam_fuzz_write(path, data, size);
    siam_cache_read(path, &key, pixels, why, sizeof why);
    return 0;
}
