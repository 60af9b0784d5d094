/* Image decoding for the data sets: any format stb_image reads (JPEG, PNG,
 * ...), converted to one channel (luma: JPEG's Y, or stb's
 * (77R + 150G + 29B) >> 8 for RGB sources), optionally cut to its centred
 * crop x crop square (crop 0: the whole image), resized to the requested
 * size (host/resize.h), kept as uint8.
 *
 * The crop exists because LFW's 250x250 images hold the face in roughly their
 * central 120 pixels: resizing the whole image to 105 leaves the face about
 * 50 pixels wide, most of the input being background. */
#ifndef SIAM_LFW_IMAGES_H
#define SIAM_LFW_IMAGES_H

#include <stdint.h>

#include "kernels/error.h"

/* Decodes the file at `path` into out (H x W, uint8). Empty, truncated,
 * corrupt and non-image files fail with "path: what is wrong", and so does a
 * crop larger than the image's shorter side. For an odd difference the extra
 * pixel is left at the bottom/right. */
int siam_image_decode_file(uint8_t *out, int H, int W, int crop, const char *path,
                           siam_error *err);

/* The checks decoding makes before it decodes: the image's size from its
 * header into *w, *h, or -1 with "name: what is wrong" for an empty,
 * unreadable, oversized (side above 8192, a PNG's and a JPEG's read from
 * their headers, which stb_image would only call an unknown image type) or
 * truncated file (a PNG chunk running past the end included), or a JPEG
 * whose Huffman tables stb_image would mishandle (host/image_check.h).
 * Cheap: nothing is decoded. */
int siam_image_probe_memory(const unsigned char *bytes, size_t len, const char *name, int *w,
                            int *h, siam_error *err);

/* The same on bytes in memory; `name` is used in messages. */
int siam_image_decode_memory(uint8_t *out, int H, int W, int crop, const unsigned char *bytes,
                             size_t len, const char *name, siam_error *err);

/* Decodes paths[0..count) into pixels + i*H*W, on `threads` threads
 * (0: one per online core). Each path is read and decoded exactly once;
 * when `hashes` is non-NULL, hashes[i] is siam_hash64_blocks of the bytes
 * read for paths[i] (what the image cache's key records). On failure
 * returns -1 with the message of the failing path of lowest index (so the
 * message does not depend on thread timing). */
int siam_image_decode_all(uint8_t *pixels, int H, int W, int crop, const char *const *paths,
                          int count, int threads, uint64_t *hashes, siam_error *err);

#endif
