/* Reading an open file to its end into one growing buffer, for the readers
 * that parse or decode a whole file in memory (pairs files, images). */
#ifndef SIAM_READ_STREAM_H
#define SIAM_READ_STREAM_H

#include <stddef.h>
#include <stdio.h>

/* Reads f from its current position to its end. Returns a malloc'd buffer
 * that the caller frees, its length in *len; NULL when memory runs out.
 * *read_failed is ferror(f) afterwards; errno is then still the failing
 * read's. f stays open. */
void *siam_read_stream(FILE *f, size_t *len, int *read_failed);

#endif
