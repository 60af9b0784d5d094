/* Splits: stratified counts, order, determinism and uniformity; the
 * identity-disjoint split keeps every person on one side; View 2 folds; and
 * the data summary's counts, printout and overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host/data_summary.h"
#include "host/split.h"

/* A bank of `people` people with `per` images each, named P00/P00_0001.jpg. */
static siam_images *bank(int people, int per)
{
    siam_error e;
    siam_images *im = siam_images_new(people * per, 2, 2, "/r", &e);
    assert_non_null(im);
    const char **p = malloc(sizeof *p * (size_t)(people * per));
    const char **f = malloc(sizeof *f * (size_t)(people * per));
    char (*pn)[16] = malloc(16 * (size_t)(people * per));
    char (*fn)[32] = malloc(32 * (size_t)(people * per));
    for (int i = 0; i < people * per; i++) {
        snprintf(pn[i], 16, "P%02d", i / per);
        snprintf(fn[i], 32, "P%02d_%04d.jpg", i / per, i % per + 1);
        p[i] = pn[i];
        f[i] = fn[i];
    }
    assert_int_equal(siam_images_set_names(im, p, f, &e), 0);
    free(p);
    free(f);
    free(pn);
    free(fn);
    return im;
}

/* 100 pairs over 100 images; pair i uses image i on both sides (so a and b
 * identify it) and is matched when i % 5 < 3: 60 matched, 40 mismatched. */
static siam_pairset *numbered_set(void)
{
    siam_images *im = bank(100, 1);
    siam_error e;
    siam_pairset *ps = siam_pairset_new(im, 100, "set", &e);
    siam_images_release(im);
    for (int i = 0; i < 100; i++)
        ps->pairs[i] = (siam_pair){.a = i, .b = i, .label = i % 5 < 3 ? 1.0f : 0.0f, .fold = 0};
    return ps;
}

static int count_label(const siam_pairset *ps, float label)
{
    int n = 0;
    for (size_t i = 0; i < ps->count; i++)
        n += ps->pairs[i].label == label;
    return n;
}

static void stratified_counts_order_and_cover(void **state)
{
    (void)state;
    siam_pairset *ps = numbered_set(), *tr, *va;
    siam_error e;
    assert_int_equal(siam_split_stratified(ps, 0.2, 1, &tr, &va, &e), 0);
    assert_int_equal(va->count, 20);
    assert_int_equal(tr->count, 80);
    assert_int_equal(count_label(va, 1.0f), 12);
    assert_int_equal(count_label(va, 0.0f), 8);
    assert_int_equal(count_label(tr, 1.0f), 48);
    assert_string_equal(va->source, "set#val");
    assert_string_equal(tr->source, "set#train");
    assert_ptr_equal(va->images, ps->images);
    int seen[100] = {0};
    for (size_t i = 0; i < tr->count; i++) {
        seen[tr->pairs[i].a]++;
        if (i > 0)
            assert_true(tr->pairs[i].a > tr->pairs[i - 1].a);
    }
    for (size_t i = 0; i < va->count; i++) {
        seen[va->pairs[i].a]++;
        assert_true(va->pairs[i].label == (va->pairs[i].a % 5 < 3 ? 1.0f : 0.0f));
        if (i > 0)
            assert_true(va->pairs[i].a > va->pairs[i - 1].a);
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[i], 1);
    siam_pairset_free(tr);
    siam_pairset_free(va);

    assert_int_equal(siam_split_stratified(ps, 0.0, 1, &tr, &va, &e), 0);
    assert_int_equal(va->count, 0);
    assert_int_equal(tr->count, 100);
    siam_pairset_free(tr);
    siam_pairset_free(va);
    assert_int_equal(siam_split_stratified(ps, 1.0, 1, &tr, &va, &e), -1);
    assert_string_equal(e.msg, "set: validation fraction 1 outside [0, 1)");
    assert_int_equal(siam_split_stratified(ps, -0.1, 1, &tr, &va, &e), -1);
    assert_string_equal(e.msg, "set: validation fraction -0.1 outside [0, 1)");
    siam_pairset_free(ps);
}

/* take(n) gives exactly n pairs for every n, each class within one pair of
 * its share, and the same pairs as the stratified split whenever that
 * split's two roundings already add up to n. 60/40 classes make f * 60 and
 * f * 40 both end in .5 for n = 5 (a stratified split would give 6). */
