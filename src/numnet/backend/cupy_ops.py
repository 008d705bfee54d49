"""CUDA kernels: ``CupyOps``, the reference kernels overridden for CuPy arrays.

Imported only when a CUDA device is first asked for (``numnet.device("cuda")``
or a CuPy array reaching :func:`numnet.backend.get_ops` after :func:`register`):
``import numnet`` never imports CuPy. Every override computes what its
:class:`~numnet.backend.ops.Ops` method defines; ``tests/gpu`` compares each
one with the reference on random inputs wherever a GPU is present.

A GPU step at batch 128 is dominated by kernel launches, so the hot elementwise
paths are fused: each optimizer update is one kernel per parameter, the LSTM
and GRU gate math of a time step is one kernel, and ReLU writes its output and
its mask in one pass. The kernels are compiled by CuPy on first use and cached;
they are *defined* once, here, at import (cupy/cupy#2469: never per call).
"""

from __future__ import annotations

import math

import cupy

from numnet.backend import cupy_reduce
from numnet.backend.cupy_rnn import CupyRecurrentOps
from numnet.backend.ops import Ops

#: ``sum_leading`` uses ``cupy_reduce``'s blocked column sums from this size on
_BLOCKED_SUM_MIN = 1 << 16

_RELU = cupy.ElementwiseKernel(
    "T x", "T y, bool mask", "mask = x > 0; y = mask ? x : (T)0;", "numnet_relu"
)
_MASK_MULTIPLY = cupy.ElementwiseKernel(
    "T gy, M mask", "T gx", "gx = mask ? gy : (T)0;", "numnet_mask_multiply"
)
# inverted dropout's multiplier keep / (1 - rate) from its keep mask, in one pass
_SCALED_MASK = cupy.ElementwiseKernel(
    "M keep, T scale", "T y", "y = (T)keep * scale;", "numnet_scaled_mask"
)
# Phi(x) = erfc(-x / sqrt(2)) / 2 (GELU's normal CDF): one kernel; erfc keeps
# the lower tail's relative precision, where (1 + erf(x / sqrt(2))) / 2 cancels
_NORMAL_CDF = cupy.ElementwiseKernel(
    "T x", "T y", "y = (T)0.5 * erfc(-x * (T)0.70710678118654752);", "numnet_normal_cdf"
)
# 1 / (1 + e^-x) through z = e^-|x| <= 1: no overflow (as Ops.sigmoid)
_SIGMOID = cupy.ElementwiseKernel(
    "T x",
    "T y",
    "T z = exp(-fabs(x)); y = x >= 0 ? (T)1 / ((T)1 + z) : z / ((T)1 + z);",
    "numnet_sigmoid",
)

