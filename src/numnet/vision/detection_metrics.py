"""Detection metrics: average precision per class and its mean (mAP).

Detections and ground truth are given per image, in the layout
:func:`numnet.vision.decode_yolo_output` returns:

* ``detections[i] = (boxes (D, 4), scores (D,), classes (D,))``;
* ``ground_truths[i] = (boxes (G, 4), classes (G,))``;

boxes in "corners" format (any unit, the same for both).

Two protocols:

* :func:`mean_average_precision` (PASCAL VOC 2010+): per class, detections of
  all images by decreasing score; each is a true positive when its best-overlap
  ground-truth box (same image and class) has IoU > ``iou_threshold`` and was
  not matched before. AP is the area under the precision envelope at every
  recall step ("all-point" interpolation).
* :func:`coco_mean_average_precision` (MS-COCO, as ``pycocotools``): per image
  and class, the best 100 detections are matched greedily to the best
  *unmatched* ground truth with IoU >= t; precision is read at 101 recall
  points; the result is averaged over classes and over t in 0.50:0.05:0.95.
"""

from __future__ import annotations

import numpy as np

from numnet.vision.boxes import iou

COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _unpack(detections, ground_truths):
    if len(detections) != len(ground_truths):
        raise ValueError(
            f"average precision: 'detections' and 'ground_truths' must list the same "
            f"images. Received {len(detections)} and {len(ground_truths)} entries"
        )
    dets = [
        (np.asarray(b, float).reshape(-1, 4), np.asarray(s, float).reshape(-1),
         np.asarray(c).reshape(-1).astype(np.int64))
        for b, s, c in detections
    ]  # fmt: skip
    gts = [
        (
            np.asarray(b, float).reshape(-1, 4),
            np.asarray(c).reshape(-1).astype(np.int64),
        )
        for b, c in ground_truths
    ]
    return dets, gts


def _classes(dets, gts) -> np.ndarray:
    return np.unique(np.concatenate([c for _, c in gts] + [np.zeros(0, np.int64)]))


def voc_average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope (VOC 2010+ all-point interpolation)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # envelope: max to the right
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def _voc_class_ap(dets, gts, label: int, threshold: float) -> float:
    image = np.concatenate([np.full((c == label).sum(), i) for i, (_, _, c) in
                            enumerate(dets)] + [np.zeros(0, int)])  # fmt: skip
    boxes = np.concatenate([b[c == label] for b, _, c in dets] + [np.zeros((0, 4))])
    scores = np.concatenate([s[c == label] for _, s, c in dets] + [np.zeros(0)])
    truth = [b[c == label] for b, c in gts]
    positives = sum(len(t) for t in truth)
    matched = [np.zeros(len(t), bool) for t in truth]
    order = np.argsort(-scores, kind="stable")
    tp = np.zeros(order.size)
    for rank, d in enumerate(order):
        candidates = truth[image[d]]
        if not len(candidates):
            continue
        overlaps = iou(boxes[d], candidates).reshape(-1)
        best = int(overlaps.argmax())
        if overlaps[best] > threshold and not matched[image[d]][best]:
            matched[image[d]][best] = True
            tp[rank] = 1
    tps, fps = np.cumsum(tp), np.cumsum(1 - tp)
    precision = tps / np.maximum(tps + fps, np.finfo(float).eps)
    return voc_average_precision(tps / positives, precision)


