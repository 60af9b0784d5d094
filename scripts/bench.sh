#!/usr/bin/env bash
# `make bench`: siamlua against the PyTorch peer on this machine, same
# model, same batch, same thread count. Each siamlua measurement runs in its
# own process so its peak RSS is its own. Prints a table and, last, one
# machine-readable line "bench: key=value ...".
#   make bench                 the CPU (DEVICE=cpu)
#   make bench DEVICE=cuda     the GPU: build-cuda/, training at batch 16, 32
#                              and 128 pairs and inference at 128 and 512, in
#                              FP32 and with TF32 allowed, against PyTorch
#                              with cudnn.benchmark off and on; then the seed's
#                              whole 25-epoch run (scripts/bench_fit.lua and
#                              bench_torch.py --fit). Where no GPU answers it
#                              says "cuda not available" and exits 0.
# Environment: DEVICE (cpu|cuda), BUILD (build dir: build, or build-cuda for
# cuda), SIAMLUA (the interpreter for the fit run), BENCH_THREADS (default:
# all cores), BENCH_STEPS (timed steps: 5 on the CPU, 20 on the GPU),
# BENCH_REPEAT (CPU: rounds of every measurement, siamlua and the peer
# alternating; the table gives medians and ranges; default 3),
# BENCH_CONV (CPU: auto|direct|fft, default auto), BENCH_FIT (cuda: epochs of
# the whole run, default 25, 0 skips it), BENCH_DEADLINE (cuda: a date +%s
# after which no further measurement starts), BENCH_NO_BUILD=1 (use the
# binaries as they are, e.g. a prebuilt bundle's), LFW_ROOT (default
# ../shared/lfw or /work/shared/lfw), PYTHON (an interpreter with torch;
# default: the first of python3, /usr/bin/python3 that imports it),
# SIAM_LD_PATH (cuda: LD_LIBRARY_PATH for siamlua's binaries alone, as
# scripts/gpu-env.sh finds it; PyTorch keeps its own).
set -u
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cpu}
T=${BENCH_THREADS:-$(nproc)}
CONV=${BENCH_CONV:-auto}

