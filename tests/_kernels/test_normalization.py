"""The blocked per-channel batch-norm kernels against the general _Normalize code."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numnet
from numnet._kernels import normalization
from numnet.functional.normalization import _Normalize


@contextlib.contextmanager
def _block_bytes(n):
    old, normalization.BLOCK_BYTES = normalization.BLOCK_BYTES, n
    try:
        yield
    finally:
        normalization.BLOCK_BYTES = old


def _run(shape_c, x, gamma, beta, gy, reference, frozen_x=False):
    """y, the gradients of (x, gamma, beta), the batch statistics, fast path?"""
    ts = [
        numnet.tensor(x, requires_grad=not frozen_x),
        numnet.tensor(gamma, requires_grad=True),
        numnet.tensor(beta, requires_grad=True),
    ]
    fn = _Normalize(tuple(range(x.ndim - 1)), 1e-3, reference=reference)
    y = fn(*ts)
    # read before backward releases the op's state
    stats, per_channel = (fn.batch_mean, fn.batch_var), fn.per_channel
    y.backward(gy)
    return y.data, [t.grad for t in ts], stats, per_channel


shapes = st.one_of(
    st.tuples(st.integers(1, 9), st.integers(1, 6)),
    st.tuples(*[st.integers(1, 5)] * 3, st.integers(1, 7)),
)


@given(shapes, st.sampled_from([16, 64, 1 << 18]), st.integers(0, 2**16),
       st.booleans())  # fmt: skip
def test_blocked_kernels_match_the_reference_in_float32(shape, block, seed, frozen):
    # blocks of a few rows (many partial sums) and one block for the whole
    # array; a frozen input skips dx; float32 in, float32 out
    rng = np.random.default_rng(seed)
    C = shape[-1]
    x = rng.normal(3.0, 2.0, shape).astype(np.float32)
    gamma, beta = (rng.normal(size=C).astype(np.float32) for _ in range(2))
    gy = rng.normal(size=shape).astype(np.float32)
    with _block_bytes(block):
        y, grads, stats, fast = _run(C, x, gamma, beta, gy, False, frozen)
    assert fast  # the kernels ran
    y0, grads0, stats0, fast0 = _run(C, x, gamma, beta, gy, True, frozen)
    assert not fast0
    assert y.dtype == np.float32 and all(
        g is None or g.dtype == np.float32 for g in grads
    )
    np.testing.assert_allclose(y, y0, rtol=1e-4, atol=1e-4)
    for a, b in zip(stats, stats0, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    for a, b in zip(grads, grads0, strict=True):
        if b is None:
            assert a is None
        else:  # sums over up to ~2,000 float32 products
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-3)


@pytest.mark.parametrize("shape, block", [((5, 3), 16), ((2, 3, 3, 2), 32),
                                          ((3, 2, 2, 4), 1 << 18)])  # fmt: skip
def test_blocked_kernels_gradcheck_in_float64(rng, shape, block):
    C = shape[-1]
    x = rng.normal(size=shape)
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    ran = []

    def fn(a, g, b):
        op = _Normalize(tuple(range(len(shape) - 1)), 1e-3)
        y = op(a, g, b)
        ran.append(op.per_channel)  # read before backward releases it
        return y

    with _block_bytes(block):
        assert numnet.gradcheck(fn, [x, gamma, beta])
    assert all(ran)


def test_layer_batch_norm_takes_the_kernels(rng):
    # BatchNormalization passes gamma/beta of shape (C,): the per-channel case
    calls = []
    original = normalization.channel_norm_forward

    def spy(*args):
        calls.append(args[0].shape)
        return original(*args)

    bn = numnet.layers.BatchNormalization()
    x = rng.normal(size=(4, 3, 3, 5)).astype(np.float32)
    try:
        import numnet.functional.normalization as nn

        nn.channel_norm_forward = spy
        bn(x, training=True)
    finally:
        nn.channel_norm_forward = original
    assert calls == [(36, 5)]


def test_gamma_and_beta_may_be_absent_or_scalars(rng):
    # batch_norm without gamma/beta passes 0-d constants; size-1 ones broadcast
    x = rng.normal(size=(6, 4, 3))
    y = numnet.functional.batch_norm(x, None, None, training=True)
    for g, b, out in ((np.ones(()), np.zeros(()), y), (np.array(2.0), [0.5], None)):
        ts = [numnet.tensor(a, dtype=np.float64) for a in (x, g, b)]
        fast = _Normalize((0, 1), 1e-3)(*ts) if out is None else out
        y0 = _Normalize((0, 1), 1e-3, reference=True)(*ts)
        np.testing.assert_allclose(fast.data, y0.data, rtol=1e-12, atol=1e-12)


def test_applies_only_to_contiguous_numpy_floats():
    assert normalization.applies(np.zeros((4, 3), np.float32))
    assert not normalization.applies(np.zeros((4, 3), np.float32).T)
    assert not normalization.applies(np.zeros((4, 3), np.int64))
    assert not normalization.applies(np.zeros(3))
    assert not normalization.applies(np.zeros((0, 4), np.float32))
    assert not normalization.applies(np.zeros((4, 0), np.float32))


def test_float32_kernels_stay_accurate_far_from_zero_mean(rng):
    # features with mean/std = 100 (an un-normalized input): the one-pass
    # moments and the folded constants lose no more than float32 input
    # quantization already does (eps * mean/std ~ 1e-5 of the outputs' scale)
    shape = (64, 5, 5, 4)
    x = (rng.normal(size=shape) + 100.0).astype(np.float32)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    gy = rng.normal(size=shape)
    with _block_bytes(256):
        f32 = [a.astype(np.float32) for a in (gamma, beta, gy)]
        y, grads, _, fast = _run(4, x, *f32, reference=False)
    assert fast
    y0, grads0, _, _ = _run(4, x.astype(np.float64), gamma, beta, gy, reference=True)
    for a, b in zip([y, *grads], [y0, *grads0], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4 * np.abs(b).max())
