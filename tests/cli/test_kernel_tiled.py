#!/usr/bin/python3
"""The memory plan and the tiled kernel path of `ntkdrift kernel`.

- Row blocks streamed to K.npy equal the in-memory kernel: k = 1 and k = 2 (with K_trace and the
  per-layer terms), float64 and float32, block sizes that do and do not divide N.  Tolerance 1e-14
  relative to max|K| in float64 (the same products summed in another order: a few ulps of the
  largest entry, ~1e-16; 1e-14 leaves room without hiding a wrong block, which would be O(1)); 1e-6
  in float32 (a few float32 ulps).
- With --max-memory below the in-memory estimate the run switches to tiling by itself, says so, and
  its peak resident set (getrusage of the child) stays within the plan's estimate plus a fixed
  allowance for the binary, its libraries and OpenBLAS's buffers (80 MB), well below the in-memory
  estimate.
- Killed after some blocks, `--resume` continues from the last finished one and ends byte-identical.
- When not even one row per block fits, or K would not fit on the disk that holds the run, it
  refuses with exit 2 and one line that says which N fits, and leaves no run directory.

usage: test_kernel_tiled.py PATH/TO/ntkdrift [--big]
  --big: the acceptance run of issue 7 (N = 40000, depth 3, width 512: K is 12.8 GB in float64) on
  the available memory, peak RSS < 4 GB, K.npy memory-mapped and spot-checked against in-memory
  kernels of row subsets (extended mode; ~5 minutes and 13 GB of disk).
"""
import json, os, resource, signal, subprocess, sys, tempfile, time

import numpy as np

from clitest import check, finish, same_tree

BIN = sys.argv[1]
BIG = "--big" in sys.argv[2:]
SANITIZED = b"__asan_init" in open(BIN, "rb").read()
TMP = tempfile.mkdtemp(prefix="ntk_tiled_")


