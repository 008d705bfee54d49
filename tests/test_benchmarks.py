"""The benchmark runner works end to end (a seconds-long ``--quick`` smoke run).

Speed itself is never asserted here: timings live in ``python -m benchmarks``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the benchmarks package lives beside src/

from benchmarks import loop, registry, runner  # noqa: E402


def test_registry_discovers_the_workloads():
    workloads = registry.discover()
    ids = [w.id for w in workloads]
    assert {"W1", "W2", "W3", "W5", "W6", "W9"} <= set(ids)
    assert len(ids) == len(set(ids))
    for w in workloads:
        assert callable(w.numnet_setup) and w.name
    w8 = {w.id: w for w in workloads}["W8"]  # minutes long: one run per process
    assert w8.steps == w8.repeats == 1 and w8.opt_in


def test_select_rejects_unknown_ids():
    workloads = registry.discover()
    assert [w.id for w in runner.select(workloads, "W3, W1")] == ["W1", "W3"]
    with pytest.raises(SystemExit, match="W99"):
        runner.select(workloads, "W1,W99")


def test_loop_times_steps_after_warmup():
    calls = []
    times = loop.run_loop(lambda: calls.append(1), warmup=3, steps=5)
    assert len(calls) == 8 and len(times) == 5 and min(times) >= 0


def test_process_protocol_alternates_loop_processes(capsys, tmp_path):
    # the default protocol: one process per library and round (numnet only here)
    out = tmp_path / "bench.json"
    argv = ["--quick", "--only", "W3", "--no-torch", "--rounds", "2"]
    assert runner.main(argv + ["--json", str(out)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "protocol process" in header and "2 threads" in header and "load" in header
    payload = json.loads(out.read_text())
    assert payload["protocol"] == "process" and payload["threads"] == 2
    (w3,) = payload["results"]
    assert len(w3["numnet_times_ms"]) == 2  # one median per round's process
    assert w3["numnet_ms"] > 0 and w3["ratio"] is None


def test_quick_inprocess_run_without_torch_prints_the_table(capsys, tmp_path):
    out = tmp_path / "bench.json"
    argv = ["--quick", "--protocol", "inprocess", "--only", "W2,W3", "--no-torch"]
    assert runner.main(argv + ["--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| workload | numnet ms |" in table and "PyTorch" not in table
    assert "protocol inprocess" in table
    assert "| W2 " in table and "| W3 " in table and "| W1 " not in table
    results = json.loads(out.read_text())["results"]
    assert [r["id"] for r in results] == ["W2", "W3"]
    assert results[0]["gflops"] > 0 and results[1]["gflops"] is None


def test_python_m_benchmarks_quick(tmp_path):
    # the real entry point and its default (separate-process) protocol; PyTorch
    # is left out to keep the test fast (its column is the same code path)
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only=W3", "--no-torch",
         f"--json={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| W3 " in done.stdout and "protocol process" in done.stdout
    payload = json.loads(out.read_text())
    assert payload["quick"] and payload["results"][0]["numnet_ms"] > 0


def test_blas_timeout_reaches_openblas_before_numpy_loads():
    # __main__ sets OPENBLAS_THREAD_TIMEOUT before NumPy is imported; the header
    # line reports it
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only=W3", "--no-torch",
         "--protocol", "inprocess", "--blas-timeout", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "OPENBLAS_THREAD_TIMEOUT=4" in done.stdout.splitlines()[0]


def test_op_profile_charges_ops_and_restores_the_classes():
    from benchmarks import op_profile

    from numnet.autograd.function import Function

    call_before = Function.__dict__["__call__"]
    result = op_profile.profile("W4", "cpu", steps=2, warmup=1)
    assert Function.__dict__["__call__"] is call_before  # the wrappers are removed
    ops = result["ops"]
    assert ops["_Linear.forward"] > 0 and ops["_Linear.backward"] > 0
    assert result["calls"]["_Linear.forward"] == 3  # three Dense layers per step
    assert "Adam.apply" in ops
    text = op_profile.format_report("W4", "cpu", result)
    assert text.splitlines()[0].startswith("W4 on cpu: step")
    assert "_Linear.backward" in text


def test_both_loops_get_the_allocator_setting_numnet_opts_into(monkeypatch):
    # the numnet loop calls keep_freed_memory(); the PyTorch loop gets the same
    # glibc settings through the environment, or neither does
    from numnet.config import MMAP_THRESHOLD, TRIM_THRESHOLD

    monkeypatch.delenv("NUMNET_KEEP_FREED_MEMORY", raising=False)
    env = runner._loop_env(2)
    assert env["MALLOC_MMAP_THRESHOLD_"] == str(MMAP_THRESHOLD)
    assert env["MALLOC_TRIM_THRESHOLD_"] == str(TRIM_THRESHOLD)
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "2"
    monkeypatch.setenv("NUMNET_KEEP_FREED_MEMORY", "0")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert "MALLOC_MMAP_THRESHOLD_" not in runner._loop_env(2)
