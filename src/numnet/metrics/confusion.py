"""Confusion-matrix metrics: ConfusionMatrix, Precision, Recall, FBetaScore,
F1Score."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.metrics.base import (
    Metric,
    _broadcast_weights,
    _host_array,
    _int_labels,
    _match_rank,
)


def confusion_matrix(
    y_true, y_pred, num_classes=None, sample_weight=None
) -> np.ndarray:
    """Counts ``cm[i, j]`` of samples of true class i predicted as class j.

    Args:
        y_true: integer labels (N,), or one-hot rows (N, C).
        y_pred: integer labels (N,), class scores (N, C) (argmax is taken) or
            binary probabilities (N, 1) (threshold 0.5).
        num_classes: C; default 1 + the largest label seen.
        sample_weight: optional per-sample weights (the result is then float).
    """
    t, p = _class_labels(y_true), _class_labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"confusion_matrix: y_true and y_pred give {t.shape} and {p.shape} labels"
        )
    if num_classes is None:
        num_classes = int(max(t.max(initial=0), p.max(initial=0))) + 1
    for name, labels in (("y_true", t), ("y_pred", p)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} holds label {labels.max()} outside "
                f"[0, {num_classes})"
            )
    weights = None if sample_weight is None else np.ravel(_host_array(sample_weight))
    return confusion_counts(t, p, num_classes, weights)


def confusion_counts(true_labels, pred_labels, num_classes: int, weights=None):
    """The (weighted) count of each (true, predicted) pair of labels in
    [0, num_classes), as a (C, C) array on the labels' array namespace: one
    ``bincount`` of the pair index C * true + predicted."""
    xp = backend.get_array_module(true_labels)
    counts = xp.bincount(
        num_classes * true_labels.reshape(-1) + pred_labels.reshape(-1),
        weights=None if weights is None else weights.reshape(-1),
        minlength=num_classes * num_classes,
    )
    return counts.reshape(num_classes, num_classes)


def _class_labels(y) -> np.ndarray:
    y = _host_array(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        return y.argmax(axis=-1)
    if y.ndim >= 2:
        y = y[..., 0]
    if y.dtype.kind == "f" and np.any((y > 0) & (y < 1)):
        return (y > 0.5).astype(np.int64)  # binary probabilities
    return _int_labels("confusion_matrix", y)


class ConfusionMatrix(Metric):
    """Accumulated confusion matrix; ``result()`` is the (C, C) count array.

    Args:
        num_classes: C (rows: true class, columns: predicted class).
    """

    default_name = "confusion_matrix"

    def __init__(self, num_classes: int, name=None):
        self.num_classes = _positive_int("ConfusionMatrix", "num_classes", num_classes)
        super().__init__(name)

    def reset_state(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes))
        self._weighted = False

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self._weighted |= sample_weight is not None
        self.matrix += confusion_matrix(y_true, y_pred, self.num_classes, sample_weight)

    def result(self) -> np.ndarray:
        return self.matrix.copy() if self._weighted else self.matrix.astype(np.int64)

    def get_config(self) -> dict:
        return {"name": self.name, "num_classes": self.num_classes}


def _positive_int(owner: str, name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if (
        isinstance(value, (int, np.integer))
        and not isinstance(value, bool)
        and value > 0
    ):
        return int(value)
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a positive int"
        f"{' or None' if allow_none else ''}. Received: {name}={value!r}"
    )


class _BinaryCounts(Metric):
    """True/false positives/negatives of ``y_pred > threshold`` (Keras semantics).

    Args:
        thresholds: the decision threshold in [0, 1] (default 0.5).
        top_k: count a prediction as positive only if it is among the k highest
            scores of its row (then compared with the threshold).
        class_id: compute the metric for this column only (one-vs-rest).
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        owner = type(self).__name__
        threshold = 0.5 if thresholds is None else thresholds
        ok = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
        if not ok or not 0 <= threshold <= 1:
            raise ValueError(
                f"{owner}: invalid value for argument 'thresholds'. Expected a number "
                f"in [0, 1]. Received: thresholds={thresholds!r}"
            )
        self.thresholds = None if thresholds is None else float(thresholds)
        self.threshold = float(threshold)
        self.top_k = _positive_int(owner, "top_k", top_k, allow_none=True)
        if class_id is not None and not (isinstance(class_id, int) and class_id >= 0):
            raise ValueError(
                f"{owner}: invalid value for argument 'class_id'. Expected a "
                f"non-negative int or None. Received: class_id={class_id!r}"
            )
        self.class_id = class_id
        super().__init__(name)

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = 0.0
        self.false_negatives = self.true_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, p = _match_rank(_host_array(y_true), _host_array(y_pred).astype(np.float64))
        if t.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}: y_true and y_pred must have the same shape. "
                f"Received: y_true.shape={t.shape}, y_pred.shape={p.shape}"
            )
        if self.top_k is not None:
            # exactly k per row; ties go to the lower index (as tf.math.top_k)
            top = np.argsort(-p, axis=-1, kind="stable")[..., : self.top_k]
            keep = np.zeros(p.shape, dtype=bool)
            np.put_along_axis(keep, top, True, axis=-1)
            p = np.where(keep, p, -np.inf)
        if self.class_id is not None:
            t, p = t[..., self.class_id], p[..., self.class_id]
        predicted, actual = p > self.threshold, t != 0
        w = _broadcast_weights(sample_weight, p)
        self.true_positives += float(np.sum(w * (predicted & actual)))
        self.false_positives += float(np.sum(w * (predicted & ~actual)))
        self.false_negatives += float(np.sum(w * (~predicted & actual)))
        self.true_negatives += float(np.sum(w * (~predicted & ~actual)))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "thresholds": self.thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_BinaryCounts):
    """TP / (TP + FP): the fraction of predicted positives that are right."""

    default_name = "precision"

    def result(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 0.0


class Recall(_BinaryCounts):
    """TP / (TP + FN): the fraction of actual positives that are found."""

    default_name = "recall"

    def result(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0


def _safe_divide(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(
        a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0
    )


class FBetaScore(Metric):
    """F-beta = (1 + b^2) P R / (b^2 P + R), per class then averaged (Keras
    ``FBetaScore``): recall weighs b times as much as precision.

    Args:
        average: None (one score per class), ``"micro"`` (global counts),
            ``"macro"`` (unweighted mean over classes) or ``"weighted"`` (mean
            weighted by class support).
        beta: b > 0 (default 1: the F1 score).
        threshold: None takes the argmax of each row as the prediction
            (multi-class); a number marks every score above it (multi-label,
            binary).
        name: the metric name.

    ``y_true`` is one-hot / multi-hot (N, C); integer labels (N,) are accepted and
    one-hot encoded. A class with no predicted or no actual positive scores 0.

    Example:
        >>> import numpy as np
        >>> from numnet import metrics
        >>> m = metrics.FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6],
        ...                          [0.6, 0.8, 0.0]]))
        >>> np.round(m.result(), 4)
        array([0.3846, 0.9091, 0.8333])
    """

    default_name = "fbeta_score"
    _AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average=None, beta=1.0, threshold=None, name=None):
        owner = type(self).__name__
        if average not in self._AVERAGES:
            raise ValueError(
                f"{owner}: invalid value for argument 'average'. Expected one of "
                f"{list(self._AVERAGES)}. Received: average={average!r}"
            )
        number = isinstance(beta, (int, float, np.number)) and not isinstance(
            beta, bool
        )
        if not number or not beta > 0:
            raise ValueError(
                f"{owner}: invalid value for argument 'beta'. Expected a number "
                f"> 0. Received: beta={beta!r}"
            )
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name)

    def reset_state(self) -> None:
        self.tp = self.fp = self.fn = self.support = 0.0

    def _prepare(self, y_true, y_pred):
        t, p = _host_array(y_true), _host_array(y_pred).astype(np.float64)
        if p.ndim == 1:
            p = p[:, None]
        if t.ndim == p.ndim - 1 or (
            t.ndim == p.ndim and t.shape[-1] == 1 < p.shape[-1]
        ):
            labels = _int_labels(type(self).__name__, t.reshape(p.shape[:-1]))
            t = np.eye(p.shape[-1])[labels]
        if t.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}: y_true and y_pred must have the same "
                f"shape (N, C). "
                f"Received: y_true.shape={np.shape(y_true)}, y_pred.shape={p.shape}"
            )
        if self.threshold is None:
            predicted = np.eye(p.shape[-1], dtype=bool)[p.argmax(axis=-1)]
        else:
            predicted = p > self.threshold
        return t != 0, predicted

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        actual, predicted = self._prepare(y_true, y_pred)
        w = _broadcast_weights(sample_weight, actual.astype(np.float64))
        axes = tuple(range(actual.ndim - 1))
        self.tp = self.tp + np.sum(w * (predicted & actual), axis=axes)
        self.fp = self.fp + np.sum(w * (predicted & ~actual), axis=axes)
        self.fn = self.fn + np.sum(w * (~predicted & actual), axis=axes)
        self.support = self.support + np.sum(w * actual, axis=axes)

    def result(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        if self.average == "micro":
            tp, fp, fn = np.sum(tp), np.sum(fp), np.sum(fn)
        precision, recall = _safe_divide(tp, tp + fp), _safe_divide(tp, tp + fn)
        b2 = self.beta**2
        f1 = _safe_divide((1 + b2) * precision * recall, b2 * precision + recall)
        if self.average == "macro":
            return float(np.mean(f1))
        if self.average == "weighted":
            return float(_safe_divide(np.sum(f1 * self.support), np.sum(self.support)))
        return float(f1) if self.average == "micro" else f1

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 = 2 P R / (P + R), per class then averaged (Keras ``F1Score``): the
    :class:`FBetaScore` with beta = 1.

    Args:
        average: None (one score per class), ``"micro"`` (global counts),
            ``"macro"`` (unweighted mean over classes) or ``"weighted"`` (mean
            weighted by class support).
        threshold: None takes the argmax of each row as the prediction
            (multi-class); a number marks every score above it (multi-label,
            binary).
        name: the metric name.

    ``y_true`` is one-hot / multi-hot (N, C); integer labels (N,) are accepted and
    one-hot encoded.
    """

    default_name = "f1_score"

    def __init__(self, average=None, threshold=None, name=None):
        super().__init__(average, 1.0, threshold, name)

    def get_config(self) -> dict:
        return {"name": self.name, "average": self.average, "threshold": self.threshold}
