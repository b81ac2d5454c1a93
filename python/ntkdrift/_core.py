"""Networks, data, empirical and infinite-width kernels (private; the public names are re-exported by
ntkdrift/__init__.py, whose docstring is the overview)."""
import os

import numpy as np

from ._lib import as_f64, check, copy_out, cstr, ffi, float_dtype, lib, ptr, view

# The model section of the CLI (cli/config_keys.c) with its defaults: `ntkdrift kernel --print-config`
# prints the same (tests/python/test_defaults.py).  bias_out None: as bias.
MODEL_DEFAULTS = dict(depth=3, width=256, widths=None, n0=16, outputs=1, act="relu", param="ntk", sw2=2.0,
                      sw2_out=1.0, sb=1.0, bias="zero", bias_out=None, first_layer="fan_in")
MODEL_KEYS = tuple(MODEL_DEFAULTS)

_PARSE = {"act": ("ntk_act", lib.ntk_act_parse), "param": ("ntk_param", lib.ntk_param_parse),
          "bias": ("ntk_bias", lib.ntk_bias_parse), "bias_out": ("ntk_bias", lib.ntk_bias_parse),
          "first_layer": ("ntk_first_layer", lib.ntk_first_layer_parse)}
_NAME = {"act": lib.ntk_act_name, "param": lib.ntk_param_name, "bias": lib.ntk_bias_name,
         "bias_out": lib.ntk_bias_name, "first_layer": lib.ntk_first_layer_name}


def _parse_enum(key, value):
    """The library's enum value of a name ("relu", "ntk", ...); the library's message for an unknown one."""
    if not isinstance(value, str):
        raise TypeError(f"{key}: expected a name (str), got {value!r}")
    ctype, fn = _PARSE[key]
    out = ffi.new(ctype + " *")
    check(fn(value.encode(), out))
    return int(out[0])


def _cname(fn, v):
    return ffi.string(fn(v)).decode()


class Spec:
    """A resolved network specification: the CLI's model keys (attribute `keys`, a dict) and the
    library's ntk_spec built from them (attribute `c`, with its widths kept alive here).

    Spec(**keys) takes the model keys of `ntkdrift` (depth, width, widths, n0, outputs, act, param,
    sw2, sw2_out, sb, bias, bias_out, first_layer) with the CLI's defaults; `widths` (one per hidden
    layer) overrides `width` and sets depth when depth is not given, as --widths does."""

    def __init__(self, **kw):
        unknown = set(kw) - set(MODEL_KEYS)
        if unknown:
            raise TypeError(f"unknown model key(s): {', '.join(sorted(unknown))} (model keys: {', '.join(MODEL_KEYS)})")
        k = dict(MODEL_DEFAULTS)
        k.update({a: b for a, b in kw.items() if b is not None})
        if kw.get("widths") is not None:
            widths = [int(w) for w in kw["widths"]]
            if kw.get("depth") is None:
                k["depth"] = len(widths)
            elif len(widths) != int(k["depth"]):
                raise ValueError(f"widths: {len(widths)} widths given for depth {k['depth']} (one per hidden layer)")
        else:
            widths = [int(k["width"])] * int(k["depth"])
        if k["bias_out"] is None:
            k["bias_out"] = k["bias"]
        k["widths"] = widths
        self._widths = ffi.new("int[]", max(1, len(widths)))
        for i, w in enumerate(widths):
            self._widths[i] = w
        c = lib.ntk_spec_default()
        c.depth, c.widths, c.n0, c.outputs = int(k["depth"]), self._widths, int(k["n0"]), int(k["outputs"])
        c.sw2, c.sw2_out, c.sb = float(k["sw2"]), float(k["sw2_out"]), float(k["sb"])
        for key in _PARSE:
            setattr(c, key, _parse_enum(key, k[key]))
        for key, fn in _NAME.items():  # canonical names ("sum" -> "half_sum" and the like)
            k[key] = _cname(fn, getattr(c, key))
        self.c = ffi.new("ntk_spec *", c)
        self.c.widths = self._widths
        check(lib.ntk_spec_check(self.c, ffi.NULL, 0))
        self.keys = k

    @classmethod
    def of(cls, spec, **override):
        """A Spec from a Spec, a Network, a dict of model keys or None (the defaults), with overrides."""
        if isinstance(spec, Network):
            spec = spec.spec
        if isinstance(spec, Spec):
            spec = spec.keys
        keys = dict(spec or {})
        override = {a: b for a, b in override.items() if b is not None}
        if any(a in override for a in ("depth", "width", "widths")):
            keys.pop("widths", None)  # a new shape: the base's width unless given
        elif keys.get("widths") is not None:
            keys.pop("width", None)   # the base's own widths
        keys.update(override)
        return cls(**keys)

    def __repr__(self):
        return f"Spec({', '.join(f'{a}={b!r}' for a, b in self.keys.items() if a != 'width')})"


