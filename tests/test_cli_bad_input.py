#!/usr/bin/python3
"""Bad input to `ntkdrift kernel`: every class gives exactly one message line
naming the offending field or file, exit status 2, and leaves no run directory
that looks complete (no manifest.json anywhere under the results root).

usage: test_cli_bad_input.py PATH/TO/ntkdrift
"""
import os, shutil, subprocess, sys, tempfile

import numpy as np

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_bad_")
SMALL = ["--depth", "1", "--width", "8", "--n", "6"]


def path(name):
    return os.path.join(TMP, name)


def write(name, data, mode="w"):
    with open(path(name), mode) as fh:
        fh.write(data)
    return path(name)


def npy_bytes(arr):
    import io
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def setup_files():
    write("malformed.yaml", "model: [unclosed\n")
    write("unknown_key.yaml", "model:\n  depthh: 3\n")
    write("unknown_section.yaml", "modle:\n  depth: 3\n")
    write("wrong_type.yaml", "model:\n  depth: three\n")
    write("wrong_type_float.yaml", "model:\n  sw2: abc\n")
    write("bad_enum.yaml", "model:\n  act: sigmoid\n")
    write("zero_width.yaml", "model:\n  depth: 2\n  widths: [8, 0]\n")
    write("neg_n.yaml", "data:\n  n: -3\n")
    write("bad_dtype.yaml", "kernel:\n  dtype: f16\n")
    write("garbage.npy", "this is not an npy file at all, just text\n")
    good = npy_bytes(np.ones((6, 3)))
    write("truncated.npy", good[: len(good) - 20], "wb")
    write("wrong_magic.npy", b"\x93NUMPX" + good[6:], "wb")
    write("three_d.npy", npy_bytes(np.ones((2, 3, 4))), "wb")
    x = np.ones((6, 3))
    x[2, 1] = np.nan
    write("nan.npy", npy_bytes(x), "wb")
    write("not_zip.npz", "PK but not really a zip archive\n")
    np.savez(path("no_X.npz"), Y=np.ones((6, 3)))
    np.savez(path("wrong_shape_params.npz"), W1=np.ones((8, 3)), b1=np.ones(8), W2=np.ones((1, 7)), b2=np.ones(1))
    np.savez(path("nan_params.npz"), W1=np.full((8, 16), np.nan), b1=np.ones(8), W2=np.ones((1, 8)), b2=np.ones(1))
    write("ragged.csv", "1,2,3\n4,5\n")
    write("bad_study.yaml", "study:\n  widths: [0, 8]\n")
    write("bad_classes.yaml", "data:\n  classes: [3, 12]\n")


CASES = [
    # (name, args, substring the message must contain)
    ("malformed yaml", ["--config", path("malformed.yaml")], "malformed.yaml:1:"),
    ("unknown key", ["--config", path("unknown_key.yaml")], "depthh"),
    ("unknown section", ["--config", path("unknown_section.yaml")], "modle"),
    ("wrong type int", ["--config", path("wrong_type.yaml")], "model.depth"),
    ("wrong type float", ["--config", path("wrong_type_float.yaml")], "model.sw2"),
    ("bad enum in yaml", ["--config", path("bad_enum.yaml")], "model.act"),
    ("zero width in yaml", ["--config", path("zero_width.yaml")], "widths[2]"),
    ("negative n in yaml", ["--config", path("neg_n.yaml")], "data.n"),
    ("bad dtype in yaml", ["--config", path("bad_dtype.yaml")], "kernel.dtype"),
    ("missing config", ["--config", path("nope.yaml")], "nope.yaml"),
    ("zero width flag", ["--width", "0"], "--width"),
    ("negative depth", ["--depth", "-1"], "--depth"),
    ("zero n", ["--n", "0"], "--n"),
    ("zero n0", ["--n0", "0"], "--n0"),
    ("zero outputs", ["--outputs", "0"], "--outputs"),
    ("non-numeric sw2", ["--sw2", "big"], "--sw2"),
    ("negative sw2", ["--sw2", "-1"], "sw2"),
    ("nan sb", ["--sb", "nan"], "--sb"),
    ("bad act", ["--act", "sigmoid"], "--act"),
    ("bad param", ["--param", "mup"], "--param"),
    ("bad bias", ["--bias", "maybe"], "--bias"),
    ("bad first layer", ["--first-layer", "half"], "--first-layer"),
    ("bad dtype", ["--dtype", "f16"], "--dtype"),
    ("widths vs depth", ["--depth", "3", "--widths", "4,4"], "widths"),
    ("bad widths list", ["--widths", "4,,4"], "--widths"),
    ("unknown flag", ["--bogus"], "--bogus"),
    ("missing value", ["--depth"], "--depth"),
    ("stray argument", ["extra"], "extra"),
    ("unknown data", ["--data", "mnist"], "mnist"),
    ("missing data file", ["--data", path("missing.npy")], "missing.npy"),
    ("garbage npy", ["--data", path("garbage.npy")], "garbage.npy"),
    ("truncated npy", ["--data", path("truncated.npy")], "truncated.npy"),
    ("wrong magic npy", ["--data", path("wrong_magic.npy")], "wrong_magic.npy"),
    ("3-d npy", ["--data", path("three_d.npy")], "three_d.npy"),
    ("nan in data", ["--data", path("nan.npy")], "nan.npy"),
    ("n0 mismatch", ["--data", path("nan.npy"), "--n0", "5"], "n0"),
    ("not a zip", ["--data", path("not_zip.npz")], "not_zip.npz"),
    ("npz without X", ["--data", path("no_X.npz")], "no_X.npz"),
    ("circle with n0", ["--data", "circle", "--n0", "3"], "n0"),
    ("params shape", ["--n0", "3", "--load-params", path("wrong_shape_params.npz")], "W2"),
    ("params nan", ["--load-params", path("nan_params.npz")], "W1"),
    ("params missing", ["--load-params", path("none.npz")], "none.npz"),
    ("too big for memory", ["--depth", "1", "--width", "8", "--n", "3000000"], "GB"),
    ("max-memory", SMALL + ["--max-memory", "0.000001"], "--max-memory"),
    ("ragged csv", ["--data", path("ragged.csv")], "ragged.csv"),
    ("bad pixels", ["--pixels", "raw"], "--pixels"),
    ("class out of range", ["--data", "fmnist", "--classes", "11"], "--classes"),
    ("class in yaml", ["--config", path("bad_classes.yaml")], "data.classes"),
    ("fmnist too many", ["--data", "fmnist", "--classes", "0,9", "--n", "20000"], "fmnist"),
]

