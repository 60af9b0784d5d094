/* Processor identification (host/cpu_info.h). */
#include "host/cpu_info.h"

#include <stdio.h>
#include <string.h>

void siam_cpu_model_name(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (v == NULL)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strcspn(v, "\n");
        snprintf(out, cap, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

static void add(char *out, size_t cap, const char *name)
{
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s%s", used ? "," : "", name);
}

void siam_cpu_features(char *out, size_t cap)
{
    out[0] = '\0';
    (void)cap; /* unused where the builtins are not available */
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        add(out, cap, "avx2");
    if (__builtin_cpu_supports("fma"))
        add(out, cap, "fma");
    if (__builtin_cpu_supports("avx512f"))
        add(out, cap, "avx512f");
    if (__builtin_cpu_supports("avx512bf16"))
        add(out, cap, "avx512bf16");
#endif
}

void siam_build_features(char *out, size_t cap)
{
    out[0] = '\0';
    (void)cap; /* unused in a build for the baseline x86-64 */
#ifdef __AVX2__
    add(out, cap, "avx2");
#endif
#ifdef __FMA__
    add(out, cap, "fma");
#endif
#ifdef __AVX512F__
    add(out, cap, "avx512f");
#endif
#ifdef __AVX512BF16__
    add(out, cap, "avx512bf16");
#endif
}
