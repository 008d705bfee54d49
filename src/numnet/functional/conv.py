"""Convolutions on channels-last images: conv2d, conv2d_transpose, depthwise_conv2d.

Each is one fused op over the pure-ndarray kernels of ``numnet._kernels``:
conv2d is im2col + one GEMM forward and GEMMs + col2im backward (see
``_kernels/conv.py`` for the equations), conv2d_transpose is its adjoint, and
depthwise_conv2d a loop over the kernel offsets. Kernel layouts are Keras's.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet._kernels.conv import conv2d_backward, conv2d_forward
from numnet._kernels.conv_plan import ConvPlan, configured_plan, plan_conv
from numnet._kernels.conv_transpose import (
    conv2d_transpose_backward,
    conv2d_transpose_forward,
)
from numnet._kernels.depthwise import depthwise_backward, depthwise_forward
from numnet._kernels.im2col import Geometry, make_geometry, pair
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor


def _check_inputs(op: str, x, w, b, layout: str, in_axis: int, n_out: int) -> None:
    """Validate ranks, channel counts, bias shape and dtypes of a convolution."""
    if x.ndim != 4:
        raise ValueError(
            f"{op}: expected an input x of shape (N, H, W, C) (channels-last). "
            f"Received: x.shape={x.shape}"
        )
    if w.ndim != 4:
        raise ValueError(
            f"{op}: expected a kernel w of shape {layout}. Received: w.shape={w.shape}"
        )
    if x.shape[3] != w.shape[in_axis]:
        raise ValueError(
            f"{op}: the input has {x.shape[3]} channels (x.shape={x.shape}) but the "
            f"kernel expects {w.shape[in_axis]} (w.shape={w.shape}, layout {layout})"
        )
    if b is not None and b.shape != (n_out,):
        raise ValueError(
            f"{op}: expected a bias b of shape ({n_out},). Received: b.shape={b.shape}"
        )
    dtypes = {x.dtype, w.dtype} | ({b.dtype} if b is not None else set())
    if x.dtype.kind != "f" or len(dtypes) > 1:
        got = f"x.dtype={x.dtype}, w.dtype={w.dtype}"
        got += "" if b is None else f", b.dtype={b.dtype}"
        raise TypeError(
            f"{op}: expected floating-point x, w and b of one dtype. Received: {got}"
        )


def _device(x) -> str:
    """The planner's device: "cpu" for NumPy arrays, "cupy" for CuPy's (also
    through an array-API wrapper module such as ``cupy.array_api``), else the
    namespace's name."""
    xp = backend.get_array_module(x)
    name = "cpu" if xp is np else getattr(xp, "__name__", "other")
    return "cupy" if name.split(".")[0] == "cupy" else name


class _Conv2d(Function):
    """y = x (*) w + b via im2col and GEMMs, run as ``plan_conv`` plans it.

    With ``relu=True`` the op is relu(x (*) w + b): the ReLU runs on the GEMM's
    output (in place on the CPU) and its gradient mask is applied to gy before
    the convolution's backward. ``plan`` overrides the planner's choice (its
    ``fused_relu`` is set from ``relu``).
    """

    def __init__(self, stride, padding, dilation, relu=False, plan=None):
        self.options = stride, padding, dilation
        self.relu = relu
        if plan is not None and not isinstance(plan, ConvPlan):
            raise TypeError(
                f"conv2d: invalid value for argument 'plan'. Expected a ConvPlan "
                f"or None. Received: plan={plan!r}"
            )
        self.plan = plan

    def forward(self, x, w, b=None):
        _check_inputs("conv2d", x, w, b, "(KH, KW, C_in, C_out)", 2, w.shape[-1])
        stride, padding, dilation = self.options
        g = make_geometry(
            x.shape[1], x.shape[2], w.shape[:2], stride, padding, dilation, "conv2d"
        )
        plan = self.plan if self.plan is not None else configured_plan("conv2d")
        if plan is None:
            plan = plan_conv(
                g, _device(x), C=x.shape[3], O=w.shape[3], N=x.shape[0],
                itemsize=x.dtype.itemsize, weight_grad=self.needs_input_grad[1],
                bias=b is not None, relu=self.relu,
            )  # fmt: skip
        if plan.fused_relu != self.relu:
            plan = plan.replace(fused_relu=self.relu)
        if not self.needs_input_grad[1] and plan.keep_columns:
            plan = plan.replace(keep_columns=False)  # columns only serve dL/dw
        y, self.state = conv2d_forward(plan, x, w, b, g)
        return y

    def backward(self, gy):
        # dw = cols^T gy2, db = sum gy2, dx = col2im(gy2 w2^T) (or a faster path)
        needs = tuple(self.needs_input_grad) + (False,) * (3 - len(self.inputs))
        grads = conv2d_backward(gy, self.state, *needs)
        return grads[: len(self.inputs)]

    def release(self) -> None:
        state = getattr(self, "state", None)
        if state is not None:
            state.release()  # kept columns back to the buffer pool
        super().release()


