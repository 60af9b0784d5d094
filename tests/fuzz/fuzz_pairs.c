/* libFuzzer harness: the LFW pairs parser (host/lfw_pairs.h), View 1 and
 * View 2 layouts alike, on bytes in memory. */
#include <stddef.h>
#include <stdint.h>

#include "host/lfw_pairs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    siam_error err;
    siam_pair_list *pl = siam_pair_list_parse("fuzz.txt", (const char *)data, size, &err);
    siam_pair_list_free(pl);
    return 0;
}
