/* Progress bar and per-epoch lines; formatting only, the clock is injected
 * so that tests can drive time. */
#include "host/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct siam_progress {
    FILE *out;
    siam_progress_mode mode;
    siam_progress_clock clock;
    void *clock_ctx;
    int epoch, epochs;
    long batches, done;
    double epoch_start, last_draw;
    double loss_sum;
    long loss_n;
    int drawn_width;    /* length of the last bar, to blank leftovers */
    int drawn;          /* a bar was drawn since the epoch began */
};

static double monotonic(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

siam_progress_mode siam_progress_mode_for(FILE *out, int quiet)
{
    if (quiet)
        return SIAM_PROGRESS_QUIET;
    return isatty(fileno(out)) ? SIAM_PROGRESS_BAR : SIAM_PROGRESS_LINES;
}

siam_progress *siam_progress_new(FILE *out, siam_progress_mode mode, siam_progress_clock clock,
                                 void *clock_ctx, siam_error *err)
{
    if (!out && mode != SIAM_PROGRESS_QUIET) {
        siam_fail(err, "progress: no output stream for mode %d", (int)mode);
        return NULL;
    }
    siam_progress *p = calloc(1, sizeof *p);
    if (!p) {
        siam_fail(err, "progress: out of memory");
        return NULL;
    }
    p->out = out;
    p->mode = mode;
    p->clock = clock ? clock : monotonic;
    p->clock_ctx = clock_ctx;
    return p;
}

void siam_progress_free(siam_progress *p)
{
    free(p);
}

/* "MM:SS", or "H:MM:SS" from one hour on, like tqdm; "?" when unknown. */
static void fmt_duration(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

void siam_progress_epoch_begin(siam_progress *p, int epoch, int epochs, long batches)
{
    p->epoch = epoch;
    p->epochs = epochs;
    p->batches = batches;
    p->done = 0;
    p->loss_sum = 0;
    p->loss_n = 0;
    p->drawn = 0;
    p->drawn_width = 0;
    p->epoch_start = p->clock(p->clock_ctx);
    p->last_draw = p->epoch_start;
}

static double running_loss(const siam_progress *p)
{
    return p->loss_n ? p->loss_sum / (double)p->loss_n : NAN;
}

static void draw_bar(siam_progress *p, double now)
{
    double elapsed = now - p->epoch_start;
    double rate = elapsed > 0 ? (double)p->done / elapsed : NAN;
    double remain = p->done > 0 ? elapsed * (double)(p->batches - p->done) / (double)p->done
                                : NAN;
    double frac = p->batches > 0 ? (double)p->done / (double)p->batches : 0;
    if (frac > 1)
        frac = 1;
    char bar[SIAM_PROGRESS_BAR_WIDTH + 1];
    int fill = (int)(frac * SIAM_PROGRESS_BAR_WIDTH);
    for (int i = 0; i < SIAM_PROGRESS_BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[SIAM_PROGRESS_BAR_WIDTH] = '\0';
    char el[32], rem[32], rate_s[32];
    fmt_duration(el, sizeof el, elapsed);
    fmt_duration(rem, sizeof rem, remain);
    if (isfinite(rate))
        snprintf(rate_s, sizeof rate_s, "%.2f", rate);
    else
        snprintf(rate_s, sizeof rate_s, "?");
    char line[256];
    int len = snprintf(line, sizeof line, "epoch %d/%d [%s] %3d%% %ld/%ld [%s<%s, %s it/s, "
                       "loss=%.4f]", p->epoch, p->epochs, bar, (int)(frac * 100), p->done,
                       p->batches, el, rem, rate_s, running_loss(p));
    if (len >= (int)sizeof line)
        len = (int)sizeof line - 1;
    /* Pad with blanks over what the previous, longer bar left on screen. */
    int pad = p->drawn_width > len ? p->drawn_width - len : 0;
    fprintf(p->out, "\r%s%*s", line, pad, "");
    fflush(p->out);
    p->drawn_width = len;
    p->drawn = 1;
    p->last_draw = now;
}

void siam_progress_step(siam_progress *p, long n, double loss)
{
    p->done += n;
    if (n > 0) {
        p->loss_sum += loss * (double)n;
        p->loss_n += n;
    }
    if (p->mode != SIAM_PROGRESS_BAR)
        return;
    double now = p->clock(p->clock_ctx);
    if (!p->drawn || now - p->last_draw >= SIAM_PROGRESS_INTERVAL)
        draw_bar(p, now);
}

void siam_progress_epoch_end(siam_progress *p, const char *extra)
{
    double now = p->clock(p->clock_ctx);
    if (p->mode == SIAM_PROGRESS_BAR) {
        draw_bar(p, now);
        fprintf(p->out, "%s%s\n", extra ? " " : "", extra ? extra : "");
        fflush(p->out);
    } else if (p->mode == SIAM_PROGRESS_LINES) {
        double elapsed = now - p->epoch_start;
        char el[32];
        fmt_duration(el, sizeof el, elapsed);
        fprintf(p->out, "epoch %d/%d: %ld batches in %s (%.2f it/s) loss=%.4f%s%s\n", p->epoch,
                p->epochs, p->done, el, elapsed > 0 ? (double)p->done / elapsed : 0.0,
                running_loss(p), extra ? " " : "", extra ? extra : "");
        fflush(p->out);
    }
}
