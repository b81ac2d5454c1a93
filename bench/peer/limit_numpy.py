#!/usr/bin/python3
"""limit_numpy.py -- the naive numpy recursion of the infinite-width NNGP and NTK (bench peer).

The project's own peer for bench/bench_limit.py: the recursion of docs/limits.md written directly
from its formulas with whole N x N arrays, as one would in numpy -- several N x N temporaries per
layer (the angle, its sine and cosine, the two expectations, the updates).  NTK parameterization:

    Sigma^(1) = sw2 x.x'/n0 + vb,   Theta^(1) = sw2 x.x'/n0 + tb
    Sigma^(l) = sw2_l E[phi phi] + vb_l,   Theta^(l) = sw2_l E[phi phi] + tb_l + sw2_l E[phi' phi'] Theta^(l-1)

with the Gaussian expectations under Sigma^(l-1) in closed form:
  relu (arc-cosine): E[phi phi] = sqrt(q1 q2)/(2 pi) (sin t + (pi - t) cos t), E[phi' phi'] = (pi - t)/(2 pi),
                     t = arccos(Sigma_12 / sqrt(q1 q2));
  erf (arcsine):     E[phi phi] = (2/pi) arcsin(2 S12 / sqrt((1 + 2 q1)(1 + 2 q2))),
                     E[phi' phi'] = (4/pi) / sqrt((1 + 2 q1)(1 + 2 q2) - 4 S12^2).
vb = sb^2 for a normal bias, 0 otherwise; tb = sb^2 for a trainable (normal or zero) bias, 0 for none.
The only care taken: the cosine's diagonal is set to exactly 1 (arccos of a rounded 1 - 1e-16 is
1.5e-8, which relu's (pi - t) would carry into the diagonal).

    from limit_numpy import limit_kernels
    nngp, ntk = limit_kernels(X, "relu", depth=10)

As a script: limit_numpy.py X.npy ACT DEPTH [REPS] prints one JSON line with each run's seconds.
"""
import json
import sys
import time

import numpy as np


def expectations(act, S):
    """E[phi phi], E[phi' phi'] under the covariance S [N x N] (elementwise over pairs)."""
    q = np.diag(S).copy()
    if act == "relu":
        sq = np.sqrt(np.outer(q, q))
        c = np.clip(S / sq, -1.0, 1.0)
        np.fill_diagonal(c, 1.0)
        t = np.arccos(c)
        return sq / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t)), (np.pi - t) / (2 * np.pi)
    if act == "erf":
        d = np.outer(1 + 2 * q, 1 + 2 * q)
        x = np.clip(2 * S / np.sqrt(d), -1.0, 1.0)
        return 2 / np.pi * np.arcsin(x), 4 / np.pi / np.sqrt(d - 4 * S * S)
    raise ValueError(f"limit_numpy: no closed form for {act!r} (relu, erf)")


def limit_kernels(X, act, depth, sw2=2.0, sw2_out=1.0, sb=1.0, bias="zero", bias_out="zero"):
    """NNGP and NTK [N x N] of a depth-`depth` network (depth + 1 weight layers) on X [N x n0]."""
    X = np.asarray(X, dtype=np.float64)
    d = depth + 1
    S_in = X @ X.T / X.shape[1]
    S = Theta = None
    for l in range(1, d + 1):
        b = bias_out if l == d else bias
        w = sw2_out if l == d else sw2
        vb = sb * sb if b == "normal" else 0.0
        tb = 0.0 if b == "none" else sb * sb
        if l > 1:
            ee, ed = expectations(act, S)
            S_in = ee
            Theta = w * S_in + tb + w * ed * Theta
        else:
            Theta = w * S_in + tb
        S = w * S_in + vb
    return S, Theta


def main():
    X = np.load(sys.argv[1])
    act, depth = sys.argv[2], int(sys.argv[3])
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    secs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        limit_kernels(X, act, depth)
        secs.append(time.perf_counter() - t0)
    print(json.dumps({"act": act, "n": X.shape[0], "depth": depth, "seconds": secs}))


if __name__ == "__main__":
    main()
