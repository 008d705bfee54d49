"""The deferred label check of the CUDA cross-entropy, on a simulated stream.

``numnet.backend.cupy_loss.LabelCheck`` reads the kernel's bad-label flag
through an asynchronous copy and never waits for the GPU except in
``check_labels``. Its bookkeeping runs here against a fake CuPy whose stream
runs queued work only when the test says so, so every ordering (a copy still
in flight, a copy issued before the bad batch, a flag read at a log refresh)
is checked on the CPU. Needs CuPy importable (not a GPU).
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

pytest.importorskip("cupy")

from numnet.backend import cupy_loss  # noqa: E402


class _Stream:
    """Queued work that runs only on ``run()``; events mark queue positions."""

    def __init__(self):
        self.queue, self.ran = [], 0

    def enqueue(self, work):
        self.queue.append(work)

    def run(self):
        while self.ran < len(self.queue):
            self.queue[self.ran]()
            self.ran += 1

    def record(self):
        return _Event(self, len(self.queue))


class _Event:
    def __init__(self, stream, position):
        self.stream, self.position = stream, position

    @property
    def done(self):
        return self.stream.ran >= self.position

    def synchronize(self):
        self.stream.run()


class _Device:
    id = 0

    def __init__(self, index=0):
        assert index == 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _DeviceArray:
    def __init__(self, stream, n, dtype):
        self.stream, self.a = stream, np.zeros(n, dtype)

    def get(self, out=None, blocking=True):
        if blocking:
            self.stream.run()
            return self.a.copy()

        def copy(a=self.a):
            out[...] = a

        self.stream.enqueue(copy)
        return out

    def fill(self, value):
        self.stream.enqueue(lambda: self.a.fill(value))


@pytest.fixture
def stream(monkeypatch):
    stream = _Stream()
    fake = types.SimpleNamespace(
        zeros=lambda n, dtype: _DeviceArray(stream, n, dtype),
        cuda=types.SimpleNamespace(
            Device=_Device,
            get_current_stream=lambda: stream,
        ),
    )
    monkeypatch.setattr(cupy_loss, "cupy", fake)
    monkeypatch.setitem(
        sys.modules,
        "cupyx",
        types.SimpleNamespace(zeros_pinned=lambda n, dtype: np.zeros(n, dtype)),
    )
    monkeypatch.setattr(cupy_loss.LabelCheck, "_by_device", {})
    return stream


def _launch(stream, check, labels, classes=3):
    """What sparse_ce_forward does around its kernel."""
    check.raise_if_found(wait=False)

    def kernel():
        for label in labels:
            if not 0 <= label < classes:
                check.flag.a[:] = [1, label]

    stream.enqueue(kernel)
    check.read_later(classes)


def test_a_bad_label_raises_once_its_copy_has_arrived(stream):
    check = cupy_loss.LabelCheck.of_current_device()
    _launch(stream, check, [0, 1])
    _launch(stream, check, [0, 7])  # the pending copy predates this batch
    _launch(stream, check, [0, 1])  # nothing has run: no waiting, no error
    stream.run()
    _launch(stream, check, [0, 1])  # the copy read 0: a new one is queued
    stream.run()
    with pytest.raises(ValueError, match="label value of 7 .*\\[0, 3\\)"):
        _launch(stream, check, [0, 1])
    stream.run()
    _launch(stream, check, [2, 1])  # reported once: the flag was reset
    stream.run()
    _launch(stream, check, [2, 1])


def test_check_labels_waits_and_reads_the_flag_itself(stream):
    check = cupy_loss.LabelCheck.of_current_device()
    _launch(stream, check, [0, 1])
    _launch(stream, check, [-2, 1])  # its copy is never issued (one pending)
    with pytest.raises(ValueError, match="label value of -2"):
        cupy_loss.check_labels()
    cupy_loss.check_labels()
    _launch(stream, check, [0, 1])
    stream.run()
    _launch(stream, check, [0, 1])
