#!/usr/bin/python3
"""torch_ntk.py -- the PyTorch peer of ntkdrift's empirical NTK and of its training loop.

The network is ntkdrift's MLP (docs/conventions.md), scalar output, written again here in PyTorch:
    h^0 = x,   z^l = c_w^l W^l h^{l-1} + c_b^l b^l   (l = 1 .. L+1),   h^l = phi(z^l) (l <= L),   f = z^{L+1}
    ntk:      c_w^l = sqrt(s_l / fan_l), c_b^l = sb;   W, b stored N(0, 1) (b = 0 with --bias zero)
    standard: c_w^l = c_b^l = 1;                       W ~ N(0, s_l / fan_l), b ~ N(0, sb^2)
s_l = --sw2 on hidden layers and --sw2-out on the readout (default: --sw2, i.e. sw2 on every layer,
the benchmarks' network); fan_l = n_{l-1} (1 for layer 1 with --first-layer none). Biases: --bias for
the hidden layers, --bias-out for the readout (default: as --bias); `none` means no bias parameter.

Empirical NTK  K_ij = sum_theta df(x_i)/dtheta df(x_j)/dtheta  (N x N), --method:
    structured  per-layer Grams, no autograd:  K = sum_l (c_w^2 H^{l-1} H^{l-1}T + c_b^2 [bias]) o (D^l D^lT),
                H^l the N x n_l activations, D^l = df/dz^l the per-example backprop deltas (D^{L+1} = 1),
                D^l = (c_w^{l+1} D^{l+1} W^{l+1}) o phi'(Z^l); the products go to the same OpenBLAS.
    jac         the full Jacobian J (N x P) by vmap(jacrev) (torch.func, or functorch on PyTorch 1.x;
                a per-example autograd loop where neither exists), K = sum over parameter blocks J_b J_bT.
    loop        the per-example autograd loop itself (torch.autograd.grad for each x_i), K = J JT.

Problem: with --load-params PATH the parameters come from ntkdrift's params.npz (arrays W1.., b1..,
`ntkdrift kernel --save-params`) or from a directory of W<l>.npy, b<l>.npy, X.npy, y.npy; the inputs
from --inputs (X.npy, or an .npz with key X such as ntkdrift's kernel.npz), else the directory's X.npy,
else the seed. From the seed (float64, then cast to --dtype): the parameters from torch.Generator(seed)
in the order W1 [b1] W2 [b2] ..., the N x n0 inputs from torch.Generator(seed + 1) as Gaussian rows
rescaled to norm sqrt(n0), the targets y from torch.Generator(seed + 2), N(0, 1).

--save-params writes the parameters (float64) as ntkdrift's params.npz when the path ends in .npz
(`ntkdrift kernel --load-params` reads it), else W<l>.npy, b<l>.npy, X.npy, y.npy into a directory.

Output: one JSON line (the configuration, P, times_s: every timed call after --warmup untimed ones,
at least --repeat calls and at least --min-time seconds; time_s: their median; trace, fro, sum of K;
peak_rss_mb; the BLAS core); --save K.npy writes K in --dtype.
--train T: T full-batch gradient-descent steps theta <- theta - lr grad L on the --loss of
docs/conventions.md (mean: L = 1/(2N) sum_i (f_i - y_i)^2; sum; mse), each step one forward, one
autograd backward and the update, timed alone: sec_per_step (median), sec_per_step_mean, loss_0,
loss_T, and rel_kernel_change ||K_T - K_0||_F / ||K_0||_F by --method (unless --no-kernel).
--save-train F.npz writes f_0, f_T, y, X, K_0 (if computed) and the parameters after training
(W<l>, b<l>).

usage (Debian's /usr/bin/python3 with python3-torch; bench/README.md, "Peers"):
    torch_ntk.py --depth 10 --width 512 --n0 64 --n 512 --method structured --repeat 3
    torch_ntk.py --depth 2 --width 16 --n0 4 --n 8 --load-params RUN/params.npz --inputs RUN/kernel.npz \\
                 --sw2 2 --sw2-out 1 --bias normal --method jac --save K.npy
    torch_ntk.py --depth 1 --width 1024 --n0 2 --n 256 --train 100 --lr 0.1 --no-kernel
Threads: torch.set_num_threads(--threads) and openblas_set_num_threads(--threads) on the OpenBLAS that
torch loaded. OMP_WAIT_POLICY is PASSIVE unless --omp-default-wait (libgomp's spinning threads
otherwise compete with OpenBLAS's own for the cores).
"""
import argparse
import contextlib
import ctypes
import json
import math
import os
import resource
import statistics
import sys
import time

