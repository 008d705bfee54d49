"""The fused CUDA loss, optimizer and conv-activation kernels against NumPy.

Each runs through numnet's public ops (or optimizers) on CuPy arrays, so the
dispatch is covered too, and is compared with the same call on NumPy, forward
and backward, on random inputs. Runs only where CuPy finds a GPU (``-m gpu``);
skipped elsewhere at collection.
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

from numnet.backend import cupy_loss  # noqa: E402
from numnet.backend.cupy_ops import CupyOps, register  # noqa: E402
from numnet.backend.ops import Ops  # noqa: E402

register()
TOL = {
    np.float64: {"rtol": 1e-10, "atol": 1e-12},
    # float32: the kernels sum in another order (thousands of terms for dw)
    np.float32: {"rtol": 1e-4, "atol": 1e-4},
}


def _host(a):
    return cupy.asnumpy(a) if isinstance(a, cupy.ndarray) else a


def _run(op, arrays, gy, differentiable):
    """(y, grads of the differentiable inputs) of ``op`` for ``gy``, as NumPy."""
    xp = cupy if isinstance(arrays[0], cupy.ndarray) else np
    tensors = [
        numnet.tensor(a, requires_grad=i in differentiable, dtype=a.dtype)
        if a.dtype.kind == "f"
        else a
        for i, a in enumerate(arrays)
    ]
    y = op(*tensors)
    y.backward(None if gy is None else xp.asarray(gy))
    grads = [_host(tensors[i].grad) for i in differentiable]
    return _host(y.data), grads


def _agree(op, arrays, gy, differentiable=(0,), tol=None):
    """Run ``op`` on NumPy and on CuPy and assert that both agree."""
    tol = tol or TOL[arrays[0].dtype.type]
    host = _run(op, arrays, gy, differentiable)
    device = _run(op, [cupy.asarray(a) for a in arrays], gy, differentiable)
    assert device[0].dtype == host[0].dtype
    np.testing.assert_allclose(device[0], host[0], **tol)
    for a, b in zip(host[1], device[1], strict=True):
        assert b.dtype == a.dtype
        np.testing.assert_allclose(b, a, **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("label_dtype", [np.uint8, np.int32, np.int64, np.int16])
@pytest.mark.parametrize("shape", [(128, 10), (1, 1), (37, 33), (5, 1000), (4, 3, 7)])
def test_sparse_softmax_cross_entropy_kernel_matches_the_cpu(shape, label_dtype, dtype):
    rng = np.random.default_rng(1)
    z = (rng.standard_normal(shape) * 3).astype(dtype)
    labels = rng.integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    gy = rng.standard_normal(shape[:-1]).astype(dtype)
    _agree(F.sparse_softmax_cross_entropy, [z, labels], gy)


def test_sparse_softmax_cross_entropy_kernel_with_huge_logits_and_a_mean():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((300, 10)) * 1e4  # exp overflows without the shift
    labels = rng.integers(0, 10, 300)
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    _agree(lambda t, lab: loss(lab, t), [z, labels], None)  # a broadcast gy
    y = F.sparse_softmax_cross_entropy(numnet.tensor(cupy.asarray(z)), labels)
    assert bool(cupy.isfinite(y.data).all())


def test_sparse_softmax_cross_entropy_kernel_is_dispatched_and_bad_labels_raise(
    monkeypatch,
):
    calls = []
    forward = cupy_loss.sparse_ce_forward
    monkeypatch.setattr(
        cupy_loss, "sparse_ce_forward", lambda *a: calls.append(1) or forward(*a)
    )
    z = numnet.tensor(cupy.zeros((4, 3)))
    F.sparse_softmax_cross_entropy(z, cupy.asarray([0, 1, 2, 0]))
    assert calls == [1]
    # a bad label: NaN at once, the error without a host sync, at the latest
    # when the flag is read (check_labels: what fit does when it shows logs)
    y = F.sparse_softmax_cross_entropy(z, cupy.asarray([0, 1, 3, 0]))
    assert bool(cupy.isnan(y.data[2]))
    with pytest.raises(ValueError, match="label value of 3 .* range of \\[0, 3\\)"):
        cupy_loss.check_labels()
    cupy_loss.check_labels()  # reported once
    F.sparse_softmax_cross_entropy(z, cupy.asarray([0, -1, 2, 0]))
    cupy.cuda.get_current_stream().synchronize()
    with pytest.raises(ValueError, match="label value of -1"):  # the next call
        F.sparse_softmax_cross_entropy(z, cupy.asarray([0, 1, 2, 0]))
    F.sparse_softmax_cross_entropy(z, cupy.asarray([0, 1, 2, 0]))


def test_fit_on_cuda_raises_for_a_label_out_of_range():
    L = numnet.layers
    model = numnet.models.Sequential([L.Input((4,)), L.Dense(3)])
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss, device="cuda")
    x, y = np.ones((8, 4), np.float32), np.array([0, 1, 2, 0, 1, 2, 5, 0])
    with pytest.raises(ValueError, match="label value of 5"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)


def _agree_updates(arrays, call):
    """``call(ops, *copies)`` with the CUDA kernels and the reference agree."""
    results = []
    for ops in (CupyOps(), Ops(cupy)):
        mine = [a.copy() for a in arrays]
        call(ops, *mine)
        results.append(mine)
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a.get(), b.get(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [False, True])
def test_rmsprop_kernels_match_the_reference(centered, momentum):
    rng = np.random.default_rng(4)
    g = cupy.asarray(rng.standard_normal((33, 5)))
    w, s, m, u = (cupy.asarray(rng.standard_normal((33, 5))) for _ in range(4))
    s = abs(s) + 1.0  # s - m*m stays positive

    def call(ops, w, s, m, u):
        ops.rmsprop_update(
            w, g, s, m if centered else None, u if momentum else None,
            0.01, 0.9, 0.8, 1e-7,
        )  # fmt: skip

    _agree_updates([w, s, m, u], call)


def test_nadam_kernel_matches_the_reference():
    rng = np.random.default_rng(5)
    g, w, m = (cupy.asarray(rng.standard_normal((65, 3))) for _ in range(3))
    v = abs(cupy.asarray(rng.standard_normal((65, 3))))

    def call(ops, w, m, v):
        ops.nadam_update(w, g, m, v, 0.01, 0.9, 0.999, 1e-7, 0.8, 0.15, 0.002)

    _agree_updates([w, m, v], call)


def test_adamax_lion_adadelta_kernels_match_the_reference():
    rng = np.random.default_rng(8)
    g, w, m = (cupy.asarray(rng.standard_normal((65, 3))) for _ in range(3))
    u, a_d = (abs(cupy.asarray(rng.standard_normal((65, 3)))) for _ in range(2))

    def adamax(ops, w, m, u):
        ops.adamax_update(w, g, m, u, 0.01, 0.9, 0.999, 1e-7, 0.271)

    def lion(ops, w, m):
        ops.lion_update(w, g, m, 0.01, 0.9, 0.99)

    def adadelta(ops, w, a_g, a_d):
        ops.adadelta_update(w, g, a_g, a_d, 0.5, 0.95, 1e-7)

    _agree_updates([w, m, u], adamax)
    _agree_updates([w, m], lion)
    _agree_updates([w, u, a_d], adadelta)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("nadam", {}),
        ("adamax", {}),
        ("lion", {}),
        ("adadelta", {"learning_rate": 1.0}),
        ("rmsprop", {"centered": True}),
        ("rmsprop", {"momentum": 0.8}),
        ("rmsprop", {"centered": True, "momentum": 0.8}),
        ("adam", {"clipnorm": 0.5}),  # the norms stay on the device
        ("sgd", {"global_clipnorm": 0.5}),
    ],
)
def test_optimizer_steps_on_cuda_match_the_cpu(name, kwargs, dtype):
    rng = np.random.default_rng(6)
    w0, g = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    finals = []
    for xp in (np, cupy):
        p = Parameter(xp.asarray(w0), dtype=dtype)
        opt = type(numnet.optimizers.get(name))(learning_rate=0.01, **kwargs)
        for _ in range(3):
            opt.apply_gradients([(xp.asarray(g, dtype=dtype), p)])
        finals.append(_host(p.data))
    assert finals[1].dtype == finals[0].dtype == dtype
    np.testing.assert_allclose(finals[1], finals[0], **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_relu_bias_relu_and_mask_kernels_match_the_cpu(bias, dtype):
    from numnet.backend import cupy_conv

    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((3, 9, 8, 2)), rng.standard_normal((3, 3, 2, 4))]
    if bias:
        arrays.append(rng.standard_normal(4))
    arrays = [a.astype(dtype) for a in arrays]
    gy = rng.standard_normal((3, 9, 8, 4)).astype(dtype)
    conv = lambda *t: F.conv2d_relu(*t, stride=1, padding="same")  # noqa: E731
    _agree(conv, arrays, gy, differentiable=tuple(range(len(arrays))))
    y = cupy.asarray([[-1.0, 0.0, 2.0, float("nan")]], dtype=dtype)
    gy = cupy.asarray([[5.0, 6.0, 7.0, 8.0]], dtype=dtype)
    np.testing.assert_array_equal(cupy_conv.relu_mask(gy, y).get(), [[0, 0, 7, 0]])


TRANSPOSED = [  # (H, W, K, stride, padding, output_padding)
    (5, 6, 3, 1, "valid", None),
    (4, 5, 3, 2, "same", None),
    (3, 3, 4, 2, "valid", 1),
    (6, 4, (2, 3), (3, 1), "same", None),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("H, W, K, stride, padding, output_padding", TRANSPOSED)
def test_conv2d_transpose_on_cuda_matches_the_cpu(
    H, W, K, stride, padding, output_padding, bias, dtype
):
    rng = np.random.default_rng(8)
    KH, KW = (K, K) if isinstance(K, int) else K
    arrays = [rng.standard_normal((2, H, W, 3)), rng.standard_normal((KH, KW, 4, 3))]
    if bias:
        arrays.append(rng.standard_normal(4))
    arrays = [a.astype(dtype) for a in arrays]

    def op(*t):
        return F.conv2d_transpose(
            *t, stride=stride, padding=padding, output_padding=output_padding
        )

    y = op(*(numnet.tensor(a) for a in arrays))
    gy = rng.standard_normal(y.shape).astype(dtype)
    # float32 dw at 64x64: sums of 12,288 products of magnitude ~1 (results up
    # to ~100), added in another order than NumPy's: errors of a few 1e-4
    tol = {"rtol": 1e-4, "atol": 2e-3} if dtype == np.float32 and H * W > 1000 else None
    _agree(op, arrays, gy, differentiable=tuple(range(len(arrays))), tol=tol)


DEPTHWISE = [  # (H, W, K, M, stride, padding, dilation)
    (7, 6, 3, 1, 1, "same", 1),
    (8, 9, 3, 2, 2, "valid", 1),
    (9, 7, (3, 2), 3, (1, 2), "same", 1),
    (10, 10, 3, 1, 1, "valid", 2),
    (64, 64, 3, 1, 1, "same", 1),  # enough pixels for several dw row blocks
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("H, W, K, M, stride, padding, dilation", DEPTHWISE)
def test_depthwise_conv2d_on_cuda_matches_the_cpu(
    H, W, K, M, stride, padding, dilation, bias, dtype
):
    rng = np.random.default_rng(9)
    KH, KW = (K, K) if isinstance(K, int) else K
    C = 5
    arrays = [rng.standard_normal((3, H, W, C)), rng.standard_normal((KH, KW, C, M))]
    if bias:
        arrays.append(rng.standard_normal(C * M))
    arrays = [a.astype(dtype) for a in arrays]

    def op(*t):
        return F.depthwise_conv2d(*t, stride=stride, padding=padding, dilation=dilation)

    y = op(*(numnet.tensor(a) for a in arrays))
    gy = rng.standard_normal(y.shape).astype(dtype)
    # float32 dw at 64x64: sums of 12,288 products of magnitude ~1 (results up
    # to ~100), added in another order than NumPy's: errors of a few 1e-4
    tol = {"rtol": 1e-4, "atol": 2e-3} if dtype == np.float32 and H * W > 1000 else None
    _agree(op, arrays, gy, differentiable=tuple(range(len(arrays))), tol=tol)
