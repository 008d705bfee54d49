"""Vocabulary lookup layers (Keras names and arguments): ``StringLookup`` and
``IntegerLookup``, on the shared :class:`~numnet.layers.index_lookup.IndexLookup`
(the numbering, ``adapt``, the vectorised lookups and the output modes).

Example:
    >>> from numnet import layers
    >>> layer = layers.IntegerLookup(vocabulary=[7, 3])
    >>> layer([[3, 7, 5]]).numpy().tolist()
    [[2, 1, 0]]
"""

from __future__ import annotations

from numnet.layers.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Map strings to integer indices (or, ``invert=True``, indices to strings).

    As Keras: index 0 is the OOV token ``"[UNK]"`` (or the mask token, when
    ``mask_token`` is set, then OOV at 1); the vocabulary follows. ``adapt``
    learns it by frequency. Inputs: a NumPy array or (nested) list of ``str``;
    inverted outputs are NumPy ``str`` arrays.

    Args:
        max_tokens: the largest vocabulary size, special tokens included.
        num_oov_indices: indices for unknown strings (0: unknown strings raise;
            more than 1: spread by a CRC32 hash, where Keras uses FarmHash).
        mask_token: a token that maps to index 0 (None: no mask).
        oov_token: the token ``invert`` returns for OOV indices.
        vocabulary: a list, array or text file (one token a line).
        idf_weights: with ``output_mode="tf_idf"`` and a vocabulary.
        invert: map indices to strings.
        output_mode: "int" (int64 indices), "one_hot", "multi_hot", "count" or
            "tf_idf" (float vectors of ``vocabulary_size()`` or, with
            ``pad_to_max_tokens``, ``max_tokens``).
        pad_to_max_tokens: pad encoded vectors to ``max_tokens``.
        sparse: must be False (numnet has no sparse tensors).

    Example:
        >>> layer = StringLookup()
        >>> layer.adapt([["a", "c", "d"], ["d", "z", "b"]])
        >>> layer.get_vocabulary()
        ['[UNK]', 'd', 'z', 'c', 'b', 'a']
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token="[UNK]", vocabulary=None, idf_weights=None,
                 invert=False, output_mode="int", pad_to_max_tokens=False,
                 sparse=False, encoding="utf-8", **kwargs):  # fmt: skip
        if encoding != "utf-8":
            raise ValueError(
                "StringLookup: invalid value for argument 'encoding'. numnet strings "
                f"are Python str: expected 'utf-8'. Received: encoding={encoding!r}"
            )
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         vocabulary, idf_weights, invert, output_mode,
                         pad_to_max_tokens, sparse, **kwargs)  # fmt: skip

    def get_config(self) -> dict:
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Map integers to contiguous indices (or back, ``invert=True``).

    As Keras: by default no mask token and the OOV token ``-1`` at index 0;
    the vocabulary follows. Inputs are integer arrays (any device: the output
    comes back to it). Arguments as :class:`StringLookup` (``num_oov_indices >
    1`` spreads unknown values by ``value % num_oov_indices``).

    Example:
        >>> import numpy as np
        >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).numpy().tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _kind = "int"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token=-1, vocabulary=None, vocabulary_dtype="int64",
                 idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, **kwargs):  # fmt: skip
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(
                "IntegerLookup: invalid value for argument 'vocabulary_dtype'. "
                f"Expected 'int64' or 'int32'. Received: {vocabulary_dtype!r}"
            )
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         vocabulary, idf_weights, invert, output_mode,
                         pad_to_max_tokens, sparse, **kwargs)  # fmt: skip

    def get_config(self) -> dict:
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}


__all__ = ["IntegerLookup", "StringLookup"]
