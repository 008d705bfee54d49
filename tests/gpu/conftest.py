"""The ``device`` fixture of the device-parametrized tests."""

from __future__ import annotations

import pytest
from tests.gpu.gpu_guard import gpu_available
from tests.gpu.strict_device import strict_device

DEVICES = [
    "strict",
    pytest.param(
        "cuda",
        marks=[
            pytest.mark.gpu,
            pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a GPU"),
        ],
    ),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """A device's name: "strict" (the strict namespace, registered for the test,
    on every machine) and "cuda" (marked ``gpu``; where CuPy finds a GPU)."""
    if request.param == "strict":
        with strict_device():
            yield "strict"
    else:
        yield request.param
