/* Loading pair sets from a small generated set: pairs map to the right images,
 * each image is decoded once into a sorted bank, the cache is used when valid
 * and rebuilt (saying why) when the inputs or the cache itself changed, and
 * bad inputs fail with file:line messages. */
#include <fcntl.h>
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

#include <stb/stb_image_write.h>

#include "host/data_bench.h"
#include "host/dataset.h"
#include "host/lfw_find.h"
#include "host/lfw_images.h"
#include "host/lfw_load.h"
#include "host/lfw_pairs.h"
#include "host/split.h"
#include "tests/support/data_fixture.h"

typedef struct fixture {
    char *dir;
    char root[4200], train[4200], test[4200], cache[4200];
    siam_load_options opt;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = siam_fixture_tmpdir();
    /* 9 people (6 train, 3 test) x 4 images of 48x48, loaded at 32x32. */
    siam_fixture_synth(f->dir, 9, 4, 48, 10, 5, 7);
    snprintf(f->root, sizeof f->root, "%s/lfw-synthetic", f->dir);
    snprintf(f->train, sizeof f->train, "%s/pairsDevTrain.txt", f->dir);
    snprintf(f->test, sizeof f->test, "%s/pairsDevTest.txt", f->dir);
    snprintf(f->cache, sizeof f->cache, "%s/cache", f->dir);
    assert_int_equal(mkdir(f->cache, 0755), 0);
    siam_load_options_init(&f->opt);
    f->opt.height = f->opt.width = 32;
    f->opt.cache_dir = f->cache;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    siam_fixture_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static siam_pairset *load(fixture *f, const char *pairs, siam_load_report *rep)
{
    siam_error e = {{0}};
    siam_pairset *ps = siam_pairset_load(pairs, f->root, &f->opt, rep, &e);
    if (ps == NULL)
        fail_msg("load %s: %s", pairs, e.msg);
    return ps;
}

/* Each bank image (32x32) is its file decoded on its own with `crop`. */
static void assert_bank_is_each_file(const fixture *f, const siam_pairset *ps, int crop)
{
    uint8_t one[32 * 32];
    siam_error e;
    for (int i = 0; i < ps->images->count; i++) {
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", f->root, ps->images->names[i]);
        assert_int_equal(siam_image_decode_file(one, 32, 32, crop, path, &e), 0);
        assert_memory_equal(ps->images->pixels + (size_t)i * 1024, one, 1024);
    }
}

static void pairs_map_to_sorted_distinct_images(void **state)
{
    fixture *f = *state;
    siam_load_report rep;
    siam_pairset *ps = load(f, f->train, &rep);
    siam_error e;
    siam_pair_list *pl = siam_pair_list_read(f->train, &e);
    assert_non_null(pl);
    assert_int_equal(ps->count, 20);
    assert_int_equal(ps->folds, 1);
    assert_string_equal(ps->source, f->train);

    /* Distinct images by a naive quadratic count over the file. */
    int distinct = 0;
    for (size_t i = 0; i < 2 * pl->count; i++) {
        const siam_pair_entry *x = &pl->entries[i / 2];
        const char *n = i % 2 ? x->name_b : x->name_a;
        int k = i % 2 ? x->num_b : x->num_a, seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const siam_pair_entry *y = &pl->entries[j / 2];
            seen = strcmp(n, j % 2 ? y->name_b : y->name_a) == 0 &&
                   k == (j % 2 ? y->num_b : y->num_a);
        }
        distinct += !seen;
    }
    assert_int_equal(ps->images->count, distinct);
    assert_int_equal(rep.decoded, distinct);
    assert_int_equal(rep.from_cache, 0);
    assert_int_equal(rep.cache_written, 1);
    assert_string_equal(rep.note, "cache rebuilt (no cache file)");

    for (int i = 1; i < ps->images->count; i++)
        assert_true(strcmp(ps->images->names[i - 1], ps->images->names[i]) < 0);
    for (size_t i = 0; i < ps->count; i++) {
        const siam_pair_entry *x = &pl->entries[i];
        char a[64], b[64];
        snprintf(a, sizeof a, "%s/%s_%04d.png", x->name_a, x->name_a, x->num_a);
        snprintf(b, sizeof b, "%s/%s_%04d.png", x->name_b, x->name_b, x->num_b);
        assert_string_equal(ps->images->names[ps->pairs[i].a], a);
        assert_string_equal(ps->images->names[ps->pairs[i].b], b);
        assert_string_equal(ps->images->people[ps->pairs[i].a], x->name_a);
        assert_true(ps->pairs[i].label == (i < 10 ? 1.0f : 0.0f));
        assert_int_equal(ps->pairs[i].fold, 0);
    }
    assert_bank_is_each_file(f, ps, 0);
    siam_pair_list_free(pl);
    siam_pairset_free(ps);
}

