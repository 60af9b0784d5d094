/* Checkpoint resealing (ckpt_seal.h). */
#include "tests/support/ckpt_seal.h"

void siam_test_ckpt_reseal(unsigned char *b, long n)
{
    uint64_t total = (uint64_t)n, h = 14695981039346656037ull; /* FNV-1a 64 basis */
    for (int i = 0; i < 8; i++)
        b[16 + i] = (unsigned char)(total >> (8 * i));
    for (long i = 0; i < n - 8; i++) {
        h ^= b[i];
        h *= 1099511628211ull; /* FNV-1a 64 prime */
    }
    for (int i = 0; i < 8; i++)
        b[n - 8 + i] = (unsigned char)(h >> (8 * i));
}
