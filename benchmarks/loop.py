"""One library's steady-state loop of one workload, in this process alone.

``python -m benchmarks.loop --id W5 --lib numnet --warmup 8 --steps 40`` builds
the workload, runs ``warmup`` untimed steps, then ``steps`` timed ones back to
back (what a training loop does), and prints one JSON line: the step times in
milliseconds and their median. The runner's separate-process protocol starts
one such process per library and round. Thread counts come from the
environment (set by the runner before NumPy or PyTorch load). The numnet process
calls ``numnet.config.keep_freed_memory()``, the allocator setting a training
script opts into; the runner gives the PyTorch process the same glibc settings
through ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` (run by hand, set
them for a fair PyTorch figure). ``NUMNET_KEEP_FREED_MEMORY=0`` measures both
without.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def run_loop(fn, warmup: int, steps: int) -> list[float]:
    """Times (ms) of ``steps`` back-to-back calls of ``fn`` after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.loop", description=__doc__)
    p.add_argument("--id", required=True, help="workload id, e.g. W5")
    p.add_argument("--lib", choices=("numnet", "torch"), required=True)
    p.add_argument("--warmup", type=int, default=8)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    from benchmarks.registry import discover

    workload = {w.id: w for w in discover()}[args.id]
    if args.lib == "torch":
        import torch

        torch.set_num_threads(args.threads)
        fn = workload.torch_setup()
    else:
        import numnet

        # what a training script opts into (docs/decisions.md: the allocator);
        # numnet versions before numnet.config set it at import
        if hasattr(numnet, "config"):
            numnet.config.keep_freed_memory()
        fn = workload.numnet_setup()
    times = run_loop(fn, args.warmup, args.steps)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    result = {"median_ms": statistics.median(times), "times_ms": times, "load": load}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
