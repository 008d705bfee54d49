"""``TextVectorization`` (Keras 3's name and arguments): texts to token ids,
multi-hot, count or tf-idf vectors, on :class:`~numnet.layers.StringLookup`.

A text is standardised (lower-cased, punctuation stripped), split into words
(or characters), optionally joined into n-grams (``"a b"``), then looked up.
The per-text work is ``str`` methods (a loop over texts, not over tokens); the
n-grams, the lookup and the padding are vectorised over all tokens at once.

Example:
    >>> from numnet import layers
    >>> vectorize = layers.TextVectorization(output_sequence_length=4)
    >>> vectorize.adapt(["foo bar", "bar baz", "baz bada boom"])
    >>> vectorize([["foo qux bar"], ["qux baz"]]).numpy()
    array([[4, 1, 3, 0],
           [1, 2, 0, 0]])
"""

from __future__ import annotations

import numpy as np

from numnet.layers import _utils as U
from numnet.layers.categorical import (
    HostPreprocessingLayer,
    choice,
    input_data,
    refuse_true,
)
from numnet.layers.lambda_layer import LambdaNotSerializableError
from numnet.layers.lookup import StringLookup

#: Keras's DEFAULT_STRIP_REGEX: these characters are removed
PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
_STRIP = str.maketrans("", "", PUNCTUATION)
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")


def standardize(texts: np.ndarray, mode) -> np.ndarray:
    """Lower-case and/or strip Keras's punctuation from every text."""
    if mode in ("lower", "lower_and_strip_punctuation"):
        texts = np.char.lower(texts)
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        texts = np.char.translate(texts, _STRIP)
    return texts


def ngram_tokens(tokens: np.ndarray, docs: np.ndarray, widths) -> tuple:
    """The n-grams of every width in ``widths`` (tokens joined by a space),
    per document all of width ``widths[0]`` first, then the next, as Keras."""
    parts, part_docs = [], []
    for n in widths:
        start = np.arange(max(tokens.size - n + 1, 0))
        start = start[docs[start] == docs[start + n - 1]] if n > 1 else start
        gram = tokens[start]
        for k in range(1, n):
            gram = np.char.add(np.char.add(gram, " "), tokens[start + k])
        parts.append(gram)
        part_docs.append(docs[start])
    docs = np.concatenate(part_docs)
    order = np.argsort(docs, kind="stable")
    return np.concatenate(parts)[order], docs[order]


def pad_rows(values: np.ndarray, docs: np.ndarray, n_docs: int, length, fill):
    """(n_docs, length) with each document's values left-aligned, then ``fill``;
    ``length`` None: the longest document."""
    counts = np.bincount(docs, minlength=n_docs)
    length = int(counts.max(initial=0)) if length is None else length
    position = np.arange(docs.size) - np.repeat(np.cumsum(counts) - counts, counts)
    out = np.full((n_docs, length), fill, dtype=np.int64)
    keep = position < length
    out[docs[keep], position[keep]] = values[keep]
    return out


