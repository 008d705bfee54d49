"""Elementwise ops: arithmetic, exp/log/sqrt/abs/clip, maximum/minimum, where, astype.

Binary ops broadcast like NumPy; the engine sums each gradient back to its
input's shape, so the backward passes here return full-size gradients.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, array_module


def _broadcasting(name: str, op, *arrays):
    """Run ``op(*arrays)``; a shape mismatch names the op and every shape."""
    try:
        return op(*arrays)
    except ValueError:
        shapes = " and ".join(str(a.shape) for a in arrays)
        raise ValueError(
            f"{name}: operands could not be broadcast together. Received shapes "
            f"{shapes}"
        ) from None


class _Add(Function):
    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, a, b):
        return _broadcasting("add", self.xp.add, a, b)

    def backward(self, gy):
        return gy, gy


class _Sub(Function):
    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, a, b):
        return _broadcasting("sub", self.xp.subtract, a, b)

    def backward(self, gy):
        return gy, -gy


class _Mul(Function):
    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, a, b):
        self.a, self.b = a, b
        return _broadcasting("mul", self.xp.multiply, a, b)

    def backward(self, gy):
        # d(ab)/da = b, d(ab)/db = a
        ga = gy * self.b if self.needs_input_grad[0] else None
        gb = gy * self.a if self.needs_input_grad[1] else None
        return ga, gb


class _Div(Function):
    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, a, b):
        self.a, self.b = a, b
        return _broadcasting("div", self.xp.divide, a, b)

    def backward(self, gy):
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        ga = gy / self.b if self.needs_input_grad[0] else None
        gb = -gy * self.a / (self.b * self.b) if self.needs_input_grad[1] else None
        return ga, gb


class _Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class _Pow(Function):
    """a ** b for tensor a and b; the gradient w.r.t. b needs a > 0."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = _broadcasting("pow", self.xp.power, a, b)
        return self.y

    def backward(self, gy):
        # d(a^b)/da = b a^(b-1);  d(a^b)/db = a^b ln a  (only computed when wanted,
        # so a negative base with a constant exponent never evaluates log(a))
        ga = gy * self.b * self.a ** (self.b - 1) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            with self.ops.errstate(divide="ignore", invalid="ignore"):
                gb = gy * self.y * self.xp.log(self.a)
        return ga, gb


class _PowScalar(Function):
    """x ** c for a constant Python number c."""

    def __init__(self, c: float):
        self.c = c

    def forward(self, x):
        self.x = x
        return x**self.c

    def backward(self, gy):
        # d(x^c)/dx = c x^(c-1)
        return gy * (self.c * self.x ** (self.c - 1))


class _Exp(Function):
    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y  # d e^x = e^x


class _Log(Function):
    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, gy):
        return gy / self.x  # d ln x = 1/x


class _Sqrt(Function):
    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)  # d sqrt(x) = 1 / (2 sqrt(x))


class _Abs(Function):
    """|x|, with the sub-gradient convention abs'(0) = 0."""

    def forward(self, x):
        self.sign = self.xp.sign(x)
        return self.xp.abs(x)

    def backward(self, gy):
        return gy * self.sign


class _Clip(Function):
    """Clamp into [low, high]; gradient 1 strictly inside, 0 on or outside."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        # bounds as x's dtype: a NumPy float64 bound would upcast a float32 x
        low = None if self.low is None else x.dtype.type(self.low)
        high = None if self.high is None else x.dtype.type(self.high)
        self.inside = self.xp.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x > low
        if high is not None:
            self.inside &= x < high
        return self.xp.clip(x, low, high)

    def backward(self, gy):
        return gy * self.inside


class _Maximum(Function):
    """Elementwise max; on ties the gradient goes to the first argument."""

    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, a, b):
        self.first = _broadcasting("maximum", self.xp.greater_equal, a, b)
        return self.xp.maximum(a, b)

    def backward(self, gy):
        return gy * self.first, gy * ~self.first


class _Minimum(Function):
    """Elementwise min; on ties the gradient goes to the first argument."""

    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, a, b):
        self.first = _broadcasting("minimum", self.xp.less_equal, a, b)
        return self.xp.minimum(a, b)

    def backward(self, gy):
        return gy * self.first, gy * ~self.first


class _Where(Function):
    """``where(cond, a, b)``: the gradient flows to a where cond, else to b."""

    nondifferentiable = (0,)

    scalar_operands = True  # ufuncs only: numbers stay scalars on devices

    def forward(self, cond, a, b):
        self.cond = cond.astype(bool, copy=False)
        return _broadcasting("where", self.xp.where, self.cond, a, b)

    def backward(self, gy):
        zero = self.xp.zeros((), gy.dtype)
        return (
            None,
            self.xp.where(self.cond, gy, zero),
            self.xp.where(self.cond, zero, gy),
        )


class _AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.source = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.source)


def add(a, b) -> Tensor:
    """a + b with broadcasting.

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    return _Add()(a, b)


