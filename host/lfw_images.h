/* Image decoding for the data sets: any format stb_image reads (JPEG, PNG,
 * ...), converted to one channel (luma: JPEG's Y, or stb's
 * (77R + 150G + 29B) >> 8 for RGB sources), resized to the requested size
 * (host/resize.h), kept as uint8. */
#ifndef SIAM_LFW_IMAGES_H
#define SIAM_LFW_IMAGES_H

#include <stdint.h>

#include "kernels/error.h"

/* Decodes the file at `path` into out (H x W, uint8). Empty, truncated,
 * corrupt and non-image files fail with "path: what is wrong". */
int siam_image_decode_file(uint8_t *out, int H, int W, const char *path, siam_error *err);

/* The same on bytes in memory; `name` is used in messages. */
int siam_image_decode_memory(uint8_t *out, int H, int W, const unsigned char *bytes, size_t len,
                             const char *name, siam_error *err);

/* Decodes paths[0..count) into pixels + i*H*W, on `threads` threads
 * (0: one per online core). Each path is decoded exactly once. On failure
 * returns -1 with the message of the failing path of lowest index (so the
 * message does not depend on thread timing). */
int siam_image_decode_all(uint8_t *pixels, int H, int W, const char *const *paths, int count,
                          int threads, siam_error *err);

#endif
