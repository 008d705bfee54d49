"""The other Keras losses: KLDivergence, CosineSimilarity, LogCosh, Poisson,
MSLE, MAPE, the hinges and the focal cross-entropies.

Each is checked against Keras's documented values, an independent NumPy
formula written here (Keras 3's ``keras/src/losses/losses.py``, epsilon
included), a float64 gradcheck and, where PyTorch has the same formula,
PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import layers, losses

EPS = 1e-7  # Keras's backend epsilon

# Keras's documentation examples (keras.io) with their printed results.
KERAS_EXAMPLES = [
    ("kl_divergence", [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.458),
    ("cosine_similarity", [[0, 1], [1, 1]], [[1, 0], [1, 1]], -0.5),
    ("log_cosh", [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.108),
    ("poisson", [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.5),
    ("msle", [[0, 1], [0, 0]], [[1, 1], [1, 0]], 0.240),
    ("mape", [[2, 1], [2, 3]], [[1, 1], [1, 0]], 50.0),
    ("hinge", [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 1.3),
    ("squared_hinge", [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 1.86),
    ("categorical_hinge", [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 1.4),
    ("binary_focal_crossentropy", [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.268),
    (
        "categorical_focal_crossentropy",
        [[0, 1, 0], [0, 0, 1]],
        [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        0.23315276,
    ),
]


@pytest.mark.parametrize("name, y_true, y_pred, expected", KERAS_EXAMPLES)
def test_keras_documentation_values(name, y_true, y_pred, expected):
    value = losses.get(name)(np.array(y_true), np.array(y_pred, np.float32))
    assert value.shape == () and value.dtype == np.float32
    assert value.item() == pytest.approx(expected, abs=1e-3)


def test_binary_focal_keras_examples_from_logits():
    # keras.losses.BinaryFocalCrossentropy's docstring, Example 2
    t, z = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    focal = losses.BinaryFocalCrossentropy
    assert focal(gamma=3, from_logits=True)(t, z).item() == pytest.approx(
        0.647, abs=1e-3
    )
    balanced = focal(apply_class_balancing=True, gamma=3, from_logits=True)
    assert balanced(t, z).item() == pytest.approx(0.482, abs=1e-3)
    weighted = balanced(t, z, sample_weight=[0.8, 0.2])
    assert weighted.item() == pytest.approx(0.097, abs=1e-3)
    total = focal(gamma=4, from_logits=True, reduction="sum")(t, z)
    assert total.item() == pytest.approx(1.222, abs=1e-3)
    per_sample = focal(gamma=5, from_logits=True, reduction=None)(t, z)
    np.testing.assert_allclose(per_sample.data, [0.0017, 1.1561], atol=1e-4)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _reference(name, t, p):
    """Keras 3's per-sample formulas in NumPy (p: probabilities or values)."""
    if name == "kl_divergence":
        tc, pc = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
        return (tc * np.log(tc / pc)).sum(-1)
    if name == "cosine_similarity":
        unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), EPS)  # noqa: E731
        return -(unit(t) * unit(p)).sum(-1)
    if name == "log_cosh":
        return np.log(np.cosh(p - t)).mean(-1)
    if name == "poisson":  # p > 0 here: numnet's floor of p at 0 is inactive
        return (p - t * np.log(p + EPS)).mean(-1)
    if name == "msle":
        d = np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)
        return (d**2).mean(-1)
    if name == "mape":
        return 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)
    signed = 2 * t - 1 if np.all((t == 0) | (t == 1)) else t
    if name == "hinge":
        return np.maximum(1 - signed * p, 0).mean(-1)
    if name == "squared_hinge":
        return (np.maximum(1 - signed * p, 0) ** 2).mean(-1)
    if name == "categorical_hinge":
        pos, neg = (t * p).sum(-1), ((1 - t) * p).max(-1)
        return np.maximum(neg - pos + 1, 0)
    raise AssertionError(name)


def _binary_focal_reference(t, p, gamma=2.0, alpha=0.25, balance=False):
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    p_t = t * p + (1 - t) * (1 - p)
    focal = (1 - p_t) ** gamma * bce
    if balance:
        focal = focal * (t * alpha + (1 - t) * (1 - alpha))
    return focal.mean(-1)


def _categorical_focal_reference(t, p, gamma=2.0, alpha=0.25, axis=-1):
    out = np.clip(p / p.sum(axis, keepdims=True), EPS, 1 - EPS)
    return (alpha * (1 - out) ** gamma * -t * np.log(out)).sum(axis)


