"""Doctest collection of the package: the CUDA modules import CuPy at their top
(they are only ever imported when CuPy is present), so they are skipped here
when it is not installed."""

import importlib.util

collect_ignore_glob = (
    [] if importlib.util.find_spec("cupy") else ["numnet/backend/cupy_*.py"]
)