class Network:
    """A fully-connected network of the library (ntk_net): h0 = x, z_l = c_w W_l h_{l-1} + c_b b_l,
    h_l = phi(z_l), f(x) = z_{L+1} (docs/conventions.md).

    Network(depth=3, width=256, widths=None, n0=16, outputs=1, act="relu", param="ntk", sw2=2.0,
            sw2_out=1.0, sb=1.0, bias="zero", bias_out=None, first_layer="fan_in", seed=0)

    The keywords are the CLI's model keys with its defaults (docs/cli.md) and run.seed: the
    parameters are ntk_net_init(seed), the same numbers `ntkdrift kernel --seed S` uses.  seed=None
    leaves them unset (zeros) for the caller to fill.

    Attributes (numpy views of the library's single parameter allocation: writing into them changes
    the network; nothing is copied):
      params      [P]                    W1 b1 W2 b2 ... flat, as ntk_net_params
      weights     list of [n_l x n_{l-1}], l = 1 .. L+1
      biases      list of [n_l] or None (a layer without bias)
      spec        the resolved Spec (spec.keys: a dict of the model keys)
      depth, widths, n0, outputs, num_params, seed
      gates_frozen, gate_params [P] frozen gates (freeze_gates(), thaw_gates(); relu only)
    """

    def __init__(self, depth=None, width=None, widths=None, n0=None, outputs=None, act=None, param=None, sw2=None,
                 sw2_out=None, sb=None, bias=None, bias_out=None, first_layer=None, seed=0, spec=None):
        keys = dict(depth=depth, width=width, widths=widths, n0=n0, outputs=outputs, act=act, param=param, sw2=sw2,
                    sw2_out=sw2_out, sb=sb, bias=bias, bias_out=bias_out, first_layer=first_layer)
        self.spec = Spec.of(spec, **keys) if spec is not None else Spec(**keys)
        out = ffi.new("ntk_net **")
        check(lib.ntk_net_alloc(self.spec.c, out))
        self._net = ffi.gc(out[0], lib.ntk_net_free)
        self.seed = seed
        if seed is not None:
            if int(seed) < 0:
                raise ValueError(f"seed must be >= 0, got {seed}")
            check(lib.ntk_net_init(self._net, int(seed)))
        self.depth = self.spec.keys["depth"]
        self.widths = list(self.spec.keys["widths"])
        self.n0 = self.spec.keys["n0"]
        self.outputs = self.spec.keys["outputs"]
        self.num_params = int(lib.ntk_net_num_params(self._net))
        self.params = view(self, lib.ntk_net_params(self._net), (self.num_params,))
        self.weights, self.biases = [], []
        lay = ffi.new("ntk_layer *")
        for l in range(1, self.depth + 2):
            check(lib.ntk_net_layer(self._net, l, lay))
            self.weights.append(view(self, lay.W, (lay.rows, lay.cols)))
            self.biases.append(None if lay.b == ffi.NULL else view(self, lay.b, (lay.rows,)))

    @classmethod
    def from_params(cls, path, **spec):
        """The network of a params.npz (`ntkdrift kernel --save-params`, `train`: W1 .. W{L+1} [n_l x
        n_{l-1}], b1 .. [n_l]).  depth, widths, n0 and outputs are read from the file's shapes unless
        given; bias defaults to "none" when the file has no b1 (else "zero"; "normal" and "zero" store
        the same arrays); the other keys (act, param, sw2, ...) must be given when they are not the
        defaults, as with `--load-params`.  The library checks every array (shape, finiteness, no bias
        where the spec has none: ntk_net_load_params) and its message is raised as NtkError."""
        path = os.fspath(path)
        if not os.path.exists(path):  # the library's message names the file (NtkIOError)
            return cls._load(path, spec)
        try:  # the shapes only; the library reads and checks the values
            with np.load(path) as z:
                names = set(z.files)
                W = []
                while f"W{len(W) + 1}" in names:
                    W.append(z[f"W{len(W) + 1}"].shape)
                has_b = "b1" in names
        except (OSError, ValueError):  # not an .npz numpy reads: the library says why (FormatError)
            return cls._load(path, spec)
        if W and all(len(s) == 2 for s in W):
            spec.setdefault("depth", len(W) - 1)
            if spec.get("widths") is None and spec.get("width") is None:
                spec["widths"] = [s[0] for s in W[:-1]]
            spec.setdefault("n0", W[0][1])
            spec.setdefault("outputs", W[-1][0])
            spec.setdefault("bias", "zero" if has_b else "none")
            if spec["depth"] == 0:
                spec.pop("widths", None)
        return cls._load(path, spec)

    @classmethod
    def _load(cls, path, spec):
        net = cls(seed=None, **spec)
        check(lib.ntk_net_load_params(net._net, os.fsencode(path)))
        net.seed = None
        return net

    def save_params(self, path):
        """Write params.npz (ntk_net_save_params: W1.., b1.. float64, atomically)."""
        check(lib.ntk_net_save_params(self._net, os.fsencode(os.fspath(path))))

    def freeze_gates(self):
        """Frozen gates (relu only; ntk_net_freeze_gates, docs/dynamics.md "Frozen gates"): each hidden
        unit's on/off state on each input is fixed at its value at the current parameters theta_g, so
        h_l = z_l(theta) o 1[z_l(theta_g) > 0]; forward, empirical_ntk and training are then the gated
        network's.  At theta = theta_g it is the relu network exactly.  Raises NtkError for other
        activations."""
        check(lib.ntk_net_freeze_gates(self._net))

    def thaw_gates(self):
        """Back to the plain activation."""
        lib.ntk_net_thaw_gates(self._net)

    @property
    def gates_frozen(self):
        return bool(lib.ntk_net_gates_frozen(self._net))

    @property
    def gate_params(self):
        """theta_g [P] (a copy), or None when the gates are live."""
        g = lib.ntk_net_gate_params(self._net)
        return None if g == ffi.NULL else np.frombuffer(ffi.buffer(g, 8 * self.num_params), np.float64).copy()

    def _changed(self):
        lib.ntk_net_params_changed(self._net)  # the views may have been written: refresh the float32 mirrors

    def forward(self, X):
        """f(X): X [N x n0] -> F [N x k] float64 (ntk_net_forward)."""
        X = as_f64(X, "X", 2, self.n0)
        F = np.empty((X.shape[0], self.outputs))
        if X.shape[0]:
            self._changed()
            check(lib.ntk_net_forward(self._net, X.shape[0], ptr(X), ptr(F)))
        return F

    __call__ = forward

    def copy(self):
        """A new network with the same spec and a copy of the parameters (and of frozen gates)."""
        net = Network(seed=None, spec=self.spec)
        g = self.gate_params
        if g is not None:
            net.params[:] = g
            net.freeze_gates()
        net.params[:] = self.params
        net.seed = self.seed
        return net

    def __repr__(self):
        keys = ", ".join(f"{a}={b!r}" for a, b in self.spec.keys.items() if a != "width")
        return f"Network({keys}, seed={self.seed!r})"


