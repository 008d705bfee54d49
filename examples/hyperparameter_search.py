"""Random search of learning rate, batch size and dropout for the Fashion-MNIST MLP.

The course-notes recipe: sample the learning rate on a log scale
(r = uniform(-4, -1), lr = 10**r), the rest uniformly; train each trial for a few
epochs on the training split, score it on a *dev* split carved out of the
training set (the test set is never used for tuning); stop bad trials early
with the median stopping rule; print the table sorted by dev accuracy.

Run:  python examples/hyperparameter_search.py [--trials 20] [--epochs 5]
      [--device cuda]

Measured on the 2-core machine (see docs/tuning.md for the table): 20 trials of
up to 5 epochs on 50,000 images.
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, optimizers
from numnet.data import train_dev_test_split
from numnet.datasets import fashion_mnist
from numnet.models import Sequential
from numnet.tuning import Choice, LogUniform, RandomSearch, Uniform

SPACE = {
    "learning_rate": LogUniform(1e-4, 1e-1),
    "batch_size": Choice([32, 64, 128, 256]),
    "dropout": Uniform(0.0, 0.6),
}


def build_mlp(config: dict) -> Sequential:
    """The MLP of the course notes with the trial's dropout and learning rate."""
    numnet.manual_seed(0)  # same initial weights in every trial: a fair comparison
    model = Sequential(
        [
            layers.Dense(256, activation="relu", input_shape=(784,)),
            layers.Dropout(config["dropout"]),
            layers.Dense(128, activation="relu"),
            layers.Dropout(config["dropout"]),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizers.Adam(config["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per trial")
    parser.add_argument("--limit", type=int, default=None, help="use fewer images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-prune", action="store_true")
    add_device_flag(parser)
    args = parser.parse_args(argv)

    (x, y), _ = fashion_mnist.load_data()  # the test set stays untouched
    x = x.reshape(len(x), -1).astype(np.float32) / 255.0
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
    (x_train, y_train), (x_dev, y_dev) = train_dev_test_split(
        x, y, ratios=(5 / 6, 1 / 6), seed=args.seed, stratify=True
    )
    print(f"train {len(x_train)}, dev {len(x_dev)} images; {args.trials} trials")

    search = RandomSearch(
        SPACE,
        n_trials=args.trials,
        objective="val_accuracy",
        seed=args.seed,
        prune=not args.no_prune,
        min_epochs=1,
    )
    start = time.perf_counter()
    result = search.search(
        lambda config: build_mlp(config).to(args.device),  # each trial's model
        x_train,
        y_train,
        epochs=args.epochs,
        validation_data=(x_dev, y_dev),
        verbose=1,
    )
    minutes = (time.perf_counter() - start) / 60
    print()
    print(result.to_markdown())
    print(f"\nbest: {result.best_config} -> dev accuracy {result.best_score:.4f}")
    print(f"search wall time: {minutes:.1f} min")
    return {"best_config": result.best_config, "best_score": result.best_score,
            "trials": len(result.rows())}  # fmt: skip


if __name__ == "__main__":
    main()
