"""Max and average pooling on CUDA: one kernel each way.

The same definitions as ``numnet._kernels.pooling`` (NHWC images, a
:class:`~numnet._kernels.im2col.Geometry` for the sizes), with one thread per
output element forward and one per *input* element backward:

* max forward: the thread walks its window column by column (kw outer, kh
  inner, the CPU kernel's visit order) keeping a running maximum with a strict
  ``>``, so among equal maxima the first cell in column-major order wins, as on
  the CPU; padded cells read -inf and never win. It writes the maximum and the
  winner's position k = kw*KH + kh in that order (uint8, or int32 for windows
  of more than 256 cells);
* max backward: the thread of input pixel (y, x) visits the windows that cover
  it (col2im's loop) and adds gy of those whose winner it is;
* ``max_pool2d_relu``: the forward writes relu(max), and the backward adds gy
  only of the windows whose output is > 0 (the ReLU and its mask in the same
  two kernels);
* average: the window sum over the cells inside the image divided by their
  count ("same" padding counts only real cells, as Keras does), or times
  1 / (KH*KW) when nothing is padded; backward adds gy / count of every window
  covering the pixel.

Backward gathers instead of scattering: no atomics, so results are
deterministic, and the additions run in the CPU kernel's order. Imported only
with CuPy present (see ``cupy_ops``); ``functional/pooling.py`` calls it for
CuPy arrays.

    y, winners = cupy_pool.max_pool_forward(x, g)   # relu=True: relu(max)
    dx = cupy_pool.max_pool_backward(gy, winners, x.shape, g)   # y=: masked
"""

from __future__ import annotations

import cupy
import numpy as np

_UNRAVEL_OUTPUT = """
    // i indexes the output (N, OH, OW, C)
    const int c = i % C;
    const int ow = (i / C) % OW;
    const int oh = (i / ((ptrdiff_t)C * OW)) % OH;
    const ptrdiff_t n = i / ((ptrdiff_t)C * OW * OH);
"""
_UNRAVEL_INPUT = """
    // i indexes the input (N, H, W, C)
    const int c = i % C;
    const int px = (i / C) % W;
    const int py = (i / ((ptrdiff_t)C * W)) % H;
    const ptrdiff_t n = i / ((ptrdiff_t)C * W * H);
"""
# the windows (oh, ow) that cover input pixel (py, px) through tap (kh, kw):
# py = oh*sh + kh*dh - pt, so oh = (py + pt - kh*dh) / sh when that divides
_WINDOW_ROW = """
        const int ty = py + pt - kh * dh;
        if (ty < 0 || ty % sh != 0) continue;
        const int oh = ty / sh;
        if (oh >= OH) continue;
"""
_WINDOW_COL = """
            const int tx = px + pl - kw * dw;
            if (tx < 0 || tx % sw != 0) continue;
            const int ow = tx / sw;
            if (ow >= OW) continue;
            const ptrdiff_t o = ((n * OH + oh) * OW + ow) * C + c;
"""
_SIZES = (
    "int32 H, int32 W, int32 C, int32 OH, int32 OW, int32 KH, int32 KW, "
    "int32 sh, int32 sw, int32 dh, int32 dw, int32 pt, int32 pl"
)
# the number of taps t in [0, k) with 0 <= start + t*d < n
_VALID_COUNT = """
__device__ int numnet_pool_valid(int start, int k, int d, int n) {
    int count = 0;
    for (int t = 0; t < k; ++t) {
        const int p = start + t * d;
        count += (0 <= p && p < n);
    }
    return count;
}
"""

# -inf for the padded cells (NVRTC defines no INFINITY); cast to T at use
_NEG_INF = "#define NUMNET_NEG_INF (-__longlong_as_double(0x7ff0000000000000LL))\n"

_MAX_FORWARD = cupy.ElementwiseKernel(
    "raw T x, " + _SIZES + ", bool relu",
    "T y, I argmax",
    _UNRAVEL_OUTPUT
    + """
    T best = 0;
    int won = 0;
    int k = 0;
    for (int kw = 0; kw < KW; ++kw) {
        const int px = ow * sw + kw * dw - pl;
        for (int kh = 0; kh < KH; ++kh, ++k) {
            const int py = oh * sh + kh * dh - pt;
            const bool inside = 0 <= py && py < H && 0 <= px && px < W;
            const T v = inside ? x[((n * H + py) * W + px) * C + c] : (T)NUMNET_NEG_INF;
            if (k == 0 || v > best) {  // strict: ties keep the earlier cell
                best = v;
                won = k;
            } else if (v != v) {
                best = v;  // a NaN propagates (as np.maximum does on the CPU)
            }
        }
    }
    y = (relu && best < (T)0) ? (T)0 : best;  // relu(max): max_pool2d_relu
    argmax = (I)won;
    """,
    "numnet_max_pool_nhwc",
    preamble=_NEG_INF,
)

