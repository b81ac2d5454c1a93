#!/usr/bin/env bash
# valgrind.sh -- memcheck on a small subset: a few C test binaries and three tiny CLI runs.
#   scripts/valgrind.sh [BUILD_DIR]     (default: build/; a release build, never an ASan/UBSan one)
# One line per item; exits 1 if any item reports a memory error or a definite/indirect leak
# (or fails), 2 on bad usage, 77 (ctest's skip code) when valgrind is not installed.
# Registered as the ctest test valgrind_subset (label valgrind); about 2 minutes on 2 cores.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" 2>/dev/null && pwd)" || { echo "valgrind.sh: no build directory ${1:-$root/build}" >&2; exit 2; }
if ! command -v valgrind >/dev/null; then
  echo "valgrind.sh: valgrind not installed (scripts/setup.sh installs it); skipped" >&2
  exit 77
fi
if grep -Eq '^NTK_(SANITIZE|FUZZ):BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "valgrind.sh: $build is a sanitizer build; valgrind needs an uninstrumented one (build/)" >&2
  exit 2
fi
[ -x "$build/ntkdrift" ] || { echo "valgrind.sh: $build/ntkdrift not built" >&2; exit 2; }

# Single-threaded BLAS and OpenMP: no thread pools to wade through, deterministic, faster under valgrind.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
unset OMPI_COMM_WORLD_SIZE PMI_SIZE PMIX_RANK # never start MPI (ensemble only does under mpirun)
vg=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --track-origins=no -q)
[ -f "$root/scripts/valgrind.supp" ] && vg+=(--suppressions="$root/scripts/valgrind.supp")

tmp="$(mktemp -d /tmp/ntk_valgrind_XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
failed=0

# run NAME CMD...: CMD under memcheck in its own directory, one line with the verdict.
run() {
  local name="$1"; shift
  local dir="$tmp/$name" t0=$SECONDS rc
  mkdir -p "$dir"
  (cd "$dir" && "${vg[@]}" "$@") >"$dir.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    printf 'valgrind: %-22s ok     %4ds\n' "$name" $((SECONDS - t0))
  else
    local why="exit $rc"
    [ $rc -eq 99 ] && why="memcheck errors"
    printf 'valgrind: %-22s FAILED %4ds (%s); log:\n' "$name" $((SECONDS - t0)) "$why"
    grep -E '^==[0-9]+==' "$dir.log" | head -60 | sed 's/^/    /'
    grep -Ev '^==[0-9]+==' "$dir.log" | tail -15 | sed 's/^/    /'
    failed=1
  fi
}

t_start=$SECONDS
# C tests: the readers/writers (spec, npy, data: idx/csv/Fashion-MNIST), kernel regression and the
# linearized predictions, the structured kernel; each a few seconds (data, predict ~30-40 s) under valgrind.
for t in spec npy data rkhs predict ntk_structured; do
  if [ -x "$build/test_$t" ]; then
    run "test_$t" "$build/test_$t"
  else
    printf 'valgrind: %-22s FAILED (not built)\n' "test_$t"
    failed=1
  fi
done
# CLI: one tiny run each of kernel, train (with snapshots and figures) and ensemble.
run kernel "$build/ntkdrift" kernel --n 16 --depth 2 --width 8 --out "$tmp/kernel/out"
run train "$build/ntkdrift" train --steps 20 --n 8 --width 8 --snapshots every:5 --out "$tmp/train/out"
run ensemble "$build/ntkdrift" ensemble --depths 2 --widths 8 --members 50 --out "$tmp/ensemble/out"

if [ $failed -ne 0 ]; then
  echo "valgrind: FAILED ($((SECONDS - t_start)) s)"
  exit 1
fi
echo "valgrind: all clean ($((SECONDS - t_start)) s)"
