"""Shared machinery of the fused recurrent ops (``numnet.functional.recurrent``).

A fused recurrent op is one :class:`Function` for a whole sequence:

* the input projection of *all* time steps is computed before the loop,
  ``XW[t] = kernel^T x_t`` for every t in one batched GEMM;
* each step does one GEMM for the recurrent part, all gates concatenated;
* backpropagation through time is one backward loop writing the preactivation
  gradients of every step into a preallocated buffer ``dY``; the weight
  gradients are then single GEMMs over all (step, sample) columns, e.g.
  ``dkernel = Σ_t x_t dY_t^T = X_cols @ dY_cols^T`` with (., T*N) column views
  of the buffers (:func:`steps_as_columns`).

Layout. Inside the op everything is *time-major*, in *processing order* (step
``t`` reads ``x[:, t]``, or ``x[:, T-1-t]`` with ``go_backwards``) and
*feature-major*: a state is stored as (U, N), one column per sample, and the
gates of a step as (G, N) with gate k in rows ``k*U:(k+1)*U``. Every gate of
every step is then a contiguous block, which matters: a NumPy ufunc on a (N, U)
column slice of an (N, 4U) row-major array runs about 5x slower than on a
contiguous block of the same size. The states live in one (T+1, U, N) buffer
``H`` with ``H[0] = h0``. Outputs are handed back batch-major as transposed
views, so a stacked RNN reads its input without a copy.

Masking (Keras semantics): where ``mask[n, t]`` is False, sample ``n`` skips
step ``t``: its states are carried through unchanged and its output at that step
is zero. In backward the skipped step passes the state gradients straight back
and gives no gradient to the gates.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.function import Function

#: activations the fused ops support: their derivative is a function of the output
FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


def activate_(z: np.ndarray, name: str, out: np.ndarray | None = None) -> np.ndarray:
    """Apply the activation ``name`` to ``z``, in place or into ``out``."""
    xp = backend.get_array_module(z)
    out = z if out is None else out
    if name == "tanh":
        xp.tanh(z, out=out)
    elif name == "sigmoid":
        # sigma(z) = (1 + tanh(z/2)) / 2: one transcendental and no overflow for
        # any z (1 / (1 + exp(-z)) overflows exp for z < -88 in float32)
        xp.multiply(z, 0.5, out=out)
        xp.tanh(out, out=out)
        out *= 0.5
        out += 0.5
    elif name == "relu":
        xp.maximum(z, 0, out=out)
    elif out is not z:
        xp.copyto(out, z)
    return out


def times_derivative_(g: np.ndarray, y: np.ndarray, name: str, tmp: np.ndarray) -> None:
    """``g *= act'(z)`` in place, with act' written in terms of the output y = act(z).

    sigmoid' = y (1 - y); tanh' = 1 - y^2; relu' = [y > 0]; linear' = 1.
    ``tmp`` is scratch space of g's shape.
    """
    xp = backend.get_array_module(g)
    if name == "sigmoid":
        xp.subtract(1, y, out=tmp)
        tmp *= y
        g *= tmp
    elif name == "tanh":
        xp.multiply(y, y, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        g *= tmp
    elif name == "relu":
        xp.copyto(g, 0, where=y <= 0)


def steps_as_columns(A: np.ndarray) -> np.ndarray:
    """(T, P, N) -> (P, T*N): every step's columns side by side (one copy).

    ``Σ_t A[t] @ B[t]^T`` is then one GEMM, ``cols(A) @ cols(B)^T``: one BLAS call
    instead of T (measured equal on one thread, and 1.8x faster with two BLAS
    threads on a busy machine, where every extra call waits for a thread).
    """
    xp = backend.get_array_module(A)
    T, P, N = A.shape
    return xp.ascontiguousarray(A.transpose(1, 0, 2)).reshape(P, T * N)


def row_sums(cols: np.ndarray) -> np.ndarray:
    """Σ over columns of a (P, T*N) array, by a GEMV (a bias gradient)."""
    xp = backend.get_array_module(cols)
    return cols @ xp.ones(cols.shape[1], cols.dtype)


class FusedRecurrent(Function):
    """Base class of the fused SimpleRNN / GRU / LSTM ops.

    Inputs are ``(x, kernel, recurrent_kernel[, bias], *initial_states)``; which of
    them are present is fixed in ``__init__``. Outputs are
    ``(output, *final_states)``: ``output`` is the (N, T, U) sequence when
    ``return_sequences`` else the last hidden state (N, U).

    Subclasses set ``n_states`` and ``n_gates`` and implement
    ``_xw_bias(bias)`` (a (G,) vector added to every step's projection),
    ``_loop(XW, states)``, ``_loop_backward(dstates)`` (returning the (T, G, N)
    input-projection gradient and the initial-state gradients) and
    ``_recurrent_grads(cols)`` (the recurrent-kernel and bias gradients).
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
        self.N, self.T, self.D, self.U, self.dtype = N, T, D, U, x.dtype
        self.kernel, self.recurrent_kernel = kernel, recurrent_kernel
        self._prepare_masks()
        if states:
            states = [self.xp.ascontiguousarray(s.T) for s in states]  # (U, N)
        else:
            states = [self.xp.zeros((U, N), x.dtype) for _ in range(self.n_states)]
        finals = self._forward_loop(x, kernel, recurrent_kernel, bias, states)
        return (self._output(),) + tuple(s.T for s in finals)

    def _forward_loop(self, x, kernel, recurrent_kernel, bias, states) -> tuple:
        """The input projection of every step in one batched GEMM, then the loop."""
        self.rk_T = self.xp.ascontiguousarray(recurrent_kernel.T)  # (G, U): rec = R^T h
        xf = x.transpose(1, 2, 0)  # (T, D, N); free when x is a stacked RNN's output
        self.xf = self.xp.ascontiguousarray(xf[::-1] if self.go_backwards else xf)
        XW = self.xp.matmul(kernel.T, self.xf)  # (G, D) @ (T, D, N) -> (T, G, N)
        if bias is not None:
            XW += self._xw_bias(bias)[:, None]
        return self._loop(XW, states)

    def _prepare_masks(self) -> None:
        if self.rec_mask is not None:  # (N, U) or (U,) -> (U, N) or (U, 1)
            m = self.rec_mask
            self.rec_mask = self.xp.ascontiguousarray(
                m.T if m.ndim == 2 else m[:, None]
            )
        if self.mask is None:
            self.skips = None
            return
        m = self.mask.T  # (T, N) time-major
        m = m[::-1] if self.go_backwards else m
        self.keep = m[:, None, :]  # bool (T, 1, N): True = process the step
        self.skip = ~self.keep
        self.keep_f = self.keep.astype(self.dtype)
        self.skips = ~m.all(axis=1)  # steps where at least one sample skips

    def skipped(self, t: int) -> bool:
        """Whether some sample skips step ``t`` (only those steps pay for masking)."""
        return self.skips is not None and bool(self.skips[t])

    def carry_(self, new: np.ndarray, old: np.ndarray, t: int) -> None:
        """Where step ``t`` is masked, overwrite the new state with the old one."""
        if self.skipped(t):
            self.xp.copyto(new, old, where=self.skip[t])

    def recurrent_input(self, h: np.ndarray, out: np.ndarray) -> np.ndarray:
        """h, or h * recurrent_dropout_mask (the same mask at every step)."""
        if self.rec_mask is None:
            return h
        return self.xp.multiply(h, self.rec_mask, out=out)

    def _output(self) -> np.ndarray:
        H = self.H
        if not self.return_sequences:
            return H[-1].T
        seq = H[1:] if self.skips is None else H[1:] * self.keep_f  # masked steps -> 0
        return seq.transpose(2, 0, 1)  # (N, T, U), a view of the (T, U, N) buffer

    def backward(self, gy, *gstates):
        # fresh (U, N) copies: the loop overwrites them; the engine's may be shared
        dstates = [self.xp.array(g.T, order="C") for g in gstates]
        if self.return_sequences:
            self.gy = self.xp.ascontiguousarray(gy.transpose(1, 2, 0))  # (T, U, N)
        else:
            self.gy = None
            dstates[0] += gy.T
        dY, dstates0 = self._loop_backward(dstates)
        cols = steps_as_columns(dY)  # (G, T*N)
        return (
            self._input_grads(cols)
            + self._recurrent_grads(cols)
            + self._state_grads(dstates0)
        )

    def step_grad(self, dh, t: int, out, alias: bool = False) -> np.ndarray:
        """The gradient reaching the cell at step t: (dh + dy_t) * keep_t, into out.

        With ``alias=True`` it may return ``dh`` itself when there is nothing to
        add or mask (the caller then owns dh and may overwrite it).
        """
        if alias and self.gy is None and not self.skipped(t):
            return dh
        if self.gy is not None:
            self.xp.add(dh, self.gy[t], out=out)
        else:
            self.xp.copyto(out, dh)
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

    def _input_grads(self, cols: np.ndarray) -> tuple:
        dkernel = None
        if self.needs_input_grad[1]:
            dkernel = steps_as_columns(self.xf) @ cols.T  # Σ_t x_t dY_t^T: (D, G)
        return self.input_grad(cols), dkernel

    def input_grad(self, cols: np.ndarray):
        """dx (N, T, D) from the (G, T*N) gate-gradient columns, or None."""
        if not self.needs_input_grad[0]:
            return None
        T, N, D = self.T, self.N, self.D
        dx = (self.kernel @ cols).reshape(D, T, N)  # dx_t = W dY_t
        return (dx[:, ::-1] if self.go_backwards else dx).transpose(2, 1, 0)

    def weight_grads(self, Hp, cols_rec, bias_grad) -> tuple:
        """(drecurrent_kernel[, dbias]) for the inputs that need them, else None.

        ``drecurrent_kernel = Σ_t h_{t-1} dREC_t^T`` from the (T, U, N) previous
        states and the (G, T*N) columns of the recurrent preactivation gradient.
        """
        drk = None
        if self.needs_input_grad[2]:
            drk = steps_as_columns(Hp) @ cols_rec.T
        if not self.has_bias:
            return (drk,)
        return drk, (bias_grad() if self.needs_input_grad[3] else None)

    def _state_grads(self, dstates0: list) -> tuple:
        return tuple(d.T for d in dstates0) if self.has_state else ()

    def previous_states(self) -> np.ndarray:
        """(T, U, N): the recurrent GEMM's input at every step (dropout applied)."""
        Hp = self.H[:-1]
        return Hp if self.rec_mask is None else Hp * self.rec_mask
