/* siamlua side of `make bench` (scripts/bench.sh): one measurement per run,
 * so that each run's peak RSS is its own. Not a test (no test_ prefix, not
 * run by `make test`).
 *   bench_model train B     training pairs/s at batch B (Adam, BCE): the
 *                           training loop's own step (host/train_step.h)
 *   bench_model infer B     inference pairs/s at batch B (eval mode)
 *   bench_model layers B    forward+backward times (wall and CPU) of each conv layer,
 *                           direct and fft, at batch B pairs (2B images), CPU only;
 *                           --layer K for one layer, --conv to pick one path
 *   bench_model load PAIRS ROOT   LFW decode rate (images/s, no cache)
 * Options before the mode: --device cpu|cuda (default cpu), --threads T
 * (0: all cores), --conv direct|fft|auto (CPU, default auto), --tf32 0|1
 * and --cudnn-find 0|1 (CUDA context options, default 0), --steps S,
 * --warmup W, --finite-checks 0|1 (train: the step's non-finite counts,
 * default 1 as in training; 0 leaves them out), --eval-chunk I (infer: images
 * per pass through the conv tower, 0 the whole batch; default the model's
 * SIAM_MODEL_EVAL_CHUNK).
 * On CUDA the timed steps are measured with the stream's own markers
 * (CUDA events) after the warm-up, and the wall clock beside them; the
 * environment's CUDA options apply (SIAM_CUDA_VERBOSE=1 logs the cuDNN
 * algorithms chosen). Prints `siamlua: key=value` lines; a CUDA run where no
 * GPU answers prints `siamlua: cuda not available: <why>` and exits 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "host/backend.h"
#include "host/dataset.h"
#include "host/lfw_load.h"
#include "host/model.h"
#include "host/optim.h"
#include "host/train_step.h"
#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/ops.h"
#include "kernels/philox.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process (all threads): on a shared machine this
 * moves far less with the load than the wall clock. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double rss_mib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0;
}

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_model: %s: %s\n", what, msg);
    return 1;
}

/* Random input pixels in [0,1) and alternating labels, uploaded once. */
static int fill_batch(const siam_ops *o, siam_ctx *c, siam_model *m, float *labels_dev, int B)
{
    size_t n = (size_t)2 * B * 105 * 105;
    float *x = malloc(n * sizeof(float)), y[1024];
    if (!x || B > 1024)
        return -1;
    for (size_t i = 0; i < n; i++)
        x[i] = siam_philox_uniform(9, 1, i);
    for (int i = 0; i < B; i++)
        y[i] = (float)(i % 2);
    int rc = o->upload(c, siam_model_input(m), x, n * sizeof(float))
             || (labels_dev && o->upload(c, labels_dev, y, (size_t)B * sizeof(float)));
    free(x);
    return rc ? -1 : 0;
}

/* Elapsed milliseconds of the timed steps: the device's markers where the
 * backend has them (stamps 0 and 1), and the wall clock. */
typedef struct timer {
    double t0, c0;
} timer;

static int timer_start(const siam_ops *o, siam_ctx *c, timer *t)
{
    t->t0 = now();
    t->c0 = cpu_now();
    return o->stamp ? o->stamp(c, 0) : 0;
}

static int timer_stop(const siam_ops *o, siam_ctx *c, const timer *t, double *device_ms,
                      double *wall_ms, double *cpu_ms)
{
    *device_ms = -1.0;
    if (o->stamp && (o->stamp(c, 1) || o->stamp_ms(c, 0, 1, device_ms)))
        return -1;
    if (o->synchronize(c))
        return -1;
    *wall_ms = 1e3 * (now() - t->t0);
    *cpu_ms = 1e3 * (cpu_now() - t->c0);
    return 0;
}

