"""Receptive fields, top activating patches and saliency maps."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import layers, models
from numnet.vision import receptive_field, saliency_map, top_activating_patches


def _chain():
    return models.Sequential(
        [
            layers.Input((16, 16, 1)),
            layers.Conv2D(2, 3, name="c1"),
            layers.MaxPooling2D(2, name="p1"),
            layers.Conv2D(2, 3, padding="same", name="c2"),
            layers.ZeroPadding2D(1, name="pad"),
            layers.Conv2D(2, 3, strides=2, name="c3"),
        ]
    )


def test_receptive_field_by_hand():
    model = _chain()
    assert receptive_field(model, "c1", (16, 16)) == ((3, 3), (1, 1), (0, 0))
    assert receptive_field(model, "p1", (16, 16)) == ((4, 4), (2, 2), (0, 0))
    # "same" 3x3 pads one pixel of the pooled map, i.e. 2 input pixels
    assert receptive_field(model, "c2", (16, 16)) == ((8, 8), (2, 2), (-2, -2))
    assert receptive_field(model, "c3", (16, 16)) == ((12, 12), (4, 4), (-4, -4))
    with pytest.raises(ValueError, match="no layer"):
        receptive_field(model, "nope", (16, 16))


@pytest.mark.parametrize("name", ["c1", "p1", "c2", "c3"])
def test_receptive_field_contains_the_gradient_support(rng, name):
    # Every input pixel that moves the unit lies inside its predicted window.
    model = _chain()
    stack = []
    for layer in model.layers:
        stack.append(layer)
        if layer.name == name:
            break
    x = numnet.tensor(rng.uniform(size=(1, 16, 16, 1)), requires_grad=True)
    h = x
    for layer in stack:
        h = layer(h)
    i, j = h.shape[1] // 2, h.shape[2] // 2
    pick = np.zeros(h.shape, dtype=h.dtype)
    pick[0, i, j, 0] = 1.0
    (h * pick).sum().backward()
    support = np.argwhere(np.abs(x.grad[0, ..., 0]) > 0)
    size, stride, offset = receptive_field(model, name, (16, 16))
    top, left = i * stride[0] + offset[0], j * stride[1] + offset[1]
    assert support.size
    assert support[:, 0].min() >= top and support[:, 0].max() < top + size[0]
    assert support[:, 1].min() >= left and support[:, 1].max() < left + size[1]


def test_top_patches_find_the_brightest_blocks():
    images = np.zeros((5, 10, 10, 1), "float32")
    for n, (r, c) in enumerate([(0, 0), (2, 5), (6, 1), (4, 4), (7, 7)]):
        images[n, r : r + 3, c : c + 3] = n + 1.0  # image n has intensity n + 1
    model = models.Sequential(
        [layers.Input((10, 10, 1)), layers.Conv2D(1, 3, use_bias=False, name="c")]
    )
    model.layers[0].kernel.data[:] = 1.0
    patches, values, where = top_activating_patches(model, "c", 0, images, k=3)
    assert patches.shape == (3, 3, 3, 1)
    np.testing.assert_array_equal(where, [[4, 7, 7], [3, 4, 4], [2, 6, 1]])
    np.testing.assert_allclose(values, [45.0, 36.0, 27.0])
    np.testing.assert_allclose(patches[0, ..., 0], np.full((3, 3), 5.0))
    with pytest.raises(ValueError, match="unit"):
        top_activating_patches(model, "c", 3, images)


def test_saliency_of_a_linear_model_is_its_weights(rng):
    model = models.Sequential(
        [
            layers.Input((4, 4, 2)),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", name="d"),
        ]
    )
    x = rng.uniform(size=(2, 4, 4, 2)).astype("float32")
    s = saliency_map(model, x, [1, 2])
    w = model.layers[1].kernel.data.reshape(4, 4, 2, 3)
    np.testing.assert_allclose(s[0], np.abs(w[..., 1]).max(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(s[1], np.abs(w[..., 2]).max(axis=-1), rtol=1e-6)


def test_several_units_in_one_pass(rng):
    model = _chain()
    images = rng.uniform(size=(6, 16, 16, 1)).astype("float32")
    both = top_activating_patches(model, "c2", [0, 1], images, k=4)
    one = top_activating_patches(model, "c2", 1, images, k=4)
    assert len(both) == 2 and both[1][0].shape == (4, 8, 8, 1)
    np.testing.assert_array_equal(both[1][2], one[2])
