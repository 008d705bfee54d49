"""``gemm`` (out = a @ b, or out += a @ b) and ``axpby`` (y = a x + b y) in
NumPy's own BLAS, in place.

NumPy's ``matmul`` always writes a fresh product (or overwrites ``out``), so a
sum of products, ``out += a @ b``, costs one more pass over ``out`` per term. The
BLAS routine underneath, ``sgemm``/``dgemm``, computes C = alpha A B + beta C and
adds into C while its tile of the product is still in registers. This module
calls that routine of the BLAS library NumPy itself was built with (OpenBLAS in
the NumPy wheels: ``numpy.libs``/``numpy/.dylibs``), through ``ctypes``, so it
shares NumPy's threads and adds no dependency. Operands are passed as they are
laid out: a row-major or transposed 2-D view with any leading dimension (a
strided row range, a slice of a wider matrix) goes to BLAS without a copy.

Where no such library is found (another NumPy build), or the self-test at the
first call disagrees with ``np.matmul``, :func:`gemm` computes the same with
NumPy (:func:`numpy_gemm`), and :func:`accumulates_in_place` says so; the
convolution planner only chooses the paths that need it when it is True.

``axpby`` is OpenBLAS's ``?axpby``, y = a x + b y in one pass where NumPy needs
two (``y *= b; y += a * x``) and a temporary; the optimizers' moment updates
use it (Adam's step: 12 NumPy passes become 7). It falls back to NumPy the same
way.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_LOCK = threading.Lock()
#: routine name -> {dtype: (ctypes function, integer type)}, {} where none
_routines: dict[str, dict] = {}


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False):
    """out = a @ b, or out += a @ b with ``accumulate``; returns ``out``.

    Args:
        a: (m, k) and b: (k, n) float32 or float64 arrays of ``out``'s dtype;
            either may be a transposed view (Fortran order); any leading stride.
        out: (m, n) with unit stride along its rows (a C-contiguous array or a
            row range / column slice of one); it must not overlap a or b.
        accumulate: add the product to ``out`` instead of overwriting it.
    """
    _check_shapes(a, b, out)
    routine = _routine(out.dtype) if a.dtype == b.dtype == out.dtype else None
    if routine is None or not _call(routine, a, b, out, accumulate):
        numpy_gemm(a, b, out, accumulate)
    return out


def _check_shapes(a, b, out) -> None:
    """BLAS reads what the dimensions say: a mismatch must never reach it."""
    ok = a.ndim == b.ndim == out.ndim == 2
    if not ok or a.shape[1] != b.shape[0] or out.shape != (a.shape[0], b.shape[1]):
        raise ValueError(
            f"gemm: expected a (m, k), b (k, n) and out (m, n). Received: "
            f"a {a.shape}, b {b.shape}, out {out.shape}"
        )
    if not out.flags.writeable:
        raise ValueError("gemm: out is read-only")


def _call(routine, a, b, out, accumulate: bool) -> bool:
    """Run ``routine`` (a cblas gemm) if the operands allow it; whether it ran."""
    m, k = a.shape
    n = b.shape[1]
    args = _blas_operands(a, b, out, m, n, k)
    if args is None or np.may_share_memory(out, a) or np.may_share_memory(out, b):
        return False
    function, integer = routine
    (ta, lda), (tb, ldb), ldc = args
    limit = 2 ** (8 * ctypes.sizeof(integer) - 1)  # a 32-bit BLAS: dims < 2**31
    if max(m, n, k, lda, ldb, ldc) >= limit:
        return False
    function(
        _ROW_MAJOR, ta, tb, integer(m), integer(n), integer(k), 1.0,
        a.ctypes.data, integer(lda), b.ctypes.data, integer(ldb),
        1.0 if accumulate else 0.0, out.ctypes.data, integer(ldc),
    )  # fmt: skip
    return True


def numpy_gemm(a, b, out, accumulate: bool = False):
    """:func:`gemm` in NumPy: the reference, and the path without a usable BLAS."""
    if accumulate:
        out += a @ b
    else:
        np.matmul(a, b, out=out)
    return out


def accumulates_in_place() -> bool:
    """Whether :func:`gemm` reaches BLAS (its ``accumulate`` costs no extra pass)."""
    return bool(_routine(np.dtype(np.float32)))


def _blas_operands(a, b, out, m: int, n: int, k: int):
    """((trans_a, lda), (trans_b, ldb), ldc) of row-major BLAS, or None when an
    operand's layout has no BLAS description or a dimension is empty."""
    if 0 in (m, n, k):
        return None
    la, lb = _layout(a), _layout(b)
    if la is None or lb is None or out.ndim != 2:
        return None
    size = out.itemsize
    if not out.flags.aligned or out.strides[1] != size or out.strides[0] % size:
        return None
    ldc = out.strides[0] // size if m > 1 else n
    if ldc < n:
        return None
    return la, lb, ldc


