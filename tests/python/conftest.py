"""Shared pieces of the Python package's tests (tests/python; ctest python_<name>).

The environment ctest sets: PYTHONPATH=python/, NTKDRIFT_LIB (the build tree's libntkdrift.so),
NTKDRIFT_CLI (the build tree's ntkdrift), NTKDRIFT_SOURCE (the source tree).  By hand, from the
source tree: PYTHONPATH=python /usr/bin/python3 -m pytest tests/python (build/ is then used)."""
import os
import subprocess

import numpy as np
import pytest

SOURCE = os.environ.get("NTKDRIFT_SOURCE") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("NTKDRIFT_CLI") or os.path.join(SOURCE, "build", "ntkdrift")


def run_cli(*args, check=True):
    """Run the CLI; its stdout and stderr on failure."""
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"ntkdrift {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return r


def same(a, b, what=""):
    """Bit-identical: the same shape, dtype and bytes (stricter than numpy.array_equal: -0.0, NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtypes {a.dtype} vs {b.dtype}"
    if a.tobytes() != b.tobytes():
        with np.errstate(invalid="ignore"):
            d = np.nanmax(np.abs(a.astype(float) - b.astype(float))) if a.size else 0
        raise AssertionError(f"{what}: not bit-identical (max |difference| {d:.3g})")


def load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory):
    return tmp_path_factory.mktemp("ntkpy")
