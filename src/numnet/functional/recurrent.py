"""Fused recurrent ops: ``simple_rnn``, ``gru`` and ``lstm`` over whole sequences.

Each call is a single autograd node for the whole sequence (see
``numnet/functional/rnn_base.py`` for the loop structure and
``recurrent_cells.py`` for the cell equations). Weights use Keras's layouts and
gate orders, inputs are batch-major ``(N, T, D)``.

Example:
    >>> import numpy as np, numnet
    >>> import numnet.functional as F
    >>> rng = np.random.default_rng(0)
    >>> x = numnet.tensor(rng.normal(size=(2, 5, 3)).astype("float32"))
    >>> kernel = numnet.tensor(rng.normal(size=(3, 16)).astype("float32") * 0.3)
    >>> rkernel = numnet.tensor(rng.normal(size=(4, 16)).astype("float32") * 0.3)
    >>> out, h, c = F.lstm(x, kernel, rkernel, return_sequences=True)
    >>> out.shape, h.shape, c.shape, out.dtype
    ((2, 5, 4), (2, 4), (2, 4), dtype('float32'))
"""

from __future__ import annotations

from numnet import backend
from numnet.autograd.tensor import Tensor, array_module
from numnet.functional.recurrent_cells import _GRU, _LSTM, _SimpleRNN
from numnet.functional.rnn_base import FUSED_ACTIVATIONS


def simple_rnn(
    x,
    kernel,
    recurrent_kernel,
    bias=None,
    initial_state=None,
    *,
    mask=None,
    go_backwards: bool = False,
    return_sequences: bool = False,
    activation: str = "tanh",
    recurrent_dropout_mask=None,
) -> tuple[Tensor, Tensor]:
    """Elman RNN over a sequence: ``h_t = act(x_t @ kernel + h_{t-1} @ R + bias)``.

    Args:
        x: inputs (N, T, D).
        kernel: (D, U). recurrent_kernel: (U, U). bias: (U,) or None.
        initial_state: h0 (N, U) (or a one-element list), None for zeros.
        mask: bool array (N, T); False marks padded steps to skip (state carried
            through, output zero).
        go_backwards: process the sequence in reverse; outputs come in processing
            order (as in Keras).
        return_sequences: return every step's output instead of the last one.
        activation: "tanh", "sigmoid", "relu" or "linear".
        recurrent_dropout_mask: (N, U) multiplier of h_{t-1} in the recurrent GEMM.

    Returns:
        ``(output, h)``: output is (N, T, U) with return_sequences else (N, U).

    Shape:
        x: (N, T, D) -> output (N, T, U) or (N, U); h: (N, U)
    """
    return _run(_SimpleRNN, "simple_rnn", 1, x, kernel, recurrent_kernel, bias,
                initial_state, mask=mask, go_backwards=go_backwards,
                return_sequences=return_sequences, activation=activation,
                recurrent_dropout_mask=recurrent_dropout_mask)  # fmt: skip


def gru(
    x,
    kernel,
    recurrent_kernel,
    bias=None,
    initial_state=None,
    *,
    reset_after: bool = True,
    mask=None,
    go_backwards: bool = False,
    return_sequences: bool = False,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    recurrent_dropout_mask=None,
) -> tuple[Tensor, Tensor]:
    """Gated recurrent unit over a sequence (Keras layout, gates z, r, h).

    ``reset_after=True`` (Keras default) applies the reset gate after the
    recurrent GEMM, ``h̃ = act(x W_h + b_h + r ⊙ (h R_h + b'_h))``, bias (2, 3U);
    ``reset_after=False`` before it, ``h̃ = act(x W_h + (r ⊙ h) R_h + b_h)``, bias
    (3U,). Then ``h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃``. Other arguments as in
    :func:`simple_rnn`.

    Returns:
        ``(output, h)``.

    Shape:
        x: (N, T, D), kernel: (D, 3U), recurrent_kernel: (U, 3U) ->
        output (N, T, U) or (N, U); h: (N, U)
    """
    return _run(_GRU, "gru", 1, x, kernel, recurrent_kernel, bias, initial_state,
                reset_after=reset_after, mask=mask, go_backwards=go_backwards,
                return_sequences=return_sequences, activation=activation,
                recurrent_activation=recurrent_activation,
                recurrent_dropout_mask=recurrent_dropout_mask)  # fmt: skip


