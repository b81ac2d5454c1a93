#!/usr/bin/python3
"""peer_compare.py -- bench/peer/ against another set of peers (a directory holding torch_ntk.py and
gemm_peak.c or dgemm_peak.c with the same command lines), in one run: do both give the same numbers?

* Kernels: for each shape, `ntkdrift kernel --save-params` draws the benchmarks' network (relu, NTK
  parameterization, sw2 on every layer, no biases); its params.npz and inputs go into a directory of
  W<l>.npy, X.npy, y.npy (y ~ N(0, 1), numpy seed 0) that both torch_ntk.py's load
  (--load-params DIR). Printed per method (structured, jac) and dtype: ||K_ours - K_other||_F /
  ||K_other||_F, the largest entrywise |difference| / max |K_other|, each against ntkdrift's float64
  K, and both peers' median seconds per K (--repeat R, one warm-up).
* Training: both run --train T --lr 0.1 --method structured on the same directory (full-batch GD on
  L = 1/(2N) sum (f - y)^2): loss_T, ||K_T - K_0||_F / ||K_0||_F, median seconds per step.
* GEMM: both probes built with cc -O2 ... -lopenblas into a temporary directory and run alternately
  (--gemm-rounds rounds of `probe THREADS REPS`); per size the median over rounds of each run's
  median GFLOP/s (and the fastest call), and the peak = max over sizes, for dgemm and sgemm.
Timings share the machine with whatever else runs; the kernels' and losses' agreement does not.

usage: /usr/bin/python3 bench/peer_compare.py --other DIR [--shapes 3x64x16x32,10x128x32x64] [--threads 2]
Output: tables on stdout, everything in bench/out/peer_compare.json.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import peers  # bench/peers.py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONDONTWRITEBYTECODE="1")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        sys.exit(f"peer_compare: command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return r.stdout


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def problem(a, shape, tmp):
    """ntkdrift's parameters and inputs for shape DxWxN0xN as a directory both peers load; its K."""
    d, w, n0, n = (int(x) for x in shape.split("x"))
    run_dir, pdir = os.path.join(tmp, f"run_{shape}"), os.path.join(tmp, f"params_{shape}")
    run([a.bin, "kernel", "--depth", str(d), "--width", str(w), "--n0", str(n0), "--n", str(n), "--sw2", "2",
         "--sw2-out", "2", "--bias", "none", "--threads", str(a.threads), "--seed", "1", "--save-params",
         "--out", run_dir])
    os.makedirs(pdir)
    with np.load(os.path.join(run_dir, "params.npz")) as pz:
        for k in pz.files:
            np.save(os.path.join(pdir, k + ".npy"), pz[k])
    with np.load(os.path.join(run_dir, "kernel.npz")) as kz:
        np.save(os.path.join(pdir, "X.npy"), kz["X"])
        K = np.array(kz["K"])
    np.save(os.path.join(pdir, "y.npy"), np.random.default_rng(0).standard_normal(n))
    return (d, w, n0, n), pdir, K


def peer_run(path, dims, pdir, a, extra):
    d, w, n0, n = dims
    return last_json(run(["/usr/bin/python3", path, "--depth", str(d), "--width", str(w), "--n0", str(n0),
                          "--n", str(n), "--sw2", "2", "--threads", str(a.threads), "--load-params", pdir,
                          *extra]))


