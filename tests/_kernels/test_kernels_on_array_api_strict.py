"""The portable kernels run on a second, strict array namespace and agree with NumPy.

``array_api_strict`` refuses everything outside the array API standard (NumPy's
flat indexing, ``out=``, methods such as ``.reshape``), so a kernel that slips
past ``backend.get_array_module`` fails here. Skipped when the package is absent.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._kernels.strategies import geometries, pool_geometries

from numnet._kernels import conv, conv_transpose, depthwise, pooling
from numnet._kernels import im2col as k
from numnet._kernels.conv_plan import plan_conv

xs = pytest.importorskip("array_api_strict")


def _close(strict, expected):
    np.testing.assert_allclose(np.asarray(strict), expected, rtol=1e-12, atol=1e-12)


def _data(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


@settings(max_examples=25)
@given(
    geometries(),
    st.integers(1, 3),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 99),
)
def test_reference_conv_on_a_strict_namespace(g, C, O, relu, seed):
    x, w, b, gy = _data([(2, g.H, g.W, C), (g.KH, g.KW, C, O), (O,),
                         (2, g.OH, g.OW, O)], seed)  # fmt: skip
    plan = plan_conv(g, "array_api_strict", C=C, O=O, relu=relu)
    assert plan.executor == "reference"
    y, state = conv.conv2d_forward(plan, xs.asarray(x), xs.asarray(w), xs.asarray(b), g)
    grads = conv.conv2d_backward(xs.asarray(gy), state)
    cpu = plan_conv(g, C=C, O=O, relu=relu)
    y_np, state_np = conv.conv2d_forward(cpu, x, w, b, g)
    _close(y, y_np)
    for got, want in zip(grads, conv.conv2d_backward(gy, state_np), strict=True):
        _close(got, want)


@settings(max_examples=25)
@given(geometries(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 99))
def test_transpose_and_depthwise_on_a_strict_namespace(g, C, M, seed):
    x, w, gy, gd = _data([(2, g.H, g.W, C), (g.KH, g.KW, C, M), (2, g.OH, g.OW, M),
                          (2, g.OH, g.OW, C * M)], seed)  # fmt: skip
    S = xs.asarray
    _close(conv_transpose.conv2d_transpose_forward(S(gy), S(w), None, g),
           conv_transpose.conv2d_transpose_forward(gy, w, None, g))  # fmt: skip
    backward = conv_transpose.conv2d_transpose_backward
    strict = backward(S(x), S(gy), S(w), g, True, True, True)
    for got, want in zip(
        strict, backward(x, gy, w, g, True, True, True),
        strict=True,
    ):  # fmt: skip
        _close(got, want)
    _close(depthwise.depthwise_forward(S(x), S(w), None, g),
           depthwise.depthwise_forward(x, w, None, g))  # fmt: skip
    strict = depthwise.depthwise_backward(S(gd), S(x), S(w), g)
    for got, want in zip(
        strict, depthwise.depthwise_backward(gd, x, w, g), strict=True
    ):
        _close(got, want)


@settings(max_examples=25)
@given(pool_geometries(), st.integers(0, 99))
def test_pooling_on_a_strict_namespace(g, seed):
    x, gy = _data([(2, g.H, g.W, 2), (2, g.OH, g.OW, 2)], seed)
    assert pooling.pool_method(xs.asarray(x), g) == "reference"
    y, winners = pooling.max_pool_forward(xs.asarray(x), g)
    y_np, winners_np = pooling.max_pool_forward(x, g)
    _close(y, y_np)
    _close(pooling.max_pool_backward(xs.asarray(gy), winners, x.shape, g),
           pooling.max_pool_backward(gy, winners_np, x.shape, g))  # fmt: skip
    _close(pooling.avg_pool_forward(xs.asarray(x), g), pooling.avg_pool_forward(x, g))
    _close(pooling.avg_pool_backward(xs.asarray(gy), x.shape, g),
           pooling.avg_pool_backward(gy, x.shape, g))  # fmt: skip


def test_public_im2col_col2im_on_a_strict_namespace():
    g = k.make_geometry(5, 4, 3, 2, "same", 1)
    (x,) = _data([(2, 5, 4, 3)], 0)
    _close(k.im2col(xs.asarray(x), g), k.im2col(x, g))
    cols = k.im2col(x, g)
    _close(k.col2im(xs.asarray(cols), g), k.col2im(cols, g))
