"""CPU fast paths: ``NumpyOps``, the reference kernels overridden for NumPy.

Each override computes what its :class:`~numnet.backend.ops.Ops` method defines
(the tests compare both), using what only a CPU NumPy process has: BLAS
matrix-vector products, ``out=`` ufunc loops split over numnet's kernel
threads, a pool of already-mapped scratch buffers, ``ndarray.base`` ownership
chains, and SciPy's sparse product.
"""

from __future__ import annotations

import math

import numpy as np

from numnet.backend import special, threads, workspace
from numnet.backend.ops import Ops

#: ``sum_leading`` uses the BLAS matrix-vector form from this many elements on.
GEMV_MIN_ELEMENTS = 4096


class NumpyOps(Ops):
    """The kernels on NumPy arrays, with the CPU fast paths."""

    name = "numpy"

    def __init__(self):
        super().__init__(np)
        self._ones: dict[np.dtype, np.ndarray] = {}

    def to_numpy(self, x):
        return x

    def sum_leading(self, a, lead: int):
        """On a C-contiguous float array, ``ones @ a.reshape(m, -1)`` (one GEMV).

        BLAS streams the array once: about 8x faster than ``np.sum`` over
        leading axes, which walks the rows with a strided pairwise loop
        (batch-norm statistics, bias gradients).
        """
        tail = a.shape[lead:]
        if (
            0 < lead < a.ndim
            and a.dtype in (np.float32, np.float64)
            and a.flags.c_contiguous
            and a.size >= GEMV_MIN_ELEMENTS
        ):
            m = a.size // max(1, math.prod(tail))
            ones = self._ones.get(a.dtype)
            if ones is None or len(ones) < m:
                ones = self._ones[a.dtype] = np.ones(m, a.dtype)
            return (ones[:m] @ a.reshape(m, -1)).reshape(tail)
        return a.sum(axis=tuple(range(lead)))

    def scatter_add_rows(self, indices, rows, n_rows: int):
        """A sparse (V, P) selection matrix times the (P, E) rows: O(P * E).

        About 25x faster than ``np.add.at`` for P = 12,800 positions, and no
        dense one-hot matrix.
        """
        from scipy import sparse  # lazy: `import numnet` must not import scipy

        P = indices.shape[0]
        # column p of the selection matrix has a single 1 at row indices[p]
        select = sparse.csc_matrix(
            (np.ones(P, dtype=rows.dtype), indices, np.arange(P + 1)),
            shape=(n_rows, P),
        )
        return np.asarray(select @ rows, dtype=rows.dtype)

    def erf(self, x):
        from scipy.special import erf  # lazy: `import numnet` must not load scipy

        return erf(x)

    def masked_softmax(self, scores, mask, axis):
        # The mask enters as an additive 0 / -inf bias built at the mask's own
        # size (a causal mask is (Tq, Tv)): no full-size np.where, and the
        # passes run in place. A masked inf or NaN score would turn a row into
        # NaN here, where the reference gives it weight 0: such rows (seen in
        # the small row sums) take the reference.
        dt = scores.dtype.type
        if mask is None:
            z = scores - scores.max(axis=axis, keepdims=True)
        else:
            with np.errstate(invalid="ignore"):  # inf - inf: the check below
                z = scores + np.where(mask, dt(0), dt(-np.inf))
            top = z.max(axis=axis, keepdims=True)
            top[~np.isfinite(top)] = 0  # a row with no allowed entry
            with np.errstate(invalid="ignore"):
                z -= top
        np.exp(z, out=z)
        total = z.sum(axis=axis, keepdims=True)
        if mask is not None:
            if np.isnan(total).any():
                return super().masked_softmax(scores, mask, axis)
            total[total == 0] = 1
        z /= total
        return z

    def normal_cdf(self, x):
        # float32: blocked NumPy passes (numnet.backend.special), several times
        # faster than SciPy's scalar erf loop; float64: SciPy's exact ndtr
        if x.dtype == np.float32 and x.flags.c_contiguous:
            return special.normal_cdf_float32(x, np.empty_like(x))
        from scipy.special import ndtr  # lazy: `import numnet` must not load scipy

        return ndtr(x)

    def gelu_grad(self, gy, x, cdf):
        # float32 of one layout: the same passes over cache-sized blocks
        arrays = (gy, x, cdf)
        if all(
            a.dtype == np.float32 and a.flags.c_contiguous and a.shape == x.shape
            for a in arrays
        ):
            return special.gelu_grad_float32(gy, x, cdf, np.empty_like(x))
        return super().gelu_grad(gy, x, cdf)

    def index_add(self, shape, index, values):
        gx = np.zeros(shape, dtype=values.dtype)
        np.add.at(gx, index, values)  # NumPy's unbuffered scatter-add
        return gx

    def relu(self, x):
        # np.maximum is one streaming pass; np.where(mask, x, 0) is ~8x slower
        # on large random-sign arrays (data-dependent branches). Large arrays
        # are split over threads along the batch axis.
        y, mask = np.empty_like(x), np.empty(x.shape, bool)
        zero = x.dtype.type(0)

        def run(part):
            np.greater(x[part], zero, out=mask[part])
            np.maximum(x[part], zero, out=y[part])

        self._over_rows(run, x)
        return y, mask

    def relu_in_place(self, y) -> None:
        zero = y.dtype.type(0)
        self._over_rows(lambda p: np.maximum(y[p], zero, out=y[p]), y)

    def mask_multiply(self, gy, mask):
        gx = np.empty(gy.shape, gy.dtype)
        self._over_rows(lambda p: np.multiply(gy[p], mask[p], out=gx[p]), gy)
        return gx

    def relu_backward(self, gy, y):
        # the comparison and the product of each part on its thread, so the
        # part's mask is still in cache: 1.76 -> 1.08 ms on W5's first conv
        gx, mask = np.empty(gy.shape, gy.dtype), np.empty(gy.shape, bool)
        zero = y.dtype.type(0)

        def run(part):
            np.greater(y[part], zero, out=mask[part])
            np.multiply(gy[part], mask[part], out=gx[part])

        self._over_rows(run, gy)
        return gx

    def _over_rows(self, run, x) -> None:
        """``run(part)`` over slices of the first axis, on threads when x is large."""
        if x.ndim == 0:
            run(...)
        else:
            self.over_batch(lambda a, b: run(slice(a, b)), x.shape[0], x.size)

    def errstate(self, **kwargs):
        return np.errstate(**kwargs)

    def over_batch(self, run, n: int, elements: int) -> None:
        threads.over_batch(run, n, elements)

    def take(self, shape, dtype):
        return workspace.take(shape, dtype)

    def give(self, *arrays) -> None:
        workspace.give(*arrays)

    def private_copy(self, g):
        # a read-only broadcast view, a view of another array, or an array the
        # caller handed in must be copied; a fresh array of our own need not be
        if g.base is not None or not g.flags.writeable:
            return g.copy()
        return g
