/* Reading what a checkpoint holds before any model exists: its format,
 * sections, architecture and model metadata, after the same checks a load
 * makes of the file itself (checksum, sizes). siam_checkpoint_load_model
 * (host/checkpoint.h) builds and loads the model in one step; this is for
 * callers that only want to know. Layout: docs/training.md, "Checkpoint
 * format". */
#ifndef SIAM_CHECKPOINT_HEADER_H
#define SIAM_CHECKPOINT_HEADER_H

#include <stdint.h>

#include "host/model.h"
#include "host/model_meta.h"
#include "kernels/error.h"

typedef struct siam_checkpoint_header {
    uint32_t version;
    uint32_t sections;        /* the file's section flags: 1 optimizer, 2 training run,
                               * 4 weight average (docs/training.md, "Checkpoint format") */
    uint64_t size;            /* total file size the header declares */
    siam_model_config config; /* architecture, dropout and BN constants */
    siam_model_meta meta;     /* the file's (format 3), else "<path>.meta"'s, else defaults */
} siam_checkpoint_header;

/* Reads and checks `path` as siam_checkpoint_load does before it changes
 * anything (host/checkpoint_format.h, siam_ckpt_open): fails with
 * "checkpoint <path>: ..." when the file cannot be read, is not a
 * checkpoint, is damaged (size, checksum) or holds a value out of range.
 * No allocation is sized by the file. */
int siam_checkpoint_read_header(const char *path, siam_checkpoint_header *h, siam_error *err);

#endif
