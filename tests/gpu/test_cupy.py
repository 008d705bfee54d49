"""The CUDA path: every CuPy kernel against the portable reference, and CPU-vs-GPU
agreement of the op table, the layers, a fit and save/load.

Runs only where CuPy finds a GPU (``-m gpu`` selects these tests); elsewhere
every test here is skipped, cleanly, at collection.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.gpu.gpu_guard import require_gpu

import numnet

pytestmark = pytest.mark.gpu


require_gpu()

import cupy  # noqa: E402

from numnet.backend import cupy_conv  # noqa: E402
from numnet.backend.cupy_ops import CupyOps, register  # noqa: E402
from numnet.backend.ops import Ops  # noqa: E402

register()
FAST, REFERENCE = CupyOps(), Ops(cupy)
F32 = {"rtol": 2e-5, "atol": 2e-6}


def _rand(rng, *shape, dtype=np.float32):
    return cupy.asarray(rng.standard_normal(shape).astype(dtype))


def _close(a, b, **tol):
    np.testing.assert_allclose(cupy.asnumpy(a), cupy.asnumpy(b), **(tol or F32))


def test_elementwise_kernels_match_the_reference():
    rng = np.random.default_rng(0)
    x = _rand(rng, 64, 33) * 20
    _close(FAST.sigmoid(x), REFERENCE.sigmoid(x))
    for a, b in zip(FAST.relu(x), REFERENCE.relu(x), strict=True):
        _close(a, b, rtol=0, atol=0)
    y, mask = REFERENCE.relu(x)
    _close(FAST.mask_multiply(x, mask), REFERENCE.mask_multiply(x, mask))
    _close(FAST.erf(x / 10), REFERENCE.erf(x / 10), rtol=1e-5, atol=1e-6)
    _close(FAST.normal_cdf(x / 4), REFERENCE.normal_cdf(x / 4), rtol=1e-5, atol=1e-6)
    z = x.copy()
    FAST.relu_in_place(z)
    _close(z, y, rtol=0, atol=0)


def test_scatter_adds_match_the_reference():
    rng = np.random.default_rng(1)
    idx = cupy.asarray(rng.integers(0, 7, 300))
    rows = _rand(rng, 300, 5, dtype=np.float64)
    _close(
        FAST.scatter_add_rows(idx, rows, 7),
        REFERENCE.scatter_add_rows(idx, rows, 7),
        rtol=1e-12,
        atol=1e-12,
    )
    index = (cupy.asarray(rng.integers(0, 3, 40)), cupy.asarray(rng.integers(0, 4, 40)))
    values = _rand(rng, 40, dtype=np.float64)
    _close(
        FAST.index_add((3, 4), index, values),
        REFERENCE.index_add((3, 4), index, values),
        rtol=1e-12,
        atol=1e-12,
    )


def _update_pair(method, n_slots, *args):
    rng = np.random.default_rng(2)
    w, g = _rand(rng, 257, 3), _rand(rng, 257, 3)
    slots = [abs(_rand(rng, 257, 3)) for _ in range(n_slots)]
    results = []
    for ops in (FAST, REFERENCE):
        mine = [w.copy()] + [s.copy() for s in slots]
        getattr(ops, method)(mine[0], g, *mine[1:], *args)
        results.append(mine)
    for a, b in zip(*results, strict=True):
        _close(a, b)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_kernels_match_the_reference(nesterov):
    _update_pair("sgd_update", 1, 0.1, 0.9, nesterov)
    rng = np.random.default_rng(3)
    w, g = _rand(rng, 10), _rand(rng, 10)
    w2 = w.copy()
    FAST.sgd_update(w, g, None, 0.1, 0.0, False)
    REFERENCE.sgd_update(w2, g, None, 0.1, 0.0, False)
    _close(w, w2)


def test_rmsprop_and_adam_kernels_match_the_reference():
    _update_pair("rmsprop_update", 1, None, None, 0.01, 0.9, 0.0, 1e-7)
    _update_pair("adam_update", 2, None, 0.01, 0.9, 0.999, 1e-7)
    _update_pair("adam_update", 3, 0.01, 0.9, 0.999, 1e-7)  # AMSGrad


def test_recurrent_cell_kernels_match_the_reference():
    rng = np.random.default_rng(4)
    U, N = 16, 9
    a, c_prev = _rand(rng, 4 * U, N) * 3, _rand(rng, U, N)
    outs = []
    for ops in (FAST, REFERENCE):
        mine = [a.copy()] + [cupy.empty((U, N), np.float32) for _ in range(3)]
        ops.lstm_cell_(mine[0], c_prev, *mine[1:])
        outs.append(mine)
    for x, y in zip(*outs, strict=True):
        _close(x, y)
    a, rec, h_prev = _rand(rng, 3 * U, N), _rand(rng, 3 * U, N), _rand(rng, U, N)
    outs = []
    for ops in (FAST, REFERENCE):
        mine = [a.copy(), cupy.empty((U, N), np.float32)]
        ops.gru_cell_(mine[0], rec, h_prev, mine[1])
        outs.append(mine)
    for x, y in zip(*outs, strict=True):
        _close(x, y)


def test_recurrent_cell_backward_kernels_match_the_reference():
    rng = np.random.default_rng(5)
    U, N = 16, 9
    a, c_prev = _rand(rng, 4 * U, N) * 3, _rand(rng, U, N)
    c, pc, h = (cupy.empty((U, N), np.float32) for _ in range(3))
    REFERENCE.lstm_cell_(a, c_prev, c, pc, h)  # activated gates, tanh(c)
    dh, dc = _rand(rng, U, N), _rand(rng, U, N)
    kept = [v.copy() for v in (a, c_prev, pc, dh, dc)]
    outs = []
    for ops in (FAST, REFERENCE):
        mine = [cupy.empty((4 * U, N), np.float32), cupy.empty((U, N), np.float32)]
        ops.lstm_cell_backward_(a, c_prev, pc, dh, dc, *mine)
        outs.append(mine)
    for x, y in zip(*outs, strict=True):
        _close(x, y)
    for v, k in zip((a, c_prev, pc, dh, dc), kept, strict=True):
        _close(v, k, rtol=0, atol=0)  # inputs are read only
    a, rec, h_prev = _rand(rng, 3 * U, N), _rand(rng, 3 * U, N), _rand(rng, U, N)
    REFERENCE.gru_cell_(a, rec, h_prev, cupy.empty((U, N), np.float32))
    outs = []
    for ops in (FAST, REFERENCE):
        mine = [cupy.empty((3 * U, N), np.float32) for _ in range(2)]
        mine.append(cupy.empty((U, N), np.float32))
        ops.gru_cell_backward_(a, rec, h_prev, dh, *mine)
        outs.append(mine)
    for x, y in zip(*outs, strict=True):
        _close(x, y)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("masked, dropout", [(False, False), (True, True)])
def test_fused_recurrent_ops_on_cuda_match_numpy(kind, masked, dropout):
    # on CuPy the loops run the cell kernels forward and backward; the LSTM
    # takes the stacked-GEMM path without dropout, the projected one with it
    import numnet.functional as F

    rng = np.random.default_rng(7)
    N, T, D, U = 5, 6, 3, 8
    G = (4 if kind == "lstm" else 3) * U
    arrays = [
        rng.standard_normal(s).astype(np.float32) * 0.5
        for s in [(N, T, D), (D, G), (U, G), (G,) if kind == "lstm" else (2, G)]
    ]
    arrays += [rng.standard_normal((N, U)).astype(np.float32)
               for _ in range(2 if kind == "lstm" else 1)]  # fmt: skip
    mask = rng.random((N, T)) > 0.3 if masked else None
    rec_mask = None
    if dropout:
        rec_mask = ((rng.random((N, U)) > 0.3) / 0.7).astype(np.float32)
    fn = F.lstm if kind == "lstm" else F.gru
    results = []
    for to in (np.asarray, cupy.asarray):
        ts = [numnet.tensor(to(v), requires_grad=True) for v in arrays]
        outs = fn(
            *ts[:4],
            ts[4:],
            mask=None if mask is None else to(mask),
            return_sequences=True,
            go_backwards=masked,
            recurrent_dropout_mask=None if rec_mask is None else to(rec_mask),
        )
        upstream = np.random.default_rng(8)
        total = sum((o * to(upstream.standard_normal(o.shape).astype(np.float32))).sum()
                    for o in outs)  # fmt: skip
        total.backward()
        results.append([o.data for o in outs] + [t.grad for t in ts])
    for host, device in zip(*results, strict=True):
        assert isinstance(device, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(device), host, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "H, K, stride, padding, dilation",
    [(9, 3, 1, "same", 1), (10, 5, 2, 2, 1), (8, 3, 2, "valid", 2), (7, 2, 3, 1, 1)],
)
def test_conv_executor_matches_the_cpu_kernels(H, K, stride, padding, dilation):
    from numnet._kernels import im2col as cpu
    from numnet._kernels.im2col import make_geometry

    rng = np.random.default_rng(5)
    g = make_geometry(H, H + 1, K, stride, padding, dilation)
    x = rng.standard_normal((3, H, H + 1, 4))
    cols = cpu.im2col(x, g)
    np.testing.assert_allclose(
        cupy.asnumpy(cupy_conv.im2col(cupy.asarray(x), g)), cols, rtol=0, atol=0
    )
    dcols = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(
        cupy.asnumpy(cupy_conv.col2im(cupy.asarray(dcols), g, x.shape)),
        cpu.col2im(dcols, g),
        rtol=1e-12,
        atol=1e-12,
    )
    w, b = rng.standard_normal((K, K, 4, 6)), rng.standard_normal(6)
    y, gcols = cupy_conv.conv2d_forward(*map(cupy.asarray, (x, w, b)), g)
    xt = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    wt = numnet.tensor(w, requires_grad=True, dtype=np.float64)
    bt = numnet.tensor(b, requires_grad=True, dtype=np.float64)
    yt = numnet.functional.conv2d(xt, wt, bt, stride, padding, dilation)
    np.testing.assert_allclose(cupy.asnumpy(y), yt.data, rtol=1e-10, atol=1e-10)
    gy = rng.standard_normal(yt.shape)
    yt.backward(gy)
    grads = cupy_conv.conv2d_backward(
        cupy.asarray(gy), cupy.asarray(w), g, gcols, x.shape
    )
    for mine, ref in zip(grads, (xt.grad, wt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(cupy.asnumpy(mine), ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize(
    "H, K, stride, padding, dilation", [(9, 3, 1, "same", 1), (10, 5, 2, 2, 2)]
)
def test_cupy_inputs_plan_the_cupy_executor_and_match_the_reference(
    H, K, stride, padding, dilation, relu
):
    from numnet._kernels.conv_plan import ConvPlan

    rng = np.random.default_rng(6)
    x, w, b = (
        _rand(rng, 2, H, H + 1, 3, dtype=np.float64),
        _rand(rng, K, K, 3, 5, dtype=np.float64),
        _rand(rng, 5, dtype=np.float64),
    )
    op = numnet.functional.conv2d_relu if relu else numnet.functional.conv2d
    results = []
    for plan in (None, ConvPlan(executor="reference")):
        ts = [numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, w, b)]
        y = op(*ts, stride, padding, dilation, plan=plan)
        if plan is None:  # the planner's choice for CuPy arrays
            assert y.creator.plan is None and y.creator.state.plan.executor == "cupy"
        gy = cupy.asarray(np.random.default_rng(7).standard_normal(y.shape))
        y.backward(gy)
        results.append([y.data] + [t.grad for t in ts])
    for mine, ref in zip(*results, strict=True):
        _close(mine, ref, rtol=1e-10, atol=1e-10)
    # columns not kept: dW recomputes them
    ts = [numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, w, b)]
    plan = ConvPlan(executor="cupy", keep_columns=False)
    op(*ts, stride, padding, dilation, plan=plan).backward(gy)
    for mine, ref in zip([t.grad for t in ts], results[1][1:], strict=True):
        _close(mine, ref, rtol=1e-10, atol=1e-10)


def _cnn():
    L = numnet.layers
    return numnet.models.Sequential(
        [
            L.Input((12, 12, 1)),
            L.Conv2D(4, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.BatchNormalization(),
            L.Flatten(),
            L.Dense(16, activation="relu"),
            L.Dropout(0.2),
            L.Dense(3),
        ]
    )


def _rnn():
    L = numnet.layers
    return numnet.models.Sequential(
        [L.Input((6, 4)), L.GRU(8, return_sequences=True), L.LSTM(8), L.Dense(3)]
    )


@pytest.mark.parametrize("factory", [_cnn, _rnn], ids=["cnn", "rnn"])
def test_fit_on_cuda_matches_the_cpu_and_round_trips(factory, tmp_path):
    rng = np.random.default_rng(6)
    shape = (64, 12, 12, 1) if factory is _cnn else (64, 6, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 3, 64)
    histories, models = [], []
    for device in ("cpu", "cuda"):
        numnet.manual_seed(0)
        model = factory()
        model.compile(
            "adam",
            numnet.losses.SparseCategoricalCrossentropy(True),
            metrics=["accuracy"],
            device=device,
        )
        with numnet.config.using(random_on_device=False):  # the CPU's masks
            history = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
        histories.append(history)
        models.append(model)
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-3)
    assert isinstance(models[1].weights[0].data, cupy.ndarray)
    path = tmp_path / "m.npz"
    models[1].save(path)
    again = numnet.models.load_model(path, device="cuda")
    np.testing.assert_allclose(
        again.predict(x, verbose=0), models[1].predict(x, verbose=0), rtol=1e-5
    )
    on_cpu = numnet.models.load_model(path)
    np.testing.assert_allclose(
        on_cpu.predict(x, verbose=0),
        models[1].predict(x, verbose=0),
        rtol=1e-4,
        atol=1e-5,
    )


def test_numpy_mixed_into_a_cuda_op_names_both_devices():
    a = numnet.tensor(np.ones(3), device="cuda")
    # the devices are named in the order of the inputs
    with pytest.raises(RuntimeError, match="cuda .* and cpu"):
        a + numnet.tensor(np.ones(3))
    with pytest.raises(RuntimeError, match="cpu .* and cuda"):
        numnet.tensor(np.ones(3)) + a


def test_manual_seed_seeds_cupy():
    numnet.device("cuda")
    numnet.manual_seed(3)
    first = cupy.random.random(4)
    numnet.manual_seed(3)
    _close(cupy.random.random(4), first, rtol=0, atol=0)


def test_dropout_and_noise_draw_on_the_gpu_with_its_generator():
    """cupy.random draws the masks (reproducible by manual_seed, no host copy);
    random_on_device=False gives the CPU's masks."""
    import numnet.functional as F

    x = numnet.tensor(np.ones((256, 64), np.float32))
    xc = x.to("cuda")
    runs = []
    for _ in range(2):
        numnet.manual_seed(4)
        runs.append(F.dropout(xc, 0.25).data)
    assert isinstance(runs[0], cupy.ndarray)
    _close(runs[1], runs[0], rtol=0, atol=0)
    kept = float((runs[0] != 0).mean())
    assert abs(kept - 0.75) < 0.02, kept
    assert set(cupy.asnumpy(cupy.unique(runs[0])).tolist()) == {0.0, 1 / 0.75}
    numnet.manual_seed(4)
    on_cpu = F.dropout(x, 0.25).data
    numnet.manual_seed(4)
    with numnet.config.using(random_on_device=False):
        on_gpu = F.dropout(xc, 0.25).data
    _close(on_gpu, on_cpu, rtol=0, atol=0)
    numnet.manual_seed(4)
    noise = F.gaussian_noise(xc, 2.0, training=True).data - 1.0
    assert isinstance(noise, cupy.ndarray) and abs(float(noise.std()) - 2.0) < 0.05


