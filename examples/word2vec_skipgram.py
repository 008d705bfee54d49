"""Word embeddings: skip-gram with negative sampling on a real offline corpus.

Corpus: the docstrings of the Python standard library and of NumPy, SciPy and
Matplotlib (numnet's own dependencies, so always installed): about 1.4 million
words of English technical prose. Paragraphs are lower-cased and split into
words; words seen fewer than ``--min-count`` times are dropped.

Skip-gram (Mikolov et al., 2013): every word c predicts the words o around it
(a random window of 1..``--window`` on each side). With negative sampling, each
(c, o) pair is a binary classification against K words drawn from the unigram
distribution raised to 3/4:

    loss = -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c)

v (input vectors) and u (output vectors) are two (V, D) matrices, looked up with
``F.embedding`` (scatter-add backward) and trained with Adam. Frequent words
are subsampled (keep probability (sqrt(f/t) + 1) t / f, t = 1e-4).

Then: nearest neighbours and analogies "a is to b as c is to ?" by cosine
similarity (3CosAdd: argmax cos(x, b - a + c)), and a paragraph classifier
(which library does this docstring paragraph come from?) whose ``Embedding``
layer starts from these vectors and is frozen (``trainable=False``), compared
with the same classifier on frozen random vectors.

Run:  nice -n 5 python examples/word2vec_skipgram.py [--epochs 3] [--limit N]
      [--device cuda]
"""

from __future__ import annotations

import collections
import importlib.util
import pathlib
import re
import sysconfig
import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
import numnet.functional as F
from numnet import layers, optimizers
from numnet.models import Sequential

SOURCES = ("stdlib", "numpy", "scipy", "matplotlib")
_DOCSTRING = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'', re.S)
_WORD = re.compile(r"[a-z]+")

NEIGHBOUR_QUERIES = [
    "array",
    "read",
    "true",
    "integer",
    "matrix",
    "file",
    "minimum",
    "server",
    "sparse",
    "color",
    "eigenvalues",
]
ANALOGIES = [
    ("read", "write", "reading", "writing"), ("row", "rows", "column", "columns"),
    ("min", "max", "minimum", "maximum"), ("input", "output", "inputs", "outputs"),
    ("encode", "decode", "encoder", "decoder"), ("open", "close", "opening", "closing"),
    ("file", "files", "directory", "directories"),
    ("server", "client", "servers", "clients"), ("first", "last", "start", "end"),
    ("x", "y", "width", "height"), ("int", "integer", "float", "floating"),
    ("sin", "cos", "sine", "cosine"), ("lower", "upper", "lowercase", "uppercase"),
    ("send", "receive", "sending", "receiving"), ("add", "remove", "added", "removed"),
    ("mean", "median", "means", "medians"), ("key", "value", "keys", "values"),
    ("horizontal", "vertical", "x", "y"), ("encode", "encoding", "decode", "decoding"),
    ("compress", "decompress", "compression", "decompression"),
]  # fmt: skip


def source_roots() -> list[tuple[str, pathlib.Path]]:
    """(source name, directory) of the standard library and the three packages."""
    roots = [("stdlib", pathlib.Path(sysconfig.get_paths()["stdlib"]))]
    for name in SOURCES[1:]:
        roots.append((name, pathlib.Path(importlib.util.find_spec(name).origin).parent))
    return roots


def load_corpus(min_words: int = 3):
    """Paragraphs of docstrings: (list of word lists, source ids, file ids)."""
    paragraphs, sources, files = [], [], []
    file_id = 0
    for source, root in source_roots():
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).parts
            if "site-packages" in parts or {"test", "tests"} & set(parts):
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            for match in _DOCSTRING.finditer(text):
                for para in (match.group(1) or match.group(2)).lower().split("\n\n"):
                    words = _WORD.findall(para)
                    if len(words) >= min_words:
                        paragraphs.append(words)
                        sources.append(SOURCES.index(source))
                        files.append(file_id)
            file_id += 1
    return paragraphs, np.array(sources), np.array(files)


def build_vocab(paragraphs, min_count: int):
    """Words seen >= min_count times (single letters dropped), most frequent first."""
    counts = collections.Counter(w for p in paragraphs for w in p)
    vocab = [w for w, c in counts.most_common() if c >= min_count and len(w) > 1]
    return vocab, {w: i for i, w in enumerate(vocab)}


