"""Smoke runs of the vision examples (sliding windows, localization loss, YOLO,
face recognition, visualization) on tiny subsets, seconds each."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = "/usr/share/datasets/fashion-mnist"
needs_fashion_mnist = pytest.mark.skipif(
    not os.path.isdir(DATA) and not os.environ.get("NUMNET_DATA"),
    reason="Fashion-MNIST files absent (apt-get install dataset-fashion-mnist)",
)


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_fashion_mnist
def test_sliding_windows_example_smoke(capsys):
    argv = ["--limit", "256", "--epochs", "1", "--canvases", "2", "--verbose", "0"]
    results = load_example("sliding_windows").main(argv)
    assert results["difference"] < 1e-4  # the two scans agree
    assert "explicit loop" in capsys.readouterr().out
