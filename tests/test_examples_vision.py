"""Smoke runs of the vision examples (sliding windows, localization loss, YOLO,
face recognition, visualization) on tiny subsets, seconds each."""

from __future__ import annotations

import numpy as np
from tests.example_helpers import load_example, needs_fashion_mnist


@needs_fashion_mnist
def test_sliding_windows_example_smoke(capsys):
    argv = ["--limit", "256", "--epochs", "1", "--canvases", "2", "--verbose", "0"]
    results = load_example("sliding_windows").main(argv)
    assert results["difference"] < 1e-4  # the two scans agree
    assert "explicit loop" in capsys.readouterr().out


@needs_fashion_mnist
def test_landmarks_example_smoke(capsys):
    argv = ["--limit", "128", "--test-limit", "64", "--epochs", "1", "--verbose", "0"]
    results = load_example("landmarks").main(argv)
    assert 0.0 <= results["presence_accuracy"] <= 1.0
    assert np.isfinite(results["pixel_error"])
    assert "mean landmark error" in capsys.readouterr().out


def test_landmark_points_of_a_silhouette():
    module = load_example("landmarks")
    mask = np.zeros((1, 5, 5), bool)
    mask[0, 1, 2] = mask[0, 3, 0] = mask[0, 2, 4] = mask[0, 4, 3] = True
    points = module._landmarks(mask)[0]
    # top (2, 1), bottom (3, 4), left (0, 3), right (4, 2): pixel centres
    np.testing.assert_allclose(
        points[:4], [[2.5, 1.5], [3.5, 4.5], [0.5, 3.5], [4.5, 2.5]]
    )
    np.testing.assert_allclose(points[4], [2.75, 3.0])


@needs_fashion_mnist
def test_yolo_example_smoke(capsys, tmp_path):
    plot = tmp_path / "detections.png"
    argv = [
        "--limit",
        "64",
        "--test-limit",
        "16",
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--plot",
        str(plot),
    ]
    results = load_example("yolo_fashion").main(argv)
    assert 0.0 <= results["map50"] <= 1.0 and 0.0 <= results["coco_map"] <= 1.0
    assert plot.stat().st_size > 0
    assert "mAP@0.5" in capsys.readouterr().out


def test_yolo_canvases_hold_their_boxes():
    module = load_example("yolo_fashion")
    rng = np.random.default_rng(0)
    items = np.zeros((4, 28, 28), np.float32)
    items[:, 10:20, 5:15] = 1.0
    x, boxes, classes = module.synthesize(items, np.arange(4), 6, rng)
    assert x.shape == (6, 96, 96, 1)
    for image, b in zip(x[..., 0], boxes, strict=True):
        assert 1 <= len(b) <= 4 and np.all((b >= 0) & (b <= 1))
        for x1, y1, x2, y2 in np.round(b * 96).astype(int):
            assert image[y1:y2, x1:x2].mean() > 0.8  # the box covers the item


@needs_fashion_mnist
def test_face_recognition_example_smoke(capsys, tmp_path):
    plot = tmp_path / "roc.png"
    argv = [
        "--limit",
        "256",
        "--test-limit",
        "300",
        "--epochs",
        "1",
        "--pairs",
        "100",
        "--repeats",
        "2",
        "--verbose",
        "0",
        "--plot",
        str(plot),
    ]
    results = load_example("face_recognition").main(argv)
    for key in ("nearest", "thresholded", "rejected", "auc_distance", "auc_head"):
        assert 0.0 <= results[key] <= 1.0
    assert plot.stat().st_size > 0
    assert "one-shot identification" in capsys.readouterr().out


@needs_fashion_mnist
def test_conv_visualization_example_smoke(capsys, tmp_path):
    patches, saliency = tmp_path / "patches.png", tmp_path / "saliency.png"
    argv = [
        "--limit",
        "256",
        "--test-limit",
        "100",
        "--epochs",
        "1",
        "--units",
        "2",
        "--verbose",
        "0",
        "--patches-plot",
        str(patches),
        "--saliency-plot",
        str(saliency),
    ]
    results = load_example("conv_visualization").main(argv)
    assert 0.0 <= results["accuracy"] <= 1.0
    assert patches.stat().st_size > 0 and saliency.stat().st_size > 0
    assert "receptive field 20x20" in capsys.readouterr().out
