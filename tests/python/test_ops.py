"""Operator gradient descent and the Fourier tools through the package (ntkdrift.kgd, docs/modes.md),
against numpy written from the definitions:

- Theta_bias = K0 + (1 + cos d) K1 on a circle grid, A = Theta / n, eta = 0.05 / lambda_max(A) by
  numpy.linalg.eigvalsh, u <- u - eta A (u - y) in numpy: the package's u on the FFT path and on the
  dense path equals it to 1e-10 (2000 steps of rounding in two orders of summation), and its planes
  the numpy projections on the unit-normalised cos / sin columns to 1e-10;
- the circulant eigenvalues equal numpy.fft.rfft of the row / n (1e-13, FFT rounding);
- a bad kernel name and a non-symmetric matrix raise NtkError with the library's message."""
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
