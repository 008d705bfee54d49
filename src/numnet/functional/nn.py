"""Fused neural-network ops: dropout (and its Gaussian forms) and the cross-entropy
losses.

Each is one Function (forward and backward side by side) because the composed
version is either numerically unsafe (softmax followed by log overflows) or
needlessly slow. Their composed twins live in the tests as oracles. Batch and
layer normalization are in ``functional/normalization.py``.
"""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, _raw, array_module, as_tensor
from numnet.backend import draws
from numnet.functional.activations import stable_sigmoid


class _Dropout(Function):
    """y = x * keep / (1 - rate): the mask and the scale are fixed before the call
    (gaussian_dropout passes its multiplicative noise as the scaled mask)."""

    def __init__(self, scaled_mask: np.ndarray):
        self.scaled_mask = scaled_mask

    def forward(self, x):
        return x * self.scaled_mask

    def backward(self, gy):
        return gy * self.scaled_mask  # dy/dx = keep / (1 - rate)


class _SoftmaxCrossEntropy(Function):
    """loss = -sum_k t_k log softmax(z)_k along ``axis``, via log-sum-exp."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, z, t):
        shifted = z - z.max(axis=self.axis, keepdims=True)  # no overflow in exp
        lse = self.xp.log(self.xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.log_p, self.t = shifted - lse, t
        # 0 * log p is 0 even where p underflows to 0 (a masked -inf logit)
        safe_log_p = self.xp.where(t != 0, self.log_p, z.dtype.type(0))
        return -(t * safe_log_p).sum(axis=self.axis)

    def backward(self, gy):
        # dL/dz = softmax(z) * sum(t) - t (= p - t for one-hot t); dL/dt = -log p
        g = self.xp.expand_dims(gy, self.axis)
        gz = gt = None
        if self.needs_input_grad[0]:
            total = self.t.sum(axis=self.axis, keepdims=True)
            gz = g * (self.xp.exp(self.log_p) * total - self.t)
        if self.needs_input_grad[1]:
            gt = -g * self.log_p
        return gz, gt


class _SparseSoftmaxCrossEntropy(Function):
    """loss = logsumexp(z) - z[label] over the last axis; labels are integers."""

    nondifferentiable = (1,)

    def forward(self, z, labels):
        self.cuda = _cuda_loss(self.ops, z)
        if self.cuda is not None:  # CuPy: one kernel, keeps the softmax
            loss, self.p = self.cuda.sparse_ce_forward(z, labels)
            self.labels = labels
            return loss
        shifted = z - z.max(axis=-1, keepdims=True)
        self.log_p = shifted - self.xp.log(
            self.xp.exp(shifted).sum(axis=-1, keepdims=True)
        )
        self.index = labels[..., None]
        return -self.xp.take_along_axis(self.log_p, self.index, axis=-1)[..., 0]

    def backward(self, gy):
        # dL/dz = softmax(z) - one_hot(label)
        if self.cuda is not None:
            return self.cuda.sparse_ce_backward(gy, self.p, self.labels), None
        p = self.xp.exp(self.log_p)
        picked = self.xp.take_along_axis(p, self.index, axis=-1)
        self.xp.put_along_axis(p, self.index, picked - 1, axis=-1)
        return gy[..., None] * p, None


def _cuda_loss(ops, z):
    """``numnet.backend.cupy_loss`` for CuPy logits it supports, else None."""
    if ops.name != "cupy":
        return None
    from numnet.backend import cupy_loss  # imports CuPy: only once it is in use

    return cupy_loss if cupy_loss.supports(z) else None


class _SigmoidBinaryCrossEntropy(Function):
    """Elementwise -t log s(z) - (1 - t) log(1 - s(z)), s the sigmoid.

    Computed as max(z, 0) - z t + log(1 + e^-|z|): no overflow for any z.
    """

    def forward(self, z, t):
        self.z, self.t = z, t
        return (
            self.xp.maximum(z, 0) - z * t + self.xp.log1p(self.xp.exp(-self.xp.abs(z)))
        )

    def backward(self, gy):
        # dL/dz = sigmoid(z) - t ; dL/dt = -z
        gz = (
            gy * (stable_sigmoid(self.z) - self.t) if self.needs_input_grad[0] else None
        )
        gt = -gy * self.z if self.needs_input_grad[1] else None
        return gz, gt


def dropout(
    x, rate: float, training: bool = True, mask=None, rng=None, noise_shape=None
) -> Tensor:
    """Inverted dropout: zero each element with probability ``rate``, scale the rest.

    At training time ``y = x * keep / (1 - rate)`` so the expected activation is
    unchanged and inference is the identity (no rescaling needed).

    Args:
        x: the input tensor.
        rate: the drop probability, in [0, 1).
        training: False returns ``x`` unchanged.
        mask: an optional keep mask (bool or 0/1, broadcastable to x) to pin the
            random draw (tests); it is still scaled by 1 / (1 - rate).
        rng: a Generator or int seed; default numnet's global generator.
        noise_shape: the shape of the random mask (broadcast against x), e.g.
            ``(N, 1, 1, C)`` to drop whole feature maps.

    Shape:
        any -> same shape.
    """
    is_number = isinstance(rate, (int, float, np.number)) and not isinstance(rate, bool)
    if not is_number or not 0 <= rate < 1:
        raise ValueError(
            f"dropout: invalid value for argument 'rate'. Expected a number in "
            f"[0, 1). Received: rate={rate!r}"
        )
    x = as_tensor(x)
    if not training or (rate == 0 and mask is None):
        return x
    xp = array_module(x)
    if mask is None:  # drawn on x's device (numnet.backend.draws)
        shape = x.shape if noise_shape is None else tuple(noise_shape)
        mask = draws.keep_mask(xp, shape, rate, rng)
    mask = xp.asarray(_raw(mask))
    try:
        ok = xp.broadcast_shapes(mask.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"dropout: the mask of shape {mask.shape} does not broadcast to the "
            f"input shape {x.shape}"
        )
    scale = 1.0 / (1.0 - rate)
    return _Dropout(backend.get_ops(xp).scaled_mask(mask, scale, x.dtype))(x)


def _normal_noise(x: Tensor, rng, mean: float, stddev: float):
    """N(mean, stddev^2) noise of x's shape and dtype, drawn on x's device as
    dropout's mask (``numnet.backend.draws``)."""
    kind = np.float64 if x.dtype == np.float64 else np.float32
    noise = draws.standard_normal(array_module(x), x.shape, kind, rng)
    noise = noise * kind(stddev) + kind(mean)
    return noise.astype(x.dtype, copy=False)


