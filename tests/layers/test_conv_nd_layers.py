"""Conv1D, Conv3D and the 1-D/3-D pooling and upsampling layers."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

from numnet import layers, models


def _distinct(shape):
    def make(rng):
        values = rng.permutation(np.arange(np.prod(shape), dtype=np.float64))
        return values.reshape(shape) / np.prod(shape)

    return make


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_layer(padding):
    out_w = 4 if padding == "valid" else 6
    layer = run_layer_test(
        lambda: layers.Conv1D(4, 3, padding=padding, activation="tanh"),
        input_shape=(2, 6, 3),
        expected_output_shape=(2, out_w, 4),
        expected_trainable_params=3 * 3 * 4 + 4,
    )
    assert layer.kernel.shape == (3, 3, 4)


def test_conv1d_strided_dilated():
    run_layer_test(
        lambda: layers.Conv1D(2, 2, strides=2, dilation_rate=1, use_bias=False),
        input_shape=(2, 7, 3),
        expected_output_shape=(2, 3, 2),
        expected_trainable_params=12,
    )
    run_layer_test(
        lambda: layers.Conv1D(2, 3, dilation_rate=2, padding="causal"),
        input_shape=(2, 7, 3),
        expected_output_shape=(2, 7, 2),
    )


def test_conv3d_layer():
    layer = run_layer_test(
        lambda: layers.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), padding="same"),
        input_shape=(2, 3, 4, 3, 2),
        expected_output_shape=(2, 3, 2, 3, 3),
        expected_trainable_params=2 * 3 * 2 * 2 * 3 + 3,
    )
    assert layer.kernel.shape == (2, 3, 2, 2, 3)


@pytest.mark.parametrize(
    "factory,shape,out",
    [
        (lambda: layers.MaxPooling1D(2), (2, 7, 3), (2, 3, 3)),
        (lambda: layers.AveragePooling1D(3, 2, padding="same"), (2, 7, 3), (2, 4, 3)),
        (lambda: layers.MaxPooling3D((2, 2, 1)), (2, 4, 4, 3, 2), (2, 2, 2, 3, 2)),
        (
            lambda: layers.AveragePooling3D(2, padding="same"),
            (1, 3, 4, 5, 2),
            (1, 2, 2, 3, 2),
        ),
        (lambda: layers.GlobalAveragePooling1D(), (2, 5, 3), (2, 3)),
        (lambda: layers.GlobalMaxPooling1D(keepdims=True), (2, 5, 3), (2, 1, 3)),
        (lambda: layers.UpSampling1D(3), (2, 4, 3), (2, 12, 3)),
    ],
)
def test_pooling_layers(factory, shape, out):
    run_layer_test(
        factory, input_shape=shape, expected_output_shape=out, input_fn=_distinct(shape)
    )


def test_global_average_pooling_1d_honours_the_mask(rng):
    tokens = np.array([[3, 4, 0, 0], [1, 2, 5, 0]])
    emb = layers.Embedding(6, 3, mask_zero=True)
    x = emb(tokens)
    y = layers.GlobalAveragePooling1D()(x).data
    vectors = emb.embeddings.data[tokens]
    np.testing.assert_allclose(y[0], vectors[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(y[1], vectors[1, :3].mean(0), rtol=1e-6)


def test_bad_arguments_name_layer_and_argument():
    with pytest.raises(ValueError, match="Conv3D.*padding"):
        layers.Conv3D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="Conv1D.*kernel_size"):
        layers.Conv1D(2, (3, 3))
    with pytest.raises(ValueError, match="conv1d_bad.*cannot process"):
        layers.Conv1D(2, 5, name="conv1d_bad")(np.zeros((1, 3, 2), np.float32))
    with pytest.raises(ValueError, match="smaller than pool_size"):
        layers.MaxPooling3D(3)(np.zeros((1, 2, 4, 4, 1), np.float32))


def test_sequential_conv1d_model_trains(rng, tmp_path):
    model = models.Sequential(
        [
            layers.Input((12, 2)),
            layers.Conv1D(4, 3, padding="causal", activation="relu"),
            layers.MaxPooling1D(2),
            layers.Conv1D(4, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1),
        ]
    )
    x = rng.normal(size=(32, 12, 2)).astype(np.float32)
    y = x[:, :, :1].sum(1)
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "c1d.npz")
    again = models.load_model(tmp_path / "c1d.npz")
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5)


def test_every_new_layer_saves_and_loads(rng, tmp_path):
    volume = layers.Input((4, 6, 6, 2))
    v = layers.Conv3D(3, 2, padding="same", activation="relu")(volume)
    v = layers.MaxPooling3D(2)(v)
    v = layers.AveragePooling3D((2, 1, 1), padding="same")(v)
    v = layers.Reshape((9, 3))(v)
    seq = layers.Input((8, 3))
    s = layers.Conv1D(3, 3, padding="causal")(seq)
    s = layers.AveragePooling1D(2)(s)
    s = layers.UpSampling1D(2)(s)
    s = layers.MaxPooling1D(2, padding="same")(s)
    s = layers.Permute((2, 1))(layers.Permute((2, 1))(s))
    t = layers.Concatenate(axis=1)([v, s])
    t = layers.MultiHeadAttention(2, 2)(t, t)
    t = layers.Attention()([t, t])
    pooled = layers.GlobalMaxPooling1D()(layers.AdditiveAttention()([t, t]))
    out = layers.RepeatVector(2)(layers.GlobalAveragePooling1D()(t))
    model = models.Model([volume, seq], [layers.Flatten()(out), pooled])
    data = [rng.normal(size=(2, 4, 6, 6, 2)), rng.normal(size=(2, 8, 3))]
    path = tmp_path / "all_layers.npz"
    model.save(path)
    loaded = models.load_model(path)
    for a, b in zip(loaded.predict(data), model.predict(data), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