def _draw(name, rng):
    """(y_true, y_pred) in the loss's domain, away from its kinks."""
    if name in ("kl_divergence", "categorical_hinge"):
        t = rng.dirichlet(np.ones(4), 5)
        if name == "categorical_hinge":
            t = np.eye(4)[rng.integers(0, 4, 5)]
            return t, rng.normal(size=(5, 4)) * 0.4  # margins off 0: no kink
        return t, rng.dirichlet(np.ones(4), 5)
    if name in ("poisson", "msle"):
        return rng.poisson(2.0, (5, 4)).astype(float), rng.uniform(0.2, 4, (5, 4))
    if name == "mape":
        return rng.uniform(0.5, 3, (5, 4)) * rng.choice([-1, 1], (5, 4)), rng.normal(
            size=(5, 4)
        )
    if name in ("hinge", "squared_hinge"):
        t = rng.integers(0, 2, (5, 4)).astype(float)
        p = rng.uniform(0.1, 0.9, (5, 4)) * rng.choice([-1, 1], (5, 4)) * 1.5
        return t, p  # |p| != 1 / 1.5 scale: margins never exactly 1
    return rng.normal(size=(5, 4)), rng.normal(size=(5, 4)) * 2


NAMES = [
    "kl_divergence",
    "cosine_similarity",
    "log_cosh",
    "poisson",
    "msle",
    "mape",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
]


@pytest.mark.parametrize("name", NAMES)
def test_losses_match_keras_formulas_and_gradcheck(rng, name):
    t, p = _draw(name, rng)
    loss = losses.get(name)
    value = loss(t, p)
    assert value.dtype == np.float64
    assert value.item() == pytest.approx(_reference(name, t, p).mean(), rel=1e-10)
    per_sample = type(loss)(reduction="none")(t, p)
    np.testing.assert_allclose(per_sample.data, _reference(name, t, p), rtol=1e-10)
    assert numnet.gradcheck(lambda q: loss(t, q), [p])
    assert numnet.gradcheck(lambda q: type(loss)(reduction="none")(t, q), [p])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.5])
@pytest.mark.parametrize("balance", [False, True])
def test_binary_focal_matches_keras_formula_and_gradchecks(rng, gamma, balance):
    t = rng.integers(0, 2, (5, 3)).astype(float)
    z = rng.normal(size=(5, 3)) * 2
    p = _sigmoid(z)
    expected = _binary_focal_reference(t, p, gamma, 0.4, balance).mean()
    for from_logits, y in ((False, p), (True, z)):
        loss = losses.BinaryFocalCrossentropy(balance, 0.4, gamma, from_logits)
        assert loss(t, y).item() == pytest.approx(expected, rel=1e-9)
        assert numnet.gradcheck(lambda q, loss=loss: loss(t, q), [y])
    smooth = losses.BinaryFocalCrossentropy(gamma=gamma, label_smoothing=0.2)
    expected = _binary_focal_reference(t * 0.8 + 0.1, p, gamma).mean()
    assert smooth(t, p).item() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_categorical_focal_matches_keras_formula_and_gradchecks(rng, gamma):
    t = np.eye(4)[rng.integers(0, 4, 5)]
    z = rng.normal(size=(5, 4))
    p = _softmax(z)
    expected = _categorical_focal_reference(t, p, gamma).mean()
    for from_logits, y in ((False, p), (True, z)):
        loss = losses.CategoricalFocalCrossentropy(gamma=gamma, from_logits=from_logits)
        assert loss(t, y).item() == pytest.approx(expected, rel=1e-9)
        assert numnet.gradcheck(lambda q, loss=loss: loss(t, q), [y])
    # per-class alpha, label smoothing and another class axis
    alpha = [0.1, 0.2, 0.3, 0.4]
    loss = losses.CategoricalFocalCrossentropy(alpha, gamma, label_smoothing=0.1)
    smoothed = t * 0.9 + 0.1 / 4
    expected = _categorical_focal_reference(smoothed, p, gamma, np.array(alpha))
    assert loss(t, p).item() == pytest.approx(expected.mean(), rel=1e-9)
    moved = losses.CategoricalFocalCrossentropy(gamma=gamma, from_logits=True, axis=0)
    expected = _categorical_focal_reference(t.T, _softmax(z.T, 0), gamma, axis=0)
    assert moved(t.T, z.T).item() == pytest.approx(expected.mean(), rel=1e-9)
    assert numnet.gradcheck(lambda q: moved(t.T, q), [z.T.copy()])


