"""Ensemble cells: Monte Carlo over random initialisations (ntk_ensemble_cell; private)."""
import math

import numpy as np

from ._core import MODEL_KEYS, Spec
from ._lib import check, copy_out, ffi, lib

ENSEMBLE_DEFAULTS = dict(members=1000, s=1.0, lr=1e-3, y=0.0, no_updates=False, no_literal=False, sampler="lazy",
                         angle=None, data_seed=0, threads=0)
Q_NAMES = tuple(ffi.string(lib.ntk_ensemble_q_name(q)).decode() for q in range(lib.NTK_ENS_NQ))


def _cell_row(depth, width, M, s, angle, st, th):
    """One cells.csv row (cli/cmd_ensemble.c's columns) at full precision."""
    mu = dict(zip(Q_NAMES, st["mean"]))
    se = dict(zip(Q_NAMES, st["se"]))
    return {"depth": depth, "width": width, "beta": th["beta"], "members": M, "s": s, "K_mean": mu["K"],
            "K_se": se["K"], "K_theory": th["K_mean"], "R": st["R"], "R_log_se": st["R_log_se"],
            "R_boot_lo": st["R_boot_lo"], "R_boot_hi": st["R_boot_hi"], "Kd_mean": mu["K_readout"],
            "Kd_R": st["Kd_R"], "Kd_R_log_se": st["Kd_R_log_se"], "Kd_R_theory": th["Kd_R"], "Kw_R": st["Kw_R"],
            "Kw_R_log_se": st["Kw_R_log_se"], "exp5beta": th["exp5beta"], "dK_path_mean": mu["dK_path"],
            "dK_path_se": se["dK_path"], "dK_lit_mean": mu["dK_literal"], "dK_lit_se": se["dK_literal"],
            "dK_scale_theory": th["dK_scale"], "warn_ceiling": st["warn_ceiling"], "warn_tail": st["warn_tail"],
            "angle": math.nan if angle is None else float(angle), "Koff_mean": mu["K_off"], "Koff_se": se["K_off"],
            "Koff_R": st["Koff_R"], "Koff_R_log_se": st["Koff_R_log_se"], "rho_mean": mu["rho_off"],
            "rho_se": se["rho_off"]}


def probes(n0=16, s=1.0, angle=None, data_seed=0):
    """The ensemble's probes (ntk_ensemble_probes): x [n0] with ||x||^2 = s n0 from the data seed, and
    x' [n0] of the same norm at `angle` degrees to it (None without angle)."""
    x, xp = np.empty(int(n0)), np.empty(int(n0))
    a = -1.0 if angle is None else float(angle)
    check(lib.ntk_ensemble_probes(int(data_seed), int(n0), float(s), a, ffi.from_buffer("double[]", x),
                                  ffi.from_buffer("double[]", xp)))
    return x, (None if angle is None else xp)


