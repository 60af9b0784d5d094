/* Reader for the SIAMFIX1 tensor files under tests/fixtures/ (reference
 * numbers written by scripts/make_fixtures.py from PyTorch). Test support
 * only: the library itself never reads these files.
 *
 * Format (little-endian): 8 bytes magic "SIAMFIX1", uint32 count, then per
 * tensor: uint32 name length, name bytes (no NUL), uint32 ndim, ndim x uint32
 * shape, float32 data in row-major order. Nothing may follow the last
 * tensor. */
#ifndef SIAM_TEST_FIXTURE_H
#define SIAM_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

#define SIAM_FIXTURE_MAX_DIM 8

/* One stored tensor. Owned by its siam_fixture: valid until that is freed. */
typedef struct siam_fixture_tensor {
    const char *name; /* NUL-terminated copy of the stored name */
    int ndim;
    uint32_t shape[SIAM_FIXTURE_MAX_DIM];
    size_t numel; /* product of shape (1 for ndim 0) */
    const float *data; /* numel floats, aligned, host byte order */
} siam_fixture_tensor;

typedef struct siam_fixture siam_fixture;

/* Reads and validates the whole file. Returns a fixture that the caller
 * frees with siam_fixture_free, or NULL with a message naming the file and
 * the byte offset or tensor at fault (bad magic, truncation, trailing bytes,
 * absurd sizes, duplicate names). */
siam_fixture *siam_fixture_load(const char *path, siam_error *err);

/* NULL is fine. */
void siam_fixture_free(siam_fixture *fx);

/* Number of tensors, and tensor i in file order (NULL when out of range). */
size_t siam_fixture_count(const siam_fixture *fx);
const siam_fixture_tensor *siam_fixture_at(const siam_fixture *fx, size_t i);

/* The tensor called `name`, or NULL with "<file>: no tensor named '<name>'". */
const siam_fixture_tensor *siam_fixture_get(const siam_fixture *fx, const char *name,
                                            siam_error *err);

/* The data of `name` when it holds exactly `numel` values; otherwise NULL
 * with a message giving both counts. Saves each test a shape check. */
const float *siam_fixture_data(const siam_fixture *fx, const char *name, size_t numel,
                               siam_error *err);

/* A fresh copy of input `name` (numel floats; the caller frees it): the
 * stored tensor when present, else regenerated from `name.philox`. NULL with
 * a message when neither exists or the size disagrees. */
float *siam_fixture_input(const siam_fixture *fx, const char *name, size_t numel,
                          siam_error *err);

/* Regenerates `name` from its descriptor `name.philox` = [seed, stream, lo,
 * hi] alone: element i = lo + (hi - lo) * siam_philox_uniform(seed, stream,
 * i) in float32, as scripts/make_fixtures.py computes it. Caller frees. */
float *siam_fixture_philox(const siam_fixture *fx, const char *name, size_t numel,
                           siam_error *err);

#endif
