/* Checkpoints (host/checkpoint.c): a round trip restores parameters, BN
 * statistics, dropout state and optimizer state exactly; every kind of
 * damage or mismatch is refused with its message and changes nothing. The
 * trainer's part (history, early stopping, best weights, resume) is in
 * test_train_loop.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/checkpoint.h"
#include "kernels/philox.h"
#include "tests/support/ckpt_bytes.h"

typedef struct suite {
    siam_ctx *ctx;
    char path[64];
} suite;

static void config(siam_model_config *cfg, int c2)
{
    siam_model_config_default(cfg);
    cfg->in_h = cfg->in_w = 28;
    int ch[4] = { 3, c2, 5, 6 }, k[4] = { 3, 3, 2, 2 };
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 10;
    cfg->dropout = 0.2f;
}

static siam_model *model_new(suite *s, int c2, uint64_t seed)
{
    siam_model_config cfg;
    config(&cfg, c2);
    siam_error err;
    siam_model *m = siam_model_new(&siam_ops_cpu, s->ctx, &cfg, 2, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PAPER, seed, &err), 0);
    return m;
}

/* Two Adam steps with made-up gradients and a forward in training mode,
 * so that moments, step count, BN statistics and dropout state are all
 * away from their initial values. */
static siam_optim *trained_optim(suite *s, siam_model *m)
{
    siam_error err;
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    oc.lr = 0.01;
    siam_optim *o = siam_optim_new(&siam_ops_cpu, s->ctx, &oc, siam_model_numel(m), &err);
    assert_non_null(o);
    size_t n = siam_model_numel(m);
    float *g = malloc(n * sizeof *g);
    assert_int_equal(siam_model_prepare_training(m, &err), 0); /* the gradients */
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++)
            g[i] = siam_philox_uniform(3, (uint64_t)k, i) - 0.5f;
        assert_int_equal(siam_ops_cpu.upload(s->ctx, siam_model_grads(m), g, n * 4), 0);
        assert_int_equal(siam_optim_step(o, siam_model_params(m), siam_model_grads(m), &err), 0);
    }
    free(g);
    siam_optim_set_lr(o, 0.0042);
    size_t nx = 2 * 2 * 28 * 28;
    float *x = malloc(nx * 4);
    for (size_t i = 0; i < nx; i++)
        x[i] = siam_philox_uniform(4, 0, i);
    assert_int_equal(siam_ops_cpu.upload(s->ctx, siam_model_input(m), x, nx * 4), 0);
    free(x);
    siam_model_set_dropout_state(m, 17, 5);
    assert_int_equal(siam_model_forward(m, 2, &err), 0);
    return o;
}

static float *host_state(suite *s, siam_model *m, siam_optim *o, size_t *count)
{
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    int k = o ? siam_optim_moment_count(o) : 0;
    float *v = malloc((n * (1 + (size_t)k) + nb) * 4);
    siam_error err;
    assert_int_equal(siam_model_download_params(m, v, &err), 0);
    assert_int_equal(siam_ops_cpu.download(s->ctx, v + n, siam_model_buffers(m), nb * 4), 0);
    for (int j = 0; j < k; j++)
        assert_int_equal(siam_optim_moment_download(o, j, v + n + nb + (size_t)j * n, &err), 0);
    *count = n * (1 + (size_t)k) + nb;
    return v;
}

static int setup(void **state)
{
    suite *s = calloc(1, sizeof *s);
    siam_error err;
    siam_ctx_options opt = { .threads = 1 };
    s->ctx = siam_ops_cpu.ctx_new(&opt, &err);
    strcpy(s->path, "/tmp/siam_ckpt_XXXXXX");
    int fd = mkstemp(s->path);
    if (fd < 0 || !s->ctx)
        return -1;
    close(fd);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    suite *s = *state;
    unlink(s->path);
    siam_ops_cpu.ctx_free(s->ctx);
    free(s);
    return 0;
}

