"""Conv, depthwise and pooling kernels against naive loops, chunking, adjoints."""

from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests._kernels.strategies import geometries, naive_conv, pool_geometries

import numnet.functional as F
from numnet._kernels import conv, conv_reference, conv_transpose, depthwise, pooling
from numnet._kernels import im2col as k
from numnet._kernels.conv_plan import (
    ConvPlan,
    candidate_plans,
    flipped_geometry,
    plan_conv,
)


def _conv_data(g, C, O, seed, N=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, g.H, g.W, C))
    w = rng.standard_normal((g.KH, g.KW, C, O))
    return x, w, rng.standard_normal(O), rng.standard_normal((N, g.OH, g.OW, O))


def _all_grads(plan, x, w, b, gy, g):
    y, state = conv.conv2d_forward(plan, x, w, b, g)
    grads = conv.conv2d_backward(gy, state, True, True, b is not None)
    state.release()
    return (y,) + grads


def _plan(g, C, O, **changes):
    return plan_conv(g, C=C, O=O).replace(**changes)


@given(geometries(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16))
def test_reference_conv_matches_naive_loop(g, C, O, seed):
    # the course's im2col form against the definition, one pixel at a time
    x, w, b, _ = _conv_data(g, C, O, seed)
    y, cols = conv_reference.conv2d_forward(x, w, b, g)
    np.testing.assert_allclose(y, naive_conv(x, w, b, g), rtol=1e-12, atol=1e-12)
    assert cols.shape == (2 * g.OH * g.OW, g.KH * g.KW * C)


