#!/usr/bin/python3
"""The benchmarks' own peers (bench/peer/) against ntkdrift, at tiny shapes; nothing is timed.

* bench/peer/torch_ntk.py --method structured, jac (and loop once) on the same parameters as
  `ntkdrift kernel --load-params` (parameters drawn by the peer and written as ntkdrift's params.npz,
  inputs X taken from ntkdrift's kernel.npz), or, the other way round, on the params.npz of
  `ntkdrift kernel --save-params` in both of the peer's import layouts (.npz, and the directory of
  W<l>.npy / X.npy that bench/bench_ntk.py writes): the same K to 1e-12 relative (Frobenius).
  1e-12: both sides are float64 sums of the same products in different orders (structured: the same
  per-layer Grams; jac: J J^T over P parameters), so they differ by rounding, ~1e-16 relative per
  operation times the depth and the conditioning of near-zero entries; a wrong multiplier, bias or
  activation derivative is an O(1e-2..1) difference.
* torch_ntk.py --train 1 on ntkdrift's parameters: one gradient step changes the outputs by
  -lr c K (f - y) to first order (docs/conventions.md, "Loss"), with ntkdrift's K and the --loss
  constant c; checked to 1e-2 relative at lr 1e-4, where the second-order term is ~lr * lambda_max(c K)
  ~ 1e-3 of the first (a wrong c, sign or step is an O(1) difference).
* bench/peer/gemm_peak.c and stream_probe.c build through bench/peers.py with -Wall -Wextra -Werror
  and print what the benchmarks parse (rates are not judged); the stream probe's arrays end at the
  values its kernels imply (check = 1 + 2 sqrt 2 to 1e-12: a few roundings of O(1) numbers).

usage: test_bench_peer.py PATH/TO/ntkdrift SOURCE_DIR
"""
import contextlib, importlib.util, io, json, math, os, shutil, subprocess, sys, tempfile

import numpy as np

BIN, SRC = sys.argv[1], sys.argv[2]
PEER = os.path.join(SRC, "bench", "peer", "torch_ntk.py")
sys.path.insert(0, os.path.join(SRC, "bench"))
import peers  # noqa: E402  (bench/peers.py)

_spec = importlib.util.spec_from_file_location("torch_ntk", PEER)
torch_ntk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(torch_ntk)

MODEL_FLAGS = ("act", "param", "sw2", "sw2_out", "sb", "bias", "bias_out", "first_layer")
CASES = [
    # the benchmarks' network: relu, no biases, sw2 on every layer including the readout
    dict(origin="ntkdrift", depth=2, width=24, n0=5, n=9, act="relu", param="ntk", sw2=2.0, sw2_out=2.0, sb=1.0,
         bias="none", bias_out="none", first_layer="fan_in", loop=True, train=True),
    dict(origin="torch", depth=2, width=24, n0=5, n=9, act="tanh", param="ntk", sw2=1.5, sw2_out=1.0, sb=0.7,
         bias="normal", bias_out="none", first_layer="fan_in"),
    dict(origin="torch", depth=3, width=12, n0=3, n=8, act="gelu", param="ntk", sw2=2.0, sw2_out=1.0, sb=1.0,
         bias="normal", bias_out="normal", first_layer="fan_in"),
    dict(origin="torch", depth=2, width=16, n0=4, n=7, act="erf", param="standard", sw2=2.0, sw2_out=1.0, sb=0.5,
         bias="normal", bias_out="zero", first_layer="fan_in"),
    # pre-activations deep in sigmoid's tails (sw2 = 30)
    dict(origin="torch", depth=3, width=16, n0=4, n=7, act="sigmoid", param="ntk", sw2=30.0, sw2_out=1.0, sb=2.0,
         bias="zero", bias_out="none", first_layer="fan_in"),
    dict(origin="ntkdrift", depth=1, width=40, n0=2, n=9, act="relu", param="ntk", sw2=2.0, sw2_out=1.0, sb=1.0,
         bias="zero", bias_out="zero", first_layer="none"),
    dict(origin="torch", depth=0, width=1, n0=6, n=5, act="identity", param="ntk", sw2=1.0, sw2_out=1.3, sb=0.4,
         bias="normal", bias_out="normal", first_layer="fan_in"),
]
RTOL_K = 1e-12
RTOL_STEP = 1e-2

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return r.stdout


def flags(c):
    out = ["--depth", str(c["depth"]), "--width", str(c["width"]), "--n0", str(c["n0"]), "--n", str(c["n"])]
    for k in MODEL_FLAGS:
        name = "--first-layer" if k == "first_layer" else "--" + k.replace("_", "-")
        out += [name, str(c[k])]
    return out


def peer(c, extra, process=False):
    """torch_ntk.py's JSON record: in a process of its own, or (to import torch once) through its main()."""
    argv = [*flags(c), "--threads", "2", "--repeat", "1", "--warmup", "0", *extra]
    if process:
        return json.loads(run(["/usr/bin/python3", PEER, *argv]).strip().splitlines()[-1])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        torch_ntk.main(argv)
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def rel(A, B):
    return float(np.linalg.norm(np.asarray(A) - np.asarray(B)) / np.linalg.norm(B))


