"""Merge layers: combine a list of tensors into one (Keras names and semantics).

Each merge layer is called on a *list* of tensors, ``layers.Add()([a, b])``, and
composes ``numnet.functional`` ops, so autograd gives the gradient with respect
to every input.

* elementwise: :class:`Add`, :class:`Subtract`, :class:`Multiply`,
  :class:`Average`, :class:`Maximum`, :class:`Minimum`. Shapes must agree on every
  axis, where an axis of length 1 broadcasts (as in Keras);
* :class:`Concatenate` joins along ``axis`` (all other axes must agree);
* :class:`Dot` is the per-sample dot product ``batch_dot`` of two tensors.

Example:
    >>> import numpy as np
    >>> from numnet.layers.merge import Add, Concatenate
    >>> a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
    >>> Add()([a, b]).data
    array([[3., 3., 3.],
           [3., 3., 3.]], dtype=float32)
    >>> Concatenate()([a, b]).shape
    (2, 6)
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.layers.base import Layer


def _as_list(layer: Layer, inputs) -> list:
    """Check that ``inputs`` is a list of the right length (by the layer's rules)."""
    if not isinstance(inputs, (list, tuple)):
        raise _single_input_error(layer, getattr(inputs, "shape", None))
    count = len(inputs)
    too_few = count < layer.min_inputs
    too_many = layer.max_inputs is not None and count > layer.max_inputs
    if too_few or too_many:
        expected = (
            f"exactly {layer.min_inputs}"
            if layer.min_inputs == layer.max_inputs
            else f"at least {layer.min_inputs}"
        )
        raise ValueError(
            f"{type(layer).__name__}: expected a list of {expected} tensors. "
            f"Received: a list of {count}"
        )
    return list(inputs)


def _single_input_error(layer: Layer, shape) -> ValueError:
    name = type(layer).__name__
    return ValueError(
        f"{name}: expected a list of at least {layer.min_inputs} tensors, as in "
        f"{name}()([a, b]). Received: a single input of shape {shape}"
    )


def _to_tensor(x, dtype) -> Tensor:
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return as_tensor(array)


class _Merge(Layer):
    """Shared plumbing: list checks, casting of ndarray inputs, shape validation."""

    min_inputs = 2
    max_inputs: int | None = None

    def build(self, input_shape) -> None:
        # a single input's shape is a tuple of ints; a list input gives a list of them
        if not input_shape or not isinstance(input_shape[0], (list, tuple)):
            raise _single_input_error(self, tuple(input_shape))
        shapes = _as_list(self, input_shape)
        self._check_shapes([tuple(s) for s in shapes])
        self.built = True

    def call(self, inputs):
        tensors = [_to_tensor(x, self.dtype) for x in _as_list(self, inputs)]
        self._check_shapes([t.shape for t in tensors])
        return self._merge(tensors)

    def _check_shapes(self, shapes: list[tuple]) -> None:
        """Elementwise rule: same rank; on each axis equal lengths, or 1."""
        name = type(self).__name__
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(
                f"{name}: all inputs must have the same rank. "
                f"Received: input shapes {shapes}"
            )
        for axis, sizes in enumerate(zip(*shapes, strict=True)):
            if len({n for n in sizes if n != 1}) > 1:
                raise ValueError(
                    f"{name}: input shapes are incompatible on axis {axis} (lengths "
                    f"must be equal, or 1 to broadcast). "
                    f"Received: input shapes {shapes}"
                )

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        raise NotImplementedError


class Add(_Merge):
    """Elementwise sum of a list of tensors.

    Shape:
        inputs: a list of tensors of the same shape (length-1 axes broadcast);
        output: that shape.
    """

    def _merge(self, tensors):
        return _fold(F.add, tensors)


class Subtract(_Merge):
    """Elementwise difference ``a - b`` of exactly two tensors.

    Shape:
        inputs: ``[a, b]`` of the same shape; output: that shape.
    """

    max_inputs = 2

    def _merge(self, tensors):
        return F.sub(tensors[0], tensors[1])


class Multiply(_Merge):
    """Elementwise product of a list of tensors (e.g. a gate times a signal).

    Shape:
        inputs: a list of tensors of the same shape; output: that shape.
    """

    def _merge(self, tensors):
        return _fold(F.mul, tensors)


class Average(_Merge):
    """Elementwise mean of a list of tensors.

    Shape:
        inputs: a list of tensors of the same shape; output: that shape.
    """

    def _merge(self, tensors):
        return _fold(F.add, tensors) * (1.0 / len(tensors))


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors; ties send the gradient to the first.

    Shape:
        inputs: a list of tensors of the same shape; output: that shape.
    """

    def _merge(self, tensors):
        return _fold(F.maximum, tensors)


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors; ties send the gradient to the first.

    Shape:
        inputs: a list of tensors of the same shape; output: that shape.
    """

    def _merge(self, tensors):
        return _fold(F.minimum, tensors)


class Concatenate(_Merge):
    """Join a list of tensors along ``axis`` (default: the last, the channels).

    Args:
        axis: the axis to join along; every other axis must have equal lengths.
        **kwargs: the :class:`Layer` arguments (name, trainable, ...).

    Shape:
        inputs: tensors of the same rank, e.g. (N, H, W, C_i);
        output: (N, H, W, sum of C_i) for ``axis=-1``.
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(
                f"Concatenate: invalid value for argument 'axis'. Expected an int. "
                f"Received: axis={axis!r}"
            )
        self.axis = int(axis)

    def _check_shapes(self, shapes):
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(
                f"Concatenate: inputs must have the same rank, with axis={self.axis} "
                f"inside it. Received: input shapes {shapes}"
            )
        axis = self.axis % rank
        others = {s[:axis] + s[axis + 1 :] for s in shapes}
        if len(others) != 1:
            raise ValueError(
                f"Concatenate: every axis except the concatenation axis ({self.axis}) "
                f"must match. Received: input shapes {shapes}"
            )

    def _merge(self, tensors):
        return F.concatenate(tensors, axis=self.axis)

    def get_config(self) -> dict:
        """The configuration, with ``axis``."""
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Per-sample dot product of two tensors over ``axes`` (Keras ``batch_dot``).

    For two (N, D) inputs this is the row-wise dot product, shape (N, 1); with
    ``normalize=True`` the rows are L2-normalized first, giving the cosine
    similarity. For (N, P, D) and (N, D, Q) with ``axes=(2, 1)`` it is the batched
    matrix product (N, P, Q).

    Args:
        axes: an int (the same axis of both inputs) or a pair of ints. The batch
            axis 0 cannot be contracted.
        normalize: L2-normalize both inputs along ``axes`` before the product.
        **kwargs: the :class:`Layer` arguments.

    Shape:
        inputs: ``[x, y]`` with ``x.shape[axes[0]] == y.shape[axes[1]]`` and the
        same batch size; output: (N, rest of x..., rest of y...), or (N, 1) when
        both inputs are 2-D.
    """

    max_inputs = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, (int, np.integer)) else axes
        valid = isinstance(pair, (list, tuple)) and len(pair) == 2
        if not valid or any(
            isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in pair
        ):
            raise ValueError(
                f"Dot: invalid value for argument 'axes'. Expected an int or a pair "
                f"of ints. Received: axes={axes!r}"
            )
        self.axes = (int(pair[0]), int(pair[1]))
        self.normalize = bool(normalize)

    def _resolved_axes(self, shapes) -> tuple[int, int]:
        out = []
        for axis, shape in zip(self.axes, shapes, strict=True):
            if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
                raise ValueError(
                    f"Dot: axes={self.axes} must name a non-batch axis of each input. "
                    f"Received: input shapes {shapes}"
                )
            out.append(axis % len(shape))
        return out[0], out[1]

    def _check_shapes(self, shapes):
        ax, ay = self._resolved_axes(shapes)
        (sx, sy) = shapes
        if sx[0] != sy[0] or sx[ax] != sy[ay]:
            raise ValueError(
                f"Dot: the inputs need the same batch size and equal lengths on the "
                f"contracted axes {self.axes}. Received: input shapes {shapes}"
            )

    def _merge(self, tensors):
        x, y = tensors
        ax, ay = self._resolved_axes([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
        # Move the contracted axis of x last and that of y right after the batch,
        # flatten the rest: one batched matmul (N, P, D) @ (N, D, Q).
        x = _move_axis(x, ax, x.ndim - 1)
        y = _move_axis(y, ay, 1)
        n, d = x.shape[0], x.shape[-1]
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = F.matmul(F.reshape(x, (n, -1, d)), F.reshape(y, (n, d, -1)))
        shape = (n,) + rest_x + rest_y
        return F.reshape(out, shape if len(shape) > 1 else (n, 1))

    def get_config(self) -> dict:
        """The configuration, with ``axes`` and ``normalize``."""
        config = super().get_config()
        return {**config, "axes": list(self.axes), "normalize": self.normalize}


def _fold(op, tensors: list[Tensor]) -> Tensor:
    out = tensors[0]
    for t in tensors[1:]:
        out = op(out, t)
    return out


def _move_axis(x: Tensor, source: int, destination: int) -> Tensor:
    order = [a for a in range(x.ndim) if a != source]
    order.insert(destination, source)
    return x if order == list(range(x.ndim)) else F.transpose(x, order)


def _l2_normalize(x: Tensor, axis: int, eps: float = 1e-12) -> Tensor:
    # x / sqrt(max(sum x^2, eps)): the clamp keeps an all-zero row finite
    squared = F.sum(x * x, axis=axis, keepdims=True)
    return x / F.sqrt(F.maximum(squared, eps))


# Keras's functional merge helpers: layers.add([a, b]) == layers.Add()([a, b])
def add(inputs, **kwargs):
    """Functional form of :class:`Add`: ``add([a, b]) == Add()([a, b])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of :class:`Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional form of :class:`Concatenate` (along ``axis``, default last)."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize: bool = False, **kwargs):
    """Functional form of :class:`Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
