"""More activations, one fused op each, under PyTorch's ``torch.nn.functional`` names.

Every elementwise op here is one ``Function`` (one forward pass, one backward
pass) with its derivative in a comment; the tests keep the composed forms
(``x * sigmoid(x)``, ``x * tanh(softplus(x))``...) as the oracle.

Sub-gradients at the kinks follow PyTorch: the clipped ramps (``hardtanh``,
``relu6``, ``hardsigmoid``, ``hardswish``) take the slope of the flat or outer
piece at their break points, i.e. the gradient is nonzero only strictly inside
``(min_val, max_val)`` (and ``hardswish'`` is 0 at -3 and 1 at 3); the shrinks
have gradient 0 on ``[-lambd, lambd]``; ``threshold`` has gradient 0 at
``x == threshold``; ``celu`` is C1 (gradient 1 at 0).

Keras 3's spellings of the same functions (``hard_sigmoid``, ``hard_silu``,
``log_sigmoid``...) and its own activations live in ``activations_keras``;
``prelu``, ``rrelu``, ``softmin`` and the attention and image ops PyTorch
programs call are in ``torch_nn``.

Example:
    >>> import numpy as np, numnet.functional as F
    >>> x = np.array([-4.0, -1.0, 0.0, 1.0, 4.0], np.float32)
    >>> F.hardsigmoid(x).numpy()
    array([0.        , 0.33333334, 0.5       , 0.6666667 , 1.        ],
          dtype=float32)
    >>> F.softshrink(x, 0.5).numpy()
    array([-3.5, -0.5,  0. ,  0.5,  3.5], dtype=float32)
"""

from __future__ import annotations

import math

from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor
from numnet.functional._args import floating, number


def _number(op: str, name: str, value, minimum=None) -> float:
    """A finite real ``value`` (>= ``minimum``), or a ValueError naming ``op``."""
    return number(op, name, value, -math.inf if minimum is None else minimum)


def _interval(op: str, names: tuple[str, str], low, high) -> tuple[float, float]:
    """Two finite numbers with ``low <= high``, or a ValueError naming both."""
    low, high = _number(op, names[0], low), _number(op, names[1], high)
    if low > high:
        raise ValueError(
            f"{op}: expected {names[0]} <= {names[1]}. Received: {names[0]}={low!r}, "
            f"{names[1]}={high!r}"
        )
    return low, high


def _float_input(op: str, x) -> Tensor:
    """``x`` as a Tensor; a TypeError naming ``op`` unless it is floating-point."""
    return floating(op, x, "x")


class _SiLU(Function):
    """x * sigmoid(x) (swish)."""

    def forward(self, x):
        self.x, self.s = x, self.ops.sigmoid(x)
        return x * self.s

    def backward(self, gy):
        # d/dx x s(x) = s + x s (1 - s) = s (1 + x (1 - s))
        one = self.x.dtype.type(1)
        return gy * self.s * (one + self.x * (one - self.s))


class _Mish(Function):
    """x * tanh(softplus(x))."""

    def forward(self, x):
        xp, dt = self.xp, x.dtype.type
        self.x = x
        self.t = xp.tanh(xp.logaddexp(dt(0), x))  # softplus without overflow
        return x * self.t

    def backward(self, gy):
        # d/dx x t = t + x (1 - t^2) softplus'(x), softplus' = sigmoid
        one = self.x.dtype.type(1)
        slope = one - self.t * self.t
        return gy * (self.t + self.x * slope * self.ops.sigmoid(self.x))


class _ClippedRamp(Function):
    """scale * clip(x + shift, low, high): hardtanh, relu6, hardsigmoid."""

    def __init__(self, shift: float, low: float, high: float, scale: float = 1.0):
        self.shift, self.low, self.high, self.scale = shift, low, high, scale

    def forward(self, x):
        dt = x.dtype.type
        z = x + dt(self.shift) if self.shift else x
        self.inside = (z > dt(self.low)) & (z < dt(self.high))
        y = self.xp.clip(z, dt(self.low), dt(self.high))
        return y * dt(self.scale) if self.scale != 1 else y

    def backward(self, gy):
        # slope `scale` strictly inside (low, high), 0 on the flat parts and kinks
        return gy * (self.inside * gy.dtype.type(self.scale))


