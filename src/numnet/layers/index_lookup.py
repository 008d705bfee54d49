"""The vocabulary lookup shared by ``StringLookup`` and ``IntegerLookup``
(``layers/lookup.py``): :class:`IndexLookup`.

The vocabulary is numbered as Keras numbers it: the mask token (if any) at 0,
then ``num_oov_indices`` out-of-vocabulary indices, then the tokens; ``adapt``
orders the tokens by decreasing frequency, ties by decreasing token (Keras's
``np.lexsort`` order). Lookups run on the host, vectorised: one dict lookup per
*distinct* value (``np.unique(..., return_inverse=True)``), never a Python loop
over the elements of a batch. Integer inputs on a device go to the host and
the result comes back to that device.

Example:
    >>> from numnet import layers
    >>> layer = layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy().tolist()
    [[1, 3, 4], [4, 0, 2]]
"""

from __future__ import annotations

import zlib

import numpy as np

from numnet import backend
from numnet.backend.device import device_of
from numnet.layers import _utils as U
from numnet.layers.categorical import (
    ENCODINGS,
    HostPreprocessingLayer,
    choice,
    encode,
    input_data,
    refuse_true,
)

LOOKUP_MODES = ("int", *ENCODINGS, "tf_idf")


def frequency_order(tokens: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices of ``tokens`` by decreasing count, ties by decreasing token (Keras)."""
    return np.lexsort((tokens, counts))[::-1]


def document_counts(token_ids: np.ndarray, doc_ids: np.ndarray, n: int) -> np.ndarray:
    """How many distinct documents hold each of the ``n`` tokens."""
    pairs = np.unique(np.stack([doc_ids, token_ids]), axis=1)
    return np.bincount(pairs[1], minlength=n)


class IndexLookup(HostPreprocessingLayer):
    """Map tokens to indices (or back, ``invert=True``); the base of
    :class:`StringLookup` and :class:`IntegerLookup` (see them for the
    arguments)."""

    _kind = "str"  # what the subclass looks up: "str" or "int"

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.max_tokens = None if max_tokens is None else U.positive_int(
            owner, "max_tokens", max_tokens)  # fmt: skip
        if not U._is_int(num_oov_indices) or num_oov_indices < 0:
            raise ValueError(
                f"{owner}: invalid value for argument 'num_oov_indices'. Expected an "
                f"int >= 0. Received: num_oov_indices={num_oov_indices!r}"
            )
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = self._token(mask_token, "mask_token")
        self.oov_token = self._token(oov_token, "oov_token")
        self.invert = U.boolean(owner, "invert", invert)
        self.output_mode = choice(owner, "output_mode", output_mode, LOOKUP_MODES)
        if self.invert and self.output_mode != "int":
            raise ValueError(
                f"{owner}: invert=True only works with output_mode='int'. Received: "
                f"output_mode={output_mode!r}"
            )
        self.pad_to_max_tokens = U.boolean(
            owner, "pad_to_max_tokens", pad_to_max_tokens
        )
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(
                f"{owner}: pad_to_max_tokens=True needs 'max_tokens'. Received: "
                "max_tokens=None"
            )
        refuse_true(owner, "sparse", sparse)
        self._tokens, self._idf, self._index = [], None, {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{owner}: 'idf_weights' needs a 'vocabulary'.")

    # -- the vocabulary ---------------------------------------------------------

    def _token(self, value, name):
        if value is None:
            return None
        ok = isinstance(value, str) if self._kind == "str" else U._is_int(value)
        if not ok:
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument '{name}'. Expected "
                f"{'a str' if self._kind == 'str' else 'an int'} or None. Received: "
                f"{name}={value!r}"
            )
        return value if self._kind == "str" else int(value)

    @property
    def _start(self) -> int:
        """The index of the first real token (after the mask and OOV indices)."""
        return self._masks + self.num_oov_indices

    @property
    def _masks(self) -> bool:
        """Whether the mask token has index 0: in "int" mode (Keras: in the other
        modes it is not in the vocabulary and masked inputs are dropped)."""
        return self.mask_token is not None and self.output_mode == "int"

    def _specials(self) -> list:
        mask = [self.mask_token] if self._masks else []
        return mask + [self.oov_token] * self.num_oov_indices

    def _as_tokens(self, values, name: str) -> list:
        """A vocabulary (list, array, or a text file's path for strings) as tokens."""
        owner = type(self).__name__
        if isinstance(values, str):
            with open(values, encoding="utf-8") as f:
                values = f.read().splitlines()
        array = backend.to_host(input_data(owner, values)).reshape(-1)
        kind = "U" if self._kind == "str" else "iu"
        if array.size and array.dtype.kind not in kind:
            raise TypeError(
                f"{owner}: invalid value for argument '{name}'. Expected "
                f"{'strings' if self._kind == 'str' else 'integers'}. Received "
                f"dtype={array.dtype}"
            )
        return [str(v) if self._kind == "str" else int(v) for v in array.tolist()]

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use ``vocabulary`` (a list, an array, or for strings a file with one
        token a line); leading special tokens are recognised and skipped.
        ``idf_weights``: one per token (``output_mode="tf_idf"`` only)."""
        owner = type(self).__name__
        tokens = self._as_tokens(vocabulary, "vocabulary")
        specials = self._specials()
        if tokens[: len(specials)] == specials and specials:
            tokens = tokens[len(specials) :]
        taken = {self.mask_token, self.oov_token} - {None}
        bad = sorted({str(t) for t in tokens if t in taken})
        if bad or len(set(tokens)) != len(tokens):
            problem = f"special tokens {bad}" if bad else "repeated tokens"
            raise ValueError(
                f"{owner}: invalid value for argument 'vocabulary'. Expected distinct "
                f"tokens, the mask and OOV tokens only first. Received {problem}"
            )
        if self.max_tokens is not None and len(tokens) + self._start > self.max_tokens:
            raise ValueError(
                f"{owner}: the vocabulary holds {len(tokens) + self._start} tokens "
                f"(special tokens included), more than max_tokens={self.max_tokens}"
            )
        self._set(tokens, self._idf_array(idf_weights, len(tokens)))

    def _idf_array(self, idf_weights, n: int):
        owner = type(self).__name__
        if (idf_weights is None) != (self.output_mode != "tf_idf"):
            raise ValueError(
                f"{owner}: 'idf_weights' must be given exactly when output_mode="
                f"'tf_idf'. Received: output_mode={self.output_mode!r}, idf_weights="
                f"{'None' if idf_weights is None else 'given'}"
            )
        if idf_weights is None:
            return None
        idf = np.asarray(backend.to_host(input_data(owner, idf_weights)), np.float64)
        if idf.shape == (n + self._start,):  # weights of the special tokens given
            idf = idf[self._start :]
        if idf.shape != (n,):
            raise ValueError(
                f"{owner}: expected one idf weight per token ({n}). Received: "
                f"idf_weights of shape {idf.shape}"
            )
        return idf

    def _set(self, tokens: list, idf) -> None:
        self._tokens, self._idf = tokens, idf
        self._index = {t: i + self._start for i, t in enumerate(tokens)}

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The tokens by index (the mask and OOV tokens first, unless excluded)."""
        return (self._specials() if include_special_tokens else []) + list(self._tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, special tokens included."""
        return self._start + len(self._tokens)

    @property
    def idf_weights(self):
        """The idf weight of every index (mask 0, OOV the mean), or None."""
        if self._idf is None:
            return None
        oov = [float(np.mean(self._idf))] if self._idf.size else [0.0]
        front = [0.0] * self._masks + oov * self.num_oov_indices
        return np.concatenate([front, self._idf])

    def adapt(self, data) -> None:
        """Learn the vocabulary (and idf weights) of ``data``: an array or a
        (nested) list; each row of a 2-D input, each element of a 1-D input,
        is one document."""
        array = backend.to_host(
            self._check_input(input_data(type(self).__name__, data))
        )
        array = array.reshape(1) if array.ndim == 0 else array
        docs = array.reshape(array.shape[0], -1) if array.ndim > 1 else array[:, None]
        doc_ids = np.repeat(np.arange(docs.shape[0]), docs.shape[1])
        self.adapt_tokens(docs.reshape(-1), doc_ids, docs.shape[0])

    def adapt_tokens(self, tokens: np.ndarray, doc_ids: np.ndarray, n_docs: int):
        """Learn from a flat token array and the document of each token."""
        keep = np.ones(tokens.shape, bool)
        for special in {self.mask_token, self.oov_token} - {None}:
            keep &= tokens != special
        tokens, doc_ids = tokens[keep], doc_ids[keep]
        uniq, inverse, counts = np.unique(
            tokens, return_inverse=True, return_counts=True
        )
        order = frequency_order(uniq, counts)
        if self.max_tokens is not None:
            order = order[: max(self.max_tokens - self._start, 0)]
        idf = None
        if self.output_mode == "tf_idf":
            df = document_counts(inverse.reshape(-1), doc_ids, uniq.size)[order]
            idf = np.log(1 + n_docs / (1 + df))
        self._set([t.item() for t in uniq[order]], idf)

    # -- the lookup -------------------------------------------------------------

    def _check_input(self, data):
        owner = type(self).__name__
        if self.invert or self._kind == "int":
            if data.dtype.kind not in "iu":
                what = "indices" if self.invert else "inputs"
                raise TypeError(
                    f"{owner}: expected integer {what}. Received: dtype={data.dtype}"
                )
        elif data.dtype.kind not in "U":
            raise TypeError(
                f"{owner}: expected string inputs (str, or a NumPy array of str). "
                f"Received: dtype={data.dtype}"
            )
        return data

    def probe(self, zeros):
        if self.invert or self._kind == "int":
            return zeros.astype(np.int64)
        return np.full(zeros.shape, "", dtype="<U1")

    def _oov_index(self, values: np.ndarray) -> np.ndarray:
        offset = int(self._masks)
        if self.num_oov_indices == 1:
            return np.full(values.shape, offset, np.int64)
        if self._kind == "str":  # a deterministic hash (Keras uses FarmHash)
            hashes = [zlib.crc32(v.encode("utf-8")) for v in values.tolist()]
            return offset + np.asarray(hashes, np.int64) % self.num_oov_indices
        return offset + values.astype(np.int64) % self.num_oov_indices

    def indices(self, values: np.ndarray) -> np.ndarray:
        """The index of every element of the host array ``values``."""
        uniq, inverse = np.unique(values.reshape(-1), return_inverse=True)
        found = np.asarray([self._index.get(u, -1) for u in uniq.tolist()], np.int64)
        if self.mask_token is not None:  # index 0, or dropped (-2) when encoding
            found[uniq == self.mask_token] = 0 if self._masks else -2
        missing = found == -1
        if missing.any():
            if self.num_oov_indices == 0:
                raise KeyError(
                    f"{type(self).__name__}: num_oov_indices=0 but the input holds "
                    f"values outside the vocabulary, e.g. {uniq[missing][0]!r}"
                )
            found[missing] = self._oov_index(uniq[missing])
        return found[inverse.reshape(-1)].reshape(values.shape)

    def _tokens_of(self, ids: np.ndarray) -> np.ndarray:
        vocab = np.asarray(self.get_vocabulary())
        fill = self.oov_token if self.oov_token is not None else self.mask_token
        inside = (ids >= 0) & (ids < vocab.size)
        out = vocab[np.where(inside, ids, 0)]
        return np.where(inside, out, fill)

    def encode(self, data):
        data = self._check_input(data)
        where = device_of(data)
        host = backend.to_host(data)
        if self.invert:
            out = self._tokens_of(host.astype(np.int64))
        else:
            out = self.indices(host)
            out = out if self.output_mode == "int" else self.encode_ids(out)
        return where.put(out) if self._kind == "int" else out  # back to its device

    def encode_ids(self, ids: np.ndarray) -> np.ndarray:
        """Indices to one-hot, multi-hot, count or tf-idf vectors (Keras: a
        rank-1 input is a batch of single tokens, except for one_hot)."""
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if ids.ndim == 1 and self.output_mode != "one_hot":
            ids = ids[:, None]
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        ids = np.where(ids == -2, depth, ids)  # masked inputs: a column cut off
        out = encode(type(self).__name__, ids, depth + 1, mode, backend.floatx())
        out = out[..., :depth]
        if self.output_mode == "tf_idf":
            idf = np.zeros(depth)
            idf[: self.vocabulary_size()] = self.idf_weights
            out *= idf.astype(out.dtype)
        return out

    def get_config(self) -> dict:
        idf = None if self._idf is None else self._idf.tolist()
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "mask_token": self.mask_token,
            "oov_token": self.oov_token,
            "vocabulary": list(self._tokens) or None,
            "idf_weights": idf,
            "invert": self.invert,
            "output_mode": self.output_mode,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": False,
        }
