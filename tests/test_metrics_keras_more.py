"""Keras's loss-averaging metrics: KLDivergence, CosineSimilarity, LogCoshError,
Poisson, MSLE, MAPE and the hinges (the examples of Keras's docstrings)."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import losses, metrics

A = ([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
B = ([[0, 1], [0, 0]], [[1, 1], [0, 0]])
C = ([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])

#: (metric, data, result, result with sample_weight, the sample weight)
KERAS_EXAMPLES = [
    (lambda: metrics.KLDivergence(), A, 0.45814306, 0.9162892, [1, 0]),
    (lambda: metrics.Poisson(), B, 0.49999997, 0.99999994, [1, 0]),
    (lambda: metrics.LogCoshError(), B, 0.10844523, 0.21689045, [1, 0]),
    (lambda: metrics.MeanSquaredLogarithmicError(), B, 0.12011322, 0.24022643, [1, 0]),
    (lambda: metrics.MeanAbsolutePercentageError(), B, 2.5e8, 5e8, [1, 0]),
    (lambda: metrics.CosineSimilarity(axis=1), C, 0.49999997, 0.6999999, [0.3, 0.7]),
    (lambda: metrics.Hinge(), A, 1.3, 1.1, [1, 0]),
    (lambda: metrics.SquaredHinge(), A, 1.86, 1.46, [1, 0]),
    (lambda: metrics.CategoricalHinge(), A, 1.4000001, 1.2, [1, 0]),
]


@pytest.mark.parametrize("make, data, plain, weighted, weight", KERAS_EXAMPLES)
def test_keras_documentation_values(make, data, plain, weighted, weight):
    y_true, y_pred = np.array(data[0]), np.array(data[1], np.float32)
    m = make()
    m.update_state(y_true, y_pred)
    assert float(m.result()) == pytest.approx(plain, rel=1e-5)
    m.reset_state()
    m.update_state(y_true, y_pred, sample_weight=np.array(weight))
    assert float(m.result()) == pytest.approx(weighted, rel=1e-5)


@pytest.mark.parametrize(
    "metric, loss",
    [
        (metrics.KLDivergence(), losses.KLDivergence()),
        (metrics.LogCoshError(), losses.LogCosh()),
        (metrics.Poisson(), losses.Poisson()),
        (metrics.MeanSquaredLogarithmicError(), losses.MeanSquaredLogarithmicError()),
        (metrics.MeanAbsolutePercentageError(), losses.MeanAbsolutePercentageError()),
        (metrics.Hinge(), losses.Hinge()),
        (metrics.SquaredHinge(), losses.SquaredHinge()),
        (metrics.CategoricalHinge(), losses.CategoricalHinge()),
    ],
    ids=lambda m: type(m).__name__,
)
def test_accumulates_the_weighted_mean_of_the_loss_over_batches(rng, metric, loss):
    batches = [
        (rng.dirichlet(np.ones(3), n), rng.dirichlet(np.ones(3), n), rng.random(n))
        for n in (4, 7)
    ]
    per_sample = [type(loss)(reduction="none")(t, p).data for t, p, _ in batches]
    weights = [w for *_, w in batches]
    for t, p, w in batches:
        metric.update_state(t, p, sample_weight=w)
    expected = sum((v * w).sum() for v, w in zip(per_sample, weights, strict=True))
    expected /= sum(w.sum() for w in weights)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-12)


def test_cosine_similarity_metric_is_the_negative_loss(rng):
    t, p = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    m = metrics.CosineSimilarity()
    assert float(m(t, p)) == pytest.approx(-losses.CosineSimilarity()(t, p).item())


@pytest.mark.parametrize(
    "name, cls",
    [
        ("kld", metrics.KLDivergence),
        ("kl_divergence", metrics.KLDivergence),
        ("cosine_similarity", metrics.CosineSimilarity),
        ("logcosh", metrics.LogCoshError),
        ("poisson", metrics.Poisson),
        ("msle", metrics.MeanSquaredLogarithmicError),
        ("mape", metrics.MeanAbsolutePercentageError),
        ("hinge", metrics.Hinge),
        ("squared_hinge", metrics.SquaredHinge),
        ("categorical_hinge", metrics.CategoricalHinge),
    ],
)
def test_names_and_serialization(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name
    restored = metrics.get(metrics.serialize(m))
    assert type(restored) is cls and restored.get_config() == m.get_config()


def test_cosine_similarity_axis_round_trips():
    m = metrics.CosineSimilarity(axis=1)
    assert metrics.get(metrics.serialize(m)).loss.axis == 1


def test_accuracy_follows_the_focal_losses():
    focal = losses.BinaryFocalCrossentropy(from_logits=True)
    acc = metrics.get("accuracy", loss=focal)
    assert type(acc) is metrics.BinaryAccuracy
    assert acc.get_config()["threshold"] == 0.0
    acc = metrics.get("accuracy", loss="categorical_focal_crossentropy")
    assert type(acc) is metrics.CategoricalAccuracy
