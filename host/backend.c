/* Backend selection and reference counting (host/backend.h). */
#include "host/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* siam_ctx_options.log for SIAM_CUDA_VERBOSE=1. */
static void log_stderr(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "cuda: %s\n", line);
}

int siam_backend_env_options(siam_ctx_options *opt, siam_error *err)
{
    const char *bn = getenv("SIAM_CUDA_BATCHNORM");
    if (bn == NULL || *bn == '\0' || strcmp(bn, "cudnn") == 0)
        opt->batchnorm = SIAM_CUDA_BN_CUDNN;
    else if (strcmp(bn, "own") == 0)
        opt->batchnorm = SIAM_CUDA_BN_OWN;
    else
        return siam_fail(err, "SIAM_CUDA_BATCHNORM must be 'cudnn' or 'own', got '%s'", bn);
    const char *verbose = getenv("SIAM_CUDA_VERBOSE");
    if (verbose == NULL || *verbose == '\0' || strcmp(verbose, "0") == 0) {
        opt->log = NULL;
    } else if (strcmp(verbose, "1") == 0) {
        opt->log = log_stderr;
        opt->log_user = NULL;
    } else {
        return siam_fail(err, "SIAM_CUDA_VERBOSE must be '0' or '1', got '%s'", verbose);
    }
    return 0;
}

siam_backend *siam_backend_open(const char *device, const siam_ctx_options *options,
                                const siam_ops *cpu_ops, siam_error *err)
{
    if (cpu_ops == NULL)
        cpu_ops = &siam_ops_cpu;
    int want_cuda = strcmp(device, "cuda") == 0, want_auto = strcmp(device, "auto") == 0;
    if (!want_cuda && !want_auto && strcmp(device, "cpu") != 0) {
        siam_fail(err, "unknown device '%s' (expected 'cpu', 'cuda' or 'auto')", device);
        return NULL;
    }
    siam_backend *b = calloc(1, sizeof *b);
    if (b == NULL) {
        siam_fail(err, "out of memory");
        return NULL;
    }
    siam_ctx_options opt = { 0 };
    if (options)
        opt = *options;
    if (want_cuda || want_auto) {
        const siam_ops *cuda = siam_ops_cuda();
        if (cuda == NULL && want_cuda) {
            siam_fail(err, "device 'cuda': this siamlua was built without CUDA (make CUDA=1)");
            free(b);
            return NULL;
        }
        if (cuda != NULL) {
            siam_error cerr;
            b->ctx = cuda->ctx_new(&opt, &cerr);
            if (b->ctx != NULL) {
                b->ops = cuda;
                strcpy(b->device, "cuda");
            } else if (want_cuda) {
                siam_fail(err, "device 'cuda': %s", cerr.msg);
                free(b);
                return NULL;
            }
        }
    }
    if (b->ctx == NULL) {
        b->ctx = cpu_ops->ctx_new(&opt, err);
        if (b->ctx == NULL) {
            free(b);
            return NULL;
        }
        b->ops = cpu_ops;
        strcpy(b->device, "cpu");
    }
    b->refs = 1;
    return b;
}

void siam_backend_retain(siam_backend *b)
{
    b->refs++;
}

void siam_backend_release(siam_backend *b)
{
    if (b == NULL || --b->refs > 0)
        return;
    b->ops->ctx_free(b->ctx);
    free(b);
}
