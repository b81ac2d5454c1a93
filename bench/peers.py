"""peers.py -- where the benchmarks find their peers, and how the C probes are built (bench/README.md, "Peers").

The peers are this repository's bench/peer/: torch_ntk.py (the PyTorch kernels and training loop),
gemm_peak.c (dgemm / sgemm GFLOP/s) and stream_probe.c (memory bandwidth). NTK_PEER_DIR, when set,
names another directory to take torch_ntk.py and the GEMM probe (gemm_peak.c, or dgemm_peak.c) from;
whatever it lacks still comes from bench/peer. The C probes are compiled with `cc -O2` into
bench/out/ (git ignores it), again whenever their source changes.
"""
import hashlib
import json
import os
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
OWN = os.path.join(BENCH, "peer")
OUT = os.path.join(BENCH, "out")


def peer_dir():
    """The directory the peers come from: NTK_PEER_DIR if set, else bench/peer."""
    d = os.environ.get("NTK_PEER_DIR", "")
    if d and not os.path.isdir(d):
        sys.exit(f"NTK_PEER_DIR={d} is not a directory (unset it to use bench/peer)")
    return d or OWN


def find(*names):
    """The first of names present in peer_dir(), else in bench/peer; exits when none is found."""
    for d in dict.fromkeys((peer_dir(), OWN)):
        for name in names:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                return path
    sys.exit(f"peer {' or '.join(names)} not found in {peer_dir()} or {OWN}")


def torch_ntk():
    """Path of the PyTorch peer torch_ntk.py."""
    return find("torch_ntk.py")


def build(src, exe_name, flags, out_dir=OUT):
    """Compile src into out_dir/exe_name (cc -O2 src flags) unless the binary there was built from the
    same bytes and flags (out_dir/<exe_name>.sha256 holds their digest); returns the binary's path."""
    os.makedirs(out_dir, exist_ok=True)
    exe, stamp = os.path.join(out_dir, exe_name), os.path.join(out_dir, exe_name + ".sha256")
    with open(src, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest() + " " + " ".join(flags)
    if os.path.exists(exe) and os.path.exists(stamp):
        with open(stamp) as fh:
            if fh.read() == digest:
                return exe
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-o", exe, src, *flags], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"building {src} failed ({cc} -O2 -o {exe} {src} {' '.join(flags)}):\n{r.stderr[-2000:]}")
    with open(stamp, "w") as fh:
        fh.write(digest)
    return exe


def gemm_peak(out_dir=OUT):
    """The GEMM probe binary: `gemm_peak THREADS REPS [SIZES]`, output as in bench/peer/gemm_peak.c."""
    return build(find("gemm_peak.c", "dgemm_peak.c"), "gemm_peak", ["-lopenblas"], out_dir)


def stream_probe(out_dir=OUT):
    """The bandwidth probe binary: `stream_probe THREADS REPS N`, output as in bench/peer/stream_probe.c."""
    return build(find("stream_probe.c"), "stream_probe", ["-fopenmp"], out_dir)


def first_touch(out_dir=OUT):
    """The first-touch probe binary: `first_touch MB HUGE`, output as in bench/peer/first_touch.c."""
    return build(find("first_touch.c"), "first_touch", [], out_dir)


def parse_gemm(stdout):
    """(OpenBLAS core name, [{n, dgemm_med, dgemm_best, sgemm_med, sgemm_best} per size, GFLOP/s]) of a
    gemm_peak run; the list is empty when no size line parses."""
    core, rows = "unknown", []
    for line in stdout.splitlines():
        if line.startswith("# OpenBLAS") and "core=" in line:
            core = line.split("core=")[1].split()[0]
        elif line.strip() and not line.startswith("#"):
            n, dm, db, sm, sb = line.split()
            rows.append(dict(n=int(n), dgemm_med=float(dm), dgemm_best=float(db), sgemm_med=float(sm),
                             sgemm_best=float(sb)))
    return core, rows


def parse_stream(stdout):
    """The JSON record (last line) of a stream_probe run: <kernel>_best_gbs, <kernel>_median_gbs,
    triad_bytes_per_s, threads, n, reps, check."""
    return json.loads(stdout.strip().splitlines()[-1])