if "--omp-default-wait" not in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when libgomp starts (import torch)
import numpy as np
import torch

try:  # PyTorch >= 2.0
    from torch.func import jacrev as _jacrev, vmap as _vmap
    JAC_IMPL = "torch.func.vmap(jacrev)"
except ImportError:
    try:  # PyTorch 1.13 ships functorch separately
        from functorch import jacrev as _jacrev, vmap as _vmap
        JAC_IMPL = "functorch.vmap(jacrev)"
    except ImportError:
        _jacrev = _vmap = None
        JAC_IMPL = "autograd loop"

SQRT_2PI = math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------- activations: phi and phi'

def _gelu(z):
    return z * 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))


def _gelu_d(z):
    return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0))) + z * torch.exp(-0.5 * z * z) / SQRT_2PI


def _sigmoid_d(z):
    s = torch.sigmoid(z)
    return s * (1.0 - s)


ACTIVATIONS = {  # name -> (phi, phi'); relu'(0) = 0 as in docs/conventions.md
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
    "erf": (torch.erf, lambda z: (2.0 / math.sqrt(math.pi)) * torch.exp(-z * z)),
    "tanh": (torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2),
    "gelu": (_gelu, _gelu_d),
    "identity": (lambda z: z, torch.ones_like),
    "sigmoid": (torch.sigmoid, _sigmoid_d),
}


# ---------------------------------------------------------------- the network

class Mlp:
    """Widths, multipliers and bias layout of the network of the flags; parameters are a flat list
    (W1 [b1] W2 [b2] ...), slot[l] = (index of W^l, index of b^l or None)."""

    def __init__(self, a):
        self.widths = [a.n0] + [a.width] * a.depth + [1]
        self.d = a.depth + 1  # weight layers
        self.phi, self.dphi = ACTIVATIONS[a.act]
        self.cw, self.cb, self.has_b, self.slot, self.init_std = [], [], [], [], []
        k = 0
        for l in range(1, self.d + 1):
            s = a.sw2_out if l == self.d else a.sw2
            fan = 1.0 if (l == 1 and a.first_layer == "none") else float(self.widths[l - 1])
            bias = a.bias_out if l == self.d else a.bias
            if a.param == "ntk":
                self.cw.append(math.sqrt(s / fan))
                self.cb.append(a.sb)
                self.init_std.append((1.0, 1.0))
            else:
                self.cw.append(1.0)
                self.cb.append(1.0)
                self.init_std.append((math.sqrt(s / fan), a.sb))
            self.has_b.append(bias != "none")
            self.slot.append((k, k + 1 if bias != "none" else None))
            k += 2 if bias != "none" else 1
        self.bias_kind = [a.bias_out if l == self.d else a.bias for l in range(1, self.d + 1)]

    def shapes(self):
        out = []
        for l in range(1, self.d + 1):
            out.append((f"W{l}", (self.widths[l], self.widths[l - 1])))
            if self.has_b[l - 1]:
                out.append((f"b{l}", (self.widths[l],)))
        return out

    def pre(self, p, l, h):
        """z^l (N x n_l) from h^{l-1} (N x n_{l-1}); l is 1-based."""
        iw, ib = self.slot[l - 1]
        z = self.cw[l - 1] * (h @ p[iw].T)
        if ib is not None:
            z = z + self.cb[l - 1] * p[ib]
        return z

    def f(self, p, X):
        """Outputs (N,) for inputs X (N x n0)."""
        h = X
        for l in range(1, self.d + 1):
            z = self.pre(p, l, h)
            h = self.phi(z) if l < self.d else z
        return h[:, 0]


def random_problem(net, a):
    """Parameters (float64, the order of net.shapes()), X (N x n0), y (N,) from the seed."""
    g = torch.Generator().manual_seed(a.seed)
    p = []
    for l in range(1, net.d + 1):
        sw, sb = net.init_std[l - 1]
        p.append(sw * torch.randn(net.widths[l], net.widths[l - 1], generator=g, dtype=torch.float64))
        if net.has_b[l - 1]:
            b = torch.randn(net.widths[l], generator=g, dtype=torch.float64)
            p.append(torch.zeros_like(b) if net.bias_kind[l - 1] == "zero" else sb * b)
    X = torch.randn(a.n, a.n0, generator=torch.Generator().manual_seed(a.seed + 1), dtype=torch.float64)
    X = X * (math.sqrt(a.n0) / X.norm(dim=1, keepdim=True))
    y = torch.randn(a.n, generator=torch.Generator().manual_seed(a.seed + 2), dtype=torch.float64)
    return p, X, y


