/* The balanced identity-disjoint split (host/split_balanced.h) on a
 * synthetic bank holding more images than the pairs name: sizes, balance,
 * no repeated pair, people kept apart (and out of the pair sampler's
 * draws), the even spread over people, determinism, and each error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dataset.h"
#include "host/pair_sampler.h"
#include "host/split_balanced.h"

#define PEOPLE 30

/* Person p ("P00".."P29") has 1 + p % 6 images, stored person by person. */
static int images_of(int p) { return 1 + p % 6; }

static siam_images *bank(void)
{
    int n = 0;
    for (int p = 0; p < PEOPLE; p++)
        n += images_of(p);
    siam_error e;
    siam_images *im = siam_images_new(n, 2, 2, "/r", &e);
    assert_non_null(im);
    const char **who = malloc(sizeof *who * (size_t)n), **files = malloc(sizeof *files * (size_t)n);
    char(*names)[32] = malloc(sizeof *names * 2 * (size_t)n);
    for (int p = 0, k = 0; p < PEOPLE; p++)
        for (int i = 0; i < images_of(p); i++, k++) {
            snprintf(names[2 * k], 32, "P%02d", p);
            snprintf(names[2 * k + 1], 32, "P%02d_%04d.jpg", p, i + 1);
            who[k] = names[2 * k];
            files[k] = names[2 * k + 1];
        }
    assert_int_equal(siam_images_set_names(im, who, files, &e), 0);
    free(who), free(files), free(names);
    return im;
}

static int person(const siam_images *im, int32_t i) { return atoi(im->people[i] + 1); }

/* The first image of each person in the bank. */
static int32_t first_image(int p)
{
    int32_t k = 0;
    for (int q = 0; q < p; q++)
        k += images_of(q);
    return k;
}

/* As a pairs file would: a matched pair (first two images) of every
 * person with two images or more, and a mismatched pair (first images) of
 * each person and the next; the other images are named by no pair. */
static siam_pairset *pairs_file(void)
{
    siam_images *im = bank();
    siam_error e;
    siam_pairset *ps = siam_pairset_new(im, 2 * PEOPLE, "file", &e);
    siam_images_release(im);
    ps->count = 0;
    for (int p = 0; p < PEOPLE; p++)
        if (images_of(p) >= 2)
            ps->pairs[ps->count++] = (siam_pair){ first_image(p), first_image(p) + 1, 1.0f, 0 };
    for (int p = 0; p < PEOPLE; p++)
        ps->pairs[ps->count++] =
            (siam_pair){ first_image(p), first_image((p + 1) % PEOPLE), 0.0f, 0 };
    return ps;
}

/* Marks the people of x's pairs in seen[]. */
static void people_in(const siam_pairset *x, int *seen)
{
    for (size_t i = 0; i < x->count; i++) {
        seen[person(x->images, x->pairs[i].a)] = 1;
        seen[person(x->images, x->pairs[i].b)] = 1;
    }
}

/* The checks every balanced split must pass; returns the validation people. */
static int check_split(const siam_pairset *ps, const siam_pairset *tr, const siam_pairset *va,
                       size_t dropped, int *in_val)
{
    size_t matched = 0;
    for (size_t i = 0; i < va->count; i++) {
        const siam_pair *p = &va->pairs[i];
        int pa = person(ps->images, p->a), pb = person(ps->images, p->b);
        assert_true(p->a != p->b);
        if (p->label == 1.0f) {
            matched++;
            assert_int_equal(pa, pb);
        } else {
            assert_true(p->label == 0.0f);
            assert_int_not_equal(pa, pb);
        }
        for (size_t j = 0; j < i; j++) {
            const siam_pair *q = &va->pairs[j];
            if ((q->a == p->a && q->b == p->b) || (q->a == p->b && q->b == p->a))
                fail_msg("validation pair %zu repeats pair %zu", i, j);
        }
    }
    assert_int_equal(2 * matched, va->count);
    memset(in_val, 0, sizeof *in_val * PEOPLE);
    people_in(va, in_val);
    int nval = 0;
    for (int p = 0; p < PEOPLE; p++)
        nval += in_val[p];
    /* The training side: exactly the file's pairs without a validation
     * person, in the file's order. */
    size_t k = 0;
    for (size_t i = 0; i < ps->count; i++) {
        const siam_pair *p = &ps->pairs[i];
        if (in_val[person(ps->images, p->a)] || in_val[person(ps->images, p->b)])
            continue;
        assert_true(k < tr->count);
        assert_memory_equal(&tr->pairs[k], p, sizeof *p);
        k++;
    }
    assert_int_equal(k, tr->count);
    assert_int_equal(dropped, ps->count - tr->count);
    assert_ptr_equal(va->images, ps->images);
    assert_ptr_equal(tr->images, ps->images);
    return nval;
}

