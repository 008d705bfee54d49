"""backend.sum_leading: the GEMV sum over leading axes agrees with np.sum."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import numnet
from numnet import backend


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, lead", [((64, 9, 9, 8), 3), ((512, 40), 1), ((8, 64, 16), 2)]
)
def test_sum_leading_matches_numpy_on_the_gemv_path(dtype, shape, lead):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    assert a.size >= 4096  # large enough for the BLAS path
    out = backend.sum_leading(a, lead)
    assert out.dtype == dtype and out.shape == shape[lead:]
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, a.sum(axis=tuple(range(lead))), rtol=tol, atol=tol)


def test_sum_leading_falls_back_for_views_and_ints():
    a = np.arange(2 * 4096, dtype=np.float32).reshape(2, 4096)
    np.testing.assert_array_equal(backend.sum_leading(a.T, 1), a.T.sum(axis=0))
    ints = np.arange(6).reshape(3, 2)
    assert backend.sum_leading(ints, 1).tolist() == [6, 9]


def test_get_array_module_and_is_array_on_numpy_and_python_values():
    assert backend.get_array_module(np.zeros(2), 1.0, None, np.float32(1)) is np
    assert backend.is_array(np.zeros(()))
    assert not backend.is_array([1.0]) and not backend.is_array(1.0)
    assert not backend.is_array(np.float64(1))  # a scalar, as isinstance(ndarray)


def test_get_ops_gives_the_numpy_fast_paths_and_portable_ops_otherwise():
    from numnet.backend.numpy_ops import NumpyOps
    from numnet.backend.ops import Ops

    assert isinstance(backend.get_ops(np), NumpyOps)
    assert backend.get_ops(np.ones(3)) is backend.get_ops(np)

    class Namespace:  # any other namespace: the reference kernels
        pass

    other = Namespace()
    ops = backend.get_ops(other)
    assert type(ops) is Ops and ops.xp is other
    assert backend.get_ops(other) is ops


def test_register_ops_installs_a_backend_subclass():
    from numnet.backend.ops import Ops

    class Namespace:
        pass

    class FastOps(Ops):
        name = "fast"

    namespace = Namespace()
    backend.register_ops(FastOps(namespace))
    assert backend.get_ops(namespace).name == "fast"


def test_the_engine_copies_only_gradients_it_does_not_own():
    from numnet.backend.numpy_ops import NumpyOps

    ops = NumpyOps()
    fresh = np.ones(4)
    assert ops.private_copy(fresh) is fresh
    view = fresh[1:]
    assert ops.private_copy(view) is not view
    assert not np.shares_memory(ops.private_copy(view), fresh)


def test_arrays_of_a_library_with_its_own_lookup_are_arrays(monkeypatch):
    # CuPy 14's ndarray has no __array_namespace__: numnet finds it through
    # cupy.get_array_module, for is_array (tensor(), to_array) as well
    import types

    lib = types.ModuleType("fakecupy")
    lib.get_array_module = lambda a: lib
    Array = type("ndarray", (), {"__module__": "fakecupy", "shape": (2,)})
    monkeypatch.setitem(sys.modules, "fakecupy", lib)
    assert backend.is_array(Array()) and backend.get_array_module(Array()) is lib
    assert not backend.is_array(types.SimpleNamespace(shape=(2,)))


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True])
def test_a_bad_seed_is_named(seed):
    with pytest.raises(ValueError, match="argument 'seed'.*non-negative int"):
        backend.get_rng(seed)
    with pytest.raises(ValueError, match="argument 'seed'"):
        numnet.decoding.sample_logits([1.0, 2.0], rng=seed)