# ---------------------------------------------------------------------------------------- threads

def set_threads(n):
    """Threads of BLAS and the OpenMP regions for the whole process (0: leave as is; ntk_set_threads).
    Results do not depend on the count."""
    lib.ntk_set_threads(int(n))


def get_threads():
    """The current thread count (ntk_get_threads)."""
    return int(lib.ntk_get_threads())


# ------------------------------------------------------------------------------------------- data

DATA_KEYS = ("data", "n", "n0", "outputs", "data_seed", "n_eval", "eval_points", "eval_data", "target",
             "eval_target", "fourier_k", "target_modes", "target_amps", "target_phases", "target_basis",
             "target_partial", "noise", "noise_seed", "classes", "pixels", "fmnist_dir")


def _schedule(snaps, steps, sched, keep):
    """Snapshot steps: "every:K", "log:K" or a list of steps, as (long *, count); a parsed schedule is
    held by sched (the caller's ntk_train_schedule, cleared by the caller), a list by keep."""
    if isinstance(snaps, str):
        check(lib.ntk_train_schedule_parse(snaps.encode(), steps, sched))
        return sched.steps, sched.count
    arr = ffi.new("long[]", [int(s) for s in snaps])
    keep.append(arr)
    return arr, len(snaps)


def _data_opts(keep, kw, data_default, n_default, teacher=None):
    """ntk_data_opts from the CLI's data / train keys (cli/dataset.c's mapping), with every string and
    list kept alive in `keep`."""
    unknown = set(kw) - set(DATA_KEYS)
    if unknown:
        raise TypeError(f"unknown data key(s): {', '.join(sorted(unknown))} (data keys: {', '.join(DATA_KEYS)})")
    o = ffi.new("ntk_data_opts *", lib.ntk_data_defaults())

    def s(v):
        keep.append(cstr(v))
        return keep[-1]

    def arr(ctype, values):
        a = ffi.new(ctype + "[]", list(values))
        keep.append(a)
        return a, len(values)

    data = kw.get("data") or data_default
    o.data = s(os.fspath(data))
    n = kw.get("n")
    o.n = n_default if n is None else int(n)
    o.all_rows = int(n is None)
    if kw.get("n0") is not None:
        o.n0, o.n0_given = int(kw["n0"]), 1
    else:
        o.n0 = MODEL_DEFAULTS["n0"]
    o.outputs = int(kw.get("outputs") or 1)
    o.data_seed = int(kw.get("data_seed") or 0)
    o.n_eval = int(kw.get("n_eval") or 0)
    o.eval_points = s(kw.get("eval_points") or "uniform")
    if kw.get("eval_data") is not None:
        o.eval_data = s(os.fspath(kw["eval_data"]))
    o.target = s(os.fspath(kw.get("target") or "fourier"))
    if kw.get("eval_target") is not None:
        o.eval_target = s(os.fspath(kw["eval_target"]))
    o.fourier_k = int(kw.get("fourier_k") or 4)
    if kw.get("target_modes") is not None:
        o.modes, o.n_modes = arr("int", [int(v) for v in kw["target_modes"]])
    if kw.get("target_amps") is not None:
        o.amps, o.n_amps = arr("double", [float(v) for v in kw["target_amps"]])
    if kw.get("target_phases") is not None:
        o.phases, o.n_phases = arr("double", [float(v) for v in kw["target_phases"]])
    basis = kw.get("target_basis")
    if basis is not None:
        basis = [basis] if isinstance(basis, str) else list(basis)
        bad = [b for b in basis if b not in ("sin", "cos")]
        if bad:
            raise ValueError(f"target_basis: expected sin or cos, got {bad[0]!r}")
        o.cosine, o.n_cosine = arr("int", [int(b == "cos") for b in basis])
    o.partial = int(kw.get("target_partial") or 0)
    noise = kw.get("noise")
    o.noise = -1.0 if noise is None else max(float(noise), 0.0)
    o.noise_seed = int(kw.get("noise_seed") or 0)
    if kw.get("fmnist_dir") is not None:
        o.fmnist_dir = s(os.fspath(kw["fmnist_dir"]))
    if kw.get("classes") is not None:
        o.classes, o.n_classes = arr("int", [int(v) for v in kw["classes"]])
    pixels = kw.get("pixels") or "unit"
    if pixels not in ("unit", "standardize"):
        raise ValueError(f"pixels: expected unit or standardize, got {pixels!r}")
    o.pixels = lib.NTK_PIXELS_UNIT if pixels == "unit" else lib.NTK_PIXELS_STANDARDIZE
    if teacher is not None:
        o.teacher = teacher.c
    return o


