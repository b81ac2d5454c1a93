#!/usr/bin/env bash
# The library-first rule of docs/architecture.md, as far as a scan can tell: cli/ makes no BLAS or
# LAPACK call and includes neither header, and calls no math function (sqrt, log, exp, pow, the
# trigonometric, hyperbolic and error functions) outside comments and string literals (gnuplot
# formulas and help texts may name them); numerics live behind include/ntkdrift.h.
set -u
src="${1:?usage: test_cli_rules.sh SOURCE_DIR}"
pass=0
fail=0
hits=$(grep -nE '\b(cblas_[a-z]+|LAPACKE_[a-z]+)\s*\(|#include\s*<(cblas|lapacke)\.h>' "$src"/cli/*.c "$src"/cli/*.h)
if [ -n "$hits" ]; then
    echo "FAIL cli/ calls BLAS/LAPACK (move the numerics into the library):"
    echo "$hits"
    fail=$((fail + 1))
else
    echo "ok   cli/ makes no BLAS or LAPACK call"
    pass=$((pass + 1))
fi
# math calls: comments and literals blanked first, so "log($2)" in a gnuplot script is not a call
scan='
import re, sys
FN = r"(?:sqrt|cbrt|exp|exp2|expm1|log|log2|log10|log1p|pow|hypot|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|erf|erfc|lgamma|tgamma|fma)[fl]?"
call = re.compile(r"(?<![\w.>$])" + FN + r"\s*\(")
def strip(s):
    out, i, n = [], 0, len(s)
    while i < n:
        if s.startswith("/*", i):
            j = s.find("*/", i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", s[i:j])); i = j
        elif s.startswith("//", i):
            j = s.find("\n", i); i = n if j < 0 else j
        elif s[i] in "\"'\''":
            q, j = s[i], i + 1
            while j < n and s[j] != q and s[j] != "\n":
                j += 2 if s[j] == "\\" else 1
            out.append(q + q); i = j + 1
        else:
            out.append(s[i]); i += 1
    return "".join(out)
bad = 0
for p in sys.argv[1:]:
    for ln, line in enumerate(strip(open(p).read()).split("\n"), 1):
        if call.search(line):
            print(f"{p}:{ln}: {line.strip()}"); bad += 1
sys.exit(1 if bad else 0)
'
# the scan itself: a call in code is found, the same words in a string or a comment are not
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '/* sqrt(x) */\nconst char *s = "log($2) \\" exp(1)";\n// pow(2, 3)\nchar c = '"'"'('"'"';\n' > "$tmp/clean.c"
printf 'double f(double x)\n{\n    return 2 * sqrt (x) + cos(x);\n}\n' > "$tmp/dirty.c"
if /usr/bin/python3 -c "$scan" "$tmp/clean.c" >/dev/null && ! /usr/bin/python3 -c "$scan" "$tmp/dirty.c" >/dev/null; then
    echo "ok   the math-call scan finds a call in code and none in strings or comments"
    pass=$((pass + 1))
else
    echo "FAIL the math-call scan does not tell code from strings and comments"
    fail=$((fail + 1))
fi
if hits=$(/usr/bin/python3 -c "$scan" "$src"/cli/*.c "$src"/cli/*.h); then
    echo "ok   cli/ calls no math function (sqrt, log, exp, pow, cos, sin, ...)"
    pass=$((pass + 1))
else
    echo "FAIL cli/ calls math functions (move the numerics into the library):"
    echo "$hits"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
