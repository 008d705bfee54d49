"""YOLO-style grid and anchor-box targets: encode ground truth, decode predictions.

The image is cut into an S_rows x S_cols grid; each cell has B anchor boxes, and
each anchor predicts a vector (the layout of the deep learning course)

    (pc, bx, by, bh, bw, c_1, ..., c_K)

* pc: probability that an object's centre falls in this cell for this anchor;
* bx, by: the centre's offset inside the cell, in [0, 1);
* bh, bw: the box height and width in units of one cell (may exceed 1);
* c_k: class probabilities (one-hot in targets).

So a target or prediction tensor has shape (N, S_rows, S_cols, B, 5 + K). Boxes
handed in and out are in image-relative coordinates ([0, 1] on both axes, x to
the right and y downwards), in "corners" (x1, y1, x2, y2) or "center" format.

A ground-truth box goes to the cell holding its centre and to the anchor whose
*shape* overlaps it most (IoU of the two (w, h) rectangles placed on a common
centre). Decoding turns every anchor back into a box with score pc * max_k c_k,
drops scores below a threshold and runs per-class non-max suppression.
"""

from __future__ import annotations

import numpy as np

from numnet.vision.boxes import (
    _check_format,
    center_to_corners,
    host,
    non_max_suppression,
    to_corners,
)


def _grid(grid_size) -> tuple[int, int]:
    pair = (
        (grid_size, grid_size)
        if isinstance(grid_size, (int, np.integer))
        else grid_size
    )
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2
    if not ok or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1
        for v in pair
    ):
        raise ValueError(
            f"invalid value for argument 'grid_size'. Expected a positive int or a "
            f"pair (rows, cols). Received: grid_size={grid_size!r}"
        )
    return int(pair[0]), int(pair[1])


