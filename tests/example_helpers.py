"""What the example smoke tests share: the examples folder, a loader, the data mark."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = "/usr/share/datasets/fashion-mnist"

#: skip a test when neither Debian's Fashion-MNIST package nor NUMNET_DATA is there
needs_fashion_mnist = pytest.mark.skipif(
    not os.path.isdir(DATA) and not os.environ.get("NUMNET_DATA"),
    reason="Fashion-MNIST files absent (apt-get install dataset-fashion-mnist)",
)


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module (its sibling helpers importable)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def fashion_mnist_subset(n_train: int = 4000, n_test: int = 1000):
    """Random Fashion-MNIST images (seed 0), flattened to 784 floats in [0, 1].

    Returns:
        ``(x, y), (x_test, y_test)`` with ``n_train`` and ``n_test`` images.
    """
    import numpy as np

    from numnet.datasets import fashion_mnist

    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    rng = np.random.default_rng(0)
    train, test = rng.permutation(60000)[:n_train], rng.permutation(10000)[:n_test]
    flat = [
        a.reshape(-1, 784).astype(np.float32) / 255 for a in (x[train], x_test[test])
    ]
    return (flat[0], y[train]), (flat[1], y_test[test])
