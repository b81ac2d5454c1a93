#!/usr/bin/python3
"""`ntkdrift train --nth 3|4` against numpy on the run's own snapshot files.

- metrics.csv's nth_err, nth_kerr, nth_drift, nth_eval_err, nth_eval_kerr equal their definitions
  (docs/dynamics.md, docs/train.md) recomputed from snapshots/snap_<step>.npz (f_train, K, f_eval,
  K_eval, f_nth, K_nth, f_nth_eval, K_nth_eval) to the printed digits (%.10g: 1e-9 relative, plus
  the rounding of sums of squares, ~1e-15), at levels 3 and 4;
- the manifest echoes the level; a run without --nth has no nth column and no f_nth member;
- refusals: --nth 2, --opt momentum, --batch, and N above NTK_O4_MAX_N = 64 at level 4.

usage: test_train_nth_cli.py PATH/TO/ntkdrift
"""
import json, os, shutil, subprocess, sys, tempfile

import numpy as np

from clitest import check, csv_rows, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_nth_cli_")
BASE = ["train", "--depth", "2", "--width", "256", "--act", "erf", "--n", "12", "--n-eval", "6", "--steps", "40",
        "--snapshots", "every:10"]


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True)


def close(got, want):
    if np.isnan(want):
        return np.isnan(got)
    return abs(got - want) <= 1e-9 * abs(want) + 1e-300


for level in (3, 4):
    out = os.path.join(TMP, f"l{level}")
    r = run(*BASE, "--nth", str(level), "--out", out)
    check(r.returncode == 0, f"level {level}: the run completes {r.stderr[-400:]}")
    if r.returncode:
        continue
    rows = csv_rows(os.path.join(out, "metrics.csv"))
    cols = ["nth_err", "nth_kerr", "nth_drift", "nth_eval_err", "nth_eval_kerr"]
    check(list(rows[0].keys())[-5:] == cols, f"level {level}: metrics.csv ends with {cols}")
    snap = lambda s: np.load(os.path.join(out, "snapshots", f"snap_{int(s):010d}.npz"))
    z0 = snap(rows[0]["step"])
    f0, K0, fe0, Ke0 = z0["f_train"], z0["K"], z0["f_eval"], z0["K_eval"]
    bad = []
    moved = 0.0
    for j, row in enumerate(rows):
        z = snap(row["step"])
        f, K, fe, Ke = z["f_train"], z["K"], z["f_eval"], z["K_eval"]
        fh, Kh, feh, Keh = z["f_nth"], z["K_nth"], z["f_nth_eval"], z["K_nth_eval"]
        nrm = np.linalg.norm
        if j == 0:
            want = [0.0, np.nan, nrm(Kh - K0) / nrm(K0), 0.0, np.nan]
        else:
            want = [nrm(f - fh) / nrm(f - f0), nrm(K - Kh) / nrm(K - K0), nrm(Kh - K0) / nrm(K0),
                    nrm(fe - feh) / nrm(fe - fe0), nrm(Ke - Keh) / nrm(Ke - Ke0)]
        moved = max(moved, nrm(Kh - K0) / nrm(K0))
        for c, w in zip(cols, want):
            if not close(float(row[c]), w):
                bad.append((row["step"], c, row[c], w))
    check(not bad, f"level {level}: the nth columns equal numpy on f_nth, K_nth, f, K of the snapshots {bad[:3]}")
    check(moved > 1e-4, f"level {level}: the predicted kernel moves ({moved:.3g}), so the comparison means something")
    man = json.load(open(os.path.join(out, "manifest.json")))
    check(man["train"]["nth"]["level"] == level, f"level {level}: the manifest echoes nth")
    if level == 4:
        e, l = float(rows[-1]["nth_err"]), float(rows[-1]["lin_err"])
        check(0 < e < l, f"level 4 at width 256 (smaller widths can lose: docs/dynamics.md): nth_err {e:.3g} below lin_err {l:.3g}")

out = os.path.join(TMP, "off")
r = run(*BASE, "--out", out)
rows = csv_rows(os.path.join(out, "metrics.csv")) if r.returncode == 0 else [{}]
z = np.load(os.path.join(out, "snapshots", "snap_0000000010.npz")) if r.returncode == 0 else {}
check(r.returncode == 0 and not any(k.startswith("nth") for k in rows[0]) and "f_nth" not in z
      and "\n  nth:" not in open(os.path.join(out, "config.yaml")).read(),
      "without --nth: no nth column, no f_nth member, no nth key in config.yaml")

for extra, msg in ((["--nth", "2"], "nth must be 0 (off), 3"), (["--nth", "4", "--opt", "momentum"], "full-batch"),
                   (["--nth", "3", "--opt", "sgd", "--batch", "4"], "full-batch"),
                   (["--nth", "4", "--n", "65", "--n-eval", "0"], "refused above N, M = 64")):
    o = os.path.join(TMP, "bad")
    r = run(*BASE, *extra, "--out", o)
    check(r.returncode != 0 and msg in r.stderr and not os.path.exists(os.path.join(o, "metrics.csv")),
          f"{' '.join(extra)}: refused before the run ('{msg}'): {r.stderr.strip()[-200:]}")

finish(TMP)
