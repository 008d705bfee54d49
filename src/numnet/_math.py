"""Ops the tensor namespace adds to numnet.functional: trigonometry, einsum, cumsum.

Each is a Function with forward and backward side by side on raw ndarrays
(STYLE.md §2.3); the derivative is written next to each entry. Everything that
can be composed from numnet.functional is composed in ``numnet.ops`` instead.
"""

from __future__ import annotations

import math
import string

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor


class _Unary(Function):
    """y = f(x) elementwise; backward multiplies by f'(x), given from (x, y)."""

    def __init__(self, name: str, df):
        self.name, self.df = name, df

    def forward(self, x):
        if x.dtype.kind != "f":
            raise TypeError(
                f"{self.name}: expected a floating-point tensor. Received "
                f"dtype={x.dtype}; cast it first with x.astype('float32')"
            )
        self.x = x
        self.y = getattr(self.xp, self.name)(x)
        return self.y

    def backward(self, gy):
        return gy * self.df(self.xp, self.x, self.y)


#: name -> derivative as a function of (xp, x, y = f(x)); the forward is xp.<name>
UNARY = {
    "sin": lambda xp, x, y: xp.cos(x),  # d sin = cos
    "cos": lambda xp, x, y: -xp.sin(x),  # d cos = -sin
    "tan": lambda xp, x, y: 1 + y * y,  # d tan = 1 + tan^2
    "arcsin": lambda xp, x, y: 1 / xp.sqrt(1 - x * x),
    "arccos": lambda xp, x, y: -1 / xp.sqrt(1 - x * x),
    "arctan": lambda xp, x, y: 1 / (1 + x * x),
    "sinh": lambda xp, x, y: xp.cosh(x),
    "cosh": lambda xp, x, y: xp.sinh(x),
    "arcsinh": lambda xp, x, y: 1 / xp.sqrt(x * x + 1),
    "log1p": lambda xp, x, y: 1 / (1 + x),  # d log(1+x) = 1/(1+x)
    "expm1": lambda xp, x, y: y + 1,  # d (e^x - 1) = e^x
    "log2": lambda xp, x, y: 1 / (x * math.log(2)),
    "log10": lambda xp, x, y: 1 / (x * math.log(10)),
}


def unary(name: str, x) -> Tensor:
    """Apply the differentiable elementwise function ``name`` of :data:`UNARY`."""
    return _Unary(name, UNARY[name])(x)


class _Cumsum(Function):
    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        return self.xp.cumsum(x, axis=self.axis)

    def backward(self, gy):
        # y_i = sum_{j<=i} x_j  =>  dL/dx_j = sum_{i>=j} g_i: a reversed cumsum
        xp = self.xp
        flipped = xp.flip(gy, axis=self.axis)
        return xp.flip(xp.cumsum(flipped, axis=self.axis), axis=self.axis)


def cumsum(x, axis: int | None = None) -> Tensor:
    """Cumulative sum along ``axis`` (None flattens first, as NumPy does)."""
    from numnet.functional import reshape

    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    return _Cumsum(axis)(x)


def _parse_einsum(subscripts: str, shapes) -> tuple[list[str], str]:
    """Split ``"ij,jk->ik"`` into input and output labels; expand ``...``.

    Ellipses become unused uppercase letters (right-aligned, NumPy's rule); the
    implicit output is the labels used once, in alphabetical order.
    """
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(
            f"einsum: the subscripts {subscripts!r} name {len(ins)} operand(s). "
            f"Received {len(shapes)} operand(s)"
        )
    spare = [c for c in string.ascii_uppercase if c not in subscripts]
    n_ellipsis = max(
        (
            len(s) - len(sub.replace("...", ""))
            for sub, s in zip(ins, shapes, strict=True)
            if "..." in sub
        ),
        default=0,
    )
    fill = "".join(spare[:n_ellipsis])
    ins = [
        sub.replace("...", fill[n_ellipsis - (len(s) - len(sub) + 3) :])
        if "..." in sub
        else sub
        for sub, s in zip(ins, shapes, strict=True)
    ]
    if arrow:
        out = out.replace("...", fill)
    else:
        counts = {c: "".join(ins).count(c) for c in "".join(ins)}
        out = fill + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in fill)
        )
    return ins, out


