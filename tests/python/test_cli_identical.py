"""The package against the CLI: for the same configuration and seeds, every array the package returns
is bit-identical to the CLI's file of the same quantity (shape, dtype and bytes), and the CLI's text
files agree to every printed digit.  The settings are those of examples/c/experiment.c (whose
command lines tests/cli/test_example_experiment.py runs), plus multi-output, float32, per-layer and
parameter-file cases.  The CLI runs here, into a temporary directory.

- kernel:   empirical_ntk(Network(...), inputs(...))          = kernel.npz K, K_layers, X
            Network.from_params(params.npz)                    = the same K; .weights = W1.. bit for bit
- limit:    limit_kernel(spec, X, kind=...)                    = limit.npz ntk, nngp, ntk_normalized, ntk_layers
- train:    train(...) snapshots K, f, eigs, K_eval, f_eval, Kdot0, K_layers, move, loss
                                                               = snapshots/snap_<step>.npz at every step
            trajectory                                         = trajectory.npz; the final net = params.npz
            metrics                                            = metrics.csv to its %.10g digits
- ensemble: ensemble(...) samples, layers                      = samples.npz, cells/cell_<i>.npz K_layers
            cells                                              = cells.csv to each column's printed digits
- load_run reads each of these run directories to the same arrays."""
import csv
import json
import math
import os

import numpy as np
import pytest

import ntkdrift as nd
from conftest import load, run_cli, same

KERNEL = dict(data="circle", n=32, depth=2, width=128, seed=3)


@pytest.fixture(scope="module")
def kernel_run(tmp_module):
    out = tmp_module / "kernel"
    run_cli("kernel", "--data", "circle", "--n", 32, "--depth", 2, "--width", 128, "--seed", 3, "--per-layer",
            "--save-params", "--out", out)
    return out


def test_kernel_bit_identical(kernel_run):
    kz = load(kernel_run / "kernel.npz")
    X = nd.inputs(data="circle", n=32)
    same(X, kz["X"], "inputs = kernel.npz X")
    net = nd.Network(depth=2, width=128, n0=2, seed=3)
    K, KL = nd.empirical_ntk(net, X, per_layer=True)
    same(K, kz["K"], "K")
    same(KL, kz["K_layers"], "K_layers")
    same(nd.empirical_ntk(net, X), kz["K"], "K without per_layer")


def test_from_params_bit_identical(kernel_run):
    pz = load(kernel_run / "params.npz")
    net = nd.Network.from_params(kernel_run / "params.npz")
    assert (net.depth, net.widths, net.n0, net.outputs) == (2, [128, 128], 2, 1)
    for l, W in enumerate(net.weights, start=1):
        same(W, pz[f"W{l}"], f"W{l}")
        same(net.biases[l - 1], pz[f"b{l}"], f"b{l}")
    same(nd.empirical_ntk(net, nd.inputs(data="circle", n=32)), load(kernel_run / "kernel.npz")["K"],
         "K of the loaded network")
    seeded = nd.Network(depth=2, width=128, n0=2, seed=3)
    same(net.params, seeded.params, "params of the file = params of the seed")


def test_kernel_multi_output_float32(tmp_module):
    out = tmp_module / "kernel3"
    args = dict(n=24, n0=5, depth=3, width=48, act="erf", param="standard", bias="normal", outputs=3, seed=7)
    run_cli("kernel", "--n", 24, "--n0", 5, "--depth", 3, "--width", 48, "--act", "erf", "--param", "standard",
            "--bias", "normal", "--outputs", 3, "--seed", 7, "--data-seed", 2, "--dtype", "f32", "--out", out)
    kz = load(out / "kernel.npz")
    X = nd.inputs(n=24, n0=5, data_seed=2)
    same(X, kz["X"], "gaussian inputs")
    net = nd.Network(**{k: v for k, v in args.items() if k != "n"})
    K = nd.empirical_ntk(net, X, dtype=np.float32)
    assert K.shape == (24, 24, 3, 3) and K.dtype == np.float32
    same(K, kz["K"], "K (N, N, k, k) float32")


