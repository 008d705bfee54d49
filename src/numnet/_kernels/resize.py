"""Interpolation matrices of image resizing (host NumPy, used by
:func:`numnet.functional.resize`); see that module for the sampling rules."""

from __future__ import annotations

import numpy as np


def resize_matrix(n_in: int, n_out: int, interpolation: str) -> np.ndarray:
    """The (n_out, n_in) float64 matrix that resizes one axis (host NumPy)."""
    scale = n_in / n_out
    rows = np.arange(n_out)
    A = np.zeros((n_out, n_in))
    if interpolation == "nearest":
        source = np.minimum(np.floor((rows + 0.5) * scale).astype(int), n_in - 1)
        A[rows, source] = 1.0
        return A
    position = np.clip((rows + 0.5) * scale - 0.5, 0, n_in - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = position - low
    np.add.at(A, (rows, low), 1.0 - frac)  # low == high at the clamped edge
    np.add.at(A, (rows, high), frac)
    return A
