"""Kernels split over threads give bit-identical results to one thread."""

from __future__ import annotations

import numpy as np
import pytest

from numnet._kernels import conv, conv_plan, pooling, threads
from numnet._kernels import im2col as k
from numnet.backend import threads as backend_threads


@pytest.mark.parametrize("n, workers", [(1, 3), (5, 2), (7, 3), (8, 8)])
def test_over_batch_covers_every_item_once(monkeypatch, n, workers):
    monkeypatch.setenv("NUMNET_NUM_THREADS", str(workers))
    seen = np.zeros(n, int)

    def run(a, b):
        seen[a:b] += 1

    threads.over_batch(run, n, elements=1 << 30)
    assert seen.tolist() == [1] * n


def test_over_batch_stays_inline_for_small_work(monkeypatch):
    monkeypatch.setenv("NUMNET_NUM_THREADS", "4")
    calls = []
    threads.over_batch(lambda a, b: calls.append((a, b)), 10, elements=10)
    assert calls == [(0, 10)]


def test_nested_over_batch_runs_inline_on_pool_threads(monkeypatch):
    monkeypatch.setenv("NUMNET_NUM_THREADS", "2")  # one pool worker: nesting would
    seen = np.zeros(8, int)  # deadlock if the worker waited on its own pool

    def inner(a, b):
        seen[a:b] += 1

    def outer(a, b):
        if a > 0:  # the half that runs on the pool's worker thread
            threads.over_batch(inner, 8, elements=1 << 30)

    threads.over_batch(outer, 8, elements=1 << 30)
    assert seen.tolist() == [1] * 8


def test_over_batch_reraises_worker_errors(monkeypatch):
    monkeypatch.setenv("NUMNET_NUM_THREADS", "2")

    def run(a, b):
        if a > 0:
            raise ValueError("second half failed")

    with pytest.raises(ValueError, match="second half"):
        threads.over_batch(run, 4, elements=1 << 30)


def _kernel_outputs(g, pool_g, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, g.H, g.W, 3)).astype(np.float32)
    w = rng.standard_normal((g.KH, g.KW, 3, 3)).astype(np.float32)
    plan = conv_plan.plan_conv(g, C=3, O=3).replace(threads=True)
    y, state = conv.conv2d_forward(plan, x, w, None, g)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw2, _ = conv.conv2d_backward(gy, state)
    p, arg = pooling.max_pool_forward(x, pool_g)
    gp = rng.standard_normal(p.shape).astype(np.float32)
    return y, dx, dw2, p, pooling.max_pool_backward(gp, arg, x.shape, pool_g)


@pytest.mark.parametrize("stride, pool", [(1, 2), (2, 3)])
def test_threaded_kernels_match_one_thread(monkeypatch, stride, pool):
    g = k.make_geometry(9, 8, 3, stride, "same")
    pool_g = k.make_geometry(9, 8, pool, 2, "same" if pool == 3 else "valid")
    monkeypatch.setenv("NUMNET_NUM_THREADS", "1")
    one = _kernel_outputs(g, pool_g)
    monkeypatch.setenv("NUMNET_NUM_THREADS", "3")
    monkeypatch.setattr(backend_threads, "MIN_ELEMENTS", 0)  # the implementation
    many = _kernel_outputs(g, pool_g)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)
