#!/usr/bin/python3
"""bench_train.py -- training speed of ntkdrift against the PyTorch peer (bench/peer/torch_ntk.py --train) and
against the machine's bounds, in one invocation (bench/README.md, "train").  Network: ReLU, NTK
parameterization, no biases, sw2 = 2 on every layer (the peer's), float64, mean loss, full-batch GD, lr 0.1.

Parts (--parts, comma-separated; default steps,snap):
  steps  seconds per plain GD step for each --step-shapes DEPTHxWIDTHxN0xN and --threads T:
         ntkdrift `train` (manifest seconds_steps / --steps, two end snapshots only), bench/train_probe.c
         in-process (ntk_trainer_step, and the batched reference step it replaced, in alternating blocks),
         and the peer's median sec_per_step; against the memory-traffic bound (bytes moved by a step that
         keeps its activations / stream triad bandwidth measured here, bench/peer/stream_probe.c) and the
         FLOP bound (flops of the step / dgemm peak measured here, bench/peer/gemm_peak.c).
  snap   a tracked run (train_probe snap: snapshots every --every steps of --snap-steps, each written
         to an npz as `ntkdrift train` does) against one warm kernel of the same network timed right after
         each snapshot, at each --snap-shapes: the median snapshot (kernel, analysis, file), the first
         (which also decomposes K_0 for the predictors), and their ratios to the warm kernel; then what a
         snapshot adds to the run: its own time plus the step after it (which takes the snapshot's
         features) less a plain step (medians over steps 2..), and that cost over the warm kernel.
  long   the wall time of one run of --long-steps steps at --long-shape, extrapolated from `ntkdrift
         train` over --long-measure steps with the same snapshot schedule (log:20): setup + steps x
         per-step time + snapshots x per-snapshot time.
  deep   the earlier comparison at --depth/--width/--n0/--n (default 10x512x64x512): plain step and a run
         with a snapshot every 10 steps, against the peer's step and step + structured kernel / 10.

The peer runs with OMP_WAIT_POLICY=PASSIVE (its default: libgomp's spinning threads otherwise compete
with OpenBLAS's); ntkdrift with the caller's environment (--passive: PASSIVE as well; the fused
training step then pays a sleeping thread's wake-up on each step); both with glibc's mmap and trim
thresholds at 1 GiB (--default-malloc: glibc's defaults, under which the peer's per-step tensors are
page-faulted in again every step).  Every figure is the fastest of --rounds rounds (the parts interleave ntkdrift and the peer within a
round, so a disturbance of the shared machine hits both alike).  Results: bench/out/bench_train.json.

usage: bench_train.py [--parts steps,snap,long] [--step-shapes 1x1024x2x256] [--threads 1,2] [--rounds 3]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

import peers  # bench/peers.py: the peers and the probes' build (bench/README.md, "Peers")

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
OUT = os.path.join(BENCH, "out")
PEER_ENV = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")  # the peer's own default (torch_ntk.py)
ENV = dict(os.environ)  # ntkdrift and its probe: the caller's environment (--passive: PASSIVE as for the peer)
# glibc hands every freed block above its mmap threshold back to the kernel, so a PyTorch loop that
# allocates its N x w tensors afresh each step pays their page faults again each step (10x the step in
# this VM); with these thresholds it keeps them (--default-malloc: glibc's defaults, for both sides)
MALLOC_KEEP = dict(MALLOC_MMAP_THRESHOLD_="1073741824", MALLOC_TRIM_THRESHOLD_="1073741824")


def shape(s):
    d, w, n0, n = (int(x) for x in s.split("x"))
    return dict(depth=d, width=w, n0=n0, n=n)


def label(sh):
    return f"{sh['depth']}x{sh['width']}x{sh['n0']}x{sh['n']}"


def params(sh, k=1):
    widths = [sh["n0"]] + [sh["width"]] * sh["depth"] + [k]
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def step_bytes(sh, k=1):
    """Bytes a full-batch GD step moves when it keeps its activations (bench/README.md, "train")."""
    P, N = params(sh, k), sh["n"]
    return 8 * (6 * P + 2 * N * sh["width"] * sh["depth"] + 2 * N * sh["n0"] + 3 * N * k)


def step_flops(sh, k=1):
    """Forward 2 N P, weight gradients 2 N P, backprop deltas 2 N (P - n0 width): multiply-adds x 2."""
    P, N = params(sh, k), sh["n"]
    first = sh["n0"] * (sh["width"] if sh["depth"] else k)
    return 2.0 * N * P + 2.0 * N * P + 2.0 * N * (P - first)


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV if env is None else env)
    if r.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def build_probe(binary):
    """bench/train_probe.c against the library next to the binary, into bench/out/train_probe."""
    lib = os.path.join(os.path.dirname(os.path.abspath(binary)), "libntkdrift.a")
    if not os.path.exists(lib):
        sys.exit(f"{lib} not found (build the library first)")
    libs = subprocess.run(["pkg-config", "--libs", "openblas", "lapacke", "libzip", "zlib", "fftw3"],
                          capture_output=True, text=True).stdout.split()
    os.makedirs(OUT, exist_ok=True)
    exe, src = os.path.join(OUT, "train_probe"), os.path.join(BENCH, "train_probe.c")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-std=c17", "-fopenmp", "-I", os.path.join(REPO, "include"), "-o", exe, src, lib,
                        *libs, "-lm"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"building {src} failed:\n{r.stderr[-2000:]}")
    return exe


def private_copy(binary):
    """The binary copied into a temporary directory, so a rebuild during the run changes nothing."""
    d = tempfile.mkdtemp(prefix="bench_train_bin_")
    dst = os.path.join(d, "ntkdrift")
    shutil.copy2(binary, dst)
    return dst


def cli_train(binary, sh, threads, steps, schedule, lr=0.1):
    """`ntkdrift train` on the shape: its manifest's train block (seconds_steps, seconds_snapshots, ...)
    and the process wall time."""
    out = tempfile.mkdtemp(prefix="bench_train_")
    shutil.rmtree(out)
    cmd = [binary, "train", "--depth", sh["depth"], "--width", sh["width"], "--n0", sh["n0"], "--n", sh["n"],
           "--data", "gaussian", "--target", "random", "--sw2", "2", "--sw2-out", "2", "--bias", "none",
           "--steps", steps, "--lr", lr, "--loss", "mean", "--threads", threads, "--snapshots", schedule,
           "--out", out]
    t0 = time.perf_counter()
    run([str(c) for c in cmd])
    wall = time.perf_counter() - t0
    t = json.load(open(os.path.join(out, "manifest.json")))["train"]
    shutil.rmtree(out, ignore_errors=True)
    t["process_wall_s"] = wall
    return t


def torch_train(sh, threads, steps):
    cmd = ["/usr/bin/python3", peers.torch_ntk(), "--depth", sh["depth"], "--width", sh["width"], "--n0", sh["n0"],
           "--n", sh["n"], "--dtype", "float64", "--threads", threads, "--sw2", "2", "--train", steps, "--lr", "0.1",
           "--no-kernel"]
    return last_json(run([str(c) for c in cmd], PEER_ENV))


def torch_kernel(sh, threads):
    cmd = ["/usr/bin/python3", peers.torch_ntk(), "--depth", sh["depth"], "--width", sh["width"], "--n0", sh["n0"],
           "--n", sh["n"], "--dtype", "float64", "--threads", threads, "--sw2", "2", "--method", "structured",
           "--repeat", "3"]
    return last_json(run([str(c) for c in cmd], PEER_ENV))


def stream(threads):
    return peers.parse_stream(run([peers.stream_probe(), str(threads), "10", "16777216"]))


def gemm_peak(threads):
    """The dgemm peak (GFLOP/s, max over sizes of the median of 3 calls) measured now."""
    core, rows = peers.parse_gemm(run([peers.gemm_peak(), str(threads), "3", "512,1024,2048"]))
    return core, max(r["dgemm_med"] for r in rows)


def fastest(records, key):
    return min(r[key] for r in records)


def print_header(hdr):
    """A markdown table's header line and its rule, the rule as wide as each column."""
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")


