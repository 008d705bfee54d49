"""The 1-D/3-D transposed, depthwise and separable convolutions and the image
preprocessing layers in whole models: Fashion-MNIST training, save/load
(numnet and Keras archives), ONNX export refusing them by name."""

from __future__ import annotations

import numpy as np
import pytest
from tests.example_helpers import needs_fashion_mnist

import numnet
from numnet import layers, models
from numnet.interop import load_keras_model, save_keras
from numnet.interop.keras_config import translate_layer_config


def _fashion(n_train=5000, n_test=1000):
    from numnet.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


@needs_fashion_mnist
def test_separable_depthwise_and_transposed_1d_convs_learn_image_rows():
    (x_train, y_train), (x_test, y_test) = _fashion()
    x_train = (x_train / 255.0).astype(np.float32)  # (N, 28 rows, 28 pixels)
    x_test = (x_test / 255.0).astype(np.float32)
    numnet.manual_seed(0)
    model = models.Sequential([
        layers.Input((28, 28)),
        layers.SeparableConv1D(32, 3, activation="relu"),
        layers.MaxPooling1D(2),
        layers.DepthwiseConv1D(3, padding="same", activation="relu"),
        layers.Conv1DTranspose(16, 3, strides=2, padding="same", activation="relu"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    # chance is 0.10; reading the 28 rows as a sequence this model reaches
    # 0.72-0.73 (seeds 0-2) in three epochs on 5000 images, so 0.6 leaves room
    # for seeds and BLAS orders and still fails a model that did not learn
    assert accuracy > 0.6, accuracy


@needs_fashion_mnist
def test_preprocessing_layers_in_front_of_a_small_cnn_learn():
    (x_train, y_train), (x_test, y_test) = _fashion()
    numnet.manual_seed(0)
    model = models.Sequential([
        layers.Input((28, 28, 1)),
        layers.CenterCrop(26, 26),
        layers.Resizing(20, 20),
        layers.RandomContrast(0.2, seed=1),
        layers.RandomBrightness(0.1, seed=2),
        layers.Rescaling(1 / 255),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[..., None], y_train, epochs=3, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(x_test[..., None], y_test, verbose=0)
    # chance is 0.10; this CNN reaches about 0.75 (seeds 0-2) on 5000
    # augmented, resized images in three epochs; 0.6 allows for seeds and BLAS
    # orders and still catches a model that did not learn
    assert accuracy > 0.6, accuracy


def _model_with_every_new_layer():
    numnet.manual_seed(3)
    init = {"bias_initializer": "random_normal"}
    return models.Sequential([
        layers.Input((8, 8, 1)),
        layers.Resizing(10, 12),
        layers.CenterCrop(8, 8),
        layers.RandomContrast(0.2, (0, 1)),
        layers.RandomBrightness(0.1, (0, 1)),
        layers.Reshape((1, 8, 8, 1)),
        layers.Conv3DTranspose(2, (1, 2, 2), strides=(1, 2, 2), **init),
        layers.Reshape((16, 32)),
        layers.Conv1DTranspose(4, 3, strides=2, padding="same", **init),
        layers.DepthwiseConv1D(3, depth_multiplier=2, **init),
        layers.SeparableConv1D(4, 3, **init),
        layers.Flatten(),
        layers.Dense(3),
    ])  # fmt: skip


NEW_LAYERS = ["Resizing", "CenterCrop", "RandomContrast", "RandomBrightness",
              "Conv3DTranspose", "Conv1DTranspose", "DepthwiseConv1D",
              "SeparableConv1D"]  # fmt: skip


def test_save_and_load_a_model_with_every_new_layer(tmp_path, rng):
    model = _model_with_every_new_layer()
    assert set(NEW_LAYERS) <= {type(layer).__name__ for layer in model.layers}
    x = rng.uniform(0, 1, size=(3, 8, 8, 1)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "all.npz")
    clone = models.load_model(tmp_path / "all.npz")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), expected)
    save_keras(model, tmp_path / "all.keras")  # Keras names, arguments, layouts
    again = load_keras_model(tmp_path / "all.keras")
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
    numnet.manual_seed(5)
    a = clone(x, training=True).data
    numnet.manual_seed(5)
    np.testing.assert_array_equal(again(x, training=True).data, a)
    assert not np.allclose(a, expected)


ONE_LAYER_MODELS = {
    "Resizing": ((6, 6, 1), lambda: layers.Resizing(4, 4)),
    "CenterCrop": ((6, 6, 1), lambda: layers.CenterCrop(4, 4)),
    "RandomContrast": ((6, 6, 1), lambda: layers.RandomContrast(0.1)),
    "RandomBrightness": ((6, 6, 1), lambda: layers.RandomBrightness(0.1)),
    "Conv3DTranspose": ((2, 3, 3, 1), lambda: layers.Conv3DTranspose(2, 2)),
    "Conv1DTranspose": ((6, 2), lambda: layers.Conv1DTranspose(2, 3)),
    "DepthwiseConv1D": ((6, 2), lambda: layers.DepthwiseConv1D(3)),
    "SeparableConv1D": ((6, 2), lambda: layers.SeparableConv1D(2, 3)),
}


@pytest.mark.parametrize("name", NEW_LAYERS)
def test_onnx_export_refuses_each_new_layer_by_name(tmp_path, name):
    pytest.importorskip("onnx")
    shape, make = ONE_LAYER_MODELS[name]
    model = models.Sequential([layers.Input(shape), make(), layers.Flatten()])
    with pytest.raises(numnet.onnx.UnsupportedLayerError, match=f"class {name} is"):
        numnet.onnx.export(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def _init(name):
    return {"module": "keras.initializers", "class_name": name, "config": {},
            "registered_name": None}  # fmt: skip


_CONV = {"activation": "linear", "use_bias": True, "bias_initializer": _init("Zeros"),
         "bias_regularizer": None, "activity_regularizer": None,
         "bias_constraint": None, "data_format": "channels_last"}  # fmt: skip
_KERNEL = {"kernel_initializer": _init("GlorotUniform"), "kernel_regularizer": None,
           "kernel_constraint": None}  # fmt: skip
_DEPTHWISE = {"depthwise_initializer": _init("GlorotUniform"),
              "depthwise_regularizer": None, "depthwise_constraint": None}  # fmt: skip

#: layer configs as Keras 3's get_config writes them
KERAS_CONFIGS = {
    "Conv1DTranspose": {"filters": 4, "kernel_size": [3], "strides": [2],
                        "padding": "same", "dilation_rate": [1],
                        "output_padding": None, **_CONV, **_KERNEL},
    "Conv3DTranspose": {"filters": 4, "kernel_size": [3, 2, 3],
                        "strides": [2, 1, 2], "padding": "valid",
                        "dilation_rate": [1, 1, 1], "output_padding": [1, 0, 0],
                        **_CONV, **_KERNEL},
    "DepthwiseConv1D": {"kernel_size": [3], "strides": [1], "padding": "valid",
                        "dilation_rate": [2], "depth_multiplier": 2, **_CONV,
                        **_DEPTHWISE},
    "SeparableConv1D": {"filters": 4, "kernel_size": [3], "strides": [1],
                        "padding": "same", "dilation_rate": [1],
                        "depth_multiplier": 1, **_CONV, **_DEPTHWISE,
                        "pointwise_initializer": _init("GlorotUniform"),
                        "pointwise_regularizer": None,
                        "pointwise_constraint": None},
    "Resizing": {"height": 4, "width": 5, "interpolation": "nearest",
                 "crop_to_aspect_ratio": True, "pad_to_aspect_ratio": False,
                 "fill_mode": "constant", "fill_value": 0.0, "antialias": False,
                 "data_format": "channels_last"},
    "CenterCrop": {"height": 4, "width": 5, "data_format": "channels_last"},
    "RandomContrast": {"factor": [0.2, 0.3], "value_range": [0, 1], "seed": 3},
    "RandomBrightness": {"factor": [-0.2, 0.1], "value_range": [0, 255],
                         "seed": None},
}  # fmt: skip


@pytest.mark.parametrize("class_name", sorted(KERAS_CONFIGS))
def test_keras_configs_translate(class_name):
    dtype = {"module": "keras", "class_name": "DTypePolicy",
             "config": {"name": "float32"}, "registered_name": None}  # fmt: skip
    keras_config = {"name": "x1", "trainable": True, "dtype": dtype,
                    **KERAS_CONFIGS[class_name]}  # fmt: skip
    cls, config = translate_layer_config(class_name, keras_config)
    layer = cls.from_config(config)
    assert type(layer).__name__ == class_name and layer.name == "x1"
    mine = layer.get_config()
    for key, value in KERAS_CONFIGS[class_name].items():
        if key in mine and not key.endswith("_initializer"):
            assert mine[key] == value, (key, mine[key], value)
