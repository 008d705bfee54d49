"""The fused SimpleRNN, GRU and LSTM ops: forward loop and BPTT loop of each cell.

Weight layouts and gate orders are Keras's, so weights move between numnet and
Keras unchanged. With x_t (N, D), h (N, U), ``kernel`` (D, G),
``recurrent_kernel`` (U, G) and ``σ`` the recurrent activation (sigmoid),
``φ`` the activation (tanh):

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

Recurrent dropout multiplies h_{t-1} by a fixed (N, U) mask where it enters a
recurrent GEMM (R), never in the carried state. Buffers are time-major (T, N, .).
``self.rk_scaled`` is R with the sigmoid-gate columns halved and ``DA[t]`` holds
the gate derivatives (see ``rnn_base.py``): backward multiplies gate gradients
by ``DA[t]`` to get preactivation gradients ``dY[t]``.
"""

from __future__ import annotations

import numpy as np

from numnet.functional.rnn_base import FusedRecurrent


def _empty(*shape, like: np.ndarray) -> np.ndarray:
    return np.empty(shape, dtype=like.dtype)


def _weight_grads(op: FusedRecurrent, Hp2d, dREC2d, dbias) -> tuple:
    """(drecurrent_kernel[, dbias]) when the inputs need them, else None."""
    S = op.plan.S  # gradients of the scaled weights -> of the weights
    drk = (Hp2d.T @ dREC2d) * S if op.needs_input_grad[2] else None
    if not op.has_bias:
        return (drk,)
    return drk, (dbias() * S if op.needs_input_grad[3] else None)


def _activation_into(z: np.ndarray, out: np.ndarray, name: str) -> None:
    """out = act(z) (the LSTM's cell-output activation φ(c))."""
    if name == "tanh":
        np.tanh(z, out=out)
    elif name == "sigmoid":
        np.multiply(z, 0.5, out=out)  # σ(z) = (1 + tanh(z/2)) / 2
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
    elif name == "relu":
        np.maximum(z, 0, out=out)
    else:
        np.copyto(out, z)


def _times_derivative(g: np.ndarray, y: np.ndarray, name: str, tmp) -> None:
    """g *= act'(z), written with the output y = act(z); tmp is scratch."""
    if name == "tanh":  # 1 - y^2
        np.multiply(y, y, out=tmp)
        np.subtract(1, tmp, out=tmp)
        g *= tmp
    elif name == "sigmoid":  # y (1 - y)
        np.subtract(1, y, out=tmp)
        tmp *= y
        g *= tmp
    elif name == "relu":  # [y > 0]
        np.copyto(g, 0, where=y <= 0)


class _SimpleRNN(FusedRecurrent):
    """h_t = φ(x_t W + h_{t-1} R + b); the preactivation buffer is H itself."""

    def _gates(self) -> list[str]:
        return [self.activation]

    def _xw_bias(self, bias):
        return bias

    def _loop(self, XW, states):
        T, N, U = self.T, self.N, self.U
        self.H = H = _empty(T + 1, N, U, like=XW)
        H[0], H[1:] = states[0], XW
        hd = _empty(N, U, like=XW)
        rec = _empty(N, U, like=XW)
        for t in range(T):
            np.matmul(self.recurrent_input(H[t], hd), self.rk_scaled, out=rec)
            H[t + 1] += rec
            self.plan.activate(H[t + 1], self._d(t), 0, 1)
            self.carry_(H[t + 1], H[t], t)
        return (H[T],)

    def _d(self, t):
        return None if self.DA is None else self.DA[t]

    def _loop_backward(self, dstates):
        T, N, U = self.T, self.N, self.U
        dY = _empty(T, N, U, like=self.H)
        dh, dh_next = dstates[0], _empty(N, U, like=dY)
        for t in reversed(range(T)):
            dy = self.step_grad(dh, t, dY[t])
            dy *= self.DA[t]  # dz = dh φ'(z)
            np.matmul(dy, self.rk_grad, out=dh_next)  # dh_{t-1} = dz R^T
            self.finish_dh(dh_next, dh, t)
            dh, dh_next = dh_next, dh
        dY2 = dY.reshape(T * N, U)
        grads = _weight_grads(self, self.previous_states(), dY2, lambda: dY2.sum(0))
        return dY, grads, [dh]