static void sizes_balance_and_disjoint_people(void **state)
{
    (void)state;
    siam_pairset *ps = pairs_file(), *tr, *va;
    siam_error e;
    size_t dropped = 0;
    /* 6 validation people, 15 pairs of them: 16 mismatched pairs reach
     * every person, so the validation pairs show who was held out. */
    assert_int_equal(siam_split_balanced(ps, 0.2, 32, 0, 7, &tr, &va, &dropped, &e), 0);
    assert_int_equal(va->count, 32);
    int in_val[PEOPLE];
    assert_int_equal(check_split(ps, tr, va, dropped, in_val), 6);
    assert_string_equal(va->source, "file#val-bal");
    assert_string_equal(tr->source, "file#train-bal");
    assert_true(dropped > 0);
    /* Validation uses images that no pair of the file names. */
    int unnamed = 0;
    for (size_t i = 0; i < va->count; i++) {
        int32_t a = va->pairs[i].a, b = va->pairs[i].b;
        unnamed += a - first_image(person(ps->images, a)) >= 2;
        unnamed += b - first_image(person(ps->images, b)) >= 2;
    }
    assert_true(unnamed > 0);
    siam_pairset_free(tr);
    siam_pairset_free(va);
    siam_pairset_free(ps);
}

/* Water-filling: a validation person with fewer matched pairs than
 * another, by two or more, has given all its image pairs; each pair of
 * people gives at most one mismatched pair until every pair has given one. */
static void pairs_spread_evenly(void **state)
{
    (void)state;
    siam_pairset *ps = pairs_file(), *tr, *va;
    siam_error e;
    size_t dropped;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        /* at_most: some seeds' six people have fewer than 16 matched pairs */
        assert_int_equal(siam_split_balanced(ps, 0.2, 32, 1, seed, &tr, &va, &dropped, &e), 0);
        int in_val[PEOPLE], got[PEOPLE] = { 0 }, pair_count[PEOPLE][PEOPLE] = { { 0 } };
        check_split(ps, tr, va, dropped, in_val);
        for (size_t i = 0; i < va->count; i++) {
            int pa = person(ps->images, va->pairs[i].a), pb = person(ps->images, va->pairs[i].b);
            if (pa == pb)
                got[pa]++;
            else
                pair_count[pa < pb ? pa : pb][pa < pb ? pb : pa]++;
        }
        for (int p = 0; p < PEOPLE; p++)
            for (int q = 0; q < PEOPLE; q++) {
                int cap = images_of(p) * (images_of(p) - 1) / 2;
                if (in_val[p] && in_val[q] && got[p] + 2 <= got[q] && got[p] < cap)
                    fail_msg("seed %d: person %d has %d matched pairs of %d, person %d has %d",
                             (int)seed, p, got[p], cap, q, got[q]);
                /* 16 mismatched pairs over 15 pairs of people: one each, one twice;
                 * fewer: at most one each */
                if (in_val[p] && in_val[q] && p < q)
                    assert_in_range(pair_count[p][q], va->count == 32, 1 + (va->count == 32));
            }
        siam_pairset_free(tr);
        siam_pairset_free(va);
    }
    siam_pairset_free(ps);
}