@given(geometries(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16))
def test_reference_backward_is_the_adjoint(g, C, O, seed):
    # <conv(x), gy> = <x, dx> and <conv(x), gy> = <w, dw> (y is linear in each)
    x, w, _, gy = _conv_data(g, C, O, seed)
    y, cols = conv_reference.conv2d_forward(x, w, None, g)
    dx, dw, db = conv_reference.conv2d_backward(
        gy, cols, w, g, x.shape, True, True, True
    )
    assert np.sum(y * gy) == pytest.approx(np.sum(x * dx), rel=1e-10, abs=1e-10)
    assert np.sum(y * gy) == pytest.approx(np.sum(w * dw), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(db, gy.sum(axis=(0, 1, 2)), rtol=1e-12)


@given(
    geometries(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16),
    st.booleans(), st.data(),
)  # fmt: skip
def test_every_plan_matches_the_reference_in_float32(g, C, O, seed, relu, data):
    # each executor path (layout, dx path, bias in GEMM, kept columns, threads)
    # computes the reference im2col convolution's y, dx, dw, db
    x, w, b, gy = (a.astype(np.float32) for a in _conv_data(g, C, O, seed))
    plans = candidate_plans(g, relu=relu)
    plan = data.draw(st.sampled_from(plans[1:]))
    plan = plan.replace(threads=data.draw(st.booleans()))
    expected = _all_grads(plans[0], x, w, b, gy, g)
    for got, want in zip(_all_grads(plan, x, w, b, gy, g), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_candidate_plans_cover_every_path():
    g = k.make_geometry(6, 6, 3, padding="same")
    plans = candidate_plans(g)
    assert {p.dx_path for p in plans} == {"col2im", "taps", "flipped", "flat"}
    assert {p.layout for p in plans} == {"rows", "k_major"}
    assert {p.bias_in_gemm for p in plans} == {True, False}
    assert {p.executor for p in plans} == {"cpu", "reference"}
    strided = candidate_plans(k.make_geometry(6, 6, 3, 2))
    assert {p.dx_path for p in strided} == {"col2im", "flat"}


def test_planner_choices_and_explain():
    g = k.make_geometry(6, 5, (3, 2), 1, "same", (2, 1))
    # taps for stride-1 convs that do not narrow the channels (C_in < 8: no
    # "flat"); the flipped kernel is opt-in
    assert plan_conv(g, C=4, O=3).dx_path == "col2im"
    assert plan_conv(g, C=4, O=4).dx_path == "taps"
    assert plan_conv(g, C=4, O=9).dx_path == "taps"
    wide = k.make_geometry(14, 14, 3, 1, "same")
    assert plan_conv(wide, C=32, O=32).dx_path == "flat"
    assert "flattened grid" in plan_conv(wide, C=32, O=32).explain()
    assert plan_conv(k.make_geometry(7, 7, 3, 1, "same"), C=64, O=64).dx_path == "taps"
    assert (
        plan_conv(k.make_geometry(28, 28, 3, 2, "same"), C=32, O=32).dx_path == "flat"
    )
    assert plan_conv(k.make_geometry(28, 28, 1, 2), C=32, O=32).dx_path == "col2im"
    assert "one kernel tap" in plan_conv(g, C=4, O=9).explain()
    strided = k.make_geometry(6, 6, 3, 2)
    assert plan_conv(strided, C=4, O=9).dx_path == "col2im"
    assert flipped_geometry(g) is not None
    wide = k.make_geometry(6, 6, 3, 1, 3)  # padding wider than the window
    assert flipped_geometry(wide) is None
    assert "flipped" not in {p.dx_path for p in candidate_plans(wide)}
    grey = plan_conv(k.make_geometry(28, 28, 3), C=1, O=32)
    assert grey.layout == "k_major" and grey.bias_in_gemm
    assert "K-major" in grey.explain() and "KW*C = 3" in grey.explain()
    assert plan_conv(k.make_geometry(28, 28, 3), C=32, O=64).layout == "rows"
    assert not plan_conv(g, C=4, O=4, weight_grad=False).keep_columns
    other = plan_conv(g, "array_api_strict", C=4, O=4)
    assert other.executor == "reference" and "im2col" in other.explain()


def test_cupy_arrays_get_the_cupy_executor():
    g = k.make_geometry(6, 5, 3, 1, "same")
    plan = plan_conv(g, "cupy", C=4, O=8, relu=True)
    assert plan.executor == "cupy" and plan.fused_relu and plan.keep_columns
    assert "cupy executor (CUDA)" in plan.explain()
    assert "cuBLAS" in plan.explain() and "fused ReLU" in plan.explain()
    assert not plan_conv(g, "cupy", C=4, O=8, weight_grad=False).keep_columns
    # the namespace a CuPy array reports, by any spelling, plans for CuPy
    from numnet.functional.conv import _device

    namespace = types.SimpleNamespace(__name__="cupy.array_api")
    fake = type("ndarray", (), {"__array_namespace__": lambda self: namespace})
    assert _device(fake()) == "cupy"


def test_a_cupy_plan_on_numpy_arrays_is_refused():
    g = k.make_geometry(6, 6, 3)
    x, w, b, _ = _conv_data(g, 2, 3, 0)
    with pytest.raises(ValueError, match="executor='cupy' runs on CuPy arrays only"):
        conv.conv2d_forward(ConvPlan(executor="cupy"), x, w, b, g)
    with pytest.raises(ValueError, match="numpy.ndarray"):
        F.conv2d(x, w, b, plan=ConvPlan(executor="cupy"))


def test_plan_validates_its_fields():
    with pytest.raises(ValueError, match="dx_path"):
        ConvPlan(dx_path="winograd")
    with pytest.raises(ValueError, match="bias_in_gemm"):
        ConvPlan(layout="rows", bias_in_gemm=True)
    with pytest.raises(ValueError, match="block_bytes"):
        ConvPlan().replace(block_bytes=0)
    g = k.make_geometry(6, 6, 3, 2)
    x, w, b, gy = _conv_data(g, 2, 2, 0)
    for path in ("taps", "flipped"):
        _, state = conv.conv2d_forward(ConvPlan(dx_path=path), x, w, b, g)
        with pytest.raises(ValueError, match="stride 1"):
            conv.conv2d_backward(gy, state)


@given(geometries(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16))
def test_transpose_is_the_adjoint_of_conv(g, C, O, seed):
    # <conv(x), u> = <x, conv_transpose(u)> with the same kernel and geometry
    x, w, _, u = _conv_data(g, C, O, seed)
    y, _ = conv.conv2d_forward(ConvPlan(), x, w, None, g)
    xt = conv_transpose.conv2d_transpose_forward(
        u, w, None, g
    )  # (KH, KW, C_out=C, C_in=O)
    assert np.sum(y * u) == pytest.approx(np.sum(x * xt), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("padding", ["same", "valid", 1])
def test_chunked_equals_unchunked(padding):
    # a tiny budget forces one image per block and recomputed columns
    g = k.make_geometry(9, 8, 3, stride=(1, 2), padding=padding)
    x, w, b, gy = _conv_data(g, 3, 4, 0, N=5)
    whole = _all_grads(ConvPlan(), x, w, b, gy, g)
    with k.memory_budget(g.OH * g.OW * 9 * 3 * 8):  # one image of columns
        assert k.block_size(5, g.OH * g.OW * 27 * 8, 10**9) == 1
        chunked = _all_grads(ConvPlan(), x, w, b, gy, g)
    # equal up to rounding: BLAS may block a GEMM of fewer rows differently, and
    # dw, db are summed block by block
    for a, c in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_kept_and_recomputed_columns_agree():
    g = k.make_geometry(6, 6, 3, padding="same")
    x, w, b, gy = _conv_data(g, 2, 3, 1, N=3)
    kept = _all_grads(ConvPlan(keep_columns=True), x, w, b, gy, g)
    recomputed = _all_grads(ConvPlan(keep_columns=False), x, w, b, gy, g)
    for a, c in zip(kept, recomputed, strict=True):
        np.testing.assert_array_equal(a, c)


def test_backward_skips_unneeded_gradients():
    g = k.make_geometry(5, 5, 3)
    x, w, b, gy = _conv_data(g, 2, 2, 2)
    for plan in candidate_plans(g):
        _, state = conv.conv2d_forward(plan.replace(keep_columns=False), x, w, b, g)
        dx, dw, db = conv.conv2d_backward(gy, state, False, True, False)
        assert dx is None and db is None and dw.shape == w.shape


@given(geometries(), st.integers(1, 3), st.integers(1, 2), st.integers(0, 2**16))
def test_depthwise_matches_per_channel_conv(g, C, M, seed):
    x, w, b, _ = _conv_data(g, C, M, seed)
    w = w[:, :, :1].repeat(C, axis=2) * np.arange(1, C + 1)[:, None]  # (KH, KW, C, M)
    bias = np.zeros(C * M)
    y = depthwise.depthwise_forward(x, w, bias, g)
    for c in range(C):
        expected = naive_conv(x[..., c : c + 1], w[:, :, c : c + 1], 0.0, g)
        np.testing.assert_allclose(y[..., c * M : (c + 1) * M], expected, atol=1e-12)


def naive_pool(x, g, reduce, pad_value):
    xp = np.pad(
        x, ((0, 0), (g.pt, g.pb), (g.pl, g.pr), (0, 0)), constant_values=pad_value
    )
    y = np.zeros((x.shape[0], g.OH, g.OW, x.shape[3]))
    for oh in range(g.OH):
        for ow in range(g.OW):
            win = xp[:, oh * g.sh : oh * g.sh + g.KH, ow * g.sw : ow * g.sw + g.KW]
            y[:, oh, ow] = reduce(win)
    return y


@given(pool_geometries(), st.integers(0, 2**16))
def test_max_pool_matches_naive(g, seed):
    x = np.random.default_rng(seed).standard_normal((2, g.H, g.W, 2))
    y, _ = pooling.max_pool_forward(x, g)
    expected = naive_pool(x, g, lambda w: w.max(axis=(1, 2)), -np.inf)
    np.testing.assert_array_equal(y, expected)


@given(pool_geometries(), st.integers(0, 2**16))
def test_avg_pool_counts_only_valid_cells(g, seed):
    x = np.random.default_rng(seed).standard_normal((2, g.H, g.W, 2))
    sums = naive_pool(x, g, lambda w: w.sum(axis=(1, 2)), 0.0)
    counts = naive_pool(np.ones_like(x), g, lambda w: w.sum(axis=(1, 2)), 0.0)
    np.testing.assert_allclose(pooling.avg_pool_forward(x, g), sums / counts)


@pytest.mark.parametrize(
    "size, strides, padding", [(2, 2, "valid"), (3, 1, "valid"), (2, 1, "same")]
)
def test_max_pool_ties_have_one_deterministic_winner(size, strides, padding):
    # all-equal windows (a ReLU's zeros): the top-left cell wins
    g = k.make_geometry(4, 4, size, strides, padding, 1, "max_pool2d")
    x = np.zeros((1, 4, 4, 1))
    y, winners = pooling.max_pool_forward(x, g)
    dx = pooling.max_pool_backward(np.ones_like(y), winners, x.shape, g)
    expected = np.zeros((1, 4, 4, 1))
    np.add.at(expected, (0, g.sh * np.arange(g.OH)[:, None], g.sw * np.arange(g.OW)), 1)
    np.testing.assert_array_equal(dx, expected)
    assert dx.sum() == y.size  # one winner per window, no gradient lost or doubled


@pytest.mark.parametrize("size, strides", [(2, None), (3, 1), ((2, 3), None)])
def test_max_pool_ties_go_to_the_first_cell_in_column_major_order(size, strides):
    # a window [[1, 5], [5, 1]]: the 5 below the 1 (column 0) wins over the 5
    # right of it; both the tiled two-stage path and the offset loop agree
    x = np.array([[1.0, 5, 1], [5, 1, 5], [1, 5, 1]]).reshape(1, 3, 3, 1)
    g = k.make_geometry(3, 3, size, size if strides is None else strides,
                        "valid", 1, "max_pool2d")  # fmt: skip
    y, winners = pooling.max_pool_forward(x, g)
    dx = pooling.max_pool_backward(np.ones_like(y), winners, x.shape, g)
    assert dx.sum() == y.size and (dx[x != y.max()] == 0).all()
    if size == 2:  # one 2x2 window over rows/cols 0-1
        np.testing.assert_array_equal(dx[0, :2, :2, 0], [[0, 0], [1, 0]])


@given(pool_geometries(), st.integers(0, 2**16), st.integers(0, 3))
def test_max_pool_gradient_goes_to_one_maximal_cell(g, seed, levels):
    # few distinct values: many ties; each window's gradient lands on exactly one
    # cell holding the window's maximum, the first in column-major order
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels + 1, (2, g.H, g.W, 2)).astype(np.float64)
    y, winners = pooling.max_pool_forward(x, g)
    gy = rng.uniform(1, 2, y.shape)
    dx = pooling.max_pool_backward(gy, winners, x.shape, g)
    expected = np.zeros_like(x)
    xp = np.pad(x, ((0, 0), (g.pt, g.pb), (g.pl, g.pr), (0, 0)),
                constant_values=-np.inf)  # fmt: skip
    for n in range(2):
        for oh in range(g.OH):
            for ow in range(g.OW):
                for c in range(2):
                    win = xp[n, oh * g.sh : oh * g.sh + g.KH,
                             ow * g.sw : ow * g.sw + g.KW, c]  # fmt: skip
                    i, j = np.argwhere(win.T == win.max())[0][::-1]  # column-major
                    r, q = oh * g.sh + i - g.pt, ow * g.sw + j - g.pl
                    expected[n, r, q, c] += gy[n, oh, ow, c]
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


@pytest.mark.parametrize("R, K, O", [(30000, 9, 32), (5000, 27, 8), (100, 9, 32)])
def test_rows_t_matmul_split_reduction(rng, R, K, O):
    # tiny outputs with long reductions take the chunked one-thread path
    a, b = rng.standard_normal((R, K)), rng.standard_normal((R, O))
    np.testing.assert_allclose(conv.rows_t_matmul(a, b), a.T @ b, rtol=1e-10)
    assert conv.rows_t_matmul(a, b).shape == (K, O)


def test_first_layer_weight_gradient_takes_the_split_path(rng):
    # a grey-image first conv (C_in=1): 9x4 kernel rows, 4*20*20*... rows of pixels
    g = k.make_geometry(40, 40, 3, padding="same")
    x, w, b, gy = _conv_data(g, 1, 4, 3, N=8)
    assert 8 * 40 * 40 * 9 * 4 > conv._ONE_THREAD_MNK  # the split path is taken
    _, dw, _ = _all_grads(_plan(g, 1, 4), x, w, b, gy, g)[1:]
    cols = k.im2col(x, g).reshape(-1, 9)
    np.testing.assert_allclose(dw.reshape(9, 4), cols.T @ gy.reshape(-1, 4), rtol=1e-10)


@given(pool_geometries(), st.integers(0, 2**16), st.integers(0, 3))
def test_max_pool_methods_agree_with_the_reference(g, seed, levels):
    # the offset loop, the two-stage path (tiling windows) and the portable
    # reference: the same maxima, the same winner per window, even with ties
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels + 1, (2, g.H, g.W, 2)).astype(np.float32)
    methods = ["offsets"] + (["two_stage"] if pooling._tiles(g) else [])
    y0, won = pooling.max_pool_forward(x, g, "reference")
    gy = rng.uniform(1, 2, y0.shape).astype(np.float32)
    dx0 = pooling.max_pool_backward(gy, won, x.shape, g, "reference")
    for method in methods:
        y, winners = pooling.max_pool_forward(x, g, method)
        dx = pooling.max_pool_backward(gy, winners, x.shape, g, method)
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(dx, dx0)


def test_pool_method_is_checked():
    g = k.make_geometry(4, 4, 3, 1, "valid", 1, "max_pool2d")
    x = np.zeros((1, 4, 4, 1))
    assert pooling.pool_method(x, g) == "offsets"
    assert pooling.pool_method(x, k.make_geometry(4, 4, 2, 2)) == "two_stage"
    with pytest.raises(ValueError, match="tile the input"):
        pooling.max_pool_forward(x, g, "two_stage")
    with pytest.raises(ValueError, match="argument 'method'"):
        pooling.max_pool_forward(x, g, "fast")


@given(
    st.integers(1, 9), st.integers(1, 9), st.integers(1, 3), st.integers(1, 3),
    st.integers(0, 2**16), st.integers(1, 3), st.sampled_from([1, 200, 1 << 18]),
)  # fmt: skip
def test_tiled_max_pool_matches_the_reference_with_ties_and_cropping(
    H, W, KH, KW, seed, levels, cache_bytes
):
    # windows that tile the input (2x2 runs the two-pass pairwise stages), odd
    # sizes that leave a cropped last row/column, ReLU-like inputs full of
    # ties, and cache blocks of one image, a few, or the whole batch: the
    # two-stage path routes every gradient as the reference does
    old, pooling.CACHE_BYTES = pooling.CACHE_BYTES, cache_bytes
    try:
        _check_tiled_pool(H, W, KH, KW, seed, levels)
    finally:
        pooling.CACHE_BYTES = old


def _check_tiled_pool(H, W, KH, KW, seed, levels):
    try:
        g = k.make_geometry(H, W, (KH, KW), (KH, KW), "valid", 1, "max_pool2d")
    except ValueError:
        return
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.integers(-1, levels + 1, (5, H, W, 2)), 0).astype(np.float32)
    y0, won = pooling.max_pool_forward(x, g, "reference")
    gy = rng.uniform(1, 2, y0.shape).astype(np.float32)
    dx0 = pooling.max_pool_backward(gy, won, x.shape, g, "reference")
    y, winners = pooling.max_pool_forward(x, g, "two_stage")
    dx = pooling.max_pool_backward(gy, winners, x.shape, g, "two_stage")
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(dx, dx0)
