"""Activation functions, each one fused op, and ``get_activation`` for Keras strings."""

from __future__ import annotations

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.activations_keras import KERAS_ACTIVATIONS
from numnet.functional.activations_more import gelu_tanh

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def stable_sigmoid(x):
    """1 / (1 + e^-x) on raw arrays without overflow (``Ops.sigmoid``)."""
    return backend.get_ops(x).sigmoid(x)


class _ReLU(Function):
    """max(x, 0); relu'(0) = 0 (``Ops.relu``: threads and out= loops on NumPy)."""

    def forward(self, x):
        y, self.mask = self.ops.relu(x)
        return y

    def backward(self, gy):
        return self.ops.mask_multiply(gy, self.mask)


def relu_in_place(y) -> None:
    """y = max(y, 0) in place, on threads when y is large (fused ReLUs)."""
    backend.get_ops(y).relu_in_place(y)


def relu_backward(gy, y):
    """gy where the ReLU's output y is positive, 0 elsewhere (relu'(0) = 0)."""
    return backend.get_ops(gy).relu_backward(gy, y)


class _LeakyReLU(Function):
    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        dt = x.dtype.type  # slope = 1 where x > 0, alpha elsewhere (no np.where)
        self.slope = (x > 0) * dt(1 - self.alpha) + dt(self.alpha)
        return x * self.slope

    def backward(self, gy):
        return gy * self.slope


class _ELU(Function):
    def __init__(self, alpha, scale=1.0):
        self.alpha, self.scale = alpha, scale

    def forward(self, x):
        dt = x.dtype.type
        self.positive = x > 0
        # expm1 only on the negative part avoids overflow for large positive x
        neg = dt(self.alpha) * self.xp.expm1(self.xp.minimum(x, dt(0)))
        self.neg = neg
        return dt(self.scale) * self.xp.where(self.positive, x, neg)

    def backward(self, gy):
        # d/dx: scale for x > 0; scale * (neg + alpha) = scale * alpha e^x otherwise
        dt = gy.dtype.type
        slope = self.xp.where(self.positive, dt(1), self.neg + dt(self.alpha))
        return gy * (dt(self.scale) * slope)


class _Sigmoid(Function):
    def forward(self, x):
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)  # s' = s (1 - s)


class _Tanh(Function):
    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)  # tanh' = 1 - tanh^2


class _Softplus(Function):
    def forward(self, x):
        self.x = x
        return self.xp.logaddexp(x.dtype.type(0), x)  # log(1 + e^x) without overflow

    def backward(self, gy):
        return gy * stable_sigmoid(self.x)  # softplus' = sigmoid


class _GELU(Function):
    """Exact GELU: x * Phi(x), Phi the standard normal CDF."""

    def forward(self, x):
        self.x = x
        self.cdf = self.ops.normal_cdf(x)
        return x * self.cdf

    def backward(self, gy):
        return self.ops.gelu_grad(gy, self.x, self.cdf)  # Phi(x) + x phi(x)


class _Softmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        e = self.xp.exp(x - x.max(axis=self.axis, keepdims=True))  # shift: no overflow
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        # dL/dx = y * (g - sum(g * y))
        gx = self.y * gy
        gx -= self.y * gx.sum(axis=self.axis, keepdims=True)
        return gx


class _LogSoftmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - self.xp.log(
            self.xp.exp(shifted).sum(axis=self.axis, keepdims=True)
        )
        self.y = y
        return y

    def backward(self, gy):
        # dL/dx = g - softmax(x) * sum(g)
        return gy - self.xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


def relu(x) -> Tensor:
    """Rectified linear unit max(x, 0) (gradient 0 at 0).

    Shape:
        x: any shape -> the same shape.
    """
    return _ReLU()(x)


def leaky_relu(x, negative_slope: float = 0.2, *, alpha=None) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (gradient: the slope at 0).

    The default slope is Keras's 0.2; PyTorch's ``F.leaky_relu`` defaults to
    0.01, so pass ``negative_slope=0.01`` when porting code that relies on it.
    ``alpha`` is the former name of ``negative_slope``.

    Shape:
        x: any shape -> the same shape.
    """
    return _LeakyReLU(negative_slope if alpha is None else alpha)(x)


def elu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (e^x - 1) otherwise.

    Shape:
        x: any shape -> the same shape.
    """
    return _ELU(alpha)(x)


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al.

    Shape:
        x: any shape -> the same shape.
    """
    return _ELU(_SELU_ALPHA, _SELU_SCALE)(x)


_GELU_FORMS = {False: False, True: True, "none": False, "tanh": True}


def gelu(x, approximate: bool | str = False) -> Tensor:
    """Gaussian error linear unit x * Phi(x) (exact erf form by default).

    Args:
        x: the input.
        approximate: False/"none" (Keras/PyTorch spellings): the exact form;
            True/"tanh": ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Shape:
        x: any shape -> the same shape.
    """
    known = isinstance(approximate, (bool, str))
    form = _GELU_FORMS.get(approximate) if known else None
    if form is None:
        raise ValueError(
            f"gelu: invalid value for argument 'approximate'. Expected False, True, "
            f"'none' or 'tanh'. Received: approximate={approximate!r}"
        )
    return gelu_tanh(x) if form else _GELU()(x)


def sigmoid(x) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x), stable for large |x|.

    Shape:
        x: any shape -> the same shape.
    """
    return _Sigmoid()(x)


def tanh(x) -> Tensor:
    """Hyperbolic tangent.

    Shape:
        x: any shape -> the same shape.
    """
    return _Tanh()(x)


def softplus(x) -> Tensor:
    """log(1 + e^x), stable for large |x|.

    Shape:
        x: any shape -> the same shape.
    """
    return _Softplus()(x)


def _softmax_input(name: str, x, axis: int):
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected a floating-point tensor. Received: dtype {x.dtype} "
            f"(cast it first, e.g. x.astype('float32'))"
        )
    if x.ndim and -x.ndim <= axis < x.ndim and x.shape[axis] == 0:
        raise ValueError(
            f"{name}: expected a non-empty axis {axis}. Received: a tensor of "
            f"shape {x.shape}"
        )
    return x


def softmax(x, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``axis``, shifted by the max so that it never overflows.

    Shape:
        x: any shape -> the same shape.
    """
    return _Softmax(axis)(_softmax_input("softmax", x, axis))


def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``; finite for logits of any size.

    Shape:
        x: any shape -> the same shape.
    """
    return _LogSoftmax(axis)(_softmax_input("log_softmax", x, axis))


def linear_activation(x) -> Tensor:
    """The identity (Keras's ``activation="linear"`` / ``None``)."""
    return x


ACTIVATIONS = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "linear": linear_activation,
    **KERAS_ACTIVATIONS,  # swish, mish, hard_sigmoid... (activations_keras)
}


def get_activation(identifier):
    """Resolve an activation: None, a Keras name such as ``"relu"``, or a callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None:
        return linear_activation
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in ACTIVATIONS:
        return ACTIVATIONS[identifier]
    raise ValueError(
        f"invalid value for argument 'activation'. Expected one of "
        f"{sorted(ACTIVATIONS)} or a callable. Received: activation={identifier!r}"
    )
