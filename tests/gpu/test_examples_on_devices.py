"""The Fashion-MNIST training examples run with ``--device``: a smoke run of
each on a small subset, on the "strict" device everywhere and on "cuda" where
CuPy finds a GPU (the ``device`` fixture of ``tests/conftest.py``). The weights stay
on the device through fit, evaluate, the phase timing and save."""

from __future__ import annotations

import pytest
from tests.example_helpers import load_example, needs_fashion_mnist
from tests.strict_namespace import SLIPS

pytestmark = needs_fashion_mnist

FLAGS = ["--epochs", "1", "--limit", "200", "--batch-size", "64"]


@pytest.mark.parametrize(
    "name", ["fashion_mnist_mlp", "fashion_mnist_cnn", "fashion_mnist_cnn_bn"]
)
def test_fashion_example_trains_on_the_device(name, device, capsys, tmp_path):
    save = tmp_path / "model.npz"
    accuracy = load_example(name).main(
        [*FLAGS, "--verbose", "0", "--device", device, "--save", str(save)]
    )
    out = capsys.readouterr().out
    assert 0.0 <= accuracy <= 1.0 and "test accuracy" in out and save.exists()
    assert not SLIPS


def test_lstm_example_trains_on_the_device(device, capsys):
    result = load_example("fashion_mnist_lstm").main([*FLAGS, "--units", "8",
                                                      "--device", device])  # fmt: skip
    assert 0.0 <= result["accuracy"] <= 1.0
    assert "test accuracy" in capsys.readouterr().out


def test_pytorch_style_loop_trains_on_the_device(device, capsys, tmp_path):
    checkpoint = tmp_path / "loop.ckpt"
    flags = ["--epochs", "1", "--limit", "200", "--batch-size", "64"]
    accuracy = load_example("pytorch_style_loop").main(
        [*flags, "--device", device, "--checkpoint", str(checkpoint)]
    )
    assert 0.0 <= accuracy <= 1.0 and checkpoint.exists()
    assert "test accuracy" in capsys.readouterr().out
    assert not SLIPS
