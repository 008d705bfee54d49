"""The fused SimpleRNN, GRU and LSTM ops: forward loop and BPTT loop of each cell.

Weight layouts and gate orders are Keras's, so weights move between numnet and
Keras unchanged. With x_t (N, D), h (N, U), ``kernel`` W (D, G),
``recurrent_kernel`` R (U, G), σ the recurrent activation (sigmoid) and φ the
activation (tanh):

SimpleRNN (G = U)::

    h_t = φ(x_t W + h_{t-1} R + b)

LSTM (G = 4U, gates i, f, c, o; bias (4U,))::

    [i, f, c̃, o] = [σ, σ, φ, σ](x_t W + h_{t-1} R + b)
    c_t = f ⊙ c_{t-1} + i ⊙ c̃
    h_t = o ⊙ φ(c_t)

GRU (G = 3U, gates z, r, h), ``reset_after=True`` (Keras default, bias (2, 3U) =
[input bias; recurrent bias])::

    [xz, xr, xh] = x_t W + b_in          [rz, rr, rh] = h_{t-1} R + b_rec
    z = σ(xz + rz)    r = σ(xr + rr)    h̃ = φ(xh + r ⊙ rh)
    h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃

GRU ``reset_after=False`` (the original Cho et al. form, bias (3U,))::

    z = σ(xz + h_{t-1} R_z)    r = σ(xr + h_{t-1} R_r)
    h̃ = φ(xh + (r ⊙ h_{t-1}) R_h)
    h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃

The code computes the same products transposed, on feature-major buffers (see
``rnn_base.py``): a step's gates are ``R^T h_{t-1}`` (G, N) and gate k is the row
block ``k*U:(k+1)*U``. Recurrent dropout multiplies h_{t-1} by a fixed mask
where it enters a recurrent GEMM (R), never in the carried state.
"""

from __future__ import annotations

from numnet import backend
from numnet.functional.rnn_base import (
    FusedRecurrent,
    activate_,
    row_sums,
    steps_as_columns,
    times_derivative_,
)

#: backends whose ``Ops`` run a cell's gate math as one kernel (``lstm_cell_``,
#: ``gru_cell_`` and their ``_backward_``): the loops call them there, with the
#: default activations. On NumPy the reference methods would allocate
#: temporaries, and the in-place loops below are the measured fast path.
FUSED_CELL_BACKENDS = ("cupy",)


def _empty(*shape, like):
    return backend.get_array_module(like).empty(shape, dtype=like.dtype)


class _SimpleRNN(FusedRecurrent):
    """h_t = φ(W^T x_t + R^T h_{t-1} + b); the preactivation buffer is H itself."""

    def _xw_bias(self, bias):
        return bias

    def _loop(self, XW, states):
        T, N, U = self.T, self.N, self.U
        self.H = H = _empty(T + 1, U, N, like=XW)
        H[0], H[1:] = states[0], XW
        hd, rec = _empty(U, N, like=XW), _empty(U, N, like=XW)
        for t in range(T):
            self.xp.matmul(self.rk_T, self.recurrent_input(H[t], hd), out=rec)
            H[t + 1] += rec
            activate_(H[t + 1], self.activation)
            self.carry_(H[t + 1], H[t], t)
        return (H[T],)

    def _loop_backward(self, dstates):
        T, N, U = self.T, self.N, self.U
        H, R = self.H, self.recurrent_kernel
        dY = _empty(T, U, N, like=H)
        dh, dh_next, tmp = dstates[0], _empty(U, N, like=H), _empty(U, N, like=H)
        for t in reversed(range(T)):
            dy = self.step_grad(dh, t, dY[t])
            times_derivative_(dy, H[t + 1], self.activation, tmp)  # dz = dh φ'(z)
            self.xp.matmul(R, dy, out=dh_next)  # dh_{t-1} = R dz
            self.finish_dh(dh_next, dh, t)
            dh, dh_next = dh_next, dh
        return dY, [dh]

    def _recurrent_grads(self, cols):
        return self.weight_grads(self.previous_states(), cols, lambda: row_sums(cols))

    def _default_activations(self) -> bool:
        return self.activation == "tanh" and self.recurrent_activation == "sigmoid"

    def _fused_cell(self, name: str):
        """``ops.<name>`` where it is one kernel (CuPy, default activations)."""
        if self.ops.name in FUSED_CELL_BACKENDS and self._default_activations():
            return getattr(self.ops, name)
        return None


