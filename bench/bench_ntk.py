#!/usr/bin/python3
"""bench_ntk.py -- ntkdrift's empirical NTK against the PyTorch peers and the FLOP bound, in one run.

For each shape (depth x width x n0 x N) and each dtype (float64, float32) this script
  * times `ntkdrift kernel` R times in fresh processes (the first run is a warm-up and is dropped):
    median in-process kernel time (manifest: seconds_features + seconds_grams), median process
    wall time, and the child's own peak RSS (ru_maxrss from os.wait4 on its pid);
  * times the PyTorch peer bench/peer/torch_ntk.py with --method structured and --method jac
    (median time per K from its JSON line; peak RSS from os.wait4 as for ntkdrift);
  * computes the structured-kernel FLOP lower bound (bench/README.md) and divides it by the
    dgemm (float64) or sgemm (float32) rate measured by bench/peer/gemm_peak.c with the same
    thread count, giving the time bound (the peers: bench/peers.py; NTK_PEER_DIR may name others);
  * compares ntkdrift's peak RSS with a memory model (see memory_model);
  * runs bench/ntk_probe.c (built against build/libntkdrift.a) for the in-process split: first call
    (cold, what one CLI run pays), repeated calls (warm, what the peer's timing measures), the bare
    BLAS calls of the algorithm at the same shapes (one call on all points each), and the BLAS calls
    libntkdrift itself makes (chunks of points and Gram tiles over OpenMP threads, BLAS serial);
  * prints the issue's targets: warm / bound, cold (the CLI's in-process time) / bound, and the whole
    process / warm, each against its limit;
and once per shape checks ntkdrift's K against the peer's structured K on the same parameters and
inputs (ntkdrift --save-params -> W<l>.npy, X.npy, y.npy -> torch_ntk.py --load-params).

Network convention: ReLU, NTK parameterization, scalar output, no biases, sw2 on every layer:
ntkdrift `--sw2 S --sw2-out S --bias none` == torch_ntk.py `--sw2 S`; Gaussian inputs of norm sqrt(n0).
Children run with OMP_WAIT_POLICY=PASSIVE and --threads T (default 2).  The machine may be shared:
`foreign` is the CPU share other processes used during a row's measurements (see --wait-idle).

usage:
    /usr/bin/python3 bench/bench_ntk.py                      # default grid, both dtypes (~4 min, ~10 GB)
    /usr/bin/python3 bench/bench_ntk.py --quick              # tiny grid, < 1 minute
    /usr/bin/python3 bench/bench_ntk.py --shapes 10x512x64x512,3x256x64x256 --repeat 7 --skip-jac
Output: a table on stdout and the same records in bench/out/bench_ntk.json (--quick: bench_ntk_quick.json);
columns and formulas are explained in bench/README.md.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

import numpy as np

import peers  # bench/peers.py: the peers of bench/peer/ (or NTK_PEER_DIR), the C probes' build

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "out")
DEFAULT_SHAPES = "10x256x64x256,10x512x64x512"
QUICK_SHAPES = "2x64x16x64,3x128x32x128"
DTYPES = {"float64": ("f64", 8), "float32": ("f32", 4)}  # name -> (ntkdrift --dtype, bytes per element)
GEMM_KEY = {"float64": "dgemm", "float32": "sgemm"}
JAC_HEAVY_FLOP = 2e11   # J J^T costs 2 N^2 P flops; above this jac runs once, without warm-up
JAC_MEM_FRACTION = 0.8  # skip jac when N*P*elem exceeds this fraction of MemAvailable
MAX_FOREIGN = 0.1       # gemm_peak is re-run (up to --gemm-tries) when others used more CPU than this
TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()

Shape = namedtuple("Shape", "depth width n0 n")


# ---------------------------------------------------------------- model arithmetic

def parse_shapes(text):
    """'10x512x64x512,3x256x64x256' -> [Shape(depth, width, n0, N), ...]"""
    shapes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise argparse.ArgumentTypeError(f"shape {item!r}: expected DEPTHxWIDTHxN0xN, all positive")
        shapes.append(Shape(*map(int, parts)))
    return shapes


def shape_name(sh):
    return f"{sh.depth}x{sh.width}x{sh.n0}x{sh.n}"


def layer_widths(sh):
    """n_0 .. n_{L+1}: input, L hidden layers, scalar output."""
    return [sh.n0] + [sh.width] * sh.depth + [1]


def num_params(sh):
    w = layer_widths(sh)
    return sum(w[l] * w[l - 1] for l in range(1, len(w)))


def flop_bound(sh):
    """Structured-kernel FLOP lower bound of bench/README.md (N inputs, widths n_0..n_{L+1}):
    forward 2N sum_{l=1}^{L+1} n_l n_{l-1}; backward 2N sum_{l=2}^{L+1} n_l n_{l-1};
    Grams sum_{l=1}^{L+1} N^2 (n_{l-1} + n_l) (syrk: N^2 k for an N x k factor); Hadamard 3 N^2 (L+1)."""
    w, N, d = layer_widths(sh), sh.n, sh.depth + 1
    fwd = 2 * N * sum(w[l] * w[l - 1] for l in range(1, d + 1))
    bwd = 2 * N * sum(w[l] * w[l - 1] for l in range(2, d + 1))
    gram = sum(N * N * (w[l - 1] + w[l]) for l in range(1, d + 1))
    hadamard = 3 * N * N * d
    return dict(forward=fwd, backward=bwd, grams=gram, hadamard=hadamard, total=fwd + bwd + gram + hadamard,
                features=fwd + bwd, kernel=gram + hadamard)


def memory_model(sh, dtype):
    """Bytes a structured NTK must hold (S = sum_{l=0}^{L+1} n_l, e = element size of dtype):
    K  N^2 e  +  activations and pre-activations 2 N S e  +  deltas N S e  +  parameters P*8
    (float64 master copy; float32 adds a P*4 mirror).  The two N x N Gram scratch buffers, the
    output copy and the process floor (libraries, BLAS buffers) are deliberately left out."""
    e = DTYPES[dtype][1]
    S, P, N = sum(layer_widths(sh)), num_params(sh), sh.n
    return N * N * e + 3 * N * S * e + P * (8 + (4 if dtype == "float32" else 0))


# ---------------------------------------------------------------- processes

def child_env():
    env = dict(os.environ)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def cpu_busy_seconds():
    """Busy CPU seconds of the whole machine so far (user..steal, minus idle and iowait)."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / TCK