@pytest.mark.parametrize(
    "loss, y_true",
    [
        (losses.BinaryFocalCrossentropy(from_logits=True, gamma=0.5), [[1.0, 0.0]]),
        (losses.CategoricalFocalCrossentropy(from_logits=True), [[1.0, 0.0]]),
    ],
)
def test_focal_from_logits_is_finite_and_exact_when_saturated(loss, y_true):
    z = numnet.tensor([[-40.0, 40.0]], dtype=np.float64, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss(np.array(y_true), z)
        value.backward()
    assert np.isfinite(value.item()) and np.all(np.isfinite(z.grad))
    # the wrong class is sure: the cross-entropy is 40 or 80 (not Keras's clip at
    # -log(1e-7) = 16.1), the focal factor is 1 - 1e-17, alpha 0.25 for categorical
    expected = 40.0 if isinstance(loss, losses.BinaryFocalCrossentropy) else 20.0
    assert value.item() == pytest.approx(expected, rel=1e-6)
    assert np.abs(z.grad).max() > 0.1


def test_focal_uses_the_logits_of_a_sigmoid_or_softmax_layer(rng):
    x = rng.normal(size=(4, 3)).astype(np.float32)
    for activation, loss, t in (
        ("sigmoid", losses.BinaryFocalCrossentropy(), np.eye(2)[[0, 1, 1, 0]]),
        ("softmax", losses.CategoricalFocalCrossentropy(), np.eye(2)[[0, 1, 1, 0]]),
    ):
        layer = layers.Dense(2, activation=activation)
        y = layer(x)
        fused = type(loss)(from_logits=True)(t, y._logits)
        assert loss(t, y).item() == pytest.approx(fused.item(), rel=1e-5)


def test_against_pytorch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    # KL: Keras sums t log(t / p) over the last axis; torch's kl_div takes log p
    t, p = rng.dirichlet(np.ones(4), 6), rng.dirichlet(np.ones(4), 6)
    expected = tf.kl_div(
        torch.tensor(np.log(p)), torch.tensor(t), reduction="batchmean"
    )
    assert losses.KLDivergence()(t, p).item() == pytest.approx(
        expected.item(), rel=1e-9
    )
    # Poisson: torch's log_input=False form is p - t log(p + eps), the same eps
    t, p = rng.poisson(2.0, (6, 4)).astype(float), rng.uniform(0.1, 4, (6, 4))
    expected = tf.poisson_nll_loss(
        torch.tensor(p), torch.tensor(t), log_input=False, eps=EPS
    )
    assert losses.Poisson()(t, p).item() == pytest.approx(expected.item(), rel=1e-9)
    # cosine: Keras's loss is the negative similarity (norms far from eps)
    t, p = rng.normal(size=(6, 5, 3)), rng.normal(size=(6, 5, 3))
    for axis in (-1, 1):
        expected = -tf.cosine_similarity(torch.tensor(t), torch.tensor(p), dim=axis)
        loss = losses.CosineSimilarity(axis=axis, reduction="none")
        np.testing.assert_allclose(loss(t, p).data, expected.numpy(), rtol=1e-9)
    # log-cosh, MSLE: no torch loss; torch's elementwise ops as a second oracle
    t, p = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)) * 20
    tt, tp = torch.tensor(t), torch.tensor(p)
    expected = torch.log(torch.cosh(tp - tt)).mean()
    assert losses.LogCosh()(t, p).item() == pytest.approx(expected.item(), rel=1e-9)


def test_hinge_takes_binary_or_signed_labels(rng):
    p = rng.normal(size=(4, 3))
    bits = rng.integers(0, 2, (4, 3))
    for loss in (losses.Hinge(), losses.SquaredHinge()):
        assert loss(bits, p).item() == pytest.approx(loss(2 * bits - 1, p).item())
    # labels that are not all 0/1 are used as given (Keras's rule)
    mixed = np.array([[0.5, -1.0, 1.0]] * 4)
    expected = np.maximum(1 - mixed * p, 0).mean()
    assert losses.Hinge()(mixed, p).item() == pytest.approx(expected)


def test_poisson_of_a_negative_prediction_is_finite_and_pushes_it_up():
    p = numnet.tensor([[-0.5, 2.0]], dtype=np.float64, requires_grad=True)
    value = losses.Poisson()(np.array([[1.0, 1.0]]), p)
    value.backward()
    expected = (-0.5 - np.log(EPS) + 2.0 - np.log(2.0 + EPS)) / 2
    assert value.item() == pytest.approx(expected)
    np.testing.assert_allclose(p.grad, [[0.5, 0.5 * (1 - 1 / (2.0 + EPS))]])


