"""Smoke runs of the Fashion-MNIST examples on a tiny subset (seconds each)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from tests.example_helpers import DATA, EXAMPLES, load_example

import numnet

pytestmark = pytest.mark.skipif(
    not os.path.isdir(DATA) and not os.environ.get("NUMNET_DATA"),
    reason="Fashion-MNIST files absent (apt-get install dataset-fashion-mnist)",
)


@pytest.mark.parametrize(
    "name", ["fashion_mnist_mlp", "fashion_mnist_cnn", "fashion_mnist_cnn_bn"]
)
def test_example_smoke_run(name, capsys, tmp_path):
    module = load_example(name)
    save = tmp_path / "model.npz"
    argv = ["--epochs", "1", "--limit", "200", "--batch-size", "64", "--verbose", "2"]
    accuracy = module.main(argv + ["--save", str(save)])
    out = capsys.readouterr().out
    assert 0.0 <= accuracy <= 1.0
    assert "test accuracy" in out and "per epoch" in out and "forward" in out
    assert "Total params" in out and "Epoch 1/1" in out
    assert save.exists()


def test_quickstart_runs(capsys, monkeypatch):
    module = load_example("fashion_mnist_mlp")
    monkeypatch.setattr(sys, "argv", ["quickstart.py", "--limit", "100"])
    sys.path.insert(0, str(EXAMPLES))
    try:
        source = (EXAMPLES / "quickstart.py").read_text()
        exec(compile(source, "quickstart.py", "exec"), {"__name__": "__main__"})
    finally:
        sys.path.remove(str(EXAMPLES))
    assert "MLP: test accuracy" in capsys.readouterr().out
    assert module is not None


def test_pytorch_style_loop_resumes_to_the_uninterrupted_weights(capsys, tmp_path):
    module = load_example("pytorch_style_loop")
    common = ["--epochs", "2", "--limit", "300", "--batch-size", "64"]
    whole, part = tmp_path / "whole.ckpt", tmp_path / "part.ckpt"
    accuracy = module.main(common + ["--checkpoint", str(whole)])
    module.main(common + ["--checkpoint", str(part), "--stop-after", "1"])
    resumed = module.main(common + ["--resume", str(part), "--checkpoint", str(part)])
    out = capsys.readouterr().out
    assert "resumed from" in out and "epoch 2/2" in out
    assert resumed == accuracy and 0.0 <= accuracy <= 1.0
    a, b = numnet.load(whole), numnet.load(part)
    assert a["epoch"] == b["epoch"] == 1
    for key, value in a["model"].items():
        np.testing.assert_array_equal(b["model"][key], value)
