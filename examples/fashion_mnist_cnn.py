"""The course-notes CNN on Fashion-MNIST, verbatim: the course's model and recipe.

Conv(32, 3x3) + ReLU, MaxPool 2, Conv(64, 3x3) + ReLU, MaxPool 2, Flatten,
Dense(128) + ReLU, Dropout(0.5), Dense(10) softmax; Adam(1e-3), batch 128.
Target: >= 0.915 test accuracy after 5 epochs.

Run:  nice -n 5 python examples/fashion_mnist_cnn.py [--epochs 5] [--limit N]
      [--device cuda]
Data-parallel over MPI ranks (``pip install "numnet[mpi]"``), one thread each:
      OPENBLAS_NUM_THREADS=1 NUMNET_NUM_THREADS=1 \
      mpiexec -n 4 python examples/fashion_mnist_cnn.py --distributed
  ``--batch-size`` stays the global batch (each rank takes 1/n of it), so the
  learning rate and the accuracy target are those of the one-process run.
"""

from __future__ import annotations

import sys
import time

import fashion_common as common

import numnet
from numnet import layers, models


def build_model():
    """The course notes' model, layer for layer."""
    return models.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv=None) -> float:
    """Train, evaluate on the 10k test images, print the report; return accuracy."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--distributed" in argv:
        argv.remove("--distributed")
        return run_distributed(argv)
    return common.run_example("CNN", __doc__, build_model, argv, epochs=5)


def run_distributed(argv) -> float:
    """``fit(distributed=True)`` on every rank; rank 0 evaluates and reports."""
    from numnet import distributed as dist

    dist.init()
    args = common.parse_args(__doc__ + "\n--distributed: train over MPI ranks", argv)
    numnet.config.keep_freed_memory()  # allocator opt-in of training scripts (README)
    numnet.manual_seed(args.seed)  # rank 0's weights are broadcast anyway
    (x_train, y_train), (x_test, y_test) = common.load(args.limit)
    val = min(args.validation, len(x_train) // 10)
    validation = (x_train[-val:], y_train[-val:]) if val > 0 else None
    x_fit, y_fit = (x_train[:-val], y_train[:-val]) if val > 0 else (x_train, y_train)
    per_rank = max(1, args.batch_size // dist.size())
    model = build_model()
    common.compile_adam(model, 0)
    timer = common.EpochTimer()
    start = time.perf_counter()
    history = model.fit(x_fit, y_fit, batch_size=per_rank, epochs=args.epochs,
                        validation_data=validation, callbacks=[timer],
                        verbose=args.verbose, distributed=True)  # fmt: skip
    fit_seconds = time.perf_counter() - start
    if not dist.is_main():
        return float("nan")
    _, test_acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(
        f"\nCNN on {dist.size()} rank(s) x batch {per_rank} (global "
        f"{per_rank * dist.size()}): test accuracy {test_acc:.4f} after "
        f"{len(timer.times)} epoch(s); training wall time {fit_seconds:.1f} s; "
        f"per epoch: " + ", ".join(f"{t:.1f}s" for t in timer.times)
    )
    if "val_accuracy" in history.history:
        print(f"last validation accuracy {history.history['val_accuracy'][-1]:.4f}")
    if args.save:
        model.save(args.save)
        print(f"saved to {args.save}")
    return test_acc


if __name__ == "__main__":
    main()