def _array(path, key):
    """A float64 array from PATH (.npy, or key in an .npz)."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            if key not in z.files:
                sys.exit(f"torch_ntk.py: {path} has no array {key!r} (it has {', '.join(z.files)})")
            return np.array(z[key], dtype=np.float64)
    return np.load(path).astype(np.float64)


def _stored_arrays(src):
    """name -> array of ntkdrift's params.npz, or of the <name>.npy files in a directory."""
    if os.path.isdir(src):
        return {f[:-4]: np.load(os.path.join(src, f)) for f in os.listdir(src) if f.endswith(".npy")}
    with np.load(src) as z:
        return {k: z[k] for k in z.files}


def load_problem(net, a, seeded):
    """Replace the seed's parameters / inputs / targets by files where given."""
    p, X, y = seeded
    if a.load_params:
        src, stored = a.load_params, _stored_arrays(a.load_params)
        want = dict(net.shapes())
        p = []
        for name, shape in want.items():
            if name not in stored:
                sys.exit(f"torch_ntk.py: {src} has no {name} (check --depth, --bias, --bias-out)")
            if tuple(stored[name].shape) != shape:
                sys.exit(f"torch_ntk.py: {name} in {src} has shape {stored[name].shape}, the flags give {shape}")
            p.append(torch.from_numpy(np.array(stored[name], dtype=np.float64)))
        extra = sorted(n for n in stored if n[0] in "Wb" and n[1:].isdigit() and n not in want)
        if extra:
            sys.exit(f"torch_ntk.py: {src} holds {', '.join(extra)}, which the flags' network does not have")
        if os.path.isdir(src):  # the directory layout may carry the data too
            if "X" in stored and not a.inputs:
                X = torch.from_numpy(np.array(stored["X"], dtype=np.float64))
            if "y" in stored and not a.targets:
                y = torch.from_numpy(np.array(stored["y"], dtype=np.float64))
    if a.inputs:
        X = torch.from_numpy(_array(a.inputs, "X"))
    if a.targets:
        y = torch.from_numpy(_array(a.targets, "y")).reshape(-1)
    if tuple(X.shape) != (a.n, a.n0):
        sys.exit(f"torch_ntk.py: inputs have shape {tuple(X.shape)}, the flags give ({a.n}, {a.n0})")
    if tuple(y.shape) != (a.n,):
        sys.exit(f"torch_ntk.py: targets have shape {tuple(y.shape)}, the flags give ({a.n},)")
    return p, X, y


# ---------------------------------------------------------------- kernels

def kernel_structured(net, p, X):
    """K (N x N) by the per-layer formula of the docstring."""
    N = X.shape[0]
    H, dZ, h = [X], [], X
    for l in range(1, net.d):  # hidden layers: keep h^{l-1} and phi'(z^l)
        z = net.pre(p, l, h)
        dZ.append(net.dphi(z))
        h = net.phi(z)
        H.append(h)
    K = torch.zeros(N, N, dtype=X.dtype)
    delta = None
    for l in range(net.d, 0, -1):
        G = H[l - 1] @ H[l - 1].T
        G.mul_(net.cw[l - 1] ** 2)
        if net.has_b[l - 1]:
            G.add_(net.cb[l - 1] ** 2)
        if l < net.d:  # delta^l = c_w^{l+1} (delta^{l+1} W^{l+1}) o phi'(z^l); delta^{L+1} = 1
            W = p[net.slot[l][0]]
            back = W[0] if delta is None else delta @ W  # (n_l,) broadcast over N, or N x n_l
            delta = net.cw[l] * back * dZ[l - 1]
            G.mul_(delta @ delta.T)
        K.add_(G)
    return K


def _jacobian_loop(net, p, X):
    """J (N x P) row by row with torch.autograd.grad."""
    q = [t.detach().requires_grad_(True) for t in p]
    J = torch.empty(X.shape[0], sum(t.numel() for t in q), dtype=X.dtype)
    for i in range(X.shape[0]):
        g = torch.autograd.grad(net.f(q, X[i:i + 1])[0], q)
        J[i] = torch.cat([t.reshape(-1) for t in g])
    return J


