"""mAP: hand-computed VOC cases and COCO mAP against pycocotools (optional)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from numnet.vision import (
    coco_mean_average_precision,
    mean_average_precision,
    voc_average_precision,
)


def test_voc_all_point_area_by_hand():
    # recall 0.5 at precision 1, then recall 1.0 at precision 2/3:
    # area = 0.5 * 1 + 0.5 * 2/3
    ap = voc_average_precision(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3]))
    assert ap == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_voc_map_hand_case():
    # image 0: two cats (class 0); image 1: one dog (class 1)
    gts = [
        (np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([0, 0])),
        (np.array([[0, 0, 20, 20]]), np.array([1])),
    ]
    dets = [
        (
            np.array(
                [[0, 0, 10, 10], [40, 40, 50, 50], [20, 20, 30, 30], [0, 0, 10, 10]]
            ),
            np.array([0.9, 0.8, 0.7, 0.6]),
            np.array([0, 0, 0, 0]),
        ),
        (np.array([[0, 0, 20, 20]]), np.array([0.5]), np.array([0])),
    ]
    # class 0 by score: TP, FP, TP, FP (duplicate), FP (wrong image/class has no
    # cat) -> precision 1, 1/2, 2/3, 1/2, 2/5 at recall 1/2, 1/2, 1, 1, 1
    # AP = 1/2 * 1 + 1/2 * 2/3; class 1 has no detection: AP 0
    value, per_class = mean_average_precision(dets, gts, per_class=True)
    assert per_class[0] == pytest.approx(0.5 + 1 / 3)
    assert per_class[1] == 0.0
    assert value == pytest.approx((0.5 + 1 / 3) / 2)


def test_perfect_detections_score_one(rng):
    boxes = rng.uniform(0, 50, (5, 2))
    boxes = np.concatenate([boxes, boxes + rng.uniform(5, 20, (5, 2))], axis=1)
    classes = np.array([0, 1, 2, 1, 0])
    gts = [(boxes, classes)]
    dets = [(boxes, np.linspace(0.9, 0.5, 5), classes)]
    assert mean_average_precision(dets, gts) == 1.0
    assert coco_mean_average_precision(dets, gts) == pytest.approx(1.0)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same images"):
        mean_average_precision([], [(np.zeros((0, 4)), np.zeros(0))])


def _random_case(rng, images=12, classes=3):
    gts, dets = [], []
    for _ in range(images):
        g = rng.integers(0, 5)
        xy = rng.uniform(0, 80, (g, 2))
        gb = np.concatenate([xy, xy + rng.uniform(8, 30, (g, 2))], axis=1)
        gc = rng.integers(0, classes, g)
        # detections: jittered copies (some), duplicates and random boxes
        take = rng.random(g) < 0.8
        jitter = gb[take] + rng.normal(0, 3, (take.sum(), 4))
        extra = rng.integers(0, 4)
        xy2 = rng.uniform(0, 80, (extra, 2))
        rb = np.concatenate([xy2, xy2 + rng.uniform(8, 30, (extra, 2))], axis=1)
        db = np.concatenate([jitter, rb, jitter[:1] + 1.0])
        dc = np.concatenate([gc[take], rng.integers(0, classes, extra), gc[take][:1]])
        dc = np.where(rng.random(len(dc)) < 0.1, (dc + 1) % classes, dc)
        ds = rng.uniform(0.05, 1.0, len(db))
        db[:, 2:] = np.maximum(db[:, 2:], db[:, :2] + 1)
        gts.append((gb, gc))
        dets.append((db, ds, dc))
    return dets, gts


def _pycocotools_stats(dets, gts):
    coco = pytest.importorskip("pycocotools.coco")
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    images = [{"id": i, "width": 200, "height": 200} for i in range(len(gts))]
    annotations, results = [], []
    for i, (gb, gc) in enumerate(gts):
        for b, c in zip(gb, gc, strict=True):
            w, h = b[2] - b[0], b[3] - b[1]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": int(c) + 1,
                    "bbox": [b[0], b[1], w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
    for i, (db, ds, dc) in enumerate(dets):
        for b, s, c in zip(db, ds, dc, strict=True):
            results.append(
                {
                    "image_id": i,
                    "category_id": int(c) + 1,
                    "score": s,
                    "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                }
            )
    with contextlib.redirect_stdout(io.StringIO()):
        truth = coco.COCO()
        truth.dataset = {
            "images": images,
            "annotations": annotations,
            "categories": [{"id": k} for k in range(1, 4)],
        }
        truth.createIndex()
        evaluation = cocoeval.COCOeval(truth, truth.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coco_map_matches_pycocotools(seed):
    dets, gts = _random_case(np.random.default_rng(seed))
    stats = _pycocotools_stats(dets, gts)
    assert coco_mean_average_precision(dets, gts) == pytest.approx(stats[0], abs=1e-9)
    at_half = coco_mean_average_precision(dets, gts, iou_thresholds=[0.5])
    assert at_half == pytest.approx(stats[1], abs=1e-9)
    at_75 = coco_mean_average_precision(dets, gts, iou_thresholds=[0.75])
    assert at_75 == pytest.approx(stats[2], abs=1e-9)
    # VOC's all-point AP is the exact area; COCO's 101-point sampling is close
    assert mean_average_precision(dets, gts) == pytest.approx(stats[1], abs=0.03)