def part_steps(a, binary, probe, res):
    rows = []
    for sh in a.step_shapes:
        for t in a.threads:
            rec = dict(shape=label(sh), threads=t, P=params(sh), bytes=step_bytes(sh), flops=step_flops(sh),
                       cli=[], probe=[], torch=[], stream=[], gemm=[])
            for _ in range(a.rounds):
                rec["stream"].append(stream(t))
                core, peak = gemm_peak(t)
                rec["gemm"].append(dict(core=core, dgemm_gflops=peak))
                c = cli_train(binary, sh, t, a.steps, f"every:{a.steps}")
                rec["cli"].append(dict(sec_per_step=c["seconds_steps"] / a.steps, **c))
                rec["probe"].append(last_json(run([probe, "step", str(sh["depth"]), str(sh["width"]), str(sh["n0"]),
                                                   str(sh["n"]), str(t), str(a.probe_steps), "5"])))
                rec["torch"].append(torch_train(sh, t, a.torch_steps))
            bw = max(s["triad_bytes_per_s"] for s in rec["stream"])
            peak = max(g["dgemm_gflops"] for g in rec["gemm"]) * 1e9
            cli_s = fastest(rec["cli"], "sec_per_step")
            fused_s = fastest(rec["probe"], "fused_min_s")
            batched_s = fastest(rec["probe"], "batched_min_s")
            torch_s = fastest(rec["torch"], "sec_per_step")
            rec.update(triad_bytes_per_s=bw, dgemm_flops_per_s=peak, mem_bound_s=rec["bytes"] / bw,
                       flop_bound_s=rec["flops"] / peak, cli_s=cli_s, fused_s=fused_s, batched_s=batched_s,
                       torch_s=torch_s)
            rows.append(rec)
    print(f"\nTraining steps: seconds per full-batch GD step, fastest of {a.rounds} rounds; ntkdrift `train` "
          f"over {a.steps} steps, probe blocks of {a.probe_steps}, torch median of {a.torch_steps}")
    hdr = ("|    shape | thr | ntkdrift s | probe s | batched s |  torch s | x torch | mem bound s | /mem | "
           "FLOP bound s | /FLOP | triad GB/s | dgemm GF/s |")
    print_header(hdr)
    for r in rows:
        print(f"| {r['shape']:>8} | {r['threads']:>3} | {r['cli_s']:10.3e} | {r['fused_s']:7.2e} | "
              f"{r['batched_s']:9.2e} | {r['torch_s']:8.2e} | {r['torch_s'] / r['cli_s']:7.1f} | "
              f"{r['mem_bound_s']:11.3e} | {r['cli_s'] / r['mem_bound_s']:4.2f} | {r['flop_bound_s']:12.3e} | "
              f"{r['cli_s'] / r['flop_bound_s']:5.2f} | {r['triad_bytes_per_s'] / 1e9:10.2f} | "
              f"{r['dgemm_flops_per_s'] / 1e9:10.1f} |")
    for r in {r["shape"]: r for r in rows}.values():
        print(f"  {r['shape']}: bytes model {r['bytes']} ({r['bytes'] / 2**20:.2f} MiB), {r['flops'] / 1e6:.2f} MFLOP, "
              f"P = {r['P']}")
    res["steps"] = rows