# Other commands: (command, name, args, substring)
OTHER = [
    ("limit", "limit f32", ["--dtype", "f32"], "--dtype"),
    ("limit", "limit params", ["--save-params"], "--save-params"),
    ("profile", "profile needs circle", ["--data", "gaussian"], "circle"),
    ("profile", "profile empty seeds", ["--seeds", "5:2"], "--seeds"),
    ("converge", "converge zero width", ["--widths", "0,8"], "--widths"),
    ("converge", "converge negative depth", ["--depths", "-1"], "--depths"),
    ("converge", "study yaml", ["--config", path("bad_study.yaml")], "study.widths"),
    ("ensemble", "ensemble angle out of range", ["--depths", "1", "--widths", "8", "--angle", "200"], "--angle"),
    ("ensemble", "ensemble angle with n0 = 1", ["--depths", "1", "--widths", "8", "--n0", "1", "--angle", "45"],
     "n0 = 1"),
    ("ensemble", "ensemble unknown sampler", ["--depths", "1", "--widths", "8", "--sampler", "exact"], "--sampler"),
    ("frobnicate", "unknown command", [], "frobnicate"),
]


def no_complete_run(root):
    for dirpath, _, files in os.walk(root):
        if "manifest.json" in files:
            return dirpath
    return None


def main():
    setup_files()
    passed = failed = 0
    for i, (name, args, needle) in enumerate(CASES):
        root = path(f"results{i}")
        base = SMALL if not any(a in ("--depth", "--width", "--n", "--config") for a in args) else []
        cmd = [BIN, "kernel", "--results", root] + base + args
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        problems = []
        if r.returncode != 2:
            problems.append(f"exit {r.returncode} (want 2)")
        if len(lines) != 1 or not lines[0].startswith("ntkdrift: "):
            problems.append(f"want one 'ntkdrift: ...' line, got {lines!r}")
        elif needle not in lines[0]:
            problems.append(f"message does not name {needle!r}: {lines[0]!r}")
        leftover = no_complete_run(root) if os.path.exists(root) else None
        if leftover:
            problems.append(f"left a complete-looking run in {leftover}")
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"ok   {name}: {lines[0]}")
    for i, (command, name, args, needle) in enumerate(OTHER):
        root = path(f"other{i}")
        r = subprocess.run([BIN, command, "--results", root] + args, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        ok = r.returncode == 2 and lines and lines[0].startswith("ntkdrift: ") and needle in lines[0]
        if command != "frobnicate":
            ok = ok and len(lines) == 1 and not (os.path.exists(root) and no_complete_run(root))
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {lines[0] if lines else r.returncode}")
        passed += bool(ok)
        failed += not ok
    # An --out directory that already holds a complete run is refused and left intact.
    out = path("done_run")
    r1 = subprocess.run([BIN, "kernel"] + SMALL + ["--out", out], capture_output=True, text=True)
    before = open(os.path.join(out, "manifest.json")).read() if r1.returncode == 0 else None
    r2 = subprocess.run([BIN, "kernel"] + SMALL + ["--seed", "9", "--out", out], capture_output=True, text=True)
    ok = (r1.returncode == 0 and r2.returncode == 2 and "already holds" in r2.stderr
          and open(os.path.join(out, "manifest.json")).read() == before)
    print(f"{'ok  ' if ok else 'FAIL'} existing complete run is not overwritten: {r2.stderr.strip()}")
    passed += ok
    failed += not ok
    # A failure after the run directory exists (unwritable parent of an artifact) removes what it wrote.
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
