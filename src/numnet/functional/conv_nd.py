"""1-D and 3-D convolution and pooling, built on the 2-D ops (one im2col).

* 1-D: a sequence (N, W, C) is an image (N, 1, W, C); the kernel (K, C_in, C_out)
  is (1, K, C_in, C_out). ``padding="causal"`` left-pads ``d*(K-1)`` steps, so
  output t sees inputs <= t only (WaveNet).
* 3-D: a convolution is the sum over the KD depth taps of 2-D convolutions:
  ``y[:, od] = sum_kd conv2d(x[:, od*sd + kd*dd], w[kd])``. Each tap is one
  conv2d over all output depths at once (the depth slices are folded into the
  batch), so the Python loop runs KD times, never over samples or positions.
* 3-D upsampling repeats (H, W) with the 2-D op on (N*D, H, W, C), then depth
  with a (sd, 1) 2-D upsampling of (N, D, H*W, C); 3-D global pooling is the
  2-D one of (N, D*H, W, C).
* 3-D pooling is 2-D pooling over (H, W) then a (pd, 1) 2-D pooling over depth.
  Max of maxima is the max of the window; for averages the depth average of
  equal-size (H, W) averages is the window average, and with "same" padding every
  depth slice has the same number of valid (H, W) cells, so it stays exact.

Gradients come from the 2-D ops and the shape ops (reshape, strided getitem, pad).
"""

from __future__ import annotations

import numpy as np

from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.conv import conv2d
from numnet.functional.pooling import (
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    upsample2d,
)
from numnet.functional.reduce import max as reduce_max
from numnet.functional.reduce import mean
from numnet.functional.shaping import pad, reshape