def kernel_loop(net, p, X):
    J = _jacobian_loop(net, p, X)
    return J @ J.T


def kernel_jac(net, p, X):
    """K = sum over parameter blocks of J_b J_b^T, J_b = d f / d theta_b for all N inputs at once."""
    if _vmap is None:
        return kernel_loop(net, p, X)
    one = lambda params, x: net.f(list(params), x[None, :])[0]
    blocks = _vmap(_jacrev(one), in_dims=(None, 0))(tuple(p), X)  # tuple of (N, *shape of theta_b)
    K = None
    for Jb in blocks:
        Jb = Jb.reshape(X.shape[0], -1)
        K = Jb @ Jb.T if K is None else K.add_(Jb @ Jb.T)
    return K


METHODS = {"structured": kernel_structured, "jac": kernel_jac, "loop": kernel_loop}
LOSS_C = {"mean": lambda n: 1.0 / n, "sum": lambda n: 1.0, "mse": lambda n: 2.0 / n}  # L = c/2 sum (f-y)^2


# ---------------------------------------------------------------- running

def blas_threads(t):
    """openblas_set_num_threads(t) on the OpenBLAS this process loaded; returns its core name."""
    path = "libopenblas.so.0"
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                name = line.split()[-1]
                if "openblas" in os.path.basename(name) and name.startswith("/"):
                    path = name
                    break
        lib = ctypes.CDLL(path)
        lib.openblas_set_num_threads(int(t))
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "unknown"


