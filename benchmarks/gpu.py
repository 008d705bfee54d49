"""GPU benchmarks: ``python -m benchmarks --device cuda [--json out.json]``.

numnet on CuPy against PyTorch CUDA (cuDNN) on the workloads of
``BENCHMARKS.md``: W1 (conv 3x3 forward + backward, through numnet's
functional conv and through the CUDA im2col/col2im executor
``numnet.backend.cupy_conv``), W4 (MLP Adam step), W5 (course CNN Adam step,
batch 128 and 1024), W6/W7 (LSTM/GRU Adam step) and W8 (two epochs of the
course CNN on Fashion-MNIST, wall time and test accuracy; ``--no-w8`` skips it).

Each side runs a few warm-up steps, then the median of timed steps, each timed
with a device synchronisation (``cupy.cuda.Device().synchronize()`` /
``torch.cuda.synchronize()``). A workload that fails on a side is reported as
an error in the table instead of stopping the run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import traceback

import numpy as np

TARGETS = {"W1": 3.0, "W5/128": 3.0, "W5/1024": 2.0}  # numnet / PyTorch, at most


def _sync_numnet():
    import cupy

    cupy.cuda.Device().synchronize()


def _sync_torch():
    import torch

    torch.cuda.synchronize()


def _median_ms(step, sync, warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


# -- numnet ---------------------------------------------------------------------


def _nn_data(shape, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    return x, rng.integers(0, classes, shape[0]).astype(np.int64)


def _nn_course_cnn(numnet):
    L = numnet.layers
    return numnet.models.Sequential([
        L.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dropout(0.5), L.Dense(10),
    ])  # fmt: skip


def _nn_step(make, shape):
    """One Adam train_on_batch of ``make()`` on a device batch of ``shape``."""
    import numnet

    def setup():
        numnet.manual_seed(0)
        model = make(numnet)
        model.compile(
            numnet.optimizers.Adam(1e-3),
            numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
            device="cuda",
        )
        x, y = _nn_data(shape)
        xd, yd = numnet.device("cuda").put(x), numnet.device("cuda").put(y)
        return lambda: model.train_on_batch(xd, yd)

    return setup


def _nn_mlp(numnet):
    L = numnet.layers
    return numnet.models.Sequential([
        L.Input((784,)), L.Dense(512, activation="relu"),
        L.Dense(512, activation="relu"), L.Dense(10),
    ])  # fmt: skip


def _nn_rnn(kind):
    def make(numnet):
        L = numnet.layers
        cell = L.LSTM(128) if kind == "lstm" else L.GRU(128)
        return numnet.models.Sequential([L.Input((28, 28)), cell, L.Dense(10)])

    return make


def _nn_w1_functional():
    import numnet
    import numnet.functional as F

    cuda = numnet.device("cuda")
    x = numnet.tensor(_nn_data((64, 28, 28, 32))[0], requires_grad=True, device=cuda)
    w = numnet.tensor(np.random.default_rng(1).standard_normal((3, 3, 32, 64)) * 0.1,
                      requires_grad=True, device=cuda)  # fmt: skip
    b = numnet.tensor(np.zeros(64), requires_grad=True, device=cuda)
    g = cuda.put(np.ones((64, 28, 28, 64), np.float32))

    def step():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding="same").backward(g)

    return step


def _nn_w1_executor():
    import numnet
    from numnet._kernels.im2col import make_geometry
    from numnet.backend import cupy_conv

    cuda = numnet.device("cuda")
    x = cuda.put(_nn_data((64, 28, 28, 32))[0])
    w = cuda.put(np.random.default_rng(1).standard_normal((3, 3, 32, 64)))
    w = w.astype("float32")
    b = cuda.put(np.zeros(64, np.float32))
    g = make_geometry(28, 28, 3, 1, "same")  # 3x3, stride 1, "same" (pad 1)

    def step():
        y, cols = cupy_conv.conv2d_forward(x, w, b, g)
        cupy_conv.conv2d_backward(y, w, g, cols, x.shape)

    return step


# -- PyTorch ----------------------------------------------------------------------


def _torch_step(make, shape):
    def setup():
        import torch

        torch.manual_seed(0)
        model = make(torch.nn).cuda()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        x, y = _nn_data(shape)
        if len(shape) == 4:
            x = x.transpose(0, 3, 1, 2).copy()  # NHWC -> NCHW
        xd, yd = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            out = model(xd)
            out = out[0][:, -1] if isinstance(out, tuple) else out
            loss_fn(out, yd).backward()
            opt.step()

        return step

    return setup


def _t_mlp(nn):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                         nn.ReLU(), nn.Linear(512, 10))  # fmt: skip


def _t_cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )  # fmt: skip


def _t_rnn(kind):
    def make(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                cls = nn.LSTM if kind == "lstm" else nn.GRU
                self.rnn, self.head = cls(28, 128, batch_first=True), nn.Linear(128, 10)

            def forward(self, x):
                return self.head(self.rnn(x)[0][:, -1])

        return Net()

    return make


def _t_w1():
    import torch

    x = torch.randn(64, 32, 28, 28, device="cuda", requires_grad=True)
    conv = torch.nn.Conv2d(32, 64, 3, padding=1).cuda()
    g = torch.ones(64, 64, 28, 28, device="cuda")

    def step():
        x.grad = None
        conv.zero_grad(set_to_none=True)
        conv(x).backward(g)

    return step


# -- the table --------------------------------------------------------------------


def _workloads():
    return [
        ("W1", "conv 3x3 fwd+bwd (F.conv2d)", _nn_w1_functional, _t_w1),
        ("W1-exec", "conv 3x3 fwd+bwd (cupy_conv executor)", _nn_w1_executor, _t_w1),
        ("W4", "MLP Adam step, batch 128", _nn_step(_nn_mlp, (128, 784)),
         _torch_step(_t_mlp, (128, 784))),
        ("W5/128", "course CNN Adam step, batch 128",
         _nn_step(_nn_course_cnn, (128, 28, 28, 1)),
         _torch_step(_t_cnn, (128, 28, 28, 1))),
        ("W5/1024", "course CNN Adam step, batch 1024",
         _nn_step(_nn_course_cnn, (1024, 28, 28, 1)),
         _torch_step(_t_cnn, (1024, 28, 28, 1))),
        ("W6", "LSTM(128) Adam step, batch 128",
         _nn_step(_nn_rnn("lstm"), (128, 28, 28)),
         _torch_step(_t_rnn("lstm"), (128, 28, 28))),
        ("W7", "GRU(128) Adam step, batch 128",
         _nn_step(_nn_rnn("gru"), (128, 28, 28)),
         _torch_step(_t_rnn("gru"), (128, 28, 28))),
    ]  # fmt: skip


def _time_side(setup, sync, warmup, repeats):
    try:
        return _median_ms(setup(), sync, warmup, repeats), None
    except Exception as error:  # a failing side is a table entry, not a crash
        return None, f"{type(error).__name__}: {error}"[:300]


def _w8(epochs: int = 2) -> dict:
    """Train the course CNN on Fashion-MNIST on the GPU: wall time, accuracy."""
    import numnet
    from numnet.datasets import fashion_mnist

    (x, y), (xt, yt) = fashion_mnist.load_data()
    x = x[..., None].astype(np.float32) / 255
    xt = xt[..., None].astype(np.float32) / 255
    numnet.manual_seed(0)
    model = _nn_course_cnn(numnet)
    model.compile(
        numnet.optimizers.Adam(1e-3),
        numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        device="cuda",
    )
    start = time.perf_counter()
    model.fit(x, y.astype(np.int64), batch_size=128, epochs=epochs, verbose=0)
    _sync_numnet()
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(xt, yt.astype(np.int64), batch_size=1000, verbose=0)
    return {"seconds": round(seconds, 2), "test_accuracy": round(float(accuracy), 4)}


def run(repeats: int = 30, warmup: int = 5, w8: bool = True) -> dict:
    """Time every workload on both sides; return the results as a dict."""
    import cupy

    import numnet

    results = {"cupy": cupy.__version__, "numnet": numnet.__version__, "rows": []}
    try:
        import torch

        results["torch"] = torch.__version__
        have_torch = torch.cuda.is_available()
    except ImportError:
        have_torch = False
    for wid, name, nn_setup, t_setup in _workloads():
        row = {"id": wid, "name": name}
        row["numnet_ms"], row["numnet_error"] = _time_side(
            nn_setup, _sync_numnet, warmup, repeats
        )
        if have_torch:
            row["torch_ms"], row["torch_error"] = _time_side(
                t_setup, _sync_torch, 10, repeats
            )
        if row.get("numnet_ms") and row.get("torch_ms"):
            row["ratio"] = round(row["numnet_ms"] / row["torch_ms"], 2)
            target = TARGETS.get(wid)
            if target is not None:
                met = "met" if row["ratio"] <= target else "not met"
                row["target"] = f"<= {target}x: {met}"
        results["rows"].append(row)
        print(_format_row(row), flush=True)
    if w8:
        try:
            results["W8"] = _w8()
        except Exception:
            results["W8"] = {"error": traceback.format_exc(limit=3)[-600:]}
        print("W8 (2 epochs, course CNN, GPU):", results["W8"], flush=True)
    return results


def _format_row(row: dict) -> str:
    def ms(key):
        value = row.get(f"{key}_ms")
        return f"{value:9.3f} ms" if value else "    error   "

    text = f"{row['id']:8s} {row['name']:40s} numnet {ms('numnet')}"
    text += f"  torch {ms('torch')}"
    if "ratio" in row:
        text += f"  ratio {row['ratio']:.2f}x"
    if "target" in row:
        text += f"  ({row['target']})"
    for side in ("numnet", "torch"):
        if row.get(f"{side}_error"):
            text += f"\n         {side} error: {row[f'{side}_error']}"
    return text


def main(argv) -> int:
    """The ``--device cuda`` entry of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks --device cuda")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-w8", action="store_true", help="skip the W8 training")
    args, _ = parser.parse_known_args(argv)
    if not args.device.startswith("cuda"):
        parser.error(f"--device: only 'cuda' runs here. Received: {args.device!r}")
    try:
        import numnet

        numnet.device(args.device)
    except (ImportError, ValueError) as error:
        print(f"GPU benchmarks skipped: {error}")
        return 1
    results = run(repeats=args.repeats, w8=not args.no_w8)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0
