"""1-D/3-D transposed and 1-D depthwise convolutions, built on the 2-D ops.

* 1-D: a sequence (N, W, C) is an image (N, 1, W, C) and a kernel gets a
  leading KH = 1 axis, as in :mod:`numnet.functional.conv_nd`.
* 3-D transposed: the adjoint of ``conv3d``'s sum over depth taps. Each input
  depth slice ``i`` and tap ``kd`` add ``conv2d_transpose(x[:, i], w[kd])`` to
  output depth ``i*sd + kd``. Per tap, one conv2d_transpose runs over all depth
  slices at once (folded into the batch); the slices are then spread ``sd``
  apart (zeros between, by pad + reshape) and shifted by ``kd``. The Python loop
  runs KD times, never over samples or positions. The depth axis is then cut
  to Keras's output length with the same rule as the 2-D op's rows.

Building it as the adjoint of ``conv3d`` through autograd would need the
gradient of a gradient for the kernel's own gradient, which numnet does not do
(first-order only), so the depth taps are spelled out as ``conv3d`` does.
Gradients come from the 2-D ops and the shape ops (reshape, pad, getitem).
"""

from __future__ import annotations

from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.conv import _transpose_axis, conv2d_transpose, depthwise_conv2d
from numnet.functional.conv_nd import _check_rank, _ints, _padding
from numnet.functional.shaping import pad, reshape


def _check_kernel(op: str, w: Tensor, ndim: int, layout: str) -> None:
    if w.ndim != ndim:
        raise ValueError(
            f"{op}: expected a kernel w of shape {layout}. Received: w.shape={w.shape}"
        )


def _check_channels(op: str, x: Tensor, w: Tensor, b) -> None:
    """The kernel (k..., C_out, C_in) fits x's channels; b is (C_out,)."""
    if x.shape[-1] != w.shape[-1]:
        raise ValueError(
            f"{op}: the input has {x.shape[-1]} channels (x.shape={x.shape}) but "
            f"the kernel expects {w.shape[-1]} (w.shape={w.shape}, layout "
            f"(k..., C_out, C_in))"
        )
    if b is not None and tuple(b.shape) != (w.shape[-2],):
        raise ValueError(
            f"{op}: expected a bias b of shape ({w.shape[-2]},). "
            f"Received: b.shape={tuple(b.shape)}"
        )


def _output_padding(value, strides: tuple, op: str):
    """None, or one non-negative int per axis, each smaller than its stride."""
    if value is None:
        return None
    n = len(strides)
    items = (value,) * n if isinstance(value, int) else value
    if not (
        isinstance(items, (tuple, list))
        and len(items) == n
        and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items
        )
        and all(v < s for v, s in zip(items, strides, strict=True))
    ):
        raise ValueError(
            f"{op}: invalid value for argument 'output_padding'. Expected None, or "
            f"a non-negative int (or a tuple of {n}) smaller than the stride "
            f"{strides}. Received: output_padding={value!r}"
        )
    return tuple(items)


def _as_row_image(x: Tensor) -> Tensor:
    return reshape(x, (x.shape[0], 1, x.shape[1], x.shape[2]))


def _as_sequence(y: Tensor) -> Tensor:
    return reshape(y, (y.shape[0], y.shape[2], y.shape[3]))


def conv1d_transpose(
    x, w, b=None, stride=1, padding="valid", output_padding=None
) -> Tensor:
    """Transposed 1-D convolution (Keras Conv1DTranspose), on ``conv2d_transpose``.

    Args:
        x: input (N, W, C_in).
        w: kernel (K, C_out, C_in), Keras's transposed layout.
        b: optional bias (C_out,).
        stride: int. padding: "valid" or "same".
        output_padding: None or an int smaller than the stride.

    Shape:
        x: (N, W, C_in) -> (N, OW, C_out); OW = W*s ("same") or
        (W-1)*s + max(K, s) ("valid"), as :func:`conv2d_transpose`'s columns.
    """
    x, w = as_tensor(x), as_tensor(w)
    op = "conv1d_transpose"
    _check_rank(op, x, 3, "(N, W, C)")
    _check_kernel(op, w, 3, "(K, C_out, C_in)")
    (s,) = _ints(stride, 1, "stride", op)
    extra = _output_padding(output_padding, (s,), op)
    y = conv2d_transpose(
        _as_row_image(x),
        reshape(w, (1, *w.shape)),
        b,
        stride=(1, s),
        padding=_padding(padding, op),
        output_padding=None if extra is None else (0, extra[0]),
    )
    return _as_sequence(y)


