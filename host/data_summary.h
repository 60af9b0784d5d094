/* The data summary of the seed report's Part 1, for any pair set: pairs,
 * matched and mismatched, distinct images and people, images per person, and
 * the people two sets share. */
#ifndef SIAM_DATA_SUMMARY_H
#define SIAM_DATA_SUMMARY_H

#include <stdio.h>

#include "host/dataset.h"

typedef struct siam_data_summary {
    size_t pairs, matched, mismatched;
    int images;          /* distinct images named by the pairs */
    int people;          /* distinct people among those images */
    int per_person_min, per_person_median, per_person_max; /* images per person */
    double per_person_mean;
    int people_one_image; /* people with exactly one image in the set */
} siam_data_summary;

int siam_data_summary_compute(siam_data_summary *s, const siam_pairset *ps, siam_error *err);

/* Number of people (by name) who appear in both sets, or -1. */
int siam_data_people_overlap(const siam_pairset *a, const siam_pairset *b, siam_error *err);

/* Prints the summary of a, of b when non-NULL, and their overlap:
 *   <source>: 2200 pairs (1100 matched, 1100 mismatched)
 *     3443 distinct images of 2132 people; images per person: min 1, median 1,
 *     mean 1.61, max 8; 1328 with a single image   (one line when printed)
 *   people in both sets: 0 */
int siam_data_summary_print(FILE *f, const siam_pairset *a, const siam_pairset *b,
                            siam_error *err);

#endif
