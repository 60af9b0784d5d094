#!/usr/bin/env bash
# Downloads LFW (the original alignment, lfw.tgz) and the View 1 and View 2
# pairs files from scikit-learn's figshare mirror into DIR (default
# ./data/lfw), checking each file's sha256 before it is used. Files already
# present with the right checksum are not downloaded again. LFW is a research
# data set (University of Massachusetts, Amherst); never commit it.
# Usage: scripts/get-lfw.sh [DIR]
set -euo pipefail

dir=${1:-data/lfw}
base=https://ndownloader.figshare.com/files
# name  figshare-id  sha256
files=(
    "lfw.tgz 5976018 055f7d9c632d7370e6fb4afc7468d40f970c34a80d4c6f50ffec63f5a8d536c0"
    "pairsDevTrain.txt 5976012 1d454dada7dfeca0e7eab6f65dc4e97a6312d44cf142207be28d688be92aabfa"
    "pairsDevTest.txt 5976009 7cb06600ea8b2814ac26e946201cdb304296262aad67d046a16a7ec85d0ff87c"
    "pairs.txt 5976006 ea42330c62c92989f9d7c03237ed5d591365e89b3e649747777b70e692dc1592"
)

if command -v curl >/dev/null; then
    fetch() { curl -fL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
    fetch() { wget -q -O "$2" "$1"; }
else
    echo "get-lfw: neither curl nor wget is installed" >&2
    exit 1
fi
command -v sha256sum >/dev/null || { echo "get-lfw: sha256sum is missing" >&2; exit 1; }

sum_ok() { # file sha256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

mkdir -p "$dir"
for entry in "${files[@]}"; do
    read -r name id sum <<<"$entry"
    target="$dir/$name"
    if sum_ok "$target" "$sum"; then
        echo "get-lfw: $target present, checksum ok"
        continue
    fi
    echo "get-lfw: downloading $name"
    fetch "$base/$id" "$target.part"
    got=$(sha256sum "$target.part" | cut -d' ' -f1)
    if [ "$got" != "$sum" ]; then
        rm -f "$target.part"
        echo "get-lfw: $name: sha256 $got, expected $sum; download rejected" >&2
        exit 1
    fi
    mv "$target.part" "$target"
done

if [ ! -d "$dir/lfw" ]; then
    echo "get-lfw: extracting lfw.tgz"
    tar -xzf "$dir/lfw.tgz" -C "$dir"
fi
count=$(find "$dir/lfw" -name '*.jpg' | wc -l)
echo "get-lfw: $count images in $dir/lfw (LFW has 13233)"
[ "$count" -eq 13233 ] || { echo "get-lfw: unexpected image count" >&2; exit 1; }
echo "get-lfw: done; siamlua finds it at ./data/lfw, or set LFW_DIR=$dir"
