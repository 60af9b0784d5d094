#!/usr/bin/env bash
# `make gpu-bundle`: everything scripts/gpu-check.sh needs on a GPU machine
# that has CUDA, cuDNN and cuBLAS but none of our build dependencies, in
# one file, .gpu/siamlua-gpu.tar.xz (the device tool's `carry` takes the
# ignored folder .gpu):
#   bin/     siamlua, bench_model and every test binary with a CUDA group
#            (tests/test_*.c that run the operator suites or call
#            siam_ops_cuda), built with CUDA=1 into build-gpu/ for
#            $GPU_OPT (default -O2 -march=x86-64-v3: the device's processor
#            is an unknown x86-64, and -march=native here would use this
#            machine's AVX-512 and die there with SIGILL; v3 is AVX2 + FMA,
#            which every server since 2015 has and the CPU code's vector
#            paths use), CUDA runtime static, debug sections stripped;
#   lib/     the shared libraries they load that such a machine lacks
#            (Lua, OpenBLAS and its Fortran runtime, stb, libjpeg-turbo, cmocka, libedit
#            and theirs), found with ldd, with the unversioned names a
#            build links against;
#   compat/  the C++ runtime (libstdc++, libgcc_s, libgomp), used only where
#            the machine has none (scripts/gpu-env.sh decides);
#   include/ the headers of those libraries and cuDNN's, for the fallback
#            build on the device when the bundled binaries do not run there;
#   MANIFEST what was built, from which commit, for which processor, and the
#            newest glibc symbol version the binaries need.
# cuDNN, cuBLAS and the driver are not bundled: the device has them
# (scripts/gpu-env.sh finds them). Prints the bundle's size and the working
# tree's, against the device tool's 64 MiB for both.
set -euo pipefail
cd "$(dirname "$0")/.."
OPT=${GPU_OPT:--O2 -march=x86-64-v3}
JOBS=${JOBS:-2}
BUILD=build-gpu
STAGE=$BUILD/bundle
OUT=.gpu
NAME=siamlua-gpu.tar.xz

