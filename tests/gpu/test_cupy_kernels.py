"""The CUDA pooling, batch-norm, column-sum and split-K kernels against NumPy.

Each runs through numnet's public ops on CuPy tensors (so the dispatch in
``functional`` is covered too) and is compared with the same op on NumPy,
forward and backward, on random inputs. Runs only where CuPy finds a GPU
(``-m gpu``); skipped elsewhere at collection.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.gpu.gpu_guard import require_gpu

import numnet
import numnet.functional as F
from numnet.autograd.tensor import Parameter

pytestmark = pytest.mark.gpu


require_gpu()

import cupy  # noqa: E402

from numnet.backend import cupy_conv, cupy_norm, cupy_pool, cupy_reduce  # noqa: E402
from numnet.backend.cupy_ops import CupyOps, register  # noqa: E402

register()
TOL = {
    np.float64: {"rtol": 1e-10, "atol": 1e-12},
    np.float32: {"rtol": 1e-5, "atol": 1e-5},
}


def _run(op, x, gy, *params):
    """(y, dx, dparams...) of ``op(x, *params)`` for the upstream ``gy``, as NumPy."""
    xp = cupy if isinstance(x, cupy.ndarray) else np
    tensors = [
        numnet.tensor(a, requires_grad=True, dtype=a.dtype) for a in (x, *params)
    ]
    y = op(*tensors)
    # which kernels the op chose, read before backward releases its state
    y.dispatched = getattr(y.creator, "cuda", None)
    y.backward(xp.asarray(gy))
    return y, [
        cupy.asnumpy(a) if xp is cupy else a
        for a in [y.data] + [t.grad for t in tensors]
    ]


def _agree(op, x, gy, *params, exact=False):
    """Run ``op`` on NumPy and on CuPy; assert both agree; return the CuPy output."""
    dtype = x.dtype.type
    _, host = _run(op, x, gy, *params)
    y, device = _run(op, cupy.asarray(x), gy, *map(cupy.asarray, params))
    tol = {"rtol": 0, "atol": 0} if exact else TOL[dtype]
    for a, b in zip(host, device, strict=True):
        assert b.dtype == a.dtype
        np.testing.assert_allclose(b, a, **tol)
    return y


POOLS = [  # (H, W, pool, strides, padding)
    (8, 9, 2, None, "valid"),  # tiling windows (the usual 2x2)
    (7, 7, 3, 2, "same"),  # overlapping, padded
    (6, 5, (2, 3), 1, "same"),  # stride 1, even window, padding after
    (5, 6, 3, 1, "valid"),  # overlapping, unpadded
    (9, 4, (3, 2), (2, 1), "valid"),  # windows that leave rows uncovered
]


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("H, W, pool, strides, padding", POOLS)
def test_max_pool_kernel_matches_the_cpu(
    H, W, pool, strides, padding, ties, dtype, relu
):
    rng = np.random.default_rng(0)
    shape = (3, H, W, 5)
    # ties: few distinct values, so the first winner in column-major order decides
    x = rng.integers(-1, 2, shape) if ties else rng.standard_normal(shape)
    x = x.astype(dtype)
    pool_op = F.max_pool2d_relu if relu else F.max_pool2d  # relu: on the output

    def op(t):
        return pool_op(t, pool, strides, padding)

    y_shape = op(numnet.tensor(x)).shape
    gy = rng.standard_normal(y_shape).astype(dtype)
    y = _agree(op, x, gy, exact=True)  # the same winners, the same sums
    assert y.dispatched is cupy_pool  # the CUDA kernel ran, not the reference


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("H, W, pool, strides, padding", POOLS)
def test_avg_pool_kernel_matches_the_cpu(H, W, pool, strides, padding, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, H, W, 4)).astype(dtype)

    def op(t):
        return F.avg_pool2d(t, pool, strides, padding)

    gy = rng.standard_normal(op(numnet.tensor(x)).shape).astype(dtype)
    y = _agree(op, x, gy)
    assert y.dispatched is cupy_pool


def test_max_pool_reference_method_still_runs_the_portable_loop():
    rng = np.random.default_rng(2)
    x = cupy.asarray(rng.standard_normal((2, 6, 6, 3)))
    y = F.max_pool2d(numnet.tensor(x, requires_grad=True), 2, method="reference")
    assert y.creator.cuda is None  # no backward yet: the op keeps its state
    np.testing.assert_array_equal(cupy.asnumpy(y.data), F.max_pool2d(x.get(), 2).data)


def test_pool_kernels_handle_large_windows_and_nan():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 20, 20, 2))
    x[0, 3, 4, 1] = np.nan
    _agree(lambda t: F.max_pool2d(t, 17, 1), x, rng.standard_normal((1, 4, 4, 2)))


@pytest.mark.parametrize("M, C", [(1, 1), (5, 3), (1000, 32), (70001, 7), (100352, 64)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_sums_match_numpy(M, C, dtype):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((M, C)).astype(dtype)
    mean = a.mean(axis=0)
    gy = rng.standard_normal((M, C)).astype(dtype)
    tol = {"rtol": 1e-4, "atol": 1e-3} if dtype == np.float32 else TOL[dtype]
    got = cupy_reduce.column_sums(cupy.asarray(a))
    np.testing.assert_allclose(got.get(), a.astype(np.float64).sum(axis=0), **tol)
    got = cupy_reduce.squared_deviation_sums(cupy.asarray(a), cupy.asarray(mean))
    np.testing.assert_allclose(got.get(), ((a - mean) ** 2).sum(axis=0), **tol)
    sums = cupy_reduce.grad_sums(cupy.asarray(gy), cupy.asarray(a))
    np.testing.assert_allclose(sums[0].get(), gy.sum(axis=0), **tol)
    np.testing.assert_allclose(sums[1].get(), (gy * a).sum(axis=0), **tol)


def test_column_sums_of_empty_and_half_arrays():
    assert cupy_reduce.column_sums(cupy.zeros((0, 4))).tolist() == [0, 0, 0, 0]
    half = cupy.ones((10, 3), dtype=cupy.float16)
    assert cupy_reduce.column_sums(half).tolist() == [10, 10, 10]


@pytest.mark.parametrize("shape", [(4, 3, 5, 2), (300, 600), (64, 30, 40, 3)])
def test_sum_leading_matches_the_reference(shape):
    rng = np.random.default_rng(5)
    a = cupy.asarray(rng.standard_normal(shape))
    for lead in range(len(shape) + 1):
        np.testing.assert_allclose(
            CupyOps().sum_leading(a, lead).get(),
            a.get().sum(axis=tuple(range(lead))),
            rtol=1e-10,
            atol=1e-10,
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(64, 10), (8, 7, 9, 16), (3, 200, 5)])
def test_batch_norm_kernels_match_the_cpu(shape, dtype):
    rng = np.random.default_rng(6)
    C = shape[-1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma, beta = (rng.standard_normal(C).astype(dtype) for _ in range(2))
    gy = rng.standard_normal(shape).astype(dtype)
    moving = {}

    def op(t, g, b):
        xp = cupy if isinstance(t.data, cupy.ndarray) else np
        stats = [xp.zeros(C, dtype), xp.ones(C, dtype)]
        y = F.batch_norm(t, g, b, *stats, training=True, momentum=0.9)
        moving[xp.__name__] = [cupy.asnumpy(s) if xp is cupy else s for s in stats]
        return y

    y = _agree(op, x, gy, gamma, beta)
    assert y.dispatched is cupy_norm
    for a, b in zip(moving["numpy"], moving["cupy"], strict=True):
        np.testing.assert_allclose(b, a, **TOL[dtype])


def test_layer_norm_keeps_the_general_path():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 6))
    y = _agree(lambda t: F.layer_norm(t), x, rng.standard_normal((4, 6)))
    assert y.dispatched is None


@pytest.mark.parametrize(
    "R, K, O", [(100, 9, 32), (20000, 9, 32), (3 * 4096 + 17, 288, 64)]
)
def test_split_rows_matmul_matches_a_plain_gemm(R, K, O):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((R, K)), rng.standard_normal((R, O))
    got = cupy_conv.rows_t_matmul(cupy.asarray(a), cupy.asarray(b))
    np.testing.assert_allclose(got.get(), a.T @ b, rtol=1e-10, atol=1e-9)


def test_conv_with_a_split_weight_gradient_matches_the_cpu():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((40, 28, 28, 1))  # 40*26*26 rows: a split dW
    w, b = rng.standard_normal((3, 3, 1, 8)), rng.standard_normal(8)
    gy = rng.standard_normal((40, 26, 26, 8))
    _agree(lambda *t: F.conv2d(*t), x, gy, w, b)


def test_weight_decay_and_adagrad_kernels_match_the_reference():
    from numnet.backend.ops import Ops

    rng = np.random.default_rng(10)
    w, g = (cupy.asarray(rng.standard_normal((65, 3))) for _ in range(2))
    a = cupy.asarray(abs(rng.standard_normal((65, 3))))
    results = []
    for ops in (CupyOps(), Ops(cupy)):
        mine = [w.copy(), a.copy()]
        ops.weight_decay_(mine[0], 0.01)
        ops.adagrad_update(mine[0], g, mine[1], 0.1, 1e-7)
        results.append(mine)
    for x, y in zip(*results, strict=True):
        np.testing.assert_allclose(x.get(), y.get(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["adamw", "adagrad", "sgd", "rmsprop", "adam"])
def test_optimizer_steps_on_cuda_match_the_cpu(name):
    rng = np.random.default_rng(11)
    w0, g = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    finals = []
    for xp in (np, cupy):
        p = Parameter(xp.asarray(w0), dtype=np.float64)
        opt = numnet.optimizers.get(name)
        for _ in range(3):
            opt.apply_gradients([(xp.asarray(g), p)])
        finals.append(cupy.asnumpy(p.data) if xp is cupy else p.data)
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-10, atol=1e-12)
