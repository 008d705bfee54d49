"""Embedding (integer ids -> dense vectors) and Masking (skip padded time steps).

Both layers can produce a mask: a bool ndarray (N, T) attached to their output
Tensor as ``_keras_mask`` (True = a real step). Recurrent layers, Bidirectional
and TimeDistributed read it; layers that do not support masks ignore it.

Example:
    >>> import numpy as np, numnet
    >>> from numnet import layers
    >>> numnet.manual_seed(0)
    >>> emb = layers.Embedding(10, 4, mask_zero=True)
    >>> y = emb(np.array([[3, 1, 0, 0], [5, 0, 0, 0]]))
    >>> y.shape
    (2, 4, 4)
    >>> y._keras_mask
    array([[ True,  True, False, False],
           [ True, False, False, False]])
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import backend, initializers
from numnet.autograd.tensor import Tensor
from numnet.layers import _utils as U
from numnet.layers.base import Layer


def _embeddings_initializer(value):
    # Keras's "uniform" alias is RandomUniform(-0.05, 0.05)
    if value == "uniform":
        return initializers.RandomUniform(-0.05, 0.05)
    return value


class Embedding(Layer):
    """Map integer ids in [0, input_dim) to rows of an (input_dim, output_dim) matrix.

    The backward pass scatter-adds the output gradients into the used rows (no
    dense one-hot matrix; see ``numnet.functional.embedding``).

    Args:
        input_dim: the vocabulary size V (largest id + 1).
        output_dim: the embedding size E.
        embeddings_initializer: default "uniform", i.e. U(-0.05, 0.05) (Keras).
        embeddings_regularizer, embeddings_constraint: as in Keras.
        mask_zero: treat id 0 as padding: the output carries the mask
            ``ids != 0`` (then id 0 must not be a real token).
        weights: optional ``[matrix]`` of shape (V, E) to start from (e.g.
            pretrained word vectors); combine with ``trainable=False`` to freeze.
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Weights: ``embeddings`` (V, E).

    Shape:
        input: integer ids (N, ...); output: (N, ..., E).
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = U.positive_int("Embedding", "input_dim", input_dim)
        self.output_dim = U.positive_int("Embedding", "output_dim", output_dim)
        if not isinstance(mask_zero, (bool, np.bool_)):
            raise ValueError(
                f"Embedding: invalid value for argument 'mask_zero'. Expected a "
                f"bool. Received: mask_zero={mask_zero!r}"
            )
        self.mask_zero = U.boolean("Embedding", "mask_zero", mask_zero)
        self._args = U.weight_args(
            "Embedding",
            "embeddings",
            _embeddings_initializer(embeddings_initializer),
            embeddings_regularizer,
            embeddings_constraint,
        )
        self.embeddings = None
        if weights is not None:
            self.build(None)
            self.set_weights(_weights_list(weights))

    def build(self, input_shape) -> None:
        shape = (self.input_dim, self.output_dim)
        self.embeddings = U.add_weight(self, "embeddings", shape, self._args)
        self.built = True

    def call(self, x):
        y = F.embedding(x, self.embeddings)
        if self.mask_zero:  # the mask stays where the ids are (a device's too)
            ids = x.data if isinstance(x, Tensor) else x  # (CuPy: .data is memory)
            y._keras_mask = backend.get_array_module(ids).asarray(ids) != 0
        return y

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "mask_zero": self.mask_zero,
            **U.weight_config("Embedding", "embeddings", *self._args),
        }


def _weights_list(weights) -> list:
    if backend.is_array(weights):
        return [weights]
    return list(weights)


class Masking(Layer):
    """Mark time steps whose features all equal ``mask_value`` as padding.

    The output is the input with those steps zeroed, carrying the mask
    ``any(x[..., :] != mask_value, axis=-1)`` ((N, T) for (N, T, D) inputs) as
    ``_keras_mask`` (Keras semantics).

    Args:
        mask_value: the padding value (default 0.0).
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Shape:
        input: (N, T, ...); output: the same shape.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(mask_value, (int, float, np.number))
        if not ok or isinstance(mask_value, bool):
            raise ValueError(
                f"Masking: invalid value for argument 'mask_value'. Expected a "
                f"number. Received: mask_value={mask_value!r}"
            )
        self.mask_value = float(mask_value)

    def call(self, x):
        U.check_input(self, x.shape, min_ndim=3)
        xp = backend.get_array_module(x.data)
        if np.isnan(self.mask_value):  # NaN never equals NaN: test with isnan
            keep = xp.any(~xp.isnan(x.data), axis=-1)
            y = F.where(keep[..., None], x, xp.zeros((), x.dtype))
        else:
            keep = xp.any(x.data != x.dtype.type(self.mask_value), axis=-1)
            y = x * keep[..., None].astype(x.dtype)
        y._keras_mask = keep
        return y

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
