"""The column-buffer memory budget of the convolution kernels (in numnet.config).

A convolution keeps the whole batch's columns for its backward pass only when they
fit in this budget, and runs over the batch in blocks that never exceed it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from numnet import config

#: Default cap on the bytes of column buffers a convolution keeps alive (256 MiB).
DEFAULT_MEMORY_BUDGET = config.DEFAULT_MEMORY_BUDGET  # numnet.config holds it


def get_memory_budget() -> int:
    """Return the column-buffer memory budget in bytes (default 256 MiB)."""
    return config.get().memory_budget


def set_memory_budget(nbytes: int) -> None:
    """Cap the bytes of column buffers that a convolution keeps alive.

    Convolutions run over the batch in blocks; the columns of the whole batch are
    kept for the backward pass only when they fit in this budget (otherwise they are
    recomputed block by block), and a single block never exceeds it. Results do not
    depend on the budget except for float rounding in the weight gradient, which
    is summed block by block.

    Args:
        nbytes: a positive number of bytes.

    Raises:
        ValueError: for a non-positive or non-integer value.
    """
    integer = isinstance(nbytes, (int, np.integer)) and not isinstance(nbytes, bool)
    if not integer or nbytes <= 0:
        raise ValueError(
            f"set_memory_budget: invalid value for argument 'nbytes'. Expected a "
            f"positive int. Received: nbytes={nbytes!r}"
        )
    config.set(memory_budget=int(nbytes))


@contextlib.contextmanager
def memory_budget(nbytes: int) -> Iterator[None]:
    """Temporarily set the column-buffer budget: ``with memory_budget(2**20): ...``."""
    previous = get_memory_budget()
    set_memory_budget(nbytes)
    try:
        yield
    finally:
        set_memory_budget(previous)