# -- optimizer updates (the formulas: numnet/optimizers/rules.py docstrings) ---
_SGD = cupy.ElementwiseKernel("T g, T lr", "T w", "w -= lr * g;", "numnet_sgd")
_SGD_MOMENTUM = cupy.ElementwiseKernel(
    "T g, T lr, T momentum",
    "T w, T v",
    "v = momentum * v - lr * g; w += v;",
    "numnet_sgd_momentum",
)
_SGD_NESTEROV = cupy.ElementwiseKernel(
    "T g, T lr, T momentum",
    "T w, T v",
    "v = momentum * v - lr * g; w += momentum * v - lr * g;",
    "numnet_sgd_nesterov",
)
_RMSPROP = cupy.ElementwiseKernel(
    "T g, T lr, T rho, T eps",
    "T w, T s",
    "s = rho * s + ((T)1 - rho) * g * g; w -= lr * g / sqrt(s + eps);",
    "numnet_rmsprop",
)
_RMSPROP_CENTERED = cupy.ElementwiseKernel(
    "T g, T lr, T rho, T eps",
    "T w, T s, T m",
    """
    s = rho * s + ((T)1 - rho) * g * g;
    m = rho * m + ((T)1 - rho) * g;
    w -= lr * g / sqrt(s - m * m + eps);
    """,
    "numnet_rmsprop_centered",
)
_RMSPROP_MOMENTUM = cupy.ElementwiseKernel(
    "T g, T lr, T rho, T momentum, T eps",
    "T w, T s, T u",
    """
    s = rho * s + ((T)1 - rho) * g * g;
    u = momentum * u + lr * g / sqrt(s + eps);
    w -= u;
    """,
    "numnet_rmsprop_momentum",
)
_RMSPROP_CENTERED_MOMENTUM = cupy.ElementwiseKernel(
    "T g, T lr, T rho, T momentum, T eps",
    "T w, T s, T m, T u",
    """
    s = rho * s + ((T)1 - rho) * g * g;
    m = rho * m + ((T)1 - rho) * g;
    u = momentum * u + lr * g / sqrt(s - m * m + eps);
    w -= u;
    """,
    "numnet_rmsprop_centered_momentum",
)
_WEIGHT_DECAY = cupy.ElementwiseKernel(
    "T decay", "T w", "w -= w * decay;", "numnet_weight_decay"
)
_ADAGRAD = cupy.ElementwiseKernel(
    "T g, T lr, T eps",
    "T w, T a",
    "a += g * g; w -= g / sqrt(a + eps) * lr;",
    "numnet_adagrad",
)
# Adam and AMSGrad after AdamW's decoupled decay (decay = 0: none)
_ADAM = cupy.ElementwiseKernel(
    "T g, T alpha, T beta_1, T beta_2, T eps, T decay",
    "T w, T m, T v",
    """
    if (decay != (T)0) w -= w * decay;
    m = beta_1 * m + ((T)1 - beta_1) * g;
    v = beta_2 * v + ((T)1 - beta_2) * g * g;
    w -= alpha * m / (sqrt(v) + eps);
    """,
    "numnet_adam",
)
_AMSGRAD = cupy.ElementwiseKernel(
    "T g, T alpha, T beta_1, T beta_2, T eps, T decay",
    "T w, T m, T v, T v_hat",
    """
    if (decay != (T)0) w -= w * decay;
    m = beta_1 * m + ((T)1 - beta_1) * g;
    v = beta_2 * v + ((T)1 - beta_2) * g * g;
    v_hat = fmax(v_hat, v);
    w -= alpha * m / (sqrt(v_hat) + eps);
    """,
    "numnet_amsgrad",
)

# Nadam (Keras form): c_m, c_g weigh m and g in m_hat, c_v = 1 - beta_2**t
_NADAM = cupy.ElementwiseKernel(
    "T g, T lr, T one_minus_beta_1, T one_minus_beta_2, T eps, T c_m, T c_g, T c_v",
    "T w, T m, T v",
    """
    m += (g - m) * one_minus_beta_1;
    v += (g * g - v) * one_minus_beta_2;
    w -= lr * (m * c_m + g * c_g) / (sqrt(v / c_v) + eps);
    """,
    "numnet_nadam",
)

# Adamax (Keras form): u the decayed infinity norm, c_m = 1 - beta_1**t
_ADAMAX = cupy.ElementwiseKernel(
    "T g, T lr, T one_minus_beta_1, T beta_2, T eps, T c_m",
    "T w, T m, T u",
    """
    m += (g - m) * one_minus_beta_1;
    u = fmax(u * beta_2, fabs(g));
    w -= lr * m / (c_m * (u + eps));
    """,
    "numnet_adamax",
)
# Lion: the sign of the interpolated momentum (NaN stays NaN, as xp.sign)
_LION = cupy.ElementwiseKernel(
    "T g, T lr, T beta_1, T one_minus_beta_1, T beta_2, T one_minus_beta_2",
    "T w, T m",
    """
    T c = m * beta_1 + g * one_minus_beta_1;
    w -= lr * (c > (T)0 ? (T)1 : (c < (T)0 ? (T)-1 : c));
    m = m * beta_2 + g * one_minus_beta_2;
    """,
    "numnet_lion",
)
# Adadelta (Keras form): a_g, a_d the running averages of g*g and step*step
_ADADELTA = cupy.ElementwiseKernel(
    "T g, T lr, T rho, T one_minus_rho, T eps",
    "T w, T a_g, T a_d",
    """
    a_g = rho * a_g + one_minus_rho * (g * g);
    T step = sqrt(a_d + eps) * g / sqrt(a_g + eps);
    a_d = rho * a_d + one_minus_rho * (step * step);
    w -= lr * step;
    """,
    "numnet_adadelta",
)

