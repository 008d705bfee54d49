"""Initializers: Keras variance definitions, fans, seeding, get/serialize, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import initializers

# name -> (scale, fan mode, distribution) as Keras defines them
VARIANCE_SCALING = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "normal"),
    "he_normal": (2.0, "fan_in", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
}


@pytest.mark.parametrize("name", sorted(VARIANCE_SCALING))
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 40, 60)])
def test_variance_scaling_presets_have_keras_variance(name, shape):
    scale, mode, distribution = VARIANCE_SCALING[name]
    fan_in, fan_out = initializers.compute_fans(shape)
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = initializers.get(name)(shape)
    assert w.shape == shape and w.dtype == np.float32
    assert w.var() == pytest.approx(scale / n, rel=0.05)
    assert abs(w.mean()) < 0.05 * np.sqrt(scale / n)
    if distribution == "uniform":
        assert np.abs(w).max() <= np.sqrt(3 * scale / n) + 1e-7
    else:  # truncated at 2 sigma of the un-truncated normal
        assert np.abs(w).max() <= 2 * np.sqrt(scale / n) / 0.87962566103423978 + 1e-6


def test_compute_fans_follows_keras():
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((5, 7)) == (5, 7)
    assert initializers.compute_fans((4,)) == (4, 4)
    assert initializers.compute_fans(()) == (1, 1)


def test_variance_scaling_untruncated_normal_and_errors():
    w = initializers.VarianceScaling(3.0, "fan_out", "untruncated_normal")((100, 400))
    assert w.var() == pytest.approx(3.0 / 400, rel=0.05)
    assert np.abs(w).max() > 2 * np.sqrt(3.0 / 400)  # tails are kept
    with pytest.raises(ValueError, match=r"'mode'.*mode='fan_sum'"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match=r"'distribution'.*distribution='cauchy'"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match=r"'scale'.*scale=0"):
        initializers.VarianceScaling(scale=0)


@pytest.mark.parametrize("shape", [(6, 6), (20, 5), (5, 20), (3, 3, 4, 8)])
def test_orthogonal(shape):
    w = initializers.Orthogonal(gain=2.0)(shape, dtype="float64")
    flat = w.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-10)
    with pytest.raises(ValueError, match="at least 2 axes"):
        initializers.Orthogonal()((5,))


def test_simple_initializers():
    assert np.all(initializers.get("zeros")((2, 3)) == 0)
    assert initializers.get("ones")((2,), dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(initializers.Constant(0.5)((2,)), [0.5, 0.5])
    w = initializers.RandomNormal(mean=1.0, stddev=0.5)((200, 200))
    assert w.mean() == pytest.approx(1.0, abs=0.01) and w.std() == pytest.approx(
        0.5, rel=0.02
    )
    u = initializers.RandomUniform(-1.0, 3.0)((100, 100))
    assert u.min() >= -1 and u.max() < 3 and u.mean() == pytest.approx(1.0, abs=0.05)
    t = initializers.TruncatedNormal(stddev=1.0)((100, 100))
    assert np.abs(t).max() <= 2.0
    np.testing.assert_array_equal(initializers.Identity(3.0)((2, 3)), 3 * np.eye(2, 3))


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: initializers.RandomNormal(stddev=-1), "stddev"),
        (lambda: initializers.RandomUniform(1.0, 0.0), r"'maxval'.*minval=1.0"),
        (lambda: initializers.Constant("a"), "value"),
        (lambda: initializers.HeNormal(seed=1.5), "seed"),
        (lambda: initializers.Identity()((2, 2, 2)), "2-D"),
    ],
)
def test_initializer_errors(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_seeding():
    seeded = initializers.HeNormal(seed=3)
    np.testing.assert_array_equal(
        seeded((4, 4)), seeded((4, 4))
    )  # Keras 3: same values
    numnet.manual_seed(7)
    a = initializers.get("glorot_uniform")((4, 4))
    b = initializers.get("glorot_uniform")((4, 4))
    numnet.manual_seed(7)
    np.testing.assert_array_equal(initializers.get("glorot_uniform")((4, 4)), a)
    assert not np.array_equal(a, b)


def test_get_and_serialize():
    assert isinstance(initializers.get("he_normal"), initializers.HeNormal)
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    assert isinstance(initializers.get("xavier_uniform"), initializers.GlorotUniform)

    def custom(shape, dtype=None):
        return np.full(shape, 2.0, dtype=dtype)

    assert initializers.get(custom) is custom
    for init in (
        initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
        initializers.Constant(3.0),
        initializers.Orthogonal(0.5),
        initializers.HeUniform(seed=4),
    ):
        text = json.dumps(initializers.serialize(init))
        clone = initializers.get(json.loads(text))
        assert type(clone) is type(init) and clone.get_config() == init.get_config()
    with pytest.raises(ValueError, match=r"'glorot_uniform'.*initializer='glorot'"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="cannot serialise"):
        initializers.serialize(custom)
