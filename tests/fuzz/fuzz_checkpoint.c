/* libFuzzer harness: a checkpoint file as siam.load reads it (header and
 * head checks, model build, array checks and load, on the CPU backend),
 * and siam_checkpoint_read_header. Each input is tried as it is and
 * resealed (declared size and checksum made right, as a crafted file would
 * have them), since almost every mutation otherwise stops at the checksum.
 * The memory plan is held to 256 MiB so that a sound file describing a
 * large model is refused, not allocated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/checkpoint.h"
#include "host/checkpoint_header.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/ckpt_seal.h"

static siam_ctx *ctx;

static void load(const char *path, const uint8_t *data, size_t size)
{
    siam_error err;
    siam_fuzz_write(path, data, size);
    siam_checkpoint_header h;
    siam_checkpoint_read_header(path, &h, &err);
    siam_model_meta meta;
    siam_model *m = siam_checkpoint_load_model(path, &siam_ops_cpu, ctx, 2, 256u << 20, &meta,
                                               &err);
    siam_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        siam_error err;
        siam_ctx_options o = { .threads = 1 };
        ctx = siam_ops_cpu.ctx_new(&o, &err);
        if (!ctx)
            abort();
    }
    const char *path = siam_fuzz_path(".ckpt");
    load(path, data, size);
    if (size >= 32) {
        unsigned char *sealed = malloc(size);
        memcpy(sealed, data, size);
        siam_test_ckpt_reseal(sealed, (long)size);
        load(path, sealed, size);
        free(sealed);
    }
    return 0;
}
