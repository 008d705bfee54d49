"""Every differentiable op of the core, from one declarative table of cases.

A row (``Case``) names the op, gives a hypothesis strategy that draws the
arguments, the numnet call and, optionally, a NumPy reference forward. Every row
is run through three tests:

* forward matches the NumPy reference (float64);
* ``numnet.gradcheck`` in float64 with a random upstream gradient;
* float32 in gives float32 out, in forward and in every backward
  (``strict_dtypes()`` turns a backward that returns another dtype into an error).

Shapes are drawn by hypothesis (broadcasting pairs, size-1 axes, 0-d arrays);
values come from a generator seeded by hypothesis, with a sampler per row that
keeps inputs away from kinks (relu, abs, clip) and ties (max, min). A new op is
not done until it has a row here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numnet
import numnet.functional as F
from numnet.autograd import strict_dtypes, unbroadcast
from numnet.functional import activations, elementwise, linalg, reduce, shaping

SIDE = 4  # max axis length: keeps full finite-difference Jacobians small
FORWARD_TOL = {"rtol": 1e-6, "atol": 1e-9}  # float64 forward vs reference
# Logits of magnitude 1e4 make L = sum(g * f(x)) ~ 1e5, whose round-off (~1e-11)
# divided by 2*eps=2e-6 would approach atol; a larger step keeps it negligible
# while the truncation error eps^2 * f''' stays ~1e-6.
HUGE_CHECK = {"eps": 1e-3}


def normal(rng, s):
    return rng.standard_normal(s)


def positive(rng, s):
    return rng.uniform(0.5, 2.0, s)


def nonzero(rng, s):
    # |x| >= 0.1: far from the kink of relu/abs/leaky_relu/selu at 0
    return rng.choice([-1.0, 1.0], s) * rng.uniform(0.1, 2.0, s)


def distinct(rng, s):
    # all values differ by >= 0.1, so max/min have a single winner per slice
    n = math.prod(s)
    return ((rng.permutation(n) + rng.uniform(0.0, 0.5, n)) * 0.2 - 0.1 * n).reshape(s)


def even_grid(rng, s):
    return 2.0 * rng.integers(-2, 3, s) + rng.uniform(-0.3, 0.3, s)


def odd_grid(rng, s):
    # with even_grid: |a - b| >= 0.4 everywhere, no ties in maximum/minimum
    return 2.0 * rng.integers(-2, 3, s) + 1 + rng.uniform(-0.3, 0.3, s)


def huge(rng, s):
    # logits near +-1e4: the stability rows (a naive exp overflows)
    return rng.choice([-1e4, 1e4], s) + rng.standard_normal(s)


def avoiding(*points):
    def sample(rng, s):
        x = rng.standard_normal(s)
        for p in points:
            x = np.where(np.abs(x - p) < 1e-2, x + 0.05, x)  # away from the clip kink
        return x

    return sample


SEEDS = st.integers(0, 2**32 - 1)
FIXED_PAIRS = [((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1)), ((1,), (3, 1))]


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=SIDE):
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def pairs(num_shapes=2, max_dims=3):
    drawn = hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, max_side=SIDE
    ).map(lambda b: b.input_shapes)
    return st.one_of(drawn, st.sampled_from(FIXED_PAIRS)) if num_shapes == 2 else drawn


def _array(draw, sampler, s):
    rng = np.random.default_rng(draw(SEEDS))
    return np.asarray(sampler(rng, s), dtype=np.float64)


def unary(sampler=normal, **shape_kw):
    @st.composite
    def gen(draw):
        return (_array(draw, sampler, draw(shapes(**shape_kw))),)

    return gen()


def binary(sampler_a=normal, sampler_b=normal):
    @st.composite
    def gen(draw):
        sa, sb = draw(pairs())
        return _array(draw, sampler_a, sa), _array(draw, sampler_b, sb)

    return gen()


def axes(ndim, min_size=0):
    if ndim == 0:
        return st.sampled_from([None, ()][: 2 - min_size])
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(
            st.integers(0, ndim - 1), unique=True, min_size=min_size, max_size=ndim
        ).map(tuple),
    )


@st.composite
def reduction(draw, sampler=normal, min_side=1, max_dims=3):
    # min_side=2 also rules out axis=() (var with ddof=1 needs 2+ elements)
    s = draw(shapes(min_dims=min_side - 1, max_dims=max_dims, min_side=min_side))
    x = _array(draw, sampler, s)
    return x, draw(axes(x.ndim, min_size=min_side - 1)), draw(st.booleans())


@st.composite
def along_axis(draw, sampler=normal, max_dims=3):
    x = _array(draw, sampler, draw(shapes(min_dims=1, max_dims=max_dims)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@st.composite
def matmul_args(draw):
    n, k, m = (draw(st.integers(1, SIDE)) for _ in range(3))
    batch_a, batch_b = draw(pairs(max_dims=2))
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return _array(draw, normal, a), _array(draw, normal, b)


@st.composite
def linear_args(draw, bias=True):
    s = draw(shapes(min_dims=1)) + (draw(st.integers(1, SIDE)),)
    units = draw(st.integers(1, SIDE))
    args = [_array(draw, normal, s), _array(draw, normal, (s[-1], units))]
    return tuple(args + [_array(draw, normal, (units,))] if bias else args)


@st.composite
def where_args(draw):
    sc, sa, sb = draw(pairs(num_shapes=3))
    cond = np.random.default_rng(draw(SEEDS)).random(sc) > 0.5
    return cond, _array(draw, normal, sa), _array(draw, normal, sb)


@st.composite
def reshape_args(draw):
    x = _array(draw, normal, draw(shapes()))
    target = draw(st.permutations(x.shape).map(tuple) | st.just((-1,)))
    return x, target


@st.composite
def permutation_args(draw):
    x = _array(draw, normal, draw(shapes()))
    return x, tuple(draw(st.permutations(range(x.ndim))))


@st.composite
def squeeze_args(draw):
    s = list(draw(shapes(max_dims=2)))
    at = draw(st.integers(0, len(s)))
    s.insert(at, 1)  # at least one size-1 axis
    return _array(draw, normal, tuple(s)), draw(
        st.sampled_from([None, at, at - len(s)])
    )


@st.composite
def broadcast_args(draw, reverse=False):
    b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=SIDE))
    small, full = b.input_shapes[0], b.result_shape
    if reverse:  # sum_to: from the broadcast shape back to the small one
        return _array(draw, normal, full), small
    return _array(draw, normal, small), full


@st.composite
def index_args(draw, kind):
    x = _array(draw, normal, draw(shapes(min_dims=1)))
    rng = np.random.default_rng(draw(SEEDS))
    n = x.shape[0]
    if kind == "slices":
        index = tuple(
            slice(draw(st.integers(0, d - 1)), None, draw(st.integers(1, 2)))
            for d in x.shape
        )
    elif kind == "int":
        index = (draw(st.integers(-n, n - 1)), Ellipsis, None)
    elif kind == "int_array":  # n + 2 draws from n values: repeats guaranteed
        index = rng.integers(0, n, size=(n + 2,))
    elif kind == "int_array_2d":
        index = rng.integers(0, n, size=(2, n + 1))
    elif kind == "arrays_and_slice":
        rows = rng.integers(0, n, size=n + 2)
        index = (rows, slice(None)) if x.ndim > 1 else (rows,)
    elif kind == "bool_mask":
        index = rng.random(x.shape) > 0.4
    else:  # "bool_axis0"
        index = rng.random(n) > 0.4
    return x, index


@st.composite
def join_args(draw, stack=False):
    s = draw(shapes(min_dims=0 if stack else 1))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(s) - stack, len(s) - 1 + stack))
    xs = []
    for _ in range(count):
        si = list(s)
        if not stack:
            si[axis] = draw(st.integers(1, SIDE))
        xs.append(_array(draw, normal, tuple(si)))
    return (*xs, axis)


@st.composite
def split_args(draw):
    x, axis = draw(along_axis())
    length = x.shape[axis]
    if draw(st.booleans()):
        sections = draw(
            st.sampled_from([d for d in range(1, length + 1) if length % d == 0])
        )
    else:
        sections = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
    return x, sections, axis


@st.composite
def pad_args(draw):
    x = _array(draw, normal, draw(shapes()))
    width = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in x.shape)
    return x, width, draw(st.sampled_from([0.0, 1.5]))


def ref_sum_to(x, s):
    out = np.zeros(s)  # naive oracle: add every element to the cell it came from
    lead = x.ndim - len(s)
    for index in np.ndindex(*x.shape):
        out[
            tuple(0 if n == 1 else i for i, n in zip(index[lead:], s, strict=True))
        ] += x[index]
    return out


def ref_elu(x, alpha=1.0, scale=1.0):
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def ref_split(x, sections, axis):
    return np.split(x, sections, axis=axis)


def ref_var(x, axis, keepdims, ddof=0):
    return np.var(x, axis=axis, keepdims=keepdims, ddof=ddof)


def ref_logsumexp(x, axis, keepdims):
    # SciPy gives shape (1,) for a 0-d input with keepdims; NumPy's rule is ()
    out = sp.logsumexp(x, axis=axis, keepdims=keepdims)
    return np.reshape(out, np.sum(x, axis=axis, keepdims=keepdims).shape)


def ref_reduce(np_reduction):
    # keywords: NumPy's third positional argument is dtype/out, not keepdims
    return lambda x, axis, keepdims: np_reduction(x, axis=axis, keepdims=keepdims)


SELU = (1.6732632423543772, 1.0507009873554805)


@dataclass(frozen=True)
class Case:
    """One row: ``fn(*args)`` checked against ``ref(*args)`` and finite differences."""

    name: str
    op: str  # the numnet.functional name the row covers
    inputs: st.SearchStrategy
    fn: Callable
    ref: Callable | None = None
    check: dict = field(default_factory=dict)  # gradcheck overrides (with a reason)


CASES = [
    # arithmetic, broadcasting both ways
    Case("add", "add", binary(), lambda a, b: a + b, np.add),
    Case("sub", "sub", binary(), lambda a, b: a - b, np.subtract),
    Case("mul", "mul", binary(), lambda a, b: a * b, np.multiply),
    Case("div", "div", binary(normal, nonzero), lambda a, b: a / b, np.divide),
    Case("pow", "pow", binary(positive), lambda a, b: a**b, np.power),
    Case("neg", "neg", unary(), lambda x: -x, np.negative),
    Case("F.add", "add", binary(), F.add, np.add),
    Case("F.sub", "sub", binary(), F.sub, np.subtract),
    Case("F.mul", "mul", binary(), F.mul, np.multiply),
    Case("F.div", "div", binary(normal, nonzero), F.div, np.divide),
    Case("F.pow", "pow", binary(positive), F.pow, np.power),
    Case("F.neg", "neg", unary(), F.neg, np.negative),
    # Python scalars on either side must not upcast float32
    Case("x*0.5", "mul", unary(), lambda x: x * 0.5, lambda x: x * 0.5),
    Case("0.5*x", "mul", unary(), lambda x: 0.5 * x, lambda x: 0.5 * x),
    Case("x+2", "add", unary(), lambda x: x + 2, lambda x: x + 2),
    Case("2+x", "add", unary(), lambda x: 2 + x, lambda x: 2 + x),
    Case("x-1.5", "sub", unary(), lambda x: x - 1.5, lambda x: x - 1.5),
    Case("1.5-x", "sub", unary(), lambda x: 1.5 - x, lambda x: 1.5 - x),
    Case("x/3", "div", unary(), lambda x: x / 3, lambda x: x / 3),
    Case("3/x", "div", unary(nonzero), lambda x: 3 / x, lambda x: 3 / x),
    Case("x**3", "pow", unary(), lambda x: x**3, lambda x: x**3),
    Case("x**0.5", "pow", unary(positive), lambda x: x**0.5, np.sqrt),
    Case("x**np.float64", "pow", unary(), lambda x: x ** np.float64(2), np.square),
    Case("2**x", "pow", unary(), lambda x: 2**x, lambda x: 2.0**x),
    Case("x.pow", "pow", unary(positive), lambda x: x.pow(1.5), lambda x: x**1.5),
    # NumPy arrays on either side (float64 constants are cast to the tensor's dtype)
    Case(
        "x*ndarray",
        "mul",
        unary(),
        lambda x: x * np.full(x.shape, 0.5),
        lambda x: x * 0.5,
    ),
    Case(
        "ndarray*x",
        "mul",
        unary(),
        lambda x: np.full(x.shape, 0.5) * x,
        lambda x: x * 0.5,
    ),
    Case("ndarray-x", "sub", unary(), lambda x: np.ones(x.shape) - x, lambda x: 1 - x),
    # matrix products
    Case("matmul", "matmul", matmul_args(), lambda a, b: a @ b, np.matmul),
    Case("F.matmul", "matmul", matmul_args(), F.matmul, np.matmul),
    Case("linear", "linear", linear_args(), F.linear, lambda x, w, b: x @ w + b),
    Case("linear_nobias", "linear", linear_args(False), F.linear, np.matmul),
    # elementwise math
    Case("exp", "exp", unary(), F.exp, np.exp),
    Case("x.exp", "exp", unary(), lambda x: x.exp(), np.exp),
    Case("log", "log", unary(positive), lambda x: x.log(), np.log),
    Case("sqrt", "sqrt", unary(positive), F.sqrt, np.sqrt),
    Case("abs", "abs", unary(nonzero), F.abs, np.abs),
    Case("abs()", "abs", unary(nonzero), lambda x: abs(x), np.abs),
    Case(
        "clip",
        "clip",
        unary(avoiding(-0.5, 0.5)),
        lambda x: F.clip(x, -0.5, 0.5),
        lambda x: np.clip(x, -0.5, 0.5),
    ),
    Case(
        "clip_min",
        "clip",
        unary(avoiding(-0.3)),
        lambda x: x.clip(min=-0.3),
        lambda x: np.maximum(x, -0.3),
    ),
    Case(
        "clip_max",
        "clip",
        unary(avoiding(0.4)),
        lambda x: x.clip(max=np.float64(0.4)),
        lambda x: np.minimum(x, 0.4),
    ),
    Case("maximum", "maximum", binary(even_grid, odd_grid), F.maximum, np.maximum),
    Case("minimum", "minimum", binary(even_grid, odd_grid), F.minimum, np.minimum),
    Case(
        "x.maximum",
        "maximum",
        binary(odd_grid, even_grid),
        lambda a, b: a.maximum(b),
        np.maximum,
    ),
    Case(
        "x.minimum",
        "minimum",
        binary(odd_grid, even_grid),
        lambda a, b: a.minimum(b),
        np.minimum,
    ),
    Case("where", "where", where_args(), F.where, np.where),
    Case(
        "x.where",
        "where",
        where_args(),
        lambda c, a, b: a.where(c, b),
        np.where,
    ),
    Case(
        "astype",
        "astype",
        unary(),
        lambda x: F.astype(F.astype(x, np.float64) * 2.0, x.dtype),
        lambda x: 2 * x,
    ),
    # reductions (axis None / int / tuple incl. (), keepdims)
    Case(
        "sum",
        "sum",
        reduction(),
        lambda x, a, k: x.sum(axis=a, keepdims=k),
        ref_reduce(np.sum),
    ),
    Case("F.sum", "sum", reduction(), F.sum, ref_reduce(np.sum)),
    Case("mean", "mean", reduction(), F.mean, ref_reduce(np.mean)),
    Case("var", "var", reduction(), lambda x, a, k: x.var(axis=a, keepdims=k), ref_var),
    Case(
        "var_ddof1",
        "var",
        reduction(min_side=2),
        lambda x, a, k: F.var(x, a, k, ddof=1),
        lambda x, a, k: ref_var(x, a, k, ddof=1),
    ),
    Case(
        "max",
        "max",
        reduction(distinct),
        lambda x, a, k: x.max(axis=a, keepdims=k),
        ref_reduce(np.max),
    ),
    Case("min", "min", reduction(distinct), F.min, ref_reduce(np.min)),
    Case("logsumexp", "logsumexp", reduction(), F.logsumexp, ref_logsumexp),
    Case(
        "logsumexp_huge",
        "logsumexp",
        reduction(huge, max_dims=2),
        lambda x, a, k: x.logsumexp(axis=a, keepdims=k),
        ref_logsumexp,
        HUGE_CHECK,
    ),
    # shapes
    Case("reshape", "reshape", reshape_args(), lambda x, s: x.reshape(s), np.reshape),
    Case("F.reshape", "reshape", reshape_args(), F.reshape, np.reshape),
    Case(
        "flatten",
        "flatten",
        along_axis(),
        lambda x, a: F.flatten(x, a % x.ndim),
        lambda x, a: x.reshape(x.shape[: a % x.ndim] + (-1,)),
    ),
    Case("transpose", "transpose", permutation_args(), F.transpose, np.transpose),
    Case("x.T", "transpose", unary(), lambda x: x.T, np.transpose),
    Case(
        "permute",
        "permute",
        permutation_args(),
        lambda x, p: x.permute(*p),
        np.transpose,
    ),
    Case("F.permute", "permute", permutation_args(), F.permute, np.transpose),
    Case(
        "swapaxes",
        "swapaxes",
        along_axis(),
        lambda x, a: F.swapaxes(x, a, 0),
        lambda x, a: np.swapaxes(x, a, 0),
    ),
    Case("squeeze", "squeeze", squeeze_args(), F.squeeze, np.squeeze),
    Case(
        "unsqueeze",
        "unsqueeze",
        along_axis(),
        lambda x, a: x.unsqueeze(a),
        np.expand_dims,
    ),
    Case(
        "broadcast_to",
        "broadcast_to",
        broadcast_args(),
        F.broadcast_to,
        np.broadcast_to,
    ),
    Case(
        "expand", "expand", broadcast_args(), lambda x, s: x.expand(*s), np.broadcast_to
    ),
    Case("sum_to", "sum_to", broadcast_args(reverse=True), F.sum_to, ref_sum_to),
    Case(
        "concatenate",
        "concatenate",
        join_args(),
        lambda *a: F.concatenate(a[:-1], a[-1]),
        lambda *a: np.concatenate(a[:-1], a[-1]),
    ),
    Case(
        "stack",
        "stack",
        join_args(stack=True),
        lambda *a: F.stack(a[:-1], a[-1]),
        lambda *a: np.stack(a[:-1], a[-1]),
    ),
    Case("split", "split", split_args(), F.split, ref_split),
    Case(
        "x.split", "split", split_args(), lambda x, s, a: x.split(s, axis=a), ref_split
    ),
    Case(
        "pad",
        "pad",
        pad_args(),
        F.pad,
        lambda x, w, v: np.pad(x, w or 0, constant_values=v),
    ),
    # indexing; integer arrays repeat indices, so backward must scatter-add
    *(
        Case(
            f"getitem_{kind}",
            "getitem",
            index_args(kind),
            lambda x, i: x[i],
            lambda x, i: x[i],
        )
        for kind in (
            "slices",
            "int",
            "int_array",
            "int_array_2d",
            "arrays_and_slice",
            "bool_mask",
            "bool_axis0",
        )
    ),
    Case("F.getitem", "getitem", index_args("int_array"), F.getitem, lambda x, i: x[i]),
    # activations
    Case("relu", "relu", unary(nonzero), F.relu, lambda x: np.maximum(x, 0)),
    Case(
        "x.relu", "relu", unary(nonzero), lambda x: x.relu(), lambda x: np.maximum(x, 0)
    ),
    Case(
        "leaky_relu",
        "leaky_relu",
        unary(nonzero),
        lambda x: F.leaky_relu(x, 0.1),
        lambda x: np.where(x > 0, x, 0.1 * x),
    ),
    Case("elu", "elu", unary(nonzero), F.elu, ref_elu),
    Case("selu", "selu", unary(nonzero), F.selu, lambda x: ref_elu(x, *SELU)),
    Case(
        "gelu",
        "gelu",
        unary(),
        F.gelu,
        lambda x: x * 0.5 * (1 + sp.erf(x / np.sqrt(2))),
    ),
    Case("sigmoid", "sigmoid", unary(), F.sigmoid, sp.expit),
    Case("x.sigmoid", "sigmoid", unary(), lambda x: x.sigmoid(), sp.expit),
    Case("tanh", "tanh", unary(), lambda x: x.tanh(), np.tanh),
    Case("softplus", "softplus", unary(), F.softplus, lambda x: np.log1p(np.exp(x))),
    Case("softmax", "softmax", along_axis(), F.softmax, sp.softmax),
    Case("log_softmax", "log_softmax", along_axis(), F.log_softmax, sp.log_softmax),
    Case("x.softmax", "softmax", along_axis(), lambda x, a: x.softmax(a), sp.softmax),
    Case(
        "x.log_softmax",
        "log_softmax",
        along_axis(),
        lambda x, a: x.log_softmax(a),
        sp.log_softmax,
    ),
    # stability: logits of +-1e4 give finite values and finite, correct gradients
    Case(
        "softmax_huge",
        "softmax",
        along_axis(huge, 2),
        F.softmax,
        sp.softmax,
        HUGE_CHECK,
    ),
    Case(
        "log_softmax_huge",
        "log_softmax",
        along_axis(huge, 2),
        F.log_softmax,
        sp.log_softmax,
        HUGE_CHECK,
    ),
    Case("sigmoid_huge", "sigmoid", unary(huge), F.sigmoid, sp.expit, HUGE_CHECK),
    Case(
        "softplus_huge",
        "softplus",
        unary(huge),
        F.softplus,
        lambda x: np.logaddexp(0, x),
        HUGE_CHECK,
    ),
]

IDS = [case.name for case in CASES]


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    check_forward(case, data)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_gradcheck(case, data):
    check_gradcheck(case, data)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_float32_forward_and_backward(case, data):
    check_float32(case, data)


def check_forward(case: Case, data) -> None:
    """Forward in float64 matches the row's NumPy reference (shape and values)."""
    args = data.draw(case.inputs)
    tensors = [
        numnet.tensor(a, dtype=np.float64) if _is_float_array(a) else a for a in args
    ]
    outs = _as_tuple(case.fn(*tensors))
    refs = _as_tuple(case.ref(*args))
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs, strict=True):
        assert out.dtype == np.float64
        assert out.shape == np.shape(ref)
        np.testing.assert_allclose(out.data, ref, **FORWARD_TOL)


