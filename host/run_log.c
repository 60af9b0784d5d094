/* log.txt writer: timestamp, level, message; flushed per line. */
#include "host/run_log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct siam_runlog {
    FILE *fp;
    char *path;
    siam_log_level min_level;
    siam_log_clock clock;
    void *clock_ctx;
};

static double system_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *siam_log_level_name(siam_log_level level)
{
    switch (level) {
    case SIAM_LOG_DEBUG: return "DEBUG";
    case SIAM_LOG_INFO: return "INFO";
    case SIAM_LOG_WARN: return "WARN";
    case SIAM_LOG_ERROR: return "ERROR";
    }
    return NULL;
}

siam_runlog *siam_runlog_open(const char *path, siam_log_level min_level, siam_log_clock clock,
                              void *clock_ctx, siam_error *err)
{
    siam_runlog *log = calloc(1, sizeof *log);
    if (!log || !(log->path = strdup(path))) {
        free(log);
        siam_fail(err, "log %s: out of memory", path);
        return NULL;
    }
    log->fp = fopen(path, "a");
    if (!log->fp) {
        siam_fail(err, "log %s: cannot open for appending: %s", path, strerror(errno));
        free(log->path);
        free(log);
        return NULL;
    }
    log->min_level = min_level;
    log->clock = clock ? clock : system_clock;
    log->clock_ctx = clock_ctx;
    return log;
}

void siam_runlog_close(siam_runlog *log)
{
    if (!log)
        return;
    fclose(log->fp);
    free(log->path);
    free(log);
}

int siam_runlog_write(siam_runlog *log, siam_log_level level, siam_error *err,
                      const char *fmt, ...)
{
    const char *name = siam_log_level_name(level);
    if (!name)
        return siam_fail(err, "log %s: unknown level %d", log->path, (int)level);
    if (level < log->min_level)
        return 0;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return siam_fail(err, "log %s: out of memory formatting a message", log->path);
    double now = log->clock(log->clock_ctx);
    time_t secs = (time_t)floor(now);
    int ms = (int)((now - floor(now)) * 1000.0);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[40];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(log->fp, "%s.%03dZ %-5s ", stamp, ms, name);
    /* Drop trailing newlines; indent inner ones as continuation lines. */
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++) {
        if (*p == '\n')
            fputs("\n    ", log->fp);
        else if (*p != '\r')
            fputc(*p, log->fp);
    }
    fputc('\n', log->fp);
    free(msg);
    if (fflush(log->fp) != 0 || ferror(log->fp))
        return siam_fail(err, "log %s: write failed: %s", log->path, strerror(errno));
    return 0;
}