def timed(fn, a):
    for _ in range(a.warmup):
        fn()
    times, out = [], None
    while len(times) < a.repeat or sum(times) < a.min_time:
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def train(net, p, X, y, a, rec):
    """--train T: full-batch GD on --loss; fills rec, returns (K_T or None, what --save-train writes)."""
    kern = METHODS[a.method]
    K0 = None if a.no_kernel else kern(net, p, X)
    q = [t.clone().requires_grad_(True) for t in p]
    c = LOSS_C[a.loss](X.shape[0])
    loss = lambda: 0.5 * c * ((net.f(q, X) - y) ** 2).sum()
    with torch.no_grad():
        f0 = net.f(q, X)
        rec["loss_0"] = loss().item()
    times = []
    for _ in range(a.train):
        t0 = time.perf_counter()
        grads = torch.autograd.grad(loss(), q)
        with torch.no_grad():
            for t, g in zip(q, grads):
                t.sub_(a.lr * g)
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        fT = net.f(q, X)
        rec["loss_T"] = loss().item()
    pT = [t.detach() for t in q]
    KT = None
    rec.update(train_steps=a.train, lr=a.lr, loss=a.loss, sec_per_step=statistics.median(times),
               sec_per_step_mean=sum(times) / len(times))
    if K0 is not None:
        KT = kern(net, pT, X)
        rec["rel_kernel_change"] = ((KT - K0).norm() / K0.norm()).item()
    saved = dict(f_0=f0.numpy(), f_T=fT.numpy(), y=y.numpy(), X=X.numpy())
    if K0 is not None:
        saved["K_0"] = K0.numpy()
    for (name, _), t in zip(net.shapes(), pT):
        saved[name] = t.numpy()
    return KT, saved


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=3, help="hidden layers L (default 3)")
    ap.add_argument("--width", type=int, default=256, help="hidden width (default 256)")
    ap.add_argument("--n0", type=int, default=64, help="input dimension (default 64)")
    ap.add_argument("--n", type=int, default=256, help="number of inputs N (default 256)")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--method", choices=list(METHODS), default="structured")
    ap.add_argument("--act", choices=list(ACTIVATIONS), default="relu")
    ap.add_argument("--param", choices=["ntk", "standard"], default="ntk")
    ap.add_argument("--sw2", type=float, default=2.0, help="sigma_w^2 of the hidden layers (default 2)")
    ap.add_argument("--sw2-out", type=float, default=None, help="sigma_w^2 of the readout (default: --sw2)")
    ap.add_argument("--sb", type=float, default=1.0, help="bias multiplier c_b (ntk) / bias std (standard)")
    ap.add_argument("--bias", choices=["none", "normal", "zero"], default="none")
    ap.add_argument("--bias-out", choices=["none", "normal", "zero"], default=None, help="default: --bias")
    ap.add_argument("--first-layer", choices=["fan_in", "none"], default="fan_in")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--load-params", metavar="PATH", help="params.npz (W1.., b1..) or a directory of W<l>.npy ...")
    ap.add_argument("--inputs", metavar="PATH", help="X: an .npy, or an .npz with key X (kernel.npz)")
    ap.add_argument("--targets", metavar="PATH", help="y: an .npy, or an .npz with key y")
    ap.add_argument("--save", metavar="K.npy", help="write K (in --dtype)")
    ap.add_argument("--save-params", metavar="DIR|F.npz",
                    help="write W<l>.npy, b<l>.npy, X.npy, y.npy into DIR, or ntkdrift's params.npz layout (float64)")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls, at least (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls first (default 1)")
    ap.add_argument("--min-time", type=float, default=0.0, help="repeat until the timed calls sum to this (s)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--omp-default-wait", action="store_true", help="leave OMP_WAIT_POLICY as it is")
    ap.add_argument("--train", type=int, default=0, metavar="T", help="T full-batch GD steps instead of timing K")
    ap.add_argument("--lr", type=float, default=0.1, help="GD learning rate on --loss (default 0.1)")
    ap.add_argument("--loss", choices=list(LOSS_C), default="mean")
    ap.add_argument("--no-kernel", action="store_true", help="--train: no K_0, K_T (the step loop alone)")
    ap.add_argument("--save-train", metavar="F.npz", help="--train: f_0, f_T, y, X, K_0, parameters after")
    a = ap.parse_args(argv)
    if min(a.depth + 1, a.width, a.n0, a.n, a.repeat, a.threads) < 1 or a.warmup < 0 or a.train < 0:
        ap.error("--depth >= 0, --width, --n0, --n, --repeat, --threads >= 1, --warmup, --train >= 0")
    if a.sw2 <= 0 or (a.sw2_out is not None and a.sw2_out <= 0) or a.sb < 0:
        ap.error("--sw2, --sw2-out > 0 and --sb >= 0")
    a.sw2_out = a.sw2 if a.sw2_out is None else a.sw2_out
    a.bias_out = a.bias if a.bias_out is None else a.bias_out
    if a.param == "ntk" and a.sb == 0 and (a.bias != "none" or a.bias_out != "none"):
        ap.error("--sb 0 with a trainable bias (use --bias none)")
    if a.save_train and not a.train:
        ap.error("--save-train needs --train")
    return a


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(a.threads)
    core = blas_threads(a.threads)
    net = Mlp(a)
    p64, X64, y64 = load_problem(net, a, random_problem(net, a))
    if a.save_params and a.save_params.endswith(".npz"):  # ntkdrift's params.npz: W1 [b1] W2 ...
        np.savez(a.save_params, **{name: t.numpy() for (name, _), t in zip(net.shapes(), p64)})
    elif a.save_params:
        os.makedirs(a.save_params, exist_ok=True)
        for (name, _), t in zip(net.shapes(), p64):
            np.save(os.path.join(a.save_params, name + ".npy"), t.numpy())
        np.save(os.path.join(a.save_params, "X.npy"), X64.numpy())
        np.save(os.path.join(a.save_params, "y.npy"), y64.numpy())
    dt = getattr(torch, a.dtype)
    p, X, y = [t.to(dt) for t in p64], X64.to(dt), y64.to(dt)
    rec = dict(peer="torch_ntk.py", depth=a.depth, width=a.width, n0=a.n0, N=a.n,
               P=sum(t.numel() for t in p), dtype=a.dtype, method=a.method, act=a.act, param=a.param,
               sw2=a.sw2, sw2_out=a.sw2_out, sb=a.sb, bias=a.bias, bias_out=a.bias_out,
               first_layer=a.first_layer, loaded=bool(a.load_params),
               jac_impl=JAC_IMPL if a.method == "jac" else None, threads=torch.get_num_threads(),
               blas_core=core, torch=torch.__version__,
               omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"))
    kern = METHODS[a.method]
    if a.train:
        K, saved = train(net, p, X, y, a, rec)
        if a.save_train:
            np.savez(a.save_train, **saved)
    else:
        with torch.no_grad() if a.method == "structured" else contextlib.nullcontext():
            K, times = timed(lambda: kern(net, p, X), a)
        rec.update(time_s=statistics.median(times), times_s=[round(t, 6) for t in times], repeat=len(times))
    if K is not None:
        K = K.detach()
        rec.update(trace=K.trace().item(), fro=K.norm().item(), sum=K.sum().item())
        if a.save:
            np.save(a.save, K.numpy())
    rec["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
