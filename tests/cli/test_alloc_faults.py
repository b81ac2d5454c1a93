#!/usr/bin/python3
"""Allocation failures, injected with tests/failmalloc.c (LD_PRELOAD; NTK_FAIL_MALLOC="SIZE:NTH" fails
the NTH malloc of SIZE bytes).

- ntkdrift ensemble: each of its per-quantity accumulators ([cells x members] doubles, all of one
  size, allocated one after the other) failing in turn stops the run with exit 1 and one message,
  never a crash (only the last one used to be checked; a failed earlier one was written through);
- the next allocation of that size, the bootstrap's, failing leaves R's interval NaN and the run
  finishes.

usage: test_alloc_faults.py PATH/TO/ntkdrift PATH/TO/libntk_failmalloc.so
"""
import os, shutil, subprocess, sys, tempfile

from clitest import check, csv_rows, finish

BIN, SHIM = sys.argv[1], os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix="ntk_alloc_")
M = 12347        # members: the accumulators are M doubles each (one cell), a size nothing else allocates
NQ = 9           # accumulators in cli/cmd_ensemble.c (K, K_weight, K_bias, K_readout, f, dK_path, dK_literal,
                 # K_off, rho_off)
SIZE = M * 8


def ensemble(out, nth):
    env = dict(os.environ, LD_PRELOAD=SHIM)
    if nth:
        env["NTK_FAIL_MALLOC"] = f"{SIZE}:{nth}"
    return subprocess.run([BIN, "ensemble", "--out", out, "--depths", "1", "--widths", "8", "--members", str(M),
                           "--no-updates", "--threads", "1"], capture_output=True, text=True, env=env)


r = ensemble(os.path.join(TMP, "ok"), 0)
check(r.returncode == 0, f"with the shim loaded and nothing to fail, the ensemble runs {r.stderr.strip()[-200:]}")
for k in range(NQ):
    r = ensemble(os.path.join(TMP, f"q{k}"), k + 1)
    msg = r.stderr.strip()
    check(r.returncode == 1 and msg == f"ntkdrift: out of memory for 1 cells x {M} members",
          f"accumulator {k + 1} of {NQ} fails: exit {r.returncode}, '{msg[-200:]}'")
out = os.path.join(TMP, "boot")
r = ensemble(out, NQ + 1)
c = csv_rows(os.path.join(out, "cells.csv"))[0] if r.returncode == 0 else {}
check(r.returncode == 0 and c.get("R_boot_lo") == "nan" and c.get("R_boot_hi") == "nan" and c.get("R") != "nan",
      f"the bootstrap's buffer fails: R_boot NaN, R {c.get('R')}, exit {r.returncode}")
finish(TMP)
