/* What a pair set is, as one number: a 64-bit fingerprint of its content
 * (image size and crop, every image's name and pixels, every pair's images,
 * label and fold), so that two sets with the same fingerprint train and
 * evaluate alike wherever their files lie. Run folders and checkpoints
 * record it to tell one data set from another (docs/logging.md). */
#ifndef SIAM_SET_IDENTITY_H
#define SIAM_SET_IDENTITY_H

#include <stdint.h>

#include "host/dataset.h"

/* Fingerprint of the bank alone: size, crop, names and pixels. */
uint64_t siam_images_fingerprint(const siam_images *im);

/* Fingerprint of the set: its bank's, then the pairs in order. A split or
 * subset of a set has its own fingerprint; a copy has the same one. */
uint64_t siam_pairset_fingerprint(const siam_pairset *ps);

/* The fingerprint as 16 lowercase hex digits and a NUL. */
void siam_fingerprint_hex(uint64_t fp, char out[17]);

#endif