# -- recurrent cells: the gate math of one time step, (U, N) elements ---------
# Gate blocks are rows k*U:(k+1)*U of a (G*U, N) C-contiguous buffer: element
# (u, n) of gate k sits at i + k*n_el where i is the (u, n) index, n_el = U*N.
_LSTM_CELL = cupy.ElementwiseKernel(
    "T c_prev",
    "raw T a, T c, T pc, T h",
    """
    const ptrdiff_t n_el = _ind.size();
    T ig = (T)1 / ((T)1 + exp(-a[i]));
    T fg = (T)1 / ((T)1 + exp(-a[i + n_el]));
    T gg = tanh(a[i + 2 * n_el]);
    T og = (T)1 / ((T)1 + exp(-a[i + 3 * n_el]));
    a[i] = ig; a[i + n_el] = fg; a[i + 2 * n_el] = gg; a[i + 3 * n_el] = og;
    c = fg * c_prev + ig * gg;
    pc = tanh(c);
    h = og * pc;
    """,
    "numnet_lstm_cell",
)
_GRU_CELL = cupy.ElementwiseKernel(
    "T h_prev, raw T rec",
    "raw T a, T h",
    """
    const ptrdiff_t n_el = _ind.size();
    T z = (T)1 / ((T)1 + exp(-(a[i] + rec[i])));
    T r = (T)1 / ((T)1 + exp(-(a[i + n_el] + rec[i + n_el])));
    T hh = tanh(a[i + 2 * n_el] + r * rec[i + 2 * n_el]);
    a[i] = z; a[i + n_el] = r; a[i + 2 * n_el] = hh;
    h = z * h_prev + ((T)1 - z) * hh;
    """,
    "numnet_gru_cell",
)


def _scatter_add(out, index, values) -> None:
    """``out[index] += values`` with repeats accumulated (atomic adds)."""
    at = getattr(cupy.add, "at", None)  # CuPy >= 12 (cupy/cupy#7077)
    if at is not None:
        at(out, index, values)
    else:  # older CuPy
        import cupyx

        cupyx.scatter_add(out, index, values)


class CupyOps(CupyRecurrentOps, Ops):
    """The kernels on CuPy arrays (one CUDA device: the arrays' own)."""

    name = "cupy"

    def __init__(self):
        super().__init__(cupy)

    def to_numpy(self, x):
        return cupy.asnumpy(x)

    def sum_leading(self, a, lead: int):
        # bias gradients, BN statistics: CuPy's reduction over leading axes
        # leaves most of the GPU idle; cupy_reduce splits the rows over blocks
        if 0 < lead < a.ndim and a.size >= _BLOCKED_SUM_MIN and cupy_reduce.supports(a):
            tail = a.shape[lead:]
            return cupy_reduce.column_sums(a.reshape(-1, math.prod(tail))).reshape(tail)
        return a.sum(axis=tuple(range(lead)))

    def scatter_add_rows(self, indices, rows, n_rows: int):
        out = cupy.zeros((n_rows, rows.shape[1]), dtype=rows.dtype)
        _scatter_add(out, indices, rows)
        return out

    def index_add(self, shape, index, values):
        out = cupy.zeros(shape, dtype=values.dtype)
        _scatter_add(out, index, values)
        return out

    def erf(self, x):
        from cupyx.scipy import special

        return special.erf(x)

    def normal_cdf(self, x):
        return _NORMAL_CDF(x)

    def sigmoid(self, x):
        return _SIGMOID(x)

    def relu(self, x):
        return _RELU(x)

    def relu_in_place(self, y) -> None:
        cupy.maximum(y, 0, out=y)

    def mask_multiply(self, gy, mask):
        return _MASK_MULTIPLY(gy, mask)

    def scaled_mask(self, keep, scale, dtype):
        out = cupy.empty(keep.shape, dtype)
        return _SCALED_MASK(keep, out.dtype.type(scale), out)

    def sgd_update(self, w, g, velocity, lr, momentum, nesterov):
        if velocity is None:
            _SGD(g, lr, w)
        else:
            (_SGD_NESTEROV if nesterov else _SGD_MOMENTUM)(g, lr, momentum, w, velocity)

    def rmsprop_update(self, w, g, s, m, u, lr, rho, momentum, epsilon):
        if m is not None and u is not None:
            _RMSPROP_CENTERED_MOMENTUM(g, lr, rho, momentum, epsilon, w, s, m, u)
        elif m is not None:
            _RMSPROP_CENTERED(g, lr, rho, epsilon, w, s, m)
        elif u is not None:
            _RMSPROP_MOMENTUM(g, lr, rho, momentum, epsilon, w, s, u)
        else:
            _RMSPROP(g, lr, rho, epsilon, w, s)

    def weight_decay_(self, w, decay: float) -> None:
        _WEIGHT_DECAY(decay, w)

    def adagrad_update(self, w, g, a, lr: float, epsilon: float) -> None:
        _ADAGRAD(g, lr, epsilon, w, a)

    def adam_update(
        self, w, g, m, v, v_hat, alpha, beta_1, beta_2, epsilon, *, decay=0.0
    ):
        if v_hat is None:
            _ADAM(g, alpha, beta_1, beta_2, epsilon, decay, w, m, v)
        else:
            _AMSGRAD(g, alpha, beta_1, beta_2, epsilon, decay, w, m, v, v_hat)

    def nadam_update(self, w, g, m, v, lr, beta_1, beta_2, epsilon, c_m, c_g, c_v):
        _NADAM(g, lr, 1.0 - beta_1, 1.0 - beta_2, epsilon, c_m, c_g, c_v, w, m, v)

    def adamax_update(self, w, g, m, u, lr, beta_1, beta_2, epsilon, c_m):
        _ADAMAX(g, lr, 1.0 - beta_1, beta_2, epsilon, c_m, w, m, u)

    def lion_update(self, w, g, m, lr, beta_1, beta_2):
        _LION(g, lr, beta_1, 1.0 - beta_1, beta_2, 1.0 - beta_2, w, m)

    def adadelta_update(self, w, g, a_g, a_d, lr, rho, epsilon):
        _ADADELTA(g, lr, rho, 1.0 - rho, epsilon, w, a_g, a_d)

    def lstm_cell_(self, a, c_prev, c, pc, h) -> None:
        _LSTM_CELL(c_prev, a, c, pc, h)

    def gru_cell_(self, a, rec, h_prev, h) -> None:
        _GRU_CELL(h_prev, rec, a, h)


