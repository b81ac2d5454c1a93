"""Operators on a kernel: operator gradient descent with mode projections (ntk_kgd_run), the Fourier
projections and the circulant operator (docs/modes.md).  Private: the public names are in __init__."""
import numpy as np

from ._core import MODEL_KEYS, DATA_KEYS, Network, Spec, _build, _data_opts, _schedule
from ._lib import as_f64, check, copy_out, cstr, ffi, lib, ptr

KGD_DEFAULTS = dict(steps=2000, eta_scale=0.05, lr=None, kmax=8, top_k=8, init="zero", gp_seed=0, precond="none",
                    tau=1e-3, reg=0.0, snapshots="every:100", dtype="f64", fft=None, threads=0)


def fourier_project(gamma, r, K):
    """Coefficients of r on the unit-normalised Fourier columns 1, cos k g, sin k g (k = 1..K) at the angles
    gamma, and the per-frequency plane masses.  gamma, r: [n] -> (coef [2K+1], plane [K+1])."""
    g = as_f64(gamma, "gamma", 1)
    rr = as_f64(r, "r", 1)
    if len(g) != len(rr):
        raise ValueError(f"r: expected {len(g)} values (one per angle), got {len(rr)}")
    coef, plane = np.empty(2 * int(K) + 1), np.empty(int(K) + 1)
    check(lib.ntk_fourier_project(len(g), ptr(g), int(K), ptr(rr), ptr(coef), ptr(plane)))
    return coef, plane


def circulant_eigenvalues(row):
    """Eigenvalues mu_m (m = 0..n-1) of the circulant operator A = K/n whose first row of K is row [n]
    (row_j = Theta(2 pi j / n), symmetric), by FFT: the discrete Fourier coefficients of the sampled
    kernel, aliasing included.  -> mu [n]."""
    r = as_f64(row, "row", 1)
    out = ffi.new("ntk_circulant **")
    check(lib.ntk_circulant_create(len(r), ptr(r), out))
    try:
        mu = np.empty(len(r))
        check(lib.ntk_circulant_eigenvalues(out[0], ptr(mu)))
        return mu
    finally:
        lib.ntk_circulant_free(out[0])


def _parse(fn, ctype, value):
    v = ffi.new(ctype)
    check(fn(str(value).encode(), v))
    return v[0]


