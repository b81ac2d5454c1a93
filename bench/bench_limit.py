#!/usr/bin/python3
"""bench_limit.py -- the infinite-width kernels of libntkdrift against their peers, in one run.

Two tables (docs/performance.md, "Infinite-width kernels"; bench/README.md, "limit"):

1. Closed forms (relu: arc-cosine, erf: arcsine), N = --n-closed (4096) Gaussian N(0, I) points of
   dimension 4, depth --depth (10): ntkdrift's ntk_limit_full in-process (bench/limit_probe.c; the
   first call of a fresh process, "cold", and the best of the repeats, "warm"), the whole
   `ntkdrift limit` process on the same points, and the naive numpy recursion of bench/peer/
   limit_numpy.py on the same points (best of --reps), with the ratio numpy / ntkdrift, the cost per
   pair and layer, and the largest difference between the two kernels relative to their largest entry.
2. Quadrature activations (tanh, gelu, sigmoid) on points of unequal norm, N = --n-quad (256), depth
   --depth: the Hermite series (the default) against the pairwise 2-D quadrature
   (ntk_limit_opts.no_series: the method before the series), both in-process, with their ratio and
   their largest difference.  Their accuracy against a higher-order reference is tested in
   tests/python/test_limit_series.py (numbers in docs/limits.md).

Pair-layers: N (N + 1) / 2 * (depth + 1), the symmetric half that ntkdrift computes (numpy computes
both halves).  Network: `ntkdrift limit`'s defaults (NTK parameterization, sw2 2, sw2_out 1, trainable
zero-initialised biases with sb 1, first layer 1/sqrt(n0)).

usage: bench_limit.py [--bin build/ntkdrift] [--lib build/libntkdrift.a] [--n-closed 4096]
                      [--n-quad 256] [--depth 10] [--threads 2] [--reps 3]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peer"))
import limit_numpy  # noqa: E402  (bench/peer/limit_numpy.py)


def build_probe(lib, out):
    """Compile bench/limit_probe.c against the static library."""
    libs = subprocess.run(["pkg-config", "--libs", "openblas", "lapacke", "libzip", "zlib", "fftw3"],
                          capture_output=True, text=True, check=True).stdout.split()
    exe = os.path.join(out, "limit_probe")
    subprocess.run(["gcc", "-O2", "-std=c17", "-fopenmp", "-I" + os.path.join(HERE, "..", "include"),
                    os.path.join(HERE, "limit_probe.c"), lib, *libs, "-lm", "-o", exe], check=True)
    return exe


def probe(exe, act, n, depth, threads, reps, series, outdir=None):
    cmd = [exe, act, str(n), str(depth), "4", "gaussian-raw", str(threads), str(reps), "1" if series else "0"]
    if outdir:
        cmd.append(outdir)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"limit_probe failed: {r.stderr}")
    return json.loads(r.stdout)["seconds"]


def cli_wall(binary, act, xpath, n, depth, threads, out):
    """Wall time of the whole `ntkdrift limit` process on the points of xpath."""
    run = os.path.join(out, "run_" + act)
    t0 = time.perf_counter()
    r = subprocess.run([binary, "limit", "--act", act, "--data", xpath, "--n", str(n), "--depth", str(depth),
                        "--threads", str(threads), "--out", run], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"ntkdrift limit failed: {r.stderr}")
    shutil.rmtree(run, ignore_errors=True)
    return wall


def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ntkdrift")
    ap.add_argument("--lib", default="build/libntkdrift.a")
    ap.add_argument("--n-closed", type=int, default=4096)
    ap.add_argument("--n-quad", type=int, default=256)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    tmp = tempfile.mkdtemp(prefix="bench_limit_")
    exe = build_probe(a.lib, tmp)
    rows_c, rows_q = [], []
    n, pl = a.n_closed, a.n_closed * (a.n_closed + 1) / 2 * (a.depth + 1)
    for act in ("relu", "erf"):
        d = os.path.join(tmp, act)
        os.makedirs(d)
        secs = probe(exe, act, n, a.depth, a.threads, a.reps, True, d)
        X = np.load(os.path.join(d, "X.npy"))
        G, K = np.load(os.path.join(d, "nngp.npy")), np.load(os.path.join(d, "ntk.npy"))
        wall = cli_wall(a.bin, act, os.path.join(d, "X.npy"), n, a.depth, a.threads, tmp)
        tn = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            Gn, Kn = limit_numpy.limit_kernels(X, act, a.depth)
            tn.append(time.perf_counter() - t0)
        warm, numpy_t = min(secs[1:] or secs), min(tn)
        rows_c.append(dict(act=act, n=n, depth=a.depth, cold=secs[0], warm=warm, cli=wall, numpy=numpy_t,
                           ratio_warm=numpy_t / warm, ratio_cold=numpy_t / secs[0], ratio_cli=numpy_t / wall,
                           ns_pair_layer=warm / pl * 1e9, numpy_ns_pair_layer=numpy_t / pl * 1e9,
                           diff_nngp=rel(G, Gn), diff_ntk=rel(K, Kn)))
        shutil.rmtree(d, ignore_errors=True)
    nq, plq = a.n_quad, a.n_quad * (a.n_quad + 1) / 2 * (a.depth + 1)
    for act in ("tanh", "gelu", "sigmoid"):
        ds, dq = os.path.join(tmp, act + "_s"), os.path.join(tmp, act + "_q")
        os.makedirs(ds)
        os.makedirs(dq)
        ss = probe(exe, act, nq, a.depth, a.threads, a.reps, True, ds)
        sq = probe(exe, act, nq, a.depth, a.threads, 1, False, dq)
        Ks, Kq = np.load(os.path.join(ds, "ntk.npy")), np.load(os.path.join(dq, "ntk.npy"))
        Gs, Gq = np.load(os.path.join(ds, "nngp.npy")), np.load(os.path.join(dq, "nngp.npy"))
        rows_q.append(dict(act=act, n=nq, depth=a.depth, series=min(ss), series_cold=ss[0], quad=sq[0],
                           ratio=sq[0] / min(ss), series_us_pair_layer=min(ss) / plq * 1e6,
                           quad_us_pair_layer=sq[0] / plq * 1e6, diff_nngp=rel(Gs, Gq), diff_ntk=rel(Ks, Kq)))
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"closed forms: N = {n}, depth {a.depth}, Gaussian N(0, I) points in 4 dimensions, {a.threads} threads")
    print(f"{'act':5s} {'cold s':>8s} {'warm s':>8s} {'CLI s':>7s} {'numpy s':>8s} {'numpy/warm':>10s} "
          f"{'numpy/cold':>10s} {'numpy/CLI':>9s} {'ns/pair-layer':>13s} {'numpy ns':>8s} {'max diff':>9s}")
    for r in rows_c:
        print(f"{r['act']:5s} {r['cold']:8.3f} {r['warm']:8.3f} {r['cli']:7.2f} {r['numpy']:8.2f} "
              f"{r['ratio_warm']:10.1f} {r['ratio_cold']:10.1f} {r['ratio_cli']:9.1f} {r['ns_pair_layer']:13.2f} "
              f"{r['numpy_ns_pair_layer']:8.1f} {max(r['diff_nngp'], r['diff_ntk']):9.1e}")
    print(f"\nquadrature activations: N = {nq}, depth {a.depth}, Gaussian N(0, I) points in 4 dimensions "
          f"(unequal norms), {a.threads} threads")
    print(f"{'act':8s} {'series s':>9s} {'2-D quad s':>10s} {'ratio':>6s} {'series us/pl':>12s} "
          f"{'quad us/pl':>10s} {'max diff':>9s}")
    for r in rows_q:
        print(f"{r['act']:8s} {r['series']:9.3f} {r['quad']:10.2f} {r['ratio']:6.1f} "
              f"{r['series_us_pair_layer']:12.2f} {r['quad_us_pair_layer']:10.1f} "
              f"{max(r['diff_nngp'], r['diff_ntk']):9.1e}")
    os.makedirs("bench/out", exist_ok=True)
    json.dump(dict(closed=rows_c, quadrature=rows_q), open("bench/out/bench_limit.json", "w"), indent=1)


if __name__ == "__main__":
    main()
