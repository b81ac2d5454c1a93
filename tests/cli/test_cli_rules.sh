#!/usr/bin/env bash
# The library-first rule of docs/architecture.md, as far as a grep can tell: cli/ makes no BLAS or
# LAPACK call and includes neither header (numerics live behind include/ntkdrift.h).
set -u
src="${1:?usage: test_cli_rules.sh SOURCE_DIR}"
hits=$(grep -nE '\b(cblas_[a-z]+|LAPACKE_[a-z]+)\s*\(|#include\s*<(cblas|lapacke)\.h>' "$src"/cli/*.c "$src"/cli/*.h)
if [ -n "$hits" ]; then
    echo "FAIL cli/ calls BLAS/LAPACK (move the numerics into the library):"
    echo "$hits"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "ok   cli/ makes no BLAS or LAPACK call"
echo "1 passed, 0 failed"
