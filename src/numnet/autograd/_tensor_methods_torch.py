"""More method spellings that PyTorch users type: ``x.dim()``, ``x.numel()``,
``x.t()``, ``x.float()``, ``x.prod()``, ``x.gather(1, idx)``, ``x.topk(3)``, ...
(a mixin of :class:`numnet.autograd.tensor.Tensor`).

Like :mod:`numnet.autograd._tensor_methods`, each method looks its function up
by name in ``OPS``, which ``numnet.ops`` fills when it is imported. Keywords
are NumPy's (``axis=``, ``keepdims=``); positional orders follow PyTorch where
PyTorch has the method (``gather(axis, index)``, ``topk(k, axis)``).
"""

from __future__ import annotations

from numnet.autograd._tensor_methods import _op


class TorchMethods:
    """PyTorch-style conveniences of :class:`Tensor`."""

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements (``size``)."""
        return self.size

    def t(self):
        """The transpose of a matrix (0-D and 1-D tensors are returned as they are)."""
        if self.ndim > 2:
            raise ValueError(
                f"t: expects a tensor with at most 2 dimensions. Received: shape "
                f"{self.shape}; use swapaxes or transpose for more"
            )
        return _op("transpose")(self, None)

    def float(self):
        """A float32 copy (differentiable, like ``astype``)."""
        return _op("astype")(self, "float32")

    def double(self):
        """A float64 copy (differentiable, like ``astype``)."""
        return _op("astype")(self, "float64")

    def clamp(self, min=None, max=None):  # noqa: A002
        """Clamp values into [min, max] (PyTorch's name of ``clip``)."""
        return _op("clip")(self, min, max)

    def prod(self, axis=None, keepdims: bool = False):
        """Product over ``axis`` (exact gradient with zeros; see ``numnet.prod``)."""
        return _op("prod")(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        """Cumulative sum along ``axis`` (None: over the flattened tensor)."""
        return _op("cumsum")(self, axis)

    def cumprod(self, axis=None):
        """Cumulative product along ``axis`` (None: over the flattened tensor)."""
        return _op("cumprod")(self, axis)

    def std(self, axis=None, keepdims: bool = False):
        """Standard deviation over ``axis`` (population, ``ddof=0``, as NumPy)."""
        return _op("std")(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None):
        """Indices of the minima (an ndarray, like ``argmax``; not differentiable)."""
        return self.data.argmin(axis=axis)

    def norm(self, ord=None, axis=None, keepdims: bool = False):  # noqa: A002
        """Vector norm or Frobenius norm (see ``numnet.norm``; gradient 0 at 0)."""
        return _op("norm")(self, ord=ord, axis=axis, keepdims=keepdims)

    def flip(self, axis=None):
        """Reverse the order of elements along ``axis`` (all axes by default)."""
        return _op("flip")(self, axis)

    def roll(self, shift, axis=None):
        """Shift elements cyclically along ``axis`` (``np.roll``)."""
        return _op("roll")(self, shift, axis)

    def tril(self, k: int = 0):
        """The lower triangle of the last two axes."""
        return _op("tril")(self, k)

    def triu(self, k: int = 0):
        """The upper triangle of the last two axes."""
        return _op("triu")(self, k)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        """The diagonal of the (axis1, axis2) planes, as the last axis."""
        return _op("diagonal")(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        """Sum of the diagonal."""
        return _op("trace")(self, offset, axis1, axis2)

    def sort(self, axis: int = -1):
        """The values sorted ascending along ``axis`` (differentiable; values
        only: ``argsort`` gives the indices)."""
        return _op("sort")(self, axis)

    def gather(self, axis: int, index):
        """``torch.gather``: ``out[i][j] = self[i][index[i][j]]`` for ``axis=1``
        (``take_along_axis`` with PyTorch's argument order)."""
        return _op("take_along_axis")(self, index, axis)

    def topk(self, k: int, axis: int = -1):
        """The ``k`` largest values along ``axis`` and their indices, as
        ``(values, indices)``; values largest first, ties to the lower index."""
        return _op("topk")(self, k, axis)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is true, self elsewhere."""
        return _op("masked_fill")(self, mask, value)