def depthwise_conv1d(x, w, b=None, stride=1, padding="valid", dilation=1) -> Tensor:
    """Depthwise 1-D convolution (Keras DepthwiseConv1D), on ``depthwise_conv2d``.

    Output channel c*M + m is input channel c convolved with w[:, c, m].

    Args:
        x: input (N, W, C_in).
        w: kernel (K, C_in, depth_multiplier M).
        b: optional bias (C_in*M,).
        stride, dilation: ints. padding: "valid" or "same".

    Shape:
        x: (N, W, C_in) -> (N, OW, C_in*M)
    """
    x, w = as_tensor(x), as_tensor(w)
    op = "depthwise_conv1d"
    _check_rank(op, x, 3, "(N, W, C)")
    _check_kernel(op, w, 3, "(K, C_in, depth_multiplier)")
    (s,), (d,) = _ints(stride, 1, "stride", op), _ints(dilation, 1, "dilation", op)
    y = depthwise_conv2d(
        _as_row_image(x),
        reshape(w, (1, *w.shape)),
        b,
        stride=(1, s),
        padding=_padding(padding, op),
        dilation=(1, d),
    )
    return _as_sequence(y)


def _spread_depth(z: Tensor, D: int, s: int, shift: int, length: int) -> Tensor:
    """(N, D, ...) -> (N, length, ...) with slice i at depth i*s + shift, zeros
    elsewhere (pad a stride axis, fold it into depth, pad/cut the ends)."""
    N, rest = z.shape[0], z.shape[2:]
    if s > 1:
        z = reshape(z, (N, D, 1, *rest))
        z = pad(z, ((0, 0), (0, 0), (0, s - 1)) + ((0, 0),) * len(rest))
        z = reshape(z, (N, D * s, *rest))
    after = length - shift - D * s
    z = pad(z, ((0, 0), (shift, max(after, 0))) + ((0, 0),) * len(rest))
    return z[:, :length] if after < 0 else z


def conv3d_transpose(
    x, w, b=None, stride=1, padding="valid", output_padding=None
) -> Tensor:
    """Transposed 3-D convolution (Keras Conv3DTranspose): the adjoint of conv3d.

    Args:
        x: input (N, D, H, W, C_in).
        w: kernel (KD, KH, KW, C_out, C_in), Keras's transposed layout.
        b: optional bias (C_out,).
        stride: int or a triple. padding: "valid" or "same".
        output_padding: None, or an int/triple, each smaller than its stride.

    Shape:
        x: (N, D, H, W, C_in) -> (N, OD, OH, OW, C_out); each axis as in
        :func:`conv2d_transpose` (e.g. n*s for "same").
    """
    x, w = as_tensor(x), as_tensor(w)
    op = "conv3d_transpose"
    _check_rank(op, x, 5, "(N, D, H, W, C)")
    _check_kernel(op, w, 5, "(KD, KH, KW, C_out, C_in)")
    sd, sh, sw = _ints(stride, 3, "stride", op)
    mode = _padding(padding, op)
    extra = _output_padding(output_padding, (sd, sh, sw), op)
    N, D, H, W, C = x.shape
    _check_channels(op, x, w, b)
    KD = w.shape[0]
    OD, (crop, _) = _transpose_axis(
        D, KD, sd, mode, None if extra is None else extra[0]
    )
    full = max((D - 1) * sd + KD, crop + OD)  # every tap's reach, and the cut
    slices = reshape(x, (N * D, H, W, C))
    total = None
    for kd in range(KD):
        z = conv2d_transpose(
            slices,
            w[kd],
            stride=(sh, sw),
            padding=mode,
            output_padding=None if extra is None else extra[1:],
        )
        z = _spread_depth(reshape(z, (N, D, *z.shape[1:])), D, sd, kd, full)
        total = z if total is None else total + z
    y = total[:, crop : crop + OD]
    return y if b is None else y + b