def sub(a, b) -> Tensor:
    """a - b with broadcasting.

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    return _Sub()(a, b)


def mul(a, b) -> Tensor:
    """a * b with broadcasting.

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    return _Mul()(a, b)


def div(a, b) -> Tensor:
    """a / b with broadcasting.

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    return _Div()(a, b)


def neg(x) -> Tensor:
    """-x.

    Shape:
        x: any shape -> the same shape.
    """
    return _Neg()(x)


def pow(a, b) -> Tensor:  # noqa: A001 - the NumPy/PyTorch name
    """a ** b; a constant Python exponent takes the cheaper scalar path.

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    if isinstance(b, (int, float, np.number)) and not isinstance(b, bool):
        if isinstance(a, Tensor) and a.dtype.kind in "biu" and b < 0:
            raise ValueError(
                f"pow: an integer tensor ({a.dtype}) cannot be raised to a negative "
                f"power. Received: exponent={b!r}; cast the tensor to float first"
            )
        if isinstance(a, Tensor):
            # a Python number: NumPy keeps x's dtype (np.float64(2) would upcast)
            return _PowScalar(b.item() if isinstance(b, np.number) else b)(a)
    return _Pow()(a, b)


def exp(x) -> Tensor:
    """e ** x.

    Shape:
        x: any shape -> the same shape.
    """
    return _Exp()(x)


def log(x) -> Tensor:
    """Natural logarithm.

    Shape:
        x: any shape -> the same shape.
    """
    return _Log()(x)


def sqrt(x) -> Tensor:
    """Square root.

    Shape:
        x: any shape -> the same shape.
    """
    return _Sqrt()(x)


def abs(x) -> Tensor:  # noqa: A001 - the NumPy/PyTorch name
    """|x| (sub-gradient 0 at 0).

    Shape:
        x: any shape -> the same shape.
    """
    return _Abs()(x)


def clip(x, min=None, max=None) -> Tensor:  # noqa: A002
    """Clamp x into [min, max]; either bound may be None.

    Shape:
        x: any shape -> the same shape.
    """
    if min is None and max is None:
        raise ValueError("clip: at least one of 'min' and 'max' must be given")
    return _Clip(min, max)(x)


def maximum(a, b) -> Tensor:
    """Elementwise maximum (ties send the gradient to ``a``).

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    return _Maximum()(a, b)


def minimum(a, b) -> Tensor:
    """Elementwise minimum (ties send the gradient to ``a``).

    Shape:
        a, b: broadcastable shapes -> their broadcast shape.
    """
    return _Minimum()(a, b)


def where(condition, a, b) -> Tensor:
    """Pick ``a`` where ``condition`` holds, else ``b``.

    The gradient of the branch not taken is exactly zero, but a NaN or inf
    produced *inside* that branch's own backward still propagates (0 * inf).
    Use the "safe input" idiom: ``where(x > 0, sqrt(where(x > 0, x, 1)), x)``.

    Shape:
        condition, a, b: broadcastable -> their broadcast shape.
    """
    if isinstance(condition, Tensor):
        condition = condition.data
    xp = array_module(condition, a, b)
    return _Where()(xp.asarray(condition), a, b)


def astype(x, dtype) -> Tensor:
    """Cast to another dtype; the gradient is cast back.

    A cast to an integer or boolean dtype is not differentiable: the result
    does not require grad.

    Raises:
        TypeError: for a dtype that is not boolean, integer or floating-point.

    Shape:
        x: any shape -> the same shape.
    """
    target = backend.check_dtype(dtype, "astype")
    if target.kind != "f":
        raw = x.data if isinstance(x, Tensor) else array_module(x).asarray(x)
        return Tensor._from_op(raw.astype(target))
    return _AsType(target)(x)
