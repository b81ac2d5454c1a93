#!/usr/bin/env python3
"""test_npz_numpy.py -- numpy.load opens the .npz artifacts ntkdrift writes.

Usage:
  test_npz_numpy.py NTKDRIFT_BINARY
      Runs `ntkdrift kernel ...` twice (k = 1 and k = 3) into a temp directory and
      checks kernel.npz, params.npz and manifest.json (this is what ctest runs).
  test_npz_numpy.py --check FILE.npz NAME=D1,D2 [NAME= ...]
      Checks one archive written by anything (e.g. a driver calling ntk_npz_*);
      `NAME=` with nothing after '=' expects a 0-d array.

Prints one PASS/FAIL line per check and a final "N passed, M failed" line;
exits 1 if anything failed.
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np


class Checks:
    """Counts named checks and prints one line for each."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def report(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s:" % name)
            for p in problems:
                print("    " + p)
        else:
            self.passed += 1
            print("PASS %s" % name)
        return not problems

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def check_npz(path, expected):
    """Problems (empty list if none) with the .npz at path.

    expected: dict member name -> shape tuple.  Every expected member must be
    present, float64, of that shape, finite and stored uncompressed; extra
    members are allowed (noted on stdout).
    """
    if not os.path.isfile(path):
        return ["%s: file does not exist" % path]
    problems = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.compress_type != zipfile.ZIP_STORED:
                    problems.append("%s: member %s is compressed (method %d), expected stored"
                                    % (path, info.filename, info.compress_type))
    except zipfile.BadZipFile as e:
        return ["%s: not a zip archive: %s" % (path, e)]
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            for name in sorted(set(expected) - keys):
                problems.append("%s: missing member '%s' (has: %s)"
                                % (path, name, ", ".join(sorted(keys)) or "nothing"))
            extra = sorted(keys - set(expected))
            if extra:
                print("note: %s: extra members %s" % (path, ", ".join(extra)))
            for name, shape in expected.items():
                if name not in keys:
                    continue
                a = z[name]
                if a.dtype != np.float64:
                    problems.append("%s: %s has dtype %s, expected float64" % (path, name, a.dtype))
                if a.shape != tuple(shape):
                    problems.append("%s: %s has shape %s, expected %s"
                                    % (path, name, a.shape, tuple(shape)))
                if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
                    problems.append("%s: %s has %d non-finite entries"
                                    % (path, name, int(np.size(a) - np.isfinite(a).sum())))
    except Exception as e:  # numpy raises many types for malformed files
        problems.append("%s: numpy.load failed: %s: %s" % (path, type(e).__name__, e))
    return problems


def kernel_consistency(path, n, k, layers):
    """Problems with the kernel's documented structure: K (n, n, k, k) symmetric
    PSD, K_trace[i, j] = sum_a K[i, j, a, a], sum of K_layers = K."""
    problems = []
    with np.load(path, allow_pickle=False) as z:
        K = z["K"].reshape(n, n, k, k)
        scale = max(float(np.max(np.abs(K))), 1e-300)
        M = K.transpose(0, 2, 1, 3).reshape(n * k, n * k)   # [(i,a), (j,b)]
        asym = float(np.max(np.abs(M - M.T))) / scale
        if asym > 1e-6:
            problems.append("K is not symmetric: max |K - K^T| / max |K| = %.3e" % asym)
        low = float(np.min(np.linalg.eigvalsh((M + M.T) / 2))) / scale
        if low < -1e-6:
            problems.append("K is not positive semi-definite: min eigenvalue / max |K| = %.3e" % low)
        if "K_trace" in z.files:
            err = float(np.max(np.abs(z["K_trace"] - np.einsum("ijaa->ij", K)))) / scale
            if err > 1e-6:
                problems.append("K_trace != sum_a K[:, :, a, a]: relative error %.3e" % err)
        if layers and "K_layers" in z.files:
            KL = z["K_layers"]
            if KL.shape[0] != layers:
                problems.append("K_layers has %d layers, expected %d" % (KL.shape[0], layers))
            err = float(np.max(np.abs(KL.sum(axis=0).reshape(K.shape) - K))) / scale
            if err > 1e-6:
                problems.append("sum of K_layers != K: relative error %.3e" % err)
    return problems


