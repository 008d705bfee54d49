"""One-shot recognition and verification with a triplet-trained encoder.

The course's face-recognition pipeline on Fashion-MNIST "identities": a conv
encoder f (unit-length 64-d embeddings) is trained with the triplet loss on
classes 0-6 only. Classes 7-9 (sneaker, bag, ankle boot) are never seen in
training; each is enrolled in a ``numnet.vision.EmbeddingIndex`` from ONE
test image, and the other test images of those classes are identified against
the index (nearest identity, or "unknown" beyond the distance threshold chosen
on validation pairs of the training classes). Repeated over random enrolment
images. Reported:

* one-shot identification accuracy among the K = 3 unseen identities (nearest
  identity; and with the threshold, "unknown" counting as an error);
* how often queries of the unenrolled training classes are rejected as
  "unknown" (open set);
* verification ROC AUC on same/different pairs of unseen classes, for the
  distance and for a DeepFace-style head (a logistic unit on
  |f(x1) - f(x2)|, ``numnet.vision.similarity_head``) trained on pairs of the
  training classes; the ROC curves are saved as a picture.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/face_recognition.py
      [--epochs 5] [--limit N] [--plot face_roc.png] [--device cuda]
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
from numnet.vision import EmbeddingIndex, roc_auc, roc_curve, similarity_head

SEEN, UNSEEN = list(range(7)), [7, 8, 9]


def l2_normalize(x):
    """Rows scaled to unit length."""
    return x / F.sqrt(F.sum(x * x, axis=-1, keepdims=True) + 1e-12)


def encoder(dim: int = 64) -> Sequential:
    """(28, 28, 1) images -> unit vectors of ``dim``."""
    return Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(dim),
            layers.Lambda(l2_normalize, name="l2_normalize"),
        ],
        name="encoder",
    )


def pairs(labels: np.ndarray, count: int, rng) -> tuple[np.ndarray, ...]:
    """``count`` same-label and ``count`` different-label index pairs."""
    a = rng.integers(0, len(labels), 8 * count)
    b = rng.integers(0, len(labels), 8 * count)
    ok = a != b
    same = np.flatnonzero(ok & (labels[a] == labels[b]))[:count]
    diff = np.flatnonzero(ok & (labels[a] != labels[b]))[:count]
    keep = np.r_[same, diff]
    return a[keep], b[keep], np.r_[np.ones(len(same)), np.zeros(len(diff))]


def best_threshold(dist: np.ndarray, same: np.ndarray) -> float:
    """The distance threshold with the best accuracy on labelled pairs."""
    candidates = np.unique(dist)
    accuracy = [((dist <= t) == same).mean() for t in candidates[::10]]
    return float(candidates[::10][int(np.argmax(accuracy))])


def one_shot(emb, labels, threshold: float, repeats: int, rng) -> dict:
    """Enrol each unseen class from one image; identify the rest."""
    nearest, thresholded, rejected = [], [], []
    unseen = np.flatnonzero(np.isin(labels, UNSEEN))
    seen = np.flatnonzero(np.isin(labels, SEEN))
    for _ in range(repeats):
        index = EmbeddingIndex(threshold=threshold)
        enrolled = [rng.choice(unseen[labels[unseen] == c]) for c in UNSEEN]
        for c, i in zip(UNSEEN, enrolled, strict=True):
            index.add(c, emb[i])
        queries = np.setdiff1d(unseen, enrolled)
        distances, names = index.distances(emb[queries])
        best = np.asarray(names)[distances.argmin(axis=1)]
        nearest.append((best == labels[queries]).mean())
        who, _ = index.identify_batch(emb[queries])
        thresholded.append(
            np.mean([w == y for w, y in zip(who, labels[queries], strict=True)])
        )
        who_seen, _ = index.identify_batch(emb[seen])
        rejected.append(np.mean([w == "unknown" for w in who_seen]))
    return {
        "nearest": float(np.mean(nearest)),
        "thresholded": float(np.mean(thresholded)),
        "rejected": float(np.mean(rejected)),
    }


def train_head(emb, labels, count: int, rng, epochs: int = 20, device="cpu"):
    """The DeepFace-style head trained on pairs of ``emb`` on ``device``."""
    a, b, same = pairs(labels, count, rng)
    head = similarity_head(emb.shape[1])
    head.compile(optimizers.Adam(0.01), "binary_crossentropy")
    head.to(device)
    head.fit(
        [emb[a], emb[b]],
        same.astype(np.float32)[:, None],
        epochs=epochs,
        batch_size=256,
        verbose=0,
    )
    return head


def save_roc(path: str, curves: dict) -> None:
    """ROC curves {name: (fpr, tpr, auc)} as a picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate")
    ax.set_title("Verification on unseen classes")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument("--limit", type=int, default=30000, help="training images")
    parser.add_argument("--test-limit", type=int, default=None, help="test images")
    parser.add_argument("--pairs", type=int, default=3000, help="pairs of each kind")
    parser.add_argument("--repeats", type=int, default=20, help="enrolment draws")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument(
        "--plot",
        default="face_roc.png",
        help="where to save the ROC picture ('' to skip)",
    )
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    x = (x / np.float32(255)).astype(np.float32)[..., None]
    x_test = (x_test[: args.test_limit] / np.float32(255)).astype(np.float32)[..., None]
    y, y_test = y.astype(np.int64), y_test[: args.test_limit].astype(np.int64)
    seen = np.flatnonzero(np.isin(y, SEEN))
    rng.shuffle(seen)
    val, train = seen[:5000], seen[5000:][: args.limit]

    model = encoder()
    model.compile(optimizers.Adam(1e-3), losses.TripletLoss(margin=0.2))
    model.to(args.device)
    start = time.perf_counter()
    model.fit(
        x[train],
        y[train],
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    train_seconds = time.perf_counter() - start

    emb_val = model.predict(x[val], batch_size=1000, verbose=0)
    emb_test = model.predict(x_test, batch_size=1000, verbose=0)
    a, b, same = pairs(y[val], args.pairs, rng)
    dist_val = np.linalg.norm(emb_val[a] - emb_val[b], axis=1)
    threshold = best_threshold(dist_val, same)
    result = one_shot(emb_test, y_test, threshold, args.repeats, rng)

    unseen = np.flatnonzero(np.isin(y_test, UNSEEN))
    a, b, same = pairs(y_test[unseen], args.pairs, rng)
    e1, e2 = emb_test[unseen][a], emb_test[unseen][b]
    distance_score = -np.linalg.norm(e1 - e2, axis=1)
    head = train_head(emb_val, y[val], args.pairs, rng, device=args.device)
    head_score = head.predict([e1, e2], verbose=0)[:, 0]
    curves = {}
    for name, score in (("distance", distance_score), ("DeepFace head", head_score)):
        fpr, tpr, _ = roc_curve(score, same)
        curves[name] = (fpr, tpr, roc_auc(score, same))
    print(
        f"encoder trained on classes 0-6 ({len(train)} images, {args.epochs} "
        f"epochs) in {train_seconds:.0f} s; threshold {threshold:.3f}"
    )
    print(
        f"one-shot identification of unseen classes (K = 3, {args.repeats} "
        f"enrolment draws): nearest {result['nearest']:.4f}, with threshold "
        f"{result['thresholded']:.4f}"
    )
    print(
        f"queries of unenrolled classes rejected as unknown: {result['rejected']:.4f}"
    )
    print(
        f"verification ROC AUC on unseen-class pairs: distance "
        f"{curves['distance'][2]:.4f}, DeepFace head "
        f"{curves['DeepFace head'][2]:.4f}"
    )
    if args.plot:
        save_roc(args.plot, curves)
        print(f"ROC curves saved to {args.plot}")
    return {
        **result,
        "auc_distance": curves["distance"][2],
        "auc_head": curves["DeepFace head"][2],
        "train_seconds": train_seconds,
    }


if __name__ == "__main__":
    main()
