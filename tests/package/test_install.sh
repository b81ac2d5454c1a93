#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR CC PKG_CONFIG EXAMPLE_BIN [FLAG ...]
#
# Installs the build into a temporary prefix (cmake --install BUILD_DIR --prefix TMP) and builds
# examples/c/minimal.c against the installed copy only:
#   1. cc $(pkg-config --cflags --libs ntkdrift): linked to TMP/LIBDIR/libntkdrift.so.MAJOR, run with
#      LD_LIBRARY_PATH=TMP/LIBDIR;
#   2. cc ... -l:libntkdrift.a $(pkg-config --static --libs ntkdrift): libntkdrift.a and what the .pc
#      says it needs, no libntkdrift.so in the binary;
#   3. a two-target CMake project: find_package(ntkdrift MAJOR.MINOR COMPONENTS static) with
#      ntkdrift::ntkdrift and ntkdrift::ntkdrift_static (and find_package(ntkdrift MAJOR+1) refused).
#   4. the Python package under TMP/lib/python3/dist-packages (PYTHONPATH there, no NTKDRIFT_LIB) opens
#      the installed libntkdrift.so.MAJOR and computes the same kernel (NTK_PYTHON3: the interpreter).
# Every binary must print exactly what the build tree's example_minimal (EXAMPLE_BIN) prints, whose
# first line names the header's version.  Also checks the layout: header, soname and symlink chain,
# the CLI's --version.  FLAGs go to every compile and link (the sanitizer flags of an NTK_SANITIZE
# build).
set -euo pipefail
build=${1:?}; src=${2:?}; cc=${3:?}; pkgconf=${4:?}; example=${5:?}; shift 5
flags=("$@")
fail() { echo "test_install: $*" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ntk_install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }

# ---- version numbers from the header
ver() { sed -n "s/^#define NTK_VERSION_$1 \(.*\)$/\1/p" "$src/include/ntkdrift.h"; }
major=$(ver MAJOR); minor=$(ver MINOR); patch=$(ver PATCH)
version=$major.$minor.$patch
[ "$(ver STRING)" = "\"$version\"" ] || fail "NTK_VERSION_STRING $(ver STRING) is not \"$version\""

# ---- layout
cmp -s "$src/include/ntkdrift.h" "$prefix/include/ntkdrift.h" || fail "include/ntkdrift.h not installed as is"
mapfile -t pcs < <(find "$prefix" -name ntkdrift.pc)
[ "${#pcs[@]}" -eq 1 ] || fail "expected one ntkdrift.pc under the prefix, found ${#pcs[@]}"
pcdir=$(dirname "${pcs[0]}")
libdir=$(dirname "$pcdir")
[ "$(basename "$pcdir")" = pkgconfig ] || fail "ntkdrift.pc is not in a pkgconfig directory: ${pcs[0]}"
for f in libntkdrift.a libntkdrift.so.$version cmake/ntkdrift/ntkdriftConfig.cmake \
         cmake/ntkdrift/ntkdriftConfigVersion.cmake; do
  [ -f "$libdir/$f" ] || fail "missing $libdir/$f"
