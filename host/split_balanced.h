/* An identity-disjoint split whose validation side is balanced and drawn
 * afresh: a seeded share of the set's people is held out, and validation
 * pairs, as many matched as mismatched, are drawn from every image of
 * those people in the bank (siam_load_options.all_of_people loads them
 * all), not taken from the pairs file. The other splits are host/split.h. */
#ifndef SIAM_SPLIT_BALANCED_H
#define SIAM_SPLIT_BALANCED_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"

/* The share of the set's people held out for validation. */
#define SIAM_VAL_PEOPLE 0.2

/* round(people * P) of the P people the set's pairs name, chosen by a
 * Philox (seed, SIAM_STREAM_SPLIT) shuffle, are the validation people (at
 * least two, and at least one person must stay for training). *train holds
 * the set's pairs whose two people are both training people, in the set's
 * order; *val holds `pairs` new pairs (even, > 0), pairs / 2 matched and
 * pairs / 2 mismatched, over the validation people's images, no image pair
 * twice (in either order): matched pairs matched first, then mismatched.
 * The matched pairs are spread as evenly as their images allow over the
 * validation people with two images or more, the mismatched pairs over the
 * pairs of validation people (a person or pair of people gets one pair
 * more than another only when the other has no image pair left), the
 * remainder going to a seeded choice of them; within each, the image pairs
 * are uniform without repetition.
 * When the people allow fewer than pairs / 2 of either kind, the call fails
 * naming the most they allow, unless `at_most` is set: then *val is the
 * largest balanced set they allow (2 * the smaller of the two counts), and
 * it fails only when that is 0. *dropped (may be NULL): the set's pairs on
 * neither side (every pair with a validation person). Deterministic in
 * (set, people, pairs, seed). Both results are new sets the caller frees. */
int siam_split_balanced(const siam_pairset *ps, double people, size_t pairs, int at_most,
                        uint64_t seed, siam_pairset **train, siam_pairset **val,
                        size_t *dropped, siam_error *err);

#endif
