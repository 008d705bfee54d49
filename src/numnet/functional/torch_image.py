"""PyTorch's image ops ``pixel_shuffle``, ``pixel_unshuffle`` and adaptive pooling,
on numnet's channels-last images.

numnet's images are (N, H, W, C), PyTorch's (N, C, H, W). These functions take
and return channels-last tensors and give PyTorch's numbers after the
transpose: ``F.pixel_shuffle(x, r)`` equals
``torch.pixel_shuffle(x.permute(0, 3, 1, 2), r).permute(0, 2, 3, 1)``. In
particular the channel ``c * r * r + i * r + j`` of the input becomes the
pixel offset ``(i, j)`` of output channel ``c``, PyTorch's order (TensorFlow's
``depth_to_space`` orders the channels ``(i * r + j) * C + c`` instead).

Adaptive pooling splits H into ``OH`` windows ``[floor(i H / OH),
ceil((i + 1) H / OH))`` (PyTorch's; they overlap when OH does not divide H),
and W likewise.

Example:
    >>> import numpy as np, numnet.functional as F
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> F.adaptive_avg_pool2d(x, 2).numpy()[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> F.pixel_unshuffle(x, 2).shape
    (1, 2, 2, 4)
"""

from __future__ import annotations

import numbers

from numnet.autograd.tensor import Tensor, array_module
from numnet.functional.activations_more import _float_input
from numnet.functional.linalg import matmul
from numnet.functional.reduce import max as reduce_max
from numnet.functional.shaping import reshape, transpose


def _factor(op: str, name: str, value) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value >= 1:
            return int(value)
    raise ValueError(
        f"{op}: invalid value for argument '{name}'. Expected a positive int. "
        f"Received: {name}={value!r}"
    )


def _image(op: str, x) -> Tensor:
    """A float tensor (..., H, W, C) with at least 3 axes (channels-last)."""
    x = _float_input(op, x)
    if x.ndim < 3:
        raise ValueError(
            f"{op}: expected an input of shape (N, H, W, C) or (H, W, C) "
            f"(channels-last). Received: x.shape={x.shape}"
        )
    return x


def _tail_axes(ndim: int, tail: tuple[int, ...]) -> tuple[int, ...]:
    """The leading axes kept, then ``tail`` (offsets into the last axes)."""
    lead = ndim - max(tail) - 1
    return (*range(lead), *(lead + t for t in tail))


def pixel_shuffle(x, upscale_factor: int) -> Tensor:
    """(..., H, W, C r^2) -> (..., H r, W r, C): channels to space (PyTorch's order).

    Shape:
        x: (..., H, W, C * r * r) -> (..., H * r, W * r, C).
    """
    x = _image("pixel_shuffle", x)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    *lead, H, W, depth = x.shape
    if depth % (r * r):
        raise ValueError(
            f"pixel_shuffle: the channel axis ({depth}) must be divisible by "
            f"upscale_factor ** 2 = {r * r} (numnet is channels-last: the channels "
            f"are the last axis). Received: x.shape={x.shape}"
        )
    C = depth // (r * r)
    split = reshape(x, (*lead, H, W, C, r, r))  # channel c * r * r + i * r + j
    moved = transpose(split, _tail_axes(split.ndim, (0, 3, 1, 4, 2)))
    return reshape(moved, (*lead, H * r, W * r, C))


def pixel_unshuffle(x, downscale_factor: int) -> Tensor:
    """(..., H r, W r, C) -> (..., H, W, C r^2): the inverse of ``pixel_shuffle``.

    Shape:
        x: (..., H * r, W * r, C) -> (..., H, W, C * r * r).
    """
    x = _image("pixel_unshuffle", x)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    *lead, height, width, C = x.shape
    if height % r or width % r:
        raise ValueError(
            f"pixel_unshuffle: H ({height}) and W ({width}) must be divisible by "
            f"downscale_factor={r} (numnet is channels-last: (N, H, W, C)). "
            f"Received: x.shape={x.shape}"
        )
    H, W = height // r, width // r
    split = reshape(x, (*lead, H, r, W, r, C))
    moved = transpose(split, _tail_axes(split.ndim, (0, 2, 4, 1, 3)))
    return reshape(moved, (*lead, H, W, C * r * r))


