#!/usr/bin/env bash
# mutants_lazy.sh -- the power of tests/ensemble/test_lazy.c's update test (test_update_matches_full_matrix)
# against two mutants of src/ensemble/lazy.c's pathwise update:
#   no_bias_tau    the first tangent tau_k = a W~ t + (w ||h||^2 + b) delta without its bias term b;
#   no_projection  the fresh part of W~ v on the backward probe's orthogonal complement drawn without
#                  the (I - dhat dhat^T) projection.
# In a temporary copy of the source tree with its own build directory, each variant (the unmutated
# code first) is built and the test run for SEEDS seeds (NTK_TEST_SEED = 1 .. SEEDS).  Prints
#   unmutated: failed in X of SEEDS seeds
#   mutant NAME: failed in X of SEEDS seeds
# and exits 1 when the unmutated code fails any seed or a mutant fails fewer than 9 in 10.
#
# usage: scripts/mutants_lazy.sh            (SEEDS=10 by default; JOBS=2 build jobs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEEDS=${SEEDS:-10}
JOBS=${JOBS:-2}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ntk_mutants.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# the working tree as it is (uncommitted edits included), without build directories or git data
mkdir -p "$TMP/src"
tar -C "$ROOT" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$TMP/src" -xf -
LAZY="$TMP/src/src/ensemble/lazy.c"
cp "$LAZY" "$TMP/lazy.c.orig"

# Each mutant: a sed program that must change exactly the lines shown.  No -Werror in this build:
# a mutant may leave a variable set but unused.
mutate() {
    case "$1" in
    unmutated) ;;
    no_bias_tau) sed -i 's/double g1 = wf \* hn\[k - 1\] \* hn\[k - 1\] + bf;/double g1 = wf * hn[k - 1] * hn[k - 1];/' "$LAZY" ;;
    no_projection) sed -i -e 's/dh \* (gt - pt)/dh * gt/' -e 's/dh \* (gw - pw)/dh * gw/' "$LAZY" ;;
    *) echo "unknown mutant $1" >&2; exit 2 ;;
    esac
}

cmake -S "$TMP/src" -B "$TMP/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
status=0
for name in unmutated no_bias_tau no_projection; do
    cp "$TMP/lazy.c.orig" "$LAZY"
    mutate "$name"
    changed=$(diff "$TMP/lazy.c.orig" "$LAZY" | grep -c '^>' || true)
    if [ "$name" != unmutated ] && [ "$changed" -eq 0 ]; then
        echo "mutant $name: the sed program no longer matches src/ensemble/lazy.c (update this script)" >&2
        exit 2
    fi
    cmake --build "$TMP/build" --target test_lazy -j"$JOBS" >"$TMP/build.log" 2>&1 ||
        { cat "$TMP/build.log" >&2; echo "mutant $name: build failed" >&2; exit 2; }
    failed=0
    for seed in $(seq 1 "$SEEDS"); do
        if ! NTK_TEST_SEED=$seed "$TMP/build/test_lazy" test_update_matches_full_matrix >"$TMP/run.log" 2>&1; then
            failed=$((failed + 1))
            grep -m1 -E 'exceeds bound|FAILED|Error' "$TMP/run.log" | sed "s/^/    seed $seed: /" || true
        fi
    done
    if [ "$name" = unmutated ]; then
        echo "unmutated: failed in $failed of $SEEDS seeds"
        [ "$failed" -eq 0 ] || status=1
    else
        echo "mutant $name: failed in $failed of $SEEDS seeds ($changed lines changed)"
        [ $((10 * failed)) -ge $((9 * SEEDS)) ] || status=1
    fi
done
exit $status
