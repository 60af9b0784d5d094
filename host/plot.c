/* Plot files: the data file, a script made of a few variable assignments
 * followed by the template from scripts/plots/, and the PNG that gnuplot
 * draws from them. The variables come first so that the template text is
 * kept verbatim and a user can edit either part. */
#include "host/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/atomic_file.h"

struct siam_plotter {
    char *template_dir;
    char *gnuplot;      /* absolute path, NULL when not on PATH */
    int skipped;        /* a plot was skipped for want of gnuplot */
    int noticed;        /* the notice was handed out */
};

static char *find_on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    size_t plen = strlen(prog);
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0) {
            char *cand = malloc(n + plen + 2);
            if (!cand)
                return NULL;
            memcpy(cand, path, n);
            cand[n] = '/';
            memcpy(cand + n + 1, prog, plen + 1);
            if (access(cand, X_OK) == 0)
                return cand;
            free(cand);
        }
        path += n + (end ? 1 : 0);
    }
    return NULL;
}

siam_plotter *siam_plotter_new(const char *template_dir, siam_error *err)
{
    if (access(template_dir, R_OK | X_OK) != 0) {
        siam_fail(err, "plots: template folder %s: %s", template_dir, strerror(errno));
        return NULL;
    }
    siam_plotter *p = calloc(1, sizeof *p);
    if (!p || !(p->template_dir = strdup(template_dir))) {
        free(p);
        siam_fail(err, "plots: out of memory");
        return NULL;
    }
    p->gnuplot = find_on_path("gnuplot");
    return p;
}

void siam_plotter_free(siam_plotter *p)
{
    if (!p)
        return;
    free(p->template_dir);
    free(p->gnuplot);
    free(p);
}

int siam_plotter_has_gnuplot(const siam_plotter *p)
{
    return p->gnuplot != NULL;
}

const char *siam_plotter_take_notice(siam_plotter *p)
{
    if (!p->skipped || p->noticed)
        return NULL;
    p->noticed = 1;
    return "gnuplot not found on PATH: plots are left as .dat data and .gp scripts without "
           "PNGs (install gnuplot-nox, then run `gnuplot NAME.gp` in the plot folder)";
}

/* A plot name becomes three file names and a gnuplot string; keep it to
 * characters that need no quoting anywhere. */
