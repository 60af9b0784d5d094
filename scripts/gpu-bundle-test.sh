#!/usr/bin/env bash
# `make gpu-bundle-test`: the GPU bundle (.gpu/siamlua-gpu.tar.xz) run where
# nothing but it and glibc can be loaded, as on a GPU machine that has none
# of our build dependencies. A root directory is made from three Debian
# packages (libc6, bash-static, busybox-static: glibc, a shell and the
# tools gpu-check.sh uses, nothing that any of our binaries could load by
# accident: no libstdc++, no Lua, no OpenBLAS), the working tree and .gpu
# are copied in as the device tool sends them, and this machine's CUDA
# libraries are mounted read-only where a PyTorch image keeps its wheels'
# (.../site-packages/nvidia/cu13/lib: not /usr/local/cuda, so that
# gpu-env.sh must search for them). Inside, with chroot in a private mount
# namespace (unshare --mount):
#   - ldd of every bundled binary, with the library path gpu-env.sh builds,
#     must show no "not found";
#   - scripts/gpu-check.sh must take the bundle's path and pass: the CPU
#     groups pass and the CUDA groups skip (there is no driver in there).
# Needs root, unshare, chroot and apt-get download (the packages are cached
# in $TMPDIR/siamlua-gpu-bundle-test/debs); otherwise it says why and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v chroot >/dev/null; then
    echo "gpu-bundle-test: skipped: needs root, unshare and chroot"
    exit 0
fi
[ -f .gpu/siamlua-gpu.tar.xz ] || { echo "gpu-bundle-test: no .gpu/siamlua-gpu.tar.xz (make gpu-bundle)"; exit 1; }
CUDA_LIB=$(readlink -f "${CUDA_HOME:-/usr/local/cuda}/lib64")
# Outside the build folders (make reads every *.d under them).
WORK=${TMPDIR:-/tmp}/siamlua-gpu-bundle-test
DEBS=$WORK/debs
ROOT=$WORK/root
mkdir -p "$DEBS"
for p in libc6 bash-static busybox-static; do
    ls "$DEBS"/"${p}"_*.deb >/dev/null 2>&1 && continue
    (cd "$DEBS" && apt-get download "$p" >/dev/null 2>&1) ||
        { echo "gpu-bundle-test: skipped: apt-get download $p failed"; exit 0; }
done
rm -rf "$ROOT"
mkdir -p "$ROOT"
for d in "$DEBS"/*.deb; do dpkg -x "$d" "$ROOT"; done
mkdir -p "$ROOT"/{bin,usr/bin,dev,proc,tmp,out,work/siamlua}
ln -sf bash-static "$ROOT/bin/bash"
chroot "$ROOT" /bin/busybox --install -s /bin
cp /usr/bin/ldd "$ROOT/usr/bin/ldd" # glibc's script: it runs the loader
WHEEL=$ROOT/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib
mkdir -p "$WHEEL"
# What the device tool sends: tracked and untracked-not-ignored files, and .gpu.
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C "$ROOT/work/siamlua" -xf -
cp -r .gpu "$ROOT/work/siamlua/"
echo "gpu-bundle-test: root of $(du -sm "$ROOT" | cut -f1) MiB at $ROOT: glibc $(ls "$ROOT"/lib/x86_64-linux-gnu/libc.so.6 >/dev/null && dpkg-deb -f "$DEBS"/libc6_*.deb Version), bash-static, busybox; CUDA libraries from $CUDA_LIB at ${WHEEL#"$ROOT"}"

LOG=build-gpu/gpu-bundle-test.log
inner='
set -u
cd /work/siamlua
export PATH=/bin:/usr/bin HOME=/tmp TMPDIR=/tmp OUT=/out
mkdir -p /tmp/b && tar -C /tmp/b -xJf .gpu/siamlua-gpu.tar.xz
. scripts/gpu-env.sh
siam_gpu_env /tmp/b >/tmp/env.txt
echo "== ldd of every bundled binary, with the path gpu-env.sh found"
missing=0
for f in /tmp/b/bin/*; do
    n=$(siam_gpu_ldd "$f" | grep -c "not found")
    echo "ldd $(basename "$f"): $(siam_gpu_ldd "$f" | grep -c "=>") libraries, $n not found"
    siam_gpu_ldd "$f" | grep "not found" || true
    missing=$((missing + n))
done
echo "ldd: $missing not found in all"
echo "== scripts/gpu-check.sh"
bash scripts/gpu-check.sh
rc=$?
echo "gpu-check exit: $rc"
[ $missing -eq 0 ] && [ $rc -eq 0 ]
'
set +e
unshare --mount --fork bash -c '
    set -e
    root=$1 cuda=$2 wheel=$3
    mount --make-rprivate /
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    mount --bind "$cuda" "$wheel"
    mount -o remount,bind,ro "$wheel"
    chroot "$root" /bin/bash -c "$4"
' _ "$ROOT" "$CUDA_LIB" "$WHEEL" "$inner" >"$LOG" 2>&1
rc=$?
set -e
grep -E '^(ldd|gpu-env|path|gpu-check|note|test_|bench: cuda)' "$LOG" | grep -v '^gpu-env: LD_LIBRARY_PATH' | awk '!seen[$0]++'
ok=1
grep -q '^path: the prebuilt bundle' "$LOG" || { echo "!! gpu-check did not take the bundle's path"; ok=0; }
grep -q '^ldd: 0 not found in all' "$LOG" || { echo "!! a bundled binary cannot load all its libraries"; ok=0; }
grep -q 'C++ runtime: the bundle' "$LOG" || { echo "!! the bundle's C++ runtime was not used (the root has none)"; ok=0; }
if [ $rc -ne 0 ] || [ $ok -ne 1 ]; then
    echo "gpu-bundle-test: FAIL (exit $rc; log: $LOG)"
    exit 1
fi
echo "gpu-bundle-test: PASS: every bundled binary loads from the bundle and glibc alone, the CPU groups pass, the CUDA groups skip without a driver (log: $LOG)"