def _anchors(anchors) -> np.ndarray:
    a = np.asarray(anchors, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1 or np.any(a <= 0):
        raise ValueError(
            f"invalid value for argument 'anchors'. Expected a (B, 2) array of "
            f"positive (width, height) as fractions of the image. Received: {anchors!r}"
        )
    return a


def shape_iou(wh1, wh2) -> np.ndarray:
    """IoU of (width, height) rectangles sharing one centre, pairwise.

    Shape:
        wh1: (G, 2), wh2: (B, 2) -> (G, B)
    """
    wh1, wh2 = np.asarray(wh1)[:, None, :], np.asarray(wh2)[None, :, :]
    inter = np.prod(np.minimum(wh1, wh2), axis=-1)
    union = np.prod(wh1, axis=-1) + np.prod(wh2, axis=-1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def encode_yolo_targets(
    boxes, classes, grid_size, anchors, num_classes: int, box_format: str = "corners"
) -> np.ndarray:
    """Build YOLO training targets from ground-truth boxes of a batch of images.

    Args:
        boxes: a list (one entry per image) of (G_i, 4) arrays of boxes in
            image-relative coordinates; an image without objects has a (0, 4) array.
        classes: a list of (G_i,) integer class ids in [0, num_classes).
        grid_size: S, or (S_rows, S_cols).
        anchors: (B, 2) anchor (width, height) as fractions of the image.
        num_classes: K.
        box_format: "corners" or "center".

    Returns:
        float32 targets (N, S_rows, S_cols, B, 5 + K); 0 everywhere except the
        responsible anchors. Two objects claiming one (cell, anchor): the later
        in the list wins.
    """
    rows, cols = _grid(grid_size)
    anchors = _anchors(anchors)
    _check_format(box_format)
    if len(boxes) != len(classes):
        raise ValueError(
            f"encode_yolo_targets: 'boxes' and 'classes' must list the same images. "
            f"Received: {len(boxes)} and {len(classes)} entries"
        )
    # Flatten the batch: one row per object, with its image index.
    image = np.concatenate([np.full(len(c), i) for i, c in enumerate(classes)] + [[]])
    image = image.astype(np.intp)
    flat = [np.asarray(b, dtype=np.float64).reshape(-1, 4) for b in boxes]
    corners = to_corners(np.concatenate(flat + [np.zeros((0, 4))]), box_format)
    labels = np.concatenate([np.asarray(c).reshape(-1) for c in classes] + [[]])
    _check_targets(corners, labels, num_classes)
    labels = labels.astype(np.intp)
    cx, cy = (corners[:, 0] + corners[:, 2]) / 2, (corners[:, 1] + corners[:, 3]) / 2
    w, h = corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1]
    col = np.clip(np.floor(cx * cols), 0, cols - 1).astype(np.intp)
    row = np.clip(np.floor(cy * rows), 0, rows - 1).astype(np.intp)
    best = shape_iou(np.stack([w, h], axis=1), anchors).argmax(axis=1)
    target = np.zeros(
        (len(boxes), rows, cols, anchors.shape[0], 5 + num_classes), dtype=np.float32
    )
    vector = np.zeros((labels.size, 5 + num_classes))
    vector[:, 0] = 1.0
    vector[:, 1] = cx * cols - col
    vector[:, 2] = cy * rows - row
    vector[:, 3] = h * rows
    vector[:, 4] = w * cols
    vector[np.arange(labels.size), 5 + labels] = 1.0
    target[image, row, col, best] = vector  # duplicates: the last write wins
    return target


def _check_targets(corners: np.ndarray, labels: np.ndarray, num_classes) -> None:
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or num_classes < 1
    ):
        raise ValueError(
            f"encode_yolo_targets: invalid value for argument 'num_classes'. Expected "
            f"a positive int. Received: num_classes={num_classes!r}"
        )
    if labels.size != corners.shape[0]:
        raise ValueError(
            f"encode_yolo_targets: each image needs one class per box. Received: "
            f"{corners.shape[0]} boxes and {labels.size} classes in total"
        )
    if labels.size and (
        np.any(labels != np.round(labels))
        or labels.min() < 0
        or labels.max() >= num_classes
    ):
        raise ValueError(
            f"encode_yolo_targets: class ids must be integers in [0, {num_classes}). "
            f"Received: {np.unique(labels)}"
        )
    if np.any(corners[:, 2:] <= corners[:, :2]) or np.any(
        (corners < 0) | (corners > 1)
    ):
        raise ValueError(
            "encode_yolo_targets: boxes must have positive width and height and lie "
            "inside the image, in relative coordinates [0, 1]"
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    z = np.exp(-np.abs(x))  # e^-|x| <= 1: no overflow
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def yolo_head(output, anchors, grid_size=None) -> np.ndarray:
    """Turn raw network outputs (logits) into the (pc, bx, by, bh, bw, c) layout.

    pc = sigmoid(t_c), (bx, by) = sigmoid(t_x, t_y), (bh, bw) = anchor (h, w) in
    cells * exp(t_h, t_w), classes = softmax(t_classes), as in YOLOv2.

    Shape:
        output: (N, S_rows, S_cols, B, 5 + K) -> same
    """
    out = host(output, np.float64)
    rows, cols = out.shape[1:3] if grid_size is None else _grid(grid_size)
    anchors = _anchors(anchors)
    y = np.empty_like(out)
    y[..., 0:3] = _sigmoid(out[..., 0:3])
    t_hw = np.minimum(out[..., 3:5], 50.0)  # exp overflows float64 near 709
    y[..., 3] = np.exp(t_hw[..., 0]) * anchors[:, 1] * rows
    y[..., 4] = np.exp(t_hw[..., 1]) * anchors[:, 0] * cols
    logits = out[..., 5:] - out[..., 5:].max(axis=-1, keepdims=True)
    e = np.exp(logits)
    y[..., 5:] = e / e.sum(axis=-1, keepdims=True)
    return y


def decode_yolo_output(
    output,
    anchors,
    score_threshold: float = 0.5,
    iou_threshold: float = 0.5,
    max_boxes: int | None = None,
    from_logits: bool = False,
    box_format: str = "corners",
    multi_label: bool = False,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Turn YOLO outputs into boxes: score filtering, then per-class NMS per image.

    Args:
        output: (N, S_rows, S_cols, B, 5 + K) in the (pc, bx, by, bh, bw, c)
            layout, or (N, S_rows, S_cols, B * (5 + K)) as a conv head emits it.
        anchors: (B, 2) anchor (width, height) as fractions of the image.
        score_threshold: keep anchors whose score pc * max_k c_k is >= this.
        iou_threshold: NMS threshold (boxes of the same class in one image).
        max_boxes: keep at most this many boxes per image (None: all).
        from_logits: ``output`` holds raw logits; apply :func:`yolo_head` first.
        box_format: format of the returned boxes, "corners" or "center".
        multi_label: one candidate per anchor and class, scored pc * c_k, instead
            of the best class only; a box whose class is uncertain then also
            competes in its second class (the usual setting for computing mAP).

    Returns:
        One tuple per image: (boxes (K_i, 4) in image-relative coordinates,
        scores (K_i,), classes (K_i,)), by decreasing score.
    """
    _check_format(box_format)
    anchors = _anchors(anchors)
    y = _as_grid_output(output, anchors.shape[0])
    if from_logits:
        y = yolo_head(y, anchors)
    n, rows, cols, _, channels = y.shape
    r = np.arange(rows).reshape(1, rows, 1, 1)
    c = np.arange(cols).reshape(1, 1, cols, 1)
    center = np.stack(
        [
            (c + y[..., 1]) / cols,
            (r + y[..., 2]) / rows,
            y[..., 4] / cols,
            y[..., 3] / rows,
        ],
        axis=-1,
    )
    probs = y[..., 5:]
    if multi_label:  # one candidate per (anchor, class): a class axis before 4
        k = probs.shape[-1]
        center = np.repeat(center[..., None, :], k, axis=-2).reshape(n, -1, 4)
        labels = np.broadcast_to(np.arange(k), probs.shape).reshape(n, -1)
        score = (y[..., :1] * probs).reshape(n, -1)
    else:
        labels = probs.argmax(axis=-1).reshape(n, -1)
        score = (y[..., 0] * probs.max(axis=-1)).reshape(n, -1)
        center = center.reshape(n, -1, 4)
    mask = score >= score_threshold
    results = []
    # Non-max suppression per image: the IoU matrix of one image's candidates is
    # small, while one batched pass would build a (all candidates)^2 matrix.
    for i in range(n):
        found = center[i][mask[i]]
        scores, classes = score[i][mask[i]], labels[i][mask[i]]
        boxes = center_to_corners(found)
        keep = non_max_suppression(boxes, scores, iou_threshold, classes=classes)
        keep = keep[:max_boxes]
        boxes = found if box_format == "center" else boxes
        results.append((boxes[keep], scores[keep], classes[keep]))
    return results


def _as_grid_output(output, num_anchors: int) -> np.ndarray:
    y = host(output, np.float64)
    if y.ndim == 4 and y.shape[-1] % num_anchors == 0:
        y = y.reshape(y.shape[:3] + (num_anchors, -1))
    if y.ndim != 5 or y.shape[3] != num_anchors or y.shape[4] < 6:
        raise ValueError(
            f"decode_yolo_output: expected outputs (N, S_rows, S_cols, B, 5 + K) or "
            f"(N, S_rows, S_cols, B * (5 + K)) with B={num_anchors} anchors and "
            f"K >= 1 classes. Received: shape {np.shape(output)}"
        )
    return y
