"""numnet.config: scoped, thread-local settings over process defaults."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import numnet
from numnet import backend, config
from numnet.backend import threads


def _in_thread(fn):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()))
    thread.start()
    thread.join()
    return result["value"]


def test_using_scopes_nest_and_restore():
    before = config.get()
    with config.using(default_dtype="float64", memory_budget=1024) as outer:
        assert outer.default_dtype == np.float64 and backend.floatx() == np.float64
        with config.using(default_dtype=np.float32):
            assert config.get().default_dtype == np.float32
            assert config.get().memory_budget == 1024  # inherited from the outer
        assert config.get() == outer
    assert config.get() == before


def test_a_scope_is_thread_local_and_restored_on_error():
    with pytest.raises(KeyError):
        with numnet.no_grad():
            assert not numnet.is_grad_enabled()
            assert _in_thread(numnet.is_grad_enabled)  # another thread: unchanged
            raise KeyError
    assert numnet.is_grad_enabled()


def test_set_outside_a_scope_is_process_wide_and_seen_by_new_threads():
    try:
        numnet.set_default_dtype("float64")
        assert _in_thread(backend.floatx) == np.float64
        assert numnet.tensor([1.0]).dtype == np.float64
    finally:
        numnet.set_default_dtype("float32")
    assert backend.floatx() == np.float32


def test_set_inside_a_scope_ends_with_the_scope():
    with config.using():
        numnet.set_default_dtype("float64")
        assert backend.floatx() == np.float64
    assert backend.floatx() == np.float32


def test_strict_dtypes_and_grad_mode_are_settings():
    from numnet.autograd import strict_dtypes

    with strict_dtypes():
        assert config.get().strict_dtypes
    with config.using(grad_enabled=False):
        y = numnet.tensor([1.0], requires_grad=True) * 2
    assert not y.requires_grad and not config.get().strict_dtypes


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"default_dtype": "int32"}, TypeError),
        ({"num_threads": 0}, ValueError),
        ({"memory_budget": -1}, ValueError),
        ({"memory_budget": 1.5}, TypeError),
        ({"colour": "red"}, TypeError),
    ],
)
def test_bad_settings_are_refused_with_the_name(changes, error):
    name = next(iter(changes))
    with pytest.raises(error, match=name):
        with config.using(**changes):
            pass


def test_kernel_plans_are_a_read_only_mapping():
    with config.using(kernel_plans={"conv2d": "reference"}):
        plans = config.get().kernel_plans
        assert plans["conv2d"] == "reference"
        with pytest.raises(TypeError):
            plans["conv2d"] = "other"
    assert dict(config.get().kernel_plans) == {}


def test_thread_count_reads_numnet_num_threads_only(monkeypatch):
    monkeypatch.delenv("NUMNET_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # sizes BLAS, not numnet
    assert config.num_threads() == (__import__("os").cpu_count() or 1)
    monkeypatch.setenv("NUMNET_NUM_THREADS", "3")
    assert config.num_threads() == 3
    with config.using(num_threads=2):
        assert threads.num_threads() == 2


def test_the_kernel_thread_pool_is_built_once(monkeypatch):
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 0)
    seen = []
    for count, n in [("4", 2), ("2", 8), ("3", 5), ("4", 2)]:
        monkeypatch.setenv("NUMNET_NUM_THREADS", count)
        threads.over_batch(lambda a, b: seen.append((a, b)), n, elements=1)
        seen.append(threads.get_pool(1))
    pools = {id(p) for p in seen if not isinstance(p, tuple)}
    assert len(pools) == 1


def test_memory_budget_is_the_config_setting():
    from numnet._kernels import im2col

    with config.using(memory_budget=4096):
        assert im2col.get_memory_budget() == 4096
    with im2col.memory_budget(2048):
        assert config.get().memory_budget == 2048
    assert config.get().memory_budget == config.DEFAULT_MEMORY_BUDGET


def test_keep_freed_memory_is_opt_in(monkeypatch):
    monkeypatch.delenv("NUMNET_KEEP_FREED_MEMORY", raising=False)
    assert config.keep_freed_memory_from_environment() is False
    monkeypatch.setenv("NUMNET_KEEP_FREED_MEMORY", "0")
    assert config.keep_freed_memory() is False


def test_a_using_decorator_is_safe_in_threads_calling_it_at_once():

    @numnet.config.using(grad_enabled=False)
    def inside():
        time.sleep(0.002)  # let the other threads enter and leave meanwhile
        assert not numnet.is_grad_enabled()

    errors = []

    def worker():
        try:
            for _ in range(10):
                inside()
        except Exception as error:  # collected: a thread's exception is lost
            errors.append(repr(error))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert numnet.is_grad_enabled()


@pytest.mark.parametrize(
    "plans, error, match",
    [
        ({"relu_past_maxpool": False}, ValueError, "relu_past_maxpool"),
        ({"conv": "reference"}, ValueError, r"'conv2d', 'max_pool2d'"),
        ({"relu_past_max_pool": "no"}, TypeError, "True or False"),
        (["conv2d"], TypeError, "mapping"),
    ],
)
def test_kernel_plans_keys_are_checked(plans, error, match):
    # a misspelt key would otherwise be ignored without a word
    with pytest.raises(error, match=match):
        with config.using(kernel_plans=plans):
            pass
    with pytest.raises(error, match=match):
        config.set(kernel_plans=plans)
    assert dict(config.get().kernel_plans) == {}
