"""The one check the CUDA test modules share: is there CuPy and a GPU?"""

from __future__ import annotations

import importlib.util

import pytest


def gpu_available() -> bool:
    """True where CuPy imports and finds at least one CUDA device."""
    if importlib.util.find_spec("cupy") is None:
        return False
    import cupy

    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except cupy.cuda.runtime.CUDARuntimeError:  # CuPy without a usable driver
        return False


def require_gpu() -> None:
    """Skip the calling test module, at collection, without CuPy and a GPU."""
    if not gpu_available():
        pytest.skip("needs CuPy and a CUDA GPU", allow_module_level=True)
