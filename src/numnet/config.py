"""numnet's settings in one place: grad mode, dtypes, threads, memory, kernel plans.

Every setting lives in one frozen :class:`Settings` object. There are two levels:

- the **process defaults**, changed by :func:`set` (and by the old entry points
  ``numnet.set_default_dtype``, ``set_memory_budget``), seen by every thread;
- **scopes**, ``with numnet.config.using(...):``, stored in a context variable:
  they apply to the current thread (and asyncio task) only and end with the
  block. ``numnet.no_grad()``, ``floatx_scope`` and ``strict_dtypes()`` are such
  scopes, so one thread's ``no_grad()`` never switches recording off in another.

A new thread starts from the process defaults, not from the scope of the thread
that created it (as PyTorch's grad mode).

Example:
    >>> import numnet
    >>> with numnet.config.using(default_dtype="float64", num_threads=1):
    ...     numnet.config.get().default_dtype, numnet.config.get().num_threads
    (dtype('float64'), 1)
    >>> numnet.config.get().default_dtype
    dtype('float32')

Nothing here changes process-wide state at import. glibc's allocator tuning is
the explicit call :func:`keep_freed_memory` (or ``NUMNET_KEEP_FREED_MEMORY=1``
in the environment, applied when numnet is imported).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Default memory budget of kernel scratch (column buffers, the buffer pool).
DEFAULT_MEMORY_BUDGET = 256 * 2**20


@dataclasses.dataclass(frozen=True)
class Settings:
    """A snapshot of every numnet setting (immutable; change it with ``using``).

    Attributes:
        grad_enabled: whether ops record a graph for backward.
        default_dtype: the float dtype of new tensors and weights (float32).
        strict_dtypes: raise when a backward returns another dtype than its input.
        num_threads: numnet's kernel threads; None reads ``NUMNET_NUM_THREADS``
            (else the number of CPUs) at each call.
        memory_budget: bytes of kernel scratch kept (conv columns, buffer pool).
        kernel_plans: per-kernel plan overrides, e.g. ``{"conv2d": plan}``:
            "conv2d" (a ``ConvPlan``), "max_pool2d" (a method name) and
            "relu_past_max_pool" (bool: whether models run a ReLU followed by
            a max pool after the pool; default True). Empty: each kernel plans
            itself.
        random_on_device: draw dropout masks and noise for tensors on a device
            other than the CPU with that device's own generator (CuPy's,
            seeded by ``manual_seed`` too), with no host work or copy per
            draw; False draws them with numnet's host generator and copies
            them over, giving the CPU's masks for a seed
            (``numnet.backend.draws``).
    """

    grad_enabled: bool = True
    default_dtype: np.dtype = np.dtype(np.float32)
    strict_dtypes: bool = False
    num_threads: int | None = None
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    kernel_plans: Mapping = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    random_on_device: bool = True


_process = Settings()
_scoped: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "numnet_settings", default=None
)


def get() -> Settings:
    """The settings in effect here: the innermost ``using`` scope, else the defaults."""
    scoped = _scoped.get()
    return _process if scoped is None else scoped


def _validated(current: Settings, changes: dict, where: str) -> Settings:
    unknown = changes.keys() - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise TypeError(
            f"{where}: unknown setting(s) {sorted(unknown)}. Expected one of "
            f"{[f.name for f in dataclasses.fields(Settings)]}"
        )
    checks = {
        "grad_enabled": bool,
        "strict_dtypes": bool,
        "random_on_device": bool,
        "default_dtype": lambda v: as_float_dtype(v, where, "default_dtype"),
        "num_threads": lambda v: _positive_or_none(v, "num_threads", where),
        "memory_budget": lambda v: _memory(v, where),
        "kernel_plans": lambda v: _kernel_plans(v, where),
    }
    return dataclasses.replace(current, **{k: checks[k](v) for k, v in changes.items()})


#: The keys ``kernel_plans`` may hold (read by the conv and pool ops and the models).
KERNEL_PLAN_KEYS = ("conv2d", "max_pool2d", "relu_past_max_pool")


def _kernel_plans(plans, where: str) -> Mapping:
    """``plans`` as a read-only mapping, its keys and the flag's type checked."""
    if not isinstance(plans, Mapping):
        raise TypeError(
            f"{where}: invalid value for 'kernel_plans'. Expected a mapping such as "
            f"{{'conv2d': plan}}. Received: {type(plans).__name__}"
        )
    unknown = sorted((k for k in plans if k not in KERNEL_PLAN_KEYS), key=str)
    if unknown:
        raise ValueError(
            f"{where}: unknown kernel_plans key(s) {unknown}. Expected some of "
            f"{list(KERNEL_PLAN_KEYS)}"
        )
    flag = plans.get("relu_past_max_pool", True)
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(
            f"{where}: kernel_plans['relu_past_max_pool'] must be True or False. "
            f"Received: {flag!r}"
        )
    return MappingProxyType(dict(plans))


def set(**changes) -> None:  # noqa: A001 - numnet.config.set, as in Keras/Chainer
    """Change settings: inside a ``using`` scope for that scope, else process-wide.

    Raises:
        TypeError: for an unknown setting or a wrong dtype.
        ValueError: for a non-positive thread count or memory budget.
    """
    global _process
    scoped = _scoped.get()
    if scoped is not None:
        _scoped.set(_validated(scoped, changes, "config.set"))
    else:
        _process = _validated(_process, changes, "config.set")


