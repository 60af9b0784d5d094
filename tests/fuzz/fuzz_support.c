/* Scratch files and the cache key of the harnesses (fuzz_support.h). The
 * paths live for the whole process: libFuzzer calls a harness millions of
 * times and a path built per call would cost more than the input. */
#include "tests/fuzz/fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *siam_fuzz_path(const char *suffix)
{
    static char paths[4][256];
    static char suffixes[4][32];
    for (int i = 0; i < 4; i++) {
        if (paths[i][0] && strcmp(suffixes[i], suffix) == 0)
            return paths[i];
        if (!paths[i][0]) {
            struct stat st;
            const char *dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm"
                              : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
            snprintf(paths[i], sizeof paths[i], "%s/siam_fuzz_%ld%s", dir, (long)getpid(),
                     suffix);
            snprintf(suffixes[i], sizeof suffixes[i], "%s", suffix);
            return paths[i];
        }
    }
    abort();
}

void siam_fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

void siam_fuzz_cache_key(siam_cache_key *key)
{
    static const char *const names[SIAM_FUZZ_CACHE_COUNT] = {
        "Ann_Example/Ann_Example_0001.jpg", "Ann_Example/Ann_Example_0002.jpg",
        "Bo_Sample/Bo_Sample_0001.jpg"
    };
    memset(key, 0, sizeof *key);
    key->set = "/lfw/pairsDevTrain.txt";
    key->source = "/lfw/lfw-deepfunneled";
    key->pairs_hash = 0x1234567890abcdefull;
    key->list_hash = 0xfedcba0987654321ull;
    key->height = key->width = SIAM_FUZZ_CACHE_SIDE;
    key->count = SIAM_FUZZ_CACHE_COUNT;
    key->crop = 0;
    key->names = names;
}
