/* The synthetic face set (deterministic pixels, identity stronger than
 * per-image variation, LFW layout, valid View 1 pairs with disjoint people)
 * and the search for LFW with its synthetic fallback. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/lfw_find.h"
#include "host/lfw_images.h"
#include "host/lfw_pairs.h"
#include "host/synth.h"
#include "tests/support/data_fixture.h"

static void render_is_deterministic(void **state)
{
    (void)state;
    enum { S = 64 };
    uint8_t a[S * S * 3], b[S * S * 3];
    siam_synth_render(a, S, 1, 3, 2);
    siam_synth_render(b, S, 1, 3, 2);
    assert_memory_equal(a, b, sizeof a);
    siam_synth_render(b, S, 1, 3, 1);
    assert_true(memcmp(a, b, sizeof a) != 0);
    siam_synth_render(b, S, 1, 4, 2);
    assert_true(memcmp(a, b, sizeof a) != 0);
    siam_synth_render(b, S, 2, 3, 2);
    assert_true(memcmp(a, b, sizeof a) != 0);
}

/* Grey, mean-removed, unit-norm image: the cheapest identity-agnostic
 * comparison, so the margin below comes from the faces themselves. */
static void normalised_grey(double *g, const uint8_t *rgb, int n)
{
    double mean = 0, norm = 0;
    for (int i = 0; i < n; i++) {
        g[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
        mean += g[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++) {
        g[i] -= mean;
        norm += g[i] * g[i];
    }
    norm = sqrt(norm) + 1e-9;
    for (int i = 0; i < n; i++)
        g[i] /= norm;
}

static void identity_outweighs_variation(void **state)
{
    (void)state;
    enum { S = 48, P = 24, K = 4, N = S * S };
    uint8_t rgb[N * 3];
    double *g = malloc(sizeof *g * P * K * N);
    assert_non_null(g);
    for (int p = 0; p < P; p++)
        for (int k = 0; k < K; k++) {
            siam_synth_render(rgb, S, 11, p, k);
            normalised_grey(g + (size_t)(p * K + k) * N, rgb, N);
        }
    /* Mean correlation of two images of one person against two people. */
    double same = 0, other = 0;
    int ns = 0, no = 0;
    for (int i = 0; i < P * K; i++)
        for (int j = i + 1; j < P * K; j++) {
            double c = 0;
            for (int t = 0; t < N; t++)
                c += g[(size_t)i * N + t] * g[(size_t)j * N + t];
            if (i / K == j / K)
                same += c, ns++;
            else
                other += c, no++;
        }
    same /= ns;
    other /= no;
    print_message("mean correlation: same person %.3f, different people %.3f\n", same, other);
    /* Identity is visible, but variation keeps it from being trivial. */
    assert_true(same > other + 0.05);
    assert_true(same < 0.95);
    free(g);
}

static void written_set_is_lfw_shaped(void **state)
{
    (void)state;
    char *dir = siam_fixture_tmpdir();
    siam_fixture_synth(dir, 12, 5, 40, 15, 8, 3); /* 8 train people, 4 test */
    char path[4400];
    uint8_t px[40 * 40];
    siam_error e;
    for (int p = 1; p <= 12; p++)
        for (int k = 1; k <= 5; k++) {
            snprintf(path, sizeof path, "%s/lfw-synthetic/Face_%04d/Face_%04d_%04d.png", dir, p,
                     p, k);
            if (siam_image_decode_file(px, 40, 40, 0, path, &e) != 0)
                fail_msg("%s", e.msg);
        }
    snprintf(path, sizeof path, "%s/lfw-synthetic/Face_0013", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    const char *files[2] = {"pairsDevTrain.txt", "pairsDevTest.txt"};
    const int n[2] = {15, 8}, lo[2] = {1, 9}, hi[2] = {8, 12};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[s]);
        siam_pair_list *pl = siam_pair_list_read(path, &e);
        if (pl == NULL)
            fail_msg("%s", e.msg);
        assert_int_equal(pl->count, 2 * n[s]);
        for (size_t i = 0; i < pl->count; i++) {
            const siam_pair_entry *x = &pl->entries[i];
            int pa = atoi(x->name_a + 5), pb = atoi(x->name_b + 5);
            assert_true(pa >= lo[s] && pa <= hi[s] && pb >= lo[s] && pb <= hi[s]);
            assert_true(x->num_a >= 1 && x->num_a <= 5 && x->num_b >= 1 && x->num_b <= 5);
            if (x->label) {
                assert_true(x->num_a < x->num_b);
                for (size_t j = 0; j < i; j++)
                    assert_false(strcmp(pl->entries[j].name_a, x->name_a) == 0 &&
                                 pl->entries[j].num_a == x->num_a &&
                                 pl->entries[j].num_b == x->num_b);
            } else {
                assert_int_not_equal(pa, pb);
            }
        }
        siam_pair_list_free(pl);
    }
    siam_synth_options o;
    siam_synth_options_init(&o);
    o.identities = 12, o.images_per_identity = 5, o.size = 40, o.test_identities = 4;
    o.train_pairs = 15, o.test_pairs = 8, o.seed = 3;
    assert_int_equal(siam_synth_present(dir, &o), 1);
    o.seed = 4;
    assert_int_equal(siam_synth_present(dir, &o), 0);
    o.seed = 3;
    o.train_pairs = 8 * 10 + 1; /* 8 people x C(5,2) = 80 possible */
    assert_int_equal(siam_synth_write(dir, &o, &e), -1);
    assert_string_equal(e.msg, "bad synthetic set options: 81/8 matched pairs asked for, but "
                               "8/4 people x 5 images allow at most 80/40");
    o.identities = 3;
    assert_int_equal(siam_synth_write(dir, &o, &e), -1);
    assert_string_equal(e.msg, "bad synthetic set options: 3 identities (4..99999), 5 images "
                               "each (2..4095), size 40 (16..1024), 4 test identities "
                               "(2..identities-2), 81/8 pairs (>= 1)");
    siam_fixture_rmdir(dir);
    free(dir);
}

static void find_explicit_env_local_and_fallback(void **state)
{
    (void)state;
    char *dir = siam_fixture_tmpdir();
    char set[4200], cwd[PATH_MAX], want[9000];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(set, sizeof set, "%s/set", dir);
    siam_fixture_synth(set, 6, 3, 24, 4, 2, 5);
    siam_data_location loc;
    siam_error e;
    unsetenv("LFW_DIR");

    assert_int_equal(siam_lfw_find(&loc, set, NULL, &e), 0);
    assert_int_equal(loc.origin, SIAM_DATA_EXPLICIT);
    snprintf(want, sizeof want, "data: LFW at %s (the path given), images in %s/lfw-synthetic",
             set, set);
    assert_string_equal(loc.message, want);
    snprintf(want, sizeof want, "%s/pairsDevTrain.txt", set);
    assert_string_equal(loc.train, want);
    assert_string_equal(loc.view2, "");

    assert_int_equal(siam_lfw_find(&loc, "/nonexistent-siam", NULL, &e), -1);
    assert_string_equal(e.msg, "LFW path given: /nonexistent-siam: no such directory");
    assert_int_equal(siam_lfw_find(&loc, dir, NULL, &e), -1);
    snprintf(want, sizeof want, "LFW path given: %s: no pairsDevTrain.txt there", dir);
    assert_string_equal(e.msg, want);

    setenv("LFW_DIR", set, 1);
    assert_int_equal(siam_lfw_find(&loc, NULL, NULL, &e), 0);
    assert_int_equal(loc.origin, SIAM_DATA_ENV);
    setenv("LFW_DIR", dir, 1);
    assert_int_equal(siam_lfw_find(&loc, NULL, NULL, &e), -1);
    snprintf(want, sizeof want, "$LFW_DIR: %s: no pairsDevTrain.txt there", dir);
    assert_string_equal(e.msg, want);
    unsetenv("LFW_DIR");

    /* ./data/lfw, seen from a directory that has one. */
    char local[4300];
    snprintf(local, sizeof local, "%s/proj", dir);
    assert_int_equal(mkdir(local, 0755), 0);
    snprintf(want, sizeof want, "%s/data", local);
    assert_int_equal(mkdir(want, 0755), 0);
    snprintf(want, sizeof want, "%s/data/lfw", local);
    assert_int_equal(symlink(set, want), 0);
    assert_int_equal(chdir(local), 0);
    int rc = siam_lfw_find(&loc, NULL, NULL, &e);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(loc.origin, SIAM_DATA_LOCAL);
    assert_string_equal(loc.message, "data: LFW at data/lfw (the default ./data/lfw), images in "
                                     "data/lfw/lfw-synthetic");

    /* Nothing found: the synthetic set, generated once, then reused. */
    char empty[4300], cache[4300];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    setenv("SIAMLUA_CACHE", cache, 1);
    siam_synth_options o;
    siam_synth_options_init(&o);
    o.identities = 6, o.images_per_identity = 3, o.size = 24, o.test_identities = 2;
    o.train_pairs = 4, o.test_pairs = 2, o.seed = 9;
    assert_int_equal(chdir(empty), 0);
    rc = siam_lfw_find(&loc, NULL, &o, &e);
    siam_data_location again;
    int rc2 = siam_lfw_find(&again, NULL, &o, &e);
    assert_int_equal(chdir(cwd), 0);
    unsetenv("SIAMLUA_CACHE");
    assert_int_equal(rc, 0);
    assert_int_equal(rc2, 0);
    assert_int_equal(loc.origin, SIAM_DATA_SYNTHETIC);
    snprintf(want, sizeof want,
             "data: no LFW found (no path given, $LFW_DIR unset, no ./data/lfw): using the "
             "SYNTHETIC face set (6 people x 3 images, seed 9) generated at "
             "%s/synthetic-9-6x3-24",
             cache);
    assert_string_equal(loc.message, want);
    assert_non_null(strstr(again.message, ") already at "));
    snprintf(want, sizeof want, "%s/synthetic-9-6x3-24/lfw-synthetic", cache);
    assert_string_equal(loc.image_root, want);
    siam_fixture_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_is_deterministic),
        cmocka_unit_test(identity_outweighs_variation),
        cmocka_unit_test(written_set_is_lfw_shaped),
        cmocka_unit_test(find_explicit_env_local_and_fallback),
    };
    return cmocka_run_group_tests_name("data_synth", tests, NULL, NULL);
}