def _ints(value, n: int, name: str, op: str) -> tuple[int, ...]:
    items = (value,) * n if isinstance(value, (int, np.integer)) else value
    ok = isinstance(items, (tuple, list)) and len(items) == n
    ok = ok and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
        for v in items
    )
    if not ok:
        raise ValueError(
            f"{op}: invalid value for argument '{name}'. Expected a positive int or "
            f"a tuple of {n} positive ints. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in items)


def _padding(value, op: str, allowed=("valid", "same")) -> str:
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise ValueError(
        f"{op}: invalid value for argument 'padding'. Expected one of "
        f"{list(allowed)}. Received: padding={value!r}"
    )


def _check_rank(op: str, x: Tensor, ndim: int, layout: str) -> None:
    if x.ndim != ndim:
        raise ValueError(
            f"{op}: expected an input x of shape {layout} (channels-last). "
            f"Received: x.shape={x.shape}"
        )


def _same_pad(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's "same": ceil(n/s) outputs, the odd extra cell after."""
    total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def conv1d(x, w, b=None, stride=1, padding="valid", dilation=1) -> Tensor:
    """1-D convolution of (N, W, C) sequences (Keras Conv1D), on ``conv2d``.

    Args:
        x: input (N, W, C_in).
        w: kernel (K, C_in, C_out), Keras layout.
        b: optional bias (C_out,).
        stride, dilation: ints.
        padding: "valid", "same" or "causal" (left zeros: no look-ahead).

    Shape:
        x: (N, W, C_in) -> (N, OW, C_out); OW = floor((W - d(K-1) - 1)/s) + 1 for
        "valid", ceil(W/s) for "same" and "causal".
    """
    x, w = as_tensor(x), as_tensor(w)
    _check_rank("conv1d", x, 3, "(N, W, C)")
    if w.ndim != 3:
        raise ValueError(
            f"conv1d: expected a kernel of shape (K, C_in, C_out). "
            f"Received: w.shape={w.shape}"
        )
    (s,), (d,) = (
        _ints(stride, 1, "stride", "conv1d"),
        _ints(dilation, 1, "dilation", "conv1d"),
    )
    mode = _padding(padding, "conv1d", ("valid", "same", "causal"))
    if mode == "causal":
        x, mode = pad(x, ((0, 0), (d * (w.shape[0] - 1), 0), (0, 0))), "valid"
    y = conv2d(
        reshape(x, (x.shape[0], 1, x.shape[1], x.shape[2])),
        reshape(w, (1, *w.shape)),
        b,
        stride=(1, s),
        padding=mode,
        dilation=(1, d),
    )
    return reshape(y, (y.shape[0], y.shape[2], y.shape[3]))


def _pool1d(op, name: str, x, pool_size, strides, padding) -> Tensor:
    x = as_tensor(x)
    _check_rank(name, x, 3, "(N, W, C)")
    (p,) = _ints(pool_size, 1, "pool_size", name)
    (s,) = (p,) if strides is None else _ints(strides, 1, "strides", name)
    y = op(reshape(x, (x.shape[0], 1, *x.shape[1:])), (1, p), (1, s), padding)
    return reshape(y, (y.shape[0], *y.shape[2:]))


def max_pool1d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """1-D max pooling of (N, W, C) (Keras MaxPooling1D); strides default to
    ``pool_size``.

    Shape:
        x: (N, W, C) -> (N, OW, C)
    """
    return _pool1d(max_pool2d, "max_pool1d", x, pool_size, strides, padding)


def avg_pool1d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """1-D average pooling of (N, W, C) (Keras AveragePooling1D); "same" windows
    average their cells inside the sequence only.

    Shape:
        x: (N, W, C) -> (N, OW, C)
    """
    return _pool1d(avg_pool2d, "avg_pool1d", x, pool_size, strides, padding)


def global_avg_pool1d(x) -> Tensor:
    """Mean over the steps (Keras GlobalAveragePooling1D): (N, W, C) -> (N, C)."""
    x = as_tensor(x)
    _check_rank("global_avg_pool1d", x, 3, "(N, W, C)")
    return mean(x, axis=1)


def global_max_pool1d(x) -> Tensor:
    """Max over the steps (Keras GlobalMaxPooling1D): (N, W, C) -> (N, C)."""
    x = as_tensor(x)
    _check_rank("global_max_pool1d", x, 3, "(N, W, C)")
    return reduce_max(x, axis=1)


def upsample1d(x, size: int = 2) -> Tensor:
    """Repeat each step ``size`` times (Keras UpSampling1D).

    Shape:
        x: (N, W, C) -> (N, W*size, C)
    """
    x = as_tensor(x)
    _check_rank("upsample1d", x, 3, "(N, W, C)")
    (s,) = _ints(size, 1, "size", "upsample1d")
    y = upsample2d(reshape(x, (x.shape[0], 1, *x.shape[1:])), (1, s))
    return reshape(y, (y.shape[0], *y.shape[2:]))


def _depth_taps(x: Tensor, k: int, s: int, d: int, padding: str, op: str):
    """Pad the depth axis; return (padded x, output depth OD)."""
    D = x.shape[1]
    before, after = _same_pad(D, k, s, d) if padding == "same" else (0, 0)
    OD = (D + before + after - d * (k - 1) - 1) // s + 1
    if OD < 1:
        raise ValueError(
            f"{op}: the (dilated) kernel depth {d * (k - 1) + 1} is larger than the "
            f"input depth {D} with padding='{padding}'"
        )
    if before or after:
        x = pad(x, ((0, 0), (before, after), (0, 0), (0, 0), (0, 0)))
    return x, OD


def conv3d(x, w, b=None, stride=1, padding="valid", dilation=1) -> Tensor:
    """3-D convolution of (N, D, H, W, C) volumes (Keras Conv3D), as KD conv2d's.

    Args:
        x: input (N, D, H, W, C_in).
        w: kernel (KD, KH, KW, C_in, C_out), Keras layout.
        b: optional bias (C_out,).
        stride, dilation: int or a triple.
        padding: "valid" or "same" (TensorFlow's, per axis).

    Shape:
        x: (N, D, H, W, C_in) -> (N, OD, OH, OW, C_out)
    """
    x, w = as_tensor(x), as_tensor(w)
    _check_rank("conv3d", x, 5, "(N, D, H, W, C)")
    if w.ndim != 5:
        raise ValueError(
            f"conv3d: expected a kernel of shape (KD, KH, KW, C_in, C_out). "
            f"Received: w.shape={w.shape}"
        )
    sd, sh, sw = _ints(stride, 3, "stride", "conv3d")
    dd, dh, dw = _ints(dilation, 3, "dilation", "conv3d")
    mode = _padding(padding, "conv3d")
    x, OD = _depth_taps(x, w.shape[0], sd, dd, mode, "conv3d")
    N, _, H, W, C = x.shape
    total = None
    for kd in range(w.shape[0]):
        start = kd * dd
        taps = x[:, start : start + sd * (OD - 1) + 1 : sd]  # (N, OD, H, W, C)
        y = conv2d(
            reshape(taps, (N * OD, H, W, C)),
            w[kd],
            stride=(sh, sw),
            padding=mode,
            dilation=(dh, dw),
        )
        total = y if total is None else total + y
    if b is not None:
        total = total + b
    return reshape(total, (N, OD, *total.shape[1:]))


def _pool3d(op, name: str, x, pool_size, strides, padding) -> Tensor:
    x = as_tensor(x)
    _check_rank(name, x, 5, "(N, D, H, W, C)")
    pd, ph, pw = _ints(pool_size, 3, "pool_size", name)
    sd, sh, sw = (pd, ph, pw) if strides is None else _ints(strides, 3, "strides", name)
    mode = _padding(padding, name)
    N, D, H, W, C = x.shape
    y = op(reshape(x, (N * D, H, W, C)), (ph, pw), (sh, sw), mode)  # over (H, W)
    OH, OW = y.shape[1:3]
    y = op(reshape(y, (N, D, OH * OW, C)), (pd, 1), (sd, 1), mode)  # over depth
    return reshape(y, (N, y.shape[1], OH, OW, C))


def max_pool3d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """3-D max pooling of (N, D, H, W, C) (Keras MaxPooling3D).

    Shape:
        x: (N, D, H, W, C) -> (N, OD, OH, OW, C)
    """
    return _pool3d(max_pool2d, "max_pool3d", x, pool_size, strides, padding)


def avg_pool3d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """3-D average pooling of (N, D, H, W, C) (Keras AveragePooling3D).

    Shape:
        x: (N, D, H, W, C) -> (N, OD, OH, OW, C)
    """
    return _pool3d(avg_pool2d, "avg_pool3d", x, pool_size, strides, padding)


def upsample3d(x, size=2) -> Tensor:
    """Repeat each depth slice, row and column (Keras UpSampling3D, nearest).

    Shape:
        x: (N, D, H, W, C) -> (N, D*sd, H*sh, W*sw, C)
    """
    x = as_tensor(x)
    _check_rank("upsample3d", x, 5, "(N, D, H, W, C)")
    sd, sh, sw = _ints(size, 3, "size", "upsample3d")
    N, D, H, W, C = x.shape
    y = upsample2d(reshape(x, (N * D, H, W, C)), (sh, sw))  # over (H, W)
    OH, OW = y.shape[1:3]
    y = upsample2d(reshape(y, (N, D, OH * OW, C)), (sd, 1))  # over depth
    return reshape(y, (N, D * sd, OH, OW, C))


def _global_pool3d(op, name: str, x) -> Tensor:
    x = as_tensor(x)
    _check_rank(name, x, 5, "(N, D, H, W, C)")
    N, D, H, W, C = x.shape
    return op(reshape(x, (N, D * H, W, C)))


def global_avg_pool3d(x) -> Tensor:
    """Mean over depth, rows and columns (Keras GlobalAveragePooling3D).

    Shape:
        x: (N, D, H, W, C) -> (N, C)
    """
    return _global_pool3d(global_avg_pool2d, "global_avg_pool3d", x)


def global_max_pool3d(x) -> Tensor:
    """Max over depth, rows and columns (Keras GlobalMaxPooling3D); the gradient
    goes to one maximal voxel per sample and channel.

    Shape:
        x: (N, D, H, W, C) -> (N, C)
    """
    return _global_pool3d(global_max_pool2d, "global_max_pool3d", x)
