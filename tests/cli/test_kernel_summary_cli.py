#!/usr/bin/python3
"""`ntkdrift kernel`'s summary: only what was asked for is computed (docs/cli.md, `ntkdrift kernel`).

- Without --eig: the manifest's summary holds trace, mean_diag and fro only (no lambda_min /
  lambda_max), the printed line has no eigenvalue range, config.yaml has no `eig` key; trace, mean_diag
  and fro equal numpy's on the run's own K_trace.
- With --eig: lambda_min / lambda_max equal numpy.linalg.eigvalsh of K_trace, the printed range shows
  them, config.yaml records `eig: true`; kernel.npz is byte-identical to the run without --eig
  (float64 and float32, k = 1 and k = 2).
- K_trace in kernel.npz: for k = 1 equal to K bit for bit, for k = 2 the sum of the two output
  diagonals (two addends: one rounding, the same in numpy).

usage: test_kernel_summary_cli.py PATH/TO/ntkdrift
"""
import json, os, subprocess, sys, tempfile

import numpy as np

from clitest import check, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_ksum_")
NET = ["--depth", "2", "--width", "64", "--n0", "5", "--n", "40", "--act", "tanh", "--bias", "normal", "--seed", "3"]


def run(name, *args):
    out = os.path.join(TMP, name)
    r = subprocess.run([BIN, "kernel", "--out", out, *NET, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr[-2000:])
        return None
    with open(os.path.join(out, "manifest.json")) as fh:
        man = json.load(fh)
    with open(os.path.join(out, "config.yaml")) as fh:
        cfg = fh.read()
    with open(os.path.join(out, "kernel.npz"), "rb") as fh:
        raw = fh.read()
    with np.load(os.path.join(out, "kernel.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    return dict(stdout=r.stdout, summary=man["summary"], config=cfg, raw=raw, arrays=arrays)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def test(dtype, k):
    tag = f"{dtype} k={k}"
    plain = run(f"plain_{dtype}_{k}", "--dtype", dtype, "--outputs", str(k))
    eig = run(f"eig_{dtype}_{k}", "--dtype", dtype, "--outputs", str(k), "--eig")
    if plain is None or eig is None:
        check(False, f"{tag}: both runs succeed")
        return
    Kt = plain["arrays"]["K_trace"].astype(np.float64)
    s = plain["summary"]
    check(sorted(s) == ["fro", "mean_diag", "trace"], f"{tag}: no eigenvalues unless asked for ({sorted(s)})")
    check("lambda" not in plain["stdout"], f"{tag}: the printed summary has no eigenvalue range")
    check("eig:" not in plain["config"] and "  eig: true" in eig["config"], f"{tag}: config.yaml records --eig only")
    # the library sums the same entries in row order (float64 accumulator): rounding ~ N^2 eps at most
    check(rel(s["trace"], np.trace(Kt)) < 1e-12 and rel(s["fro"], np.linalg.norm(Kt)) < 1e-12
          and rel(s["mean_diag"], np.trace(Kt) / Kt.shape[0]) < 1e-12,
          f"{tag}: trace, fro, mean_diag against numpy")
    w = np.linalg.eigvalsh(Kt)
    e = eig["summary"]
    # two LAPACK symmetric eigensolvers on the same matrix: each within ~N eps ||K|| of the truth
    scale = abs(w[-1])
    check("lambda_max" in e and "lambda_min" in e and abs(e["lambda_max"] - w[-1]) < 1e-10 * scale
          and abs(e["lambda_min"] - w[0]) < 1e-10 * scale, f"{tag}: --eig lambda_min, lambda_max against numpy eigvalsh")
    check(all(e[key] == s[key] for key in s), f"{tag}: --eig leaves the other summary numbers unchanged")
    check("lambda in [" in eig["stdout"], f"{tag}: --eig prints the eigenvalue range")
    check(plain["raw"] == eig["raw"], f"{tag}: kernel.npz byte-identical with and without --eig")
    K = plain["arrays"]["K"]
    if k == 1:
        check(np.array_equal(K, plain["arrays"]["K_trace"]), f"{tag}: K_trace is K bit for bit")
    else:
        check(np.array_equal(K[:, :, 0, 0] + K[:, :, 1, 1], plain["arrays"]["K_trace"]),
              f"{tag}: K_trace is the sum of the output diagonals")


for dtype in ("f64", "f32"):
    for k in (1, 2):
        test(dtype, k)
finish(TMP)
