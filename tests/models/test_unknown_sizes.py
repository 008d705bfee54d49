"""Models built on inputs of unknown size keep those sizes None (no fill with 1)."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import layers, models


def _conv_stack():
    return [
        layers.Conv2D(4, 5, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Conv2D(3, 3, padding="same"),
        layers.AveragePooling2D(2),
        layers.ReLU(),
    ]


def test_sequential_builds_conv_layers_on_unknown_image_size(rng):
    model = models.Sequential(
        [layers.Input((None, None, 2))] + _conv_stack(), name="fcn"
    )
    assert model.built
    assert model.output_shape == (None, None, None, 3)
    x = rng.normal(size=(2, 29, 37, 2)).astype("float32")
    assert model.predict(x, verbose=0).shape == (2, 6, 8, 3)


def test_sequential_summary_reports_none_for_unknown_axes():
    model = models.Sequential(_conv_stack())
    model.build((None, None, None, 2))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, None, None, 4)" in text
    assert "(None, None, None, 3)" in text
    assert "(None, 1, 1" not in text


def test_sequential_time_axis_stays_none():
    model = models.Sequential(
        [layers.Embedding(10, 4), layers.LSTM(3, return_sequences=True)]
    )
    model.build((None, None))
    assert model.output_shape == (None, None, 3)
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, None, 4)" in "\n".join(lines)


def test_sequential_known_axis_next_to_unknown_one():
    model = models.Sequential(
        [layers.Conv2D(5, (3, 1), input_shape=(None, 7, 1)), layers.Flatten()]
    )
    assert model.output_shape == (None, None)
    model2 = models.Sequential(
        [layers.Conv2D(5, 3, input_shape=(None, 7, 1)), layers.GlobalMaxPooling2D()]
    )
    assert model2.output_shape == (None, 5)


def test_large_kernels_and_strides_use_a_large_enough_probe():
    # An AlexNet-like stem shrinks a 32-pixel probe below its last window.
    model = models.Sequential(
        [
            layers.Conv2D(2, 11, strides=4, input_shape=(None, None, 1)),
            layers.MaxPooling2D(3, strides=2),
            layers.Conv2D(2, 5, padding="same"),
            layers.MaxPooling2D(3, strides=2),
            layers.Conv2D(2, 3),
        ]
    )
    assert model.output_shape == (None, None, None, 2)


def test_flatten_then_dense_on_unknown_size_says_what_to_do():
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        models.Sequential(
            [
                layers.Conv2D(2, 3, input_shape=(None, None, 1)),
                layers.Flatten(),
                layers.Dense(3),
            ]
        )


def test_subclassed_model_builds_on_unknown_size():
    class Net(models.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(2, 5)
            self.pool = layers.MaxPooling2D(2)

        def call(self, x, training=False):
            return self.pool(self.conv(x))

    net = Net()
    net.build((None, None, None, 1))
    assert net.built
    out = net.predict(np.zeros((1, 14, 14, 1), "float32"), verbose=0)
    assert out.shape == (1, 5, 5, 2)


_SPATIAL_LAYERS = [
    lambda: layers.Conv2D(4, 3),
    lambda: layers.Conv2D(4, 3, strides=2, padding="same"),
    lambda: layers.Conv2DTranspose(4, 3, strides=2),
    lambda: layers.DepthwiseConv2D(3),
    lambda: layers.SeparableConv2D(4, 3),
    lambda: layers.MaxPooling2D(2),
    lambda: layers.AveragePooling2D(3, strides=2, padding="same"),
    lambda: layers.BatchNormalization(),
    lambda: layers.LayerNormalization(),
    lambda: layers.Activation("tanh"),
    lambda: layers.ReLU(),
    lambda: layers.LeakyReLU(),
    lambda: layers.ELU(),
    lambda: layers.Softmax(),
    lambda: layers.Dropout(0.5),
    lambda: layers.SpatialDropout2D(0.5),
    lambda: layers.ZeroPadding2D(1),
    lambda: layers.Cropping2D(1),
    lambda: layers.UpSampling2D(2),
]


@pytest.mark.parametrize("make", _SPATIAL_LAYERS)
def test_every_image_layer_builds_on_unknown_sizes(make, rng):
    sequential = models.Sequential([layers.Input((None, None, 3)), make()])
    image = layers.Input((None, None, 3))
    functional = models.Model(image, make()(image))
    for model in (sequential, functional):
        assert model.output_shape[1:3] == (None, None)
        for h, w in ((9, 13), (16, 10)):
            x = rng.normal(size=(2, h, w, 3)).astype("float32")
            out = model.predict(x, verbose=0)
            assert out.ndim == 4 and out.shape[0] == 2


def test_global_pooling_gives_a_known_shape():
    model = models.Sequential(
        [
            layers.Input((None, None, 3)),
            layers.Conv2D(5, 3),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2),
        ]
    )
    assert model.output_shape == (None, 2)
