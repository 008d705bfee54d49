"""Localization loss of the course: masked multi-task loss on [pc, coords, classes].

The target of one image (or one grid cell) is the vector

    y = (pc, b_1, ..., b_C, c_1, ..., c_K)

with ``pc`` = 1 when an object is present, C coordinates (C = 4 for a box
``(bx, by, bh, bw)``, 2L for L landmarks) and a one-hot class. The loss is a sum
of per-element terms,

    L = w_pc * bce(pc_hat, pc)
      + pc * (w_coord * sum_j (b_hat_j - b_j)^2 + w_class * sum_k -c_k log c_hat_k)

so when ``pc`` = 0 only the objectness term counts (the course's "don't care"
for the box and class). Any target element may be NaN, the course's "?": that
element's term is dropped (a NaN ``pc`` keeps the box and class terms). A
``sample_weight`` with the shape of the targets weights each element's term;
one weight per sample works as in every loss.
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.losses import Loss, _sample_weight, _y_pred
from numnet.losses._base import _data


def _check_count(value, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"LocalizationLoss: invalid value for argument '{argument}'. Expected an "
            f"int >= {minimum}. Received: {argument}={value!r}"
        )
    return value


class LocalizationLoss(Loss):
    """Objectness + coordinates + class, the box and class terms gated by ``pc``.

    Args:
        num_classes: K, the class entries after the coordinates (0: none).
        num_coords: C, the coordinates after ``pc`` (4 for a box, 2L for L
            landmarks).
        from_logits: ``y_pred``'s ``pc`` and class entries are logits (sigmoid
            and softmax are applied inside, in the stable fused forms); False:
            they are probabilities (clipped to [1e-7, 1 - 1e-7]).
        pc_weight, coord_weight, class_weight: the weight of each task.
        name, reduction: as for every ``Loss``.

    Shape:
        y_true, y_pred: (N, ..., 1 + C + K) -> per-sample losses (N, ...) before
        the reduction. ``sample_weight``: (N,) or the shape of ``y_true``.

    Example:
        >>> import numpy as np
        >>> from numnet.vision import LocalizationLoss
        >>> loss = LocalizationLoss(num_classes=2, from_logits=False)
        >>> y_true = np.array([[0.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]])
        >>> y_pred = np.array([[0.5, 0.3, 0.3, 0.2, 0.2, 0.5, 0.5]])
        >>> round(loss(y_true, y_pred).item(), 4)  # only -log(1 - 0.5) counts
        0.6931
    """

    default_name = "localization_loss"

    #: NaN targets are missing labels, not bad data (fit's finite check skips y)
    nan_targets_are_missing = True

    def __init__(
        self,
        num_classes: int,
        num_coords: int = 4,
        from_logits: bool = True,
        pc_weight: float = 1.0,
        coord_weight: float = 1.0,
        class_weight: float = 1.0,
        name=None,
        reduction="sum_over_batch_size",
    ):
        super().__init__(name=name, reduction=reduction)
        self.num_classes = _check_count(num_classes, "num_classes", 0)
        self.num_coords = _check_count(num_coords, "num_coords", 0)
        self.from_logits = bool(from_logits)
        self.pc_weight = float(pc_weight)
        self.coord_weight = float(coord_weight)
        self.class_weight = float(class_weight)

    @property
    def width(self) -> int:
        """The length of one target vector, 1 + C + K."""
        return 1 + self.num_coords + self.num_classes

    def call(self, y_true, y_pred: Tensor) -> Tensor:
        """Per-sample losses (the sum of the weighted element terms)."""
        return self._per_sample(y_true, y_pred, None)

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = _y_pred(y_pred)
        ndim = getattr(sample_weight, "ndim", None)  # device arrays: no np.ndim
        ndim = np.ndim(sample_weight) if ndim is None else ndim
        if sample_weight is None or ndim < y_pred.ndim:
            return super().__call__(y_true, y_pred, sample_weight)
        weights = _sample_weight(self.name, sample_weight, y_pred)
        values = self._per_sample(y_true, y_pred, weights)
        if self.reduction in ("none", None):
            return values
        total = F.sum(values)
        return total if self.reduction == "sum" else total / float(max(values.size, 1))

    def _per_sample(self, y_true, y_pred: Tensor, element_weight) -> Tensor:
        target = self._target(y_true, y_pred)
        weight = self._weights(target, y_pred.dtype)
        if element_weight is not None:
            weight = weight * element_weight
        xp = backend.get_array_module(target)
        clean = xp.where(xp.isnan(target), 0.0, target).astype(target.dtype)
        terms = self._terms(clean, y_pred)
        return F.sum(terms * weight, axis=-1)

    def _target(self, y_true, y_pred: Tensor) -> np.ndarray:
        target = _data(self.name, y_true, "y_true", like=y_pred.data)
        target = target.astype(y_pred.dtype, copy=False)  # on y_pred's device
        if y_pred.shape[-1] != self.width or target.shape != y_pred.shape:
            raise ValueError(
                f"{self.name}: expected y_true and y_pred of one shape (..., "
                f"{self.width}) = (..., 1 + num_coords + num_classes). Received: "
                f"y_true.shape={target.shape}, y_pred.shape={y_pred.shape}"
            )
        return target

    def _weights(self, target: np.ndarray, dtype) -> np.ndarray:
        """Per-element weights: task weight x known (not NaN) x gate (pc)."""
        xp = backend.get_array_module(target)
        known = ~xp.isnan(target)
        pc = target[..., :1]
        gate = xp.where(xp.isnan(pc), 1.0, pc).astype(dtype)
        c = 1 + self.num_coords
        weight = xp.concatenate(
            [
                xp.full(pc.shape, self.pc_weight, dtype=dtype),
                xp.broadcast_to(self.coord_weight * gate, pc.shape[:-1] + (c - 1,)),
                xp.broadcast_to(self.class_weight * gate,
                                pc.shape[:-1] + (self.num_classes,)),
            ],
            axis=-1,
        ).astype(dtype)  # fmt: skip
        if self.num_classes:  # an unknown class entry leaves the class unknown
            class_known = known[..., c:].all(axis=-1, keepdims=True)
            known[..., c:] = class_known
        return weight * known

    def _terms(self, target: np.ndarray, y_pred: Tensor) -> Tensor:
        """Element terms: bce on pc, squared error on coordinates, -t log p."""
        c = 1 + self.num_coords
        pc, coords, classes = y_pred[..., :1], y_pred[..., 1:c], y_pred[..., c:]
        parts = [self._bce(target[..., :1], pc), (coords - target[..., 1:c]) ** 2]
        if self.num_classes:
            if self.from_logits:
                log_p = F.log_softmax(classes, axis=-1)
            else:
                log_p = F.log(F.clip(classes, 1e-7, 1 - 1e-7))
            parts.append(-(log_p * target[..., c:]))
        return F.concatenate(parts, axis=-1)

    def _bce(self, t: np.ndarray, pc: Tensor) -> Tensor:
        if self.from_logits:
            return F.sigmoid_binary_cross_entropy(pc, t)
        p = F.clip(pc, 1e-7, 1 - 1e-7)
        return -(F.log(p) * t + F.log(1 - p) * (1 - t))

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "num_coords": self.num_coords,
            "from_logits": self.from_logits,
            "pc_weight": self.pc_weight,
            "coord_weight": self.coord_weight,
            "class_weight": self.class_weight,
        }
