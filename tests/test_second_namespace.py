"""The array seam is real: numnet runs on a second, strict array namespace.

``tests/strict_namespace.py`` defines ``StrictArray``: NumPy behind a wall that
refuses every call that would only work because the data is NumPy
(``np.exp(x)``, ``np.asarray(x)``, a raw ``np.zeros`` mixed in, ``x.base``). On it
numnet runs its portable reference kernels (``numnet.backend.ops.Ops``); on
NumPy it runs the CPU fast paths (``NumpyOps``). Here the op tables of
``tests/functional/test_ops.py`` and ``test_tensor_ops.py``, gradchecks of layers
and a small training loop run on both, and must agree; a call that slips past
the seam fails the test (it raises, and it is recorded in ``SLIPS`` even when
some code catches the error).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.functional.test_ops import CASES as CORE_CASES
from tests.functional.test_tensor_ops import TENSOR_CASES
from tests.strict_namespace import (
    SLIPS,
    STRICT,
    SeamError,
    StrictArray,
    to_numpy,
    to_strict,
)

import numnet
import numnet.functional as F
from numnet import backend, layers
from numnet.backend.numpy_ops import NumpyOps
from numnet.backend.ops import Ops

#: rows whose own test code builds NumPy arrays (``x * np.full(...)``): mixing
#: namespaces is the caller's error on any backend (CuPy refuses it too)
NUMPY_ONLY_ROWS = {"x*ndarray", "ndarray*x", "ndarray-x"}
#: the core op table and the tensor namespace's (numnet.ops)
CASES = CORE_CASES + TENSOR_CASES
STRICT_CASES = [c for c in CASES if c.name not in NUMPY_ONLY_ROWS]
AGREE = {"rtol": 1e-9, "atol": 1e-12}  # float64: fast paths vs reference kernels


@pytest.fixture(autouse=True)
def _no_slips():
    SLIPS.clear()
    yield
    assert not SLIPS, f"calls slipped past the array seam: {SLIPS}"


def _leaves(args):
    return [
        numnet.tensor(a, requires_grad=True, dtype=np.float64)
        if hasattr(a, "dtype") and a.dtype.kind == "f"
        else a
        for a in args
    ]


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _forward_backward(case, args, seed):
    """Outputs and input gradients of ``case.fn`` for a random upstream gradient."""
    leaves = _leaves(args)
    outs = _outputs(case.fn(*leaves))
    rng = np.random.default_rng(seed)
    total = None
    for out in outs:
        xp = backend.get_array_module(out.data)
        g = xp.asarray(rng.standard_normal(out.shape))  # the same draws on both
        term = (out * g).sum()
        total = term if total is None else total + term
    if total.requires_grad:
        total.backward()
    grads = [t.grad for t in leaves if isinstance(t, numnet.Tensor)]
    return [o.data for o in outs], grads


@pytest.mark.parametrize("case", STRICT_CASES, ids=[c.name for c in STRICT_CASES])
@settings(max_examples=2, derandomize=True)
@given(data=st.data())
def test_op_table_agrees_on_both_namespaces_and_gradchecks(case, data):
    args = data.draw(case.inputs)
    fast_outs, fast_grads = _forward_backward(case, args, seed=1)
    strict_args = to_strict(args)
    outs, grads = _forward_backward(case, strict_args, seed=1)
    assert all(isinstance(o, StrictArray) for o in outs), "output left the namespace"
    for a, b in zip(fast_outs + fast_grads, outs + grads, strict=True):
        assert isinstance(b, StrictArray) or b is None
        np.testing.assert_allclose(to_numpy(b), a, **AGREE)
    assert numnet.gradcheck(case.fn, strict_args, **case.check)


def _dense_stack():
    return numnet.models.Sequential(
        [layers.Dense(5, activation="relu"), layers.Dense(3, activation="sigmoid")]
    )


LAYERS = {
    "Dense": (lambda: layers.Dense(4, activation="tanh"), (3, 5)),
    "Dense_stack": (_dense_stack, (4, 6)),
    "LayerNormalization": (lambda: layers.LayerNormalization(), (3, 6)),
    "BatchNormalization": (lambda: layers.BatchNormalization(), (5, 4)),
    "Embedding": (lambda: layers.Embedding(7, 3), None),
    "SimpleRNN": (lambda: layers.SimpleRNN(3, return_sequences=True), (2, 4, 3)),
    "GRU": (lambda: layers.GRU(3), (2, 3, 2)),
    "LSTM": (lambda: layers.LSTM(3, return_sequences=True), (2, 3, 2)),
    "Softmax": (lambda: layers.Softmax(), (3, 4)),
    "Dropout": (lambda: layers.Dropout(0.5), (4, 5)),
}


def _input(name, shape, rng):
    if name == "Embedding":
        return rng.integers(0, 7, (3, 4))
    return rng.standard_normal(shape)


def _move_weights(layer, convert) -> None:
    for w in layer.weights:
        w.data = convert(w.data)


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("training", [False, True])
def test_layer_gradients_agree_on_both_namespaces(name, training):
    factory, shape = LAYERS[name]
    x = _input(name, shape, np.random.default_rng(0))
    with backend.floatx_scope("float64"):
        numnet.manual_seed(3)
        layer = factory()
        layer(x, training=False)  # build, on NumPy
        initial = [w.data.copy() for w in layer.weights]
        results = []
        for convert in (lambda a: a, to_strict):
            for w, value in zip(layer.weights, initial, strict=True):
                w.data = convert(value.copy())
            numnet.manual_seed(5)  # the same dropout masks on both (host draws)
            xt = numnet.tensor(convert(x))
            if xt.dtype.kind == "f":
                xt.requires_grad_()
            with numnet.config.using(random_on_device=False):
                y = layer(xt, training=training)
            g = convert(np.random.default_rng(1).standard_normal(y.shape))
            layer.zero_grad()
            (y * g).sum().backward()
            grads = [xt.grad] + [w.grad for w in layer.trainable_weights]
            results.append([y.data] + [a for a in grads if a is not None])
        for a, b in zip(*results, strict=True):
            assert isinstance(b, StrictArray)
            np.testing.assert_allclose(to_numpy(b), a, **AGREE)
        if not training:  # gradcheck on the strict namespace itself
            inputs = [to_strict(x)] if x.dtype.kind == "f" else []
            fn = (lambda t: layer(t, training=False)) if inputs else None
            if fn is None:
                xs = to_strict(x)
                inputs, fn = [], lambda: layer(numnet.tensor(xs), training=False)
            assert numnet.gradcheck(fn, inputs, wrt=layer.trainable_weights)


def _train(convert, steps=15, lr=0.5):
    """Plain gradient descent of a small MLP classifier; the loss of each step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    labels = (x[:, :2].sum(axis=1) > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    numnet.manual_seed(0)
    model = numnet.models.Sequential(
        [layers.Dense(16, activation="relu"), layers.Dropout(0.1), layers.Dense(4)]
    )
    model(x[:1])
    _move_weights(model, convert)
    xs, ys = numnet.tensor(convert(x)), convert(labels)
    losses = []
    for _ in range(steps):
        with numnet.config.using(random_on_device=False):  # the CPU's masks
            logits = model(xs, training=True)
        loss = F.sparse_softmax_cross_entropy(logits, ys).mean()
        model.zero_grad()
        loss.backward()
        with numnet.no_grad():
            for w in model.trainable_weights:
                w.data = w.data - np.float32(lr) * w.grad
        losses.append(float(loss.item()))
    return losses, [w.data for w in model.weights]


def test_a_small_training_run_agrees_on_both_namespaces():
    fast, fast_weights = _train(lambda a: a)
    strict, strict_weights = _train(to_strict)
    assert strict[-1] < 0.7 * strict[0], f"the loss did not fall: {strict}"
    # float32: the fast paths sum in another order (BLAS GEMV vs pairwise)
    np.testing.assert_allclose(strict, fast, rtol=1e-4)
    for a, b in zip(fast_weights, strict_weights, strict=True):
        np.testing.assert_allclose(to_numpy(b), a, rtol=1e-3, atol=1e-5)


def test_the_seam_picks_kernels_by_namespace():
    assert isinstance(backend.get_ops(np.zeros(2)), NumpyOps)
    strict_ops = backend.get_ops(STRICT.asarray(np.zeros(2)))
    assert type(strict_ops) is Ops and strict_ops.xp is STRICT
    assert backend.get_ops(STRICT) is strict_ops


@pytest.mark.parametrize(
    "slip",
    [
        lambda x: np.exp(x),  # a NumPy function on the array
        lambda x: np.asarray(x),  # a silent conversion
        lambda x: x + np.zeros(x.shape),  # an array created past the seam
        lambda x: x.flags,  # a NumPy-only attribute
        lambda x: backend.get_array_module(x).add.at,  # a NumPy-only kernel
    ],
)
def test_a_call_past_the_seam_fails(slip):
    x = STRICT.asarray(np.ones((2, 3)))
    with pytest.raises((SeamError, TypeError, AttributeError)):
        slip(x)
    SLIPS.clear()


def test_an_op_written_past_the_seam_fails_on_the_strict_namespace():
    class LeakyExp(numnet.Function):  # uses np.exp instead of self.xp.exp
        def forward(self, x):
            return np.exp(x)

        def backward(self, gy):
            return gy

    x = numnet.tensor(STRICT.asarray(np.ones(3)))
    LeakyExp()(numnet.tensor(np.ones(3)))  # NumPy itself cannot tell
    with pytest.raises(TypeError):
        LeakyExp()(x)


@pytest.mark.parametrize("shape, lead", [((64, 9, 8), 2), ((3, 4), 1), ((5,), 0)])
def test_numpy_fast_paths_match_the_reference_kernels(shape, lead):
    rng = np.random.default_rng(0)
    fast, reference = NumpyOps(), Ops(np)
    a = rng.standard_normal(shape)
    np.testing.assert_allclose(
        fast.sum_leading(a, lead), reference.sum_leading(a, lead), rtol=1e-12
    )
    idx, rows = rng.integers(0, 6, 40), rng.standard_normal((40, 3))
    np.testing.assert_allclose(
        fast.scatter_add_rows(idx, rows, 6),
        reference.scatter_add_rows(idx, rows, 6),
        rtol=1e-12,
    )
    index = (rng.integers(0, 3, 7), rng.integers(0, 4, 7))
    values = rng.standard_normal(7)
    np.testing.assert_allclose(
        fast.index_add((3, 4), index, values),
        reference.index_add((3, 4), index, values),
        rtol=1e-12,
    )
    for mine, ref in zip(fast.relu(a), reference.relu(a), strict=True):
        np.testing.assert_array_equal(mine, ref)
    np.testing.assert_allclose(fast.sigmoid(a), reference.sigmoid(a), rtol=1e-15)
    y, gy = fast.relu(a)[0], rng.standard_normal(shape)
    np.testing.assert_array_equal(
        fast.relu_backward(gy, y), reference.relu_backward(gy, y)
    )
    big = rng.standard_normal((256, 40, 40)).astype(np.float32)  # split on threads
    np.testing.assert_array_equal(
        fast.relu_backward(big[::-1], np.maximum(big, 0)),
        big[::-1] * (big > 0),
    )
