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

typedef struct siam_load_options {
    int height, width;     /* output size (SIAM_IMAGE_SIZE) */
    int crop;              /* side of the centred square cut from each source image
                            * before resizing (host/lfw_images.h); 0: whole image */
    int threads;           /* decoding threads; 0: one per core */
    int use_cache;         /* read and write the cache (1) */
    const char *cache_dir; /* NULL: $SIAMLUA_CACHE, else ~/.cache/siamlua (created) */
    int all_of_people;     /* siam_pairset_load: the bank also holds every other image
                            * (root/Name/Name_NNNN.jpg|.png) of each person the pairs
                            * name, for drawing more pairs (host/pair_sampler.h); 0 */
} siam_load_options;

void siam_load_options_init(siam_load_options *opt);

/* What a load did, for the caller to print. */
typedef struct siam_load_report {
    int from_cache;        /* images came from the cache */
    int cache_written;     /* a new cache file was written */
    int decoded;           /* images decoded (0 on a cache hit) */
    double seconds;        /* wall time of the whole load */
    char cache_path[1024]; /* "" when the cache was not used */
    char note[256];        /* why the cache missed or could not be written */
} siam_load_report;

/* Loads a View 1 or View 2 pairs file over the images in image_root
 * (root/Name/Name_0001.jpg, or .png when no .jpg exists). Each distinct image
 * is decoded once; the bank is sorted by person name (strcmp), then number. Returns a new set (free
 * with siam_pairset_free) or NULL with "file:line: ..." in err. opt and rep
 * may be NULL. */
siam_pairset *siam_pairset_load(const char *pairs_path, const char *image_root,
                                const siam_load_options *opt, siam_load_report *rep,
                                siam_error *err);

/* Loads every image under image_root (root/Name/<file>.jpg|.jpeg|.png),
 * sorted by person name, then file name (strcmp). Returns a bank the caller releases, or NULL. */
siam_images *siam_images_load_dir(const char *image_root, const siam_load_options *opt,
                                  siam_load_report *rep, siam_error *err);

/* Person index of each image: out[i] in [0, people) numbers the distinct
 * people[] strings in order of first appearance. Returns the number of
 * people or -1. */
int siam_images_person_ids(const siam_images *im, int32_t *out, siam_error *err);

#endif