_REGISTERED = False


def register() -> bool:
    """Use :class:`CupyOps` for every CuPy array; True the first time only."""
    global _REGISTERED
    if _REGISTERED:
        return False
    from numnet import backend

    backend.register_ops(CupyOps())
    _REGISTERED = True
    return True


# -- host-to-device batches: pinned memory and a copy stream -------------------


def prefetch_batches(batches, index: int, map_leaves):
    """Yield ``(x, y, sample_weight)`` batches on GPU ``index``, one batch ahead.

    Batch i+1 is copied (pinned host buffer -> device, on a copy stream) while
    the caller computes on batch i. Ordering, on the compute (current) stream:
    a destination is allocated there, the copy stream waits for that point (the
    memory pool may hand back a block the compute stream still reads) and the
    compute stream waits for the copy before it uses the batch. A pinned buffer
    is released only after its copy has finished.

    Args:
        batches: an iterator of ``(x, y, sample_weight)`` nests of host arrays.
        index: the CUDA device.
        map_leaves: ``map_leaves(fn, nest)`` applies ``fn`` to every array leaf
            (Tensors arrive as their data).
    """
    device = cupy.cuda.Device(index)  # entered around our own calls only
    with device:
        copy_stream = cupy.cuda.Stream(non_blocking=True)
    staged = None
    for part in batches:
        with device:
            following = _stage(part, copy_stream, map_leaves)
        if staged is not None:
            with device:
                ready = _ready(staged)
            yield ready
            staged[2].synchronize()  # its copies are done: free the pinned
        staged = following
    if staged is not None:
        with device:
            ready = _ready(staged)
        yield ready


def _stage(part, copy_stream, map_leaves):
    import cupyx
    import numpy as np

    compute = cupy.cuda.get_current_stream()
    pinned = []

    def copy(leaf):
        if isinstance(leaf, cupy.ndarray):
            return leaf
        host = np.ascontiguousarray(leaf)
        buffer = cupyx.empty_pinned(host.shape, host.dtype)
        buffer[...] = host
        pinned.append(buffer)
        out = cupy.empty(host.shape, host.dtype)  # allocated on the compute stream
        copy_stream.wait_event(compute.record())
        out.set(buffer, stream=copy_stream)
        return out

    moved = tuple(map_leaves(copy, p) for p in part)
    return moved, pinned, copy_stream.record()


def _ready(staged):
    moved, _, copied = staged
    cupy.cuda.get_current_stream().wait_event(copied)
    return moved
