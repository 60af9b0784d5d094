/* The checkpoint file's magic and format versions, a leaf shared by the
 * public API (host/checkpoint.h) and the format code
 * (host/checkpoint_format.c), so that neither includes the other. */
#ifndef SIAM_CHECKPOINT_VERSION_H
#define SIAM_CHECKPOINT_VERSION_H

#define SIAM_CHECKPOINT_MAGIC "SIAMCKPT"
/* Version 3 holds the model metadata (before it, "<ckpt>.meta") and the
 * training run's identity; version 2 added the embedding activation and
 * distance head to the architecture block; version 1 files (the paper's
 * network) still load. */
#define SIAM_CHECKPOINT_VERSION 3u
#define SIAM_CHECKPOINT_VERSION_MIN 1u

#endif
