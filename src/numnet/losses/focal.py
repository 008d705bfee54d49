"""Focal cross-entropies (Lin et al. 2017) in Keras 3's form: the cross-entropy
of each class weighted by ``(1 - p_t)^gamma``, which shrinks the loss of the
examples already classified well.

Probabilities are clipped to [1e-7, 1 - 1e-7] inside the logarithm as Keras
does. From logits (``from_logits=True``, or a sigmoid/softmax layer output,
which carries its logits) the logarithm is the fused stable one instead of
Keras's clipped ``log(sigmoid(z))``: equal where Keras does not clip
(|z| below about 16), exact and finite beyond.
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.layers._utils import boolean, real_number
from numnet.losses._base import (
    EPSILON,
    _CrossentropyBase,
    _logits_of,
    _targets,
    _y_pred,
)


def _focal_factor(base: Tensor, gamma: float) -> Tensor:
    """base^gamma with base = 1 - p_t floored at 1e-7 (Keras's clip bound), so
    that gamma < 1 keeps a finite gradient at a perfect prediction."""
    return F.pow(F.maximum(base, EPSILON), gamma)


class BinaryFocalCrossentropy(_CrossentropyBase):
    """mean((1 - p_t)^gamma * bce) over ``axis``, optionally class-balanced.

    With p = sigmoid output, t the (smoothed) target,
    ``p_t = t p + (1 - t)(1 - p)``, ``bce = -(t log p + (1 - t) log(1 - p))``;
    with ``apply_class_balancing`` each term is also weighted by
    ``alpha t + (1 - alpha)(1 - t)``. ``gamma = 0`` (without balancing) is the
    binary cross-entropy.

    Args:
        apply_class_balancing: weigh class 1 by alpha and class 0 by 1 - alpha.
        alpha: the weight of class 1, in [0, 1] (default 0.25).
        gamma: the focusing exponent, >= 0 (default 2.0).
        from_logits: y_pred are logits (stable fused form) instead of probabilities.
        label_smoothing: targets become t (1 - s) + s / 2.
        axis: the axis the per-sample mean runs over (default -1).
        name, reduction: as for every :class:`Loss`.
    """

    default_name = "binary_focal_crossentropy"

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                 from_logits=False, label_smoothing=0.0, axis=-1, name=None,
                 reduction="sum_over_batch_size"):  # fmt: skip
        super().__init__(from_logits, label_smoothing, axis, name, reduction)
        owner = type(self).__name__
        self.apply_class_balancing = boolean(
            owner, "apply_class_balancing", apply_class_balancing
        )
        self.alpha = real_number(owner, "alpha", alpha, minimum=0)
        if self.alpha > 1:
            raise ValueError(
                f"{owner}: invalid value for argument 'alpha'. Expected a number "
                f"in [0, 1]. Received: alpha={alpha!r}"
            )
        self.gamma = real_number(owner, "gamma", gamma, minimum=0)

    def call(self, y_true, y_pred):
        t = self._smooth(_targets(type(self).__name__, y_true, y_pred))
        logits = y_pred if self.from_logits else _logits_of(y_pred, "sigmoid", -1)
        if logits is not None:
            bce = F.sigmoid_binary_cross_entropy(logits, t)
            p, one_minus_p = F.sigmoid(logits), F.sigmoid(-logits)  # no 1 - p
        else:
            q = F.clip(y_pred, EPSILON, 1.0 - EPSILON)
            bce = -(t * F.log(q) + (1.0 - t) * F.log(1.0 - q))
            p, one_minus_p = y_pred, 1.0 - y_pred  # Keras: p_t from unclipped p
        # 1 - p_t = t (1 - p) + (1 - t) p
        focal = _focal_factor(t * one_minus_p + (1.0 - t) * p, self.gamma) * bce
        if self.apply_class_balancing:
            focal = focal * (t * self.alpha + (1.0 - t) * (1.0 - self.alpha))
        return F.mean(focal, axis=self.axis) if focal.ndim >= 2 else focal

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


def _class_weights(owner: str, alpha):
    """A float, or a tuple of per-class floats (all finite and >= 0)."""
    if isinstance(alpha, (list, tuple, np.ndarray)):
        values = [real_number(owner, "alpha", a, minimum=0) for a in alpha]
        if not values:
            raise ValueError(
                f"{owner}: invalid value for argument 'alpha'. Expected a number or "
                f"one number per class. Received: alpha={alpha!r}"
            )
        return values
    return real_number(owner, "alpha", alpha, minimum=0)


class CategoricalFocalCrossentropy(_CrossentropyBase):
    """sum(alpha (1 - p)^gamma * (-t log p)) over the class ``axis``.

    p is the softmax output renormalised to sum 1 and clipped to
    [1e-7, 1 - 1e-7] (Keras); t the one-hot (smoothed) targets.

    Args:
        alpha: class weight, a number (default 0.25) or one number per class.
        gamma: the focusing exponent, >= 0 (default 2.0).
        from_logits: y_pred are logits (stable log-softmax) instead of probabilities.
        label_smoothing: targets become t (1 - s) + s / C.
        axis: the class axis (default -1).
        name, reduction: as for every :class:`Loss`.
    """

    default_name = "categorical_focal_crossentropy"

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, name=None, reduction="sum_over_batch_size"):  # fmt: skip
        super().__init__(from_logits, label_smoothing, axis, name, reduction)
        owner = type(self).__name__
        self.alpha = _class_weights(owner, alpha)
        self.gamma = real_number(owner, "gamma", gamma, minimum=0)

    def _alpha_for(self, y_pred: Tensor):
        if not isinstance(self.alpha, list):
            return self.alpha
        classes = y_pred.shape[self.axis]
        if len(self.alpha) != classes:
            raise ValueError(
                f"CategoricalFocalCrossentropy: alpha has {len(self.alpha)} class "
                f"weights but y_pred has {classes} classes on axis {self.axis}. "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        shape = [1] * y_pred.ndim
        shape[self.axis] = classes
        xp = backend.get_array_module(y_pred.data)
        return xp.asarray(self.alpha, dtype=y_pred.dtype).reshape(shape)

    def call(self, y_true, y_pred):
        if y_pred.ndim == 0 or not -y_pred.ndim <= self.axis < y_pred.ndim:
            raise ValueError(
                f"CategoricalFocalCrossentropy: invalid value for argument 'axis'. "
                f"Expected a class axis of y_pred. Received: axis={self.axis}, "
                f"y_pred.shape={y_pred.shape}"
            )
        t = _targets("CategoricalFocalCrossentropy", y_true, y_pred)
        t = self._smooth(t, y_pred)
        logits = self._softmax_logits(y_pred)
        if logits is not None:  # the stable log; p clipped as Keras for the factor
            log_p = F.log_softmax(logits, axis=self.axis)
            p = F.clip(F.exp(log_p), EPSILON, 1.0 - EPSILON)
        else:
            p = self._probabilities(y_pred)
            log_p = F.log(p)
        weight = _focal_factor(1.0 - p, self.gamma) * self._alpha_for(y_pred)
        return F.sum(weight * (-t * log_p), axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False,
                              alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1) -> Tensor:  # fmt: skip
    """Per-sample binary focal cross-entropy."""
    loss = BinaryFocalCrossentropy(
        apply_class_balancing, alpha, gamma, from_logits, label_smoothing, axis
    )
    return loss.call(y_true, _y_pred(y_pred))


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0,
                                   from_logits=False, label_smoothing=0.0,
                                   axis=-1) -> Tensor:  # fmt: skip
    """Per-sample categorical focal cross-entropy."""
    loss = CategoricalFocalCrossentropy(
        alpha, gamma, from_logits, label_smoothing, axis
    )
    return loss.call(y_true, _y_pred(y_pred))
