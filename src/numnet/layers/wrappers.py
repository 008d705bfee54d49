"""Layer wrappers: Bidirectional (RNNs both ways) and TimeDistributed.

Example:
    >>> import numpy as np, numnet
    >>> from numnet import layers
    >>> numnet.manual_seed(0)
    >>> bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    >>> bi(np.zeros((2, 5, 3), np.float32)).shape
    (2, 5, 8)
    >>> td = layers.TimeDistributed(layers.Dense(6))
    >>> td(np.zeros((2, 5, 3), np.float32)).shape
    (2, 5, 6)
"""

from __future__ import annotations

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer
from numnet.layers.serialization import deserialize as deserialize_layer
from numnet.layers.serialization import serialize as serialize_layer

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _require_layer(owner: str, layer) -> Layer:
    if not isinstance(layer, Layer):
        raise ValueError(
            f"{owner}: invalid value for argument 'layer'. Expected a Layer "
            f"instance. Received: layer={layer!r}"
        )
    return layer


class Bidirectional(Layer):
    """Run a recurrent layer forwards and backwards in time and merge the outputs.

    The forward and backward layers are fresh copies made from
    ``layer.get_config()`` (named ``forward_<name>`` / ``backward_<name>``), the
    backward one with ``go_backwards`` flipped (Keras). Its sequence output is
    reversed back in time before merging, so step t of both halves refers to
    input step t. Masks (``x._keras_mask`` or ``mask=``) go to both directions.

    Args:
        layer: a SimpleRNN, GRU or LSTM instance.
        merge_mode: "concat" (default), "sum", "mul", "ave", or None for a list
            ``[forward, backward]``.
        backward_layer: an optional explicit backward layer (same
            ``return_sequences``/``return_state`` as ``layer``).
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    ``initial_state`` is the forward states followed by the backward states;
    ``return_state=True`` returns ``[output, *forward_states, *backward_states]``.
    Weights: the forward layer's, then the backward layer's (Keras order).

    Shape:
        input: (N, T, D); output: (N, [T,] 2U) for "concat", (N, [T,] U) otherwise.
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        layer = _require_layer("Bidirectional", layer)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: invalid value for argument 'merge_mode'. Expected "
                f"one of {list(_MERGE_MODES)}. Received: merge_mode={merge_mode!r}"
            )
        self.merge_mode = merge_mode
        config = layer.get_config()
        self.forward_layer = type(layer).from_config(
            {**config, "name": f"forward_{layer.name}"}
        )
        if backward_layer is None:
            back = {**config, "name": f"backward_{layer.name}"}
            back["go_backwards"] = not config.get("go_backwards", False)
            backward_layer = type(layer).from_config(back)
        self.backward_layer = _require_layer("Bidirectional", backward_layer)
        self._check_pair()
        self.return_sequences = getattr(layer, "return_sequences", False)
        self.return_state = getattr(layer, "return_state", False)

    def _check_pair(self) -> None:
        fw, bw = self.forward_layer, self.backward_layer
        for attr in ("return_sequences", "return_state"):
            if getattr(fw, attr, None) != getattr(bw, attr, None):
                raise ValueError(
                    f"Bidirectional: forward and backward layers must have the same "
                    f"'{attr}'. Received: {getattr(fw, attr, None)} and "
                    f"{getattr(bw, attr, None)}"
                )

    def call(self, x, training=False, initial_state=None, mask=None):
        if mask is None:
            mask = getattr(x, "_keras_mask", None)
        fw_state = bw_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = initial_state[:half], initial_state[half:]
        fw = self.forward_layer(x, training=training, initial_state=fw_state, mask=mask)
        bw = self.backward_layer(
            x, training=training, initial_state=bw_state, mask=mask
        )
        fw_states = bw_states = []
        if self.return_state:
            fw, fw_states, bw, bw_states = fw[0], fw[1:], bw[0], bw[1:]
        if self.return_sequences and self.backward_layer.go_backwards:
            bw = F.getitem(bw, (slice(None), slice(None, None, -1)))
        out = self._merge(fw, bw)
        if self.return_sequences and mask is not None:
            for y in out if isinstance(out, list) else [out]:
                y._keras_mask = fw._keras_mask
        if self.return_state:
            head = out if isinstance(out, list) else [out]
            return head + list(fw_states) + list(bw_states)
        return out

    def _merge(self, fw, bw):
        mode = self.merge_mode
        if mode == "concat":
            return F.concatenate([fw, bw], axis=-1)
        if mode == "sum":
            return fw + bw
        if mode == "mul":
            return fw * bw
        if mode == "ave":
            return (fw + bw) * 0.5
        return [fw, bw]

    def get_config(self) -> dict:
        inner = self.forward_layer.get_config()
        inner["name"] = inner["name"].removeprefix("forward_")
        return {
            **super().get_config(),
            "layer": {"class_name": type(self.forward_layer).__name__, "config": inner},
            "merge_mode": self.merge_mode,
            "backward_layer": serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> Bidirectional:
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Layer):
    """Apply ``layer`` to every time step: (N, T, ...) -> (N, T, ...').

    The N*T steps are folded into one batch, so the inner layer runs once (one
    GEMM for a Dense). A mask on the input is passed on to the output.

    Args:
        layer: the layer to apply to each (N, ...) slice.
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Shape:
        input: (N, T, ...); output: (N, T, ...') where the inner layer maps
        (N*T, ...) to (N*T, ...').
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = _require_layer("TimeDistributed", layer)

    def call(self, x, training=False, mask=None):
        U.check_input(self, x.shape, min_ndim=3)
        N, T = x.shape[:2]
        y = self.layer(F.reshape(x, (N * T,) + tuple(x.shape[2:])), training=training)
        out = F.reshape(y, (N, T) + tuple(y.shape[1:]))
        mask = getattr(x, "_keras_mask", None) if mask is None else mask
        if mask is not None:
            out._keras_mask = mask
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> TimeDistributed:
        config = dict(config)
        return cls(deserialize_layer(config.pop("layer"), custom_objects), **config)