class _LSTM(_SimpleRNN):
    """The LSTM cell; gate buffer A (T, 4U, N) holds [i, f, c̃, o] after activation.

    With a bias and no recurrent dropout, each step is one GEMM on stacked
    operands, ``a_t = [W^T R^T b] [x_t; h_{t-1}; 1]``, read from a buffer Z
    (T+1, D+U+1, N) whose rows D:D+U *are* the states H: no separate input
    projection, no ``a += R^T h`` pass, and in backward a single GEMM
    ``Σ_t [x_t; h_{t-1}; 1] dA_t^T = [dW; dR; db]`` for all three weights.
    """

    n_states = 2
    n_gates = 4
    Z = None  # the stacked [x_t; h_{t-1}; 1] buffer when that path is taken
    halved = False  # sigmoid-gate rows of w_all pre-scaled by 1/2 (see _activate_)

    def _forward_loop(self, x, kernel, recurrent_kernel, bias, states) -> tuple:
        if bias is None or self.rec_mask is not None:
            return super()._forward_loop(x, kernel, recurrent_kernel, bias, states)
        T, N, D, U = self.T, self.N, self.D, self.U
        xf = x.transpose(1, 2, 0)  # (T, D, N)
        self.Z = Z = self.xp.empty((T + 1, D + U + 1, N), dtype=x.dtype)
        Z[:T, :D] = xf[::-1] if self.go_backwards else xf
        Z[T, :D] = 0  # never read: the last state has no next step
        Z[:, D + U] = 1
        self.w_all = self.xp.concatenate(
            [kernel.T, recurrent_kernel.T, bias[:, None]], axis=1
        )  # (4U, D+U+1)
        if self._fused_cell("lstm_cell_") is None and self._default_activations():
            # σ(z) = (1 + tanh(z/2)) / 2: with the sigmoid rows halved in the
            # GEMM (exact: a power of two), one tanh activates all four gates
            self.w_all[: 2 * U] *= 0.5
            self.w_all[3 * U :] *= 0.5
            self.halved = True
        return self._loop(_empty(T, 4 * U, N, like=Z), states)

    def _preactivation_(self, a, t, rec, hd) -> None:
        """Write step t's gate preactivations into ``a`` (4U, N)."""
        if self.Z is not None:  # a_t = [W^T R^T b] [x_t; h_{t-1}; 1]
            self.xp.matmul(self.w_all, self.Z[t], out=a)
        else:  # a_t = (W^T x_t + b, projected before the loop) + R^T h_{t-1}
            self.xp.matmul(self.rk_T, self.recurrent_input(self.H[t], hd), out=rec)
            a += rec

    def _activate_(self, a) -> None:
        """[i, f, c̃, o] = [σ, σ, φ, σ](a), in place."""
        U, act, rec_act = self.U, self.activation, self.recurrent_activation
        if self.halved:  # a holds [i/2, f/2, c̃, o/2]
            self.xp.tanh(a, out=a)
            for block in (a[: 2 * U], a[3 * U :]):
                block *= 0.5
                block += 0.5
            return
        activate_(a[: 2 * U], rec_act)  # i and f together
        activate_(a[2 * U : 3 * U], act)
        activate_(a[3 * U :], rec_act)

    def _loop(self, XW, states):
        T, N, U, D = self.T, self.N, self.U, self.D
        self.A = XW  # activated in place, step by step
        if self.Z is not None:
            self.H = H = self.Z[:, D : D + U]  # (T+1, U, N) view: h_t feeds step t+1
        else:
            self.H = H = _empty(T + 1, U, N, like=XW)
        self.C = C = _empty(T + 1, U, N, like=XW)
        self.PC = PC = _empty(T, U, N, like=XW)  # φ(c_t)
        H[0], C[0] = states
        rec = _empty(4 * U, N, like=XW)
        hd, tmp = _empty(U, N, like=XW), _empty(U, N, like=XW)
        fused_cell = self._fused_cell("lstm_cell_")
        for t in range(T):
            a = XW[t]
            self._preactivation_(a, t, rec, hd)
            if fused_cell is not None:  # one kernel for all the gate math
                fused_cell(a, C[t], C[t + 1], PC[t], H[t + 1])
            else:
                self._cell_(a, C[t], C[t + 1], PC[t], H[t + 1], tmp)
            self.carry_(H[t + 1], H[t], t)
            self.carry_(C[t + 1], C[t], t)
        return H[T], C[T]

    def _cell_(self, a, c_prev, c, pc, h, tmp) -> None:
        U = self.U
        self._activate_(a)
        i, f, g, o = a[:U], a[U : 2 * U], a[2 * U : 3 * U], a[3 * U :]
        self.xp.multiply(f, c_prev, out=c)  # c_t = f c_{t-1} + i c̃
        c += self.xp.multiply(i, g, out=tmp)
        activate_(c, self.activation, out=pc)
        self.xp.multiply(o, pc, out=h)  # h_t = o φ(c_t)

    def _loop_backward(self, dstates):
        T, N, U = self.T, self.N, self.U
        A, R, dh, dc = self.A, self.recurrent_kernel, dstates[0], dstates[1]
        self.dA = dA = self.xp.empty_like(A)
        fused = self._fused_cell("lstm_cell_backward_")
        self.bufs = [_empty(U, N, like=A) for _ in range(4)]
        self.bufs.append(_empty(2 * U, N, like=A))
        dh_next, dc_next = _empty(U, N, like=A), _empty(U, N, like=A)
        for t in reversed(range(T)):
            dht, dct = self._cell_grads(dh, dc, t)
            if fused is not None:  # one kernel: dA[t] and dc_{t-1} = dc_t f
                fused(A[t], self.C[t], self.PC[t], dht, dct, dA[t], dc_next)
            else:
                self._cell_backward(dht, dct, t)
                self.xp.multiply(dct, A[t, U : 2 * U], out=dc_next)  # dc_t f
            self.carry_grad_(dc_next, dc, t)
            self.xp.matmul(R, dA[t], out=dh_next)  # dh_{t-1} = R dz
            self.finish_dh(dh_next, dh, t)
            dh, dh_next, dc, dc_next = dh_next, dh, dc_next, dc
        return dA, [dh, dc]

    def _cell_grads(self, dh, dc, t) -> tuple:
        """The gradients reaching step t's h_t and c_t (masked samples: zero)."""
        dht, dct = self.bufs[:2]
        dht = self.step_grad(dh, t, dht, alias=True)
        if self.skipped(t):  # dc itself must stay intact for the skipped samples
            return dht, self.xp.multiply(dc, self.keep_f[t], out=dct)
        return dht, dc

    def _cell_backward(self, dht, dct, t) -> None:
        """Write step t's gate preactivation gradients into dA[t]; dct += dh ∂c/∂h."""
        U, a, da = self.U, self.A[t], self.dA[t]
        act, rec_act = self.activation, self.recurrent_activation
        tmp, tmp2, tmp_if = self.bufs[2:]
        i, g, o = a[:U], a[2 * U : 3 * U], a[3 * U :]
        do = self.xp.multiply(dht, self.PC[t], out=da[3 * U :])  # h = o φ(c)
        times_derivative_(do, o, rec_act, tmp)
        self.xp.multiply(dht, o, out=tmp2)  # dc += dh o φ'(c)
        times_derivative_(tmp2, self.PC[t], act, tmp)
        dct += tmp2
        self.xp.multiply(dct, g, out=da[:U])  # di = dc c̃
        self.xp.multiply(dct, self.C[t], out=da[U : 2 * U])  # df = dc c_{t-1}
        times_derivative_(da[: 2 * U], a[: 2 * U], rec_act, tmp_if)
        dg = self.xp.multiply(dct, i, out=da[2 * U : 3 * U])  # dc̃ = dc i
        times_derivative_(dg, g, act, tmp)

    def _input_grads(self, cols):
        if self.Z is None:
            return super()._input_grads(cols)
        # Σ_t [x_t; h_{t-1}; 1] dA_t^T = [dW; dR; db]: one GEMM for all weights
        self.dw = steps_as_columns(self.Z[:-1]) @ cols.T  # (D+U+1, 4U)
        dkernel = self.dw[: self.D] if self.needs_input_grad[1] else None
        return self.input_grad(cols), dkernel

    def _recurrent_grads(self, cols):
        if self.Z is None:
            return super()._recurrent_grads(cols)
        D, U, needs = self.D, self.U, self.needs_input_grad
        drk = self.dw[D : D + U] if needs[2] else None
        return drk, (self.dw[D + U] if needs[3] else None)


