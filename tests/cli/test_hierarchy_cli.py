#!/usr/bin/python3
"""`ntkdrift hierarchy` (docs/dynamics.md, "The width study") at a reduced size: the reference model
(two ReLU layers) on 8 points, widths 32, 64, 128, seeds 0, 1, 200 steps.

- The files and their columns; the manifest's hierarchy block.
- hierarchy_summary.csv against numpy on the run's own hierarchy.csv: per width the seed means and
  standard errors (ddof 1), the diverged counts (1e-10 relative: the tables print 12 digits).
- slopes.csv against numpy.polyfit(log width, log mean, 1, cov=True) on the summary's means over the
  widths >= --min-width (slope 1e-9, standard error 1e-8: printed digits through a fit), and the
  crossover widths of the manifest from the summary's means.
- hierarchy.npz: e at the last snapshot is the table's e, eS its largest over the snapshots, flips at
  the last snapshot the table's flips (1e-10).
- An independent path: `ntkdrift train --nth 4` (and 3) on the same cell reports lin_err, nth_err,
  nth_kerr and drift_fro at T, which are e_lin, e_4 (e_3), k_4 (k_3) and drift_T by definition
  (train normalises by ||f_t - f_0||, which at t = T is the study's ||f_T - f_0||); 1e-8 relative:
  train prints 10 digits, and the two engines may round lambda_max(K_0) differently.
- Bad input: exit 2, one line, no manifest.

usage: test_hierarchy_cli.py PATH/TO/ntkdrift"""
import csv, json, math, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="ntk_hier_")
WIDTHS, SEEDS = [32, 64, 128], [0, 1]
Q = ["e_lin", "e_3", "e_4", "eS_lin", "eS_3", "eS_4", "k_3", "k_4"]
BASE = ["--n", "8", "--widths", ",".join(map(str, WIDTHS)), "--seeds", "0:2"]


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True)


def rel(a, b):
    a, b = float(a), float(b)
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return 0.0 if (a == b or (math.isnan(a) and math.isnan(b))) else math.inf
    return abs(a - b) / max(abs(b), 1e-300)


def rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


out = os.path.join(TMP, "h")
r = run("hierarchy", *BASE, "--min-width", "64", "--out", out)
check(r.returncode == 0, "hierarchy runs" + ("" if r.returncode == 0 else f": {r.stderr[-400:]}"))
for f in ["config.yaml", "hierarchy.csv", "hierarchy_summary.csv", "slopes.csv", "hierarchy.npz", "manifest.json",
          "figures/hierarchy_width.png", "figures/hierarchy_width.gp", "figures/hierarchy_width.dat"]:
    check(os.path.exists(os.path.join(out, f)), f"writes {f}")
cells = rows(os.path.join(out, "hierarchy.csv"))
summ = rows(os.path.join(out, "hierarchy_summary.csv"))
slopes = rows(os.path.join(out, "slopes.csv"))
man = json.load(open(os.path.join(out, "manifest.json")))
want = (["width", "seed", "eta", "a_lambda_max", "loss_0", "loss_T", "drift_T"] + Q + ["flips_l1", "flips_l2",
        "diverged_3", "diverged_4", "seconds"])
check(cells and list(cells[0]) == want, f"hierarchy.csv columns {list(cells[0]) if cells else None}")
check([(int(c["width"]), int(c["seed"])) for c in cells] == [(w, s) for w in WIDTHS for s in SEEDS],
      "hierarchy.csv: one row per (width, seed), widths outer")
want_s = ["width", "seeds"] + [f"{q}_{m}" for q in Q for m in ("mean", "se")] + \
         ["flips_l1_mean", "flips_l1_se", "flips_l2_mean", "flips_l2_se", "diverged_3", "diverged_4"]
check(summ and list(summ[0]) == want_s and len(summ) == len(WIDTHS), f"hierarchy_summary.csv columns {list(summ[0]) if summ else None}")
check([s["quantity"] for s in slopes] == Q and list(slopes[0]) == ["quantity", "slope", "se", "points", "width_min", "width_max"],
      "slopes.csv: one row per quantity")
