#!/usr/bin/env bash
# Builds build/data_tool (scripts/data_tool.c over build/libsiam.a) when it is
# missing or older than the library, then runs it with the given arguments.
# Sourced by scripts/data_summary.sh and scripts/bench_data.sh; run from the
# repository root.
set -eu
cd "$(dirname "$0")/.."
make -s build/libsiam.a >/dev/null
tool=build/data_tool
if [ ! -x "$tool" ] || [ build/libsiam.a -nt "$tool" ] || [ scripts/data_tool.c -nt "$tool" ]; then
    blas_cflags=$(pkg-config --cflags openblas 2>/dev/null || true)
    blas_libs=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -I. $blas_cflags -fopenmp scripts/data_tool.c \
        build/libsiam.a $blas_libs -lstb -ljpeg -lm -lpthread -fopenmp -o "$tool"
fi
exec "$tool" "$@"
