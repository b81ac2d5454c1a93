#!/usr/bin/python3
"""The bad-input catalogue of the configuration file: for every YAML key of every section, a value
of the wrong type, and for every key with a range, a value outside it.  Each must give exit status 2
with exactly one `ntkdrift: ...` line that names the key (as `section.key`, the key, or its flag),
and write no complete run.

usage: test_config_catalogue.py PATH/TO/ntkdrift
"""
import os, subprocess, sys, tempfile

from clitest import check, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_catalogue_")

# (command, section, key, bad value, text the message must contain); the command is one that reads the key
WRONG_TYPE = [
    ("kernel", "model", k, v) for k, v in (("depth", "three"), ("width", "wide"), ("widths", "8"), ("n0", "x"),
                                          ("outputs", "one"), ("act", "[relu]"), ("param", "{a: 1}"),
                                          ("sw2", "abc"), ("sw2_out", "abc"), ("sb", "abc"), ("bias", "[none]"),
                                          ("bias_out", "[zero]"), ("first_layer", "[none]"))
] + [
    ("kernel", "data", k, v) for k, v in (("data", "[circle]"), ("n", "many"), ("classes", "3"),
                                         ("pixels", "[unit]"))
] + [
    ("kernel", "run", k, v) for k, v in (("seed", "abc"), ("threads", "two"), ("out", "[x]"), ("name", "[x]"),
                                        ("results", "[x]"), ("max_memory_gb", "lots"))
] + [
    ("kernel", "kernel", k, v) for k, v in (("per_layer", "maybe"), ("dtype", "[f64]"), ("save_params", "maybe"),
                                           ("load_params", "[x]"))
] + [
    ("converge", "study", k, v) for k, v in (("widths", "8"), ("depths", "2"), ("seeds", "3"))
] + [
    ("sweep", "study", k, v) for k, v in (("lr_fracs", "0.5"), ("betas", "0.1"))
] + [
    ("train", "train", k, v) for k, v in (("target", "[x]"), ("n_eval", "some"), ("steps", "many"), ("lr", "fast"),
                                         ("lr_frac", "half"), ("loss", "[sum]"), ("opt", "[gd]"), ("batch", "big"),
                                         ("momentum", "high"), ("snapshots", "[1]"), ("checkpoint_every", "often"),
                                         ("ridge", "small"), ("top_k", "ten"), ("fourier_k", "four"),
                                         ("noise", "loud"), ("blowup", "boom"), ("flow", "maybe"))
] + [
    ("ensemble", "ensemble", k, v) for k, v in (("members", "many"), ("s", "one"), ("angle", "right"), ("lr", "x"),
                                               ("y", "why"), ("no_updates", "maybe"), ("no_literal", "maybe"),
                                               ("sampler", "[lazy]"))
] + [
    ("sweep", "sweep", k, v) for k, v in (("lazy_drift", "x"), ("lazy_lin_err", "x"), ("unstable_loss_ratio", "x"),
                                         ("catapult_spike", "x"), ("tau", "x"))
]

