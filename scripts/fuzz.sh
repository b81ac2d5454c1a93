#!/usr/bin/env bash
# fuzz.sh -- the extended mode of the test suite: libFuzzer on every file reader (docs/fuzzing.md).
#   scripts/fuzz.sh                      build build-fuzz/ (clang, -DNTK_FUZZ=ON) and run
#                                        ctest -L extended: each harness fuzzes NTK_FUZZ_SECONDS
#                                        (default 60) on one core over a copy of fuzz/corpus/<name>
#   NTK_FUZZ_SECONDS=600 scripts/fuzz.sh  longer runs
#   scripts/fuzz.sh -R 'fuzz_run_(npy|npz)'  extra arguments go to ctest
# Builds and fuzzes on one core (the harnesses run one after another).  Fails on any crash,
# sanitizer report, leak, timeout or RSS over 2 GiB; the crash input is left in
# build-fuzz/fuzz/run_<name>/artifacts/ and the log shows the replayed report.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${NTK_FUZZ_SECONDS:-60}"
CC="${CC:-clang}" cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNTK_FUZZ=ON -DNTK_WERROR=OFF \
    -DNTK_FUZZ_SECONDS="$secs" >/dev/null
cmake --build build-fuzz --target fuzzers -j1 >/dev/null
echo "fuzz: built build-fuzz/fuzz/fuzz_*; fuzzing each harness for ${secs} s" >&2
ctest --test-dir build-fuzz -L extended --output-on-failure "$@"
