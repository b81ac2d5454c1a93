#!/usr/bin/python3
"""examples/c/experiment.c against the CLI: the same settings give the same numbers, bit for bit.

The example computes the empirical NTK, trains with tracking and runs one ensemble cell through the
public header alone (its settings are constants at its top, with the equivalent command lines).  Here
the example runs, then `ntkdrift kernel`, `train` and `ensemble` with those command lines, and every
array of the example is compared with the CLI's file of the same quantity by its bytes (shape, dtype
and every bit, so also -0.0 and NaN payloads; numpy.array_equal and more):

- K.npy                 vs kernel.npz K
- train.npz K[i], f_train[i], loss[i], loss_eval[i]
                        vs snapshots/snap_<step>.npz K, f_train, meta[1], meta[2] at every snapshot
- train.npz K[0]        vs K.npy (the same grid and network: training's K_0 is the kernel's K)
- train.npz step, loss, drift_fro, f_train, f_lin
                        vs trajectory.npz steps, loss, drift_fro, f_train, f_lin
- ensemble.npz K, ..., rho_off, K_layers
                        vs samples.npz (row 0: the one cell) and cells/cell_00000.npz K_layers
The text files are rounded by their writers: metrics.csv prints every float with %.10g and cells.csv
with %.6g, %.8g or %.10g per column (cli/cmd_train.c, cli/cmd_ensemble.c), and manifest.json's
train.eta has cJSON's 15 significant digits (it keeps 15 when they read back within a relative
DBL_EPSILON).  Their values are compared with the example's full-precision value printed the same
way, so they agree to every printed digit; the arrays above are compared bit for bit.

Settings in the example that differ from the command lines below (another seed, say) fail the test.

usage: test_example_experiment.py PATH/TO/example_experiment PATH/TO/ntkdrift
"""
import json, math, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # clitest.py beside this file
from clitest import check, csv_rows, finish

EXAMPLE, BIN = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ntk_example_")

# The command lines in the comment at the top of examples/c/experiment.c.
KERNEL = ["kernel", "--data", "circle", "--n", "32", "--depth", "2", "--width", "128", "--seed", "3"]
TRAIN = ["train", "--data", "circle", "--n", "32", "--n-eval", "16", "--depth", "2", "--width", "128", "--seed", "3",
         "--data-seed", "5", "--steps", "200", "--lr-frac", "0.5", "--snapshots", "every:50"]
ENSEMBLE = ["ensemble", "--depths", "3", "--widths", "64", "--members", "200", "--n0", "8", "--seed", "3",
            "--data-seed", "5", "--angle", "60", "--lr", "1e-3"]
STEPS = [0, 50, 100, 150, 200]  # every:50 up to 200
MEMBERS = 200


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    check(r.returncode == 0, f"{what} runs")
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-2000:])
    return r


def same(a, b, what):
    """Bit-identical: the same shape, dtype and bytes (stricter than numpy.array_equal)."""
    a, b = np.asarray(a), np.asarray(b)
    ok = a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if not ok and a.shape == b.shape and a.size:
        with np.errstate(invalid="ignore"):
            d = np.nanmax(np.abs(a.astype(float) - b.astype(float)))
        what += f" (max |difference| {d:.3g})"
    elif not ok:
        what += f" (shapes {a.shape} {a.dtype} vs {b.shape} {b.dtype})"
    check(ok, what)


def same_printed(csv_text, value, fmt, what):
    """A CSV field written with C's printf(fmt) against the full value printed the same way (Python's %
    formats a double as glibc does; NaN is printed nan or -nan by C)."""
    printed = float(fmt % value) if math.isfinite(value) else value
    got = float(csv_text)
    ok = (math.isnan(got) and math.isnan(printed)) or got == printed
    check(ok, f"{what}: {csv_text} = {fmt % value}")


def load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_kernel(ex):
    out = os.path.join(TMP, "kernel")
    if run([BIN, *KERNEL, "--out", out], "ntkdrift kernel").returncode:
        return
    kz = load(os.path.join(out, "kernel.npz"))
    K = np.load(os.path.join(ex, "K.npy"))
    check(K.shape == (32, 32), f"K.npy is 32 x 32 ({K.shape})")
    same(K, kz["K"], "K.npy = kernel.npz K")


def find(obj, key):
    """The value of `key` anywhere in a JSON object (the train block of the manifest)."""
    if isinstance(obj, dict):
        if key in obj and not isinstance(obj[key], (dict, list)):
            return obj[key]
        for v in obj.values():
            r = find(v, key)
            if r is not None:
                return r
    return None


