/* More training pairs: the loader option that adds every image of a pair
 * set's people (siam_load_options.all_of_people) on a synthetic set on
 * disk, the per-epoch sampler (host/pair_sampler.h) on an in-memory bank
 * (balance, people, exclusions, seeding, uniformity over people), and on
 * the real LFW View 1 files in ../shared/lfw (skipped when absent): no
 * pairsDevTest person and no validation person is ever drawn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "host/dataset.h"
#include "host/lfw_find.h"
#include "host/lfw_load.h"
#include "host/pair_sampler.h"
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

static siam_pairset *pairs_of(siam_images *im, const int32_t (*ab)[2], const float *label,
                              size_t n)
{
    siam_error err;
    siam_pairset *ps = siam_pairset_new(im, n, "test", &err);
    assert_non_null(ps);
    for (size_t i = 0; i < n; i++)
        ps->pairs[i] = (siam_pair){ ab[i][0], ab[i][1], label[i], 0 };
    return ps;
}

static void sampler_people_balance_and_seeding(void **state)
{
    (void)state;
    /* P0 5 images, P1 1, P2 3, P3 2, P4 4 (excluded), P5 6 (not in the set) */
    const int sizes[6] = { 5, 1, 3, 2, 4, 6 };
    siam_images *im = bank(sizes, 6);
    /* image index of person p, image i: */
    int first[6] = { 0, 5, 6, 9, 11, 15 };
    const int32_t base_ab[4][2] = { { 0, 1 }, { 5, 6 }, { 9, 10 }, { 7, 11 } };
    const float base_y[4] = { 1, 0, 1, 0 };
    siam_pairset *base = pairs_of(im, base_ab, base_y, 4);
    const int32_t val_ab[1][2] = { { 11, 12 } }; /* P4's pair: the validation side */
    const float val_y[1] = { 1 };
    siam_pairset *val = pairs_of(im, val_ab, val_y, 1);
    (void)first;

    siam_error err;
    siam_pair_sampler_config c;
    siam_pair_sampler_config_default(&c);
    c.extra_pairs = 2001; /* odd: 1001 matched, 1000 mismatched */
    c.seed = 42;
    siam_pair_sampler *s = siam_pair_sampler_new(base, val, &c, &err);
    if (!s)
        fail_msg("%s", err.msg);
    int people, two, images;
    siam_pair_sampler_pool(s, &people, &two, &images);
    /* P0, P1, P2, P3 eligible (P4 excluded, P5 outside): 11 images, three
     * people with two or more */
    assert_int_equal(people, 4);
    assert_int_equal(two, 3);
    assert_int_equal(images, 11);
    size_t n = siam_pair_sampler_count(s);
    assert_int_equal(n, 4 + 2001);
    siam_pair *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    assert_int_equal(siam_pair_sampler_epoch(s, 0, p, &err), 0);
    assert_memory_equal(p, base->pairs, 4 * sizeof *p);
    int matched = 0, used[16] = { 0 }, per_person[6] = { 0 };
    for (size_t i = 4; i < n; i++) {
        int pa = person_of(im, p[i].a), pb = person_of(im, p[i].b);
        assert_true(pa <= 3 && pb <= 3);
        used[p[i].a] = used[p[i].b] = 1;
        if (p[i].label == 1.0f) {
            matched++;
            assert_int_equal(pa, pb);
            assert_int_not_equal(p[i].a, p[i].b);
            per_person[pa]++;
        } else {
            assert_true(p[i].label == 0.0f);
            assert_int_not_equal(pa, pb);
        }
        assert_int_equal(p[i].fold, 0);
    }
    assert_int_equal(matched, 1001);
    /* Images the base pairs never name (P0's 3rd-5th, P2's 2nd) are drawn. */
    assert_true(used[2] && used[3] && used[4] && used[7]);
    /* Matched pairs are uniform over the three people with two images:
     * 1001/3 = 333.7 each, binomial sd 14.9; 5 sd is 75. */
    for (int k = 0; k < 4; k++)
        printf("matched pairs of P%d: %d\n", k, per_person[k]);
    assert_int_equal(per_person[1], 0);
    for (int k = 0; k < 4; k++)
        if (k != 1)
            assert_true(fabs(per_person[k] - 1001.0 / 3.0) < 75.0);
    /* Same (seed, epoch): same pairs; another epoch: others. */
    assert_int_equal(siam_pair_sampler_epoch(s, 0, q, &err), 0);
    assert_memory_equal(p, q, n * sizeof *p);
    assert_int_equal(siam_pair_sampler_epoch(s, 1, q, &err), 0);
    assert_memory_not_equal(p + 4, q + 4, (n - 4) * sizeof *p);
    siam_pair_sampler_free(s);

    /* Image exclusion keeps P4's other images (and P4) in the pool. */
    c.exclude = SIAM_EXCLUDE_IMAGES;
    c.keep_base = 0;
    s = siam_pair_sampler_new(base, val, &c, &err);
    assert_non_null(s);
    siam_pair_sampler_pool(s, &people, &two, &images);
    assert_int_equal(people, 5);
    assert_int_equal(images, 11 + 2);
    assert_int_equal(siam_pair_sampler_count(s), 2001);
    assert_int_equal(siam_pair_sampler_epoch(s, 3, p, &err), 0);
    for (size_t i = 0; i < 2001; i++)
        assert_true(p[i].a != 11 && p[i].a != 12 && p[i].b != 11 && p[i].b != 12);
    siam_pair_sampler_free(s);

    /* P1 alone (one image) can give neither kind of pair. */
    const int32_t lone_ab[1][2] = { { 5, 5 } };
    const float lone_y[1] = { 1 };
    siam_pairset *lone = pairs_of(im, lone_ab, lone_y, 1);
    c.exclude = SIAM_EXCLUDE_IMAGES;
    assert_null(siam_pair_sampler_new(lone, NULL, &c, &err));
    assert_string_equal(err.msg, "pair sampler: 1 eligible people, 0 with two images or more: "
                                 "cannot draw both matched and mismatched pairs");
    siam_pairset_free(lone);
    free(p), free(q);
    siam_pairset_free(base);
    siam_pairset_free(val);
    siam_images_release(im);
}

