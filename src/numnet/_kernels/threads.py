"""Kernel threads (moved to :mod:`numnet.backend.threads`; names kept here)."""

from __future__ import annotations

from numnet.backend.threads import (  # noqa: F401 - the kernels' import path
    MIN_ELEMENTS,
    get_pool,
    num_threads,
    over_batch,
)
