/* The built-in synthetic face set, so that everything runs on a machine
 * without LFW. A deterministic generator draws `identities` people x
 * `images_per_identity` images of simple faces: identity lives in stable
 * features (face shape, skin and hair tone, hair style, eye spacing and size,
 * brows, nose, mouth, ears, glasses, beard, a mole), and each image varies in
 * pose (rotation, shift, scale, yaw), expression (smile, open mouth, blink,
 * raised brows), lighting (direction, strength, exposure, background) and
 * noise. Every value comes from Philox (seed, SIAM_STREAM_SYNTH, ...), so a
 * seed gives the same pixels on every machine.
 *
 * Written in LFW layout: dir/lfw-synthetic/Face_0001/Face_0001_0001.png, plus
 * View 1-style dir/pairsDevTrain.txt and dir/pairsDevTest.txt whose people
 * are disjoint (as in LFW), and dir/synthetic.txt describing the set. */
#ifndef SIAM_SYNTH_H
#define SIAM_SYNTH_H

#include <stdint.h>

#include "kernels/error.h"

typedef struct siam_synth_options {
    uint64_t seed;            /* 1 */
    int identities;           /* 200 */
    int images_per_identity;  /* 10 */
    int size;                 /* side of the written images (105) */
    int test_identities;      /* people reserved for pairsDevTest (60) */
    int train_pairs;          /* matched (= mismatched) pairs in pairsDevTrain (1100) */
    int test_pairs;           /* matched (= mismatched) pairs in pairsDevTest (500) */
    int threads;              /* 0: one per core */
} siam_synth_options;

void siam_synth_options_init(siam_synth_options *o);

/* Renders image `index` of person `identity` as RGB (size*size*3). */
void siam_synth_render(uint8_t *rgb, int size, uint64_t seed, int identity, int index);

/* Writes the set under dir (created when missing). */
int siam_synth_write(const char *dir, const siam_synth_options *o, siam_error *err);

/* 1 when dir holds a complete set written with exactly these options
 * (dir/synthetic.txt is written last and records them), else 0. */
int siam_synth_present(const char *dir, const siam_synth_options *o);

#endif
