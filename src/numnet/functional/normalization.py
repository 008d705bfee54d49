"""Batch and layer normalization: one fused op, ``_Normalize``.

It is one Function (forward and backward side by side) because the composed
version (a dozen elementwise ops) is needlessly slow; its general code is the
oracle of the channels-last kernels (``numnet._kernels.normalization`` on NumPy,
``numnet.backend.cupy_norm`` on CuPy).
"""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet._kernels.normalization import applies as channel_norm_applies
from numnet._kernels.normalization import (
    channel_norm_backward,
    channel_norm_forward,
)
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, _raw, array_module, as_tensor
from numnet.functional.elementwise import sqrt
from numnet.functional.shaping import reshape


class _Normalize(Function):
    """y = gamma * x_hat + beta, x_hat = (x - mean) / sqrt(var + eps) over ``axes``.

    The statistics are over ``axes`` (batch norm: every axis but the channel;
    layer norm: the feature axes); gamma and beta broadcast against x. The
    variance is the biased one (divide by m), as in the normalization itself.

    Channels-last batch norm on NumPy (``axes`` all but the last, gamma and
    beta per channel) runs the blocked kernels of
    ``numnet._kernels.normalization``; everything else, and ``reference=True``,
    runs the general code below: the oracle the tests compare the kernels to.
    """

    def __init__(self, axes: tuple[int, ...], epsilon: float, reference=False):
        self.axes, self.epsilon, self.reference = axes, epsilon, reference

    def forward(self, x, gamma, beta):
        axes = self.axes
        self.cuda = (
            None if self.reference else _cuda_kernels(self.ops, x, axes, gamma, beta)
        )
        self.per_channel = self.cuda is None and self._per_channel(x, gamma, beta)
        if self.per_channel:
            return self._forward_per_channel(x, gamma, beta)
        self.m = x.dtype.type(math.prod(x.shape[i] for i in axes))
        if self.cuda is not None:  # CuPy, channels last: reductions + one kernel
            y, self.x_hat, mean, var, self.inv_std = self.cuda.batch_norm_forward(
                x, gamma, beta, self.m, self.epsilon
            )
            self.gamma, self.batch_mean, self.batch_var = gamma, mean, var
            return y
        mean = _sum_over(x, axes) / self.m
        x_hat = x - mean  # centered, then scaled in place below
        var = _sum_over(self.xp.square(x_hat), axes) / self.m
        self.inv_std = 1.0 / self.xp.sqrt(var + x.dtype.type(self.epsilon))
        x_hat *= self.inv_std
        self.x_hat, self.gamma = x_hat, gamma
        self.batch_mean, self.batch_var = mean, var
        # gamma and beta have the statistics' shape (batch norm): their gradients
        # are the same sums over ``axes`` that dL/dx needs.
        self.fused = gamma.shape == mean.shape and beta.shape == mean.shape
        y = x_hat * gamma
        y += beta
        return y

    def _per_channel(self, x, gamma, beta) -> bool:
        """True for the kernels' case: a CPU batch norm of every axis but the
        last, along which alone gamma and beta vary."""
        if self.reference or self.axes != tuple(range(x.ndim - 1)):
            return False
        C = x.shape[-1] if x.ndim else 0
        return channel_norm_applies(x) and all(
            p.ndim <= x.ndim and math.prod(p.shape) in (1, C)
            and math.prod(p.shape[-1:]) == math.prod(p.shape)
            for p in (gamma, beta)
        )  # fmt: skip

    def _forward_per_channel(self, x, gamma, beta):
        C, xp = x.shape[-1], self.xp
        gamma, beta = (
            xp.broadcast_to(xp.reshape(p, (-1,)).astype(x.dtype, copy=False), (C,))
            for p in (gamma, beta)
        )
        self.x2 = xp.reshape(x, (-1, C))
        y, self.mean, var, self.inv_std = channel_norm_forward(
            self.x2, gamma, beta, self.epsilon
        )
        self.gamma, mean = gamma, self.mean
        keep = (1,) * (x.ndim - 1) + (C,)  # the statistics' keepdims shape
        self.batch_mean, self.batch_var = mean.reshape(keep), var.reshape(keep)
        return xp.reshape(y, x.shape)

    def backward(self, gy):
        # With g = dL/dx_hat = gy * gamma and means over the m normalized elements:
        #   dL/dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))
        # (the two mean terms are the paths through the batch mean and variance).
        if self.cuda is not None:
            return self.cuda.batch_norm_backward(
                gy, self.x_hat, self.gamma, self.inv_std, self.m,
                self.needs_input_grad[0],
            )  # fmt: skip
        if self.per_channel:
            return self._backward_per_channel(gy)
        if not self.fused:
            return self._backward_broadcast(gy)
        # gamma and beta are constant over ``axes``, so mean(g) = gamma*mean(gy)
        # and dgamma = sum(gy * x_hat), dbeta = sum(gy) over ``axes``.
        sum_gy = _sum_over(gy, self.axes)
        sum_gyx = _sum_over(gy * self.x_hat, self.axes)
        gx = None
        if self.needs_input_grad[0]:
            gx = self.x_hat * (sum_gyx / self.m)
            self.xp.subtract(gy, gx, out=gx)
            gx -= sum_gy / self.m
            gx *= self.gamma * self.inv_std
        return gx, sum_gyx, sum_gy

    def _backward_per_channel(self, gy):
        shape = gy.shape
        if not gy.flags.c_contiguous:
            gy = self.xp.ascontiguousarray(gy)
        gx, dgamma, dbeta = channel_norm_backward(
            self.xp.reshape(gy, (-1, shape[-1])),
            self.x2, self.mean, self.gamma, self.inv_std, self.needs_input_grad[0],
        )  # fmt: skip
        keep = (1,) * (len(shape) - 1) + (shape[-1],)  # the engine sums to gamma's
        gx = None if gx is None else self.xp.reshape(gx, shape)
        return gx, dgamma.reshape(keep), dbeta.reshape(keep)

    def _backward_broadcast(self, gy):
        """The general case (layer norm: gamma spans the normalized axes)."""
        gx = ggamma = gbeta = None
        if self.needs_input_grad[0]:
            g = gy * self.gamma
            mean_g = g.mean(axis=self.axes, keepdims=True)
            mean_gx = (g * self.x_hat).mean(axis=self.axes, keepdims=True)
            gx = self.inv_std * (g - mean_g - self.x_hat * mean_gx)
        if self.needs_input_grad[1]:
            ggamma = gy * self.x_hat  # summed to gamma's shape by the engine
        if self.needs_input_grad[2]:
            gbeta = gy
        return gx, ggamma, gbeta


