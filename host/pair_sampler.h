/* More training pairs: each epoch, balanced matched and mismatched pairs
 * drawn from the images of the training set's own people (every image of
 * them in the bank, e.g. a bank loaded with siam_load_options.all_of_people,
 * not only those the pairs file names), optionally after the set's own
 * pairs. Nobody outside the set's people is ever used, and the people (or
 * images) of an excluded set, the validation split, are kept out, so that
 * validation stays clean (docs/training.md, "More training pairs"). The
 * draws come from Philox (seed, SIAM_STREAM_PAIRS) at counters from
 * epoch << 32: an epoch's pairs depend on (seed, epoch) alone. */
#ifndef SIAM_PAIR_SAMPLER_H
#define SIAM_PAIR_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"
#include "host/sampler_pool.h"
#include "kernels/error.h"

typedef struct siam_pair_sampler_config {
    size_t extra_pairs;       /* drawn per epoch; half matched (rounded up), half not */
    int keep_base;            /* 1: the base set's own pairs come first every epoch */
    siam_sampler_exclude exclude;
    uint64_t seed;
} siam_pair_sampler_config;

/* extra_pairs 0, keep_base 1, SIAM_EXCLUDE_PEOPLE, seed 0. */
void siam_pair_sampler_config_default(siam_pair_sampler_config *cfg);

typedef struct siam_pair_sampler siam_pair_sampler;

/* A sampler over the people of `base` (borrowed, must outlive it). `exclude`
 * (may be NULL) must share base's image bank; it is only read here. Fails
 * when the pool cannot give both kinds of pair (a person with two images,
 * two people). Free with siam_pair_sampler_free (NULL is fine). */
siam_pair_sampler *siam_pair_sampler_new(const siam_pairset *base, const siam_pairset *exclude,
                                         const siam_pair_sampler_config *cfg, siam_error *err);
void siam_pair_sampler_free(siam_pair_sampler *s);

/* Pairs per epoch (base pairs when kept, plus extra_pairs). */
size_t siam_pair_sampler_count(const siam_pair_sampler *s);
const siam_pairset *siam_pair_sampler_base(const siam_pair_sampler *s);
/* Pool sizes: eligible people, those with at least two eligible images,
 * eligible images. */
void siam_pair_sampler_pool(const siam_pair_sampler *s, int *people, int *people_2,
                            int *images);
/* Writes epoch `epoch`'s pairs (siam_pair_sampler_count of them) into out. */
int siam_pair_sampler_epoch(const siam_pair_sampler *s, int epoch, siam_pair *out,
                            siam_error *err);

#endif
