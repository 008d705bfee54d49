"""MultiHeadAttention with Keras's arguments, call signature and weight layout."""

from __future__ import annotations

import math

import numnet.functional as F
from numnet.functional.attention import attention, causal_mask
from numnet.layers import _utils as U
from numnet.layers.attention import _combined_mask, _mask_of
from numnet.layers.base import Layer


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (Vaswani et al.), Keras layout.

    Each head h projects query, key and value (``q_h = query @ Wq[:, h] + bq[h]``),
    attends with ``softmax(q_h k_h^T / sqrt(key_dim)) v_h``, and the heads are
    concatenated and projected back to the query's feature size (or
    ``output_shape``).

    Args:
        num_heads: the number of heads H.
        key_dim: the size K of each query/key head.
        value_dim: the size of each value head (default ``key_dim``).
        dropout: rate applied to the attention weights at training time.
        use_bias: add biases to the four projections.
        output_shape: the last output axis (default: the query's feature size).
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: as for Dense.
        **kwargs: the :class:`Layer` arguments.

    Weights (Keras names and shapes): ``query/kernel`` (dq, H, K),
    ``query/bias`` (H, K), ``key/kernel`` (dk, H, K), ``key/bias`` (H, K),
    ``value/kernel`` (dv, H, V), ``value/bias`` (H, V),
    ``attention_output/kernel`` (H, V, dout), ``attention_output/bias`` (dout,).

    Call: ``layer(query, value, key=None, query_mask=None, value_mask=None,
    key_mask=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)``; ``attention_mask`` is boolean
    (N, Tq, Tv), True = attend; masks attached by ``Embedding(mask_zero=True)``
    are used when none is given. With ``return_attention_scores`` the result is
    ``(output, weights)`` with weights (N, H, Tq, Tv). A query step that may
    attend to nothing gets zero weights.

    Shape:
        query (N, Tq, dq), value (N, Tv, dv), key (N, Tv, dk) -> (N, Tq, dout).
    """

    supports_masking = True

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "MultiHeadAttention"
        self.num_heads = U.positive_int(owner, "num_heads", num_heads)
        self.key_dim = U.positive_int(owner, "key_dim", key_dim)
        self.value_dim = (
            self.key_dim
            if value_dim is None
            else U.positive_int(owner, "value_dim", value_dim)
        )
        self.dropout = U.rate_in_unit_interval(owner, dropout)
        self.use_bias = bool(use_bias)
        self.output_shape_arg = (
            None
            if output_shape is None
            else U.positive_int(owner, "output_shape", output_shape)
        )
        self._kernel_args = U.weight_args(
            owner, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        self._bias_args = U.weight_args(
            owner, "bias", bias_initializer, bias_regularizer, bias_constraint
        )

    def build(self, input_shape) -> None:
        dq = int(input_shape[-1])
        self._query_dim = dq
        self.built = True  # the key/value projections are built on the first call

    def _build_projections(self, dq: int, dv: int, dk: int) -> None:
        H, K, V = self.num_heads, self.key_dim, self.value_dim
        dout = self.output_shape_arg or dq
        shapes = {
            "query": ((dq, H, K), (H, K)),
            "key": ((dk, H, K), (H, K)),
            "value": ((dv, H, V), (H, V)),
            "attention_output": ((H, V, dout), (dout,)),
        }
        for name, (kernel, bias) in shapes.items():
            U.add_weight(self, f"{name}/kernel", kernel, self._kernel_args)
            if self.use_bias:
                U.add_weight(self, f"{name}/bias", bias, self._bias_args)
        self._dims = (dq, dv, dk)

    def _project(self, x, name: str):
        """(N, T, d) @ (d, H, K) + (H, K) -> (N, H, T, K): one GEMM."""
        kernel = self._weights[f"{name}/kernel"]
        d, H, K = kernel.shape
        bias = self._weights.get(f"{name}/bias")
        flat_bias = None if bias is None else F.reshape(bias, (H * K,))
        y = F.linear(x, F.reshape(kernel, (d, H * K)), flat_bias)
        y = F.reshape(y, (x.shape[0], x.shape[1], H, K))
        return F.transpose(y, (0, 2, 1, 3))

    def _check(self, query, value, key) -> None:
        for name, t in (("query", query), ("value", value), ("key", key)):
            if t.ndim != 3:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': {name} must be "
                    f"(batch, time, features). Received shape {tuple(t.shape)}"
                )
        if key.shape[1] != value.shape[1]:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': key and value must have the "
                f"same number of steps. Received {key.shape} and {value.shape}"
            )
        dims = (query.shape[-1], value.shape[-1], key.shape[-1])
        if not hasattr(self, "_dims"):
            self._build_projections(*dims)
        elif dims != self._dims:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': expected feature sizes "
                f"(query, value, key) = {self._dims}. Received {dims}"
            )

    def _mask(self, query, value, key, masks, attention_mask, causal):
        query_mask, value_mask, key_mask = masks
        query_mask = _mask_of(query) if query_mask is None else query_mask
        value_mask = _mask_of(value) if value_mask is None else value_mask
        key_mask = value_mask if key_mask is None else key_mask
        mask = _combined_mask(query_mask, key_mask)
        if value_mask is not None and key_mask is not value_mask:
            mask = mask & _combined_mask(None, value_mask)
        if attention_mask is not None:
            extra = U.as_mask(attention_mask)
            mask = extra if mask is None else mask & extra
        if causal:
            tri = causal_mask(query.shape[1], value.shape[1])
            mask = tri if mask is None else mask & tri
        return None if mask is None else mask[:, None] if mask.ndim == 3 else mask

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=False,
        use_causal_mask=False,
    ):
        value = query if value is None else value
        key = value if key is None else key
        self._check(query, value, key)
        masks = (query_mask, value_mask, key_mask)
        mask = self._mask(query, value, key, masks, attention_mask, use_causal_mask)
        q = self._project(query, "query")
        k = self._project(key, "key")
        v = self._project(value, "value")
        out, weights = self._attend(q, k, v, mask, training)
        # (N, H, Tq, V) -> (N, Tq, H*V) @ (H*V, dout) + b
        N, H, Tq, V = out.shape
        out = F.reshape(F.transpose(out, (0, 2, 1, 3)), (N, Tq, H * V))
        kernel = self._weights["attention_output/kernel"]
        bias = self._weights.get("attention_output/bias")
        out = F.linear(out, F.reshape(kernel, (H * V, kernel.shape[-1])), bias)
        return (out, weights) if return_attention_scores else out

    def _attend(self, q, k, v, mask, training):
        scale = 1.0 / math.sqrt(self.key_dim)
        if not (training and self.dropout > 0):
            return attention(q, k, v, mask=mask, scale=scale)  # one fused op
        scores = F.matmul(q * scale, F.swapaxes(k, -1, -2))
        weights = F.masked_softmax(scores, mask)
        dropped = F.dropout(weights, self.dropout, training=True)
        return F.matmul(dropped, v), weights

    def get_config(self) -> dict:
        owner = "MultiHeadAttention"
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape_arg,
            **U.weight_config(owner, "kernel", *self._kernel_args),
            **U.weight_config(owner, "bias", *self._bias_args),
        }
