"""Confusion counts at fixed thresholds (Keras semantics), and the metrics made
of them: TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
SpecificityAtSensitivity (and :class:`numnet.metrics.AUC`).

A prediction p is positive at threshold t when p > t. The counts of a batch at
all T thresholds come from one histogram, with no loop over samples or
thresholds: ``k = searchsorted(thresholds, p)`` is the number of thresholds
strictly below p, so p is positive exactly at the thresholds j < k; a weighted
``bincount`` over k and a reversed cumulative sum give TP and FP at every
threshold (FN and TN are the totals minus those). It runs on the array
namespace of the inputs, so a device batch is counted on the device and the
state stays there (no host sync until a log shows the result).

Labels are 0/1; as in Keras, a label y counts y towards the positives and
1 - y towards the negatives.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.metrics.base import (
    Metric,
    _add,
    _array,
    _broadcast_weights,
    _match_rank,
    _safe_divide,
    _scalar_result,
)


def _bad(owner: str, argument: str, expected: str, value) -> ValueError:
    return ValueError(
        f"{owner}: invalid value for argument '{argument}'. Expected {expected}. "
        f"Received: {argument}={value!r}"
    )


def check_thresholds(owner: str, thresholds) -> list[float]:
    """``thresholds`` (a number or a list of numbers in [0, 1]) as a list."""
    if isinstance(thresholds, np.ndarray) and thresholds.ndim == 1:
        thresholds = thresholds.tolist()
    values = thresholds if isinstance(thresholds, (list, tuple)) else [thresholds]
    ok = len(values) > 0 and all(
        isinstance(t, (int, float, np.integer, np.floating))
        and not isinstance(t, bool)
        and 0 <= t <= 1
        for t in values
    )
    if not ok:
        raise _bad(
            owner, "thresholds", "a number or a list of numbers in [0, 1]", thresholds
        )
    return [float(t) for t in values]


def even_thresholds(num_thresholds: int) -> list[float]:
    """Keras's evenly spaced thresholds 0, 1/(n-1), ..., 1 (n of them)."""
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0, *inner, 1.0]


def _prepare(owner: str, y_true, y_pred, class_id, from_logits: bool):
    """(labels, predictions) of the same shape, float, on y_pred's namespace."""
    y_pred = _array(y_pred, owner, "y_pred")
    xp = backend.get_array_module(y_pred)
    y_true = xp.asarray(_array(y_true, owner, "y_true"))
    y_true, y_pred = _match_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{owner}: y_true and y_pred must have the same shape. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    if class_id is not None:
        if y_pred.ndim < 2 or class_id >= y_pred.shape[-1]:
            raise ValueError(
                f"{owner}: class_id={class_id} needs y_pred of shape (N, C) with "
                f"C > {class_id}. Received: y_pred.shape={y_pred.shape}"
            )
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
    # compared in float32 with float32 thresholds, as Keras does
    y_pred = y_pred.astype(np.float32)
    if from_logits:
        y_pred = 0.5 * (xp.tanh(0.5 * y_pred) + 1)  # sigmoid without overflow
    elif isinstance(y_pred, np.ndarray) and y_pred.size:
        # a host check costs nothing; on a device it would be a sync per batch
        if not (y_pred.min() >= 0 and y_pred.max() <= 1):
            raise ValueError(
                f"{owner}: y_pred must hold probabilities in [0, 1] (pass "
                f"from_logits=True for logits where the metric takes it). "
                f"Received values in [{y_pred.min()}, {y_pred.max()}]"
            )
    return y_true.astype(np.float64), y_pred


