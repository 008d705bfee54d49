"""The tap-by-tap input-gradient paths ("taps", "flat") against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests._kernels.strategies import geometries

import numnet
import numnet.functional as F
from numnet._kernels import conv_dx, conv_reference
from numnet._kernels import im2col as k
from numnet._kernels.conv_plan import ConvPlan, plan_conv
from numnet.backend import blas


def _reference_dx(gy, w, g, x_shape):
    x = np.zeros(x_shape, gy.dtype)
    cols = conv_reference.conv2d_forward(x, w, None, g)[1]
    return conv_reference.conv2d_backward(gy, cols, w, g, x_shape, True, False, False)[
        0
    ]


@given(geometries(), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 3), st.integers(0, 2**16))  # fmt: skip
def test_flat_and_taps_match_the_reference_col2im(g, C, O, N, seed):
    # every padding, stride, dilation and kernel shape ("taps": stride 1 only)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((g.KH, g.KW, C, O))
    gy = rng.standard_normal((N, g.OH, g.OW, O))
    x_shape = (N, g.H, g.W, C)
    want = _reference_dx(gy, w, g, x_shape)
    paths = [conv_dx.input_grad_flat]
    if (g.sh, g.sw) == (1, 1):
        paths.append(conv_dx.input_grad_by_taps)
    for path in paths:
        got = path(gy, w.reshape(-1, O), g, x_shape)
        assert got.shape == x_shape and got.flags.c_contiguous
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_flat_in_float32_and_without_blas(monkeypatch):
    g = k.make_geometry(9, 8, 3, 1, "same", (2, 1))
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    gy = rng.standard_normal((3, g.OH, g.OW, 7)).astype(np.float32)
    want = _reference_dx(gy, w, g, (3, 9, 8, 5))
    got = conv_dx.input_grad_flat(gy, w.reshape(-1, 7), g, (3, 9, 8, 5))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # no BLAS found: NumPy computes it
    monkeypatch.setattr(blas, "_routines", {"gemm": {}, "axpby": {}})
    again = conv_dx.input_grad_flat(gy, w.reshape(-1, 7), g, (3, 9, 8, 5))
    np.testing.assert_allclose(again, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "padding, strides",
    [("same", 1), ("valid", 1), ((2, 0), 1), ("same", 2), ("valid", (2, 3))],
)
def test_flat_conv_gradchecks_in_float64(padding, strides, rng):
    x, w = rng.standard_normal((2, 7, 6, 2)), rng.standard_normal((3, 2, 2, 3))
    b = rng.standard_normal(3)
    plan = ConvPlan(dx_path="flat")
    options = {"padding": padding, "stride": strides, "plan": plan}
    fn = lambda x, w, b: F.conv2d_relu(x, w, b, **options)  # noqa: E731
    assert numnet.gradcheck(fn, [x, w, b])


def test_grid_overhead():
    assert conv_dx.grid_overhead(k.make_geometry(13, 13, 3)) == pytest.approx(169 / 121)
    assert conv_dx.grid_overhead(k.make_geometry(28, 28, 3, padding="same")) == (
        pytest.approx(900 / 784)
    )
    # stride 2, "same" on 28: padded to 29, phases of 15 x 15, output 14 x 14
    strided = k.make_geometry(28, 28, 3, 2, padding="same")
    assert conv_dx.grid_overhead(strided) == pytest.approx(225 / 196)


@pytest.mark.parametrize(
    "kernel, stride, padding",
    [(3, 1, "valid"), ((2, 1), 1, "same"), (3, 1, "same"), (3, 2, "same")],
)
def test_flat_dx_is_a_fresh_array(kernel, stride, padding):
    # never a view of a pooled buffer: without padding the phase buffer itself
    # is returned, and with padding only at the bottom the interior of one
    # image is a contiguous slice of it
    g = k.make_geometry(5, 4, kernel, stride, padding)
    gy = np.ones((1, g.OH, g.OW, 2))
    w2 = np.ones((g.KH * g.KW * 2, 2))
    first = conv_dx.input_grad_flat(gy, w2, g, (1, 5, 4, 2))
    kept = first.copy()
    second = conv_dx.input_grad_flat(2 * gy, w2, g, (1, 5, 4, 2))
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(second, 2 * first)


@given(geometries(), st.integers(1, 3))
def test_zero_border_leaves_only_the_interior(g, C):
    buffer = np.full(g.padded_shape(2, C), np.nan)
    k.zero_border(buffer, g)
    interior = (slice(None), slice(g.pt, g.pt + g.H), slice(g.pl, g.pl + g.W))
    assert np.isnan(buffer[interior]).all()
    buffer[interior] = 0
    assert not buffer.any()


def test_a_bias_plan_runs_without_a_bias():
    # a plan made for a conv with bias (ones row in the GEMM) given no bias
    g = k.make_geometry(12, 12, 3)
    plan = plan_conv(g, C=1, O=4)
    assert plan.bias_in_gemm
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 12, 12, 1)), rng.standard_normal((3, 3, 1, 4))
    y = F.conv2d(x, w, None, plan=plan)
    want = F.conv2d(x, w, None, plan=ConvPlan(executor="reference"))
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_without_blas_the_planner_does_not_choose_flat(monkeypatch):
    from numnet._kernels import conv_plan

    g = k.make_geometry(14, 14, 3, 1, "same")
    monkeypatch.setattr(blas, "_routines", {"gemm": {}, "axpby": {}})
    conv_plan._cached_plan.cache_clear()
    try:
        assert plan_conv(g, C=32, O=32).dx_path == "taps"
    finally:
        conv_plan._cached_plan.cache_clear()