def using(**changes) -> _Using:
    """Change settings for the ``with`` block, in this thread only.

    The changes are validated when the block is entered. The object may also
    decorate a function (each call runs inside the scope).

    Example:
        >>> import numnet
        >>> with numnet.config.using(grad_enabled=False):
        ...     numnet.is_grad_enabled()
        False
    """
    return _Using(changes)


class _Using(contextlib.ContextDecorator):
    """The context manager of :func:`using` (a class, not a generator: ``no_grad``
    is entered once per optimizer step and per op in user loops)."""

    __slots__ = ("changes", "tokens")

    def __init__(self, changes: dict):
        self.changes = changes
        self.tokens: list = []  # a stack: a decorated function may recurse

    def __enter__(self) -> Settings:
        settings = _derived(get(), self.changes)
        self.tokens.append(_scoped.set(settings))
        return settings

    def __exit__(self, *exc) -> None:
        _scoped.reset(self.tokens.pop())

    def _recreate_cm(self) -> _Using:
        # a decorated function gets a fresh scope object per call, so threads
        # calling it at once never share (and mismatch) the token stack
        return _Using(self.changes)


#: (id(base), changes) -> (base, derived): settings derived by ``using`` from a
#: base, memoized for hashable changes (``no_grad()`` derives the same object
#: every step). Holding ``base`` keeps its id from being reused.
_DERIVED: dict = {}


def _derived(base: Settings, changes: dict) -> Settings:
    try:
        # the value's type too: num_threads=1.0 must not hit num_threads=1's memo
        key = (id(base), tuple((k, type(v), v) for k, v in changes.items()))
        hit = _DERIVED.get(key)
    except TypeError:  # an unhashable value (kernel_plans): no memo
        return _validated(base, changes, "config.using")
    if hit is not None and hit[0] is base:
        return hit[1]
    derived = _validated(base, changes, "config.using")
    if len(_DERIVED) >= 256:  # process defaults rarely change: a small memo
        _DERIVED.clear()
    _DERIVED[key] = (base, derived)
    return derived


def as_float_dtype(dtype, where: str, name: str = "dtype") -> np.dtype:
    """``dtype`` as float32/float64, else a TypeError naming ``where``."""
    try:
        # np.dtype(None) is float64: refuse None explicitly
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in _FLOAT_DTYPES:
        raise TypeError(
            f"{where}: invalid value for argument '{name}'. Expected 'float32' or "
            f"'float64'. Received: {name}={dtype!r}"
        )
    return dt


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _positive_or_none(value, name: str, where: str):
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise ValueError(
            f"{where}: invalid value for argument '{name}'. Expected a positive "
            f"int or None. Received: {name}={value!r}"
        )
    return int(value)


def _memory(value, where: str) -> int:
    if not _is_int(value):
        raise TypeError(
            f"{where}: invalid value for argument 'memory_budget'. Expected an int "
            f"number of bytes. Received: memory_budget={value!r}"
        )
    if value < 0:
        raise ValueError(
            f"{where}: invalid value for argument 'memory_budget'. Expected a "
            f"non-negative number of bytes. Received: memory_budget={value!r}"
        )
    return int(value)


def num_threads() -> int:
    """Kernel threads: the setting, else ``NUMNET_NUM_THREADS``, else the CPUs.

    ``OMP_NUM_THREADS`` is not read: it sizes BLAS, not numnet's own threads.
    """
    configured = get().num_threads
    if configured is not None:
        return configured
    value = os.environ.get("NUMNET_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return _CPU_COUNT


#: The machine's CPUs, read once (``os.cpu_count`` is a system call).
_CPU_COUNT = os.cpu_count() or 1


#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Arrays up to this size come from malloc's heap instead of a fresh mmap.
MMAP_THRESHOLD = 256 * 2**20
#: Freed heap memory up to this size is kept for reuse instead of given back.
TRIM_THRESHOLD = 2**30


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for large arrays (process-wide).

    An explicit opt-in, never done by ``import numnet`` itself (it changes the
    allocator of the whole process), except when ``NUMNET_KEEP_FREED_MEMORY=1``
    is set in the environment.

    Every activation, gradient and temporary of a training step is a large
    array. By default glibc serves each one with a fresh ``mmap`` and unmaps it
    when freed, so the next step's arrays fault their pages in again, one
    zeroed 4 KiB page at a time (3,600-6,700 page faults per W5 step). This
    sets M_MMAP_THRESHOLD to ``MMAP_THRESHOLD`` and M_TRIM_THRESHOLD to
    ``TRIM_THRESHOLD``: the process then keeps up to 1 GiB of freed memory for
    reuse. ``NUMNET_KEEP_FREED_MEMORY=0`` makes this call a no-op. What it gains
    is measured in docs/decisions.md.

    Returns:
        True when the setting was applied (Linux with glibc), False otherwise.
    """
    if os.environ.get("NUMNET_KEEP_FREED_MEMORY", "") == "0":
        return False
    import ctypes  # only here: the tuning is an explicit call

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def keep_freed_memory_from_environment() -> bool:
    """Apply :func:`keep_freed_memory` when ``NUMNET_KEEP_FREED_MEMORY=1`` is set."""
    if os.environ.get("NUMNET_KEEP_FREED_MEMORY", "") == "1":
        return keep_freed_memory()
    return False
