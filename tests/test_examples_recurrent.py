"""Smoke runs of the sequence-model examples on tiny inputs (seconds each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.example_helpers import load_example, needs_fashion_mnist


@needs_fashion_mnist
def test_fashion_mnist_lstm_smoke(capsys):
    module = load_example("fashion_mnist_lstm")
    result = module.main(["--epochs", "1", "--limit", "256", "--units", "16"])
    out = capsys.readouterr().out
    assert 0.0 <= result["accuracy"] <= 1.0 and result["seconds"] > 0
    assert "test accuracy" in out and "Epoch 1/1" in out


@pytest.mark.skipif(
    not Path("/usr/share/common-licenses").is_dir(), reason="no license texts"
)
def test_char_rnn_smoke(capsys):
    module = load_example("char_rnn")
    result = module.main(["--epochs", "1", "--limit", "4000", "--units", "16",
                          "--seq-len", "20", "--sample-length", "30"])  # fmt: skip
    out = capsys.readouterr().out
    assert np.isfinite(result["loss_before"]) and np.isfinite(result["loss_after"])
    assert "held-out loss before training" in out
    assert out.count("--- sample at temperature") == 2


def test_sequence_classification_smoke(capsys):
    module = load_example("sequence_classification")
    result = module.main(["--epochs", "1", "--limit", "300", "--units", "8",
                          "--max-len", "24", "--packages", "json,logging"])  # fmt: skip
    out = capsys.readouterr().out
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["padding_drift"] < 1e-5  # masked padding changes nothing
    assert "majority-class baseline" in out
