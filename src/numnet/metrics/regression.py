"""Keras's metrics that average a loss: KLDivergence, CosineSimilarity,
LogCoshError, Poisson, MeanSquaredLogarithmicError, MeanAbsolutePercentageError,
Hinge, SquaredHinge, CategoricalHinge.

Each is the (sample-weighted) mean over all samples seen of the per-sample
values of the :mod:`numnet.losses` loss of the same formula, as Keras's
``MeanMetricWrapper`` of the loss function.
"""

from __future__ import annotations

from numnet import losses
from numnet.metrics.accuracy import LossMetric


class _LossMean(LossMetric):
    """The mean of a fixed loss's per-sample values (config: the name only)."""

    loss_class: type = losses.Loss

    def __init__(self, name=None):
        super().__init__(self.loss_class(), name or self.default_name)

    def get_config(self) -> dict:
        return {"name": self.name}


class KLDivergence(_LossMean):
    """Mean Kullback-Leibler divergence sum(y log(y / p)) (see the loss)."""

    default_name = "kl_divergence"
    loss_class = losses.KLDivergence


class LogCoshError(_LossMean):
    """Mean log(cosh(y_pred - y_true)) (see ``losses.LogCosh``)."""

    default_name = "logcosh"
    loss_class = losses.LogCosh


class Poisson(_LossMean):
    """Mean Poisson loss y_pred - y_true log(y_pred + 1e-7)."""

    default_name = "poisson"
    loss_class = losses.Poisson


class MeanSquaredLogarithmicError(_LossMean):
    """Mean squared logarithmic error (see the loss)."""

    default_name = "mean_squared_logarithmic_error"
    loss_class = losses.MeanSquaredLogarithmicError


class MeanAbsolutePercentageError(_LossMean):
    """Mean absolute percentage error (see the loss)."""

    default_name = "mean_absolute_percentage_error"
    loss_class = losses.MeanAbsolutePercentageError


class Hinge(_LossMean):
    """Mean hinge loss (0/1 labels become -1/1, as the loss)."""

    default_name = "hinge"
    loss_class = losses.Hinge


class SquaredHinge(_LossMean):
    """Mean squared hinge loss."""

    default_name = "squared_hinge"
    loss_class = losses.SquaredHinge


class CategoricalHinge(_LossMean):
    """Mean categorical hinge loss."""

    default_name = "categorical_hinge"
    loss_class = losses.CategoricalHinge


class CosineSimilarity(LossMetric):
    """Mean cosine similarity along ``axis``: in [-1, 1], 1 for the same direction.

    The *positive* similarity, as Keras's metric (the loss is its negative).

    Args:
        name: the metric name (default "cosine_similarity").
        axis: the feature axis (default -1).
    """

    default_name = "cosine_similarity"

    def __init__(self, name=None, axis=-1):
        super().__init__(losses.CosineSimilarity(axis), name or self.default_name)

    def _values(self, y_true, y_pred):
        return -super()._values(y_true, y_pred)

    def get_config(self) -> dict:
        return {"name": self.name, "axis": self.loss.axis}
