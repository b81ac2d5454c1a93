#!/usr/bin/python3
"""`ntkdrift kgd` (docs/modes.md) against numpy written from the definitions, and its bad input.

- Theta_bias on the circle grid (the FFT path): modes.npz's planes follow the ideal decay
  |1 - eta mu_k|^t plane_k(0) to 1e-10 (the modes are the operator's eigenvectors); eig is
  numpy.fft.rfft of the kernel row / n (1e-13); coef_train at step 0 is numpy's projection of -y on the
  unit cos / sin columns (1e-12); the dense path (--fft off) and a kernel matrix built by numpy and given
  as PATH.npy give the same planes (1e-10: the same dynamics by other arithmetic);
- limit and empirical sources, a GP init, a preconditioner and float32 run to the end and write their
  figure;
- --compare-train: at step 0 the network and the operator are the same function (gap 0, equal planes),
  and the largest gap over the run at width 1024 is below half of that at width 64 (the lazy
  1/sqrt(width) rate predicts a quarter; one seed of one hidden ReLU layer leaves room);
- bad input exits 2 with one line naming the problem: a kernel that is not symmetric, one that is not
  PSD (lambda_min reported), K > n/2, the FFT path on random angles, a matrix of the wrong size.

usage: test_kgd_cli.py PATH/TO/ntkdrift"""
import os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_kgd_")


def run(*args):
    return subprocess.run([BIN, "kgd", *map(str, args)], capture_output=True, text=True)


def theta_bias(d):
    k0 = (np.sin(d) + (np.pi - d) * np.cos(d)) / (2 * np.pi)
    return k0 + (1 + np.cos(d)) * (np.pi - d) / (2 * np.pi)


n, K = 128, 6
base = ["--n", n, "--steps", 400, "--snapshots", "every:50", "--kmax", K, "--n-eval", 16]
r = run(*base, "--out", f"{TMP}/fft")
check(r.returncode == 0, f"kgd theta_bias runs: {r.stderr[-300:]}")
z = np.load(f"{TMP}/fft/modes.npz")
p0 = z["plane_train"][0]
check(np.max(np.abs(z["plane_train"] - z["ideal_plane"])) <= 1e-10 * np.max(p0), "planes follow |1 - eta mu_k|^t")
j = np.arange(n)
row = theta_bias(2 * np.pi * np.minimum(j, n - j) / n)
mu = np.fft.rfft(row).real / n
check(abs(z["eig"][0] - mu.max()) <= 1e-13 and abs(np.sort(z["eig"])[0] - mu.min()) <= 1e-13, "eig from numpy's FFT")
g = -np.pi + 2 * np.pi * j / n
k_target = np.sum([np.sin(k * g) / k for k in range(1, 5)], axis=0)  # the fourier target, fourier-k 4
cols = [np.ones(n)] + [f(k * g) for k in range(1, K + 1) for f in (np.cos, np.sin)]
coef0 = np.array([c @ (-k_target) / np.linalg.norm(c) for c in cols])
check(np.max(np.abs(z["coef_train"][0] - coef0)) <= 1e-12, "coef_train at step 0 = numpy's projection of -y")
check(np.all(np.diff(z["loss"]) < 0), "the loss falls")

r = run(*base, "--fft", "off", "--out", f"{TMP}/dense")
zd = np.load(f"{TMP}/dense/modes.npz") if r.returncode == 0 else None
check(zd is not None and np.max(np.abs(zd["plane_train"] - z["plane_train"])) <= 1e-10 * np.max(p0),
      "--fft off: the same planes")
d = np.abs(g[:, None] - g[None, :]) % (2 * np.pi)
np.save(f"{TMP}/K.npy", theta_bias(np.minimum(d, 2 * np.pi - d)))
r = run(*base, "--kernel", f"{TMP}/K.npy", "--out", f"{TMP}/npy")
zn = np.load(f"{TMP}/npy/modes.npz") if r.returncode == 0 else None
check(zn is not None and np.max(np.abs(zn["plane_train"] - z["plane_train"])) <= 1e-10 * np.max(p0),
      f"--kernel K.npy (numpy's Theta_bias): the same planes {r.stderr[-200:]}")

