/* P x K identity batches (host/identity_sampler.h) on an in-memory bank:
 * the batch shape and labels, who qualifies, the exclusion of the
 * validation side (people or images), the people with fewer than K images,
 * seeding by (seed, epoch) alone, uniformity over people, every refused
 * configuration's message; and on the real LFW View 1 files in
 * ../shared/lfw (skipped when absent): the pool of pairsDevTrain's people
 * and that no validation person is ever drawn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dataset.h"
#include "host/identity_sampler.h"
#include "host/lfw_find.h"
#include "host/lfw_load.h"
#include "host/split.h"
#include "tests/support/data_fixture.h"

#define LFW "../shared/lfw"

static siam_images *bank(const int *sizes, int people)
{
    return siam_fixture_named_bank(sizes, people);
}

static int person_of(const siam_images *im, int32_t i)
{
    return siam_fixture_person_of(im, i);
}

/* A pair set naming the people listed (one pair per person: its first
 * image twice, which is all the pool needs to know who is in the set). */
static siam_pairset *set_of(siam_images *im, const int *first, const int *who, int n)
{
    siam_error err;
    siam_pairset *ps = siam_pairset_new(im, (size_t)n, "test", &err);
    assert_non_null(ps);
    for (int i = 0; i < n; i++)
        ps->pairs[i] = (siam_pair){ first[who[i]], first[who[i]], 1.0f, 0 };
    return ps;
}

static siam_identity_sampler *sampler(const siam_pairset *base, const siam_pairset *excl,
                                      int p, int k, int batches, uint64_t seed)
{
    siam_identity_sampler_config c;
    siam_identity_sampler_config_default(&c);
    c.p = p;
    c.k = k;
    c.batches = batches;
    c.seed = seed;
    siam_error err;
    siam_identity_sampler *s = siam_identity_sampler_new(base, excl, &c, &err);
    if (!s)
        fail_msg("%s", err.msg);
    return s;
}

/* People 0..7 with these many images; the set names 0..6 (7 is not in it),
 * person 1 has one image (never qualifies), person 5 is excluded. */
static const int sizes8[8] = { 5, 1, 4, 2, 6, 3, 7, 4 };

static void first_of(const int *sizes, int n, int *first)
{
    for (int p = 0, k = 0; p < n; k += sizes[p++])
        first[p] = k;
}

static void batches_have_the_shape_labels_and_people(void **state)
{
    (void)state;
    int first[8];
    first_of(sizes8, 8, first);
    siam_images *im = bank(sizes8, 8);
    const int in_set[7] = { 0, 1, 2, 3, 4, 5, 6 }, out[1] = { 5 };
    siam_pairset *base = set_of(im, first, in_set, 7), *val = set_of(im, first, out, 1);
    const int P = 3, K = 4, NB = 200;
    siam_identity_sampler *s = sampler(base, val, P, K, NB, 11);
    /* qualifying: 0, 2, 3, 4, 6 (1 has one image, 5 excluded, 7 outside) */
    assert_int_equal(siam_identity_sampler_classes(s), 5);
    assert_int_equal(siam_identity_sampler_images(s), 5 + 4 + 2 + 6 + 7);
    assert_int_equal(siam_identity_sampler_batch_size(s), P * K);
    int class_person[5] = { -1, -1, -1, -1, -1 };
    for (int i = 0; i < im->count; i++) {
        int c = siam_identity_sampler_class_of(s, i), who = person_of(im, i);
        int qualifies = who == 0 || who == 2 || who == 3 || who == 4 || who == 6;
        assert_int_equal(c >= 0, qualifies);
        if (c >= 0) {
            /* one class per person, numbered in bank order */
            assert_true(class_person[c] == -1 || class_person[c] == who);
            class_person[c] = who;
        }
    }
    const int want_people[5] = { 0, 2, 3, 4, 6 };
    assert_memory_equal(class_person, want_people, sizeof want_people);
    assert_int_equal(siam_identity_sampler_class_of(s, -1), -1);
    assert_int_equal(siam_identity_sampler_class_of(s, im->count), -1);

    size_t n = (size_t)NB * P * K;
    int32_t *img = malloc(n * sizeof *img), *lab = malloc(n * sizeof *lab);
    siam_error err;
    assert_int_equal(siam_identity_sampler_epoch(s, 0, img, lab, &err), 0);
    int seen_class[5] = { 0 };
    for (int b = 0; b < NB; b++) {
        for (int j = 0; j < P; j++) {
            const int32_t *bi = img + (size_t)(b * P + j) * K, *bl = lab + (size_t)(b * P + j) * K;
            /* a person's K slots share one label, and it is the images' class */
            for (int i = 0; i < K; i++) {
                assert_int_equal(bl[i], bl[0]);
                assert_int_equal(siam_identity_sampler_class_of(s, bi[i]), bl[0]);
                assert_int_equal(person_of(im, bi[i]), class_person[bl[0]]);
            }
            /* P distinct people per batch */
            for (int q = 0; q < j; q++)
                assert_int_not_equal(lab[(size_t)(b * P + q) * K], bl[0]);
            seen_class[bl[0]]++;
            int have = sizes8[class_person[bl[0]]];
            /* distinct images while the person has them; with fewer than
             * K (person 3 has 2) all of them first, then repeats of them */
            int distinct = 0;
            for (int i = 0; i < K; i++) {
                int dup = 0;
                for (int q = 0; q < i; q++)
                    dup |= bi[q] == bi[i];
                distinct += !dup;
                if (i < have)
                    assert_false(dup);
            }
            assert_int_equal(distinct, have < K ? have : K);
        }
    }
    /* Uniform over people: each of the 5 appears in P/5 of the batches,
     * 120 of 200 here; the binomial's sd is sqrt(200 * .6 * .4) = 6.9. */
    for (int c = 0; c < 5; c++) {
        printf("class %d (person %d): %d of %d batches\n", c, class_person[c], seen_class[c], NB);
        assert_true(fabs(seen_class[c] - 120.0) < 5 * 6.93);
    }
    free(img), free(lab);
    siam_identity_sampler_free(s);
    siam_pairset_free(base);
    siam_pairset_free(val);
    siam_images_release(im);
}