def _output_size(op: str, output_size, H: int, W: int) -> tuple[int, int]:
    """An int or a pair; None in the pair keeps that input size (PyTorch)."""
    pair = output_size
    if not isinstance(pair, (tuple, list)):
        pair = (output_size, output_size)
    if len(pair) != 2:
        pair = (0, 0)  # rejected below
    sizes = [H if pair[0] is None else pair[0], W if pair[1] is None else pair[1]]
    ok = all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
        for s in sizes
    )
    if not ok:
        raise ValueError(
            f"{op}: invalid value for argument 'output_size'. Expected a positive "
            f"int or a pair of them (None keeps the input size). Received: "
            f"output_size={output_size!r}"
        )
    return int(sizes[0]), int(sizes[1])


def _adaptive(op: str, x, output_size):
    """The checked image, its array namespace and (OH, OW)."""
    x = _image(op, x)
    return x, array_module(x), _output_size(op, output_size, *x.shape[-3:-1])


def _windows(xp, size: int, out: int):
    """The start and end (exclusive) of each of ``out`` adaptive windows."""
    i = xp.arange(out)
    return (i * size) // out, ((i + 1) * size + out - 1) // out


def _averaging(xp, size: int, out: int, dtype):
    """The (out, size) matrix whose rows average each adaptive window."""
    start, end = _windows(xp, size, out)
    j = xp.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return inside.astype(dtype) / (end - start)[:, None].astype(dtype)


def adaptive_avg_pool2d(x, output_size) -> Tensor:
    """Average pooling to a fixed (OH, OW) whatever the input size (PyTorch's
    windows), on channels-last images: two small matmuls, one per spatial axis.

    Args:
        x: (N, H, W, C) or (H, W, C).
        output_size: OH = OW as an int, or (OH, OW); None keeps that size.

    Shape:
        x: (..., H, W, C) -> (..., OH, OW, C).
    """
    x, xp, (OH, OW) = _adaptive("adaptive_avg_pool2d", x, output_size)
    *lead, H, W, C = x.shape
    rows = _averaging(xp, H, OH, x.dtype)  # (OH, H)
    cols = _averaging(xp, W, OW, x.dtype)  # (OW, W)
    y = reshape(matmul(rows, reshape(x, (*lead, H, W * C))), (*lead, OH, W, C))
    return matmul(cols, y)  # (OW, W) @ (..., OH, W, C) -> (..., OH, OW, C)


def _gather_windows(xp, size: int, out: int):
    """(out, K) indices of each window, short windows padded with their end."""
    start, end = _windows(xp, size, out)
    longest = int((end - start).max())
    k = xp.arange(longest)
    return xp.minimum(start[:, None] + k, end[:, None] - 1)  # a repeat: same max


def adaptive_max_pool2d(x, output_size) -> Tensor:
    """Max pooling to a fixed (OH, OW) whatever the input size (PyTorch's
    windows), on channels-last images. Ties: the first winner gets the gradient.

    Args:
        x: (N, H, W, C) or (H, W, C).
        output_size: OH = OW as an int, or (OH, OW); None keeps that size.

    Shape:
        x: (..., H, W, C) -> (..., OH, OW, C).
    """
    x, xp, (OH, OW) = _adaptive("adaptive_max_pool2d", x, output_size)
    H, W = x.shape[-3:-1]
    # gather (..., OH, KH, W, C) and reduce KH, then the same along W
    rows = reduce_max(x[..., _gather_windows(xp, H, OH), :, :], axis=-3)
    return reduce_max(rows[..., _gather_windows(xp, W, OW), :], axis=-2)
