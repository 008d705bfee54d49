"""Accuracy-family and regression metrics, as functions and stateful classes."""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.autograd.function import no_grad
from numnet.metrics.base import (
    Mean,
    MeanMetricWrapper,
    _array,
    _match_rank,
    _scores,
    _sparse_labels,
)


def accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where y_pred equals y_true exactly (labels), else 0.0."""
    y_true, y_pred = _same_shape("accuracy", y_true, y_pred)
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1.0 where (y_pred > threshold) equals the 0/1 target."""
    y_true, y_pred = _same_shape("binary_accuracy", y_true, y_pred)
    return ((y_pred > threshold) == (y_true > 0.5)).astype(np.float64)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals argmax of the one-hot target."""
    owner = "categorical_accuracy"
    y_pred = _scores(owner, y_pred)
    y_true, y_pred = _same_shape(owner, y_true, y_pred)
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals the integer label."""
    y_pred = _scores("sparse_categorical_accuracy", y_pred)
    labels = _sparse_labels("sparse_categorical_accuracy", y_true, y_pred)
    return (y_pred.argmax(axis=-1) == labels).astype(np.float64)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1.0 where the label's score is among the k largest (fewer than k beat it)."""
    y_pred = _scores("sparse_top_k_categorical_accuracy", y_pred)
    labels = _sparse_labels("sparse_top_k_categorical_accuracy", y_true, y_pred)
    xp = backend.get_array_module(y_pred)
    target = xp.take_along_axis(y_pred, labels[..., None], axis=-1)
    return ((y_pred > target).sum(axis=-1) < k).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """Top-k accuracy with one-hot targets."""
    return sparse_top_k_categorical_accuracy(_array(y_true).argmax(axis=-1), y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (for integer predictions)."""

    default_name = "accuracy"

    def __init__(self, name=None):
        super().__init__(accuracy, name or self.default_name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 target."""

    default_name = "binary_accuracy"

    def __init__(self, name=None, threshold: float = 0.5):
        super().__init__(
            binary_accuracy, name or self.default_name, threshold=float(threshold)
        )


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches the one-hot target."""

    default_name = "categorical_accuracy"

    def __init__(self, name=None):
        super().__init__(categorical_accuracy, name or self.default_name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches the integer label."""

    default_name = "sparse_categorical_accuracy"

    def __init__(self, name=None):
        super().__init__(sparse_categorical_accuracy, name or self.default_name)


def _check_k(owner: str, k) -> int:
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k > 0:
        return int(k)
    raise ValueError(
        f"{owner}: invalid value for argument 'k'. Expected a positive int. "
        f"Received: k={k!r}"
    )


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the k highest scores."""

    default_name = "top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name=None):
        k = _check_k(type(self).__name__, k)
        super().__init__(top_k_categorical_accuracy, name or self.default_name, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest scores."""

    default_name = "sparse_top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name=None):
        k = _check_k(type(self).__name__, k)
        super().__init__(
            sparse_top_k_categorical_accuracy, name or self.default_name, k=k
        )


def _same_shape(owner: str, y_true, y_pred):
    y_true, y_pred = _match_rank(
        _array(y_true, owner, "y_true"), _array(y_pred, owner, "y_pred")
    )
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{owner}: y_true and y_pred must have the same shape. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape} (sparse "
            f"integer labels need a sparse metric, e.g. 'sparse_categorical_accuracy')"
        )
    return y_true, y_pred


def _squared_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _same_shape("mean_squared_error", y_true, y_pred)
    diff = y_pred - y_true
    return diff * diff


def _absolute_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _same_shape("mean_absolute_error", y_true, y_pred)
    return abs(y_pred - y_true)


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error over all values seen."""

    default_name = "mean_squared_error"

    def __init__(self, name=None):
        super().__init__(_squared_error, name or self.default_name)


class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the mean squared error over all values seen."""

    default_name = "root_mean_squared_error"

    def result(self) -> float:
        return math.sqrt(float(super().result()))


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error over all values seen."""

    default_name = "mean_absolute_error"

    def __init__(self, name=None):
        super().__init__(_absolute_error, name or self.default_name)


class LossMetric(Mean):
    """The mean of a loss (``numnet.losses`` name or object) over all samples."""

    def __init__(self, loss, name=None):
        from numnet import losses

        self.loss = losses.get(loss)
        super().__init__(name or self.loss.name)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self._values(y_true, y_pred), sample_weight)

    def _values(self, y_true, y_pred):
        """The loss's per-sample values (an array on y_pred's device)."""
        with no_grad():
            return self.loss.call(y_true, _as_float_tensor(y_pred)).data

    def get_config(self) -> dict:
        from numnet import losses

        return {"name": self.name, "loss": losses.serialize(self.loss)}


def _as_float_tensor(y_pred):
    from numnet.autograd.tensor import Tensor, as_tensor

    y = as_tensor(y_pred)
    return y if y.dtype.kind == "f" else Tensor._from_op(y.data.astype(np.float64))
