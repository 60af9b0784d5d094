/* What processor this is, for the records a run keeps of how it was
 * produced (config.lua, docs/perf.md figures): the model name the kernel
 * reports and the vector extensions it has. */
#ifndef SIAM_CPU_INFO_H
#define SIAM_CPU_INFO_H

#include <stddef.h>

/* The first "model name" of /proc/cpuinfo into out ("unknown" when there is
 * none). */
void siam_cpu_model_name(char *out, size_t cap);

/* The vector extensions this processor has, of those siamlua's kernels can
 * use, as a comma list ("avx2,fma,avx512f,avx512bf16"; "" when none). */
void siam_cpu_features(char *out, size_t cap);

/* Those the binary was compiled to use (-march), in the same form. */
void siam_build_features(char *out, size_t cap);

#endif
