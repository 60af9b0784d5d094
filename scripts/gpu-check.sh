#!/usr/bin/env bash
# One-call GPU check for a borrowed machine: builds with CUDA=1 (make
# check-cuda), runs every test binary (the operator suites run their "/cuda"
# groups there, tests/test_cuda_backend.c its device checks), runs
# scripts/bench.sh when it exists, and prints a short table. Full logs go to
# $OUT/gpu-check/ when OUT is set (the device tool brings $OUT back), else to
# build-cuda/gpu-check/. Budget: under 5 minutes in all on 16 cores.
#
#   scripts/gpu-check.sh            # build, test, bench
#   scripts/gpu-check.sh --no-bench
#
# Exit status: 0 when everything built and passed and the CUDA tests really
# ran on a GPU; 1 otherwise (including "GPU present but the CUDA tests
# skipped", which means the backend failed to start).
set -u
cd "$(dirname "$0")/.."

BENCH=1
[ "${1:-}" = "--no-bench" ] && BENCH=0
T0=$(date +%s)
LOGS="${OUT:-build-cuda}/gpu-check"
mkdir -p "$LOGS"
JOBS=$(nproc 2>/dev/null || echo 4)
status=0
elapsed() { echo $(($(date +%s) - T0)); }

echo "== gpu-check $(date -u +%FT%TZ) on $(hostname), $JOBS cores"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader \
        | tee "$LOGS/gpu.txt"
    HAVE_GPU=1
else
    echo "nvidia-smi not found: no GPU driver on this machine" | tee "$LOGS/gpu.txt"
    HAVE_GPU=0
fi
grep -h 'define CUDNN_MAJOR\|define CUDNN_MINOR' \
    /usr/local/cuda/include/cudnn_version.h 2>/dev/null \
    | awk '{printf "%s=%s ", $2, $3} END {print ""}'
/usr/local/cuda/bin/nvcc --version 2>/dev/null | tail -1

for h in /usr/include/cmocka.h /usr/include/lua5.4/lua.h /usr/local/cuda/include/cudnn.h; do
    [ -e "$h" ] || { echo "!! missing $h: install the build dependencies (make deps)"; status=1; }
done

# ---- build ----
b0=$(date +%s)
if timeout 200 make -j"$JOBS" check-cuda >"$LOGS/build.log" 2>&1; then
    build="ok"
else
    build="FAILED (see $LOGS/build.log)"
    status=1
    tail -30 "$LOGS/build.log"
fi
build_s=$(($(date +%s) - b0))

# ---- tests ----
rows=()
cuda_skipped=0
cuda_ran=0
if [ "$build" = "ok" ]; then
    # Every binary once with the default batch norm (cuDNN), and the batch
    # norm suite again with SIAM_CUDA_BATCHNORM=own (batchnorm_own.cu).
    runs=()
    for t in build-cuda/tests/test_*; do
        case "$t" in *.d) continue ;; esac
        [ -x "$t" ] && runs+=("$t")
    done
    [ -x build-cuda/tests/test_ops_batchnorm ] && runs+=("build-cuda/tests/test_ops_batchnorm:own")
    for run in "${runs[@]}"; do
        t=${run%%:*}
        bn=cudnn
        [ "$run" != "$t" ] && bn=${run##*:}
        name=$(basename "$t")
        [ "$bn" != cudnn ] && name="$name-bn-$bn"
        log="$LOGS/$name.log"
        s0=$(date +%s)
        SIAM_CUDA_BATCHNORM=$bn CMOCKA_MESSAGE_OUTPUT=STDOUT timeout 90 "$t" >"$log" 2>&1
        rc=$?
        secs=$(($(date +%s) - s0))
        p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
        f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
        k=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
        note=""
        if [ $rc -ne 0 ]; then
            status=1
            note="exit $rc"
            [ $rc -eq 124 ] && note="TIMEOUT"
        fi
        # A device group that skipped although a GPU is present means the
        # backend did not start: that is a failure of this check.
        skip_re='cuda backend cannot start\|cuda backend not built\|cuda: device tests skip'
        if grep -q "$skip_re" "$log"; then
            cuda_skipped=1
            note="$note cuda skipped"
        elif [ "$name" = test_cuda_backend ]; then
            cuda_ran=1
        fi
        rows+=("$(printf '%-26s %6s %6s %7s %6ss  %s' "$name" "$p" "$f" "$k" "$secs" "$note")")
    done
fi

# ---- benchmark ----
bench="not run"
if [ $BENCH -eq 1 ] && [ "$build" = "ok" ] && [ -f scripts/bench.sh ]; then
    left=$((280 - $(elapsed)))
    if [ $left -gt 20 ]; then
        if BUILD=build-cuda SIAMLUA=./build-cuda/siamlua DEVICE=cuda \
            timeout "$left" bash scripts/bench.sh >"$LOGS/bench.log" 2>&1; then
            bench="ok (see $LOGS/bench.log)"
        else
            bench="FAILED or timed out (see $LOGS/bench.log)"
            status=1
        fi
    else
        bench="skipped: no time left"
    fi
elif [ ! -f scripts/bench.sh ]; then
    bench="no scripts/bench.sh"
fi

# ---- report ----
echo
echo "build: $build (${build_s}s)"
printf '%-26s %6s %6s %7s %7s\n' "test binary" "passed" "failed" "skipped" "time"
for r in "${rows[@]}"; do echo "$r"; done
if [ -f "$LOGS/test_cuda_backend.log" ]; then
    echo
    echo "test_cuda_backend: CUDA vs naive double references and a training step vs the CPU:"
    grep -E '^  [a-z]' "$LOGS/test_cuda_backend.log" | sed 's/^/ /'
fi
# The operator suites (tests/support/ops_check.c) announce each group with
# "backend cpu: ..." / "backend cuda: ..."; their comparisons say "diff".
for l in "$LOGS"/test_*.log; do
    case "$l" in *test_cuda_backend.log) continue ;; esac
    grep -q '^backend cuda: ready' "$l" || continue
    echo
    echo "$(basename "$l" .log), cuda group:"
    awk '/^backend cuda/ {on=1; next} /^backend / {on=0} on && /diff/ {print "  " $0}' "$l" \
        | head -60
done
echo
echo "bench: $bench"
[ -f "$LOGS/bench.log" ] && tail -15 "$LOGS/bench.log"
if [ $HAVE_GPU -eq 1 ] && [ $cuda_skipped -eq 1 ]; then
    echo "!! a GPU is present but CUDA tests skipped: the backend did not start (see logs)"
    status=1
fi
if [ $HAVE_GPU -eq 1 ] && [ $cuda_ran -eq 0 ] && [ "$build" = "ok" ]; then
    echo "!! no CUDA test group ran"
    status=1
fi
[ $HAVE_GPU -eq 0 ] && echo "note: no GPU here, so the CUDA paths only compiled and skipped"
echo "gpu-check: $([ $status -eq 0 ] && echo PASS || echo FAIL) in $(elapsed)s; logs in $LOGS"
exit $status
