"""CUDA kernels of the recurrent cells' backward: one kernel per time step.

The BPTT loops of the fused LSTM and GRU ops (``functional/recurrent_cells.py``)
call ``ops.lstm_cell_backward_`` / ``ops.gru_cell_backward_`` once per step on
CuPy (default activations only: sigmoid gates, tanh): all the gate-gradient
math of a step in one launch, where the array form takes about fifteen. Each
kernel computes what its reference method of :class:`numnet.backend.ops.Ops`
defines; ``tests/gpu/test_cupy.py`` compares them. Imported by
``cupy_ops.py`` (so only once CuPy is known to be present); the kernels are
defined once, here, at import.

Layout (as the forward cell kernels in ``cupy_ops.py``): a (G*U, N)
C-contiguous gate buffer holds gate k in rows k*U:(k+1)*U, so element (u, n) of
gate k sits at ``i + k*n_el`` where ``i`` is the (u, n) index of the (U, N)
arguments and ``n_el = U*N``.
"""

from __future__ import annotations

import cupy

# dc_t = dc + dh o (1 - pc^2); da = [dc_t g i(1-i), dc_t c_prev f(1-f),
# dc_t i (1-g^2), dh pc o(1-o)]; dc_prev = dc_t f   (Ops.lstm_cell_backward_)
_LSTM_CELL_BACKWARD = cupy.ElementwiseKernel(
    "T c_prev, T pc, T dh, T dc, raw T a",
    "raw T da, T dc_prev",
    """
    const ptrdiff_t n_el = _ind.size();
    const T ig = a[i];
    const T fg = a[i + n_el];
    const T gg = a[i + 2 * n_el];
    const T og = a[i + 3 * n_el];
    const T dct = dc + dh * og * ((T)1 - pc * pc);
    da[i] = dct * gg * ig * ((T)1 - ig);
    da[i + n_el] = dct * c_prev * fg * ((T)1 - fg);
    da[i + 2 * n_el] = dct * ig * ((T)1 - gg * gg);
    da[i + 3 * n_el] = dh * pc * og * ((T)1 - og);
    dc_prev = dct * fg;
    """,
    "numnet_lstm_cell_backward",
)

# dz = dh (h_prev - hh) z(1-z); dhh = dh (1-z)(1-hh^2); dr = dhh rec_h r(1-r);
# dxw = [dz, dr, dhh]; drec = [dz, dr, dhh r]; direct = dh z
# (Ops.gru_cell_backward_)
_GRU_CELL_BACKWARD = cupy.ElementwiseKernel(
    "T h_prev, T dh, raw T a, raw T rec",
    "raw T dxw, raw T drec, T direct",
    """
    const ptrdiff_t n_el = _ind.size();
    const T z = a[i];
    const T r = a[i + n_el];
    const T hh = a[i + 2 * n_el];
    const T dz = dh * (h_prev - hh) * z * ((T)1 - z);
    const T dhh = dh * ((T)1 - z) * ((T)1 - hh * hh);
    const T dr = dhh * rec[i + 2 * n_el] * r * ((T)1 - r);
    dxw[i] = dz;
    dxw[i + n_el] = dr;
    dxw[i + 2 * n_el] = dhh;
    drec[i] = dz;
    drec[i + n_el] = dr;
    drec[i + 2 * n_el] = dhh * r;
    direct = dh * z;
    """,
    "numnet_gru_cell_backward",
)


class CupyRecurrentOps:
    """The recurrent-cell backward kernels, mixed into ``CupyOps``."""

    def lstm_cell_backward_(self, a, c_prev, pc, dh, dc, da, dc_prev) -> None:
        _LSTM_CELL_BACKWARD(c_prev, pc, dh, dc, a, da, dc_prev)

    def gru_cell_backward_(self, a, rec, h_prev, dh, dxw, drec, direct) -> None:
        _GRU_CELL_BACKWARD(h_prev, dh, a, rec, dxw, drec, direct)