check(all(abs(float(c["a_lambda_max"]) - 0.5) < 1e-12 for c in cells), "eta = 0.25 * 2 / lambda_max(K_0): a lambda_max = 0.5")
h = man.get("hierarchy", {})
check(man.get("command") == "hierarchy" and {"crossover_3", "crossover_4", "wall_seconds", "min_width", "slopes"} <= set(h)
      and h["min_width"] == 64 and h["wall_seconds"] > 0, f"the manifest's hierarchy block: {sorted(h)}")

# the summary against numpy on the cells
means = {}
ok, worst = True, 0.0
for i, w in enumerate(WIDTHS):
    mine = [c for c in cells if int(c["width"]) == w]
    for q in Q + ["flips_l1", "flips_l2"]:
        v = np.array([float(c[q]) for c in mine])
        fin = np.all(np.isfinite(v))
        m, se = v.mean(), v.std(ddof=1) / math.sqrt(len(v)) if fin else math.nan
        means[(q, w)] = m
        # the standard error of two close values cancels: measured against the values' size
        scale = float(np.abs(v).max()) if fin else 1.0
        err_se = 0.0 if not fin and math.isnan(float(summ[i][q + "_se"])) else \
            abs(float(summ[i][q + "_se"]) - se) / max(scale, 1e-300)
        worst = max(worst, rel(summ[i][q + "_mean"], m), err_se)
    for lv in ("3", "4"):
        ok = ok and int(summ[i]["diverged_" + lv]) == sum(int(c["diverged_" + lv]) >= 0 for c in mine)
check(ok and worst <= 1e-10, f"summary means and standard errors = numpy's on hierarchy.csv (worst {worst:.2e})")

# slopes against numpy.polyfit over the widths >= 64 (2 of them: no standard error), and over all three
def polyfit(q, widths):
    """Over the widths whose mean is finite and positive (an infinite one: a seed diverged)."""
    widths = [w for w in widths if math.isfinite(means[(q, w)]) and means[(q, w)] > 0]
    x = np.log(widths)
    y = np.log([means[(q, w)] for w in widths])
    if len(widths) < 2:
        return math.nan, math.nan, 0
    if len(widths) < 3:
        return np.polyfit(x, y, 1)[0], math.nan, 2
    p, cov = np.polyfit(x, y, 1, cov=True)
    return p[0], math.sqrt(cov[0, 0]), len(widths)


worst_b = worst_se = 0.0
pts = True
for s in slopes:
    b, se, n = polyfit(s["quantity"], [64, 128])
    worst_b = max(worst_b, rel(s["slope"], b))
    worst_se = max(worst_se, rel(s["se"], se))
    pts = pts and int(s["points"]) == n and s["width_min"] == "64"
check(worst_b <= 1e-9 and worst_se == 0 and pts,
      f"slopes over the widths >= 64 = numpy.polyfit's (worst {worst_b:.2e}; se nan for two points)")
out2 = os.path.join(TMP, "all")
r2 = run("hierarchy", *BASE, "--out", out2)
sl2 = rows(os.path.join(out2, "slopes.csv")) if r2.returncode == 0 else []
worst_b = worst_se = 0.0
pts = True
for s in sl2:
    b, se, n = polyfit(s["quantity"], WIDTHS)
    worst_b, worst_se = max(worst_b, rel(s["slope"], b)), max(worst_se, rel(s["se"], se))
    pts = pts and int(s["points"]) == n
check(len(sl2) == len(Q) and worst_b <= 1e-9 and worst_se <= 1e-8 and pts and any(s["points"] == "3" for s in sl2),
      f"slopes over all widths and their standard errors = numpy.polyfit(cov=True)'s (worst {worst_b:.2e}, {worst_se:.2e})")


def crossover(q):
    x = None
    for w in reversed(WIDTHS):
        if not means[(q, w)] < means[("e_lin", w)]:
            break
        x = w
    return x


check(h.get("crossover_3") == crossover("e_3") and h.get("crossover_4") == crossover("e_4"),
      f"crossovers {h.get('crossover_3')}, {h.get('crossover_4')} from the summary's means")

# the npz's series against the table
z = np.load(os.path.join(out, "hierarchy.npz"))
e, k, fl, steps = z["e"], z["k"], z["flips"], z["steps"]
check(e.shape == (3, 3, 2, 21) and k.shape == (2, 3, 2, 21) and fl.shape == (3, 2, 21, 2) and
      list(steps) == list(range(0, 201, 10)), f"hierarchy.npz shapes {e.shape} {k.shape} {fl.shape}")
