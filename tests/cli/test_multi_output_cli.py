#!/usr/bin/python3
"""Commands with k > 1 outputs, end to end (docs/conventions.md, multi-output comparisons).

- profile --outputs 2 and 3: the stored K equals the output mean (1/k) K_trace of `ntkdrift kernel`
  for the same seed and network (the anchor x_0 = (1, 0) is a point of the circle grid); the limit
  is the per-output one (equal to the k = 1 run's); at width 1024 the seed mean is close to the
  limit, within the statistical bound below; the figure's data compares the same two things.
- converge --outputs 2: diag_limit is per output (the k = 1 value), diag_mean close to it.
- sweep --outputs 2: test_err_net, test_err_k0, test_err_kT and test_err_kinf recomputed with numpy
  from the cell's own files, all as RMSE per entry sqrt(sum_{i,a} (f_ia - y_ia)^2 / (M k)).
- train --outputs 2: snapshots and trajectory hold (N k)-sized arrays; lin_err finite; the
  step-0 kernel equals `ntkdrift kernel`'s K for the same seed and config (reordered to (N k)^2).

usage: test_multi_output_cli.py PATH/TO/ntkdrift
"""
import json, os, subprocess, sys, tempfile

import numpy as np

from clitest import check, csv_rows, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_multi_")


def run(cmd, out, *args):
    r = subprocess.run([BIN, cmd, "--out", out, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr[-2000:])
    return r


def kernel_npz(out, *args):
    r = run("kernel", out, *args)
    return np.load(os.path.join(out, "kernel.npz")) if r.returncode == 0 else None


def rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / max(np.abs(np.asarray(b)).max(), 1e-300))


N_PROFILE = 16  # even: the symmetric grid on [-pi, pi) contains gamma = 0, the anchor x_0 = (1, 0)
SEEDS = 8


def profile(k):
    out = os.path.join(TMP, f"profile_k{k}")
    r = run("profile", out, "--depths", "1", "--widths", "1024", "--seeds", f"0:{SEEDS}", "--n", str(N_PROFILE),
            "--outputs", str(k))
    if r.returncode != 0:
        return None, None, None
    return out, np.load(os.path.join(out, "profile.npz")), csv_rows(os.path.join(out, "metrics.csv"))[0]


def test_profile():
    _, z1, m1 = profile(1)
    for k in (2, 3):
        out, z, m = profile(k)
        if z is None or z1 is None:
            check(False, f"profile --outputs {k} runs")
            continue
        i0 = int(np.argmin(np.abs(z["gamma"])))
        check(abs(z["gamma"][i0]) < 1e-15, f"profile grid contains the anchor gamma = 0 (index {i0})")
        # K equals the output mean of an independent kernel computation (full kernel against the
        # anchor row of the cross kernel: rounding of two summation orders, 1e-12 relative)
        for s in (0, SEEDS - 1):
            kz = kernel_npz(os.path.join(TMP, f"kernel_k{k}_s{s}"), "--depth", "1", "--width", "1024",
                            "--outputs", str(k), "--data", "circle", "--n", str(N_PROFILE), "--seed", str(s))
            if kz is None:
                check(False, f"kernel --outputs {k} --seed {s} runs")
                continue
            ref = np.einsum("jaa->j", kz["K"][i0]) / k
            e = rel(z["K"][0, 0, s], ref)
            check(e <= 1e-12, f"profile k = {k}, seed {s}: K equals (1/k) sum_a K_aa(x_0, x) of `kernel` ({e:.1e})")
            e = rel(z["K"][0, 0, s], kz["K_trace"][i0] / k)
            check(e <= 1e-12, f"profile k = {k}, seed {s}: K equals K_trace[x_0] / k ({e:.1e})")
        # the limit is per output: the k = 1 profile's limit, bit for bit (same recursion)
        check(np.array_equal(z["limit"], z1["limit"]), f"profile k = {k}: limit is the per-output K_inf")
        # seed mean against the limit.  The error of the seed mean is its fluctuation, about
        # rel_std / sqrt(S), plus the finite-width bias of E[K], O(depth / width) ~ 1e-3 here; 4 rel_std /
        # sqrt(S) + 0.01 bounds both with room (a factor-k mismatch gives k - 1 >= 1).
        err, sd = float(m["rel_err_mean_vs_limit"]), float(m["rel_std"])
        bound = 4 * sd / np.sqrt(SEEDS) + 0.01
        check(err <= bound, f"profile k = {k}, width 1024: |mean - limit| / |limit| = {err:.4f} <= {bound:.4f} "
                            f"(k = 1: {float(m1['rel_err_mean_vs_limit']):.4f})")
        # the figure's data: columns gamma mean p10 p90 limit of the one cell
        dat = os.path.join(out, "figures", "profile.dat")
        if os.path.exists(dat):
            a = np.loadtxt(dat)
            e = rel(a[:, 1], a[:, 4])
            check(e <= bound + 0.05, f"profile k = {k}: the figure's mean and limit agree ({e:.4f}, "
                                     f"max abs deviation relative to max |limit|)")
        man = json.load(open(os.path.join(out, "manifest.json")))
        check("multi_output" in man.get("conventions", {}), "manifest conventions state the multi-output rule")


