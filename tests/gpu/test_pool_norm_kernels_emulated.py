"""The CUDA pooling and batch-norm kernels, run on the CPU (no GPU needed).

Their own source text runs through ``tests/gpu/cuda_emulation.py`` (g++ and a
thread-per-CUDA-thread shim) on random inputs and is compared with numnet's
NumPy ops: max pooling exactly (integer-valued inputs, so windows tie and the
winner rule is checked), average pooling, and batch norm's elementwise
kernels. Needs CuPy (for the kernel objects; no driver or GPU) and g++;
skipped elsewhere. ``tests/gpu/test_cupy_kernels.py`` checks the same kernels
through CuPy where a GPU is present.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.gpu import cuda_emulation as emu

import numnet
import numnet.functional as F
from numnet.functional.pooling import _pool_geometry

pytest.importorskip("cupy")
if not emu.available():
    pytest.skip("needs g++ to emulate the CUDA kernels", allow_module_level=True)

from numnet.backend import cupy_norm, cupy_pool  # noqa: E402

F64 = {"T": "double", "I": "unsigned char"}
POOLS = [  # (H, W, pool_size, strides, padding)
    (6, 7, 2, None, "valid"),
    (7, 7, 3, 2, "same"),
    (5, 6, (2, 3), (1, 2), "same"),
    (11, 11, 2, None, "valid"),  # an odd size: the last row and column dropped
]


def _cpu(op, x, gy, *options):
    t = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    y = op(t, *options)
    y.backward(gy)
    return y.data, t.grad


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("H, W, size, strides, padding", POOLS)
def test_max_pool_kernels_compute_the_cpu_pooling_with_its_tie_rule(
    H, W, size, strides, padding, relu
):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 3, (2, H, W, 3)).astype(np.float64)  # many ties
    g = _pool_geometry("max_pool2d", x, size, strides, padding)
    sizes = cupy_pool._sizes(g, 3)
    y = np.empty((2, g.OH, g.OW, 3))
    winners = np.empty(y.shape, np.uint8)
    args = [x, *sizes, relu, y, winners]
    emu.elementwise(cupy_pool._MAX_FORWARD, F64, args, y.size)
    gy = rng.standard_normal(y.shape)
    dx = np.empty_like(x)
    args = [gy, winners, y if relu else gy, *sizes, relu, dx]
    emu.elementwise(cupy_pool._MAX_BACKWARD, F64, args, dx.size)
    op = F.max_pool2d_relu if relu else F.max_pool2d  # relu: on the output
    y_cpu, dx_cpu = _cpu(op, x, gy, size, strides, padding)
    np.testing.assert_array_equal(y, y_cpu)
    np.testing.assert_array_equal(dx, dx_cpu)


@pytest.mark.parametrize("H, W, size, strides, padding", POOLS)
def test_avg_pool_kernels_compute_the_cpu_pooling(H, W, size, strides, padding):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, H, W, 3))
    g = _pool_geometry("avg_pool2d", x, size, strides, padding)
    sizes = cupy_pool._sizes(g, 3)
    scalars = (g.padded, cupy_pool._inv_area(g))
    y = np.empty((2, g.OH, g.OW, 3))
    emu.elementwise(cupy_pool._AVG_FORWARD, F64, [x, *sizes, *scalars, y], y.size)
    gy = rng.standard_normal(y.shape)
    dx = np.empty_like(x)
    emu.elementwise(cupy_pool._AVG_BACKWARD, F64, [gy, *sizes, *scalars, dx], dx.size)
    y_cpu, dx_cpu = _cpu(F.avg_pool2d, x, gy, size, strides, padding)
    np.testing.assert_allclose(y, y_cpu, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_cpu, rtol=1e-12, atol=1e-12)


def test_batch_norm_elementwise_kernels_compute_the_normalization():
    rng = np.random.default_rng(3)
    N, C, eps = 24, 5, 1e-3
    x = rng.standard_normal((N, C)) * 3 + 1
    gamma, beta, gy = (
        rng.standard_normal(C),
        rng.standard_normal(C),
        rng.standard_normal((N, C)),
    )
    mean = x.mean(axis=0)
    var, inv_std = np.empty(C), np.empty(C)
    sq = ((x - mean) ** 2).sum(axis=0)
    emu.elementwise(cupy_norm._VARIANCE, F64, [sq, float(N), eps, var, inv_std], C)
    y, x_hat = np.empty_like(x), np.empty_like(x)
    emu.elementwise(
        cupy_norm._FORWARD, F64, [x, mean, inv_std, gamma, beta, C, y, x_hat], x.size
    )
    sum_gy, sum_gyx = gy.sum(axis=0), (gy * x_hat).sum(axis=0)
    gx = np.empty_like(x)
    args = [gy, x_hat, sum_gy, sum_gyx, gamma, inv_std, float(N), C, gx]
    emu.elementwise(cupy_norm._BACKWARD, F64, args, x.size)
    ts = [
        numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, gamma, beta)
    ]
    y_cpu = F.batch_norm(ts[0], ts[1], ts[2], training=True, epsilon=eps)
    y_cpu.backward(gy)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(y, y_cpu.data, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gx, ts[0].grad, rtol=1e-9, atol=1e-9)


def _column_kernel(name, inputs, M, C, width):
    """Stage 1 of ``cupy_reduce._reduce`` on the emulator, then stage 2."""
    from numnet.backend import cupy_reduce

    tiles, P, R = cupy_reduce._plan(M, C)
    partial = np.zeros((P, width))
    decl = ", ".join(f"const double* in{k}" for k in range(len(inputs)))
    names = ", ".join(f"in{k}" for k in range(len(inputs)))
    signature = f"{decl}, double* out, long long M, int C, long long R"
    call = f"{name}<double>({names}, out, M, C, R)"
    tail = [partial, np.int64(M), np.int32(C), np.int64(R)]
    emu.launch(cupy_reduce._SOURCE, call, signature, (tiles, P), (32, 8),
               [*inputs, *map(_c, tail)])  # fmt: skip
    out = np.zeros(width)
    call = "numnet_column_sums<double>(in0, out, M, C, R)"
    signature = "const double* in0, double* out, long long M, int C, long long R"
    grid = (-(-width // 32), 1)
    sizes = map(_c, (np.int64(P), np.int32(width), np.int64(P)))
    emu.launch(cupy_reduce._SOURCE, call, signature, grid, (32, 8),
               [partial, out, *sizes])  # fmt: skip
    return out


def _c(value):
    import ctypes

    if isinstance(value, np.ndarray):
        return value
    return (
        ctypes.c_longlong(int(value))
        if value.dtype == np.int64
        else ctypes.c_int(int(value))
    )


@pytest.mark.parametrize("M, C", [(1, 3), (70, 5), (5000, 33), (20000, 2)])
def test_column_sum_kernels_sum_over_the_rows(M, C):
    rng = np.random.default_rng(4)
    x, gy = rng.standard_normal((M, C)), rng.standard_normal((M, C))
    mean = x.mean(axis=0)
    close = {"rtol": 1e-10, "atol": 1e-10}
    sums = _column_kernel("numnet_column_sums", [x], M, C, C)
    np.testing.assert_allclose(sums, x.sum(axis=0), **close)
    sq = _column_kernel("numnet_column_sq_dev", [x, mean], M, C, C)
    np.testing.assert_allclose(sq, ((x - mean) ** 2).sum(axis=0), **close)
    both = _column_kernel("numnet_column_grad_sums", [gy, x], M, C, 2 * C)
    np.testing.assert_allclose(both[:C], gy.sum(axis=0), **close)
    np.testing.assert_allclose(both[C:], (gy * x).sum(axis=0), **close)
