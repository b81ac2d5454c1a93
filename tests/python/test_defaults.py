"""The package's defaults are the CLI's: the model keys of Network() against `ntkdrift kernel
--print-config`, train()'s against `ntkdrift train --print-config` (the train section, and its data
circle / n 64), ensemble()'s against `ntkdrift ensemble --print-config`.  A default changed on one
side only fails here."""
import ntkdrift
from ntkdrift._runs import _yaml
from conftest import run_cli


def config(command):
    """The resolved configuration the CLI prints, read as load_run reads config.yaml."""
    return _yaml(run_cli(command, "--print-config").stdout)


def test_model_defaults_are_the_cli_defaults():
    model = config("kernel")["model"]
    net = ntkdrift.Network(depth=1, width=4)  # the rest at the defaults
    spec = ntkdrift.Spec().keys
    for key, cli_value in model.items():
        assert spec[key] == cli_value, f"model.{key}: package {spec[key]!r}, CLI {cli_value!r}"
        if key not in ("depth", "width", "widths"):
            assert net.spec.keys[key] == cli_value, key
    assert set(model) == set(ntkdrift.MODEL_DEFAULTS) - {"widths"}, "the model keys of the CLI"
    assert config("kernel")["run"]["seed"] == ntkdrift.Network.__init__.__defaults__[-2]  # seed=0


def test_train_defaults_are_the_cli_defaults():
    c = config("train")
    t = c["train"]
    ours = ntkdrift.TRAIN_DEFAULTS
    for key in ("steps", "lr_frac", "loss", "opt", "batch", "momentum", "snapshots", "ridge", "top_k", "blowup",
                "flow", "freeze_eps", "freeze_k", "freeze_delta", "checkpoint_every"):
        assert ours[key] == t[key], f"train.{key}: package {ours[key]!r}, CLI {t[key]!r}"
    assert c["kernel"]["per_layer"] == ours["per_layer"]
    assert ours["gates"] == "live" and "gates" not in t  # config.yaml writes train.gates only when frozen
    # the data keys' defaults of train(): circle, 64 points, fourier target with 4 terms, no eval points
    r = ntkdrift.train(depth=1, width=8, steps=0)
    assert r.data["X_train"].shape == (c["data"]["n"], 2) and c["data"]["data"] == "circle"
    assert t["target"] == "fourier" and t["fourier_k"] == 4 and t["n_eval"] == 0 and len(r.data["X_eval"]) == 0


def test_ensemble_defaults_are_the_cli_defaults():
    e = config("ensemble")["ensemble"]
    ours = ntkdrift.ENSEMBLE_DEFAULTS
    for key in ("members", "s", "lr", "y", "no_updates", "no_literal", "sampler"):
        assert ours[key] == e[key], f"ensemble.{key}: package {ours[key]!r}, CLI {e[key]!r}"
    assert "angle" not in e and ours["angle"] is None  # no second probe unless asked


def test_help_documents_every_public_name_with_shapes():
    """help(ntkdrift) reads like docs/cli.md: the module docstring lists every function, and every
    public function or class that takes or returns arrays documents their shapes ([N x n0], ...)."""
    doc = ntkdrift.__doc__
    for name in ("Network", "empirical_ntk", "limit_kernel", "train", "ensemble", "inputs", "dataset", "load_run",
                 "NtkError", "GIL", "float32"):
        assert name in doc, f"the module docstring does not mention {name}"
    for name in ("Network", "empirical_ntk", "limit_kernel", "train", "ensemble", "probes", "inputs", "dataset",
                 "TrainResult", "Snapshot", "Run"):
        d = getattr(ntkdrift, name).__doc__ or ""
        assert "[" in d and " x " in d or "[n0]" in d or "[S]" in d, f"{name}: no shapes in its docstring"
    assert ntkdrift.Network.forward.__doc__ and "[N x n0]" in ntkdrift.Network.forward.__doc__
