"""Shared pieces of the Fashion-MNIST examples: flags, data, timing report.

Each example is ``python examples/<name>.py [--epochs E] [--limit N]
[--batch-size B] [--seed S] [--verbose V] [--device cuda]``; ``--limit`` trains
and tests on the first N images only, so a smoke run takes seconds.
"""

from __future__ import annotations

import math
import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import callbacks, losses
from numnet.autograd.function import no_grad
from numnet.datasets import fashion_mnist


def parse_args(description: str, argv=None, epochs: int = 5, batch_size: int = 128):
    """The common command-line flags."""
    p = make_parser(description)
    p.add_argument("--epochs", type=int, default=epochs, help="training epochs")
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="use only the first N training and test images",
    )
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--seed", type=int, default=0, help="numnet.manual_seed")
    p.add_argument("--verbose", default="auto", help="fit verbosity: auto, 0, 1, 2")
    p.add_argument("--save", default=None, help="save the trained model to this path")
    p.add_argument(
        "--validation",
        type=int,
        default=5000,
        help="hold out the last N training images for validation (0: train on all)",
    )
    add_device_flag(p)
    args = p.parse_args(argv)
    if args.verbose != "auto":
        args.verbose = int(args.verbose)
    return args


def load(limit=None, flatten=False):
    """Fashion-MNIST scaled to [0, 1] float32, images (N, 28, 28, 1) or (N, 784)."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
    shape = (-1, 784) if flatten else (-1, 28, 28, 1)
    scale = np.float32(1 / 255)
    return (
        (x_train.reshape(shape) * scale, y_train.astype(np.int64)),
        (x_test.reshape(shape) * scale, y_test.astype(np.int64)),
    )


class EpochTimer(callbacks.Callback):
    """Records the wall time of every epoch (training plus validation)."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def phase_split(model, x, y, batch_size: int, steps: int = 10) -> dict[str, float]:
    """Seconds per batch in forward, loss + backward and optimizer, measured on
    ``steps`` extra batches (the same work as a fit step, timed piece by piece).
    The weights and optimizer state are restored afterwards."""
    loss_fn = losses.get(model.compiled.loss_spec)
    params = model.trainable_weights
    saved_weights = model.get_weights()
    saved_state = model.optimizer.get_state(params)
    totals = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    rng = numnet.backend.get_rng()
    model.train()
    for _ in range(steps):
        idx = np.sort(rng.choice(len(x), size=min(batch_size, len(x)), replace=False))
        t0 = time.perf_counter()
        y_pred = model(x[idx], training=True)
        t1 = time.perf_counter()
        for p in params:
            p.grad = None
        loss_fn(y[idx], y_pred).backward()
        t2 = time.perf_counter()
        with no_grad():
            model.optimizer.apply(params)
        t3 = time.perf_counter()
        totals["forward"] += t1 - t0
        totals["backward"] += t2 - t1
        totals["optimizer"] += t3 - t2
    model.eval()
    model.set_weights(saved_weights)
    model.optimizer.set_state(saved_state, params)
    return {k: v / steps for k, v in totals.items()}


def report(name, model, history, timer, test_acc, fit_seconds, split) -> None:
    """Print accuracy and where the time went."""
    epochs = len(timer.times)
    print(f"\n{name}: test accuracy {test_acc:.4f} after {epochs} epoch(s)")
    print(
        f"training wall time {fit_seconds:.1f} s; per epoch: "
        + ", ".join(f"{t:.1f}s" for t in timer.times)
    )
    total = sum(split.values())
    print(
        f"one training step ({total * 1e3:.1f} ms): "
        + ", ".join(
            f"{k} {v * 1e3:.1f} ms ({100 * v / total:.0f}%)" for k, v in split.items()
        )
    )
    if "val_accuracy" in history.history:
        print(f"last validation accuracy {history.history['val_accuracy'][-1]:.4f}")


def train_and_report(name, model, args, data) -> float:
    """Fit (with a held-out validation slice), evaluate on the test set, report."""
    (x_train, y_train), (x_test, y_test) = data
    val = min(args.validation, len(x_train) // 10)
    x_fit, y_fit, validation = x_train, y_train, None
    if val > 0:
        validation = (x_train[-val:], y_train[-val:])
        x_fit, y_fit = x_train[:-val], y_train[:-val]
    timer = EpochTimer()
    start = time.perf_counter()
    history = model.fit(
        x_fit,
        y_fit,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=validation,
        callbacks=[timer],
        verbose=args.verbose,
    )
    fit_seconds = time.perf_counter() - start
    _, test_acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    steps = max(1, min(10, len(x_fit) // args.batch_size))
    split = phase_split(model, x_fit, y_fit, args.batch_size, steps)
    report(name, model, history, timer, test_acc, fit_seconds, split)
    if args.save:
        model.save(args.save)
        print(f"saved to {args.save}")
    return test_acc


def compile_adam(model, steps: int) -> None:
    """The course's compile line: Adam(1e-3), sparse categorical CE, accuracy."""
    from numnet import optimizers

    model.compile(
        optimizer=optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def run_example(name, doc, build_model, argv=None, epochs=5, flatten=False,
                compile_model=compile_adam) -> float:  # fmt: skip
    """Parse the flags, build and compile the model, train, report; return the
    test accuracy. ``compile_model(model, steps)`` gets the number of updates."""
    args = parse_args(doc, argv, epochs=epochs)
    numnet.config.keep_freed_memory()  # allocator opt-in of training scripts (README)
    numnet.manual_seed(args.seed)
    data = load(args.limit, flatten=flatten)
    n_fit = len(data[0][0]) - min(args.validation, len(data[0][0]) // 10)
    model = build_model()
    compile_model(model, args.epochs * math.ceil(n_fit / args.batch_size))
    model.to(args.device)
    model.summary()
    return train_and_report(name, model, args, data)
