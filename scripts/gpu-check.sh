#!/usr/bin/env bash
# The GPU check for a borrowed machine, in one call (docs/cuda.md, "Running
# it on a GPU", gives the command for the device tool):
#  1. the machine: GPU, driver, processor, glibc, and where cuDNN, cuBLAS,
#     NVRTC and the driver library are (scripts/gpu-env.sh);
#  2. the binaries: the prebuilt bundle (.gpu/siamlua-gpu.tar.xz, from
#     `make gpu-bundle`) when it runs here, else a build here with the
#     bundle's headers and libraries and this machine's cuDNN (also when
#     GPU_CHECK_BUILD=1); it says which and why;
#  3. the binaries with CUDA groups (siam_gpu_tests), test_cuda_backend
#     first, the batch-norm ones again with SIAM_CUDA_BATCHNORM=own, one
#     line per binary as it finishes, all within GPU_CHECK_TESTS_S (240 s)
#     so that a hang still reports; every failing assertion's message;
#  4. the GPU benchmark (scripts/bench.sh, DEVICE=cuda) in what is left of
#     GPU_CHECK_TOTAL_S (540 s), unless --no-bench;
#  5. every log as one tarball, $OUT/gpu-check-logs.tar.gz (build-gpu/
#     without OUT), and last a summary under 6,000 characters (also
#     $OUT/gpu-check-summary.txt).
# Exit status 0: everything that ran passed and, where there is a GPU, the
# CUDA groups really ran on it; 1 otherwise. Without a GPU (or a driver) it
# runs end to end all the same: it says "no GPU", the CUDA groups skip and
# the CPU groups must pass.
set -u
cd "$(dirname "$0")/.."
T0=$(date +%s)
TESTS_S=${GPU_CHECK_TESTS_S:-240}
TOTAL_S=${GPU_CHECK_TOTAL_S:-540}
BENCH=1
[ "${1:-}" = "--no-bench" ] && BENCH=0
DEST=${OUT:-build-gpu}
mkdir -p "$DEST"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
LOGS=$WORK/gpu-check
mkdir -p "$LOGS"
SUM=$LOGS/summary.txt
: >"$SUM"
status=0
elapsed() { echo $(($(date +%s) - T0)); }
# A line for the log, and for the summary too.
say() { echo "$*"; echo "$*" >>"$SUM"; }

# ---- 1. the machine ----
say "== gpu-check $(date -u +%FT%TZ) on $(hostname 2>/dev/null || echo ?), $(nproc) cores"
HAVE_GPU=0
if command -v nvidia-smi >/dev/null 2>&1 &&
    gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1); then
    say "gpu: $gpu"
    HAVE_GPU=1
else
    say "gpu: no GPU (nvidia-smi ${gpu:+failed: $gpu}${gpu:-not found}): the CUDA groups will skip"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
flags=""
for f in avx2 fma bmi2 avx512f; do grep -qw "$f" /proc/cpuinfo 2>/dev/null && flags+=" $f"; done
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>/dev/null | head -1)
os=$( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || uname -sr)
say "host: ${cpu:-unknown cpu} (${flags# }); $os; $glibc"

BUNDLE_TAR=.gpu/siamlua-gpu.tar.xz
B=$WORK/bundle
mkdir -p "$B"
if [ -f "$BUNDLE_TAR" ]; then
    tar -C "$B" -xJf "$BUNDLE_TAR" && say "bundle: $(grep -E '^(commit|opt):' "$B/MANIFEST" | tr '\n' ' ')"
fi
. scripts/gpu-env.sh
siam_gpu_env "$B" >"$LOGS/env.txt"
tee -a "$SUM" <"$LOGS/env.txt"
[ -n "$SIAM_GPU_MISSING" ] &&
    say "!! not found on this machine:$SIAM_GPU_MISSING (SIAM_CUDA_LIBS=dir:dir names more folders to search)"

# ---- 2. the binaries ----
mapfile -t TESTS < <(siam_gpu_tests)
why=""
if [ "${GPU_CHECK_BUILD:-0}" = 1 ]; then
    why="GPU_CHECK_BUILD=1 asks for it"
elif [ ! -f "$BUNDLE_TAR" ]; then
    why="no bundle ($BUNDLE_TAR: make gpu-bundle, and carry .gpu)"
elif ! grep -qw avx2 /proc/cpuinfo || ! grep -qw fma /proc/cpuinfo || ! grep -qw bmi2 /proc/cpuinfo; then
    why="this processor lacks AVX2/FMA/BMI2 and the bundle is built for x86-64-v3"
else
    need=$(grep -oE 'GLIBC_[0-9]+\.[0-9]+' "$B/MANIFEST" | head -1 | cut -d_ -f2)
    have=$(echo "$glibc" | grep -oE '[0-9]+\.[0-9]+' | head -1)
    if [ -n "$need" ] && [ -n "$have" ] && awk -v n="$need" -v h="$have" 'BEGIN {
            split(n, a, "."); split(h, b, "."); exit !(b[1] < a[1] || (b[1] == a[1] && b[2] < a[2])) }'; then
        why="glibc $have here, the bundle needs $need"
    fi
