# Sourced by scripts/gpu-check.sh and scripts/gpu-bundle-test.sh (bash):
# where this machine keeps what the CUDA build of siamlua loads but does not
# carry: cuDNN 9 (libcudnn.so.9 and its sub-libraries beside it), cuBLAS 13
# (libcublas.so.13, libcublasLt.so.13), NVRTC (cuDNN's run-time compiled
# kernels) and the driver (libcuda.so.1). Each is searched for with find
# under the CUDA toolkits, the system library folders, the driver's mount
# and the Python environments' nvidia/*/lib folders (PyTorch's wheels), so
# no one layout is assumed; SIAM_CUDA_LIBS (folders, ':'-separated) is
# searched first. Prints one "gpu-env:" line per library (where, version,
# and the other places it was seen).
#   siam_gpu_env BUNDLE_DIR   sets SIAM_GPU_LIBPATH, the LD_LIBRARY_PATH for
#                             our binaries only (never exported: PyTorch
#                             must keep its own libraries): BUNDLE_DIR/lib,
#                             the folders found, and BUNDLE_DIR/compat (the
#                             C++ runtime) only when the machine has none;
#                             SIAM_GPU_MISSING lists what could not be found.
#   siam_gpu_ldd FILE         ldd (the loader's --list where ldd is absent)
#                             with SIAM_GPU_LIBPATH.
#   siam_gpu_tests            the test binaries with CUDA groups (those that
#                             run the operator suites or call siam_ops_cuda),
#                             from the sources: what the bundle carries and
#                             gpu-check runs.

siam_gpu_roots() {
    local r
    if [ -n "${SIAM_CUDA_LIBS:-}" ]; then
        local IFS=:
        for r in $SIAM_CUDA_LIBS; do echo "$r"; done
    fi
    for r in "${CUDA_HOME:-/usr/local/cuda}" /usr/local/cuda* /usr/lib/x86_64-linux-gnu /usr/lib64 \
             /usr/local/nvidia /usr/lib/wsl /opt /usr/local/lib /usr/lib/python3* \
             "$HOME/.local/lib"; do
        [ -d "$r" ] && echo "$r"
    done
}

# Every file named like one of the arguments under the roots (symbolic
# links resolved), one "name path" per line, in the order the roots are
# searched, duplicates removed: one pass over the folders for all names.
siam_gpu_find() {
    local expr=() n r
    for n in "$@"; do expr+=(${expr[0]+-o} -name "$n"); done
    siam_gpu_roots | while read -r r; do
        find "$r" -maxdepth 9 -follow \( "${expr[@]}" \) 2>/dev/null
    done | while read -r f; do echo "$(basename "$f") $(readlink -f "$f")"; done | awk '!seen[$0]++'
}

# A library file's version where the file says it: a name with the full
# version (libcudnn.so.9.19.0), or the Python wheel that installed it (the
# site-packages/*.dist-info whose RECORD lists the file, e.g.
# nvidia_cudnn_cu13-9.19.0.56.dist-info); else "".
siam_gpu_version() {
    local f=$1 base d sp w
    base=$(basename "$f")
    case $base in *.so.*.*) echo "${base#*.so.}"; return ;; esac
    d=$(dirname "$f")
    sp=${d%/nvidia/*}
    [ "$sp" != "$d" ] || return 0
    for w in "$sp"/*.dist-info; do
        if [ -f "$w/RECORD" ] && grep -q "/$base," "$w/RECORD"; then
            basename "$w" .dist-info | sed 's/^[^-]*-//'
            return
        fi
    done
}

siam_gpu_ldd() {
    if command -v ldd >/dev/null 2>&1; then
        LD_LIBRARY_PATH="$SIAM_GPU_LIBPATH" ldd "$1" 2>&1
    else
        LD_LIBRARY_PATH="$SIAM_GPU_LIBPATH" /lib64/ld-linux-x86-64.so.2 --list "$1" 2>&1
    fi
}

siam_gpu_env() {
    local bundle=$1 name found first dirs="" all
    local names=(libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libcuda.so.1)
    SIAM_GPU_MISSING=""
    all=$(siam_gpu_find "${names[@]}")
    for name in "${names[@]}"; do
        # The loader already knows the driver's library: another copy found
        # elsewhere (a container's compat folder) must not take its place.
        if [ "$name" = libcuda.so.1 ] && ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
            echo "gpu-env: $name: in the loader's cache ($(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}'))"
            continue
        fi
        found=$(printf '%s\n' "$all" | awk -v n="$name" '$1 == n {print $2}')
        first=$(printf '%s\n' "$found" | head -1)
        if [ -z "$first" ]; then
            echo "gpu-env: $name: not found"
            case $name in libnvrtc*|libcuda*) ;; *) SIAM_GPU_MISSING+=" $name" ;; esac
            continue
        fi
        local others
        others=$(printf '%s\n' "$found" | tail -n +2 | xargs -r -n1 dirname | tr '\n' ' ')
        local v
        v=$(siam_gpu_version "$first")
        echo "gpu-env: $name: $(basename "$first")${v:+ (version $v)} in $(dirname "$first")${others:+ (also in: $others)}"
        case ":$dirs:" in *":$(dirname "$first"):"*) ;; *) dirs+="${dirs:+:}$(dirname "$first")" ;; esac
    done
    SIAM_GPU_LIBPATH="$bundle/lib${dirs:+:$dirs}"
    # The C++ runtime: the machine's own where it has one (cuDNN and cuBLAS
    # were built for it), the bundle's copy otherwise.
    local probe
    probe=$(ls "$bundle"/bin/test_* 2>/dev/null | head -1)
    if [ -n "$probe" ] && siam_gpu_ldd "$probe" | grep -qE '^\s*(libstdc\+\+|libgcc_s|libgomp)[^ ]* => not found'; then
        SIAM_GPU_LIBPATH+=":$bundle/compat"
        echo "gpu-env: C++ runtime: the bundle's ($bundle/compat: this machine has none)"
    else
        echo "gpu-env: C++ runtime: this machine's"
    fi
    echo "gpu-env: LD_LIBRARY_PATH for siamlua's binaries: $SIAM_GPU_LIBPATH"
}

siam_gpu_tests() {
    grep -l 'siam_check_run\|siam_ops_cuda()' tests/test_*.c | sed 's#^tests/##; s#\.c$##'
}
