"""Which layer calls run with a ReLU moved past a max pool (in this thread).

A model runs ``Conv2D(activation="relu")`` followed by ``MaxPooling2D`` as the
plain convolution and ``F.max_pool2d_relu`` (``numnet/models/_relu_past_pool.py``
decides where). The two layers learn it here, for the duration of one call: a
context variable, so that another thread (or another model) calling the same
layer object meanwhile still gets the layer as written.
"""

from __future__ import annotations

import contextlib
import contextvars

_MOVED: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "numnet_relu_moved", default=frozenset()
)


def relu_deferred(layer) -> bool:
    """True inside :func:`moving` ``(layer, "deferred")``: a Conv2D returns the
    unactivated convolution."""
    return (id(layer), "deferred") in _MOVED.get()


def relu_fused(layer) -> bool:
    """True inside :func:`moving` ``(layer, "fused")``: a max pool applies the
    ReLU to its output (``F.max_pool2d_relu``)."""
    return (id(layer), "fused") in _MOVED.get()


@contextlib.contextmanager
def moving(layer, role: str):
    """Within the block, ``layer`` plays ``role`` ("deferred" or "fused")."""
    token = _MOVED.set(_MOVED.get() | {(id(layer), role)})
    try:
        yield
    finally:
        _MOVED.reset(token)
