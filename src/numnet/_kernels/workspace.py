"""The scratch-buffer pool (moved to :mod:`numnet.backend.workspace`; names kept).

``keep_freed_memory`` is :func:`numnet.config.keep_freed_memory`, an explicit call.
"""

from __future__ import annotations

from numnet.backend.workspace import clear, give, pooled_bytes, take  # noqa: F401
from numnet.config import keep_freed_memory  # noqa: F401
