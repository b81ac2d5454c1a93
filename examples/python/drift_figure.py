#!/usr/bin/python3
"""drift_figure.py -- the train run's `drift` figure (docs/cli.md, "ntkdrift plot") redrawn with
matplotlib: ||K_t - K_0||_F / ||K_0||_F, the operator-norm ratio ||K_t - K_0||_2 / ||K_0||_2 and the
kernel distance S(K_0, K_t) against the gradient-flow time t = eta * step, log-log.

    drift_figure.py RUN_DIR [--out FILE.png]   a finished `ntkdrift train` run, read with load_run
    drift_figure.py [--out FILE.png]           trains one through the package first (a few seconds):
                                               circle data, depth 2, width 128, 400 steps, the kernel
                                               tracked at 20 log-spaced snapshots

The numbers are the run's own (metrics.csv, or the TrainResult's metrics: the same columns).  Writes
FILE.png (default drift.png) with the Agg backend (no display needed).
"""
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ntkdrift  # noqa: E402


def metrics_of(run_dir):
    """The metrics columns and a title: from a run directory, or from a training run done here."""
    if run_dir:
        run = ntkdrift.load_run(run_dir)
        spec = run.manifest["spec"] if run.manifest else {}
        title = f"{run_dir}: depth {spec.get('depth', '?')}, widths {spec.get('widths', '?')}"
        return run["metrics"], title
    r = ntkdrift.train(data="circle", n=32, n_eval=16, depth=2, width=128, seed=3, steps=400, lr_frac=0.5,
                       snapshots="log:20", keep_snapshots=False,
                       callback=lambda s: print(f"step {s.step:4d}  loss {s.loss:.4e}  drift {s.metrics['drift_fro']:.3e}"))
    return r.metrics, f"ntkdrift.train: depth 2, width 128, eta {r.eta:.4g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", nargs="?", help="a train run directory (default: train one here)")
    ap.add_argument("--out", default="drift.png", help="the PNG to write")
    a = ap.parse_args()
    m, title = metrics_of(a.run_dir)
    t = np.asarray(m["t"])
    keep = t > 0  # log axes: the snapshot at t = 0 has drift 0
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    for col, label, style in (("drift_fro", r"$\Vert K_t - K_0\Vert_F / \Vert K_0\Vert_F$", "o-"),
                              ("drift_op", r"$\Vert K_t - K_0\Vert_2 / \Vert K_0\Vert_2$", "s--"),
                              ("kernel_distance", r"$S(K_0, K_t)$", "^:")):
        ax.loglog(t[keep], np.asarray(m[col])[keep], style, ms=4, label=label)
    ax.set_xlabel(r"$t = \eta \cdot$ step")
    ax.set_ylabel("kernel drift")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