. scripts/gpu-env.sh
mapfile -t tests < <(siam_gpu_tests)
bins=("$BUILD/siamlua" "$BUILD/tests/bench/bench_model")
for t in "${tests[@]}"; do bins+=("$BUILD/tests/$t"); done
echo "gpu-bundle: building ${#bins[@]} binaries with CUDA=1 OPT='$OPT' into $BUILD/"
make -s -j"$JOBS" CUDA=1 BUILD="$BUILD" OPT="$OPT" "${bins[@]}" >"$BUILD.log" 2>&1 \
    || { tail -30 "$BUILD.log"; echo "gpu-bundle: build failed (log: $BUILD.log)"; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/compat" "$STAGE/include"
for b in "${bins[@]}"; do
    cp "$b" "$STAGE/bin/"
    strip --strip-debug "$STAGE/bin/$(basename "$b")"
done

# Libraries: what ldd resolves, less glibc (the machine's own), the
# dynamic loader, and CUDA's (the machine's, found at run time).
system_re='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|libutil\.so|libresolv\.so)'
cuda_re='^(libcudnn|libcublas|libcudart|libcuda\.so|libnvrtc|libnvJitLink)'
compat_re='^(libstdc\+\+|libgcc_s|libgomp)'
missing=0
while read -r name path; do
    [[ "$name" =~ $system_re || "$name" =~ $cuda_re ]] && continue
    if [ "$path" = "not" ]; then
        echo "gpu-bundle: $name not found here"; missing=1; continue
    fi
    dest=lib
    [[ "$name" =~ $compat_re ]] && dest=compat
    cp -L "$path" "$STAGE/$dest/$name"
done < <(for b in "$STAGE"/bin/*; do ldd "$b"; done | awk '$2 == "=>" {print $1, $3}' | sort -u)
[ $missing -eq 0 ] || exit 1
# The names a build links against (-llua5.4, -lopenblas, ...).
(cd "$STAGE/lib" && for f in *.so.*; do
    base=${f%%.so.*}.so
    [ -e "$base" ] || ln -s "$f" "$base"
done)

# Headers for the fallback build.
blas_inc=$(pkg-config --cflags-only-I openblas 2>/dev/null | sed 's/^-I//; s/ *$//')
mkdir -p "$STAGE/include/lua5.4" "$STAGE/include/openblas" "$STAGE/include/cudnn/include"
cp /usr/include/lua5.4/*.h "$STAGE/include/lua5.4/"
cp /usr/include/cmocka.h /usr/include/cmocka_pbc.h "$STAGE/include/"
cp -r /usr/include/stb "$STAGE/include/"
cp /usr/include/jpeglib.h /usr/include/jerror.h /usr/include/jmorecfg.h "$STAGE/include/"
cp "$(dpkg -L libjpeg62-turbo-dev 2>/dev/null | grep '/jconfig\.h$' | head -1 || echo /usr/include/x86_64-linux-gnu/jconfig.h)" "$STAGE/include/"
cp "${blas_inc:-/usr/include/x86_64-linux-gnu/openblas-pthread}"/*.h "$STAGE/include/openblas/"
cudnn_h=$(ls "${CUDA_HOME:-/usr/local/cuda}"/include/cudnn*.h /usr/include/cudnn*.h 2>/dev/null || true)
[ -n "$cudnn_h" ] && cp $cudnn_h "$STAGE/include/cudnn/include/"

glibc=$(for b in "$STAGE"/bin/* "$STAGE"/lib/*.so.*; do objdump -T "$b" 2>/dev/null; done \
        | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sort -t. -k2 -n -u | tail -1)
{
    echo "siamlua GPU bundle"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty)"
    echo "built: $(date -u +%FT%TZ) on $(uname -m), $(. /etc/os-release && echo "$PRETTY_NAME"), $(cc --version | head -1)"
    echo "opt: $OPT"
    echo "cuda: $("${CUDA_HOME:-/usr/local/cuda}"/bin/nvcc --version | tail -1); code sm_90 + compute_90 PTX; runtime static"
    echo "cudnn headers: $(grep -h 'define CUDNN_MAJOR\|define CUDNN_MINOR\|define CUDNN_PATCHLEVEL' "${CUDA_HOME:-/usr/local/cuda}"/include/cudnn_version.h 2>/dev/null | awk '{printf "%s%s", sep, $3; sep="."}')"
    echo "needs: $glibc or newer; x86-64-v3 (avx2 fma bmi2); the machine's libcudnn.so.9 and libcublas.so.13"
    echo "tests: ${tests[*]}"
    echo "files:"
    (cd "$STAGE" && find . -type f -o -type l | sort | while read -r f; do
        printf '  %-44s %s\n' "$f" "$(du -k --apparent-size "$f" | cut -f1)K"; done)
} >"$STAGE/MANIFEST"

mkdir -p "$OUT"
rm -f "$OUT/$NAME"
tar -C "$STAGE" -cJf "$OUT/$NAME" .
cp "$STAGE/MANIFEST" "$OUT/MANIFEST"
bundle_kib=$(du -k "$OUT/$NAME" | cut -f1)
tree_kib=$(git ls-files -z | xargs -0 du -k --apparent-size -c 2>/dev/null | tail -1 | cut -f1)
untracked_kib=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -k --apparent-size -c 2>/dev/null | tail -1 | cut -f1)
total=$((bundle_kib + tree_kib + ${untracked_kib:-0}))
echo "gpu-bundle: $OUT/$NAME $((bundle_kib / 1024)) MiB ($(du -sk "$STAGE" | cut -f1 | awk '{printf "%d", $1 / 1024}') MiB unpacked;" \
     "$(ls "$STAGE/bin" | wc -l) binaries, $(ls "$STAGE/lib" | grep -c '\.so\.') libraries, needs $glibc)"
echo "gpu-bundle: travelling with the working tree ($((tree_kib / 1024)) MiB tracked, $((${untracked_kib:-0} / 1024)) MiB untracked): $((total / 1024)) MiB of 64"
[ "$total" -lt $((60 * 1024)) ] || { echo "gpu-bundle: over the 60 MiB this script allows (64 with margin)"; exit 1; }
