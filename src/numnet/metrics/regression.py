"""Keras's metrics that average a loss: KLDivergence, CosineSimilarity,
LogCoshError, Poisson, MeanSquaredLogarithmicError, MeanAbsolutePercentageError,
Hinge, SquaredHinge, CategoricalHinge; and R2Score.

Each is the (sample-weighted) mean over all samples seen of the per-sample
values of the :mod:`numnet.losses` loss of the same formula, as Keras's
``MeanMetricWrapper`` of the loss function.
"""

from __future__ import annotations

import warnings

import numpy as np

from numnet import backend, losses
from numnet.metrics.accuracy import LossMetric
from numnet.metrics.base import (
    Metric,
    _add,
    _array,
    _broadcast_weights,
    _match_rank,
    _safe_divide,
    _scalar_result,
)


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


class R2Score(Metric):
    """The coefficient of determination R^2 = 1 - SS_res / SS_tot per target
    column, over every sample seen (Keras ``R2Score``).

    Per column j, with weights w: SS_res = sum w (y - p)^2 and
    SS_tot = sum w y^2 - (sum w y)^2 / sum w (the weighted spread of y around
    its mean), all accumulated over batches. 1 is a perfect fit, 0 is as good
    as predicting the mean, below 0 is worse. A constant target (SS_tot = 0)
    scores 1 when predicted exactly and 0 otherwise (Keras would give NaN for
    the former).

    Args:
        class_aggregation: ``"uniform_average"`` (the mean over columns),
            ``"variance_weighted_average"`` (weighted by SS_tot) or None (one
            score per column).
        num_regressors: p > 0 gives the adjusted R^2 = 1 - (1 - R^2)(n - 1) /
            (n - p - 1) over n samples (with a warning and the plain R^2 when
            p >= n - 1).
        name: the metric name.

    Inputs are (N, D) targets and predictions; (N,) is taken as one column.

    Example:
        >>> from numnet import metrics
        >>> m = metrics.R2Score()
        >>> m.update_state([[1], [4], [3]], [[2], [4], [4]])
        >>> round(m.result(), 6)
        0.571429
    """

    default_name = "r2_score"
    supports_device = True
    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(
        self, class_aggregation="uniform_average", num_regressors=0, name=None
    ):
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(
                f"R2Score: invalid value for argument 'class_aggregation'. "
                f"Expected one of {list(self._AGGREGATIONS)}. Received: "
                f"class_aggregation={class_aggregation!r}"
            )
        ok = isinstance(num_regressors, (int, np.integer)) and not isinstance(
            num_regressors, bool
        )
        if not ok or num_regressors < 0:
            raise ValueError(
                f"R2Score: invalid value for argument 'num_regressors'. Expected "
                f"an int >= 0. Received: num_regressors={num_regressors!r}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        self._columns = 0  # known from the first batch
        super().__init__(name)

    def reset_state(self) -> None:
        # float64 host zeros (what a distributed run sums over ranks)
        for key in ("sum", "squared_sum", "residual", "count"):
            setattr(self, key, np.zeros(self._columns))
        self.num_samples = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _array(y_pred, "R2Score", "y_pred")
        xp = backend.get_array_module(y_pred)
        y_true = xp.asarray(_array(y_true, "R2Score", "y_true"))
        y_true, y_pred = _match_rank(y_true, y_pred)
        if y_pred.ndim == 1 and y_true.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        if y_true.shape != y_pred.shape or y_pred.ndim != 2:
            raise ValueError(
                f"R2Score: expected y_true and y_pred of the same shape (N, D). "
                f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        if self._columns != y_pred.shape[1]:
            if self._columns:
                raise ValueError(
                    f"R2Score: expected {self._columns} target columns. Received: "
                    f"y_pred.shape={y_pred.shape}"
                )
            self._columns = y_pred.shape[1]
            self.reset_state()
        y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
        w = _broadcast_weights(sample_weight, y_true).astype(np.float64)
        self.sum = _add(self.sum, (w * y_true).sum(axis=0))
        self.squared_sum = _add(self.squared_sum, (w * y_true * y_true).sum(axis=0))
        diff = y_true - y_pred
        self.residual = _add(self.residual, (w * diff * diff).sum(axis=0))
        self.count = _add(self.count, w.sum(axis=0))
        self.num_samples = self.num_samples + (w != 0).any(axis=-1).sum()

    def result(self):
        xp = backend.get_array_module(self.sum)
        mean = _safe_divide(xp, self.sum, self.count)
        total = self.squared_sum - self.sum * mean
        # a constant target (total 0): 1 for an exact fit, else 0 (no NaN/inf)
        exact = xp.where(self.residual == 0, 1.0, 0.0)
        scores = xp.where(total > 0, 1 - _safe_divide(xp, self.residual, total), exact)
        if self.class_aggregation == "uniform_average":
            score = scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = _safe_divide(xp, (total * scores).sum(), total.sum())
        else:
            score = scores
        if self.num_regressors:
            score = self._adjusted(score)
        return score if self.class_aggregation is None else _scalar_result(score)

    def _adjusted(self, score):
        n, p = float(self.num_samples), self.num_regressors  # one host sync
        if p >= n - 1:
            warnings.warn(
                f"R2Score: num_regressors={p} needs more than {p + 1} samples for "
                f"the adjusted R2 score (seen {n:g}); returning the plain R2 score",
                stacklevel=3,
            )
            return score
        return 1 - (1 - score) * (n - 1) / (n - p - 1)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
