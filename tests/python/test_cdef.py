"""The package's cffi declarations (python/ntkdrift/_cdef.h) against include/ntkdrift.h, by gcc:

- every function prototype of the cdef is compiled after #include <ntkdrift.h>: a redeclaration with
  another return or argument type does not compile (-Werror), so each call the package makes has the
  header's signature;
- every struct of the cdef: its size and the offset of every field as gcc computes them from the
  header, against ffi.sizeof / ffi.offsetof (a field missing, reordered or of another size moves
  them); every enumerator's and #define's value likewise;
- __version__ is ntk_version(), the header's NTK_VERSION_STRING and what `ntkdrift --version` says."""
import os
import re
import subprocess

import ntkdrift
from ntkdrift._lib import ffi, lib
from conftest import CLI, SOURCE

CDEF = open(os.path.join(SOURCE, "python", "ntkdrift", "_cdef.h")).read()
HEADER = os.path.join(SOURCE, "include")


def _strip(text):
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def _statements(text):
    """Top-level declarations of the cdef (split at ';' outside braces), #define lines dropped."""
    text = "\n".join(l for l in _strip(text).splitlines() if not l.lstrip().startswith("#"))
    out, depth, cur = [], 0, ""
    for ch in text:
        cur += ch
        depth += (ch == "{") - (ch == "}")
        if ch == ";" and depth == 0:
            out.append(" ".join(cur.split()))
            cur = ""
    return out


def _compile_run(tmp_path, body, run=True):
    src = tmp_path / "probe.c"
    src.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <ntkdrift.h>\n" + body)
    exe = tmp_path / "probe"
    r = subprocess.run(["gcc", "-std=c17", "-Wall", "-Wextra", "-Werror", "-I", HEADER, str(src), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"compiling against include/ntkdrift.h failed:\n{r.stderr[-4000:]}"
    if run:
        return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout


def test_prototypes_match_header(tmp_path):
    protos = [s for s in _statements(CDEF) if not s.startswith("typedef") and "(" in s]
    assert len(protos) > 50, f"only {len(protos)} prototypes found in the cdef"
    names = [re.search(r"(\w+)\s*\(", p).group(1) for p in protos]
    for n in names:  # every declared function is exported by the library
        getattr(lib, n)
    _compile_run(tmp_path, "\n".join(protos) + "\nint main(void) { return 0; }\n", run=False)


def _structs():
    out = {}
    for s in _statements(CDEF):
        m = re.match(r"typedef struct (?:\w+ )?\{.*\} (\w+);$", s)
        if m:
            out[m.group(1)] = [name for name, _ in ffi.typeof(m.group(1)).fields]
    return out


def test_struct_layouts_match_header(tmp_path):
    structs = _structs()
    assert {"ntk_spec", "ntk_train_run_opts", "ntk_train_snapshot", "ntk_ensemble_opts", "ntk_data_opts",
            "ntk_train_result", "ntk_ensemble_stats"} <= set(structs)
    lines = []
    for name, fields in structs.items():
        lines.append(f'printf("{name} %zu\\n", sizeof({name}));')
        for f in fields:
            lines.append(f'printf("{name}.{f} %zu\\n", offsetof({name}, {f}));')
    out = _compile_run(tmp_path, "int main(void) {\n" + "\n".join(lines) + "\nreturn 0; }\n")
    got = dict(l.split() for l in out.splitlines())
    for name, fields in structs.items():
        assert int(got[name]) == ffi.sizeof(name), f"sizeof({name}): header {got[name]}, cdef {ffi.sizeof(name)}"
        for f in fields:
            assert int(got[f"{name}.{f}"]) == ffi.offsetof(name, f), f"offsetof({name}, {f})"


def test_enumerators_and_defines_match_header(tmp_path):
    consts = sorted(set(re.findall(r"\b(NTK_[A-Z0-9_]+)\b", _strip(CDEF))))
    consts = [c for c in consts if isinstance(getattr(lib, c, None), int)]
    assert len(consts) > 50
    body = "int main(void) {\n" + "\n".join(f'printf("{c} %lld\\n", (long long)({c}));' for c in consts) + \
        "\nreturn 0; }\n"
    got = dict(l.split() for l in _compile_run(tmp_path, body).splitlines())
    for c in consts:
        assert int(got[c]) == getattr(lib, c), f"{c}: header {got[c]}, cdef {getattr(lib, c)}"


def test_version_is_the_library_version():
    hdr = open(os.path.join(HEADER, "ntkdrift.h")).read()
    string = re.search(r'#define NTK_VERSION_STRING "([0-9.]+)"', hdr).group(1)
    assert ntkdrift.__version__ == ffi.string(lib.ntk_version()).decode() == string
    out = subprocess.run([CLI, "--version"], capture_output=True, text=True).stdout
    assert out.startswith(f"ntkdrift {string}"), out


def test_library_lookup(tmp_path):
    """NTKDRIFT_LIB is used when set (and only it: a wrong path is an ImportError naming it)."""
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "python"))
    code = "import ntkdrift; print(ntkdrift.lib_path)"
    env["NTKDRIFT_LIB"] = ntkdrift.lib_path
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == ntkdrift.lib_path, r.stderr
    env["NTKDRIFT_LIB"] = str(tmp_path / "libnone.so.0")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "ImportError" in r.stderr and "NTKDRIFT_LIB" in r.stderr, r.stderr