def check_gradcheck(case: Case, data) -> None:
    """A float64 gradcheck with a random upstream gradient."""
    args = data.draw(case.inputs)
    assert numnet.gradcheck(case.fn, args, **case.check)


def check_float32(case: Case, data) -> None:
    """float32 in gives float32 out, in forward and in every backward."""
    args = data.draw(case.inputs)
    rng = np.random.default_rng(data.draw(SEEDS))
    leaves = [
        numnet.tensor(a.astype(np.float32), requires_grad=True)
        if _is_float_array(a)
        else a
        for a in args
    ]
    with strict_dtypes():
        outs = _as_tuple(case.fn(*leaves))
        total = None
        for out in outs:
            assert out.dtype == np.float32, f"{case.name} forward gave {out.dtype}"
            assert np.all(np.isfinite(out.data))
            g = rng.standard_normal(out.shape).astype(np.float32)
            term = (out * g).sum()
            total = term if total is None else total + term
        total.backward()
    for leaf in leaves:
        if isinstance(leaf, numnet.Tensor):
            assert leaf.grad is not None and leaf.grad.dtype == np.float32
            assert leaf.grad.shape == leaf.shape
            assert np.all(np.isfinite(leaf.grad))


ISSUE_OPS = {
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "abs",
    "clip", "maximum", "minimum", "where", "sum", "mean", "var", "max", "min",
    "reshape", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "getitem", "concatenate", "stack", "split", "pad",
    "relu", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "tanh", "softplus",
    "softmax", "log_softmax",
}  # fmt: skip
NOT_OPS = {"get_activation", "linear_activation", "stable_sigmoid"}  # helpers
# raw-array halves of ReLU used by fused ops (tested through conv2d_relu):
NOT_OPS |= {"relu_in_place", "relu_backward"}
NOT_OPS |= {"shape"}  # returns a tuple, no gradient: tested below


