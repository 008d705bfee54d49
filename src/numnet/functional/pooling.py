"""Pooling and upsampling of channels-last images.

max_pool2d and avg_pool2d are fused ops over ``numnet._kernels.pooling`` (a loop
over the window offsets, never over pixels); the global pools compose the
reductions of ``functional.reduce``; upsample2d repeats pixels (nearest).
"""

from __future__ import annotations

import functools

import numpy as np

from numnet import backend
from numnet._kernels.conv_plan import configured_plan
from numnet._kernels.im2col import make_geometry, pair, plain_arguments
from numnet._kernels.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
    pool_method,
)
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.reduce import max as _max
from numnet.functional.reduce import mean as _mean


def _check_image(op: str, x, dtype: bool = True) -> None:
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(
            f"{op}: expected an input x of shape (N, H, W, C) (channels-last). "
            f"Received: x.shape={shape}"
        )
    if dtype and x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input. Received: {x.dtype}")


def _pool_geometry(op: str, x: np.ndarray, pool_size, strides, padding):
    _check_image(op, x)
    args = (op, x.shape[1], x.shape[2], pool_size, strides, padding)
    if plain_arguments(*args):  # memoized: a pure function of plain arguments
        return _cached_pool_geometry(*args)
    return _resolve_pool_geometry(*args)


@functools.lru_cache(maxsize=256)
def _cached_pool_geometry(op, H, W, pool_size, strides, padding):
    return _resolve_pool_geometry(op, H, W, pool_size, strides, padding)


def _resolve_pool_geometry(op: str, H: int, W: int, pool_size, strides, padding):
    if not (isinstance(padding, str) and padding.lower() in ("valid", "same")):
        raise ValueError(
            f"{op}: invalid value for argument 'padding'. Expected 'valid' or 'same'. "
            f"Received: padding={padding!r}"
        )
    size = pair(pool_size, "pool_size", op)
    strides = size if strides is None else pair(strides, "strides", op)
    return make_geometry(H, W, size, strides, padding, 1, op)


def _cuda_kernels(ops):
    """``numnet.backend.cupy_pool`` (one CUDA kernel each way) for CuPy arrays,
    else None: the kernels of ``_kernels/pooling.py``."""
    if ops.name != "cupy":
        return None
    from numnet.backend import cupy_pool  # imports CuPy: only once it is in use

    return cupy_pool


class _MaxPool2d(Function):
    """Window maxima; the gradient goes to one winner per window (the first, in
    column-major window order, among equal maxima: see ``_kernels/pooling.py``).

    With ``relu=True`` the op is relu(max_pool(x)) = max_pool(relu(x)): the ReLU
    runs on the pooled output (a quarter of the input for a 2x2 pool), in place.
    """

    def __init__(self, pool_size, strides, padding, method="auto", relu=False):
        self.options = pool_size, strides, padding
        self.method = method
        self.relu = relu

    def forward(self, x):
        self.g = _pool_geometry("max_pool2d", x, *self.options)
        self.x_shape = x.shape
        method = self.method
        if method == "auto":
            method = configured_plan("max_pool2d") or "auto"
        self.method = pool_method(x, self.g, method)
        # CuPy arrays: one CUDA kernel each way, unless the reference is asked for
        self.cuda = _cuda_kernels(self.ops) if method != "reference" else None
        self.y = None  # kept for the ReLU's mask
        if self.cuda is not None:  # the ReLU inside the kernel
            y, self.argmax = self.cuda.max_pool_forward(x, self.g, relu=self.relu)
            self.y = y if self.relu else None
            return y
        y, self.argmax = max_pool_forward(x, self.g, self.method)
        if self.relu:  # y is the op's own array: relu'd in place
            self.ops.relu_in_place(y)
            self.y = y
        return y

    def backward(self, gy):
        # dL/dm = gy where y = relu(m) > 0 (m the window maximum) with the ReLU;
        # dL/dx[winner of window] += dL/dm[window]; every other cell gets 0
        if self.cuda is not None:  # the mask inside the kernel
            return self.cuda.max_pool_backward(
                gy, self.argmax, self.x_shape, self.g, y=self.y
            )
        if self.relu:
            gy = self.ops.relu_backward(gy, self.y)
        return max_pool_backward(gy, self.argmax, self.x_shape, self.g, self.method)


class _AvgPool2d(Function):
    """Window means over the non-padding cells (Keras/TensorFlow "same")."""

    def __init__(self, pool_size, strides, padding):
        self.options = pool_size, strides, padding

    def forward(self, x):
        self.g = _pool_geometry("avg_pool2d", x, *self.options)
        self.x_shape = x.shape
        self.cuda = _cuda_kernels(self.ops)
        if self.cuda is not None:
            return self.cuda.avg_pool_forward(x, self.g)
        return avg_pool_forward(x, self.g)

    def backward(self, gy):
        # dL/dx[cell] = sum over the windows containing it of gy / count(window)
        if self.cuda is not None:
            return self.cuda.avg_pool_backward(gy, self.x_shape, self.g)
        return avg_pool_backward(gy, self.x_shape, self.g)


