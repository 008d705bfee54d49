"""Convolution on CUDA: im2col and col2im as one kernel each, GEMMs on cuBLAS.

The same algorithm and layouts as ``numnet._kernels`` (NHWC images, columns
(N, OH, OW, KH, KW, C), Keras kernels (KH, KW, C, O), a
:class:`~numnet._kernels.im2col.Geometry` for the sizes), but where the CPU
version loops over kernel rows with strided copies, here each is one
elementwise kernel:

* im2col: one thread per column element reads its input pixel (or 0 in the
  padding);
* col2im: one thread per *input* element sums the column entries of the taps
  that saw it (a loop over the KH x KW taps inside the thread, no atomics, so
  the result is deterministic).

How the conv planner's "cupy" executor calls it (``_kernels/conv.py``, chosen
by ``plan_conv`` for CuPy arrays)::

    y, cols = cupy_conv.conv2d_forward(x, w, b, g)             # forward
    dx, dw, db = cupy_conv.conv2d_backward(gy, w, g, cols, x.shape)

Imported only with CuPy present (see ``cupy_ops``).
"""

from __future__ import annotations

import cupy

from numnet.backend import cupy_reduce

_IM2COL = cupy.ElementwiseKernel(
    "raw T img, int32 H, int32 W, int32 C, int32 OH, int32 OW, int32 KH, "
    "int32 KW, int32 sh, int32 sw, int32 dh, int32 dw, int32 pt, int32 pl",
    "T col",
    """
    // i indexes col (N, OH, OW, KH, KW, C)
    int c = i % C;
    int kw = (i / C) % KW;
    int kh = (i / (C * KW)) % KH;
    int ow = (i / (C * KW * KH)) % OW;
    int oh = (i / (C * KW * KH * OW)) % OH;
    int n = i / (C * KW * KH * OW * OH);
    int y = oh * sh + kh * dh - pt;
    int x = ow * sw + kw * dw - pl;
    bool inside = 0 <= y && y < H && 0 <= x && x < W;
    col = inside ? img[((n * H + y) * W + x) * C + c] : (T)0;
    """,
    "numnet_im2col_nhwc",
)

_COL2IM_ARGS = (
    "raw T col, int32 H, int32 W, int32 C, int32 OH, int32 OW, int32 KH, "
    "int32 KW, int32 sh, int32 sw, int32 dh, int32 dw, int32 pt, int32 pl"
)
_COL2IM_BODY = """
    // i indexes img (N, H, W, C); sum over the taps (kh, kw) whose window
    // position (oh, ow) covers pixel (y, x)
    int c = i % C;
    int x = (i / C) % W;
    int y = (i / (C * W)) % H;
    int n = i / (C * W * H);
    T total = 0;
    for (int kh = 0; kh < KH; ++kh) {
        int ty = y + pt - kh * dh;
        if (ty < 0 || ty % sh != 0) continue;
        int oh = ty / sh;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            int tx = x + pl - kw * dw;
            if (tx < 0 || tx % sw != 0) continue;
            int ow = tx / sw;
            if (ow >= OW) continue;
            total += col[((((n * OH + oh) * OW + ow) * KH + kh) * KW + kw) * C + c];
        }
    }
"""
_COL2IM = cupy.ElementwiseKernel(
    _COL2IM_ARGS, "T img", _COL2IM_BODY + "img = total;", "numnet_col2im_nhwc"
)
# the transposed convolution's forward: col2im plus the bias, one kernel
_COL2IM_BIAS = cupy.ElementwiseKernel(
    _COL2IM_ARGS + ", raw T b",
    "T img",
    _COL2IM_BODY + "img = total + b[c];",
    "numnet_col2im_bias_nhwc",
)

# conv2d_relu: bias and ReLU in place on the GEMM's output (z < 0 ? 0 : z keeps
# a NaN, as NumPy's maximum), and the backward's mask dL/dz = gy [y > 0]
_BIAS_RELU = cupy.ElementwiseKernel(
    "raw T b, int32 O",
    "T y",
    "const T z = y + b[i % O]; y = z < (T)0 ? (T)0 : z;",
    "numnet_conv_bias_relu",
)
_RELU_MASK = cupy.ElementwiseKernel(
    "T gy, T y", "T gz", "gz = gy * (T)(y > (T)0);", "numnet_conv_relu_mask"
)

#: rows per chunk, at least, when :func:`rows_t_matmul` splits its reduction
SPLIT_ROWS = 4096
#: most elements of the (S, K, O) partial products of one split
_SPLIT_ELEMENTS = 1 << 22


