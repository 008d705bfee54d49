"""Boxes, IoU, non-max suppression and YOLO target encoding/decoding."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.vision import (
    box_area,
    center_to_corners,
    corners_to_center,
    decode_yolo_output,
    encode_yolo_targets,
    iou,
    non_max_suppression,
    shape_iou,
    yolo_head,
)


def _naive_iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(x2 - x1, 0) * max(y2 - y1, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def test_iou_hand_made_boxes():
    assert iou([0, 0, 2, 2], [1, 1, 3, 3]) == pytest.approx(1 / 7)
    assert iou([0, 0, 2, 2], [0, 0, 2, 2]) == 1.0
    assert iou([0, 0, 1, 1], [1, 0, 2, 1]) == 0.0  # touching edges
    assert iou([0, 0, 1, 1], [5, 5, 6, 6]) == 0.0  # disjoint
    assert iou([0, 0, 4, 4], [1, 1, 2, 2]) == pytest.approx(1 / 16)  # nested
    assert iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0  # empty union, no NaN


def test_iou_pairwise_matches_naive_and_center_format(rng):
    xy = rng.uniform(0, 10, size=(7, 2))
    a = np.concatenate([xy, xy + rng.uniform(0.5, 5, size=(7, 2))], axis=1)
    b = a[::-1] + rng.uniform(-1, 1, size=(7, 4)).clip(-0.2, 0.2)
    got = iou(a, b[:5])
    assert got.shape == (7, 5)
    expected = [[_naive_iou(p, q) for q in b[:5]] for p in a]
    np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(
        iou(corners_to_center(a), corners_to_center(b[:5]), box_format="center"), got
    )
    assert iou(a[0], b[:5]).shape == (5,)


def test_box_conversions_round_trip(rng):
    boxes = rng.uniform(0, 5, size=(4, 4))
    boxes[:, 2:] += boxes[:, :2]
    np.testing.assert_allclose(center_to_corners(corners_to_center(boxes)), boxes)
    np.testing.assert_allclose(corners_to_center([0, 0, 4, 2]), [2, 1, 4, 2])
    np.testing.assert_allclose(box_area(boxes), np.prod(boxes[:, 2:] - boxes[:, :2], 1))


def test_nms_hand_made():
    boxes = np.array(
        [
            [0, 0, 10, 10],  # 0: best of cluster A
            [1, 1, 11, 11],  # 1: IoU 0.68 with 0 -> suppressed
            [20, 20, 30, 30],  # 2: cluster B
            [0, 0, 10, 5],  # 3: IoU 0.5 with 0 -> kept (only > threshold drops)
            [21, 21, 30, 30],  # 4: IoU 0.81 with 2 -> suppressed
        ],
        dtype=float,
    )
    scores = np.array([0.9, 0.95, 0.8, 0.3, 0.85])
    # 1 outranks 0 and suppresses it; 4 outranks 2 and suppresses it
    np.testing.assert_array_equal(non_max_suppression(boxes, scores, 0.5), [1, 4, 3])
    np.testing.assert_array_equal(
        non_max_suppression(boxes, scores, 0.5, max_outputs=2), [1, 4]
    )
    np.testing.assert_array_equal(
        non_max_suppression(boxes, scores, 0.5, score_threshold=0.82), [1, 4]
    )
    assert non_max_suppression(boxes, scores, 1.0).tolist() == [1, 0, 4, 2, 3]


def test_nms_per_class():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    assert non_max_suppression(boxes, scores, 0.5).tolist() == [0]
    # box 1 is another class than box 0 -> survives; box 2 shares class 0
    classes = np.array([0, 1, 0])
    kept = non_max_suppression(boxes, scores, 0.5, classes=classes)
    assert kept.tolist() == [0, 1]


def test_nms_matches_naive_greedy(rng):
    xy = rng.uniform(0, 20, size=(40, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(2, 8, size=(40, 2))], axis=1)
    scores = rng.uniform(size=40)
    order = list(np.argsort(-scores))
    expected = []
    while order:  # the textbook loop: take the best, drop what overlaps it
        best = order.pop(0)
        expected.append(best)
        order = [i for i in order if _naive_iou(boxes[best], boxes[i]) <= 0.3]
    assert non_max_suppression(boxes, scores, 0.3).tolist() == expected


def test_nms_bad_arguments():
    with pytest.raises(ValueError, match="iou_threshold"):
        non_max_suppression([[0, 0, 1, 1]], [1.0], iou_threshold=2)
    with pytest.raises(ValueError, match="N scores"):
        non_max_suppression([[0, 0, 1, 1]], [1.0, 2.0])
    with pytest.raises(ValueError, match="classes"):
        non_max_suppression([[0, 0, 1, 1]], [1.0], classes=[0.5])
    with pytest.raises(ValueError, match="box_format"):
        iou([0, 0, 1, 1], [0, 0, 1, 1], box_format="xyxy")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4\)"):
        iou([0, 0, 1], [0, 0, 1, 1])


ANCHORS = np.array([[0.1, 0.1], [0.4, 0.2], [0.2, 0.5]])  # (w, h)


def test_shape_iou_chooses_the_matching_anchor():
    wh = np.array([[0.1, 0.12], [0.45, 0.2], [0.15, 0.5]])
    assert shape_iou(wh, ANCHORS).argmax(axis=1).tolist() == [0, 1, 2]
    assert shape_iou([[0.2, 0.2]], [[0.2, 0.2]])[0, 0] == pytest.approx(1.0)


def test_encode_places_each_box_in_its_cell_and_anchor():
    boxes = [np.array([[0.10, 0.60, 0.20, 0.72], [0.30, 0.10, 0.70, 0.30]])]
    target = encode_yolo_targets(boxes, [np.array([2, 0])], 4, ANCHORS, 3)
    assert target.shape == (1, 4, 4, 3, 8) and target.dtype == np.float32
    assert np.count_nonzero(target[..., 0]) == 2
    # box 0: centre (0.15, 0.66) -> column 0, row 2; shape (0.1, 0.12) -> anchor 0
    np.testing.assert_allclose(
        target[0, 2, 0, 0], [1, 0.6, 0.64, 0.48, 0.4, 0, 0, 1], atol=1e-6
    )
    # box 1: centre (0.5, 0.2) -> column 2, row 0; shape (0.4, 0.2) -> anchor 1
    np.testing.assert_allclose(
        target[0, 0, 2, 1], [1, 0.0, 0.8, 0.8, 1.6, 1, 0, 0], atol=1e-6
    )


def test_encode_decode_round_trip(rng):
    # Random non-overlapping boxes: one per cell of a coarse 3x3 layout.
    images, classes = [], []
    for _ in range(4):
        cells = rng.choice(9, size=rng.integers(0, 4), replace=False)
        corner = np.stack([cells % 3, cells // 3], axis=1) / 3 + 0.02
        size = rng.uniform(0.08, 0.3, size=(cells.size, 2))
        images.append(np.concatenate([corner, corner + size], axis=1))
        classes.append(rng.integers(0, 5, size=cells.size))
    target = encode_yolo_targets(images, classes, (6, 5), ANCHORS, 5)
    decoded = decode_yolo_output(target, ANCHORS, score_threshold=0.5)
    assert len(decoded) == 4
    for (boxes, scores, labels), truth, truth_labels in zip(
        decoded, images, classes, strict=True
    ):
        # sort both by rounded coordinates (the targets are float32)
        order = np.lexsort(np.round(truth, 4).T[::-1])
        got = np.lexsort(np.round(boxes, 4).T[::-1])
        np.testing.assert_allclose(boxes[got], truth[order], atol=1e-6)
        np.testing.assert_array_equal(labels[got], truth_labels[order])
        assert np.all(scores == 1)


def test_decode_filters_scores_and_suppresses_duplicates():
    target = encode_yolo_targets(
        [np.array([[0.1, 0.1, 0.5, 0.5]])], [[1]], 4, ANCHORS, 2
    )
    noisy = target.copy()
    # a second, weaker detection of the same object from a neighbouring anchor
    noisy[0, 1, 1, 0] = [0.7, 0.1, 0.1, 1.6, 1.6, 0.0, 1.0]
    noisy[0, 3, 3, 2] = [0.3, 0.5, 0.5, 0.2, 0.2, 1.0, 0.0]  # below threshold
    ((boxes, scores, labels),) = decode_yolo_output(noisy, ANCHORS, 0.5, 0.5)
    assert scores.tolist() == [1.0] and labels.tolist() == [1]
    ((boxes, scores, _),) = decode_yolo_output(noisy, ANCHORS, 0.2, 0.5)
    # the duplicate is suppressed, the 0.3 box elsewhere is kept
    np.testing.assert_allclose(scores, [1.0, 0.3])
    flat = noisy.reshape(1, 4, 4, -1)  # the layout a conv head emits
    assert len(decode_yolo_output(flat, ANCHORS, 0.2)[0][0]) == 2


def test_yolo_head_activations(rng):
    logits = rng.normal(size=(2, 3, 3, 3, 7))
    y = yolo_head(logits, ANCHORS)
    assert np.all((y[..., :3] > 0) & (y[..., :3] < 1))
    np.testing.assert_allclose(y[..., 5:].sum(-1), 1.0)
    np.testing.assert_allclose(y[..., 4], np.exp(logits[..., 4]) * ANCHORS[:, 0] * 3)
    assert len(decode_yolo_output(logits, ANCHORS, 0.0, from_logits=True)) == 2


def test_encode_bad_inputs():
    with pytest.raises(ValueError, match="class ids"):
        encode_yolo_targets([[[0.1, 0.1, 0.2, 0.2]]], [[3]], 4, ANCHORS, 3)
    with pytest.raises(ValueError, match="relative coordinates"):
        encode_yolo_targets([[[0.1, 0.1, 2.0, 0.2]]], [[0]], 4, ANCHORS, 3)
    with pytest.raises(ValueError, match="grid_size"):
        encode_yolo_targets([[[0.1, 0.1, 0.2, 0.2]]], [[0]], 0, ANCHORS, 3)
    with pytest.raises(ValueError, match="anchors"):
        encode_yolo_targets([[[0.1, 0.1, 0.2, 0.2]]], [[0]], 4, [1, 2], 3)
    with pytest.raises(ValueError, match="B=3 anchors"):
        decode_yolo_output(np.zeros((1, 4, 4, 10)), ANCHORS)