static void round_trip_restores_everything(void **state)
{
    suite *s = *state;
    siam_error err;
    siam_model *a = model_new(s, 4, 1);
    siam_optim *oa = trained_optim(s, a);
    if (siam_checkpoint_save(s->path, a, NULL, oa, NULL, &err))
        fail_msg("%s", err.msg);

    siam_model *b = model_new(s, 4, 2);
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    siam_optim *ob = siam_optim_new(&siam_ops_cpu, s->ctx, &oc, siam_model_numel(b), &err);
    if (siam_checkpoint_load(s->path, b, NULL, ob, NULL, &err))
        fail_msg("%s", err.msg);
    size_t na, nb;
    float *va = host_state(s, a, oa, &na), *vb = host_state(s, b, ob, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(va, vb, na * 4);
    assert_int_equal(siam_optim_steps(ob), 2);
    assert_float_equal(siam_optim_lr(ob), 0.0042, 0);
    uint64_t seed, off;
    siam_model_dropout_state(b, &seed, &off);
    assert_int_equal(seed, 17);
    assert_int_equal(off, 5 + 2 * 10); /* one training forward of 2 pairs x 10 units */
    free(va);
    free(vb);
    siam_optim_free(oa);
    siam_optim_free(ob);
    siam_model_free(a);
    siam_model_free(b);
}

static void cut_100(unsigned char *b, long *n) { (void)b; *n -= 100; }
static void cut_to_5(unsigned char *b, long *n) { (void)b; *n = 5; }
static void flip_middle(unsigned char *b, long *n) { b[*n / 2] ^= 0x10; }
static void bad_magic(unsigned char *b, long *n) { (void)n; b[3] = 'X'; }
static void version_4(unsigned char *b, long *n) { (void)n; b[8] = 4; }
static void version_0(unsigned char *b, long *n) { (void)n; b[8] = 0; }
static void append_3(unsigned char *b, long *n) { memset(b + *n, 0, 3); *n += 3; }

/* Saves a fresh checkpoint, damages it, and checks the load fails with
 * `want` (after "checkpoint <path>: ") leaving the model unchanged. */
static void damaged(suite *s, void (*edit)(unsigned char *, long *), const char *want,
                    int prefix_only)
{
    siam_error err;
    siam_model *a = model_new(s, 4, 1);
    siam_optim *oa = trained_optim(s, a);
    assert_int_equal(siam_checkpoint_save(s->path, a, NULL, oa, NULL, &err), 0);
    siam_test_file_edit(s->path, edit);
    siam_model *b = model_new(s, 4, 2);
    size_t n0, n1;
    float *before = host_state(s, b, NULL, &n0);
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    siam_optim *ob = siam_optim_new(&siam_ops_cpu, s->ctx, &oc, siam_model_numel(b), &err);
    assert_int_equal(siam_checkpoint_load(s->path, b, NULL, ob, NULL, &err), -1);
    char full[512];
    snprintf(full, sizeof full, "checkpoint %s: %s", s->path, want);
    if (prefix_only)
        assert_memory_equal(err.msg, full, strlen(full));
    else
        assert_string_equal(err.msg, full);
    float *after = host_state(s, b, NULL, &n1);
    assert_memory_equal(before, after, n0 * 4);
    assert_int_equal(siam_optim_steps(ob), 0);
    free(before);
    free(after);
    siam_optim_free(oa);
    siam_optim_free(ob);
    siam_model_free(a);
    siam_model_free(b);
}

static void each_corruption_is_refused(void **state)
{
    suite *s = *state;
    siam_error err;
    siam_model *a = model_new(s, 4, 1);
    siam_optim *oa = trained_optim(s, a);
    assert_int_equal(siam_checkpoint_save(s->path, a, NULL, oa, NULL, &err), 0);
    struct stat st;
    assert_int_equal(stat(s->path, &st), 0);
    long size = (long)st.st_size;
    siam_optim_free(oa);
    siam_model_free(a);

    char want[256];
    snprintf(want, sizeof want, "truncated: %ld bytes, the header says %ld", size - 100, size);
    damaged(s, cut_100, want, 0);
    damaged(s, cut_to_5, "truncated: 5 bytes, shorter than the 24-byte header", 0);
    damaged(s, flip_middle, "checksum mismatch (file corrupted): stored ", 1);
    damaged(s, bad_magic, "not a siamlua checkpoint (bad magic)", 0);
    /* A version edited in place: the checksum tells it is damage. */
    damaged(s, version_4, "format version 4 is not supported (this build reads versions 1 to 3); "
            "its checksum does not match either: the file is damaged", 0);
    damaged(s, version_0, "format version 0 is not supported (this build reads versions 1 to 3); "
            "its checksum does not match either: the file is damaged", 0);
    damaged(s, append_3, "3 unexpected bytes after the declared end", 1);
}

static void mismatches_are_refused(void **state)
{
    suite *s = *state;
    siam_error err;
    siam_model *a = model_new(s, 4, 1);
    siam_optim *oa = trained_optim(s, a);
    assert_int_equal(siam_checkpoint_save(s->path, a, NULL, oa, NULL, &err), 0);
    char want[512];

    siam_model *other = model_new(s, 6, 1);
    assert_int_equal(siam_checkpoint_load(s->path, other, NULL, NULL, NULL, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: architecture mismatch: conv2 has 4 channels in "
                                "the file, 6 in the model", s->path);
    assert_string_equal(err.msg, want);
    siam_model_free(other);

    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_SGD);
    oc.momentum = 0.9;
    siam_optim *sgd = siam_optim_new(&siam_ops_cpu, s->ctx, &oc, siam_model_numel(a), &err);
    assert_int_equal(siam_checkpoint_load(s->path, a, NULL, sgd, NULL, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: optimizer mismatch: adam in the file, sgd given",
             s->path);
    assert_string_equal(err.msg, want);

    /* A model-only file cannot restore an optimizer ... */
    assert_int_equal(siam_checkpoint_save(s->path, a, NULL, NULL, NULL, &err), 0);
    assert_int_equal(siam_checkpoint_load(s->path, a, NULL, sgd, NULL, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: the file has no optimizer state", s->path);
    assert_string_equal(err.msg, want);
    /* ... but loads into the model alone. */
    assert_int_equal(siam_checkpoint_load(s->path, a, NULL, NULL, NULL, &err), 0);

    assert_int_equal(siam_checkpoint_load("/nonexistent/x.ckpt", a, NULL, NULL, NULL, &err), -1);
    assert_string_equal(err.msg, "checkpoint /nonexistent/x.ckpt: cannot open: No such file or "
                                 "directory");
    assert_int_equal(siam_checkpoint_save("/nonexistent/x.ckpt", a, NULL, NULL, NULL, &err), -1);
    const char *want_create = "checkpoint /nonexistent/x.ckpt: atomic write /nonexistent/x.ckpt: "
                              "cannot create temp file /nonexistent/x.ckpt.tmp.";
    assert_memory_equal(err.msg, want_create, strlen(want_create));
    assert_non_null(strstr(err.msg, ": No such file or directory"));
    siam_optim_free(sgd);
    siam_optim_free(oa);
    siam_model_free(a);
}

static siam_model *model_with(suite *s, int embed_act, unsigned head, uint64_t seed)
{
    siam_model_config cfg;
    config(&cfg, 4);
    cfg.embed_act = embed_act;
    cfg.head = head;
    siam_error err;
    siam_model *m = siam_model_new(&siam_ops_cpu, s->ctx, &cfg, 2, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PAPER, seed, &err), 0);
    return m;
}

/* Version 1 files load (as the paper's head); the options round-trip and
 * a model with other options is refused before anything changes. */
static void architecture_options(void **state)
{
    suite *s = *state;
    siam_error err;
    char want[512];
    siam_model *a = model_new(s, 4, 1), *b = model_new(s, 4, 2);
    assert_int_equal(siam_checkpoint_save(s->path, a, NULL, NULL, NULL, &err), 0);
    siam_test_file_edit(s->path, siam_test_ckpt_to_version_1);
    if (siam_checkpoint_load(s->path, b, NULL, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    size_t na, nb;
    float *va = host_state(s, a, NULL, &na), *vb = host_state(s, b, NULL, &nb);
    assert_memory_equal(va, vb, na * 4);
    free(va);
    free(vb);
    /* A version 1 file holds the paper's head: a rich-head model is refused. */
    siam_model *rich = model_with(s, SIAM_EMBED_RELU, SIAM_HEAD_RICH, 3);
    assert_int_equal(siam_checkpoint_load(s->path, rich, NULL, NULL, NULL, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: architecture mismatch: embedding activation "
                                "sigmoid in the file, relu in the model", s->path);
    assert_string_equal(err.msg, want);

    siam_model *rich2 = model_with(s, SIAM_EMBED_RELU, SIAM_HEAD_RICH, 4);
    assert_int_equal(siam_checkpoint_save(s->path, rich, NULL, NULL, NULL, &err), 0);
    if (siam_checkpoint_load(s->path, rich2, NULL, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    va = host_state(s, rich, NULL, &na);
    vb = host_state(s, rich2, NULL, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(va, vb, na * 4);
    free(va);
    free(vb);
    siam_model *l1 = model_with(s, SIAM_EMBED_RELU, SIAM_HEAD_L1, 5);
    assert_int_equal(siam_checkpoint_load(s->path, l1, NULL, NULL, NULL, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: architecture mismatch: distance head 0xb in the "
                                "file, 0x0 in the model (0 is the paper's l1)", s->path);
    assert_string_equal(err.msg, want);
    siam_model_free(a);
    siam_model_free(b);
    siam_model_free(rich);
    siam_model_free(rich2);
    siam_model_free(l1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_restores_everything),
        cmocka_unit_test(each_corruption_is_refused),
        cmocka_unit_test(mismatches_are_refused),
        cmocka_unit_test(architecture_options),
    };
    return cmocka_run_group_tests_name("checkpoint", tests, setup, teardown);
}