class _LSTM(_SimpleRNN):
    """The LSTM cell; gate buffer A (T, N, 4U) holds [i, f, c̃, o] after activation."""

    n_states = 2
    n_gates = 4

    def _gates(self) -> list[str]:
        rec, act = self.recurrent_activation, self.activation
        return [rec, rec, act, rec]

    def _loop(self, XW, states):
        T, N, U = self.T, self.N, self.U
        self.A = XW  # activated in place, step by step
        self.H = H = _empty(T + 1, N, U, like=XW)
        self.C = C = _empty(T + 1, N, U, like=XW)
        self.PC = PC = _empty(T, N, U, like=XW)  # φ(c_t)
        H[0], C[0] = states
        rec = _empty(N, 4 * U, like=XW)
        hd, tmp = _empty(N, U, like=XW), _empty(N, U, like=XW)
        for t in range(T):
            a = XW[t]
            np.matmul(self.recurrent_input(H[t], hd), self.rk_scaled, out=rec)
            a += rec
            self.plan.activate(a, self._d(t), 0, 4)
            i, f, g, o = a[:, :U], a[:, U : 2 * U], a[:, 2 * U : 3 * U], a[:, 3 * U :]
            np.multiply(f, C[t], out=C[t + 1])  # c_t = f c_{t-1} + i c̃
            C[t + 1] += np.multiply(i, g, out=tmp)
            _activation_into(C[t + 1], PC[t], self.activation)
            np.multiply(o, PC[t], out=H[t + 1])  # h_t = o φ(c_t)
            self.carry_(H[t + 1], H[t], t)
            self.carry_(C[t + 1], C[t], t)
        return H[T], C[T]

    def _loop_backward(self, dstates):
        T, N, U = self.T, self.N, self.U
        A, dh, dc = self.A, dstates[0], dstates[1]
        self.dY = dY = np.empty_like(A)
        self.bufs = [_empty(N, U, like=A) for _ in range(3)]
        dh_next, dc_next = _empty(N, U, like=A), _empty(N, U, like=A)
        for t in reversed(range(T)):
            f = A[t, :, U : 2 * U]
            if self.skipped(t):  # skipped samples pass dc through unchanged
                np.multiply(dc, self.skip[t], out=dc_next)
                dc *= self.keep_f[t]
            self._cell_backward(dh, dc, t)  # dc becomes the total dL/dc_t
            if self.skipped(t):
                dc_next += dc * f
            else:
                np.multiply(dc, f, out=dc_next)  # dc_{t-1} = dc_t f
            np.matmul(dY[t], self.rk_grad, out=dh_next)  # dh_{t-1} = dY R^T
            self.finish_dh(dh_next, dh, t)
            dh, dh_next, dc, dc_next = dh_next, dh, dc_next, dc
        dY2 = dY.reshape(T * N, 4 * U)
        grads = _weight_grads(self, self.previous_states(), dY2, lambda: dY2.sum(0))
        return dY, grads, [dh, dc]

    def _cell_backward(self, dh, dc, t) -> None:
        """Write dL/d(preactivations) of step t into dY[t]; add dh's share to dc."""
        U, a, dy = self.U, self.A[t], self.dY[t]
        dht, tmp, tmp2 = self.bufs
        i, g, o = a[:, :U], a[:, 2 * U : 3 * U], a[:, 3 * U :]
        self.step_grad(dh, t, dht)
        np.multiply(dht, self.PC[t], out=dy[:, 3 * U :])  # do = dh φ(c)
        np.multiply(dht, o, out=tmp)  # dc += dh o φ'(c)
        _times_derivative(tmp, self.PC[t], self.activation, tmp2)
        dc += tmp
        np.multiply(dc, g, out=dy[:, :U])  # di = dc c̃
        np.multiply(dc, self.C[t], out=dy[:, U : 2 * U])  # df = dc c_{t-1}
        np.multiply(dc, i, out=dy[:, 2 * U : 3 * U])  # dc̃ = dc i
        dy *= self.DA[t]  # through the gate activations


