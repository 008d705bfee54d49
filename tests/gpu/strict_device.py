"""The strict array namespace registered as a device named "strict".

``tests/strict_namespace.py`` is NumPy behind a wall that refuses every silent
conversion; registered the way CuPy is registered as "cuda", it lets the device
tests run everything the GPU path does besides the CUDA kernels themselves on
every machine.
"""

from __future__ import annotations

import contextlib

from tests.strict_namespace import SLIPS, STRICT

from numnet.backend import device as device_module


@contextlib.contextmanager
def strict_device():
    """Register "strict" for the block; yield the seeds it was given; fail on slips."""
    seeds: list[int] = []

    def seed(n: int) -> None:
        seeds.append(n)
        STRICT.random.seed(n)

    kind = device_module.DeviceKind(
        "strict",
        load=lambda: STRICT,
        put=lambda host, index: STRICT.asarray(host),
        seed=seed,
    )
    device_module.register_device(kind)
    SLIPS.clear()
    try:
        yield seeds
    finally:
        device_module.unregister_device("strict")
    assert not SLIPS, f"calls slipped past the array seam: {SLIPS}"