fi
if [ -z "$why" ]; then
    for f in "$B"/bin/*; do
        nf=$(siam_gpu_ldd "$f" | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
        [ -n "$nf" ] && { why="$(basename "$f") cannot load: $nf"; break; }
    done
fi
if [ -z "$why" ]; then
    LD_LIBRARY_PATH=$SIAM_GPU_LIBPATH "$B/bin/siamlua" -e 'assert(siam.has_cuda)' >"$LOGS/smoke.log" 2>&1
    rc=$?
    [ $rc -eq 132 ] && why="the bundled siamlua died with SIGILL (an instruction this processor lacks)"
    [ $rc -ne 0 ] && [ -z "$why" ] && why="the bundled siamlua failed (exit $rc): $(tail -1 "$LOGS/smoke.log")"
fi
if [ -z "$why" ]; then
    BIN=$B/bin
    say "path: the prebuilt bundle ($BIN)"
else
    say "path: building here, because $why"
    BUILD=build-gpu-here
    cudnn=$(dirname "$(siam_gpu_find libcudnn.so.9 | head -1 | cut -d' ' -f2)")
    cublas=$(dirname "$(siam_gpu_find libcublas.so.13 | head -1 | cut -d' ' -f2)")
    cudnn_home=""
    if [ -f "$cudnn/../include/cudnn.h" ]; then cudnn_home=$(cd "$cudnn/.." && pwd)
    elif [ ! -f "${CUDA_HOME:-/usr/local/cuda}/include/cudnn.h" ] && [ -f "$B/include/cudnn/include/cudnn.h" ]; then
        cudnn_home=$B/include/cudnn
    fi
    targets=("$BUILD/siamlua" "$BUILD/tests/bench/bench_model")
    for t in "${TESTS[@]}"; do targets+=("$BUILD/tests/$t"); done
    b0=$(date +%s)
    timeout 300 make -j"$(nproc)" CUDA=1 BUILD="$BUILD" OPT="-O2 -march=native" \
        CUDNN_HOME="$cudnn_home" CUDNN_LIB="-L$cudnn -l:libcudnn.so.9" \
        CUBLAS_LIB="-L$cublas -Wl,-rpath-link,$cublas -l:libcublas.so.13" \
        LUA_CFLAGS="-isystem $B/include/lua5.4" LUA_LIBS="-L$B/lib -llua5.4" \
        BLAS_CFLAGS="-isystem $B/include/openblas" BLAS_LIBS="-L$B/lib -lopenblas" \
        CFLAGS_EXTRA="-isystem $B/include -L$B/lib -Wl,-rpath-link,$B/lib" \
        "${targets[@]}" >"$LOGS/build.log" 2>&1
    rc=$?
    say "build: $([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $(($(date +%s) - b0)) s (cuDNN include: ${cudnn_home:-CUDA_HOME/include})"
    if [ $rc -ne 0 ]; then
        grep -m8 -E 'error:|Error [0-9]|No rule|undefined reference' "$LOGS/build.log" | cut -c1-200 | tee -a "$SUM"
        status=1
    fi
    BIN=$WORK/bin
    mkdir -p "$BIN"
    for t in "${targets[@]}"; do [ -x "$t" ] && cp "$t" "$BIN/"; done
fi

# ---- 3. the tests ----
say ""
say "$(printf '%-30s %6s %6s %7s %6s  %s' "test binary" "passed" "failed" "skipped" "time" "note")"
runs=(test_cuda_backend)
for t in "${TESTS[@]}"; do [ "$t" != test_cuda_backend ] && runs+=("$t"); done
runs+=(test_cuda_backend:own test_ops_batchnorm:own)
tests_end=$(($(date +%s) + TESTS_S))
cuda_skipped=0
cuda_ran=0
failures=$LOGS/failures.txt
: >"$failures"
skip_re='cuda backend cannot start|cuda backend not built|cuda: device tests skip'
buffer=()
command -v stdbuf >/dev/null 2>&1 && buffer=(stdbuf -oL -eL)
for run in "${runs[@]}"; do
    t=${run%%:*}
    bn=cudnn
    [ "$run" != "$t" ] && bn=${run##*:}
    name=$t
    [ "$bn" != cudnn ] && name="$t (bn $bn)"
    log=$LOGS/$t$([ "$bn" != cudnn ] && echo "-bn-$bn").log
    left=$((tests_end - $(date +%s)))
    if [ ! -x "$BIN/$t" ]; then
        say "$(printf '%-30s %6s %6s %7s %6s  %s' "$name" - - - - "not built")"
        status=1
        continue
    fi
    if [ $left -lt 5 ]; then
        say "$(printf '%-30s %6s %6s %7s %6s  %s' "$name" - - - - "not run: the ${TESTS_S} s deadline passed")"
        status=1
        continue
    fi
    limit=$((left < 150 ? left : 150))
    s0=$(date +%s)
    SIAM_CUDA_BATCHNORM=$bn CMOCKA_MESSAGE_OUTPUT=STDOUT LD_LIBRARY_PATH=$SIAM_GPU_LIBPATH \
        timeout "$limit" "${buffer[@]}" "$BIN/$t" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - s0))
    p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    k=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    note=""
    if [ $rc -ne 0 ]; then
        status=1
        note="exit $rc"
        [ $rc -eq 124 ] && note="TIMEOUT after ${limit} s"
    fi
    if grep -qE "$skip_re" "$log"; then
        cuda_skipped=1
        note+="${note:+, }cuda skipped"
    elif grep -qE '^backend cuda: ready|^cuda: device: ' "$log"; then
        cuda_ran=1
    fi
    say "$(printf '%-30s %6s %6s %7s %5ss  %s' "$name" "$p" "$f" "$k" "$secs" "$note")"
    # Each failed test: the lines its failure printed (message, file:line).
    awk -v who="$name" '
        /^\[ RUN      \]/ { run = 1; n = 0; next }
        run && /^\[  FAILED  \] / {
            print who ": " $4
            for (i = (n > 6 ? n - 6 : 0); i < n; i++) print "    " buf[i]
            run = 0; next }
        /^\[       OK \]|^\[  SKIPPED \]/ { run = 0 }
        run { buf[n++] = $0 }' "$log" | tee -a "$failures" | cut -c1-200
done
grep -hE '^cuda: (device: |device tests skip: )' "$LOGS"/test_cuda_backend.log 2>/dev/null |
    head -1 | cut -c1-300 | tee -a "$SUM"

# ---- 4. the benchmark ----
bench="not run (--no-bench)"
if [ $BENCH -eq 1 ]; then
    left=$((T0 + TOTAL_S - $(date +%s) - 15))
    if [ ! -x "$BIN/bench_model" ]; then
        bench="not run: no bench_model"
    elif [ $left -lt 30 ]; then
        bench="not run: no time left"
    else
        SIAM_LD_PATH=$SIAM_GPU_LIBPATH DEVICE=cuda BENCH_BIN="$BIN/bench_model" \
            SIAMLUA="$BIN/siamlua" BENCH_NO_BUILD=1 BENCH_DEADLINE=$((T0 + TOTAL_S - 25)) \
            timeout "$left" bash scripts/bench.sh >"$LOGS/bench.log" 2>&1
        rc=$?
        if [ $rc -ne 0 ]; then
            bench="FAILED (exit $rc$([ $rc -eq 124 ] && echo ', timed out'))"
            status=1
        elif grep -q 'cuda not available' "$LOGS/bench.log"; then
            bench="cuda not available"
            [ $HAVE_GPU -eq 1 ] && status=1
        else
            bench="ok"
        fi
    fi
fi

# ---- 5. logs and the summary ----
{
    echo
    echo "bench: $bench"
    [ -f "$LOGS/bench.log" ] && grep -vE '^(siamlua|peer):' "$LOGS/bench.log" | tail -22 | cut -c1-150
    if [ -s "$failures" ]; then
        echo
        echo "failing assertions (all in failures.txt):"
        head -30 "$failures" | cut -c1-150
    fi
    if [ -f "$LOGS/test_cuda_backend.log" ] && [ $cuda_ran -eq 1 ]; then
        echo
        echo "test_cuda_backend measurements (all in its log):"
        grep -E '^  [a-z]' "$LOGS/test_cuda_backend.log" | grep -v '^  log: ' | cut -c1-100 | head -30
        grep -E '^  log: ' "$LOGS/test_cuda_backend.log" | cut -c1-150 | head -6
    fi
} >>"$SUM"
notes=""
if [ $HAVE_GPU -eq 1 ] && [ $cuda_skipped -eq 1 ]; then
    notes+="!! a GPU is present but CUDA groups skipped: the backend did not start (see the logs)"$'\n'
    status=1
fi
if [ $HAVE_GPU -eq 1 ] && [ $cuda_ran -eq 0 ]; then
    notes+="!! a GPU is present but no CUDA group ran"$'\n'
    status=1
fi
[ $HAVE_GPU -eq 0 ] && notes+="note: no GPU here: every CUDA group skipped; the CPU groups ran from the $([ "$BIN" = "$B/bin" ] && echo bundle || echo build made here)"$'\n'
notes+="gpu-check: $([ $status -eq 0 ] && echo PASS || echo FAIL) in $(elapsed) s; logs: $DEST/gpu-check-logs.tar.gz"
# The summary, last (the end of the output is what comes back), cut to
# 5,800 characters with its verdict kept.
echo
echo "======== summary ========"
head -c $((5800 - ${#notes})) "$SUM"
printf '%s\n' "$notes"
printf '%s\n' "$notes" >>"$SUM"
cp "$SUM" "$DEST/gpu-check-summary.txt"
tar -C "$WORK" -czf "$DEST/gpu-check-logs.tar.gz" gpu-check
rm -rf "$WORK"
exit $status
