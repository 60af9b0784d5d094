/* Load-speed measurement of the data path (what docs/data.md reports and
 * `make bench` runs): first load of a pairs file with an empty cache, the
 * cached reload, and every image under the image root. Wall-clock numbers,
 * so a busy machine makes them slower; never used in tests. */
#ifndef SIAM_DATA_BENCH_H
#define SIAM_DATA_BENCH_H

#include <stdio.h>

#include "host/lfw_find.h"

typedef struct siam_data_bench {
    int threads;             /* decoding threads used (0: all cores) */
    int set_images;          /* distinct images of loc->train */
    double set_first_s;      /* decode + cache write */
    double set_first_cpu_s;  /* CPU time of that load, all threads (less noisy) */
    double set_cached_s;     /* reload from the cache */
    int all_images;          /* every image under loc->image_root */
    double all_first_s;
    double all_first_cpu_s;
    double all_cached_s;
} siam_data_bench;

/* Runs the three loads with a fresh cache under scratch_dir (created and
 * removed again); with all == 0 the whole-directory load is skipped. */
int siam_data_bench_run(siam_data_bench *b, const siam_data_location *loc,
                        const char *scratch_dir, int threads, int all, siam_error *err);

/* Seconds to write the default synthetic set (host/synth.h) into a scratch
 * directory under scratch_dir, removed afterwards. */
int siam_data_bench_synth(double *seconds, const char *scratch_dir, siam_error *err);

void siam_data_bench_print(FILE *f, const siam_data_bench *b, const siam_data_location *loc);

#endif
