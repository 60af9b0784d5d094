/* In-memory pair sets: an image bank (uint8 grey images, decoded once) and
 * lists of pairs that index into it. Loading, caching and splitting live in
 * the lfw_*.c / split.c files; this header is the shape every consumer (the
 * training loop, the bindings, the CUDA upload) relies on. */
#ifndef SIAM_DATASET_H
#define SIAM_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

/* Decoded images, H x W uint8 each, row-major, stored back to back.
 * Reference-counted because several pair sets (train/val splits) share one
 * bank: siam_images_retain / siam_images_release; the last release frees. */
typedef struct siam_images {
    int refcount;
    int count;
    int height, width;
    uint8_t *pixels;   /* count * height * width */
    char **names;      /* count entries, "Name/Name_0001.jpg" relative to root */
    char **people;     /* count entries, "Name" (pointer into names storage or own) */
    char *root;        /* image root directory the names are relative to */
} siam_images;

typedef struct siam_pair {
    int32_t a, b;      /* indices into the image bank */
    float label;       /* 1 matched (same person), 0 mismatched */
    int32_t fold;      /* View 2 fold (0-based); 0 for View 1 */
} siam_pair;

/* A list of pairs over one image bank. Owns `pairs` and one reference to
 * `images`. Free with siam_pairset_free (NULL is fine). */
typedef struct siam_pairset {
    siam_images *images;
    siam_pair *pairs;
    size_t count;
    int folds;         /* 1 for View 1, 10 for View 2 */
    char *source;      /* the pairs file (or "synthetic:...") it came from */
} siam_pairset;

void siam_images_retain(siam_images *im);
void siam_images_release(siam_images *im);

/* New pair set over `images` (retained) with room for `count` pairs. */
siam_pairset *siam_pairset_new(siam_images *images, size_t count, const char *source,
                               siam_error *err);
void siam_pairset_free(siam_pairset *ps);

#endif
