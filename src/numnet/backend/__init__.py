"""Array backend: the array namespace and kernels of an array, dtypes, the RNG.

The seam between numnet and the array libraries: ``get_array_module(x)`` gives
the namespace of ``x`` (``xp``: numpy, cupy, ...) and ``get_ops(x)`` its kernels
(:class:`~numnet.backend.ops.Ops`, with the CPU fast paths of
:class:`~numnet.backend.numpy_ops.NumpyOps` on NumPy). ``autograd`` and
``functional`` do array math only through these two.

Everything random in numnet (initializers, dropout, shuffling, augmentation) draws
from the generator returned by :func:`get_rng`, so ``manual_seed(n)`` makes a run
reproducible. Everything that creates floating-point arrays asks :func:`floatx`.
"""

from __future__ import annotations

import sys

import numpy as np

from numnet import config
from numnet.backend.numpy_ops import NumpyOps
from numnet.backend.ops import Ops

xp = np  # the default array module (NumPy); per-array lookup: get_array_module


_NUMPY_TYPES = (np.ndarray, np.generic, int, float, bool)


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
    if len(arrays) == 1:  # an array of a type seen before: one dict lookup
        entry = _BY_TYPE.get(type(arrays[0]))
        if entry is not None:
            return entry[0]
    for a in arrays:
        if a is None or type(a) in _NUMPY_TYPES or isinstance(a, _NUMPY_TYPES):
            continue
        namespace = getattr(a, "__array_namespace__", None)
        if namespace is not None:
            return namespace()
        library = _library_with_lookup(a)
        if library is not None:
            return library.get_array_module(a)  # CuPy's own lookup
    return np


def _library_with_lookup(a):
    """The array library of ``a`` if it has its own ``get_array_module`` (CuPy,
    whose ndarray has no ``__array_namespace__``), else None."""
    library = sys.modules.get(type(a).__module__.split(".")[0])
    return library if hasattr(library, "get_array_module") else None


def is_array(x) -> bool:
    """Whether ``x`` is an array of a namespace numnet supports (NumPy or other).

    The one array-type check of the library: use it instead of
    ``isinstance(x, np.ndarray)`` so that arrays of another backend pass.
    NumPy scalars (``np.float64(1.0)``) are not arrays, as for that check.

    >>> is_array(np.zeros(2)), is_array([1.0]), is_array(np.float32(1))
    (True, False, False)
    """
    if isinstance(x, np.ndarray):
        return True
    if isinstance(x, np.generic):
        return False
    if not hasattr(x, "shape"):
        return False
    return hasattr(x, "__array_namespace__") or _library_with_lookup(x) is not None


def to_host(value, copy: bool = False) -> np.ndarray:
    """``value`` as a NumPy array: an array of another namespace (a device) is
    copied to the host explicitly; NumPy arrays pass as they are (``copy=True``:
    copied); anything else, a numnet Tensor included (its ``__array__``), goes
    through ``np.asarray``. For the host side of the library (saving, box
    post-processing, the counting metrics) that accepts arrays from any device.

    >>> to_host([1, 2]).tolist()
    [1, 2]
    """
    if isinstance(value, np.ndarray):
        return value.copy() if copy else value
    if is_array(value):
        return get_ops(value).to_numpy(value)  # a device-to-host copy
    return np.array(value) if copy else np.asarray(value)