static int run_model(const siam_ops *o, siam_ctx *c, int train, int B, int steps, int warmup,
                     int checks, int eval_chunk)
{
    siam_error err;
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.dropout = 0.0f;
    siam_model *m = siam_model_new(o, c, &cfg, B, &err);
    if (!m)
        return die("model", err.msg);
    if (siam_model_init(m, SIAM_INIT_PYTORCH, 1, &err))
        return die("init", err.msg);
    if (eval_chunk >= 0 && siam_model_set_eval_chunk(m, eval_chunk, &err))
        return die("--eval-chunk", err.msg);
    float *labels = o->mem_alloc(c, (size_t)B * sizeof(float));
    float *probs = malloc((size_t)B * sizeof(float));
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    oc.lr = 1e-4;
    siam_optim *opt = train ? siam_optim_new(o, c, &oc, siam_model_numel(m), &err) : NULL;
    if (!labels || !probs || (train && !opt) || fill_batch(o, c, m, labels, B))
        return die("setup", train && !opt ? err.msg : o->ctx_error(c));
    siam_model_set_training(m, train);
    siam_train_steps ts;
    siam_train_steps_init(&ts, m, opt, checks);
    double loss_sum = 0;
    timer tm = { 0, 0 };
    for (int i = 0; i < warmup + steps; i++) {
        if (i == warmup && timer_start(o, c, &tm))
            return die("timer", o->ctx_error(c));
        float loss = 0;
        if (train) {
            char msg[256];
            int rc = siam_train_steps_run(&ts, labels, B, "in the benchmark", &loss, probs, msg,
                                          sizeof msg, &err);
            if (rc == 0)
                rc = siam_train_steps_update(&ts, "after an update of the benchmark", &err);
            if (rc)
                return die("train step", rc > 0 ? msg : err.msg);
            loss_sum += loss;
        } else if (siam_model_forward(m, B, &err)) {
            return die("forward", err.msg);
        } else if (o->download(c, probs, siam_model_probs(m), (size_t)B * sizeof(float))) {
            /* Inference ends with the probabilities on the host, as
             * evaluation's does (and the PyTorch peer's .cpu()). */
            return die("probabilities", o->ctx_error(c));
        }
    }
    double dev_ms, wall_ms, cpu_ms;
    if (timer_stop(o, c, &tm, &dev_ms, &wall_ms, &cpu_ms))
        return die("timer", o->ctx_error(c));
    /* The device's clock where there is one, the wall clock otherwise. */
    double ms = dev_ms >= 0 ? dev_ms : wall_ms;
    const char *kind = train ? "train" : "infer";
    printf("siamlua: %s%d=%.2f\n", kind, B, (double)B * steps / (ms / 1e3));
    printf("siamlua: ms_per_step=%.3f wall_ms_per_step=%.3f timer=%s\n", ms / steps,
           wall_ms / steps, dev_ms >= 0 ? "device" : "wall");
    printf("siamlua: cpu_ms_per_step=%.0f\n", cpu_ms / steps);
    if (train)
        printf("siamlua: mean_loss=%.4f checks=%d\n", loss_sum / (warmup + steps), checks);
    if (!train)
        printf("siamlua: eval_chunk=%d\n", siam_model_eval_chunk(m));
    printf("siamlua: rss_mib=%.0f\n", rss_mib());
    siam_optim_free(opt);
    o->mem_free(c, labels);
    free(probs);
    siam_model_free(m);
    return 0;
}

typedef int (*conv_fwd)(siam_ctx *, float *, const float *, const float *, const float *, int, int,
                        int, int, int, int, int);
typedef int (*conv_bwd)(siam_ctx *, float *, float *, float *, const float *, const float *,
                        const float *, int, int, int, int, int, int, int);

/* Each layer by the direct path, the FFT path or (SIAM_CONV_AUTO) both. */
static int run_layers(siam_ctx *c, int B, int steps, int only, siam_conv_path path)
{
    static const int L[4][5] = {
        {1, 105, 64, 10, 0}, {64, 48, 128, 7, 1}, {128, 21, 128, 4, 1}, {128, 9, 256, 4, 1}};
    int N = 2 * B;
    for (int k = 0; k < 4; k++) {
        if (only && only != k + 1)
            continue;
        int Ci = L[k][0], H = L[k][1], Co = L[k][2], K = L[k][3], OH = H - K + 1;
        size_t nin = (size_t)N * Ci * H * H, nout = (size_t)N * Co * OH * OH;
        size_t nw = (size_t)Co * Ci * K * K;
        float *in = calloc(nin, 4), *din = calloc(nin, 4), *out = calloc(nout, 4);
        float *w = calloc(nw, 4), *dw = calloc(nw, 4), *b = calloc(Co, 4), *db = calloc(Co, 4);
        if (!in || !din || !out || !w || !dw || !b || !db)
            return die("layers", "out of memory");
        for (size_t i = 0; i < nin; i++)
            in[i] = siam_philox_uniform(3, 1, i);
        for (size_t i = 0; i < nw; i++)
            w[i] = 0.05f * (siam_philox_uniform(3, 2, i) - 0.5f);
        for (int a = 0; a < 2; a++) {
            if (path == (a ? SIAM_CONV_DIRECT : SIAM_CONV_FFT))
                continue;
            conv_fwd f = a ? siam_cpu_conv2d_fft_forward : siam_ops_cpu.conv2d_forward;
            conv_bwd g = a ? siam_cpu_conv2d_fft_backward : siam_ops_cpu.conv2d_backward;
            double tf = 0, tb = 0, cf = 0, cb = 0;
            for (int s = 0; s <= steps; s++) {
                double t0 = now(), c0 = cpu_now();
                if (f(c, out, in, w, b, N, Ci, H, H, Co, K, K))
                    return die("layers fwd", siam_ops_cpu.ctx_error(c));
                double t1 = now(), c1 = cpu_now();
                if (g(c, L[k][4] ? din : NULL, dw, db, out, in, w, N, Ci, H, H, Co, K, K))
                    return die("layers bwd", siam_ops_cpu.ctx_error(c));
                if (s > 0) /* the first call grows the scratch */
                    tf += t1 - t0, tb += now() - t1, cf += c1 - c0, cb += cpu_now() - c1;
            }
            printf("siamlua: layer=conv%d algo=%s fwd_ms=%.1f bwd_ms=%.1f total_ms=%.1f "
                   "cpu_fwd_ms=%.1f cpu_bwd_ms=%.1f cpu_total_ms=%.1f\n",
                   k + 1, a ? "fft" : "direct", 1e3 * tf / steps, 1e3 * tb / steps,
                   1e3 * (tf + tb) / steps, 1e3 * cf / steps, 1e3 * cb / steps,
                   1e3 * (cf + cb) / steps);
            fflush(stdout);
        }
        free(in), free(din), free(out), free(w), free(dw), free(b), free(db);
    }
    return 0;
}

