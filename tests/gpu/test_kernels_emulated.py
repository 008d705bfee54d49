"""What numnet's CUDA kernels compute, checked on the CPU (no GPU needed).

Each kernel's own source text runs through ``tests/gpu/cuda_emulation.py``
(g++ and a thread-per-CUDA-thread shim) on random inputs and is compared with
numnet's NumPy result: the fused loss, optimizer, conv-activation, transposed
and depthwise convolution kernels. Needs CuPy (for the kernel objects; no
driver or GPU) and g++; skipped elsewhere. ``tests/gpu/test_cupy_fused.py``
checks the same kernels through CuPy where a GPU is present.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from tests.gpu import cuda_emulation as emu

import numnet
import numnet.functional as F
from numnet._kernels import conv_reference
from numnet._kernels.depthwise import depthwise_backward, depthwise_forward
from numnet._kernels.im2col import make_geometry
from numnet.backend.ops import Ops

pytest.importorskip("cupy")
if not emu.available():
    pytest.skip("needs g++ to emulate the CUDA kernels", allow_module_level=True)

from numnet.backend import cupy_conv, cupy_depthwise, cupy_loss, cupy_ops  # noqa: E402

F64 = {"T": "double", "L": "long long"}
CLOSE = {"rtol": 1e-12, "atol": 1e-12}  # float64, a different summation order


def _sizes(g, C, M):
    return (g.H, g.W, C, M, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)


DEPTHWISE = [  # (H, W, K, M, stride, padding, dilation)
    (7, 6, 3, 1, 1, "same", 1),
    (8, 9, 3, 2, 2, "valid", 1),
    (9, 7, (3, 2), 3, (1, 2), "same", 1),
    (10, 10, 3, 1, 1, "valid", 2),
    (12, 12, 3, 1, 1, "same", 1),  # several dw row blocks
]


@pytest.mark.parametrize("H, W, K, M, stride, padding, dilation", DEPTHWISE)
def test_depthwise_kernels_compute_the_numpy_convolution(
    H, W, K, M, stride, padding, dilation
):
    rng = np.random.default_rng(0)
    KH, KW = (K, K) if isinstance(K, int) else K
    N, C = 3, 5
    x, w = rng.standard_normal((N, H, W, C)), rng.standard_normal((KH, KW, C, M))
    b = rng.standard_normal(C * M)
    g = make_geometry(H, W, (KH, KW), stride, padding, dilation, "test")
    sizes = _sizes(g, C, M)
    for bias in (b, None):
        out = np.empty((N, g.OH, g.OW, C * M))
        kernel, args = (
            (cupy_depthwise._FORWARD_BIAS, [x, w, b])
            if bias is not None
            else (cupy_depthwise._FORWARD, [x, w])
        )
        emu.elementwise(kernel, F64, [*args, *sizes, out], out.size)
        np.testing.assert_allclose(out, depthwise_forward(x, w, bias, g), **CLOSE)
    gy = rng.standard_normal(out.shape)
    dx_ref, dw_ref, _ = depthwise_backward(gy, x, w, g)
    dx = np.empty_like(x)
    emu.elementwise(cupy_depthwise._DX, F64, [gy, w, *sizes, dx], dx.size)
    np.testing.assert_allclose(dx, dx_ref, **CLOSE)
    np.testing.assert_allclose(_emulated_dw(x, gy, g, C, M), dw_ref, **CLOSE)


def _emulated_dw(x, gy, g, C, M):
    """Stage 1 of cupy_depthwise._weight_grad on the emulator, stage 2 summed."""
    P, J = gy.size // (C * M), g.KH * g.KW * C * M
    tiles = -(-J // 32)
    blocks = max(1, min(-(-P // cupy_depthwise._MIN_ROWS), 1024 // tiles))
    R = -(-P // blocks)
    blocks = -(-P // R)
    partial = np.empty((blocks, J))
    names = ["H", "W", "C", "M", "OH", "OW", "KW", "sh", "sw", "dh", "dw", "pt", "pl"]
    values = (g.H, g.W, C, M, g.OH, g.OW, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)
    signature = "const double* x, const double* gy, double* out, long long P, "
    signature += "int J, long long R, " + ", ".join(f"int {n}" for n in names)
    call = f"numnet_depthwise_dw<double>(x, gy, out, P, J, R, {', '.join(names)})"
    args = [x, gy, partial, ctypes.c_longlong(P), ctypes.c_int(J), ctypes.c_longlong(R)]
    args += [ctypes.c_int(v) for v in values]
    emu.launch(cupy_depthwise._SOURCE, call, signature, (tiles, blocks), (32, 8), args)
    assert blocks > 1 or P <= cupy_depthwise._MIN_ROWS
    return partial.sum(axis=0).reshape(g.KH, g.KW, C, M)


@pytest.mark.parametrize("label_type", ["unsigned char", "int", "long long"])
@pytest.mark.parametrize("N, C", [(128, 10), (1, 1), (37, 33), (5, 1000), (9, 64)])
def test_sparse_cross_entropy_kernels_compute_the_numpy_loss(N, C, label_type):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((N, C)) * 3
    dtype = {"unsigned char": np.uint8, "int": np.int32, "long long": np.int64}
    labels = rng.integers(0, C, N).astype(dtype[label_type])
    loss, p, bad = np.empty(N), np.empty((N, C)), np.zeros(2, np.int64)
    signature = (
        f"const double* z, const {label_type}* labels, double* loss, double* p, "
        "long long* bad, long long N, int C"
    )
    call = (
        f"numnet_sparse_ce_forward<double, {label_type}>(z, labels, loss, p, bad, N, C)"
    )
    rows = cupy_loss._ROWS_PER_BLOCK
    args = [z, labels, loss, p, bad, ctypes.c_longlong(N), ctypes.c_int(C)]
    emu.launch(cupy_loss._SOURCE, call, signature, (-(-N // rows), 1), (32, rows), args)
    zt = numnet.tensor(z, requires_grad=True, dtype=np.float64)
    y = F.sparse_softmax_cross_entropy(zt, labels)
    gy = rng.standard_normal(N)
    y.backward(gy)
    np.testing.assert_allclose(loss, y.data, **CLOSE)
    assert not bad.any()
    gz = np.empty_like(p)
    types = {"T": "double", "L": label_type}
    emu.elementwise(cupy_loss._BACKWARD, types, [p, gy, labels, C, gz], gz.size)
    np.testing.assert_allclose(gz, zt.grad, **CLOSE)


def test_sparse_cross_entropy_kernel_flags_a_label_out_of_range():
    z, labels = np.zeros((3, 3)), np.array([1, 3, 0], np.int64)
    loss, p, bad = np.empty(3), np.empty((3, 3)), np.zeros(2, np.int64)
    signature = (
        "const double* z, const long long* labels, double* loss, double* p, "
        "long long* bad"
    )
    call = "numnet_sparse_ce_forward<double, long long>(z, labels, loss, p, bad, 3, 3)"
    args = [z, labels, loss, p, bad]
    emu.launch(cupy_loss._SOURCE, call, signature, (1, 1), (32, 8), args)
    assert loss[0] == pytest.approx(np.log(3)) and np.isnan(loss[1])
    assert bad.tolist() == [1, 3]


@pytest.mark.parametrize(
    "H, W, K, stride, padding, output_padding",
    [(5, 6, 3, 1, "valid", None), (4, 5, 3, 2, "same", None), (3, 3, 4, 2, "valid", 1)],
)
def test_col2im_with_bias_computes_the_transposed_convolution(
    H, W, K, stride, padding, output_padding
):
    from numnet.functional.conv import transpose_geometry

    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, H, W, 3)), rng.standard_normal((K, K, 4, 3))
    b = rng.standard_normal(4)
    g = transpose_geometry(H, W, (K, K), stride, padding, output_padding)
    expected = conv_reference.conv2d_transpose_forward(x, w, b, g)
    dcols = np.ascontiguousarray(x.reshape(-1, 3) @ w.reshape(-1, 3).T)
    out = np.empty(expected.shape)
    sizes = (g.H, g.W, 4, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl)
    emu.elementwise(cupy_conv._COL2IM_BIAS, F64, [dcols, *sizes, b, out], out.size)
    np.testing.assert_allclose(out, expected, **CLOSE)


def test_conv_bias_relu_and_mask_kernels():
    rng = np.random.default_rng(3)
    z, b = rng.standard_normal((4, 7)), rng.standard_normal(7)
    y = z.copy()
    y[0, 0] = np.nan
    expected = np.maximum(y + b, 0)  # NaN stays NaN, as NumPy's maximum
    emu.elementwise(cupy_conv._BIAS_RELU, F64, [b, 7, y], y.size)
    np.testing.assert_array_equal(y, expected)
    gy, gz = rng.standard_normal((4, 7)), np.empty((4, 7))
    emu.elementwise(cupy_conv._RELU_MASK, F64, [gy, y, gz], gz.size)
    np.testing.assert_array_equal(gz, gy * (y > 0))


@pytest.mark.parametrize("mask_type", ["bool", "double"])
def test_scaled_mask_kernel_computes_the_reference(mask_type):
    keep = np.random.default_rng(9).random((6, 5)) >= 0.3
    keep = keep if mask_type == "bool" else keep.astype(np.float64)
    out = np.empty(keep.shape)
    emu.elementwise(
        cupy_ops._SCALED_MASK, {**F64, "M": mask_type}, [keep, 1 / 0.7, out], out.size
    )
    np.testing.assert_array_equal(out, Ops(np).scaled_mask(keep, 1 / 0.7, out.dtype))


def test_normal_cdf_kernel_computes_the_exact_cdf():
    from scipy.special import ndtr

    x = np.linspace(-30.0, 8.0, 1001)
    out = np.empty_like(x)
    emu.elementwise(cupy_ops._NORMAL_CDF, F64, [x, out], out.size)
    np.testing.assert_allclose(out, ndtr(x), rtol=1e-13, atol=0)  # tail included


def _state(rng, n=4):
    return [rng.standard_normal((5, 3)) for _ in range(n)]


@pytest.mark.parametrize("rule", ["centered", "momentum", "centered_momentum", "plain"])
def test_rmsprop_kernels_compute_the_reference_update(rule):
    rng = np.random.default_rng(4)
    g, w, m, u = _state(rng)
    s = abs(rng.standard_normal((5, 3))) + 1.0
    lr, rho, momentum, eps = 0.01, 0.9, 0.8, 1e-7
    ref = [a.copy() for a in (w, s, m, u)]
    centered, moving = "centered" in rule, "momentum" in rule
    Ops(np).rmsprop_update(
        ref[0], g, ref[1], ref[2] if centered else None, ref[3] if moving else None,
        lr, rho, momentum, eps,
    )  # fmt: skip
    kernel = {
        "centered": (cupy_ops._RMSPROP_CENTERED, [g, lr, rho, eps, w, s, m]),
        "momentum": (cupy_ops._RMSPROP_MOMENTUM, [g, lr, rho, momentum, eps, w, s, u]),
        "centered_momentum": (
            cupy_ops._RMSPROP_CENTERED_MOMENTUM,
            [g, lr, rho, momentum, eps, w, s, m, u],
        ),
        "plain": (cupy_ops._RMSPROP, [g, lr, rho, eps, w, s]),
    }[rule]
    emu.elementwise(kernel[0], F64, kernel[1], w.size)
    for mine, expected in zip((w, s, m, u), ref, strict=True):
        np.testing.assert_allclose(mine, expected, **CLOSE)


def test_nadam_kernel_computes_the_reference_update():
    rng = np.random.default_rng(5)
    g, w, m, v = _state(rng)
    v = abs(v)
    args = (0.01, 0.9, 0.999, 1e-7, 0.8, 0.15, 0.002)
    ref = [a.copy() for a in (w, m, v)]
    Ops(np).nadam_update(ref[0], g, ref[1], ref[2], *args)
    lr, beta_1, beta_2, eps, c_m, c_g, c_v = args
    scalars = [lr, 1.0 - beta_1, 1.0 - beta_2, eps, c_m, c_g, c_v]
    emu.elementwise(cupy_ops._NADAM, F64, [g, *scalars, w, m, v], w.size)
    for mine, expected in zip((w, m, v), ref, strict=True):
        np.testing.assert_allclose(mine, expected, **CLOSE)


def test_adamax_kernel_computes_the_reference_update():
    rng = np.random.default_rng(7)
    g, w, m, u = _state(rng)
    u = abs(u)
    lr, beta_1, beta_2, eps, c_m = 0.01, 0.9, 0.999, 1e-7, 0.271
    ref = [a.copy() for a in (w, m, u)]
    Ops(np).adamax_update(ref[0], g, ref[1], ref[2], lr, beta_1, beta_2, eps, c_m)
    scalars = [lr, 1.0 - beta_1, beta_2, eps, c_m]
    emu.elementwise(cupy_ops._ADAMAX, F64, [g, *scalars, w, m, u], w.size)
    for mine, expected in zip((w, m, u), ref, strict=True):
        np.testing.assert_allclose(mine, expected, **CLOSE)


def test_lion_kernel_computes_the_reference_update():
    rng = np.random.default_rng(8)
    g, w, m = _state(rng, 3)
    g[0, 0], m[0, 0] = 0.0, 0.0  # sign(0) = 0: the weight stays
    lr, beta_1, beta_2 = 0.01, 0.9, 0.99
    ref = [a.copy() for a in (w, m)]
    Ops(np).lion_update(ref[0], g, ref[1], lr, beta_1, beta_2)
    scalars = [lr, beta_1, 1.0 - beta_1, beta_2, 1.0 - beta_2]
    emu.elementwise(cupy_ops._LION, F64, [g, *scalars, w, m], w.size)
    for mine, expected in zip((w, m), ref, strict=True):
        np.testing.assert_allclose(mine, expected, **CLOSE)
    assert ref[0][0, 0] == _state(np.random.default_rng(8), 3)[1][0, 0]


def test_adadelta_kernel_computes_the_reference_update():
    rng = np.random.default_rng(9)
    g, w, a_g, a_d = _state(rng)
    a_g, a_d = abs(a_g), abs(a_d)
    lr, rho, eps = 0.5, 0.95, 1e-7
    ref = [a.copy() for a in (w, a_g, a_d)]
    Ops(np).adadelta_update(ref[0], g, ref[1], ref[2], lr, rho, eps)
    scalars = [lr, rho, 1.0 - rho, eps]
    emu.elementwise(cupy_ops._ADADELTA, F64, [g, *scalars, w, a_g, a_d], w.size)
    for mine, expected in zip((w, a_g, a_d), ref, strict=True):
        np.testing.assert_allclose(mine, expected, **CLOSE)


@pytest.mark.parametrize("decay", [0.0, 0.004])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_kernels_with_the_decoupled_decay_compute_the_reference(amsgrad, decay):
    rng = np.random.default_rng(6)
    g, w, m, v = _state(rng)
    v, v_hat = abs(v), abs(rng.standard_normal((5, 3)))
    if not decay:
        w[0, 0] = np.inf  # no decay: untouched (inf * 0 would be NaN)
    scalars = (0.01, 0.9, 0.999, 1e-7)
    ref = [a.copy() for a in (w, m, v, v_hat)]
    Ops(np).adam_update(
        ref[0], g, ref[1], ref[2], ref[3] if amsgrad else None, *scalars, decay=decay
    )
    kernel = cupy_ops._AMSGRAD if amsgrad else cupy_ops._ADAM
    outputs = [w, m, v, v_hat] if amsgrad else [w, m, v]
    emu.elementwise(kernel, F64, [g, *scalars, decay, *outputs], w.size)
    for mine, expected in zip(outputs, ref, strict=False):
        np.testing.assert_allclose(mine, expected, **CLOSE)
