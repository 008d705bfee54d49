"""Style transfer: Gram matrix, content/style costs, optimisation of the pixels."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import backend
from numnet.applications.style_transfer import (
    StyleTransfer,
    content_cost,
    extract_features,
    gram_matrix,
    run_style_transfer,
    style_cost,
    style_layer_cost,
    total_cost,
)


class TinyNet:
    """A fixed two-stage feature net: 1x1 conv, 2x2 mean pool, 1x1 conv (NHWC)."""

    def __init__(self, rng, dtype=np.float64):
        self.w1 = numnet.tensor(rng.normal(size=(3, 4)), dtype=dtype)
        self.w2 = numnet.tensor(rng.normal(size=(4, 5)) * 0.5, dtype=dtype)
        self.weights = [self.w1, self.w2]
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        a1 = F.tanh(F.linear(x, self.w1))
        n, h, w, c = a1.shape
        pooled = F.mean(F.reshape(a1, (n, h // 2, 2, w // 2, 2, c)), axis=(2, 4))
        return {"l1": a1, "l2": F.tanh(F.linear(pooled, self.w2))}


def test_gram_matrix_matches_numpy(rng):
    a = rng.normal(size=(2, 3, 4, 5))
    expected = np.einsum("nhwc,nhwd->ncd", a, a)
    np.testing.assert_allclose(gram_matrix(a).data, expected)
    np.testing.assert_allclose(gram_matrix(a[0]).data, expected[0])
    assert numnet.gradcheck(gram_matrix, [a])


def test_style_layer_cost_course_formula(rng):
    a_S, a_G = rng.normal(size=(1, 4, 3, 2)), rng.normal(size=(1, 4, 3, 2))
    unroll = lambda a: a.reshape(-1, 2).T  # noqa: E731 - (n_C, n_H n_W) as in the course
    g_S, g_G = unroll(a_S) @ unroll(a_S).T, unroll(a_G) @ unroll(a_G).T
    expected = np.sum((g_S - g_G) ** 2) / (4 * 2**2 * (4 * 3) ** 2)
    assert float(style_layer_cost(a_S, a_G).data) == pytest.approx(expected)
    assert numnet.gradcheck(style_layer_cost, [a_S, a_G])


def test_content_cost_course_formula(rng):
    a_C, a_G = rng.normal(size=(1, 3, 3, 4)), rng.normal(size=(1, 3, 3, 4))
    expected = np.sum((a_C - a_G) ** 2) / (4 * 3 * 3 * 4)
    assert float(content_cost(a_C, a_G).data) == pytest.approx(expected)
    assert numnet.gradcheck(content_cost, [a_C, a_G])


def test_style_cost_weights_layers_and_total(rng):
    s = [rng.normal(size=(1, 4, 4, 2)), rng.normal(size=(1, 2, 2, 3))]
    g = [rng.normal(size=(1, 4, 4, 2)), rng.normal(size=(1, 2, 2, 3))]
    per_layer = [float(style_layer_cost(a, b).data) for a, b in zip(s, g, strict=True)]
    got = float(style_cost(s, g, [0.3, 0.7]).data)
    assert got == pytest.approx(0.3 * per_layer[0] + 0.7 * per_layer[1])
    assert float(style_cost(s, g).data) == pytest.approx(np.mean(per_layer))
    assert numnet.gradcheck(lambda g0, g1: style_cost(s, [g0, g1], [0.3, 0.7]), g)
    j = total_cost(numnet.tensor(2.0), numnet.tensor(3.0), alpha=10, beta=40)
    assert float(j.data) == 140.0


def test_total_cost_gradcheck_wrt_input_pixels(rng):
    with backend.floatx_scope("float64"):
        net = TinyNet(rng)
        transfer = StyleTransfer(net, ["l1", "l2"], content_layer="l2")
        transfer.set_targets(rng.uniform(size=(4, 4, 3)), rng.uniform(size=(4, 4, 3)))
        pixels = rng.uniform(size=(1, 4, 4, 3))
        assert numnet.gradcheck(lambda x: transfer.cost(x)[0], [pixels])


def test_a_few_adam_steps_reduce_the_cost(rng):
    net = TinyNet(rng, dtype=np.float32)
    content, style = rng.uniform(size=(8, 8, 3)), rng.uniform(size=(8, 8, 3))
    frozen = [w.data.copy() for w in net.weights]
    image, history = run_style_transfer(
        net, ["l1", "l2"], content, style, content_layer="l2", alpha=1.0,
        beta=100.0, steps=30, learning_rate=0.05, noise_ratio=0.5, seed=0,
    )  # fmt: skip
    assert image.shape == (1, 8, 8, 3) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1  # clipped to the pixel range
    assert len(history["J"]) == 31
    assert history["J"][-1] < 0.5 * history["J"][0]
    assert history["J_style"][-1] < history["J_style"][0]
    for w, before in zip(net.weights, frozen, strict=True):
        np.testing.assert_array_equal(w.data, before)  # only pixels move
        assert w.grad is None


def test_extract_features_from_callables(rng):
    net = TinyNet(rng)
    x = rng.uniform(size=(1, 4, 4, 3))
    l2, l1 = extract_features(net, x, ["l2", "l1"])
    assert (l1.shape, l2.shape) == ((1, 4, 4, 4), (1, 2, 2, 5))
    listed = lambda t: [net(t)["l1"]]  # noqa: E731
    assert extract_features(listed, x, ["l1"])[0].shape == (1, 4, 4, 4)
    with pytest.raises(ValueError, match="no layer"):
        extract_features(net, x, ["conv9"])
    with pytest.raises(ValueError, match="1 outputs for 2 layer names"):
        extract_features(listed, x, ["a", "b"])


def test_bad_arguments(rng):
    with pytest.raises(ValueError, match="NHWC"):
        content_cost(np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same shape"):
        style_layer_cost(np.zeros((1, 2, 2, 3)), np.zeros((1, 2, 2, 4)))
    with pytest.raises(ValueError, match="style_layers"):
        StyleTransfer(TinyNet(rng), "l1")
    with pytest.raises(ValueError, match="style_weights"):
        StyleTransfer(TinyNet(rng), ["l1", "l2"], style_weights=[1.0])
    transfer = StyleTransfer(TinyNet(rng), ["l1"])
    with pytest.raises(RuntimeError, match="set_targets"):
        transfer.cost(np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="same shape"):
        transfer.set_targets(np.zeros((4, 4, 3)), np.zeros((6, 6, 3)))
    with pytest.raises(ValueError, match="argument 'content'"):
        transfer.set_targets(np.zeros((2, 4, 4, 3)), np.zeros((4, 4, 3)))


def test_sequential_feature_model_gradcheck_and_restored_state(rng):
    from numnet import layers
    from numnet.models import Sequential

    with backend.floatx_scope("float64"):
        model = Sequential([
            layers.Conv2D(2, 3, padding="same", activation="tanh", name="c1",
                          input_shape=(6, 6, 1)),
            layers.Conv2D(3, 3, activation="tanh", name="c2"),
            layers.Flatten(),
            layers.Dense(2),
        ])  # fmt: skip
        transfer = StyleTransfer(model, ["c1", "c2"], content_layer="c2")
        transfer.set_targets(rng.uniform(size=(6, 6, 1)), rng.uniform(size=(6, 6, 1)))
        c1, c2 = extract_features(model, rng.uniform(size=(1, 6, 6, 1)), ["c1", "c2"])
        assert (c1.shape, c2.shape) == ((1, 6, 6, 2), (1, 4, 4, 3))
        pixels = rng.uniform(size=(1, 6, 6, 1))
        assert numnet.gradcheck(lambda x: transfer.cost(x)[0], [pixels])
    model.train()
    transfer.run(rng.uniform(size=(6, 6, 1)), rng.uniform(size=(6, 6, 1)), steps=2)
    assert model.training and all(w.requires_grad for w in model.trainable_weights)
