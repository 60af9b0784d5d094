/* Splitting pair sets: a seeded train/validation split stratified by label,
 * an identity-disjoint variant, and the View 2 folds. Every split keeps the
 * pairs' original order on each side and shares the image bank (no pixels
 * are copied). */
#ifndef SIAM_SPLIT_H
#define SIAM_SPLIT_H

#include <stdint.h>

#include "host/dataset.h"

#define SIAM_VAL_FRACTION 0.2

/* From each label class, round(val_fraction * class size) pairs, chosen by a
 * Philox (seed, SIAM_STREAM_SPLIT) shuffle, go to *val; the rest to *train.
 * 0 <= val_fraction < 1. Both results are new sets the caller frees. */
int siam_split_stratified(const siam_pairset *ps, double val_fraction, uint64_t seed,
                          siam_pairset **train, siam_pairset **val, siam_error *err);

/* Exactly `count` pairs (<= the set's size) go to *part, stratified by
 * label (each class's share rounded, the other class taking the rest),
 * chosen by the same shuffles as siam_split_stratified; the others go to
 * *rest. */
int siam_split_take(const siam_pairset *ps, size_t count, uint64_t seed, siam_pairset **rest,
                    siam_pairset **part, siam_error *err);

/* No person on both sides: people are taken in a seeded random order into
 * the validation side until it holds at least val_fraction of the pairs; a
 * pair whose people end up on different sides belongs to neither and is
 * dropped (*dropped, may be NULL, counts them). */
int siam_split_by_identity(const siam_pairset *ps, double val_fraction, uint64_t seed,
                           siam_pairset **train, siam_pairset **val, size_t *dropped,
                           siam_error *err);

/* View 2: *test is fold `fold` (0-based), *train the other folds. */
int siam_split_fold(const siam_pairset *ps, int fold, siam_pairset **train, siam_pairset **test,
                    siam_error *err);

#endif