def test_train(ex):
    out = os.path.join(TMP, "train")
    if run([BIN, *TRAIN, "--out", out], "ntkdrift train").returncode:
        return
    t = load(os.path.join(ex, "train.npz"))
    check(list(t["step"]) == STEPS, f"the example's snapshots are {STEPS} ({list(t['step'])})")
    tr = load(os.path.join(out, "trajectory.npz"))
    for a, b in (("step", "steps"), ("loss", "loss"), ("drift_fro", "drift_fro"), ("f_train", "f_train"),
                 ("f_lin", "f_lin")):
        same(t[a], tr[b], f"train.npz {a} = trajectory.npz {b}")
    for i, step in enumerate(STEPS):
        sz = load(os.path.join(out, "snapshots", f"snap_{step:010d}.npz"))
        same(t["K"][i], sz["K"], f"step {step}: K = snap K")
        same(t["f_train"][i], sz["f_train"], f"step {step}: f_train = snap f_train")
        same(t["loss"][i], sz["meta"][1], f"step {step}: loss = snap meta[1]")
        same(t["loss_eval"][i], sz["meta"][2], f"step {step}: loss_eval = snap meta[2]")
    # the same points and network as (1): training's K_0 is the kernel command's K
    same(t["K"][0], np.load(os.path.join(ex, "K.npy")), "train.npz K[0] (K_0 of training) = K.npy")
    with open(os.path.join(out, "manifest.json")) as fh:
        eta = find(json.load(fh), "eta")
    check(eta is not None, "manifest.json has train.eta")
    if eta is not None:
        same_printed(str(eta), float(t["eta"][0]), "%.15g", "manifest.json train.eta")
    rows = csv_rows(os.path.join(out, "metrics.csv"))
    check(len(rows) == len(STEPS), f"metrics.csv has {len(STEPS)} rows ({len(rows)})")
    for i, r in enumerate(rows[:len(STEPS)]):
        check(int(r["step"]) == STEPS[i], f"metrics.csv row {i}: step {r['step']}")
        for col in ("t", "loss", "loss_eval", "drift_fro", "kernel_distance", "lambda_max", "lin_err"):
            same_printed(r[col], float(t[col][i]), "%.10g", f"metrics.csv step {STEPS[i]} {col}")


# cells.csv: each column of the example's statistics and its printf format in cli/cmd_ensemble.c.
Q = ["K", "K_weight", "K_bias", "K_readout", "f", "dK_path", "dK_literal", "K_off", "rho_off"]
CELL_COLUMNS = [  # (csv column, example value, format)
    ("beta", "beta", "%.8g"), ("K_mean", ("mean", "K"), "%.10g"), ("K_se", ("se", "K"), "%.6g"),
    ("K_theory", "K_theory", "%.10g"), ("R", "R", "%.8g"), ("R_log_se", "R_log_se", "%.6g"),
    ("R_boot_lo", "R_boot_lo", "%.8g"), ("R_boot_hi", "R_boot_hi", "%.8g"),
    ("Kd_mean", ("mean", "K_readout"), "%.10g"), ("Kd_R", "Kd_R", "%.8g"), ("Kd_R_log_se", "Kd_R_log_se", "%.6g"),
    ("Kd_R_theory", "Kd_R_theory", "%.8g"), ("Kw_R", "Kw_R", "%.8g"), ("Kw_R_log_se", "Kw_R_log_se", "%.6g"),
    ("exp5beta", "exp5beta", "%.8g"), ("dK_path_mean", ("mean", "dK_path"), "%.10g"),
    ("dK_path_se", ("se", "dK_path"), "%.6g"), ("dK_lit_mean", ("mean", "dK_literal"), "%.10g"),
    ("dK_lit_se", ("se", "dK_literal"), "%.6g"), ("dK_scale_theory", "dK_scale_theory", "%.8g"),
    ("warn_ceiling", "warn_ceiling", "%d"), ("warn_tail", "warn_tail", "%d"),
    ("Koff_mean", ("mean", "K_off"), "%.10g"), ("Koff_se", ("se", "K_off"), "%.6g"), ("Koff_R", "Koff_R", "%.8g"),
    ("Koff_R_log_se", "Koff_R_log_se", "%.6g"), ("rho_mean", ("mean", "rho_off"), "%.10g"),
    ("rho_se", ("se", "rho_off"), "%.6g"),
]


def test_ensemble(ex):
    out = os.path.join(TMP, "ensemble")
    if run([BIN, *ENSEMBLE, "--out", out], "ntkdrift ensemble").returncode:
        return
    e = load(os.path.join(ex, "ensemble.npz"))
    s = load(os.path.join(out, "samples.npz"))
    check(s["K"].shape == (1, MEMBERS), f"samples.npz holds one cell of {MEMBERS} members ({s['K'].shape})")
    for q in Q:
        same(e[q], s[q][0], f"ensemble.npz {q} = samples.npz {q}[0]")
    check(np.isfinite(e["dK_literal"]).all() and np.isfinite(e["rho_off"]).all(),
          "the literal update and the second probe were computed (finite)")
    same(e["K_layers"], load(os.path.join(out, "cells", "cell_00000.npz"))["K_layers"],
         "ensemble.npz K_layers = cells/cell_00000.npz K_layers")
    rows = csv_rows(os.path.join(out, "cells.csv"))
    check(len(rows) == 1, f"cells.csv has one row ({len(rows)})")
    if not rows:
        return
    r = rows[0]
    check((r["depth"], r["width"], r["members"], r["angle"]) == ("3", "64", str(MEMBERS), "60"),
          f"cells.csv: depth {r['depth']} width {r['width']} members {r['members']} angle {r['angle']}")
    for col, key, fmt in CELL_COLUMNS:
        v = float(e[key[0]][Q.index(key[1])]) if isinstance(key, tuple) else float(e[key][0])
        if fmt == "%d":
            check(int(r[col]) == int(v), f"cells.csv {col}: {r[col]} = {int(v)}")
        else:
            same_printed(r[col], v, fmt, f"cells.csv {col}")


def main():
    ex = os.path.join(TMP, "example")
    r = run([EXAMPLE, ex], "examples/c/experiment.c")
    if r.returncode == 0:
        print(r.stdout.rstrip())
        test_kernel(ex)
        test_train(ex)
        test_ensemble(ex)
    finish(TMP)


main()
