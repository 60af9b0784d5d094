/* The model metadata (threshold, crop, tta, init, seed) of checkpoints:
 * format 3 keeps it in the file and writes no sidecar; a stale
 * "<ckpt>.meta" is removed by a save and not read beside a format 3 file;
 * format 1-2 files read their sidecar, and any fault in it (a misspelt key
 * above all) is an error naming the file, line and key that changes
 * nothing; the format 2 file the previous build wrote still loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/checkpoint.h"
#include "host/checkpoint_header.h"
#include "tests/support/ckpt_bytes.h"
#include "tests/support/tiny_model.h"
#include "tests/support/tmpdir.h"

typedef struct rig {
    siam_ctx *ctx;
    siam_model *m;
    char path[256], side[300];
} rig;

static void rig_open(rig *r, const char *dir, uint64_t seed)
{
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    r->ctx = siam_ops_cpu.ctx_new(&o, &err);
    assert_non_null(r->ctx);
    siam_model_config cfg;
    siam_test_tiny_config(&cfg, 2);
    r->m = siam_model_new(&siam_ops_cpu, r->ctx, &cfg, 2, &err);
    assert_non_null(r->m);
    assert_int_equal(siam_model_init(r->m, SIAM_INIT_PYTORCH, seed, &err), 0);
    snprintf(r->path, sizeof r->path, "%s/m.ckpt", dir);
    snprintf(r->side, sizeof r->side, "%s.meta", r->path);
}

static void rig_close(rig *r)
{
    siam_model_free(r->m);
    siam_ops_cpu.ctx_free(r->ctx);
}

static void write_text(const char *path, const char *text)
{
    siam_test_write_file(path, text, strlen(text));
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void assert_meta_equal(const siam_model_meta *a, const siam_model_meta *b)
{
    assert_true(a->threshold == b->threshold);
    assert_int_equal(a->crop, b->crop);
    assert_int_equal(a->tta, b->tta);
    assert_int_equal(a->init, b->init);
    assert_int_equal(a->seed, b->seed);
}

static float *params_of(siam_model *m)
{
    float *p = malloc(siam_model_numel(m) * sizeof *p);
    siam_error err;
    assert_int_equal(siam_model_download_params(m, p, &err), 0);
    return p;
}

static void meta_is_in_the_file(void **state)
{
    rig r;
    rig_open(&r, *state, 1);
    siam_error err;
    siam_model_meta meta = { 0.73, 140, SIAM_TTA_FLIP, SIAM_INIT_PYTORCH, 12345678901234ull };
    assert_int_equal(siam_checkpoint_save(r.path, r.m, &meta, NULL, NULL, &err), 0);
    assert_false(exists(r.side)); /* no sidecar any more */
    siam_model_meta got;
    siam_model_meta_default(&got);
    if (siam_checkpoint_load(r.path, r.m, &got, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_meta_equal(&got, &meta);
    siam_model *m2 = siam_checkpoint_load_model(r.path, &siam_ops_cpu, r.ctx, 3, 0, &got, &err);
    assert_non_null(m2);
    assert_meta_equal(&got, &meta);
    assert_int_equal(siam_model_training(m2), 0);
    assert_int_equal(siam_model_max_batch(m2), 3);
    float *a = params_of(r.m), *b = params_of(m2);
    assert_memory_equal(a, b, siam_model_numel(r.m) * sizeof *a);
    free(a);
    free(b);
    siam_model_free(m2);

    /* An out-of-range value is refused before anything is written. */
    meta.threshold = 1.5;
    assert_int_equal(siam_checkpoint_save(r.path, r.m, &meta, NULL, NULL, &err), -1);
    char want[512];
    snprintf(want, sizeof want, "checkpoint %s: model metadata: threshold 1.5 is outside [0, 1]",
             r.path);
    assert_string_equal(err.msg, want);
    assert_int_equal(siam_checkpoint_load(r.path, r.m, &got, NULL, NULL, &err), 0);
    assert_true(got.threshold == 0.73); /* the old file is still there */
    rig_close(&r);
}

/* A sidecar beside a format 3 file is stale: saving removes it, and a
 * load (after a crash between the rename and the removal) reads the file. */
static void stale_sidecar_is_removed_and_ignored(void **state)
{
    rig r;
    rig_open(&r, *state, 1);
    siam_error err;
    write_text(r.side, "threshold 0.9\n");
    siam_model_meta meta = { 0.25, 0, SIAM_TTA_NONE, SIAM_INIT_PAPER, 4 }, got;
    assert_int_equal(siam_checkpoint_save(r.path, r.m, &meta, NULL, NULL, &err), 0);
    assert_false(exists(r.side));
    write_text(r.side, "treshold 0.9\n");
    assert_int_equal(siam_checkpoint_load(r.path, r.m, &got, NULL, NULL, &err), 0);
    assert_meta_equal(&got, &meta);
    siam_checkpoint_header h;
    assert_int_equal(siam_checkpoint_read_header(r.path, &h, &err), 0);
    assert_meta_equal(&h.meta, &meta);
    rig_close(&r);
}

/* Format 1 and 2 files take their metadata from the sidecar, or the
 * defaults without one. */
static void legacy_files_read_their_sidecar(void **state)
{
    rig r;
    rig_open(&r, *state, 1);
    siam_error err;
    void (*downgrade[2])(unsigned char *, long *) = { siam_test_ckpt_to_version_2,
                                                      siam_test_ckpt_to_version_1 };
    for (int v = 0; v < 2; v++) {
        assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
        siam_test_file_edit(r.path, downgrade[v]);
        siam_model_meta got, def;
        siam_model_meta_default(&def);
        assert_int_equal(siam_checkpoint_load(r.path, r.m, &got, NULL, NULL, &err), 0);
        assert_meta_equal(&got, &def);
        write_text(r.side, "threshold 0.73\r\ninit crosscheck\nseed 18446744073709551615\n\n"
                           "crop 140\ntta flip\n");
        if (siam_checkpoint_load(r.path, r.m, &got, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        siam_model_meta want = { 0.73, 140, SIAM_TTA_FLIP, SIAM_INIT_CROSSCHECK, UINT64_MAX };
        assert_meta_equal(&got, &want);
        siam_checkpoint_header h;
        assert_int_equal(siam_checkpoint_read_header(r.path, &h, &err), 0);
        assert_int_equal(h.version, 2 - v);
        assert_meta_equal(&h.meta, &want);
        unlink(r.side);
    }
    rig_close(&r);
}

/* Every fault of a sidecar names the file, the line and what is wrong, and
 * the load changes nothing: a misspelt key no longer reads as the default
 * threshold. */
static void legacy_sidecar_faults_are_errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "treshold 0.73\n", "1: unknown key 'treshold' (a .meta file holds threshold, init, "
                             "seed, crop and tta)" },
        { "threshold 0.7\ntta sideways\n", "2: bad tta 'sideways' (expected none or flip)" },
        { "threshold\n", "1: 'threshold' needs exactly one value, as in \"threshold <value>\"" },
        { "crop 140 extra\n", "1: 'crop' needs exactly one value, as in \"crop <value>\"" },
        { "init xavier\n", "1: unknown init 'xavier' (expected paper, pytorch or crosscheck)" },
        { "seed -3\n", "1: bad seed '-3' (an integer in [0, 2^64))" },
        { "seed 18446744073709551616\n",
          "1: bad seed '18446744073709551616' (an integer in [0, 2^64))" },
        { "crop 12x\n", "1: bad crop '12x' (an integer in 0..1048576)" },
        { "threshold 2\n", "1: bad threshold '2' (a number in [0, 1])" },
        { "threshold nan\n", "1: bad threshold 'nan' (a number in [0, 1])" },
        { "threshold 0.5\nseed 1\nthreshold 0.6\n", "3: 'threshold' is given twice (first on "
                                                   "line 1)" },
    };
    rig r;
    rig_open(&r, *state, 1);
    siam_error err;
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
    siam_test_file_edit(r.path, siam_test_ckpt_to_version_2);
    rig other;
    rig_open(&other, *state, 2); /* other weights, to see that nothing is loaded */
    float *before = params_of(other.m);
    char want[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(r.side, cases[i].text);
        siam_model_meta got = { 0.1, 7, SIAM_TTA_NONE, SIAM_INIT_PAPER, 9 }, kept = got;
        assert_int_equal(siam_checkpoint_load(r.path, other.m, &got, NULL, NULL, &err), -1);
        snprintf(want, sizeof want, "checkpoint %s: %s:%s", r.path, r.side, cases[i].want);
        assert_string_equal(err.msg, want);
        assert_meta_equal(&got, &kept);
        float *after = params_of(other.m);
        assert_memory_equal(before, after, siam_model_numel(other.m) * sizeof *after);
        free(after);
        siam_checkpoint_header h;
        assert_int_equal(siam_checkpoint_read_header(r.path, &h, &err), -1);
        assert_string_equal(err.msg, want);
        assert_null(siam_checkpoint_load_model(r.path, &siam_ops_cpu, r.ctx, 1, 0, &got, &err));
        assert_string_equal(err.msg, want);
    }
    siam_test_write_file(r.side, "threshold 0.5\n\0\1\2", 17);
    assert_int_equal(siam_checkpoint_read_header(r.path, &(siam_checkpoint_header){ 0 }, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: %s: holds a NUL byte: not a .meta file", r.path,
             r.side);
    assert_string_equal(err.msg, want);
    /* Resuming reads no sidecar: the model metadata plays no part in it. */
    assert_int_equal(siam_checkpoint_load(r.path, other.m, NULL, NULL, NULL, &err), 0);
    free(before);
    rig_close(&other);
    rig_close(&r);
}

/* tests/fixtures/model-v2.ckpt and its .meta were written by the format 2
 * build (91fbb79): siam.model{size = 28, channels = {2, 2, 2, 2}, kernels
 * = {3, 3, 2, 2}, fc = 4, init = "pytorch", seed = 5, head = "rich", embed
 * = "relu"}, threshold 0.625, tta flip, then m:save. The norms are the ones
 * that build printed. */
static void previous_builds_file_still_loads(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&o, &err);
    siam_model_meta meta;
    siam_model *m = siam_checkpoint_load_model("tests/fixtures/model-v2.ckpt", &siam_ops_cpu,
                                               ctx, 4, 0, &meta, &err);
    if (!m)
        fail_msg("%s", err.msg);
    siam_model_meta want = { 0.625, -1, SIAM_TTA_FLIP, SIAM_INIT_PYTORCH, 5 };
    assert_meta_equal(&meta, &want);
    assert_int_equal(siam_model_numel(m), 132);
    assert_int_equal(siam_model_config_of(m)->head, SIAM_HEAD_RICH);
    assert_int_equal(siam_model_config_of(m)->embed_act, SIAM_EMBED_RELU);
    float *p = params_of(m);
    const siam_param_info *w1 = siam_model_param(m, 0), *ob = siam_model_param(m, SIAM_PARAM_OUT_B);
    double n1 = 0, n2 = 0;
    for (size_t i = 0; i < w1->numel; i++)
        n1 += (double)p[w1->offset + i] * p[w1->offset + i];
    for (size_t i = 0; i < ob->numel; i++)
        n2 += (double)p[ob->offset + i] * p[ob->offset + i];
    assert_float_equal(sqrt(n1), 0.56852686082127235, 1e-15);
    assert_float_equal(sqrt(n2), 0.091083094477653503, 1e-15);
    free(p);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SIAM_TMPDIR_TEST(meta_is_in_the_file),
        SIAM_TMPDIR_TEST(stale_sidecar_is_removed_and_ignored),
        SIAM_TMPDIR_TEST(legacy_files_read_their_sidecar),
        SIAM_TMPDIR_TEST(legacy_sidecar_faults_are_errors),
        cmocka_unit_test(previous_builds_file_still_loads),
    };
    return cmocka_run_group_tests_name("checkpoint_meta", tests, NULL, NULL);
}
