/* Test helpers for the data suites: a private temporary directory per test
 * (removed with everything in it), small files written from memory, and a
 * small synthetic LFW-layout set. */
#ifndef SIAM_TESTS_DATA_FIXTURE_H
#define SIAM_TESTS_DATA_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"

/* mkdtemp under $TMPDIR (or /tmp); fails the test on error. Returns a new
 * string the caller frees after siam_fixture_rmdir. */
char *siam_fixture_tmpdir(void);

/* Removes dir and everything under it. */
void siam_fixture_rmdir(const char *dir);

/* Writes len bytes to dir/name (creating it); fails the test on error.
 * Returns the full path; the caller frees it. */
char *siam_fixture_write(const char *dir, const char *name, const void *bytes, size_t len);

/* Reads a whole file; *len receives its size. Caller frees. */
unsigned char *siam_fixture_read(const char *path, size_t *len);

/* Writes a synthetic set (identities x images, size, pairs per class in
 * train and test, seed) under dir; fails the test on error. */
void siam_fixture_synth(const char *dir, int identities, int images, int size, int train_pairs,
                        int test_pairs, unsigned long long seed);

/* A bank of 4x4 images named as LFW names them: person p ("P0", "P1", ...)
 * has sizes[p] images, "P<p>_0001.jpg" on; fails the test on error. The
 * caller releases it (siam_images_release). */
siam_images *siam_fixture_named_bank(const int *sizes, int people);

/* The person number p of image i of such a bank. */
int siam_fixture_person_of(const siam_images *im, int32_t i);

#endif