def rows_t_matmul(a, b):
    """a^T @ b for tall a (R, K) and b (R, O): dW's reduction over R pixel rows.

    cuBLAS runs a GEMM with a small K x O output and a huge inner size R (the
    first convs of a CNN: K = 9, O = 32, R = batch*26*26) on the few thread
    blocks of its output tiles, one long reduction each (measured: most of a
    19 ms W5 step at batch 1024 on an H200). Split-K by hand: S chunks of L >=
    ``SPLIT_ROWS`` rows as one strided-batched GEMM (S, K, L) @ (S, L, O), then
    a sum over the S partial products; the rows left over by S*L add one GEMM.
    """
    R, K = a.shape
    O = b.shape[1]
    S = min(R // SPLIT_ROWS, _SPLIT_ELEMENTS // max(1, K * O))
    if S < 2:
        return a.T @ b
    L = R // S
    head = S * L
    a3 = a[:head].reshape(S, L, K).transpose(0, 2, 1)
    out = cupy.matmul(a3, b[:head].reshape(S, L, O)).sum(axis=0)
    if head < R:
        out += a[head:].T @ b[head:]
    return out


def _sizes(g, C: int) -> tuple[int, ...]:
    return (g.H, g.W, C, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)


def im2col(x, g):
    """Columns (N, OH, OW, KH, KW, C) of ``x`` (N, H, W, C), zero padded: one kernel."""
    N, C = x.shape[0], x.shape[3]
    out = cupy.empty((N, g.OH, g.OW, g.KH, g.KW, C), dtype=x.dtype)
    return _IM2COL(cupy.ascontiguousarray(x), *_sizes(g, C), out)


def col2im(cols, g, x_shape, b=None):
    """The adjoint of :func:`im2col`: an (N, H, W, C) image (+ b), one kernel."""
    out = cupy.empty(x_shape, dtype=cols.dtype)
    cols, sizes = cupy.ascontiguousarray(cols), _sizes(g, x_shape[3])
    if b is None:
        return _COL2IM(cols, *sizes, out)
    return _COL2IM_BIAS(cols, *sizes, cupy.ascontiguousarray(b).reshape(-1), out)


def conv2d_forward(x, w, b, g, relu: bool = False):
    """``y = im2col(x) @ w + b`` as (N, OH, OW, O); also returns the columns.

    With ``relu``, y = max(z, 0): the bias and the ReLU are one kernel in place
    on the GEMM's output.
    """
    N, O = x.shape[0], w.shape[-1]
    cols = im2col(x, g).reshape(N * g.OH * g.OW, -1)
    y = cols @ w.reshape(-1, O)
    if relu and b is not None:
        _BIAS_RELU(cupy.ascontiguousarray(b).reshape(-1), O, y)
    elif relu:
        cupy.maximum(y, 0, out=y)
    elif b is not None:
        y += b
    return y.reshape(N, g.OH, g.OW, O), cols


def relu_mask(gy, y):
    """dL/dz = gy where the ReLU's output ``y`` > 0, else 0: one kernel."""
    return _RELU_MASK(gy.astype(y.dtype, copy=False), y)


def conv2d_backward(gy, w, g, cols, x_shape, need_dx=True, need_dw=True, need_db=True):
    """``(dx, dw, db)`` of :func:`conv2d_forward` for the upstream ``gy``.

    dW = cols^T gy (split over rows: :func:`rows_t_matmul`),  db = sum of gy
    over positions (``cupy_reduce``),  dx = col2im(gy W^T);
    None for a gradient not needed (``cols`` may then be None when not need_dw).
    """
    O = w.shape[-1]
    gy2 = cupy.ascontiguousarray(gy).reshape(-1, O)
    dw = rows_t_matmul(cols, gy2).reshape(w.shape) if need_dw else None
    db = cupy_reduce.column_sums(gy2) if need_db else None
    dx = None
    if need_dx:
        dcols = gy2 @ w.reshape(-1, O).T
        dx = col2im(dcols.reshape(gy.shape[:3] + (g.KH, g.KW, x_shape[3])), g, x_shape)
    return dx, dw, db


def conv2d_transpose_forward(x, w, b, g):
    """The adjoint of the convolution ``g``: y = col2im(x2 @ w2^T) + b.

    x is (N, OH, OW, Ci) (the convolution's output side), w the convolution
    kernel (KH, KW, Co, Ci); y is (N, H, W, Co): one GEMM, one kernel.
    """
    N, Ci = x.shape[0], x.shape[3]
    Co = w.shape[2]
    x2 = cupy.ascontiguousarray(x).reshape(-1, Ci)
    dcols = x2 @ cupy.ascontiguousarray(w).reshape(-1, Ci).T
    dcols = dcols.reshape(N, g.OH, g.OW, g.KH, g.KW, Co)
    return col2im(dcols, g, (N, g.H, g.W, Co), b)


def conv2d_transpose_backward(gy, x, w, g, need_dx, need_dw, need_db):
    """(dx, dw, db) of :func:`conv2d_transpose_forward` (None where not needed).

    With cols = im2col(gy): dx = cols @ w2 (a convolution of gy),
    dw2 = cols^T x2 (split over rows), db = the column sums of gy.
    """
    Ci = x.shape[3]
    w2 = cupy.ascontiguousarray(w).reshape(-1, Ci)
    dx = dw = db = None
    if need_dx or need_dw:
        cols = im2col(gy, g).reshape(x.shape[0] * g.OH * g.OW, -1)
    if need_dx:
        dx = (cols @ w2).reshape(x.shape)
    if need_dw:
        x2 = cupy.ascontiguousarray(x).reshape(-1, Ci)
        dw = rows_t_matmul(cols, x2).reshape(w.shape)
    if need_db:
        db = cupy_reduce.column_sums(gy)
    return dx, dw, db
