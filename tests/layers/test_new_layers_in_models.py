"""The noise, normalization, PReLU and 1-D/3-D shaping layers in whole models:
training on Fashion-MNIST, save/load (numnet and Keras archives), Keras
configs as Keras 3 writes them, and ONNX export."""

from __future__ import annotations

import numpy as np
import pytest
from tests.example_helpers import needs_fashion_mnist

import numnet
from numnet import layers, models
from numnet.interop import load_keras_model, save_keras
from numnet.interop.keras_config import translate_layer_config


@needs_fashion_mnist
def test_a_model_with_the_new_layers_learns_fashion_mnist():
    from numnet.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = (x_train[:2000, ..., None] / 255.0).astype(np.float32)
    x_test = (x_test[:1000, ..., None] / 255.0).astype(np.float32)
    y_train, y_test = y_train[:2000], y_test[:1000]
    numnet.manual_seed(0)
    model = models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.GaussianNoise(0.1),
            layers.Conv2D(8, 3),
            layers.GroupNormalization(4),
            layers.PReLU(shared_axes=[1, 2]),
            layers.MaxPooling2D(2),
            layers.SpatialDropout2D(0.1),
            layers.Flatten(),
            layers.GaussianDropout(0.2),
            layers.Dense(64),
            layers.PReLU(),
            layers.UnitNormalization(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    # chance is 0.10; this small CNN reaches about 0.72 on 2000 images in two epochs,
    # so 0.6 leaves room for seeds and BLAS orders and still fails a model that
    # did not learn
    assert accuracy > 0.6, accuracy


def _every_new_layer_model():
    """A functional model that holds each of the new layers once."""
    numnet.manual_seed(1)
    volume = layers.Input((2, 4, 4, 4))
    v = layers.ZeroPadding3D(1)(volume)
    v = layers.Cropping3D(((1, 0), (1, 1), (0, 1)))(v)
    v = layers.UpSampling3D((1, 2, 1))(v)
    v = layers.SpatialDropout3D(0.2)(v)
    v = layers.GaussianNoise(0.1)(v)
    v = layers.GroupNormalization(2, gamma_initializer="random_normal")(v)
    v = layers.PReLU("random_normal", shared_axes=[1, 2, 3])(v)
    pooled = layers.Concatenate()(
        [layers.GlobalAveragePooling3D()(v), layers.GlobalMaxPooling3D()(v)]
    )
    s = layers.Reshape((4, 2))(pooled)
    s = layers.ZeroPadding1D((1, 2))(s)
    s = layers.Cropping1D((0, 1))(s)
    s = layers.SpatialDropout1D(0.3)(s)
    s = layers.GaussianDropout(0.2)(s)
    s = layers.Flatten()(s)
    s = layers.ActivityRegularization(l1=0.01, l2=0.02)(s)
    s = layers.Identity()(s)
    s = layers.UnitNormalization()(s)
    out = layers.Dense(3, bias_initializer="random_normal")(s)
    return models.Model(volume, out)


NEW_LAYERS = {
    "ActivityRegularization", "Cropping1D", "Cropping3D", "GaussianDropout",
    "GaussianNoise", "GlobalAveragePooling3D", "GlobalMaxPooling3D",
    "GroupNormalization", "Identity", "PReLU", "SpatialDropout1D",
    "SpatialDropout3D", "UnitNormalization", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding3D",
}  # fmt: skip


def test_save_and_load_a_model_with_every_new_layer(tmp_path, rng):
    model = _every_new_layer_model()
    assert NEW_LAYERS <= {type(layer).__name__ for layer in model.layers}
    x = rng.normal(size=(3, 2, 4, 4, 4)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "all.npz")
    clone = models.load_model(tmp_path / "all.npz")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), expected)
    # the Keras 3 archive: Keras's class names, arguments and weight layouts
    save_keras(model, tmp_path / "all.keras")
    again = load_keras_model(tmp_path / "all.keras")
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
    # training mode: the random layers draw, and the same seed gives the same draw
    numnet.manual_seed(4)
    a = clone(x, training=True).data
    numnet.manual_seed(4)
    np.testing.assert_array_equal(again(x, training=True).data, a)
    assert not np.allclose(a, expected)


def _dtype():
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": {"name": "float32"}, "registered_name": None}  # fmt: skip


def _init(name):
    return {"module": "keras.initializers", "class_name": name, "config": {},
            "registered_name": None}  # fmt: skip


#: layer configs as Keras 3's get_config writes them
KERAS_CONFIGS = {
    "GaussianNoise": {"stddev": 0.2, "seed": None},
    "GaussianDropout": {"rate": 0.3, "seed": 7},
    "ActivityRegularization": {"l1": 0.01, "l2": 0.0},
    "Identity": {},
    "PReLU": {"alpha_initializer": _init("Zeros"), "alpha_regularizer": None,
              "alpha_constraint": None, "shared_axes": [1, 2]},
    "SpatialDropout1D": {"rate": 0.1, "seed": None},
    "SpatialDropout3D": {"rate": 0.1, "seed": None, "data_format": "channels_last"},
    "UnitNormalization": {"axis": -1},
    "GroupNormalization": {"groups": 4, "axis": -1, "epsilon": 0.001, "center": True,
                           "scale": True, "beta_initializer": _init("Zeros"),
                           "gamma_initializer": _init("Ones"),
                           "beta_regularizer": None, "gamma_regularizer": None,
                           "beta_constraint": None, "gamma_constraint": None},
    "ZeroPadding1D": {"padding": [1, 2]},
    "ZeroPadding3D": {"padding": [[1, 1], [2, 2], [0, 1]],
                      "data_format": "channels_last"},
    "Cropping1D": {"cropping": [1, 1]},
    "Cropping3D": {"cropping": [[1, 1], [1, 1], [1, 1]],
                   "data_format": "channels_last"},
    "UpSampling3D": {"size": [2, 2, 2], "data_format": "channels_last"},
    "GlobalAveragePooling3D": {"data_format": "channels_last", "keepdims": False},
    "GlobalMaxPooling3D": {"data_format": "channels_last", "keepdims": False},
}  # fmt: skip


@pytest.mark.parametrize("class_name", sorted(KERAS_CONFIGS))
def test_keras_configs_translate(class_name):
    keras_config = {
        "name": "x1", "trainable": True, "dtype": _dtype(),
        **KERAS_CONFIGS[class_name],
    }  # fmt: skip
    cls, config = translate_layer_config(class_name, keras_config)
    layer = cls.from_config(config)
    assert type(layer).__name__ == class_name and layer.name == "x1"
    mine = layer.get_config()
    for key, value in KERAS_CONFIGS[class_name].items():
        if not key.endswith("_initializer"):
            assert mine[key] == value, (key, mine[key], value)


def test_onnx_export_maps_the_inference_identities_and_refuses_the_rest(tmp_path):
    pytest.importorskip("onnx")
    model = models.Sequential(
        [
            layers.Input((6,)),
            layers.GaussianNoise(0.1),
            layers.GaussianDropout(0.2),
            layers.ActivityRegularization(l2=0.1),
            layers.Identity(),
            layers.Dense(2),
        ]
    )
    numnet.onnx.export(model, tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size > 0
    bad = models.Sequential([layers.Input((6,)), layers.UnitNormalization()])
    with pytest.raises(numnet.onnx.UnsupportedLayerError, match="UnitNormalization"):
        numnet.onnx.export(bad, tmp_path / "bad.onnx")
