/* siam_error helpers: formatting only, no global state. */
#include "kernels/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int siam_fail(siam_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int siam_fail_wrap(siam_error *err, const char *fmt, ...)
{
    if (err) {
        char prefix[SIAM_ERROR_LEN];
        char old[SIAM_ERROR_LEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        /* Truncation is acceptable for an over-long message; keep the
         * newest context first. */
        size_t n = strnlen(prefix, sizeof prefix - 3);
        memcpy(err->msg, prefix, n);
        memcpy(err->msg + n, ": ", 2);
        size_t room = sizeof err->msg - n - 3;
        size_t m = strnlen(old, room);
        memcpy(err->msg + n + 2, old, m);
        err->msg[n + 2 + m] = '\0';
    }
    return -1;
}
