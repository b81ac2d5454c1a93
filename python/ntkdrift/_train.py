"""Tracked training (ntk_train_run) with snapshots streamed to a Python callback (private)."""
import numpy as np

from ._core import MODEL_KEYS, Network, Spec, _build, _data_opts, _schedule, DATA_KEYS
from ._lib import as_f64, check, copy_out, cstr, error, ffi, lib, ptr

# The train section of the CLI (cli/config_keys.c) with its defaults (`ntkdrift train --print-config`);
# data defaults to circle with n 64 there, as here.  lr None: lr_frac decides (lr_frac wins when both
# are set, as in a config file).
TRAIN_DEFAULTS = dict(steps=1000, lr=None, lr_frac=0.5, loss="half_mean", opt="gd", batch=0, momentum=0.9,
                      snapshots="log:20", ridge=1e-8, top_k=10, blowup=1e6, flow=False, freeze_eps=0.01,
                      freeze_k=3, freeze_delta=2, per_layer=False, threads=0, checkpoint=None, checkpoint_every=0,
                      nth=0, gates="live")
_GATES = {"live": 0, "frozen": 1}

# metrics.csv's columns before move_l*, in order (docs/train.md): the snapshot's and ntk_train_metrics'.
METRIC_COLUMNS = ("step", "t", "loss", "loss_eval", "drift_fro", "drift_op", "kernel_distance", "velocity",
                  "alignment", "lambda_max", "lambda_min", "eig_drift_max", "angle_max", "projector_dist",
                  "active_modes", "lin_err", "pert_err", "pw_err", "kdot_err", "krr_vs_net", "krr_eval_err",
                  "rkhs_ridge", "rkhs_norm_y", "rkhs_norm_f", "eff_dim", "energy_y_topk", "energy_res_topk", "cond")
_MT = METRIC_COLUMNS[4:]
# With nth = 3 or 4 (the truncated neural tangent hierarchy, docs/dynamics.md), after move_l* / drift_l*.
_NTH = ("nth_err", "nth_kerr", "nth_drift", "nth_eval_err", "nth_eval_kerr")

# What a result keeps of the engine's ntk_train_result: scalars and the trajectory arrays.
_RESULT_SCALARS = ("eta", "c", "kdot_literal", "loss0", "loss_max", "loss_max_step", "start_step", "diverged_at",
                   "diverged_loss", "seconds_steps", "seconds_snapshots", "freeze_step", "a_lambda_max",
                   "unstable_modes", "lin_nonfinite_step", "pert_nonfinite_step", "pw_nonfinite_step")


class Snapshot(dict):
    """One snapshot as the callback sees it (a dict; keys also readable as attributes).  n = N k, m = M k,
    d = depth + 1:
      step, index, t (= eta step), loss, loss_eval, n, m, d, rkhs_error (None or why the RKHS
      diagnostics failed), metrics (a dict of the metrics.csv columns of this row),
      K [n x n], K_eval [m x n] or None, f [n], f_eval [m] or None, eigs [n] (descending),
      move [d], Kdot [n x n] (index 0 only, else None), K_layers [d x n x n] and drift_layers [d]
      (per_layer only, else None).  The arrays are copies: they stay valid after the callback."""

    def __getattr__(self, name):  # AttributeError, not KeyError, for a missing key (hasattr, IPython)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class TrainResult:
    """What train() returns.
      metrics     dict: column -> [S] array, the metrics.csv columns (docs/train.md) and move_l1 ..,
                  drift_l1 .. (per_layer)
      snapshots   dict: name -> stacked arrays over the S snapshots: step [S], K [S x n x n], f [S x n],
                  eigs [S x n], move [S x d], K_eval [S x m x n], f_eval [S x m] (m > 0), K_layers
                  [S x d x n x n], drift_layers [S x d] (per_layer); Kdot0 [n x n] (K's velocity at 0)
                  (empty dict with keep_snapshots=False)
      trajectory  dict: steps, loss, loss_eval, drift_fro [S]; y_train [n]; f_train, f_lin, f_pert, f_pw
                  [S x n]; f_eval, f_lin_eval, f_pert_eval, f_pw_eval [S x m] (m > 0): trajectory.npz
      net         the Network at the end (parameters after the last step)
      data        the dataset dict (ntkdrift.dataset) the run trained on
      eta, c, kdot_literal, loss0, loss_max, loss_max_step, diverged_at (-1: did not diverge),
      freeze_step, a_lambda_max, unstable_modes, ...: the manifest's numbers (ntk_train_result)."""

    def __repr__(self):
        return (f"TrainResult(S={len(self.metrics['step'])}, eta={self.eta:.6g}, diverged_at={self.diverged_at}, "
                f"final loss={self.metrics['loss'][-1]:.6g})" if len(self.metrics["step"]) else "TrainResult(S=0)")


