/* siam_checkpoint_read_header: the architecture of a saved model read back
 * field by field, and the error for each kind of file that is not a
 * readable checkpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/checkpoint.h"
#include "host/checkpoint_header.h"
#include "tests/support/ckpt_bytes.h"

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/siam_ckpt_header_%ld_%s", (long)getpid(), tag);
}

static void reads_the_saved_architecture(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&o, &err);
    assert_non_null(ctx);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.in_h = cfg.in_w = 30;
    int ch[4] = { 3, 5, 7, 9 }, k[4] = { 5, 3, 2, 2 };
    memcpy(cfg.channels, ch, sizeof ch);
    memcpy(cfg.kernels, k, sizeof k);
    cfg.fc_units = 11;
    cfg.dropout = 0.25f;
    cfg.bn_momentum = 0.2f;
    cfg.bn_eps = 1e-3f;
    cfg.embed_act = SIAM_EMBED_RELU; /* format version 2 */
    cfg.head = SIAM_HEAD_RICH;
    siam_model *m = siam_model_new(&siam_ops_cpu, ctx, &cfg, 2, &err);
    assert_non_null(m);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 3, &err), 0);
    char path[128];
    tmp_path(path, sizeof path, "ok");
    siam_model_meta meta = { 0.375, 140, SIAM_TTA_FLIP, SIAM_INIT_PYTORCH, 3 };
    assert_int_equal(siam_checkpoint_save(path, m, &meta, NULL, NULL, &err), 0);

    siam_checkpoint_header h;
    if (siam_checkpoint_read_header(path, &h, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(h.version, SIAM_CHECKPOINT_VERSION);
    assert_int_equal(h.sections, 0);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    assert_int_equal(h.size, (uint64_t)ftell(f));
    fclose(f);
    assert_int_equal(h.config.in_h, 30);
    assert_int_equal(h.config.in_w, 30);
    assert_memory_equal(h.config.channels, ch, sizeof ch);
    assert_memory_equal(h.config.kernels, k, sizeof k);
    assert_int_equal(h.config.fc_units, 11);
    assert_true(h.config.dropout == 0.25f);
    assert_true(h.config.bn_momentum == 0.2f);
    assert_true(h.config.bn_eps == 1e-3f);
    assert_int_equal(h.config.embed_act, SIAM_EMBED_RELU);
    assert_int_equal(h.config.head, SIAM_HEAD_RICH);
    assert_true(h.meta.threshold == 0.375);
    assert_int_equal(h.meta.crop, 140);
    assert_int_equal(h.meta.tta, SIAM_TTA_FLIP);
    assert_int_equal(h.meta.init, SIAM_INIT_PYTORCH);
    assert_int_equal(h.meta.seed, 3);

    /* A model built from the header takes the checkpoint. */
    siam_model *m2 = siam_model_new(&siam_ops_cpu, ctx, &h.config, 1, &err);
    assert_non_null(m2);
    if (siam_checkpoint_load(path, m2, NULL, NULL, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    size_t n = siam_model_numel(m);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_int_equal(siam_model_download_params(m, a, &err), 0);
    assert_int_equal(siam_model_download_params(m2, b, &err), 0);
    assert_memory_equal(a, b, n * sizeof *a);
    free(a);
    free(b);
    siam_model_free(m2);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
    unlink(path);
}

static void bad_files_fail_with_the_reason(void **state)
{
    (void)state;
    char path[128], want[256];
    siam_checkpoint_header h;
    siam_error err;
    tmp_path(path, sizeof path, "bad");
    unlink(path);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: cannot open: No such file or directory", path);
    assert_string_equal(err.msg, want);

    siam_test_write_file(path, "hello", 5);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: not a siamlua checkpoint (bad magic)", path);
    assert_string_equal(err.msg, want);

    siam_test_write_file(path, "SIAMCKPT\1\0\0\0", 12);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want,
             "checkpoint %s: truncated: 12 bytes, shorter than the 24-byte header", path);
    assert_string_equal(err.msg, want);

    unsigned char buf[80] = "SIAMCKPT";
    buf[8] = 9; /* version 9 */
    siam_test_write_file(path, buf, sizeof buf);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want,
             "checkpoint %s: format version 9 is not supported (this build reads versions 1 "
             "to 3)",
             path);
    assert_string_equal(err.msg, want);

    /* A sound version 1 file (size and checksum right) whose architecture
     * is zeros: 24-byte header, 64-byte architecture, dropout state,
     * checksum. */
    unsigned char v1[24 + 64 + 16 + 8] = "SIAMCKPT";
    v1[8] = 1;
    siam_test_ckpt_reseal(v1, sizeof v1);
    siam_test_write_file(path, v1, sizeof v1);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: architecture: model config: input size 0x0 must "
                                "be positive", path);
    assert_string_equal(err.msg, want);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_saved_architecture),
        cmocka_unit_test(bad_files_fail_with_the_reason),
    };
    return cmocka_run_group_tests_name("checkpoint_header", tests, NULL, NULL);
}
