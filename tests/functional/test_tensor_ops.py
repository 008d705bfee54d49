"""The tensor ops a PyTorch or Keras-ops user reaches for: gathers, sort/top_k,
products, norms, rearrangements, and the helpers without a gradient.

``TENSOR_CASES`` is a table in the format of ``tests/functional/test_ops.py``:
each row is run through the same forward / float64 gradcheck / float32 checks
here, and on the strict second namespace (``tests/test_second_namespace.py``)
and on CuPy (``tests/gpu/test_cupy.py``), which import it. Where PyTorch has
the op, values and gradients are also compared with torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.functional.test_ops import (
    SEEDS,
    SIDE,
    Case,
    _array,
    along_axis,
    check_float32,
    check_forward,
    check_gradcheck,
    distinct,
    nonzero,
    normal,
    positive,
    reduction,
    shapes,
    unary,
)
from tests.strict_namespace import SLIPS, StrictArray, to_numpy, to_strict

import numnet
from numnet import ops


def with_zeros(rng, s):
    # about a third exact zeros: the products' gradients must stay exact there
    return rng.standard_normal(s) * (rng.random(s) > 0.35)


def with_non_finite(rng, s):
    x = rng.standard_normal(s)
    kinds = rng.integers(0, 6, s)
    return np.select([kinds == 0, kinds == 1, kinds == 2], [np.nan, np.inf, -np.inf], x)


@st.composite
def take_args(draw):
    x = _array(draw, normal, draw(shapes(min_dims=1)))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    rng = np.random.default_rng(draw(SEEDS))
    return x, rng.integers(-n, n, size=draw(shapes(max_dims=2))), axis


@st.composite
def along_args(draw, sampler=normal):
    x, axis = draw(along_axis(sampler))
    a = axis % x.ndim
    shape = [
        draw(st.integers(1, SIDE + 1)) if d == a else draw(st.sampled_from([1, n]))
        for d, n in enumerate(x.shape)
    ]
    rng = np.random.default_rng(draw(SEEDS))
    return x, rng.integers(0, x.shape[a], size=tuple(shape)), axis


@st.composite
def top_k_args(draw, any_axis=False):
    x, axis = draw(along_axis(distinct))
    k = draw(st.integers(0, x.shape[axis]))
    return (x, k, axis) if any_axis else (np.moveaxis(x, axis, -1).copy(), k)


@st.composite
def norm_args(draw):
    x = _array(draw, distinct, draw(shapes(min_dims=1)))
    if draw(st.booleans()) and x.ndim >= 2:  # Frobenius, over a pair of axes
        pair = tuple(draw(st.permutations(range(x.ndim)))[:2])
        return x, draw(st.sampled_from([None, "fro"])), pair, draw(st.booleans())
    ord_ = draw(st.sampled_from([None, 2, 1, math.inf, -math.inf]))
    return x, ord_, draw(st.integers(-x.ndim, x.ndim - 1)), draw(st.booleans())


@st.composite
def roll_args(draw):
    x = _array(draw, normal, draw(shapes(min_dims=1)))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    return x, draw(st.integers(-5, 5)), axis


@st.composite
def tile_args(draw):
    x = _array(draw, normal, draw(shapes()))
    return x, tuple(draw(st.lists(st.integers(1, 3), max_size=3)))


@st.composite
def repeat_args(draw):
    x = _array(draw, normal, draw(shapes(min_dims=1)))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    counts = st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n)
    return x, draw(counts), axis


@st.composite
def matrix_args(draw):
    x = _array(draw, normal, draw(shapes(min_dims=2)))
    return x, draw(st.integers(-2, 2))


@st.composite
def diagonal_args(draw):
    x, offset = draw(matrix_args())
    a1, a2 = draw(st.permutations(range(x.ndim)))[:2]
    return x, offset, a1 - x.ndim * draw(st.booleans()), a2


@st.composite
def moveaxis_args(draw):
    x = _array(draw, normal, draw(shapes()))
    n = draw(st.integers(0, x.ndim))
    source = draw(st.permutations(range(x.ndim)))[:n]
    return x, tuple(source), tuple(draw(st.permutations(range(x.ndim)))[:n])


@st.composite
def stack_args(draw, vertical):
    s = draw(shapes(max_dims=2))
    axis = 0 if vertical or len(s) < 2 else 1
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        si = list(s)
        if si and (vertical and len(si) == 2 or not vertical):
            si[axis] = draw(st.integers(1, SIDE))
        xs.append(_array(draw, normal, tuple(si)))
    return tuple(xs)


@st.composite
def masked_fill_args(draw):
    x = _array(draw, normal, draw(shapes()))
    mask_shape = draw(st.sampled_from([x.shape, x.shape[1:]]))
    mask = np.random.default_rng(draw(SEEDS)).random(mask_shape) > 0.5
    return x, mask, draw(st.sampled_from([0.0, -3.0]))


@st.composite
def mod_args(draw):
    a = _array(draw, normal, draw(shapes()))
    b = _array(draw, nonzero, draw(st.sampled_from([a.shape, ()])))
    return np.asarray(a * 3), b  # a 0-d array, not a NumPy scalar


@st.composite
def outer_args(draw):
    return tuple(_array(draw, normal, draw(shapes(max_dims=2))) for _ in range(2))


def _ref_norm(x, ord_, axis, keepdims):
    if isinstance(axis, tuple):
        return np.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
    return np.linalg.norm(x, ord=ord_, axis=axis, keepdims=keepdims)


def _ref_repeat(x, repeats, axis):
    return np.repeat(x, repeats, axis=axis)


def _ref_take_along(x, idx, axis):
    return np.take_along_axis(x, np.broadcast_to(idx, _along_shape(x, idx, axis)), axis)


def _along_shape(x, idx, axis):
    a = axis % x.ndim
    pairs = enumerate(zip(idx.shape, x.shape, strict=True))
    return tuple(m if d == a else max(m, n) for d, (m, n) in pairs)


def _ref_top_k(x, k):
    return -np.sort(-x, axis=-1)[..., :k]


def _ref_topk_axis(x, k, axis):
    return np.moveaxis(_ref_top_k(np.moveaxis(x, axis, -1), k), -1, axis)


TENSOR_CASES = [
    Case("take", "take", take_args(), ops.take, np.take),
    Case("take_along_axis", "take_along_axis", along_args(), ops.take_along_axis,
         _ref_take_along),
    Case("x.gather", "take_along_axis", along_args(),
         lambda x, i, a: x.gather(a, i), _ref_take_along),
    Case("sort", "sort", along_axis(distinct), ops.sort, np.sort),
    Case("x.sort", "sort", along_axis(distinct), lambda x, a: x.sort(a), np.sort),
    Case("top_k", "top_k", top_k_args(), lambda x, k: ops.top_k(x, k)[0], _ref_top_k),
    Case("x.topk", "top_k", top_k_args(any_axis=True),
         lambda x, k, a: x.topk(k, a)[0], _ref_topk_axis),
    Case("prod", "prod", reduction(with_zeros), ops.prod,
         lambda x, a, k: np.prod(x, axis=a, keepdims=k)),
    Case("x.prod", "prod", reduction(with_zeros),
         lambda x, a, k: x.prod(a, keepdims=k),
         lambda x, a, k: np.prod(x, axis=a, keepdims=k)),
    Case("cumprod", "cumprod", along_axis(with_zeros), ops.cumprod, np.cumprod),
    Case("x.cumprod_flat", "cumprod", along_axis(with_zeros),
         lambda x, a: x.cumprod(), lambda x, a: np.cumprod(x)),
    Case("x.cumsum", "cumsum", along_axis(), lambda x, a: x.cumsum(a), np.cumsum),
    Case("norm", "norm", norm_args(), ops.norm, _ref_norm),
    Case("x.norm", "norm", norm_args(), lambda x, o, a, k: x.norm(o, a, k), _ref_norm),
    Case("norm_all", "norm", along_axis(), lambda x, a: ops.norm(x),
         lambda x, a: np.sqrt((x * x).sum())),
    Case("x.std", "std", reduction(distinct, min_side=2),
         lambda x, a, k: x.std(a, keepdims=k),
         lambda x, a, k: np.std(x, axis=a, keepdims=k)),
    Case("flip", "flip", along_axis(), ops.flip, np.flip),
    Case("x.flip_all", "flip", along_axis(), lambda x, a: x.flip(),
         lambda x, a: np.flip(x)),
    Case("roll", "roll", roll_args(), ops.roll, np.roll),
    Case("x.roll", "roll", roll_args(), lambda x, s, a: x.roll(s, a), np.roll),
    Case("tile", "tile", tile_args(), ops.tile, np.tile),
    Case("repeat", "repeat", repeat_args(), ops.repeat, _ref_repeat),
    Case("tril", "tril", matrix_args(), ops.tril, np.tril),
    Case("triu", "triu", matrix_args(), ops.triu, np.triu),
    Case("x.tril", "tril", matrix_args(), lambda x, k: x.tril(k), np.tril),
    Case("x.triu", "triu", matrix_args(), lambda x, k: x.triu(k), np.triu),
    Case("outer", "outer", outer_args(), ops.outer, np.outer),
    Case("moveaxis", "moveaxis", moveaxis_args(), ops.moveaxis, np.moveaxis),
    Case("diagonal", "diagonal", diagonal_args(), ops.diagonal, np.diagonal),
    Case("x.diagonal", "diagonal", diagonal_args(),
         lambda x, o, a1, a2: x.diagonal(o, a1, a2), np.diagonal),
    Case("trace", "trace", diagonal_args(), ops.trace, np.trace),
    Case("hstack", "hstack", stack_args(False), lambda *xs: ops.hstack(xs),
         lambda *xs: np.hstack(xs)),
    Case("vstack", "vstack", stack_args(True), lambda *xs: ops.vstack(xs),
         lambda *xs: np.vstack(xs)),
    Case("masked_fill", "masked_fill", masked_fill_args(), ops.masked_fill,
         lambda x, m, v: np.where(m, v, x)),
    Case("x.masked_fill", "masked_fill", masked_fill_args(),
         lambda x, m, v: x.masked_fill(m, v), lambda x, m, v: np.where(m, v, x)),
    Case("nan_to_num", "nan_to_num", along_axis(with_non_finite),
         lambda x, a: ops.nan_to_num(x, posinf=7.0, neginf=-7.0),
         lambda x, a: np.nan_to_num(x, posinf=7.0, neginf=-7.0)),
    Case("mod", "mod", mod_args(), ops.mod, np.mod),
    Case("x.clamp", "clip", along_axis(nonzero), lambda x, a: x.clamp(-0.5, 1.0),
         lambda x, a: np.clip(x, -0.5, 1.0)),
    Case("x.t", "transpose", along_axis(max_dims=2), lambda x, a: x.t(),
         lambda x, a: x.T),
]  # fmt: skip


def small(rng, s):
    return rng.uniform(-0.8, 0.8, s)  # inside the domains of arcsin/arccos, tan finite


UNARY_SAMPLERS = {"tan": small, "arcsin": small, "arccos": small,
                  "log1p": positive, "log2": positive, "log10": positive}  # fmt: skip
TENSOR_CASES += [
    Case(name, name, unary(UNARY_SAMPLERS.get(name, normal)), getattr(ops, name),
         getattr(np, name))
    for name in ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                 "arcsinh", "log1p", "expm1", "log2", "log10")
]  # fmt: skip


@st.composite
def einsum_args(draw):
    spec, shapes_ = draw(st.sampled_from(EINSUM_SPECS))
    return (spec, *(_array(draw, normal, s) for s in shapes_))


EINSUM_SPECS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("bij,bjk", [(2, 2, 3), (2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
]
TENSOR_CASES.append(Case("einsum", "einsum", einsum_args(), ops.einsum, np.einsum))
IDS = [case.name for case in TENSOR_CASES]


@pytest.mark.parametrize("case", TENSOR_CASES, ids=IDS)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    check_forward(case, data)


@pytest.mark.parametrize("case", TENSOR_CASES, ids=IDS)
@given(data=st.data())
def test_gradcheck(case, data):
    check_gradcheck(case, data)


@pytest.mark.parametrize("case", TENSOR_CASES, ids=IDS)
@given(data=st.data())
def test_float32_forward_and_backward(case, data):
    check_float32(case, data)


def _zeros_input(rng):
    x = rng.standard_normal((3, 5))
    x[0, 1] = x[1, 0] = x[1, 3] = x[2, 2] = 0.0  # one zero, two zeros, one zero
    return x


def _idx():
    # repeated indices: the scatter-add must accumulate
    return np.random.default_rng(3).integers(0, 5, (3, 7))


#: name -> (numnet call, torch call, input); values *and* gradients must agree
TORCH_PAIRS = {
    "gather": (lambda x: x.gather(1, _idx()),
               lambda t, torch: t.gather(1, torch.tensor(_idx()))),
    "prod_axis": (lambda x: ops.prod(x, axis=1), lambda t, torch: t.prod(1)),
    "prod_all": (lambda x: ops.prod(x[0]), lambda t, torch: t[0].prod()),
    "prod_two_zeros": (lambda x: ops.prod(x[1]), lambda t, torch: t[1].prod()),
    "cumprod": (lambda x: ops.cumprod(x, axis=1), lambda t, torch: t.cumprod(1)),
    "cumprod_axis0": (lambda x: x.cumprod(0), lambda t, torch: t.cumprod(0)),
    "sort": (lambda x: ops.sort(x, axis=0), lambda t, torch: t.sort(0).values),
    "topk": (lambda x: x.topk(2, axis=1)[0], lambda t, torch: t.topk(2, 1).values),
    "norm": (lambda x: ops.norm(x, axis=1),
             lambda t, torch: torch.linalg.vector_norm(t, dim=1)),
    "norm_1": (lambda x: x.norm(1, axis=0),
               lambda t, torch: torch.linalg.vector_norm(t, ord=1, dim=0)),
    "norm_inf": (lambda x: ops.norm(x, math.inf, axis=1),
                 lambda t, torch: torch.linalg.vector_norm(t, ord=math.inf, dim=1)),
    "norm_fro": (lambda x: ops.norm(x), lambda t, torch: torch.linalg.matrix_norm(t)),
    "flip": (lambda x: ops.flip(x, axis=(0, 1)), lambda t, torch: t.flip((0, 1))),
    "roll": (lambda x: ops.roll(x, 2, axis=1), lambda t, torch: t.roll(2, 1)),
    "roll_flat": (lambda x: x.roll(-3), lambda t, torch: t.roll(-3)),
    "tril": (lambda x: ops.tril(x, 1), lambda t, torch: t.tril(1)),
    "triu": (lambda x: x.triu(-1), lambda t, torch: t.triu(-1)),
    "outer": (lambda x: ops.outer(x[0], x[1]),
              lambda t, torch: torch.outer(t[0], t[1])),
    "diagonal": (lambda x: ops.diagonal(x, 1), lambda t, torch: t.diagonal(1)),
    "trace": (lambda x: ops.trace(x), lambda t, torch: t.trace()),
    "repeat": (lambda x: ops.repeat(x, [2, 0, 1], axis=0),
               lambda t, torch: t.repeat_interleave(torch.tensor([2, 0, 1]), 0)),
    "tile": (lambda x: ops.tile(x, (2, 1, 2)), lambda t, torch: t.tile((2, 1, 2))),
    "mod": (lambda x: ops.mod(x, 0.7), lambda t, torch: torch.remainder(t, 0.7)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_values_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_PAIRS[name]
    rng = np.random.default_rng(0)
    x = _zeros_input(rng)
    if name in ("sort", "topk", "norm_inf"):
        x = rng.permutation(15).reshape(3, 5) * 0.1 - 0.7  # no ties: one winner each
    t = numnet.tensor(x, requires_grad=True, dtype="float64")
    tt = torch.tensor(x, requires_grad=True)
    y, yt = ours(t), theirs(tt, torch)
    g = rng.standard_normal(y.shape)
    (y * g).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_product_gradients_with_zeros_are_finite_and_exact():
    x = numnet.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]], requires_grad=True)
    ops.prod(x, axis=1).sum().backward()
    assert x.grad.tolist() == [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    x = numnet.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    ops.cumprod(x).sum().backward()
    # d/dx0 = 1 + x1 + x1x2 + x1x2x3 = 1; d/dx1 = x0 + x0x2 + x0x2x3 = 2 + 6 + 24
    assert x.grad.tolist() == [1.0, 32.0, 0.0, 0.0]


def test_norm_gradient_at_zero_is_zero_not_nan():
    x = numnet.tensor(np.zeros((2, 3)), requires_grad=True)
    (ops.norm(x) + ops.norm(x, axis=1).sum() + x.norm(1, axis=0).sum()).backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_top_k_returns_indices_without_a_graph():
    x = numnet.tensor([[0.1, 0.9, 0.5], [0.7, 0.2, 0.8]], requires_grad=True)
    values, indices = ops.top_k(x, 2)
    assert indices.tolist() == [[1, 2], [2, 0]] and indices.dtype == np.int64
    assert not indices.requires_grad and values.requires_grad
    v0, i0 = x.topk(1, axis=0)
    assert i0.tolist() == [[1, 0, 1]] and v0.shape == (1, 3)
    assert ops.top_k(x, 0)[0].shape == (2, 0)
    # unsigned integers: largest first too (negating them would wrap around)
    assert ops.top_k(np.array([1, 5, 3], np.uint8), 2)[1].tolist() == [1, 2]


def test_tensor_conveniences():
    x = numnet.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.dim() == 2 and x.numel() == 6 and x.t().shape == (3, 2)
    assert numnet.tensor([1.0, 2.0]).t().shape == (2,)
    assert x.double().dtype == np.float64 and x.double().float().dtype == np.float32
    assert x.argmin(axis=1).tolist() == [0, 0]
    assert x.clamp(1, 4).tolist() == [[1, 1, 2], [3, 4, 4]]
    assert x.prod().item() == 0 and x.cumsum().tolist() == [0, 1, 3, 6, 10, 15]
    assert x.masked_fill(x.data > 3, -1.0).tolist() == [[0, 1, 2], [3, -1, -1]]
    (x.double() * 2).sum().backward()  # float()/double() are differentiable
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [[2.0] * 3] * 2
    with pytest.raises(ValueError, match="t: expects a tensor with at most 2"):
        numnet.zeros(2, 2, 2).t()


def test_the_functions_are_in_ops_and_at_top_level():
    names = ("take", "take_along_axis", "sort", "top_k", "prod", "cumprod", "norm",
             "flip", "roll", "tile", "repeat", "tril", "triu", "outer", "moveaxis",
             "diagonal", "trace", "hstack", "vstack", "masked_fill", "nan_to_num",
             "mod", "floor_divide", "one_hot", "logical_and", "logical_or",
             "logical_not", "logical_xor", "isnan", "isinf", "isfinite",
             "count_nonzero")  # fmt: skip
    for name in names:
        assert getattr(numnet, name) is getattr(ops, name), name
        assert name in ops.__all__ and getattr(ops, name).__doc__, name


def test_no_gradient_helpers_match_numpy():
    a = np.array([[0.0, 1.5, np.nan], [np.inf, -2.0, 0.0]])
    b = np.array([True, False, True])
    t = numnet.tensor(a, requires_grad=True, dtype="float64")
    checks = [
        (ops.isnan(t), np.isnan(a)),
        (ops.isinf(t), np.isinf(a)),
        (ops.isfinite(t), np.isfinite(a)),
        (ops.count_nonzero(t), np.count_nonzero(a)),
        (ops.count_nonzero(t, axis=1), np.count_nonzero(a, axis=1)),
        (ops.logical_not(t), np.logical_not(a)),
        (ops.logical_and(t, b), np.logical_and(a, b)),
        (ops.logical_or(t, b), np.logical_or(a, b)),
        (ops.logical_xor(t, b), np.logical_xor(a, b)),
        (ops.floor_divide(numnet.tensor([7.0, -7.0]), 2), np.array([3.0, -4.0])),
        (ops.one_hot(np.array([[1], [0]]), 3, axis=1),
         np.eye(3)[[[1], [0]]].swapaxes(1, 2)),
    ]  # fmt: skip
    for out, expected in checks:
        assert isinstance(out, numnet.Tensor) and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), expected)
    assert ops.one_hot(numnet.tensor([2]), 3).dtype == np.float32


def test_no_gradient_helpers_stay_on_the_strict_namespace():
    SLIPS.clear()
    x = to_strict(np.array([[0.0, 1.5], [np.nan, np.inf]]))
    labels = to_strict(np.array([1, 0]))
    outs = [ops.isnan(x), ops.isinf(x), ops.isfinite(x), ops.count_nonzero(x, 0),
            ops.logical_not(x), ops.logical_and(x, x), ops.logical_or(x, 0.0),
            ops.logical_xor(x, x), ops.floor_divide(labels, 2), ops.one_hot(labels, 2),
            ops.take(numnet.tensor(x), labels, axis=1), ops.argmax(x),
            ops.argmin(x, axis=1), ops.argsort(x), ops.sign(x), ops.floor(x),
            ops.round(x, 1), ops.equal(x, 1.5), ops.less(x, x), ops.all(x),
            ops.any(x, axis=0)]  # fmt: skip
    assert all(isinstance(o.data, StrictArray) for o in outs)
    assert to_numpy(outs[10].data)[0].tolist() == [1.5, 0.0]
    assert ops.convert_to_numpy(x).tolist()[0] == [0.0, 1.5]
    assert not SLIPS, SLIPS


def test_nan_to_num_gradient_is_zero_at_replaced_elements():
    x = numnet.tensor([1.0, np.nan, np.inf, -np.inf], requires_grad=True)
    y = ops.nan_to_num(x)
    assert y.numpy()[2] == np.finfo(np.float32).max and y.numpy()[1] == 0
    y.backward(np.full(4, 2.0, np.float32))
    assert x.grad.tolist() == [2.0, 0.0, 0.0, 0.0]


def test_mod_gradient_is_one_for_the_dividend():
    x = numnet.tensor([5.0, -5.0, 1.0], requires_grad=True)
    ops.mod(x, 3.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


BAD_CALLS = [
    (lambda x: ops.take(x, [0, 3], axis=1), IndexError,
     r"take: index 3 is out of range for an axis of size 3 \(valid: -3 to 2\)"),
    (lambda x: ops.take(x, [0.0], axis=1), TypeError,
     "take: indices must be integers. Received: an array of dtype float64"),
    (lambda x: ops.take(x, [0], axis=2), ValueError, "take: axis 2 is out of bounds"),
    (lambda x: x.gather(1, np.array([[0], [5]])), IndexError,
     "take_along_axis: index 5 is out of range"),
    (lambda x: x.gather(1, np.array([0, 1])), ValueError,
     r"take_along_axis: indices must have as many dimensions as x \(2\)"),
    (lambda x: x.gather(0, np.zeros((1, 2), int)), ValueError,
     "do not broadcast against x of shape"),
    (lambda x: ops.top_k(x, 4), ValueError,
     r"top_k: invalid value for argument 'k'. Expected an int in \[0, 3\]"),
    (lambda x: x.topk(3, axis=0), ValueError, r"topk: .*Expected an int in \[0, 2\]"),
    (lambda x: ops.sort(x, axis=-3), ValueError, "sort: axis -3 is out of bounds"),
    (lambda x: ops.prod(x, axis=(0, 0)), ValueError, "prod: repeated axis"),
    (lambda x: ops.cumprod(x, axis=5), ValueError, "cumprod: axis 5 is out of bounds"),
    (lambda x: ops.norm(x, ord=2, axis=(0, 1)), ValueError,
     "norm: matrix norms support ord=None or 'fro'"),
    (lambda x: ops.norm(x, ord=3, axis=1), ValueError,
     "norm: vector norms support ord=None, 1, 2, inf or -inf. Received: ord=3"),
    (lambda x: ops.norm(numnet.zeros(2, 2, 2), ord=1), ValueError,
     "norm: invalid value for argument 'axis'"),
    (lambda x: ops.flip(x, axis=2), ValueError, "flip: axis 2 is out of bounds"),
    (lambda x: ops.roll(x, 1, axis=4), ValueError, "roll: axis 4 is out of bounds"),
    (lambda x: ops.roll(x, (1, 2), axis=(0,)), ValueError, "roll: 'shift' and 'axis'"),
    (lambda x: ops.tile(x, (-1,)), ValueError,
     "tile: invalid value for argument 'reps'"),
    (lambda x: ops.repeat(x, [1, 2], axis=1), ValueError,
     "repeat: 'repeats' has 2 counts for an axis of length 3"),
    (lambda x: ops.repeat(x, -1), ValueError, "repeat: invalid value for argument"),
    (lambda x: ops.tril(x[0]), ValueError, "tril: expected a tensor with at least 2"),
    (lambda x: ops.diagonal(x, axis1=1, axis2=-1), ValueError,
     "diagonal: axis1 and axis2 must differ"),
    (lambda x: ops.moveaxis(x, (0, 1), 0), ValueError, "moveaxis: 'source' and"),
    (lambda x: ops.masked_fill(x, x.data, 0.0), TypeError,
     "masked_fill: 'mask' must be boolean. Received: dtype float32"),
    (lambda x: ops.one_hot(np.array([0.0]), 2), TypeError, "one_hot: labels must be"),
    (lambda x: ops.one_hot(np.array([2]), 2), ValueError,
     r"one_hot: labels must lie in \[0, 1\]. Received values from 2 to 2"),
    (lambda x: ops.one_hot(np.array([0]), 0), ValueError, "'num_classes'"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS)
def test_bad_arguments_name_the_op_and_what_was_received(call, error, message):
    x = numnet.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(error, match=message):
        call(x)


def test_pytorch_keywords_name_numnets_spelling_for_the_new_ops():
    x = numnet.ones(2, 3)
    for fn in (ops.prod, ops.cumprod, ops.sort, ops.flip, ops.norm):
        with pytest.raises(TypeError, match="'dim'; numnet spells it 'axis'"):
            fn(x, dim=0)
