#!/usr/bin/python3
"""examples/modes/P1..P6 (the first user's experiment catalogue, docs/modes.md) at reduced scale: each
YAML file runs with flags that shrink it (flags override the file), exits 0 and draws its figure.
Their numbers are tested elsewhere (test_kgd_cli.py, test_modes_cli.py, tests/ops/); this keeps the
files themselves valid configurations of the commands they name.

usage: test_modes_examples.py PATH/TO/ntkdrift SOURCE_DIR"""
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish  # noqa: E402

BIN, SRC = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ntk_pexamples_")
CASES = [
    ("P1_kgd_circle", "kgd", ["--n", 256, "--steps", 200, "--kmax", 8, "--n-eval", 32, "--top-k", 8], "mode_decay"),
    ("P2_lemma_validation", "modes", ["--ns", "32,64", "--seeds", "0:3", "--kmax", 3, "--n-eval", 16], "exceedance"),
    ("P3_preconditioning", "kgd", ["--n", 256, "--steps", 200], "mode_decay"),
    ("P4_eigenspace_alignment", "modes", ["--widths", "16,32", "--seeds", "0:2", "--ns", 64, "--kmax", 4,
                                          "--n-eval", 16], "leakage_width"),
    ("P5_block_concentration", "modes", ["--widths", "16,32", "--seeds", "0:3", "--ns", 64, "--kmax", 3], "exceedance"),
    ("P6_frozen_vs_evolving", "kgd", ["--n", 32, "--width", 64, "--steps", 50, "--snapshots", "every:10",
                                      "--kmax", 4, "--top-k", 4], "frozen_evolving"),
]
found = sorted(f[:-5] for f in os.listdir(os.path.join(SRC, "examples", "modes")) if f.endswith(".yaml"))
check(found == sorted(c[0] for c in CASES), f"examples/modes holds P1..P6 ({found})")
for name, cmd, flags, fig in CASES:
    out = os.path.join(TMP, name)
    r = subprocess.run([BIN, cmd, "--config", os.path.join(SRC, "examples", "modes", name + ".yaml"),
                        *map(str, flags), "--out", out], capture_output=True, text=True)
    png = os.path.join(out, "figures", fig + ".png")
    check(r.returncode == 0 and os.path.exists(png) and os.path.getsize(png) > 1000,
          f"{name}: ntkdrift {cmd} --config ... runs and draws {fig} ({r.returncode}: {r.stderr.strip()[-300:]})")
finish(TMP)
