"""RNNBase: what SimpleRNN, GRU and LSTM share (arguments, weights, masks, dropout).

A recurrent layer runs one fused op (``numnet.functional.recurrent``) over the
whole sequence. Its call signature is Keras's::

    outputs = layer(x, initial_state=None, mask=None, training=None)

* ``x`` is (batch, time, features);
* ``mask`` (bool, (batch, time)) defaults to ``x._keras_mask``, the attribute that
  ``Embedding(mask_zero=True)`` and ``Masking`` attach to their outputs; masked
  steps carry the state through and output zeros;
* ``return_state=True`` returns ``[output, *final_states]``;
* with ``return_sequences=True`` the mask is attached to the output, so stacked
  recurrent layers skip the same steps.

Dropout follows Keras: at training time one input mask (N, D) and one
recurrent mask (N, U) are drawn per call (per batch of sequences) and reused at
every time step (Gal & Ghahramani's variational dropout).
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import backend
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.backend import draws
from numnet.functional.rnn_base import FUSED_ACTIVATIONS
from numnet.layers import _utils as U
from numnet.layers.base import Layer
from numnet.layers.symbolic import in_dry_run


def _fused_activation(owner: str, argument: str, value) -> str:
    """Activation name accepted by the fused ops (None means linear)."""
    name = "linear" if value is None else value
    if isinstance(name, str) and name in FUSED_ACTIVATIONS:
        return name
    raise ValueError(
        f"{owner}: invalid value for argument '{argument}'. Expected one of "
        f"{list(FUSED_ACTIVATIONS)} or None. Received: {argument}={value!r}"
    )


def _flag(owner: str, name: str, value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a bool. "
        f"Received: {name}={value!r}"
    )


def _rate(owner: str, name: str, value) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if ok and 0 <= value < 1:
        return float(value)
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a float in [0, 1). "
        f"Received: {name}={value!r}"
    )


class RNNBase(Layer):
    """Base class of the recurrent layers; see the module docstring.

    Subclasses set ``n_gates`` and ``n_states``, and implement ``_bias_shape()``
    and ``_run(x, states, mask, rec_mask)`` returning the fused op's outputs.
    """

    n_gates = 1
    n_states = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.stateful = _flag(owner, "stateful", stateful)
        self.states = None
        self.units = U.positive_int(owner, "units", units)
        self.activation = _fused_activation(owner, "activation", activation)
        self.recurrent_activation = _fused_activation(
            owner, "recurrent_activation", recurrent_activation
        )
        self.use_bias = _flag(owner, "use_bias", use_bias)
        self.dropout = _rate(owner, "dropout", dropout)
        self.recurrent_dropout = _rate(owner, "recurrent_dropout", recurrent_dropout)
        self.return_sequences = _flag(owner, "return_sequences", return_sequences)
        self.return_state = _flag(owner, "return_state", return_state)
        self.go_backwards = _flag(owner, "go_backwards", go_backwards)
        if seed is not None and not U._is_int(seed):
            raise ValueError(
                f"{owner}: invalid value for argument 'seed'. Expected an int or "
                f"None. Received: seed={seed!r}"
            )
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        args = {
            "kernel": (kernel_initializer, kernel_regularizer, kernel_constraint),
            "recurrent": (
                recurrent_initializer,
                recurrent_regularizer,
                recurrent_constraint,
            ),
            "bias": (bias_initializer, bias_regularizer, bias_constraint),
        }
        self._args = {k: U.weight_args(owner, k, *v) for k, v in args.items()}
        self.kernel = self.recurrent_kernel = self.bias = None

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, ndim=3)
        self.input_dim = int(input_shape[-1])
        G = self.n_gates * self.units
        self.kernel = U.add_weight(
            self, "kernel", (self.input_dim, G), self._args["kernel"]
        )
        self.recurrent_kernel = U.add_weight(
            self, "recurrent_kernel", (self.units, G), self._args["recurrent"]
        )
        if self.use_bias:
            self.bias = U.add_weight(
                self, "bias", self._bias_shape(), self._bias_args()
            )
        self.built = True

    def _bias_shape(self) -> tuple:
        return (self.n_gates * self.units,)

    def _bias_args(self) -> tuple:
        return self._args["bias"]

    def call(self, x, training=False, initial_state=None, mask=None):
        x = U.float_input(self, x)  # bool/int sequences are cast, as Dense does
        U.check_input(self, x.shape, ndim=3, axes={-1: self.input_dim})
        x = U.float_input(self, x)  # int inputs cast, as Dense and Conv2D do
        if mask is None:
            mask = getattr(x, "_keras_mask", None)
        states = self._initial_states(initial_state, x.shape[0])
        if self.stateful and states is None:
            states = stateful_states(self, x.shape[0])
        rec_mask = None
        xp = backend.get_array_module(x.data)  # masks are drawn on x's device
        if training and self.dropout > 0:
            keep = self._keep_mask(xp, (x.shape[0], 1, x.shape[2]), self.dropout)
            x = F.dropout(x, self.dropout, mask=keep)
        if training and self.recurrent_dropout > 0:
            keep = self._keep_mask(xp, (x.shape[0], self.units), self.recurrent_dropout)
            scale = 1 / (1 - self.recurrent_dropout)
            rec_mask = backend.get_ops(xp).scaled_mask(keep, scale, x.dtype)
        outputs = self._run(x, states, mask, rec_mask)
        if self.stateful:
            keep_states(self, outputs[1:])
        output = outputs[0]
        if self.return_sequences and mask is not None:
            mask = mask.data if isinstance(mask, Tensor) else mask
            xp = backend.get_array_module(output.data)  # on the output's device
            output._keras_mask = xp.asarray(mask, dtype=bool)
        return [output, *outputs[1:]] if self.return_state else output

    def _sequence_flags(self) -> tuple[bool, bool]:
        """(go_backwards, return_sequences) of the fused run (cells override)."""
        return self.go_backwards, self.return_sequences

    def _keep_mask(self, xp, shape, rate):
        """A keep mask on xp's device, drawn there (``numnet.backend.draws``)."""
        return draws.keep_mask(xp, shape, rate, self._rng)

    def reset_states(self, states=None) -> None:
        """Zero the carried states of a ``stateful`` layer (or set them to
        ``states``, one (batch, units) array per state)."""
        reset_states(self, states)

    def _options(self, mask, rec_mask) -> dict:
        go_backwards, return_sequences = self._sequence_flags()
        return {
            "mask": mask,
            "go_backwards": go_backwards,
            "return_sequences": return_sequences,
            "activation": self.activation,
            "recurrent_dropout_mask": rec_mask,
        }

    def _initial_states(self, initial_state, batch: int):
        if initial_state is None:
            return None
        if isinstance(initial_state, Tensor) or backend.is_array(initial_state):
            initial_state = [initial_state]
        states = [as_tensor(s) for s in initial_state]
        owner = f"{type(self).__name__} '{self.name}'"
        if len(states) != self.n_states:
            raise ValueError(
                f"{owner}: invalid value for argument 'initial_state'. Expected a "
                f"list of {self.n_states} tensor(s) of shape (batch, units). "
                f"Received: {len(states)} tensor(s)"
            )
        for i, s in enumerate(states):
            if s.shape != (batch, self.units):
                raise ValueError(
                    f"{owner}: initial_state[{i}] must have shape "
                    f"{(batch, self.units)}. Received: {s.shape}"
                )
        return [s if s.dtype == self.dtype else s.astype(self.dtype) for s in states]

    def get_config(self) -> dict:
        owner = type(self).__name__
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "seed": self.seed,
        }
        if self.stateful:
            config["stateful"] = True
        prefixes = {"kernel": "kernel", "recurrent": "recurrent", "bias": "bias"}
        for key, prefix in prefixes.items():
            config.update(U.weight_config(owner, prefix, *self._args[key]))
        return config


