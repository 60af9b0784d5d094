/* PNG encoding of 8-bit images through stb_image_write (libstb), to memory
 * or atomically to a file. No decoding here. */
#ifndef SIAM_PNG_H
#define SIAM_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

/* Encodes height x width pixels of `channels` (1..4) interleaved uint8 into
 * a malloc'd PNG; the caller frees *out. */
int siam_png_encode(uint8_t **out, size_t *out_len, const uint8_t *pixels, int height,
                    int width, int channels, siam_error *err);

/* Encodes and writes `path` atomically (see atomic_file.h). */
int siam_png_write(const char *path, const uint8_t *pixels, int height, int width,
                   int channels, siam_error *err);

#endif