def encode(paragraphs, index):
    """Flat token ids and the paragraph id of each token (windows stay inside)."""
    ids = [[index[w] for w in p if w in index] for p in paragraphs]
    lengths = np.array([len(t) for t in ids])
    flat = np.fromiter((i for t in ids for i in t), dtype=np.int64, count=lengths.sum())
    return flat, np.repeat(np.arange(len(ids)), lengths), ids


def skipgram_pairs(ids, para, keep_prob, window, rng):
    """(center, context) pairs after subsampling, with dynamic windows; shuffled."""
    keep = rng.random(ids.size) < keep_prob[ids]
    x, p = ids[keep], para[keep]
    reach = rng.integers(1, window + 1, size=x.size)  # the window of each center
    centers, contexts = [], []
    for off in range(1, window + 1):  # one vectorized pass per offset
        same = p[:-off] == p[off:]
        right = same & (reach[:-off] >= off)  # center i, context i + off
        left = same & (reach[off:] >= off)  # center i + off, context i
        centers += [x[:-off][right], x[off:][left]]
        contexts += [x[off:][right], x[:-off][left]]
    c, o = np.concatenate(centers), np.concatenate(contexts)
    order = rng.permutation(c.size)
    return c[order], o[order]


def train_skipgram(ids, para, vocab_size, args, rng):
    """Train the two embedding matrices; return the input vectors v (V, D)."""
    dim, k = args.dim, args.negatives
    freq = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    f = freq / freq.sum()
    keep_prob = np.minimum(1.0, (np.sqrt(f / 1e-4) + 1) * 1e-4 / f)
    noise_cdf = np.cumsum(freq**0.75 / np.sum(freq**0.75))
    put = numnet.device(args.device).put  # the vectors and each batch live there
    v = numnet.Parameter(
        put(((rng.random((vocab_size, dim)) - 0.5) / dim).astype(np.float32)),
        name="v",
    )
    u = numnet.Parameter(put(np.zeros((vocab_size, dim), np.float32)), name="u")
    optimizer = optimizers.Adam(args.learning_rate)
    for epoch in range(args.epochs):
        start, total, steps = time.perf_counter(), 0.0, 0
        centers, contexts = skipgram_pairs(ids, para, keep_prob, args.window, rng)
        on_device = put(centers), put(contexts)
        for s in range(0, centers.size, args.batch_size):
            c, o = (a[s : s + args.batch_size] for a in on_device)
            neg = np.searchsorted(noise_cdf, rng.random((c.size, k)))
            neg = put(np.minimum(neg, vocab_size - 1))  # guard the cdf's rounding
            vc = F.embedding(c, v)  # (B, D)
            positive = F.sum(vc * F.embedding(o, u), axis=-1)  # u_o . v_c
            negative = F.sum(F.reshape(vc, (c.size, 1, dim)) * F.embedding(neg, u), -1)
            # -log sigmoid(s) = softplus(-s);  -log sigmoid(-s) = softplus(s)
            loss = F.mean(F.softplus(-positive)) + F.mean(
                F.sum(F.softplus(negative), -1)
            )
            v.grad = u.grad = None
            loss.backward()
            optimizer.apply([v, u])
            total, steps = total + float(loss.data), steps + 1
        print(
            f"epoch {epoch + 1}/{args.epochs}: {centers.size} pairs, loss "
            f"{total / max(steps, 1):.4f}, {time.perf_counter() - start:.0f} s"
        )
        optimizer.learning_rate = optimizer.learning_rate * 0.5
    return numnet.backend.to_host(v.data)