class _HardSwish(Function):
    """x * relu6(x + 3) / 6."""

    def forward(self, x):
        dt = x.dtype.type
        self.x = x
        return x * (self.xp.clip(x + dt(3), dt(0), dt(6)) / dt(6))

    def backward(self, gy):
        # 0 for x <= -3, 1 for x >= 3, x / 3 + 1/2 in between (PyTorch's kinks)
        x, dt = self.x, self.x.dtype.type
        inside = (x > dt(-3)) & (x < dt(3))
        slope = self.xp.where(inside, x / dt(3) + dt(0.5), (x >= dt(3)) * dt(1))
        return gy * slope


class _Softsign(Function):
    """x / (1 + |x|)."""

    def forward(self, x):
        self.denominator = self.xp.abs(x) + x.dtype.type(1)
        return x / self.denominator

    def backward(self, gy):
        return gy / (self.denominator * self.denominator)  # 1 / (1 + |x|)^2


class _LogSigmoid(Function):
    """log(sigmoid(x)) = -softplus(-x)."""

    def forward(self, x):
        self.x = x
        return -self.xp.logaddexp(x.dtype.type(0), -x)  # no overflow either side

    def backward(self, gy):
        return gy * self.ops.sigmoid(-self.x)  # d/dx log s(x) = 1 - s(x) = s(-x)


class _TanhShrink(Function):
    """x - tanh(x)."""

    def forward(self, x):
        self.t = self.xp.tanh(x)
        return x - self.t

    def backward(self, gy):
        return gy * (self.t * self.t)  # 1 - (1 - tanh^2) = tanh^2


class _Shrink(Function):
    """softshrink (x -+ lambd outside [-lambd, lambd]) or hardshrink (x there)."""

    def __init__(self, lambd: float, soft: bool):
        self.lambd, self.soft = lambd, soft

    def forward(self, x):
        dt = x.dtype.type
        self.outside = self.xp.abs(x) > dt(self.lambd)
        if not self.soft:
            return x * self.outside
        shrunk = x - self.xp.sign(x) * dt(self.lambd)
        return shrunk * self.outside

    def backward(self, gy):
        return gy * self.outside  # 1 outside [-lambd, lambd], 0 on it (and its ends)


class _Threshold(Function):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float):
        self.threshold, self.value = threshold, value

    def forward(self, x):
        dt = x.dtype.type
        self.above = x > dt(self.threshold)
        return self.xp.where(self.above, x, dt(self.value))

    def backward(self, gy):
        return gy * self.above  # 1 above the threshold, 0 at or below it


class _CELU(Function):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise."""

    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        dt = x.dtype.type
        self.positive = x > dt(0)
        # exp of the negative part only: no overflow for large positive x
        self.e = self.xp.exp(self.xp.minimum(x, dt(0)) / dt(self.alpha))
        return self.xp.where(self.positive, x, dt(self.alpha) * (self.e - dt(1)))

    def backward(self, gy):
        # 1 for x > 0; exp(x / alpha) otherwise (1 at the kink: C1)
        return gy * self.xp.where(self.positive, gy.dtype.type(1), self.e)


class _GELUTanh(Function):
    """GELU's tanh form 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi)."""

    C, K = math.sqrt(2 / math.pi), 0.044715

    def forward(self, x):
        dt = x.dtype.type
        self.x = x
        self.t = self.xp.tanh(dt(self.C) * (x + dt(self.K) * x * x * x))
        return dt(0.5) * x * (dt(1) + self.t)

    def backward(self, gy):
        # 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 K x^2)
        x, t, dt = self.x, self.t, self.x.dtype.type
        inner = dt(self.C) * (dt(1) + dt(3 * self.K) * x * x)
        return gy * (dt(0.5) * (dt(1) + t) + dt(0.5) * x * (dt(1) - t * t) * inner)


