"""numnet.viz with a model on a device: the pictures of the CPU model.

The filters, layer activations and feature maps are read from the device
explicitly (``backend.to_host``): a ``np.asarray`` of a device array fails on
CuPy, and a CuPy array's own ``.data`` is its memory pointer, not its values.
The ``device`` fixture (``tests/conftest.py``) gives "strict" everywhere and "cuda"
where CuPy finds a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import layers, models, viz

pytest.importorskip("matplotlib")


def _model(device):
    numnet.manual_seed(0)
    model = models.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, name="conv"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    return model.to(device)


def _pixels(figure) -> list[np.ndarray]:
    return [np.asarray(im.get_array()) for ax in figure.axes for im in ax.images]


def test_filters_and_feature_maps_of_a_device_model(device):
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    cpu, dev = _model("cpu"), _model(device)
    conv_cpu, conv_dev = cpu.get_layer("conv"), dev.get_layer("conv")
    for what in (lambda m, c: c, lambda m, c: c.kernel):  # layer, kernel Tensor
        np.testing.assert_allclose(
            _pixels(viz.plot_filters(what(dev, conv_dev))),
            _pixels(viz.plot_filters(what(cpu, conv_cpu))),
            rtol=1e-5,
        )
    activations_cpu = viz.layer_activations(cpu, x)
    activations_dev = viz.layer_activations(dev, x)
    for (name, a_cpu), (_, a_dev) in zip(activations_cpu, activations_dev, strict=True):
        assert type(a_dev) is np.ndarray, name
        np.testing.assert_allclose(a_dev, a_cpu, rtol=1e-5, atol=1e-6)
    for a, b in zip(
        _pixels(viz.plot_feature_maps(dev, x)),
        _pixels(viz.plot_feature_maps(cpu, x)),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