def _layout(x: np.ndarray):
    """(trans flag, leading dimension) of a 2-D view, or None."""
    if x.ndim != 2 or not x.flags.aligned:
        return None
    rows, cols = x.shape
    size = x.itemsize
    s0, s1 = x.strides
    if s1 == size or cols == 1:  # row-major: rows s0 apart
        ld = s0 // size if rows > 1 else cols
        if s0 % size == 0 and ld >= max(1, cols):
            return _NO_TRANS, ld
    if s0 == size or rows == 1:  # column-major: the transpose is row-major
        ld = s1 // size if cols > 1 else rows
        if s1 % size == 0 and ld >= max(1, rows):
            return _TRANS, ld
    return None


def _routine(dtype: np.dtype, name: str = "gemm"):
    """(ctypes function, integer type) of BLAS routine ``name`` for ``dtype``,
    looked up and self-tested once; None where NumPy must compute it."""
    found = _routines.get(name)
    if found is None:
        with _LOCK:
            found = _routines.get(name)
            if found is None:
                found = _routines[name] = _find(name)
    return found.get(dtype)


def _symbols(name: str) -> tuple:
    """(single, double, integer type) symbol names of cblas ``name`` in the
    builds NumPy ships (64-bit integer interfaces first)."""
    return (
        (f"scipy_cblas_s{name}64_", f"scipy_cblas_d{name}64_", ctypes.c_int64),
        (f"cblas_s{name}64_", f"cblas_d{name}64_", ctypes.c_int64),
        (f"scipy_cblas_s{name}", f"scipy_cblas_d{name}", ctypes.c_int),
        (f"cblas_s{name}", f"cblas_d{name}", ctypes.c_int),
    )


def _find(name: str) -> dict:
    """{dtype: routine} of cblas ``name`` in NumPy's bundled BLAS, self-tested;
    {} if none. ``NUMNET_BLAS_GEMM=0`` turns every routine here off (every
    caller then uses NumPy)."""
    if os.environ.get("NUMNET_BLAS_GEMM", "1") == "0":
        return {}
    for path in _library_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for single, double, integer in _symbols(name):
            found = _bind(library, single, double, integer, name)
            agrees = _SELF_TESTS[name]
            if found and all(agrees(dt, r) for dt, r in found.items()):
                return found
    return {}


def _library_paths() -> list[str]:
    root = os.path.dirname(np.__file__)
    patterns = [
        os.path.join(root, os.pardir, "numpy.libs", "*blas*"),
        os.path.join(root, ".dylibs", "*blas*"),
    ]
    return sorted(p for pattern in patterns for p in glob.glob(pattern))