def silu(x) -> Tensor:
    """SiLU (swish) ``x * sigmoid(x)``.

    Shape:
        x: any shape -> the same shape.
    """
    return _SiLU()(_float_input("silu", x))


def mish(x) -> Tensor:
    """Mish ``x * tanh(softplus(x))``, stable for large |x|.

    Shape:
        x: any shape -> the same shape.
    """
    return _Mish()(_float_input("mish", x))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``clip(x, min_val, max_val)``; gradient 1 strictly between, 0 elsewhere.

    Shape:
        x: any shape -> the same shape.
    """
    low, high = _interval("hardtanh", ("min_val", "max_val"), min_val, max_val)
    return _ClippedRamp(0.0, low, high)(_float_input("hardtanh", x))


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``; gradient 0 at 0 and at 6 (PyTorch).

    Shape:
        x: any shape -> the same shape.
    """
    return _ClippedRamp(0.0, 0.0, 6.0)(_float_input("relu6", x))


def hardsigmoid(x) -> Tensor:
    """``relu6(x + 3) / 6`` (PyTorch's and Keras 3's hard sigmoid).

    Shape:
        x: any shape -> the same shape.
    """
    return _ClippedRamp(3.0, 0.0, 6.0, 1 / 6)(_float_input("hardsigmoid", x))


def hardswish(x) -> Tensor:
    """``x * relu6(x + 3) / 6`` (Keras's ``hard_silu``/``hard_swish``).

    Shape:
        x: any shape -> the same shape.
    """
    return _HardSwish()(_float_input("hardswish", x))


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``.

    Shape:
        x: any shape -> the same shape.
    """
    return _Softsign()(_float_input("softsign", x))


def logsigmoid(x) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x.

    Shape:
        x: any shape -> the same shape.
    """
    return _LogSigmoid()(_float_input("logsigmoid", x))


def tanhshrink(x) -> Tensor:
    """``x - tanh(x)``.

    Shape:
        x: any shape -> the same shape.
    """
    return _TanhShrink()(_float_input("tanhshrink", x))


def softshrink(x, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between.

    Shape:
        x: any shape -> the same shape.
    """
    lambd = _number("softshrink", "lambd", lambd, 0.0)
    return _Shrink(lambd, soft=True)(_float_input("softshrink", x))


def hardshrink(x, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, 0 elsewhere.

    Shape:
        x: any shape -> the same shape.
    """
    lambd = _number("hardshrink", "lambd", lambd)
    return _Shrink(lambd, soft=False)(_float_input("hardshrink", x))


def threshold(x, threshold: float, value: float | None = None, *, default_value=None):
    """``x`` where ``x > threshold``, ``value`` elsewhere.

    ``value`` is PyTorch's name, ``default_value`` Keras 3's; give one of them.

    Shape:
        x: any shape -> the same shape.
    """
    if (value is None) == (default_value is None):
        raise TypeError(
            "threshold: expected exactly one of 'value' (PyTorch) or "
            f"'default_value' (Keras). Received: value={value!r}, "
            f"default_value={default_value!r}"
        )
    value = value if default_value is None else default_value
    limit = _number("threshold", "threshold", threshold)
    fill = _number("threshold", "value", value)
    return _Threshold(limit, fill)(_float_input("threshold", x))


def celu(x, alpha: float = 1.0) -> Tensor:
    """``x`` for x > 0, ``alpha * (exp(x / alpha) - 1)`` otherwise (C1 at 0).

    Shape:
        x: any shape -> the same shape.
    """
    alpha = _number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: invalid value for argument 'alpha'. Expected a "
                         "nonzero number. Received: alpha=0")  # fmt: skip
    return _CELU(alpha)(_float_input("celu", x))


def gelu_tanh(x) -> Tensor:
    """GELU's tanh approximation (``gelu(x, approximate="tanh")``).

    Shape:
        x: any shape -> the same shape.
    """
    return _GELUTanh()(_float_input("gelu", x))


swish = silu
