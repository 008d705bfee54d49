"""``layers.RNN(cell)`` and the cells SimpleRNNCell, GRUCell, LSTMCell (Keras API).

A *cell* computes one time step: ``output, new_states = cell(x_t, states)``
with x_t (N, D) and ``states`` a list of (N, size) tensors, one per entry of
``cell.state_size``. ``layers.RNN(cell)`` runs it over the time axis of
(N, T, D) inputs. Any Layer with a ``state_size`` attribute and a
``call(inputs, states)`` returning ``(output, new_states)`` is a cell; RNN then
loops over T in Python and autograd does the backpropagation through time.

The built-in cells have the weights and equations of SimpleRNN, GRU and LSTM
(Keras layouts). ``RNN(LSTMCell(8))`` runs the same fused sequence op as
``LSTM(8)``, so it is as fast; a single cell step runs that op on a sequence
of length one.

Example:
    >>> import numpy as np, numnet
    >>> from numnet import layers
    >>> numnet.manual_seed(0)
    >>> rnn = layers.RNN(layers.LSTMCell(4), return_sequences=True)
    >>> rnn(np.zeros((2, 5, 3), np.float32)).shape
    (2, 5, 4)
    >>> cell = layers.GRUCell(4)
    >>> out, states = cell(np.zeros((2, 3), np.float32), [np.zeros((2, 4), np.float32)])
    >>> out.shape, len(states)
    ((2, 4), 1)
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet.autograd.tensor import Tensor
from numnet.layers import _utils as U
from numnet.layers import rnn_base
from numnet.layers.base import Layer
from numnet.layers.recurrent import GRU, LSTM, SimpleRNN
from numnet.layers.rnn_base import _flag


class _Cell:
    """One time step of a fused recurrent layer (mixed into SimpleRNN/GRU/LSTM)."""

    _flags = (False, False)  # (go_backwards, return_sequences) of the fused run

    def _sequence_flags(self) -> tuple[bool, bool]:
        return self._flags

    @property
    def state_size(self):
        """The size of each state: ``units``, or ``[units, units]`` for LSTM."""
        return [self.units] * self.n_states if self.n_states > 1 else self.units

    @property
    def output_size(self) -> int:
        """The size of the output of one step."""
        return self.units

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        if len(shape) == 2:  # one step (N, D); the fused weights see (N, 1, D)
            shape = (shape[0], 1, shape[1])
        super().build(shape)

    def call(self, inputs, states=None, training=False):
        """One step: ``(output, new_states)`` for x_t (N, D) and the states."""
        x = U.float_input(self, inputs)
        U.check_input(self, x.shape, ndim=2, axes={-1: self.input_dim})
        if states is not None and not isinstance(states, (list, tuple)):
            states = [states]
        states = self._initial_states(states, x.shape[0])
        outputs = self.run_sequence(F.reshape(x, (x.shape[0], 1, x.shape[1])), states)
        return outputs[0], list(outputs[1:])

    def run_sequence(self, x, states, mask=None, go_backwards=False,
                     return_sequences=False) -> list:  # fmt: skip
        """The fused op over a whole sequence: ``[output, *final_states]``."""
        self._flags = (go_backwards, return_sequences)
        try:
            return list(self._run(x, states, mask, None))
        finally:
            del self._flags


def _cell_init(owner: str, kwargs: dict) -> dict:
    for key in ("return_sequences", "return_state", "go_backwards", "stateful"):
        if kwargs.pop(key, False):
            raise TypeError(
                f"{owner}: unexpected keyword argument '{key}'; a cell computes one "
                f"step, give it to layers.RNN(cell, {key}=...) instead"
            )
    for key in ("dropout", "recurrent_dropout"):
        if kwargs.get(key):
            raise ValueError(
                f"{owner}: '{key}' is not supported in a cell; use "
                f"layers.{owner.removesuffix('Cell')}({key}=...) instead"
            )
    return kwargs


class SimpleRNNCell(_Cell, SimpleRNN):
    """One step of SimpleRNN: ``h = activation(x W + h_prev R + b)``; see
    :class:`~numnet.layers.SimpleRNN` for the arguments and weights."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **_cell_init("SimpleRNNCell", kwargs))