/* The loader option on a synthetic LFW-layout set. */
static void loader_adds_every_image_of_the_people(void **state)
{
    (void)state;
    char *dir = siam_fixture_tmpdir(), *cache = siam_fixture_tmpdir();
    siam_fixture_synth(dir, 12, 5, 24, 6, 3, 7);
    siam_data_location loc;
    siam_error err;
    assert_int_equal(siam_lfw_probe(&loc, dir, &err), 0);
    /* A file in a person's directory that is not named Person_NNNN is not
     * an image of theirs (were it decoded, the load would fail). */
    char sub[PATH_MAX + 64];
    siam_load_options o;
    siam_load_options_init(&o);
    o.cache_dir = cache;
    o.threads = 1;
    siam_load_report rep;
    siam_pairset *plain = siam_pairset_load(loc.train, loc.image_root, &o, &rep, &err);
    if (!plain)
        fail_msg("%s", err.msg);
    snprintf(sub, sizeof sub, "%s/%s", loc.image_root, plain->images->people[0]);
    char junk[64];
    snprintf(junk, sizeof junk, "%s_x.png", plain->images->people[0]);
    free(siam_fixture_write(sub, junk, "not a png", 9));
    assert_int_equal(o.all_of_people, 0);
    o.all_of_people = 1;
    siam_pairset *all = siam_pairset_load(loc.train, loc.image_root, &o, &rep, &err);
    if (!all)
        fail_msg("%s", err.msg);
    assert_false(rep.from_cache); /* its own cache file, not the plain bank's */
    int32_t *ids = malloc((size_t)all->images->count * sizeof *ids);
    int people = siam_images_person_ids(all->images, ids, &err);
    printf("pairs name %d images; all of their %d people: %d images\n", plain->images->count,
           people, all->images->count);
    assert_int_equal(all->images->count, 5 * people);
    assert_true(all->images->count > plain->images->count);
    /* The same pairs, naming the same files, the same people. */
    assert_int_equal(all->count, plain->count);
    for (size_t i = 0; i < all->count; i++) {
        assert_string_equal(all->images->names[all->pairs[i].a],
                            plain->images->names[plain->pairs[i].a]);
        assert_string_equal(all->images->names[all->pairs[i].b],
                            plain->images->names[plain->pairs[i].b]);
        assert_true(all->pairs[i].label == plain->pairs[i].label);
    }
    int32_t *pids = malloc((size_t)plain->images->count * sizeof *pids);
    assert_int_equal(siam_images_person_ids(plain->images, pids, &err), people);
    /* Both banks come back from their own cache files. */
    siam_pairset_free(all);
    all = siam_pairset_load(loc.train, loc.image_root, &o, &rep, &err);
    assert_non_null(all);
    assert_true(rep.from_cache);
    o.all_of_people = 0;
    siam_pairset_free(plain);
    plain = siam_pairset_load(loc.train, loc.image_root, &o, &rep, &err);
    assert_non_null(plain);
    assert_true(rep.from_cache);
    free(ids), free(pids);
    siam_pairset_free(all);
    siam_pairset_free(plain);
    siam_fixture_rmdir(dir);
    siam_fixture_rmdir(cache);
    free(dir), free(cache);
}

