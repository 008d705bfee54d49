"""Softmax cross-entropy against integer labels on CUDA: one kernel each way.

For logits z (N, ..., C) and labels (N, ...), with rows r over the leading
axes, what ``_SparseSoftmaxCrossEntropy`` in ``numnet/functional/nn.py``
computes, in the same order of operations:

* forward (one kernel, one warp per row): m = max_k z[r, k],
  s = sum_k exp(z[r, k] - m), loss[r] = log(s) - (z[r, label] - m), and the
  softmax p[r, k] = exp((z[r, k] - m) - log(s)) that backward needs;
* backward (one elementwise kernel): dL/dz[r, k] = gy[r] (p[r, k] - [k == label]).

A warp reads a row's classes 32 at a time (coalesced) and combines its lanes
with shuffles, so any class count works: 10 classes leave lanes idle, a
vocabulary of 30,000 is 940 reads per lane. Labels are read in their own
integer type (uint8, int32, int64: no conversion kernel); a label outside
[0, C) gives a NaN loss (the caller validates labels first). Imported only
with CuPy present (see ``cupy_ops``).
"""

from __future__ import annotations

import cupy
import numpy as np

#: rows (warps) per thread block of the forward kernel
_ROWS_PER_BLOCK = 8

_SOURCE = r"""
template<typename T>
__device__ T numnet_warp_max(T value) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        const T other = __shfl_xor_sync(0xffffffffu, value, offset);
        value = other > value ? other : value;
    }
    return value;
}

template<typename T>
__device__ T numnet_warp_sum(T value) {
    for (int offset = 16; offset > 0; offset >>= 1)
        value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

// block (32, rows per block): warp threadIdx.y takes row blockIdx.x * rows + y
template<typename T, typename L>
__global__ void numnet_sparse_ce_forward(const T* z, const L* labels, T* loss,
                                         T* p, long long N, int C) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= N) return;  // the whole warp: the shuffles stay complete
    const int lane = threadIdx.x;
    const T* zr = z + row * C;
    T m = zr[lane < C ? lane : 0];
    for (int k = lane + 32; k < C; k += 32) m = zr[k] > m ? zr[k] : m;
    m = numnet_warp_max(m);
    T s = 0;
    for (int k = lane; k < C; k += 32) s += exp(zr[k] - m);
    const T log_s = log(numnet_warp_sum(s));
    T* pr = p + row * C;
    for (int k = lane; k < C; k += 32) pr[k] = exp((zr[k] - m) - log_s);
    if (lane == 0) {
        const long long label = (long long)labels[row];
        loss[row] = (label >= 0 && label < C) ? log_s - (zr[label] - m)
                                              : (T)0 / (T)0;  // NaN
    }
}
"""

_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_LABELS = {
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "long long",
}
_MODULE = cupy.RawModule(
    code=_SOURCE,
    name_expressions=[
        f"numnet_sparse_ce_forward<{t}, {lab}>"
        for t in _TYPES.values()
        for lab in _LABELS.values()
    ],
)
# gy and labels are raw: indexed by row (through their strides, so a broadcast
# gy from a mean reduction is read in place, not copied)
_BACKWARD = cupy.ElementwiseKernel(
    "T p, raw T gy, raw L labels, int32 C",
    "T gz",
    """
    const ptrdiff_t row = i / C;
    gz = gy[row] * ((ptrdiff_t)labels[row] == i % C ? p - (T)1 : p);
    """,
    "numnet_sparse_ce_backward",
)


def supports(z) -> bool:
    """True for float32/float64 logits with at least one class."""
    return z.dtype in _TYPES and z.ndim >= 1 and z.shape[-1] > 0


def sparse_ce_forward(z, labels):
    """(loss shaped like labels, softmax p shaped like z) for logits ``z``.

    Args:
        z: (N, ..., C) float32/float64 logits.
        labels: (N, ...) integer class indices in [0, C).
    """
    C = z.shape[-1]
    z2 = cupy.ascontiguousarray(z).reshape(-1, C)
    if labels.dtype not in _LABELS:
        labels = labels.astype(np.int64)
    labels = cupy.ascontiguousarray(labels).reshape(-1)
    N = z2.shape[0]
    loss = cupy.empty(N, z.dtype)
    p = cupy.empty_like(z2)
    if N:
        name = f"numnet_sparse_ce_forward<{_TYPES[z.dtype]}, {_LABELS[labels.dtype]}>"
        blocks = -(-N // _ROWS_PER_BLOCK)
        args = (z2, labels, loss, p, np.int64(N), np.int32(C))
        _MODULE.get_function(name)((blocks,), (32, _ROWS_PER_BLOCK), args)
    return loss.reshape(z.shape[:-1]), p.reshape(z.shape)


def sparse_ce_backward(gy, p, labels):
    """dL/dz = gy[..., None] * (p - one_hot(labels)), shaped like ``p``."""
    if gy.shape != labels.shape:  # a scalar upstream gradient
        gy = cupy.broadcast_to(gy, labels.shape)
    return _BACKWARD(p, gy, labels, np.int32(p.shape[-1]))