static void epochs_depend_on_seed_and_epoch_alone(void **state)
{
    (void)state;
    int first[8];
    first_of(sizes8, 8, first);
    siam_images *im = bank(sizes8, 8);
    const int in_set[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    siam_pairset *base = set_of(im, first, in_set, 8);
    const int P = 2, K = 3, NB = 30;
    size_t n = (size_t)NB * P * K, bytes = n * sizeof(int32_t);
    int32_t *a = malloc(bytes), *b = malloc(bytes), *la = malloc(bytes), *lb = malloc(bytes);
    siam_error err;
    siam_identity_sampler *s = sampler(base, NULL, P, K, NB, 5);
    siam_identity_sampler *t = sampler(base, NULL, P, K, NB, 5);
    siam_identity_sampler *u = sampler(base, NULL, P, K, NB, 6);
    /* epoch 3 drawn first by one sampler and after 0..2 by another: equal */
    assert_int_equal(siam_identity_sampler_epoch(s, 3, a, la, &err), 0);
    for (int e = 0; e <= 3; e++)
        assert_int_equal(siam_identity_sampler_epoch(t, e, b, lb, &err), 0);
    assert_memory_equal(a, b, bytes);
    assert_memory_equal(la, lb, bytes);
    assert_int_equal(siam_identity_sampler_epoch(s, 3, b, lb, &err), 0);
    assert_memory_equal(a, b, bytes);
    assert_int_equal(siam_identity_sampler_epoch(s, 4, b, lb, &err), 0);
    assert_memory_not_equal(a, b, bytes);
    assert_int_equal(siam_identity_sampler_epoch(u, 3, b, lb, &err), 0);
    assert_memory_not_equal(a, b, bytes);
    /* the first batch of an epoch of 30 is that of an epoch of 1 */
    siam_identity_sampler *one = sampler(base, NULL, P, K, 1, 5);
    assert_int_equal(siam_identity_sampler_epoch(one, 3, b, lb, &err), 0);
    assert_memory_equal(a, b, (size_t)P * K * sizeof(int32_t));
    siam_identity_sampler_free(one);
    siam_identity_sampler_free(s);
    siam_identity_sampler_free(t);
    siam_identity_sampler_free(u);
    free(a), free(b), free(la), free(lb);
    siam_pairset_free(base);
    siam_images_release(im);
}

/* Exclusion by images keeps the rest of an excluded person's images: a
 * stratified split's sides share people. */
static void excluded_images_stay_out(void **state)
{
    (void)state;
    int first[8];
    first_of(sizes8, 8, first);
    siam_images *im = bank(sizes8, 8);
    const int in_set[3] = { 0, 4, 6 };
    siam_pairset *base = set_of(im, first, in_set, 3);
    siam_error err;
    siam_pairset *val = siam_pairset_new(im, 2, "val", &err);
    /* person 4's images 0 and 1, person 0's images 3 and 4 */
    val->pairs[0] = (siam_pair){ first[4], first[4] + 1, 1.0f, 0 };
    val->pairs[1] = (siam_pair){ first[0] + 3, first[0] + 4, 1.0f, 0 };
    siam_identity_sampler_config c;
    siam_identity_sampler_config_default(&c);
    c.p = 3;
    c.k = 5;
    c.batches = 50;
    c.exclude = SIAM_EXCLUDE_IMAGES;
    siam_identity_sampler *s = siam_identity_sampler_new(base, val, &c, &err);
    if (!s)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_identity_sampler_classes(s), 3);
    assert_int_equal(siam_identity_sampler_images(s), 3 + 4 + 7);
    size_t n = (size_t)50 * 3 * 5;
    int32_t *img = malloc(n * sizeof *img), *lab = malloc(n * sizeof *lab);
    assert_int_equal(siam_identity_sampler_epoch(s, 1, img, lab, &err), 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(img[i] != first[4] && img[i] != first[4] + 1);
        assert_true(img[i] != first[0] + 3 && img[i] != first[0] + 4);
    }
    free(img), free(lab);
    siam_identity_sampler_free(s);
    /* by people (the default), person 4 and person 0 are gone entirely */
    c.exclude = SIAM_EXCLUDE_PEOPLE;
    c.p = 2;
    assert_null(siam_identity_sampler_new(base, val, &c, &err));
    assert_string_equal(err.msg, "identity sampler: p 2 is more than the 1 people with two "
                                 "images or more (of 1 eligible people, 7 images)");
    siam_pairset_free(base);
    siam_pairset_free(val);
    siam_images_release(im);
}

