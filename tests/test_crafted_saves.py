"""The crafted-file corpus: each file gives SaveFormatError, fast, in bounded memory.

The corpus is written by ``tests/fixtures/make_crafted_files.py`` (run it by
hand to inspect the files). Memory is measured with ``tracemalloc``, which
NumPy reports its array allocations to.
"""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from numnet import layers, models, saving

SCRIPT = Path(__file__).parent / "fixtures" / "make_crafted_files.py"
MEMORY_BOUND = 32 << 20  # bytes allocated while refusing one file
TIME_BOUND = 5.0  # seconds to refuse one file (generous: shared CI cores)


def _load_script():
    spec = importlib.util.spec_from_file_location("make_crafted_files", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    directory = tmp_path_factory.mktemp("crafted")
    assert _load_script().main([str(directory)]) == 0
    return sorted(p for p in directory.iterdir() if not p.name.endswith(".other"))


def _refuse(path, loader):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(saving.SaveFormatError) as info:
            loader(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return info.value, time.perf_counter() - start, peak


def test_the_corpus_is_large_and_every_file_is_refused_within_bounds(corpus):
    assert len(corpus) >= 50
    for path in corpus:
        error, seconds, peak = _refuse(path, models.load_model)
        message = str(error)
        assert str(path) in message, message
        advice = message[len(str(path)) :].lower()  # the text after the file name
        assert "pickle" not in advice, message  # never suggest allow_pickle
        assert seconds < TIME_BOUND, (path.name, seconds)
        assert peak < MEMORY_BOUND, (path.name, peak)


def test_load_weights_refuses_the_corpus_too(corpus):
    accepted = []
    for path in corpus:
        model = models.Sequential([layers.Dense(3, input_shape=(4,))])
        tracemalloc.start()
        start = time.perf_counter()
        try:
            model.load_weights(path)
            accepted.append(path.name)
        except saving.SaveFormatError:
            pass
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert time.perf_counter() - start < TIME_BOUND and peak < MEMORY_BOUND
    # only files whose defect is in the model config or compile state: their
    # weights are valid, and load_weights reads nothing else
    assert all(
        name.startswith(
            (
                "class_",
                "layer_",
                "lambda_",
                "compile_",
                "units_",
                "functional_",
                "config_",
                "input_shape",
                "iterations_",
                "slot_",
            )
        )
        for name in accepted
    ), accepted


def test_the_script_runs_as_a_command(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(saving.__file__).parent.parent)}
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert len(out.stdout.splitlines()) >= 50


def test_devices_are_refused_without_reading():
    error, seconds, _ = _refuse("/dev/zero", models.load_model)
    assert "not a regular file" in str(error) and seconds < TIME_BOUND


def test_an_unused_bomb_entry_is_never_decompressed(tmp_path):
    """A valid save plus a 256 MB deflated entry the format does not name."""
    script = _load_script()
    meta, entries = script.base_entries()
    path = tmp_path / "bomb.npz"
    script.bomb_file(str(path), meta, entries)
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    model = models.load_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < MEMORY_BOUND and model.count_params() == 15


def test_a_file_object_is_checked_the_same_way():
    buffer = io.BytesIO(b"\x93NUMPY" + bytes(100))
    with pytest.raises(saving.SaveFormatError, match="<file object>.*\\.npy"):
        models.load_model(buffer)
    model = models.Sequential([layers.Dense(3, input_shape=(4,))])
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    clone = models.load_model(buffer)
    np.testing.assert_array_equal(clone.get_weights()[0], model.get_weights()[0])
