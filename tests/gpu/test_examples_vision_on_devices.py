"""The vision and application examples run with ``--device``: the smoke run of
each (the argv of its CPU smoke test, shrunk where that helps), on the "strict"
device everywhere and on "cuda" where CuPy finds a GPU (the ``device`` fixture
of ``tests/conftest.py``). Every model the example trains (for style transfer: its
feature net) lives on the device; the checks are those of the CPU smoke tests,
and nothing may slip past the array seam."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.example_helpers import load_example, needs_fashion_mnist
from tests.strict_namespace import SLIPS

from numnet import models

pytestmark = needs_fashion_mnist

QUIET = ["--epochs", "1", "--verbose", "0"]


def _autoencoder(results, out, tmp):
    assert (tmp / "autoencoder_reconstructions.png").stat().st_size > 1000
    assert len(results) == 5 and all(0 < v < 1 for v in results.values())
    assert "conv denoiser (test MSE)" in out


def _conv_visualization(results, out, tmp):
    assert 0.0 <= results["accuracy"] <= 1.0
    assert (tmp / "patches.png").stat().st_size > 0
    assert (tmp / "saliency.png").stat().st_size > 0
    assert "receptive field 20x20" in out


def _face_recognition(results, out, tmp):
    for key in ("nearest", "thresholded", "rejected", "auc_distance", "auc_head"):
        assert 0.0 <= results[key] <= 1.0
    assert (tmp / "roc.png").stat().st_size > 0
    assert "one-shot identification" in out


def _landmarks(results, out, tmp):
    assert 0.0 <= results["presence_accuracy"] <= 1.0
    assert np.isfinite(results["pixel_error"])
    assert "mean landmark error" in out


def _localization(results, out, tmp):
    assert 0.0 <= results["accuracy"] <= 1.0
    assert 0.0 <= results["mean_iou"] <= 1.0
    assert "mean IoU" in out


def _siamese_triplet(results, out, tmp):
    for key in ("embedding", "pixels"):
        assert 0.4 <= results[key]["test_accuracy"] <= 1.0
        assert results[key]["val_accuracy"] >= 0.5  # the best threshold beats chance
    assert "test pairs" in out


def _sliding_windows(results, out, tmp):
    assert results["difference"] < 1e-4  # the two scans agree
    assert "explicit loop" in out


def _style_transfer(results, out, tmp):
    for name in ("content", "style", "generated"):
        assert (tmp / f"style_{name}.png").exists()
    start, final = results["J"]
    assert math.isfinite(final) and final < start
    assert "J_style" in out


def _transfer_learning(results, out, tmp):
    for key in ("base_accuracy", "transfer", "fine_tuned", "scratch"):
        assert 0.0 <= results[key] <= 1.0
    assert "frozen base + new head" in out and "from scratch" in out


def _yolo_fashion(results, out, tmp):
    assert 0.0 <= results["map50"] <= 1.0 and 0.0 <= results["coco_map"] <= 1.0
    assert (tmp / "detections.png").stat().st_size > 0
    assert "mAP@0.5" in out


def _viz_gallery(results, out, tmp):
    for name in ("history", "filters", "feature_maps", "confusion_matrix",
                 "misclassified", "model", "decision_boundary"):  # fmt: skip
        assert (tmp / f"{name}.png").stat().st_size > 0
    assert "test accuracy" in out and "saved the gallery" in out


# example: (argv, with {tmp} for the test's folder; the check of its results)
CASES = {
    "autoencoder": (
        ["--limit", "128", "--test-limit", "64", *QUIET, "--out", "{tmp}"],
        _autoencoder,
    ),
    "conv_visualization": (
        [
            "--limit",
            "256",
            "--test-limit",
            "100",
            *QUIET,
            "--units",
            "2",
            "--patches-plot",
            "{tmp}/patches.png",
            "--saliency-plot",
            "{tmp}/saliency.png",
        ],
        _conv_visualization,
    ),  # fmt: skip
    "face_recognition": (
        [
            "--limit",
            "256",
            "--test-limit",
            "300",
            *QUIET,
            "--pairs",
            "100",
            "--repeats",
            "2",
            "--plot",
            "{tmp}/roc.png",
        ],
        _face_recognition,
    ),  # fmt: skip
    "landmarks": (["--limit", "128", "--test-limit", "64", *QUIET], _landmarks),
    "localization": (
        ["--limit", "128", "--test-limit", "64", *QUIET],
        _localization,
    ),
    "siamese_triplet": (
        [
            "--limit",
            "512",
            "--val",
            "256",
            "--test-limit",
            "256",
            "--pairs",
            "200",
            *QUIET,
        ],
        _siamese_triplet,
    ),  # fmt: skip
    "sliding_windows": (
        ["--limit", "256", "--canvases", "2", *QUIET],
        _sliding_windows,
    ),
    "style_transfer": (
        ["--train-limit", "64", "--steps", "5", "--out", "{tmp}"],
        _style_transfer,
    ),
    "transfer_learning": (
        [
            "--limit",
            "256",
            "--base-epochs",
            "1",
            "--head-epochs",
            "1",
            "--shots",
            "5",
            "--repeats",
            "1",
            "--test-limit",
            "200",
            "--verbose",
            "0",
        ],
        _transfer_learning,
    ),  # fmt: skip
    "yolo_fashion": (
        [
            "--limit",
            "64",
            "--test-limit",
            "16",
            *QUIET,
            "--plot",
            "{tmp}/detections.png",
        ],
        _yolo_fashion,
    ),  # fmt: skip
    "viz_gallery": (
        ["--limit", "256", "--test-limit", "200", "--epochs", "1", "--out", "{tmp}"],
        _viz_gallery,
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(CASES))
def test_vision_example_trains_on_the_device(
    name, device, capsys, tmp_path, monkeypatch
):
    fitted_on = []  # the device of every model the example fits
    fit = models.Model.fit

    def recording_fit(model, *args, **kwargs):
        fitted_on.append(model.device.type)
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(models.Model, "fit", recording_fit)
    argv, check = CASES[name]
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    results = load_example(name).main([*argv, "--device", device])
    check(results, capsys.readouterr().out, tmp_path)
    assert fitted_on and set(fitted_on) == {device}
    assert not SLIPS