def wait_idle(max_wait, threshold=0.15):
    """Wait up to max_wait s for a 1 s window in which the machine is < threshold busy."""
    t_end = time.time() + max_wait
    while time.time() < t_end:
        b0 = cpu_busy_seconds()
        time.sleep(1.0)
        if (cpu_busy_seconds() - b0) / NCPU < threshold:
            return


def run_measured(cmd, args, must_succeed=True):
    """Run cmd; return stdout, stderr, wall seconds, the child's own peak RSS (MB) and CPU seconds
    (os.wait4 on its pid), and the machine's busy CPU seconds meanwhile (for foreign_share)."""
    if args.wait_idle > 0:
        wait_idle(args.wait_idle)
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        b0, t0 = cpu_busy_seconds(), time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=child_env())
        _, status, ru = os.wait4(proc.pid, 0)
        wall, b1 = time.perf_counter() - t0, cpu_busy_seconds()
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(errors="replace"), fe.read().decode(errors="replace")
    if proc.returncode != 0:
        msg = f"bench_ntk: command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}"
        if must_succeed:
            sys.exit(msg)
        print(msg, flush=True)
        return None
    own = ru.ru_utime + ru.ru_stime
    return dict(stdout=out, stderr=err, wall_s=wall, rss_mb=ru.ru_maxrss / 1024.0, cpu_s=own, busy_s=b1 - b0)


def foreign_share(measurements):
    """CPU time of other processes during these measurements / (their wall time x cores).
    /proc/stat counts in clock ticks (10 ms), so this only means something summed over >~ 1 s."""
    wall = sum(m["wall_s"] for m in measurements)
    other = sum(m["busy_s"] - m["cpu_s"] for m in measurements)
    return round(max(0.0, other) / (wall * NCPU), 3) if wall > 0 else 0.0


# ---------------------------------------------------------------- GEMM peak

