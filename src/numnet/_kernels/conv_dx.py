"""Input gradients of convolutions, one kernel tap at a time.

For stride 1, tap (i, j) of the kernel links output pixel (oh, ow) to input
pixel (oh + i*dh - pt, ow + j*dw - pl), so

    dx = sum over taps (i, j) of  shift_ij(gy @ w[i, j]^T)

Two executors of that sum (``ConvPlan.dx_path``):

- "taps": each tap's GEMM writes a small buffer, then a NumPy add puts it into
  the shifted window of dx (taps that fall in the padding are clipped away);
- "flat": on the zero-padded grid (Hp, Wp), flattened together with the batch,
  every tap is one constant offset, off = i*dh*Wp + j*dw. With gy written on
  that grid (zeros where the grid has no output), the tap's term is a whole-batch
  GEMM added in place into a row range of the flattened dx: BLAS's C += A B
  (``backend.blas.gemm(..., accumulate=True)``), no buffer and no add pass.
  The price is the grid's extra rows: Hp*Wp / (OH*OW) more GEMM work. Strided
  convolutions run the same on each stride phase of the input
  (:func:`input_grad_flat`).
"""

from __future__ import annotations

import numpy as np

from numnet._kernels import workspace
from numnet._kernels.im2col import Geometry
from numnet.backend import blas


def input_grad_by_taps(gy, w2, g: Geometry, x_shape) -> np.ndarray:
    """dx of a stride-1 convolution, one tap's GEMM and one shifted add at a time.

    The GEMM's buffer is still in cache when it is added, and the add's rows
    are contiguous runs of OW*C values.
    """
    N, C, O = x_shape[0], x_shape[3], w2.shape[1]
    taps = np.ascontiguousarray(w2.reshape(g.KH, g.KW, C, O).transpose(0, 1, 3, 2))
    gy2 = gy.reshape(-1, O)
    dx = np.zeros(x_shape, gy.dtype)
    buf = workspace.take((gy2.shape[0], C), gy.dtype)
    out = buf.reshape(N, g.OH, g.OW, C)
    for i in range(g.KH):
        rows = _tap_span(g.H, g.OH, i * g.dh - g.pt)
        for j in range(g.KW):
            cols = _tap_span(g.W, g.OW, j * g.dw - g.pl)
            if rows is None or cols is None:
                continue
            np.matmul(gy2, taps[i, j], out=buf)
            (o0, o1, r0), (p0, p1, c0) = rows, cols
            dx[:, r0 : r0 + o1 - o0, c0 : c0 + p1 - p0] += out[:, o0:o1, p0:p1]
    workspace.give(buf)
    return dx


def _tap_span(n_in: int, n_out: int, shift: int) -> tuple[int, int, int] | None:
    """Outputs [o0, o1) whose input o + shift lies in [0, n_in), and o0 + shift."""
    o0, o1 = max(0, -shift), min(n_out, n_in - shift)
    return (o0, o1, o0 + shift) if o0 < o1 else None


def grid_overhead(g: Geometry) -> float:
    """How much more GEMM work "flat" does than a GEMM over the output pixels:
    rows of one phase grid (Hq, Wq) over rows of the output (OH, OW)."""
    Hq, Wq = _phase_grid(g)
    return Hq * Wq / (g.OH * g.OW)


def _phase_grid(g: Geometry) -> tuple[int, int]:
    """(Hq, Wq): one stride phase of the padded input, e.g. its even rows."""
    Hp, Wp = g.H + g.pt + g.pb, g.W + g.pl + g.pr
    return -(-Hp // g.sh), -(-Wp // g.sw)


def input_grad_flat(gy, w2, g: Geometry, x_shape) -> np.ndarray:
    """dx of a convolution: one accumulating whole-batch GEMM per tap.

    A stride-s convolution reads, through tap (i, j), only the stride phase
    (i*dh mod sh, j*dw mod sw) of the padded input (the even or odd rows and
    columns for s = 2), and within that phase it is a stride-1 convolution with
    offset (i*dh div sh, j*dw div sw). So each phase's gradient is the
    stride-1 sum of its taps on the phase grid, and dx interleaves the phases
    (stride 1: one phase, the padded dx itself).
    """
    N, H, W, C = x_shape
    O = w2.shape[1]
    Hq, Wq = _phase_grid(g)
    rows = N * Hq * Wq
    grid = workspace.take((N, Hq, Wq, O), gy.dtype)  # gy on the phase grid
    grid[:, g.OH :] = 0
    grid[:, : g.OH, g.OW :] = 0
    grid[:, : g.OH, : g.OW] = gy
    # stride 1 without padding: the one phase is dx itself
    direct = (Hq, Wq, g.sh, g.sw) == (H, W, 1, 1)
    shape = (g.sh, g.sw, rows, C)
    phases = np.empty(shape, gy.dtype) if direct else workspace.take(shape, gy.dtype)
    _accumulate_taps(grid.reshape(rows, O), w2.reshape(g.KH, g.KW, C, O), g, Wq, phases)
    workspace.give(grid)
    if direct:
        return phases.reshape(x_shape)
    dx = _interleave(phases.reshape(g.sh, g.sw, N, Hq, Wq, C), g, x_shape)
    workspace.give(phases)
    return dx


def _accumulate_taps(grid2, taps, g: Geometry, Wq: int, phases) -> None:
    """phases[a, b][off:] += grid2[:rows - off] @ w[i, j]^T for every tap; a
    phase's first tap (its smallest offset) overwrites instead, after zeroing
    the rows before its offset; a phase no tap reads is zero."""
    rows = grid2.shape[0]
    written = np.zeros((g.sh, g.sw), bool)
    for i in range(g.KH):
        a, di = divmod(i * g.dh, g.sh)[::-1]
        for j in range(g.KW):
            b, dj = divmod(j * g.dw, g.sw)[::-1]
            off = di * Wq + dj
            target = phases[a, b]
            if not written[a, b]:
                target[:off] = 0
            blas.gemm(grid2[: rows - off], taps[i, j].T, target[off:], written[a, b])
            written[a, b] = True
    for a, b in zip(*np.nonzero(~written), strict=True):
        phases[a, b] = 0


def _interleave(phases, g: Geometry, x_shape) -> np.ndarray:
    """dx (N, H, W, C) from the (sh, sw, N, Hq, Wq, C) phase gradients: the
    interior rows of phase a are padded rows a, a + sh, ..., i.e. dx rows
    h0, h0 + sh, ... (the same for columns)."""
    if (g.sh, g.sw) == (1, 1):  # a copy: phases go back to the pool
        return phases[
            0, 0, :, g.pt : g.pt + x_shape[1], g.pl : g.pl + x_shape[2]
        ].copy()
    dx = np.empty(x_shape, phases.dtype)
    for a in range(g.sh):
        rows = _phase_span(a, g.sh, g.pt, x_shape[1])
        for b in range(g.sw):
            cols = _phase_span(b, g.sw, g.pl, x_shape[2])
            (q0, h0, nh), (r0, w0, nw) = rows, cols
            dx[:, h0 :: g.sh, w0 :: g.sw] = phases[a, b, :, q0 : q0 + nh, r0 : r0 + nw]
    return dx


def _phase_span(a: int, s: int, pad: int, n: int) -> tuple[int, int, int]:
    """(first phase index, first unpadded index, count) of phase a's interior:
    padded indices a + s*q that land in [pad, pad + n)."""
    q0 = max(0, -(-(pad - a) // s))
    h0 = a + s * q0 - pad
    return q0, h0, len(range(h0, n, s))