def compare_kernels(a, ours, other, tmp):
    rows = []
    for shape in a.shapes.split(","):
        dims, pdir, K = problem(a, shape, tmp)
        for method in ("structured", "jac"):
            for dtype in ("float64", "float32"):
                if method == "jac" and dtype == "float32":
                    continue
                rec, Ks = {}, {}
                for who, path in (("ours", ours), ("other", other)):  # alternate, same flags
                    kfile = os.path.join(tmp, f"K_{shape}_{method}_{dtype}_{who}.npy")
                    rec[who] = peer_run(path, dims, pdir, a, ["--method", method, "--dtype", dtype, "--repeat",
                                                              str(a.repeat), "--save", kfile])
                    Ks[who] = np.load(kfile).astype(np.float64)
                diff = Ks["ours"] - Ks["other"]
                rows.append(dict(shape=shape, method=method, dtype=dtype,
                                 rel_fro=float(np.linalg.norm(diff) / np.linalg.norm(Ks["other"])),
                                 rel_max=float(np.abs(diff).max() / np.abs(Ks["other"]).max()),
                                 ours_vs_ntkdrift=float(np.linalg.norm(Ks["ours"] - K) / np.linalg.norm(K)),
                                 other_vs_ntkdrift=float(np.linalg.norm(Ks["other"] - K) / np.linalg.norm(K)),
                                 ours_s=rec["ours"]["time_s"], other_s=rec["other"]["time_s"],
                                 ours_min_s=min(rec["ours"]["times_s"]), other_min_s=min(rec["other"]["times_s"])))
                print(json.dumps(rows[-1]), flush=True)
    return rows, pdir, dims


def compare_train(a, ours, other, pdir, dims):
    recs = {}
    for who, path in (("ours", ours), ("other", other)):
        recs[who] = peer_run(path, dims, pdir, a, ["--method", "structured", "--train", str(a.train_steps),
                                                   "--lr", "0.1"])
    o, t = recs["ours"], recs["other"]
    row = dict(shape="x".join(map(str, dims)), steps=a.train_steps, loss_0=[o["loss_0"], t["loss_0"]],
               loss_T=[o["loss_T"], t["loss_T"]], rel_loss_T=abs(o["loss_T"] - t["loss_T"]) / abs(t["loss_T"]),
               rel_kernel_change=[o["rel_kernel_change"], t["rel_kernel_change"]],
               sec_per_step=[o["sec_per_step"], t["sec_per_step"]])
    print(json.dumps(row), flush=True)
    return row


def compare_gemm(a, other_dir, tmp):
    exe_ours = peers.build(os.path.join(peers.OWN, "gemm_peak.c"), "gemm_ours", ["-lopenblas"], tmp)
    src = next(os.path.join(other_dir, f) for f in ("gemm_peak.c", "dgemm_peak.c")
               if os.path.isfile(os.path.join(other_dir, f)))
    exe_other = peers.build(src, "gemm_other", ["-lopenblas"], tmp)
    per = {"ours": [], "other": []}
    for _ in range(a.gemm_rounds):
        for who, exe in (("ours", exe_ours), ("other", exe_other)):
            core, rows = peers.parse_gemm(run([exe, str(a.threads), str(a.gemm_reps)]))
            per[who].append(rows)
    out = dict(core=core, threads=a.threads, reps=a.gemm_reps, rounds=a.gemm_rounds, sizes=[])
    for i, r in enumerate(per["ours"][0]):
        row = dict(n=r["n"])
        for who in per:
            for k in ("dgemm_med", "sgemm_med"):
                row[f"{k}_{who}"] = statistics.median(run_rows[i][k] for run_rows in per[who])
            for k in ("dgemm_best", "sgemm_best"):
                row[f"{k}_{who}"] = max(run_rows[i][k] for run_rows in per[who])
        out["sizes"].append(row)
    for who in per:
        for k in ("dgemm", "sgemm"):
            out[f"{k}_peak_{who}"] = max(r[f"{k}_med_{who}"] for r in out["sizes"])
            out[f"{k}_best_{who}"] = max(r[f"{k}_best_{who}"] for r in out["sizes"])
    print(json.dumps(out), flush=True)
    return out


