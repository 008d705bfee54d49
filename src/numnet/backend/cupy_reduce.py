"""Column sums on CUDA: reductions over the rows of a channels-last (M, C) array.

Bias gradients, batch-norm statistics and their gradients all sum an
(N, H, W, C) array over everything but its last axis. CuPy's generic reduction
over a leading axis gives each output column to one small group of threads:
with C = 32 columns and M = 800,000 rows (a batch of 1024 28x28 images) a
handful of warps stream 100 MB while the rest of the GPU idles. Here the rows
are split among many blocks instead:

* stage 1: a (ceil(C / 32), P) grid of (32, 8) thread blocks; block (t, p)
  sums rows [p*R, (p+1)*R) of columns 32t .. 32t+31: thread (x, y) adds every
  8th row of column 32t + x (a warp reads 32 adjacent values: coalesced), and
  the 8 row lanes are added in shared memory; partial sums (P, C);
* stage 2: the same kernel with one block row sums the P partial rows.

The sums are pairwise-ish (R/8 values per thread, then trees), so float32
keeps about as many digits as NumPy's pairwise sum. Three kernels share the
scheme: plain sums, sums of squared deviations from a per-column mean (the
variance pass of batch norm) and the two sums of the batch-norm backward
(sum gy, sum gy * x_hat). Imported only with CuPy present (see ``cupy_ops``).
"""

from __future__ import annotations

import cupy
import numpy as np

_TILE, _LANES = 32, 8
#: stage-1 blocks to aim for: about 8 blocks of 256 threads per SM of an H200
_TARGET_BLOCKS = 1024
#: fewest rows a stage-1 block is given
_MIN_ROWS = 64

_SOURCE = r"""
#define NUMNET_TILE 32
#define NUMNET_LANES 8

// the sum of `value` over the row lanes (threadIdx.y) of this column; valid in
// lane 0. `part` is a shared [LANES][TILE + 1] buffer, free again on return.
template<typename T>
__device__ T numnet_lanes_total(T value, T (*part)[NUMNET_TILE + 1]) {
    part[threadIdx.y][threadIdx.x] = value;
    __syncthreads();
    T total = 0;
    if (threadIdx.y == 0) {
        for (int k = 0; k < NUMNET_LANES; ++k) total += part[k][threadIdx.x];
    }
    __syncthreads();
    return total;
}

// rows [first, stop) of the block blockIdx.y, R rows per block
#define NUMNET_ROWS                                                  \
    const int c = blockIdx.x * NUMNET_TILE + threadIdx.x;            \
    const long long first = (long long)blockIdx.y * R;               \
    long long stop = first + R;                                      \
    if (stop > M) stop = M;                                          \
    __shared__ T part[NUMNET_LANES][NUMNET_TILE + 1];

// out[blockIdx.y, c] = sum over the block's rows r of x[r, c]
template<typename T>
__global__ void numnet_column_sums(const T* x, T* out, long long M, int C,
                                   long long R) {
    NUMNET_ROWS
    T total = 0;
    if (c < C) {
        for (long long r = first + threadIdx.y; r < stop; r += NUMNET_LANES)
            total += x[r * C + c];
    }
    total = numnet_lanes_total(total, part);
    if (threadIdx.y == 0 && c < C) out[(long long)blockIdx.y * C + c] = total;
}

// out[blockIdx.y, c] = sum over the block's rows r of (x[r, c] - mean[c])^2
template<typename T>
__global__ void numnet_column_sq_dev(const T* x, const T* mean, T* out,
                                     long long M, int C, long long R) {
    NUMNET_ROWS
    T total = 0;
    if (c < C) {
        const T m = mean[c];
        for (long long r = first + threadIdx.y; r < stop; r += NUMNET_LANES) {
            const T d = x[r * C + c] - m;
            total += d * d;
        }
    }
    total = numnet_lanes_total(total, part);
    if (threadIdx.y == 0 && c < C) out[(long long)blockIdx.y * C + c] = total;
}

// out[blockIdx.y, c] = sum gy[r, c], out[blockIdx.y, C + c] = sum gy * x_hat
template<typename T>
__global__ void numnet_column_grad_sums(const T* gy, const T* x_hat, T* out,
                                        long long M, int C, long long R) {
    NUMNET_ROWS
    T total = 0, dot = 0;
    if (c < C) {
        for (long long r = first + threadIdx.y; r < stop; r += NUMNET_LANES) {
            const T g = gy[r * C + c];
            total += g;
            dot += g * x_hat[r * C + c];
        }
    }
    total = numnet_lanes_total(total, part);
    dot = numnet_lanes_total(dot, part);
    if (threadIdx.y == 0 && c < C) {
        out[(long long)blockIdx.y * 2 * C + c] = total;
        out[(long long)blockIdx.y * 2 * C + C + c] = dot;
    }
}
"""

