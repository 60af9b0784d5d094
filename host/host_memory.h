/* How much memory this machine can still give a process, and memory sizes
 * written for people ("19.3 GiB"). Used to refuse a model whose buffers
 * cannot fit before allocating them (host/model.h, siam_model_plan). */
#ifndef SIAM_HOST_MEMORY_H
#define SIAM_HOST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/* Bytes available for new allocations without swapping: MemAvailable from
 * /proc/meminfo (the kernel's estimate, page cache that can be dropped
 * included), else sysconf's free physical pages times the page size; 0 when
 * neither can be read (callers then do not check). */
uint64_t siam_host_memory_available(void);

/* The parser behind it, on the text of a /proc/meminfo: the MemAvailable
 * line in bytes, or 0 when there is none or it does not parse. */
uint64_t siam_meminfo_available(const char *text);

/* `bytes` with one decimal in the largest binary unit that keeps the number
 * at least 1 ("512 B", "1.5 KiB", "19.3 GiB", up to EiB). Returns out. */
char *siam_format_bytes(char *out, size_t cap, uint64_t bytes);

#endif