def part_snap(a, probe, res):
    rows = []
    for sh in a.snap_shapes:
        recs = []
        for _ in range(a.rounds):
            d = tempfile.mkdtemp(prefix="bench_train_snap_")
            recs.append(last_json(run([probe, "snap", str(sh["depth"]), str(sh["width"]), str(sh["n0"]), str(sh["n"]),
                                       str(a.snap_threads), str(a.snap_steps), str(a.every), d])))
            shutil.rmtree(d, ignore_errors=True)
        best = min(recs, key=lambda r: r["cost_ratio"])
        rows.append(dict(shape=label(sh), threads=a.snap_threads, rounds=recs, best=best))
    print(f"\nTracked runs: {a.snap_steps} steps, a snapshot every {a.every} (each written to an npz), "
          f"{a.snap_threads} threads; x kernel: median over the snapshots after the first of snapshot / the warm "
          f"kernel timed right after it; the round with the smallest of {a.rounds}")
    hdr = "|          shape | snapshots | snapshot s (median) | first s | warm kernel s (median) | x kernel | first x kernel | x kernel, every round |"
    print_header(hdr)
    for r in rows:
        b = r["best"]
        print(f"| {r['shape']:>14} | {b['snapshots']:9d} | {b['snap_median_s']:19.4f} | {b['first_snap_s']:7.4f} | "
              f"{b['kernel_warm_s']:22.4f} | {b['ratio_median']:8.3f} | {b['first_ratio']:14.3f} | "
              + " ".join(f"{x['ratio_median']:.3f}" for x in r["rounds"]) + " |")
    print("\nWhat a snapshot adds to the run: snapshot + (step after it - plain step); the step after a snapshot "
          "takes the snapshot's features (bit-identical to computing them) and skips its forward and backward")
    hdr = "|          shape | plain step s | step after a snapshot s | snapshot cost s | cost x kernel | cost x kernel, every round |"
    print_header(hdr)
    for r in rows:
        b = r["best"]
        print(f"| {r['shape']:>14} | {b['step_plain_s']:12.4f} | {b['step_after_s']:23.4f} | {b['snap_cost_s']:15.4f} | "
              f"{b['cost_ratio']:13.3f} | " + " ".join(f"{x['cost_ratio']:.3f}" for x in r["rounds"]) + " |")
    res["snap"] = rows