def _cuda_kernels(ops, x, axes, gamma, beta):
    """``numnet.backend.cupy_norm`` for a channels-last batch norm of CuPy arrays
    (statistics over every axis but the last), else None."""
    if ops.name != "cupy" or axes != tuple(range(x.ndim - 1)):
        return None
    from numnet.backend import cupy_norm  # imports CuPy: only once it is in use

    return cupy_norm if cupy_norm.supports(x, gamma, beta) else None


def _sum_over(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Sum over ``axes`` with keepdims; a GEMV when they are the leading axes."""
    if axes == tuple(range(len(axes))):  # ops.sum_leading checks the layout
        return backend.sum_leading(a, len(axes)).reshape(
            (1,) * len(axes) + a.shape[len(axes) :]
        )
    return a.sum(axis=axes, keepdims=True)


def _channel_axis(axis: int, ndim: int, owner: str) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{owner}: invalid value for argument 'axis'. Expected an axis of a "
            f"{ndim}-D input. Received: axis={axis}"
        )
    return axis % ndim


def _param(value, shape, dtype, fill: float, like) -> Tensor:
    """gamma/beta reshaped to broadcast along the channel axis (or a constant)."""
    if value is None:
        return Tensor._from_op(array_module(like).full((), fill, dtype=dtype))
    value = as_tensor(value)
    return (
        value if value.shape == tuple(shape[-value.ndim :]) else reshape(value, shape)
    )


def batch_norm(
    x,
    gamma=None,
    beta=None,
    moving_mean=None,
    moving_variance=None,
    training: bool = False,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    axis: int = -1,
) -> Tensor:
    """Batch normalization over every axis but ``axis`` (the channel axis).

    Training: normalize with the batch mean and (biased) variance, and update the
    moving statistics in place, Keras style:
    ``moving = momentum * moving + (1 - momentum) * batch``.
    Inference: normalize with the moving statistics (an affine map of x).

    Args:
        x: input, e.g. (N, D) after Dense or (N, H, W, C) after Conv2D.
        gamma, beta: scale and offset of shape (C,), or None (1 and 0).
        moving_mean, moving_variance: (C,) Tensors or arrays; updated in place in
            training mode (when given), required in inference mode.
        training: use batch statistics (True) or the moving ones (False).
        momentum: weight of the old moving value.
        epsilon: added to the variance before the square root.
        axis: the channel axis.

    Shape:
        x: (..., C, ...) -> same shape.
    """
    x = as_tensor(x)
    ch = _channel_axis(axis, x.ndim, "batch_norm")
    shape = tuple(x.shape[i] if i == ch else 1 for i in range(x.ndim))
    g, b = _param(gamma, shape, x.dtype, 1.0, x), _param(beta, shape, x.dtype, 0.0, x)
    if training:
        fn = _Normalize(tuple(i for i in range(x.ndim) if i != ch), epsilon)
        y = fn(x, g, b)
        for moving, batch in (
            (moving_mean, fn.batch_mean),
            (moving_variance, fn.batch_var),
        ):
            if moving is not None:
                moving = _raw(moving)
                moving *= momentum
                moving += (1.0 - momentum) * batch.reshape(moving.shape)
        return y
    if moving_mean is None or moving_variance is None:
        raise ValueError(
            "batch_norm: inference mode (training=False) needs moving_mean and "
            "moving_variance"
        )
    mean = reshape(as_tensor(_raw(moving_mean)), shape)
    var = reshape(as_tensor(_raw(moving_variance)), shape)
    scale = g / sqrt(var + epsilon)  # folded: y = x * scale + (beta - mean * scale)
    return x * scale + (b - mean * scale)


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon: float = 1e-3) -> Tensor:
    """Layer normalization: normalize each sample over ``axis`` (int or tuple).

    gamma and beta have the shape of the normalized axes and broadcast over the
    others. Same fused op as :func:`batch_norm`, with per-sample statistics.

    Shape:
        x: (N, ..., D) -> same shape.
    """
    x = as_tensor(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(sorted(_channel_axis(a, x.ndim, "layer_norm") for a in axes))
    shape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    g, b = _param(gamma, shape, x.dtype, 1.0, x), _param(beta, shape, x.dtype, 0.0, x)
    return _Normalize(axes, epsilon)(x, g, b)