worst = 0.0
for wi in range(3):
    for si in range(2):
        c = cells[wi * 2 + si]
        for p, name in enumerate(["lin", "3", "4"]):
            worst = max(worst, rel(c["e_" + name], e[p, wi, si, -1]), rel(c["eS_" + name], e[p, wi, si].max()))
        for p, name in enumerate(["3", "4"]):
            worst = max(worst, rel(c["k_" + name], k[p, wi, si, -1]))
        worst = max(worst, rel(c["flips_l1"], fl[wi, si, -1, 0]), rel(c["flips_l2"], fl[wi, si, -1, 1]))
check(worst <= 1e-10 and np.all(e[:, :, :, 0] == 0) and np.all(np.isnan(k[:, :, :, 0])),
      f"hierarchy.npz: e, eS, k and flips at T are the table's (worst {worst:.2e}); e = 0, k = nan at step 0")

# an independent path: train --nth on the cell (width 64, seed 1)
cell = cells[1 * 2 + 1]
worst = 0.0
for lv in ("3", "4"):
    t = os.path.join(TMP, "train" + lv)
    rt = run("train", "--depth", "2", "--width", "64", "--seed", "1", "--data", "gaussian-raw", "--n", "8", "--n0", "4",
             "--target", "random", "--loss", "half_sum", "--lr-frac", "0.25", "--steps", "200", "--snapshots",
             "every:10", "--bias", "normal", "--bias-out", "none", "--nth", lv, "--out", t)
    last = rows(os.path.join(t, "metrics.csv"))[-1] if rt.returncode == 0 else {}
    check(rt.returncode == 0 and last.get("step") == "200", f"train --nth {lv} on the cell: {rt.stderr[-200:]}")
    if last:
        worst = max(worst, rel(cell["e_lin"], last["lin_err"]), rel(cell["e_" + lv], last["nth_err"]),
                    rel(cell["k_" + lv], last["nth_kerr"]), rel(cell["drift_T"], last["drift_fro"]))
check(worst <= 1e-8, f"e_lin, e_3, e_4, k_3, k_4, drift_T = train --nth's lin_err, nth_err, nth_kerr, drift_fro at T "
                     f"(worst {worst:.2e})")

# the gated control (--gates frozen): no unit crosses its kink, so level 4 is correct to the next order
# in 1/n and beats the linearized model by far (measured 25x at widths 256 and 512 with these settings;
# 10x asserted, the margin of the library's order test, tests/model/test_gates.c), while the plain relu
# run above has level 4 no better than 2x lin; flips still count the pre-activations' sign changes
og = os.path.join(TMP, "gated")
g = run("hierarchy", "--n", "8", "--widths", "256,512", "--seeds", "0:2", "--steps", "100", "--gates", "frozen",
        "--out", og)
gs = rows(os.path.join(og, "hierarchy_summary.csv")) if g.returncode == 0 else []
man = json.load(open(os.path.join(og, "manifest.json"))) if g.returncode == 0 else {}
check(len(gs) == 2 and all(float(x["e_4_mean"]) * 10 <= float(x["e_lin_mean"]) for x in gs)
      and man.get("hierarchy", {}).get("gates", "").startswith("frozen"),
      f"--gates frozen: level 4 at least 10x below lin at every width, the manifest says so {g.stderr[-200:]}")

# bad input
BAD = [(["--gates", "frozen", "--act", "erf"], "frozen gates are for act relu only"),
       (["--widths", "64,32"], "strictly increasing"),
       (["--n", "65"], "refused above N = 64"),
       (["--outputs", "2"], "one output only"),
       (["--steps", "0"], "steps must be >= 1"),
       (["--snapshots", "every:0"], "snapshots"),
       (["--depth", "0"], "depth must be >= 1"),
       (["--min-width", "-1"], "--min-width"),
       (["--max-memory", "0.0001"], "needs an estimated")]
for args, what in BAD:
    d = os.path.join(TMP, "bad")
    b = run("hierarchy", *BASE, *args, "--out", d)
    lines = b.stderr.strip().splitlines()
    check(b.returncode == 2 and len(lines) == 1 and what in lines[0] and not os.path.exists(os.path.join(d, "manifest.json")),
          f"{' '.join(args)}: exit 2, one line ({b.returncode}: {b.stderr.strip()[:200]})")
finish(TMP)
