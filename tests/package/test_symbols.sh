#!/usr/bin/env bash
# test_symbols.sh LIBNTKDRIFT_SO -- the shared library exports the public API (ntk_*) and nothing else.
#
# Lists the dynamic symbols the .so defines (nm -D --defined-only) and fails on any whose name does
# not start with ntk_ or is one of the library's private ntk_ helpers, apart from the ones the linker itself may add (_init, _fini, _edata, _end,
# __bss_start).  Also fails when no ntk_ symbol is exported at all (an empty or unreadable list must
# not pass), or when a function of the public header is missing (ntk_version, ntk_kernel_full).
set -euo pipefail
so=${1:?usage: test_symbols.sh LIBNTKDRIFT_SO}
[ -f "$so" ] || { echo "test_symbols: no such file: $so" >&2; exit 1; }
command -v nm >/dev/null || { echo "test_symbols: nm not found" >&2; exit 77; }

syms=$(nm -D --defined-only "$so" | awk 'NF >= 2 { print $NF }' | sed 's/@.*//' | sort -u)
n_ntk=$(grep -c '^ntk_' <<<"$syms" || true)
bad=$(grep -v -E '^(ntk_.*|_init|_fini|_edata|_end|__bss_start)$' <<<"$syms" || true)
if [ -n "$bad" ]; then
  echo "test_symbols: $so exports $(wc -l <<<"$bad") symbol(s) without the ntk_ prefix:" >&2
  sed 's/^/  /' <<<"$bad" >&2
  exit 1
fi
if [ "$n_ntk" -eq 0 ]; then
  echo "test_symbols: $so exports no ntk_ symbol" >&2
  exit 1
fi
for f in ntk_version ntk_last_error ntk_kernel_full ntk_data_gaussian; do
  grep -qx "$f" <<<"$syms" || { echo "test_symbols: $so does not export $f" >&2; exit 1; }
done
# the private helpers (src/core/ntk_private.h, src/io/fsutil.h) stay inside the library
for f in ntk_set_error ntk_jacobian ntk_kernel_jacobian_ref ntk_write_file_atomic ntk_mkdir_p; do
  if grep -qx "$f" <<<"$syms"; then echo "test_symbols: $so exports the private $f" >&2; exit 1; fi
done
echo "test_symbols: $so exports $n_ntk ntk_ symbols and nothing else"
