"""numnet.gradcheck must be able to fail: planted bugs are caught, good ops pass."""

from __future__ import annotations

import re

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet.autograd import Function, GradcheckError


class _ZeroGradSoftmax(Function):
    """A softmax whose backward returns zeros (the bug an all-ones check misses)."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, gy):
        return np.zeros_like(gy)


class _TransposedMatMul(Function):
    """a @ b whose gradient for a forgets to transpose b."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        return gy @ self.b, self.a.T @ gy  # bug: should be gy @ b.T


class _MisreducedAdd(Function):
    """a + b (b broadcast over rows) whose b-gradient averages instead of summing."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        # bug: the adjoint of broadcasting is a sum; this returns the mean (already
        # reduced, so the engine's central un-broadcast has nothing left to fix)
        return gy, gy.mean(axis=0, keepdims=True)


class _FirstRowAdd(_MisreducedAdd):
    def backward(self, gy):
        return gy, gy[:1]  # bug: drops every row but the first


def test_zeroed_softmax_backward_is_caught(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(GradcheckError):
        numnet.gradcheck(lambda t: _ZeroGradSoftmax()(t), [x])
    assert numnet.gradcheck(lambda t: F.softmax(t, axis=-1), [x])


def test_why_the_upstream_gradient_is_random(rng):
    # sum(softmax(x)) is 1 whatever x: its true gradient is zero, so a check of
    # sum(f(x)) (an all-ones upstream gradient) would pass the zeroed backward
    x = numnet.tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
    F.softmax(x, axis=-1).sum().backward()
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-12)


def test_transposed_matmul_gradient_is_caught(rng):
    a, b = (
        rng.standard_normal((3, 3)),
        rng.standard_normal((3, 3)),
    )  # square: shapes agree
    with pytest.raises(GradcheckError, match="input 0"):
        numnet.gradcheck(lambda x, y: _TransposedMatMul()(x, y), [a, b])
    assert numnet.gradcheck(F.matmul, [a, b])


@pytest.mark.parametrize("op", [_MisreducedAdd, _FirstRowAdd])
def test_wrongly_reduced_broadcast_gradient_is_caught(op, rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    with pytest.raises(GradcheckError, match="input 1"):
        numnet.gradcheck(lambda x, y: op()(x, y), [a, b])
    assert numnet.gradcheck(F.add, [a, b])


def test_large_inputs_are_checked_along_random_directions(rng):
    a = rng.standard_normal((30, 30))  # 900 elements > full_limit
    b = rng.standard_normal((30, 30))
    with pytest.raises(GradcheckError, match="random direction"):
        numnet.gradcheck(lambda x, y: _TransposedMatMul()(x, y), [a, b])
    assert numnet.gradcheck(F.matmul, [a, b])


def test_error_names_input_element_and_both_values(rng):
    class Halved(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy  # bug: should be 2 * gy

    x = rng.standard_normal((2, 3))
    with pytest.raises(GradcheckError) as info:
        numnet.gradcheck(lambda t: Halved()(t), [x])
    message = str(info.value)
    assert "input 0" in message
    match = re.search(
        r"at element \((\d+), (\d+)\) the analytic gradient is (\S+) but the "
        r"numerical one is (\S+) ",
        message,
    )
    assert match, message
    analytic, numeric = float(match[3]), float(match[4])
    np.testing.assert_allclose(numeric, 2 * analytic, rtol=1e-6)


def test_weights_passed_with_wrt_are_checked(rng):
    w = numnet.tensor(rng.standard_normal((3, 2)), requires_grad=True, dtype=np.float64)
    w.name = "kernel"
    x = rng.standard_normal((4, 3))
    assert numnet.gradcheck(lambda t: t @ w, [x], wrt=[w])

    v = numnet.tensor(rng.standard_normal((3, 3)), requires_grad=True, dtype=np.float64)
    v.name = "kernel"
    y = rng.standard_normal((3, 3))
    with pytest.raises(GradcheckError, match="tensor 'kernel'"):
        numnet.gradcheck(lambda t: _TransposedMatMul()(v, t), [y], wrt=[v])


def test_float32_inputs_are_refused(rng):
    x32 = rng.standard_normal(3).astype(np.float32)
    with pytest.raises(TypeError, match="input 0.*float32.*float64"):
        numnet.gradcheck(F.exp, [x32])
    with pytest.raises(TypeError, match="float32"):
        numnet.gradcheck(F.exp, [numnet.tensor(x32)])
    w = numnet.tensor(x32, requires_grad=True)
    with pytest.raises(TypeError, match="wrt"):
        numnet.gradcheck(lambda t: t * w, [x32.astype(np.float64)], wrt=[w])


def test_non_array_arguments_pass_through(rng):
    x = rng.standard_normal((2, 3))
    index = np.array([1, 1, 0])
    assert numnet.gradcheck(lambda t, i, axis: t[:, i].sum(axis=axis), [x, index, 0])


def test_multiple_outputs_are_all_checked(rng):
    x = rng.standard_normal((4, 3))
    assert numnet.gradcheck(lambda t: F.split(t, 2), [x])

    class SecondOutputWrong(Function):
        def forward(self, x):
            return x * 2, x * 3

        def backward(self, g1, g2):
            return 2 * g1 + 2 * g2  # bug: the second output's factor is 3

    with pytest.raises(GradcheckError):
        numnet.gradcheck(lambda t: SecondOutputWrong()(t), [x])


def test_a_nan_gradient_is_a_failure(rng):
    class NaNBackward(Function):
        def forward(self, x):
            return x * 1

        def backward(self, gy):
            return gy * np.nan

    with pytest.raises(GradcheckError):
        numnet.gradcheck(lambda t: NaNBackward()(t), [rng.standard_normal(3)])


def test_inputs_are_not_modified(rng):
    x = rng.standard_normal((2, 2))
    before = x.copy()
    numnet.gradcheck(F.tanh, [x])
    np.testing.assert_array_equal(x, before)
