"""Group normalization: one fused op, ``_GroupNorm``, on a channels-last layout.

x is viewed as (N, S, G, C / G) (S: every position, flattened; the C channels
in G contiguous groups); each (sample, group) is normalized over its S * C / G
values. The per-group sums are taken in two steps, over the positions (the
channels contiguous) and then within each group: NumPy reduces one strided
view over both axes several times slower. The composed
twin (mean, var and elementwise ops) is the oracle in the tests.
"""

from __future__ import annotations

import math

import numpy as np

from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, array_module, as_tensor
from numnet.functional.shaping import permute, reshape


class _GroupNorm(Function):
    """y = gamma * x_hat + beta, x_hat = (x - mean) / sqrt(var + eps) per group.

    x: (N, S, G, C / G); gamma, beta: (G, C / G); statistics per (sample,
    group), biased variance.
    """

    def __init__(self, epsilon: float):
        self.epsilon = epsilon

    @staticmethod
    def _group_mean(a):
        """(N, S, G, Cg) -> the mean of each (sample, group), as (N, 1, G, 1)."""
        N, S, G, Cg = a.shape
        sums = a.sum(axis=1).sum(axis=2)  # over S (channels contiguous), then Cg
        return (sums / a.dtype.type(S * Cg)).reshape(N, 1, G, 1)

    def forward(self, x, gamma, beta):
        centred = x - self._group_mean(x)
        var = self._group_mean(centred * centred)
        self.inv_std = 1.0 / self.xp.sqrt(var + x.dtype.type(self.epsilon))
        self.x_hat, self.gamma = centred * self.inv_std, gamma
        return self.x_hat * gamma + beta

    def backward(self, gy):
        # With g = dL/dx_hat = gy * gamma and means over each group's m values:
        #   dL/dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))
        # (the two mean terms are the paths through the group mean and variance);
        # dL/dgamma = sum(gy * x_hat), dL/dbeta = sum(gy) over N and S.
        gx = ggamma = gbeta = None
        if self.needs_input_grad[0]:
            g = gy * self.gamma
            gx = g - self._group_mean(g)
            gx -= self.x_hat * self._group_mean(g * self.x_hat)
            gx *= self.inv_std
        if self.needs_input_grad[1]:
            ggamma = (gy * self.x_hat).sum(axis=(0, 1))
        if self.needs_input_grad[2]:
            gbeta = gy.sum(axis=(0, 1))
        return gx, ggamma, gbeta


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check(x: Tensor, groups, axis) -> int:
    """The channel axis as a non-negative int, or the ValueError."""
    a = axis % x.ndim if _is_int(axis) and -x.ndim <= axis < x.ndim else None
    if a in (None, 0) or not _is_int(groups) or groups < 1 or x.shape[a] % groups:
        raise ValueError(
            f"group_norm: expected an input of at least 2 axes and a channel axis "
            f"other than the batch axis whose size is a multiple of groups. "
            f"Received: groups={groups!r}, axis={axis!r}, input shape {x.shape}"
        )
    return a


def _param(value, shape, fill: float, like: Tensor) -> Tensor:
    if value is None:
        return Tensor._from_op(array_module(like).full(shape, fill, dtype=like.dtype))
    return reshape(as_tensor(value), shape)


def group_norm(
    x, gamma=None, beta=None, groups: int = 32, axis: int = -1, epsilon: float = 1e-3
) -> Tensor:
    """Group normalization (Keras GroupNormalization, PyTorch ``group_norm``).

    The C channels along ``axis`` are split into ``groups`` contiguous groups of
    C / groups; each sample is normalized within each group over its channels
    and every other non-batch axis: ``y = gamma * (x - mean) / sqrt(var +
    epsilon) + beta``, biased variance, gamma and beta per channel (default 1
    and 0). A channel axis other than the last is moved last and back.

    Shape:
        x: (N, ..., C, ...) -> same shape; gamma, beta: (C,).
    """
    x = as_tensor(x)
    a = _check(x, groups, axis)
    if a != x.ndim - 1:  # channels-first layouts: move the channels last
        order = [i for i in range(x.ndim) if i != a] + [a]
        y = group_norm(permute(x, order), gamma, beta, groups, -1, epsilon)
        return permute(y, [order.index(i) for i in range(x.ndim)])
    C, G = x.shape[-1], int(groups)
    split = (G, C // G)
    grouped = (x.shape[0], math.prod(x.shape[1:-1])) + split
    g, b = _param(gamma, split, 1.0, x), _param(beta, split, 0.0, x)
    return reshape(_GroupNorm(epsilon)(reshape(x, grouped), g, b), x.shape)