static void take_gives_exactly_n(void **state)
{
    (void)state;
    siam_pairset *ps = numbered_set();
    siam_error e;
    for (size_t n = 0; n <= 100; n++) {
        siam_pairset *rest, *part;
        assert_int_equal(siam_split_take(ps, n, 7, &rest, &part, &e), 0);
        assert_int_equal(part->count, n);
        assert_int_equal(rest->count, 100 - n);
        double share = 0.6 * (double)n;
        assert_true(fabs(count_label(part, 1.0f) - share) <= 1.0);
        siam_pairset_free(rest);
        if (n == 100) { /* a stratified split keeps some pairs for training */
            siam_pairset_free(part);
            continue;
        }
        siam_pairset *tr, *va;
        assert_int_equal(siam_split_stratified(ps, (double)n / 100.0, 7, &tr, &va, &e), 0);
        if (va->count == n)
            for (size_t i = 0; i < n; i++)
                assert_int_equal(va->pairs[i].a, part->pairs[i].a);
        siam_pairset_free(tr);
        siam_pairset_free(va);
        siam_pairset_free(part);
    }
    siam_pairset *rest, *part;
    assert_int_equal(siam_split_take(ps, 101, 7, &rest, &part, &e), -1);
    assert_string_equal(e.msg, "set: 101 pairs asked for, the set has 100");
    siam_pairset_free(ps);
}

static void stratified_is_seeded_and_uniform(void **state)
{
    (void)state;
    siam_pairset *ps = numbered_set(), *t1, *v1, *t2, *v2;
    siam_error e;
    assert_int_equal(siam_split_stratified(ps, 0.2, 42, &t1, &v1, &e), 0);
    assert_int_equal(siam_split_stratified(ps, 0.2, 42, &t2, &v2, &e), 0);
    assert_memory_equal(v1->pairs, v2->pairs, v1->count * sizeof *v1->pairs);
    siam_pairset_free(t2);
    siam_pairset_free(v2);
    assert_int_equal(siam_split_stratified(ps, 0.2, 43, &t2, &v2, &e), 0);
    assert_true(memcmp(v1->pairs, v2->pairs, v1->count * sizeof *v1->pairs) != 0);
    siam_pairset_free(t1);
    siam_pairset_free(v1);
    siam_pairset_free(t2);
    siam_pairset_free(v2);
    /* Over 400 seeds each pair lands in validation about 20% of the time
     * (80 expected; 40..120 is beyond 4.5 standard deviations). */
    int hits[100] = {0};
    for (uint64_t seed = 0; seed < 400; seed++) {
        assert_int_equal(siam_split_stratified(ps, 0.2, seed, &t1, &v1, &e), 0);
        for (size_t i = 0; i < v1->count; i++)
            hits[v1->pairs[i].a]++;
        siam_pairset_free(t1);
        siam_pairset_free(v1);
    }
    for (int i = 0; i < 100; i++)
        if (hits[i] < 40 || hits[i] > 120)
            fail_msg("pair %d in validation %d times of 400", i, hits[i]);
    siam_pairset_free(ps);
}

/* 30 people x 3 images: the 3 matched pairs of each person, and 60
 * mismatched pairs between people i and (7i + 3) % 30 (never equal). */
static siam_pairset *people_set(void)
{
    siam_images *im = bank(30, 3);
    siam_error e;
    siam_pairset *ps = siam_pairset_new(im, 150, "people", &e);
    siam_images_release(im);
    size_t k = 0;
    for (int p = 0; p < 30; p++) {
        ps->pairs[k++] = (siam_pair){3 * p, 3 * p + 1, 1.0f, 0};
        ps->pairs[k++] = (siam_pair){3 * p, 3 * p + 2, 1.0f, 0};
        ps->pairs[k++] = (siam_pair){3 * p + 1, 3 * p + 2, 1.0f, 0};
    }
    for (int i = 0; i < 60; i++) {
        int p = i % 30, q = (7 * i + 3) % 30;
        if (q == p)
            q = (q + 1) % 30;
        ps->pairs[k++] = (siam_pair){3 * p + i % 3, 3 * q + (i + 1) % 3, 0.0f, 0};
    }
    return ps;
}

static void identity_split_keeps_people_apart(void **state)
{
    (void)state;
    siam_pairset *ps = people_set(), *tr, *va, *tr2, *va2;
    siam_error e;
    size_t dropped = 0, dropped2 = 0;
    assert_int_equal(siam_split_by_identity(ps, 0.2, 5, &tr, &va, &dropped, &e), 0);
    int side[30];
    for (int p = 0; p < 30; p++)
        side[p] = -1;
    for (int s = 0; s < 2; s++) {
        const siam_pairset *x = s ? va : tr;
        for (size_t i = 0; i < x->count; i++) {
            int pa = x->pairs[i].a / 3, pb = x->pairs[i].b / 3;
            for (int k = 0; k < 2; k++) {
                int p = k ? pb : pa;
                if (side[p] >= 0 && side[p] != s)
                    fail_msg("person %d on both sides", p);
                side[p] = s;
            }
        }
    }
    /* Recount the dropped pairs from the final sides. */
    size_t straddle = 0;
    for (size_t i = 0; i < ps->count; i++) {
        int pa = ps->pairs[i].a / 3, pb = ps->pairs[i].b / 3;
        straddle += side[pa] >= 0 && side[pb] >= 0 && side[pa] != side[pb];
    }
    assert_int_equal(dropped, straddle);
    assert_int_equal(tr->count + va->count + dropped, 150);
    assert_true(va->count >= 30);
    assert_true(va->count < 60);
    assert_string_equal(va->source, "people#val-id");
    assert_int_equal(siam_split_by_identity(ps, 0.2, 5, &tr2, &va2, &dropped2, &e), 0);
    assert_int_equal(dropped2, dropped);
    assert_int_equal(va2->count, va->count);
    assert_memory_equal(va2->pairs, va->pairs, va->count * sizeof *va->pairs);
    siam_pairset_free(tr);
    siam_pairset_free(va);
    siam_pairset_free(tr2);
    siam_pairset_free(va2);
    siam_pairset_free(ps);
}

