#!/usr/bin/python3
"""`ntkdrift spectra` (docs/modes.md, "Seed-mean spectra") against numpy written from the definitions.

- Three train runs (seeds 0, 1, 2 of one configuration, width 64, 8 points, 40 steps, a snapshot every
  10): numpy reads each snapshot's eigs, keeps the top 4, and computes the seed mean s(t), the drift
  ||s(t) - s(0)|| / ||s(0)||, the variance over seeds (ddof 1) and TV_j = sum_t |s_j(t+1) - s_j(t)|.
  spectra.npz must hold the same to 1e-14 relative (the same sums, possibly in another order);
  spectra.csv and tv.csv the printed digits (1e-9); active = TV > tau.
- The figure seed_spectra is drawn and the manifest lists the runs.
- Runs with different snapshot steps, a directory that is not a train run, a bad --top and no runs are
  refused with exit 2 and one line, leaving no complete run directory.

usage: test_spectra_cli.py PATH/TO/ntkdrift"""
import csv, json, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_spectra_")


def run(*args):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)


runs = []
for s in range(3):
    r = run("train", "--n", 8, "--width", 64, "--steps", 40, "--snapshots", "every:10", "--seed", s,
            "--out", f"{TMP}/r{s}")
    check(r.returncode == 0, f"train seed {s}: {r.stderr[-200:]}")
    runs.append(f"{TMP}/r{s}")
r = run("train", "--n", 8, "--width", 64, "--steps", 40, "--snapshots", "every:20", "--out", f"{TMP}/other")
check(r.returncode == 0, "train with other snapshot steps")

P, tau = 4, 0.05
r = run("spectra", *runs, "--top", P, "--tau", tau, "--out", f"{TMP}/sp")
check(r.returncode == 0, f"spectra runs: {r.stderr[-300:]}")
steps = [0, 10, 20, 30, 40]
S = np.array([[np.load(f"{d}/snapshots/snap_{t:010d}.npz")["eigs"][:P] for t in steps] for d in runs])
m = S.mean(0)
drift = np.linalg.norm(m - m[0], axis=1) / np.linalg.norm(m[0])
var = S.var(0, ddof=1)
tv = np.abs(np.diff(m, axis=0)).sum(0)
z = np.load(f"{TMP}/sp/spectra.npz") if r.returncode == 0 else None


def close(a, b, rel):
    return np.max(np.abs(np.asarray(a) - b)) <= rel * np.max(np.abs(b))


ok = z is not None and np.array_equal(z["S"], S) and np.array_equal(z["step"], steps)
check(ok and close(z["mean"], m, 1e-14) and close(z["var"], var, 1e-14) and close(z["drift"], drift, 1e-14)
      and close(z["tv"], tv, 1e-14) and np.array_equal(z["active"], (tv > tau).astype(float)),
      "spectra.npz: S, mean, var, drift, tv and active equal numpy's")
rows = list(csv.DictReader(open(f"{TMP}/sp/spectra.csv"))) if z is not None else []
ok = len(rows) == 5 and close([float(x["drift"]) for x in rows], drift, 1e-9)
ok = ok and close([[float(x[f"mean_{j + 1}"]) for j in range(P)] for x in rows], m, 1e-9)
tvr = list(csv.DictReader(open(f"{TMP}/sp/tv.csv"))) if z is not None else []
ok = ok and len(tvr) == P and close([float(x["tv"]) for x in tvr], tv, 1e-9)
check(ok and [int(x["active"]) for x in tvr] == list((tv > tau).astype(int)), "spectra.csv and tv.csv: the same values")
man = json.load(open(f"{TMP}/sp/manifest.json")) if z is not None else {}
check(man.get("spectra", {}).get("runs") == runs and os.path.exists(f"{TMP}/sp/figures/seed_spectra.gp"),
      "manifest lists the runs; the seed_spectra figure is written")

for args, want in (([runs[0], f"{TMP}/other"], "must share their snapshot steps"),
                   ([runs[0], f"{TMP}/sp"], "is not a train run with snapshots"),
                   ([runs[0], "--top", 0], "--top: expected an integer"),
                   ([], "give the run directories")):
    r = run("spectra", *args, "--out", f"{TMP}/bad")
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and want in lines[0] and not os.path.exists(f"{TMP}/bad/manifest.json"),
          f"bad input {want!r}: exit 2, one line ({r.returncode}: {r.stderr.strip()[:200]})")
finish(TMP)