def part_long(a, binary, res):
    sh, t = a.long_shape, a.long_threads
    recs = [cli_train(binary, sh, t, a.long_measure, "log:20") for _ in range(a.rounds)]
    best = min(recs, key=lambda r: r["seconds_steps"])
    per_step = best["seconds_steps"] / a.long_measure
    snaps = best["snapshots"]
    per_snap = best["seconds_snapshots"] / snaps
    # log:20 of T steps: 0, T and round(T^(i/20)) for i < 20, deduplicated
    steps_T = sorted({0, a.long_steps} | {round(a.long_steps ** (i / 20)) for i in range(20)})
    setup = best["process_wall_s"] - best["seconds_steps"] - best["seconds_snapshots"]
    total = setup + per_step * a.long_steps + per_snap * len(steps_T)
    print(f"\nOne run of {a.long_steps} steps at {label(sh)}, {t} threads, snapshots log:20 ({len(steps_T)} of them), "
          f"extrapolated from `ntkdrift train --steps {a.long_measure}` (fastest of {a.rounds}):")
    print(f"  {per_step * 1e3:.3f} ms per step, {per_snap:.3f} s per snapshot ({snaps} measured), setup and files "
          f"{setup:.2f} s -> {total:.0f} s = {total / 3600:.2f} h (steps {per_step * a.long_steps:.0f} s)")
    res["long"] = dict(shape=label(sh), threads=t, measured_steps=a.long_measure, per_step_s=per_step,
                       per_snapshot_s=per_snap, snapshots=len(steps_T), setup_s=setup, total_s=total, runs=recs)