static int check_name(const char *name, siam_error *err)
{
    if (!name || !*name)
        return siam_fail(err, "plots: empty plot name");
    for (const char *c = name; *c; c++)
        if (!(*c == '_' || *c == '-' || *c == '.' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return siam_fail(err, "plots: name '%s' has '%c'; use letters, digits, . _ -",
                             name, *c);
    return 0;
}

/* gnuplot single-quoted string: the only escape is '' for '. */
static void put_gp_string(FILE *fp, const char *s)
{
    fputc('\'', fp);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', fp);
        if (*s != '\n' && *s != '\r')
            fputc(*s, fp);
    }
    fputc('\'', fp);
}

static void put_num(FILE *fp, double v)
{
    if (isfinite(v))
        fprintf(fp, "%.9g", v);
    else
        fputs("NaN", fp);
}

static char *read_template(const siam_plotter *p, const char *kind, siam_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gp", p->template_dir, kind);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        siam_fail(err, "plots: template %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char chunk[4096];
    size_t got;
    while (mem && (got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        fwrite(chunk, 1, got, mem);
    int bad = ferror(fp) || !mem;
    fclose(fp);
    if (mem)
        fclose(mem);
    if (bad) {
        free(text);
        siam_fail(err, "plots: reading template %s failed", path);
        return NULL;
    }
    return text;
}

static int publish_memstream(const char *path, FILE *mem, char **text, size_t *len,
                             siam_error *err)
{
    int ok = fclose(mem) == 0;
    int rc = ok ? siam_atomic_write(path, *text, *len, err)
                : siam_fail(err, "plots: out of memory composing %s", path);
    free(*text);
    *text = NULL;
    return rc;
}

/* Runs `gnuplot -e "outfile='NAME.png.tmp'" NAME.gp` inside `dir`, then
 * publishes the PNG atomically. gnuplot's stderr is kept for the error. */
static int run_gnuplot(const siam_plotter *p, const char *dir, const char *name,
                       siam_error *err)
{
    char script[512], assign[600], tmp_png[512];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(tmp_png, sizeof tmp_png, "%s.png.tmp", name);
    snprintf(assign, sizeof assign, "outfile='%s'", tmp_png);
    char *argv[] = {"gnuplot", "-e", assign, script, NULL};
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return siam_fail(err, "plots: pipe for gnuplot: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]), close(pipefd[1]);
        return siam_fail(err, "plots: cannot start gnuplot: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        if (chdir(dir) != 0)
            _exit(126);
        execv(p->gnuplot, argv);
        _exit(127);
    }
    close(pipefd[1]);
    char msg[700];
    size_t have = 0;
    ssize_t got;
    char sink[512];
    while ((got = read(pipefd[0], sink, sizeof sink)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t take = (size_t)got < sizeof msg - 1 - have ? (size_t)got : sizeof msg - 1 - have;
        memcpy(msg + have, sink, take);
        have += take;
    }
    msg[have] = '\0';
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return siam_fail(err, "plots: waiting for gnuplot: %s", strerror(errno));
    for (size_t i = 0; i < have; i++)
        if (msg[i] == '\n')
            msg[i] = ' ';
    char tmp_path[4096], png_path[4096];
    snprintf(tmp_path, sizeof tmp_path, "%s/%s", dir, tmp_png);
    snprintf(png_path, sizeof png_path, "%s/%s.png", dir, name);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(tmp_path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
            return siam_fail(err, "plots: cannot enter %s to run gnuplot", dir);
        return siam_fail(err, "plots: gnuplot failed on %s/%s (status %d): %s", dir, script,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, msg);
    }
    return siam_atomic_publish(tmp_path, png_path, err);
}

/* Writes NAME.dat from `data`, NAME.gp from the variables plus the `kind`
 * template, then the PNG. `vars` is gnuplot text assigning the template's
 * extra variables (may be empty). */
static int render(siam_plotter *p, const char *kind, const char *dir, const char *name,
                  const char *title, FILE *data, char **data_text, size_t *data_len,
                  const char *vars, siam_error *err)
{
    char path[4096];
    if (check_name(name, err) != 0 || siam_mkdir_p(dir, err) != 0) {
        fclose(data);
        free(*data_text);
        return siam_fail_wrap(err, "plot %s", name ? name : "(null)");
    }
    snprintf(path, sizeof path, "%s/%s.dat", dir, name);
    if (publish_memstream(path, data, data_text, data_len, err) != 0)
        return -1;
    char *tmpl = read_template(p, kind, err);
    if (!tmpl)
        return -1;
    char *text = NULL;
    size_t len = 0;
    FILE *gp = open_memstream(&text, &len);
    if (!gp) {
        free(tmpl);
        return siam_fail(err, "plots: out of memory for %s.gp", name);
    }
    fprintf(gp, "# Plot '%s', made by siamlua from the template %s.gp.\n"
                "# Redraw (after restyling below) with: gnuplot %s.gp\n", name, kind, name);
    fprintf(gp, "datafile = '%s.dat'\n", name);
    fprintf(gp, "if (!exists(\"outfile\")) outfile = '%s.png'\n", name);
    fputs("plottitle = ", gp);
    put_gp_string(gp, title ? title : name);
    fputc('\n', gp);
    fputs(vars, gp);
    fputs("\n", gp);
    fputs(tmpl, gp);
    free(tmpl);
    snprintf(path, sizeof path, "%s/%s.gp", dir, name);
    if (publish_memstream(path, gp, &text, &len, err) != 0)
        return -1;
    if (!p->gnuplot) {
        p->skipped = 1;
        return SIAM_PLOT_SKIPPED;
    }
    return run_gnuplot(p, dir, name, err);
}

static FILE *data_stream(char **text, size_t *len, siam_error *err)
{
    *text = NULL;
    *len = 0;
    FILE *fp = open_memstream(text, len);
    if (!fp)
        siam_fail(err, "plots: out of memory");
    return fp;
}

/* The stream of a plot's gnuplot variables (*vars, freed by the caller
 * after render); when it cannot be opened, the plot's data stream `data`
 * and its text are released, as the caller would on its way out. */
static FILE *vars_stream(char **vars, FILE *data, char *data_text, siam_error *err)
{
    size_t len = 0;
    *vars = NULL;
    FILE *vf = open_memstream(vars, &len);
    if (!vf) {
        fclose(data);
        free(data_text);
        siam_fail(err, "plots: out of memory");
    }
    return vf;
}

/* One epoch: a range around it, so that its tick shows. */
static void widen_one_epoch(double *lo, double *hi)
{
    if (!(*hi > *lo)) {
        *lo -= 0.5;
        *hi += 0.5;
    }
}

/* An epoch tick step of 1, 2 or 5 times a power of ten that gives at most
 * about ten ticks over `span` epochs: gnuplot's own choice over a short
 * run is 0.5 or 0.2, and there is no epoch 1.5. */
static long epoch_tick_step(double span)
{
    static const long mult[3] = {1, 2, 5};
    for (long base = 1;; base *= 10)
        for (int k = 0; k < 3; k++)
            if (span / (double)(base * mult[k]) <= 10.0 || base >= 100000000L)
                return base * mult[k];
}

int siam_plot_training(siam_plotter *p, const char *dir, const char *name, const char *title,
                       const siam_plot_epoch *rows, size_t n,
                       const siam_plot_training_marks *marks, siam_error *err)
{
    if (n == 0)
        return siam_fail(err, "plot %s: no epochs to plot", name);
    char *text;
    size_t len;
    FILE *fp = data_stream(&text, &len, err);
    if (!fp)
        return -1;
    fputs("# epoch train_loss val_loss train_acc val_acc\n", fp);
    for (size_t i = 0; i < n; i++) {
        const double v[5] = {rows[i].epoch, rows[i].train_loss, rows[i].val_loss,
                             rows[i].train_acc, rows[i].val_acc};
        for (int k = 0; k < 5; k++) {
            if (k)
                fputc(' ', fp);
            put_num(fp, v[k]);
        }
        fputc('\n', fp);
    }
    double lo = rows[0].epoch, hi = rows[0].epoch, best = NAN;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, rows[i].epoch);
        hi = fmax(hi, rows[i].epoch);
        if (marks && rows[i].epoch == marks->best_epoch)
            best = marks->best_epoch;
    }
    widen_one_epoch(&lo, &hi);
    char *vars = NULL;
    FILE *vf = vars_stream(&vars, fp, text, err);
    if (!vf)
        return -1;
    fputs("losslabel = ", vf);
    put_gp_string(vf, marks && marks->loss_label ? marks->loss_label : SIAM_PLOT_LOSS_LABEL);
    fprintf(vf, "\nxlo = %.9g\nxhi = %.9g\nxstep = %ld\nbest = ", lo, hi,
            epoch_tick_step(hi - lo));
    put_num(vf, best);
    fclose(vf);
    int rc = render(p, "training", dir, name, title, fp, &text, &len, vars, err);
    free(vars);
    return rc;
}

int siam_plot_confusion(siam_plotter *p, const char *dir, const char *name, const char *title,
                        long tp, long fp_count, long tn, long fn, siam_error *err)
{
    if (tp < 0 || fp_count < 0 || tn < 0 || fn < 0)
        return siam_fail(err, "plot %s: negative count (tp %ld fp %ld tn %ld fn %ld)", name,
                         tp, fp_count, tn, fn);
    char *text;
    size_t len;
    FILE *fp = data_stream(&text, &len, err);
    if (!fp)
        return -1;
    fputs("# rows: true different, true same; columns: predicted different, predicted same\n",
          fp);
    fprintf(fp, "%ld %ld\n%ld %ld\n", tn, fp_count, fn, tp);
    return render(p, "confusion", dir, name, title, fp, &text, &len, "", err);
}

int siam_plot_roc(siam_plotter *p, const char *dir, const char *name, const char *title,
                  const double *fpr, const double *tpr, size_t n, double auc,
                  siam_error *err)
{
    if (n < 2)
        return siam_fail(err, "plot %s: a ROC curve needs at least 2 points, got %zu", name, n);
    char *text;
    size_t len;
    FILE *fp = data_stream(&text, &len, err);
    if (!fp)
        return -1;
    fputs("# false_positive_rate true_positive_rate\n", fp);
    for (size_t i = 0; i < n; i++) {
        put_num(fp, fpr[i]);
        fputc(' ', fp);
        put_num(fp, tpr[i]);
        fputc('\n', fp);
    }
    char vars[64];
    snprintf(vars, sizeof vars, "auc = %.9g", isfinite(auc) ? auc : 0.0);
    return render(p, "roc", dir, name, title, fp, &text, &len, vars, err);
}

int siam_plot_grid(siam_plotter *p, const char *dir, const char *name, const char *title,
                   const char *const *labels, const double *val_acc, const double *test_acc,
                   const double *train_s, size_t n, siam_error *err)
{
    if (n == 0)
        return siam_fail(err, "plot %s: no configurations to plot", name);
    char *text;
    size_t len;
    FILE *fp = data_stream(&text, &len, err);
    if (!fp)
        return -1;
    fputs("# rank label val_acc test_acc train_seconds\n", fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "%zu \"", i + 1);
        /* gnuplot's double-quoted column: drop characters that would end it. */
        for (const char *c = labels[i]; *c; c++)
            if (*c != '"' && *c != '\n' && *c != '\r')
                fputc(*c, fp);
        fputs("\" ", fp);
        put_num(fp, val_acc[i]);
        fputc(' ', fp);
        put_num(fp, test_acc[i]);
        fputc(' ', fp);
        put_num(fp, train_s[i]);
        fputc('\n', fp);
    }
    return render(p, "grid", dir, name, title, fp, &text, &len, "", err);
}

int siam_plot_sweep(siam_plotter *p, const char *dir, const char *name, const char *title,
                    const char *param, const double *x, const double *val_acc,
                    const double *test_acc, size_t n, int logx, siam_error *err)
{
    if (n == 0)
        return siam_fail(err, "plot %s: no values of %s to plot", name, param);
    if (logx)
        for (size_t i = 0; i < n; i++)
            if (!(x[i] > 0))
                return siam_fail(err, "plot %s: log scale needs %s > 0, value %zu is %g", name,
                                 param, i, x[i]);
    char *text;
    size_t len;
    FILE *fp = data_stream(&text, &len, err);
    if (!fp)
        return -1;
    fprintf(fp, "# %s val_acc test_acc\n", param);
    for (size_t i = 0; i < n; i++) {
        put_num(fp, x[i]);
        fputc(' ', fp);
        put_num(fp, val_acc[i]);
        fputc(' ', fp);
        put_num(fp, test_acc[i]);
        fputc('\n', fp);
    }
    char *vars = NULL;
    FILE *vf = vars_stream(&vars, fp, text, err);
    if (!vf)
        return -1;
    fputs("param = ", vf);
    put_gp_string(vf, param);
    fprintf(vf, "\nlogx = %d", logx ? 1 : 0);
    fclose(vf);
    int rc = render(p, "sweep", dir, name, title, fp, &text, &len, vars, err);
    free(vars);
    return rc;
}

int siam_plot_runs(siam_plotter *p, const char *dir, const char *name, const char *title,
                   const char *metric, const siam_plot_series *series, size_t count,
                   siam_error *err)
{
    if (count == 0)
        return siam_fail(err, "plot %s: no runs to plot", name);
    char *text;
    size_t len;
    FILE *fp = data_stream(&text, &len, err);
    if (!fp)
        return -1;
    double lo = INFINITY, hi = -INFINITY;
    /* One block per run, two blank lines apart: gnuplot's `index`. */
    for (size_t k = 0; k < count; k++) {
        fputs(k ? "\n\n# " : "# ", fp);
        for (const char *c = series[k].label; *c; c++)
            if (*c != '\n' && *c != '\r')
                fputc(*c, fp);
        fprintf(fp, "\n# epoch %s\n", metric);
        for (size_t i = 0; i < series[k].n; i++) {
            put_num(fp, series[k].epoch[i]);
            fputc(' ', fp);
            put_num(fp, series[k].value[i]);
            fputc('\n', fp);
            lo = fmin(lo, series[k].epoch[i]);
            hi = fmax(hi, series[k].epoch[i]);
        }
        if (series[k].n == 0)
            fputs("NaN NaN\n", fp); /* keeps the block, so index k is run k */
    }
    if (!(lo <= hi))
        lo = hi = 1;
    widen_one_epoch(&lo, &hi);
    char *vars = NULL;
    FILE *vf = vars_stream(&vars, fp, text, err);
    if (!vf)
        return -1;
    fputs("metric = ", vf);
    put_gp_string(vf, metric);
    fprintf(vf, "\nxlo = %.9g\nxhi = %.9g\nxstep = %ld\nnruns = %zu\narray labels[%zu]\n", lo,
            hi, epoch_tick_step(hi - lo), count, count);
    for (size_t k = 0; k < count; k++) {
        fprintf(vf, "labels[%zu] = ", k + 1);
        put_gp_string(vf, series[k].label);
        fputc('\n', vf);
    }
    fclose(vf);
    int rc = render(p, "runs", dir, name, title, fp, &text, &len, vars, err);
    free(vars);
    return rc;
}
