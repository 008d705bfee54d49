"""Smoke runs of the ResNet, transfer-learning and localization examples on tiny
subsets (seconds each). Full runs are quoted in docs/applications.md."""

from __future__ import annotations

import argparse
import math

import numpy as np
from tests.example_helpers import load_example, needs_fashion_mnist


@needs_fashion_mnist
def test_resnet_example_smoke(capsys):
    argv = ["--limit", "256", "--test-limit", "200", "--epochs", "1",
            "--batch-size", "64", "--verbose", "0"]  # fmt: skip
    results = load_example("resnet_fashion_mnist").main(argv)
    assert 0.0 <= results["accuracy"] <= 1.0 and math.isfinite(results["loss"])
    out = capsys.readouterr().out
    assert "310,570 parameters" in out and "test accuracy" in out


@needs_fashion_mnist
def test_transfer_learning_example_smoke(capsys):
    argv = ["--limit", "256", "--base-epochs", "1", "--head-epochs", "1",
            "--shots", "5", "--repeats", "1", "--test-limit", "200",
            "--verbose", "0"]  # fmt: skip
    results = load_example("transfer_learning").main(argv)
    for key in ("base_accuracy", "transfer", "fine_tuned", "scratch"):
        assert 0.0 <= results[key] <= 1.0
    out = capsys.readouterr().out
    assert "frozen base + new head" in out and "from scratch" in out


@needs_fashion_mnist
def test_localization_example_smoke(capsys):
    argv = ["--limit", "128", "--test-limit", "64", "--epochs", "1",
            "--verbose", "0"]  # fmt: skip
    results = load_example("localization").main(argv)
    assert 0.0 <= results["accuracy"] <= 1.0
    assert 0.0 <= results["mean_iou"] <= 1.0
    assert "mean IoU" in capsys.readouterr().out


def test_synthesized_boxes_enclose_the_item():
    module = load_example("localization")
    rng = np.random.default_rng(0)
    items = rng.integers(0, 256, size=(40, 28, 28)).astype(np.uint8)
    items[:, :5] = 0  # blank rows on top: the tight box must skip them
    items[:, :, 20:] = 0
    x, y, boxes = module.synthesize(items, np.arange(40) % 10, rng, noise=0.0)
    assert x.shape == (40, 64, 64, 1) and x.dtype == np.float32
    assert boxes.dtype == np.float32 and ((boxes >= 0) & (boxes <= 1)).all()
    corners = np.round(boxes * 64).astype(int)
    for image, (x1, y1, x2, y2) in zip(x[..., 0], corners, strict=True):
        rows, cols = np.nonzero(image > 0.1)
        assert (x1, y1, x2, y2) == (cols.min(), rows.min(), cols.max() + 1,
                                    rows.max() + 1)  # fmt: skip


def test_matched_iou_is_the_diagonal():
    module = load_example("localization")
    pred = np.array([[0, 0, 2, 2], [0, 0, 1, 1]], np.float32)
    true = np.array([[1, 1, 3, 3], [0, 0, 1, 1]], np.float32)
    np.testing.assert_allclose(module.matched_iou(pred, true), [1 / 7, 1.0])


def test_resnet_example_defaults_follow_the_device():
    example = load_example("resnet_fashion_mnist")

    def resolved(*extra):
        args = argparse.Namespace(device="cpu")
        for key, value in zip(extra[::2], extra[1::2], strict=True):
            setattr(args, key, value)
        args = example.with_device_defaults(args)
        return args.epochs, args.filters, args.strides

    assert resolved() == (16, [32, 64, 128], [2, 2, 2])
    assert resolved("device", "cuda") == (20, [64, 128, 256], [1, 2, 2])
    assert resolved("device", "cuda:1", "epochs", 3)[0] == 3
    assert resolved("filters", [8, 16, 32])[1] == [8, 16, 32]
