"""GloVe word vectors trained on the machine's own documentation, then debiased.

Corpus: ``/usr/share/common-licenses`` and the text under ``/usr/share/doc``
(READMEs, copyright files, gzipped changelogs), read in sorted order up to
``--limit`` characters, lower-cased and split into words. Nothing is downloaded.

GloVe (Pennington et al. 2014) fits word vectors ``w_i``, context vectors
``w~_j`` and biases to the log co-occurrence counts ``X_ij`` (counted in a
symmetric window, a pair d words apart adding 1/d), minimizing the weighted
least-squares cost of the course notes::

    J = sum_{X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
    f(x) = min(1, (x / x_max)^0.75)

with numnet tensors (``F.embedding`` gathers the rows of a minibatch of
non-zero entries) and Adagrad, as in the paper. The word vectors are
``w + w~``, saved in the GloVe text format (``numnet.text.write_word_vectors``).
It prints nearest neighbours and analogies, then *debiases* (Bolukbasi et al.,
as in the course): the gender direction g is the mean of ``e_she - e_he`` style
differences; gender-neutral words are *neutralized* (their projection on g
removed) and gendered pairs *equalized* (made symmetric about the neutral
subspace); the cosines with g are printed before and after.

Run::

    python examples/glove.py                         # full run
    python examples/glove.py --epochs 1 --limit 200000 --vocab 500
    python examples/glove.py --device cuda   # on a GPU (CuPy)
"""

from __future__ import annotations

import gzip
import os
import re
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small GEMMs: threads contend

import numpy as np  # noqa: E402
from example_cli import add_device_flag, make_parser

import numnet  # noqa: E402
import numnet.functional as F  # noqa: E402
from numnet import optimizers, text  # noqa: E402

SOURCES = (Path("/usr/share/common-licenses"), Path("/usr/share/doc"))
PAIRS = [
    ("he", "she"),
    ("his", "her"),
    ("him", "her"),
    ("himself", "herself"),
    ("man", "woman"),
    ("men", "women"),
    ("male", "female"),
]
NEUTRAL = [
    "author",
    "maintainer",
    "developer",
    "programmer",
    "user",
    "engineer",
    "translator",
    "contributor",
    "manager",
    "owner",
    "secretary",
    "student",
]
PROBES = [
    "license",
    "software",
    "bug",
    "file",
    "january",
    "python",
    "kernel",
    "monday",
    "fix",
    "copyright",
]
ANALOGIES = [
    ("january", "february", "march", "april"),
    ("monday", "tuesday", "wednesday", "thursday"),
    ("jan", "feb", "mar", "apr"),
    ("mon", "tue", "wed", "thu"),
    ("one", "two", "three", "four"),
    ("he", "his", "she", "her"),
    ("add", "added", "remove", "removed"),
    ("fix", "fixed", "update", "updated"),
    ("file", "files", "package", "packages"),
    ("bug", "bugs", "patch", "patches"),
    ("first", "second", "third", "fourth"),
    ("small", "smaller", "large", "larger"),
]


def read_corpus(limit: int) -> str:
    """Text of the license and documentation files, in sorted order, <= limit chars."""
    chunks, size = [], 0
    for root in SOURCES:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if size >= limit:
                return "".join(chunks)[:limit]
            if path.suffix in (".png", ".gif", ".jpg", ".pdf", ".html"):
                continue
            try:
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rt", encoding="utf-8", errors="replace") as f:
                    chunk = f.read(limit - size) + "\n"
            except (OSError, EOFError):
                continue
            chunks.append(chunk)
            size += len(chunk)
    return "".join(chunks)[:limit]


def tokenize(corpus: str, vocab_size: int):
    """Word ids (0..V-1 by frequency) of the corpus; rarer words become -1."""
    words = re.findall(r"[a-z]+", corpus.lower())
    tok = text.Tokenizer(num_words=vocab_size + 1, filters="")
    tok.fit_on_texts([" ".join(words)])
    vocab = [
        tok.index_word[i] for i in range(1, min(vocab_size, len(tok.index_word)) + 1)
    ]
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.array([index.get(w, -1) for w in words], dtype=np.int64)
    return ids, vocab