def mean_average_precision(
    detections, ground_truths, iou_threshold: float = 0.5, per_class: bool = False
):
    """PASCAL VOC mAP: the mean over classes of the all-point average precision.

    Args:
        detections: per image ``(boxes (D, 4), scores (D,), classes (D,))``.
        ground_truths: per image ``(boxes (G, 4), classes (G,))``.
        iou_threshold: a detection matches with IoU > this (0.5: mAP@0.5).
        per_class: also return ``{class: AP}``.

    Returns:
        mAP over the classes present in the ground truth (0.0 when none), or
        ``(mAP, {class: AP})``.

    Example:
        >>> import numpy as np
        >>> gt = [(np.array([[0, 0, 10, 10]]), np.array([0]))]
        >>> det = [(np.array([[0, 0, 10, 9], [50, 50, 60, 60]]), np.array([0.9, 0.8]),
        ...         np.array([0, 0]))]
        >>> mean_average_precision(det, gt)
        1.0
    """
    dets, gts = _unpack(detections, ground_truths)
    aps = {
        int(c): _voc_class_ap(dets, gts, c, iou_threshold) for c in _classes(dets, gts)
    }
    value = float(np.mean(list(aps.values()))) if aps else 0.0
    return (value, aps) if per_class else value


def _coco_match(overlaps: np.ndarray, threshold: float) -> np.ndarray:
    """pycocotools' greedy matching: True for each detection (by score) matched."""
    matched_gt = np.zeros(overlaps.shape[1], bool)
    hits = np.zeros(overlaps.shape[0], bool)
    for d in range(overlaps.shape[0]):
        best, best_iou = -1, min(threshold, 1 - 1e-10)
        for g in range(overlaps.shape[1]):
            if matched_gt[g] or overlaps[d, g] < best_iou:
                continue
            best, best_iou = g, overlaps[d, g]
        if best >= 0:
            matched_gt[best] = hits[d] = True
    return hits


def _coco_class_ap(dets, gts, label, thresholds, max_detections) -> np.ndarray:
    scores, hits, positives = [], [], 0
    for (b, s, c), (gb, gc) in zip(dets, gts, strict=True):
        keep = np.flatnonzero(c == label)
        keep = keep[np.argsort(-s[keep], kind="mergesort")][:max_detections]
        truth = gb[gc == label]
        positives += len(truth)
        overlaps = iou(b[keep], truth).reshape(len(keep), len(truth))
        scores.append(s[keep])
        hits.append(np.stack([_coco_match(overlaps, t) for t in thresholds], axis=1))
    scores = np.concatenate(scores)
    order = np.argsort(-scores, kind="mergesort")
    hits = np.concatenate(hits)[order].astype(float)
    aps = np.zeros(len(thresholds))
    for k in range(len(thresholds)):
        tps, fps = np.cumsum(hits[:, k]), np.cumsum(1 - hits[:, k])
        recall = tps / positives
        precision = tps / (tps + fps + np.spacing(1))
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        if not len(precision):
            continue  # no detection of this class: AP 0
        at = np.searchsorted(recall, _RECALL_POINTS, side="left")
        read = precision[np.minimum(at, len(precision) - 1)]
        aps[k] = np.where(at < len(precision), read, 0.0).mean()
    return aps


def coco_mean_average_precision(
    detections, ground_truths, iou_thresholds=COCO_IOU_THRESHOLDS,
    max_detections: int = 100,
) -> float:  # fmt: skip
    """COCO mAP: AP at 101 recall points, averaged over classes and IoU thresholds.

    Matches ``pycocotools``' ``COCOeval`` (bbox, area "all", ``maxDets``
    ``max_detections``): ``iou_thresholds=[0.5]`` gives its AP@0.5 (stats[1]),
    the default 0.50:0.05:0.95 its AP (stats[0]).

    Args:
        detections: per image ``(boxes (D, 4), scores (D,), classes (D,))``.
        ground_truths: per image ``(boxes (G, 4), classes (G,))``.
        iou_thresholds: the IoU thresholds (a detection matches with IoU >= t).
        max_detections: the best detections kept per image and class.

    Returns:
        The mean AP over classes present in the ground truth and thresholds.
    """
    dets, gts = _unpack(detections, ground_truths)
    thresholds = np.atleast_1d(np.asarray(iou_thresholds, float))
    aps = [_coco_class_ap(dets, gts, c, thresholds, max_detections)
           for c in _classes(dets, gts)]  # fmt: skip
    return float(np.mean(aps)) if aps else 0.0
