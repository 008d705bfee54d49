"""Text to integers and back: Tokenizer, pad_sequences, GloVe-format word vectors.

Index 0 is reserved for padding (``Embedding(mask_zero=True)`` masks it); with an
``oov_token`` it takes index 1 and stands for every word outside the
vocabulary. Words are numbered by decreasing frequency (ties: first seen first),
as Keras's Tokenizer does.

Example:
    >>> from numnet import text
    >>> tok = text.Tokenizer(oov_token="<unk>")
    >>> tok.fit_on_texts(["the cat sat", "the dog"])
    >>> tok.texts_to_sequences(["the bird sat"])
    [[2, 1, 4]]
    >>> text.pad_sequences([[1, 2], [3]], maxlen=3)
    array([[0, 1, 2],
           [0, 0, 3]], dtype=int32)
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

#: Keras's default punctuation filter.
DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


class Tokenizer:
    """Split texts into words (or characters) and number them by frequency.

    Args:
        num_words: keep only the ``num_words - 1`` most frequent words when
            converting (the vocabulary itself keeps all), as Keras.
        filters: characters removed before splitting (word level only).
        lower: lower-case the texts first.
        split: the word separator.
        char_level: every character is a token.
        oov_token: a token for out-of-vocabulary words (index 1); without it
            unknown words are dropped.

    Attributes:
        word_index: token -> index (from 1); index_word: the inverse.
        word_counts: token -> count in the fitted texts.
    """

    def __init__(
        self,
        num_words=None,
        filters=DEFAULT_FILTERS,
        lower=True,
        split=" ",
        char_level=False,
        oov_token=None,
    ):
        if num_words is not None and (
            not isinstance(num_words, (int, np.integer)) or num_words < 1
        ):
            raise ValueError(
                f"Tokenizer: invalid value for argument 'num_words'. Expected a "
                f"positive int or None. Received: num_words={num_words!r}"
            )
        self.num_words = num_words
        self.filters, self.lower, self.split = filters, bool(lower), split
        self.char_level, self.oov_token = bool(char_level), oov_token
        self.word_counts: Counter = Counter()
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def tokenize(self, text: str) -> list[str]:
        """The tokens of one text (lower-cased, filtered, split)."""
        if not isinstance(text, str):
            raise TypeError(
                f"Tokenizer: expected texts as str. Received: {type(text).__name__}"
            )
        if self.lower:
            text = text.lower()
        if self.char_level:
            return list(text)
        if self.filters:
            text = text.translate(str.maketrans(self.filters, " " * len(self.filters)))
        return [w for w in text.split(self.split) if w]

    def fit_on_texts(self, texts) -> None:
        """Count the tokens of ``texts`` and (re)build the vocabulary."""
        for text in _as_text_list(texts):
            self.word_counts.update(self.tokenize(text))
        ordered = sorted(self.word_counts.items(), key=lambda kv: -kv[1])  # stable
        words = [w for w, _ in ordered if w != self.oov_token]
        if self.oov_token is not None:
            words.insert(0, self.oov_token)
        self.word_index = {w: i for i, w in enumerate(words, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}

    @property
    def vocabulary_size(self) -> int:
        """The number of ids in use, padding 0 included (an Embedding's input_dim)."""
        size = len(self.word_index) + 1
        return size if self.num_words is None else min(size, self.num_words)

    def _keep(self, index) -> bool:
        return index is not None and (self.num_words is None or index < self.num_words)

    def texts_to_sequences(self, texts) -> list[list[int]]:
        """Each text as a list of token ids (OOV id or dropped for unknown tokens)."""
        if not self.word_index:
            raise ValueError("Tokenizer: call fit_on_texts() before converting texts.")
        oov = self.word_index.get(self.oov_token) if self.oov_token else None
        out = []
        for text in _as_text_list(texts):
            ids = []
            for token in self.tokenize(text):
                index = self.word_index.get(token)
                if self._keep(index):
                    ids.append(index)
                elif oov is not None:
                    ids.append(oov)
            out.append(ids)
        return out

    def sequences_to_texts(self, sequences) -> list[str]:
        """Ids back to texts (padding 0 and unknown ids skipped; joined by
        ``split``, or by nothing at character level)."""
        joiner = "" if self.char_level else self.split
        oov = self.word_index.get(self.oov_token) if self.oov_token else None
        out = []
        for seq in sequences:
            words = []
            for index in np.asarray(seq).reshape(-1).tolist():
                if self._keep(index) and index in self.index_word:
                    words.append(self.index_word[index])
                elif index != 0 and oov is not None:
                    words.append(self.oov_token)
            out.append(joiner.join(words))
        return out

    def get_config(self) -> dict:
        """JSON data: the arguments and the fitted counts (word order preserved)."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "word_counts": list(self.word_counts.items()),
        }

    @classmethod
    def from_config(cls, config: dict) -> Tokenizer:
        """Rebuild a fitted tokenizer from :meth:`get_config` output."""
        config = dict(config)
        counts = config.pop("word_counts", [])
        tok = cls(**config)
        if counts:
            tok.word_counts = Counter(dict(counts))
            tok.fit_on_texts([])
        return tok


def _as_text_list(texts) -> list:
    if isinstance(texts, str):
        raise TypeError(
            "Tokenizer: expected a list of texts. Received a single str "
            "(wrap it in a list)."
        )
    return list(texts)


def pad_sequences(
    sequences,
    maxlen=None,
    dtype="int32",
    padding="pre",
    truncating="pre",
    value=0.0,
) -> np.ndarray:
    """Pad (or cut) sequences to one length, Keras semantics.

    Args:
        sequences: a list of sequences (lists or arrays; items may be vectors).
        maxlen: the length; default the longest sequence.
        dtype: the output dtype.
        padding: "pre" or "post": where the ``value`` cells go.
        truncating: "pre" or "post": which end of a too-long sequence is dropped.
        value: the padding value.

    Returns:
        An array (len(sequences), maxlen, *item_shape).

    Raises:
        ValueError: bad ``padding``/``truncating``/``maxlen``, or items of
            different shapes.
    """
    for name, mode in (("padding", padding), ("truncating", truncating)):
        if mode not in ("pre", "post"):
            raise ValueError(
                f"pad_sequences: invalid value for argument '{name}'. Expected "
                f"'pre' or 'post'. Received: {name}={mode!r}"
            )
    arrays = [np.asarray(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(a) for a in arrays), default=0)
    elif not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(
            f"pad_sequences: invalid value for argument 'maxlen'. Expected a "
            f"non-negative int or None. Received: maxlen={maxlen!r}"
        )
    item_shapes = {a.shape[1:] for a in arrays if len(a)}
    if len(item_shapes) > 1:
        raise ValueError(
            f"pad_sequences: all items must have the same shape. Received item "
            f"shapes {sorted(item_shapes)}"
        )
    item_shape = item_shapes.pop() if item_shapes else ()
    out = np.full((len(arrays), maxlen, *item_shape), value, dtype=dtype)
    for i, a in enumerate(arrays):
        if not len(a) or not maxlen:
            continue
        kept = a[-maxlen:] if truncating == "pre" else a[:maxlen]
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, -len(kept) :] = kept
    return out


def read_word_vectors(path, limit=None, dtype="float32", max_dim=100_000):
    """Read GloVe's text format: one ``word v1 v2 ... vd`` line per word.

    Args:
        path: the file.
        limit: read at most this many words (the file's first, most frequent).
        dtype: the vectors' dtype.
        max_dim: refuse lines with more values (a crafted file cannot exhaust
            memory through one line).

    Returns:
        ``(words, vectors)``: a list of str and a (len(words), d) array.

    Raises:
        ValueError: naming the line, on a malformed line or a dimension change.
    """
    words, rows, dim = [], [], None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if limit is not None and len(words) >= limit:
                break
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if len(parts) < 2 or len(parts) - 1 > max_dim:
                raise ValueError(
                    f"read_word_vectors: {path}:{number}: expected 'word v1 ... vd' "
                    f"with 1 <= d <= {max_dim}. Received {len(parts)} fields"
                )
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise ValueError(
                    f"read_word_vectors: {path}:{number}: {len(parts) - 1} values, "
                    f"but the first line has {dim}"
                )
            try:
                rows.append(np.asarray(parts[1:], dtype=dtype))
            except ValueError:
                raise ValueError(
                    f"read_word_vectors: {path}:{number}: non-numeric values "
                    f"for {parts[0]!r}"
                ) from None
            words.append(parts[0])
    vectors = np.stack(rows) if rows else np.zeros((0, 0), dtype=dtype)
    return words, vectors


def write_word_vectors(path, words, vectors, precision: int = 6) -> None:
    """Write ``words`` and their ``vectors`` in GloVe's text format, atomically.

    The file is written beside ``path`` and renamed over it, so a failure never
    leaves a truncated file in place of the previous one.

    Raises:
        ValueError: when counts differ or a word contains whitespace.
    """
    vectors = np.asarray(vectors)
    words = list(words)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(
            f"write_word_vectors: expected one row of a 2-D array per word. "
            f"Received {len(words)} words and vectors of shape {vectors.shape}"
        )
    bad = [w for w in words if not w or any(c.isspace() for c in w)]
    if bad:
        raise ValueError(
            f"write_word_vectors: words must be non-empty and contain no "
            f"whitespace. Received: {bad[:5]}"
        )
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for word, row in zip(words, vectors, strict=True):
                f.write(word + " " + " ".join(f"{v:.{precision}g}" for v in row) + "\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def embedding_matrix(word_index: dict, words, vectors, dtype="float32") -> np.ndarray:
    """Rows of ``vectors`` arranged by a tokenizer's ``word_index`` (for Embedding).

    Row 0 (padding) and words without a vector are zeros.

    Shape:
        -> (max(word_index.values()) + 1, d)
    """
    vectors = np.asarray(vectors)
    lookup = {w: i for i, w in enumerate(words)}
    size = max(word_index.values(), default=0) + 1
    out = np.zeros((size, vectors.shape[1]), dtype=dtype)
    for word, index in word_index.items():
        row = lookup.get(word)
        if row is not None:
            out[index] = vectors[row]
    return out
