#!/usr/bin/env bash
# Installs the Debian packages siamlua needs to build, run and test.
# Idempotent: apt-get update runs only when something is missing.
set -eu
pkgs=(build-essential pkg-config liblua5.4-dev lua5.4 libcmocka-dev libstb-dev
      libopenblas-dev libjpeg62-turbo-dev libedit-dev gnuplot-nox protobuf-compiler slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi
echo "deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
