#!/usr/bin/python3
"""Experiments through the CLI: `ntkdrift limit`, `profile` and `converge`.

- converge (the width-convergence acceptance): unit-circle inputs, depth 3 and 5,
  widths 128..2048, 16 nets: the seed-mean kernel at width 2048 matches K_inf to
  3% relative (finite-width bias O(1/n) plus seed noise ~ 1/sqrt(16 n)), and the
  single-network error falls like width^(-1/2): log-log slope in [-0.65, -0.35].
- limit: limit.npz holds ntk, nngp (N, N) and X; the NTK equals the closed form
  Theta_bias on the circle (one hidden ReLU layer, zero-init trainable bias,
  first layer without 1/sqrt(n0)) to 1e-12; standard parameterization adds
  ntk_normalized = ntk / width.
- profile: the seed-mean profile approaches the limit as the width grows.
- the statistics (mean, std, SE, OLS slope and its SE) equal numpy's recomputation from the stored
  samples; with one seed the SEs and variances are NaN, and with one width the slope is NaN.

usage: test_study_cli.py PATH/TO/ntkdrift
"""
import csv, json, os, shutil, subprocess, sys, tempfile

import numpy as np

from clitest import check, csv_rows, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_study_")



def run(*args):
    r = subprocess.run([BIN, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
    return r


def rows(path):
    return csv_rows(path)


def test_limit():
    out = os.path.join(TMP, "limit")
    r = run("limit", "--data", "circle", "--n", "96", "--depth", "1", "--width", "10", "--sw2", "1",
            "--sw2-out", "1", "--sb", "1", "--bias", "zero", "--bias-out", "none", "--first-layer", "none",
            "--out", out)
    check(r.returncode == 0, "limit runs")
    z = np.load(os.path.join(out, "limit.npz"))
    check(z["ntk"].shape == (96, 96) and z["nngp"].shape == (96, 96) and z["X"].shape == (96, 2),
          "limit.npz has ntk, nngp (N, N) and X (N, 2)")
    g = -np.pi + 2 * np.pi * np.arange(96) / 96
    d = np.abs(g[:, None] - g[None, :])
    d = np.minimum(d, 2 * np.pi - d)
    k0 = (np.sin(d) + (np.pi - d) * np.cos(d)) / (2 * np.pi)
    k1 = (np.pi - d) / (2 * np.pi)
    theta = k0 + (1 + np.cos(d)) * k1
    err = np.abs(z["ntk"] - theta).max()
    check(err < 1e-12, f"limit NTK = Theta_bias on the circle (max abs err {err:.1e})")
    man = json.load(open(os.path.join(out, "manifest.json")))
    check(man["status"] == "complete" and any(a["member"] == "ntk" for a in man["artifacts"]),
          "limit manifest lists its artifacts")
    out2 = os.path.join(TMP, "limit_std")
    r = run("limit", "--param", "standard", "--depth", "2", "--width", "300", "--n", "20", "--n0", "5",
            "--act", "tanh", "--out", out2)
    z2 = np.load(os.path.join(out2, "limit.npz"))
    check(r.returncode == 0 and np.allclose(z2["ntk_normalized"], z2["ntk"] / 300, rtol=1e-14),
          "standard parameterization: ntk_normalized = ntk / width")


def test_converge():
    out = os.path.join(TMP, "converge")
    r = run("converge", "--data", "circle", "--n", "32", "--depths", "3,5", "--widths", "128,256,512,1024,2048",
            "--seeds", "0:16", "--out", out)
    check(r.returncode == 0, "converge runs")
    m = rows(os.path.join(out, "metrics.csv"))
    for row in m:
        if int(row["width"]) == 2048:
            e = float(row["err_mean"])
            check(e <= 0.03, f"depth {row['depth']}: seed-mean of 16 nets at width 2048 within 3% of K_inf ({e:.4f})")
    for f in rows(os.path.join(out, "fits.csv")):
        s = float(f["slope"])
        check(-0.65 <= s <= -0.35, f"depth {f['depth']}: single-network error slope {s:.3f} in [-0.65, -0.35]")
    z = np.load(os.path.join(out, "converge.npz"))
    check(z["err_single"].shape == (2, 5, 16) and z["err_mean"].shape == (2, 5), "converge.npz shapes")
    # the statistics against numpy from converge.npz: metrics.csv and fits.csv print 8 significant
    # digits (relative rounding <= 5e-8), so 1e-7 relative; a wrong ddof moves the SE by 3%
    e, widths, ok = z["err_single"], [128, 256, 512, 1024, 2048], True
    for row in m:
        v = e[[3, 5].index(int(row["depth"])), widths.index(int(row["width"]))]
        ok &= np.isclose(float(row["err_single_mean"]), v.mean(), rtol=1e-7, atol=0)
        ok &= np.isclose(float(row["err_single_se"]), v.std(ddof=1) / np.sqrt(16), rtol=1e-7, atol=0)
    check(ok, "converge: err_single_mean, err_single_se = numpy mean, std(ddof=1)/sqrt(S) of err_single")
    ok = True
    for di, f in enumerate(rows(os.path.join(out, "fits.csv"))):
        x, y = np.repeat(np.log(widths), 16), np.log(e[di]).ravel()
        b, a = np.polyfit(x, y, 1)
        se = np.sqrt(np.sum((y - a - b * x) ** 2) / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
        ok &= np.isclose(float(f["slope"]), b, rtol=1e-7, atol=0) and np.isclose(float(f["slope_se"]), se, rtol=1e-7,
                                                                                   atol=0)
    check(ok, "converge: fits.csv slope and slope_se = numpy.polyfit and sqrt(RSS / (n - 2) / Sxx)")


def test_few_seeds():
    """One seed: standard errors and variances are NaN (ntk_mean_se), not 0; one width: no slope."""
    out = os.path.join(TMP, "converge1")
    r = run("converge", "--n", "8", "--depths", "1", "--widths", "16,32", "--seeds", "0", "--out", out)
    m = rows(os.path.join(out, "metrics.csv")) if r.returncode == 0 else []
    check(len(m) == 2 and all(np.isnan(float(x["err_single_se"])) and np.isnan(float(x["diag_var"])) and
                              np.isfinite(float(x["err_single_mean"])) for x in m),
          "converge, one seed: err_single_se and diag_var NaN, the mean finite")
    f = rows(os.path.join(out, "fits.csv")) if r.returncode == 0 else [{}]
    check(np.isfinite(float(f[0].get("slope", "nan"))) and np.isnan(float(f[0].get("slope_se", "0"))),
          "converge, one seed, two widths: a slope through two points, no standard error")
    # one width, three seeds: three points with equal x = log 24, whose rounded mean is not log 24;
    # the fit once returned a finite slope +- 1e14 here
    out = os.path.join(TMP, "converge_w1")
    r = run("converge", "--n", "8", "--depths", "1", "--widths", "24", "--seeds", "0:3", "--out", out)
    f = rows(os.path.join(out, "fits.csv")) if r.returncode == 0 else [{}]
    check(np.isnan(float(f[0].get("slope", "0"))) and np.isnan(float(f[0].get("slope_se", "0"))),
          f"converge, one width: slope and slope_se NaN ({f[0]})")
    out = os.path.join(TMP, "profile1")
    r = run("profile", "--n", "8", "--depths", "1", "--widths", "16", "--seeds", "0", "--out", out)
    m = rows(os.path.join(out, "metrics.csv")) if r.returncode == 0 else [{}]
    z = np.load(os.path.join(out, "profile.npz")) if r.returncode == 0 else None
    check(z is not None and np.isnan(float(m[0]["rel_std"])) and np.isnan(z["std"]).all() and
          np.array_equal(z["mean"][0, 0], z["K"][0, 0, 0]), "profile, one seed: std and rel_std NaN, mean = the sample")


def test_profile():
    out = os.path.join(TMP, "profile")
    r = run("profile", "--n", "64", "--depths", "2", "--widths", "32,2048", "--seeds", "0:12", "--out", out)
    check(r.returncode == 0, "profile runs")
    z = np.load(os.path.join(out, "profile.npz"))
    check(z["K"].shape == (1, 2, 12, 64) and z["mean"].shape == (1, 2, 64) and z["p90"].shape == (1, 2, 64),
          "profile.npz shapes")
    m = rows(os.path.join(out, "metrics.csv"))
    e_narrow, e_wide = float(m[0]["rel_err_mean_vs_limit"]), float(m[1]["rel_err_mean_vs_limit"])
    check(e_wide < e_narrow and e_wide < 0.03, f"profile: seed mean nears the limit with width ({e_narrow:.3f} -> {e_wide:.3f})")
    s = z["K"][0, 1]
    check(np.allclose(np.percentile(s, 90, axis=0), z["p90"][0, 1], rtol=1e-12), "p90 equals numpy's percentile")
    # sums of 12 O(1) values in another order (numpy's pairwise sum): rounding only, 1e-12
    check(np.allclose(s.mean(axis=0), z["mean"][0, 1], rtol=1e-12, atol=0) and
          np.allclose(s.std(axis=0, ddof=1), z["std"][0, 1], rtol=1e-12, atol=0), "mean, std equal numpy's (ddof 1)")


test_limit()
test_profile()
test_converge()
test_few_seeds()
finish(TMP)
