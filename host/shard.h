/* Grid sharding: which configurations one process of a sharded grid runs.
 * `--shard i/n` (1-based: 1/4 .. 4/4), or the same worked out from a Slurm
 * job array's environment. Configurations are dealt round-robin in grid
 * order, so every shard gets a mix of cheap and expensive settings. Running
 * the grid and merging the shard tables are elsewhere. */
#ifndef SIAM_SHARD_H
#define SIAM_SHARD_H

#include <stddef.h>

#include "kernels/error.h"

typedef struct siam_shard {
    int index;   /* 1..count */
    int count;   /* >= 1; 1/1 is the whole grid */
} siam_shard;

/* Parses "i/n" exactly (decimal, 1 <= i <= n, nothing else). */
int siam_shard_parse(const char *text, siam_shard *out, siam_error *err);

/* From the values of SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN,
 * SLURM_ARRAY_TASK_STEP and SLURM_ARRAY_TASK_COUNT (pass getenv results;
 * NULL = unset). Task ids need not start at 0 or 1 (--array=3-10) and may
 * step (--array=0-30:10): the shard index is (id - min) / step + 1. Sets
 * *found to 0 and returns 0 when id is unset (not a job array). */
int siam_shard_from_slurm(const char *task_id, const char *task_min, const char *task_step,
                          const char *task_count, siam_shard *out, int *found,
                          siam_error *err);

/* 1 when configuration `k` (0-based, in grid order) belongs to the shard. */
int siam_shard_owns(const siam_shard *s, size_t k);

#endif
