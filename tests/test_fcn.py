"""Fully convolutional conversion: the conv map equals the sliding-window loop."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import layers, models
from numnet.vision import sliding_window_scores, to_fully_convolutional


def _crop_classifier():
    model = models.Sequential(
        [
            layers.Input((12, 12, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Conv2D(5, 3),
            layers.ReLU(),
            layers.Flatten(),
            layers.Dense(7, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(3, activation="softmax"),
        ]
    )
    bn = model.layers[1]
    bn.moving_mean.data[:] = np.linspace(-0.2, 0.2, 4)
    bn.moving_variance.data[:] = np.linspace(0.5, 1.5, 4)
    return model


def test_fcn_map_equals_sliding_windows(rng):
    model = _crop_classifier()
    fcn = to_fully_convolutional(model)
    assert fcn.output_shape == (None, None, None, 3)
    image = rng.normal(size=(2, 20, 26, 2)).astype("float32")
    conv_map = fcn.predict(image, verbose=0)
    loop = sliding_window_scores(model, image, window=12, stride=2)
    assert conv_map.shape == loop.shape == (2, 5, 8, 3)
    np.testing.assert_allclose(conv_map, loop, rtol=1e-4, atol=1e-6)


def test_fcn_on_the_crop_size_equals_the_classifier(rng):
    model = _crop_classifier()
    fcn = to_fully_convolutional(model)
    crops = rng.normal(size=(3, 12, 12, 2)).astype("float32")
    np.testing.assert_allclose(
        fcn.predict(crops, verbose=0)[:, 0, 0],
        model.predict(crops, verbose=0),
        rtol=1e-4,
        atol=1e-6,
    )


def test_fcn_rejects_global_pooling():
    model = models.Sequential(
        [layers.Input((8, 8, 1)), layers.Conv2D(2, 3), layers.GlobalAveragePooling2D()]
    )
    with pytest.raises(ValueError, match="does not slide"):
        to_fully_convolutional(model)


def test_functional_fully_convolutional_model(rng):
    image = layers.Input((None, None, 1))
    x = layers.Conv2D(3, 5, activation="relu")(image)
    x = layers.MaxPooling2D(2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.Conv2D(2, 1, activation="sigmoid")(x)
    model = models.Model(image, x)
    assert model.output_shape == (None, None, None, 2)
    assert model.predict(np.zeros((1, 28, 36, 1), "float32"), verbose=0).shape == (
        1, 6, 8, 2,
    )  # fmt: skip
