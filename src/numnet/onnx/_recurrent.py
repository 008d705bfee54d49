"""SimpleRNN, GRU, LSTM and Bidirectional as ONNX's RNN, GRU and LSTM operators.

ONNX wants ``W`` of shape ``(directions, gates·U, D)``, ``R`` of shape
``(directions, gates·U, U)`` and ``B = [Wb, Rb]`` of shape ``(directions,
2·gates·U)``; Keras stores ``kernel (D, gates·U)``, ``recurrent_kernel (U,
gates·U)`` and one bias. Gate orders: Keras LSTM ``i, f, c, o`` → ONNX ``i, o, f, c``;
GRU ``z, r, h`` in both; ``reset_after=True`` is ONNX's ``linear_before_reset=1``
with the (2, 3U) bias split into its input and recurrent rows.
"""

from __future__ import annotations

import numpy as np

from numnet.onnx._graph import Graph, UnsupportedLayerError

_OP = {"SimpleRNN": "RNN", "GRU": "GRU", "LSTM": "LSTM"}
_LSTM_ORDER = (0, 3, 1, 2)  # ONNX's i, o, f, c taken from Keras's i, f, c, o


def _reorder(matrix, kind: str):
    if kind != "LSTM":
        return matrix
    blocks = np.split(matrix, 4, axis=-1)
    return np.concatenate([blocks[i] for i in _LSTM_ORDER], axis=-1)


def _direction_tensors(layer, kind: str):
    """``W (gU, D)``, ``R (gU, U)``, ``B (2gU,)`` of one direction's layer."""
    kernel, recurrent, *bias = layer.get_weights()
    units = recurrent.shape[0]
    if bias and bias[0].ndim == 2:  # GRU reset_after: input and recurrent rows
        wb, rb = bias[0][0], bias[0][1]
    else:
        wb = bias[0] if bias else np.zeros(kernel.shape[1], kernel.dtype)
        rb = np.zeros_like(wb)
    w = _reorder(kernel, kind).T
    r = _reorder(recurrent, kind).T
    b = np.concatenate([_reorder(wb, kind), _reorder(rb, kind)])
    return w, r, b, units


def _check(layer) -> None:
    config = layer.get_config()
    if config.get("go_backwards") or config.get("return_state"):
        raise UnsupportedLayerError(
            f"ONNX export: {layer.name!r}: go_backwards/return_state are not supported"
        )
    default_act = {"activation": "tanh", "recurrent_activation": "sigmoid"}
    for key, value in default_act.items():
        if config.get(key, value) != value:
            raise UnsupportedLayerError(
                f"ONNX export: {layer.name!r}: {key}={config[key]!r} (only "
                f"{value!r} is supported)"
            )


def _emit(g: Graph, kind: str, layers: list, x: str, name: str, sequences: bool):
    for layer in layers:
        _check(layer)
    parts = [_direction_tensors(layer, kind) for layer in layers]
    units = parts[0][3]
    w, r, b = (np.stack([p[i] for p in parts]) for i in range(3))
    attrs = {"hidden_size": units}
    if len(layers) == 2:
        attrs["direction"] = "bidirectional"
    if kind == "GRU":
        attrs["linear_before_reset"] = int(
            layers[0].get_config().get("reset_after", True)
        )
    time_major = g.op("Transpose", [x], f"{name}_tnd", perm=[1, 0, 2])
    inputs = [
        time_major,
        g.constant(w, f"{name}_W"),
        g.constant(r, f"{name}_R"),
        g.constant(b, f"{name}_B"),
    ]
    n_out = 3 if kind == "LSTM" else 2  # LSTM also returns its cell state
    y, y_h = g.op(_OP[kind], inputs, name, n_out=n_out, **attrs)[:2]
    # Y is (T, directions, N, U) and Y_h (directions, N, U); numnet wants
    # (N, T, directions·U) or (N, directions·U), forward before backward
    width = units * len(layers)
    if sequences:
        y = g.op("Transpose", [y], name, perm=[2, 0, 1, 3])
        shape = g.constant(np.array([0, 0, width], np.int64), f"{name}_shape")
        return g.op("Reshape", [y, shape], name)
    y_h = g.op("Transpose", [y_h], name, perm=[1, 0, 2])
    shape = g.constant(np.array([0, width], np.int64), f"{name}_shape")
    return g.op("Reshape", [y_h, shape], name)


def recurrent(g: Graph, layer, x: str) -> str:
    sequences = bool(layer.get_config().get("return_sequences"))
    return _emit(g, type(layer).__name__, [layer], x, layer.name, sequences)


def bidirectional(g: Graph, layer, x: str) -> str:
    forward, backward = layer.forward_layer, layer.backward_layer
    kind = type(forward).__name__
    if kind not in _OP or layer.get_config().get("merge_mode") != "concat":
        raise UnsupportedLayerError(
            f"ONNX export: {layer.name!r}: only Bidirectional(SimpleRNN/GRU/LSTM) "
            f"with merge_mode='concat' is supported"
        )
    sequences = bool(forward.get_config().get("return_sequences"))
    backward_config = dict(backward.get_config(), go_backwards=False)
    _check(type(backward).from_config(backward_config))
    return _emit(g, kind, [forward, _Forwarded(backward)], x, layer.name, sequences)


class _Forwarded:
    """A backward-direction layer seen with ``go_backwards`` cleared (ONNX reverses)."""

    def __init__(self, layer):
        self._layer = layer

    def get_weights(self):
        return self._layer.get_weights()

    def get_config(self):
        return dict(self._layer.get_config(), go_backwards=False)

    @property
    def name(self):
        return self._layer.name
