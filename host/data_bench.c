/* Data-path timings (host/data_bench.h). */
#include "host/data_bench.h"

#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "host/dataset.h"
#include "host/lfw_load.h"
#include "host/synth.h"

static void remove_cache_files(const char *dir, const char *a, const char *b)
{
    if (a && *a)
        unlink(a);
    if (b && *b)
        unlink(b);
    rmdir(dir);
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

int siam_data_bench_run(siam_data_bench *b, const siam_data_location *loc,
                        const char *scratch_dir, int threads, int all, siam_error *err)
{
    memset(b, 0, sizeof *b);
    b->threads = threads;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/siam-bench-XXXXXX", scratch_dir) >= (int)sizeof dir ||
        mkdtemp(dir) == NULL)
        return siam_fail(err, "cannot create a scratch directory under %s", scratch_dir);
    siam_load_options opt;
    siam_load_options_init(&opt);
    opt.threads = threads;
    opt.cache_dir = dir;
    siam_load_report r1, r2;
    char set_cache[1024] = "", all_cache[1024] = "";
    double cpu0 = cpu_seconds();
    siam_pairset *ps = siam_pairset_load(loc->train, loc->image_root, &opt, &r1, err);
    if (ps == NULL)
        goto fail;
    b->set_first_cpu_s = cpu_seconds() - cpu0;
    snprintf(set_cache, sizeof set_cache, "%s", r1.cache_path);
    b->set_images = ps->images->count;
    b->set_first_s = r1.seconds;
    siam_pairset_free(ps);
    ps = siam_pairset_load(loc->train, loc->image_root, &opt, &r2, err);
    if (ps == NULL)
        goto fail;
    b->set_cached_s = r2.seconds;
    siam_pairset_free(ps);
    if (!r2.from_cache) {
        siam_fail(err, "the reload did not use the cache: %s", r2.note);
        goto fail;
    }
    if (all) {
        cpu0 = cpu_seconds();
        siam_images *im = siam_images_load_dir(loc->image_root, &opt, &r1, err);
        if (im == NULL)
            goto fail;
        b->all_first_cpu_s = cpu_seconds() - cpu0;
        snprintf(all_cache, sizeof all_cache, "%s", r1.cache_path);
        b->all_images = im->count;
        b->all_first_s = r1.seconds;
        siam_images_release(im);
        im = siam_images_load_dir(loc->image_root, &opt, &r2, err);
        if (im == NULL)
            goto fail;
        b->all_cached_s = r2.seconds;
        siam_images_release(im);
    }
    remove_cache_files(dir, set_cache, all_cache);
    return 0;
fail:
    remove_cache_files(dir, set_cache, all_cache);
    return -1;
}

void siam_data_bench_print(FILE *f, const siam_data_bench *b, const siam_data_location *loc)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(f, "%s\n", loc->message);
    fprintf(f, "decoding threads: %d (%ld cores online)\n",
            b->threads > 0 ? b->threads : (int)cores, cores);
    fprintf(f, "%-34s %6d images %8.3f s %8.0f images/s (%.3f CPU s)\n",
            "first load of pairsDevTrain", b->set_images, b->set_first_s,
            b->set_images / b->set_first_s, b->set_first_cpu_s);
    fprintf(f, "%-34s %6d images %8.3f s\n", "cached reload of pairsDevTrain", b->set_images,
            b->set_cached_s);
    if (b->all_images > 0) {
        fprintf(f, "%-34s %6d images %8.3f s %8.0f images/s (%.3f CPU s)\n",
                "first load of every image", b->all_images, b->all_first_s,
                b->all_images / b->all_first_s, b->all_first_cpu_s);
        fprintf(f, "%-34s %6d images %8.3f s\n", "cached reload of every image", b->all_images,
                b->all_cached_s);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int siam_data_bench_synth(double *seconds, const char *scratch_dir, siam_error *err)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/siam-synth-XXXXXX", scratch_dir) >= (int)sizeof dir ||
        mkdtemp(dir) == NULL)
        return siam_fail(err, "cannot create a scratch directory under %s", scratch_dir);
    siam_synth_options o;
    siam_synth_options_init(&o);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = siam_synth_write(dir, &o, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