def gemm_peak(args):
    """Build gemm_peak into bench/out/ if needed and run it; peak = max over sizes of the median rate."""
    cache = os.path.join(OUT, f"gemm_peak_t{args.threads}.json")
    if args.reuse_gemm and os.path.exists(cache):
        with open(cache) as fh:
            rec = json.load(fh)
        rec["reused"] = True
        return rec
    exe = peers.gemm_peak()
    runs = []
    for _ in range(args.gemm_tries):  # the denominator of every bound: redo it when disturbed
        runs.append(run_measured([exe, str(args.threads), str(args.gemm_reps)], args))
        if foreign_share(runs[-1:]) <= MAX_FOREIGN:
            break
    r = min(runs, key=lambda m: foreign_share([m]))
    core, rows = peers.parse_gemm(r["stdout"])
    if not rows:
        sys.exit(f"bench_ntk: could not parse gemm_peak output:\n{r['stdout']}")
    rec = dict(core=core, threads=args.threads, reps=args.gemm_reps, sizes=rows, foreign=foreign_share([r]),
               tries=len(runs),
               dgemm=max(x["dgemm_med"] for x in rows), sgemm=max(x["sgemm_med"] for x in rows),
               when=time.strftime("%Y-%m-%dT%H:%M:%S"), reused=False)
    with open(cache, "w") as fh:
        json.dump(rec, fh, indent=1)
    return rec


# ---------------------------------------------------------------- ntkdrift

def ntkdrift_cmd(args, sh, dtype, out_dir, extra=()):
    return [args.ntkdrift, "kernel", "--depth", str(sh.depth), "--width", str(sh.width), "--n0", str(sh.n0),
            "--n", str(sh.n), "--sw2", str(args.sw2), "--sw2-out", str(args.sw2), "--bias", "none",
            "--dtype", DTYPES[dtype][0], "--threads", str(args.threads), "--seed", str(args.seed),
            "--out", out_dir, *extra]


def read_manifest(run_dir):
    with open(os.path.join(run_dir, "manifest.json")) as fh:
        return json.load(fh)


def bench_ntkdrift(args, sh, dtype, tmp):
    """R fresh-process runs; drop the first; medians of kernel/features/Grams/wall, max RSS."""
    runs = []
    for i in range(args.repeat):
        out_dir = os.path.join(tmp, f"ntk_{shape_name(sh)}_{dtype}_{i}")
        r = run_measured(ntkdrift_cmd(args, sh, dtype, out_dir), args)
        kj = read_manifest(out_dir)["kernel"]
        runs.append(dict(features_s=kj["seconds_features"], grams_s=kj["seconds_grams"],
                         kernel_s=kj["seconds_features"] + kj["seconds_grams"], wall_s=r["wall_s"],
                         rss_mb=r["rss_mb"], cpu_s=r["cpu_s"], busy_s=r["busy_s"]))
        shutil.rmtree(out_dir)
    timed = runs[1:] if len(runs) > 1 else runs
    med = lambda k: statistics.median(x[k] for x in timed)
    return dict(kernel_s=med("kernel_s"), features_s=med("features_s"), grams_s=med("grams_s"),
                wall_s=med("wall_s"), cpu_s=med("cpu_s"), rss_mb=max(x["rss_mb"] for x in timed),
                foreign=foreign_share(timed), runs=runs)


