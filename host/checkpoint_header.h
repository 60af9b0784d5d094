/* Reading a checkpoint's architecture before any model exists, so that a
 * loader can build the right model and then call siam_checkpoint_load
 * (which checks everything else). Layout: docs/training.md, "Checkpoint
 * format". */
#ifndef SIAM_CHECKPOINT_HEADER_H
#define SIAM_CHECKPOINT_HEADER_H

#include <stdint.h>

#include "host/model.h"
#include "kernels/error.h"

typedef struct siam_checkpoint_header {
    uint32_t version;
    uint32_t sections;        /* bit 0 optimizer, bit 1 trainer */
    uint64_t size;            /* total file size the header declares */
    siam_model_config config; /* architecture, dropout and BN constants */
} siam_checkpoint_header;

/* Reads the fixed header of `path`. Fails with "checkpoint <path>: ..." when
 * the file cannot be read, is not a checkpoint (bad magic), is shorter than
 * the header, or has another format version. */
int siam_checkpoint_read_header(const char *path, siam_checkpoint_header *h, siam_error *err);

#endif
