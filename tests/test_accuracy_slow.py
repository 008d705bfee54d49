"""Opt-in accuracy runs on the real Fashion-MNIST (``python -m pytest -m slow``).

Each test runs an example script end to end with its default settings and checks the
test accuracy it prints against the target of its issue. They take minutes to tens of
minutes each on 2 cores, so they are deselected from the default run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = Path("/usr/share/datasets/fashion-mnist")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not DATA.is_dir() and "NUMNET_DATA" not in os.environ,
        reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
    ),
]


def _test_accuracy(script: str, *args: str) -> float:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    found = re.findall(r"test accuracy[ :=]+([0-9.]+)", done.stdout)
    assert found, f"{script} printed no test accuracy:\n{done.stdout[-2000:]}"
    return float(found[-1])


@pytest.mark.parametrize(
    ("script", "target"),
    [
        ("fashion_mnist_mlp.py", 0.89),
        ("fashion_mnist_cnn.py", 0.915),
        ("fashion_mnist_cnn_bn.py", 0.925),
        ("fashion_mnist_lstm.py", 0.89),
        ("fashion_mnist_augmented.py", 0.93),
        ("resnet_fashion_mnist.py", 0.935),
    ],
)
def test_example_reaches_its_target(script, target):
    assert _test_accuracy(script) >= target
