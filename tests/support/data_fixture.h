/* Test helpers for the data suites: a private temporary directory per test
 * (removed with everything in it), small files written from memory, and a
 * small synthetic LFW-layout set. */
#ifndef SIAM_TESTS_DATA_FIXTURE_H
#define SIAM_TESTS_DATA_FIXTURE_H

#include <stddef.h>

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

#endif
