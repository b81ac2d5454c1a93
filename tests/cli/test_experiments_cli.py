#!/usr/bin/python3
"""The first user's experiments and the conventions they need (issue 12), end to end, each checked
against numpy or against another command's files:

- E1 (examples/e1_profile_trained.yaml, reduced): the profile at init equals row x_0 of `ntkdrift
  kernel`; the profile after training equals `ntkdrift kernel --load-params` of the params.npz that
  `ntkdrift train` writes for the same network, data, target and learning rate.
- E2 (examples/e2_fourier_kinf.yaml, reduced): training points are distinct points of the 720-grid
  (here 90), targets the E2 formula (numpy) plus noise 0.02 on the training set only, rel_err_kinf
  recomputed from the cell's trajectory and kinf.npz, groups.csv = numpy percentiles of cells.csv.
- Seeds: runs that differ only in --seed see identical data.npz; --data-seed changes it; the
  uniform evaluation angles never repeat circle-uniform's training angles.
- Loss: mse at a learning-rate fraction moves exactly like half_mean (eta halves, the gradient
  doubles) and reports twice the loss.
- Explicit Fourier terms (sin / cos mixed, partial sums) against numpy on data.npz's angles.
- Evaluation targets from a file; params export (final and per snapshot) and `ntkdrift eval`.
- Past the stability edge: the run completes with inf/NaN prediction errors and says so.
- Freeze time: the manifest's freeze_step recomputed with numpy from metrics.csv with the settings.

usage: test_experiments_cli.py PATH/TO/ntkdrift
"""
import json, math, os, subprocess, sys, tempfile

import numpy as np

from clitest import check, csv_rows, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_exp_")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/DOMAIN/this.py


