#!/usr/bin/python3
"""`ntkdrift sweep` end to end.

- Regime labels on constructed cases: no hidden layers (constant kernel) is lazy below
  eta = 2/lambda_max(c K_0) and unstable (diverged) above it; a very wide shallow ReLU net at a small
  learning rate is lazy; a narrow deep net trained long is not lazy; a nonlinear net between
  2/lambda_max and divergence catapults (loss spike, lambda_max falls, converges) and is labelled by
  what happened, with the catapult recorded.
- Kernel regression with K_inf: test_err_kinf equals numpy's solve of the same predictor on the
  cell's kinf.npz (1e-9: rounding of two Cholesky / LU solves at cond ~ 1e8 with ridge 1e-8 mean diag).
- cells.csv carries the contract columns; --resume after a SIGKILL ends identical; 2 MPI ranks give
  what one process gives; bad input is refused before anything is written.

usage: test_sweep_cli.py PATH/TO/ntkdrift
"""
import csv, os, shutil, signal, subprocess, sys, tempfile, time

import numpy as np

from clitest import check, csv_rows, finish, same_tree

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_sweep_")



def sweep(out, *args):
    r = subprocess.run([BIN, "sweep", "--out", out, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr[-2000:])
    return r


def rows(out):
    return csv_rows(os.path.join(out, "cells.csv"))


CONTRACT = ["depth", "width", "beta", "lr", "lr_frac", "seed", "drift_fro", "lin_err", "pert_err", "test_err_net",
            "test_err_k0", "test_err_kT", "test_err_kinf", "regime"]


def test_constant_kernel():
    out = os.path.join(TMP, "depth0")
    r = sweep(out, "--depths", "0", "--widths", "8", "--lr-fracs", "0.9,1.1", "--steps", "400", "--data", "circle",
              "--n", "16", "--n-eval", "16")
    rs = rows(out) if r.returncode == 0 else []
    check(len(rs) == 2 and all(c in rs[0] for c in CONTRACT), "cells.csv has the contract columns")
    if len(rs) == 2:
        check(rs[0]["regime"] == "lazy" and float(rs[0]["drift_fro"]) == 0,
              f"depth 0 at 0.9 x 2/lambda_max: {rs[0]['regime']} (drift {rs[0]['drift_fro']})")
        check(rs[1]["regime"] == "unstable" and rs[1]["outcome"] == "diverged",
              f"depth 0 at 1.1 x 2/lambda_max: {rs[1]['regime']}, {rs[1]['outcome']}")


def test_wide_and_deep():
    out = os.path.join(TMP, "widedeep")
    r = sweep(out, "--depths", "1", "--widths", "4096", "--lr-fracs", "0.05", "--steps", "100", "--data", "circle",
              "--n", "16", "--n-eval", "16")
    rs = rows(out) if r.returncode == 0 else [{}]
    check(rs[0].get("regime") == "lazy", f"wide shallow relu, small eta: {rs[0].get('regime')} "
                                         f"(drift {rs[0].get('drift_fro')}, lin_err {rs[0].get('lin_err')})")
    out = os.path.join(TMP, "deep")
    r = sweep(out, "--depths", "8", "--widths", "12", "--lr-fracs", "0.5", "--steps", "3000", "--data", "circle",
              "--n", "16", "--n-eval", "16", "--snapshots", "log:12")
    rs = rows(out) if r.returncode == 0 else [{}]
    check(rs[0].get("regime") == "weak_feature_learning",
          f"narrow deep net trained long: {rs[0].get('regime')} (drift {rs[0].get('drift_fro')})")


def test_catapult():
    out = os.path.join(TMP, "catapult")
    r = sweep(out, "--depths", "2", "--widths", "128", "--lr-fracs", "1.2", "--steps", "200", "--data", "circle",
              "--n", "24", "--n-eval", "32", "--snapshots", "every:5")
    c = rows(out)[0] if r.returncode == 0 else {}
    ok = (c.get("catapult") == "1" and c.get("regime") != "unstable" and c.get("outcome") == "completed"
          and float(c["loss_max"]) > 2 * float(c["loss0"]) and float(c["lambda_max_T"]) < float(c["lambda_max_0"]))
    check(ok, f"eta = 1.2 x 2/lambda_max catapults: loss {c.get('loss0')} -> max {c.get('loss_max')} -> "
              f"{c.get('loss_T')}, lambda_max {c.get('lambda_max_0')} -> {c.get('lambda_max_T')}, "
              f"label {c.get('regime')}")
    # K_inf kernel regression against numpy on the same matrices
    z = np.load(os.path.join(out, c.get("run", "x"), "kinf.npz")) if c else None
    if z is not None:
        K, Ke, y, ye = z["K_inf"], z["K_inf_eval"], z["y_train"], z["y_eval"]
        lam = 1e-8 * np.mean(np.diag(K))
        pred = Ke @ np.linalg.solve(K + lam * np.eye(len(K)), y)
        err = np.sqrt(np.mean((pred - ye) ** 2))
        check(abs(err - float(c["test_err_kinf"])) <= 1e-9 * max(err, 1e-300) + 1e-12,
              f"K_inf regression error {float(c['test_err_kinf']):.10g} vs numpy {err:.10g}")


def test_resume():
    """SIGKILL at several points (inside cells 0, 2 and 3, once each has a checkpoint), then --resume:
    cells.csv identical to the uninterrupted sweep."""
    args = ["--depths", "1,2", "--widths", "32,64", "--lr-fracs", "0.5", "--steps", "1500", "--data", "circle",
            "--n", "24", "--n-eval", "24", "--snapshots", "every:100"]
    ref = os.path.join(TMP, "ref")
    sweep(ref, *args)
    for cell in (0, 2, 3):
        out = os.path.join(TMP, f"killed{cell}")
        p = subprocess.Popen([BIN, "sweep", "--out", out, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        ck = os.path.join(out, "cells", f"cell_{cell:05d}", "checkpoint.npz")
        while time.time() < deadline and p.poll() is None and not os.path.exists(ck):
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if os.path.exists(os.path.join(out, "manifest.json")):
            check(False, f"kill in cell {cell}: the sweep finished before the kill (make it longer)")
            continue
        r = subprocess.run([BIN, "sweep", "--resume", out], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr[-1500:])
        diff = same_tree(ref, out) if r.returncode == 0 else r.stderr.strip()[-300:]
        check(diff is None, f"SIGKILL in cell {cell} + --resume: every file byte-identical to the uninterrupted "
                            f"sweep ({diff or 'cells.csv, every cell'})")


def test_mpi():
    """Cells dealt to 2 MPI ranks give the same cells.csv (and cell files) as one process."""
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout
    if "(mpi)" not in version or not shutil.which("mpirun"):
        check(False, f"MPI build and mpirun expected (scripts/setup.sh installs OpenMPI): {version.strip()}")
        return
    args = ["--depths", "1,2", "--widths", "16,32", "--lr-fracs", "0.5,1.3", "--steps", "100", "--data", "circle",
            "--n", "16", "--n-eval", "16", "--threads", "1"]
    ref = os.path.join(TMP, "mpi_ref")
    sweep(ref, *args)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    if "ASAN_OPTIONS" in env:  # as in test_ensemble_cli.py: MPI plugins defeat LeakSanitizer
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    out = os.path.join(TMP, "mpi2")
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", BIN, "sweep", "--out", out, *args],
                       capture_output=True, text=True, env=env, timeout=600)
    same = r.returncode == 0 and open(os.path.join(ref, "cells.csv")).read().replace(ref, "") == \
        open(os.path.join(out, "cells.csv")).read().replace(out, "") and all(
        open(os.path.join(ref, "cells", c, "trajectory.npz"), "rb").read() ==
        open(os.path.join(out, "cells", c, "trajectory.npz"), "rb").read() for c in os.listdir(os.path.join(ref, "cells")))
    check(same, f"mpirun -np 2: cells.csv and every cell's trajectory identical to one process {r.stderr.strip()[-300:]}")


def test_absolute_lr():
    """An absolute --lr (one eta for every cell, lr_frac 0): the figures are drawn (the regime map's axis
    is eta, not the fraction: a log axis of zeros drew nothing), and the map's data places every cell
    at (beta, eta) with the regime of cells.csv."""
    out = os.path.join(TMP, "abs_lr")
    r = sweep(out, "--depths", "0,1", "--widths", "16,32", "--lr", "0.05", "--steps", "50", "--data", "circle",
              "--n", "16", "--n-eval", "16")
    rs = rows(out) if r.returncode == 0 else []
    check(len(rs) == 4 and all(float(c["lr"]) == 0.05 and float(c["lr_frac"]) == 0 for c in rs),
          f"absolute --lr: {len(rs)} cells at eta = 0.05, lr_frac 0")
    figs = os.path.join(out, "figures")
    names = [f"{n}.{e}" for n in ("regime_map", "drift_beta", "drift_time", "kregression") for e in ("gp", "dat")]
    if shutil.which("gnuplot"):
        names += [f"{n}.png" for n in ("regime_map", "drift_beta", "drift_time", "kregression")]
    missing = [n for n in names
               if not (os.path.exists(os.path.join(figs, n)) and os.path.getsize(os.path.join(figs, n)))]
    drawn = "figures not drawn" not in r.stderr and "gnuplot failed" not in r.stderr
    check(r.returncode == 0 and not missing and drawn,
          f"absolute --lr: every figure drawn ({', '.join(missing) or 'none missing'})")
    dat = os.path.join(figs, "regime_map.dat")
    pts = np.loadtxt(dat, ndmin=2) if os.path.exists(dat) else np.zeros((0, 4))
    code = {"lazy": 0, "weak_feature_learning": 1, "unstable": 2}
    want = sorted((float(c["beta"]), float(c["lr"]), code[c["regime"]]) for c in rs)
    got = sorted((p[0], p[1], int(p[3])) for p in pts) if pts.shape[1] >= 4 else []
    check(len(rs) == 4 and got == want, f"absolute --lr: regime map at (beta, eta, regime) {got} = cells.csv {want}")


def test_bad_input():
    for args, needle in ((["--depths", "1", "--widths", "8", "--lr-fracs", "0.5,-1"], "--lr-fracs"),
                         (["--depths", "1", "--widths", "8", "--lr-fracs", "0.5,,1"], "--lr-fracs"),
                         (["--depths", "1", "--widths", "8", "--lr-fracs", "0.5", "--act", "nope"], "--act"),
                         (["--depths", "1", "--widths", "8", "--data", "/nonexistent.npy"], "nonexistent")):
        out = os.path.join(TMP, "bad")
        r = subprocess.run([BIN, "sweep", "--out", out, *args], capture_output=True, text=True)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        check(r.returncode == 2 and len(lines) == 1 and needle in lines[0] and not os.path.exists(out),
              f"bad input refused before writing: {lines[0] if lines else r.returncode}")


test_constant_kernel()
test_wide_and_deep()
test_catapult()
test_resume()
test_mpi()
test_absolute_lr()
test_bad_input()
finish(TMP)
