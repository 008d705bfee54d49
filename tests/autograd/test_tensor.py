"""Tensor creation, dtype rules, seeding, methods and the errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import backend


@pytest.mark.parametrize(
    "data, dtype",
    [
        ([1.0, 2.0], np.float32),
        ([[1, 2], [3, 4.5]], np.float32),  # mixed ints and floats: float data
        (np.zeros(3, np.float64), np.float32),  # float64 arrays too: the default wins
        (np.zeros(3, np.float16), np.float32),
        (2.5, np.float32),
        ([1, 2, 3], np.int64),  # integers and booleans keep their dtype (labels)
        (np.arange(3, dtype=np.int32), np.int32),
        (np.arange(3, dtype=np.uint8), np.uint8),
        ([True, False], np.bool_),
    ],
)
def test_tensor_dtype_rules(data, dtype):
    assert numnet.tensor(data).dtype == dtype


def test_explicit_dtype_wins():
    assert numnet.tensor([1, 2], dtype="float64").dtype == np.float64
    assert numnet.tensor([1.7], dtype=np.int32).dtype == np.int32


def test_float_data_follows_the_default_dtype():
    numnet.set_default_dtype("float64")
    assert numnet.get_default_dtype() == np.float64
    assert numnet.tensor([1.0]).dtype == np.float64
    assert numnet.tensor([1]).dtype == np.int64
    numnet.set_default_dtype(np.float32)
    assert numnet.tensor([1.0]).dtype == np.float32


def test_floatx_scope_restores_the_default():
    with backend.floatx_scope("float64"):
        assert backend.floatx() == np.float64
    assert backend.floatx() == np.float32


@pytest.mark.parametrize("bad", ["float16", "int32", "foo", None, 3])
def test_set_default_dtype_rejects_other_dtypes(bad):
    with pytest.raises(
        TypeError, match=r"set_default_dtype.*'dtype'.*float32.*float64"
    ):
        numnet.set_default_dtype(bad)


@pytest.mark.parametrize("bad", ["foo", "complex64", object, "U3"])
def test_unknown_dtype_is_a_clear_error(bad):
    with pytest.raises(TypeError, match=r"tensor: invalid value for argument 'dtype'"):
        numnet.tensor([1.0], dtype=bad)


@pytest.mark.parametrize("data", [[1j], ["a"], [object()]])
def test_non_numeric_data_is_refused(data):
    with pytest.raises(TypeError, match="boolean, integer or floating-point"):
        numnet.tensor(data)


def test_only_floats_can_require_grad():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        numnet.tensor([1, 2], requires_grad=True)


def test_tensor_copies_its_data():
    for a in (np.zeros(3, np.float32), np.zeros(3, np.float64), np.zeros(3, int)):
        t = numnet.tensor(a)
        a[0] = 1
        assert t.data[0] == 0


def test_tensor_from_a_tensor_copies_and_leaves_the_graph():
    x = numnet.tensor([1.0, 2.0], requires_grad=True)
    y = numnet.tensor(x * 2)
    assert y.creator is None and not y.requires_grad
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    assert numnet.tensor(x, dtype="float64").dtype == np.float64


def test_astype_validates_and_int_casts_are_not_differentiable():
    x = numnet.tensor([1.5, 2.5], requires_grad=True)
    assert x.astype("float64").dtype == np.float64
    assert x.astype("float64").requires_grad
    assert not x.astype("int32").requires_grad
    with pytest.raises(TypeError, match="astype: invalid value for argument 'dtype'"):
        x.astype("bogus")


@pytest.mark.parametrize(
    "expr",
    [
        lambda x: x * 0.5,
        lambda x: 0.5 * x,
        lambda x: x / 3,
        lambda x: 3 / x,
        lambda x: 2**x,
        lambda x: x**2,
        lambda x: x ** np.float64(2.0),
        lambda x: x + np.float64(1.0),
        lambda x: x - np.ones(x.shape),  # a float64 ndarray constant
        lambda x: x.clip(np.float64(0.1), 3.0),
        lambda x: F.where(x.data > 1, x, 0.0),
        lambda x: F.pad(x, 1, value=np.float64(2.0)),
    ],
)
def test_constants_do_not_upcast_float32(expr):
    x = numnet.tensor([1.0, 2.0], requires_grad=True)
    with numnet.autograd.strict_dtypes():
        y = expr(x)
        assert y.dtype == np.float32
        y.sum().backward()
    assert x.grad.dtype == np.float32


def test_manual_seed_makes_draws_reproducible():
    numnet.manual_seed(42)
    first = backend.get_rng().standard_normal(5)
    numnet.manual_seed(42)
    np.testing.assert_array_equal(backend.get_rng().standard_normal(5), first)
    numnet.manual_seed(43)
    assert not np.array_equal(backend.get_rng().standard_normal(5), first)


def test_get_rng_with_explicit_seeds():
    a = backend.get_rng(7).random(3)
    np.testing.assert_array_equal(backend.get_rng(7).random(3), a)
    g = np.random.default_rng(0)
    assert backend.get_rng(g) is g


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_manual_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match=r"manual_seed.*'seed'.*Received: seed="):
        numnet.manual_seed(bad)


def test_basic_attributes_and_conversions():
    t = numnet.tensor([[1.0, 2.0, 3.0]])
    assert t.shape == (1, 3) and t.ndim == 2 and t.size == 3 and len(t) == 1
    assert t.numpy() is t.data
    assert np.asarray(t).dtype == np.float32
    s = t.sum()
    assert s.item() == 6.0 and float(s) == 6.0 and int(s) == 6 and bool(s)
    with pytest.raises(ValueError, match=r"item.*\(1, 3\)"):
        t.item()
    assert "tensor(" in repr(t) and "float32" in repr(t)


def test_equality_is_identity_so_tensors_can_live_in_sets():
    a, b = numnet.tensor([1.0]), numnet.tensor([1.0])
    assert a != b and a == a
    assert len({a, b}) == 2
    assert [a, b].index(b) == 1


def test_comparisons_give_boolean_tensors():
    x = numnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == bool and not mask.requires_grad
    np.testing.assert_array_equal((x <= 2).data, [True, True, False])


def test_parameter_requires_grad_and_has_a_name():
    p = numnet.Parameter(np.zeros((2, 2)), name="kernel")
    assert p.requires_grad and p.dtype == np.float32
    assert "kernel" in repr(p)


def test_requires_grad_in_place():
    x = numnet.tensor([1.0]).requires_grad_()
    assert x.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


@pytest.mark.parametrize(
    "method, function",
    [
        (lambda a, b: a.maximum(b), F.maximum),
        (lambda a, b: a.minimum(b), F.minimum),
        (lambda a, b: a.where(a.data > 0, b), lambda a, b: F.where(a.data > 0, a, b)),
        (lambda a, b: a.pow(2) + b, lambda a, b: a**2 + b),
        (lambda a, b: a.matmul(b.T), lambda a, b: F.matmul(a, F.transpose(b))),
        (lambda a, b: a.split(3, axis=1)[2], lambda a, b: F.split(a, 3, axis=1)[2]),
        (lambda a, b: a.swapaxes(0, 1), lambda a, b: F.transpose(a, (1, 0))),
        (lambda a, b: a.logsumexp(axis=1), lambda a, b: F.logsumexp(a, axis=1)),
        (lambda a, b: a.softmax(0), lambda a, b: F.softmax(a, axis=0)),
        (lambda a, b: a.log_softmax(), lambda a, b: F.log_softmax(a)),
        (lambda a, b: a.flatten(), lambda a, b: F.reshape(a, (-1,))),
        (lambda a, b: a.unsqueeze(0).squeeze(0), lambda a, b: a),
        (lambda a, b: a.broadcast_to((2, 2, 3)), lambda a, b: F.expand(a, (2, 2, 3))),
        (
            lambda a, b: a.mean(axis=0) + a.var(axis=0),
            lambda a, b: F.mean(a, 0) + F.var(a, 0),
        ),
        (lambda a, b: abs(a) - a.abs(), lambda a, b: F.abs(a) * 0),
        (lambda a, b: -a.sqrt().exp().log(), lambda a, b: F.neg(F.sqrt(a))),
    ],
)
def test_methods_agree_with_functional(method, function, rng):
    a = numnet.tensor(rng.uniform(0.5, 2.0, (2, 3)), dtype=np.float64)
    b = numnet.tensor(rng.uniform(0.5, 2.0, (2, 3)), dtype=np.float64)
    np.testing.assert_allclose(method(a, b).data, function(a, b).data, rtol=1e-12)


def _t(*shape):
    return numnet.tensor(np.ones(shape))


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: _t(2, 3) + _t(4), r"^add: .*broadcast.*\(2, 3\) and \(4,\)"),
        (lambda: _t(4) - _t(2, 3), r"^sub: .*\(4,\) and \(2, 3\)"),
        (lambda: _t(2, 3) * _t(3, 2), r"^mul: .*\(2, 3\) and \(3, 2\)"),
        (lambda: _t(2) / _t(3), r"^div: .*\(2,\) and \(3,\)"),
        (lambda: _t(2) ** _t(3), r"^pow: .*\(2,\) and \(3,\)"),
        (lambda: F.maximum(_t(2), _t(3)), r"^maximum: .*\(2,\) and \(3,\)"),
        (lambda: F.minimum(_t(2), _t(3)), r"^minimum: .*\(2,\) and \(3,\)"),
        (lambda: F.where(np.ones(2, bool), _t(3), 0.0), r"^where: .*\(2,\) and \(3,\)"),
        (lambda: _t(2, 3) @ _t(2, 3), r"^matmul: .*\(2, 3\).*\(2, 3\)"),
        (
            lambda: _t(2, 3, 4) @ _t(3, 4, 5),
            r"^matmul: batch.*\(2, 3, 4\).*\(3, 4, 5\)",
        ),
        (lambda: _t(3) @ _t(), r"^matmul: .*at least 1-D"),
        (lambda: F.linear(_t(2, 3), _t(4, 5)), r"^linear: .*\(2, 3\).*\(4, 5\)"),
        (lambda: _t(2, 3).reshape(4), r"^reshape: .*\(2, 3\).*\(4,\)"),
        (lambda: _t(2, 3).transpose(0, 0), r"^transpose: .*\(2, 3\)"),
        (lambda: _t(2, 3).broadcast_to((4, 3)), r"^broadcast_to: .*\(2, 3\).*\(4, 3\)"),
        (lambda: F.sum_to(_t(2, 3), (4,)), r"^sum_to: .*\(2, 3\).*\(4,\)"),
        (lambda: _t(2, 3).squeeze(0), r"^squeeze: .*\(2, 3\)"),
        (lambda: _t(2, 3).sum(axis=2), r"^sum: axis 2 .*2 dimension"),
        (lambda: _t(2, 3).max(axis=(0, 0)), r"^max: repeated axis"),
        (lambda: _t(2, 3).split(4, axis=1), r"^split: .*\(2, 3\).*4.*axis 1"),
        (lambda: F.concatenate([_t(2, 3), _t(3, 2)], 1), r"^concatenate: .*\(2, 3\)"),
        (lambda: F.concatenate([_t(2, 3)], axis=2), r"^concatenate: axis 2"),
        (lambda: F.stack([_t(2, 3), _t(2, 4)]), r"^stack: .*\(2, 3\), \(2, 4\)"),
        (lambda: F.stack([]), r"^stack: expected at least one"),
        (lambda: F.pad(_t(2), -1), r"^pad: invalid value for argument 'pad_width'"),
        (lambda: F.clip(_t(2)), r"^clip: at least one"),
    ],
)
def test_shape_errors_name_the_op_and_the_shapes(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(
        ValueError, match=r"'activation'.*'relu'.*Received: activation='rleu'"
    ):
        F.get_activation("rleu")