def test_converge():
    res = {}
    for k in (1, 2):
        out = os.path.join(TMP, f"converge_k{k}")
        r = run("converge", out, "--depths", "1", "--widths", "512", "--seeds", "0:4", "--n", "16",
                "--outputs", str(k))
        res[k] = csv_rows(os.path.join(out, "metrics.csv"))[0] if r.returncode == 0 else None
    if not res[1] or not res[2]:
        check(False, "converge --outputs 1 and 2 run")
        return
    l1, l2 = float(res[1]["diag_limit"]), float(res[2]["diag_limit"])
    check(abs(l2 - l1) <= 1e-12 * l1, f"converge k = 2: diag_limit is per output ({l2:.10g} vs k = 1: {l1:.10g})")
    # E[K(x,x)] of the output mean: relative seed noise ~ rel error of one network (~0.05 at width
    # 512) / sqrt(4 seeds), so 10% bounds it; a factor 2 is 100%
    d2 = float(res[2]["diag_mean"])
    check(abs(d2 - l2) <= 0.1 * l2, f"converge k = 2: diag_mean {d2:.5g} close to diag_limit {l2:.5g}")


def krr(K, Ke, y, ridge):
    lam = ridge * np.mean(np.diag(K))
    return Ke @ np.linalg.solve(K + lam * np.eye(len(K)), y)


def test_sweep():
    out = os.path.join(TMP, "sweep_k2")
    M, N, k = 12, 16, 2
    r = run("sweep", out, "--depths", "1", "--widths", "32", "--lr-fracs", "0.5", "--steps", "50", "--data",
            "circle", "--n", str(N), "--n-eval", str(M), "--outputs", str(k), "--target", "random")
    if r.returncode != 0:
        check(False, "sweep --outputs 2 runs")
        return
    c = csv_rows(os.path.join(out, "cells.csv"))[0]
    cell = os.path.join(out, c["run"])
    tr, ki = np.load(os.path.join(cell, "trajectory.npz")), np.load(os.path.join(cell, "kinf.npz"))
    ye = ki["y_eval"]
    check(ye.shape == (M, k) and tr["f_eval"].shape[1] == M * k and int(tr["steps"][-1]) == 50,
          f"sweep k = 2: eval targets {ye.shape}, trajectory f_eval {tr['f_eval'].shape} to step {tr['steps'][-1]}")
    snaps = sorted(os.listdir(os.path.join(cell, "snapshots")))
    s0, sT = (np.load(os.path.join(cell, "snapshots", s)) for s in (snaps[0], snaps[-1]))
    y = tr["y_train"]  # (N k), row i * k + a
    check(np.array_equal(y.reshape(N, k), ki["y_train"]), "sweep k = 2: train targets agree between files")
    # RMSE per entry over the M x k eval outputs.  Tolerances: the network's value is printed with 10
    # significant digits (5e-10 relative); the kernel regressions are solves at ridge 1e-8 x mean diag
    # (condition <= 1e8: 1e-16 x 1e8 ~ 1e-8 relative in the coefficients, far less in the errors), so 1e-7
    want = {
        "test_err_net": (np.sqrt(np.mean((tr["f_eval"][-1].reshape(M, k) - ye) ** 2)), 1e-9),
        "test_err_k0": (np.sqrt(np.mean((krr(s0["K"], s0["K_eval"], y, 1e-8) - ye.ravel()) ** 2)), 1e-7),
        "test_err_kT": (np.sqrt(np.mean((krr(sT["K"], sT["K_eval"], y, 1e-8) - ye.ravel()) ** 2)), 1e-7),
        "test_err_kinf": (np.sqrt(np.mean((krr(ki["K_inf"], ki["K_inf_eval"], ki["y_train"], 1e-8) - ye) ** 2)), 1e-7),
    }
    for col, (v, tol) in want.items():
        got = float(c[col])
        check(abs(got - v) <= tol * v, f"sweep k = 2: {col} = {got:.10g}, numpy RMSE per entry {v:.10g} "
                                       f"(rel {abs(got - v) / v:.1e})")
    # the network's error from the final eval loss: loss_eval = 1/2 (1/M) sum_{i,a} (f - y)^2
    v = np.sqrt(2 * float(c["loss_eval_T"]) / k)
    check(abs(float(c["test_err_net"]) - v) <= 1e-9 * v, "sweep k = 2: test_err_net = sqrt(2 loss_eval_T / k)")


