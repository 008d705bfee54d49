"""Data parallelism over real MPI ranks: ``mpiexec -n 2`` on loopback.

One 2-rank job (``mpi_worker.py train``) trains small float64 models with
``fit(distributed=True)`` and, on rank 0, the single-process reference with
twice the batch from the same initial weights; the tests read its report.
Skipped with a message when mpi4py or mpiexec is missing (``pip install
"numnet[mpi]"``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from tests.gpu.gpu_guard import gpu_available

WORKER = Path(__file__).with_name("mpi_worker.py")
TOL = 1e-10  # float64; the ops are the same, only the summation order differs


def _mpiexec() -> str | None:
    beside = Path(sysconfig.get_path("scripts")) / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _require_mpi() -> str:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip('mpi4py is not installed (pip install "numnet[mpi]")')
    exe = _mpiexec()
    if exe is None:
        pytest.skip('no mpiexec on PATH (pip install "numnet[mpi]" brings MPICH)')
    return exe


def _env() -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env.update(OPENBLAS_NUM_THREADS="1", NUMNET_NUM_THREADS="1", OMP_NUM_THREADS="1")
    # Open MPI refuses root without these; MPICH ignores them
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def _run(ranks: int, mode: str, directory: Path, timeout: float = 120):
    """Launch the worker; return (returncode, output, seconds)."""
    env = _env()
    cmd = [_require_mpi(), "-n", str(ranks), sys.executable, str(WORKER), mode]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd + [str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    _require_mpi()
    out = tmp_path_factory.mktemp("mpi")
    code, output, _ = _run(2, "train", out)
    assert code == 0, output
    return out, json.loads((out / "train.json").read_text())


CASES = ["dense_27", "dense_17", "conv_27", "lstm_27", "syncbn_27", "syncbn_17",
         "dense_27_accumulate_ema"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_two_ranks_equal_one_process_with_twice_the_batch(trained, case):
    # 27 samples: the last global batch splits 2/1; 17: one rank gets only padding
    result = trained[1][case]
    assert result["weight_diff"] < TOL
    assert result["loss_diff"] < TOL  # History holds the global loss
    assert result["acc_diff"] < TOL  # and the global metric


def test_metric_states_sum_over_ranks(trained):
    # AUC, PR AUC, PrecisionAtRecall, TruePositives, BinaryIoU, R2Score: the
    # global history equals one process's on the same 27 samples
    diffs = trained[1]["metrics"]
    assert {
        "auc",
        "pr_auc",
        "precision_at_recall",
        "true_positives",
        "binary_iou",
        "r2_score",
    } <= set(diffs)
    assert max(diffs.values()) < TOL, diffs


@pytest.mark.parametrize("case", CASES)
def test_weights_identical_on_every_rank(trained, case):
    assert trained[1][case]["rank_spread"] == 0.0


def test_shards_are_disjoint_cover_the_epoch_and_reshuffle(trained):
    shuffle = trained[1]["shuffle"]
    for counts in shuffle["counts"]:
        assert counts == [1] * 23  # every sample once per epoch, on one rank
    assert shuffle["changed"]


def test_stopping_callbacks_stop_every_rank_together(trained):
    (one, two), (one_r1, two_r1) = trained[1]["stop"]["epochs_per_rank"]
    assert one == one_r1 == 2  # rank 1's stop_training reached rank 0 too
    assert two == two_r1 == 2  # EarlyStopping on the global loss: same decision


def test_pytorch_style_loop_with_distributed_optimizer(trained):
    loop = trained[1]["loop"]
    assert loop["weight_diff"] < TOL and loop["rank_spread"] == 0.0


def test_validation_with_fewer_samples_than_ranks(trained):
    stop = trained[1]["stop"]  # one validation sample: rank 1's shard is empty
    assert stop["val_same"] and stop["val_finite"]


def test_only_rank_zero_writes_files(trained):
    out = trained[0]
    assert (out / "ckpt_1.npz").exists() and (out / "ckpt_2.npz").exists()
    assert not (out / "rank1.npz").exists()


def test_rank_zero_checkpoint_resumes_on_one_rank(trained):
    out = trained[0]
    code, output, _ = _run(1, "resume", out)
    assert code == 0, output
    result = json.loads((out / "resume.json").read_text())
    assert result["ranks"] == 1
    assert result["weight_diff"] < TOL


@pytest.mark.parametrize(
    "device",
    ["strict", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
        not gpu_available(), reason="needs CuPy and a GPU")])],
)  # fmt: skip
def test_two_ranks_on_a_device_equal_one_cpu_process(device, tmp_path, monkeypatch):
    """Every rank's model on a device ("strict": the strict namespace, where
    nothing may cross the array seam; "cuda" where a GPU is): the same weights,
    losses and accuracies as one CPU process with twice the batch (dense, conv,
    LSTM and synchronized batch norm)."""
    monkeypatch.setenv("NUMNET_WORKER_DEVICE", device)
    code, output, _ = _run(2, "device", tmp_path)
    assert code == 0, output
    results = json.loads((tmp_path / "device.json").read_text())
    assert sorted(results) == ["conv_27", "dense_27", "lstm_27", "syncbn_17"]
    for case, r in results.items():
        assert r["rank_spread"] == 0.0, case  # every rank holds the same weights
        assert r["weight_diff"] < 1e-8, (case, r)  # other kernels, other sum order
        assert r["loss_diff"] < 1e-8 and r["acc_diff"] < 1e-12, (case, r)


def test_a_failing_rank_ends_the_job_quickly(tmp_path):
    code, output, seconds = _run(2, "crash", tmp_path, timeout=60)
    assert code != 0
    assert "planted failure on rank 1" in output, (code, seconds, output)
    assert "aborting all ranks" in output
    assert seconds < 30  # the healthy rank does not wait in the allreduce


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Fashion-MNIST files absent (apt-get install dataset-fashion-mnist)",
)
def test_cnn_example_runs_distributed(tmp_path):
    exe = _require_mpi()
    example = Path(__file__).resolve().parents[2] / "examples" / "fashion_mnist_cnn.py"
    env = _env()
    flags = ["--distributed", "--epochs", "1", "--limit", "300", "--verbose", "2"]
    proc = subprocess.run(
        [exe, "-n", "2", sys.executable, str(example), *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CNN on 2 rank(s) x batch 64 (global 128)" in proc.stdout
    assert proc.stdout.count("Epoch 1/1") == 1  # only rank 0 prints


def test_ctrl_c_stops_every_rank_at_the_same_step(tmp_path):
    exe = _require_mpi()
    proc = subprocess.Popen(
        [exe, "-n", "2", sys.executable, str(WORKER), "interrupt", str(tmp_path)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert "training" in proc.stdout.readline()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)  # mpiexec forwards it to every rank
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, output
    stops = re.findall(r"rank \d stopped after epoch (\d+)", output)
    assert len(stops) == 2 and stops[0] == stops[1], output
    assert "Training interrupted (Ctrl-C)" in output
