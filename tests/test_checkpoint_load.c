/* Loading checks before it allocates (host/checkpoint.h): a flipped bit
 * anywhere is a checksum error before any allocation sized by the file; a
 * file resealed with a bigger architecture (as a fuzzer or a careless
 * editor makes) is refused because its sizes disagree with its length; a
 * model above the memory limit is refused with its plan; weights holding
 * NaN/Inf are refused naming the tensor, and nothing is changed. The
 * allocations are counted through tests/support/counting_ops.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/checkpoint.h"
#include "host/checkpoint_header.h"
#include "kernels/philox.h"
#include "tests/support/ckpt_bytes.h"
#include "tests/support/counting_ops.h"
#include "tests/support/tiny_model.h"
#include "tests/support/tmpdir.h"

typedef struct rig {
    const siam_ops *ops;
    siam_ctx *ctx;
    siam_model *m;
    char path[256];
} rig;

static void rig_open(rig *r, const char *dir)
{
    siam_error err;
    r->ops = siam_counting_ops(0);
    siam_ctx_options o = { .threads = 1 };
    r->ctx = r->ops->ctx_new(&o, &err);
    assert_non_null(r->ctx);
    siam_model_config cfg;
    siam_test_tiny_config(&cfg, 2);
    r->m = siam_model_new(r->ops, r->ctx, &cfg, 2, &err);
    assert_non_null(r->m);
    assert_int_equal(siam_model_init(r->m, SIAM_INIT_PYTORCH, 1, &err), 0);
    snprintf(r->path, sizeof r->path, "%s/m.ckpt", dir);
    assert_int_equal(siam_checkpoint_save(r->path, r->m, NULL, NULL, NULL, &err), 0);
}

static void rig_close(rig *r)
{
    siam_model_free(r->m);
    r->ops->ctx_free(r->ctx);
}

/* Loads r->path as siam.load does and expects `want` after "checkpoint
 * <path>: " (a prefix when `prefix`), with no allocation at all. */
static void refused_before_allocating(rig *r, const char *want, int prefix)
{
    siam_error err;
    char full[1024];
    snprintf(full, sizeof full, "checkpoint %s: %s", r->path, want);
    siam_counting_ops_reset();
    siam_model_meta meta;
    assert_null(siam_checkpoint_load_model(r->path, r->ops, r->ctx, 32, 0, &meta, &err));
    if (prefix)
        assert_memory_equal(err.msg, full, strlen(full));
    else
        assert_string_equal(err.msg, full);
    assert_int_equal(siam_counting_ops_count().calls, 0);
    siam_checkpoint_header h;
    assert_int_equal(siam_checkpoint_read_header(r->path, &h, &err), -1);
    assert_memory_equal(err.msg, full, prefix ? strlen(full) : strlen(full) + 1);
}

/* Bit 6 of conv1's channel count's top byte: 2 becomes 1073741826. The
 * build before this check made a model of the header's sizes first. */
static void flip_conv1_channels(unsigned char *b, long *n)
{
    (void)n;
    b[SIAM_TEST_CKPT_ARCH + 8 + 3] ^= 0x40;
}

static void flip_input_height(unsigned char *b, long *n)
{
    (void)n;
    b[SIAM_TEST_CKPT_ARCH + 2] ^= 0x02; /* 28 becomes 131100 */
}

static void flipped_bit_allocates_nothing(void **state)
{
    rig r;
    rig_open(&r, *state);
    siam_test_file_edit(r.path, flip_conv1_channels);
    refused_before_allocating(&r, "checksum mismatch (file corrupted): stored ", 1);
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &(siam_error){ 0 }), 0);
    siam_test_file_edit(r.path, flip_input_height);
    refused_before_allocating(&r, "checksum mismatch (file corrupted): stored ", 1);
    rig_close(&r);
}

static void flip_and_reseal_channels(unsigned char *b, long *n)
{
    flip_conv1_channels(b, n);
    siam_test_ckpt_reseal(b, *n);
}

static void flip_and_reseal_height(unsigned char *b, long *n)
{
    flip_input_height(b, n);
    siam_test_ckpt_reseal(b, *n);
}

/* The counts of the rig's model with conv1 widened from 2 to 3 channels. */
static void widened_counts(uint64_t *params, uint64_t *buffers)
{
    siam_model_config cfg;
    siam_test_tiny_config(&cfg, 3);
    assert_int_equal(siam_model_config_counts(&cfg, params, buffers, NULL), 0);
}

