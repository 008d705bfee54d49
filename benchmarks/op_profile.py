"""Where a training step's time goes, op by op: ``python -m benchmarks.op_profile``.

    python -m benchmarks.op_profile --workload W5 [--device cpu|cuda] [--steps 20]

Every differentiable op's ``forward`` (through ``Function.__call__``) and
``backward``, and the optimizer's ``apply``, are wrapped with a timer (and, on
CUDA, a device synchronisation before and after, so each op's kernels are
charged to it). An op called from inside another op is charged to the outer
one. The rest of the step (layers' Python, the engine, the loss bookkeeping)
is reported as "other". Synchronising after every op makes a CUDA step slower
than it runs unprofiled: read the shares, and time the step itself with
``python -m benchmarks --device cuda``.

Workloads: W4 (MLP), W5 (course CNN, ``W5/1024`` at batch 1024), W6 (LSTM),
W7 (GRU), W9 (the ResNet example's network); the same models and batches as
the benchmark table.
"""

from __future__ import annotations

import argparse
import collections
import functools
import statistics
import time

import numpy as np

_BATCH = {"W4": 128, "W5": 128, "W5/1024": 1024, "W6": 128, "W7": 128, "W9": 128}


def _model(numnet, workload: str):
    from benchmarks import gpu

    if workload == "W9":
        return numnet.applications.small_resnet(
            input_shape=(28, 28, 1), num_classes=10, stage_filters=(32, 64, 128),
            stage_strides=(2, 2, 2), blocks_per_stage=1, classifier_activation=None,
        )  # fmt: skip
    make = {
        "W4": gpu._nn_mlp,
        "W5": gpu._nn_course_cnn,
        "W5/1024": gpu._nn_course_cnn,
        "W6": gpu._nn_rnn("lstm"),
        "W7": gpu._nn_rnn("gru"),
    }[workload]
    return make(numnet)


def _input_shape(workload: str) -> tuple:
    batch = _BATCH[workload]
    if workload == "W4":
        return (batch, 784)
    if workload in ("W6", "W7"):
        return (batch, 28, 28)
    return (batch, 28, 28, 1)


def build_step(workload: str, device: str):
    """The workload's model compiled on ``device``; returns one train step."""
    import numnet

    numnet.manual_seed(0)
    model = _model(numnet, workload)
    optimizer = (
        numnet.optimizers.AdamW(1e-3, weight_decay=1e-4)
        if workload == "W9"
        else numnet.optimizers.Adam(1e-3)
    )
    model.compile(
        optimizer,
        numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
        device=device,
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal(_input_shape(workload)).astype(np.float32)
    y = rng.integers(0, 10, len(x)).astype(np.int64)
    dev = numnet.device(device)
    x, y = dev.put(x), dev.put(y)
    return lambda: model.train_on_batch(x, y)


class OpTimer:
    """Wraps ops' forward/backward and the optimizer's apply with timers."""

    def __init__(self, sync):
        self.sync = sync
        self.seconds = collections.defaultdict(float)
        self.calls = collections.Counter()
        self.depth = 0
        self._undo = []

    def _wrap(self, owner, name: str, label):
        original = owner.__dict__[name]

        @functools.wraps(original)
        def timed(obj, *args, **kwargs):
            if self.depth:
                return original(obj, *args, **kwargs)
            self.sync()
            self.depth += 1
            start = time.perf_counter()
            try:
                result = original(obj, *args, **kwargs)
                self.sync()
            finally:
                self.depth -= 1
            key = label(obj)
            self.seconds[key] += time.perf_counter() - start
            self.calls[key] += 1
            return result

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def install(self):
        """Wrap every op's forward/backward and the optimizer's apply; return self."""
        from numnet.autograd.function import Function
        from numnet.optimizers.base import Optimizer

        self._wrap(Function, "__call__", lambda fn: f"{type(fn).__name__}.forward")
        for cls in _subclasses(Function):
            if "backward" in cls.__dict__:
                self._wrap(cls, "backward", lambda fn: f"{type(fn).__name__}.backward")
        self._wrap(Optimizer, "apply", lambda opt: f"{type(opt).__name__}.apply")
        return self

    def uninstall(self):
        """Put the original methods back."""
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def reset(self):
        """Forget the times and call counts gathered so far."""
        self.seconds.clear()
        self.calls.clear()


def _subclasses(cls):
    seen, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def _sync_for(device: str):
    if device.startswith("cuda"):
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def profile(workload: str, device: str = "cpu", steps: int = 20, warmup: int = 5):
    """Per-op milliseconds per step, and the plain (unprofiled) step time."""
    step, sync = build_step(workload, device), _sync_for(device)
    for _ in range(warmup):
        step()
    sync()
    plain = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        plain.append(time.perf_counter() - start)
    timer = OpTimer(sync).install()
    try:
        totals = []
        for _ in range(steps):
            start = time.perf_counter()
            step()
            sync()
            totals.append(time.perf_counter() - start)
    finally:
        timer.uninstall()
    per_step = {k: 1000 * v / steps for k, v in timer.seconds.items()}
    total = 1000 * sum(totals) / steps
    per_step["other (Python, engine, bookkeeping)"] = total - sum(per_step.values())
    calls = {k: v / steps for k, v in timer.calls.items()}
    return {
        "plain_ms": 1000 * statistics.median(plain),
        "profiled_ms": total,
        "ops": per_step,
        "calls": calls,
    }


def format_report(workload: str, device: str, result: dict) -> str:
    """The :func:`profile` result as a text table, the costliest op first."""
    lines = [
        f"{workload} on {device}: step {result['plain_ms']:.2f} ms unprofiled, "
        f"{result['profiled_ms']:.2f} ms profiled",
        f"{'op':48s} {'calls':>6s} {'ms/step':>9s} {'share':>6s}",
    ]
    total = result["profiled_ms"]
    for name, ms in sorted(result["ops"].items(), key=lambda kv: -kv[1]):
        calls = result["calls"].get(name, 0)
        lines.append(f"{name:48s} {calls:6.0f} {ms:9.3f} {100 * ms / total:5.1f}%")
    return "\n".join(lines)


def main(argv=None) -> None:
    """The command line: profile one workload and print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.op_profile",
        description="Time a training step op by op (forward, backward, optimizer).",
    )
    parser.add_argument("--workload", default="W5", choices=sorted(_BATCH),
                        help="which step to profile (default: W5)")  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--steps", type=int, default=20, help="timed (default 20)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed (default 5)")
    parser.add_argument(
        "--relu-before-pool", action="store_true",
        help="run a ReLU followed by a max pool as written, not after the pool "
        "(the models' default; to compare the two)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.relu_before_pool:
        import numnet

        numnet.config.set(kernel_plans={"relu_past_max_pool": False})
    result = profile(args.workload, args.device, args.steps, args.warmup)
    print(format_report(args.workload, args.device, result), flush=True)


if __name__ == "__main__":
    main()