def test_log_cosh_is_finite_for_large_errors():
    value = losses.LogCosh()(np.zeros((1, 2)), np.array([[1000.0, -1000.0]]))
    assert value.item() == pytest.approx(1000 - np.log(2))


def test_sample_weight_reductions_and_function_forms(rng):
    t, p = rng.dirichlet(np.ones(3), 4), rng.dirichlet(np.ones(3), 4)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    per_sample = _reference("kl_divergence", t, p)
    kld = losses.KLDivergence()
    assert kld(t, p, sample_weight=w).item() == pytest.approx((per_sample * w).mean())
    total = losses.KLDivergence(reduction="sum")(t, p)
    assert total.item() == pytest.approx(per_sample.sum())
    for fn, name in (
        (losses.kl_divergence, "kl_divergence"),
        (losses.cosine_similarity, "cosine_similarity"),
        (losses.log_cosh, "log_cosh"),
        (losses.poisson, "poisson"),
        (losses.mean_squared_logarithmic_error, "msle"),
        (losses.mean_absolute_percentage_error, "mape"),
        (losses.hinge, "hinge"),
        (losses.squared_hinge, "squared_hinge"),
        (losses.categorical_hinge, "categorical_hinge"),
    ):
        np.testing.assert_allclose(fn(t, p).data, _reference(name, t, p), rtol=1e-10)
    expected = _categorical_focal_reference(t, p)
    np.testing.assert_allclose(
        losses.categorical_focal_crossentropy(t, p).data, expected, rtol=1e-10
    )
    expected = _binary_focal_reference(t, p)
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(t, p).data, expected, rtol=1e-10
    )


ALL_NEW = [
    losses.KLDivergence(),
    losses.CosineSimilarity(axis=1),
    losses.LogCosh(),
    losses.Poisson(),
    losses.MeanSquaredLogarithmicError(),
    losses.MeanAbsolutePercentageError(),
    losses.Hinge(),
    losses.SquaredHinge(),
    losses.CategoricalHinge(),
    losses.BinaryFocalCrossentropy(True, 0.3, 1.5, True, 0.1, -1),
    losses.CategoricalFocalCrossentropy([0.2, 0.8], 1.0, label_smoothing=0.05),
]


@pytest.mark.parametrize("loss", ALL_NEW, ids=lambda loss: type(loss).__name__)
def test_serialize_round_trip_and_string_names(loss):
    restored = losses.get(losses.serialize(loss))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    assert isinstance(losses.get(loss.name), type(loss))
    assert isinstance(losses.get(type(loss).__name__), type(loss))


@pytest.mark.parametrize(
    "alias, cls",
    [
        ("kld", losses.KLDivergence),
        ("kullback_leibler_divergence", losses.KLDivergence),
        ("msle", losses.MeanSquaredLogarithmicError),
        ("mape", losses.MeanAbsolutePercentageError),
        ("logcosh", losses.LogCosh),
    ],
)
def test_short_aliases(alias, cls):
    assert type(losses.get(alias)) is cls


def test_bad_arguments_name_the_loss_and_the_value():
    focal, cat = losses.BinaryFocalCrossentropy, losses.CategoricalFocalCrossentropy
    with pytest.raises(ValueError, match=r"BinaryFocalCrossentropy: .*'alpha'.*1.5"):
        focal(alpha=1.5)
    with pytest.raises(ValueError, match=r"'gamma'.*gamma=-1"):
        focal(gamma=-1)
    with pytest.raises(ValueError, match=r"'apply_class_balancing'"):
        focal(apply_class_balancing="yes")
    with pytest.raises(ValueError, match=r"'label_smoothing'"):
        cat(label_smoothing=2)
    with pytest.raises(ValueError, match=r"CategoricalFocalCrossentropy: .*'alpha'"):
        cat(alpha=[0.5, float("nan")])
    with pytest.raises(ValueError, match=r"alpha has 2 class weights .* 3 classes"):
        cat(alpha=[0.5, 0.5])(np.eye(3), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"CosineSimilarity: .*'axis'.*axis=2"):
        losses.CosineSimilarity(axis=2)(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'axis'.*axis='1'"):
        losses.CosineSimilarity(axis="1")
    with pytest.raises(ValueError, match=r"CategoricalHinge: .*a scalar"):
        losses.CategoricalHinge()(np.array(1.0), np.array(0.5))
    with pytest.raises(ValueError, match=r"Poisson: .*y_true.shape=\(2, 2\)"):
        losses.Poisson()(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Hinge: .*'reduction'"):
        losses.Hinge(reduction="mean_of_all")
