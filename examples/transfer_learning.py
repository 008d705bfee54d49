"""Transfer learning on Fashion-MNIST: reuse a conv base for two unseen classes.

The split of Géron's *Hands-On Machine Learning* (ch. 11): the base task is the
8 classes other than sandal and shirt, the new task is sandal vs shirt.

1. Train a conv net (the *base*, Conv-BN-ReLU blocks ending in global average
   pooling, plus an 8-way head) on the 8 base classes.
2. New task with only ``--shots`` training images per class. Three models,
   trained on the same few images with the same optimizer and epochs:

   * **frozen base + new head**: a copy of the base with ``trainable = False``,
     called with ``training=False`` (BatchNorm keeps the statistics of step 1),
     under a new ``Dense(2)`` head; only the head trains;
   * **fine-tuned**: the same, then the base is unfrozen and everything is
     fine-tuned at a 10x lower learning rate (BatchNorm stays in inference
     mode, the Keras advice);
   * **from scratch**: the same architecture, freshly initialized, all layers
     trainable.

Every model is evaluated on all test images of the two new classes; the script
prints each accuracy (mean, min and max over ``--repeats`` random draws of the
few training images). BatchNorm uses momentum 0.9 so that its moving statistics
keep up with the few steps of the small-data runs (with Keras's 0.99 they lag
the weights and the from-scratch model looks far worse than it is).

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/transfer_learning.py
      [--base-epochs 3] [--shots 50] [--new-classes 5 6] [--limit N]
      [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

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
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
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


def copy_of(base: models.Model, name: str) -> models.Model:
    """A new model with the architecture (config) and weights of ``base``."""
    config = base.get_config()
    for spec in config["layers"]:  # fresh layer names: the copy lives beside base
        spec["config"]["name"] = spec["config"]["name"].replace("base", name, 1)
    for node in config["nodes"]:
        node["layer"] = node["layer"].replace("base", name, 1)
        for ref in node["inputs"]:
            ref[0] = ref[0].replace("base", name, 1)
    for ref in config["inputs"] + config["outputs"]:
        ref[0] = ref[0].replace("base", name, 1)
    config["name"] = name
    clone = models.Functional.from_config(config)
    clone.set_weights(base.get_weights())
    return clone


def compile_model(model, lr) -> None:
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


def train_few(model, x, y, test, args, lr=1e-3) -> float:
    """Fit on the few images on ``args.device``, return the test accuracy."""
    compile_model(model, lr)
    model.to(args.device)
    model.fit(x, y, epochs=args.head_epochs, batch_size=25, verbose=0)
    return model.evaluate(*test, batch_size=500, verbose=0)[1]


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument(
        "--epochs",
        "--base-epochs",
        dest="base_epochs",
        type=int,
        default=3,
        help="epochs of the base model (the head has --head-epochs)",
    )
    parser.add_argument("--head-epochs", type=int, default=60)
    parser.add_argument("--shots", type=int, default=50)
    parser.add_argument("--new-classes", type=int, nargs=2, default=[5, 6])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="base images")
    parser.add_argument("--test-limit", type=int, default=None, help="per test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = prepare(args.new_classes, args.limit, args.test_limit)
    start = time.perf_counter()
    base = conv_base()
    pretrain = classifier(base, 8, frozen=False, name="pretrain")
    steps = args.base_epochs * -(-len(data["base_train"][0]) // 128)
    compile_model(pretrain, optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.05))
    pretrain.to(args.device)
    pretrain.fit(*data["base_train"], epochs=args.base_epochs, batch_size=128,
                 verbose=args.verbose)  # fmt: skip
    _, base_acc = pretrain.evaluate(*data["base_test"], batch_size=500, verbose=0)
    base.trainable = False  # freeze: weights and BatchNorm statistics
    names = " vs ".join(CLASS_NAMES[c] for c in args.new_classes)
    print(
        f"base: {base.count_params():,} parameters, 8-class test accuracy "
        f"{base_acc:.4f}; new task: {names}, {args.shots} images per class"
    )

    labels = {
        "transfer": "frozen base + new head",
        "fine_tuned": "frozen, then all layers fine-tuned",
        "scratch": "same network from scratch",
    }
    results = {key: [] for key in labels}
    for repeat in range(args.repeats):
        x_few, y_few = few_shot(data["new_pool"], args.new_classes, args.shots, rng)
        test = data["new_test"]
        frozen = copy_of(base, f"frozen{repeat}")
        frozen.trainable = False
        transfer = classifier(frozen, 2, frozen=True, name=f"transfer{repeat}")
        results["transfer"].append(train_few(transfer, x_few, y_few, test, args))
        frozen.trainable = True  # unfreeze; BatchNorm stays pinned in inference
        results["fine_tuned"].append(
            train_few(transfer, x_few, y_few, test, args, lr=1e-4)
        )
        scratch = classifier(conv_base(f"scratch{repeat}"), 2, frozen=False,
                             name=f"scratch{repeat}")  # fmt: skip
        results["scratch"].append(train_few(scratch, x_few, y_few, test, args))
    head = transfer.get_layer(f"transfer{args.repeats - 1}_head").count_params()
    labels["transfer"] += f" ({head} trained parameters)"
    for key, label in labels.items():
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