def run(cmd, out, *args):
    r = subprocess.run([BIN, cmd, "--out", out, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"{cmd} exited {r.returncode}: {r.stderr[-1500:]}")
    return r


def T(name):
    return os.path.join(TMP, name)


def manifest(d):
    return json.load(open(os.path.join(d, "manifest.json")))


SMALL = ["--depth", "1", "--width", "32"]


def test_e1():
    cfg = os.path.join(ROOT, "examples", "e1_profile_trained.yaml")
    out = T("e1")
    r = run("profile", out, "--config", cfg, "--widths", "24", "--seeds", "0,3", "--n", "24", "--train-n", "32",
            "--steps", "40")
    check(r.returncode == 0, "E1 reduced: profile at init and after training runs")
    if r.returncode:
        return
    z = np.load(os.path.join(out, "profile.npz"))
    check(z["K"].shape == (1, 1, 2, 24) and z["K_trained"].shape == (1, 1, 2, 24) and z["loss_T"].shape == (1, 1, 2),
          f"E1: K, K_trained (depth, width, seed, angle), loss_T shapes {z['K'].shape} {z['K_trained'].shape}")
    net = ["--depth", "4", "--width", "24"]
    for si, seed in enumerate((0, 3)):
        # at init: the anchor x_0 = (1, 0) is grid point N/2 of the circle grid on [-pi, pi)
        k = run("kernel", T(f"e1k{seed}"), *net, "--data", "circle", "--n", "24", "--seed", str(seed))
        K = np.load(os.path.join(T(f"e1k{seed}"), "kernel.npz"))["K"] if k.returncode == 0 else None
        check(K is not None and np.abs(z["K"][0, 0, si] - K[12]).max() <= 1e-12 * np.abs(K).max(),
              f"E1 seed {seed}: profile at init = row x_0 of ntkdrift kernel")
        # after training: the same training run through `train`, its params.npz through `kernel`
        tr = run("train", T(f"e1t{seed}"), *net, "--seed", str(seed), "--data", "gaussian-raw", "--n0", "2",
                 "--n", "32", "--target", "product", "--lr-frac", "0.5", "--steps", "40", "--snapshots", "0")
        kt = run("kernel", T(f"e1kt{seed}"), *net, "--data", "circle", "--n", "24", "--load-params",
                 os.path.join(T(f"e1t{seed}"), "params.npz")) if tr.returncode == 0 else tr
        Kt = np.load(os.path.join(T(f"e1kt{seed}"), "kernel.npz"))["K"] if kt.returncode == 0 else None
        # same arithmetic in the same order (one trainer), so only BLAS rounding could differ: 1e-10
        check(Kt is not None and np.abs(z["K_trained"][0, 0, si] - Kt[12]).max() <= 1e-10 * np.abs(Kt).max(),
              f"E1 seed {seed}: profile after training = kernel of train's params.npz")
        loss_train = manifest(T(f"e1t{seed}"))["train"] if tr.returncode == 0 else {}
        rows = csv_rows(os.path.join(T(f"e1t{seed}"), "metrics.csv")) if tr.returncode == 0 else []
        # metrics.csv prints 10 significant digits: 1e-8 relative is that rounding with a margin
        check(rows and abs(float(rows[-1]["loss"]) - z["loss_T"][0, 0, si]) <= 1e-8 * abs(z["loss_T"][0, 0, si]),
              f"E1 seed {seed}: final loss {z['loss_T'][0, 0, si]:.6g} = train's {rows[-1]['loss'] if rows else '?'}")
        check(loss_train.get("eta") and abs(loss_train["eta"] - z["eta"][0, 0, si]) <= 1e-12 * z["eta"][0, 0, si],
              f"E1 seed {seed}: the same learning rate as train ({z['eta'][0, 0, si]:.6g})")


def e2_target(g):
    modes = [2, 4, 7, 11, 16, 23, 32]
    amps = [.9, .7, .55, .45, .35, .28, .22]
    phases = [0, math.pi / 2, 1.2, 2.0, .942, 4.5, 5.8]
    return sum(a * np.sin(k * g + p) for k, a, p in zip(modes, amps, phases))


def test_e2():
    cfg = os.path.join(ROOT, "examples", "e2_fourier_kinf.yaml")
    out = T("e2")
    r = run("sweep", out, "--config", cfg, "--widths", "48,96", "--seeds", "0:3", "--n", "40", "--n-eval", "90",
            "--steps", "150")
    check(r.returncode == 0, "E2 reduced: the sweep runs")
    if r.returncode:
        return
    cells = csv_rows(os.path.join(out, "cells.csv"))
    d = np.load(os.path.join(out, cells[0]["run"], "data.npz"))
    ge, gt = d["gamma_eval"], d["gamma_train"]
    grid = -np.pi + 2 * np.pi * np.arange(90) / 90
    idx = [int(np.argmin(np.abs(grid - g))) for g in gt]
    check(np.abs(ge - grid).max() < 1e-15 and len(set(idx)) == 40 and np.abs(grid[idx] - gt).max() == 0,
          "E2: the evaluation set is the grid and the 40 training points are distinct grid points")
    check(np.abs(d["y_eval"][:, 0] - e2_target(ge)).max() < 1e-13, "E2: evaluation targets = the E2 mixture (numpy)")
    noise = d["y_train"][:, 0] - e2_target(gt)
    # 40 draws of N(0, 0.02^2): the sample std lies within 0.02 (1 +- 0.4) with probability > 0.99
    check(0.012 < noise.std() < 0.028 and np.abs(noise).max() < 0.1, f"E2: label noise std {noise.std():.4f} ~ 0.02")
    for c in cells:
        d2 = np.load(os.path.join(out, c["run"], "data.npz"))
        if not (np.array_equal(d2["X_train"], d["X_train"]) and np.array_equal(d2["y_eval"], d["y_eval"])):
            check(False, f"E2: every seed and width sees the same data ({c['run']} differs)")
            break
    else:
        check(True, "E2: every seed and width sees the same data (data seed)")
    worst = 0
    for c in cells:
        cd = os.path.join(out, c["run"])
        tj, kz = np.load(os.path.join(cd, "trajectory.npz")), np.load(os.path.join(cd, "kinf.npz"))
        K, Ke, y, lam = kz["K_inf"], kz["K_inf_eval"], kz["y_train"], float(kz["ridge"][0])
        yinf = Ke @ np.linalg.solve(K + lam * np.eye(len(K)), y)
        yhat = tj["f_eval"][-1][:, None]
        ref = np.linalg.norm(yhat - yinf) / np.linalg.norm(yinf)
        a0 = np.linalg.solve(K + lam * np.eye(len(K)), tj["f_train"][0][:, None])
        y0 = yinf + tj["f_eval"][0][:, None] - Ke @ a0
        ref0 = np.linalg.norm(yhat - y0) / np.linalg.norm(y0)
        net = np.sqrt(np.mean((yhat - kz["y_eval"]) ** 2))
        worst = max(worst, abs(float(c["rel_err_kinf"]) - ref) / ref, abs(float(c["rel_err_kinf_init"]) - ref0) / ref0,
                    abs(float(c["test_err_net"]) - net) / net)
    # cells.csv prints 10 significant digits; the solves agree to ~1e-12 (K_inf is well conditioned)
    check(worst < 1e-8, f"E2: rel_err_kinf, rel_err_kinf_init and test_err_net = numpy (worst rel {worst:.2g})")
    groups = csv_rows(os.path.join(out, "groups.csv"))
    ok = len(groups) == 2
    for g in groups:
        v = [float(c["rel_err_kinf"]) for c in cells if c["width"] == g["width"]]
        p = np.percentile(v, [10, 50, 90])
        ok &= int(g["seeds"]) == 3 and all(abs(float(g[f"rel_err_kinf_p{q}"]) - p[i]) <= 1e-9 * p[i]
                                           for i, q in enumerate((10, 50, 90)))
    check(ok, "E2: groups.csv p10/p50/p90 of rel_err_kinf over seeds = numpy.percentile of cells.csv")


def test_seeds():
    base = [*SMALL, "--data", "circle-uniform", "--n", "12", "--n-eval", "10", "--target", "random", "--steps", "2"]
    a, b, c = (run("train", T(n), *base, *extra) for n, extra in
               (("sa", ["--seed", "0"]), ("sb", ["--seed", "5"]), ("sc", ["--seed", "0", "--data-seed", "9"])))
    if a.returncode or b.returncode or c.returncode:
        check(False, "seed runs")
        return
    za, zb, zc = (np.load(os.path.join(T(n), "data.npz")) for n in ("sa", "sb", "sc"))
    check(all(np.array_equal(za[k], zb[k]) for k in za.files), "runs differing only in --seed see the same data.npz")
    check(not np.array_equal(za["X_train"], zc["X_train"]) and not np.array_equal(za["y_train"], zc["y_train"]),
          "--data-seed changes inputs and random targets")
    check(len(np.intersect1d(za["gamma_train"], za["gamma_eval"])) == 0,
          "uniform evaluation angles are not the training angles (sub-stream 1)")
    ta, tb = (np.load(os.path.join(T(n), "trajectory.npz")) for n in ("sa", "sb"))
    check(not np.array_equal(ta["f_train"][0], tb["f_train"][0]), "--seed still changes the network")
    # profile / converge / kernel: the same points whatever the init seed
    k0, k5 = (run("kernel", T(f"ks{s}"), *SMALL, "--n", "5", "--seed", str(s)) for s in (0, 5))
    x0, x5 = (np.load(os.path.join(T(f"ks{s}"), "kernel.npz"))["X"] for s in (0, 5))
    check(np.array_equal(x0, x5), "kernel: gaussian inputs do not depend on --seed")


def test_losses():
    base = [*SMALL, "--n", "16", "--steps", "30", "--lr-frac", "0.4", "--snapshots", "every:10"]
    h, m = run("train", T("lh"), *base, "--loss", "half_mean"), run("train", T("lm"), *base, "--loss", "mse")
    if h.returncode or m.returncode:
        check(False, "loss runs")
        return
    mh, mm = manifest(T("lh"))["train"], manifest(T("lm"))["train"]
    check(mm["loss"] == "mse" and abs(mm["c"] - 2 / 16) < 1e-15 and abs(mh["c"] - 1 / 16) < 1e-15,
          f"manifest: loss names and c (half_mean {mh['c']}, mse {mm['c']})")
    check(abs(mm["eta"] * 2 - mh["eta"]) <= 1e-12 * mh["eta"], "mse: eta at the same fraction is half")
    th, tm = np.load(os.path.join(T("lh"), "trajectory.npz")), np.load(os.path.join(T("lm"), "trajectory.npz"))
    # eta c is the same, so the two runs take the same steps up to rounding (1e-12 after 30 steps)
    check(np.abs(th["f_train"] - tm["f_train"]).max() <= 1e-12, "mse and half_mean move f identically")
    check(np.abs(tm["loss"] - 2 * th["loss"]).max() <= 1e-12 * np.abs(th["loss"]).max(),
          "mse reports mean (f - y)^2: twice the half_mean loss")
    f, y = tm["f_train"][-1], tm["y_train"]
    check(abs(tm["loss"][-1] - np.mean((f - y) ** 2)) <= 1e-12 * tm["loss"][-1], "mse loss = numpy mean((f - y)^2)")
    s = run("train", T("ls"), *base, "--loss", "sum")
    check(s.returncode == 0 and manifest(T("ls"))["train"]["loss"] == "half_sum", "'sum' is read as half_sum")


def test_fourier_terms():
    args = [*SMALL, "--data", "circle-pos", "--n", "30", "--steps", "1", "--target", "fourier", "--target-modes",
            "1,3,5", "--target-amps", "0.5,-1,2", "--target-phases", "0.3,1.1,-2", "--target-basis", "sin,cos,cos"]
    for part, name in ((0, "tp0"), (2, "tp2")):
        r = run("train", T(name), *args, *(["--target-partial", str(part)] if part else []))
        if r.returncode:
            check(False, "fourier terms run")
            return
        z = np.load(os.path.join(T(name), "data.npz"))
        g = z["gamma_train"]
        terms = [0.5 * np.sin(g + 0.3), -np.cos(3 * g - 1.1), 2 * np.cos(5 * g + 2)]
        ref = sum(terms[:part or 3])
        check(np.abs(g - 2 * np.pi * np.arange(30) / 30).max() < 1e-15 and np.abs(z["y_train"][:, 0] - ref).max() < 1e-14,
              f"explicit terms (sin/cos mixed{', first 2' if part else ''}) = numpy")


def test_file_eval_targets():
    X = np.random.default_rng(1).normal(size=(14, 3))
    np.save(T("X.npy"), X[:10])
    np.save(T("Xe.npy"), X[10:])
    np.save(T("y.npy"), np.arange(10.0))
    np.save(T("ye.npy"), -np.arange(4.0))
    r = run("train", T("fe"), *SMALL, "--data", T("X.npy"), "--eval-data", T("Xe.npy"), "--target", T("y.npy"),
            "--eval-target", T("ye.npy"), "--steps", "3")
    z = np.load(os.path.join(T("fe"), "data.npz")) if r.returncode == 0 else None
    check(z is not None and np.array_equal(z["X_eval"], X[10:]) and np.array_equal(z["y_eval"][:, 0], -np.arange(4.0)),
          "evaluation inputs and targets from files")
    r = subprocess.run([BIN, "train", "--out", T("fe2"), *SMALL, "--data", T("X.npy"), "--eval-data", T("Xe.npy"),
                        "--target", T("y.npy"), "--steps", "3"], capture_output=True, text=True)
    check(r.returncode == 2 and "train.eval_target" in r.stderr and r.stderr.count("\n") == 1,
          f"file targets without evaluation targets: one message, exit 2 ({r.stderr.strip()})")


def test_params_and_eval():
    r = run("train", T("pe"), *SMALL, "--n", "12", "--steps", "20", "--snapshots", "0,7,20", "--save-params")
    if r.returncode:
        check(False, "train --save-params")
        return
    snaps = sorted(os.listdir(os.path.join(T("pe"), "snapshots")))
    check([s for s in snaps if s.startswith("params_")] == ["params_0000000000.npz", "params_0000000007.npz",
                                                            "params_0000000020.npz"], "params at every snapshot")
    fin, last = (np.load(os.path.join(T("pe"), p)) for p in ("params.npz", "snapshots/params_0000000020.npz"))
    check(all(np.array_equal(fin[k], last[k]) for k in fin.files), "params.npz = the parameters at the last step")
    d = np.load(os.path.join(T("pe"), "data.npz"))
    np.save(T("Xtr.npy"), d["X_train"])
    e = run("eval", T("ev"), *SMALL, "--data", T("Xtr.npy"), "--load-params", os.path.join(T("pe"), "params.npz"))
    f = np.load(os.path.join(T("ev"), "eval.npz"))["f"] if e.returncode == 0 else None
    tj = np.load(os.path.join(T("pe"), "trajectory.npz"))
    check(f is not None and np.abs(f[:, 0] - tj["f_train"][-1]).max() <= 1e-13, "eval of params.npz = final f_train")
    # numpy forward pass of the loaded parameters (relu, NTK param, sw2 2 / 1, zero bias init)
    W1, b1, W2, b2 = fin["W1"], fin["b1"], fin["W2"], fin["b2"]
    h = np.maximum(0, np.sqrt(2 / 2) * d["X_train"] @ W1.T + b1)
    fn = np.sqrt(1 / 32) * h @ W2.T + b2
    check(f is not None and np.abs(f - fn).max() <= 1e-13, "eval = numpy forward pass of params.npz")
    k = run("kernel", T("pk"), *SMALL, "--data", "circle", "--n", "12", "--load-params",
            os.path.join(T("pe"), "snapshots/params_0000000000.npz"))
    K = np.load(os.path.join(T("pk"), "kernel.npz"))["K"] if k.returncode == 0 else None
    K0 = np.load(os.path.join(T("pe"), "snapshots/snap_0000000000.npz"))["K"]
    check(K is not None and np.abs(K - K0).max() <= 1e-13 * np.abs(K0).max(), "kernel of the step-0 params = snapshot K_0")
    p = run("profile", T("pp"), *SMALL, "--n", "12", "--load-params", os.path.join(T("pe"), "params.npz"))
    check(p.returncode == 0 and np.load(os.path.join(T("pp"), "profile.npz"))["K"].shape == (1, 1, 1, 12),
          "profile --load-params: the profile of the loaded network")


def test_stability_edge():
    # lr_frac 1.2: eta c lambda_max = 2.4; the top linearized mode grows like 1.4^t and overflows near
    # t = 2100, while the network itself catapults and converges
    r = run("train", T("edge"), *SMALL, "--n", "16", "--steps", "2600", "--lr-frac", "1.2", "--snapshots", "every:200")
    check(r.returncode == 0, "past the stability edge: the run completes")
    if r.returncode:
        return
    m = manifest(T("edge"))["train"]
    pr = m.get("predictions", {})
    check(m["outcome"] == "completed" and pr.get("unstable_modes", 0) >= 1 and abs(pr.get("a_lambda_max", 0) - 2.4) < 1e-9
          and pr.get("lin_nonfinite_step") is not None, f"manifest says what happened: {pr}")
    rows = csv_rows(os.path.join(T("edge"), "metrics.csv"))
    check(not math.isfinite(float(rows[-1]["lin_err"])) and math.isfinite(float(rows[-1]["loss"])),
          f"lin_err {rows[-1]['lin_err']} non-finite at the end, the network's loss {rows[-1]['loss']} finite")


def freeze_step(t, d, eps, k, delta):
    s = [(d[j] - d[j - delta]) / (t[j] - t[j - delta]) for j in range(delta, len(t))]
    if not s or s[0] == 0:
        return None
    run_ = 0
    for i, v in enumerate(s):
        run_ = run_ + 1 if abs(v) < eps * abs(s[0]) else 0
        if run_ == k:
            return t[delta + i - k + 1]
    return None


def test_freeze():
    r = run("train", T("fr"), *SMALL, "--n", "12", "--steps", "400", "--snapshots", "every:10", "--freeze-eps", "0.05",
            "--freeze-k", "2", "--freeze-delta", "3")
    if r.returncode:
        check(False, "freeze run")
        return
    m = manifest(T("fr"))["train"]
    rows = csv_rows(os.path.join(T("fr"), "metrics.csv"))
    t = [float(x["step"]) for x in rows]
    d = [float(x["drift_fro"]) for x in rows]
    ref = freeze_step(t, d, 0.05, 2, 3)
    check(m["freeze"]["eps"] == 0.05 and m["freeze"]["k"] == 2 and m["freeze"]["delta"] == 3,
          "freeze settings echoed into the manifest")
    # metrics.csv prints 10 digits: a slope within rounding of the threshold could flip; none is here
    check(m["freeze_step"] == ref, f"freeze_step {m['freeze_step']} = numpy recomputation {ref}")


test_e1()
test_e2()
test_seeds()
test_losses()
test_fourier_terms()
test_file_eval_targets()
test_params_and_eval()
test_stability_edge()
test_freeze()
finish(TMP)
