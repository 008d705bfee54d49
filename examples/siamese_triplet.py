"""Siamese embeddings of Fashion-MNIST items trained with the triplet loss.

One embedding network f (shared by anchor, positive and negative: "siamese")
maps an image to a unit vector. The triplet loss with margin alpha

    L = max(||f(a) - f(p)||^2 - ||f(a) - f(n)||^2 + alpha, 0)

is computed on triplets mined inside each batch from the labels, semi-hard as in
FaceNet (``losses.TripletLoss(margin, mining="semi-hard")``), so the model
trains with a plain ``compile``/``fit`` on (images, labels).

Verification ("are these two images the same kind of item?"): the distance
d(x1, x2) = ||f(x1) - f(x2)|| is compared with a threshold. The threshold that
maximises accuracy on balanced same/different pairs of a *validation* split
(held out of the training set) is then applied to pairs of *test* images. The
same procedure on raw pixels gives the baseline.

Run:  nice -n 5 python examples/siamese_triplet.py [--epochs 10] [--limit N]
      [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
import numnet.functional as F
from numnet import layers, losses, optimizers
from numnet.datasets import fashion_mnist
from numnet.models import Sequential


def l2_normalize(x):
    """Rows scaled to unit length (the embedding lives on the unit sphere)."""
    return x / F.sqrt(F.sum(x * x, axis=-1, keepdims=True) + 1e-12)


def embedding_net(dim: int = 64, conv: bool = False) -> Sequential:
    """Images (28, 28, 1) -> unit vectors of ``dim``: an MLP, or a small conv net."""
    if conv:
        body = [
            layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
        ]
    else:
        body = [
            layers.Flatten(input_shape=(28, 28, 1)),
            layers.Dense(256, activation="relu"),
        ]
    return Sequential(
        body
        + [
            layers.Dense(128, activation="relu"),
            layers.Dense(dim),
            layers.Lambda(l2_normalize, name="l2_normalize"),
        ]
    )


def sample_pairs(labels: np.ndarray, count: int, rng) -> tuple[np.ndarray, ...]:
    """``count`` same-label and ``count`` different-label index pairs (i != j)."""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(labels.max() + 2))
    # anchors come from classes with at least two members (a partner exists)
    paired = np.flatnonzero(np.diff(starts)[labels] >= 2)
    first = paired[rng.integers(0, paired.size, size=count)]
    # a same-label partner: a random other member of the first item's class
    cls = labels[first]
    size = starts[cls + 1] - starts[cls]
    offset = rng.integers(1, size)  # 1..size-1: never the item itself
    position = np.empty(labels.size, dtype=np.intp)
    position[order] = np.arange(labels.size)
    same = order[starts[cls] + (position[first] - starts[cls] + offset) % size]
    # a different-label partner: rejection-free, pick from the other classes
    other = rng.integers(0, labels.size, size=count)
    clash = labels[other] == labels[first]
    while clash.any():
        other[clash] = rng.integers(0, labels.size, size=int(clash.sum()))
        clash = labels[other] == labels[first]
    a = np.concatenate([first, first])
    b = np.concatenate([same, other])
    return a, b, np.concatenate([np.ones(count, bool), np.zeros(count, bool)])


def pair_distances(emb: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of each pair of rows."""
    return np.linalg.norm(emb[a] - emb[b], axis=1)


def best_threshold(dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold t maximising accuracy of "same iff d < t", and that accuracy."""
    order = np.argsort(dist)
    d, s = dist[order], same[order]
    # predicting "same" for the k closest pairs: correct = same among them +
    # different among the rest; evaluate every k at once with cumulative sums
    correct = np.concatenate([[0], np.cumsum(s)]) + (
        (~s).sum() - np.concatenate([[0], np.cumsum(~s)])
    )
    k = int(np.argmax(correct))
    bounds = np.concatenate([[d[0] - 1e-6], d, [d[-1] + 1e-6]])
    return float((bounds[k] + bounds[k + 1]) / 2), correct[k] / d.size


def verification(emb_val, y_val, emb_test, y_test, pairs: int, seed: int) -> dict:
    """Threshold chosen on validation pairs, accuracy measured on test pairs."""
    rng = np.random.default_rng(seed)
    va, vb, vsame = sample_pairs(y_val, pairs, rng)
    ta, tb, tsame = sample_pairs(y_test, pairs, rng)
    threshold, val_acc = best_threshold(pair_distances(emb_val, va, vb), vsame)
    test_pred = pair_distances(emb_test, ta, tb) < threshold
    return {
        "threshold": threshold,
        "val_accuracy": val_acc,
        "test_accuracy": float(np.mean(test_pred == tsame)),
    }


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="training images")
    parser.add_argument("--val", type=int, default=10000, help="validation images")
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--pairs", type=int, default=5000, help="pairs of each kind")
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--mining", default="semi-hard")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--conv", action="store_true", help="conv embedding net")
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    x = (x / 255.0).astype(np.float32)[..., None]
    x_test = (x_test[: args.test_limit] / 255.0).astype(np.float32)[..., None]
    y_test = y_test[: args.test_limit].astype(np.int64)
    perm = np.random.default_rng(args.seed).permutation(len(x))
    val_idx, train_idx = perm[: args.val], perm[args.val :][: args.limit]
    x_train, y_train = x[train_idx], y[train_idx].astype(np.int64)
    x_val, y_val = x[val_idx], y[val_idx].astype(np.int64)

    model = embedding_net(args.dim, args.conv)
    model.compile(
        optimizer=optimizers.Adam(1e-3),
        loss=losses.TripletLoss(margin=args.margin, mining=args.mining),
    )
    model.to(args.device)
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=args.verbose,
    )
    seconds = time.perf_counter() - start

    embed = lambda images: model.predict(images, batch_size=1024, verbose=0)  # noqa: E731
    pixels = lambda images: images.reshape(len(images), -1)  # noqa: E731
    learned = verification(
        embed(x_val), y_val, embed(x_test), y_test, args.pairs, args.seed
    )
    baseline = verification(
        pixels(x_val), y_val, pixels(x_test), y_test, args.pairs, args.seed
    )
    print(
        f"trained on {len(x_train)} images for {args.epochs} epochs in "
        f"{seconds:.0f} s (margin {args.margin}, {args.mining} mining)"
    )
    for name, r in (("triplet embedding", learned), ("raw pixels", baseline)):
        print(
            f"  {name:<18s} threshold {r['threshold']:.3f}: validation pairs "
            f"{r['val_accuracy']:.4f}, test pairs {r['test_accuracy']:.4f}"
        )
    return {"embedding": learned, "pixels": baseline, "seconds": seconds}


if __name__ == "__main__":
    main()
