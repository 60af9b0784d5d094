/* Byte-level edits of checkpoint files for the tests that damage, craft or
 * downgrade them: read-edit-write of a whole file, resealing
 * (ckpt_seal.h), and the older layouts of a format 3 model-only file. Test
 * support only. */
#ifndef SIAM_TEST_CKPT_BYTES_H
#define SIAM_TEST_CKPT_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "tests/support/ckpt_seal.h"

/* Offsets in a format 3 file: the architecture block starts after the
 * 24-byte header (the embedding activation and head words at 80..87), the
 * 28-byte model metadata follows it at 104. */
#define SIAM_TEST_CKPT_ARCH 24
#define SIAM_TEST_CKPT_META 104

/* Rewrites `path` with `edit` applied to its bytes (room for 64 more);
 * returns the new size. Fails the test when the file cannot be read or
 * written. */
long siam_test_file_edit(const char *path, void (*edit)(unsigned char *buf, long *n));

/* A format 3 file without optimizer or trainer section turned into what a
 * version 2 (no model metadata) or version 1 (nor embedding activation and
 * head) build wrote for the same model; resealed. */
void siam_test_ckpt_to_version_2(unsigned char *b, long *n);
void siam_test_ckpt_to_version_1(unsigned char *b, long *n);

/* Writes n bytes to path (the test fails otherwise). */
void siam_test_write_file(const char *path, const void *bytes, size_t n);

#endif
