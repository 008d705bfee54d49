"""Regularizers (L1, L2, L1L2) and constraints (MaxNorm, NonNeg, UnitNorm)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import constraints, layers, regularizers


def test_penalties_follow_keras_definitions(rng):
    w = rng.normal(size=(4, 3))
    t = numnet.tensor(w, dtype=np.float64)
    assert regularizers.L2(0.3)(t).item() == pytest.approx(0.3 * np.sum(w**2))
    assert regularizers.L1(0.2)(t).item() == pytest.approx(0.2 * np.sum(np.abs(w)))
    both = regularizers.L1L2(l1=0.2, l2=0.3)(t).item()
    assert both == pytest.approx(0.2 * np.sum(np.abs(w)) + 0.3 * np.sum(w**2))
    assert regularizers.L1L2()(t).item() == 0.0
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get("l1").l1 == 0.01
    assert regularizers.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}


@pytest.mark.parametrize(
    "reg", [regularizers.L1(0.1), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.2)]
)
def test_penalty_gradients(rng, reg):
    w = rng.normal(size=(3, 4))
    w[np.abs(w) < 1e-3] = 0.5  # away from the kink of |w|
    assert numnet.gradcheck(reg, [w])


def test_l2_is_the_course_weight_decay():
    """L2(lambda / (2m)) adds (lambda / m) * W to the gradient, as in the notes."""
    lam, m = 0.7, 50
    w = numnet.tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
    regularizers.L2(lam / (2 * m))(w).backward()
    np.testing.assert_allclose(w.grad, lam / m * w.data)


def test_layer_sums_its_penalties(rng):
    dense = layers.Dense(
        3,
        kernel_regularizer=regularizers.L2(0.5),
        bias_regularizer=regularizers.L1(0.25),
        bias_initializer="ones",
    )
    dense(rng.normal(size=(2, 4)).astype(np.float32))
    expected = 0.5 * np.sum(dense.kernel.data**2) + 0.25 * 3
    assert dense.regularization_loss().item() == pytest.approx(expected, rel=1e-6)
    assert dense.regularization_loss().dtype == np.float32


def test_regularizer_get_serialize_and_errors():
    for reg in (
        regularizers.L1(0.3),
        regularizers.L2(0.1),
        regularizers.L1L2(0.1, 0.2),
    ):
        clone = regularizers.get(json.loads(json.dumps(regularizers.serialize(reg))))
        assert type(clone) is type(reg) and clone.get_config() == reg.get_config()
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match=r"'l1'.*'l2'.*regularizer='l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match=r"L2: invalid value for argument 'l2'.*l2=-1"):
        regularizers.L2(-1)


def test_max_norm_clips_column_norms(rng):
    w = rng.normal(size=(5, 4)) * [0.1, 1.0, 3.0, 10.0]
    out = constraints.MaxNorm(2.0)(w)
    norms_in, norms_out = np.linalg.norm(w, axis=0), np.linalg.norm(out, axis=0)
    np.testing.assert_allclose(norms_out, np.minimum(norms_in, 2.0), rtol=1e-6)
    conv = rng.normal(size=(3, 3, 2, 4)) * 5
    out = constraints.MaxNorm(1.0, axis=[0, 1, 2])(conv)
    np.testing.assert_allclose(np.sqrt((out**2).sum(axis=(0, 1, 2))), 1.0, rtol=1e-6)


def test_non_neg_and_unit_norm(rng):
    w = rng.normal(size=(4, 3)).astype(np.float32)
    out = constraints.NonNeg()(w)
    np.testing.assert_array_equal(out, np.maximum(w, 0))
    assert out.dtype == np.float32
    unit = constraints.UnitNorm(axis=1)(w)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    assert unit.dtype == np.float32


def test_constraint_get_serialize_and_errors():
    for c in (
        constraints.MaxNorm(3.0, axis=[0, 1]),
        constraints.NonNeg(),
        constraints.UnitNorm(axis=1),
    ):
        clone = constraints.get(json.loads(json.dumps(constraints.serialize(c))))
        assert type(clone) is type(c) and clone.get_config() == c.get_config()
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match=r"'max_norm'.*constraint='maxnorm'"):
        constraints.get("maxnorm")
    with pytest.raises(ValueError, match="max_value"):
        constraints.MaxNorm(0)
    with pytest.raises(ValueError, match="axis"):
        constraints.UnitNorm(axis="rows")