static void bad_configurations_are_refused_by_name(void **state)
{
    (void)state;
    int first[8];
    first_of(sizes8, 8, first);
    siam_images *im = bank(sizes8, 8), *other = bank(sizes8, 8);
    const int in_set[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    siam_pairset *base = set_of(im, first, in_set, 8), *foreign = set_of(other, first, in_set, 1);
    siam_identity_sampler_config c;
    siam_error err;
    struct {
        int p, k, batches;
        const char *msg;
    } bad[] = {
        { 4, 1, 10, "identity sampler: k 1 must be at least 2 (images per person: every anchor "
                    "needs a positive)" },
        { 1, 4, 10, "identity sampler: p 1 must be at least 2 (people per batch: every anchor "
                    "needs another person)" },
        { 4, 4, 0, "identity sampler: batches 0 must be at least 1" },
        { 8, 4, 10, "identity sampler: p 8 is more than the 7 people with two images or more "
                    "(of 8 eligible people, 32 images)" },
        { 5000, 5000, 1, "identity sampler: p 5000 x k 5000 is more than 2^24 images per "
                         "batch" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        siam_identity_sampler_config_default(&c);
        c.p = bad[i].p;
        c.k = bad[i].k;
        c.batches = bad[i].batches;
        assert_null(siam_identity_sampler_new(base, NULL, &c, &err));
        assert_string_equal(err.msg, bad[i].msg);
    }
    siam_identity_sampler_config_default(&c);
    assert_null(siam_identity_sampler_new(base, foreign, &c, &err));
    assert_string_equal(err.msg, "identity sampler: the excluded set has another image bank");
    c.exclude = (siam_sampler_exclude)7;
    assert_null(siam_identity_sampler_new(base, NULL, &c, &err));
    assert_string_equal(err.msg, "identity sampler: exclude 7 is not people (0) or images (1)");
    /* P = 7 is exactly the pool: every batch holds everyone */
    siam_identity_sampler *s = sampler(base, NULL, 7, 2, 2, 0);
    int32_t img[28], lab[28];
    assert_int_equal(siam_identity_sampler_epoch(s, 0, img, lab, &err), 0);
    int seen = 0;
    for (int j = 0; j < 7; j++)
        seen |= 1 << lab[2 * j];
    assert_int_equal(seen, 127);
    assert_int_equal(siam_identity_sampler_epoch(s, -1, img, lab, &err), -1);
    assert_string_equal(err.msg, "identity sampler: epoch -1 is negative");
    siam_identity_sampler_free(s);
    siam_identity_sampler_free(NULL);
    siam_pairset_free(base);
    siam_pairset_free(foreign);
    siam_images_release(im);
    siam_images_release(other);
}

static int has_person(const siam_images *im, const char *name)
{
    for (int i = 0; i < im->count; i++)
        if (strcmp(im->people[i], name) == 0)
            return 1;
    return 0;
}

/* Real LFW: pairsDevTrain with every image of its people; the pool the
 * issue counts (945 people with two images or more, 5,498 images), then an
 * identity-disjoint validation split whose people are never drawn. */
static void lfw_pool_and_no_validation_person(void **state)
{
    (void)state;
    siam_data_location loc;
    siam_error err;
    if (siam_lfw_probe(&loc, LFW, &err) < 0) {
        print_message("skipped: %s not found (LFW with pairsDevTrain.txt, pairsDevTest.txt and "
                      "lfw-deepfunneled/)\n", LFW);
        skip();
    }
    char *cache = siam_fixture_tmpdir();
    siam_load_options o;
    siam_load_options_init(&o);
    o.cache_dir = cache;
    o.all_of_people = 1;
    siam_pairset *train = siam_pairset_load(loc.train, loc.image_root, &o, NULL, &err);
    if (!train)
        fail_msg("%s", err.msg);
    siam_identity_sampler *all = sampler(train, NULL, 16, 4, 1, 0);
    printf("pairsDevTrain with all of its people's images: %d images; %d people with two or "
           "more, %d images\n", train->images->count, siam_identity_sampler_classes(all),
           siam_identity_sampler_images(all));
    assert_int_equal(train->images->count, 6685);
    assert_int_equal(siam_identity_sampler_classes(all), 945);
    assert_int_equal(siam_identity_sampler_images(all), 5498);
    siam_identity_sampler_free(all);

    siam_pairset *tr, *va;
    size_t dropped;
    assert_int_equal(siam_split_by_identity(train, SIAM_VAL_FRACTION, 1, &tr, &va, &dropped,
                                            &err), 0);
    siam_identity_sampler *s = sampler(tr, va, 16, 4, 50, 3);
    printf("train side: %d people with two images or more, %d images\n",
           siam_identity_sampler_classes(s), siam_identity_sampler_images(s));
    assert_true(siam_identity_sampler_classes(s) < 945);
    int32_t *ids = malloc((size_t)train->images->count * sizeof *ids);
    int people = siam_images_person_ids(train->images, ids, &err);
    unsigned char *val_person = calloc((size_t)people, 1);
    for (size_t i = 0; i < va->count; i++)
        val_person[ids[va->pairs[i].a]] = val_person[ids[va->pairs[i].b]] = 1;
    size_t n = (size_t)50 * 16 * 4;
    int32_t *img = malloc(n * sizeof *img), *lab = malloc(n * sizeof *lab);
    for (int epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(siam_identity_sampler_epoch(s, epoch, img, lab, &err), 0);
        for (size_t i = 0; i < n; i++)
            if (val_person[ids[img[i]]])
                fail_msg("validation person %s drawn", train->images->people[img[i]]);
    }
    /* and nobody from pairsDevTest is in the bank at all */
    o.all_of_people = 0;
    siam_pairset *test = siam_pairset_load(loc.test, loc.image_root, &o, NULL, &err);
    if (!test)
        fail_msg("%s", err.msg);
    for (int i = 0; i < test->images->count; i += 7)
        assert_false(has_person(train->images, test->images->people[i]));
    free(img), free(lab), free(ids), free(val_person);
    siam_identity_sampler_free(s);
    siam_pairset_free(tr);
    siam_pairset_free(va);
    siam_pairset_free(train);
    siam_pairset_free(test);
    siam_fixture_rmdir(cache);
    free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batches_have_the_shape_labels_and_people),
        cmocka_unit_test(epochs_depend_on_seed_and_epoch_alone),
        cmocka_unit_test(excluded_images_stay_out),
        cmocka_unit_test(bad_configurations_are_refused_by_name),
        cmocka_unit_test(lfw_pool_and_no_validation_person),
    };
    return cmocka_run_group_tests_name("identity_sampler", tests, NULL, NULL);
}
