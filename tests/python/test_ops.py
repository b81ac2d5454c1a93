"""Operator gradient descent and the Fourier tools through the package (ntkdrift.kgd, docs/modes.md),
against numpy written from the definitions:

- Theta_bias = K0 + (1 + cos d) K1 on a circle grid, A = Theta / n, eta = 0.05 / lambda_max(A) by
  numpy.linalg.eigvalsh, u <- u - eta A (u - y) in numpy: the package's u on the FFT path and on the
  dense path equals it to 1e-10 (2000 steps of rounding in two orders of summation), and its planes
  the numpy projections on the unit-normalised cos / sin columns to 1e-10;
- the circulant eigenvalues equal numpy.fft.rfft of the row / n (1e-13, FFT rounding);
- a bad kernel name and a non-symmetric matrix raise NtkError with the library's message;
- modes_cell against numpy on the same network's kernel, seed_spectra against numpy's reductions."""
import numpy as np
import pytest

import ntkdrift as nd


def theta_bias(d):
    k0 = (np.sin(d) + (np.pi - d) * np.cos(d)) / (2 * np.pi)
    k1 = (np.pi - d) / (2 * np.pi)
    return k0 + (1 + np.cos(d)) * k1


def angles_between(a, b):
    d = np.abs(a[:, None] - b[None, :]) % (2 * np.pi)
    return np.minimum(d, 2 * np.pi - d)


def test_kgd_against_numpy():
    n, K, steps = 64, 6, 2000
    data = nd.dataset(data="circle", n=n, n0=2, target="fourier")
    g, y = data["gamma_train"], data["Y_train"][:, 0]
    A = theta_bias(angles_between(g, g)) / n
    eta = 0.05 / np.linalg.eigvalsh(A)[-1]
    snaps = [0, 10, 500, 2000]
    want, u = {}, np.zeros(n)
    for t in range(steps + 1):
        if t in snaps:
            want[t] = u.copy()
        u = u - eta * A @ (u - y)
    for fft in (True, False):
        r = nd.kgd("theta_bias", data="circle", n=n, target="fourier", steps=steps, kmax=K, top_k=4,
                   snapshots=snaps, fft=fft)
        assert r["fft"] == fft
        assert abs(r["eta"] - eta) <= 1e-12 * eta
        for i, t in enumerate(snaps):
            assert np.max(np.abs(r["u"][i] - want[t])) <= 1e-10 * np.max(np.abs(y)), (fft, t)
            res = want[t] - y
            cols = [np.ones(n)] + [f(k * g) for k in range(1, K + 1) for f in (np.cos, np.sin)]
            coef = np.array([c @ res / np.linalg.norm(c) for c in cols])
            assert np.max(np.abs(r["coef_train"][i] - coef)) <= 1e-10 * np.linalg.norm(y), (fft, t)
        assert r["plane_train"].shape == (len(snaps), K + 1) and r["proj_eig"].shape == (len(snaps), 4)


