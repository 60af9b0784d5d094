/* The checkpoint layout, internal to host/checkpoint*.c: little-endian
 * byte I/O, the FNV-1a checksum, and the one encoder and one decoder of a
 * file's head (everything before the float arrays: header, architecture,
 * model metadata, dropout state, optimizer, trainer and weight-average
 * sections). The layout is in docs/training.md, "Checkpoint format"; the
 * public API in host/checkpoint.h and host/checkpoint_header.h. */
#ifndef SIAM_CHECKPOINT_FORMAT_H
#define SIAM_CHECKPOINT_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "host/model.h"
#include "host/model_meta.h"
#include "host/train_state.h"
#include "kernels/error.h"

#define SIAM_CKPT_FLAG_OPTIM 1u
#define SIAM_CKPT_FLAG_TRAINER 2u
#define SIAM_CKPT_FLAG_WAVG 4u /* a weight average (host/weight_avg.h) after the best weights */
#define SIAM_CKPT_FLAG_PLATEAU 8u /* ReduceLROnPlateau's state, with the trainer's; files
                                   * without it (older ones too) start a plateau afresh */
#define SIAM_CKPT_FLAGS_KNOWN 15u
#define SIAM_CKPT_HEADER_BYTES 24 /* magic, version, flags, total size */

/* Everything before the arrays, as written or as read back. */
typedef struct siam_ckpt_head {
    uint32_t version, flags;
    uint64_t total;              /* the file size the header declares */
    siam_model_config config;
    uint64_t params, buffers;    /* counts the architecture block declares */
    int has_meta;                /* version 3: `meta` is the file's */
    siam_model_meta meta;
    uint64_t dropout_seed, dropout_offset;
    /* optimizer (SIAM_CKPT_FLAG_OPTIM) */
    uint32_t opt_kind, nmoments;
    double lr;
    uint64_t steps;
    /* trainer (SIAM_CKPT_FLAG_TRAINER); the identity fields of `ts` are the
     * file's only when has_identity (version 3) */
    siam_trainer_state ts;
    int has_identity;
    int cols, rows;              /* history: metrics x epochs */
    const char *names[SIAM_HISTORY_MAX_METRICS];
    const double *values[SIAM_HISTORY_MAX_METRICS];
    int owns_history;            /* read back: names and values are malloc'd */
    /* weight average (SIAM_CKPT_FLAG_WAVG) */
    uint32_t wavg_kind;
    uint64_t wavg_count;
    /* plateau schedule (SIAM_CKPT_FLAG_PLATEAU): in ts.plateau, ts.has_plateau set */
    uint64_t arrays_offset;      /* where the float arrays start */
} siam_ckpt_head;

/* Frees what a read allocated (the history); the struct itself is the
 * caller's. */
void siam_ckpt_head_free(siam_ckpt_head *h);

/* Bytes of the float arrays the head's sections declare: parameters and BN
 * statistics, optimizer moments, best weights, weight average. -1 when the
 * sum overflows 64 bits. */
int siam_ckpt_arrays_bytes(const siam_ckpt_head *h, uint64_t *bytes);

/* ---- writing ---- */

typedef struct siam_ckpt_writer {
    FILE *f;       /* NULL: a dry run that only counts */
    uint64_t hash, bytes;
    int failed;
} siam_ckpt_writer;

void siam_ckpt_writer_init(siam_ckpt_writer *w, FILE *f);
void siam_ckpt_put(siam_ckpt_writer *w, const void *p, size_t n);
void siam_ckpt_put_u64(siam_ckpt_writer *w, uint64_t v);
/* The head in the current format version (h->version is not read). */
void siam_ckpt_put_head(siam_ckpt_writer *w, const siam_ckpt_head *h);

/* ---- reading ---- */

/* Opens `path`, checks the header (magic, version, section flags), the size
 * against the header and the whole-file checksum (streamed, no allocation
 * sized by the file), then reads and checks the head: architecture within
 * the model limits, declared counts equal to the architecture's, model
 * metadata in range, section values in range, and the arrays the sections
 * declare exactly filling the file. On success *f is open at the arrays
 * (the caller closes it) and `h` holds the head (siam_ckpt_head_free).
 * Messages do not name the file; the callers prefix "checkpoint <path>: ". */
int siam_ckpt_open(const char *path, FILE **f, siam_ckpt_head *h, siam_error *err);

/* The model metadata for a head read back: the file's (version 3), else
 * "<path>.meta" when it exists (host/model_meta.h), else the defaults. */
int siam_ckpt_meta_of(const char *path, const siam_ckpt_head *h, siam_model_meta *meta,
                      siam_error *err);

/* Reads n bytes at the current position; -1 at end of file. */
int siam_ckpt_read(FILE *f, void *p, size_t n);

/* 0 when the file's architecture (`file`) gives the same network as the
 * model's, else -1 with "architecture mismatch: ... in the file, ... in the
 * model". Dropout and the BN constants do not change the layout and are
 * not compared. */
int siam_ckpt_same_arch(const siam_model_config *file, const siam_model_config *model,
                        siam_error *err);

#endif
