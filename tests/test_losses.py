"""Losses: Keras reference values, gradchecks, stable fused paths, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import layers, losses
from numnet.autograd import strict_dtypes

# The examples of the Keras documentation, with their printed results.
KERAS_EXAMPLES = [
    (
        losses.MeanSquaredError(),
        [[0.0, 1.0], [0.0, 0.0]],
        [[1.0, 1.0], [1.0, 0.0]],
        0.5,
    ),
    (
        losses.MeanAbsoluteError(),
        [[0.0, 1.0], [0.0, 0.0]],
        [[1.0, 1.0], [1.0, 0.0]],
        0.5,
    ),
    (losses.BinaryCrossentropy(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.815),
    (
        losses.CategoricalCrossentropy(),
        [[0, 1, 0], [0, 0, 1]],
        [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        1.177,
    ),
    (
        losses.SparseCategoricalCrossentropy(),
        [1, 2],
        [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        1.177,
    ),
    (losses.Huber(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.155),
]


@pytest.mark.parametrize("loss, y_true, y_pred, expected", KERAS_EXAMPLES)
def test_keras_documentation_values(loss, y_true, y_pred, expected):
    value = loss(np.array(y_true), np.array(y_pred, np.float32))
    assert value.shape == () and value.dtype == np.float32
    assert value.item() == pytest.approx(expected, abs=1e-3)


def _reference(name, t, p, delta=1.0):
    """NumPy per-sample references (mean over the last axis)."""
    if name == "mse":
        return ((p - t) ** 2).mean(-1)
    if name == "mae":
        return np.abs(p - t).mean(-1)
    if name == "huber":
        e = np.abs(p - t)
        return np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)).mean(-1)
    if name == "bce":
        return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)
    return -(t * np.log(p)).sum(-1)  # cce


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "bce", "cce"])
def test_losses_match_numpy_and_gradcheck(rng, name):
    if name == "cce":
        t, p = rng.dirichlet(np.ones(4), 5), rng.dirichlet(np.ones(4), 5)
        loss = losses.CategoricalCrossentropy()
    else:
        t, p = rng.uniform(0.05, 0.95, (5, 4)), rng.uniform(0.05, 0.95, (5, 4))
        loss = losses.get({"bce": "binary_crossentropy"}.get(name, name))
    if name == "huber":
        p = p * 3  # errors on both sides of delta, away from the kink
    expected = _reference(name, t, p).mean()
    assert loss(t, p).item() == pytest.approx(expected, rel=1e-10)
    assert numnet.gradcheck(lambda q: loss(t, q), [p])


def test_from_logits_equals_probability_form(rng):
    z = rng.normal(size=(6, 5))
    labels = rng.integers(0, 5, 6)
    one_hot = np.eye(5)[labels]
    p = F.softmax(numnet.tensor(z, dtype=np.float64)).data
    for loss, target in (
        (losses.CategoricalCrossentropy, one_hot),
        (losses.SparseCategoricalCrossentropy, labels),
    ):
        assert loss(from_logits=True)(target, z).item() == pytest.approx(
            loss()(target, p).item(), rel=1e-9
        )
    t = rng.integers(0, 2, (6, 5)).astype(float)
    s = 1 / (1 + np.exp(-z))
    bce = losses.BinaryCrossentropy
    assert bce(from_logits=True)(t, z).item() == pytest.approx(bce()(t, s).item())
    for loss in (
        losses.CategoricalCrossentropy(from_logits=True),
        losses.BinaryCrossentropy(from_logits=True),
    ):
        target = one_hot if isinstance(loss, losses.CategoricalCrossentropy) else t
        assert numnet.gradcheck(
            lambda q, loss=loss, target=target: loss(target, q), [z]
        )


def _saturated_dense(activation, units):
    layer = layers.Dense(units, activation=activation)
    x = np.array([[1.0, -1.0], [-1.0, 1.0]], np.float32)
    layer(x)
    layer.set_weights(
        [np.array([[400.0, -400.0, 0][:units]] * 2) * [[1], [-1]], np.zeros(units)]
    )
    return layer, x


@pytest.mark.parametrize(
    "activation, units, loss, y_true",
    [
        ("softmax", 3, losses.CategoricalCrossentropy(), np.eye(3)[[1, 0]]),
        ("softmax", 3, losses.SparseCategoricalCrossentropy(), np.array([1, 0])),
        ("sigmoid", 2, losses.BinaryCrossentropy(), np.array([[0.0, 1.0], [1.0, 1.0]])),
    ],
)
def test_saturated_output_uses_the_fused_logits_path(activation, units, loss, y_true):
    layer, x = _saturated_dense(activation, units)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = layer(x)
        probs = y.data
        assert np.any(probs == 0) or np.any(probs == 1)  # saturated in float32
        value = loss(y_true, y)
        value.backward()
    assert np.isfinite(value.item()) and value.item() > 100  # exact, not clipped at 16
    from_logits = type(loss)(from_logits=True)(y_true, y._logits.data)
    assert value.item() == pytest.approx(from_logits.item(), rel=1e-6)
    assert all(np.all(np.isfinite(w.grad)) for w in layer.trainable_weights)
    assert np.abs(layer.kernel.grad).max() > 0


def test_probabilities_without_logits_are_clipped_like_keras():
    p = numnet.tensor([[1.0, 0.0, 0.0]], requires_grad=True)  # no _logits attached
    for loss, target in (
        (losses.CategoricalCrossentropy(), [[0.0, 1.0, 0.0]]),
        (losses.SparseCategoricalCrossentropy(), [1]),
        (losses.BinaryCrossentropy(), [[0.0, 1.0, 1.0]]),
    ):
        p.grad = None
        value = loss(np.array(target), p)
        value.backward()
        assert np.isfinite(value.item()) and np.all(np.isfinite(p.grad))
    assert losses.CategoricalCrossentropy()(np.array([[0.0, 1.0, 0.0]]), p).item() == (
        pytest.approx(-np.log(1e-7), rel=1e-3)
    )


def test_softmax_over_other_axis_is_not_fused(rng):
    z = rng.normal(size=(2, 3, 4))
    y = F.softmax(numnet.tensor(z, dtype=np.float64), axis=1)
    y._logits, y._logits_activation = numnet.tensor(z), "softmax"
    t = np.eye(3)[rng.integers(0, 3, (2, 4))].transpose(0, 2, 1)
    loss = losses.CategoricalCrossentropy(axis=1)
    expected = -(t * np.log(y.data)).sum(axis=1).mean()
    assert loss(t, y).item() == pytest.approx(expected)


def test_sample_weight_and_reductions(rng):
    t, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    per_sample = ((p - t) ** 2).mean(-1)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    mse = losses.MeanSquaredError()
    assert mse(t, p, sample_weight=w).item() == pytest.approx(
        (per_sample * w).sum() / 4
    )
    assert mse(t, p, sample_weight=w[:, None]).item() == pytest.approx(
        (per_sample * w).sum() / 4
    )
    total = losses.MeanSquaredError(reduction="sum")(t, p)
    assert total.item() == pytest.approx(per_sample.sum())
    none = losses.MeanSquaredError(reduction="none")(t, p)
    np.testing.assert_allclose(none.data, per_sample)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        mse(t, p, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"'reduction'.*reduction='avg'"):
        losses.MeanSquaredError(reduction="avg")


def test_targets_of_rank_one_are_not_broadcast_against_column_predictions(rng):
    t, p = rng.normal(size=5), rng.normal(size=(5, 1))
    assert losses.MeanSquaredError()(t, p).item() == pytest.approx(
        ((p[:, 0] - t) ** 2).mean()
    )
    labels = rng.integers(0, 2, 5)
    probs = rng.uniform(0.1, 0.9, (5, 1))
    expected = -(labels * np.log(probs[:, 0]) + (1 - labels) * np.log(1 - probs[:, 0]))
    assert losses.BinaryCrossentropy()(labels, probs).item() == pytest.approx(
        expected.mean()
    )
    with pytest.raises(
        ValueError, match=r"y_true.shape=\(5, 2\), y_pred.shape=\(5, 1\)"
    ):
        losses.MeanSquaredError()(np.zeros((5, 2)), p)


def test_sparse_labels_shapes_and_errors(rng):
    z = rng.normal(size=(4, 3))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    labels = np.array([0, 2, 1, 2])
    base = loss(labels, z).item()
    assert loss(labels[:, None], z).item() == pytest.approx(base)
    assert loss(labels.astype(np.float32), z).item() == pytest.approx(base)
    seq = rng.normal(size=(2, 5, 3))
    seq_labels = rng.integers(0, 3, (2, 5))
    expected = F.sparse_softmax_cross_entropy(seq, seq_labels).data.mean()
    assert loss(seq_labels, seq).item() == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"label value of 3 .*\[0, 3\)"):
        loss(np.array([0, 1, 2, 3]), z)
    with pytest.raises(ValueError, match=r"label value of 5"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 5]), F.softmax(z))
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 3\)"):
        loss(np.eye(3)[labels], z)  # one-hot given to the sparse loss


def test_label_smoothing(rng):
    z = rng.normal(size=(3, 4))
    t = np.eye(4)[[0, 1, 3]]
    smooth = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    expected = losses.CategoricalCrossentropy(from_logits=True)(t * 0.8 + 0.05, z)
    assert smooth(t, z).item() == pytest.approx(expected.item())
    bce = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)
    expected = losses.BinaryCrossentropy(from_logits=True)(t * 0.8 + 0.1, z)
    assert bce(t, z).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)


def test_huber_delta(rng):
    t, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) * 3
    expected = _reference("huber", t, p, delta=0.5).mean()
    assert losses.Huber(delta=0.5)(t, p).item() == pytest.approx(expected)
    assert losses.huber(t, p, delta=0.5).shape == (4,)
    with pytest.raises(ValueError, match=r"Huber: .*'delta'.*delta=0"):
        losses.Huber(delta=0)


def test_float32_predictions_stay_float32_with_float64_targets(rng):
    y = numnet.tensor(rng.uniform(0.1, 0.9, (4, 3)), requires_grad=True)
    t = rng.uniform(size=(4, 3))  # float64 ndarray
    for name in (
        "mse",
        "mae",
        "huber",
        "binary_crossentropy",
        "categorical_crossentropy",
    ):
        y.grad = None
        with strict_dtypes():
            value = losses.get(name)(t, y, sample_weight=np.ones(4))
            value.backward()
        assert value.dtype == y.grad.dtype == np.float32, name


@pytest.mark.parametrize(
    "name, cls",
    [
        ("mse", losses.MeanSquaredError),
        ("mean_squared_error", losses.MeanSquaredError),
        ("mae", losses.MeanAbsoluteError),
        ("huber", losses.Huber),
        ("binary_crossentropy", losses.BinaryCrossentropy),
        ("categorical_crossentropy", losses.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
        ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ],
)
def test_get_resolves_keras_names(name, cls):
    assert type(losses.get(name)) is cls


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError,
        match=r"'mse'.*'sparse_categorical_crossentropy'.*"
        r"loss='msq'",
    ):
        losses.get("msq")
    with pytest.raises(ValueError, match="loss=3"):
        losses.get(3)


def test_config_round_trip_and_custom_functions(rng):
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    text = json.dumps(losses.serialize(loss))
    clone = losses.get(json.loads(text))
    assert clone.get_config() == loss.get_config()
    with pytest.raises(ValueError, match="cannot serialise"):
        losses.serialize(losses.get(lambda t, p: p))

    def squared(y_true, y_pred):
        return ((y_pred - y_true) ** 2).sum(axis=-1)

    wrapped = losses.get(squared)
    t, p = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    assert wrapped.name == "squared"
    assert wrapped(numnet.tensor(t), p).item() == pytest.approx(
        ((p - t) ** 2).sum(-1).mean()
    )


def test_function_forms_return_per_sample_losses(rng):
    t, p = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0.1, 0.9, (3, 4))
    for fn in (
        losses.mean_squared_error,
        losses.mean_absolute_error,
        losses.binary_crossentropy,
        losses.categorical_crossentropy,
    ):
        assert fn(t, p).shape == (3,)
    assert losses.sparse_categorical_crossentropy([0, 1, 2], p).shape == (3,)
