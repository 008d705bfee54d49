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
    reduction,
    shapes,
)

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
