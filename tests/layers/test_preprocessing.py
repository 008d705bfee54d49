"""Preprocessing layers against Keras 3's documented behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import backend, layers, models
from numnet.data import DataLoader


def test_rescaling_maps_bytes_and_is_differentiable(rng):
    out = layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0, 255]], np.uint8))
    np.testing.assert_allclose(out.numpy(), [[-1.0, 1.0]])
    assert out.dtype == np.float32
    with backend.floatx_scope("float64"):
        layer = layers.Rescaling(0.5, offset=2.0)
        assert numnet.gradcheck(layer, [rng.normal(size=(2, 3))])


def test_normalization_keras_doc_example():
    # keras.io Normalization: adapt on [1..5] with axis=None
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_allclose(
        layer(np.array([1.0, 2.0, 3.0, 4.0, 5.0])).numpy(),
        [-1.4142135, -0.70710677, 0.0, 0.70710677, 1.4142135], rtol=1e-6,
    )  # fmt: skip


def test_normalization_per_feature_and_from_batches(rng):
    x = rng.normal(loc=[1.0, -5.0, 10.0], scale=[1.0, 2.0, 0.5], size=(100, 3))
    whole = layers.Normalization()
    whole.adapt(x)
    np.testing.assert_allclose(whole.mean.numpy()[0], x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(whole.variance.numpy()[0], x.var(0), rtol=1e-5)
    batched = layers.Normalization()
    batched.adapt(DataLoader((x, np.zeros(100)), batch_size=7))  # exact merge
    np.testing.assert_allclose(batched.variance.numpy(), whole.variance.numpy(),
                               rtol=1e-5)  # fmt: skip
    z = whole(x).numpy()
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    inverse = layers.Normalization(
        mean=whole.mean.numpy(), variance=whole.variance.numpy(), invert=True
    )
    np.testing.assert_allclose(inverse(z).numpy(), x, rtol=1e-4, atol=1e-4)


def test_normalization_of_image_channels(rng):
    images = rng.uniform(0, 255, size=(8, 4, 4, 3))
    norm = layers.Normalization(axis=-1)
    norm.adapt(images)
    assert norm.mean.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(norm.mean.numpy().ravel(), images.mean((0, 1, 2)),
                               rtol=1e-5)  # fmt: skip
    with pytest.raises(ValueError, match="both 'mean' and 'variance'"):
        layers.Normalization(mean=0.0)


def _images(rng, n=6, size=8):
    return rng.uniform(size=(n, size, size, 2)).astype(np.float32)


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.RandomFlip(seed=0),
        lambda: layers.RandomRotation(0.2, seed=0),
        lambda: layers.RandomZoom(0.3, seed=0),
        lambda: layers.RandomTranslation(0.2, 0.2, seed=0),
    ],
)
def test_random_layers_act_only_in_training(make, rng):
    layer, x = make(), _images(rng)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: identity
    y = layer(x, training=True).numpy()
    assert y.shape == x.shape and y.dtype == np.float32
    assert not np.allclose(y, x)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    np.testing.assert_array_equal(clone(x, training=True).numpy(), y)  # same seed


def test_random_flip_flips_whole_images(rng):
    x = _images(rng, n=32)
    y = layers.RandomFlip("horizontal", seed=1)(x, training=True).numpy()
    flipped = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    kept = np.all(y == x, axis=(1, 2, 3))
    assert np.all(flipped | kept) and flipped.any() and kept.any()


def test_random_rotation_factor_is_a_fraction_of_a_turn(rng):
    x = _images(rng, n=2)
    y = layers.RandomRotation((0.25, 0.25))(x, training=True).numpy()
    # a quarter turn, counter-clockwise for positive factors (Keras)
    np.testing.assert_allclose(y, np.rot90(x, 1, axes=(1, 2)), atol=1e-5)


def test_random_zoom_keras_sign_convention(rng):
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 3:6, 3:6] = 1.0  # a 3x3 square in the middle
    zoom_in = layers.RandomZoom((-0.5, -0.5), fill_mode="constant")
    zoom_out = layers.RandomZoom((1.0, 1.0), fill_mode="constant")
    area_in = zoom_in(x, training=True).numpy().sum()
    area_out = zoom_out(x, training=True).numpy().sum()
    assert area_in > 9 * 3 and area_out < 9  # negative zooms in, positive out


def test_random_translation_moves_content_down_right():
    x = np.zeros((1, 4, 4, 1), np.float32)
    x[0, 0, 0] = 1.0
    y = layers.RandomTranslation((0.25, 0.25), (0.5, 0.5), fill_mode="constant")(
        x, training=True
    ).numpy()
    assert y[0, 1, 2, 0] == pytest.approx(1.0)


def test_random_crop_trains_on_windows_and_resizes_at_inference(rng):
    x = _images(rng, n=5, size=8)
    crop = layers.RandomCrop(4, 4, seed=0)
    y = crop(x, training=True).numpy()
    assert y.shape == (5, 4, 4, 2)
    for img, win in zip(x, y, strict=True):  # each output is a window of its image
        views = np.lib.stride_tricks.sliding_window_view(img, (4, 4), axis=(0, 1))
        assert np.any(np.all(views == win.transpose(2, 0, 1), axis=(2, 3, 4)))
    # inference (Keras): the largest centred window of the target aspect ratio,
    # resized; halving with half-pixel centres averages 2x2 blocks
    blocks = x.reshape(5, 4, 2, 4, 2, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(crop(x).numpy(), blocks, rtol=1e-5)
    wide = _images(rng, n=1, size=8)[:, :, :6]  # 8x6 -> 4x4: centre 6x6 window
    np.testing.assert_allclose(layers.RandomCrop(3, 3)(wide).numpy(),
                               wide[:, 1:7].reshape(1, 3, 2, 3, 2, 2).mean((2, 4)),
                               rtol=1e-5)  # fmt: skip


def test_random_layers_need_channels_last_images():
    with pytest.raises(ValueError, match=r"channels-last.*x\[\.\.\., None\]"):
        layers.RandomFlip()(np.zeros((2, 28, 28)), training=True)


def test_augmentation_inside_a_model_trains_and_predicts_deterministically(rng):
    x = rng.uniform(0, 255, size=(16, 6, 6, 1)).astype(np.uint8)
    y = rng.integers(0, 2, 16)
    model = models.Sequential([
        layers.Input((6, 6, 1)),
        layers.Rescaling(1 / 255),
        layers.RandomFlip("horizontal", seed=0),
        layers.RandomRotation(0.05, seed=0),
        layers.Flatten(),
        layers.Dense(2),
    ])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  model.predict(x, verbose=0))  # fmt: skip


def test_a_model_with_preprocessing_layers_saves_and_loads(rng, tmp_path):
    model = models.Sequential([
        layers.Input((6, 6, 1)),
        layers.Rescaling(1 / 255),
        layers.Normalization(),
        layers.RandomFlip(seed=1),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1, (-0.2, 0.0)),
        layers.RandomTranslation(0.1, 0.1),
        layers.RandomCrop(4, 4),
        layers.Flatten(),
        layers.Dense(2),
    ])  # fmt: skip
    model.layers[1].adapt(rng.uniform(0, 1, size=(10, 6, 6, 1)))
    model.save(tmp_path / "m.npz")
    clone = models.load_model(tmp_path / "m.npz")
    x = rng.uniform(0, 255, size=(3, 6, 6, 1)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(clone.layers[1].variance.numpy(),
                                  model.layers[1].variance.numpy())  # fmt: skip
