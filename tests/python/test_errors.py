"""Bad inputs: a failure detected by the library reaches Python as an NtkError subclass (by its
status) carrying the library's own message (ntk_last_error), the same text the CLI prints for the same
input (checked against its stderr), and the interpreter goes on (the library never exits; checked
in a child interpreter that runs every bad input and then computes a kernel).  Shapes are checked in
Python first (ValueError before any call)."""
import subprocess
import sys

import numpy as np
import pytest

import ntkdrift as nd
from conftest import run_cli


def raised(fn, cls=nd.NtkError):
    with pytest.raises(cls) as e:
        fn()
    return e.value


def cli_says(*args):
    r = run_cli(*args, check=False)
    assert r.returncode == 2, f"ntkdrift {' '.join(map(str, args))}: exit {r.returncode}, not 2 (bad input)"
    return r.stderr


def test_spec_errors_carry_the_library_message():
    e = raised(lambda: nd.Network(act="softplus"), nd.InvalidArgumentError)
    assert e.status == 1 and e.status_name == "NTK_EINVAL" and isinstance(e, ValueError)
    assert str(e) == "unknown activation 'softplus' (expected relu|erf|tanh|gelu|identity|sigmoid)"
    assert str(e) in cli_says("kernel", "--act", "softplus")
    e = raised(lambda: nd.Network(sw2=0))
    assert str(e) == "sw2 (hidden sigma_w^2) must be finite and > 0, got 0" and str(e) in cli_says("kernel", "--sw2", 0)
    e = raised(lambda: nd.Network(depth=1, width=4, sw2_out=float("nan")))
    assert "sw2_out" in str(e)
    raised(lambda: nd.limit_kernel(dict(bias="maybe"), np.ones((2, 2))), nd.InvalidArgumentError)


def test_params_file_errors(tmp_path):
    e = raised(lambda: nd.Network.from_params(tmp_path / "missing.npz"), nd.NtkIOError)
    assert isinstance(e, OSError) and e.status == 3 and str(e).endswith("cannot open: No such file or directory")
    bad = tmp_path / "bad.npz"
    np.savez(bad, W1=np.ones((4, 3)), W2=np.ones((1, 5)))
    e = raised(lambda: nd.Network.from_params(bad, depth=1, widths=[4], n0=3), nd.FormatError)
    assert str(e) == f"{bad}: W2 has shape (1, 5), the network needs (1, 4)"
    assert str(e) in cli_says("kernel", "--load-params", bad, "--depth", 1, "--widths", 4, "--n0", 3, "--bias", "none")
    nanp = tmp_path / "nan.npz"
    np.savez(nanp, W1=np.full((4, 3), np.nan), W2=np.ones((1, 4)))
    assert "non-finite" in str(raised(lambda: nd.Network.from_params(nanp), nd.FormatError))
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    e = raised(lambda: nd.Network.from_params(junk, depth=1, width=4, n0=3), nd.NtkError)
    assert str(junk) in str(e) and e.status in (3, 4)


def test_data_errors():
    e = raised(lambda: nd.inputs(data="circle", n0=3))
    assert str(e) == "n0: circle data has n0 = 2, but n0 = 3 was given"
    assert str(e) in cli_says("kernel", "--data", "circle", "--n0", 3)
    e = raised(lambda: nd.inputs(data="/nonexistent/x.npy"), nd.NtkIOError)
    assert str(e).startswith("data: /nonexistent/x.npy: cannot open")
    e = raised(lambda: nd.dataset(data="circle", n=8, target="nope"))
    assert str(e).startswith("target: unknown value 'nope'") and str(e) in cli_says("train", "--target", "nope")


def test_train_errors():
    e = raised(lambda: nd.train(depth=1, width=8, steps=10, snapshots="every:0"))
    assert str(e) == "expected every:K or log:K with K >= 1, got 'every:0'"
    assert str(e) in cli_says("train", "--depth", 1, "--width", 8, "--steps", 10, "--snapshots", "every:0")
    e = raised(lambda: nd.train(np.ones((4, 2)), np.ones(4), depth=1, width=4, steps=5, opt="sgd", batch=10))
    assert str(e) == "train: batch 10 exceeds the 4 training points"
    raised(lambda: nd.train(depth=1, width=8, loss="l1"), nd.InvalidArgumentError)
    with pytest.raises(TypeError):
        nd.train(depth=1, widht=8)  # a misspelt key is refused, not ignored


def test_ensemble_errors():
    e = raised(lambda: nd.ensemble(depths=[1], widths=[8], members=10, lr=0))
    assert str(e) == "ensemble_cell: need a finite lr > 0 and a finite y (got 0, 0)"


def test_shapes_checked_in_python():
    net = nd.Network(depth=1, width=8, n0=2)
    with pytest.raises(ValueError, match="expected 2 columns"):
        nd.empirical_ntk(net, np.ones((3, 5)))
    with pytest.raises(ValueError, match="2-D"):
        net.forward(np.ones(2))
    with pytest.raises(ValueError, match="float64 or float32"):
        nd.empirical_ntk(net, np.ones((3, 2)), dtype=np.int32)
    with pytest.raises(ValueError):
        nd.train(np.ones((4, 2)), np.ones((5, 1)), depth=1, width=4)


def test_callback_exception_stops_the_run_and_propagates():
    seen = []

    def cb(s):
        seen.append(s.step)
        if s.step >= 5:
            raise KeyError("stop")
    with pytest.raises(KeyError, match="stop"):
        nd.train(depth=1, width=8, steps=20, snapshots="every:5", callback=cb)
    assert seen == [0, 5], "the run stopped at the snapshot that raised"


def test_the_interpreter_survives_every_bad_input(tmp_path):
    code = f"""
import numpy as np, ntkdrift as nd
bad = [lambda: nd.Network(act="x"), lambda: nd.Network(sw2=-1), lambda: nd.Network(depth=-3),
       lambda: nd.Network.from_params("{tmp_path}/none.npz"), lambda: nd.inputs(data="nope"),
       lambda: nd.train(depth=1, width=4, snapshots="log:0"), lambda: nd.ensemble(depths=[1], widths=[4], lr=-1)]
for f in bad:
    try:
        f()
        raise SystemExit("no error raised")
    except nd.NtkError:
        pass
K = nd.empirical_ntk(nd.Network(depth=1, width=8, n0=2), nd.inputs(data="circle", n=4))
print("alive", K.shape)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "alive (4, 4)", r.stderr