def _noise_level(op: str, name: str, value, high: float) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not 0 <= value < high:
        raise ValueError(
            f"{op}: invalid value for argument '{name}'. Expected a number in "
            f"[0, {high}). Received: {name}={value!r}"
        )
    return float(value)


def gaussian_noise(x, stddev: float, training: bool = True, rng=None) -> Tensor:
    """Additive Gaussian noise: ``y = x + n``, n ~ N(0, stddev^2) per element.

    Args:
        x: the input tensor.
        stddev: the noise's standard deviation (>= 0).
        training: False returns ``x`` unchanged.
        rng: a Generator or int seed; default numnet's global generator.

    Shape:
        any -> same shape.
    """
    stddev = _noise_level("gaussian_noise", "stddev", stddev, float("inf"))
    x = as_tensor(x)
    if not training or stddev == 0:
        return x
    # dy/dx = 1: the noise is a constant of the graph
    return x + Tensor._from_op(_normal_noise(x, rng, 0.0, stddev))


def gaussian_dropout(x, rate: float, training: bool = True, rng=None) -> Tensor:
    """Multiplicative Gaussian noise: ``y = x * n``, n ~ N(1, rate / (1 - rate)).

    The noise has dropout's mean (1) and variance (rate / (1 - rate)) at the
    same ``rate``, without zeros.

    Args:
        x: the input tensor.
        rate: the equivalent drop probability, in [0, 1).
        training: False returns ``x`` unchanged.
        rng: a Generator or int seed; default numnet's global generator.

    Shape:
        any -> same shape.
    """
    rate = _noise_level("gaussian_dropout", "rate", rate, 1.0)
    x = as_tensor(x)
    if not training or rate == 0:
        return x
    stddev = math.sqrt(rate / (1.0 - rate))
    return _Dropout(_normal_noise(x, rng, 1.0, stddev))(x)  # dy/dx = n