static int run_load(const char *pairs, const char *root, int threads)
{
    siam_error err;
    siam_load_options opt;
    siam_load_options_init(&opt);
    opt.threads = threads;
    opt.use_cache = 0;
    siam_load_report rep;
    double t0 = now();
    siam_pairset *ps = siam_pairset_load(pairs, root, &opt, &rep, &err);
    double dt = now() - t0;
    if (!ps)
        return die("load", err.msg);
    printf("siamlua: load=%.1f images=%d seconds=%.2f\n", ps->images->count / dt,
           ps->images->count, dt);
    siam_pairset_free(ps);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 0, steps = 5, warmup = 2, only = 0, checks = 1, eval_chunk = -1, i = 1;
    int tf32 = 0, find = 0;
    const char *device = "cpu";
    siam_conv_path path = SIAM_CONV_AUTO;
    siam_error err;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--layer") == 0)
            only = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--finite-checks") == 0)
            checks = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--eval-chunk") == 0)
            eval_chunk = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--tf32") == 0)
            tf32 = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cudnn-find") == 0)
            find = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--device") == 0)
            device = argv[i + 1];
        else if (strcmp(argv[i], "--conv") == 0) {
            if (siam_conv_path_parse(argv[i + 1], &path, &err))
                return die("--conv", err.msg);
        } else
            return die("option", argv[i]);
    }
    if (i + 1 >= argc || steps < 1)
        return die("usage", "bench_model [--device cpu|cuda] [--threads T] "
                            "[--conv direct|fft|auto] [--tf32 0|1] [--cudnn-find 0|1] "
                            "[--steps S] [--warmup W] [--finite-checks 0|1] [--eval-chunk I] "
                            "train|infer|layers B | load PAIRS ROOT");
    const char *mode = argv[i];
    if (strcmp(mode, "load") == 0)
        return i + 2 < argc ? run_load(argv[i + 1], argv[i + 2], threads)
                            : die("usage", "load PAIRS ROOT");
    int B = atoi(argv[i + 1]);
    int cuda = strcmp(device, "cuda") == 0;
    if (!cuda && strcmp(device, "cpu") != 0)
        return die("--device", "expected cpu or cuda");
    siam_ops ops;
    siam_ops_cpu_fast_init(&ops, path);
    siam_ctx_options opt = { .threads = threads, .allow_tf32 = tf32, .cudnn_find = find };
    if (cuda) {
        const siam_ops *t = siam_ops_cuda();
        if (t == NULL) {
            printf("siamlua: cuda not available: built without CUDA (make CUDA=1)\n");
            return 3;
        }
        ops = *t;
        if (siam_backend_env_options(&opt, &err))
            return die("environment", err.msg);
    }
    siam_ctx *c = ops.ctx_new(&opt, &err);
    if (!c) {
        if (cuda) {
            printf("siamlua: cuda not available: %s\n", err.msg);
            return 3;
        }
        return die("ctx", err.msg);
    }
    char about[512];
    if (ops.describe && ops.describe(c, about, sizeof about) == 0)
        printf("siamlua: device=cuda tf32=%d cudnn_find=%d %s\n", tf32, find, about);
    else
        printf("siamlua: device=cpu conv=%s\n", siam_conv_path_name(path));
    int rc;
    if (strcmp(mode, "layers") == 0)
        rc = cuda ? die("layers", "CPU only") : run_layers(c, B, steps, only, path);
    else if (strcmp(mode, "train") == 0 || strcmp(mode, "infer") == 0)
        rc = run_model(&ops, c, mode[0] == 't', B, steps, warmup, checks, eval_chunk);
    else
        rc = die("mode", mode);
    ops.ctx_free(c);
    return rc;
}
