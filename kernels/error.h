/* Error reporting shared by kernels/, host/ and bindings/: a message buffer
 * that library code fills instead of printing or exiting. */
#ifndef SIAM_ERROR_H
#define SIAM_ERROR_H

#include <stddef.h>

#define SIAM_ERROR_LEN 1024

/* Caller-owned. Functions that can fail take a `siam_error *err` (may be
 * NULL when the caller does not want the text) and return 0 on success,
 * -1 on failure with err->msg set. */
typedef struct siam_error {
    char msg[SIAM_ERROR_LEN];
} siam_error;

/* Formats the message into err (when non-NULL) and returns -1, so that
 * `return siam_fail(err, "...", ...);` reads as one step. */
int siam_fail(siam_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes an existing message with more context ("loading x: <old>"). */
int siam_fail_wrap(siam_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
