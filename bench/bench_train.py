#!/usr/bin/python3
"""bench_train.py -- training speed of `ntkdrift train` against the PyTorch peer bench/peer/torch_ntk.py --train, in
one invocation, on the same network (ReLU, NTK parameterization, no biases, sw2 on every layer) and data
shape, float64, mean loss, full-batch GD.

Reports seconds per plain GD step (ntkdrift: the manifest's seconds_steps / T with only the two
end snapshots; peer: its median sec_per_step) against the FLOP bound of a step (~6 N P flops at the
measured dgemm rate, bench/out/gemm_peak_t<T>.json from bench_ntk.py), and a tracked run: snapshots
every 10 steps (ntkdrift: steps + snapshots, where a snapshot is the kernel plus every drift metric and
prediction; peer: its step time plus one structured kernel every 10 steps, and -- what notebooks do -- one
Jacobian-contraction kernel every 10 steps, its time taken from bench_ntk.py's last run at this shape).

usage: bench_train.py [--depth 10 --width 512 --n0 64 --n 512 --steps 50 --threads 2]
"""
import argparse, json, os, shutil, subprocess, tempfile

import peers  # bench/peers.py: bench/peer/torch_ntk.py, or NTK_PEER_DIR's (bench/README.md, "Peers")

PEER = peers.torch_ntk()


def ntkdrift(binary, a, every):
    out = tempfile.mkdtemp(prefix="bench_train_")
    shutil.rmtree(out)
    cmd = [binary, "train", "--depth", str(a.depth), "--width", str(a.width), "--n0", str(a.n0), "--n", str(a.n),
           "--data", "gaussian", "--target", "random", "--sw2", "2", "--sw2-out", "2", "--bias", "none",
           "--steps", str(a.steps), "--lr", str(a.lr), "--loss", "mean", "--threads", str(a.threads),
           "--snapshots", f"every:{every}", "--out", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    t = json.load(open(os.path.join(out, "manifest.json")))["train"]
    shutil.rmtree(out, ignore_errors=True)
    return t["seconds_steps"], t["seconds_snapshots"], t["snapshots"]


def peer(a, method_time=False):
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    base = ["/usr/bin/python3", PEER, "--depth", str(a.depth), "--width", str(a.width), "--n0", str(a.n0),
            "--n", str(a.n), "--dtype", "float64", "--threads", str(a.threads), "--sw2", "2"]
    tr = json.loads(subprocess.run(base + ["--method", "structured", "--train", str(a.steps), "--lr", str(a.lr)],
                                   capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1])
    k = json.loads(subprocess.run(base + ["--method", "structured", "--repeat", "3"], capture_output=True, text=True,
                                  env=env).stdout.strip().splitlines()[-1])
    return tr["sec_per_step"], k["time_s"]


def jac_seconds(a):
    """The peer's Jacobian-contraction time at this shape from bench_ntk.py's last run, if any."""
    path = os.path.join("bench", "out", "bench_ntk.json")
    if not os.path.exists(path):
        return None
    shape = f"{a.depth}x{a.width}x{a.n0}x{a.n}"
    for r in json.load(open(path)).get("rows", []):
        if r.get("shape") == shape and r.get("dtype") == "float64" and isinstance(r.get("peer_jac"), dict):
            return r["peer_jac"].get("time_s")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ntkdrift")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--n0", type=int, default=64)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    P = a.n0 * a.width + (a.depth - 1) * a.width * a.width + a.width
    flops = 6.0 * a.n * P
    peak = None
    gp = os.path.join("bench", "out", f"gemm_peak_t{a.threads}.json")
    if os.path.exists(gp):
        g = json.load(open(gp))
        peak = g.get("dgemm_gflops") or g.get("dgemm") or None
    s_plain, _, _ = ntkdrift(a.bin, a, a.steps)
    s_steps, s_snaps, nsnap = ntkdrift(a.bin, a, 10)
    p_step, p_kernel = peer(a)
    nd_step = s_plain / a.steps
    nd_tracked = (s_steps + s_snaps) / a.steps
    pe_tracked = p_step + p_kernel / 10
    print(f"shape depth {a.depth} width {a.width} n0 {a.n0} N {a.n}, P = {P}, float64, {a.threads} threads")
    print(f"plain GD step:   ntkdrift {nd_step:.4f} s   torch {p_step:.4f} s   ratio {p_step / nd_step:.2f}x"
          + (f"   bound {flops / (peak * 1e9):.4f} s (6 N P flops at {peak:.1f} GFLOP/s)" if peak else ""))
    print(f"tracked (snapshot every 10 steps): ntkdrift {nd_tracked:.4f} s/step ({nsnap} snapshots, "
          f"{s_snaps / nsnap:.3f} s each)   torch step + K/10 {pe_tracked:.4f} s/step   ratio {pe_tracked / nd_tracked:.2f}x")
    print(f"one snapshot vs one torch structured kernel: {s_snaps / nsnap:.3f} s vs {p_kernel:.3f} s")
    jac = jac_seconds(a)
    if jac:
        pj = p_step + jac / 10
        print(f"tracked against torch step + Jacobian-contraction K/10 (jac {jac:.1f} s from bench_ntk.json): "
              f"{pj:.3f} s/step, ratio {pj / nd_tracked:.1f}x")
    os.makedirs("bench/out", exist_ok=True)
    json.dump(dict(nd_step=nd_step, torch_step=p_step, nd_tracked=nd_tracked, torch_tracked=pe_tracked,
                   snapshot_s=s_snaps / nsnap, torch_kernel_s=p_kernel, flops_per_step=flops, peak=peak),
              open("bench/out/bench_train.json", "w"), indent=1)


if __name__ == "__main__":
    main()
