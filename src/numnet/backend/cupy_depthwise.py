"""Depthwise convolution on CUDA: one kernel forward, two backward (dx, dw).

What ``numnet._kernels.depthwise`` computes (x (N, H, W, C), kernel
(KH, KW, C, M), output channel c*M + m as in Keras), without its Python loop
over the KH x KW kernel taps (two or three array operations per tap):

* forward: one thread per output element sums its taps,
  y[n, oh, ow, c*M+m] = sum_{kh, kw} x[n, oh*sh + kh*dh - pt, ow*sw + kw*dw - pl, c]
  * w[kh, kw, c, m] (+ b), zero outside the image;
* dx: one thread per input element sums, over the taps whose window position
  covers it (as ``cupy_conv``'s col2im) and over m, gy * w: no atomics;
* dw: a long reduction over the N*OH*OW output pixels for each of the
  KH*KW*C*M weights, split over row blocks as ``cupy_reduce``'s column sums
  (stage 1 here, stage 2 is ``cupy_reduce.column_sums`` of the partial sums);
* db: ``cupy_reduce.column_sums`` of gy.

Imported only with CuPy present (see ``cupy_ops``).
"""

from __future__ import annotations

import cupy
import numpy as np

from numnet.backend import cupy_reduce

_SIZES = (
    "int32 H, int32 W, int32 C, int32 M, int32 OH, int32 OW, int32 KH, int32 KW, "
    "int32 sh, int32 sw, int32 dh, int32 dw, int32 pt, int32 pl"
)
_FORWARD_BODY = """
    // i indexes y (N, OH, OW, C*M); cm = c*M + m
    const int cm = i % (C * M);
    const int c = cm / M;
    const int ow = (i / (C * M)) % OW;
    const int oh = (i / ((ptrdiff_t)C * M * OW)) % OH;
    const ptrdiff_t n = i / ((ptrdiff_t)C * M * OW * OH);
    T total = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int y = oh * sh + kh * dh - pt;
        if (y < 0 || y >= H) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int x_ = ow * sw + kw * dw - pl;
            if (x_ < 0 || x_ >= W) continue;
            total += x[((n * H + y) * W + x_) * C + c]
                     * w[(ptrdiff_t)(kh * KW + kw) * C * M + cm];
        }
    }
"""
_FORWARD = cupy.ElementwiseKernel(
    "raw T x, raw T w, " + _SIZES,
    "T out",
    _FORWARD_BODY + "out = total;",
    "numnet_depthwise_forward",
)
_FORWARD_BIAS = cupy.ElementwiseKernel(
    "raw T x, raw T w, raw T b, " + _SIZES,
    "T out",
    _FORWARD_BODY + "out = total + b[cm];",
    "numnet_depthwise_forward_bias",
)
_DX = cupy.ElementwiseKernel(
    "raw T gy, raw T w, " + _SIZES,
    "T dx",
    """
    // i indexes dx (N, H, W, C): the taps (kh, kw) whose window position
    // (oh, ow) covers pixel (y, x), and every m
    const int c = i % C;
    const int x_ = (i / C) % W;
    const int y = (i / ((ptrdiff_t)C * W)) % H;
    const ptrdiff_t n = i / ((ptrdiff_t)C * W * H);
    T total = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int ty = y + pt - kh * dh;
        if (ty < 0 || ty % sh != 0) continue;
        const int oh = ty / sh;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int tx = x_ + pl - kw * dw;
            if (tx < 0 || tx % sw != 0) continue;
            const int ow = tx / sw;
            if (ow >= OW) continue;
            const ptrdiff_t g0 = (((n * OH + oh) * OW + ow) * C + c) * M;
            const ptrdiff_t w0 = ((ptrdiff_t)(kh * KW + kw) * C + c) * M;
            for (int m = 0; m < M; ++m) total += gy[g0 + m] * w[w0 + m];
        }
    }
    dx = total;
    """,
    "numnet_depthwise_dx",
)

