"""Shared machinery of the fused recurrent ops (``numnet.functional.recurrent``).

A fused recurrent op is one :class:`Function` for a whole sequence:

* the input projection of *all* time steps is one GEMM,
  ``XW = x (T*N, D) @ kernel (D, G)`` (G = gates * units), computed before the loop;
* each step does one GEMM for the recurrent part, all gates concatenated;
* backpropagation through time is one backward loop writing the gate gradients
  of every step into a preallocated (T, N, G) buffer ``dY``, after which the
  weight gradients are again single GEMMs: ``dkernel = x^T @ dY``,
  ``drecurrent_kernel = h_prev^T @ dREC``, ``dx = dY @ kernel^T``.

Internally everything is *time-major* and in *processing order*: step ``t`` of
the loop is ``x[:, t]`` (or ``x[:, T-1-t]`` with ``go_backwards``), and step
arrays ``buffer[t]`` are contiguous (N, .) blocks. The hidden states live in one
(T+1, N, U) buffer ``H`` with ``H[0] = h0``, so ``H[:-1]`` are the previous
states of every step and ``H[1:]`` the outputs.

Gate activations (:class:`GatePlan`): a sigmoid is computed as
``σ(z) = (1 + tanh(z/2)) / 2``, so one ``np.tanh`` call covers every sigmoid
and tanh gate of a step and never overflows. The 1/2 is folded into the weight
columns of the sigmoid gates before the loop: the op runs the cell with weights
``W' = W ⊙ S`` (S = 1/2 on sigmoid columns, 1 elsewhere), whose sigmoid gates
are ``(1 + tanh(z'))/2``. Forward stores every gate's derivative with respect to
its scaled preactivation z' (``D = 1 - t²`` for tanh, ``(1 - t²)/2`` for
sigmoid gates), so backward turns gate gradients into preactivation gradients
with one multiplication ``dY = dgate ⊙ D``; the gradient of the unscaled
weights is that of W' times S (``dW = (x^T dY) ⊙ S``).

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


class GatePlan:
    """Activations of a cell's gates (U columns each) and the scalings they need.

    Attributes:
        S: (G,) factors of the weight columns (1/2 for sigmoid gates, so that
            their preactivation is z/2); they also scale the weight gradients.
    """

    def __init__(self, activations: list[str], units: int, dtype):
        self.acts, self.U = activations, units
        sigmoid = np.repeat([a == "sigmoid" for a in activations], units)
        self.S = np.where(sigmoid, 0.5, 1.0).astype(dtype)
        self.scaled = bool(sigmoid.any())

    def activate(self, a: np.ndarray, d, first: int, last: int) -> None:
        """Activate gates ``first..last-1`` of the (N, G) block ``a`` in place.

        When ``d`` is given, each gate's derivative with respect to its (scaled)
        preactivation goes to ``d``.
        """
        U, k = self.U, first
        while k < last:
            name = self.acts[k]
            end = k + 1
            tanh_family = ("tanh", "sigmoid")
            if name in tanh_family:  # one tanh call for a run of tanh/sigmoid gates
                while end < last and self.acts[end] in tanh_family:
                    end += 1
            block = a[:, k * U : end * U]
            dblock = None if d is None else d[:, k * U : end * U]
            _activate(block, dblock, name)
            for j in range(k, end):
                if self.acts[j] == "sigmoid":  # σ = (1 + t) / 2, σ' = (1 - t²) / 2
                    gate = a[:, j * U : (j + 1) * U]
                    gate *= 0.5
                    gate += 0.5
                    if d is not None:
                        d[:, j * U : (j + 1) * U] *= 0.5
            k = end


def _activate(z: np.ndarray, d, name: str) -> None:
    if name in ("tanh", "sigmoid"):
        np.tanh(z, out=z)
        if d is not None:  # tanh' = 1 - tanh^2
            np.multiply(z, z, out=d)
            np.subtract(1, d, out=d)
    elif name == "relu":
        np.maximum(z, 0, out=z)
        if d is not None:  # relu'(z) = [z > 0] = sign(relu(z))
            np.sign(z, out=d)
    elif d is not None:  # linear
        d.fill(1)


class FusedRecurrent(Function):
    """Base class of the fused SimpleRNN / GRU / LSTM ops.

    Inputs are ``(x, kernel, recurrent_kernel[, bias], *initial_states)``; which of
    them are present is fixed in ``__init__``. Outputs are
    ``(output, *final_states)``: ``output`` is the (N, T, U) sequence when
    ``return_sequences`` else the last hidden state (N, U).

    Subclasses set ``n_states`` and ``n_gates``, and implement ``_gates()`` (the
    activation of each gate), ``_xw_bias(bias)``, ``_loop(XW, states)`` and
    ``_loop_backward(dstates)``.
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
        N, T, D = x.shape
        U = recurrent_kernel.shape[0]
        self.N, self.T, self.D, self.U, self.dtype = N, T, D, U, x.dtype
        self.plan = plan = GatePlan(self._gates(), U, x.dtype)
        self.grad_mode = any(self.needs_input_grad)
        bias = rest[0] if self.has_bias else None
        states = rest[1:] if self.has_bias else rest
        if plan.scaled:  # sigmoid gates compute tanh(z/2): halve their columns
            kernel, recurrent_kernel = kernel * plan.S, recurrent_kernel * plan.S
            bias = None if bias is None else bias * plan.S
        self.kernel_scaled, self.rk_scaled = kernel, recurrent_kernel
        # time-major, processing order, contiguous: (T*N, D) for the big GEMMs
        x_tm = x.transpose(1, 0, 2)
        x2d = np.ascontiguousarray(x_tm[::-1] if self.go_backwards else x_tm)
        self.x2d = x2d.reshape(T * N, D)
        XW = (self.x2d @ kernel).reshape(T, N, self.n_gates * U)
        if bias is not None:
            XW += self._xw_bias(bias)
        self.DA = np.empty_like(XW) if self.grad_mode else None  # gate derivatives
        self._prepare_mask()
        if not states:
            states = [np.zeros((N, U), x.dtype) for _ in range(self.n_states)]
        finals = self._loop(XW, states)
        return (self._output(),) + tuple(finals)

    def _gates(self) -> list[str]:
        raise NotImplementedError

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
        self.rk_grad = self.rk_scaled.T  # dh_{t-1} = dY R'^T
        dY, grads_rk, dstates0 = self._loop_backward(dstates)
        return self._input_grads(dY) + grads_rk + self._state_grads(dstates0)

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

    def finish_dh(self, dh_new, dh_old, t, direct=None) -> None:
        """dh_{t-1} = (GEMM part) * rec_mask [+ direct part] [+ skipped samples' dh]."""
        if self.rec_mask is not None:
            dh_new *= self.rec_mask
        if direct is not None:
            dh_new += direct
        self.carry_grad_(dh_new, dh_old, t)

    def _input_grads(self, dY: np.ndarray) -> tuple:
        T, N, D = self.T, self.N, self.D
        dY2 = dY.reshape(T * N, -1)
        dx = dkernel = None
        if self.needs_input_grad[0]:
            dx = (dY2 @ self.kernel_scaled.T).reshape(T, N, D)
            dx = (dx[::-1] if self.go_backwards else dx).transpose(1, 0, 2)
        if self.needs_input_grad[1]:
            dkernel = (self.x2d.T @ dY2) * self.plan.S  # (D, T*N) @ (T*N, G)
        return dx, dkernel

    def _state_grads(self, dstates0: list) -> tuple:
        return tuple(dstates0) if self.has_state else ()

    def previous_states(self) -> np.ndarray:
        """(T*N, U): the recurrent GEMM's input at every step (dropout applied)."""
        Hp = self.H[:-1]
        if self.rec_mask is not None:
            Hp = Hp * self.rec_mask
        return Hp.reshape(self.T * self.N, self.U)
