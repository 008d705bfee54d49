"""Geometry, fill modes, seeding and batch vectorization of numnet.data.augment."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.data.augment import (
    ChannelShift,
    Compose,
    ImageDataGenerator,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    warp_affine,
)
from numnet.data.geometric import translation_matrices

# A 5x5 arrow pointing right: a shaft on row 2 and a head at column 4.
ARROW = np.array(
    [
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [1, 1, 1, 1, 1],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 1, 0],
    ],
    dtype=np.float32,
)[None, :, :, None]

NUMPY_PAD = {"nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def test_flipped_arrow_points_the_other_way():
    flip = RandomFlip("horizontal")
    out = flip.apply(ARROW, np.array([[True, False]]))
    np.testing.assert_array_equal(out, ARROW[:, :, ::-1])
    # The head moved from the right edge (column 4) to the left edge (column 0).
    assert ARROW[0, 1, 4, 0] == 1 and out[0, 1, 0, 0] == 1 and out[0, 1, 4, 0] == 0
    assert out[0, 2].sum() == ARROW[0, 2].sum()  # the shaft is intact


def test_vertical_flip_turns_an_up_arrow_down():
    up = np.rot90(ARROW, k=1, axes=(1, 2))  # counter-clockwise: now points up
    assert up[0, 0, 1:4, 0].all() and up[0, 1, 0, 0] == 1  # head at the top
    down = RandomFlip("vertical").apply(up, np.array([[False, True]]))
    assert down[0, 4, 1:4, 0].all() and down[0, 3, 0, 0] == 1  # head at the bottom
    np.testing.assert_array_equal(down, up[:, ::-1])


def test_random_flip_flips_about_half_of_the_batch():
    x = np.repeat(ARROW, 400, axis=0)
    out = RandomFlip("horizontal", seed=0)(x)
    flipped = (out == ARROW[:, :, ::-1]).all(axis=(1, 2, 3))
    kept = (out == ARROW).all(axis=(1, 2, 3))
    assert (flipped | kept).all()
    assert 150 < flipped.sum() < 250


@pytest.mark.parametrize("size", [4, 5, 28])
@pytest.mark.parametrize("degrees, k", [(90, 1), (-90, -1), (180, 2)])
def test_rotation_matches_rot90(rng, size, degrees, k):
    x = rng.random((3, size, size, 2)).astype(np.float32)
    out = RandomRotation((degrees, degrees))(x)
    # Float round-off in cos(90°) ~ 6e-17 moves a sample point by ~1e-15 px.
    np.testing.assert_allclose(out, np.rot90(x, k=k, axes=(1, 2)), atol=1e-5)


def test_rotation_turns_the_arrow_counter_clockwise():
    out = RandomRotation((90, 90), interpolation="nearest")(ARROW)
    assert out[0, 0, 2, 0] == 1 and out[0, 4, 2, 0] == 1  # shaft is vertical
    assert out[0, 0, 1:4, 0].all() and out[0, 1, 0, 0] == 1  # head now at the top
    assert out[0, 4, 1:4, 0].sum() == 1  # the tail end is just the shaft


@pytest.mark.parametrize("dy, dx", [(2, -1), (-3, 2), (0, 4)])
def test_translation_moves_a_pixel_by_the_shift(dy, dx):
    x = np.zeros((1, 9, 8, 1), np.float32)
    x[0, 4, 3, 0] = 1.0
    shift = RandomTranslation((dy, dy), (dx, dx), unit="pixel", fill_mode="constant")
    out = shift(x)
    assert out[0, 4 + dy, 3 + dx, 0] == pytest.approx(1.0)
    assert out.sum() == pytest.approx(1.0)


def test_translation_fraction_is_relative_to_the_size():
    x = np.zeros((1, 8, 10, 1), np.float32)
    x[0, 1, 1, 0] = 1.0
    out = RandomTranslation((0.25, 0.25), (0.5, 0.5), fill_mode="constant")(x)
    assert out[0, 1 + 2, 1 + 5, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "wrap", "constant"])
def test_fill_modes_of_a_shift_match_numpy_pad(rng, fill_mode):
    x = rng.random((2, 6, 7, 3)).astype(np.float32)
    shift = RandomTranslation((2, 2), (-3, -3), "pixel", fill_mode=fill_mode, cval=0.5)
    padded = np.pad(
        x,
        ((0, 0), (2, 0), (0, 3), (0, 0)),
        NUMPY_PAD.get(fill_mode, "constant"),
        **({"constant_values": 0.5} if fill_mode == "constant" else {}),
    )
    np.testing.assert_allclose(shift(x), padded[:, :6, 3:], atol=1e-6)


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "wrap", "constant"])
def test_random_crop_padding_uses_the_fill_mode(rng, fill_mode):
    x = rng.random((4, 5, 5, 2)).astype(np.float32)
    crop = RandomCrop(5, 5, padding=2, fill_mode=fill_mode, cval=-1.0)
    offsets = np.array([[0, 0], [4, 4], [2, 2], [1, 3]])
    out = crop.apply(x, offsets)
    padded = np.pad(
        x,
        ((0, 0), (2, 2), (2, 2), (0, 0)),
        NUMPY_PAD.get(fill_mode, "constant"),
        **({"constant_values": -1.0} if fill_mode == "constant" else {}),
    )
    for i, (oy, ox) in enumerate(offsets):
        np.testing.assert_array_equal(out[i], padded[i, oy : oy + 5, ox : ox + 5])
    np.testing.assert_array_equal(out[2], x[2])  # centred window = identity


def test_random_crop_to_a_smaller_size(rng):
    x = rng.random((6, 8, 9, 1)).astype(np.float32)
    out = RandomCrop(5, 4, seed=0)(x)
    assert out.shape == (6, 5, 4, 1)


def test_zoom_magnifies_about_the_centre():
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 5, 6, 0] = 1.0  # centred coordinates (1, 2)
    out = RandomZoom((2, 2), interpolation="nearest", fill_mode="constant")(x)
    # With factor 2, output (r, c) reads input (r/2, c/2): (2, 4) reads (1, 2).
    assert out[0, 4 + 2, 4 + 4, 0] == 1.0
    assert out[0, 4, 4, 0] == 0.0


def test_shear_tilts_a_vertical_line_counter_clockwise():
    x = np.zeros((1, 7, 7, 1), np.float32)
    x[0, :, 3, 0] = 1.0  # vertical line through the centre
    out = RandomShear((45, 45), interpolation="nearest", fill_mode="constant")(x)
    # tan(45°) = 1: the row at centred height r is moved by r columns.
    rows, cols = np.nonzero(out[0, :, :, 0])
    np.testing.assert_array_equal(cols - 3, rows - 3)
    assert out[0, 0, 0, 0] == 1.0  # the top went left: counter-clockwise


def test_identity_warp_is_exact(rng):
    x = rng.random((3, 5, 6, 2)).astype(np.float32)
    out = warp_affine(x, np.tile(np.eye(3), (3, 1, 1)))
    np.testing.assert_allclose(out, x, atol=1e-6)
    assert out.dtype == np.float32


ALL_TRANSFORMS = [
    RandomFlip("horizontal_and_vertical"),
    RandomCrop(6, 6, padding=2, fill_mode="reflect"),
    RandomTranslation(0.2, 0.3, fill_mode="wrap"),
    RandomRotation(30, fill_mode="constant", cval=0.2),
    RandomZoom(0.3, independent=True),
    RandomShear(20, fill_mode="reflect"),
    RandomBrightness((0.5, 1.5)),
    RandomContrast(0.5),
    ChannelShift(0.2),
]


@pytest.mark.parametrize("transform", ALL_TRANSFORMS, ids=lambda t: type(t).__name__)
def test_batch_equals_each_image_with_its_own_parameters(rng, transform):
    x = rng.random((5, 6, 6, 3)).astype(np.float32)
    params = transform.get_params(x.shape, np.random.default_rng(7))
    batch = transform.apply(x, params)
    singles = [transform.apply(x[i : i + 1], params[i : i + 1]) for i in range(5)]
    np.testing.assert_allclose(batch, np.concatenate(singles), atol=1e-6)
    assert batch.dtype == np.float32
    # Parameters differ between images: the images are not all transformed alike.
    assert len(np.unique(params.reshape(5, -1), axis=0)) > 1


@pytest.mark.parametrize("transform", ALL_TRANSFORMS, ids=lambda t: type(t).__name__)
def test_same_seed_same_output(rng, transform):
    x = rng.random((4, 6, 6, 3)).astype(np.float32)
    first = transform(x, rng=np.random.default_rng(3))
    again = transform(x, rng=np.random.default_rng(3))
    other = transform(x, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_seed_argument_and_manual_seed_reproduce(rng):
    x = rng.random((4, 8, 8, 1)).astype(np.float32)
    a = RandomRotation(20, seed=5)(x)
    np.testing.assert_array_equal(a, RandomRotation(20, seed=5)(x))
    numnet.manual_seed(11)
    b = RandomRotation(20)(x)
    numnet.manual_seed(11)
    np.testing.assert_array_equal(b, RandomRotation(20)(x))


def test_compose_fuses_affine_transforms_into_one_resampling(rng):
    x = rng.random((2, 6, 6, 1)).astype(np.float32)
    quarter = RandomRotation((90, 90))
    shift = RandomTranslation((1, 1), (2, 2), unit="pixel", fill_mode="wrap")
    composed = Compose([quarter, quarter, shift])
    assert len(composed._steps) == 2  # wrap differs from nearest: two groups
    expected = np.roll(np.rot90(x, 2, axes=(1, 2)), (1, 2), axis=(1, 2))
    np.testing.assert_allclose(composed(x), expected, atol=1e-5)
    fused = Compose([quarter, RandomTranslation((1, 1), (0, 0), unit="pixel")])
    assert len(fused._steps) == 1


def test_fused_matrices_equal_the_sequential_composition(rng):
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 4, 6, 0] = 1.0  # centred (0, 2)
    # Rotate by 90° (to centred (-2, 0)), then shift down by 3: (1, 0) -> (5, 4).
    out = Compose(
        [
            RandomRotation((90, 90), fill_mode="constant"),
            RandomTranslation((3, 3), (0, 0), "pixel", fill_mode="constant"),
        ]
    )(x)
    assert out[0, 5, 4, 0] == pytest.approx(1.0)
    m = translation_matrices(np.array([3.0]), np.array([0.0]))
    np.testing.assert_allclose(m[0, :2, 2], [-3.0, 0.0])


def test_photometric_values():
    x = np.array([0.0, 0.2, 0.4, 0.6], np.float32).reshape(1, 2, 2, 1)
    np.testing.assert_allclose(RandomBrightness((2, 2))(x), 2 * x)
    np.testing.assert_allclose(RandomContrast((0, 0))(x), np.full_like(x, 0.3))
    np.testing.assert_allclose(RandomContrast((1, 1))(x), x, atol=1e-7)
    shifted = ChannelShift(0.5).apply(x, np.array([[0.1]]))
    np.testing.assert_allclose(shifted, np.clip(x + 0.1, 0.0, 0.6))


def test_channel_shift_draws_per_channel(rng):
    x = rng.random((3, 4, 4, 3)).astype(np.float32)
    assert ChannelShift(0.3).get_params(x.shape, rng).shape == (3, 3)


def test_integer_images_become_float():
    x = np.full((2, 4, 4, 1), 200, np.uint8)
    out = RandomRotation(10, seed=0)(x)
    assert out.dtype == np.float32 and np.allclose(out, 200)


def test_image_data_generator_flips_and_rescales(rng):
    x = rng.integers(0, 255, (50, 6, 6, 1)).astype(np.float32)
    gen = ImageDataGenerator(horizontal_flip=True, rescale=1 / 255, seed=0)
    out = gen(x)
    mirrored = np.isclose(out, x[:, :, ::-1] / 255).all(axis=(1, 2, 3))
    same = np.isclose(out, x / 255).all(axis=(1, 2, 3))
    assert (mirrored | same).all() and mirrored.any() and same.any()


def test_image_data_generator_pixel_shift_is_bounded():
    x = np.zeros((64, 11, 11, 1), np.float32)
    x[:, 5, 5, 0] = 1.0
    gen = ImageDataGenerator(width_shift_range=2.0, interpolation="nearest", seed=1)
    out = gen(x)
    rows, cols = np.nonzero(out[:, :, :, 0])[1:]
    assert (rows == 5).all() and (np.abs(cols - 5) <= 2).all()
    assert len(np.unique(cols)) > 2


def test_image_data_generator_all_knobs_run_and_flow(rng):
    x = rng.random((10, 8, 8, 3)).astype(np.float32)
    gen = ImageDataGenerator(
        rotation_range=15,
        width_shift_range=0.1,
        height_shift_range=0.1,
        shear_range=10,
        zoom_range=0.1,
        horizontal_flip=True,
        vertical_flip=True,
        fill_mode="reflect",
        brightness_range=(0.8, 1.2),
        channel_shift_range=0.1,
        seed=0,
    )
    assert len(gen._steps) == 4  # affine group, flip, channel shift, brightness
    batches = list(gen.flow(x, np.arange(10), batch_size=4, seed=0))
    assert [b[0].shape for b in batches] == [(4, 8, 8, 3)] * 2 + [(2, 8, 8, 3)]
    assert all(np.isfinite(b[0]).all() for b in batches)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: RandomFlip("diagonal"), "mode"),
        (lambda: RandomRotation(10, fill_mode="mirror"), "fill_mode"),
        (lambda: RandomRotation((10, -10)), "degrees"),
        (lambda: RandomZoom(1.5), "zoom_range"),
        (lambda: RandomShear(90), "degrees"),
        (lambda: RandomCrop(0, 5), "height"),
        (lambda: RandomTranslation(0.1, 0.1, unit="cm"), "unit"),
    ],
)
def test_bad_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_batch_input_is_rejected():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\).*x.shape=\(5, 5\)"):
        RandomFlip()(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(8, 8)(np.zeros((1, 5, 5, 1)))