def cooccurrence(ids: np.ndarray, V: int, window: int):
    """Symmetric window counts X_ij (a pair d apart adds 1/d), as COO arrays."""
    from scipy import sparse

    total = sparse.csr_matrix((V, V), dtype=np.float64)
    for d in range(1, window + 1):
        left, right = ids[:-d], ids[d:]
        keep = (left >= 0) & (right >= 0)
        i, j = left[keep], right[keep]
        weights = np.full(len(i), 1.0 / d)
        block = sparse.coo_matrix((weights, (i, j)), shape=(V, V)).tocsr()
        total = total + block + block.T
    coo = total.tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data


def train_glove(
    rows, cols, counts, V, dim, epochs, batch_size, lr, x_max, seed, device="cpu"
):
    rng = np.random.default_rng(seed)
    put = numnet.device(device).put  # parameters and data live on the device
    # the paper's initialization
    init = lambda shape: put((rng.random(shape) - 0.5) / dim)  # noqa: E731
    w, w_ctx = numnet.Parameter(init((V, dim))), numnet.Parameter(init((V, dim)))
    b, b_ctx = numnet.Parameter(init((V, 1))), numnet.Parameter(init((V, 1)))
    params = [w, w_ctx, b, b_ctx]
    weight = put(np.minimum(1.0, (counts / x_max) ** 0.75).astype(np.float32))
    target = put(np.log(counts).astype(np.float32))
    rows, cols = put(rows), put(cols)
    optimizer = optimizers.Adagrad(learning_rate=lr)
    for epoch in range(epochs):
        order, total = put(rng.permutation(len(rows))), 0.0
        for start in range(0, len(order), batch_size):
            k = order[start : start + batch_size]
            i, j = rows[k], cols[k]
            dot = (F.embedding(i, w) * F.embedding(j, w_ctx)).sum(axis=1)
            bias = F.embedding(i, b)[:, 0] + F.embedding(j, b_ctx)[:, 0]
            err = dot + bias - target[k]
            loss = (weight[k] * err * err).sum()
            optimizer.zero_grad(params)
            loss.backward()
            optimizer.apply(params)
            total += loss.item()
        print(f"epoch {epoch + 1}: J = {total / len(rows):.4f} per non-zero entry")
    return numnet.backend.to_host(w.data + w_ctx.data).astype(np.float32)


def unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def neighbours(vectors, index, vocab, word, k=5):
    sims = unit(vectors) @ unit(vectors[index[word]])
    sims[index[word]] = -np.inf
    return [vocab[i] for i in np.argsort(-sims)[:k]]


def analogy(vectors, index, vocab, a, b, c, k=5):
    """Words closest to e_b - e_a + e_c (a, b, c excluded)."""
    e = unit(vectors)
    sims = e @ unit(e[index[b]] - e[index[a]] + e[index[c]])
    for w in (a, b, c):
        sims[index[w]] = -np.inf
    return [vocab[i] for i in np.argsort(-sims)[:k]]


def neutralize(e, g):
    """Remove the component of e along g: e - (e.g / |g|^2) g."""
    return e - (e @ g) / (g @ g) * g


def equalize(e1, e2, g):
    """Equalize a pair: symmetric about the neutral subspace, unit length.

    Bolukbasi et al.'s form: the bias part is ``sqrt(1 - |mu_orth|^2)`` times the
    unit vector of ``e_B - mu_B`` (the course's version divides by
    ``|e - mu_orth - mu_B|`` instead, which leaves the vectors shorter than 1).
    """
    mu = (e1 + e2) / 2
    mu_b = (mu @ g) / (g @ g) * g
    mu_orth = mu - mu_b
    scale = np.sqrt(abs(1 - mu_orth @ mu_orth))
    out = []
    for e in (e1, e2):
        e_b = (e @ g) / (g @ g) * g
        direction = (e_b - mu_b) / np.linalg.norm(e_b - mu_b)
        out.append(mu_orth + scale * direction)
    return out