/* conv1 with 3 channels instead of 2, counts and checksum made to agree:
 * the file still holds the arrays of the 2-channel model. */
static void widen_conv1(unsigned char *b, long *n)
{
    b[SIAM_TEST_CKPT_ARCH + 8] = 3;
    uint64_t params, buffers;
    widened_counts(&params, &buffers);
    for (int i = 0; i < 8; i++) {
        b[SIAM_TEST_CKPT_ARCH + 64 + i] = (unsigned char)(params >> (8 * i));
        b[SIAM_TEST_CKPT_ARCH + 72 + i] = (unsigned char)(buffers >> (8 * i));
    }
    siam_test_ckpt_reseal(b, *n);
}

static void widen_conv1_counts_unchanged(unsigned char *b, long *n)
{
    b[SIAM_TEST_CKPT_ARCH + 8] = 3;
    siam_test_ckpt_reseal(b, *n);
}

/* A sound checksum over a bigger architecture: its sizes must agree with
 * the file's length before any model exists. */
static void sizes_must_agree_with_the_file(void **state)
{
    rig r;
    rig_open(&r, *state);
    uint64_t n = siam_model_numel(r.m), nb = siam_model_buffer_numel(r.m);
    char want[512];
    siam_error err;
    siam_test_file_edit(r.path, flip_and_reseal_channels);
    refused_before_allocating(&r, "architecture: model config: conv1 has 1073741826 channels, "
                                  "more than 65536", 0);
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
    siam_test_file_edit(r.path, flip_and_reseal_height);
    refused_before_allocating(&r, "architecture: model config: input height 131100 is outside "
                                  "1..65536", 0);
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
    siam_test_file_edit(r.path, widen_conv1_counts_unchanged);
    uint64_t n3, nb3;
    widened_counts(&n3, &nb3);
    assert_int_equal(nb3, nb + 2);
    snprintf(want, sizeof want, "the architecture gives %llu parameters and %llu BN values, the "
                                "header declares %llu and %llu",
             (unsigned long long)n3, (unsigned long long)nb3, (unsigned long long)n,
             (unsigned long long)nb);
    refused_before_allocating(&r, want, 0);
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
    siam_test_file_edit(r.path, widen_conv1);
    snprintf(want, sizeof want, "the sections declare %llu bytes of arrays (%llu parameters, "
                                "%llu BN values), the file holds %llu after its metadata",
             (unsigned long long)((n3 + nb3) * 4), (unsigned long long)n3,
             (unsigned long long)nb3, (unsigned long long)((n + nb) * 4));
    refused_before_allocating(&r, want, 0);
    rig_close(&r);
}

/* The plan of the model the file describes, at the batch asked for, is
 * checked before the model is built. */
static void memory_limit_is_checked_first(void **state)
{
    rig r;
    rig_open(&r, *state);
    siam_error err;
    siam_model_meta meta;
    siam_counting_ops_reset();
    assert_null(siam_checkpoint_load_model(r.path, r.ops, r.ctx, 4096, 1 << 20, &meta, &err));
    char want[512];
    snprintf(want, sizeof want, "checkpoint %s: model: batch 4096 needs ", r.path);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_non_null(strstr(err.msg, "; the limit is 1.0 MiB"));
    assert_int_equal(siam_counting_ops_count().calls, 0);
    siam_model *m = siam_checkpoint_load_model(r.path, r.ops, r.ctx, 4, 1 << 20, &meta, &err);
    if (!m)
        fail_msg("%s", err.msg);
    siam_model_free(m);
    rig_close(&r);
}

/* Puts `value` at `count` entries of parameter (or, when j >= 20, BN
 * buffer j - 20) of the model. */
static void poison(siam_model *m, int j, int count, float value)
{
    const siam_ops *o = siam_model_ops(m);
    int is_param = j < SIAM_MODEL_NPARAMS;
    const siam_param_info *p = is_param ? siam_model_param(m, j)
                                        : siam_model_buffer(m, j - SIAM_MODEL_NPARAMS);
    float *base = (is_param ? siam_model_params(m) : siam_model_buffers(m)) + p->offset;
    for (int i = 0; i < count; i++)
        assert_int_equal(o->upload(siam_model_ctx(m), base + (size_t)i * 2 % p->numel, &value,
                                   sizeof value), 0);
}

