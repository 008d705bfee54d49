"""Devices: where a tensor's data lives (``"cpu"``: NumPy, ``"cuda"``: CuPy).

A :class:`Device` is a kind (``"cpu"``, ``"cuda"``, or one registered with
:func:`register_device`) and an index (``cuda:1``). It knows its array
namespace (``device.xp``), its kernels (``device.ops``) and how to move an
array onto itself (``device.put(array)``). Every device kind is described by a
:class:`DeviceKind`: how to import its namespace (lazily: ``import numnet``
never imports CuPy), how to copy a host array in, which device an array of that
namespace lives on, and how to seed the device's generator.

Example:
    >>> import numnet
    >>> cpu = numnet.device("cpu")
    >>> cpu, cpu == numnet.device("cpu"), cpu.xp.__name__
    (device(type='cpu'), True, 'numpy')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GPU_EXTRA_HINT = (
    'install CuPy with numnet\'s [gpu] extra: pip install "numnet[gpu]" (CUDA 12), '
    "or pip install cupy-cuda13x for CUDA 13"
)


@dataclass(frozen=True)
class DeviceKind:
    """How numnet uses one kind of device.

    Args:
        name: the kind, as written in device strings (``"cuda"``).
        load: returns the array namespace (imports it on first use; raises
            ImportError with an install hint when it is missing).
        put: ``put(host_or_device_array, index)`` -> an array on device ``index``.
        index_of: the device index of an array of this namespace.
        seed: ``seed(n)`` seeds the device's generator (or None).
        count: the number of devices of this kind (or None: unknown).
        prefetch: ``prefetch(batches, index, map_leaves)`` yields the batches
            on device ``index``, copying ahead (or None: each batch is moved
            when it is taken).
        scope: ``scope(index)`` -> a context in which new arrays are created
            on device ``index`` (CuPy's ``cupy.cuda.Device(index)``), or None.
    """

    name: str
    load: Callable[[], object]
    put: Callable[[object, int], object]
    index_of: Callable[[object], int] = lambda a: 0
    seed: Callable[[int], None] | None = None
    count: Callable[[], int] | None = None
    prefetch: Callable | None = None
    scope: Callable | None = None


_KINDS: dict[str, DeviceKind] = {}
_LAST_SEED: int | None = None  # the last numnet.manual_seed, for devices loaded later


def register_device(kind: DeviceKind) -> None:
    """Make ``numnet.device(kind.name)`` available (a backend, or a test stand-in)."""
    _KINDS[kind.name] = kind


def unregister_device(name: str) -> None:
    """Remove a kind added with :func:`register_device` (not "cpu")."""
    if name != "cpu":
        _KINDS.pop(name, None)


class Device:
    """A device: its kind (``type``) and index. Create one with :func:`device`."""

    __slots__ = ("type", "index", "_kind")

    def __init__(self, kind: DeviceKind, index: int | None):
        self.type = kind.name
        self.index = index
        self._kind = kind

    @property
    def xp(self):
        """The array namespace of this device (``numpy``, ``cupy``, ...)."""
        return self._kind.load()

    @property
    def ops(self):
        """The kernels (:class:`~numnet.backend.ops.Ops`) of this device."""
        from numnet import backend  # the package imports this module

        return backend.get_ops(self.xp)

    def put(self, array):
        """``array`` (NumPy or another device's) as an array on this device.

        Returns ``array`` itself when it already lives here (no copy).
        """
        if device_of(array) == self:
            return array
        if self.type == "cpu":
            return _to_host(array)
        host = _to_host(array)
        return self._kind.put(host, self.index or 0)

    def scope(self):
        """A context manager in which new arrays are created on this device.

        CuPy creates arrays on the *current* GPU: work on ``cuda:1`` runs
        inside ``with device("cuda:1").scope():`` (``fit``/``evaluate``/
        ``predict`` do it for the model's device).
        """
        import contextlib

        if self._kind.scope is None:
            return contextlib.nullcontext()
        return self._kind.scope(self.index or 0)

    def __eq__(self, other) -> bool:
        if isinstance(other, str):  # parsed, not loaded: "cuda" without CuPy is
            name, _, index = other.strip().lower().partition(":")  # just unequal
            return name == self.type and (index or "0") == str(self.index or 0)
        return (
            isinstance(other, Device)
            and other.type == self.type
            and (other.index or 0) == (self.index or 0)
        )

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"


def device(spec="cpu") -> Device:
    """The device named by ``spec``: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device.

    Raises:
        ValueError: for an unknown kind or a malformed index.
        ImportError: for ``"cuda"`` without CuPy, naming the ``[gpu]`` extra.
    """
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise TypeError(
            f"device: expected a string such as 'cpu', 'cuda' or 'cuda:1', or a "
            f"Device. Received: {type(spec).__name__}"
        )
    name, _, index_text = spec.strip().lower().partition(":")
    kind = _KINDS.get(name)
    if kind is None:
        raise ValueError(
            f"device: unknown device type {name!r}. Expected one of "
            f"{sorted(_KINDS)} (optionally with an index, 'cuda:1'). Received: {spec!r}"
        )
    index = None
    if index_text:
        if not index_text.isdigit() or name == "cpu":
            raise ValueError(
                f"device: invalid device index in {spec!r}. Expected a "
                f"non-negative integer after ':', as in 'cuda:1'"
            )
        index = int(index_text)
    kind.load()  # fails early and clearly when the library is missing
    if index is not None and kind.count is not None and index >= kind.count():
        raise ValueError(
            f"device: {spec!r} does not exist; {kind.count()} {name} device(s) "
            f"are visible"
        )
    return Device(kind, index if name != "cpu" else None)


def device_of(array) -> Device:
    """The device an array lives on (NumPy arrays and Python scalars: the CPU)."""
    if array is None or isinstance(array, (np.ndarray, np.generic, int, float)):
        return _CPU
    from numnet import backend

    xp = backend.get_array_module(array)
    if xp is np:
        return _CPU
    for kind in _KINDS.values():
        if kind.name != "cpu" and _loaded(kind) is xp:
            index = kind.index_of(array)
            return Device(kind, index if index else None)
    raise TypeError(
        f"device_of: the array namespace {getattr(xp, '__name__', xp)!r} is not "
        f"a registered device (register it with numnet.backend.register_device)"
    )


def mixed_devices(arrays) -> str | None:
    """``"cpu (ndarray) and cuda (ndarray)"`` when ``arrays`` span several devices.

    Called when an op has failed, to turn the array library's error into one
    that names both devices (nothing is checked on the success path).
    """
    devices = {}
    for a in arrays:
        if a is None or isinstance(a, (int, float, np.generic)):
            continue
        try:
            where = device_of(a)
        except TypeError:
            continue
        devices.setdefault(where, type(a).__name__)
    if len(devices) < 2:
        return None
    return " and ".join(f"{d} ({t})" for d, t in devices.items())


def seed_devices(seed: int) -> None:
    """Seed the generator of every device kind that has one (numnet.manual_seed)."""
    global _LAST_SEED
    _LAST_SEED = seed
    for kind in list(_KINDS.values()):
        if kind.seed is not None:
            kind.seed(seed)


def _loaded(kind: DeviceKind):
    try:
        return kind.load()
    except ImportError:
        return None


def _to_host(array) -> np.ndarray:
    from numnet import backend  # the package imports this module

    return backend.to_host(array)


# -- the built-in kinds --------------------------------------------------------


def _load_numpy():
    return np


def _load_cupy():
    try:
        import cupy
    except ImportError as error:
        raise ImportError(
            f"device('cuda') needs CuPy, which is not installed: {GPU_EXTRA_HINT}"
        ) from error
    from numnet.backend import cupy_ops

    if cupy_ops.register() and _LAST_SEED is not None:  # first use: seed it too
        _cupy_seed(_LAST_SEED)
    return cupy


def _cupy_put(host, index: int):
    import cupy

    with cupy.cuda.Device(index):
        return cupy.asarray(host)


def _cupy_seed(seed: int) -> None:
    import sys

    cupy = sys.modules.get("cupy")
    if cupy is None:  # not imported: no device generator in use yet
        return

    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError:  # CuPy without a usable driver
        return
    for i in range(count):
        with cupy.cuda.Device(i):
            cupy.random.seed(seed)


def _cupy_prefetch(batches, index: int, map_leaves):
    from numnet.backend import cupy_ops

    return cupy_ops.prefetch_batches(batches, index, map_leaves)


def _cupy_scope(index: int):
    import cupy

    return cupy.cuda.Device(index)


def _cupy_count() -> int:
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


register_device(DeviceKind("cpu", _load_numpy, lambda a, i: np.asarray(a)))
register_device(
    DeviceKind(
        "cuda",
        _load_cupy,
        _cupy_put,
        index_of=lambda a: a.device.id,
        seed=_cupy_seed,
        count=_cupy_count,
        prefetch=_cupy_prefetch,
        scope=_cupy_scope,
    )
)
_CPU = Device(_KINDS["cpu"], None)