def get_default_dtype() -> np.dtype:
    """Return the default floating dtype of new tensors and weights (float32)."""
    return config.get().default_dtype


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype: ``"float32"`` (default) or ``"float64"``.

    Same as ``numnet.config.set(default_dtype=dtype)``.

    Raises:
        TypeError: for any other dtype.
    """
    config.set(default_dtype=config.as_float_dtype(dtype, "set_default_dtype"))


def floatx() -> np.dtype:
    """Short alias of :func:`get_default_dtype` used inside the library."""
    return config.get().default_dtype


def floatx_scope(dtype):
    """Temporarily change the default dtype, e.g. ``with floatx_scope("float64"):``.

    Same as ``numnet.config.using(default_dtype=dtype)`` (this thread only).
    """
    return config.using(default_dtype=config.as_float_dtype(dtype, "floatx_scope"))


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
    default = config.get().default_dtype
    if is_array(data) and not isinstance(data, np.ndarray):
        return _to_foreign_array(data, dtype, default)
    if dtype is not None:
        return np.array(data, dtype=check_dtype(dtype))
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        return data.astype(default)  # one copy, not np.array + astype
    array = np.array(as_input_array(data))
    if array.dtype.kind == "f":
        return array.astype(default, copy=False)
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
    if is_array(data):  # an ndarray, or an array of another namespace (device)
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


def _to_foreign_array(data, dtype, default):
    """A copy of an array of another namespace, in its own namespace."""
    xp = get_array_module(data)
    target = check_dtype(dtype) if dtype is not None else None
    if target is None and np.dtype(data.dtype).kind == "f":
        target = default
    if target is None and np.dtype(data.dtype).kind not in "biu":
        raise TypeError(
            f"tensor: data must be boolean, integer or floating-point. "
            f"Received: data of dtype {data.dtype}"
        )
    return xp.asarray(data, dtype=target, copy=True)


_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed numnet's global generator so that every random draw is reproducible.

    The generator is process-wide state (not a setting of ``numnet.config``):
    every thread draws from it, in the order of the draws.

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
    from numnet.backend import device  # the device generators (cupy.random)

    device.seed_devices(int(seed))


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
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"invalid value for argument 'seed'. Expected None, a non-negative int "
            f"or a numpy.random.Generator. Received: seed={seed!r}"
        )
    return np.random.default_rng(seed)


def as_array(value):
    """``value`` if it is an array of any namespace, else a NumPy array of it.

    What an op's output becomes when the op returned a scalar (NumPy reductions
    return ``np.float64`` scalars, not arrays).
    """
    if type(value) is np.ndarray:  # the common case, once per op output
        return value
    return value if is_array(value) else np.asarray(value)


def get_ops(x_or_xp) -> Ops:
    """The kernels (an :class:`~numnet.backend.ops.Ops`) for an array or a namespace.

    NumPy gets :class:`~numnet.backend.numpy_ops.NumpyOps` (the CPU fast paths);
    a namespace registered with :func:`register_ops` gets its own; any other
    namespace gets the portable reference ``Ops(xp)``.

    >>> get_ops(np.zeros(2)).name, get_ops(np).name
    ('numpy', 'numpy')
    """
    ops = _OPS.get(id(x_or_xp))  # a namespace seen before: one dict lookup
    if ops is not None and ops.xp is x_or_xp:
        return ops
    entry = _BY_TYPE.get(type(x_or_xp))  # an array of a type seen before
    if entry is not None:
        return entry[1]
    # an array or a scalar, else a namespace (a namespace object may well have
    # a `shape` function: numpy and CuPy do)
    is_value = is_array(x_or_xp) or isinstance(x_or_xp, _NUMPY_TYPES)
    xp = get_array_module(x_or_xp) if is_value else x_or_xp
    ops = _OPS.get(id(xp))
    if ops is None or ops.xp is not xp:
        ops = _OPS[id(xp)] = _new_ops(xp)
    return ops


def namespace_and_ops(arrays) -> tuple:
    """``(get_array_module(*arrays), get_ops(xp))`` in one call, for a sequence
    of arrays: what every op asks before its forward.

    Memoized by array type (a type's namespace does not change): an op on NumPy
    arrays costs one dict lookup per input instead of the full lookup.
    """
    found = None
    for a in arrays:
        entry = _BY_TYPE.get(type(a))
        if entry is None:
            return _namespace_and_ops_slow(arrays)
        if entry[0] is not np:
            return entry  # the first non-NumPy namespace wins, as get_array_module
        found = entry
    return found if found is not None else (np, get_ops(np))


def _namespace_and_ops_slow(arrays) -> tuple:
    for a in arrays:  # remember each array's type (one lookup per new type)
        if type(a) not in _BY_TYPE and (is_array(a) or isinstance(a, _NUMPY_TYPES)):
            xp = get_array_module(a)
            _BY_TYPE[type(a)] = (xp, get_ops(xp))
    xp = get_array_module(*arrays)
    return xp, get_ops(xp)


def _new_ops(xp) -> Ops:
    """The kernels of a namespace seen for the first time: CuPy's own, or the
    portable reference."""
    if getattr(xp, "__name__", "") == "cupy":
        from numnet.backend import cupy_ops  # only once a CuPy array exists

        return cupy_ops.CupyOps()
    return Ops(xp)


def register_ops(ops: Ops) -> None:
    """Use ``ops`` for every array of ``ops.xp`` (a backend's own subclass)."""
    _OPS[id(ops.xp)] = ops
    _BY_TYPE.clear()  # forget the memoized (namespace, ops) of every array type


def sum_leading(a, lead: int):
    """Sum ``a`` over its first ``lead`` axes: shape ``a.shape[lead:]``.

    The kernels of ``a``'s namespace do it (on NumPy: one BLAS GEMV).

    >>> sum_leading(np.arange(6.0).reshape(3, 2), 1)
    array([6., 9.])
    """
    return get_ops(a).sum_leading(a, lead)


_OPS: dict[int, Ops] = {}
#: type(array) -> (namespace, ops), filled by :func:`namespace_and_ops`.
_BY_TYPE: dict[type, tuple] = {}
register_ops(NumpyOps())
