"""SyncBatchNormalization: batch norm whose statistics span every MPI rank.

In data-parallel training each rank sees only its shard of the batch. Plain
BatchNormalization normalizes with that shard's statistics; this layer
normalizes with the statistics of the whole global batch, so 2 ranks with
batch b compute exactly what 1 process computes with batch 2b (ChainerMN's
multi-node batch norm, Keras's ``synchronized=True``).

Forward, per channel, with rank r holding m_r elements, local sum s_r and
local sum of squared deviations q_r (one allgather of ``[m_r, s_r, q_r]``)::

    M = sum_r m_r,   mean = sum_r s_r / M
    var = (sum_r q_r + m_r (s_r / m_r - mean)^2) / M     (Chan's parallel formula)

Backward: rank r's loss is the mean over its own samples and the data-parallel
gradient is the average weighted by w_r = m_r / M, so the global upstream
gradient on rank r is w_r * gy_r. With S1 = sum_r w_r sum(gy_r) and
S2 = sum_r w_r sum(gy_r x_hat_r) (one allreduce), in rank r's own loss units::

    dL/dx_r = gamma * inv_std * (gy_r - (S1 + x_hat_r S2) / m_r)

(with one rank this is the ordinary batch-norm backward). gamma and beta get
their local sums; the gradient allreduce averages them like every weight.
In one process, or at inference, the layer is BatchNormalization.
"""

from __future__ import annotations

import math

from numnet import _comm, backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.shaping import reshape
from numnet.layers import _utils as U
from numnet.layers.normalization import BatchNormalization


def _sum_over(a, axes):
    return a.sum(axis=axes, keepdims=True)


class _SyncNormalize(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, statistics over all ranks."""

    def __init__(self, axes: tuple[int, ...], epsilon: float):
        self.axes, self.epsilon = axes, epsilon

    def forward(self, x, gamma, beta):
        xp, dt = self.xp, x.dtype.type
        padding = _comm.padding_batch()  # filler batch: contributes nothing
        m_local = 0 if padding else math.prod(x.shape[i] for i in self.axes)
        s = _sum_over(x, self.axes)
        mean_local = s / dt(max(m_local, 1))
        q = _sum_over(xp.square(x - mean_local), self.axes)
        if padding:
            s, q = xp.zeros_like(s), xp.zeros_like(q)
        count = xp.full((1,), m_local, dtype=x.dtype)
        packed = xp.concatenate([count, s.ravel(), q.ravel()])
        rows = _comm.allgather(packed)  # (ranks, 1 + 2C), rank order, on x's device
        counts, sums, sq = rows[:, :1], rows[:, 1 : 1 + s.size], rows[:, 1 + s.size :]
        total = counts.sum()
        mean = sums.sum(axis=0) / total
        local_means = sums / xp.maximum(counts, 1)
        var = (sq.sum(axis=0) + (counts * xp.square(local_means - mean)).sum(0)) / total
        mean, var = mean.reshape(s.shape), var.reshape(s.shape)
        self.m_local = m_local
        self.weight = (dt(m_local) / total).astype(x.dtype)  # a 0-d array: no sync
        self.inv_std = 1.0 / xp.sqrt(var + dt(self.epsilon))
        self.x_hat = (x - mean) * self.inv_std
        self.gamma, self.batch_mean, self.batch_var = gamma, mean, var
        return self.x_hat * gamma + beta

    def backward(self, gy):
        # dL/dx_r = gamma * inv_std * (gy_r - (S1 + x_hat_r * S2) / m_r), see the
        # module docstring; S1, S2 are the w-weighted global sums.
        sum_gy = _sum_over(gy, self.axes)
        sum_gyx = _sum_over(gy * self.x_hat, self.axes)
        xp = self.xp
        if self.m_local == 0:
            zeros = xp.zeros_like(sum_gy)
            _comm.allreduce_sum(xp.concatenate([zeros.ravel()] * 2))  # take part
            return xp.zeros_like(gy), zeros, zeros
        local = xp.concatenate([sum_gy.ravel(), sum_gyx.ravel()]) * self.weight
        reduced = _comm.allreduce_sum(local)
        s1 = reduced[: sum_gy.size].reshape(sum_gy.shape)
        s2 = reduced[sum_gy.size :].reshape(sum_gy.shape)
        gx = None
        if self.needs_input_grad[0]:
            gx = gy - (s1 + self.x_hat * s2) / self.x_hat.dtype.type(self.m_local)
            gx *= self.gamma * self.inv_std
        return gx, sum_gyx, sum_gy


def sync_batch_norm(
    x, gamma, beta, moving_mean, moving_variance, momentum, epsilon, axis
) -> Tensor:
    """Training-mode batch norm with statistics over every rank (see the module).

    The moving statistics are updated in place with the global batch mean and
    biased variance, so they stay identical on every rank.

    Shape:
        x: (..., C, ...) -> same shape; gamma, beta, moving_*: (C,).
    """
    x = as_tensor(x)
    shape = tuple(x.shape[i] if i == axis else 1 for i in range(x.ndim))

    def param(value, fill):
        if value is None:
            xp = backend.get_array_module(x.data)  # on x's device
            return Tensor._from_op(xp.full(shape, fill, dtype=x.dtype))
        return reshape(as_tensor(value), shape)

    fn = _SyncNormalize(tuple(i for i in range(x.ndim) if i != axis), epsilon)
    y = fn(x, param(gamma, 1.0), param(beta, 0.0))
    stats = ((moving_mean, fn.batch_mean), (moving_variance, fn.batch_var))
    for moving, batch in stats:
        moving = moving.data if isinstance(moving, Tensor) else moving
        moving *= momentum
        moving += (1.0 - momentum) * batch.reshape(moving.shape)
    return y


class SyncBatchNormalization(BatchNormalization):
    """BatchNormalization with batch statistics reduced across MPI ranks.

    Takes the arguments of :class:`BatchNormalization`. In training mode
    inside an MPI job of several ranks (``numnet.distributed.init()``), the
    mean and variance are those of the global batch (all ranks' samples) and
    the backward pass reduces their gradients too; otherwise (one process,
    or inference) it is exactly BatchNormalization. Every rank must call it
    the same number of times per step, as every data-parallel step does.

    Shape:
        input: (N, ..., C, ...); output: the same shape.
    """

    def call(self, x, training=False):
        if not (training and self.trainable and _comm.active()):
            return super().call(x, training=training)
        x = U.float_input(self, x)
        U.check_input(
            self, x.shape, ndim=self._ndim, axes={self._channel_axis: self.channels}
        )
        return sync_batch_norm(
            x,
            self.gamma,
            self.beta,
            self.moving_mean,
            self.moving_variance,
            momentum=self.momentum,
            epsilon=self.epsilon,
            axis=self._channel_axis,
        )
