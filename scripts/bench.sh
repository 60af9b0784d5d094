#!/usr/bin/env bash
# `make bench`: siamlua against the PyTorch peer on this machine, same
# model, same batch, same thread count. Each measurement runs in its own
# process so its peak RSS is its own. Prints a table and, last, one
# machine-readable line "bench: key=value ...".
# Environment: BUILD (build dir, default build), BENCH_THREADS (default:
# all cores), BENCH_STEPS (timed steps, default 5), BENCH_CONV
# (auto|direct|fft, default auto), LFW_ROOT (default ../shared/lfw or
# /work/shared/lfw), PYTHON (an interpreter with torch; default: the first
# of python3, /usr/bin/python3 that imports it).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
T=${BENCH_THREADS:-$(nproc)}
STEPS=${BENCH_STEPS:-5}
CONV=${BENCH_CONV:-auto}
BIN=$BUILD/tests/bench/bench_model
make -s BUILD="$BUILD" "$BIN" >/dev/null || { echo "bench: cannot build $BIN"; exit 1; }

val() { # $1: output, $2: key -> value of the last "key=value"
    printf '%s\n' "$1" | grep -oE "(^| )$2=[^ ]+" | tail -1 | cut -d= -f2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo "bench: threads=$T steps=$STEPS conv=$CONV load: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A S P
for m in "train 16" "train 32" "infer 128"; do
    set -- $m
    out=$("$BIN" --threads "$T" --steps "$STEPS" --warmup 2 --conv "$CONV" "$1" "$2" 2>&1)
    S[$1$2]=$(val "$out" "$1$2"); S[rss$1$2]=$(val "$out" rss_mib)
    [ -n "${S[$1$2]}" ] || echo "siamlua $1 $2 failed: $out"
done

LFW=${LFW_ROOT:-}
[ -z "$LFW" ] && for d in ../shared/lfw /work/shared/lfw; do [ -d "$d" ] && LFW=$d && break; done
S[load]=n/a
if [ -n "$LFW" ] && [ -f "$LFW/pairsDevTrain.txt" ]; then
    out=$("$BIN" --threads "$T" load "$LFW/pairsDevTrain.txt" "$LFW/lfw-deepfunneled" 2>&1)
    S[load]=$(val "$out" load); S[load]=${S[load]:-n/a}
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for p in python3 /usr/bin/python3; do
        if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
    done
fi
peer=1
if [ -z "$PY" ]; then
    echo "peer: not installed"; peer=0
else
    # glibc malloc tuned so the peer keeps its large buffers between steps
    # (no mmap for big blocks, no trimming): its best configuration here.
    for m in train16 train32 infer128; do
        out=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
              "$PY" scripts/bench_torch.py --threads "$T" --steps "$STEPS" --warmup 2 --only "$m" 2>&1)
        P[$m]=$(val "$out" "$m"); P[rss$m]=$(val "$out" rss_mib)
        [ -n "${P[$m]}" ] || echo "peer $m failed: $out"
    done
fi

row() { # label siamlua peer unit
    printf '%-26s %12s %12s %8s\n' "$1" "$2" "${3:-n/a}" "$(ratio "$2" "${3:-}")"
}
printf '%-26s %12s %12s %8s\n' "measure" "siamlua" "pytorch" "ratio"
row "train pairs/s, batch 16" "${S[train16]}" "${P[train16]:-}"
row "train pairs/s, batch 32" "${S[train32]}" "${P[train32]:-}"
row "infer pairs/s, batch 128" "${S[infer128]}" "${P[infer128]:-}"
row "LFW load images/s" "${S[load]}" ""
row "peak RSS MiB, train 32" "${S[rsstrain32]}" "${P[rsstrain32]:-}"
row "peak RSS MiB, infer 128" "${S[rssinfer128]}" "${P[rssinfer128]:-}"
line="bench: train16=${S[train16]} train32=${S[train32]} infer128=${S[infer128]} load=${S[load]}"
line+=" rss_mib=${S[rsstrain32]} infer_rss_mib=${S[rssinfer128]}"
if [ $peer = 1 ]; then
    line+=" peer_train16=${P[train16]} peer_train32=${P[train32]} peer_infer128=${P[infer128]}"
    line+=" peer_rss_mib=${P[rsstrain32]} ratio_train32=$(ratio "${S[train32]}" "${P[train32]}")"
    line+=" ratio_infer128=$(ratio "${S[infer128]}" "${P[infer128]}")"
else
    line+=" peer=not-installed"
fi
echo "$line threads=$T conv=$CONV"