def test_train():
    out = os.path.join(TMP, "train_k2")
    N, M, k = 12, 8, 2
    args = ["--depth", "1", "--width", "64", "--outputs", str(k), "--data", "circle", "--n", str(N), "--seed", "3"]
    r = run("train", out, *args, "--n-eval", str(M), "--target", "random", "--steps", "30", "--snapshots", "every:10")
    if r.returncode != 0:
        check(False, "train --outputs 2 runs")
        return
    rows = csv_rows(os.path.join(out, "metrics.csv"))
    snaps = sorted(os.listdir(os.path.join(out, "snapshots")))
    check(len(rows) == len(snaps) == 4, f"train k = 2: {len(rows)} metrics rows, {len(snaps)} snapshots")
    n, m = N * k, M * k
    ok = True
    for s in snaps:
        z = np.load(os.path.join(out, "snapshots", s))
        ok &= z["K"].shape == (n, n) and z["K_eval"].shape == (m, n) and z["f_train"].shape == (n,) and \
            z["f_eval"].shape == (m,) and z["eigs"].shape == (n,)
    check(ok, f"train k = 2: every snapshot holds K ({n}, {n}), K_eval ({m}, {n}), f_train ({n},), f_eval ({m},)")
    tr = np.load(os.path.join(out, "trajectory.npz"))
    check(all(tr[a].shape == (4, n) for a in ("f_train", "f_lin", "f_pert", "f_pw")) and
          all(tr[a].shape == (4, m) for a in ("f_eval", "f_lin_eval")),
          f"train k = 2: trajectory arrays (S, N k) and (S, M k): f_train {tr['f_train'].shape}")
    lin = [float(rw["lin_err"]) for rw in rows[1:]]
    check(all(np.isfinite(lin)), f"train k = 2: lin_err finite after step 0 ({lin})")
    # step-0 kernel against `ntkdrift kernel` on the same training inputs and network: K[i, j, a, b]
    # at row i k + a, column j k + b.  Same code path (structured Grams): 1e-13 relative
    kz = kernel_npz(os.path.join(TMP, "train_k2_kernel"), *args)
    z0 = np.load(os.path.join(out, "snapshots", snaps[0]))
    if kz is not None:
        ref = kz["K"].transpose(0, 2, 1, 3).reshape(n, n)
        e = rel(z0["K"], ref)
        check(e <= 1e-13, f"train k = 2: step-0 kernel equals `ntkdrift kernel` ({e:.1e})")
    # kernel regression with K_0 on the (N k) training outputs against the network's eval outputs:
    # krr_vs_net = ||pred - f_eval|| / ||f_eval|| (solve at ridge 1e-8 x mean diag: 1e-7 as in the sweep)
    pred = krr(z0["K"], z0["K_eval"], tr["y_train"], 1e-8)
    v = np.linalg.norm(pred - z0["f_eval"]) / np.linalg.norm(z0["f_eval"])
    got = float(rows[0]["krr_vs_net"])
    check(abs(got - v) <= 1e-7 * v, f"train k = 2: krr_vs_net at step 0 {got:.10g}, numpy {v:.10g}")


test_profile()
test_converge()
test_sweep()
test_train()
finish(TMP)
