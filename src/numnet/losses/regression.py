"""Keras's other per-sample losses: percentage, logarithmic, log-cosh, cosine,
Poisson and Kullback-Leibler.

Each follows ``keras/src/losses/losses.py`` term for term, its epsilon
(``1e-7``) included, and reduces over the last axis like the neighbours in
:mod:`numnet.losses` (the mean, or the sum where Keras sums).
"""

from __future__ import annotations

import math

import numnet.functional as F
from numnet.autograd.tensor import Tensor
from numnet.losses._base import EPSILON, Loss, _axis, _mean_last, _targets, _y_pred


def _sum_last(values: Tensor) -> Tensor:
    """The sum over the last axis (for ndim >= 2), as ``_mean_last`` means."""
    return F.sum(values, axis=-1) if values.ndim >= 2 else values


class MeanAbsolutePercentageError(Loss):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""

    default_name = "mean_absolute_percentage_error"

    def call(self, y_true, y_pred):
        t = _targets(type(self).__name__, y_true, y_pred)
        scale = F.maximum(F.abs(t), EPSILON)  # Keras's floor: no division by 0
        return 100.0 * _mean_last(F.abs((t - y_pred) / scale))


class MeanSquaredLogarithmicError(Loss):
    """mean((log(1 + y_pred) - log(1 + y_true))^2), values floored at 1e-7.

    As in Keras, both sides are floored at 1e-7 before the logarithm, so a
    negative prediction counts as 1e-7 (and gets no gradient).
    """

    default_name = "mean_squared_logarithmic_error"

    def call(self, y_true, y_pred):
        t = _targets(type(self).__name__, y_true, y_pred)
        d = F.log(F.maximum(y_pred, EPSILON) + 1.0) - F.log(F.maximum(t, EPSILON) + 1.0)
        return _mean_last(d * d)


class LogCosh(Loss):
    """mean(log(cosh(y_pred - y_true))) over the last axis.

    Computed as ``x + softplus(-2x) - log 2`` (Keras's form): log cosh x without
    overflowing cosh for a large error. Its gradient is tanh(x).
    """

    default_name = "log_cosh"

    def call(self, y_true, y_pred):
        x = y_pred - _targets(type(self).__name__, y_true, y_pred)
        return _mean_last(x + F.softplus(x * -2.0) - math.log(2.0))


class CosineSimilarity(Loss):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis``.

    The *negative* cosine similarity, in [-1, 1] (-1: same direction), as in
    Keras, so that minimising it aligns the predictions with the targets. A
    zero vector on either side gives 0.

    Args:
        axis: the feature axis (default -1).
        name, reduction: as for every :class:`Loss`.
    """

    default_name = "cosine_similarity"

    def __init__(self, axis=-1, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.axis = _axis(type(self).__name__, axis)

    def call(self, y_true, y_pred):
        t = _targets(type(self).__name__, y_true, y_pred)
        if not -y_pred.ndim <= self.axis < y_pred.ndim:
            raise ValueError(
                f"CosineSimilarity: invalid value for argument 'axis'. Expected an "
                f"axis of y_pred (ndim {y_pred.ndim}). Received: axis={self.axis}"
            )
        # Keras's l2_normalize: x / max(||x||, 1e-7), a zero vector stays zero
        unit_t = F.normalize(t, 2.0, dim=self.axis, eps=EPSILON)
        product = unit_t * F.normalize(y_pred, 2.0, dim=self.axis, eps=EPSILON)
        return -F.sum(product, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Poisson(Loss):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis.

    ``y_pred`` is the expected count (a rate, >= 0), e.g. an exponential or
    softplus output. A negative prediction counts as 0 inside the logarithm
    (Keras's log of a negative is NaN): the loss stays finite and its gradient
    (1) pushes the prediction back up.
    """

    default_name = "poisson"

    def call(self, y_true, y_pred):
        t = _targets(type(self).__name__, y_true, y_pred)
        # PyTorch's poisson_nll_loss on rates with Keras's epsilon
        rate_loss = F.poisson_nll_loss(
            y_pred, t, log_input=False, eps=EPSILON, reduction="none"
        )
        return _mean_last(rate_loss)


class KLDivergence(Loss):
    """sum(y_true * log(y_true / y_pred)) over the last axis.

    Both sides are clipped to [1e-7, 1] first, as in Keras: a zero target
    contributes (almost) nothing and a zero prediction a large but finite term.
    """

    default_name = "kl_divergence"

    def call(self, y_true, y_pred):
        t = F.clip(_targets(type(self).__name__, y_true, y_pred), EPSILON, 1.0)
        p = F.clip(y_pred, EPSILON, 1.0)
        return _sum_last(F.kl_div(F.log(p), t, reduction="none"))  # t (log t - log p)


def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """Per-sample mean absolute percentage error."""
    return MeanAbsolutePercentageError().call(y_true, _y_pred(y_pred))


def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """Per-sample mean squared logarithmic error."""
    return MeanSquaredLogarithmicError().call(y_true, _y_pred(y_pred))


def log_cosh(y_true, y_pred) -> Tensor:
    """Per-sample log-cosh error."""
    return LogCosh().call(y_true, _y_pred(y_pred))


def cosine_similarity(y_true, y_pred, axis=-1) -> Tensor:
    """Per-sample negative cosine similarity (Keras's loss function form)."""
    return CosineSimilarity(axis).call(y_true, _y_pred(y_pred))


def poisson(y_true, y_pred) -> Tensor:
    """Per-sample Poisson loss."""
    return Poisson().call(y_true, _y_pred(y_pred))


def kl_divergence(y_true, y_pred) -> Tensor:
    """Per-sample Kullback-Leibler divergence."""
    return KLDivergence().call(y_true, _y_pred(y_pred))
