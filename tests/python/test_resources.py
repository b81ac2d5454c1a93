"""Memory and threads: 1000 empirical_ntk calls on fresh arrays leave the resident set bounded, and a
second Python thread runs while a long library call computes (cffi releases the GIL for every call)."""
import os
import threading
import time

import numpy as np

import ntkdrift as nd

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE  # resident pages


def test_rss_bounded_over_1000_calls():
    """Each call allocates feats (~130 KB here: activations and backprop vectors of 32 points through
    two layers of 128) and the returned kernel (8 KB, 65 KB per layer with per_layer), and frees them
    (the feats explicitly, the arrays with their last reference).  A leak of even the smallest of
    these per call would grow the RSS by >= 8 MB over 1000 calls; the bound, 4 MB over the level
    after 100 warm-up calls, leaves room for the allocators' own jitter (glibc arenas, numpy's and
    Python's pools: well under 1 MB once warm) and fails such a leak."""
    rng = np.random.default_rng(0)
    net = nd.Network(depth=2, width=128, n0=8, seed=1)

    def call(i):
        X = rng.standard_normal((32, 8))  # fresh arrays every call
        kind = i % 4
        if kind == 0:
            K = nd.empirical_ntk(net, X)
        elif kind == 1:
            K, KL = nd.empirical_ntk(net, X, per_layer=True)
        elif kind == 2:
            K = nd.empirical_ntk(net, X, rng.standard_normal((16, 8)))
        else:
            K = nd.empirical_ntk(net, X, dtype=np.float32)
        assert np.isfinite(K).all()

    for i in range(100):
        call(i)
    before = rss_bytes()
    for i in range(1000):
        call(i)
    grown = rss_bytes() - before
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.2f} MB over 1000 calls"


def test_gil_released_during_a_kernel_call():
    """A counter thread ticks while the main thread is inside one empirical_ntk call (~0.4 s on one
    BLAS thread): with the GIL held through the call it could not tick at all between the call's
    start and end (a tick needs the GIL).  At least 100 ticks in the call's inner 80% of time is far
    below what a free thread does (~10^5 ticks per second) and far above zero."""
    nd.set_threads(1)  # the second core for the counter thread
    net = nd.Network(depth=3, width=512, n0=16, seed=1)
    X = nd.inputs(n=1200)
    ticks, stop = [], threading.Event()

    def counter():
        while not stop.is_set():
            ticks.append(time.monotonic())

    th = threading.Thread(target=counter)
    th.start()
    try:
        time.sleep(0.05)
        t0 = time.monotonic()
        nd.empirical_ntk(net, X)
        t1 = time.monotonic()
    finally:
        stop.set()
        th.join()
        nd.set_threads(0)
    lo, hi = t0 + 0.1 * (t1 - t0), t1 - 0.1 * (t1 - t0)
    inside = sum(lo <= t <= hi for t in ticks)
    assert inside >= 100, f"only {inside} ticks of the other thread during a {t1 - t0:.2f} s library call"


def test_gil_released_during_training_and_callbacks_run_in_the_caller():
    """train() releases the GIL too; its callback runs on the calling thread (cffi takes the GIL back
    for it)."""
    caller = threading.get_ident()
    threads = []
    r = nd.train(depth=1, width=64, n=48, steps=50, snapshots="every:25",
                 callback=lambda s: threads.append(threading.get_ident()))
    assert threads == [caller] * 3 and len(r.metrics["step"]) == 3


def test_inputs_passed_without_copies_and_other_layouts_converted():
    """C-contiguous float64 arrays reach the library as they are (the same buffer); float32, Fortran
    order and strided views are converted first and give the same kernel as their float64 copy."""
    from ntkdrift._lib import as_f64
    X = nd.inputs(n=10, n0=4)
    assert as_f64(X, "X") is X
    net = nd.Network(depth=1, width=32, n0=4, seed=5)
    K = nd.empirical_ntk(net, X)
    assert np.array_equal(nd.empirical_ntk(net, np.asfortranarray(X)), K)
    assert np.array_equal(nd.empirical_ntk(net, np.hstack([X, X])[:, :4]), K)
    X32 = X.astype(np.float32)
    assert np.array_equal(nd.empirical_ntk(net, X32), nd.empirical_ntk(net, X32.astype(np.float64)))
    assert nd.empirical_ntk(net, X, dtype="float32").dtype == np.float32
