"""Tensor factories: ``numnet.zeros/ones/full/arange/linspace/eye`` and ``*_like``.

Shapes are given as a tuple (``numnet.zeros((2, 3))``, NumPy/Keras) or as
separate ints (``numnet.zeros(2, 3)``, PyTorch). Floating results take the
default dtype (float32) unless ``dtype`` is given; ``arange`` over ints stays
integer, as in NumPy and PyTorch. ``device="cuda"`` creates the tensor on a
GPU (PyTorch's keyword); ``*_like`` create it on the device of ``x``.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.backend.device import device as as_device


def _shape(args, name: str) -> tuple[int, ...]:
    shape = (
        tuple(args[0])
        if len(args) == 1 and isinstance(args[0], (tuple, list))
        else args
    )
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(
                f"{name}: invalid shape. Expected non-negative ints, as {name}((2, 3)) "
                f"or {name}(2, 3). Received: {shape!r}"
            )
    return tuple(int(n) for n in shape)


def _make(array: np.ndarray, dtype, requires_grad: bool, device=None) -> Tensor:
    if dtype is None and array.dtype.kind == "f":
        dtype = backend.floatx()
    if device is not None:  # made on the host, copied over once
        array = as_device(device).put(backend.to_array(array, dtype))
    return Tensor(array, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of zeros.

    >>> import numnet
    >>> numnet.zeros(2, 3).shape, numnet.zeros((2, 3)).dtype
    ((2, 3), dtype('float32'))
    """
    return _make(np.zeros(_shape(shape, "zeros")), dtype, requires_grad, device)


def ones(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones (shape as a tuple or as separate ints)."""
    return _make(np.ones(_shape(shape, "ones")), dtype, requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad: bool = False,
         device=None) -> Tensor:  # fmt: skip
    """A tensor of ``shape`` filled with ``fill_value``.

    >>> import numnet
    >>> numnet.full((2,), 7.0).numpy().tolist()
    [7.0, 7.0]
    """
    shape = _shape((shape,), "full")
    return _make(np.full(shape, fill_value, dtype=np.result_type(fill_value)), dtype,
                 requires_grad, device)  # fmt: skip


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, device and (unless ``dtype`` is given) dtype of ``x``."""
    return full_like(x, 0, dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape, device and (unless ``dtype`` is given) dtype of ``x``."""
    return full_like(x, 1, dtype, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape, device and dtype of ``x``."""
    raw = _raw(x)
    dtype = dtype or _dtype(x)
    xp = backend.get_array_module(raw)  # on x's device
    return Tensor(xp.full(raw.shape, fill_value, dtype), requires_grad, dtype)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False,
           device=None) -> Tensor:  # fmt: skip
    """Evenly spaced values in ``[start, stop)`` (``np.arange``; ints stay ints).

    >>> import numnet
    >>> numnet.arange(4).numpy().tolist(), numnet.arange(0, 1, 0.5).dtype
    ([0, 1, 2, 3], dtype('float32'))
    """
    array = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None and array.dtype.kind == "i":
        dtype = np.int64
    return _make(array, dtype, requires_grad, device)


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None,
             requires_grad: bool = False, device=None) -> Tensor:  # fmt: skip
    """``num`` evenly spaced values from ``start`` to ``stop`` (``np.linspace``)."""
    array = np.linspace(start, stop, num, endpoint=endpoint, dtype=np.float64)
    return _make(array, dtype, requires_grad, device)


def eye(n: int, m: int | None = None, k: int = 0, dtype=None,
        requires_grad: bool = False, device=None) -> Tensor:  # fmt: skip
    """The identity matrix (``m`` columns, ones on diagonal ``k``).

    >>> import numnet
    >>> numnet.eye(2).numpy().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return _make(np.eye(n, m, k), dtype, requires_grad, device)


def _raw(x):
    if isinstance(x, Tensor):
        return x.data
    return x if backend.is_array(x) else np.asarray(x)


def _dtype(x):
    dtype = _raw(x).dtype
    return backend.floatx() if dtype == np.float64 and not isinstance(
        x, (Tensor, np.ndarray)) else dtype  # fmt: skip
