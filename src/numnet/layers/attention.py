"""Attention layers with Keras's names and arguments: Attention, AdditiveAttention.

Both are called on ``[query, value]`` or ``[query, value, key]`` (key defaults to
value) of shapes (N, Tq, d), (N, Tv, dv), (N, Tv, d), with optional
``mask=[query_mask, value_mask]`` (boolean (N, Tq), (N, Tv); masks attached by
``Embedding(mask_zero=True)`` are used when none is given). Masked value steps
get weight 0; masked query steps output zeros. ``use_causal_mask=True`` hides
value steps after the query's step. ``return_attention_scores=True`` returns
``(output, weights)`` where weights (N, Tq, Tv) are the softmax distribution.

MultiHeadAttention lives in :mod:`numnet.layers.multi_head_attention`.
"""

from __future__ import annotations

import numnet.functional as F
from numnet.functional.attention import attention, causal_mask
from numnet.layers import _utils as U
from numnet.layers.base import Layer


def _mask_of(value):
    mask = getattr(value, "_keras_mask", None)
    return None if mask is None else U.as_mask(mask)


def _combined_mask(query_mask, value_mask):
    """(N, Tq, Tv)-broadcastable mask from (N, Tq) and (N, Tv) masks."""
    mask = None
    if value_mask is not None:
        mask = U.as_mask(value_mask)[:, None, :]
    if query_mask is not None:
        rows = U.as_mask(query_mask)[:, :, None]
        mask = rows if mask is None else mask & rows
    return mask


class _BaseDenseAttention(Layer):
    """Shared call logic: unpack inputs and masks, score, softmax, weighted sum."""

    supports_masking = True

    def __init__(self, use_scale: bool = False, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        owner = type(self).__name__
        self.dropout = U.rate_in_unit_interval(owner, dropout)

    def _unpack(self, inputs, mask):
        owner = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                f"{owner}: expected a list [query, value] or [query, value, key]. "
                f"Received: {type(inputs).__name__} of length "
                f"{len(inputs) if isinstance(inputs, (list, tuple)) else 1}"
            )
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) == 3 else v
        for t in (q, v, k):
            U.check_input(self, t.shape, ndim=3)
        if mask is None:
            mask = [_mask_of(q), _mask_of(v)]
        if not isinstance(mask, (list, tuple)) or len(mask) != 2:
            raise ValueError(
                f"{owner}: invalid value for argument 'mask'. Expected a list "
                f"[query_mask, value_mask] (each None or (batch, time) booleans). "
                f"Received: {mask!r}"
            )
        return q, v, k, mask[0], mask[1]

    def call(
        self,
        inputs,
        training=False,
        mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        q, v, k, query_mask, value_mask = self._unpack(inputs, mask)
        keep = _combined_mask(None, value_mask)
        output, weights = self._attend(q, k, v, keep, use_causal_mask, training)
        if query_mask is not None:
            rows = U.as_mask(query_mask)
            output = output * rows[:, :, None].astype(output.dtype)
            output._keras_mask = rows
        return (output, weights) if return_attention_scores else output

    def _weighted(self, scores, v, mask, causal, training):
        """masked softmax, dropout on the weights, weighted sum of the values."""
        if causal:
            tri = causal_mask(scores.shape[-2], scores.shape[-1])
            mask = tri if mask is None else mask & tri
        weights = F.masked_softmax(scores, mask)
        dropped = weights
        if training and self.dropout > 0:
            dropped = F.dropout(weights, self.dropout, training=True)
        return F.matmul(dropped, v), weights

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "dropout": self.dropout,
        }


class Attention(_BaseDenseAttention):
    """Dot-product (Luong) attention: ``softmax(scale * q k^T) v``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores (init 1).
        score_mode: ``"dot"`` (the only mode implemented).
        dropout: rate applied to the attention weights at training time.
        **kwargs: the :class:`Layer` arguments.

    Weights: ``scale`` () when ``use_scale``.

    Shape:
        inputs: ``[query (N, Tq, d), value (N, Tv, dv)(, key (N, Tv, d))]``;
        output: (N, Tq, dv).
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)
        if score_mode != "dot":
            raise ValueError(
                f"Attention: invalid value for argument 'score_mode'. Expected "
                f"'dot' (use AdditiveAttention for Bahdanau scores). "
                f"Received: score_mode={score_mode!r}"
            )
        self.score_mode = score_mode
        self.scale = None

    def build(self, input_shape) -> None:
        if self.use_scale:
            self.scale = self.add_weight("scale", (), initializer="ones")
        self.built = True

    def _attend(self, q, k, v, mask, causal, training):
        fused = not self.use_scale and not (training and self.dropout > 0)
        if fused:  # one op: scores, masked softmax, weighted sum
            return attention(q, k, v, mask=mask, causal=causal)
        scores = F.matmul(q, F.swapaxes(k, -1, -2))
        if self.use_scale:
            scores = scores * self.scale
        return self._weighted(scores, v, mask, causal, training)

    def get_config(self) -> dict:
        return {**super().get_config(), "score_mode": self.score_mode}


class AdditiveAttention(_BaseDenseAttention):
    """Additive (Bahdanau) attention: scores ``sum_d scale_d tanh(q_d + k_d)``.

    As in Keras, query and key are used as given: project them with Dense layers
    first (Bahdanau's ``W_a s`` and ``U_a h``).

    Args:
        use_scale: learn the (d,) ``scale`` vector (init glorot_uniform, as Keras);
            without it the scores are the plain sum.
        dropout: rate applied to the attention weights at training time.
        **kwargs: the :class:`Layer` arguments.

    Weights: ``scale`` (d,) when ``use_scale``.

    Shape:
        inputs: ``[query (N, Tq, d), value (N, Tv, dv)(, key (N, Tv, d))]``;
        output: (N, Tq, dv).
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)
        self.scale = None

    def build(self, input_shape) -> None:
        if self.use_scale:
            d = int(input_shape[0][-1])
            self.scale = self.add_weight("scale", (d,), initializer="glorot_uniform")
        self.built = True

    def _attend(self, q, k, v, mask, causal, training):
        hidden = F.tanh(F.unsqueeze(q, -2) + F.unsqueeze(k, -3))  # (N, Tq, Tv, d)
        if self.use_scale:
            hidden = hidden * self.scale
        return self._weighted(F.sum(hidden, axis=-1), v, mask, causal, training)