class _Upsample2d(Function):
    """Nearest-neighbour upsampling: every pixel becomes an sh x sw block."""

    def __init__(self, size):
        self.size = size

    def forward(self, x):
        _check_image("upsample2d", x)
        self.sh, self.sw = pair(self.size, "size", "upsample2d")
        N, H, W, C = x.shape
        xp = backend.get_array_module(x)
        x6 = xp.reshape(x, (N, H, 1, W, 1, C))
        blocks = xp.broadcast_to(x6, (N, H, self.sh, W, self.sw, C))
        return xp.reshape(blocks, (N, H * self.sh, W * self.sw, C))

    def backward(self, gy):
        # each input pixel was copied into sh*sw outputs: sum their gradients
        xp = backend.get_array_module(gy)
        N, OH, OW, C = gy.shape
        shape = (N, OH // self.sh, self.sh, OW // self.sw, self.sw, C)
        return xp.sum(xp.reshape(gy, shape), axis=(2, 4))


def max_pool2d(
    x, pool_size, strides=None, padding="valid", *, method: str = "auto"
) -> Tensor:
    """2-D max pooling of NHWC images (Keras MaxPooling2D semantics).

    Args:
        x: input (N, H, W, C).
        pool_size: int or (ph, pw).
        strides: int, pair, or None for ``pool_size`` (non-overlapping windows).
            Smaller strides give overlapping windows.
        padding: "valid" (drop partial windows) or "same" (TensorFlow padding;
            padded cells never win).
        method: the kernel path: "auto", "offsets", "two_stage" (windows that
            tile the input) or "reference" (portable); the same values and
            gradients whichever runs (``numnet._kernels.pooling``). "auto" uses
            ``numnet.config``'s ``kernel_plans["max_pool2d"]`` when set.

    Shape:
        x: (N, H, W, C) -> (N, OH, OW, C), OH = floor((H - ph)/sh) + 1 ("valid")
        or ceil(H/sh) ("same").

    Example:
        >>> import numpy as np, numnet.functional as F
        >>> x = np.array([[1.0, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
        >>> F.max_pool2d(x.reshape(1, 4, 4, 1), 2).numpy()[0, :, :, 0]
        array([[9., 2.],
               [6., 3.]])
    """
    return _MaxPool2d(pool_size, strides, padding, method)(x)


def max_pool2d_relu(
    x, pool_size, strides=None, padding="valid", *, method: str = "auto"
) -> Tensor:
    """``relu(max_pool2d(x, ...))`` as one fused op; equal to ``max_pool2d(relu(x))``.

    The ReLU and the window maximum commute (the ReLU is monotone): the same
    values and gradients as either composition, with the ReLU on the pooled
    output, a quarter of the input's size for a 2x2 pool. A model runs a
    ``Conv2D(activation="relu")`` followed by ``MaxPooling2D`` as an unactivated
    convolution and this op (``numnet.models``' ReLU-past-pool rewrite).
    Arguments and errors as :func:`max_pool2d`.

    Example:
        >>> import numpy as np, numnet.functional as F
        >>> x = np.array([[-1.0, -3, 2, 1], [-2, -9, 1, 1]]).reshape(1, 2, 4, 1)
        >>> F.max_pool2d_relu(x, 2).numpy().ravel()
        array([0., 2.])
    """
    return _MaxPool2d(pool_size, strides, padding, method, relu=True)(x)


def avg_pool2d(x, pool_size, strides=None, padding="valid") -> Tensor:
    """2-D average pooling of NHWC images (Keras AveragePooling2D semantics).

    With "same" padding each window averages only its cells inside the image, as
    Keras/TensorFlow do (the padding is not counted as zeros).

    Args:
        x: input (N, H, W, C).
        pool_size, strides, padding: as in :func:`max_pool2d`.

    Shape:
        x: (N, H, W, C) -> (N, OH, OW, C)
    """
    return _AvgPool2d(pool_size, strides, padding)(x)


def global_avg_pool2d(x) -> Tensor:
    """Mean over the spatial axes (Keras GlobalAveragePooling2D).

    Shape:
        x: (N, H, W, C) -> (N, C)
    """
    x = as_tensor(x)
    _check_image("global_avg_pool2d", x, dtype=False)
    return _mean(x, axis=(1, 2))


def global_max_pool2d(x) -> Tensor:
    """Maximum over the spatial axes (Keras GlobalMaxPooling2D); the gradient goes
    to one (the first) maximal pixel per image and channel.

    Shape:
        x: (N, H, W, C) -> (N, C)
    """
    x = as_tensor(x)
    _check_image("global_max_pool2d", x, dtype=False)
    return _max(x, axis=(1, 2))


def upsample2d(x, size=(2, 2)) -> Tensor:
    """Nearest-neighbour upsampling (Keras UpSampling2D): repeat rows and columns.

    Args:
        x: input (N, H, W, C).
        size: int or (sh, sw) repetitions.

    Shape:
        x: (N, H, W, C) -> (N, H*sh, W*sw, C)
    """
    return _Upsample2d(size)(x)
