"""Bounding boxes: format conversion, intersection over union, non-max suppression.

Boxes are rows of 4 numbers in one of two formats:

* ``"corners"``: (x1, y1, x2, y2), the top-left and bottom-right corners;
* ``"center"``: (cx, cy, w, h), the centre, width and height.

x grows to the right and y downwards (image convention); any unit works as long
as all boxes share it. These are plain NumPy utilities (no autograd): they post-
process predictions and build training targets.
"""

from __future__ import annotations

import numpy as np

from numnet import backend

BOX_FORMATS = ("corners", "center")


def host(value, dtype=None) -> np.ndarray:
    """A Tensor, an array of any device or array-like as a NumPy array (a device
    array, e.g. a GPU model's output, is copied to the host explicitly)."""
    array = backend.to_host(value)  # a Tensor too (through its __array__)
    return array if dtype is None else array.astype(dtype, copy=False)


def _boxes(boxes, argument: str = "boxes") -> np.ndarray:
    array = host(boxes)
    if array.ndim == 0 or array.shape[-1] != 4 or array.dtype.kind not in "fiu":
        raise ValueError(
            f"invalid value for argument '{argument}'. Expected numeric boxes of "
            f"shape (..., 4). Received: shape {array.shape}, dtype {array.dtype}"
        )
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _check_format(box_format: str) -> None:
    if box_format not in BOX_FORMATS:
        raise ValueError(
            f"invalid value for argument 'box_format'. Expected one of "
            f"{list(BOX_FORMATS)}. Received: box_format={box_format!r}"
        )


def center_to_corners(boxes) -> np.ndarray:
    """Convert (cx, cy, w, h) boxes to (x1, y1, x2, y2).

    Shape:
        boxes: (..., 4) -> (..., 4)
    """
    b = _boxes(boxes)
    half = b[..., 2:] / 2
    return np.concatenate([b[..., :2] - half, b[..., :2] + half], axis=-1)


def corners_to_center(boxes) -> np.ndarray:
    """Convert (x1, y1, x2, y2) boxes to (cx, cy, w, h).

    Shape:
        boxes: (..., 4) -> (..., 4)
    """
    b = _boxes(boxes)
    return np.concatenate([(b[..., :2] + b[..., 2:]) / 2, b[..., 2:] - b[..., :2]], -1)


def to_corners(boxes, box_format: str = "corners") -> np.ndarray:
    """Return ``boxes`` in corners format, converting from ``box_format``."""
    _check_format(box_format)
    return center_to_corners(boxes) if box_format == "center" else _boxes(boxes)


def box_area(boxes, box_format: str = "corners") -> np.ndarray:
    """Area of each box (0 for a degenerate box with x2 < x1 or y2 < y1).

    Shape:
        boxes: (..., 4) -> (...)
    """
    b = to_corners(boxes, box_format)
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(
        b[..., 3] - b[..., 1], 0, None
    )


