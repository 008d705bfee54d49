"""ONNX export, checked by running the exported file in onnxruntime (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import numnet.onnx  # noqa: E402
from numnet import layers, models  # noqa: E402
from numnet.applications import small_resnet  # noqa: E402


def _randomize(model, rng):
    """Random weights, positive variances, so that every layout matters."""
    for w in model.weights:
        values = rng.normal(scale=0.4, size=w.shape)
        if w.name.endswith("moving_variance"):
            values = np.abs(values) + 0.5
        w.data[...] = values


def _check(model, x, rng, tmp_path, atol=1e-5):
    _randomize(model, rng)
    path = tmp_path / "model.onnx"
    numnet.onnx.export(model, path)
    session = ort.InferenceSession(str(path))
    feeds = {
        i.name: a
        for i, a in zip(
            session.get_inputs(), x if isinstance(x, list) else [x], strict=True
        )
    }
    got = session.run(None, feeds)
    want = model.predict(x, verbose=0)
    want = want if isinstance(want, list) else [want]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=atol, rtol=1e-5)


def _images(rng, n=3, h=9, w=9, c=2):
    return rng.normal(size=(n, h, w, c)).astype(np.float32)


IMAGE_LAYERS = {
    "conv_valid_relu": lambda: layers.Conv2D(3, 3, activation="relu"),
    "conv_same_stride2": lambda: layers.Conv2D(4, 3, strides=2, padding="same"),
    "depthwise": lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
    "separable": lambda: layers.SeparableConv2D(3, 3, activation="tanh"),
    "maxpool_same": lambda: layers.MaxPooling2D(3, strides=2, padding="same"),
    "avgpool": lambda: layers.AveragePooling2D(2),
    "batchnorm": lambda: layers.BatchNormalization(),
    "layernorm": lambda: layers.LayerNormalization(),
    "relu_layer": lambda: layers.ReLU(negative_slope=0.1),
    "leaky": lambda: layers.LeakyReLU(),
    "activation_elu": lambda: layers.Activation("elu"),
    "dropout": lambda: layers.Dropout(0.5),
    "spatial_dropout": lambda: layers.SpatialDropout2D(0.5),
    "gaussian_noise": lambda: layers.GaussianNoise(0.5),
    "gaussian_dropout": lambda: layers.GaussianDropout(0.5),
    "activity_regularization": lambda: layers.ActivityRegularization(0.1, 0.1),
    "identity": lambda: layers.Identity(),
    "softmax": lambda: layers.Softmax(),
}


@pytest.mark.parametrize("kind", sorted(IMAGE_LAYERS))
def test_each_image_layer_matches_onnxruntime(kind, rng, tmp_path):
    model = models.Sequential(
        [
            layers.Input((9, 9, 2)),
            IMAGE_LAYERS[kind](),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    _check(model, _images(rng), rng, tmp_path)


@pytest.mark.parametrize(
    "pool", [layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D]
)
def test_global_pooling_and_reshape(pool, rng, tmp_path):
    model = models.Sequential(
        [
            layers.Input((9, 9, 2)),
            layers.Conv2D(4, 3),
            pool(),
            layers.Reshape((2, 2)),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    _check(model, _images(rng), rng, tmp_path)


@pytest.mark.parametrize("rnn", ["SimpleRNN", "GRU", "GRU_v1", "LSTM", "Bi"])
@pytest.mark.parametrize("sequences", [True, False])
def test_recurrent_layers_match_onnxruntime(rnn, sequences, rng, tmp_path):
    make = {
        "SimpleRNN": lambda: layers.SimpleRNN(4, return_sequences=sequences),
        "GRU": lambda: layers.GRU(4, return_sequences=sequences),
        "GRU_v1": lambda: layers.GRU(4, reset_after=False, return_sequences=sequences),
        "LSTM": lambda: layers.LSTM(4, return_sequences=sequences),
        "Bi": lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=sequences)),
    }[rnn]
    model = models.Sequential([layers.Input((6, 3)), make(), layers.Dense(2)])
    _check(model, rng.normal(size=(2, 6, 3)).astype(np.float32), rng, tmp_path)


def test_embedding_and_merges(rng, tmp_path):
    ids = layers.Input((5,), dtype="int64")
    dense_in = layers.Input((5, 4))
    embedded = layers.Embedding(10, 4)(ids)
    merged = [
        layers.Add()([embedded, dense_in]),
        layers.Multiply()([embedded, dense_in]),
        layers.Subtract()([embedded, dense_in]),
        layers.Average()([embedded, dense_in]),
        layers.Maximum()([embedded, dense_in]),
        layers.Minimum()([embedded, dense_in]),
    ]
    out = layers.Dense(2)(layers.Flatten()(layers.Concatenate()(merged)))
    model = models.Model([ids, dense_in], out)
    x = [
        rng.integers(0, 10, size=(3, 5)),
        rng.normal(size=(3, 5, 4)).astype(np.float32),
    ]
    _check(model, x, rng, tmp_path)


def test_course_cnn_and_resnet(rng, tmp_path):
    cnn = models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    x = rng.normal(size=(2, 28, 28, 1)).astype(np.float32)
    _check(cnn, x, rng, tmp_path)
    resnet = small_resnet(input_shape=(28, 28, 1), stage_filters=(8, 16))
    _check(resnet, x, rng, tmp_path, atol=1e-4)  # deep: float32 sums in two orders


def test_dynamic_batch_axis(rng, tmp_path):
    model = models.Sequential([layers.Input((4,)), layers.Dense(2)])
    numnet.onnx.export(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    for n in (1, 7):
        x = rng.normal(size=(n, 4)).astype(np.float32)
        assert session.run(None, {"input": x})[0].shape == (n, 2)


def test_unsupported_layer_is_named(tmp_path):
    model = models.Sequential([layers.Input((4, 4, 1)), layers.ZeroPadding2D(1)])
    with pytest.raises(numnet.onnx.UnsupportedLayerError, match="ZeroPadding2D"):
        numnet.onnx.export(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


EXPORTED_ACTIVATIONS = [
    "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "exponential", "celu",
    "soft_shrink", "hard_shrink", "silu", "swish", "mish", "relu6", "hard_tanh",
    "log_sigmoid", "tanh_shrink", "gelu", "squareplus", "log_softmax",
]  # fmt: skip


@pytest.mark.parametrize("name", EXPORTED_ACTIVATIONS)
def test_keras_activation_names_match_onnxruntime(name, rng, tmp_path):
    # after a Dense layer and on 4-D images (the layout must be kept)
    last = None if name == "exponential" else name  # exp(exp(.)) overflows
    model = models.Sequential(
        [layers.Input((5, 5, 2)), layers.Conv2D(3, 3, activation=name),
         layers.Flatten(), layers.Dense(4, activation=last)]
    )  # fmt: skip
    x = rng.normal(scale=3.0, size=(3, 5, 5, 2)).astype(np.float32)
    _check(model, x, rng, tmp_path, atol=2e-5)


@pytest.mark.parametrize("name", ["glu", "sparsemax", "sparse_plus"])
def test_activations_without_an_onnx_form_raise_a_clear_error(name, tmp_path):
    model = models.Sequential([layers.Input((4,)), layers.Dense(4, activation=name)])
    with pytest.raises(Exception, match=f"activation '{name}'.*does not support"):
        numnet.onnx.export(model, tmp_path / "model.onnx")