static float *weights_of(siam_model *m)
{
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    float *v = malloc((n + nb) * sizeof *v);
    siam_error err;
    assert_int_equal(siam_model_download_params(m, v, &err), 0);
    assert_int_equal(siam_model_ops(m)->download(siam_model_ctx(m), v + n, siam_model_buffers(m),
                                                 nb * sizeof *v), 0);
    return v;
}

/* Loads r.path into `into` expecting `want`, and checks nothing changed. */
static void load_refused(rig *r, siam_model *into, siam_optim *opt, const char *want)
{
    siam_error err;
    char full[1024];
    snprintf(full, sizeof full, "checkpoint %s: %s", r->path, want);
    float *before = weights_of(into);
    assert_int_equal(siam_checkpoint_load(r->path, into, NULL, opt, NULL, &err), -1);
    assert_string_equal(err.msg, full);
    float *after = weights_of(into);
    size_t n = siam_model_numel(into) + siam_model_buffer_numel(into);
    assert_memory_equal(before, after, n * sizeof *after);
    free(before);
    free(after);
    /* siam.load loads no optimizer moments, so it does not check them. */
    siam_model_meta meta;
    siam_model *m = siam_checkpoint_load_model(r->path, r->ops, r->ctx, 2, 0, &meta, &err);
    if (opt)
        assert_non_null(m);
    else
        assert_string_equal(err.msg, full);
    siam_model_free(m);
}

static void nonfinite_weights_are_refused(void **state)
{
    rig r, other;
    rig_open(&r, *state);
    rig_open(&other, *state); /* the same path; reloaded below */
    siam_error err;
    poison(r.m, 4, 3, NAN); /* conv2.weight */
    poison(r.m, 17, 1, INFINITY); /* fc.bias */
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
    load_refused(&r, other.m, NULL, "parameter conv2.weight holds 3 non-finite values "
                                    "(NaN/Inf; 4 in all): the run that wrote it diverged");
    assert_int_equal(siam_model_init(r.m, SIAM_INIT_PYTORCH, 1, &err), 0);
    poison(r.m, SIAM_MODEL_NPARAMS + 1, 1, -INFINITY); /* bn1.running_var */
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, NULL, NULL, &err), 0);
    load_refused(&r, other.m, NULL, "BN statistic bn1.running_var holds 1 non-finite value "
                                    "(NaN/Inf): the run that wrote it diverged");

    /* An optimizer moment holding NaN: refused when the optimizer is loaded
     * (a resume), not when only the model is. */
    assert_int_equal(siam_model_init(r.m, SIAM_INIT_PYTORCH, 1, &err), 0);
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    siam_optim *o = siam_optim_new(r.ops, r.ctx, &oc, siam_model_numel(r.m), &err);
    assert_non_null(o);
    size_t n = siam_model_numel(r.m);
    float *v = calloc(n, sizeof *v);
    v[siam_model_param(r.m, SIAM_PARAM_FC_W)->offset + 5] = NAN;
    assert_int_equal(siam_optim_moment_upload(o, 1, v, &err), 0);
    free(v);
    assert_int_equal(siam_checkpoint_save(r.path, r.m, NULL, o, NULL, &err), 0);
    siam_optim *o2 = siam_optim_new(r.ops, r.ctx, &oc, n, &err);
    load_refused(&r, other.m, o2, "optimizer moment 2 of fc.weight holds 1 non-finite value "
                                  "(NaN/Inf): the run that wrote it diverged");
    assert_int_equal(siam_optim_steps(o2), 0);
    assert_int_equal(siam_checkpoint_load(r.path, other.m, NULL, NULL, NULL, &err), 0);
    siam_optim_free(o);
    siam_optim_free(o2);
    rig_close(&other);
    rig_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SIAM_TMPDIR_TEST(flipped_bit_allocates_nothing),
        SIAM_TMPDIR_TEST(sizes_must_agree_with_the_file),
        SIAM_TMPDIR_TEST(memory_limit_is_checked_first),
        SIAM_TMPDIR_TEST(nonfinite_weights_are_refused),
    };
    return cmocka_run_group_tests_name("checkpoint_load", tests, NULL, NULL);
}
