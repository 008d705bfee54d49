"""A second array namespace for the tests: NumPy behind a wall that nothing crosses.

``StrictArray`` wraps an ndarray but is *not* one (no subclass). It offers the
array interface numnet may use (the ``xp.<name>`` functions of its namespace,
indexing, arithmetic, the ndarray methods such as ``sum``/``reshape``/``astype``)
and refuses everything that only works because the data happens to be NumPy:

* ``np.<function>(strict)`` raises (``__array_function__``/``__array_ufunc__``),
* ``np.asarray(strict)`` raises (``__array__``), so no silent conversion,
* mixing a raw ``np.ndarray`` into an operation with a ``StrictArray`` raises
  (an array created with ``np.zeros`` instead of ``xp.zeros`` slipped past the
  seam),
* NumPy-only attributes (``.base``, ``.flags``, ``.strides``, ``.flat``) raise,
* ufunc methods such as ``xp.add.at`` do not exist.

Data crosses the wall only explicitly: ``STRICT.asarray(ndarray)`` in and
``STRICT.asnumpy(strict)`` out (CuPy's spellings). Every refusal is also
recorded in ``SLIPS``, so that a test can fail on a slip that some code caught.

numnet finds the namespace through ``__array_namespace__`` and runs its portable
reference kernels (``numnet.backend.ops.Ops``) on it: no CPU fast path applies.
"""

from __future__ import annotations

import operator
import types

import numpy as np

#: every refused crossing, as a message (tests assert it stays empty)
SLIPS: list[str] = []

_ATTRIBUTES = {"T", "mT", "shape", "dtype", "ndim", "size", "nbytes", "itemsize"}


class SeamError(RuntimeError):
    """A NumPy call, conversion or raw ndarray slipped past numnet's array seam."""


class SeamAttributeError(AttributeError):
    """A NumPy-only attribute was asked of a StrictArray (recorded in SLIPS)."""


def _refuse(message: str, error=SeamError):
    SLIPS.append(message)
    raise error(message)


def _unwrap(value):
    if isinstance(value, StrictArray):
        return value._a
    if isinstance(value, np.ndarray):
        _refuse(
            f"a raw np.ndarray of shape {value.shape} met a StrictArray (created "
            f"with np.* instead of xp.*?)"
        )
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value  # Python and NumPy scalars, dtypes, slices, None, Ellipsis


def _wrap(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return StrictArray(np.asarray(value))
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap(v) for v in value)
    return value


def _call(fn, args, kwargs):
    return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))


