"""The CPU executor of convolution plans: GEMMs over NumPy im2col columns.

It computes what the reference convolution (``conv_reference.py``) computes,
y2 = cols @ w2 + b, dw2 = cols^T @ gy2, db = sum gy2, dx = col2im(gy2 @ w2^T),
faster on NumPy, in the way a :class:`~numnet._kernels.conv_plan.ConvPlan`
says (the planner, ``conv_plan.py``, holds the choices and their measurements):

- the batch runs in blocks of at most ``plan.block_bytes`` of columns, the
  same blocks in forward and backward; the whole batch's columns are kept for
  dW (``plan.keep_columns``, within the memory budget) or recomputed per block;
- columns are row-major (rows, K) or K-major (K [+ 1], rows) (``plan.layout``),
  the K-major ones optionally ending with a ones row that carries the bias
  through both GEMMs (``plan.bias_in_gemm``, cs231n's bias trick);
- dx by col2im, by a stride-1 convolution of gy with the flipped kernel, or by
  one GEMM per kernel tap (``plan.dx_path``);
- scratch buffers come from the ``workspace`` pool; copies may run on the
  kernel threads (``plan.threads``).

:func:`conv2d_forward` / :func:`conv2d_backward` dispatch a plan to this
executor or to the reference one. The transposed convolution is the adjoint of
a convolution: its forward is the convolution's input gradient and its input
gradient is the convolution's forward.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numnet import backend
from numnet._kernels import conv_dx, conv_reference, threads, workspace
from numnet._kernels.conv_plan import ConvPlan, flipped_geometry
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
    zero_border,
)
from numnet.backend import blas

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


def _over_batch(plan: ConvPlan):
    """``threads.over_batch`` when the plan uses kernel threads, else inline."""
    if plan.threads:
        return threads.over_batch
    return lambda run, n, elements: run(0, n)


class _Columns:
    """Builds the column blocks of one input, one (rows, KH*KW*C) block at a time.

    Row-major (rows, K) columns: im2col copies runs of KW*C values, one kernel
    row at a time. K-major (K, rows) columns: one copy per (i, j, c) of a whole
    (N, OH, OW) plane, whose runs are OW long; with ``plan.bias_in_gemm`` their
    last row is ones, so the forward GEMM adds b and the weight-gradient GEMM
    returns db as its last row.

    Scratch buffers (the zero-padded copy of a block, the block's columns) and the
    kept columns of the whole batch come from the ``workspace`` pool and go back
    to it in :meth:`recycle`.
    """

    def __init__(self, x: np.ndarray, g: Geometry, plan: ConvPlan, keep: bool):
        N, C = x.shape[0], x.shape[3]
        self.x, self.g, self.C, self.plan = x, g, C, plan
        self.K = g.KH * g.KW * C
        self.k_major = plan.layout == "k_major"
        self.bias = plan.bias_in_gemm
        width = self.K + self.bias
        per_item = g.OH * g.OW * width * x.dtype.itemsize
        self.nb = block_size(N, per_item, plan.block_bytes)
        self.blocks = blocks(N, self.nb)
        self.keep = keep and N * per_item <= get_memory_budget()
        rows = (N if self.keep else self.nb) * g.OH * g.OW
        shape = (width, rows) if self.k_major else (rows, width)
        self.cols = workspace.take(shape, x.dtype)
        self.filled = 0  # blocks of kept columns already built
        self.x_padded = None

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
        if g.padded and self.x_padded is None:
            shape = g.padded_shape(self.nb, self.C)
            self.x_padded = zero_border(workspace.take(shape, self.x.dtype), g)
        x_padded = pad_into(xb, g, self.x_padded) if g.padded else xb
        fill = self._fill_k_major if self.k_major else self._fill_rows
        _over_batch(self.plan)(lambda a, b: fill(x_padded, out, a, b), n, out.size)
        self.filled = max(self.filled, k + 1) if self.keep else 0
        return out

    def _fill_rows(self, x_padded, out, a: int, b: int) -> None:
        g = self.g
        out6 = out.reshape(-1, g.OH, g.OW, g.KH, g.KW, self.C)
        im2col_padded(x_padded[a:b], g, out6[a:b])

    def _fill_k_major(self, x_padded, out, a: int, b: int) -> None:
        g, C = self.g, self.C
        planes = out.T[:, a * g.OH * g.OW : b * g.OH * g.OW]  # (K [+ 1], rows)
        # plane (i, j, c) is the (n, OH, OW) window view of tap (i, j), channel c:
        # all K planes are one strided view of the padded input, so one copy
        shape = (g.KH, g.KW, C, b - a, g.OH, g.OW)
        sK, sR = planes.strides
        target = as_strided(planes, shape, (g.KW * C * sK, C * sK, sK,
                            g.OH * g.OW * sR, g.OW * sR, sR))  # fmt: skip
        source = window_view(x_padded[a:b], g, 0, 0)  # tap (0, 0): (n, OH, OW, C)
        sN, sH, sW, sC = x_padded.strides
        strides = (sH * g.dh, sW * g.dw, sC) + source.strides[:3]
        target[...] = as_strided(source, shape, strides, writeable=False)
        if self.bias:
            planes[self.K] = 1

    def recycle(self) -> None:
        """Give every buffer back to the pool; the object is unusable afterwards."""
        workspace.give(self.cols, self.x_padded)
        self.cols = self.x_padded = None


class _Col2Im:
    """Accumulates column-gradient blocks back into an (N, H, W, C) image."""

    def __init__(self, out: np.ndarray, g: Geometry, nb: int, plan: ConvPlan):
        self.out, self.g, self.plan = out, g, plan
        self.buf = workspace.take(g.padded_shape(nb, out.shape[3]), out.dtype)

    def add(self, start: int, stop: int, dcols: np.ndarray) -> None:
        g, n = self.g, stop - start
        dcols6 = dcols.reshape(n, g.OH, g.OW, g.KH, g.KW, self.out.shape[3])

        def run(a, b):
            buf = self.buf[a:b]
            buf[...] = 0
            col2im_padded(dcols6[a:b], g, buf)
            self.out[start + a : start + b] = unpad(buf, g)

        _over_batch(self.plan)(run, n, dcols.size)

    def recycle(self) -> None:
        workspace.give(self.buf)
        self.buf = None


class ConvState:
    """What a convolution's forward keeps for its backward (and releases)."""

    def __init__(self, plan: ConvPlan, x, w, g: Geometry, y=None, cols=None):
        self.plan, self.x, self.w, self.g = plan, x, w, g
        self.y = y  # the output, kept for the fused ReLU's mask
        self.cols = cols  # reference columns or the CPU executor's _Columns

    def release(self) -> None:
        """Give kept columns back to the pool (after the last backward)."""
        if isinstance(self.cols, _Columns) and self.cols.cols is not None:
            self.cols.recycle()
        self.cols = None


def conv2d_forward(plan: ConvPlan, x, w, b, g: Geometry):
    """y = conv(x, w) + b (relu'd with ``plan.fused_relu``); returns (y, state).

    Args:
        plan: from :func:`~numnet._kernels.conv_plan.plan_conv` (or an override).
        x: (N, H, W, C) input; w: (KH, KW, C, O) kernel; b: (O,) or None.
    """
    if plan.executor == "cupy":
        return _cupy_forward(plan, x, w, b, g)
    if plan.executor == "reference":
        xp = backend.get_array_module(x)
        y, cols = conv_reference.conv2d_forward(x, w, b, g)
        if plan.fused_relu:
            y = xp.maximum(y, xp.zeros_like(y))
        cols = cols if plan.keep_columns else None
        return y, ConvState(plan, x, w, g, y if plan.fused_relu else None, cols)
    if plan.bias_in_gemm and b is None:  # no bias to carry in the ones row
        plan = plan.replace(bias_in_gemm=False)
    x = np.ascontiguousarray(x)
    w2 = np.ascontiguousarray(w).reshape(-1, w.shape[3])
    y, columns = _cpu_forward(plan, x, w2, b, g)
    if plan.fused_relu:  # relu in place on the GEMM's output, one pass

        def relu(a, c):
            np.maximum(y[a:c], 0, out=y[a:c])

        _over_batch(plan)(relu, len(y), y.size)
    return y, ConvState(plan, x, w2, g, y if plan.fused_relu else None, columns)


def conv2d_backward(gy, state: ConvState, need_dx=True, need_dw=True, need_db=True):
    """Gradients (dx, dw, db) of :func:`conv2d_forward`; None where not needed.

    dw has the kernel's (KH, KW, C, O) shape. With a fused ReLU, gy is first
    masked: dL/dz = gy where y = relu(z) > 0, else 0.
    """
    plan, g = state.plan, state.g
    if plan.executor == "cupy":
        return _cupy_backward(gy, state, need_dx, need_dw, need_db)
    if plan.executor == "reference":
        xp = backend.get_array_module(gy)
        if plan.fused_relu:
            gy = xp.where(state.y > 0, gy, xp.zeros_like(gy))
        cols = state.cols
        if need_dw and cols is None:  # not kept: recompute
            cols = conv_reference.conv2d_forward(state.x, state.w, None, g)[1]
        return conv_reference.conv2d_backward(
            gy, cols, state.w, g, state.x.shape, need_dx, need_dw, need_db
        )
    if plan.fused_relu:  # dL/dz = gy where y = relu(z) > 0
        gy = backend.get_ops(gy).relu_backward(gy, state.y)
    if need_dw and (state.cols is None or state.cols.cols is None):
        state.cols = _Columns(state.x, g, plan, keep=False)  # recycled: rebuild
    dx, dw2, db = _cpu_backward(gy, state, need_dx, need_dw, need_db)
    dw = None if dw2 is None else dw2.reshape(g.KH, g.KW, -1, dw2.shape[1])
    return dx, dw, db


def _cupy_conv(a):
    """``numnet.backend.cupy_conv`` for a CuPy array ``a`` (imported on first use:
    it imports CuPy); a clear error for any other array."""
    xp = backend.get_array_module(a)
    if getattr(xp, "__name__", "").split(".")[0] != "cupy":
        raise ValueError(
            "conv2d: a plan with executor='cupy' runs on CuPy arrays only. "
            f"Received: an array of {type(a).__module__}.{type(a).__name__}; use "
            "plan_conv(...) (or executor 'cpu'/'reference') for it"
        )
    from numnet.backend import cupy_conv

    return cupy_conv


def _cupy_forward(plan: ConvPlan, x, w, b, g: Geometry):
    """The CUDA executor: y = im2col(x) @ w2 + b (relu'd), columns kept or not."""
    y, cols = _cupy_conv(x).conv2d_forward(x, w, b, g, relu=plan.fused_relu)
    cols = cols if plan.keep_columns else None
    return y, ConvState(plan, x, w, g, y if plan.fused_relu else None, cols)


def _cupy_backward(gy, state: ConvState, need_dx, need_dw, need_db):
    """dx = col2im(gy w2^T), dW = cols^T gy, db = sum gy on CUDA (None if unneeded)."""
    cupy_conv, g, x = _cupy_conv(gy), state.g, state.x
    if state.plan.fused_relu:  # dL/dz = gy where y = relu(z) > 0
        gy = cupy_conv.relu_mask(gy, state.y)
    cols = state.cols
    if need_dw and cols is None:  # not kept: recompute
        cols = cupy_conv.im2col(x, g).reshape(-1, g.KH * g.KW * x.shape[3])
    return cupy_conv.conv2d_backward(
        gy, state.w, g, cols, x.shape, need_dx, need_dw, need_db
    )


def _cpu_forward(plan: ConvPlan, x, w2, b, g: Geometry):
    N, O = x.shape[0], w2.shape[1]
    y = np.empty((N, g.OH, g.OW, O), x.dtype)
    columns = _Columns(x, g, plan, plan.keep_columns)
    if columns.bias:  # the columns end with a ones column: b is the last weight row
        w2 = np.concatenate([w2, b[None].astype(w2.dtype, copy=False)])
    add_bias = b is not None and not columns.bias
    for k, (start, stop) in enumerate(columns.blocks):
        y2 = y[start:stop].reshape(-1, O)
        if add_bias:  # y2 = b, then the GEMM adds into it: no pass for the bias
            np.copyto(y2, b)
        blas.gemm(columns.block(k), w2, y2, accumulate=add_bias)
    if not columns.keep:
        columns.recycle()
    return y, columns


def _cpu_backward(gy, state: ConvState, need_dx, need_dw, need_db):
    """dw2 = cols^T @ gy2 on the kept or recomputed columns; db = sum(gy2) (or
    the ones row of that GEMM); dx by ``plan.dx_path``. The kept columns go back
    to the pool only in ``ConvState.release``: a retained graph may run
    backward twice."""
    plan, g, x, w2, columns = state.plan, state.g, state.x, state.w, state.cols
    O, K = w2.shape[1], w2.shape[0]
    gy = np.ascontiguousarray(gy)
    dx = _input_grad(plan, gy, w2, g, x) if need_dx else None
    by_col2im = need_dx and plan.dx_path == "col2im"  # dx built in the loop below
    if columns is None:  # released and not needed for dw: blocks as built
        columns = _Columns(x, g, plan, keep=False)
    nb = columns.nb
    dw2 = np.zeros_like(w2) if need_dw else None
    db = np.zeros(O, gy.dtype) if need_db else None
    db_in_gemm = need_dw and columns.bias  # the ones column's gradient row is db
    scatter = _Col2Im(dx, g, nb, plan) if by_col2im else None
    dcols = workspace.take((nb * g.OH * g.OW, K), gy.dtype) if by_col2im else None
    for k, (start, stop) in enumerate(blocks(len(x), nb)):
        gy2 = gy[start:stop].reshape(-1, O)
        if need_dw:
            dwb = rows_t_matmul(columns.block(k), gy2)  # (K [+ 1], O)
            dw2 += dwb[:K]
        if need_db:
            db += dwb[K] if db_in_gemm else backend.sum_leading(gy2, 1)
        if by_col2im:
            block = dcols[: gy2.shape[0]]
            np.matmul(gy2, w2.T, out=block)
            scatter.add(start, stop, block)
    workspace.give(dcols)
    if scatter is not None:
        scatter.recycle()
    if not columns.keep:
        columns.recycle()
    return dx, dw2, db


def _input_grad(plan: ConvPlan, gy, w2, g: Geometry, x) -> np.ndarray:
    """dx by the flipped-kernel convolution or the taps; an empty array to be
    filled block by block for col2im."""
    if plan.dx_path == "col2im":
        return np.empty_like(x)
    if plan.dx_path == "flat":
        return conv_dx.input_grad_flat(gy, w2, g, x.shape)
    if plan.dx_path == "taps":
        _require_stride_one(plan, g)
        return conv_dx.input_grad_by_taps(gy, w2, g, x.shape)
    full = flipped_geometry(g)
    if full is None:
        raise ValueError(
            f"conv2d: plan dx_path='flipped' needs stride 1 and padding at most "
            f"(K-1)*dilation. Received: stride={(g.sh, g.sw)}, padding="
            f"{((g.pt, g.pb), (g.pl, g.pr))}, kernel={(g.KH, g.KW)}"
        )
    flipped = plan.replace(layout="rows", bias_in_gemm=False, keep_columns=False)
    return _cpu_forward(flipped, gy, _flipped_kernel(w2, g, x.shape[3]), None, full)[0]


def _require_stride_one(plan: ConvPlan, g: Geometry) -> None:
    if (g.sh, g.sw) != (1, 1):
        raise ValueError(
            f"conv2d: plan dx_path={plan.dx_path!r} needs stride 1. "
            f"Received: stride={(g.sh, g.sw)}"
        )


def _flipped_kernel(w2: np.ndarray, g: Geometry, C: int) -> np.ndarray:
    """w (KH, KW, C, O) rotated by 180 degrees, as (KH*KW*O, C)."""
    w = w2.reshape(g.KH, g.KW, C, w2.shape[1])[::-1, ::-1].transpose(0, 1, 3, 2)
    return np.ascontiguousarray(w).reshape(-1, C)
