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

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/siam_ckpt_header_%ld_%s", (long)getpid(), tag);
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
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
    assert_int_equal(siam_checkpoint_save(path, m, NULL, NULL, &err), 0);

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

    /* A model built from the header takes the checkpoint. */
    siam_model *m2 = siam_model_new(&siam_ops_cpu, ctx, &h.config, 1, &err);
    assert_non_null(m2);
    if (siam_checkpoint_load(path, m2, NULL, NULL, &err) != 0)
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

    write_bytes(path, "hello", 5);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want, "checkpoint %s: not a siamlua checkpoint (bad magic)", path);
    assert_string_equal(err.msg, want);

    write_bytes(path, "SIAMCKPT\1\0\0\0", 12);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want,
             "checkpoint %s: truncated: 12 bytes, shorter than the header", path);
    assert_string_equal(err.msg, want);

    unsigned char buf[80] = "SIAMCKPT";
    buf[8] = 9; /* version 9 */
    write_bytes(path, buf, sizeof buf);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    snprintf(want, sizeof want,
             "checkpoint %s: format version 9 is not supported (this build reads versions 1 "
             "to 2)",
             path);
    assert_string_equal(err.msg, want);

    buf[8] = 1; /* version 1, but an architecture of zeros */
    write_bytes(path, buf, sizeof buf);
    assert_int_equal(siam_checkpoint_read_header(path, &h, &err), -1);
    assert_non_null(strstr(err.msg, ": architecture: model config: "));
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
