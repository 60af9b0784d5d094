/* The human-readable log of a run (log.txt): one line per message with a
 * UTC timestamp and a level, appended and flushed line by line so that
 * `tail -f` follows it and a resumed run continues it. Machine-readable
 * metrics go to metrics.csv/jsonl (atomic_file.h), not here. */
#ifndef SIAM_RUN_LOG_H
#define SIAM_RUN_LOG_H

#include "kernels/error.h"

typedef enum siam_log_level {
    SIAM_LOG_DEBUG = 0,
    SIAM_LOG_INFO = 1,
    SIAM_LOG_WARN = 2,
    SIAM_LOG_ERROR = 3,
} siam_log_level;

/* Seconds since the epoch; the context is whatever was passed with it. */
typedef double (*siam_log_clock)(void *ctx);

/* Caller-owned; siam_runlog_close (NULL fine) flushes and frees. Messages
 * below `min_level` are dropped. `clock` NULL means the system clock. */
typedef struct siam_runlog siam_runlog;

siam_runlog *siam_runlog_open(const char *path, siam_log_level min_level, siam_log_clock clock,
                              void *clock_ctx, siam_error *err);
void siam_runlog_close(siam_runlog *log);

/* Writes "2026-11-28T15:03:31.250Z INFO  message\n". A message holding
 * newlines continues on lines indented by four blanks, so every record
 * starts with a timestamp. */
int siam_runlog_write(siam_runlog *log, siam_log_level level, siam_error *err,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "DEBUG", "INFO", "WARN", "ERROR"; NULL for anything else. */
const char *siam_log_level_name(siam_log_level level);

#endif
