"""Array backend: the array module, the default float dtype and the seeded RNG.

Everything random in numnet (initializers, dropout, shuffling, augmentation) draws
from the generator returned by :func:`get_rng`, so ``manual_seed(n)`` makes a run
reproducible. Everything that creates floating-point arrays asks :func:`floatx`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

xp = np  # the default array module (NumPy); per-array lookup: get_array_module


def get_array_module(*arrays):
    """Return the array namespace (``numpy``, ``cupy``, ...) of the given arrays.

    The seam between numnet's kernels and the array libraries: kernels and ops ask
    ``xp = get_array_module(x)`` and then use only ``xp.<name>``. Arrays of NumPy
    (and Python scalars, ``None``) give ``numpy``; an array of another namespace
    gives that namespace, found through the array API's ``__array_namespace__``
    or the library's own ``get_array_module``.

    >>> get_array_module(np.zeros(2)) is np
    True
    """
    for a in arrays:
        if a is None or isinstance(a, (np.ndarray, np.generic, int, float, bool)):
            continue
        namespace = getattr(a, "__array_namespace__", None)
        if namespace is not None:
            return namespace()
    return np


def is_array(x) -> bool:
    """Whether ``x`` is an array of a namespace numnet supports (NumPy or other).

    The one array-type check of the library: use it instead of
    ``isinstance(x, np.ndarray)`` so that arrays of another backend pass.

    >>> is_array(np.zeros(2)), is_array([1.0])
    (True, False)
    """
    return isinstance(x, np.ndarray) or (
        hasattr(x, "__array_namespace__") and hasattr(x, "shape")
    )

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_default_dtype = np.dtype(np.float32)
_rng = np.random.default_rng()


def _as_float_dtype(dtype, where: str) -> np.dtype:
    try:
        # np.dtype(None) is float64: refuse None explicitly
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in _FLOAT_DTYPES:
        raise TypeError(
            f"{where}: invalid value for argument 'dtype'. Expected 'float32' or "
            f"'float64'. Received: dtype={dtype!r}"
        )
    return dt


def get_default_dtype() -> np.dtype:
    """Return the default floating dtype of new tensors and weights (float32)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype: ``"float32"`` (default) or ``"float64"``.

    Raises:
        TypeError: for any other dtype.
    """
    global _default_dtype
    _default_dtype = _as_float_dtype(dtype, "set_default_dtype")


def floatx() -> np.dtype:
    """Short alias of :func:`get_default_dtype` used inside the library."""
    return _default_dtype


@contextlib.contextmanager
def floatx_scope(dtype) -> Iterator[None]:
    """Temporarily change the default dtype, e.g. ``with floatx_scope("float64"):``."""
    global _default_dtype
    previous = _default_dtype
    _default_dtype = _as_float_dtype(dtype, "floatx_scope")
    try:
        yield
    finally:
        _default_dtype = previous


def check_dtype(dtype, where: str = "tensor") -> np.dtype:
    """Validate a user ``dtype`` argument: a boolean, integer or float NumPy dtype.

    Raises:
        TypeError: naming ``where`` and the received value otherwise.
    """
    try:
        target = None if dtype is None else np.dtype(dtype)  # np.dtype(None): float64
    except TypeError:
        target = None
    if target is None or target.kind not in "biuf":
        raise TypeError(
            f"{where}: invalid value for argument 'dtype'. Expected a boolean, "
            f"integer or floating-point dtype such as 'float32'. Received: "
            f"dtype={dtype!r}"
        )
    return target


def to_array(data, dtype=None) -> np.ndarray:
    """Convert array-like data to a new ndarray with numnet's dtype rules.

    With ``dtype`` given, the data is cast to it. Otherwise floating-point data
    takes the default dtype (:func:`floatx`) and integer/boolean data keep theirs
    (labels, indices, masks). Anything else (complex, strings, objects) is refused
    (:func:`as_input_array`, the rule layers, losses and metrics share).
    """
    if dtype is not None:
        return np.array(data, dtype=check_dtype(dtype))
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        return data.astype(_default_dtype)  # one copy, not np.array + astype
    array = np.array(as_input_array(data))
    if array.dtype.kind == "f":
        return array.astype(_default_dtype, copy=False)
    return array


def as_input_array(data, owner: str = "tensor", argument: str = "data") -> np.ndarray:
    """The one input-conversion rule of tensors, layers, losses and metrics.

    ``data`` (an ndarray, nested lists or a scalar; callers unwrap Tensors) becomes
    an ndarray without copying or casting; its dtype must be boolean, integer or
    floating-point.

    Raises:
        TypeError: for complex, string, bytes, object, datetime or timedelta data,
            naming ``owner`` and ``argument``.
        ValueError: for ragged nested lists.
    """
    if isinstance(data, np.ndarray):
        array = data
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as exc:  # ragged nested lists
            raise ValueError(
                f"{owner}: invalid value for argument '{argument}'. Expected "
                f"array-like data of one rectangular shape. Received: "
                f"{type(data).__name__} ({exc})"
            ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}: invalid dtype for argument '{argument}'. Expected boolean, "
            f"integer or floating-point data. Received: {argument} of dtype "
            f"{array.dtype}"
        )
    return array


def manual_seed(seed: int) -> None:
    """Seed numnet's global generator so that every random draw is reproducible.

    Args:
        seed: a non-negative integer.
    """
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"manual_seed: invalid value for argument 'seed'. Expected a non-negative "
            f"int. Received: seed={seed!r}"
        )
    _rng = np.random.default_rng(int(seed))


def get_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """Return a generator: numnet's global one, or a new one for an explicit seed.

    Args:
        seed: None for the global generator (seeded by :func:`manual_seed`), an int
            for a private generator, or a Generator which is returned as is.
    """
    if seed is None:
        return _rng
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


_ONES: dict[np.dtype, np.ndarray] = {}


def sum_leading(a: np.ndarray, lead: int) -> np.ndarray:
    """Sum ``a`` over its first ``lead`` axes: shape ``a.shape[lead:]``.

    On a C-contiguous float32/float64 array this is ``ones @ a.reshape(m, -1)``,
    a BLAS matrix-vector product that streams the array once: about 8x faster
    than ``np.sum`` over leading axes, which walks the rows with a strided
    pairwise loop (batch-norm statistics, bias gradients). Anything else falls
    back to ``np.sum``.

    >>> sum_leading(np.arange(6.0).reshape(3, 2), 1)
    array([6., 9.])
    """
    tail = a.shape[lead:]
    if (
        0 < lead < a.ndim
        and a.dtype in (np.float32, np.float64)
        and a.flags.c_contiguous
        and a.size >= 4096
    ):
        m = a.size // max(1, int(np.prod(tail, dtype=np.int64)))
        ones = _ONES.get(a.dtype)
        if ones is None or len(ones) < m:
            ones = _ONES[a.dtype] = np.ones(m, a.dtype)
        return (ones[:m] @ a.reshape(m, -1)).reshape(tail)
    return a.sum(axis=tuple(range(lead)))