static siam_pairset *load_expect(fixture *f, int from_cache, const char *note_prefix)
{
    siam_load_report rep;
    siam_pairset *ps = load(f, f->train, &rep);
    assert_int_equal(rep.from_cache, from_cache);
    assert_int_equal(rep.decoded, from_cache ? 0 : ps->images->count);
    if (strncmp(rep.note, note_prefix, strlen(note_prefix)) != 0)
        fail_msg("note \"%s\" does not start with \"%s\"", rep.note, note_prefix);
    return ps;
}

static char *cache_file(fixture *f)
{
    siam_load_report rep;
    siam_pairset *ps = load(f, f->train, &rep);
    siam_pairset_free(ps);
    return strdup(rep.cache_path);
}

static void cache_hit_and_invalidation(void **state)
{
    fixture *f = *state;
    siam_pairset *first = load_expect(f, 0, "cache rebuilt (no cache file)");
    size_t bytes = (size_t)first->images->count * 1024;
    siam_pairset *again = load_expect(f, 1, "");
    assert_memory_equal(again->images->pixels, first->images->pixels, bytes);
    siam_pairset_free(again);
    char *cache = cache_file(f);

    /* A touched image (new modification time, same bytes). */
    char img[8400];
    snprintf(img, sizeof img, "%s/%s", f->root, first->images->names[0]);
    struct timespec times[2] = {{.tv_sec = 1000000000, .tv_nsec = 0},
                                {.tv_sec = 1000000000, .tv_nsec = 0}};
    assert_int_equal(utimensat(AT_FDCWD, img, times, 0), 0);
    siam_pairset_free(load_expect(
        f, 0, "cache rebuilt (stale: the image files changed (names, sizes or times))"));
    siam_pairset_free(load_expect(f, 1, ""));

    /* A changed image: new pixels must come through. */
    unsigned char grey[48 * 48];
    memset(grey, 200, sizeof grey);
    assert_true(stbi_write_png(img, 48, 48, 1, grey, 48));
    siam_pairset *changed = load_expect(f, 0, "cache rebuilt (stale: the image files changed");
    for (int i = 0; i < 1024; i++)
        assert_int_equal(changed->images->pixels[i], 200);
    assert_memory_equal(changed->images->pixels + 1024, first->images->pixels + 1024,
                        bytes - 1024);
    siam_pairset_free(changed);

    /* Changed in place with its size and modification time put back: only
     * the bytes tell, and they are part of the key. */
    siam_pairset_free(load_expect(f, 1, ""));
    struct stat before;
    assert_int_equal(stat(img, &before), 0);
    memset(grey, 201, sizeof grey);
    assert_true(stbi_write_png(img, 48, 48, 1, grey, 48));
    struct timespec kept[2] = { before.st_atim, before.st_mtim };
    assert_int_equal(utimensat(AT_FDCWD, img, kept, 0), 0);
    struct stat after;
    assert_int_equal(stat(img, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    siam_pairset *same_stamp = load_expect(
        f, 0, "cache rebuilt (stale: an image file's contents changed (same names, sizes and "
              "times))");
    for (int i = 0; i < 1024; i++)
        assert_int_equal(same_stamp->images->pixels[i], 201);
    siam_pairset_free(same_stamp);

    /* Damage to the cache file itself. */
    size_t len;
    unsigned char *good = siam_fixture_read(cache, &len);
    unsigned char *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, good, len);
    bad[len - 100] ^= 0x01; /* a pixel */
    free(siam_fixture_write(f->cache, strrchr(cache, '/') + 1, bad, len));
    siam_pairset_free(load_expect(f, 0, "cache rebuilt (corrupt: checksum mismatch)"));
    free(siam_fixture_write(f->cache, strrchr(cache, '/') + 1, good, len / 2));
    char want[200];
    snprintf(want, sizeof want, "cache rebuilt (truncated: %zu bytes, expected %zu)", len / 2,
             len);
    siam_pairset_free(load_expect(f, 0, want));
    free(siam_fixture_write(f->cache, strrchr(cache, '/') + 1, good, 10));
    siam_pairset_free(load_expect(f, 0, "cache rebuilt (truncated: shorter than its header)"));
    free(siam_fixture_write(f->cache, strrchr(cache, '/') + 1, good, 0));
    siam_pairset_free(load_expect(f, 0, "cache rebuilt (corrupt: empty cache file)"));
    memcpy(bad, good, len);
    memcpy(bad, "NOTACACHE", 9);
    free(siam_fixture_write(f->cache, strrchr(cache, '/') + 1, bad, len));
    siam_pairset_free(
        load_expect(f, 0, "cache rebuilt (corrupt: not a siamlua image cache (bad magic))"));
    memcpy(bad, good, len);
    bad[8] ^= 0xff; /* the format version */
    free(siam_fixture_write(f->cache, strrchr(cache, '/') + 1, bad, len));
    siam_pairset_free(load_expect(f, 0, "cache rebuilt (stale: cache format version differs)"));
    siam_pairset_free(load_expect(f, 1, ""));

    /* A changed pairs file (same images, one line swapped for another). */
    size_t plen;
    char *text = (char *)siam_fixture_read(f->train, &plen);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    char *second = strchr(nl + 1, '\n');
    assert_non_null(second);
    /* Repeat the first pair line in place of the second. */
    size_t l1 = (size_t)(second - nl);
    char *edited = malloc(plen + l1 + 1);
    assert_non_null(edited);
    memcpy(edited, text, (size_t)(second - text) + 1);
    char *third = strchr(second + 1, '\n');
    size_t head = (size_t)(second - text) + 1;
    memcpy(edited + head, nl + 1, l1);
    size_t tail = plen - (size_t)(third + 1 - text);
    memcpy(edited + head + l1, third + 1, tail);
    free(siam_fixture_write(f->dir, "pairsDevTrain.txt", edited, head + l1 + tail));
    siam_load_report rep;
    siam_pairset *ps = load(f, f->train, &rep);
    assert_int_equal(rep.from_cache, 0);
    assert_string_equal(rep.cache_path, cache);
    assert_string_equal(rep.note, "cache rebuilt (stale: the pairs file changed)");
    assert_int_equal(ps->count, 20);
    assert_int_equal(ps->pairs[1].a, ps->pairs[0].a);
    assert_int_equal(ps->pairs[1].b, ps->pairs[0].b);
    siam_pairset_free(ps);
    free(edited);
    free(text);
    free(good);
    free(bad);
    free(cache);
    siam_pairset_free(first);
}

static void no_cache_and_env_cache_dir(void **state)
{
    fixture *f = *state;
    siam_load_report rep;
    f->opt.use_cache = 0;
    siam_pairset *ps = load(f, f->test, &rep);
    assert_string_equal(rep.cache_path, "");
    assert_int_equal(rep.cache_written, 0);
    assert_int_equal(ps->count, 10);
    siam_pairset_free(ps);
    f->opt.use_cache = 1;
    char made[4300];
    snprintf(made, sizeof made, "%s/made/on/demand", f->dir);
    f->opt.cache_dir = made;
    ps = load(f, f->test, &rep);
    assert_int_equal(rep.cache_written, 1);
    assert_true(strncmp(rep.cache_path, made, strlen(made)) == 0);
    siam_pairset_free(ps);
    f->opt.cache_dir = NULL;
    char env[4300];
    snprintf(env, sizeof env, "%s/env/cache", f->dir);
    setenv("SIAMLUA_CACHE", env, 1);
    ps = load(f, f->test, &rep);
    unsetenv("SIAMLUA_CACHE");
    assert_int_equal(rep.cache_written, 1);
    assert_true(strncmp(rep.cache_path, env, strlen(env)) == 0);
    siam_pairset_free(ps);
}

static void load_dir_and_people(void **state)
{
    fixture *f = *state;
    siam_error e;
    siam_load_report rep;
    siam_images *im = siam_images_load_dir(f->root, &f->opt, &rep, &e);
    assert_non_null(im);
    assert_int_equal(im->count, 36);
    assert_string_equal(im->names[0], "Face_0001/Face_0001_0001.png");
    assert_string_equal(im->names[35], "Face_0009/Face_0009_0004.png");
    assert_string_equal(im->people[5], "Face_0002");
    int32_t ids[36];
    assert_int_equal(siam_images_person_ids(im, ids, &e), 9);
    for (int i = 0; i < 36; i++)
        assert_int_equal(ids[i], i / 4);
    siam_images_release(im);
    im = siam_images_load_dir(f->root, &f->opt, &rep, &e);
    assert_int_equal(rep.from_cache, 1);
    siam_images_release(im);
    assert_null(siam_images_load_dir(f->cache, &f->opt, &rep, &e));
    char want[4400];
    snprintf(want, sizeof want, "no images (Name/*.jpg, *.png) under %s", f->cache);
    assert_string_equal(e.msg, want);
}

static void bad_inputs_name_file_and_line(void **state)
{
    fixture *f = *state;
    siam_error e;
    const char *text = "2\nFace_0001\t1\t2\nFace_0002\t1\t3\nFace_0001\t1\tFace_0002\t2\n"
                       "Face_0001\t99\tFace_0003\t1\n";
    char *pairs = siam_fixture_write(f->dir, "bad.txt", text, strlen(text));
    assert_null(siam_pairset_load(pairs, f->root, &f->opt, NULL, &e));
    char want[9000];
    snprintf(want, sizeof want, "%s:5: missing image %s/Face_0001/Face_0001_0099.jpg", pairs,
             f->root);
    assert_string_equal(e.msg, want);

    assert_null(siam_pairset_load(pairs, "/nonexistent-siam", &f->opt, NULL, &e));
    assert_string_equal(e.msg, "image directory /nonexistent-siam: No such file or directory");

    /* A corrupt image among good ones: its path and the reason, no crash. */
    char img[4400];
    snprintf(img, sizeof img, "%s/Face_0002/Face_0002_0003.png", f->root);
    free(siam_fixture_write(f->root, "Face_0002/Face_0002_0003.png", "garbage!", 8));
    const char *ok = "1\nFace_0002\t1\t3\nFace_0001\t1\tFace_0002\t2\n";
    free(pairs);
    pairs = siam_fixture_write(f->dir, "ok.txt", ok, strlen(ok));
    assert_null(siam_pairset_load(pairs, f->root, &f->opt, NULL, &e));
    snprintf(want, sizeof want, "%s: not a readable image (unknown image type)", img);
    assert_string_equal(e.msg, want);
    free(siam_fixture_write(f->root, "Face_0002/Face_0002_0003.png", "", 0));
    assert_null(siam_pairset_load(pairs, f->root, &f->opt, NULL, &e));
    snprintf(want, sizeof want, "%s: empty file (0 bytes), not an image", img);
    assert_string_equal(e.msg, want);
    free(pairs);
}

static void banks_are_shared_and_freed(void **state)
{
    (void)state;
    siam_error e;
    siam_images *im = siam_images_new(2, 3, 4, "/r", &e);
    assert_non_null(im);
    const char *people[2] = {"A", "B"}, *files[2] = {"A_0001.jpg", "B_0002.png"};
    assert_int_equal(siam_images_set_names(im, people, files, &e), 0);
    assert_string_equal(im->names[1], "B/B_0002.png");
    assert_string_equal(im->people[1], "B");
    siam_pairset *a = siam_pairset_new(im, 3, "x", &e);
    siam_pairset *b = siam_pairset_new(im, 0, NULL, &e);
    assert_int_equal(im->refcount, 3);
    siam_images_release(im);
    siam_pairset_free(a);
    assert_int_equal(b->images->refcount, 1);
    assert_string_equal(b->source, "");
    siam_pairset_free(b);
    siam_pairset_free(NULL);
    siam_images_release(NULL);
    assert_null(siam_images_new(-1, 3, 3, NULL, &e));
    assert_string_equal(e.msg, "bad image bank shape: -1 images of 3x3");
}

static void view2_file_loads_with_folds(void **state)
{
    fixture *f = *state;
    const char *text = "2\t1\n"
                       "Face_0001\t1\t2\nFace_0001\t1\tFace_0002\t2\n"
                       "Face_0003\t2\t4\nFace_0003\t1\tFace_0004\t3\n";
    char *pairs = siam_fixture_write(f->dir, "pairs.txt", text, strlen(text));
    siam_load_report rep;
    siam_pairset *ps = load(f, pairs, &rep);
    assert_int_equal(ps->folds, 2);
    assert_int_equal(ps->count, 4);
    assert_int_equal(ps->images->count, 7);
    const int fold[4] = {0, 0, 1, 1};
    const float label[4] = {1, 0, 1, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ps->pairs[i].fold, fold[i]);
        assert_true(ps->pairs[i].label == label[i]);
    }
    assert_string_equal(ps->images->names[ps->pairs[3].b], "Face_0004/Face_0004_0003.png");
    siam_pairset *tr, *te;
    siam_error e;
    assert_int_equal(siam_split_fold(ps, 1, &tr, &te, &e), 0);
    assert_int_equal(te->count, 2);
    assert_int_equal(te->pairs[0].a, ps->pairs[2].a);
    assert_int_equal(tr->count, 2);
    siam_pairset_free(tr);
    siam_pairset_free(te);
    siam_pairset_free(ps);
    free(pairs);
}

