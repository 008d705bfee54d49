"""1-D and 3-D convolution and pooling against naive loops; gradchecks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numnet
from numnet.functional import conv_nd


def _same(n, k, s, d=1):
    total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def _naive_conv(x, w, b, strides, pads, dilations):
    """Loop convolution of (N, *spatial, C) with (*K, C_in, C_out), any rank."""
    widths = [(0, 0), *pads, (0, 0)]
    x = np.pad(x, widths)
    spatial = x.shape[1:-1]
    ks = w.shape[:-2]
    outs = [
        (n - d * (k - 1) - 1) // s + 1
        for n, k, s, d in zip(spatial, ks, strides, dilations, strict=True)
    ]
    y = np.zeros((x.shape[0], *outs, w.shape[-1]))
    for pos in itertools.product(*(range(o) for o in outs)):
        for tap in itertools.product(*(range(k) for k in ks)):
            idx = tuple(
                p * s + t * d
                for p, t, s, d in zip(pos, tap, strides, dilations, strict=True)
            )
            y[(slice(None), *pos)] += x[(slice(None), *idx)] @ w[tap]
    return y + (0 if b is None else b)


def _naive_pool(x, size, strides, pads, reduce):
    """Loop pooling; padded cells are excluded (never win, not averaged)."""
    x = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=np.nan)
    outs = [
        (n - k) // s + 1 for n, k, s in zip(x.shape[1:-1], size, strides, strict=True)
    ]
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for pos in itertools.product(*(range(o) for o in outs)):
        window = x[
            (
                slice(None),
                *(
                    slice(p * s, p * s + k)
                    for p, s, k in zip(pos, strides, size, strict=True)
                ),
            )
        ]
        flat = window.reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None), *pos)] = reduce(flat, axis=1)
    return y


@settings(max_examples=20, deadline=None)
@given(
    w=st.integers(3, 9),
    k=st.integers(1, 3),
    s=st.integers(1, 2),
    d=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same", "causal"]),
)
def test_conv1d_matches_loop(w, k, s, d, padding):
    rng = np.random.default_rng(w * 100 + k * 10 + s)
    if d * (k - 1) + 1 > w:
        return
    x = rng.normal(size=(2, w, 3))
    kern = rng.normal(size=(k, 3, 4))
    b = rng.normal(size=4)
    pads = {"valid": (0, 0), "same": _same(w, k, s, d), "causal": (d * (k - 1), 0)}
    expected = _naive_conv(x, kern, b, (s,), [pads[padding]], (d,))
    x64 = numnet.tensor(x, dtype="float64")
    y = conv_nd.conv1d(
        x64,
        numnet.tensor(kern, dtype="float64"),
        numnet.tensor(b, dtype="float64"),
        stride=s,
        padding=padding,
        dilation=d,
    )
    np.testing.assert_allclose(y.data, expected, atol=1e-10)


def test_causal_conv1d_has_no_lookahead(rng):
    x = rng.normal(size=(1, 8, 2))
    kern = rng.normal(size=(3, 2, 1))
    y = conv_nd.conv1d(x, kern, padding="causal", dilation=2).data
    x2 = x.copy()
    x2[:, 5:] += 1.0
    y2 = conv_nd.conv1d(x2, kern, padding="causal", dilation=2).data
    np.testing.assert_allclose(y[:, :5], y2[:, :5])
    assert not np.allclose(y[:, 5:], y2[:, 5:])


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_gradcheck(rng, padding):
    x, kern, b = (
        rng.normal(size=(2, 7, 3)),
        rng.normal(size=(3, 3, 2)),
        rng.normal(size=2),
    )
    numnet.gradcheck(
        lambda a, k, c: conv_nd.conv1d(a, k, c, stride=2, padding=padding), [x, kern, b]
    )


@pytest.mark.parametrize(
    "stride,padding,dilation",
    [(1, "valid", 1), ((2, 1, 2), "same", 1), (1, "same", (2, 1, 1)), (2, "valid", 1)],
)
def test_conv3d_matches_loop_and_gradchecks(rng, stride, padding, dilation):
    x = rng.normal(size=(2, 5, 4, 5, 2))
    kern, b = rng.normal(size=(2, 3, 2, 2, 3)), rng.normal(size=3)
    s = stride if isinstance(stride, tuple) else (stride,) * 3
    d = dilation if isinstance(dilation, tuple) else (dilation,) * 3
    pads = (
        [
            _same(n, k, si, di)
            for n, k, si, di in zip(x.shape[1:4], kern.shape[:3], s, d, strict=True)
        ]
        if padding == "same"
        else [(0, 0)] * 3
    )
    x64 = [numnet.tensor(a, dtype="float64") for a in (x, kern, b)]
    y = conv_nd.conv3d(*x64, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(y.data, _naive_conv(x, kern, b, s, pads, d), atol=1e-10)
    numnet.gradcheck(
        lambda a, k, c: conv_nd.conv3d(
            a, k, c, stride=stride, padding=padding, dilation=dilation
        ),
        [x[:1, :4, :3, :4], kern, b],
    )


def _distinct(rng, shape):
    """Distinct values, so max windows have a unique winner (no kinks)."""
    return (
        rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) / 7
    )


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool1d_matches_loop_and_gradchecks(rng, padding, kind):
    x = _distinct(rng, (2, 7, 3))
    op = conv_nd.max_pool1d if kind == "max" else conv_nd.avg_pool1d
    reduce = np.nanmax if kind == "max" else np.nanmean
    pads = [_same(7, 3, 2)] if padding == "same" else [(0, 0)]
    y = op(numnet.tensor(x, dtype="float64"), 3, 2, padding)
    np.testing.assert_allclose(
        y.data, _naive_pool(x, (3,), (2,), pads, reduce), atol=1e-12
    )
    numnet.gradcheck(lambda a: op(a, 3, 2, padding), [x])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool3d_matches_loop_and_gradchecks(rng, padding, kind):
    x = _distinct(rng, (2, 5, 4, 5, 2))
    op = conv_nd.max_pool3d if kind == "max" else conv_nd.avg_pool3d
    reduce = np.nanmax if kind == "max" else np.nanmean
    size, strides = (2, 3, 2), (2, 1, 2)
    pads = (
        [_same(n, k, s) for n, k, s in zip(x.shape[1:4], size, strides, strict=True)]
        if padding == "same"
        else [(0, 0)] * 3
    )
    y = op(numnet.tensor(x, dtype="float64"), size, strides, padding)
    np.testing.assert_allclose(
        y.data, _naive_pool(x, size, strides, pads, reduce), atol=1e-12
    )
    numnet.gradcheck(lambda a: op(a, size, strides, padding), [x[:1]])


def test_global_pools_and_upsample(rng):
    x = _distinct(rng, (2, 5, 3))
    np.testing.assert_allclose(conv_nd.global_avg_pool1d(x).data, x.mean(1), rtol=1e-6)
    np.testing.assert_allclose(conv_nd.global_max_pool1d(x).data, x.max(1), rtol=1e-6)
    up = conv_nd.upsample1d(numnet.tensor(x, dtype="float64"), 3)
    np.testing.assert_array_equal(up.data, np.repeat(x, 3, axis=1))
    for fn in (
        conv_nd.global_avg_pool1d,
        conv_nd.global_max_pool1d,
        lambda a: conv_nd.upsample1d(a, 2),
    ):
        numnet.gradcheck(fn, [x])


def test_errors_name_the_op_and_argument(rng):
    with pytest.raises(ValueError, match="conv1d.*padding"):
        conv_nd.conv1d(np.zeros((1, 4, 2)), np.zeros((2, 2, 1)), padding="full")
    with pytest.raises(ValueError, match=r"conv3d.*\(N, D, H, W, C\)"):
        conv_nd.conv3d(np.zeros((1, 4, 4, 2)), np.zeros((1, 2, 2, 2, 1)))
    with pytest.raises(ValueError, match="conv3d.*depth"):
        conv_nd.conv3d(np.zeros((1, 2, 4, 4, 2)), np.zeros((3, 2, 2, 2, 1)))
    with pytest.raises(ValueError, match="max_pool3d.*pool_size"):
        conv_nd.max_pool3d(np.zeros((1, 4, 4, 4, 2)), (2, 2))