def _dataset_struct(keep, X, Y, X_eval, Y_eval):
    """An ntk_dataset over caller arrays (no copies when C-contiguous float64)."""
    X = as_f64(X, "X", 2)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    Y = as_f64(Y, "Y", 2)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y: {Y.shape[0]} rows for {X.shape[0]} points of X")
    d = ffi.new("ntk_dataset *")
    d.n_train, d.n0, d.k = X.shape[0], X.shape[1], Y.shape[1]
    d.X_train, d.Y_train = ptr(X), ptr(Y)
    keep += [X, Y]
    data = {"X_train": X, "Y_train": Y, "X_eval": np.zeros((0, X.shape[1])), "Y_eval": np.zeros((0, Y.shape[1])),
            "gamma_train": None, "gamma_eval": None, "n0": X.shape[1], "k": Y.shape[1], "description": "arrays"}
    if (X_eval is None) != (Y_eval is None):
        raise ValueError("X_eval and Y_eval go together")
    if X_eval is not None:
        Xe = as_f64(X_eval, "X_eval", 2, X.shape[1])
        Ye = np.asarray(Y_eval, dtype=np.float64)
        Ye = as_f64(Ye.reshape(-1, 1) if Ye.ndim == 1 else Ye, "Y_eval", 2, Y.shape[1])
        if Ye.shape[0] != Xe.shape[0]:
            raise ValueError(f"Y_eval: {Ye.shape[0]} rows for {Xe.shape[0]} points of X_eval")
        d.n_eval, d.X_eval, d.Y_eval = Xe.shape[0], ptr(Xe), ptr(Ye)
        keep += [Xe, Ye]
        data.update(X_eval=Xe, Y_eval=Ye)
    return d, data


