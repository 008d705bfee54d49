"""Quickstart: train a small network on Fashion-MNIST in about 15 seconds.

This is examples/fashion_mnist_mlp.py with 3 epochs (about 0.87 test accuracy,
0.88 on the validation split); see fashion_mnist_cnn.py for the course CNN.

Run:  python examples/quickstart.py [--epochs 3] [--limit N]
"""

from __future__ import annotations

import fashion_mnist_mlp

if __name__ == "__main__":
    fashion_mnist_mlp.main(default_epochs=3, doc=__doc__)
