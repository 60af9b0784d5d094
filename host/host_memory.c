/* Available memory and human-readable sizes (host/host_memory.h). */
#include "host/host_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t siam_meminfo_available(const char *text)
{
    const char *p = strstr(text, "MemAvailable:");
    if (!p || (p != text && p[-1] != '\n'))
        return 0;
    p += strlen("MemAvailable:");
    char *end;
    unsigned long long kb = strtoull(p, &end, 10);
    if (end == p)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    /* The kernel always writes kB (meaning KiB); anything else is not a
     * meminfo we understand. */
    if (strncmp(end, "kB", 2) != 0 || kb > UINT64_MAX / 1024)
        return 0;
    return (uint64_t)kb * 1024;
}

uint64_t siam_host_memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char text[8192];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        uint64_t avail = siam_meminfo_available(text);
        if (avail)
            return avail;
    }
    long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)size;
}

char *siam_format_bytes(char *out, size_t cap, uint64_t bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (bytes < 1024) {
        snprintf(out, cap, "%llu B", (unsigned long long)bytes);
        return out;
    }
    double v = (double)bytes / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
    return out;
}
