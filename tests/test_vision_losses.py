"""LocalizationLoss: hand-computed values, pc gating, NaN ("?") labels, element
weights, gradchecks and training through fit."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import backend, layers, models, optimizers
from numnet.vision import LocalizationLoss


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _reference(t, z, num_coords=4):
    """The course's loss written out per sample, NaN-free targets, logits z."""
    c = 1 + num_coords
    p = _sigmoid(z[:, 0])
    bce = -(t[:, 0] * np.log(p) + (1 - t[:, 0]) * np.log(1 - p))
    sq = ((z[:, 1:c] - t[:, 1:c]) ** 2).sum(axis=1)
    ce = 0.0
    if z.shape[1] > c:
        logits = z[:, c:] - z[:, c:].max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        ce = -(t[:, c:] * log_p).sum(axis=1)
    return bce + t[:, 0] * (sq + ce)


def _targets(rng, n=6, k=3):
    t = np.zeros((n, 5 + k))
    t[:, 0] = rng.integers(0, 2, n)
    t[:, 1:5] = rng.uniform(0, 1, (n, 4))
    t[np.arange(n), 5 + rng.integers(0, k, n)] = 1
    return t


def test_matches_the_course_formula(rng):
    t, z = _targets(rng), rng.normal(size=(6, 8))
    loss = LocalizationLoss(num_classes=3, reduction="none")
    np.testing.assert_allclose(loss(t, z).data, _reference(t, z), rtol=1e-6)


def test_pc_zero_ignores_box_and_class(rng):
    t, z = _targets(rng), rng.normal(size=(6, 8))
    t[:, 0] = 0
    loss = LocalizationLoss(num_classes=3, reduction="none")
    changed = z.copy()
    changed[:, 1:] += 5.0  # any box or class prediction: same loss
    np.testing.assert_allclose(loss(t, z).data, loss(t, changed).data)
    t_unknown = t.copy()
    t_unknown[:, 1:] = np.nan  # the course's "?"
    np.testing.assert_allclose(loss(t_unknown, z).data, loss(t, z).data)


def test_nan_elements_are_ignored_one_by_one(rng):
    t, z = _targets(rng), rng.normal(size=(6, 8))
    t[:, 0] = 1
    loss = LocalizationLoss(num_classes=3, reduction="none")
    missing = t.copy()
    missing[0, 2] = np.nan  # by unknown
    expected = _reference(t, z)
    expected[0] -= (z[0, 2] - t[0, 2]) ** 2
    out = loss(missing, z).data
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_element_sample_weight_equals_nan_mask(rng):
    t, z = _targets(rng), rng.normal(size=(6, 8))
    t[:, 0] = 1
    loss = LocalizationLoss(num_classes=3)
    missing = t.copy()
    missing[1, 3:5] = np.nan
    weight = np.ones_like(t)
    weight[1, 3:5] = 0
    assert loss(t, z, sample_weight=weight).item() == pytest.approx(
        loss(missing, z).item()
    )
    per_sample = np.linspace(0.5, 1.5, 6)
    assert loss(t, z, sample_weight=per_sample).item() == pytest.approx(
        loss(t, z, sample_weight=per_sample[:, None] * np.ones_like(t)).item()
    )


def test_probabilities_form_matches_logits_form(rng):
    t, z = _targets(rng), rng.normal(size=(6, 8))
    p = z.copy()
    p[:, 0] = _sigmoid(z[:, 0])
    e = np.exp(z[:, 5:])
    p[:, 5:] = e / e.sum(axis=1, keepdims=True)
    a = LocalizationLoss(num_classes=3)(t, z).item()
    b = LocalizationLoss(num_classes=3, from_logits=False)(t, p).item()
    assert a == pytest.approx(b, rel=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
def test_gradcheck_with_missing_labels_and_weights(rng, from_logits):
    t = _targets(rng, n=5, k=2)
    t[0, 1] = np.nan
    t[2, 5:] = np.nan
    weight = rng.uniform(0.5, 1.5, t.shape)
    z = rng.uniform(0.1, 0.9, (5, 7))
    loss = LocalizationLoss(num_classes=2, from_logits=from_logits)
    with backend.floatx_scope("float64"):
        assert numnet.gradcheck(lambda q: loss(t, q, sample_weight=weight), [z])
        assert numnet.gradcheck(lambda q: loss(t, q), [z])


def test_landmarks_without_classes(rng):
    t = np.concatenate([np.ones((4, 1)), rng.uniform(0, 1, (4, 6))], axis=1)
    z = rng.normal(size=(4, 7))
    loss = LocalizationLoss(num_classes=0, num_coords=6, reduction="none")
    expected = _reference(np.c_[t, np.zeros((4, 0))], z, num_coords=6)
    np.testing.assert_allclose(loss(t, z).data, expected, rtol=1e-6)


def test_grid_targets_and_errors(rng):
    loss = LocalizationLoss(num_classes=1, reduction="none")
    assert loss(np.zeros((2, 3, 3, 6)), rng.normal(size=(2, 3, 3, 6))).shape == (
        2,
        3,
        3,
    )
    with pytest.raises(ValueError, match="1 \\+ num_coords \\+ num_classes"):
        loss(np.zeros((2, 5)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="num_classes"):
        LocalizationLoss(num_classes=-1)


def test_trains_through_fit_with_missing_labels(rng):
    x = rng.normal(size=(64, 6)).astype("float32")
    t = np.zeros((64, 7), "float32")
    t[:, 0] = x[:, 0] > 0
    t[:, 1:5] = np.tanh(x[:, 1:5])
    t[np.arange(64), 5 + (x[:, 5] > 0)] = 1
    t[t[:, 0] == 0, 1:] = np.nan
    model = models.Sequential([layers.Input((6,)), layers.Dense(7)])
    model.compile(optimizers.Adam(0.05), LocalizationLoss(num_classes=2))
    history = model.fit(x, t, epochs=20, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0]
    weight = np.ones_like(t)
    history = model.fit(x, t, sample_weight=weight, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