class _GRU(_SimpleRNN):
    """The GRU cell; gate buffer A (T, 3U, N) holds [z, r, h̃] after activation."""

    n_gates = 3

    def __init__(self, *, reset_after: bool = True, **options):
        super().__init__(**options)
        self.reset_after = reset_after
        self.b_rh = None

    def _xw_bias(self, bias):
        if not self.reset_after:
            return bias
        U = self.U
        b = bias[0].copy()
        b[: 2 * U] += bias[1, : 2 * U]  # recurrent z and r biases simply add
        self.b_rh = bias[1, 2 * U :, None]  # the h one sits inside r ⊙ (R_h^T h + b)
        return b

    def _fused_cell(self, name: str):
        return super()._fused_cell(name) if self.reset_after else None

    def _loop(self, XW, states):
        T, N, U = self.T, self.N, self.U
        self.A = XW
        self.H = H = _empty(T + 1, U, N, like=XW)
        H[0] = states[0]
        if self.reset_after:
            self.REC = _empty(T, 3 * U, N, like=XW)  # R^T h_{t-1} + b_rec per step
        else:
            self.RH = _empty(T, U, N, like=XW)  # r ⊙ h_{t-1}, input of the R_h GEMM
        self.hd, self.tmp = _empty(U, N, like=XW), _empty(2 * U, N, like=XW)
        self.fused = self._fused_cell("gru_cell_")
        for t in range(T):
            self._step(XW[t], t)
            self.carry_(H[t + 1], H[t], t)
        return (H[T],)

    def _step(self, a, t) -> None:
        U, H, tmp, rk_T = self.U, self.H, self.tmp, self.rk_T
        z, r, hh = a[:U], a[U : 2 * U], a[2 * U :]
        hd = self.recurrent_input(H[t], self.hd)
        if self.reset_after:
            rec = self.xp.matmul(rk_T, hd, out=self.REC[t])
            if self.b_rh is not None:
                rec[2 * U :] += self.b_rh
            if self.fused is not None:  # one kernel for the gate math
                self.fused(a, rec, H[t], H[t + 1])  # H[t]: the undropped state
                return
            a[: 2 * U] += rec[: 2 * U]
            activate_(a[: 2 * U], self.recurrent_activation)
            hh += self.xp.multiply(r, rec[2 * U :], out=tmp[:U])  # r ⊙ (R_h^T h + b)
        else:
            a[: 2 * U] += self.xp.matmul(rk_T[: 2 * U], hd, out=tmp)
            activate_(a[: 2 * U], self.recurrent_activation)
            self.xp.multiply(r, hd, out=self.RH[t])
            hh += self.xp.matmul(
                rk_T[2 * U :], self.RH[t], out=tmp[:U]
            )  # R_h^T (r ⊙ h)
        activate_(hh, self.activation)
        self.xp.subtract(H[t], hh, out=H[t + 1])  # h_t = h̃ + z (h_{t-1} - h̃)
        H[t + 1] *= z
        H[t + 1] += hh

    def _loop_backward(self, dstates):
        T, N, U = self.T, self.N, self.U
        self.dXW = dXW = self.xp.empty_like(self.A)
        if self.reset_after:
            self.dREC = self.xp.empty_like(self.A)
        self.bufs = [_empty(U, N, like=dXW) for _ in range(3)]
        self.fused = self._fused_cell("gru_cell_backward_")
        dh, dh_next = dstates[0], _empty(U, N, like=dXW)
        for t in reversed(range(T)):
            self._step_backward(dh, dh_next, t)
            dh, dh_next = dh_next, dh
        return dXW, [dh]

    def _step_backward(self, dh, dh_next, t) -> None:
        U, a, dy = self.U, self.A[t], self.dXW[t]
        z, r, hh = a[:U], a[U : 2 * U], a[2 * U :]
        dz, dr, dhh = dy[:U], dy[U : 2 * U], dy[2 * U :]
        dht, tmp, drh = self.bufs
        R, rec_act = self.recurrent_kernel, self.recurrent_activation
        dht = self.step_grad(dh, t, dht, alias=True)
        if self.fused is not None:  # one kernel: dXW[t], dREC[t] and dh z
            self.fused(a, self.REC[t], self.H[t], dht, dy, self.dREC[t], tmp)
            self.xp.matmul(R, self.dREC[t], out=dh_next)
            self.finish_dh(dh_next, dh, t, direct=tmp)
            return
        self.xp.subtract(self.H[t], hh, out=dz)  # dh/dz = h_{t-1} - h̃
        dz *= dht
        times_derivative_(dz, z, rec_act, tmp)
        self.xp.subtract(1, z, out=dhh)  # dh/dh̃ = 1 - z
        dhh *= dht
        times_derivative_(dhh, hh, self.activation, tmp)
        if self.reset_after:
            self.xp.multiply(dhh, self.REC[t, 2 * U :], out=dr)
            times_derivative_(dr, r, rec_act, tmp)
            drec = self.dREC[t]
            drec[: 2 * U] = self.dXW[t, : 2 * U]
            self.xp.multiply(dhh, r, out=drec[2 * U :])
            self.xp.matmul(R, drec, out=dh_next)
        else:
            self.xp.matmul(R[:, 2 * U :], dhh, out=drh)  # d(r ⊙ h_{t-1})
            self.xp.multiply(drh, self.recurrent_input(self.H[t], tmp), out=dr)
            times_derivative_(dr, r, rec_act, tmp)
            self.xp.matmul(R[:, : 2 * U], self.dXW[t, : 2 * U], out=dh_next)
            dh_next += self.xp.multiply(drh, r, out=drh)
        self.finish_dh(dh_next, dh, t, direct=self.xp.multiply(dht, z, out=dht))

    def _recurrent_grads(self, cols):
        Hp, U = self.previous_states(), self.U
        if self.reset_after:  # dREC differs from dY in the h rows: r ⊙ dh̃
            rec = steps_as_columns(self.dREC)
            return self.weight_grads(
                Hp, rec, lambda: self.xp.stack([row_sums(cols), row_sums(rec)])
            )
        grads = self.weight_grads(Hp, cols[: 2 * U], lambda: row_sums(cols))
        if grads[0] is not None:  # the R_h block multiplies r ⊙ h, not h
            rh = steps_as_columns(self.RH) @ cols[2 * U :].T
            grads = (self.xp.concatenate([grads[0], rh], axis=1),) + grads[1:]
        return grads
