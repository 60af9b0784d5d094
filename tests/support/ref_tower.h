/* The model's tower in double precision, naive loops with PyTorch's layer
 * semantics (conv, training-mode batch norm with the biased variance, ReLU,
 * 2x2 max-pool, fc and the embedding activation): the reference that the
 * gradient checks take finite differences of. Test support only. */
#ifndef SIAM_TEST_REF_TOWER_H
#define SIAM_TEST_REF_TOWER_H

#include <stddef.h>

#include "host/model.h"

/* Doubles each of the two scratch buffers of siam_ref_embed needs for N
 * images of m's configuration. */
size_t siam_ref_embed_scratch(const siam_model *m, int N);

/* Embeddings (N, U) of the N images x (N, 1, H, W) at parameters pd (m's
 * layout), batch norm over these N images; a and b are scratch of
 * siam_ref_embed_scratch doubles. Returns b, which holds them. */
double *siam_ref_embed(const siam_model *m, const float *x, int N, const double *pd, double *a,
                       double *b);

#endif