static void bench_runs_and_cleans_up(void **state)
{
    fixture *f = *state;
    siam_data_location loc;
    siam_data_bench b;
    siam_error e;
    assert_int_equal(siam_lfw_probe(&loc, f->dir, &e), 0);
    char scratch[4300];
    snprintf(scratch, sizeof scratch, "%s/scratch", f->dir);
    assert_int_equal(mkdir(scratch, 0755), 0);
    if (siam_data_bench_run(&b, &loc, scratch, 2, 1, &e) != 0)
        fail_msg("%s", e.msg);
    siam_load_report rep;
    siam_pairset *ps = load(f, f->train, &rep);
    assert_int_equal(b.set_images, ps->images->count);
    siam_pairset_free(ps);
    assert_int_equal(b.all_images, 36);
    assert_int_equal(b.threads, 2);
    assert_true(b.set_first_s > 0 && b.set_cached_s > 0 && b.all_cached_s > 0);
    /* The scratch cache is gone: only the empty scratch directory is left. */
    assert_int_equal(rmdir(scratch), 0);
}

/* A crop has its own cache file: the crop 0 cache is not reused, the
 * cropped bank is each file decoded with that crop, the second load hits,
 * and a cache whose header names another crop is stale. */
static void crop_has_its_own_cache(void **state)
{
    fixture *f = *state;
    siam_pairset_free(load_expect(f, 0, "cache rebuilt (no cache file)"));
    char *whole = cache_file(f);
    f->opt.crop = 30;
    siam_pairset *ps = load_expect(f, 0, "cache rebuilt (no cache file)");
    assert_int_equal(ps->images->crop, 30);
    assert_bank_is_each_file(f, ps, 30);
    siam_pairset_free(ps);
    ps = load_expect(f, 1, "");
    assert_int_equal(ps->images->crop, 30);
    siam_pairset_free(ps);
    char *cropped = cache_file(f);
    assert_string_not_equal(cropped, whole);

    /* The header's crop field (after the magic and four u32s) says 31. */
    size_t len;
    unsigned char *bytes = siam_fixture_read(cropped, &len);
    uint32_t other = 31;
    memcpy(bytes + 8 + 4 * 4, &other, sizeof other);
    free(siam_fixture_write(f->cache, strrchr(cropped, '/') + 1, bytes, len));
    siam_pairset_free(load_expect(f, 0, "cache rebuilt (stale: built for another crop)"));

    /* Larger than the 48x48 images: the file at fault is named. */
    f->opt.crop = 49;
    siam_load_report rep;
    siam_error e;
    assert_null(siam_pairset_load(f->train, f->root, &f->opt, &rep, &e));
    assert_non_null(strstr(e.msg, ": crop 49 is larger than the 48x48 image"));
    free(bytes);
    free(whole);
    free(cropped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pairs_map_to_sorted_distinct_images, setup, teardown),
        cmocka_unit_test_setup_teardown(cache_hit_and_invalidation, setup, teardown),
        cmocka_unit_test_setup_teardown(crop_has_its_own_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(no_cache_and_env_cache_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(load_dir_and_people, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_inputs_name_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(view2_file_loads_with_folds, setup, teardown),
        cmocka_unit_test_setup_teardown(bench_runs_and_cleans_up, setup, teardown),
        cmocka_unit_test(banks_are_shared_and_freed),
    };
    return cmocka_run_group_tests_name("data_load", tests, NULL, NULL);
}
