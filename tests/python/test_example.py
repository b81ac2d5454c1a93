"""examples/python/drift_figure.py redraws the train run's drift figure with matplotlib: from a run
directory the CLI wrote (read by load_run), and from a training run of the package itself.  Each PNG
must exist and not be blank: more than one distinct pixel value, and the plotted lines (non-white
pixels) cover at least 1% of the image (axes, labels and three curves do; a blank or empty canvas
does not)."""
import os
import subprocess
import sys

import matplotlib.image
import numpy as np

from conftest import SOURCE, run_cli

EXAMPLE = os.path.join(SOURCE, "examples", "python", "drift_figure.py")


def check_png(path):
    assert os.path.exists(path), f"{path} was not written"
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, img.shape
    flat = img[..., :3].reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) > 1, "the figure is one colour"
    inked = np.mean(np.any(flat < 0.9, axis=1))
    assert inked > 0.01, f"only {inked:.3%} of the pixels are drawn"


def run_example(*args):
    r = subprocess.run([sys.executable, EXAMPLE, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_example_from_a_cli_run(tmp_path):
    run = tmp_path / "train"
    run_cli("train", "--data", "circle", "--n", 32, "--depth", 2, "--width", 64, "--steps", 200, "--out", run)
    png = tmp_path / "drift_cli.png"
    out = run_example(run, "--out", png)
    assert f"wrote {png}" in out
    check_png(png)


def test_example_through_the_package(tmp_path):
    png = tmp_path / "drift_pkg.png"
    out = run_example("--out", png)
    assert "step  400" in out  # the callback streamed the snapshots up to the last step
    check_png(png)
