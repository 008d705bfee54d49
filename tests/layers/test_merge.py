"""Merge layers: forward values, gradchecks w.r.t. every input, shape errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numnet
from numnet.autograd import strict_dtypes
from numnet.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

ELEMENTWISE = [
    (Add, lambda xs: sum(xs)),
    (Subtract, lambda xs: xs[0] - xs[1]),
    (Multiply, lambda xs: np.prod(xs, axis=0)),
    (Average, lambda xs: np.mean(xs, axis=0)),
    (Maximum, lambda xs: np.max(xs, axis=0)),
    (Minimum, lambda xs: np.min(xs, axis=0)),
]


def _inputs(rng, count, shape=(2, 3, 4)):
    # Distinct values with gaps >= 1e-3 keep Maximum/Minimum away from ties.
    values = rng.permutation(count * int(np.prod(shape))) * 0.01 - 0.5
    return [v.reshape(shape) for v in np.split(values, count)]


@pytest.mark.parametrize("cls,reference", ELEMENTWISE)
def test_elementwise_forward_matches_numpy(cls, reference, rng):
    count = 2 if cls is Subtract else 3
    xs = _inputs(rng, count)
    out = cls()([x.astype(np.float32) for x in xs])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference(xs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls,reference", ELEMENTWISE)
def test_elementwise_gradcheck_every_input(cls, reference, rng, float64):
    count = 2 if cls is Subtract else 3
    layer = cls()
    assert numnet.gradcheck(lambda *xs: layer(list(xs)), _inputs(rng, count))


@pytest.mark.parametrize("cls", [Add, Multiply, Average, Maximum])
def test_broadcast_of_length_one_axes(cls, rng, float64):
    a, b = rng.normal(size=(4, 1, 3)), rng.normal(size=(4, 5, 1))
    assert cls()([a, b]).shape == (4, 5, 3)
    assert numnet.gradcheck(lambda x, y: cls()([x, y]), [a, b])


def test_float32_stays_float32_in_backward(rng):
    xs = [numnet.tensor(x, requires_grad=True) for x in _inputs(rng, 3)]
    with strict_dtypes():
        out = Average()(xs) + Maximum()(xs) + Concatenate(axis=1)(xs)[:, :3]
        (out * out).sum().backward()
    assert all(x.grad.dtype == np.float32 for x in xs)


@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    axis=st.integers(-3, 2),
)
def test_concatenate_gradcheck_any_axis(sizes, axis, float64):
    rng = np.random.default_rng(len(sizes))
    base = [2, 3, 2]
    xs = []
    for n in sizes:
        shape = list(base)
        shape[axis] = n
        xs.append(rng.normal(size=shape))
    layer = Concatenate(axis=axis)
    out = layer(xs)
    np.testing.assert_array_equal(out.data, np.concatenate(xs, axis=axis))
    assert numnet.gradcheck(lambda *ts: layer(list(ts)), xs)


def test_dot_2d_rows_and_cosine(rng, float64):
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    out = Dot(axes=1)([x, y])
    assert out.shape == (5, 1)
    np.testing.assert_allclose(out.data[:, 0], np.sum(x * y, axis=1))
    cosine = Dot(axes=1, normalize=True)([x, y]).data[:, 0]
    expected = np.sum(x * y, 1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(cosine, expected)
    for layer in (Dot(axes=1), Dot(axes=-1, normalize=True)):
        assert numnet.gradcheck(lambda a, b, layer=layer: layer([a, b]), [x, y])


def test_dot_3d_is_batched_matmul(rng, float64):
    x, y = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 5))
    layer = Dot(axes=(2, 1))
    np.testing.assert_allclose(layer([x, y]).data, x @ y)
    assert numnet.gradcheck(lambda a, b: layer([a, b]), [x, y])
    # contracting axis 1 of both: (N, D, P) x (N, D, Q) -> (N, P, Q) = x^T y
    z = rng.normal(size=(2, 3, 5))
    np.testing.assert_allclose(Dot(axes=1)([x, z]).data, x.transpose(0, 2, 1) @ z)


def test_merge_inside_a_graph_matches_plain_tensors(rng, float64):
    a = numnet.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = numnet.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    out = Concatenate()([Add()([a, b]), Multiply()([a, b])]).sum()
    out.backward()
    np.testing.assert_allclose(a.grad, 1 + b.data)
    np.testing.assert_allclose(b.grad, 1 + a.data)


@pytest.mark.parametrize(
    "layer,inputs,message",
    [
        (Add(), np.zeros((2, 3)), "expected a list of at least 2 tensors"),
        (Add(), [np.zeros((2, 3))], "at least 2"),
        (Subtract(), [np.zeros(2)] * 3, "exactly 2"),
        (Add(), [np.zeros((2, 3)), np.zeros((2, 4))], "incompatible on axis 1"),
        (Multiply(), [np.zeros((2, 3)), np.zeros((2, 3, 1))], "same rank"),
        (Concatenate(), [np.zeros((2, 3)), np.zeros((3, 3))], "must match"),
        (Concatenate(axis=2), [np.zeros((2, 3))] * 2, "same rank, with axis=2"),
        (Dot(axes=1), [np.zeros((2, 3)), np.zeros((2, 4))], "contracted axes"),
        (Dot(axes=0), [np.zeros((2, 3))] * 2, "non-batch axis"),
    ],
)
def test_shape_errors_name_the_layer_and_shapes(layer, inputs, message):
    with pytest.raises(ValueError, match=message) as info:
        layer(inputs)
    assert type(layer).__name__ in str(info.value)


def test_invalid_constructor_arguments():
    with pytest.raises(ValueError, match="argument 'axis'"):
        Concatenate(axis="last")
    with pytest.raises(ValueError, match="argument 'axes'"):
        Dot(axes=(1, 2, 3))


def test_get_config_round_trip():
    layer = Concatenate(axis=1, name="cat")
    clone = Concatenate.from_config(layer.get_config())
    assert (clone.name, clone.axis) == ("cat", 1)
    dot = Dot.from_config(Dot(axes=(2, 1), normalize=True).get_config())
    assert (dot.axes, dot.normalize) == ((2, 1), True)