def test_shape_is_a_function_not_a_module():
    x = numnet.tensor(np.zeros((2, 3)))
    assert callable(F.shape)
    assert F.shape(x) == (2, 3)
    assert F.shape(np.zeros((4,))) == (4,)


def test_every_op_has_a_row():
    covered = {case.op for case in CASES}
    assert ISSUE_OPS <= covered, sorted(ISSUE_OPS - covered)
    for module in (elementwise, reduce, shaping, linalg, activations):
        public = {
            name
            for name, obj in vars(module).items()
            if callable(obj)
            and not name.startswith("_")
            and getattr(obj, "__module__", None) == module.__name__
            and not isinstance(obj, type)
        }
        missing = public - covered - NOT_OPS
        assert not missing, f"{module.__name__}: no test row for {sorted(missing)}"


def test_case_names_are_unique():
    assert len(set(IDS)) == len(IDS)


BINARY = [c for c in CASES if c.name in ("add", "sub", "mul", "div", "pow", "maximum")]


@pytest.mark.parametrize("shape_a, shape_b", FIXED_PAIRS + [((2, 3), ())])
@pytest.mark.parametrize("case", BINARY, ids=[c.name for c in BINARY])
def test_binary_broadcast_families(case, shape_a, shape_b, rng):
    # size-1 axes and 0-d operands on both sides, every time (not only when drawn)
    a = 2.0 * rng.integers(1, 3, shape_a) + rng.uniform(-0.3, 0.3, shape_a)
    b = 2.0 * rng.integers(-2, 3, shape_b) + 1 + rng.uniform(-0.3, 0.3, shape_b)
    for x, y in ((a, b), (b + 4.0, a)):  # both orders; keep pow's base positive
        assert numnet.gradcheck(case.fn, [x, y])


def test_unbroadcast_matches_the_naive_oracle(rng):
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(unbroadcast(x, (3, 1)), ref_sum_to(x, (3, 1)))