def debias(vectors, index):
    e = unit(vectors.astype(np.float64))
    pairs = [(a, b) for a, b in PAIRS if a in index and b in index]
    if not pairs:
        print("debiasing: no gendered pairs in the vocabulary")
        return {}
    g = np.mean([e[index[b]] - e[index[a]] for a, b in pairs], axis=0)
    cos = lambda v: float(v @ g / np.linalg.norm(v) / np.linalg.norm(g))  # noqa: E731
    report = {}
    print(f"gender direction g from {len(pairs)} pairs; cosine with g:")
    for word in [w for w in NEUTRAL if w in index]:
        after = neutralize(e[index[word]], g)
        report[word] = (cos(e[index[word]]), cos(after))
        print(
            f"  neutralize {word:12} {report[word][0]:+.4f} -> {report[word][1]:+.4f}"
        )
    for a, b in pairs:
        ea, eb = equalize(e[index[a]], e[index[b]], g)
        report[(a, b)] = (cos(e[index[a]]), cos(e[index[b]]), cos(ea), cos(eb))
        print(
            f"  equalize   {a}/{b}: {report[(a, b)][0]:+.4f}/{report[(a, b)][1]:+.4f}"
            f" -> {cos(ea):+.4f}/{cos(eb):+.4f}"
        )
    return report


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--limit", type=int, default=30_000_000, help="corpus characters")
    p.add_argument("--vocab", type=int, default=10000)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=8192)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--x-max", type=float, default=100.0)
    p.add_argument("--out", default=os.path.join("examples", "out"))
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    times, start = {}, time.perf_counter()
    corpus = read_corpus(args.limit)
    ids, vocab = tokenize(corpus, args.vocab)
    times["read+tokenize"] = time.perf_counter() - start
    start = time.perf_counter()
    rows, cols, counts = cooccurrence(ids, len(vocab), args.window)
    times["co-occurrence"] = time.perf_counter() - start
    print(
        f"corpus: {len(corpus):,} characters, {len(ids):,} words, vocabulary "
        f"{len(vocab)}; {len(rows):,} non-zero co-occurrence entries"
    )
    start = time.perf_counter()
    vectors = train_glove(
        rows,
        cols,
        counts,
        len(vocab),
        args.dim,
        args.epochs,
        args.batch_size,
        args.lr,
        args.x_max,
        args.seed,
        args.device,
    )
    times["training"] = time.perf_counter() - start
    path = os.path.join(args.out, "glove_vectors.txt")
    os.makedirs(args.out, exist_ok=True)
    text.write_word_vectors(path, vocab, vectors)
    words, loaded = text.read_word_vectors(path)
    index = {w: i for i, w in enumerate(words)}
    print(f"saved {len(words)} vectors of size {loaded.shape[1]} to {path}")
    for word in [w for w in PROBES if w in index]:
        near = ", ".join(neighbours(loaded, index, words, word))
        print(f"  nearest to {word!r}: {near}")
    hits, tried = 0, 0
    for a, b, c, expected in ANALOGIES:
        if not all(w in index for w in (a, b, c, expected)):
            continue
        top = analogy(loaded, index, words, a, b, c)
        tried += 1
        hits += expected in top
        mark = "hit" if expected in top else "miss"
        print(f"  {a}:{b} :: {c}:? -> {', '.join(top)} ({mark}, expected {expected})")
    print(f"analogies: {hits}/{tried} with the expected word in the top 5")
    report = debias(loaded, index)
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return {
        "analogy_hits": hits,
        "analogies": tried,
        "debias": report,
        "vectors": path,
        "seconds": times["training"],
    }


if __name__ == "__main__":
    main()