def kgd(kernel="theta_bias", *, K=None, K_eval=None, net=None, seed=0, **kw):
    """Operator gradient descent u <- u - eta A (u - y), A = K/n, on a kernel source (docs/modes.md).

    kernel: theta_bias | theta_nobias | k0 | k1 (closed forms on the circle), limit (the infinite-width
    NTK of the model keys), empirical (the NTK of `net`, or of a network of the model keys initialised
    with `seed`), or matrix (K [n x n] over the training points, K_eval [m x n] optional).
    Data keys as the CLI's (data="circle", n=..., target=..., n_eval=...); model keys for limit and
    empirical (n0 defaults to the data's).  Options (defaults in KGD_DEFAULTS): steps, eta_scale (eta =
    eta_scale / lambda_max) or lr (absolute eta), kmax K, top_k, init ("zero" or "gp"), gp_seed, precond
    ("none", "theory", "empirical"), tau, reg, snapshots ("every:K", "log:K" or a list of steps), dtype
    ("f64" or "f32", dense only), fft (None: FFT when possible; True / False), threads.

    Returns a dict (modes.npz's members): step [S], t [S], k [K+1], loss [S], loss_eval [S],
    coef_train [S x (2K+1)], plane_train [S x (K+1)], coef_eval, plane_eval (eval points; else absent),
    ideal_plane [S x (K+1)] (where defined), proj_eig [S x top_k], eig [n] (of A, descending), u [S x n],
    and the scalars eta, lambda_max, rho, fft; with dtype "f32" also eig_f64 [n] (a float64 decomposition
    of the same A), f32_abs (max |eig - eig_f64| / lambda_max) and f32_rel1 (the first index where they
    differ by more than 1 %, or -1); diverged is None or the library's message (a run that
    diverged returns its snapshots so far).  Errors raise ntkdrift.NtkError with the library's message."""
    opts = dict(KGD_DEFAULTS)
    model = {k: kw.pop(k) for k in list(kw) if k in MODEL_KEYS}
    datakw = {k: kw.pop(k) for k in list(kw) if k in DATA_KEYS}
    unknown = set(kw) - set(KGD_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown key(s): {', '.join(sorted(unknown))} (kgd keys: {', '.join(KGD_DEFAULTS)})")
    opts.update(kw)
    keep = []
    d, data = _circle_dataset(keep, datakw)
    src = _source(keep, kernel, K, K_eval, net, seed, model, data)
    po = ffi.new("ntk_kgd_problem_opts *", lib.ntk_kgd_problem_defaults())
    po.fft = -1 if opts["fft"] is None else int(bool(opts["fft"]))
    po.gp_init = {"zero": 0, "gp": 1}.get(opts["init"], -1)
    if po.gp_init < 0:
        raise ValueError(f"init: expected zero or gp, got {opts['init']!r}")
    po.gp_seed, po.kmax = int(opts["gp_seed"]), int(opts["kmax"])
    prob = ffi.new("ntk_kgd_problem *")
    check(lib.ntk_kgd_problem_build(src, d, po, prob))
    try:
        return _run(prob, opts, keep)
    finally:
        lib.ntk_kgd_problem_clear(prob)


def _circle_dataset(keep, datakw):
    """The data keys (circle by default, one output) as an ntk_dataset kept alive in keep, and the dict."""
    datakw.setdefault("data", "circle")
    datakw.setdefault("outputs", 1)
    if "n0" not in datakw and str(datakw["data"]).startswith("circle"):
        datakw["n0"] = 2
    data = _build(_data_opts(keep, datakw, "circle", 256))
    keep.append(data)
    d = ffi.new("ntk_dataset *")
    d.n_train, d.n_eval, d.n0, d.k = len(data["X_train"]), len(data["X_eval"]), data["n0"], data["k"]
    for name in ("X_train", "Y_train", "X_eval", "Y_eval", "gamma_train", "gamma_eval"):
        a = data[name]
        if a is not None and a.size:
            setattr(d, name, ptr(a))
    return d, data


def _source(keep, kernel, K, K_eval, net, seed, model, data):
    """An ntk_kernel_source (kept alive in keep) for kgd / modes_cell."""
    src = ffi.new("ntk_kernel_source *")
    src.kind = _parse(lib.ntk_ksrc_parse, "ntk_ksrc *", kernel)
    if kernel in ("limit", "empirical") and net is None:
        model.setdefault("n0", data["n0"])
        sp = Spec(**model)
        keep.append(sp)
        src.spec = sp.c[0]
        src.spec.widths = sp.c.widths
        src.seed = int(seed)
    if net is not None:
        if not isinstance(net, Network):
            raise TypeError("net: expected an ntkdrift.Network")
        src.net = net._net
        keep.append(net)
    if kernel == "matrix":
        if K is None:
            raise ValueError("kernel='matrix' needs K [n x n]")
        Km = as_f64(K, "K", 2, len(data["X_train"]))
        keep.append(Km)
        src.K = ptr(Km)
        if K_eval is not None:
            Ke = as_f64(K_eval, "K_eval", 2, len(data["X_train"]))
            keep.append(Ke)
            src.K_eval = ptr(Ke)
    keep.append(src)
    return src


def modes_cell(kernel="empirical", *, net=None, seed=0, kmax=8, search=0, ridge=1e-8, **kw):
    """One mode-study cell (ntk_modes_cell, docs/modes.md): a finite kernel on circle data against the
    continuum.  kernel: empirical (the NTK of `net` or of a network of the model keys with `seed`), limit,
    theta_bias, theta_nobias, k0, k1; data keys as the CLI's (data="circle", n=..., n_eval=...).
    Returns a dict: G_max, G_fro, H_max, H_fro, E_max, E_fro (the lemma objects' norms), e_col [2K+1],
    leakage, C [(2K+1) x (2K+1)] (the plane blocks U^T A U), eig [n] (of A = K/n), pred_err,
    pred_err_inf, pred_rel_inf (kernel regression on the eval points against the infinite-width kernel's),
    and per plane k = 0..K: dim, rank [K+1 x 2], angle_max, proj_fro, proj_op, affinity, eig_err [K+1]."""
    model = {k: kw.pop(k) for k in list(kw) if k in MODEL_KEYS}
    datakw = {k: kw.pop(k) for k in list(kw) if k in DATA_KEYS}
    if kw:
        raise TypeError(f"unknown key(s): {', '.join(sorted(kw))}")
    keep = []
    d, data = _circle_dataset(keep, datakw)
    src = _source(keep, kernel, None, None, net, seed, model, data)
    n, K1 = len(data["X_train"]), int(kmax) + 1
    w = 2 * K1 - 1
    o = ffi.new("ntk_modes_opts *", lib.ntk_modes_opts_defaults())
    o.src, o.kmax, o.search, o.ridge = src[0], int(kmax), int(search), float(ridge)
    e_col, C, eig = np.empty(w), np.empty((w, w)), np.empty(n)
    planes = ffi.new("ntk_plane_match[]", K1)
    r = ffi.new("ntk_modes_result *")
    r.e_col, r.C, r.eig, r.planes = ptr(e_col), ptr(C), ptr(eig), planes
    check(lib.ntk_modes_cell(o, d, r))
    out = {name: float(getattr(r.lemma, name)) for name in ("G_max", "G_fro", "H_max", "H_fro", "E_max", "E_fro")}
    out.update(e_col=e_col, C=C, eig=eig, leakage=float(r.leakage), pred_err=float(r.pred_err),
               pred_err_inf=float(r.pred_err_inf), pred_rel_inf=float(r.pred_rel_inf))
    for name in ("angle_max", "proj_fro", "proj_op", "affinity", "eig_err"):
        out[name] = np.array([getattr(planes[k], name) for k in range(K1)])
    out["dim"] = np.array([planes[k].dim for k in range(K1)])
    out["rank"] = np.array([[planes[k].rank[0], planes[k].rank[1]] for k in range(K1)])
    return out


def concentration(kind="sample", *, kernel="theta_bias", widths=None, n=None, ns=None, K=8, seeds=10, seed=0,
                  eps=(0.005, 0.01, 0.02, 0.05, 0.1), c=1.0, L=1.0, threads=0, **model):
    """The concentration Monte Carlo of B = Phi^T A Phi / n - Lambda_K over seeds (ntk_concentration_run,
    docs/modes.md; the CLI's `ntkdrift modes` concentration.csv and exceedance.csv).

    kind "width": A = K_m / n, the empirical NTK of the model keys (n0 = 2) at each hidden width m in
    `widths` on the grid of n points; its bias is the grid's own, against the spec's infinite-width NTK.
    kind "sample": A = Theta / n at n uniform random angles for each n in `ns`, Theta the closed-form
    `kernel` (theta_bias, theta_nobias, k0, k1) or the model's limit (kernel="limit").
    Seeds seed .. seed + seeds - 1.  Returns a dict: m [cells] (the widths or the ns), eps [n_eps],
    B [cells x seeds x 3] and F [cells x seeds x 3] (||B|| and ||B - bias|| in the max, Frobenius and
    operator norms), bias [cells x 3], exceed [cells x n_eps] (P(||F||_max >= eps) over seeds), bound
    [cells x n_eps] (2 d^2 exp(-c m min(eps^2/L^2, eps/L)), d = 2K + 1) and lam [K+1] (lambda_k)."""
    if kind not in ("width", "sample"):
        raise ValueError(f"kind: expected width or sample, got {kind!r}")
    cells = list(widths) if kind == "width" else list(ns) if ns is not None else None
    if not cells:
        raise ValueError("width: give widths (and n); sample: give ns")
    if kind == "width" and n is None:
        raise ValueError("kind='width' needs n, the grid's points")
    unknown = set(model) - set(MODEL_KEYS)
    if unknown:
        raise TypeError(f"unknown key(s): {', '.join(sorted(unknown))}")
    model = dict(model, n0=2)
    keep = []
    d, data = _circle_dataset(keep, {"data": "circle", "n": 2 * int(K) + 2})  # the continuum, as the CLI's
    src = _source(keep, "limit" if kind == "width" else kernel, None, None, None, 0, dict(model), data)
    po = ffi.new("ntk_kgd_problem_opts *", lib.ntk_kgd_problem_defaults())
    po.kmax = int(K)
    prob = ffi.new("ntk_kgd_problem *")
    check(lib.ntk_kgd_problem_build(src, d, po, prob))
    try:
        if getattr(prob, "lambda") == ffi.NULL:
            raise ValueError(f"kernel {kernel!r} has no continuum eigenvalues")
        sp = Spec(**model)
        keep.append(sp)
        S, ne, nc = int(seeds), len(eps), len(cells)
        o = ffi.new("ntk_conc_opts *", lib.ntk_conc_opts_defaults())
        o.kind = lib.NTK_CONC_WIDTH if kind == "width" else lib.NTK_CONC_SAMPLE
        o.K, o.spec, o.n_cells, o.seeds, o.seed = int(K), sp.c, nc, S, int(seed)
        if kind == "width":
            wa = ffi.new("int[]", [int(w) for w in cells])
            o.widths, o.n = wa, int(n)
        else:
            na = ffi.new("size_t[]", [int(v) for v in cells])
            o.ns = na
        o.profile, o.profile_ctx = lib.ntk_kgd_problem_profile, prob
        setattr(o, "lambda", getattr(prob, "lambda"))
        o.theta0 = prob.theta0
        ea = as_f64(eps, "eps", 1)
        o.eps, o.n_eps, o.c, o.L, o.threads = ptr(ea), ne, float(c), float(L), int(threads)
        B, F, bias = np.empty((nc, S, 3)), np.empty((nc, S, 3)), np.empty((nc, 3))
        exceed, bound = np.empty((nc, max(ne, 1))), np.empty((nc, max(ne, 1)))
        r = ffi.new("ntk_conc_result *")
        r.B, r.F, r.bias, r.exceed, r.bound = ptr(B), ptr(F), ptr(bias), ptr(exceed), ptr(bound)
        check(lib.ntk_concentration_run(o, r))
        lam = copy_out(getattr(prob, "lambda"), (int(K) + 1,))
    finally:
        lib.ntk_kgd_problem_clear(prob)
    return {"m": np.array(cells), "eps": np.array(ea), "B": B, "F": F, "bias": bias, "exceed": exceed[:, :ne],
            "bound": bound[:, :ne], "lam": lam}


def seed_spectra(S, tau=0.0):
    """Seed-mean spectra of a group of runs (ntk_seed_spectra): S [seeds x T x p] the top-p eigenvalues at
    T common snapshots per seed.  Returns dict mean [T x p], drift [T] (||s(t) - s(0)|| / ||s(0)||),
    var [T x p] (over seeds, ddof 1; NaN for one seed), tv [p] (total variation of the mean) and active
    [p] (tv > tau)."""
    a = np.ascontiguousarray(S, dtype=np.float64)
    if a.ndim != 3:
        raise ValueError(f"S: expected [seeds x T x p], got shape {a.shape}")
    s, T, p = a.shape
    mean, drift, var, tv = np.empty((T, p)), np.empty(T), np.empty((T, p)), np.empty(p)
    active = np.empty(p, dtype=np.intc)
    check(lib.ntk_seed_spectra(s, T, p, ptr(a), float(tau), ptr(mean), ptr(drift), ptr(var), ptr(tv),
                               ffi.cast("int *", ffi.from_buffer(active))))
    return {"mean": mean, "drift": drift, "var": var, "tv": tv, "active": active.astype(bool)}


def _run(prob, opts, keep):
    o = ffi.new("ntk_kgd_opts *", lib.ntk_kgd_opts_defaults())
    lib.ntk_kgd_problem_apply(prob, o)
    n, m, Kf = int(prob.n), int(prob.m), int(o.kmax)
    o.steps, o.top_k, o.threads = int(opts["steps"]), int(opts["top_k"]), int(opts["threads"])
    o.eta_scale = float(opts["eta_scale"])
    o.eta = float(opts["lr"]) if opts["lr"] is not None else 0.0
    o.precond = _parse(lib.ntk_precond_parse, "ntk_precond *", opts["precond"])
    o.tau, o.reg = float(opts["tau"]), float(opts["reg"])
    if opts["dtype"] not in ("f64", "f32"):
        raise ValueError(f"dtype: expected f64 or f32, got {opts['dtype']!r}")
    o.dtype = lib.NTK_F32 if opts["dtype"] == "f32" else lib.NTK_F64
    sched = ffi.new("ntk_train_schedule *")
    o.snap, o.n_snap = _schedule(opts["snapshots"], o.steps, sched, keep)
    rows = []
    errors = []

    @ffi.callback("ntk_status(void *, const ntk_kgd_snapshot *)")
    def observer(user, s):
        try:
            r = {"step": int(s.step), "t": float(s.t), "loss": float(s.loss), "loss_eval": float(s.loss_eval),
                 "u": copy_out(s.u, (n,))}
            for name, size in (("coef_train", 2 * Kf + 1), ("plane_train", Kf + 1), ("coef_eval", 2 * Kf + 1),
                               ("plane_eval", Kf + 1), ("ideal_plane", Kf + 1), ("proj_eig", o.top_k)):
                p = getattr(s, name)
                if p != ffi.NULL and size > 0:
                    r[name] = copy_out(p, (size,))
            rows.append(r)
            return 0
        except BaseException as e:  # re-raised below; the run stops
            errors.append(e)
            return 1

    eig = np.empty(n)
    f32 = opts["dtype"] == "f32" and not prob.fft
    eig64 = np.empty(n) if f32 else None
    res = ffi.new("ntk_kgd_result *")
    res.eig = ptr(eig)
    if f32:
        res.eig_f64 = ptr(eig64)
    try:
        st = lib.ntk_kgd_run(o, observer, ffi.NULL, res)
    finally:
        lib.ntk_train_schedule_clear(sched)
    if errors:
        raise errors[0]
    diverged = None
    if st == lib.NTK_ENUMERIC and rows:  # diverged: the snapshots so far are returned, with the message
        diverged = ffi.string(lib.ntk_last_error()).decode()
    else:
        check(st)
    out = {"diverged": diverged, "k": np.arange(Kf + 1), "eig": eig, "eta": float(res.eta), "lambda_max": float(res.lambda_max),
           "rho": float(res.rho), "fft": bool(prob.fft)}
    if f32:  # the float32 eigenvalues beside a float64 decomposition of the same A (docs/modes.md)
        out.update(eig_f64=eig64, f32_abs=float(res.f32_abs), f32_rel1=int(res.f32_rel1))
    for name in ("step", "t", "loss", "loss_eval"):
        out[name] = np.array([r[name] for r in rows])
    for name in ("u", "coef_train", "plane_train", "coef_eval", "plane_eval", "ideal_plane", "proj_eig"):
        if rows and name in rows[0]:
            out[name] = np.stack([r[name] for r in rows])
    return out
