"""numnet.distributed in one process: no MPI needed (mpi4py is never imported)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import numnet
from numnet import _comm, layers
from numnet import distributed as dist
from numnet.autograd.gradcheck import gradcheck
from numnet.layers.sync_batch_norm import sync_batch_norm


def test_one_process_defaults():
    assert (dist.rank(), dist.size(), dist.is_main()) == (0, 1, True)
    x = np.arange(3.0)
    np.testing.assert_array_equal(dist.allreduce_mean(x), x)
    np.testing.assert_array_equal(dist.allgather(x), x[None])
    assert dist.broadcast({"a": [1, 2]}) == {"a": [1, 2]}
    dist.barrier()


def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import raises ImportError
    monkeypatch.setattr(_comm._state, "comm", None)
    with pytest.raises(ImportError, match=r"numnet\[mpi\]"):
        dist.init()


def test_shard_indices_partition():
    parts = [dist.shard_indices(10, r, 3) for r in range(3)]
    np.testing.assert_array_equal(np.concatenate(parts), np.arange(10))


def test_gradient_allreduce_layout_and_weighting():
    a = numnet.Parameter(np.ones((2, 2)))
    b = numnet.Parameter(np.ones(3))
    reducer = dist.GradientAllreduce([a, b])
    reducer.local_weight = 5.0  # scaled in, divided out: one rank gets its own
    out = reducer([(np.full((2, 2), 2.0), a), (None, b)])
    assert len(out) == 1 and out[0][1] is a  # b had no gradient anywhere
    np.testing.assert_allclose(out[0][0], np.full((2, 2), 2.0))
    with pytest.raises(ValueError, match="not among"):
        reducer([(np.ones(1), numnet.Parameter(np.ones(1)))])


def test_distributed_optimizer_keeps_the_optimizer():
    w = numnet.Parameter(np.array([1.0, 2.0]))
    opt = numnet.optimizers.SGD(0.5)
    assert dist.DistributedOptimizer(opt, [w]) is opt
    w.grad = np.array([1.0, -1.0])
    opt.step([w])
    np.testing.assert_allclose(w.data, [0.5, 2.5])
    assert numnet.optimizers.serialize(opt)["class_name"] == "SGD"


def test_sync_batch_norm_gradcheck_one_process(rng):
    x = rng.normal(size=(4, 3, 3, 2))
    gamma, beta = rng.normal(size=2), rng.normal(size=2)

    def fn(x, g, b):
        return sync_batch_norm(x, g, b, np.zeros(2), np.ones(2), 0.9, 1e-3, 3)

    assert gradcheck(fn, [x, gamma, beta])


def test_sync_batch_norm_matches_batch_norm_one_process(rng):
    x = rng.normal(size=(6, 4)).astype(np.float32)
    sync, plain = layers.SyncBatchNormalization(), layers.BatchNormalization()
    y1 = sync(x, training=True).data
    y2 = plain(x, training=True).data
    np.testing.assert_allclose(y1, y2, atol=1e-6)
    np.testing.assert_allclose(sync.moving_mean.data, plain.moving_mean.data)
    ys = sync_batch_norm(
        x, sync.gamma, sync.beta, sync.moving_mean, sync.moving_variance, 0.99,
        1e-3, 1,
    )  # fmt: skip
    np.testing.assert_allclose(ys.data, y2, atol=1e-6)


def test_sync_batch_norm_round_trips_its_config():
    layer = layers.SyncBatchNormalization(momentum=0.9)
    clone = layers.SyncBatchNormalization.from_config(layer.get_config())
    assert type(clone) is layers.SyncBatchNormalization and clone.momentum == 0.9


def test_model_with_sync_batch_norm_saves_and_loads(tmp_path, rng):
    from numnet import models

    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(3), layers.SyncBatchNormalization()]
    )
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(8, 4)).astype(np.float32)
    model.fit(x, np.zeros((8, 3), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = models.load_model(tmp_path / "m.npz")
    assert type(loaded.layers[-1]) is layers.SyncBatchNormalization
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