class _Einsum(Function):
    def __init__(self, subscripts: str):
        self.subscripts = subscripts

    def forward(self, *operands):
        self.ins, self.out = _parse_einsum(self.subscripts, [a.shape for a in operands])
        self.operands = operands
        spec = ",".join(self.ins) + "->" + self.out
        try:
            xp = self.xp
            return xp.asarray(xp.einsum(spec, *operands, optimize=len(operands) > 2))
        except ValueError as err:
            shapes = ", ".join(str(a.shape) for a in operands)
            raise ValueError(
                f"einsum: subscripts {self.subscripts!r} do not fit operand shapes "
                f"{shapes} ({err})"
            ) from None

    def backward(self, gy):
        # The gradient of a multilinear contraction w.r.t. operand k is the same
        # contraction of gy with the other operands, producing operand k's labels.
        return tuple(
            self._grad(k, gy) if need else None
            for k, need in enumerate(self.needs_input_grad)
        )

    def _grad(self, k: int, gy):
        sub, x = self.ins[k], self.operands[k]
        sizes = dict(zip(sub, x.shape, strict=True))
        unique = "".join(dict.fromkeys(sub))
        others = [i for i in range(len(self.ins)) if i != k]
        available = set(self.out).union(*(self.ins[i] for i in others))
        kept = "".join(c for c in unique if c in available)
        terms = [self.out] + [self.ins[i] for i in others]
        arrays = [gy] + [self.operands[i] for i in others]
        xp = self.xp
        g = xp.einsum(",".join(terms) + "->" + kept, *arrays, optimize=len(arrays) > 2)
        # labels summed only inside operand k: the gradient is constant along them
        for axis, c in enumerate(unique):
            if c not in available:
                g = xp.expand_dims(g, axis)
        g = xp.broadcast_to(g, [sizes[c] for c in unique])
        if unique == sub:
            return xp.ascontiguousarray(g)
        return _undiagonal(g, unique, sub, sizes)


def _undiagonal(g, unique: str, sub: str, sizes: dict) -> np.ndarray:
    """Put g (labels ``unique``) on the diagonals that repeated labels in ``sub`` read.

    ``"ii"`` reads the diagonal, so its gradient is g on the diagonal and zero
    elsewhere: multiply by one identity matrix per repeated occurrence.
    """
    spare = iter(c for c in string.ascii_letters if c not in sub)
    seen, new_sub, eyes = set(), "", []
    for c in sub:
        if c in seen:
            fresh = next(spare)
            eyes.append(c + fresh)
            new_sub += fresh
        else:
            seen.add(c)
            new_sub += c
    xp = backend.get_array_module(g)
    identity = [xp.eye(sizes[e[0]], dtype=g.dtype) for e in eyes]
    return xp.einsum(",".join([unique] + eyes) + "->" + new_sub, g, *identity)


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation, differentiable in every floating operand (``np.einsum``).

    Supports explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) outputs,
    ellipses, repeated labels (``"ii->i"``, a diagonal) and labels summed inside
    one operand (``"ij->i"``).

    Example:
        >>> import numpy as np, numnet
        >>> a = numnet.tensor(np.ones((2, 3)), requires_grad=True)
        >>> b = numnet.tensor(np.ones((3, 4)))
        >>> y = numnet.einsum("ij,jk->ik", a, b)
        >>> y.shape
        (2, 4)
        >>> y.sum().backward()
        >>> a.grad
        array([[4., 4., 4.],
               [4., 4., 4.]], dtype=float32)
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: the first argument must be the subscripts string, e.g. "
            f"'ij,jk->ik'. Received: {type(subscripts).__name__}"
        )
    return _Einsum(subscripts)(*operands)
