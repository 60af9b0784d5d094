/* Resizing of one-channel uint8 images to the network's input size. */
#ifndef SIAM_RESIZE_H
#define SIAM_RESIZE_H

#include <stdint.h>

#include "kernels/error.h"

/* dst (dh,dw) from src (sh,sw), both row-major with no padding. Shrinking
 * averages over each output pixel's footprint (exact-area box filter, as
 * OpenCV INTER_AREA and Pillow BOX); when either side grows it uses
 * stb_image_resize's default (Catmull-Rom up, Mitchell down). Equal sizes
 * copy. Never nearest-neighbour. */
int siam_resize_u8(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw,
                   siam_error *err);

#endif
