"""The tensor namespace: ``numnet.ops`` (Keras 3's ``keras.ops``), also at top level.

Everything here takes Tensors, ndarrays or Python numbers and returns a Tensor.
Differentiable ops compose ``numnet.functional`` (or, for trigonometry, einsum
and cumsum, small Functions in ``numnet._math``); comparisons, ``argmax``,
``sign``, ``floor``/``round`` and friends return tensors that need no gradient
(their derivative is zero or undefined everywhere it exists).

Example:
    >>> import numnet
    >>> from numnet import ops
    >>> x = numnet.arange(6).astype("float32").reshape(2, 3)
    >>> ops.square(x).sum(axis=1).numpy().tolist()
    [5.0, 50.0]
    >>> ops.argmax(x, axis=1).numpy().tolist()
    [2, 2]
    >>> ops.expand_dims(x, -1).shape
    (2, 3, 1)
"""

from __future__ import annotations

import functools

import numpy as np

from numnet import functional as F
from numnet._array_functions import allclose, diag, isclose, kron, meshgrid
from numnet._logic import (
    count_nonzero,
    floor_divide,
    isfinite,
    isinf,
    isnan,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    no_grad_call,
    one_hot,
)
from numnet._math import cumsum, einsum, unary
from numnet.autograd.tensor import OPS as _OPS
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.backend import is_array, to_host
from numnet.creation import (
    arange,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from numnet.functional import (
    abs,
    add,
    broadcast_to,
    clip,
    concatenate,
    exp,
    log,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    relu,
    reshape,
    shape,
    sigmoid,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    sum,
    swapaxes,
    tanh,
    transpose,
    var,
    where,
)
from numnet.functional._arrange import (
    diagonal,
    flip,
    hstack,
    masked_fill,
    mod,
    moveaxis,
    nan_to_num,
    outer,
    repeat,
    roll,
    tile,
    trace,
    tril,
    triu,
    vstack,
)
from numnet.functional._gather import (
    _stable_argsort,
    sort,
    take,
    take_along_axis,
    top_k,
    topk,
)
from numnet.functional._products import cumprod, norm, prod

# ruff: noqa: A001 (NumPy names: abs, max, min, sum, round, pow)


def _data(x):
    return x.data if isinstance(x, Tensor) else x if is_array(x) else np.asarray(x)


def sin(x) -> Tensor:
    """Elementwise sine (d/dx = cos x)."""
    return unary("sin", x)


def cos(x) -> Tensor:
    """Elementwise cosine (d/dx = -sin x)."""
    return unary("cos", x)


def tan(x) -> Tensor:
    """Elementwise tangent (d/dx = 1 + tan² x)."""
    return unary("tan", x)


def arcsin(x) -> Tensor:
    """Elementwise inverse sine."""
    return unary("arcsin", x)


def arccos(x) -> Tensor:
    """Elementwise inverse cosine."""
    return unary("arccos", x)


def arctan(x) -> Tensor:
    """Elementwise inverse tangent."""
    return unary("arctan", x)


def sinh(x) -> Tensor:
    """Elementwise hyperbolic sine."""
    return unary("sinh", x)


def cosh(x) -> Tensor:
    """Elementwise hyperbolic cosine."""
    return unary("cosh", x)


def arcsinh(x) -> Tensor:
    """Elementwise inverse hyperbolic sine."""
    return unary("arcsinh", x)


def log1p(x) -> Tensor:
    """log(1 + x), accurate for small x."""
    return unary("log1p", x)


def expm1(x) -> Tensor:
    """exp(x) - 1, accurate for small x."""
    return unary("expm1", x)


def log2(x) -> Tensor:
    """Base-2 logarithm."""
    return unary("log2", x)


def log10(x) -> Tensor:
    """Base-10 logarithm."""
    return unary("log10", x)


def square(x) -> Tensor:
    """x² elementwise."""
    return F.mul(x, x)


def reciprocal(x) -> Tensor:
    """1 / x elementwise."""
    return F.div(1.0, x)


def subtract(a, b) -> Tensor:
    """a - b (Keras spelling of ``F.sub``)."""
    return F.sub(a, b)


def multiply(a, b) -> Tensor:
    """a * b (Keras spelling of ``F.mul``)."""
    return F.mul(a, b)


def divide(a, b) -> Tensor:
    """a / b (Keras spelling of ``F.div``)."""
    return F.div(a, b)


def negative(x) -> Tensor:
    """-x."""
    return F.neg(x)


def power(a, b) -> Tensor:
    """a ** b."""
    return F.pow(a, b)


pow = power


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    """Standard deviation (population, ``ddof=0`` as NumPy and Keras)."""
    return F.sqrt(F.var(x, axis=axis, keepdims=keepdims))


def expand_dims(x, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (``np.expand_dims``)."""
    return F.unsqueeze(x, axis)


def dot(a, b) -> Tensor:
    """Matrix product for 2-D inputs, the inner product for 1-D (``np.dot``)."""
    return matmul(a, b)


def cast(x, dtype) -> Tensor:
    """Cast to ``dtype`` (differentiable between float dtypes)."""
    return F.astype(as_tensor(x), dtype)


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Indices of the maxima along ``axis`` (int64; no gradient)."""
    return no_grad_call("argmax", x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Indices of the minima along ``axis`` (int64; no gradient)."""
    return no_grad_call("argmin", x, axis=axis, keepdims=keepdims)


def argsort(x, axis: int = -1) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (no gradient)."""
    x = as_tensor(x)
    return Tensor._from_op(_stable_argsort(x.data, axis))


def sign(x) -> Tensor:
    """-1, 0 or 1 elementwise (gradient zero: not recorded)."""
    return no_grad_call("sign", x)


def floor(x) -> Tensor:
    """Round down elementwise (not differentiable)."""
    return no_grad_call("floor", x)


def ceil(x) -> Tensor:
    """Round up elementwise (not differentiable)."""
    return no_grad_call("ceil", x)


def round(x, decimals: int = 0) -> Tensor:
    """Round half to even elementwise (not differentiable)."""
    return no_grad_call("round", x, decimals)


def equal(a, b) -> Tensor:
    """a == b elementwise (bool)."""
    return no_grad_call("equal", a, b)


def not_equal(a, b) -> Tensor:
    """a != b elementwise (bool)."""
    return no_grad_call("not_equal", a, b)


def greater(a, b) -> Tensor:
    """a > b elementwise (bool)."""
    return no_grad_call("greater", a, b)


def greater_equal(a, b) -> Tensor:
    """a >= b elementwise (bool)."""
    return no_grad_call("greater_equal", a, b)


def less(a, b) -> Tensor:
    """a < b elementwise (bool)."""
    return no_grad_call("less", a, b)


def less_equal(a, b) -> Tensor:
    """a <= b elementwise (bool)."""
    return no_grad_call("less_equal", a, b)


def all(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element along ``axis`` is true."""
    return no_grad_call("all", x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether some element along ``axis`` is true."""
    return no_grad_call("any", x, axis=axis, keepdims=keepdims)


def convert_to_tensor(x, dtype=None) -> Tensor:
    """Wrap array-like data as a Tensor (Keras ``ops.convert_to_tensor``)."""
    if isinstance(x, Tensor) and dtype is None:
        return x
    return Tensor(_data(x), dtype=dtype)


def convert_to_numpy(x) -> np.ndarray:
    """The data as a NumPy ndarray (Keras ``ops.convert_to_numpy``; a device
    tensor is copied to the host)."""
    return to_host(_data(x))


#: PyTorch keyword -> numnet's (NumPy/Keras) spelling
_TORCH_KEYWORDS = {"dim": "axis", "keepdim": "keepdims", "input": "x"}


def _teaching(fn):
    """Wrap ``fn`` so that PyTorch's keyword names raise a TypeError naming numnet's."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        for wrong in kwargs.keys() & _TORCH_KEYWORDS.keys():
            raise TypeError(
                f"{fn.__name__}: unexpected keyword argument {wrong!r}; numnet "
                f"spells it {_TORCH_KEYWORDS[wrong]!r} (NumPy/Keras names)"
            )
        return fn(*args, **kwargs)

    return call


# the ops with an axis: PyTorch code passes dim=/keepdim= to them
sum, mean, max, min, var, logsumexp, softmax = map(
    _teaching, (sum, mean, max, min, var, logsumexp, softmax)
)
concatenate, stack, split, squeeze = map(
    _teaching, (concatenate, stack, split, squeeze)
)
std, cumsum, argmax, argmin, argsort, expand_dims = map(
    _teaching, (std, cumsum, argmax, argmin, argsort, expand_dims)
)
prod, cumprod, norm, sort, take, take_along_axis, flip, roll = map(
    _teaching, (prod, cumprod, norm, sort, take, take_along_axis, flip, roll)
)
repeat, diagonal, trace, moveaxis, count_nonzero = map(
    _teaching, (repeat, diagonal, trace, moveaxis, count_nonzero)
)

# the Tensor methods of numnet.autograd._tensor_methods_torch
_OPS.update(
    std=std, cumsum=cumsum, cumprod=cumprod, prod=prod, norm=norm, flip=flip,
    roll=roll, tril=tril, triu=triu, diagonal=diagonal, trace=trace, sort=sort,
    take_along_axis=take_along_axis, topk=topk, masked_fill=masked_fill,
)  # fmt: skip

__all__ = [
    # creation
    "arange", "eye", "full", "full_like", "linspace", "ones", "ones_like",
    "zeros", "zeros_like", "convert_to_tensor", "convert_to_numpy",
    # elementwise, differentiable
    "abs", "add", "subtract", "multiply", "divide", "negative", "power", "pow",
    "square", "sqrt", "reciprocal", "exp", "expm1", "log", "log1p", "log2", "log10",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "arcsinh", "clip", "maximum", "minimum", "where", "cast", "relu", "sigmoid",
    "softmax", "mod", "nan_to_num", "masked_fill",
    # reductions and scans
    "sum", "mean", "max", "min", "var", "std", "logsumexp", "cumsum", "prod",
    "cumprod", "norm",
    # shape and indexing
    "shape", "reshape", "transpose", "swapaxes", "expand_dims", "squeeze",
    "concatenate", "stack", "split", "take", "take_along_axis", "sort", "top_k",
    "flip", "roll", "tile", "repeat", "tril", "triu", "moveaxis", "hstack",
    "vstack",
    # linear algebra
    "matmul", "dot", "einsum", "outer", "diagonal", "trace", "diag", "kron",
    "meshgrid", "broadcast_to",
    # no gradient
    "argmax", "argmin", "argsort", "sign", "floor", "ceil", "round", "equal",
    "not_equal", "greater", "greater_equal", "less", "less_equal", "all", "any",
    "one_hot", "logical_and", "logical_or", "logical_not", "logical_xor", "isnan",
    "isinf", "isfinite", "count_nonzero", "floor_divide", "isclose", "allclose",
]  # fmt: skip
