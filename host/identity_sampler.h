/* P x K identity batches for training on identities (a metric loss, an
 * identity classifier): each batch holds K images of each of P distinct
 * people, person after person, drawn from the same pool as the pair
 * sampler's (host/sampler_pool.h: the training set's people, every image
 * of theirs in the bank, the excluded set's people or images kept out).
 * Only people with two or more eligible images qualify: a person alone in
 * a batch gives a metric loss no positive. The draws come from Philox
 * (seed, SIAM_STREAM_IDENTITY) at counters from epoch << 32, so an epoch's
 * batches depend on (seed, epoch) alone; an epoch is a stated number of
 * batches. This file does not touch the device. */
#ifndef SIAM_IDENTITY_SAMPLER_H
#define SIAM_IDENTITY_SAMPLER_H

#include <stdint.h>

#include "host/dataset.h"
#include "host/sampler_pool.h"
#include "kernels/error.h"

typedef struct siam_identity_sampler_config {
    int p;                 /* people per batch, >= 2 (a negative for every anchor) */
    int k;                 /* images per person, >= 2 (a positive for every anchor) */
    int batches;           /* batches per epoch, >= 1 */
    siam_sampler_exclude exclude;
    uint64_t seed;
} siam_identity_sampler_config;

/* p 8, k 4, batches 100, SIAM_EXCLUDE_PEOPLE, seed 0. */
void siam_identity_sampler_config_default(siam_identity_sampler_config *cfg);

typedef struct siam_identity_sampler siam_identity_sampler;

/* A sampler over the people of `base` (borrowed, must outlive it); exclude
 * may be NULL and must share base's bank. Fails, naming the value, for p or
 * k below 2, batches below 1, p * k above 2^24, or p above the number of
 * qualifying people. Free with siam_identity_sampler_free (NULL is fine). */
siam_identity_sampler *siam_identity_sampler_new(const siam_pairset *base,
                                                 const siam_pairset *exclude,
                                                 const siam_identity_sampler_config *cfg,
                                                 siam_error *err);
void siam_identity_sampler_free(siam_identity_sampler *s);

const siam_identity_sampler_config *siam_identity_sampler_config_of(
    const siam_identity_sampler *s);
const siam_pairset *siam_identity_sampler_base(const siam_identity_sampler *s);
/* Images per batch, p * k. */
int siam_identity_sampler_batch_size(const siam_identity_sampler *s);
/* Qualifying people (the classes: labels lie in [0, classes)) and their
 * images. */
int siam_identity_sampler_classes(const siam_identity_sampler *s);
int siam_identity_sampler_images(const siam_identity_sampler *s);
/* The class of bank image i, or -1 when it is not in the pool. */
int siam_identity_sampler_class_of(const siam_identity_sampler *s, int32_t image);

/* Epoch `epoch`'s batches: images and labels each receive batches * p * k
 * values, batch after batch; within a batch person j holds slots
 * [j*k, (j+1)*k). images are bank indices, labels the people's classes (a
 * stable numbering over the run, for a classifier's weight rows). The P
 * people of a batch are distinct, uniformly among the qualifying. A person
 * with k or more images gives k distinct ones, uniformly; one with fewer
 * (but two or more) gives all of them in random order, then draws the
 * remaining slots uniformly among them again (with replacement), so that
 * every batch keeps its P x K shape and uses all that person has. */
int siam_identity_sampler_epoch(const siam_identity_sampler *s, int epoch, int32_t *images,
                                int32_t *labels, siam_error *err);

#endif
