"""Time every registered workload, numnet against PyTorch, and print a Markdown table.

Two protocols (``--protocol``):

- ``process`` (the default, the README's table): each library runs its
  steady-state loop in a process of its own (``benchmarks/loop.py``: warm-up
  steps, then ``steps`` timed steps back to back, their median), numnet and
  PyTorch processes alternating for ``--rounds`` rounds (numnet first on even
  rounds). The table shows the median of each side's process medians and the
  median of the per-round ratios. Two libraries in one process distort each
  other (their idle worker threads spin and steal the cores the other needs).
  Both processes run with the allocator setting of
  ``numnet.config.keep_freed_memory()`` (``NUMNET_KEEP_FREED_MEMORY=0``: neither).
- ``inprocess``: both libraries in this process, calls alternating, each timed
  call after a pause and ~50 ms of untimed calls (``_settled_ms``). Useful for
  kernel work, where a process per measurement is too coarse.

On a shared machine, quote ratios, not times, with the load the header prints.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.registry import Workload, discover


@dataclass
class Result:
    id: str
    name: str
    numnet_ms: float
    torch_ms: float | None = None
    ratio: float | None = None
    gflops: float | None = None
    gemm_share: float | None = None
    numnet_times_ms: list[float] = field(default_factory=list)
    torch_times_ms: list[float] = field(default_factory=list)


def _elapsed_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def gemm_gflops(n: int = 1024, repeats: int = 10) -> float:
    """Measured float32 GEMM speed of NumPy (n x n x n, median of ``repeats``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    times = [_elapsed_ms(lambda: a @ b) for _ in range(repeats)]
    return 2 * n**3 / (statistics.median(times) * 1e-3) / 1e9


def torch_module(threads: int):
    """Return the torch module set to ``threads`` threads, or None if unavailable."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


#: Pause before each side's calls, so the other side's worker threads park.
SETTLE_SECONDS = 0.3


#: Untimed calls after the pause last at least this long (at least one call).
WARM_SECONDS = 0.05


def _settled_ms(fn, settle: bool) -> float:
    """Time of one call made after a short pause and ~50 ms of untimed calls.

    After a call, BLAS and OpenMP worker threads keep spinning for a while
    (OpenBLAS, libgomp), so the *other* library's next call shares the cores
    with them: measured on this 2-core machine, strict alternation made numnet's
    W5 step ~25 % slower and PyTorch's up to 2x slower than running alone. The
    pause absorbs that. After it, the machine is cold: idle virtual CPUs wake
    slowly until the hypervisor sees them busy again, and with OpenBLAS threads
    that sleep between calls (``--blas-timeout 4``) a single warm-up call was not
    enough (the W4 step measured 22 ms that way, 6 ms in a training loop). So
    untimed calls run for at least ``WARM_SECONDS``; the timed call is then what
    a training loop sees.
    """
    if settle:
        time.sleep(SETTLE_SECONDS)
        start = time.perf_counter()
        fn()
        while time.perf_counter() - start < WARM_SECONDS:
            fn()
    return _elapsed_ms(fn)


def time_workload(w: Workload, quick: bool, with_torch: bool, repeats=None) -> Result:
    """Warm up, then alternate numnet and PyTorch (each turn: pause, ~50 ms of
    untimed calls, one timed call; see ``_settled_ms``); medians and median ratio."""
    rounds = repeats or (w.quick_repeats if quick else w.repeats)
    ours = w.numnet_setup()
    theirs = w.torch_setup() if with_torch and w.torch_setup is not None else None
    for _ in range(1 if quick else w.warmup):
        ours()
    for _ in range(1 if quick else w.torch_warmup):
        if theirs is not None:
            theirs()
    t_ours, t_theirs = [], []
    settle = not quick and w.warmup > 0  # not for minutes-long runs (W8)
    for i in range(rounds):
        if theirs is not None and i % 2:
            t_theirs.append(_settled_ms(theirs, settle))
        t_ours.append(_settled_ms(ours, settle))
        if theirs is not None and not i % 2:
            t_theirs.append(_settled_ms(theirs, settle))
    result = Result(w.id, w.name, statistics.median(t_ours), numnet_times_ms=t_ours)
    if theirs is not None:
        result.torch_ms = statistics.median(t_theirs)
        result.torch_times_ms = t_theirs
        result.ratio = statistics.median(
            a / b for a, b in zip(t_ours, t_theirs, strict=True)
        )
    return result


ROOT = Path(__file__).resolve().parents[1]  # the directory holding benchmarks/


def _loop_env(threads: int) -> dict[str, str]:
    """The child's environment: thread counts set before NumPy/PyTorch load, and
    for both libraries the allocator setting the numnet loop opts into."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.update(_allocator_env())
    paths = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _allocator_env() -> dict[str, str]:
    """glibc's malloc settings of ``numnet.config.keep_freed_memory()`` as the
    environment variables glibc reads at start-up, for both loops.

    The numnet loop keeps freed memory for reuse (what a training script opts
    into); without the same setting the PyTorch loop maps and faults in every
    large activation afresh each step: its W5 step took 16-24 ms here instead of
    13 ms (docs/decisions.md). ``NUMNET_KEEP_FREED_MEMORY=0`` runs both without.
    """
    if os.environ.get("NUMNET_KEEP_FREED_MEMORY", "") == "0":
        return {}
    from numnet.config import MMAP_THRESHOLD, TRIM_THRESHOLD

    return {
        "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
    }


def run_loop_process(w: Workload, lib: str, warmup: int, steps: int, threads: int):
    """Run ``python -m benchmarks.loop`` for one library; return its JSON result."""
    command = [
        sys.executable, "-m", "benchmarks.loop", "--id", w.id, "--lib", lib,
        "--warmup", str(warmup), "--steps", str(steps), "--threads", str(threads),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=_loop_env(threads), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        failed = f"benchmarks: the {lib} loop of {w.id} failed"
        raise RuntimeError(f"{failed}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_workload_processes(
    w: Workload, quick: bool, with_torch: bool, threads: int, rounds: int, steps=None
) -> Result:
    """Alternate one process per library and round; medians and median ratio."""
    steps = steps or (w.quick_repeats if quick else w.steps)
    warm = {"numnet": 1 if quick else w.warmup, "torch": 1 if quick else w.torch_warmup}
    libs = ["numnet"] + (["torch"] if with_torch and w.torch_setup else [])
    medians: dict[str, list[float]] = {lib: [] for lib in libs}
    for r in range(rounds):
        for lib in libs if r % 2 == 0 else libs[::-1]:
            out = run_loop_process(w, lib, warm[lib], steps, threads)
            medians[lib].append(out["median_ms"])
    ours = medians["numnet"]
    result = Result(w.id, w.name, statistics.median(ours), numnet_times_ms=ours)
    if "torch" in medians:
        theirs = medians["torch"]
        result.torch_ms = statistics.median(theirs)
        result.torch_times_ms = theirs
        result.ratio = statistics.median(
            a / b for a, b in zip(ours, theirs, strict=True)
        )
    return result


def markdown_table(results: list[Result], gemm: float, with_torch: bool) -> str:
    """The results as a Markdown table (the PyTorch columns only ``with_torch``)."""
    head = ["workload", "numnet ms"]
    head += ["PyTorch ms", "ratio"] if with_torch else []
    head += ["GFLOP/s", f"% of GEMM ({gemm:.0f} GFLOP/s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        row = [f"{r.id} {r.name}", f"{r.numnet_ms:.2f}"]
        if with_torch:
            row.append("-" if r.torch_ms is None else f"{r.torch_ms:.2f}")
            row.append("-" if r.ratio is None else f"{r.ratio:.2f}x")
        row.append("-" if r.gflops is None else f"{r.gflops:.0f}")
        row.append("-" if r.gemm_share is None else f"{100 * r.gemm_share:.0f}%")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


_TIMEOUT = "OPENBLAS_THREAD_TIMEOUT"


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _machine(threads: int, torch_version, protocol: str, loads=()) -> str:
    loads = loads or (_load(),)
    parts = [
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        f"{threads} threads",
        f"OPENBLAS_THREAD_TIMEOUT={os.environ.get(_TIMEOUT, 'default')}",
        "load " + " -> ".join(f"{load:.2f}" for load in loads),
        f"protocol {protocol}",
        f"NumPy {np.__version__}",
    ]
    if torch_version is not None:
        parts.append(f"PyTorch {torch_version}")
    return "; ".join(parts)


def _torch_version() -> str | None:
    """PyTorch's version without importing it here (its threads would idle-spin)."""
    if importlib.util.find_spec("torch") is None:
        return None
    from importlib.metadata import version

    return version("torch")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny repeats (smoke run)")
    p.add_argument("--only", default="", help="comma-separated ids, e.g. W1,W3")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--protocol",
        choices=("process", "inprocess"),
        default="process",
        help="process: each library's loop in its own process, alternating "
        "(default); inprocess: both in this process, calls alternating",
    )
    p.add_argument("--rounds", type=int, help="process rounds per side (default 5)")
    p.add_argument(
        "--repeats",
        type=int,
        help="timed calls per side (inprocess) or timed steps per process (process)",
    )
    p.add_argument("--threads", type=int, default=2, help="BLAS/torch threads")
    p.add_argument(
        "--blas-timeout",
        type=int,
        help="OPENBLAS_THREAD_TIMEOUT (set by __main__ before NumPy loads): 4 makes "
        "idle OpenBLAS threads sleep at once instead of spinning ~0.1 s",
    )
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    p.add_argument("--full", action="store_true", help="also run opt-in workloads (W8)")
    return p.parse_args(argv)


def select(workloads: list[Workload], only: str, full: bool = False) -> list[Workload]:
    """Filter by ``--only``; unknown ids are an error listing the known ones.

    Without ``--only``, opt-in (heavy) workloads run only with ``--full``.
    """
    if not only:
        return [w for w in workloads if full or not w.opt_in]
    wanted = [s.strip() for s in only.split(",") if s.strip()]
    known = {w.id for w in workloads}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise SystemExit(
            f"benchmarks: unknown workload id(s) {unknown}; known: {sorted(known)}"
        )
    return [w for w in workloads if w.id in wanted]


def _run(w: Workload, args, torch) -> Result:
    if args.protocol == "inprocess":
        return time_workload(w, args.quick, torch is not None, args.repeats)
    rounds = args.rounds or (1 if args.quick else 5)
    with_torch = not args.no_torch and _torch_version() is not None
    return time_workload_processes(
        w, args.quick, with_torch, args.threads, rounds, args.repeats
    )


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workloads = select(discover(), args.only, args.full)
    torch = None
    if args.protocol == "inprocess" and not args.no_torch:
        torch = torch_module(args.threads)
    version = None if args.no_torch else _torch_version()
    with_torch = version is not None and (args.protocol == "process" or torch)
    load_before = _load()
    gemm = gemm_gflops(512 if args.quick else 1024, 3 if args.quick else 10)
    results = []
    for w in workloads:
        r = _run(w, args, torch)
        if w.flops:
            r.gflops = w.flops / (r.numnet_ms * 1e-3) / 1e9
            r.gemm_share = r.gflops / gemm
        results.append(r)
    machine = _machine(
        args.threads, version if with_torch else None, args.protocol,
        (load_before, _load()),
    )  # fmt: skip
    print(f"numnet benchmarks ({machine})\n")
    print(markdown_table(results, gemm, bool(with_torch)))
    if args.json:
        payload = {
            "machine": machine,
            "protocol": args.protocol,
            "threads": args.threads,
            "load": [load_before, _load()],
            "gemm_gflops": gemm,
            "quick": args.quick,
            "results": [r.__dict__ for r in results],
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    return 0