def threshold_counts(y_true, y_pred, thresholds, sample_weight=None, columns=1):
    """TP, FP, TN, FN of ``y_pred > t`` for every threshold t (sorted).

    Args:
        y_true: 0/1 labels, the shape of ``y_pred``.
        y_pred: probabilities.
        thresholds: the sorted thresholds (T,).
        sample_weight: optional weights broadcastable to ``y_pred`` (a weight per
            row of a (N, ...) batch is expanded over the trailing axes).
        columns: 1 to pool every value (shape (T,)), or L to count each column of
            a (N, L) batch apart (multi-label: shape (T, L)).

    Returns:
        Four float64 arrays on y_pred's array namespace.
    """
    xp = backend.get_array_module(y_pred)
    weights = _broadcast_weights(sample_weight, y_pred).astype(np.float64)
    T = len(thresholds)
    # k = how many thresholds lie strictly below p: p > t_j exactly for j < k
    k = xp.searchsorted(
        xp.asarray(np.asarray(thresholds, np.float32)), y_pred.reshape(-1), side="left"
    )
    column = xp.arange(y_pred.size) % columns
    bins = k * columns + column
    size = (T + 1) * columns
    positives = xp.bincount(
        bins, weights=(y_true * weights).reshape(-1), minlength=size
    ).reshape(T + 1, columns)
    negatives = xp.bincount(
        bins, weights=((1 - y_true) * weights).reshape(-1), minlength=size
    ).reshape(T + 1, columns)
    # the count at threshold j is everything in the bins k > j
    pos_above = xp.cumsum(positives[::-1], axis=0)[::-1]
    neg_above = xp.cumsum(negatives[::-1], axis=0)[::-1]
    tp, fp = pos_above[1:], neg_above[1:]
    fn, tn = pos_above[:1] - tp, neg_above[:1] - fp
    if columns == 1:
        return tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
    return tp, fp, tn, fn


class _ThresholdedCounts(Metric):
    """Keeps ``true_positives``, ``false_positives``, ``true_negatives`` and
    ``false_negatives`` at ``self.thresholds`` (arrays, summed over batches)."""

    supports_device = True
    class_id = None
    from_logits = False

    def _state_shape(self) -> tuple:
        return (len(self.thresholds),)

    def reset_state(self) -> None:
        # float64 host zeros: what a distributed run sums over ranks; the first
        # batch moves them to its device
        for key in (
            "true_positives",
            "false_positives",
            "true_negatives",
            "false_negatives",
        ):
            setattr(self, key, np.zeros(self._state_shape()))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        owner = type(self).__name__
        y_true, y_pred = _prepare(
            owner, y_true, y_pred, self.class_id, self.from_logits
        )
        self._add_counts(*self._counts(y_true, y_pred, sample_weight))

    def _counts(self, y_true, y_pred, sample_weight):
        return threshold_counts(y_true, y_pred, self.thresholds, sample_weight)

    def _add_counts(self, tp, fp, tn, fn) -> None:
        self.true_positives = _add(self.true_positives, tp)
        self.false_positives = _add(self.false_positives, fp)
        self.true_negatives = _add(self.true_negatives, tn)
        self.false_negatives = _add(self.false_negatives, fn)


