#!/usr/bin/python3
"""`ntkdrift modes` (docs/modes.md) against numpy written from the definitions.

- One cell (n = 32 grid, one hidden ReLU layer of width 32, seed 1): `ntkdrift kernel` gives the same
  network's K; from it numpy computes G = Phi^T Phi / n (1e-12), the leakage of the Fourier blocks of
  U^T A U (1e-9: modes.csv prints 10 significant digits) and the largest principal angle between plane 1 and the two eigenvectors that
  overlap it most (1e-6: angles near 0 come from an SVD, ~sqrt(eps)); modes.csv must hold the same.
- The leakage falls with width (means over 3 seeds, width 32 -> 512: the 1/sqrt(width) rate predicts
  4x, the check asks for 2x).
- exceedance.csv: shares in [0, 1], falling with width, and the bound 2 d^2 exp(-c m min(e^2/L^2, e/L))
  (1e-9 relative: the printed digits).
- A matrix kernel is refused with exit 2 and one line.

usage: test_modes_cli.py PATH/TO/ntkdrift"""
import csv, math, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_modes_")
n, K = 32, 3
r = subprocess.run(
    [BIN, "modes", "--ns", str(n), "--widths", "32,512", "--seeds", "0:3", "--kmax", str(K), "--eps", "0.02,0.1",
     "--bound-c", "0.5", "--bound-l", "2", "--out", f"{TMP}/m"], capture_output=True, text=True)
check(r.returncode == 0, f"modes runs: {r.stderr[-300:]}")
rows = list(csv.DictReader(open(f"{TMP}/m/modes.csv"))) if r.returncode == 0 else []
check(len(rows) == 6, f"modes.csv has 2 widths x 3 seeds rows ({len(rows)})")
row = [x for x in rows if x["width"] == "32" and x["seed"] == "1"]
k = subprocess.run([BIN, "kernel", "--data", "circle", "--n", str(n), "--depth", "1", "--width", "32", "--n0", "2",
                    "--seed", "1", "--out", f"{TMP}/k"], capture_output=True, text=True)
check(k.returncode == 0 and len(row) == 1, f"the same network's kernel {k.stderr[-200:]}")
if row and k.returncode == 0:
    row = row[0]
    Km = np.load(f"{TMP}/k/kernel.npz")["K"]
    g = -np.pi + 2 * np.pi * np.arange(n) / n
    Phi = np.stack([np.ones(n)] + [np.sqrt(2) * f(j * g) for j in range(1, K + 1) for f in (np.cos, np.sin)], 1)
    G = Phi.T @ Phi / n
    Gm = np.max(np.abs(G - np.eye(2 * K + 1)))
    check(abs(float(row["G_max"]) - Gm) <= 1e-12, f"G_max {row['G_max']} = numpy's {Gm:.3e}")
    A = Km / n
    U = Phi / np.linalg.norm(Phi, axis=0)
    C = U.T @ A @ U
    plane = np.array([0] + [(p + 1) // 2 for p in range(1, 2 * K + 1)])
    block = plane[:, None] == plane[None, :]
    leak = np.abs(C[~block]).sum() / np.abs(C[block]).sum()
    check(abs(float(row["leakage"]) - leak) <= 1e-9 * leak, f"leakage {row['leakage']} = numpy's {leak:.10g}")
    w, V = np.linalg.eigh(A)
    V = V[:, ::-1]
    Q = np.linalg.qr(np.stack([np.cos(g), np.sin(g)], 1))[0]
    ov = np.sum((Q.T @ V) ** 2, axis=0)
    sel = np.sort(np.argsort(-ov)[:2])
    s = np.linalg.svd(Q.T @ V[:, sel], compute_uv=False)
    ang = math.acos(min(1.0, s.min()))
    check(abs(float(row["angle_1"]) - ang) <= 1e-6, f"angle_1 {row['angle_1']} = numpy's {ang:.6g}")
lk = {wd: np.mean([float(x["leakage"]) for x in rows if x["width"] == wd]) for wd in ("32", "512")}
check(rows and lk["512"] * 2 <= lk["32"], f"leakage falls with width: {lk}")
ex = list(csv.DictReader(open(f"{TMP}/m/exceedance.csv"))) if r.returncode == 0 else []
d = 2 * K + 1
ok = len(ex) == 4
for e in ex:
    m, eps = int(e["m"]), float(e["eps"])
    want = 2 * d * d * math.exp(-0.5 * m * min((eps / 2) ** 2, eps / 2))
    ok = ok and 0 <= float(e["exceed"]) <= 1 and abs(float(e["bound"]) - want) <= 1e-9 * want
check(ok, f"exceedance.csv: shares in [0, 1] and the bound's formula ({len(ex)} rows)")
share = {(e["m"], e["eps"]): float(e["exceed"]) for e in ex}
check(ex and share[("512", "0.02")] <= share[("32", "0.02")], "exceedance falls with width")
# concentration.csv's lemma columns: on the equispaced grid G = Phi^T Phi / n = I up to rounding
# (sums of n products of cosines: 1e-12), so ||G - I|| is rounding in both norms
cc = list(csv.DictReader(open(f"{TMP}/m/concentration.csv"))) if r.returncode == 0 else []
check(len(cc) == 6 and all(float(x["G_max"]) <= 1e-12 and float(x["G_fro"]) <= 1e-12 for x in cc),
      "concentration.csv: ||G - I|| of the grid is rounding (finite width on the grid)")
# --no-cells: only the concentration, the same bytes; modes.csv keeps its header and no row
r2 = subprocess.run(
    [BIN, "modes", "--ns", str(n), "--widths", "32,512", "--seeds", "0:3", "--kmax", str(K), "--eps", "0.02,0.1",
     "--bound-c", "0.5", "--bound-l", "2", "--no-cells", "--out", f"{TMP}/nc"], capture_output=True, text=True)
same = r2.returncode == 0 and all(open(f"{TMP}/m/{f}", "rb").read() == open(f"{TMP}/nc/{f}", "rb").read()
                                  for f in ("concentration.csv", "exceedance.csv", "continuum.csv"))
check(same and len(open(f"{TMP}/nc/modes.csv").read().splitlines()) == 1,
      f"--no-cells: the same concentration files, modes.csv without rows {r2.stderr[-200:]}")
np.save(f"{TMP}/K.npy", np.eye(n))
b = subprocess.run([BIN, "modes", "--kernel", f"{TMP}/K.npy", "--out", f"{TMP}/bad"], capture_output=True, text=True)
check(b.returncode == 2 and len(b.stderr.strip().splitlines()) == 1 and "modes takes" in b.stderr,
      f"a matrix kernel: exit 2, one line ({b.returncode}: {b.stderr.strip()[:200]})")
finish(TMP)
