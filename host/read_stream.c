/* Whole-stream reads (see read_stream.h). */
#include "host/read_stream.h"

#include <stdlib.h>

void *siam_read_stream(FILE *f, size_t *len, int *read_failed)
{
    /* 64 KiB holds a pairs file or an LFW JPEG in one read; doubling keeps
     * larger files at O(n) copying. */
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    *read_failed = ferror(f);
    *len = n;
    return buf;
}
