"""empirical_ntk against PyTorch autograd (the approach of tests/cli/test_torch_agreement.py): the
network is rebuilt in PyTorch from the package's parameter views and docs/conventions.md alone (the
multipliers c_w, c_b recomputed from the spec, not read from the library), the Jacobian J is taken by
one backward pass per (example, output), and K = J J^T, its cross and diagonal blocks and the
per-layer terms (J restricted to one layer's W and b) must agree to relative 1e-10 in Frobenius norm.
1e-10: both sides are float64 sums of the same products in different orders (rounding ~1e-15
relative); the margin covers entries near zero.  float32 kernels agree to 1e-5 (float32 rounding,
~6e-8 per operation over a few hundred terms)."""
import math

import numpy as np
import pytest
import torch

import ntkdrift as nd

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
ACTS = {"relu": torch.relu, "erf": torch.erf, "tanh": torch.tanh, "gelu": torch.nn.functional.gelu,
        "identity": lambda z: z, "sigmoid": torch.sigmoid}


def torch_jacobians(net, X):
    """Per-layer Jacobians J_l [N*k x P_l] of the network rebuilt from its parameters and its spec."""
    s = net.spec.keys
    widths = [s["n0"]] + s["widths"] + [s["outputs"]]
    d = len(widths) - 1
    layers = []
    for l in range(1, d + 1):
        readout = l == d
        sw2 = s["sw2_out"] if readout else s["sw2"]
        fan = 1.0 if (l == 1 and s["first_layer"] == "none") else widths[l - 1]
        cw, cb = (math.sqrt(sw2 / fan), s["sb"]) if s["param"] == "ntk" else (1.0, 1.0)
        W = torch.from_numpy(net.weights[l - 1].copy()).requires_grad_(True)
        b = net.biases[l - 1]
        b = None if b is None else torch.from_numpy(b.copy()).requires_grad_(True)
        layers.append((W, b, cw, cb))
    phi = ACTS[s["act"]]
    h = torch.from_numpy(np.asarray(X, dtype=np.float64))
    for l, (W, b, cw, cb) in enumerate(layers, start=1):
        z = cw * (h @ W.T) + (cb * b if b is not None else 0)
        h = phi(z) if l < d else z
    N, k = h.shape
    per = [[t for t in (W, b) if t is not None] for W, b, _, _ in layers]
    J = [torch.zeros(N * k, sum(t.numel() for t in p)) for p in per]
    flat = [t for p in per for t in p]
    for i in range(N):
        for a in range(k):
            g = torch.autograd.grad(h[i, a], flat, retain_graph=True)
            j = 0
            for l, p in enumerate(per):
                J[l][i * k + a] = torch.cat([g[j + q].reshape(-1) for q in range(len(p))])
                j += len(p)
    return [Jl.detach().numpy() for Jl in J], k


def file_layout(M, Na, Nb, k):
    """[Na*k x Nb*k] -> [Na x Nb] (k = 1) or [Na x Nb x k x k]."""
    return M.reshape(Na, k, Nb, k).transpose(0, 2, 1, 3)[:, :, 0, 0] if k == 1 else \
        M.reshape(Na, k, Nb, k).transpose(0, 2, 1, 3)


def rel(a, b):
    return np.linalg.norm(np.asarray(a, dtype=np.float64) - b) / np.linalg.norm(b)


CASES = [dict(depth=2, width=48, act="relu"),
         dict(depth=3, width=32, act="tanh", param="standard", bias="normal", outputs=2),
         dict(depth=2, width=40, act="gelu", first_layer="none", bias="none", sw2=1.5),
         dict(depth=1, width=64, act="sigmoid", bias="normal", sb=0.5, outputs=3, sw2_out=2.0),
         dict(depth=2, width=24, act="erf", param="standard", bias="zero")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['act']}-{c.get('param', 'ntk')}-k{c.get('outputs', 1)}")
def test_empirical_ntk_matches_autograd(case):
    net = nd.Network(n0=5, seed=11, **case)
    if case.get("bias") == "zero":  # trainable zero biases: make them non-zero so their terms are tested
        for b in net.biases:
            b[:] = np.random.default_rng(0).standard_normal(b.shape)
    X = nd.inputs(n=9, n0=5, data_seed=4)
    X2 = nd.inputs(n=6, n0=5, data_seed=8)
    J, k = torch_jacobians(net, np.vstack([X, X2]))
    Jall = np.hstack(J)
    Kall = Jall @ Jall.T
    N, M = len(X), len(X2)
    ref = file_layout(Kall[:N * k, :N * k], N, N, k)
    K, KL = nd.empirical_ntk(net, X, per_layer=True)
    assert rel(K, ref) < 1e-10
    for l, Jl in enumerate(J):
        assert rel(KL[l], file_layout((Jl @ Jl.T)[:N * k, :N * k], N, N, k)) < 1e-10, f"layer {l + 1}"
    assert rel(nd.empirical_ntk(net, X, X2), file_layout(Kall[:N * k, N * k:], N, M, k)) < 1e-10, "cross"
    D = nd.empirical_ntk(net, X, diag=True)
    Dref = np.stack([ref[i, i] for i in range(N)])
    assert rel(D, Dref) < 1e-10, "diag"
    assert rel(nd.empirical_ntk(net, X, dtype=np.float32), ref) < 1e-5, "float32"
    # the forward pass of the same rebuilt network
    assert rel(net.forward(X), _torch_forward(net, X)) < 1e-12  # same products, different summation order


def _torch_forward(net, X):
    s = net.spec.keys
    h = torch.from_numpy(X)
    d = net.depth + 1
    widths = [s["n0"]] + s["widths"]
    for l in range(1, d + 1):
        sw2 = s["sw2_out"] if l == d else s["sw2"]
        fan = 1.0 if (l == 1 and s["first_layer"] == "none") else widths[l - 1]
        cw, cb = (math.sqrt(sw2 / fan), s["sb"]) if s["param"] == "ntk" else (1.0, 1.0)
        b = net.biases[l - 1]
        z = cw * (h @ torch.from_numpy(net.weights[l - 1]).T) + (cb * torch.from_numpy(b) if b is not None else 0)
        h = ACTS[s["act"]](z) if l < d else z
    return h.numpy()


def test_parameter_views_are_live():
    """Writing into .params changes the network the kernel sees (views, not copies)."""
    net = nd.Network(depth=1, width=16, n0=3, seed=2)
    X = nd.inputs(n=4, n0=3)
    K0 = nd.empirical_ntk(net, X)
    F0 = net.forward(X)
    net.weights[-1] *= 2.0  # readout doubled: f doubles, the readout's kernel term is unchanged
    # the readout's output is c_w W h summed in the same order: doubling W doubles it exactly (a power of two)
    assert np.array_equal(net.forward(X), 2 * F0)
    assert not np.array_equal(nd.empirical_ntk(net, X), K0)
    assert net.weights[0].__array_interface__["data"][0] == net.params.__array_interface__["data"][0]
