"""Variable-length text classification with Embedding(mask_zero) + Bidirectional(LSTM).

Real data shipped with Python: the docstrings of the standard library. Each
sample is one function/class/module docstring (a variable-length word
sequence, 4 to 64 words) and the label is the stdlib package it comes from
(asyncio, email, logging, tkinter, ...). Sequences are zero-padded to one length;
``Embedding(mask_zero=True)`` marks the padding, and the Bidirectional LSTM skips
those steps (both directions), so a docstring is classified the same whatever
the padding. The script checks that, then trains::

    Embedding(V, 64, mask_zero=True) -> Bidirectional(LSTM(64)) -> Dense(classes)

and reports test accuracy against the majority-class baseline.

Run::

    python examples/sequence_classification.py
    python examples/sequence_classification.py --epochs 1 --limit 600
    python examples/sequence_classification.py --device cuda   # on a GPU (CuPy)
"""

from __future__ import annotations

import ast
import collections
import re
import sysconfig
import time
from pathlib import Path

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, models, optimizers

PACKAGES = ("asyncio", "distutils", "email", "idlelib", "importlib", "lib2to3",
            "logging", "tkinter")  # fmt: skip
PAD, OOV = 0, 1


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=None, help="use N docstrings")
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--vocab", type=int, default=6000)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--packages", default=",".join(PACKAGES), help="the classes")
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", text.lower())


def load_docstrings(max_len: int, packages=PACKAGES):
    """(token lists, labels) of every docstring with >= 4 words in ``packages``."""
    root = Path(sysconfig.get_paths()["stdlib"])
    texts, labels = [], []
    for label, package in enumerate(packages):
        for path in sorted((root / package).rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                kinds = (
                    ast.Module,
                    ast.ClassDef,
                    ast.FunctionDef,
                    ast.AsyncFunctionDef,
                )
                doc = ast.get_docstring(node) if isinstance(node, kinds) else None
                words = tokenize(doc or "")
                if len(words) >= 4:
                    texts.append(words[:max_len])
                    labels.append(label)
    return texts, np.array(labels)


def encode(texts, vocabulary: dict, max_len: int) -> np.ndarray:
    """Word ids, zero-padded at the end (0 = padding, 1 = unknown word)."""
    ids = np.full((len(texts), max_len), PAD, dtype=np.int64)
    for n, words in enumerate(texts):
        ids[n, : len(words)] = [vocabulary.get(w, OOV) for w in words]
    return ids


def build(vocab: int, classes: int, units: int, max_len: int):
    model = models.Sequential(
        [
            layers.Input((max_len,)),
            layers.Embedding(vocab, 64, mask_zero=True),
            layers.Bidirectional(layers.LSTM(units)),
            layers.Dense(classes, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate=2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def check_padding_is_ignored(model, ids: np.ndarray) -> float:
    """Largest change of the outputs when the padding is made much longer."""
    lengths = (ids != PAD).sum(axis=1)
    short = ids[:, : int(lengths.max())]
    longer = np.pad(short, ((0, 0), (0, 40)))
    with numnet.no_grad():
        a = model.predict_on_batch(short)
        b = model.predict_on_batch(longer)
    return float(np.abs(a - b).max())


def main(argv=None) -> dict:
    args = parse_args(argv)
    numnet.manual_seed(args.seed)
    packages = args.packages.split(",")
    texts, labels = load_docstrings(args.max_len, packages)
    order = np.random.default_rng(args.seed).permutation(len(texts))
    if args.limit is not None:
        order = order[: args.limit]
    split = int(0.8 * len(order))
    train, test = order[:split], order[split:]
    counts = collections.Counter(w for n in train for w in texts[n])
    vocabulary = {w: i + 2 for i, (w, _) in enumerate(counts.most_common(args.vocab))}
    x = encode(texts, vocabulary, args.max_len)
    lengths = (x != PAD).sum(axis=1)
    majority = np.bincount(labels[train]).max() / len(train)
    used = lengths[order]
    print(f"{len(order)} docstrings from {len(packages)} stdlib packages; lengths "
          f"{used.min()}-{used.max()} words (median {int(np.median(used))}); "
          f"vocabulary {len(vocabulary) + 2}")  # fmt: skip
    model = build(len(vocabulary) + 2, len(packages), args.units, args.max_len)
    model.to(args.device)
    start = time.perf_counter()
    model.fit(x[train], labels[train], batch_size=args.batch_size,
              epochs=args.epochs, verbose=2)  # fmt: skip
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x[test], labels[test], batch_size=256, verbose=0)
    drift = check_padding_is_ignored(model, x[test[:64]])
    print(f"test accuracy {accuracy:.4f} on {len(test)} docstrings (majority-class "
          f"baseline {majority:.4f}); training took {seconds:.1f} s")  # fmt: skip
    print(f"largest output change when 40 more padding steps are added: {drift:.2e}")
    return {"accuracy": accuracy, "baseline": majority, "padding_drift": drift}


if __name__ == "__main__":
    main()
