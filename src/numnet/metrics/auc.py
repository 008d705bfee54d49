"""AUC: the area under the ROC or precision-recall curve (Keras ``AUC``)."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.metrics.base import _broadcast_weights, _safe_divide, _scalar_result
from numnet.metrics.thresholded import (
    _bad,
    _prepare,
    _ThresholdedCounts,
    check_thresholds,
    threshold_counts,
)

#: Keras's endpoint margin: the outer thresholds are -EPSILON and 1 + EPSILON
EPSILON = 1e-7
_CURVES = ("ROC", "PR")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def _choice(owner: str, argument: str, value, choices) -> str:
    for choice in choices:
        if isinstance(value, str) and value.lower() == choice.lower():
            return choice
    raise _bad(owner, argument, f"one of {list(choices)}", value)


class AUC(_ThresholdedCounts):
    """The area under the ROC or precision-recall curve, from confusion counts
    at ``num_thresholds`` thresholds (Keras ``AUC``).

    TP, FP, TN and FN are summed over batches at thresholds -1e-7, 1/(n-1), ...,
    (n-2)/(n-1), 1 + 1e-7 (n = ``num_thresholds``), so the result is a Riemann
    sum whose error shrinks as n grows (for ROC, at most about the share of
    pairs whose two scores fall between the same two thresholds). ROC plots
    recall against the false-positive rate; PR plots precision against recall.
    ``summation_method="interpolation"`` uses the trapezoidal rule for ROC and,
    for PR, Davis & Goadrich's interpolation (precision varies along the
    segment as TP / (TP + FP) with both linear in the threshold); ``"minoring"``
    and ``"majoring"`` take the lower or upper rectangle.

    Args:
        num_thresholds: n > 1 (default 200).
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: the metric name.
        thresholds: explicit thresholds in [0, 1] (``num_thresholds`` is then
            ``len(thresholds) + 2``).
        multi_label: True computes one AUC per column of (N, L) predictions and
            averages them; False pools every value into one curve.
        num_labels: L when ``multi_label`` (else found from the first batch).
        label_weights: per-label weights: the weights of the label AUCs' mean
            when ``multi_label``, else weights of each column's counts.
        from_logits: apply a sigmoid to ``y_pred`` first.

    Example:
        >>> from numnet import metrics
        >>> m = metrics.AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.75
    """

    default_name = "auc"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        self.curve = _choice("AUC", "curve", curve, _CURVES)
        self.summation_method = _choice(
            "AUC", "summation_method", summation_method, _SUMMATIONS
        )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(check_thresholds("AUC", thresholds))
        else:
            ok = isinstance(num_thresholds, (int, np.integer)) and not isinstance(
                num_thresholds, bool
            )
            if not ok or num_thresholds <= 1:
                raise _bad("AUC", "num_thresholds", "an int > 1", num_thresholds)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = len(inner) + 2
        self.thresholds = [-EPSILON, *inner, 1.0 + EPSILON]
        self.multi_label, self.from_logits = bool(multi_label), bool(from_logits)
        if num_labels is not None and not self.multi_label:
            raise _bad("AUC", "num_labels", "None unless multi_label=True", num_labels)
        if num_labels is not None and not (
            isinstance(num_labels, (int, np.integer)) and num_labels > 0
        ):
            raise _bad("AUC", "num_labels", "a positive int or None", num_labels)
        self.num_labels = None if num_labels is None else int(num_labels)
        self.label_weights = None
        if label_weights is not None:
            weights = np.asarray(label_weights, np.float64)
            if weights.ndim != 1 or not np.all(weights >= 0):
                raise _bad(
                    "AUC",
                    "label_weights",
                    "a list of non-negative numbers",
                    label_weights,
                )
            self.label_weights = weights
        self._labels = self.num_labels  # found from the first batch otherwise
        super().__init__(name)

    def _state_shape(self) -> tuple:
        if not self.multi_label:
            return (self.num_thresholds,)
        return (self.num_thresholds, self._labels or 0)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _prepare("AUC", y_true, y_pred, None, self.from_logits)
        columns = 1
        if self.multi_label:
            columns = self._check_labels(y_pred)
        elif self.label_weights is not None:
            sample_weight = self._with_label_weights(sample_weight, y_pred)
        counts = threshold_counts(
            y_true, y_pred, self.thresholds, sample_weight, columns
        )
        self._add_counts(*counts)

    def _check_labels(self, y_pred) -> int:
        if y_pred.ndim != 2:
            raise ValueError(
                f"AUC: multi_label=True needs y_pred of rank 2 (N, L). Received: "
                f"y_pred.shape={y_pred.shape}"
            )
        labels = y_pred.shape[1]
        if self._labels is None:
            self._labels = labels
            self.reset_state()
        if labels != self._labels:
            raise ValueError(
                f"AUC: expected {self._labels} labels (columns of y_pred). "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        return labels

    def _with_label_weights(self, sample_weight, y_pred):
        """Fold the per-column label weights into the sample weights."""
        xp = backend.get_array_module(y_pred)
        columns = y_pred.shape[-1] if y_pred.ndim else 1
        if self.label_weights.size not in (1, columns):
            raise ValueError(
                f"AUC: label_weights has {self.label_weights.size} entries but "
                f"y_pred has {columns} columns. Received: y_pred.shape="
                f"{y_pred.shape}"
            )
        weights = _broadcast_weights(sample_weight, y_pred)
        return weights * xp.asarray(self.label_weights)

    def result(self):
        xp = backend.get_array_module(self.true_positives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr_areas(xp)
        else:
            areas = self._riemann_areas(xp)
        return _scalar_result(self._average_labels(xp, areas.sum(axis=0)))

    def _riemann_areas(self, xp):
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _safe_divide(xp, tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_divide(xp, fp, fp + tn), recall  # x: false-positive rate
        else:
            x, y = recall, _safe_divide(xp, tp, tp + fp)  # y: precision
        left, right = y[:-1], y[1:]
        if self.summation_method == "interpolation":
            heights = (left + right) / 2
        elif self.summation_method == "minoring":
            heights = xp.minimum(left, right)
        else:
            heights = xp.maximum(left, right)
        # thresholds rise, so x falls: each step's width is x[i] - x[i+1] >= 0
        return (x[:-1] - x[1:]) * heights

    def _interpolated_pr_areas(self, xp):
        """Davis & Goadrich: between two thresholds TP and P = TP + FP move
        linearly, TP = intercept + slope P, so precision = TP / P and

            integral of precision dTP = slope (dTP + intercept log(P_A / P_B)),

        divided by the positives to integrate over recall (a segment that
        starts at P = 0 keeps its precision constant: the log term drops)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        p = tp + fp
        dtp = tp[:-1] - tp[1:]
        dp = p[:-1] - p[1:]
        slope = _safe_divide(xp, dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, _safe_divide(xp, p[:-1], xp.maximum(p[1:], 0)), 1)
        area = slope * (dtp + intercept * xp.log(xp.where(ratio > 0, ratio, 1)))
        return _safe_divide(xp, area, xp.maximum(tp[1:] + fn[1:], 0))

    def _average_labels(self, xp, by_label):
        if not self.multi_label:
            return by_label
        if self.label_weights is None:
            return by_label.mean()
        weights = xp.asarray(self.label_weights)
        return _safe_divide(xp, (by_label * weights).sum(), weights.sum())

    def get_config(self) -> dict:
        config = {
            "name": self.name,
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None
            if self.label_weights is None
            else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