def train(X=None, Y=None, X_eval=None, Y_eval=None, *, callback=None, keep_snapshots=True, seed=0, **kw):
    """Gradient descent with the kernel tracked at a snapshot schedule, in one library call
    (ntk_train_run; docs/train.md): the same numbers as `ntkdrift train` for the same keys.

    Data: either arrays X [N x n0], Y [N x k] (or [N]), X_eval [M x n0], Y_eval [M x k] (optional), or
    the CLI's data keys (data="circle", n=64, n_eval=0, data_seed=0, target="fourier", ...: see
    ntkdrift.dataset) to build them as the CLI does.  The network: the model keys (depth, width, act,
    ...; n0 and outputs from the data) and seed (init and minibatches), or spec=a Network / Spec / dict.
    Training keys, with the CLI's defaults: steps=1000, lr=None, lr_frac=0.5 (eta = lr_frac * 2 /
    lambda_max(c K_0)), loss="half_mean", opt="gd", batch=0, momentum=0.9, snapshots="log:20" (or a
    list of steps), ridge=1e-8, top_k=10, blowup=1e6, flow=False, freeze_eps=0.01, freeze_k=3,
    freeze_delta=2, per_layer=False, threads=0, checkpoint=None (a path), checkpoint_every=0, nth=0 (3 | 4:
    the truncated hierarchy), gates="live" ("frozen": relu units' on/off states fixed at step 0 on every
    input, the ReLU control of docs/dynamics.md; the final net keeps the gates).

    callback(snapshot) is called at every snapshot, in order, while the run goes on (a Snapshot: the
    step, the metrics and the arrays K [n x n], f [n], ...).  An exception raised in it stops the run
    and is re-raised here.  keep_snapshots=False keeps only the metrics (the callback still sees
    every array).  Returns a TrainResult (metrics, snapshots, trajectory, the final net, eta, ...).
    Errors of the options or data are raised with the library's message ("train: ...")."""
    given = set(kw)
    spec = kw.pop("spec", None)
    model = {a: kw.pop(a) for a in list(kw) if a in MODEL_KEYS}
    tk = dict(TRAIN_DEFAULTS)
    for a in list(kw):
        if a in TRAIN_DEFAULTS:
            tk[a] = kw.pop(a)
    datakw = {a: kw.pop(a) for a in list(kw) if a in DATA_KEYS}
    if kw:
        raise TypeError(f"train: unknown key(s) {', '.join(sorted(kw))}")
    if isinstance(spec, Network):
        if spec.seed is None:
            raise ValueError("spec: a Network with loaded parameters; train starts from ntk_net_init(seed)")
        seed = spec.seed
    keep = []
    if X is not None:
        if datakw:
            raise TypeError(f"train: data keys ({', '.join(sorted(datakw))}) and arrays X, Y given together")
        if Y is None:
            raise ValueError("train: X given without Y")
        d, data = _dataset_struct(keep, X, Y, X_eval, Y_eval)
        n0, k = data["n0"], data["k"]
    else:
        teacher = None
        if (datakw.get("data") or "circle") != "fmnist":
            base = Spec.of(spec, **model) if spec is not None else Spec(**model)
            tk_keys = dict(base.keys)
            tk_keys.update(n0=datakw.get("n0", model.get("n0")), outputs=datakw.get("outputs", model.get("outputs")))
            teacher = Spec.of(tk_keys)
            keep.append(teacher)
        datakw.setdefault("n0", model.get("n0"))
        datakw.setdefault("outputs", model.get("outputs"))
        data = _build(_data_opts(keep, datakw, "circle", 64, teacher))
        n0, k = data["n0"], data["k"]
        d = ffi.new("ntk_dataset *")
        d.n_train, d.n_eval, d.n0, d.k = len(data["X_train"]), len(data["X_eval"]), n0, k
        for name in ("X_train", "Y_train", "X_eval", "Y_eval", "gamma_train", "gamma_eval"):
            a = data[name]
            if a is not None and a.size:
                setattr(d, name, ptr(a))
    model.update(n0=n0, outputs=k)
    sp = Spec.of(spec, **model) if spec is not None else Spec(**model)

    o = ffi.new("ntk_train_run_opts *", lib.ntk_train_run_defaults())
    o.spec = sp.c[0]
    o.spec.widths = sp.c.widths
    o.seed = int(seed)
    for key, ct, fn in (("loss", "ntk_loss *", lib.ntk_loss_parse), ("opt", "ntk_opt *", lib.ntk_opt_parse)):
        v = ffi.new(ct)
        check(fn(str(tk[key]).encode(), v))
        setattr(o, key, v[0])
    lr, lr_frac = tk["lr"], tk["lr_frac"]
    if lr is not None and "lr_frac" not in given:
        lr_frac = 0.0  # an absolute rate given alone (the CLI's --lr)
    o.lr = float(lr or 0.0)
    o.lr_frac = float(lr_frac or 0.0)
    o.steps, o.batch, o.momentum = int(tk["steps"]), int(tk["batch"]), float(tk["momentum"])
    o.per_layer, o.top_k, o.ridge, o.flow = int(bool(tk["per_layer"])), int(tk["top_k"]), float(tk["ridge"]), \
        int(bool(tk["flow"]))
    o.blowup, o.freeze_eps = float(tk["blowup"]), float(tk["freeze_eps"])
    o.freeze_k, o.freeze_delta = int(tk["freeze_k"]), int(tk["freeze_delta"])
    o.nth = int(tk["nth"] or 0)
    if tk["gates"] not in _GATES:
        raise ValueError(f"train: gates must be 'live' or 'frozen', got {tk['gates']!r}")
    o.gates_frozen = _GATES[tk["gates"]]
    o.threads, o.checkpoint_every = int(tk["threads"]), int(tk["checkpoint_every"])
    if tk["checkpoint"] is not None:
        keep.append(cstr(str(tk["checkpoint"])))
        o.checkpoint = keep[-1]
    sched = ffi.new("ntk_train_schedule *")
    try:
        o.snapshots, o.n_snapshots = _schedule(tk["snapshots"], o.steps, sched, keep)
        check(lib.ntk_train_run_check(o, d))
        return _run(o, d, data, callback, keep_snapshots, sp)
    finally:
        lib.ntk_train_schedule_clear(sched)