# stage 1 of dw: block (32, 8) at (column tile, row block) sums rows
# [first, stop) of the columns j = ((kh*KW + kw)*C + c)*M + m: thread (tx, ty)
# adds every 8th row p (an output pixel) of column 32*blockIdx.x + tx, then the
# 8 lanes are added in shared memory (cupy_reduce's scheme)
_SOURCE = r"""
template<typename T>
__global__ void numnet_depthwise_dw(
        const T* x, const T* gy, T* out, long long P, int J, long long R,
        int H, int W, int C, int M, int OH, int OW, int KW,
        int sh, int sw, int dh, int dw, int pt, int pl) {
    __shared__ T part[8][33];
    const int j = blockIdx.x * 32 + threadIdx.x;
    const long long first = (long long)blockIdx.y * R;
    long long stop = first + R;
    if (stop > P) stop = P;
    T total = 0;
    if (j < J) {
        const int m = j % M, c = (j / M) % C;
        const int kw = (j / (M * C)) % KW, kh = j / (M * C * KW);
        for (long long p = first + threadIdx.y; p < stop; p += 8) {
            const int ow = p % OW, oh = (p / OW) % OH;
            const long long n = p / ((long long)OW * OH);
            const int y = oh * sh + kh * dh - pt, x_ = ow * sw + kw * dw - pl;
            if (y < 0 || y >= H || x_ < 0 || x_ >= W) continue;
            total += x[((n * H + y) * W + x_) * C + c] * gy[(p * C + c) * M + m];
        }
    }
    part[threadIdx.y][threadIdx.x] = total;
    __syncthreads();
    if (threadIdx.y == 0 && j < J) {
        T sum = 0;
        for (int k = 0; k < 8; ++k) sum += part[k][threadIdx.x];
        out[(long long)blockIdx.y * J + j] = sum;
    }
}
"""
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_MODULE = cupy.RawModule(
    code=_SOURCE,
    name_expressions=[f"numnet_depthwise_dw<{t}>" for t in _TYPES.values()],
)
#: stage-1 blocks to aim for, and the fewest rows per block (as cupy_reduce)
_TARGET_BLOCKS, _MIN_ROWS = 1024, 64


def supports(x) -> bool:
    """True for float32/float64 input (the dtypes the dw kernel is built for)."""
    return x.dtype in _TYPES


def _sizes(g, C: int, M: int) -> tuple[int, ...]:
    return (g.H, g.W, C, M, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)


def depthwise_forward(x, w, b, g):
    """y (N, OH, OW, C*M) of x (N, H, W, C), w (KH, KW, C, M), b (C*M,) or None."""
    N, C, M = x.shape[0], x.shape[3], w.shape[3]
    x, w = cupy.ascontiguousarray(x), cupy.ascontiguousarray(w)
    out = cupy.empty((N, g.OH, g.OW, C * M), dtype=x.dtype)
    if b is None:
        return _FORWARD(x, w, *_sizes(g, C, M), out)
    b = cupy.ascontiguousarray(b).reshape(-1)
    return _FORWARD_BIAS(x, w, b, *_sizes(g, C, M), out)


def depthwise_backward(gy, x, w, g, needs=(True, True, True)):
    """(dx, dw, db) of :func:`depthwise_forward`; None where not needed."""
    C, M = x.shape[3], w.shape[3]
    gy = cupy.ascontiguousarray(gy, dtype=x.dtype)  # the kernels' one T
    dx = dw = db = None
    if needs[0]:
        dx = cupy.empty(x.shape, dtype=gy.dtype)
        _DX(gy, cupy.ascontiguousarray(w), *_sizes(g, C, M), dx)
    if needs[1]:
        dw = _weight_grad(gy, cupy.ascontiguousarray(x), g, C, M).reshape(w.shape)
    if needs[2]:
        db = cupy_reduce.column_sums(gy)
    return dx, dw, db


def _weight_grad(gy, x, g, C: int, M: int):
    """(KH*KW*C*M,) sums over the output pixels of x_tap * gy: two stages."""
    P, J = gy.size // (C * M), g.KH * g.KW * C * M
    if P == 0:
        return cupy.zeros(J, gy.dtype)
    tiles = -(-J // 32)
    blocks = max(1, min(-(-P // _MIN_ROWS), _TARGET_BLOCKS // tiles))
    R = -(-P // blocks)
    blocks = -(-P // R)
    partial = cupy.empty((blocks, J), gy.dtype)
    kernel = _MODULE.get_function(f"numnet_depthwise_dw<{_TYPES[gy.dtype]}>")
    sizes = (g.H, g.W, C, M, g.OH, g.OW, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)
    args = (x, gy, partial, np.int64(P), np.int32(J), np.int64(R))
    kernel((tiles, blocks), (32, 8), args + tuple(np.int32(s) for s in sizes))
    return partial[0] if blocks == 1 else cupy_reduce.column_sums(partial)