def json_strings(node):
    """All strings (keys and values) anywhere in a parsed JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from json_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from json_strings(value)


def check_manifest(run_dir, artifacts):
    """Problems with run_dir/manifest.json: must parse and mention each artifact."""
    path = os.path.join(run_dir, "manifest.json")
    if not os.path.isfile(path):
        return ["%s: file does not exist" % path]
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        return ["%s: not valid JSON: %s" % (path, e)]
    strings = list(json_strings(doc))
    problems = []
    for name in artifacts:
        if not any(s == name or s.endswith("/" + name) for s in strings):
            problems.append("%s: does not list artifact '%s'" % (path, name))
    return problems


def check_no_temps(run_dir):
    left = sorted(f for f in os.listdir(run_dir) if ".tmp." in f)
    return ["%s: temp files left behind: %s" % (run_dir, ", ".join(left))] if left else []


def run_cli(binary, args, checks, label):
    """Runs the CLI; True on exit status 0."""
    cmd = [binary] + args
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return checks.report(label, ["could not run %s: %s" % (" ".join(cmd), e)])
    if r.returncode != 0:
        return checks.report(label, ["%s exited with status %d" % (" ".join(cmd), r.returncode),
                                     "stdout: " + r.stdout.strip()[-2000:],
                                     "stderr: " + r.stderr.strip()[-2000:]])
    return checks.report(label, [])


def test_cli(binary, checks, tmp):
    n, n0, width, depth = 7, 5, 16, 2
    layers = depth + 1
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        checks.report("ntkdrift binary", ["not an executable file: %s" % binary])
        return
    for k in (1, 3):
        run_dir = os.path.join(tmp, "run_k%d" % k)
        args = ["kernel", "--depth", str(depth), "--width", str(width), "--n0", str(n0),
                "--n", str(n), "--outputs", str(k), "--per-layer", "--save-params",
                "--out", run_dir]
        if not run_cli(binary, args, checks, "k=%d: ntkdrift %s" % (k, " ".join(args))):
            continue
        kshape = (n, n) if k == 1 else (n, n, k, k)
        kernel = {"K": kshape, "K_trace": (n, n), "X": (n, n0), "K_layers": (layers,) + kshape}
        params = {"W1": (width, n0), "b1": (width,), "W2": (width, width), "b2": (width,),
                  "W3": (k, width), "b3": (k,)}
        kpath = os.path.join(run_dir, "kernel.npz")
        if checks.report("k=%d: kernel.npz members" % k, check_npz(kpath, kernel)):
            checks.report("k=%d: kernel structure" % k, kernel_consistency(kpath, n, k, layers))
        checks.report("k=%d: params.npz members" % k,
                      check_npz(os.path.join(run_dir, "params.npz"), params))
        checks.report("k=%d: manifest.json" % k,
                      check_manifest(run_dir, ["kernel.npz", "params.npz"]))
        checks.report("k=%d: no temp files" % k, check_no_temps(run_dir))


def parse_expect(specs):
    """["K=7,7", "s="] -> {"K": (7, 7), "s": ()}."""
    out = {}
    for spec in specs:
        name, sep, dims = spec.partition("=")
        if not sep or not name:
            raise ValueError("expected NAME=D1,D2,... but got '%s'" % spec)
        out[name] = tuple(int(d) for d in dims.split(",") if d.strip())
    return out


def main(argv):
    checks = Checks()
    if len(argv) >= 3 and argv[1] == "--check":
        try:
            expected = parse_expect(argv[3:])
        except ValueError as e:
            print("usage error: %s" % e, file=sys.stderr)
            return 2
        checks.report("%s members" % argv[2], check_npz(argv[2], expected))
        return checks.summary()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ntk_npz_numpy_") as tmp:
        test_cli(os.path.abspath(argv[1]), checks, tmp)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