class TextVectorization(HostPreprocessingLayer):
    """Turn texts into sequences of token ids or into bag-of-words vectors.

    As Keras: the vocabulary (from ``vocabulary`` or :meth:`adapt`) starts
    with the mask ``""`` (index 0, "int" mode only) and ``"[UNK]"``; inputs are
    NumPy arrays or lists of ``str`` of shape (N,) or (N, 1).

    Args:
        max_tokens: the largest vocabulary, special tokens included.
        standardize: "lower_and_strip_punctuation" (default), "lower",
            "strip_punctuation", None, or a callable (str array -> str array;
            it cannot be saved).
        split: "whitespace" (default), "character", None (the whole text is
            one token), or a callable (str array -> a list of token lists;
            it cannot be saved).
        ngrams: None, an int n (n-grams of widths 1..n) or a tuple of widths.
        output_mode: "int" (default), "multi_hot", "count" or "tf_idf".
        output_sequence_length: "int" mode: pad with 0 or truncate every
            sequence to this length (default: the longest in the batch).
        pad_to_max_tokens: vectors of ``max_tokens`` in the encoded modes.
        vocabulary, idf_weights: a known vocabulary (a list or a file, one
            token a line) and, for "tf_idf", its idf weights.
        sparse, ragged: must be False (numnet has no sparse or ragged tensors).

    Example:
        >>> layer = TextVectorization(vocabulary=["earth", "wind", "and", "fire"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'earth', 'wind', 'and', 'fire']
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        **kwargs,
    ):
        kwargs.pop("vocabulary_size", None)  # written by get_config, as Keras
        super().__init__(**kwargs)
        owner = "TextVectorization"
        if not callable(standardize) and standardize is not None:
            choice(owner, "standardize", standardize, STANDARDIZE)
        if not callable(split) and split is not None:
            choice(owner, "split", split, SPLIT)
        self.standardize, self.split = standardize, split
        self.ngrams = self._widths(ngrams)
        self.output_mode = choice(
            owner, "output_mode", output_mode, ("int", "multi_hot", "count", "tf_idf")
        )
        if output_sequence_length is not None:
            U.positive_int(owner, "output_sequence_length", output_sequence_length)
            if self.output_mode != "int":
                raise ValueError(
                    f"{owner}: 'output_sequence_length' only works with output_mode="
                    f"'int'. Received: output_mode={output_mode!r}, "
                    f"output_sequence_length={output_sequence_length!r}"
                )
        self.output_sequence_length = output_sequence_length
        refuse_true(owner, "sparse", sparse)
        refuse_true(owner, "ragged", ragged)
        self.lookup = StringLookup(
            max_tokens=max_tokens, mask_token="", vocabulary=vocabulary,
            idf_weights=idf_weights, output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens, encoding=encoding,
        )  # fmt: skip

    @staticmethod
    def _widths(ngrams):
        if ngrams is None:
            return None
        if U._is_int(ngrams) and ngrams > 0:
            return tuple(range(1, int(ngrams) + 1))
        if (
            isinstance(ngrams, (tuple, list))
            and ngrams
            and all(U._is_int(n) and n > 0 for n in ngrams)
        ):
            return tuple(int(n) for n in ngrams)
        raise ValueError(
            "TextVectorization: invalid value for argument 'ngrams'. Expected None, "
            f"a positive int or a tuple of positive ints. Received: ngrams={ngrams!r}"
        )

    # -- the vocabulary (StringLookup's) ---------------------------------------

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The tokens by index (``""`` and ``"[UNK]"`` first in "int" mode)."""
        return self.lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, special tokens included."""
        return self.lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use a known vocabulary (and idf weights for "tf_idf")."""
        self.lookup.set_vocabulary(vocabulary, idf_weights)

    def adapt(self, data) -> None:
        """Learn the vocabulary (and idf weights) of the texts ``data``: each
        text is one document."""
        tokens, docs, n_docs = self.tokenize(input_data("TextVectorization", data))
        self.lookup.adapt_tokens(tokens, docs, n_docs)

    # -- texts to tokens to ids ------------------------------------------------

    def _texts(self, data) -> np.ndarray:
        if data.dtype.kind != "U":
            raise TypeError(
                "TextVectorization: expected texts (str, or a NumPy array of str). "
                f"Received: dtype={data.dtype}"
            )
        if data.ndim == 2 and data.shape[1] == 1:
            data = data[:, 0]
        if data.ndim > 1:
            raise ValueError(
                "TextVectorization: expected texts of shape (N,) or (N, 1). "
                f"Received: input shape={data.shape}"
            )
        return data.reshape(-1)

    def tokenize(self, data) -> tuple:
        """(tokens, the text of each token, the number of texts) of ``data``."""
        texts = self._texts(data)
        if callable(self.standardize):
            texts = np.asarray(self.standardize(texts), dtype=str).reshape(-1)
        else:
            texts = standardize(texts, self.standardize)
        if callable(self.split):
            pieces = list(self.split(texts))
        elif self.split == "whitespace":
            pieces = [t.split() for t in texts.tolist()]
        elif self.split == "character":
            pieces = [list(t) for t in texts.tolist()]
        else:
            pieces = [[t] for t in texts.tolist()]
        lengths = np.array([len(p) for p in pieces], dtype=np.int64)
        flat = [w for p in pieces for w in p]
        tokens = np.array(flat, dtype=str) if flat else np.zeros(0, "<U1")
        docs = np.repeat(np.arange(len(pieces)), lengths)
        if self.ngrams is not None:
            tokens, docs = ngram_tokens(tokens, docs, self.ngrams)
        return tokens, docs, len(pieces)

    def probe(self, zeros):
        return np.full(zeros.shape[:1], "", dtype="<U1")

    def encode(self, data):
        tokens, docs, n_docs = self.tokenize(data)
        ids = self.lookup.indices(tokens)
        if self.output_mode == "int":
            return pad_rows(ids, docs, n_docs, self.output_sequence_length, 0)
        return self.lookup.encode_ids(pad_rows(ids, docs, n_docs, None, -2))

    def get_config(self) -> dict:
        """Keras's config, the vocabulary included; a callable ``standardize``
        or ``split`` (Python code) cannot be saved."""
        for name in ("standardize", "split"):
            function = getattr(self, name)
            if callable(function):
                allowed = list(STANDARDIZE if name == "standardize" else SPLIT)
                raise LambdaNotSerializableError(
                    f"TextVectorization: layer {self.name!r} has a Python callable "
                    f"for '{name}' ({getattr(function, '__name__', function)!r}); "
                    f"numnet never serialises Python code, so it cannot be saved "
                    f"with its architecture. Use one of {allowed} "
                    f"or None, or preprocess the texts before the layer."
                )
        lookup = self.lookup.get_config()
        keys = ("max_tokens", "pad_to_max_tokens", "vocabulary", "idf_weights")
        return {
            **super().get_config(),
            "standardize": self.standardize,
            "split": self.split,
            "ngrams": None if self.ngrams is None else list(self.ngrams),
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            **{k: lookup[k] for k in keys},
            "sparse": False,
            "ragged": False,
            "encoding": self.lookup.encoding,
            "vocabulary_size": self.vocabulary_size(),
        }


__all__ = ["TextVectorization"]
