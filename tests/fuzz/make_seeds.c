/* Writes the seed corpora of the fuzz harnesses that follow the code's own
 * formats (docs/fuzz.md): checkpoints of a tiny model (model only, with an
 * optimizer, and a training state with history, best weights and a weight
 * average), an image cache for the harness's key, and small images in
 * four formats. Nothing here is derived from LFW, and none of it is
 * committed. Usage: make_seeds DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image_write.h>

#include "host/checkpoint.h"
#include "host/png.h"
#include "host/train.h"
#include "kernels/philox.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/tiny_model.h"
#include "tests/support/toy_pairs.h"

static void die(const char *what, const siam_error *err)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void path_in(char *out, size_t cap, const char *dir, const char *sub, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, sub);
    mkdir(out, 0777);
    snprintf(out, cap, "%s/%s/%s", dir, sub, name);
}

static siam_model *tiny_model(siam_ctx *ctx)
{
    siam_error err;
    siam_model_config cfg;
    siam_test_tiny_config(&cfg, 2);
    cfg.dropout = 0.1f;
    cfg.head = SIAM_HEAD_RICH;
    siam_model *m = siam_model_new(&siam_ops_cpu, ctx, &cfg, 4, &err);
    if (!m || siam_model_init(m, SIAM_INIT_PYTORCH, 1, &err))
        die("model", &err);
    return m;
}

static void checkpoints(const char *dir)
{
    siam_error err;
    char path[512];
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&o, &err);
    if (!ctx)
        die("context", &err);
    siam_model *m = tiny_model(ctx);
    siam_model_meta meta = { 0.625, 140, SIAM_TTA_FLIP, SIAM_INIT_PYTORCH, 1 };
    path_in(path, sizeof path, dir, "checkpoint", "model.ckpt");
    if (siam_checkpoint_save(path, m, &meta, NULL, NULL, &err))
        die(path, &err);

    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    siam_optim *opt = siam_optim_new(&siam_ops_cpu, ctx, &oc, siam_model_numel(m), &err);
    siam_toy toy;
    if (!opt || siam_toy_images(&toy, 6, 3, 28, 28, 2))
        die("optimizer and toy images", &err);
    siam_pairset *train = siam_toy_pairs(&toy, 8, 1), *val = siam_toy_pairs(&toy, 4, 2);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch_size = 4;
    tc.use_early_stop = 1;
    strcpy(tc.early_stop.metric, "val_loss");
    tc.early_stop.mode_max = 0;
    tc.early_stop.restore_best = 1;
    tc.wavg.kind = SIAM_WAVG_EMA;
    tc.threshold_from_val = 1;
    path_in(path, sizeof path, dir, "checkpoint", "train.ckpt");
    siam_trainer *t = siam_trainer_new(m, opt, train, val, &tc, &err);
    if (!t)
        die("training", &err);
    /* A checkpoint after each epoch, as fit writes them. */
    int rc;
    while ((rc = siam_trainer_epoch(t, &err)) > 0) {
        siam_model_meta run_meta = meta;
        run_meta.threshold = siam_trainer_threshold(t);
        run_meta.crop = train->images->crop;
        siam_train_parts parts;
        siam_trainer_parts(t, &parts);
        if (siam_checkpoint_save(path, m, &run_meta, opt, &parts, &err))
            die(path, &err);
    }
    if (rc < 0 || siam_trainer_finish(t, &err))
        die("training", &err);
    path_in(path, sizeof path, dir, "checkpoint", "adam.ckpt");
    if (siam_checkpoint_save(path, m, &meta, opt, NULL, &err))
        die(path, &err);
    siam_trainer_free(t);
    siam_toy_pairs_free(train);
    siam_toy_pairs_free(val);
    siam_toy_free(&toy);
    siam_optim_free(opt);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

static void cache(const char *dir)
{
    siam_error err;
    char path[512];
    siam_cache_key key;
    siam_fuzz_cache_key(&key);
    uint8_t pixels[SIAM_FUZZ_CACHE_COUNT * SIAM_FUZZ_CACHE_SIDE * SIAM_FUZZ_CACHE_SIDE];
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(37 * i + 11);
    path_in(path, sizeof path, dir, "cache", "cache.bin");
    if (siam_cache_write(path, &key, pixels, &err))
        die(path, &err);
}

static void write_bytes(void *context, void *data, int size)
{
    FILE *f = context;
    fwrite(data, 1, (size_t)size, f);
}

/* A 16x12 image in `comp` channels of smooth gradients and noise. */
static void images(const char *dir)
{
    enum { W = 16, H = 12 };
    static const char *const kinds[] = { "png", "jpg", "bmp", "tga" };
    for (int comp = 1; comp <= 3; comp += 2)
        for (int k = 0; k < 4; k++) {
            unsigned char px[W * H * 3];
            for (int i = 0; i < W * H * comp; i++)
                px[i] = (unsigned char)(i * 7 + (int)(64 * siam_philox_uniform(3, 0, i)));
            char name[32], path[512];
            snprintf(name, sizeof name, "%s%d.%s", comp == 1 ? "grey" : "rgb", W, kinds[k]);
            path_in(path, sizeof path, dir, "image", name);
            FILE *f = fopen(path, "wb");
            if (!f)
                die(path, NULL);
            int ok = k == 0 ? stbi_write_png_to_func(write_bytes, f, W, H, comp, px, W * comp)
                   : k == 1 ? stbi_write_jpg_to_func(write_bytes, f, W, H, comp, px, 80)
                   : k == 2 ? stbi_write_bmp_to_func(write_bytes, f, W, H, comp, px)
                            : stbi_write_tga_to_func(write_bytes, f, W, H, comp, px);
            if (!ok || fclose(f) != 0)
                die(path, NULL);
        }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    mkdir(argv[1], 0777);
    checkpoints(argv[1]);
    cache(argv[1]);
    images(argv[1]);
    return 0;
}
