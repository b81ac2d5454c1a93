"""The infinite-width kernels of smooth quadrature activations (tanh, gelu, sigmoid) on points of
unequal norm -- the Hermite series of src/limit/hermite.c with its 2-D quadrature fallback -- against
an independent high-order reference: the recursion of docs/limits.md in numpy, every pair's Gaussian
expectations by a 2-D composite Gauss-Legendre product rule in Cartesian coordinates,
u = sqrt(q1) z1, v = sqrt(q2) (rho z1 + sqrt(1 - rho^2) z2), (z1, z2) standard normal on
[-9, 9]^2 (the mass outside is 2e-19), 36 panels x 16 nodes per axis: a different rule, coordinate
system and code from both the library's series and its polar quadrature.

The reference's own error: the integrands are analytic with poles at distance >= pi / (2 sqrt(q))
(tanh; 0.69 at the largest variance here, q ~ 5.2) from the real axis, against panels of half-width
1/4: Gauss-Legendre's error on a panel falls like (0.69 / 0.25 + ...)^(-32) < 1e-20.  Measured: the
kernels change by < 3e-16 of their largest entry from 24 to 36 panels.  (A Gauss-Hermite product rule
converges only like exp(-0.69 sqrt(2 n)) here: 9e-7 with 240 nodes.)  The points include an exact
duplicate, a near-duplicate (angle 1e-6: rho ~ 1, where the series' truncation bound fails and the
pair goes to the 2-D polar quadrature) and an antipodal point (rho = -1)."""
import math

import numpy as np
import pytest
import torch

import ntkdrift

SQRT2 = math.sqrt(2.0)


def erf(z):
    """erf of an array, by PyTorch (float64; an implementation independent of the library's)."""
    return torch.erf(torch.from_numpy(np.asarray(z, dtype=np.float64))).numpy()


def composite_legendre(lim=9.0, panels=36, nodes=16):
    """Nodes z and weights w (times the standard normal density) on [-lim, lim]."""
    t, tw = np.polynomial.legendre.leggauss(nodes)
    h = 2 * lim / panels
    mids = -lim + h * (np.arange(panels) + 0.5)
    z = (mids[:, None] + 0.5 * h * t[None, :]).ravel()
    w = (0.5 * h * np.tile(tw, panels)) * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return z, w


ACTS = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (lambda z: 0.5 + 0.5 * np.tanh(0.5 * z), lambda z: 0.25 / np.cosh(0.5 * z) ** 2),
    "gelu": (lambda z: 0.5 * z * (1 + erf(z / SQRT2)),
             lambda z: 0.5 * (1 + erf(z / SQRT2)) + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)),
}


def expectations(act, S, x, w):
    """E[phi phi], E[phi' phi'] under every pair's covariance of S [N x N], product rule (x, w)."""
    f, df = ACTS[act]
    q = np.diag(S)
    N = len(q)
    E, D = np.empty((N, N)), np.empty((N, N))
    W = w[:, None] * w[None, :]
    for i in range(N):
        for j in range(i + 1):
            rho = min(1.0, max(-1.0, S[i, j] / math.sqrt(q[i] * q[j])))
            u = math.sqrt(q[i]) * x[:, None]
            v = math.sqrt(q[j]) * (rho * x[:, None] + math.sqrt(max(0.0, 1 - rho * rho)) * x[None, :])
            E[i, j] = np.sum(W * (f(u) * f(v)))
            D[i, j] = np.sum(W * (df(u) * df(v)))
            E[j, i], D[j, i] = E[i, j], D[i, j]
    return E, D


def reference(X, act, depth, sw2, sw2_out, sb, vb_on, panels=36):
    """NNGP and NTK (NTK parameterization, biases trainable; normal at init when vb_on)."""
    x, w = composite_legendre(panels=panels)
    d = depth + 1
    S_in = X @ X.T / X.shape[1]
    for l in range(1, d + 1):
        s = sw2_out if l == d else sw2
        vb, tb = (sb * sb if vb_on else 0.0), sb * sb
        if l == 1:
            Theta = s * S_in + tb
        else:
            E, D = expectations(act, S, x, w)
            S_in = E
            Theta = s * S_in + tb + s * D * Theta
        S = s * S_in + vb
    return S, Theta


def points():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((7, 3)) * rng.uniform(0.4, 1.8, (7, 1))  # unequal norms, q up to ~4.5
    t = 1e-6
    c, s = math.cos(t), math.sin(t)
    near = X[0] @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    return np.vstack([X, X[2], near, -X[1]])


@pytest.mark.parametrize("act", ["tanh", "gelu", "sigmoid"])
@pytest.mark.parametrize("vb_on", [False, True])
def test_series_against_product_rule(act, vb_on):
    X = points()
    depth, sw2, sw2_out, sb = 3, 1.7, 1.2, 0.6
    spec = dict(depth=depth, width=64, n0=3, act=act, sw2=sw2, sw2_out=sw2_out, sb=sb,
                bias="normal" if vb_on else "zero", bias_out="normal" if vb_on else "zero")
    G = ntkdrift.limit_kernel(spec, X, kind="nngp")
    K = ntkdrift.limit_kernel(spec, X, kind="ntk")
    Gr, Kr = reference(X, act, depth, sw2, sw2_out, sb, vb_on)
    eg = np.max(np.abs(G - Gr)) / np.max(np.abs(Gr))
    ek = np.max(np.abs(K - Kr)) / np.max(np.abs(Kr))
    # 2e-14 of the largest entry: measured at most 5.1e-15 over these six cases (the near-duplicate
    # pair by the 2-D polar rule of expect.c included; it grows with depth, 1.8e-15 / 3.5e-15 / 5.1e-15
    # at depths 1 / 2 / 3: rounding compounded through the layers), against up to 2.7e-11 for the
    # pairwise quadrature alone; the reference is good to ~3e-16 (module docstring), so 2e-14 leaves
    # a 4x margin for rounding on other CPUs' vector paths
    assert eg < 2e-14 and ek < 2e-14, f"{act}: NNGP {eg:.2e}, NTK {ek:.2e} relative to the largest entry"


def test_series_is_the_default_and_differs_from_quadrature_only_in_rounding():
    """The pairwise 2-D quadrature (no series) agrees with the series to the quadrature's own
    accuracy (measured 1.2e-12 of the largest entry here; 1e-11 leaves 8x for other CPUs), so the
    two paths compute the same kernel."""
    X = points()
    spec = dict(depth=3, width=64, n0=3, act="tanh", sw2=1.7, sb=0.6)
    K = ntkdrift.limit_kernel(spec, X)
    Kq = ntkdrift.limit_kernel(spec, X, series=False)
    assert np.max(np.abs(K - Kq)) / np.max(np.abs(K)) < 1e-11
