"""Loss functions with Keras names, by object or by string (``losses.get("mse")``).

``loss(y_true, y_pred, sample_weight=None)`` returns a scalar Tensor: the
per-sample losses (each the mean over the last axis for the elementwise losses,
as in Keras), optionally weighted, then reduced by ``reduction``:

* ``"sum_over_batch_size"`` (default): sum of the weighted per-sample losses
  divided by their number (the batch mean without weights);
* ``"sum"``: their sum; ``"none"`` / None: the per-sample Tensor itself.

``y_true`` may be an ndarray (or list); float targets take ``y_pred``'s dtype.

Cross-entropy on probabilities: when ``y_pred`` came out of a layer with a
softmax (last axis) or sigmoid activation, it carries its pre-activation
tensor (``y_pred._logits``, see ``numnet.layers``) and the loss uses the fused
from-logits form (log-sum-exp), so a saturated output never gives inf/NaN.
Other probability tensors are clipped to [1e-7, 1 - 1e-7] as in Keras.

Example:
    >>> import numpy as np
    >>> from numnet import losses
    >>> mse = losses.get("mse")
    >>> round(mse(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]])).item(), 4)
    0.125
    >>> cce = losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(cce(np.array([0]), np.array([[2.0, 0.0]])).item(), 4)
    0.1269
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import _registry
from numnet.autograd.tensor import Tensor
from numnet.functional.nn import _as_int_labels
from numnet.layers._utils import boolean, real_number
from numnet.losses._base import (  # noqa: F401 (re-export: numnet.losses.<name>)
    EPSILON,
    Loss,
    LossFunctionWrapper,
    _axis,
    _CrossentropyBase,
    _data,
    _index_of,
    _logits_of,
    _mean_last,
    _sample_weight,
    _targets,
    _y_pred,
)
from numnet.losses.focal import (  # noqa: F401 (re-export)
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from numnet.losses.hinge import (  # noqa: F401 (re-export)
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from numnet.losses.regression import (  # noqa: F401 (re-export)
    CosineSimilarity,
    KLDivergence,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    cosine_similarity,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
)


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2) over the last axis."""

    default_name = "mean_squared_error"

    def call(self, y_true, y_pred):
        d = y_pred - _targets(type(self).__name__, y_true, y_pred)
        return _mean_last(d * d)


class MeanAbsoluteError(Loss):
    """mean(|y_pred - y_true|) over the last axis."""

    default_name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        d = y_pred - _targets(type(self).__name__, y_true, y_pred)
        return _mean_last(F.abs(d))


class Huber(Loss):
    """Quadratic for |error| <= delta, linear beyond: 0.5 q^2 + delta (|e| - q).

    With q = min(|e|, delta) this equals Keras's piecewise definition and is
    differentiable everywhere (gradient clip(e, -delta, delta)).
    """

    default_name = "huber_loss"

    def __init__(self, delta: float = 1.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.delta = real_number("Huber", "delta", delta, positive=True)

    def call(self, y_true, y_pred):
        t = _targets("Huber", y_true, y_pred)
        return _mean_last(F.huber_loss(y_pred, t, reduction="none", delta=self.delta))

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


class BinaryCrossentropy(_CrossentropyBase):
    """-(y log p + (1 - y) log(1 - p)), averaged over the last axis.

    Args:
        from_logits: y_pred are logits (fused, stable) instead of probabilities.
        label_smoothing: targets become y (1 - s) + s / 2.
    """

    default_name = "binary_crossentropy"

    def call(self, y_true, y_pred):
        t = self._smooth(_targets("BinaryCrossentropy", y_true, y_pred))
        logits = y_pred if self.from_logits else _logits_of(y_pred, "sigmoid", -1)
        if logits is not None:
            return _mean_last(F.sigmoid_binary_cross_entropy(logits, t))
        p = F.clip(y_pred, EPSILON, 1.0 - EPSILON)
        return _mean_last(-(t * F.log(p) + (1.0 - t) * F.log(1.0 - p)))


class CategoricalCrossentropy(_CrossentropyBase):
    """-sum(y log p) over the class axis, y one-hot (or soft) targets.

    Args:
        from_logits: y_pred are logits (fused log-sum-exp) instead of probabilities.
        label_smoothing: targets become y (1 - s) + s / C.
        axis: the class axis.
    """

    default_name = "categorical_crossentropy"

    def call(self, y_true, y_pred):
        t = _targets("CategoricalCrossentropy", y_true, y_pred)
        t = self._smooth(t, y_pred)
        logits = self._softmax_logits(y_pred)
        if logits is not None:
            return F.softmax_cross_entropy(logits, t, axis=self.axis)
        return -F.sum(t * F.log(self._probabilities(y_pred)), axis=self.axis)


class SparseCategoricalCrossentropy(Loss):
    """-log p[label] with integer labels over the last axis of y_pred.

    Args:
        from_logits: y_pred are logits (fused log-sum-exp) instead of probabilities.

    Labels may be (N,) or (N, 1) (any leading shape); a label outside [0, C) is a
    ValueError.
    """

    default_name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = boolean(type(self).__name__, "from_logits", from_logits)

    def call(self, y_true, y_pred):
        labels = _data(
            "SparseCategoricalCrossentropy", y_true, "y_true", like=y_pred.data
        )
        if y_pred.ndim == 0:
            raise ValueError(
                "SparseCategoricalCrossentropy: invalid value for argument 'y_pred'. "
                "Expected class scores with a class axis (N, C). Received: a scalar"
            )
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        if labels.shape != y_pred.shape[:-1]:
            raise ValueError(
                "SparseCategoricalCrossentropy: y_true must hold one integer label per "
                f"row of y_pred, shape {y_pred.shape[:-1]} (or with a trailing 1). "
                f"Received: y_true.shape={np.shape(y_true)}, "
                f"y_pred.shape={y_pred.shape}"
            )
        logits = y_pred if self.from_logits else _logits_of(y_pred, "softmax", -1)
        if logits is not None:
            return F.sparse_softmax_cross_entropy(logits, labels)
        labels = _as_int_labels(
            labels, y_pred.shape[-1], "SparseCategoricalCrossentropy"
        )
        p = y_pred / F.maximum(F.sum(y_pred, axis=-1, keepdims=True), EPSILON)
        picked = F.getitem(p, _index_of(labels))
        return -F.log(F.clip(picked, EPSILON, 1.0 - EPSILON))

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits}