def test_limit_bit_identical(tmp_module):
    for param, extra in (("ntk", ["--per-layer"]), ("standard", [])):
        out = tmp_module / f"limit_{param}"
        run_cli("limit", "--data", "circle", "--n", 20, "--depth", 2, "--width", 64, "--param", param, *extra,
                "--out", out)
        lz = load(out / "limit.npz")
        spec = dict(depth=2, width=64, param=param)
        X = nd.inputs(data="circle", n=20)
        same(nd.limit_kernel(spec, X, kind="nngp"), lz["nngp"], f"{param}: nngp")
        if param == "ntk":
            K, KL = nd.limit_kernel(spec, X, per_layer=True)
            same(K, lz["ntk"], "ntk")
            same(KL, lz["ntk_layers"], "ntk_layers")
        else:
            same(nd.limit_kernel(spec, X), lz["ntk"], "standard: ntk")
            same(nd.limit_kernel(spec, X, kind="ntk_normalized"), lz["ntk_normalized"], "ntk_normalized")


TRAIN_CLI = ["--data", "circle", "--n", 32, "--n-eval", 16, "--depth", 2, "--width", 128, "--seed", 3,
             "--data-seed", 5, "--steps", 200, "--lr-frac", 0.5, "--snapshots", "every:50", "--per-layer",
             "--save-params"]
TRAIN_PY = dict(data="circle", n=32, n_eval=16, depth=2, width=128, seed=3, data_seed=5, steps=200, lr_frac=0.5,
                snapshots="every:50", per_layer=True)
STEPS = [0, 50, 100, 150, 200]


@pytest.fixture(scope="module")
def train_run(tmp_module):
    out = tmp_module / "train"
    run_cli("train", *TRAIN_CLI, "--out", out)
    return out


@pytest.fixture(scope="module")
def trained():
    seen = []
    r = nd.train(**TRAIN_PY, callback=lambda s: seen.append((s.step, s.K.copy())))
    return r, seen


def test_train_snapshots_bit_identical(train_run, trained):
    r, seen = trained
    assert [s for s, _ in seen] == STEPS, "the callback saw every snapshot in order"
    sn = r.snapshots
    assert list(sn["step"]) == STEPS
    for i, step in enumerate(STEPS):
        sz = load(train_run / "snapshots" / f"snap_{step:010d}.npz")
        same(seen[i][1], sz["K"], f"step {step}: the callback's K")
        for ours, theirs in (("K", "K"), ("f", "f_train"), ("eigs", "eigs"), ("K_eval", "K_eval"),
                             ("f_eval", "f_eval"), ("K_layers", "K_layers"), ("move", "move")):
            same(sn[ours][i], sz[theirs], f"step {step}: {ours} = snap {theirs}")
        same(r.metrics["loss"][i], sz["meta"][1], f"step {step}: loss")
        same(r.metrics["loss_eval"][i], sz["meta"][2], f"step {step}: loss_eval")
        if step == 0:
            same(sn["Kdot0"], sz["Kdot"], "Kdot at step 0")


def test_train_trajectory_and_params_bit_identical(train_run, trained):
    r, _ = trained
    tz = load(train_run / "trajectory.npz")
    for name in tz:
        if name in r.trajectory:
            same(r.trajectory[name], tz[name], f"trajectory {name}")
    assert {"steps", "f_train", "f_lin", "f_pert", "f_pw", "f_eval"} <= set(tz) & set(r.trajectory)
    pz = load(train_run / "params.npz")
    for l, W in enumerate(r.net.weights, start=1):
        same(W, pz[f"W{l}"], f"final W{l}")
    with open(train_run / "manifest.json") as fh:
        man = json.load(fh)
    assert float("%.15g" % r.eta) == man["train"]["eta"], "manifest.json train.eta (cJSON: 15 digits)"