OUT_OF_RANGE = [
    ("kernel", "model", "depth", "-1"), ("kernel", "model", "width", "0"), ("kernel", "model", "widths", "[8, 0]"),
    ("kernel", "model", "n0", "0"), ("kernel", "model", "outputs", "0"), ("kernel", "model", "act", "sigmoid"),
    ("kernel", "model", "param", "mup"), ("kernel", "model", "sw2", "-2"), ("kernel", "model", "sw2_out", "-1"),
    ("kernel", "model", "sb", "-1"), ("kernel", "model", "bias", "uniform"), ("kernel", "model", "bias_out", "uniform"),
    ("kernel", "model", "first_layer", "sqrt"),
    ("kernel", "data", "data", "nosuchkind"), ("kernel", "data", "n", "-3"), ("kernel", "data", "classes", "[3, 12]"),
    ("kernel", "data", "pixels", "zscore"),
    ("kernel", "run", "threads", "-2"), ("kernel", "run", "max_memory_gb", "-1"),
    ("kernel", "kernel", "dtype", "f16"), ("kernel", "kernel", "load_params", "/nonexistent/params.npz"),
    ("converge", "study", "widths", "[0, 8]"), ("converge", "study", "depths", "[-1]"), ("converge", "study", "seeds", "[-2]"),
    ("sweep", "study", "lr_fracs", "[0.5, -1]"), ("ensemble", "study", "betas", "[0]"),
    ("train", "train", "target", "nosuchtarget"), ("train", "train", "n_eval", "-1"), ("train", "train", "steps", "-5"),
    ("train", "train", "lr", "-0.1"), ("train", "train", "lr_frac", "-0.5"), ("train", "train", "loss", "huber"),
    ("train", "train", "opt", "lbfgs"), ("train", "train", "batch", "-4"), ("train", "train", "momentum", "1.5"),
    ("train", "train", "snapshots", "every:0"), ("train", "train", "checkpoint_every", "-1"),
    ("train", "train", "ridge", "-1"), ("train", "train", "top_k", "0"), ("train", "train", "fourier_k", "0"),
    ("train", "train", "noise", "-1"), ("train", "train", "blowup", "0.5"),
    ("ensemble", "ensemble", "members", "1"), ("ensemble", "ensemble", "s", "0"), ("ensemble", "ensemble", "angle", "200"),
    ("ensemble", "ensemble", "lr", "0"), ("ensemble", "ensemble", "sampler", "exact"),
    ("sweep", "sweep", "lazy_drift", "-1"), ("sweep", "sweep", "lazy_lin_err", "-1"),
    ("sweep", "sweep", "unstable_loss_ratio", "0"), ("sweep", "sweep", "catapult_spike", "-1"), ("sweep", "sweep", "tau", "-1"),
]

BASE = {"kernel": ["--depth", "1", "--width", "8", "--n", "6"],
        "train": ["--depth", "1", "--width", "8", "--n", "6", "--steps", "2"],
        "converge": ["--depths", "1", "--widths", "8", "--seeds", "0:2", "--n", "6"],
        "ensemble": ["--depths", "1", "--widths", "8", "--members", "4", "--no-updates"],
        "sweep": ["--depths", "1", "--widths", "8", "--lr-fracs", "0.5", "--steps", "2", "--n", "6"]}


def run_case(i, command, section, key, value):
    cfg = os.path.join(TMP, f"c{i}.yaml")
    with open(cfg, "w") as fh:
        fh.write(f"{section}:\n  {key}: {value}\n")
    root = os.path.join(TMP, f"r{i}")
    base = [a for a in BASE[command]]
    # the case's own key must not be overridden by a flag
    flags = {"--" + key.replace("_", "-")} | ({"--width"} if key == "widths" else set())
    for flag in flags:
        if flag in base:
            j = base.index(flag)
            del base[j:j + 2]
    r = subprocess.run([BIN, command, "--config", cfg, "--results", root, *base], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    complete = any("manifest.json" in files for _, _, files in os.walk(root)) if os.path.exists(root) else False
    named = key in lines[0] or key.replace("_", "-") in lines[0] if lines else False
    ok = r.returncode == 2 and len(lines) == 1 and lines[0].startswith("ntkdrift: ") and named and not complete
    return ok, (lines[0] if lines else f"exit {r.returncode}, no message")


for i, (command, section, key, value) in enumerate(WRONG_TYPE):
    ok, msg = run_case(i, command, section, key, value)
    check(ok, f"wrong type {section}.{key}: {value!r} -> {msg}")
for i, (command, section, key, value) in enumerate(OUT_OF_RANGE):
    ok, msg = run_case(1000 + i, command, section, key, value)
    check(ok, f"out of range {section}.{key}: {value!r} -> {msg}")
finish(TMP)
