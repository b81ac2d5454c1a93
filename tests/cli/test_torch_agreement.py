#!/usr/bin/python3
"""PyTorch agreement: for parameters written by `ntkdrift kernel --save-params`,
PyTorch autograd (Jacobian by per-example backward passes, K = J J^T) gives the
same kernel to relative 1e-10 (Frobenius).

The network is rebuilt here from docs/conventions.md alone (the multipliers are
recomputed from the spec, not read from ntkdrift): an error in either side's
parameterization shows up as an O(1) difference.  1e-10: both sides are float64
sums of the same products in different orders (rounding ~1e-15 relative); the
margin covers ill-conditioned entries near zero.

usage: test_torch_agreement.py PATH/TO/ntkdrift
"""
import json, math, os, shutil, subprocess, sys, tempfile

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(2)

BIN = sys.argv[1]
ACTS = {
    "relu": torch.relu,
    "erf": torch.erf,
    "tanh": torch.tanh,
    "gelu": lambda z: torch.nn.functional.gelu(z),  # exact (erf) form
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
}


def torch_kernel(run, cfg):
    man = json.load(open(os.path.join(run, "manifest.json")))
    spec = man["spec"]
    kz, pz = np.load(os.path.join(run, "kernel.npz")), np.load(os.path.join(run, "params.npz"))
    X = torch.from_numpy(kz["X"])
    widths = [spec["n0"]] + spec["widths"] + [spec["outputs"]]
    d = len(widths) - 1
    params, mult = [], []
    for l in range(1, d + 1):
        readout = l == d
        sw2 = cfg["sw2_out"] if readout else cfg["sw2"]
        bias = cfg.get("bias_out", cfg["bias"]) if readout else cfg["bias"]
        fan = 1.0 if (l == 1 and cfg.get("first", "fan_in") == "none") else widths[l - 1]
        if cfg["param"] == "ntk":
            cw, cb = math.sqrt(sw2 / fan), cfg["sb"]
        else:
            cw, cb = 1.0, 1.0
        W = torch.from_numpy(pz[f"W{l}"]).clone().requires_grad_(True)
        b = torch.from_numpy(pz[f"b{l}"]).clone().requires_grad_(True) if bias != "none" else None
        assert (f"b{l}" in pz.files) == (bias != "none"), f"params.npz bias presence wrong for layer {l}"
        params.append((W, b))
        mult.append((cw, cb))
    phi = ACTS[cfg["act"]]

    def f(x):
        h = x
        for l, ((W, b), (cw, cb)) in enumerate(zip(params, mult), start=1):
            z = cw * (h @ W.T)
            if b is not None:
                z = z + cb * b
            h = phi(z) if l < d else z
        return h

    flat = [t for W, b in params for t in (W, b) if t is not None]
    N, k = X.shape[0], widths[-1]
    F = f(X)
    J = torch.zeros(N * k, sum(t.numel() for t in flat))
    for i in range(N):
        for a in range(k):
            g = torch.autograd.grad(F[i, a], flat, retain_graph=True)
            J[i * k + a] = torch.cat([t.reshape(-1) for t in g])
    K = (J @ J.T).reshape(N, k, N, k).permute(0, 2, 1, 3).detach().numpy()
    return K[:, :, 0, 0] if k == 1 else K, kz


CASES = []
for act in ACTS:
    for param in ("ntk", "standard"):
        CASES.append(dict(act=act, param=param, depth=2, width=24, n0=5, k=1, sw2=2.0, sw2_out=1.0, sb=0.7,
                          bias="normal", data="gaussian"))
CASES += [
    dict(act="tanh", param="ntk", depth=3, width=16, n0=4, k=3, sw2=1.5, sw2_out=1.2, sb=0.3, bias="zero",
         bias_out="none", data="gaussian"),
    dict(act="relu", param="ntk", depth=1, width=40, n0=2, k=1, sw2=2.0, sw2_out=1.0, sb=1.0, bias="zero",
         first="none", data="circle"),
    dict(act="erf", param="standard", depth=0, width=1, n0=6, k=2, sw2=1.0, sw2_out=1.0, sb=0.5, bias="normal",
         data="gaussian"),
    dict(act="gelu", param="standard", depth=4, width=12, n0=3, k=1, sw2=2.0, sw2_out=1.0, sb=0.0,
         bias="none", data="gaussian"),
    # sigmoid with large pre-activations (sw2 = 30: standard deviations 3.5-5.5, deep into the saturated
    # tails), two outputs
    dict(act="sigmoid", param="ntk", depth=3, width=16, n0=4, k=2, sw2=30.0, sw2_out=1.0, sb=2.0, bias="zero",
         bias_out="none", data="gaussian"),
    # the classic peer network of the PyTorch NTK scripts: relu, no biases, sigma_w^2 = 2 on every layer
    # including the readout
    dict(act="relu", param="ntk", depth=2, width=32, n0=6, k=1, sw2=2.0, sw2_out=2.0, sb=1.0, bias="none",
         data="gaussian"),
]


def main():
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="ntk_torch_")
    for ci, cfg in enumerate(CASES):
        run = os.path.join(tmp, f"run{ci}")
        cmd = [BIN, "kernel", "--depth", str(cfg["depth"]), "--width", str(cfg["width"]),
               "--outputs", str(cfg["k"]), "--act", cfg["act"], "--param", cfg["param"],
               "--sw2", str(cfg["sw2"]), "--sw2-out", str(cfg["sw2_out"]), "--sb", str(cfg["sb"]),
               "--bias", cfg["bias"], "--data", cfg["data"], "--n", "9", "--seed", str(100 + ci),
               "--save-params", "--out", run]
        if cfg["data"] != "circle":
            cmd += ["--n0", str(cfg["n0"])]
        if "bias_out" in cfg:
            cmd += ["--bias-out", cfg["bias_out"]]
        if "first" in cfg:
            cmd += ["--first-layer", cfg["first"]]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL case {ci}: ntkdrift exited {r.returncode}: {r.stderr.strip()}")
            failed += 1
            continue
        Kt, kz = torch_kernel(run, cfg)
        K = kz["K"]
        err = np.linalg.norm(K - Kt) / np.linalg.norm(Kt)
        ok = K.shape == Kt.shape and err <= 1e-10
        print(f"{'ok  ' if ok else 'FAIL'} case {ci}: {cfg['act']:8s} {cfg['param']:8s} depth {cfg['depth']} "
              f"k {cfg['k']} bias {cfg['bias']}: rel err {err:.2e}")
        passed += ok
        failed += not ok
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
