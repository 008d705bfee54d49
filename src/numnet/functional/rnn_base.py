"""Shared machinery of the fused recurrent ops (``numnet.functional.recurrent``).

A fused recurrent op is one :class:`Function` for a whole sequence:

* the input projection of *all* time steps is one GEMM,
  ``XW = x (T*N, D) @ kernel (D, G)`` (G = gates * units), computed before the loop;
* each step does one GEMM for the recurrent part, all gates concatenated;
* backpropagation through time is one backward loop writing the gate gradients
  of every step into a preallocated (T, N, G) buffer, after which the weight
  gradients are again single GEMMs: ``dkernel = x^T @ dXW``,
  ``drecurrent_kernel = h_prev^T @ dREC``, ``dx = dXW @ kernel^T``.

Internally everything is *time-major* and in *processing order*: step ``t`` of
the loop is ``x[:, t]`` (or ``x[:, T-1-t]`` with ``go_backwards``), and step
arrays ``buffer[t]`` are contiguous (N, .) blocks. The hidden states live in one
(T+1, N, U) buffer ``H`` with ``H[0] = h0``, so ``H[:-1]`` are the previous
states of every step and ``H[1:]`` the outputs.

Masking (Keras semantics): where ``mask[n, t]`` is False, sample ``n`` skips
step ``t``: its states are carried through unchanged and its output at that step
is zero. In backward the skipped step passes the state gradients straight back
and gives no gradient to the gates.
"""

from __future__ import annotations

import numpy as np

from numnet.autograd.function import Function

#: activations the fused ops support: their derivative is a function of the output
FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


def activate_(z: np.ndarray, name: str, out: np.ndarray | None = None) -> np.ndarray:
    """Apply the activation ``name`` to ``z``, in place or into ``out``."""
    out = z if out is None else out
    if name == "tanh":
        np.tanh(z, out=out)
    elif name == "sigmoid":
        # sigma(z) = (1 + tanh(z/2)) / 2: one transcendental and no overflow for
        # any z (1 / (1 + exp(-z)) overflows exp for z < -88 in float32)
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
    elif name == "relu":
        np.maximum(z, 0, out=out)
    elif out is not z:
        np.copyto(out, z)
    return out


def times_derivative_(g: np.ndarray, y: np.ndarray, name: str, tmp: np.ndarray) -> None:
    """``g *= act'(z)`` in place, with act' written in terms of the output y = act(z).

    sigmoid' = y (1 - y); tanh' = 1 - y^2; relu' = [y > 0]; linear' = 1.
    ``tmp`` is scratch space of g's shape.
    """
    if name == "sigmoid":
        np.subtract(1, y, out=tmp)
        tmp *= y
        g *= tmp
    elif name == "tanh":
        np.multiply(y, y, out=tmp)
        np.subtract(1, tmp, out=tmp)
        g *= tmp
    elif name == "relu":
        np.copyto(g, 0, where=y <= 0)