def test_train_metrics_csv_digits(train_run, trained):
    r, _ = trained
    rows = nd.read_csv(train_run / "metrics.csv")
    assert list(rows) == list(r.metrics), "the same columns in the same order"
    for col, v in rows.items():
        for i in range(len(STEPS)):
            ours = r.metrics[col][i]
            if col in ("step", "active_modes"):
                assert int(v[i]) == int(ours), f"metrics.csv {col}[{i}]"
            elif math.isnan(ours):
                assert math.isnan(v[i]), f"metrics.csv {col}[{i}]"
            else:  # printed with %.10g by cli/cmd_train.c
                assert v[i] == float("%.10g" % ours), f"metrics.csv {col}[{i}]: {v[i]} vs {ours!r}"


def test_train_from_arrays_equals_data_keys(trained):
    r, _ = trained
    d = r.data
    r2 = nd.train(d["X_train"], d["Y_train"], d["X_eval"], d["Y_eval"], depth=2, width=128, seed=3, steps=200,
                  snapshots="every:50")
    same(r2.snapshots["K"], r.snapshots["K"], "K from arrays")
    same(r2.trajectory["f_train"], r.trajectory["f_train"], "f from arrays")


ENS_CLI = ["--depths", "3", "--widths", "64", "--members", 200, "--n0", 8, "--seed", 3, "--data-seed", 5, "--angle",
           60, "--lr", "1e-3"]
# cells.csv's columns and their printf formats (cli/cmd_ensemble.c write_row)
FORMATS = dict(beta="%.8g", s="%.8g", K_mean="%.10g", K_se="%.6g", K_theory="%.10g", R="%.8g", R_log_se="%.6g",
               R_boot_lo="%.8g", R_boot_hi="%.8g", Kd_mean="%.10g", Kd_R="%.8g", Kd_R_log_se="%.6g",
               Kd_R_theory="%.8g", Kw_R="%.8g", Kw_R_log_se="%.6g", exp5beta="%.8g", dK_path_mean="%.10g",
               dK_path_se="%.6g", dK_lit_mean="%.10g", dK_lit_se="%.6g", dK_scale_theory="%.8g", angle="%.8g",
               Koff_mean="%.10g", Koff_se="%.6g", Koff_R="%.8g", Koff_R_log_se="%.6g", rho_mean="%.10g",
               rho_se="%.6g")


def test_ensemble_bit_identical(tmp_module):
    out = tmp_module / "ensemble"
    run_cli("ensemble", *ENS_CLI, "--out", out)
    e = nd.ensemble(depths=[3], widths=[64], members=200, n0=8, seed=3, data_seed=5, angle=60, lr=1e-3)
    sz = load(out / "samples.npz")
    for q, v in e["samples"].items():
        same(v, sz[q], f"samples {q}")
    same(e["layers"][0], load(out / "cells" / "cell_00000.npz")["K_layers"], "K_layers of cell 0")
    assert np.isfinite(e["samples"]["dK_literal"]).all() and np.isfinite(e["samples"]["rho_off"]).all()
    rows = nd.read_csv(out / "cells.csv")
    run = nd.load_run(out)
    same(run["samples"]["K"], sz["K"], "load_run samples")
    assert run.tables["cells"]["R"][0] == rows["R"][0] and not hasattr(run, "no_such_key")
    ours = e["cells"][0]
    for col, v in rows.items():
        fmt = FORMATS.get(col)
        if fmt is None:  # depth, width, members, warn_*: integers
            assert int(v[0]) == int(ours[col]), f"cells.csv {col}"
        elif math.isnan(ours[col]):
            assert math.isnan(v[0]), f"cells.csv {col}"
        else:
            assert v[0] == float(fmt % ours[col]), f"cells.csv {col}: {v[0]} vs {ours[col]!r}"


def test_ensemble_grid_cells_numbered_as_the_cli(tmp_module):
    out = tmp_module / "ensemble_grid"
    run_cli("ensemble", "--depths", "1,2", "--widths", "16,32", "--members", 50, "--seed", 1, "--no-literal",
            "--out", out)
    e = nd.ensemble(depths=[1, 2], widths=[16, 32], members=50, seed=1, no_literal=True)
    sz = load(out / "samples.npz")
    for q, v in e["samples"].items():
        same(v, sz[q], f"grid samples {q}")


