/* A tiny synthetic pair set for training tests, built in memory without
 * the data loaders: `people` prototype images of Philox noise, each seen in
 * `per_person` noisy variants; pairs of two variants of one prototype are
 * matches. Test support only. */
#ifndef SIAM_TEST_TOY_PAIRS_H
#define SIAM_TEST_TOY_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"
#include "host/model.h"

typedef struct siam_toy {
    siam_images images;  /* caller-owned struct, pixels malloc'd */
    int people, per_person;
} siam_toy;

/* 0 on success (-1 on allocation failure). */
int siam_toy_images(siam_toy *t, int people, int per_person, int H, int W, uint64_t seed);
/* A pair set of n pairs (half matches, alternating label 1, 0, 1, ...)
 * over t->images, drawn from `seed`. Free with siam_toy_pairs_free. */
siam_pairset *siam_toy_pairs(siam_toy *t, size_t n, uint64_t seed);
void siam_toy_pairs_free(siam_pairset *ps);
void siam_toy_free(siam_toy *t);

/* The small network the training tests fit to toy pairs: side x side
 * input, channels 4/8/8/16, kernels 5/3/3/2, 32 units, the paper's other
 * defaults (no dropout). */
void siam_toy_model_config(siam_model_config *cfg, int side);

#endif
