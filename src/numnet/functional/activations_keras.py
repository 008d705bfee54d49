"""Keras 3's activations: its own ones and its spellings of PyTorch's.

``KERAS_ACTIVATIONS`` maps each name that Keras 3 registers and numnet's core
``activations`` module lacks to its function; ``get_activation`` (hence
``Dense(..., activation="swish")`` and ``layers.Activation``) resolves them, and
a layer's config saves the name. Formulas and default arguments are Keras 3's
(``keras.activations``): ``hard_sigmoid`` is ``relu6(x + 3) / 6`` (Keras 2's
was ``0.2 x + 0.5``), ``soft_shrink``/``hard_shrink`` take ``threshold=0.5``,
``squareplus`` ``b=4``, ``glu``/``sparsemax`` ``axis=-1``; ``threshold`` has no
defaults, as in Keras (``activation="threshold"`` needs its two arguments, so
it is for direct calls).

Example:
    >>> import numpy as np
    >>> from numnet.functional.activations import get_activation
    >>> x = np.array([-2.0, 0.0, 2.0], np.float32)
    >>> get_activation("hard_sigmoid")(x).numpy()
    array([0.16666667, 0.5       , 0.8333334 ], dtype=float32)
    >>> get_activation("sparsemax")(np.array([[1.0, 2.0, 0.0]])).numpy()
    array([[0., 1., 0.]])
"""

from __future__ import annotations

from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor
from numnet.functional.activations_more import (
    _ClippedRamp,
    _float_input,
    _number,
    celu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    silu,
    softshrink,
    softsign,
    tanhshrink,
)
from numnet.functional.activations_more import threshold as _threshold
from numnet.functional.elementwise import exp
from numnet.functional.shaping import _check_axis


class _Squareplus(Function):
    """(x + sqrt(x^2 + b)) / 2."""

    def __init__(self, b: float):
        self.b = b

    def forward(self, x):
        dt = x.dtype.type
        self.x, self.root = x, self.xp.sqrt(x * x + dt(self.b))
        return (x + self.root) / dt(2)

    def backward(self, gy):
        # (1 + x / sqrt(x^2 + b)) / 2; at x = 0 with b = 0 (a ReLU) take 1/2
        dt, root = gy.dtype.type, self.root
        ratio = self.x / self.xp.where(root > dt(0), root, dt(1))
        return gy * ((dt(1) + ratio) / dt(2))


class _SparsePlus(Function):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""

    def forward(self, x):
        dt = x.dtype.type
        self.x = x
        quadratic = (x + dt(1)) * (x + dt(1)) / dt(4)
        y = self.xp.where(x < dt(1), quadratic, x)
        return self.xp.where(x <= dt(-1), dt(0), y)

    def backward(self, gy):
        # 0, (x + 1) / 2, 1 on the three pieces: continuous, so no kink choice
        x, dt = self.x, gy.dtype.type
        return gy * self.xp.clip((x + dt(1)) / dt(2), dt(0), dt(1))


class _GLU(Function):
    """a * sigmoid(b), a and b the two halves of x along ``axis``."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        self.a, b = self.xp.split(x, 2, axis=self.axis)
        self.s = self.ops.sigmoid(b)
        return self.a * self.s

    def backward(self, gy):
        # d/da = s; d/db = a s (1 - s); the two halves joined back along axis
        ga = gy * self.s
        gb = ga * self.a * (gy.dtype.type(1) - self.s)
        return self.xp.concatenate([ga, gb], axis=self.axis)


class _Sparsemax(Function):
    """The Euclidean projection of x onto the simplex along ``axis``."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        xp, axis, dt = self.xp, self.axis, x.dtype.type
        z = -xp.sort(-x, axis=axis)  # descending
        cumulative = xp.cumsum(z, axis=axis)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        r = xp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
        support = z - (cumulative - dt(1)) / r > dt(0)  # a prefix of the sorted z
        k = support.sum(axis=axis, keepdims=True).astype(x.dtype)
        total = xp.where(support, z, dt(0)).sum(axis=axis, keepdims=True)
        self.y = xp.maximum(x - (total - dt(1)) / k, dt(0))
        return self.y

    def backward(self, gy):
        # on the support S (y > 0): g - mean_S(g); 0 off it (Martins & Astudillo)
        inside = self.y > gy.dtype.type(0)
        count = inside.sum(axis=self.axis, keepdims=True).astype(gy.dtype)
        mean = (gy * inside).sum(axis=self.axis, keepdims=True) / count
        return (gy - mean) * inside