def _dataset_dict(d, desc):
    n, m, n0, k = int(d.n_train), int(d.n_eval), int(d.n0), int(d.k)
    out = {"X_train": copy_out(d.X_train, (n, n0)), "Y_train": copy_out(d.Y_train, (n, k)),
           "X_eval": copy_out(d.X_eval, (m, n0)) if m else np.zeros((0, n0)),
           "Y_eval": copy_out(d.Y_eval, (m, k)) if m else np.zeros((0, k)),
           "gamma_train": copy_out(d.gamma_train, (n,)), "gamma_eval": copy_out(d.gamma_eval, (m,)) if m else None,
           "n0": n0, "k": k, "description": ffi.string(desc).decode()}
    for key, count in (("label_train", n), ("label_eval", m)):
        p = getattr(d, key)
        out[key] = None if p == ffi.NULL or not count else np.frombuffer(ffi.buffer(p, 4 * count), np.intc).copy()
    return out


def inputs(data="gaussian", n=None, n0=None, data_seed=0, **kw):
    """The input points of a data kind or file, as `ntkdrift kernel` / `limit` / `eval` read them
    (ntk_data_inputs; docs/data.md): X [N x n0] float64.

    data: gaussian | gaussian-raw | circle | circle-pos | circle-uniform | sphere | fmnist | PATH.npy |
    PATH.npz (member X) | PATH.csv.  n: points (default 128; a file: all rows unless given).  n0: the
    input dimension of gaussian and sphere data (default 16; for other data it must match if given).
    Other data keys (classes, pixels, fmnist_dir) as in docs/cli.md."""
    keep = []
    kw.update(data=data, n=n, n0=n0, data_seed=data_seed)
    o = _data_opts(keep, kw, "gaussian", 128)
    d = ffi.new("ntk_dataset *")
    desc = ffi.new("char[]", 512)
    try:
        check(lib.ntk_data_inputs(o, d, desc, 512))
        return copy_out(d.X_train, (int(d.n_train), int(d.n0)))
    finally:
        lib.ntk_dataset_clear(d)


