"""backend.blas.gemm: NumPy's BLAS with beta = 1, against np.matmul."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from numnet.backend import blas


@given(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.booleans(),
    st.booleans(), st.booleans(), st.sampled_from([np.float32, np.float64]),
)  # fmt: skip
def test_gemm_matches_numpy_for_every_layout(m, k_, n, ta, tb, accumulate, dtype):
    rng = np.random.default_rng(m * 100 + k_ * 10 + n)
    a = rng.standard_normal((k_, m) if ta else (m, k_)).astype(dtype)
    b = rng.standard_normal((n, k_) if tb else (k_, n)).astype(dtype)
    a, b = (a.T if ta else a), (b.T if tb else b)
    wide = rng.standard_normal((m, n + 3)).astype(dtype)
    out = wide[:, 2 : 2 + n]  # a strided output: leading dimension n + 3
    want = out + a @ b if accumulate else a @ b
    blas.gemm(a, b, out, accumulate=accumulate)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assume(blas.accumulates_in_place())  # the routine ran, not the fallback
    assert blas._call(blas._routine(np.dtype(dtype)), a, b, out, False)


def test_gemm_falls_back_where_blas_cannot_run():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 6))
    out = np.zeros((4, 4))
    # overlapping output, mixed dtypes, a non-unit inner stride, empty K
    for x, y, o in (
        (a[:, :4], a[:, 2:], a[:, 2:].copy()),
        (a, a.T.astype(np.float32), out),
        (a[:, ::2], a[:, ::2].T, out),
        (a[:, :0], a[:, :0].T, out),
    ):
        want = x @ y
        np.testing.assert_allclose(blas.gemm(x, y, o), want, rtol=1e-6)
    overlap = a.copy()
    want = overlap[:, :4] + overlap[:, :4] @ np.eye(4)
    blas.gemm(overlap[:, :4], np.eye(4), overlap[:, :4], accumulate=True)
    np.testing.assert_allclose(overlap[:, :4], want)
    assert not blas._call(blas._routine(np.dtype(np.float64)) or (None, None),
                          a[:, ::2], a[:, ::2].T, out, False)  # fmt: skip


def test_gemm_refuses_mismatched_shapes_before_blas():
    a, b = np.ones((3, 4), np.float32), np.ones((5, 2), np.float32)
    with pytest.raises(ValueError, match=r"a \(3, 4\), b \(5, 2\)"):
        blas.gemm(a, b, np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match="out"):
        blas.gemm(a, np.ones((4, 2), np.float32), np.empty((3, 3), np.float32))
    with pytest.raises(ValueError, match="expected a"):
        blas.gemm(np.ones(3), np.ones((3, 1)), np.empty((1, 1)))
    frozen = np.empty((3, 2), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blas.gemm(a, np.ones((4, 2), np.float32), frozen)


def test_gemm_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("NUMNET_BLAS_GEMM", "0")
    assert blas._find("gemm") == {}
    monkeypatch.setattr(blas, "_routines", {"gemm": {}, "axpby": {}})
    assert not blas.accumulates_in_place()
    out = np.ones((2, 2))
    blas.gemm(np.eye(2), np.eye(2), out, accumulate=True)
    np.testing.assert_array_equal(out, np.ones((2, 2)) + np.eye(2))


def test_dimensions_a_32_bit_blas_cannot_take_fall_back():
    # ctypes.c_int would wrap 2**31 silently: such calls go to NumPy instead
    import ctypes

    calls = []
    routine = (lambda *args: calls.append(args), ctypes.c_int)
    a = np.ones((2, 3), np.float32)
    out = np.empty((2, 2), np.float32)
    assert blas._call(routine, a, np.ones((3, 2), np.float32), out, False)
    wide = np.lib.stride_tricks.as_strided(a, (2, 3), (2**33, 4))  # lda = 2**31
    assert not blas._call(routine, wide, np.ones((3, 2), np.float32), out, False)
    assert len(calls) == 1


@given(
    st.integers(0, 300),
    st.floats(-3, 3),
    st.floats(-3, 3),
    st.sampled_from([np.float32, np.float64]),
)
def test_axpby_matches_numpy(n, a, b, dtype):
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    expected = blas.numpy_axpby(a, x, b, y.copy())
    assert blas.axpby(a, x, b, y) is y
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


def test_axpby_runs_in_blas_here_and_falls_back_where_it_cannot():
    assert blas._routine(np.dtype(np.float32), "axpby") is not None  # NumPy's OpenBLAS
    x = np.arange(12.0).reshape(3, 4)
    y = np.ones((4, 3)).T  # not C-contiguous: NumPy
    blas.axpby(2.0, x, 0.5, y)
    np.testing.assert_array_equal(y, 2 * x + 0.5)
    shared = np.arange(6.0)
    blas.axpby(1.0, shared, 0.5, shared)  # x is y: NumPy, still right
    np.testing.assert_array_equal(shared, 1.5 * np.arange(6.0))
    line = np.arange(7.0)
    blas.axpby(2.0, line[:5], 3.0, line[2:])  # x overlaps y
    np.testing.assert_array_equal(line[2:], 2 * np.arange(5.0) + 3 * np.arange(2, 7))
    mixed = np.ones(3)
    blas.axpby(1.0, np.ones(3, np.float32), 1.0, mixed)  # two dtypes: NumPy
    np.testing.assert_array_equal(mixed, 2.0)
    with pytest.raises(ValueError, match="one shape"):
        blas.axpby(1.0, np.ones(3), 1.0, np.ones(4))


def test_axpby_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("NUMNET_BLAS_GEMM", "0")
    assert blas._find("axpby") == {}
    monkeypatch.setattr(blas, "_routines", {"gemm": {}, "axpby": {}})
    y = np.ones(4, np.float32)
    blas.axpby(3.0, np.ones(4, np.float32), 2.0, y)
    np.testing.assert_array_equal(y, 5.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpby_propagates_nan_and_inf_when_a_scalar_is_zero(dtype):
    # BLAS skips reading x when a == 0 (y when b == 0): NumPy computes those, so
    # a non-finite gradient at a learning rate of 0 still shows
    x = np.array([np.nan, 1.0, np.inf, 2.0], dtype)
    y = np.ones(4, dtype)
    with np.errstate(invalid="ignore"):  # inf * 0
        blas.axpby(0.0, x, 1.0, y)
    assert np.isnan(y[0]) and np.isnan(y[2]) and y[1] == y[3] == 1.0
    y = np.array([np.nan, 1.0, -np.inf, 2.0], dtype)
    with np.errstate(invalid="ignore"):
        blas.axpby(1.0, np.ones(4, dtype), 0.0, y)
    assert np.isnan(y[0]) and np.isnan(y[2]) and y[1] == y[3] == 1.0


def test_optimizers_keep_a_nan_gradient_visible_at_learning_rate_zero():
    import numnet

    for make in (
        lambda: numnet.optimizers.SGD(0.0, momentum=0.9),
        lambda: numnet.optimizers.SGD(0.0, momentum=0.9, nesterov=True),
        lambda: numnet.optimizers.RMSprop(0.0),
        lambda: numnet.optimizers.Adam(0.0),
    ):
        p = numnet.Parameter(np.ones(4, np.float32))
        p.grad = np.array([np.nan, 1.0, np.inf, 1.0], np.float32)
        with np.errstate(invalid="ignore"):  # inf * 0
            make().apply([p])
        assert not np.isfinite(p.data[0]), type(make()).__name__