def lstm(
    x,
    kernel,
    recurrent_kernel,
    bias=None,
    initial_state=None,
    *,
    mask=None,
    go_backwards: bool = False,
    return_sequences: bool = False,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    recurrent_dropout_mask=None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Long short-term memory over a sequence (Keras layout, gates i, f, c, o).

    ``[i, f, c̃, o] = [σ, σ, act, σ](x W + h R + b)``, ``c_t = f ⊙ c_{t-1} + i ⊙ c̃``,
    ``h_t = o ⊙ act(c_t)``. ``initial_state`` is ``[h0, c0]`` or None. Other
    arguments as in :func:`simple_rnn`.

    Returns:
        ``(output, h, c)``.

    Shape:
        x: (N, T, D), kernel: (D, 4U), recurrent_kernel: (U, 4U), bias: (4U,) ->
        output (N, T, U) or (N, U); h, c: (N, U)
    """
    return _run(_LSTM, "lstm", 2, x, kernel, recurrent_kernel, bias, initial_state,
                mask=mask, go_backwards=go_backwards,
                return_sequences=return_sequences, activation=activation,
                recurrent_activation=recurrent_activation,
                recurrent_dropout_mask=recurrent_dropout_mask)  # fmt: skip


_GATES = {_SimpleRNN: 1, _GRU: 3, _LSTM: 4}


def _run(op_class, name, n_states, x, kernel, rkernel, bias, initial_state, *,
         mask, recurrent_dropout_mask, **options):  # fmt: skip
    x, kernel, rkernel = (_tensor(v) for v in (x, kernel, rkernel))
    bias = None if bias is None else _tensor(bias)
    states = _states(name, n_states, initial_state)
    _check(name, op_class, x, kernel, rkernel, bias, states, options)
    N, T, _ = x.shape
    U = rkernel.shape[0]
    xp = array_module(x)
    mask = _mask(name, mask, N, T, xp)
    rec_mask = _rec_mask(name, recurrent_dropout_mask, N, U, x.dtype, xp)
    op = op_class(has_bias=bias is not None, has_state=bool(states), mask=mask,
                  recurrent_dropout_mask=rec_mask, **options)  # fmt: skip
    inputs = [x, kernel, rkernel] + ([bias] if bias is not None else []) + states
    return op(*inputs)


def _tensor(v) -> Tensor:
    return v if isinstance(v, Tensor) else Tensor._from_op(backend.as_array(v))


def _states(name, n_states, initial_state) -> list:
    if initial_state is None:
        return []
    if isinstance(initial_state, Tensor) or backend.is_array(initial_state):
        initial_state = [initial_state]
    states = [_tensor(s) for s in initial_state]
    if len(states) != n_states:
        raise ValueError(
            f"{name}: invalid value for argument 'initial_state'. Expected "
            f"{n_states} state tensor(s) of shape (batch, units). Received: "
            f"{len(states)} tensor(s)"
        )
    return states


def _check(name, op_class, x, kernel, rkernel, bias, states, options) -> None:
    if x.ndim != 3:
        raise ValueError(
            f"{name}: expected inputs of shape (batch, time, features). "
            f"Received: x.shape={x.shape}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: inputs must be floating point. Received: {x.dtype}")
    N, T, D = x.shape
    if T == 0:
        raise ValueError(f"{name}: the sequence is empty (x.shape={x.shape})")
    U = rkernel.shape[0] if rkernel.ndim == 2 else -1
    G = _GATES[op_class] * U
    bias_shape = (G,)
    if op_class is _GRU and options.get("reset_after", True):
        bias_shape = (2, G)
    expected = {"kernel": (kernel, (D, G)), "recurrent_kernel": (rkernel, (U, G))}
    if bias is not None:
        expected["bias"] = (bias, bias_shape)
    for i, s in enumerate(states):
        expected[f"initial_state[{i}]"] = (s, (N, U))
    for arg, (t, shape) in expected.items():
        if t.shape != shape:
            raise ValueError(
                f"{name}: invalid shape for argument '{arg}'. Expected {shape} for "
                f"inputs {x.shape} and {U} units. Received: {t.shape}"
            )
        if t.dtype != x.dtype:
            raise TypeError(
                f"{name}: argument '{arg}' has dtype {t.dtype} but the inputs are "
                f"{x.dtype}; cast them to one dtype"
            )
    for arg in ("activation", "recurrent_activation"):
        if arg in options and options[arg] not in FUSED_ACTIVATIONS:
            raise ValueError(
                f"{name}: invalid value for argument '{arg}'. Expected one of "
                f"{list(FUSED_ACTIVATIONS)} (the fused op needs a derivative "
                f"written in terms of the output). Received: {arg}={options[arg]!r}"
            )


def _mask(name, mask, N, T, xp):
    if mask is None:
        return None
    mask = xp.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.shape != (N, T):
        raise ValueError(
            f"{name}: invalid value for argument 'mask'. Expected a boolean array "
            f"of shape (batch, time) = {(N, T)}. Received: shape {mask.shape}"
        )
    mask = mask.astype(bool, copy=False)
    return None if mask.all() else mask


def _rec_mask(name, rec_mask, N, U, dtype, xp):
    if rec_mask is None:
        return None
    rec_mask = xp.asarray(rec_mask.data if isinstance(rec_mask, Tensor) else rec_mask)
    if rec_mask.shape not in ((N, U), (1, U), (U,)):
        raise ValueError(
            f"{name}: invalid value for argument 'recurrent_dropout_mask'. Expected "
            f"shape {(N, U)}. Received: shape {rec_mask.shape}"
        )
    return rec_mask.astype(dtype, copy=False)
