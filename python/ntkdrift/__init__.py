"""ntkdrift -- empirical and infinite-width Neural Tangent Kernels of fully-connected networks,
tracked training and ensembles over initialisations, from Python, at the C library's speed.

The package calls libntkdrift.so (the library behind the `ntkdrift` command; include/ntkdrift.h)
through cffi.  For the same settings and seeds it returns the same numbers as the CLI's files, bit
for bit.  docs/python.md is the full guide; docs/conventions.md the network and kernel conventions.

    import numpy as np, ntkdrift as nd
    X = nd.inputs(data="circle", n=64)                    # [64 x 2], as `ntkdrift kernel --data circle`
    net = nd.Network(depth=2, width=256, n0=2, seed=3)    # the CLI's model keys and defaults
    K = nd.empirical_ntk(net, X)                          # [64 x 64] float64, = kernel.npz K
    K_inf = nd.limit_kernel(net, X)                       # [64 x 64] the infinite-width NTK
    run = nd.train(data="circle", n=32, depth=2, width=128, steps=200, snapshots="every:50",
                   callback=lambda s: print(s.step, s.metrics["drift_fro"]))
    cell = nd.ensemble(depths=[3], widths=[64], members=200, n0=8, angle=60)
    r = nd.load_run("results/train/latest")               # any run directory of the CLI

Functions (shapes in each docstring; row-major numpy arrays):

  Network(depth=3, width=256, ..., seed=0)  a network: .forward(X), .params / .weights / .biases
                                    (numpy views of the library's parameters), .save_params(path)
  Network.from_params(path, **spec) a network from a params.npz (--save-params, train)
  empirical_ntk(net, X, X2=None, per_layer=False, diag=False, dtype=np.float64)
                                    K [N x N] (k = 1) or [N x N x k x k]; cross, diagonal, per layer
  limit_kernel(spec, X, X2=None, kind="ntk" | "nngp" | "ntk_normalized", per_layer=False)
                                    the infinite-width kernel [N x N]
  train(X=None, Y=None, ..., callback=None, **keys)
                                    gradient descent with the kernel tracked; snapshots streamed to
                                    callback; returns metrics, snapshots, trajectory, final net
  ensemble(depths, widths, **keys)  ensemble cells: per-member samples and statistics (R, ...)
  probes(n0, s, angle, data_seed)   the ensemble's probe inputs x, x'
  inputs(data=..., n=..., ...)      the input points of a data kind or file [N x n0]
  dataset(data=..., n=..., ...)     training and evaluation sets with targets (as `ntkdrift train`)
  load_run(path)                    a run directory: manifest, config, tables (csv), arrays (npz/npy)
  kgd(kernel, data=..., **keys)     operator gradient descent on a kernel source with the residual's
                                    Fourier and eigenvector projections per snapshot (docs/modes.md)
  fourier_project(gamma, r, K)      coefficients and plane masses of r on the Fourier basis
  circulant_eigenvalues(row)        eigenvalues of a circulant kernel operator, by FFT
  modes_cell(kernel, **keys)        a finite kernel on circle data against the continuum (lemma objects,
                                    eigenspaces against the Fourier planes, leakage)
  seed_spectra(S, tau)              seed-mean spectra of a group of runs
  concentration(kind, ...)          the concentration Monte Carlo (finite width or finite sample)
  set_threads(n), get_threads()     BLAS / OpenMP threads of the process

Keyword arguments are the CLI's configuration keys without their section (docs/cli.md: depth,
width, act, data, n, data_seed, steps, lr_frac, snapshots, members, angle, ...) with the same
defaults: `train` uses `ntkdrift train`'s (data circle, n 64), `inputs` `ntkdrift kernel`'s.

Conventions (as numpy's): float64 by default, float32 on request (dtype=np.float32, kernels);
C-contiguous float64 inputs are passed to the library without a copy, other arrays are converted
with np.ascontiguousarray; outputs are new numpy arrays the library writes into.  Kernels of k > 1
outputs use kernel.npz's layout, [i, j, a, b] = K_ab(x_i, x_j).

Errors: a library failure raises NtkError (or a subclass by status: InvalidArgumentError,
NtkMemoryError, NtkIOError, FormatError, NumericError) whose message is the library's
ntk_last_error(); the interpreter never exits.  Shapes are checked in Python first (ValueError).

Threads and the GIL: every library call releases the GIL (cffi does so for each call), so other
Python threads run during a long kernel or training call; training callbacks take it back.

The library: NTKDRIFT_LIB if set, else the installed copy beside this package (cmake --install),
else the build tree (build/ in the source tree), else the system's search path (libntkdrift.so.0).
__version__ is the library's version (ntk_version()); lib_path where it was loaded from.
"""
from ._lib import (LIB_PATH as lib_path, VERSION as __version__, FormatError, InvalidArgumentError, NtkError,
                   NtkIOError, NtkMemoryError, NumericError)
from ._core import (MODEL_DEFAULTS, Network, Spec, dataset, empirical_ntk, get_threads, inputs, limit_kernel,
                    set_threads)
from ._train import TRAIN_DEFAULTS, Snapshot, TrainResult, train
from ._ensemble import ENSEMBLE_DEFAULTS, ensemble, probes
from ._runs import Run, load_run, read_csv
from ._ops import KGD_DEFAULTS, circulant_eigenvalues, concentration, fourier_project, kgd, modes_cell, seed_spectra

__all__ = ["Network", "Spec", "empirical_ntk", "limit_kernel", "train", "ensemble", "probes", "inputs", "dataset",
           "load_run", "read_csv", "Run", "TrainResult", "Snapshot", "set_threads", "get_threads", "NtkError",
           "InvalidArgumentError", "NtkMemoryError", "NtkIOError", "FormatError", "NumericError", "MODEL_DEFAULTS",
           "TRAIN_DEFAULTS", "ENSEMBLE_DEFAULTS", "__version__", "lib_path", "kgd", "fourier_project",
           "circulant_eigenvalues", "KGD_DEFAULTS", "modes_cell", "seed_spectra", "concentration"]