def _run(o, d, data, callback, keep_snapshots, sp):
    rows, snaps, failure = [], [], []

    @ffi.callback("ntk_status(void *, const ntk_train_snapshot *)")
    def observer(user, s):
        try:
            n, m, dd = int(s.n), int(s.m), int(s.d)
            mt = s.mt
            row = {"step": int(s.step), "t": s.t, "loss": s.loss, "loss_eval": s.loss_eval}
            row.update({name: getattr(mt, name) for name in _MT})
            mv = copy_out(s.move, (dd,))
            for l in range(dd):
                row[f"move_l{l + 1}"] = float(mv[l])
            dl = copy_out(s.drift_layers, (dd,))
            if dl is not None:
                for l in range(dd):
                    row[f"drift_l{l + 1}"] = float(dl[l])
            if s.nth:  # the neural tangent hierarchy's columns, last, as in metrics.csv
                row.update({name: getattr(s, name) for name in _NTH})
            rows.append(row)
            snap = Snapshot(step=int(s.step), index=int(s.index), t=s.t, loss=s.loss, loss_eval=s.loss_eval, n=n,
                            m=m, d=dd, metrics=row, move=mv, drift_layers=dl,
                            rkhs_error=None if s.rkhs_error == ffi.NULL else ffi.string(s.rkhs_error).decode())
            if keep_snapshots or callback is not None:
                snap.update(K=copy_out(s.K, (n, n)), K_eval=copy_out(s.K_eval, (m, n)) if m else None,
                            f=copy_out(s.f, (n,)), f_eval=copy_out(s.f_eval, (m,)) if m else None,
                            eigs=copy_out(s.eigs, (n,)), Kdot=copy_out(s.Kdot, (n, n)),
                            K_layers=copy_out(s.K_layers, (dd, n, n)))
                if s.nth:
                    snap.update(f_nth=copy_out(s.f_nth, (n,)), K_nth=copy_out(s.K_nth, (n, n)),
                                f_nth_eval=copy_out(s.f_nth_eval, (m,)) if m else None,
                                K_nth_eval=copy_out(s.K_nth_eval, (m, n)) if m else None)
            if keep_snapshots:
                snaps.append(snap)
            if callback is not None:
                callback(snap)
            return 0
        except BaseException as e:  # stop the run; re-raised after the library has cleaned up
            failure.append(e)
            return lib.NTK_EINVAL

    res = ffi.new("ntk_train_result *")
    try:
        st = lib.ntk_train_run(o, d, observer, ffi.NULL, res)
        if failure:
            raise failure[0]
        if st != 0:
            raise error(st)
        return _result(res, rows, snaps, data, sp)
    finally:
        lib.ntk_train_result_clear(res)


def _result(res, rows, snaps, data, sp):
    r = TrainResult()
    for name in _RESULT_SCALARS:
        setattr(r, name, getattr(res, name))
    S, n, m = int(res.S), int(res.n), int(res.m)
    tr = {name: copy_out(getattr(res, name), (S,)) for name in ("steps", "loss", "loss_eval", "drift_fro")}
    tr["y_train"] = copy_out(res.y_train, (n,))
    for name in ("f_train", "f_lin", "f_pert", "f_pw"):
        tr[name] = copy_out(getattr(res, name), (S, n))
    if m:
        for name in ("f_eval", "f_lin_eval", "f_pert_eval", "f_pw_eval"):
            tr[name] = copy_out(getattr(res, name), (S, m))
    r.trajectory = tr
    cols = list(rows[0]) if rows else list(METRIC_COLUMNS)
    r.metrics = {c: np.array([row[c] for row in rows], dtype=np.int64 if c in ("step", "active_modes") else None)
                 for c in cols}
    r.snapshots = {}
    if snaps:
        r.snapshots["step"] = np.array([s["step"] for s in snaps])
        for name, key in (("K", "K"), ("f", "f"), ("eigs", "eigs"), ("move", "move"), ("K_eval", "K_eval"),
                          ("f_eval", "f_eval"), ("K_layers", "K_layers"), ("drift_layers", "drift_layers")):
            if snaps[0][key] is not None:
                r.snapshots[name] = np.stack([s[key] for s in snaps])
        for name in ("f_nth", "K_nth", "f_nth_eval", "K_nth_eval"):  # train(nth=3 | 4)
            if snaps[0].get(name) is not None:
                r.snapshots[name] = np.stack([s[name] for s in snaps])
        r.snapshots["Kdot0"] = snaps[0]["Kdot"]
    r.data = data
    # the final network: a copy of the engine's parameters (ntk_train_result_clear frees its net)
    net = Network(seed=None, spec=sp)
    gates = lib.ntk_net_gate_params(res.net)
    if gates != ffi.NULL:  # train(gates="frozen"): the same theta_g
        net.params[:] = np.frombuffer(ffi.buffer(gates, 8 * net.num_params), np.float64)
        net.freeze_gates()
    net.params[:] = np.frombuffer(ffi.buffer(lib.ntk_net_params(res.net), 8 * net.num_params), np.float64)
    net.seed = None
    r.net = net
    return r
