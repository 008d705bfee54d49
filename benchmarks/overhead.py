"""Host (Python) overhead of one numnet training step.

    python -m benchmarks.overhead [--workload W4|W5|W6] [--batch 2] [--steps 300]
                                  [--tiny] [--profile N]

Builds the workload's model (W4 MLP, W5 course CNN, W6 LSTM(128) head, as in the
benchmark table) at a tiny batch so the array math is negligible, and times
``model.train_on_batch`` (W4, W5) or the W6 loop step: the median microseconds
per step is the host-side cost a GPU step pays on top of its kernels. At batch
2 the W4 MLP's Adam update over its 670k weights still costs milliseconds:
``--tiny`` keeps every layer of the model but shrinks the widths (and images to
12x12), so what is left is the Python of the step alone. With
``--profile N`` it also prints the Python function calls per step and the N
functions with the most own time (``cProfile``). Timings on a shared machine
are noisy: compare variants in alternating processes, several rounds.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys

import numpy as np


def _tiny_model(workload: str):
    from numnet import layers, models

    if workload == "W4":
        return models.Sequential([
            layers.Dense(8, activation="relu", input_shape=(16,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])  # fmt: skip
    return models.Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", input_shape=(12, 12, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(4, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(8, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip


def _step(workload: str, batch: int, tiny: bool = False):
    import numnet
    from benchmarks.workloads import training_steps as ts
    from numnet import optimizers

    numnet.manual_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, batch)
    if workload == "W6":
        return _rnn_step(numnet, rng, y, batch, 8 if tiny else 128)
    if tiny:
        model = _tiny_model(workload)
        shape = (batch, 16) if workload == "W4" else (batch, 12, 12, 1)
    else:
        model = ts.numnet_mlp() if workload == "W4" else ts.numnet_cnn()
        shape = (batch, 784) if workload == "W4" else (batch, 28, 28, 1)
    model.compile(optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    x = rng.random(shape, dtype=np.float32)
    return lambda: model.train_on_batch(x, y)


def _rnn_step(numnet, rng, y, batch, units):
    from benchmarks.workloads.w6_w7_recurrent import rnn_train_step
    from numnet import layers

    x = rng.random((batch, 28, 28 if units > 8 else 4), dtype=np.float32)
    return rnn_train_step(layers.LSTM(units), layers.Dense(10), x, y)


def time_steps(step, steps: int) -> float:
    """Median microseconds of ``steps`` calls of ``step`` (after 20 warm-up)."""
    from benchmarks.loop import run_loop

    return statistics.median(run_loop(step, 20, steps)) * 1e3


def profile_steps(step, steps: int, top: int) -> None:
    """Print calls per step and the ``top`` functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"function calls per step: {stats.total_calls / steps:.0f}")
    stats.sort_stats("tottime").print_stats(top)


def main(argv=None) -> int:
    prog = "python -m benchmarks.overhead"
    p = argparse.ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("--workload", default="W5", choices=("W4", "W5", "W6"))
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--tiny", action="store_true", help="shrink widths (see above)")
    p.add_argument("--profile", type=int, default=0, metavar="N")
    args = p.parse_args(argv)
    step = _step(args.workload, args.batch, args.tiny)
    us = time_steps(step, args.steps)
    name = f"{args.workload}{' tiny' if args.tiny else ''} batch {args.batch}"
    print(f"{name}: {us:.0f} us/step (median of {args.steps})")
    if args.profile:
        profile_steps(step, 50, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
