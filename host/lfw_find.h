/* Where the face data comes from: an explicit path, else $LFW_DIR, else
 * ./data/lfw, else the built-in synthetic set (generated on first use into
 * the cache directory). The result says plainly which one was chosen. */
#ifndef SIAM_LFW_FIND_H
#define SIAM_LFW_FIND_H

#include <limits.h>

#include "host/synth.h"
#include "kernels/error.h"

typedef enum siam_data_origin {
    SIAM_DATA_EXPLICIT = 0, /* the path the caller gave */
    SIAM_DATA_ENV = 1,      /* $LFW_DIR */
    SIAM_DATA_LOCAL = 2,    /* ./data/lfw */
    SIAM_DATA_SYNTHETIC = 3 /* no LFW found: the synthetic set */
} siam_data_origin;

typedef struct siam_data_location {
    siam_data_origin origin;
    char dir[PATH_MAX];        /* directory holding the pairs files */
    char image_root[PATH_MAX]; /* directory holding Name/Name_0001.jpg */
    char train[PATH_MAX];      /* pairsDevTrain.txt */
    char test[PATH_MAX];       /* pairsDevTest.txt */
    char view2[PATH_MAX];      /* pairs.txt, or "" when absent */
    char message[2 * PATH_MAX + 256]; /* one line saying what was chosen and why */
} siam_data_location;

/* A directory is an LFW directory when it holds pairsDevTrain.txt,
 * pairsDevTest.txt and an image root: one of lfw-deepfunneled, lfw_funneled,
 * lfw-funneled, lfw, lfw-synthetic, images (in that order). Fills loc's
 * paths; -1 with the reason otherwise. */
int siam_lfw_probe(siam_data_location *loc, const char *dir, siam_error *err);

/* The search described above. An explicit path or a set $LFW_DIR that is not
 * an LFW directory is an error (a typo should not silently train on other
 * data); a missing ./data/lfw falls back to the synthetic set, written with
 * `synth` (NULL: defaults) under <cache dir>/synthetic-<seed> unless already
 * there. */
int siam_lfw_find(siam_data_location *loc, const char *explicit_path,
                  const siam_synth_options *synth, siam_error *err);

#endif
