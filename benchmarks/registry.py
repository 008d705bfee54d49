"""The workload registry: each module of ``benchmarks/workloads/`` has ``WORKLOADS``.

A workload is a pair of setup functions. Each setup builds its data once and
returns a zero-argument callable that runs one iteration (for example one
forward + backward pass); the runner times that callable. Adding a workload means
adding a module (or a list entry) here, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass

Setup = Callable[[], Callable[[], object]]


@dataclass(frozen=True)
class Workload:
    """One benchmark.

    Attributes:
        id: short id used by ``--only`` and in the table ("W1").
        name: what is measured, one line.
        numnet_setup: builds the data, returns a zero-arg callable (one iteration).
        torch_setup: the same workload in PyTorch (NCHW), or None. It may import
            torch; it is only called when torch is importable.
        flops: useful floating-point operations per iteration, or None. When given,
            the table shows numnet's GFLOP/s and its share of the GEMM GFLOP/s.
        warmup, torch_warmup: untimed calls before timing (PyTorch's conv needs
            about 10 to pick its algorithm).
        repeats: timed calls of each side in a full in-process run;
            ``quick_repeats`` in ``--quick`` mode (both protocols).
        steps: timed steps of each process's steady-state loop (the
            separate-process protocol, the default); its warm-up steps are
            ``warmup`` (numnet) and ``torch_warmup``.
        opt_in: a heavy workload (W8 trains for minutes) that runs only when
            named in ``--only`` or with ``--full``.
    """

    id: str
    name: str
    numnet_setup: Setup
    torch_setup: Setup | None = None
    flops: float | None = None
    warmup: int = 3
    torch_warmup: int = 10
    repeats: int = 30
    quick_repeats: int = 2
    steps: int = 40
    opt_in: bool = False  # heavy (minutes): run only with --only <id> or --full


def _natural_key(workload: Workload):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", workload.id)]


def discover() -> list[Workload]:
    """Import every module of ``benchmarks.workloads`` and collect its WORKLOADS.

    Raises:
        ValueError: when two workloads share an id.
    """
    import benchmarks.workloads as package

    found: dict[str, Workload] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for workload in getattr(module, "WORKLOADS", []):
            if workload.id in found:
                raise ValueError(
                    f"benchmarks: workload id {workload.id!r} is defined twice "
                    f"(again in {module.__name__})"
                )
            found[workload.id] = workload
    return sorted(found.values(), key=_natural_key)