def kernel_case(ci, c, tmp):
    run_dir, name = os.path.join(tmp, f"run{ci}"), f"case {ci} ({c['act']}, {c['param']}, bias {c['bias']}/" \
                                                    f"{c['bias_out']}, from {c['origin']})"
    if c["origin"] == "torch":  # the peer draws the parameters; ntkdrift loads them
        params = os.path.join(tmp, f"torch{ci}.npz")
        peer(c, ["--seed", str(40 + ci), "--save-params", params])
        run([BIN, "kernel", *flags(c), "--seed", str(ci), "--load-params", params, "--out", run_dir])
        sources = [("npz", ["--load-params", params])]
    else:  # ntkdrift draws them; the peer loads params.npz, and the directory layout of bench_ntk.py
        run([BIN, "kernel", *flags(c), "--seed", str(ci), "--save-params", "--out", run_dir])
        params = os.path.join(run_dir, "params.npz")
        pdir = os.path.join(tmp, f"dir{ci}")
        os.makedirs(pdir)
        with np.load(params) as pz:
            for k in pz.files:
                np.save(os.path.join(pdir, k + ".npy"), pz[k])
        with np.load(os.path.join(run_dir, "kernel.npz")) as kz:
            np.save(os.path.join(pdir, "X.npy"), kz["X"])
        sources = [("npz", ["--load-params", params]), ("dir", ["--load-params", pdir])]
    kpath = os.path.join(run_dir, "kernel.npz")
    with np.load(kpath) as kz:
        K = kz["K"]
    with np.load(params) as pz:
        P = sum(pz[k].size for k in pz.files)
    methods = ["structured", "jac"] + (["loop"] if c.get("loop") else [])
    for layout, src in sources:
        for m in methods:
            out = os.path.join(tmp, f"K{ci}_{layout}_{m}.npy")
            inputs = ["--inputs", kpath] if layout == "npz" else []
            # the first run goes through the command line as the benchmarks call it, the rest in-process
            rec = peer(c, [*src, *inputs, "--method", m, "--save", out], process=(ci == 0 and m == "structured"))
            e = rel(np.load(out), K)
            check(e < RTOL_K and rec["P"] == P,
                  f"{name}: {m} ({layout}) vs ntkdrift kernel: rel err {e:.2e} (< {RTOL_K:g}), P {rec['P']} = {P}")
    if c.get("train"):
        train_case(c, run_dir, params, K, tmp)


def train_case(c, run_dir, params, K, tmp):
    lr, N = 1e-4, c["n"]
    kpath = os.path.join(run_dir, "kernel.npz")
    for loss, const in (("mean", 1.0 / N), ("sum", 1.0), ("mse", 2.0 / N)):
        out = os.path.join(tmp, f"train_{loss}.npz")
        rec = peer(c, ["--load-params", params, "--inputs", kpath, "--train", "1", "--lr", str(lr), "--loss", loss,
                       "--no-kernel", "--save-train", out])
        with np.load(out) as z:
            f0, fT, y = z["f_0"], z["f_T"], z["y"]
        pred = -lr * const * K @ (f0 - y)
        e = rel(fT - f0, pred)
        check(e < RTOL_STEP, f"train --loss {loss}: f_T - f_0 vs -lr c K (f_0 - y) with ntkdrift's K: rel err "
                             f"{e:.2e} (< {RTOL_STEP:g})")
        l0 = 0.5 * const * float(np.sum((f0 - y) ** 2))
        check(abs(rec["loss_0"] - l0) <= 1e-12 * l0, f"train --loss {loss}: loss_0 {rec['loss_0']:.12g} = "
                                                      f"c/2 |f_0 - y|^2 {l0:.12g}")


def probes(tmp):
    strict = ["-std=c17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
    gemm = peers.build(os.path.join(SRC, "bench", "peer", "gemm_peak.c"), "gemm_peak", [*strict, "-lopenblas"], tmp)
    core, rows = peers.parse_gemm(run([gemm, "1", "1", "32,64"]))
    check([r["n"] for r in rows] == [32, 64] and core != "unknown" and
          all(r[k] > 0 for r in rows for k in ("dgemm_med", "dgemm_best", "sgemm_med", "sgemm_best")),
          f"gemm_peak 1 1 32,64: core {core}, sizes {[r['n'] for r in rows]}, positive rates")
    bad = subprocess.run([gemm, "2", "0"], capture_output=True, text=True)
    check(bad.returncode == 2, f"gemm_peak 2 0 (no repeats) is refused: exit status {bad.returncode}")
    stream = peers.build(os.path.join(SRC, "bench", "peer", "stream_probe.c"), "stream_probe",
                         [*strict, "-fopenmp"], tmp)
    rec = peers.parse_stream(run([stream, "2", "2", "4096"]))
    want = 1.0 + 2.0 * math.sqrt(2.0)
    check(abs(rec["check"] - want) < 1e-12 * want and rec["threads"] == 2 and rec["n"] == 4096 and
          all(rec[f"{k}_best_gbs"] > 0 for k in ("copy", "scale", "add", "triad")) and
          rec["triad_bytes_per_s"] > 0,
          f"stream_probe 2 2 4096: check {rec['check']:.15f} = 1 + 2 sqrt 2, fields present")
    touch = peers.build(os.path.join(SRC, "bench", "peer", "first_touch.c"), "first_touch", strict, tmp)
    rec = json.loads(run([touch, "4", "1"]).strip().splitlines()[-1])
    check(rec["probe"] == "first_touch" and rec["mb"] == 4 and rec["check"] == 4 * 256 * 2 and
          rec["first_gbs"] > 0 and rec["second_gbs"] > 0,
          f"first_touch 4 1: check {rec['check']} = 4 MiB / 4 KiB x 2, positive rates")
    bad = subprocess.run([touch, "0"], capture_output=True, text=True)
    check(bad.returncode == 2, f"first_touch 0 (no memory) is refused: exit status {bad.returncode}")


def main():
    tmp = tempfile.mkdtemp(prefix="ntk_bench_peer_")
    try:
        for ci, c in enumerate(CASES):
            kernel_case(ci, c, tmp)
        probes(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
