#!/usr/bin/python3
"""bench/train_probe.c and bench/bench_train.py's models, at tiny shapes; nothing is timed.

* train_probe.c builds with -Wall -Wextra -Werror against the library (as bench_train.py builds it);
* `train_probe step` trains two copies of one network, one by ntk_trainer_step (the fused path for
  this one-hidden-layer relu network) and one by the batched ntk_net_loss_grad + update: their losses
  after the same steps agree to 1e-12 relative (the same sums in another order: ~1e-16 per step; a
  wrong gradient or step is an O(1e-2..1) difference), and it reports the parameter count n0 w + w;
* `train_probe snap` runs a tracked run: one snapshot file per scheduled step in its directory, every
  time and ratio it prints positive and finite;
* bench_train.py's byte and flop models against the counts written out here for 1x1024x2x256 and a
  deeper net (bench/README.md, "train").

usage: test_bench_train.py PATH/TO/ntkdrift SOURCE_DIR
"""
import json, math, os, shutil, subprocess, sys, tempfile

BIN, SRC = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SRC, "bench"))
import bench_train  # noqa: E402  (bench/bench_train.py)

FAILS = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)


def build(tmp):
    lib = os.path.join(os.path.dirname(os.path.abspath(BIN)), "libntkdrift.a")
    libs = subprocess.run(["pkg-config", "--libs", "openblas", "lapacke", "libzip", "zlib", "fftw3"],
                          capture_output=True, text=True).stdout.split()
    exe = os.path.join(tmp, "train_probe")
    r = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-std=c17", "-fopenmp", "-Wall", "-Wextra", "-Werror",
                        *os.environ.get("NTK_PROBE_CFLAGS", "").split(), "-I",
                        os.path.join(SRC, "include"), "-o", exe, os.path.join(SRC, "bench", "train_probe.c"), lib,
                        *libs, "-lm"], capture_output=True, text=True)
    check(r.returncode == 0, "train_probe.c builds with -Wall -Wextra -Werror" + (":\n" + r.stderr[-1500:] if r.returncode else ""))
    return exe if r.returncode == 0 else None


def probe(exe, *args):
    r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
    check(r.returncode == 0, f"train_probe {' '.join(map(str, args))} exits 0" + (": " + r.stderr[-500:] if r.returncode else ""))
    return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None


def main():
    tmp = tempfile.mkdtemp(prefix="ntk_test_bench_train_")
    try:
        exe = build(tmp)
        if exe:
            s = probe(exe, "step", 1, 64, 2, 40, 1, 3, 2)
            if s:
                rel = abs(s["loss_fused"] - s["loss_batched"]) / abs(s["loss_batched"])
                check(rel <= 1e-12, f"step: fused and batched losses after 11 steps agree ({rel:.1e} <= 1e-12)")
                check(s["P"] == 2 * 64 + 64, f"step: P = n0 w + w = 192 (got {s['P']})")
                check(all(s[k] > 0 and math.isfinite(s[k]) for k in ("fused_s", "fused_min_s", "batched_s")),
                      "step: the times are positive and finite")
            d = os.path.join(tmp, "snaps")
            os.mkdir(d)
            r = probe(exe, "snap", 2, 32, 2, 20, 1, 6, 2, d)  # depth 2: the step after a snapshot takes its features
            if r:
                files = sorted(os.listdir(d))
                want = [f"snap_{t:010d}.npz" for t in (0, 2, 4, 6)]
                check(files == want and r["snapshots"] == 4, f"snap: one file per snapshot ({files})")
                check(all(r[k] > 0 and math.isfinite(r[k]) for k in
                          ("first_snap_s", "snap_median_s", "kernel_warm_s", "ratio_median", "first_ratio",
                           "step_plain_s", "step_after_s")) and math.isfinite(r["snap_cost_s"])
                      and math.isfinite(r["cost_ratio"]),
                      "snap: the times and ratios are positive and finite")
        sh = dict(depth=1, width=1024, n0=2, n=256)
        # 8 bytes x (6 P + 2 N w + 2 N n0 + 3 N), P = 3072: 147456 + 4194304 + 8192 + 6144
        check(bench_train.step_bytes(sh) == 4356096, f"bytes model 1x1024x2x256 = 4356096 ({bench_train.step_bytes(sh)})")
        # 2 N P + 2 N P + 2 N w (the deltas of the hidden layer from the scalar readout)
        check(bench_train.step_flops(sh) == 2 * 256 * 3072 * 2 + 2 * 256 * 1024, "flop model 1x1024x2x256")
        deep = dict(depth=3, width=10, n0=4, n=7)
        P = 4 * 10 + 10 * 10 + 10 * 10 + 10
        check(bench_train.params(deep) == P, "parameter count of 3x10x4x7")
        check(bench_train.step_bytes(deep) == 8 * (6 * P + 2 * 7 * 30 + 2 * 7 * 4 + 3 * 7), "bytes model 3x10x4x7")
        check(bench_train.step_flops(deep) == 4 * 7 * P + 2 * 7 * (P - 40), "flop model 3x10x4x7")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        sys.exit(f"{len(FAILS)} check(s) failed")


if __name__ == "__main__":
    main()