def part_deep(a, binary, res):
    sh = dict(depth=a.depth, width=a.width, n0=a.n0, n=a.n)
    t = a.deep_threads
    plain = min((cli_train(binary, sh, t, a.deep_steps, f"every:{a.deep_steps}") for _ in range(a.rounds)),
                key=lambda r: r["seconds_steps"])
    tracked = min((cli_train(binary, sh, t, a.deep_steps, "every:10") for _ in range(a.rounds)),
                  key=lambda r: r["seconds_steps"] + r["seconds_snapshots"])
    pt = min((torch_train(sh, t, a.deep_steps) for _ in range(a.rounds)), key=lambda r: r["sec_per_step"])
    pk = min((torch_kernel(sh, t) for _ in range(a.rounds)), key=lambda r: r["time_s"])
    nd_step = plain["seconds_steps"] / a.deep_steps
    nd_tracked = (tracked["seconds_steps"] + tracked["seconds_snapshots"]) / a.deep_steps
    pe_tracked = pt["sec_per_step"] + pk["time_s"] / 10
    print(f"\n{label(sh)}, {t} threads: plain GD step ntkdrift {nd_step:.4f} s, torch {pt['sec_per_step']:.4f} s "
          f"(x{pt['sec_per_step'] / nd_step:.2f}); snapshot every 10 steps: ntkdrift {nd_tracked:.4f} s/step "
          f"({tracked['snapshots']} snapshots, {tracked['seconds_snapshots'] / tracked['snapshots']:.3f} s each), torch "
          f"step + structured K/10 {pe_tracked:.4f} s/step (x{pe_tracked / nd_tracked:.2f})")
    res["deep"] = dict(shape=label(sh), threads=t, step_s=nd_step, tracked_s=nd_tracked, torch_step_s=pt["sec_per_step"],
                       torch_kernel_s=pk["time_s"], torch_tracked_s=pe_tracked, plain=plain, tracked=tracked)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ntkdrift")
    ap.add_argument("--parts", default="steps,snap", help="steps, snap, long, deep (comma-separated)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--step-shapes", default="1x1024x2x256")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=2000, help="steps: `ntkdrift train --steps`")
    ap.add_argument("--probe-steps", type=int, default=200, help="steps: train_probe block length")
    ap.add_argument("--torch-steps", type=int, default=300, help="steps: torch_ntk.py --train")
    ap.add_argument("--snap-shapes", default="10x512x64x512")
    ap.add_argument("--snap-steps", type=int, default=50)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--snap-threads", type=int, default=2)
    ap.add_argument("--long-shape", default="1x10000x2x256")
    ap.add_argument("--long-steps", type=int, default=1000000)
    ap.add_argument("--long-measure", type=int, default=3000)
    ap.add_argument("--long-threads", type=int, default=2)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--n0", type=int, default=64)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--deep-steps", type=int, default=50)
    ap.add_argument("--deep-threads", type=int, default=2)
    ap.add_argument("--passive", action="store_true",
                    help="run ntkdrift and the probe with OMP_WAIT_POLICY=PASSIVE too (the peer always has it)")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc's mmap and trim thresholds at their defaults (for ntkdrift and the peer)")
    a = ap.parse_args()
    if a.passive:
        ENV["OMP_WAIT_POLICY"] = "PASSIVE"
    if not a.default_malloc:
        ENV.update(MALLOC_KEEP)
        PEER_ENV.update(MALLOC_KEEP)
    a.step_shapes = [shape(s) for s in a.step_shapes.split(",") if s]
    a.snap_shapes = [shape(s) for s in a.snap_shapes.split(",") if s]
    a.long_shape = shape(a.long_shape)
    a.threads = [int(t) for t in a.threads.split(",") if t]
    parts = [p for p in a.parts.split(",") if p]
    bad = set(parts) - {"steps", "snap", "long", "deep"}
    if bad:
        ap.error(f"unknown parts {sorted(bad)}")
    binary = private_copy(a.bin)
    probe = build_probe(a.bin) if {"steps", "snap"} & set(parts) else None
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    res = dict(command=" ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]), git=head.strip(),
               date=time.strftime("%Y-%m-%dT%H:%M:%S%z"), load=os.getloadavg())
    print(f"{res['command']}  (git {res['git']}, {res['date']}, load {res['load'][0]:.2f}, ntkdrift "
          f"OMP_WAIT_POLICY={ENV.get('OMP_WAIT_POLICY', 'unset')}, glibc thresholds "
          f"{'default' if a.default_malloc else 'kept high'})")
    for p in parts:
        {"steps": lambda: part_steps(a, binary, probe, res), "snap": lambda: part_snap(a, probe, res),
         "long": lambda: part_long(a, binary, res), "deep": lambda: part_deep(a, binary, res)}[p]()
    res["load_end"] = os.getloadavg()
    os.makedirs(OUT, exist_ok=True)
    json.dump(res, open(os.path.join(OUT, "bench_train.json"), "w"), indent=1)
    shutil.rmtree(os.path.dirname(binary), ignore_errors=True)


if __name__ == "__main__":
    main()
