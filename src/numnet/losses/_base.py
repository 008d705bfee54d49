"""The base of the losses: the ``Loss`` class and the input rules they share.

``Loss.__call__`` validates ``y_pred``, calls the subclass's per-sample
``call`` and applies ``sample_weight`` and the reduction; the helpers turn
``y_true`` / ``y_pred`` / ``sample_weight`` into Tensors and arrays of the
right shape, dtype and device.
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import backend
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.layers._utils import boolean

EPSILON = 1e-7  # Keras's backend epsilon for clipping probabilities
_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)
#: dtypes whose ``mean`` is their ``sum`` (same accumulator) divided by n, one
#: correctly rounded division: the same loss and gradient as sum(values) / n
_EXACT_MEAN = (np.dtype(np.float32), np.dtype(np.float64))


def _data(owner: str, value, argument: str, like=None):
    """``value`` (a Tensor or array-like) through numnet's one input rule, on the
    array namespace (device) of ``like`` when given."""
    raw = value.data if isinstance(value, Tensor) else value
    array = backend.as_input_array(raw, owner, argument)
    if like is None:
        return array
    xp = backend.get_array_module(like)
    return array if backend.get_array_module(array) is xp else xp.asarray(array)


def _y_pred(y_pred, owner: str = "loss") -> Tensor:
    if not isinstance(y_pred, Tensor):
        y_pred = as_tensor(_data(owner, y_pred, "y_pred"))
    else:
        _data(owner, y_pred, "y_pred")
    if y_pred.dtype.kind != "f":
        y_pred = Tensor._from_op(y_pred.data.astype(np.float32))
    return y_pred


def _targets(owner: str, y_true, y_pred: Tensor) -> Tensor:
    """y_true as a Tensor of y_pred's shape and dtype (a trailing 1 is squeezed)."""
    if isinstance(y_true, Tensor) and y_true.requires_grad:
        t = y_true
    else:
        raw = _data(owner, y_true, "y_true", like=y_pred.data)
        t = Tensor._from_op(raw.astype(y_pred.dtype, copy=False))
    if t.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        t = F.reshape(t, t.shape + (1,))
    elif t.ndim == y_pred.ndim + 1 and t.shape[-1] == 1:
        t = F.reshape(t, t.shape[:-1])
    if t.shape != y_pred.shape:
        raise ValueError(
            f"{owner}: y_true and y_pred must have the same shape. Received: "
            f"y_true.shape={t.shape}, y_pred.shape={y_pred.shape}"
        )
    return t


def _axis(owner: str, axis) -> int:
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    raise ValueError(
        f"{owner}: invalid value for argument 'axis'. Expected an int. "
        f"Received: axis={axis!r}"
    )


def _mean_last(values: Tensor) -> Tensor:
    """Keras's per-sample reduction: the mean over the last axis (for ndim >= 2)."""
    return F.mean(values, axis=-1) if values.ndim >= 2 else values


def _logits_of(y_pred: Tensor, kind: str, axis: int):
    """The logits behind a softmax/sigmoid output (when over the last axis)."""
    logits = getattr(y_pred, "_logits", None)
    if logits is None or getattr(y_pred, "_logits_activation", None) != kind:
        return None
    return logits if axis in (-1, y_pred.ndim - 1) else None


class Loss:
    """Base class: implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: the loss name (Keras snake_case default).
        reduction: ``"sum_over_batch_size"``, ``"sum"`` or ``"none"``.
    """

    default_name = "loss"

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument 'reduction'. "
                f"Expected one of {list(_REDUCTIONS)}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or self.default_name
        self.reduction = reduction

    def call(self, y_true, y_pred: Tensor) -> Tensor:
        """Per-sample losses (no reduction)."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = _y_pred(y_pred, type(self).__name__)
        if y_pred.size == 0:  # a mean over nothing is NaN, never a loss
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument 'y_pred'. "
                f"Expected at least one value. Received: y_pred.shape={y_pred.shape}"
            )
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            values = values * _sample_weight(self.name, sample_weight, values)
        if self.reduction in ("none", None):
            return values
        if self.reduction == "sum" or values.size <= 1:
            return F.sum(values)
        if values.dtype in _EXACT_MEAN:  # one op: sum / n, correctly rounded
            return F.mean(values)
        return F.sum(values) / float(values.size)

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


def _sample_weight(owner: str, sample_weight, values: Tensor) -> np.ndarray:
    sw = _data(owner, sample_weight, "sample_weight", like=values.data)
    sw = sw.astype(values.dtype, copy=False)
    while sw.ndim > values.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    try:
        np.broadcast_shapes(sw.shape, values.shape)
    except ValueError:
        raise ValueError(
            f"{owner}: sample_weight of shape {np.shape(sample_weight)} does not match "
            f"the per-sample losses of shape {values.shape}"
        ) from None
    return sw


def _index_of(labels: np.ndarray) -> tuple:
    """Advanced index picking p[..., label] for every leading position."""
    grids = backend.get_array_module(labels).indices(labels.shape, sparse=True)
    return tuple(grids) + (labels,)


class LossFunctionWrapper(Loss):
    """Wrap a plain ``fn(y_true, y_pred) -> per-sample Tensor`` into a Loss."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn, self.kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return as_tensor(self.fn(y_true, y_pred, **self.kwargs))


class _CrossentropyBase(Loss):
    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        name=None,
        reduction="sum_over_batch_size",
    ):
        super().__init__(name, reduction)
        self.from_logits = boolean(type(self).__name__, "from_logits", from_logits)
        ok = isinstance(label_smoothing, (int, float)) and 0 <= label_smoothing <= 1
        if not ok or isinstance(label_smoothing, bool):
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument "
                f"'label_smoothing'. Expected a number in [0, 1]. "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)
        self.axis = _axis(type(self).__name__, axis)

    def _smooth(self, t: Tensor, y_pred: Tensor | None = None) -> Tensor:
        """Targets pulled by ``label_smoothing`` towards 1 / C, C the size of
        y_pred's class axis, or towards 1/2 without y_pred (binary), as Keras."""
        if not self.label_smoothing:
            return t
        classes = 2 if y_pred is None else y_pred.shape[self.axis]
        return t * (1.0 - self.label_smoothing) + self.label_smoothing / classes

    def _softmax_logits(self, y_pred: Tensor):
        """y_pred itself from logits, else the logits behind a softmax output."""
        return y_pred if self.from_logits else _logits_of(y_pred, "softmax", self.axis)

    def _probabilities(self, y_pred: Tensor) -> Tensor:
        """y_pred renormalised over the class axis and clipped to [eps, 1 - eps]
        as Keras; a floor on the sum: scores summing to 0 (or below) stay finite."""
        total = F.maximum(F.sum(y_pred, axis=self.axis, keepdims=True), EPSILON)
        return F.clip(y_pred / total, EPSILON, 1.0 - EPSILON)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }
