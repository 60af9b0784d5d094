/* The pool both training samplers draw from (host/pair_sampler.h,
 * host/identity_sampler.h): every image in the bank of the base set's own
 * people, less the people (or the images) of an excluded set, grouped by
 * person. One rule, written once, keeps the validation split out of every
 * sampler. */
#ifndef SIAM_SAMPLER_POOL_H
#define SIAM_SAMPLER_POOL_H

#include <stdint.h>

#include "host/dataset.h"
#include "kernels/error.h"

typedef enum siam_sampler_exclude {
    SIAM_EXCLUDE_PEOPLE = 0, /* no image of any person of the excluded set (default;
                              * with siam_split_by_identity no person is on both sides) */
    SIAM_EXCLUDE_IMAGES = 1  /* only the images the excluded set's pairs use (for a
                              * stratified split, whose sides share people anyway) */
} siam_sampler_exclude;

/* Eligible person p owns images[first[p] .. first[p] + count[p]), in bank
 * order; people are numbered in bank order too. */
typedef struct siam_sampler_pool {
    int npeople;
    int *first, *count;
    int32_t *images;
    int nimages;
} siam_sampler_pool;

/* Builds the pool of `base` (exclude may be NULL; it must share base's
 * bank). `what` ("pair sampler") starts the messages. On failure the pool
 * is left empty (nothing to free). */
int siam_sampler_pool_build(siam_sampler_pool *pool, const siam_pairset *base,
                            const siam_pairset *exclude, siam_sampler_exclude mode,
                            const char *what, siam_error *err);
void siam_sampler_pool_clear(siam_sampler_pool *pool);

#endif
