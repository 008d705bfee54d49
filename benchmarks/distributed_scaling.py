"""W5 steps and W8 with MPI ranks: ``R`` ranks x ``T`` threads vs one process.

Run (set the thread counts before NumPy loads, i.e. in the environment)::

    # one process, 2 threads, global batch 128
    OPENBLAS_NUM_THREADS=2 NUMNET_NUM_THREADS=2 \\
        python benchmarks/distributed_scaling.py w5
    # 2 ranks x 1 thread, 64 per rank = the same global batch 128
    OPENBLAS_NUM_THREADS=1 NUMNET_NUM_THREADS=1 \\
        mpiexec -n 2 python benchmarks/distributed_scaling.py w5 --distributed
    # W8: 2 epochs of the course CNN on Fashion-MNIST (--limit N for a short run)
    ... python benchmarks/distributed_scaling.py w8 [--distributed] [--limit N]

``allreduce`` (with ``--distributed``) times one allreduce of the W5 gradients
packed in one buffer against one allreduce per weight, for W5's 8 weights and
for 100 weights of 2,000 floats (alternating, median of 40).
``w5`` times ``--steps`` training steps of the W5 CNN inside ``fit`` on random
data (median step, after 3 warm-up steps); with ``--distributed`` each step
includes the gradient allreduce and the global log reduction. ``w8`` prints
the wall time of ``fit`` and the test accuracy. Rank 0 prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import numnet
from numnet import callbacks, layers, models, optimizers


def cnn():
    """The W5/W8 course CNN (BENCHMARKS.md)."""
    return models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


class StepTimer(callbacks.Callback):
    """Wall time of every training step."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._t)


def packed_vs_per_weight(model) -> dict:
    """Median ms of one packed allreduce vs one allreduce per weight."""
    from numnet import distributed as dist

    out = {}
    shapes = {
        "w5": [w.shape for w in model.trainable_weights],
        "100x2000": [(2000,)] * 100,
    }
    for label, shape_list in shapes.items():
        grads = [np.ones(s, np.float32) for s in shape_list]
        flat = np.concatenate([g.ravel() for g in grads])
        runs = {
            "packed": lambda flat=flat: dist.allreduce_sum(flat, out=flat),
            "per_weight": lambda grads=grads: [
                dist.allreduce_sum(g, out=g) for g in grads
            ],
        }
        times = {k: [] for k in runs}
        for r in range(40):
            for name in sorted(runs, reverse=bool(r % 2)):
                dist.barrier()
                start = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - start)
        for name, t in times.items():
            out[f"{label}_{name}_ms"] = 1e3 * float(np.median(t))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=["w5", "w8", "allreduce"])
    p.add_argument("--distributed", action="store_true")
    p.add_argument("--batch-size", type=int, default=128, help="global batch")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    size, rank = 1, 0
    if args.distributed:
        from numnet import distributed as dist

        dist.init()
        size, rank = dist.size(), dist.rank()
    numnet.manual_seed(0)
    model = cnn()
    model.compile(
        optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"]
    )
    per_rank = args.batch_size // size
    fit = dict(batch_size=per_rank, verbose=0, distributed=args.distributed)
    result = {
        "workload": args.workload,
        "ranks": size,
        "threads": os.environ.get("NUMNET_NUM_THREADS", "?"),
        "global_batch": per_rank * size,
        "load": os.getloadavg()[0],
    }
    if args.workload == "allreduce":
        result.update(packed_vs_per_weight(model))
    elif args.workload == "w5":
        rng = np.random.default_rng(0)
        n = (args.steps + 3) * per_rank * size
        x = rng.random((n, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, n)
        timer = StepTimer()
        model.fit(x, y, epochs=1, shuffle=False, callbacks=[timer], **fit)
        result["step_ms_median"] = 1e3 * float(np.median(timer.times[3:]))
    else:
        from numnet.datasets import fashion_mnist

        (x, y), (xt, yt) = fashion_mnist.load_data()
        if args.limit:
            x, y, xt, yt = x[: args.limit], y[: args.limit], xt[:2000], yt[:2000]
        x = x.reshape(-1, 28, 28, 1).astype(np.float32) / 255
        xt = xt.reshape(-1, 28, 28, 1).astype(np.float32) / 255
        start = time.perf_counter()
        model.fit(x, y.astype(np.int64), epochs=args.epochs, **fit)
        result["fit_s"] = time.perf_counter() - start
        if rank == 0:
            _, acc = model.evaluate(xt, yt.astype(np.int64), batch_size=500, verbose=0)
            result["test_accuracy"] = float(acc)
        result["train_images"] = len(x)
    if rank == 0:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