def iou(boxes1, boxes2, box_format: str = "corners") -> np.ndarray:
    """Pairwise intersection over union, IoU = area(A ∩ B) / area(A ∪ B).

    Args:
        boxes1: (N, 4) boxes, or a single box (4,).
        boxes2: (M, 4) boxes, or a single box (4,).
        box_format: "corners" (x1, y1, x2, y2) or "center" (cx, cy, w, h).

    Returns:
        (N, M) IoUs in [0, 1] (a single box drops its axis; two single boxes give
        a scalar). Boxes whose union is empty have IoU 0.

    Shape:
        boxes1: (N, 4), boxes2: (M, 4) -> (N, M)

    Example:
        >>> iou([0, 0, 2, 2], [1, 1, 3, 3])  # 1 / (4 + 4 - 1)
        0.14285714285714285
    """
    a = to_corners(boxes1, box_format)
    b = to_corners(boxes2, box_format)
    if a.ndim > 2 or b.ndim > 2:
        raise ValueError(
            f"iou: expected boxes of shape (N, 4) or (4,). Received: shapes "
            f"{a.shape} and {b.shape}"
        )
    a2, b2 = np.atleast_2d(a)[:, None, :], np.atleast_2d(b)[None, :, :]
    top_left = np.maximum(a2[..., :2], b2[..., :2])
    bottom_right = np.minimum(a2[..., 2:], b2[..., 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a2) + box_area(b2) - inter
    out = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    if a.ndim == 1:
        out = out[0]
    if b.ndim == 1:
        out = out[..., 0]
    return out if out.ndim else out.item()


def non_max_suppression(
    boxes,
    scores,
    iou_threshold: float = 0.5,
    score_threshold: float | None = None,
    max_outputs: int | None = None,
    classes=None,
    box_format: str = "corners",
) -> np.ndarray:
    """Greedy non-max suppression: keep the best box, drop those overlapping it.

    Boxes are visited by decreasing score; a box is kept unless its IoU with an
    already kept box exceeds ``iou_threshold``. With ``classes``, suppression is
    per class (a box only suppresses boxes of its own class), done in one pass
    by shifting each class's boxes to a disjoint region (the "batched NMS" trick).

    Args:
        boxes: (N, 4) boxes.
        scores: (N,) confidence scores.
        iou_threshold: boxes with IoU > this with a kept box are suppressed.
        score_threshold: boxes scoring below it are dropped first (None: keep all).
        max_outputs: keep at most this many boxes (None: no limit).
        classes: optional (N,) integer class ids for per-class suppression.
        box_format: "corners" or "center".

    Returns:
        Indices (into ``boxes``) of the kept boxes, by decreasing score.

    Shape:
        boxes: (N, 4), scores: (N,) -> (K,) with K <= N

    Example:
        >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
        >>> non_max_suppression(boxes, [0.9, 0.8, 0.7], iou_threshold=0.5)
        array([0, 2])
    """
    b = to_corners(boxes, box_format)
    s = host(scores, np.float64).reshape(-1)
    _check_nms_args(b, s, iou_threshold, max_outputs)
    candidates = np.argsort(-s, kind="stable")
    if score_threshold is not None:
        candidates = candidates[s[candidates] >= score_threshold]
    if classes is not None:
        b = _offset_by_class(b, classes, s.size)
    overlaps = iou(b[candidates], b[candidates]) > iou_threshold
    suppressed = np.zeros(candidates.size, dtype=bool)
    keep = []
    limit = candidates.size if max_outputs is None else max_outputs
    # The loop runs once per *kept* box; each step suppresses with a vector op.
    for i in range(candidates.size):
        if len(keep) >= limit:
            break
        if suppressed[i]:
            continue
        keep.append(candidates[i])
        suppressed |= overlaps[i]
    return np.asarray(keep, dtype=np.intp)


def _check_nms_args(b, s, iou_threshold, max_outputs) -> None:
    if b.ndim != 2 or b.shape[0] != s.size:
        raise ValueError(
            f"non_max_suppression: expected boxes (N, 4) and N scores. Received: "
            f"boxes of shape {b.shape}, {s.size} scores"
        )
    if not 0 <= iou_threshold <= 1:
        raise ValueError(
            f"non_max_suppression: invalid value for argument 'iou_threshold'. "
            f"Expected a float in [0, 1]. Received: iou_threshold={iou_threshold!r}"
        )
    if max_outputs is not None and (
        isinstance(max_outputs, bool)
        or not isinstance(max_outputs, (int, np.integer))
        or max_outputs < 0
    ):
        raise ValueError(
            f"non_max_suppression: invalid value for argument 'max_outputs'. "
            f"Expected a non-negative int or None. "
            f"Received: max_outputs={max_outputs!r}"
        )


def _offset_by_class(b: np.ndarray, classes, n: int) -> np.ndarray:
    classes = host(classes).reshape(-1)
    if classes.size != n or classes.dtype.kind not in "iu":
        raise ValueError(
            f"non_max_suppression: 'classes' must hold {n} integer class ids. "
            f"Received: shape {classes.shape}, dtype {classes.dtype}"
        )
    # Shift class k by k * (span + 1) on both axes: boxes of different classes can
    # then never overlap, so one class-agnostic pass suppresses per class.
    span = float(b.max() - b.min()) + 1.0 if b.size else 1.0
    return b + (classes.astype(b.dtype) * span)[:, None]