def dataset(data="circle", n=None, **kw):
    """Training and evaluation sets with their targets, as `ntkdrift train` builds them
    (ntk_data_build; docs/data.md).  Returns a dict:
      X_train [N x n0], Y_train [N x k] (label noise included), X_eval [M x n0], Y_eval [M x k],
      gamma_train [N] / gamma_eval [M] (circle data, else None), label_train / label_eval (fmnist),
      n0, k, description.
    Keys: the data keys of docs/cli.md (data, n (default 64), n0, outputs, data_seed, n_eval,
    eval_points, eval_data, target, eval_target, fourier_k, target_modes, target_amps, target_phases,
    target_basis, target_partial, noise, noise_seed, classes, pixels, fmnist_dir) and, for the teacher
    target, the model keys of the teacher network (its n0 and outputs come from the data)."""
    model = {a: kw.pop(a) for a in list(kw) if a in MODEL_KEYS and a not in ("n0", "outputs")}
    keep = []
    kw.update(data=data, n=n)
    teacher = None
    if (kw.get("data") or "circle") != "fmnist":
        teacher = Spec(**model, n0=kw.get("n0"), outputs=kw.get("outputs"))
    o = _data_opts(keep, kw, "circle", 64, teacher)
    return _build(o)


def _build(o):
    d = ffi.new("ntk_dataset *")
    desc = ffi.new("char[]", 512)
    try:
        check(lib.ntk_data_build(o, d, desc, 512))
        return _dataset_dict(d, desc)
    finally:
        lib.ntk_dataset_clear(d)


# ---------------------------------------------------------------------------------------- kernels

class _Feats:
    """ntk_feats of N points, freed on exit (not left to the garbage collector: loops of calls keep
    their memory flat)."""

    def __init__(self, net, X, dt):
        self.net = net
        out = ffi.new("ntk_feats **")
        check(lib.ntk_feats_alloc(net._net, X.shape[0], dt, out))
        self.f = out[0]
        try:
            check(lib.ntk_feats_compute(net._net, self.f, ptr(X)))
        except BaseException:
            lib.ntk_feats_free(self.f)
            raise

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        lib.ntk_feats_free(self.f)
        self.f = None


def _relayout(Na, Nb, k, dt, ct, src):
    """(Na, k, Nb, k) -> (Na, Nb, k, k), the file layout of kernel.npz (ntk_kernel_relayout)."""
    dst = np.empty((Na, Nb, k, k), dtype=dt)
    check(lib.ntk_kernel_relayout(Na, Nb, k, ct, ptr(src, "void *"), ptr(dst, "void *")))
    return dst


