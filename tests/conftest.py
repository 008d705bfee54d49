"""Shared fixtures and test settings.

Tolerances for gradient checks live in numnet.gradcheck's defaults
(eps 1e-6, atol 1e-5, rtol 1e-3, float64); any per-test override says why.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from tests.gpu.gpu_guard import gpu_available
from tests.gpu.strict_device import strict_device

import numnet
from numnet import backend

os.environ.setdefault("MPLBACKEND", "Agg")

# A script that writes the Keras fixture files: it imports keras at its top, so
# the doctest collector (--doctest-modules) must not import it where keras is
# not installed (test_keras_live.py imports it after importorskip("keras")).
collect_ignore = ["interop/make_keras_fixtures.py"]

# Keep the default run fast on 2 cores; CI may raise it with HYPOTHESIS_PROFILE=ci.
settings.register_profile(
    "default",
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; every test draws its random data from it."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed_and_restore_dtype():
    """Seed numnet's global RNG and make sure no test leaks a default dtype."""
    numnet.manual_seed(0)
    previous = backend.get_default_dtype()
    yield
    backend.set_default_dtype(previous)


@pytest.fixture
def float64():
    """Run the test with float64 as the default dtype (for gradchecks of layers)."""
    with backend.floatx_scope("float64"):
        yield


# -- the device fixture of the device-parametrized tests (tests/gpu/*_on_devices.py)

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
