#!/usr/bin/python3
"""bench_sweep.py -- throughput of `ntkdrift sweep` (cells per minute) against threads and MPI ranks,
and the wall time of the default study (`ntkdrift study`, the README's first command).

Each configuration runs the same grid once (Fashion-MNIST classes 0/1 by default, like the study):
  threads T, one process:            ntkdrift sweep ... --threads T
  R MPI ranks x 1 thread (if mpirun): mpirun -np R ntkdrift sweep ... --threads 1
cells/minute = cells / wall minutes; speedup against 1 thread; parallel efficiency = speedup / cores.

usage: bench_sweep.py [--bin build/ntkdrift] [--grid small|study] [--study]
"""
import argparse, json, os, shutil, subprocess, tempfile, time

GRIDS = {
    # 24 cells, about a minute on 2 cores
    "small": ["--data", "fmnist", "--classes", "0,1", "--n", "96", "--n-eval", "128", "--depths", "1,3",
              "--widths", "16,64,256", "--lr-fracs", "0.2,0.9,1.4,3", "--steps", "200", "--snapshots", "log:8"],
    # the study's own 48-cell sweep
    "study": ["--data", "fmnist", "--classes", "0,1", "--n", "96", "--n-eval", "256", "--depths", "1,3,5",
              "--widths", "16,64,256,1024", "--lr-fracs", "0.2,0.9,1.4,3", "--steps", "300", "--snapshots", "log:10"],
}


def run(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}\n{r.stderr[-2000:]}")
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ntkdrift")
    ap.add_argument("--grid", choices=list(GRIDS), default="small")
    ap.add_argument("--study", action="store_true", help="also time the default study")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench_sweep_")
    grid = GRIDS[a.grid]
    ncells = 1
    for flag in ("--depths", "--widths", "--lr-fracs"):
        ncells *= len(grid[grid.index(flag) + 1].split(","))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    rows = []
    for t in (1, 2):
        out = os.path.join(tmp, f"t{t}")
        dt = run([a.bin, "sweep", *grid, "--threads", str(t), "--out", out], env)
        rows.append({"config": f"1 process x {t} thread(s)", "cores": t, "seconds": dt})
    if shutil.which("mpirun"):
        out = os.path.join(tmp, "mpi2")
        dt = run(["mpirun", "--oversubscribe", "-np", "2", a.bin, "sweep", *grid, "--threads", "1", "--out", out], env)
        rows.append({"config": "2 MPI ranks x 1 thread", "cores": 2, "seconds": dt})
        same = open(os.path.join(tmp, "t1", "cells.csv")).read().replace(os.path.join(tmp, "t1"), "") == \
            open(os.path.join(out, "cells.csv")).read().replace(out, "")
    else:
        same = None
    base = rows[0]["seconds"]
    print(f"sweep grid '{a.grid}': {ncells} cells")
    print(f"{'configuration':28s} {'seconds':>8s} {'cells/min':>10s} {'speedup':>8s} {'efficiency':>10s}")
    for r in rows:
        r["cells_per_min"] = ncells / (r["seconds"] / 60)
        r["speedup"] = base / r["seconds"]
        r["efficiency"] = r["speedup"] / r["cores"]
        print(f"{r['config']:28s} {r['seconds']:8.1f} {r['cells_per_min']:10.1f} {r['speedup']:8.2f} "
              f"{100 * r['efficiency']:9.0f}%")
    if same is not None:
        print(f"cells.csv identical between 1 process and 2 ranks: {same}")
    res = {"grid": a.grid, "cells": ncells, "rows": rows, "mpi_identical": same}
    if a.study:
        dt = run([a.bin, "study", "--out", os.path.join(tmp, "study")], env)
        res["study_seconds"] = dt
        print(f"default study (ntkdrift study): {dt:.0f} s wall")
    os.makedirs("bench/out", exist_ok=True)
    json.dump(res, open("bench/out/bench_sweep.json", "w"), indent=1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