val() { # $1: output, $2: key -> value of the last "key=value"
    printf '%s\n' "$1" | grep -oE "(^| )$2=[^ ]+" | tail -1 | cut -d= -f2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
best() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" && b == "") print ""; else if (b == "" || a + 0 > b + 0) print a; else print b }'; }

PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for p in python3 /usr/bin/python3; do
        if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
    done
fi

# Our binaries, with their library path where one is given.
ours() { if [ -n "${SIAM_LD_PATH:-}" ]; then LD_LIBRARY_PATH=$SIAM_LD_PATH "$@"; else "$@"; fi; }

if [ "$DEVICE" = cuda ]; then
    BUILD=${BUILD:-build-cuda}
    SIAMLUA=${SIAMLUA:-./$BUILD/siamlua}
    BIN=${BENCH_BIN:-$BUILD/tests/bench/bench_model}
    STEPS=${BENCH_STEPS:-20}
    FIT=${BENCH_FIT:-25}
    DEADLINE=${BENCH_DEADLINE:-$(($(date +%s) + 3600))}
    if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
        make -s CUDA=1 BUILD="$BUILD" "$BIN" "${SIAMLUA#./}" >/dev/null \
            || { echo "bench: cannot build $BIN"; exit 1; }
    fi
    probe=$(ours "$BIN" --device cuda --steps 1 --warmup 0 infer 1 2>&1)
    if [ $? -eq 3 ]; then
        echo "bench: $(printf '%s\n' "$probe" | grep -m1 'cuda not available' | sed 's/^siamlua: //')"
        echo "bench: device=cuda not-available"
        exit 0
    fi
    printf '%s\n' "$probe" | grep -m1 'device=cuda' | sed 's/^siamlua: /bench: /'
    echo "bench: steps=$STEPS (after 3 warm-up steps; CUDA events) load: $(cut -d' ' -f1-3 /proc/loadavg)"
    declare -A S P
    sizes="train16 train32 train128 infer128 infer512"
    for prec in fp32 tf32; do
        for m in $sizes; do
            [ "$(date +%s)" -lt "$DEADLINE" ] || { echo "bench: deadline: $m $prec not run"; continue; }
            kind=${m%%[0-9]*}; b=${m#"$kind"}
            # The cuDNN algorithms of the paper network's layers, once per precision.
            verbose=0; [ "$m" = train32 ] && verbose=1
            out=$(SIAM_CUDA_VERBOSE=$verbose ours "$BIN" --device cuda \
                  --tf32 $([ $prec = tf32 ] && echo 1 || echo 0) --steps "$STEPS" --warmup 3 \
                  "$kind" "$b" 2>&1)
            [ $verbose = 1 ] && printf '%s\n' "$out" | grep '^cuda: conv2d' | sed "s/^cuda: /$prec: /"
            S[$m.$prec]=$(val "$out" "$m")
            [ -n "${S[$m.$prec]}" ] || echo "siamlua $m $prec failed: $(printf '%s' "$out" | tail -3)"
        done
    done
    if [ -z "$PY" ]; then
        echo "peer: not installed"
    elif [ "$(date +%s)" -lt "$DEADLINE" ]; then
        out=$(PYTHONUNBUFFERED=1 "$PY" scripts/bench_torch.py --device cuda --steps "$STEPS" \
              --warmup 3 --only "${sizes// /,}" --configs fp32.b0,fp32.b1,tf32.b0,tf32.b1 2>&1)
        printf '%s\n' "$out" | grep -m1 'torch=' | sed 's/^peer: /bench: peer /'
        for m in $sizes; do
            for c in fp32.b0 fp32.b1 tf32.b0 tf32.b1; do P[$m.$c]=$(val "$out" "$m.$c"); done
        done
        [ -n "${P[train32.fp32.b0]}" ] || echo "peer failed: $(printf '%s' "$out" | tail -5)"
    fi
    echo
    echo "pairs/s (siamlua: its training step, loss and checks read back; PyTorch: loss.item() per step)"
    printf '%-18s %9s %9s %9s %6s | %9s %9s %9s %6s\n' "measure" "siam fp32" "torch b0" "torch b1" \
        "ratio" "siam tf32" "torch b0" "torch b1" "ratio"
    line="bench: device=cuda"
    for m in $sizes; do
        f=${S[$m.fp32]:-}; t=${S[$m.tf32]:-}
        bf=$(best "${P[$m.fp32.b0]:-}" "${P[$m.fp32.b1]:-}"); bt=$(best "${P[$m.tf32.b0]:-}" "${P[$m.tf32.b1]:-}")
        printf '%-18s %9s %9s %9s %6s | %9s %9s %9s %6s\n' "$m" "${f:-n/a}" "${P[$m.fp32.b0]:-n/a}" \
            "${P[$m.fp32.b1]:-n/a}" "$(ratio "$f" "$bf")" "${t:-n/a}" "${P[$m.tf32.b0]:-n/a}" \
            "${P[$m.tf32.b1]:-n/a}" "$(ratio "$t" "$bt")"
        line+=" $m=${f:-n/a} ${m}_tf32=${t:-n/a} peer_$m=${bf:-n/a} peer_${m}_tf32=${bt:-n/a}"
    done
    echo "(ratio: siamlua over the faster PyTorch setting; b0/b1: cudnn.benchmark off/on)"
    if [ "$FIT" -gt 0 ]; then
        echo
        echo "the seed's run: $FIT epochs, 1,760 pairs, batch 32, validation on 440 each epoch (the seed report: 6.4 min on its GPU)"
        for prec in fp32 tf32; do
            [ "$(date +%s)" -lt "$DEADLINE" ] || { echo "fit $prec: deadline, not run"; continue; }
            flag=(); [ $prec = tf32 ] && flag=(--tf32)
            out=$(ours "$SIAMLUA" --device cuda "${flag[@]}" scripts/bench_fit.lua epochs="$FIT" 2>&1)
            s=$(val "$out" seconds)
            printf '%-22s %10s s  %s\n' "siamlua $prec" "${s:-failed}" \
                "$(printf '%s\n' "$out" | grep -oE 'stopped=[^ ]+|val_acc_last=[^ ]+|data_seconds=[^ ]+' | tr '\n' ' ')"
            [ -n "$s" ] || printf '%s\n' "$out" | tail -3
            line+=" fit_$prec=${s:-n/a}"
            if [ -n "$PY" ] && [ "$(date +%s)" -lt "$DEADLINE" ]; then
                out=$(PYTHONUNBUFFERED=1 "$PY" scripts/bench_torch.py --device cuda --fit "$FIT" \
                      --configs "$prec.b1" 2>&1)
                s=$(val "$out" "fit.$prec.b1")
                printf '%-22s %10s s  %s\n' "pytorch $prec b1" "${s:-failed}" \
                    "$(printf '%s\n' "$out" | grep -oE 'val_acc_last=[^ ]+')"
                [ -n "$s" ] || printf '%s\n' "$out" | tail -3
                line+=" peer_fit_$prec=${s:-n/a}"
            fi
        done
    fi
    echo "$line"
    exit 0
fi

BUILD=${BUILD:-build}
STEPS=${BENCH_STEPS:-5}
BIN=$BUILD/tests/bench/bench_model
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    make -s BUILD="$BUILD" "$BIN" >/dev/null || { echo "bench: cannot build $BIN"; exit 1; }
fi

REPEAT=${BENCH_REPEAT:-3}
echo "bench: device=cpu threads=$T steps=$STEPS repeat=$REPEAT conv=$CONV load: $(cut -d' ' -f1-3 /proc/loadavg)"
LFW=${LFW_ROOT:-}
[ -z "$LFW" ] && for d in ../shared/lfw /work/shared/lfw; do [ -d "$d" ] && LFW=$d && break; done
peer=1
[ -z "$PY" ] && { echo "peer: not installed"; peer=0; }
# Each measurement runs REPEAT times, siamlua and the peer one after the
# other within a round, so that a slow spell of a shared machine falls on
# both; the table shows the median of the rounds and their range.
declare -A S P R Q
for ((r = 1; r <= REPEAT; r++)); do
    for m in "train 16" "train 32" "infer 128"; do
        set -- $m
        out=$("$BIN" --threads "$T" --steps "$STEPS" --warmup 2 --conv "$CONV" "$1" "$2" 2>&1)
        v=$(val "$out" "$1$2")
        [ -n "$v" ] || echo "siamlua $1 $2 failed: $out"
        S[$1$2]+="${v:+$v }"; S[rss$1$2]+="$(val "$out" rss_mib) "
        if [ $peer = 1 ]; then
            # glibc malloc tuned so the peer keeps its large buffers between
            # steps (no mmap for big blocks, no trimming): its best
            # configuration here.
            out=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
                  "$PY" scripts/bench_torch.py --threads "$T" --steps "$STEPS" --warmup 2 --only "$1$2" 2>&1)
            v=$(val "$out" "$1$2")
            [ -n "$v" ] || echo "peer $1$2 failed: $out"
            P[$1$2]+="${v:+$v }"; P[rss$1$2]+="$(val "$out" rss_mib) "
        fi
    done
    if [ -n "$LFW" ] && [ -f "$LFW/pairsDevTrain.txt" ]; then
        out=$("$BIN" --threads "$T" load "$LFW/pairsDevTrain.txt" "$LFW/lfw-deepfunneled" 2>&1)
        S[load]+="$(val "$out" load) "
    fi
done

med() { # values separated by spaces -> their median ("" if none)
    printf '%s\n' $1 | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
span() { # values -> "min-max" (or the one value)
    printf '%s\n' $1 | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END {
        if (NR == 0) print "n/a"; else if (NR == 1 || lo == hi) print lo; else print lo "-" hi }'
}
for k in train16 train32 infer128 load rsstrain32 rssinfer128; do
    R[$k]="${S[$k]:-}"; S[$k]=$(med "${S[$k]:-}")
    Q[$k]="${P[$k]:-}"; P[$k]=$(med "${P[$k]:-}")
done
S[load]=${S[load]:-n/a}

row() { # label key: the medians, their ratio, and each side's range over the rounds
    printf '%-26s %10s %10s %7s   %-16s %s\n' "$1" "${S[$2]:-n/a}" "${P[$2]:-n/a}" \
        "$(ratio "${S[$2]:-}" "${P[$2]:-}")" "$(span "${R[$2]:-}")" "$(span "${Q[$2]:-}")"
}
printf '%-26s %10s %10s %7s   %-16s %s\n' "measure (cpu, median)" "siamlua" "pytorch" "ratio" \
    "siamlua range" "pytorch range"
row "train pairs/s, batch 16" train16
row "train pairs/s, batch 32" train32
row "infer pairs/s, batch 128" infer128
row "LFW load images/s" load
row "peak RSS MiB, train 32" rsstrain32
row "peak RSS MiB, infer 128" rssinfer128
line="bench: device=cpu train16=${S[train16]} train32=${S[train32]} infer128=${S[infer128]} load=${S[load]}"
line+=" rss_mib=${S[rsstrain32]} infer_rss_mib=${S[rssinfer128]}"
if [ $peer = 1 ]; then
    line+=" peer_train16=${P[train16]} peer_train32=${P[train32]} peer_infer128=${P[infer128]}"
    line+=" peer_rss_mib=${P[rsstrain32]} ratio_train32=$(ratio "${S[train32]}" "${P[train32]}")"
    line+=" ratio_infer128=$(ratio "${S[infer128]}" "${P[infer128]}")"
else
    line+=" peer=not-installed"
fi
echo "$line threads=$T conv=$CONV"
