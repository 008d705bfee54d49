"""Keras's hinge losses (maximum-margin classification): Hinge, SquaredHinge,
CategoricalHinge.

Kink convention: at a margin of exactly 1 the gradient is the linear piece's
(``maximum`` sends a tie to its first argument, as TensorFlow's does).
"""

from __future__ import annotations

import numnet.functional as F
from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.losses._base import Loss, _mean_last, _targets, _y_pred


def _signed_labels(owner: str, y_true, y_pred: Tensor) -> Tensor:
    """Targets in {-1, 1}: 0/1 labels are mapped to -1/1 when *every* label is
    0 or 1 (Keras's ``convert_binary_labels_to_hinge``), otherwise kept."""
    t = _targets(owner, y_true, y_pred)
    xp = backend.get_array_module(t.data)
    # b = 1 when all labels are binary: t -> 2t - 1, else t (no host sync)
    b = xp.all((t.data == 0) | (t.data == 1)).astype(t.dtype)
    return t * (1 + b) - b


class Hinge(Loss):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis.

    ``y_true`` holds -1/1 labels; 0/1 labels are converted to -1/1 (when all of
    them are 0 or 1), as in Keras. ``y_pred`` are raw scores.
    """

    default_name = "hinge"

    def call(self, y_true, y_pred):
        t = _signed_labels(type(self).__name__, y_true, y_pred)
        return _mean_last(F.maximum(1.0 - t * y_pred, 0.0))


class SquaredHinge(Loss):
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis (labels as Hinge)."""

    default_name = "squared_hinge"

    def call(self, y_true, y_pred):
        t = _signed_labels(type(self).__name__, y_true, y_pred)
        margin = F.maximum(1.0 - t * y_pred, 0.0)
        return _mean_last(margin * margin)


class CategoricalHinge(Loss):
    """max(neg - pos + 1, 0) with pos = sum(y_true * y_pred) and
    neg = max((1 - y_true) * y_pred), over the last (class) axis.

    ``y_true`` is one-hot; the loss is the margin by which the best wrong class
    comes within 1 of the true class's score.
    """

    default_name = "categorical_hinge"

    def call(self, y_true, y_pred):
        if y_pred.ndim == 0:
            raise ValueError(
                "CategoricalHinge: invalid value for argument 'y_pred'. Expected "
                "class scores with a class axis (N, C). Received: a scalar"
            )
        t = _targets(type(self).__name__, y_true, y_pred)
        pos = F.sum(t * y_pred, axis=-1)
        neg = F.max((1.0 - t) * y_pred, axis=-1)
        return F.maximum(neg - pos + 1.0, 0.0)


def hinge(y_true, y_pred) -> Tensor:
    """Per-sample hinge loss."""
    return Hinge().call(y_true, _y_pred(y_pred))


def squared_hinge(y_true, y_pred) -> Tensor:
    """Per-sample squared hinge loss."""
    return SquaredHinge().call(y_true, _y_pred(y_pred))


def categorical_hinge(y_true, y_pred) -> Tensor:
    """Per-sample categorical hinge loss."""
    return CategoricalHinge().call(y_true, _y_pred(y_pred))
