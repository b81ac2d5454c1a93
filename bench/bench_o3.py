#!/usr/bin/python3
"""bench_o3.py -- the hierarchy tensors O3 and O4 (ntk_o3, ntk_o4) in one run: their time against one
kernel of the same network (bench/o3_probe.c, in-process, warm medians), their peak memory against
the plan (ntk_o3_bytes / ntk_o4_bytes), and for the small-N shapes against a PyTorch reference by
forward-mode derivatives of K(theta) = J J^T (torch.func.jvp, or functorch.jvp on PyTorch 1.x; the
same construction as tests/kernel/test_o3_torch.py), with the two results compared.

Network (the issue's reference): erf, NTK parameterization, sigma_w^2 2 (hidden) / 1 (readout),
normal hidden biases, no readout bias, Gaussian inputs of norm sqrt(n0).  Shapes DEPTHxWIDTHxN0xN,
suffix :o4 to time O4 too (N <= 64), :torch for the PyTorch reference of O3, :torch4 of O3 and O4
(PyTorch 1.13's functorch is slow at nested forward-over-reverse: keep :torch4 to small shapes).

usage: bench/bench_o3.py [--shapes LIST] [--threads T] [--repeat R] [--lib build/libntkdrift.a]
Timings are printed, never asserted (bench/README.md, "o3").
"""
import argparse, json, math, os, resource, subprocess, sys, tempfile, time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "out")
DEFAULT = "2x256x4x8:o4:torch4,2x1024x4x16:o4:torch,2x2048x4x16:o4,3x1024x16x256"


def build_probe(lib):
    exe, src = os.path.join(OUT, "o3_probe"), os.path.join(REPO, "bench", "o3_probe.c")
    os.makedirs(OUT, exist_ok=True)
    if os.path.exists(exe) and os.path.getmtime(exe) >= max(os.path.getmtime(src), os.path.getmtime(lib)):
        return exe
    libs = subprocess.run(["pkg-config", "--libs", "openblas", "lapacke", "libzip", "zlib"],
                          capture_output=True, text=True).stdout.split()
    subprocess.run(["gcc", "-O2", "-std=c17", "-fopenmp", "-I", os.path.join(REPO, "include"), "-o", exe, src,
                    lib, *libs, "-lm"], check=True)
    return exe


def torch_reference(d, depth, width, n0, N, do4, threads):
    """Seconds for O3 (and O4) by forward mode over reverse mode in PyTorch, and the tensors."""
    import torch
    try:
        from torch.func import jvp, jacrev, vmap
    except ImportError:
        from functorch import jvp, jacrev, vmap
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(threads)
    pz = np.load(os.path.join(d, "params.npz"))
    X = torch.from_numpy(np.load(os.path.join(d, "X.npy")))
    widths = [n0] + [width] * depth + [1]
    L1 = len(widths) - 1
    shapes, flat = [], []
    for l in range(1, L1 + 1):
        for kind in ("W", "b"):
            key = f"{kind}{l}"
            if key in pz.files:
                shapes.append((l, kind, pz[key].shape))
                flat.append(torch.from_numpy(pz[key]).reshape(-1))
    theta0 = torch.cat(flat)
    cws = [math.sqrt((1.0 if l == L1 else 2.0) / widths[l - 1]) for l in range(1, L1 + 1)]

    def f(theta):
        p, o = {}, 0
        for l, kind, shp in shapes:
            n = int(np.prod(shp))
            p[(l, kind)] = theta[o:o + n].reshape(shp)
            o += n
        h = X
        for l in range(1, L1 + 1):
            z = cws[l - 1] * (h @ p[(l, "W")].T)
            if (l, "b") in p:
                z = z + p[(l, "b")]
            h = torch.erf(z) if l < L1 else z
        return h[:, 0]

    J = jacrev(f)

    def Kfun(theta):
        Jt = J(theta)
        return Jt @ Jt.T

    def O3fun(theta):  # the N directions batched by vmap
        g = J(theta)
        return vmap(lambda v: jvp(Kfun, (theta,), (v,))[1], out_dims=-1)(g)

    t0 = time.perf_counter()
    O3 = O3fun(theta0)
    t3 = time.perf_counter() - t0
    O4, t4 = None, None
    if do4:
        g0 = J(theta0)
        t0 = time.perf_counter()
        O4 = torch.stack([jvp(O3fun, (theta0,), (g0[q],))[1] for q in range(N)], dim=-1)
        t4 = time.perf_counter() - t0
    return t3, t4, O3.numpy(), None if O4 is None else O4.numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default=DEFAULT)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lib", default=os.path.join(REPO, "build", "libntkdrift.a"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    probe = build_probe(args.lib)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    rows = []
    print(f"o3_probe: medians of {args.repeat} warm calls (O4: of min(3, R) calls), {args.threads} threads; "
          f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')}", flush=True)
    for spec in args.shapes.split(","):
        parts = spec.split(":")
        depth, width, n0, N = (int(x) for x in parts[0].split("x"))
        do4, do_torch = "o4" in parts[1:], "torch" in parts[1:] or "torch4" in parts[1:]
        torch4 = "torch4" in parts[1:]
        with tempfile.TemporaryDirectory(prefix="ntk_bench_o3_") as d:
            cmd = [probe, str(depth), str(width), str(n0), str(N), str(args.threads), str(args.repeat),
                   "1" if do4 else "0", str(args.seed)] + ([d] if do_torch else [])
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            c = json.loads(r.stdout)
            row = dict(shape=parts[0], **c)
            P_h = width * width * (depth - 1) + width
            row["gflop_o3"] = 1e-9 * (2 * N * N * P_h + 4 * N ** 3 * width * depth)
            if do_torch:
                t3, t4, O3t, O4t = torch_reference(d, depth, width, n0, N, torch4, args.threads)
                O3 = np.load(os.path.join(d, "O3.npy"))
                row.update(torch_o3_s=t3, err_o3=float(np.linalg.norm(O3 - O3t) / np.linalg.norm(O3t)))
                if torch4:
                    O4 = np.load(os.path.join(d, "O4.npy"))
                    row.update(torch_o4_s=t4, err_o4=float(np.linalg.norm(O4 - O4t) / np.linalg.norm(O4t)))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print("|      shape | P | kernel s | O3 s | O3/kernel | O3 GFLOP/s | torch O3 s | x torch | O4 s | torch O4 s | "
          "x torch | RSS MB | plan MB | err O3 | err O4 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    f = lambda v, fmt: (fmt % v) if v is not None and v >= 0 else "-"
    for r in rows:
        plan = r["o4_bytes"] if r["o4_bytes"] > 0 else r["o3_bytes"]
        print(f"| {r['shape']} | {r['params']:,} | {r['kernel_s']:.4f} | {r['o3_s']:.3f} | "
              f"{r['o3_s'] / r['kernel_s']:.1f} | {r['gflop_o3'] / r['o3_s']:.1f} | "
              f"{f(r.get('torch_o3_s'), '%.3f')} | "
              f"{f(r.get('torch_o3_s', -1) / r['o3_s'] if 'torch_o3_s' in r else None, '%.1f')} | "
              f"{f(r['o4_s'], '%.2f')} | {f(r.get('torch_o4_s'), '%.2f')} | "
              f"{f(r['torch_o4_s'] / r['o4_s'] if r.get('torch_o4_s') else None, '%.1f')} | "
              f"{r['maxrss_bytes'] / 2**20:.0f} | {plan / 2**20:.0f} | {f(r.get('err_o3'), '%.1e')} | "
              f"{f(r.get('err_o4'), '%.1e')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