class _ConditionCount(_ThresholdedCounts):
    """One confusion count at one or several thresholds (Keras semantics).

    Args:
        thresholds: a number or a list of numbers in [0, 1] (default 0.5); a
            prediction is positive when it is above the threshold. With one
            threshold the result is a scalar, else one count per threshold.
        name: the metric name.
    """

    count = "true_positives"

    def __init__(self, thresholds=None, name=None):
        owner = type(self).__name__
        if isinstance(thresholds, np.ndarray):
            thresholds = thresholds.tolist()  # JSON-friendly config
        self.init_thresholds = thresholds
        self.thresholds = check_thresholds(
            owner, 0.5 if thresholds is None else thresholds
        )
        super().__init__(name)

    def _counts(self, y_true, y_pred, sample_weight):
        # threshold_counts needs sorted thresholds; Keras keeps the given order
        order = np.argsort(self.thresholds, kind="stable")
        counts = threshold_counts(
            y_true, y_pred, np.asarray(self.thresholds)[order], sample_weight
        )
        xp = backend.get_array_module(y_pred)
        back = xp.asarray(np.argsort(order, kind="stable"))
        return tuple(c[back] for c in counts)

    def result(self):
        value = getattr(self, self.count)
        return _scalar_result(value[0]) if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        thresholds = self.init_thresholds
        if isinstance(thresholds, tuple):
            thresholds = list(thresholds)
        return {"name": self.name, "thresholds": thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of positives predicted positive (``y_pred > t``).

    Example:
        >>> from numnet import metrics
        >>> m = metrics.TruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> m.result()
        2.0
    """

    default_name = "true_positives"
    count = "true_positives"


class FalsePositives(_ConditionCount):
    """The (weighted) number of negatives predicted positive (``y_pred > t``)."""

    default_name = "false_positives"
    count = "false_positives"


class TrueNegatives(_ConditionCount):
    """The (weighted) number of negatives predicted negative (``y_pred <= t``)."""

    default_name = "true_negatives"
    count = "true_negatives"


class FalseNegatives(_ConditionCount):
    """The (weighted) number of positives predicted negative (``y_pred <= t``)."""

    default_name = "false_negatives"
    count = "false_negatives"


class _AtConstraint(_ThresholdedCounts):
    """The best value of one rate over the thresholds where another rate reaches
    ``value`` (Keras's sensitivity/specificity base).

    Args:
        value: the constraint, a number in [0, 1] (named by the subclass).
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try
            (1 tries 0.5 only).
        class_id: compute the metric for this column of (N, C) predictions.
        name: the metric name.
    """

    argument = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None):
        owner = type(self).__name__
        number = isinstance(value, (int, float, np.number)) and not isinstance(
            value, bool
        )
        if not number or not 0 <= value <= 1:
            raise _bad(owner, self.argument, "a number in [0, 1]", value)
        if (
            not isinstance(num_thresholds, (int, np.integer))
            or isinstance(num_thresholds, bool)
            or num_thresholds < 1
        ):
            raise _bad(owner, "num_thresholds", "an int >= 1", num_thresholds)
        if class_id is not None and not (
            isinstance(class_id, (int, np.integer)) and class_id >= 0
        ):
            raise _bad(owner, "class_id", "a non-negative int or None", class_id)
        self.value, self.num_thresholds = float(value), int(num_thresholds)
        self.class_id = None if class_id is None else int(class_id)
        n = self.num_thresholds
        self.thresholds = [0.5] if n == 1 else even_thresholds(n)
        super().__init__(name)

    def _rates(self, xp):
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        return {
            "sensitivity": _safe_divide(xp, tp, tp + fn),  # = recall
            "specificity": _safe_divide(xp, tn, tn + fp),
            "precision": _safe_divide(xp, tp, tp + fp),
        }

    def result(self):
        xp = backend.get_array_module(self.true_positives)
        rates = self._rates(xp)
        constrained, dependent = rates[self.constrained], rates[self.dependent]
        # the largest dependent rate where the constraint holds, 0 if nowhere
        best = xp.where(constrained >= self.value, dependent, 0).max()
        return _scalar_result(best)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            self.argument: self.value,
            "num_thresholds": self.num_thresholds,
            "class_id": self.class_id,
        }


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) where specificity >= ``specificity``.

    Args:
        specificity: the required specificity TN / (TN + FP), in [0, 1].
        num_thresholds: evenly spaced thresholds tried (default 200).
        class_id: the column of (N, C) predictions to evaluate.
        name: the metric name.
    """

    default_name = "sensitivity_at_specificity"
    argument, constrained, dependent = "specificity", "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None):
        super().__init__(specificity, num_thresholds, class_id, name)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where sensitivity (recall) >= ``sensitivity``.

    Args:
        sensitivity: the required sensitivity TP / (TP + FN), in [0, 1].
        num_thresholds: evenly spaced thresholds tried (default 200).
        class_id: the column of (N, C) predictions to evaluate.
        name: the metric name.
    """

    default_name = "specificity_at_sensitivity"
    argument, constrained, dependent = "sensitivity", "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None):
        super().__init__(sensitivity, num_thresholds, class_id, name)


class PrecisionAtRecall(_AtConstraint):
    """The best precision where recall >= ``recall``.

    Args:
        recall: the required recall, in [0, 1].
        num_thresholds: evenly spaced thresholds tried (default 200).
        class_id: the column of (N, C) predictions to evaluate.
        name: the metric name.
    """

    default_name = "precision_at_recall"
    argument, constrained, dependent = "recall", "sensitivity", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None):
        super().__init__(recall, num_thresholds, class_id, name)


class RecallAtPrecision(_AtConstraint):
    """The best recall where precision >= ``precision``.

    Args:
        precision: the required precision, in [0, 1].
        num_thresholds: evenly spaced thresholds tried (default 200).
        class_id: the column of (N, C) predictions to evaluate.
        name: the metric name.
    """

    default_name = "recall_at_precision"
    argument, constrained, dependent = "precision", "precision", "sensitivity"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None):
        super().__init__(precision, num_thresholds, class_id, name)
