"""Stateful metrics (Keras API): ``update_state``, ``result``, ``reset_state``.

Metrics work on NumPy arrays (Tensors are accepted and read through ``.data``),
never build a graph, and accumulate over batches: ``result()`` after several
``update_state`` calls is the value over all the samples seen, which is what
``fit`` reports per epoch. ``metric(y_true, y_pred)`` updates and returns the
result, as in Keras.

``get("accuracy", loss=...)`` picks the accuracy that fits the loss, the way
Keras's ``compile`` does: sparse labels -> SparseCategoricalAccuracy, one-hot ->
CategoricalAccuracy, binary -> BinaryAccuracy (threshold 0 when the loss takes
logits, since sigmoid(z) > 0.5 iff z > 0); without a known loss the choice is
made from the shapes of the first batch.

Example:
    >>> import numpy as np
    >>> from numnet import metrics
    >>> m = metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
    >>> m.result()
    0.5
    >>> metrics.confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)
    array([[1, 0],
           [1, 1]])
"""

from __future__ import annotations

import inspect

import numpy as np

from numnet.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    LossMetric,
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from numnet.metrics.auc import AUC
from numnet.metrics.base import Mean, MeanMetricWrapper, Metric, Sum
from numnet.metrics.bleu import BLEUScore, corpus_bleu, sentence_bleu
from numnet.metrics.confusion import (
    ConfusionMatrix,
    F1Score,
    FBetaScore,
    Precision,
    Recall,
    confusion_matrix,
)
from numnet.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from numnet.metrics.regression import (
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    R2Score,
    SquaredHinge,
)
from numnet.metrics.thresholded import (
    FalseNegatives,
    FalsePositives,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)


class InferredAccuracy(Mean):
    """``"accuracy"`` without a known loss: the kind is chosen from the first batch.

    Keras's rule: y_pred with one column (or 1-D) -> binary; integer labels
    (y_true with one axis fewer, or a trailing axis of 1) -> sparse categorical;
    otherwise categorical.
    """

    default_name = "accuracy"

    def __init__(self, name=None):
        self.fn = None
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.fn is None:
            self.fn = _accuracy_for_shapes(y_true, y_pred)
        super().update_state(self.fn(y_true, y_pred), sample_weight)


def _accuracy_for_shapes(y_true, y_pred):
    true_shape = getattr(y_true, "shape", None) or np.shape(y_true)
    pred_shape = getattr(y_pred, "shape", None) or np.shape(y_pred)
    if len(pred_shape) <= 1 or pred_shape[-1] == 1:
        return binary_accuracy
    if len(true_shape) != len(pred_shape) or true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


def _accuracy_for_loss(loss, name: str):
    """The accuracy metric Keras would pick for ``loss`` (None when unknown)."""
    from numnet import losses

    try:
        loss = losses.get(loss)
    except ValueError:
        return None
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy(name=name)
    categorical = (losses.CategoricalCrossentropy, losses.CategoricalFocalCrossentropy)
    if isinstance(loss, categorical):
        return CategoricalAccuracy(name=name)
    if isinstance(loss, (losses.BinaryCrossentropy, losses.BinaryFocalCrossentropy)):
        # on logits, sigmoid(z) > 0.5 exactly when z > 0
        return BinaryAccuracy(name=name, threshold=0.0 if loss.from_logits else 0.5)
    return None


_CLASSES = {
    cls.__name__: cls
    for cls in (
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        TopKCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        Precision,
        Recall,
        F1Score,
        ConfusionMatrix,
        Mean,
        Sum,
        MeanSquaredError,
        MeanAbsoluteError,
        RootMeanSquaredError,
        LossMetric,
        InferredAccuracy,
        KLDivergence,
        CosineSimilarity,
        LogCoshError,
        Poisson,
        MeanSquaredLogarithmicError,
        MeanAbsolutePercentageError,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        AUC,
        TruePositives,
        FalsePositives,
        TrueNegatives,
        FalseNegatives,
        PrecisionAtRecall,
        RecallAtPrecision,
        SensitivityAtSpecificity,
        SpecificityAtSensitivity,
        FBetaScore,
        R2Score,
        IoU,
        MeanIoU,
        BinaryIoU,
        OneHotIoU,
        OneHotMeanIoU,
    )
}
_ALIASES = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision,
    "recall": Recall,
    "f1_score": F1Score,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "mean": Mean,
    "sum": Sum,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "cosine_similarity": CosineSimilarity,
    "logcosh": LogCoshError,
    "log_cosh": LogCoshError,
    "poisson": Poisson,
    "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "auc": AUC,
    "true_positives": TruePositives,
    "false_positives": FalsePositives,
    "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives,
    "fbeta_score": FBetaScore,
    "f_beta_score": FBetaScore,
    "r2_score": R2Score,
    "binary_iou": BinaryIoU,
    "binary_io_u": BinaryIoU,
}
_LOSS_NAMES = (
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "huber",
    "huber_loss",
)


def serialize(metric) -> dict:
    """JSON-friendly form ``{"class_name": ..., "config": {...}}`` of a metric."""
    if isinstance(metric, Metric) and type(metric).__name__ in _CLASSES:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    raise ValueError(
        f"metrics.serialize: cannot serialise {metric!r}; only built-in metrics "
        f"(or their names) can be saved"
    )


def _from_class_name(name: str) -> Metric:
    """A metric by its class name, with its defaults; a class with required
    arguments (e.g. ``MeanIoU(num_classes)``) cannot be made from a string."""
    cls = _CLASSES[name]
    required = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if required:
        raise ValueError(
            f"invalid value for argument 'metrics': {name} needs the argument(s) "
            f"{required}; pass an object, e.g. metrics.{name}({required[0]}=...). "
            f"Received: {name!r}"
        )
    return cls()


def get(identifier, loss=None):
    """Resolve a metric: a Keras name, a serialised dict, a Metric or a function.

    Args:
        identifier: e.g. ``"accuracy"``, ``"mae"``, ``"precision"``, a Metric, or
            a function ``fn(y_true, y_pred)`` returning per-sample values.
        loss: the compiled loss (object or name); ``"accuracy"``/``"acc"`` then
            resolves to the matching sparse/categorical/binary accuracy.

    Returns:
        A new Metric (named after the string when one is given, as in Keras).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        cls = _CLASSES[identifier["class_name"]]
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            found = _accuracy_for_loss(loss, identifier) if loss is not None else None
            return found or InferredAccuracy(name=identifier)
        if identifier in _ALIASES:
            return _ALIASES[identifier](name=identifier)
        if identifier in _LOSS_NAMES:
            return LossMetric(identifier, name=identifier)
        if identifier in _CLASSES:
            return _from_class_name(identifier)
    elif callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    valid = sorted(["accuracy", "acc", *_ALIASES, *_LOSS_NAMES])
    raise ValueError(
        f"invalid value for argument 'metrics'. Expected one of {valid}, a Metric "
        f"or a function(y_true, y_pred). Received: {identifier!r}"
    )


__all__ = [
    "AUC",
    "BinaryIoU",
    "IoU",
    "MeanIoU",
    "OneHotIoU",
    "OneHotMeanIoU",
    "FalseNegatives",
    "FalsePositives",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "TrueNegatives",
    "TruePositives",
    "BLEUScore",
    "corpus_bleu",
    "sentence_bleu",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "CategoricalHinge",
    "ConfusionMatrix",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "R2Score",
    "Hinge",
    "InferredAccuracy",
    "KLDivergence",
    "LogCoshError",
    "LossMetric",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "Poisson",
    "Precision",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "confusion_matrix",
    "get",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]
