"""The method spellings of tensor ops (``x.exp()``, ``x.sum(axis=1)``,
``x.reshape(2, -1)``, ...): a mixin of :class:`numnet.autograd.tensor.Tensor`.

Each method looks its differentiable function up by name in
``numnet.autograd.tensor.OPS``, the table ``numnet.functional`` fills when it
is imported (autograd never imports the ops above it).
"""

from __future__ import annotations

from collections.abc import Callable

#: name -> differentiable function, filled by ``numnet.functional``.
OPS: dict[str, Callable] = {}


class TensorMethods:
    """PyTorch- and NumPy-style methods of :class:`Tensor`."""

    def matmul(self, other):
        """Matrix product, batched over leading axes (``self @ other``)."""
        return _op("matmul")(self, other)

    def pow(self, exponent):
        """self ** exponent."""
        return _op("pow")(self, exponent)

    def maximum(self, other):
        """Elementwise maximum with broadcasting (ties: gradient to self)."""
        return _op("maximum")(self, other)

    def minimum(self, other):
        """Elementwise minimum with broadcasting (ties: gradient to self)."""
        return _op("minimum")(self, other)

    def where(self, condition, other):
        """self where ``condition`` holds, else ``other`` (``torch.Tensor.where``)."""
        return _op("where")(condition, self, other)

    def exp(self):
        """Elementwise e**x."""
        return _op("exp")(self)

    def log(self):
        """Elementwise natural logarithm."""
        return _op("log")(self)

    def sqrt(self):
        """Elementwise square root."""
        return _op("sqrt")(self)

    def abs(self):
        """Elementwise absolute value (gradient 0 at 0)."""
        return _op("abs")(self)

    def clip(self, min=None, max=None):
        """Clamp values into [min, max]."""
        return _op("clip")(self, min, max)

    def relu(self):
        """max(x, 0)."""
        return _op("relu")(self)

    def sigmoid(self):
        """1 / (1 + exp(-x))."""
        return _op("sigmoid")(self)

    def tanh(self):
        """Hyperbolic tangent."""
        return _op("tanh")(self)

    def sum(self, axis=None, keepdims: bool = False):
        """Sum over ``axis`` (all axes by default)."""
        return _op("sum")(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        """Mean over ``axis``."""
        return _op("mean")(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0):
        """Variance over ``axis`` (biased by default, as NumPy)."""
        return _op("var")(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def max(self, axis=None, keepdims: bool = False):
        """Maximum over ``axis``; the gradient goes to one winner per slice."""
        return _op("max")(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        """Minimum over ``axis``; the gradient goes to one winner per slice."""
        return _op("min")(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims: bool = False):
        """log(sum(exp(self))) over ``axis``, computed stably."""
        return _op("logsumexp")(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1):
        """Softmax along ``axis``."""
        return _op("softmax")(self, axis=axis)

    def log_softmax(self, axis: int = -1):
        """Log-softmax along ``axis``."""
        return _op("log_softmax")(self, axis=axis)

    def argmax(self, axis=None):
        """Indices of the maxima (an ndarray; not differentiable)."""
        return self.data.argmax(axis=axis)

    def reshape(self, *shape):
        """Return the same data with a new shape (``-1`` infers one axis)."""
        return _op("reshape")(self, _shape_args(shape))

    def flatten(self, start_axis: int = 0, end_axis: int = -1):
        """Merge the axes ``start_axis`` to ``end_axis`` (inclusive) into one."""
        return _op("flatten_axes")(self, start_axis, end_axis)

    def transpose(self, *axes):
        """Permute the axes (reverse them when none are given)."""
        return _op("transpose")(self, _shape_args(axes) or None)

    def permute(self, *axes):
        """Permute the axes (PyTorch name of ``transpose(axes)``)."""
        return _op("transpose")(self, _shape_args(axes))

    def swapaxes(self, axis1: int, axis2: int):
        """Exchange two axes (what ``torch.Tensor.transpose(d0, d1)`` does)."""
        return _op("swapaxes")(self, axis1, axis2)

    def squeeze(self, axis=None):
        """Remove axes of length one."""
        return _op("squeeze")(self, axis)

    def unsqueeze(self, axis: int):
        """Insert an axis of length one at ``axis``."""
        return _op("unsqueeze")(self, axis)

    def expand(self, *shape):
        """Broadcast to ``shape`` (PyTorch name of ``broadcast_to``)."""
        return _op("broadcast_to")(self, _shape_args(shape))

    def broadcast_to(self, shape):
        """Broadcast to ``shape``; the gradient is summed back."""
        return _op("broadcast_to")(self, tuple(shape))

    def split(self, indices_or_sections, axis: int = 0):
        """Split like ``np.split``: an int is a number of equal sections."""
        return _op("split")(self, indices_or_sections, axis=axis)


def _op(name: str) -> Callable:
    try:
        return OPS[name]
    except KeyError:
        raise RuntimeError(
            f"Tensor op '{name}' is not registered; import numnet.functional"
        ) from None


def _shape_args(args) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)
