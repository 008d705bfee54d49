"""Sequence plumbing layers: RepeatVector and Permute (Keras names)."""

from __future__ import annotations

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer


class RepeatVector(Layer):
    """Repeat each (N, D) sample ``n`` times along a new time axis.

    Used to feed one encoding to every step of a decoder.

    Shape:
        input: (N, D); output: (N, n, D).
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = U.positive_int("RepeatVector", "n", n)

    def call(self, x):
        U.check_input(self, x.shape, ndim=2)
        return F.broadcast_to(F.unsqueeze(x, 1), (x.shape[0], self.n, x.shape[1]))

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Permute the non-batch axes; ``dims`` is 1-based as in Keras.

    ``Permute((2, 1))`` swaps the time and feature axes of (N, T, D).

    Shape:
        input: (N, d1, ..., dk); output: (N, d_dims[0], ..., d_dims[k-1]).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(dims, (tuple, list)) and all(U._is_int(d) for d in dims)
        if not ok or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Permute: invalid value for argument 'dims'. Expected a permutation "
                f"of 1..k (1-based, the batch axis excluded). Received: dims={dims!r}"
            )
        self.dims = tuple(int(d) for d in dims)

    def call(self, x):
        U.check_input(self, x.shape, ndim=len(self.dims) + 1)
        return F.transpose(x, (0, *self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": list(self.dims)}
