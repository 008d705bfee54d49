"""Array helpers of an optimizer step: gradient norms and clipping, the
threaded update, host copies of the slots (on any array namespace)."""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.optimizers import _parallel


def _resolve_constraint(constraint):
    if callable(constraint):
        return constraint
    from numnet import constraints  # a name or config given to add_weight

    return constraints.get(constraint)


def _raw(g) -> np.ndarray:
    return g if backend.is_array(g) else getattr(g, "data", g)


def _squared_norm(g):
    flat = g.reshape(-1)
    return flat @ flat


def _norm(g: np.ndarray):
    """The L2 norm: a float for NumPy; a 0-d array on a device (no host sync)."""
    if not isinstance(g, np.ndarray):
        return _squared_norm(g) ** 0.5
    return math.sqrt(float(_squared_norm(g)))


def _run_updates(update, jobs) -> None:
    """NumPy arrays: split over threads; other devices: one call per parameter."""
    host = [job for job in jobs if isinstance(job[0], np.ndarray)]
    _parallel.run_updates(update, host)
    for job in jobs:
        if not isinstance(job[0], np.ndarray):
            update(*job)


def _like(slot, value):
    """``value`` (a host array) in the namespace of ``slot``."""
    if isinstance(slot, np.ndarray):
        return value
    return backend.get_array_module(slot).asarray(value, dtype=slot.dtype)


def _scale_to_norm(g: np.ndarray, norm, max_norm: float) -> np.ndarray:
    # g * max_norm / max(norm, max_norm): unchanged when already short enough.
    if not isinstance(norm, float):  # a device scalar: decided on the device
        xp = backend.get_array_module(g)
        return g * (max_norm / xp.maximum(norm, max_norm))
    if norm <= max_norm:
        return g
    return g * (max_norm / norm)


def _clip_gradients(grads, clipvalue, clipnorm, global_clipnorm) -> list:
    """Clip by value, by each norm or by the global norm (at most one is set)."""
    # Gradients may be shared with other tensors: never modify them in place.
    if clipvalue is not None:
        return [
            backend.get_array_module(g).clip(g, -clipvalue, clipvalue) for g in grads
        ]
    if clipnorm is not None:
        return [_scale_to_norm(g, _norm(g), clipnorm) for g in grads]
    if global_clipnorm is not None:
        if not all(isinstance(g, np.ndarray) for g in grads):  # on a device
            total = sum(_squared_norm(g) for g in grads) ** 0.5
        else:
            total = math.sqrt(sum(_norm(g) ** 2 for g in grads))
        return [_scale_to_norm(g, total, global_clipnorm) for g in grads]
    return grads


def _checked_pairs(owner: str, grads_and_params) -> list:
    """``(raw grad, param)`` pairs, None gradients left out, shapes checked."""
    pairs = []
    for g, p in grads_and_params:
        if g is None:
            continue
        g = _raw(g)
        if g.shape != p.data.shape:
            raise ValueError(
                f"{owner}: gradient of shape {g.shape} does not match parameter "
                f"{p.name!r} of shape {p.shape}"
            )
        pairs.append((g, p))
    return pairs