class StrictArray:
    """An array of the strict namespace (wraps, never is, an ndarray)."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # np.exp(strict) -> TypeError, ndarray + strict -> ours
    __hash__ = None

    def __init__(self, array: np.ndarray):
        self._a = array

    def __array_namespace__(self, api_version=None):
        return STRICT

    def __array__(self, dtype=None, copy=None):
        _refuse("np.asarray/np.array on a StrictArray (a silent conversion)")

    def __array_function__(self, func, types_, args, kwargs):
        _refuse(f"np.{func.__name__} called on a StrictArray")

    def __getattr__(self, name):
        if name in _ATTRIBUTES:
            return _wrap(getattr(self._a, name))
        method = getattr(np.ndarray, name, None)
        if callable(method) and not name.startswith("_"):
            return lambda *args, **kwargs: _call(getattr(self._a, name), args, kwargs)
        if name.startswith("__"):
            raise AttributeError(name)  # Python's and NumPy's protocol probes
        _refuse(f"StrictArray.{name}: NumPy-specific attribute", SeamAttributeError)

    def __repr__(self) -> str:
        return f"StrictArray({self._a!r})"

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return operator.index(self._a)

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index)])

    def __setitem__(self, index, value) -> None:
        self._a[_unwrap(index)] = _unwrap(value)

    def __neg__(self):
        return _wrap(-self._a)

    def __pos__(self):
        return _wrap(+self._a)

    def __abs__(self):
        return _wrap(abs(self._a))

    def __invert__(self):
        return _wrap(~self._a)


def _defers(other) -> bool:
    """Whether ``other`` opts out of array operators (``__array_ufunc__ = None``,
    as numnet's Tensor does): NumPy and CuPy then let its reflected method run."""
    return not isinstance(other, StrictArray) and (
        getattr(type(other), "__array_ufunc__", 0) is None
    )


def _binary(op):
    def forward(self, other):
        if _defers(other):
            return NotImplemented  # device_array * Tensor -> Tensor.__rmul__
        return _wrap(op(self._a, _unwrap(other)))

    def reflected(self, other):
        return _wrap(op(_unwrap(other), self._a))

    return forward, reflected


_BINARY = "add sub mul truediv floordiv mod pow matmul and or xor lt le gt ge eq ne"
for _name in _BINARY.split():
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    _forward, _reflected = _binary(_op)
    setattr(StrictArray, f"__{_name}__", _forward)
    if _name not in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(StrictArray, f"__r{_name}__", _reflected)
for _name in "add sub mul truediv floordiv mod pow and or xor".split():
    _iop = getattr(operator, f"i{_name}")

    def _in_place(self, other, _iop=_iop):
        self._a = _iop(self._a, _unwrap(other))  # NumPy's in-place: same buffer
        return self

    setattr(StrictArray, f"__i{_name}__", _in_place)


class StrictRandom:
    """The strict namespace's own generator, spelt as CuPy's ``cupy.random``:
    draws made "on the device" (StrictArrays), seeded by ``seed``."""

    def __init__(self):
        self._rng = np.random.default_rng(12345)
        #: how many draws were made (a test can see that the device drew)
        self.draws = 0

    def seed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def random_sample(self, size=None, dtype=float):
        self.draws += 1
        return StrictArray(np.asarray(self._rng.random(size, dtype=dtype)))

    def standard_normal(self, size=None, dtype=float):
        self.draws += 1
        return StrictArray(np.asarray(self._rng.standard_normal(size, dtype=dtype)))


class StrictNamespace:
    """The namespace of StrictArray: NumPy's functions on StrictArrays only."""

    __name__ = "strict_numpy"

    def __init__(self):
        self.random = StrictRandom()

    def __getattr__(self, name):
        obj = getattr(np, name)
        if isinstance(obj, types.ModuleType):
            raise AttributeError(f"strict namespace: no submodule '{name}'")
        if not callable(obj) or isinstance(obj, type):
            return obj  # constants (inf, pi) and dtypes (float32, bool_)

        def function(*args, **kwargs):
            return _call(obj, args, kwargs)

        function.__name__ = name
        setattr(self, name, function)  # cached: __getattr__ runs once per name
        return function

    def asarray(self, obj, dtype=None, copy=None):
        """The explicit way in: NumPy data (or a StrictArray) as a StrictArray."""
        if isinstance(obj, StrictArray):
            obj = obj._a
        elif isinstance(obj, (list, tuple)):
            obj = _unwrap(obj) if not _holds_ndarray(obj) else obj
        array = np.array(obj, dtype=dtype, copy=True if copy else None)
        return StrictArray(np.asarray(array))

    def asnumpy(self, x):
        """The explicit way out: a NumPy copy of a StrictArray."""
        return x._a.copy() if isinstance(x, StrictArray) else np.asarray(x)

    def astype(self, x, dtype, copy=True):
        return StrictArray(x._a.astype(dtype, copy=copy))


def _holds_ndarray(items) -> bool:
    return any(
        isinstance(v, np.ndarray)
        or (isinstance(v, (list, tuple)) and _holds_ndarray(v))
        for v in items
    )


STRICT = StrictNamespace()


def to_strict(value):
    """NumPy arrays (also inside lists/tuples) as StrictArrays; the rest as is."""
    if isinstance(value, np.ndarray):
        return STRICT.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(to_strict(v) for v in value)
    return value


def to_numpy(value):
    """StrictArrays (also inside tuples) back to NumPy copies."""
    if isinstance(value, StrictArray):
        return STRICT.asnumpy(value)
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(v) for v in value)
    return value
