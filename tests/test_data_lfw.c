/* Integration on the real LFW View 1 files in ../shared/lfw (skipped, saying
 * so, when absent): counts from the seed report's Part 1, disjoint people,
 * the cache round trip, and the grey 105x105 pixels against an independent
 * path (stb RGB decode, BT.601 luma and exact-area averaging in double).
 * The cache lives in a temporary $SIAMLUA_CACHE, so each set is decoded once
 * per run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <stb/stb_image.h>

#include "host/data_summary.h"
#include "host/dataset.h"
#include "host/lfw_find.h"
#include "host/lfw_load.h"
#include "tests/support/data_fixture.h"

#define LFW "../shared/lfw"

typedef struct lfw_state {
    char *cache;
    siam_data_location loc;
    siam_load_options opt;
} lfw_state;

static int setup(void **state)
{
    lfw_state *s = calloc(1, sizeof *s);
    siam_error e;
    assert_non_null(s);
    *state = NULL;
    if (siam_lfw_probe(&s->loc, LFW, &e) < 0) {
        free(s);
        return 0;
    }
    s->cache = siam_fixture_tmpdir();
    siam_load_options_init(&s->opt);
    s->opt.cache_dir = s->cache;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    lfw_state *s = *state;
    if (s) {
        siam_fixture_rmdir(s->cache);
        free(s->cache);
        free(s);
    }
    return 0;
}

static lfw_state *need_lfw(void **state)
{
    if (*state == NULL) {
        print_message("skipped: %s not found (LFW with pairsDevTrain.txt, pairsDevTest.txt and "
                      "lfw-deepfunneled/; see ../shared/README.md)\n",
                      LFW);
        skip();
    }
    return *state;
}

static siam_pairset *load(lfw_state *s, const char *pairs, siam_load_report *rep)
{
    siam_error e = {{0}};
    siam_pairset *ps = siam_pairset_load(pairs, s->loc.image_root, &s->opt, rep, &e);
    if (ps == NULL)
        fail_msg("%s", e.msg);
    print_message("%s: %d images in %.3f s (%s)\n", pairs, ps->images->count, rep->seconds,
                  rep->from_cache ? "cache" : "decoded");
    return ps;
}

/* Independent grey 105x105 of one file, in double. */
static void reference_grey(double *out, const char *path)
{
    int w, h, c;
    unsigned char *rgb = stbi_load(path, &w, &h, &c, 3);
    assert_non_null(rgb);
    double *y = malloc(sizeof *y * (size_t)w * h);
    assert_non_null(y);
    for (int i = 0; i < w * h; i++)
        y[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    double sx = (double)w / 105, sy = (double)h / 105;
    for (int i = 0; i < 105; i++)
        for (int j = 0; j < 105; j++) {
            double acc = 0;
            for (int r = (int)floor(i * sy); r < h && r < (i + 1) * sy; r++) {
                double oy = fmin(r + 1, (i + 1) * sy) - fmax(r, i * sy);
                for (int q = (int)floor(j * sx); q < w && q < (j + 1) * sx; q++) {
                    double ox = fmin(q + 1, (j + 1) * sx) - fmax(q, j * sx);
                    acc += ox * oy * y[r * w + q];
                }
            }
            out[i * 105 + j] = acc / (sx * sy);
        }
    free(y);
    stbi_image_free(rgb);
}

static void view1_counts_cache_and_pixels(void **state)
{
    lfw_state *s = need_lfw(state);
    siam_load_report rep;
    siam_pairset *train = load(s, s->loc.train, &rep);
    assert_int_equal(rep.from_cache, 0);
    assert_int_equal(rep.cache_written, 1);
    siam_pairset *test = load(s, s->loc.test, &rep);
    siam_error e;
    siam_data_summary a, b;
    assert_int_equal(siam_data_summary_compute(&a, train, &e), 0);
    assert_int_equal(siam_data_summary_compute(&b, test, &e), 0);
    assert_int_equal(a.pairs, 2200);
    assert_int_equal(a.matched, 1100);
    assert_int_equal(a.mismatched, 1100);
    assert_int_equal(a.images, 3443);
    assert_int_equal(train->images->count, 3443);
    assert_int_equal(a.people, 2132);
    assert_int_equal(b.pairs, 1000);
    assert_int_equal(b.matched, 500);
    assert_int_equal(b.mismatched, 500);
    assert_int_equal(b.images, 1549);
    assert_int_equal(test->images->count, 1549);
    assert_int_equal(b.people, 963);
    assert_int_equal(siam_data_people_overlap(train, test, &e), 0);
    assert_int_equal(train->images->height, 105);
    assert_string_equal(train->images->names[train->pairs[0].a],
                        "Aaron_Peirsol/Aaron_Peirsol_0001.jpg");
    assert_string_equal(train->images->names[train->pairs[0].b],
                        "Aaron_Peirsol/Aaron_Peirsol_0002.jpg");
    siam_data_summary_print(stdout, train, test, &e);

    /* The reload comes from the cache, bit for bit. */
    siam_pairset *again = load(s, s->loc.train, &rep);
    assert_int_equal(rep.from_cache, 1);
    assert_memory_equal(again->images->pixels, train->images->pixels,
                        (size_t)3443 * 105 * 105);
    siam_pairset_free(again);

    /* JPEG's Y channel, area-averaged, against BT.601 luma of the decoded
     * RGB: the same picture up to rounding and the RGB clamp. */
    const int pick[3] = {0, 1000, 3442};
    double *ref = malloc(sizeof *ref * 105 * 105);
    assert_non_null(ref);
    for (int k = 0; k < 3; k++) {
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", s->loc.image_root, train->images->names[pick[k]]);
        reference_grey(ref, path);
        const uint8_t *got = train->images->pixels + (size_t)pick[k] * 105 * 105;
        double worst = 0, mean = 0;
        for (int i = 0; i < 105 * 105; i++) {
            double d = fabs(got[i] - ref[i]);
            worst = d > worst ? d : worst;
            mean += d / (105 * 105);
        }
        print_message("%s: mean |diff| %.3f, max %.3f grey levels\n",
                      train->images->names[pick[k]], mean, worst);
        /* Saturated colours clamp in RGB but not in Y, hence the max. */
        assert_true(mean < 0.5);
        assert_true(worst < 10.0);
    }
    free(ref);
    siam_pairset_free(train);
    siam_pairset_free(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(view1_counts_cache_and_pixels),
    };
    return cmocka_run_group_tests_name("data_lfw", tests, setup, teardown);
}
