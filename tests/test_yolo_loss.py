"""YOLO loss against a hand-computed case, gradcheck, anchors by k-means, the
small YOLO model."""

from __future__ import annotations

import math

import numpy as np
import pytest

import numnet
from numnet import backend
from numnet.applications import yolo_small
from numnet.vision import (
    YoloLoss,
    decode_yolo_output,
    encode_yolo_targets,
    kmeans_anchors,
    mean_anchor_iou,
)


def test_hand_computed_single_cell():
    # 1x1 grid, one anchor of half the image, K = 2; the box is centred at
    # (0.25, 0.75), 0.5 wide and 0.25 high, class 1.
    target = encode_yolo_targets(
        [[[0.0, 0.625, 0.5, 0.875]]], [[1]], 1, [[0.5, 0.5]], 2
    )
    np.testing.assert_allclose(target[0, 0, 0, 0], [1, 0.25, 0.75, 0.25, 0.5, 0, 1])
    loss = YoloLoss([[0.5, 0.5]], num_classes=2)
    # All-zero outputs: sigmoid = 0.5, exp = 1, uniform softmax.
    # coords: (0.5 - 0.25)^2 + (0.5 - 0.75)^2 = 0.125;
    #         h: (0 - log(0.25 / 0.5))^2 = log(2)^2; w: (0 - log(0.5 / 0.5))^2 = 0
    # object: -log(0.5); class: -log(0.5)
    expected = 5 * (0.125 + math.log(2) ** 2) + 2 * math.log(2)
    assert loss(target, np.zeros((1, 1, 1, 7))).item() == pytest.approx(expected)


def test_hand_computed_no_object_anchor():
    # Two anchors; the object goes to the first (its shape fits better). The
    # second anchor adds only the no-object term 0.5 * -log(1 - sigmoid(t_c)).
    anchors = [[0.5, 0.5], [0.1, 0.1]]
    target = encode_yolo_targets([[[0.0, 0.625, 0.5, 0.875]]], [[1]], 1, anchors, 2)
    out = np.zeros((1, 1, 1, 14))
    out[..., 7] = 2.0  # t_c of the second anchor
    loss = YoloLoss(anchors, num_classes=2)
    single = 5 * (0.125 + math.log(2) ** 2) + 2 * math.log(2)
    expected = single + 0.5 * math.log(1 + math.exp(2.0))
    assert loss(target, out).item() == pytest.approx(expected)


def test_perfect_prediction_has_only_the_confidence_floor(rng):
    anchors = np.array([[0.2, 0.3], [0.5, 0.4]])
    boxes = [np.array([[0.1, 0.1, 0.35, 0.45], [0.5, 0.5, 0.95, 0.85]])]
    target = encode_yolo_targets(boxes, [[0, 2]], 3, anchors, 3)
    obj = target[..., 0] > 0
    t = np.full(target.shape, -30.0)
    cell_hw = np.stack([anchors[:, 1] * 3, anchors[:, 0] * 3], axis=-1)
    t[..., 0] = np.where(obj, 30.0, -30.0)
    p = np.clip(target[..., 1:3], 1e-6, 1 - 1e-6)
    t[..., 1:3] = np.log(p / (1 - p))
    t[obj, 3:5] = np.log(
        target[obj][:, 3:5] / np.broadcast_to(cell_hw, obj.shape + (2,))[obj]
    )
    t[..., 5:] = np.where(target[..., 5:] > 0, 30.0, -30.0)
    assert YoloLoss(anchors, 3)(target, t).item() < 1e-6
    decoded = decode_yolo_output(t, anchors, from_logits=True)[0]
    np.testing.assert_allclose(decoded[0][np.argsort(decoded[2])], boxes[0], atol=1e-5)


def test_gradcheck(rng):
    anchors = [[0.3, 0.3], [0.6, 0.5]]
    target = encode_yolo_targets(
        [[[0.1, 0.1, 0.4, 0.5]], [[0.5, 0.2, 0.9, 0.9], [0.0, 0.6, 0.2, 0.9]]],
        [[0], [1, 2]],
        2,
        anchors,
        3,
    )
    out = rng.normal(size=(2, 2, 2, 16))
    loss = YoloLoss(anchors, 3)
    with backend.floatx_scope("float64"):
        assert numnet.gradcheck(lambda q: loss(target, q), [out])


def test_shape_errors():
    loss = YoloLoss([[0.3, 0.3]], 2)
    with pytest.raises(ValueError, match="y_pred"):
        loss(np.zeros((1, 2, 2, 1, 7)), np.zeros((1, 2, 2, 8)))
    with pytest.raises(ValueError, match="num_classes"):
        YoloLoss([[0.3, 0.3]], 0)


def test_kmeans_anchors_find_the_clusters(rng):
    centres = np.array([[0.1, 0.1], [0.3, 0.15], [0.4, 0.6]])
    wh = np.concatenate([c * rng.uniform(0.9, 1.1, (50, 2)) for c in centres])
    anchors = kmeans_anchors(wh, 3, seed=1)
    np.testing.assert_allclose(anchors, centres, rtol=0.05)
    assert mean_anchor_iou(wh, anchors) > 0.85
    assert mean_anchor_iou(wh, anchors) > mean_anchor_iou(wh, anchors[:1])
    with pytest.raises(ValueError, match="'k'"):
        kmeans_anchors(wh[:2], 3)


def test_yolo_small_trains_on_a_batch(rng):
    anchors = [[0.3, 0.3], [0.6, 0.6]]
    model = yolo_small(
        (32, 32, 1), num_anchors=2, num_classes=2, stage_filters=(4, 8), head_filters=8
    )
    assert model.output_shape == (None, 8, 8, 14)
    x = rng.uniform(size=(4, 32, 32, 1)).astype("float32")
    boxes = [np.array([[0.1, 0.1, 0.5, 0.5]])] * 4
    y = encode_yolo_targets(boxes, [[1]] * 4, 8, anchors, 2)
    model.compile(numnet.optimizers.Adam(0.01), YoloLoss(anchors, 2))
    history = model.fit(x, y, epochs=15, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_multi_label_decoding_keeps_the_second_class():
    y = np.zeros((1, 1, 1, 1, 8))
    y[..., :5] = [0.9, 0.5, 0.5, 0.5, 0.5]
    y[..., 5:] = [0.55, 0.4, 0.05]
    single = decode_yolo_output(y, [[0.5, 0.5]], score_threshold=0.1)[0]
    multi = decode_yolo_output(y, [[0.5, 0.5]], score_threshold=0.1, multi_label=True)[
        0
    ]
    np.testing.assert_array_equal(single[2], [0])
    np.testing.assert_array_equal(multi[2], [0, 1])
    np.testing.assert_allclose(multi[1], [0.9 * 0.55, 0.9 * 0.4])
    np.testing.assert_allclose(multi[0], [[0.25, 0.25, 0.75, 0.75]] * 2)
