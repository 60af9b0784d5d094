/* JPEG decoding to one luma channel with libjpeg-turbo, keeping only a
 * centred rectangle. libjpeg-turbo's SIMD decoder, asked for grey output,
 * skips the chroma components of a YCbCr file altogether, and with
 * jpeg_crop_scanline / jpeg_skip_scanlines it decodes only the block
 * columns and rows the rectangle touches: for LFW's 250x250 images and the
 * 140 crop that is about a third of the blocks (docs/data.md has the
 * speeds). Used by host/lfw_images.c for every JPEG; other formats stay with
 * stb_image. */
#ifndef SIAM_JPEG_DECODE_H
#define SIAM_JPEG_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

/* Decodes the JPEG in bytes[0..len) and writes the centred cw x ch
 * rectangle of its luma into *out (malloc'ed, cw*ch bytes, row-major; the
 * caller frees it); cw = ch = 0 asks for the whole image. *w, *h receive the
 * image's size. The rectangle's offset is ((w - cw) / 2, (h - ch) / 2), as a
 * crop of the whole decoded image would have it. Luma is the file's Y for
 * YCbCr and grey files (what stb_image 2.27 gave too), and stb_image's grey
 * of RGB, CMYK and YCCK files, so that a JPEG's pixels stay within one grey
 * level of what they were under stb_image (two for CMYK and YCCK, whose
 * two multiplied channels each carry the decoders' IDCT differences; for
 * all 13,233 LFW images: docs/data.md). Corrupt data, including what
 * libjpeg would only warn about and patch over, fails with "name: corrupt
 * JPEG (libjpeg's message)"; a rectangle larger than the image fails with
 * "name: crop ... is larger than the WxH image". */
int siam_jpeg_decode_luma(const unsigned char *bytes, size_t len, int cw, int ch,
                          const char *name, uint8_t **out, int *w, int *h, siam_error *err);

#endif