def mean_squared_error(y_true, y_pred) -> Tensor:
    """Per-sample mean squared error (Keras's function form)."""
    return MeanSquaredError().call(y_true, _y_pred(y_pred))


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """Per-sample mean absolute error."""
    return MeanAbsoluteError().call(y_true, _y_pred(y_pred))


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """Per-sample Huber loss."""
    return Huber(delta).call(y_true, _y_pred(y_pred))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample binary cross-entropy."""
    return BinaryCrossentropy(from_logits, label_smoothing).call(
        y_true, _y_pred(y_pred)
    )


def categorical_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Per-sample categorical cross-entropy."""
    loss = CategoricalCrossentropy(from_logits, label_smoothing, axis)
    return loss.call(y_true, _y_pred(y_pred))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample sparse categorical cross-entropy."""
    return SparseCategoricalCrossentropy(from_logits).call(y_true, _y_pred(y_pred))


_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        Huber,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}
_ALIASES = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def serialize(loss) -> dict:
    """The JSON-friendly form ``{"class_name": ..., "config": {...}}`` of a loss."""
    return _registry.serialize(loss, Loss, _CLASSES, "losses")


def get(identifier):
    """Resolve a loss: a Keras name, a serialised dict, a Loss, or a function.

    A plain function ``fn(y_true, y_pred)`` returning per-sample losses is wrapped
    in :class:`LossFunctionWrapper` (so it is reduced like the built-in losses).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    found = _registry.resolve(identifier, _CLASSES, _ALIASES)
    if found is not None:
        return found
    if callable(identifier) and not isinstance(identifier, str):
        return LossFunctionWrapper(identifier)
    raise ValueError(
        f"invalid value for argument 'loss'. Expected one of {sorted(_ALIASES)}, a "
        f"Loss object or a function(y_true, y_pred). Received: loss={identifier!r}"
    )


class TripletLoss(Loss):
    """Triplet loss with in-batch mining: ``y_true`` labels, ``y_pred`` embeddings.

    The anchor/positive/negative triplets are mined inside each batch from the
    labels (see ``numnet.functional.batch_triplet_loss``), so a plain embedding
    network trains with ``model.compile(loss=TripletLoss(margin=0.2))``. Like
    TensorFlow-Addons' ``TripletSemiHardLoss``, the loss is one scalar per batch;
    shuffle so that each batch holds several items of several classes.

    Args:
        margin: alpha in max(d(a, p) - d(a, n) + alpha, 0).
        mining: "semi-hard" (FaceNet, default), "hard" (batch-hard) or "all".
        squared: squared Euclidean distances (the course's form) or plain ones.
        name, reduction: as for every :class:`Loss` (the value is already a mean).
    """

    default_name = "triplet_loss"

    def __init__(self, margin=0.2, mining="semi-hard", squared=True, name=None,
                 reduction="sum_over_batch_size"):  # fmt: skip
        super().__init__(name, reduction)
        F.metric_learning.check_triplet_options(type(self).__name__, margin, mining)
        self.margin, self.mining = float(margin), mining
        self.squared = boolean(type(self).__name__, "squared", squared)

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        if sample_weight is not None:
            raise ValueError(
                f"{type(self).__name__}: sample_weight is not supported (the loss "
                f"couples the samples of a batch). Received: sample_weight"
            )
        return super().__call__(y_true, y_pred)

    def call(self, y_true, y_pred: Tensor) -> Tensor:
        labels = _data(type(self).__name__, y_true, "y_true").reshape(-1)
        return F.batch_triplet_loss(
            labels, y_pred, self.margin, self.mining, squared=self.squared
        )

    def get_config(self) -> dict:
        """The constructor arguments."""
        config = {"margin": self.margin, "mining": self.mining}
        return {**super().get_config(), **config, "squared": self.squared}


def triplet_loss(y_true, y_pred, margin=0.2, mining="semi-hard") -> Tensor:
    """Batch triplet loss of labelled embeddings (function form of TripletLoss)."""
    return TripletLoss(margin, mining).call(y_true, _y_pred(y_pred))


_CLASSES["TripletLoss"] = TripletLoss
_ALIASES.update(triplet_loss=TripletLoss, triplet_semihard_loss=TripletLoss)
_MORE = (
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    LogCosh,
    CosineSimilarity,
    Poisson,
    KLDivergence,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
)
_CLASSES.update((cls.__name__, cls) for cls in _MORE)
_ALIASES.update((cls.default_name, cls) for cls in _MORE)
_ALIASES.update(
    mape=MeanAbsolutePercentageError,
    msle=MeanSquaredLogarithmicError,
    logcosh=LogCosh,
    kld=KLDivergence,
    kullback_leibler_divergence=KLDivergence,
)
