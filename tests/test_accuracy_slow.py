"""Opt-in accuracy runs on the real Fashion-MNIST (``python -m pytest -m slow``).

Each test runs an example script end to end with its default settings and checks the
test accuracy it prints against its target (the README's table). They take minutes
to tens of minutes each on 2 cores, so they are deselected from the default run.
"""

from __future__ import annotations

import functools
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


@functools.cache  # one run per script for its targets
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
        # the course's recipe reaches what PyTorch reaches with it (0.8813-0.8866
        # over seeds 0-2, python -m benchmarks.course_cnn_accuracy) ...
        ("fashion_mnist_cnn.py", 0.88),
        # ... and neither library reaches the course's 0.915 in 5 epochs (README):
        # strict, so that meeting it one day turns this into a failure to update
        pytest.param(
            "fashion_mnist_cnn.py",
            0.915,
            marks=pytest.mark.xfail(
                strict=True, reason="0.915 after 5 epochs: not met, nor by PyTorch"
            ),
        ),
        ("fashion_mnist_cnn_bn.py", 0.925),
        ("fashion_mnist_lstm.py", 0.89),
        ("fashion_mnist_augmented.py", 0.93),
        ("resnet_fashion_mnist.py", 0.935),
    ],
)
def test_example_reaches_its_target(script, target):
    assert _test_accuracy(script) >= target
