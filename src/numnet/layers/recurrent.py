"""Recurrent layers: SimpleRNN, GRU, LSTM (Keras arguments and weight layouts).

The equations, gate orders and weight layouts are written out in
``numnet/functional/recurrent_cells.py`` and ``docs/recurrent.md``; arguments,
masking and dropout are described in ``numnet/layers/rnn_base.py``.

Example:
    >>> import numpy as np, numnet
    >>> from numnet import layers
    >>> numnet.manual_seed(0)
    >>> lstm = layers.LSTM(8, return_sequences=True)
    >>> y = lstm(np.zeros((2, 5, 3), np.float32))
    >>> y.shape, [w.shape for w in lstm.get_weights()]
    ((2, 5, 8), [(3, 32), (8, 32), (32,)])
    >>> gru = layers.GRU(4, return_state=True)
    >>> out, h = gru(np.zeros((2, 5, 3), np.float32))
    >>> out.shape, gru.bias.shape
    ((2, 4), (2, 12))
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import initializers
from numnet.layers.rnn_base import RNNBase, _flag


class SimpleRNN(RNNBase):
    """Fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ R + bias)``.

    Args:
        units: the state size U.
        activation: "tanh" (default), "relu", "sigmoid" or "linear"/None.
        use_bias, kernel_initializer ("glorot_uniform"), recurrent_initializer
            ("orthogonal"), bias_initializer ("zeros"), *_regularizer,
            *_constraint: as in Keras.
        dropout, recurrent_dropout: drop rates of the inputs / of h_{t-1} in the
            recurrent product; one mask per sequence, training only.
        return_sequences: output every step (N, T, U) instead of the last (N, U).
        return_state: also return the final state: ``[output, h]``.
        go_backwards: process the sequence backwards (outputs in that order).
        seed: private seed of the dropout masks (default: numnet's generator).
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Weights: ``kernel`` (D, U), ``recurrent_kernel`` (U, U), ``bias`` (U,).

    Shape:
        input: (N, T, D); output: (N, T, U) or (N, U).
    """

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError(
                "SimpleRNN: unexpected keyword argument 'recurrent_activation' "
                "(a SimpleRNN has no gates)"
            )
        super().__init__(units, activation=activation, **kwargs)

    def _run(self, x, states, mask, rec_mask):
        return F.simple_rnn(
            x, self.kernel, self.recurrent_kernel, self.bias, states,
            **self._options(mask, rec_mask),
        )  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), Keras layout, gates z, r, h.

    ``reset_after=True`` (default, Keras/cuDNN form) applies the reset gate after
    the recurrent matrix product, ``h̃ = tanh(x W_h + b_h + r ⊙ (h R_h + b'_h))``,
    and has a (2, 3U) bias (input and recurrent rows); ``reset_after=False`` is the
    course-notes form ``h̃ = tanh(x W_h + (r ⊙ h) R_h + b_h)`` with a (3U,) bias.
    Both then mix ``h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃``.

    Args:
        units: the state size U.
        recurrent_activation: gate activation, "sigmoid" by default.
        reset_after: see above.
        Other arguments: as in :class:`SimpleRNN`.

    Weights: ``kernel`` (D, 3U), ``recurrent_kernel`` (U, 3U), ``bias`` (2, 3U) or
    (3U,).

    Shape:
        input: (N, T, D); output: (N, T, U) or (N, U).
    """

    n_gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = _flag("GRU", "reset_after", reset_after)

    def _bias_shape(self) -> tuple:
        G = 3 * self.units
        return (2, G) if self.reset_after else (G,)

    def _run(self, x, states, mask, rec_mask):
        return F.gru(
            x, self.kernel, self.recurrent_kernel, self.bias, states,
            reset_after=self.reset_after,
            recurrent_activation=self.recurrent_activation,
            **self._options(mask, rec_mask),
        )  # fmt: skip

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": self.recurrent_activation,
            "reset_after": self.reset_after,
        }


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras layout.

    Gates in Keras order i (input/update), f (forget), c (candidate), o (output)::

        [i, f, c̃, o] = [σ, σ, tanh, σ](x_t W + h_{t-1} R + b)
        c_t = f ⊙ c_{t-1} + i ⊙ c̃        h_t = o ⊙ tanh(c_t)

    Args:
        units: the state size U.
        recurrent_activation: gate activation, "sigmoid" by default.
        unit_forget_bias: initialise the forget-gate bias to 1 (Jozefowicz et al.
            2015) and the other biases with ``bias_initializer``.
        Other arguments: as in :class:`SimpleRNN`; ``return_state=True`` returns
        ``[output, h, c]`` and ``initial_state`` is ``[h0, c0]``.

    Weights: ``kernel`` (D, 4U), ``recurrent_kernel`` (U, 4U), ``bias`` (4U,).

    Shape:
        input: (N, T, D); output: (N, T, U) or (N, U).
    """

    n_gates = 4
    n_states = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = _flag("LSTM", "unit_forget_bias", unit_forget_bias)

    def _bias_args(self) -> tuple:
        init, regularizer, constraint = self._args["bias"]
        if not self.unit_forget_bias:
            return init, regularizer, constraint
        units = self.units

        def forget_bias_one(shape, dtype=None):
            # [b_i, b_f, b_c, b_o] = [init(U), 1, init(2U)] (Keras)
            ones = initializers.get("ones")((units,), dtype=dtype)
            rest = np.asarray(init((units * 3,), dtype=dtype))
            return np.concatenate([rest[:units], ones, rest[units:]])

        return forget_bias_one, regularizer, constraint

    def _run(self, x, states, mask, rec_mask):
        return F.lstm(
            x, self.kernel, self.recurrent_kernel, self.bias, states,
            recurrent_activation=self.recurrent_activation,
            **self._options(mask, rec_mask),
        )  # fmt: skip

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": self.recurrent_activation,
            "unit_forget_bias": self.unit_forget_bias,
        }