class FusedRecurrent(Function):
    """Base class of the fused SimpleRNN / GRU / LSTM ops.

    Inputs are ``(x, kernel, recurrent_kernel[, bias], *initial_states)``; which of
    them are present is fixed in ``__init__``. Outputs are
    ``(output, *final_states)``: ``output`` is the (N, T, U) sequence when
    ``return_sequences`` else the last hidden state (N, U).

    Subclasses set ``n_states`` and ``n_gates`` and implement
    ``_xw_bias(bias)``, ``_loop(XW, states)`` and ``_loop_backward(dh, dstates)``.
    """

    n_states = 1
    n_gates = 1

    def __init__(
        self,
        *,
        has_bias: bool,
        has_state: bool,
        mask=None,
        go_backwards: bool = False,
        return_sequences: bool = False,
        recurrent_dropout_mask=None,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
    ):
        self.has_bias, self.has_state = has_bias, has_state
        self.mask = mask
        self.go_backwards = go_backwards
        self.return_sequences = return_sequences
        self.rec_mask = recurrent_dropout_mask
        self.activation = activation
        self.recurrent_activation = recurrent_activation

    def forward(self, x, kernel, recurrent_kernel, *rest):
        bias = rest[0] if self.has_bias else None
        states = rest[1:] if self.has_bias else rest
        N, T, D = x.shape
        U = recurrent_kernel.shape[0]
        self.kernel, self.recurrent_kernel = kernel, recurrent_kernel
        self.dtype = x.dtype
        self.N, self.T, self.D, self.U = N, T, D, U
        # time-major, processing order, contiguous: (T*N, D) for the big GEMMs
        x_tm = x.transpose(1, 0, 2)
        self.x2d = np.ascontiguousarray(x_tm[::-1] if self.go_backwards else x_tm)
        self.x2d = self.x2d.reshape(T * N, D)
        XW = (self.x2d @ kernel).reshape(T, N, self.n_gates * U)
        if bias is not None:
            XW += self._xw_bias(bias)
        self._prepare_mask()
        if not states:
            states = [np.zeros((N, U), x.dtype) for _ in range(self.n_states)]
        finals = self._loop(XW, states)
        return (self._output(),) + tuple(finals)

    def _prepare_mask(self) -> None:
        if self.mask is None:
            self.skips = None
            return
        m = self.mask.T  # (T, N) time-major
        m = m[::-1] if self.go_backwards else m
        self.keep = m[:, :, None]  # bool (T, N, 1): True = process the step
        self.skip = ~self.keep
        self.keep_f = self.keep.astype(self.dtype)
        self.skips = ~m.all(axis=1)  # steps where at least one sample skips

    def skipped(self, t: int) -> bool:
        """Whether some sample skips step ``t`` (only those steps pay for masking)."""
        return self.skips is not None and bool(self.skips[t])

    def carry_(self, new: np.ndarray, old: np.ndarray, t: int) -> None:
        """Where step ``t`` is masked, overwrite the new state with the old one."""
        if self.skipped(t):
            np.copyto(new, old, where=self.skip[t])

    def recurrent_input(self, h: np.ndarray, out: np.ndarray) -> np.ndarray:
        """h, or h * recurrent_dropout_mask (the same mask at every step)."""
        if self.rec_mask is None:
            return h
        return np.multiply(h, self.rec_mask, out=out)

    def _output(self) -> np.ndarray:
        H = self.H
        if not self.return_sequences:
            return H[-1]
        seq = H[1:] if self.skips is None else H[1:] * self.keep_f  # masked steps -> 0
        return seq.transpose(1, 0, 2)  # (N, T, U), a view of the time-major buffer

    def backward(self, gy, *gstates):
        if self.return_sequences:
            self.gy = gy.transpose(1, 0, 2)  # time-major view (T, N, U)
            dh = gstates[0].copy()
        else:
            self.gy = None
            dh = gstates[0] + gy
        dstates = [dh] + [g.copy() for g in gstates[1:]]
        dXW, grads_rk, dstates0 = self._loop_backward(dstates)
        return self._input_grads(dXW) + grads_rk + self._state_grads(dstates0)

    def step_grad(self, dh: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
        """The gradient reaching the cell at step t: (dh + dy_t) * keep_t, into out."""
        if self.gy is not None:
            np.add(dh, self.gy[t], out=out)
        else:
            np.copyto(out, dh)
        if self.skipped(t):
            out *= self.keep_f[t]
        return out

    def carry_grad_(self, d_new: np.ndarray, d_old: np.ndarray, t: int) -> None:
        """Add the gradient that skipped samples pass straight through step t."""
        if self.skipped(t):
            d_new += d_old * self.skip[t]

    def _input_grads(self, dXW: np.ndarray) -> tuple:
        T, N, D = self.T, self.N, self.D
        dXW2 = dXW.reshape(T * N, -1)
        dx = dkernel = None
        if self.needs_input_grad[0]:
            dx = (dXW2 @ self.kernel.T).reshape(T, N, D)
            dx = (dx[::-1] if self.go_backwards else dx).transpose(1, 0, 2)
        if self.needs_input_grad[1]:
            dkernel = self.x2d.T @ dXW2  # (D, T*N) @ (T*N, G)
        return dx, dkernel

    def _state_grads(self, dstates0: list) -> tuple:
        return tuple(dstates0) if self.has_state else ()

    def previous_states(self) -> np.ndarray:
        """(T*N, U): the recurrent GEMM's input at every step (dropout applied)."""
        Hp = self.H[:-1]
        if self.rec_mask is not None:
            Hp = Hp * self.rec_mask
        return Hp.reshape(self.T * self.N, self.U)