static void seeded_and_deterministic(void **state)
{
    (void)state;
    siam_pairset *ps = pairs_file(), *tr[3], *va[3];
    siam_error e;
    size_t d[3];
    uint64_t seeds[3] = { 3, 3, 4 };
    for (int i = 0; i < 3; i++)
        assert_int_equal(siam_split_balanced(ps, 0.2, 20, 0, seeds[i], &tr[i], &va[i], &d[i], &e),
                         0);
    assert_int_equal(va[0]->count, va[1]->count);
    assert_memory_equal(va[0]->pairs, va[1]->pairs, va[0]->count * sizeof *va[0]->pairs);
    assert_int_equal(tr[0]->count, tr[1]->count);
    assert_memory_equal(tr[0]->pairs, tr[1]->pairs, tr[0]->count * sizeof *tr[0]->pairs);
    assert_int_equal(d[0], d[1]);
    assert_int_equal(va[2]->count, 20);
    assert_true(memcmp(va[0]->pairs, va[2]->pairs, 20 * sizeof *va[0]->pairs) != 0);
    for (int i = 0; i < 3; i++) {
        siam_pairset_free(tr[i]);
        siam_pairset_free(va[i]);
    }
    siam_pairset_free(ps);
}

/* Every person has two images: 6 validation people allow 6 matched pairs. */
static siam_pairset *two_each(int per)
{
    siam_error e;
    siam_images *im = siam_images_new(PEOPLE * per, 2, 2, "/r", &e);
    const char **who = malloc(sizeof *who * PEOPLE * (size_t)per);
    const char **files = malloc(sizeof *files * PEOPLE * (size_t)per);
    char(*names)[32] = malloc(sizeof *names * 2 * PEOPLE * (size_t)per);
    for (int k = 0; k < PEOPLE * per; k++) {
        snprintf(names[2 * k], 32, "P%02d", k / per);
        snprintf(names[2 * k + 1], 32, "P%02d_%04d.jpg", k / per, k % per + 1);
        who[k] = names[2 * k];
        files[k] = names[2 * k + 1];
    }
    assert_int_equal(siam_images_set_names(im, who, files, &e), 0);
    free(who), free(files), free(names);
    siam_pairset *ps = siam_pairset_new(im, PEOPLE, "two", &e);
    siam_images_release(im);
    for (int p = 0; p < PEOPLE; p++)
        ps->pairs[p] = (siam_pair){ p * per, ((p + 1) % PEOPLE) * per, 0.0f, 0 };
    return ps;
}

static void too_few_pairs_fail_or_shrink(void **state)
{
    (void)state;
    siam_pairset *ps = two_each(2), *tr = NULL, *va = NULL;
    siam_error e;
    size_t dropped;
    assert_int_equal(siam_split_balanced(ps, 0.2, 14, 0, 1, &tr, &va, &dropped, &e), -1);
    assert_null(tr);
    assert_string_equal(e.msg, "two: its 6 validation people (6 with two images or more) allow "
                               "6 matched and 60 mismatched pairs: 14 balanced pairs need 7 of "
                               "each (ask for fewer, or hold out more people)");
    assert_int_equal(siam_split_balanced(ps, 0.2, 14, 1, 1, &tr, &va, &dropped, &e), 0);
    assert_int_equal(va->count, 12);
    int in_val[PEOPLE];
    check_split(ps, tr, va, dropped, in_val);
    siam_pairset_free(tr);
    siam_pairset_free(va);
    siam_pairset_free(ps);
    /* One image each: no matched pair at all, even with at_most. */
    ps = two_each(1);
    assert_int_equal(siam_split_balanced(ps, 0.2, 14, 1, 1, &tr, &va, &dropped, &e), -1);
    assert_string_equal(e.msg, "two: its 6 validation people (0 with two images or more) allow "
                               "0 matched and 15 mismatched pairs: no balanced set; 14 balanced "
                               "pairs need 7 of each");
    siam_pairset_free(ps);
}