def unit_rows(m: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity becomes a dot product)."""
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-8)


def neighbours(unit, vocab, index, word, k=6):
    """The k words of highest cosine similarity with ``word``."""
    sims = unit @ unit[index[word]]
    sims[index[word]] = -np.inf
    return [vocab[i] for i in np.argsort(-sims)[:k]]


def analogy(unit, vocab, index, a, b, c, k=5):
    """3CosAdd: the k words x maximising cos(x, b - a + c), a, b and c excluded."""
    sims = unit @ (unit[index[b]] - unit[index[a]] + unit[index[c]])
    sims[[index[a], index[b], index[c]]] = -np.inf
    return [vocab[i] for i in np.argsort(-sims)[:k]]


def evaluate_analogies(unit, vocab, index) -> tuple[int, int, int]:
    """Print each analogy; return (top-1 hits, top-5 hits, questions asked)."""
    top1 = top5 = asked = 0
    for a, b, c, d in ANALOGIES:
        if not all(w in index for w in (a, b, c, d)):
            continue
        guesses = analogy(unit, vocab, index, a, b, c)
        asked, top1, top5 = asked + 1, top1 + (guesses[0] == d), top5 + (d in guesses)
        mark = "ok " if guesses[0] == d else ("top5" if d in guesses else "    ")
        print(f"  [{mark}] {a}:{b} :: {c}:? -> {', '.join(guesses)}  (want {d})")
    return top1, top5, asked


def paragraph_classifier(vectors: np.ndarray, length: int) -> Sequential:
    """Frozen Embedding -> mean over words -> Dense -> softmax over the sources."""
    return Sequential([
        layers.Embedding(vectors.shape[0], vectors.shape[1], weights=[vectors],
                         trainable=False, input_shape=(length,), name="embedding"),
        layers.Lambda(lambda e: F.mean(e, axis=1), name="mean_over_words"),
        layers.Dense(64, activation="relu"),
        layers.Dense(len(SOURCES), activation="softmax"),
    ])  # fmt: skip


def classify_paragraphs(ids, sources, files, unit, args, rng) -> dict:
    """Test accuracy of the frozen-embedding classifier: word2vec vs random vectors."""
    long_enough = np.array([len(t) >= 5 for t in ids])
    x = np.zeros((len(ids), args.length), np.int64)  # id 0 is the padding row
    for i, t in enumerate(ids):
        x[i, : min(len(t), args.length)] = np.asarray(t[: args.length]) + 1
    test_file = rng.random(files.max() + 1) < 0.2  # split by file: no leakage
    train = long_enough & ~test_file[files]
    test = long_enough & test_file[files]
    padded = np.vstack([np.zeros((1, unit.shape[1]), np.float32), unit])
    random = unit_rows(rng.normal(size=padded.shape)).astype(np.float32)
    random[0] = 0
    out = {
        "majority": float(
            np.mean(sources[test] == np.bincount(sources[train]).argmax())
        )
    }
    for name, vectors in (("word2vec (frozen)", padded), ("random (frozen)", random)):
        numnet.manual_seed(args.seed)
        model = paragraph_classifier(vectors.astype(np.float32), args.length)
        model.compile(
            optimizer=optimizers.Adam(3e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.to(args.device)
        model.fit(
            x[train], sources[train], batch_size=128, epochs=args.clf_epochs, verbose=0
        )
        frozen = np.array_equal(model.layers[0].get_weights()[0], vectors)
        _, accuracy = model.evaluate(x[test], sources[test], verbose=0)
        out[name] = float(accuracy)
        print(
            f"  {name:<18s} test accuracy {accuracy:.4f} (embedding unchanged: "
            f"{frozen})"
        )
    print(
        f"  majority class     test accuracy {out['majority']:.4f} "
        f"({train.sum()} training, {test.sum()} test paragraphs)"
    )
    return out


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="keep a random subset of about this many words",
    )
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--learning-rate", type=float, default=0.005)
    parser.add_argument("--length", type=int, default=32, help="words per paragraph")
    parser.add_argument("--clf-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    paragraphs, sources, files = load_corpus()
    if args.limit is not None:
        share = min(1.0, args.limit / sum(len(p) for p in paragraphs))
        keep = np.flatnonzero(rng.random(len(paragraphs)) < share)
        paragraphs = [paragraphs[i] for i in keep]
        sources, files = sources[keep], files[keep]
    vocab, index = build_vocab(paragraphs, args.min_count)
    flat, para, ids = encode(paragraphs, index)
    print(
        f"corpus: {len(paragraphs)} paragraphs, {flat.size} words, vocabulary "
        f"{len(vocab)} ({time.perf_counter() - start:.0f} s to read)"
    )
    unit = unit_rows(train_skipgram(flat, para, len(vocab), args, rng))

    print("nearest neighbours (cosine):")
    for word in (w for w in NEIGHBOUR_QUERIES if w in index):
        print(f"  {word:<12s} {', '.join(neighbours(unit, vocab, index, word))}")
    print("analogies a:b :: c:? (3CosAdd):")
    top1, top5, asked = evaluate_analogies(unit, vocab, index)
    print(f"analogies: {top1}/{asked} top-1, {top5}/{asked} top-5")
    print("paragraph source classifier (stdlib / numpy / scipy / matplotlib):")
    scores = classify_paragraphs(ids, sources, files, unit, args, rng)
    return {"analogies": (top1, top5, asked), "vocab": len(vocab), **scores}


if __name__ == "__main__":
    main()