static void view2_folds(void **state)
{
    (void)state;
    siam_pairset *ps = numbered_set(), *tr, *te;
    siam_error e;
    ps->folds = 4;
    for (size_t i = 0; i < ps->count; i++)
        ps->pairs[i].fold = (int32_t)(i / 25);
    assert_int_equal(siam_split_fold(ps, 2, &tr, &te, &e), 0);
    assert_int_equal(te->count, 25);
    assert_int_equal(tr->count, 75);
    for (size_t i = 0; i < te->count; i++)
        assert_int_equal(te->pairs[i].a, 50 + (int)i);
    for (size_t i = 0; i < tr->count; i++)
        assert_true(tr->pairs[i].fold != 2);
    assert_string_equal(te->source, "set#fold-2");
    assert_int_equal(te->folds, 4);
    siam_pairset_free(tr);
    siam_pairset_free(te);
    assert_int_equal(siam_split_fold(ps, 4, &tr, &te, &e), -1);
    assert_string_equal(e.msg, "set: fold 4 outside 0..3");
    siam_pairset_free(ps);
}

static void summary_counts_and_print(void **state)
{
    (void)state;
    siam_error e;
    /* A: 3 images, B: 1, C: 2 (indices 0-2 A, 3 B, 4-5 C), D: 1 (6). */
    siam_images *im = siam_images_new(7, 2, 2, "/r", &e);
    const char *p[7] = {"A", "A", "A", "B", "C", "C", "D"};
    const char *f[7] = {"A_0001.jpg", "A_0002.jpg", "A_0003.jpg", "B_0001.jpg",
                        "C_0001.jpg", "C_0002.jpg", "D_0001.jpg"};
    assert_int_equal(siam_images_set_names(im, p, f, &e), 0);
    siam_pairset *a = siam_pairset_new(im, 4, "a.txt", &e);
    a->pairs[0] = (siam_pair){0, 1, 1.0f, 0};
    a->pairs[1] = (siam_pair){4, 5, 1.0f, 0};
    a->pairs[2] = (siam_pair){2, 3, 0.0f, 0};
    a->pairs[3] = (siam_pair){0, 4, 0.0f, 0};
    siam_pairset *b = siam_pairset_new(im, 1, "b.txt", &e);
    b->pairs[0] = (siam_pair){3, 6, 0.0f, 0};
    siam_images_release(im);

    siam_data_summary s;
    assert_int_equal(siam_data_summary_compute(&s, a, &e), 0);
    assert_int_equal(s.pairs, 4);
    assert_int_equal(s.matched, 2);
    assert_int_equal(s.mismatched, 2);
    assert_int_equal(s.images, 6);
    assert_int_equal(s.people, 3);
    assert_int_equal(s.per_person_min, 1);
    assert_int_equal(s.per_person_median, 2);
    assert_int_equal(s.per_person_max, 3);
    assert_true(s.per_person_mean == 2.0);
    assert_int_equal(s.people_one_image, 1);
    assert_int_equal(siam_data_people_overlap(a, b, &e), 1);
    assert_int_equal(siam_data_people_overlap(b, b, &e), 2);

    char buf[1024] = {0};
    FILE *mem = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(mem);
    assert_int_equal(siam_data_summary_print(mem, a, b, &e), 0);
    fclose(mem);
    assert_string_equal(buf,
                        "a.txt: 4 pairs (2 matched, 2 mismatched)\n"
                        "  6 distinct images of 3 people; images per person: min 1, median 2, "
                        "mean 2.00, max 3; 1 with a single image\n"
                        "b.txt: 1 pairs (0 matched, 1 mismatched)\n"
                        "  2 distinct images of 2 people; images per person: min 1, median 1, "
                        "mean 1.00, max 1; 2 with a single image\n"
                        "people in both sets: 1\n");
    siam_pairset_free(a);
    siam_pairset_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stratified_counts_order_and_cover),
        cmocka_unit_test(stratified_is_seeded_and_uniform),
        cmocka_unit_test(take_gives_exactly_n),
        cmocka_unit_test(identity_split_keeps_people_apart),
        cmocka_unit_test(view2_folds),
        cmocka_unit_test(summary_counts_and_print),
    };
    return cmocka_run_group_tests_name("data_split", tests, NULL, NULL);
}
