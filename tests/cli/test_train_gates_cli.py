#!/usr/bin/python3
"""`ntkdrift train --gates frozen` (the ReLU control, docs/dynamics.md "Frozen gates") against numpy
on the run's own files.

- The gated network written out in numpy from snapshots/params_<step>.npz (theta_g: step 0's; theta:
  each snapshot's), h_l = z_l(theta) o 1[z_l(theta_g) > 0], and its NTK by backpropagation through
  the fixed gates: f_train, f_eval, K and K_eval of every snap_<step>.npz equal them to 1e-10 relative
  (summation order, ~n eps, against a tolerance that a gate read at the wrong parameters misses by
  far: the relu network at the same parameters, also computed, differs by more than 1e-4 here);
- the manifest says train.gates "frozen" and config.yaml gates: frozen; a run without --gates has
  neither (its outputs unchanged);
- a run stopped after its checkpoint at step 20 and continued with --resume reproduces the
  uninterrupted run file for file (the gates come from the seeded initialisation, not the checkpoint);
- refusals: --gates frozen with --act erf and --gates sometimes end with exit 2, one line on stderr,
  and no metrics.csv.

usage: test_train_gates_cli.py PATH/TO/ntkdrift
"""
import json, os, shutil, subprocess, sys, tempfile

import numpy as np

from clitest import check, finish, same_tree

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_gates_cli_")
BASE = ["train", "--depth", "2", "--width", "64", "--n", "8", "--n-eval", "4", "--steps", "60", "--snapshots",
        "every:20", "--lr-frac", "0.9", "--threads", "1"]


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True)


def forward(P, G, X):
    """Gated forward (G: the gate parameters; P = G gives relu) of the CLI's default model (NTK
    parameterization, sw2 2 / 1, sb 1, first layer fan_in): f [N], per-layer h, gates."""
    d = len([k for k in P if k.startswith("W")])
    h, hg, H, gates = X, X, [X], []
    for l in range(1, d + 1):
        W, Wg = P[f"W{l}"], G[f"W{l}"]
        cw = np.sqrt((2.0 if l < d else 1.0) / W.shape[1])
        z = cw * h @ W.T + P[f"b{l}"]
        if l == d:
            return z[:, 0], H, gates, d
        zg = cw * hg @ Wg.T + G[f"b{l}"]
        g = (zg > 0).astype(float)
        h, hg = z * g, zg * g
        H.append(h)
        gates.append(g)


def ntk(P, G, Xa, Xb):
    """K(Xa, Xb) of the gated network: sum_l (delta_l(a) . delta_l(b)) (c_w^2 h_{l-1}(a) . h_{l-1}(b) + c_b^2)
    with delta_d = 1, delta_{l} = c_w^{l+1} (W_{l+1}^T delta_{l+1}) o gate_l."""
    fa, Ha, ga, d = forward(P, G, Xa)
    fb, Hb, gb, _ = forward(P, G, Xb)
    Da, Db = np.ones((len(Xa), 1)), np.ones((len(Xb), 1))
    K = np.zeros((len(Xa), len(Xb)))
    for l in range(d, 0, -1):
        W = P[f"W{l}"]
        cw = np.sqrt((2.0 if l < d else 1.0) / W.shape[1])
        K += (Da @ Db.T) * (cw * cw * Ha[l - 1] @ Hb[l - 1].T + 1.0)
        if l > 1:
            Da, Db = cw * (Da @ W) * ga[l - 2], cw * (Db @ W) * gb[l - 2]
    return K, fa


def params(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


out = os.path.join(TMP, "frozen")
r = run(*BASE, "--gates", "frozen", "--nth", "4", "--save-params", "--out", out)
check(r.returncode == 0, f"--gates frozen --nth 4 completes {r.stderr[-400:]}")
if r.returncode == 0:
    data = np.load(os.path.join(out, "data.npz"))
    X, Xe = data["X_train"], data["X_eval"]
    G = params(os.path.join(out, "snapshots", "params_0000000000.npz"))
    worst, plain_gap = 0.0, 0.0
    for step in (0, 20, 40, 60):
        P = params(os.path.join(out, "snapshots", f"params_{step:010d}.npz"))
        z = np.load(os.path.join(out, "snapshots", f"snap_{step:010d}.npz"))
        K, f = ntk(P, G, X, X)
        Ke, fe = ntk(P, G, Xe, X)
        for got, want in ((z["K"], K), (z["f_train"], f), (z["K_eval"], Ke), (z["f_eval"], fe)):
            worst = max(worst, np.linalg.norm(got - want) / np.linalg.norm(want))
        Kp, _ = ntk(P, P, X, X)
        plain_gap = max(plain_gap, np.linalg.norm(Kp - K) / np.linalg.norm(K))
    check(worst <= 1e-10, f"K, f, K_eval, f_eval of every snapshot are numpy's gated network ({worst:.2e})")
    check(plain_gap > 1e-4, f"... and not the relu network at the same parameters ({plain_gap:.2e} apart)")
    man = json.load(open(os.path.join(out, "manifest.json")))
    check(man["train"].get("gates") == "frozen" and "\n  gates: frozen\n" in open(os.path.join(out, "config.yaml")).read(),
          "the manifest and config.yaml echo gates frozen")

live = os.path.join(TMP, "live")
r = run(*BASE, "--out", live)
man = json.load(open(os.path.join(live, "manifest.json"))) if r.returncode == 0 else {"train": {"gates": "?"}}
check(r.returncode == 0 and "gates" not in man["train"] and "\n  gates:" not in open(os.path.join(live, "config.yaml")).read(),
      f"without --gates: no gates key in the manifest or config.yaml {r.stderr[-300:]}")

# stopped after the checkpoint at step 20 (snap 30 cannot be written: a directory holds its name), resumed
args = ["train", "--depth", "2", "--width", "64", "--n", "8", "--n-eval", "4", "--steps", "40", "--snapshots",
        "every:10", "--checkpoint-every", "20", "--lr-frac", "0.9", "--threads", "1", "--gates", "frozen"]
ref, stop = os.path.join(TMP, "ref"), os.path.join(TMP, "stop")
r1 = run(*args, "--out", ref)
os.makedirs(os.path.join(stop, "snapshots", "snap_0000000030.npz"))
r2 = run(*args, "--out", stop)
os.rmdir(os.path.join(stop, "snapshots", "snap_0000000030.npz"))
r3 = run("train", "--resume", stop)
diff = same_tree(ref, stop) if r1.returncode == r3.returncode == 0 else r3.stderr.strip()
check(r2.returncode != 0 and diff is None,
      f"stopped after step 20 and resumed: the uninterrupted run, file for file ({diff or 'identical'})")

for extra, msg in ((["--gates", "frozen", "--act", "erf"], "ntkdrift: train: gates frozen: act is erf, frozen gates are for relu only"),
                   (["--gates", "sometimes"], "ntkdrift: --gates: unknown value 'sometimes' (expected live|frozen)")):
    o = os.path.join(TMP, "bad")
    r = run(*BASE, *extra, "--out", o)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and lines == [msg] and not os.path.exists(os.path.join(o, "metrics.csv")),
          f"{' '.join(extra)}: exit 2 with one line ({r.returncode}: {r.stderr.strip()[-200:]})")

finish(TMP)
