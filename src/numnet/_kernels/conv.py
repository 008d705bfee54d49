"""Convolution forward and backward on raw ndarrays, as GEMMs over im2col columns.

With x (N, H, W, C), the Keras kernel w (KH, KW, C, O) reshaped to w2 (KH*KW*C, O)
and cols = im2col(x) reshaped to (N*OH*OW, KH*KW*C):

    forward:  y2 = cols @ w2 + b                     (one GEMM)
    backward: dw2 = cols^T @ gy2                      (GEMM, reusing cols)
              db = sum of gy2 over its rows
              dx = col2im(gy2 @ w2^T)                 (GEMM, then the += loop)

For stride 1, dx has two faster forms (``input_grad_path`` picks one): a
convolution of gy with the flipped kernel, or one GEMM per kernel tap whose
result is added into a shifted window of dx (no column buffer at all).

The batch is processed in blocks of a few MiB of columns, so that each block's
columns are still in cache when the GEMM reads them (``BLOCK_BYTES``). The
columns of the whole batch are kept for the backward pass when they fit in the
memory budget (``im2col.set_memory_budget``); otherwise backward recomputes them
block by block. Forward and backward use the same blocks, so the only effect of
the budget on results is the summation order of dw2 when a block must shrink.

The transposed convolution is the adjoint of a convolution: its forward is the
convolution's input gradient and its input gradient is the convolution's forward.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet._kernels import threads, workspace
from numnet._kernels.im2col import (
    Geometry,
    block_size,
    blocks,
    col2im_padded,
    get_memory_budget,
    im2col_padded,
    pad_into,
    unpad,
    window_view,
)

#: Target bytes of columns per block (fewer, larger BLAS calls; see decisions.md).
BLOCK_BYTES = 64 * 2**20


#: OpenBLAS runs a GEMM on one thread when m*n*k <= 2**18 (its SMP threshold).
_ONE_THREAD_MNK = 2**18
#: Outputs this small gain nothing from BLAS threads (see ``rows_t_matmul``).
_TINY_OUTPUT = 4096


def rows_t_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a^T @ b for tall a (R, K) and b (R, O): dW's reduction over R pixel rows.

    With a tiny output (K*O, e.g. 9x32 for a first conv on grey images) BLAS threads
    have nothing to share but the reduction, and they synchronise once per
    ~400-row slice of it: on a busy machine each sync waits for a descheduled
    thread (measured: 6.6 s instead of 2 ms for the first conv of the W5 CNN at
    load 15). Such reductions are split into row chunks small enough for OpenBLAS
    to run each on one thread, and done as one batched matmul.
    """
    R, K = a.shape
    O = b.shape[1]
    if K * O > _TINY_OUTPUT or R * K * O <= _ONE_THREAD_MNK:
        return a.T @ b
    rows = max(1, _ONE_THREAD_MNK // (K * O))
    P = R // rows
    # (K, P, rows) splits a^T's row axis: a view for both column layouts
    a3 = a.T[:, : P * rows].reshape(K, P, rows).transpose(1, 0, 2)
    out = np.matmul(a3, b[: P * rows].reshape(P, rows, O)).sum(axis=0)
    if P * rows < R:
        out += a[P * rows :].T @ b[P * rows :]
    return out


class _Columns:
    """Builds the column blocks of one input, one (rows, KH*KW*C) block at a time.

    Two layouts. Row-major (rows, K): im2col copies runs of KW*C values, one
    kernel row at a time. When KW*C is at most half an output row (a first layer
    on grey images: KW*C = 3 for a 3x3 kernel), the columns are stored K-major
    (K, rows) instead: one copy per (i, j, c) of a whole (N, OH, OW) plane, whose
    runs are OW long. The K-major layout also carries the bias: its last row is
    ones (``self.bias``), so the forward GEMM adds b and the weight-gradient GEMM
    returns db as its last row (cs231n's "bias trick").

    Scratch buffers (the zero-padded copy of a block, the block's columns) and the
    kept columns of the whole batch come from the ``workspace`` pool and go back
    to it in :meth:`recycle`.
    """

    def __init__(self, x: np.ndarray, g: Geometry, keep: bool, bias: bool = False):
        N, C = x.shape[0], x.shape[3]
        self.x, self.g, self.C = x, g, C
        self.K = g.KH * g.KW * C
        self.k_major = self.prefers_k_major(g, C)
        self.bias = bias and self.k_major
        width = self.K + self.bias
        per_item = g.OH * g.OW * width * x.dtype.itemsize
        self.nb = block_size(N, per_item, BLOCK_BYTES)
        self.blocks = blocks(N, self.nb)
        self.keep = keep and N * per_item <= get_memory_budget()
        rows = (N if self.keep else self.nb) * g.OH * g.OW
        shape = (width, rows) if self.k_major else (rows, width)
        self.cols = workspace.take(shape, x.dtype)
        self.filled = 0  # blocks of kept columns already built
        self.xp = None

    @staticmethod
    def prefers_k_major(g: Geometry, C: int) -> bool:
        """K-major when a window row (KW*C values) is at most half an output row.

        (W5's first conv, KW*C = 3 and OW = 26: its forward 3.7 -> 1.6 ms; W2's,
        15 and 16, gained nothing.)
        """
        return 2 * g.KW * C <= g.OW

    def block(self, k: int) -> np.ndarray:
        """Columns of block k as a 2-D (rows, K) array (K + 1 with ``self.bias``)."""
        start, stop = self.blocks[k]
        g, n = self.g, stop - start
        rows = n * g.OH * g.OW
        offset = start * g.OH * g.OW if self.keep else 0
        if self.k_major:
            out = self.cols[:, offset : offset + rows].T
        else:
            out = self.cols[offset : offset + rows]
        if self.keep and k < self.filled:
            return out
        xb = self.x[start:stop]
        if g.padded and self.xp is None:
            self.xp = workspace.take(g.padded_shape(self.nb, self.C), self.x.dtype)
            self.xp[...] = 0
        xp = pad_into(xb, g, self.xp) if g.padded else xb
        fill = self._fill_k_major if self.k_major else self._fill_rows
        threads.over_batch(lambda a, b: fill(xp, out, a, b), n, out.size)
        self.filled = max(self.filled, k + 1) if self.keep else 0
        return out

    def _fill_rows(self, xp, out, a: int, b: int) -> None:
        g = self.g
        out6 = out.reshape(-1, g.OH, g.OW, g.KH, g.KW, self.C)
        im2col_padded(xp[a:b], g, out6[a:b])

    def _fill_k_major(self, xp, out, a: int, b: int) -> None:
        g, C = self.g, self.C
        planes = out.T[:, a * g.OH * g.OW : b * g.OH * g.OW]  # (K [+ 1], rows)
        for i in range(g.KH):
            for j in range(g.KW):
                window = window_view(xp[a:b], g, i, j)
                for c in range(C):
                    row = planes[(i * g.KW + j) * C + c]
                    row.reshape(b - a, g.OH, g.OW)[...] = window[..., c]
        if self.bias:
            planes[self.K] = 1

    def recycle(self) -> None:
        """Give every buffer back to the pool; the object is unusable afterwards."""
        workspace.give(self.cols, self.xp)
        self.cols = self.xp = None


class _Col2Im:
    """Accumulates column-gradient blocks back into an (N, H, W, C) image."""

    def __init__(self, out: np.ndarray, g: Geometry, nb: int):
        self.out, self.g = out, g
        self.buf = workspace.take(g.padded_shape(nb, out.shape[3]), out.dtype)

    def add(self, start: int, stop: int, dcols: np.ndarray) -> None:
        g, n = self.g, stop - start
        dcols6 = dcols.reshape(n, g.OH, g.OW, g.KH, g.KW, self.out.shape[3])

        def run(a, b):
            buf = self.buf[a:b]
            buf[...] = 0
            col2im_padded(dcols6[a:b], g, buf)
            self.out[start + a : start + b] = unpad(buf, g)

        threads.over_batch(run, n, dcols.size)

    def recycle(self) -> None:
        workspace.give(self.buf)
        self.buf = None


def conv2d_forward(x, w2, b, g: Geometry, keep_cols: bool = False):
    """y = conv(x, w2) + b; returns (y, columns) where columns is kept for backward.

    Args:
        x: (N, H, W, C) C-contiguous input; w2: (KH*KW*C, O); b: (O,) or None.
        keep_cols: keep the columns for the weight gradient (if within budget).
    """
    N, O = x.shape[0], w2.shape[1]
    y = np.empty((N, g.OH, g.OW, O), x.dtype)
    columns = _Columns(x, g, keep_cols, bias=b is not None)
    if columns.bias:  # the columns end with a ones column: b is the last weight row
        w2 = np.concatenate([w2, b[None].astype(w2.dtype, copy=False)])
    for k, (start, stop) in enumerate(columns.blocks):
        y2 = y[start:stop].reshape(-1, O)
        np.matmul(columns.block(k), w2, out=y2)
        if b is not None and not columns.bias:
            y2 += b
    if not columns.keep:
        columns.recycle()
    return y, columns


def conv2d_backward(gy, w2, g: Geometry, columns: _Columns, needs=(True, True, True)):
    """Gradients (dx, dw2, db) of conv2d_forward; None where ``needs`` is False.

    dw2 = cols^T @ gy2 (GEMM on the kept or recomputed columns), db = sum(gy2)
    (or the ones column's row of that GEMM, for K-major columns), and dx by the
    path :func:`input_grad_path` picks (col2im(gy2 @ w2^T) for strided
    convolutions). The columns go back to the pool only in
    :func:`release_columns`, since a retained graph may run backward twice.
    """
    x, O = columns.x, w2.shape[1]
    gy = np.ascontiguousarray(gy)
    if needs[1] and columns.cols is None:  # recycled by the forward: rebuild
        columns = _Columns(x, g, keep=False, bias=columns.bias)
    dx = None
    path = input_grad_path(g, x.shape[3], O) if needs[0] else None
    if path == "flipped":
        full = _input_grad_geometry(g)
        dx = conv2d_forward(gy, _flipped_kernel(w2, g, x.shape[3]), None, full)[0]
    elif path == "taps":
        dx = _input_grad_by_taps(gy, w2, g, x.shape)
    elif path == "col2im":
        dx = np.empty_like(x)
    if path != "col2im":
        needs = (False, needs[1], needs[2])
    dw2 = np.zeros_like(w2) if needs[1] else None
    db = np.zeros(O, gy.dtype) if needs[2] else None
    scatter = _Col2Im(dx, g, columns.nb) if needs[0] else None
    dcols = None
    if needs[0]:  # col2im path
        dcols = workspace.take((columns.nb * g.OH * g.OW, w2.shape[0]), gy.dtype)
    K = w2.shape[0]
    db_in_gemm = needs[1] and columns.bias  # the ones column's gradient row is db
    for k, (start, stop) in enumerate(columns.blocks):
        gy2 = gy[start:stop].reshape(-1, O)
        if needs[1]:
            dwb = rows_t_matmul(columns.block(k), gy2)  # (K [+ 1], O)
            dw2 += dwb[:K]
        if needs[2]:
            db += dwb[K] if db_in_gemm else backend.sum_leading(gy2, 1)
        if needs[0]:
            block = dcols[: gy2.shape[0]]
            np.matmul(gy2, w2.T, out=block)
            scatter.add(start, stop, block)
    workspace.give(dcols)
    if scatter is not None:
        scatter.recycle()
    if not columns.keep:
        columns.recycle()
    return dx, dw2, db


#: Force one input-gradient path ("flipped", "taps" or "col2im"; tests), or None.
INPUT_GRAD_PATH: str | None = None


def input_grad_path(g: Geometry, C: int, O: int) -> str:
    """How conv2d_backward computes dx for input channels C and output channels O.

    Measured (docs/decisions.md): for stride 1, the flipped-kernel convolution
    wins while gy has at most the channels of x (its columns are O/C times
    col2im's; 44 vs 55 ms on 128x14x14x64, 3x3, and 5-12 % ahead of the taps),
    and one GEMM per tap wins when gy has more (W1's dx 44 vs 49 ms, the W5
    CNN's second conv 7.4 vs 10.9 ms). Strided convolutions use col2im: their
    shifted windows are strided too.
    """
    if INPUT_GRAD_PATH is not None:
        return INPUT_GRAD_PATH
    if (g.sh, g.sw) != (1, 1):
        return "col2im"
    if O <= C and _input_grad_geometry(g) is not None:
        return "flipped"
    return "taps"


def _input_grad_geometry(g: Geometry) -> Geometry | None:
    """The stride-1 convolution of the padded gy whose output is dx, or None.

    For stride 1, dx[p, q] = sum_ij gy[p - i*dh, q - j*dw] . w[i, j]^T: a
    convolution of gy, padded by (K-1)*d minus the forward padding on each side,
    with the kernel rotated by 180 degrees and its channel axes swapped. Its
    columns are a copy where col2im is a read-modify-write.
    """
    if (g.sh, g.sw) != (1, 1):
        return None
    pads = (
        (g.KH - 1) * g.dh - g.pt,
        (g.KH - 1) * g.dh - g.pb,
        (g.KW - 1) * g.dw - g.pl,
        (g.KW - 1) * g.dw - g.pr,
    )
    if min(pads) < 0:  # padding wider than the window: use another path
        return None
    return Geometry(g.OH, g.OW, g.KH, g.KW, 1, 1, g.dh, g.dw, *pads)


def _input_grad_by_taps(gy, w2, g: Geometry, x_shape) -> np.ndarray:
    """dx of a stride-1 convolution, one kernel tap (i, j) at a time.

    Tap (i, j) sends output pixel (oh, ow) to input pixel (oh + i*dh - pt,
    ow + j*dw - pl), so dx[shifted window] += gy @ w[i, j]^T: a GEMM into a
    small buffer that is still in cache when it is added, and an add whose
    rows are contiguous runs of OW*C values. Taps that fall in the padding are
    clipped away.
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


def _flipped_kernel(w2: np.ndarray, g: Geometry, C: int) -> np.ndarray:
    """w (KH, KW, C, O) rotated by 180 degrees, as (KH*KW*O, C)."""
    w = w2.reshape(g.KH, g.KW, C, w2.shape[1])[::-1, ::-1].transpose(0, 1, 3, 2)
    return np.ascontiguousarray(w).reshape(-1, C)


def release_columns(columns: _Columns | None) -> None:
    """Give a convolution's kept columns back to the pool (after its last backward)."""
    if columns is not None and columns.cols is not None:
        columns.recycle()


def conv2d_transpose_forward(x, w2, b, g: Geometry):
    """Transposed convolution: the input gradient of the convolution ``g`` describes.

    x is (N, OH, OW, Ci) (the convolution's output side), w2 is (KH*KW*Co, Ci) and
    the result is (N, H, W, Co): y = col2im(x2 @ w2^T) + b.
    """
    N, Ci = x.shape[0], x.shape[3]
    Co = w2.shape[0] // (g.KH * g.KW)
    y = np.empty((N, g.H, g.W, Co), x.dtype)
    per_item = g.OH * g.OW * w2.shape[0] * x.dtype.itemsize
    nb = block_size(N, per_item, BLOCK_BYTES)
    scatter = _Col2Im(y, g, nb)
    for start, stop in blocks(N, nb):
        scatter.add(start, stop, x[start:stop].reshape(-1, Ci) @ w2.T)
    scatter.recycle()
    if b is not None:
        y += b
    return y


def conv2d_transpose_backward(gy, x, w2, g: Geometry, needs=(True, True, True)):
    """Gradients (dx, dw2, db) of conv2d_transpose_forward.

    With cols = im2col(gy): dx2 = cols @ w2 (a convolution) and dw2 = cols^T @ x2.
    """
    Ci = x.shape[3]
    gy = np.ascontiguousarray(gy)
    columns = _Columns(gy, g, keep=False)
    dx = np.empty_like(x) if needs[0] else None
    dw2 = np.zeros_like(w2) if needs[1] else None
    for k, (start, stop) in enumerate(columns.blocks):
        cols = columns.block(k) if (needs[0] or needs[1]) else None
        if needs[0]:
            np.matmul(cols, w2, out=dx[start:stop].reshape(-1, Ci))
        if needs[1]:
            dw2 += rows_t_matmul(cols, x[start:stop].reshape(-1, Ci))
    columns.recycle()
    db = gy.sum(axis=(0, 1, 2)) if needs[2] else None
    return dx, dw2, db
