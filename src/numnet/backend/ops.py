"""Portable reference kernels: the ``Ops`` object of one array namespace.

``Ops(xp)`` holds the kernels numnet needs beyond plain array math, written once
with ``self.xp`` only (functions every array library has: ``matmul``, ``exp``,
``where``, ``zeros``, indexing). They are the readable definition, the test
oracle, and what any array namespace without its own subclass runs (CuPy, a
test namespace). A backend with faster ways overrides methods in a subclass:
:class:`numnet.backend.numpy_ops.NumpyOps` holds the CPU fast paths (a BLAS sum,
the buffer pool, kernel threads) beside these, never as branches inside them.

Look an instance up with ``numnet.backend.get_ops(x_or_xp)``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

#: Rows per block of the reference scatter-add (bounds its one-hot matrix).
_ONE_HOT_ELEMENTS = 1 << 22


class Ops:
    """Reference kernels on the array namespace ``xp`` (portable, no fast paths).

    Args:
        xp: the array namespace (``numpy``, ``cupy``, an array-API namespace).
    """

    name = "portable"

    def __init__(self, xp):
        self.xp = xp

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self.xp, '__name__', self.xp)!r})"

    def to_numpy(self, x):
        """``x`` as a NumPy array on the host (an explicit, visible copy if needed)."""
        import numpy as np  # the host side of the seam: numpy is the target here

        asnumpy = getattr(self.xp, "asnumpy", None)  # CuPy's spelling
        return asnumpy(x) if asnumpy is not None else np.asarray(x)

    def sum_leading(self, a, lead: int):
        """Sum ``a`` over its first ``lead`` axes: shape ``a.shape[lead:]``."""
        return a.sum(axis=tuple(range(lead)))

    def scatter_add_rows(self, indices, rows, n_rows: int):
        """``out[v] = sum(rows[p] for p where indices[p] == v)``: shape (V, E).

        The adjoint of the gather ``rows = table[indices]`` (Embedding backward).
        Reference form: ``out = onehot(indices)^T @ rows`` with the (P, V) one-hot
        matrix built a block of positions at a time.

        Args:
            indices: (P,) integers in [0, n_rows).
            rows: (P, E) values to add.
            n_rows: V, the number of output rows.
        """
        xp = self.xp
        out = xp.zeros((n_rows, rows.shape[1]), dtype=rows.dtype)
        vocabulary = xp.arange(n_rows)
        step = max(1, _ONE_HOT_ELEMENTS // max(1, n_rows))
        for start in range(0, indices.shape[0], step):
            block = indices[start : start + step]
            one_hot = xp.astype(block[:, None] == vocabulary[None, :], rows.dtype)
            out += xp.matmul(one_hot.T, rows[start : start + step])
        return out

    def index_add(self, shape, index, values):
        """``zeros(shape)`` with ``values`` added at ``[index]``; repeats accumulate.

        The adjoint of ``x[index]`` for an integer-array index. Reference form:
        the flat positions that ``index`` picks, then :meth:`scatter_add_rows`.
        """
        xp = self.xp
        size = math.prod(shape)
        positions = xp.reshape(xp.arange(size), shape)[index]
        flat = self.scatter_add_rows(
            xp.reshape(positions, (-1,)), xp.reshape(values, (-1, 1)), size
        )
        return xp.reshape(flat, shape)

    def erf(self, x):
        """The error function, elementwise (GELU's normal CDF).

        The array API has no ``erf``: the reference computes it on the host
        with ``math.erf``, element by element (exact, slow, an explicit copy
        each way). Backends override it (NumPy: ``scipy.special.erf``).
        """
        import numpy as np  # the host side of the seam

        host = np.vectorize(math.erf, otypes=[x.dtype])(self.to_numpy(x))
        return self.xp.asarray(host, dtype=x.dtype)

    def masked_softmax(self, scores, mask, axis: int):
        """Softmax of ``scores`` along ``axis`` over the entries where ``mask``.

        ``mask``: boolean, broadcastable to ``scores`` (True = take part), or
        None. Masked entries get weight 0 whatever their score (huge, inf or
        NaN); a row with no allowed entry gets all-zero weights.
        """
        xp = self.xp
        if mask is None:
            shifted = scores - scores.max(axis=axis, keepdims=True)
            e = xp.exp(shifted)
            return e / e.sum(axis=axis, keepdims=True)
        # The max over allowed entries keeps exp() in range; masked entries are
        # zeroed after exp, so their scores never matter.
        mask = xp.broadcast_to(mask, scores.shape)
        allowed = xp.where(mask, scores, -float("inf"))
        top = allowed.max(axis=axis, keepdims=True)
        top = xp.where(xp.isfinite(top), top, 0)
        e = xp.where(mask, xp.exp(xp.where(mask, scores - top, 0)), 0)
        e = e.astype(scores.dtype)
        total = e.sum(axis=axis, keepdims=True)
        return e / xp.where(total > 0, total, 1)

    def normal_cdf(self, x):
        """Phi(x) = (1 + erf(x / sqrt(2))) / 2, the standard normal CDF (GELU's)."""
        return 0.5 * (1 + self.erf(x / x.dtype.type(math.sqrt(2))))

    def gelu_grad(self, gy, x, cdf):
        """``gy (Phi(x) + x phi(x))``: GELU's backward, Phi(x) kept from forward."""
        pdf = self.xp.exp(-0.5 * x * x) * x.dtype.type(1 / math.sqrt(2 * math.pi))
        return gy * (cdf + x * pdf)  # d/dx x Phi(x) = Phi(x) + x phi(x)

    def sigmoid(self, x):
        """1 / (1 + e^-x) without overflow: uses z = e^-|x| <= 1."""
        xp = self.xp
        z = xp.exp(-xp.abs(x))
        one = xp.ones((), dtype=x.dtype)
        return xp.where(x >= 0, one / (one + z), z / (one + z))

    def relu(self, x):
        """``(max(x, 0), x > 0)``: the output and the mask of its backward."""
        mask = x > 0
        return self.xp.where(mask, x, self.xp.zeros((), dtype=x.dtype)), mask

    def relu_in_place(self, y) -> None:
        """y = max(y, 0) in place (a fused ReLU after a GEMM)."""
        y[y < 0] = 0

    def mask_multiply(self, gy, mask):
        """``gy * mask``: the ReLU backward (mask: boolean, or y > 0)."""
        return gy * self.xp.astype(mask, gy.dtype)

    def scaled_mask(self, keep, scale: float, dtype):
        """``keep * scale`` in float ``dtype``: inverted dropout's multiplier
        ``keep / (1 - rate)`` from its keep mask (bool, or 0/1 numbers).
        ``dtype`` is a NumPy dtype object (an array's ``.dtype``)."""
        return keep.astype(dtype) * dtype.type(scale)

    def relu_backward(self, gy, y):
        """gy where the ReLU's output y is positive, else 0 (relu'(0) = 0)."""
        return self.mask_multiply(gy, y > 0)

    def errstate(self, **kwargs):
        """A context silencing floating-point warnings (NumPy's ``errstate``)."""
        return contextlib.nullcontext()

    def over_batch(self, run: Callable[[int, int], None], n: int, elements: int):
        """Call ``run(start, stop)`` over ``range(n)``; here: once, on this thread."""
        run(0, n)

    def take(self, shape, dtype):
        """A scratch array of ``shape`` and ``dtype`` (uninitialised)."""
        return self.xp.empty(tuple(shape), dtype=dtype)

    def give(self, *arrays) -> None:
        """Hand scratch arrays from :meth:`take` back (no pool here: a no-op)."""

    def private_copy(self, g):
        """``g`` as an array that nobody else holds and that may be written.

        The engine stores it as a leaf's ``.grad``. Without ownership
        information the reference copies always.
        """
        return self.xp.asarray(g, copy=True)

    def numel(self, shape) -> int:
        """The number of elements of ``shape``."""
        return math.prod(shape)

    # -- optimizer updates: in place on the weight and its slots -------------
    # The rules of numnet.optimizers (their docstrings give the formulas) on
    # any namespace. NumPy runs its own out= forms (optimizers/rules.py, split
    # over threads); CuPy overrides these with one fused kernel per parameter.

    def sgd_update(self, w, g, velocity, lr: float, momentum: float, nesterov: bool):
        """SGD: ``w -= lr*g``; with a velocity, Keras's (Nesterov) momentum."""
        if velocity is None:
            w -= g * lr
            return
        velocity *= momentum
        velocity -= g * lr
        if nesterov:
            w += velocity * momentum - g * lr
        else:
            w += velocity

    def rmsprop_update(self, w, g, s, m, u, lr, rho, momentum, epsilon):
        """RMSprop (``m``: the centered average or None, ``u``: momentum or None)."""
        s *= rho
        s += (g * g) * (1.0 - rho)
        d = s
        if m is not None:
            m *= rho
            m += g * (1.0 - rho)
            d = s - m * m
        step = g / self.xp.sqrt(d + epsilon) * lr
        if u is not None:
            u *= momentum
            u += step
            step = u
        w -= step

    def weight_decay_(self, w, decay: float) -> None:
        """Decoupled weight decay in place: ``w -= w * decay`` (decay = lr * wd)."""
        w -= w * decay

    def adagrad_update(self, w, g, a, lr: float, epsilon: float) -> None:
        """Adagrad: ``a += g*g``, ``w -= g / sqrt(a + epsilon) * lr``."""
        a += g * g
        w -= g / self.xp.sqrt(a + epsilon) * lr

    def adam_update(
        self, w, g, m, v, v_hat, alpha, beta_1, beta_2, epsilon, *, decay=0.0
    ):
        """Adam with the bias correction in ``alpha`` (``v_hat``: AMSGrad or None),
        after the decoupled weight decay ``w -= w * decay`` when decay != 0."""
        if decay:
            self.weight_decay_(w, decay)
        m *= beta_1
        m += g * (1.0 - beta_1)
        v *= beta_2
        v += (g * g) * (1.0 - beta_2)
        if v_hat is not None:
            v_hat[...] = self.xp.maximum(v_hat, v)
            v = v_hat
        w -= m / (self.xp.sqrt(v) + epsilon) * alpha

    def nadam_update(self, w, g, m, v, lr, beta_1, beta_2, epsilon, c_m, c_g, c_v):
        """Nadam (Keras form): ``c_m``, ``c_g`` weigh m and g in m_hat, ``c_v``
        is 1 - beta_2**t (see ``numnet.optimizers.Nadam``)."""
        m += (g - m) * (1.0 - beta_1)
        v += (g * g - v) * (1.0 - beta_2)
        m_hat = m * c_m
        m_hat += g * c_g
        w -= lr * m_hat / (self.xp.sqrt(v / c_v) + epsilon)

    def adamax_update(self, w, g, m, u, lr, beta_1, beta_2, epsilon, c_m):
        """Adamax (Keras form): ``m`` the first moment, ``u`` the decayed infinity
        norm, ``c_m`` = 1 - beta_1**t (see ``numnet.optimizers.Adamax``)."""
        m += (g - m) * (1.0 - beta_1)
        u[...] = self.xp.maximum(u * beta_2, self.xp.abs(g))
        w -= lr * m / (c_m * (u + epsilon))

    def lion_update(self, w, g, m, lr, beta_1, beta_2):
        """Lion: ``w -= lr * sign(beta_1 m + (1 - beta_1) g)``, then
        ``m = beta_2 m + (1 - beta_2) g`` (see ``numnet.optimizers.Lion``)."""
        w -= lr * self.xp.sign(m * beta_1 + g * (1.0 - beta_1))
        m *= beta_2
        m += g * (1.0 - beta_2)

    def adadelta_update(self, w, g, a_g, a_d, lr, rho, epsilon):
        """Adadelta (Keras form): ``a_g``, ``a_d`` the running averages of g**2
        and of the squared steps (see ``numnet.optimizers.Adadelta``)."""
        a_g *= rho
        a_g += (g * g) * (1.0 - rho)
        step = self.xp.sqrt(a_d + epsilon) * g / self.xp.sqrt(a_g + epsilon)
        a_d *= rho
        a_d += (step * step) * (1.0 - rho)
        w -= lr * step

    # -- recurrent cells: the gate math of one time step ----------------------
    # The fused RNN ops (functional/recurrent_cells.py) may call these with the
    # default activations (sigmoid gates, tanh); CuPy runs each as one kernel.

    def lstm_cell_(self, a, c_prev, c, pc, h) -> None:
        """One LSTM step from the preactivations ``a`` (4U, N) = [i, f, c̃, o].

        In place: ``a`` becomes [σ(i), σ(f), tanh(c̃), σ(o)], and
        ``c = f c_prev + i c̃``, ``pc = tanh(c)``, ``h = o pc`` (each (U, N)).
        """
        U = c_prev.shape[0]
        a[: 2 * U] = self.sigmoid(a[: 2 * U])
        a[2 * U : 3 * U] = self.xp.tanh(a[2 * U : 3 * U])
        a[3 * U :] = self.sigmoid(a[3 * U :])
        c[...] = a[U : 2 * U] * c_prev + a[:U] * a[2 * U : 3 * U]
        pc[...] = self.xp.tanh(c)
        h[...] = a[3 * U :] * pc

    def gru_cell_(self, a, rec, h_prev, h) -> None:
        """One GRU step (``reset_after=True``) from ``a`` = x W + b (3U, N) and
        ``rec`` = h_prev R + b_rec (3U, N).

        In place: ``a`` becomes [z, r, h̃] with z = σ(a_z + rec_z),
        r = σ(a_r + rec_r), h̃ = tanh(a_h + r rec_h), and h = z h_prev + (1-z) h̃.
        """
        U = h_prev.shape[0]
        a[: 2 * U] = self.sigmoid(a[: 2 * U] + rec[: 2 * U])
        a[2 * U :] = self.xp.tanh(a[2 * U :] + a[U : 2 * U] * rec[2 * U :])
        h[...] = a[:U] * h_prev + (1 - a[:U]) * a[2 * U :]

    def lstm_cell_backward_(self, a, c_prev, pc, dh, dc, da, dc_prev) -> None:
        """The backward of :meth:`lstm_cell_` for one step, into ``da`` and ``dc_prev``.

        ``a`` (4U, N) holds the activated gates [i, f, c̃, o], ``pc`` = tanh(c_t),
        ``dh``, ``dc`` the gradients reaching h_t and c_t. With
        dc_t = dc + dh o (1 - pc²) (h = o tanh(c)):
        ``da`` = [dc_t c̃ i(1-i), dc_t c_prev f(1-f), dc_t i (1-c̃²), dh pc o(1-o)],
        the preactivation gradients, and ``dc_prev = dc_t f``. Reads only
        ``a``, ``c_prev``, ``pc``, ``dh``, ``dc``.
        """
        U = c_prev.shape[0]
        i, f, g, o = a[:U], a[U : 2 * U], a[2 * U : 3 * U], a[3 * U :]
        dc_t = dc + dh * o * (1 - pc * pc)
        da[:U] = dc_t * g * i * (1 - i)
        da[U : 2 * U] = dc_t * c_prev * f * (1 - f)
        da[2 * U : 3 * U] = dc_t * i * (1 - g * g)
        da[3 * U :] = dh * pc * o * (1 - o)
        dc_prev[...] = dc_t * f

    def gru_cell_backward_(self, a, rec, h_prev, dh, dxw, drec, direct) -> None:
        """The backward of :meth:`gru_cell_` for one step (``reset_after=True``).

        ``a`` (3U, N) holds [z, r, h̃], ``rec`` = h_prev R + b_rec, ``dh`` the
        gradient reaching h_t. Writes ``dxw`` (3U, N), the gradient of ``a``'s
        preactivations [dz, dr, dh̃] (h = z h_prev + (1-z) h̃):
        dz = dh (h_prev - h̃) z(1-z), dh̃ = dh (1-z)(1-h̃²),
        dr = dh̃ rec_h r(1-r); ``drec`` (3U, N), the gradient of ``rec``:
        [dz, dr, dh̃ r]; and ``direct = dh z``, the part of dh_prev that skips
        the recurrent GEMM.
        """
        U = h_prev.shape[0]
        z, r, hh = a[:U], a[U : 2 * U], a[2 * U :]
        dxw[:U] = dh * (h_prev - hh) * z * (1 - z)
        dxw[2 * U :] = dh * (1 - z) * (1 - hh * hh)
        dxw[U : 2 * U] = dxw[2 * U :] * rec[2 * U :] * r * (1 - r)
        drec[: 2 * U] = dxw[: 2 * U]
        drec[2 * U :] = dxw[2 * U :] * r
        direct[...] = dh * z
