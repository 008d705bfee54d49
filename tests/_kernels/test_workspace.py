"""The scratch-buffer pool: reuse, ownership, the budget cap, and conv's use of it."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet._kernels import im2col, workspace


@pytest.fixture(autouse=True)
def _empty_pool():
    workspace.clear()
    yield
    workspace.clear()


def test_a_returned_buffer_is_handed_out_again():
    a = workspace.take((100, 50), np.float32)
    assert a.shape == (100, 50) and a.dtype == np.float32
    workspace.give(a)
    b = workspace.take((40, 100), np.float32)  # same size class: reused
    assert np.shares_memory(a, b)
    c = workspace.take((10,), np.float64)  # much smaller: never pins a big buffer
    assert not np.shares_memory(b, c)


def test_foreign_arrays_and_double_gives_are_ignored():
    mine = workspace.take((10,), np.uint8)
    workspace.give(np.zeros(1000, np.uint8), None, mine, mine)
    assert workspace.pooled_bytes() == 10


def test_pool_never_holds_more_than_the_budget():
    with im2col.memory_budget(1000):
        workspace.give(
            workspace.take((600,), np.uint8), workspace.take((600,), np.uint8)
        )
        assert workspace.pooled_bytes() == 600


def test_conv_gives_its_columns_back_after_backward(rng):
    x = numnet.tensor(rng.standard_normal((4, 8, 8, 3)), requires_grad=True)
    w = numnet.tensor(rng.standard_normal((3, 3, 3, 5)), requires_grad=True)
    y = F.conv2d(x, w, padding="same")
    kept = workspace.pooled_bytes()
    y.backward(np.ones(y.shape, np.float32))
    assert workspace.pooled_bytes() > kept  # the kept columns (4*64*27 floats)
    assert workspace.pooled_bytes() >= 4 * 64 * 27 * 4


def test_retained_graph_backward_twice_gives_the_same_gradients(rng):
    x = numnet.tensor(rng.standard_normal((2, 6, 6, 2)), requires_grad=True)
    w = numnet.tensor(rng.standard_normal((3, 3, 2, 4)), requires_grad=True)
    y = F.conv2d(x, w, stride=2, padding="same")
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gy, retain_graph=True)
    first = x.grad.copy(), w.grad.copy()
    F.conv2d(x.data * 2, w.data)  # another conv may reuse pooled scratch meanwhile
    x.grad = w.grad = None
    y.backward(gy)
    np.testing.assert_array_equal(x.grad, first[0])
    np.testing.assert_array_equal(w.grad, first[1])


def test_keep_freed_memory_respects_the_opt_out(monkeypatch):
    monkeypatch.setenv("NUMNET_KEEP_FREED_MEMORY", "0")
    assert workspace.keep_freed_memory() is False


def test_freed_arrays_are_reused_without_page_faults():
    # after numnet.config.keep_freed_memory() (glibc; an explicit call, not done
    # by `import numnet`), a freed 48 MB array's memory is reused by
    # the next one: its pages are not faulted in again (glibc's default maps
    # arrays above 32 MB afresh every time: 2,680 faults here for these five)
    resource = pytest.importorskip("resource")
    if not numnet.config.keep_freed_memory():
        pytest.skip("not glibc: the allocator setting does not apply")
    np.ones(12 * 2**20, np.float32)  # 48 MB, allocated, touched and freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        np.ones(12 * 2**20, np.float32)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 100
