#!/usr/bin/python3
"""bench_kgd.py -- operator gradient descent on the circle (docs/modes.md): the library's FFT path
against its dense path and against numpy implementations of the same problem (dense: A @ r per step;
FFT: the step in numpy.fft's spectrum), in one run, printing times and ratios.

Problem: Theta_bias on the equispaced grid of n points, target sin(g) + sin(2g) + ... (the train
command's fourier target), zero init, eta = 0.05 / lambda_max, T steps, K Fourier modes, snapshots at
0 and T.  Every pair of results is also compared (max |u - u_ref| / max |y|).

usage: bench_kgd.py [--quick] [--threads N]
  default: dense and numpy-dense at n = 1024, 2048 (T = 2000); FFT at those n and at n = 2^20, K = 32,
           T = 2000 (the issue's target: under 30 s on 2 cores); numpy-FFT beside each FFT run.
  --quick: n = 256 and 2^14 only, T = 200."""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import ntkdrift as nd  # noqa: E402


def theta_bias(d):
    k0 = (np.sin(d) + (np.pi - d) * np.cos(d)) / (2 * np.pi)
    return k0 + (1 + np.cos(d)) * (np.pi - d) / (2 * np.pi)


def grid(n):
    data = nd.dataset(data="circle", n=n, n0=2, target="fourier")
    return data["gamma_train"], data["Y_train"][:, 0]


def numpy_dense(n, T):
    g, y = grid(n)
    d = np.abs(g[:, None] - g[None, :]) % (2 * np.pi)
    t0 = time.perf_counter()
    A = theta_bias(np.minimum(d, 2 * np.pi - d)) / n
    eta = 0.05 / np.linalg.eigvalsh(A)[-1]
    u = np.zeros(n)
    for _ in range(T):
        u -= eta * (A @ (u - y))
    return time.perf_counter() - t0, u, y


def numpy_fft(n, T):
    g, y = grid(n)
    t0 = time.perf_counter()
    j = np.arange(n)
    row = theta_bias(2 * np.pi * np.minimum(j, n - j) / n)
    mu = np.fft.rfft(row).real / n
    eta = 0.05 / mu.max()
    U, Y = np.zeros(n // 2 + 1, complex), np.fft.rfft(y)
    for _ in range(T):
        U -= eta * mu * (U - Y)
    u = np.fft.irfft(U, n)
    return time.perf_counter() - t0, u, y


def library(n, T, K, fft):
    t0 = time.perf_counter()
    r = nd.kgd("theta_bias", data="circle", n=n, target="fourier", steps=T, kmax=K, top_k=0, snapshots=[0, T],
               fft=fft)
    return time.perf_counter() - t0, r["u"][-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    nd.set_threads(a.threads)
    T = 200 if a.quick else 2000
    dense_ns = [256] if a.quick else [1024, 2048]
    fft_ns = [256, 1 << 14] if a.quick else [1024, 2048, 1 << 20]
    print(f"operator GD, Theta_bias on the grid, T = {T} steps, {a.threads} threads (library {nd.__version__})")
    print(f"{'n':>8} {'path':<14} {'seconds':>9} {'vs library':>11} {'max|du|/max|y|':>15}")
    for n in dense_ns:
        tl, ul = library(n, T, 8, False)
        tf, uf = library(n, T, 8, True)
        tn, un, y = numpy_dense(n, T)
        s = np.max(np.abs(y))
        print(f"{n:>8} {'lib dense':<14} {tl:>9.3f} {1:>11.2f} {0:>15.1e}")
        print(f"{n:>8} {'numpy dense':<14} {tn:>9.3f} {tn / tl:>11.2f} {np.max(np.abs(un - ul)) / s:>15.1e}")
        print(f"{n:>8} {'lib FFT':<14} {tf:>9.3f} {tf / tl:>11.2f} {np.max(np.abs(uf - ul)) / s:>15.1e}")
    for n in fft_ns:
        K = 32 if n >= 1 << 20 else 8
        tf, uf = library(n, T, K, True)
        tn, un, y = numpy_fft(n, T)
        s = np.max(np.abs(y))
        print(f"{n:>8} {'lib FFT K=' + str(K):<14} {tf:>9.3f} {1:>11.2f} {0:>15.1e}")
        print(f"{n:>8} {'numpy FFT':<14} {tn:>9.3f} {tn / tf:>11.2f} {np.max(np.abs(un - uf)) / s:>15.1e}")


if __name__ == "__main__":
    main()
