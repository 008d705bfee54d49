"""Transfer learning on Fashion-MNIST: reuse a conv base for two unseen classes.

1. Train a conv net (the *base*, Conv-BN-ReLU blocks ending in global average
   pooling, plus an 8-way head) on 8 of the 10 classes.
2. New task: the 2 held-out classes, with only ``--shots`` training images per
   class. Freeze the base (``base.trainable = False``, and call it with
   ``training=False`` so its BatchNorm keeps the statistics of step 1), put a
   new Dense head on it and train the head alone.
3. Baseline: the same architecture trained from scratch on the same few
   images (every layer trainable, same epochs and optimizer).

Both are evaluated on all test images of the two new classes; the script
prints both accuracies (mean and spread over ``--repeats`` random draws of the
few training images).

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/transfer_learning.py
      [--base-epochs 3] [--shots 50] [--new-classes 0 6] [--limit N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import numnet
from numnet import layers, losses, models, optimizers
from numnet.datasets import fashion_mnist

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
               "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip


def conv_base(name: str = "base") -> models.Model:
    """28x28x1 -> 64 features: three Conv-BN-ReLU blocks and global pooling."""
    image = layers.Input((28, 28, 1), name=f"{name}_image")
    x = image
    for i, filters in enumerate((32, 64, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                          name=f"{name}_conv{i}")(x)  # fmt: skip
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
        if i < 3:
            x = layers.MaxPooling2D(2, name=f"{name}_pool{i}")(x)
    features = layers.GlobalAveragePooling2D(name=f"{name}_gap")(x)
    return models.Model(image, features, name=name)


def classifier(base: models.Model, num_classes: int, frozen: bool, name: str):
    """Base (frozen: inference mode, weights fixed) + a new Dense head."""
    image = layers.Input((28, 28, 1), name=f"{name}_input")
    features = base(image, training=False) if frozen else base(image)
    logits = layers.Dense(num_classes, name=f"{name}_head")(features)
    return models.Model(image, logits, name=name)


def compile_model(model, lr: float) -> None:
    model.compile(
        optimizer=optimizers.Adam(lr),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def prepare(new_classes, limit, test_limit=None):
    """Split Fashion-MNIST into the 8-class base task and the 2-class new task."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = (x_train[..., None] / np.float32(255)).astype(np.float32)
    x_test = (x_test[..., None] / np.float32(255)).astype(np.float32)
    old = [c for c in range(10) if c not in new_classes]
    relabel = np.full(10, -1)
    relabel[old] = np.arange(8)
    relabel[list(new_classes)] = [0, 1]
    base_idx = np.flatnonzero(np.isin(y_train, old))[:limit]
    base_test = np.flatnonzero(np.isin(y_test, old))[:test_limit]
    new_test = np.flatnonzero(np.isin(y_test, new_classes))[:test_limit]
    return {
        "base_train": (x_train[base_idx], relabel[y_train[base_idx]]),
        "base_test": (x_test[base_test], relabel[y_test[base_test]]),
        "new_pool": (x_train, y_train, relabel),
        "new_test": (x_test[new_test], relabel[y_test[new_test]]),
    }


def few_shot(pool, new_classes, shots: int, rng):
    """``shots`` random training images of each new class."""
    x, y, relabel = pool
    idx = np.concatenate([
        rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in new_classes
    ])  # fmt: skip
    return x[idx], relabel[y[idx]]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-epochs", type=int, default=3)
    parser.add_argument("--head-epochs", type=int, default=60)
    parser.add_argument("--shots", type=int, default=50)
    parser.add_argument("--new-classes", type=int, nargs=2, default=[0, 6])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="base images")
    parser.add_argument("--test-limit", type=int, default=None, help="per test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = prepare(args.new_classes, args.limit, args.test_limit)
    start = time.perf_counter()
    base = conv_base()
    pretrain = classifier(base, 8, frozen=False, name="pretrain")
    compile_model(pretrain, 2e-3)
    pretrain.fit(*data["base_train"], epochs=args.base_epochs, batch_size=128,
                 verbose=args.verbose)  # fmt: skip
    _, base_acc = pretrain.evaluate(*data["base_test"], batch_size=500, verbose=0)
    base.trainable = False  # freeze: weights and BatchNorm statistics
    names = " vs ".join(CLASS_NAMES[c] for c in args.new_classes)
    print(
        f"base: {base.count_params():,} parameters, 8-class test accuracy "
        f"{base_acc:.4f}; new task: {names}, {args.shots} images per class"
    )

    results = {"transfer": [], "scratch": []}
    for repeat in range(args.repeats):
        x_few, y_few = few_shot(data["new_pool"], args.new_classes, args.shots, rng)
        transfer = classifier(base, 2, frozen=True, name=f"transfer{repeat}")
        scratch = classifier(conv_base(f"scratch{repeat}"), 2, frozen=False,
                             name=f"scratch{repeat}")  # fmt: skip
        for key, model in (("transfer", transfer), ("scratch", scratch)):
            compile_model(model, 1e-3)
            model.fit(x_few, y_few, epochs=args.head_epochs, batch_size=25, verbose=0)
            _, acc = model.evaluate(*data["new_test"], batch_size=500, verbose=0)
            results[key].append(acc)
    trainable = transfer.count_params() - base.count_params()
    for key, label in (("transfer", f"frozen base + new head ({trainable} trained "
                                    f"parameters)"),
                       ("scratch", "same network from scratch")):  # fmt: skip
        accs = np.array(results[key])
        print(
            f"{label}: test accuracy {accs.mean():.4f} "
            f"(min {accs.min():.4f}, max {accs.max():.4f}, {args.repeats} draws)"
        )
    minutes = (time.perf_counter() - start) / 60
    print(f"total time {minutes:.1f} min")
    return {"base_accuracy": base_acc, **{k: float(np.mean(v)) for k, v in
                                          results.items()}}  # fmt: skip


if __name__ == "__main__":
    main()
