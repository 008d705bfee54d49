"""backend.sum_leading: the GEMV sum over leading axes agrees with np.sum."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import backend


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, lead", [((64, 9, 9, 8), 3), ((512, 40), 1), ((8, 64, 16), 2)]
)
def test_sum_leading_matches_numpy_on_the_gemv_path(dtype, shape, lead):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    assert a.size >= 4096  # large enough for the BLAS path
    out = backend.sum_leading(a, lead)
    assert out.dtype == dtype and out.shape == shape[lead:]
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, a.sum(axis=tuple(range(lead))), rtol=tol, atol=tol)


def test_sum_leading_falls_back_for_views_and_ints():
    a = np.arange(2 * 4096, dtype=np.float32).reshape(2, 4096)
    np.testing.assert_array_equal(backend.sum_leading(a.T, 1), a.T.sum(axis=0))
    ints = np.arange(6).reshape(3, 2)
    assert backend.sum_leading(ints, 1).tolist() == [6, 9]