def _argtypes(name: str, integer, real) -> list:
    ptr = ctypes.c_void_p
    if name == "gemm":  # order, transa, transb, m, n, k, alpha, a, lda, b, ldb, ...
        return [ctypes.c_int] * 3 + [integer] * 3 + [
            real, ptr, integer, ptr, integer, real, ptr, integer,
        ]  # fmt: skip
    return [integer, real, ptr, integer, real, ptr, integer]  # axpby: n, a, x, ...


def _bind(library, single: str, double: str, integer, name: str) -> dict:
    found = {}
    for dtype, symbol, real in (
        (np.dtype(np.float32), single, ctypes.c_float),
        (np.dtype(np.float64), double, ctypes.c_double),
    ):
        function = getattr(library, symbol, None)
        if function is None:
            return {}
        function.argtypes = _argtypes(name, integer, real)
        function.restype = None
        found[dtype] = (function, integer)
    return found


def _agrees_with_numpy(dtype: np.dtype, routine) -> bool:
    """One product with a transposed operand and a strided, accumulated output."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 3)).astype(dtype)
    b = rng.standard_normal((4, 5)).astype(dtype).T  # (5, 4), column-major
    wide = rng.standard_normal((3, 7)).astype(dtype)
    expected = wide[:, 1:5] + a.T @ b
    ran = _call(routine, a.T, b, wide[:, 1:5], accumulate=True)
    return ran and bool(np.allclose(wide[:, 1:5], expected, rtol=1e-5, atol=1e-5))


def axpby(a: float, x: np.ndarray, b: float, y: np.ndarray) -> np.ndarray:
    """y = a * x + b * y in place, one pass (BLAS ``?axpby``); returns ``y``.

    Args:
        a, b: the scalars. x, y: float32 or float64 arrays of one shape and
            dtype; BLAS runs when both are C-contiguous and do not overlap and
            neither scalar is 0, NumPy (:func:`numpy_axpby`) otherwise: the
            same values, NaN and inf included.
    """
    if x.shape != y.shape:
        raise ValueError(
            f"axpby: x and y must have one shape. Received: {x.shape}, {y.shape}"
        )
    routine = _routine(y.dtype, "axpby") if x.dtype == y.dtype else None
    if routine is None or not _call_axpby(routine, a, x, b, y):
        numpy_axpby(a, x, b, y)
    return y


def numpy_axpby(a: float, x: np.ndarray, b: float, y: np.ndarray) -> np.ndarray:
    """:func:`axpby` in NumPy: the reference, and the path without BLAS (a x is
    computed first, so x may overlap y)."""
    ax = x * y.dtype.type(a)
    y *= b
    y += ax
    return y


def _call_axpby(routine, a, x, b, y) -> bool:
    """Run a cblas axpby if the operands allow it; whether it ran.

    Not for a == 0 or b == 0: OpenBLAS then skips reading x (or y), so a NaN
    or inf there would vanish instead of propagating as in NumPy (a learning
    rate of 0 must not hide a non-finite gradient).
    """
    if a == 0 or b == 0:
        return False
    contiguous = x.flags.c_contiguous and y.flags.c_contiguous and x.flags.aligned
    if not (contiguous and y.flags.writeable and y.flags.aligned) or y.size == 0:
        return False
    if np.may_share_memory(x, y):
        return False
    function, integer = routine
    if y.size >= 2 ** (8 * ctypes.sizeof(integer) - 1):
        return False
    function(integer(y.size), a, x.ctypes.data, integer(1), b, y.ctypes.data,
             integer(1))  # fmt: skip
    return True


def _axpby_agrees(dtype: np.dtype, routine) -> bool:
    """One small update against NumPy's two passes."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(7).astype(dtype), rng.standard_normal(7).astype(dtype)
    expected = numpy_axpby(0.3, x, -1.5, y.copy())
    ran = _call_axpby(routine, 0.3, x, -1.5, y)
    return ran and bool(np.allclose(y, expected, rtol=1e-5, atol=1e-6))


_SELF_TESTS = {"gemm": _agrees_with_numpy, "axpby": _axpby_agrees}