class _GRU(_SimpleRNN):
    """The GRU cell; gate buffer A (T, N, 3U) holds [z, r, h̃] after activation."""

    n_gates = 3

    def __init__(self, *, reset_after: bool = True, **options):
        super().__init__(**options)
        self.reset_after = reset_after
        self.b_rh = None

    def _gates(self) -> list[str]:
        rec = self.recurrent_activation
        return [rec, rec, self.activation]

    def _xw_bias(self, bias):
        if not self.reset_after:
            return bias
        U = self.U
        b = bias[0].copy()
        b[: 2 * U] += bias[1, : 2 * U]  # recurrent z and r biases simply add
        self.b_rh = bias[1, 2 * U :]  # the h one sits inside r ⊙ (h R_h + b_rh)
        return b

    def _loop(self, XW, states):
        T, N, U = self.T, self.N, self.U
        R = self.rk_scaled
        self.A = XW
        self.H = H = _empty(T + 1, N, U, like=XW)
        H[0] = states[0]
        if self.reset_after:
            self.REC = _empty(T, N, 3 * U, like=XW)  # h_{t-1} R + b_rec per step
        else:
            self.Rzr, self.Rh = np.ascontiguousarray(R[:, : 2 * U]), R[:, 2 * U :]
            self.RH = _empty(T, N, U, like=XW)  # r ⊙ h_{t-1}, input of the R_h GEMM
        self.hd, self.tmp = _empty(N, U, like=XW), _empty(N, 2 * U, like=XW)
        for t in range(T):
            self._step(XW[t], t)
            self.carry_(H[t + 1], H[t], t)
        return (H[T],)

    def _step(self, a, t) -> None:
        U, H, tmp, d = self.U, self.H, self.tmp, self._d(t)
        z, r, hh = a[:, :U], a[:, U : 2 * U], a[:, 2 * U :]
        hd = self.recurrent_input(H[t], self.hd)
        if self.reset_after:
            rec = np.matmul(hd, self.rk_scaled, out=self.REC[t])
            if self.b_rh is not None:
                rec[:, 2 * U :] += self.b_rh
            a[:, : 2 * U] += rec[:, : 2 * U]
            self.plan.activate(a, d, 0, 2)
            hh += np.multiply(r, rec[:, 2 * U :], out=tmp[:, :U])  # r ⊙ (h R_h + b)
        else:
            a[:, : 2 * U] += np.matmul(hd, self.Rzr, out=tmp)
            self.plan.activate(a, d, 0, 2)
            np.multiply(r, hd, out=self.RH[t])
            hh += np.matmul(self.RH[t], self.Rh, out=tmp[:, :U])  # (r ⊙ h) R_h
        self.plan.activate(a, d, 2, 3)
        np.subtract(H[t], hh, out=H[t + 1])  # h_t = h̃ + z (h_{t-1} - h̃)
        H[t + 1] *= z
        H[t + 1] += hh

    def _loop_backward(self, dstates):
        T, N, U = self.T, self.N, self.U
        self.dY = dY = np.empty_like(self.A)
        if self.reset_after:
            self.dREC = np.empty_like(self.A)
        self.bufs = [_empty(N, U, like=dY) for _ in range(3)]
        dh, dh_next = dstates[0], _empty(N, U, like=dY)
        for t in reversed(range(T)):
            self._step_backward(dh, dh_next, t)
            dh, dh_next = dh_next, dh
        return dY, self._gru_weight_grads(), [dh]

    def _step_backward(self, dh, dh_next, t) -> None:
        U, z, r, hh = self.U, *np.split(self.A[t], 3, axis=1)
        dy, D = self.dY[t], self.DA[t]
        dz, dr, dhh = np.split(dy, 3, axis=1)
        dht, tmp, drh = self.bufs
        self.step_grad(dh, t, dht)
        np.subtract(self.H[t], hh, out=dz)  # dh/dz = h_{t-1} - h̃
        dz *= dht
        np.subtract(1, z, out=dhh)  # dh/dh̃ = 1 - z, then through h̃'s activation
        dhh *= dht
        dhh *= D[:, 2 * U :]
        if self.reset_after:
            np.multiply(dhh, self.REC[t, :, 2 * U :], out=dr)  # d/dr of r ⊙ rec_h
            dy[:, : 2 * U] *= D[:, : 2 * U]
            drec = self.dREC[t]
            drec[:, : 2 * U] = dy[:, : 2 * U]
            np.multiply(dhh, r, out=drec[:, 2 * U :])
            np.matmul(drec, self.rk_grad, out=dh_next)
        else:
            np.matmul(dhh, self.Rh.T, out=drh)  # d(r ⊙ h_{t-1})
            np.multiply(drh, self.recurrent_input(self.H[t], tmp), out=dr)
            dy[:, : 2 * U] *= D[:, : 2 * U]
            np.matmul(dy[:, : 2 * U], self.Rzr.T, out=dh_next)
            dh_next += np.multiply(drh, r, out=drh)
        self.finish_dh(dh_next, dh, t, direct=np.multiply(dht, z, out=dht))

    def _gru_weight_grads(self) -> tuple:
        T, N, U = self.T, self.N, self.U
        dY2 = self.dY.reshape(T * N, 3 * U)
        Hp = self.previous_states()
        if self.reset_after:
            dREC2 = self.dREC.reshape(T * N, 3 * U)
            return _weight_grads(
                self, Hp, dREC2, lambda: np.stack([dY2.sum(0), dREC2.sum(0)])
            )
        drk = None
        if self.needs_input_grad[2]:
            RH2 = self.RH.reshape(T * N, U)
            drk = np.concatenate([Hp.T @ dY2[:, : 2 * U], RH2.T @ dY2[:, 2 * U :]], 1)
            drk *= self.plan.S
        if not self.has_bias:
            return (drk,)
        return drk, (dY2.sum(0) * self.plan.S if self.needs_input_grad[3] else None)