def report(a, when, load, kernels, train, gemm):
    core = gemm["core"] if gemm else "-"
    print(f"\n{when}, {a.threads} threads, OpenBLAS core {core}, {os.cpu_count()} CPUs, "
          f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end")
    if kernels:
        print("\n| shape | method | dtype | rel Frobenius ours vs other | rel max | ours vs ntkdrift | "
              "other vs ntkdrift | ours s (min) | other s (min) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in kernels:
            print(f"| {r['shape']} | {r['method']} | {r['dtype']} | {r['rel_fro']:.1e} | {r['rel_max']:.1e} | "
                  f"{r['ours_vs_ntkdrift']:.1e} | {r['other_vs_ntkdrift']:.1e} | "
                  f"{r['ours_s']:.4f} ({r['ours_min_s']:.4f}) | {r['other_s']:.4f} ({r['other_min_s']:.4f}) |")
    if train:
        print(f"\ntraining {train['shape']}, {train['steps']} GD steps: loss_T {train['loss_T'][0]:.15g} (ours) "
              f"{train['loss_T'][1]:.15g} (other), rel diff {train['rel_loss_T']:.1e}; kernel change "
              f"{train['rel_kernel_change'][0]:.6e} / {train['rel_kernel_change'][1]:.6e}; s/step "
              f"{train['sec_per_step'][0]:.4f} / {train['sec_per_step'][1]:.4f}")
    if gemm:
        print(f"\nGEMM, {gemm['rounds']} alternating rounds of {gemm['reps']} reps, GFLOP/s: median over rounds "
              "(fastest call)\n")
        print("| n | dgemm ours | dgemm other | sgemm ours | sgemm other |")
        print("|---|---|---|---|---|")
        cell = lambda r, k, who: f"{r[f'{k}_med_{who}']:.1f} ({r[f'{k}_best_{who}']:.1f})"
        for r in gemm["sizes"]:
            print(f"| {r['n']} | {cell(r, 'dgemm', 'ours')} | {cell(r, 'dgemm', 'other')} | "
                  f"{cell(r, 'sgemm', 'ours')} | {cell(r, 'sgemm', 'other')} |")
        peak = lambda k, who: f"{gemm[f'{k}_peak_{who}']:.1f} ({gemm[f'{k}_best_{who}']:.1f})"
        print(f"| peak | {peak('dgemm', 'ours')} | {peak('dgemm', 'other')} | {peak('sgemm', 'ours')} | "
              f"{peak('sgemm', 'other')} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--other", required=True, help="directory of the other peers (torch_ntk.py, [d]gemm_peak.c)")
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "ntkdrift"))
    ap.add_argument("--shapes", default="3x64x16x32,10x128x32x64", help="DEPTHxWIDTHxN0xN list")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="torch_ntk.py --repeat")
    ap.add_argument("--train-steps", type=int, default=20)
    ap.add_argument("--gemm-reps", type=int, default=3)
    ap.add_argument("--gemm-rounds", type=int, default=2)
    ap.add_argument("--parts", default="kernels,train,gemm", help="which comparisons (default all three)")
    a = ap.parse_args()
    parts = set(a.parts.split(","))
    if not parts or parts - {"kernels", "train", "gemm"}:
        ap.error("--parts: a comma-separated subset of kernels,train,gemm")
    ours, other = os.path.join(peers.OWN, "torch_ntk.py"), os.path.join(a.other, "torch_ntk.py")
    if not os.path.isfile(other):
        sys.exit(f"peer_compare: {other} not found")
    load0 = os.getloadavg()[0]
    tmp = tempfile.mkdtemp(prefix="peer_compare_")
    try:
        kernels, pdir, dims = compare_kernels(a, ours, other, tmp) if parts & {"kernels", "train"} else ([], 0, 0)
        train = compare_train(a, ours, other, pdir, dims) if "train" in parts else None
        gemm = compare_gemm(a, a.other, tmp) if "gemm" in parts else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    when = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load = [load0, os.getloadavg()[0]]
    report(a, when, load, kernels, train, gemm)
    os.makedirs(peers.OUT, exist_ok=True)
    with open(os.path.join(peers.OUT, "peer_compare.json"), "w") as fh:
        json.dump(dict(when=when, loadavg=load, args=vars(a), kernels=kernels, train=train, gemm=gemm), fh, indent=1)


if __name__ == "__main__":
    main()