# -- stateful=True: the final states of a batch start the next one (Keras) --
def _n_states(layer) -> int:
    size = getattr(layer, "state_size", None)
    if size is None:
        return layer.n_states
    return len(size) if isinstance(size, (list, tuple)) else 1


def _state_sizes(layer) -> list[int]:
    size = getattr(layer, "state_size", None)
    if size is None:
        return [layer.units] * layer.n_states
    return [int(s) for s in size] if isinstance(size, (list, tuple)) else [int(size)]


def stateful_states(layer, batch: int):
    """The carried states of a stateful layer for a batch of ``batch`` sequences
    (None on the first batch or after ``reset_states()``: zeros)."""
    states = layer.states
    if states is None:
        return None
    if states[0].shape[0] != batch:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': a stateful layer keeps one "
            f"state per sequence of the batch, so every batch must have "
            f"{states[0].shape[0]} sequences. Received a batch of {batch}; call "
            f"reset_states() to start over with another batch size."
        )
    return [Tensor._from_op(s) for s in states]


def keep_states(layer, states) -> None:
    """Store the final states (values only: no gradient flows across batches)."""
    if in_dry_run():
        return  # building on zeros is not a batch
    raws = [s.data if isinstance(s, Tensor) else s for s in states]
    layer.states = [backend.get_array_module(r).array(r) for r in raws]  # copies


def reset_states(layer, states=None) -> None:
    """Zero (forget) the carried states, or set them to ``states``."""
    if not getattr(layer, "stateful", False):
        raise AttributeError(
            f"{type(layer).__name__} '{layer.name}': reset_states() needs stateful=True"
        )
    if states is None:
        layer.states = None  # the next batch starts from zeros (any batch size)
        return
    states = [states] if isinstance(states, (np.ndarray, Tensor)) else list(states)
    sizes = _state_sizes(layer)
    if len(states) != len(sizes):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': reset_states expected "
            f"{len(sizes)} state array(s). Received: {len(states)}"
        )
    arrays = [_state_array(layer, s) for s in states]
    for i, (a, size) in enumerate(zip(arrays, sizes, strict=True)):
        if a.ndim != 2 or a.shape[1] != size:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': state {i} must have "
                f"shape (batch, {size}). Received: {a.shape}"
            )
    layer.states = arrays


def _state_array(layer, state):
    """A state given to ``reset_states`` as an array on the layer's device."""
    raw = state.data if isinstance(state, Tensor) else state
    raw = raw if backend.is_array(raw) else np.asarray(raw)
    return layer.device.put(raw).astype(layer.dtype, copy=False)
