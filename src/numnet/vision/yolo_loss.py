"""The YOLO loss and anchor boxes chosen by k-means on the IoU distance.

The network emits raw values ``t`` per grid cell and anchor, in the layout of
:mod:`numnet.vision.yolo`: ``(t_c, t_x, t_y, t_h, t_w, t_1..t_K)``, decoded by
:func:`numnet.vision.yolo_head` as pc = sigmoid(t_c), (bx, by) =
sigmoid(t_x, t_y), (bh, bw) = anchor (h, w) * exp(t_h, t_w), classes =
softmax(t_k). Against targets from :func:`numnet.vision.encode_yolo_targets`
(``obj`` = 1 on the anchor responsible for an object) the loss of one image is

    L = lambda_coord * sum obj * [(sigmoid(t_x) - bx)^2 + (sigmoid(t_y) - by)^2
                                  + (t_h - log(bh / anchor_h))^2
                                  + (t_w - log(bw / anchor_w))^2]
      + sum obj * bce(t_c, 1) + lambda_noobj * sum (1 - obj) * bce(t_c, 0)
      + sum obj * cross_entropy(softmax(t_k), c)

summed over cells and anchors: YOLOv1's coordinate / object / no-object / class
terms with YOLOv2's anchor parametrization (the size is regressed in log space,
which weighs small and large boxes alike, the role of YOLOv1's square roots) and
logistic objectness.
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.losses import Loss
from numnet.losses._base import _data
from numnet.vision.yolo import _anchors, shape_iou


def kmeans_anchors(box_sizes, k: int, iterations: int = 100, seed: int = 0):
    """Anchor boxes by k-means on the distance d = 1 - IoU (YOLOv2).

    Boxes are compared by shape only (IoU of the (w, h) rectangles on a common
    centre), so large boxes do not dominate as with Euclidean distance. Each
    step assigns every box to the anchor of highest IoU and moves each anchor to
    the mean (w, h) of its boxes.

    Args:
        box_sizes: (G, 2) training box (width, height), e.g. as image fractions.
        k: the number of anchors.
        iterations: the most k-means steps (it stops when assignments settle).
        seed: seeds the choice of the initial anchors among the boxes.

    Returns:
        (k, 2) anchors (width, height), by increasing area.

    Raises:
        ValueError: for fewer boxes than anchors or non-positive sizes.
    """
    wh = np.asarray(box_sizes, dtype=np.float64)
    if wh.ndim != 2 or wh.shape[1] != 2 or np.any(wh <= 0):
        raise ValueError(
            f"kmeans_anchors: expected (G, 2) positive box sizes. Received: shape "
            f"{wh.shape}"
        )
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(wh):
        raise ValueError(
            f"kmeans_anchors: invalid value for argument 'k'. Expected an int in "
            f"[1, {len(wh)}] (at most one anchor per box). Received: k={k!r}"
        )
    rng = np.random.default_rng(seed)
    anchors = wh[rng.choice(len(wh), k, replace=False)]
    assignment = np.full(len(wh), -1)
    for _ in range(iterations):
        new = shape_iou(wh, anchors).argmax(axis=1)  # nearest: smallest 1 - IoU
        if np.array_equal(new, assignment):
            break
        assignment = new
        for j in range(k):  # loop over the k anchors only
            if np.any(assignment == j):
                anchors[j] = wh[assignment == j].mean(axis=0)
    return anchors[np.argsort(anchors.prod(axis=1), kind="stable")]


def mean_anchor_iou(box_sizes, anchors) -> float:
    """Mean over boxes of the best shape IoU with an anchor (how well they fit)."""
    return float(shape_iou(np.asarray(box_sizes), _anchors(anchors)).max(axis=1).mean())


class YoloLoss(Loss):
    """The YOLO loss (see the module docstring) on raw outputs.

    Args:
        anchors: (B, 2) anchor (width, height) as image fractions.
        num_classes: K.
        lambda_coord: the weight of the coordinate terms (5 in YOLOv1).
        lambda_noobj: the weight of the no-object term (0.5 in YOLOv1).
        name, reduction: as for every ``Loss`` (per-sample values are images).

    Shape:
        y_true: (N, S_rows, S_cols, B, 5 + K) from ``encode_yolo_targets`` (or
        with the last two axes merged); y_pred: (N, S_rows, S_cols, B * (5 + K))
        raw outputs (or 5-D) -> per-image losses (N,).
    """

    default_name = "yolo_loss"

    def __init__(
        self,
        anchors,
        num_classes: int,
        lambda_coord: float = 5.0,
        lambda_noobj: float = 0.5,
        name=None,
        reduction="sum_over_batch_size",
    ):
        super().__init__(name=name, reduction=reduction)
        self.anchors = _anchors(anchors)
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, int)
            or (num_classes < 1)
        ):
            raise ValueError(
                f"YoloLoss: invalid value for argument 'num_classes'. Expected a "
                f"positive int. Received: num_classes={num_classes!r}"
            )
        self.num_classes = num_classes
        self.lambda_coord = float(lambda_coord)
        self.lambda_noobj = float(lambda_noobj)

    def _shapes(self, y_true, y_pred: Tensor):
        b, depth = self.anchors.shape[0], 5 + self.num_classes
        target = _data(self.name, y_true, "y_true", like=y_pred.data)
        target = target.astype(y_pred.dtype, copy=False)  # on y_pred's device
        grid = y_pred.shape[:3]
        if y_pred.ndim == 4 and y_pred.shape[-1] == b * depth:
            y_pred = F.reshape(y_pred, grid + (b, depth))
        expected = grid + (b, depth)
        if y_pred.shape != expected or target.size != int(np.prod(expected)):
            raise ValueError(
                f"{self.name}: expected y_pred (N, S_rows, S_cols, {b * depth}) or "
                f"(N, S_rows, S_cols, {b}, {depth}) and y_true with the same "
                f"cells. Received: y_true.shape={target.shape}, "
                f"y_pred.shape={y_pred.shape}"
            )
        return target.reshape(expected), y_pred

    def call(self, y_true, y_pred: Tensor) -> Tensor:
        """Per-image losses."""
        target, t = self._shapes(y_true, y_pred)
        xp = backend.get_array_module(target)
        rows, cols = target.shape[1:3]
        obj = target[..., :1]
        # Target sizes in log space relative to the anchor (in cells); cells
        # without an object get 0 there (masked out by obj anyway).
        anchor_hw = np.stack(
            [self.anchors[:, 1] * rows, self.anchors[:, 0] * cols], axis=-1
        )
        anchor_hw = xp.asarray(anchor_hw.astype(target.dtype))
        log_hw = xp.log(xp.where(obj > 0, target[..., 3:5], 1.0) / anchor_hw)
        log_hw = xp.where(obj > 0, log_hw, 0.0).astype(target.dtype)
        terms = F.concatenate(
            [
                F.sigmoid_binary_cross_entropy(t[..., :1], obj),
                (F.sigmoid(t[..., 1:3]) - target[..., 1:3]) ** 2,
                (t[..., 3:5] - log_hw) ** 2,
                -(F.log_softmax(t[..., 5:], axis=-1) * target[..., 5:]),
            ],
            axis=-1,
        )
        weight = xp.concatenate(
            [
                obj + self.lambda_noobj * (1 - obj),
                xp.repeat(self.lambda_coord * obj, 4, axis=-1),
                xp.repeat(obj, self.num_classes, axis=-1),
            ],
            axis=-1,
        ).astype(target.dtype)
        per_image = F.reshape(terms * weight, (target.shape[0], -1))
        return F.sum(per_image, axis=-1)

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {
            **super().get_config(),
            "anchors": self.anchors.tolist(),
            "num_classes": self.num_classes,
            "lambda_coord": self.lambda_coord,
            "lambda_noobj": self.lambda_noobj,
        }
