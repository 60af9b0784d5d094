/* What a saved model needs besides its weights to be used as it was
 * trained: the decision threshold, the crop of its training images, the
 * test-time augmentation, and how it was initialised. Format 3 checkpoints
 * hold it (host/checkpoint.h); for older files it came from a text sidecar
 * "<ckpt>.meta", still read here. */
#ifndef SIAM_MODEL_META_H
#define SIAM_MODEL_META_H

#include <stdint.h>

#include "host/model.h"
#include "host/predict.h"
#include "kernels/error.h"

typedef struct siam_model_meta {
    double threshold;    /* a pair is a match when p >= threshold; in [0, 1] */
    int crop;            /* centred crop of the training images (0: whole image);
                          * -1: not known (never trained) */
    siam_tta tta;        /* test-time augmentation of prediction */
    siam_init_kind init; /* how the weights were initialised, and from which seed */
    uint64_t seed;
} siam_model_meta;

/* Threshold 0.5, crop -1, tta none, init paper, seed 0: what a checkpoint
 * without any of it (a format 1-2 file without its sidecar) is read as. */
void siam_model_meta_default(siam_model_meta *meta);

/* Refuses a value outside its range, naming the field ("threshold 1.5 is
 * outside [0, 1]"). */
int siam_model_meta_check(const siam_model_meta *meta, siam_error *err);

/* Reads "<ckpt_path>.meta", the sidecar of format 1-2 checkpoints: lines
 * "key value" with the keys threshold, init, seed, crop and tta, each at
 * most once. Returns 0 with *found 0 and `meta` unchanged when there is no
 * such file, 0 with *found 1 after reading it, -1 with "<file>:<line>: ..."
 * naming the key or value at fault (an unknown or misspelt key included);
 * on failure `meta` is unchanged. */
int siam_model_meta_read_sidecar(const char *ckpt_path, siam_model_meta *meta, int *found,
                                 siam_error *err);

#endif
