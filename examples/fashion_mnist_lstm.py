"""Fashion-MNIST as sequences: an LSTM reads each image row by row (28 steps x 28).

The row-sequential benchmark: the network sees one 28-pixel row per time step
and classifies the image from its last hidden state. Published GRU baselines on
this data reach 0.888-0.897 test accuracy; this script trains LSTM(128) ->
Dense(10) with Adam and reports test accuracy and wall time.

Run::

    python examples/fashion_mnist_lstm.py                 # full run (about 12 epochs)
    python examples/fashion_mnist_lstm.py --epochs 1 --limit 2000   # a smoke run
    python examples/fashion_mnist_lstm.py --device cuda   # on a GPU (CuPy)

On a busy shared machine, ``OPENBLAS_NUM_THREADS=1`` avoids BLAS threads
spinning against other processes (the per-step GEMMs are small).
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, models, optimizers
from numnet.datasets import fashion_mnist


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--limit", type=int, default=None, help="use the first N images")
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def load(limit):
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[: max(limit // 4, 100)], y_test[: max(limit // 4, 100)]
    scale = np.float32(1 / 255)
    return (x_train * scale, y_train), (x_test * scale, y_test)  # (N, 28, 28) rows


def build(units: int, lr: float, epochs: int, steps_per_epoch: int):
    model = models.Sequential(
        [
            layers.Input((28, 28)),  # 28 time steps of 28 features
            layers.LSTM(units),  # last hidden state
            layers.Dense(10, activation="softmax"),
        ]
    )
    # cosine decay of the step size over the whole run helps the last epochs
    schedule = optimizers.schedules.CosineDecay(lr, epochs * steps_per_epoch)
    model.compile(
        optimizer=optimizers.Adam(learning_rate=schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(argv=None) -> dict:
    args = parse_args(argv)
    numnet.config.keep_freed_memory()  # allocator opt-in of training scripts (README)
    numnet.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.limit)
    steps = -(-len(x_train) // args.batch_size)
    model = build(args.units, args.lr, args.epochs, steps).to(args.device)
    model.summary()
    start = time.perf_counter()
    model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2
    )
    train_time = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(
        f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(x_test)} images; "
        f"training wall time {train_time:.1f} s "
        f"({train_time / args.epochs:.1f} s/epoch)"
    )
    return {"accuracy": accuracy, "loss": loss, "seconds": train_time}


if __name__ == "__main__":
    main()
