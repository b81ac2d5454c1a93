#!/bin/sh
# run_fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS -- one fuzz_run_<name> test (docs/fuzzing.md).
# Fuzzes for SECONDS on one process over a fresh copy of the seed corpus (WORK_DIR/corpus; the
# committed corpus is never modified), crash inputs to WORK_DIR/artifacts/.  Fails on any crash,
# sanitizer report, leak, timeout (> 10 s per input) or RSS over 2 GiB, and then replays each
# crash input once with stderr open so the log shows the full report.
set -u
fuzzer=$1 seeds=$2 work=$3 secs=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
cp "$seeds"/* "$work/corpus/" || exit 1
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# -close_fd_mask=2: the readers' one-line error messages (thousands a second) are discarded;
# libFuzzer and the sanitizers still report on a duplicate of stderr.
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -close_fd_mask=2 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "run_fuzzer: $fuzzer failed (exit $rc); crash inputs:" >&2
    for f in "$work"/artifacts/*; do
        [ -f "$f" ] || continue
        echo "== $f" >&2
        "$fuzzer" -rss_limit_mb=2048 -timeout=10 "$f" >&2
    done
    exit 1
fi
exit 0