for name, extra in (("limit", ["--kernel", "limit", "--depth", 2, "--width", 64]),
                    ("empirical", ["--kernel", "empirical", "--depth", 1, "--width", 256, "--seed", 3]),
                    ("gp", ["--init", "gp", "--gp-seed", 4, "--fft", "off"]),
                    ("precond", ["--precond", "theory", "--tau", 0.01]),
                    ("f32", ["--fft", "off", "--dtype", "f32"])):
    r = run(*base, *extra, "--out", f"{TMP}/{name}")
    ok = r.returncode == 0 and os.path.getsize(f"{TMP}/{name}/figures/mode_decay.png") > 1000
    check(ok, f"kgd {' '.join(map(str, extra))}: runs and draws mode_decay {r.stderr[-300:]}")

# the float32 run reports its eigenvalues beside a float64 decomposition of the same operator: the
# top ones agree to float32's resolution (~n eps32 lambda_max = 8e-6 at n = 128; measured 3e-7 at n = 1024)
z32 = np.load(f"{TMP}/f32/modes.npz") if os.path.exists(f"{TMP}/f32/modes.npz") else None
ok = z32 is not None and "eig_f64" in z32 and np.allclose(z32["eig_f64"], zd["eig"], rtol=0, atol=1e-12 * zd["eig"][0])
ok = ok and 0 < np.max(np.abs(z32["eig"] - z32["eig_f64"])) <= 1e-5 * z32["eig_f64"][0]
check(ok, "--dtype f32: eig_f64 equals the float64 run's eig, and the float32 eig differ from it by rounding")

gaps = {}
for width in (64, 1024):
    r = run("--compare-train", "--n", 32, "--depth", 1, "--width", width, "--steps", 300, "--snapshots", "every:30",
            "--kmax", 4, "--out", f"{TMP}/fe{width}")
    fe = np.load(f"{TMP}/fe{width}/fe.npz") if r.returncode == 0 else None
    ok = fe is not None and fe["gap"][0] == 0 and np.array_equal(fe["plane_net"][0], fe["plane_op"][0])
    check(ok and os.path.exists(f"{TMP}/fe{width}/figures/frozen_evolving.png"),
          f"--compare-train width {width}: the same function at step 0, fe.npz and the figure {r.stderr[-200:]}")
    gaps[width] = fe["gap"].max() if fe is not None else np.inf
check(gaps[1024] <= gaps[64] / 2, f"the network follows its frozen operator closer at width 1024: {gaps}")

A = np.eye(16)
A[0, 1] = 0.5
np.save(f"{TMP}/nonsym.npy", A)
np.save(f"{TMP}/indef.npy", np.diag([1.0] * 15 + [-1.0]))
np.save(f"{TMP}/wrong.npy", np.eye(8))
for args, want in (([ "--kernel", f"{TMP}/nonsym.npy", "--n", 16], "not symmetric"),
                   (["--kernel", f"{TMP}/indef.npy", "--n", 16], "lambda_min(K) = -1"),
                   (["--n", 16, "--kmax", 9], "greater than n/2"),
                   (["--data", "circle-uniform", "--n", 16, "--fft", "on"], "equispaced"),
                   (["--kernel", f"{TMP}/wrong.npy", "--n", 16], "is not a 16 x 16 matrix")):
    r = run(*args, "--steps", 5, "--out", f"{TMP}/bad")
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and want in lines[0] and not os.path.exists(f"{TMP}/bad/manifest.json"),
          f"bad input {want!r}: exit 2, one line ({r.returncode}: {r.stderr.strip()[:200]})")
finish(TMP)