class GRUCell(_Cell, GRU):
    """One step of GRU (Keras layout, ``reset_after``); see
    :class:`~numnet.layers.GRU`."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **_cell_init("GRUCell", kwargs))


class LSTMCell(_Cell, LSTM):
    """One step of LSTM; states ``[h, c]``; see :class:`~numnet.layers.LSTM`."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **_cell_init("LSTMCell", kwargs))


class RNN(Layer):
    """Run a cell over the time axis (Keras's ``layers.RNN``).

    Args:
        cell: a built-in cell (SimpleRNNCell, GRUCell, LSTMCell) or any Layer
            with ``state_size`` and ``call(inputs, states) -> (output, states)``.
        return_sequences: output every step (N, T, U) instead of the last (N, U).
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: process the sequence backwards.
        stateful: carry the final states of a batch into the next batch (same
            batch size); ``reset_states()`` starts over.
        unroll: accepted for Keras compatibility (the loop is always a loop).
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Call arguments: ``initial_state`` (a list of (N, size) arrays) and ``mask``
    ((N, T) bools; masked steps carry the states and the output through).

    Shape:
        input: (N, T, D); output: (N, T, U) or (N, U).
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise ValueError(
                f"RNN: invalid value for argument 'cell'. Expected a Layer with a "
                f"'state_size' attribute and call(inputs, states). Received: "
                f"{cell!r}"
            )
        self.cell = cell
        self.return_sequences = _flag("RNN", "return_sequences", return_sequences)
        self.return_state = _flag("RNN", "return_state", return_state)
        self.go_backwards = _flag("RNN", "go_backwards", go_backwards)
        self.stateful = _flag("RNN", "stateful", stateful)
        self.unroll = bool(unroll)
        self.states = None

    @property
    def state_size(self):
        """The cell's state sizes."""
        return self.cell.state_size

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, ndim=3)
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[-1]))
            self.cell.built = True
        self.built = True

    def call(self, x, training=False, initial_state=None, mask=None):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=3)
        if mask is None:
            mask = getattr(x, "_keras_mask", None)
        states = None if initial_state is None else _as_states(initial_state)
        if self.stateful and states is None:
            states = rnn_base.stateful_states(self, x.shape[0])
        if isinstance(self.cell, _Cell):
            states = self.cell._initial_states(states, x.shape[0])
            outputs = self.cell.run_sequence(
                x, states, mask, self.go_backwards, self.return_sequences
            )
        else:
            outputs = self._loop(x, states, mask, training)
        if self.stateful:
            rnn_base.keep_states(self, outputs[1:])
        output = outputs[0]
        if self.return_sequences and mask is not None:
            output._keras_mask = U.as_mask(mask)
        return [output, *outputs[1:]] if self.return_state else output

    def _loop(self, x, states, mask, training) -> list:
        N, T = x.shape[:2]
        if states is None:
            states = [Tensor._from_op(np.zeros((N, s), dtype=self.cell.dtype))
                      for s in rnn_base._state_sizes(self.cell)]  # fmt: skip
        mask = None if mask is None else U.as_mask(mask)
        outputs, previous = [], None
        for t in range(T - 1, -1, -1) if self.go_backwards else range(T):
            out, new = self.cell(x[:, t], states, training=training)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                keep = mask[:, t][:, None]
                if previous is None:
                    previous = out * 0.0
                new = [F.where(keep, n, s) for n, s in zip(new, states, strict=True)]
                out = F.where(keep, out, out * 0.0 if self.return_sequences
                              else previous)  # fmt: skip
            outputs.append(out)
            states, previous = new, out
        if self.return_sequences:
            output = F.stack(outputs, axis=1)
        else:
            output = outputs[-1]
        return [output, *states]

    def reset_states(self, states=None) -> None:
        """Zero the carried states of a stateful RNN (or set them to ``states``)."""
        rnn_base.reset_states(self, states)

    def get_config(self) -> dict:
        from numnet.layers import serialization

        config = {
            **super().get_config(),
            "cell": serialization.serialize(self.cell),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "unroll": self.unroll,
        }
        if self.stateful:
            config["stateful"] = True
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> RNN:
        from numnet.layers import serialization

        config = dict(config)
        cell = serialization.deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)


def _as_states(initial_state) -> list:
    if isinstance(initial_state, (Tensor, np.ndarray)):
        return [initial_state]
    return list(initial_state)
