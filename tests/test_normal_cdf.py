"""The standard normal CDF of GELU: the float32 kernel against exact values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

import numnet
import numnet.functional as F
from numnet.backend import special
from numnet.backend.ops import Ops


def _grid():
    # a dense grid over the range where Phi is a normal float32 number, and
    # values around each block boundary
    xs = np.linspace(-12.0, 12.0, 3 * special.BLOCK + 17)
    return xs.astype(np.float32)


def test_float32_kernel_is_close_to_the_exact_cdf():
    x = _grid()
    out = special.normal_cdf_float32(x, np.empty_like(x))
    exact = ndtr(x.astype(np.float64))
    assert out.dtype == np.float32
    assert np.abs(out - exact).max() < 3e-7
    # the lower tail keeps its relative precision (no 1 + erf cancellation):
    # what is left is the float32 rounding of the exponent -x^2/2
    relative = np.abs(out - exact) / exact
    assert relative[x < 0].max() < 1e-5
    assert relative[(x < 0) & (x > -4)].max() < 1e-6


def test_numpy_ops_pick_the_kernel_for_float32_and_scipy_for_float64(rng):
    ops = numnet.backend.get_ops(np)
    x = rng.normal(0, 3, (7, 5))
    np.testing.assert_array_equal(ops.normal_cdf(x), ndtr(x))
    x32 = x.astype(np.float32)
    got = ops.normal_cdf(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ndtr(x), atol=3e-7)
    # the portable reference (erf of the host) agrees
    np.testing.assert_allclose(Ops(np).normal_cdf(x), ndtr(x), rtol=1e-12, atol=1e-15)
    strided = x32[:, ::2]  # not contiguous: SciPy
    np.testing.assert_allclose(ops.normal_cdf(strided), ndtr(x[:, ::2]), atol=1e-7)


def test_gelu_matches_torch_in_float32(rng):
    torch = pytest.importorskip("torch")
    x = (rng.normal(size=(64, 300)) * 3).astype(np.float32)
    gy = rng.normal(size=x.shape).astype(np.float32)
    xt = numnet.tensor(x, requires_grad=True)
    y = F.gelu(xt)
    y.backward(gy)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.gelu(tx)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-5, atol=2e-6)


def test_gelu_gradchecks_in_float64(rng):
    assert numnet.gradcheck(F.gelu, [rng.normal(0, 2, (4, 6))])


def test_gelu_gradient_kernel_equals_the_reference(rng):
    numpy_ops = numnet.backend.get_ops(np)
    x = (rng.normal(size=(3, special.BLOCK + 5)) * 3).astype(np.float32)  # 2 blocks
    gy = rng.normal(size=x.shape).astype(np.float32)
    cdf = numpy_ops.normal_cdf(x)
    got = numpy_ops.gelu_grad(gy, x, cdf)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, Ops(np).gelu_grad(gy, x, cdf), rtol=1e-6, atol=1e-6)
    exact = gy * (
        ndtr(x.astype(np.float64))
        + x * np.exp(-0.5 * x.astype(np.float64) ** 2) / np.sqrt(2 * np.pi)
    )
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=2e-6)