static int has_person(const siam_images *im, const char *name)
{
    for (int i = 0; i < im->count; i++)
        if (strcmp(im->people[i], name) == 0)
            return 1;
    return 0;
}

/* Real LFW: the train bank with every image of pairsDevTrain's people, an
 * identity-disjoint validation split, and the sampler on the rest. */
static void lfw_no_test_or_validation_person_is_drawn(void **state)
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
    siam_load_report rep;
    siam_pairset *train = siam_pairset_load(loc.train, loc.image_root, &o, &rep, &err);
    if (!train)
        fail_msg("%s", err.msg);
    o.all_of_people = 0;
    siam_pairset *test = siam_pairset_load(loc.test, loc.image_root, &o, NULL, &err);
    if (!test)
        fail_msg("%s", err.msg);
    int32_t *ids = malloc((size_t)train->images->count * sizeof *ids);
    int people = siam_images_person_ids(train->images, ids, &err);
    printf("pairsDevTrain: %d people, %d images with all of theirs (%.2f s, %s)\n", people,
           train->images->count, rep.seconds, rep.from_cache ? "cache" : "decoded");
    assert_int_equal(people, 2132); /* docs/data.md */
    assert_true(train->images->count > 3443);
    /* pairsDevTest's people are disjoint from pairsDevTrain's by
     * construction; with every image of the train people loaded, still no
     * test person is in the bank the sampler draws from. */
    for (int i = 0; i < test->images->count; i++)
        if (has_person(train->images, test->images->people[i]))
            fail_msg("pairsDevTest person %s is in the training bank",
                     test->images->people[i]);

    siam_pairset *tr, *va;
    size_t dropped;
    assert_int_equal(siam_split_by_identity(train, SIAM_VAL_FRACTION, 1, &tr, &va, &dropped,
                                            &err), 0);
    siam_pair_sampler_config c;
    siam_pair_sampler_config_default(&c);
    c.extra_pairs = 20000;
    c.seed = 3;
    siam_pair_sampler *s = siam_pair_sampler_new(tr, va, &c, &err);
    if (!s)
        fail_msg("%s", err.msg);
    int pool, two, images;
    siam_pair_sampler_pool(s, &pool, &two, &images);
    printf("train side %zu pairs, validation %zu (%zu dropped); pool %d people (%d with two "
           "images or more), %d images\n", tr->count, va->count, dropped, pool, two, images);
    unsigned char *val_person = calloc((size_t)people, 1);
    for (size_t i = 0; i < va->count; i++)
        val_person[ids[va->pairs[i].a]] = val_person[ids[va->pairs[i].b]] = 1;
    size_t n = siam_pair_sampler_count(s), base_matched = 0;
    for (size_t i = 0; i < tr->count; i++)
        base_matched += tr->pairs[i].label == 1.0f;
    siam_pair *p = malloc(n * sizeof *p);
    for (int epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(siam_pair_sampler_epoch(s, epoch, p, &err), 0);
        size_t matched = 0;
        for (size_t i = 0; i < n; i++) {
            assert_false(val_person[ids[p[i].a]] || val_person[ids[p[i].b]]);
            matched += p[i].label == 1.0f;
        }
        assert_int_equal(matched, base_matched + 10000);
    }
    free(p), free(val_person), free(ids);
    siam_pair_sampler_free(s);
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
        cmocka_unit_test(sampler_people_balance_and_seeding),
        cmocka_unit_test(loader_adds_every_image_of_the_people),
        cmocka_unit_test(lfw_no_test_or_validation_person_is_drawn),
    };
    return cmocka_run_group_tests_name("pair_sampler", tests, NULL, NULL);
}
