#!/usr/bin/python3
"""bench_limit.py -- time `ntkdrift limit` on N points (default 8192, depth 10) against the work of
the recursion.

The infinite-width recursion costs, per pair of points and per layer, one evaluation of the 2-D
Gaussian expectations (relu / erf: a closed form with acos or asin, sin, cos, sqrt and ~20 flops;
other activations: ~10^5 activation evaluations by quadrature) plus ~10 flops of NNGP/NTK update.
The natural unit is therefore "pair-layers": N(N+1)/2 * (depth + 1) for the symmetric kernel.
Reports wall time, ns per pair-layer and peak RSS, for relu (closed form) and, at a smaller N,
tanh (quadrature).

usage: bench_limit.py [--bin build/ntkdrift] [--n 8192] [--depth 10] [--threads 2] [--n-quad 256]
"""
import argparse, json, os, shutil, subprocess, tempfile, time


def run(binary, act, n, depth, threads):
    out = tempfile.mkdtemp(prefix="bench_limit_")
    shutil.rmtree(out)
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "limit", "--act", act, "--n", str(n), "--depth", str(depth), "--width", "512",
                          "--n0", "64", "--data", "gaussian", "--threads", str(threads), "--out", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"ntkdrift limit failed: {p.stderr.read().decode()}")
    secs = json.load(open(os.path.join(out, "manifest.json")))["limit"]["seconds"]
    shutil.rmtree(out, ignore_errors=True)
    pair_layers = n * (n + 1) / 2 * (depth + 1)
    return dict(act=act, n=n, depth=depth, threads=threads, seconds=secs, wall=wall,
                ns_per_pair_layer=secs / pair_layers * 1e9, peak_rss_mb=ru.ru_maxrss / 1024,
                kernel_mb=2 * n * n * 8 / 2**20)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ntkdrift")
    ap.add_argument("--n", type=int, default=8192)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-quad", type=int, default=256, help="N for the quadrature (tanh) row")
    a = ap.parse_args()
    rows = [run(a.bin, "relu", a.n, a.depth, a.threads), run(a.bin, "tanh", a.n_quad, a.depth, a.threads)]
    print(f"{'act':6s} {'N':>6s} {'depth':>5s} {'seconds':>9s} {'wall':>7s} {'ns/pair-layer':>14s} "
          f"{'RSS MB':>8s} {'2 N^2 x 8 B (MB)':>17s}")
    for r in rows:
        print(f"{r['act']:6s} {r['n']:6d} {r['depth']:5d} {r['seconds']:9.2f} {r['wall']:7.2f} "
              f"{r['ns_per_pair_layer']:14.1f} {r['peak_rss_mb']:8.0f} {r['kernel_mb']:17.0f}")
    os.makedirs("bench/out", exist_ok=True)
    json.dump(rows, open("bench/out/bench_limit.json", "w"), indent=1)


if __name__ == "__main__":
    main()
