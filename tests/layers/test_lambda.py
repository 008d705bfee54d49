"""Lambda: wraps a function of tensors; refuses to serialise Python code."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet.layers import Input, Lambda, LambdaNotSerializableError


def test_forward_gradcheck_and_arguments(rng, float64):
    layer = Lambda(lambda x, power: x**power, arguments={"power": 3})
    x = rng.normal(size=(2, 3))
    np.testing.assert_allclose(layer(x).data, x**3)
    assert numnet.gradcheck(layer, [x])


def test_list_input_and_output_shape(rng, float64):
    layer = Lambda(lambda xs: F.concatenate([xs[0], xs[1] * xs[0]], axis=-1),
                   output_shape=(6,))  # fmt: skip
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert layer([a, b]).shape == (4, 6)
    assert layer.compute_output_shape([(4, 3), (4, 3)]) == (4, 6)
    assert numnet.gradcheck(lambda x, y: layer([x, y]), [a, b])
    assert Lambda(lambda x: x).compute_output_shape((2, 3)) is None
    twice = Lambda(lambda x: x, output_shape=lambda s: (s[0], 2 * s[1]))
    assert twice.compute_output_shape((5, 3)) == (5, 6)


def test_in_a_functional_graph():
    out = Lambda(lambda x: F.sum(x, axis=-1, keepdims=True))(Input((3,)))
    assert out.shape == (None, 1)


def test_get_config_refuses_with_the_remedy():
    layer = Lambda(np.abs, name="absolute")
    with pytest.raises(LambdaNotSerializableError, match="never serialises") as info:
        layer.get_config()
    assert "'absolute'" in str(info.value) and "save_weights" in str(info.value)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"function": 3}, "function"),
        ({"function": abs, "output_shape": (0, 2)}, "output_shape"),
        ({"function": abs, "output_shape": "big"}, "output_shape"),
        ({"function": abs, "arguments": [1]}, "arguments"),
    ],
)
def test_invalid_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument '{argument}'"):
        Lambda(**kwargs)


def test_model_with_lambda_saves_weights_but_not_architecture(tmp_path):
    from numnet import layers, models

    model = models.Sequential(
        [layers.Dense(3, input_shape=(2,)), Lambda(lambda x: x * 2.0)]
    )
    with pytest.raises(LambdaNotSerializableError):
        model.save(tmp_path / "model.npz")
    assert not any(tmp_path.iterdir())  # nothing half-written
    model.save_weights(tmp_path / "weights.npz")
    assert (tmp_path / "weights.npz").exists()