_KERNELS = ("numnet_column_sums", "numnet_column_sq_dev", "numnet_column_grad_sums")
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_MODULE = cupy.RawModule(
    code=_SOURCE,
    name_expressions=[f"{k}<{t}>" for k in _KERNELS for t in _TYPES.values()],
)


def supports(a) -> bool:
    """True for float32/float64 arrays (the dtypes the kernels are built for)."""
    return a.dtype in _TYPES


def _plan(M: int, C: int) -> tuple[int, int, int]:
    """(column tiles, row blocks P, rows per block R) of stage 1."""
    tiles = -(-C // _TILE)
    P = max(1, min(-(-M // _MIN_ROWS), _TARGET_BLOCKS // tiles))
    R = -(-M // P)
    return tiles, -(-M // R), R


def _launch(kernel: str, dtype, grid, arrays, M: int, C: int, R: int) -> None:
    function = _MODULE.get_function(f"{kernel}<{_TYPES[np.dtype(dtype)]}>")
    function(grid, (_TILE, _LANES), (*arrays, np.int64(M), np.int32(C), np.int64(R)))


def _reduce(kernel: str, inputs, M: int, C: int, width: int):
    """Stage 1 of ``kernel`` over (M, C) ``inputs``, then stage 2: (width,) sums.

    ``width`` is the number of columns the kernel writes per row block (C, or
    2C for the gradient sums).
    """
    dtype = inputs[0].dtype
    if M == 0 or C == 0:
        return cupy.zeros(width, dtype)
    tiles, P, R = _plan(M, C)
    partial = cupy.empty((P, width), dtype)
    _launch(kernel, dtype, (tiles, P), (*inputs, partial), M, C, R)
    if P == 1:
        return partial[0]
    out = cupy.empty((1, width), dtype)
    tiles = -(-width // _TILE)
    _launch("numnet_column_sums", dtype, (tiles, 1), (partial, out), P, width, P)
    return out[0]


def _rows(a):
    """``a`` as a C-contiguous (M, C) array, C its last axis."""
    a = cupy.ascontiguousarray(a)
    C = a.shape[-1] if a.ndim else 1
    return a.reshape(-1, C)


def column_sums(a):
    """``a.sum(axis=all but the last)``: (C,) for an (..., C) float array."""
    a2 = _rows(a)
    if not supports(a2):  # float16, integers: CuPy's own reduction
        return a2.sum(axis=0)
    return _reduce("numnet_column_sums", (a2,), *a2.shape, a2.shape[1])


def squared_deviation_sums(x, mean):
    """sum over all but the last axis of (x - mean)^2; ``mean`` is (C,)."""
    x2 = _rows(x)
    mean = cupy.ascontiguousarray(mean, dtype=x2.dtype).reshape(-1)
    return _reduce("numnet_column_sq_dev", (x2, mean), *x2.shape, x2.shape[1])


def grad_sums(gy, x_hat):
    """(sum gy, sum gy * x_hat) over all but the last axis, each (C,)."""
    gy2, x_hat2 = _rows(gy), _rows(x_hat)
    C = gy2.shape[1]
    sums = _reduce("numnet_column_grad_sums", (gy2, x_hat2), gy2.shape[0], C, 2 * C)
    return sums[:C], sums[C:]
