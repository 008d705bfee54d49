"""The tensor namespace: numnet.ones/zeros/..., numnet.random, numnet.ops, top level."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numnet
from numnet import ops


def test_creation_functions_take_tuples_or_ints_and_default_to_float32():
    assert numnet.zeros(2, 3).shape == numnet.zeros((2, 3)).shape == (2, 3)
    assert numnet.ones([4]).dtype == np.float32
    assert numnet.full((2, 2), 3).numpy().tolist() == [[3, 3], [3, 3]]
    assert numnet.full((2,), 1.5).dtype == np.float32
    assert numnet.arange(5).dtype == np.int64  # ints stay ints (NumPy, PyTorch)
    assert numnet.arange(0.0, 1.0, 0.25).numpy().tolist() == [0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(numnet.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert numnet.eye(3, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(numnet.eye(2, 3, k=1).numpy(), np.eye(2, 3, k=1))
    assert numnet.ones(2, requires_grad=True).requires_grad


def test_like_functions_keep_shape_and_dtype():
    x = numnet.tensor(np.zeros((2, 3)), dtype="float64")
    assert numnet.zeros_like(x).dtype == np.float64
    assert numnet.zeros_like(np.zeros(3)).dtype == np.float64
    assert numnet.ones_like(np.zeros((4,), np.int32)).dtype == np.int32
    assert numnet.full_like(x, 7.0).numpy().sum() == 42
    assert numnet.ones_like(x, dtype="float32").dtype == np.float32


def test_creation_rejects_bad_shapes():
    with pytest.raises(ValueError, match="zeros: invalid shape"):
        numnet.zeros(2, -1)


def test_random_uses_numnets_generator():
    numnet.manual_seed(3)
    a = numnet.random.normal((100,))
    numnet.manual_seed(3)
    b = numnet.random.normal((100,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == np.float32
    # an explicit int seed is a private generator: same seed, same numbers
    u1 = numnet.random.uniform((3,), minval=2, maxval=3, seed=5)
    u2 = numnet.random.uniform((3,), minval=2, maxval=3, seed=5)
    np.testing.assert_array_equal(u1.numpy(), u2.numpy())
    assert ((u1.numpy() >= 2) & (u1.numpy() < 3)).all()


def test_random_distributions_have_the_documented_moments():
    x = numnet.random.normal((20000,), mean=2.0, stddev=3.0, seed=0).numpy()
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    t = numnet.random.truncated_normal((20000,), stddev=1.0, seed=0).numpy()
    assert np.abs(t).max() <= 2.0
    r = numnet.random.randint((1000,), 0, 4, seed=0).numpy()
    assert set(np.unique(r)) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="minval < maxval"):
        numnet.random.uniform((2,), minval=1, maxval=1)


def test_shuffle_permutes_along_the_axis():
    x = np.arange(12).reshape(6, 2)
    y = numnet.random.shuffle(x, seed=0).numpy()
    assert sorted(map(tuple, y)) == sorted(map(tuple, x))


UNARY = {
    "sin": (np.sin, "normal"),
    "cos": (np.cos, "normal"),
    "tan": (np.tan, "small"),
    "arcsin": (np.arcsin, "small"),
    "arccos": (np.arccos, "small"),
    "arctan": (np.arctan, "normal"),
    "sinh": (np.sinh, "normal"),
    "cosh": (np.cosh, "normal"),
    "arcsinh": (np.arcsinh, "normal"),
    "log1p": (np.log1p, "positive"),
    "expm1": (np.expm1, "normal"),
    "log2": (np.log2, "positive"),
    "log10": (np.log10, "positive"),
    "square": (np.square, "normal"),
    "reciprocal": (np.reciprocal, "positive"),
    "std": (np.std, "normal"),
    "negative": (np.negative, "normal"),
}


def _draw(rng, kind, shape):
    if kind == "small":
        return rng.uniform(-0.8, 0.8, shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_forward_and_gradcheck(name, rng):
    reference, kind = UNARY[name]
    x = _draw(rng, kind, (3, 4))
    fn = getattr(ops, name)
    np.testing.assert_allclose(fn(numnet.tensor(x, dtype="float64")).numpy(),
                               reference(x), rtol=1e-12)  # fmt: skip
    assert numnet.gradcheck(fn, [x])
    assert getattr(numnet, name) is fn  # also at top level


def test_unary_ops_reject_integer_tensors():
    with pytest.raises(TypeError, match="sin: expected a floating-point tensor"):
        ops.sin(numnet.arange(3))


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->i", [(3, 4)]),  # a label summed inside one operand
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(3, 3)]),  # diagonal: repeated label
    ("ii", [(3, 3)]),  # trace
    ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)]),  # ellipsis
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),  # three operands
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 2, 4)]),  # attention scores
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUM_CASES)
def test_einsum_forward_matches_numpy_and_gradchecks(spec, shapes, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    out = numnet.einsum(spec, *[numnet.tensor(a, dtype="float64") for a in arrays])
    np.testing.assert_allclose(out.numpy(), np.einsum(spec, *arrays), rtol=1e-10)
    assert numnet.gradcheck(lambda *ts: numnet.einsum(spec, *ts), arrays)


def test_einsum_gradient_matches_torch_when_installed(rng):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    g = rng.standard_normal((3,))
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    (torch.einsum("ij,jj->i", ta, tb) * torch.tensor(g)).sum().backward()
    na = numnet.tensor(a, requires_grad=True, dtype="float64")
    nb = numnet.tensor(b, requires_grad=True, dtype="float64")
    (numnet.einsum("ij,jj->i", na, nb) * g).sum().backward()
    np.testing.assert_allclose(na.grad, ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(nb.grad, tb.grad.numpy(), rtol=1e-10)


def test_einsum_errors_name_the_subscripts():
    with pytest.raises(ValueError, match="einsum: subscripts 'ij,jk->ik' do not fit"):
        numnet.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="name 2 operand"):
        numnet.einsum("ij,jk->ik", np.ones((2, 3)))


@given(axis=st.integers(-2, 1))
def test_cumsum_forward_and_gradcheck(axis):
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(ops.cumsum(numnet.tensor(x, dtype="float64"), axis)
                               .numpy(), np.cumsum(x, axis))  # fmt: skip
    assert numnet.gradcheck(lambda t: ops.cumsum(t, axis), [x])


def test_cumsum_without_axis_flattens():
    assert ops.cumsum(np.ones((2, 2))).numpy().tolist() == [1, 2, 3, 4]


def test_shape_ops_and_no_grad_ops():
    x = numnet.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert ops.expand_dims(x, 0).shape == (1, 2, 3)
    assert ops.shape(x) == (2, 3)
    assert ops.argmax(x, axis=1).numpy().tolist() == [2, 2]
    assert ops.argmin(x).numpy() == 0
    assert not ops.argmax(x).requires_grad
    assert ops.greater(x, 2).numpy().tolist() == [[False, False, False], [True] * 3]
    assert not ops.sign(x).requires_grad
    assert ops.round(numnet.tensor([0.5, 1.5])).numpy().tolist() == [0, 2]
    assert bool(ops.all(ops.equal(x, x)).numpy())
    y = ops.expand_dims(x, -1)
    ops.sum(ops.square(y)).backward()
    np.testing.assert_allclose(x.grad, 2 * x.numpy())


def test_top_level_namespace_has_the_tensor_functions():
    for name in ("ones", "zeros", "full", "arange", "linspace", "eye", "zeros_like",
                 "ones_like", "full_like", "sin", "square", "argmax", "expand_dims",
                 "einsum", "sum", "mean", "exp", "matmul", "concatenate"):  # fmt: skip
        assert callable(getattr(numnet, name)), name
    assert callable(numnet.functional.shape)
    assert numnet.random.normal is not None and numnet.ops.einsum is numnet.einsum


def test_pytorch_keywords_name_numnets_spelling():
    x = numnet.ones(2, 3)
    with pytest.raises(TypeError, match="sum: unexpected keyword argument 'dim'; "
                       "numnet spells it 'axis'"):  # fmt: skip
        numnet.sum(x, dim=1)
    with pytest.raises(TypeError, match="'keepdim'.*'keepdims'"):
        ops.mean(x, axis=1, keepdim=True)
    with pytest.raises(TypeError, match="argmax.*'axis'"):
        numnet.argmax(x, dim=0)
    assert numnet.sum(x, axis=1).shape == (2,)  # the numnet spelling still works
    assert numnet.softmax.__doc__ == numnet.functional.softmax.__doc__