def test_load_run_reads_the_cli_runs(kernel_run, train_run):
    k = nd.load_run(kernel_run)
    assert k.complete and k.manifest["spec"]["depth"] == 2 and k.config["model"]["widths"] == [128, 128]
    same(k["kernel"]["K"], load(kernel_run / "kernel.npz")["K"], "load_run kernel K")
    same(k.arrays["params"]["W1"], load(kernel_run / "params.npz")["W1"], "load_run params")
    t = nd.load_run(train_run)
    assert list(t["metrics"]["step"]) == STEPS and t["metrics"]["step"].dtype == np.int64
    same(t.arrays[os.path.join("snapshots", "snap_0000000050")]["K"],
         load(train_run / "snapshots" / "snap_0000000050.npz")["K"], "load_run snapshot")
    same(t["trajectory"]["f_lin"], load(train_run / "trajectory.npz")["f_lin"], "load_run trajectory")
    assert t.config["train"]["ridge"] == 1e-8 and "steps: 200" in t.config_text


def test_train_nth_identical_to_cli(tmp_path):
    """train(nth=4) against `ntkdrift train --nth 4`: every snapshot's f_nth and K_nth bit-identical to
    the snapshot files, and nth_err equal to metrics.csv's to its printed digits (%.10g)."""
    args = dict(data="circle", n=12, act="erf", depth=1, width=256, steps=40, snapshots="every:20", seed=2)
    r = nd.train(nth=4, **args)
    out = tmp_path / "nth"
    run_cli("train", "--nth", 4, "--data", "circle", "--n", 12, "--act", "erf", "--depth", 1, "--width", 256,
            "--steps", 40, "--snapshots", "every:20", "--seed", 2, "--out", out)
    for i, step in enumerate(r.snapshots["step"]):
        z = np.load(out / "snapshots" / f"snap_{step:010d}.npz")
        same(r.snapshots["f_nth"][i], z["f_nth"], f"f_nth at {step}")
        same(r.snapshots["K_nth"][i], z["K_nth"], f"K_nth at {step}")
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    for i, row in enumerate(rows):
        assert f"{r.metrics['nth_err'][i]:.10g}" == row["nth_err"]


def test_train_gates_identical_to_cli(tmp_path):
    """train(gates="frozen", nth=4) against `ntkdrift train --gates frozen --nth 4`: every snapshot's K,
    f and K_nth bit-identical to the snapshot files, the final net's parameters to params.npz, and the
    net comes back gated (its gate parameters the seeded initialisation)."""
    args = dict(data="circle", n=10, depth=2, width=64, steps=40, snapshots="every:20", seed=4, lr_frac=0.9)
    r = nd.train(gates="frozen", nth=4, **args)
    out = tmp_path / "gates"
    run_cli("train", "--gates", "frozen", "--nth", 4, "--data", "circle", "--n", 10, "--depth", 2, "--width", 64,
            "--steps", 40, "--snapshots", "every:20", "--seed", 4, "--lr-frac", 0.9, "--out", out)
    for i, step in enumerate(r.snapshots["step"]):
        z = np.load(out / "snapshots" / f"snap_{step:010d}.npz")
        for name, member in (("K", "K"), ("f", "f_train"), ("K_nth", "K_nth")):
            same(r.snapshots[name][i], z[member], f"{name} at {step}")
    p = load(out / "params.npz")
    same(r.net.weights[1], p["W2"], "W2 at the end")
    assert r.net.gates_frozen
    same(r.net.gate_params, nd.Network(depth=2, width=64, n0=2, seed=4).params, "theta_g = the seeded init")
    live = nd.train(**args)
    assert not live.net.gates_frozen and not np.array_equal(live.snapshots["K"][-1], r.snapshots["K"][-1])
    with pytest.raises(ValueError, match="gates must be 'live' or 'frozen'"):
        nd.train(gates="sometimes", **args)
    with pytest.raises(nd.NtkError, match="gates frozen: act is erf"):
        nd.train(gates="frozen", act="erf", **args)