def _to_cupy(value):
    if isinstance(value, np.ndarray):
        return cupy.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cupy(v) for v in value)
    return value


def _op_cases():
    from tests.test_second_namespace import CASES, NUMPY_ONLY_ROWS

    return [c for c in CASES if c.name not in NUMPY_ONLY_ROWS]


@pytest.mark.parametrize("case", _op_cases(), ids=[c.name for c in _op_cases()])
def test_op_table_agrees_on_cpu_and_cuda(case):
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from tests.test_second_namespace import _forward_backward

    @settings(max_examples=2, derandomize=True, deadline=None)
    @given(data=st.data())
    def check(data):
        args = data.draw(case.inputs)
        host_outs, host_grads = _forward_backward(case, args, seed=1)
        outs, grads = _forward_backward(case, _to_cupy(args), seed=1)
        for a, b in zip(host_outs + host_grads, outs + grads, strict=True):
            assert b is None or isinstance(b, cupy.ndarray), "left the device"
            if b is not None:
                np.testing.assert_allclose(cupy.asnumpy(b), a, rtol=1e-7, atol=1e-9)

    check()


def test_python_numbers_in_arithmetic_on_cuda_match_numpy():
    """Numbers reach the kernels as NumPy scalars (Function.scalar_operands)."""
    h = np.linspace(-1, 1, 12, dtype=np.float32)
    results = []
    for device in ("cpu", "cuda"):
        x = numnet.tensor(h, requires_grad=True, device=device)
        y = 0.5 * x + 1 - x / 3 + numnet.maximum(x, 0.25) + numnet.where(x > 0, x, 0.0)
        (y * y).sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32
        results.append((numnet.backend.to_host(y.data), numnet.backend.to_host(x.grad)))
    for on_gpu, on_cpu in zip(results[1], results[0], strict=True):
        _close(on_gpu, on_cpu, rtol=1e-6, atol=1e-6)