def _transpose_axis(n: int, k: int, s: int, mode: str, extra) -> tuple:
    """(output length, (before, after) padding of the adjoint convolution) of one axis.

    Keras/JAX describe a transposed convolution as a convolution of the
    stride-dilated input padded (left, right); the convolution it is the adjoint of
    then has padding (k - 1 - left, k - 1 - right) on the output side.
    """
    if mode == "valid":
        left, right = k - 1, k - 1 + (max(k, s) - k if extra is None else extra)
    else:
        pad_len = s + k - 2 if extra is None else k + k % 2 - 2 + extra
        left = min(pad_len // 2 + pad_len % 2, k - 1)
        right = pad_len - left
    # a negative "after" padding only means trailing rows no window reaches
    return (n - 1) * s + left + right - k + 2, (k - 1 - left, max(k - 1 - right, 0))


def transpose_geometry(
    H_in: int, W_in: int, kernel_size, stride, padding, output_padding
) -> Geometry:
    """Geometry of the convolution whose adjoint is a Keras Conv2DTranspose.

    Output length (Keras): "valid": (n-1)*s + max(k, s) (+ output_padding - the
    default max(k, s) - k); "same": n*s, or (n-1)*s + k%2 + output_padding.
    """
    op = "conv2d_transpose"
    k, s = pair(kernel_size, "kernel_size", op), pair(stride, "stride", op)
    mode = padding.lower() if isinstance(padding, str) else None
    if mode not in ("valid", "same"):
        raise ValueError(
            f"{op}: invalid value for argument 'padding'. Expected 'valid' or 'same'. "
            f"Received: padding={padding!r}"
        )
    outp = output_padding
    if outp is not None:
        outp = pair(output_padding, "output_padding", op, minimum=0)
    if outp is not None and (outp[0] >= s[0] or outp[1] >= s[1]):
        raise ValueError(
            f"{op}: invalid value for argument 'output_padding'. Expected values "
            f"smaller than the stride {s}. Received: output_padding={output_padding!r}"
        )
    extra = (None, None) if outp is None else outp
    (H, (pt, pb)), (W, (pl, pr)) = (
        _transpose_axis(n, kk, ss, mode, a)
        for n, kk, ss, a in zip((H_in, W_in), k, s, extra, strict=True)
    )
    g = Geometry(H, W, k[0], k[1], s[0], s[1], 1, 1, pt, pb, pl, pr)
    if H < 1 or W < 1 or (g.OH, g.OW) != (H_in, W_in):
        raise ValueError(
            f"{op}: kernel_size={k}, stride={s}, padding={padding!r} and "
            f"output_padding={output_padding!r} give no valid output for an input "
            f"of {H_in}x{W_in}"
        )
    return g


class _Conv2dTranspose(Function):
    """The adjoint of conv2d: y = col2im(x2 w2^T) + b; kernel (KH, KW, Co, Ci)."""

    def __init__(self, stride, padding, output_padding):
        self.options = stride, padding, output_padding

    def forward(self, x, w, b=None):
        layout = "(KH, KW, C_out, C_in)"
        _check_inputs("conv2d_transpose", x, w, b, layout, 3, w.shape[2])
        stride, padding, output_padding = self.options
        self.g = transpose_geometry(
            x.shape[1], x.shape[2], w.shape[:2], stride, padding, output_padding
        )
        self.x, self.w = x, w
        self.kernels = _cuda_conv(self.ops)  # CuPy: GEMM + one col2im kernel
        forward = getattr(self.kernels, "conv2d_transpose_forward", None)
        return (forward or conv2d_transpose_forward)(x, w, b, self.g)

    def backward(self, gy):
        # dx = conv2d(gy, w) (im2col(gy) w2), dw2 = im2col(gy)^T x2, db = sum gy
        needs = tuple(self.needs_input_grad) + (False,) * (3 - len(self.inputs))
        backward = getattr(self.kernels, "conv2d_transpose_backward", None)
        grads = (backward or conv2d_transpose_backward)(
            gy, self.x, self.w, self.g, *needs
        )
        return grads[: len(self.inputs)]


class _DepthwiseConv2d(Function):
    """Per-channel convolution (Keras kernel (KH, KW, C_in, depth_multiplier))."""

    def __init__(self, stride, padding, dilation):
        self.options = stride, padding, dilation

    def forward(self, x, w, b=None):
        layout = "(KH, KW, C_in, depth_multiplier)"
        n_out = w.shape[2] * w.shape[3] if w.ndim == 4 else -1
        _check_inputs("depthwise_conv2d", x, w, b, layout, 2, n_out)
        stride, padding, dilation = self.options
        self.g = make_geometry(
            x.shape[1], x.shape[2], w.shape[:2], stride, padding, dilation,
            "depthwise_conv2d",
        )  # fmt: skip
        self.x, self.w = x, w
        self.kernels = _cuda_depthwise(self.ops, x)  # CuPy: one kernel a pass
        forward = getattr(self.kernels, "depthwise_forward", None)
        return (forward or depthwise_forward)(x, w, b, self.g)

    def backward(self, gy):
        # dx_ij += sum_m gy w[i, j]; dw[i, j] = sum over pixels of x_ij gy
        needs = tuple(self.needs_input_grad) + (False,) * (3 - len(self.inputs))
        backward = getattr(self.kernels, "depthwise_backward", None)
        grads = (backward or depthwise_backward)(gy, self.x, self.w, self.g, needs)
        return grads[: len(self.inputs)]


def _cuda_conv(ops):
    """``numnet.backend.cupy_conv`` for CuPy arrays, else None."""
    if ops.name != "cupy":
        return None
    from numnet.backend import cupy_conv  # imports CuPy: only once it is in use

    return cupy_conv


def _cuda_depthwise(ops, x):
    """``numnet.backend.cupy_depthwise`` for float32/float64 CuPy arrays, else None."""
    if ops.name != "cupy":
        return None
    from numnet.backend import cupy_depthwise  # imports CuPy: once it is in use

    return cupy_depthwise if cupy_depthwise.supports(x) else None


def _apply(fn: Function, x, w, b) -> Tensor:
    return fn(x, w) if b is None else fn(x, w, b)


def conv2d(
    x, w, b=None, stride=1, padding="valid", dilation=1, *, plan: ConvPlan | None = None
) -> Tensor:
    """2-D convolution (cross-correlation, as in every DL library) of NHWC images.

    Output size per axis: floor((n + p_before + p_after - d*(k-1) - 1) / s) + 1.
    "same" pads like TensorFlow (the extra cell of an odd total goes after), so
    with stride 1 the output keeps H and W, even for even kernels.

    Args:
        x: input images (N, H, W, C_in).
        w: kernel (KH, KW, C_in, C_out), Keras layout.
        b: optional bias (C_out,).
        stride: int or (sh, sw).
        padding: "valid", "same", an int or (ph, pw) zeros on each side.
        dilation: int or (dh, dw); spreads the kernel taps d cells apart.
        plan: how to run it (``numnet._kernels.conv_plan.ConvPlan``); None uses
            ``numnet.config``'s ``kernel_plans["conv2d"]`` if set, else lets
            ``plan_conv`` choose. Every plan computes the same values up to
            float rounding; ``ConvPlan(executor="reference")`` is the course's
            im2col form.

    Returns:
        The output (N, OH, OW, C_out), in the dtype of x.

    Raises:
        ValueError: bad ranks, channel mismatch, unknown padding, a kernel larger
            than the padded input. TypeError: mixed or non-float dtypes.

    Shape:
        x: (N, H, W, C_in), w: (KH, KW, C_in, C_out), b: (C_out,)
        -> (N, OH, OW, C_out)

    Example (course notes: a vertical edge detector on a 6x6 image):
        >>> import numpy as np, numnet.functional as F
        >>> image = np.array([[10.0] * 3 + [0.0] * 3] * 6).reshape(1, 6, 6, 1)
        >>> edge = np.array([[1.0, 0, -1]] * 3).reshape(3, 3, 1, 1)
        >>> F.conv2d(image, edge).numpy()[0, :, :, 0]
        array([[ 0., 30., 30.,  0.],
               [ 0., 30., 30.,  0.],
               [ 0., 30., 30.,  0.],
               [ 0., 30., 30.,  0.]])
    """
    return _apply(_Conv2d(stride, padding, dilation, plan=plan), x, w, b)


def conv2d_relu(
    x, w, b=None, stride=1, padding="valid", dilation=1, *, plan: ConvPlan | None = None
) -> Tensor:
    """``relu(conv2d(x, w, b, ...))`` as one fused op.

    What ``Conv2D(activation="relu")`` runs: the same values and gradients as the
    composition, with one pass and one activation-sized array fewer. Arguments
    and errors (and ``plan``) as :func:`conv2d`.

    Shape:
        x: (N, H, W, C_in), w: (KH, KW, C_in, C_out), b: (C_out,)
        -> (N, OH, OW, C_out)
    """
    return _apply(_Conv2d(stride, padding, dilation, relu=True, plan=plan), x, w, b)


def conv2d_transpose(
    x, w, b=None, stride=1, padding="valid", output_padding=None
) -> Tensor:
    """Transposed convolution (Keras Conv2DTranspose): the adjoint of conv2d.

    It maps a small image to a larger one (decoders, autoencoders): each input
    pixel adds a copy of the kernel, scaled by its value, to the output.
    Output size per axis (Keras): "valid": (n-1)*s + max(k, s); "same": n*s; with
    ``output_padding`` a: (n-1)*s + k + a ("valid") or (n-1)*s + k%2 + a ("same").

    Args:
        x: input (N, H, W, C_in).
        w: kernel (KH, KW, C_out, C_in), Keras Conv2DTranspose layout.
        b: optional bias (C_out,).
        stride: int or pair. padding: "valid" or "same".
        output_padding: None or an int/pair smaller than the stride.

    Shape:
        x: (N, H, W, C_in), w: (KH, KW, C_out, C_in) -> (N, OH, OW, C_out)

    Example:
        >>> import numpy as np, numnet.functional as F
        >>> x = np.ones((1, 2, 2, 1))
        >>> F.conv2d_transpose(x, np.ones((3, 3, 1, 1)), stride=2).shape
        (1, 5, 5, 1)
    """
    return _apply(_Conv2dTranspose(stride, padding, output_padding), x, w, b)


def depthwise_conv2d(x, w, b=None, stride=1, padding="valid", dilation=1) -> Tensor:
    """Depthwise 2-D convolution (Keras DepthwiseConv2D): one filter bank per channel.

    Output channel c*M + m is input channel c convolved with w[:, :, c, m].

    Args:
        x: input (N, H, W, C_in).
        w: kernel (KH, KW, C_in, depth_multiplier M).
        b: optional bias (C_in*M,).
        stride, padding, dilation: as in :func:`conv2d`.

    Shape:
        x: (N, H, W, C_in), w: (KH, KW, C_in, M) -> (N, OH, OW, C_in*M)
    """
    return _apply(_DepthwiseConv2d(stride, padding, dilation), x, w, b)
