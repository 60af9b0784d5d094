/* Loading LFW into pair sets and image banks: a View 1 or View 2 pairs
 * file, or every image under a directory, decoded in parallel
 * (host/lfw_images.h) and cached (host/lfw_cache.h). The in-memory shapes
 * are host/dataset.h. */
#ifndef SIAM_LFW_LOAD_H
#define SIAM_LFW_LOAD_H

#include "host/dataset.h"

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

#endif