def squareplus(x, b: float = 4.0) -> Tensor:
    """Keras's ``(x + sqrt(x^2 + b)) / 2``, a smooth ReLU (``b >= 0``).

    Shape:
        x: any shape -> the same shape.
    """
    b = _number("squareplus", "b", b, 0.0)
    return _Squareplus(b)(_float_input("squareplus", x))


def sparse_plus(x) -> Tensor:
    """Keras's 0 / ``(x + 1)^2 / 4`` / ``x`` for x <= -1 / |x| < 1 / x >= 1.

    Shape:
        x: any shape -> the same shape.
    """
    return _SparsePlus()(_float_input("sparse_plus", x))


def sparse_sigmoid(x) -> Tensor:
    """Keras's ``0.5 * clip(x + 1, 0, 2)``: 0 below -1, 1 above 1, linear between.

    Shape:
        x: any shape -> the same shape.
    """
    return _ClippedRamp(1.0, 0.0, 2.0, 0.5)(_float_input("sparse_sigmoid", x))


def glu(x, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """Gated linear unit ``a * sigmoid(b)``; ``a, b``: the halves of x along ``axis``.

    ``dim`` is PyTorch's name of ``axis`` (``F.glu(x, dim=1)``).

    Shape:
        x: (..., 2n, ...) -> (..., n, ...) along ``axis``.
    """
    x = _float_input("glu", x)
    axis = _check_axis("glu", axis if dim is None else dim, x.ndim)
    if x.shape[axis] % 2:
        raise ValueError(
            f"glu: the halved axis {axis} must have an even size. Received: a "
            f"tensor of shape {x.shape}"
        )
    return _GLU(axis)(x)


def sparsemax(x, axis: int = -1) -> Tensor:
    """Sparsemax along ``axis``: like softmax, but exact zeros outside a support.

    Shape:
        x: any shape -> the same shape.
    """
    x = _float_input("sparsemax", x)
    axis = _check_axis("sparsemax", axis, x.ndim)
    if x.shape[axis] == 0:
        raise ValueError(f"sparsemax: expected a non-empty axis {axis}. Received: "
                         f"a tensor of shape {x.shape}")  # fmt: skip
    return _Sparsemax(axis)(x)


def soft_shrink(x, threshold: float = 0.5) -> Tensor:
    """Keras's spelling of ``softshrink`` (its argument is ``threshold``).

    Shape:
        x: any shape -> the same shape.
    """
    return softshrink(x, threshold)


def hard_shrink(x, threshold: float = 0.5) -> Tensor:
    """Keras's spelling of ``hardshrink`` (its argument is ``threshold``).

    Shape:
        x: any shape -> the same shape.
    """
    return hardshrink(x, threshold)


def keras_threshold(x, threshold: float, default_value: float) -> Tensor:
    """Keras's ``threshold(x, threshold, default_value)``: x above, the value else.

    Shape:
        x: any shape -> the same shape.
    """
    return _threshold(x, threshold, default_value=default_value)


#: the Keras 3 activation names numnet's core ``ACTIVATIONS`` lacks
KERAS_ACTIVATIONS = {
    "silu": silu,
    "swish": silu,
    "mish": mish,
    "relu6": relu6,
    "hard_sigmoid": hardsigmoid,
    "hard_silu": hardswish,
    "hard_swish": hardswish,
    "softsign": softsign,
    "exponential": exp,
    "log_sigmoid": logsigmoid,
    "celu": celu,
    "glu": glu,
    "hard_tanh": hardtanh,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax,
    "squareplus": squareplus,
    "tanh_shrink": tanhshrink,
    "soft_shrink": soft_shrink,
    "hard_shrink": hard_shrink,
    "threshold": keras_threshold,
}