def build_probe(args):
    """Compile bench/ntk_probe.c against build/libntkdrift.a into bench/out/; None (with a note) on failure."""
    exe, src = os.path.join(OUT, "ntk_probe"), os.path.join(REPO, "bench", "ntk_probe.c")
    lib = os.path.join(os.path.dirname(args.ntkdrift_built), "libntkdrift.a")
    if not os.path.exists(lib):
        print(f"  probe: {lib} not found, phase probe skipped", flush=True)
        return None
    if os.path.exists(exe) and os.path.getmtime(exe) >= max(os.path.getmtime(src), os.path.getmtime(lib)):
        return exe
    libs = subprocess.run(["pkg-config", "--libs", "openblas", "lapacke", "libzip", "zlib"],
                          capture_output=True, text=True).stdout.split()
    r = subprocess.run(["gcc", "-O2", "-std=c17", "-fopenmp", "-I", os.path.join(REPO, "include"), "-o", exe, src,
                        lib, *libs, "-lm"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  probe: build failed, phase probe skipped:\n{r.stderr[-1500:]}", flush=True)
        return None
    return exe


def run_probe(args, sh, dtype):
    """Cold / warm / BLAS-only phase times from one ntk_probe process (see bench/ntk_probe.c)."""
    r = run_measured([args.probe, str(sh.depth), str(sh.width), str(sh.n0), str(sh.n), DTYPES[dtype][0],
                      str(args.threads), str(args.probe_repeat), str(args.sw2), str(args.seed)], args,
                     must_succeed=False)
    if r is None:
        return None
    rec = json.loads(r["stdout"].strip().splitlines()[-1])
    rec.update(cold_s=rec["cold_features_s"] + rec["cold_grams_s"], warm_s=rec["warm_features_s"] + rec["warm_grams_s"],
               blas_s=rec["blas_features_s"] + rec["blas_grams_s"], tiles_s=rec["tiles_features_s"] + rec["tiles_grams_s"])
    return rec


# ---------------------------------------------------------------- peer

def peer_cmd(args, sh, dtype, method, extra=()):
    return ["/usr/bin/python3", peers.torch_ntk(), "--depth", str(sh.depth),
            "--width", str(sh.width), "--n0", str(sh.n0), "--n", str(sh.n), "--sw2", str(args.sw2),
            "--dtype", dtype, "--method", method, "--threads", str(args.threads), "--seed", str(args.seed),
            *extra]


def mem_available_bytes():
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return float("inf")


def jac_plan(sh, dtype, peer_repeat):
    """(extra flags, reason to skip or None) for --method jac at this shape."""
    N, P = sh.n, num_params(sh)
    need = N * P * DTYPES[dtype][1]
    if need > JAC_MEM_FRACTION * mem_available_bytes():
        return None, f"J alone needs {need / 1e9:.1f} GB"
    if 2 * N * N * P >= JAC_HEAVY_FLOP:
        return ["--repeat", "1", "--warmup", "0"], None
    return ["--repeat", str(peer_repeat)], None


def bench_peer(args, sh, dtype, method):
    """Run torch_ntk.py once; its JSON line gives the median time per K; RSS from os.wait4."""
    if method == "jac":
        extra, skip = jac_plan(sh, dtype, args.peer_repeat)
        if skip:
            print(f"  peer jac {shape_name(sh)} {dtype}: skipped ({skip})", flush=True)
            return None
    else:
        extra = ["--repeat", str(args.peer_repeat)]
    r = run_measured(peer_cmd(args, sh, dtype, method, extra), args)
    rec = json.loads(r["stdout"].strip().splitlines()[-1])
    return dict(time_s=rec["time_s"], times_s=rec["times_s"], peak_rss_mb=rec["peak_rss_mb"],
                rss_mb=r["rss_mb"], wall_s=r["wall_s"], cpu_s=r["cpu_s"], busy_s=r["busy_s"],
                foreign=foreign_share([r]), blas_core=rec.get("blas_core"), flags=extra)


# ---------------------------------------------------------------- correctness

def export_params(run_dir, dest, sh):
    """ntkdrift params.npz + kernel.npz -> torch_ntk.py's W<l>.npy, X.npy, y.npy (y unused: zeros)."""
    os.makedirs(dest)
    with np.load(os.path.join(run_dir, "params.npz")) as pz:
        for l in range(1, sh.depth + 2):
            np.save(os.path.join(dest, f"W{l}.npy"), pz[f"W{l}"])
    with np.load(os.path.join(run_dir, "kernel.npz")) as kz:
        np.save(os.path.join(dest, "X.npy"), kz["X"])
        K = {"float64": kz["K"]}
    np.save(os.path.join(dest, "y.npy"), np.zeros(sh.n))
    return K


def rel_fro(A, B):
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    return float(np.linalg.norm(A - B) / np.linalg.norm(B))


def verify(args, sh, tmp):
    """ntkdrift K (float64 and float32) vs the peer's float64 structured K on ntkdrift's parameters."""
    base = os.path.join(tmp, f"verify_{shape_name(sh)}")
    run64, run32, pdir = base + "_f64", base + "_f32", base + "_params"
    run_measured(ntkdrift_cmd(args, sh, "float64", run64, ["--save-params"]), args)
    run_measured(ntkdrift_cmd(args, sh, "float32", run32, ["--load-params", os.path.join(run64, "params.npz")]),
                 args)
    K = export_params(run64, pdir, sh)
    with np.load(os.path.join(run32, "kernel.npz")) as kz:
        K["float32"] = kz["K"]
    kpeer = os.path.join(pdir, "K.npy")
    run_measured(peer_cmd(args, sh, "float64", "structured",
                          ["--load-params", pdir, "--save", kpeer, "--repeat", "1", "--warmup", "0"]), args)
    Kp = np.load(kpeer)
    res = {dt: rel_fro(K[dt], Kp) for dt in ("float64", "float32")}
    for d in (run64, run32, pdir):
        shutil.rmtree(d)
    print(f"  verify {shape_name(sh)}: ||K_ntkdrift - K_torch||_F / ||K_torch||_F = {res['float64']:.2e} (float64), "
          f"{res['float32']:.2e} (float32 vs float64 peer)", flush=True)
    return res


# ---------------------------------------------------------------- one row

def bench_row(args, sh, dtype, gemm, tmp):
    ntk = bench_ntkdrift(args, sh, dtype, tmp)
    print(f"  ntkdrift {shape_name(sh)} {dtype}: kernel {ntk['kernel_s']:.4f} s "
          f"(features {ntk['features_s']:.4f}, Grams {ntk['grams_s']:.4f}), wall {ntk['wall_s']:.3f} s", flush=True)
    probe = run_probe(args, sh, dtype) if args.probe else None
    struct = bench_peer(args, sh, dtype, "structured")
    jac = None if args.skip_jac else bench_peer(args, sh, dtype, "jac")
    fl = flop_bound(sh)
    rate = gemm[GEMM_KEY[dtype]] * 1e9
    mem = memory_model(sh, dtype)
    ratio = lambda a, b: a / b if a is not None and b else None
    return dict(
        shape=shape_name(sh), depth=sh.depth, width=sh.width, n0=sh.n0, N=sh.n, P=num_params(sh), dtype=dtype,
        threads=args.threads, ntkdrift=ntk, probe=probe, peer_structured=struct, peer_jac=jac, flops=fl,
        gemm_gflops=gemm[GEMM_KEY[dtype]], bound_s=fl["total"] / rate,
        bound_features_s=fl["features"] / rate, bound_grams_s=fl["kernel"] / rate,
        ratio_to_bound=ntk["kernel_s"] / (fl["total"] / rate),
        speedup_vs_jac=ratio(jac and jac["time_s"], ntk["kernel_s"]),
        speedup_vs_structured=ratio(struct["time_s"], ntk["kernel_s"]),
        memory_model_mb=mem / 2**20, memory_ratio=ntk["rss_mb"] / (mem / 2**20),
        foreign=foreign_share((ntk["runs"][1:] or ntk["runs"]) + [struct] + ([jac] if jac else [])))


# ---------------------------------------------------------------- output

COLUMNS = [  # header, width, cell
    ("shape", 14, lambda r: r["shape"]),
    ("dtype", 7, lambda r: r["dtype"]),
    ("ntk s", 8, lambda r: f"{r['ntkdrift']['kernel_s']:.4f}"),
    ("wall s", 7, lambda r: f"{r['ntkdrift']['wall_s']:.3f}"),
    ("struct s", 8, lambda r: f"{r['peer_structured']['time_s']:.4f}"),
    ("jac s", 7, lambda r: f"{r['peer_jac']['time_s']:.2f}" if r["peer_jac"] else "-"),
    ("x jac", 6, lambda r: f"{r['speedup_vs_jac']:.0f}" if r["speedup_vs_jac"] else "-"),
    ("x struct", 8, lambda r: f"{r['speedup_vs_structured']:.2f}"),
    ("/bound", 6, lambda r: f"{r['ratio_to_bound']:.2f}"),
    ("RSS ntk", 7, lambda r: f"{r['ntkdrift']['rss_mb']:.0f}"),
    ("RSS struct", 10, lambda r: f"{r['peer_structured']['rss_mb']:.0f}"),
    ("RSS jac", 7, lambda r: f"{r['peer_jac']['rss_mb']:.0f}" if r["peer_jac"] else "-"),
    ("model MB", 8, lambda r: f"{r['memory_model_mb']:.1f}"),
    ("mem x", 5, lambda r: f"{r['memory_ratio']:.2f}"),
    ("foreign", 7, lambda r: f"{r['foreign']:.2f}"),
]

PHASE_COLUMNS = [
    ("shape", 14, lambda r: r["shape"]),
    ("dtype", 7, lambda r: r["dtype"]),
    ("GFLOP f+b", 9, lambda r: f"{r['flops']['features'] / 1e9:.3f}"),
    ("GFLOP gram", 10, lambda r: f"{r['flops']['kernel'] / 1e9:.3f}"),
    ("features s", 10, lambda r: f"{r['ntkdrift']['features_s']:.4f}"),
    ("/bound", 6, lambda r: f"{r['ntkdrift']['features_s'] / r['bound_features_s']:.2f}"),
    ("Grams s", 8, lambda r: f"{r['ntkdrift']['grams_s']:.4f}"),
    ("/bound", 6, lambda r: f"{r['ntkdrift']['grams_s'] / r['bound_grams_s']:.2f}"),
    ("GFLOP/s", 7, lambda r: f"{r['flops']['total'] / r['ntkdrift']['kernel_s'] / 1e9:.1f}"),
    ("warm s", 7, lambda r: f"{r['probe']['warm_s']:.4f}" if r["probe"] else "-"),
    ("BLAS-only s", 11, lambda r: f"{r['probe']['blas_s']:.4f}" if r["probe"] else "-"),
    ("BLAS/bound", 10, lambda r: f"{r['probe']['blas_s'] / r['bound_s']:.2f}" if r["probe"] else "-"),
    ("tiles s", 7, lambda r: f"{r['probe']['tiles_s']:.4f}" if r["probe"] else "-"),
    ("tiles/bound", 11, lambda r: f"{r['probe']['tiles_s'] / r['bound_s']:.2f}" if r["probe"] else "-"),
    ("x struct warm", 13, lambda r: f"{r['peer_structured']['time_s'] / r['probe']['warm_s']:.2f}"
     if r["probe"] else "-"),
]

# Issue 17, target 1: warm <= 1.3x the bound at 10x512x64x512 (1.5x at smaller shapes), one cold call
# <= 1.5x, the whole process <= 1.5x the warm kernel.
WARM_LIMIT = {"10x512x64x512": 1.3}
WARM_LIMIT_OTHER, COLD_LIMIT, WALL_LIMIT = 1.5, 1.5, 1.5


def _limit_cell(value, limit):
    return f"{value:.2f} {'<=' if value <= limit else '>'} {limit}"


def _warm_ratio(r):
    return r["probe"]["warm_s"] / r["bound_s"]


TARGET_COLUMNS = [
    ("shape", 14, lambda r: r["shape"]),
    ("dtype", 7, lambda r: r["dtype"]),
    ("bound s", 7, lambda r: f"{r['bound_s']:.4f}"),
    ("warm s", 7, lambda r: f"{r['probe']['warm_s']:.4f}"),
    ("warm/bound", 11, lambda r: _limit_cell(_warm_ratio(r), WARM_LIMIT.get(r["shape"], WARM_LIMIT_OTHER))),
    ("cold s", 7, lambda r: f"{r['ntkdrift']['kernel_s']:.4f}"),
    ("cold/bound", 11, lambda r: _limit_cell(r["ratio_to_bound"], COLD_LIMIT)),
    ("wall s", 7, lambda r: f"{r['ntkdrift']['wall_s']:.3f}"),
    ("wall/warm", 13, lambda r: _limit_cell(r["ntkdrift"]["wall_s"] / r["probe"]["warm_s"], WALL_LIMIT)),
    ("struct s", 8, lambda r: f"{r['peer_structured']['time_s']:.4f}"),
    ("struct/bound", 12, lambda r: f"{r['peer_structured']['time_s'] / r['bound_s']:.2f}"),
    ("elementwise s", 13, lambda r: f"{r['probe']['warm_s'] - r['probe']['tiles_s']:.4f}"),
]


def format_table(rows, columns):
    line = lambda cells: "| " + " | ".join(c.rjust(w) for c, (_, w, _) in zip(cells, columns)) + " |"
    out = [line([h for h, _, _ in columns]), "|" + "|".join("-" * (w + 2) for _, w, _ in columns) + "|"]
    out += [line([f(r) for _, _, f in columns]) for r in rows]
    return "\n".join(out)


def print_report(result):
    g = result["gemm"]
    print(f"\nOpenBLAS core {g['core']}, {g['threads']} threads: dgemm {g['dgemm']:.1f} GFLOP/s, "
          f"sgemm {g['sgemm']:.1f} GFLOP/s (max over n of the median of {g['reps']}, foreign {g['foreign']:.2f}"
          f"{'; reused from ' + g['when'] if g['reused'] else ''})")
    print(f"ntkdrift: median of {result['args']['repeat'] - 1} runs after 1 warm-up; "
          f"peers: median per K (torch_ntk.py); RSS in MB; {result['when']}\n")
    print(format_table(result["rows"], COLUMNS))
    print("\nntkdrift phases (medians) against the FLOP bound at the same GEMM rate:\n")
    print(format_table(result["rows"], PHASE_COLUMNS))
    probed = [r for r in result["rows"] if r["probe"]]
    if probed:
        print("\ntargets (issue 17): warm (probe) and cold (the CLI's in-process time) against the bound, the "
              "whole process against warm; elementwise = warm - tiles (the library's own BLAS calls):\n")
        print(format_table(probed, TARGET_COLUMNS))
    if result["verify"]:
        print("\ncorrectness (relative Frobenius error vs torch_ntk.py structured, float64, same parameters):")
        for name, v in result["verify"].items():
            print(f"  {name}: float64 {v['float64']:.2e}, float32 {v['float32']:.2e}")


# ---------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", type=parse_shapes, default=None,
                    help=f"comma-separated DEPTHxWIDTHxN0xN (default {DEFAULT_SHAPES})")
    ap.add_argument("--quick", action="store_true",
                    help=f"tiny grid {QUICK_SHAPES}, 3 runs, the cached GEMM peak (else one GEMM rep, one try)")
    ap.add_argument("--dtypes", default="float64,float32", help="comma-separated subset of float64,float32")
    ap.add_argument("--repeat", type=int, default=5, help="ntkdrift runs per row, the first is dropped [5]")
    ap.add_argument("--peer-repeat", type=int, default=3, help="torch_ntk.py --repeat [3]")
    ap.add_argument("--probe-repeat", type=int, default=21,
                    help="ntk_probe repetitions (warm, BLAS-only and tiles interleaved; medians) [21]: fewer "
                         "mix the first calls' transients (OpenBLAS and libgomp threads settling) into warm")
    ap.add_argument("--threads", type=int, default=2, help="BLAS threads for every child [2]")
    ap.add_argument("--skip-jac", action="store_true", help="do not run torch_ntk.py --method jac")
    ap.add_argument("--no-verify", action="store_true", help="skip the correctness check")
    ap.add_argument("--no-probe", action="store_true", help="skip the in-process phase probe (bench/ntk_probe.c)")
    ap.add_argument("--sw2", type=float, default=2.0, help="sigma_w^2 of every layer, readout included [2]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gemm-reps", type=int, default=5, help="gemm_peak repetitions per size [5]")
    ap.add_argument("--gemm-tries", type=int, default=3,
                    help=f"re-run gemm_peak while foreign > {MAX_FOREIGN}, keep the least disturbed [3]")
    ap.add_argument("--reuse-gemm", action="store_true",
                    help="reuse bench/out/gemm_peak_t<threads>.json if present instead of re-measuring")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each measurement wait up to S s for the machine to be idle [0 = no]")
    ap.add_argument("--ntkdrift", default=os.path.join(REPO, "build", "ntkdrift"), help="binary [build/ntkdrift]")
    ap.add_argument("--json", help="output [bench/out/bench_ntk.json; --quick: bench/out/bench_ntk_quick.json]")
    a = ap.parse_args()
    if a.quick:
        a.shapes = a.shapes or parse_shapes(QUICK_SHAPES)
        a.repeat, a.gemm_reps, a.gemm_tries, a.reuse_gemm = min(a.repeat, 3), 1, 1, True
        a.probe_repeat = min(a.probe_repeat, 5)
    a.shapes = a.shapes or parse_shapes(DEFAULT_SHAPES)
    a.json = a.json or os.path.join(OUT, "bench_ntk_quick.json" if a.quick else "bench_ntk.json")
    a.dtypes = [d.strip() for d in a.dtypes.split(",")]
    if any(d not in DTYPES for d in a.dtypes):
        ap.error(f"--dtypes: choose from {','.join(DTYPES)}")
    if min(a.repeat, a.peer_repeat, a.probe_repeat, a.threads, a.gemm_reps, a.gemm_tries) < 1:
        ap.error("--repeat, --peer-repeat, --probe-repeat, --threads, --gemm-reps and --gemm-tries must be >= 1")
    if not os.access(a.ntkdrift, os.X_OK):
        ap.error(f"{a.ntkdrift} not found: cmake -S . -B build && cmake --build build -j2")
    return a


def provenance(binary):
    """sha256 of the ntkdrift binary, git HEAD and the files modified in the working tree."""
    with open(binary, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    git = lambda *a: subprocess.run(["git", "-C", REPO, *a], capture_output=True, text=True).stdout.strip()
    return dict(ntkdrift_sha256=sha, git_head=git("rev-parse", "HEAD"),
                git_modified=git("status", "--porcelain", "--untracked-files=no").splitlines())


def first_touch(mb=128, runs=3, pause=2.0):
    """Median first- and second-write rates of fresh anonymous memory over `runs` processes, `pause`
    seconds apart (memory a process has just freed is cheaper to touch again for the next one: in this
    VM the rate went 0.5 -> 3 -> 12 GB/s back to back, 0.6-1.4 GB/s two seconds apart)."""
    exe = peers.first_touch()
    recs = []
    for _ in range(runs):
        time.sleep(pause)
        r = subprocess.run([exe, str(mb), "1"], capture_output=True, text=True, check=True)
        recs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    med = lambda k: statistics.median(r[k] for r in recs)
    return dict(mb=mb, runs=runs, first_gbs=med("first_gbs"), second_gbs=med("second_gbs"),
                first_gbs_all=[r["first_gbs"] for r in recs])


def main():
    args = parse_args()
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bench_ntk_")
    try:
        # run a private copy: a concurrent rebuild of build/ must not switch binaries mid-run
        args.ntkdrift_built, args.ntkdrift = args.ntkdrift, shutil.copy2(args.ntkdrift, os.path.join(tmp, "ntkdrift"))
        args.probe = None if args.no_probe else build_probe(args)
        prov = provenance(args.ntkdrift)
        gemm = gemm_peak(args)
        print(f"GEMM peak ({args.threads} threads): dgemm {gemm['dgemm']:.1f}, sgemm {gemm['sgemm']:.1f} GFLOP/s",
              flush=True)
        rows, checks = [], {}
        for sh in args.shapes:
            if not args.no_verify:
                checks[shape_name(sh)] = verify(args, sh, tmp)
            for dtype in args.dtypes:
                rows.append(bench_row(args, sh, dtype, gemm, tmp))
        touch = first_touch()  # last: the memory it frees may be cheaper to touch for the next process
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = dict(when=time.strftime("%Y-%m-%dT%H:%M:%S%z"), host_cpus=NCPU, loadavg=os.getloadavg(),
                  args=dict(repeat=args.repeat, peer_repeat=args.peer_repeat, probe_repeat=args.probe_repeat,
                            threads=args.threads, sw2=args.sw2,
                            seed=args.seed, ntkdrift=args.ntkdrift_built, shapes=[shape_name(s) for s in args.shapes],
                            dtypes=args.dtypes, wait_idle=args.wait_idle),
                  provenance=prov, peers=dict(torch_ntk=peers.torch_ntk(), dir=peers.peer_dir()),
                  gemm=gemm, rows=rows, verify=checks, first_touch=touch)
    with open(args.json, "w") as fh:
        json.dump(result, fh, indent=1)
    print_report(result)
    print(f"\nfirst touch of fresh memory at the end of this run (bench/peer/first_touch.c, {touch['mb']} MiB, huge pages "
          f"advised, median of {touch['runs']} processes 2 s apart): {touch['first_gbs']:.2f} GB/s "
          f"({', '.join(f'{x:.2f}' for x in touch['first_gbs_all'])}); the second write {touch['second_gbs']:.1f} GB/s."
          f"\n  The first rate depends on what the machine freed just before (in a VM, memory the guest has not "
          f"used lately is backed by the host on first touch); cold - warm per row, against the fresh memory "
          f"of the memory model:")
    for r in rows:
        pen = r["ntkdrift"]["kernel_s"] - r["probe"]["warm_s"] if r.get("probe") else float("nan")
        mb = r["memory_model_mb"]
        print(f"  {r['shape']} {r['dtype']}: cold - warm {pen:.3f} s; {mb:.1f} MB of buffers at this run's first-touch "
              f"rate: {mb * 1.048576e-3 / touch['first_gbs']:.3f} s")
    print(f"\nwrote {os.path.relpath(args.json)}")


if __name__ == "__main__":
    main()
