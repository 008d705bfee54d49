"""Batch normalization on CUDA: channel reductions and one elementwise kernel.

For channels-last input x (..., C) with statistics over every axis but the
last (what ``functional.batch_norm`` and ``layers.BatchNormalization`` do),
with m the number of values per channel:

* forward: mean = sum(x) / m and var = sum((x - mean)^2) / m, two column
  reductions (``cupy_reduce``: two passes, as on the CPU, so no cancellation
  in E[x^2] - mean^2), then one kernel writes x_hat = (x - mean) / sqrt(var +
  eps) and y = gamma x_hat + beta;
* backward: one column reduction gives sum(gy) and sum(gy x_hat) (= dbeta and
  dgamma), then one kernel writes
  dx = gamma inv_std (gy - x_hat sum(gy x_hat) / m - sum(gy) / m).

The same formulas, in the same order, as ``_Normalize`` in
``numnet/functional/normalization.py``, which calls this module for CuPy arrays.
Imported only with CuPy present (see ``cupy_ops``).
"""

from __future__ import annotations

import cupy

from numnet.backend import cupy_reduce

_VARIANCE = cupy.ElementwiseKernel(
    "T sq_total, T m, T eps",
    "T var, T inv_std",
    "var = sq_total / m; inv_std = (T)1 / sqrt(var + eps);",
    "numnet_batch_norm_variance",
)
_FORWARD = cupy.ElementwiseKernel(
    "T x, raw T mean, raw T inv_std, raw T gamma, raw T beta, int32 C",
    "T y, T x_hat",
    """
    const int c = i % C;  // channels last
    x_hat = (x - mean[c]) * inv_std[c];
    y = x_hat * gamma[c] + beta[c];
    """,
    "numnet_batch_norm_forward",
)
_BACKWARD = cupy.ElementwiseKernel(
    "T gy, T x_hat, raw T sum_gy, raw T sum_gyx, raw T gamma, raw T inv_std, "
    "T m, int32 C",
    "T gx",
    """
    const int c = i % C;
    gx = (gy - x_hat * (sum_gyx[c] / m) - sum_gy[c] / m) * (gamma[c] * inv_std[c]);
    """,
    "numnet_batch_norm_backward",
)


def supports(x, gamma, beta) -> bool:
    """True when the kernels apply: float32/float64 x, gamma, beta of one dtype,
    gamma and beta shaped (C,) (the layer's weights) or (1, ..., 1, C) for x
    (..., C)."""
    shapes = ((1,) * (x.ndim - 1) + x.shape[-1:], x.shape[-1:])
    return (
        x.ndim >= 2
        and cupy_reduce.supports(x)
        and gamma.dtype == x.dtype == beta.dtype
        and gamma.shape == beta.shape
        and gamma.shape in shapes
    )


def batch_norm_forward(x, gamma, beta, m, epsilon: float):
    """(y, x_hat, mean, var, inv_std); the statistics shaped (1, ..., 1, C).

    Args:
        x: (..., C) input; gamma, beta: (1, ..., 1, C).
        m: the number of values per channel, in x's dtype.
        epsilon: added to the variance.
    """
    x = cupy.ascontiguousarray(x)
    C = x.shape[-1]
    mean = cupy_reduce.column_sums(x) / m
    var, inv_std = _VARIANCE(cupy_reduce.squared_deviation_sums(x, mean), m, epsilon)
    flat = (cupy.ascontiguousarray(a).reshape(C) for a in (gamma, beta))
    y, x_hat = _FORWARD(x, mean, inv_std, *flat, C)
    keep = (1,) * (x.ndim - 1) + (C,)  # the general path's keepdims shape
    return y, x_hat, mean.reshape(keep), var.reshape(keep), inv_std.reshape(keep)


def batch_norm_backward(gy, x_hat, gamma, inv_std, m, need_dx: bool):
    """(dx or None, dgamma, dbeta) of :func:`batch_norm_forward` for upstream gy."""
    gy = cupy.ascontiguousarray(gy)
    C = gy.shape[-1]
    sum_gy, sum_gyx = cupy_reduce.grad_sums(gy, x_hat)
    gx = None
    if need_dx:
        flat = (cupy.ascontiguousarray(a).reshape(C) for a in (gamma, inv_std))
        gx = _BACKWARD(gy, x_hat, sum_gy, sum_gyx, *flat, m, C)
    return gx, sum_gyx.reshape(gamma.shape), sum_gy.reshape(gamma.shape)