done
[ "$(readlink "$libdir/libntkdrift.so")" = "libntkdrift.so.$major" ] || fail "libntkdrift.so does not point to libntkdrift.so.$major"
[ "$(readlink "$libdir/libntkdrift.so.$major")" = "libntkdrift.so.$version" ] || fail "libntkdrift.so.$major does not point to libntkdrift.so.$version"
soname=$(objdump -p "$libdir/libntkdrift.so.$version" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libntkdrift.so.$major" ] || fail "soname is '$soname', not libntkdrift.so.$major"
"$prefix/bin/ntkdrift" --version | grep -q "^ntkdrift $version" || fail "installed bin/ntkdrift --version does not say $version"

export PKG_CONFIG_PATH=$pcdir
[ "$("$pkgconf" --modversion ntkdrift)" = "$version" ] || fail "pkg-config --modversion ntkdrift is not $version"

# ---- the build tree's example: the reference output
OMP_WAIT_POLICY=PASSIVE "$example" >"$tmp/ref.txt" || fail "build-tree example_minimal failed"
head -n1 "$tmp/ref.txt" | grep -q "^ntkdrift $version: " || fail "example_minimal does not print version $version: $(head -n1 "$tmp/ref.txt")"
# the trace is the sum of the printed diagonal and every K[i,i] > 0; tolerance: the 6 numbers are
# printed to 13 significant digits (relative rounding <= 5e-13 each, and each K[i,i] <= trace), so the
# sum is off by at most 3e-12 * trace; 1e-11 leaves room for the summation's own rounding
awk '/^trace / { t = $2 } /^K\[/ { s += $2; n++; if ($2 <= 0) bad = 1 }
     END { d = t - s; if (d < 0) d = -d; exit !(n == 5 && !bad && d <= 1e-11 * t) }' "$tmp/ref.txt" ||
  fail "example_minimal output is not a trace and 5 positive diagonal entries summing to it: $(cat "$tmp/ref.txt")"

same() {  # same NAME FILE: FILE is the reference output
  cmp -s "$tmp/ref.txt" "$2" || { diff "$tmp/ref.txt" "$2" >&2 || true; fail "$1 prints other numbers than the build tree's example"; }
}
needed() { objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'; }
cflags=(-std=c17 -Wall -Wextra -Wpedantic -Werror "${flags[@]}")

# ---- 1. shared, through pkg-config
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" "$src/examples/c/minimal.c" $("$pkgconf" --cflags --libs ntkdrift) -o "$tmp/min_shared" ||
  fail "cc with pkg-config --cflags --libs ntkdrift failed"
needed "$tmp/min_shared" | grep -qx "libntkdrift.so.$major" || fail "min_shared does not need libntkdrift.so.$major"
OMP_WAIT_POLICY=PASSIVE LD_LIBRARY_PATH=$libdir "$tmp/min_shared" >"$tmp/shared.txt" || fail "min_shared failed"
same "the pkg-config shared build" "$tmp/shared.txt"

# ---- 2. static, through pkg-config --static
# shellcheck disable=SC2046
static_libs=$("$pkgconf" --static --libs ntkdrift | sed 's/\(^\| \)-lntkdrift\( \|$\)/\1-l:libntkdrift.a\2/')
grep -q -- '-l:libntkdrift.a' <<<"$static_libs" || fail "pkg-config --static --libs has no -lntkdrift: $static_libs"
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" "$src/examples/c/minimal.c" $("$pkgconf" --cflags ntkdrift) $static_libs -o "$tmp/min_static" ||
  fail "cc with pkg-config --static --libs ntkdrift failed: $static_libs"
if needed "$tmp/min_static" | grep -q '^libntkdrift'; then fail "min_static needs a shared libntkdrift"; fi
OMP_WAIT_POLICY=PASSIVE "$tmp/min_static" >"$tmp/static.txt" || fail "min_static failed"
same "the pkg-config static build" "$tmp/static.txt"

# ---- 3. find_package(ntkdrift)
mkdir -p "$tmp/proj"
cat >"$tmp/proj/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(ntk_consumer LANGUAGES C)
find_package(ntkdrift $((major + 1)) QUIET)
if(ntkdrift_FOUND)
  message(FATAL_ERROR "find_package(ntkdrift $((major + 1))) accepted version \${ntkdrift_VERSION}")
endif()
find_package(ntkdrift $major.$minor REQUIRED COMPONENTS static)
if(NOT ntkdrift_VERSION STREQUAL "$version")
  message(FATAL_ERROR "ntkdrift_VERSION is \${ntkdrift_VERSION}, not $version")
endif()
add_executable(min_shared "$src/examples/c/minimal.c")
target_link_libraries(min_shared PRIVATE ntkdrift::ntkdrift)
add_executable(min_static "$src/examples/c/minimal.c")
target_link_libraries(min_static PRIVATE ntkdrift::ntkdrift_static)
CMAKE
cmake -S "$tmp/proj" -B "$tmp/proj/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_C_FLAGS="${cflags[*]}" -DCMAKE_EXE_LINKER_FLAGS="${flags[*]}" >"$tmp/proj.log" 2>&1 ||
  { cat "$tmp/proj.log" >&2; fail "configuring a find_package(ntkdrift) project failed"; }
cmake --build "$tmp/proj/build" >>"$tmp/proj.log" 2>&1 || { cat "$tmp/proj.log" >&2; fail "building it failed"; }
needed "$tmp/proj/build/min_shared" | grep -qx "libntkdrift.so.$major" || fail "ntkdrift::ntkdrift is not the shared library"
if needed "$tmp/proj/build/min_static" | grep -q '^libntkdrift'; then fail "ntkdrift::ntkdrift_static needs a shared libntkdrift"; fi
for t in min_shared min_static; do  # the build tree's rpath finds the installed .so
  OMP_WAIT_POLICY=PASSIVE "$tmp/proj/build/$t" >"$tmp/cmake_$t.txt" || fail "find_package build $t failed"
  same "the find_package build $t" "$tmp/cmake_$t.txt"
done
# ---- 4. the Python package: PREFIX/lib/python3/dist-packages/ntkdrift (Debian's python3 layout), imported
# with PYTHONPATH pointing there and no NTKDRIFT_LIB, opens the installed libntkdrift.so.MAJOR and prints
# minimal.c's numbers (the same network, points and kernel, printed with the same formats)
py=${NTK_PYTHON3:-/usr/bin/python3}
pydir=$prefix/lib/python3/dist-packages
for f in __init__.py _lib.py _cdef.h _install.py; do
  [ -f "$pydir/ntkdrift/$f" ] || fail "missing $pydir/ntkdrift/$f"
done
if [ "${#flags[@]}" -gt 0 ]; then  # a sanitizer build: its .so cannot be dlopen'ed by an uninstrumented python3
  echo "test_install: $version installed under $libdir; pkg-config shared and static and find_package builds print the build tree's numbers (Python package: files only, sanitizer build)"
  exit 0
fi
cd "$tmp"  # not the source tree: nothing but the installed copy can be imported
env -u NTKDRIFT_LIB PYTHONPATH="$pydir" PYTHONDONTWRITEBYTECODE=1 OMP_WAIT_POLICY=PASSIVE \
  "$py" - "$libdir/libntkdrift.so.$major" "$pydir" >"$tmp/python.txt" <<'PY' || fail "the installed Python package failed"
import os, sys
import ntkdrift as nd
lib, pydir = sys.argv[1:]
assert os.path.dirname(os.path.realpath(nd.__file__)) == os.path.realpath(os.path.join(pydir, "ntkdrift")), nd.__file__
assert os.path.realpath(nd.lib_path) == os.path.realpath(lib), f"opened {nd.lib_path}, not the installed {lib}"
net = nd.Network(depth=2, width=64, n0=4, seed=42)
K = nd.empirical_ntk(net, nd.inputs(data="gaussian", n=5, n0=4, data_seed=7))
trace = 0.0
for i in range(5):
    trace += K[i, i]
print(f"ntkdrift {nd.__version__}: depth 2, width 64, n0 4, N 5 Gaussian points, {net.num_params} parameters")
print("trace %.12e" % trace)
for i in range(5):
    print("K[%d,%d] %.12e" % (i, i, K[i, i]))
PY
same "the installed Python package" "$tmp/python.txt"
echo "test_install: $version installed under $libdir; pkg-config shared and static and find_package builds and the Python package print the build tree's numbers"
