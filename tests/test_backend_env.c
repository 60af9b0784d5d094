/* The CUDA context options siamlua takes from the environment
 * (siam_backend_env_options, host/backend.h): SIAM_CUDA_BATCHNORM and
 * SIAM_CUDA_VERBOSE become siam_ctx_options fields, bad values are refused
 * by name, and the verbose log writes "cuda: <line>" to stderr. The kernels
 * read no environment; this is where it is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/backend.h"

static void clear(void)
{
    unsetenv("SIAM_CUDA_BATCHNORM");
    unsetenv("SIAM_CUDA_VERBOSE");
}

static void batchnorm_choice(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options opt = { .batchnorm = 5, .threads = 3 };
    clear();
    assert_int_equal(siam_backend_env_options(&opt, &err), 0);
    assert_int_equal(opt.batchnorm, SIAM_CUDA_BN_CUDNN);
    assert_int_equal(opt.threads, 3); /* other fields are left alone */
    assert_null(opt.log);
    setenv("SIAM_CUDA_BATCHNORM", "own", 1);
    assert_int_equal(siam_backend_env_options(&opt, &err), 0);
    assert_int_equal(opt.batchnorm, SIAM_CUDA_BN_OWN);
    setenv("SIAM_CUDA_BATCHNORM", "", 1);
    assert_int_equal(siam_backend_env_options(&opt, &err), 0);
    assert_int_equal(opt.batchnorm, SIAM_CUDA_BN_CUDNN);
    setenv("SIAM_CUDA_BATCHNORM", "fast", 1);
    assert_int_equal(siam_backend_env_options(&opt, &err), -1);
    assert_string_equal(err.msg, "SIAM_CUDA_BATCHNORM must be 'cudnn' or 'own', got 'fast'");
    clear();
}

static void verbose_log(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options opt = { 0 };
    clear();
    setenv("SIAM_CUDA_VERBOSE", "2", 1);
    assert_int_equal(siam_backend_env_options(&opt, &err), -1);
    assert_string_equal(err.msg, "SIAM_CUDA_VERBOSE must be '0' or '1', got '2'");
    setenv("SIAM_CUDA_VERBOSE", "0", 1);
    assert_int_equal(siam_backend_env_options(&opt, &err), 0);
    assert_null(opt.log);
    setenv("SIAM_CUDA_VERBOSE", "1", 1);
    assert_int_equal(siam_backend_env_options(&opt, &err), 0);
    assert_non_null(opt.log);
    /* The line goes to stderr, prefixed. */
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(tmp), 2), 2);
    opt.log(opt.log_user, "conv2d 2x1x8x8 * 4x1x3x3 forward: GEMM (...)");
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    char buf[128] = { 0 };
    rewind(tmp);
    size_t got = fread(buf, 1, sizeof buf - 1, tmp);
    fclose(tmp);
    assert_true(got > 0);
    assert_string_equal(buf, "cuda: conv2d 2x1x8x8 * 4x1x3x3 forward: GEMM (...)\n");
    clear();
}

static void open_passes_the_options_on(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options opt = { .threads = 1, .allow_tf32 = 1 };
    siam_backend *b = siam_backend_open("cpu", &opt, NULL, &err);
    assert_non_null(b);
    assert_string_equal(b->device, "cpu");
    siam_backend_release(b);
    b = siam_backend_open("cpu", NULL, NULL, &err);
    assert_non_null(b);
    siam_backend_release(b);
#ifndef SIAM_CUDA
    assert_null(siam_backend_open("cuda", &opt, NULL, &err));
    assert_string_equal(err.msg, "device 'cuda': this siamlua was built without CUDA "
                                 "(make CUDA=1)");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batchnorm_choice),
        cmocka_unit_test(verbose_log),
        cmocka_unit_test(open_passes_the_options_on),
    };
    return cmocka_run_group_tests_name("backend_env", tests, NULL, NULL);
}