static void bad_arguments(void **state)
{
    (void)state;
    siam_pairset *ps = pairs_file(), *tr = NULL, *va = NULL;
    siam_error e;
    assert_int_equal(siam_split_balanced(ps, 0.2, 21, 0, 1, &tr, &va, NULL, &e), -1);
    assert_string_equal(e.msg, "file: 21 balanced validation pairs asked for: give an even "
                               "number above 0 (as many matched as mismatched)");
    assert_int_equal(siam_split_balanced(ps, 0.2, 0, 0, 1, &tr, &va, NULL, &e), -1);
    assert_string_equal(e.msg, "file: 0 balanced validation pairs asked for: give an even "
                               "number above 0 (as many matched as mismatched)");
    assert_int_equal(siam_split_balanced(ps, 1.0, 20, 0, 1, &tr, &va, NULL, &e), -1);
    assert_string_equal(e.msg, "file: validation share of people 1 outside (0, 1)");
    assert_int_equal(siam_split_balanced(ps, 0.0, 20, 0, 1, &tr, &va, NULL, &e), -1);
    assert_int_equal(siam_split_balanced(ps, 0.03, 20, 0, 1, &tr, &va, NULL, &e), -1);
    assert_string_equal(e.msg, "file: a share 0.03 of its 30 people is 1: a balanced validation "
                               "set needs two validation people or more");
    assert_int_equal(siam_split_balanced(ps, 0.99, 20, 0, 1, &tr, &va, NULL, &e), -1);
    assert_string_equal(e.msg, "file: a share 0.99 of its 30 people holds out all of them: no "
                               "training person is left");
    assert_null(tr);
    assert_null(va);
    siam_pairset_free(ps);
}

/* The sampler over the training side draws only training people's images
 * (every one of them, named by a pair or not), whether or not the
 * validation set is passed as excluded, and however few validation pairs
 * (2: most held-out people are in none of them). */
static void sampler_never_draws_validation_people(void **state)
{
    (void)state;
    siam_pairset *ps = pairs_file(), *tr, *va;
    siam_error e;
    assert_int_equal(siam_split_balanced(ps, 0.2, 2, 0, 5, &tr, &va, NULL, &e), 0);
    int in_train[PEOPLE] = { 0 }, train_people = 0, train_images = 0;
    people_in(tr, in_train);
    for (int p = 0; p < PEOPLE; p++)
        if (in_train[p]) {
            train_people++;
            train_images += images_of(p);
        }
    assert_true(train_people <= PEOPLE - 6);
    siam_pair_sampler_config cfg;
    siam_pair_sampler_config_default(&cfg);
    cfg.extra_pairs = 400;
    cfg.keep_base = 0;
    for (int with_exclude = 0; with_exclude <= 1; with_exclude++) {
        siam_pair_sampler *s = siam_pair_sampler_new(tr, with_exclude ? va : NULL, &cfg, &e);
        assert_non_null(s);
        int people, people_2, images;
        siam_pair_sampler_pool(s, &people, &people_2, &images);
        assert_int_equal(people, train_people);
        assert_int_equal(images, train_images);
        siam_pair out[400];
        assert_int_equal(siam_pair_sampler_epoch(s, 0, out, &e), 0);
        for (int i = 0; i < 400; i++) {
            assert_true(in_train[person(ps->images, out[i].a)]);
            assert_true(in_train[person(ps->images, out[i].b)]);
        }
        siam_pair_sampler_free(s);
    }
    siam_pairset_free(tr);
    siam_pairset_free(va);
    siam_pairset_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_balance_and_disjoint_people),
        cmocka_unit_test(pairs_spread_evenly),
        cmocka_unit_test(seeded_and_deterministic),
        cmocka_unit_test(too_few_pairs_fail_or_shrink),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(sampler_never_draws_validation_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
