"""The per-step fast paths (memoized settings and array lookups, the leaner op
call, engine and layer call) behave exactly as the general paths they skip."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import backend, config, layers
from numnet.autograd import Function


def test_memoized_using_still_validates_and_sees_new_defaults():
    with config.using(num_threads=1):
        pass
    with pytest.raises(ValueError, match="num_threads"):  # 1.0 == 1: not a memo hit
        with config.using(num_threads=1.0):
            pass
    with pytest.raises(TypeError, match="unknown setting"):
        with config.using(bogus=True):
            pass
    before = config.get().memory_budget
    try:
        with numnet.no_grad():
            assert not numnet.is_grad_enabled()
        config.set(memory_budget=12345)  # new process defaults: a new base
        with numnet.no_grad():
            assert config.get().memory_budget == 12345
            assert not numnet.is_grad_enabled()
    finally:
        config.set(memory_budget=before)
    assert numnet.is_grad_enabled()


def test_using_nests_and_decorates_a_recursive_function():
    scope = numnet.no_grad()

    @scope
    def depth(n):
        assert not numnet.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3 and numnet.is_grad_enabled()
    with numnet.no_grad():
        with numnet.enable_grad():
            assert numnet.is_grad_enabled()
        assert not numnet.is_grad_enabled()
    with config.using(kernel_plans={"conv2d": None}) as s:  # unhashable: no memo
        assert dict(s.kernel_plans) == {"conv2d": None}


def test_namespace_and_ops_matches_the_general_lookups():
    arrays = (np.ones(2, np.float32), np.float64(1.0), np.ones(3, bool))
    xp, ops = backend.namespace_and_ops(arrays)
    assert xp is backend.get_array_module(*arrays) is np
    assert ops is backend.get_ops(np) is backend.get_ops(arrays[0])
    assert backend.get_array_module(np.ones(1)) is np


def test_register_ops_replaces_the_memoized_ops_of_an_array_type():
    from numnet.backend.numpy_ops import NumpyOps

    backend.namespace_and_ops((np.ones(2),))  # memoize ndarray's ops

    class Marked(NumpyOps):
        name = "marked"

    original = backend.get_ops(np)
    try:
        backend.register_ops(Marked())
        assert backend.get_ops(np.ones(2)).name == "marked"
        assert backend.namespace_and_ops((np.ones(2),))[1].name == "marked"
    finally:
        backend.register_ops(original)
    assert backend.get_ops(np.ones(2)) is original


class _Pick(Function):
    """x[labels]-like op whose second input (labels) is never differentiable."""

    nondifferentiable = (1,)

    def forward(self, x, labels):
        self.labels = labels
        return x * 2

    def backward(self, gy):
        return gy * 2, None


def test_op_call_records_only_differentiable_inputs_and_wraps_constants():
    x = numnet.tensor(np.ones(3, np.float32), requires_grad=True)
    labels = numnet.tensor(np.ones(3, np.float32), requires_grad=True)
    y = _Pick()(x, labels)
    assert y.creator.needs_input_grad == (True, False)
    y.sum().backward()
    assert np.array_equal(x.grad, np.full(3, 2, np.float32)) and labels.grad is None
    z = x * 0.5  # a Python float operand stays float32
    assert z.dtype == np.float32 and z.creator.needs_input_grad == (True, False)
    with numnet.no_grad():
        w = x * 2.0
    assert not w.requires_grad and w.creator is None


def test_engine_still_fits_broadcast_and_other_dtype_gradients():
    class Upcast(Function):  # a backward returning float64 for a float32 input
        def forward(self, x):
            return x + 0

        def backward(self, gy):
            return np.ones((2,) + gy.shape, np.float64)[0] * gy

    x = numnet.tensor(np.ones((1, 3), np.float32), requires_grad=True)
    b = numnet.tensor(np.ones(3, np.float32), requires_grad=True)
    (Upcast()(x) + b).sum().backward()
    assert x.grad.dtype == np.float32 and b.grad.shape == (3,)
    y = F.relu(x) * 2
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()  # a fresh sum, through the freed graph


def test_layer_call_fast_path_keeps_the_input_checks():
    dense = layers.Dense(2, name="head")
    with pytest.raises(TypeError, match="head"):
        dense(np.array([["a", "b"]]))
    out = dense(np.ones((1, 3), np.float64))  # arrays are cast to the layer dtype
    assert out.dtype == np.float32
    x = numnet.tensor(np.ones((1, 3), np.float32), requires_grad=True)
    dense(x).sum().backward()  # a Tensor input passes through, in the graph
    assert x.grad.shape == (1, 3)


def test_optimizer_fast_path_keeps_the_shape_check():
    w = numnet.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = numnet.optimizers.Adam(0.1)
    opt.apply([np.ones(3, np.float32)], [w])
    assert opt.iterations == 1 and not np.allclose(w.data, 1)
    with pytest.raises(ValueError, match="does not match parameter"):
        opt.apply([np.ones(4, np.float32)], [w])