def test_circulant_eigenvalues_against_numpy_fft():
    n = 50
    row = theta_bias(2 * np.pi * np.minimum(np.arange(n), n - np.arange(n)) / n)
    mu = nd.circulant_eigenvalues(row)
    want = np.fft.rfft(row).real / n
    assert np.max(np.abs(mu[: n // 2 + 1] - want)) <= 1e-13
    assert np.allclose(mu[1:], mu[1:][::-1], rtol=0, atol=0)  # mu_m = mu_{n-m}


def test_errors_carry_the_library_message():
    with pytest.raises(nd.NtkError, match="unknown kernel source 'nope'"):
        nd.kgd("nope", n=16)
    K = np.eye(16)
    K[0, 1] = 0.5
    with pytest.raises(nd.InvalidArgumentError, match="not symmetric"):
        nd.kgd("matrix", K=K, n=16, steps=10)
    with pytest.raises(nd.InvalidArgumentError, match="greater than n/2"):
        nd.kgd("theta_bias", n=16, kmax=9)


def test_modes_cell_against_numpy():
    """modes_cell on Theta_bias on a grid: G = I and the planes are eigenspaces; on an empirical NTK the
    leakage of the Fourier blocks equals numpy's from the same network's kernel (1e-10: the same sums in
    another order)."""
    r = nd.modes_cell("theta_bias", n=64, kmax=6)
    assert r["G_max"] <= 1e-12 and r["leakage"] <= 1e-10 and np.all(r["angle_max"] <= 1e-6)
    n, K = 32, 4
    r = nd.modes_cell("empirical", depth=1, width=64, seed=1, n=n, kmax=K)
    data = nd.dataset(data="circle", n=n, n0=2)
    net = nd.Network(depth=1, width=64, n0=2, seed=1)
    A = nd.empirical_ntk(net, data["X_train"]) / n
    g = data["gamma_train"]
    cols = [np.ones(n)] + [f(k * g) for k in range(1, K + 1) for f in (np.cos, np.sin)]
    U = np.stack([c / np.linalg.norm(c) for c in cols], 1)
    C = U.T @ A @ U
    plane = np.array([0] + [(p + 1) // 2 for p in range(1, 2 * K + 1)])
    block = plane[:, None] == plane[None, :]
    leak = np.abs(C[~block]).sum() / np.abs(C[block]).sum()
    assert abs(r["leakage"] - leak) <= 1e-10 * leak
    assert np.max(np.abs(r["C"] - C)) <= 1e-12 * np.max(np.abs(C))
    assert np.max(np.abs(r["eig"] - np.linalg.eigvalsh(A)[::-1])) <= 1e-12 * r["eig"][0]


def test_seed_spectra_against_numpy():
    rng = np.random.default_rng(0)
    S = rng.random((4, 6, 3)) + np.arange(6)[None, :, None] * 0.1
    r = nd.seed_spectra(S, tau=0.3)
    m = S.mean(0)
    assert np.max(np.abs(r["mean"] - m)) <= 1e-15
    assert np.max(np.abs(r["var"] - S.var(0, ddof=1))) <= 1e-15
    assert np.max(np.abs(r["drift"] - np.linalg.norm(m - m[0], axis=1) / np.linalg.norm(m[0]))) <= 1e-15
    tv = np.abs(np.diff(m, axis=0)).sum(0)
    assert np.max(np.abs(r["tv"] - tv)) <= 1e-15 and np.array_equal(r["active"], tv > 0.3)


def test_concentration_against_the_cli_and_numpy(tmp_path):
    """ntkdrift.concentration against `ntkdrift modes` (the same library run: its CSV's 10 significant
    digits, so 1e-9 relative) for both kinds, and its exceedance and bound recomputed from its own F with
    numpy (exact comparisons and the formula 2 d^2 exp(-c m min(eps^2/L^2, eps/L)), 1e-14 relative)."""
    import csv

    from conftest import run_cli

    eps = [0.005, 0.02, 0.1]
    cases = (("sample", dict(ns=[64, 256]), ["--ns", "64,256"]),
             ("width", dict(widths=[32, 128], n=64, depth=1, act="relu", bias="zero"),
              ["--widths", "32,128", "--ns", "64", "--depth", 1, "--act", "relu", "--bias", "zero"]))
    for kind, kw, flags in cases:
        r = nd.concentration(kind, K=4, seeds=5, seed=2, eps=eps, c=0.5, L=2.0, **kw)
        out = tmp_path / kind
        run_cli("modes", *flags, "--kmax", 4, "--seeds", "2:7", "--eps", ",".join(map(str, eps)), "--bound-c", 0.5,
                "--bound-l", 2.0, "--out", out)
        with open(out / "concentration.csv") as f:
            rows = list(csv.DictReader(f))
        B = np.array([[float(x[f"B_{q}"]) for q in ("max", "fro", "op")] for x in rows]).reshape(2, 5, 3)
        F = np.array([[float(x[f"F_{q}"]) for q in ("max", "fro", "op")] for x in rows]).reshape(2, 5, 3)
        assert np.allclose(r["B"], B, rtol=1e-9, atol=0) and np.allclose(r["F"], F, rtol=1e-9, atol=0), kind
        with open(out / "exceedance.csv") as f:
            ex = np.array([float(x["exceed"]) for x in csv.DictReader(f)]).reshape(2, 3)
        assert np.array_equal(r["exceed"], ex), kind
        want = (r["F"][:, :, 0][:, :, None] >= np.array(eps)[None, None, :]).mean(1)
        assert np.array_equal(r["exceed"], want), kind
        m, e = r["m"].astype(float)[:, None], np.array(eps)[None, :]
        bound = 2 * 9 ** 2 * np.exp(-0.5 * m * np.minimum(e ** 2 / 4.0, e / 2.0))
        assert np.allclose(r["bound"], bound, rtol=1e-14, atol=0), kind


def test_kgd_float32_reports_float64_eigenvalues():
    """dtype f32 on the dense path: eig_f64 is numpy's eigvalsh of the same A to 1e-12 lambda_max (both
    float64, backward stable), eig differs from it by float32 rounding (~n eps32 lambda_max = 4e-6 at
    n = 64), and f32_abs / f32_rel1 are the difference recomputed here."""
    n = 64
    data = nd.dataset(data="circle", n=n, n0=2, target="fourier")
    g = data["gamma_train"]
    A = theta_bias(angles_between(g, g)) / n
    r = nd.kgd("theta_bias", data="circle", n=n, target="fourier", steps=10, fft=False, dtype="f32")
    w = np.sort(np.linalg.eigvalsh(A))[::-1]
    assert np.max(np.abs(r["eig_f64"] - w)) <= 1e-12 * w[0]
    d = np.abs(r["eig"] - r["eig_f64"])
    assert 0 < d.max() <= 1e-5 * w[0] and r["f32_abs"] == d.max() / r["eig_f64"][0]
    big = np.nonzero(d > 1e-2 * np.abs(r["eig_f64"]))[0]
    assert r["f32_rel1"] == (big[0] if big.size else -1)