def ensemble(depths=(3,), widths=(256,), *, seed=0, betas=None, **kw):
    """Ensemble cells over a (depth, width) grid, as `ntkdrift ensemble` runs them (docs/ensemble.md):
    each cell draws `members` random networks with the exact lazy sampler (or every weight, sampler=
    "full") and gives K(x, x) and its parts, f(x), the first-step updates and, with angle, K(x, x')
    per member, with the cell's statistics (R = E[K^2]/E[K]^2, bootstrap interval, theory columns).

    Cells are numbered as the CLI's: cell i = (depths[i // len(widths)], widths[i % len(widths)]), or
    for betas (lines of fixed beta) depth = max(1, round(beta * width)); member m of cell c depends on
    (seed, c, m) only, so any cell equals the CLI's.  Keys, with the CLI's defaults: members=1000,
    s=1 (||x||^2 = s n0), angle=None (degrees of the second probe x'), lr=1e-3 and y=0 (the one-step
    update's rate and target), no_updates, no_literal, sampler="lazy" | "full", data_seed=0 (the
    probes), threads=0, and the model keys (n0=16, act, param, ...; outputs must be 1).

    Returns a dict:
      samples   name -> [cells x members] for K, K_weight, K_bias, K_readout, f, dK_path, dK_literal,
                K_off, rho_off (samples.npz), depth, width [cells]
      layers    list of [members x (depth + 1)] per cell: the per-layer terms K^(l)(x, x)
      cells     list of dicts, one per cell, with cells.csv's columns at full precision
      x, xp     the probes [n0] (xp None without angle)"""
    model = {a: kw.pop(a) for a in list(kw) if a in MODEL_KEYS and a not in ("depth", "width", "widths")}
    e = dict(ENSEMBLE_DEFAULTS)
    for a in list(kw):
        if a in ENSEMBLE_DEFAULTS:
            e[a] = kw.pop(a)
    if kw:
        raise TypeError(f"ensemble: unknown key(s) {', '.join(sorted(kw))}")
    if e["sampler"] not in ("lazy", "full"):
        raise ValueError(f"sampler: expected lazy or full, got {e['sampler']!r}")
    widths = [int(w) for w in widths]
    if betas is not None:
        cells = [(max(1, min(int(round(b * w)), 100000)), w) for b in betas for w in widths]
    else:
        cells = [(int(dd), w) for dd in depths for w in widths]
    base = Spec(**model, depth=0)
    if base.keys["outputs"] != 1:
        raise ValueError("outputs: ensemble samples scalar networks (outputs = 1)")
    n0 = base.keys["n0"]
    M = int(e["members"])
    x, xp = probes(n0, e["s"], e["angle"], e["data_seed"])
    o = ffi.new("ntk_ensemble_opts *", lib.ntk_ensemble_defaults())
    xb = ffi.from_buffer("double[]", x)
    xpb = ffi.from_buffer("double[]", xp) if xp is not None else ffi.NULL
    o.members, o.x, o.xp, o.lr, o.y, o.seed, o.threads = M, xb, xpb, float(e["lr"]), float(e["y"]), int(seed), \
        int(e["threads"])
    o.no_updates, o.no_literal, o.sampler_full = int(bool(e["no_updates"])), int(bool(e["no_literal"])), \
        int(e["sampler"] == "full")
    samples = {q: np.empty((len(cells), M)) for q in Q_NAMES}
    layers, rows = [], []
    for c, (depth, width) in enumerate(cells):
        sp = Spec.of(base, depth=depth, width=width, widths=None)
        smp = ffi.new("ntk_ensemble_samples *")
        smp.members, smp.depth = M, depth
        L = np.empty((M, depth + 1))
        bufs = [ffi.from_buffer("double[]", samples[q][c]) for q in Q_NAMES]
        for i, b in enumerate(bufs):
            smp.q[i] = b
        Lb = ffi.from_buffer("double[]", L)
        smp.layers = Lb
        st = ffi.new("ntk_ensemble_stats *")
        check(lib.ntk_ensemble_cell(sp.c, o, c, smp, st))
        th = ffi.new("ntk_ensemble_theory *")
        check(lib.ntk_ensemble_theory_of(sp.c, width, float(e["s"]), th))
        stats = {name: getattr(st, name) for name in ("R", "R_log_se", "R_boot_lo", "R_boot_hi", "Kd_R", "Kd_R_log_se",
                                                      "Kw_R", "Kw_R_log_se", "Koff_R", "Koff_R_log_se",
                                                      "warn_ceiling", "warn_tail", "seconds")}
        stats["mean"] = copy_out(st.mean, (lib.NTK_ENS_NQ,))
        stats["se"] = copy_out(st.se, (lib.NTK_ENS_NQ,))
        theory = {name: getattr(th, name) for name in ("beta", "K_mean", "Kd_R", "exp5beta", "dK_scale")}
        row = _cell_row(depth, width, M, float(e["s"]), e["angle"], stats, theory)
        row["stats"], row["theory"] = stats, theory
        rows.append(row)
        layers.append(L)
    samples["depth"] = np.array([c[0] for c in cells], dtype=np.int32)
    samples["width"] = np.array([c[1] for c in cells], dtype=np.int32)
    return {"samples": samples, "layers": layers, "cells": rows, "x": x, "xp": xp}
