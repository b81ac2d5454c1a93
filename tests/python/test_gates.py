"""Network.freeze_gates (ntk_net_freeze_gates, docs/dynamics.md "Frozen gates") against numpy.

- The gated network written out in numpy (h_l = z_l(theta) o 1[z_l(theta_g) > 0], the NTK by
  backpropagation through the fixed gates): after the parameters have moved away from theta_g, the
  package's forward and empirical_ntk (float64, and float32 to 1e-5: its rounding) equal it to 1e-12
  relative (summation order), and the relu network at the same parameters differs (so a gate read at
  the wrong parameters would fail by far);
- copy() keeps the gates, thaw_gates() gives the relu network back, gate_params is theta_g;
- an erf network refuses to freeze with the library's message."""
import numpy as np
import pytest

import ntkdrift as nd


def numpy_gated(net, theta_g, X):
    """f [N] and K [N x N] of the gated network with the package's layout (NTK parameterization,
    sw2 2 / 1, sb 1: the defaults)."""
    P = net.params
    off, Ws, Gs, bs, gbs = 0, [], [], [], []
    for W, b in zip(net.weights, net.biases):
        n = W.size
        Ws.append(W)
        Gs.append(theta_g[off:off + n].reshape(W.shape))
        off += n
        bs.append(b)
        gbs.append(theta_g[off:off + len(b)])
        off += len(b)
    assert off == len(P)
    d = len(Ws)
    cws = [np.sqrt((2.0 if l < d - 1 else 1.0) / Ws[l].shape[1]) for l in range(d)]
    h, hg, H, gates = X, X, [X], []
    for l in range(d):
        z = cws[l] * h @ Ws[l].T + bs[l]
        if l == d - 1:
            f = z[:, 0]
            break
        zg = cws[l] * hg @ Gs[l].T + gbs[l]
        g = (zg > 0).astype(float)
        h, hg = z * g, zg * g
        H.append(h)
        gates.append(g)
    D, K = np.ones((len(X), 1)), np.zeros((len(X), len(X)))
    for l in range(d - 1, -1, -1):
        K += (D @ D.T) * (cws[l] ** 2 * H[l] @ H[l].T + 1.0)
        if l > 0:
            D = cws[l] * (D @ Ws[l]) * gates[l - 1]
    return f, K


def rel(a, b):
    return np.linalg.norm(np.asarray(a, float) - b) / np.linalg.norm(b)


def test_gated_network_against_numpy():
    X = nd.inputs("gaussian", n=7, n0=3, data_seed=1)
    net = nd.Network(depth=2, width=40, n0=3, bias="normal", seed=5)
    theta_g = net.params.copy()
    net.freeze_gates()
    assert net.gates_frozen and np.array_equal(net.gate_params, theta_g)
    rng = np.random.default_rng(0)
    net.params[:] += 0.3 * rng.standard_normal(net.num_params)  # units cross their kinks
    f, K = numpy_gated(net, theta_g, X)
    assert rel(net.forward(X)[:, 0], f) < 1e-12
    assert rel(nd.empirical_ntk(net, X), K) < 1e-12
    assert rel(nd.empirical_ntk(net, X, dtype=np.float32), K) < 1e-5
    c = net.copy()
    assert c.gates_frozen and rel(nd.empirical_ntk(c, X), K) < 1e-12
    _, Kp = numpy_gated(net, net.params.copy(), X)  # the relu network at the same parameters
    assert rel(Kp, K) > 1e-2
    net.thaw_gates()
    assert not net.gates_frozen and net.gate_params is None
    assert rel(nd.empirical_ntk(net, X), Kp) < 1e-12


def test_freeze_refuses_erf():
    net = nd.Network(depth=1, width=8, n0=3, act="erf")
    with pytest.raises(nd.NtkError, match="act is erf, gates are for relu only"):
        net.freeze_gates()