def run(*args, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run([BIN, "kernel", *args], capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far: valid for this child when it grew
    return r, (after * 1024 if after > before else None)


def manifest(d):
    with open(os.path.join(d, "manifest.json")) as fh:
        return json.load(fh)


def compare(tag, common, tile, tol, outputs):
    a, b = os.path.join(TMP, tag + "_mem"), os.path.join(TMP, tag + "_tiled")
    ra, _ = run(*common, "--out", a)
    rb, _ = run(*common, "--out", b, "--tile-rows", str(tile))
    if ra.returncode or rb.returncode:
        check(False, f"{tag}: runs failed: {ra.stderr.strip()} {rb.stderr.strip()}")
        return
    z = np.load(os.path.join(a, "kernel.npz"))
    names = ["K", "K_layers"] + (["K_trace"] if outputs > 1 else [])
    for name in names:
        if name not in z.files:
            continue
        t = np.load(os.path.join(b, name + ".npy"))
        err = np.abs(t - z[name]).max() / np.abs(z[name]).max()
        check(t.shape == z[name].shape and err <= tol,
              f"{tag}: {name}{t.shape} tiled by {tile} rows vs in memory: rel err {err:.2e} (<= {tol:g})")
    check(np.array_equal(np.load(os.path.join(b, "X.npy")), z["X"]), f"{tag}: X.npy equals kernel.npz X")
    m = manifest(b)["kernel"]
    N = z["X"].shape[0]
    check(m["tiled"]["rows_per_block"] == min(tile, N) and m["tiled"]["blocks"] == -(-N // min(tile, N)),
          f"{tag}: manifest records {m['tiled']['blocks']} blocks of {m['tiled']['rows_per_block']} rows")


def small_cases():
    base = ["--data", "gaussian", "--n", "203", "--depth", "3", "--width", "48", "--seed", "5"]
    compare("k1_f64", base, 64, 1e-14, 1)
    compare("k1_f64_one_block", base, 1000, 1e-14, 1)
    compare("k2_layers", base + ["--outputs", "2", "--per-layer", "--act", "erf"], 37, 1e-14, 2)
    compare("k1_f32", base + ["--dtype", "f32"], 50, 1e-6, 1)


def auto_tiling():
    # in memory: K + two Grams = 3 N^2 doubles = 0.54 GB at N = 4800; allow 0.25 GB
    out = os.path.join(TMP, "auto")
    args = ["--data", "gaussian", "--n", "4800", "--depth", "2", "--width", "64", "--max-memory", "0.25"]
    r, rss = run(*args, "--out", out)
    check(r.returncode == 0 and "computing it in blocks" in r.stderr,
          f"auto: K beyond --max-memory is tiled and the run says so (exit {r.returncode}: {r.stderr.strip()[:160]})")
    if r.returncode:
        return
    k = manifest(out)["kernel"]
    check(k["tiled"]["why"] == "K does not fit in memory" and k["memory_estimate_gb"] <= 0.25,
          f"auto: manifest says why ({k['tiled']['why']}), estimate {k['memory_estimate_gb']:.3f} GB <= 0.25")
    if rss is not None and SANITIZED:
        print(f"note: peak RSS {rss / 1e6:.0f} MB not compared: the binary is built with AddressSanitizer "
              "(shadow memory and quarantine)")
    elif rss is not None:
        bound = k["memory_estimate_gb"] * 1e9 + 80e6
        check(rss <= bound and rss < 0.5 * k["memory_in_memory_gb"] * 1e9,
              f"auto: peak RSS {rss / 1e6:.0f} MB <= estimate + 80 MB = {bound / 1e6:.0f} MB, "
              f"in-memory estimate {k['memory_in_memory_gb'] * 1e3:.0f} MB")
    K = np.load(os.path.join(out, "K.npy"), mmap_mode="r")
    check(K.shape == (4800, 4800) and np.allclose(K[100:110], K[:, 100:110].T, rtol=1e-13, atol=0),
          "auto: K.npy is (4800, 4800) and symmetric across blocks")


def refusal():
    res = os.path.join(TMP, "refused")
    r, _ = run("--data", "gaussian", "--n", "100000", "--depth", "3", "--width", "512", "--max-memory", "1",
               "--results", res)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and "N <= " in lines[0] and "fits" in lines[0],
          f"refusal: exit {r.returncode}, one line naming what fits: {lines}")
    check(not os.path.exists(res), "refusal: no run directory")
    # fits in memory by row blocks, but K (8 TB) does not fit on any disk here
    r, _ = run("--data", "gaussian", "--n", "1000000", "--depth", "1", "--width", "2", "--results", res)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and "on disk" in lines[0] and "N <= " in lines[0],
          f"refusal: K larger than the free disk: exit {r.returncode}, {lines}")
    check(not os.path.exists(res), "refusal (disk): no run directory")


def kill_resume():
    """A tiled run killed after some blocks continues with --resume from the last finished block
    (with that run's block size) and ends byte-identical, with the same summary."""
    args = ["--data", "gaussian", "--n", "3000", "--depth", "2", "--width", "64", "--tile-rows", "50",
            "--outputs", "2", "--per-layer"]
    ref, out = os.path.join(TMP, "kr_ref"), os.path.join(TMP, "kr_killed")
    r, _ = run(*args, "--out", ref)
    if r.returncode:
        check(False, f"kill/resume: reference failed {r.stderr.strip()}")
        return
    for kill_after in (3, 20):
        p = subprocess.Popen([BIN, "kernel", *args, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tiles = os.path.join(out, "tiles.json")
        while p.poll() is None:
            try:
                if json.load(open(tiles))["blocks_done"] >= kill_after:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        p.wait()
        done = json.load(open(tiles))["blocks_done"] if os.path.exists(tiles) else None
        r2, _ = run("--resume", out, "--max-memory", "0.5")  # resumed with another budget: B must not change
        diff = same_tree(ref, out) if r2.returncode == 0 else r2.stderr.strip()
        same_summary = r2.returncode == 0 and manifest(ref)["summary"] == manifest(out)["summary"]
        check(diff is None and same_summary and done is not None,
              f"kill/resume: killed after {done} of 60 blocks, --resume: {diff or 'every file byte-identical'}, "
              f"summary {'equal' if same_summary else 'differs'}")
        subprocess.run(["rm", "-rf", out])


def big():
    out = os.path.join(TMP, "big")
    N, n0 = 40000, 16
    r, rss = run("--data", "gaussian", "--n", str(N), "--depth", "3", "--width", "512", "--out", out)
    print(r.stdout + r.stderr)
    check(r.returncode == 0, f"big: N = {N} depth 3 width 512 exit {r.returncode}")
    if r.returncode:
        return
    check(rss is not None and rss < 4e9, f"big: peak RSS {rss / 1e9 if rss else float('nan'):.2f} GB < 4 GB")
    K = np.load(os.path.join(out, "K.npy"), mmap_mode="r")
    X = np.load(os.path.join(out, "X.npy"))
    check(K.shape == (N, N) and X.shape == (N, n0), f"big: K.npy {K.shape}, X.npy {X.shape}")
    # spot check: rows of an in-memory kernel on a subset equal the same entries of the big K
    rows = np.array([0, 1, 532, 533, 19999, 20000, 39998, 39999])  # block edges of 533-row blocks
    sub = os.path.join(TMP, "sub.npy")
    np.save(sub, X[rows])
    s_out = os.path.join(TMP, "big_sub")
    r2, _ = run("--data", sub, "--depth", "3", "--width", "512", "--out", s_out)
    if r2.returncode:
        check(False, f"big: subset run failed: {r2.stderr.strip()}")
        return
    Ks = np.load(os.path.join(s_out, "kernel.npz"))["K"]
    Kb = np.asarray(K[np.ix_(rows, rows)])
    err = np.abs(Kb - Ks).max() / np.abs(Ks).max()
    check(err <= 1e-14, f"big: K[rows, rows] equals the in-memory kernel of those rows: rel err {err:.2e}")
    del K
    os.remove(os.path.join(out, "K.npy"))


if BIG:
    big()
else:
    small_cases()
    auto_tiling()
    refusal()
    kill_resume()
finish(TMP)
