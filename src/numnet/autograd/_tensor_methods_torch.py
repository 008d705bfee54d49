"""More method spellings that PyTorch users type: ``x.dim()``, ``x.numel()``,
``x.t()``, ``x.float()``, ``x.prod()``, ``x.gather(1, idx)``, ``x.topk(3)``, ...
(a mixin of :class:`numnet.autograd.tensor.Tensor`).

Like :mod:`numnet.autograd._tensor_methods`, each method looks its function up
by name in ``OPS``, which ``numnet.ops`` fills when it is imported. Keywords
are NumPy's (``axis=``, ``keepdims=``); positional orders follow PyTorch where
PyTorch has the method (``gather(axis, index)``, ``topk(k, axis)``).
"""

from __future__ import annotations

from numnet.autograd._tensor_methods import _op, _shape_args


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

    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """The ``k`` largest (``largest=False``: smallest) values along ``axis``
        and their indices, as ``(values, indices)``; ties to the lower index."""
        return _op("topk")(self, k, axis, largest, sorted)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is true, self elsewhere."""
        return _op("masked_fill")(self, mask, value)

    def view(self, *shape):
        """The same data with a new shape (``reshape``; ``-1`` infers one axis)."""
        return _op("reshape")(self, _shape_args(shape))

    def view_as(self, other):
        """``self.view(other.shape)``."""
        return _op("reshape")(self, other.shape)

    def reshape_as(self, other):
        """``self.reshape(other.shape)``."""
        return _op("reshape")(self, other.shape)

    def expand_as(self, other):
        """Broadcast to ``other.shape``; the gradient is summed back."""
        return _op("broadcast_to")(self, other.shape)

    def type_as(self, other):
        """A copy cast to ``other``'s dtype (differentiable between floats)."""
        return self.astype(other.dtype)

    def chunk(self, chunks: int, axis: int = 0):
        """At most ``chunks`` pieces along ``axis`` (see ``numnet.chunk``)."""
        return _op("chunk")(self, chunks, axis)

    def index_select(self, axis: int, index):
        """The slices at the 1-D ``index`` along ``axis`` (``numnet.index_select``)."""
        return _op("index_select")(self, axis, index)

    def scatter(self, axis: int, index, src):
        """A copy with ``src`` written at ``index`` along ``axis``."""
        return _op("scatter")(self, axis, index, src)

    def scatter_add(self, axis: int, index, src):
        """A copy with ``src`` added at ``index`` along ``axis``; repeats accumulate."""
        return _op("scatter_add")(self, axis, index, src)

    def bmm(self, other):
        """Batched matrix product of (B, n, k) by (B, k, m) (``numnet.bmm``)."""
        return _op("bmm")(self, other)

    def mm(self, other):
        """Matrix product of two 2-D tensors (``numnet.mm``)."""
        return _op("mm")(self, other)

    def clone(self):
        """A copy that does not share the data; differentiable (identity)."""
        return _op("clone")(self)

    def contiguous(self):
        """``self``: numnet's ops accept any memory layout, so nothing is copied."""
        return self

    def is_contiguous(self) -> bool:
        """Whether the data is C-contiguous (True where the array has no strides)."""
        return not _has_flags(self.data) or bool(self.data.flags.c_contiguous)

    def isclose(self, other, rtol: float = 1e-5, atol: float = 1e-8,
                equal_nan: bool = False):  # fmt: skip
        """Elementwise closeness (bool tensor; ``numnet.isclose``)."""
        return _op("isclose")(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol: float = 1e-5, atol: float = 1e-8,
                 equal_nan: bool = False) -> bool:  # fmt: skip
        """Whether every element is close to ``other`` (a Python bool)."""
        return _op("allclose")(self, other, rtol, atol, equal_nan)

    def eq(self, other):
        """self == other elementwise (bool; ``==`` itself compares identity)."""
        return _op("equal")(self, other)

    def ne(self, other):
        """self != other elementwise (bool)."""
        return _op("not_equal")(self, other)

    def lt(self, other):
        """self < other elementwise (bool)."""
        return _op("less")(self, other)

    def le(self, other):
        """self <= other elementwise (bool)."""
        return _op("less_equal")(self, other)

    def gt(self, other):
        """self > other elementwise (bool)."""
        return _op("greater")(self, other)

    def ge(self, other):
        """self >= other elementwise (bool)."""
        return _op("greater_equal")(self, other)

    def any(self, axis=None, keepdims: bool = False):
        """Whether some element along ``axis`` is true (bool tensor)."""
        return _op("any")(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims: bool = False):
        """Whether every element along ``axis`` is true (bool tensor)."""
        return _op("all")(self, axis=axis, keepdims=keepdims)

    # the casts come last: their names shadow the builtins in this class body
    def long(self):
        """An int64 copy (not differentiable)."""
        return _op("astype")(self, "int64")

    def int(self):
        """An int32 copy (not differentiable)."""
        return _op("astype")(self, "int32")

    def bool(self):
        """A boolean copy (not differentiable)."""
        return _op("astype")(self, "bool")

    def half(self):
        """A float16 copy (differentiable, like ``astype``)."""
        return _op("astype")(self, "float16")


def _has_flags(data) -> bool:
    # NumPy and CuPy arrays carry strides; other namespaces are read as contiguous
    return hasattr(type(data), "flags")
