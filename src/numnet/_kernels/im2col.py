"""im2col / col2im for channels-last images, and the window arithmetic around them.

A convolution slides a KH x KW window over a padded (N, H, W, C) image with strides
(sh, sw) and dilations (dh, dw). im2col copies every window into one row of a column
buffer laid out (N, OH, OW, KH, KW, C), so that the convolution becomes one matrix
product (N*OH*OW, KH*KW*C) @ (KH*KW*C, C_out) with the Keras kernel (KH, KW, C, C_out)
reshaped, and no transposes (cs231n's im2col, channels-last).

Two forms of each copy live here:

- the public :func:`im2col` / :func:`col2im`: the course's loop over the KH*KW
  kernel taps, one strided-slice copy (or add) per tap, written against the
  array namespace of their input (NumPy, CuPy, ...). The reference convolution
  (``conv_reference.py``) and the tests use them.
- the CPU executor's :func:`im2col_padded` / :func:`col2im_padded` (NumPy only):
  im2col is one copy. Every window of the padded input is a regular stride
  pattern (window (oh, ow) starts at row oh*sh, column ow*sw; tap (i, j) is i*dh
  rows and j*dw columns further), so the (N, OH, OW, KH, KW, C) columns are one
  ``as_strided`` view of it; along the width the (KW, C) block of a window is a
  contiguous run of the row (when dw == 1), so the copy moves KW*C-long runs
  (2-2.7x faster than one copy per kernel row, and one NumPy call; measured in
  docs/decisions.md). col2im cannot add through an overlapping view, so the
  output columns are
  split into q = ceil(window_width / sw) groups (ow = r, r+q, r+2q, ...) whose
  windows do not overlap; each (kernel row, group) pair is then one ``+=``
  through a plain reshaped slice. No ``np.add.at``.

Output size (course notes): OH = floor((H + pt + pb - dh*(KH-1) - 1) / sh) + 1.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numnet import backend
from numnet._kernels.budget import (  # noqa: F401 (re-export: the public home)
    DEFAULT_MEMORY_BUDGET,
    get_memory_budget,
    memory_budget,
    set_memory_budget,
)


def conv_output_size(n: int, f: int, s: int = 1, p=0, d: int = 1) -> int:
    """Output length of a window sweep: floor((n + 2p - d(f-1) - 1) / s) + 1.

    Args:
        n: input length; f: window (filter) length; s: stride; d: dilation.
        p: padding per side, or a (before, after) pair.

    Example (course notes: n=39 with f=3/5/5 and s=1/2/2):
        >>> sizes = [(39, 3, 1), (37, 5, 2), (17, 5, 2)]
        >>> [conv_output_size(n, f, s) for n, f, s in sizes]
        [37, 17, 7]
    """
    before, after = (p, p) if isinstance(p, (int, np.integer)) else p
    return (n + before + after - d * (f - 1) - 1) // s + 1


def same_padding(n: int, f: int, s: int = 1, d: int = 1) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's "same": the output has ceil(n/s) cells.

    The total padding is max((ceil(n/s) - 1)*s + d(f-1) + 1 - n, 0); an odd total
    puts the extra cell after (bottom/right), as TensorFlow and Keras do.

    Example:
        >>> same_padding(28, 3), same_padding(28, 4), same_padding(32, 5, 2)
        ((1, 1), (1, 2), (1, 2))
    """
    out = -(-n // s)
    total = max((out - 1) * s + d * (f - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def pair(value, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """Turn an int or a pair of ints into a pair, validating the range.

    Raises:
        ValueError: naming ``op`` and the argument, e.g. ``stride=0``.
    """
    items = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        a, b = items
        ok = all(_is_int(v) and v >= minimum for v in (a, b))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(
            f"{op}: invalid value for argument '{name}'. Expected a {kind} int or a "
            f"pair of {kind} ints. Received: {name}={value!r}"
        )
    return int(a), int(b)


@dataclass(frozen=True)
class Geometry:
    """Sizes of one 2-D window sweep over an (N, H, W, C) image.

    The derived sizes (OH, OW, span_w, ...) are computed once per instance
    (``cached_property``: kernels read them many times a call).

    Attributes:
        H, W: input height and width; KH, KW: window size; sh, sw: strides;
        dh, dw: dilations; pt, pb, pl, pr: padding top, bottom, left, right.
    """

    H: int
    W: int
    KH: int
    KW: int
    sh: int = 1
    sw: int = 1
    dh: int = 1
    dw: int = 1
    pt: int = 0
    pb: int = 0
    pl: int = 0
    pr: int = 0

    @cached_property
    def OH(self) -> int:  # noqa: N802 - course-notes dimension name
        return conv_output_size(self.H, self.KH, self.sh, (self.pt, self.pb), self.dh)

    @cached_property
    def OW(self) -> int:  # noqa: N802
        return conv_output_size(self.W, self.KW, self.sw, (self.pl, self.pr), self.dw)

    @cached_property
    def padded(self) -> bool:
        return any((self.pt, self.pb, self.pl, self.pr))

    @cached_property
    def span_w(self) -> int:
        """Width covered by one dilated window: dw*(KW-1) + 1."""
        return self.dw * (self.KW - 1) + 1

    @cached_property
    def groups(self) -> int:
        """How many output columns apart two windows stop overlapping (col2im)."""
        return -(-self.span_w // self.sw)

    @cached_property
    def _padded_hw(self) -> tuple[int, int]:
        q, m = self.groups, self.groups * self.sw
        width = self.W + self.pl + self.pr
        for r in range(min(q, self.OW)):
            width = max(width, r * self.sw + len(range(r, self.OW, q)) * m)
        return self.H + self.pt + self.pb, width

    def padded_shape(self, n: int, c: int) -> tuple[int, int, int, int]:
        """Shape of the zero-padded input buffer, with slack on the right for col2im."""
        return (n, *self._padded_hw, c)


def make_geometry(
    H: int, W: int, kernel_size, stride=1, padding="valid", dilation=1, op="conv2d"
) -> Geometry:
    """Resolve stride, padding ("valid", "same", int or (ph, pw)) and dilation.

    Geometries of plain arguments (ints, strings, tuples of ints: what layers
    and shapes pass) are memoized; any other argument (a NumPy integer, a list,
    a bool) is resolved afresh, so its validation and error are unchanged.

    Raises:
        ValueError: for an unknown padding string, a bad pair, or a (dilated)
            window larger than the padded input.
    """
    args = (H, W, kernel_size, stride, padding, dilation, op)
    if plain_arguments(*args):
        return _cached_geometry(*args)
    return _resolve_geometry(*args)


def _is_plain(value) -> bool:
    """None, an int, a str or a tuple of ints: hashable, and equal only to the
    same value of the same type (a bool, 3.0 or np.int64(3) is not plain)."""
    kind = type(value)
    if kind is int or kind is str or value is None:
        return True
    return kind is tuple and all(type(v) is int for v in value)


def plain_arguments(*args) -> bool:
    """True when every argument is plain (see ``_is_plain``): a safe memo key."""
    return all(map(_is_plain, args))


@functools.lru_cache(maxsize=512)
def _cached_geometry(H, W, kernel_size, stride, padding, dilation, op) -> Geometry:
    return _resolve_geometry(H, W, kernel_size, stride, padding, dilation, op)


def _resolve_geometry(H, W, kernel_size, stride, padding, dilation, op) -> Geometry:
    KH, KW = pair(kernel_size, "kernel_size", op)
    sh, sw = pair(stride, "stride", op)
    dh, dw = pair(dilation, "dilation", op)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            pt = pb = pl = pr = 0
        elif mode == "same":
            pt, pb = same_padding(H, KH, sh, dh)
            pl, pr = same_padding(W, KW, sw, dw)
        else:
            raise ValueError(
                f"{op}: invalid value for argument 'padding'. Expected 'valid', "
                f"'same', an int or a pair of ints. Received: padding={padding!r}"
            )
    else:
        ph, pw = pair(padding, "padding", op, minimum=0)
        pt = pb = ph
        pl = pr = pw
    g = Geometry(H, W, KH, KW, sh, sw, dh, dw, pt, pb, pl, pr)
    if g.OH < 1 or g.OW < 1:
        raise ValueError(
            f"{op}: the window ({KH}x{KW}, dilation ({dh}, {dw})) is larger than the "
            f"padded input ({H + pt + pb}x{W + pl + pr} from an input of {H}x{W} "
            f"with padding ((top, bottom), (left, right))={((pt, pb), (pl, pr))})"
        )
    return g


def pad_into(x: np.ndarray, g: Geometry, buffer: np.ndarray | None = None, value=0):
    """Return ``x`` (N, H, W, C) padded as ``g`` says (plus col2im slack on the right).

    ``buffer`` (shape ``g.padded_shape``, at least N images) is reused when given:
    its border must already hold ``value``; only the interior is overwritten.
    """
    n, c = x.shape[0], x.shape[3]
    if buffer is None:
        buffer = np.full(g.padded_shape(n, c), value, dtype=x.dtype)
    x_padded = buffer[:n]
    x_padded[:, g.pt : g.pt + g.H, g.pl : g.pl + g.W] = x
    return x_padded


def zero_border(buffer: np.ndarray, g: Geometry) -> np.ndarray:
    """Zero what of a ``g.padded_shape`` buffer lies outside the (H, W) interior.

    A reused buffer then needs only its interior written (``pad_into``), not a
    pass over the whole buffer: about 7 % of it for a 3x3 "same" conv on 28x28.
    """
    interior_rows = buffer[:, g.pt : g.pt + g.H]
    buffer[:, : g.pt] = 0
    buffer[:, g.pt + g.H :] = 0
    interior_rows[:, :, : g.pl] = 0
    interior_rows[:, :, g.pl + g.W :] = 0
    return buffer


def im2col_padded(x_padded: np.ndarray, g: Geometry, out: np.ndarray | None = None):
    """Columns (n, OH, OW, KH, KW, C) of an already padded input (CPU executor).

    NumPy only: one copy from the strided view of every window (module docstring).
    """
    n, C = x_padded.shape[0], x_padded.shape[3]
    OH, OW = g.OH, g.OW
    if out is None:
        out = np.empty((n, OH, OW, g.KH, g.KW, C), dtype=x_padded.dtype)
    rows, width = (OH - 1) * g.sh + (g.KH - 1) * g.dh, (OW - 1) * g.sw + g.span_w
    if x_padded.shape[1] <= rows or x_padded.shape[2] < width:  # internal misuse
        raise ValueError(
            f"im2col_padded: a padded input of shape {x_padded.shape} is smaller "
            f"than the windows of {g} reach"
        )
    sN, sH, sW, sC = x_padded.strides
    # cols[:, oh, ow, i, j] = x_padded[:, oh*sh + i*dh, ow*sw + j*dw]
    strides = (sN, sH * g.sh, sW * g.sw, sH * g.dh, sW * g.dw, sC)
    shape = (n, OH, OW, g.KH, g.KW, C)
    out[...] = as_strided(x_padded, shape, strides, writeable=False)
    return out


def col2im_padded(cols: np.ndarray, g: Geometry, out: np.ndarray) -> np.ndarray:
    """Add the columns (n, OH, OW, KH, KW, C) back into the padded buffer ``out``.

    ``out`` has ``g.padded_shape`` (with the slack) and is accumulated into, so it
    is usually zeros. Windows of output columns ow and ow + q never overlap (q =
    ``g.groups``), so each (kernel row i, column group r) is one ``+=`` through a
    slice of ``out`` reshaped to (n, OH, T, q*sw, C).
    """
    n, C = cols.shape[0], cols.shape[5]
    OH, OW, q = g.OH, g.OW, g.groups
    m = q * g.sw
    for i in range(g.KH):
        rows = out[:n, i * g.dh : i * g.dh + (OH - 1) * g.sh + 1 : g.sh]
        for r in range(min(q, OW)):
            T = len(range(r, OW, q))
            start = r * g.sw
            block = rows[:, :, start : start + T * m].reshape(n, OH, T, m, C)
            block = block[:, :, :, : g.span_w : g.dw]
            block += cols[:, :, r::q, i]
    return out


def _window_slices(g: Geometry, i: int, j: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input seen by kernel offset (i, j)."""
    rows = slice(i * g.dh, i * g.dh + (g.OH - 1) * g.sh + 1, g.sh)
    cols = slice(j * g.dw, j * g.dw + (g.OW - 1) * g.sw + 1, g.sw)
    return rows, cols


def window_view(x_padded, g: Geometry, i: int, j: int):
    """The (n, OH, OW, C) view of the padded input seen by kernel offset (i, j)."""
    rows, cols = _window_slices(g, i, j)
    return x_padded[:, rows, cols, :]


def unpad(x_padded, g: Geometry):
    """The interior (n, H, W, C) view of a padded buffer."""
    return x_padded[:, g.pt : g.pt + g.H, g.pl : g.pl + g.W, :]


def pad(x, g: Geometry, value=0):
    """``x`` (N, H, W, C) zero-padded as ``g`` says (any array namespace)."""
    if not g.padded:
        return x
    xp = backend.get_array_module(x)
    N, H, W, C = x.shape
    shape = (N, H + g.pt + g.pb, W + g.pl + g.pr, C)
    out = xp.full(shape, value, dtype=x.dtype)
    out[:, g.pt : g.pt + H, g.pl : g.pl + W, :] = x
    return out


def im2col(x, g: Geometry):
    """Columns (N, OH, OW, KH, KW, C) of the input ``x`` (N, H, W, C), zero-padded.

    The course's im2col, portable to any array namespace: one strided copy per
    kernel tap (i, j), ``cols[:, :, :, i, j] = x_padded[:, i + oh*s, j + ow*s]``.
    (The CPU executor builds its columns faster, with :func:`im2col_padded`.)

    Example (a 1x3x3x1 image, 2x2 windows, stride 1):
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> im2col(x, make_geometry(3, 3, 2)).reshape(4, 4)
        array([[0., 1., 3., 4.],
               [1., 2., 4., 5.],
               [3., 4., 6., 7.],
               [4., 5., 7., 8.]])
    """
    xp = backend.get_array_module(x)
    x_padded = pad(x, g)
    N, C = x.shape[0], x.shape[3]
    cols = xp.empty((N, g.OH, g.OW, g.KH, g.KW, C), dtype=x.dtype)
    for i in range(g.KH):
        for j in range(g.KW):
            cols[:, :, :, i, j, :] = window_view(x_padded, g, i, j)
    return cols


def col2im(cols, g: Geometry):
    """The adjoint of :func:`im2col`: sum columns back into an (N, H, W, C) image.

    Tap (i, j) adds its column block to the window it was copied from; within
    one tap no two output pixels share an input pixel, so each tap is one add.
    """
    xp = backend.get_array_module(cols)
    N, C = cols.shape[0], cols.shape[5]
    shape = (N, g.H + g.pt + g.pb, g.W + g.pl + g.pr, C)
    out = xp.zeros(shape, dtype=cols.dtype)
    for i in range(g.KH):
        for j in range(g.KW):
            rows, columns = _window_slices(g, i, j)
            window = (slice(None), rows, columns, slice(None))
            out[window] = out[window] + cols[:, :, :, i, j, :]
    return xp.asarray(unpad(out, g), copy=True)


def block_size(n: int, bytes_per_item: int, target: int) -> int:
    """How many batch items to process at once: at most ``target`` bytes of columns,
    at most the memory budget, at least one item; balanced, so that 128 items in
    blocks of at most 120 become 2 blocks of 64, not 120 + 8."""
    limit = min(target, get_memory_budget())
    size = max(1, min(n, limit // max(1, bytes_per_item)))
    count = -(-n // size) if n else 1
    return -(-n // count) if n else 1


def blocks(n: int, size: int) -> list[tuple[int, int]]:
    """(start, stop) pairs covering range(n) in steps of ``size``."""
    return [(s, min(n, s + size)) for s in range(0, n, size)]
