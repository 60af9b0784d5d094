/* libFuzzer harness: image decoding as the data loader does it
 * (host/lfw_images.h: the checks, stb_image, grey conversion, centred crop,
 * resize), on bytes in memory, whole and with a crop. stb_image is
 * compiled into the harness (stb_image_impl.c) so that the fuzzer sees its
 * branches. Inputs the checks pass with more than 256x256 pixels are only
 * probed: a mutated header asks for up to the loader's 8192x8192, whose
 * decode takes a second and goes through the same code as a small one. */
#include <stddef.h>
#include <stdint.h>

#include "host/lfw_images.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int w, h;
    siam_error err;
    if (siam_image_probe_memory(data, size, "fuzz", &w, &h, &err) == 0 &&
        (long)w * h > 256 * 256)
        return 0;
    uint8_t out[24 * 24];
    siam_image_decode_memory(out, 24, 24, 0, data, size, "fuzz", &err);
    siam_image_decode_memory(out, 24, 24, 6, data, size, "fuzz", &err);
    return 0;
}
