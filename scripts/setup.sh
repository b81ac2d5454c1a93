#!/usr/bin/env bash
# setup.sh -- install what ntkdrift needs (Debian 12, as root) when missing,
# then configure and build.  Idempotent; safe to run before every command.
#   scripts/setup.sh              release build in build/
#   scripts/setup.sh --sanitize   ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev librandom123-dev libyaml-dev
      libcjson-dev libzip-dev zlib1g-dev libfftw3-dev libcmocka-dev python3 python3-numpy python3-torch
      python3-cffi python3-pytest python3-matplotlib python3-yaml dataset-fashion-mnist openmpi-bin libopenmpi-dev gnuplot-nox chromium python3-pil valgrind)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=build; extra=()
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan; extra=(-DNTK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNTK_WERROR=ON "${extra[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "setup: built $build/ntkdrift" >&2