_MAX_BACKWARD = cupy.ElementwiseKernel(
    "raw T gy, raw I argmax, raw T y, " + _SIZES + ", bool relu",
    "T dx",
    _UNRAVEL_INPUT
    + """
    T total = 0;
    for (int kw = 0; kw < KW; ++kw) {
        for (int kh = 0; kh < KH; ++kh) {
    """
    + _WINDOW_ROW
    + _WINDOW_COL
    + """
            // with relu, only the windows whose output y = relu(max) > 0
            if ((int)argmax[o] == kw * KH + kh && (!relu || y[o] > (T)0))
                total += gy[o];
        }
    }
    dx = total;
    """,
    "numnet_max_pool_backward_nhwc",
)

_AVG_FORWARD = cupy.ElementwiseKernel(
    "raw T x, " + _SIZES + ", bool padded, T inv_area",
    "T y",
    _UNRAVEL_OUTPUT
    + """
    T total = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int py = oh * sh + kh * dh - pt;
        for (int kw = 0; kw < KW; ++kw) {
            const int px = ow * sw + kw * dw - pl;
            if (0 <= py && py < H && 0 <= px && px < W)
                total += x[((n * H + py) * W + px) * C + c];
        }
    }
    if (padded) {
        const int count = numnet_pool_valid(oh * sh - pt, KH, dh, H)
                        * numnet_pool_valid(ow * sw - pl, KW, dw, W);
        y = total / (T)count;
    } else {
        y = total * inv_area;
    }
    """,
    "numnet_avg_pool_nhwc",
    preamble=_VALID_COUNT,
)

_AVG_BACKWARD = cupy.ElementwiseKernel(
    "raw T gy, " + _SIZES + ", bool padded, T inv_area",
    "T dx",
    _UNRAVEL_INPUT
    + """
    T total = 0;
    for (int kh = 0; kh < KH; ++kh) {
    """
    + _WINDOW_ROW
    + """
        for (int kw = 0; kw < KW; ++kw) {
    """
    + _WINDOW_COL
    + """
            if (padded) {
                const int count = numnet_pool_valid(oh * sh - pt, KH, dh, H)
                                * numnet_pool_valid(ow * sw - pl, KW, dw, W);
                total += gy[o] / (T)count;
            } else {
                total += gy[o] * inv_area;
            }
        }
    }
    dx = total;
    """,
    "numnet_avg_pool_backward_nhwc",
    preamble=_VALID_COUNT,
)


def _sizes(g, C: int) -> tuple[int, ...]:
    return (g.H, g.W, C, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)


def _output(x, g):
    return cupy.empty((x.shape[0], g.OH, g.OW, x.shape[3]), dtype=x.dtype)


def max_pool_forward(x, g, relu: bool = False):
    """(window maxima (N, OH, OW, C), winner positions) of ``x`` (N, H, W, C);
    with ``relu`` the maxima are relu'd in the same kernel (``max_pool2d_relu``)."""
    y = _output(x, g)
    index = np.uint8 if g.KH * g.KW <= 256 else np.int32
    argmax = cupy.empty(y.shape, dtype=index)
    sizes = _sizes(g, x.shape[3])
    _MAX_FORWARD(cupy.ascontiguousarray(x), *sizes, bool(relu), y, argmax)
    return y, argmax


def max_pool_backward(gy, argmax, x_shape, g, y=None):
    """dx (``x_shape``): each window's gy goes to its one winning cell; given the
    relu'd output ``y`` of ``max_pool2d_relu``, only where y > 0."""
    dx = cupy.empty(x_shape, dtype=gy.dtype)
    sizes = _sizes(g, x_shape[3])
    gy = cupy.ascontiguousarray(gy)
    masked = y is not None
    _MAX_BACKWARD(gy, argmax, y if masked else gy, *sizes, masked, dx)
    return dx


def avg_pool_forward(x, g):
    """Window means over the cells inside the image: (N, OH, OW, C)."""
    y = _output(x, g)
    sizes = _sizes(g, x.shape[3])
    _AVG_FORWARD(cupy.ascontiguousarray(x), *sizes, g.padded, _inv_area(g), y)
    return y


def avg_pool_backward(gy, x_shape, g):
    """dx (``x_shape``): every cell of a window receives gy / count."""
    dx = cupy.empty(x_shape, dtype=gy.dtype)
    sizes = _sizes(g, x_shape[3])
    _AVG_BACKWARD(cupy.ascontiguousarray(gy), *sizes, g.padded, _inv_area(g), dx)
    return dx


def _inv_area(g) -> float:
    return 1.0 / (g.KH * g.KW)
