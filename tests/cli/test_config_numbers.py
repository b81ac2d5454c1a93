#!/usr/bin/python3
"""Numbers in the YAML file and in flags (docs/cli.md, "Numbers"): the accepted forms mean what they
say.  The refused forms are cases of the bad-input catalogue (tests/cli/bad_input_catalogue.py).

- An integer key takes a decimal point or exponent form that is exactly an integer: `width: 1e3`
  and `--width 1e3` run a network of width 1000 (the resolved config.yaml and the manifest's spec say
  so, and K equals the kernel of `--width 1000` bit for bit); `steps: 2.0` and `steps: 20e-1` are 2 steps; `seed: 1e3` is
  seed 1000 (the same K as `--seed 1000`); the largest seed 2^64 - 1, in digits and as
  1.8446744073709551615e19, is read exactly (no rounding through a double).
- A quoted number is read as the number (`width: "12"`), list entries as scalars (`widths: [1e1, 2.0e1]`).
- The resolved config.yaml of kernel, train, ensemble and sweep runs reads back under the strict
  rules (a run directory's config.yaml is what --resume loads) and resolves to the same text.

usage: test_config_numbers.py PATH/TO/ntkdrift
"""
import json, os, subprocess, sys, tempfile

import numpy as np

from clitest import check, finish

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_numbers_")
KERNEL = ["--n", "4", "--depth", "1"]  # cheap: 4 points, one hidden layer


def run(command, *args, yaml=None, name="r"):
    """Run `ntkdrift command args` (with --config holding yaml when given) into TMP/name."""
    out = os.path.join(TMP, name)
    cmd = [BIN, command, "--out", out, *args]
    if yaml is not None:
        cfg = os.path.join(TMP, name + ".yaml")
        with open(cfg, "w") as fh:
            fh.write(yaml)
        cmd += ["--config", cfg]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r, out


def resolved(out):
    path = os.path.join(out, "config.yaml")
    return open(path).read() if os.path.exists(path) else ""


def spec(out):
    path = os.path.join(out, "manifest.json")
    return json.load(open(path))["spec"] if os.path.exists(path) else {}


def kernel(out):
    path = os.path.join(out, "kernel.npz")
    return np.load(path)["K"] if os.path.exists(path) else None


def same_kernel(a, b):
    ka, kb = kernel(a), kernel(b)
    return ka is not None and kb is not None and ka.shape == kb.shape and np.array_equal(ka, kb)


# width: 1e3 (YAML) and --width 1e3 (flag) are width 1000
r_ref, ref = run("kernel", *KERNEL, "--width", "1000", name="w1000")
check(r_ref.returncode == 0, f"kernel --width 1000 runs: {r_ref.stderr.strip()[-200:]}")
r, out = run("kernel", *KERNEL, yaml="model:\n  width: 1e3\n", name="yaml_w1e3")
check(r.returncode == 0 and "widths: [1000]" in resolved(out) and spec(out).get("widths") == [1000]
      and same_kernel(out, ref),
      f"YAML width: 1e3 runs width 1000 (rc {r.returncode}, spec widths {spec(out).get('widths')}) {r.stderr.strip()[-200:]}")
r, out = run("kernel", *KERNEL, "--width", "1e3", name="flag_w1e3")
check(r.returncode == 0 and spec(out).get("widths") == [1000] and same_kernel(out, ref),
      f"--width 1e3 runs width 1000 (rc {r.returncode}, spec widths {spec(out).get('widths')}) {r.stderr.strip()[-200:]}")

# quoted numbers and list entries
r, out = run("kernel", *KERNEL, yaml='model:\n  width: "12"\n', name="quoted")
check(r.returncode == 0 and spec(out).get("widths") == [12], f"YAML width: \"12\" is width 12 ({spec(out).get('widths')})")
r, out = run("kernel", "--n", "4", yaml="model:\n  widths: [1e1, 2.0e1]\n", name="widths")
check(r.returncode == 0 and spec(out).get("widths") == [10, 20] and spec(out).get("depth") == 2,
      f"YAML widths: [1e1, 2.0e1] is widths [10, 20] ({spec(out).get('widths')}) {r.stderr.strip()[-200:]}")

# seeds: exponent forms and the largest seed, exactly
r_ref, ref = run("kernel", *KERNEL, "--width", "8", "--seed", "1000", name="s1000")
r, out = run("kernel", *KERNEL, "--width", "8", yaml="run:\n  seed: 1e3\n", name="yaml_s1e3")
check(r.returncode == 0 and "seed: 1000\n" in resolved(out) and same_kernel(out, ref),
      f"YAML seed: 1e3 is seed 1000 (the kernel of --seed 1000) {r.stderr.strip()[-200:]}")
for text in ("18446744073709551615", "1.8446744073709551615e19"):
    r, out = run("kernel", *KERNEL, "--width", "8", yaml=f"run:\n  seed: {text}\n", name="smax" + str(len(text)))
    check(r.returncode == 0 and "seed: 18446744073709551615\n" in resolved(out),
          f"YAML seed: {text} is 2^64 - 1 exactly {r.stderr.strip()[-200:]}")

# steps: 2.0 and 20e-1 in a train run (libcyaml alone read 20e-1 as 20)
for i, text in enumerate(("2.0", "20e-1")):
    r, out = run("train", "--n", "6", "--depth", "1", "--width", "8", yaml=f"train:\n  steps: {text}\n", name=f"steps{i}")
    check(r.returncode == 0 and "steps: 2\n" in resolved(out), f"YAML steps: {text} is 2 steps {r.stderr.strip()[-200:]}")
r, out = run("train", "--n", "6", "--depth", "1", "--width", "8", "--steps", "2e0", name="steps_flag")
check(r.returncode == 0 and "steps: 2\n" in resolved(out), f"--steps 2e0 is 2 steps {r.stderr.strip()[-200:]}")

# resolved configurations read back under the strict rules and resolve to the same text
small = {"kernel": [*KERNEL, "--width", "8", "--sb", "0.1", "--max-memory", "2.5"],
         "train": ["--n", "6", "--depth", "1", "--width", "8", "--steps", "2", "--lr", "0.01"],
         "ensemble": ["--depths", "1", "--widths", "8", "--members", "4", "--no-updates", "--angle", "30"],
         "sweep": ["--depths", "1", "--widths", "8", "--lr-fracs", "0.5", "--steps", "2", "--n", "6"]}
for command, args in small.items():
    r1, a = run(command, *args, name=f"{command}_a")
    cfg = os.path.join(a, "config.yaml")
    r2, b = run(command, "--config", cfg, name=f"{command}_b")
    ta, tb = resolved(a).replace(a, "RUN"), resolved(b).replace(b, "RUN")
    check(r1.returncode == 0 and r2.returncode == 0 and ta == tb and ta,
          f"{command}: the resolved config.yaml reads back to itself (rc {r1.returncode}, {r2.returncode}) "
          f"{r2.stderr.strip()[-200:]}")

finish(TMP)