def _same_float(t, reference: Tensor) -> Tensor:
    """Targets without a graph take the dtype of the predictions (no float64 leak)."""
    t = as_tensor(t)
    if not t.requires_grad and t.dtype != reference.dtype:
        t = Tensor._from_op(t.data.astype(reference.dtype))
    return t


def _check_same_shape(name: str, logits: Tensor, targets: Tensor) -> None:
    if logits.shape != targets.shape:
        raise ValueError(
            f"{name}: targets and logits must have the same shape. Received: "
            f"targets.shape={targets.shape}, logits.shape={logits.shape}"
        )


def softmax_cross_entropy(logits, targets, axis: int = -1) -> Tensor:
    """Cross-entropy of softmax(logits) against probability targets, fused.

    ``-sum(t * log_softmax(z))`` along ``axis``, computed with log-sum-exp, so
    logits of any size give a finite loss and gradient (``softmax(z) - t``).

    Shape:
        logits, targets: (N, ..., C) -> (N, ...) per-sample losses.
    """
    logits = as_tensor(logits)
    targets = _same_float(targets, logits)
    _check_same_shape("softmax_cross_entropy", logits, targets)
    return _SoftmaxCrossEntropy(axis)(logits, targets)


def sparse_softmax_cross_entropy(logits, labels) -> Tensor:
    """Cross-entropy of softmax(logits) over the last axis against integer labels.

    Raises:
        ValueError: when a label is outside [0, C) or the shapes disagree.

    Shape:
        logits: (N, ..., C), labels: (N, ...) integers -> (N, ...).
    """
    logits = as_tensor(logits)
    labels = array_module(logits).asarray(_raw(labels))
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"sparse_softmax_cross_entropy: labels must have the shape of the logits "
            f"without the class axis, {logits.shape[:-1]}. Received: "
            f"labels.shape={labels.shape}, logits.shape={logits.shape}"
        )
    # CuPy: the kernel checks the range on the GPU (cupy_loss.LabelCheck), as
    # a host check here would wait for the GPU at every batch
    on_gpu = _cuda_loss(backend.get_ops(labels), logits.data) is not None
    labels = _as_int_labels(
        labels, logits.shape[-1], "sparse_softmax_cross_entropy", not on_gpu
    )
    return _SparseSoftmaxCrossEntropy()(logits, labels)


def _as_int_labels(labels, num_classes: int, owner: str, check_range: bool = True):
    xp = backend.get_array_module(labels)
    if labels.dtype.kind == "f":
        if not xp.all(xp.mod(labels, 1) == 0):
            raise ValueError(f"{owner}: labels must be integers (class indices)")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise ValueError(
            f"{owner}: labels must be integers. Received dtype {labels.dtype}"
        )
    if (
        check_range
        and labels.size
        and (labels.min() < 0 or labels.max() >= num_classes)
    ):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(
            f"{owner}: received a label value of {bad} which is outside the valid "
            f"range of [0, {num_classes})"
        )
    return labels


def sigmoid_binary_cross_entropy(logits, targets) -> Tensor:
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], fused.

    ``max(z, 0) - z t + log(1 + exp(-|z|))``: finite for logits of any size,
    gradient ``sigmoid(z) - t``.

    Shape:
        logits, targets: any (same shape) -> same shape (elementwise losses).
    """
    logits = as_tensor(logits)
    targets = _same_float(targets, logits)
    _check_same_shape("sigmoid_binary_cross_entropy", logits, targets)
    return _SigmoidBinaryCrossEntropy()(logits, targets)
