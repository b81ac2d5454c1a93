#!/usr/bin/env bash
# extended.sh -- the extended mode of the test suite (ctest label "extended"), too long for CI:
#   1. every file reader under libFuzzer for NTK_FUZZ_SECONDS (default 60) each (scripts/fuzz.sh,
#      clang build in build-fuzz/);
#   2. the tiled kernel at N = 40000, depth 3, width 512 (K is 12.8 GB): peak RSS < 4 GB and entries
#      equal to in-memory kernels (release build in build-ext/; ~5 minutes, 13 GB free disk in $TMPDIR).
# Installs clang and libFuzzer when missing (Debian 12, as root), like scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
./scripts/fuzz.sh
cmake -S . -B build-ext -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNTK_WERROR=ON -DNTK_EXTENDED=ON >/dev/null
cmake --build build-ext -j"$(nproc)" >/dev/null
ctest --test-dir build-ext -L extended --output-on-failure
