/* In-memory pair sets: an image bank (uint8 grey images, decoded once) and
 * lists of pairs that index into it. Loading from LFW is host/lfw_load.h
 * (with the cache, decoder and pairs-file reader of the other lfw_*.h),
 * splitting host/split.h, the synthetic set host/synth.h; this header is
 * the shape every consumer (the training loop, the bindings, the CUDA
 * upload) relies on. */
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
    int crop;          /* centred crop side the images were cut to before resizing
                        * (host/lfw_images.h); 0: the whole source image */
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

/* The input size of the network (Koch et al. 2015, Section 4). */
#define SIAM_IMAGE_SIZE 105

/* Normalisation applied when a batch is assembled (ops->gather_normalize,
 * ops->augment_batch): x = (pixel / 255 - mean) / std. The default is plain
 * pixel / 255, values in [0, 1], as the seed did (docs/data.md). */
#define SIAM_DATA_MEAN 0.0f
#define SIAM_DATA_STD 1.0f

/* A bank with room for `count` images of height x width, refcount 1,
 * pixels zeroed. Names are set with siam_images_set_names. */
siam_images *siam_images_new(int count, int height, int width, const char *root,
                             siam_error *err);

/* Gives image i the name "person/file": people[i] = "person", names[i] =
 * "person/file". All strings live in one block owned by the bank. */
int siam_images_set_names(siam_images *im, const char *const *people, const char *const *files,
                          siam_error *err);

/* Person index of each image: out[i] in [0, people) numbers the distinct
 * people[] strings in order of first appearance. Returns the number of
 * people or -1. */
int siam_images_person_ids(const siam_images *im, int32_t *out, siam_error *err);

#endif
