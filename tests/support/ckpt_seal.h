/* Resealing a checkpoint's bytes: the declared size (bytes 16..23) and the
 * closing FNV-1a 64 checksum redone, as a writer would, so that a test or
 * the fuzzer can reach the checks behind the checksum. No cmocka here: the
 * fuzz harness links it too. Test support only. */
#ifndef SIAM_TEST_CKPT_SEAL_H
#define SIAM_TEST_CKPT_SEAL_H

#include <stdint.h>

/* n must be at least 32 (header and checksum). */
void siam_test_ckpt_reseal(unsigned char *b, long n);

#endif
