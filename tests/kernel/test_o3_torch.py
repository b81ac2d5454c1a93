#!/usr/bin/python3
"""PyTorch agreement of the hierarchy tensors: for networks written by tests/kernel/o3_driver.c,
O3_abc = grad K_ab . grad f_c and O4_abcd = grad O3_abc . grad f_d recomputed by forward-mode
differentiation (functorch's jvp; torch.func.jvp where the installed PyTorch has it) of the kernel
K(theta) = J(theta) J(theta)^T, J by reverse mode (jacrev), with the network rebuilt from
docs/conventions.md alone (multipliers from the spec, parameters from params.npz).

O3[:, :, c] = jvp(K, theta, g_c) with g_c = J[c];  O4[..., c, d] = jvp(theta -> jvp(K, theta,
J(theta)[c]), theta, g_d): the direction g_c moves with theta, as in the hierarchy.  Tolerances,
relative Frobenius: O3 1e-12 (both sides are float64 sums of the same products in different
orders, rounding ~1e-15 relative; the margin covers cancellation in small entries), O4 1e-11 (one
more level of products, and the C side's O4 forms differences of terms of O3's size).

Both parameterizations, hidden bias none / zero / normal, readout bias varied, smooth activations
and relu (pathwise: autograd's relu'' is 0 too), k = 1.

usage: test_o3_torch.py PATH/TO/o3_driver
"""
import math, os, shutil, subprocess, sys, tempfile

import numpy as np
import torch

try:
    from torch.func import jvp, jacrev, functional_call  # PyTorch >= 2.0
except ImportError:
    from functorch import jvp, jacrev
    from torch.nn.utils.stateless import functional_call  # noqa: F401  (unused: plain functions below)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(2)
DRIVER = sys.argv[1]
ACTS = {"relu": torch.relu, "erf": torch.erf, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        "gelu": lambda z: torch.nn.functional.gelu(z), "identity": lambda z: z}

CASES = []
for i, (param, bias, bias_out) in enumerate([(p, b, bo) for p in ("ntk", "standard")
                                             for b in ("none", "zero", "normal")
                                             for bo in (("none", "normal") if b == "normal" else (b,))]):
    act = ["erf", "tanh", "gelu", "sigmoid"][i % 4]
    CASES.append(dict(act=act, param=param, bias=bias, bias_out=bias_out, depth=2, width=6,
                      sw2=2.0 if param == "ntk" else 0.3, sw2_out=1.0 if param == "ntk" else 0.3, sb=0.7))
CASES.append(dict(act="relu", param="ntk", bias="normal", bias_out="zero", depth=3, width=5, sw2=2.0,
                  sw2_out=1.0, sb=0.5))
CASES.append(dict(act="tanh", param="ntk", bias="zero", bias_out="none", depth=1, width=8, sw2=1.5,
                  sw2_out=1.2, sb=0.4))


def torch_tensors(d, cfg):
    pz = np.load(os.path.join(d, "params.npz"))
    X = torch.from_numpy(np.load(os.path.join(d, "X.npy")))
    Xe = torch.from_numpy(np.load(os.path.join(d, "Xe.npy")))
    n0, depth = X.shape[1], cfg["depth"]
    widths = [n0] + [cfg["width"] + l for l in range(depth)] + [1]
    L1 = len(widths) - 1
    names, flat, mult = [], [], []
    for l in range(1, L1 + 1):
        readout = l == L1
        sw2 = cfg["sw2_out"] if readout else cfg["sw2"]
        bias = cfg["bias_out"] if readout else cfg["bias"]
        cw, cb = (math.sqrt(sw2 / widths[l - 1]), cfg["sb"]) if cfg["param"] == "ntk" else (1.0, 1.0)
        assert (f"b{l}" in pz.files) == (bias != "none")
        shapes = [("W", pz[f"W{l}"])] + ([("b", pz[f"b{l}"])] if bias != "none" else [])
        for kind, a in shapes:
            names.append((l, kind, a.shape))
            flat.append(torch.from_numpy(a).reshape(-1))
        mult.append((cw, cb))
    theta0 = torch.cat(flat)
    phi = ACTS[cfg["act"]]

    def unpack(theta):
        out, o = {}, 0
        for l, kind, shape in names:
            n = int(np.prod(shape))
            out[(l, kind)] = theta[o:o + n].reshape(shape)
            o += n
        return out

    def f(theta, x):
        p = unpack(theta)
        h = x
        for l in range(1, L1 + 1):
            cw, cb = mult[l - 1]
            z = cw * (h @ p[(l, "W")].T)
            if (l, "b") in p:
                z = z + cb * p[(l, "b")]
            h = phi(z) if l < L1 else z
        return h[:, 0]

    XA = torch.cat([X, Xe])  # train rows first, then eval rows
    N, M = X.shape[0], Xe.shape[0]

    def J(theta):
        return jacrev(lambda t: f(t, XA))(theta)  # [N + M, P]

    def Kfun(theta):  # [N + M, N]: the train kernel and the eval x train rows
        Jt = J(theta)
        return Jt @ Jt[:N].T

    def O3fun(theta):  # [N + M, N, N], index c last
        g = J(theta)[:N]
        cols = [jvp(Kfun, (theta,), (g[c],))[1] for c in range(N)]
        return torch.stack(cols, dim=-1)

    O3 = O3fun(theta0)
    g0 = J(theta0)[:N]
    O4 = torch.stack([jvp(O3fun, (theta0,), (g0[q],))[1] for q in range(N)], dim=-1)
    return O3[:N].numpy(), O3[N:].numpy(), O4[:N].numpy(), O4[N:].numpy()


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def main():
    tmp = tempfile.mkdtemp(prefix="ntk_o3_torch_")
    failed = 0
    for ci, cfg in enumerate(CASES):
        d = os.path.join(tmp, f"case{ci}")
        os.makedirs(d)
        cmd = [DRIVER, d, cfg["act"], cfg["param"], cfg["bias"], cfg["bias_out"], str(cfg["depth"]),
               str(cfg["width"]), str(cfg["sw2"]), str(cfg["sw2_out"]), str(cfg["sb"]), str(40 + ci)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL case {ci}: driver exited {r.returncode}: {r.stderr.strip()}")
            failed += 1
            continue
        O3t, O3et, O4t, O4et = torch_tensors(d, cfg)
        got = [np.load(os.path.join(d, n)) for n in ("O3.npy", "O3e.npy", "O4.npy", "O4e.npy")]
        errs = [rel(got[0], O3t), rel(got[1], O3et), rel(got[2], O4t), rel(got[3], O4et)]
        ok = errs[0] <= 1e-12 and errs[1] <= 1e-12 and errs[2] <= 1e-11 and errs[3] <= 1e-11
        print(f"{'ok  ' if ok else 'FAIL'} case {ci}: {cfg['act']:8s} {cfg['param']:8s} bias {cfg['bias']}/"
              f"{cfg['bias_out']} depth {cfg['depth']}: O3 {errs[0]:.1e} O3e {errs[1]:.1e} "
              f"O4 {errs[2]:.1e} O4e {errs[3]:.1e}")
        failed += not ok
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
