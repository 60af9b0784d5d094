/* The tiny model of the checkpoint tests and fuzz seeds, and a small one.
 * The tiny one: 28x28 input, conv
 * 2/3/3/4 channels with kernels 3/3/2/2, 6 embedding units (229
 * parameters, a file of about a kilobyte). Test support only. */
#ifndef SIAM_TEST_TINY_MODEL_H
#define SIAM_TEST_TINY_MODEL_H

#include "host/model.h"

/* The configuration, with conv1 given `conv1_channels` (2 for the model
 * itself; a test widens it to describe another). */
void siam_test_tiny_config(siam_model_config *cfg, int conv1_channels);

/* A small model with every layer type and conv outputs of odd size: 32x32
 * input, conv 4/8/8/16 with kernels 5/3/3/2, 32 fc units, dropout 0.25
 * (the memory-plan and eval-chunk tests). */
void siam_test_small_config(siam_model_config *cfg);

#endif