def empirical_ntk(net, X, X2=None, per_layer=False, diag=False, dtype=None):
    """The empirical NTK of `net`, from per-layer Gram matrices (no Jacobian; docs/conventions.md).

    X: [N x n0], X2: [M x n0] or None.  float64 by default; dtype=np.float32 computes and returns
    float32 (kernel.npz's --dtype f32).  With k outputs the kernel carries two output indices in the
    layout of kernel.npz, entry [i, j, a, b] = K_ab(x_i, x_j):
      K         [N x N] (k = 1) or [N x N x k x k]                       ntk_kernel_full
      X2 given  [N x M] or [N x M x k x k]                                ntk_kernel_cross
      diag      [N] (k = 1) or [N x k x k], K(x_i, x_i) only, O(N P)     ntk_kernel_diag
    per_layer=True returns (K, K_layers) with K_layers [(L+1) x N x N (x k x k)], the terms of the
    weight layers l = 1 .. L+1 (they sum to K).  Inputs that are C-contiguous float64 are passed as
    they are; others are converted (np.ascontiguousarray).  The kernel is written by the library
    straight into the returned array (k = 1)."""
    if not isinstance(net, Network):
        raise TypeError(f"net: expected an ntkdrift.Network, got {type(net).__name__}")
    dt, ct = float_dtype(dtype)
    X = as_f64(X, "X", 2, net.n0)
    N, k, d = X.shape[0], net.outputs, net.depth + 1
    if N == 0:
        raise ValueError("X: no points (N = 0)")
    net._changed()
    if diag:
        if per_layer or X2 is not None:
            raise ValueError("diag=True computes K(x_i, x_i) of X alone: no per_layer, no X2")
        D = np.empty((N, k, k), dtype=dt)
        with _Feats(net, X, ct) as f:
            check(lib.ntk_kernel_diag(net._net, f, ptr(D, "void *")))
        return D.reshape(N) if k == 1 else D
    if X2 is not None:
        X2 = as_f64(X2, "X2", 2, net.n0)
        if X2.shape[0] == 0:
            raise ValueError("X2: no points (M = 0)")
    M = N if X2 is None else X2.shape[0]
    K = np.empty((N * k, M * k), dtype=dt)
    KL = np.empty((d, N * k, M * k), dtype=dt) if per_layer else None
    with _Feats(net, X, ct) as fa:
        if X2 is None:
            check(lib.ntk_kernel_full(net._net, fa, ptr(K, "void *"), ptr(KL, "void *")))
        else:
            with _Feats(net, X2, ct) as fb:
                check(lib.ntk_kernel_cross(net._net, fa, fb, ptr(K, "void *"), ptr(KL, "void *")))
    if k > 1:
        K = _relayout(N, M, k, dt, ct, K)
        if per_layer:
            KL = np.stack([_relayout(N, M, k, dt, ct, KL[l]) for l in range(d)])
    if per_layer:
        return K, KL
    return K


LIMIT_KINDS = ("ntk", "nngp", "ntk_normalized")


def limit_kernel(spec, X, X2=None, kind="ntk", per_layer=False, series=True):
    """The infinite-width kernel of a spec (widths -> infinity; docs/limits.md), float64, one scalar
    kernel per output (the k-output limit is K (x) I_k).

    spec: a Network, a Spec or a dict of model keys (n0 defaults to X's columns).  X: [N x n0], X2:
    [M x n0] or None.  kind: "ntk", "nngp" or "ntk_normalized" (standard parameterization: ntk / mean
    hidden width).  Returns K [N x N] (or [N x M]); per_layer=True (kind "ntk") returns (K,
    K_layers) with K_layers [(L+1) x N x N], summing to K.  X2 None: ntk_limit_full (limit.npz's
    numbers), else ntk_limit_cross.  series=False (tanh, gelu, sigmoid on unequal norms): every pair by
    the 2-D quadrature instead of the Hermite series (ntk_limit_opts.no_series; the same kernel to the
    quadrature's accuracy, and the method before the series: for comparisons)."""
    if kind not in LIMIT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LIMIT_KINDS)}, got {kind!r}")
    if per_layer and kind != "ntk":
        raise ValueError("per_layer=True gives the per-layer terms of the NTK (kind='ntk')")
    X = np.asarray(X)
    if isinstance(spec, dict) and spec.get("n0") is None and X.ndim == 2:
        spec = dict(spec, n0=X.shape[1])
    sp = Spec.of(spec)
    X = as_f64(X, "X", 2, sp.keys["n0"])
    N = X.shape[0]
    X2 = None if X2 is None else as_f64(X2, "X2", 2, sp.keys["n0"])
    M = N if X2 is None else X2.shape[0]
    if N == 0 or M == 0:
        raise ValueError("X, X2: no points")
    out = {kk: None for kk in LIMIT_KINDS}
    out[kind] = np.empty((N, M))
    KL = np.empty((sp.keys["depth"] + 1, N, M)) if per_layer else None
    opts = ffi.NULL
    if not series:
        opts = ffi.new("ntk_limit_opts *")
        opts.no_series = 1
    if X2 is None:
        check(lib.ntk_limit_full(sp.c, opts, N, ptr(X), ptr(out["nngp"]), ptr(out["ntk"]),
                                 ptr(out["ntk_normalized"]), ptr(KL)))
    else:
        check(lib.ntk_limit_cross(sp.c, opts, N, ptr(X), M, ptr(X2), ptr(out["nngp"]), ptr(out["ntk"]),
                                  ptr(out["ntk_normalized"]), ptr(KL)))
    return (out[kind], KL) if per_layer else out[kind]
